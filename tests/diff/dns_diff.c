/* Differential transcript of the evdns client: one C99 program, built once
 * against real libevent 2.1.12 and once against evasio; the two stdouts
 * must be the same (tests/diff/compare.cmake).
 *
 * It starts its own dnsmasq on 127.0.0.1 and a free port (authoritative
 * for every name: --local=/#/, so that whatever is not configured below is
 * NXDOMAIN and nothing is ever forwarded or refused), points evdns_bases at
 * it and prints what the API reports: results, counts, ttls and sorted
 * addresses of A/AAAA/PTR lookups (and CNAMEs, truncation, NODATA,
 * NXDOMAIN), the search list and ndots, cancel, free with and without
 * failing requests, suspend/resume, option and address parsing, the
 * nameserver list, resolv.conf parsing of files it writes, evdns_getaddrinfo
 * (numeric, hosts file, DNS, families, services, cancel, bad hints),
 * evdns_err_to_string and bufferevent_socket_connect_hostname.
 *
 * Nothing that varies from run to run is printed: no ports of dnsmasq or
 * listeners, no timings, no pointers; addresses of one answer are sorted
 * where the order of the reply is the server's. dnsmasq is killed at exit
 * (and, through PR_SET_PDEATHSIG, when this program dies any other way).
 *
 * Where libevent does something surprising, the transcript keeps it (the
 * comment at the scenario says what): real libevent is the oracle. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "transcript.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct event_base *base;

/* ------------------------------------------------------------------ */
/* dnsmasq */

static pid_t dnsmasq_pid = -1;
static int dns_port;
static char dns_addr[32];  /* "127.0.0.1:PORT" */
static char tmpdir[64];

static void stop_dnsmasq(void)
{
	if (dnsmasq_pid > 0) {
		kill(dnsmasq_pid, SIGTERM);
		waitpid(dnsmasq_pid, NULL, 0);
		dnsmasq_pid = -1;
	}
}

static void remove_tmpdir(void)
{
	char cmd[128];
	int r;
	if (!tmpdir[0])
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	r = system(cmd);
	(void)r;
}

/* A port free for both UDP and TCP on 127.0.0.1, or 0. */
static int free_port(void)
{
	int tries;
	for (tries = 0; tries < 50; ++tries) {
		struct sockaddr_in sin;
		socklen_t len = sizeof sin;
		int u = socket(AF_INET, SOCK_DGRAM, 0), t, ok, port;
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (u < 0 || bind(u, (struct sockaddr *)&sin, sizeof sin) != 0 ||
		    getsockname(u, (struct sockaddr *)&sin, &len) != 0) {
			if (u >= 0)
				close(u);
			continue;
		}
		port = ntohs(sin.sin_port);
		t = socket(AF_INET, SOCK_STREAM, 0);
		ok = t >= 0 && bind(t, (struct sockaddr *)&sin, sizeof sin) == 0;
		if (t >= 0)
			close(t);
		close(u);
		if (ok && port > 1024)
			return port;
	}
	return 0;
}

/* Sends one raw A query for ready.test to 127.0.0.1:port; 1 if answered
 * within 200 ms. */
static int dnsmasq_answers(int port)
{
	static const unsigned char q[] = {
		0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		5, 'r', 'e', 'a', 'd', 'y', 4, 't', 'e', 's', 't', 0,
		0x00, 0x01, 0x00, 0x01
	};
	unsigned char buf[512];
	struct sockaddr_in sin;
	struct pollfd p;
	int s = socket(AF_INET, SOCK_DGRAM, 0), ok = 0;
	if (s < 0)
		return 0;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)port);
	if (connect(s, (struct sockaddr *)&sin, sizeof sin) == 0 &&
	    send(s, q, sizeof q, 0) == (ssize_t)sizeof q) {
		p.fd = s;
		p.events = POLLIN;
		if (poll(&p, 1, 200) == 1) {
			ssize_t n = recv(s, buf, sizeof buf, 0);
			ok = n >= 12 && buf[0] == 0x12 && buf[1] == 0x34;
		}
	}
	close(s);
	return ok;
}

static void start_dnsmasq(void)
{
	static char argbuf[200][64];
	char *argv[220];
	int argc = 0, i;
	struct passwd *pw = getpwuid(getuid());
	const struct timespec pause = { 0, 100000000 };

	dns_port = free_port();
	if (!dns_port) {
		fprintf(stderr, "dns_diff: no free port\n");
		exit(1);
	}
	snprintf(dns_addr, sizeof dns_addr, "127.0.0.1:%d", dns_port);

#define ARG(...) do { snprintf(argbuf[argc], sizeof argbuf[0], __VA_ARGS__); \
	argv[argc] = argbuf[argc]; ++argc; } while (0)
	ARG("/usr/sbin/dnsmasq");
	ARG("--no-resolv");
	ARG("--no-hosts");
	ARG("--conf-file=/dev/null");
	ARG("--listen-address=127.0.0.1");
	ARG("--bind-interfaces");
	ARG("--port=%d", dns_port);
	ARG("--keep-in-foreground");
	ARG("--pid-file=");  /* none: several may run at once */
	if (pw)
		ARG("--user=%s", pw->pw_name);
	ARG("--local=/#/");  /* every name is local: NXDOMAIN unless below */
	ARG("--local-ttl=60");
	ARG("--host-record=a.test,10.0.0.1,fd00::1");
	ARG("--host-record=multi.test,10.0.1.3");
	ARG("--host-record=multi.test,10.0.1.1");
	ARG("--host-record=multi.test,10.0.1.2,300");
	ARG("--host-record=multi6.test,fd00::3:2");
	ARG("--host-record=multi6.test,fd00::3:1");
	ARG("--host-record=multi6.test,fd00::3:3,300");
	ARG("--host-record=v4only.test,10.0.0.5");
	ARG("--host-record=v6only.test,fd00::6");
	ARG("--host-record=loop.test,127.0.0.1");
	ARG("--address=/wild.test/10.2.0.1");
	ARG("--cname=alias.test,a.test");
	ARG("--cname=alias2.test,alias.test,30");
	ARG("--cname=dangling.test,nothere.test");
	ARG("--txt-record=txtonly.test,hello");
	ARG("--ptr-record=9.9.9.10.in-addr.arpa,ptr.test");
	/* search list and ndots */
	ARG("--host-record=srch.sub.test,10.3.0.1");
	ARG("--host-record=srch.test,10.3.0.2");
	ARG("--host-record=x.test,10.3.1.1");
	ARG("--host-record=x.test.sub.test,10.3.1.2");
	ARG("--host-record=y.test,10.3.2.1");
	/* 29 A records fit a 512-byte reply; 40 do not (truncated) */
	for (i = 1; i <= 29; ++i)
		ARG("--host-record=lots.test,10.4.0.%d", i);
	for (i = 1; i <= 40; ++i)
		ARG("--host-record=many.test,10.5.0.%d", i);
#undef ARG
	argv[argc] = NULL;

	dnsmasq_pid = fork();
	if (dnsmasq_pid < 0) {
		perror("fork");
		exit(1);
	}
	if (dnsmasq_pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			_exit(1);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);  /* stdout is the transcript */
		}
		execv(argv[0], argv);
		fprintf(stderr, "dns_diff: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	atexit(stop_dnsmasq);
	for (i = 0; i < 60; ++i) {
		int st;
		if (waitpid(dnsmasq_pid, &st, WNOHANG) == dnsmasq_pid) {
			dnsmasq_pid = -1;
			fprintf(stderr, "dns_diff: dnsmasq exited at start (status %d)\n", st);
			exit(1);
		}
		if (dnsmasq_answers(dns_port))
			return;
		nanosleep(&pause, NULL);  /* refused at once while it starts */
	}
	fprintf(stderr, "dns_diff: dnsmasq does not answer on %s\n", dns_addr);
	exit(1);
}

/* ------------------------------------------------------------------ */
/* Names and formatting */

static void quiet_log(int is_warning, const char *msg)
{
	(void)is_warning;
	(void)msg;
}

static const char *typename(int t)
{
	static char other[16];
	switch (t) {
	case DNS_IPv4_A: return "A";
	case DNS_PTR: return "PTR";
	case DNS_IPv6_AAAA: return "AAAA";
	case 0: return "0";
	default: break;
	}
	snprintf(other, sizeof other, "type%d", t);
	return other;
}

static const char *eainame(int e)
{
	static char other[32];
	if (e == 0) return "0";
	if (e == EVUTIL_EAI_ADDRFAMILY) return "EVUTIL_EAI_ADDRFAMILY";
	if (e == EVUTIL_EAI_AGAIN) return "EVUTIL_EAI_AGAIN";
	if (e == EVUTIL_EAI_BADFLAGS) return "EVUTIL_EAI_BADFLAGS";
	if (e == EVUTIL_EAI_FAIL) return "EVUTIL_EAI_FAIL";
	if (e == EVUTIL_EAI_FAMILY) return "EVUTIL_EAI_FAMILY";
	if (e == EVUTIL_EAI_MEMORY) return "EVUTIL_EAI_MEMORY";
	if (e == EVUTIL_EAI_NODATA) return "EVUTIL_EAI_NODATA";
	if (e == EVUTIL_EAI_NONAME) return "EVUTIL_EAI_NONAME";
	if (e == EVUTIL_EAI_SERVICE) return "EVUTIL_EAI_SERVICE";
	if (e == EVUTIL_EAI_SOCKTYPE) return "EVUTIL_EAI_SOCKTYPE";
	if (e == EVUTIL_EAI_SYSTEM) return "EVUTIL_EAI_SYSTEM";
	if (e == EVUTIL_EAI_CANCEL) return "EVUTIL_EAI_CANCEL";
	snprintf(other, sizeof other, "eai%d", e);
	return other;
}

static const char *famname(int f)
{
	static char other[16];
	switch (f) {
	case AF_INET: return "AF_INET";
	case AF_INET6: return "AF_INET6";
	case AF_UNSPEC: return "AF_UNSPEC";
	default: break;
	}
	snprintf(other, sizeof other, "family%d", f);
	return other;
}

static const char *sockname(int t)
{
	static char other[16];
	switch (t) {
	case 0: return "0";
	case SOCK_STREAM: return "STREAM";
	case SOCK_DGRAM: return "DGRAM";
	case SOCK_RAW: return "RAW";
	default: break;
	}
	snprintf(other, sizeof other, "socktype%d", t);
	return other;
}

static const char *protoname(int p)
{
	static char other[16];
	switch (p) {
	case 0: return "0";
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	default: break;
	}
	snprintf(other, sizeof other, "proto%d", p);
	return other;
}

/* "AF_INET 1.2.3.4:53", "AF_INET6 [::1]:53" */
static void fmt_sa(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof a);
		snprintf(buf, len, "AF_INET %s:%d", a, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof a);
		snprintf(buf, len, "AF_INET6 [%s]:%d", a, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, len, "%s", famname(sa->sa_family));
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ------------------------------------------------------------------ */
/* evdns_base_resolve_* results */

static int in_call;   /* 1 while inside an API call that may call back */
static int pending;   /* callbacks still expected */

struct dres {
	const char *label;
	int done, from_call, result, type, count, ttl;
	char text[1024];  /* sorted addresses, or the PTR name */
};

static void on_dns(int result, char type, int count, int ttl, void *addrs, void *arg)
{
	struct dres *r = arg;
	char *parts[64];
	char store[64][INET6_ADDRSTRLEN];
	int i, n = 0;
	if (r->done)
		out("%s: callback ran again", r->label);
	r->done++;
	r->from_call = in_call;
	r->result = result;
	r->type = type;
	r->count = count;
	r->ttl = ttl;
	r->text[0] = '\0';
	if (result == DNS_ERR_NONE && addrs) {
		if (type == DNS_PTR) {
			snprintf(r->text, sizeof r->text, "%s", *(char **)addrs);
		} else {
			for (i = 0; i < count && n < 64; ++i) {
				if (type == DNS_IPv4_A)
					inet_ntop(AF_INET, (char *)addrs + 4 * i, store[n], sizeof store[n]);
				else
					inet_ntop(AF_INET6, (char *)addrs + 16 * i, store[n], sizeof store[n]);
				parts[n] = store[n];
				++n;
			}
			qsort(parts, (size_t)n, sizeof parts[0], cmp_str);
			for (i = 0; i < n; ++i) {
				if (i)
					strncat(r->text, " ", sizeof r->text - strlen(r->text) - 1);
				strncat(r->text, parts[i], sizeof r->text - strlen(r->text) - 1);
			}
		}
	}
	--pending;
}

static void print_dres(const struct dres *r)
{
	if (!r->done) {
		out("%s: no callback", r->label);
		return;
	}
	out("%s: result %d (%s), type %s, count %d, ttl %d%s%s%s", r->label, r->result,
	    evdns_err_to_string(r->result), typename(r->type), r->count, r->ttl,
	    r->text[0] ? ", " : "", r->text, r->from_call ? " [callback inside the call]" : "");
}

/* Runs the loop until every expected callback has run (the scenario's
 * alarm catches a hang). */
static void wait_pending(void)
{
	while (pending > 0)
		event_base_loop(base, EVLOOP_ONCE);
}

/* Runs the loop for ms milliseconds. */
static void run_for(long ms)
{
	struct timeval tv;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

enum qkind { QA, QAAAA };

static struct evdns_request *issue(struct evdns_base *d, enum qkind k, const char *name,
    int flags, struct dres *r)
{
	struct evdns_request *req;
	memset(r, 0, sizeof *r);
	r->label = name;
	++pending;
	in_call = 1;
	if (k == QA)
		req = evdns_base_resolve_ipv4(d, name, flags, on_dns, r);
	else
		req = evdns_base_resolve_ipv6(d, name, flags, on_dns, r);
	in_call = 0;
	if (!req && !r->done) {
		--pending;
		out("%s %s: request NULL", k == QA ? "A" : "AAAA", name);
	}
	return req;
}

/* Resolves one name and prints the result, labelled "A name". */
static void resolve_one(struct evdns_base *d, enum qkind k, const char *name, int flags)
{
	struct dres r;
	char label[160];
	snprintf(label, sizeof label, "%s %s%s", k == QA ? "A" : "AAAA", name,
	    (flags & DNS_QUERY_NO_SEARCH) ? " (NO_SEARCH)" : "");
	if (!issue(d, k, name, flags, &r) && !r.done)
		return;
	r.label = label;
	wait_pending();
	print_dres(&r);
}

static struct evdns_base *new_dns(void)
{
	struct evdns_base *d = evdns_base_new(base, 0);
	int r;
	if (!d) {
		out("evdns_base_new failed");
		exit(1);
	}
	r = evdns_base_nameserver_ip_add(d, dns_addr);
	if (r != 0)
		out("nameserver_ip_add(dnsmasq) returned %d", r);
	return d;
}

/* ------------------------------------------------------------------ */
/* Scenarios */

/* Many lookups at once, printed in a fixed order once all have finished. */
static void sc_lookups(void)
{
	static const struct { enum qkind k; const char *name; } q[] = {
		{ QA, "a.test" }, { QAAAA, "a.test" },
		{ QA, "multi.test" }, { QAAAA, "multi6.test" },
		{ QA, "x.wild.test" }, { QA, "deep.x.wild.test" }, { QA, "wild.test" },
		{ QAAAA, "x.wild.test" },
		{ QA, "v4only.test" }, { QAAAA, "v6only.test" },
		{ QA, "A.TEST" }, { QA, "a.test." },
		{ QA, "lots.test" },
	};
	struct dres r[sizeof q / sizeof q[0]];
	char labels[sizeof q / sizeof q[0]][64];
	struct evdns_base *d;
	size_t i;
	int from_call = 0;
	begin("A and AAAA records, 13 lookups in flight at once");
	d = new_dns();
	for (i = 0; i < sizeof q / sizeof q[0]; ++i) {
		issue(d, q[i].k, q[i].name, 0, &r[i]);
		snprintf(labels[i], sizeof labels[i], "%s %s", q[i].k == QA ? "A" : "AAAA", q[i].name);
		r[i].label = labels[i];
		from_call |= r[i].done;
	}
	out("callbacks run inside the calls: %s", yn(from_call));
	wait_pending();
	for (i = 0; i < sizeof q / sizeof q[0]; ++i)
		print_dres(&r[i]);
	evdns_base_free(d, 0);
	end();
}

/* Errors: NXDOMAIN, NODATA (no record of the type; a CNAME to nothing),
 * and a reply too large for 512 bytes: libevent sends no EDNS0 and does
 * not retry over TCP, so 40 A records are DNS_ERR_TRUNCATED. */
static void sc_errors(void)
{
	struct evdns_base *d;
	begin("NXDOMAIN, NODATA, truncated");
	d = new_dns();
	resolve_one(d, QA, "nx.test", 0);
	resolve_one(d, QAAAA, "nx.test", 0);
	resolve_one(d, QA, "nx.other", 0);
	resolve_one(d, QA, "plainname", 0);
	resolve_one(d, QA, "txtonly.test", 0);
	resolve_one(d, QAAAA, "v4only.test", 0);
	resolve_one(d, QA, "v6only.test", 0);
	resolve_one(d, QA, "dangling.test", 0);
	/* many.test (a reply over 512 bytes, truncated) is left out: libevent
	 * gives DNS_ERR_TRUNCATED, evasio asks again over TCP and gets the
	 * answer (an intended difference: README; test_evdns_hostile). */
	resolve_one(d, QA, "a.test", 0);  /* the nameserver still works */
	evdns_base_free(d, 0);
	end();
}

/* CNAMEs: the addresses of the target; the ttl is the address records'
 * (libevent ignores the CNAME's own ttl, 30 for alias2). */
static void sc_cname(void)
{
	struct evdns_base *d;
	begin("CNAME");
	d = new_dns();
	resolve_one(d, QA, "alias.test", 0);
	resolve_one(d, QAAAA, "alias.test", 0);
	resolve_one(d, QA, "alias2.test", 0);
	resolve_one(d, QAAAA, "alias2.test", 0);
	evdns_base_free(d, 0);
	end();
}

static void reverse_one(struct evdns_base *d, const char *addr)
{
	struct dres r;
	struct in_addr in;
	struct in6_addr in6;
	struct evdns_request *req;
	char label[80];
	memset(&r, 0, sizeof r);
	snprintf(label, sizeof label, "PTR %s", addr);
	r.label = label;
	++pending;
	in_call = 1;
	if (inet_pton(AF_INET, addr, &in) == 1)
		req = evdns_base_resolve_reverse(d, &in, 0, on_dns, &r);
	else {
		inet_pton(AF_INET6, addr, &in6);
		req = evdns_base_resolve_reverse_ipv6(d, &in6, 0, on_dns, &r);
	}
	in_call = 0;
	if (!req && !r.done) {
		--pending;
		out("%s: request NULL", label);
		return;
	}
	wait_pending();
	print_dres(&r);
}

static void sc_ptr(void)
{
	struct evdns_base *d;
	begin("PTR");
	d = new_dns();
	reverse_one(d, "10.0.0.1");
	reverse_one(d, "10.9.9.9");
	reverse_one(d, "10.7.7.7");
	reverse_one(d, "fd00::1");
	reverse_one(d, "fd00::6");
	reverse_one(d, "fd00::99");
	/* the search list does not apply to reverse lookups */
	evdns_base_search_add(d, "test");
	reverse_one(d, "10.0.0.5");
	evdns_base_free(d, 0);
	end();
}

/* The search list. libevent: evdns_base_search_add puts the domain at the
 * FRONT (the last one added is tried first; a resolv.conf "search" line
 * keeps its order); names with at least ndots dots are tried as given
 * first, others after the list; any failure (NXDOMAIN or NODATA) moves on
 * and the last failure is the one reported; leading dots of a domain are
 * dropped; a trailing dot on the name does not stop the search. */
static void sc_search(void)
{
	struct evdns_base *d;
	begin("search list and ndots");
	d = new_dns();
	evdns_base_search_add(d, "test");
	evdns_base_search_add(d, "sub.test");  /* now first */
	resolve_one(d, QA, "srch", 0);     /* srch.sub.test */
	resolve_one(d, QA, "y", 0);        /* y.sub.test NX, then y.test */
	resolve_one(d, QA, "z", 0);        /* all fail */
	resolve_one(d, QA, "y", DNS_QUERY_NO_SEARCH);
	resolve_one(d, QAAAA, "y", 0);     /* y.test has no AAAA: NODATA, then raw y NX */
	resolve_one(d, QA, "x.test", 0);   /* 1 dot >= ndots 1: as given first */
	resolve_one(d, QA, "nothere.test", 0);  /* as given, then the list */
	evdns_base_search_ndots_set(d, 2);
	resolve_one(d, QA, "x.test", 0);   /* 1 dot < 2: x.test.sub.test first */
	resolve_one(d, QA, "y.test.", 0);
	evdns_base_search_ndots_set(d, 3);
	resolve_one(d, QA, "y.test.", 0);  /* y.test.sub.test, y.test.test, then as given */
	evdns_base_search_ndots_set(d, 0);
	resolve_one(d, QA, "srch", 0);     /* 0 dots >= 0: raw first (NX), then the list */
	evdns_base_search_clear(d);
	resolve_one(d, QA, "srch", 0);     /* no list: as given only */
	evdns_base_search_add(d, "..sub.test");
	resolve_one(d, QA, "srch", 0);
	evdns_base_free(d, 0);
	end();
}

/* Cancel: the callback gets DNS_ERR_CANCEL from the loop, not from
 * evdns_cancel_request; a request still waiting for a nameserver too. */
static void sc_cancel(void)
{
	struct evdns_base *d;
	struct evdns_request *req;
	struct dres r, r2;
	begin("cancel");
	d = new_dns();
	req = issue(d, QA, "a.test", 0, &r);
	in_call = 1;
	evdns_cancel_request(d, req);
	in_call = 0;
	out("callback during evdns_cancel_request: %s", yn(r.done));
	wait_pending();
	r.label = "A a.test, cancelled at once";
	print_dres(&r);
	run_for(100);  /* the reply that still comes is dropped */
	out("callbacks after the reply arrived: %d", r.done);
	resolve_one(d, QA, "a.test", 0);
	/* cancel with a NULL base */
	req = issue(d, QAAAA, "a.test", 0, &r);
	evdns_cancel_request(NULL, req);
	wait_pending();
	r.label = "AAAA a.test, cancelled with a NULL base";
	print_dres(&r);
	evdns_base_free(d, 0);

	/* no nameserver: the request waits, and can be cancelled there */
	d = evdns_base_new(base, 0);
	req = issue(d, QA, "a.test", 0, &r2);
	run_for(50);
	out("callback without a nameserver after 50 ms: %s", yn(r2.done));
	evdns_cancel_request(d, req);
	wait_pending();
	r2.label = "A a.test without a nameserver, cancelled";
	print_dres(&r2);
	evdns_base_free(d, 0);
	end();
}

/* evdns_base_free: with fail_requests 1 the pending requests get
 * DNS_ERR_SHUTDOWN, but from the loop after the free (libevent defers
 * them), not during it; with 0 they get nothing. */
static void sc_free(void)
{
	struct evdns_base *d;
	struct dres r1, r2, r3;
	begin("evdns_base_free with fail_requests 1 and 0");
	d = new_dns();
	issue(d, QA, "a.test", 0, &r1);
	issue(d, QAAAA, "a.test", 0, &r2);
	r1.label = "A a.test, freed with fail_requests 1";
	r2.label = "AAAA a.test, freed with fail_requests 1";
	in_call = 1;
	evdns_base_free(d, 1);
	in_call = 0;
	out("callbacks during evdns_base_free: %d", r1.done + r2.done);
	wait_pending();
	print_dres(&r1);
	print_dres(&r2);

	d = new_dns();
	issue(d, QA, "a.test", 0, &r3);
	evdns_base_free(d, 0);
	run_for(100);
	out("callback after evdns_base_free(0) and 100 ms: %s", yn(r3.done));
	pending = 0;

	/* a request waiting for a nameserver, failed at free */
	d = evdns_base_new(base, 0);
	issue(d, QA, "a.test", 0, &r1);
	r1.label = "A a.test without a nameserver, freed with fail_requests 1";
	evdns_base_free(d, 1);
	wait_pending();
	print_dres(&r1);
	end();
}

/* clear_nameservers_and_suspend puts the pending requests back in the
 * waiting queue; resume sends them to the nameservers there are then. */
static void sc_suspend(void)
{
	struct evdns_base *d;
	struct dres r, r2;
	begin("clear_nameservers_and_suspend, resume");
	d = new_dns();
	issue(d, QA, "a.test", 0, &r);
	out("clear_nameservers_and_suspend: %d", evdns_base_clear_nameservers_and_suspend(d));
	out("count_nameservers: %d", evdns_base_count_nameservers(d));
	run_for(200);
	out("callback while suspended: %s", yn(r.done));
	out("resume without nameservers: %d", evdns_base_resume(d));
	run_for(100);
	out("callback after resume without nameservers: %s", yn(r.done));
	out("nameserver_ip_add: %d", evdns_base_nameserver_ip_add(d, dns_addr));
	run_for(100);
	out("callback after adding a nameserver, before resume: %s", yn(r.done));
	out("resume: %d", evdns_base_resume(d));
	wait_pending();
	r.label = "A a.test, suspended then resumed";
	print_dres(&r);
	/* a request made while suspended, with no nameserver */
	out("clear_nameservers_and_suspend: %d", evdns_base_clear_nameservers_and_suspend(d));
	out("clear_nameservers_and_suspend again: %d", evdns_base_clear_nameservers_and_suspend(d));
	issue(d, QAAAA, "a.test", 0, &r2);
	r2.label = "AAAA a.test, made while suspended";
	run_for(100);
	out("callback while suspended: %s", yn(r2.done));
	out("nameserver_ip_add: %d", evdns_base_nameserver_ip_add(d, dns_addr));
	out("resume: %d", evdns_base_resume(d));
	wait_pending();
	print_dres(&r2);
	evdns_base_free(d, 0);
	end();
}

/* With EVDNS_BASE_DISABLE_WHEN_INACTIVE the base holds no event while
 * idle, so the loop ends by itself once the answer is in. */
static void sc_inactive(void)
{
	struct evdns_base *d;
	struct dres r;
	int rv;
	begin("EVDNS_BASE_DISABLE_WHEN_INACTIVE");
	d = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	out("nameserver_ip_add: %d", evdns_base_nameserver_ip_add(d, dns_addr));
	rv = event_base_loop(base, EVLOOP_NONBLOCK);
	out("loop with no request: %d", rv);
	issue(d, QA, "a.test", 0, &r);
	rv = event_base_dispatch(base);
	r.label = "A a.test";
	print_dres(&r);
	out("dispatch returned by itself: %d", rv);
	evdns_base_free(d, 0);
	d = new_dns();  /* without the flag: the base keeps its read event */
	issue(d, QA, "a.test", 0, &r);
	wait_pending();
	r.label = "A a.test, without the flag";
	print_dres(&r);
	rv = event_base_loop(base, EVLOOP_NONBLOCK);
	out("without the flag, a nonblocking loop with no request: %d", rv);
	evdns_base_free(d, 0);
	end();
}

/* A nameserver that never answers (a socket of ours): DNS_ERR_TIMEOUT, and
 * how many queries it was sent for timeout/attempts. */
static void sc_timeout(void)
{
	static const char *attempts[] = { "1", "2", "3" };
	size_t i;
	begin("timeout");
	for (i = 0; i < sizeof attempts / sizeof attempts[0]; ++i) {
		struct sockaddr_in sin;
		socklen_t len = sizeof sin;
		char addr[40], buf[512];
		struct evdns_base *d;
		struct dres r;
		int s = socket(AF_INET, SOCK_DGRAM, 0), n = 0;
		alarm(20);  /* each case its own 20 s */
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (s < 0 || bind(s, (struct sockaddr *)&sin, sizeof sin) != 0 ||
		    getsockname(s, (struct sockaddr *)&sin, &len) != 0) {
			out("silent socket failed");
			exit(1);
		}
		snprintf(addr, sizeof addr, "127.0.0.1:%d", ntohs(sin.sin_port));
		d = evdns_base_new(base, 0);
		evdns_base_nameserver_ip_add(d, addr);
		out("timeout 0.2: %d, attempts %s: %d", evdns_base_set_option(d, "timeout", "0.2"),
		    attempts[i], evdns_base_set_option(d, "attempts", attempts[i]));
		issue(d, QA, "a.test", 0, &r);
		wait_pending();
		print_dres(&r);
		while (recv(s, buf, sizeof buf, MSG_DONTWAIT) > 0)
			++n;
		out("queries the silent nameserver got: %d", n);
		evdns_base_free(d, 0);
		close(s);
	}
	end();
}

/* evdns_base_set_option return values. Surprises kept from libevent:
 * "-1" is refused for the integer options (the parser's error value) but
 * "-2" is not, an empty integer is 0 and accepted, out-of-range numbers are
 * clipped and accepted, unknown options are accepted (0), a name may carry
 * a ':' and anything after it. */
static void sc_set_option(void)
{
	static const char *const t[][2] = {
		{ "ndots", "2" }, { "ndots:", "3" }, { "ndots:junk", "1" }, { "ndots", "x" },
		{ "ndots", "2x" }, { "ndots", "-1" }, { "ndots", "-2" }, { "ndots", "" },
		{ "ndots", "99999" },
		{ "timeout", "5" }, { "timeout:", "0.5" }, { "timeout", "0" }, { "timeout", "0.0005" },
		{ "timeout", "0.001" }, { "timeout", "-1" }, { "timeout", "abc" }, { "timeout", " 2" },
		{ "timeout", "1e1" }, { "timeout", "" },
		{ "max-timeouts", "3" }, { "max-timeouts", "0" }, { "max-timeouts", "1000" },
		{ "max-timeouts", "x" },
		{ "max-inflight", "64" }, { "max-inflight", "0" }, { "max-inflight", "100000" },
		{ "max-inflight", "-1" },
		{ "attempts", "3" }, { "attempts", "0" }, { "attempts", "1000" }, { "attempts", "y" },
		{ "randomize-case", "0" }, { "randomize-case", "1" }, { "randomize-case", "z" },
		{ "bind-to", "127.0.0.1" }, { "bind-to", "127.0.0.1:0" }, { "bind-to", "[::1]" },
		{ "bind-to", "bogus" },
		{ "initial-probe-timeout", "5" }, { "initial-probe-timeout", "100000" },
		{ "initial-probe-timeout", "0" },
		{ "getaddrinfo-allow-skew", "1.5" }, { "getaddrinfo-allow-skew", "x" },
		{ "so-rcvbuf", "65536" }, { "so-rcvbuf", "x" }, { "so-sndbuf", "65536" },
		{ "so-sndbuf", "-1" },
		{ "bogus", "1" }, { "NDOTS", "x" }, { "nd", "x" }, { "ndotsx", "x" }, { "", "x" },
		{ "timeoutx", "x" },
	};
	struct evdns_base *d;
	size_t i;
	begin("evdns_base_set_option");
	d = evdns_base_new(base, 0);
	for (i = 0; i < sizeof t / sizeof t[0]; ++i)
		out("set_option(\"%s\", \"%s\"): %d", t[i][0], t[i][1],
		    evdns_base_set_option(d, t[i][0], t[i][1]));
	evdns_base_free(d, 0);
	end();
}

static void print_nameservers(struct evdns_base *d)
{
	int i, n = evdns_base_count_nameservers(d);
	out("count_nameservers: %d", n);
	for (i = 0; i <= n; ++i) {
		struct sockaddr_storage ss;
		char buf[80];
		int r = evdns_base_get_nameserver_addr(d, i, (struct sockaddr *)&ss, sizeof ss);
		if (r > 0) {
			fmt_sa((struct sockaddr *)&ss, buf, sizeof buf);
			out("get_nameserver_addr(%d): %d, %s", i, r, buf);
		} else {
			out("get_nameserver_addr(%d): %d", i, r);
		}
	}
}

/* The nameserver list. libevent keeps a ring and puts each new server
 * right after the first one, so the order reads first, last, ...,
 * second; an index of -1 reads as 0; a short buffer gets the length and
 * nothing copied. Nothing is sent to these servers. */
static void sc_nameservers(void)
{
	struct evdns_base *d;
	struct sockaddr_storage ss;
	struct sockaddr_in sin;
	char buf[80];
	int r;
	begin("count_nameservers, get_nameserver_addr");
	d = evdns_base_new(base, 0);
	print_nameservers(d);
	out("ip_add 127.0.0.2:5301: %d", evdns_base_nameserver_ip_add(d, "127.0.0.2:5301"));
	out("ip_add [::1]:5302: %d", evdns_base_nameserver_ip_add(d, "[::1]:5302"));
	out("ip_add 127.0.0.3: %d", evdns_base_nameserver_ip_add(d, "127.0.0.3"));
	out("nameserver_add 127.0.0.4: %d", evdns_base_nameserver_add(d, htonl(0x7f000004)));
	out("ip_add 127.0.0.2:5301 again: %d", evdns_base_nameserver_ip_add(d, "127.0.0.2:5301"));
	out("ip_add 127.0.0.2:5303: %d", evdns_base_nameserver_ip_add(d, "127.0.0.2:5303"));
	out("ip_add 127.0.0.3:53 (same as 127.0.0.3): %d", evdns_base_nameserver_ip_add(d, "127.0.0.3:53"));
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x7f000005);
	sin.sin_port = htons(5304);
	out("sockaddr_add 127.0.0.5:5304: %d", evdns_base_nameserver_sockaddr_add(d,
	    (struct sockaddr *)&sin, sizeof sin, 0));
	print_nameservers(d);
	r = evdns_base_get_nameserver_addr(d, -1, (struct sockaddr *)&ss, sizeof ss);
	fmt_sa((struct sockaddr *)&ss, buf, sizeof buf);
	out("get_nameserver_addr(-1): %d, %s", r, r > 0 ? buf : "-");
	out("get_nameserver_addr(99): %d", evdns_base_get_nameserver_addr(d, 99,
	    (struct sockaddr *)&ss, sizeof ss));
	memset(&ss, 0xab, sizeof ss);
	r = evdns_base_get_nameserver_addr(d, 0, (struct sockaddr *)&ss, 4);
	out("get_nameserver_addr(0, len 4): %d, buffer untouched: %s", r,
	    yn(((unsigned char *)&ss)[0] == 0xab));
	out("get_nameserver_addr(1, NULL, len 0): %d", evdns_base_get_nameserver_addr(d, 1, NULL, 0));
	out("get_nameserver_addr(0, len 16): %d", evdns_base_get_nameserver_addr(d, 0,
	    (struct sockaddr *)&ss, 16));
	out("clear_nameservers_and_suspend: %d", evdns_base_clear_nameservers_and_suspend(d));
	print_nameservers(d);
	out("resume: %d", evdns_base_resume(d));
	out("ip_add 127.0.0.2:5301 after the clear: %d", evdns_base_nameserver_ip_add(d, "127.0.0.2:5301"));
	print_nameservers(d);
	evdns_base_free(d, 0);
	end();
}

/* evdns_base_nameserver_ip_add parsing, each on a fresh base: 0 added, 4
 * not parsed. No port means 53, an explicit port 0 is refused; libevent
 * takes "127.0.0.1:53x" as port 53, " 127.0.0.1" (leading blank) as the
 * address, and "::1:5353" as an IPv6 address with port 53. */
static void sc_ip_add(void)
{
	static const char *const t[] = {
		"127.0.0.1", "127.0.0.1:53", "127.0.0.1:0", "127.0.0.1:5353", "127.0.0.1:65535",
		"127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:", "127.0.0.1:x", "127.0.0.1:53x",
		"127.1", "1.2.3", "256.1.1.1", "0.0.0.0", "255.255.255.255", " 127.0.0.1",
		"127.0.0.1 ", "::1", "[::1]", "[::1]:5353", "[::1]:0", "[::1", "::1]",
		"::1:5353", "[fe80::1%lo]:53", "::ffff:127.0.0.1", "[127.0.0.1]:53",
		"localhost", "localhost:53", "", ":53", "[]:53", "1.2.3.4.5",
	};
	size_t i;
	begin("nameserver_ip_add parsing");
	for (i = 0; i < sizeof t / sizeof t[0]; ++i) {
		struct evdns_base *d = evdns_base_new(base, 0);
		struct sockaddr_storage ss;
		char buf[80];
		int r = evdns_base_nameserver_ip_add(d, t[i]);
		int n = evdns_base_count_nameservers(d);
		if (n > 0 && evdns_base_get_nameserver_addr(d, 0, (struct sockaddr *)&ss, sizeof ss) > 0)
			fmt_sa((struct sockaddr *)&ss, buf, sizeof buf);
		else
			snprintf(buf, sizeof buf, "-");
		out("\"%s\": %d, count %d, %s", t[i], r, n, buf);
		evdns_base_free(d, 0);
	}
	end();
}

/* ------------------------------------------------------------------ */
/* resolv.conf */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void parse_case(const char *what, int flags, const char *file,
    const char *name)
{
	struct evdns_base *d = evdns_base_new(base, 0);
	int r = evdns_base_resolv_conf_parse(d, flags, file);
	int n = evdns_base_count_nameservers(d);
	struct sockaddr_storage ss;
	char buf[80] = "-";
	if (n > 0 && evdns_base_get_nameserver_addr(d, 0, (struct sockaddr *)&ss, sizeof ss) > 0) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)&ss;
		if (ss.ss_family == AF_INET && ntohs(sin->sin_port) == dns_port)
			snprintf(buf, sizeof buf, "dnsmasq");
		else
			fmt_sa((struct sockaddr *)&ss, buf, sizeof buf);
	}
	out("%s: %d, count_nameservers %d, first %s", what, r, n, buf);
	if (name)
		resolve_one(d, QA, name, 0);
	evdns_base_free(d, 0);
}

/* evdns_base_resolv_conf_parse of files written here. Return codes: 0 ok,
 * 1 no such file or a NULL name (defaults applied: 127.0.0.1 is added
 * with DNS_OPTION_NAMESERVERS, not with NAMESERVERS_NO_DEFAULT), 2 cannot
 * read (a directory), 6 no nameserver in the file (127.0.0.1 added)
 * unless NAMESERVERS_NO_DEFAULT; a line ending in CRLF still counts. Options apply only with
 * DNS_OPTION_MISC (timeout...) and DNS_OPTION_SEARCH (ndots); search and
 * domain only with DNS_OPTION_SEARCH; nameserver only with
 * DNS_OPTION_NAMESERVERS. */
static void sc_resolv_conf(void)
{
	char p_missing[128], p_empty[128], p_comments[128], p_ns[128], p_opts[128],
	    p_domain[128], p_dir[128], p_bad[128], p_crlf[128];
	char text[1024];
	const int all = DNS_OPTIONS_ALL;
	const int nsonly = DNS_OPTION_NAMESERVERS;
	const int nodef = DNS_OPTION_NAMESERVERS | DNS_OPTION_NAMESERVERS_NO_DEFAULT;
	begin("resolv_conf_parse");
	snprintf(p_missing, sizeof p_missing, "%s/missing.conf", tmpdir);
	snprintf(p_empty, sizeof p_empty, "%s/empty.conf", tmpdir);
	snprintf(p_comments, sizeof p_comments, "%s/comments.conf", tmpdir);
	snprintf(p_ns, sizeof p_ns, "%s/ns.conf", tmpdir);
	snprintf(p_opts, sizeof p_opts, "%s/opts.conf", tmpdir);
	snprintf(p_domain, sizeof p_domain, "%s/domain.conf", tmpdir);
	snprintf(p_dir, sizeof p_dir, "%s/adir", tmpdir);
	snprintf(p_bad, sizeof p_bad, "%s/bad.conf", tmpdir);
	snprintf(p_crlf, sizeof p_crlf, "%s/crlf.conf", tmpdir);
	write_file(p_empty, "");
	write_file(p_comments, "# only comments\n; and this\n\noptions ndots:1\n");
	snprintf(text, sizeof text, "# a comment\nnameserver %s\nnameserver %s\n", dns_addr, dns_addr);
	write_file(p_ns, text);
	snprintf(text, sizeof text,
	    "nameserver %s\nsearch sub.test test\noptions ndots:2 timeout:0.5 attempts:2 bogus:1 rotate\n",
	    dns_addr);
	write_file(p_opts, text);
	snprintf(text, sizeof text, "domain sub.test\nnameserver %s\n", dns_addr);
	write_file(p_domain, text);
	write_file(p_bad, "nameserver bogus\nnameserver\nnameserver 1.2.3.4.5\n");
	snprintf(text, sizeof text, "nameserver %s\r\n", dns_addr);
	write_file(p_crlf, text);
	if (mkdir(p_dir, 0700) != 0) {
		perror(p_dir);
		exit(1);
	}

	parse_case("missing file, DNS_OPTIONS_ALL", all, p_missing, NULL);
	parse_case("missing file, NAMESERVERS", nsonly, p_missing, NULL);
	parse_case("missing file, NAMESERVERS|NO_DEFAULT", nodef, p_missing, NULL);
	parse_case("missing file, flags 0", 0, p_missing, NULL);
	parse_case("NULL file name, NAMESERVERS", nsonly, NULL, NULL);
	parse_case("empty file, DNS_OPTIONS_ALL", all, p_empty, NULL);
	parse_case("empty file, NAMESERVERS|NO_DEFAULT", nodef, p_empty, NULL);
	parse_case("empty file, SEARCH|MISC", DNS_OPTION_SEARCH | DNS_OPTION_MISC, p_empty, NULL);
	parse_case("comments only, NAMESERVERS", nsonly, p_comments, NULL);
	parse_case("a directory, DNS_OPTIONS_ALL", all, p_dir, NULL);
	parse_case("bad nameserver lines, NAMESERVERS", nsonly, p_bad, NULL);
	parse_case("bad nameserver lines, NAMESERVERS|NO_DEFAULT", nodef, p_bad, NULL);
	parse_case("nameserver twice, NAMESERVERS", nsonly, p_ns, "a.test");
	parse_case("nameserver, flags 0", 0, p_ns, NULL);
	parse_case("nameserver line ending in CRLF, NAMESERVERS", nsonly, p_crlf, NULL);
	/* search applied in the file's order: x.test.sub.test (ndots 2) */
	parse_case("search and options, DNS_OPTIONS_ALL", all, p_opts, "x.test");
	/* without SEARCH neither the list nor ndots: x.test as given */
	parse_case("search and options, NAMESERVERS|MISC", nsonly | DNS_OPTION_MISC, p_opts, "x.test");
	/* ndots 2 without the file's list: the list stays empty */
	parse_case("search and options, NAMESERVERS|SEARCH", nsonly | DNS_OPTION_SEARCH, p_opts, "srch");
	parse_case("domain line, DNS_OPTIONS_ALL", all, p_domain, "srch");
	end();
}

/* ------------------------------------------------------------------ */
/* evdns_getaddrinfo */

struct gres {
	int done, from_call, result;
	char text[2048];
};

static void on_gai(int result, struct evutil_addrinfo *res, void *arg)
{
	struct gres *g = arg;
	struct evutil_addrinfo *ai;
	char buf[96];
	size_t n;
	g->done++;
	g->from_call = in_call;
	g->result = result;
	g->text[0] = '\0';
	if (!res && result == 0)
		snprintf(g->text, sizeof g->text, "      (no addrinfo)\n");
	for (ai = res; ai; ai = ai->ai_next) {
		fmt_sa(ai->ai_addr, buf, sizeof buf);
		n = strlen(g->text);
		snprintf(g->text + n, sizeof g->text - n, "      %s %s %s addrlen %d%s%s\n", buf,
		    sockname(ai->ai_socktype), protoname(ai->ai_protocol), (int)ai->ai_addrlen,
		    ai->ai_canonname ? " canonname " : "", ai->ai_canonname ? ai->ai_canonname : "");
	}
	if (res)
		evutil_freeaddrinfo(res);
	--pending;
}

static void print_gres(const char *label, const struct gres *g, int started)
{
	if (!g->done) {
		out("%s: no callback%s", label, started ? "" : ", returned NULL");
		return;
	}
	out("%s: %s%s%s", label, eainame(g->result),
	    g->from_call ? " [callback inside the call]" : "",
	    started ? ", and a request" : "");
	if (g->done > 1)
		out("  callback ran %d times", g->done);
	fputs(g->text, stdout);
}

static struct evdns_getaddrinfo_request *gai_issue(struct evdns_base *d, const char *node,
    const char *serv, int family, int socktype, int protocol, int flags, int nohints,
    struct gres *g)
{
	struct evutil_addrinfo hints;
	struct evdns_getaddrinfo_request *req;
	memset(g, 0, sizeof *g);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = family;
	hints.ai_socktype = socktype;
	hints.ai_protocol = protocol;
	hints.ai_flags = flags;
	++pending;
	in_call = 1;
	req = evdns_getaddrinfo(d, node, serv, nohints ? NULL : &hints, on_gai, g);
	in_call = 0;
	if (!req && !g->done)
		--pending;
	return req;
}

static void gai_case(struct evdns_base *d, const char *label, const char *node,
    const char *serv, int family, int socktype, int protocol, int flags, int nohints)
{
	struct gres g;
	struct evdns_getaddrinfo_request *req =
	    gai_issue(d, node, serv, family, socktype, protocol, flags, nohints, &g);
	wait_pending();
	print_gres(label, &g, req != NULL);
}

/* Answers that need no DNS come from inside the call (and it returns
 * NULL): numeric hosts, NULL hosts, hosts-file entries, bad hints. A
 * hosts-file name with entries of the other family only gives success and
 * no addrinfo at all. NODATA is EVUTIL_EAI_FAIL, NXDOMAIN
 * EVUTIL_EAI_NONAME; the canonical name is the first CNAME's target. */
static void sc_getaddrinfo(void)
{
	struct evdns_base *d;
	char hosts[128], missing[128];
	const int S = SOCK_STREAM, T = IPPROTO_TCP;
	begin("evdns_getaddrinfo: numeric, no host, bad hints");
	snprintf(hosts, sizeof hosts, "%s/hosts", tmpdir);
	snprintf(missing, sizeof missing, "%s/missing-hosts", tmpdir);
	write_file(hosts,
	    "# a hosts file\n"
	    "10.9.8.7 hosted.test hostalias # a comment\n"
	    "fd00::77\thosted.test\n"
	    "10.9.8.8 v4hosted.test\n"
	    "10.9.8.9 Mixed.Test\n"
	    "10.9.8.10 a.test\n"
	    "bogus line.test\n"
	    "10.9.8.11:80 withport.test\n");
	d = new_dns();
	gai_case(d, "10.1.1.1 80, NULL hints", "10.1.1.1", "80", 0, 0, 0, 0, 1);
	gai_case(d, "::1 http, STREAM", "::1", "http", AF_UNSPEC, S, 0, 0, 0);
	gai_case(d, "10.1.1.1 domain, DGRAM", "10.1.1.1", "domain", AF_UNSPEC, SOCK_DGRAM, 0, 0, 0);
	gai_case(d, "10.1.1.1 NULL service, AF_INET TCP", "10.1.1.1", NULL, AF_INET, S, T, 0, 0);
	gai_case(d, "NULL 8080, STREAM", NULL, "8080", AF_UNSPEC, S, 0, 0, 0);
	gai_case(d, "NULL 8080, STREAM, PASSIVE", NULL, "8080", AF_UNSPEC, S, 0, EVUTIL_AI_PASSIVE, 0);
	gai_case(d, "NULL 8080, AF_INET6 STREAM", NULL, "8080", AF_INET6, S, 0, 0, 0);
	gai_case(d, "NULL NULL", NULL, NULL, AF_UNSPEC, S, 0, 0, 0);
	gai_case(d, "10.1.1.1 nosuchservice", "10.1.1.1", "nosuchservice", AF_UNSPEC, S, 0, 0, 0);
	gai_case(d, "10.1.1.1 http, NUMERICSERV", "10.1.1.1", "http", AF_UNSPEC, S, 0,
	    EVUTIL_AI_NUMERICSERV, 0);
	gai_case(d, "10.1.1.1 -1", "10.1.1.1", "-1", AF_UNSPEC, S, 0, 0, 0);
	gai_case(d, "10.1.1.1 65536", "10.1.1.1", "65536", AF_UNSPEC, S, 0, 0, 0);
	gai_case(d, "10.1.1.1 80, family 12345", "10.1.1.1", "80", 12345, S, 0, 0, 0);
	gai_case(d, "10.1.1.1 80, AF_UNIX", "10.1.1.1", "80", AF_UNIX, S, 0, 0, 0);
	gai_case(d, "10.1.1.1 80, NUMERICHOST", "10.1.1.1", "80", AF_UNSPEC, S, 0,
	    EVUTIL_AI_NUMERICHOST, 0);
	gai_case(d, "a.test 80, NUMERICHOST", "a.test", "80", AF_UNSPEC, S, 0, EVUTIL_AI_NUMERICHOST, 0);
	gai_case(d, "10.1.1.1 80, UDP protocol only", "10.1.1.1", "80", AF_UNSPEC, 0, IPPROTO_UDP, 0, 0);
	/* a numeric address of the other family is a name to look up */
	gai_case(d, "10.1.1.1 80, AF_INET6", "10.1.1.1", "80", AF_INET6, S, 0, 0, 0);
	gai_case(d, "fd00::1 80, AF_INET", "fd00::1", "80", AF_INET, S, 0, 0, 0);
	end();

	begin("evdns_getaddrinfo: hosts file");
	out("load_hosts(missing): %d", evdns_base_load_hosts(d, missing));
	gai_case(d, "localhost 80 after load_hosts(missing)", "localhost", "80", AF_UNSPEC, S, 0, 0, 0);
	out("load_hosts(file): %d", evdns_base_load_hosts(d, hosts));
	gai_case(d, "hosted.test 80", "hosted.test", "80", AF_UNSPEC, S, 0, 0, 0);
	gai_case(d, "hosted.test 80, AF_INET", "hosted.test", "80", AF_INET, S, 0, 0, 0);
	gai_case(d, "hosted.test 80, AF_INET6", "hosted.test", "80", AF_INET6, S, 0, 0, 0);
	gai_case(d, "hostalias NULL, no socktype", "hostalias", NULL, AF_UNSPEC, 0, 0, 0, 0);
	gai_case(d, "HOSTED.TEST 80", "HOSTED.TEST", "80", AF_UNSPEC, S, 0, 0, 0);
	gai_case(d, "mixed.test 80", "mixed.test", "80", AF_UNSPEC, S, 0, 0, 0);
	gai_case(d, "v4hosted.test 80, AF_INET6", "v4hosted.test", "80", AF_INET6, S, 0, 0, 0);
	gai_case(d, "a.test 80 (hosts file before DNS)", "a.test", "80", AF_UNSPEC, S, 0, 0, 0);
	gai_case(d, "line.test 80 (a bad line)", "line.test", "80", AF_UNSPEC, S, 0, 0, 0);
	gai_case(d, "withport.test 80 (an address with a port)", "withport.test", "80", AF_UNSPEC, S, 0, 0, 0);
	gai_case(d, "hosted.test 80, CANONNAME", "hosted.test", "80", AF_UNSPEC, S, 0,
	    EVUTIL_AI_CANONNAME, 0);
	evdns_base_clear_host_addresses(d);
	gai_case(d, "hosted.test 80 after clear_host_addresses", "hosted.test", "80", AF_UNSPEC, S, 0, 0, 0);
	gai_case(d, "localhost 80 after clear_host_addresses", "localhost", "80", AF_UNSPEC, S, 0, 0, 0);
	out("load_hosts(NULL): %d", evdns_base_load_hosts(d, NULL));
	gai_case(d, "localhost 80 after load_hosts(NULL)", "localhost", "80", AF_UNSPEC, S, 0, 0, 0);
	evdns_base_free(d, 0);
	end();

	begin("evdns_getaddrinfo: DNS");
	d = new_dns();
	gai_case(d, "a.test 80", "a.test", "80", AF_UNSPEC, S, 0, 0, 0);
	gai_case(d, "a.test http, no socktype", "a.test", "http", AF_UNSPEC, 0, 0, 0, 0);
	gai_case(d, "a.test 80, AF_INET", "a.test", "80", AF_INET, S, 0, 0, 0);
	gai_case(d, "a.test 80, AF_INET6", "a.test", "80", AF_INET6, S, 0, 0, 0);
	gai_case(d, "a.test NULL service", "a.test", NULL, AF_UNSPEC, S, T, 0, 0);
	gai_case(d, "a.test 80, NULL hints", "a.test", "80", 0, 0, 0, 0, 1);
	gai_case(d, "v4only.test 80", "v4only.test", "80", AF_UNSPEC, S, 0, 0, 0);
	gai_case(d, "v6only.test 80", "v6only.test", "80", AF_UNSPEC, S, 0, 0, 0);
	gai_case(d, "v6only.test 80, AF_INET", "v6only.test", "80", AF_INET, S, 0, 0, 0);
	gai_case(d, "nx.test 80", "nx.test", "80", AF_UNSPEC, S, 0, 0, 0);
	gai_case(d, "nx.test 80, AF_INET", "nx.test", "80", AF_INET, S, 0, 0, 0);
	gai_case(d, "txtonly.test 80", "txtonly.test", "80", AF_UNSPEC, S, 0, 0, 0);
	gai_case(d, "a.test 80, CANONNAME", "a.test", "80", AF_UNSPEC, S, 0, EVUTIL_AI_CANONNAME, 0);
	gai_case(d, "alias.test 80, CANONNAME", "alias.test", "80", AF_UNSPEC, S, 0, EVUTIL_AI_CANONNAME, 0);
	gai_case(d, "alias2.test 80, CANONNAME", "alias2.test", "80", AF_UNSPEC, S, 0, EVUTIL_AI_CANONNAME, 0);
	gai_case(d, "alias2.test 80, AF_INET, no CANONNAME", "alias2.test", "80", AF_INET, S, 0, 0, 0);
	gai_case(d, "loop.test 80, search not involved", "loop.test", "80", AF_INET, S, 0, 0, 0);
	evdns_base_search_add(d, "test");
	gai_case(d, "srch 80 with search list test, AF_INET", "srch", "80", AF_INET, S, 0, 0, 0);
	{
		struct gres g;
		char line[256];
		struct evdns_getaddrinfo_request *req =
		    gai_issue(d, "multi.test", "80", AF_INET, S, 0, 0, 0, &g);
		char *lines[8], *p, *save = NULL;
		int n = 0, i;
		wait_pending();
		out("multi.test 80, AF_INET: %s%s", eainame(g.result), req ? ", and a request" : "");
		for (p = strtok_r(g.text, "\n", &save); p && n < 8; p = strtok_r(NULL, "\n", &save))
			lines[n++] = p;
		qsort(lines, (size_t)n, sizeof lines[0], cmp_str);
		for (i = 0; i < n; ++i) {
			snprintf(line, sizeof line, "%s", lines[i]);
			printf("%s\n", line);
		}
	}
	end();

	begin("evdns_getaddrinfo: cancel, free");
	{
		struct gres g, g2;
		struct evdns_getaddrinfo_request *req =
		    gai_issue(d, "a.test", "80", AF_UNSPEC, S, 0, 0, 0, &g);
		out("request: %s", yn(req != NULL));
		in_call = 1;
		if (req)
			evdns_getaddrinfo_cancel(req);
		in_call = 0;
		out("callback during evdns_getaddrinfo_cancel: %s", yn(g.done));
		wait_pending();
		print_gres("a.test 80, cancelled at once", &g, 0);
		run_for(100);
		out("callbacks after the replies arrived: %d", g.done);

		req = gai_issue(d, "a.test", "80", AF_INET6, S, 0, 0, 0, &g);
		if (req)
			evdns_getaddrinfo_cancel(req);
		wait_pending();
		print_gres("a.test 80 AF_INET6, cancelled at once", &g, 0);

		gai_issue(d, "a.test", "80", AF_UNSPEC, S, 0, 0, 0, &g);
		gai_issue(d, "nx.test", "80", AF_INET, S, 0, 0, 0, &g2);
		in_call = 1;
		evdns_base_free(d, 1);
		in_call = 0;
		out("callbacks during evdns_base_free(1): %d", g.done + g2.done);
		wait_pending();
		print_gres("a.test 80, base freed with fail_requests 1", &g, 0);
		print_gres("nx.test 80 AF_INET, base freed with fail_requests 1", &g2, 0);
	}
	end();
}

/* ------------------------------------------------------------------ */

/* evdns_err_to_string over -1..80 */
static void sc_err_to_string(void)
{
	int e;
	begin("evdns_err_to_string");
	for (e = -1; e <= 80; ++e)
		out("%d: %s", e, evdns_err_to_string(e));
	end();
}

/* ------------------------------------------------------------------ */
/* bufferevent_socket_connect_hostname */

struct conn {
	int done;
	short what;
	int err;
};

static void on_bev_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	(void)bev;
	c->done++;
	c->what = what;
	c->err = EVUTIL_SOCKET_ERROR();
	--pending;
}

static const char *bevwhat(short w)
{
	static char buf[80];
	buf[0] = '\0';
	if (w & BEV_EVENT_READING) strcat(buf, "READING|");
	if (w & BEV_EVENT_WRITING) strcat(buf, "WRITING|");
	if (w & BEV_EVENT_EOF) strcat(buf, "EOF|");
	if (w & BEV_EVENT_ERROR) strcat(buf, "ERROR|");
	if (w & BEV_EVENT_TIMEOUT) strcat(buf, "TIMEOUT|");
	if (w & BEV_EVENT_CONNECTED) strcat(buf, "CONNECTED|");
	if (buf[0])
		buf[strlen(buf) - 1] = '\0';
	else
		strcpy(buf, "none");
	return buf;
}

static void connect_case(struct evdns_base *d, const char *label, int family,
    const char *host, int port)
{
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	struct conn c;
	int r;
	memset(&c, 0, sizeof c);
	bufferevent_setcb(bev, NULL, NULL, on_bev_event, &c);
	out("%s: get_dns_error before: %d", label, bufferevent_socket_get_dns_error(bev));
	++pending;
	in_call = 1;
	r = bufferevent_socket_connect_hostname(bev, d, family, host, port);
	in_call = 0;
	if (r != 0) {
		--pending;
		out("%s: connect_hostname %d, events %d", label, r, c.done);
	} else {
		wait_pending();
		out("%s: connect_hostname 0, event %s, dns error %s%s", label, bevwhat(c.what),
		    eainame(bufferevent_socket_get_dns_error(bev)),
		    (c.what & BEV_EVENT_ERROR) && !bufferevent_socket_get_dns_error(bev)
		        ? (c.err == ECONNREFUSED ? ", ECONNREFUSED" : ", another socket error") : "");
	}
	bufferevent_free(bev);
}

static void sc_connect_hostname(void)
{
	struct evdns_base *d;
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	int l = socket(AF_INET, SOCK_STREAM, 0), port, closed_port;
	begin("bufferevent_socket_connect_hostname");
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (struct sockaddr *)&sin, sizeof sin) != 0 || listen(l, 16) != 0 ||
	    getsockname(l, (struct sockaddr *)&sin, &len) != 0) {
		out("listener failed");
		exit(1);
	}
	port = ntohs(sin.sin_port);
	closed_port = free_port();
	d = new_dns();
	connect_case(d, "loop.test AF_INET", AF_INET, "loop.test", port);
	connect_case(d, "loop.test AF_UNSPEC", AF_UNSPEC, "loop.test", port);
	connect_case(d, "127.0.0.1 AF_UNSPEC", AF_UNSPEC, "127.0.0.1", port);
	connect_case(d, "nx.test AF_UNSPEC", AF_UNSPEC, "nx.test", port);
	connect_case(d, "nx.test AF_INET", AF_INET, "nx.test", port);
	connect_case(d, "v6only.test AF_INET", AF_INET, "v6only.test", port);
	connect_case(d, "loop.test AF_INET, closed port", AF_INET, "loop.test", closed_port);
	connect_case(d, "loop.test AF_UNIX", AF_UNIX, "loop.test", port);
	connect_case(d, "loop.test port 0", AF_INET, "loop.test", 0);
	connect_case(d, "loop.test port 65536", AF_INET, "loop.test", 65536);
	evdns_base_free(d, 0);
	close(l);
	end();
}

/* ------------------------------------------------------------------ */

int main(void)
{
	transcript_start();
	signal(SIGPIPE, SIG_IGN);
	snprintf(tmpdir, sizeof tmpdir, "/tmp/dns_diff.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	atexit(remove_tmpdir);
	evdns_set_log_fn(quiet_log);
	scenario_alarm("dnsmasq start", 20);
	start_dnsmasq();
	alarm(0);
	base = event_base_new();

	sc_lookups();
	sc_errors();
	sc_cname();
	sc_ptr();
	sc_search();
	sc_cancel();
	sc_free();
	sc_suspend();
	sc_inactive();
	sc_timeout();
	sc_set_option();
	sc_nameservers();
	sc_ip_add();
	sc_resolv_conf();
	sc_getaddrinfo();
	sc_err_to_string();
	sc_connect_hostname();

	event_base_free(base);
	fflush(stdout);
	return 0;
}

/* DNS benchmark: resolutions per second through one evdns_base against a
 * local nameserver (bench/dns-run.sh starts a dnsmasq that answers every
 * n<k>.bench.test with the same address; what dnsmasq costs is the
 * server's share, the same for both builds).
 *
 *   bench-dns-{libevent,evasio} --server 127.0.0.1:PORT [--count N]
 *       [--inflight K] [--names M] [--domain D] [--expect ADDR] [--aaaa]
 *       [--getaddrinfo] [--warmup N] [--max-inflight K] [--timeout S]
 *   bench-dns-{libevent,evasio} --free-port [FIRST]
 *
 * K lookups are kept in flight (100): each completion checks its answer
 * (exactly one address, ADDR) and issues the next, until N (200000) have
 * completed after N' (--warmup, 2000) of warm-up. Names go round
 * n0.D ... n<M-1>.D (M 1000, D bench.test). --aaaa asks AAAA instead of A
 * (ADDR must then be IPv6), --getaddrinfo goes through evdns_getaddrinfo
 * (AF_INET or, with --aaaa, AF_INET6; SOCK_STREAM) instead of
 * evdns_base_resolve_ipv4/ipv6. libevent lets only 64 requests out at once
 * by default: "max-inflight" is set to K (or --max-inflight) so that both
 * builds really have K in flight.
 *
 * It prints one line (as bench-load does):
 *   RESULT impl=libevent mode=A count=N inflight=K seconds=S rate=R
 *          cpu_s=C cpu_us_per_op=U errors=0
 * rate: resolutions per second over the measured part; cpu: this process's
 * user+system time over it. Any failed or wrong answer (warm-up included)
 * is counted in errors, shown on stderr by result code, and makes the exit
 * status 1. A
 * hard alarm (--timeout, 300 s) ends it whatever happens (exit 3).
 * --free-port prints a port free on 127.0.0.1 for both UDP and TCP.
 *
 * One source, two links: against real libevent 2.1.12 and against evasio.
 * BENCH_DNS_EXPECT_EVASIO (0 or 1), when defined, makes a build against
 * the wrong headers fail to compile. */
#define _POSIX_C_SOURCE 200809L
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#if defined(BENCH_DNS_EXPECT_EVASIO)
#if BENCH_DNS_EXPECT_EVASIO && !defined(EVASIO_VERSION)
#error "bench-dns-evasio must be built against evasio's event2 headers"
#elif !BENCH_DNS_EXPECT_EVASIO && defined(EVASIO_VERSION)
#error "bench-dns-libevent must be built against libevent's own headers"
#endif
#endif

#ifdef EVASIO_VERSION
#define IMPL "evasio"
#else
#define IMPL "libevent"
#endif

static struct event_base *base;
static struct evdns_base *dns;
static long total;        /* lookups to complete: warm-up + measured */
static long warmup;
static long issued, completed, errors;
static long by_result[128];
static int names = 1000;
static const char *domain = "bench.test";
static int aaaa, use_gai;
static unsigned char expect[16];
static double t_start;
static struct rusage ru_start;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(const struct rusage *r)
{
	return (double)r->ru_utime.tv_sec + (double)r->ru_utime.tv_usec / 1e6 +
	    (double)r->ru_stime.tv_sec + (double)r->ru_stime.tv_usec / 1e6;
}

static void on_alarm(int sig)
{
	static const char msg[] = "bench-dns: time limit reached\n";
	ssize_t r;
	(void)sig;
	r = write(STDERR_FILENO, msg, sizeof msg - 1);
	(void)r;
	_exit(3);
}

static void issue_next(void);

/* One lookup finished: count it, start the measured part after the
 * warm-up, stop at the end, otherwise keep K in flight. */
static void done_one(int ok, int code)
{
	if (!ok) {
		++errors;
		++by_result[(code >= 0 && code < 128) ? code : 127];
	}
	++completed;
	if (completed == warmup) {
		t_start = now_s();
		getrusage(RUSAGE_SELF, &ru_start);
	}
	if (completed == total) {
		event_base_loopexit(base, NULL);
		return;
	}
	if (issued < total)
		issue_next();
}

static void on_resolved(int result, char type, int count, int ttl, void *addresses, void *arg)
{
	size_t len = aaaa ? 16 : 4;
	(void)ttl;
	(void)arg;
	done_one(result == DNS_ERR_NONE && type == (aaaa ? DNS_IPv6_AAAA : DNS_IPv4_A) &&
	    count == 1 && memcmp(addresses, expect, len) == 0,
	    result == DNS_ERR_NONE ? 100 : result);  /* 100: an answer, but not the expected one */
}

static void on_addrinfo(int result, struct evutil_addrinfo *res, void *arg)
{
	int ok = 0;
	(void)arg;
	if (result == 0 && res && !res->ai_next) {
		if (!aaaa && res->ai_family == AF_INET) {
			const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)res->ai_addr;
			ok = memcmp(&sin->sin_addr, expect, 4) == 0;
		} else if (aaaa && res->ai_family == AF_INET6) {
			const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)res->ai_addr;
			ok = memcmp(&sin6->sin6_addr, expect, 16) == 0;
		}
	}
	if (res)
		evutil_freeaddrinfo(res);
	/* EVUTIL_EAI_* codes are negative: fold them apart from DNS codes */
	done_one(ok, result == 0 ? 100 : 101);
}

static void issue_next(void)
{
	char name[256];
	long k = issued++;
	snprintf(name, sizeof name, "n%ld.%s", k % names, domain);
	if (use_gai) {
		struct evutil_addrinfo hints;
		memset(&hints, 0, sizeof hints);
		hints.ai_family = aaaa ? AF_INET6 : AF_INET;
		hints.ai_socktype = SOCK_STREAM;
		evdns_getaddrinfo(dns, name, NULL, &hints, on_addrinfo, NULL);
		return;  /* NULL also when the callback already ran: nothing to check */
	}
	if (!(aaaa ? evdns_base_resolve_ipv6(dns, name, 0, on_resolved, NULL)
	           : evdns_base_resolve_ipv4(dns, name, 0, on_resolved, NULL))) {
		fprintf(stderr, "bench-dns: resolve returned NULL\n");
		exit(1);
	}
}

/* A port free on 127.0.0.1 for UDP and TCP, from first on (0: any). */
static int free_port(int first)
{
	int p;
	for (p = first; p < 65536; p = p ? p + 1 : 0) {
		struct sockaddr_in sin;
		socklen_t len = sizeof sin;
		int u = socket(AF_INET, SOCK_DGRAM, 0), t, ok;
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin.sin_port = htons((unsigned short)p);
		ok = u >= 0 && bind(u, (struct sockaddr *)&sin, sizeof sin) == 0 &&
		    getsockname(u, (struct sockaddr *)&sin, &len) == 0;
		t = socket(AF_INET, SOCK_STREAM, 0);
		ok = ok && t >= 0 && bind(t, (struct sockaddr *)&sin, sizeof sin) == 0;
		if (t >= 0)
			close(t);
		if (u >= 0)
			close(u);
		if (ok)
			return ntohs(sin.sin_port);
		if (!p)
			continue;  /* any port: try another */
	}
	return -1;
}

static void usage(void)
{
	fprintf(stderr,
	    "usage: bench-dns --server ADDR[:PORT] [--count N] [--inflight K] [--names M]\n"
	    "         [--domain D] [--expect ADDR] [--aaaa] [--getaddrinfo] [--warmup N]\n"
	    "         [--max-inflight K] [--timeout S]\n"
	    "       bench-dns --free-port [FIRST]\n");
	exit(2);
}

static long num(const char *s, long min)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < min)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	const char *server = NULL, *expect_s = NULL;
	long count = 200000, inflight = 100, max_inflight = 0, timeout_s = 300, i;
	char opt[16];
	double seconds, cpu;
	struct rusage ru_end;
	struct sigaction sa;

	warmup = 2000;
	for (i = 1; i < argc; ++i) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--free-port")) {
			int p = free_port(v ? (int)num(v, 0) : 0);
			if (p < 0)
				return 1;
			printf("%d\n", p);
			return 0;
		} else if (!strcmp(a, "--aaaa")) {
			aaaa = 1;
			continue;
		} else if (!strcmp(a, "--getaddrinfo")) {
			use_gai = 1;
			continue;
		}
		if (!v)
			usage();
		++i;
		if (!strcmp(a, "--server")) server = v;
		else if (!strcmp(a, "--count")) count = num(v, 1);
		else if (!strcmp(a, "--inflight")) inflight = num(v, 1);
		else if (!strcmp(a, "--names")) names = (int)num(v, 1);
		else if (!strcmp(a, "--domain")) domain = v;
		else if (!strcmp(a, "--expect")) expect_s = v;
		else if (!strcmp(a, "--warmup")) warmup = num(v, 0);
		else if (!strcmp(a, "--max-inflight")) max_inflight = num(v, 1);
		else if (!strcmp(a, "--timeout")) timeout_s = num(v, 1);
		else usage();
	}
	if (!server)
		usage();
	if (!expect_s)
		expect_s = aaaa ? "fd00::1:2:3" : "10.1.2.3";
	if (inet_pton(aaaa ? AF_INET6 : AF_INET, expect_s, expect) != 1) {
		fprintf(stderr, "bench-dns: --expect %s is not an IPv%d address\n", expect_s, aaaa ? 6 : 4);
		return 2;
	}

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm((unsigned)timeout_s);

	base = event_base_new();
	dns = base ? evdns_base_new(base, 0) : NULL;
	if (!dns) {
		fprintf(stderr, "bench-dns: cannot make the bases\n");
		return 1;
	}
	if (evdns_base_nameserver_ip_add(dns, server) != 0) {
		fprintf(stderr, "bench-dns: bad nameserver %s\n", server);
		return 2;
	}
	snprintf(opt, sizeof opt, "%ld", max_inflight ? max_inflight : inflight);
	if (evdns_base_set_option(dns, "max-inflight", opt) != 0) {
		fprintf(stderr, "bench-dns: max-inflight %s refused\n", opt);
		return 1;
	}

	total = warmup + count;
	if (warmup == 0) {
		t_start = now_s();
		getrusage(RUSAGE_SELF, &ru_start);
	}
	for (i = 0; i < inflight && issued < total; ++i)
		issue_next();
	if (completed < total)
		event_base_dispatch(base);
	seconds = now_s() - t_start;
	getrusage(RUSAGE_SELF, &ru_end);
	cpu = cpu_s(&ru_end) - cpu_s(&ru_start);
	if (completed != total) {
		fprintf(stderr, "bench-dns: the loop ended after %ld of %ld lookups\n", completed, total);
		return 1;
	}

	printf("RESULT impl=%s mode=%s%s count=%ld inflight=%ld seconds=%.3f rate=%.0f cpu_s=%.3f "
	    "cpu_us_per_op=%.2f errors=%ld\n", IMPL, use_gai ? "getaddrinfo-" : "", aaaa ? "AAAA" : "A",
	    count, inflight, seconds, seconds > 0 ? (double)count / seconds : 0.0, cpu,
	    cpu * 1e6 / (double)count, errors);
	fflush(stdout);
	if (errors) {
		for (i = 0; i < 128; ++i) {
			if (!by_result[i])
				continue;
			if (i == 100)
				fprintf(stderr, "bench-dns: %ld answers not the expected address\n", by_result[i]);
			else if (i == 101)
				fprintf(stderr, "bench-dns: %ld getaddrinfo failures\n", by_result[i]);
			else
				fprintf(stderr, "bench-dns: %ld x result %ld (%s)\n", by_result[i], i,
				    evdns_err_to_string((int)i));
		}
	}
	evdns_base_free(dns, 0);
	event_base_free(base);
	return errors ? 1 : 0;
}

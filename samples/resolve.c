/* resolve: a tiny `host`-like resolver on evdns.
 *
 *   evasio-resolve [-4 | -6] [-g] [-x] [-s server[:port]]... name...
 *
 * One event_base and one evdns_base; every name on the command line is
 * looked up at the same time, and once all lookups have finished the
 * results are printed name by name, in the order of the command line (so
 * the output does not depend on which answer came first):
 *
 *   a.test has address 10.0.0.1 (ttl 60)
 *   a.test has IPv6 address fd00::1 (ttl 60)
 *   10.0.0.1 domain name pointer a.test (ttl 60)
 *   nx.test: error: name does not exist
 *
 * What is asked:
 *   (default)  both A and AAAA, as `host` does. The name counts as resolved
 *              when either gave addresses; then "no records" from the other
 *              family is not printed (a name with IPv4 addresses only is
 *              not an error), any other failure of the other one is. When
 *              neither gave addresses, one error line: the first failure
 *              that is not "no records in the reply", if there is one.
 *   -4         A only.        -6   AAAA only.
 *   -x         reverse lookups (PTR): each argument is an IPv4 or IPv6
 *              address.
 *   -g         evdns_getaddrinfo instead of the evdns_base_resolve_*
 *              calls (AF_UNSPEC, or AF_INET/AF_INET6 with -4/-6; SOCK_STREAM,
 *              AI_CANONNAME): lines without a ttl (getaddrinfo has none),
 *              "NAME is an alias for CANON" first when the canonical name
 *              differs, errors from evutil_gai_strerror. IPv4 addresses come
 *              before IPv6 ones. -g and -x do not go together.
 *   -s S       use the nameserver S ("1.2.3.4", "1.2.3.4:5353", "[::1]:53",
 *              as evdns_base_nameserver_ip_add takes it; may be repeated)
 *              instead of those of /etc/resolv.conf.
 * Within one answer, addresses are printed in the order of the reply.
 *
 * Exit status: 0 if every name resolved, 1 if any did not, 2 on bad usage.
 *
 * Plain libevent 2.1 API only: it builds unmodified against real libevent
 * (cc resolve.c -levent) and against evasio. */
#define _POSIX_C_SOURCE 200809L
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

enum kind { KIND_A, KIND_AAAA, KIND_PTR, KIND_GAI };

struct lookup {
	const char *name;  /* as given on the command line */
	enum kind kind;
	int started;       /* a request was made (or its callback already ran) */
	int done;
	int result;        /* DNS_ERR_* (or an EVUTIL_EAI_* code for KIND_GAI) */
	int found;         /* the lookup gave at least one answer */
	char *text;        /* the result lines, each ending in '\n' */
	size_t len;
};

static struct event_base *base;
static int outstanding;

static void usage(void)
{
	fprintf(stderr,
	    "usage: evasio-resolve [-4 | -6] [-g] [-x] [-s server[:port]]... name...\n"
	    "  (default: A and AAAA; -4 A only; -6 AAAA only; -x reverse lookups of\n"
	    "  addresses; -g through evdns_getaddrinfo; -s instead of /etc/resolv.conf)\n");
	exit(2);
}

/* Appends one formatted line to the lookup's text. */
static void add_line(struct lookup *l, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;
	char *grown;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof line - 2)
		n = (int)(sizeof line - 2);
	line[n++] = '\n';
	line[n] = '\0';
	grown = realloc(l->text, l->len + (size_t)n + 1);
	if (!grown) {
		fprintf(stderr, "evasio-resolve: out of memory\n");
		exit(1);
	}
	memcpy(grown + l->len, line, (size_t)n + 1);
	l->text = grown;
	l->len += (size_t)n;
}

static void finished(struct lookup *l)
{
	l->done = 1;
	if (--outstanding == 0)
		event_base_loopexit(base, NULL);
}

/* The callback of evdns_base_resolve_ipv4/ipv6/reverse(_ipv6). */
static void on_resolved(int result, char type, int count, int ttl,
    void *addresses, void *arg)
{
	struct lookup *l = arg;
	char buf[INET6_ADDRSTRLEN];
	int i;
	l->result = result;
	if (result == DNS_ERR_NONE) {
		for (i = 0; i < count; ++i) {
			if (type == DNS_IPv4_A) {
				inet_ntop(AF_INET, (const char *)addresses + 4 * i, buf, sizeof buf);
				add_line(l, "%s has address %s (ttl %d)", l->name, buf, ttl);
			} else if (type == DNS_IPv6_AAAA) {
				inet_ntop(AF_INET6, (const char *)addresses + 16 * i, buf, sizeof buf);
				add_line(l, "%s has IPv6 address %s (ttl %d)", l->name, buf, ttl);
			} else if (type == DNS_PTR) {
				/* addresses is a char ** with count 1 */
				add_line(l, "%s domain name pointer %s (ttl %d)", l->name,
				    ((char **)addresses)[i], ttl);
			}
		}
		l->found = count > 0;
		if (!l->found)
			l->result = DNS_ERR_NODATA;
	}
	finished(l);
}

/* The callback of evdns_getaddrinfo (it may run inside that call). */
static void on_addrinfo(int result, struct evutil_addrinfo *res, void *arg)
{
	struct lookup *l = arg;
	struct evutil_addrinfo *ai;
	char buf[INET6_ADDRSTRLEN];
	int pass;
	l->result = result;
	if (result == 0) {
		if (res && res->ai_canonname && strcasecmp(res->ai_canonname, l->name) != 0)
			add_line(l, "%s is an alias for %s", l->name, res->ai_canonname);
		/* IPv4 first, then IPv6, each in the order given */
		for (pass = 0; pass < 2; ++pass) {
			for (ai = res; ai; ai = ai->ai_next) {
				if (pass == 0 && ai->ai_family == AF_INET) {
					const struct sockaddr_in *sin = (const struct sockaddr_in *)ai->ai_addr;
					inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf);
					add_line(l, "%s has address %s", l->name, buf);
					l->found = 1;
				} else if (pass == 1 && ai->ai_family == AF_INET6) {
					const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ai->ai_addr;
					inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf);
					add_line(l, "%s has IPv6 address %s", l->name, buf);
					l->found = 1;
				}
			}
		}
		if (!l->found)
			l->result = EVUTIL_EAI_NODATA;
	}
	if (res)
		evutil_freeaddrinfo(res);
	finished(l);
}

static const char *error_text(const struct lookup *l)
{
	if (!l->started)
		return "cannot start the lookup";
	if (l->kind == KIND_GAI)
		return evutil_gai_strerror(l->result);
	return evdns_err_to_string(l->result);
}

static int no_records(const struct lookup *l)
{
	return l->started && (l->kind == KIND_GAI ? l->result == EVUTIL_EAI_NODATA
	                                          : l->result == DNS_ERR_NODATA);
}

/* Prints the results of one name (its lookups l[0..n-1]); 1 if resolved. */
static int report(const struct lookup *l, int n)
{
	int i, any = 0;
	const struct lookup *first_error = NULL;
	for (i = 0; i < n; ++i)
		any |= l[i].found;
	if (any) {
		for (i = 0; i < n; ++i) {
			if (l[i].found)
				fputs(l[i].text, stdout);
			else if (!no_records(&l[i]))
				printf("%s: error: %s\n", l[i].name, error_text(&l[i]));
		}
		return 1;
	}
	for (i = 0; i < n; ++i) {
		if (!no_records(&l[i])) {
			first_error = &l[i];
			break;
		}
	}
	if (!first_error)
		first_error = &l[0];
	printf("%s: error: %s\n", first_error->name, error_text(first_error));
	return 0;
}

static void start(struct evdns_base *dns, struct lookup *l, int family)
{
	struct evdns_request *req = NULL;
	++outstanding;
	l->started = 1;
	switch (l->kind) {
	case KIND_A:
		req = evdns_base_resolve_ipv4(dns, l->name, 0, on_resolved, l);
		break;
	case KIND_AAAA:
		req = evdns_base_resolve_ipv6(dns, l->name, 0, on_resolved, l);
		break;
	case KIND_PTR: {
		struct in_addr in;
		struct in6_addr in6;
		if (inet_pton(AF_INET, l->name, &in) == 1)
			req = evdns_base_resolve_reverse(dns, &in, 0, on_resolved, l);
		else if (inet_pton(AF_INET6, l->name, &in6) == 1)
			req = evdns_base_resolve_reverse_ipv6(dns, &in6, 0, on_resolved, l);
		else {
			add_line(l, "%s: error: not an IPv4 or IPv6 address", l->name);
			l->started = 0;
			finished(l);
			return;
		}
		break;
	}
	case KIND_GAI: {
		struct evutil_addrinfo hints;
		memset(&hints, 0, sizeof hints);
		hints.ai_family = family;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_protocol = IPPROTO_TCP;
		hints.ai_flags = EVUTIL_AI_CANONNAME;
		/* NULL is also what it returns when the callback already ran */
		evdns_getaddrinfo(dns, l->name, NULL, &hints, on_addrinfo, l);
		return;
	}
	}
	if (!req) {
		l->started = 0;
		finished(l);
	}
}

int main(int argc, char **argv)
{
	struct evdns_base *dns;
	struct lookup *lookups;
	const char *servers[16];
	int nservers = 0, want4 = 0, want6 = 0, reverse = 0, gai = 0;
	int opt, i, per, nnames, all_ok = 1;

	while ((opt = getopt(argc, argv, "46gxs:h")) != -1) {
		switch (opt) {
		case '4': want4 = 1; break;
		case '6': want6 = 1; break;
		case 'g': gai = 1; break;
		case 'x': reverse = 1; break;
		case 's':
			if (nservers == (int)(sizeof servers / sizeof servers[0])) {
				fprintf(stderr, "evasio-resolve: too many -s\n");
				return 2;
			}
			servers[nservers++] = optarg;
			break;
		default: usage();
		}
	}
	nnames = argc - optind;
	if (nnames < 1 || (want4 && want6) || (gai && reverse))
		usage();

	base = event_base_new();
	if (!base) {
		fprintf(stderr, "evasio-resolve: event_base_new failed\n");
		return 1;
	}
	dns = evdns_base_new(base, nservers ? 0 : EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (!dns) {
		fprintf(stderr, "evasio-resolve: evdns_base_new failed\n");
		return 1;
	}
	for (i = 0; i < nservers; ++i) {
		int r = evdns_base_nameserver_ip_add(dns, servers[i]);
		if (r != 0) {
			fprintf(stderr, "evasio-resolve: bad nameserver %s (error %d)\n", servers[i], r);
			return 2;
		}
	}

	/* per name: one lookup, or two (A then AAAA) */
	per = (reverse || gai || want4 || want6) ? 1 : 2;
	lookups = calloc((size_t)(nnames * per), sizeof *lookups);
	if (!lookups) {
		fprintf(stderr, "evasio-resolve: out of memory\n");
		return 1;
	}
	for (i = 0; i < nnames; ++i) {
		struct lookup *l = &lookups[i * per];
		l[0].name = argv[optind + i];
		if (reverse)
			l[0].kind = KIND_PTR;
		else if (gai)
			l[0].kind = KIND_GAI;
		else
			l[0].kind = want6 ? KIND_AAAA : KIND_A;
		if (per == 2) {
			l[1].name = l[0].name;
			l[1].kind = KIND_AAAA;
		}
	}
	/* Count everything as outstanding first, so that a callback running
	 * inside its own call (evdns_getaddrinfo of a numeric address) cannot
	 * end the loop early. */
	++outstanding;
	for (i = 0; i < nnames * per; ++i)
		start(dns, &lookups[i], gai ? (want4 ? AF_INET : want6 ? AF_INET6 : AF_UNSPEC) : 0);
	if (--outstanding > 0)
		event_base_dispatch(base);

	for (i = 0; i < nnames; ++i) {
		struct lookup *l = &lookups[i * per];
		if (l[0].kind == KIND_PTR && !l[0].started) {
			fputs(l[0].text, stdout);  /* not an address */
			all_ok = 0;
			continue;
		}
		if (!report(l, per))
			all_ok = 0;
	}
	fflush(stdout);

	for (i = 0; i < nnames * per; ++i)
		free(lookups[i].text);
	free(lookups);
	evdns_base_free(dns, 0);
	event_base_free(base);
	return all_ok ? 0 : 1;
}

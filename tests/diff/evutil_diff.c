/* Differential transcript for evasio's event2/util.h: one C99 program, built
 * once against real libevent 2.1.12 and once against evasio, printing what
 * evutil_parse_sockaddr_port, evutil_inet_pton(_scope), evutil_inet_ntop,
 * evutil_sockaddr_cmp, evutil_strtoll, evutil_snprintf/vsnprintf,
 * evutil_ascii_str(n)casecmp, the evutil_timer* macros, evutil_getaddrinfo
 * (numeric hosts and services, NULL nodename, AI_* flags, /etc/hosts names,
 * bad hints), evutil_gai_strerror, evutil_date_rfc1123 and the monotonic
 * timers and secure RNG (their return values) give over a table of tricky
 * inputs, and the value of every constant util.h defines (naming each
 * function too, so that both builds prove the header declares it). The two
 * transcripts must be identical.
 *
 * Everything printed is deterministic: return values, errno names where the
 * C library defines them (strtoll), bytes, and signs of comparisons (their
 * magnitudes are unspecified). Addresses are printed with the C library's
 * inet_ntop, not with the function under test.
 *
 * Known, intended difference left out of the table: evutil_inet_ntop for an
 * IPv6 address whose text is exactly len characters long (no room for the
 * NUL). libevent 2.1.12 returns dst holding the text cut by one character;
 * evasio returns NULL with errno = ENOSPC. Both fail when len is smaller and
 * both succeed when it is larger, which is what is compared here. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* libevent's evutil_timer* use glibc's timer* macros */
#endif

#include <event2/util.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

/* ------------------------------------------------------------------ */
/* Printing helpers. */

static void put_escaped(const char *s)
{
	size_t n = strlen(s);
	size_t i;
	/* Long inputs are summarised, so that lines stay readable. */
	if (n > 60) {
		printf("<%lu chars: \"", (unsigned long)n);
		for (i = 0; i < 12; ++i)
			putchar(s[i] == ' ' ? '_' : s[i]);
		printf("...");
		for (i = n - 12; i < n; ++i)
			putchar(s[i] == ' ' ? '_' : s[i]);
		printf("\">");
		return;
	}
	putchar('"');
	for (i = 0; i < n; ++i) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			printf("\\n");
		else if (c == '\t')
			printf("\\t");
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static const char *sign_name(int r)
{
	return r < 0 ? "<0" : (r > 0 ? ">0" : "0");
}

static const char *errno_name(int e)
{
	switch (e) {
	case 0: return "0";
	case EINVAL: return "EINVAL";
	case ERANGE: return "ERANGE";
	default: return "other";
	}
}

static void put_hex(const unsigned char *b, size_t n)
{
	size_t i;
	for (i = 0; i < n; ++i)
		printf("%02x", b[i]);
}

/* ------------------------------------------------------------------ */
/* evutil_inet_pton */

static const char *const pton4_inputs[] = {
	"1.2.3.4", "0.0.0.0", "255.255.255.255", "127.0.0.1",
	"256.1.1.1", "1.256.1.1", "1.1.1.256", "1.2.3", "1.2.3.4.5", "1.2", "1",
	"", ".", "...", "1..2.3", "1.2.3.", ".1.2.3",
	"1.2.3.4 ", " 1.2.3.4", "\t1.2.3.4", "\n1.2.3.4", "1. 2.3.4", "1.2.3. 4",
	"1 .2.3.4", "1.2.3.4\n", "1.2.3.4x", "1.2.3.4:80", "1.2.3.4/8",
	"+1.2.3.4", "1.+2.3.4", "1.2.3.+4", "-0.1.2.3", "1.2.3.-0", "-1.2.3.4",
	"+-1.2.3.4", "- 1.2.3.4", "+.1.2.3",
	"01.02.03.04", "010.0.0.1", "0255.0.0.1", "00000000000000000001.2.3.4",
	"0x1.2.3.4", "0x7f.0.0.1", "1e2.0.0.1", "a.b.c.d",
	"4294967296.1.1.1", "4294967297.0.0.1", "4294967551.0.0.1",
	"-4294967295.2.3.4", "-4294967041.0.0.1",
	"18446744073709551615.1.1.1", "18446744073709551616.1.1.1",
	"99999999999999999999999.1.1.1", "-18446744073709551615.1.1.1",
	"::1", "::ffff:1.2.3.4", "1.2.3.4\x80",
	NULL
};

static const char *const pton6_inputs[] = {
	"::", "::1", "1::", "1::2", "::1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8",
	"1:2:3:4:5:6:7::", "1::3:4:5:6:7:8", "2001:db8::1", "2001:DB8:0:0:1:0:0:1",
	"fe80::1", "FE80::ABCD", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	"0:0:0:0:0:0:0:0", "0000:0000::0000", "abcd::ef01",
	"1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "::1:2:3:4:5:6:7:8",
	"1:2:3:4:5:6:7:8::", "1::2::3", ":::", ":::1", ":1::", "1:::2", "::1::",
	"1::2:", "1:2:3:4:5:6:7:8:", "1:2:", ":", "1", "1:2", "",
	"12345::", "00001::", "0001::", "1:12345::",
	"0x1::", "0xab::", "0XAB::", "0x12::", "0xabc::", "0x::", "0x", "::0x1",
	"::g", "g::", "::-1", "::+1", " ::1", "::1 ", "::1\n", ":: 1",
	"::ffff:1.2.3.4", "::1.2.3.4", "::0.0.0.0", "1:2:3:4:5:6:1.2.3.4",
	"1:2:3:4:5:6:7:1.2.3.4", "1:2:3:4:5::1.2.3.4", "::1:2:3:4:5:1.2.3.4",
	"::ffff:1.2.3", "::ffff:256.1.1.1", "::ffff:1.2.3.4.5", "::ffff:1.2.3.4:5",
	"1.2.3.4", "::1. 2.3.4", "::1.+2.3.4", "::ffff: 1.2.3.4", "::ffff:+1.2.3.4",
	"::ffff1.2.3.4", "::ff1.2.3.4", "::ab12.3.4.5", "1.2.3.4::", ".::1",
	"::1.2.3.4.", "::01.02.03.04", "::4294967296.1.1.1", "ffff::1.2.3.4",
	"::ffff:0x1.2.3.4",
	NULL
};

static void run_pton(void)
{
	size_t i;
	unsigned char out[16];
	printf("== evutil_inet_pton AF_INET\n");
	for (i = 0; pton4_inputs[i]; ++i) {
		int r;
		memset(out, 0xee, sizeof out);
		r = evutil_inet_pton(AF_INET, pton4_inputs[i], out);
		printf("pton4 ");
		put_escaped(pton4_inputs[i]);
		printf(" -> %d ", r);
		put_hex(out, 4);
		printf("\n");
	}
	printf("== evutil_inet_pton AF_INET6\n");
	for (i = 0; pton6_inputs[i]; ++i) {
		int r;
		memset(out, 0xee, sizeof out);
		r = evutil_inet_pton(AF_INET6, pton6_inputs[i], out);
		printf("pton6 ");
		put_escaped(pton6_inputs[i]);
		printf(" -> %d ", r);
		put_hex(out, 16);
		printf("\n");
	}
	printf("== evutil_inet_pton other family\n");
	printf("pton AF_UNIX \"1.2.3.4\" -> %d\n",
	    evutil_inet_pton(AF_UNIX, "1.2.3.4", out));
	printf("pton -1 \"::1\" -> %d\n", evutil_inet_pton(-1, "::1", out));
}

static const char *const scope_inputs[] = {
	"fe80::1%lo", "fe80::1%1", "fe80::1%0", "fe80::1%", "fe80::1%42",
	"fe80::1%-1", "fe80::1% 7", "fe80::1%+7", "fe80::1%7x",
	"fe80::1%no-such-interface", "fe80::1%lo%lo", "fe80::zz%lo",
	"fe80::zz%bad-if", "::1%99999999999", "::1%4294967297",
	"::1", "1.2.3.4%lo",
	NULL
};

static void run_pton_scope(void)
{
	size_t i;
	unsigned char out[16];
	printf("== evutil_inet_pton_scope\n");
	for (i = 0; scope_inputs[i]; ++i) {
		int r;
		unsigned index = 12345;
		memset(out, 0xee, sizeof out);
		r = evutil_inet_pton_scope(AF_INET6, scope_inputs[i], out, &index);
		printf("scope6 ");
		put_escaped(scope_inputs[i]);
		printf(" -> %d index=%u ", r, index);
		put_hex(out, 16);
		printf("\n");
	}
	{
		unsigned index = 12345;
		int r = evutil_inet_pton_scope(AF_INET, "1.2.3.4", out, &index);
		printf("scope4 \"1.2.3.4\" -> %d index=%u ", r, index);
		put_hex(out, 4);
		printf("\n");
	}
}

/* ------------------------------------------------------------------ */
/* evutil_inet_ntop */

static const unsigned char v4_samples[][4] = {
	{0, 0, 0, 0}, {1, 2, 3, 4}, {127, 0, 0, 1}, {255, 255, 255, 255},
	{10, 200, 30, 4}, {192, 168, 100, 200},
};

static const unsigned char v6_samples[][16] = {
	{0},
	{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1},
	{0,0,0,0,0,0,0,0,0,0,0,0,1,2,3,4},           /* ::1.2.3.4 */
	{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2},           /* ::2, not v4 */
	{0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0},           /* ::100:0 */
	{0,0,0,0,0,0,0,0,0,0,0,0,0,1,0,1},           /* words 6,7 = 1,1 */
	{0,0,0,0,0,0,0,0,0,0,0xff,0xff,1,2,3,4},     /* ::ffff:1.2.3.4 */
	{0,0,0,0,0,0,0,0,0,0,0xff,0xff,0,0,0,0},     /* ::ffff:0.0.0.0 */
	{0,0,0,0,0,0,0,0,0,0,0xff,0xfe,1,2,3,4},     /* not mapped */
	{0,0,0,0,0,0,0,0,0,1,0xff,0xff,1,2,3,4},     /* words 4 = 1 */
	{0,1,0,0,0,0,0,2,0,0,0,0,0,0,0,3},           /* longest run later */
	{0,1,0,0,0,0,0,2,0,0,0,0,0,3,0,4},           /* tie: the first */
	{0,1,0,0,0,2,0,0,0,3,0,0,0,4,0,0},           /* single zeros */
	{0x20,0x01,0x0d,0xb8,0,0,0,0,0,0,0,0,0,0,0,1},
	{0xfe,0x80,0,0,0,0,0,0,0,0,0,0,0,0,0,0},
	{0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,0},           /* ::1:0:0 */
	{0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff},
	{0x12,0x34,0x56,0x78,0x9a,0xbc,0xde,0xf0,0x0f,0xed,0xcb,0xa9,0x87,0x65,0x43,0x21},
	{0,0,0,1,0,0,0,0,0,0,0,0,0,0,0,0},           /* 0:1:: */
	{0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,1},           /* 1::1 */
	{0,0,0,0,0,0,0,0,0,0,0,0,0x0a,0,0,1},        /* ::10.0.0.1 */
};

static void ntop_one(int af, const void *src, const char *tag, int n)
{
	char dst[80];
	const char *r;
	size_t full, len;
	memset(dst, 'Z', sizeof dst);
	r = evutil_inet_ntop(af, src, dst, sizeof dst);
	printf("%s[%d] len=%lu -> %s", tag, n, (unsigned long)sizeof dst,
	    r == dst ? "dst" : (r ? "other" : "NULL"));
	if (!r) {
		printf("\n");
		return;
	}
	printf(" \"%s\"\n", dst);
	full = strlen(dst);
	/* Too small by one and more (fails), room to spare (succeeds). */
	for (len = 0; len <= full + 2; ++len) {
		if (af == AF_INET6 && len == full)
			continue; /* intended difference, see the top comment */
		if (len > 2 && len + 2 < full)
			continue; /* keep the transcript short */
		memset(dst, 'Z', sizeof dst);
		r = evutil_inet_ntop(af, src, dst, len);
		printf("%s[%d] len=%lu -> %s", tag, n, (unsigned long)len,
		    r == dst ? "dst" : (r ? "other" : "NULL"));
		if (r)
			printf(" \"%s\"", dst);
		else if (af == AF_INET && len > 0)
			printf(" left \"%s\"", dst);
		printf("\n");
	}
}

static void run_ntop(void)
{
	size_t i;
	char dst[64];
	printf("== evutil_inet_ntop\n");
	for (i = 0; i < sizeof v4_samples / sizeof v4_samples[0]; ++i)
		ntop_one(AF_INET, v4_samples[i], "ntop4", (int)i);
	for (i = 0; i < sizeof v6_samples / sizeof v6_samples[0]; ++i)
		ntop_one(AF_INET6, v6_samples[i], "ntop6", (int)i);
	printf("ntop AF_UNIX -> %s\n",
	    evutil_inet_ntop(AF_UNIX, v4_samples[1], dst, sizeof dst) ? "dst" : "NULL");
}

/* ------------------------------------------------------------------ */
/* evutil_parse_sockaddr_port */

static void describe_sockaddr(const struct sockaddr_storage *ss)
{
	char text[INET6_ADDRSTRLEN];
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
		printf("AF_INET %s port %u", text, (unsigned)ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
		printf("AF_INET6 %s port %u scope %lu flow %lu", text,
		    (unsigned)ntohs(sin6->sin6_port),
		    (unsigned long)sin6->sin6_scope_id,
		    (unsigned long)sin6->sin6_flowinfo);
	} else {
		printf("family %d", (int)ss->ss_family);
	}
}

static const char *const parse_inputs[] = {
	"1.2.3.4", "1.2.3.4:80", "1.2.3.4:1", "1.2.3.4:65535", "0.0.0.0:8080",
	"255.255.255.255:443",
	"1.2.3.4:65536", "1.2.3.4:0", "1.2.3.4:", "1.2.3.4:-80", "1.2.3.4:+80",
	"1.2.3.4: 80", "1.2.3.4:\t80", "1.2.3.4:80abc", "1.2.3.4:80 ",
	"1.2.3.4:0080", "1.2.3.4:0x50", "1.2.3.4:4294967376", "1.2.3.4:4294967296",
	"1.2.3.4:99999999999999999999", "1.2.3.4:-4294967216", "1.2.3.4:abc",
	"1.2.3.4:80:90", "1.2.3:80", "256.2.3.4:80", " 1.2.3.4:80", "1.2.3.4 :80",
	"[::1]", "[::1]:80", "[::1]:65535", "[::1]:", "[::1]:0", "[::1]:65536",
	"[::1]x", "[::1]:80x", "[::1]80", "[::1]]:80", "[::1", "[::1]:-1",
	"[[::1]]", "[]", "[]:80", "[ ::1]", "[::1 ]",
	"::1", "::", "::1:80", "1::", "2001:db8::1", "2001:db8::1:443",
	"::ffff:1.2.3.4", "[::ffff:1.2.3.4]:443", "[::1.2.3.4]:1",
	"[1.2.3.4]:80", "[1.2.3.4]", "1:80", ":80", ":", "", "localhost",
	"localhost:80", "example.com:80", "[fe80::1%lo]:80", "fe80::1%lo",
	"[fe80::1%2]", "[fe80::1%]", "[fe80::1%no-such-if]:80", "[::1%1]:80",
	"1.2.3.4%lo:80", "[::ffff:1.2.3.4:80]", "1.2.3.4\n:80",
	NULL
};

static void parse_one(const char *label_or_null, const char *input, int outlen_in)
{
	struct sockaddr_storage ss;
	int outlen = outlen_in;
	int r;
	size_t k, untouched = 0, zero_tail = 0;
	memset(&ss, 0xaa, sizeof ss);
	r = evutil_parse_sockaddr_port(input, (struct sockaddr *)&ss, &outlen);
	printf("parse ");
	if (label_or_null)
		printf("%s", label_or_null);
	else
		put_escaped(input);
	printf(" outlen=%d -> %d outlen=%d", outlen_in, r, outlen);
	if (r == 0) {
		size_t used = (size_t)outlen;
		printf(" ");
		describe_sockaddr(&ss);
		/* Bytes past the address: cleared up to outlen_in, kept after. */
		for (k = used; k < sizeof ss; ++k) {
			const unsigned char b = ((const unsigned char *)&ss)[k];
			if (b == 0xaa)
				++untouched;
			else if (b == 0)
				++zero_tail;
		}
		printf(" tail zero=%lu kept=%lu", (unsigned long)zero_tail,
		    (unsigned long)untouched);
	} else {
		for (k = 0; k < sizeof ss; ++k)
			if (((const unsigned char *)&ss)[k] == 0xaa)
				++untouched;
		printf(" out %s", untouched == sizeof ss ? "untouched" : "MODIFIED");
	}
	printf("\n");
}

static void run_parse(void)
{
	size_t i;
	char big[300];
	const int full = (int)sizeof(struct sockaddr_storage);
	const int in4 = (int)sizeof(struct sockaddr_in);
	const int in6 = (int)sizeof(struct sockaddr_in6);
	printf("== evutil_parse_sockaddr_port\n");
	for (i = 0; parse_inputs[i]; ++i)
		parse_one(NULL, parse_inputs[i], full);

	printf("== evutil_parse_sockaddr_port outlen\n");
	parse_one(NULL, "1.2.3.4:80", in4 - 1);
	parse_one(NULL, "1.2.3.4:80", in4);
	parse_one(NULL, "1.2.3.4:80", in4 + 4);
	parse_one(NULL, "1.2.3.4:80", 0);
	parse_one(NULL, "1.2.3.4:80", -1);
	parse_one(NULL, "[::1]:80", in4);
	parse_one(NULL, "[::1]:80", in6 - 1);
	parse_one(NULL, "[::1]:80", in6);
	parse_one(NULL, "[::1]:80", in6 + 4);
	parse_one(NULL, "::1", in6 - 1);
	/* A malformed address fails before the size is looked at. */
	parse_one(NULL, "1.2.3.4:99999", 0);
	parse_one(NULL, "1.2.3.999", 0);

	printf("== evutil_parse_sockaddr_port lengths\n");
	/* An address part of 127 characters is copied, 128 is refused. */
	memset(big, ' ', sizeof big);
	strcpy(big + 120, "1.2.3.4:80");   /* 127 chars before ':' */
	parse_one(NULL, big, full);
	memset(big, ' ', sizeof big);
	strcpy(big + 121, "1.2.3.4:80");   /* 128 chars before ':' */
	parse_one(NULL, big, full);
	memset(big, ' ', sizeof big);
	strcpy(big + 200, "1.2.3.4");      /* no port: no copy, no limit */
	parse_one(NULL, big, full);
	/* Leading zeros in the IPv4 tail make long valid IPv6 text. */
	memset(big, '0', sizeof big);
	memcpy(big, "[::1.2.3.", 9);
	strcpy(big + 1 + 126, "4]:80");    /* 127 chars in brackets */
	parse_one(NULL, big, full);
	memset(big, '0', sizeof big);
	memcpy(big, "[::1.2.3.", 9);
	strcpy(big + 1 + 127, "4]:80");    /* 128 chars in brackets */
	parse_one(NULL, big, full);
	memset(big, '0', sizeof big);
	memcpy(big, "::1.2.3.", 8);
	strcpy(big + 250, "4");            /* no brackets: no limit */
	parse_one(NULL, big, full);
}

/* ------------------------------------------------------------------ */
/* evutil_sockaddr_cmp */

static struct sockaddr_storage mk4(const char *a, unsigned port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	memset(&ss, 0, sizeof ss);
	sin->sin_family = AF_INET;
	sin->sin_port = htons((unsigned short)port);
	inet_pton(AF_INET, a, &sin->sin_addr);
	return ss;
}

static struct sockaddr_storage mk6(const char *a, unsigned port, unsigned scope)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	memset(&ss, 0, sizeof ss);
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((unsigned short)port);
	sin6->sin6_scope_id = scope;
	inet_pton(AF_INET6, a, &sin6->sin6_addr);
	return ss;
}

static void cmp_pair(const char *what, struct sockaddr_storage a,
    struct sockaddr_storage b)
{
	const struct sockaddr *pa = (const struct sockaddr *)&a;
	const struct sockaddr *pb = (const struct sockaddr *)&b;
	printf("cmp %s: noport %s/%s port %s/%s\n", what,
	    sign_name(evutil_sockaddr_cmp(pa, pb, 0)),
	    sign_name(evutil_sockaddr_cmp(pb, pa, 0)),
	    sign_name(evutil_sockaddr_cmp(pa, pb, 1)),
	    sign_name(evutil_sockaddr_cmp(pb, pa, 1)));
}

static void run_cmp(void)
{
	struct sockaddr_storage u1, u2;
	printf("== evutil_sockaddr_cmp\n");
	cmp_pair("1.2.3.4:80 vs same", mk4("1.2.3.4", 80), mk4("1.2.3.4", 80));
	cmp_pair("1.2.3.4:80 vs :81", mk4("1.2.3.4", 80), mk4("1.2.3.4", 81));
	cmp_pair("1.2.3.4:255 vs :256", mk4("1.2.3.4", 255), mk4("1.2.3.4", 256));
	cmp_pair("1.2.3.4:1 vs :65535", mk4("1.2.3.4", 1), mk4("1.2.3.4", 65535));
	cmp_pair("1.2.3.4 vs 1.2.3.5", mk4("1.2.3.4", 80), mk4("1.2.3.5", 80));
	cmp_pair("1.0.0.2 vs 2.0.0.1", mk4("1.0.0.2", 1), mk4("2.0.0.1", 1));
	cmp_pair("1.2.3.4:9 vs 1.2.3.5:1", mk4("1.2.3.4", 9), mk4("1.2.3.5", 1));
	cmp_pair("0.0.0.0 vs 255.255.255.255", mk4("0.0.0.0", 0), mk4("255.255.255.255", 0));
	cmp_pair("::1 vs ::1", mk6("::1", 80, 0), mk6("::1", 80, 0));
	cmp_pair("::1 vs ::2", mk6("::1", 80, 0), mk6("::2", 80, 0));
	cmp_pair("::1:80 vs ::1:81", mk6("::1", 80, 0), mk6("::1", 81, 0));
	cmp_pair("::1:255 vs ::1:256", mk6("::1", 255, 0), mk6("::1", 256, 0));
	cmp_pair("1:: vs ::1", mk6("1::", 1, 0), mk6("::1", 1, 0));
	cmp_pair("ff00:: vs 100::", mk6("ff00::", 1, 0), mk6("100::", 1, 0));
	cmp_pair("fe80::1%1 vs %2", mk6("fe80::1", 1, 1), mk6("fe80::1", 1, 2));
	cmp_pair("1.2.3.4 vs ::ffff:1.2.3.4", mk4("1.2.3.4", 1), mk6("::ffff:1.2.3.4", 1, 0));
	cmp_pair("0.0.0.0 vs ::", mk4("0.0.0.0", 0), mk6("::", 0, 0));
	memset(&u1, 0, sizeof u1);
	memset(&u2, 0, sizeof u2);
	((struct sockaddr_un *)&u1)->sun_family = AF_UNIX;
	((struct sockaddr_un *)&u2)->sun_family = AF_UNIX;
	cmp_pair("AF_UNIX vs same AF_UNIX", u1, u2);
	cmp_pair("AF_UNIX vs 1.2.3.4", u1, mk4("1.2.3.4", 1));
}

/* ------------------------------------------------------------------ */
/* evutil_strtoll */

static const struct {
	const char *s;
	int base;
} strtoll_inputs[] = {
	{"0", 10}, {"123", 10}, {"-123", 10}, {"  +42", 10}, {"\t\n-7x", 10},
	{"9223372036854775807", 10}, {"9223372036854775808", 10},
	{"-9223372036854775808", 10}, {"-9223372036854775809", 10},
	{"99999999999999999999999", 10}, {"0x1f", 16}, {"0X1F", 0}, {"1f", 16},
	{"0x", 16}, {"0xg", 16}, {"017", 0}, {"017", 10}, {"08", 0}, {"z", 36},
	{"ZZ", 36}, {"12abc", 10}, {"", 10}, {"   ", 10}, {"-", 10}, {"+", 10},
	{"1", 1}, {"1", 37}, {"1", -1}, {"7fffffffffffffff", 16},
	{"8000000000000000", 16}, {"-8000000000000000", 16}, {"101", 2},
	{"1 2", 10}, {"--1", 10},
};

static void run_strtoll(void)
{
	size_t i;
	printf("== evutil_strtoll\n");
	for (i = 0; i < sizeof strtoll_inputs / sizeof strtoll_inputs[0]; ++i) {
		char *end = NULL;
		ev_int64_t v;
		int e;
		const int base = strtoll_inputs[i].base;
		/* With an invalid base the C library leaves *endptr unset (and
		 * sanitizer interceptors may then store garbage): no endptr. */
		const int valid_base = base == 0 || (base >= 2 && base <= 36);
		errno = 0;
		v = evutil_strtoll(strtoll_inputs[i].s, valid_base ? &end : NULL, base);
		e = errno;
		printf("strtoll ");
		put_escaped(strtoll_inputs[i].s);
		printf(" base %d -> %lld end+%ld errno=%s\n", strtoll_inputs[i].base,
		    (long long)v, end ? (long)(end - strtoll_inputs[i].s) : -1L,
		    errno_name(e));
	}
	errno = 0;
	printf("strtoll \"42\" NULL endptr -> %lld errno=%s\n",
	    (long long)evutil_strtoll("42", NULL, 10), errno_name(errno));
}

/* ------------------------------------------------------------------ */
/* evutil_snprintf / evutil_vsnprintf */

static int via_vsnprintf(char *buf, size_t len, const char *fmt, ...)
{
	int r;
	va_list ap;
	va_start(ap, fmt);
	r = evutil_vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return r;
}

static void show_buf(const char *what, size_t len, int r, const char *buf,
    size_t buflen)
{
	size_t i;
	printf("%s buflen=%lu -> %d \"", what, (unsigned long)len, r);
	for (i = 0; i < buflen; ++i) {
		if (buf[i] == '\0') {
			printf("\\0");
			continue;
		}
		putchar(buf[i]);
	}
	printf("\"\n");
}

static void run_snprintf(void)
{
	static const size_t lens[] = {0, 1, 2, 5, 6, 7, 12};
	char buf[12];
	size_t i;
	printf("== evutil_snprintf\n");
	for (i = 0; i < sizeof lens / sizeof lens[0]; ++i) {
		int r;
		memset(buf, '#', sizeof buf);
		r = evutil_snprintf(buf, lens[i], "%d", 12345);
		show_buf("snprintf %d 12345", lens[i], r, buf, sizeof buf);
		memset(buf, '#', sizeof buf);
		r = evutil_snprintf(buf, lens[i], "%s-%c", "hello", 'x');
		show_buf("snprintf %s-%c", lens[i], r, buf, sizeof buf);
		memset(buf, '#', sizeof buf);
		r = via_vsnprintf(buf, lens[i], "%lld|%5.2f", -9000000000LL, 3.14159);
		show_buf("vsnprintf %lld|%5.2f", lens[i], r, buf, sizeof buf);
		memset(buf, '#', sizeof buf);
		r = evutil_snprintf(buf, lens[i], "%s", "");
		show_buf("snprintf empty", lens[i], r, buf, sizeof buf);
	}
	printf("snprintf NULL,0 -> %d\n", evutil_snprintf(NULL, 0, "%s", "abc"));
	{
		char big[300];
		int r = evutil_snprintf(big, sizeof big, "%0250d", 7);
		printf("snprintf %%0250d -> %d len %lu\n", r, (unsigned long)strlen(big));
	}
}

/* ------------------------------------------------------------------ */
/* evutil_ascii_strcasecmp / evutil_ascii_strncasecmp */

static const char *const case_pairs[][2] = {
	{"abc", "ABC"}, {"abc", "abd"}, {"ABD", "abc"}, {"a", "ab"}, {"ab", "a"},
	{"", ""}, {"", "a"}, {"Hello World", "hELLO wORLD"}, {"Z", "a"},
	{"[", "a"}, {"[", "A"}, {"_", "a"}, {"@", "`"}, {"\xc0", "\xe0"},
	{"\x80", "a"}, {"a", "\xff"}, {"\xc9t\xc9", "\xe9T\xe9"},
	{"content-length", "Content-Length"}, {"abc\0xyz", "ABC\0def"},
	{"123", "123"}, {"a1", "A2"},
};

static void run_case(void)
{
	size_t i, n;
	printf("== evutil_ascii_strcasecmp / strncasecmp\n");
	for (i = 0; i < sizeof case_pairs / sizeof case_pairs[0]; ++i) {
		const char *a = case_pairs[i][0], *b = case_pairs[i][1];
		printf("casecmp ");
		put_escaped(a);
		printf(" ");
		put_escaped(b);
		printf(" -> %d/%d n:", evutil_ascii_strcasecmp(a, b),
		    evutil_ascii_strcasecmp(b, a));
		for (n = 0; n <= 4; ++n)
			printf(" %d", evutil_ascii_strncasecmp(a, b, n));
		printf(" %d\n", evutil_ascii_strncasecmp(a, b, (size_t)-1));
	}
}

/* ------------------------------------------------------------------ */
/* evutil_timer* macros */

static void show_tv(const char *what, const struct timeval *tv)
{
	printf("%s %ld.%06ld\n", what, (long)tv->tv_sec, (long)tv->tv_usec);
}

static void run_timer(void)
{
	static const struct {
		long s1, u1, s2, u2;
	} pairs[] = {
		{1, 0, 1, 0}, {1, 1, 1, 2}, {1, 999999, 2, 0}, {2, 0, 1, 999999},
		{0, 500000, 0, 500000}, {0, 0, 0, 1}, {-1, 500000, 0, 0},
		{5, 999999, 5, 999999}, {3, 0, 4, 0},
	};
	size_t i;
	printf("== evutil_timer*\n");
	for (i = 0; i < sizeof pairs / sizeof pairs[0]; ++i) {
		struct timeval a, b, c;
		a.tv_sec = pairs[i].s1;
		a.tv_usec = pairs[i].u1;
		b.tv_sec = pairs[i].s2;
		b.tv_usec = pairs[i].u2;
		printf("timercmp %ld.%06ld vs %ld.%06ld: < %d <= %d == %d != %d >= %d > %d\n",
		    pairs[i].s1, pairs[i].u1, pairs[i].s2, pairs[i].u2,
		    evutil_timercmp(&a, &b, <) ? 1 : 0,
		    evutil_timercmp(&a, &b, <=) ? 1 : 0,
		    evutil_timercmp(&a, &b, ==) ? 1 : 0,
		    evutil_timercmp(&a, &b, !=) ? 1 : 0,
		    evutil_timercmp(&a, &b, >=) ? 1 : 0,
		    evutil_timercmp(&a, &b, >) ? 1 : 0);
		evutil_timeradd(&a, &b, &c);
		show_tv("  timeradd", &c);
		evutil_timersub(&a, &b, &c);
		show_tv("  timersub", &c);
		evutil_timersub(&b, &a, &c);
		show_tv("  timersub reversed", &c);
		printf("  timerisset %d %d\n", evutil_timerisset(&a) ? 1 : 0,
		    evutil_timerisset(&b) ? 1 : 0);
	}
	{
		struct timeval a;
		a.tv_sec = 3;
		a.tv_usec = 4;
		evutil_timeradd(&a, &a, &a); /* aliasing */
		show_tv("timeradd aliased", &a);
		evutil_timerclear(&a);
		show_tv("timerclear", &a);
		printf("timerisset after clear %d\n", evutil_timerisset(&a) ? 1 : 0);
	}
}


/* ------------------------------------------------------------------ */
/* Every name util.h declares, and the values of its constants. Naming
 * each one here makes both builds prove that the header declares it
 * (C99 has no implicit declarations; warnings are errors). */

struct name_value {
	const char *name;
	long value;
};

#define NV(x) { #x, (long)(x) }
static const struct name_value util_constants[] = {
	NV(EVUTIL_EAI_ADDRFAMILY), NV(EVUTIL_EAI_AGAIN), NV(EVUTIL_EAI_BADFLAGS),
	NV(EVUTIL_EAI_FAIL), NV(EVUTIL_EAI_FAMILY), NV(EVUTIL_EAI_MEMORY),
	NV(EVUTIL_EAI_NODATA), NV(EVUTIL_EAI_NONAME), NV(EVUTIL_EAI_SERVICE),
	NV(EVUTIL_EAI_SOCKTYPE), NV(EVUTIL_EAI_SYSTEM), NV(EVUTIL_EAI_CANCEL),
	NV(EVUTIL_AI_PASSIVE), NV(EVUTIL_AI_CANONNAME), NV(EVUTIL_AI_NUMERICHOST),
	NV(EVUTIL_AI_NUMERICSERV), NV(EVUTIL_AI_V4MAPPED), NV(EVUTIL_AI_ALL),
	NV(EVUTIL_AI_ADDRCONFIG), NV(EV_MONOT_PRECISE), NV(EV_MONOT_FALLBACK),
	NV(EVUTIL_INVALID_SOCKET), NV(EV_INT8_MIN), NV(EV_INT8_MAX),
	NV(EV_UINT8_MAX), NV(EV_INT16_MIN), NV(EV_INT16_MAX), NV(EV_UINT16_MAX),
	NV(EV_INT32_MIN), NV(EV_INT32_MAX), NV(EV_UINT32_MAX),
	NV(EV_INT64_MIN), NV(EV_INT64_MAX), NV(EV_SSIZE_MIN), NV(EV_SSIZE_MAX),
	NV(sizeof(ev_uint64_t)), NV(sizeof(ev_int64_t)), NV(sizeof(ev_uint32_t)),
	NV(sizeof(ev_int32_t)), NV(sizeof(ev_uint16_t)), NV(sizeof(ev_int16_t)),
	NV(sizeof(ev_uint8_t)), NV(sizeof(ev_int8_t)), NV(sizeof(ev_uintptr_t)),
	NV(sizeof(ev_intptr_t)), NV(sizeof(ev_ssize_t)), NV(sizeof(ev_off_t)),
	NV(sizeof(ev_socklen_t)), NV(sizeof(evutil_socket_t)),
	NV(sizeof(struct evutil_addrinfo)),
	NV(evutil_offsetof(struct evutil_addrinfo, ai_next)),
};
#undef NV

/* Calls or names every function (some are macros in libevent's Linux
 * build, so they are called, inside sizeof where they must not run). */
static void use_util_functions(void)
{
	struct timeval tv;
	struct evutil_monotonic_timer *(*mt_new)(void) = evutil_monotonic_timer_new;
	void (*mt_free)(struct evutil_monotonic_timer *) = evutil_monotonic_timer_free;
	int (*mt_conf)(struct evutil_monotonic_timer *, int) = evutil_configure_monotonic_time;
	int (*mt_get)(struct evutil_monotonic_timer *, struct timeval *) = evutil_gettime_monotonic;
	int (*date)(char *, const size_t, const struct tm *) = evutil_date_rfc1123;
	int (*gai)(const char *, const char *, const struct evutil_addrinfo *,
	    struct evutil_addrinfo **) = evutil_getaddrinfo;
	void (*freeai)(struct evutil_addrinfo *) = evutil_freeaddrinfo;
	const char *(*gai_str)(int) = evutil_gai_strerror;
	void (*rng_get)(void *, size_t) = evutil_secure_rng_get_bytes;
	int (*rng_init)(void) = evutil_secure_rng_init;
	int (*rng_file)(char *) = evutil_secure_rng_set_urandom_device_file;
	int (*pair)(int, int, int, evutil_socket_t[2]) = evutil_socketpair;
	int (*nb)(evutil_socket_t) = evutil_make_socket_nonblocking;
	int (*reuse)(evutil_socket_t) = evutil_make_listen_socket_reuseable;
	int (*reuse_port)(evutil_socket_t) = evutil_make_listen_socket_reuseable_port;
	int (*v6only)(evutil_socket_t) = evutil_make_listen_socket_ipv6only;
	int (*cloexec)(evutil_socket_t) = evutil_make_socket_closeonexec;
	int (*closes)(evutil_socket_t) = evutil_closesocket;
	int (*deferred)(evutil_socket_t) = evutil_make_tcp_listen_socket_deferred;
	ev_int64_t (*to_ll)(const char *, char **, int) = evutil_strtoll;
	int (*sn)(char *, size_t, const char *, ...) = evutil_snprintf;
	int (*vsn)(char *, size_t, const char *, va_list) = evutil_vsnprintf;
	const char *(*ntop)(int, const void *, char *, size_t) = evutil_inet_ntop;
	int (*pton_s)(int, const char *, void *, unsigned *) = evutil_inet_pton_scope;
	int (*pton)(int, const char *, void *) = evutil_inet_pton;
	int (*parse)(const char *, struct sockaddr *, int *) = evutil_parse_sockaddr_port;
	int (*cmp)(const struct sockaddr *, const struct sockaddr *, int) = evutil_sockaddr_cmp;
	int (*cc)(const char *, const char *) = evutil_ascii_strcasecmp;
	int (*ncc)(const char *, const char *, size_t) = evutil_ascii_strncasecmp;
	size_t n = 0;
	n += sizeof evutil_socket_geterror(0);
	n += sizeof evutil_socket_error_to_string(0);
	n += sizeof evutil_gettimeofday(&tv, NULL);
	n += sizeof EVUTIL_SOCKET_ERROR();
	n += sizeof EVUTIL_CLOSESOCKET(-1);
#ifdef EVASIO_EVENT2_UTIL_H_INCLUDED_
	/* Declared by evasio, as by libevent's generic builds; Debian's
	 * header, configured for glibc's arc4random, leaves it out. */
	{
		void (*rng_add)(const char *, size_t) = evutil_secure_rng_add_bytes;
		n += rng_add != NULL;
	}
#endif
	n += mt_new != NULL && mt_free != NULL && mt_conf != NULL && mt_get != NULL;
	n += date != NULL && gai != NULL && freeai != NULL && gai_str != NULL;
	n += rng_get != NULL && rng_init != NULL && rng_file != NULL;
	n += pair != NULL && nb != NULL && reuse != NULL && reuse_port != NULL;
	n += v6only != NULL && cloexec != NULL && closes != NULL && deferred != NULL;
	n += to_ll != NULL && sn != NULL && vsn != NULL && ntop != NULL;
	n += pton_s != NULL && pton != NULL && parse != NULL && cmp != NULL;
	n += cc != NULL && ncc != NULL;
	printf("functions named: %s\n", n > 0 ? "yes" : "no");
}

static void run_names(void)
{
	size_t i;
	printf("== util.h names\n");
	for (i = 0; i < sizeof util_constants / sizeof util_constants[0]; ++i)
		printf("%s = %ld\n", util_constants[i].name, util_constants[i].value);
	use_util_functions();
}

/* ------------------------------------------------------------------ */
/* evutil_getaddrinfo, evutil_gai_strerror */

static const char *eai_name(int r)
{
	static const struct {
		int code;
		const char *name;
	} names[] = {
		{ 0, "0" },
		{ EVUTIL_EAI_ADDRFAMILY, "EAI_ADDRFAMILY" },
		{ EVUTIL_EAI_AGAIN, "EAI_AGAIN" },
		{ EVUTIL_EAI_BADFLAGS, "EAI_BADFLAGS" },
		{ EVUTIL_EAI_FAIL, "EAI_FAIL" },
		{ EVUTIL_EAI_FAMILY, "EAI_FAMILY" },
		{ EVUTIL_EAI_MEMORY, "EAI_MEMORY" },
		{ EVUTIL_EAI_NODATA, "EAI_NODATA" },
		{ EVUTIL_EAI_NONAME, "EAI_NONAME" },
		{ EVUTIL_EAI_SERVICE, "EAI_SERVICE" },
		{ EVUTIL_EAI_SOCKTYPE, "EAI_SOCKTYPE" },
		{ EVUTIL_EAI_SYSTEM, "EAI_SYSTEM" },
		{ EVUTIL_EAI_CANCEL, "EAI_CANCEL" },
	};
	size_t i;
	for (i = 0; i < sizeof names / sizeof names[0]; ++i)
		if (names[i].code == r)
			return names[i].name;
	return "?";
}

static void show_addrinfo(const struct evutil_addrinfo *ai)
{
	for (; ai; ai = ai->ai_next) {
		char text[INET6_ADDRSTRLEN] = "?";
		unsigned port = 0, scope = 0;
		if (ai->ai_addr && ai->ai_addr->sa_family == AF_INET) {
			const struct sockaddr_in *sin = (const void *)ai->ai_addr;
			inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
			port = ntohs(sin->sin_port);
		} else if (ai->ai_addr && ai->ai_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *sin6 = (const void *)ai->ai_addr;
			inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
			port = ntohs(sin6->sin6_port);
			scope = sin6->sin6_scope_id;
		}
		printf("  family %d socktype %d protocol %d flags %#x addrlen %lu"
		    " %s port %u scope %u canon %s\n", ai->ai_family,
		    ai->ai_socktype, ai->ai_protocol, (unsigned)ai->ai_flags,
		    (unsigned long)ai->ai_addrlen, text, port, scope,
		    ai->ai_canonname ? ai->ai_canonname : "(none)");
	}
}

/* Only names /etc/hosts answers, or numeric ones: nothing reaches DNS. */
static const struct {
	const char *node, *serv;
	int family, socktype, protocol, flags;
} gai_inputs[] = {
	{ "1.2.3.4", "8080", AF_UNSPEC, SOCK_STREAM, 0, 0 },
	{ "1001:b0b::f00f", "4321", AF_UNSPEC, 0, IPPROTO_UDP, 0 },
	{ "1.2.3.4", "80", AF_UNSPEC, 0, 0, 0 },
	{ "1.2.3.4", NULL, AF_UNSPEC, 0, 0, EVUTIL_AI_NUMERICHOST },
	{ NULL, "9999", AF_INET, 0, IPPROTO_TCP, EVUTIL_AI_PASSIVE },
	{ NULL, "9998", AF_INET, 0, IPPROTO_TCP, 0 },
	{ NULL, "9997", AF_INET6, 0, IPPROTO_TCP, 0 },
	{ NULL, "9996", AF_INET6, 0, IPPROTO_TCP, EVUTIL_AI_PASSIVE },
	{ NULL, "9996", AF_UNSPEC, 0, IPPROTO_TCP, EVUTIL_AI_PASSIVE },
	{ NULL, "80", AF_UNSPEC, 0, 0, 0 },
	{ NULL, "80", AF_UNSPEC, 0, 0, EVUTIL_AI_PASSIVE },
	{ NULL, "0", AF_INET, SOCK_DGRAM, 0, EVUTIL_AI_PASSIVE },
	{ "www.example.com", "80", AF_UNSPEC, 0, 0, EVUTIL_AI_NUMERICHOST },
	{ "1.2.3.4", "http", AF_UNSPEC, SOCK_STREAM, 0, EVUTIL_AI_NUMERICSERV },
	{ "1.2.3.4", "http", AF_UNSPEC, SOCK_STREAM, 0, 0 },
	{ "1.2.3.4", "http", AF_UNSPEC, SOCK_DGRAM, 0, 0 },
	{ "1.2.3.4", "no-such-service", AF_UNSPEC, SOCK_STREAM, 0, 0 },
	{ "1.2.3.4", "65535", AF_INET, SOCK_STREAM, 0, 0 },
	{ "1.2.3.4", "65536", AF_INET, SOCK_STREAM, 0, 0 },
	{ "1.2.3.4", "-1", AF_INET, SOCK_STREAM, 0, 0 },
	{ "1.2.3.4", "", AF_INET, SOCK_STREAM, 0, 0 },
	{ "localhost", "80", AF_UNSPEC, SOCK_STREAM, 0, 0 },
	{ "localhost", NULL, AF_INET, 0, 0, EVUTIL_AI_CANONNAME },
	{ "LocalHost", "80", AF_INET, SOCK_STREAM, 0, 0 },
	{ "vm", "443", AF_INET, SOCK_STREAM, 0, EVUTIL_AI_CANONNAME },
	{ "1.2.3.4", "80", AF_INET, SOCK_STREAM, 0, EVUTIL_AI_CANONNAME },
	{ "127.0.0.1", "80", AF_UNSPEC, SOCK_STREAM, 0,
	  EVUTIL_AI_PASSIVE | EVUTIL_AI_ADDRCONFIG },
	{ "::1", "80", AF_UNSPEC, SOCK_STREAM, 0,
	  EVUTIL_AI_PASSIVE | EVUTIL_AI_ADDRCONFIG },
	{ "1.2.3.4", "80", AF_INET6, SOCK_STREAM, 0, 0 },
	{ "1.2.3.4", "80", AF_INET6, SOCK_STREAM, 0, EVUTIL_AI_V4MAPPED },
	{ "1.2.3.4", "80", AF_INET6, SOCK_STREAM, 0,
	  EVUTIL_AI_V4MAPPED | EVUTIL_AI_ALL },
	{ "::ffff:1.2.3.4", "80", AF_INET, SOCK_STREAM, 0, 0 },
	{ "0x7f.1", "80", AF_INET, SOCK_STREAM, 0, EVUTIL_AI_NUMERICHOST },
	{ "1.2.3", "80", AF_INET, SOCK_STREAM, 0, EVUTIL_AI_NUMERICHOST },
	{ "256.1.1.1", "80", AF_INET, SOCK_STREAM, 0, EVUTIL_AI_NUMERICHOST },
	{ "[::1]", "80", AF_UNSPEC, SOCK_STREAM, 0, EVUTIL_AI_NUMERICHOST },
	{ "fe80::1%1", "80", AF_INET6, SOCK_STREAM, 0, EVUTIL_AI_NUMERICHOST },
	{ "", "80", AF_UNSPEC, SOCK_STREAM, 0, EVUTIL_AI_NUMERICHOST },
	/* bad input */
	{ NULL, NULL, AF_UNSPEC, 0, 0, 0 },
	{ NULL, NULL, AF_UNSPEC, 0, 0, EVUTIL_AI_PASSIVE },
	{ "1.2.3.4", "80", 12345, 0, 0, 0 },
	{ "1.2.3.4", "80", AF_UNIX, 0, 0, 0 },
	{ "1.2.3.4", "80", AF_UNSPEC, 12345, 0, 0 },
	{ "1.2.3.4", "80", AF_UNSPEC, SOCK_DGRAM, IPPROTO_TCP, 0 },
	{ "1.2.3.4", "80", AF_UNSPEC, 0, 12345, 0 },
	{ "1.2.3.4", "80", AF_UNSPEC, 0, 0, 0x40000000 },
	{ "1.2.3.4", "80", AF_UNSPEC, 0, 0, -1 },
	{ NULL, "80", AF_UNSPEC, 0, 0, EVUTIL_AI_CANONNAME },
};

static void run_getaddrinfo(void)
{
	size_t i;
	printf("== evutil_getaddrinfo\n");
	for (i = 0; i < sizeof gai_inputs / sizeof gai_inputs[0]; ++i) {
		struct evutil_addrinfo hints, *ai = NULL;
		int r;
		memset(&hints, 0, sizeof hints);
		hints.ai_family = gai_inputs[i].family;
		hints.ai_socktype = gai_inputs[i].socktype;
		hints.ai_protocol = gai_inputs[i].protocol;
		hints.ai_flags = gai_inputs[i].flags;
		r = evutil_getaddrinfo(gai_inputs[i].node, gai_inputs[i].serv,
		    &hints, &ai);
		printf("%s %s family %d socktype %d protocol %d flags %#x -> %s\n",
		    gai_inputs[i].node ? gai_inputs[i].node : "NULL",
		    gai_inputs[i].serv ? gai_inputs[i].serv : "NULL",
		    hints.ai_family, hints.ai_socktype, hints.ai_protocol,
		    (unsigned)hints.ai_flags, eai_name(r));
		if (r == 0)
			show_addrinfo(ai);
		else
			printf("  list %s\n", ai ? "set" : "NULL");
		if (ai)
			evutil_freeaddrinfo(ai);
	}
	{
		/* No hints: AF_UNSPEC, no flags (no glibc default). */
		struct evutil_addrinfo *ai = NULL;
		int r = evutil_getaddrinfo("127.0.0.1", "80", NULL, &ai);
		printf("127.0.0.1 80 no hints -> %s\n", eai_name(r));
		if (r == 0) {
			show_addrinfo(ai);
			evutil_freeaddrinfo(ai);
		}
		r = evutil_getaddrinfo(NULL, "http", NULL, &ai);
		printf("NULL http no hints -> %s\n", eai_name(r));
		if (r == 0) {
			show_addrinfo(ai);
			evutil_freeaddrinfo(ai);
		}
	}
}

static void run_gai_strerror(void)
{
	static const int codes[] = {
		0, EVUTIL_EAI_ADDRFAMILY, EVUTIL_EAI_AGAIN, EVUTIL_EAI_BADFLAGS,
		EVUTIL_EAI_FAIL, EVUTIL_EAI_FAMILY, EVUTIL_EAI_MEMORY,
		EVUTIL_EAI_NODATA, EVUTIL_EAI_NONAME, EVUTIL_EAI_SERVICE,
		EVUTIL_EAI_SOCKTYPE, EVUTIL_EAI_SYSTEM, EVUTIL_EAI_CANCEL,
		-901, -907, -12, -100, -101, -102, -103, -104, -105, 1, 12345,
		INT_MIN, INT_MAX,
	};
	size_t i;
	printf("== evutil_gai_strerror\n");
	for (i = 0; i < sizeof codes / sizeof codes[0]; ++i)
		printf("%d: %s\n", codes[i], evutil_gai_strerror(codes[i]));
}

/* ------------------------------------------------------------------ */
/* evutil_date_rfc1123, monotonic timers, the secure RNG's results */

static void run_date(void)
{
	static const long long times[] = {
		0, 946684799, 946684800, 981072000, 1456704000, 1481866376,
		4294967296LL, 253402300799LL, -1, -86400LL * 365 * 100,
	};
	static const size_t lens[] = { 0, 1, 8, 29, 30, 64 };
	size_t i, j;
	printf("== evutil_date_rfc1123\n");
	for (i = 0; i < sizeof times / sizeof times[0]; ++i) {
		time_t t = (time_t)times[i];
		struct tm tm;
		gmtime_r(&t, &tm);
		for (j = 0; j < sizeof lens / sizeof lens[0]; ++j) {
			char out[64];
			int r;
			memset(out, '#', sizeof out);
			out[sizeof out - 1] = '\0';
			r = evutil_date_rfc1123(out, lens[j], &tm);
			printf("%lld len %lu -> %d \"%s\"\n", times[i],
			    (unsigned long)lens[j], r, lens[j] ? out : "");
		}
	}
	{
		struct tm tm;
		char out[64];
		memset(&tm, 0, sizeof tm);
		tm.tm_mday = 99;
		tm.tm_hour = -5;
		tm.tm_year = -1900;
		printf("odd fields -> %d", evutil_date_rfc1123(out, sizeof out, &tm));
		printf(" \"%s\"\n", out);
		printf("now -> %d\n", evutil_date_rfc1123(out, sizeof out, NULL));
	}
}

static void run_monotonic(void)
{
	static const int flag_sets[] = {
		0, EV_MONOT_PRECISE, EV_MONOT_FALLBACK,
		EV_MONOT_PRECISE | EV_MONOT_FALLBACK, 0x7ffffff0, -1,
	};
	size_t i;
	printf("== monotonic timers\n");
	for (i = 0; i < sizeof flag_sets / sizeof flag_sets[0]; ++i) {
		struct evutil_monotonic_timer *t = evutil_monotonic_timer_new();
		struct timeval a, b;
		int rc, r1, r2;
		if (!t) {
			printf("flags %#x: no timer\n", (unsigned)flag_sets[i]);
			continue;
		}
		rc = evutil_configure_monotonic_time(t, flag_sets[i]);
		r1 = evutil_gettime_monotonic(t, &a);
		r2 = evutil_gettime_monotonic(t, &b);
		printf("flags %#x: configure %d gettime %d %d ordered %d usec ok %d\n",
		    (unsigned)flag_sets[i], rc, r1, r2,
		    evutil_timercmp(&a, &b, <=) ? 1 : 0,
		    a.tv_usec >= 0 && a.tv_usec < 1000000);
		evutil_monotonic_timer_free(t);
	}
	evutil_monotonic_timer_free(NULL);
	printf("free(NULL) ok\n");
}

static void run_rng(void)
{
	unsigned char a[64], b[64];
	printf("== secure rng\n");
	printf("init %d\n", evutil_secure_rng_init());
	printf("init again %d\n", evutil_secure_rng_init());
	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	evutil_secure_rng_get_bytes(a, sizeof a);
	evutil_secure_rng_get_bytes(b, sizeof b);
	printf("two draws differ %d\n", memcmp(a, b, sizeof a) != 0);
	evutil_secure_rng_get_bytes(a, 0);
	printf("zero bytes ok\n");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("evutil_diff transcript\n");
	run_pton();
	run_pton_scope();
	run_ntop();
	run_parse();
	run_cmp();
	run_strtoll();
	run_snprintf();
	run_case();
	run_timer();
	run_names();
	run_getaddrinfo();
	run_gai_strerror();
	run_date();
	run_monotonic();
	run_rng();
	printf("end\n");
	return 0;
}

/* Differential transcript of event2/buffer.h: one C99 program, built once
 * against real libevent 2.1.12 and once against evasio, printing what the
 * evbuffer calls return: readln in every EOL style, search and search_eol
 * offsets, peek counts, pullup results, lengths, prepend, remove_buffer,
 * printf, reserve/commit, references and freezing; callbacks (what each
 * change tells them, their order, flags, removal, evbuffer_setcb, deferred
 * runs); prepend_buffer, copyout_from, add_iovec, add_buffer_reference;
 * files and file segments (their bytes, ranges, cleanup, sendfile to a
 * pipe).
 *
 * Nothing that depends on how an implementation sizes its chunks is printed:
 * chunk counts and contiguous space are shown only for buffers whose chunks
 * are fixed by construction (pieces spliced in with evbuffer_add_buffer, or
 * references), and reserved space only as "at least what was asked". The two
 * builds must print the same transcript; compare.cmake checks that. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <event2/buffer.h>
#include <event2/buffer_compat.h>
#include <event2/event.h>
#include <event2/util.h>

#include <fcntl.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

/* ------------------------------------------------------------------ */
/* Printing helpers. */

/* Prints n bytes quoted, with CR, LF and NUL escaped. */
static void show(const char *s, size_t n)
{
	size_t i;
	putchar('"');
	for (i = 0; i < n; ++i) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r')
			fputs("\\r", stdout);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\0')
			fputs("\\0", stdout);
		else if (c < 32 || c > 126)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* The whole content, read with evbuffer_peek (freezing does not stop it);
 * long contents are summarised by length and a checksum. */
static void content(const char *label, struct evbuffer *b)
{
	int n = evbuffer_peek(b, -1, NULL, NULL, 0), i;
	struct evbuffer_iovec *v = malloc(sizeof(*v) * (size_t)(n + 1));
	size_t total = 0;
	unsigned long sum = 5381;
	char *flat;
	if (!v) {
		printf("%s: out of memory\n", label);
		return;
	}
	evbuffer_peek(b, -1, NULL, v, n);
	for (i = 0; i < n; ++i)
		total += v[i].iov_len;
	flat = malloc(total + 1);
	if (!flat) {
		free(v);
		printf("%s: out of memory\n", label);
		return;
	}
	total = 0;
	for (i = 0; i < n; ++i) {
		memcpy(flat + total, v[i].iov_base, v[i].iov_len);
		total += v[i].iov_len;
	}
	printf("%s: len=%lu", label, (unsigned long)evbuffer_get_length(b));
	if (total <= 64) {
		printf(" content=");
		show(flat, total);
	} else {
		size_t k;
		for (k = 0; k < total; ++k)
			sum = (sum * 33) ^ (unsigned char)flat[k];
		printf(" peeked=%lu sum=%lx", (unsigned long)total, sum);
	}
	putchar('\n');
	free(flat);
	free(v);
}

/* Appends each piece as a chunk of its own. */
static struct evbuffer *chunks(const char *const *parts)
{
	struct evbuffer *b = evbuffer_new();
	for (; *parts; ++parts) {
		struct evbuffer *t = evbuffer_new();
		evbuffer_add(t, *parts, strlen(*parts));
		evbuffer_add_buffer(b, t);
		evbuffer_free(t);
	}
	return b;
}

static const char *style_name(int s)
{
	switch (s) {
	case EVBUFFER_EOL_ANY: return "ANY";
	case EVBUFFER_EOL_CRLF: return "CRLF";
	case EVBUFFER_EOL_CRLF_STRICT: return "CRLF_STRICT";
	case EVBUFFER_EOL_LF: return "LF";
	case EVBUFFER_EOL_NUL: return "NUL";
	default: return "invalid";
	}
}

/* ------------------------------------------------------------------ */
/* readln */

/* Reads every line of input in one style, then prints what is left. */
static void readln_all(const char *input, size_t len, int style)
{
	struct evbuffer *b = evbuffer_new();
	char *line;
	size_t n;
	evbuffer_add(b, input, len);
	printf("readln %s ", style_name(style));
	show(input, len);
	printf(" ->");
	for (;;) {
		n = 999;
		line = evbuffer_readln(b, &n, (enum evbuffer_eol_style)style);
		if (!line)
			break;
		printf(" ");
		show(line, n);
		printf("(%lu)", (unsigned long)strlen(line));
		free(line);
	}
	printf(" null_n=%lu rest=", (unsigned long)n);
	{
		char rest[64];
		size_t k = (size_t)evbuffer_copyout(b, rest, sizeof rest);
		show(rest, k);
	}
	putchar('\n');
	evbuffer_free(b);
}

static void sc_readln(void)
{
	static const struct { const char *s; size_t n; } inputs[] = {
		{ "a\r\n\r\nb\n", 7 },
		{ "a\rb\n\rc\r\nd", 10 },
		{ "x\n\r\ny", 5 },
		{ "ab\0cd\0e", 7 },
		{ "\r\n", 2 },
		{ "\r", 1 },
		{ "", 0 },
		{ "line\r\r\n", 7 },
		{ "\n\n\r\r", 4 },
		{ "no line end", 11 },
	};
	size_t i;
	int s;
	for (i = 0; i < sizeof inputs / sizeof inputs[0]; ++i)
		for (s = EVBUFFER_EOL_ANY; s <= EVBUFFER_EOL_NUL + 1; ++s)
			readln_all(inputs[i].s, inputs[i].n, s);
}

/* "abc\r" then "\ndef", added separately and as two chunks. */
static void sc_readln_split(void)
{
	static const char *const parts[] = { "abc\r", "\ndef", NULL };
	int s;
	for (s = EVBUFFER_EOL_ANY; s <= EVBUFFER_EOL_NUL; ++s) {
		struct evbuffer *b = evbuffer_new();
		char *l1, *l2, *l3;
		size_t n1, n2, n3;
		evbuffer_add(b, "abc\r", 4);
		l1 = evbuffer_readln(b, &n1, (enum evbuffer_eol_style)s);
		evbuffer_add(b, "\ndef", 4);
		l2 = evbuffer_readln(b, &n2, (enum evbuffer_eol_style)s);
		l3 = evbuffer_readln(b, &n3, (enum evbuffer_eol_style)s);
		printf("readln_split_adds %s:", style_name(s));
		printf(" first=");
		if (l1) show(l1, n1); else printf("null");
		printf(" second=");
		if (l2) show(l2, n2); else printf("null");
		printf(" third=");
		if (l3) show(l3, n3); else printf("null");
		printf(" len=%lu\n", (unsigned long)evbuffer_get_length(b));
		free(l1);
		free(l2);
		free(l3);
		evbuffer_free(b);

		b = chunks(parts);
		l1 = evbuffer_readln(b, &n1, (enum evbuffer_eol_style)s);
		printf("readln_split_chunks %s: line=", style_name(s));
		if (l1) show(l1, n1); else printf("null");
		printf(" len=%lu\n", (unsigned long)evbuffer_get_length(b));
		free(l1);
		evbuffer_free(b);
	}
}

/* ------------------------------------------------------------------ */
/* search, ptr_set, search_eol */

static void one_search(struct evbuffer *b, const char *what, long start, long end)
{
	struct evbuffer_ptr s, e, r;
	int rs = 0, re = 0;
	if (start >= 0)
		rs = evbuffer_ptr_set(b, &s, (size_t)start, EVBUFFER_PTR_SET);
	if (end >= 0)
		re = evbuffer_ptr_set(b, &e, (size_t)end, EVBUFFER_PTR_SET);
	if (end >= 0)
		r = evbuffer_search_range(b, what, strlen(what), start >= 0 ? &s : NULL, &e);
	else
		r = evbuffer_search(b, what, strlen(what), start >= 0 ? &s : NULL);
	printf("search ");
	show(what, strlen(what));
	printf(" start=%ld end=%ld set=%d,%d -> %ld\n", start, end, rs, re, (long)r.pos);
}

static void ptr_step(struct evbuffer *b, struct evbuffer_ptr *p, const char *name,
    size_t n, enum evbuffer_ptr_how how)
{
	int r = evbuffer_ptr_set(b, p, n, how);
	printf(" %s=%d pos=%ld", name, r, (long)p->pos);
}

static void sc_search(void)
{
	static const char *const parts[] = { "hel", "lo wo", "rld hello", "!", NULL };
	static const char *const words[] = { "hello", "lo w", "world", "o!", "!", "!x", "zzz", "l", "", NULL };
	static const long starts[] = { -1, 0, 1, 3, 5, 12, 13, 17, 18 };
	struct evbuffer *b = chunks(parts);
	struct evbuffer_ptr p;
	size_t i, j;
	long found;
	for (i = 0; words[i]; ++i)
		for (j = 0; j < sizeof starts / sizeof starts[0]; ++j)
			one_search(b, words[i], starts[j], -1);
	one_search(b, "hello", 0, 5);
	one_search(b, "hello", 0, 4);
	one_search(b, "hello", 1, 17);
	one_search(b, "hello", 1, 16);
	one_search(b, "rld", -1, 10);
	one_search(b, "wor", -1, 10);
	one_search(b, "o", 5, 2);
	one_search(b, "", 5, 2);

	printf("ptr_set:");
	ptr_step(b, &p, "set0", 0, EVBUFFER_PTR_SET);
	ptr_step(b, &p, "add3", 3, EVBUFFER_PTR_ADD);
	ptr_step(b, &p, "add15", 15, EVBUFFER_PTR_ADD);
	ptr_step(b, &p, "add1", 1, EVBUFFER_PTR_ADD);
	ptr_step(b, &p, "again", 1, EVBUFFER_PTR_ADD);
	ptr_step(b, &p, "set19", 19, EVBUFFER_PTR_SET);
	ptr_step(b, &p, "set18", 18, EVBUFFER_PTR_SET);
	putchar('\n');

	/* Every "l", walking with the result as the next start. */
	printf("search_walk \"l\":");
	p = evbuffer_search(b, "l", 1, NULL);
	for (found = 0; p.pos >= 0 && found < 32; ++found) {
		printf(" %ld", (long)p.pos);
		if (evbuffer_ptr_set(b, &p, 1, EVBUFFER_PTR_ADD) < 0)
			break;
		p = evbuffer_search(b, "l", 1, &p);
	}
	putchar('\n');
	evbuffer_free(b);
}

static void sc_search_eol(void)
{
	static const char *const parts[] = { "ab\r", "\ncd\n", "\r\r", "\n", NULL };
	static const long starts[] = { -1, 0, 2, 3, 4, 6, 7, 8, 9, 10 };
	struct evbuffer *b = chunks(parts);
	size_t j;
	int s;
	for (s = EVBUFFER_EOL_ANY; s <= EVBUFFER_EOL_NUL + 1; ++s) {
		printf("search_eol %s:", style_name(s));
		for (j = 0; j < sizeof starts / sizeof starts[0]; ++j) {
			struct evbuffer_ptr st, r;
			size_t len = 77;
			if (starts[j] >= 0)
				evbuffer_ptr_set(b, &st, (size_t)starts[j], EVBUFFER_PTR_SET);
			r = evbuffer_search_eol(b, starts[j] >= 0 ? &st : NULL, &len,
			    (enum evbuffer_eol_style)s);
			printf(" @%ld=%ld/%lu", starts[j], (long)r.pos, (unsigned long)len);
		}
		putchar('\n');
	}
	evbuffer_free(b);
}

/* ------------------------------------------------------------------ */
/* peek, pullup, contiguous space */

static void sc_peek(void)
{
	static const char *const parts[] = { "hel", "lo wo", "rld hello", "!", NULL };
	static const long lens[] = { -1, 0, 1, 3, 4, 8, 9, 17, 18, 100 };
	static const int nvecs[] = { 0, 1, 2, 8 };
	static const long starts[] = { -1, 0, 3, 4, 17, 18 };
	struct evbuffer *b = chunks(parts);
	struct evbuffer *e = evbuffer_new();
	struct evbuffer_iovec v[8];
	size_t i, j, k;
	for (k = 0; k < sizeof starts / sizeof starts[0]; ++k) {
		struct evbuffer_ptr st;
		if (starts[k] >= 0)
			evbuffer_ptr_set(b, &st, (size_t)starts[k], EVBUFFER_PTR_SET);
		printf("peek start=%ld:", starts[k]);
		for (i = 0; i < sizeof lens / sizeof lens[0]; ++i)
			for (j = 0; j < sizeof nvecs / sizeof nvecs[0]; ++j) {
				int n = evbuffer_peek(b, lens[i], starts[k] >= 0 ? &st : NULL,
				    nvecs[j] ? v : NULL, nvecs[j]);
				printf(" %ld/%d=%d", lens[i], nvecs[j], n);
			}
		putchar('\n');
	}
	printf("peek extents:");
	{
		int n = evbuffer_peek(b, -1, NULL, v, 8), i2;
		for (i2 = 0; i2 < n; ++i2) {
			putchar(' ');
			show(v[i2].iov_base, v[i2].iov_len);
		}
	}
	putchar('\n');
	printf("peek empty: all=%d len10=%d count=%d\n",
	    evbuffer_peek(e, -1, NULL, v, 8), evbuffer_peek(e, 10, NULL, v, 8),
	    evbuffer_peek(e, -1, NULL, NULL, 0));
	evbuffer_free(e);
	evbuffer_free(b);
}

static void sc_pullup(void)
{
	static const char *const parts[] = { "hel", "lo wo", "rld hello", "!", NULL };
	static const long sizes[] = { 2, 3, 5, 9, 19, 0, -1 };
	struct evbuffer *b = chunks(parts);
	struct evbuffer *e = evbuffer_new();
	size_t i;
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; ++i) {
		unsigned char *p = evbuffer_pullup(b, (ev_ssize_t)sizes[i]);
		size_t shown = sizes[i] < 0 ? evbuffer_get_length(b) : (size_t)sizes[i];
		printf("pullup %ld: ", sizes[i]);
		if (p)
			show((const char *)p, shown);
		else
			printf("null");
		printf(" contiguous=%lu chunks=%d len=%lu\n",
		    (unsigned long)evbuffer_get_contiguous_space(b),
		    evbuffer_peek(b, -1, NULL, NULL, 0),
		    (unsigned long)evbuffer_get_length(b));
	}
	printf("pullup empty: -1=%s 0=%s\n", evbuffer_pullup(e, -1) ? "ptr" : "null",
	    evbuffer_pullup(e, 0) ? "ptr" : "null");
	evbuffer_free(e);
	evbuffer_free(b);

	/* Large: many chunks, then all of it. */
	b = evbuffer_new();
	{
		char piece[777];
		int k;
		unsigned char *p;
		size_t total, bad = 0, m;
		for (k = 0; k < 130; ++k) {
			struct evbuffer *t = evbuffer_new();
			memset(piece, 'a' + k % 26, sizeof piece);
			evbuffer_add(t, piece, sizeof piece);
			evbuffer_add_buffer(b, t);
			evbuffer_free(t);
		}
		total = evbuffer_get_length(b);
		p = evbuffer_pullup(b, -1);
		for (m = 0; p && m < total; ++m)
			if (p[m] != (unsigned char)('a' + (m / 777) % 26))
				++bad;
		printf("pullup large: len=%lu ok=%s contiguous=%lu chunks=%d\n",
		    (unsigned long)total, p && !bad ? "yes" : "no",
		    (unsigned long)evbuffer_get_contiguous_space(b),
		    evbuffer_peek(b, -1, NULL, NULL, 0));
	}
	evbuffer_free(b);
}

/* ------------------------------------------------------------------ */
/* add, remove, drain, move, prepend, printf */

static void sc_basic(void)
{
	static const char *const parts[] = { "hel", "lo wo", "rld hello", "!", NULL };
	struct evbuffer *src = chunks(parts), *dst = evbuffer_new();
	char out[64];
	int r;
	ev_ssize_t c;

	memset(out, 0, sizeof out);
	c = evbuffer_copyout(src, out, 7);
	printf("copyout 7=%ld ", (long)c);
	show(out, 7);
	printf(" copyout0=%ld\n", (long)evbuffer_copyout(src, out, 0));

	evbuffer_add(dst, "D:", 2);
	r = evbuffer_remove_buffer(src, dst, 5);
	printf("remove_buffer 5=%d src_contiguous=%lu\n", r,
	    (unsigned long)evbuffer_get_contiguous_space(src));
	content(" src", src);
	content(" dst", dst);
	r = evbuffer_remove_buffer(src, dst, 3);
	printf("remove_buffer 3=%d\n", r);
	content(" src", src);
	content(" dst", dst);
	r = evbuffer_remove_buffer(src, dst, 1);
	printf("remove_buffer 1=%d\n", r);
	content(" src", src);
	r = evbuffer_remove_buffer(src, dst, 100);
	printf("remove_buffer 100=%d", r);
	r = evbuffer_remove_buffer(src, dst, 100);
	printf(" again=%d", r);
	r = evbuffer_remove_buffer(dst, src, 0);
	printf(" zero=%d", r);
	r = evbuffer_remove_buffer(dst, dst, 3);
	printf(" self=%d\n", r);
	content(" dst", dst);

	r = evbuffer_remove(dst, out, 4);
	printf("remove 4=%d ", r);
	show(out, 4);
	putchar('\n');
	r = evbuffer_drain(dst, 3);
	printf("drain 3=%d len=%lu\n", r, (unsigned long)evbuffer_get_length(dst));
	r = evbuffer_drain(dst, 1000);
	printf("drain 1000=%d len=%lu\n", r, (unsigned long)evbuffer_get_length(dst));
	r = evbuffer_drain(dst, 5);
	printf("drain empty=%d", r);
	r = evbuffer_remove(dst, out, 5);
	printf(" remove empty=%d contiguous=%lu\n", r,
	    (unsigned long)evbuffer_get_contiguous_space(dst));

	r = evbuffer_add_buffer(src, src);
	printf("add_buffer: into_self=%d", r);
	r = evbuffer_add_buffer(dst, src);
	printf(" empty_src=%d\n", r);
	evbuffer_add(src, "xy", 2);
	r = evbuffer_add_buffer(dst, src);
	printf("add_buffer: moved=%d src_len=%lu\n", r, (unsigned long)evbuffer_get_length(src));
	content(" dst", dst);
	evbuffer_free(src);
	evbuffer_free(dst);
}

static void sc_prepend(void)
{
	struct evbuffer *b = evbuffer_new();
	static const char ref[] = "REF";
	char big[40000];
	printf("prepend empty=%d\n", evbuffer_prepend(b, "world", 5));
	content(" b", b);
	printf("prepend nonempty=%d", evbuffer_prepend(b, "hello ", 6));
	printf(" zero=%d\n", evbuffer_prepend(b, "", 0));
	evbuffer_add(b, "!", 1);
	content(" b", b);
	evbuffer_drain(b, 8);
	printf("prepend into drained room=%d\n", evbuffer_prepend(b, "12", 2));
	content(" b", b);
	printf("prepend more than the room=%d\n", evbuffer_prepend(b, "XYZWVU", 6));
	content(" b", b);
	memset(big, 'h', sizeof big);
	printf("prepend big=%d\n", evbuffer_prepend(b, big, sizeof big));
	content(" b", b);
	evbuffer_free(b);

	b = evbuffer_new();
	evbuffer_add_reference(b, ref, 3, NULL, NULL);
	printf("prepend before reference=%d", evbuffer_prepend(b, "<", 1));
	printf(" chunks=%d\n", evbuffer_peek(b, -1, NULL, NULL, 0));
	content(" b", b);
	evbuffer_free(b);
}

static int vprintf_into(struct evbuffer *b, const char *fmt, ...)
{
	va_list ap;
	int r;
	va_start(ap, fmt);
	r = evbuffer_add_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

static void sc_printf(void)
{
	struct evbuffer *b = evbuffer_new();
	char *huge = malloc(100001);
	printf("printf: short=%d", evbuffer_add_printf(b, "%d-%s-%c", 42, "xy", 'z'));
	printf(" empty=%d", evbuffer_add_printf(b, "%s", ""));
	printf(" v=%d\n", vprintf_into(b, "[%05.1f]", 2.25));
	content(" b", b);
	if (huge) {
		memset(huge, 'z', 100000);
		huge[100000] = '\0';
		printf("printf: long=%d", evbuffer_add_printf(b, "<%.5000s>", huge));
		printf(" huge=%d\n", evbuffer_add_printf(b, "%s|%s", huge, huge));
		content(" b", b);
		evbuffer_free(b);
		b = evbuffer_new();
		printf("printf: alone=%d", evbuffer_add_printf(b, "%s", huge));
		printf(" contiguous=%lu\n", (unsigned long)evbuffer_get_contiguous_space(b));
		free(huge);
	}
	evbuffer_free(b);
}

/* ------------------------------------------------------------------ */
/* reserve/commit, expand */

static void sc_reserve(void)
{
	struct evbuffer *b = evbuffer_new();
	struct evbuffer_iovec v[2], w;
	int n;
	size_t first;

	evbuffer_add(b, "ab", 2);
	n = evbuffer_reserve_space(b, 100, v, 1);
	printf("reserve1 100: n=%d enough=%s\n", n, v[0].iov_len >= 100 ? "yes" : "no");
	memcpy(v[0].iov_base, "cdefg", 5);
	v[0].iov_len = 5;
	printf("commit=%d", evbuffer_commit_space(b, v, 1));
	printf(" again=%d\n", evbuffer_commit_space(b, v, 1));
	content(" b", b);

	n = evbuffer_reserve_space(b, 10, v, 1);
	w = v[0];
	w.iov_len += 1;
	printf("commit too long=%d", evbuffer_commit_space(b, &w, 1));
	w = v[0];
	w.iov_base = (char *)w.iov_base + 1;
	w.iov_len = 1;
	printf(" moved=%d", evbuffer_commit_space(b, &w, 1));
	evbuffer_add(b, "zz", 2);
	v[0].iov_len = 1;
	printf(" after_add=%d", evbuffer_commit_space(b, v, 1));
	printf(" zero_vecs=%d", evbuffer_commit_space(b, v, 0));
	printf(" negative_vecs=%d\n", evbuffer_commit_space(b, v, -1));
	content(" b", b);
	printf("reserve bad: nvec0=%d", evbuffer_reserve_space(b, 10, v, 0));
	printf(" size-1=%d", evbuffer_reserve_space(b, -1, v, 1));
	printf(" size-1x2=%d", evbuffer_reserve_space(b, -1, v, 2));
	printf(" size0=%d", evbuffer_reserve_space(b, 0, v, 1));
	printf(" size0x2=%d\n", evbuffer_reserve_space(b, 0, v, 2));
	evbuffer_free(b);

	/* Two extents: the tail chunk 10 bytes short of full, then 100. */
	b = evbuffer_new();
	n = evbuffer_reserve_space(b, 1000, v, 1);
	first = v[0].iov_len - 10;
	memset(v[0].iov_base, 'a', first);
	v[0].iov_len = first;
	printf("reserve2: fill=%d", evbuffer_commit_space(b, v, 1));
	n = evbuffer_reserve_space(b, 100, v, 2);
	printf(" n=%d v0=%lu enough=%s", n, (unsigned long)v[0].iov_len,
	    n == 2 && v[0].iov_len + v[1].iov_len >= 100 ? "yes" : "no");
	if (n == 2) {
		memset(v[0].iov_base, 'b', 10);
		memcpy(v[1].iov_base, "ccccc", 5);
		v[1].iov_len = 5;
		printf(" commit=%d", evbuffer_commit_space(b, v, 2));
		printf(" chunks=%d added=%lu", evbuffer_peek(b, -1, NULL, NULL, 0),
		    (unsigned long)(evbuffer_get_length(b) - first));
	}
	n = evbuffer_reserve_space(b, 1, v, 2);
	printf(" small=%d\n", n);
	evbuffer_free(b);

	/* Only the second of two extents used. */
	b = evbuffer_new();
	evbuffer_add(b, "x", 1);
	n = evbuffer_reserve_space(b, 100000, v, 2);
	printf("reserve2 second only: n=%d", n);
	if (n == 2) {
		v[0].iov_len = 0;
		memcpy(v[1].iov_base, "Q", 1);
		v[1].iov_len = 1;
		printf(" commit=%d", evbuffer_commit_space(b, v, 2));
		evbuffer_add(b, "R", 1);
	}
	putchar('\n');
	content(" b", b);
	evbuffer_free(b);

	b = evbuffer_new();
	printf("expand: zero=%d", evbuffer_expand(b, 0));
	printf(" 5000=%d", evbuffer_expand(b, 5000));
	printf(" len=%lu", (unsigned long)evbuffer_get_length(b));
	{
		char fill[5000];
		memset(fill, 'e', sizeof fill);
		evbuffer_add(b, fill, sizeof fill);
	}
	printf(" contiguous_after_add=%lu", (unsigned long)evbuffer_get_contiguous_space(b));
	printf(" huge=%d\n", evbuffer_expand(b, (size_t)-1));
	evbuffer_free(b);
}

/* ------------------------------------------------------------------ */
/* references */

static int cleanup_calls;
static size_t cleanup_len;
static const void *cleanup_data;

static void on_cleanup(const void *data, size_t len, void *arg)
{
	(void)arg;
	++cleanup_calls;
	cleanup_len = len;
	cleanup_data = data;
}

static void sc_reference(void)
{
	static const char data[] = "0123456789";
	struct evbuffer *b = evbuffer_new(), *d = evbuffer_new();
	char out[8];
	unsigned char *p;
	int r;

	cleanup_calls = 0;
	evbuffer_add(b, "<", 1);
	printf("reference: add=%d", evbuffer_add_reference(b, data, 10, on_cleanup, NULL));
	evbuffer_add(b, ">", 1);
	printf(" chunks=%d", evbuffer_peek(b, -1, NULL, NULL, 0));
	evbuffer_drain(b, 4);
	evbuffer_remove(b, out, 4);
	printf(" after_part=%d", cleanup_calls);
	evbuffer_drain(b, 3);
	printf(" after_all=%d len=%lu same_data=%s", cleanup_calls, (unsigned long)cleanup_len,
	    cleanup_data == data ? "yes" : "no");
	evbuffer_free(b);
	printf(" after_free=%d\n", cleanup_calls);

	cleanup_calls = 0;
	b = evbuffer_new();
	evbuffer_add_reference(b, data, 6, on_cleanup, NULL);
	evbuffer_drain(b, 2);
	printf("reference free: before=%d", cleanup_calls);
	evbuffer_free(b);
	printf(" after=%d len=%lu\n", cleanup_calls, (unsigned long)cleanup_len);

	cleanup_calls = 0;
	b = evbuffer_new();
	evbuffer_add_reference(b, data, 5, on_cleanup, NULL);
	evbuffer_add_buffer(d, b);
	evbuffer_free(b);
	printf("reference moved: after_source_free=%d", cleanup_calls);
	b = evbuffer_new();
	printf(" remove_buffer=%d", evbuffer_remove_buffer(d, b, 2));
	printf(" calls=%d", cleanup_calls);
	evbuffer_free(d);
	printf(" after_free=%d\n", cleanup_calls);
	content(" copy", b);
	evbuffer_free(b);

	cleanup_calls = 0;
	b = evbuffer_new();
	evbuffer_add_reference(b, "abc", 3, on_cleanup, NULL);
	evbuffer_add_reference(b, "defg", 4, on_cleanup, NULL);
	evbuffer_add_reference(b, "hij", 3, on_cleanup, NULL);
	p = evbuffer_pullup(b, 5);
	printf("reference pullup: ");
	if (p)
		show((const char *)p, 5);
	printf(" calls=%d", cleanup_calls);
	evbuffer_free(b);
	printf(" after_free=%d\n", cleanup_calls);

	cleanup_calls = 0;
	b = evbuffer_new();
	r = evbuffer_add_reference(b, "", 0, on_cleanup, NULL);
	printf("reference zero: add=%d len=%lu calls=%d", r,
	    (unsigned long)evbuffer_get_length(b), cleanup_calls);
	evbuffer_free(b);
	printf(" after_free=%d\n", cleanup_calls);
}

/* ------------------------------------------------------------------ */
/* freezing */

/* Runs one call and prints "name=result". */
#define SHOW(name, call) printf(" %s=%ld", (name), (long)(call))

static void sc_freeze(void)
{
	struct evbuffer *b = evbuffer_new(), *o = evbuffer_new(), *e = evbuffer_new();
	struct evbuffer_iovec v[2];
	char out[8];
	char *line;
	size_t n;

	cleanup_calls = 0;
	evbuffer_add(b, "line\nrest", 9);
	evbuffer_add(o, "more", 4);
	printf("freeze back:");
	SHOW("freeze", evbuffer_freeze(b, 0));
	SHOW("add", evbuffer_add(b, "x", 1));
	SHOW("add0", evbuffer_add(b, "x", 0));
	SHOW("printf", evbuffer_add_printf(b, "%d", 1));
	SHOW("add_buffer_in", evbuffer_add_buffer(b, o));
	SHOW("remove_buffer_in", evbuffer_remove_buffer(o, b, 2));
	SHOW("reference", evbuffer_add_reference(b, "r", 1, on_cleanup, NULL));
	SHOW("cleanups", cleanup_calls);
	SHOW("reserve", evbuffer_reserve_space(b, 10, v, 2));
	SHOW("commit0", evbuffer_commit_space(b, v, 0));
	SHOW("prepend", evbuffer_prepend(b, ">", 1));
	SHOW("drain", evbuffer_drain(b, 1));
	SHOW("expand", evbuffer_expand(b, 10));
	SHOW("unfreeze", evbuffer_unfreeze(b, 0));
	SHOW("add_after", evbuffer_add(b, "!", 1));
	putchar('\n');
	content(" b", b);

	printf("freeze front:");
	SHOW("freeze", evbuffer_freeze(b, 1));
	SHOW("drain", evbuffer_drain(b, 1));
	SHOW("drain0", evbuffer_drain(b, 0));
	SHOW("remove", evbuffer_remove(b, out, 2));
	SHOW("copyout", evbuffer_copyout(b, out, 2));
	SHOW("copyout0", evbuffer_copyout(b, out, 0));
	n = 9;
	line = evbuffer_readln(b, &n, EVBUFFER_EOL_LF);
	printf(" readln=%s n=%lu", line ? "line" : "null", (unsigned long)n);
	free(line);
	SHOW("remove_buffer_out", evbuffer_remove_buffer(b, o, 2));
	SHOW("add_buffer_out", evbuffer_add_buffer(o, b));
	SHOW("prepend", evbuffer_prepend(b, "x", 1));
	SHOW("prepend0", evbuffer_prepend(b, "x", 0));
	SHOW("add", evbuffer_add(b, "?", 1));
	SHOW("pullup", evbuffer_pullup(b, -1) != NULL);
	SHOW("search", evbuffer_search(b, "rest", 4, NULL).pos);
	putchar('\n');
	content(" b", b);
	printf("freeze twice:");
	SHOW("freeze", evbuffer_freeze(b, 1));
	SHOW("freeze", evbuffer_freeze(b, 1));
	SHOW("unfreeze", evbuffer_unfreeze(b, 1));
	SHOW("drain", evbuffer_drain(b, 5));
	putchar('\n');
	content(" b", b);

	printf("frozen empty front:");
	evbuffer_freeze(e, 1);
	SHOW("drain", evbuffer_drain(e, 5));
	SHOW("remove", evbuffer_remove(e, out, 5));
	SHOW("copyout", evbuffer_copyout(e, out, 5));
	SHOW("add_buffer_from", evbuffer_add_buffer(o, e));
	SHOW("remove_buffer_from", evbuffer_remove_buffer(e, o, 1));
	evbuffer_unfreeze(e, 1);
	printf("\nfrozen empty back:");
	evbuffer_freeze(e, 0);
	evbuffer_drain(b, evbuffer_get_length(b));
	SHOW("add_buffer_empty_in", evbuffer_add_buffer(e, b));
	SHOW("remove_buffer_in", evbuffer_remove_buffer(o, e, 1));
	SHOW("remove_buffer_zero_in", evbuffer_remove_buffer(o, e, 0));
	putchar('\n');
	evbuffer_free(e);
	evbuffer_free(o);
	evbuffer_free(b);
}

/* ------------------------------------------------------------------ */

/* ------------------------------------------------------------------ */
/* callbacks */

static void on_change(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	printf("  cb %s: orig=%lu added=%lu deleted=%lu now=%lu\n", (const char *)arg,
	    (unsigned long)info->orig_size, (unsigned long)info->n_added,
	    (unsigned long)info->n_deleted, (unsigned long)evbuffer_get_length(b));
}

static void on_length(struct evbuffer *b, size_t old_len, size_t new_len, void *arg)
{
	(void)b;
	printf("  setcb %s: %lu -> %lu\n", (const char *)arg, (unsigned long)old_len,
	    (unsigned long)new_len);
}

static struct evbuffer_cb_entry *self_entry;
static void on_change_once(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	on_change(b, info, arg);
	printf("  removing itself: %d\n", evbuffer_remove_cb_entry(b, self_entry));
}

static void on_change_drain(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	on_change(b, info, arg);
	if (info->n_added)
		evbuffer_drain(b, 1);
}

static char name_a[] = "a", name_b[] = "b";

static void sc_callbacks(void)
{
	struct evbuffer *b = evbuffer_new(), *o = evbuffer_new();
	struct evbuffer_cb_entry *ea, *eb;
	struct evbuffer_iovec v[2];
	struct evbuffer_ptr p;
	char tmp[16];
	int fds[2], n;
	printf("callbacks\n");
	ea = evbuffer_add_cb(b, on_change, name_a);
	eb = evbuffer_add_cb(b, on_change, name_b);
	evbuffer_add_cb(o, on_change, "o");
	printf(" add\n");
	evbuffer_add(b, "hello world", 11);
	printf(" drain\n");
	evbuffer_drain(b, 2);
	printf(" remove=%d\n", evbuffer_remove(b, tmp, 3));
	printf(" prepend\n");
	evbuffer_prepend(b, "<<", 2);
	printf(" printf\n");
	evbuffer_add_printf(b, "%d", 42);
	printf(" iovec\n");
	v[0].iov_base = (void *)"ab"; v[0].iov_len = 2;
	v[1].iov_base = (void *)"c"; v[1].iov_len = 1;
	printf(" iovec=%lu\n", (unsigned long)evbuffer_add_iovec(b, v, 2));
	printf(" remove_buffer=%d\n", evbuffer_remove_buffer(b, o, 4));
	printf(" add_buffer=%d\n", evbuffer_add_buffer(o, b));
	printf(" prepend_buffer=%d\n", evbuffer_prepend_buffer(b, o));
	printf(" pullup (no callback)\n");
	evbuffer_pullup(b, -1);
	printf(" clear b: %d\n", evbuffer_cb_clear_flags(b, eb, EVBUFFER_CB_ENABLED));
	evbuffer_add(b, "x", 1);
	printf(" set b: %d\n", evbuffer_cb_set_flags(b, eb, EVBUFFER_CB_ENABLED));
	evbuffer_add(b, "y", 1);
	n = evbuffer_remove_cb(b, on_change, name_a);
	printf(" remove_cb a=%d", n);
	printf(" again=%d\n", evbuffer_remove_cb(b, on_change, name_a));
	(void)ea;
	evbuffer_add(b, "z", 1);
	if (pipe(fds) == 0) {
		printf(" write=%d\n", evbuffer_write(b, fds[1]));
		printf(" read=%d\n", evbuffer_read(b, fds[0], 4));
		close(fds[0]);
		close(fds[1]);
	}
	printf(" remove entry b=%d\n", evbuffer_remove_cb_entry(b, eb));
	printf(" self-removing\n");
	self_entry = evbuffer_add_cb(b, on_change_once, "once");
	evbuffer_add_cb(b, on_change, "after");
	evbuffer_add(b, "1", 1);
	evbuffer_add(b, "2", 1);
	printf(" a draining callback\n");
	evbuffer_add_cb(b, on_change_drain, "drain");
	evbuffer_add(b, "345", 3);
	printf(" setcb replaces them\n");
	evbuffer_setcb(b, on_length, "len");
	evbuffer_add(b, "67", 2);
	evbuffer_add_cb(b, on_change, "new");
	evbuffer_drain(b, 1);
	evbuffer_setcb(b, NULL, NULL);
	evbuffer_add(b, "8", 1);
	evbuffer_ptr_set(b, &p, 1, EVBUFFER_PTR_SET);
	printf(" copyout_from=%ld ", (long)evbuffer_copyout_from(b, &p, tmp, 3));
	show(tmp, 3);
	printf("\n");
	content(" b", b);
	evbuffer_free(b);
	evbuffer_free(o);
}

static void sc_deferred(void)
{
	struct event_base *base = event_base_new();
	struct evbuffer *b = evbuffer_new();
	printf("deferred callbacks\n");
	printf(" defer=%d\n", evbuffer_defer_callbacks(b, base));
	evbuffer_add_cb(b, on_change, "d");
	evbuffer_add(b, "abcdef", 6);
	evbuffer_drain(b, 2);
	evbuffer_add(b, "g", 1);
	printf(" before the loop\n");
	printf(" loop=%d\n", event_base_loop(base, EVLOOP_NONBLOCK));
	evbuffer_drain(b, 5);
	printf(" loop=%d\n", event_base_loop(base, EVLOOP_NONBLOCK));
	evbuffer_add(b, "h", 1);
	evbuffer_free(b);
	printf(" freed, then the loop\n");
	printf(" loop=%d\n", event_base_loop(base, EVLOOP_NONBLOCK));
	event_base_free(base);
}

static void sc_buffer_reference(void)
{
	struct evbuffer *in = evbuffer_new(), *out = evbuffer_new(), *third = evbuffer_new();
	printf("add_buffer_reference\n");
	evbuffer_add(in, "shared", 6);
	evbuffer_add(out, "<", 1);
	printf(" ref=%d\n", evbuffer_add_buffer_reference(out, in));
	content(" out", out);
	content(" in", in);
	evbuffer_add(in, "+more", 5);
	evbuffer_drain(in, 3);
	content(" out after in changed", out);
	content(" in", in);
	printf(" ref of a referencing buffer=%d\n", evbuffer_add_buffer_reference(third, out));
	printf(" ref to itself=%d\n", evbuffer_add_buffer_reference(in, in));
	evbuffer_free(in);
	content(" out after in freed", out);
	evbuffer_free(out);
	evbuffer_free(third);
}

/* ------------------------------------------------------------------ */
/* files */

static int temp_file(const char *text)
{
	char name[] = "/tmp/evbuffer-diff-XXXXXX";
	int fd = mkstemp(name);
	if (fd < 0)
		return -1;
	unlink(name);
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void on_segment_cleanup(struct evbuffer_file_segment const *seg, int flags, void *arg)
{
	(void)seg;
	printf("  segment cleanup %s flags=%d\n", (const char *)arg, flags);
}

static void sc_files(void)
{
	struct evbuffer *b = evbuffer_new(), *c = evbuffer_new(), *s = evbuffer_new();
	struct evbuffer_file_segment *seg;
	char tmp[64];
	int fd, fds[2], n;
	printf("files\n");
	fd = temp_file("line one\nline two\nthe end");
	printf(" add_file=%d\n", evbuffer_add_file(b, fd, 5, 13));
	content(" range", b);
	printf(" search=%ld\n", (long)evbuffer_search(b, "two", 3, NULL).pos);
	evbuffer_free(b);
	printf(" fd closed with the buffer: %d\n", fcntl(fd, F_GETFD) == -1);

	fd = temp_file("0123456789abcdef");
	seg = evbuffer_file_segment_new(fd, 2, 12, EVBUF_FS_CLOSE_ON_FREE);
	printf(" segment=%d\n", seg != NULL);
	evbuffer_file_segment_add_cleanup_cb(seg, on_segment_cleanup, "seg");
	printf(" part=%d whole=%d\n", evbuffer_add_file_segment(c, seg, 3, 4),
	    evbuffer_add_file_segment(c, seg, 0, -1));
	content(" two parts", c);
	printf(" program frees its segment\n");
	evbuffer_file_segment_free(seg);
	printf(" remove_buffer=%d\n", evbuffer_remove_buffer(c, s, 6));
	content(" moved", s);
	content(" left", c);
	evbuffer_free(s);
	printf(" freeing the last buffer\n");
	evbuffer_free(c);

	fd = temp_file("no mmap");
	seg = evbuffer_file_segment_new(fd, 0, -1, EVBUF_FS_DISABLE_MMAP | EVBUF_FS_CLOSE_ON_FREE);
	b = evbuffer_new();
	printf(" no-mmap add=%d\n", evbuffer_add_file_segment(b, seg, 0, -1));
	evbuffer_file_segment_free(seg);
	content(" no-mmap", b);
	evbuffer_free(b);

	fd = temp_file("bad");
	seg = evbuffer_file_segment_new(fd, 0, -1, EVBUF_FS_CLOSE_ON_FREE);
	evbuffer_file_segment_add_cleanup_cb(seg, on_segment_cleanup, "refused");
	b = evbuffer_new();
	printf(" past the end=%d\n", evbuffer_add_file_segment(b, seg, 1, 5));
	evbuffer_free(b);

	fd = temp_file("through a pipe");
	b = evbuffer_new();
	evbuffer_set_flags(b, EVBUFFER_FLAG_DRAINS_TO_FD);
	evbuffer_add(b, "[", 1);
	printf(" add_file=%d\n", evbuffer_add_file(b, fd, 0, -1));
	evbuffer_add(b, "]", 1);
	if (pipe(fds) == 0) {
		int total = 0;
		while (evbuffer_get_length(b) > 0 && (n = evbuffer_write(b, fds[1])) > 0)
			total += n;
		n = (int)read(fds[0], tmp, sizeof tmp);
		printf(" written=%d read=", total);
		show(tmp, n > 0 ? (size_t)n : 0);
		printf("\n");
		close(fds[0]);
		close(fds[1]);
	}
	evbuffer_free(b);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("start\n");
	sc_basic();
	sc_prepend();
	sc_printf();
	sc_readln();
	sc_readln_split();
	sc_search();
	sc_search_eol();
	sc_peek();
	sc_pullup();
	sc_reserve();
	sc_reference();
	sc_freeze();
	sc_callbacks();
	sc_deferred();
	sc_buffer_reference();
	sc_files();
	printf("end\n");
	return 0;
}

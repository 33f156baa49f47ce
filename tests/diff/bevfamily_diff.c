/* Differential transcript of the bufferevent family: pairs (transfers,
 * watermarks, flush modes, freeing, timeouts, triggers, references) and
 * filters (over pairs and sockets: the filter's calls, limits and modes,
 * watermarks, flushes, events, freeing). Every callback prints a line in
 * the order it runs; the program is built against real libevent 2.1.12
 * and against evasio and the two transcripts must be the same. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>
#include <event2/util.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transcript.h"

static struct event_base *base;

/* ---- logging callbacks: the bufferevent's name is its cbarg ---- */

static int drain_each; /* bytes a read callback takes (0: none, -1: all) */

static void log_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t before = evbuffer_get_length(in);
	if (drain_each < 0)
		evbuffer_drain(in, before);
	else if (drain_each > 0)
		evbuffer_drain(in, (size_t)drain_each);
	out("%s read: input %zu, left %zu", (const char *)arg, before, evbuffer_get_length(in));
}

static void log_write(struct bufferevent *bev, void *arg)
{
	out("%s write: output %zu", (const char *)arg,
	    evbuffer_get_length(bufferevent_get_output(bev)));
}

static void log_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	out("%s event: 0x%02x", (const char *)arg, (unsigned)what);
}

static void named(struct bufferevent *bev, const char *name)
{
	bufferevent_setcb(bev, log_read, log_write, log_event, (void *)name);
}

static void run(const char *why)
{
	out("-- loop (%s)", why);
	event_base_loop(base, EVLOOP_NONBLOCK);
	event_base_loop(base, EVLOOP_NONBLOCK);
}

static void lengths(struct bufferevent *a, struct bufferevent *b)
{
	out("lengths: A in %zu out %zu, B in %zu out %zu",
	    evbuffer_get_length(bufferevent_get_input(a)),
	    evbuffer_get_length(bufferevent_get_output(a)),
	    evbuffer_get_length(bufferevent_get_input(b)),
	    evbuffer_get_length(bufferevent_get_output(b)));
}

static void new_pair(struct bufferevent **a, struct bufferevent **b, int options)
{
	struct bufferevent *p[2];
	if (bufferevent_pair_new(base, options, p) != 0) {
		out("pair_new failed");
		exit(1);
	}
	*a = p[0];
	*b = p[1];
	named(*a, "A");
	named(*b, "B");
}

static char bytes[70000];

/* ---- pairs ---- */

static void pair_basics(void)
{
	struct bufferevent *a, *b;
	begin("pair: partners, fd, enabled, a first write");
	new_pair(&a, &b, 0);
	out("partners: %s %s", yn(bufferevent_pair_get_partner(a) == b),
	    yn(bufferevent_pair_get_partner(b) == a));
	out("fd %d, underlying %s, enabled A %d B %d", (int)bufferevent_getfd(a),
	    yn(bufferevent_get_underlying(a) != NULL), bufferevent_get_enabled(a),
	    bufferevent_get_enabled(b));
	drain_each = 0;
	bufferevent_write(a, "hello", 5);
	lengths(a, b);
	run("B not reading");
	bufferevent_enable(b, EV_READ);
	lengths(a, b);
	run("B reading");
	bufferevent_write(b, "back", 4);
	lengths(a, b);
	run("A not reading");
	bufferevent_free(a);
	out("B's partner after A's free: %s", yn(bufferevent_pair_get_partner(b) != NULL));
	run("after free");
	bufferevent_free(b);
	end();
}

static void pair_watermarks(void)
{
	struct bufferevent *a, *b;
	int i;
	begin("pair: watermarks");
	new_pair(&a, &b, 0);
	bufferevent_setwatermark(b, EV_READ, 12, 30);
	bufferevent_setwatermark(a, EV_WRITE, 20, 0);
	bufferevent_enable(b, EV_READ);
	drain_each = 7;
	for (i = 0; i < 6; ++i) {
		bufferevent_write(a, bytes, 10);
		lengths(a, b);
	}
	run("deliver");
	run("again");
	drain_each = -1;
	run("drain all");
	lengths(a, b);
	bufferevent_free(a);
	bufferevent_free(b);
	end();
}

static void pair_flushes(void)
{
	static const int modes[] = {BEV_NORMAL, BEV_FLUSH, BEV_FINISHED};
	static const short types[] = {EV_WRITE, EV_READ, EV_READ | EV_WRITE};
	size_t m, t;
	begin("pair: flush modes and directions");
	drain_each = -1; /* a full input left undrained calls back without end */
	for (m = 0; m < 3; ++m) {
		for (t = 0; t < 3; ++t) {
			struct bufferevent *a, *b;
			new_pair(&a, &b, 0);
			bufferevent_setwatermark(b, EV_READ, 0, 3);
			bufferevent_enable(b, EV_READ);
			bufferevent_write(a, "abcdefgh", 8);
			bufferevent_write(b, "xyz", 3);
			out("flush mode %d type 0x%x on A: %d", modes[m], (unsigned)types[t],
			    bufferevent_flush(a, types[t], (enum bufferevent_flush_mode)modes[m]));
			lengths(a, b);
			run("callbacks");
			bufferevent_free(b);
			out("flush without partner: %d", bufferevent_flush(a, EV_WRITE, BEV_FLUSH));
			bufferevent_free(a);
		}
	}
	end();
}

static void pair_timeouts(void)
{
	struct bufferevent *a, *b;
	struct timeval r = {0, 150000}, w = {0, 100000}, r2 = {0, 100000}, w2 = {0, 200000};
	struct timeval stop = {0, 350000};
	begin("pair: timeouts (libevent's regress scenario)");
	new_pair(&a, &b, 0);
	bufferevent_disable(b, EV_READ);
	bufferevent_set_timeouts(a, &r, &w);
	bufferevent_write(a, "ABCDEFG", 7);
	bufferevent_enable(a, EV_READ | EV_WRITE);
	bufferevent_set_timeouts(b, &r2, &w2);
	bufferevent_enable(b, EV_WRITE);
	event_base_loopexit(base, &stop);
	event_base_dispatch(base);
	out("enabled after: A %d B %d", bufferevent_get_enabled(a), bufferevent_get_enabled(b));
	bufferevent_free(a);
	bufferevent_free(b);
	end();
}

static void pair_triggers_and_refs(void)
{
	struct bufferevent *a, *b;
	begin("pair: trigger, trigger_event, incref/decref");
	new_pair(&a, &b, 0);
	bufferevent_trigger(a, EV_READ | EV_WRITE, 0);
	out("after trigger (deferred: nothing yet)");
	run("trigger");
	bufferevent_trigger(a, EV_READ, BEV_TRIG_IGNORE_WATERMARKS);
	bufferevent_trigger_event(b, BEV_EVENT_EOF | BEV_EVENT_READING, 0);
	run("trigger and event");
	bufferevent_incref(a);
	bufferevent_free(a);
	out("partner of B after A's free with a reference held: %s",
	    yn(bufferevent_pair_get_partner(b) != NULL));
	out("decref: %d", bufferevent_decref(a));
	bufferevent_free(b);
	end();
}

static void pair_bulk(void)
{
	struct bufferevent *a, *b;
	begin("pair: 70000 bytes through a high watermark of 4096");
	new_pair(&a, &b, 0);
	bufferevent_setcb(a, NULL, NULL, NULL, NULL);
	bufferevent_setcb(b, NULL, NULL, NULL, NULL);
	bufferevent_setwatermark(b, EV_READ, 0, 4096);
	bufferevent_enable(b, EV_READ);
	bufferevent_write(a, bytes, sizeof bytes);
	lengths(a, b);
	{
		size_t total = 0;
		char buf[1000];
		size_t n;
		while ((n = bufferevent_read(b, buf, sizeof buf)) > 0) {
			if (memcmp(buf, bytes + total, n) != 0)
				out("mismatch at %zu", total);
			total += n;
		}
		out("read back %zu bytes", total);
	}
	lengths(a, b);
	bufferevent_free(a);
	bufferevent_free(b);
	end();
}

/* ---- filters ---- */

static int filter_answer = BEV_OK;

static enum bufferevent_filter_result
upper(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
    enum bufferevent_flush_mode mode, void *ctx)
{
	size_t n = evbuffer_get_length(src), i;
	char buf[256];
	out("%s filter: src %zu, limit %ld, mode %d", (const char *)ctx, n, (long)limit, (int)mode);
	if (filter_answer != BEV_OK)
		return (enum bufferevent_filter_result)filter_answer;
	if (limit >= 0 && (size_t)limit < n)
		n = (size_t)limit;
	if (n > sizeof buf)
		n = sizeof buf;
	if (n == 0)
		return BEV_NEED_MORE;
	evbuffer_remove(src, buf, n);
	for (i = 0; i < n; ++i)
		buf[i] = (char)toupper((unsigned char)buf[i]);
	evbuffer_add(dst, buf, n);
	return BEV_OK;
}

/* A filter that changes lengths: each byte doubled on the way out, every
 * other byte dropped on the way in (so a round trip through two of them is
 * the identity). Honours the limit: it never writes more than it may. */
static enum bufferevent_filter_result
doubler(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
    enum bufferevent_flush_mode mode, void *ctx)
{
	size_t n = evbuffer_get_length(src), i;
	char in[128], outb[256];
	(void)ctx;
	out("doubler: src %zu, limit %ld, mode %d", n, (long)limit, (int)mode);
	if (limit >= 0 && (size_t)limit / 2 < n)
		n = (size_t)limit / 2;
	if (n > sizeof in)
		n = sizeof in;
	if (n == 0)
		return BEV_NEED_MORE;
	evbuffer_remove(src, in, n);
	for (i = 0; i < n; ++i)
		outb[2 * i] = outb[2 * i + 1] = in[i];
	evbuffer_add(dst, outb, 2 * n);
	return BEV_OK;
}

static enum bufferevent_filter_result
halver(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
    enum bufferevent_flush_mode mode, void *ctx)
{
	size_t n = evbuffer_get_length(src) / 2, i;
	char in[256], outb[128];
	(void)ctx;
	out("halver: src %zu, limit %ld, mode %d", evbuffer_get_length(src), (long)limit, (int)mode);
	if (limit >= 0 && (size_t)limit < n)
		n = (size_t)limit;
	if (n > sizeof outb)
		n = sizeof outb;
	if (n == 0)
		return BEV_NEED_MORE;
	evbuffer_remove(src, in, 2 * n);
	for (i = 0; i < n; ++i)
		outb[i] = in[2 * i];
	evbuffer_add(dst, outb, n);
	return BEV_OK;
}

static void filter_lengths(void)
{
	struct bufferevent *a, *b, *fa, *fb;
	begin("filters that change lengths, both ends over a pair");
	new_pair(&a, &b, 0);
	fa = bufferevent_filter_new(a, halver, doubler, 0, NULL, NULL);
	fb = bufferevent_filter_new(b, halver, doubler, 0, NULL, NULL);
	named(fa, "FA");
	named(fb, "FB");
	bufferevent_setwatermark(b, EV_READ, 0, 50);
	bufferevent_enable(fa, EV_READ);
	bufferevent_enable(fb, EV_READ);
	drain_each = -1;
	bufferevent_write(fa, bytes, 300);
	lengths(fa, fb);
	run("through");
	run("again");
	lengths(fa, fb);
	bufferevent_free(fa);
	bufferevent_free(fb);
	bufferevent_free(a);
	bufferevent_free(b);
	end();
}

static void ctx_free(void *ctx)
{
	out("free_context %s", (const char *)ctx);
}

static void filter_over_pair(void)
{
	struct bufferevent *a, *b, *f;
	begin("filter over a pair: data both ways");
	new_pair(&a, &b, 0);
	f = bufferevent_filter_new(a, upper, upper, 0, ctx_free, "F");
	named(f, "F");
	out("underlying %s, A enabled %d, F enabled %d", yn(bufferevent_get_underlying(f) == a),
	    bufferevent_get_enabled(a), bufferevent_get_enabled(f));
	bufferevent_enable(b, EV_READ);
	drain_each = 0;
	bufferevent_write(f, "down", 4);
	lengths(a, b);
	run("to B");
	bufferevent_write(b, "up", 2);
	run("F not reading");
	bufferevent_enable(f, EV_READ);
	run("F reading");
	out("F input %zu", evbuffer_get_length(bufferevent_get_input(f)));
	bufferevent_write(b, "more", 4);
	run("more");
	bufferevent_flush(b, EV_WRITE, BEV_FINISHED);
	run("B finished");
	bufferevent_free(f);
	out("A's callbacks cleared: %s", yn(!a->readcb && !a->writecb && !a->errorcb));
	run("after F's free");
	bufferevent_free(a);
	bufferevent_free(b);
	end();
}

static void filter_watermarks(void)
{
	struct bufferevent *a, *b, *f;
	begin("filter: its high watermark limits the input filter");
	new_pair(&a, &b, 0);
	f = bufferevent_filter_new(a, upper, NULL, 0, NULL, "in");
	/* No read callback: one that leaves a full input is called without end. */
	bufferevent_setcb(f, NULL, log_write, log_event, "F");
	bufferevent_setwatermark(f, EV_READ, 0, 10);
	bufferevent_enable(f, EV_READ);
	drain_each = 0;
	bufferevent_write(b, "abcdefghijklmnopqrstuvwxyz", 26);
	run("fill");
	out("F input %zu, A input %zu", evbuffer_get_length(bufferevent_get_input(f)),
	    evbuffer_get_length(bufferevent_get_input(a)));
	evbuffer_drain(bufferevent_get_input(f), 10);
	out("after drain: F input %zu, A input %zu", evbuffer_get_length(bufferevent_get_input(f)),
	    evbuffer_get_length(bufferevent_get_input(a)));
	run("after drain");
	bufferevent_free(f);
	bufferevent_free(a);
	bufferevent_free(b);
	end();
}

static void filter_flushes(void)
{
	static const int modes[] = {BEV_NORMAL, BEV_FLUSH, BEV_FINISHED};
	size_t m;
	begin("filter: flush modes, answers");
	drain_each = 0;
	for (m = 0; m < 3; ++m) {
		struct bufferevent *a, *b, *f;
		new_pair(&a, &b, 0);
		f = bufferevent_filter_new(a, upper, upper, 0, NULL, "out");
		named(f, "F");
		bufferevent_disable(f, EV_WRITE);
		bufferevent_write(f, "flushme", 7);
		out("mode %d: flush write %d", modes[m],
		    bufferevent_flush(f, EV_WRITE, (enum bufferevent_flush_mode)modes[m]));
		out("mode %d: flush read %d", modes[m],
		    bufferevent_flush(f, EV_READ, (enum bufferevent_flush_mode)modes[m]));
		lengths(f, b);
		run("callbacks");
		bufferevent_free(f);
		bufferevent_free(a);
		bufferevent_free(b);
	}
	{
		struct bufferevent *a, *b, *f;
		new_pair(&a, &b, 0);
		f = bufferevent_filter_new(a, upper, upper, 0, NULL, "err");
		named(f, "F");
		filter_answer = BEV_ERROR;
		bufferevent_write(f, "bad", 3);
		lengths(f, b);
		run("after an erring filter");
		filter_answer = BEV_OK;
		bufferevent_free(f);
		bufferevent_free(a);
		bufferevent_free(b);
	}
	end();
}

static void filter_over_socket(void)
{
	int sv[2];
	struct bufferevent *s, *f;
	char buf[16];
	ssize_t n;
	begin("filter over a socket: bytes out, EOF in, close on free");
	if (evutil_socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		out("socketpair failed");
		end();
		return;
	}
	evutil_make_socket_nonblocking(sv[0]);
	s = bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	f = bufferevent_filter_new(s, NULL, upper, BEV_OPT_CLOSE_ON_FREE, ctx_free, "S");
	named(f, "F");
	out("fd is the socket's: %s", yn(bufferevent_getfd(f) == sv[0]));
	bufferevent_enable(f, EV_READ);
	bufferevent_write(f, "sock", 4);
	run("write out");
	n = read(sv[1], buf, sizeof buf);
	out("peer read %d: %.*s", (int)n, n > 0 ? (int)n : 0, buf);
	close(sv[1]);
	{
		struct timeval t = {0, 200000};
		event_base_loopexit(base, &t);
		event_base_dispatch(base);
	}
	bufferevent_free(f);
	run("after free");
	out("socket closed by the filter's free: %s", yn(write(sv[0], "x", 1) < 0));
	end();
}

int main(void)
{
	size_t i;
	transcript_start();
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof bytes; ++i)
		bytes[i] = (char)('a' + i % 26);
	base = event_base_new();
	pair_basics();
	pair_watermarks();
	pair_flushes();
	pair_timeouts();
	pair_triggers_and_refs();
	pair_bulk();
	filter_over_pair();
	filter_watermarks();
	filter_flushes();
	filter_over_socket();
	filter_lengths();
	event_base_free(base);
	return 0;
}

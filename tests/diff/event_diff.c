/* Differential transcript for evasio's events and bufferevents: one C99
 * program, built once against real libevent 2.1.12 and once against evasio.
 * It exercises struct event (fd readiness on pipes and socketpairs, timers,
 * signals, event_base_once, event_active, event_pending, the loop flags)
 * and socket bufferevents (connect, read/write, enable/disable, watermarks,
 * timeouts, setfd, deferred callbacks, freeing from callbacks).
 *
 * Every observation is one line on stdout. Nothing that legitimately varies
 * between runs (ports, fds, pointers, timings) is printed: only counts,
 * return values, yes/no answers and symbolic names. Timers are checked only
 * for "not earlier than asked". Where a broken implementation could call
 * back forever, the callback itself breaks the loop after a bound, so the
 * difference shows in the transcript instead of as a hang.
 *
 * Only functions declared by both libevent's and evasio's headers are used. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/bufferevent.h>
#include <event2/buffer.h>
#include <event2/util.h>

#include "transcript.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Safety net and output. */


/* EV_* bits as "READ|TIMEOUT", or "0". */
static const char *evbits(int what)
{
	static char bufs[4][96];
	static int next;
	static const struct { int bit; const char *name; } names[] = {
		{ EV_TIMEOUT, "TIMEOUT" }, { EV_READ, "READ" },
		{ EV_WRITE, "WRITE" }, { EV_SIGNAL, "SIGNAL" },
		{ EV_PERSIST, "PERSIST" }, { EV_ET, "ET" },
		{ EV_CLOSED, "CLOSED" },
	};
	char *b = bufs[next++ & 3];
	size_t i;
	int rest = what;
	b[0] = '\0';
	for (i = 0; i < sizeof names / sizeof names[0]; ++i) {
		if (what & names[i].bit) {
			if (b[0])
				strcat(b, "|");
			strcat(b, names[i].name);
			rest &= ~names[i].bit;
		}
	}
	if (rest)
		snprintf(b + strlen(b), 24, "%s0x%x", b[0] ? "|" : "", (unsigned)rest);
	if (!b[0])
		strcpy(b, "0");
	return b;
}

/* BEV_EVENT_* bits as "READING|EOF", or "0". */
static const char *bevbits(int what)
{
	static char bufs[4][96];
	static int next;
	static const struct { int bit; const char *name; } names[] = {
		{ BEV_EVENT_READING, "READING" }, { BEV_EVENT_WRITING, "WRITING" },
		{ BEV_EVENT_EOF, "EOF" }, { BEV_EVENT_ERROR, "ERROR" },
		{ BEV_EVENT_TIMEOUT, "TIMEOUT" },
		{ BEV_EVENT_CONNECTED, "CONNECTED" },
	};
	char *b = bufs[next++ & 3];
	size_t i;
	int rest = what;
	b[0] = '\0';
	for (i = 0; i < sizeof names / sizeof names[0]; ++i) {
		if (what & names[i].bit) {
			if (b[0])
				strcat(b, "|");
			strcat(b, names[i].name);
			rest &= ~names[i].bit;
		}
	}
	if (rest)
		snprintf(b + strlen(b), 24, "%s0x%x", b[0] ? "|" : "", (unsigned)rest);
	if (!b[0])
		strcpy(b, "0");
	return b;
}

static const char *errname(int e)
{
	static char other[32];
	switch (e) {
	case 0: return "0";
	case EPIPE: return "EPIPE";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ECONNRESET: return "ECONNRESET";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EINVAL: return "EINVAL";
	case EAGAIN: return "EAGAIN";
	case EBADF: return "EBADF";
	default: break;
	}
	snprintf(other, sizeof other, "errno%d", e);
	return other;
}

/* ------------------------------------------------------------------ */
/* fds, time, data. */

static void make_pipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) {
		perror("pipe2");
		exit(2);
	}
}

/* s[0] non-blocking (for the library), s[1] blocking (the plain peer). */
static void make_spair(int s[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s) != 0) {
		perror("socketpair");
		exit(2);
	}
	evutil_make_socket_nonblocking(s[0]);
}

static void put(int fd, const char *s)
{
	size_t n = strlen(s);
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w <= 0) {
			perror("write");
			exit(2);
		}
		s += w;
		n -= (size_t)w;
	}
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0) {
			perror("send");
			exit(2);
		}
		p += w;
		n -= (size_t)w;
	}
}

static size_t drain_fd(int fd)
{
	char buf[4096];
	size_t total = 0;
	ssize_t n;
	while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
		total += (size_t)n;
	if (n < 0 && errno == ENOTSOCK)
		while ((n = read(fd, buf, sizeof buf)) > 0)
			total += (size_t)n;
	return total;
}

static long unread(int fd)
{
	int n = 0;
	if (ioctl(fd, FIONREAD, &n) < 0)
		return -1;
	return n;
}

static int peer_eof(int fd)
{
	struct pollfd p;
	char c;
	p.fd = fd;
	p.events = POLLIN;
	p.revents = 0;
	if (poll(&p, 1, 10000) <= 0)
		return 0;
	return recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

static size_t recv_n(int fd, char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		struct pollfd p;
		ssize_t r;
		p.fd = fd;
		p.events = POLLIN;
		p.revents = 0;
		if (poll(&p, 1, 10000) <= 0)
			break;
		r = recv(fd, buf + got, n - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

static struct timeval ms(long m)
{
	struct timeval tv;
	tv.tv_sec = m / 1000;
	tv.tv_usec = (m % 1000) * 1000;
	return tv;
}

/* "Not earlier than N ms": start on the coarse clock, end on the precise
 * one, so that the check holds whichever monotonic clock the library uses. */
static struct timespec sw_start(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
	return t;
}

static long long sw_us(struct timespec start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - start.tv_sec) * 1000000LL +
	    (now.tv_nsec - start.tv_nsec) / 1000;
}

static long long tv_us(struct timeval tv)
{
	return (long long)tv.tv_sec * 1000000LL + tv.tv_usec;
}

static char *pattern(size_t n)
{
	char *p = malloc(n ? n : 1);
	size_t i;
	if (!p)
		exit(2);
	for (i = 0; i < n; ++i)
		p[i] = (char)('a' + (i * 7 + i / 251) % 26);
	return p;
}

/* ------------------------------------------------------------------ */
/* Generic event callbacks. */

struct rec {
	int calls;
	int what_or;      /* all results seen, ORed */
	int last_what;
	int fd_match;     /* the fd argument was the expected one, every time */
	evutil_socket_t expect_fd;
	struct event_base *guard; /* loopbreak after `limit` calls */
	int limit;
	struct event *del_self;   /* event_del() it after `del_after` calls */
	int del_after;
};

static void rec_init(struct rec *r, evutil_socket_t fd)
{
	memset(r, 0, sizeof *r);
	r->expect_fd = fd;
	r->fd_match = 1;
	r->limit = 100;
}

static void rec_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rec *r = arg;
	++r->calls;
	r->what_or |= what;
	r->last_what = what;
	if (fd != r->expect_fd)
		r->fd_match = 0;
	if (r->del_self && r->calls == r->del_after)
		event_del(r->del_self);
	if (r->guard && r->calls >= r->limit)
		event_base_loopbreak(r->guard);
}

static void noop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

static void print_rec(const char *label, const struct rec *r)
{
	out("%s: calls=%d what=%s fd_ok=%s", label, r->calls,
	    evbits(r->what_or), yn(r->fd_match));
}

/* Runs the loop until pred(arg) holds (a 1 ms persistent timer checks). */
struct pump_state {
	int (*pred)(void *);
	void *arg;
	struct event_base *base;
};

static void pump_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pump_state *p = arg;
	(void)fd;
	(void)what;
	if (p->pred(p->arg))
		event_base_loopbreak(p->base);
}

static int pump(struct event_base *base, int (*pred)(void *), void *arg)
{
	struct pump_state st;
	struct event *t;
	struct timeval tv = { 0, 1000 };
	if (pred(arg))
		return 1;
	st.pred = pred;
	st.arg = arg;
	st.base = base;
	t = event_new(base, -1, EV_PERSIST, pump_cb, &st);
	event_add(t, &tv);
	event_base_dispatch(base);
	event_free(t);
	return pred(arg);
}

/* ================================================================== */
/* Events. */

static void sc_version(void)
{
	begin("version");
	out("number=0x%08x", (unsigned)event_get_version_number());
	out("string=%s", event_get_version());
	out("LIBEVENT_VERSION_NUMBER=0x%08x", (unsigned)LIBEVENT_VERSION_NUMBER);
	end();
}

static void sc_accessors(void)
{
	struct event_base *base = event_base_new();
	int p[2], marker = 0, rc;
	struct event *ev;
	struct event st;
	begin("accessors");
	make_pipe(p);
	ev = event_new(base, p[0], EV_READ | EV_PERSIST, rec_cb, &marker);
	out("event_new=%s", yn(ev != NULL));
	out("fd_same=%s base_same=%s events=%s cb_same=%s arg_same=%s",
	    yn(event_get_fd(ev) == p[0]), yn(event_get_base(ev) == base),
	    evbits(event_get_events(ev)),
	    yn(event_get_callback(ev) == rec_cb),
	    yn(event_get_callback_arg(ev) == (void *)&marker));
	out("initialized=%d pending=%s", event_initialized(ev),
	    evbits(event_pending(ev, EV_READ | EV_WRITE | EV_TIMEOUT | EV_SIGNAL, NULL)));
	event_free(ev);
	ev = evtimer_new(base, noop_cb, NULL);
	out("evtimer fd=%d events=%s", (int)event_get_fd(ev), evbits(event_get_events(ev)));
	event_free(ev);
	ev = event_new(base, -1, 0, noop_cb, event_self_cbarg());
	out("self_cbarg_is_event=%s", yn(event_get_callback_arg(ev) == (void *)ev));
	event_free(ev);
	memset(&st, 0, sizeof st);
	out("zeroed initialized=%d", event_initialized(&st));
	rc = event_assign(&st, base, p[0], EV_READ, noop_cb, NULL);
	out("assign=%d initialized=%d", rc, event_initialized(&st));
	out("struct_size_fits=%s", yn(event_get_struct_event_size() <= sizeof(struct event)));
	out("new SIGNAL|READ=%s", yn(event_new(base, SIGUSR1, EV_SIGNAL | EV_READ, noop_cb, NULL) != NULL));
	out("assign SIGNAL|WRITE=%d", event_assign(&st, base, SIGUSR1, EV_SIGNAL | EV_WRITE, noop_cb, NULL));
	close(p[0]);
	close(p[1]);
	event_base_free(base);
	end();
}

static void sc_read_events(void)
{
	struct event_base *base = event_base_new();
	int p[2];
	struct rec r;
	struct event *ev;
	int rc, i;
	begin("read_events");
	make_pipe(p);

	/* one-shot */
	rec_init(&r, p[0]);
	ev = event_new(base, p[0], EV_READ, rec_cb, &r);
	event_add(ev, NULL);
	put(p[1], "data");
	rc = event_base_dispatch(base);
	print_rec("oneshot", &r);
	out("oneshot: dispatch=%d pending_after=%s", rc, evbits(event_pending(ev, EV_READ, NULL)));
	event_free(ev);

	/* persistent, not read: fires again until deleted (level-triggered) */
	rec_init(&r, p[0]);
	ev = event_new(base, p[0], EV_READ | EV_PERSIST, rec_cb, &r);
	r.del_self = ev;
	r.del_after = 5;
	event_add(ev, NULL);
	rc = event_base_dispatch(base);
	print_rec("persistent_del_at_5", &r);
	out("persistent_del_at_5: dispatch=%d unread=%ld", rc, unread(p[0]));

	/* EVLOOP_ONCE: one callback per call */
	rec_init(&r, p[0]);
	r.guard = base;
	event_add(ev, NULL);
	for (i = 1; i <= 3; ++i) {
		rc = event_base_loop(base, EVLOOP_ONCE);
		out("once round %d: rc=%d calls=%d", i, rc, r.calls);
	}
	event_free(ev);

	/* consumed data: quiet afterwards */
	drain_fd(p[0]);
	rec_init(&r, p[0]);
	ev = event_new(base, p[0], EV_READ | EV_PERSIST, rec_cb, &r);
	event_add(ev, NULL);
	rc = event_base_loop(base, EVLOOP_NONBLOCK);
	out("empty pipe nonblock: rc=%d calls=%d pending=%s", rc, r.calls,
	    evbits(event_pending(ev, EV_READ, NULL)));
	event_free(ev);

	/* EOF of the pipe */
	rec_init(&r, p[0]);
	ev = event_new(base, p[0], EV_READ, rec_cb, &r);
	event_add(ev, NULL);
	close(p[1]);
	rc = event_base_dispatch(base);
	print_rec("pipe_eof", &r);
	out("pipe_eof: dispatch=%d", rc);
	event_free(ev);
	close(p[0]);
	event_base_free(base);
	end();
}

/* Edge-triggered: the callback never reads; the first call schedules a
 * timer that writes more; the second call must come after that write. */
struct et_ctx {
	int wfd;
	struct event_base *base;
	struct event *ev, *writer;
	int calls, writes;
	int writes_seen[4];
};

static void et_writer(evutil_socket_t fd, short what, void *arg)
{
	struct et_ctx *c = arg;
	(void)fd;
	(void)what;
	put(c->wfd, "more");
	++c->writes;
}

static void et_cb(evutil_socket_t fd, short what, void *arg)
{
	struct et_ctx *c = arg;
	struct timeval zero = { 0, 0 };
	(void)fd;
	if (c->calls < 4)
		c->writes_seen[c->calls] = c->writes;
	++c->calls;
	if (c->calls == 1 && (what & EV_READ))
		event_add(c->writer, &zero);
	else
		event_del(c->ev);
	if (c->calls >= 100)
		event_base_loopbreak(c->base);
}

static void sc_edge_triggered(void)
{
	struct event_base *base = event_base_new();
	int p[2];
	struct et_ctx c;
	begin("edge_triggered");
	make_pipe(p);
	memset(&c, 0, sizeof c);
	c.wfd = p[1];
	c.base = base;
	c.writer = evtimer_new(base, et_writer, &c);
	c.ev = event_new(base, p[0], EV_READ | EV_PERSIST | EV_ET, et_cb, &c);
	event_add(c.ev, NULL);
	put(p[1], "one");
	event_base_dispatch(base);
	out("calls=%d writes_before_call1=%d writes_before_call2=%d", c.calls,
	    c.writes_seen[0], c.writes_seen[1]);
	event_free(c.ev);
	event_free(c.writer);
	close(p[0]);
	close(p[1]);
	event_base_free(base);
	end();
}

static void sc_write_and_closed(void)
{
	struct event_base *base = event_base_new();
	int s[2];
	struct rec r, rd;
	struct event *ev, *er;
	int rc;
	char chunk[65536];
	begin("write_and_closed");
	make_spair(s);

	rec_init(&r, s[0]);
	ev = event_new(base, s[0], EV_WRITE, rec_cb, &r);
	event_add(ev, NULL);
	out("write pending=%s", evbits(event_pending(ev, EV_READ | EV_WRITE, NULL)));
	rc = event_base_dispatch(base);
	print_rec("write_oneshot", &r);
	out("write_oneshot: dispatch=%d", rc);
	event_free(ev);

	rec_init(&r, s[0]);
	ev = event_new(base, s[0], EV_WRITE | EV_PERSIST, rec_cb, &r);
	r.del_self = ev;
	r.del_after = 4;
	event_add(ev, NULL);
	rc = event_base_dispatch(base);
	print_rec("write_persistent_del_at_4", &r);
	event_free(ev);

	/* full socket: no write event until the peer drains */
	memset(chunk, 'x', sizeof chunk);
	while (send(s[0], chunk, sizeof chunk, MSG_DONTWAIT) > 0)
		;
	while (send(s[0], chunk, 1, MSG_DONTWAIT) > 0)
		;
	rec_init(&r, s[0]);
	ev = event_new(base, s[0], EV_WRITE, rec_cb, &r);
	event_add(ev, NULL);
	rc = event_base_loop(base, EVLOOP_NONBLOCK);
	out("full socket nonblock: rc=%d calls=%d", rc, r.calls);
	drain_fd(s[1]);
	rc = event_base_dispatch(base);
	out("after peer drained: dispatch=%d calls=%d what=%s", rc, r.calls, evbits(r.what_or));
	event_free(ev);

	/* read and write on one fd */
	rec_init(&r, s[0]);
	rec_init(&rd, s[0]);
	ev = event_new(base, s[0], EV_WRITE, rec_cb, &r);
	er = event_new(base, s[0], EV_READ, rec_cb, &rd);
	event_add(ev, NULL);
	event_add(er, NULL);
	rc = event_base_loop(base, EVLOOP_ONCE);
	out("rw once: rc=%d write_calls=%d read_calls=%d", rc, r.calls, rd.calls);
	send(s[1], "z", 1, 0);
	rc = event_base_dispatch(base);
	out("rw after data: dispatch=%d write_calls=%d read_calls=%d read_what=%s", rc,
	    r.calls, rd.calls, evbits(rd.what_or));
	event_free(ev);
	event_free(er);

	/* EV_CLOSED */
	rec_init(&r, s[0]);
	ev = event_new(base, s[0], EV_CLOSED, rec_cb, &r);
	event_add(ev, NULL);
	close(s[1]);
	rc = event_base_dispatch(base);
	out("closed: dispatch=%d calls=%d has_CLOSED=%s", rc, r.calls, yn(r.what_or & EV_CLOSED));
	event_free(ev);
	close(s[0]);
	event_base_free(base);
	end();
}

static void sc_timers(void)
{
	struct event_base *base = event_base_new();
	struct rec r;
	struct event *ev;
	struct timeval tv, a, b;
	struct timespec t0;
	int rc, i, differing;
	int p[2];
	begin("timers");

	rec_init(&r, -1);
	ev = evtimer_new(base, rec_cb, &r);
	t0 = sw_start();
	tv = ms(50);
	evtimer_add(ev, &tv);
	out("evtimer pending=%s", evbits(evtimer_pending(ev, NULL)));
	rc = event_base_dispatch(base);
	out("evtimer: dispatch=%d calls=%d what=%s fd_ok=%s not_early=%s pending_after=%s",
	    rc, r.calls, evbits(r.what_or), yn(r.fd_match), yn(sw_us(t0) >= 50000),
	    evbits(evtimer_pending(ev, NULL)));

	rec_init(&r, -1);
	tv = ms(0);
	evtimer_add(ev, &tv);
	rc = event_base_loop(base, EVLOOP_ONCE);
	out("zero timeout once: rc=%d calls=%d", rc, r.calls);
	event_free(ev);

	/* persistent timer, deleted at the 5th call */
	rec_init(&r, -1);
	ev = event_new(base, -1, EV_PERSIST, rec_cb, &r);
	r.del_self = ev;
	r.del_after = 5;
	t0 = sw_start();
	tv = ms(20);
	event_add(ev, &tv);
	rc = event_base_dispatch(base);
	out("persistent: dispatch=%d calls=%d what=%s not_early=%s", rc, r.calls,
	    evbits(r.what_or), yn(sw_us(t0) >= 100000));
	event_free(ev);

	/* re-adding reschedules, sooner and later */
	rec_init(&r, -1);
	ev = evtimer_new(base, rec_cb, &r);
	tv = ms(3600 * 1000);
	evtimer_add(ev, &tv);
	evtimer_pending(ev, &a);
	tv = ms(20);
	evtimer_add(ev, &tv);
	evtimer_pending(ev, &b);
	rc = event_base_dispatch(base);
	out("readd sooner: expiry_sooner=%s dispatch=%d calls=%d", yn(tv_us(b) < tv_us(a)), rc, r.calls);
	rec_init(&r, -1);
	tv = ms(10);
	evtimer_add(ev, &tv);
	t0 = sw_start();
	tv = ms(100);
	evtimer_add(ev, &tv);
	rc = event_base_dispatch(base);
	out("readd later: dispatch=%d calls=%d not_early=%s", rc, r.calls, yn(sw_us(t0) >= 100000));
	event_free(ev);

	/* event_pending's tv: the same value each time it is asked */
	ev = evtimer_new(base, noop_cb, NULL);
	tv = ms(5000);
	evtimer_add(ev, &tv);
	evtimer_pending(ev, &a);
	for (i = 0, differing = 0; i < 1000; ++i) {
		evtimer_pending(ev, &b);
		differing += tv_us(a) != tv_us(b);
	}
	out("pending tv stable over 1000 calls: %s", yn(differing == 0));
	event_free(ev);

	/* tv NULL keeps the timeout (re-added 50 ms later) */
	make_pipe(p);
	rec_init(&r, p[0]);
	ev = event_new(base, p[0], EV_READ, rec_cb, &r);
	tv = ms(100);
	event_add(ev, &tv);
	event_pending(ev, EV_TIMEOUT, &a);
	usleep(50000);
	event_add(ev, NULL);
	rc = event_pending(ev, EV_READ | EV_TIMEOUT, &b);
	out("null tv: pending=%s expiry_kept=%s", evbits(rc),
	    yn(tv_us(b) - tv_us(a) < 20000 && tv_us(a) - tv_us(b) < 20000));
	rc = event_base_dispatch(base);
	print_rec("read_with_timeout_no_data", &r);
	out("read_with_timeout_no_data: dispatch=%d pending_after=%s", rc,
	    evbits(event_pending(ev, EV_READ | EV_TIMEOUT, NULL)));

	/* data before the timeout */
	rec_init(&r, p[0]);
	tv = ms(3600 * 1000);
	event_add(ev, &tv);
	put(p[1], "x");
	rc = event_base_dispatch(base);
	print_rec("read_with_timeout_data", &r);
	out("read_with_timeout_data: dispatch=%d pending_after=%s", rc,
	    evbits(event_pending(ev, EV_READ | EV_TIMEOUT, NULL)));
	event_free(ev);
	drain_fd(p[0]);

	/* persistent read with timeout: times out again and again */
	rec_init(&r, p[0]);
	ev = event_new(base, p[0], EV_READ | EV_PERSIST, rec_cb, &r);
	r.del_self = ev;
	r.del_after = 3;
	tv = ms(15);
	event_add(ev, &tv);
	rc = event_base_dispatch(base);
	print_rec("persistent_read_timeouts", &r);
	event_free(ev);

	/* a signal event with a timeout */
	rec_init(&r, SIGUSR1);
	ev = event_new(base, SIGUSR1, EV_SIGNAL, rec_cb, &r);
	tv = ms(20);
	event_add(ev, &tv);
	out("signal with timeout pending=%s", evbits(event_pending(ev, EV_SIGNAL | EV_TIMEOUT, NULL)));
	rc = event_base_dispatch(base);
	print_rec("signal_timeout", &r);
	event_free(ev);
	close(p[0]);
	close(p[1]);
	event_base_free(base);
	end();
}

/* Deleting and freeing from callbacks. */
static int g_calls;

static void free_self_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	++g_calls;
	event_free((struct event *)arg);
}

struct readd_ctx {
	struct event *ev;
	int calls;
};

static void readd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct readd_ctx *c = arg;
	struct timeval tv = { 0, 1000 };
	(void)fd;
	(void)what;
	if (++c->calls < 3)
		event_add(c->ev, &tv);
}

/* Two events active together; whichever runs first deletes or frees the
 * other. */
struct pair_ctx {
	struct event *ev[2];
	int calls[2];
	int use_free;
	int victim;
};

static void pair_act(struct pair_ctx *c, int me)
{
	++c->calls[me];
	if (c->victim < 0) {
		c->victim = 1 - me;
		if (c->use_free) {
			event_free(c->ev[c->victim]);
			c->ev[c->victim] = NULL;
		} else {
			event_del(c->ev[c->victim]);
		}
	}
}

static void pair_cb0(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pair_act(arg, 0);
}

static void pair_cb1(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pair_act(arg, 1);
}

static void pair_free(struct pair_ctx *c)
{
	if (c->ev[0])
		event_free(c->ev[0]);
	if (c->ev[1])
		event_free(c->ev[1]);
}

static void sc_callbacks_del_free(void)
{
	struct event_base *base = event_base_new();
	struct event *ev;
	struct timeval tv;
	struct readd_ctx rc_;
	struct pair_ctx pc;
	int p[2], rc;
	begin("callbacks_del_free");
	make_pipe(p);
	put(p[1], "x");

	g_calls = 0;
	ev = event_new(base, p[0], EV_READ | EV_PERSIST, free_self_cb, event_self_cbarg());
	event_add(ev, NULL);
	rc = event_base_dispatch(base);
	out("free in own callback (fd): dispatch=%d calls=%d", rc, g_calls);

	g_calls = 0;
	ev = event_new(base, -1, EV_PERSIST, free_self_cb, event_self_cbarg());
	tv = ms(5);
	event_add(ev, &tv);
	rc = event_base_dispatch(base);
	out("free in own callback (timer): dispatch=%d calls=%d", rc, g_calls);

	g_calls = 0;
	ev = event_new(base, SIGUSR2, EV_SIGNAL | EV_PERSIST, free_self_cb, event_self_cbarg());
	event_add(ev, NULL);
	raise(SIGUSR2);
	rc = event_base_dispatch(base);
	out("free in own callback (signal): dispatch=%d calls=%d", rc, g_calls);

	memset(&rc_, 0, sizeof rc_);
	rc_.ev = evtimer_new(base, readd_cb, &rc_);
	tv = ms(1);
	evtimer_add(rc_.ev, &tv);
	rc = event_base_dispatch(base);
	out("re-add in own callback: dispatch=%d calls=%d", rc, rc_.calls);
	event_free(rc_.ev);

	memset(&pc, 0, sizeof pc);
	pc.victim = -1;
	pc.ev[0] = evtimer_new(base, pair_cb0, &pc);
	pc.ev[1] = evtimer_new(base, pair_cb1, &pc);
	event_active(pc.ev[0], EV_TIMEOUT, 1);
	event_active(pc.ev[1], EV_TIMEOUT, 1);
	rc = event_base_dispatch(base);
	out("del active other: dispatch=%d total_calls=%d victim_calls=%d victim_pending=%s", rc,
	    pc.calls[0] + pc.calls[1], pc.calls[pc.victim < 0 ? 0 : pc.victim],
	    evbits(event_pending(pc.ev[pc.victim < 0 ? 0 : pc.victim], EV_TIMEOUT | EV_READ, NULL)));
	pair_free(&pc);

	memset(&pc, 0, sizeof pc);
	pc.victim = -1;
	pc.ev[0] = event_new(base, p[0], EV_READ, pair_cb0, &pc);
	pc.ev[1] = event_new(base, p[0], EV_READ, pair_cb1, &pc);
	event_add(pc.ev[0], NULL);
	event_add(pc.ev[1], NULL);
	rc = event_base_dispatch(base);
	out("del same-fd other: dispatch=%d total_calls=%d", rc, pc.calls[0] + pc.calls[1]);
	pair_free(&pc);

	memset(&pc, 0, sizeof pc);
	pc.victim = -1;
	pc.use_free = 1;
	pc.ev[0] = evtimer_new(base, pair_cb0, &pc);
	pc.ev[1] = evtimer_new(base, pair_cb1, &pc);
	event_active(pc.ev[0], EV_TIMEOUT, 1);
	event_active(pc.ev[1], EV_TIMEOUT, 1);
	rc = event_base_dispatch(base);
	out("free active other: dispatch=%d total_calls=%d", rc, pc.calls[0] + pc.calls[1]);
	pair_free(&pc);

	close(p[0]);
	close(p[1]);
	event_base_free(base);
	end();
}

static void sc_pending_active(void)
{
	struct event_base *base = event_base_new();
	int s[2], p[2], rc;
	struct event *ev;
	struct timeval tv, out_tv;
	struct rec r;
	long long before;
	begin("pending_active");
	make_spair(s);
	make_pipe(p);

	ev = event_new(base, s[0], EV_READ | EV_WRITE, noop_cb, NULL);
	out("not added: %s", evbits(event_pending(ev, EV_READ | EV_WRITE | EV_TIMEOUT, NULL)));
	event_add(ev, NULL);
	out("added: %s", evbits(event_pending(ev, EV_READ | EV_WRITE | EV_TIMEOUT, NULL)));
	out("asked READ: %s", evbits(event_pending(ev, EV_READ, NULL)));
	tv = ms(5000);
	gettimeofday(&out_tv, NULL);
	before = tv_us(out_tv);
	event_add(ev, &tv);
	out("with timeout: %s", evbits(event_pending(ev, EV_READ | EV_WRITE | EV_TIMEOUT, NULL)));
	event_pending(ev, EV_TIMEOUT, &out_tv);
	out("tv about now+5s: %s", yn(tv_us(out_tv) >= before + 4000000 && tv_us(out_tv) <= before + 7000000));
	out_tv.tv_sec = 12345;
	out_tv.tv_usec = 678;
	event_pending(ev, EV_READ, &out_tv);
	out("tv untouched when not asked: %s", yn(out_tv.tv_sec == 12345 && out_tv.tv_usec == 678));
	event_del(ev);
	out("deleted: %s", evbits(event_pending(ev, EV_READ | EV_WRITE | EV_TIMEOUT, NULL)));
	event_free(ev);

	/* active results */
	ev = evtimer_new(base, noop_cb, NULL);
	event_active(ev, EV_WRITE, 1);
	out("active WRITE: %s", evbits(event_pending(ev, EV_READ | EV_WRITE | EV_TIMEOUT, NULL)));
	rc = event_base_dispatch(base);
	out("after run: dispatch=%d pending=%s", rc, evbits(event_pending(ev, EV_READ | EV_WRITE | EV_TIMEOUT, NULL)));
	event_free(ev);

	/* event_active on a persistent event that was never added */
	rec_init(&r, p[0]);
	ev = event_new(base, p[0], EV_READ | EV_PERSIST, rec_cb, &r);
	event_active(ev, EV_WRITE, 1);
	rc = event_base_loop(base, EVLOOP_ONCE);
	out("active not added: once=%d calls=%d what=%s pending_after=%s", rc, r.calls,
	    evbits(r.what_or), evbits(event_pending(ev, EV_READ | EV_WRITE | EV_TIMEOUT, NULL)));
	if (!event_pending(ev, EV_READ, NULL))
		out("active not added: dispatch=%d", event_base_dispatch(base));
	else
		out("active not added: dispatch skipped (it would wait on the empty pipe)");
	event_free(ev);

	/* event_active on a pending persistent event */
	rec_init(&r, p[0]);
	ev = event_new(base, p[0], EV_READ | EV_PERSIST, rec_cb, &r);
	event_add(ev, NULL);
	event_active(ev, EV_READ, 1);
	rc = event_base_loop(base, EVLOOP_ONCE);
	out("active pending persistent: once=%d calls=%d pending=%s", rc, r.calls,
	    evbits(event_pending(ev, EV_READ, NULL)));
	event_free(ev);

	/* on a pending one-shot event with a timeout */
	rec_init(&r, p[0]);
	ev = event_new(base, p[0], EV_READ, rec_cb, &r);
	tv = ms(5000);
	event_add(ev, &tv);
	event_active(ev, EV_READ, 1);
	rc = event_base_dispatch(base);
	out("active pending oneshot: dispatch=%d calls=%d pending_after=%s", rc, r.calls,
	    evbits(event_pending(ev, EV_READ | EV_TIMEOUT, NULL)));
	event_free(ev);

	/* twice: merged */
	rec_init(&r, -1);
	ev = evtimer_new(base, rec_cb, &r);
	event_active(ev, EV_READ, 1);
	event_active(ev, EV_WRITE, 1);
	rc = event_base_dispatch(base);
	out("active twice: dispatch=%d calls=%d what=%s", rc, r.calls, evbits(r.last_what));
	event_free(ev);

	close(s[0]);
	close(s[1]);
	close(p[0]);
	close(p[1]);
	event_base_free(base);
	end();
}

static void sc_base_once(void)
{
	struct event_base *base = event_base_new();
	struct rec r;
	struct timeval tv;
	struct timespec t0;
	int p[2], rc, r1, r2;
	begin("base_once");
	make_pipe(p);

	rec_init(&r, -1);
	tv = ms(30);
	t0 = sw_start();
	rc = event_base_once(base, -1, EV_TIMEOUT, rec_cb, &r, &tv);
	out("timer: rc=%d added=%d", rc, event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED));
	rc = event_base_dispatch(base);
	out("timer: dispatch=%d calls=%d what=%s not_early=%s left=%d", rc, r.calls, evbits(r.what_or),
	    yn(sw_us(t0) >= 30000),
	    event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED | EVENT_BASE_COUNT_ACTIVE));

	rec_init(&r, -1);
	rc = event_base_once(base, -1, EV_TIMEOUT, rec_cb, &r, NULL);
	r1 = event_base_loop(base, EVLOOP_ONCE);
	out("null timeout: rc=%d once=%d calls=%d", rc, r1, r.calls);
	r2 = event_base_dispatch(base);
	out("null timeout: then dispatch=%d calls=%d", r2, r.calls);

	rec_init(&r, p[0]);
	rc = event_base_once(base, p[0], EV_READ, rec_cb, &r, NULL);
	put(p[1], "stays");
	rc = event_base_dispatch(base);
	print_rec("fd", &r);
	out("fd: dispatch=%d", rc);
	drain_fd(p[0]);

	rec_init(&r, p[0]);
	tv = ms(20);
	event_base_once(base, p[0], EV_READ, rec_cb, &r, &tv);
	rc = event_base_dispatch(base);
	print_rec("fd_timeout", &r);

	r1 = event_base_once(base, SIGUSR1, EV_SIGNAL, noop_cb, NULL, NULL);
	r2 = event_base_once(base, -1, EV_TIMEOUT | EV_PERSIST, noop_cb, NULL, &tv);
	out("refused: signal=%d persist=%d dispatch=%d", r1, r2, event_base_dispatch(base));
	close(p[0]);
	close(p[1]);
	event_base_free(base);
	end();
}

static void sc_counts_and_time(void)
{
	struct event_base *base = event_base_new();
	struct event *r, *t, *rt, *u;
	struct timeval tv;
	int p[2];
	begin("counts_and_time");
	make_pipe(p);
#define COUNTS(label) out("%s: added=%d active=%d both=%d virtual=%d", label, \
	event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED), \
	event_base_get_num_events(base, EVENT_BASE_COUNT_ACTIVE), \
	event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED | EVENT_BASE_COUNT_ACTIVE), \
	event_base_get_num_events(base, EVENT_BASE_COUNT_VIRTUAL))
	COUNTS("fresh");
	r = event_new(base, p[0], EV_READ, noop_cb, NULL);
	event_add(r, NULL);
	COUNTS("read added");
	t = evtimer_new(base, noop_cb, NULL);
	tv = ms(5000);
	evtimer_add(t, &tv);
	COUNTS("timer added");
	rt = event_new(base, p[0], EV_READ, noop_cb, NULL);
	event_add(rt, &tv);
	COUNTS("read with timeout added");
	u = evtimer_new(base, noop_cb, NULL);
	event_active(u, EV_TIMEOUT, 1);
	COUNTS("non-added active");
	event_active(r, EV_READ, 1);
	COUNTS("added read active");
	event_free(r);
	event_free(t);
	event_free(rt);
	event_free(u);
	COUNTS("all freed");
#undef COUNTS
	close(p[0]);
	close(p[1]);
	event_base_free(base);
	end();
}

struct cached_ctx {
	struct event_base *base;
	struct timeval a, b;
	int rc1, rc2;
};

static void cached_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cached_ctx *c = arg;
	(void)fd;
	(void)what;
	c->rc1 = event_base_gettimeofday_cached(c->base, &c->a);
	usleep(30000);
	c->rc2 = event_base_gettimeofday_cached(c->base, &c->b);
}

static void sc_cached_time(void)
{
	struct event_base *base = event_base_new();
	struct cached_ctx c;
	struct event *ev;
	struct timeval now, got;
	int rc;
	begin("cached_time");
	memset(&c, 0, sizeof c);
	c.base = base;
	gettimeofday(&now, NULL);
	rc = event_base_gettimeofday_cached(base, &got);
	out("outside loop: rc=%d about_now=%s", rc,
	    yn(tv_us(got) > tv_us(now) - 1000000 && tv_us(got) < tv_us(now) + 1000000));
	ev = evtimer_new(base, cached_cb, &c);
	event_active(ev, EV_TIMEOUT, 1);
	event_base_dispatch(base);
	out("inside callback: rc=%d,%d same_value_after_30ms=%s", c.rc1, c.rc2,
	    yn(tv_us(c.a) == tv_us(c.b)));
	event_free(ev);
	event_base_free(base);
	end();
}

/* Signals. */
struct sig_ctx {
	struct event *ev;
	int calls;
	int fd_ok;
	int what;
	int on_main;
};

static pthread_t g_main;

static void sig_del_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sig_ctx *c = arg;
	++c->calls;
	c->fd_ok = fd == SIGUSR1 || fd == SIGUSR2;
	c->what = what;
	c->on_main = pthread_equal(pthread_self(), g_main) != 0;
	event_del(c->ev);
}

struct sig_loop_ctx {
	struct event_base *base;
	struct event *after;
	int calls;
	int after_calls;
	int on_main;
};

static void sig_loop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sig_loop_ctx *c = arg;
	struct timeval zero = { 0, 0 };
	(void)fd;
	++c->calls;
	c->on_main = pthread_equal(pthread_self(), g_main) != 0 && what == EV_SIGNAL;
	event_add(c->after, &zero);
	event_base_loopexit(c->base, NULL);
}

static void count_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	++*(int *)arg;
}

static void kill_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	kill(getpid(), SIGUSR1);
}

static void sc_signals(void)
{
	struct event_base *base = event_base_new();
	struct sig_ctx c[3], kept, removed;
	struct sig_loop_ctx lc;
	struct event *kicker, *ev;
	struct rec r;
	struct timeval tv;
	int i, rc;
	begin("signals");
	g_main = pthread_self();

	memset(c, 0, sizeof c);
	for (i = 0; i < 3; ++i) {
		c[i].ev = evsignal_new(base, SIGUSR1, sig_del_cb, &c[i]);
		evsignal_add(c[i].ev, NULL);
	}
	out("evsignal events=%s pending=%s", evbits(event_get_events(c[0].ev)),
	    evbits(evsignal_pending(c[0].ev, NULL)));
	raise(SIGUSR1);
	rc = event_base_dispatch(base);
	out("three on SIGUSR1: dispatch=%d", rc);
	for (i = 0; i < 3; ++i) {
		out("  event %d: calls=%d fd_ok=%s what=%s main_thread=%s", i, c[i].calls,
		    yn(c[i].fd_ok), evbits(c[i].what), yn(c[i].on_main));
		event_free(c[i].ev);
	}

	memset(&lc, 0, sizeof lc);
	lc.base = base;
	ev = evsignal_new(base, SIGUSR1, sig_loop_cb, &lc);
	lc.after = evtimer_new(base, count_cb, &lc.after_calls);
	kicker = evtimer_new(base, kill_cb, NULL);
	evsignal_add(ev, NULL);
	tv = ms(10);
	evtimer_add(kicker, &tv);
	rc = event_base_dispatch(base);
	out("kill from a timer: dispatch=%d got_exit=%d calls=%d main_thread=%s still_pending=%s", rc,
	    event_base_got_exit(base), lc.calls, yn(lc.on_main), evbits(evsignal_pending(ev, NULL)));
	if (lc.after_calls == 0)
		event_base_loop(base, EVLOOP_ONCE);
	out("timer added by the signal callback ran: %s", yn(lc.after_calls == 1));
	event_free(kicker);
	event_free(lc.after);
	event_free(ev);

	rec_init(&r, SIGUSR1);
	ev = event_new(base, SIGUSR1, EV_SIGNAL, rec_cb, &r);
	event_add(ev, NULL);
	raise(SIGUSR1);
	rc = event_base_dispatch(base);
	print_rec("oneshot signal", &r);
	out("oneshot signal: dispatch=%d pending_after=%s", rc, evbits(evsignal_pending(ev, NULL)));
	event_free(ev);

	memset(&kept, 0, sizeof kept);
	memset(&removed, 0, sizeof removed);
	kept.ev = evsignal_new(base, SIGUSR2, sig_del_cb, &kept);
	removed.ev = evsignal_new(base, SIGUSR2, sig_del_cb, &removed);
	evsignal_add(kept.ev, NULL);
	evsignal_add(removed.ev, NULL);
	evsignal_del(removed.ev);
	raise(SIGUSR2);
	rc = event_base_dispatch(base);
	out("one of two deleted: dispatch=%d kept=%d removed=%d", rc, kept.calls, removed.calls);
	event_free(kept.ev);
	event_free(removed.ev);
	event_base_free(base);
	end();
}

/* Loop flags with events. */
struct stop_ctx {
	struct event_base *base;
	int use_break;
	int calls[2];
	int first;
};

static void stop_act(struct stop_ctx *c, int me)
{
	++c->calls[me];
	if (c->first < 0) {
		c->first = me;
		if (c->use_break)
			event_base_loopbreak(c->base);
		else
			event_base_loopexit(c->base, NULL);
	}
}

static void stop_cb0(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	stop_act(arg, 0);
}

static void stop_cb1(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	stop_act(arg, 1);
}

static void sc_loop_flags(void)
{
	struct event_base *base = event_base_new();
	int p[2], q[2], rc, other;
	struct rec r1, r2;
	struct event *e1, *e2, *keep;
	struct timeval tv, tv2;
	struct stop_ctx sc;
	struct timespec t0;
	int ticks = 0;
	begin("loop_flags");
	make_pipe(p);
	make_pipe(q);

	out("nonblock, no events: %d", event_base_loop(base, EVLOOP_NONBLOCK));
	rec_init(&r1, p[0]);
	rec_init(&r2, q[0]);
	e1 = event_new(base, p[0], EV_READ, rec_cb, &r1);
	e2 = event_new(base, q[0], EV_READ, rec_cb, &r2);
	event_add(e1, NULL);
	event_add(e2, NULL);
	put(p[1], "x");
	rc = event_base_loop(base, EVLOOP_NONBLOCK);
	out("nonblock one ready: rc=%d ready_calls=%d idle_calls=%d idle_pending=%s", rc, r1.calls,
	    r2.calls, evbits(event_pending(e2, EV_READ, NULL)));
	rc = event_base_loop(base, EVLOOP_NONBLOCK);
	out("nonblock nothing ready: rc=%d idle_calls=%d", rc, r2.calls);
	event_free(e1);
	event_free(e2);
	drain_fd(p[0]);

	rec_init(&r1, -1);
	rec_init(&r2, -1);
	e1 = evtimer_new(base, rec_cb, &r1);
	e2 = evtimer_new(base, rec_cb, &r2);
	tv = ms(20);
	tv2 = ms(3600 * 1000);
	evtimer_add(e1, &tv);
	evtimer_add(e2, &tv2);
	rc = event_base_loop(base, EVLOOP_ONCE);
	out("once with two timers: rc=%d soon=%d late=%d late_pending=%s", rc, r1.calls, r2.calls,
	    evbits(evtimer_pending(e2, NULL)));
	event_free(e1);
	event_free(e2);

	/* EVLOOP_ONCE with two ready persistent events */
	rec_init(&r1, p[0]);
	rec_init(&r2, q[0]);
	r1.guard = r2.guard = base;
	e1 = event_new(base, p[0], EV_READ | EV_PERSIST, rec_cb, &r1);
	e2 = event_new(base, q[0], EV_READ | EV_PERSIST, rec_cb, &r2);
	event_add(e1, NULL);
	event_add(e2, NULL);
	put(p[1], "a");
	put(q[1], "b");
	rc = event_base_loop(base, EVLOOP_ONCE);
	out("once with two ready persistent: rc=%d calls=%d,%d", rc, r1.calls, r2.calls);
	event_free(e1);
	event_free(e2);

	/* loopexit / loopbreak from the first of two active callbacks */
	memset(&sc, 0, sizeof sc);
	sc.base = base;
	sc.first = -1;
	e1 = evtimer_new(base, stop_cb0, &sc);
	e2 = evtimer_new(base, stop_cb1, &sc);
	drain_fd(q[0]);
	keep = event_new(base, q[0], EV_READ, noop_cb, NULL);
	event_add(keep, NULL);
	event_active(e1, EV_TIMEOUT, 1);
	event_active(e2, EV_TIMEOUT, 1);
	rc = event_base_dispatch(base);
	out("loopexit from callback: dispatch=%d got_exit=%d got_break=%d calls=%d,%d", rc,
	    event_base_got_exit(base), event_base_got_break(base), sc.calls[0], sc.calls[1]);
	memset(&sc, 0, sizeof sc);
	sc.base = base;
	sc.first = -1;
	sc.use_break = 1;
	event_active(e1, EV_TIMEOUT, 1);
	event_active(e2, EV_TIMEOUT, 1);
	rc = event_base_dispatch(base);
	other = sc.first < 0 ? 0 : 1 - sc.first;
	out("loopbreak from callback: dispatch=%d got_break=%d first=%d other=%d other_pending=%s", rc,
	    event_base_got_break(base), sc.calls[sc.first < 0 ? 0 : sc.first], sc.calls[other],
	    evbits(event_pending(other ? e2 : e1, EV_TIMEOUT, NULL)));
	rc = event_base_loop(base, EVLOOP_NONBLOCK);
	out("next loop: rc=%d other=%d got_break=%d", rc, sc.calls[other], event_base_got_break(base));
	event_free(e1);
	event_free(e2);
	event_free(keep);

	/* loopexit with a timeout over a persistent timer */
	e1 = event_new(base, -1, EV_PERSIST, count_cb, &ticks);
	tv = ms(5);
	event_add(e1, &tv);
	t0 = sw_start();
	tv2 = ms(60);
	event_base_loopexit(base, &tv2);
	rc = event_base_dispatch(base);
	out("loopexit(60ms) with 5ms ticker: dispatch=%d got_exit=%d not_early=%s ticked=%s still_pending=%s",
	    rc, event_base_got_exit(base), yn(sw_us(t0) >= 60000), yn(ticks >= 1),
	    evbits(event_pending(e1, EV_TIMEOUT, NULL)));
	event_free(e1);

	/* loopbreak with an always-ready persistent event */
	rec_init(&r1, p[0]);
	r1.guard = base;
	r1.limit = 50;
	e1 = event_new(base, p[0], EV_READ | EV_PERSIST, rec_cb, &r1);
	event_add(e1, NULL);
	put(p[1], "never read");
	rc = event_base_dispatch(base);
	out("loopbreak at 50: dispatch=%d calls=%d got_break=%d", rc, r1.calls, event_base_got_break(base));

	/* loopexit before dispatch: one round of ready events */
	rec_init(&r1, p[0]);
	event_base_loopexit(base, NULL);
	rc = event_base_dispatch(base);
	out("loopexit before dispatch: dispatch=%d calls=%d got_exit=%d", rc, r1.calls,
	    event_base_got_exit(base));
	event_free(e1);

	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	event_base_free(base);
	end();
}

/* ------------------------------------------------------------------ */
/* One pass per EVLOOP_ONCE|EVLOOP_NONBLOCK call (libevent's
 * main/many_events_slow_add), EV_ET in `what`, NULL callbacks. */

#define ONE_PASS_MANY 70

static void one_pass_count(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	++*(int *)arg;
}

static void sc_one_pass(void)
{
	evutil_socket_t sock[ONE_PASS_MANY];
	struct event *ev[ONE_PASS_MANY];
	int called[ONE_PASS_MANY];
	int i, wrong = 0, p[2];
	struct event_base *base;
	struct event *et, *keep;
	struct rec r;
	struct timeval hour = { 3600, 0 }, soon = { 0, 20000 };

	begin("one_pass");
	base = event_base_new();
	for (i = 0; i < ONE_PASS_MANY; ++i) {
		sock[i] = socket(AF_INET, SOCK_DGRAM, 0);
		evutil_make_socket_nonblocking(sock[i]);
		called[i] = 0;
		ev[i] = event_new(base, sock[i], EV_WRITE | EV_PERSIST, one_pass_count, &called[i]);
		event_add(ev[i], NULL);
		event_base_loop(base, EVLOOP_NONBLOCK | EVLOOP_ONCE);
	}
	event_base_loop(base, EVLOOP_NONBLOCK | EVLOOP_ONCE);
	for (i = 0; i < ONE_PASS_MANY; ++i) {
		if (called[i] != ONE_PASS_MANY - i + 1)
			++wrong;
		event_free(ev[i]);
		close(sock[i]);
	}
	out("many events, one pass per call: first=%d last=%d wrong=%d", called[0],
	    called[ONE_PASS_MANY - 1], wrong);

	make_pipe(p);
	rec_init(&r, p[0]);
	et = event_new(base, p[0], EV_READ | EV_ET, rec_cb, &r);
	event_add(et, NULL);
	put(p[1], "x");
	event_base_loop(base, EVLOOP_ONCE);
	print_rec("EV_ET read", &r);
	event_free(et);
	close(p[0]);
	close(p[1]);

	keep = evtimer_new(base, NULL, NULL);
	out("evtimer_new with NULL callback: %s", yn(keep != NULL));
	if (keep) {
		int rc;
		evtimer_add(keep, &hour);
		event_base_loopexit(base, &soon);
		rc = event_base_dispatch(base);
		out("dispatch with it parked: %d got_exit=%s pending=%s", rc,
		    yn(event_base_got_exit(base)), yn(evtimer_pending(keep, NULL) != 0));
		event_free(keep);
	}
	event_base_free(base);
	end();
}

/* ================================================================== */
/* Bufferevents. */

struct bseen {
	struct event_base *base;
	int reads, writes, events;
	int whats[8];
	int err;
	int exit_on_event;
	char data[1024];
	size_t len;
	size_t input_at_read, output_at_write;
};

static void b_read_count(struct bufferevent *bev, void *arg)
{
	struct bseen *s = arg;
	++s->reads;
	s->input_at_read = evbuffer_get_length(bufferevent_get_input(bev));
}

static void b_read_take(struct bufferevent *bev, void *arg)
{
	struct bseen *s = arg;
	size_t n;
	++s->reads;
	while (s->len < sizeof s->data - 1 &&
	    (n = bufferevent_read(bev, s->data + s->len, sizeof s->data - 1 - s->len)) > 0)
		s->len += n;
	s->data[s->len] = '\0';
}

static void b_write_count(struct bufferevent *bev, void *arg)
{
	struct bseen *s = arg;
	++s->writes;
	s->output_at_write = evbuffer_get_length(bufferevent_get_output(bev));
}

static void b_event(struct bufferevent *bev, short what, void *arg)
{
	struct bseen *s = arg;
	(void)bev;
	s->err = errno;
	if (s->events < 8)
		s->whats[s->events] = what;
	++s->events;
	if (s->exit_on_event)
		event_base_loopexit(s->base, NULL);
}

static void print_bseen(const char *label, const struct bseen *s)
{
	out("%s: reads=%d writes=%d events=%d first_event=%s", label, s->reads, s->writes,
	    s->events, s->events ? bevbits(s->whats[0]) : "-");
}

static int tcp_listener(struct sockaddr_storage *ss, socklen_t *len, int v6)
{
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(ss, 0, sizeof *ss);
	if (fd < 0)
		return -1;
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		*len = sizeof *a;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof *a;
	}
	if (bind(fd, (struct sockaddr *)ss, *len) < 0 || listen(fd, 16) < 0) {
		close(fd);
		return -1;
	}
	getsockname(fd, (struct sockaddr *)ss, len);
	return fd;
}

static void sc_bev_basics(void)
{
	struct event_base *base = event_base_new();
	struct bufferevent *bev;
	int s[2], rc;
	struct bseen bs;
	bufferevent_data_cb r, w;
	bufferevent_event_cb e;
	void *arg;
	size_t lo, hi;
	begin("bev_basics");
	bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	out("fd -1: getfd=%d base_same=%s enabled=%s in_out_distinct=%s dns_error=%d",
	    (int)bufferevent_getfd(bev), yn(bufferevent_get_base(bev) == base),
	    evbits(bufferevent_get_enabled(bev)),
	    yn(bufferevent_get_input(bev) && bufferevent_get_output(bev) &&
	    bufferevent_get_input(bev) != bufferevent_get_output(bev)),
	    bufferevent_socket_get_dns_error(bev));
	rc = event_base_dispatch(base);
	out("fd -1: dispatch=%d", rc);
	bufferevent_free(bev);

	make_spair(s);
	bev = bufferevent_socket_new(base, s[0], 0);
	out("socket: getfd_same=%s", yn(bufferevent_getfd(bev) == s[0]));
	memset(&bs, 0, sizeof bs);
	bufferevent_setcb(bev, b_read_count, b_write_count, b_event, &bs);
	bufferevent_getcb(bev, &r, &w, &e, &arg);
	out("getcb: %s %s %s %s", yn(r == b_read_count), yn(w == b_write_count), yn(e == b_event),
	    yn(arg == (void *)&bs));
	out("enabled: start=%s", evbits(bufferevent_get_enabled(bev)));
	rc = bufferevent_enable(bev, EV_READ);
	out("enable(READ)=%d -> %s", rc, evbits(bufferevent_get_enabled(bev)));
	rc = bufferevent_disable(bev, EV_WRITE);
	out("disable(WRITE)=%d -> %s", rc, evbits(bufferevent_get_enabled(bev)));
	rc = bufferevent_disable(bev, EV_READ);
	out("disable(READ)=%d -> %s", rc, evbits(bufferevent_get_enabled(bev)));
	rc = bufferevent_enable(bev, EV_READ | EV_WRITE);
	out("enable(READ|WRITE)=%d -> %s", rc, evbits(bufferevent_get_enabled(bev)));
	bufferevent_setwatermark(bev, EV_READ, 10, 100);
	bufferevent_setwatermark(bev, EV_WRITE, 20, 0);
	lo = hi = 1;
	rc = bufferevent_getwatermark(bev, EV_READ, &lo, &hi);
	out("getwatermark READ=%d %u/%u", rc, (unsigned)lo, (unsigned)hi);
	rc = bufferevent_getwatermark(bev, EV_WRITE, &lo, &hi);
	out("getwatermark WRITE=%d %u/%u", rc, (unsigned)lo, (unsigned)hi);
	rc = bufferevent_getwatermark(bev, EV_READ | EV_WRITE, &lo, &hi);
	out("getwatermark READ|WRITE=%d", rc);
	rc = bufferevent_flush(bev, EV_WRITE, BEV_NORMAL);
	out("flush NORMAL=%d", rc);
	rc = bufferevent_flush(bev, EV_WRITE, BEV_FLUSH);
	out("flush FLUSH=%d", rc);
	rc = bufferevent_flush(bev, EV_READ | EV_WRITE, BEV_FINISHED);
	out("flush FINISHED=%d", rc);
	bufferevent_lock(bev);
	bufferevent_lock(bev);
	bufferevent_unlock(bev);
	bufferevent_unlock(bev);
	out("lock/unlock without THREADSAFE: ok");
	bufferevent_free(bev);
	close(s[0]);
	close(s[1]);

	make_spair(s);
	bev = bufferevent_socket_new(base, s[0], BEV_OPT_UNLOCK_CALLBACKS);
	out("UNLOCK_CALLBACKS alone refused: %s", yn(bev == NULL));
	if (bev)
		bufferevent_free(bev);
	close(s[0]);
	close(s[1]);
	event_base_free(base);
	end();
}

static void sc_bev_connect(void)
{
	struct event_base *base = event_base_new();
	struct bufferevent *bev;
	struct sockaddr_storage ss;
	socklen_t len;
	int lfd, peer, fd, hold, rc;
	struct bseen bs;
	char buf[16];
	begin("bev_connect");

	lfd = tcp_listener(&ss, &len, 0);
	bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	memset(&bs, 0, sizeof bs);
	bs.base = base;
	bs.exit_on_event = 1;
	bufferevent_setcb(bev, NULL, NULL, b_event, &bs);
	rc = bufferevent_socket_connect(bev, (struct sockaddr *)&ss, (int)len);
	out("connect rc=%d has_fd=%s", rc, yn(bufferevent_getfd(bev) >= 0));
	event_base_dispatch(base);
	print_bseen("ipv4", &bs);
	peer = accept(lfd, NULL, NULL);
	out("ipv4: accepted=%s", yn(peer >= 0));
	close(peer);
	bufferevent_free(bev);

	/* written before the connect completes */
	bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	memset(&bs, 0, sizeof bs);
	bufferevent_setcb(bev, NULL, b_write_count, b_event, &bs);
	bufferevent_socket_connect(bev, (struct sockaddr *)&ss, (int)len);
	bufferevent_write(bev, "early bird", 10);
	event_base_dispatch(base);
	print_bseen("early write", &bs);
	peer = accept(lfd, NULL, NULL);
	memset(buf, 0, sizeof buf);
	recv_n(peer, buf, 10);
	out("early write: peer got \"%s\"", buf);
	close(peer);
	bufferevent_free(bev);

	/* given an unconnected socket */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	memset(&bs, 0, sizeof bs);
	bs.base = base;
	bs.exit_on_event = 1;
	bufferevent_setcb(bev, NULL, NULL, b_event, &bs);
	rc = bufferevent_socket_connect(bev, (struct sockaddr *)&ss, (int)len);
	out("own socket: connect rc=%d same_fd=%s", rc, yn(bufferevent_getfd(bev) == fd));
	event_base_dispatch(base);
	print_bseen("own socket", &bs);
	peer = accept(lfd, NULL, NULL);
	close(peer);
	bufferevent_free(bev);
	close(lfd);

	/* refused: a bound socket that does not listen holds the port */
	hold = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&ss, 0, sizeof ss);
	((struct sockaddr_in *)&ss)->sin_family = AF_INET;
	((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	len = sizeof(struct sockaddr_in);
	bind(hold, (struct sockaddr *)&ss, len);
	getsockname(hold, (struct sockaddr *)&ss, &len);
	bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	memset(&bs, 0, sizeof bs);
	bs.base = base;
	bs.exit_on_event = 1;
	bufferevent_setcb(bev, NULL, b_write_count, b_event, &bs);
	rc = bufferevent_socket_connect(bev, (struct sockaddr *)&ss, (int)len);
	out("refused: connect rc=%d", rc);
	event_base_dispatch(base);
	print_bseen("refused", &bs);
	out("refused: errno=%s", errname(bs.err));
	bufferevent_free(bev);
	close(hold);

	/* IPv6, when the host has it */
	lfd = tcp_listener(&ss, &len, 1);
	if (lfd >= 0) {
		bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
		memset(&bs, 0, sizeof bs);
		bs.base = base;
		bs.exit_on_event = 1;
		bufferevent_setcb(bev, NULL, NULL, b_event, &bs);
		bufferevent_socket_connect(bev, (struct sockaddr *)&ss, (int)len);
		event_base_dispatch(base);
		out("ipv6: first_event=%s", bs.events ? bevbits(bs.whats[0]) : "-");
		bufferevent_free(bev);
		close(lfd);
	} else {
		out("ipv6: first_event=CONNECTED");  /* no IPv6 here: same line */
	}
	event_base_free(base);
	end();
}

static int input_at_least_6(void *arg)
{
	return evbuffer_get_length(bufferevent_get_input(arg)) >= 6;
}

static void sc_bev_io(void)
{
	struct event_base *base = event_base_new();
	struct bufferevent *bev;
	struct evbuffer *src;
	struct bseen bs;
	int s[2], rc;
	char buf[64];
	size_t n;
	begin("bev_io");

	make_spair(s);
	bev = bufferevent_socket_new(base, s[0], 0);
	memset(&bs, 0, sizeof bs);
	bufferevent_setcb(bev, NULL, b_write_count, b_event, &bs);
	rc = bufferevent_write(bev, "hello", 5);
	out("write rc=%d output=%u", rc, (unsigned)evbuffer_get_length(bufferevent_get_output(bev)));
	rc = bufferevent_write(bev, " world", 6);
	out("write rc=%d output=%u", rc, (unsigned)evbuffer_get_length(bufferevent_get_output(bev)));
	rc = event_base_dispatch(base);
	memset(buf, 0, sizeof buf);
	recv_n(s[1], buf, 11);
	out("write: dispatch=%d writes=%d output_at_writecb=%u peer=\"%s\"", rc, bs.writes,
	    (unsigned)bs.output_at_write, buf);

	src = evbuffer_new();
	evbuffer_add(src, "from an evbuffer", 16);
	rc = bufferevent_write_buffer(bev, src);
	out("write_buffer rc=%d src_left=%u output=%u", rc, (unsigned)evbuffer_get_length(src),
	    (unsigned)evbuffer_get_length(bufferevent_get_output(bev)));
	rc = event_base_dispatch(base);
	memset(buf, 0, sizeof buf);
	recv_n(s[1], buf, 16);
	out("write_buffer: dispatch=%d peer=\"%s\"", rc, buf);
	evbuffer_free(src);

	/* reading: off by default */
	bufferevent_setcb(bev, b_read_count, NULL, b_event, &bs);
	send_all(s[1], "abcdef", 6);
	rc = event_base_dispatch(base);
	out("read disabled: dispatch=%d reads=%d unread=%ld", rc, bs.reads, unread(s[0]));
	bufferevent_enable(bev, EV_READ);
	pump(base, input_at_least_6, bev);
	n = bufferevent_read(bev, buf, 2);
	out("read 2: n=%u \"%.2s\" left=%u", (unsigned)n, buf,
	    (unsigned)evbuffer_get_length(bufferevent_get_input(bev)));
	n = bufferevent_read(bev, buf, sizeof buf);
	out("read rest: n=%u \"%.*s\"", (unsigned)n, (int)n, buf);
	n = bufferevent_read(bev, buf, sizeof buf);
	out("read on empty input: n=%u", (unsigned)n);
	bufferevent_disable(bev, EV_READ);
	send_all(s[1], "more", 4);
	rc = event_base_dispatch(base);
	out("disabled again: dispatch=%d unread=%ld", rc, unread(s[0]));
	drain_fd(s[0]);

	/* writing disabled */
	memset(&bs, 0, sizeof bs);
	bufferevent_setcb(bev, NULL, b_write_count, b_event, &bs);
	bufferevent_disable(bev, EV_WRITE);
	bufferevent_write(bev, "held", 4);
	rc = event_base_dispatch(base);
	out("write disabled: dispatch=%d output=%u peer_unread=%ld", rc,
	    (unsigned)evbuffer_get_length(bufferevent_get_output(bev)), unread(s[1]));
	bufferevent_enable(bev, EV_WRITE);
	rc = event_base_dispatch(base);
	out("write enabled: dispatch=%d writes=%d peer_unread=%ld", rc, bs.writes, unread(s[1]));
	bufferevent_free(bev);
	close(s[0]);
	close(s[1]);
	event_base_free(base);
	end();
}

static int input_at_least_4(void *arg)
{
	return evbuffer_get_length(bufferevent_get_input(arg)) >= 4;
}

static int input_at_least_7(void *arg)
{
	return evbuffer_get_length(bufferevent_get_input(arg)) >= 7;
}

static int has_read(void *arg)
{
	return ((struct bseen *)arg)->reads > 0;
}

/* Read high watermark: a reader that consumes nothing. */
struct hw_ctx {
	struct event_base *base;
	int fd;
	size_t high;
	int full;
	size_t input_when_full;
	long unread_when_full;
	int calls;
	int disable_at;
};

static void hw_read(struct bufferevent *bev, void *arg)
{
	struct hw_ctx *c = arg;
	size_t len = evbuffer_get_length(bufferevent_get_input(bev));
	++c->calls;
	if (c->disable_at) {
		if (c->calls == c->disable_at) {
			c->input_when_full = len;
			bufferevent_disable(bev, EV_READ);
		}
		if (c->calls >= 100)
			bufferevent_disable(bev, EV_READ);
		return;
	}
	if (len >= c->high && !c->full) {
		c->full = 1;
		c->input_when_full = len;
		c->unread_when_full = unread(c->fd);
		event_base_loopbreak(c->base);
	}
}

/* Consumer on a timer; EOF ends. */
struct cons_ctx {
	struct bufferevent *bev;
	struct event *consumer;
	size_t got;
	size_t max_input;
	int eof;
	int intact;
	const char *data;
};

static void cons_take(struct cons_ctx *c)
{
	char buf[4096];
	size_t n;
	while ((n = bufferevent_read(c->bev, buf, sizeof buf)) > 0) {
		if (memcmp(buf, c->data + c->got, n) != 0)
			c->intact = 0;
		c->got += n;
	}
}

static void cons_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	cons_take(arg);
}

static void cons_read(struct bufferevent *bev, void *arg)
{
	struct cons_ctx *c = arg;
	size_t len = evbuffer_get_length(bufferevent_get_input(bev));
	struct timeval zero = { 0, 0 };
	if (len > c->max_input)
		c->max_input = len;
	if (!evtimer_pending(c->consumer, NULL))
		evtimer_add(c->consumer, &zero);
}

static void cons_event(struct bufferevent *bev, short what, void *arg)
{
	struct cons_ctx *c = arg;
	(void)bev;
	if (what & BEV_EVENT_EOF) {
		c->eof = 1;
		cons_take(c);
	}
}

/* A slow reader: 37 bytes per call. */
struct slow_ctx {
	size_t max_input;
	size_t got;
	int intact;
	int eof;
	const char *data;
};

static void slow_take(struct bufferevent *bev, struct slow_ctx *c, size_t most)
{
	char buf[4096];
	size_t n;
	size_t len = evbuffer_get_length(bufferevent_get_input(bev));
	if (len > c->max_input)
		c->max_input = len;
	do {
		n = bufferevent_read(bev, buf, most < sizeof buf ? most : sizeof buf);
		if (n && memcmp(buf, c->data + c->got, n) != 0)
			c->intact = 0;
		c->got += n;
	} while (n && most == (size_t)-1);
}

static void slow_read(struct bufferevent *bev, void *arg)
{
	slow_take(bev, arg, 37);
}

static void slow_event(struct bufferevent *bev, short what, void *arg)
{
	struct slow_ctx *c = arg;
	if (what & BEV_EVENT_EOF) {
		c->eof = 1;
		slow_take(bev, c, (size_t)-1);
	}
}

/* Write low watermark. */
struct wl_ctx {
	struct event_base *base;
	const char *data;
	size_t size, queued, got, low, chunk;
	size_t max_output;
	int writecbs;
	int intact;
};

static void wl_refill(struct bufferevent *bev, struct wl_ctx *c)
{
	size_t n = c->size - c->queued;
	if (n > c->chunk)
		n = c->chunk;
	if (n) {
		bufferevent_write(bev, c->data + c->queued, n);
		c->queued += n;
	}
}

static void wl_write(struct bufferevent *bev, void *arg)
{
	struct wl_ctx *c = arg;
	size_t len = evbuffer_get_length(bufferevent_get_output(bev));
	++c->writecbs;
	if (len > c->max_output)
		c->max_output = len;
	wl_refill(bev, c);
}

static void wl_peer(evutil_socket_t fd, short what, void *arg)
{
	struct wl_ctx *c = arg;
	char buf[4096];
	ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
	(void)what;
	if (r > 0) {
		if (memcmp(buf, c->data + c->got, (size_t)r) != 0)
			c->intact = 0;
		c->got += (size_t)r;
	}
	if (c->got >= c->size)
		event_base_loopbreak(c->base);
}

static void sc_bev_watermarks(void)
{
	struct event_base *base = event_base_new();
	struct bufferevent *bev;
	struct bseen bs;
	struct hw_ctx hw;
	struct cons_ctx cc;
	struct slow_ctx sl;
	struct wl_ctx wl;
	struct event *peer;
	int s[2], small = 8192, rc;
	char *data;
	begin("bev_watermarks");

	/* low read watermark */
	make_spair(s);
	bev = bufferevent_socket_new(base, s[0], 0);
	memset(&bs, 0, sizeof bs);
	bufferevent_setcb(bev, b_read_count, NULL, b_event, &bs);
	bufferevent_setwatermark(bev, EV_READ, 10, 0);
	bufferevent_enable(bev, EV_READ);
	send_all(s[1], "1234", 4);
	pump(base, input_at_least_4, bev);
	out("low 10, 4 in: reads=%d", bs.reads);
	send_all(s[1], "567", 3);
	pump(base, input_at_least_7, bev);
	out("low 10, 7 in: reads=%d", bs.reads);
	send_all(s[1], "890", 3);
	pump(base, has_read, &bs);
	out("low 10, 10 in: reads=%d input_at_read=%u", bs.reads, (unsigned)bs.input_at_read);
	bufferevent_free(bev);
	close(s[0]);
	close(s[1]);

	/* high read watermark, reader consumes nothing */
	data = pattern(5000);
	make_spair(s);
	bev = bufferevent_socket_new(base, s[0], 0);
	memset(&hw, 0, sizeof hw);
	hw.base = base;
	hw.fd = s[0];
	hw.high = 100;
	bufferevent_setcb(bev, hw_read, NULL, NULL, &hw);
	bufferevent_setwatermark(bev, EV_READ, 0, 100);
	send_all(s[1], data, 1000);
	bufferevent_enable(bev, EV_READ);
	event_base_dispatch(base);
	out("high 100: full=%s input=%u unread=%ld read_enabled=%s", yn(hw.full),
	    (unsigned)hw.input_when_full, hw.unread_when_full,
	    yn(bufferevent_get_enabled(bev) & EV_READ));
	evbuffer_drain(bufferevent_get_input(bev), 60);
	hw.full = 0;
	hw.input_when_full = 0;
	hw.unread_when_full = -1;
	event_base_dispatch(base);
	out("drained 60 outside callbacks: full=%s input=%u unread=%ld", yn(hw.full),
	    (unsigned)hw.input_when_full, hw.unread_when_full);
	bufferevent_free(bev);
	close(s[0]);
	close(s[1]);

	/* readcb again while at the mark */
	make_spair(s);
	bev = bufferevent_socket_new(base, s[0], 0);
	memset(&hw, 0, sizeof hw);
	hw.disable_at = 3;
	bufferevent_setcb(bev, hw_read, NULL, NULL, &hw);
	bufferevent_setwatermark(bev, EV_READ, 0, 100);
	send_all(s[1], data, 1000);
	bufferevent_enable(bev, EV_READ);
	rc = event_base_dispatch(base);
	out("readcb repeats at the mark: dispatch=%d calls=%d input_at_3rd=%u unread=%ld", rc, hw.calls,
	    (unsigned)hw.input_when_full, unread(s[0]));
	bufferevent_free(bev);
	close(s[0]);
	close(s[1]);

	/* consumer on a timer */
	make_spair(s);
	bev = bufferevent_socket_new(base, s[0], 0);
	memset(&cc, 0, sizeof cc);
	cc.bev = bev;
	cc.intact = 1;
	cc.data = data;
	cc.consumer = evtimer_new(base, cons_timer, &cc);
	bufferevent_setcb(bev, cons_read, NULL, cons_event, &cc);
	bufferevent_setwatermark(bev, EV_READ, 0, 100);
	send_all(s[1], data, 5000);
	shutdown(s[1], SHUT_WR);
	bufferevent_enable(bev, EV_READ);
	event_base_dispatch(base);
	out("timer consumer: eof=%s got=%u intact=%s input_bounded=%s", yn(cc.eof), (unsigned)cc.got,
	    yn(cc.intact), yn(cc.max_input <= 100));
	event_free(cc.consumer);
	bufferevent_free(bev);
	close(s[0]);
	close(s[1]);
	free(data);

	/* slow reader, 50000 bytes through a 256-byte mark */
	data = pattern(50000);
	make_spair(s);
	bev = bufferevent_socket_new(base, s[0], 0);
	memset(&sl, 0, sizeof sl);
	sl.intact = 1;
	sl.data = data;
	bufferevent_setcb(bev, slow_read, NULL, slow_event, &sl);
	bufferevent_setwatermark(bev, EV_READ, 0, 256);
	send_all(s[1], data, 50000);
	shutdown(s[1], SHUT_WR);
	bufferevent_enable(bev, EV_READ);
	rc = event_base_dispatch(base);
	out("slow reader: dispatch=%d", rc);
	out("slow reader: eof=%s got=%u intact=%s input_bounded=%s", yn(sl.eof), (unsigned)sl.got,
	    yn(sl.intact), yn(sl.max_input <= 256 && sl.max_input > 0));
	bufferevent_free(bev);
	close(s[0]);
	close(s[1]);
	free(data);

	/* write low watermark */
	data = pattern(1 << 20);
	make_spair(s);
	setsockopt(s[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	setsockopt(s[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	evutil_make_socket_nonblocking(s[1]);
	bev = bufferevent_socket_new(base, s[0], 0);
	memset(&wl, 0, sizeof wl);
	wl.base = base;
	wl.data = data;
	wl.size = 1 << 20;
	wl.low = 4096;
	wl.chunk = 32768;
	wl.intact = 1;
	bufferevent_setcb(bev, NULL, wl_write, NULL, &wl);
	bufferevent_setwatermark(bev, EV_WRITE, wl.low, 0);
	peer = event_new(base, s[1], EV_READ | EV_PERSIST, wl_peer, &wl);
	event_add(peer, NULL);
	wl_refill(bev, &wl);
	event_base_dispatch(base);
	out("write low 4096: got_all=%s intact=%s output_at_writecb_le_low=%s writecbs_ge_32=%s",
	    yn(wl.got == wl.size), yn(wl.intact), yn(wl.max_output <= wl.low), yn(wl.writecbs >= 32));
	event_free(peer);
	bufferevent_free(bev);
	close(s[0]);
	close(s[1]);
	free(data);
	event_base_free(base);
	end();
}

static void sc_bev_timeouts(void)
{
	struct event_base *base = event_base_new();
	struct bufferevent *bev;
	struct bseen bs;
	struct timeval tv;
	struct timespec t0;
	int s[2], rc, small = 4096;
	char *data;
	begin("bev_timeouts");

	make_spair(s);
	bev = bufferevent_socket_new(base, s[0], 0);
	memset(&bs, 0, sizeof bs);
	bufferevent_setcb(bev, b_read_take, NULL, b_event, &bs);
	tv = ms(50);
	out("set_timeouts rc=%d", bufferevent_set_timeouts(bev, &tv, NULL));
	t0 = sw_start();
	bufferevent_enable(bev, EV_READ);
	rc = event_base_dispatch(base);
	out("read timeout: dispatch=%d not_early=%s events=%d what=%s enabled=%s", rc,
	    yn(sw_us(t0) >= 50000), bs.events, bs.events ? bevbits(bs.whats[0]) : "-",
	    evbits(bufferevent_get_enabled(bev)));
	send_all(s[1], "late", 4);
	rc = event_base_dispatch(base);
	out("late data: dispatch=%d reads=%d unread=%ld", rc, bs.reads, unread(s[0]));
	drain_fd(s[0]);
	bufferevent_enable(bev, EV_READ);
	rc = event_base_dispatch(base);
	out("re-enabled: dispatch=%d reads=%d events=%d second=%s", rc, bs.reads, bs.events,
	    bs.events > 1 ? bevbits(bs.whats[1]) : "-");
	bufferevent_free(bev);
	close(s[0]);
	close(s[1]);

	make_spair(s);
	setsockopt(s[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	setsockopt(s[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	bev = bufferevent_socket_new(base, s[0], 0);
	memset(&bs, 0, sizeof bs);
	bufferevent_setcb(bev, NULL, b_write_count, b_event, &bs);
	tv = ms(50);
	bufferevent_set_timeouts(bev, NULL, &tv);
	data = pattern(1 << 20);
	t0 = sw_start();
	bufferevent_write(bev, data, 1 << 20);
	rc = event_base_dispatch(base);
	out("write timeout: dispatch=%d not_early=%s events=%d what=%s enabled=%s output_left=%s writes=%d",
	    rc, yn(sw_us(t0) >= 50000), bs.events, bs.events ? bevbits(bs.whats[0]) : "-",
	    evbits(bufferevent_get_enabled(bev)),
	    yn(evbuffer_get_length(bufferevent_get_output(bev)) > 0), bs.writes);
	free(data);
	bufferevent_free(bev);
	close(s[0]);
	close(s[1]);
	event_base_free(base);
	end();
}

static int has_9(void *arg)
{
	return ((struct bseen *)arg)->len >= 9;
}

static int has_3(void *arg)
{
	return ((struct bseen *)arg)->len >= 3;
}

static int output_empty(void *arg)
{
	return evbuffer_get_length(bufferevent_get_output(arg)) == 0;
}

static void sc_bev_setfd(void)
{
	struct event_base *base = event_base_new();
	struct bufferevent *bev;
	struct bseen bs;
	int s[2], t[2], rc;
	char buf[8];
	begin("bev_setfd");
	make_spair(s);
	bev = bufferevent_socket_new(base, -1, 0);
	memset(&bs, 0, sizeof bs);
	bufferevent_setcb(bev, b_read_take, NULL, b_event, &bs);
	rc = bufferevent_setfd(bev, s[0]);
	out("setfd rc=%d same=%s", rc, yn(bufferevent_getfd(bev) == s[0]));
	bufferevent_enable(bev, EV_READ);
	send_all(s[1], "via setfd", 9);
	pump(base, has_9, &bs);
	out("read after setfd: \"%s\"", bs.data);
	bufferevent_write(bev, "back", 4);
	pump(base, output_empty, bev);
	memset(buf, 0, sizeof buf);
	recv_n(s[1], buf, 4);
	out("written after setfd: \"%s\"", buf);
	bufferevent_free(bev);
	close(s[0]);
	close(s[1]);

	make_spair(s);
	make_spair(t);
	bev = bufferevent_socket_new(base, s[0], BEV_OPT_CLOSE_ON_FREE);
	memset(&bs, 0, sizeof bs);
	bufferevent_setcb(bev, b_read_take, NULL, b_event, &bs);
	bufferevent_enable(bev, EV_READ);
	bufferevent_setfd(bev, t[0]);
	send_all(s[1], "old", 3);
	send_all(t[1], "new", 3);
	pump(base, has_3, &bs);
	out("switched: read=\"%s\" old_unread=%ld", bs.data, unread(s[0]));
	bufferevent_free(bev);
	event_base_dispatch(base);
	out("after free: old_open=%s new_peer_eof=%s", yn(fcntl(s[0], F_GETFD) != -1), yn(peer_eof(t[1])));
	close(s[0]);
	close(s[1]);
	close(t[1]);
	event_base_free(base);
	end();
}

/* Deferred callbacks: two bufferevents readable in the same round. */
struct two_bevs {
	struct bufferevent *bev[2];
	int reads[2];
	size_t other_at_first[2];
	int first;
};

static void two_read(struct two_bevs *t, int me)
{
	if (t->reads[me]++ == 0) {
		t->other_at_first[me] = evbuffer_get_length(bufferevent_get_input(t->bev[1 - me]));
		if (t->first < 0)
			t->first = me;
	}
	bufferevent_disable(t->bev[me], EV_READ);
}

static void two_read0(struct bufferevent *bev, void *arg)
{
	(void)bev;
	two_read(arg, 0);
}

static void two_read1(struct bufferevent *bev, void *arg)
{
	(void)bev;
	two_read(arg, 1);
}

static void run_two(struct event_base *base, int options, const char *label)
{
	struct two_bevs t;
	int s0[2], s1[2];
	memset(&t, 0, sizeof t);
	t.first = -1;
	make_spair(s0);
	make_spair(s1);
	t.bev[0] = bufferevent_socket_new(base, s0[0], options);
	t.bev[1] = bufferevent_socket_new(base, s1[0], options);
	bufferevent_setcb(t.bev[0], two_read0, NULL, NULL, &t);
	bufferevent_setcb(t.bev[1], two_read1, NULL, NULL, &t);
	send_all(s0[1], "zero", 4);
	send_all(s1[1], "one", 3);
	bufferevent_enable(t.bev[0], EV_READ);
	bufferevent_enable(t.bev[1], EV_READ);
	event_base_dispatch(base);
	out("%s: reads=%d,%d other_had_read_at_first_callback=%s", label, t.reads[0], t.reads[1],
	    yn(t.first >= 0 && t.other_at_first[t.first] > 0));
	bufferevent_free(t.bev[0]);
	bufferevent_free(t.bev[1]);
	close(s0[0]);
	close(s0[1]);
	close(s1[0]);
	close(s1[1]);
}

/* EOF after data, written by a thread (more than a socket buffer holds). */
struct eof_ctx {
	const char *data;
	size_t got;
	int intact;
	int eof;
	int reads_after_eof;
	int what;
	size_t got_at_eof;
};

static void eof_read(struct bufferevent *bev, void *arg)
{
	struct eof_ctx *c = arg;
	char buf[8192];
	size_t n;
	if (c->eof)
		++c->reads_after_eof;
	while ((n = bufferevent_read(bev, buf, sizeof buf)) > 0) {
		if (memcmp(buf, c->data + c->got, n) != 0)
			c->intact = 0;
		c->got += n;
	}
}

static void eof_event(struct bufferevent *bev, short what, void *arg)
{
	struct eof_ctx *c = arg;
	c->eof = 1;
	c->what = what;
	c->got_at_eof = c->got + evbuffer_get_length(bufferevent_get_input(bev));
}

struct writer_arg {
	int fd;
	const char *data;
	size_t n;
};

static void *writer_main(void *arg)
{
	struct writer_arg *w = arg;
	size_t off = 0;
	while (off < w->n) {
		ssize_t r = send(w->fd, w->data + off, w->n - off, MSG_NOSIGNAL);
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	close(w->fd);
	return NULL;
}

static void eof_run(struct event_base *base, int options, const char *label)
{
	struct bufferevent *bev;
	struct eof_ctx c;
	struct writer_arg w;
	pthread_t th;
	int s[2], rc;
	char *data = pattern(300000);
	make_spair(s);
	memset(&c, 0, sizeof c);
	c.data = data;
	c.intact = 1;
	bev = bufferevent_socket_new(base, s[0], options);
	bufferevent_setcb(bev, eof_read, NULL, eof_event, &c);
	bufferevent_enable(bev, EV_READ);
	w.fd = s[1];
	w.data = data;
	w.n = 300000;
	pthread_create(&th, NULL, writer_main, &w);
	rc = event_base_dispatch(base);
	pthread_join(th, NULL);
	out("%s: dispatch=%d eof=%s what=%s all_before_eof=%s reads_after_eof=%d intact=%s read_enabled=%s",
	    label, rc, yn(c.eof), bevbits(c.what), yn(c.got_at_eof == 300000), c.reads_after_eof,
	    yn(c.intact && c.got == 300000), yn(bufferevent_get_enabled(bev) & EV_READ));
	bufferevent_free(bev);
	close(s[0]);
	free(data);
}

static void sc_bev_deferred_eof(void)
{
	struct event_base *base = event_base_new();
	begin("bev_deferred_eof");
	run_two(base, 0, "not deferred");
	run_two(base, BEV_OPT_DEFER_CALLBACKS, "deferred");
	eof_run(base, 0, "eof after data");
	eof_run(base, BEV_OPT_DEFER_CALLBACKS, "eof after data, deferred");
	event_base_free(base);
	end();
}

/* Freeing from callbacks. */
static int g_bcalls;
static short g_bwhat;

static void free_in_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	++g_bcalls;
	bufferevent_free(bev);
}

static void free_in_event(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	g_bwhat = what;
	bufferevent_free(bev);
}

static void sc_bev_free(void)
{
	struct event_base *base = event_base_new();
	struct bufferevent *bev;
	struct bseen bs;
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	int s[2], rc, hold, small = 4096;
	char buf[8];
	char *data;
	begin("bev_free");

	make_spair(s);
	bev = bufferevent_socket_new(base, s[0], BEV_OPT_CLOSE_ON_FREE);
	g_bcalls = 0;
	bufferevent_setcb(bev, free_in_read, NULL, NULL, NULL);
	send_all(s[1], "bye", 3);
	bufferevent_enable(bev, EV_READ);
	rc = event_base_dispatch(base);
	out("in readcb: dispatch=%d calls=%d peer_eof=%s", rc, g_bcalls, yn(peer_eof(s[1])));
	close(s[1]);

	make_spair(s);
	bev = bufferevent_socket_new(base, s[0], BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	g_bcalls = 0;
	bufferevent_setcb(bev, free_in_read, NULL, NULL, NULL);
	send_all(s[1], "bye", 3);
	bufferevent_enable(bev, EV_READ);
	rc = event_base_dispatch(base);
	out("in deferred readcb: dispatch=%d calls=%d peer_eof=%s", rc, g_bcalls, yn(peer_eof(s[1])));
	close(s[1]);

	make_spair(s);
	bev = bufferevent_socket_new(base, s[0], BEV_OPT_CLOSE_ON_FREE);
	g_bcalls = 0;
	bufferevent_setcb(bev, NULL, free_in_read, NULL, NULL);
	bufferevent_write(bev, "goodbye", 7);
	rc = event_base_dispatch(base);
	memset(buf, 0, sizeof buf);
	recv_n(s[1], buf, 7);
	out("in writecb: dispatch=%d calls=%d peer=\"%s\" peer_eof=%s", rc, g_bcalls, buf, yn(peer_eof(s[1])));
	close(s[1]);

	make_spair(s);
	bev = bufferevent_socket_new(base, s[0], BEV_OPT_CLOSE_ON_FREE);
	g_bwhat = 0;
	bufferevent_setcb(bev, NULL, NULL, free_in_event, NULL);
	shutdown(s[1], SHUT_WR);
	bufferevent_enable(bev, EV_READ);
	rc = event_base_dispatch(base);
	out("in eventcb on EOF: dispatch=%d what=%s peer_eof=%s", rc, bevbits(g_bwhat), yn(peer_eof(s[1])));
	close(s[1]);

	hold = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(hold, (struct sockaddr *)&sin, sizeof sin);
	getsockname(hold, (struct sockaddr *)&sin, &len);
	bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	g_bwhat = 0;
	bufferevent_setcb(bev, NULL, NULL, free_in_event, NULL);
	bufferevent_socket_connect(bev, (struct sockaddr *)&sin, (int)sizeof sin);
	rc = event_base_dispatch(base);
	out("in eventcb on connect error: dispatch=%d what=%s", rc, bevbits(g_bwhat));
	close(hold);

	make_spair(s);
	setsockopt(s[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	bev = bufferevent_socket_new(base, s[0], BEV_OPT_CLOSE_ON_FREE);
	data = pattern(1 << 20);
	bufferevent_write(bev, data, 1 << 20);
	bufferevent_free(bev);
	rc = event_base_dispatch(base);
	out("with pending output: dispatch=%d peer_eof=%s", rc, yn(peer_eof(s[1])));
	free(data);
	close(s[1]);

	/* write to a closed peer (SIGPIPE ignored) */
	make_spair(s);
	bev = bufferevent_socket_new(base, s[0], 0);
	memset(&bs, 0, sizeof bs);
	bufferevent_setcb(bev, NULL, b_write_count, b_event, &bs);
	close(s[1]);
	bufferevent_write(bev, "into the void", 13);
	rc = event_base_dispatch(base);
	out("closed peer: dispatch=%d events=%d what=%s errno=%s writes=%d write_enabled=%s", rc, bs.events,
	    bs.events ? bevbits(bs.whats[0]) : "-", errname(bs.err), bs.writes,
	    yn(bufferevent_get_enabled(bev) & EV_WRITE));
	bufferevent_free(bev);
	close(s[0]);
	event_base_free(base);
	end();
}

/* A connected TCP pair on 127.0.0.1: *ours non-blocking, *peer blocking. */
static int tcp_pair(int *ours, int *peer)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int lfd = tcp_listener(&ss, &len, 0);
	if (lfd < 0)
		return -1;
	*peer = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*peer < 0 || connect(*peer, (struct sockaddr *)&ss, len) < 0) {
		close(lfd);
		return -1;
	}
	*ours = accept(lfd, NULL, NULL);
	close(lfd);
	if (*ours < 0)
		return -1;
	evutil_make_socket_nonblocking(*ours);
	return 0;
}

static void b_event_reply(struct bufferevent *bev, short what, void *arg)
{
	b_event(bev, what, arg);
	if (what & BEV_EVENT_EOF)
		bufferevent_write(bev, "bye", 3);
}

/* How streams end: a pipe's writer going away (before and while the reader
 * waits), a TCP reset behind data, and a half-close answered after the EOF. */
static void sc_bev_stream_ends(void)
{
	struct event_base *base = event_base_new();
	struct bufferevent *bev;
	struct bseen bs;
	int p[2], ours, peer, rc;
	struct linger lg;
	char buf[16];
	begin("bev_stream_ends");

	make_pipe(p);
	put(p[1], "pipe data");
	close(p[1]);
	bev = bufferevent_socket_new(base, p[0], BEV_OPT_CLOSE_ON_FREE);
	memset(&bs, 0, sizeof bs);
	bufferevent_setcb(bev, b_read_take, NULL, b_event, &bs);
	bufferevent_enable(bev, EV_READ);
	rc = event_base_dispatch(base);
	out("pipe closed before reading: dispatch=%d data=\"%s\" events=%d what=%s", rc, bs.data,
	    bs.events, bs.events ? bevbits(bs.whats[0]) : "-");
	bufferevent_free(bev);

	make_pipe(p);
	bev = bufferevent_socket_new(base, p[0], BEV_OPT_CLOSE_ON_FREE);
	memset(&bs, 0, sizeof bs);
	bufferevent_setcb(bev, b_read_take, NULL, b_event, &bs);
	bufferevent_enable(bev, EV_READ);
	rc = event_base_loop(base, EVLOOP_NONBLOCK);
	put(p[1], "late");
	rc = event_base_loop(base, EVLOOP_ONCE);
	close(p[1]);
	rc = event_base_dispatch(base);
	out("pipe closed while waiting: dispatch=%d data=\"%s\" reads=%d events=%d what=%s", rc,
	    bs.data, bs.reads, bs.events, bs.events ? bevbits(bs.whats[0]) : "-");
	bufferevent_free(bev);

	if (tcp_pair(&ours, &peer) == 0) {
		send_all(peer, "before the reset", 16);
		lg.l_onoff = 1;
		lg.l_linger = 0;
		setsockopt(peer, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		close(peer);
		bev = bufferevent_socket_new(base, ours, BEV_OPT_CLOSE_ON_FREE);
		memset(&bs, 0, sizeof bs);
		bufferevent_setcb(bev, b_read_take, NULL, b_event, &bs);
		bufferevent_enable(bev, EV_READ);
		rc = event_base_dispatch(base);
		out("tcp reset behind data: dispatch=%d data=\"%s\" events=%d what=%s err=%s", rc,
		    bs.data, bs.events, bs.events ? bevbits(bs.whats[0]) : "-", errname(bs.err));
		bufferevent_free(bev);
	} else {
		out("tcp reset behind data: no tcp pair");
	}

	if (tcp_pair(&ours, &peer) == 0) {
		send_all(peer, "request", 7);
		shutdown(peer, SHUT_WR);
		bev = bufferevent_socket_new(base, ours, BEV_OPT_CLOSE_ON_FREE);
		memset(&bs, 0, sizeof bs);
		bufferevent_setcb(bev, b_read_take, NULL, b_event_reply, &bs);
		bufferevent_enable(bev, EV_READ | EV_WRITE);
		rc = event_base_dispatch(base);
		memset(buf, 0, sizeof buf);
		recv_n(peer, buf, 3);
		out("half-close answered after eof: dispatch=%d data=\"%s\" what=%s peer=\"%s\" enabled=%s",
		    rc, bs.data, bs.events ? bevbits(bs.whats[0]) : "-", buf,
		    evbits(bufferevent_get_enabled(bev)));
		bufferevent_free(bev);
		close(peer);
	} else {
		out("half-close answered after eof: no tcp pair");
	}
	event_base_free(base);
	end();
}

int main(void)
{
	transcript_start();
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);

	sc_version();
	sc_accessors();
	sc_read_events();
	sc_edge_triggered();
	sc_write_and_closed();
	sc_timers();
	sc_callbacks_del_free();
	sc_pending_active();
	sc_base_once();
	sc_counts_and_time();
	sc_cached_time();
	sc_signals();
	sc_loop_flags();
	sc_one_pass();
	sc_bev_basics();
	sc_bev_connect();
	sc_bev_io();
	sc_bev_watermarks();
	sc_bev_timeouts();
	sc_bev_setfd();
	sc_bev_deferred_eof();
	sc_bev_free();
	sc_bev_stream_ends();
	printf("== done\n");
	return 0;
}

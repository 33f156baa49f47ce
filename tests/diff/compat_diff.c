/* Differential transcript for the libevent 1.x API that 2.1.12 still ships
 * (<event.h>: event_compat.h, buffer_compat.h, bufferevent_compat.h): one
 * C99 program written as a 1.x program is, built against real libevent and
 * against evasio. It uses the current base of event_init(): event_set,
 * evtimer_set/signal_set/timeout_* macros, event_dispatch/event_loop,
 * event_loopexit/event_loopbreak, event_once, event_base_set between two
 * bases, evbuffer_readline/evbuffer_find/EVBUFFER_* macros, and
 * bufferevent_new/bufferevent_settimeout with the 1.x callback codes.
 *
 * Only return values, orders, counts and symbolic flags are printed. */
#include <event.h>

#include "transcript.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>


static const char *what_name(short w)
{
	static char buf[64];
	buf[0] = '\0';
	if (w & EV_TIMEOUT) strcat(buf, "|TIMEOUT");
	if (w & EV_READ) strcat(buf, "|READ");
	if (w & EV_WRITE) strcat(buf, "|WRITE");
	if (w & EV_SIGNAL) strcat(buf, "|SIGNAL");
	return buf[0] ? buf + 1 : "0";
}

static const char *bev_what_name(short w)
{
	static char buf[64];
	buf[0] = '\0';
	if (w & EVBUFFER_READ) strcat(buf, "|READ");
	if (w & EVBUFFER_WRITE) strcat(buf, "|WRITE");
	if (w & EVBUFFER_EOF) strcat(buf, "|EOF");
	if (w & EVBUFFER_ERROR) strcat(buf, "|ERROR");
	if (w & EVBUFFER_TIMEOUT) strcat(buf, "|TIMEOUT");
	return buf[0] ? buf + 1 : "0";
}

static struct timeval ms(long n)
{
	struct timeval tv;
	tv.tv_sec = n / 1000;
	tv.tv_usec = (n % 1000) * 1000;
	return tv;
}

/* ------------------------------------------------------------------ */

static void on_timer(int fd, short what, void *arg)
{
	out("timer %s fd %d what %s", (const char *)arg, fd, what_name(what));
}

static void sc_timers(void)
{
	struct event a, b, c;
	struct timeval t30 = ms(30), t10 = ms(10), t20 = ms(20);
	int r;
	begin("timers on the current base fire in deadline order");
	evtimer_set(&a, on_timer, "30ms");
	evtimer_set(&b, on_timer, "10ms");
	timeout_set(&c, on_timer, "20ms");
	out("add %d %d %d", evtimer_add(&a, &t30), evtimer_add(&b, &t10), timeout_add(&c, &t20));
	out("pending %d %d", timeout_pending(&a, NULL) != 0, evtimer_pending(&b, NULL) != 0);
	out("initialized %d", timeout_initialized(&a));
	out("dispatch %d", event_dispatch());
	out("pending after %d", timeout_pending(&a, NULL) != 0);
	evtimer_add(&a, &t30);
	r = timeout_del(&a);
	out("del %d pending %d", r, timeout_pending(&a, NULL) != 0);
	out("loop with nothing %d", event_loop(0));
}

static int g_ticks;

static void on_tick(int fd, short what, void *arg)
{
	struct event *ev = arg;
	struct timeval t = ms(5);
	(void)fd;
	(void)what;
	if (++g_ticks < 1000)
		evtimer_add(ev, &t);
}

static void on_once(int fd, short what, void *arg)
{
	out("once %s fd %d what %s", (const char *)arg, fd, what_name(what));
}

static void sc_loopexit_and_once(void)
{
	struct event tick;
	struct timeval t5 = ms(5), t50 = ms(50), t0 = ms(0);
	begin("event_loopexit ends event_dispatch; event_once runs once");
	g_ticks = 0;
	evtimer_set(&tick, on_tick, &tick);
	evtimer_add(&tick, &t5);
	out("once %d", event_once(-1, EV_TIMEOUT, on_once, "timer", &t0));
	out("loopexit %d", event_loopexit(&t50));
	out("dispatch %d", event_dispatch());
	out("ticked %s", g_ticks > 0 && g_ticks < 1000 ? "some" : "wrong");
	out("tick still pending %d", evtimer_pending(&tick, NULL) != 0);
	evtimer_del(&tick);
	out("loop nonblock %d", event_loop(EVLOOP_NONBLOCK));
}

static void on_break(int fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	out("break callback %s, loopbreak %d", (const char *)arg, event_loopbreak());
}

static void sc_loopbreak(void)
{
	struct event a, b;
	struct timeval t0 = ms(0);
	begin("event_loopbreak stops after the running callback");
	evtimer_set(&a, on_break, "first");
	evtimer_set(&b, on_break, "second");
	evtimer_add(&a, &t0);
	evtimer_add(&b, &t0);
	out("loop %d", event_loop(0));
	out("pending %d %d", evtimer_pending(&a, NULL) != 0, evtimer_pending(&b, NULL) != 0);
	out("loop again %d", event_loop(0));
}

static void on_signal(int sig, short what, void *arg)
{
	int *n = arg;
	++*n;
	out("signal %s what %s", sig == SIGUSR1 ? "USR1" : "other", what_name(what));
}

static void sc_signals(void)
{
	struct event ev;
	int n = 0, r;
	begin("signal_set is persistent; signal_del removes it");
	signal_set(&ev, SIGUSR1, on_signal, &n);
	out("add %d", signal_add(&ev, NULL));
	out("pending %d initialized %d", signal_pending(&ev, NULL) != 0, signal_initialized(&ev));
	out("EVENT_SIGNAL %s", EVENT_SIGNAL(&ev) == SIGUSR1 ? "USR1" : "other");
	raise(SIGUSR1);
	out("loop once %d", event_loop(EVLOOP_ONCE));
	raise(SIGUSR1);
	out("loop once %d", event_loop(EVLOOP_ONCE));
	out("calls %d still pending %d", n, signal_pending(&ev, NULL) != 0);
	r = signal_del(&ev);
	out("del %d pending %d", r, signal_pending(&ev, NULL) != 0);
}

static void on_read(int fd, short what, void *arg)
{
	char c;
	(void)arg;
	out("read callback what %s, read %d", what_name(what),
	    (what & EV_READ) ? (int)read(fd, &c, 1) : 0);
}

static void sc_fd_events(void)
{
	struct event ev;
	int p[2];
	struct timeval t = ms(30);
	begin("event_set on a pipe: EV_READ, then a timeout");
	if (pipe(p) < 0)
		abort();
	event_set(&ev, p[0], EV_READ, on_read, NULL);
	out("EVENT_FD matches %d", EVENT_FD(&ev) == p[0]);
	out("add %d", event_add(&ev, &t));
	out("nonblock with nothing ready %d", event_loop(EVLOOP_NONBLOCK));
	out("write %d", (int)write(p[1], "xy", 2));
	out("loop %d", event_loop(0));
	out("add %d", event_add(&ev, NULL));
	out("loop %d", event_loop(0));
	out("add %d", event_add(&ev, &t));
	out("loop (timeout) %d", event_loop(0));
	close(p[0]);
	close(p[1]);
}

static void sc_two_bases(void)
{
	struct event_base *first, *second;
	struct event ev;
	struct timeval t = ms(1);
	begin("event_init makes a new current base; event_base_set moves an event");
	first = event_base_new();
	second = event_init();
	evtimer_set(&ev, on_timer, "moved");
	out("on current %d", event_get_base(&ev) == second);
	out("base_set %d", event_base_set(first, &ev));
	out("on first %d", event_get_base(&ev) == first);
	evtimer_add(&ev, &t);
	out("base_set while pending %d", event_base_set(second, &ev));
	out("current loop %d", event_loop(0));
	out("first loop %d", event_base_loop(first, 0));
	out("method same %d", strcmp(event_get_method(), event_base_get_method(second)) == 0);
	event_base_free(first);
	event_base_free(NULL); /* the current base, second */
}

static void sc_evbuffer(void)
{
	struct evbuffer *b = evbuffer_new();
	char *line;
	u_char *at;
	int i;
	begin("evbuffer_readline takes CR, LF or both; evbuffer_find");
	evbuffer_add(b, "one\r\ntwo\nthree\n\rfour\r\r\nlast", 28);
	out("EVBUFFER_LENGTH %d", (int)EVBUFFER_LENGTH(b));
	out("EVBUFFER_DATA starts %.3s", (const char *)EVBUFFER_DATA(b));
	at = evbuffer_find(b, (const u_char *)"four", 4);
	out("find four at %d", at ? (int)(at - EVBUFFER_DATA(b)) : -1);
	out("find none %d", evbuffer_find(b, (const u_char *)"zzz", 3) == NULL);
	for (i = 0; i < 8 && (line = evbuffer_readline(b)) != NULL; ++i) {
		out("line [%s]", line);
		free(line);
	}
	out("left %d", (int)EVBUFFER_LENGTH(b));
	evbuffer_free(b);
}

static int g_bev_events;

static void bev_read(struct bufferevent *bev, void *arg)
{
	char buf[64];
	size_t n = bufferevent_read(bev, buf, sizeof buf - 1);
	(void)arg;
	buf[n] = '\0';
	out("readcb [%s] input left %d", buf, (int)EVBUFFER_LENGTH(EVBUFFER_INPUT(bev)));
}

static void bev_write(struct bufferevent *bev, void *arg)
{
	(void)arg;
	out("writecb output %d", (int)EVBUFFER_LENGTH(EVBUFFER_OUTPUT(bev)));
}

static void bev_error(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)arg;
	++g_bev_events;
	out("errorcb %s", bev_what_name(what));
	event_loopbreak();
}

static void sc_bufferevent_new(void)
{
	int sv[2];
	struct bufferevent *bev;
	char buf[16];
	begin("bufferevent_new on the current base, with 1.x codes");
	event_init();
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		abort();
	evutil_make_socket_nonblocking(sv[0]);
	bev = bufferevent_new(sv[0], bev_read, bev_write, bev_error, NULL);
	out("new %d", bev != NULL);
	out("enable %d", bufferevent_enable(bev, EV_READ | EV_WRITE));
	out("write %d", bufferevent_write(bev, "ping", 4));
	out("loop once %d", event_loop(EVLOOP_ONCE));
	out("peer write %d", (int)write(sv[1], "hello", 5));
	out("loop once %d", event_loop(EVLOOP_ONCE));
	out("peer read %d", (int)read(sv[1], buf, sizeof buf));
	bufferevent_settimeout(bev, 1, 0);
	g_bev_events = 0;
	out("dispatch %d", event_dispatch());
	out("events %d", g_bev_events);
	bufferevent_settimeout(bev, 0, 0);
	bufferevent_enable(bev, EV_READ);
	close(sv[1]);
	out("dispatch %d", event_dispatch());
	bufferevent_free(bev);
	close(sv[0]);
	event_base_free(NULL);
}

int main(void)
{
	transcript_start();
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);

	event_init();
	sc_timers();
	sc_loopexit_and_once();
	sc_loopbreak();
	sc_signals();
	sc_fd_events();
	sc_two_bases();
	sc_evbuffer();
	sc_bufferevent_new();
	printf("== done\n");
	return 0;
}

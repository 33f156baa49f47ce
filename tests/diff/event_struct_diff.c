/* Differential transcript for struct event's public layout: one C99
 * program, built once against real libevent 2.1.12 and once against evasio.
 * It prints the size and member offsets of struct event (x86_64), then the
 * members programs read (ev_base, ev_fd, ev_events, the callback and its
 * argument, evcb_pri, the EVLIST_* bits of evcb_flags, ev_res) after each
 * step of an event's life: event_assign, event_add with and without a
 * timeout, event_active, inside the callback, after event_del, event_base_set
 * and event_priority_set.
 *
 * Only member paths that both headers spell the same way are used. Neither
 * header defines libevent 1.x's short names (ev_arg and the like) unasked:
 * struct own_names below, with members of those names as memcached's conn
 * has, must compile against both. Nothing that varies between runs
 * (pointers, fds) is printed: only offsets, comparisons and bits. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/util.h>

#include "transcript.h"

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>


/* A set of named bits as "A|B", or "0". */
struct bit_name {
	int bit;
	const char *name;
};

static const char *bits(int what, const struct bit_name *names, size_t n)
{
	static char bufs[4][128];
	static int next;
	char *b = bufs[next++ & 3];
	size_t i;
	int rest = what;
	b[0] = '\0';
	for (i = 0; i < n; ++i) {
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

static const char *evbits(int what)
{
	static const struct bit_name names[] = {
		{ EV_TIMEOUT, "TIMEOUT" }, { EV_READ, "READ" },
		{ EV_WRITE, "WRITE" }, { EV_SIGNAL, "SIGNAL" },
		{ EV_PERSIST, "PERSIST" }, { EV_ET, "ET" },
		{ EV_CLOSED, "CLOSED" },
	};
	return bits(what, names, sizeof names / sizeof names[0]);
}

static const char *listbits(int what)
{
	static const struct bit_name names[] = {
		{ EVLIST_TIMEOUT, "TIMEOUT" }, { EVLIST_INSERTED, "INSERTED" },
		{ EVLIST_SIGNAL, "SIGNAL" }, { EVLIST_ACTIVE, "ACTIVE" },
		{ EVLIST_INTERNAL, "INTERNAL" },
		{ EVLIST_ACTIVE_LATER, "ACTIVE_LATER" },
		{ EVLIST_FINALIZING, "FINALIZING" }, { EVLIST_INIT, "INIT" },
	};
	return bits(what, names, sizeof names / sizeof names[0]);
}

/* ------------------------------------------------------------------ */
/* What the members say. */

static struct event_base *g_base;
static void *g_arg;
static event_callback_fn g_cb;

static void show(const char *when, const struct event *ev, evutil_socket_t fd)
{
	printf("  %-18s base=%s fd=%s events=%s cb=%s arg=%s pri=%d flags=%s res=%s\n",
	    when, ev->ev_base == g_base ? "yes" : "no",
	    ev->ev_fd == fd ? "yes" : "no", evbits(ev->ev_events),
	    ev->ev_evcallback.evcb_cb_union.evcb_callback == g_cb ? "yes" : "no",
	    ev->ev_evcallback.evcb_arg == g_arg ? "yes" : "no",
	    (int)ev->ev_evcallback.evcb_pri,
	    listbits(ev->ev_evcallback.evcb_flags), evbits(ev->ev_res));
}

static void on_event(evutil_socket_t fd, short what, void *arg)
{
	const struct event *ev = arg;
	printf("  callback what=%s\n", evbits(what));
	show("in callback", ev, fd);
}

static void on_event_del(evutil_socket_t fd, short what, void *arg)
{
	struct event *ev = arg;
	(void)what;
	event_del(ev);
	show("in cb, deleted", ev, fd);
}

static void assign(struct event *ev, evutil_socket_t fd, short events,
    event_callback_fn cb)
{
	g_cb = cb;
	g_arg = ev;
	if (event_assign(ev, g_base, fd, events, cb, ev) < 0)
		printf("  event_assign failed\n");
}

/* ------------------------------------------------------------------ */
/* Scenarios. */

#define OFF(m) ((unsigned)offsetof(struct event, m))
#define CB_OFF(m) ((unsigned)offsetof(struct event_callback, m))

static void layout(void)
{
	begin("layout");
	printf("  sizeof(struct event)=%u sizeof(struct event_callback)=%u\n",
	    (unsigned)sizeof(struct event),
	    (unsigned)sizeof(struct event_callback));
	printf("  evcb_active_next=%u evcb_flags=%u evcb_pri=%u evcb_closure=%u"
	    " evcb_cb_union=%u evcb_arg=%u\n",
	    CB_OFF(evcb_active_next), CB_OFF(evcb_flags), CB_OFF(evcb_pri),
	    CB_OFF(evcb_closure), CB_OFF(evcb_cb_union), CB_OFF(evcb_arg));
	printf("  ev_evcallback=%u ev_timeout_pos=%u ev_fd=%u ev_base=%u ev_=%u"
	    " ev_events=%u ev_res=%u ev_timeout=%u\n",
	    OFF(ev_evcallback), OFF(ev_timeout_pos), OFF(ev_fd), OFF(ev_base),
	    OFF(ev_), OFF(ev_events), OFF(ev_res), OFF(ev_timeout));
	printf("  sizeof ev_timeout_pos=%u ev_=%u ev_.ev_io=%u ev_.ev_signal=%u\n",
	    (unsigned)sizeof(((struct event *)0)->ev_timeout_pos),
	    (unsigned)sizeof(((struct event *)0)->ev_),
	    (unsigned)sizeof(((struct event *)0)->ev_.ev_io),
	    (unsigned)sizeof(((struct event *)0)->ev_.ev_signal));
	printf("  EVLIST: TIMEOUT=0x%x INSERTED=0x%x SIGNAL=0x%x ACTIVE=0x%x"
	    " INTERNAL=0x%x ACTIVE_LATER=0x%x FINALIZING=0x%x INIT=0x%x"
	    " ALL=0x%x\n",
	    EVLIST_TIMEOUT, EVLIST_INSERTED, EVLIST_SIGNAL, EVLIST_ACTIVE,
	    EVLIST_INTERNAL, EVLIST_ACTIVE_LATER, EVLIST_FINALIZING,
	    EVLIST_INIT, EVLIST_ALL);
	printf("  event_get_struct_event_size=%u\n",
	    (unsigned)event_get_struct_event_size());
	end();
}

static void io_event(int fds[2])
{
	struct event ev;
	struct timeval tv = { 10, 0 };
	begin("io event: assign, add, add with timeout, del");
	assign(&ev, fds[0], EV_READ, on_event);
	show("assigned", &ev, fds[0]);
	event_add(&ev, NULL);
	show("added", &ev, fds[0]);
	event_add(&ev, &tv);
	show("added, timeout", &ev, fds[0]);
	event_del(&ev);
	show("deleted", &ev, fds[0]);
	end();
}

static void io_fires(int fds[2])
{
	struct event ev;
	begin("io event fires: one-shot, then persistent");
	assign(&ev, fds[0], EV_READ, on_event);
	event_add(&ev, NULL);
	if (write(fds[1], "x", 1) != 1)
		printf("  write failed\n");
	event_base_loop(g_base, EVLOOP_ONCE);
	show("after loop", &ev, fds[0]);
	assign(&ev, fds[0], EV_READ | EV_PERSIST, on_event);
	event_add(&ev, NULL);
	event_base_loop(g_base, EVLOOP_ONCE);
	show("after loop", &ev, fds[0]);
	event_del(&ev);
	show("deleted", &ev, fds[0]);
	{
		char c;
		if (read(fds[0], &c, 1) != 1)
			printf("  read failed\n");
	}
	end();
}

static void timer_event(void)
{
	struct event ev;
	struct timeval tv = { 0, 1000 };
	begin("timer: add, fire, persist");
	assign(&ev, -1, 0, on_event);
	show("assigned", &ev, -1);
	event_add(&ev, &tv);
	show("added", &ev, -1);
	event_base_loop(g_base, EVLOOP_ONCE);
	show("after loop", &ev, -1);
	assign(&ev, -1, EV_PERSIST, on_event);
	event_add(&ev, &tv);
	event_base_loop(g_base, EVLOOP_ONCE);
	show("after loop", &ev, -1);
	event_del(&ev);
	show("deleted", &ev, -1);
	end();
}

static void active_event(int fds[2])
{
	struct event ev;
	begin("event_active: bits add up, del while active");
	assign(&ev, fds[0], EV_READ | EV_WRITE, on_event);
	event_active(&ev, EV_READ, 1);
	show("active READ", &ev, fds[0]);
	event_active(&ev, EV_WRITE, 1);
	show("active +WRITE", &ev, fds[0]);
	event_base_loop(g_base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	show("after loop", &ev, fds[0]);
	event_add(&ev, NULL);
	event_active(&ev, EV_TIMEOUT, 1);
	show("added, active", &ev, fds[0]);
	event_del(&ev);
	show("deleted", &ev, fds[0]);
	assign(&ev, fds[0], EV_READ | EV_PERSIST, on_event_del);
	event_add(&ev, NULL);
	event_active(&ev, EV_READ, 1);
	event_base_loop(g_base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	show("after loop", &ev, fds[0]);
	end();
}

static void signal_event(void)
{
	struct event ev;
	begin("signal event: add, fire, del");
	g_cb = on_event;
	g_arg = &ev;
	evsignal_assign(&ev, g_base, SIGUSR1, on_event, &ev);
	show("assigned", &ev, SIGUSR1);
	event_add(&ev, NULL);
	show("added", &ev, SIGUSR1);
	raise(SIGUSR1);
	event_base_loop(g_base, EVLOOP_ONCE);
	show("after loop", &ev, SIGUSR1);
	event_del(&ev);
	show("deleted", &ev, SIGUSR1);
	end();
}

static void self_arg(void)
{
	struct event *ev;
	begin("event_new with event_self_cbarg");
	ev = event_new(g_base, -1, 0, on_event, event_self_cbarg());
	g_cb = on_event;
	g_arg = ev;
	show("new", ev, -1);
	event_free(ev);
	end();
}

static void priorities(void)
{
	struct event_base *first = g_base;
	struct event_base *other = event_base_new();
	struct event ev;
	begin("priorities in evcb_pri");
	event_base_priority_init(other, 5);
	assign(&ev, -1, 0, on_event);
	show("on 1 priority", &ev, -1);
	printf("  event_base_set=%d\n", event_base_set(other, &ev));
	g_base = other;
	show("moved to 5", &ev, -1);
	printf("  event_priority_set(0)=%d\n", event_priority_set(&ev, 0));
	show("priority 0", &ev, -1);
	event_active(&ev, EV_TIMEOUT, 1);
	printf("  event_priority_set while active=%d\n",
	    event_priority_set(&ev, 3));
	show("active", &ev, -1);
	event_base_loop(other, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assign(&ev, -1, 0, on_event);
	show("assigned on 5", &ev, -1);
	event_base_free(other);
	g_base = first;
	end();
}

static int g_finalized;

static void on_finalize(struct event *ev, void *arg)
{
	(void)arg;
	++g_finalized;
	printf("  finalizer\n");
	show("in finalizer", ev, -1);
}

static void finalizing(void)
{
	struct event ev;
	struct timeval tv = { 10, 0 };
	begin("event_finalize");
	assign(&ev, -1, 0, on_event);
	event_add(&ev, &tv);
	printf("  event_finalize=%d\n", event_finalize(0, &ev, on_finalize));
	g_cb = (event_callback_fn)0;
	show("finalizing", &ev, -1);
	printf("  event_add=%d\n", event_add(&ev, &tv));
	event_base_dispatch(g_base);
	printf("  finalized=%d\n", g_finalized);
	end();
}

/* A program's own members named as libevent 1.x's short names. */
struct own_names {
	short ev_flags;
	void *ev_arg;
	int ev_pri;
	void (*ev_callback)(void);
	struct event event;
};

static void own_names(void)
{
	struct own_names c;
	memset(&c, 0, sizeof c);
	c.ev_flags = EV_READ | EV_PERSIST;
	c.ev_pri = 1;
	printf("own member names: ev_flags %d ev_pri %d event.ev_events %d\n", c.ev_flags, c.ev_pri,
	    c.event.ev_events);
}

int main(void)
{
	int fds[2];
	transcript_start();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (evutil_socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
		return 1;
	g_base = event_base_new();
	layout();
	io_event(fds);
	io_fires(fds);
	timer_event();
	active_event(fds);
	signal_event();
	self_arg();
	priorities();
	finalizing();
	own_names();
	event_base_free(g_base);
	evutil_closesocket(fds[0]);
	evutil_closesocket(fds[1]);
	return 0;
}

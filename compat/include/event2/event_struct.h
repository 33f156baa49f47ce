/* evasio: struct event, for programs that embed events (event_assign) and
 * read their fields. The layout is libevent 2.1.12's, member for member, so
 * that ev->ev_base, ev_fd, ev_events, ev_res, ev_evcallback.evcb_flags
 * (EVLIST_* bits), evcb_pri, the callback and its argument read true. The
 * members libevent keeps for its own lists and timeouts hold evasio's
 * private state: read them as opaque. An event that is not pending owns
 * nothing, so its memory may be freed or reused at will, as in libevent. */
#ifndef EVASIO_EVENT2_EVENT_STRUCT_H_INCLUDED_
#define EVASIO_EVENT2_EVENT_STRUCT_H_INCLUDED_

/* What libevent's event2/event_struct.h brings (on Linux). */
#include <sys/types.h>
#include <sys/time.h>

#include <event2/util.h>
#include <event2/keyvalq_struct.h> /* as libevent's event_struct.h */

#ifdef __cplusplus
extern "C" {
#endif

/* Which lists an event is on: the bits of ev_evcallback.evcb_flags. */
#define EVLIST_TIMEOUT	    0x01
#define EVLIST_INSERTED	    0x02
#define EVLIST_SIGNAL	    0x04
#define EVLIST_ACTIVE	    0x08
#define EVLIST_INTERNAL	    0x10
#define EVLIST_ACTIVE_LATER 0x20
#define EVLIST_FINALIZING   0x40
#define EVLIST_INIT	    0x80

#define EVLIST_ALL          0xff

/* The <sys/queue.h> entry types, defined here only for the members below
 * when the program did not bring them, as libevent's header does. */
#ifndef TAILQ_ENTRY
#define EVENT_DEFINED_TQENTRY_
#define TAILQ_ENTRY(type) \
struct { \
	struct type *tqe_next; \
	struct type **tqe_prev; \
}
#endif

#ifndef TAILQ_HEAD
#define EVENT_DEFINED_TQHEAD_
#define TAILQ_HEAD(name, type) \
struct name { \
	struct type *tqh_first; \
	struct type **tqh_last; \
}
#endif

#ifndef LIST_ENTRY
#define EVENT_DEFINED_LISTENTRY_
#define LIST_ENTRY(type) \
struct { \
	struct type *le_next; \
	struct type **le_prev; \
}
#endif

#ifndef LIST_HEAD
#define EVENT_DEFINED_LISTHEAD_
#define LIST_HEAD(name, type) \
struct name { \
	struct type *lh_first; \
}
#endif

struct event;

struct event_callback {
	TAILQ_ENTRY(event_callback) evcb_active_next;
	short evcb_flags;      /* EVLIST_* */
	ev_uint8_t evcb_pri;   /* lower runs first */
	ev_uint8_t evcb_closure;
	union {
		void (*evcb_callback)(evutil_socket_t, short, void *);
		void (*evcb_selfcb)(struct event_callback *, void *);
		void (*evcb_evfinalize)(struct event *, void *);
		void (*evcb_cbfinalize)(struct event_callback *, void *);
	} evcb_cb_union;
	void *evcb_arg;
};

struct event_base;
struct event {
	struct event_callback ev_evcallback;

	union {
		TAILQ_ENTRY(event) ev_next_with_common_timeout;
		int min_heap_idx;
	} ev_timeout_pos;
	evutil_socket_t ev_fd;

	struct event_base *ev_base;

	union {
		struct {
			LIST_ENTRY (event) ev_io_next;
			struct timeval ev_timeout;
		} ev_io;
		struct {
			LIST_ENTRY (event) ev_signal_next;
			short ev_ncalls;
			short *ev_pncalls;
		} ev_signal;
	} ev_;

	short ev_events;
	short ev_res;    /* what fired: while active and in the callback */
	struct timeval ev_timeout;
};

TAILQ_HEAD (event_list, event);

#ifdef EVENT_DEFINED_TQENTRY_
#undef TAILQ_ENTRY
#endif

#ifdef EVENT_DEFINED_TQHEAD_
#undef TAILQ_HEAD
#endif

LIST_HEAD (event_dlist, event);

#ifdef EVENT_DEFINED_LISTENTRY_
#undef LIST_ENTRY
#endif

#ifdef EVENT_DEFINED_LISTHEAD_
#undef LIST_HEAD
#endif

/* The short member names of libevent 1.x's struct event (ev->ev_arg, ...).
 * libevent 2.1 keeps them in its private event-internal.h, so a program
 * built against 2.1.12 never sees them, and real programs use these words
 * for their own members (memcached's conn has an ev_flags): they are
 * defined only for a program that asks, with EVASIO_EVENT_MEMBER_MACROS,
 * as 1.4-era code may need. */
#ifdef EVASIO_EVENT_MEMBER_MACROS
#define ev_signal_next ev_.ev_signal.ev_signal_next
#define ev_io_next ev_.ev_io.ev_io_next
#define ev_io_timeout ev_.ev_io.ev_timeout
#define ev_ncalls ev_.ev_signal.ev_ncalls
#define ev_pncalls ev_.ev_signal.ev_pncalls
#define ev_pri ev_evcallback.evcb_pri
#define ev_flags ev_evcallback.evcb_flags
#define ev_closure ev_evcallback.evcb_closure
#define ev_callback ev_evcallback.evcb_cb_union.evcb_callback
#define ev_arg ev_evcallback.evcb_arg
#endif

#ifdef __cplusplus
}
#endif

#endif /* EVASIO_EVENT2_EVENT_STRUCT_H_INCLUDED_ */

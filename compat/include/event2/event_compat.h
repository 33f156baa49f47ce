/* evasio: libevent 2.1.12's event2/event_compat.h, the 1.x event API, as a
 * thin layer over the 2.x functions (asio_backend/event_compat.cpp).
 *
 * The 1.x API works on a "current base": event_init() makes a base and makes
 * it current; event_set() prepares an event on the current base (or on none,
 * before event_init: event_base_set() then gives it one); event_dispatch(),
 * event_loop(), event_loopexit(), event_loopbreak(), event_once() and
 * event_get_method() act on it. event_base_free() of the current base (or
 * event_base_free(NULL)) leaves no current base. Like libevent's, these are
 * not for threads: use the event.h functions there. Without a current base
 * they fail with -1 and errno EINVAL (libevent crashes). */
#ifndef EVASIO_EVENT2_EVENT_COMPAT_H_INCLUDED_
#define EVASIO_EVENT2_EVENT_COMPAT_H_INCLUDED_

#include <event2/visibility.h>
#include <event2/event-config.h>
#include <sys/types.h>
#include <sys/time.h>
#include <event2/util.h>

#ifdef __cplusplus
extern "C" {
#endif

struct event;
struct event_base;

/* A new base, which becomes the current base. */
struct event_base *event_init(void);
/* event_base_dispatch(), event_base_loop(), ... on the current base. */
int event_dispatch(void);
int event_loop(int flags);
int event_loopexit(const struct timeval *tv);
int event_loopbreak(void);
int event_once(evutil_socket_t fd, short events,
    void (*callback)(evutil_socket_t, short, void *), void *arg,
    const struct timeval *tv);
const char *event_get_method(void);
int event_priority_init(int npriorities);

/* event_assign() on the current base (none before event_init()). */
void event_set(struct event *ev, evutil_socket_t fd, short events,
    void (*callback)(evutil_socket_t, short, void *), void *arg);

#define evtimer_set(ev, cb, arg) event_set((ev), -1, 0, (cb), (arg))
#define evsignal_set(ev, x, cb, arg) \
	event_set((ev), (x), EV_SIGNAL|EV_PERSIST, (cb), (arg))

#define timeout_add(ev, tv) event_add((ev), (tv))
#define timeout_set(ev, cb, arg) event_set((ev), -1, 0, (cb), (arg))
#define timeout_del(ev) event_del(ev)
#define timeout_pending(ev, tv) event_pending((ev), EV_TIMEOUT, (tv))
#define timeout_initialized(ev) event_initialized(ev)

#define signal_add(ev, tv) event_add((ev), (tv))
#define signal_set(ev, x, cb, arg) \
	event_set((ev), (x), EV_SIGNAL|EV_PERSIST, (cb), (arg))
#define signal_del(ev) event_del(ev)
#define signal_pending(ev, tv) event_pending((ev), EV_SIGNAL, (tv))
#define signal_initialized(ev) event_initialized(ev)

#ifndef EVENT_FD
#define EVENT_FD(ev) ((int)event_get_fd(ev))
#define EVENT_SIGNAL(ev) event_get_signal(ev)
#endif

#ifdef __cplusplus
}
#endif

#endif

/* evasio: libevent 2.1.12's event2/event.h API on Boost.Asio.
 * This part covers the event loop (struct event_base). An event_base owns or
 * borrows an asio::io_context; see asio_backend/evasio.hpp for the C++ side. */
#ifndef EVASIO_EVENT2_EVENT_H_INCLUDED_
#define EVASIO_EVENT2_EVENT_H_INCLUDED_

#include <event2/util.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version whose semantics evasio follows. */
#define LIBEVENT_VERSION "2.1.12-stable"
#define LIBEVENT_VERSION_NUMBER 0x02010c00
/* evasio's own version. */
#define EVASIO_VERSION "0.1.0"

struct event_base;

/* Event kinds, with libevent's bit values. */
#define EV_TIMEOUT 0x01
#define EV_READ 0x02
#define EV_WRITE 0x04
#define EV_SIGNAL 0x08
#define EV_PERSIST 0x10
#define EV_ET 0x20
#define EV_FINALIZE 0x40
#define EV_CLOSED 0x80

/* event_base_loop() flags. */
#define EVLOOP_ONCE 0x01
#define EVLOOP_NONBLOCK 0x02
#define EVLOOP_NO_EXIT_ON_EMPTY 0x04

/* A new base over a private asio::io_context; NULL with errno on failure. */
struct event_base *event_base_new(void);
/* Frees the base. Objects still attached to it are detached, not freed. */
void event_base_free(struct event_base *base);

/* Runs the loop until no event is pending, or loopexit/loopbreak.
 * Returns 0 on exit/break, 1 when nothing was pending, -1 on error. */
int event_base_dispatch(struct event_base *base);
int event_base_loop(struct event_base *base, int flags);
/* Exit after the callbacks now ready have run (tv NULL) or after tv. */
int event_base_loopexit(struct event_base *base, const struct timeval *tv);
/* Exit after the callback now running, if any. */
int event_base_loopbreak(struct event_base *base);
int event_base_got_exit(struct event_base *base);
int event_base_got_break(struct event_base *base);

/* The kernel mechanism under Asio's reactor: "epoll" on Linux. */
const char *event_base_get_method(const struct event_base *base);

const char *event_get_version(void);
ev_uint32_t event_get_version_number(void);

/* Logging, as libevent: messages go to stderr as "[warn] msg" unless a
 * callback is set. */
#define EVENT_LOG_DEBUG 0
#define EVENT_LOG_MSG 1
#define EVENT_LOG_WARN 2
#define EVENT_LOG_ERR 3
typedef void (*event_log_cb)(int severity, const char *msg);
void event_set_log_callback(event_log_cb cb);

#ifdef __cplusplus
}
#endif

#endif /* EVASIO_EVENT2_EVENT_H_INCLUDED_ */

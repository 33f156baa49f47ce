/* evasio: libevent 2.1.12's event2/event.h API on Boost.Asio.
 * This part covers the event loop (struct event_base). An event_base owns or
 * borrows an asio::io_context; see asio_backend/evasio.hpp for the C++ side. */
#ifndef EVASIO_EVENT2_EVENT_H_INCLUDED_
#define EVASIO_EVENT2_EVENT_H_INCLUDED_

/* The system headers libevent's event2/event.h brings on Linux: programs
 * use stderr, FILE and struct timeval with only this header included. */
#include <stdio.h>
#include <sys/types.h>
#include <sys/time.h>

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

/* ---- Events: readiness of an fd, timeouts, signals ------------------- */

struct event;
/* Callback: the fd (or signal number), the events that fired, the arg. */
typedef void (*event_callback_fn)(evutil_socket_t fd, short what, void *arg);

/* A new event; NULL with errno set on bad arguments (EV_SIGNAL with
 * EV_READ/EV_WRITE, an unknown base). Free it with event_free(). */
struct event *event_new(struct event_base *base, evutil_socket_t fd,
    short events, event_callback_fn callback, void *callback_arg);
/* Deletes (if pending) and frees. May be called from its own callback. */
void event_free(struct event *ev);
/* Initialises caller-owned storage (see event2/event_struct.h). */
int event_assign(struct event *ev, struct event_base *base,
    evutil_socket_t fd, short events, event_callback_fn callback,
    void *callback_arg);
/* Moves an event that is neither pending nor active to another base: 0, or
 * -1 if it is pending or active (event_set, then event_base_set, is the
 * 1.x way to put an event on a base). */
int event_base_set(struct event_base *base, struct event *ev);
/* Pass as callback_arg to get the event itself as the argument. */
void *event_self_cbarg(void);
size_t event_get_struct_event_size(void);

/* Makes the event pending: for its fd/signal if it has EV_READ, EV_WRITE,
 * EV_CLOSED or EV_SIGNAL, and for tv if not NULL (a pending timeout is
 * rescheduled; tv NULL leaves it as it is). */
int event_add(struct event *ev, const struct timeval *timeout);
/* Not pending nor active afterwards: its callback will not run. */
int event_del(struct event *ev);
/* Which of `events` are pending or active; *tv gets the timeout's expiry
 * (wall-clock time) when EV_TIMEOUT is asked for and pending. */
int event_pending(const struct event *ev, short events, struct timeval *tv);
int event_initialized(const struct event *ev);
/* Makes the event active with `res` as if it had fired; ncalls is used
 * for signal events. */
void event_active(struct event *ev, int res, short ncalls);

evutil_socket_t event_get_fd(const struct event *ev);
/* The signal number of a signal event. */
#define event_get_signal(ev) ((int)event_get_fd(ev))
struct event_base *event_get_base(const struct event *ev);
short event_get_events(const struct event *ev);
event_callback_fn event_get_callback(const struct event *ev);
void *event_get_callback_arg(const struct event *ev);

/* A one-shot event allocated and freed by the base. EV_PERSIST and
 * EV_SIGNAL are refused (-1). */
int event_base_once(struct event_base *base, evutil_socket_t fd,
    short events, event_callback_fn callback, void *arg,
    const struct timeval *timeout);

/* The time the current round of callbacks started, or now. */
int event_base_gettimeofday_cached(struct event_base *base,
    struct timeval *tv);

/* ---- Priorities: lower numbers run first; each pass of the loop runs
 * only the most urgent queue that has active events. */
#define EVENT_MAX_PRIORITIES 256
/* 1 <= npriorities < EVENT_MAX_PRIORITIES; -1 while events are active. */
int event_base_priority_init(struct event_base *base, int npriorities);
/* NULL: the 1.x current base. */
int event_base_get_npriorities(struct event_base *base);
/* -1 while the event is active or for a priority out of range. */
int event_priority_set(struct event *ev, int priority);
int event_get_priority(const struct event *ev);

/* Stop running callbacks and poll again before running more. */
int event_base_loopcontinue(struct event_base *base);

/* ---- Inspecting and steering events ----------------------------------- */

/* The event whose callback runs now, asked from the loop's thread; else
 * NULL. */
struct event *event_base_get_running_event(struct event_base *base);
/* Drops the event's timeout, leaving it pending on its fd or signal. */
int event_remove_timer(struct event *ev);
/* A timeval for `duration` to pass to event_add(); the same pointer for the
 * same duration on this base; it lives as long as the base. */
const struct timeval *event_base_init_common_timeout(struct event_base *base,
    const struct timeval *duration);
/* What event_assign() was given. Any out pointer may be NULL. */
void event_get_assignment(const struct event *event,
    struct event_base **base_out, evutil_socket_t *fd_out, short *events_out,
    event_callback_fn *callback_out, void **arg_out);

/* Called on every event that is added or active, each once; a non-zero
 * return stops the walk and is returned. It must not add, delete or
 * activate events. */
typedef int (*event_base_foreach_event_cb)(const struct event_base *,
    const struct event *, void *);
int event_base_foreach_event(struct event_base *base,
    event_base_foreach_event_cb fn, void *arg);
/* A readable listing of the inserted and the active events. */
void event_base_dump_events(struct event_base *base, FILE *output);

/* Activates the events on fd waiting for `events` (EV_TIMEOUT: the fd's
 * events with a timeout), or the events on a signal. */
void event_base_active_by_fd(struct event_base *base, evutil_socket_t fd,
    short events);
void event_base_active_by_signal(struct event_base *base, int sig);

/* Refreshes the time event_base_gettimeofday_cached() reports while
 * callbacks run. */
int event_base_update_cache_time(struct event_base *base);

/* event_del(), but always (block) or never (noblock) waiting for the
 * event's callback running in another thread; event_del() waits unless the
 * event has EV_FINALIZE. */
int event_del_block(struct event *ev);
int event_del_noblock(struct event *ev);

/* ---- Finalizers: tear an event down without waiting for its callback.
 * The event is deleted and can no longer run; the finalizer runs once from
 * the loop (or when the base is freed), after any callback of the event
 * has returned. event_free_finalize() then frees the event. flags: 0. */
typedef void (*event_finalize_callback_fn)(struct event *, void *);
int event_finalize(unsigned flags, struct event *ev,
    event_finalize_callback_fn cb);
int event_free_finalize(unsigned flags, struct event *ev,
    event_finalize_callback_fn cb);
/* event_base_free() without running the finalizers still due. */
void event_base_free_nofinalize(struct event_base *base);

/* Marks a non-pending event as no longer initialized. */
void event_debug_unassign(struct event *ev);

#define EVENT_BASE_COUNT_ACTIVE 1U
#define EVENT_BASE_COUNT_VIRTUAL 2U
#define EVENT_BASE_COUNT_ADDED 4U
/* Events added (pending), active, or both; listeners and bufferevents
 * count as the events libevent would use for them. */
int event_base_get_num_events(struct event_base *base, unsigned int flags);
/* The most events counted so (since the last clear). */
int event_base_get_max_events(struct event_base *base, unsigned int type,
    int clear);

/* Timers and signals, as libevent's macros. */
#define evtimer_assign(ev, b, cb, arg) \
	event_assign((ev), (b), -1, 0, (cb), (arg))
#define evtimer_new(b, cb, arg) event_new((b), -1, 0, (cb), (arg))
#define evtimer_add(ev, tv) event_add((ev), (tv))
#define evtimer_del(ev) event_del(ev)
#define evtimer_pending(ev, tv) event_pending((ev), EV_TIMEOUT, (tv))
#define evtimer_initialized(ev) event_initialized(ev)

#define evsignal_add(ev, tv) event_add((ev), (tv))
#define evsignal_assign(ev, b, x, cb, arg) \
	event_assign((ev), (b), (x), EV_SIGNAL|EV_PERSIST, (cb), (arg))
#define evsignal_new(b, x, cb, arg) \
	event_new((b), (x), EV_SIGNAL|EV_PERSIST, (cb), (arg))
#define evsignal_del(ev) event_del(ev)
#define evsignal_pending(ev, tv) event_pending((ev), EV_SIGNAL, (tv))
#define evsignal_initialized(ev) event_initialized(ev)

#define evuser_new(b, cb, arg) event_new((b), -1, 0, (cb), (arg))
#define evuser_del(ev) event_del(ev)
#define evuser_pending(ev, tv) event_pending((ev), 0, (tv))
#define evuser_initialized(ev) event_initialized(ev)
#define evuser_trigger(ev) event_active((ev), 0, 0)

/* ---- Configured bases (event_config) -------------------------------- */

struct event_config;

/* Features a method may have (event_config_require_features). */
enum event_method_feature {
	EV_FEATURE_ET = 0x01,          /* EV_ET events */
	EV_FEATURE_O1 = 0x02,          /* adding, deleting, one ready event: O(1) */
	EV_FEATURE_FDS = 0x04,         /* any kind of fd, not only sockets */
	EV_FEATURE_EARLY_CLOSE = 0x08  /* EV_CLOSED without reading the data first */
};

/* Flags of event_config_set_flag(). */
enum event_base_config_flag {
	EVENT_BASE_FLAG_NOLOCK = 0x01,       /* no locks, even after evthread_use_pthreads */
	EVENT_BASE_FLAG_IGNORE_ENV = 0x02,   /* do not read EVENT_* variables */
	EVENT_BASE_FLAG_STARTUP_IOCP = 0x04, /* Windows only: no effect */
	EVENT_BASE_FLAG_NO_CACHE_TIME = 0x08,
	EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST = 0x10,
	EVENT_BASE_FLAG_PRECISE_TIMER = 0x20
};

/* NULL with errno on failure. Free with event_config_free(). */
struct event_config *event_config_new(void);
void event_config_free(struct event_config *cfg);
/* Bases made from cfg will not use the named method: evasio has one, the
 * name event_base_get_method() reports, and avoiding it leaves none. */
int event_config_avoid_method(struct event_config *cfg, const char *method);
/* Bases made from cfg need every EV_FEATURE_* bit of `feature`. */
int event_config_require_features(struct event_config *cfg, int feature);
/* Adds EVENT_BASE_FLAG_* bits (others are kept and ignored, as libevent). */
int event_config_set_flag(struct event_config *cfg, int flag);
/* Windows IOCP only: recorded, no effect. */
int event_config_set_num_cpus_hint(struct event_config *cfg, int cpus);
/* After max_interval (NULL: no limit) or max_callbacks (negative: no limit)
 * callbacks of priority >= min_priority, the loop checks for new events. */
int event_config_set_max_dispatch_interval(struct event_config *cfg,
    const struct timeval *max_interval, int max_callbacks, int min_priority);
/* A base as cfg asks (NULL: as event_base_new), or NULL if no method fits. */
struct event_base *event_base_new_with_config(const struct event_config *cfg);
/* The EV_FEATURE_* bits of the base's method. */
int event_base_get_features(const struct event_base *base);
/* The methods available, NULL-terminated; static storage. */
const char **event_get_supported_methods(void);

/* After fork(), in the child: makes the base's events work there. */
int event_reinit(struct event_base *base);

/* The base's monotonic clock (not wall-clock time). */
int event_gettime_monotonic(struct event_base *base, struct timeval *tp);

/* ---- Process-wide settings ------------------------------------------ */

/* Before any event or base exists: catches misuse of events (adding an
 * uninitialised one, reassigning a pending one, using a freed one) and
 * reports it through the fatal path. */
void event_enable_debug_mode(void);
/* Debug mode: the event is no longer known (event_initialized() is 0). */
void event_debug_unassign(struct event *);

/* Called on a fatal error instead of exiting; the process ends after it. */
typedef void (*event_fatal_cb)(int err);
void event_set_fatal_callback(event_fatal_cb cb);

/* Which debug messages reach the log (EVENT_DBG_NONE by default). */
#define EVENT_DBG_ALL 0xffffffffu
#define EVENT_DBG_NONE 0
void event_enable_debug_logging(ev_uint32_t which);

/* Allocator of the memory a program gets from evasio and frees itself
 * (see README): set before any other call. */
void event_set_mem_functions(
	void *(*malloc_fn)(size_t sz),
	void *(*realloc_fn)(void *ptr, size_t sz),
	void (*free_fn)(void *ptr));
#define EVENT_SET_MEM_FUNCTIONS_IMPLEMENTED

/* Frees evasio's process-wide state; no evasio call should follow it. */
void libevent_global_shutdown(void);

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

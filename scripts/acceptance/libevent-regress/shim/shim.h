/* evasio's shim for libevent 2.1.12's regression tests: the declarations that
 * libevent's internal headers give the tests, written for evasio's harness in
 * terms of the public API (scripts/acceptance/libevent-regress/README.md).
 * Every internal header name the tests include is a one-line file here that
 * includes this one. It works unchanged against real libevent (--oracle). */
#ifndef EVASIO_REGRESS_SHIM_H
#define EVASIO_REGRESS_SHIM_H

#include <event2/event-config.h>
#include <sys/types.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>

#include <event2/util.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/thread.h>
#include <event2/event_compat.h>

/* Helpers the harness itself provides. A name libevent also uses internally
 * is mapped to shim_*, so that against real libevent the test calls the shim
 * and libevent's own internal calls are not interposed. */

/* shim_unsupported_: a libevent-internal facility with no public
 * counterpart. Prints "SHIM-UNSUPPORTED: what" and exits 77 from the
 * case's child; run.sh reports such a case NOBUILD, never PASS. */
void shim_unsupported_(const char *what) __attribute__((noreturn));
int shim_unsupported_int_(const char *what) __attribute__((noreturn)); /* the same, as an int */

/* ---- util-internal.h */
#ifndef EVUTIL_SHUT_RD          /* socket shutdown directions */
#define EVUTIL_SHUT_RD SHUT_RD
#define EVUTIL_SHUT_WR SHUT_WR
#define EVUTIL_SHUT_BOTH SHUT_RDWR
#endif
/* errno values after which a read/write, connect or accept is retried */
#define EVUTIL_ERR_RW_RETRIABLE(e) ((e) == EINTR || (e) == EAGAIN || (e) == EWOULDBLOCK)
#define EVUTIL_ERR_CONNECT_RETRIABLE(e) ((e) == EINTR || (e) == EINPROGRESS)
#define EVUTIL_ERR_ACCEPT_RETRIABLE(e) EVUTIL_ERR_RW_RETRIABLE(e)
#define EVUTIL_ERR_CONNECT_REFUSED(e) ((e) == ECONNREFUSED)
/* pointer to a member -> pointer to its enclosing struct */
#define EVUTIL_UPCAST(ptr, type, field) ((type *)(((char *)(ptr)) - offsetof(type, field)))
/* locale-independent ASCII classification, as the C locale's */
#define EVUTIL_ISALPHA_(c) (isalpha((unsigned char)(c)) != 0)
#define EVUTIL_ISALNUM_(c) (isalnum((unsigned char)(c)) != 0)
#define EVUTIL_ISDIGIT_(c) (isdigit((unsigned char)(c)) != 0)
#define EVUTIL_ISSPACE_(c) (isspace((unsigned char)(c)) != 0)
#define EVUTIL_ISXDIGIT_(c) (isxdigit((unsigned char)(c)) != 0)
#define EVUTIL_ISPRINT_(c) (isprint((unsigned char)(c)) != 0)
#define EVUTIL_ISLOWER_(c) (islower((unsigned char)(c)) != 0)
#define EVUTIL_ISUPPER_(c) (isupper((unsigned char)(c)) != 0)
#define EVUTIL_TOUPPER_(c) ((char)toupper((unsigned char)(c)))
#define EVUTIL_TOLOWER_(c) ((char)tolower((unsigned char)(c)))
/* internal assertion: abort with the location when false */
#define EVUTIL_ASSERT(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: assertion %s failed\n", __FILE__, __LINE__, #cond); abort(); } } while (0)
#define EVUTIL_FAILURE_CHECK(cond) (cond)
#define EVUTIL_UNLIKELY(p) (p)
/* printf formats for the fixed-size types, with the casts they need */
#define EV_U64_FMT "%llu"
#define EV_I64_FMT "%lld"
#define EV_U64_ARG(x) ((unsigned long long)(x))
#define EV_I64_ARG(x) ((long long)(x))
#define EV_SIZE_FMT "%zu"
#define EV_SSIZE_FMT "%zd"
#define EV_SIZE_ARG(x) ((size_t)(x))
#define EV_SSIZE_ARG(x) ((ev_ssize_t)(x))

/* the weak (non-cryptographic) RNG: a linear congruential generator with a
 * 31-bit state; seed 0 takes a seed from the clock and pid */
struct evutil_weakrand_state { ev_uint32_t seed; };
#define EVUTIL_WEAKRAND_MAX EV_INT32_MAX
#define evutil_weakrand_seed_ shim_weakrand_seed_
#define evutil_weakrand_ shim_weakrand_
#define evutil_weakrand_range_ shim_weakrand_range_
ev_uint32_t shim_weakrand_seed_(struct evutil_weakrand_state *st, ev_uint32_t seed);
ev_int32_t shim_weakrand_(struct evutil_weakrand_state *st);
ev_int32_t shim_weakrand_range_(struct evutil_weakrand_state *st, ev_int32_t top);

/* sleep for *tv */
#define evutil_usleep_ shim_usleep_
void shim_usleep_(const struct timeval *tv);
/* non-blocking connect, making the socket when *fd < 0: 1 connected,
 * 0 in progress, 2 refused at once, -1 error */
#define evutil_socket_connect_ shim_socket_connect_
int shim_socket_connect_(evutil_socket_t *fd, const struct sockaddr *sa, int socklen);

/* internal evutil helpers that are the very subject of util/ cases: not
 * reimplemented (testing a reimplementation would test the shim) */
#define evutil_format_sockaddr_port_(sa, out, len) ((const char *)(size_t)shim_unsupported_int_("evutil_format_sockaddr_port_"))
#define evutil_sockaddr_is_loopback_(sa) shim_unsupported_int_("evutil_sockaddr_is_loopback_")
#define evutil_rtrim_lws_(s) shim_unsupported_("evutil_rtrim_lws_")
#define evutil_v4addr_is_local_(in) shim_unsupported_int_("evutil_v4addr_is_local_")
#define evutil_v6addr_is_local_(in) shim_unsupported_int_("evutil_v6addr_is_local_")
#define strlcpy(d, s, n) ((size_t)shim_unsupported_int_("strlcpy (strlcpy-internal.h)"))

/* monotonic timers by value, as the tests declare them: a holder of the
 * public API's timer (evutil_monotonic_timer_new) */
struct evutil_monotonic_timer { struct evutil_monotonic_timer *shim_public_; };
#define evutil_configure_monotonic_time_ shim_configure_monotonic_time_
#define evutil_gettime_monotonic_ shim_gettime_monotonic_
int shim_configure_monotonic_time_(struct evutil_monotonic_timer *t, int flags);
int shim_gettime_monotonic_(struct evutil_monotonic_timer *t, struct timeval *tv);

/* ---- mm-internal.h: the allocator; size 0 gives NULL with errno untouched */
#define mm_malloc shim_mm_malloc
#define mm_calloc shim_mm_calloc
#define mm_strdup shim_mm_strdup
#define mm_realloc realloc
#define mm_free free
void *shim_mm_malloc(size_t n);
void *shim_mm_calloc(size_t n, size_t size);
char *shim_mm_strdup(const char *s);

/* ---- log-internal.h: socket formats; the internal loggers (the subject
 * of util/log) are not reimplemented */
#define EV_SOCK_FMT "%d"
#define EV_SOCK_ARG(x) (x)
#define event_err(...) shim_unsupported_("event_err (log-internal.h)")
#define event_errx(...) shim_unsupported_("event_errx (log-internal.h)")
#define event_sock_err(...) shim_unsupported_("event_sock_err (log-internal.h)")
#define event_warn(...) shim_unsupported_("event_warn (log-internal.h)")
#define event_warnx(...) shim_unsupported_("event_warnx (log-internal.h)")
#define event_sock_warn(...) shim_unsupported_("event_sock_warn (log-internal.h)")
#define event_msgx(...) shim_unsupported_("event_msgx (log-internal.h)")
#define event_debug(x) shim_unsupported_("event_debug (log-internal.h)")
#define event_debugx_(...) shim_unsupported_("event_debugx_ (log-internal.h)")

/* ---- event-internal.h */
/* 1.x short member names of struct event (the same layout in evasio) */
#ifndef ev_flags
#define ev_flags ev_evcallback.evcb_flags
#endif
/* struct event_base is private to each implementation. A placeholder, so
 * that the few cases reading its members compile; run.sh never runs them
 * (NOBUILD in unsupported.txt). */
struct event_base {
	struct { evutil_socket_t ev_signal_pair[2]; int evsig_caught; } sig;
	evutil_socket_t th_notify_fd[2];
};
/* libevent's current base of the 1.x API, which regress.c's main/fork reads
 * as a variable: the base of the last event_init(), recorded by the shim */
#define event_global_current_base_ shim_current_base_
extern struct event_base *shim_current_base_;
#define event_init() shim_event_init_()
struct event_base *shim_event_init_(void);
/* internal consistency check of a base: cannot look inside; does nothing */
#define event_base_assert_ok_(base) ((void)(base))
/* internal machinery without a public counterpart */
#define event_active_later_(ev, res) shim_unsupported_("event_active_later_ (event-internal.h)")
#define event_base_add_virtual_(base) shim_unsupported_("event_base_add_virtual_ (event-internal.h)")
#define event_base_del_virtual_(base) shim_unsupported_("event_base_del_virtual_ (event-internal.h)")
#define event_callback_activate_(base, cb) shim_unsupported_int_("event_callback_activate_ (event-internal.h)")
#define event_callback_finalize_(base, fl, cb, fn) shim_unsupported_("event_callback_finalize_ (event-internal.h)")
#define event_base_start_iocp_(base, n) shim_unsupported_int_("event_base_start_iocp_ (iocp-internal.h)")

/* ---- defer-internal.h: deferred callbacks, internal machinery */
#define event_deferred_cb_init_(cb, pri, fn, arg) shim_unsupported_("event_deferred_cb_init_ (defer-internal.h)")
#define event_deferred_cb_schedule_(base, cb) shim_unsupported_int_("event_deferred_cb_schedule_ (defer-internal.h)")
#define event_deferred_cb_cancel_(base, cb) shim_unsupported_("event_deferred_cb_cancel_ (defer-internal.h)")

/* ---- evthread-internal.h: the tests' own locks and conditions, on
 * pthreads directly (libevent routes them through its lock callbacks) */
#define EVTHREAD_ALLOC_LOCK(lockvar, locktype) ((lockvar) = shim_lock_alloc_(locktype))
#define EVTHREAD_FREE_LOCK(lockvar, locktype) shim_lock_free_(lockvar)
#define EVLOCK_LOCK(lockvar, mode) shim_lock_(lockvar)
#define EVLOCK_UNLOCK(lockvar, mode) shim_unlock_(lockvar)
#define EVTHREAD_ALLOC_COND(condvar) ((condvar) = shim_cond_alloc_())
#define EVTHREAD_FREE_COND(condvar) shim_cond_free_(condvar)
#define EVTHREAD_COND_SIGNAL(condvar) shim_cond_signal_(condvar, 0)
#define EVTHREAD_COND_BROADCAST(condvar) shim_cond_signal_(condvar, 1)
/* 0 when woken, 1 on the timeout, -1 on error */
#define EVTHREAD_COND_WAIT(condvar, lockvar) shim_cond_wait_(condvar, lockvar, NULL)
#define EVTHREAD_COND_WAIT_TIMED(condvar, lockvar, tv) shim_cond_wait_(condvar, lockvar, tv)
/* the lock callbacks in use: evasio never calls a program's lock
 * callbacks (README, intended differences), so there are none to give */
#define evthread_get_lock_callbacks() ((const struct evthread_lock_callbacks *)(size_t)shim_unsupported_int_("evthread_get_lock_callbacks (evthread-internal.h)"))
void *shim_lock_alloc_(unsigned locktype);
void shim_lock_free_(void *lock);
void shim_lock_(void *lock);
void shim_unlock_(void *lock);
void *shim_cond_alloc_(void);
void shim_cond_free_(void *cond);
void shim_cond_signal_(void *cond, int all);
int shim_cond_wait_(void *cond, void *lock, const struct timeval *tv);

#endif

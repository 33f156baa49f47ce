/* evasio: libevent 2.1.12's event2/util.h API on Boost.Asio.
 * Portable types and socket helpers. Everything declared here is implemented. */
#ifndef EVASIO_EVENT2_UTIL_H_INCLUDED_
#define EVASIO_EVENT2_UTIL_H_INCLUDED_

#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <sys/types.h>
#include <sys/time.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Fixed-width integer names libevent code uses. */
typedef uint64_t ev_uint64_t;
typedef int64_t ev_int64_t;
typedef uint32_t ev_uint32_t;
typedef int32_t ev_int32_t;
typedef uint16_t ev_uint16_t;
typedef int16_t ev_int16_t;
typedef uint8_t ev_uint8_t;
typedef int8_t ev_int8_t;
typedef uintptr_t ev_uintptr_t;
typedef intptr_t ev_intptr_t;
typedef ssize_t ev_ssize_t;
typedef off_t ev_off_t;
typedef socklen_t ev_socklen_t;

#define EV_UINT64_MAX UINT64_MAX
#define EV_INT64_MAX INT64_MAX
#define EV_INT64_MIN INT64_MIN
#define EV_UINT32_MAX UINT32_MAX
#define EV_INT32_MAX INT32_MAX
#define EV_INT32_MIN INT32_MIN
#define EV_UINT16_MAX UINT16_MAX
#define EV_INT16_MAX INT16_MAX
#define EV_INT16_MIN INT16_MIN
#define EV_UINT8_MAX UINT8_MAX
#define EV_INT8_MAX INT8_MAX
#define EV_INT8_MIN INT8_MIN
#define EV_SIZE_MAX SIZE_MAX
#define EV_SSIZE_MAX SSIZE_MAX
#define EV_SSIZE_MIN (-SSIZE_MAX - 1)

/* A socket is a plain file descriptor on POSIX. */
#define evutil_socket_t int
#define EVUTIL_INVALID_SOCKET -1

/* The last socket error of this thread, and how to set it. */
#define EVUTIL_SOCKET_ERROR() (errno)
#define EVUTIL_SET_SOCKET_ERROR(errcode) \
	do { errno = (errcode); } while (0)
int evutil_socket_geterror(evutil_socket_t sock);
const char *evutil_socket_error_to_string(int errcode);

/* Socket helpers: 0 on success, -1 with errno set on failure. */
int evutil_socketpair(int d, int type, int protocol, evutil_socket_t sv[2]);
int evutil_make_socket_nonblocking(evutil_socket_t sock);
int evutil_make_socket_closeonexec(evutil_socket_t sock);
int evutil_make_listen_socket_reuseable(evutil_socket_t sock);
int evutil_make_listen_socket_reuseable_port(evutil_socket_t sock);
int evutil_make_listen_socket_ipv6only(evutil_socket_t sock);
int evutil_make_tcp_listen_socket_deferred(evutil_socket_t sock);
int evutil_closesocket(evutil_socket_t sock);
#define EVUTIL_CLOSESOCKET(s) evutil_closesocket(s)

/* timeval arithmetic, as the BSD macros. */
#define evutil_timeradd(tvp, uvp, vvp) \
	do { \
		(vvp)->tv_sec = (tvp)->tv_sec + (uvp)->tv_sec; \
		(vvp)->tv_usec = (tvp)->tv_usec + (uvp)->tv_usec; \
		if ((vvp)->tv_usec >= 1000000) { \
			(vvp)->tv_sec++; \
			(vvp)->tv_usec -= 1000000; \
		} \
	} while (0)
#define evutil_timersub(tvp, uvp, vvp) \
	do { \
		(vvp)->tv_sec = (tvp)->tv_sec - (uvp)->tv_sec; \
		(vvp)->tv_usec = (tvp)->tv_usec - (uvp)->tv_usec; \
		if ((vvp)->tv_usec < 0) { \
			(vvp)->tv_sec--; \
			(vvp)->tv_usec += 1000000; \
		} \
	} while (0)
#define evutil_timerclear(tvp) do { (tvp)->tv_sec = (tvp)->tv_usec = 0; } while (0)
#define evutil_timerisset(tvp) ((tvp)->tv_sec || (tvp)->tv_usec)
#define evutil_timercmp(tvp, uvp, cmp) \
	(((tvp)->tv_sec == (uvp)->tv_sec) ? \
	 ((tvp)->tv_usec cmp (uvp)->tv_usec) : \
	 ((tvp)->tv_sec cmp (uvp)->tv_sec))

int evutil_gettimeofday(struct timeval *tv, struct timezone *tz);

#ifdef __cplusplus
}
#endif

#endif /* EVASIO_EVENT2_UTIL_H_INCLUDED_ */

/* evasio: libevent 2.1.12's event2/util.h API on Boost.Asio.
 * Portable types, socket helpers, address parsing and printing, string
 * helpers, name resolution (evutil_getaddrinfo), the secure random number
 * generator, monotonic timers and RFC 1123 dates. Everything libevent
 * 2.1.12 declares here is declared and implemented. The header is C99-clean
 * (it compiles with -std=c99 -pedantic) and C++-clean.
 *
 * Where libevent's Linux build uses a macro and evasio a function of the
 * same name and use (evutil_socket_geterror, evutil_socket_error_to_string,
 * evutil_gettimeofday), a call reads the same. evutil_secure_rng_add_bytes
 * is declared, as in libevent's generic builds (Debian's build, on glibc's
 * arc4random, exports it but leaves it undeclared). */
#ifndef EVASIO_EVENT2_UTIL_H_INCLUDED_
#define EVASIO_EVENT2_UTIL_H_INCLUDED_

/* As libevent's: its configuration first (it may turn on _GNU_SOURCE). */
#include <event2/event-config.h>
#include <event2/visibility.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <time.h>
#include <sys/types.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <netdb.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Fixed-width integer names libevent code uses. As in libevent, they are
 * macros (so that "#ifdef ev_uint64_t" works). */
#define ev_uint64_t uint64_t
#define ev_int64_t int64_t
#define ev_uint32_t uint32_t
#define ev_int32_t int32_t
#define ev_uint16_t uint16_t
#define ev_int16_t int16_t
#define ev_uint8_t uint8_t
#define ev_int8_t int8_t
#define ev_uintptr_t uintptr_t
#define ev_intptr_t intptr_t
#define ev_ssize_t ssize_t
/* As libevent: fixed at 64 bits, whatever _FILE_OFFSET_BITS says. */
#define ev_off_t ev_int64_t
#define ev_socklen_t socklen_t

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
#if SIZE_MAX == UINT64_MAX
#define EV_SIZE_MAX EV_UINT64_MAX
#define EV_SSIZE_MAX EV_INT64_MAX
#elif SIZE_MAX == UINT32_MAX
#define EV_SIZE_MAX EV_UINT32_MAX
#define EV_SSIZE_MAX EV_INT32_MAX
#else
#error "evasio: size_t is neither 32 nor 64 bits wide"
#endif
#define EV_SSIZE_MIN ((-EV_SSIZE_MAX) - 1)

/* A socket is a plain file descriptor on POSIX. */
#define evutil_socket_t int
#define EVUTIL_INVALID_SOCKET -1

/* shutdown() directions. libevent 2.1.12 defines these only internally
 * (util-internal.h); evasio provides them with the same values. */
#define EVUTIL_SHUT_RD SHUT_RD
#define EVUTIL_SHUT_WR SHUT_WR
#define EVUTIL_SHUT_BOTH SHUT_RDWR

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
/* SO_REUSEPORT (Linux 3.9+): several sockets may bind the same port. */
int evutil_make_listen_socket_reuseable_port(evutil_socket_t sock);
int evutil_make_listen_socket_ipv6only(evutil_socket_t sock);
int evutil_make_tcp_listen_socket_deferred(evutil_socket_t sock);
int evutil_closesocket(evutil_socket_t sock);
#define EVUTIL_CLOSESOCKET(s) evutil_closesocket(s)

/* struct timeval arithmetic, as the BSD macros libevent uses on Linux.
 * timeradd/timersub expect normalised inputs (0 <= tv_usec < 1000000).
 * evutil_timerclear and evutil_timerisset are expressions; evutil_timercmp
 * accepts ==, !=, <, <=, > and >=. */
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
#define evutil_timerclear(tvp) ((tvp)->tv_sec = (tvp)->tv_usec = 0)
#define evutil_timerisset(tvp) ((tvp)->tv_sec || (tvp)->tv_usec)
#define evutil_timercmp(tvp, uvp, cmp) \
	(((tvp)->tv_sec == (uvp)->tv_sec) ? \
	 ((tvp)->tv_usec cmp (uvp)->tv_usec) : \
	 ((tvp)->tv_sec cmp (uvp)->tv_sec))

#define evutil_offsetof(type, field) offsetof(type, field)

struct timezone;
int evutil_gettimeofday(struct timeval *tv, struct timezone *tz);

/* strtoll(): arguments, result, errno and *endptr as the C library's.
 * s == NULL: returns 0 with errno = EINVAL (and *endptr = NULL). */
ev_int64_t evutil_strtoll(const char *s, char **endptr, int base);

/* C99 snprintf/vsnprintf: return the length the whole output would have,
 * and always NUL-terminate when buflen > 0. As libevent: buflen == 0 writes
 * nothing and returns 0. buf == NULL (with buflen > 0) or format == NULL:
 * -1 with errno = EINVAL. */
int evutil_snprintf(char *buf, size_t buflen, const char *format, ...)
#ifdef __GNUC__
	__attribute__((format(printf, 3, 4)))
#endif
	;
int evutil_vsnprintf(char *buf, size_t buflen, const char *format, va_list ap)
#ifdef __GNUC__
	__attribute__((format(printf, 3, 0)))
#endif
	;

/* Address to text (AF_INET, AF_INET6), in libevent's format: lowercase hex,
 * the longest run of two or more zero groups (the first if tied) as "::",
 * "::a.b.c.d" and "::ffff:a.b.c.d" for IPv4-compatible and -mapped
 * addresses. Returns dst, or NULL (errno EAFNOSUPPORT, ENOSPC when len is
 * too small, EINVAL for NULL pointers). */
const char *evutil_inet_ntop(int af, const void *src, char *dst, size_t len);
/* Text to address, with libevent's parser: 1 on success, 0 if src is not an
 * address of that family (dst untouched), -1 for another family or a NULL
 * pointer (errno EAFNOSUPPORT or EINVAL). */
int evutil_inet_pton(int af, const char *src, void *dst);
/* As evutil_inet_pton, also accepting an IPv6 zone "%ifname" or "%index";
 * *indexp gets the interface index (0 when there is no zone). */
int evutil_inet_pton_scope(int af, const char *src, void *dst,
	unsigned *indexp);

struct sockaddr;
/* Parses "a.b.c.d", "a.b.c.d:port", "[ipv6]", "[ipv6]:port" or "ipv6"
 * (port 0 when absent; ports must be 1..65535). *outlen is the room in out
 * (use a struct sockaddr_storage); on success the first *outlen bytes of
 * out are cleared, the address is stored, *outlen becomes its size and 0 is
 * returned. -1 when the string is malformed or does not fit (out and
 * *outlen untouched), or with errno = EINVAL for a NULL pointer. */
int evutil_parse_sockaddr_port(const char *str, struct sockaddr *out,
	int *outlen);

/* Orders two AF_INET or AF_INET6 addresses: 0 if equal, < 0 or > 0
 * otherwise, comparing ports too when include_port is non-zero. Family
 * first; other families compare unequal (non-zero). The order is libevent
 * 2.1.12's (raw network-order values). NULL: -1 with errno = EINVAL. */
int evutil_sockaddr_cmp(const struct sockaddr *sa1, const struct sockaddr *sa2,
	int include_port);

/* strcasecmp/strncasecmp folding only ASCII letters, whatever the locale.
 * Return -1, 0 or 1. NULL: -1 with errno = EINVAL. */
int evutil_ascii_strcasecmp(const char *str1, const char *str2);
int evutil_ascii_strncasecmp(const char *str1, const char *str2, size_t n);

/* ---- name resolution ------------------------------------------------- */

/* As libevent on a system with getaddrinfo(): the C library's struct, so
 * that struct evutil_addrinfo and struct addrinfo are one type. */
#define evutil_addrinfo addrinfo

/* Error codes of evutil_getaddrinfo: the C library's EAI_* where <netdb.h>
 * defines them (glibc hides some without _GNU_SOURCE), else libevent's own
 * numbers, chosen by the same rule as libevent's header. */
#ifdef EAI_ADDRFAMILY
#define EVUTIL_EAI_ADDRFAMILY EAI_ADDRFAMILY
#else
#define EVUTIL_EAI_ADDRFAMILY -901
#endif
#ifdef EAI_AGAIN
#define EVUTIL_EAI_AGAIN EAI_AGAIN
#else
#define EVUTIL_EAI_AGAIN -902
#endif
#ifdef EAI_BADFLAGS
#define EVUTIL_EAI_BADFLAGS EAI_BADFLAGS
#else
#define EVUTIL_EAI_BADFLAGS -903
#endif
#ifdef EAI_FAIL
#define EVUTIL_EAI_FAIL EAI_FAIL
#else
#define EVUTIL_EAI_FAIL -904
#endif
#ifdef EAI_FAMILY
#define EVUTIL_EAI_FAMILY EAI_FAMILY
#else
#define EVUTIL_EAI_FAMILY -905
#endif
#ifdef EAI_MEMORY
#define EVUTIL_EAI_MEMORY EAI_MEMORY
#else
#define EVUTIL_EAI_MEMORY -906
#endif
#if defined(EAI_NODATA) && (!defined(EAI_NONAME) || EAI_NODATA != EAI_NONAME)
#define EVUTIL_EAI_NODATA EAI_NODATA
#else
#define EVUTIL_EAI_NODATA -907
#endif
#ifdef EAI_NONAME
#define EVUTIL_EAI_NONAME EAI_NONAME
#else
#define EVUTIL_EAI_NONAME -908
#endif
#ifdef EAI_SERVICE
#define EVUTIL_EAI_SERVICE EAI_SERVICE
#else
#define EVUTIL_EAI_SERVICE -909
#endif
#ifdef EAI_SOCKTYPE
#define EVUTIL_EAI_SOCKTYPE EAI_SOCKTYPE
#else
#define EVUTIL_EAI_SOCKTYPE -910
#endif
#ifdef EAI_SYSTEM
#define EVUTIL_EAI_SYSTEM EAI_SYSTEM
#else
#define EVUTIL_EAI_SYSTEM -911
#endif
/* libevent's own: a cancelled evdns request. */
#define EVUTIL_EAI_CANCEL -90001

/* Flags of evutil_getaddrinfo's hints: the C library's AI_* (same rule). */
#ifdef AI_PASSIVE
#define EVUTIL_AI_PASSIVE AI_PASSIVE
#else
#define EVUTIL_AI_PASSIVE 0x1000
#endif
#ifdef AI_CANONNAME
#define EVUTIL_AI_CANONNAME AI_CANONNAME
#else
#define EVUTIL_AI_CANONNAME 0x2000
#endif
#ifdef AI_NUMERICHOST
#define EVUTIL_AI_NUMERICHOST AI_NUMERICHOST
#else
#define EVUTIL_AI_NUMERICHOST 0x4000
#endif
#ifdef AI_NUMERICSERV
#define EVUTIL_AI_NUMERICSERV AI_NUMERICSERV
#else
#define EVUTIL_AI_NUMERICSERV 0x8000
#endif
#ifdef AI_V4MAPPED
#define EVUTIL_AI_V4MAPPED AI_V4MAPPED
#else
#define EVUTIL_AI_V4MAPPED 0x10000
#endif
#ifdef AI_ALL
#define EVUTIL_AI_ALL AI_ALL
#else
#define EVUTIL_AI_ALL 0x20000
#endif
#ifdef AI_ADDRCONFIG
#define EVUTIL_AI_ADDRCONFIG AI_ADDRCONFIG
#else
#define EVUTIL_AI_ADDRCONFIG 0x40000
#endif

struct evutil_addrinfo;
/* Blocking resolution by the C library's resolver (/etc/hosts, DNS, ...),
 * as libevent's without evdns: getaddrinfo() with the hints as given, or,
 * hints_in == NULL, with no flags and AF_UNSPEC (not the C library's
 * AI_V4MAPPED | AI_ADDRCONFIG default). Returns 0 and the list in *res, or
 * an EVUTIL_EAI_* code. res == NULL: EVUTIL_EAI_SYSTEM with errno EINVAL. */
int evutil_getaddrinfo(const char *nodename, const char *servname,
	const struct evutil_addrinfo *hints_in, struct evutil_addrinfo **res);
/* Frees a list from evutil_getaddrinfo (NULL: nothing). */
void evutil_freeaddrinfo(struct evutil_addrinfo *ai);
/* libevent's text for 0, EVUTIL_EAI_CANCEL and the EVUTIL_EAI_* codes, the
 * C library's gai_strerror() for any other value. */
const char *evutil_gai_strerror(int err);

/* ---- the secure random number generator ----------------------------- */

/* n bytes from the kernel's random generator (getrandom(2)). buf == NULL
 * with n > 0: nothing written, errno EINVAL. */
void evutil_secure_rng_get_bytes(void *buf, size_t n);
/* 0 when random bytes can be had, -1 otherwise. Needed by nobody: the
 * generator needs no seeding. */
int evutil_secure_rng_init(void);
/* -1 (errno ENOTSUP), as Debian's libevent: no device file is read. */
int evutil_secure_rng_set_urandom_device_file(char *fname);
/* Ignored, as by Debian's libevent: the kernel's pool needs no help. */
void evutil_secure_rng_add_bytes(const char *dat, size_t datlen);

/* ---- monotonic time and dates --------------------------------------- */

/* Opaque: made by evutil_monotonic_timer_new. */
struct evutil_monotonic_timer;

/* Flags for evutil_configure_monotonic_time. Neither: CLOCK_MONOTONIC_COARSE
 * (a few ms resolution, cheapest); EV_MONOT_PRECISE: CLOCK_MONOTONIC;
 * EV_MONOT_FALLBACK (wins over PRECISE): the wall clock, never allowed to go
 * backwards. Other bits are ignored. */
#define EV_MONOT_PRECISE 1
#define EV_MONOT_FALLBACK 2

/* A zeroed timer (NULL with errno ENOMEM). Until configured it reads the
 * wall clock (CLOCK_REALTIME), as libevent's. */
struct evutil_monotonic_timer *evutil_monotonic_timer_new(void);
void evutil_monotonic_timer_free(struct evutil_monotonic_timer *timer);
/* 0; -1 with errno EINVAL for NULL. */
int evutil_configure_monotonic_time(struct evutil_monotonic_timer *timer,
	int flags);
/* The timer's clock into *tp: 0, or -1 (errno EINVAL for NULL pointers). */
int evutil_gettime_monotonic(struct evutil_monotonic_timer *timer,
	struct timeval *tp);

/* "Thu, 01 Jan 1970 00:00:00 GMT" for tm (NULL: now), with evutil_snprintf's
 * truncation and result. A tm_wday or tm_mon out of range: -1 with errno
 * EINVAL (libevent reads past its tables). */
int evutil_date_rfc1123(char *date, const size_t datelen, const struct tm *tm);

#ifdef __cplusplus
}
#endif

#endif /* EVASIO_EVENT2_UTIL_H_INCLUDED_ */

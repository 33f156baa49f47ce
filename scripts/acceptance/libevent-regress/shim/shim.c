/* The functions behind shim.h (see there for each one's meaning). */
#include "shim.h"
#include <event2/listener.h>
#include <fcntl.h>

void shim_unsupported_(const char *what)
{
	fprintf(stderr, "\nSHIM-UNSUPPORTED: %s: libevent-internal, no public counterpart\n", what);
	fflush(NULL);
	_exit(77);
}

int shim_unsupported_int_(const char *what)
{
	shim_unsupported_(what);
}

struct event_base *shim_current_base_;
struct event_base *shim_event_init_(void)
{
#undef event_init
	return shim_current_base_ = event_init();
}

ev_uint32_t shim_weakrand_seed_(struct evutil_weakrand_state *st, ev_uint32_t seed)
{
	if (seed == 0) {
		struct timeval tv;
		evutil_gettimeofday(&tv, NULL);
		seed = (ev_uint32_t)tv.tv_sec ^ (ev_uint32_t)tv.tv_usec ^ (ev_uint32_t)getpid();
	}
	st->seed = seed;
	return seed;
}

ev_int32_t shim_weakrand_(struct evutil_weakrand_state *st)
{
	st->seed = (st->seed * 1103515245u + 12345u) & 0x7fffffffu;
	return (ev_int32_t)st->seed;
}

ev_int32_t shim_weakrand_range_(struct evutil_weakrand_state *st, ev_int32_t top)
{
	/* the largest multiple of top under the generator's range, so that
	 * every value below top is equally likely */
	ev_int32_t limit = EVUTIL_WEAKRAND_MAX - (EVUTIL_WEAKRAND_MAX % top), r;
	do {
		r = shim_weakrand_(st);
	} while (r >= limit);
	return r % top;
}

void shim_usleep_(const struct timeval *tv)
{
	struct timespec ts = { tv->tv_sec, tv->tv_usec * 1000 };
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int shim_socket_connect_(evutil_socket_t *fd, const struct sockaddr *sa, int socklen)
{
	int made = 0;
	if (*fd < 0) {
		if ((*fd = socket(sa->sa_family, SOCK_STREAM, 0)) < 0)
			return -1;
		made = 1;
		if (evutil_make_socket_nonblocking(*fd) < 0)
			goto fail;
	}
	if (connect(*fd, sa, (socklen_t)socklen) == 0)
		return 1;
	if (EVUTIL_ERR_CONNECT_RETRIABLE(errno))
		return 0;
	if (EVUTIL_ERR_CONNECT_REFUSED(errno))
		return 2;
fail:
	if (made) {
		int e = errno;
		evutil_closesocket(*fd);
		*fd = -1;
		errno = e;
	}
	return -1;
}

int shim_configure_monotonic_time_(struct evutil_monotonic_timer *t, int flags)
{
	t->shim_public_ = evutil_monotonic_timer_new();
	if (!t->shim_public_)
		return -1;
	return evutil_configure_monotonic_time(t->shim_public_, flags);
}

int shim_gettime_monotonic_(struct evutil_monotonic_timer *t, struct timeval *tv)
{
	return evutil_gettime_monotonic(t->shim_public_, tv);
}

void *shim_mm_malloc(size_t n) { return n ? malloc(n) : NULL; }
void *shim_mm_calloc(size_t n, size_t size) { return n && size ? calloc(n, size) : NULL; }
char *shim_mm_strdup(const char *s)
{
	if (!s) {
		errno = EINVAL;
		return NULL;
	}
	return strdup(s);
}

void *shim_lock_alloc_(unsigned locktype)
{
	pthread_mutexattr_t attr;
	pthread_mutex_t *m = malloc(sizeof(*m));
	if (!m)
		return NULL;
	pthread_mutexattr_init(&attr);
	if (locktype & EVTHREAD_LOCKTYPE_RECURSIVE)
		pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(m, &attr);
	pthread_mutexattr_destroy(&attr);
	return m;
}
void shim_lock_free_(void *lock)
{
	if (lock) {
		pthread_mutex_destroy(lock);
		free(lock);
	}
}
void shim_lock_(void *lock) { if (lock) pthread_mutex_lock(lock); }
void shim_unlock_(void *lock) { if (lock) pthread_mutex_unlock(lock); }
void *shim_cond_alloc_(void)
{
	pthread_cond_t *c = malloc(sizeof(*c));
	if (c)
		pthread_cond_init(c, NULL);
	return c;
}
void shim_cond_free_(void *cond)
{
	if (cond) {
		pthread_cond_destroy(cond);
		free(cond);
	}
}
void shim_cond_signal_(void *cond, int all)
{
	if (all)
		pthread_cond_broadcast(cond);
	else
		pthread_cond_signal(cond);
}
int shim_cond_wait_(void *cond, void *lock, const struct timeval *tv)
{
	int r;
	if (!tv)
		return pthread_cond_wait(cond, lock) ? -1 : 0;
	{
		struct timeval now, end;
		struct timespec ts;
		evutil_gettimeofday(&now, NULL);
		evutil_timeradd(&now, tv, &end);
		ts.tv_sec = end.tv_sec;
		ts.tv_nsec = end.tv_usec * 1000;
		r = pthread_cond_timedwait(cond, lock, &ts);
	}
	return r == ETIMEDOUT ? 1 : r ? -1 : 0;
}

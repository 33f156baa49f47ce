/* evasio: libevent 2.1.12's event2/thread.h API.
 * evasio locks with its own std::mutex: evthread_use_pthreads(), or a
 * complete set of lock callbacks, makes every base created afterwards safe
 * to use from several threads. The callbacks themselves are recorded (a
 * second, different set is refused, as libevent) but never called. */
#ifndef EVASIO_EVENT2_THREAD_H_INCLUDED_
#define EVASIO_EVENT2_THREAD_H_INCLUDED_

#include <event2/event.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Modes passed to lock callbacks. */
#define EVTHREAD_WRITE 0x04
#define EVTHREAD_READ 0x08
#define EVTHREAD_TRY 0x10

#define EVTHREAD_LOCK_API_VERSION 1
/* Lock types. */
#define EVTHREAD_LOCKTYPE_RECURSIVE 1
#define EVTHREAD_LOCKTYPE_READWRITE 2

struct evthread_lock_callbacks {
	int lock_api_version;          /* EVTHREAD_LOCK_API_VERSION */
	unsigned supported_locktypes;  /* EVTHREAD_LOCKTYPE_* bits */
	void *(*alloc)(unsigned locktype);
	void (*free)(void *lock, unsigned locktype);
	int (*lock)(unsigned mode, void *lock);
	int (*unlock)(unsigned mode, void *lock);
};
/* 0, or -1 for an incomplete set or one different from the set already
 * given; NULL forgets the set (bases made later do not lock). */
int evthread_set_lock_callbacks(const struct evthread_lock_callbacks *);

#define EVTHREAD_CONDITION_API_VERSION 1

struct timeval;

struct evthread_condition_callbacks {
	int condition_api_version;  /* EVTHREAD_CONDITION_API_VERSION */
	void *(*alloc_condition)(unsigned condtype);
	void (*free_condition)(void *cond);
	int (*signal_condition)(void *cond, int broadcast);
	int (*wait_condition)(void *cond, void *lock,
	    const struct timeval *timeout);
};
/* Recorded as libevent does; evasio waits with std::condition_variable. */
int evthread_set_condition_callbacks(
	const struct evthread_condition_callbacks *);

/* Recorded; evasio identifies threads with std::thread::id. */
void evthread_set_id_callback(unsigned long (*id_fn)(void));

#define EVTHREAD_USE_PTHREADS_IMPLEMENTED 1
int evthread_use_pthreads(void);

/* evasio's locks are its own, scoped, never handed to the program: there
 * is no lock misuse left to detect, and this does nothing. */
void evthread_enable_lock_debugging(void);
/* The old, misspelt name. */
void evthread_enable_lock_debuging(void);

/* Bases are always notifiable in evasio: returns 0. */
int evthread_make_base_notifiable(struct event_base *base);

#ifdef __cplusplus
}
#endif

#endif /* EVASIO_EVENT2_THREAD_H_INCLUDED_ */

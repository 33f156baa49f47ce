/* evasio: libevent 2.1.12's event2/thread.h API.
 * evasio needs no lock callbacks: evthread_use_pthreads() makes every base
 * created afterwards safe to use from several threads. */
#ifndef EVASIO_EVENT2_THREAD_H_INCLUDED_
#define EVASIO_EVENT2_THREAD_H_INCLUDED_

#include <event2/event.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EVTHREAD_USE_PTHREADS_IMPLEMENTED 1
int evthread_use_pthreads(void);
/* Bases are always notifiable in evasio: returns 0. */
int evthread_make_base_notifiable(struct event_base *base);

#ifdef __cplusplus
}
#endif

#endif /* EVASIO_EVENT2_THREAD_H_INCLUDED_ */

/* event2/thread.h alone: libevent 2.1.12's brings no system header (only
 * its event-config.h and visibility.h), so only its own names are used.
 * Built against both. */
#define _POSIX_C_SOURCE 200809L
#include <event2/thread.h>

int visible_thread_h(void);
int visible_thread_h(void)
{
	return EVTHREAD_USE_PTHREADS_IMPLEMENTED + (int)sizeof evthread_use_pthreads() > 0;
}

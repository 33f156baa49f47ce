/* event2/bufferevent.h alone makes visible the system names that libevent 2.1.12's
 * event2/bufferevent.h makes visible on Linux (built against both). */
#define _POSIX_C_SOURCE 200809L /* a POSIX program: getaddrinfo, gmtime_r */
#include <event2/bufferevent.h>

#include "uses_util.inc"
int visible_bufferevent_h(void);
int visible_bufferevent_h(void)
{
	return uses_util_h(0, 1);
}

/* event2/listener.h alone makes visible the system names that libevent 2.1.12's
 * event2/listener.h makes visible on Linux (built against both). */
#define _POSIX_C_SOURCE 200809L /* a POSIX program: getaddrinfo, gmtime_r */
#include <event2/listener.h>

#include "uses_util.inc"
#include "uses_stdio.inc"
int visible_listener_h(void);
int visible_listener_h(void)
{
	return uses_util_h(0, 1) && uses_stdio_h();
}

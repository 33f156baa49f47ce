/* event2/event_struct.h alone makes visible the system names that libevent 2.1.12's
 * event2/event_struct.h makes visible on Linux (built against both). */
#define _POSIX_C_SOURCE 200809L /* a POSIX program: getaddrinfo, gmtime_r */
#include <event2/event_struct.h>

#include "uses_util.inc"
int visible_event_struct_h(void);
int visible_event_struct_h(void)
{
	return uses_util_h(0, 1);
}

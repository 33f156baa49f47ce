/* event2/util.h alone makes visible the system names that libevent 2.1.12's
 * event2/util.h makes visible on Linux (built against both). */
#define _POSIX_C_SOURCE 200809L /* a POSIX program: getaddrinfo, gmtime_r */
#include <event2/util.h>

#include "uses_util.inc"
int visible_util_h(void);
int visible_util_h(void)
{
	return uses_util_h(0, 1);
}

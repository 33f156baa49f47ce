/* Runs the visible_*_h probes: each event2 header alone, in its own
 * translation unit, made visible the system names libevent 2.1.12's makes
 * visible. Built twice: against compat/include (evasio) and, with
 * EVASIO_HEADERS_ORACLE, against real libevent's headers, which proves the
 * expectation. The probes touch no fd: compiling them is the test. */
#ifdef EVASIO_HEADERS_ORACLE
#include <event2/event.h>
#ifndef EVENT2_EVENT_H_INCLUDED_ /* libevent's own guard; evasio's are EVASIO_* */
#error "EVASIO_HEADERS_ORACLE: these are not real libevent's headers"
#endif
#endif

int visible_buffer_h(void);
int visible_bufferevent_h(void);
int visible_event_h(void);
int visible_event_struct_h(void);
int visible_listener_h(void);
int visible_thread_h(void);
int visible_util_h(void);

int main(void)
{
	const int all = visible_buffer_h() + visible_bufferevent_h() + visible_event_h() +
	                visible_event_struct_h() + visible_listener_h() + visible_thread_h() +
	                visible_util_h();
	return all == 7 ? 0 : 1;
}

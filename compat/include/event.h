/* evasio: libevent's 1.x umbrella header <event.h>, as libevent 2.1.12
 * ships it: everything of the core and the bufferevents, the 1.x API
 * included. New code should include the event2/ headers it needs. */
#ifndef EVASIO_EVENT_H_INCLUDED_
#define EVASIO_EVENT_H_INCLUDED_

#include <event2/event-config.h>
#include <sys/types.h>
#include <sys/time.h>
#include <stdint.h>
#include <stdarg.h>

#include <evutil.h>

#include <event2/event_struct.h>
#include <event2/event.h>
#include <event2/event_compat.h>
#include <event2/buffer.h>
#include <event2/buffer_compat.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
#include <event2/bufferevent_compat.h>
#include <event2/tag.h>
#include <event2/tag_compat.h>

#endif /* EVASIO_EVENT_H_INCLUDED_ */

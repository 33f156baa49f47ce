/* evasio: libevent 2.1.12's event2/bufferevent_struct.h, the public part of
 * a bufferevent, for programs that read (or set) its fields directly.
 * Names, types, order and offsets are libevent's. evasio keeps these fields
 * true at all times: input/output are the bufferevent's evbuffers, ev_base
 * its base (NULL once that base is freed), enabled what
 * bufferevent_get_enabled() returns, the callbacks, watermarks and timeouts
 * what was set (a callback assigned here directly is the one called).
 * ev_read and ev_write are not used by evasio: they stay zeroed
 * (event_initialized() is false on them). */
#ifndef EVASIO_EVENT2_BUFFEREVENT_STRUCT_H_INCLUDED_
#define EVASIO_EVENT2_BUFFEREVENT_STRUCT_H_INCLUDED_

/* What libevent's event2/bufferevent_struct.h brings (on Linux), plus the
 * callback types it needs. */
#include <sys/types.h>
#include <sys/time.h>

#include <event2/event-config.h>
#include <event2/util.h>
#include <event2/event_struct.h>
#include <event2/bufferevent.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A pair of watermarks, in bytes (0 high: no limit). */
struct event_watermark {
	size_t low;
	size_t high;
};

/* The kind's table (socket, ...): private to the library. */
struct bufferevent_ops;

struct bufferevent {
	struct event_base *ev_base;
	const struct bufferevent_ops *be_ops;

	struct event ev_read;
	struct event ev_write;

	struct evbuffer *input;
	struct evbuffer *output;

	struct event_watermark wm_read;
	struct event_watermark wm_write;

	bufferevent_data_cb readcb;
	bufferevent_data_cb writecb;
	bufferevent_event_cb errorcb; /* the event callback, under its 1.x name */
	void *cbarg;

	struct timeval timeout_read;  /* {0, 0}: none */
	struct timeval timeout_write;

	short enabled; /* EV_READ, EV_WRITE, as given to bufferevent_enable() */
};

#ifdef __cplusplus
}
#endif

#endif /* EVASIO_EVENT2_BUFFEREVENT_STRUCT_H_INCLUDED_ */

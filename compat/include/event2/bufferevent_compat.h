/* evasio: libevent 2.1.12's event2/bufferevent_compat.h, the 1.x
 * bufferevent API, over the 2.x functions (asio_backend/buffer_compat.cpp).
 * bufferevent_new() makes a socket bufferevent on the current base of
 * event_init() (event2/event_compat.h), as libevent's events of a
 * base-less bufferevent end up there; without a current base it fails with
 * NULL and errno EINVAL. */
#ifndef EVASIO_EVENT2_BUFFEREVENT_COMPAT_H_INCLUDED_
#define EVASIO_EVENT2_BUFFEREVENT_COMPAT_H_INCLUDED_

#include <event2/visibility.h>
#include <event2/bufferevent.h>

#ifdef __cplusplus
extern "C" {
#endif

#define evbuffercb bufferevent_data_cb
#define everrorcb bufferevent_event_cb

struct bufferevent *bufferevent_new(evutil_socket_t fd, evbuffercb readcb, evbuffercb writecb,
    everrorcb errorcb, void *cbarg);
/* Timeouts in seconds; 0 is none. */
void bufferevent_settimeout(struct bufferevent *bufev, int timeout_read, int timeout_write);

#define EVBUFFER_READ BEV_EVENT_READING
#define EVBUFFER_WRITE BEV_EVENT_WRITING
#define EVBUFFER_EOF BEV_EVENT_EOF
#define EVBUFFER_ERROR BEV_EVENT_ERROR
#define EVBUFFER_TIMEOUT BEV_EVENT_TIMEOUT

#define EVBUFFER_INPUT(x) bufferevent_get_input(x)
#define EVBUFFER_OUTPUT(x) bufferevent_get_output(x)

#ifdef __cplusplus
}
#endif

#endif

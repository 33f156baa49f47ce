/* evasio: libevent 2.1.12's event2/http_compat.h: the old HTTP calls that
 * use the current (global) event_base. Declared with libevent's signatures;
 * not provided yet: a program calling one stops at compile time. */
#ifndef EVASIO_EVENT2_HTTP_COMPAT_H_INCLUDED_
#define EVASIO_EVENT2_HTTP_COMPAT_H_INCLUDED_

#include <sys/types.h>
#include <sys/time.h>
#include <event2/util.h>
#include <event2/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

struct evhttp;
struct evhttp_connection;
struct event_base;

/* A server bound to address:port on the current base. */
EVASIO_NOT_PROVIDED("evhttp_start (evhttp server/client: not provided yet)")
EVENT2_EXPORT_SYMBOL
struct evhttp *evhttp_start(const char *address, ev_uint16_t port);

/* A connection on the current base; no DNS base. */
EVASIO_NOT_PROVIDED("evhttp_connection_new (evhttp server/client: not provided yet)")
EVENT2_EXPORT_SYMBOL
struct evhttp_connection *evhttp_connection_new(const char *address, ev_uint16_t port);

EVASIO_NOT_PROVIDED("evhttp_connection_set_base (evhttp server/client: not provided yet)")
EVENT2_EXPORT_SYMBOL
void evhttp_connection_set_base(struct evhttp_connection *evcon, struct event_base *base);

/* The old name of evhttp_request_get_uri(). */
#define evhttp_request_uri evhttp_request_get_uri

#ifdef __cplusplus
}
#endif

#endif

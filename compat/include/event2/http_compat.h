/* evasio: libevent 2.1.12's <event2/http_compat.h> is not provided yet.
 * The name exists so that an evasio build can never take a system libevent's
 * copy of it: including it stops the compilation with this message. */
#ifndef EVASIO_EVENT2_HTTP_COMPAT_H_INCLUDED_
#define EVASIO_EVENT2_HTTP_COMPAT_H_INCLUDED_
#error "evasio does not provide <event2/http_compat.h> yet: the legacy HTTP API (evhttp_start, evhttp_connection_new) (see the coverage table in evasio's README.md)"
#endif

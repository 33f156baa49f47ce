/* evasio: libevent's 1.x <evhttp.h>: the event2 HTTP headers together. */
#ifndef EVASIO_EVHTTP_H_INCLUDED_
#define EVASIO_EVHTTP_H_INCLUDED_

#include <event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/http_compat.h>

#endif

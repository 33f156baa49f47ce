/* evasio: libevent 2.1.12's <event.h> is not provided yet.
 * The name exists so that an evasio build can never take a system libevent's
 * copy of it: including it stops the compilation with this message. */
#ifndef EVASIO_EVENT_H_INCLUDED_
#define EVASIO_EVENT_H_INCLUDED_
#error "evasio does not provide <event.h> yet: the libevent 1.x umbrella header (use the event2/*.h headers) (see the coverage table in evasio's README.md)"
#endif

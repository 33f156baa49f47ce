/* evasio: libevent 2.1.12's <event2/bufferevent_struct.h> is not provided yet.
 * The name exists so that an evasio build can never take a system libevent's
 * copy of it: including it stops the compilation with this message. */
#ifndef EVASIO_EVENT2_BUFFEREVENT_STRUCT_H_INCLUDED_
#define EVASIO_EVENT2_BUFFEREVENT_STRUCT_H_INCLUDED_
#error "evasio does not provide <event2/bufferevent_struct.h> yet: struct bufferevent's public fields (bev->input, bev->output, ...) (see the coverage table in evasio's README.md)"
#endif

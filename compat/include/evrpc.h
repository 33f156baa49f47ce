/* evasio: libevent 2.1.12's <evrpc.h> is not provided yet.
 * The name exists so that an evasio build can never take a system libevent's
 * copy of it: including it stops the compilation with this message. */
#ifndef EVASIO_EVRPC_H_INCLUDED_
#define EVASIO_EVRPC_H_INCLUDED_
#error "evasio does not provide <evrpc.h> yet: the libevent 1.x RPC header (see the coverage table in evasio's README.md)"
#endif

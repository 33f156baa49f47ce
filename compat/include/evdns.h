/* evasio: libevent's 1.x <evdns.h>: the event2 DNS headers together. */
#ifndef EVASIO_EVDNS_H_INCLUDED_
#define EVASIO_EVDNS_H_INCLUDED_

#include <event.h>
#include <event2/dns.h>
#include <event2/dns_compat.h>
#include <event2/dns_struct.h>

#endif

/* Placeholder for <event2/dns.h>: regress_main.c includes it for its
 * TT_NEED_DNS setup, which only the DNS cases (not built: evasio has no
 * evdns) use. The three calls refuse; no DNS function is provided. */
#ifndef EVASIO_REGRESS_SHIM_DNS_H
#define EVASIO_REGRESS_SHIM_DNS_H
#include "../shim.h"
/* types only, for regress_testutils.h's declarations (its DNS server
 * helpers are never defined here) */
struct evdns_base;
struct evdns_server_port;
struct evdns_server_request;
typedef void (*evdns_request_callback_fn_type)(struct evdns_server_request *, void *);
#define evdns_set_log_fn(fn) shim_unsupported_("evdns_set_log_fn (evdns)")
#define evdns_init() shim_unsupported_int_("evdns_init (evdns)")
#define evdns_shutdown(fail) shim_unsupported_("evdns_shutdown (evdns)")
#endif

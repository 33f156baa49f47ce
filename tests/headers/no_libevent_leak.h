/* Fails the compilation when a header of real libevent was pulled in.
 * evasio's headers live in compat/include/event2, searched before the
 * system's include directories; a compat header that includes an event2
 * header evasio does not provide would silently get libevent's own copy
 * (from libevent-dev, if installed). libevent's headers all define these
 * guards (evasio's own headers use EVASIO_-prefixed ones; evasio's
 * event-config.h defines EVENT__NUMERIC_VERSION too, as programs test it).
 * No include guard on purpose: it only checks and may be included
 * anywhere, any number of times. */
#if defined(EVENT2_EVENT_CONFIG_H_INCLUDED_) \
 || defined(EVENT2_VISIBILITY_H_INCLUDED_) || defined(EVENT2_UTIL_H_INCLUDED_) \
 || defined(EVENT2_EVENT_H_INCLUDED_) || defined(EVENT2_EVENT_STRUCT_H_INCLUDED_) \
 || defined(EVENT2_EVENT_COMPAT_H_INCLUDED_) || defined(EVENT2_BUFFER_H_INCLUDED_) \
 || defined(EVENT2_BUFFER_COMPAT_H_INCLUDED_) || defined(EVENT2_BUFFEREVENT_H_INCLUDED_) \
 || defined(EVENT2_BUFFEREVENT_COMPAT_H_INCLUDED_) \
 || defined(EVENT2_BUFFEREVENT_STRUCT_H_INCLUDED_) \
 || defined(EVENT2_BUFFEREVENT_SSL_H_INCLUDED_) || defined(EVENT2_LISTENER_H_INCLUDED_) \
 || defined(EVENT2_THREAD_H_INCLUDED_) || defined(EVENT2_DNS_H_INCLUDED_) \
 || defined(EVENT2_DNS_COMPAT_H_INCLUDED_) || defined(EVENT2_DNS_STRUCT_H_INCLUDED_) \
 || defined(EVENT2_HTTP_H_INCLUDED_) || defined(EVENT2_HTTP_COMPAT_H_INCLUDED_) \
 || defined(EVENT2_HTTP_STRUCT_H_INCLUDED_) || defined(EVENT2_KEYVALQ_STRUCT_H_INCLUDED_) \
 || defined(EVENT2_RPC_H_INCLUDED_) || defined(EVENT2_RPC_COMPAT_H_INCLUDED_) \
 || defined(EVENT2_RPC_STRUCT_H_INCLUDED_) || defined(EVENT2_TAG_H_INCLUDED_) \
 || defined(EVENT2_TAG_COMPAT_H_INCLUDED_) || defined(EVENT1_EVENT_H_INCLUDED_) \
 || defined(EVENT1_EVUTIL_H_INCLUDED_) || defined(EVENT1_EVDNS_H_INCLUDED_) \
 || defined(EVENT1_EVHTTP_H_INCLUDED_) || defined(EVENT1_EVRPC_H_INCLUDED_)
#error "a header of real libevent was included: evasio's compat/include must provide it"
#endif

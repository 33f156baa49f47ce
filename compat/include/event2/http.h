/* evasio: libevent 2.1.12's event2/http.h.
 * Provided now: the pure functions — URIs (struct evhttp_uri: parse, the
 * getters and setters, join), %-encoding and decoding, HTML escaping, query
 * strings, and header lists (struct evkeyvalq). The server (struct evhttp)
 * and the client (requests, connections, replies) are declared with
 * libevent's signatures but not provided yet: a program calling one stops
 * at compile time with that message. */
#ifndef EVASIO_EVENT2_HTTP_H_INCLUDED_
#define EVASIO_EVENT2_HTTP_H_INCLUDED_

#include <event2/util.h>
#include <event2/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

struct evbuffer;
struct event_base;
struct bufferevent;
struct evhttp_connection;

/* Response codes. */
#define HTTP_OK 200
#define HTTP_NOCONTENT 204
#define HTTP_MOVEPERM 301
#define HTTP_MOVETEMP 302
#define HTTP_NOTMODIFIED 304
#define HTTP_BADREQUEST 400
#define HTTP_NOTFOUND 404
#define HTTP_BADMETHOD 405
#define HTTP_ENTITYTOOLARGE 413
#define HTTP_EXPECTATIONFAILED 417
#define HTTP_INTERNAL 500
#define HTTP_NOTIMPLEMENTED 501
#define HTTP_SERVUNAVAIL 503

struct evhttp;
struct evhttp_request;
struct evkeyvalq;
struct evhttp_bound_socket;
struct evconnlistener;
struct evdns_base;
struct evhttp_uri;
struct sockaddr;
struct timeval;

/* Marks what is declared but not implemented yet (evasio's own). */
#define EVASIO_HTTP_NP_(fn) \
  EVASIO_NOT_PROVIDED(#fn " (evhttp server/client: not provided yet)")

/* ---- The server: not provided yet. */
EVASIO_HTTP_NP_(evhttp_new) EVENT2_EXPORT_SYMBOL
struct evhttp *evhttp_new(struct event_base *base);
EVASIO_HTTP_NP_(evhttp_bind_socket) EVENT2_EXPORT_SYMBOL
int evhttp_bind_socket(struct evhttp *http, const char *address, ev_uint16_t port);
EVASIO_HTTP_NP_(evhttp_bind_socket_with_handle) EVENT2_EXPORT_SYMBOL
struct evhttp_bound_socket *evhttp_bind_socket_with_handle(struct evhttp *http,
    const char *address, ev_uint16_t port);
EVASIO_HTTP_NP_(evhttp_accept_socket) EVENT2_EXPORT_SYMBOL
int evhttp_accept_socket(struct evhttp *http, evutil_socket_t fd);
EVASIO_HTTP_NP_(evhttp_accept_socket_with_handle) EVENT2_EXPORT_SYMBOL
struct evhttp_bound_socket *evhttp_accept_socket_with_handle(struct evhttp *http,
    evutil_socket_t fd);
EVASIO_HTTP_NP_(evhttp_bind_listener) EVENT2_EXPORT_SYMBOL
struct evhttp_bound_socket *evhttp_bind_listener(struct evhttp *http,
    struct evconnlistener *listener);
EVASIO_HTTP_NP_(evhttp_bound_socket_get_listener) EVENT2_EXPORT_SYMBOL
struct evconnlistener *evhttp_bound_socket_get_listener(struct evhttp_bound_socket *bound);

/* Called for each bound socket by evhttp_foreach_bound_socket(). */
typedef void evhttp_bound_socket_foreach_fn(struct evhttp_bound_socket *, void *);

EVASIO_HTTP_NP_(evhttp_foreach_bound_socket) EVENT2_EXPORT_SYMBOL
void evhttp_foreach_bound_socket(struct evhttp *http,
    evhttp_bound_socket_foreach_fn *function, void *argument);
EVASIO_HTTP_NP_(evhttp_del_accept_socket) EVENT2_EXPORT_SYMBOL
void evhttp_del_accept_socket(struct evhttp *http, struct evhttp_bound_socket *bound_socket);
EVASIO_HTTP_NP_(evhttp_bound_socket_get_fd) EVENT2_EXPORT_SYMBOL
evutil_socket_t evhttp_bound_socket_get_fd(struct evhttp_bound_socket *bound_socket);
EVASIO_HTTP_NP_(evhttp_free) EVENT2_EXPORT_SYMBOL
void evhttp_free(struct evhttp *http);
EVASIO_HTTP_NP_(evhttp_set_max_headers_size) EVENT2_EXPORT_SYMBOL
void evhttp_set_max_headers_size(struct evhttp *http, ev_ssize_t max_headers_size);
EVASIO_HTTP_NP_(evhttp_set_max_body_size) EVENT2_EXPORT_SYMBOL
void evhttp_set_max_body_size(struct evhttp *http, ev_ssize_t max_body_size);
EVASIO_HTTP_NP_(evhttp_set_default_content_type) EVENT2_EXPORT_SYMBOL
void evhttp_set_default_content_type(struct evhttp *http, const char *content_type);
/* methods: a mask of enum evhttp_cmd_type values. */
EVASIO_HTTP_NP_(evhttp_set_allowed_methods) EVENT2_EXPORT_SYMBOL
void evhttp_set_allowed_methods(struct evhttp *http, ev_uint16_t methods);
/* 0, -1 when path has a callback already, -2 on failure. */
EVASIO_HTTP_NP_(evhttp_set_cb) EVENT2_EXPORT_SYMBOL
int evhttp_set_cb(struct evhttp *http, const char *path,
    void (*cb)(struct evhttp_request *, void *), void *cb_arg);
EVASIO_HTTP_NP_(evhttp_del_cb) EVENT2_EXPORT_SYMBOL
int evhttp_del_cb(struct evhttp *, const char *);
EVASIO_HTTP_NP_(evhttp_set_gencb) EVENT2_EXPORT_SYMBOL
void evhttp_set_gencb(struct evhttp *http,
    void (*cb)(struct evhttp_request *, void *), void *arg);
EVASIO_HTTP_NP_(evhttp_set_bevcb) EVENT2_EXPORT_SYMBOL
void evhttp_set_bevcb(struct evhttp *http,
    struct bufferevent *(*cb)(struct event_base *, void *), void *arg);
EVASIO_HTTP_NP_(evhttp_add_virtual_host) EVENT2_EXPORT_SYMBOL
int evhttp_add_virtual_host(struct evhttp *http, const char *pattern, struct evhttp *vhost);
EVASIO_HTTP_NP_(evhttp_remove_virtual_host) EVENT2_EXPORT_SYMBOL
int evhttp_remove_virtual_host(struct evhttp *http, struct evhttp *vhost);
EVASIO_HTTP_NP_(evhttp_add_server_alias) EVENT2_EXPORT_SYMBOL
int evhttp_add_server_alias(struct evhttp *http, const char *alias);
EVASIO_HTTP_NP_(evhttp_remove_server_alias) EVENT2_EXPORT_SYMBOL
int evhttp_remove_server_alias(struct evhttp *http, const char *alias);
EVASIO_HTTP_NP_(evhttp_set_timeout) EVENT2_EXPORT_SYMBOL
void evhttp_set_timeout(struct evhttp *http, int timeout_in_secs);
EVASIO_HTTP_NP_(evhttp_set_timeout_tv) EVENT2_EXPORT_SYMBOL
void evhttp_set_timeout_tv(struct evhttp *http, const struct timeval *tv);

/* evhttp_set_flags(): read a too-large body whole before the error reply. */
#define EVHTTP_SERVER_LINGERING_CLOSE 0x0001
EVASIO_HTTP_NP_(evhttp_set_flags) EVENT2_EXPORT_SYMBOL
int evhttp_set_flags(struct evhttp *http, int flags);

/* ---- Replies: not provided yet. */
EVASIO_HTTP_NP_(evhttp_send_error) EVENT2_EXPORT_SYMBOL
void evhttp_send_error(struct evhttp_request *req, int error, const char *reason);
EVASIO_HTTP_NP_(evhttp_send_reply) EVENT2_EXPORT_SYMBOL
void evhttp_send_reply(struct evhttp_request *req, int code, const char *reason,
    struct evbuffer *databuf);
EVASIO_HTTP_NP_(evhttp_send_reply_start) EVENT2_EXPORT_SYMBOL
void evhttp_send_reply_start(struct evhttp_request *req, int code, const char *reason);
EVASIO_HTTP_NP_(evhttp_send_reply_chunk) EVENT2_EXPORT_SYMBOL
void evhttp_send_reply_chunk(struct evhttp_request *req, struct evbuffer *databuf);
EVASIO_HTTP_NP_(evhttp_send_reply_chunk_with_cb) EVENT2_EXPORT_SYMBOL
void evhttp_send_reply_chunk_with_cb(struct evhttp_request *, struct evbuffer *,
    void (*cb)(struct evhttp_connection *, void *), void *arg);
EVASIO_HTTP_NP_(evhttp_send_reply_end) EVENT2_EXPORT_SYMBOL
void evhttp_send_reply_end(struct evhttp_request *req);

/* Request methods, one bit each. */
enum evhttp_cmd_type {
  EVHTTP_REQ_GET = 1 << 0,
  EVHTTP_REQ_POST = 1 << 1,
  EVHTTP_REQ_HEAD = 1 << 2,
  EVHTTP_REQ_PUT = 1 << 3,
  EVHTTP_REQ_DELETE = 1 << 4,
  EVHTTP_REQ_OPTIONS = 1 << 5,
  EVHTTP_REQ_TRACE = 1 << 6,
  EVHTTP_REQ_CONNECT = 1 << 7,
  EVHTTP_REQ_PATCH = 1 << 8
};

/* Whether a struct evhttp_request is a request or a response. */
enum evhttp_request_kind { EVHTTP_REQUEST, EVHTTP_RESPONSE };

/* ---- Connections and requests (the client): not provided yet. */
EVASIO_HTTP_NP_(evhttp_connection_base_bufferevent_new) EVENT2_EXPORT_SYMBOL
struct evhttp_connection *evhttp_connection_base_bufferevent_new(struct event_base *base,
    struct evdns_base *dnsbase, struct bufferevent *bev, const char *address,
    ev_uint16_t port);
EVASIO_HTTP_NP_(evhttp_connection_get_bufferevent) EVENT2_EXPORT_SYMBOL
struct bufferevent *evhttp_connection_get_bufferevent(struct evhttp_connection *evcon);
EVASIO_HTTP_NP_(evhttp_connection_get_server) EVENT2_EXPORT_SYMBOL
struct evhttp *evhttp_connection_get_server(struct evhttp_connection *evcon);
EVASIO_HTTP_NP_(evhttp_request_new) EVENT2_EXPORT_SYMBOL
struct evhttp_request *evhttp_request_new(void (*cb)(struct evhttp_request *, void *),
    void *arg);
EVASIO_HTTP_NP_(evhttp_request_set_chunked_cb) EVENT2_EXPORT_SYMBOL
void evhttp_request_set_chunked_cb(struct evhttp_request *,
    void (*cb)(struct evhttp_request *, void *));
EVASIO_HTTP_NP_(evhttp_request_set_header_cb) EVENT2_EXPORT_SYMBOL
void evhttp_request_set_header_cb(struct evhttp_request *,
    int (*cb)(struct evhttp_request *, void *));

/* What an error callback is told went wrong with a request. */
enum evhttp_request_error {
  EVREQ_HTTP_TIMEOUT,
  EVREQ_HTTP_EOF,
  EVREQ_HTTP_INVALID_HEADER,
  EVREQ_HTTP_BUFFER_ERROR,
  EVREQ_HTTP_REQUEST_CANCEL,
  EVREQ_HTTP_DATA_TOO_LONG
};

EVASIO_HTTP_NP_(evhttp_request_set_error_cb) EVENT2_EXPORT_SYMBOL
void evhttp_request_set_error_cb(struct evhttp_request *,
    void (*)(enum evhttp_request_error, void *));
EVASIO_HTTP_NP_(evhttp_request_set_on_complete_cb) EVENT2_EXPORT_SYMBOL
void evhttp_request_set_on_complete_cb(struct evhttp_request *req,
    void (*cb)(struct evhttp_request *, void *), void *cb_arg);
EVASIO_HTTP_NP_(evhttp_request_free) EVENT2_EXPORT_SYMBOL
void evhttp_request_free(struct evhttp_request *req);
EVASIO_HTTP_NP_(evhttp_connection_base_new) EVENT2_EXPORT_SYMBOL
struct evhttp_connection *evhttp_connection_base_new(struct event_base *base,
    struct evdns_base *dnsbase, const char *address, ev_uint16_t port);
EVASIO_HTTP_NP_(evhttp_connection_set_family) EVENT2_EXPORT_SYMBOL
void evhttp_connection_set_family(struct evhttp_connection *evcon, int family);

/* evhttp_connection_set_flags(). */
#define EVHTTP_CON_REUSE_CONNECTED_ADDR 0x0008
#define EVHTTP_CON_READ_ON_WRITE_ERROR 0x0010
#define EVHTTP_CON_LINGERING_CLOSE 0x0020
#define EVHTTP_CON_PUBLIC_FLAGS_END 0x100000
EVASIO_HTTP_NP_(evhttp_connection_set_flags) EVENT2_EXPORT_SYMBOL
int evhttp_connection_set_flags(struct evhttp_connection *evcon, int flags);

EVASIO_HTTP_NP_(evhttp_request_own) EVENT2_EXPORT_SYMBOL
void evhttp_request_own(struct evhttp_request *req);
EVASIO_HTTP_NP_(evhttp_request_is_owned) EVENT2_EXPORT_SYMBOL
int evhttp_request_is_owned(struct evhttp_request *req);
EVASIO_HTTP_NP_(evhttp_request_get_connection) EVENT2_EXPORT_SYMBOL
struct evhttp_connection *evhttp_request_get_connection(struct evhttp_request *req);
EVASIO_HTTP_NP_(evhttp_connection_get_base) EVENT2_EXPORT_SYMBOL
struct event_base *evhttp_connection_get_base(struct evhttp_connection *req);
EVASIO_HTTP_NP_(evhttp_connection_set_max_headers_size) EVENT2_EXPORT_SYMBOL
void evhttp_connection_set_max_headers_size(struct evhttp_connection *evcon,
    ev_ssize_t new_max_headers_size);
EVASIO_HTTP_NP_(evhttp_connection_set_max_body_size) EVENT2_EXPORT_SYMBOL
void evhttp_connection_set_max_body_size(struct evhttp_connection *evcon,
    ev_ssize_t new_max_body_size);
EVASIO_HTTP_NP_(evhttp_connection_free) EVENT2_EXPORT_SYMBOL
void evhttp_connection_free(struct evhttp_connection *evcon);
EVASIO_HTTP_NP_(evhttp_connection_free_on_completion) EVENT2_EXPORT_SYMBOL
void evhttp_connection_free_on_completion(struct evhttp_connection *evcon);
EVASIO_HTTP_NP_(evhttp_connection_set_local_address) EVENT2_EXPORT_SYMBOL
void evhttp_connection_set_local_address(struct evhttp_connection *evcon,
    const char *address);
EVASIO_HTTP_NP_(evhttp_connection_set_local_port) EVENT2_EXPORT_SYMBOL
void evhttp_connection_set_local_port(struct evhttp_connection *evcon, ev_uint16_t port);
EVASIO_HTTP_NP_(evhttp_connection_set_timeout) EVENT2_EXPORT_SYMBOL
void evhttp_connection_set_timeout(struct evhttp_connection *evcon, int timeout_in_secs);
EVASIO_HTTP_NP_(evhttp_connection_set_timeout_tv) EVENT2_EXPORT_SYMBOL
void evhttp_connection_set_timeout_tv(struct evhttp_connection *evcon,
    const struct timeval *tv);
EVASIO_HTTP_NP_(evhttp_connection_set_initial_retry_tv) EVENT2_EXPORT_SYMBOL
void evhttp_connection_set_initial_retry_tv(struct evhttp_connection *evcon,
    const struct timeval *tv);
EVASIO_HTTP_NP_(evhttp_connection_set_retries) EVENT2_EXPORT_SYMBOL
void evhttp_connection_set_retries(struct evhttp_connection *evcon, int retry_max);
EVASIO_HTTP_NP_(evhttp_connection_set_closecb) EVENT2_EXPORT_SYMBOL
void evhttp_connection_set_closecb(struct evhttp_connection *evcon,
    void (*)(struct evhttp_connection *, void *), void *);
EVASIO_HTTP_NP_(evhttp_connection_get_peer) EVENT2_EXPORT_SYMBOL
void evhttp_connection_get_peer(struct evhttp_connection *evcon, char **address,
    ev_uint16_t *port);
EVASIO_HTTP_NP_(evhttp_connection_get_addr) EVENT2_EXPORT_SYMBOL
const struct sockaddr *evhttp_connection_get_addr(struct evhttp_connection *evcon);
/* The connection owns req from here; on failure req is freed. */
EVASIO_HTTP_NP_(evhttp_make_request) EVENT2_EXPORT_SYMBOL
int evhttp_make_request(struct evhttp_connection *evcon, struct evhttp_request *req,
    enum evhttp_cmd_type type, const char *uri);
EVASIO_HTTP_NP_(evhttp_cancel_request) EVENT2_EXPORT_SYMBOL
void evhttp_cancel_request(struct evhttp_request *req);

EVASIO_HTTP_NP_(evhttp_request_get_uri) EVENT2_EXPORT_SYMBOL
const char *evhttp_request_get_uri(const struct evhttp_request *req);
EVASIO_HTTP_NP_(evhttp_request_get_evhttp_uri) EVENT2_EXPORT_SYMBOL
const struct evhttp_uri *evhttp_request_get_evhttp_uri(const struct evhttp_request *req);
EVASIO_HTTP_NP_(evhttp_request_get_command) EVENT2_EXPORT_SYMBOL
enum evhttp_cmd_type evhttp_request_get_command(const struct evhttp_request *req);
EVASIO_HTTP_NP_(evhttp_request_get_response_code) EVENT2_EXPORT_SYMBOL
int evhttp_request_get_response_code(const struct evhttp_request *req);
EVASIO_HTTP_NP_(evhttp_request_get_response_code_line) EVENT2_EXPORT_SYMBOL
const char *evhttp_request_get_response_code_line(const struct evhttp_request *req);
EVASIO_HTTP_NP_(evhttp_request_get_input_headers) EVENT2_EXPORT_SYMBOL
struct evkeyvalq *evhttp_request_get_input_headers(struct evhttp_request *req);
EVASIO_HTTP_NP_(evhttp_request_get_output_headers) EVENT2_EXPORT_SYMBOL
struct evkeyvalq *evhttp_request_get_output_headers(struct evhttp_request *req);
EVASIO_HTTP_NP_(evhttp_request_get_input_buffer) EVENT2_EXPORT_SYMBOL
struct evbuffer *evhttp_request_get_input_buffer(struct evhttp_request *req);
EVASIO_HTTP_NP_(evhttp_request_get_output_buffer) EVENT2_EXPORT_SYMBOL
struct evbuffer *evhttp_request_get_output_buffer(struct evhttp_request *req);
/* The host of an absolute request URI, else the Host: header, else NULL. */
EVASIO_HTTP_NP_(evhttp_request_get_host) EVENT2_EXPORT_SYMBOL
const char *evhttp_request_get_host(struct evhttp_request *req);

/* ---- Header lists (provided). Keys compare case-insensitively. */

/* The value of the first header named key, or NULL. */
EVENT2_EXPORT_SYMBOL
const char *evhttp_find_header(const struct evkeyvalq *headers, const char *key);
/* Removes the first header named key: 0, or -1 when there is none. */
EVENT2_EXPORT_SYMBOL
int evhttp_remove_header(struct evkeyvalq *headers, const char *key);
/* Appends a copy of key and value: 0, or -1 (a CR or LF in either). */
EVENT2_EXPORT_SYMBOL
int evhttp_add_header(struct evkeyvalq *headers, const char *key, const char *value);
/* Removes and frees every header. */
EVENT2_EXPORT_SYMBOL
void evhttp_clear_headers(struct evkeyvalq *headers);

/* ---- Encoding (provided). Every returned string is the caller's: free(). */

/* %XX-escapes all but RFC 3986's unreserved characters (A-Z a-z 0-9 - . _ ~). */
EVENT2_EXPORT_SYMBOL
char *evhttp_encode_uri(const char *str);
/* The same for size bytes of str (size < 0: up to its NUL); space_to_plus
 * writes ' ' as '+'. */
EVENT2_EXPORT_SYMBOL
char *evhttp_uriencode(const char *str, ev_ssize_t size, int space_to_plus);
/* Decodes %XX escapes, and '+' as ' ' only after a '?'. Deprecated. */
EVENT2_EXPORT_SYMBOL
char *evhttp_decode_uri(const char *uri);
/* Decodes %XX escapes (an invalid one is kept as it is), '+' as ' ' when
 * decode_plus; *size_out (if not NULL): the length, NULs included. */
EVENT2_EXPORT_SYMBOL
char *evhttp_uridecode(const char *uri, int decode_plus, size_t *size_out);

/* The query of a URI ("...?a=1&b=2") decoded into headers: 0, or -1 (then
 * headers is left empty). */
EVENT2_EXPORT_SYMBOL
int evhttp_parse_query(const char *uri, struct evkeyvalq *headers);
/* The same for a query string without the URI ("a=1&b=2"). */
EVENT2_EXPORT_SYMBOL
int evhttp_parse_query_str(const char *uri, struct evkeyvalq *headers);

/* Escapes < > " ' and & as HTML entities. */
EVENT2_EXPORT_SYMBOL
char *evhttp_htmlescape(const char *html);

/* ---- URIs (provided). */

/* An empty URI (every part NULL, port -1). */
EVENT2_EXPORT_SYMBOL
struct evhttp_uri *evhttp_uri_new(void);
/* flags: EVHTTP_URI_NONCONFORMANT or 0. */
EVENT2_EXPORT_SYMBOL
void evhttp_uri_set_flags(struct evhttp_uri *uri, unsigned flags);

/* The parts; NULL (port: -1) when absent. */
EVENT2_EXPORT_SYMBOL
const char *evhttp_uri_get_scheme(const struct evhttp_uri *uri);
EVENT2_EXPORT_SYMBOL
const char *evhttp_uri_get_userinfo(const struct evhttp_uri *uri);
/* An IPv6 address comes with its brackets. */
EVENT2_EXPORT_SYMBOL
const char *evhttp_uri_get_host(const struct evhttp_uri *uri);
EVENT2_EXPORT_SYMBOL
int evhttp_uri_get_port(const struct evhttp_uri *uri);
EVENT2_EXPORT_SYMBOL
const char *evhttp_uri_get_path(const struct evhttp_uri *uri);
EVENT2_EXPORT_SYMBOL
const char *evhttp_uri_get_query(const struct evhttp_uri *uri);
EVENT2_EXPORT_SYMBOL
const char *evhttp_uri_get_fragment(const struct evhttp_uri *uri);

/* Setters: a copy of the argument (NULL clears it): 0, or -1 when it is not
 * a valid value for that part. */
EVENT2_EXPORT_SYMBOL
int evhttp_uri_set_scheme(struct evhttp_uri *uri, const char *scheme);
EVENT2_EXPORT_SYMBOL
int evhttp_uri_set_userinfo(struct evhttp_uri *uri, const char *userinfo);
EVENT2_EXPORT_SYMBOL
int evhttp_uri_set_host(struct evhttp_uri *uri, const char *host);
/* port: -1 for none. */
EVENT2_EXPORT_SYMBOL
int evhttp_uri_set_port(struct evhttp_uri *uri, int port);
EVENT2_EXPORT_SYMBOL
int evhttp_uri_set_path(struct evhttp_uri *uri, const char *path);
EVENT2_EXPORT_SYMBOL
int evhttp_uri_set_query(struct evhttp_uri *uri, const char *query);
EVENT2_EXPORT_SYMBOL
int evhttp_uri_set_fragment(struct evhttp_uri *uri, const char *fragment);

/* Parses an absolute URI or a relative reference (RFC 3986); NULL when it
 * is not one. flags: EVHTTP_URI_NONCONFORMANT tolerates characters RFC 3986
 * forbids in the path, query and fragment. */
EVENT2_EXPORT_SYMBOL
struct evhttp_uri *evhttp_uri_parse_with_flags(const char *source_uri, unsigned flags);
#define EVHTTP_URI_NONCONFORMANT 0x01
/* evhttp_uri_parse_with_flags(source_uri, 0). */
EVENT2_EXPORT_SYMBOL
struct evhttp_uri *evhttp_uri_parse(const char *source_uri);
EVENT2_EXPORT_SYMBOL
void evhttp_uri_free(struct evhttp_uri *uri);
/* Writes the URI into buf (limit bytes, its NUL included): buf, or NULL
 * when it does not fit. */
EVENT2_EXPORT_SYMBOL
char *evhttp_uri_join(struct evhttp_uri *uri, char *buf, size_t limit);

#undef EVASIO_HTTP_NP_

#ifdef __cplusplus
}
#endif

#endif

/* evasio: libevent 2.1.12's event2/http_struct.h: struct evhttp_request with
 * libevent's public layout (programs read its members directly). Nothing in
 * evasio creates one yet: the HTTP server and client are not provided. */
#ifndef EVASIO_EVENT2_HTTP_STRUCT_H_INCLUDED_
#define EVASIO_EVENT2_HTTP_STRUCT_H_INCLUDED_

#include <sys/types.h>
#include <sys/time.h>
#include <event2/util.h>
#include <event2/http.h>

#ifdef __cplusplus
extern "C" {
#endif

struct evhttp_request {
  /* The link in a connection's list of requests. */
#if defined(TAILQ_ENTRY)
  TAILQ_ENTRY(evhttp_request) next;
#else
  struct {
    struct evhttp_request *tqe_next;
    struct evhttp_request **tqe_prev;
  } next;
#endif

  struct evhttp_connection *evcon; /* the connection it belongs to */
  int flags;                       /* EVHTTP_REQ_* and the others below */
/* The request owns its connection and frees it. */
#define EVHTTP_REQ_OWN_CONNECTION 0x0001
/* Made through a proxy. */
#define EVHTTP_PROXY_REQUEST 0x0002
/* The program owns the request and frees it. */
#define EVHTTP_USER_OWNED 0x0004
/* Still in use further up the stack: freed later. */
#define EVHTTP_REQ_DEFER_FREE 0x0008
/* To be freed further up the stack. */
#define EVHTTP_REQ_NEEDS_FREE 0x0010

  struct evkeyvalq *input_headers;
  struct evkeyvalq *output_headers;

  char *remote_host;       /* the peer's address */
  ev_uint16_t remote_port; /* and port */

  char *host_cache; /* evhttp_request_get_host()'s answer, kept */

  enum evhttp_request_kind kind;
  enum evhttp_cmd_type type;

  size_t headers_size;
  size_t body_size;

  char *uri;                    /* the request URI as received */
  struct evhttp_uri *uri_elems; /* and parsed */

  char major; /* HTTP version */
  char minor;

  int response_code;
  char *response_code_line; /* the reason phrase */

  struct evbuffer *input_buffer; /* the body read */
  ev_int64_t ntoread;            /* what remains to be read of it */
  unsigned chunked:1,            /* chunked transfer encoding */
      userdone:1;                /* the program has sent everything */

  struct evbuffer *output_buffer; /* the body to send */

  /* Called when the request completes. */
  void (*cb)(struct evhttp_request *, void *);
  void *cb_arg;

  /* Called for each chunk of a chunked body (cb_arg). */
  void (*chunk_cb)(struct evhttp_request *, void *);

  /* Called once the headers are read (cb_arg); -1 closes the connection. */
  int (*header_cb)(struct evhttp_request *, void *);

  /* Called on failure (cb_arg). */
  void (*error_cb)(enum evhttp_request_error, void *);

  /* Called when the request has been sent or answered. */
  void (*on_complete_cb)(struct evhttp_request *, void *);
  void *on_complete_cb_arg;
};

#ifdef __cplusplus
}
#endif

#endif

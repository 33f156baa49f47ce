/* evasio: libevent 2.1.12's <event2/bufferevent_ssl.h>, TLS bufferevents on
 * OpenSSL. Link with -levent_openssl (pkg-config libevent_openssl), which is
 * evasio's libevasio_openssl; programs that never include this header do
 * not link OpenSSL.
 *
 * A TLS bufferevent runs OpenSSL over another bufferevent: one it makes on
 * the given socket (bufferevent_openssl_socket_new) or one the program
 * gives (bufferevent_openssl_filter_new). The program's SSL object, its
 * context, certificates and callbacks are used as they are. */
#ifndef EVASIO_EVENT2_BUFFEREVENT_SSL_H_INCLUDED_
#define EVASIO_EVENT2_BUFFEREVENT_SSL_H_INCLUDED_

#include <event2/visibility.h>
#include <event2/event-config.h>
#include <event2/bufferevent.h>
#include <event2/util.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ssl_st;

/* Where the TLS session starts: already open, or a handshake as the
 * client (CONNECTING) or the server (ACCEPTING). BEV_EVENT_CONNECTED
 * follows a successful handshake. */
enum bufferevent_ssl_state {
	BUFFEREVENT_SSL_OPEN = 0,
	BUFFEREVENT_SSL_CONNECTING = 1,
	BUFFEREVENT_SSL_ACCEPTING = 2
};

/* TLS over underlying (any bufferevent; its callbacks are taken).
 * BEV_OPT_CLOSE_ON_FREE frees the SSL and the underlying bufferevent with
 * this one. NULL on failure (the SSL is freed then if CLOSE_ON_FREE). */
struct bufferevent *bufferevent_openssl_filter_new(struct event_base *base,
    struct bufferevent *underlying, struct ssl_st *ssl,
    enum bufferevent_ssl_state state, int options);

/* TLS over the socket fd (-1: the SSL's own socket, or none until
 * bufferevent_setfd or bufferevent_socket_connect). BEV_OPT_CLOSE_ON_FREE
 * frees the SSL and closes the socket with this bufferevent. */
struct bufferevent *bufferevent_openssl_socket_new(struct event_base *base,
    evutil_socket_t fd, struct ssl_st *ssl,
    enum bufferevent_ssl_state state, int options);

/* Whether a peer that closes without a TLS close_notify is reported as
 * BEV_EVENT_EOF (allowed) or BEV_EVENT_ERROR (the default). -1: not a TLS
 * bufferevent. */
int bufferevent_openssl_get_allow_dirty_shutdown(struct bufferevent *bev);
void bufferevent_openssl_set_allow_dirty_shutdown(struct bufferevent *bev,
    int allow_dirty_shutdown);

/* The SSL object, or NULL for another kind of bufferevent. */
struct ssl_st *bufferevent_openssl_get_ssl(struct bufferevent *bufev);

/* Starts a new handshake (TLS 1.2 renegotiation); -1 if OpenSSL refuses. */
int bufferevent_ssl_renegotiate(struct bufferevent *bev);

/* The OpenSSL errors that ended the connection, the last first; 0 when
 * there are no more (up to 3 are kept, as libevent). */
unsigned long bufferevent_get_openssl_error(struct bufferevent *bev);

#ifdef __cplusplus
}
#endif

#endif /* EVASIO_EVENT2_BUFFEREVENT_SSL_H_INCLUDED_ */

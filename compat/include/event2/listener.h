/* evasio: libevent 2.1.12's event2/listener.h API on Boost.Asio.
 * A listener accepts stream connections (TCP on asio::ip::tcp::acceptor,
 * AF_UNIX on asio::local::stream_protocol::acceptor) and hands each new
 * socket to a callback on the base's loop. */
#ifndef EVASIO_EVENT2_LISTENER_H_INCLUDED_
#define EVASIO_EVENT2_LISTENER_H_INCLUDED_

#include <event2/event.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sockaddr;
struct evconnlistener;

typedef void (*evconnlistener_cb)(struct evconnlistener *listener,
    evutil_socket_t fd, struct sockaddr *addr, int socklen, void *ptr);
typedef void (*evconnlistener_errorcb)(struct evconnlistener *listener,
    void *ptr);

/* Accepted sockets stay blocking (default: non-blocking). */
#define LEV_OPT_LEAVE_SOCKETS_BLOCKING (1u<<0)
/* evconnlistener_free() closes the listening socket. */
#define LEV_OPT_CLOSE_ON_FREE (1u<<1)
/* Close-on-exec for the listening socket (new_bind) and accepted ones. */
#define LEV_OPT_CLOSE_ON_EXEC (1u<<2)
/* SO_REUSEADDR on the listening socket (new_bind). */
#define LEV_OPT_REUSEABLE (1u<<3)
/* Lock the listener so that any thread may call its functions. */
#define LEV_OPT_THREADSAFE (1u<<4)
/* Start disabled. */
#define LEV_OPT_DISABLED (1u<<5)
/* TCP_DEFER_ACCEPT: wake only once the client has sent data (new_bind). */
#define LEV_OPT_DEFERRED_ACCEPT (1u<<6)
/* SO_REUSEPORT (new_bind). */
#define LEV_OPT_REUSEABLE_PORT (1u<<7)
/* IPV6_V6ONLY on (new_bind). */
#define LEV_OPT_BIND_IPV6ONLY (1u<<8)
/* IPV6_V6ONLY off, from libevent 2.2 (new_bind). */
#define LEV_OPT_BIND_IPV4_AND_IPV6 (1u<<9)

/* Adopts fd, a stream socket (AF_INET, AF_INET6 or AF_UNIX), bound or
 * listening. backlog > 0: listen(backlog); < 0: listen with a default;
 * 0: fd already listens. NULL with errno set on failure, fd untouched. */
struct evconnlistener *evconnlistener_new(struct event_base *base,
    evconnlistener_cb cb, void *ptr, unsigned flags, int backlog,
    evutil_socket_t fd);
/* Makes, configures and binds a socket for sa, then as evconnlistener_new.
 * backlog 0 is refused (NULL). */
struct evconnlistener *evconnlistener_new_bind(struct event_base *base,
    evconnlistener_cb cb, void *ptr, unsigned flags, int backlog,
    const struct sockaddr *sa, int socklen);
/* No callback runs after this returns (unless one is running right now on
 * another thread, which finishes). May be called from its own callback. */
void evconnlistener_free(struct evconnlistener *lev);
int evconnlistener_enable(struct evconnlistener *lev);
int evconnlistener_disable(struct evconnlistener *lev);

struct event_base *evconnlistener_get_base(struct evconnlistener *lev);
evutil_socket_t evconnlistener_get_fd(struct evconnlistener *lev);

/* A NULL cb disables accepting until a callback is set again. */
void evconnlistener_set_cb(struct evconnlistener *lev,
    evconnlistener_cb cb, void *arg);
void evconnlistener_set_error_cb(struct evconnlistener *lev,
    evconnlistener_errorcb errorcb);

#ifdef __cplusplus
}
#endif

#endif /* EVASIO_EVENT2_LISTENER_H_INCLUDED_ */

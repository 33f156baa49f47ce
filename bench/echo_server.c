/* The benchmark's libevent echo server: the program of chapter 8 of the
 * libevent reference manual (a listener, one socket bufferevent per
 * connection, whatever arrives is moved to the output, the connection is
 * freed on end of file or error), written for this benchmark.
 *
 * One source, two links (see bench/CMakeLists.txt):
 *   bench-echo-libevent  real libevent 2.1.12, system headers only
 *   bench-echo-evasio    evasio (compat/include/event2)
 * BENCH_ECHO_EXPECT_EVASIO (0 or 1) makes a build against the wrong headers
 * fail to compile.
 *
 * Usage: bench-echo-{libevent,evasio} [port]   (listens on 127.0.0.1 only)
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#if defined(BENCH_ECHO_EXPECT_EVASIO)
#if BENCH_ECHO_EXPECT_EVASIO && !defined(EVASIO_VERSION)
#error "bench-echo-evasio must be built against evasio's event2 headers"
#elif !BENCH_ECHO_EXPECT_EVASIO && defined(EVASIO_VERSION)
#error "bench-echo-libevent must be built against libevent's own headers"
#endif
#endif

/* Everything that arrived goes back out: the input's chains are moved to
 * the output buffer, which the bufferevent then writes. */
static void on_read(struct bufferevent *bev, void *arg)
{
    (void)arg;
    evbuffer_add_buffer(bufferevent_get_output(bev), bufferevent_get_input(bev));
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)arg;
    if (what & BEV_EVENT_ERROR)
        perror("echo: bufferevent error");
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        bufferevent_free(bev);
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd,
                      struct sockaddr *peer, int peerlen, void *arg)
{
    struct event_base *base = evconnlistener_get_base(lev);
    struct bufferevent *bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    (void)peer;
    (void)peerlen;
    (void)arg;
    if (!bev) {
        fprintf(stderr, "echo: bufferevent_socket_new failed\n");
        evutil_closesocket(fd);
        return;
    }
    bufferevent_setcb(bev, on_read, NULL, on_event, NULL);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void on_accept_error(struct evconnlistener *lev, void *arg)
{
    int err = EVUTIL_SOCKET_ERROR();
    (void)arg;
    fprintf(stderr, "echo: accept error %d (%s), stopping\n", err,
            evutil_socket_error_to_string(err));
    event_base_loopexit(evconnlistener_get_base(lev), NULL);
}

int main(int argc, char **argv)
{
    struct event_base *base;
    struct evconnlistener *lev;
    struct sockaddr_in sin;
    int port = 9876;

    if (argc > 1) {
        port = atoi(argv[1]);
        if (port <= 0 || port > 65535) {
            fprintf(stderr, "usage: %s [port]\n", argv[0]);
            return 2;
        }
    }
    base = event_base_new();
    if (!base) {
        fprintf(stderr, "echo: event_base_new failed\n");
        return 1;
    }
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* benchmark: loopback only */
    sin.sin_port = htons((unsigned short)port);
    lev = evconnlistener_new_bind(base, on_accept, NULL,
                                  LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
                                  (struct sockaddr *)&sin, (int)sizeof sin);
    if (!lev) {
        perror("echo: cannot listen");
        event_base_free(base);
        return 1;
    }
    evconnlistener_set_error_cb(lev, on_accept_error);
    event_base_dispatch(base);
    evconnlistener_free(lev);
    event_base_free(base);
    return 0;
}

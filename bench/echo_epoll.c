/* bench-echo-epoll: the ceiling. The least a single-threaded echo server on
 * epoll can do per operation:
 *   - accept4(SOCK_NONBLOCK | SOCK_CLOEXEC) until EAGAIN, one epoll_ctl(ADD)
 *     per connection, nothing else (no fcntl, no getsockopt);
 *   - level-triggered EPOLLIN: one read into a shared 64 KiB buffer per wake,
 *     then write it straight back: read + write per message, no re-arming;
 *   - only when a write comes out short is the rest kept in a per-connection
 *     buffer and the interest switched to EPOLLOUT (reads pause meanwhile,
 *     which bounds what a connection can make the server hold).
 * End of file or an error closes the connection (close() removes it from
 * the epoll set).
 *
 * Usage: bench-echo-epoll [port]   (listens on 127.0.0.1 only)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_SIZE 65536
#define MAX_EVENTS 256

struct conn {
    int fd;
    size_t pending_off; /* unsent bytes in pending[pending_off, pending_len) */
    size_t pending_len;
    unsigned char *pending;
};

static int ep;
static unsigned char rbuf[READ_SIZE];

static void conn_close(struct conn *c)
{
    close(c->fd);
    free(c->pending);
    free(c);
}

/* Writes buf; keeps what does not fit. 0 on success, -1 on error. */
static int conn_send(struct conn *c, const unsigned char *buf, size_t len)
{
    ssize_t w = send(c->fd, buf, len, MSG_NOSIGNAL);
    if (w < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -1;
        w = 0;
    }
    if ((size_t)w < len) {
        struct epoll_event ev;
        size_t rest = len - (size_t)w;
        c->pending = malloc(rest);
        if (!c->pending)
            return -1;
        memcpy(c->pending, buf + w, rest);
        c->pending_off = 0;
        c->pending_len = rest;
        ev.events = EPOLLOUT;
        ev.data.ptr = c;
        if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
            return -1;
    }
    return 0;
}

static int conn_flush(struct conn *c)
{
    struct epoll_event ev;
    while (c->pending_off < c->pending_len) {
        ssize_t w = send(c->fd, c->pending + c->pending_off,
                         c->pending_len - c->pending_off, MSG_NOSIGNAL);
        if (w < 0)
            return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
        c->pending_off += (size_t)w;
    }
    free(c->pending);
    c->pending = NULL;
    c->pending_off = c->pending_len = 0;
    ev.events = EPOLLIN;
    ev.data.ptr = c;
    return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void on_listener(int lfd)
{
    for (;;) {
        struct epoll_event ev;
        struct conn *c;
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            perror("echo-epoll: accept4");
            return; /* level-triggered: retried on the next wake */
        }
        c = calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        ev.events = EPOLLIN;
        ev.data.ptr = c;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            perror("echo-epoll: epoll_ctl");
            conn_close(c);
        }
    }
}

static void on_conn(struct conn *c, unsigned events)
{
    if (c->pending) {
        if (conn_flush(c) < 0)
            conn_close(c);
        return;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        ssize_t r = recv(c->fd, rbuf, sizeof rbuf, 0);
        if (r > 0) {
            if (conn_send(c, rbuf, (size_t)r) < 0)
                conn_close(c);
        } else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            conn_close(c);
        }
    }
}

int main(int argc, char **argv)
{
    static struct conn listener_tag;
    struct epoll_event evs[MAX_EVENTS];
    struct epoll_event ev;
    struct sockaddr_in sin;
    int port = 9876, lfd, one = 1;

    if (argc > 1) {
        port = atoi(argv[1]);
        if (port <= 0 || port > 65535) {
            fprintf(stderr, "usage: %s [port]\n", argv[0]);
            return 2;
        }
    }
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) {
        perror("echo-epoll: socket");
        return 1;
    }
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons((unsigned short)port);
    if (bind(lfd, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(lfd, SOMAXCONN) < 0) {
        perror("echo-epoll: cannot listen");
        return 1;
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        perror("echo-epoll: epoll_create1");
        return 1;
    }
    listener_tag.fd = lfd;
    ev.events = EPOLLIN;
    ev.data.ptr = &listener_tag;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) {
        perror("echo-epoll: epoll_ctl");
        return 1;
    }
    for (;;) {
        int i, n = epoll_wait(ep, evs, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("echo-epoll: epoll_wait");
            return 1;
        }
        for (i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c == &listener_tag)
                on_listener(lfd);
            else
                on_conn(c, evs[i].events);
        }
    }
}

/* Differential transcript for evasio: one C99 program, built once against
 * real libevent 2.1.12 and once against evasio, exercising evconnlistener,
 * the event_base loop and the bufferevent echo subset on loopback sockets.
 *
 * Every observation is one line on stdout. Nothing that legitimately varies
 * between runs (ports, fds, pointers, timings) is printed: only counts,
 * return values, yes/no answers and symbolic names. The two builds must
 * print the same transcript; tests/diff/compare.cmake checks that.
 *
 * Only functions declared in evasio's compat/include/event2 headers are
 * used, so the same source compiles against both. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/bufferevent.h>
#include <event2/buffer.h>
#include <event2/thread.h>
#include <event2/util.h>

#include "transcript.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Safety net: every scenario runs under an alarm, so that a broken
 * implementation fails with a clear line instead of hanging. */


/* ------------------------------------------------------------------ */
/* Symbolic names. */

static const char *errname(int e)
{
	static char other[32];
	switch (e) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EINVAL: return "EINVAL";
	case ENFILE: return "ENFILE";
	case EMFILE: return "EMFILE";
	case EPIPE: return "EPIPE";
	case ENOTSOCK: return "ENOTSOCK";
	case EDESTADDRREQ: return "EDESTADDRREQ";
	case EPROTOTYPE: return "EPROTOTYPE";
	case ENOPROTOOPT: return "ENOPROTOOPT";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EADDRINUSE: return "EADDRINUSE";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case ENETUNREACH: return "ENETUNREACH";
	case ECONNABORTED: return "ECONNABORTED";
	case ECONNRESET: return "ECONNRESET";
	case ENOBUFS: return "ENOBUFS";
	case EISCONN: return "EISCONN";
	case ENOTCONN: return "ENOTCONN";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EPROTO: return "EPROTO";
	default: break;
	}
	snprintf(other, sizeof other, "errno%d", e);
	return other;
}

static const char *famname(int f)
{
	static char other[32];
	switch (f) {
	case AF_INET: return "AF_INET";
	case AF_INET6: return "AF_INET6";
	case AF_UNIX: return "AF_UNIX";
	case AF_UNSPEC: return "AF_UNSPEC";
	default: break;
	}
	snprintf(other, sizeof other, "family%d", f);
	return other;
}

static const char *onoff(int v)
{
	if (v < 0)
		return "error";
	return v ? "on" : "off";
}

/* BEV_EVENT_* bits as "READING|EOF". */
static void bevwhat(short what, char *out, size_t len)
{
	static const struct { short bit; const char *name; } names[] = {
		{ BEV_EVENT_READING, "READING" },
		{ BEV_EVENT_WRITING, "WRITING" },
		{ BEV_EVENT_EOF, "EOF" },
		{ BEV_EVENT_ERROR, "ERROR" },
		{ BEV_EVENT_TIMEOUT, "TIMEOUT" },
		{ BEV_EVENT_CONNECTED, "CONNECTED" },
	};
	size_t i;
	short rest = what;
	out[0] = '\0';
	for (i = 0; i < sizeof names / sizeof names[0]; ++i) {
		if (what & names[i].bit) {
			if (out[0])
				strncat(out, "|", len - strlen(out) - 1);
			strncat(out, names[i].name, len - strlen(out) - 1);
			rest &= (short)~names[i].bit;
		}
	}
	if (rest) {
		char tmp[24];
		snprintf(tmp, sizeof tmp, "%s0x%x", out[0] ? "|" : "",
		    (unsigned)(rest & 0xffff));
		strncat(out, tmp, len - strlen(out) - 1);
	}
	if (!out[0])
		strncat(out, "none", len - 1);
}

/* EV_READ / EV_WRITE bits as "READ|WRITE". */
static const char *evkinds(short k)
{
	switch (k & (EV_READ | EV_WRITE)) {
	case 0: return "none";
	case EV_READ: return "READ";
	case EV_WRITE: return "WRITE";
	default: return "READ|WRITE";
	}
}

static const char *levflags(unsigned f)
{
	static char buf[200];
	static const struct { unsigned bit; const char *name; } names[] = {
		{ LEV_OPT_LEAVE_SOCKETS_BLOCKING, "LEAVE_SOCKETS_BLOCKING" },
		{ LEV_OPT_CLOSE_ON_FREE, "CLOSE_ON_FREE" },
		{ LEV_OPT_CLOSE_ON_EXEC, "CLOSE_ON_EXEC" },
		{ LEV_OPT_REUSEABLE, "REUSEABLE" },
		{ LEV_OPT_THREADSAFE, "THREADSAFE" },
		{ LEV_OPT_DISABLED, "DISABLED" },
		{ LEV_OPT_DEFERRED_ACCEPT, "DEFERRED_ACCEPT" },
		{ LEV_OPT_REUSEABLE_PORT, "REUSEABLE_PORT" },
		{ LEV_OPT_BIND_IPV6ONLY, "BIND_IPV6ONLY" },
	};
	size_t i;
	buf[0] = '\0';
	for (i = 0; i < sizeof names / sizeof names[0]; ++i) {
		if (f & names[i].bit) {
			if (buf[0])
				strcat(buf, "|");
			strcat(buf, names[i].name);
		}
	}
	if (!buf[0])
		strcpy(buf, "0");
	return buf;
}

/* ------------------------------------------------------------------ */
/* Socket helpers (plain POSIX, used by the clients and for inspection). */

static int fd_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl >= 0 && (fl & O_NONBLOCK) != 0;
}

static int fd_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);
	return fl >= 0 && (fl & FD_CLOEXEC) != 0;
}

static int sockopt_int(int fd, int level, int opt)
{
	int v = 0;
	socklen_t l = sizeof v;
	if (getsockopt(fd, level, opt, &v, &l) < 0)
		return -1;
	return v;
}

static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof ss;
	if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &l) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

static void lo4(struct sockaddr_in *sin, int port)
{
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = htons((unsigned short)port);
}

static void lo6(struct sockaddr_in6 *sin6, int port)
{
	memset(sin6, 0, sizeof *sin6);
	sin6->sin6_family = AF_INET6;
	sin6->sin6_addr = in6addr_loopback;
	sin6->sin6_port = htons((unsigned short)port);
}

/* A blocking client connected to 127.0.0.1:port, or -1. */
static int connect_lo(int port)
{
	struct sockaddr_in sin;
	int fd;
	if (port <= 0)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	lo4(&sin, port);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int connect_lev(struct evconnlistener *lev)
{
	return connect_lo(local_port(evconnlistener_get_fd(lev)));
}

static void close_all(int *fds, int n)
{
	int i;
	for (i = 0; i < n; ++i)
		if (fds[i] >= 0)
			close(fds[i]);
}

static int count_ok(const int *fds, int n)
{
	int i, ok = 0;
	for (i = 0; i < n; ++i)
		ok += fds[i] >= 0;
	return ok;
}

static int wait_readable(int fd, int ms)
{
	struct pollfd p;
	p.fd = fd;
	p.events = POLLIN;
	p.revents = 0;
	return poll(&p, 1, ms) > 0;
}

/* Reads exactly n bytes within ms per chunk; returns bytes read. */
static size_t read_n(int fd, char *buf, size_t n, int ms)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r;
		if (!wait_readable(fd, ms))
			break;
		r = recv(fd, buf + got, n - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

/* 1 when the peer's next read is end-of-file (within ms). */
static int peer_eof(int fd, int ms)
{
	char c;
	if (!wait_readable(fd, ms))
		return 0;
	return recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

/* 1 when the sockaddr a callback got is the client's own local address. */
static int same_endpoint(const struct sockaddr_storage *peer, int peerlen,
    int client)
{
	struct sockaddr_storage me;
	socklen_t l = sizeof me;
	if (client < 0 || getsockname(client, (struct sockaddr *)&me, &l) < 0)
		return 0;
	if (peer->ss_family != me.ss_family)
		return 0;
	if (me.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)peer;
		const struct sockaddr_in *b = (const struct sockaddr_in *)&me;
		return peerlen == (int)sizeof *a &&
		    a->sin_port == b->sin_port &&
		    a->sin_addr.s_addr == b->sin_addr.s_addr;
	}
	if (me.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)peer;
		const struct sockaddr_in6 *b = (const struct sockaddr_in6 *)&me;
		return peerlen == (int)sizeof *a &&
		    a->sin6_port == b->sin6_port &&
		    memcmp(&a->sin6_addr, &b->sin6_addr,
		    sizeof a->sin6_addr) == 0;
	}
	return 0;
}

static long elapsed_ms(const struct timespec *a, const struct timespec *b)
{
	return (long)(b->tv_sec - a->tv_sec) * 1000L +
	    (long)(b->tv_nsec - a->tv_nsec) / 1000000L;
}

/* ------------------------------------------------------------------ */
/* A general accept callback: counts, inspects, then acts. */

enum { ACT_NONE, ACT_FREE, ACT_BREAK };

#define MAX_PEERS 8

struct peer {
	int family;
	int socklen;
	int nonblock;
	int cloexec;
	struct sockaddr_storage ss;
};

struct acc {
	struct event_base *base;
	int count;       /* connections accepted so far */
	int limit;       /* disable the listener when count reaches it (0: never) */
	int action;      /* ACT_* done after each accept */
	int check_eof;   /* count accepted sockets whose peer already closed */
	int eof;
	int err_calls;   /* error callback invocations */
	int err;         /* EVUTIL_SOCKET_ERROR() seen inside it */
	struct peer peers[MAX_PEERS];
};

static void acc_init(struct acc *a, struct event_base *base, int limit)
{
	memset(a, 0, sizeof *a);
	a->base = base;
	a->limit = limit;
	a->err = -1;
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct acc *a = arg;
	if (a->count < MAX_PEERS) {
		struct peer *p = &a->peers[a->count];
		p->family = sa ? sa->sa_family : -1;
		p->socklen = socklen;
		p->nonblock = fd_nonblock(fd);
		p->cloexec = fd_cloexec(fd);
		if (sa && socklen > 0) {
			size_t n = (size_t)socklen;
			if (n > sizeof p->ss)
				n = sizeof p->ss;
			memcpy(&p->ss, sa, n);
		}
	}
	a->count++;
	if (a->check_eof && peer_eof(fd, 2000))
		a->eof++;
	evutil_closesocket(fd);
	if (a->action == ACT_FREE) {
		evconnlistener_free(lev);
		return;
	}
	if (a->action == ACT_BREAK)
		event_base_loopbreak(a->base);
	if (a->limit && a->count >= a->limit)
		evconnlistener_disable(lev);
}

static void on_error(struct evconnlistener *lev, void *arg)
{
	struct acc *a = arg;
	int e = EVUTIL_SOCKET_ERROR();
	a->err_calls++;
	a->err = e;
	evconnlistener_disable(lev);
}

/* new_bind on 127.0.0.1, port chosen by the kernel. */
static struct evconnlistener *bind_lo(struct event_base *base,
    evconnlistener_cb cb, void *arg, unsigned flags, int backlog)
{
	struct sockaddr_in sin;
	lo4(&sin, 0);
	return evconnlistener_new_bind(base, cb, arg,
	    flags | LEV_OPT_CLOSE_ON_FREE, backlog,
	    (struct sockaddr *)&sin, (int)sizeof sin);
}

/* ------------------------------------------------------------------ */
/* Scenarios. */

static void sc_info(void)
{
	struct event_base *base;
	ev_uint32_t v;
	scenario_alarm("info", 10);
	v = event_get_version_number();
	printf("info: version_number=0x%08lx equals_header=%s\n",
	    (unsigned long)v, yn(v == (ev_uint32_t)LIBEVENT_VERSION_NUMBER));
	base = event_base_new();
	printf("info: base=%s method=%s\n", yn(base != NULL),
	    base && event_base_get_method(base) ?
	    event_base_get_method(base) : "(null)");
	if (base)
		event_base_free(base);
	end();
}

/* Two listeners on random ports, each disabling itself after its count;
 * clients connected before dispatch; dispatch returns by itself. */
static void sc_randport(const char *label, unsigned flags)
{
	struct event_base *base = event_base_new();
	struct evconnlistener *l1, *l2;
	struct acc a1, a2;
	int c[4], i, r;
	scenario_alarm(label, 20);
	acc_init(&a1, base, 2);
	acc_init(&a2, base, 1);
	l1 = bind_lo(base, on_accept, &a1, flags, -1);
	l2 = bind_lo(base, on_accept, &a2, flags, -1);
	if (!l1 || !l2) {
		printf("%s: created=no\n", label);
		goto out;
	}
	for (i = 0; i < 4; ++i)
		c[i] = connect_lev(i < 2 ? l1 : l2);
	r = event_base_dispatch(base);
	printf("%s: connected=%d accepted1=%d accepted2=%d dispatch=%d\n",
	    label, count_ok(c, 4), a1.count, a2.count, r);
	close_all(c, 4);
out:
	if (l1)
		evconnlistener_free(l1);
	if (l2)
		evconnlistener_free(l2);
	event_base_free(base);
	end();
}

/* A listener with backlog 0 on one end of a socketpair: accept() fails
 * once the pair is readable, and the error callback sees why. */
static void sc_errorcb(void)
{
	struct event_base *base = event_base_new();
	struct evconnlistener *lev;
	struct acc a;
	int sv[2], r;
	ssize_t w;
	scenario_alarm("errorcb", 10);
	acc_init(&a, base, 0);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		printf("errorcb: socketpair failed\n");
		goto out;
	}
	lev = evconnlistener_new(base, on_accept, &a, 0, 0, sv[0]);
	printf("errorcb: created=%s\n", yn(lev != NULL));
	if (lev) {
		evconnlistener_set_error_cb(lev, on_error);
		w = write(sv[1], "x", 1);
		r = event_base_dispatch(base);
		printf("errorcb: written=%d accepted=%d errorcb_calls=%d "
		    "err=%s dispatch=%d\n", (int)w, a.count, a.err_calls,
		    a.err_calls ? errname(a.err) : "none", r);
		printf("errorcb: get_fd_same=%s\n",
		    yn(evconnlistener_get_fd(lev) == sv[0]));
		evconnlistener_free(lev);
	}
	printf("errorcb: fd_still_open=%s\n", yn(fcntl(sv[0], F_GETFD) >= 0));
	close(sv[0]);
	close(sv[1]);
out:
	event_base_free(base);
	end();
}

/* The callback frees its own listener with a second connection queued. */
static void sc_free_in_cb(const char *label, unsigned flags)
{
	struct event_base *base = event_base_new();
	struct evconnlistener *lev;
	struct acc a;
	int c[2], r;
	scenario_alarm(label, 10);
	acc_init(&a, base, 0);
	a.action = ACT_FREE;
	lev = bind_lo(base, on_accept, &a, flags, -1);
	if (!lev) {
		printf("%s: created=no\n", label);
		goto out;
	}
	c[0] = connect_lev(lev);
	c[1] = connect_lev(lev);
	r = event_base_dispatch(base);
	printf("%s: connected=%d accepted=%d dispatch=%d\n", label,
	    count_ok(c, 2), a.count, r);
	close_all(c, 2);
out:
	event_base_free(base);
	end();
}

/* Clients connect and close before the loop runs: each is still accepted,
 * and the accepted socket reads end-of-file. */
static void sc_closed_clients(void)
{
	struct event_base *base = event_base_new();
	struct evconnlistener *lev;
	struct acc a;
	int i, ok = 0, r;
	scenario_alarm("closedclients", 15);
	acc_init(&a, base, 3);
	a.check_eof = 1;
	lev = bind_lo(base, on_accept, &a, 0, -1);
	if (!lev) {
		printf("closedclients: created=no\n");
		goto out;
	}
	for (i = 0; i < 3; ++i) {
		int c = connect_lev(lev);
		if (c >= 0) {
			ok++;
			close(c);
		}
	}
	r = event_base_dispatch(base);
	printf("closedclients: connected=%d accepted=%d eof=%d dispatch=%d\n",
	    ok, a.count, a.eof, r);
	evconnlistener_free(lev);
out:
	event_base_free(base);
	end();
}

/* LEV_OPT_DISABLED: nothing pending until evconnlistener_enable. */
static void sc_start_disabled(void)
{
	struct event_base *base = event_base_new();
	struct evconnlistener *lev;
	struct acc a;
	int c, r1, r2, before;
	scenario_alarm("startdisabled", 10);
	acc_init(&a, base, 1);
	lev = bind_lo(base, on_accept, &a, LEV_OPT_DISABLED, -1);
	if (!lev) {
		printf("startdisabled: created=no\n");
		goto out;
	}
	c = connect_lev(lev);
	r1 = event_base_loop(base, EVLOOP_NONBLOCK);
	before = a.count;
	r2 = evconnlistener_enable(lev);
	printf("startdisabled: connected=%s nonblock=%d accepted_disabled=%d "
	    "enable=%d\n", yn(c >= 0), r1, before, r2);
	r1 = event_base_dispatch(base);
	printf("startdisabled: accepted_enabled=%d dispatch=%d\n",
	    a.count - before, r1);
	if (c >= 0)
		close(c);
	evconnlistener_free(lev);
out:
	event_base_free(base);
	end();
}

/* Disabled from inside the callback with more connections queued: they
 * stay in the backlog and arrive exactly once after enable. */
static void sc_disable_queued(void)
{
	struct event_base *base = event_base_new();
	struct evconnlistener *lev;
	struct acc a;
	int c[4], i, r1, r2, r3, p1, p2;
	scenario_alarm("queued", 15);
	acc_init(&a, base, 1);
	lev = bind_lo(base, on_accept, &a, 0, -1);
	if (!lev) {
		printf("queued: created=no\n");
		goto out;
	}
	for (i = 0; i < 4; ++i)
		c[i] = connect_lev(lev);
	r1 = event_base_dispatch(base);
	p1 = a.count;
	r2 = event_base_loop(base, EVLOOP_NONBLOCK);
	p2 = a.count - p1;
	printf("queued: connected=%d phase1=%d dispatch=%d while_disabled=%d "
	    "nonblock=%d\n", count_ok(c, 4), p1, r1, p2, r2);
	a.limit = 4;
	evconnlistener_enable(lev);
	r3 = event_base_dispatch(base);
	printf("queued: phase2=%d dispatch=%d\n", a.count - p1 - p2, r3);
	close_all(c, 4);
	evconnlistener_free(lev);
out:
	event_base_free(base);
	end();
}

/* Created with a NULL callback (nothing pending), then given one. Also a
 * disabled listener whose callback is set to NULL, enabled, then given a
 * callback back (libevent and evasio agree there; the documented
 * difference concerns set_cb(NULL) on an enabled listener, not tested). */
static void sc_null_cb(void)
{
	struct event_base *base = event_base_new();
	struct evconnlistener *lev;
	struct acc a;
	int c, r1, r2, before;
	scenario_alarm("nullcb", 15);
	acc_init(&a, base, 1);
	lev = bind_lo(base, NULL, &a, 0, -1);
	printf("nullcb: created=%s\n", yn(lev != NULL));
	if (lev) {
		c = connect_lev(lev);
		r1 = event_base_loop(base, EVLOOP_NONBLOCK);
		before = a.count;
		evconnlistener_set_cb(lev, on_accept, &a);
		r2 = event_base_dispatch(base);
		printf("nullcb: connected=%s nonblock=%d accepted_null=%d "
		    "accepted_after_set_cb=%d dispatch=%d\n", yn(c >= 0), r1,
		    before, a.count - before, r2);
		if (c >= 0)
			close(c);
		evconnlistener_free(lev);
	}

	acc_init(&a, base, 1);
	lev = bind_lo(base, on_accept, &a, 0, -1);
	if (lev) {
		evconnlistener_disable(lev);
		evconnlistener_set_cb(lev, NULL, &a);
		evconnlistener_enable(lev);
		c = connect_lev(lev);
		r1 = event_base_loop(base, EVLOOP_NONBLOCK);
		before = a.count;
		evconnlistener_set_cb(lev, on_accept, &a);
		r2 = event_base_dispatch(base);
		printf("nullcb_disabled: connected=%s nonblock=%d "
		    "accepted_null=%d accepted_after_set_cb=%d dispatch=%d\n",
		    yn(c >= 0), r1, before, a.count - before, r2);
		if (c >= 0)
			close(c);
		evconnlistener_free(lev);
	}
	event_base_free(base);
	end();
}

/* evconnlistener_new on a socket of our own, for several backlogs. */
static void sc_adopt(int backlog)
{
	struct event_base *base = event_base_new();
	struct evconnlistener *lev;
	struct sockaddr_in sin;
	struct acc a;
	char label[40];
	int fd, c, r;
	snprintf(label, sizeof label, "adopt backlog=%d", backlog);
	scenario_alarm("adopt", 10);
	acc_init(&a, base, 1);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	lo4(&sin, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
		printf("%s: setup failed\n", label);
		if (fd >= 0)
			close(fd);
		goto out;
	}
	/* libevent needs a non-blocking listening socket from the caller. */
	evutil_make_socket_nonblocking(fd);
	if (backlog == 0 && listen(fd, 8) < 0) {
		printf("%s: listen failed\n", label);
		close(fd);
		goto out;
	}
	lev = evconnlistener_new(base, on_accept, &a, LEV_OPT_CLOSE_ON_FREE,
	    backlog, fd);
	if (!lev) {
		printf("%s: created=no errno=%s\n", label, errname(errno));
		close(fd);
		goto out;
	}
	printf("%s: created=yes get_fd_same=%s get_base_same=%s "
	    "acceptconn=%s\n", label, yn(evconnlistener_get_fd(lev) == fd),
	    yn(evconnlistener_get_base(lev) == base),
	    onoff(sockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN)));
	c = connect_lo(local_port(fd));
	r = event_base_dispatch(base);
	printf("%s: connected=%s accepted=%d peer=%s socklen=%d "
	    "peer_is_client=%s dispatch=%d\n", label, yn(c >= 0), a.count,
	    a.count ? famname(a.peers[0].family) : "none",
	    a.count ? a.peers[0].socklen : -1,
	    yn(a.count && same_endpoint(&a.peers[0].ss, a.peers[0].socklen,
	    c)), r);
	if (c >= 0)
		close(c);
	evconnlistener_free(lev);
	printf("%s: closed_on_free=%s\n", label, yn(fcntl(fd, F_GETFD) < 0));
out:
	event_base_free(base);
	end();
}

/* evconnlistener_new with a backlog < 0 on a socket that is not a socket. */
static void sc_adopt_bad(void)
{
	struct event_base *base = event_base_new();
	struct evconnlistener *lev;
	int p[2];
	scenario_alarm("adopt_bad", 10);
	if (pipe(p) < 0) {
		printf("adopt_pipe: setup failed\n");
		goto out;
	}
	errno = 0;
	lev = evconnlistener_new(base, on_accept, NULL, 0, -1, p[0]);
	printf("adopt_pipe backlog=-1: null=%s errno=%s fd_still_open=%s\n",
	    yn(lev == NULL), lev ? "-" : errname(errno),
	    yn(fcntl(p[0], F_GETFD) >= 0));
	if (lev)
		evconnlistener_free(lev);
	close(p[0]);
	close(p[1]);
out:
	event_base_free(base);
	end();
}

/* Refusals with errno, where libevent refuses too (never a crash). */
static void sc_bad_input(void)
{
	struct event_base *base = event_base_new();
	struct evconnlistener *lev;
	struct sockaddr_in sin;
	struct sockaddr_storage odd;
	int fd;
	scenario_alarm("badinput", 10);

	errno = 0;
	lev = evconnlistener_new_bind(base, on_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE, -1, NULL, 0);
	printf("bad new_bind(NULL sockaddr): null=%s errno=%s\n",
	    yn(lev == NULL), lev ? "-" : errname(errno));
	if (lev)
		evconnlistener_free(lev);

	lo4(&sin, 0);
	errno = 0;
	lev = evconnlistener_new_bind(base, on_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE, -1, (struct sockaddr *)&sin, 4);
	printf("bad new_bind(short AF_INET socklen=4): null=%s errno=%s\n",
	    yn(lev == NULL), lev ? "-" : errname(errno));
	if (lev)
		evconnlistener_free(lev);

	memset(&odd, 0, sizeof odd);
	odd.ss_family = 250;
	errno = 0;
	lev = evconnlistener_new_bind(base, on_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE, -1, (struct sockaddr *)&odd,
	    (int)sizeof odd);
	printf("bad new_bind(family 250): null=%s errno=%s\n",
	    yn(lev == NULL), lev ? "-" : errname(errno));
	if (lev)
		evconnlistener_free(lev);

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd >= 0) {
		close(fd);
		errno = 0;
		lev = evconnlistener_new(base, on_accept, NULL, 0, -1, fd);
		printf("bad new(closed fd, backlog=-1): null=%s errno=%s\n",
		    yn(lev == NULL), lev ? "-" : errname(errno));
		if (lev)
			evconnlistener_free(lev);
	}

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0) {
		errno = 0;
		lev = evconnlistener_new(base, on_accept, NULL, 0, -1, fd);
		printf("bad new(UDP socket, backlog=-1): null=%s errno=%s "
		    "fd_still_open=%s\n", yn(lev == NULL),
		    lev ? "-" : errname(errno), yn(fcntl(fd, F_GETFD) >= 0));
		if (lev)
			evconnlistener_free(lev);
	}
	if (fd >= 0)
		close(fd);
	event_base_free(base);
	end();
}

/* LEV_OPT_THREADSAFE across threads: while the loop waits, another thread
 * enables a disabled listener (whose queued connection then arrives) and
 * frees an idle one, after which dispatch returns by itself. */
struct xt {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct evconnlistener *idle;
	struct evconnlistener *late;
	int accepted;
	int enable_ret;
	int saw_accept;
};

static void xt_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct xt *x = arg;
	(void)sa;
	(void)socklen;
	evutil_closesocket(fd);
	evconnlistener_disable(lev);
	pthread_mutex_lock(&x->mu);
	x->accepted++;
	pthread_cond_signal(&x->cv);
	pthread_mutex_unlock(&x->mu);
}

static void *xt_main(void *arg)
{
	struct xt *x = arg;
	struct timespec d, until;
	d.tv_sec = 0;
	d.tv_nsec = 50 * 1000000L;
	nanosleep(&d, NULL);
	x->enable_ret = evconnlistener_enable(x->late);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&x->mu);
	while (x->accepted == 0) {
		if (pthread_cond_timedwait(&x->cv, &x->mu, &until) != 0)
			break;
	}
	x->saw_accept = x->accepted;
	pthread_mutex_unlock(&x->mu);
	evconnlistener_free(x->idle);
	return NULL;
}

static void sc_cross_thread(void)
{
	struct event_base *base = event_base_new();
	struct acc a;
	struct xt x;
	pthread_t th;
	int c, r;
	scenario_alarm("crossthread", 15);
	acc_init(&a, base, 0);
	memset(&x, 0, sizeof x);
	pthread_mutex_init(&x.mu, NULL);
	pthread_cond_init(&x.cv, NULL);
	x.enable_ret = -9;
	x.idle = bind_lo(base, on_accept, &a, LEV_OPT_THREADSAFE, -1);
	x.late = bind_lo(base, xt_accept, &x,
	    LEV_OPT_THREADSAFE | LEV_OPT_DISABLED, -1);
	if (!x.idle || !x.late) {
		printf("crossthread: created=no\n");
		if (x.idle)
			evconnlistener_free(x.idle);
		if (x.late)
			evconnlistener_free(x.late);
		goto out;
	}
	c = connect_lev(x.late);
	if (pthread_create(&th, NULL, xt_main, &x) != 0) {
		printf("crossthread: thread failed\n");
		evconnlistener_free(x.idle);
		evconnlistener_free(x.late);
		if (c >= 0)
			close(c);
		goto out;
	}
	r = event_base_dispatch(base);
	pthread_join(th, NULL);
	printf("crossthread: connected=%s enable=%d accepted=%d "
	    "seen_by_thread=%d idle_accepted=%d dispatch=%d\n", yn(c >= 0),
	    x.enable_ret, x.accepted, x.saw_accept, a.count, r);
	if (c >= 0)
		close(c);
	evconnlistener_free(x.late);
out:
	pthread_mutex_destroy(&x.mu);
	pthread_cond_destroy(&x.cv);
	event_base_free(base);
	end();
}

/* O_NONBLOCK / FD_CLOEXEC of accepted sockets, per listener flags. */
static void sc_accept_flags(unsigned flags)
{
	struct event_base *base = event_base_new();
	struct evconnlistener *lev;
	struct acc a;
	int c, r;
	scenario_alarm("acceptflags", 10);
	acc_init(&a, base, 1);
	lev = bind_lo(base, on_accept, &a, flags, -1);
	if (!lev) {
		printf("acceptflags %s: created=no\n", levflags(flags));
		goto out;
	}
	c = connect_lev(lev);
	r = event_base_dispatch(base);
	if (a.count)
		printf("acceptflags %s: accepted=%d nonblock=%s cloexec=%s "
		    "peer=%s socklen=%d dispatch=%d\n", levflags(flags),
		    a.count, yn(a.peers[0].nonblock), yn(a.peers[0].cloexec),
		    famname(a.peers[0].family), a.peers[0].socklen, r);
	else
		printf("acceptflags %s: accepted=0 dispatch=%d\n",
		    levflags(flags), r);
	if (c >= 0)
		close(c);
	evconnlistener_free(lev);
out:
	event_base_free(base);
	end();
}

/* Socket options new_bind puts on the listening socket. */
static void sc_bind_opts(unsigned flags)
{
	struct event_base *base = event_base_new();
	struct evconnlistener *lev;
	int fd, defer;
	scenario_alarm("bindopts", 10);
	lev = bind_lo(base, on_accept, NULL, flags | LEV_OPT_DISABLED, 16);
	if (!lev) {
		printf("bindopts %s: created=no errno=%s\n", levflags(flags),
		    errname(errno));
		goto out;
	}
	fd = evconnlistener_get_fd(lev);
	defer = sockopt_int(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT);
	printf("bindopts %s: keepalive=%s reuseaddr=%s reuseport=%s "
	    "defer_accept=%s acceptconn=%s nonblock=%s cloexec=%s\n",
	    levflags(flags),
	    onoff(sockopt_int(fd, SOL_SOCKET, SO_KEEPALIVE)),
	    onoff(sockopt_int(fd, SOL_SOCKET, SO_REUSEADDR)),
	    onoff(sockopt_int(fd, SOL_SOCKET, SO_REUSEPORT)),
	    defer < 0 ? "error" : (defer ? "nonzero" : "0"),
	    onoff(sockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN)),
	    yn(fd_nonblock(fd)), yn(fd_cloexec(fd)));
	evconnlistener_free(lev);
out:
	event_base_free(base);
	end();
}

/* new_bind refusals: backlog 0, and an address already in use. */
static void sc_bind_fail(void)
{
	struct event_base *base = event_base_new();
	struct evconnlistener *lev, *l2;
	struct sockaddr_in sin;
	scenario_alarm("bindfail", 10);
	lev = bind_lo(base, on_accept, NULL, 0, 0);
	printf("bind_backlog0: null=%s\n", yn(lev == NULL));
	if (lev)
		evconnlistener_free(lev);

	lev = bind_lo(base, on_accept, NULL, LEV_OPT_DISABLED, -1);
	if (!lev) {
		printf("addrinuse: first=no\n");
		goto out;
	}
	lo4(&sin, local_port(evconnlistener_get_fd(lev)));
	errno = 0;
	l2 = evconnlistener_new_bind(base, on_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE, -1, (struct sockaddr *)&sin,
	    (int)sizeof sin);
	printf("addrinuse: null=%s errno=%s\n", yn(l2 == NULL),
	    l2 ? "-" : errname(errno));
	if (l2)
		evconnlistener_free(l2);
	errno = 0;
	l2 = evconnlistener_new_bind(base, on_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
	    (struct sockaddr *)&sin, (int)sizeof sin);
	printf("addrinuse REUSEABLE: null=%s errno=%s\n", yn(l2 == NULL),
	    l2 ? "-" : errname(errno));
	if (l2)
		evconnlistener_free(l2);
	evconnlistener_free(lev);
out:
	event_base_free(base);
	end();
}

/* An AF_UNIX listener: peers' family and socklen, unnamed and bound. */
static void sc_unix(void)
{
	struct event_base *base = event_base_new();
	struct evconnlistener *lev;
	struct sockaddr_un sun, cun;
	struct acc a;
	char dir[] = "/tmp/evdiffXXXXXX";
	int c[2] = { -1, -1 }, r, i;
	scenario_alarm("unix", 10);
	acc_init(&a, base, 2);
	if (!mkdtemp(dir)) {
		printf("unix: mkdtemp failed\n");
		goto out;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s/l.sock", dir);
	memset(&cun, 0, sizeof cun);
	cun.sun_family = AF_UNIX;
	snprintf(cun.sun_path, sizeof cun.sun_path, "%s/c.sock", dir);
	lev = evconnlistener_new_bind(base, on_accept, &a,
	    LEV_OPT_CLOSE_ON_FREE, -1, (struct sockaddr *)&sun,
	    (int)sizeof sun);
	printf("unix: created=%s\n", yn(lev != NULL));
	if (lev) {
		for (i = 0; i < 2; ++i) {
			c[i] = socket(AF_UNIX, SOCK_STREAM, 0);
			if (c[i] < 0)
				continue;
			if (i == 1 && bind(c[i], (struct sockaddr *)&cun,
			    sizeof cun) < 0) {
				close(c[i]);
				c[i] = -1;
				continue;
			}
			if (connect(c[i], (struct sockaddr *)&sun,
			    sizeof sun) < 0) {
				close(c[i]);
				c[i] = -1;
			}
		}
		r = event_base_dispatch(base);
		printf("unix: connected=%d accepted=%d dispatch=%d\n",
		    count_ok(c, 2), a.count, r);
		if (a.count >= 1)
			printf("unix peer unnamed: family=%s socklen=%d\n",
			    famname(a.peers[0].family), a.peers[0].socklen);
		if (a.count >= 2) {
			const struct sockaddr_un *p =
			    (const struct sockaddr_un *)&a.peers[1].ss;
			int want = (int)(offsetof(struct sockaddr_un, sun_path) +
			    strlen(cun.sun_path) + 1);
			printf("unix peer bound: family=%s path_matches=%s "
			    "socklen_matches=%s\n", famname(a.peers[1].family),
			    yn(a.peers[1].socklen > (int)offsetof(struct
			    sockaddr_un, sun_path) && strcmp(p->sun_path,
			    cun.sun_path) == 0),
			    yn(a.peers[1].socklen == want));
		}
		close_all(c, 2);
		evconnlistener_free(lev);
	}
	unlink(sun.sun_path);
	unlink(cun.sun_path);
	rmdir(dir);
out:
	event_base_free(base);
	end();
}

/* An IPv6 listener on ::1 with LEV_OPT_BIND_IPV6ONLY. */
static void sc_ipv6(void)
{
	struct event_base *base = event_base_new();
	struct evconnlistener *lev;
	struct sockaddr_in6 s6;
	struct acc a;
	int probe, ok, c = -1, r;
	scenario_alarm("ipv6", 10);
	acc_init(&a, base, 1);
	probe = socket(AF_INET6, SOCK_STREAM, 0);
	lo6(&s6, 0);
	ok = probe >= 0 && bind(probe, (struct sockaddr *)&s6, sizeof s6) == 0;
	if (probe >= 0)
		close(probe);
	if (!ok) {
		printf("ipv6: unavailable\n");
		goto out;
	}
	lev = evconnlistener_new_bind(base, on_accept, &a,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_BIND_IPV6ONLY, -1,
	    (struct sockaddr *)&s6, (int)sizeof s6);
	printf("ipv6: created=%s\n", yn(lev != NULL));
	if (!lev)
		goto out;
	printf("ipv6: v6only=%s keepalive=%s\n",
	    onoff(sockopt_int(evconnlistener_get_fd(lev), IPPROTO_IPV6,
	    IPV6_V6ONLY)), onoff(sockopt_int(evconnlistener_get_fd(lev),
	    SOL_SOCKET, SO_KEEPALIVE)));
	c = socket(AF_INET6, SOCK_STREAM, 0);
	lo6(&s6, local_port(evconnlistener_get_fd(lev)));
	if (c >= 0 && connect(c, (struct sockaddr *)&s6, sizeof s6) < 0) {
		close(c);
		c = -1;
	}
	r = event_base_dispatch(base);
	printf("ipv6: connected=%s accepted=%d peer=%s socklen=%d "
	    "peer_is_client=%s dispatch=%d\n", yn(c >= 0), a.count,
	    a.count ? famname(a.peers[0].family) : "none",
	    a.count ? a.peers[0].socklen : -1,
	    yn(a.count && same_endpoint(&a.peers[0].ss, a.peers[0].socklen,
	    c)), r);
	if (c >= 0)
		close(c);
	evconnlistener_free(lev);
out:
	event_base_free(base);
	end();
}

/* Loop flags and exit/break bookkeeping. */
static void sc_loop(void)
{
	struct event_base *base = event_base_new();
	struct evconnlistener *lev;
	struct timeval tv;
	struct timespec t0, t1;
	struct acc a;
	int r, c;

	scenario_alarm("loop", 20);
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("loop empty: nonblock=%d", r);
	r = event_base_loop(base, EVLOOP_ONCE);
	printf(" once=%d", r);
	r = event_base_dispatch(base);
	printf(" dispatch=%d\n", r);

	event_base_loopexit(base, NULL);
	printf("loop empty loopexit(NULL): got_exit_before=%d",
	    event_base_got_exit(base));
	r = event_base_dispatch(base);
	printf(" dispatch=%d got_exit=%d got_break=%d", r,
	    event_base_got_exit(base), event_base_got_break(base));
	r = event_base_dispatch(base);
	printf(" next_dispatch=%d got_exit=%d\n", r,
	    event_base_got_exit(base));

	event_base_loopbreak(base);
	printf("loop empty loopbreak: got_break_before=%d",
	    event_base_got_break(base));
	r = event_base_dispatch(base);
	printf(" dispatch=%d got_break=%d\n", r, event_base_got_break(base));

	acc_init(&a, base, 0);
	lev = bind_lo(base, on_accept, &a, 0, -1);
	if (!lev) {
		printf("loop: created=no\n");
		goto out;
	}
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("loop idle listener: nonblock=%d accepted=%d\n", r, a.count);

	event_base_loopexit(base, NULL);
	r = event_base_dispatch(base);
	printf("loop idle listener loopexit(NULL): dispatch=%d got_exit=%d "
	    "got_break=%d\n", r, event_base_got_exit(base),
	    event_base_got_break(base));

	tv.tv_sec = 0;
	tv.tv_usec = 50000;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	event_base_loopexit(base, &tv);
	r = event_base_dispatch(base);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("loop idle listener loopexit(50ms): dispatch=%d got_exit=%d "
	    "got_break=%d waited_45ms=%s accepted=%d\n", r,
	    event_base_got_exit(base), event_base_got_break(base),
	    yn(elapsed_ms(&t0, &t1) >= 45), a.count);
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("loop after loopexit: nonblock=%d got_exit=%d got_break=%d\n",
	    r, event_base_got_exit(base), event_base_got_break(base));

	a.action = ACT_BREAK;
	c = connect_lev(lev);
	r = event_base_dispatch(base);
	printf("loop loopbreak in callback: connected=%s dispatch=%d "
	    "accepted=%d got_break=%d got_exit=%d\n", yn(c >= 0), r, a.count,
	    event_base_got_break(base), event_base_got_exit(base));
	if (c >= 0)
		close(c);
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("loop after loopbreak: nonblock=%d got_break=%d got_exit=%d\n",
	    r, event_base_got_break(base), event_base_got_exit(base));

	a.action = ACT_NONE;
	a.count = 0;
	c = connect_lev(lev);
	r = event_base_loop(base, EVLOOP_ONCE);
	printf("loop once with client: connected=%s once=%d accepted=%d\n",
	    yn(c >= 0), r, a.count);
	if (c >= 0)
		close(c);

	a.count = 0;
	c = connect_lev(lev);
	/* Make sure the connection is in the backlog before polling once. */
	wait_readable(evconnlistener_get_fd(lev), 2000);
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("loop nonblock with client: connected=%s nonblock=%d "
	    "accepted=%d\n", yn(c >= 0), r, a.count);
	if (c >= 0)
		close(c);

	evconnlistener_disable(lev);
	r = event_base_dispatch(base);
	printf("loop disabled listener: dispatch=%d\n", r);
	evconnlistener_free(lev);
out:
	event_base_free(base);
	end();
}

/* ------------------------------------------------------------------ */
/* bufferevent echo, driven by a client thread. */

#define ECHO_BYTES (256u * 1024u)

static unsigned char echo_data[ECHO_BYTES];

struct echo_client {
	int port;
	size_t sent;
	size_t received;
	int intact;
	ev_uint32_t fnv;
	int err;
};

static void *echo_client_main(void *arg)
{
	struct echo_client *ec = arg;
	unsigned char buf[16384];
	int fd = connect_lo(ec->port);
	ec->intact = 1;
	ec->fnv = 2166136261u;
	if (fd < 0) {
		ec->err = errno ? errno : -1;
		return NULL;
	}
	evutil_make_socket_nonblocking(fd);
	while (ec->received < ECHO_BYTES) {
		struct pollfd p;
		p.fd = fd;
		p.events = POLLIN;
		if (ec->sent < ECHO_BYTES)
			p.events |= POLLOUT;
		p.revents = 0;
		if (poll(&p, 1, 10000) <= 0) {
			ec->err = ETIMEDOUT;
			break;
		}
		if (p.revents & POLLOUT) {
			size_t n = ECHO_BYTES - ec->sent;
			ssize_t w;
			if (n > 16384)
				n = 16384;
			w = send(fd, echo_data + ec->sent, n, MSG_NOSIGNAL);
			if (w > 0)
				ec->sent += (size_t)w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				ec->err = errno;
				break;
			}
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = recv(fd, buf, sizeof buf, 0);
			ssize_t i;
			if (n == 0) {
				ec->err = -2; /* early EOF */
				break;
			}
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					continue;
				ec->err = errno;
				break;
			}
			for (i = 0; i < n; ++i) {
				size_t at = ec->received + (size_t)i;
				if (at >= ECHO_BYTES || buf[i] != echo_data[at])
					ec->intact = 0;
				ec->fnv = (ec->fnv ^ buf[i]) * 16777619u;
			}
			ec->received += (size_t)n;
		}
	}
	close(fd);
	return NULL;
}

struct echo_srv {
	struct event_base *base;
	int accepted;
	int events;
	char what[64];
};

static void echo_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	evbuffer_add_buffer(bufferevent_get_output(bev),
	    bufferevent_get_input(bev));
}

static void echo_event(struct bufferevent *bev, short what, void *arg)
{
	struct echo_srv *s = arg;
	if (s->events++ == 0)
		bevwhat(what, s->what, sizeof s->what);
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		bufferevent_free(bev);
}

static void echo_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct echo_srv *s = arg;
	struct bufferevent *bev;
	(void)sa;
	(void)socklen;
	s->accepted++;
	evconnlistener_disable(lev);
	bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		evutil_closesocket(fd);
		return;
	}
	bufferevent_setcb(bev, echo_read, NULL, echo_event, s);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void sc_echo(void)
{
	struct event_base *base = event_base_new();
	struct evconnlistener *lev;
	struct echo_srv s;
	struct echo_client ec;
	pthread_t th;
	size_t i;
	int r;
	scenario_alarm("echo", 30);
	for (i = 0; i < ECHO_BYTES; ++i)
		echo_data[i] = (unsigned char)((i * 131u + (i >> 9)) & 0xffu);
	memset(&s, 0, sizeof s);
	s.base = base;
	strcpy(s.what, "none");
	memset(&ec, 0, sizeof ec);
	lev = bind_lo(base, echo_accept, &s, 0, -1);
	if (!lev) {
		printf("echo: created=no\n");
		goto out;
	}
	ec.port = local_port(evconnlistener_get_fd(lev));
	if (pthread_create(&th, NULL, echo_client_main, &ec) != 0) {
		printf("echo: thread failed\n");
		evconnlistener_free(lev);
		goto out;
	}
	r = event_base_dispatch(base);
	pthread_join(th, NULL);
	printf("echo: accepted=%d dispatch=%d client_err=%s\n", s.accepted, r,
	    ec.err == -2 ? "early_eof" : errname(ec.err));
	printf("echo: sent=%lu received=%lu intact=%s fnv=%08lx\n",
	    (unsigned long)ec.sent, (unsigned long)ec.received,
	    yn(ec.intact && ec.received == ECHO_BYTES),
	    (unsigned long)ec.fnv);
	printf("echo: events=%d what=%s\n", s.events, s.what);
	evconnlistener_free(lev);
out:
	event_base_free(base);
	end();
}

/* bufferevent_write, the write callback when the output has drained. */
struct wr_srv {
	struct event_base *base;
	int getfd_same;
	int base_same;
	int getcb_same;
	short enabled_after_new;
	int write_ret;
	size_t outlen_after_write;
	int writecb_calls;
	size_t outlen_in_writecb;
	int events;
};

static void wr_writecb(struct bufferevent *bev, void *arg)
{
	struct wr_srv *s = arg;
	s->writecb_calls++;
	s->outlen_in_writecb = evbuffer_get_length(bufferevent_get_output(bev));
	bufferevent_free(bev);
}

static void wr_event(struct bufferevent *bev, short what, void *arg)
{
	struct wr_srv *s = arg;
	(void)what;
	s->events++;
	bufferevent_free(bev);
}

static void wr_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct wr_srv *s = arg;
	struct bufferevent *bev;
	(void)sa;
	(void)socklen;
	evconnlistener_disable(lev);
	bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		evutil_closesocket(fd);
		return;
	}
	s->enabled_after_new = bufferevent_get_enabled(bev);
	s->getfd_same = bufferevent_getfd(bev) == fd;
	s->base_same = bufferevent_get_base(bev) == s->base;
	bufferevent_setcb(bev, NULL, wr_writecb, wr_event, s);
	{
		bufferevent_data_cb rcb = NULL, wcb = NULL;
		bufferevent_event_cb ecb = NULL;
		void *ctx = NULL;
		bufferevent_getcb(bev, &rcb, &wcb, &ecb, &ctx);
		s->getcb_same = rcb == NULL && wcb == wr_writecb &&
		    ecb == wr_event && ctx == s;
	}
	s->write_ret = bufferevent_write(bev, "hello\n", 6);
	s->outlen_after_write =
	    evbuffer_get_length(bufferevent_get_output(bev));
}

static void sc_bev_write(void)
{
	struct event_base *base = event_base_new();
	struct evconnlistener *lev;
	struct wr_srv s;
	char buf[16];
	size_t got;
	int c, r;
	scenario_alarm("bevwrite", 15);
	memset(&s, 0, sizeof s);
	s.base = base;
	s.write_ret = -9;
	lev = bind_lo(base, wr_accept, &s, 0, -1);
	if (!lev) {
		printf("bevwrite: created=no\n");
		goto out;
	}
	c = connect_lev(lev);
	r = event_base_dispatch(base);
	printf("bevwrite: connected=%s enabled_after_new=%s write=%d "
	    "outlen_after_write=%lu dispatch=%d\n", yn(c >= 0),
	    evkinds(s.enabled_after_new), s.write_ret,
	    (unsigned long)s.outlen_after_write, r);
	printf("bevwrite: writecb_calls=%d outlen_in_writecb=%lu events=%d\n",
	    s.writecb_calls, (unsigned long)s.outlen_in_writecb, s.events);
	printf("bevwrite: getfd_same=%s get_base_same=%s getcb_same=%s\n",
	    yn(s.getfd_same), yn(s.base_same), yn(s.getcb_same));
	if (c >= 0) {
		memset(buf, 0, sizeof buf);
		got = read_n(c, buf, 6, 2000);
		printf("bevwrite: client_got=%lu data_ok=%s eof=%s\n",
		    (unsigned long)got, yn(got == 6 &&
		    memcmp(buf, "hello\n", 6) == 0), yn(peer_eof(c, 2000)));
		close(c);
	}
	evconnlistener_free(lev);
out:
	event_base_free(base);
	end();
}

/* bufferevent_read of the input; data sent before the peer's EOF. */
struct rd_srv {
	struct event_base *base;
	int free_in_readcb;
	int read_calls;
	size_t total;
	char first[16];
	size_t remaining;
	int events;
	char what[64];
	size_t total_at_event;
};

static void rd_read(struct bufferevent *bev, void *arg)
{
	struct rd_srv *s = arg;
	char buf[1024];
	size_t n;
	s->read_calls++;
	while ((n = bufferevent_read(bev, buf, sizeof buf)) > 0) {
		if (s->total == 0) {
			size_t k = n < sizeof s->first - 1 ? n :
			    sizeof s->first - 1;
			memcpy(s->first, buf, k);
			s->first[k] = '\0';
		}
		s->total += n;
	}
	s->remaining = evbuffer_get_length(bufferevent_get_input(bev));
	if (s->free_in_readcb)
		bufferevent_free(bev);
}

static void rd_event(struct bufferevent *bev, short what, void *arg)
{
	struct rd_srv *s = arg;
	if (s->events++ == 0) {
		bevwhat(what, s->what, sizeof s->what);
		s->total_at_event = s->total;
	}
	bufferevent_free(bev);
}

static void rd_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct rd_srv *s = arg;
	struct bufferevent *bev;
	(void)sa;
	(void)socklen;
	evconnlistener_disable(lev);
	bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		evutil_closesocket(fd);
		return;
	}
	bufferevent_setcb(bev, rd_read, NULL, rd_event, s);
	bufferevent_enable(bev, EV_READ);
}

static void sc_bev_read(void)
{
	struct event_base *base = event_base_new();
	struct evconnlistener *lev;
	struct rd_srv s;
	char big[3000];
	ssize_t w;
	int c, r;
	scenario_alarm("bevread", 15);
	memset(&s, 0, sizeof s);
	s.base = base;
	s.free_in_readcb = 1;
	strcpy(s.what, "none");
	lev = bind_lo(base, rd_accept, &s, 0, -1);
	if (!lev) {
		printf("bevread: created=no\n");
		goto out;
	}
	c = connect_lev(lev);
	w = c >= 0 ? send(c, "ping\n", 5, MSG_NOSIGNAL) : -1;
	r = event_base_dispatch(base);
	printf("bevread: sent=%d read=%lu data_ok=%s remaining=%lu "
	    "events=%d dispatch=%d client_eof=%s\n", (int)w,
	    (unsigned long)s.total, yn(strcmp(s.first, "ping\n") == 0),
	    (unsigned long)s.remaining, s.events, r,
	    yn(c >= 0 && peer_eof(c, 2000)));
	if (c >= 0)
		close(c);

	/* Data, then the peer closes, all before the loop runs. */
	memset(&s, 0, sizeof s);
	s.base = base;
	strcpy(s.what, "none");
	memset(big, 'z', sizeof big);
	c = connect_lev(lev);
	w = c >= 0 ? send(c, big, sizeof big, MSG_NOSIGNAL) : -1;
	if (c >= 0)
		close(c);
	evconnlistener_enable(lev);
	r = event_base_dispatch(base);
	printf("beveof: sent=%d read_before_event=%lu events=%d what=%s "
	    "dispatch=%d\n", (int)w, (unsigned long)s.total_at_event,
	    s.events, s.what, r);
	evconnlistener_free(lev);
out:
	event_base_free(base);
	end();
}

/* bufferevent_free with output still pending: the output is discarded
 * and, with BEV_OPT_CLOSE_ON_FREE, the peer sees end-of-file. */
struct fr_srv {
	struct event_base *base;
	int write_ret;
};

static void fr_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	static char junk[65536];
	struct fr_srv *s = arg;
	struct bufferevent *bev;
	(void)sa;
	(void)socklen;
	evconnlistener_disable(lev);
	bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		evutil_closesocket(fd);
		return;
	}
	memset(junk, 'j', sizeof junk);
	s->write_ret = bufferevent_write(bev, junk, sizeof junk);
	bufferevent_free(bev);
}

static void sc_bev_free_pending(void)
{
	struct event_base *base = event_base_new();
	struct evconnlistener *lev;
	struct fr_srv s;
	char buf[4096];
	size_t total = 0;
	int c, r, eof = 0;
	scenario_alarm("bevfree", 15);
	memset(&s, 0, sizeof s);
	s.base = base;
	s.write_ret = -9;
	lev = bind_lo(base, fr_accept, &s, 0, -1);
	if (!lev) {
		printf("bevfree: created=no\n");
		goto out;
	}
	c = connect_lev(lev);
	r = event_base_dispatch(base);
	while (c >= 0 && wait_readable(c, 2000)) {
		ssize_t n = recv(c, buf, sizeof buf, 0);
		if (n <= 0) {
			eof = n == 0;
			break;
		}
		total += (size_t)n;
	}
	printf("bevfree pending output: connected=%s write=%d dispatch=%d "
	    "client_got=%lu eof=%s\n", yn(c >= 0), s.write_ret, r,
	    (unsigned long)total, yn(eof));
	if (c >= 0)
		close(c);
	evconnlistener_free(lev);
out:
	event_base_free(base);
	end();
}

/* The evbuffer calls the echo subset relies on. */
static void sc_evbuffer(void)
{
	struct evbuffer *a = evbuffer_new(), *b = evbuffer_new();
	char buf[32];
	int r1, r2, r3, r4, r5;
	ev_ssize_t cp;
	scenario_alarm("evbuffer", 10);
	memset(buf, 0, sizeof buf);
	r1 = evbuffer_add(a, "hello world", 11);
	printf("evbuffer: add=%d len=%lu", r1,
	    (unsigned long)evbuffer_get_length(a));
	cp = evbuffer_copyout(a, buf, 5);
	printf(" copyout=%ld copy_ok=%s len=%lu", (long)cp,
	    yn(memcmp(buf, "hello", 5) == 0),
	    (unsigned long)evbuffer_get_length(a));
	r2 = evbuffer_drain(a, 6);
	printf(" drain=%d len=%lu", r2, (unsigned long)evbuffer_get_length(a));
	r3 = evbuffer_add(b, "abc", 3);
	r4 = evbuffer_add_buffer(b, a);
	printf(" add_buffer=%d src_len=%lu dst_len=%lu", r3 | r4,
	    (unsigned long)evbuffer_get_length(a),
	    (unsigned long)evbuffer_get_length(b));
	memset(buf, 0, sizeof buf);
	r5 = evbuffer_remove(b, buf, sizeof buf);
	printf(" remove=%d remove_ok=%s len=%lu\n", r5,
	    yn(strcmp(buf, "abcworld") == 0),
	    (unsigned long)evbuffer_get_length(b));
	r1 = evbuffer_drain(b, 100);
	printf("evbuffer: drain_empty=%d remove_empty=%d\n", r1,
	    evbuffer_remove(b, buf, sizeof buf));
	evbuffer_free(a);
	evbuffer_free(b);
	end();
}

/* ------------------------------------------------------------------ */
/* EMFILE: in a child process whose descriptor limit is exhausted, the
 * accept failure reaches the error callback; once the limit is raised the
 * queued connection is still delivered. */

static void emfile_child(void)
{
	struct event_base *base;
	struct evconnlistener *lev;
	struct rlimit old, lim;
	struct acc a;
	int c, probe, r;
	alarm(15);
	transcript_scenario = "emfile(child)";
	base = event_base_new();
	acc_init(&a, base, 1);
	lev = bind_lo(base, on_accept, &a, 0, -1);
	if (!base || !lev) {
		printf("emfile: created=no\n");
		return;
	}
	evconnlistener_set_error_cb(lev, on_error);
	c = connect_lev(lev);
	probe = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || probe < 0 || getrlimit(RLIMIT_NOFILE, &old) < 0) {
		printf("emfile: setup failed\n");
		return;
	}
	close(probe);
	lim = old;
	lim.rlim_cur = (rlim_t)probe; /* the lowest free descriptor */
	if (setrlimit(RLIMIT_NOFILE, &lim) < 0) {
		printf("emfile: setrlimit failed\n");
		return;
	}
	r = event_base_dispatch(base);
	setrlimit(RLIMIT_NOFILE, &old);
	printf("emfile: accepted=%d errorcb_calls=%d err=%s dispatch=%d\n",
	    a.count, a.err_calls, a.err_calls ? errname(a.err) : "none", r);
	evconnlistener_enable(lev);
	r = event_base_dispatch(base);
	printf("emfile: after_raise accepted=%d errorcb_calls=%d dispatch=%d\n",
	    a.count, a.err_calls, r);
	close(c);
	evconnlistener_free(lev);
	event_base_free(base);
}

static void sc_emfile(void)
{
	pid_t pid;
	int st = 0;
	scenario_alarm("emfile", 30);
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		printf("emfile: fork failed\n");
		end();
		return;
	}
	if (pid == 0) {
		emfile_child();
		fflush(stdout);
		_exit(0);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st))
		printf("emfile: child exit=%d\n", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("emfile: child signal=%d\n", WTERMSIG(st));
	end();
}

/* ------------------------------------------------------------------ */

int main(void)
{
	static const unsigned accept_combos[] = {
		0,
		LEV_OPT_LEAVE_SOCKETS_BLOCKING,
		LEV_OPT_CLOSE_ON_EXEC,
		LEV_OPT_LEAVE_SOCKETS_BLOCKING | LEV_OPT_CLOSE_ON_EXEC,
	};
	static const unsigned bind_combos[] = {
		0,
		LEV_OPT_REUSEABLE,
		LEV_OPT_REUSEABLE_PORT,
		LEV_OPT_CLOSE_ON_EXEC,
		LEV_OPT_DEFERRED_ACCEPT,
		LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT |
		    LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_DEFERRED_ACCEPT,
	};
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	transcript_start();
	printf("start: evthread_use_pthreads=%d\n", evthread_use_pthreads());

	sc_info();
	sc_randport("randport", 0);
	sc_randport("randport_threadsafe", LEV_OPT_THREADSAFE);
	sc_errorcb();
	sc_free_in_cb("freeincb", 0);
	sc_free_in_cb("freeincb_threadsafe", LEV_OPT_THREADSAFE);
	sc_closed_clients();
	sc_start_disabled();
	sc_disable_queued();
	sc_null_cb();
	sc_adopt(16);
	sc_adopt(-1);
	sc_adopt(0);
	sc_adopt_bad();
	sc_bad_input();
	for (i = 0; i < sizeof accept_combos / sizeof accept_combos[0]; ++i)
		sc_accept_flags(accept_combos[i]);
	for (i = 0; i < sizeof bind_combos / sizeof bind_combos[0]; ++i)
		sc_bind_opts(bind_combos[i]);
	sc_bind_fail();
	sc_unix();
	sc_ipv6();
	sc_loop();
	sc_cross_thread();
	sc_echo();
	sc_bev_write();
	sc_bev_read();
	sc_bev_free_pending();
	sc_evbuffer();
	sc_emfile();
	printf("end\n");
	return 0;
}

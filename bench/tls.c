/* TLS benchmark: stream throughput and handshakes per second of TLS
 * bufferevents over loopback TCP, server and client in one process on one
 * base. The same source builds against evasio (bench-tls-evasio) and real
 * libevent + libevent_openssl (bench-tls-libevent); run both, compare.
 *
 *   bench-tls-evasio CERT.pem KEY.pem [--mib N] [--handshakes-seconds S] [--nodelay]
 *                    [--serve PORT | --connect PORT]
 *
 * throughput: the client sends N MiB (default 256) to a TLS echo server
 *   and reads it back, checking every byte; MiB/s counts the bytes sent.
 * handshakes: for S seconds (default 5), connection after connection: a
 *   full handshake (TLS 1.3, P-256 certificate, no session resumption), one
 *   byte echoed, both ends freed; handshakes/s counts completed ones.
 * --nodelay sets TCP_NODELAY on both ends (libevent's socket BIO writes a
 * handshake's records one by one, which Nagle's algorithm holds back).
 * --serve PORT: only the echo server, on 127.0.0.1:PORT, until SIGTERM or SIGINT.
 * --connect PORT: only the client, against a TLS echo server there (another
 *   build's --serve, or bench-tls-echo-asio): the same client for all servers.
 * System calls per MiB: run under bench/strace-count.sh. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static struct event_base *base;
static SSL_CTX *server_ctx, *client_ctx;
static struct sockaddr_in addr;
static char chunk[65536];
static int nodelay; /* --nodelay: TCP_NODELAY on both ends */

static void set_nodelay(evutil_socket_t fd)
{
	int one = 1;
	if (nodelay && fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the server: TLS echo ---- */

static void echo_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	evbuffer_add_buffer(bufferevent_get_output(bev), bufferevent_get_input(bev));
}

static void echo_event(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		bufferevent_free(bev);
}

static void accepted(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int len, void *arg)
{
	SSL *ssl = SSL_new(server_ctx);
	struct bufferevent *bev = bufferevent_openssl_socket_new(base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	(void)l;
	(void)sa;
	(void)len;
	(void)arg;
	set_nodelay(fd);
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	bufferevent_setcb(bev, echo_read, NULL, echo_event, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* ---- the client ---- */

static struct bufferevent *connect_tls(void *arg, bufferevent_data_cb rd, bufferevent_event_cb ev)
{
	SSL *ssl = SSL_new(client_ctx);
	struct bufferevent *bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	bufferevent_setcb(bev, rd, NULL, ev, arg);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(bev, (struct sockaddr *)&addr, sizeof addr) < 0) {
		perror("connect");
		exit(1);
	}
	set_nodelay(bufferevent_getfd(bev));
	return bev;
}

struct stream {
	size_t total, sent, got;
	int bad;
};

static void stream_fill(struct bufferevent *bev, struct stream *s)
{
	/* Keep about 1 MiB queued ahead. */
	while (s->sent < s->total && evbuffer_get_length(bufferevent_get_output(bev)) < (1u << 20)) {
		size_t n = s->total - s->sent < sizeof chunk ? s->total - s->sent : sizeof chunk;
		bufferevent_write(bev, chunk, n);
		s->sent += n;
	}
}

static void stream_read(struct bufferevent *bev, void *arg)
{
	struct stream *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char buf[65536];
	int n;
	while ((n = evbuffer_remove(in, buf, sizeof buf)) > 0) {
		size_t i, off = s->got % sizeof chunk;
		for (i = 0; i < (size_t)n; ++i)
			if (buf[i] != chunk[(off + i) % sizeof chunk])
				s->bad = 1;
		s->got += (size_t)n;
	}
	if (s->got >= s->total || s->bad)
		event_base_loopbreak(base);
}

static void stream_write(struct bufferevent *bev, void *arg)
{
	stream_fill(bev, arg);
}

static void stream_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		fprintf(stderr, "stream: connection ended (0x%x)\n", what);
		exit(1);
	}
}

static void throughput(size_t mib)
{
	struct stream s;
	struct bufferevent *bev;
	double t0, dt;
	memset(&s, 0, sizeof s);
	s.total = mib << 20;
	bev = connect_tls(&s, stream_read, stream_event);
	bufferevent_setcb(bev, stream_read, stream_write, stream_event, &s);
	bufferevent_setwatermark(bev, EV_WRITE, 256u << 10, 0);
	t0 = now();
	stream_fill(bev, &s);
	event_base_dispatch(base);
	dt = now() - t0;
	if (s.bad || s.got != s.total) {
		fprintf(stderr, "throughput: %zu of %zu bytes back%s\n", s.got, s.total,
		    s.bad ? ", corrupted" : "");
		exit(1);
	}
	printf("tls throughput: %zu MiB echoed in %.3f s: %.1f MiB/s\n", mib, dt, mib / dt);
	bufferevent_free(bev);
}

/* Handshakes: one connection at a time. */
static int handshakes;
static double hs_end;

static void hs_next(void);

static void hs_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	if (evbuffer_get_length(bufferevent_get_input(bev)) == 0)
		return;
	++handshakes;
	bufferevent_free(bev);
	if (now() < hs_end)
		hs_next();
	else
		event_base_loopbreak(base);
}

static void hs_event(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	if (what & BEV_EVENT_CONNECTED) {
		bufferevent_write(bev, "x", 1);
		return;
	}
	fprintf(stderr, "handshake failed (0x%x)\n", what);
	exit(1);
}

static void hs_next(void)
{
	connect_tls(NULL, hs_read, hs_event);
}

static void handshake_rate(double seconds)
{
	double t0 = now();
	hs_end = t0 + seconds;
	hs_next();
	event_base_dispatch(base);
	printf("tls handshakes: %d in %.3f s: %.1f handshakes/s\n", handshakes, now() - t0,
	    handshakes / (now() - t0));
}

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	event_base_loopexit(base, NULL);
}

int main(int argc, char **argv)
{
	struct evconnlistener *l;
	socklen_t len = sizeof addr;
	size_t mib = 256;
	double hs_seconds = 5;
	int i, serve_port = 0, connect_port = 0;
	if (argc < 3) {
		fprintf(stderr, "usage: %s CERT.pem KEY.pem [--mib N] [--handshakes-seconds S]\n", argv[0]);
		return 2;
	}
	for (i = 3; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--mib"))
			mib = strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--handshakes-seconds"))
			hs_seconds = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--serve"))
			serve_port = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--connect"))
			connect_port = atoi(argv[i + 1]);
	}
	for (i = 3; i < argc; ++i)
		if (!strcmp(argv[i], "--nodelay"))
			nodelay = 1;
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < (int)sizeof chunk; ++i)
		chunk[i] = (char)(i * 131 + i / 65);
	server_ctx = SSL_CTX_new(TLS_server_method());
	client_ctx = SSL_CTX_new(TLS_client_method());
	if (SSL_CTX_use_certificate_chain_file(server_ctx, argv[1]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(server_ctx, argv[2], SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	/* Full handshakes every time: no tickets, no session cache. */
	SSL_CTX_set_options(server_ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(server_ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_session_cache_mode(client_ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(server_ctx, 0);
	base = event_base_new();
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect_port) {
		addr.sin_port = htons((unsigned short)connect_port);
		if (mib)
			throughput(mib);
		if (hs_seconds > 0)
			handshake_rate(hs_seconds);
		event_base_free(base);
		return 0;
	}
	addr.sin_port = htons((unsigned short)serve_port);
	l = evconnlistener_new_bind(base, accepted, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
	    -1, (struct sockaddr *)&addr, sizeof addr);
	if (!l) {
		perror("listen");
		return 1;
	}
	getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&addr, &len);
	if (serve_port) {
		struct event *stop = evsignal_new(base, SIGTERM, on_stop, NULL);
		struct event *intr = evsignal_new(base, SIGINT, on_stop, NULL);
		evsignal_add(stop, NULL);
		evsignal_add(intr, NULL);
		printf("tls echo: listening on %d\n", serve_port);
		fflush(stdout);
		event_base_dispatch(base);
		event_free(stop);
		event_free(intr);
		evconnlistener_free(l);
		event_base_free(base);
		return 0;
	}
	if (mib)
		throughput(mib);
	if (hs_seconds > 0)
		handshake_rate(hs_seconds);
	evconnlistener_free(l);
	event_base_free(base);
	SSL_CTX_free(server_ctx);
	SSL_CTX_free(client_ctx);
	return 0;
}

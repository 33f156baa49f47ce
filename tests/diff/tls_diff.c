/* Differential transcript of TLS bufferevents (event2/bufferevent_ssl.h):
 * handshakes on sockets and over pairs, data both ways, clean and dirty
 * closes, an untrusted server, garbage instead of a ClientHello, client
 * certificates, TLS 1.2 renegotiation, the getters. Certificates are made
 * by the openssl command at the start. Built against real libevent +
 * libevent_openssl and against evasio; the transcripts must be the same. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transcript.h"

static struct event_base *base;
static char dir[64];

static void certs(void)
{
	char cmd[2048];
	const char *ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
	strcpy(dir, "/tmp/evasio-tlsdiff-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(cmd, sizeof cmd,
	    "(cd %s && openssl req -x509 %s -keyout ca.key -out ca.pem -days 2 -subj /CN=ca && "
	    "openssl req -x509 %s -keyout other.key -out other.pem -days 2 -subj /CN=other && "
	    "openssl req %s -keyout server.key -out server.csr -subj /CN=localhost && "
	    "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 && "
	    "openssl req %s -keyout client.key -out client.csr -subj /CN=client && "
	    "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2"
	    ") >/dev/null 2>&1",
	    dir, ec, ec, ec, ec);
	if (system(cmd) != 0) {
		printf("openssl could not make the certificates\n");
		exit(1);
	}
}

static const char *path(const char *name)
{
	static char buf[4][128];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
	return buf[k];
}

static SSL_CTX *server_ctx(int require_client_cert)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX_use_certificate_file(ctx, path("server.pem"), SSL_FILETYPE_PEM);
	SSL_CTX_use_PrivateKey_file(ctx, path("server.key"), SSL_FILETYPE_PEM);
	if (require_client_cert) {
		SSL_CTX_load_verify_locations(ctx, path("ca.pem"), NULL);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	return ctx;
}

static SSL_CTX *client_ctx(const char *ca, int with_cert)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_load_verify_locations(ctx, path(ca), NULL);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (with_cert) {
		SSL_CTX_use_certificate_file(ctx, path("client.pem"), SSL_FILETYPE_PEM);
		SSL_CTX_use_PrivateKey_file(ctx, path("client.key"), SSL_FILETYPE_PEM);
	}
	return ctx;
}

/* ---- the two ends, logged by name ---- */

static int echo_server = 1;

static void log_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	const char *name = arg;
	size_t n = evbuffer_get_length(in);
	if (name[0] == 'S' && echo_server) {
		evbuffer_add_buffer(bufferevent_get_output(bev), in);
		return;
	}
	{
		char buf[128];
		size_t k = n < sizeof buf - 1 ? n : sizeof buf - 1;
		evbuffer_remove(in, buf, k);
		buf[k] = '\0';
		out("%s read %zu: %s", name, n, buf);
	}
}

static void log_event(struct bufferevent *bev, short what, void *arg)
{
	const char *name = arg;
	unsigned long e;
	int n = 0;
	out("%s event 0x%02x", name, (unsigned)what);
	while ((e = bufferevent_get_openssl_error(bev)) && n++ < 3)
		out("%s openssl error: %s", name, ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "(code)");
}

static struct bufferevent *make_end(evutil_socket_t fd, SSL_CTX *ctx, enum bufferevent_ssl_state st,
    const char *name)
{
	SSL *ssl = SSL_new(ctx);
	struct bufferevent *bev = bufferevent_openssl_socket_new(base, fd, ssl, st, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bev, log_read, NULL, log_event, (void *)name);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return bev;
}

/* A fixed window of the loop (no exit from the callbacks: an exit asked
 * for outside the loop would end the next window at once). */
static void run(long ms)
{
	struct timeval tv;
	ERR_clear_error();
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static void pair_fds(int sv[2])
{
	if (evutil_socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		perror("socketpair");
		exit(1);
	}
	evutil_make_socket_nonblocking(sv[0]);
	evutil_make_socket_nonblocking(sv[1]);
}

/* ---- scenarios ---- */

static void getters(void)
{
	SSL_CTX *ctx = client_ctx("ca.pem", 0);
	SSL *ssl = SSL_new(ctx);
	struct bufferevent *bev, *plain;
	begin("getters");
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	out("get_ssl is the SSL: %s", yn(bufferevent_openssl_get_ssl(bev) == ssl));
	out("allow dirty: %d", bufferevent_openssl_get_allow_dirty_shutdown(bev));
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 5);
	out("allow dirty after set(5): %d", bufferevent_openssl_get_allow_dirty_shutdown(bev));
	out("fd %d, underlying %s, error %lu", (int)bufferevent_getfd(bev),
	    yn(bufferevent_get_underlying(bev) != NULL), bufferevent_get_openssl_error(bev));
	plain = bufferevent_socket_new(base, -1, 0);
	out("plain: ssl %s, allow %d, error %lu", yn(bufferevent_openssl_get_ssl(plain) != NULL),
	    bufferevent_openssl_get_allow_dirty_shutdown(plain), bufferevent_get_openssl_error(plain));
	bufferevent_free(plain);
	bufferevent_free(bev);
	SSL_CTX_free(ctx);
	end();
}

static void handshake_and_echo(void)
{
	SSL_CTX *s = server_ctx(0), *c = client_ctx("ca.pem", 0);
	int sv[2];
	struct bufferevent *bs, *bc;
	begin("handshake on sockets, echo, clean close");
	pair_fds(sv);
	bs = make_end(sv[0], s, BUFFEREVENT_SSL_ACCEPTING, "S");
	bc = make_end(sv[1], c, BUFFEREVENT_SSL_CONNECTING, "C");
	bufferevent_write(bc, "hello", 5);
	run(300);
	out("versions equal: %s", yn(SSL_version(bufferevent_openssl_get_ssl(bs)) ==
	    SSL_version(bufferevent_openssl_get_ssl(bc))));
	SSL_shutdown(bufferevent_openssl_get_ssl(bc));
	run(300);
	bufferevent_free(bc);
	bufferevent_free(bs);
	SSL_CTX_free(s);
	SSL_CTX_free(c);
	end();
}

static void dirty_close(int allow)
{
	SSL_CTX *s = server_ctx(0), *c = client_ctx("ca.pem", 0);
	int sv[2];
	struct bufferevent *bs, *bc;
	begin(allow ? "close without close_notify, allowed" : "close without close_notify");
	pair_fds(sv);
	bs = make_end(sv[0], s, BUFFEREVENT_SSL_ACCEPTING, "S");
	bc = make_end(sv[1], c, BUFFEREVENT_SSL_CONNECTING, "C");
	bufferevent_openssl_set_allow_dirty_shutdown(bs, allow);
	run(300);
	bufferevent_free(bc);
	run(300);
	bufferevent_free(bs);
	SSL_CTX_free(s);
	SSL_CTX_free(c);
	end();
}

static void untrusted(void)
{
	SSL_CTX *s = server_ctx(0), *c = client_ctx("other.pem", 0);
	int sv[2];
	struct bufferevent *bs, *bc;
	begin("a client that does not trust the server");
	pair_fds(sv);
	bs = make_end(sv[0], s, BUFFEREVENT_SSL_ACCEPTING, "S");
	bc = make_end(sv[1], c, BUFFEREVENT_SSL_CONNECTING, "C");
	run(300);
	run(300);
	bufferevent_free(bc);
	bufferevent_free(bs);
	SSL_CTX_free(s);
	SSL_CTX_free(c);
	end();
}

static void garbage(void)
{
	SSL_CTX *s = server_ctx(0);
	int sv[2];
	char junk[600];
	struct bufferevent *bs;
	ssize_t w;
	begin("garbage instead of a ClientHello");
	pair_fds(sv);
	bs = make_end(sv[0], s, BUFFEREVENT_SSL_ACCEPTING, "S");
	memset(junk, 'G', sizeof junk);
	w = write(sv[1], junk, sizeof junk);
	(void)w;
	run(300);
	bufferevent_free(bs);
	close(sv[1]);
	SSL_CTX_free(s);
	end();
}

static void client_certs(void)
{
	int with;
	for (with = 1; with >= 0; --with) {
		SSL_CTX *s = server_ctx(1), *c = client_ctx("ca.pem", with);
		int sv[2];
		struct bufferevent *bs, *bc;
		begin(with ? "client certificate required, given" : "client certificate required, missing");
		pair_fds(sv);
		bs = make_end(sv[0], s, BUFFEREVENT_SSL_ACCEPTING, "S");
		bc = make_end(sv[1], c, BUFFEREVENT_SSL_CONNECTING, "C");
		bufferevent_write(bc, "cert?", 5);
		run(300);
		bufferevent_free(bc);
		bufferevent_free(bs);
		SSL_CTX_free(s);
		SSL_CTX_free(c);
		end();
	}
}

static void renegotiation(void)
{
	SSL_CTX *s = server_ctx(0), *c = client_ctx("ca.pem", 0);
	int sv[2];
	struct bufferevent *bs, *bc;
	begin("TLS 1.2 renegotiation");
	SSL_CTX_set_max_proto_version(s, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(c, TLS1_2_VERSION);
	SSL_CTX_set_options(s, SSL_OP_ALLOW_CLIENT_RENEGOTIATION);
	pair_fds(sv);
	bs = make_end(sv[0], s, BUFFEREVENT_SSL_ACCEPTING, "S");
	bc = make_end(sv[1], c, BUFFEREVENT_SSL_CONNECTING, "C");
	bufferevent_write(bc, "one", 3);
	run(300);
	out("renegotiate: %d", bufferevent_ssl_renegotiate(bc));
	bufferevent_write(bc, "two", 3);
	run(300);
	bufferevent_free(bc);
	bufferevent_free(bs);
	SSL_CTX_free(s);
	SSL_CTX_free(c);
	end();
}

static void over_pairs(void)
{
	SSL_CTX *s = server_ctx(0), *c = client_ctx("ca.pem", 0);
	struct bufferevent *p[2], *bs, *bc;
	begin("TLS filters over a bufferevent pair");
	bufferevent_pair_new(base, 0, p);
	bs = bufferevent_openssl_filter_new(base, p[0], SSL_new(s), BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE);
	bc = bufferevent_openssl_filter_new(base, p[1], SSL_new(c), BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE);
	out("underlying: %s", yn(bufferevent_get_underlying(bc) == p[1]));
	bufferevent_setcb(bs, log_read, NULL, log_event, "S");
	bufferevent_setcb(bc, log_read, NULL, log_event, "C");
	bufferevent_enable(bs, EV_READ | EV_WRITE);
	bufferevent_enable(bc, EV_READ | EV_WRITE);
	bufferevent_write(bc, "paired", 6);
	run(300);
	bufferevent_free(bc);
	bufferevent_free(bs);
	SSL_CTX_free(s);
	SSL_CTX_free(c);
	end();
}

int main(void)
{
	char rm[128];
	transcript_start();
	signal(SIGPIPE, SIG_IGN);
	certs();
	base = event_base_new();
	getters();
	handshake_and_echo();
	dirty_close(0);
	untrusted();
	garbage();
	client_certs();
	renegotiation();
	over_pairs();
	event_base_free(base);
	snprintf(rm, sizeof rm, "rm -rf %s", dir);
	if (system(rm) != 0)
		return 1;
	return 0;
}

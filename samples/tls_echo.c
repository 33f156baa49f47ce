/* The manual's chapter 8 echo server over TLS: each accepted connection
 * becomes a TLS bufferevent (bufferevent_openssl_socket_new, accepting)
 * that echoes what it reads.
 *
 * Usage: evasio-tls-echo CERT.pem KEY.pem [port]   (port 9877 by default)
 * Try:   openssl s_client -quiet -connect 127.0.0.1:9877
 */
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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void echo_read_cb(struct bufferevent *bev, void *ctx)
{
	(void)ctx;
	/* Copy all the data from the input buffer to the output buffer. */
	evbuffer_add_buffer(bufferevent_get_output(bev), bufferevent_get_input(bev));
}

static void echo_event_cb(struct bufferevent *bev, short events, void *ctx)
{
	(void)ctx;
	if (events & BEV_EVENT_ERROR) {
		unsigned long e;
		while ((e = bufferevent_get_openssl_error(bev)))
			fprintf(stderr, "tls: %s\n", ERR_error_string(e, NULL));
	}
	if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		bufferevent_free(bev);
}

static void accept_conn_cb(struct evconnlistener *listener, evutil_socket_t fd,
    struct sockaddr *address, int socklen, void *ctx)
{
	struct event_base *base = evconnlistener_get_base(listener);
	SSL *ssl = SSL_new(ctx);
	struct bufferevent *bev;
	(void)address;
	(void)socklen;
	if (!ssl) {
		evutil_closesocket(fd);
		return;
	}
	bev = bufferevent_openssl_socket_new(base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		evutil_closesocket(fd);
		return;
	}
	bufferevent_setcb(bev, echo_read_cb, NULL, echo_event_cb, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void accept_error_cb(struct evconnlistener *listener, void *ctx)
{
	int err = EVUTIL_SOCKET_ERROR();
	(void)ctx;
	fprintf(stderr, "Got an error %d (%s) on the listener. Shutting down.\n", err,
	    evutil_socket_error_to_string(err));
	event_base_loopexit(evconnlistener_get_base(listener), NULL);
}

static void on_signal(evutil_socket_t sig, short events, void *base)
{
	(void)sig;
	(void)events;
	event_base_loopexit(base, NULL);
}

int main(int argc, char **argv)
{
	struct event_base *base;
	struct evconnlistener *listener;
	struct event *stop;
	struct sockaddr_in sin;
	SSL_CTX *ctx;
	int port = 9877;

	if (argc < 3) {
		fprintf(stderr, "usage: %s CERT.pem KEY.pem [port]\n", argv[0]);
		return 2;
	}
	if (argc > 3)
		port = atoi(argv[3]);
	if (port <= 0 || port > 65535) {
		puts("Invalid port");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, argv[1]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[2], SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	base = event_base_new();
	if (!base) {
		puts("Couldn't open event base");
		return 1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)port);
	listener = evconnlistener_new_bind(base, accept_conn_cb, ctx,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1, (struct sockaddr *)&sin, sizeof(sin));
	if (!listener) {
		perror("Couldn't create listener");
		return 1;
	}
	evconnlistener_set_error_cb(listener, accept_error_cb);
	stop = evsignal_new(base, SIGTERM, on_signal, base);
	evsignal_add(stop, NULL);
	printf("tls echo: listening on 127.0.0.1:%d\n", port);
	fflush(stdout);
	event_base_dispatch(base);
	event_free(stop);
	evconnlistener_free(listener);
	event_base_free(base);
	SSL_CTX_free(ctx);
	return 0;
}

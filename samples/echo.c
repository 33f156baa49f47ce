/* evasio sample: a TCP echo server.
 *
 * Behaves as the echo server at the end of chapter 8 (evconnlistener) of
 * the libevent manual: it listens on 0.0.0.0 at the port given as the first
 * argument (9876 by default) and sends every byte a client writes straight
 * back to it. Each connection gets a bufferevent; a connection is dropped
 * when the client closes it or on a socket error. An accept() error stops
 * the server.
 *
 * It uses only libevent's public API, so the same source builds against
 * evasio (-levasio) and against real libevent (-levent).
 *
 *   evasio-echo [port]
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum { ECHO_DEFAULT_PORT = 9876 };

/* Data arrived: hand all of it back to the client. The chunks are moved
 * from the input buffer to the output buffer, not copied. */
static void on_readable(struct bufferevent *conn, void *unused)
{
	struct evbuffer *from_client = bufferevent_get_input(conn);
	struct evbuffer *to_client = bufferevent_get_output(conn);

	(void)unused;
	evbuffer_add_buffer(to_client, from_client);
}

/* The client went away (EOF) or the socket failed: drop the connection,
 * which also closes its socket (BEV_OPT_CLOSE_ON_FREE). */
static void on_conn_event(struct bufferevent *conn, short what, void *unused)
{
	(void)unused;
	if (what & BEV_EVENT_ERROR)
		perror("Error from bufferevent");
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		bufferevent_free(conn);
}

/* A client connected: wrap its socket in a bufferevent and start
 * reading and writing. */
static void on_accept(struct evconnlistener *listener, evutil_socket_t sock,
    struct sockaddr *peer, int peer_len, void *unused)
{
	struct event_base *base = evconnlistener_get_base(listener);
	struct bufferevent *conn;

	(void)peer;
	(void)peer_len;
	(void)unused;
	conn = bufferevent_socket_new(base, sock, BEV_OPT_CLOSE_ON_FREE);
	if (conn == NULL) {
		fprintf(stderr, "Couldn't set up a connection\n");
		evutil_closesocket(sock);
		return;
	}
	bufferevent_setcb(conn, on_readable, NULL, on_conn_event, NULL);
	bufferevent_enable(conn, EV_READ | EV_WRITE);
}

/* accept() failed: report why and leave the event loop. */
static void on_accept_error(struct evconnlistener *listener, void *unused)
{
	int code = EVUTIL_SOCKET_ERROR();

	(void)unused;
	fprintf(stderr, "Got an error %d (%s) on the listener. "
	    "Shutting down.\n", code, evutil_socket_error_to_string(code));
	event_base_loopexit(evconnlistener_get_base(listener), NULL);
}

/* The port from the command line as atoi() would read it (leading digits,
 * trailing text ignored), or 0 when it is not a usable port. */
static int parse_port(const char *text)
{
	long value = strtol(text, NULL, 10);

	if (value <= 0 || value > 65535)
		return 0;
	return (int)value;
}

int main(int argc, char **argv)
{
	struct event_base *base;
	struct evconnlistener *listener;
	struct sockaddr_in any;
	int port = ECHO_DEFAULT_PORT;

	if (argc > 1)
		port = parse_port(argv[1]);
	if (port == 0) {
		puts("Invalid port");
		return 1;
	}

	base = event_base_new();
	if (base == NULL) {
		puts("Couldn't open event base");
		return 1;
	}

	/* 0.0.0.0:port; zero the whole struct first so that no padding or
	 * platform-specific field holds garbage. */
	memset(&any, 0, sizeof any);
	any.sin_family = AF_INET;
	any.sin_addr.s_addr = htonl(INADDR_ANY);
	any.sin_port = htons((unsigned short)port);

	listener = evconnlistener_new_bind(base, on_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
	    (struct sockaddr *)&any, (int)sizeof any);
	if (listener == NULL) {
		perror("Couldn't create listener");
		event_base_free(base);
		return 1;
	}
	evconnlistener_set_error_cb(listener, on_accept_error);

	event_base_dispatch(base);

	evconnlistener_free(listener);
	event_base_free(base);
	return 0;
}

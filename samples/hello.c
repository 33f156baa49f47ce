/* hello: greets every client, closes once the greeting is flushed, and stops
 * cleanly on SIGINT (an evsignal event calling event_base_loopexit).
 * Usage: evasio-hello [port]   (port 9877 by default) */
#define _POSIX_C_SOURCE 200809L
#include <event2/bufferevent.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char greeting[] = "Hello, World!\n";

/* The output is empty: the greeting is out, the connection can go. */
static void greeting_sent(struct bufferevent *bev, void *arg)
{
	(void)arg;
	bufferevent_free(bev);
}

static void conn_event(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		bufferevent_free(bev);
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct event_base *base = arg;
	struct bufferevent *bev;
	(void)lev; (void)sa; (void)socklen;
	bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		fprintf(stderr, "hello: cannot make a bufferevent\n");
		evutil_closesocket(fd);
		return;
	}
	bufferevent_setcb(bev, NULL, greeting_sent, conn_event, NULL);
	bufferevent_enable(bev, EV_WRITE);
	bufferevent_disable(bev, EV_READ);
	bufferevent_write(bev, greeting, sizeof greeting - 1);
}

static void on_sigint(evutil_socket_t sig, short what, void *arg)
{
	struct event_base *base = arg;
	struct timeval soon = {0, 100000};
	(void)sig; (void)what;
	printf("hello: interrupted, exiting in 0.1 s\n");
	fflush(stdout);
	event_base_loopexit(base, &soon);
}

int main(int argc, char **argv)
{
	struct event_base *base;
	struct evconnlistener *lev;
	struct event *sigint;
	struct sockaddr_in sin;
	int port = argc > 1 ? atoi(argv[1]) : 9877;

	if (port <= 0 || port > 65535) {
		fprintf(stderr, "hello: invalid port\n");
		return 1;
	}
	base = event_base_new();
	if (!base)
		return 1;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	lev = evconnlistener_new_bind(base, on_accept, base,
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE, -1,
	    (struct sockaddr *)&sin, sizeof sin);
	if (!lev) {
		perror("hello: cannot listen");
		return 1;
	}
	sigint = evsignal_new(base, SIGINT, on_sigint, base);
	if (!sigint || event_add(sigint, NULL) < 0) {
		fprintf(stderr, "hello: cannot watch SIGINT\n");
		return 1;
	}
	printf("hello: listening on port %d\n", port);
	fflush(stdout);
	event_base_dispatch(base);
	evconnlistener_free(lev);
	event_free(sigint);
	event_base_free(base);
	printf("hello: done\n");
	return 0;
}

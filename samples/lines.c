/* lines: a line-based service. Each line (LF or CRLF) is answered with its
 * upper-case copy; "quit" says goodbye and closes; a connection idle for
 * IDLE_SECONDS is told so and closed (a timer event per connection, reset
 * on every line).
 * Usage: evasio-lines [port] [idle-seconds]   (9878 and 10 by default) */
#define _POSIX_C_SOURCE 200809L
#include <event2/bufferevent.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct timeval idle;

struct conn {
	struct bufferevent *bev;
	struct event *timer;
	int closing;
};

static void conn_free(struct conn *c)
{
	event_free(c->timer);
	bufferevent_free(c->bev);
	free(c);
}

/* After a goodbye: close once it is written. */
static void flushed_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	(void)bev;
	if (c->closing)
		conn_free(c);
}

static void say_goodbye(struct conn *c, const char *why)
{
	evbuffer_add_printf(bufferevent_get_output(c->bev), "%s\r\n", why);
	c->closing = 1;
	event_del(c->timer);
	bufferevent_disable(c->bev, EV_READ);
}

static void idle_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what;
	say_goodbye(arg, "idle too long, bye");
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer *out = bufferevent_get_output(bev);
	char *line;
	size_t len, i;

	while (!c->closing && (line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF))) {
		if (strcmp(line, "quit") == 0) {
			say_goodbye(c, "bye");
		} else {
			for (i = 0; i < len; i++)
				line[i] = (char)toupper((unsigned char)line[i]);
			evbuffer_add(out, line, len);
			evbuffer_add(out, "\r\n", 2);
		}
		free(line);
	}
	if (!c->closing)
		event_add(c->timer, &idle);  /* reschedules the idle timeout */
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_free(arg);
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct event_base *base = arg;
	struct conn *c = calloc(1, sizeof *c);
	(void)lev; (void)sa; (void)socklen;
	if (!c) {
		evutil_closesocket(fd);
		return;
	}
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(base, idle_cb, c);
	if (!c->bev || !c->timer) {
		if (c->bev) bufferevent_free(c->bev); else evutil_closesocket(fd);
		if (c->timer) event_free(c->timer);
		free(c);
		return;
	}
	bufferevent_setcb(c->bev, read_cb, flushed_cb, event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	event_add(c->timer, &idle);
}

int main(int argc, char **argv)
{
	struct event_base *base;
	struct evconnlistener *lev;
	struct sockaddr_in sin;
	int port = argc > 1 ? atoi(argv[1]) : 9878;

	idle.tv_sec = argc > 2 ? atoi(argv[2]) : 10;
	idle.tv_usec = 0;
	if (port <= 0 || port > 65535 || idle.tv_sec <= 0) {
		fprintf(stderr, "lines: invalid port or idle time\n");
		return 1;
	}
	base = event_base_new();
	if (!base)
		return 1;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)port);
	lev = evconnlistener_new_bind(base, on_accept, base,
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE, -1,
	    (struct sockaddr *)&sin, sizeof sin);
	if (!lev) {
		perror("lines: cannot listen");
		return 1;
	}
	printf("lines: listening on port %d, idle timeout %ld s\n", port, (long)idle.tv_sec);
	fflush(stdout);
	event_base_dispatch(base);
	evconnlistener_free(lev);
	event_base_free(base);
	return 0;
}

/* proxy: a TCP proxy in the style of libevent's le-proxy, without TLS.
 * Each accepted client gets a connection to the upstream: by
 * bufferevent_socket_connect() to a numeric address, or by
 * bufferevent_socket_connect_hostname() through an evdns_base for a name
 * (resolved per connection, as le-proxy does); bytes are copied both ways. Backpressure: each side's input is capped by a
 * read high watermark, and a side stops reading while the other side's
 * output holds more than MAX_OUTPUT, until that output has drained to half.
 * When one side ends, the other is closed once its output is flushed.
 * Usage: evasio-proxy <listen-port> <upstream-address:port> [nameserver]
 *   upstream-address: numeric, or a name resolved from /etc/hosts and then
 *   by the nameserver given (ip[:port]) or those of /etc/resolv.conf. */
#define _POSIX_C_SOURCE 200809L
#include <event2/bufferevent.h>
#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INPUT (256 * 1024)
#define MAX_OUTPUT (512 * 1024)

static struct sockaddr_storage upstream;
static int upstream_len;
static char upstream_host[256];   /* set when the upstream is a name */
static int upstream_port;
static struct evdns_base *dns;

static void read_cb(struct bufferevent *bev, void *peer);
static void event_cb(struct bufferevent *bev, short what, void *peer);

/* The output of this side drained to half: let the other side read again. */
static void drained_cb(struct bufferevent *bev, void *peer)
{
	bufferevent_setcb(bev, read_cb, NULL, event_cb, peer);
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	if (peer)
		bufferevent_enable(peer, EV_READ);
}

/* The other side is gone and our output is flushed: close. */
static void close_when_flushed(struct bufferevent *bev, void *arg)
{
	(void)arg;
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_free(bev);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct bufferevent *peer = arg;
	struct evbuffer *src = bufferevent_get_input(bev);
	struct evbuffer *dst;

	if (!peer) {
		evbuffer_drain(src, evbuffer_get_length(src));
		return;
	}
	dst = bufferevent_get_output(peer);
	evbuffer_add_buffer(dst, src);
	if (evbuffer_get_length(dst) >= MAX_OUTPUT) {
		/* Stop reading here until the peer has written half of it. */
		bufferevent_setcb(peer, read_cb, drained_cb, event_cb, bev);
		bufferevent_setwatermark(peer, EV_WRITE, MAX_OUTPUT / 2, MAX_OUTPUT);
		bufferevent_disable(bev, EV_READ);
	}
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct bufferevent *peer = arg;

	if (what & BEV_EVENT_CONNECTED)
		return;
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	if (what & BEV_EVENT_ERROR) {
		int err = EVUTIL_SOCKET_ERROR();
		int dns_err = bufferevent_socket_get_dns_error(bev);
		if (dns_err)
			fprintf(stderr, "proxy: cannot resolve %s: %s\n", upstream_host,
			    evutil_gai_strerror(dns_err));
		else if (err)
			fprintf(stderr, "proxy: %s\n", evutil_socket_error_to_string(err));
	}
	if (peer) {
		/* Pass on what is left, then close the peer once it is written. */
		read_cb(bev, peer);
		bufferevent_setcb(peer, NULL, close_when_flushed, NULL, NULL);
		bufferevent_disable(peer, EV_READ);
		if (evbuffer_get_length(bufferevent_get_output(peer)) == 0)
			bufferevent_free(peer);
		else
			bufferevent_enable(peer, EV_WRITE);
	}
	bufferevent_free(bev);
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct event_base *base = arg;
	struct bufferevent *in, *out;
	(void)lev; (void)sa; (void)socklen;

	in = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	out = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!in || !out) {
		if (in) bufferevent_free(in); else evutil_closesocket(fd);
		if (out) bufferevent_free(out);
		return;
	}
	if ((upstream_host[0]
		? bufferevent_socket_connect_hostname(out, dns, AF_UNSPEC, upstream_host, upstream_port)
		: bufferevent_socket_connect(out, (struct sockaddr *)&upstream, upstream_len)) < 0) {
		perror("proxy: connect");
		bufferevent_free(in);
		bufferevent_free(out);
		return;
	}
	bufferevent_setcb(in, read_cb, NULL, event_cb, out);
	bufferevent_setcb(out, read_cb, NULL, event_cb, in);
	bufferevent_setwatermark(in, EV_READ, 0, MAX_INPUT);
	bufferevent_setwatermark(out, EV_READ, 0, MAX_INPUT);
	bufferevent_enable(in, EV_READ | EV_WRITE);
	bufferevent_enable(out, EV_READ | EV_WRITE);
}

int main(int argc, char **argv)
{
	struct event_base *base;
	struct evconnlistener *lev;
	struct sockaddr_in sin;
	int port;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: %s <listen-port> <upstream-address:port> [nameserver]\n", argv[0]);
		return 1;
	}
	port = atoi(argv[1]);
	upstream_len = (int)sizeof upstream;
	if (evutil_parse_sockaddr_port(argv[2], (struct sockaddr *)&upstream, &upstream_len) < 0) {
		/* host:port with a name */
		const char *colon = strrchr(argv[2], ':');
		size_t n = colon ? (size_t)(colon - argv[2]) : 0;
		upstream_port = colon ? atoi(colon + 1) : 0;
		if (!n || n >= sizeof upstream_host || upstream_port <= 0 || upstream_port > 65535) {
			fprintf(stderr, "proxy: bad upstream address\n");
			return 1;
		}
		memcpy(upstream_host, argv[2], n);
	}
	if (port <= 0 || port > 65535) {
		fprintf(stderr, "proxy: bad port\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	if (!base)
		return 1;
	if (upstream_host[0]) {
		/* No nameserver given: /etc/resolv.conf's (if it names none, only
		 * /etc/hosts answers). */
		dns = argc == 4 ? NULL : evdns_base_new(base,
		    EVDNS_BASE_INITIALIZE_NAMESERVERS | EVDNS_BASE_DISABLE_WHEN_INACTIVE);
		if (!dns) {
			dns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
			if (!dns || evdns_base_load_hosts(dns, "/etc/hosts") < 0 ||
			    (argc == 4 && evdns_base_nameserver_ip_add(dns, argv[3]) != 0)) {
				fprintf(stderr, "proxy: cannot set up the resolver\n");
				return 1;
			}
		}
	}
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)port);
	lev = evconnlistener_new_bind(base, on_accept, base,
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE, -1,
	    (struct sockaddr *)&sin, sizeof sin);
	if (!lev) {
		perror("proxy: cannot listen");
		return 1;
	}
	printf("proxy: 127.0.0.1:%d -> %s\n", port, argv[2]);
	fflush(stdout);
	event_base_dispatch(base);
	evconnlistener_free(lev);
	if (dns)
		evdns_base_free(dns, 0);
	event_base_free(base);
	return 0;
}

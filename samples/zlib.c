/* A compressed echo over loopback: bufferevent filters running zlib.
 *
 * A server and a client in one process, each with a filter over its socket
 * bufferevent: what the program writes goes out deflated, what arrives is
 * inflated before the read callback sees it. The server echoes what it
 * reads; the client sends SIZE bytes of text, checks that the echo is the
 * same, prints how many bytes crossed the socket, and exits 0 on success.
 *
 * Usage: evasio-zlib [SIZE]   (1 MiB by default)
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include <zlib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* One direction's zlib stream each way, and what crossed the socket. */
struct codec {
	z_stream deflater;
	z_stream inflater;
	unsigned long wire_out, wire_in;
};

static struct codec *codec_new(void)
{
	struct codec *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	if (deflateInit(&c->deflater, Z_DEFAULT_COMPRESSION) != Z_OK) {
		free(c);
		return NULL;
	}
	if (inflateInit(&c->inflater) != Z_OK) {
		deflateEnd(&c->deflater);
		free(c);
		return NULL;
	}
	return c;
}

static void codec_free(void *ctx)
{
	struct codec *c = ctx;
	deflateEnd(&c->deflater);
	inflateEnd(&c->inflater);
	free(c);
}

/* Output filter: deflates all of src into dst. In normal mode each batch
 * ends with a sync flush, so the peer can inflate it at once (an echo needs
 * that); BEV_FINISHED ends the stream. The limit is ignored: deflated data
 * is smaller than what it came from. */
static enum bufferevent_filter_result
deflate_out(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
    enum bufferevent_flush_mode mode, void *ctx)
{
	struct codec *c = ctx;
	z_stream *z = &c->deflater;
	const int end = mode == BEV_FINISHED ? Z_FINISH : Z_SYNC_FLUSH;
	(void)limit;
	if (evbuffer_get_length(src) == 0 && mode == BEV_NORMAL)
		return BEV_NEED_MORE;
	for (;;) {
		struct evbuffer_iovec in = { NULL, 0 }, out;
		size_t before;
		int last, r;
		if (evbuffer_get_length(src))
			evbuffer_peek(src, -1, NULL, &in, 1);
		last = in.iov_len == evbuffer_get_length(src);
		if (evbuffer_reserve_space(dst, 4096, &out, 1) < 1)
			return BEV_ERROR;
		z->next_in = in.iov_base;
		z->avail_in = (uInt)in.iov_len;
		z->next_out = out.iov_base;
		z->avail_out = (uInt)out.iov_len;
		r = deflate(z, last ? end : Z_NO_FLUSH);
		if (r == Z_STREAM_ERROR)
			return BEV_ERROR;
		evbuffer_drain(src, in.iov_len - z->avail_in);
		before = out.iov_len;
		out.iov_len -= z->avail_out;
		c->wire_out += (unsigned long)(before - z->avail_out);
		evbuffer_commit_space(dst, &out, 1);
		if (last && z->avail_in == 0 && z->avail_out != 0)
			return BEV_OK; /* all in, all flushed */
	}
}

/* Input filter: inflates what it can of src into dst. */
static enum bufferevent_filter_result
inflate_in(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
    enum bufferevent_flush_mode mode, void *ctx)
{
	struct codec *c = ctx;
	z_stream *z = &c->inflater;
	int produced = 0;
	(void)limit;
	(void)mode;
	while (evbuffer_get_length(src)) {
		struct evbuffer_iovec in, out;
		size_t used, made;
		int r;
		evbuffer_peek(src, -1, NULL, &in, 1);
		if (evbuffer_reserve_space(dst, 16384, &out, 1) < 1)
			return BEV_ERROR;
		z->next_in = in.iov_base;
		z->avail_in = (uInt)in.iov_len;
		z->next_out = out.iov_base;
		z->avail_out = (uInt)out.iov_len;
		r = inflate(z, Z_SYNC_FLUSH);
		if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
			return BEV_ERROR; /* not a zlib stream */
		used = in.iov_len - z->avail_in;
		made = out.iov_len - z->avail_out;
		c->wire_in += (unsigned long)used;
		evbuffer_drain(src, used);
		out.iov_len = made;
		evbuffer_commit_space(dst, &out, 1);
		produced |= made > 0;
		if (r == Z_STREAM_END || (used == 0 && made == 0))
			break;
	}
	return produced ? BEV_OK : BEV_NEED_MORE;
}

/* A socket bufferevent on fd (or a new socket), compressed both ways. */
static struct bufferevent *compressed(struct event_base *base, evutil_socket_t fd,
    struct codec **codec_out)
{
	struct bufferevent *sock, *filt;
	struct codec *c = codec_new();
	if (!c)
		return NULL;
	sock = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!sock) {
		codec_free(c);
		return NULL;
	}
	filt = bufferevent_filter_new(sock, inflate_in, deflate_out,
	    BEV_OPT_CLOSE_ON_FREE, codec_free, c);
	if (!filt) {
		bufferevent_free(sock);
		codec_free(c);
		return NULL;
	}
	if (codec_out)
		*codec_out = c;
	return filt;
}

/* ---- the server: echo what comes in ---- */

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

static void accepted(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct bufferevent *bev = compressed(evconnlistener_get_base(l), fd, NULL);
	(void)sa;
	(void)socklen;
	(void)arg;
	if (!bev) {
		evutil_closesocket(fd);
		return;
	}
	bufferevent_setcb(bev, echo_read, NULL, echo_event, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* ---- the client: send, and check the echo ---- */

struct client {
	const char *sent;
	size_t size, matched;
	int failed;
};

static void client_read(struct bufferevent *bev, void *arg)
{
	struct client *cl = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char buf[4096];
	int n;
	while ((n = evbuffer_remove(in, buf, sizeof buf)) > 0) {
		const size_t got = (size_t)n;
		if (cl->matched + got > cl->size || memcmp(cl->sent + cl->matched, buf, got) != 0)
			cl->failed = 1;
		cl->matched += got;
	}
	if (cl->failed || cl->matched >= cl->size)
		event_base_loopbreak(bufferevent_get_base(bev));
}

static void client_event(struct bufferevent *bev, short what, void *arg)
{
	struct client *cl = arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		fprintf(stderr, "zlib echo: connection ended early (%s)\n",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		cl->failed = 1;
		event_base_loopbreak(bufferevent_get_base(bev));
	}
}

static void give_up(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fprintf(stderr, "zlib echo: no complete echo within 30 s\n");
	event_base_loopbreak(arg);
}

/* Compressible text: numbered lines of a sentence. */
static char *make_text(size_t size)
{
	static const char line[] = "the quick brown fox jumps over the lazy dog\n";
	char *t = malloc(size + 1);
	size_t i = 0;
	unsigned k = 0;
	if (!t)
		return NULL;
	while (i < size) {
		char head[32];
		int h = snprintf(head, sizeof head, "%08u ", k++);
		size_t j;
		for (j = 0; j < (size_t)h && i < size; ++j)
			t[i++] = head[j];
		for (j = 0; j + 1 < sizeof line && i < size; ++j)
			t[i++] = line[j];
	}
	t[size] = '\0';
	return t;
}

int main(int argc, char **argv)
{
	struct client cl;
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	struct event_base *base;
	struct evconnlistener *listener;
	struct bufferevent *bev;
	struct codec *codec = NULL;
	struct event *timeout;
	struct timeval thirty = { 30, 0 };
	int ok;

	memset(&cl, 0, sizeof cl);
	cl.size = argc > 1 ? strtoul(argv[1], NULL, 10) : 1u << 20;
	if (cl.size == 0 || !(cl.sent = make_text(cl.size)))
		return 2;
	base = event_base_new();
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listener = base ? evconnlistener_new_bind(base, accepted, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
	    (struct sockaddr *)&sin, sizeof sin) : NULL;
	if (!listener) {
		perror("zlib echo: listen");
		return 1;
	}
	getsockname(evconnlistener_get_fd(listener), (struct sockaddr *)&sin, &len);

	bev = compressed(base, -1, &codec);
	if (!bev || bufferevent_socket_connect(bufferevent_get_underlying(bev),
	    (struct sockaddr *)&sin, sizeof sin) < 0) {
		perror("zlib echo: connect");
		return 1;
	}
	bufferevent_setcb(bev, client_read, NULL, client_event, &cl);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	bufferevent_write(bev, cl.sent, cl.size);

	timeout = evtimer_new(base, give_up, base);
	evtimer_add(timeout, &thirty);
	event_base_dispatch(base);

	ok = !cl.failed && cl.matched == cl.size;
	printf("zlib echo: %s: %lu bytes sent and echoed, %lu bytes on the wire out, %lu back\n",
	    ok ? "OK" : "FAILED", (unsigned long)cl.matched, codec->wire_out, codec->wire_in);
	event_free(timeout);
	bufferevent_free(bev);
	evconnlistener_free(listener);
	event_base_dispatch(base); /* the server sees the end and frees its side */
	event_base_free(base);
	free((char *)cl.sent);
	return ok ? 0 : 1;
}

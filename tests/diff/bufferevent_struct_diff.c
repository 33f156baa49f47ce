/* Differential transcript for evasio: struct bufferevent's public fields
 * (event2/bufferevent_struct.h). One C99 program, built against real
 * libevent 2.1.12 and against evasio; both must print the same lines.
 *
 * It prints the layout (every offset and size, as on x86_64), then what the fields hold through an echo exchange
 * between two bufferevents over a socketpair, and bufferevent_base_set's
 * answers. No pointer, fd or timing is printed: only sizes, counts, values
 * and yes/no answers. */
#include <event2/event.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>

#include "transcript.h"

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>


/* ---- layout ---------------------------------------------------------- */

#define OFFSET(f) ((unsigned long)offsetof(struct bufferevent, f))

static void print_layout(void)
{
	printf("layout: offsetof ev_base %lu\n", (unsigned long)offsetof(struct bufferevent, ev_base));
	printf("layout: offsetof be_ops %lu\n", (unsigned long)offsetof(struct bufferevent, be_ops));
	printf("layout: offsetof ev_read %lu\n", (unsigned long)offsetof(struct bufferevent, ev_read));
	printf("layout: ev_write right after ev_read: %s\n",
	    yn(offsetof(struct bufferevent, ev_write) ==
		offsetof(struct bufferevent, ev_read) + sizeof(struct event)));
	printf("layout: offsetof input %lu\n", OFFSET(input));
	printf("layout: offsetof output %lu\n", OFFSET(output));
	printf("layout: offsetof wm_read %lu\n", OFFSET(wm_read));
	printf("layout: offsetof wm_write %lu\n", OFFSET(wm_write));
	printf("layout: offsetof readcb %lu\n", OFFSET(readcb));
	printf("layout: offsetof writecb %lu\n", OFFSET(writecb));
	printf("layout: offsetof errorcb %lu\n", OFFSET(errorcb));
	printf("layout: offsetof cbarg %lu\n", OFFSET(cbarg));
	printf("layout: offsetof timeout_read %lu\n", OFFSET(timeout_read));
	printf("layout: offsetof timeout_write %lu\n", OFFSET(timeout_write));
	printf("layout: offsetof enabled %lu\n", OFFSET(enabled));
	printf("layout: offsetof ev_write %lu\n", OFFSET(ev_write));
	printf("layout: sizeof(struct event) %lu\n", (unsigned long)sizeof(struct event));
	printf("layout: sizeof(struct bufferevent) %lu\n", (unsigned long)sizeof(struct bufferevent));
	printf("layout: sizeof(struct event_watermark) %lu\n",
	    (unsigned long)sizeof(struct event_watermark));
	printf("layout: sizeof(bev->enabled) %lu\n",
	    (unsigned long)sizeof(((struct bufferevent *)0)->enabled));
}

/* ---- the echo exchange ----------------------------------------------- */

struct state {
	struct event_base *base;
	struct bufferevent *client, *server;
	int server_reads, client_reads, client_events;
	char echoed[64];
};

static void print_fields(const char *who, struct bufferevent *bev, struct state *st)
{
	printf("%s: ev_base is the base: %s, agrees with get_base: %s\n", who,
	    yn(bev->ev_base == st->base), yn(bev->ev_base == bufferevent_get_base(bev)));
	printf("%s: input/output are get_input/get_output: %s/%s\n", who,
	    yn(bev->input == bufferevent_get_input(bev)),
	    yn(bev->output == bufferevent_get_output(bev)));
	printf("%s: enabled %d (get_enabled %d)\n", who, bev->enabled, bufferevent_get_enabled(bev));
	printf("%s: input %lu output %lu bytes\n", who,
	    (unsigned long)evbuffer_get_length(bev->input),
	    (unsigned long)evbuffer_get_length(bev->output));
	printf("%s: wm_read %lu/%lu wm_write %lu/%lu\n", who,
	    (unsigned long)bev->wm_read.low, (unsigned long)bev->wm_read.high,
	    (unsigned long)bev->wm_write.low, (unsigned long)bev->wm_write.high);
	printf("%s: timeout_read %ld.%06ld timeout_write %ld.%06ld\n", who,
	    (long)bev->timeout_read.tv_sec, (long)bev->timeout_read.tv_usec,
	    (long)bev->timeout_write.tv_sec, (long)bev->timeout_write.tv_usec);
	printf("%s: cbarg is the state: %s\n", who, yn(bev->cbarg == st));
}

/* The server echoes through the fields alone. */
static void server_read(struct bufferevent *bev, void *arg)
{
	struct state *st = arg;
	++st->server_reads;
	printf("server read: %lu bytes in bev->input\n", (unsigned long)evbuffer_get_length(bev->input));
	evbuffer_add_buffer(bev->output, bev->input);
	printf("server read: %lu bytes moved to bev->output\n",
	    (unsigned long)evbuffer_get_length(bev->output));
}

static void client_read(struct bufferevent *bev, void *arg)
{
	struct state *st = arg;
	size_t n = evbuffer_get_length(bev->input);
	++st->client_reads;
	if (n >= 4) {
		evbuffer_remove(bev->input, st->echoed, sizeof st->echoed - 1);
		event_base_loopexit(st->base, NULL);
	}
}

static void client_event(struct bufferevent *bev, short what, void *arg)
{
	struct state *st = arg;
	(void)bev;
	++st->client_events;
	printf("client event 0x%x\n", what);
	event_base_loopexit(st->base, NULL);
}

static void echo_exchange(void)
{
	struct state st;
	int sv[2];
	struct timeval rd = {5, 0}, wr = {7, 250000};

	memset(&st, 0, sizeof st);
	st.base = event_base_new();
	if (!st.base || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		printf("setup failed\n");
		return;
	}
	evutil_make_socket_nonblocking(sv[0]);
	evutil_make_socket_nonblocking(sv[1]);
	st.client = bufferevent_socket_new(st.base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	st.server = bufferevent_socket_new(st.base, sv[1], BEV_OPT_CLOSE_ON_FREE);
	print_fields("new client", st.client, &st);

	/* The client's callbacks through setcb, the server's assigned. */
	bufferevent_setcb(st.client, client_read, NULL, client_event, &st);
	printf("client: readcb/writecb/errorcb set: %s/%s/%s\n",
	    yn(st.client->readcb == client_read), yn(st.client->writecb == NULL),
	    yn(st.client->errorcb == client_event));
	st.server->readcb = server_read;
	st.server->cbarg = &st;
	bufferevent_setwatermark(st.client, EV_READ, 4, 1024);
	bufferevent_setwatermark(st.client, EV_WRITE, 1, 0);
	bufferevent_set_timeouts(st.client, &rd, &wr);
	bufferevent_enable(st.client, EV_READ);
	bufferevent_enable(st.server, EV_READ);
	print_fields("client", st.client, &st);
	print_fields("server", st.server, &st);

	bufferevent_write(st.client, "ping", 4);
	printf("client: after bufferevent_write, %lu bytes in bev->output\n",
	    (unsigned long)evbuffer_get_length(st.client->output));
	printf("client: base_set while it has output: %d\n",
	    bufferevent_base_set(st.base, st.client));
	event_base_dispatch(st.base);
	printf("echoed \"%s\", server reads %d, client reads %d, client events %d\n",
	    st.echoed, st.server_reads, st.client_reads, st.client_events);
	print_fields("client after", st.client, &st);
	print_fields("server after", st.server, &st);

	bufferevent_disable(st.server, EV_READ | EV_WRITE);
	printf("server: enabled after disable %d\n", st.server->enabled);
	bufferevent_set_timeouts(st.client, NULL, NULL);
	printf("client: timeouts cleared: %ld.%06ld %ld.%06ld\n",
	    (long)st.client->timeout_read.tv_sec, (long)st.client->timeout_read.tv_usec,
	    (long)st.client->timeout_write.tv_sec, (long)st.client->timeout_write.tv_usec);
	bufferevent_free(st.client);
	bufferevent_free(st.server);
	event_base_free(st.base);
}

/* ---- bufferevent_base_set -------------------------------------------- */

static void base_set_answers(void)
{
	struct event_base *a = event_base_new(), *b = event_base_new();
	struct bufferevent *bev;
	int sv[2], r;

	if (!a || !b || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		printf("setup failed\n");
		return;
	}
	evutil_make_socket_nonblocking(sv[0]);
	bev = bufferevent_socket_new(a, sv[0], BEV_OPT_CLOSE_ON_FREE);
	r = bufferevent_base_set(b, bev);
	printf("base_set: idle: %d, now on b: %s\n", r,
	    yn(bev->ev_base == b && bufferevent_get_base(bev) == b));
	printf("base_set: same base: %d\n", bufferevent_base_set(b, bev));
	bufferevent_enable(bev, EV_READ);
	/* (libevent sets ev_base even when it fails: not printed) */
	printf("base_set: reading: %d\n", bufferevent_base_set(a, bev));
	bufferevent_disable(bev, EV_READ);
	r = bufferevent_base_set(a, bev);
	printf("base_set: reading disabled: %d, now on a: %s\n", r, yn(bev->ev_base == a));
	bufferevent_free(bev);
	bev = bufferevent_socket_new(a, -1, 0);
	bufferevent_enable(bev, EV_WRITE);
	printf("base_set: no fd, writing enabled: %d\n", bufferevent_base_set(b, bev));
	bufferevent_free(bev);
	close(sv[1]);
	event_base_free(a);
	event_base_free(b);
}

int main(void)
{
	transcript_start();
	alarm(60);
	setvbuf(stdout, NULL, _IOLBF, 0);
	print_layout();
	echo_exchange();
	base_set_answers();
	return 0;
}

/* Rate-limit benchmark: how close a limited bufferevent keeps to its rate,
 * and how evenly a group's members share theirs, over loopback TCP.
 *
 *   bench-ratelim-evasio [--seconds S] [--rate BYTES_PER_S] [--tick-ms MS]
 *                        [--members N]
 *
 * One base. Each of N+1 connections has an unlimited writer that keeps its
 * output topped up, and a reader: connection 0's reader has its own limit
 * (rate per second, in ticks of tick-ms, burst one tick); the other N share
 * one group with the same limit. After S seconds it prints the measured
 * rates and each member's share of the group's bytes. The same source
 * builds against real libevent (bench-ratelim-libevent) for comparison. */
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
#include <time.h>

#define MAX_MEMBERS 64

struct conn {
	struct bufferevent *writer;
	struct bufferevent *reader;
	unsigned long long got;
};

static struct conn conns[MAX_MEMBERS + 1];
static int n_conns;
static int accepted;
static char chunk[65536];
static struct ev_token_bucket_cfg *cfg;
static struct bufferevent_rate_limit_group *group;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	c->got += evbuffer_get_length(in);
	evbuffer_drain(in, evbuffer_get_length(in));
}

/* Keeps some output queued: the writer is never what limits. */
static void on_write(struct bufferevent *bev, void *arg)
{
	(void)arg;
	bufferevent_write(bev, chunk, sizeof chunk);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int len, void *arg)
{
	struct event_base *base = arg;
	struct conn *c = &conns[accepted];
	(void)l;
	(void)sa;
	(void)len;
	c->reader = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(c->reader, on_read, NULL, NULL, c);
	if (accepted == 0)
		bufferevent_set_rate_limit(c->reader, cfg);
	else
		bufferevent_add_to_rate_limit_group(c->reader, group);
	bufferevent_enable(c->reader, EV_READ);
	++accepted;
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

static long arg_of(int argc, char **argv, const char *name, long dflt)
{
	int i;
	for (i = 1; i + 1 < argc; ++i)
		if (strcmp(argv[i], name) == 0)
			return atol(argv[i + 1]);
	return dflt;
}

int main(int argc, char **argv)
{
	const long seconds = arg_of(argc, argv, "--seconds", 10);
	const long rate = arg_of(argc, argv, "--rate", 1000000);
	const long tick_ms = arg_of(argc, argv, "--tick-ms", 100);
	const long members = arg_of(argc, argv, "--members", 4);
	const size_t per_tick = (size_t)(rate * tick_ms / 1000);
	struct timeval tick, run;
	struct sockaddr_in sin;
	socklen_t slen = sizeof sin;
	struct event_base *base = event_base_new();
	struct evconnlistener *l;
	struct event *done;
	unsigned long long group_total = 0, before[MAX_MEMBERS + 1];
	double t0, elapsed, mean, worst = 0;
	int i;

	if (members < 1 || members > MAX_MEMBERS || seconds < 1 || per_tick < 1) {
		fprintf(stderr, "bad arguments\n");
		return 2;
	}
	memset(chunk, 'r', sizeof chunk);
	tick.tv_sec = tick_ms / 1000;
	tick.tv_usec = (tick_ms % 1000) * 1000;
	cfg = ev_token_bucket_cfg_new(per_tick, per_tick, per_tick, per_tick, &tick);
	group = bufferevent_rate_limit_group_new(base, cfg);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = evconnlistener_new_bind(base, on_accept, base, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
	    -1, (struct sockaddr *)&sin, sizeof sin);
	if (!cfg || !group || !l) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&sin, &slen);
	n_conns = (int)members + 1;
	for (i = 0; i < n_conns; ++i) {
		conns[i].writer = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
		bufferevent_setcb(conns[i].writer, NULL, on_write, NULL, NULL);
		bufferevent_socket_connect(conns[i].writer, (struct sockaddr *)&sin, sizeof sin);
		bufferevent_write(conns[i].writer, chunk, sizeof chunk);
		bufferevent_enable(conns[i].writer, EV_WRITE);
	}
	while (accepted < n_conns)
		event_base_loop(base, EVLOOP_ONCE);
	/* Let the first tick's burst settle, then measure whole ticks. */
	done = evtimer_new(base, on_done, base);
	evtimer_add(done, &tick);
	event_base_dispatch(base);
	for (i = 0; i < n_conns; ++i)
		before[i] = conns[i].got;
	run.tv_sec = seconds;
	run.tv_usec = 0;
	t0 = now_s();
	evtimer_add(done, &run);
	event_base_dispatch(base);
	elapsed = now_s() - t0;

	printf("%s: %ld s, rate %ld B/s (%lu B per %ld ms tick)\n", event_get_version(), seconds,
	    rate, (unsigned long)per_tick, tick_ms);
	printf("own limit: %.0f B/s measured, %+.2f%% off\n",
	    (double)(conns[0].got - before[0]) / elapsed,
	    100.0 * ((double)(conns[0].got - before[0]) / elapsed - (double)rate) / (double)rate);
	for (i = 1; i < n_conns; ++i)
		group_total += conns[i].got - before[i];
	mean = (double)group_total / (double)members;
	printf("group of %ld: %.0f B/s measured, %+.2f%% off\n", members,
	    (double)group_total / elapsed,
	    100.0 * ((double)group_total / elapsed - (double)rate) / (double)rate);
	for (i = 1; i < n_conns; ++i) {
		const double dev = 100.0 * ((double)(conns[i].got - before[i]) - mean) / mean;
		printf("  member %d: %llu B, %+.2f%% from the mean\n", i, conns[i].got - before[i], dev);
		if (dev < 0 ? -dev > worst : dev > worst)
			worst = dev < 0 ? -dev : dev;
	}
	printf("worst member: %.2f%% from the mean\n", worst);

	event_free(done);
	for (i = 0; i < n_conns; ++i) {
		/* libevent leaves the group only once the freed one is finalized */
		bufferevent_remove_from_rate_limit_group(conns[i].reader);
		bufferevent_free(conns[i].reader);
		bufferevent_free(conns[i].writer);
	}
	bufferevent_rate_limit_group_free(group);
	ev_token_bucket_cfg_free(cfg);
	evconnlistener_free(l);
	event_base_free(base);
	return 0;
}

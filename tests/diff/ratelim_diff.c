/* Differential transcript for bufferevent rate limits: one C99 program,
 * built once against real libevent 2.1.12 and once against evasio. It
 * prints what ev_token_bucket_cfg_new accepts, a group's bucket through its
 * decrements and new cfgs, and the bytes limited socket bufferevents move
 * (alone and in a group) under a tick so long it never ends here: every
 * count follows from the token bucket arithmetic alone, whatever the
 * order in which ready bufferevents run.
 *
 * Only counts, return values and yes/no answers are printed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <event2/event.h>
#include <event2/bufferevent.h>
#include <event2/buffer.h>
#include <event2/util.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static const char *volatile g_scenario = "startup";

static void on_alarm(int sig)
{
	const char *a = "TIMEOUT in scenario ";
	const char *s = g_scenario;
	ssize_t r;
	(void)sig;
	r = write(STDOUT_FILENO, a, strlen(a));
	r = write(STDOUT_FILENO, s, strlen(s));
	r = write(STDOUT_FILENO, "\n", 1);
	(void)r;
	_exit(3);
}

static void begin(const char *name)
{
	fflush(stdout);
	g_scenario = name;
	printf("== %s\n", name);
	alarm(20);
}

static void end(void)
{
	alarm(0);
	fflush(stdout);
}

static void out(const char *fmt, ...)
{
	va_list ap;
	printf("  ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static const char *yn(int b)
{
	return b ? "yes" : "no";
}

/* A limit, with EV_SSIZE_MAX by name. */
static const char *lim(ev_ssize_t v)
{
	static char bufs[4][32];
	static int next;
	char *b = bufs[next++ & 3];
	if (v == EV_SSIZE_MAX)
		return "EV_SSIZE_MAX";
	snprintf(b, 32, "%lld", (long long)v);
	return b;
}

static const struct timeval forever_tick = { 1000000, 0 };

/* Runs the loop for ms milliseconds. */
static void run_for(struct event_base *base, long ms)
{
	struct timeval tv;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* A socketpair: s[0] for the bufferevent (non-blocking), s[1] the peer. */
static void make_pair(int s[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) != 0) {
		perror("socketpair");
		exit(2);
	}
	evutil_make_socket_nonblocking(s[0]);
	evutil_make_socket_nonblocking(s[1]);
}

static void put(int fd, size_t n)
{
	char buf[4096];
	memset(buf, 'x', sizeof buf);
	while (n) {
		size_t k = n < sizeof buf ? n : sizeof buf;
		ssize_t r = write(fd, buf, k);
		if (r <= 0) {
			perror("write");
			exit(2);
		}
		n -= (size_t)r;
	}
}

/* What the peer has received so far. */
static size_t drain(int fd)
{
	char buf[4096];
	size_t total = 0;
	ssize_t r;
	while ((r = read(fd, buf, sizeof buf)) > 0)
		total += (size_t)r;
	return total;
}

static size_t in_len(struct bufferevent *bev)
{
	return evbuffer_get_length(bufferevent_get_input(bev));
}

/* ------------------------------------------------------------------ */

static void cfg_case(const char *what, size_t rr, size_t rb, size_t wr, size_t wb,
    const struct timeval *tick)
{
	struct ev_token_bucket_cfg *c = ev_token_bucket_cfg_new(rr, rb, wr, wb, tick);
	out("cfg_new %s: %s", what, c ? "made" : "NULL");
	ev_token_bucket_cfg_free(c);
}

static void sc_cfg(void)
{
	const size_t most = (size_t)EV_RATE_LIMIT_MAX;
	const struct timeval ms = { 0, 1000 };
	const struct timeval usec_over = { 0, 1500000 };
	begin("cfg");
	cfg_case("1/1/1/1, NULL tick", 1, 1, 1, 1, NULL);
	cfg_case("rates below bursts", 100, 1000, 30, 300, &forever_tick);
	cfg_case("read rate 0", 0, 10, 1, 1, NULL);
	cfg_case("write rate 0", 1, 1, 0, 10, NULL);
	cfg_case("read rate above burst", 11, 10, 1, 1, NULL);
	cfg_case("write rate above burst", 1, 1, 11, 10, NULL);
	cfg_case("all EV_RATE_LIMIT_MAX", most, most, most, most, NULL);
	cfg_case("read burst above max", 1, most + 1, 1, 1, NULL);
	cfg_case("write burst above max", 1, 1, 1, most + 1, NULL);
	cfg_case("SIZE_MAX", SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX, NULL);
	cfg_case("1 ms tick", 1, 1, 1, 1, &ms);
	cfg_case("tv_usec 1500000 tick", 1, 1, 1, 1, &usec_over);
	end();
}

static void sc_group_bucket(void)
{
	struct event_base *base = event_base_new();
	struct ev_token_bucket_cfg *cfg = ev_token_bucket_cfg_new(100, 1000, 30, 300, &forever_tick);
	struct ev_token_bucket_cfg *tight = ev_token_bucket_cfg_new(10, 20, 5, 40, &forever_tick);
	struct bufferevent_rate_limit_group *g;
	ev_uint64_t rd = 9, wr = 9;
	begin("group bucket");
	out("NONBLOCK loop without a group: %d", event_base_loop(base, EVLOOP_NONBLOCK));
	g = bufferevent_rate_limit_group_new(base, cfg);
	out("group made: %s", yn(g != NULL));
	out("NONBLOCK loop with a group: %d", event_base_loop(base, EVLOOP_NONBLOCK));
	out("limits: read %s write %s", lim(bufferevent_rate_limit_group_get_read_limit(g)),
	    lim(bufferevent_rate_limit_group_get_write_limit(g)));
	out("decrement_read 250: %d", bufferevent_rate_limit_group_decrement_read(g, 250));
	out("decrement_write 31: %d", bufferevent_rate_limit_group_decrement_write(g, 31));
	out("limits: read %s write %s", lim(bufferevent_rate_limit_group_get_read_limit(g)),
	    lim(bufferevent_rate_limit_group_get_write_limit(g)));
	out("decrement_read -5000: %d", bufferevent_rate_limit_group_decrement_read(g, -5000));
	out("decrement_write -100: %d", bufferevent_rate_limit_group_decrement_write(g, -100));
	out("limits: read %s write %s", lim(bufferevent_rate_limit_group_get_read_limit(g)),
	    lim(bufferevent_rate_limit_group_get_write_limit(g)));
	out("set_cfg tight: %d", bufferevent_rate_limit_group_set_cfg(g, tight));
	out("limits: read %s write %s", lim(bufferevent_rate_limit_group_get_read_limit(g)),
	    lim(bufferevent_rate_limit_group_get_write_limit(g)));
	out("set_cfg back: %d", bufferevent_rate_limit_group_set_cfg(g, cfg));
	out("limits: read %s write %s", lim(bufferevent_rate_limit_group_get_read_limit(g)),
	    lim(bufferevent_rate_limit_group_get_write_limit(g)));
	out("set_cfg NULL: %d", bufferevent_rate_limit_group_set_cfg(g, NULL));
	out("set_min_share 0: %d", bufferevent_rate_limit_group_set_min_share(g, 0));
	out("set_min_share EV_SSIZE_MAX: %d",
	    bufferevent_rate_limit_group_set_min_share(g, (size_t)EV_SSIZE_MAX));
	out("set_min_share EV_SSIZE_MAX+1: %d",
	    bufferevent_rate_limit_group_set_min_share(g, (size_t)EV_SSIZE_MAX + 1));
	bufferevent_rate_limit_group_get_totals(g, &rd, &wr);
	out("totals: read %llu written %llu", (unsigned long long)rd, (unsigned long long)wr);
	bufferevent_rate_limit_group_free(g);
	out("NONBLOCK loop after the group: %d", event_base_loop(base, EVLOOP_NONBLOCK));
	ev_token_bucket_cfg_free(cfg);
	ev_token_bucket_cfg_free(tight);
	event_base_free(base);
	end();
}

static int g_reads;
static void count_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	(void)arg;
	++g_reads;
}

static void sc_own_limit(void)
{
	struct event_base *base = event_base_new();
	struct ev_token_bucket_cfg *cfg = ev_token_bucket_cfg_new(100, 1000, 50, 500, &forever_tick);
	struct bufferevent *bev;
	int s[2];
	begin("own limit");
	make_pair(s);
	bev = bufferevent_socket_new(base, s[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bev, count_read, NULL, NULL, NULL);
	out("no limit: read %s write %s cfg %s", lim(bufferevent_get_read_limit(bev)),
	    lim(bufferevent_get_write_limit(bev)), yn(bufferevent_get_token_bucket_cfg(bev) != NULL));
	out("set_rate_limit NULL without one: %d", bufferevent_set_rate_limit(bev, NULL));
	out("set_rate_limit: %d", bufferevent_set_rate_limit(bev, cfg));
	out("cfg is ours: %s", yn(bufferevent_get_token_bucket_cfg(bev) == cfg));
	out("set_rate_limit again: %d", bufferevent_set_rate_limit(bev, cfg));
	out("limits: read %s write %s", lim(bufferevent_get_read_limit(bev)),
	    lim(bufferevent_get_write_limit(bev)));
	out("max to: read %s write %s", lim(bufferevent_get_max_to_read(bev)),
	    lim(bufferevent_get_max_to_write(bev)));
	out("decrement_read 30: %d", bufferevent_decrement_read_limit(bev, 30));
	out("decrement_read -10: %d", bufferevent_decrement_read_limit(bev, -10));
	out("decrement_write 5: %d", bufferevent_decrement_write_limit(bev, 5));
	out("limits: read %s write %s", lim(bufferevent_get_read_limit(bev)),
	    lim(bufferevent_get_write_limit(bev)));

	put(s[1], 1000);
	bufferevent_write(bev, "", 0);
	{
		char buf[1000];
		memset(buf, 'y', sizeof buf);
		bufferevent_write(bev, buf, sizeof buf);
	}
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	run_for(base, 150);
	out("first: read %lu in %d callbacks, peer got %lu", (unsigned long)in_len(bev), g_reads,
	    (unsigned long)drain(s[1]));
	out("limits: read %s write %s", lim(bufferevent_get_read_limit(bev)),
	    lim(bufferevent_get_write_limit(bev)));
	out("max to: read %s write %s", lim(bufferevent_get_max_to_read(bev)),
	    lim(bufferevent_get_max_to_write(bev)));

	out("decrement_read -200: %d", bufferevent_decrement_read_limit(bev, -200));
	out("decrement_write -100: %d", bufferevent_decrement_write_limit(bev, -100));
	run_for(base, 150);
	out("refilled by hand: read %lu, peer got %lu", (unsigned long)in_len(bev),
	    (unsigned long)drain(s[1]));
	out("limits: read %s write %s", lim(bufferevent_get_read_limit(bev)),
	    lim(bufferevent_get_write_limit(bev)));

	out("set_rate_limit NULL: %d", bufferevent_set_rate_limit(bev, NULL));
	out("cfg after: %s", yn(bufferevent_get_token_bucket_cfg(bev) != NULL));
	out("limits: read %s write %s", lim(bufferevent_get_read_limit(bev)),
	    lim(bufferevent_get_write_limit(bev)));
	run_for(base, 150);
	out("unlimited: read %lu, peer got %lu", (unsigned long)in_len(bev),
	    (unsigned long)drain(s[1]));
	bufferevent_free(bev);
	close(s[1]);
	ev_token_bucket_cfg_free(cfg);
	event_base_free(base);
	end();
}

/* Shares follow from what is left alone (an equal part of it, or the
 * min share of 64): the group's sequence of reads is the same whichever
 * member makes each. */
static void sc_group_transfer(void)
{
	struct event_base *base = event_base_new();
	struct ev_token_bucket_cfg *cfg = ev_token_bucket_cfg_new(300, 300, 300, 300, &forever_tick);
	struct bufferevent_rate_limit_group *g = bufferevent_rate_limit_group_new(base, cfg);
	struct bufferevent *bev[2];
	int s[2][2];
	char buf[1000];
	ev_uint64_t rd = 0, wr = 0;
	size_t got = 0;
	int i;
	begin("group transfer");
	memset(buf, 'z', sizeof buf);
	for (i = 0; i < 2; ++i) {
		make_pair(s[i]);
		bev[i] = bufferevent_socket_new(base, s[i][0], BEV_OPT_CLOSE_ON_FREE);
		out("add %d: %d", i, bufferevent_add_to_rate_limit_group(bev[i], g));
		out("add %d again: %d", i, bufferevent_add_to_rate_limit_group(bev[i], g));
		out("own limit %d: %s", i, lim(bufferevent_get_read_limit(bev[i])));
		put(s[i][1], 1000);
		bufferevent_write(bev[i], buf, sizeof buf);
	}
	out("max to read: %s %s", lim(bufferevent_get_max_to_read(bev[0])),
	    lim(bufferevent_get_max_to_read(bev[1])));
	out("max to write: %s %s", lim(bufferevent_get_max_to_write(bev[0])),
	    lim(bufferevent_get_max_to_write(bev[1])));
	for (i = 0; i < 2; ++i)
		bufferevent_enable(bev[i], EV_READ | EV_WRITE);
	run_for(base, 200);
	for (i = 0; i < 2; ++i)
		got += drain(s[i][1]);
	bufferevent_rate_limit_group_get_totals(g, &rd, &wr);
	out("totals: read %llu written %llu", (unsigned long long)rd, (unsigned long long)wr);
	out("inputs hold %lu, peers got %lu", (unsigned long)(in_len(bev[0]) + in_len(bev[1])),
	    (unsigned long)got);
	out("group limits: read %s write %s",
	    lim(bufferevent_rate_limit_group_get_read_limit(g)),
	    lim(bufferevent_rate_limit_group_get_write_limit(g)));
	out("max to read when spent: %s %s", lim(bufferevent_get_max_to_read(bev[0])),
	    lim(bufferevent_get_max_to_read(bev[1])));

	bufferevent_rate_limit_group_reset_totals(g);
	bufferevent_rate_limit_group_get_totals(g, &rd, &wr);
	out("reset totals: read %llu written %llu", (unsigned long long)rd, (unsigned long long)wr);

	out("decrement_read -1000: %d", bufferevent_rate_limit_group_decrement_read(g, -1000));
	run_for(base, 200);
	bufferevent_rate_limit_group_get_totals(g, &rd, &wr);
	out("after a refill by hand: totals read %llu written %llu", (unsigned long long)rd,
	    (unsigned long long)wr);
	out("group read limit: %s", lim(bufferevent_rate_limit_group_get_read_limit(g)));

	for (i = 0; i < 2; ++i)
		out("remove %d: %d", i, bufferevent_remove_from_rate_limit_group(bev[i]));
	out("remove again: %d", bufferevent_remove_from_rate_limit_group(bev[0]));
	run_for(base, 200);
	got = 0;
	for (i = 0; i < 2; ++i)
		got += drain(s[i][1]);
	out("out of the group: inputs hold %lu, peers got %lu more",
	    (unsigned long)(in_len(bev[0]) + in_len(bev[1])), (unsigned long)got);
	for (i = 0; i < 2; ++i) {
		bufferevent_free(bev[i]);
		close(s[i][1]);
	}
	bufferevent_rate_limit_group_free(g);
	ev_token_bucket_cfg_free(cfg);
	event_base_free(base);
	end();
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);

	sc_cfg();
	sc_group_bucket();
	sc_own_limit();
	sc_group_transfer();
	return 0;
}

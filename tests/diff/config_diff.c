/* Differential transcript for event_config, event_base_new_with_config and
 * event.h's/thread.h's process-wide API: one C99 program, built once
 * against real libevent 2.1.12 and once against evasio; the transcripts
 * must be identical.
 *
 * Left out, being intended differences: the full list of supported methods
 * (libevent has epoll, poll and select; evasio has epoll), avoiding "epoll"
 * or requiring EV_FEATURE_FDS (libevent falls back to poll; evasio makes no
 * base), EVENT_NO<METHOD> variables (evasio ignores them), and NULL
 * arguments that libevent dereferences. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/thread.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the program's allocator: counts what it gave out ------------------ */

#define MAX_BLOCKS 4096
static void *blocks[MAX_BLOCKS];
static int n_blocks;

static int given_out(const void *p)
{
	int i;
	for (i = 0; i < n_blocks; ++i)
		if (blocks[i] == p)
			return 1;
	return 0;
}
static void forget(const void *p)
{
	int i;
	for (i = 0; i < n_blocks; ++i)
		if (blocks[i] == p) {
			blocks[i] = blocks[--n_blocks];
			return;
		}
}
static void remember(void *p)
{
	if (p && n_blocks < MAX_BLOCKS)
		blocks[n_blocks++] = p;
}
static void *my_malloc(size_t n)
{
	void *p = malloc(n);
	remember(p);
	return p;
}
static void *my_realloc(void *p, size_t n)
{
	void *q;
	forget(p);  /* before: p is not to be read once realloc had it */
	q = realloc(p, n);
	remember(q ? q : p);
	return q;
}
static void my_free(void *p)
{
	forget(p);
	free(p);
}

/* ---- log capture ---------------------------------------------------------- */

static int show_debug;  /* print debug messages? (libevent has more of them) */
static int saw_no_events;
static void log_cb(int severity, const char *msg)
{
	if (severity == EVENT_LOG_DEBUG) {
		if (strcmp(msg, "event_base_loop: no events registered.") == 0)
			saw_no_events = 1;
		if (!show_debug)
			return;
	}
	printf("  log[%d] %s\n", severity, msg);
}

static void nop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
}

static int calls;
static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
	char buf[16];
	(void)what; (void)arg;
	while (read(fd, buf, sizeof buf) > 0)
		;
	++calls;
}

/* ---- scenarios -------------------------------------------------------------- */

static void report_base(const char *what, struct event_config *cfg)
{
	struct event_base *base = event_base_new_with_config(cfg);
	printf("%s: %s", what, base ? "base" : "no base");
	if (base) {
		printf(", method %s, features 0x%x", event_base_get_method(base),
		    event_base_get_features(base));
		event_base_free(base);
	}
	printf("\n");
}

static void scenario_config(void)
{
	static const int flags[] = {EVENT_BASE_FLAG_NOLOCK, EVENT_BASE_FLAG_IGNORE_ENV,
	    EVENT_BASE_FLAG_STARTUP_IOCP, EVENT_BASE_FLAG_NO_CACHE_TIME,
	    EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST, EVENT_BASE_FLAG_PRECISE_TIMER,
	    0x40, 0x4000, -1};
	static const int features[] = {0, EV_FEATURE_ET, EV_FEATURE_O1,
	    EV_FEATURE_EARLY_CLOSE, EV_FEATURE_ET | EV_FEATURE_O1 | EV_FEATURE_EARLY_CLOSE};
	struct event_config *cfg;
	struct timeval tv = {0, 5000};
	const char **m;
	size_t i;
	char what[64];

	printf("== config\n");
	m = event_get_supported_methods();
	printf("first supported method: %s\n", m && m[0] ? m[0] : "(none)");
	report_base("NULL config", NULL);
	cfg = event_config_new();
	report_base("empty config", cfg);
	printf("avoid no-such: %d\n", event_config_avoid_method(cfg, "no-such"));
	report_base("avoiding an unknown method", cfg);
	printf("avoid select: %d\n", event_config_avoid_method(cfg, "select"));
	report_base("avoiding select", cfg);
	event_config_free(cfg);

	cfg = event_config_new();
	for (m = event_get_supported_methods(); m && *m; ++m)
		event_config_avoid_method(cfg, *m);
	report_base("avoiding every supported method", cfg);
	event_config_free(cfg);

	for (i = 0; i < sizeof flags / sizeof flags[0]; ++i) {
		cfg = event_config_new();
		printf("set_flag 0x%x: %d\n", (unsigned)flags[i], event_config_set_flag(cfg, flags[i]));
		snprintf(what, sizeof what, "  with flag 0x%x", (unsigned)flags[i]);
		report_base(what, cfg);
		event_config_free(cfg);
	}
	for (i = 0; i < sizeof features / sizeof features[0]; ++i) {
		cfg = event_config_new();
		printf("require 0x%x: %d\n", features[i], event_config_require_features(cfg, features[i]));
		snprintf(what, sizeof what, "  requiring 0x%x", features[i]);
		report_base(what, cfg);
		event_config_free(cfg);
	}
	cfg = event_config_new();
	printf("cpus hint: %d\n", event_config_set_num_cpus_hint(cfg, 4));
	printf("dispatch limits: %d %d %d\n",
	    event_config_set_max_dispatch_interval(cfg, &tv, 10, 1),
	    event_config_set_max_dispatch_interval(cfg, NULL, -1, -3),
	    event_config_set_max_dispatch_interval(cfg, &tv, 0, 0));
	report_base("with limits", cfg);
	event_config_free(cfg);
	printf("NULL config: set_flag %d, require %d, cpus %d\n",
	    event_config_set_flag(NULL, 1), event_config_require_features(NULL, 1),
	    event_config_set_num_cpus_hint(NULL, 1));
}

static void scenario_environment(void)
{
	struct event_config *cfg;
	printf("== environment\n");
	setenv("EVENT_SHOW_METHOD", "1", 1);
	report_base("EVENT_SHOW_METHOD", NULL);
	cfg = event_config_new();
	event_config_set_flag(cfg, EVENT_BASE_FLAG_IGNORE_ENV);
	report_base("EVENT_SHOW_METHOD with IGNORE_ENV", cfg);
	unsetenv("EVENT_SHOW_METHOD");
	setenv("EVENT_NOEPOLL", "1", 1);
	setenv("EVENT_NOPOLL", "1", 1);
	setenv("EVENT_NOSELECT", "1", 1);
	report_base("EVENT_NO* with IGNORE_ENV", cfg);
	event_config_free(cfg);
	unsetenv("EVENT_NOEPOLL");
	unsetenv("EVENT_NOPOLL");
	unsetenv("EVENT_NOSELECT");
}

static void scenario_mem_functions(void)
{
	struct event_base *base = event_base_new();
	struct event *ev = event_new(base, -1, 0, nop_cb, NULL);
	struct evbuffer *buf = evbuffer_new();
	char *line;
	printf("== mem functions\n");
	printf("event_new from the program's malloc: %d\n", given_out(ev));
	event_free(ev);
	printf("event_free gave it back: %d\n", !given_out(ev));
	evbuffer_add(buf, "line\n", 5);
	line = evbuffer_readln(buf, NULL, EVBUFFER_EOL_LF);
	printf("readln \"%s\" from the program's malloc: %d\n", line ? line : "(null)", given_out(line));
	my_free(line);
	evbuffer_free(buf);
	event_base_free(base);
}

static void scenario_debug_logging(void)
{
	struct event_base *base = event_base_new();
	int rc;
	printf("== debug logging\n");
	saw_no_events = 0;
	event_enable_debug_logging(EVENT_DBG_NONE);
	rc = event_base_dispatch(base);
	printf("off: dispatch %d, said so %d\n", rc, saw_no_events);
	event_enable_debug_logging(EVENT_DBG_ALL);
	rc = event_base_dispatch(base);
	event_enable_debug_logging(EVENT_DBG_NONE);
	printf("all: dispatch %d, said so %d\n", rc, saw_no_events);
	event_base_free(base);
}

static void scenario_monotonic(void)
{
	struct event_base *base = event_base_new();
	struct timeval a, b;
	long us;
	printf("== monotonic\n");
	printf("rc %d", event_gettime_monotonic(base, &a));
	usleep(30000);
	printf(" %d", event_gettime_monotonic(base, &b));
	us = (long)(b.tv_sec - a.tv_sec) * 1000000L + (long)(b.tv_usec - a.tv_usec);
	printf(", forward by >= 10ms: %d", us >= 10000);
	printf(", NULL base %d, NULL tv %d\n", event_gettime_monotonic(NULL, &a),
	    event_gettime_monotonic(base, NULL));
	event_base_free(base);
}

/* The child prints its own lines, flushed before it ends. */
static void scenario_reinit(void)
{
	struct event_base *base = event_base_new();
	int sv[2];
	struct event *ev;
	pid_t pid;
	int status = 0;
	struct timeval tv = {3, 0};
	printf("== reinit\n");
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	evutil_make_socket_nonblocking(sv[0]);
	ev = event_new(base, sv[0], EV_READ | EV_PERSIST, drain_cb, NULL);
	event_add(ev, NULL);
	event_base_loop(base, EVLOOP_NONBLOCK);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		alarm(10);
		printf("child: reinit %d\n", event_reinit(base));
		calls = 0;
		if (write(sv[1], "x", 1) != 1)
			_exit(2);
		event_base_loopexit(base, &tv);
		while (calls == 0 && !event_base_got_exit(base))
			event_base_loop(base, EVLOOP_ONCE);
		printf("child: callbacks %d\n", calls);
		event_del(ev);
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	printf("child exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	calls = 0;
	if (write(sv[1], "y", 1) != 1)
		printf("write failed\n");
	event_base_loopexit(base, &tv);
	while (calls == 0 && !event_base_got_exit(base))
		event_base_loop(base, EVLOOP_ONCE);
	printf("parent: callbacks %d\n", calls);
	printf("reinit in the parent %d\n", event_reinit(base));
	event_free(ev);
	close(sv[0]);
	close(sv[1]);
	event_base_free(base);
}

static void on_fatal(int err)
{
	printf("child: fatal callback, err %d\n", err);
	fflush(stdout);
	_exit(7);
}

static void scenario_fatal(void)
{
	pid_t pid;
	int status = 0;
	printf("== fatal\n");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct event_base *base = event_base_new();
		event_set_fatal_callback(on_fatal);
		event_enable_debug_mode();  /* too late: a base exists */
		event_base_free(base);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	printf("child exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static void *lk_alloc(unsigned t) { (void)t; return malloc(1); }
static void lk_free(void *l, unsigned t) { (void)t; free(l); }
static int lk_lock(unsigned m, void *l) { (void)m; (void)l; return 0; }
static int lk_unlock(unsigned m, void *l) { (void)m; (void)l; return 0; }
static int lk_unlock2(unsigned m, void *l) { (void)m; (void)l; return 0; }

static void scenario_lock_callbacks(void)
{
	struct evthread_lock_callbacks cbs = {EVTHREAD_LOCK_API_VERSION,
	    EVTHREAD_LOCKTYPE_RECURSIVE, lk_alloc, lk_free, lk_lock, lk_unlock};
	struct evthread_lock_callbacks partial = cbs;
	struct evthread_lock_callbacks other = cbs;
	partial.lock = NULL;
	other.unlock = lk_unlock2;
	printf("== lock callbacks\n");
	printf("forget none: %d\n", evthread_set_lock_callbacks(NULL));
	printf("incomplete: %d\n", evthread_set_lock_callbacks(&partial));
	printf("complete: %d\n", evthread_set_lock_callbacks(&cbs));
	printf("same again: %d\n", evthread_set_lock_callbacks(&cbs));
	printf("different: %d\n", evthread_set_lock_callbacks(&other));
}

int main(void)
{
	event_set_mem_functions(my_malloc, my_realloc, my_free);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	event_set_log_callback(log_cb);
	scenario_config();
	scenario_environment();
	scenario_mem_functions();
	scenario_debug_logging();
	scenario_monotonic();
	scenario_reinit();
	scenario_fatal();
	scenario_lock_callbacks();
	return 0;
}

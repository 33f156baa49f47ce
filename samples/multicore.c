/* multicore: an echo server on N threads, one event_base per thread.
 *
 * Every thread has its own event_base and its own listener, all bound to the
 * same address with LEV_OPT_REUSEABLE_PORT (SO_REUSEPORT): the kernel spreads
 * incoming connections over the listeners, so each thread serves its share
 * without any lock between them. Each connection is echoed by a bufferevent
 * on the thread that accepted it.
 *
 * evthread_use_pthreads() comes first, as in any threaded libevent program:
 * the bases are then safe to stop from other threads (event_base_loopexit),
 * which is how the server shuts down.
 *
 * It stops on SIGINT or SIGTERM, or once it has served max_connections
 * connections in total (when given and not 0); it then prints how many
 * connections each thread accepted:
 *
 *   thread 0: 97 connections
 *   thread 1: 103 connections
 *   total: 200 connections
 *
 * It listens on 127.0.0.1. With port 0 the kernel picks the first listener's
 * port and the other listeners join it; the first line printed tells which:
 *
 *   multicore: 2 threads listening on 127.0.0.1:40123
 *
 * The same source builds against evasio (-levasio) and real libevent
 * (-levent -levent_pthreads).
 *
 *   evasio-multicore [port [threads [max_connections]]]
 *   (port 9878, 2 threads, no limit by default)
 */
#define _POSIX_C_SOURCE 200809L
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <event2/util.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum { DEFAULT_PORT = 9878, DEFAULT_THREADS = 2, MAX_THREADS = 256 };

struct worker;

/* One connection, on the list of the worker that accepted it. */
struct conn {
	struct bufferevent *bev;
	struct worker *owner;
	struct conn *prev, *next;
};

struct worker {
	int index;
	struct event_base *base;
	struct evconnlistener *listener;
	pthread_t thread;
	unsigned long accepted; /* only its own thread writes it */
	struct conn *conns;     /* only its own thread touches them */
};

static struct worker *workers;
static int nworkers;
static unsigned long max_connections; /* 0: no limit */

/* Connections served (closed) by all threads together. */
static pthread_mutex_t served_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long served;
static int stopping;

/* Asks every thread's loop to finish; safe from any thread. */
static void stop_all(void)
{
	int i;

	pthread_mutex_lock(&served_lock);
	if (stopping) {
		pthread_mutex_unlock(&served_lock);
		return;
	}
	stopping = 1;
	pthread_mutex_unlock(&served_lock);
	for (i = 0; i < nworkers; ++i)
		event_base_loopexit(workers[i].base, NULL);
}

static void conn_free(struct conn *c)
{
	struct worker *w = c->owner;

	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	bufferevent_free(c->bev);
	free(c);
}

static void on_readable(struct bufferevent *bev, void *arg)
{
	(void)arg;
	evbuffer_add_buffer(bufferevent_get_output(bev), bufferevent_get_input(bev));
}

/* The client closed (or the socket failed): one more connection served. */
static void on_conn_event(struct bufferevent *bev, short what, void *arg)
{
	int done = 0;

	(void)bev;
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	conn_free(arg);
	pthread_mutex_lock(&served_lock);
	++served;
	if (max_connections && served >= max_connections)
		done = 1;
	pthread_mutex_unlock(&served_lock);
	if (done)
		stop_all();
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *peer, int peer_len, void *arg)
{
	struct worker *w = arg;
	struct conn *c;

	(void)lev;
	(void)peer;
	(void)peer_len;
	++w->accepted;
	c = calloc(1, sizeof *c);
	if (c)
		c->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c || !c->bev) {
		fprintf(stderr, "multicore: cannot set up a connection\n");
		free(c);
		evutil_closesocket(fd);
		return;
	}
	c->owner = w;
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	bufferevent_setcb(c->bev, on_readable, NULL, on_conn_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void on_accept_error(struct evconnlistener *lev, void *arg)
{
	int err = EVUTIL_SOCKET_ERROR();
	struct worker *w = arg;

	(void)lev;
	fprintf(stderr, "multicore: thread %d: accept: %s\n", w->index,
	    evutil_socket_error_to_string(err));
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	stop_all();
}

static void *run_worker(void *arg)
{
	struct worker *w = arg;

	event_base_dispatch(w->base);
	return NULL;
}

/* A decimal argument in [lo, hi], or -1. */
static long parse_arg(const char *text, long lo, long hi)
{
	char *end;
	long v = strtol(text, &end, 10);

	if (end == text || *end != '\0' || v < lo || v > hi)
		return -1;
	return v;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin;
	socklen_t slen;
	struct event *sigint = NULL, *sigterm = NULL;
	long port = DEFAULT_PORT, threads = DEFAULT_THREADS, limit = 0;
	unsigned long total = 0;
	int i, started = 0, rc = 1;

	if (argc > 1)
		port = parse_arg(argv[1], 0, 65535);
	if (argc > 2)
		threads = parse_arg(argv[2], 1, MAX_THREADS);
	if (argc > 3)
		limit = parse_arg(argv[3], 0, 1000000000L);
	if (argc > 4 || port < 0 || threads < 1 || limit < 0) {
		fprintf(stderr, "usage: %s [port [threads [max_connections]]]\n", argv[0]);
		return 2;
	}
	max_connections = (unsigned long)limit;

	if (evthread_use_pthreads() != 0) {
		fprintf(stderr, "multicore: no thread support\n");
		return 1;
	}
	workers = calloc((size_t)threads, sizeof *workers);
	if (!workers)
		return 1;
	nworkers = (int)threads;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)port);

	/* All listeners exist before any thread runs, so that the kernel can
	 * spread the very first connections too. */
	for (i = 0; i < nworkers; ++i) {
		struct worker *w = &workers[i];

		w->index = i;
		w->base = event_base_new();
		if (!w->base) {
			fprintf(stderr, "multicore: cannot make an event_base\n");
			goto out;
		}
		w->listener = evconnlistener_new_bind(w->base, on_accept, w,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT, -1,
		    (struct sockaddr *)&sin, (int)sizeof sin);
		if (!w->listener) {
			perror("multicore: cannot listen");
			goto out;
		}
		evconnlistener_set_error_cb(w->listener, on_accept_error);
		if (i == 0) {
			/* Port 0: the others join the port the first one got. */
			slen = sizeof sin;
			if (getsockname(evconnlistener_get_fd(w->listener),
			    (struct sockaddr *)&sin, &slen) < 0) {
				perror("multicore: getsockname");
				goto out;
			}
		}
	}

	/* Signals go to the first base; its callback stops them all. */
	sigint = evsignal_new(workers[0].base, SIGINT, on_signal, NULL);
	sigterm = evsignal_new(workers[0].base, SIGTERM, on_signal, NULL);
	if (!sigint || !sigterm || evsignal_add(sigint, NULL) < 0 ||
	    evsignal_add(sigterm, NULL) < 0) {
		fprintf(stderr, "multicore: cannot watch signals\n");
		goto out;
	}

	printf("multicore: %d threads listening on 127.0.0.1:%u\n", nworkers,
	    (unsigned)ntohs(sin.sin_port));
	fflush(stdout);

	for (started = 0; started < nworkers; ++started) {
		if (pthread_create(&workers[started].thread, NULL, run_worker,
		    &workers[started]) != 0) {
			fprintf(stderr, "multicore: cannot start a thread\n");
			stop_all();
			break;
		}
	}
	for (i = 0; i < started; ++i)
		pthread_join(workers[i].thread, NULL);

	if (started == nworkers) {
		for (i = 0; i < nworkers; ++i) {
			printf("thread %d: %lu connections\n", i, workers[i].accepted);
			total += workers[i].accepted;
		}
		printf("total: %lu connections\n", total);
		rc = 0;
	}

out:
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	for (i = 0; i < nworkers; ++i) {
		struct worker *w = &workers[i];

		while (w->conns)
			conn_free(w->conns);
		if (w->listener)
			evconnlistener_free(w->listener);
		if (w->base)
			event_base_free(w->base);
	}
	free(workers);
	return rc;
}

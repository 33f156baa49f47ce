/* evasio: libevent 2.1.12's event2/bufferevent.h API on Boost.Asio.
 * A socket bufferevent reads into its input evbuffer and writes out its
 * output evbuffer, calling back as libevent does. */
#ifndef EVASIO_EVENT2_BUFFEREVENT_H_INCLUDED_
#define EVASIO_EVENT2_BUFFEREVENT_H_INCLUDED_

/* What libevent's event2/bufferevent.h brings (on Linux). */
#include <sys/types.h>
#include <sys/time.h>

#include <event2/event.h>
#include <event2/buffer.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bufferevent;

#define BEV_EVENT_READING 0x01
#define BEV_EVENT_WRITING 0x02
#define BEV_EVENT_EOF 0x10
#define BEV_EVENT_ERROR 0x20
#define BEV_EVENT_TIMEOUT 0x40
#define BEV_EVENT_CONNECTED 0x80

typedef void (*bufferevent_data_cb)(struct bufferevent *bev, void *ctx);
typedef void (*bufferevent_event_cb)(struct bufferevent *bev, short what,
    void *ctx);

enum bufferevent_options {
	BEV_OPT_CLOSE_ON_FREE = (1<<0),
	BEV_OPT_THREADSAFE = (1<<1),
	BEV_OPT_DEFER_CALLBACKS = (1<<2),
	BEV_OPT_UNLOCK_CALLBACKS = (1<<3)
};

/* NULL with errno set on failure. */
struct bufferevent *bufferevent_socket_new(struct event_base *base,
    evutil_socket_t fd, int options);
/* Pending output is discarded, as in libevent. */
void bufferevent_free(struct bufferevent *bev);
void bufferevent_setcb(struct bufferevent *bev, bufferevent_data_cb readcb,
    bufferevent_data_cb writecb, bufferevent_event_cb eventcb, void *cbarg);
void bufferevent_getcb(struct bufferevent *bev,
    bufferevent_data_cb *readcb_ptr, bufferevent_data_cb *writecb_ptr,
    bufferevent_event_cb *eventcb_ptr, void **cbarg_ptr);
int bufferevent_enable(struct bufferevent *bev, short event);
int bufferevent_disable(struct bufferevent *bev, short event);
short bufferevent_get_enabled(struct bufferevent *bev);
struct evbuffer *bufferevent_get_input(struct bufferevent *bev);
struct evbuffer *bufferevent_get_output(struct bufferevent *bev);
int bufferevent_write(struct bufferevent *bev, const void *data, size_t size);
int bufferevent_write_buffer(struct bufferevent *bev, struct evbuffer *buf);
size_t bufferevent_read(struct bufferevent *bev, void *data, size_t size);
/* Moves all of the input into buf. 0 on success, -1 on failure. */
int bufferevent_read_buffer(struct bufferevent *bev, struct evbuffer *buf);
evutil_socket_t bufferevent_getfd(struct bufferevent *bev);
/* Replaces the fd (the old one is not closed); enabled directions go on. */
int bufferevent_setfd(struct bufferevent *bev, evutil_socket_t fd);
struct event_base *bufferevent_get_base(struct bufferevent *bev);
/* Moves a socket bufferevent to another base. Fails with -1 and errno EBUSY,
 * changing nothing, while it is reading or has output to write (while
 * libevent's read or write event would be added): disable it first. NULL
 * base or bev: -1, EINVAL. */
int bufferevent_base_set(struct event_base *base, struct bufferevent *bev);

/* Connects (making a socket first if the bufferevent has none). 0 when the
 * connect started: BEV_EVENT_CONNECTED or BEV_EVENT_ERROR follows through
 * the event callback. -1 on immediate failure. */
int bufferevent_socket_connect(struct bufferevent *bev,
    const struct sockaddr *sa, int socklen);
struct evdns_base;
/* Resolves hostname (with evdns_base, or NULL: evutil_getaddrinfo, which
 * blocks) and connects to the first address found, as libevent 2.1.12.
 * family: AF_INET, AF_INET6 or AF_UNSPEC; port 1-65535, else -1. Reading
 * and writing wait for the lookup; a failed lookup is BEV_EVENT_ERROR, its
 * EVUTIL_EAI_* code kept for bufferevent_socket_get_dns_error. */
int bufferevent_socket_connect_hostname(struct bufferevent *bev,
    struct evdns_base *evdns_base, int family, const char *hostname, int port);
/* The EVUTIL_EAI_* error of the last lookup of connect_hostname, or 0. */
int bufferevent_socket_get_dns_error(struct bufferevent *bev);

/* EV_READ: readcb runs once the input holds lowmark bytes; reading pauses
 * while it holds highmark (0: no limit). EV_WRITE: writecb runs once the
 * output is down to lowmark. */
void bufferevent_setwatermark(struct bufferevent *bev, short events,
    size_t lowmark, size_t highmark);
int bufferevent_getwatermark(struct bufferevent *bev, short events,
    size_t *lowmark, size_t *highmark);
/* Reading (writing) that makes no progress for the timeout ends with
 * BEV_EVENT_TIMEOUT|BEV_EVENT_READING (WRITING) and disables that side.
 * NULL: no timeout. */
int bufferevent_set_timeouts(struct bufferevent *bev,
    const struct timeval *timeout_read, const struct timeval *timeout_write);

enum bufferevent_flush_mode {
	BEV_NORMAL = 0,
	BEV_FLUSH = 1,
	BEV_FINISHED = 2
};
/* Pushes data through now. Socket bufferevents write as soon as they can:
 * 0, as in libevent. Pairs: BEV_FLUSH and BEV_FINISHED move everything to
 * the partner, past its watermark; BEV_FINISHED also tells the partner
 * BEV_EVENT_EOF. Filters: the filter runs with this mode (BEV_FINISHED
 * also flushes the underlying bufferevent); 1 when it produced data. */
int bufferevent_flush(struct bufferevent *bev, short iotype,
    enum bufferevent_flush_mode mode);

/* The bufferevent a filter sits on; NULL for the other kinds. */
struct bufferevent *bufferevent_get_underlying(struct bufferevent *bufev);

/* Socket bufferevents: the priority (of the base's, as event_priority_set)
 * their I/O and callbacks are recorded at. -1 for another kind, a priority
 * out of range. */
int bufferevent_priority_set(struct bufferevent *bufev, int pri);
int bufferevent_get_priority(const struct bufferevent *bufev);

/* The most one read (write) takes; 0 restores the default (evasio reads
 * 65536 bytes at most and writes all it can, libevent 16384 each). */
int bufferevent_set_max_single_read(struct bufferevent *bev, size_t size);
int bufferevent_set_max_single_write(struct bufferevent *bev, size_t size);
ev_ssize_t bufferevent_get_max_single_read(struct bufferevent *bev);
ev_ssize_t bufferevent_get_max_single_write(struct bufferevent *bev);

/* ---- Filters (libevent's bufferevent_filter) ---------------------------
 * A bufferevent over another: what the underlying one reads goes through
 * input_filter into this one's input; what is written to this one goes
 * through output_filter into the underlying one's output. */
enum bufferevent_filter_result {
	BEV_OK = 0,        /* produced something */
	BEV_NEED_MORE = 1, /* cannot produce more without more input */
	BEV_ERROR = 2      /* the data is bad (libevent reports nothing: the
	                      filter just produces no more for now) */
};
/* Moves what it can from src to dst, at most dst_limit bytes (-1: no
 * limit) unless mode asks for a flush. */
typedef enum bufferevent_filter_result (*bufferevent_filter_cb)(
    struct evbuffer *src, struct evbuffer *dst, ev_ssize_t dst_limit,
    enum bufferevent_flush_mode mode, void *ctx);
/* A NULL filter passes bytes unchanged. BEV_OPT_CLOSE_ON_FREE frees the
 * underlying bufferevent with this one; free_context(ctx) runs at the end. */
struct bufferevent *bufferevent_filter_new(struct bufferevent *underlying,
    bufferevent_filter_cb input_filter, bufferevent_filter_cb output_filter,
    int options, void (*free_context)(void *), void *ctx);

/* ---- Pairs (libevent's bufferevent_pair) -------------------------------
 * Two bufferevents in one process, each one's output the other's input.
 * Their callbacks are always deferred; with BEV_OPT_THREADSAFE they share
 * one lock. */
int bufferevent_pair_new(struct event_base *base, int options,
    struct bufferevent *pair[2]);
/* The other side, or NULL (not a pair, or the other side was freed). */
struct bufferevent *bufferevent_pair_get_partner(struct bufferevent *bev);

/* Options of bufferevent_trigger and bufferevent_trigger_event. */
enum bufferevent_trigger_options {
	/* call the callback whatever the watermarks say */
	BEV_TRIG_IGNORE_WATERMARKS = (1<<16),
	/* call it from the loop, as with BEV_OPT_DEFER_CALLBACKS */
	BEV_TRIG_DEFER_CALLBACKS = BEV_OPT_DEFER_CALLBACKS
};

/* Calls the read (EV_READ) and/or write (EV_WRITE) callback as if data had
 * arrived or been written: the read callback when the input holds at least
 * its low watermark, the write callback when the output holds at most its
 * own, unless BEV_TRIG_IGNORE_WATERMARKS. */
void bufferevent_trigger(struct bufferevent *bufev, short iotype, int options);

/* Calls the event callback with `what` (BEV_EVENT_*). */
void bufferevent_trigger_event(struct bufferevent *bufev, short what, int options);

/* An extra reference: the bufferevent's memory stays until as many
 * bufferevent_decref calls. */
void bufferevent_incref(struct bufferevent *bufev);

/* Drops a reference; 1 when it was the last one (the bufferevent is gone:
 * without bufferevent_free before, this was its free), else 0. */
int bufferevent_decref(struct bufferevent *bufev);

/* Locks a BEV_OPT_THREADSAFE bufferevent (recursively); no-op otherwise. */
void bufferevent_lock(struct bufferevent *bev);
void bufferevent_unlock(struct bufferevent *bev);

/* ---- Rate limits (libevent's bufferevent_ratelim) ---------------------
 * Token buckets refilled every tick: a bufferevent's own, and a group's
 * shared by its members. A bufferevent that has spent its bucket stops
 * reading (writing) until a refill brings it above zero. */
struct ev_token_bucket_cfg;
struct bufferevent_rate_limit_group;

#define EV_RATE_LIMIT_MAX EV_SSIZE_MAX

/* Bytes per tick on average (rate) and at most (burst); tick_len NULL: one
 * second, fractions of a millisecond ignored. NULL (errno EINVAL) for a
 * rate of 0, a rate above its burst or a value above EV_RATE_LIMIT_MAX;
 * evasio also refuses a tick under a millisecond or negative. */
struct ev_token_bucket_cfg *ev_token_bucket_cfg_new(
    size_t read_rate, size_t read_burst,
    size_t write_rate, size_t write_burst,
    const struct timeval *tick_len);
/* Not counted: free it only once no bufferevent uses it. */
void ev_token_bucket_cfg_free(struct ev_token_bucket_cfg *cfg);

/* cfg NULL removes the bufferevent's own limit. 0, or -1 on failure. */
int bufferevent_set_rate_limit(struct bufferevent *bev,
    struct ev_token_bucket_cfg *cfg);
/* The group's timer runs on base, whatever the members' bases. */
struct bufferevent_rate_limit_group *bufferevent_rate_limit_group_new(
    struct event_base *base, const struct ev_token_bucket_cfg *cfg);
int bufferevent_rate_limit_group_set_cfg(
    struct bufferevent_rate_limit_group *, const struct ev_token_bucket_cfg *);
/* The least a member may move at once (default 64, at most a tick's rate):
 * a tight group lets some members go per tick rather than all a little. */
int bufferevent_rate_limit_group_set_min_share(
    struct bufferevent_rate_limit_group *, size_t);
void bufferevent_rate_limit_group_free(struct bufferevent_rate_limit_group *);
/* One group at most: joining another leaves the old one. g NULL: leaves. */
int bufferevent_add_to_rate_limit_group(struct bufferevent *bev,
    struct bufferevent_rate_limit_group *g);
int bufferevent_remove_from_rate_limit_group(struct bufferevent *bev);

/* The own bucket now (may be negative); EV_SSIZE_MAX without a limit. */
ev_ssize_t bufferevent_get_read_limit(struct bufferevent *bev);
ev_ssize_t bufferevent_get_write_limit(struct bufferevent *bev);
/* What the next read (write) may take, with the group's share too. */
ev_ssize_t bufferevent_get_max_to_read(struct bufferevent *bev);
ev_ssize_t bufferevent_get_max_to_write(struct bufferevent *bev);
const struct ev_token_bucket_cfg *bufferevent_get_token_bucket_cfg(
    const struct bufferevent *bev);
ev_ssize_t bufferevent_rate_limit_group_get_read_limit(
    struct bufferevent_rate_limit_group *);
ev_ssize_t bufferevent_rate_limit_group_get_write_limit(
    struct bufferevent_rate_limit_group *);
/* Takes decr from the own bucket (negative: gives); crossing zero stops or
 * resumes. The group's bucket is not touched. */
int bufferevent_decrement_read_limit(struct bufferevent *bev, ev_ssize_t decr);
int bufferevent_decrement_write_limit(struct bufferevent *bev, ev_ssize_t decr);
int bufferevent_rate_limit_group_decrement_read(
    struct bufferevent_rate_limit_group *, ev_ssize_t);
int bufferevent_rate_limit_group_decrement_write(
    struct bufferevent_rate_limit_group *, ev_ssize_t);
/* Bytes the members have read and written since the group was made or
 * its totals reset. */
void bufferevent_rate_limit_group_get_totals(
    struct bufferevent_rate_limit_group *grp,
    ev_uint64_t *total_read_out, ev_uint64_t *total_written_out);
void bufferevent_rate_limit_group_reset_totals(
    struct bufferevent_rate_limit_group *grp);
/* ---- end of rate limits ------------------------------------------------- */

#ifdef __cplusplus
}
#endif

#endif /* EVASIO_EVENT2_BUFFEREVENT_H_INCLUDED_ */

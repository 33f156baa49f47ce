// Rate limits of bufferevents (libevent's bufferevent_ratelim): token
// buckets refilled once per tick, a bufferevent's own limit and a group's
// shared one.
//
// A bucket holds the bytes that may still move this tick, signed: one read
// may take more than is left (the bucket then goes negative and stays shut
// until refills bring it above zero). Ticks are counted on the monotonic
// clock, in whole milliseconds of the configured tick length.
//
// The bufferevent side costs nothing without a limit: the core keeps a
// pointer to its bev_rate_limit, null until a limit or a group is set, and
// asks it only when it is there.
#ifndef EVASIO_DETAIL_RATELIM_HPP_INCLUDED_
#define EVASIO_DETAIL_RATELIM_HPP_INCLUDED_

#include "base.hpp"
#include "lock.hpp"

#include <event2/util.h>

#include <boost/asio/steady_timer.hpp>

#include <sys/time.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

struct event_base;
struct bufferevent;

// What ev_token_bucket_cfg_new() makes: bytes per tick on average (rate)
// and at most (maximum, the burst), and the tick.
struct ev_token_bucket_cfg {
  size_t read_rate;
  size_t read_maximum;
  size_t write_rate;
  size_t write_maximum;
  struct timeval tick_timeout;  // as given: the refill timers wait this long
  unsigned msec_per_tick;       // the tick's whole milliseconds: what ticks count
};

namespace evasio::detail {

using tick_t = std::uint32_t;  // wraps; refills look at differences only

// The tick the monotonic clock is in now.
tick_t current_tick(const ev_token_bucket_cfg& cfg) noexcept;

struct token_bucket {
  ev_ssize_t read_limit = 0;
  ev_ssize_t write_limit = 0;
  tick_t last_updated = 0;

  // A fresh bucket: one tick's rate, counted from this tick.
  void start(const ev_token_bucket_cfg& cfg, tick_t now) noexcept;
  // A running bucket under a new cfg keeps what it has, down to the new
  // burst (this tick's bandwidth may be spent already).
  void clip(const ev_token_bucket_cfg& cfg) noexcept;
  // Adds a rate for every tick since the last update, up to the burst.
  // False when no tick passed (or the clock went back).
  bool refill(const ev_token_bucket_cfg& cfg, tick_t now) noexcept;
};

// libevent's reasons a bufferevent stops reading or writing, for bandwidth:
// its own bucket, or its group's.
enum bw_reason : unsigned { suspend_bw = 0x02, suspend_bw_group = 0x04 };

// What a limit asks of its bufferevent; the core implements it. The calls
// that change suspension come with the bufferevent's lock held.
class limit_owner {
public:
  virtual void bw_suspend(short what, bw_reason why) = 0;
  virtual void bw_unsuspend(short what, bw_reason why) = 0;
  virtual event_base* bw_base() noexcept = 0;
  virtual void bw_lock() noexcept = 0;
  virtual bool bw_try_lock() noexcept = 0;
  virtual void bw_unlock() noexcept = 0;
  // Keeps the bufferevent alive for a refill handler under way.
  virtual void bw_retain() noexcept = 0;
  virtual void bw_release() noexcept = 0;

protected:
  ~limit_owner() = default;
};

// A refill handler's hold on its bufferevent. Released when the handler is
// destroyed, run or not: an io_context torn down with the wait still queued
// destroys it without a call.
class owner_hold {
public:
  explicit owner_hold(limit_owner& o) noexcept : o_(&o) { o_->bw_retain(); }
  owner_hold(owner_hold&& h) noexcept : o_(h.o_) { h.o_ = nullptr; }
  owner_hold(const owner_hold&) = delete;
  owner_hold& operator=(const owner_hold&) = delete;
  owner_hold& operator=(owner_hold&&) = delete;
  ~owner_hold() {
    if (o_)
      o_->bw_release();
  }
  limit_owner& operator*() const noexcept { return *o_; }

private:
  limit_owner* o_;
};

class bev_rate_limit;

} // namespace evasio::detail

// A group: one bucket for all of its members, refilled by a timer on its
// base every tick for as long as it exists (a pending event, as libevent's).
struct bufferevent_rate_limit_group final : evasio::detail::attached {
  bufferevent_rate_limit_group(event_base* base, const ev_token_bucket_cfg& cfg);

  void set_cfg(const ev_token_bucket_cfg& cfg);
  int set_min_share(size_t share) noexcept;
  // Bytes one member may move now (lock held).
  ev_ssize_t share_of(bool write) const noexcept;
  // A member moved n bytes (n may be negative: the program's decrement).
  void spend(bool write, ev_ssize_t n, bool count_total);
  void join(evasio::detail::bev_rate_limit* m);
  void leave(evasio::detail::bev_rate_limit* m) noexcept;
  void free() noexcept;
  void detach_from_base() noexcept override;

  evasio::detail::optional_recursive_mutex lock;
  ev_token_bucket_cfg cfg;
  evasio::detail::token_bucket bucket;
  bool read_suspended = false;
  bool write_suspended = false;
  std::uint64_t total_read = 0;
  std::uint64_t total_written = 0;

private:
  ~bufferevent_rate_limit_group() override;
  friend void intrusive_ptr_add_ref(bufferevent_rate_limit_group* g) noexcept {
    g->refs_.fetch_add(1, std::memory_order_relaxed);
  }
  friend void intrusive_ptr_release(bufferevent_rate_limit_group* g) noexcept {
    if (g->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1)
      delete g;
  }
  void arm(std::chrono::steady_clock::time_point at);
  void drop_base() noexcept;
  void on_tick();
  void suspend(bool write);
  void unsuspend(bool write);
  size_t random_index() noexcept;

  event_base* base_;
  std::unique_ptr<boost::asio::steady_timer> timer_;
  std::vector<evasio::detail::bev_rate_limit*> members_;
  size_t configured_min_share_ = 0;
  ev_ssize_t min_share_ = 0;
  // Members whose lock was busy when the group resumed: retried next tick.
  bool pending_unsuspend_read_ = false;
  bool pending_unsuspend_write_ = false;
  std::uint32_t rng_;
  std::atomic<int> refs_{1};
  bool freed_ = false;
};

namespace evasio::detail {

// A bufferevent's limits: its own bucket (with a cfg) and its group, if any.
// Every call but the constructor comes with the bufferevent's lock held.
class bev_rate_limit {
public:
  explicit bev_rate_limit(limit_owner& owner) noexcept : owner_(owner) {}
  ~bev_rate_limit();
  bev_rate_limit(const bev_rate_limit&) = delete;
  bev_rate_limit& operator=(const bev_rate_limit&) = delete;

  // ---- the hot path of a limited bufferevent
  // How much the next read (write) may take, from `single`, the most one
  // may take without limits; 0 when a bucket is spent.
  ev_ssize_t max_to(bool write, ev_ssize_t single);
  // A read (write) moved n bytes: the buckets and the group's totals.
  void spent(bool write, ev_ssize_t n);

  // ---- the API
  int set_cfg(ev_token_bucket_cfg* cfg);
  const ev_token_bucket_cfg* cfg() const noexcept { return cfg_; }
  // The own bucket, refilled to now; EV_SSIZE_MAX without a cfg.
  ev_ssize_t limit(bool write);
  int decrement(bool write, ev_ssize_t n);
  int join(bufferevent_rate_limit_group* g);
  void leave_group(bool unsuspend) noexcept;
  bufferevent_rate_limit_group* group() const noexcept { return group_; }

  // The bufferevent leaves its base (base_set, the base freed): the timer
  // goes; enter_base() arms it on the new one if it was waiting.
  void leave_base() noexcept;
  void enter_base();

private:
  friend struct ::bufferevent_rate_limit_group;
  void refresh();
  void check_own(bool write);
  void arm_refill();
  void disarm_refill() noexcept;
  void on_refill(unsigned seq);

  limit_owner& owner_;
  ev_token_bucket_cfg* cfg_ = nullptr;
  token_bucket bucket_;
  bufferevent_rate_limit_group* group_ = nullptr;
  short own_suspended_ = 0;  // EV_READ / EV_WRITE stopped by the own bucket
  std::unique_ptr<boost::asio::steady_timer> refill_;
  event_base* armed_on_ = nullptr;  // where the armed refill counts as pending
  bool rearm_ = false;              // armed when it left its base
  unsigned seq_ = 0;
};

// The core's hook: bev's limits, made on first use when `make`; nullptr
// when it has none (or, with errno set, when they cannot be made).
bev_rate_limit* rate_limit_of(::bufferevent* bev, bool make);
// The core's: the most one read (write) of bev takes without limits.
ev_ssize_t single_max_of(::bufferevent* bev, bool write) noexcept;

} // namespace evasio::detail

#endif

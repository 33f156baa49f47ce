// What every kind of bufferevent shares, as libevent's bufferevent.c: the
// public struct, the reference count, the lock, the callbacks (run at once
// or deferred to the loop), the read watermark's suspension, the timeout
// timers and the rate limits. A kind (socket, pair, filter) derives from it
// and implements its few operations: libevent's bufferevent_ops table, here
// as virtual functions.
#ifndef EVASIO_DETAIL_BUFFEREVENT_CORE_HPP_INCLUDED_
#define EVASIO_DETAIL_BUFFEREVENT_CORE_HPP_INCLUDED_

#include "base.hpp"
#include "evbuffer.hpp"
#include "lock.hpp"
#include "ratelim.hpp"

#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive_ptr.hpp>

#include <atomic>
#include <chrono>
#include <memory>

// A kind's identity: be_ops points at its kind's table, as in libevent.
struct bufferevent_ops {
  const char* type;
};

namespace evasio::detail {

extern const bufferevent_ops socket_ops;
extern const bufferevent_ops pair_ops;
extern const bufferevent_ops filter_ops;

// Its public part (struct bufferevent, a base class: the C pointer and this
// object convert both ways with no lookup) holds the state libevent
// exposes, and is where that state lives: callbacks, what is enabled, the
// watermarks and timeouts are read from those fields every time, so that a
// program that sets one directly is obeyed, as with libevent.
class bufferevent_core : public ::bufferevent, public attached, public limit_owner {
public:
  bufferevent_core(event_base* base, int options, const bufferevent_ops& ops);
  ~bufferevent_core() override;
  bufferevent_core(const bufferevent_core&) = delete;
  bufferevent_core& operator=(const bufferevent_core&) = delete;

  static bufferevent_core* of(::bufferevent* bev) noexcept {
    return static_cast<bufferevent_core*>(bev);
  }
  friend void intrusive_ptr_add_ref(bufferevent_core* b) noexcept {
    b->refs_.fetch_add(1, std::memory_order_relaxed);
  }
  friend void intrusive_ptr_release(bufferevent_core* b) noexcept {
    if (b->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1)
      delete b;
  }
  using ref = boost::intrusive_ptr<bufferevent_core>;

  // ---- the C API, each taking the lock ----
  void setcb(bufferevent_data_cb r, bufferevent_data_cb w, bufferevent_event_cb e, void* arg);
  void getcb(bufferevent_data_cb* r, bufferevent_data_cb* w, bufferevent_event_cb* e, void** arg);
  int enable(short what);
  int disable(short what);
  short get_enabled();
  event_base* get_base();
  void setwatermark(short events, size_t low, size_t high);
  int getwatermark(short events, size_t* low, size_t* high);
  int set_timeouts(const struct timeval* rd, const struct timeval* wr);
  int flush(short iotype, bufferevent_flush_mode mode);
  void free();
  void trigger(short iotype, int options);
  void trigger_event(short what, int options);
  void incref() noexcept { intrusive_ptr_add_ref(this); }
  int decref();
  int set_max_single(bool write, size_t n);
  ev_ssize_t max_single(bool write);
  int priority_set(int pri);
  int get_priority();
  evutil_socket_t getfd();
  int setfd(evutil_socket_t fd);
  ::bufferevent* underlying();
  // The socket bufferevent a kind runs on, for bufferevent_socket_connect
  // (a TLS bufferevent made on a socket); null for the others.
  ::bufferevent* socket_under() { return kind_socket(); }
  void detach_from_base() noexcept override;
  // Onto its base's list of objects (event_base_free detaches survivors).
  void attach_to_base();

  // Rate limits (bufferevent_ratelim.cpp): made with the first limit or group.
  bev_rate_limit* limits(bool make);
  // limit_owner: only the socket kind reads and writes by the buckets.
  void bw_suspend(short, bw_reason) override {}
  void bw_unsuspend(short, bw_reason) override {}
  event_base* bw_base() noexcept override { return ev_base; }
  void bw_lock() noexcept override { mutex_.lock(); }
  bool bw_try_lock() noexcept override { return mutex_.try_lock(); }
  void bw_unlock() noexcept override { mutex_.unlock(); }
  void bw_retain() noexcept override { intrusive_ptr_add_ref(this); }
  void bw_release() noexcept override { intrusive_ptr_release(this); }

  // ---- for the kinds ----
  // Calls the callbacks as libevent's bufferevent_run_*cb_: at once, or
  // from the loop with BEV_OPT_DEFER_CALLBACKS or when asked.
  void run_readcb(bool defer_anyway = false);
  void run_writecb(bool defer_anyway = false);
  void run_eventcb(short what, int err, bool defer_anyway = false);
  // libevent's bufferevent_trigger_nolock_: the data callbacks, if the
  // watermarks allow.
  void trigger_nolock(short iotype, int options);
  // Suspends reading at the high watermark, resumes below it.
  void update_read_suspension();
  // libevent's bufferevent_suspend_read_ and _unsuspend_read_: reading
  // stops while any reason holds (the lock taken).
  enum read_suspension : unsigned { suspend_wm = 0x01, suspend_filt_read = 0x08 };
  void suspend_read(read_suspension why, bool on);
  bool read_suspended() const noexcept { return read_susp_ != 0; }
  // Timeout timers, counted from now; run while wanted (sync_timer).
  void restart_timer(bool reading) noexcept;
  void disarm_timer(bool reading) noexcept;
  void sync_timer(bool reading, bool want) noexcept;
  // libevent's generic timeouts (pairs, filters): read while reading is
  // enabled and not suspended, write while there is output to write.
  void generic_adj_timeouts() noexcept;

  optional_recursive_mutex mutex_;
  evbuffer input_;
  evbuffer output_;
  const int options_;

protected:
  // ---- libevent's bufferevent_ops ----
  // After enabled |= what (disabled: &= ~what), lock held.
  virtual int kind_enable(short what) = 0;
  virtual int kind_disable(short what) = 0;
  // bufferevent_free: stop, let go of the fd or the other bufferevents.
  virtual void kind_unlink() noexcept = 0;
  // The timeouts changed (bufferevent_set_timeouts).
  virtual void kind_adj_timeouts() noexcept { generic_adj_timeouts(); }
  virtual int kind_flush(short, bufferevent_flush_mode) { return 0; }
  virtual evutil_socket_t kind_getfd() { return -1; }
  virtual int kind_setfd(evutil_socket_t) { return -1; }
  virtual ::bufferevent* kind_underlying() { return nullptr; }
  virtual ::bufferevent* kind_socket() { return nullptr; }
  // Reading suspended at the high watermark (true) or resumed.
  virtual void kind_read_suspension(bool suspended);
  // After a change of state outside the kind (callbacks run from the loop,
  // a watermark set, input drained): it brings its I/O up to date.
  virtual void kind_sync() {}
  // A timeout fired (its timer disarmed): libevent's generic timeout callback.
  virtual void kind_timeout(bool reading);
  // The base goes (event_base_free, base_set): give up its Asio objects.
  virtual void kind_leave_base() noexcept {}

  // Handlers posted to the io_context (timers, deferred callbacks) carry
  // the generation of the base they were posted for: once the bufferevent
  // left that base (base_set, its base or itself freed) they do nothing,
  // and look at nothing else first.
  bool stale(unsigned gen) const noexcept {
    return gen != base_gen_.load(std::memory_order_acquire);
  }
  unsigned base_gen() const noexcept { return base_gen_.load(std::memory_order_relaxed); }
  // Leaves the base: timers, a posted run of deferred callbacks, the kind's part.
  void leave_base() noexcept;
  void post_deferred();
  bool refs_one() const noexcept { return refs_.load(std::memory_order_acquire) == 1; }

  bool freed_ = false;
  std::unique_ptr<bev_rate_limit> limits_;  // null: no limit, no cost
  unsigned deferred_ = 0;
  size_t max_single_read_;
  size_t max_single_write_;
  int priority_;  // socket bufferevents': recorded, see bufferevent_priority_set
  // Armed timeouts count as pending events (false: the kind counts its own).
  bool count_timeouts_ = true;

  enum deferred_kind : unsigned { deferred_read = 1, deferred_write = 2, deferred_event = 4 };
  // Queued for the loop whatever the options and callbacks say now.
  void defer(unsigned kind);
  void defer_eventcb(short what, int err);

private:
  struct timeout_timer {
    bool armed = false;
    unsigned seq = 0;
    std::unique_ptr<boost::asio::steady_timer> timer;  // made when first armed
  };
  std::chrono::microseconds timeout_of(bool reading) const noexcept;
  void on_timeout(bool reading, unsigned seq, unsigned gen);
  void set_armed(timeout_timer& t, bool armed) noexcept;
  void set_read_suspended(unsigned why, bool on);
  void recheck_high_watermark();
  void run_deferred(unsigned gen);
  static void input_drained(void* self) noexcept;

  std::atomic<int> refs_{1};
  unsigned read_susp_ = 0;  // read_suspension bits
  timeout_timer timers_[2];      // read, write
  short deferred_what_ = 0;
  int deferred_err_ = 0;
  bool deferred_posted_ = false;
  std::atomic<unsigned> base_gen_{0};  // bumped when it leaves a base, see stale()
};

// How much one read takes by default (libevent's is 16384).
constexpr size_t default_single_read = 65536;

} // namespace evasio::detail

#endif

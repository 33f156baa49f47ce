// struct event_base: libevent's loop, as a thin layer over an io_context.
//
// libevent's loop returns "no events" when nothing is added; Asio's returns
// when it has no work. The two differ (a cancelled wait is Asio work but no
// libevent event), so the base keeps libevent's count itself: `pending`
// counts added events (an enabled listener, a bufferevent reading or with
// output to write, a loopexit timer), `active` counts callbacks posted and
// not yet run. The loop runs handlers one at a time so that loopbreak and
// loopexit take effect between callbacks, as in libevent.
#ifndef EVASIO_DETAIL_BASE_HPP_INCLUDED_
#define EVASIO_DETAIL_BASE_HPP_INCLUDED_

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <limits>
#include <memory>
#include <mutex>
#include <vector>

struct event_base;

namespace evasio::detail {

// An object living on a base (listener, bufferevent). The base keeps a list
// of them so that event_base_free() can detach the survivors: their Asio
// objects belong to the io_context, which may be destroyed with the base.
class event_core;
class io_mux;

class attached {
public:
  virtual ~attached() = default;
  // Cancel operations, give up Asio objects, forget the base.
  virtual void detach_from_base() noexcept = 0;

private:
  friend struct ::event_base;
  attached* prev_ = nullptr;
  attached* next_ = nullptr;
};

// Whether evthread_use_pthreads() was called: bases made after it lock.
extern std::atomic<bool> threads_enabled;

// What an event_config asks of a base (event_base_new_with_config); the
// defaults are event_base_new()'s.
struct base_settings {
  int flags = 0;  // EVENT_BASE_FLAG_*
  // event_config_set_max_dispatch_interval: after max_interval (negative:
  // no limit) or max_callbacks callbacks of priority >= limit_after_prio,
  // the loop polls again before it runs more.
  std::chrono::microseconds max_interval{-1};
  int max_callbacks = std::numeric_limits<int>::max();
  int limit_after_prio = 0;
};

// The one method: what event_base_get_method() reports ("epoll" on Linux).
const char* backend_method() noexcept;

} // namespace evasio::detail

struct event_base {
  explicit event_base(boost::asio::io_context* borrowed,
                      const evasio::detail::base_settings& settings = {});
  ~event_base();
  event_base(const event_base&) = delete;
  event_base& operator=(const event_base&) = delete;

  boost::asio::io_context& context() noexcept { return *ctx_; }
  const evasio::detail::base_settings& settings() const noexcept { return settings_; }
  // Whether several threads may run this base's handlers at once: a
  // borrowed io_context (the application decides), or evthread_use_pthreads()
  // called before the base was made. Objects on such a base always lock.
  bool multi_threaded() const noexcept { return multi_threaded_; }

  int loop(int flags);
  int loopexit(const struct timeval* tv);
  void loopbreak() noexcept;
  bool got_exit() const noexcept { return got_exit_; }
  bool got_break() const noexcept { return got_break_; }

  // libevent's event count: an event was added (+1) or deleted (-1).
  void add_pending(int delta) noexcept { pending_.fetch_add(delta, std::memory_order_relaxed); }
  // A user-visible callback ran: EVLOOP_ONCE may return.
  void note_callback() noexcept { callbacks_.fetch_add(1, std::memory_order_relaxed); }

  // A callback was posted (+1) or ran (-1).
  void add_active(int delta) noexcept { active_.fetch_add(delta, std::memory_order_relaxed); }
  int pending_count() const noexcept { return pending_.load(std::memory_order_relaxed); }
  // Held weakly by handlers that may outlive the base (borrowed contexts).
  const std::shared_ptr<event_base*>& token() const noexcept { return self_; }
  evasio::detail::event_core& events() noexcept { return *events_; }
  // The epoll set of this base's bufferevents when the base owns its
  // io_context (see fd_watch.hpp), made on first use; nullptr over a
  // borrowed io_context, or if it cannot be made (bufferevents then wait
  // through Asio's reactor).
  evasio::detail::io_mux* mux() noexcept;

  void attach(evasio::detail::attached* obj);
  void detach(evasio::detail::attached* obj) noexcept;
  // A thread-safe object (BEV_OPT_THREADSAFE, LEV_OPT_THREADSAFE) is being
  // made on this base: from now on (for good) the object list and the epoll
  // set lock, so that other threads may make, enable, disable, write and
  // free such objects while the loop runs. The call itself must not race
  // with other use of the base: as for any base made without evthread, that
  // is the thread running its loop, or any thread while no loop runs.
  void share_with_threads();
  // event_reinit: in a fork's child, the kernel objects shared with the
  // parent (epoll sets, the signal pipe) are made anew with this base's
  // registrations. Over a borrowed io_context, Asio's part is the
  // application's (io_context::notify_fork); evasio's own sets are remade.
  int reinit();

private:
  bool has_events() const noexcept {
    return pending_.load(std::memory_order_relaxed) > 0 || active_.load(std::memory_order_relaxed) > 0;
  }
  void on_exit_timer(boost::asio::steady_timer* t);
  std::unique_lock<std::mutex> lock_if_threaded();
  bool locking() const noexcept {
    return multi_threaded_ || shared_.load(std::memory_order_relaxed);
  }

  const evasio::detail::base_settings settings_;
  std::unique_ptr<boost::asio::io_context> owned_;
  boost::asio::io_context* ctx_;
  const bool multi_threaded_;
  std::atomic<bool> shared_{false};  // see share_with_threads()
  std::atomic<int> pending_{0};
  std::atomic<int> active_{0};
  std::atomic<unsigned long> callbacks_{0};
  std::atomic<bool> got_exit_{false};
  std::atomic<bool> got_break_{false};
  std::atomic<bool> running_{false};
  std::atomic<bool> exit_after_round_{false};
  unsigned round_seq_ = 0;
  unsigned round_done_ = 0;
  // Handlers posted to a borrowed io_context may outlive the base: they hold
  // this token weakly and do nothing once it is gone.
  std::shared_ptr<event_base*> self_;
  std::unique_ptr<evasio::detail::event_core> events_;
  evasio::detail::io_mux* mux_ = nullptr;
  bool mux_failed_ = false;

  std::mutex mutex_;  // guards the lists below once locking(); never per operation
  evasio::detail::attached* objects_ = nullptr;
  std::vector<std::unique_ptr<boost::asio::steady_timer>> exit_timers_;
};

#endif

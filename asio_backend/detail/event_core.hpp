// The machinery behind struct event: libevent's event loop core (an active
// queue, a timeout heap, per-fd and per-signal registrations) with Asio
// supplying readiness (descriptor waits), time (one steady_timer per base)
// and signals (a signal_set).
#ifndef EVASIO_DETAIL_EVENT_CORE_HPP_INCLUDED_
#define EVASIO_DETAIL_EVENT_CORE_HPP_INCLUDED_

#include "lock.hpp"

#include <event2/event.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive_ptr.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

struct event_base;

namespace evasio::detail {

struct fd_state;
class event_core;
using steady = std::chrono::steady_clock;

// Calls of a signal callback still to make; event_del zeroes it.
struct calls_left {
  short n;
  bool deleted;
};

// What lives inside struct event's storage. It owns nothing (trivially
// destructible), so a non-pending event may be freed without a call.
struct event_impl {
  static constexpr unsigned initialized_magic = 0x65766173u;
  unsigned magic;
  event_base* base;
  int fd;
  short events;
  short res;     // what fired, while active
  short ncalls;  // signal deliveries, while active
  struct calls_left* pncalls;  // while its callback repeats: the calls left
  event_callback_fn cb;
  void* arg;
  bool inserted;     // registered for its fd or signal
  bool has_timeout;  // in the timeout heap
  bool active;       // in the active queue
  bool counted;      // counted in the base's pending events
  bool allocated;    // by event_new: event_free frees it
  bool once;         // by event_base_once: freed after its callback
  event_impl* prev;  // in its fd's or signal's list
  event_impl* next;
  fd_state* fds;
  event_impl* act_prev;
  event_impl* act_next;
  size_t heap_index;
  steady::time_point deadline;
  struct timeval wall_deadline;
  std::chrono::microseconds interval;  // EV_PERSIST: the timeout to re-add
};

class event_core {
public:
  explicit event_core(event_base& base);
  ~event_core();

  int add(event_impl* ev, const struct timeval* tv);
  int del(event_impl* ev);
  void activate(event_impl* ev, short res, short ncalls);
  int pending(const event_impl* ev, short what, struct timeval* tv);
  int num_events(unsigned flags);
  int cached_time(struct timeval* tv);
  int once(int fd, short events, event_callback_fn cb, void* arg, const struct timeval* tv);

  // libevent's pass: each fd is looked at once, then the active events run.
  // The loop starts a pass when it is called (`probe`: look at the fds that
  // were ready last time now, so that this call runs them). After each run
  // of the active queue the next pass starts by itself, unless the loop
  // begins every pass itself (EVLOOP_NONBLOCK, which counts its passes).
  void begin_pass(bool probe);
  void set_loop_begins_passes(bool on);
  // Whether a run of the active queue is queued, and how many have run.
  bool drain_due();
  unsigned long drains() const { return drains_.load(std::memory_order_acquire); }

  // Called back by fd registrations and Asio handlers.
  void activate_fd(fd_state* fs, short what);
  // An fd direction whose readiness made events active: looked at again in
  // the next pass, not this one.
  void defer_rearm(fd_state* fs, bool reading);
  boost::asio::io_context& context();
  optional_recursive_mutex& mutex() { return mutex_; }
  // event_reinit: the EV_ET epoll set, shared with the parent after a
  // fork, is made anew with the same events. 0, or -1 with errno.
  int after_fork();

private:
  int add_timeout(event_impl* ev, steady::time_point at, const struct timeval* tv);
  void del_nolock(event_impl* ev);
  void wait_for_callback(const event_impl* ev, recursive_scoped_lock& g);
  void begin_pass_nolock(bool probe);
  void activate_nolock(event_impl* ev, short res, short ncalls);
  void sync_count(event_impl* ev);
  void schedule_drain();
  void drain();
  void run_one_active(event_impl* ev, recursive_scoped_lock& g);

  // timeout heap
  void heap_push(event_impl* ev);
  void heap_erase(event_impl* ev);
  void heap_up(size_t i);
  void heap_down(size_t i);
  void rearm_timer();
  void on_timer();

  // fd and signal registrations
  int insert_io(event_impl* ev);
  void remove_io(event_impl* ev);
  int insert_signal(event_impl* ev);
  void remove_signal(event_impl* ev);
  void arm_signals();

  event_base& base_;
  optional_recursive_mutex mutex_;
  event_impl* act_head_ = nullptr;
  event_impl* act_tail_ = nullptr;
  size_t n_active_ = 0;
  bool drain_posted_ = false;
  bool draining_ = false;
  bool loop_begins_passes_ = false;
  std::atomic<unsigned long> drains_{0};
  struct rearm {
    boost::intrusive_ptr<fd_state> fs;
    bool reading;
  };
  std::vector<rearm> rearm_;        // directions to look at in the next pass
  std::vector<rearm> rearm_spare_;  // swapped with rearm_: no allocation per pass

  // The event whose callback runs now, and on which thread (multi-threaded
  // bases): event_del from another thread waits for it, as libevent's.
  const event_impl* current_ = nullptr;
  std::thread::id current_thread_;
  int current_waiters_ = 0;
  std::condition_variable_any current_done_;
  struct timeval cached_tv_ {};

  std::vector<event_impl*> heap_;
  boost::asio::steady_timer timer_;
  std::optional<steady::time_point> timer_at_;

  std::unordered_map<int, fd_state*> fds_;

  // EV_ET events: Asio's waits re-report an fd that is still ready, so true
  // edges come from an epoll of our own in edge-triggered mode, itself
  // watched through Asio.
  int insert_et(event_impl* ev);
  void remove_et(event_impl* ev);
  void arm_et();
  void on_et_ready();
  int et_epoll_ = -1;
  std::optional<boost::asio::posix::stream_descriptor> et_desc_;
  std::unordered_map<int, event_impl*> et_events_;  // fd -> list
  bool et_wait_ = false;

  std::optional<boost::asio::signal_set> signals_;
  std::map<int, event_impl*> sig_events_;  // signal number -> list
  bool signal_wait_ = false;

  std::vector<event_impl*> once_events_;
};

} // namespace evasio::detail

#endif

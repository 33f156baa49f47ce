// The machinery behind struct event: libevent's event loop core (an active
// queue, a timeout heap, per-fd and per-signal registrations) with Asio
// supplying readiness (descriptor waits), time (one steady_timer per base)
// and signals (a signal_set).
#ifndef EVASIO_DETAIL_EVENT_CORE_HPP_INCLUDED_
#define EVASIO_DETAIL_EVENT_CORE_HPP_INCLUDED_

#include "base.hpp"
#include "lock.hpp"

#include <event2/event.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive_ptr.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
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

// struct event seen from C++: the same layout as the C struct (libevent
// 2.1.12's, checked member by member in event.cpp), the public members the
// one source of truth, evasio's private state in libevent's internal
// members and padding. It owns nothing (trivially destructible), so a
// non-pending event may be freed without a call.
struct event_impl {
  static constexpr unsigned initialized_magic = 0x65766173u;
  // private bits (`state`)
  static constexpr unsigned char counted = 0x01;    // in the base's pending events
  static constexpr unsigned char allocated = 0x02;  // by event_new
  static constexpr unsigned char once = 0x04;       // by event_base_once: freed after its callback
  // closures
  static constexpr unsigned char run_callback = 0;
  static constexpr unsigned char run_finalizer = 1;
  static constexpr unsigned char run_finalizer_free = 2;  // then free it (event_free_finalize)

  // ev_evcallback
  event_impl* act_next;  // evcb_active_next: the active queue of its priority
  event_impl* act_prev;
  short flags;           // evcb_flags: EVLIST_*
  unsigned char pri;     // evcb_pri
  unsigned char closure; // evcb_closure: what runs when it is active (closures below)
  unsigned char state;   // padding: private bits above
  unsigned char pad0_;
  short ncalls;          // padding: signal deliveries, while active
  union {
    event_callback_fn cb;          // evcb_cb_union.evcb_callback
    event_finalize_callback_fn fin;  // evcb_evfinalize, once finalizing
  };
  void* arg;             // evcb_arg
  // ev_timeout_pos
  unsigned heap_index;   // min_heap_idx
  unsigned pad1_;
  fd_state* fds;         // its fd's registration, while inserted
  int fd;                // ev_fd
  unsigned magic;        // padding
  event_base* base;      // ev_base
  // ev_: the list of its fd or signal, then the timeout's private state
  event_impl* next;
  event_impl* prev;
  steady::time_point deadline;
  std::chrono::microseconds interval;  // EV_PERSIST: the timeout to re-add
  short events;          // ev_events
  short res;             // ev_res: what fired, while active and in the callback
  int pad2_;
  struct timeval wall_deadline;  // ev_timeout: the expiry event_pending reports

  bool is(short list) const { return (flags & list) != 0; }
  void set(short list, bool on) { flags = on ? short(flags | list) : short(flags & ~list); }
  bool has(unsigned char bit) const { return (state & bit) != 0; }
  void mark(unsigned char bit, bool on) {
    state = on ? static_cast<unsigned char>(state | bit) : static_cast<unsigned char>(state & ~bit);
  }
};

inline event_impl* impl(struct event* ev) { return reinterpret_cast<event_impl*>(ev); }
inline const event_impl* impl(const struct event* ev) {
  return reinterpret_cast<const event_impl*>(ev);
}
// Assigned (and not unassigned or freed since). The magic, not EVLIST_INIT,
// says so: other threads may read it while the loop changes the flags.
inline bool initialized(const struct event* ev) {
  return ev && impl(ev)->magic == event_impl::initialized_magic;
}

constexpr short io_kinds = EV_READ | EV_WRITE | EV_CLOSED;

// Initialized and on a base, else false (with libevent's warning naming fn
// when there is no base).
bool on_base(const struct event* ev, const char* fn);

class event_core {
public:
  explicit event_core(event_base& base);
  ~event_core();

  int add(event_impl* ev, const struct timeval* tv);
  // Whether event_del waits for the event's callback running on another
  // thread: always, never, or unless the event has EV_FINALIZE (libevent's
  // EVENT_DEL_BLOCK, _NOBLOCK, _AUTOBLOCK).
  enum class del_wait { block, noblock, autoblock };
  int del(event_impl* ev, del_wait wait = del_wait::autoblock);
  int remove_timer(event_impl* ev);
  void activate(event_impl* ev, short res, short ncalls);
  int pending(const event_impl* ev, short what, struct timeval* tv);
  int num_events(unsigned flags);
  int cached_time(struct timeval* tv);
  int once(int fd, short events, event_callback_fn cb, void* arg, const struct timeval* tv);

  // Priorities: one active queue each, lower numbers run first.
  int priority_init(int n);
  int npriorities() const { return static_cast<int>(queues_.size()); }
  int set_priority(event_impl* ev, int pri);
  // The loop stops running callbacks and polls again (event_base_loopcontinue).
  void loopcontinue();

  // event_finalize: the event is deleted (without waiting) and can no
  // longer run; fn runs once from the loop, then (free_it) it is freed.
  int finalize(event_impl* ev, event_finalize_callback_fn fn, bool free_it);
  // At event_base_free: the finalizers still due run, unless skipped
  // (event_base_free_nofinalize).
  void skip_finalizers() { skip_finalizers_ = true; }

  // Inspection. The visitor may not add or delete events; a non-zero
  // return stops the walk and is returned.
  using visit_fn = int (*)(const event_impl* ev, void* arg);
  int foreach_event(visit_fn fn, void* arg);
  void active_by_fd(int fd, short events);
  void active_by_signal(int sig);
  // The event whose callback runs now, when asked from the loop's thread.
  event_impl* running_event();
  // A per-base timeval for `duration`, the same for the same duration;
  // nullptr beyond max_common_timeouts.
  static constexpr size_t max_common_timeouts = 256;
  const struct timeval* common_timeout(const struct timeval& duration);
  void update_cache_time();
  int max_events(unsigned type, bool clear);

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
  // ev joins (on) or leaves a list (EVLIST_INSERTED, _TIMEOUT, _ACTIVE):
  // libevent's event count, and its maximum, follow.
  void note_list(event_impl* ev, short list, bool on);
  void schedule_drain(bool after_poll = false);
  void drain();
  void run_most_urgent(recursive_scoped_lock& g);
  void run_one_active(event_impl* ev, recursive_scoped_lock& g);
  void run_finalizer(event_impl* ev, recursive_scoped_lock& g);
  void run_finalizers_at_free();
  void queue_push(event_impl* ev);
  void queue_remove(event_impl* ev);
  size_t queue_of(const event_impl* ev) const {
    return ev->pri < queues_.size() ? ev->pri : queues_.size() - 1;
  }

  // timeout heap
  void heap_push(event_impl* ev);
  void heap_erase(event_impl* ev);
  void heap_up(size_t i);
  void heap_down(size_t i);
  void rearm_timer();
  void on_timer();
  void expire_due();

  // fd and signal registrations
  int insert_io(event_impl* ev);
  void remove_io(event_impl* ev);
  int insert_signal(event_impl* ev);
  void remove_signal(event_impl* ev);
  void arm_signals();

  event_base& base_;
  optional_recursive_mutex mutex_;
  // The active events, one intrusive queue per priority (linked through
  // the events: no allocation per activation).
  struct active_queue {
    event_impl* head = nullptr;
    event_impl* tail = nullptr;
  };
  std::vector<active_queue> queues_;
  size_t n_active_ = 0;
  int running_pri_ = -1;   // the queue being run, or -1
  bool continue_ = false;  // poll again before running more (libevent's event_continue)
  bool drain_posted_ = false;
  bool drain_counted_ = false;  // the posted run counts as the base's active work
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
  calls_left* current_calls_ = nullptr;  // its repeats left (signals), if several
  std::thread::id current_thread_;
  int current_waiters_ = 0;
  std::condition_variable_any current_done_;
  struct timeval cached_tv_ {};
  int list_count_ = 0;  // list memberships of the events, as libevent's event_count
  int max_list_count_ = 0;
  int max_active_ = 0;
  std::deque<struct timeval> common_timeouts_;  // stable addresses

  // Runs the finalizers due when the base is freed: the base detaches its
  // objects first, while its events still work.
  struct finalizers_at_free final : attached {
    explicit finalizers_at_free(event_core& c) : core(c) {}
    void detach_from_base() noexcept override;
    event_core& core;
  };
  finalizers_at_free at_free_{*this};
  bool at_free_attached_ = false;
  bool skip_finalizers_ = false;

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

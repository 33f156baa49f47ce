// event_base: libevent's loop semantics on an asio::io_context.
#include "detail/base.hpp"
#include "detail/c_boundary.hpp"
#include "detail/current_base.hpp"
#include "detail/event_core.hpp"
#include "detail/fd_watch.hpp"
#include "detail/global.hpp"
#include "detail/log.hpp"
#include "detail/timeval.hpp"

#include <event2/event.h>
#include <event2/thread.h>
#include <evasio/asio.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/signal_set_service.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>

namespace asio = boost::asio;
using namespace evasio::detail;

namespace evasio::detail {
std::atomic<bool> threads_enabled{false};
}

namespace {

// A private io_context: one thread runs it unless the program said it
// would use threads (evthread_use_pthreads), as libevent's bases lock only then.
// EVENT_BASE_FLAG_NOLOCK: one thread, whatever evthread said.
bool locks(const base_settings& s) {
  return threads_enabled.load() && !(s.flags & EVENT_BASE_FLAG_NOLOCK);
}

std::unique_ptr<asio::io_context> make_private_context(const base_settings& s) {
  const int hint = locks(s) ? BOOST_ASIO_CONCURRENCY_HINT_SAFE : 1;
  return std::make_unique<asio::io_context>(hint);
}

// The loop's debug messages, as libevent's (event_enable_debug_logging).
int no_events_left() {
  EVASIO_LOG_DEBUG("%s: no events registered.", "event_base_loop");
  return 1;
}
int asked_to_stop() {
  EVASIO_LOG_DEBUG("%s: asked to terminate loop.", "event_base_loop");
  return 0;
}

} // namespace

event_base::event_base(asio::io_context* borrowed, const base_settings& settings)
    : settings_(settings),
      owned_(borrowed ? nullptr : make_private_context(settings)),
      ctx_(borrowed ? borrowed : owned_.get()),
      multi_threaded_(borrowed || locks(settings)),
      self_(std::make_shared<event_base*>(this)),
      events_(std::make_unique<event_core>(*this)) {
  debug_note_too_late();
  debug_note_base_created();
}

event_base::~event_base() {
  // Survivors lose their Asio objects now, while the io_context still exists.
  attached* list;
  {
    std::lock_guard<std::mutex> g(mutex_);
    list = objects_;
    objects_ = nullptr;
  }
  while (list) {
    attached* next = list->next_;
    list->prev_ = list->next_ = nullptr;
    list->detach_from_base();
    list = next;
  }
  if (mux_)
    mux_->destroy();     // after its last watch, before the io_context
  self_.reset();         // handlers still queued on a borrowed context: no-ops
  events_.reset();       // fd registrations, timer and signals go
  exit_timers_.clear();  // cancels their waits
  owned_.reset();        // destroys handlers never run; they drop their refs
}

// Bases over their own io_context only: its one loop thread runs every
// harvest and every read and write (other threads, with evthread, only
// start, cancel and release waits, under the mux's lock).
io_mux* event_base::mux() noexcept {
  auto g = lock_if_threaded();
  if (!mux_ && !mux_failed_ && owned_) {
    mux_ = io_mux::create(*ctx_, locking());
    mux_failed_ = !mux_;
  }
  return mux_;
}

// One thread runs a base that is not multi-threaded: no lock there (objects
// attach once per accepted connection) until a thread-safe object comes.
std::unique_lock<std::mutex> event_base::lock_if_threaded() {
  std::unique_lock<std::mutex> g(mutex_, std::defer_lock);
  if (locking())
    g.lock();
  return g;
}

void event_base::share_with_threads() {
  if (locking())
    return;
  std::lock_guard<std::mutex> g(mutex_);
  shared_.store(true, std::memory_order_relaxed);
  if (mux_)
    mux_->lock_from_now_on();  // made unlocked, for the plain objects before
}

// Asio's reactor first: its new epoll set must hold the signal pipe's old
// registration before the signal service drops it (an epoll_ctl on the
// set still shared with the parent would change the parent's). Only the
// signal service is told of the fork, not the whole context: a resolver
// would try to join a thread the child does not have.
int event_base::reinit() {
  using asio::execution_context;
  if (owned_) {
    asio::use_service<asio::detail::reactor>(*ctx_).notify_fork(execution_context::fork_child);
    if (asio::has_service<asio::detail::signal_set_service>(*ctx_)) {
      auto& signals = asio::use_service<asio::detail::signal_set_service>(*ctx_);
      signals.notify_fork(execution_context::fork_prepare);
      signals.notify_fork(execution_context::fork_child);
    }
    auto g = lock_if_threaded();
    if (mux_)
      if (const int err = mux_->after_fork(*ctx_))
        return fail(-1, err);
  }
  return events_->after_fork();
}

void event_base::attach(attached* obj) {
  auto g = lock_if_threaded();
  obj->prev_ = nullptr;
  obj->next_ = objects_;
  if (objects_)
    objects_->prev_ = obj;
  objects_ = obj;
}

void event_base::detach(attached* obj) noexcept {
  auto g = lock_if_threaded();
  if (obj->prev_)
    obj->prev_->next_ = obj->next_;
  else if (objects_ == obj)
    objects_ = obj->next_;
  if (obj->next_)
    obj->next_->prev_ = obj->prev_;
  obj->prev_ = obj->next_ = nullptr;
}

int event_base::loop(int flags) {
  if (running_.exchange(true)) {
    log_msg(EVENT_LOG_WARN, "event_base_loop: reentrant invocation.  Only one "
            "event_base_loop can run on each event_base at once.");
    return -1;
  }
  // With EVLOOP_NONBLOCK the loop counts libevent's passes itself: the fds
  // whose events ran are looked at again by the next pass, not this one.
  const bool counts_passes = (flags & EVLOOP_NONBLOCK) || exit_after_round_;
  struct reset_running {
    std::atomic<bool>& r;
    event_core& events;
    bool counts_passes;
    ~reset_running() {
      if (counts_passes)
        events.set_loop_begins_passes(false);
      r = false;
    }
  } reset{running_, *events_, counts_passes};
  if (counts_passes)
    events_->set_loop_begins_passes(true);
  events_->begin_pass(true);  // the fds ready at the last pass, looked at now

  got_exit_ = false;
  got_break_ = false;
  asio::io_context& ctx = *ctx_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> keep;
  if (flags & EVLOOP_NO_EXIT_ON_EMPTY)
    keep.emplace(ctx.get_executor());

  // An io_context stops when it runs out of work; ours restart. A borrowed
  // one that its application stopped is the application's to restart.
  auto ready = [&]() {
    if (!ctx.stopped())
      return true;
    if (owned_)
      ctx.restart();
    return !!owned_;
  };
  // Runs handlers that are ready now, stopping early on loopbreak.
  auto run_ready = [&]() {
    while (!got_break_ && ready() && ctx.poll_one() != 0) {
    }
  };
  // One libevent round: what is ready now plus one poll of the reactor,
  // not what those handlers queue in turn (a level-triggered event that
  // re-activates itself waits for the next round). Markers chained through
  // the queue: the first runs after the reactor's poll, the second after
  // that poll's completions, the third after the callbacks they activated.
  auto run_round = [&](bool poll_reactor) {
    const unsigned id = ++round_seq_;
    std::weak_ptr<event_base*> token = self_;
    auto done = [token, id] {
      if (auto self = token.lock())
        (*self)->round_done_ = id;
    };
    if (poll_reactor)  // reactor poll, its completions, the callbacks they made active
      asio::post(ctx, [done, &ctx] { asio::post(ctx, [done, &ctx] { asio::post(ctx, done); }); });
    else
      asio::post(ctx, done);
    while (round_done_ != id && !got_break_ && ready() && ctx.poll_one() != 0) {
    }
    // Events made active late in the round still run in it: a signal's
    // delivery, say, takes a few handlers after the reactor's poll.
    if (poll_reactor && events_->drain_due()) {
      const unsigned long drains = events_->drains();
      while (events_->drains() == drains && !got_break_ && ready() && ctx.poll_one() != 0) {
      }
    }
  };

  if (exit_after_round_.exchange(false)) {
    // loopexit(NULL) before the loop: libevent still polls once and runs
    // that round's callbacks before it exits.
    if (ready())
      run_round(true);
    got_exit_ = true;
    return 0;
  }

  for (;;) {
    if (got_exit_ || got_break_)
      return asked_to_stop();
    if (!keep && !has_events()) {
      // Completions already queued (a cancelled wait, say) may add events.
      run_ready();
      if (got_exit_ || got_break_)
        return asked_to_stop();
      if (!has_events())
        return no_events_left();
      continue;
    }
    if (!ready())
      return -1;
    if (flags & EVLOOP_NONBLOCK) {
      // As libevent: a pass that ran callbacks is followed by another (until
      // one runs nothing or no event is left), unless EVLOOP_ONCE.
      const unsigned long before = callbacks_.load(std::memory_order_relaxed);
      run_round(true);
      if ((flags & EVLOOP_ONCE) || callbacks_.load(std::memory_order_relaxed) == before)
        return 0;
      events_->begin_pass(true);
      continue;
    }
    const unsigned long before = callbacks_.load(std::memory_order_relaxed);
    if (ctx.run_one() == 0) {
      // Out of work: either a borrowed context was stopped, or (owned) the
      // events counted have no operation behind them. Never spin.
      if (!owned_ || has_events())
        return owned_ ? no_events_left() : -1;
      continue;
    }
    if ((flags & EVLOOP_ONCE) && callbacks_.load(std::memory_order_relaxed) != before) {
      run_round(false);  // the rest of what was ready in this round
      return 0;
    }
  }
}

void event_base::loopbreak() noexcept {
  got_break_ = true;
  // From another thread, a loop blocked in the reactor must wake up to see
  // it (libevent notifies its base when threads are enabled). On the loop's
  // own thread it sees the flag after the current handler.
  if (running_ && !ctx_->get_executor().running_in_this_thread()) {
    try {
      asio::post(*ctx_, [] {});
    } catch (...) {
      // No memory for the wake-up: the break takes effect at the next event.
    }
  }
}

int event_base::loopexit(const struct timeval* tv) {
  std::weak_ptr<event_base*> token = self_;
  if (!tv && !running_) {
    exit_after_round_ = true;  // the next loop runs one round, then exits
    return 0;
  }
  if (!tv) {
    // Queued behind the handlers already ready, so they run first.
    active_.fetch_add(1, std::memory_order_relaxed);
    asio::post(*ctx_, [token] {
      if (auto self = token.lock()) {
        event_base* b = *self;
        b->active_.fetch_sub(1, std::memory_order_relaxed);
        b->got_exit_ = true;
        b->note_callback();
      }
    });
    return 0;
  }
  auto timer = std::make_unique<asio::steady_timer>(*ctx_);
  timer->expires_after(to_timeout(*tv));
  asio::steady_timer* raw = timer.get();
  {
    std::lock_guard<std::mutex> g(mutex_);
    exit_timers_.push_back(std::move(timer));
  }
  add_pending(1);
  raw->async_wait([token, raw](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted)
      return;
    if (auto self = token.lock())
      (*self)->on_exit_timer(raw);
  });
  return 0;
}

void event_base::on_exit_timer(asio::steady_timer* t) {
  add_pending(-1);
  got_exit_ = true;
  note_callback();
  std::lock_guard<std::mutex> g(mutex_);
  auto it = std::find_if(exit_timers_.begin(), exit_timers_.end(),
                         [t](const auto& p) { return p.get() == t; });
  if (it != exit_timers_.end())
    exit_timers_.erase(it);
}

// ---- C boundary -----------------------------------------------------------

extern "C" {

// As libevent's: a base from an empty config (the environment is read).
struct event_base* event_base_new(void) {
  return event_base_new_with_config(nullptr);
}

void event_base_free(struct event_base* base) {
  if (!base)
    base = current_base();  // as libevent: NULL frees the 1.x current base
  if (!base)
    return;
  forget_current_base(base);
  guarded_void([&] { delete base; });
}

int event_base_dispatch(struct event_base* base) {
  return event_base_loop(base, 0);
}

int event_base_loop(struct event_base* base, int flags) {
  if (!base)
    return fail(-1, EINVAL);
  return guarded(-1, [&] { return base->loop(flags); });
}

int event_base_loopexit(struct event_base* base, const struct timeval* tv) {
  if (!base)
    return fail(-1, EINVAL);
  return guarded(-1, [&] { return base->loopexit(tv); });
}

int event_base_loopbreak(struct event_base* base) {
  if (!base)
    return fail(-1, EINVAL);
  base->loopbreak();
  return 0;
}

int event_base_got_exit(struct event_base* base) {
  return base && base->got_exit() ? 1 : 0;
}

int event_base_got_break(struct event_base* base) {
  return base && base->got_break() ? 1 : 0;
}

// libevent names its epoll method apart when asked for its changelist
// (evasio has none: Asio's reactor changes registrations one at a time).
const char* event_base_get_method(const struct event_base* base) {
  if (!base)
    return nullptr;
  const bool changelist = base->settings().flags & EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST;
  return changelist && std::strcmp(backend_method(), "epoll") == 0 ? "epoll (with changelist)"
                                                                    : backend_method();
}

int event_reinit(struct event_base* base) {
  if (!base)
    return fail(-1, EINVAL);
  return guarded(-1, [&] { return base->reinit(); });
}

// The clock of the base's timeouts (steady_clock), as libevent's
// monotonic timer: NULL base or tv is -1.
int event_gettime_monotonic(struct event_base* base, struct timeval* tv) {
  if (!base || !tv)
    return fail(-1, EINVAL);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now().time_since_epoch());
  tv->tv_sec = static_cast<time_t>(us.count() / 1000000);
  tv->tv_usec = static_cast<suseconds_t>(us.count() % 1000000);
  return 0;
}

const char* event_get_version(void) { return LIBEVENT_VERSION; }
ev_uint32_t event_get_version_number(void) { return LIBEVENT_VERSION_NUMBER; }

int evthread_make_base_notifiable(struct event_base* base) {
  return base ? 0 : fail(-1, EINVAL);
}

} // extern "C"

// ---- C++ interop ----------------------------------------------------------

namespace evasio {

event_base* make_event_base(asio::io_context& ctx) noexcept {
  return guarded<event_base*>(nullptr, [&] { return new event_base(&ctx); });
}

asio::io_context& get_io_context(event_base* base) noexcept {
  return base->context();
}

} // namespace evasio

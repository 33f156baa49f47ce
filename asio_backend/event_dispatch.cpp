// The loop's side of events: the active queues by priority, the passes
// that run them (libevent's event_process_active), finalizers, and the C
// functions of priorities, loopcontinue and finalizers.
#include "detail/base.hpp"
#include "detail/c_boundary.hpp"
#include "detail/current_base.hpp"
#include "detail/event_core.hpp"
#include "detail/global.hpp"
#include "detail/log.hpp"
#include "detail/timeval.hpp"

#include <event2/event.h>
#include <event2/event_struct.h>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <cstdlib>
#include <thread>

namespace asio = boost::asio;
using namespace evasio::detail;

// ---- the active queues ------------------------------------------------------------

// As libevent: only a signal event repeats its callback (ncalls times).
void event_core::activate_nolock(event_impl* ev, short res, short ncalls) {
  if (ev->is(EVLIST_FINALIZING))
    return;
  const bool signal = (ev->events & EV_SIGNAL) != 0;
  if (ev->is(EVLIST_ACTIVE)) {
    ev->res |= res;
    if (signal)
      ev->ncalls += ncalls;
    return;
  }
  ev->res = res;
  ev->ncalls = signal ? ncalls : 1;
  queue_push(ev);
  // A more urgent event: the queue being run stops for it (the next pass
  // runs it first), as libevent's event_continue.
  if (running_pri_ >= 0 && static_cast<int>(queue_of(ev)) < running_pri_)
    continue_ = true;
  schedule_drain();
}

void event_core::queue_push(event_impl* ev) {
  active_queue& q = queues_[queue_of(ev)];
  ev->act_next = nullptr;
  ev->act_prev = q.tail;
  if (q.tail)
    q.tail->act_next = ev;
  else
    q.head = ev;
  q.tail = ev;
  note_list(ev, EVLIST_ACTIVE, true);
  ++n_active_;
  max_active_ = std::max(max_active_, static_cast<int>(n_active_));
}

void event_core::note_list(event_impl* ev, short list, bool on) {
  if (ev->is(list) == on)
    return;
  ev->set(list, on);
  list_count_ += on ? 1 : -1;
  max_list_count_ = std::max(max_list_count_, list_count_);
}

void event_core::queue_remove(event_impl* ev) {
  active_queue& q = queues_[queue_of(ev)];
  if (ev->act_prev) ev->act_prev->act_next = ev->act_next; else q.head = ev->act_next;
  if (ev->act_next) ev->act_next->act_prev = ev->act_prev; else q.tail = ev->act_prev;
  ev->act_prev = ev->act_next = nullptr;
  note_list(ev, EVLIST_ACTIVE, false);
  // The last active event deleted before the posted run: that run has
  // nothing to do and is no event of the loop's (it may return "no events").
  if (--n_active_ == 0 && drain_posted_ && drain_counted_) {
    drain_counted_ = false;
    base_.add_active(-1);
  }
}

int event_core::priority_init(int n) {
  recursive_scoped_lock g(mutex_);
  if (n_active_ || n < 1 || n >= EVENT_MAX_PRIORITIES)
    return -1;
  queues_.resize(static_cast<size_t>(n));  // all empty: nothing is active
  return 0;
}

int event_core::set_priority(event_impl* ev, int pri) {
  recursive_scoped_lock g(mutex_);
  if (ev->is(EVLIST_ACTIVE) || pri < 0 || pri >= npriorities())
    return -1;
  ev->pri = static_cast<unsigned char>(pri);
  return 0;
}

void event_core::loopcontinue() {
  recursive_scoped_lock g(mutex_);
  continue_ = true;
}

// ---- running active events -------------------------------------------------------

// after_poll: the run waits for the reactor to be polled (and what that
// poll completed to run) first, as libevent polls before every pass: two
// hops through the io_context's queue get behind its reactor marker
// wherever that stands.
void event_core::schedule_drain(bool after_poll) {
  if (draining_)
    return;
  if (drain_posted_) {
    if (!drain_counted_) {  // emptied since it was posted, active again now
      drain_counted_ = true;
      base_.add_active(1);
    }
    return;
  }
  drain_posted_ = true;
  drain_counted_ = true;
  base_.add_active(1);
  std::weak_ptr<event_base*> token = base_.token();
  auto run = [this, token] {
    if (!token.expired())
      drain();
  };
  if (!after_poll) {
    asio::post(base_.context(), run);
    return;
  }
  asio::io_context& ctx = base_.context();
  asio::post(ctx, [&ctx, run] { asio::post(ctx, [&ctx, run] { asio::post(ctx, run); }); });
}

void event_core::drain() {
  recursive_scoped_lock g(mutex_);
  drain_posted_ = false;
  if (drain_counted_)
    base_.add_active(-1);
  drain_counted_ = false;
  draining_ = true;
  ::gettimeofday(&cached_tv_, nullptr);
  run_most_urgent(g);
  draining_ = false;
  if (!loop_begins_passes_)
    begin_pass_nolock(false);  // the next pass of a loop that runs on
  drains_.fetch_add(1, std::memory_order_release);
  // Between passes libevent polls: an fd ready now may outrank the less
  // urgent events still active, or those a cut-short pass left.
  if (n_active_)
    schedule_drain(true);
}

// libevent's pass runs one queue: the most urgent that is not empty, with
// what gets active in it meanwhile, until it is empty, the loop breaks, a
// more urgent event (or loopcontinue) asks for a new pass, or the dispatch
// limits of queues from limit_after_prio on are reached.
void event_core::run_most_urgent(recursive_scoped_lock& g) {
  if (queues_.size() > 1)
    expire_due();  // a timeout due now may outrank what is already active
  size_t i = 0;
  while (i < queues_.size() && !queues_[i].head)
    ++i;
  if (i == queues_.size())
    return;
  const base_settings& limits = base_.settings();
  const bool limited = static_cast<int>(i) >= limits.limit_after_prio;
  const bool timed = limited && limits.max_interval.count() >= 0;
  const steady::time_point end = timed ? steady::now() + limits.max_interval : steady::time_point{};
  running_pri_ = static_cast<int>(i);
  continue_ = false;
  int count = 0;
  // loopbreak stops after the callback now running; loopexit does not.
  while (queues_[i].head && !base_.got_break()) {
    run_one_active(queues_[i].head, g);
    ++count;
    if (continue_ || (limited && count >= limits.max_callbacks) || (timed && steady::now() >= end))
      break;
  }
  running_pri_ = -1;
  continue_ = false;
}

void event_core::run_one_active(event_impl* ev, recursive_scoped_lock& g) {
  if (ev->is(EVLIST_FINALIZING)) {
    run_finalizer(ev, g);
    return;
  }
  queue_remove(ev);
  const short res = ev->res;  // ev_res keeps it, as libevent's
  short ncalls = ev->ncalls;
  ev->ncalls = 0;

  if (!(ev->events & EV_PERSIST)) {
    del_nolock(ev);  // a one-shot event is not pending when its callback runs
  } else if (ev->interval.count() > 0) {
    // As libevent's persist closure: an event with a timeout is re-added
    // (fd and timeout); others stay as they are.
    if ((ev->events & (io_kinds | EV_SIGNAL)) && !ev->is(EVLIST_INSERTED)) {
      if (((ev->events & EV_SIGNAL) ? insert_signal(ev) : insert_io(ev)) < 0)
        log_msg(EVENT_LOG_WARN, "event: could not re-add a persistent event");
    }
    {
      const steady::time_point now = steady::now();
      steady::time_point at = (res & EV_TIMEOUT) ? ev->deadline : now;
      // From a deadline still ahead (event_active(EV_TIMEOUT)) at most
      // timeout_never ahead, so that repeating it stays in the clock's range.
      at = at - now < timeout_never ? at + ev->interval : now + timeout_never;
      if (at < now)
        at = now + ev->interval;
      add_timeout(ev, at, nullptr);
    }
    sync_count(ev);
  }
  base_.note_callback();
  const event_callback_fn cb = ev->cb;
  void* const arg = ev->arg;
  const int fd = ev->fd;
  const bool once = ev->has(event_impl::once);
  // A signal that arrived n times runs the callback n times, unless the
  // callback deletes its event (event_del zeroes the count through
  // pncalls). Nothing else touches ev after its callback: it may be gone.
  // A NULL callback (a keep-alive event) runs nothing.
  calls_left left{cb ? (ncalls > 1 ? ncalls : short(1)) : short(0), false};
  const bool repeat = left.n > 1;
  current_ = ev;
  current_calls_ = repeat ? &left : nullptr;
  if (base_.multi_threaded())
    current_thread_ = std::this_thread::get_id();
  g.unlock();
  while (left.n > 0) {
    --left.n;
    cb(fd, res, arg);
  }
  g.lock();
  current_calls_ = nullptr;
  current_ = nullptr;
  if (current_waiters_)
    current_done_.notify_all();
  if (once) {
    once_events_.erase(std::find(once_events_.begin(), once_events_.end(), ev));
    delete ev;
  }
}

// ---- finalizers ---------------------------------------------------------------------

// As libevent's event_finalize: deleted without waiting for a callback
// running elsewhere, then active with its finalizer in place of its
// callback, at its priority. Finalizing twice replaces the finalizer.
int event_core::finalize(event_impl* ev, event_finalize_callback_fn fn, bool free_it) {
  recursive_scoped_lock g(mutex_);
  if (!at_free_attached_) {
    base_.attach(&at_free_);
    at_free_attached_ = true;
  }
  if (!ev->is(EVLIST_FINALIZING)) {
    del_nolock(ev);
    activate_nolock(ev, EV_FINALIZE, 1);
    ev->set(EVLIST_FINALIZING, true);
  }
  ev->closure = free_it ? event_impl::run_finalizer_free : event_impl::run_finalizer;
  ev->fin = fn;
  return 0;
}

// The event is off every list: its finalizer may assign, free or reuse it.
void event_core::run_finalizer(event_impl* ev, recursive_scoped_lock& g) {
  queue_remove(ev);
  base_.note_callback();
  const event_finalize_callback_fn fn = ev->fin;
  void* const arg = ev->arg;
  const bool free_it = ev->closure == event_impl::run_finalizer_free && ev->has(event_impl::allocated);
  auto* as_event = reinterpret_cast<struct event*>(ev);
  g.unlock();
  fn(as_event, arg);
  if (free_it) {
    ev->magic = 0;
    mm_free(ev);  // as event_free: the program's allocator
  }
  g.lock();
}

void event_core::run_finalizers_at_free() {
  recursive_scoped_lock g(mutex_);
  for (bool ran = true; ran;) {
    ran = false;
    for (const active_queue& q : queues_) {
      event_impl* e = q.head;
      while (e && !e->is(EVLIST_FINALIZING))
        e = e->act_next;
      if (e) {
        run_finalizer(e, g);
        ran = true;
        break;  // the queues may have changed
      }
    }
  }
}

void event_core::finalizers_at_free::detach_from_base() noexcept {
  core.at_free_attached_ = false;
  if (!core.skip_finalizers_)
    guarded_void([&] { core.run_finalizers_at_free(); });
}

// ---- C boundary -----------------------------------------------------------

extern "C" {

// ---- finalizers -------------------------------------------------------------

namespace {
int finalize_event(struct event* ev, event_finalize_callback_fn cb, bool free_it, const char* fn) {
  if (!on_base(ev, fn) || !cb)
    return fail(-1, EINVAL);
  event_impl* e = impl(ev);
  return guarded(-1, [&] { return e->base->events().finalize(e, cb, free_it); });
}
} // namespace

int event_finalize(unsigned flags, struct event* ev, event_finalize_callback_fn cb) {
  (void)flags;  // reserved, as in libevent
  return finalize_event(ev, cb, false, "event_finalize");
}

int event_free_finalize(unsigned flags, struct event* ev, event_finalize_callback_fn cb) {
  (void)flags;
  return finalize_event(ev, cb, true, "event_free_finalize");
}

void event_base_free_nofinalize(struct event_base* base) {
  if (!base && !(base = current_base()))
    return;
  base->events().skip_finalizers();
  event_base_free(base);
}

// ---- priorities --------------------------------------------------------------

int event_base_priority_init(struct event_base* base, int npriorities) {
  if (!base && !(base = current_base()))
    return fail(-1, EINVAL);
  return guarded(-1, [&] { return base->events().priority_init(npriorities); });
}

int event_base_get_npriorities(struct event_base* base) {
  if (!base && !(base = current_base()))
    return fail(-1, EINVAL);
  return base->events().npriorities();
}

int event_priority_set(struct event* ev, int priority) {
  if (!on_base(ev, "event_priority_set"))
    return fail(-1, EINVAL);
  event_impl* e = impl(ev);
  return e->base->events().set_priority(e, priority);
}

int event_get_priority(const struct event* ev) {
  return initialized(ev) ? impl(ev)->pri : fail(-1, EINVAL);
}

int event_base_loopcontinue(struct event_base* base) {
  if (!base)
    return fail(-1, EINVAL);
  base->events().loopcontinue();
  return 0;
}

} // extern "C"

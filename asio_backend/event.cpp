// struct event: libevent's events (fd readiness, timeouts, signals) on Asio.
//
// libevent's events are level-triggered unless EV_ET: a persistent read
// event keeps firing while the fd stays readable. Asio's epoll reactor is
// edge-triggered, but it arms each async_wait with EPOLL_CTL_MOD, which
// reports an fd that is still ready. As in libevent, where each pass polls
// every fd once and then runs the active events, a direction whose
// readiness made events active is waited on again only when the next pass
// begins (after those callbacks ran): one pass runs each ready event once,
// and a still-ready fd comes back in the next. EV_ET events use an epoll of
// their own. Timeouts live in one heap per base behind a single
// steady_timer, signals in one signal_set per base, as libevent keeps one
// min-heap and one signal pipe per base. The active queues and the passes
// that run them are in event_dispatch.cpp; inspection in event_inspect.cpp.
#include "detail/base.hpp"
#include "detail/c_boundary.hpp"
#include "detail/current_base.hpp"
#include "detail/event_core.hpp"
#include "detail/global.hpp"  // debug mode, the program's allocator
#include "detail/log.hpp"
#include "detail/timeval.hpp"

#include <event2/event.h>
#include <event2/event_struct.h>

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/intrusive_ptr.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstddef>
#include <cstdlib>
#include <mutex>
#include <new>
#include <type_traits>

namespace asio = boost::asio;
using namespace evasio::detail;
using std::chrono::microseconds;

// event_impl is struct event seen from C++: libevent 2.1.12's layout, each
// public member where the C struct has it.
static_assert(sizeof(event_impl) == sizeof(struct event), "event_impl is struct event");
static_assert(sizeof(struct event) == 128, "libevent 2.1.12's x86_64 struct event");
static_assert(alignof(event_impl) == alignof(struct event), "event_impl is struct event");
static_assert(std::is_standard_layout<event_impl>::value, "offsetof below");
static_assert(std::is_trivially_destructible<event_impl>::value, "event_impl must own nothing");
#define EVASIO_SAME_OFFSET(ours, theirs)                                                  \
  static_assert(offsetof(event_impl, ours) == offsetof(struct event, theirs) &&           \
                    sizeof(event_impl::ours) == sizeof(((struct event*)nullptr)->theirs), \
                "event_impl::" #ours " is struct event's " #theirs)
EVASIO_SAME_OFFSET(act_next, ev_evcallback.evcb_active_next.tqe_next);
EVASIO_SAME_OFFSET(act_prev, ev_evcallback.evcb_active_next.tqe_prev);
EVASIO_SAME_OFFSET(flags, ev_evcallback.evcb_flags);
EVASIO_SAME_OFFSET(pri, ev_evcallback.evcb_pri);
EVASIO_SAME_OFFSET(closure, ev_evcallback.evcb_closure);
EVASIO_SAME_OFFSET(cb, ev_evcallback.evcb_cb_union.evcb_callback);
EVASIO_SAME_OFFSET(arg, ev_evcallback.evcb_arg);
EVASIO_SAME_OFFSET(heap_index, ev_timeout_pos.min_heap_idx);
EVASIO_SAME_OFFSET(fd, ev_fd);
EVASIO_SAME_OFFSET(base, ev_base);
EVASIO_SAME_OFFSET(next, ev_.ev_io.ev_io_next.le_next);
EVASIO_SAME_OFFSET(prev, ev_.ev_io.ev_io_next.le_prev);
EVASIO_SAME_OFFSET(events, ev_events);
EVASIO_SAME_OFFSET(res, ev_res);
EVASIO_SAME_OFFSET(wall_deadline, ev_timeout);
#undef EVASIO_SAME_OFFSET
static_assert(offsetof(event_impl, fds) + sizeof(fd_state*) <= offsetof(struct event, ev_fd) &&
                  offsetof(event_impl, magic) + sizeof(unsigned) <= offsetof(struct event, ev_base) &&
                  offsetof(event_impl, state) >= offsetof(struct event, ev_evcallback.evcb_closure) + 1 &&
                  offsetof(event_impl, ncalls) + sizeof(short) <= offsetof(struct event, ev_evcallback.evcb_cb_union) &&
                  offsetof(event_impl, interval) + sizeof(microseconds) <= offsetof(struct event, ev_events),
              "private state in libevent's private members and padding");

namespace {

constexpr int no_cache_time = EVENT_BASE_FLAG_NO_CACHE_TIME;

} // namespace

// Initialized and on a base (event_set() before event_init() gives none).
bool evasio::detail::on_base(const struct event* ev, const char* fn) {
  if (!initialized(ev))
    return false;
  if (!impl(ev)->base) {
    log_msg(EVENT_LOG_WARN, "%s: event has no event_base set.", fn);
    return false;
  }
  return true;
}

namespace {

char self_cbarg_tag;

// The dispositions signals had before evasio's first event on them, put
// back when the last event on a signal in the process goes (Asio's
// signal_set leaves SIG_DFL), as libevent restores the handler it replaced.
struct saved_dispositions {
  std::mutex mutex;
  int users[NSIG] = {};  // bases with events on the signal
  struct sigaction old[NSIG];
};

saved_dispositions& dispositions() {
  static saved_dispositions d;
  return d;
}

void retain_disposition(int sig) {
  saved_dispositions& d = dispositions();
  std::lock_guard<std::mutex> g(d.mutex);
  if (d.users[sig]++ == 0)
    ::sigaction(sig, nullptr, &d.old[sig]);
}

// After Asio gave the signal up.
void release_disposition(int sig) {
  saved_dispositions& d = dispositions();
  std::lock_guard<std::mutex> g(d.mutex);
  if (--d.users[sig] == 0)
    ::sigaction(sig, &d.old[sig], nullptr);
}

} // namespace

namespace evasio::detail {

// One Asio descriptor per fd with events on it, shared by those events
// (Asio can register an fd only once), like libevent's evmap entry.
struct fd_state {
  enum class op { idle, wait, check, deferred };
  struct direction {
    op state = op::idle;
    unsigned seq = 0;
  };

  fd_state(event_core* c, int f, int reg, asio::io_context& ctx)
      : core(c), fd(f), reg_fd(reg), desc(ctx) {}

  friend void intrusive_ptr_add_ref(fd_state* s) noexcept { s->refs.fetch_add(1, std::memory_order_relaxed); }
  friend void intrusive_ptr_release(fd_state* s) noexcept {
    if (s->refs.fetch_sub(1, std::memory_order_acq_rel) == 1)
      delete s;
  }

  // Null once released: handlers still queued do nothing. Atomic because
  // those handlers read it before they can take the core's lock.
  std::atomic<event_core*> core;
  const int fd;
  const int reg_fd;  // a dup of fd when fd was already registered with Asio
  asio::posix::stream_descriptor desc;
  event_impl* head = nullptr;
  direction rd, wr;
  std::atomic<int> refs{1};
};

} // namespace evasio::detail

namespace {

using fd_ref = boost::intrusive_ptr<fd_state>;

short interest(const fd_state* fs, bool reading) {
  short any = 0;
  for (const event_impl* e = fs->head; e; e = e->next)
    any |= e->events;
  return reading ? (any & (EV_READ | EV_CLOSED)) : (any & EV_WRITE);
}

// What the fd is ready for now, as EV_* bits.
short poll_ready(int fd, bool reading) {
  struct pollfd p {fd, static_cast<short>(reading ? (POLLIN | POLLRDHUP) : POLLOUT), 0};
  if (::poll(&p, 1, 0) <= 0)
    return 0;
  short what = 0;
  if (reading && (p.revents & (POLLIN | POLLHUP | POLLERR)))
    what |= EV_READ;
  if (reading && (p.revents & (POLLRDHUP | POLLHUP)))
    what |= EV_CLOSED;
  if (!reading && (p.revents & (POLLOUT | POLLHUP | POLLERR)))
    what |= EV_WRITE;
  return what;
}

void arm(fd_state* fs, bool reading, bool probe);

// Runs f(core) under the core's lock, unless the fd was released or the
// direction moved on (seq) since the handler was queued.
template <class F>
void with_direction(fd_state* fs, bool reading, unsigned seq, F f) {
  event_core* core = fs->core.load(std::memory_order_acquire);
  if (!core)
    return;
  recursive_scoped_lock g(core->mutex());
  auto& dir = reading ? fs->rd : fs->wr;
  if (fs->core.load(std::memory_order_relaxed) != core || dir.seq != seq)
    return;
  dir.state = fd_state::op::idle;
  f(*core);
}

void post_check(fd_state* fs, bool reading, bool probe) {
  auto& d = reading ? fs->rd : fs->wr;
  d.state = fd_state::op::check;
  const unsigned seq = ++d.seq;
  asio::post(fs->desc.get_executor(), [self = fd_ref(fs), reading, seq, probe] {
    with_direction(self.get(), reading, seq, [&](event_core&) { arm(self.get(), reading, probe); });
  });
}

// Readiness `what` of a direction was reported: if it made events active,
// the next pass looks again; if nobody wanted it, wait again now.
void rearm_after(event_core& core, fd_state* fs, bool reading, short what) {
  bool any = false;
  for (const event_impl* e = fs->head; e && !any; e = e->next)
    any = (e->events & what & io_kinds) != 0;
  if (any)
    core.defer_rearm(fs, reading);
  else
    post_check(fs, reading, false);
}

void start_wait(fd_state* fs, bool reading) {
  auto& d = reading ? fs->rd : fs->wr;
  d.state = fd_state::op::wait;
  const unsigned seq = ++d.seq;
  fs->desc.async_wait(
      reading ? asio::posix::descriptor_base::wait_read : asio::posix::descriptor_base::wait_write,
      [self = fd_ref(fs), reading, seq](boost::system::error_code ec) {
        with_direction(self.get(), reading, seq, [&](event_core& core) {
          if (ec == asio::error::operation_aborted) {
            arm(self.get(), reading, false);  // cancelled on behalf of the other direction
            return;
          }
          short what = reading ? EV_READ : EV_WRITE;
          if (reading && (interest(self.get(), true) & EV_CLOSED))
            what |= poll_ready(self->fd, true) & EV_CLOSED;
          core.activate_fd(self.get(), what);
          rearm_after(core, self.get(), reading, what);
        });
      });
}

// Wait for readiness. Asio arms every wait with EPOLL_CTL_MOD, which
// reports an fd that is still ready at once: that is libevent's level
// triggering, with no look of our own.
void arm(fd_state* fs, bool reading, bool probe) {
  auto& d = reading ? fs->rd : fs->wr;
  if (d.state != fd_state::op::idle || !interest(fs, reading))
    return;
  // A newly added event looks at the fd itself, so that an fd ready now is
  // active in this very round (EVLOOP_NONBLOCK runs it), as in libevent.
  if (probe) {
    if (const short what = poll_ready(fs->fd, reading)) {
      event_core& core = *fs->core.load(std::memory_order_relaxed);
      core.activate_fd(fs, what);
      rearm_after(core, fs, reading, what);
      return;
    }
  }
  start_wait(fs, reading);
}

void link(event_impl*& head, event_impl* ev) {
  ev->prev = nullptr;
  ev->next = head;
  if (head)
    head->prev = ev;
  head = ev;
}

void unlink(event_impl*& head, event_impl* ev) {
  if (ev->prev)
    ev->prev->next = ev->next;
  else
    head = ev->next;
  if (ev->next)
    ev->next->prev = ev->prev;
  ev->prev = ev->next = nullptr;
}

} // namespace

// ---- event_core -------------------------------------------------------------

event_core::event_core(event_base& base)
    : base_(base), mutex_(base.multi_threaded()), queues_(1), timer_(base.context()) {}

event_core::~event_core() {
  for (auto& [fd, fs] : fds_) {
    fs->core.store(nullptr, std::memory_order_release);
    if (fs->reg_fd != fs->fd) {
      boost::system::error_code ec;
      fs->desc.close(ec);
    } else {
      fs->desc.release();
    }
    intrusive_ptr_release(fs);
  }
  for (event_impl* e : once_events_)
    delete e;
  signals_.reset();  // Asio gives the signals up, then the old handlers return
  for (const auto& [sig, list] : sig_events_)
    release_disposition(sig);
  if (et_desc_) {
    boost::system::error_code ec;
    et_desc_->close(ec);  // closes et_epoll_
  }
}

asio::io_context& event_core::context() { return base_.context(); }

void event_core::sync_count(event_impl* ev) {
  const bool want = ev->is(EVLIST_INSERTED | EVLIST_TIMEOUT);
  if (want != ev->has(event_impl::counted)) {
    ev->mark(event_impl::counted, want);
    base_.add_pending(want ? 1 : -1);
  }
}

int event_core::insert_io(event_impl* ev) {
  // As libevent's evmap: an I/O event on no fd (-1) is added, and waits
  // for nothing but its timeout or an event_active.
  if (ev->fd < 0) {
    note_list(ev, EVLIST_INSERTED, true);
    return 0;
  }
  // As libevent's evmap: one fd's events are all edge-triggered or none.
  const bool et = ev->events & EV_ET;
  if (et ? fds_.count(ev->fd) != 0 : et_events_.count(ev->fd) != 0)
    return fail(-1, EINVAL);
  if (et)
    return insert_et(ev);
  auto it = fds_.find(ev->fd);
  fd_state* fs;
  if (it != fds_.end()) {
    fs = it->second;
  } else {
    struct stat st;
    if (::fstat(ev->fd, &st) < 0)
      return -1;
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
      return fail(-1, EPERM);  // as epoll refuses them
    int reg = ev->fd;
    auto state = std::make_unique<fd_state>(this, ev->fd, reg, base_.context());
    boost::system::error_code ec;
    state->desc.assign(reg, ec);
    if (ec == asio::error::already_open || ec.value() == EEXIST) {
      // A listener or bufferevent has this fd: register a duplicate.
      reg = ::fcntl(ev->fd, F_DUPFD_CLOEXEC, 0);
      if (reg < 0)
        return -1;
      state = std::make_unique<fd_state>(this, ev->fd, reg, base_.context());
      state->desc.assign(reg, ec);
      if (ec)
        ::close(reg);
    }
    if (ec)
      return fail(-1, ec.value());
    fs = state.release();
    fds_.emplace(ev->fd, fs);
  }
  link(fs->head, ev);
  ev->fds = fs;
  note_list(ev, EVLIST_INSERTED, true);
  // Look at the fd from the loop, not from here: as in libevent, a ready fd
  // makes its event active on the loop's next round, after events already
  // active; added while active events run, in the next pass.
  if ((ev->events & (EV_READ | EV_CLOSED)) && fs->rd.state == fd_state::op::idle)
    draining_ ? defer_rearm(fs, true) : post_check(fs, true, true);
  if ((ev->events & EV_WRITE) && fs->wr.state == fd_state::op::idle)
    draining_ ? defer_rearm(fs, false) : post_check(fs, false, true);
  return 0;
}

void event_core::remove_io(event_impl* ev) {
  if (ev->fd < 0) {
    note_list(ev, EVLIST_INSERTED, false);
    return;
  }
  if (ev->events & EV_ET) {
    remove_et(ev);
    return;
  }
  fd_state* fs = ev->fds;
  unlink(fs->head, ev);
  ev->fds = nullptr;
  note_list(ev, EVLIST_INSERTED, false);
  if (fs->head)
    return;  // waits of the other events go on; a spare wakeup is ignored
  fds_.erase(fs->fd);
  fs->core.store(nullptr, std::memory_order_release);
  if (fs->reg_fd != fs->fd) {
    boost::system::error_code ec;
    fs->desc.close(ec);
  } else {
    fs->desc.release();  // deregisters; the fd stays the caller's
  }
  intrusive_ptr_release(fs);
}

static uint32_t et_mask(const event_impl* list) {
  uint32_t m = EPOLLET;
  for (const event_impl* e = list; e; e = e->next) {
    if (e->events & EV_READ) m |= EPOLLIN;
    if (e->events & EV_WRITE) m |= EPOLLOUT;
    if (e->events & EV_CLOSED) m |= EPOLLRDHUP;
  }
  return m;
}

int event_core::insert_et(event_impl* ev) {
  if (et_epoll_ < 0) {
    et_epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (et_epoll_ < 0)
      return -1;
    et_desc_.emplace(base_.context());
    boost::system::error_code ec;
    et_desc_->assign(et_epoll_, ec);
    if (ec) {
      et_desc_.reset();
      ::close(et_epoll_);
      et_epoll_ = -1;
      return fail(-1, ec.value());
    }
  }
  event_impl*& head = et_events_[ev->fd];
  const bool first = !head;
  link(head, ev);
  struct epoll_event e {};
  e.events = et_mask(head);
  e.data.fd = ev->fd;
  if (::epoll_ctl(et_epoll_, first ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, ev->fd, &e) < 0) {
    const int err = errno;
    unlink(head, ev);
    if (!head)
      et_events_.erase(ev->fd);
    return fail(-1, err);
  }
  note_list(ev, EVLIST_INSERTED, true);
  arm_et();
  return 0;
}

void event_core::remove_et(event_impl* ev) {
  auto it = et_events_.find(ev->fd);
  unlink(it->second, ev);
  note_list(ev, EVLIST_INSERTED, false);
  if (!it->second) {
    ::epoll_ctl(et_epoll_, EPOLL_CTL_DEL, ev->fd, nullptr);
    et_events_.erase(it);
  } else {
    struct epoll_event e {};
    e.events = et_mask(it->second);
    e.data.fd = ev->fd;
    ::epoll_ctl(et_epoll_, EPOLL_CTL_MOD, ev->fd, &e);
  }
}

void event_core::arm_et() {
  if (et_wait_ || et_events_.empty())
    return;
  et_wait_ = true;
  std::weak_ptr<event_base*> token = base_.token();
  et_desc_->async_wait(asio::posix::descriptor_base::wait_read,
                       [this, token](boost::system::error_code ec) {
                         if (ec == asio::error::operation_aborted || token.expired())
                           return;
                         on_et_ready();
                       });
}

void event_core::on_et_ready() {
  recursive_scoped_lock g(mutex_);
  et_wait_ = false;
  struct epoll_event evs[64];
  const int n = ::epoll_wait(et_epoll_, evs, 64, 0);
  for (int i = 0; i < n; ++i) {
    short what = 0;
    if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) what |= EV_READ;
    if (evs[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) what |= EV_WRITE;
    if (evs[i].events & (EPOLLRDHUP | EPOLLHUP)) what |= EV_CLOSED;
    auto it = et_events_.find(evs[i].data.fd);
    for (event_impl* e = it == et_events_.end() ? nullptr : it->second; e;) {
      event_impl* next = e->next;
      // libevent reports the edge too: EV_ET with EV_READ or EV_WRITE.
      if (const short res = e->events & what & io_kinds)
        activate_nolock(e, res | EV_ET, 1);
      e = next;
    }
  }
  arm_et();
}

// (event_reinit) A fresh set takes the old one's fd number; the descriptor
// is given up around the swap, which aborts its wait, and waits again.
int event_core::after_fork() {
  recursive_scoped_lock g(mutex_);
  if (et_epoll_ < 0)
    return 0;
  const int fresh = ::epoll_create1(EPOLL_CLOEXEC);
  if (fresh < 0)
    return -1;
  for (const auto& [fd, head] : et_events_) {
    struct epoll_event e {};
    e.events = et_mask(head);
    e.data.fd = fd;
    if (::epoll_ctl(fresh, EPOLL_CTL_ADD, fd, &e) < 0) {
      const int err = errno;
      ::close(fresh);
      return fail(-1, err);
    }
  }
  et_desc_->release();
  const int swapped = ::dup3(fresh, et_epoll_, O_CLOEXEC);
  const int err = errno;
  ::close(fresh);
  boost::system::error_code ec;
  et_desc_->assign(et_epoll_, ec);
  if (swapped < 0 || ec)
    return fail(-1, swapped < 0 ? err : ec.value());
  et_wait_ = false;
  arm_et();
  return 0;
}

int event_core::insert_signal(event_impl* ev) {
  const int sig = ev->fd;
  if (sig <= 0 || sig >= NSIG)
    return fail(-1, EINVAL);
  if (!signals_)
    signals_.emplace(base_.context());
  event_impl*& head = sig_events_[sig];
  if (!head) {
    retain_disposition(sig);
    boost::system::error_code ec;
    signals_->add(sig, ec);
    if (ec) {
      sig_events_.erase(sig);
      release_disposition(sig);
      return fail(-1, ec.value());
    }
  }
  link(head, ev);
  note_list(ev, EVLIST_INSERTED, true);
  arm_signals();
  return 0;
}

void event_core::remove_signal(event_impl* ev) {
  auto it = sig_events_.find(ev->fd);
  unlink(it->second, ev);
  note_list(ev, EVLIST_INSERTED, false);
  if (!it->second) {
    sig_events_.erase(it);
    boost::system::error_code ec;
    signals_->remove(ev->fd, ec);
    release_disposition(ev->fd);
    if (sig_events_.empty() && signal_wait_) {
      signals_->cancel(ec);
      signal_wait_ = false;
    }
  }
}

void event_core::arm_signals() {
  if (signal_wait_ || sig_events_.empty())
    return;
  signal_wait_ = true;
  std::weak_ptr<event_base*> token = base_.token();
  signals_->async_wait([this, token](boost::system::error_code ec, int sig) {
    if (ec == asio::error::operation_aborted || token.expired())
      return;
    recursive_scoped_lock g(mutex_);
    signal_wait_ = false;
    auto it = sig_events_.find(sig);
    for (event_impl* e = it == sig_events_.end() ? nullptr : it->second; e;) {
      event_impl* next = e->next;
      activate_nolock(e, EV_SIGNAL, 1);
      e = next;
    }
    arm_signals();
  });
}

void event_core::activate_fd(fd_state* fs, short what) {
  for (event_impl* e = fs->head; e;) {
    event_impl* next = e->next;
    const short res = e->events & what & io_kinds;
    if (res)
      activate_nolock(e, res, 1);
    e = next;
  }
}

void event_core::defer_rearm(fd_state* fs, bool reading) {
  auto& d = reading ? fs->rd : fs->wr;
  d.state = fd_state::op::deferred;
  ++d.seq;
  rearm_.push_back({fs, reading});
}

bool event_core::drain_due() {
  recursive_scoped_lock g(mutex_);
  return drain_posted_;
}

void event_core::set_loop_begins_passes(bool on) {
  recursive_scoped_lock g(mutex_);
  loop_begins_passes_ = on;
}

void event_core::begin_pass(bool probe) {
  recursive_scoped_lock g(mutex_);
  begin_pass_nolock(probe);
}

void event_core::begin_pass_nolock(bool probe) {
  rearm_spare_.swap(rearm_);  // what arm() defers again is for the pass after
  for (const rearm& r : rearm_spare_) {
    auto& d = r.reading ? r.fs->rd : r.fs->wr;
    if (r.fs->core.load(std::memory_order_relaxed) == this && d.state == fd_state::op::deferred) {
      d.state = fd_state::op::idle;
      arm(r.fs.get(), r.reading, probe);
    }
  }
  rearm_spare_.clear();
}

// ---- timeouts: a binary heap on deadline --------------------------------------

void event_core::heap_up(size_t i) {
  event_impl* e = heap_[i];
  while (i > 0) {
    const size_t parent = (i - 1) / 2;
    if (!(e->deadline < heap_[parent]->deadline))
      break;
    heap_[i] = heap_[parent];
    heap_[i]->heap_index = static_cast<unsigned>(i);
    i = parent;
  }
  heap_[i] = e;
  e->heap_index = static_cast<unsigned>(i);
}

void event_core::heap_down(size_t i) {
  event_impl* e = heap_[i];
  const size_t n = heap_.size();
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= n)
      break;
    if (child + 1 < n && heap_[child + 1]->deadline < heap_[child]->deadline)
      ++child;
    if (!(heap_[child]->deadline < e->deadline))
      break;
    heap_[i] = heap_[child];
    heap_[i]->heap_index = static_cast<unsigned>(i);
    i = child;
  }
  heap_[i] = e;
  e->heap_index = static_cast<unsigned>(i);
}

void event_core::heap_push(event_impl* ev) {
  heap_.push_back(ev);
  heap_up(heap_.size() - 1);
  note_list(ev, EVLIST_TIMEOUT, true);
}

void event_core::heap_erase(event_impl* ev) {
  const size_t i = ev->heap_index;
  event_impl* last = heap_.back();
  heap_.pop_back();
  note_list(ev, EVLIST_TIMEOUT, false);
  if (last == ev)
    return;
  heap_[i] = last;
  last->heap_index = static_cast<unsigned>(i);
  heap_up(i);
  heap_down(last->heap_index);
}

void event_core::rearm_timer() {
  if (heap_.empty()) {
    if (timer_at_) {
      timer_.cancel();
      timer_at_.reset();
    }
    return;
  }
  const steady::time_point at = heap_.front()->deadline;
  if (timer_at_ && *timer_at_ == at)
    return;
  timer_at_ = at;
  timer_.expires_at(at);  // cancels a wait for an older deadline
  std::weak_ptr<event_base*> token = base_.token();
  timer_.async_wait([this, token](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted || token.expired())
      return;
    on_timer();
  });
}

void event_core::on_timer() {
  recursive_scoped_lock g(mutex_);
  timer_at_.reset();
  expire_due();
}

// Makes the events whose timeout has passed active, as libevent's
// timeout_process does at every pass.
void event_core::expire_due() {
  const steady::time_point now = steady::now();
  const bool any = !heap_.empty() && heap_.front()->deadline <= now;
  while (!heap_.empty() && heap_.front()->deadline <= now) {
    event_impl* ev = heap_.front();
    // As libevent: a timed-out event leaves its fd too; EV_PERSIST re-adds.
    del_nolock(ev);
    activate_nolock(ev, EV_TIMEOUT, 1);
  }
  if (any || !timer_at_)
    rearm_timer();
}

int event_core::add_timeout(event_impl* ev, steady::time_point at, const struct timeval* tv) {
  if (ev->is(EVLIST_TIMEOUT))
    heap_erase(ev);
  ev->deadline = at;
  // The wall-clock expiry event_pending reports, fixed now so that it does
  // not drift between calls: now + tv as given (libevent's, also beyond
  // what the steady clock can wait), else now + the wait.
  struct timeval now, wait;
  ::gettimeofday(&now, nullptr);
  if (!tv) {
    const long long us = std::chrono::duration_cast<microseconds>(at - steady::now()).count();
    wait.tv_sec = static_cast<time_t>(us / 1000000);
    wait.tv_usec = static_cast<suseconds_t>(us % 1000000);
    tv = &wait;
  }
  ev->wall_deadline = wall_after(now, *tv);
  heap_push(ev);
  rearm_timer();
  return 0;
}

// ---- add, del, activate --------------------------------------------------------

int event_core::add(event_impl* ev, const struct timeval* tv) {
  recursive_scoped_lock g(mutex_);
  if (ev->is(EVLIST_FINALIZING))
    return -1;  // as libevent: a finalizing event is done
  if ((ev->events & (io_kinds | EV_SIGNAL)) && !ev->is(EVLIST_INSERTED)) {
    const int rc = (ev->events & EV_SIGNAL) ? insert_signal(ev) : insert_io(ev);
    if (rc < 0)
      return -1;
  }
  if (tv) {
    // Re-adding an event that is active by its timeout cancels that run.
    if (ev->is(EVLIST_ACTIVE) && (ev->res & EV_TIMEOUT) && !(ev->events & EV_SIGNAL)) {
      ev->res &= ~EV_TIMEOUT;
      if (!ev->res)
        queue_remove(ev);
    }
    ev->interval = to_timeout(*tv);
    add_timeout(ev, steady::now() + ev->interval, tv);
  }
  sync_count(ev);
  return 0;
}

void event_core::del_nolock(event_impl* ev) {
  if (ev->is(EVLIST_FINALIZING))
    return;  // it waits for its finalizer, which nothing cancels
  if (current_ == ev && current_calls_) {
    current_calls_->n = 0;
    current_calls_->deleted = true;
    current_calls_ = nullptr;
  }
  if (ev->is(EVLIST_ACTIVE))
    queue_remove(ev);  // ev_res stays what fired, as libevent's
  if (ev->is(EVLIST_INSERTED))
    (ev->events & EV_SIGNAL) ? remove_signal(ev) : remove_io(ev);
  if (ev->is(EVLIST_TIMEOUT)) {
    heap_erase(ev);
    rearm_timer();
  }
  sync_count(ev);
}

int event_core::del(event_impl* ev, del_wait wait) {
  recursive_scoped_lock g(mutex_);
  // As libevent: deleted first (the loop will not run it again), then the
  // wait for its callback under way on the loop's thread.
  del_nolock(ev);
  if (wait == del_wait::block || (wait == del_wait::autoblock && !(ev->events & EV_FINALIZE)))
    wait_for_callback(ev, g);
  return 0;
}

// As libevent: the event stays on its fd or signal; a persistent event
// forgets the timeout it would re-add.
int event_core::remove_timer(event_impl* ev) {
  recursive_scoped_lock g(mutex_);
  if (ev->is(EVLIST_TIMEOUT)) {
    heap_erase(ev);
    rearm_timer();
    ev->interval = microseconds(0);
    sync_count(ev);
  }
  return 0;
}

// As libevent 2.1 with threads: deleting an event whose callback runs on
// another thread returns once that callback has, so that the caller may
// free the callback's argument. On the callback's own thread (the
// callback deletes an event) there is nothing to wait for.
void event_core::wait_for_callback(const event_impl* ev, recursive_scoped_lock&) {
  if (current_ != ev || !base_.multi_threaded() || current_thread_ == std::this_thread::get_id())
    return;
  ++current_waiters_;
  current_done_.wait(mutex_, [&] { return current_ != ev; });  // g's lock, released while waiting
  --current_waiters_;
}

void event_core::activate(event_impl* ev, short res, short ncalls) {
  recursive_scoped_lock g(mutex_);
  activate_nolock(ev, res, ncalls);
}

// ---- queries and one-shot events ---------------------------------------------------

int event_core::pending(const event_impl* ev, short what, struct timeval* tv) {
  recursive_scoped_lock g(mutex_);
  short flags = 0;
  if (ev->is(EVLIST_INSERTED))
    flags |= ev->events & (io_kinds | EV_SIGNAL);
  if (ev->is(EVLIST_ACTIVE))
    flags |= ev->res;
  if (ev->is(EVLIST_TIMEOUT))
    flags |= EV_TIMEOUT;
  what &= EV_TIMEOUT | io_kinds | EV_SIGNAL;
  if (tv && (flags & what & EV_TIMEOUT))
    *tv = ev->wall_deadline;  // the expiry in wall-clock time, as libevent reports it
  return flags & what;
}

int event_core::num_events(unsigned flags) {
  recursive_scoped_lock g(mutex_);
  int n = 0;
  if (flags & EVENT_BASE_COUNT_ACTIVE)
    n += static_cast<int>(n_active_);
  if (flags & EVENT_BASE_COUNT_ADDED) {
    // libevent counts each list an event is on: its fd or signal, the
    // timeouts, the active queue. The base counts each event once.
    n += base_.pending_count() + static_cast<int>(n_active_);
    for (const event_impl* e : heap_)
      n += e->is(EVLIST_INSERTED) ? 1 : 0;
  }
  return n;
}

int event_core::cached_time(struct timeval* tv) {
  recursive_scoped_lock g(mutex_);
  if (draining_ && !(base_.settings().flags & no_cache_time)) {
    *tv = cached_tv_;
    return 0;
  }
  return ::gettimeofday(tv, nullptr);
}

void event_core::update_cache_time() {
  recursive_scoped_lock g(mutex_);
  if (draining_ && !(base_.settings().flags & no_cache_time))
    ::gettimeofday(&cached_tv_, nullptr);
}

int event_core::max_events(unsigned type, bool clear) {
  recursive_scoped_lock g(mutex_);
  int n = 0;
  if (type & EVENT_BASE_COUNT_ACTIVE) {
    n += max_active_;
    if (clear)
      max_active_ = 0;
  }
  if (type & EVENT_BASE_COUNT_ADDED) {
    n += max_list_count_;
    if (clear)
      max_list_count_ = 0;
  }
  return n;  // no virtual events in evasio
}

// ---- inspection ----------------------------------------------------------------

// As libevent: the events on an fd or signal, then those with only a
// timeout, then those only active; each once.
int event_core::foreach_event(visit_fn fn, void* arg) {
  recursive_scoped_lock g(mutex_);
  auto walk = [&](const event_impl* list) {
    for (const event_impl* e = list; e; e = e->next)
      if (const int r = fn(e, arg))
        return r;
    return 0;
  };
  for (const auto& [fd, fs] : fds_)
    if (const int r = walk(fs->head))
      return r;
  for (const auto& [fd, list] : et_events_)
    if (const int r = walk(list))
      return r;
  for (const auto& [sig, list] : sig_events_)
    if (const int r = walk(list))
      return r;
  for (const event_impl* e : heap_)
    if (!e->is(EVLIST_INSERTED))
      if (const int r = fn(e, arg))
        return r;
  for (const active_queue& q : queues_)
    for (const event_impl* e = q.head; e; e = e->act_next)
      if (!e->is(EVLIST_INSERTED | EVLIST_TIMEOUT))
        if (const int r = fn(e, arg))
          return r;
  return 0;
}

// As libevent: each event on the fd that waits for one of `events` becomes
// active with those it waits for; EV_TIMEOUT instead activates the events
// of that fd that have a timeout, by their timeout.
void event_core::active_by_fd(int fd, short events) {
  recursive_scoped_lock g(mutex_);
  if (events & EV_TIMEOUT) {
    for (size_t i = 0; i < heap_.size(); ++i)
      if (heap_[i]->fd == fd)
        activate_nolock(heap_[i], EV_TIMEOUT, 1);
    return;
  }
  events &= io_kinds;
  auto activate_list = [&](event_impl* list) {
    for (event_impl* e = list; e; e = e->next)
      if (e->events & events)
        activate_nolock(e, e->events & events, 1);
  };
  if (auto it = fds_.find(fd); it != fds_.end())
    activate_list(it->second->head);
  if (auto it = et_events_.find(fd); it != et_events_.end())
    activate_list(it->second);
}

void event_core::active_by_signal(int sig) {
  recursive_scoped_lock g(mutex_);
  auto it = sig_events_.find(sig);
  for (event_impl* e = it == sig_events_.end() ? nullptr : it->second; e; e = e->next)
    activate_nolock(e, EV_SIGNAL, 1);
}

event_impl* event_core::running_event() {
  recursive_scoped_lock g(mutex_);
  if (base_.multi_threaded() && current_thread_ != std::this_thread::get_id())
    return nullptr;
  return const_cast<event_impl*>(current_);
}

const struct timeval* event_core::common_timeout(const struct timeval& duration) {
  struct timeval d = duration;
  if (d.tv_usec > 1000000) {  // normalised, as libevent does
    d.tv_sec += d.tv_usec / 1000000;
    d.tv_usec %= 1000000;
  }
  recursive_scoped_lock g(mutex_);
  for (const struct timeval& tv : common_timeouts_)
    if (tv.tv_sec == d.tv_sec && tv.tv_usec == d.tv_usec)
      return &tv;
  if (common_timeouts_.size() == max_common_timeouts) {
    log_msg(EVENT_LOG_WARN, "event_base_init_common_timeout: too many common timeouts (%d per base)",
            static_cast<int>(max_common_timeouts));
    return nullptr;
  }
  common_timeouts_.push_back(d);
  return &common_timeouts_.back();
}

int event_core::once(int fd, short events, event_callback_fn cb, void* arg, const struct timeval* tv) {
  if (events & (EV_SIGNAL | EV_PERSIST))
    return fail(-1, EINVAL);
  const bool timer_only = (events & (EV_TIMEOUT | io_kinds)) == EV_TIMEOUT;
  if (!timer_only && !(events & io_kinds))
    return fail(-1, EINVAL);
  auto* ev = new event_impl{};
  ev->magic = event_impl::initialized_magic;
  ev->flags = EVLIST_INIT;
  ev->pri = static_cast<unsigned char>(npriorities() / 2);
  ev->base = &base_;
  ev->fd = timer_only ? -1 : fd;
  ev->events = timer_only ? 0 : (events & io_kinds);
  ev->cb = cb;
  ev->arg = arg;
  ev->mark(event_impl::once, true);
  recursive_scoped_lock g(mutex_);
  once_events_.push_back(ev);
  if (timer_only && (!tv || (tv->tv_sec == 0 && tv->tv_usec == 0))) {
    activate_nolock(ev, EV_TIMEOUT, 1);
    return 0;
  }
  if (add(ev, tv) < 0) {
    const int err = errno;
    once_events_.pop_back();
    delete ev;
    return fail(-1, err);
  }
  return 0;
}

// ---- C boundary -----------------------------------------------------------

extern "C" {

int event_assign(struct event* ev, struct event_base* base, evutil_socket_t fd, short events,
                 event_callback_fn callback, void* callback_arg) {
  // As libevent: a NULL base is the 1.x current base, and with none the
  // event has no base until event_base_set(); a NULL callback is allowed
  // (firing it runs nothing).
  if (!ev)
    return fail(-1, EINVAL);
  debug_on_assign(ev);  // debug mode: not while pending
  if (!base)
    base = current_base();
  if ((events & EV_SIGNAL) && (events & io_kinds)) {
    log_msg(EVENT_LOG_WARN, "%s: EV_SIGNAL is not compatible with EV_READ, EV_WRITE or EV_CLOSED",
            "event_assign");
    return fail(-1, EINVAL);
  }
  auto* e = new (ev) event_impl{};
  e->magic = event_impl::initialized_magic;
  e->flags = EVLIST_INIT;
  // New events go in the middle priority, as libevent's.
  e->pri = static_cast<unsigned char>(base ? base->events().npriorities() / 2 : 0);
  e->base = base;
  e->fd = fd;
  e->events = events;
  e->cb = callback;
  e->arg = callback_arg == &self_cbarg_tag ? ev : callback_arg;
  return 0;
}

struct event* event_new(struct event_base* base, evutil_socket_t fd, short events,
                        event_callback_fn callback, void* callback_arg) {
  auto* ev = static_cast<struct event*>(mm_malloc(sizeof(struct event)));  // the program's allocator
  if (!ev)
    return fail<struct event*>(nullptr, ENOMEM);
  if (event_assign(ev, base, fd, events, callback, callback_arg) < 0) {
    const int err = errno;
    mm_free(ev);
    return fail<struct event*>(nullptr, err);
  }
  impl(ev)->mark(event_impl::allocated, true);
  return ev;
}

void event_free(struct event* ev) {
  if (!ev)
    return;
  event_del(ev);
  debug_on_free(ev);  // debug mode: later uses are caught
  impl(ev)->magic = 0;
  mm_free(ev);
}

void* event_self_cbarg(void) { return &self_cbarg_tag; }

size_t event_get_struct_event_size(void) { return sizeof(struct event); }

int event_add(struct event* ev, const struct timeval* tv) {
  debug_on_use(ev, "event_add");  // debug mode: must be initialised
  if (!on_base(ev, "event_add"))
    return fail(-1, EINVAL);
  event_impl* e = impl(ev);
  return guarded(-1, [&] { return e->base->events().add(e, tv); });
}

namespace {
int del_event(struct event* ev, event_core::del_wait wait, const char* fn) {
  debug_on_use(ev, "event_del");  // debug mode: must be initialised
  if (!on_base(ev, fn))
    return fail(-1, EINVAL);
  event_impl* e = impl(ev);
  return guarded(-1, [&] { return e->base->events().del(e, wait); });
}
} // namespace

int event_del(struct event* ev) { return del_event(ev, event_core::del_wait::autoblock, "event_del"); }
int event_del_block(struct event* ev) {
  return del_event(ev, event_core::del_wait::block, "event_del_block");
}
int event_del_noblock(struct event* ev) {
  return del_event(ev, event_core::del_wait::noblock, "event_del_noblock");
}

int event_remove_timer(struct event* ev) {
  if (!on_base(ev, "event_remove_timer"))
    return fail(-1, EINVAL);
  event_impl* e = impl(ev);
  return guarded(-1, [&] { return e->base->events().remove_timer(e); });
}

// As libevent (outside its debug mode): the event is no longer initialized.
// A pending or active event stays as it is, with a warning: its base still
// holds it.
void event_debug_unassign(struct event* ev) {
  debug_on_unassign(ev);  // debug mode: forgotten; pending is misuse
  if (!initialized(ev))
    return;
  event_impl* e = impl(ev);
  if (e->is(EVLIST_INSERTED | EVLIST_TIMEOUT | EVLIST_ACTIVE)) {
    log_msg(EVENT_LOG_WARN, "event_debug_unassign: event is pending or active");
    return;
  }
  e->flags &= ~EVLIST_INIT;
  e->magic = 0;
}

int event_pending(const struct event* ev, short events, struct timeval* tv) {
  if (!initialized(ev) || !impl(ev)->base)
    return 0;
  const event_impl* e = impl(ev);
  return e->base->events().pending(e, events, tv);
}

int event_initialized(const struct event* ev) { return initialized(ev) ? 1 : 0; }

void event_active(struct event* ev, int res, short ncalls) {
  debug_on_use(ev, "event_active");  // debug mode: must be initialised
  if (!on_base(ev, "event_active"))
    return;
  event_impl* e = impl(ev);
  guarded_void([&] { e->base->events().activate(e, static_cast<short>(res), ncalls); });
}

evutil_socket_t event_get_fd(const struct event* ev) { return initialized(ev) ? impl(ev)->fd : -1; }
struct event_base* event_get_base(const struct event* ev) {
  return initialized(ev) ? impl(ev)->base : nullptr;
}
short event_get_events(const struct event* ev) { return initialized(ev) ? impl(ev)->events : 0; }
event_callback_fn event_get_callback(const struct event* ev) {
  return initialized(ev) ? impl(ev)->cb : nullptr;
}
void* event_get_callback_arg(const struct event* ev) {
  return initialized(ev) ? impl(ev)->arg : nullptr;
}

int event_base_once(struct event_base* base, evutil_socket_t fd, short events,
                    event_callback_fn callback, void* arg, const struct timeval* tv) {
  if (!base)
    return fail(-1, EINVAL);
  return guarded(-1, [&] { return base->events().once(fd, events, callback, arg, tv); });
}

int event_base_gettimeofday_cached(struct event_base* base, struct timeval* tv) {
  if (!tv)
    return fail(-1, EINVAL);
  if (!base && !(base = current_base()))
    return ::gettimeofday(tv, nullptr);
  return base->events().cached_time(tv);
}

// As libevent: only an event that is neither pending nor active may move.
int event_base_set(struct event_base* base, struct event* ev) {
  if (!base || !initialized(ev))
    return fail(-1, EINVAL);
  event_impl* e = impl(ev);
  if (e->flags != EVLIST_INIT)
    return -1;
  e->base = base;
  e->pri = static_cast<unsigned char>(base->events().npriorities() / 2);
  return 0;
}

struct event* event_base_get_running_event(struct event_base* base) {
  if (!base)
    return fail<struct event*>(nullptr, EINVAL);
  return reinterpret_cast<struct event*>(base->events().running_event());
}

const struct timeval* event_base_init_common_timeout(struct event_base* base,
                                                     const struct timeval* duration) {
  if (!base || !duration)
    return fail<const struct timeval*>(nullptr, EINVAL);
  return guarded<const struct timeval*>(nullptr, [&] { return base->events().common_timeout(*duration); });
}

int event_base_update_cache_time(struct event_base* base) {
  if (!base && !(base = current_base()))
    return fail(-1, EINVAL);
  base->events().update_cache_time();
  return 0;
}

int event_base_get_max_events(struct event_base* base, unsigned int type, int clear) {
  if (!base)
    return fail(-1, EINVAL);
  return base->events().max_events(type, clear != 0);
}

int event_base_get_num_events(struct event_base* base, unsigned int flags) {
  if (!base)
    return fail(-1, EINVAL);
  return base->events().num_events(flags);
}

} // extern "C"

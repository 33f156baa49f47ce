// bufferevent: the core every kind shares (callbacks, deferral, watermarks,
// timeouts, references) and the kind-independent part of the C API, as
// libevent's bufferevent.c. The kinds: bufferevent_sock.cpp,
// bufferevent_pair.cpp, bufferevent_filter.cpp.
#include "detail/bufferevent_core.hpp"
#include "detail/c_boundary.hpp"
#include "detail/timeval.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>

namespace asio = boost::asio;
using namespace evasio::detail;
using std::chrono::microseconds;

namespace evasio::detail {

namespace {
bool locking(event_base* base, int options) noexcept {
  return (options & BEV_OPT_THREADSAFE) || base->multi_threaded();
}
} // namespace

bufferevent_core::bufferevent_core(event_base* base, int options, const bufferevent_ops& ops)
    : ::bufferevent{}, mutex_(locking(base, options)), options_(options),
      max_single_read_(default_single_read),
      max_single_write_(EV_SSIZE_MAX), priority_(event_base_get_npriorities(base) / 2) {
  ev_base = base;
  be_ops = &ops;
  input = &input_;
  output = &output_;
  enabled = EV_WRITE;  // as libevent: writing is on from the start
  if (options & BEV_OPT_THREADSAFE)
    base->share_with_threads();
  input_.on_drain = &bufferevent_core::input_drained;
  input_.on_drain_arg = this;
  input_.lock = output_.lock = &mutex_;
}

void bufferevent_core::attach_to_base() { ev_base->attach(this); }

bufferevent_core::~bufferevent_core() {
  if (ev_base)
    ev_base->detach(this);
}

void bufferevent_core::setcb(bufferevent_data_cb r, bufferevent_data_cb w, bufferevent_event_cb e,
                             void* arg) {
  recursive_scoped_lock g(mutex_);
  readcb = r;
  writecb = w;
  errorcb = e;
  cbarg = arg;
}

void bufferevent_core::getcb(bufferevent_data_cb* r, bufferevent_data_cb* w,
                             bufferevent_event_cb* e, void** arg) {
  recursive_scoped_lock g(mutex_);
  if (r) *r = readcb;
  if (w) *w = writecb;
  if (e) *e = errorcb;
  if (arg) *arg = cbarg;
}

// A reference held: the kind may run callbacks that free the bufferevent.
int bufferevent_core::enable(short what) {
  ref keep(this);
  recursive_scoped_lock g(mutex_);
  enabled |= what;  // as libevent, other bits too (they do nothing)
  return kind_enable(what);
}

int bufferevent_core::disable(short what) {
  recursive_scoped_lock g(mutex_);
  enabled &= static_cast<short>(~what);
  return kind_disable(what);
}

short bufferevent_core::get_enabled() {
  recursive_scoped_lock g(mutex_);
  return enabled;
}

event_base* bufferevent_core::get_base() {
  recursive_scoped_lock g(mutex_);
  return ev_base;
}

void bufferevent_core::setwatermark(short events, size_t low, size_t high) {
  ref keep(this);
  recursive_scoped_lock g(mutex_);
  if (events & EV_WRITE) {
    wm_write.low = low;
    wm_write.high = high;
  }
  if (events & EV_READ) {
    wm_read.low = low;
    wm_read.high = high;
    update_read_suspension();
    kind_sync();
  }
}

int bufferevent_core::getwatermark(short events, size_t* low, size_t* high) {
  recursive_scoped_lock g(mutex_);
  const event_watermark* w;
  if (events == EV_READ)
    w = &wm_read;
  else if (events == EV_WRITE)
    w = &wm_write;
  else
    return fail(-1, EINVAL);
  if (low) *low = w->low;
  if (high) *high = w->high;
  return 0;
}

int bufferevent_core::set_timeouts(const struct timeval* rd, const struct timeval* wr) {
  recursive_scoped_lock g(mutex_);
  // Kept as given (NULL: {0, 0}), as libevent; timeout_of() reads them.
  const struct timeval none = {0, 0};
  timeout_read = rd ? *rd : none;
  timeout_write = wr ? *wr : none;
  kind_adj_timeouts();
  return 0;
}

int bufferevent_core::flush(short iotype, bufferevent_flush_mode mode) {
  ref keep(this);
  recursive_scoped_lock g(mutex_);
  return kind_flush(iotype, mode);
}

// As libevent's bufferevent_free: no callback from now on; the kind lets
// go of what it holds (pending output is dropped, as in libevent); what is
// still queued on the base may run and only drops its reference.
void bufferevent_core::free() {
  {
    recursive_scoped_lock g(mutex_);
    readcb = nullptr;
    writecb = nullptr;
    errorcb = nullptr;
    freed_ = true;
    if (limits_)
      limits_->leave_group(false);
    kind_unlink();
    leave_base();
    if (ev_base)
      ev_base->detach(this);
    ev_base = nullptr;
  }
  intrusive_ptr_release(this);
}

// bufferevent_trigger: the callbacks as if data had come or gone, watermarks
// checked unless told otherwise; deferred when the bufferevent or the call
// asks. A reference held: a callback may free the bufferevent.
void bufferevent_core::trigger(short iotype, int options) {
  ref keep(this);
  recursive_scoped_lock g(mutex_);
  trigger_nolock(iotype, options);
}

void bufferevent_core::trigger_nolock(short iotype, int options) {
  const bool ignore = options & BEV_TRIG_IGNORE_WATERMARKS;
  const bool later = options & BEV_TRIG_DEFER_CALLBACKS;
  if ((iotype & EV_READ) && (ignore || input_.length() >= wm_read.low))
    run_readcb(later);
  if ((iotype & EV_WRITE) && (ignore || output_.length() <= wm_write.low))
    run_writecb(later);
}

void bufferevent_core::trigger_event(short what, int options) {
  ref keep(this);
  recursive_scoped_lock g(mutex_);
  run_eventcb(what, errno, options & BEV_TRIG_DEFER_CALLBACKS);
}

// The last reference going without bufferevent_free is a free, as in
// libevent, where the count reaching zero tears the bufferevent down.
// 1 when that was the last reference.
int bufferevent_core::decref() {
  if (refs_one() && !freed_) {
    free();
    return 1;
  }
  const bool last = refs_one();
  intrusive_ptr_release(this);
  return last ? 1 : 0;
}

// As libevent: 0 (or more than EV_SSIZE_MAX) restores the default.
int bufferevent_core::set_max_single(bool write, size_t n) {
  recursive_scoped_lock g(mutex_);
  if (n == 0 || n > static_cast<size_t>(EV_SSIZE_MAX))
    n = write ? static_cast<size_t>(EV_SSIZE_MAX) : default_single_read;
  (write ? max_single_write_ : max_single_read_) = n;
  return 0;
}

ev_ssize_t bufferevent_core::max_single(bool write) {
  recursive_scoped_lock g(mutex_);
  return static_cast<ev_ssize_t>(write ? max_single_write_ : max_single_read_);
}

// As libevent: socket bufferevents only (their read and write events'),
// within the base's priorities. evasio records it; its I/O callbacks run
// as their I/O completes (README, intended differences).
int bufferevent_core::priority_set(int pri) {
  recursive_scoped_lock g(mutex_);
  if (be_ops != &socket_ops || !ev_base || pri < 0 || pri >= event_base_get_npriorities(ev_base))
    return -1;
  priority_ = pri;
  return 0;
}

// Another kind: the base's middle priority, as libevent.
int bufferevent_core::get_priority() {
  recursive_scoped_lock g(mutex_);
  if (be_ops == &socket_ops || !ev_base)
    return priority_;
  return event_base_get_npriorities(ev_base) / 2;
}

evutil_socket_t bufferevent_core::getfd() {
  recursive_scoped_lock g(mutex_);
  return kind_getfd();
}

int bufferevent_core::setfd(evutil_socket_t fd) {
  ref keep(this);
  recursive_scoped_lock g(mutex_);
  return kind_setfd(fd);
}

::bufferevent* bufferevent_core::underlying() {
  recursive_scoped_lock g(mutex_);
  return kind_underlying();
}

bev_rate_limit* bufferevent_core::limits(bool make) {
  if (!limits_ && make)
    limits_ = std::make_unique<bev_rate_limit>(*this);
  return limits_.get();
}

// event_base_free: the base unlinks it.
void bufferevent_core::detach_from_base() noexcept {
  recursive_scoped_lock g(mutex_);
  leave_base();
  ev_base = nullptr;
}

void bufferevent_core::leave_base() noexcept {
  base_gen_.fetch_add(1, std::memory_order_release);
  if (limits_)
    limits_->leave_base();
  for (timeout_timer& t : timers_) {
    set_armed(t, false);
    ++t.seq;
    t.timer.reset();
  }
  kind_leave_base();
  if (deferred_posted_) {
    deferred_posted_ = false;
    if (ev_base)
      ev_base->add_active(-1);
  }
}

// ---- the read watermark ------------------------------------------------------------

void bufferevent_core::update_read_suspension() {
  const bool full = wm_read.high && input_.length() >= wm_read.high;
  // While full, the input calls input_drained once it drops below the mark,
  // whoever drains it (libevent's watermark callback on the input).
  input_.drain_below = full ? wm_read.high : 0;
  set_read_suspended(suspend_wm, full);
}

void bufferevent_core::suspend_read(read_suspension why, bool on) {
  ref keep(this);
  recursive_scoped_lock g(mutex_);
  set_read_suspended(why, on);
  kind_sync();
}

// The kind hears only of a change between reading and not.
void bufferevent_core::set_read_suspended(unsigned why, bool on) {
  const bool before = read_susp_ != 0;
  read_susp_ = on ? read_susp_ | why : read_susp_ & ~why;
  if (before != (read_susp_ != 0))
    kind_read_suspension(read_susp_ != 0);
}

// libevent's unsuspend: the kind's enable, if reading is enabled.
void bufferevent_core::kind_read_suspension(bool suspended) {
  if (!suspended && (enabled & EV_READ))
    kind_enable(EV_READ);
}

void bufferevent_core::input_drained(void* p) noexcept {
  auto* self = static_cast<bufferevent_core*>(p);
  try {
    ref keep(self);
    recursive_scoped_lock g(self->mutex_);
    self->update_read_suspension();
    self->kind_sync();
  } catch (...) {
    // No memory to resume: it resumes with the next enable.
  }
}

// ---- timeouts ----------------------------------------------------------------------

// The public timeout_read or timeout_write, read each time: {0, 0} is none
// (libevent tests timerisset); any other that saturates to zero fires at once.
microseconds bufferevent_core::timeout_of(bool reading) const noexcept {
  const struct timeval& tv = reading ? timeout_read : timeout_write;
  if (tv.tv_sec == 0 && tv.tv_usec == 0)
    return microseconds(0);
  return std::max(to_timeout(tv), microseconds(1));
}

// Kinds whose timeouts are events of their own (libevent's generic
// timeouts) count them as pending: the loop waits for them.
void bufferevent_core::set_armed(timeout_timer& t, bool armed) noexcept {
  if (t.armed == armed)
    return;
  t.armed = armed;
  if (count_timeouts_ && ev_base)
    ev_base->add_pending(armed ? 1 : -1);
}

void bufferevent_core::sync_timer(bool reading, bool want) noexcept {
  const bool has_timeout = timeout_of(reading).count() > 0;
  if (want && has_timeout && !timers_[reading ? 0 : 1].armed)
    restart_timer(reading);
  else if (!(want && has_timeout))
    disarm_timer(reading);
}

void bufferevent_core::disarm_timer(bool reading) noexcept {
  timeout_timer& t = timers_[reading ? 0 : 1];
  if (!t.armed)
    return;
  set_armed(t, false);
  ++t.seq;
  t.timer->cancel();
}

void bufferevent_core::restart_timer(bool reading) noexcept {
  const microseconds timeout = timeout_of(reading);
  if (timeout.count() == 0 || !ev_base) {
    disarm_timer(reading);
    return;
  }
  timeout_timer& t = timers_[reading ? 0 : 1];
  try {
    if (!t.timer)
      t.timer = std::make_unique<asio::steady_timer>(ev_base->context());
    set_armed(t, true);
    const unsigned seq = ++t.seq;
    const unsigned gen = base_gen();
    t.timer->expires_after(timeout);
    t.timer->async_wait([self = ref(this), reading, seq, gen](boost::system::error_code ec) {
      if (ec != asio::error::operation_aborted && !self->stale(gen))
        self->on_timeout(reading, seq, gen);
    });
  } catch (...) {
    set_armed(t, false);  // no memory for the timer: no timeout
  }
}

void bufferevent_core::on_timeout(bool reading, unsigned seq, unsigned gen) {
  recursive_scoped_lock g(mutex_);
  timeout_timer& t = timers_[reading ? 0 : 1];
  if (stale(gen) || seq != t.seq || !t.armed)
    return;
  set_armed(t, false);
  ev_base->note_callback();
  kind_timeout(reading);
}

// libevent's generic timeout callback: that side disabled, then told.
void bufferevent_core::kind_timeout(bool reading) {
  const short side = reading ? EV_READ : EV_WRITE;
  enabled &= ~side;
  kind_disable(side);
  run_eventcb((reading ? BEV_EVENT_READING : BEV_EVENT_WRITING) | BEV_EVENT_TIMEOUT, 0);
}

// As libevent's generic timeouts: (re)added from now, or deleted.
void bufferevent_core::generic_adj_timeouts() noexcept {
  if ((enabled & EV_READ) && !read_susp_)
    restart_timer(true);
  else
    disarm_timer(true);
  if ((enabled & EV_WRITE) && output_.length())
    restart_timer(false);
  else
    disarm_timer(false);
}

// ---- callbacks, immediate or deferred ------------------------------------------------

// As libevent's: nothing at all (not even a deferral) without a callback.
void bufferevent_core::run_readcb(bool defer_anyway) {
  if (!readcb)
    return;
  if ((options_ & BEV_OPT_DEFER_CALLBACKS) || defer_anyway) {
    defer(deferred_read);
  } else {
    readcb(this, cbarg);
    recheck_high_watermark();
  }
}

// As libevent 2.1.12: while the input stays at its high watermark after the
// read callback, the callback is called again (deferred) to drain it.
void bufferevent_core::recheck_high_watermark() {
  if (wm_read.high && (enabled & EV_READ) && readcb && input_.length() >= wm_read.high &&
      input_.length() >= wm_read.low)
    defer(deferred_read);
}

void bufferevent_core::run_writecb(bool defer_anyway) {
  if (!writecb)
    return;
  if ((options_ & BEV_OPT_DEFER_CALLBACKS) || defer_anyway)
    defer(deferred_write);
  else
    writecb(this, cbarg);
}

void bufferevent_core::run_eventcb(short what, int err, bool defer_anyway) {
  if (!errorcb)
    return;
  if ((options_ & BEV_OPT_DEFER_CALLBACKS) || defer_anyway) {
    defer_eventcb(what, err);
  } else {
    errno = err;  // what EVUTIL_SOCKET_ERROR() tells inside the callback
    errorcb(this, what, cbarg);
  }
}

void bufferevent_core::defer_eventcb(short what, int err) {
  deferred_what_ |= what;
  deferred_err_ = err;
  defer(deferred_event);
}

void bufferevent_core::defer(unsigned kind) {
  deferred_ |= kind;
  if (!deferred_posted_)
    post_deferred();
}

void bufferevent_core::post_deferred() {
  if (!ev_base || !deferred_)
    return;
  deferred_posted_ = true;
  ev_base->add_active(1);
  asio::post(ev_base->context(), [self = ref(this), gen = base_gen()] {
    if (!self->stale(gen))
      self->run_deferred(gen);
  });
}

// As libevent's: CONNECTED first, then read, write, and the other events,
// each taken when its turn comes, so that an event a read callback defers
// is told in this same run (with CONNECTED no longer split from it). What
// is pending without a callback stays pending, as in libevent.
void bufferevent_core::run_deferred(unsigned gen) {
  recursive_scoped_lock g(mutex_);
  if (stale(gen))
    return;  // it left the base since: reposted on the new one, if any
  deferred_posted_ = false;
  if (ev_base) {
    ev_base->add_active(-1);
    ev_base->note_callback();
  }
  const bool unlock = options_ & BEV_OPT_UNLOCK_CALLBACKS;
  auto call = [&](auto fn) {
    if (unlock)
      g.unlock();
    fn();
    if (unlock)
      g.lock();
  };
  if ((deferred_what_ & BEV_EVENT_CONNECTED) && errorcb) {
    deferred_what_ &= ~BEV_EVENT_CONNECTED;
    auto cb = errorcb;
    void* arg = cbarg;
    call([&] { cb(this, BEV_EVENT_CONNECTED, arg); });
  }
  if ((deferred_ & deferred_read) && readcb) {
    deferred_ &= ~deferred_read;
    auto cb = readcb;
    void* arg = cbarg;
    call([&] { cb(this, arg); });
    recheck_high_watermark();
  }
  if ((deferred_ & deferred_write) && writecb) {
    deferred_ &= ~deferred_write;
    auto cb = writecb;
    void* arg = cbarg;
    call([&] { cb(this, arg); });
  }
  if (deferred_what_ && errorcb) {
    const short what = deferred_what_;
    const int err = deferred_err_;
    deferred_what_ = 0;
    deferred_err_ = 0;
    auto cb = errorcb;
    void* arg = cbarg;
    call([&] {
      errno = err;
      cb(this, what, arg);
    });
  }
  if (!deferred_what_)
    deferred_ &= ~deferred_event;
  update_read_suspension();
  kind_sync();
}

// ---- for bufferevent_ratelim.cpp -----------------------------------------------------

bev_rate_limit* rate_limit_of(::bufferevent* bev, bool make) {
  return bufferevent_core::of(bev)->limits(make);
}

ev_ssize_t single_max_of(::bufferevent* bev, bool write) noexcept {
  return bufferevent_core::of(bev)->max_single(write);
}

} // namespace evasio::detail

// ---- C boundary -----------------------------------------------------------

namespace {
bufferevent_core* impl(struct bufferevent* bev) noexcept { return bufferevent_core::of(bev); }
} // namespace

extern "C" {

void bufferevent_free(struct bufferevent* bev) {
  if (bev)
    guarded_void([&] { impl(bev)->free(); });
}

void bufferevent_setcb(struct bufferevent* bev, bufferevent_data_cb readcb,
                       bufferevent_data_cb writecb, bufferevent_event_cb eventcb, void* cbarg) {
  if (bev)
    impl(bev)->setcb(readcb, writecb, eventcb, cbarg);
}

void bufferevent_getcb(struct bufferevent* bev, bufferevent_data_cb* readcb_ptr,
                       bufferevent_data_cb* writecb_ptr, bufferevent_event_cb* eventcb_ptr,
                       void** cbarg_ptr) {
  if (bev)
    impl(bev)->getcb(readcb_ptr, writecb_ptr, eventcb_ptr, cbarg_ptr);
}

int bufferevent_enable(struct bufferevent* bev, short event) {
  if (!bev)
    return fail(-1, EINVAL);
  return guarded(-1, [&] { return impl(bev)->enable(event); });
}

int bufferevent_disable(struct bufferevent* bev, short event) {
  if (!bev)
    return fail(-1, EINVAL);
  return guarded(-1, [&] { return impl(bev)->disable(event); });
}

short bufferevent_get_enabled(struct bufferevent* bev) {
  return bev ? impl(bev)->get_enabled() : 0;
}

struct evbuffer* bufferevent_get_input(struct bufferevent* bev) {
  return bev ? bev->input : nullptr;
}

struct evbuffer* bufferevent_get_output(struct bufferevent* bev) {
  return bev ? bev->output : nullptr;
}

int bufferevent_write(struct bufferevent* bev, const void* data, size_t size) {
  if (!bev)
    return fail(-1, EINVAL);
  return evbuffer_add(bev->output, data, size);
}

int bufferevent_write_buffer(struct bufferevent* bev, struct evbuffer* buf) {
  if (!bev)
    return fail(-1, EINVAL);
  return evbuffer_add_buffer(bev->output, buf);
}

size_t bufferevent_read(struct bufferevent* bev, void* data, size_t size) {
  if (!bev)
    return 0;
  const int n = evbuffer_remove(bev->input, data, size);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

int bufferevent_read_buffer(struct bufferevent* bev, struct evbuffer* buf) {
  if (!bev)
    return fail(-1, EINVAL);
  return evbuffer_add_buffer(buf, bev->input);
}

// As libevent: -1 for a kind without an fd (errno untouched).
evutil_socket_t bufferevent_getfd(struct bufferevent* bev) {
  if (!bev)
    return fail(-1, EINVAL);
  return impl(bev)->getfd();
}

int bufferevent_setfd(struct bufferevent* bev, evutil_socket_t fd) {
  if (!bev)
    return fail(-1, EINVAL);
  return guarded(-1, [&] { return impl(bev)->setfd(fd); });
}

struct bufferevent* bufferevent_get_underlying(struct bufferevent* bev) {
  return bev ? impl(bev)->underlying() : nullptr;
}

struct event_base* bufferevent_get_base(struct bufferevent* bev) {
  return bev ? impl(bev)->get_base() : nullptr;
}

void bufferevent_setwatermark(struct bufferevent* bev, short events, size_t lowmark,
                              size_t highmark) {
  if (bev)
    guarded_void([&] { impl(bev)->setwatermark(events, lowmark, highmark); });
}

int bufferevent_getwatermark(struct bufferevent* bev, short events, size_t* lowmark,
                             size_t* highmark) {
  if (!bev)
    return fail(-1, EINVAL);
  return impl(bev)->getwatermark(events, lowmark, highmark);
}

int bufferevent_set_timeouts(struct bufferevent* bev, const struct timeval* timeout_read,
                             const struct timeval* timeout_write) {
  if (!bev)
    return fail(-1, EINVAL);
  return guarded(-1, [&] { return impl(bev)->set_timeouts(timeout_read, timeout_write); });
}

int bufferevent_flush(struct bufferevent* bev, short iotype, enum bufferevent_flush_mode mode) {
  if (!bev)
    return fail(-1, EINVAL);
  return guarded(-1, [&] { return impl(bev)->flush(iotype, mode); });
}

void bufferevent_trigger(struct bufferevent* bev, short iotype, int options) {
  if (bev)
    guarded_void([&] { impl(bev)->trigger(iotype, options); });
}

void bufferevent_trigger_event(struct bufferevent* bev, short what, int options) {
  if (bev)
    guarded_void([&] { impl(bev)->trigger_event(what, options); });
}

void bufferevent_incref(struct bufferevent* bev) {
  if (bev)
    impl(bev)->incref();
}

int bufferevent_decref(struct bufferevent* bev) {
  if (!bev)
    return fail(-1, EINVAL);
  return guarded(-1, [&] { return impl(bev)->decref(); });
}

int bufferevent_set_max_single_read(struct bufferevent* bev, size_t size) {
  return bev ? impl(bev)->set_max_single(false, size) : fail(-1, EINVAL);
}

int bufferevent_set_max_single_write(struct bufferevent* bev, size_t size) {
  return bev ? impl(bev)->set_max_single(true, size) : fail(-1, EINVAL);
}

ev_ssize_t bufferevent_get_max_single_read(struct bufferevent* bev) {
  return bev ? impl(bev)->max_single(false) : fail<ev_ssize_t>(-1, EINVAL);
}

ev_ssize_t bufferevent_get_max_single_write(struct bufferevent* bev) {
  return bev ? impl(bev)->max_single(true) : fail<ev_ssize_t>(-1, EINVAL);
}

int bufferevent_priority_set(struct bufferevent* bev, int pri) {
  return bev ? impl(bev)->priority_set(pri) : fail(-1, EINVAL);
}

int bufferevent_get_priority(const struct bufferevent* bev) {
  return bev ? impl(const_cast<struct bufferevent*>(bev))->get_priority() : fail(-1, EINVAL);
}

void bufferevent_lock(struct bufferevent* bev) {
  if (bev)
    impl(bev)->mutex_.lock();
}

void bufferevent_unlock(struct bufferevent* bev) {
  if (bev)
    impl(bev)->mutex_.unlock();
}

} // extern "C"

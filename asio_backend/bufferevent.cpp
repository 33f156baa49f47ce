// bufferevent: libevent's socket bufferevent on Asio's reactor.
//
// Readiness comes from an fd_watch (the io_context's epoll registration);
// the bytes move with recvmsg/sendmsg(MSG_DONTWAIT) straight into and out
// of the evbuffers. A wait follows a short read or write (the socket is
// drained or full: on a one-thread context such a wait costs no system
// call); anything else starts with an attempt (a "kick").
#include "detail/base.hpp"
#include "detail/c_boundary.hpp"
#include "detail/evbuffer.hpp"
#include "detail/fd_watch.hpp"
#include "detail/lock.hpp"
#include "detail/ratelim.hpp"
#include "detail/timeval.hpp"

#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive_ptr.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>

namespace asio = boost::asio;
using namespace evasio::detail;
using std::chrono::microseconds;

namespace {
constexpr size_t read_max = 65536;  // per read call
enum deferred_kind : unsigned { deferred_read = 1, deferred_write = 2, deferred_event = 4 };
} // namespace

// What a kind of bufferevent is: its public part's be_ops points at its
// kind's table, as in libevent (socket today; pairs, filters... next).
struct bufferevent_ops {
  const char* type;
};

namespace {

const bufferevent_ops socket_ops = {"socket"};

// A socket bufferevent. Its public part (struct bufferevent, a base class:
// the C pointer and this object convert both ways with no lookup) holds the
// state libevent exposes, and is where that state lives: the base, the
// callbacks, what is enabled, the watermarks and the timeouts are read from
// those fields every time, so that a program that sets one directly is
// obeyed, as with libevent.
class socket_bufferevent final : public ::bufferevent, public attached, public limit_owner {
public:
  socket_bufferevent(event_base* base, int options)
      : ::bufferevent{}, mutex_((options & BEV_OPT_THREADSAFE) || base->multi_threaded()),
        locks_((options & BEV_OPT_THREADSAFE) || base->multi_threaded()),
        options_(options), slot_(std::make_unique<slot>(this)) {
    ev_base = base;
    be_ops = &socket_ops;
    input = &input_;
    output = &output_;
    enabled = EV_WRITE;  // as libevent: writing is on from the start
    if (options & BEV_OPT_THREADSAFE)
      base->share_with_threads();
    output_.on_add = &socket_bufferevent::output_grew;
    output_.on_add_arg = this;
    input_.on_drain = &socket_bufferevent::input_drained;
    input_.on_drain_arg = this;
    input_.lock = output_.lock = &mutex_;
    // As libevent's socket bufferevents: the user may not add to the input
    // nor take from the output (the bufferevent itself still does).
    // bufferevent_setfd (and so bufferevent_socket_connect) lifts this.
    input_.frozen_back = true;
    output_.frozen_front = true;
  }
  ~socket_bufferevent() override {
    if (ev_base)
      ev_base->detach(this);
  }

  // Every struct bufferevent evasio hands out is one of these.
  static socket_bufferevent* of(::bufferevent* bev) noexcept {
    return static_cast<socket_bufferevent*>(bev);
  }

  friend void intrusive_ptr_add_ref(socket_bufferevent* b) noexcept {
    b->refs_.fetch_add(1, std::memory_order_relaxed);
  }
  friend void intrusive_ptr_release(socket_bufferevent* b) noexcept {
    if (b->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1)
      delete b;
  }
  using ref = boost::intrusive_ptr<socket_bufferevent>;

  bool adopt(int fd, boost::system::error_code& ec);
  int setfd(int fd);
  int connect(const struct sockaddr* sa, int socklen);
  int base_set(event_base* base);
  void setcb(bufferevent_data_cb r, bufferevent_data_cb w, bufferevent_event_cb e, void* arg) {
    recursive_scoped_lock g(mutex_);
    readcb = r;
    writecb = w;
    errorcb = e;
    cbarg = arg;
  }
  void getcb(bufferevent_data_cb* r, bufferevent_data_cb* w, bufferevent_event_cb* e, void** arg) {
    recursive_scoped_lock g(mutex_);
    if (r) *r = readcb;
    if (w) *w = writecb;
    if (e) *e = errorcb;
    if (arg) *arg = cbarg;
  }
  int enable(short what);
  int disable(short what);
  short get_enabled() {
    recursive_scoped_lock g(mutex_);
    return enabled;
  }
  event_base* get_base() {
    recursive_scoped_lock g(mutex_);
    return ev_base;
  }
  void setwatermark(short events, size_t low, size_t high);
  int getwatermark(short events, size_t* low, size_t* high);
  int set_timeouts(const struct timeval* rd, const struct timeval* wr);
  void free();
  void detach_from_base() noexcept override;
  void trigger(short iotype, int options);
  void trigger_event(short what, int options);
  void incref() noexcept { intrusive_ptr_add_ref(this); }
  int decref();

  // Rate limits (bufferevent_ratelim.cpp): made with the first limit or group.
  bev_rate_limit* limits(bool make) {
    if (!limits_ && make)
      limits_ = std::make_unique<bev_rate_limit>(*this);
    return limits_.get();
  }
  void bw_suspend(short what, bw_reason why) override;
  void bw_unsuspend(short what, bw_reason why) override;
  event_base* bw_base() noexcept override { return ev_base; }
  void bw_lock() noexcept override { mutex_.lock(); }
  bool bw_try_lock() noexcept override { return mutex_.try_lock(); }
  void bw_unlock() noexcept override { mutex_.unlock(); }
  void bw_retain() noexcept override { intrusive_ptr_add_ref(this); }
  void bw_release() noexcept override { intrusive_ptr_release(this); }

  optional_recursive_mutex mutex_;
  evbuffer input_;
  evbuffer output_;
  int fd_ = -1;

private:
  enum class op { none, kick, wait };
  struct direction {
    op state = op::none;
    unsigned seq = 0;       // bumped by every start and stop
    unsigned launched = 0;  // seq of the watch operation under way
    bool in_flight = false; // the watch's operation for this side is under way
    bool counted = false;
    bool timer_armed = false;
    unsigned timer_seq = 0;
    std::unique_ptr<asio::steady_timer> timer;  // made when a timeout is first armed
  };
  // The fd_watch, with the bufferevent it reports to. bufferevent_base_set
  // gives the bufferevent a new one: the old one's operations may still be
  // queued in the old base's io_context, so it lives until they came back.
  // They may come back on the old base's thread while the bufferevent is
  // used on another: once retired they touch only these atomics.
  struct slot {
    explicit slot(socket_bufferevent* b) : bev(b), watch(&socket_bufferevent::on_watch, this) {}
    socket_bufferevent* const bev;
    fd_watch watch;
    std::atomic<int> queued{0};  // once retired: its operations still to come back
    std::atomic<bool> retired{false};
    // One of its operations came back after it was retired.
    static void came_back(slot* s) noexcept {
      if (s->queued.fetch_sub(1, std::memory_order_acq_rel) == 1)
        delete s;
    }
  };
  // Handlers posted to the io_context (timers, deferred callbacks) carry
  // the generation of the base they were posted for: once the bufferevent
  // left that base (base_set, its base or itself freed) they do nothing,
  // and look at nothing else first.
  bool stale(unsigned gen) const noexcept {
    return gen != base_gen_.load(std::memory_order_acquire);
  }

  fd_watch& watch() noexcept { return slot_->watch; }
  const fd_watch& watch() const noexcept { return slot_->watch; }
  bool live() const noexcept { return !freed_ && watch().is_open() && ev_base; }
  // libevent's read and write events, added (they count, and their
  // timeouts run): with no fd yet they are timers only.
  bool pending_read() const noexcept {
    return (enabled & EV_READ) && read_added_ && !freed_ && ev_base && !read_suspended_ &&
           !bw_read_ && !connecting_;
  }
  bool pending_write() const noexcept {
    if (freed_ || !ev_base)
      return false;
    // While a connect is in progress, writability tells its outcome.
    if (connecting_ && connect_wait_)
      return watch().is_open();
    // Added even with nothing to write: once writable, libevent's write
    // event finds the output empty, deletes itself and calls the write
    // callback (programs enable EV_WRITE to be called back so).
    return (enabled & EV_WRITE) && write_added_ && !bw_write_;
  }
  // Pending, with an fd to wait on.
  bool want_read() const noexcept { return pending_read() && watch().is_open(); }
  bool want_write() const noexcept { return pending_write() && watch().is_open(); }
  microseconds timeout_of(const direction& d) const noexcept;
  void sync() noexcept;
  void sync_timer(direction& d, bool want) noexcept;
  void restart_timer(direction& d) noexcept;
  void disarm_timer(direction& d) noexcept;
  // Reading starts with an attempt: the socket's state is not known here,
  // and an attempt that finds nothing leaves no read buffer behind.
  void schedule_read() { if (want_read() && read_.state == op::none) start(read_, op::kick); }
  // An attempt also while a connect is under way: finish_connect looks, and
  // waits for writability if it is not done (this may be another thread,
  // where a wait on what it saw here could miss the edge).
  // With nothing to write, a wait: the write callback is due once the fd
  // is writable, which the watch may already know.
  void schedule_write() {
    if (want_write() && write_.state == op::none)
      output_.length() || connecting_ ? start(write_, op::kick)
                                       : start(write_, op::wait, fd_watch::mode::wait);
  }
  void start(direction& d, op kind);
  void start(direction& d, op kind, fd_watch::mode m);
  void launch(direction& d, fd_watch::mode m);
  void stop(direction& d) noexcept;
  static void on_watch(void* slot, fd_watch::dir dir, fd_watch::result r);
  void on_ready(slot* from, bool reading, fd_watch::result r);
  void on_timeout(bool reading, unsigned seq, unsigned gen);
  void do_read();
  void do_write();
  bool finish_connect();
  bool not_a_socket(ssize_t r);
  void update_read_suspension();
  void run_readcb(bool defer_anyway = false);
  void recheck_high_watermark();
  void run_writecb(bool defer_anyway = false);
  void run_eventcb(short what, int err, bool defer_anyway = false);
  void defer(unsigned kind);
  void post_deferred();
  void run_deferred(unsigned gen);
  void leave_base() noexcept;
  void retire_slot(std::unique_ptr<slot> fresh) noexcept;
  void close_socket() noexcept;
  static void output_grew(void* self);
  static void input_drained(void* self) noexcept;

  bool locks_;  // mutex_ is a real one
  const int options_;
  std::atomic<int> refs_{1};
  std::unique_ptr<slot> slot_;
  bool is_socket_ = true;
  bool freed_ = false;
  bool connecting_ = false;
  bool connect_wait_ = false;  // waiting for writability to learn the connect result
  bool read_suspended_ = false;  // input at its high watermark
  // libevent's event added: by enable, setfd, new output (write); deleted
  // by a refused connect, setfd(-1) and the base's end. Matters with no
  // fd, or after that.
  bool read_added_ = false;
  bool write_added_ = false;
  // Reading (writing) stopped for bandwidth: bw_reason bits.
  unsigned char bw_read_ = 0;
  unsigned char bw_write_ = 0;
  std::unique_ptr<bev_rate_limit> limits_;  // null: no limit, no cost
  direction read_, write_;
  unsigned deferred_ = 0;
  short deferred_what_ = 0;
  int deferred_err_ = 0;
  bool deferred_posted_ = false;
  std::atomic<unsigned> base_gen_{0};  // bumped when it leaves a base, see stale()
};

bool socket_bufferevent::adopt(int fd, boost::system::error_code& ec) {
  // Taken for a socket (no system call to ask): a pipe or tty is found out
  // by its first recvmsg/sendmsg failing with ENOTSOCK.
  is_socket_ = true;
  if (const int err = watch().open(ev_base->context(), fd, ev_base->mux())) {
    ec.assign(err, boost::system::system_category());
    return false;
  }
  fd_ = fd;
  return true;
}

// Not a socket after all: plain read/write from now on, which need the fd
// itself non-blocking (sockets get MSG_DONTWAIT per call instead).
bool socket_bufferevent::not_a_socket(ssize_t r) {
  if (r >= 0 || errno != ENOTSOCK || !is_socket_)
    return false;
  is_socket_ = false;
  const int fl = ::fcntl(fd_, F_GETFL);
  if (fl >= 0 && !(fl & O_NONBLOCK))
    ::fcntl(fd_, F_SETFL, fl | O_NONBLOCK);
  return true;
}

void socket_bufferevent::sync() noexcept {
  if (!ev_base)
    return;
  auto count = [this](direction& d, bool want) {
    if (want != d.counted) {
      d.counted = want;
      ev_base->add_pending(want ? 1 : -1);
    }
    sync_timer(d, want);
  };
  count(read_, pending_read());
  count(write_, pending_write());
}

// The public timeout_read or timeout_write, read each time: {0, 0} is none
// (libevent tests timerisset); any other that saturates to zero fires at once.
microseconds socket_bufferevent::timeout_of(const direction& d) const noexcept {
  const struct timeval& tv = &d == &read_ ? timeout_read : timeout_write;
  if (tv.tv_sec == 0 && tv.tv_usec == 0)
    return microseconds(0);
  return std::max(to_timeout(tv), microseconds(1));
}

// A timeout runs while its direction is pending, counted from the last
// progress, as libevent's event timeouts on the read and write events.
void socket_bufferevent::sync_timer(direction& d, bool want) noexcept {
  const bool has_timeout = timeout_of(d).count() > 0;
  if (want && has_timeout && !d.timer_armed)
    restart_timer(d);
  else if (!(want && has_timeout))
    disarm_timer(d);
}

void socket_bufferevent::disarm_timer(direction& d) noexcept {
  if (!d.timer_armed)
    return;
  d.timer_armed = false;
  ++d.timer_seq;
  d.timer->cancel();
}

void socket_bufferevent::restart_timer(direction& d) noexcept {
  const microseconds timeout = timeout_of(d);
  if (timeout.count() == 0 || !ev_base)
    return;
  if (!d.timer)
    d.timer = std::make_unique<asio::steady_timer>(ev_base->context());
  d.timer_armed = true;
  const unsigned seq = ++d.timer_seq;
  const unsigned gen = base_gen_.load(std::memory_order_relaxed);
  const bool reading = &d == &read_;
  d.timer->expires_after(timeout);
  d.timer->async_wait([self = ref(this), reading, seq, gen](boost::system::error_code ec) {
    if (ec != asio::error::operation_aborted && !self->stale(gen))
      self->on_timeout(reading, seq, gen);
  });
}

void socket_bufferevent::on_timeout(bool reading, unsigned seq, unsigned gen) {
  recursive_scoped_lock g(mutex_);
  direction& d = reading ? read_ : write_;
  if (stale(gen) || seq != d.timer_seq || !d.timer_armed)
    return;
  d.timer_armed = false;
  ev_base->note_callback();
  const short side = reading ? EV_READ : EV_WRITE;
  enabled &= ~side;
  if (d.state != op::none)
    stop(d);
  sync();
  run_eventcb((reading ? BEV_EVENT_READING : BEV_EVENT_WRITING) | BEV_EVENT_TIMEOUT, ETIMEDOUT);
}

// op::wait here follows a short read or write in this handler.
void socket_bufferevent::start(direction& d, op kind) {
  start(d, kind, kind == op::kick ? fd_watch::mode::probe : fd_watch::mode::after_short);
}

void socket_bufferevent::start(direction& d, op kind, fd_watch::mode m) {
  d.state = kind;
  ++d.seq;
  if (!d.in_flight)
    launch(d, m);
  // else: the callback of the operation under way launches this one
}

void socket_bufferevent::launch(direction& d, fd_watch::mode m) {
  d.in_flight = true;
  d.launched = d.seq;
  intrusive_ptr_add_ref(this);  // the watch's callback releases it
  watch().start(&d == &read_ ? fd_watch::read : fd_watch::write, m);
}

void socket_bufferevent::stop(direction& d) noexcept {
  if (d.in_flight)
    watch().cancel(&d == &read_ ? fd_watch::read : fd_watch::write);
  d.state = op::none;
  ++d.seq;
}

void socket_bufferevent::on_watch(void* p, fd_watch::dir dir, fd_watch::result r) {
  auto* from = static_cast<slot*>(p);
  ref self(from->bev, false);  // the reference launch() took
  if (from->retired.load(std::memory_order_acquire))
    slot::came_back(from);
  else
    self->on_ready(from, dir == fd_watch::read, r);
}

void socket_bufferevent::on_ready(slot* from, bool reading, fd_watch::result r) {
  recursive_scoped_lock g(mutex_);
  if (from != slot_.get()) {
    slot::came_back(from);  // retired while this one waited for the lock
    return;
  }
  direction& d = reading ? read_ : write_;
  d.in_flight = false;
  if (r == fd_watch::result::destroyed)
    return;  // the io_context is going away
  if (d.launched != d.seq || r == fd_watch::result::aborted) {
    // Stopped or superseded while under way: start what is wanted now
    // (what was known about the socket then may be stale).
    if (d.state != op::none && live())
      launch(d, d.state == op::kick ? fd_watch::mode::probe : fd_watch::mode::wait);
    return;
  }
  d.state = op::none;
  reading ? do_read() : do_write();
  update_read_suspension();
  sync();
}

void socket_bufferevent::update_read_suspension() {
  const bool full = wm_read.high && input_.length() >= wm_read.high;
  // While full, the input calls input_drained once it drops below the mark,
  // whoever drains it (libevent's watermark callback on the input).
  input_.drain_below = full ? wm_read.high : 0;
  if (full == read_suspended_)
    return;
  read_suspended_ = full;
  if (full && read_.state != op::none) {
    stop(read_);
  } else if (!full) {
    read_added_ = read_added_ || (enabled & EV_READ);  // libevent re-adds it
    schedule_read();
  }
}

// A rate limit's bucket is spent (or its group's): as the watermark's
// suspension, the read or write stops and no longer counts as pending.
void socket_bufferevent::bw_suspend(short what, bw_reason why) {
  if (what & EV_READ) {
    bw_read_ |= why;
    if (read_.state != op::none)
      stop(read_);
  }
  if ((what & EV_WRITE) && !connect_wait_) {
    bw_write_ |= why;
    if (write_.state != op::none)
      stop(write_);
  }
  sync();
}

void socket_bufferevent::bw_unsuspend(short what, bw_reason why) {
  if ((what & EV_READ) && (bw_read_ & why)) {
    bw_read_ &= static_cast<unsigned char>(~why);
    schedule_read();
  }
  if ((what & EV_WRITE) && (bw_write_ & why)) {
    bw_write_ &= static_cast<unsigned char>(~why);
    schedule_write();
  }
  sync();
}

void socket_bufferevent::input_drained(void* p) noexcept {
  auto* self = static_cast<socket_bufferevent*>(p);
  try {
    recursive_scoped_lock g(self->mutex_);
    self->update_read_suspension();
    self->sync();
  } catch (...) {
    // No memory to start the read: it starts with the next enable.
  }
}

void socket_bufferevent::do_read() {
  if (!want_read())
    return;
  size_t max = read_max;
  if (wm_read.high)
    max = std::min(max, wm_read.high - std::min(wm_read.high, input_.length()));
  if (limits_)
    max = std::min(max, static_cast<size_t>(limits_->max_to(false, read_max)));
  if (max == 0)
    return;  // at the high watermark or out of tokens: suspended
  ssize_t r = input_.read_from(fd_, max, is_socket_);
  if (not_a_socket(r))
    r = input_.read_from(fd_, max, is_socket_);
  if (r > 0) {
    if (limits_)
      limits_->spent(false, r);
    ev_base->note_callback();
    restart_timer(read_);
    if (input_.length() >= wm_read.low)
      run_readcb();
    update_read_suspension();
    // A short read emptied the socket: wait (Asio's EPOLL_CTL_MOD reports
    // anything, an end of file included, that came since). A full one may
    // have left more: read again on the next round.
    if (want_read() && read_.state == op::none)
      start(read_, input_.last_read_was_short() ? op::wait : op::kick);
    return;
  }
  const int err = r == 0 ? 0 : errno;
  if (r < 0 && (err == EAGAIN || err == EWOULDBLOCK || err == EINTR)) {
    start(read_, err == EINTR ? op::kick : op::wait);
    return;
  }
  ev_base->note_callback();
  // libevent runs a ready write before the read that finds the end, so
  // what was written before the peer's EOF still goes out: do the same.
  if (r == 0 && want_write() && write_.state == op::kick)
    do_write();
  enabled &= ~EV_READ;
  sync();
  run_eventcb(BEV_EVENT_READING | (r == 0 ? BEV_EVENT_EOF : BEV_EVENT_ERROR), err);
}

// The connect's outcome, once the socket is writable. False: stop here.
bool socket_bufferevent::finish_connect() {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
    err = errno;
  if (err == 0 && connect_wait_) {
    // No error yet is no proof of a connection (a wakeup may be spurious).
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    if (::getpeername(fd_, reinterpret_cast<struct sockaddr*>(&peer), &plen) < 0 &&
        errno == ENOTCONN)
      err = EINPROGRESS;
  }
  if (err == EINPROGRESS || err == EINTR) {
    start(write_, op::wait);
    return false;
  }
  connecting_ = connect_wait_ = false;
  ev_base->note_callback();
  if (err) {
    // As libevent: both events deleted, what is enabled stays enabled.
    read_added_ = write_added_ = false;
    stop(read_);
    stop(write_);
    sync();
    run_eventcb(BEV_EVENT_ERROR, err);
    return false;
  }
  sync();
  run_eventcb(BEV_EVENT_CONNECTED, 0);
  schedule_read();
  return live() && (enabled & EV_WRITE);
}

void socket_bufferevent::do_write() {
  const bool connected = connecting_;  // this wakeup tells the connect's outcome
  if (connecting_ && !finish_connect())
    return;
  if (!want_write())
    return;
  const size_t before = output_.length();
  if (before == 0) {
    // As libevent's write event finding nothing to write: it deletes
    // itself, and tells the program (unless it just told CONNECTED).
    write_added_ = false;
    if (!connected) {
      ev_base->note_callback();
      run_writecb();
    }
    return;
  }
  size_t max = before;
  if (limits_ && (max = std::min(max, static_cast<size_t>(limits_->max_to(true, before)))) == 0)
    return;  // out of tokens: suspended
  ssize_t r = output_.write_to(fd_, max, is_socket_);
  if (not_a_socket(r))
    r = output_.write_to(fd_, max, is_socket_);
  if (r < 0) {
    const int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) {
      start(write_, err == EINTR ? op::kick : op::wait);
      return;
    }
    ev_base->note_callback();
    enabled &= ~EV_WRITE;
    sync();
    run_eventcb(BEV_EVENT_WRITING | BEV_EVENT_ERROR, err);
    return;
  }
  if (limits_)
    limits_->spent(true, r);
  ev_base->note_callback();
  restart_timer(write_);
  if (output_.length()) {
    // Short: the socket is full, wait for room. Whole but more left: go on.
    if (want_write() && write_.state == op::none)
      start(write_, output_.last_write_was_short() ? op::wait : op::kick);
  } else {
    write_added_ = false;  // libevent deletes the drained write event
  }
  if (output_.length() <= wm_write.low)
    run_writecb();
}

// ---- callbacks, immediate or deferred ------------------------------------------------

void socket_bufferevent::run_readcb(bool defer_anyway) {
  if ((options_ & BEV_OPT_DEFER_CALLBACKS) || (defer_anyway && readcb)) {
    defer(deferred_read);
  } else if (readcb) {
    readcb(this, cbarg);
    recheck_high_watermark();
  }
}

// As libevent 2.1.12: while the input stays at its high watermark after the
// read callback, the callback is called again (deferred) to drain it.
void socket_bufferevent::recheck_high_watermark() {
  if (wm_read.high && (enabled & EV_READ) && readcb && input_.length() >= wm_read.high &&
      input_.length() >= wm_read.low)
    defer(deferred_read);
}

void socket_bufferevent::run_writecb(bool defer_anyway) {
  if ((options_ & BEV_OPT_DEFER_CALLBACKS) || (defer_anyway && writecb))
    defer(deferred_write);
  else if (writecb)
    writecb(this, cbarg);
}

void socket_bufferevent::run_eventcb(short what, int err, bool defer_anyway) {
  if ((options_ & BEV_OPT_DEFER_CALLBACKS) || (defer_anyway && errorcb)) {
    deferred_what_ |= what;
    deferred_err_ = err;
    defer(deferred_event);
  } else if (errorcb) {
    errno = err;  // what EVUTIL_SOCKET_ERROR() tells inside the callback
    errorcb(this, what, cbarg);
  }
}

void socket_bufferevent::defer(unsigned kind) {
  deferred_ |= kind;
  if (!deferred_posted_)
    post_deferred();
}

void socket_bufferevent::post_deferred() {
  if (!ev_base)
    return;
  deferred_posted_ = true;
  ev_base->add_active(1);
  asio::post(ev_base->context(), [self = ref(this), gen = base_gen_.load(std::memory_order_relaxed)] {
    if (!self->stale(gen))
      self->run_deferred(gen);
  });
}

// As libevent: CONNECTED first, then read, write, and the other events.
void socket_bufferevent::run_deferred(unsigned gen) {
  recursive_scoped_lock g(mutex_);
  if (stale(gen))
    return;  // it left the base since: reposted on the new one, if any
  deferred_posted_ = false;
  if (ev_base) {
    ev_base->add_active(-1);
    ev_base->note_callback();
  }
  const unsigned kinds = deferred_;
  short what = deferred_what_;
  const int err = deferred_err_;
  deferred_ = 0;
  deferred_what_ = 0;
  const bool unlock = options_ & BEV_OPT_UNLOCK_CALLBACKS;
  auto call = [&](auto fn) {
    if (unlock)
      g.unlock();
    fn();
    if (unlock)
      g.lock();
  };
  if ((kinds & deferred_event) && (what & BEV_EVENT_CONNECTED) && errorcb) {
    auto cb = errorcb;
    void* arg = cbarg;
    call([&] { cb(this, BEV_EVENT_CONNECTED, arg); });
    what &= ~BEV_EVENT_CONNECTED;
  }
  if ((kinds & deferred_read) && readcb) {
    auto cb = readcb;
    void* arg = cbarg;
    call([&] { cb(this, arg); });
    recheck_high_watermark();
  }
  if ((kinds & deferred_write) && writecb) {
    auto cb = writecb;
    void* arg = cbarg;
    call([&] { cb(this, arg); });
  }
  if ((kinds & deferred_event) && what && errorcb) {
    auto cb = errorcb;
    void* arg = cbarg;
    call([&] {
      errno = err;
      cb(this, what, arg);
    });
  }
  update_read_suspension();
  sync();
}

void socket_bufferevent::output_grew(void* p) {
  auto* self = static_cast<socket_bufferevent*>(p);
  recursive_scoped_lock g(self->mutex_);
  self->write_added_ = self->write_added_ || (self->enabled & EV_WRITE);
  self->schedule_write();
  self->sync();
}

// ---- configuration -----------------------------------------------------------------

int socket_bufferevent::enable(short what) {
  recursive_scoped_lock g(mutex_);
  enabled |= what;  // as libevent, other bits too (they do nothing)
  read_added_ = read_added_ || (what & EV_READ);
  write_added_ = write_added_ || (what & EV_WRITE);
  update_read_suspension();
  if (what & EV_READ)
    schedule_read();
  if (what & EV_WRITE)
    schedule_write();
  sync();
  return 0;
}

int socket_bufferevent::disable(short what) {
  recursive_scoped_lock g(mutex_);
  enabled &= static_cast<short>(~what);
  if ((what & EV_READ) && read_.state != op::none)
    stop(read_);
  if ((what & EV_WRITE) && write_.state != op::none && !connect_wait_)
    stop(write_);
  sync();
  return 0;
}

void socket_bufferevent::setwatermark(short events, size_t low, size_t high) {
  recursive_scoped_lock g(mutex_);
  if (events & EV_WRITE) {
    wm_write.low = low;
    wm_write.high = high;
  }
  if (events & EV_READ) {
    wm_read.low = low;
    wm_read.high = high;
    update_read_suspension();
    sync();
  }
}

int socket_bufferevent::getwatermark(short events, size_t* low, size_t* high) {
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

int socket_bufferevent::set_timeouts(const struct timeval* rd, const struct timeval* wr) {
  recursive_scoped_lock g(mutex_);
  // Kept as given (NULL: {0, 0}), as libevent; timeout_of() reads them.
  const struct timeval none = {0, 0};
  timeout_read = rd ? *rd : none;
  timeout_write = wr ? *wr : none;
  // A new timeout counts from now.
  disarm_timer(read_);
  disarm_timer(write_);
  sync();
  return 0;
}

int socket_bufferevent::setfd(int fd) {
  recursive_scoped_lock g(mutex_);
  if (!ev_base)
    return fail(-1, EINVAL);
  stop(read_);
  stop(write_);
  watch().release();  // the old fd is not closed, as in libevent
  fd_ = -1;
  input_.frozen_back = output_.frozen_front = false;  // as libevent's setfd
  connecting_ = connect_wait_ = false;
  read_added_ = write_added_ = fd >= 0;  // libevent re-enables what is enabled
  if (fd >= 0) {
    boost::system::error_code ec;
    if (!adopt(fd, ec)) {
      sync();
      return fail(-1, ec.value() ? ec.value() : EBADF);
    }
  }
  schedule_read();
  schedule_write();
  sync();
  return 0;
}

int socket_bufferevent::connect(const struct sockaddr* sa, int socklen) {
  recursive_scoped_lock g(mutex_);
  if (!ev_base)
    return fail(-1, EINVAL);
  int fd = fd_;
  bool own = false;
  if (fd < 0) {
    if (!sa)
      return fail(-1, EINVAL);
    fd = ::socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
      return -1;
    own = true;
  }
  int state = 1;  // 1 connected, 0 in progress, 2 refused
  if (sa) {
    if (socklen < static_cast<int>(sizeof(sa_family_t))) {
      if (own)
        ::close(fd);
      return fail(-1, EINVAL);
    }
    if (::connect(fd, sa, static_cast<socklen_t>(socklen)) < 0) {
      const int err = errno;
      if (err == EINPROGRESS || err == EINTR) {
        state = 0;
      } else if (err == ECONNREFUSED) {
        state = 2;
      } else {
        if (own)
          ::close(fd);
        return fail(-1, err);
      }
    }
  }
  if (fd != fd_ && setfd(fd) < 0) {
    const int err = errno;
    if (own)
      ::close(fd);
    return fail(-1, err);
  }
  input_.frozen_back = output_.frozen_front = false;  // libevent's connect calls setfd
  read_added_ = write_added_ = true;
  if (state == 0) {
    connecting_ = connect_wait_ = true;
    stop(read_);
    schedule_write();
  } else if (state == 1) {
    // Connected at once (AF_UNIX): as libevent, the write callback runs
    // (deferred) and BEV_EVENT_CONNECTED comes with the first write.
    connecting_ = true;
    connect_wait_ = false;
    if (output_.length() <= wm_write.low)
      defer(deferred_write);
  } else {
    deferred_what_ |= BEV_EVENT_ERROR;
    deferred_err_ = ECONNREFUSED;
    defer(deferred_event);
    enabled &= ~(EV_READ | EV_WRITE);
    stop(read_);
    stop(write_);
  }
  sync();
  return 0;
}

void socket_bufferevent::close_socket() noexcept {
  const bool close = (options_ & BEV_OPT_CLOSE_ON_FREE) && fd_ >= 0;
  watch().release(close);
  if (close)
    ::close(fd_);
  fd_ = -1;
}

void socket_bufferevent::free() {
  {
    recursive_scoped_lock g(mutex_);
    readcb = nullptr;
    writecb = nullptr;
    errorcb = nullptr;
    freed_ = true;
    stop(read_);
    stop(write_);
    if (limits_)
      limits_->leave_group(false);
    sync();
    close_socket();  // pending output is dropped, as in libevent
    // Off its base now: what is still queued there may run on the base's
    // thread, and only drops its reference (maybe the last one).
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
void socket_bufferevent::trigger(short iotype, int options) {
  ref keep(this);
  recursive_scoped_lock g(mutex_);
  const bool ignore = options & BEV_TRIG_IGNORE_WATERMARKS;
  const bool later = options & BEV_TRIG_DEFER_CALLBACKS;
  if ((iotype & EV_READ) && (ignore || input_.length() >= wm_read.low))
    run_readcb(later);
  if ((iotype & EV_WRITE) && (ignore || output_.length() <= wm_write.low))
    run_writecb(later);
}

void socket_bufferevent::trigger_event(short what, int options) {
  ref keep(this);
  recursive_scoped_lock g(mutex_);
  run_eventcb(what, errno, options & BEV_TRIG_DEFER_CALLBACKS);
}

// The last reference going without bufferevent_free is a free, as in
// libevent, where the count reaching zero tears the bufferevent down.
// 1 when that was the last reference.
int socket_bufferevent::decref() {
  if (refs_.load(std::memory_order_acquire) == 1 && !freed_) {
    free();
    return 1;
  }
  const bool last = refs_.load(std::memory_order_acquire) == 1;
  intrusive_ptr_release(this);
  return last ? 1 : 0;
}

void socket_bufferevent::detach_from_base() noexcept {
  recursive_scoped_lock g(mutex_);
  stop(read_);
  stop(write_);
  read_.counted = write_.counted = false;
  // As libevent's event_base_free, which deletes the read and write events.
  read_added_ = write_added_ = false;
  leave_base();
  ev_base = nullptr;
}

// Gives up what belongs to the base's io_context: the timers, the watch's
// registration, a posted run of deferred callbacks; what is still queued
// there becomes stale. Nothing is pending.
void socket_bufferevent::leave_base() noexcept {
  base_gen_.fetch_add(1, std::memory_order_release);
  if (limits_)
    limits_->leave_base();
  for (direction* d : {&read_, &write_}) {
    d->timer_armed = false;
    ++d->timer_seq;
    d->timer.reset();
  }
  watch().release();  // the fd stays ours until bufferevent_free
  if (deferred_posted_) {
    deferred_posted_ = false;
    if (ev_base)
      ev_base->add_active(-1);
  }
}

// As libevent's: refused while its read or write event would be added
// (libevent then has set ev_base to the new base all the same; evasio
// leaves the bufferevent as it was). Deferred callbacks not yet run move
// along, and run on the new base.
int socket_bufferevent::base_set(event_base* base) {
  if (!locks_ && base->multi_threaded()) {
    // Not locking so far, so no other thread may be using it now.
    mutex_ = optional_recursive_mutex(true);
    locks_ = true;
  }
  recursive_scoped_lock g(mutex_);
  if (pending_read() || pending_write())
    return fail(-1, EBUSY);
  if (base == ev_base)
    return 0;
  if (options_ & BEV_OPT_THREADSAFE)
    base->share_with_threads();
  auto fresh = std::make_unique<slot>(this);
  if (fd_ >= 0) {
    if (const int err = fresh->watch.open(base->context(), fd_, base->mux()))
      return fail(-1, err);
  }
  stop(read_);
  stop(write_);
  leave_base();
  if (ev_base)
    ev_base->detach(this);
  ev_base = base;
  base->attach(this);
  retire_slot(std::move(fresh));
  if (limits_)
    limits_->enter_base();
  if (deferred_)
    post_deferred();
  return 0;
}

// The old watch (released) lives on until its operations still queued in
// the old io_context have come back.
void socket_bufferevent::retire_slot(std::unique_ptr<slot> fresh) noexcept {
  slot* old = slot_.release();
  const int queued = read_.in_flight + write_.in_flight;
  read_.in_flight = write_.in_flight = false;
  slot_ = std::move(fresh);
  if (queued == 0) {
    delete old;
    return;
  }
  old->queued.store(queued, std::memory_order_relaxed);
  old->retired.store(true, std::memory_order_release);
}

// ---- C boundary -----------------------------------------------------------

socket_bufferevent* impl(struct bufferevent* bev) noexcept { return socket_bufferevent::of(bev); }

} // namespace

bev_rate_limit* evasio::detail::rate_limit_of(::bufferevent* bev, bool make) {
  return impl(bev)->limits(make);
}

// A read takes up to read_max; a write, all of the output.
ev_ssize_t evasio::detail::single_max_of(::bufferevent*, bool write) noexcept {
  return write ? EV_SSIZE_MAX : static_cast<ev_ssize_t>(read_max);
}

extern "C" {

struct bufferevent* bufferevent_socket_new(struct event_base* base, evutil_socket_t fd,
                                           int options) {
  if (!base)
    return fail<bufferevent*>(nullptr, EINVAL);
  if ((options & BEV_OPT_UNLOCK_CALLBACKS) && !(options & BEV_OPT_DEFER_CALLBACKS))
    return fail<bufferevent*>(nullptr, EINVAL);  // as libevent: it needs deferral
  return guarded<bufferevent*>(nullptr, [&]() -> bufferevent* {
    auto* bev = new socket_bufferevent(base, options);
    if (fd >= 0) {
      boost::system::error_code ec;
      if (!bev->adopt(fd, ec)) {
        delete bev;
        return fail<bufferevent*>(nullptr, ec.value() ? ec.value() : EBADF);
      }
    }
    base->attach(bev);
    return bev;
  });
}

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

evutil_socket_t bufferevent_getfd(struct bufferevent* bev) {
  if (!bev)
    return fail(-1, EINVAL);
  socket_bufferevent* b = impl(bev);
  recursive_scoped_lock g(b->mutex_);
  return b->fd_;
}

int bufferevent_setfd(struct bufferevent* bev, evutil_socket_t fd) {
  if (!bev)
    return fail(-1, EINVAL);
  return guarded(-1, [&] { return impl(bev)->setfd(fd); });
}

struct event_base* bufferevent_get_base(struct bufferevent* bev) {
  return bev ? impl(bev)->get_base() : nullptr;
}

int bufferevent_base_set(struct event_base* base, struct bufferevent* bev) {
  if (!base || !bev)
    return fail(-1, EINVAL);
  if (bev->be_ops != &socket_ops)
    return fail(-1, EINVAL);  // as libevent: socket bufferevents only
  return guarded(-1, [&] { return impl(bev)->base_set(base); });
}

int bufferevent_socket_connect(struct bufferevent* bev, const struct sockaddr* sa, int socklen) {
  if (!bev)
    return fail(-1, EINVAL);
  return guarded(-1, [&] { return impl(bev)->connect(sa, socklen); });
}

int bufferevent_socket_get_dns_error(struct bufferevent*) { return 0; }

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

int bufferevent_flush(struct bufferevent* bev, short, enum bufferevent_flush_mode) {
  return bev ? 0 : fail(-1, EINVAL);
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

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
#include "detail/timeval.hpp"

#include <event2/bufferevent.h>

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

struct bufferevent : attached {
  bufferevent(event_base* base, int options)
      : base_(base), mutex_((options & BEV_OPT_THREADSAFE) || base->multi_threaded()),
        options_(options), watch_(&bufferevent::on_watch, this) {
    if (options & BEV_OPT_THREADSAFE)
      base->share_with_threads();
    output_.on_add = &bufferevent::output_grew;
    output_.on_add_arg = this;
    input_.on_drain = &bufferevent::input_drained;
    input_.on_drain_arg = this;
    input_.lock = output_.lock = &mutex_;
    // As libevent's socket bufferevents: the user may not add to the input
    // nor take from the output (the bufferevent itself still does).
    // bufferevent_setfd (and so bufferevent_socket_connect) lifts this.
    input_.frozen_back = true;
    output_.frozen_front = true;
  }
  ~bufferevent() override {
    if (base_)
      base_->detach(this);
  }

  friend void intrusive_ptr_add_ref(bufferevent* b) noexcept {
    b->refs_.fetch_add(1, std::memory_order_relaxed);
  }
  friend void intrusive_ptr_release(bufferevent* b) noexcept {
    if (b->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1)
      delete b;
  }
  using ref = boost::intrusive_ptr<bufferevent>;

  bool adopt(int fd, boost::system::error_code& ec);
  int setfd(int fd);
  int connect(const struct sockaddr* sa, int socklen);
  void setcb(bufferevent_data_cb r, bufferevent_data_cb w, bufferevent_event_cb e, void* arg) {
    recursive_scoped_lock g(mutex_);
    readcb_ = r;
    writecb_ = w;
    eventcb_ = e;
    cbarg_ = arg;
  }
  void getcb(bufferevent_data_cb* r, bufferevent_data_cb* w, bufferevent_event_cb* e, void** arg) {
    recursive_scoped_lock g(mutex_);
    if (r) *r = readcb_;
    if (w) *w = writecb_;
    if (e) *e = eventcb_;
    if (arg) *arg = cbarg_;
  }
  int enable(short what);
  int disable(short what);
  short enabled() {
    recursive_scoped_lock g(mutex_);
    return enabled_;
  }
  void setwatermark(short events, size_t low, size_t high);
  int getwatermark(short events, size_t* low, size_t* high);
  int set_timeouts(const struct timeval* rd, const struct timeval* wr);
  void free();
  void detach_from_base() noexcept override;

  event_base* base_;
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
    microseconds timeout{0};
    std::unique_ptr<asio::steady_timer> timer;  // made when a timeout is set
  };
  struct watermark {
    size_t low = 0, high = 0;
  };

  bool live() const noexcept { return !freed_ && watch_.is_open() && base_; }
  // libevent's read and write events, added (they count, and their
  // timeouts run): with no fd yet they are timers only.
  bool pending_read() const noexcept {
    return (enabled_ & EV_READ) && read_added_ && !freed_ && base_ && !read_suspended_ &&
           !connecting_;
  }
  bool pending_write() const noexcept {
    if (freed_ || !base_)
      return false;
    // While a connect is in progress, writability tells its outcome.
    if (connecting_ && connect_wait_)
      return watch_.is_open();
    // With an fd, libevent deletes the write event once the output is empty.
    return (enabled_ & EV_WRITE) && write_added_ && (!watch_.is_open() || output_.length());
  }
  // Pending, with an fd to wait on.
  bool want_read() const noexcept { return pending_read() && watch_.is_open(); }
  bool want_write() const noexcept { return pending_write() && watch_.is_open(); }
  void sync() noexcept;
  void sync_timer(direction& d, bool want) noexcept;
  void restart_timer(direction& d) noexcept;
  // Reading starts with an attempt: the socket's state is not known here,
  // and an attempt that finds nothing leaves no read buffer behind.
  void schedule_read() { if (want_read() && read_.state == op::none) start(read_, op::kick); }
  // An attempt also while a connect is under way: finish_connect looks, and
  // waits for writability if it is not done (this may be another thread,
  // where a wait on what it saw here could miss the edge).
  void schedule_write() {
    if (want_write() && write_.state == op::none)
      start(write_, op::kick);
  }
  void start(direction& d, op kind);
  void launch(direction& d, fd_watch::mode m);
  void stop(direction& d) noexcept;
  static void on_watch(void* self, fd_watch::dir dir, fd_watch::result r);
  void on_ready(bool reading, fd_watch::result r);
  void on_timeout(bool reading, unsigned seq);
  void do_read();
  void do_write();
  bool finish_connect();
  bool not_a_socket(ssize_t r);
  void update_read_suspension();
  void run_readcb();
  void recheck_high_watermark();
  void run_writecb();
  void run_eventcb(short what, int err);
  void defer(unsigned kind);
  void run_deferred();
  void close_socket() noexcept;
  static void output_grew(void* self);
  static void input_drained(void* self) noexcept;

  const int options_;
  std::atomic<int> refs_{1};
  fd_watch watch_;
  bool is_socket_ = true;
  bool freed_ = false;
  bool connecting_ = false;
  bool connect_wait_ = false;  // waiting for writability to learn the connect result
  bool read_suspended_ = false;  // input at its high watermark
  // libevent's event added: by enable, setfd, new output (write); deleted
  // by a refused connect and setfd(-1). Matters with no fd, or after that.
  bool read_added_ = false;
  bool write_added_ = false;
  short enabled_ = EV_WRITE;  // as libevent: writing is on from the start
  direction read_, write_;
  watermark wm_read_, wm_write_;
  unsigned deferred_ = 0;
  short deferred_what_ = 0;
  int deferred_err_ = 0;
  bool deferred_posted_ = false;
  bufferevent_data_cb readcb_ = nullptr;
  bufferevent_data_cb writecb_ = nullptr;
  bufferevent_event_cb eventcb_ = nullptr;
  void* cbarg_ = nullptr;
};

bool bufferevent::adopt(int fd, boost::system::error_code& ec) {
  // Taken for a socket (no system call to ask): a pipe or tty is found out
  // by its first recvmsg/sendmsg failing with ENOTSOCK.
  is_socket_ = true;
  if (const int err = watch_.open(base_->context(), fd, base_->mux())) {
    ec.assign(err, boost::system::system_category());
    return false;
  }
  fd_ = fd;
  return true;
}

// Not a socket after all: plain read/write from now on, which need the fd
// itself non-blocking (sockets get MSG_DONTWAIT per call instead).
bool bufferevent::not_a_socket(ssize_t r) {
  if (r >= 0 || errno != ENOTSOCK || !is_socket_)
    return false;
  is_socket_ = false;
  const int fl = ::fcntl(fd_, F_GETFL);
  if (fl >= 0 && !(fl & O_NONBLOCK))
    ::fcntl(fd_, F_SETFL, fl | O_NONBLOCK);
  return true;
}

void bufferevent::sync() noexcept {
  if (!base_)
    return;
  auto count = [this](direction& d, bool want) {
    if (want != d.counted) {
      d.counted = want;
      base_->add_pending(want ? 1 : -1);
    }
    sync_timer(d, want);
  };
  count(read_, pending_read());
  count(write_, pending_write());
}

// A timeout runs while its direction is pending, counted from the last
// progress, as libevent's event timeouts on the read and write events.
void bufferevent::sync_timer(direction& d, bool want) noexcept {
  if (want && d.timeout.count() > 0 && !d.timer_armed)
    restart_timer(d);
  else if ((!want || d.timeout.count() == 0) && d.timer_armed) {
    d.timer_armed = false;
    ++d.timer_seq;
    d.timer->cancel();
  }
}

void bufferevent::restart_timer(direction& d) noexcept {
  if (d.timeout.count() == 0 || !base_)
    return;
  if (!d.timer)
    d.timer = std::make_unique<asio::steady_timer>(base_->context());
  d.timer_armed = true;
  const unsigned seq = ++d.timer_seq;
  const bool reading = &d == &read_;
  d.timer->expires_after(d.timeout);
  d.timer->async_wait([self = ref(this), reading, seq](boost::system::error_code ec) {
    if (ec != asio::error::operation_aborted)
      self->on_timeout(reading, seq);
  });
}

void bufferevent::on_timeout(bool reading, unsigned seq) {
  recursive_scoped_lock g(mutex_);
  direction& d = reading ? read_ : write_;
  if (seq != d.timer_seq || !d.timer_armed)
    return;
  d.timer_armed = false;
  base_->note_callback();
  const short side = reading ? EV_READ : EV_WRITE;
  enabled_ &= ~side;
  if (d.state != op::none)
    stop(d);
  sync();
  run_eventcb((reading ? BEV_EVENT_READING : BEV_EVENT_WRITING) | BEV_EVENT_TIMEOUT, ETIMEDOUT);
}

void bufferevent::start(direction& d, op kind) {
  d.state = kind;
  ++d.seq;
  if (!d.in_flight)  // op::wait always follows a short read or write in this handler
    launch(d, kind == op::kick ? fd_watch::mode::probe : fd_watch::mode::after_short);
  // else: the callback of the operation under way launches this one
}

void bufferevent::launch(direction& d, fd_watch::mode m) {
  d.in_flight = true;
  d.launched = d.seq;
  intrusive_ptr_add_ref(this);  // the watch's callback releases it
  watch_.start(&d == &read_ ? fd_watch::read : fd_watch::write, m);
}

void bufferevent::stop(direction& d) noexcept {
  if (d.in_flight)
    watch_.cancel(&d == &read_ ? fd_watch::read : fd_watch::write);
  d.state = op::none;
  ++d.seq;
}

void bufferevent::on_watch(void* p, fd_watch::dir dir, fd_watch::result r) {
  ref self(static_cast<bufferevent*>(p), false);  // the reference launch() took
  self->on_ready(dir == fd_watch::read, r);
}

void bufferevent::on_ready(bool reading, fd_watch::result r) {
  recursive_scoped_lock g(mutex_);
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

void bufferevent::update_read_suspension() {
  const bool full = wm_read_.high && input_.length() >= wm_read_.high;
  // While full, the input calls input_drained once it drops below the mark,
  // whoever drains it (libevent's watermark callback on the input).
  input_.drain_below = full ? wm_read_.high : 0;
  if (full == read_suspended_)
    return;
  read_suspended_ = full;
  if (full && read_.state != op::none) {
    stop(read_);
  } else if (!full) {
    read_added_ = read_added_ || (enabled_ & EV_READ);  // libevent re-adds it
    schedule_read();
  }
}

void bufferevent::input_drained(void* p) noexcept {
  auto* self = static_cast<bufferevent*>(p);
  try {
    recursive_scoped_lock g(self->mutex_);
    self->update_read_suspension();
    self->sync();
  } catch (...) {
    // No memory to start the read: it starts with the next enable.
  }
}

void bufferevent::do_read() {
  if (!want_read())
    return;
  size_t max = read_max;
  if (wm_read_.high)
    max = std::min(max, wm_read_.high - std::min(wm_read_.high, input_.length()));
  if (max == 0)
    return;  // at the high watermark: update_read_suspension pauses us
  ssize_t r = input_.read_from(fd_, max, is_socket_);
  if (not_a_socket(r))
    r = input_.read_from(fd_, max, is_socket_);
  if (r > 0) {
    base_->note_callback();
    restart_timer(read_);
    if (input_.length() >= wm_read_.low)
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
  base_->note_callback();
  // libevent runs a ready write before the read that finds the end, so
  // what was written before the peer's EOF still goes out: do the same.
  if (r == 0 && want_write() && write_.state == op::kick)
    do_write();
  enabled_ &= ~EV_READ;
  sync();
  run_eventcb(BEV_EVENT_READING | (r == 0 ? BEV_EVENT_EOF : BEV_EVENT_ERROR), err);
}

// The connect's outcome, once the socket is writable. False: stop here.
bool bufferevent::finish_connect() {
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
  base_->note_callback();
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
  return live() && (enabled_ & EV_WRITE);
}

void bufferevent::do_write() {
  if (connecting_ && !finish_connect())
    return;
  if (!want_write())
    return;
  const size_t before = output_.length();
  ssize_t r = output_.write_to(fd_, before, is_socket_);
  if (not_a_socket(r))
    r = output_.write_to(fd_, before, is_socket_);
  if (r < 0) {
    const int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) {
      start(write_, err == EINTR ? op::kick : op::wait);
      return;
    }
    base_->note_callback();
    enabled_ &= ~EV_WRITE;
    sync();
    run_eventcb(BEV_EVENT_WRITING | BEV_EVENT_ERROR, err);
    return;
  }
  base_->note_callback();
  restart_timer(write_);
  if (output_.length()) {
    // Short: the socket is full, wait for room. Whole but more left: go on.
    start(write_, output_.last_write_was_short() ? op::wait : op::kick);
  }
  if (output_.length() <= wm_write_.low)
    run_writecb();
}

// ---- callbacks, immediate or deferred ------------------------------------------------

void bufferevent::run_readcb() {
  if (options_ & BEV_OPT_DEFER_CALLBACKS) {
    defer(deferred_read);
  } else if (readcb_) {
    readcb_(this, cbarg_);
    recheck_high_watermark();
  }
}

// As libevent 2.1.12: while the input stays at its high watermark after the
// read callback, the callback is called again (deferred) to drain it.
void bufferevent::recheck_high_watermark() {
  if (wm_read_.high && (enabled_ & EV_READ) && readcb_ && input_.length() >= wm_read_.high &&
      input_.length() >= wm_read_.low)
    defer(deferred_read);
}

void bufferevent::run_writecb() {
  if (options_ & BEV_OPT_DEFER_CALLBACKS)
    defer(deferred_write);
  else if (writecb_)
    writecb_(this, cbarg_);
}

void bufferevent::run_eventcb(short what, int err) {
  if (options_ & BEV_OPT_DEFER_CALLBACKS) {
    deferred_what_ |= what;
    deferred_err_ = err;
    defer(deferred_event);
  } else if (eventcb_) {
    errno = err;  // what EVUTIL_SOCKET_ERROR() tells inside the callback
    eventcb_(this, what, cbarg_);
  }
}

void bufferevent::defer(unsigned kind) {
  deferred_ |= kind;
  if (deferred_posted_ || !base_)
    return;
  deferred_posted_ = true;
  base_->add_active(1);
  asio::post(base_->context(), [self = ref(this)] { self->run_deferred(); });
}

// As libevent: CONNECTED first, then read, write, and the other events.
void bufferevent::run_deferred() {
  recursive_scoped_lock g(mutex_);
  deferred_posted_ = false;
  if (base_) {
    base_->add_active(-1);
    base_->note_callback();
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
  if ((kinds & deferred_event) && (what & BEV_EVENT_CONNECTED) && eventcb_) {
    auto cb = eventcb_;
    void* arg = cbarg_;
    call([&] { cb(this, BEV_EVENT_CONNECTED, arg); });
    what &= ~BEV_EVENT_CONNECTED;
  }
  if ((kinds & deferred_read) && readcb_) {
    auto cb = readcb_;
    void* arg = cbarg_;
    call([&] { cb(this, arg); });
    recheck_high_watermark();
  }
  if ((kinds & deferred_write) && writecb_) {
    auto cb = writecb_;
    void* arg = cbarg_;
    call([&] { cb(this, arg); });
  }
  if ((kinds & deferred_event) && what && eventcb_) {
    auto cb = eventcb_;
    void* arg = cbarg_;
    call([&] {
      errno = err;
      cb(this, what, arg);
    });
  }
  update_read_suspension();
  sync();
}

void bufferevent::output_grew(void* p) {
  auto* self = static_cast<bufferevent*>(p);
  recursive_scoped_lock g(self->mutex_);
  self->write_added_ = self->write_added_ || (self->enabled_ & EV_WRITE);
  self->schedule_write();
  self->sync();
}

// ---- configuration -----------------------------------------------------------------

int bufferevent::enable(short what) {
  recursive_scoped_lock g(mutex_);
  enabled_ |= what & (EV_READ | EV_WRITE);
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

int bufferevent::disable(short what) {
  recursive_scoped_lock g(mutex_);
  enabled_ &= ~(what & (EV_READ | EV_WRITE));
  if ((what & EV_READ) && read_.state != op::none)
    stop(read_);
  if ((what & EV_WRITE) && write_.state != op::none && !connect_wait_)
    stop(write_);
  sync();
  return 0;
}

void bufferevent::setwatermark(short events, size_t low, size_t high) {
  recursive_scoped_lock g(mutex_);
  if (events & EV_WRITE) {
    wm_write_.low = low;
    wm_write_.high = high;
  }
  if (events & EV_READ) {
    wm_read_.low = low;
    wm_read_.high = high;
    update_read_suspension();
    sync();
  }
}

int bufferevent::getwatermark(short events, size_t* low, size_t* high) {
  recursive_scoped_lock g(mutex_);
  const watermark* w;
  if (events == EV_READ)
    w = &wm_read_;
  else if (events == EV_WRITE)
    w = &wm_write_;
  else
    return fail(-1, EINVAL);
  if (low) *low = w->low;
  if (high) *high = w->high;
  return 0;
}

int bufferevent::set_timeouts(const struct timeval* rd, const struct timeval* wr) {
  recursive_scoped_lock g(mutex_);
  // NULL and {0, 0} mean no timeout (libevent tests timerisset); any other
  // timeout that saturates to zero fires at once.
  auto to_us = [](const struct timeval* tv) {
    if (!tv || (tv->tv_sec == 0 && tv->tv_usec == 0))
      return microseconds(0);
    return std::max(to_timeout(*tv), microseconds(1));
  };
  read_.timeout = to_us(rd);
  write_.timeout = to_us(wr);
  // A new timeout counts from now.
  for (direction* d : {&read_, &write_}) {
    if (d->timer_armed) {
      d->timer_armed = false;
      ++d->timer_seq;
      d->timer->cancel();
    }
  }
  sync();
  return 0;
}

int bufferevent::setfd(int fd) {
  recursive_scoped_lock g(mutex_);
  if (!base_)
    return fail(-1, EINVAL);
  stop(read_);
  stop(write_);
  watch_.release();  // the old fd is not closed, as in libevent
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

int bufferevent::connect(const struct sockaddr* sa, int socklen) {
  recursive_scoped_lock g(mutex_);
  if (!base_)
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
    if (output_.length() <= wm_write_.low)
      defer(deferred_write);
  } else {
    deferred_what_ |= BEV_EVENT_ERROR;
    deferred_err_ = ECONNREFUSED;
    defer(deferred_event);
    enabled_ &= ~(EV_READ | EV_WRITE);
    stop(read_);
    stop(write_);
  }
  sync();
  return 0;
}

void bufferevent::close_socket() noexcept {
  const bool close = (options_ & BEV_OPT_CLOSE_ON_FREE) && fd_ >= 0;
  watch_.release(close);
  if (close)
    ::close(fd_);
  fd_ = -1;
}

void bufferevent::free() {
  {
    recursive_scoped_lock g(mutex_);
    readcb_ = nullptr;
    writecb_ = nullptr;
    eventcb_ = nullptr;
    freed_ = true;
    stop(read_);
    stop(write_);
    sync();
    close_socket();  // pending output is dropped, as in libevent
  }
  intrusive_ptr_release(this);
}

void bufferevent::detach_from_base() noexcept {
  recursive_scoped_lock g(mutex_);
  stop(read_);
  stop(write_);
  read_.counted = write_.counted = false;
  for (direction* d : {&read_, &write_}) {
    d->timer_armed = false;
    d->timer.reset();
  }
  watch_.release();  // the fd stays ours until bufferevent_free
  base_ = nullptr;
}

// ---- C boundary -----------------------------------------------------------

extern "C" {

struct bufferevent* bufferevent_socket_new(struct event_base* base, evutil_socket_t fd,
                                           int options) {
  if (!base)
    return fail<bufferevent*>(nullptr, EINVAL);
  if ((options & BEV_OPT_UNLOCK_CALLBACKS) && !(options & BEV_OPT_DEFER_CALLBACKS))
    return fail<bufferevent*>(nullptr, EINVAL);  // as libevent: it needs deferral
  return guarded<bufferevent*>(nullptr, [&]() -> bufferevent* {
    auto* bev = new bufferevent(base, options);
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
    guarded_void([&] { bev->free(); });
}

void bufferevent_setcb(struct bufferevent* bev, bufferevent_data_cb readcb,
                       bufferevent_data_cb writecb, bufferevent_event_cb eventcb, void* cbarg) {
  if (bev)
    bev->setcb(readcb, writecb, eventcb, cbarg);
}

void bufferevent_getcb(struct bufferevent* bev, bufferevent_data_cb* readcb_ptr,
                       bufferevent_data_cb* writecb_ptr, bufferevent_event_cb* eventcb_ptr,
                       void** cbarg_ptr) {
  if (bev)
    bev->getcb(readcb_ptr, writecb_ptr, eventcb_ptr, cbarg_ptr);
}

int bufferevent_enable(struct bufferevent* bev, short event) {
  if (!bev)
    return fail(-1, EINVAL);
  return guarded(-1, [&] { return bev->enable(event); });
}

int bufferevent_disable(struct bufferevent* bev, short event) {
  if (!bev)
    return fail(-1, EINVAL);
  return guarded(-1, [&] { return bev->disable(event); });
}

short bufferevent_get_enabled(struct bufferevent* bev) {
  return bev ? bev->enabled() : 0;
}

struct evbuffer* bufferevent_get_input(struct bufferevent* bev) {
  return bev ? &bev->input_ : nullptr;
}

struct evbuffer* bufferevent_get_output(struct bufferevent* bev) {
  return bev ? &bev->output_ : nullptr;
}

int bufferevent_write(struct bufferevent* bev, const void* data, size_t size) {
  if (!bev)
    return fail(-1, EINVAL);
  return evbuffer_add(&bev->output_, data, size);
}

int bufferevent_write_buffer(struct bufferevent* bev, struct evbuffer* buf) {
  if (!bev)
    return fail(-1, EINVAL);
  return evbuffer_add_buffer(&bev->output_, buf);
}

size_t bufferevent_read(struct bufferevent* bev, void* data, size_t size) {
  if (!bev)
    return 0;
  const int n = evbuffer_remove(&bev->input_, data, size);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

int bufferevent_read_buffer(struct bufferevent* bev, struct evbuffer* buf) {
  if (!bev)
    return fail(-1, EINVAL);
  return evbuffer_add_buffer(buf, &bev->input_);
}

evutil_socket_t bufferevent_getfd(struct bufferevent* bev) {
  if (!bev)
    return fail(-1, EINVAL);
  recursive_scoped_lock g(bev->mutex_);
  return bev->fd_;
}

int bufferevent_setfd(struct bufferevent* bev, evutil_socket_t fd) {
  if (!bev)
    return fail(-1, EINVAL);
  return guarded(-1, [&] { return bev->setfd(fd); });
}

struct event_base* bufferevent_get_base(struct bufferevent* bev) {
  return bev ? bev->base_ : nullptr;
}

int bufferevent_socket_connect(struct bufferevent* bev, const struct sockaddr* sa, int socklen) {
  if (!bev)
    return fail(-1, EINVAL);
  return guarded(-1, [&] { return bev->connect(sa, socklen); });
}

int bufferevent_socket_get_dns_error(struct bufferevent*) { return 0; }

void bufferevent_setwatermark(struct bufferevent* bev, short events, size_t lowmark,
                              size_t highmark) {
  if (bev)
    guarded_void([&] { bev->setwatermark(events, lowmark, highmark); });
}

int bufferevent_getwatermark(struct bufferevent* bev, short events, size_t* lowmark,
                             size_t* highmark) {
  if (!bev)
    return fail(-1, EINVAL);
  return bev->getwatermark(events, lowmark, highmark);
}

int bufferevent_set_timeouts(struct bufferevent* bev, const struct timeval* timeout_read,
                             const struct timeval* timeout_write) {
  if (!bev)
    return fail(-1, EINVAL);
  return guarded(-1, [&] { return bev->set_timeouts(timeout_read, timeout_write); });
}

int bufferevent_flush(struct bufferevent* bev, short, enum bufferevent_flush_mode) {
  return bev ? 0 : fail(-1, EINVAL);
}

void bufferevent_lock(struct bufferevent* bev) {
  if (bev)
    bev->mutex_.lock();
}

void bufferevent_unlock(struct bufferevent* bev) {
  if (bev)
    bev->mutex_.unlock();
}

} // extern "C"

// bufferevent_sock: libevent's socket bufferevent on Asio's reactor.
//
// Readiness comes from an fd_watch (the io_context's epoll registration);
// the bytes move with recvmsg/sendmsg(MSG_DONTWAIT) straight into and out
// of the evbuffers. A wait follows a short read or write (the socket is
// drained or full: on a one-thread context such a wait costs no system
// call); anything else starts with an attempt (a "kick").
#include "detail/bufferevent_core.hpp"
#include "detail/c_boundary.hpp"
#include "detail/current_base.hpp"
#include "detail/fd_watch.hpp"

#include <event2/dns.h>

#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>

using namespace evasio::detail;

const bufferevent_ops evasio::detail::socket_ops = {"socket"};

namespace {

// A socket bufferevent: the core's callbacks, watermarks and timeouts over
// an fd_watch.
class socket_bufferevent final : public bufferevent_core {
public:
  socket_bufferevent(event_base* base, int options)
      : bufferevent_core(base, options, socket_ops), slot_(std::make_unique<slot>(this)) {
    count_timeouts_ = false;  // a pending direction counts, with its timeout
    output_.on_add = &socket_bufferevent::output_grew;
    output_.on_add_arg = this;
    // As libevent's socket bufferevents: the user may not add to the input
    // nor take from the output (the bufferevent itself still does).
    // bufferevent_setfd (and so bufferevent_socket_connect) lifts this.
    input_.frozen_back = true;
    output_.frozen_front = true;
  }

  static socket_bufferevent* of(::bufferevent* bev) noexcept {
    return static_cast<socket_bufferevent*>(bev);
  }

  bool adopt(int fd, boost::system::error_code& ec);
  int connect(const struct sockaddr* sa, int socklen);
  int connect_hostname(struct evdns_base* dns, int family, const char* hostname, int port);
  int dns_error() {
    recursive_scoped_lock g(mutex_);
    return dns_error_;
  }
  int base_set(event_base* base);
  void detach_from_base() noexcept override;
  void bw_suspend(short what, bw_reason why) override;
  void bw_unsuspend(short what, bw_reason why) override;

private:
  // libevent's bufferevent_ops for sockets.
  int kind_enable(short what) override;
  int kind_disable(short what) override;
  void kind_unlink() noexcept override;
  void kind_adj_timeouts() noexcept override;
  evutil_socket_t kind_getfd() override { return fd_; }
  int kind_setfd(evutil_socket_t fd) override;
  void kind_read_suspension(bool suspended) override;
  void kind_sync() override { sync(); }
  void kind_timeout(bool reading) override;
  void kind_leave_base() noexcept override { watch().release(); }  // the fd stays until free

  enum class op { none, kick, wait };
  struct direction {
    op state = op::none;
    unsigned seq = 0;       // bumped by every start and stop
    unsigned launched = 0;  // seq of the watch operation under way
    bool in_flight = false; // the watch's operation for this side is under way
    bool counted = false;
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
  fd_watch& watch() noexcept { return slot_->watch; }
  const fd_watch& watch() const noexcept { return slot_->watch; }
  bool live() const noexcept { return !freed_ && watch().is_open() && ev_base; }
  // libevent's read and write events, added (they count, and their
  // timeouts run): with no fd yet they are timers only.
  bool pending_read() const noexcept {
    return (enabled & EV_READ) && read_added_ && !freed_ && ev_base && !read_suspended() &&
           !bw_read_ && !connecting_ && !looking_up_;
  }
  bool pending_write() const noexcept {
    if (freed_ || !ev_base || looking_up_)
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
  void sync() noexcept;
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
  void do_read();
  void do_write();
  bool finish_connect();
  static void looked_up(int result, struct evutil_addrinfo* ai, void* arg);
  void cancel_lookup() noexcept;
  bool not_a_socket(ssize_t r);
  void retire_slot(std::unique_ptr<slot> fresh) noexcept;
  void close_socket() noexcept;
  static void output_grew(void* self);

  std::unique_ptr<slot> slot_;
  int fd_ = -1;
  bool is_socket_ = true;
  bool connecting_ = false;
  bool connect_wait_ = false;  // waiting for writability to learn the connect result
  // bufferevent_socket_connect_hostname: reading and writing wait for the
  // lookup (libevent's BEV_SUSPEND_LOOKUP), which holds a reference.
  bool looking_up_ = false;
  struct evdns_getaddrinfo_request* dns_request_ = nullptr;
  int dns_error_ = 0;
  // libevent's event added: by enable, setfd, new output (write); deleted
  // by a refused connect, setfd(-1) and the base's end. Matters with no
  // fd, or after that.
  bool read_added_ = false;
  bool write_added_ = false;
  // Reading (writing) stopped for bandwidth: bw_reason bits.
  unsigned char bw_read_ = 0;
  unsigned char bw_write_ = 0;
  direction read_, write_;
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
    // A timeout runs while its direction is pending, counted from the last
    // progress, as libevent's event timeouts on the read and write events.
    sync_timer(&d == &read_, want);
  };
  count(read_, pending_read());
  count(write_, pending_write());
}

void socket_bufferevent::kind_timeout(bool reading) {
  direction& d = reading ? read_ : write_;
  enabled &= ~(reading ? EV_READ : EV_WRITE);
  if (d.state != op::none)
    stop(d);
  sync();
  run_eventcb((reading ? BEV_EVENT_READING : BEV_EVENT_WRITING) | BEV_EVENT_TIMEOUT, ETIMEDOUT);
}

// A new timeout counts from now.
void socket_bufferevent::kind_adj_timeouts() noexcept {
  disarm_timer(true);
  disarm_timer(false);
  sync();
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
    from->bev->on_ready(from, dir == fd_watch::read, r);
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

void socket_bufferevent::kind_read_suspension(bool full) {
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

void socket_bufferevent::do_read() {
  if (!want_read())
    return;
  size_t max = max_single_read_;
  if (wm_read.high)
    max = std::min(max, wm_read.high - std::min(wm_read.high, input_.length()));
  if (limits_)
    max = std::min(max, static_cast<size_t>(limits_->max_to(false, static_cast<ev_ssize_t>(max_single_read_))));
  if (max == 0)
    return;  // at the high watermark or out of tokens: suspended
  ssize_t r = input_.read_from(fd_, max, is_socket_);
  if (not_a_socket(r))
    r = input_.read_from(fd_, max, is_socket_);
  if (r > 0) {
    if (limits_)
      limits_->spent(false, r);
    ev_base->note_callback();
    restart_timer(true);
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
  size_t max = std::min(before, max_single_write_);
  if (limits_ && (max = std::min(max, static_cast<size_t>(limits_->max_to(true, max)))) == 0)
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
  restart_timer(false);
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

void socket_bufferevent::output_grew(void* p) {
  auto* self = static_cast<socket_bufferevent*>(p);
  recursive_scoped_lock g(self->mutex_);
  self->write_added_ = self->write_added_ || (self->enabled & EV_WRITE);
  self->schedule_write();
  self->sync();
}

// ---- configuration -----------------------------------------------------------------

int socket_bufferevent::kind_enable(short what) {
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

int socket_bufferevent::kind_disable(short what) {
  if ((what & EV_READ) && read_.state != op::none)
    stop(read_);
  if ((what & EV_WRITE) && write_.state != op::none && !connect_wait_)
    stop(write_);
  sync();
  return 0;
}

int socket_bufferevent::kind_setfd(evutil_socket_t fd) {
  if (!ev_base)
    return fail(-1, EINVAL);
  cancel_lookup();  // as libevent's setfd
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
  if (fd != fd_ && kind_setfd(fd) < 0) {
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
    defer_eventcb(BEV_EVENT_ERROR, ECONNREFUSED);
    enabled &= ~(EV_READ | EV_WRITE);
    stop(read_);
    stop(write_);
  }
  sync();
  return 0;
}

// libevent's bufferevent_socket_connect_hostname: the first address the
// lookup gives is connected to (libevent 2.1.12 tries no other).
int socket_bufferevent::connect_hostname(struct evdns_base* dns, int family, const char* hostname, int port) {
  recursive_scoped_lock g(mutex_);
  if (!ev_base)
    return fail(-1, EINVAL);
  dns_error_ = 0;
  looking_up_ = true;
  sync();
  intrusive_ptr_add_ref(this);  // the lookup's, given back by looked_up
  evutil_addrinfo hints;
  std::memset(&hints, 0, sizeof hints);
  hints.ai_family = family;
  hints.ai_protocol = IPPROTO_TCP;
  hints.ai_socktype = SOCK_STREAM;
  char portbuf[16];
  std::snprintf(portbuf, sizeof portbuf, "%d", port);
  if (dns) {
    struct evdns_getaddrinfo_request* r = evdns_getaddrinfo(dns, hostname, portbuf, &hints, &looked_up, this);
    if (looking_up_)
      dns_request_ = r;  // null if it was answered at once
  } else {
    evutil_addrinfo* ai = nullptr;
    const int err = evutil_getaddrinfo(hostname, portbuf, &hints, &ai);
    looked_up(err, ai, this);
  }
  return 0;
}

void socket_bufferevent::looked_up(int result, struct evutil_addrinfo* ai, void* arg) {
  auto* b = static_cast<socket_bufferevent*>(arg);
  {
    recursive_scoped_lock g(b->mutex_);
    b->looking_up_ = false;
    b->dns_request_ = nullptr;
    b->dns_error_ = result;
    // The callback sees errno as it is (a failed connect's: EMFILE, ...), as in libevent.
    if (result == 0) {
      if (b->connect(ai->ai_addr, static_cast<int>(ai->ai_addrlen)) < 0)
        b->run_eventcb(BEV_EVENT_ERROR, errno);
    } else if (result != EVUTIL_EAI_CANCEL) {
      b->run_eventcb(BEV_EVENT_ERROR, errno);
    }
    if (result != 0)
      b->sync();
  }
  evutil_freeaddrinfo(ai);
  intrusive_ptr_release(b);
}

void socket_bufferevent::cancel_lookup() noexcept {
  if (struct evdns_getaddrinfo_request* r = dns_request_) {
    dns_request_ = nullptr;
    evdns_getaddrinfo_cancel(r);  // looked_up follows with EVUTIL_EAI_CANCEL
  }
}

void socket_bufferevent::close_socket() noexcept {
  const bool close = (options_ & BEV_OPT_CLOSE_ON_FREE) && fd_ >= 0;
  watch().release(close);
  if (close)
    ::close(fd_);
  fd_ = -1;
}

void socket_bufferevent::kind_unlink() noexcept {
  cancel_lookup();
  stop(read_);
  stop(write_);
  sync();
  close_socket();  // pending output is dropped, as in libevent
}

void socket_bufferevent::detach_from_base() noexcept {
  recursive_scoped_lock g(mutex_);
  stop(read_);
  stop(write_);
  read_.counted = write_.counted = false;
  // As libevent's event_base_free, which deletes the read and write events.
  read_added_ = write_added_ = false;
  bufferevent_core::detach_from_base();
}

// As libevent's: refused while its read or write event would be added
// (libevent then has set ev_base to the new base all the same; evasio
// leaves the bufferevent as it was). Deferred callbacks not yet run move
// along, and run on the new base.
int socket_bufferevent::base_set(event_base* base) {
  if (!mutex_.enabled() && base->multi_threaded()) {
    // Not locking so far, so no other thread may be using it now.
    mutex_ = optional_recursive_mutex(true);
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

// The socket kind's own calls refuse the other kinds, but for those made
// on a socket bufferevent of their own (TLS on a socket), which take it.
socket_bufferevent* socket_of(struct bufferevent* bev) noexcept {
  if (bev && bev->be_ops != &socket_ops)
    bev = bufferevent_core::of(bev)->socket_under();
  return bev && bev->be_ops == &socket_ops ? socket_bufferevent::of(bev) : nullptr;
}

} // namespace

extern "C" {

struct bufferevent* bufferevent_socket_new(struct event_base* base, evutil_socket_t fd,
                                           int options) {
  if (!base)
    base = current_base();  // as libevent: event_init's base
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

int bufferevent_base_set(struct event_base* base, struct bufferevent* bev) {
  socket_bufferevent* b = bev && bev->be_ops == &socket_ops ? socket_bufferevent::of(bev) : nullptr;
  if (!base || !b)
    return fail(-1, EINVAL);  // as libevent: socket bufferevents only
  return guarded(-1, [&] { return b->base_set(base); });
}

int bufferevent_socket_connect(struct bufferevent* bev, const struct sockaddr* sa, int socklen) {
  socket_bufferevent* b = socket_of(bev);
  if (!b)
    return fail(-1, EINVAL);
  return guarded(-1, [&] { return b->connect(sa, socklen); });
}

int bufferevent_socket_connect_hostname(struct bufferevent* bev, struct evdns_base* evdns_base, int family,
                                       const char* hostname, int port) {
  socket_bufferevent* b = socket_of(bev);
  if (!b || !hostname || (family != AF_INET && family != AF_INET6 && family != AF_UNSPEC) || port < 1 ||
      port > 65535)
    return fail(-1, EINVAL);
  return guarded(-1, [&] { return b->connect_hostname(evdns_base, family, hostname, port); });
}

int bufferevent_socket_get_dns_error(struct bufferevent* bev) {
  socket_bufferevent* b = socket_of(bev);
  return b ? b->dns_error() : 0;
}

} // extern "C"

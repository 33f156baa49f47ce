// evconnlistener: libevent's connection listener on an Asio acceptor.
//
// The acceptor is used for readiness only: enable arms async_wait(wait_read),
// disable cancels it, and connections are taken with accept4() in the
// handler. A cancelled wait never holds a connection, so after disable every
// pending connection stays in the kernel's backlog.
//
// A wait is armed right after accept4() said EAGAIN; whenever accepting
// stops for another reason (enable after disable, a yield after a burst, an
// error backoff) the next round starts with an accept attempt (a "kick"),
// which costs no epoll_ctl when connections are already waiting.
//
// The backoff pause doubles from 10 ms to 1 s while accept() keeps failing;
// EAGAIN or a successful accept ends it, so a backlog that never empties is
// taken at full speed whenever fds are free, with no spin while none are.
//
// Lifetime follows libevent's listener.c: an explicit reference count, one
// reference for the user and one for each queued operation, so a callback
// may free its own listener and a cancelled handler can still run safely.
#include "detail/base.hpp"
#include "detail/c_boundary.hpp"
#include "detail/lock.hpp"
#include "detail/log.hpp"

#include <event2/listener.h>
#include <evasio/asio.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive_ptr.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <typeinfo>

namespace asio = boost::asio;
using namespace evasio::detail;
using std::chrono::milliseconds;

namespace {
// Connections taken per wake-up before yielding to other handlers.
constexpr int max_accepts_per_wakeup = 64;
// Retry delays after an accept error (EMFILE, say) while still enabled.
constexpr milliseconds backoff_first{10};
constexpr milliseconds backoff_max{1000};
} // namespace

struct evconnlistener : attached {
  evconnlistener(event_base* base, evconnlistener_cb cb, void* arg, unsigned flags, int fd)
      : base_(base), mutex_((flags & LEV_OPT_THREADSAFE) || base->multi_threaded()), cb_(cb), arg_(arg), flags_(flags), fd_(fd),
        accept_flags_(((flags & LEV_OPT_LEAVE_SOCKETS_BLOCKING) ? 0 : SOCK_NONBLOCK) |
                      ((flags & LEV_OPT_CLOSE_ON_EXEC) ? SOCK_CLOEXEC : 0)) {}
  ~evconnlistener() override {
    if (base_)
      base_->detach(this);
  }

  friend void intrusive_ptr_add_ref(evconnlistener* l) noexcept {
    l->refs_.fetch_add(1, std::memory_order_relaxed);
  }
  friend void intrusive_ptr_release(evconnlistener* l) noexcept {
    if (l->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1)
      delete l;
  }
  using ref = boost::intrusive_ptr<evconnlistener>;

  int enable();
  int disable();
  void set_cb(evconnlistener_cb cb, void* arg);
  void set_error_cb(evconnlistener_errorcb cb) {
    scoped_lock g(mutex_);
    errorcb_ = cb;
  }
  void free();
  event_base* base() {
    scoped_lock g(mutex_);
    return base_;
  }
  int fd() const noexcept { return fd_; }
  evasio::listener_stats stats() {
    scoped_lock g(mutex_);
    return stats_;
  }
  // The Asio acceptor, when it is of type A.
  template <class A>
  A* acceptor() noexcept;
  void detach_from_base() noexcept override;

protected:
  // The ops table: what differs between acceptor types.
  virtual void start_wait(ref self, unsigned seq) = 0;
  virtual void cancel_wait() noexcept = 0;
  virtual void drop_socket(bool close) noexcept = 0;
  void on_ready(unsigned seq);

private:
  enum class op { none, kick, wait, backoff };

  bool active() const noexcept { return enabled_ && cb_ && !freed_ && base_; }
  void sync_pending() noexcept;
  void start(op kind);
  void stop() noexcept;
  void accept_ready(scoped_lock& g);
  void accept_failed(scoped_lock& g, int err);
  void close_socket() noexcept;

  event_base* base_;
  optional_mutex mutex_;
  evconnlistener_cb cb_;
  evconnlistener_errorcb errorcb_ = nullptr;
  void* arg_;
  const unsigned flags_;
  const int fd_;
  const int accept_flags_;
  std::atomic<int> refs_{1};
  bool enabled_ = false;
  bool counted_ = false;  // counted in the base's pending events
  bool freed_ = false;
  bool socket_open_ = true;
  // A callback of ours is running (the lock is dropped around it): enable
  // and set_cb must not start an operation then, or another thread running
  // the io_context could start a second callback beside it. The running
  // accept loop goes on by itself once the callback returns.
  bool in_callback_ = false;
  op op_ = op::none;
  unsigned seq_ = 0;  // identifies the live operation; older handlers are stale
  std::optional<asio::steady_timer> backoff_timer_;
  milliseconds backoff_{0};
  evasio::listener_stats stats_;

protected:
  virtual void* acceptor_ptr(const std::type_info& type) noexcept = 0;
};

template <class A>
A* evconnlistener::acceptor() noexcept {
  scoped_lock g(mutex_);
  return static_cast<A*>(acceptor_ptr(typeid(A)));
}

void evconnlistener::sync_pending() noexcept {
  const bool want = active();
  if (want != counted_) {
    counted_ = want;
    base_->add_pending(want ? 1 : -1);
  }
}

void evconnlistener::start(op kind) {
  const unsigned seq = ++seq_;
  ref self(this);
  switch (kind) {
  case op::kick:
    asio::post(base_->context(), [self = std::move(self), seq] { self->on_ready(seq); });
    break;
  case op::wait:
    // Asio arms the wait with EPOLL_CTL_MOD, which reports a connection
    // that came since our EAGAIN even if another thread saw its edge.
    start_wait(std::move(self), seq);
    break;
  case op::backoff:
    if (!backoff_timer_)
      backoff_timer_.emplace(base_->context());
    backoff_ = backoff_.count() ? std::min(backoff_ * 2, backoff_max) : backoff_first;
    backoff_timer_->expires_after(backoff_);
    backoff_timer_->async_wait([self = std::move(self), seq](boost::system::error_code ec) {
      if (ec != asio::error::operation_aborted)
        self->on_ready(seq);
    });
    break;
  case op::none:
    break;
  }
  op_ = kind;
}

void evconnlistener::stop() noexcept {
  if (op_ == op::wait)
    cancel_wait();
  else if (op_ == op::backoff && backoff_timer_)
    backoff_timer_->cancel();
  op_ = op::none;
  ++seq_;
}

void evconnlistener::on_ready(unsigned seq) {
  scoped_lock g(mutex_);
  if (seq != seq_)
    return;  // cancelled or superseded
  op_ = op::none;
  accept_ready(g);
}

void evconnlistener::accept_ready(scoped_lock& g) {
  int taken = 0;
  // Stop when disabled or freed, or when a callback re-armed us.
  while (active() && op_ == op::none) {
    if (taken == max_accepts_per_wakeup) {
      start(op::kick);  // let other handlers run, then go on
      return;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    const int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&ss), &len, accept_flags_);
    if (fd < 0) {
      const int err = errno;
      if (err == EINTR || err == ECONNABORTED)
        continue;
      if (err == EAGAIN || err == EWOULDBLOCK) {
        backoff_ = milliseconds(0);
        start(op::wait);
      } else {
        accept_failed(g, err);
      }
      return;
    }
    if (len == 0) {  // seen from old kernels probed by nmap
      ::close(fd);
      continue;
    }
    ++taken;
    ++stats_.accepted;
    backoff_ = milliseconds(0);  // fds are back: the next failure pauses briefly
    evconnlistener_cb cb = cb_;
    void* arg = arg_;
    in_callback_ = true;
    g.unlock();
    cb(this, fd, reinterpret_cast<sockaddr*>(&ss), static_cast<int>(len), arg);
    g.lock();
    in_callback_ = false;
    if (base_)
      base_->note_callback();
  }
}

void evconnlistener::accept_failed(scoped_lock& g, int err) {
  base_->note_callback();  // an event was processed, even without a callback
  ++stats_.accept_errors;
  if (errorcb_) {
    evconnlistener_errorcb cb = errorcb_;
    void* arg = arg_;
    in_callback_ = true;
    g.unlock();
    errno = err;  // what EVUTIL_SOCKET_ERROR() tells inside the callback
    cb(this, arg);
    g.lock();
    in_callback_ = false;
  } else {
    log_sock_warn(err, "Error from accept() call");
  }
  // Still enabled: retry later rather than spin on a backlog we can't take.
  if (active() && op_ == op::none) {
    ++stats_.pauses;
    start(op::backoff);
  }
}

int evconnlistener::enable() {
  scoped_lock g(mutex_);
  if (!base_)
    return fail(-1, EINVAL);
  enabled_ = true;
  if (active() && op_ == op::none && !in_callback_)
    start(op::kick);
  sync_pending();
  return 0;
}

int evconnlistener::disable() {
  scoped_lock g(mutex_);
  enabled_ = false;
  if (op_ != op::none)
    stop();
  if (base_)
    sync_pending();
  return 0;
}

void evconnlistener::set_cb(evconnlistener_cb cb, void* arg) {
  scoped_lock g(mutex_);
  cb_ = cb;
  arg_ = arg;
  if (!base_)
    return;
  if (active() && op_ == op::none && !in_callback_)
    start(op::kick);
  else if (!active() && op_ != op::none)
    stop();
  sync_pending();
}

void evconnlistener::close_socket() noexcept {
  const bool close = flags_ & LEV_OPT_CLOSE_ON_FREE;
  if (backoff_timer_)
    backoff_timer_.reset();
  if (socket_open_)
    drop_socket(close);
  else if (close)
    ::close(fd_);  // detached earlier: the fd was kept for us to close
  socket_open_ = false;
}

void evconnlistener::free() {
  {
    scoped_lock g(mutex_);
    cb_ = nullptr;
    errorcb_ = nullptr;
    freed_ = true;
    if (op_ != op::none)
      stop();
    if (base_)
      sync_pending();
    if (socket_open_ || (flags_ & LEV_OPT_CLOSE_ON_FREE))
      close_socket();
  }
  intrusive_ptr_release(this);
}

void evconnlistener::detach_from_base() noexcept {
  scoped_lock g(mutex_);
  if (op_ != op::none)
    stop();
  counted_ = false;
  backoff_timer_.reset();
  if (socket_open_)
    drop_socket(false);  // the fd stays ours until evconnlistener_free
  socket_open_ = false;
  base_ = nullptr;
}

namespace {

// The Asio half: an acceptor used for readiness on the adopted fd.
template <class Acceptor>
class acceptor_listener final : public evconnlistener {
public:
  acceptor_listener(event_base* base, evconnlistener_cb cb, void* arg, unsigned flags, int fd)
      : evconnlistener(base, cb, arg, flags, fd), acceptor_(base->context()) {}
  ~acceptor_listener() override { drop_socket(false); }

  // Asio registers an fd once: when an event of the base has it already,
  // the acceptor watches a duplicate, closed with it (accept4 still uses fd).
  void assign(const typename Acceptor::protocol_type& proto, boost::system::error_code& ec) {
    acceptor_->assign(proto, fd(), ec);
    if (ec != asio::error::already_open && ec.value() != EEXIST)
      return;
    const int dup = ::fcntl(fd(), F_DUPFD_CLOEXEC, 0);
    if (dup < 0) {
      ec.assign(errno, boost::system::system_category());
      return;
    }
    acceptor_->assign(proto, dup, ec);
    if (ec)
      ::close(dup);
    else
      owns_dup_ = true;
  }

protected:
  void start_wait(ref self, unsigned seq) override {
    acceptor_->async_wait(asio::socket_base::wait_read,
                          [self = std::move(self), seq](boost::system::error_code ec) {
                            if (ec != asio::error::operation_aborted)
                              static_cast<acceptor_listener*>(self.get())->on_ready(seq);
                          });
  }
  void cancel_wait() noexcept override {
    boost::system::error_code ec;
    if (acceptor_)
      acceptor_->cancel(ec);
  }
  void drop_socket(bool close) noexcept override {
    if (!acceptor_)
      return;
    boost::system::error_code ec;
    if (acceptor_->is_open()) {
      if (close || owns_dup_)
        acceptor_->close(ec);
      else
        acceptor_->release(ec);
    }
    if (close && owns_dup_)
      ::close(fd());
    acceptor_.reset();
  }

  void* acceptor_ptr(const std::type_info& type) noexcept override {
    return type == typeid(Acceptor) && acceptor_ ? &*acceptor_ : nullptr;
  }

private:
  std::optional<Acceptor> acceptor_;
  bool owns_dup_ = false;  // acceptor_ holds a duplicate of fd()
};

using tcp_listener = acceptor_listener<asio::ip::tcp::acceptor>;
using local_listener = acceptor_listener<asio::local::stream_protocol::acceptor>;

} // namespace

// Builds a listener on fd; NULL with errno set and fd untouched on failure.
static evconnlistener* make_listener(event_base* base, evconnlistener_cb cb, void* ptr,
                                     unsigned flags, int backlog, int fd) {
  if (!base)
    return fail<evconnlistener*>(nullptr, EINVAL);
  if (fd < 0)
    return fail<evconnlistener*>(nullptr, EBADF);
  int type = 0;
  socklen_t tlen = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0)
    return nullptr;  // EBADF, ENOTSOCK
  struct sockaddr_storage ss;
  socklen_t slen = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &slen) < 0)
    return nullptr;
  const int family = ss.ss_family;
  if (family != AF_INET && family != AF_INET6 && family != AF_UNIX)
    return fail<evconnlistener*>(nullptr, EAFNOSUPPORT);
  if (type != SOCK_STREAM && !(family == AF_UNIX && type == SOCK_SEQPACKET))
    return fail<evconnlistener*>(nullptr, EOPNOTSUPP);

  evconnlistener* lev;
  boost::system::error_code ec;
  if (family == AF_UNIX) {
    auto* l = new local_listener(base, cb, ptr, flags, fd);
    l->assign(asio::local::stream_protocol(), ec);
    lev = l;
  } else {
    auto* l = new tcp_listener(base, cb, ptr, flags, fd);
    l->assign(family == AF_INET ? asio::ip::tcp::v4() : asio::ip::tcp::v6(), ec);
    lev = l;
  }
  // listen() is the last step that can fail: before it, nothing of the
  // caller's fd was changed.
  int err = ec.value();
  if (!err && backlog != 0 && ::listen(fd, backlog > 0 ? backlog : SOMAXCONN) < 0)
    err = errno;
  if (err) {
    lev->detach_from_base();  // releases the fd without closing it
    delete lev;
    return fail<evconnlistener*>(nullptr, err);
  }
  // Accepting must never block the loop.
  const int fl = ::fcntl(fd, F_GETFL);
  if (fl >= 0 && !(fl & O_NONBLOCK))
    ::fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  if (flags & LEV_OPT_THREADSAFE)
    base->share_with_threads();  // other threads may free it: the base list locks
  base->attach(lev);
  if (!(flags & LEV_OPT_DISABLED))
    lev->enable();
  return lev;
}

static int set_int_opt(int fd, int level, int name, int value) {
  return ::setsockopt(fd, level, name, &value, sizeof value);
}

// Socket options as libevent's evconnlistener_new_bind sets them.
static int configure_bind_socket(int fd, unsigned flags) {
  if (set_int_opt(fd, SOL_SOCKET, SO_KEEPALIVE, 1) < 0)
    return -1;
  if ((flags & LEV_OPT_REUSEABLE) && set_int_opt(fd, SOL_SOCKET, SO_REUSEADDR, 1) < 0)
    return -1;
  if ((flags & LEV_OPT_REUSEABLE_PORT) && set_int_opt(fd, SOL_SOCKET, SO_REUSEPORT, 1) < 0)
    return -1;
  if ((flags & LEV_OPT_DEFERRED_ACCEPT) && set_int_opt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, 1) < 0)
    return -1;
  if ((flags & LEV_OPT_BIND_IPV6ONLY) && set_int_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) < 0)
    return -1;
  if ((flags & LEV_OPT_BIND_IPV4_AND_IPV6) && set_int_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0) < 0)
    return -1;
  return 0;
}

// ---- C boundary -----------------------------------------------------------

extern "C" {

struct evconnlistener* evconnlistener_new(struct event_base* base, evconnlistener_cb cb,
                                          void* ptr, unsigned flags, int backlog,
                                          evutil_socket_t fd) {
  return guarded<evconnlistener*>(nullptr, [&] {
    return make_listener(base, cb, ptr, flags, backlog, fd);
  });
}

struct evconnlistener* evconnlistener_new_bind(struct event_base* base, evconnlistener_cb cb,
                                               void* ptr, unsigned flags, int backlog,
                                               const struct sockaddr* sa, int socklen) {
  if (!base)
    return fail<evconnlistener*>(nullptr, EINVAL);
  if (backlog == 0)
    return fail<evconnlistener*>(nullptr, EINVAL);
  if (!sa)
    return fail<evconnlistener*>(nullptr, EAFNOSUPPORT);  // libevent: socket(AF_UNSPEC)
  if (socklen < static_cast<int>(sizeof(sa_family_t)))
    return fail<evconnlistener*>(nullptr, EINVAL);
  const int type = SOCK_STREAM | SOCK_NONBLOCK | ((flags & LEV_OPT_CLOSE_ON_EXEC) ? SOCK_CLOEXEC : 0);
  const int fd = ::socket(sa->sa_family, type, 0);
  if (fd < 0)
    return nullptr;
  evconnlistener* lev = nullptr;
  if (configure_bind_socket(fd, flags) == 0 &&
      ::bind(fd, sa, static_cast<socklen_t>(socklen)) == 0)
    lev = evconnlistener_new(base, cb, ptr, flags, backlog, fd);
  if (!lev) {
    const int err = errno;
    ::close(fd);
    errno = err;
  }
  return lev;
}

void evconnlistener_free(struct evconnlistener* lev) {
  if (lev)
    guarded_void([&] { lev->free(); });
}

int evconnlistener_enable(struct evconnlistener* lev) {
  if (!lev)
    return fail(-1, EINVAL);
  return guarded(-1, [&] { return lev->enable(); });
}

int evconnlistener_disable(struct evconnlistener* lev) {
  if (!lev)
    return fail(-1, EINVAL);
  return guarded(-1, [&] { return lev->disable(); });
}

struct event_base* evconnlistener_get_base(struct evconnlistener* lev) {
  return lev ? lev->base() : nullptr;
}

evutil_socket_t evconnlistener_get_fd(struct evconnlistener* lev) {
  return lev ? lev->fd() : fail(-1, EINVAL);
}

void evconnlistener_set_cb(struct evconnlistener* lev, evconnlistener_cb cb, void* arg) {
  if (lev)
    guarded_void([&] { lev->set_cb(cb, arg); });
}

void evconnlistener_set_error_cb(struct evconnlistener* lev, evconnlistener_errorcb errorcb) {
  if (lev)
    lev->set_error_cb(errorcb);
}

} // extern "C"

// ---- C++ interop ----------------------------------------------------------

namespace evasio {

asio::ip::tcp::acceptor* get_tcp_acceptor(evconnlistener* lev) noexcept {
  return lev ? lev->acceptor<asio::ip::tcp::acceptor>() : nullptr;
}

asio::local::stream_protocol::acceptor* get_local_acceptor(evconnlistener* lev) noexcept {
  return lev ? lev->acceptor<asio::local::stream_protocol::acceptor>() : nullptr;
}

listener_stats get_listener_stats(evconnlistener* lev) noexcept {
  return lev ? lev->stats() : listener_stats{};
}

asio::ip::tcp::socket adopt_tcp_socket(const asio::any_io_executor& ex, int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0)
    throw boost::system::system_error(errno, boost::system::system_category(), "getsockname");
  if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
    throw boost::system::system_error(EAFNOSUPPORT, boost::system::system_category(), "adopt_tcp_socket");
  int type = 0;
  socklen_t tlen = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0)
    throw boost::system::system_error(errno, boost::system::system_category(), "getsockopt");
  if (type != SOCK_STREAM)  // a UDP socket, say: not a TCP socket
    throw boost::system::system_error(EPROTOTYPE, boost::system::system_category(), "adopt_tcp_socket");
  asio::ip::tcp::socket sock(ex);
  sock.assign(ss.ss_family == AF_INET ? asio::ip::tcp::v4() : asio::ip::tcp::v6(), fd);
  return sock;
}

} // namespace evasio

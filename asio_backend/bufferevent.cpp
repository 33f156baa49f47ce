// bufferevent: libevent's socket bufferevent on an Asio descriptor.
//
// Readiness comes from async_wait on a posix::stream_descriptor; the bytes
// move with recvmsg/sendmsg(MSG_DONTWAIT) straight into and out of the
// evbuffers. As with the listener, Asio's reactor is edge-triggered, so a
// wait is armed only after a read or write said EAGAIN (or a write came out
// short); every other round starts with an attempt (a "kick").
#include "detail/base.hpp"
#include "detail/c_boundary.hpp"
#include "detail/evbuffer.hpp"
#include "detail/lock.hpp"

#include <event2/bufferevent.h>

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/intrusive_ptr.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <optional>

namespace asio = boost::asio;
using namespace evasio::detail;

namespace {
constexpr size_t read_max = 65536;  // per read call
}

struct bufferevent : attached {
  bufferevent(event_base* base, int options)
      : base_(base), mutex_(options & BEV_OPT_THREADSAFE), options_(options) {
    output_.on_add = &bufferevent::output_grew;
    output_.on_add_arg = this;
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
    unsigned seq = 0;
    bool counted = false;
  };

  bool want_read() const noexcept { return (enabled_ & EV_READ) && live(); }
  bool want_write() const noexcept { return (enabled_ & EV_WRITE) && live() && output_.length(); }
  bool live() const noexcept { return !freed_ && desc_ && base_; }
  void sync_pending() noexcept;
  void schedule_read() { if (want_read() && read_.state == op::none) start(read_, op::kick); }
  void schedule_write() { if (want_write() && write_.state == op::none) start(write_, op::kick); }
  void start(direction& d, op kind);
  void stop(direction& d) noexcept;
  void on_ready(bool reading, unsigned seq, bool aborted);
  void do_read();
  void do_write();
  void run_eventcb(short what, int err);
  void close_socket() noexcept;
  static void output_grew(void* self);

  const int options_;
  std::atomic<int> refs_{1};
  std::optional<asio::posix::stream_descriptor> desc_;
  bool is_socket_ = true;
  bool freed_ = false;
  short enabled_ = EV_WRITE;  // as libevent: writing is on from the start
  direction read_, write_;
  bufferevent_data_cb readcb_ = nullptr;
  bufferevent_data_cb writecb_ = nullptr;
  bufferevent_event_cb eventcb_ = nullptr;
  void* cbarg_ = nullptr;
};

bool bufferevent::adopt(int fd, boost::system::error_code& ec) {
  int type;
  socklen_t len = sizeof type;
  is_socket_ = ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0;
  desc_.emplace(base_->context());
  desc_->assign(fd, ec);
  if (ec) {
    desc_->release();
    desc_.reset();
    return false;
  }
  if (!is_socket_) {  // sockets get MSG_DONTWAIT per call; others need the flag
    const int fl = ::fcntl(fd, F_GETFL);
    if (fl >= 0 && !(fl & O_NONBLOCK))
      ::fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  }
  fd_ = fd;
  return true;
}

void bufferevent::sync_pending() noexcept {
  if (!base_)
    return;
  auto sync = [this](direction& d, bool want) {
    if (want != d.counted) {
      d.counted = want;
      base_->add_pending(want ? 1 : -1);
    }
  };
  sync(read_, want_read());
  sync(write_, want_write());
}

void bufferevent::start(direction& d, op kind) {
  const bool reading = &d == &read_;
  const unsigned seq = ++d.seq;
  d.state = kind;
  ref self(this);
  if (kind == op::kick) {
    asio::post(base_->context(), [self = std::move(self), reading, seq] {
      self->on_ready(reading, seq, false);
    });
  } else {
    desc_->async_wait(reading ? asio::posix::descriptor_base::wait_read
                              : asio::posix::descriptor_base::wait_write,
                      [self = std::move(self), reading, seq](boost::system::error_code ec) {
                        self->on_ready(reading, seq, ec == asio::error::operation_aborted);
                      });
  }
}

void bufferevent::stop(direction& d) noexcept {
  if (d.state == op::wait && desc_) {
    boost::system::error_code ec;
    desc_->cancel(ec);  // cancels both directions; the other one re-arms
  }
  d.state = op::none;
  ++d.seq;
}

void bufferevent::on_ready(bool reading, unsigned seq, bool aborted) {
  recursive_scoped_lock g(mutex_);
  direction& d = reading ? read_ : write_;
  if (seq != d.seq)
    return;  // stopped or superseded
  d.state = op::none;
  if (aborted) {
    // Cancelled on behalf of the other direction: go on with an attempt.
    reading ? schedule_read() : schedule_write();
    return;
  }
  reading ? do_read() : do_write();
  sync_pending();
}

void bufferevent::do_read() {
  if (!want_read())
    return;
  const ssize_t r = input_.read_from(fd_, read_max, is_socket_);
  if (r > 0) {
    base_->note_callback();
    if (readcb_)
      readcb_(this, cbarg_);
    // Read again before waiting: the reactor is edge-triggered and an end
    // of file may already be queued behind the data. Posted after the
    // callback, so a reply it wrote goes out before that end of file is seen.
    schedule_read();
    return;
  }
  const int err = r == 0 ? 0 : errno;
  if (r < 0 && (err == EAGAIN || err == EWOULDBLOCK || err == EINTR)) {
    start(read_, err == EINTR ? op::kick : op::wait);
    return;
  }
  // libevent runs a ready write before the read that finds the end, so
  // what was written before the peer's EOF still goes out: do the same.
  if (r == 0 && want_write() && write_.state == op::kick)
    do_write();
  enabled_ &= ~EV_READ;
  sync_pending();
  run_eventcb(BEV_EVENT_READING | (r == 0 ? BEV_EVENT_EOF : BEV_EVENT_ERROR), err);
}

void bufferevent::do_write() {
  if (!want_write())
    return;
  const size_t before = output_.length();
  const ssize_t r = output_.write_to(fd_, before, is_socket_);
  if (r < 0) {
    const int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) {
      start(write_, err == EINTR ? op::kick : op::wait);
      return;
    }
    enabled_ &= ~EV_WRITE;
    sync_pending();
    run_eventcb(BEV_EVENT_WRITING | BEV_EVENT_ERROR, err);
    return;
  }
  if (output_.length()) {
    // Short: the socket is full, wait for room. Whole but more left: go on.
    start(write_, static_cast<size_t>(r) < before ? op::wait : op::kick);
  }
  base_->note_callback();
  if (writecb_ && output_.length() == 0)
    writecb_(this, cbarg_);
}

void bufferevent::run_eventcb(short what, int err) {
  base_->note_callback();
  if (eventcb_) {
    errno = err;  // what EVUTIL_SOCKET_ERROR() tells inside the callback
    eventcb_(this, what, cbarg_);
  }
}

void bufferevent::output_grew(void* p) {
  auto* self = static_cast<bufferevent*>(p);
  recursive_scoped_lock g(self->mutex_);
  self->schedule_write();
  self->sync_pending();
}

int bufferevent::enable(short what) {
  recursive_scoped_lock g(mutex_);
  enabled_ |= what & (EV_READ | EV_WRITE);
  if (what & EV_READ)
    schedule_read();
  if (what & EV_WRITE)
    schedule_write();
  sync_pending();
  return 0;
}

int bufferevent::disable(short what) {
  recursive_scoped_lock g(mutex_);
  enabled_ &= ~(what & (EV_READ | EV_WRITE));
  if ((what & EV_READ) && read_.state != op::none)
    stop(read_);
  if ((what & EV_WRITE) && write_.state != op::none)
    stop(write_);
  sync_pending();
  return 0;
}

void bufferevent::close_socket() noexcept {
  const bool close = options_ & BEV_OPT_CLOSE_ON_FREE;
  if (desc_) {
    boost::system::error_code ec;
    if (close)
      desc_->close(ec);
    else
      desc_->release();
    desc_.reset();
  } else if (close && fd_ >= 0) {
    ::close(fd_);  // detached earlier: the fd was kept for us to close
  }
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
    sync_pending();
    close_socket();  // pending output is dropped, as in libevent
  }
  intrusive_ptr_release(this);
}

void bufferevent::detach_from_base() noexcept {
  recursive_scoped_lock g(mutex_);
  stop(read_);
  stop(write_);
  read_.counted = write_.counted = false;
  if (desc_) {
    desc_->release();  // the fd stays ours until bufferevent_free
    desc_.reset();
  }
  base_ = nullptr;
}

// ---- C boundary -----------------------------------------------------------

extern "C" {

struct bufferevent* bufferevent_socket_new(struct event_base* base, evutil_socket_t fd,
                                           int options) {
  if (!base)
    return fail<bufferevent*>(nullptr, EINVAL);
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

evutil_socket_t bufferevent_getfd(struct bufferevent* bev) {
  if (!bev)
    return fail(-1, EINVAL);
  recursive_scoped_lock g(bev->mutex_);
  return bev->fd_;
}

struct event_base* bufferevent_get_base(struct bufferevent* bev) {
  return bev ? bev->base_ : nullptr;
}

} // extern "C"

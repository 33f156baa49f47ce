// fd_watch and io_mux: see detail/fd_watch.hpp.
#include "detail/fd_watch.hpp"
#include "detail/lock.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <new>

namespace evasio::detail {

namespace {
constexpr int harvest_max = 64;  // events per epoll_wait; more: another round
constexpr uint32_t mux_events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
} // namespace

// ---- fd_watch --------------------------------------------------------------

fd_watch::op::op(fd_watch* w, dir d)
    : reactor_op(boost::system::error_code(), &op::perform, &op::complete), watch(w), d(d) {}

// Asio's reactor calls this under the descriptor's lock: first as the
// speculative attempt of start_op, then for each event.
fd_watch::op::status fd_watch::op::perform(reactor_op* base) {
  auto* o = static_cast<op*>(base);
  if (o->skip_probe) {
    o->skip_probe = false;
    return not_done;
  }
  return done;
}

void fd_watch::op::complete(void* owner, boost::asio::detail::operation* base,
                            const boost::system::error_code&, std::size_t) {
  auto* o = static_cast<op*>(base);
  const result r = !owner ? result::destroyed
                   : o->ec_ == boost::asio::error::operation_aborted ? result::aborted
                                                                    : result::ready;
  o->watch->cb_(o->watch->owner_, o->d, r);
}

int fd_watch::open(boost::asio::io_context& ctx, int fd, io_mux* mux) {
  if (fd_ >= 0)
    release();
  int err = watch_fd(ctx, fd, mux);
  if (err != EEXIST)
    return err;
  // The set has this fd already (another bufferevent's, an event's or a
  // listener's): watch a duplicate, which shares its readiness, and is ours.
  const int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0)
    return errno;
  err = watch_fd(ctx, dup, mux);
  if (err)
    ::close(dup);
  own_fd_ = err == 0;
  return err;
}

int fd_watch::watch_fd(boost::asio::io_context& ctx, int fd, io_mux* mux) {
  if (mux) {
    // Ready before the first harvest can see us (another thread may run it).
    reactor_ = &mux->reactor_;
    waiting_[read] = waiting_[write] = false;
    maybe_ready_[read] = maybe_ready_[write] = true;
    fin_seen_ = error_seen_ = false;
    const int err = mux->add(this, fd);
    if (err == 0) {
      mux_ = mux;
      fd_ = fd;
      return 0;
    }
    if (err != EPERM)
      return err;
    // Not pollable (a regular file): Asio's reactor takes it as always ready.
  }
  reactor_ = &boost::asio::use_service<reactor>(ctx);
  reactor_->init_task();
  if (const int err = reactor_->register_descriptor(fd, data_)) {
    reactor_->cleanup_descriptor_data(data_);
    return err;
  }
  fd_ = fd;
  return 0;
}

void fd_watch::post(dir d, result r) noexcept {
  op& o = ops_[d];
  o.ec_ = r == result::aborted ? boost::asio::error::operation_aborted : boost::system::error_code();
  reactor_->post_immediate_completion(&o, false);
}

void fd_watch::start(dir d, mode m) {
  if (mux_) {
    scoped_lock g(mux_->mutex_);
    if (m == mode::after_short) {
      // Drained (or full): only news wakes it. A short read leaves a FIN
      // unread, and an error stays: those the harvests told already.
      maybe_ready_[d] = error_seen_ || (d == read && fin_seen_);
    }
    if (m == mode::probe || maybe_ready_[d])
      post(d, result::ready);
    else
      waiting_[d] = true;
    return;
  }
  op& o = ops_[d];
  o.ec_ = boost::system::error_code();
  o.skip_probe = m == mode::edge;
  // Waits re-arm, after_short too: a FIN that came before the short read
  // would make no new edge, and Asio's reactor does not tell FINs apart.
  reactor_->start_op(d, fd_, data_, &o, false, m == mode::probe || m == mode::edge);
}

void fd_watch::cancel(dir d) noexcept {
  if (fd_ < 0)
    return;
  if (mux_) {
    scoped_lock g(mux_->mutex_);
    if (waiting_[d]) {
      waiting_[d] = false;
      post(d, result::aborted);
    }
    return;
  }
  reactor_->cancel_ops_by_key(fd_, data_, d, &ops_[d]);
}

void fd_watch::release(bool closing) noexcept {
  if (fd_ < 0)
    return;
  if (mux_) {
    {
      scoped_lock g(mux_->mutex_);
      mux_->remove(this, closing && !own_fd_);  // the caller's fd stays open: our dup leaves
      for (dir d : {read, write})
        if (waiting_[d]) {
          waiting_[d] = false;
          post(d, result::aborted);
        }
    }
    mux_ = nullptr;
  } else {
    // Always out of the epoll set explicitly: Asio's descriptor state is
    // freed now, and a duplicate of the fd could otherwise still report.
    reactor_->deregister_descriptor(fd_, data_, false);
    reactor_->cleanup_descriptor_data(data_);
  }
  if (own_fd_)
    ::close(fd_);
  own_fd_ = false;
  fd_ = -1;
}

void fd_watch::on_mux_event(uint32_t events) noexcept {
  if (events & EPOLLRDHUP)
    fin_seen_ = true;
  if (events & (EPOLLHUP | EPOLLERR))
    error_seen_ = true;
  auto wake = [this](dir d) {
    maybe_ready_[d] = true;
    if (waiting_[d]) {
      waiting_[d] = false;
      post(d, result::ready);
    }
  };
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
    wake(read);
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
    wake(write);
}

// ---- io_mux ----------------------------------------------------------------

io_mux* io_mux::create(boost::asio::io_context& ctx, bool locking) noexcept {
  const int epfd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0)
    return nullptr;
  io_mux* m = nullptr;
  try {
    m = new io_mux(boost::asio::use_service<fd_watch::reactor>(ctx), epfd, locking);
  } catch (...) {
    ::close(epfd);
    errno = ENOMEM;
    return nullptr;
  }
  if (const int err = m->outer_.open(ctx, epfd, nullptr)) {
    delete m;
    errno = err;
    return nullptr;
  }
  m->outer_waiting_ = true;
  m->outer_.start(fd_watch::read, fd_watch::mode::edge);  // empty so far
  return m;
}

io_mux::~io_mux() {
  outer_.release();
  ::close(epfd_);
}

void io_mux::destroy() noexcept {
  dying_ = true;
  if (!outer_waiting_) {
    delete this;
    return;
  }
  outer_.release();  // its callback (aborted, or destroyed with the context) deletes us
}

int io_mux::add(fd_watch* w, int fd) noexcept {
  scoped_lock g(mutex_);
  uint32_t s;
  if (free_.empty()) {
    try {
      // Capacity for every slot: remove() never allocates.
      free_.reserve(slots_.size() + 1);
      slots_.push_back(nullptr);
    } catch (const std::bad_alloc&) {
      return ENOMEM;
    }
    s = static_cast<uint32_t>(slots_.size() - 1);
  } else {
    s = free_.back();
    free_.pop_back();
  }
  epoll_event ev{};
  ev.events = mux_events;
  ev.data.u64 = s;
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
    int err = errno;
    // Already in the set: left behind by a closing remove() while a
    // duplicate kept the socket open, and now back under this fd number
    // (dup2). Take the entry over, unless a live watch has that fd.
    if (err == EEXIST && !watched(fd) && ::epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) == 0)
      err = 0;
    if (err) {
      free_.push_back(s);
      return err;
    }
  }
  slots_[s] = w;
  w->slot_ = s;
  w->mux_fd_ = fd;
  return 0;
}

bool io_mux::watched(int fd) const noexcept {
  for (const fd_watch* w : slots_)  // rare path: a scan will do
    if (w && w->mux_fd_ == fd)
      return true;
  return false;
}

void io_mux::remove(fd_watch* w, bool closing) noexcept {
  // A closing fd leaves the set with its last reference; a duplicate that
  // stays open reports into a slot index (spurious wakeups at worst).
  if (!closing)
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, w->fd_, nullptr);
  slots_[w->slot_] = nullptr;
  free_.push_back(w->slot_);
  w->mux_fd_ = -1;
}

void io_mux::on_outer(void* p, fd_watch::dir, fd_watch::result r) {
  auto* self = static_cast<io_mux*>(p);
  self->outer_waiting_ = false;
  if (self->dying_) {
    delete self;
    return;
  }
  if (r != fd_watch::result::destroyed)
    self->harvest();
}

// One epoll_wait over the base's sockets; each one that may be ready
// completes its waiting operation (posted: it runs as its own handler).
void io_mux::harvest() {
  epoll_event evs[harvest_max];
  const int n = ::epoll_wait(epfd_, evs, harvest_max, 0);
  {
    scoped_lock g(mutex_);
    for (int i = 0; i < n; ++i) {
      const auto s = static_cast<uint32_t>(evs[i].data.u64);
      if (s < slots_.size() && slots_[s])
        slots_[s]->on_mux_event(evs[i].events);
    }
  }
  // Fewer than asked: the set's ready list is empty, and anything new makes
  // a new edge on epfd_. Otherwise (or EINTR) look again on the next round.
  outer_waiting_ = true;
  outer_.start(fd_watch::read, n >= 0 && n < harvest_max ? fd_watch::mode::edge
                                                          : fd_watch::mode::probe);
}

// The old set stays the parent's: the child's watches go into a fresh one,
// which then takes the old fd number, so the outer watch (released and
// opened again around the swap) waits on the child's set. Its aborted wait
// harvests the new set and starts the next.
int io_mux::after_fork(boost::asio::io_context& ctx) noexcept {
  const int fresh = ::epoll_create1(EPOLL_CLOEXEC);
  if (fresh < 0)
    return errno;
  scoped_lock g(mutex_);
  for (uint32_t s = 0; s < slots_.size(); ++s) {
    fd_watch* w = slots_[s];
    if (!w)
      continue;
    epoll_event ev{};
    ev.events = mux_events;
    ev.data.u64 = s;
    if (::epoll_ctl(fresh, EPOLL_CTL_ADD, w->mux_fd_, &ev) < 0) {
      const int err = errno;
      ::close(fresh);
      return err;
    }
  }
  outer_.release();
  const int swapped = ::dup3(fresh, epfd_, O_CLOEXEC);
  const int err = swapped < 0 ? errno : 0;
  ::close(fresh);
  if (err)
    return err;
  if (const int open_err = outer_.open(ctx, epfd_, nullptr))
    return open_err;
  if (!outer_waiting_) {  // no completion of the old wait to come
    outer_waiting_ = true;
    outer_.start(fd_watch::read, fd_watch::mode::probe);
  }
  return 0;
}

} // namespace evasio::detail

// fd_watch: readiness of one fd, for the bufferevent, with one operation per
// direction that lives inside the watch (nothing is allocated per wait).
// Its owner tells, when it starts a wait, what it knows:
//   probe        nothing: the wait completes at once and the owner tries
//                its I/O (what a wait on a ready socket does);
//   after_short  its read or write just came up short, in this handler: the
//                socket is drained (or full) and only news is worth a wakeup;
//   wait         the socket may be ready or not: wait until it may be.
//
// Two ways to get there.
//
// On a base's own io_context (one thread at a time runs its loop; with
// evthread, other threads may still enable, disable and free), the fd sits
// in the base's io_mux: an edge-triggered epoll set of the base's
// own, registered once with EPOLLIN|EPOLLOUT|EPOLLRDHUP, itself waited on
// through Asio. Each harvest tells which sockets may be ready and whether
// the peer's FIN or an error came, so a wait after a short read costs no
// system call: a short read leaves only a FIN unread, and the mux saw it if
// it came. No EPOLL_CTL_MOD ever, one epoll_wait per batch of sockets.
//
// On a borrowed io_context (threads may run the handlers), the fd is registered
// with Asio's own reactor (boost::asio::detail::epoll_reactor, the one its
// sockets use) and a wait that is not a probe re-arms the descriptor with
// EPOLL_CTL_MOD, as Asio's async_wait does: another thread's epoll_wait
// could otherwise take the edge between the short I/O and the wait.
#ifndef EVASIO_DETAIL_FD_WATCH_HPP_INCLUDED_
#define EVASIO_DETAIL_FD_WATCH_HPP_INCLUDED_

#include <boost/asio/io_context.hpp>  // first: Asio's detail headers expect it
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/reactor_op.hpp>
#include <boost/asio/error.hpp>

#include "lock.hpp"

#include <cstdint>
#include <vector>

#if !defined(BOOST_ASIO_HAS_EPOLL) || defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
#error "evasio's fd_watch needs Asio's epoll reactor"
#endif

namespace evasio::detail {

class io_mux;

class fd_watch {
  using reactor = boost::asio::detail::reactor;
  using reactor_op = boost::asio::detail::reactor_op;

public:
  enum dir : int { read = reactor::read_op, write = reactor::write_op };
  enum class result { ready, aborted, destroyed };
  // edge: queue the wait with no probe and no re-arming. Exact only for an
  // fd whose every readiness since the owner drained it makes a new edge,
  // on a one-thread context: the mux's own epoll fd.
  enum class mode { probe, after_short, wait, edge };
  // Called once per start(), from a handler of the io_context (never from
  // inside start, cancel or release); with result::destroyed when the
  // io_context drops the operation unrun.
  using callback = void (*)(void* owner, dir d, result r);

  fd_watch(callback cb, void* owner) noexcept
      : ops_{{this, read}, {this, write}}, cb_(cb), owner_(owner) {}
  fd_watch(const fd_watch&) = delete;
  fd_watch& operator=(const fd_watch&) = delete;
  ~fd_watch() { release(); }

  // Watches fd (not owned): in mux if given, else in the context's reactor;
  // through a duplicate of it (owned) if the set has fd already. 0 or an
  // errno value.
  int open(boost::asio::io_context& ctx, int fd, io_mux* mux);
  bool is_open() const noexcept { return fd_ >= 0; }

  // At most one operation per direction may be under way: a new start()
  // waits until the callback of the last one has begun.
  void start(dir d, mode m);
  // The waiting operation (if any) completes with result::aborted.
  void cancel(dir d) noexcept;
  // Forgets the fd; waiting operations abort. closing: the caller closes
  // the fd right after (in a mux, the kernel then drops it from the set; a
  // duplicate left open elsewhere can only cause spurious wakeups there).
  void release(bool closing = false) noexcept;

private:
  friend class io_mux;
  struct op : reactor_op {
    op(fd_watch* w, dir d);
    fd_watch* watch;
    dir d;
    bool skip_probe = false;  // mode::edge: the speculative perform is not a wakeup
    static status perform(reactor_op* base);
    static void complete(void* owner, boost::asio::detail::operation* base,
                         const boost::system::error_code&, std::size_t);
  };
  int watch_fd(boost::asio::io_context& ctx, int fd, io_mux* mux);
  void post(dir d, result r) noexcept;
  void on_mux_event(uint32_t events) noexcept;

  op ops_[2];
  callback cb_;
  void* owner_;
  reactor* reactor_ = nullptr;
  int fd_ = -1;           // as registered: the owner's fd, or our duplicate of it
  bool own_fd_ = false;  // fd_ is our duplicate, closed on release
  // In Asio's reactor:
  reactor::per_descriptor_data data_ = nullptr;
  // In a mux:
  io_mux* mux_ = nullptr;
  uint32_t slot_ = 0;
  int mux_fd_ = -1;  // fd_, as the mux sees it (under its lock)
  bool waiting_[2] = {false, false};
  bool maybe_ready_[2] = {true, true};  // until a short read or write says otherwise
  bool fin_seen_ = false;                // EPOLLRDHUP: the peer's FIN came
  bool error_seen_ = false;              // EPOLLHUP or EPOLLERR
};

// An edge-triggered epoll set of one base, for one-thread contexts (see
// above). Made by the base; destroy() instead of delete, since its own wait
// may still be under way in the io_context.
class io_mux {
public:
  // nullptr with errno set when epoll_create1 or the registration fails.
  // locking: other threads may start, cancel and release watches (the
  // context is still run by one thread at a time).
  static io_mux* create(boost::asio::io_context& ctx, bool locking) noexcept;
  void destroy() noexcept;
  // Locking on, for good. Not while another thread may use the mux.
  void lock_from_now_on() { mutex_ = optional_mutex(true); }
  // event_reinit, after Asio's reactor was remade: a fork's child shares
  // the epoll set with its parent, so the set is made anew (under the same
  // fd number) with every watch in it. 0 or an errno value.
  int after_fork(boost::asio::io_context& ctx) noexcept;

private:
  friend class fd_watch;
  io_mux(fd_watch::reactor& r, int epfd, bool locking)
      : reactor_(r), epfd_(epfd), outer_(&io_mux::on_outer, this), mutex_(locking) {}
  ~io_mux();
  int add(fd_watch* w, int fd) noexcept;
  void remove(fd_watch* w, bool closing) noexcept;
  bool watched(int fd) const noexcept;
  static void on_outer(void* self, fd_watch::dir, fd_watch::result r);
  void harvest();

  fd_watch::reactor& reactor_;
  int epfd_;
  fd_watch outer_;  // readability of epfd_, in Asio's reactor
  bool outer_waiting_ = false;
  bool dying_ = false;
  // Guards the slots and the mux state of every watch. A harvest only posts
  // completions under it: no watch comes or goes during one.
  optional_mutex mutex_;
  std::vector<fd_watch*> slots_;  // epoll data: a slot index
  std::vector<uint32_t> free_;    // reusable slots
};

} // namespace evasio::detail

#endif

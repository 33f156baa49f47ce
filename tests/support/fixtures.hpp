// Boost.Test fixtures and RAII owners shared by the suites in tests/unit/.
// Only libevent's public API (event2/*.h), POSIX and Boost.Test: the suites
// that include this build against real libevent too.
#ifndef EVASIO_TESTS_SUPPORT_FIXTURES_HPP_INCLUDED_
#define EVASIO_TESTS_SUPPORT_FIXTURES_HPP_INCLUDED_

#include <boost/test/unit_test.hpp>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include "net.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace nettest {

inline std::string current_test_name() {
  return boost::unit_test::framework::current_test_case().p_name;
}

// ms milliseconds as a timeval.
inline timeval ms_tv(long ms) {
  timeval tv;
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (ms % 1000) * 1000;
  return tv;
}

// "At least N ms passed" check that holds whatever monotonic clock the
// library uses: the start is read from the coarse clock (never ahead of any
// monotonic reading taken later), the end from the precise one (never behind).
struct stopwatch {
  stopwatch() { ::clock_gettime(CLOCK_MONOTONIC_COARSE, &start); }
  long long elapsed_us() const {
    timespec now;
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - start.tv_sec) * 1000000LL + (now.tv_nsec - start.tv_nsec) / 1000;
  }
  timespec start;
};

// Runs base's loop until done() holds or ms milliseconds pass (a 5 ms
// ticker keeps EVLOOP_ONCE from blocking while nothing else is due).
// Returns done().
inline void loop_tick(evutil_socket_t, short, void*) {}
template <class Done>
bool loop_until(event_base* base, Done done, long ms = 3000) {
  event* tick = event_new(base, -1, EV_PERSIST, loop_tick, nullptr);
  const timeval tv = ms_tv(5);
  event_add(tick, &tv);
  stopwatch sw;
  while (!done() && sw.elapsed_us() < ms * 1000LL)
    event_base_loop(base, EVLOOP_ONCE);
  event_free(tick);
  return done();
}
// Runs base's loop for ms milliseconds (a second callback would show).
inline void loop_for(event_base* base, long ms) {
  loop_until(base, [] { return false; }, ms);
}

// ---- case fixtures ------------------------------------------------------------

// Every case under a safety alarm named after it (a hang fails the run,
// loudly), with SIGPIPE ignored. Seconds is per suite: what its slowest case
// needs on a loaded or sanitized build.
template <unsigned Seconds>
struct CaseAlarm {
  SafetyAlarm alarm{Seconds, current_test_name()};
  CaseAlarm() { ignore_sigpipe(); }
};

// A safety alarm and a fresh event_base as members, for suites whose cases
// all work on one base.
template <unsigned Seconds>
struct AlarmedBase {
  AlarmedBase() : alarm(Seconds, current_test_name()), base(event_base_new()) {
    BOOST_REQUIRE(base != nullptr);
  }
  ~AlarmedBase() { event_base_free(base); }
  AlarmedBase(const AlarmedBase&) = delete;
  AlarmedBase& operator=(const AlarmedBase&) = delete;

  SafetyAlarm alarm;
  event_base* base;
};

// CaseAlarm plus the fd count at the case's start, which it must come back
// to once its objects are freed (the fd-leak suites).
template <unsigned Seconds>
struct FdCountedCase {
  SafetyAlarm alarm{Seconds, current_test_name()};
  int fds_at_start = count_open_fds();
  FdCountedCase() {
    ignore_sigpipe();
    BOOST_TEST_REQUIRE(fds_at_start > 0);
  }
  int opened_since_start() const { return count_open_fds() - fds_at_start; }
  // Call once every object of the case is freed.
  void expect_no_fd_leak() { BOOST_TEST(count_open_fds() == fds_at_start); }
};

// evthread_use_pthreads() before any base is made (a global fixture, or a
// base of a case fixture that must come after the single-threaded cases).
struct UsePthreads {
  UsePthreads() {
    if (evthread_use_pthreads() != 0)
      throw std::runtime_error("evthread_use_pthreads failed");
  }
};

// ---- RAII over the C objects ---------------------------------------------------

// An event_base for one scope; free() ends it early.
struct Base {
  event_base* b = event_base_new();
  Base() { BOOST_TEST_REQUIRE(b != nullptr); }
  ~Base() {
    if (b)
      event_base_free(b);
  }
  Base(const Base&) = delete;
  Base& operator=(const Base&) = delete;
  void free() {
    event_base_free(b);
    b = nullptr;
  }
  operator event_base*() const { return b; }
};

// Frees the listener at scope exit unless released (declare it after the
// base it uses, so that it goes first).
struct Listener {
  evconnlistener* l = nullptr;
  Listener() = default;
  explicit Listener(evconnlistener* p) : l(p) {}
  ~Listener() { reset(); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  void reset(evconnlistener* p = nullptr) {
    if (l)
      evconnlistener_free(l);
    l = p;
  }
  evconnlistener* release() { return std::exchange(l, nullptr); }
  operator evconnlistener*() const { return l; }
};

// The address a listener is bound to.
inline Addr address_of(evconnlistener* l) { return local_address(evconnlistener_get_fd(l)); }

// ---- sockets and fd limits ------------------------------------------------------

// A connected AF_UNIX stream socketpair: `a` is ours (non-blocking, for a
// bufferevent or an event), `b` the plain peer (blocking unless asked).
struct socket_pair {
  explicit socket_pair(bool peer_nonblocking = false) {
    int s[2];
    BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s) == 0);
    a.reset(s[0]);
    b.reset(s[1]);
    BOOST_REQUIRE(::fcntl(s[0], F_SETFL, ::fcntl(s[0], F_GETFL) | O_NONBLOCK) == 0);
    if (peer_nonblocking)
      BOOST_REQUIRE(::fcntl(s[1], F_SETFL, ::fcntl(s[1], F_GETFL) | O_NONBLOCK) == 0);
  }
  Fd a, b;
};

// A connected loopback TCP pair: first is ours (non-blocking, for a
// bufferevent or a listener), second the peer (blocking).
inline std::pair<Fd, Fd> tcp_pair() {
  Fd l(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  BOOST_TEST_REQUIRE(l.valid());
  const Addr at = ipv4_loopback(0);
  BOOST_TEST_REQUIRE(::bind(l.get(), at.sa(), at.len) == 0);
  BOOST_TEST_REQUIRE(::listen(l.get(), 4) == 0);
  Fd peer = connect_to(local_address(l.get()));
  BOOST_TEST_REQUIRE(peer.valid());
  Fd ours(::accept4(l.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  BOOST_TEST_REQUIRE(ours.valid());
  return {std::move(ours), std::move(peer)};
}

// RLIMIT_NOFILE lowered to the lowest free fd number, so that no new fd can
// be made (every lower number is taken): accept() fails with EMFILE.
// Restored by restore() or on scope exit.
class NoMoreFds {
public:
  NoMoreFds() {
    BOOST_TEST_REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved_) == 0);
    const int lowest_free = ::fcntl(0, F_DUPFD_CLOEXEC, 0);
    BOOST_TEST_REQUIRE(lowest_free >= 0);
    ::close(lowest_free);
    rlimit low = saved_;
    low.rlim_cur = static_cast<rlim_t>(lowest_free);
    BOOST_TEST_REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
    lowered_ = true;
  }
  ~NoMoreFds() { restore(); }
  NoMoreFds(const NoMoreFds&) = delete;
  NoMoreFds& operator=(const NoMoreFds&) = delete;
  void restore() {
    if (lowered_)
      ::setrlimit(RLIMIT_NOFILE, &saved_);
    lowered_ = false;
  }

private:
  rlimit saved_{};
  bool lowered_ = false;
};

} // namespace nettest

#endif // EVASIO_TESTS_SUPPORT_FIXTURES_HPP_INCLUDED_

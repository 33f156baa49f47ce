// event_reinit (event2/event.h) after fork(): in the child, the base's
// events, signals, listeners and bufferevents work again, and what the
// child does leaves the parent's base alone. Each child reports through
// its exit status (0: all its checks held). The cases pass against real
// libevent too.
#define BOOST_TEST_MODULE event_reinit
#include <boost/test/unit_test.hpp>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "fixtures.hpp"

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

using namespace nettest;

namespace {

using Watchdog = CaseAlarm<30>;

// The child's exit status: 0 when body() returned 0, else its code (or 128
// + the signal that ended it).
template <class F>
int in_child(F body) {
  const pid_t pid = ::fork();
  BOOST_TEST_REQUIRE(pid >= 0);
  if (pid == 0) {
    ::alarm(10);  // a hung child fails the case instead of hanging it
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A connected pair of non-blocking Unix stream sockets.
struct Pair {
  int fd[2] = {-1, -1};
  Pair() {
    BOOST_TEST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fd) == 0);
    evutil_make_socket_nonblocking(fd[0]);
    evutil_make_socket_nonblocking(fd[1]);
  }
  ~Pair() {
    ::close(fd[0]);
    ::close(fd[1]);
  }
};

int calls = 0;
void count_cb(evutil_socket_t, short, void*) { ++calls; }
// Reads what came, so that a level-triggered event does not refire.
void drain_cb(evutil_socket_t fd, short, void*) {
  char buf[64];
  while (::read(fd, buf, sizeof buf) > 0) {
  }
  ++calls;
}

// Runs the base until one callback ran or ms passed; the callbacks run.
int run_for(event_base* base, long ms) {
  const int before = calls;
  const timeval tv = ms_tv(ms);
  event_base_loopexit(base, &tv);
  while (calls == before && !event_base_got_exit(base))
    if (event_base_loop(base, EVLOOP_ONCE) != 0)
      break;
  event_base_loopbreak(base);
  event_base_loop(base, EVLOOP_NONBLOCK);
  return calls - before;
}

// An event on a socket made before the fork, with a pending read.
struct ReadEvent {
  Pair pair;
  event* ev;
  explicit ReadEvent(event_base* base, short extra = 0)
      : ev(event_new(base, pair.fd[0], EV_READ | EV_PERSIST | extra, drain_cb, nullptr)) {
    event_add(ev, nullptr);
  }
  ~ReadEvent() { event_free(ev); }
  void poke() const { BOOST_TEST_REQUIRE(::write(pair.fd[1], "x", 1) == 1); }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(event_reinit_suite, Watchdog)

BOOST_AUTO_TEST_CASE(reinit_in_the_child_succeeds) {
  Base base;
  ReadEvent re(base);
  BOOST_TEST(in_child([&] { return event_reinit(base) == 0 ? 0 : 1; }) == 0);
}

BOOST_AUTO_TEST_CASE(an_fd_event_added_before_the_fork_fires_in_the_child) {
  Base base;
  ReadEvent re(base);
  const int code = in_child([&] {
    if (event_reinit(base) != 0)
      return 1;
    calls = 0;
    if (::write(re.pair.fd[1], "x", 1) != 1)
      return 2;
    return run_for(base, 3000) == 1 ? 0 : 3;
  });
  BOOST_TEST(code == 0);
}

BOOST_AUTO_TEST_CASE(an_edge_triggered_event_added_before_the_fork_fires_in_the_child) {
  Base base;
  ReadEvent re(base, EV_ET);
  const int code = in_child([&] {
    if (event_reinit(base) != 0)
      return 1;
    calls = 0;
    if (::write(re.pair.fd[1], "x", 1) != 1)
      return 2;
    return run_for(base, 3000) == 1 ? 0 : 3;
  });
  BOOST_TEST(code == 0);
}

BOOST_AUTO_TEST_CASE(events_added_in_the_child_fire_there) {
  Base base;
  ReadEvent re(base);
  const int code = in_child([&] {
    if (event_reinit(base) != 0)
      return 1;
    Pair p;
    event* ev = event_new(base, p.fd[0], EV_READ, drain_cb, nullptr);
    event_add(ev, nullptr);
    calls = 0;
    if (::write(p.fd[1], "y", 1) != 1)
      return 2;
    const int ran = run_for(base, 3000);
    event_free(ev);
    return ran == 1 ? 0 : 3;
  });
  BOOST_TEST(code == 0);
}

BOOST_AUTO_TEST_CASE(a_timer_fires_in_the_child) {
  Base base;
  ReadEvent re(base);
  const int code = in_child([&] {
    if (event_reinit(base) != 0)
      return 1;
    event* t = evtimer_new(base, count_cb, nullptr);
    const timeval tv = ms_tv(20);
    evtimer_add(t, &tv);
    calls = 0;
    const int ran = run_for(base, 3000);
    event_free(t);
    return ran == 1 ? 0 : 3;
  });
  BOOST_TEST(code == 0);
}

// The child's deletions and additions go to its own epoll set: without
// event_reinit they would change the set the parent waits on.
BOOST_AUTO_TEST_CASE(what_the_child_deletes_still_fires_in_the_parent) {
  Base base;
  ReadEvent re(base);
  event_base_loop(base, EVLOOP_NONBLOCK);  // registered with the kernel
  const int code = in_child([&] {
    if (event_reinit(base) != 0)
      return 1;
    event_del(re.ev);
    Pair p;
    event* ev = event_new(base, p.fd[0], EV_READ, drain_cb, nullptr);
    event_add(ev, nullptr);
    event_base_loop(base, EVLOOP_NONBLOCK);
    event_free(ev);
    return 0;
  });
  BOOST_TEST_REQUIRE(code == 0);
  calls = 0;
  re.poke();
  BOOST_TEST(run_for(base, 3000) == 1);
}

int signal_calls = 0;
void signal_cb(evutil_socket_t, short, void*) { ++signal_calls; }

BOOST_AUTO_TEST_CASE(a_signal_event_added_before_the_fork_fires_in_the_child) {
  Base base;
  event* sig = evsignal_new(base, SIGUSR1, signal_cb, nullptr);
  evsignal_add(sig, nullptr);
  const int code = in_child([&] {
    if (event_reinit(base) != 0)
      return 1;
    signal_calls = 0;
    ::kill(::getpid(), SIGUSR1);
    const timeval tv = ms_tv(3000);
    event_base_loopexit(base, &tv);
    while (signal_calls == 0 && !event_base_got_exit(base))
      event_base_loop(base, EVLOOP_ONCE);
    return signal_calls == 1 ? 0 : 3;
  });
  BOOST_TEST(code == 0);
  event_free(sig);
}

BOOST_AUTO_TEST_CASE(the_childs_signal_does_not_reach_the_parents_event) {
  Base base;
  event* sig = evsignal_new(base, SIGUSR2, signal_cb, nullptr);
  evsignal_add(sig, nullptr);
  event_base_loop(base, EVLOOP_NONBLOCK);
  const int code = in_child([&] {
    if (event_reinit(base) != 0)
      return 1;
    ::kill(::getpid(), SIGUSR2);
    event_base_loop(base, EVLOOP_NONBLOCK);
    return 0;
  });
  BOOST_TEST_REQUIRE(code == 0);
  signal_calls = 0;
  ::usleep(50000);
  event_base_loop(base, EVLOOP_NONBLOCK);
  BOOST_TEST(signal_calls == 0);
  ::kill(::getpid(), SIGUSR2);  // and the parent still gets its own
  const timeval tv = ms_tv(3000);
  event_base_loopexit(base, &tv);
  while (signal_calls == 0 && !event_base_got_exit(base))
    event_base_loop(base, EVLOOP_ONCE);
  BOOST_TEST(signal_calls == 1);
  event_free(sig);
}

int accepted = 0;
void accept_cb(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void*) {
  ++accepted;
  ::close(fd);
}

BOOST_AUTO_TEST_CASE(a_listener_made_before_the_fork_accepts_in_the_child) {
  Base base;
  const Addr at = ipv4_loopback(0);
  evconnlistener* lev = evconnlistener_new_bind(base, accept_cb, nullptr, LEV_OPT_CLOSE_ON_FREE, -1,
                                                at.sa(), at.ilen());
  BOOST_TEST_REQUIRE(lev != nullptr);
  const Addr bound = local_address(evconnlistener_get_fd(lev));
  const int code = in_child([&] {
    if (event_reinit(base) != 0)
      return 1;
    accepted = 0;
    Fd c = connect_to(bound);
    if (!c.valid())
      return 2;
    const timeval tv = ms_tv(3000);
    event_base_loopexit(base, &tv);
    while (accepted == 0 && !event_base_got_exit(base))
      event_base_loop(base, EVLOOP_ONCE);
    return accepted == 1 ? 0 : 3;
  });
  BOOST_TEST(code == 0);
  evconnlistener_free(lev);
}

int bev_reads = 0;
void bev_read_cb(bufferevent* bev, void*) {
  evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
  ++bev_reads;
}

BOOST_AUTO_TEST_CASE(a_bufferevent_made_before_the_fork_reads_in_the_child) {
  Base base;
  Pair p;
  bufferevent* bev = bufferevent_socket_new(base, p.fd[0], 0);
  BOOST_TEST_REQUIRE(bev != nullptr);
  bufferevent_setcb(bev, bev_read_cb, nullptr, nullptr, nullptr);
  bufferevent_enable(bev, EV_READ);
  event_base_loop(base, EVLOOP_NONBLOCK);
  const int code = in_child([&] {
    if (event_reinit(base) != 0)
      return 1;
    bev_reads = 0;
    if (::write(p.fd[1], "hello", 5) != 5)
      return 2;
    const timeval tv = ms_tv(3000);
    event_base_loopexit(base, &tv);
    while (bev_reads == 0 && !event_base_got_exit(base))
      event_base_loop(base, EVLOOP_ONCE);
    return bev_reads == 1 ? 0 : 3;
  });
  BOOST_TEST(code == 0);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(reinit_without_a_fork_keeps_the_events_working) {
  Base base;
  ReadEvent re(base);
  event_base_loop(base, EVLOOP_NONBLOCK);
  BOOST_TEST(event_reinit(base) == 0);
  calls = 0;
  re.poke();
  BOOST_TEST(run_for(base, 3000) == 1);
}

#ifdef EVASIO_VERSION
// libevent dereferences it.
BOOST_AUTO_TEST_CASE(reinit_of_a_null_base_is_refused) {
  errno = 0;
  BOOST_TEST(event_reinit(nullptr) == -1);
  BOOST_TEST(errno == EINVAL);
}
#endif

BOOST_AUTO_TEST_SUITE_END()

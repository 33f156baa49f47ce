// No fd leaks (issue #5): after a scenario's objects are freed, the process's
// open fds (entries of /proc/self/fd) are back to their count at its start;
// LEV_OPT_CLOSE_ON_FREE / BEV_OPT_CLOSE_ON_FREE close the socket exactly as
// libevent documents it, and without them the socket is still open (and the
// caller's to close) after the free. Every case checks the count at its end.
//
// Real loopback sockets; no mocks. Waits are bounded by a safety alarm.
#define BOOST_TEST_MODULE evasio_fd_hygiene
#include <boost/test/unit_test.hpp>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "fixtures.hpp"

#include <cstring>
#include <string>
#include <vector>

using namespace nettest;

namespace {

timeval ms(long n) {
  timeval tv{};
  tv.tv_sec = n / 1000;
  tv.tv_usec = (n % 1000) * 1000;
  return tv;
}

// Runs the loop for `n` ms (or until it has nothing left).
void run_for(event_base* base, long n) {
  const timeval tv = ms(n);
  event_base_loopexit(base, &tv);
  event_base_dispatch(base);
}

// A stream socket bound to 127.0.0.1 (ephemeral port), not yet listening.
Fd tcp_socket_bound() {
  Fd s = bound_socket(ipv4_loopback(0));
  BOOST_TEST_REQUIRE(s.valid(), "socket/bind: " << std::strerror(errno));
  return s;
}

void close_cb(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void*) { ::close(fd); }

// Keeps every accepted fd (the callback's to close: here, the test's).
struct Keeper {
  std::vector<Fd> fds;
  int wanted = 0;
};
void keep_cb(evconnlistener* lev, evutil_socket_t fd, sockaddr*, int, void* arg) {
  auto* k = static_cast<Keeper*>(arg);
  k->fds.emplace_back(fd);
  if (static_cast<int>(k->fds.size()) == k->wanted)
    event_base_loopbreak(evconnlistener_get_base(lev));
}

evconnlistener* bind_loopback(event_base* base, unsigned flags, evconnlistener_cb cb = close_cb,
                              void* arg = nullptr) {
  const Addr at = ipv4_loopback(0);
  evconnlistener* l = evconnlistener_new_bind(base, cb, arg, flags, -1, at.sa(), at.ilen());
  BOOST_TEST_REQUIRE(l != nullptr, "evconnlistener_new_bind: " << std::strerror(errno));
  return l;
}

using CaseFixture = FdCountedCase<60>;

} // namespace

BOOST_FIXTURE_TEST_SUITE(fd_hygiene, CaseFixture)

// ---- event_base ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(event_base_new_and_free_leave_the_fd_count_unchanged) {
  for (int i = 0; i < 20; ++i) {
    event_base* b = event_base_new();
    BOOST_TEST_REQUIRE(b != nullptr);
    BOOST_TEST(opened_since_start() > 0);  // the reactor's own fds
    event_base_free(b);
  }
  expect_no_fd_leak();
}

BOOST_AUTO_TEST_CASE(event_base_that_ran_timers_and_a_loop_frees_every_fd_it_made) {
  {
    Base base;
    run_for(base, 10);
  }
  expect_no_fd_leak();
}

// ---- evconnlistener ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(listener_new_bind_with_close_on_free_closes_its_socket_when_freed) {
  {
    Base base;
    evconnlistener* lev = bind_loopback(base, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE);
    const int fd = evconnlistener_get_fd(lev);
    BOOST_TEST(fd_is_open(fd));
    evconnlistener_free(lev);
    BOOST_TEST(!fd_is_open(fd));
  }
  expect_no_fd_leak();
}

BOOST_AUTO_TEST_CASE(listener_new_bind_without_close_on_free_leaves_its_socket_open_and_listening_for_the_caller) {
  {
    Base base;
    evconnlistener* lev = bind_loopback(base, LEV_OPT_REUSEABLE);
    const int fd = evconnlistener_get_fd(lev);
    evconnlistener_free(lev);
    // Still open, still listening, and ours to close.
    BOOST_TEST(fd_is_open(fd));
    BOOST_TEST(is_listening(fd));
    Fd c = connect_to(local_address(fd));
    BOOST_TEST(c.valid());
    BOOST_TEST(::close(fd) == 0);
  }
  expect_no_fd_leak();
}

BOOST_AUTO_TEST_CASE(listener_new_with_close_on_free_closes_the_given_socket_when_freed) {
  {
    Base base;
    Fd s = tcp_socket_bound();
    const int fd = s.get();
    evconnlistener* lev = evconnlistener_new(base, close_cb, nullptr, LEV_OPT_CLOSE_ON_FREE, -1, fd);
    BOOST_TEST_REQUIRE(lev != nullptr);
    s.release();  // the listener owns it now
    evconnlistener_free(lev);
    BOOST_TEST(!fd_is_open(fd));
  }
  expect_no_fd_leak();
}

BOOST_AUTO_TEST_CASE(listener_new_without_close_on_free_leaves_the_given_socket_open_and_listening) {
  {
    Base base;
    Fd s = tcp_socket_bound();
    evconnlistener* lev = evconnlistener_new(base, close_cb, nullptr, 0, -1, s.get());
    BOOST_TEST_REQUIRE(lev != nullptr);
    evconnlistener_free(lev);
    BOOST_TEST(fd_is_open(s.get()));
    BOOST_TEST(is_listening(s.get()));
    // Still usable by its owner: it accepts.
    Fd c = connect_to(local_address(s.get()));
    BOOST_TEST_REQUIRE(c.valid());
    Fd a(::accept4(s.get(), nullptr, nullptr, SOCK_CLOEXEC));
    BOOST_TEST(a.valid());
  }  // s closes it
  expect_no_fd_leak();
}

BOOST_AUTO_TEST_CASE(af_unix_listener_with_close_on_free_closes_its_socket_and_without_leaves_it_open) {
  {
    Base base;
    TempSocketPath p1("closing"), p2("keeping");
    const Addr a1 = p1.addr(), a2 = p2.addr();
    evconnlistener* closing =
        evconnlistener_new_bind(base, close_cb, nullptr, LEV_OPT_CLOSE_ON_FREE, -1, a1.sa(), a1.ilen());
    evconnlistener* keeping = evconnlistener_new_bind(base, close_cb, nullptr, 0, -1, a2.sa(), a2.ilen());
    BOOST_TEST_REQUIRE(closing != nullptr);
    BOOST_TEST_REQUIRE(keeping != nullptr);
    const int fd1 = evconnlistener_get_fd(closing), fd2 = evconnlistener_get_fd(keeping);
    evconnlistener_free(closing);
    evconnlistener_free(keeping);
    BOOST_TEST(!fd_is_open(fd1));
    BOOST_TEST(fd_is_open(fd2));
    BOOST_TEST(is_listening(fd2));
    ::close(fd2);
  }
  expect_no_fd_leak();
}

BOOST_AUTO_TEST_CASE(listener_freed_with_connections_waiting_in_its_backlog_leaks_no_fd) {
  {
    Base base;
    const int with_base = count_open_fds();
    evconnlistener* lev = bind_loopback(base, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_DISABLED);
    std::vector<Fd> clients;
    for (int i = 0; i < 10; ++i)
      clients.push_back(connect_to(local_address(evconnlistener_get_fd(lev))));
    BOOST_TEST_REQUIRE(wait_readable(evconnlistener_get_fd(lev)));
    evconnlistener_free(lev);  // never accepted: nothing to hand over
    BOOST_TEST(count_open_fds() == with_base + 10);  // the clients only
    // They were reset with the listening socket.
    for (Fd& c : clients) {
      char b;
      BOOST_TEST(wait_readable(c.get()));
      BOOST_TEST(::recv(c.get(), &b, 1, 0) <= 0);
    }
    clients.clear();
  }
  expect_no_fd_leak();
}

BOOST_AUTO_TEST_CASE(accepted_sockets_belong_to_the_callback_and_the_listener_keeps_no_copy) {
  {
    Base base;
    Keeper k;
    k.wanted = 20;
    evconnlistener* lev = bind_loopback(base, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, keep_cb, &k);
    std::vector<Fd> clients;
    for (int i = 0; i < k.wanted; ++i)
      clients.push_back(connect_to(local_address(evconnlistener_get_fd(lev))));
    const int before_accepts = count_open_fds();
    run_for(base, 5000);
    BOOST_TEST_REQUIRE(static_cast<int>(k.fds.size()) == k.wanted);
    // Exactly one new fd per accepted connection.
    BOOST_TEST(count_open_fds() == before_accepts + k.wanted);
    evconnlistener_free(lev);
    // The accepted sockets outlive the listener: still open and connected.
    for (Fd& a : k.fds) {
      BOOST_TEST(fd_is_open(a.get()));
      BOOST_TEST(::send(a.get(), "x", 1, MSG_NOSIGNAL) == 1);
    }
  }
  expect_no_fd_leak();
}

BOOST_AUTO_TEST_CASE(listener_with_close_on_exec_makes_its_socket_and_accepted_sockets_close_on_exec) {
  {
    Base base;
    Keeper k;
    k.wanted = 1;
    evconnlistener* lev =
        bind_loopback(base, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, keep_cb, &k);
    BOOST_TEST(fd_is_cloexec(evconnlistener_get_fd(lev)));
    Fd c = connect_to(local_address(evconnlistener_get_fd(lev)));
    run_for(base, 5000);
    BOOST_TEST_REQUIRE(k.fds.size() == 1u);
    BOOST_TEST(fd_is_cloexec(k.fds[0].get()));
    evconnlistener_free(lev);
  }
  expect_no_fd_leak();
}

BOOST_AUTO_TEST_CASE(failed_new_bind_leaks_no_fd) {
  {
    Base base;
    // The port is taken by a listening socket (no SO_REUSEPORT): EADDRINUSE.
    Fd taken = tcp_socket_bound();
    BOOST_TEST_REQUIRE(::listen(taken.get(), 1) == 0);
    const Addr busy = local_address(taken.get());
    const int before = count_open_fds();
    for (unsigned flags : {0u, unsigned(LEV_OPT_CLOSE_ON_FREE), unsigned(LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE)}) {
      errno = 0;
      evconnlistener* lev = evconnlistener_new_bind(base, close_cb, nullptr, flags, -1, busy.sa(), busy.ilen());
      BOOST_TEST(lev == nullptr);
      BOOST_TEST(errno == EADDRINUSE);
      BOOST_TEST(count_open_fds() == before);
    }
    // An address of the wrong length for its family: EINVAL from bind().
    const Addr short_one = ipv4_loopback(0);
    BOOST_TEST(evconnlistener_new_bind(base, close_cb, nullptr, LEV_OPT_CLOSE_ON_FREE, -1, short_one.sa(), 8) ==
               nullptr);
    BOOST_TEST(count_open_fds() == before);
  }
  expect_no_fd_leak();
}

// ---- bufferevent -----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(bufferevent_with_close_on_free_closes_its_socket_when_freed) {
  {
    Base base;
    auto [ours, peer] = tcp_pair();
    const int fd = ours.release();
    bufferevent* bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    BOOST_TEST_REQUIRE(bev != nullptr);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    bufferevent_write(bev, "pending", 7);  // output still queued: dropped, not leaked
    bufferevent_free(bev);
    BOOST_TEST(!fd_is_open(fd));
    // The peer sees the connection end.
    char b[16];
    BOOST_TEST(wait_readable(peer.get()));
    ssize_t r;
    while ((r = ::recv(peer.get(), b, sizeof b, 0)) > 0) {
    }
    BOOST_TEST(r == 0);
  }
  expect_no_fd_leak();
}

BOOST_AUTO_TEST_CASE(bufferevent_without_close_on_free_leaves_its_socket_open_for_the_caller) {
  {
    Base base;
    auto [ours, peer] = tcp_pair();
    bufferevent* bev = bufferevent_socket_new(base, ours.get(), 0);
    BOOST_TEST_REQUIRE(bev != nullptr);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    run_for(base, 10);
    bufferevent_free(bev);
    BOOST_TEST(fd_is_open(ours.get()));
    // Still connected and usable by its owner.
    BOOST_TEST(::send(ours.get(), "y", 1, MSG_NOSIGNAL) == 1);
    char b = 0;
    BOOST_TEST(wait_readable(peer.get()));
    BOOST_TEST(::recv(peer.get(), &b, 1, 0) == 1);
    BOOST_TEST(b == 'y');
  }  // ours closes it
  expect_no_fd_leak();
}

struct ConnectProbe {
  short what = 0;
};
void connect_event_cb(bufferevent* bev, short what, void* arg) {
  static_cast<ConnectProbe*>(arg)->what = what;
  event_base_loopbreak(bufferevent_get_base(bev));
}

BOOST_AUTO_TEST_CASE(bufferevent_socket_connect_with_close_on_free_closes_the_socket_it_made) {
  {
    Base base;
    evconnlistener* lev = bind_loopback(base, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE);
    const Addr to = local_address(evconnlistener_get_fd(lev));
    bufferevent* bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    BOOST_TEST_REQUIRE(bev != nullptr);
    ConnectProbe p;
    bufferevent_setcb(bev, nullptr, nullptr, connect_event_cb, &p);
    BOOST_TEST_REQUIRE(bufferevent_socket_connect(bev, to.sa(), to.ilen()) == 0);
    const int fd = bufferevent_getfd(bev);
    BOOST_TEST(fd >= 0);
    run_for(base, 5000);
    BOOST_TEST((p.what & BEV_EVENT_CONNECTED) != 0);
    bufferevent_free(bev);
    BOOST_TEST(!fd_is_open(fd));
    evconnlistener_free(lev);
  }
  expect_no_fd_leak();
}

BOOST_AUTO_TEST_CASE(bufferevent_socket_connect_without_close_on_free_leaves_the_socket_it_made_open) {
  {
    Base base;
    evconnlistener* lev = bind_loopback(base, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE);
    const Addr to = local_address(evconnlistener_get_fd(lev));
    bufferevent* bev = bufferevent_socket_new(base, -1, 0);
    BOOST_TEST_REQUIRE(bev != nullptr);
    ConnectProbe p;
    bufferevent_setcb(bev, nullptr, nullptr, connect_event_cb, &p);
    BOOST_TEST_REQUIRE(bufferevent_socket_connect(bev, to.sa(), to.ilen()) == 0);
    const int fd = bufferevent_getfd(bev);
    run_for(base, 5000);
    BOOST_TEST((p.what & BEV_EVENT_CONNECTED) != 0);
    bufferevent_free(bev);
    // As libevent: without BEV_OPT_CLOSE_ON_FREE even the socket that
    // bufferevent_socket_connect made is left open, the caller's to close.
    BOOST_TEST(fd_is_open(fd));
    BOOST_TEST(::close(fd) == 0);
    evconnlistener_free(lev);
  }
  expect_no_fd_leak();
}

BOOST_AUTO_TEST_CASE(bufferevent_socket_connect_refused_then_freed_leaks_no_fd) {
  {
    Base base;
    Fd not_listening = tcp_socket_bound();
    const Addr to = local_address(not_listening.get());
    for (int i = 0; i < 10; ++i) {
      bufferevent* bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
      BOOST_TEST_REQUIRE(bev != nullptr);
      ConnectProbe p;
      bufferevent_setcb(bev, nullptr, nullptr, connect_event_cb, &p);
      BOOST_TEST_REQUIRE(bufferevent_socket_connect(bev, to.sa(), to.ilen()) == 0);
      run_for(base, 5000);
      BOOST_TEST((p.what & BEV_EVENT_ERROR) != 0);
      bufferevent_free(bev);
    }
  }
  expect_no_fd_leak();
}

BOOST_AUTO_TEST_CASE(bufferevent_socket_connect_failing_at_once_closes_the_socket_it_made) {
  {
    Base base;
    const int before = count_open_fds();
    for (int options : {0, int(BEV_OPT_CLOSE_ON_FREE)}) {
      bufferevent* bev = bufferevent_socket_new(base, -1, options);
      BOOST_TEST_REQUIRE(bev != nullptr);
      // An IPv4 address cut short: connect() fails at once (EINVAL).
      const Addr to = ipv4_loopback(9);
      BOOST_TEST(bufferevent_socket_connect(bev, to.sa(), 4) == -1);
      BOOST_TEST(bufferevent_getfd(bev) == -1);
      BOOST_TEST(count_open_fds() == before);
      bufferevent_free(bev);
    }
  }
  expect_no_fd_leak();
}

BOOST_AUTO_TEST_CASE(bufferevent_setfd_leaves_the_previous_socket_open) {
  {
    Base base;
    auto [a, pa] = tcp_pair();
    auto [b, pb] = tcp_pair();
    bufferevent* bev = bufferevent_socket_new(base, a.get(), BEV_OPT_CLOSE_ON_FREE);
    BOOST_TEST_REQUIRE(bev != nullptr);
    BOOST_TEST(bufferevent_setfd(bev, b.release()) == 0);
    BOOST_TEST(fd_is_open(a.get()));  // as libevent: not closed by setfd
    const int fd_b = bufferevent_getfd(bev);
    bufferevent_free(bev);  // closes the current one
    BOOST_TEST(!fd_is_open(fd_b));
    BOOST_TEST(fd_is_open(a.get()));
  }
  expect_no_fd_leak();
}

// ---- event_base freed first -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(event_base_freed_first_its_listener_and_bufferevent_close_on_free_when_freed_later) {
  {
    Base base;
    evconnlistener* lev = bind_loopback(base, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE);
    auto [ours, peer] = tcp_pair();
    const int bev_fd = ours.release();
    bufferevent* bev = bufferevent_socket_new(base, bev_fd, BEV_OPT_CLOSE_ON_FREE);
    BOOST_TEST_REQUIRE(bev != nullptr);
    bufferevent_enable(bev, EV_READ);
    const int lev_fd = evconnlistener_get_fd(lev);
    base.free();
    // Detached, not closed: the objects still own their sockets.
    BOOST_TEST(fd_is_open(lev_fd));
    BOOST_TEST(fd_is_open(bev_fd));
    evconnlistener_free(lev);
    bufferevent_free(bev);
    BOOST_TEST(!fd_is_open(lev_fd));
    BOOST_TEST(!fd_is_open(bev_fd));
  }
  expect_no_fd_leak();
}

BOOST_AUTO_TEST_CASE(event_base_freed_first_its_listener_and_bufferevent_without_close_on_free_leave_their_sockets_open) {
  {
    Base base;
    evconnlistener* lev = bind_loopback(base, LEV_OPT_REUSEABLE);
    auto [ours, peer] = tcp_pair();
    bufferevent* bev = bufferevent_socket_new(base, ours.get(), 0);
    BOOST_TEST_REQUIRE(bev != nullptr);
    bufferevent_enable(bev, EV_READ);
    const int lev_fd = evconnlistener_get_fd(lev);
    base.free();
    evconnlistener_free(lev);
    bufferevent_free(bev);
    BOOST_TEST(fd_is_open(lev_fd));
    BOOST_TEST(fd_is_open(ours.get()));
    ::close(lev_fd);
  }
  expect_no_fd_leak();
}

// ---- a whole echo service --------------------------------------------------------------

struct EchoServer {
  int open = 0;
  int served = 0;
  int expected = 0;
};

void echo_read_cb(bufferevent* bev, void*) {
  evbuffer_add_buffer(bufferevent_get_output(bev), bufferevent_get_input(bev));
}

void echo_event_cb(bufferevent* bev, short what, void* arg) {
  auto* s = static_cast<EchoServer*>(arg);
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
    bufferevent_free(bev);
    --s->open;
    if (++s->served == s->expected)
      event_base_loopbreak(bufferevent_get_base(bev));
  }
}

void echo_accept_cb(evconnlistener* lev, evutil_socket_t fd, sockaddr*, int, void* arg) {
  bufferevent* bev = bufferevent_socket_new(evconnlistener_get_base(lev), fd, BEV_OPT_CLOSE_ON_FREE);
  if (!bev) {
    ::close(fd);
    return;
  }
  ++static_cast<EchoServer*>(arg)->open;
  bufferevent_setcb(bev, echo_read_cb, nullptr, echo_event_cb, arg);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
}

BOOST_AUTO_TEST_CASE(echo_connections_freed_on_eof_or_reset_leak_no_fd) {
  {
    Base base;
    EchoServer server;
    server.expected = 40;
    evconnlistener* lev = bind_loopback(base, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, echo_accept_cb, &server);
    const Addr to = local_address(evconnlistener_get_fd(lev));
    std::vector<Fd> clients;
    for (int i = 0; i < server.expected; ++i) {
      clients.push_back(connect_to(to));
      BOOST_TEST_REQUIRE(clients.back().valid());
      BOOST_TEST_REQUIRE(::send(clients.back().get(), "ping", 4, MSG_NOSIGNAL) == 4);
    }
    // Half end with a FIN, half with an RST.
    for (int i = 0; i < server.expected; ++i) {
      if (i % 2) {
        linger lg{1, 0};
        ::setsockopt(clients[static_cast<size_t>(i)].get(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
      }
      clients[static_cast<size_t>(i)].reset();
    }
    run_for(base, 10000);
    BOOST_TEST(server.served == server.expected);
    BOOST_TEST(server.open == 0);
    evconnlistener_free(lev);
  }
  expect_no_fd_leak();
}

BOOST_AUTO_TEST_SUITE_END()

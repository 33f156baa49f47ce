// Thread-safe objects (BEV_OPT_THREADSAFE, LEV_OPT_THREADSAFE) on a base
// made WITHOUT evthread_use_pthreads(). That call is process-wide and
// sticky, so this suite has its own executable and never makes it.
//
// libevent 2.1.12 refuses a thread-safe bufferevent there (no lock
// functions: bufferevent_socket_new returns NULL); evasio locks such objects
// anyway, and its base then locks its object list and epoll set too, so that
// other threads may make, enable, disable, write and free them while the
// loop runs. Against real libevent only the refusal is checked.
#define BOOST_TEST_MODULE threadsafe_objects
#include <boost/test/unit_test.hpp>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "fixtures.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using nettest::Fd;

struct case_fixture : nettest::CaseAlarm<120> {};

#ifdef EVASIO_VERSION

bool send_all(int fd, const std::string& s) { return nettest::write_all(fd, s.data(), s.size()); }

// The loop's side: a thread-safe listener whose connections are echoed by
// thread-safe bufferevents, freed by their event callback at the end.
struct echo_server {
  explicit echo_server(event_base* b) : base(b) {
    const nettest::Addr at = nettest::ipv4_loopback(0);
    lev = evconnlistener_new_bind(base, &echo_server::on_accept, this,
                                  LEV_OPT_THREADSAFE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 64,
                                  at.sa(), at.ilen());
    BOOST_REQUIRE(lev != nullptr);
    addr = nettest::local_address(evconnlistener_get_fd(lev));
  }
  static void on_accept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* arg) {
    auto* self = static_cast<echo_server*>(arg);
    bufferevent* bev =
        bufferevent_socket_new(self->base, fd, BEV_OPT_THREADSAFE | BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
      ::close(fd);
      return;
    }
    {
      std::lock_guard<std::mutex> g(self->mutex);
      self->live.insert(bev);
    }
    bufferevent_setcb(bev, &echo_server::on_read, nullptr, &echo_server::on_event, self);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
  }
  static void on_read(bufferevent* bev, void*) {
    bufferevent_write_buffer(bev, bufferevent_get_input(bev));
  }
  static void on_event(bufferevent* bev, short what, void* arg) {
    auto* self = static_cast<echo_server*>(arg);
    if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
      return;
    {
      std::lock_guard<std::mutex> g(self->mutex);
      self->live.erase(bev);
    }
    bufferevent_free(bev);
  }
  size_t live_count() {
    std::lock_guard<std::mutex> g(mutex);
    return live.size();
  }
  void free_survivors() {
    for (bufferevent* bev : live)
      bufferevent_free(bev);
    live.clear();
  }

  event_base* base;
  evconnlistener* lev = nullptr;
  nettest::Addr addr;
  std::mutex mutex;
  std::set<bufferevent*> live;
};

// Clients of the echo server: each connection sends, gets its bytes back,
// closes. Returns how many came back whole.
int run_clients(const nettest::Addr& to, int n) {
  int whole = 0;
  const std::string msg(1000, 'e');
  for (int i = 0; i < n; ++i) {
    Fd c = nettest::connect_to(to);
    if (!c.valid() || !send_all(c.get(), msg))
      continue;
    std::string back(msg.size(), '\0');
    if (nettest::read_exact(c.get(), &back[0], back.size()) && back == msg)
      ++whole;
  }
  return whole;
}

// Thread-safe bufferevents made, used and freed by this thread while the
// loop serves them. Returns how many delivered their write.
int churn_bufferevents(event_base* base, int n) {
  int delivered = 0;
  for (int i = 0; i < n; ++i) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
      continue;
    Fd peer(sv[1]);
    evutil_make_socket_nonblocking(sv[0]);
    bufferevent* bev = bufferevent_socket_new(base, sv[0], BEV_OPT_THREADSAFE | BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
      ::close(sv[0]);
      continue;
    }
    bufferevent_setcb(bev, &echo_server::on_read, nullptr, nullptr, nullptr);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    bufferevent_write(bev, "ping", 4);
    send_all(peer.get(), "echo me");
    char got[4];
    if (nettest::read_exact(peer.get(), got, sizeof got) && std::string(got, 4) == "ping")
      ++delivered;
    bufferevent_disable(bev, EV_READ);
    bufferevent_enable(bev, EV_READ);
    if (i % 2)
      bufferevent_disable(bev, EV_READ | EV_WRITE);
    bufferevent_free(bev);  // the loop may be inside its callback right now
  }
  return delivered;
}

// Thread-safe listeners made, toggled and freed by this thread.
int churn_listeners(event_base* base, int n) {
  int made = 0;
  const nettest::Addr at = nettest::ipv4_loopback(0);
  for (int i = 0; i < n; ++i) {
    evconnlistener* l = evconnlistener_new_bind(
        base, [](evconnlistener*, evutil_socket_t fd, sockaddr*, int, void*) { ::close(fd); }, nullptr,
        LEV_OPT_THREADSAFE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 8, at.sa(), at.ilen());
    if (!l)
      continue;
    ++made;
    evconnlistener_disable(l);
    evconnlistener_enable(l);
    evconnlistener_free(l);
  }
  return made;
}

#endif

} // namespace

BOOST_FIXTURE_TEST_SUITE(threadsafe_objects, case_fixture)

#ifdef EVASIO_VERSION

BOOST_AUTO_TEST_CASE(threadsafe_bufferevents_and_listeners_on_a_base_without_evthread_survive_other_threads) {
  event_base* base = event_base_new();
  BOOST_REQUIRE(base != nullptr);
  echo_server server(base);  // the first thread-safe object: before the loop runs
  event* keepalive = event_new(base, -1, EV_PERSIST, [](evutil_socket_t, short, void*) {}, nullptr);
  timeval hour{3600, 0};
  event_add(keepalive, &hour);
  std::thread loop([&] { event_base_dispatch(base); });

  constexpr int kClients = 150, kBevs = 150, kListeners = 60, kToggles = 400;
  std::atomic<bool> clients_done{false};
  int echoed = 0, delivered = 0, listeners = 0;
  std::thread clients([&] {
    echoed = run_clients(server.addr, kClients);
    clients_done = true;
  });
  std::thread bevs([&] { delivered = churn_bufferevents(base, kBevs); });
  std::thread lists([&] { listeners = churn_listeners(base, kListeners); });
  std::thread toggler([&] {
    // Connections wait in the backlog while the listener is off.
    for (int i = 0; i < kToggles && !clients_done; ++i) {
      evconnlistener_disable(server.lev);
      std::this_thread::yield();
      evconnlistener_enable(server.lev);
    }
  });
  toggler.join();
  clients.join();
  bevs.join();
  lists.join();
  // Each echo connection's EOF frees its bufferevent (the alarm bounds this).
  while (server.live_count() > 0)
    ::usleep(1000);
  event_base_loopbreak(base);
  loop.join();

  BOOST_TEST(echoed == kClients);
  BOOST_TEST(delivered == kBevs);
  BOOST_TEST(listeners == kListeners);
  server.free_survivors();
  evconnlistener_free(server.lev);
  event_free(keepalive);
  event_base_free(base);
}

BOOST_AUTO_TEST_CASE(a_threadsafe_bufferevent_made_after_plain_ones_is_freed_from_another_thread_safely) {
  // The base has an epoll set already (made for a plain bufferevent) when
  // the first thread-safe object comes: that set must lock from then on.
  event_base* base = event_base_new();
  BOOST_REQUIRE(base != nullptr);
  int plain_pair[2];
  BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, plain_pair) == 0);
  Fd plain_peer(plain_pair[1]);
  bufferevent* plain = bufferevent_socket_new(base, plain_pair[0], BEV_OPT_CLOSE_ON_FREE);
  BOOST_REQUIRE(plain != nullptr);
  bufferevent_setcb(plain, &echo_server::on_read, nullptr, nullptr, nullptr);
  bufferevent_enable(plain, EV_READ);
  echo_server server(base);
  event* keepalive = event_new(base, -1, EV_PERSIST, [](evutil_socket_t, short, void*) {}, nullptr);
  timeval hour{3600, 0};
  event_add(keepalive, &hour);
  std::thread loop([&] { event_base_dispatch(base); });
  int delivered = 0;
  std::thread bevs([&] { delivered = churn_bufferevents(base, 100); });
  const std::string msg(5000, 'p');
  BOOST_TEST(send_all(plain_peer.get(), msg));  // the loop echoes the plain one meanwhile
  std::string back(msg.size(), '\0');
  BOOST_TEST(nettest::read_exact(plain_peer.get(), &back[0], back.size()));
  bevs.join();
  event_base_loopbreak(base);
  loop.join();
  BOOST_TEST(delivered == 100);
  BOOST_TEST((back == msg));
  bufferevent_free(plain);
  evconnlistener_free(server.lev);
  event_free(keepalive);
  event_base_free(base);
}

#else

BOOST_AUTO_TEST_CASE(without_evthread_libevent_refuses_a_threadsafe_bufferevent) {
  event_base* base = event_base_new();
  BOOST_REQUIRE(base != nullptr);
  BOOST_TEST(bufferevent_socket_new(base, -1, BEV_OPT_THREADSAFE) == nullptr);
  event_base_free(base);
}

#endif

BOOST_AUTO_TEST_SUITE_END()

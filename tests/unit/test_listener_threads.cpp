// evconnlistener with LEV_OPT_THREADSAFE, driven from a second thread while
// the loop runs (evthread_use_pthreads() first, as threaded libevent code
// does). The two cases inside #ifdef EVASIO_VERSION are evasio's own
// guarantee: real libevent 2.1.12 deadlocks on them (its issue 1224).
#define BOOST_TEST_MODULE evconnlistener_threads
#include <boost/test/unit_test.hpp>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <event2/util.h>

#include "fixtures.hpp"

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using namespace nettest;
using std::chrono::seconds;

namespace {

using Watchdog = CaseAlarm<30>;

// Generous bound for a handshake step: only reached when something is broken.
constexpr seconds step_bound{5};

// Shared between the loop thread (callbacks) and the controlling thread.
struct Shared {
  std::mutex m;
  std::condition_variable cv;
  // loop side
  bool loop_running = false;
  int calls = 0;
  int calls_after_op = 0;  // callbacks that started after the op returned
  bool in_first_cb = false;
  bool cb_saw_op_return = false;  // the op returned while the callback ran
  bool hold_first_cb = false;     // first callback waits for the op to return
  int break_at = 0;               // loopbreak when calls reaches it
  std::set<std::thread::id> cb_threads;
  std::vector<Fd> conns;
  std::set<unsigned> peer_ports;
  // controller side
  bool op_started = false;
  bool op_returned = false;

  template <class Pred>
  bool wait(std::unique_lock<std::mutex>& g, Pred pred) {
    return cv.wait_for(g, step_bound, pred);
  }
};

void shared_cb(evconnlistener* lev, evutil_socket_t fd, sockaddr* sa, int socklen, void* arg) {
  auto* s = static_cast<Shared*>(arg);
  std::unique_lock<std::mutex> g(s->m);
  ++s->calls;
  if (s->op_returned)
    ++s->calls_after_op;
  s->cb_threads.insert(std::this_thread::get_id());
  s->conns.emplace_back(fd);
  if (sa && sa->sa_family == AF_INET && socklen >= static_cast<int>(sizeof(sockaddr_in)))
    s->peer_ports.insert(ntohs(reinterpret_cast<const sockaddr_in*>(sa)->sin_port));
  if (s->hold_first_cb && s->calls == 1) {
    s->in_first_cb = true;
    s->cv.notify_all();
    s->cb_saw_op_return = s->wait(g, [s] { return s->op_returned; });
  }
  if (s->break_at && s->calls == s->break_at)
    event_base_loopbreak(evconnlistener_get_base(lev));
}

void mark_loop_running(evutil_socket_t, short, void* arg) {
  auto* s = static_cast<Shared*>(arg);
  std::lock_guard<std::mutex> g(s->m);
  s->loop_running = true;
  s->cv.notify_all();
}

// Schedules mark_loop_running as the loop's first callback.
void announce_loop_start(event_base* base, Shared& s) {
  const timeval zero{0, 0};
  BOOST_TEST_REQUIRE(event_base_once(base, -1, EV_TIMEOUT, mark_loop_running, &s, &zero) == 0);
}

evconnlistener* threadsafe_listener(event_base* base, Shared* s, unsigned flags = 0,
                                    evconnlistener_cb cb = shared_cb) {
  const Addr at = ipv4_loopback(0);
  return evconnlistener_new_bind(base, cb, s, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_THREADSAFE | flags,
                                 -1, at.sa(), at.ilen());
}

std::vector<Fd> queued_clients(evconnlistener* l, int n) {
  const Addr where = local_address(evconnlistener_get_fd(l));
  std::vector<Fd> v;
  for (int i = 0; i < n; ++i) {
    v.push_back(connect_to(where));
    BOOST_TEST_REQUIRE(v.back().valid(), "connect: " << std::strerror(errno));
  }
  BOOST_TEST_REQUIRE(wait_readable(evconnlistener_get_fd(l)));
  return v;
}

std::set<unsigned> client_ports(const std::vector<Fd>& clients) {
  std::set<unsigned> s;
  for (const Fd& c : clients)
    s.insert(local_address(c.get()).port());
  return s;
}

// Runs `op` on another thread once the first accept callback is running;
// the callback stays inside until op has returned (bounded). Returns
// dispatch's result; `s` tells what happened.
int run_op_during_first_callback(event_base* base, Shared& s,
                                 const std::function<void()>& op) {
  s.hold_first_cb = true;
  std::thread controller([&] {
    std::unique_lock<std::mutex> g(s.m);
    if (!s.wait(g, [&] { return s.in_first_cb; }))
      return;
    s.op_started = true;
    g.unlock();
    op();
    g.lock();
    s.op_returned = true;
    s.cv.notify_all();
  });
  const int rc = event_base_dispatch(base);
  controller.join();
  return rc;
}

} // namespace

BOOST_TEST_GLOBAL_FIXTURE(UsePthreads);

BOOST_FIXTURE_TEST_SUITE(listener_threads, Watchdog)

// Each disables itself once it has had its count.
struct Countdown {
  int left;
};
void countdown_cb(evconnlistener* lev, evutil_socket_t fd, sockaddr*, int, void* arg) {
  Fd close_me(fd);
  auto* c = static_cast<Countdown*>(arg);
  if (--c->left == 0)
    evconnlistener_disable(lev);
}

BOOST_AUTO_TEST_CASE(two_locked_listeners_each_disabling_itself_after_its_count_let_dispatch_return_1) {
  Base base;
  Countdown a{2}, b{1};
  const Addr at = ipv4_loopback(0);
  const unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_THREADSAFE;
  Listener la(evconnlistener_new_bind(base, countdown_cb, &a, flags, -1, at.sa(), at.ilen()));
  Listener lb(evconnlistener_new_bind(base, countdown_cb, &b, flags, -1, at.sa(), at.ilen()));
  BOOST_TEST_REQUIRE(la.l != nullptr);
  BOOST_TEST_REQUIRE(lb.l != nullptr);
  const Addr aa = local_address(evconnlistener_get_fd(la));
  const Addr ab = local_address(evconnlistener_get_fd(lb));
  Fd c1 = connect_to(aa), c2 = connect_to(aa), c3 = connect_to(ab);
  BOOST_TEST_REQUIRE((c1.valid() && c2.valid() && c3.valid()));
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(a.left == 0);
  BOOST_TEST(b.left == 0);
}

#ifdef EVASIO_VERSION
// libevent issue 1224: real libevent 2.1.12 deadlocks here (the disabling
// thread holds the listener lock and waits in event_del for the running
// callback, which cannot take the lock back).
BOOST_AUTO_TEST_CASE(disable_from_another_thread_while_the_callback_runs_returns_without_deadlock) {
  Base base;
  Shared s;
  Listener l(threadsafe_listener(base, &s));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  std::vector<Fd> clients = queued_clients(l, 3);
  int disable_rc = -2;
  const int rc = run_op_during_first_callback(base, s, [&] { disable_rc = evconnlistener_disable(l); });
  BOOST_TEST(s.op_started);
  BOOST_TEST(s.cb_saw_op_return);  // disable returned while the callback still ran
  BOOST_TEST(disable_rc == 0);
  BOOST_TEST(rc == 1);  // the disabled listener left nothing pending
}

BOOST_AUTO_TEST_CASE(no_callback_starts_after_disable_from_another_thread_returned) {
  Base base;
  Shared s;
  Listener l(threadsafe_listener(base, &s));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  std::vector<Fd> clients = queued_clients(l, 3);
  run_op_during_first_callback(base, s, [&] { evconnlistener_disable(l); });
  BOOST_TEST(s.op_returned);
  BOOST_TEST_REQUIRE(s.calls == 1);
  BOOST_TEST(s.calls_after_op == 0);
  // The two others stayed queued and come, once each, after enable.
  s.break_at = 3;
  BOOST_TEST(evconnlistener_enable(l) == 0);
  BOOST_TEST(event_base_dispatch(base) == 0);
  BOOST_TEST(s.calls == 3);
  BOOST_TEST((s.peer_ports == client_ports(clients)));
}

#endif

// Real libevent passes these two: the callback holds a reference, and
// neither call waits for the running callback.
BOOST_AUTO_TEST_CASE(free_from_another_thread_while_the_callback_runs_returns_and_no_callback_follows) {
  Base base;
  Shared s;
  evconnlistener* lev = threadsafe_listener(base, &s);
  BOOST_TEST_REQUIRE(lev != nullptr);
  const Addr where = local_address(evconnlistener_get_fd(lev));
  std::vector<Fd> clients = queued_clients(lev, 3);
  bool freed = false;
  const int rc = run_op_during_first_callback(base, s, [&] {
    evconnlistener_free(lev);
    freed = true;
  });
  BOOST_TEST_REQUIRE(s.op_started);
  BOOST_TEST(freed);
  BOOST_TEST(s.cb_saw_op_return);  // free returned while the callback still ran
  BOOST_TEST(s.calls == 1);
  BOOST_TEST(s.calls_after_op == 0);
  BOOST_TEST(rc == 1);  // nothing left pending
  // LEV_OPT_CLOSE_ON_FREE: the listening socket is gone.
  Fd late = connect_to(where);
  BOOST_TEST(!late.valid());
  BOOST_TEST(errno == ECONNREFUSED);
  if (!freed)
    evconnlistener_free(lev);
}

BOOST_AUTO_TEST_CASE(set_cb_from_another_thread_while_the_callback_runs_takes_effect_for_the_next_connection) {
  Base base;
  Shared s, t;
  Listener l(threadsafe_listener(base, &s));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  std::vector<Fd> clients = queued_clients(l, 2);
  t.break_at = 1;
  const int rc = run_op_during_first_callback(base, s, [&] { evconnlistener_set_cb(l, shared_cb, &t); });
  BOOST_TEST(s.cb_saw_op_return);
  BOOST_TEST(rc == 0);  // t's callback broke the loop
  BOOST_TEST(s.calls == 1);
  BOOST_TEST(t.calls == 1);
}
BOOST_AUTO_TEST_CASE(enable_from_another_thread_delivers_the_queued_connections_on_the_loop_thread) {
  Base base;
  Shared s;
  s.break_at = 3;
  Listener l(threadsafe_listener(base, &s, LEV_OPT_DISABLED));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  std::vector<Fd> clients = queued_clients(l, 3);
  const timeval safety{10, 0};  // keeps the loop alive; fires only if broken
  BOOST_TEST_REQUIRE(event_base_loopexit(base, &safety) == 0);
  announce_loop_start(base, s);
  int enable_rc = -2;
  std::thread controller([&] {
    std::unique_lock<std::mutex> g(s.m);
    if (!s.wait(g, [&] { return s.loop_running; }))
      return;
    g.unlock();
    enable_rc = evconnlistener_enable(l);
  });
  const int rc = event_base_dispatch(base);
  controller.join();
  BOOST_TEST(enable_rc == 0);
  BOOST_TEST(rc == 0);
  BOOST_TEST(event_base_got_break(base) == 1);  // not the safety exit
  BOOST_TEST(s.calls == 3);
  BOOST_TEST((s.peer_ports == client_ports(clients)));
  BOOST_TEST((s.cb_threads == std::set<std::thread::id>{std::this_thread::get_id()}));
}

BOOST_AUTO_TEST_CASE(set_cb_from_another_thread_starts_delivery_on_a_listener_created_without_callback) {
  Base base;
  Shared s;
  s.break_at = 2;
  Listener l(threadsafe_listener(base, &s, 0, nullptr));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  std::vector<Fd> clients = queued_clients(l, 2);
  const timeval safety{10, 0};
  BOOST_TEST_REQUIRE(event_base_loopexit(base, &safety) == 0);
  announce_loop_start(base, s);
  std::thread controller([&] {
    std::unique_lock<std::mutex> g(s.m);
    if (!s.wait(g, [&] { return s.loop_running; }))
      return;
    g.unlock();
    evconnlistener_set_cb(l, shared_cb, &s);
  });
  const int rc = event_base_dispatch(base);
  controller.join();
  BOOST_TEST(rc == 0);
  BOOST_TEST(event_base_got_break(base) == 1);
  BOOST_TEST(s.calls == 2);
  BOOST_TEST((s.peer_ports == client_ports(clients)));
}

// Its callback ends the loop with loopexit (the other ready callbacks still
// run), then disables itself.
void sentinel_cb(evconnlistener* lev, evutil_socket_t fd, sockaddr*, int, void*) {
  Fd close_me(fd);
  event_base_loopexit(evconnlistener_get_base(lev), nullptr);
  evconnlistener_disable(lev);
}

BOOST_AUTO_TEST_CASE(disable_from_another_thread_while_the_loop_waits_stops_delivery) {
  Base base;
  Shared s;
  Listener l(threadsafe_listener(base, &s));
  Listener sentinel(threadsafe_listener(base, &s, 0, sentinel_cb));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  BOOST_TEST_REQUIRE(sentinel.l != nullptr);
  announce_loop_start(base, s);
  std::vector<Fd> clients;
  Fd wake;
  int disable_rc = -2;
  bool ready = false;
  std::thread controller([&] {
    std::unique_lock<std::mutex> g(s.m);
    if (!s.wait(g, [&] { return s.loop_running; }))
      return;
    g.unlock();
    disable_rc = evconnlistener_disable(l);
    // Connections to the disabled listener, queued before the sentinel's.
    const Addr where = local_address(evconnlistener_get_fd(l));
    for (int i = 0; i < 2; ++i)
      clients.push_back(connect_to(where));
    ready = wait_readable(evconnlistener_get_fd(l));
    wake = connect_to(local_address(evconnlistener_get_fd(sentinel)));
  });
  const int rc = event_base_dispatch(base);
  controller.join();
  BOOST_TEST_REQUIRE(clients.size() == 2u);
  for (const Fd& c : clients)
    BOOST_TEST_REQUIRE(c.valid());
  BOOST_TEST_REQUIRE(ready);
  BOOST_TEST_REQUIRE(wake.valid());
  BOOST_TEST(disable_rc == 0);
  BOOST_TEST(rc == 0);
  BOOST_TEST(event_base_got_exit(base) == 1);
  BOOST_TEST_REQUIRE(s.calls == 0);
  // Enabled again, it gets both, once each.
  s.break_at = 2;
  BOOST_TEST(evconnlistener_enable(l) == 0);
  BOOST_TEST(event_base_dispatch(base) == 0);
  BOOST_TEST(s.calls == 2);
  BOOST_TEST((s.peer_ports == client_ports(clients)));
}

BOOST_AUTO_TEST_SUITE_END()

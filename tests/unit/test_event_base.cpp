// event_base (event2/event.h): the loop's return values and exit/break flags,
// as libevent 2.1.12's. Listeners on loopback sockets serve as the pending
// events; the cases pass against real libevent too.
#define BOOST_TEST_MODULE event_base
#include <boost/test/unit_test.hpp>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "fixtures.hpp"

#include <cstring>
#include <string>
#include <vector>

using namespace nettest;

namespace {

using Watchdog = CaseAlarm<20>;

enum class Then { nothing, disable, loopbreak, loopexit, reenter };

struct Probe {
  int* counter = nullptr;  // shared between listeners when set
  int count = 0;
  Then then = Then::nothing;
  int reenter_rc = 12345;
  std::vector<Fd> conns;
};

void probe_cb(evconnlistener* lev, evutil_socket_t fd, sockaddr*, int, void* arg) {
  auto* p = static_cast<Probe*>(arg);
  ++p->count;
  if (p->counter)
    ++*p->counter;
  p->conns.emplace_back(fd);
  event_base* base = evconnlistener_get_base(lev);
  switch (p->then) {
  case Then::nothing:
    break;
  case Then::disable:
    evconnlistener_disable(lev);
    break;
  case Then::loopbreak:
    BOOST_TEST(event_base_loopbreak(base) == 0);
    break;
  case Then::loopexit:
    BOOST_TEST(event_base_loopexit(base, nullptr) == 0);
    break;
  case Then::reenter:
    p->reenter_rc = event_base_dispatch(base);
    evconnlistener_disable(lev);
    break;
  }
}

// An enabled IPv4 listener on a random loopback port.
evconnlistener* listener_on(event_base* base, Probe* p) {
  const Addr at = ipv4_loopback(0);
  return evconnlistener_new_bind(base, probe_cb, p, LEV_OPT_CLOSE_ON_FREE, -1, at.sa(), at.ilen());
}

// A client connected to the listener, queued in the kernel (listener fd
// readable) when this returns.
Fd queued_client(evconnlistener* l) {
  Fd c = connect_to(local_address(evconnlistener_get_fd(l)));
  BOOST_TEST_REQUIRE(c.valid(), "connect: " << std::strerror(errno));
  BOOST_TEST_REQUIRE(wait_readable(evconnlistener_get_fd(l)));
  return c;
}

timeval ms(long n) {
  timeval tv;
  tv.tv_sec = n / 1000;
  tv.tv_usec = (n % 1000) * 1000;
  return tv;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(event_base_suite, Watchdog)

// ---- life cycle ------------------------------------------------------------

BOOST_AUTO_TEST_CASE(event_base_new_gives_a_base_and_event_base_free_releases_its_fds) {
  const int before = count_open_fds();
  BOOST_TEST_REQUIRE(before > 0);
  event_base* b = event_base_new();
  BOOST_TEST_REQUIRE(b != nullptr);
  BOOST_TEST(event_base_dispatch(b) == 1);  // usable
  event_base_free(b);
  BOOST_TEST(count_open_fds() == before);
}

BOOST_AUTO_TEST_CASE(two_bases_are_independent) {
  Base a, b;
  BOOST_TEST(a.b != b.b);
  Probe p;
  p.then = Then::disable;
  Listener l(listener_on(a, &p));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  Fd c = queued_client(l);
  BOOST_TEST(event_base_dispatch(b) == 1);  // a's listener is not b's business
  BOOST_TEST(p.count == 0);
  BOOST_TEST(event_base_dispatch(a) == 1);
  BOOST_TEST(p.count == 1);
}

// ---- nothing pending -------------------------------------------------------

BOOST_AUTO_TEST_CASE(dispatch_with_nothing_pending_returns_1) {
  Base base;
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(event_base_got_exit(base) == 0);
  BOOST_TEST(event_base_got_break(base) == 0);
}

BOOST_AUTO_TEST_CASE(loop_without_flags_and_nothing_pending_returns_1) {
  Base base;
  BOOST_TEST(event_base_loop(base, 0) == 1);
}

BOOST_AUTO_TEST_CASE(loop_nonblock_with_nothing_pending_returns_1) {
  Base base;
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 1);
}

BOOST_AUTO_TEST_CASE(loop_once_with_nothing_pending_returns_1) {
  Base base;
  BOOST_TEST(event_base_loop(base, EVLOOP_ONCE) == 1);
}

BOOST_AUTO_TEST_CASE(a_disabled_listener_is_not_pending) {
  Base base;
  Probe p;
  Listener l(listener_on(base, &p));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  BOOST_TEST(evconnlistener_disable(l) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
}

// ---- loopexit ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(loopexit_null_before_dispatch_makes_dispatch_return_0_with_got_exit) {
  Base base;
  BOOST_TEST(event_base_loopexit(base, nullptr) == 0);
  BOOST_TEST(event_base_dispatch(base) == 0);
  BOOST_TEST(event_base_got_exit(base) == 1);
  BOOST_TEST(event_base_got_break(base) == 0);
}

BOOST_AUTO_TEST_CASE(loopexit_null_before_dispatch_ends_a_loop_with_a_listener_pending) {
  Base base;
  Probe p;
  Listener l(listener_on(base, &p));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  BOOST_TEST(event_base_loopexit(base, nullptr) == 0);
  BOOST_TEST(event_base_dispatch(base) == 0);
  BOOST_TEST(event_base_got_exit(base) == 1);
  BOOST_TEST(p.count == 0);
}

BOOST_AUTO_TEST_CASE(loopexit_with_a_delay_ends_dispatch_with_an_enabled_listener_pending) {
  Base base;
  Probe p;
  Listener l(listener_on(base, &p));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  const timeval tv = ms(50);
  BOOST_TEST(event_base_loopexit(base, &tv) == 0);
  BOOST_TEST(event_base_dispatch(base) == 0);
  BOOST_TEST(event_base_got_exit(base) == 1);
  BOOST_TEST(event_base_got_break(base) == 0);
  BOOST_TEST(p.count == 0);
}

BOOST_AUTO_TEST_CASE(a_pending_delayed_loopexit_keeps_an_otherwise_empty_loop_running_until_it_fires) {
  Base base;
  const timeval tv = ms(20);
  BOOST_TEST(event_base_loopexit(base, &tv) == 0);
  BOOST_TEST(event_base_dispatch(base) == 0);  // not 1: the exit was pending
  BOOST_TEST(event_base_got_exit(base) == 1);
}

BOOST_AUTO_TEST_CASE(loopexit_inside_a_callback_returns_0_with_got_exit) {
  Base base;
  Probe p;
  p.then = Then::loopexit;
  Listener l(listener_on(base, &p));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  Fd c = queued_client(l);
  BOOST_TEST(event_base_dispatch(base) == 0);
  BOOST_TEST(event_base_got_exit(base) == 1);
  BOOST_TEST(event_base_got_break(base) == 0);
  BOOST_TEST(p.count == 1);
}

BOOST_AUTO_TEST_CASE(loopexit_inside_a_callback_lets_the_other_ready_callbacks_run) {
  Base base;
  int total = 0;
  Probe a, b;
  a.counter = b.counter = &total;
  a.then = b.then = Then::loopexit;
  Listener la(listener_on(base, &a)), lb(listener_on(base, &b));
  BOOST_TEST_REQUIRE(la.l != nullptr);
  BOOST_TEST_REQUIRE(lb.l != nullptr);
  Fd ca = queued_client(la), cb = queued_client(lb);
  BOOST_TEST(event_base_dispatch(base) == 0);
  BOOST_TEST(total == 2);
  BOOST_TEST(a.count == 1);
  BOOST_TEST(b.count == 1);
}

// ---- loopbreak ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(loopbreak_inside_a_listener_callback_returns_0_with_got_break) {
  Base base;
  Probe p;
  p.then = Then::loopbreak;
  Listener l(listener_on(base, &p));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  Fd c = queued_client(l);
  BOOST_TEST(event_base_dispatch(base) == 0);
  BOOST_TEST(event_base_got_break(base) == 1);
  BOOST_TEST(event_base_got_exit(base) == 0);
  BOOST_TEST(p.count == 1);
}

BOOST_AUTO_TEST_CASE(loopbreak_inside_a_callback_skips_the_other_ready_callbacks) {
  Base base;
  int total = 0;
  Probe a, b;
  a.counter = b.counter = &total;
  a.then = b.then = Then::loopbreak;
  Listener la(listener_on(base, &a)), lb(listener_on(base, &b));
  BOOST_TEST_REQUIRE(la.l != nullptr);
  BOOST_TEST_REQUIRE(lb.l != nullptr);
  Fd ca = queued_client(la), cb = queued_client(lb);
  BOOST_TEST(event_base_dispatch(base) == 0);
  BOOST_TEST(total == 1);
  // The skipped one is still ready and runs in the next loop.
  BOOST_TEST(event_base_dispatch(base) == 0);
  BOOST_TEST(total == 2);
  BOOST_TEST(a.count == 1);
  BOOST_TEST(b.count == 1);
}

// ---- flags reset ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(got_exit_is_reset_when_the_next_loop_starts) {
  Base base;
  BOOST_TEST(event_base_loopexit(base, nullptr) == 0);
  BOOST_TEST(event_base_dispatch(base) == 0);
  BOOST_TEST_REQUIRE(event_base_got_exit(base) == 1);
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 1);
  BOOST_TEST(event_base_got_exit(base) == 0);
}

BOOST_AUTO_TEST_CASE(got_break_is_reset_when_the_next_loop_starts) {
  Base base;
  Probe p;
  p.then = Then::loopbreak;
  Listener l(listener_on(base, &p));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  Fd c = queued_client(l);
  BOOST_TEST(event_base_dispatch(base) == 0);
  BOOST_TEST_REQUIRE(event_base_got_break(base) == 1);
  BOOST_TEST(evconnlistener_disable(l) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(event_base_got_break(base) == 0);
}

BOOST_AUTO_TEST_CASE(a_loopexit_is_consumed_by_the_loop_it_ends) {
  Base base;
  BOOST_TEST(event_base_loopexit(base, nullptr) == 0);
  BOOST_TEST(event_base_dispatch(base) == 0);
  // The next loop is not ended by the old request: it runs a callback.
  Probe p;
  p.then = Then::disable;
  Listener l(listener_on(base, &p));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  Fd c = queued_client(l);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(p.count == 1);
  BOOST_TEST(event_base_got_exit(base) == 0);
}

// ---- EVLOOP_ONCE / EVLOOP_NONBLOCK ---------------------------------------------

BOOST_AUTO_TEST_CASE(loop_once_returns_0_after_a_callback_ran) {
  Base base;
  Probe p;
  Listener l(listener_on(base, &p));  // stays enabled
  BOOST_TEST_REQUIRE(l.l != nullptr);
  Fd c = queued_client(l);
  const timeval safety = ms(5000);  // ends the loop only if ONCE is ignored
  BOOST_TEST(event_base_loopexit(base, &safety) == 0);
  BOOST_TEST(event_base_loop(base, EVLOOP_ONCE) == 0);
  BOOST_TEST(p.count == 1);
  BOOST_TEST(event_base_got_exit(base) == 0);
  BOOST_TEST(event_base_got_break(base) == 0);
}

BOOST_AUTO_TEST_CASE(loop_once_waits_for_an_event_before_returning) {
  Base base;
  Probe p;
  Listener l(listener_on(base, &p));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  // The only thing ready is a delayed loopexit: ONCE waits for it, not less.
  const timeval tv = ms(30);
  BOOST_TEST(event_base_loopexit(base, &tv) == 0);
  BOOST_TEST(event_base_loop(base, EVLOOP_ONCE) == 0);
  BOOST_TEST(event_base_got_exit(base) == 1);
  BOOST_TEST(p.count == 0);
}

BOOST_AUTO_TEST_CASE(loop_nonblock_runs_ready_callbacks_and_returns_0) {
  Base base;
  Probe p;
  Listener l(listener_on(base, &p));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  Fd c = queued_client(l);
  const timeval safety = ms(5000);  // ends the loop only if NONBLOCK blocks
  BOOST_TEST(event_base_loopexit(base, &safety) == 0);
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 0);
  BOOST_TEST(event_base_got_exit(base) == 0);
  BOOST_TEST(p.count == 1);
}

BOOST_AUTO_TEST_CASE(loop_nonblock_with_an_idle_listener_returns_0_without_waiting) {
  Base base;
  Probe p;
  Listener l(listener_on(base, &p));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  const timeval safety = ms(5000);  // ends the loop only if NONBLOCK blocks
  BOOST_TEST(event_base_loopexit(base, &safety) == 0);
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 0);
  BOOST_TEST(event_base_got_exit(base) == 0);
  BOOST_TEST(p.count == 0);
}

int g_warnings = 0;
void count_warnings(int severity, const char*) {
  if (severity == EVENT_LOG_WARN)
    ++g_warnings;
}

BOOST_AUTO_TEST_CASE(dispatch_reentered_from_a_callback_of_the_same_base_returns_minus_1_and_warns) {
  Base base;
  Probe p;
  p.then = Then::reenter;
  Listener l(listener_on(base, &p));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  Fd c = queued_client(l);
  g_warnings = 0;
  event_set_log_callback(count_warnings);
  const int rc = event_base_dispatch(base);
  event_set_log_callback(nullptr);
  BOOST_TEST(rc == 1);
  BOOST_TEST(p.count == 1);
  BOOST_TEST(p.reenter_rc == -1);
  BOOST_TEST(g_warnings == 1);
}

// ---- method and version ------------------------------------------------------

BOOST_AUTO_TEST_CASE(get_method_names_the_kernel_mechanism) {
  Base base;
  const char* m = event_base_get_method(base);
  BOOST_TEST_REQUIRE(m != nullptr);
  BOOST_TEST(std::strlen(m) > 0u);
#ifdef __linux__
  BOOST_TEST(std::string(m) == "epoll");
#endif
}

BOOST_AUTO_TEST_CASE(event_get_version_is_libevent_version_2_1_12_stable) {
  const char* v = event_get_version();
  BOOST_TEST_REQUIRE(v != nullptr);
  BOOST_TEST(std::string(v) == LIBEVENT_VERSION);
  BOOST_TEST(std::string(v) == "2.1.12-stable");
}

BOOST_AUTO_TEST_CASE(event_get_version_number_is_0x02010c00) {
  BOOST_TEST(event_get_version_number() == static_cast<ev_uint32_t>(LIBEVENT_VERSION_NUMBER));
  BOOST_TEST(event_get_version_number() == 0x02010c00u);
}

BOOST_AUTO_TEST_SUITE_END()

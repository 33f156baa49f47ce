// event2/event_compat.h: libevent's 1.x event API (event_init, event_set,
// event_dispatch, ... on the "current base") and its macros, with libevent
// 2.1.12's semantics, beside the 2.x API in one program.
//
// The file builds against real libevent too (system headers, -levent), which
// is how every expectation here was checked. Cases where evasio differs on
// purpose (libevent crashes without a current base) are under
// #ifdef EVASIO_VERSION.
#define BOOST_TEST_MODULE event_compat
#include <boost/test/unit_test.hpp>

#include <event2/event.h>
#include <event2/event_compat.h>
#include <event2/event_struct.h>

#include "fixtures.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace {

using nettest::ms_tv;

// A current base made by event_init(), freed after the case.
struct current_base_fixture {
  current_base_fixture() : alarm(30, nettest::current_test_name()), base(event_init()) {
    BOOST_REQUIRE(base != nullptr);
  }
  ~current_base_fixture() { event_base_free(base); }
  nettest::SafetyAlarm alarm;
  event_base* base;
};

struct calls {
  int n = 0;
  short what = 0;
  evutil_socket_t fd = -2;
};

void count_cb(evutil_socket_t fd, short what, void* arg) {
  auto* c = static_cast<calls*>(arg);
  ++c->n;
  c->what = what;
  c->fd = fd;
}

void loopbreak_cb(evutil_socket_t, short, void* arg) {
  ++static_cast<calls*>(arg)->n;
  event_loopbreak();
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(event_compat, current_base_fixture)

BOOST_AUTO_TEST_CASE(event_set_puts_the_event_on_the_base_of_event_init) {
  struct event ev;
  calls c;
  event_set(&ev, -1, 0, count_cb, &c);
  BOOST_CHECK(event_initialized(&ev));
  BOOST_CHECK(event_get_base(&ev) == base);
  BOOST_CHECK_EQUAL(event_get_fd(&ev), -1);
  BOOST_CHECK(event_get_callback_arg(&ev) == &c);
}

BOOST_AUTO_TEST_CASE(event_dispatch_runs_a_timer_of_evtimer_set_and_returns_1_when_none_is_left) {
  struct event ev;
  calls c;
  evtimer_set(&ev, count_cb, &c);
  const timeval tv = ms_tv(1);
  BOOST_REQUIRE_EQUAL(evtimer_add(&ev, &tv), 0);
  BOOST_CHECK_EQUAL(event_dispatch(), 1);
  BOOST_CHECK_EQUAL(c.n, 1);
  BOOST_CHECK_EQUAL(c.what, EV_TIMEOUT);
}

BOOST_AUTO_TEST_CASE(timeout_macros_add_report_and_delete_a_timer) {
  struct event ev;
  calls c;
  timeout_set(&ev, count_cb, &c);
  BOOST_CHECK(timeout_initialized(&ev));
  const timeval tv = ms_tv(60000);
  BOOST_REQUIRE_EQUAL(timeout_add(&ev, &tv), 0);
  BOOST_CHECK(timeout_pending(&ev, nullptr));
  BOOST_REQUIRE_EQUAL(timeout_del(&ev), 0);
  BOOST_CHECK(!timeout_pending(&ev, nullptr));
  BOOST_CHECK_EQUAL(event_loop(EVLOOP_NONBLOCK), 1);  // nothing left
  BOOST_CHECK_EQUAL(c.n, 0);
}

BOOST_AUTO_TEST_CASE(event_loop_nonblock_runs_a_ready_fd_event_of_event_set) {
  int sv[2];
  BOOST_REQUIRE_EQUAL(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  nettest::Fd a(sv[0]), b(sv[1]);
  BOOST_REQUIRE_EQUAL(::write(b.get(), "x", 1), 1);
  struct event ev;
  calls c;
  event_set(&ev, a.get(), EV_READ, count_cb, &c);
  BOOST_REQUIRE_EQUAL(event_add(&ev, nullptr), 0);
  // libevent's NONBLOCK loop goes on while passes run callbacks: the next
  // pass finds no event left, so it returns 1.
  BOOST_CHECK_EQUAL(event_loop(EVLOOP_NONBLOCK), 1);
  BOOST_CHECK_EQUAL(c.n, 1);
  BOOST_CHECK_EQUAL(c.what, EV_READ);
  BOOST_CHECK_EQUAL(c.fd, a.get());
  BOOST_CHECK_EQUAL(EVENT_FD(&ev), a.get());
}

BOOST_AUTO_TEST_CASE(signal_set_and_signal_add_deliver_a_signal_persistently) {
  struct event ev;
  calls c;
  signal_set(&ev, SIGUSR2, loopbreak_cb, &c);
  BOOST_CHECK_EQUAL(EVENT_SIGNAL(&ev), SIGUSR2);
  BOOST_CHECK(signal_initialized(&ev));
  BOOST_REQUIRE_EQUAL(signal_add(&ev, nullptr), 0);
  BOOST_CHECK(signal_pending(&ev, nullptr));
  BOOST_REQUIRE_EQUAL(::raise(SIGUSR2), 0);
  BOOST_CHECK_EQUAL(event_dispatch(), 0);  // broken by the callback
  BOOST_CHECK_EQUAL(c.n, 1);
  BOOST_CHECK(signal_pending(&ev, nullptr));  // EV_PERSIST
  BOOST_REQUIRE_EQUAL(signal_del(&ev), 0);
}

BOOST_AUTO_TEST_CASE(event_loopexit_ends_event_dispatch_of_a_persistent_timer) {
  struct event ev;
  calls c;
  event_set(&ev, -1, EV_PERSIST, count_cb, &c);
  const timeval every = ms_tv(1);
  BOOST_REQUIRE_EQUAL(event_add(&ev, &every), 0);
  const timeval later = ms_tv(20);
  BOOST_REQUIRE_EQUAL(event_loopexit(&later), 0);
  BOOST_CHECK_EQUAL(event_dispatch(), 0);
  BOOST_CHECK(event_base_got_exit(base));
  BOOST_CHECK_GE(c.n, 1);
  event_del(&ev);
}

BOOST_AUTO_TEST_CASE(event_once_runs_its_callback_once_on_the_current_base) {
  calls c;
  const timeval tv = ms_tv(1);
  BOOST_REQUIRE_EQUAL(event_once(-1, EV_TIMEOUT, count_cb, &c, &tv), 0);
  BOOST_CHECK_EQUAL(event_dispatch(), 1);
  BOOST_CHECK_EQUAL(c.n, 1);
}

BOOST_AUTO_TEST_CASE(event_get_method_names_the_current_base_s_backend) {
  const char* m = event_get_method();
  BOOST_REQUIRE(m != nullptr);
  BOOST_CHECK_EQUAL(std::string(m), std::string(event_base_get_method(base)));
}

BOOST_AUTO_TEST_CASE(event_base_set_moves_an_event_of_event_set_to_another_base) {
  event_base* other = event_base_new();
  BOOST_REQUIRE(other);
  struct event ev;
  calls c;
  evtimer_set(&ev, count_cb, &c);
  BOOST_REQUIRE_EQUAL(event_base_set(other, &ev), 0);
  BOOST_CHECK(event_get_base(&ev) == other);
  const timeval tv = ms_tv(1);
  BOOST_REQUIRE_EQUAL(evtimer_add(&ev, &tv), 0);
  BOOST_CHECK_EQUAL(event_base_set(base, &ev), -1);  // pending: it may not move
  BOOST_CHECK_EQUAL(event_dispatch(), 1);             // the current base has nothing
  BOOST_CHECK_EQUAL(c.n, 0);
  BOOST_CHECK_EQUAL(event_base_dispatch(other), 1);
  BOOST_CHECK_EQUAL(c.n, 1);
  event_base_free(other);
}

BOOST_AUTO_TEST_CASE(the_1x_and_2x_apis_share_one_base) {
  struct event ev1;
  calls c1, c2;
  evtimer_set(&ev1, count_cb, &c1);
  event* ev2 = evtimer_new(base, count_cb, &c2);
  BOOST_REQUIRE(ev2);
  const timeval tv = ms_tv(1);
  BOOST_REQUIRE_EQUAL(evtimer_add(&ev1, &tv), 0);
  BOOST_REQUIRE_EQUAL(evtimer_add(ev2, &tv), 0);
  BOOST_CHECK_EQUAL(event_base_dispatch(base), 1);
  BOOST_CHECK_EQUAL(c1.n, 1);
  BOOST_CHECK_EQUAL(c2.n, 1);
  event_free(ev2);
}

BOOST_AUTO_TEST_CASE(a_second_event_init_makes_the_new_base_current) {
  event_base* second = event_init();
  BOOST_REQUIRE(second);
  struct event ev;
  calls c;
  evtimer_set(&ev, count_cb, &c);
  BOOST_CHECK(event_get_base(&ev) == second);
  event_base_free(second);
}

BOOST_AUTO_TEST_SUITE_END()

// Before event_init(), event_set() gives an event no base: adding it fails
// until event_base_set() gives it one.
BOOST_AUTO_TEST_CASE(event_set_without_a_current_base_needs_event_base_set) {
  nettest::SafetyAlarm alarm(30, nettest::current_test_name());
  event_base* base = event_base_new();
  BOOST_REQUIRE(base);
  struct event ev;
  calls c;
  evtimer_set(&ev, count_cb, &c);
  BOOST_CHECK(event_initialized(&ev));
  BOOST_CHECK(event_get_base(&ev) == nullptr);
  const timeval tv = ms_tv(1);
  BOOST_CHECK_EQUAL(evtimer_add(&ev, &tv), -1);
  BOOST_CHECK(!evtimer_pending(&ev, nullptr));
  BOOST_REQUIRE_EQUAL(event_base_set(base, &ev), 0);
  BOOST_REQUIRE_EQUAL(evtimer_add(&ev, &tv), 0);
  BOOST_CHECK_EQUAL(event_base_dispatch(base), 1);
  BOOST_CHECK_EQUAL(c.n, 1);
  event_base_free(base);
}

#ifdef EVASIO_VERSION
// libevent dereferences the missing current base; evasio fails cleanly.
BOOST_AUTO_TEST_CASE(without_a_current_base_the_1x_loop_functions_fail_with_EINVAL) {
  event_base* b = event_init();
  BOOST_REQUIRE(b);
  event_base_free(b);  // the current base: none is left
  errno = 0;
  BOOST_CHECK_EQUAL(event_dispatch(), -1);
  BOOST_CHECK_EQUAL(errno, EINVAL);
  BOOST_CHECK_EQUAL(event_loop(EVLOOP_NONBLOCK), -1);
  BOOST_CHECK_EQUAL(event_loopexit(nullptr), -1);
  BOOST_CHECK_EQUAL(event_loopbreak(), -1);
  BOOST_CHECK(event_get_method() == nullptr);
}

BOOST_AUTO_TEST_CASE(event_base_free_of_null_frees_the_current_base) {
  BOOST_REQUIRE(event_init());
  event_base_free(nullptr);  // as libevent: frees the current base
  BOOST_CHECK(event_get_method() == nullptr);
}
#endif

// Event priorities (event2/event.h): event_base_priority_init,
// event_base_get_npriorities, event_priority_set, event_get_priority and the
// 1.x event_priority_init, with libevent 2.1.12's loop order: lower numbers
// run first, and each pass of the loop runs only the most urgent queue that
// has active events. Includes ports of libevent's regress.c priority cases.
//
// Builds against real libevent too; the cases of NULL or uninitialized
// events, which libevent would crash on, are under #ifdef EVASIO_VERSION.
#define BOOST_TEST_MODULE event_priority
#include <boost/test/unit_test.hpp>

#include <event2/event.h>
#include <event2/event_compat.h>
#include <event2/event_struct.h>

#include "fixtures.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace {

using base_fixture = nettest::AlarmedBase<30>;

// Appends its letter to the log when its event runs.
struct step {
  std::string* log;
  char name;
  event ev;
};

void log_step(evutil_socket_t, short, void* arg) {
  auto* s = static_cast<step*>(arg);
  s->log->push_back(s->name);
}

void assign_step(step& s, event_base* base, std::string& log, char name, int pri) {
  s.log = &log;
  s.name = name;
  BOOST_REQUIRE(event_assign(&s.ev, base, -1, 0, log_step, &s) == 0);
  BOOST_REQUIRE(event_priority_set(&s.ev, pri) == 0);
}

void nothing(evutil_socket_t, short, void*) {}

} // namespace

BOOST_FIXTURE_TEST_SUITE(priorities, base_fixture)

BOOST_AUTO_TEST_CASE(a_new_base_has_one_priority) {
  BOOST_TEST(event_base_get_npriorities(base) == 1);
}

BOOST_AUTO_TEST_CASE(priority_init_sets_the_number_of_priorities) {
  BOOST_REQUIRE(event_base_priority_init(base, 10) == 0);
  BOOST_TEST(event_base_get_npriorities(base) == 10);
  BOOST_REQUIRE(event_base_priority_init(base, 1) == 0);
  BOOST_TEST(event_base_get_npriorities(base) == 1);
}

BOOST_AUTO_TEST_CASE(priority_init_accepts_up_to_one_below_event_max_priorities) {
  BOOST_TEST(event_base_priority_init(base, EVENT_MAX_PRIORITIES - 1) == 0);
  BOOST_TEST(event_base_get_npriorities(base) == EVENT_MAX_PRIORITIES - 1);
}

BOOST_AUTO_TEST_CASE(priority_init_refuses_a_count_out_of_range) {
  BOOST_TEST(event_base_priority_init(base, 0) == -1);
  BOOST_TEST(event_base_priority_init(base, -3) == -1);
  BOOST_TEST(event_base_priority_init(base, EVENT_MAX_PRIORITIES) == -1);
  BOOST_TEST(event_base_get_npriorities(base) == 1);
}

BOOST_AUTO_TEST_CASE(priority_init_refuses_while_an_event_is_active) {
  event ev;
  BOOST_REQUIRE(event_assign(&ev, base, -1, 0, nothing, nullptr) == 0);
  event_active(&ev, EV_TIMEOUT, 1);
  BOOST_TEST(event_base_priority_init(base, 4) == -1);
  BOOST_TEST(event_base_get_npriorities(base) == 1);
  event_del(&ev);
  BOOST_TEST(event_base_priority_init(base, 4) == 0);
}

BOOST_AUTO_TEST_CASE(priority_init_is_allowed_while_events_are_pending) {
  event ev;
  BOOST_REQUIRE(event_assign(&ev, base, -1, 0, nothing, nullptr) == 0);
  const timeval tv = nettest::ms_tv(10000);
  BOOST_REQUIRE(event_add(&ev, &tv) == 0);
  BOOST_TEST(event_base_priority_init(base, 4) == 0);
  event_del(&ev);
}

BOOST_AUTO_TEST_CASE(new_events_get_half_the_number_of_priorities) {
  BOOST_REQUIRE(event_base_priority_init(base, 6) == 0);
  event* ev = event_new(base, -1, 0, nothing, nullptr);
  BOOST_TEST(event_get_priority(ev) == 3);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(priority_set_changes_what_get_priority_reports) {
  BOOST_REQUIRE(event_base_priority_init(base, 6) == 0);
  event ev;
  BOOST_REQUIRE(event_assign(&ev, base, -1, 0, nothing, nullptr) == 0);
  BOOST_TEST(event_priority_set(&ev, 5) == 0);
  BOOST_TEST(event_get_priority(&ev) == 5);
  BOOST_TEST(event_priority_set(&ev, 0) == 0);
  BOOST_TEST(event_get_priority(&ev) == 0);
}

BOOST_AUTO_TEST_CASE(priority_set_refuses_a_priority_out_of_range) {
  BOOST_REQUIRE(event_base_priority_init(base, 3) == 0);
  event ev;
  BOOST_REQUIRE(event_assign(&ev, base, -1, 0, nothing, nullptr) == 0);
  BOOST_TEST(event_priority_set(&ev, 3) == -1);
  BOOST_TEST(event_priority_set(&ev, -1) == -1);
  BOOST_TEST(event_get_priority(&ev) == 1);
}

BOOST_AUTO_TEST_CASE(priority_set_refuses_while_the_event_is_active) {
  BOOST_REQUIRE(event_base_priority_init(base, 3) == 0);
  event ev;
  BOOST_REQUIRE(event_assign(&ev, base, -1, 0, nothing, nullptr) == 0);
  event_active(&ev, EV_TIMEOUT, 1);
  BOOST_TEST(event_priority_set(&ev, 0) == -1);
  BOOST_TEST(event_get_priority(&ev) == 1);
  event_del(&ev);
}

BOOST_AUTO_TEST_CASE(priority_set_is_allowed_while_the_event_is_pending) {
  BOOST_REQUIRE(event_base_priority_init(base, 3) == 0);
  event ev;
  BOOST_REQUIRE(event_assign(&ev, base, -1, 0, nothing, nullptr) == 0);
  const timeval tv = nettest::ms_tv(10000);
  BOOST_REQUIRE(event_add(&ev, &tv) == 0);
  BOOST_TEST(event_priority_set(&ev, 0) == 0);
  event_del(&ev);
}

BOOST_AUTO_TEST_CASE(lower_numbers_run_first_whatever_the_activation_order) {
  BOOST_REQUIRE(event_base_priority_init(base, 3) == 0);
  std::string log;
  step a, b, c;
  assign_step(a, base, log, 'a', 2);
  assign_step(b, base, log, 'b', 1);
  assign_step(c, base, log, 'c', 0);
  event_active(&a.ev, EV_TIMEOUT, 1);
  event_active(&b.ev, EV_TIMEOUT, 1);
  event_active(&c.ev, EV_TIMEOUT, 1);
  event_base_dispatch(base);
  BOOST_TEST(log == "cba");
}

BOOST_AUTO_TEST_CASE(events_of_one_priority_run_in_activation_order) {
  BOOST_REQUIRE(event_base_priority_init(base, 2) == 0);
  std::string log;
  step a, b, c;
  assign_step(a, base, log, 'a', 1);
  assign_step(b, base, log, 'b', 1);
  assign_step(c, base, log, 'c', 1);
  event_active(&b.ev, EV_TIMEOUT, 1);
  event_active(&c.ev, EV_TIMEOUT, 1);
  event_active(&a.ev, EV_TIMEOUT, 1);
  event_base_dispatch(base);
  BOOST_TEST(log == "bca");
}

namespace {
// first's callback activates second (or adds it with a zero timeout).
struct chain {
  event first, second;
  std::string log;
  bool by_timeout = false;
};
void chain_first(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<chain*>(arg);
  c->log.push_back('1');
  const timeval zero{0, 0};
  if (c->by_timeout)
    event_add(&c->second, &zero);
  else
    event_active(&c->second, EV_TIMEOUT, 1);
}
void chain_second(evutil_socket_t, short, void* arg) { static_cast<chain*>(arg)->log.push_back('2'); }

void assign_chain(chain& c, event_base* base, int first_pri, int second_pri) {
  BOOST_REQUIRE(event_assign(&c.first, base, -1, 0, chain_first, &c) == 0);
  BOOST_REQUIRE(event_assign(&c.second, base, -1, 0, chain_second, &c) == 0);
  BOOST_REQUIRE(event_priority_set(&c.first, first_pri) == 0);
  BOOST_REQUIRE(event_priority_set(&c.second, second_pri) == 0);
}
} // namespace

// Each pass runs one queue, then the loop looks at the timeouts again.
BOOST_AUTO_TEST_CASE(a_timeout_due_after_a_pass_runs_before_less_urgent_active_events) {
  BOOST_REQUIRE(event_base_priority_init(base, 3) == 0);
  chain c;
  c.by_timeout = true;
  step other;
  assign_chain(c, base, 0, 0);
  assign_step(other, base, c.log, 'x', 2);
  event_active(&c.first, EV_TIMEOUT, 1);
  event_active(&other.ev, EV_TIMEOUT, 1);
  event_base_dispatch(base);
  BOOST_TEST(c.log == "12x");
}

namespace {
struct pipe_chain {
  int fd[2];
  std::string log;
};
void write_pipe(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<pipe_chain*>(arg);
  c->log.push_back('w');
  BOOST_REQUIRE(::write(c->fd[1], "x", 1) == 1);
}
void read_pipe(evutil_socket_t fd, short, void* arg) {
  auto* c = static_cast<pipe_chain*>(arg);
  c->log.push_back('r');
  char ch;
  BOOST_REQUIRE(::read(fd, &ch, 1) == 1);
}
void log_x(evutil_socket_t, short, void* arg) { static_cast<pipe_chain*>(arg)->log.push_back('x'); }
} // namespace

// ... and at the fds.
BOOST_AUTO_TEST_CASE(an_fd_ready_after_a_pass_runs_before_less_urgent_active_events) {
  BOOST_REQUIRE(event_base_priority_init(base, 3) == 0);
  pipe_chain c;
  BOOST_REQUIRE(::pipe2(c.fd, O_CLOEXEC | O_NONBLOCK) == 0);
  event* w = event_new(base, -1, 0, write_pipe, &c);
  event* r = event_new(base, c.fd[0], EV_READ, read_pipe, &c);
  event* x = event_new(base, -1, 0, log_x, &c);
  BOOST_REQUIRE(event_priority_set(w, 0) == 0);
  BOOST_REQUIRE(event_priority_set(r, 0) == 0);
  BOOST_REQUIRE(event_priority_set(x, 2) == 0);
  BOOST_REQUIRE(event_add(r, nullptr) == 0);
  event_base_loop(base, EVLOOP_NONBLOCK);  // r waits on its fd
  event_active(w, EV_TIMEOUT, 1);
  event_active(x, EV_TIMEOUT, 1);
  event_base_dispatch(base);
  BOOST_TEST(c.log == "wrx");
  event_free(w);
  event_free(r);
  event_free(x);
  ::close(c.fd[0]);
  ::close(c.fd[1]);
}

BOOST_AUTO_TEST_CASE(an_event_activated_into_the_running_queue_runs_after_those_before_it) {
  BOOST_REQUIRE(event_base_priority_init(base, 3) == 0);
  chain c;
  step other;
  assign_chain(c, base, 1, 1);
  assign_step(other, base, c.log, 'x', 1);
  event_active(&c.first, EV_TIMEOUT, 1);
  event_active(&other.ev, EV_TIMEOUT, 1);
  event_base_dispatch(base);
  BOOST_TEST(c.log == "1x2");
}

BOOST_AUTO_TEST_CASE(a_less_urgent_event_activated_from_a_callback_waits_for_the_queue_to_empty) {
  BOOST_REQUIRE(event_base_priority_init(base, 3) == 0);
  chain c;
  step other;
  assign_chain(c, base, 0, 2);
  assign_step(other, base, c.log, 'x', 0);
  event_active(&c.first, EV_TIMEOUT, 1);
  event_active(&other.ev, EV_TIMEOUT, 1);
  event_base_dispatch(base);
  BOOST_TEST(c.log == "1x2");
}

BOOST_AUTO_TEST_CASE(a_more_urgent_event_activated_from_a_callback_runs_next) {
  BOOST_REQUIRE(event_base_priority_init(base, 3) == 0);
  chain c;
  step other;
  assign_chain(c, base, 2, 0);
  assign_step(other, base, c.log, 'x', 2);
  event_active(&c.first, EV_TIMEOUT, 1);
  event_active(&other.ev, EV_TIMEOUT, 1);
  event_base_dispatch(base);
  BOOST_TEST(c.log == "12x");
}

namespace {
event_base* continue_base = nullptr;
void write_then_continue(evutil_socket_t fd, short what, void* arg) {
  write_pipe(fd, what, arg);
  BOOST_TEST(event_base_loopcontinue(continue_base) == 0);
}
} // namespace

// loopcontinue ends the pass after the running callback: the loop polls
// (the pipe is readable now) before it runs the rest of the queue.
BOOST_AUTO_TEST_CASE(loopcontinue_polls_again_before_the_rest_of_the_queue_runs) {
  BOOST_REQUIRE(event_base_priority_init(base, 2) == 0);
  continue_base = base;
  pipe_chain c;
  BOOST_REQUIRE(::pipe2(c.fd, O_CLOEXEC | O_NONBLOCK) == 0);
  event* w = event_new(base, -1, 0, write_then_continue, &c);
  event* r = event_new(base, c.fd[0], EV_READ, read_pipe, &c);
  event* x = event_new(base, -1, 0, log_x, &c);
  BOOST_REQUIRE(event_priority_set(w, 1) == 0);
  BOOST_REQUIRE(event_priority_set(x, 1) == 0);
  BOOST_REQUIRE(event_priority_set(r, 0) == 0);
  BOOST_REQUIRE(event_add(r, nullptr) == 0);
  event_base_loop(base, EVLOOP_NONBLOCK);  // r waits on its fd
  event_active(w, EV_TIMEOUT, 1);
  event_active(x, EV_TIMEOUT, 1);
  event_base_dispatch(base);
  BOOST_TEST(c.log == "wrx");
  event_free(w);
  event_free(r);
  event_free(x);
  ::close(c.fd[0]);
  ::close(c.fd[1]);
}

BOOST_AUTO_TEST_CASE(loopcontinue_outside_the_loop_changes_nothing) {
  std::string log;
  step a, b;
  assign_step(a, base, log, 'a', 0);
  assign_step(b, base, log, 'b', 0);
  BOOST_TEST(event_base_loopcontinue(base) == 0);
  event_active(&a.ev, EV_TIMEOUT, 1);
  event_active(&b.ev, EV_TIMEOUT, 1);
  event_base_loop(base, EVLOOP_ONCE);
  BOOST_TEST(log == "ab");
}

// ---- ports of libevent's regress.c ----------------------------------------------

namespace {
// regress.c test_priorities: two zero timeouts that re-add themselves, the
// first at priority 0 and the second at the last priority; the first calls
// loopexit on its fourth run.
struct pri_event {
  event ev;
  int count = 0;
};

void pri_cb(evutil_socket_t, short, void* arg) {
  auto* p = static_cast<pri_event*>(arg);
  if (p->count == 3) {
    event_base_loopexit(p->ev.ev_base, nullptr);
    return;
  }
  ++p->count;
  const timeval zero{0, 0};
  event_add(&p->ev, &zero);
}

std::pair<int, int> run_priorities(event_base* base, int npriorities) {
  BOOST_REQUIRE(event_base_priority_init(base, npriorities) == 0);
  pri_event one, two;
  BOOST_REQUIRE(event_assign(&one.ev, base, -1, 0, pri_cb, &one) == 0);
  BOOST_REQUIRE(event_priority_set(&one.ev, 0) == 0);
  BOOST_REQUIRE(event_assign(&two.ev, base, -1, 0, pri_cb, &two) == 0);
  BOOST_REQUIRE(event_priority_set(&two.ev, npriorities - 1) == 0);
  const timeval zero{0, 0};
  BOOST_REQUIRE(event_add(&one.ev, &zero) == 0);
  BOOST_REQUIRE(event_add(&two.ev, &zero) == 0);
  event_base_dispatch(base);
  event_del(&one.ev);
  event_del(&two.ev);
  return {one.count, two.count};
}

// regress.c test_priority_active_inversion.
int pai_calls = 0;
event pai_events[3];
void pai_cb(evutil_socket_t, short, void* arg) {
  *static_cast<int*>(arg) = pai_calls++;
  if (pai_calls == 1) {
    event_active(&pai_events[1], EV_READ, 1);     // same priority: after
    event_active(&pai_events[2], EV_TIMEOUT, 1);  // more urgent: next
  }
}
} // namespace

BOOST_AUTO_TEST_CASE(regress_priorities_with_one_priority_both_run_alike) {
  BOOST_TEST((run_priorities(base, 1) == std::pair<int, int>(3, 3)));
}

BOOST_AUTO_TEST_CASE(regress_priorities_with_three_the_last_never_runs) {
  BOOST_TEST((run_priorities(base, 3) == std::pair<int, int>(3, 0)));
}

BOOST_AUTO_TEST_CASE(regress_priority_active_inversion) {
  BOOST_REQUIRE(event_base_priority_init(base, 8) == 0);
  pai_calls = 0;
  int order[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i)
    BOOST_REQUIRE(event_assign(&pai_events[i], base, -1, 0, pai_cb, &order[i]) == 0);
  event_priority_set(&pai_events[0], 4);
  event_priority_set(&pai_events[1], 4);
  event_priority_set(&pai_events[2], 0);
  event_active(&pai_events[0], EV_WRITE, 1);
  event_base_dispatch(base);
  BOOST_TEST(pai_calls == 3);
  BOOST_TEST(order[0] == 0);
  BOOST_TEST(order[1] == 2);
  BOOST_TEST(order[2] == 1);
}

BOOST_AUTO_TEST_CASE(event_priority_init_sets_the_priorities_of_the_current_base) {
  event_base* current = event_init();
  BOOST_REQUIRE(current);
  BOOST_TEST(event_priority_init(4) == 0);
  BOOST_TEST(event_base_get_npriorities(current) == 4);
  BOOST_TEST(event_base_get_npriorities(nullptr) == 4);
  event_base_free(current);
}

#ifdef EVASIO_VERSION
// libevent would crash on these; evasio fails them.
BOOST_AUTO_TEST_CASE(null_or_uninitialized_events_and_bases_are_refused) {
  BOOST_TEST(event_base_priority_init(nullptr, 2) == -1);
  BOOST_TEST(event_priority_set(nullptr, 0) == -1);
  BOOST_TEST(event_get_priority(nullptr) == -1);
  event ev;
  std::memset(&ev, 0, sizeof ev);
  errno = 0;
  BOOST_TEST(event_priority_set(&ev, 0) == -1);
  BOOST_TEST(errno == EINVAL);
  BOOST_TEST(event_get_priority(&ev) == -1);
  BOOST_TEST(event_base_loopcontinue(nullptr) == -1);
}
#endif

BOOST_AUTO_TEST_SUITE_END()

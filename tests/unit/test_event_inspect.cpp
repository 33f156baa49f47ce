// Looking at and steering a base's events (event2/event.h):
// event_base_get_running_event, event_remove_timer,
// event_base_init_common_timeout, event_get_assignment,
// event_base_foreach_event, event_base_dump_events, event_base_active_by_fd,
// event_base_active_by_signal, event_base_update_cache_time,
// event_base_get_max_events, event_del_block/_noblock, event_debug_unassign.
//
// Builds against real libevent too; cases of NULL or uninitialized input,
// which libevent would crash on, are under #ifdef EVASIO_VERSION.
#define BOOST_TEST_MODULE event_inspect
#include <boost/test/unit_test.hpp>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/thread.h>

#include "fixtures.hpp"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <set>
#include <string>
#include <thread>

namespace {

using nettest::ms_tv;
using base_fixture = nettest::AlarmedBase<30>;

struct pipe_fds {
  pipe_fds() { BOOST_REQUIRE(::pipe2(fd, O_CLOEXEC | O_NONBLOCK) == 0); }
  ~pipe_fds() {
    ::close(fd[0]);
    ::close(fd[1]);
  }
  int fd[2];
};

void nothing(evutil_socket_t, short, void*) {}

// Counts its calls and keeps the last `what`.
struct calls {
  int n = 0;
  short what = 0;
};
void count_call(evutil_socket_t, short what, void* arg) {
  auto* c = static_cast<calls*>(arg);
  ++c->n;
  c->what = what;
}

// ---- foreach helpers
struct visits {
  std::multiset<const event*> seen;
  int stop_after = -1;  // return 7 on that visit
};
int record_visit(const event_base*, const event* ev, void* arg) {
  auto* v = static_cast<visits*>(arg);
  v->seen.insert(ev);
  return static_cast<int>(v->seen.size()) == v->stop_after ? 7 : 0;
}

std::string dump(event_base* base) {
  char* text = nullptr;
  size_t len = 0;
  FILE* f = ::open_memstream(&text, &len);
  BOOST_REQUIRE(f);
  event_base_dump_events(base, f);
  std::fclose(f);
  std::string s(text, len);
  std::free(text);
  return s;
}

size_t count_of(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1))
    ++n;
  return n;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(inspect, base_fixture)

// ---- event_base_get_running_event ------------------------------------------------

namespace {
struct running_probe {
  event_base* base;
  event* seen = nullptr;
};
void probe_running(evutil_socket_t, short, void* arg) {
  auto* p = static_cast<running_probe*>(arg);
  p->seen = event_base_get_running_event(p->base);
}
} // namespace

BOOST_AUTO_TEST_CASE(running_event_is_the_event_whose_callback_runs) {
  running_probe p{base};
  event ev;
  BOOST_REQUIRE(event_assign(&ev, base, -1, 0, probe_running, &p) == 0);
  event_active(&ev, EV_TIMEOUT, 1);
  event_base_dispatch(base);
  BOOST_TEST(p.seen == &ev);
}

BOOST_AUTO_TEST_CASE(running_event_of_a_base_once_callback_is_an_event) {
  running_probe p{base};
  const timeval zero{0, 0};
  BOOST_REQUIRE(event_base_once(base, -1, EV_TIMEOUT, probe_running, &p, &zero) == 0);
  event_base_dispatch(base);
  BOOST_TEST(p.seen != nullptr);
}

// ---- event_remove_timer ------------------------------------------------------------

BOOST_AUTO_TEST_CASE(remove_timer_keeps_the_event_on_its_fd) {
  pipe_fds p;
  event ev;
  BOOST_REQUIRE(event_assign(&ev, base, p.fd[0], EV_READ, nothing, nullptr) == 0);
  const timeval tv = ms_tv(10000);
  BOOST_REQUIRE(event_add(&ev, &tv) == 0);
  BOOST_TEST(event_remove_timer(&ev) == 0);
  BOOST_TEST(event_pending(&ev, EV_TIMEOUT, nullptr) == 0);
  BOOST_TEST(event_pending(&ev, EV_READ, nullptr) == EV_READ);
  event_del(&ev);
}

BOOST_AUTO_TEST_CASE(remove_timer_of_a_timer_leaves_nothing_pending) {
  event ev;
  BOOST_REQUIRE(evtimer_assign(&ev, base, nothing, nullptr) == 0);
  const timeval tv = ms_tv(10000);
  BOOST_REQUIRE(event_add(&ev, &tv) == 0);
  BOOST_TEST(event_remove_timer(&ev) == 0);
  BOOST_TEST(event_pending(&ev, EV_TIMEOUT, nullptr) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);  // no events
}

BOOST_AUTO_TEST_CASE(remove_timer_without_a_timeout_is_a_no_op) {
  event ev;
  BOOST_REQUIRE(evtimer_assign(&ev, base, nothing, nullptr) == 0);
  BOOST_TEST(event_remove_timer(&ev) == 0);
}

BOOST_AUTO_TEST_CASE(remove_timer_makes_a_persistent_event_forget_its_timeout) {
  pipe_fds p;
  calls c;
  event ev;
  BOOST_REQUIRE(event_assign(&ev, base, p.fd[0], EV_READ | EV_PERSIST, count_call, &c) == 0);
  const timeval tv = ms_tv(10000);
  BOOST_REQUIRE(event_add(&ev, &tv) == 0);
  BOOST_REQUIRE(event_remove_timer(&ev) == 0);
  BOOST_REQUIRE(::write(p.fd[1], "x", 1) == 1);
  event_base_loop(base, EVLOOP_ONCE);
  BOOST_REQUIRE(c.n == 1);
  BOOST_TEST(event_pending(&ev, EV_TIMEOUT, nullptr) == 0);
  event_del(&ev);
}

// ---- event_base_init_common_timeout ---------------------------------------------------

BOOST_AUTO_TEST_CASE(common_timeout_is_the_same_pointer_for_the_same_duration) {
  const timeval d = ms_tv(1500);
  const timeval* a = event_base_init_common_timeout(base, &d);
  const timeval* b = event_base_init_common_timeout(base, &d);
  BOOST_REQUIRE(a);
  BOOST_TEST(a == b);
  BOOST_TEST(a->tv_sec == 1);
}

BOOST_AUTO_TEST_CASE(common_timeouts_of_different_durations_differ) {
  const timeval d1 = ms_tv(100), d2 = ms_tv(200);
  BOOST_TEST(event_base_init_common_timeout(base, &d1) != event_base_init_common_timeout(base, &d2));
}

BOOST_AUTO_TEST_CASE(common_timeout_duration_beyond_a_second_of_usec_is_normalised) {
  const timeval odd{0, 1500000}, even{1, 500000};
  BOOST_TEST(event_base_init_common_timeout(base, &odd) == event_base_init_common_timeout(base, &even));
}

BOOST_AUTO_TEST_CASE(common_timeout_is_a_timeout_event_add_accepts) {
  const timeval d = ms_tv(20);
  const timeval* common = event_base_init_common_timeout(base, &d);
  BOOST_REQUIRE(common);
  calls c;
  event ev;
  BOOST_REQUIRE(evtimer_assign(&ev, base, count_call, &c) == 0);
  nettest::stopwatch sw;
  BOOST_REQUIRE(event_add(&ev, common) == 0);
  event_base_dispatch(base);
  BOOST_TEST(c.n == 1);
  BOOST_TEST(c.what == EV_TIMEOUT);
  BOOST_TEST(sw.elapsed_us() >= 20000);
}

// ---- event_get_assignment -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(get_assignment_reports_what_assign_was_given) {
  int arg = 0;
  event ev;
  BOOST_REQUIRE(event_assign(&ev, base, 5, EV_READ | EV_PERSIST, count_call, &arg) == 0);
  event_base* b = nullptr;
  evutil_socket_t fd = -1;
  short events = 0;
  event_callback_fn cb = nullptr;
  void* a = nullptr;
  event_get_assignment(&ev, &b, &fd, &events, &cb, &a);
  BOOST_TEST(b == base);
  BOOST_TEST(fd == 5);
  BOOST_TEST(events == (EV_READ | EV_PERSIST));
  BOOST_TEST(cb == &count_call);
  BOOST_TEST(a == static_cast<void*>(&arg));
}

BOOST_AUTO_TEST_CASE(get_assignment_takes_null_out_pointers) {
  event ev;
  BOOST_REQUIRE(event_assign(&ev, base, 5, EV_READ, count_call, nullptr) == 0);
  evutil_socket_t fd = -1;
  event_get_assignment(&ev, nullptr, &fd, nullptr, nullptr, nullptr);
  BOOST_TEST(fd == 5);
}

// ---- event_base_foreach_event --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(foreach_visits_each_added_or_active_event_once) {
  pipe_fds p;
  event io, timer, both, active, idle;
  BOOST_REQUIRE(event_assign(&io, base, p.fd[0], EV_READ, nothing, nullptr) == 0);
  BOOST_REQUIRE(evtimer_assign(&timer, base, nothing, nullptr) == 0);
  BOOST_REQUIRE(event_assign(&both, base, p.fd[1], EV_WRITE, nothing, nullptr) == 0);
  BOOST_REQUIRE(evtimer_assign(&active, base, nothing, nullptr) == 0);
  BOOST_REQUIRE(evtimer_assign(&idle, base, nothing, nullptr) == 0);
  const timeval tv = ms_tv(10000);
  BOOST_REQUIRE(event_add(&io, nullptr) == 0);
  BOOST_REQUIRE(event_add(&timer, &tv) == 0);
  BOOST_REQUIRE(event_add(&both, &tv) == 0);
  event_active(&both, EV_WRITE, 1);
  event_active(&active, EV_TIMEOUT, 1);
  visits v;
  BOOST_TEST(event_base_foreach_event(base, record_visit, &v) == 0);
  BOOST_TEST(v.seen.size() == 4u);
  for (const event* e : {&io, &timer, &both, &active})
    BOOST_TEST(v.seen.count(e) == 1u);
  BOOST_TEST(v.seen.count(&idle) == 0u);
  event_del(&io);
  event_del(&timer);
  event_del(&both);
  event_del(&active);
}

BOOST_AUTO_TEST_CASE(foreach_stops_at_a_non_zero_return_and_returns_it) {
  event a, b, c;
  const timeval tv = ms_tv(10000);
  for (event* e : {&a, &b, &c}) {
    BOOST_REQUIRE(evtimer_assign(e, base, nothing, nullptr) == 0);
    BOOST_REQUIRE(event_add(e, &tv) == 0);
  }
  visits v;
  v.stop_after = 2;
  BOOST_TEST(event_base_foreach_event(base, record_visit, &v) == 7);
  BOOST_TEST(v.seen.size() == 2u);
  for (event* e : {&a, &b, &c})
    event_del(e);
}

BOOST_AUTO_TEST_CASE(foreach_without_a_callback_fails) {
  BOOST_TEST(event_base_foreach_event(base, nullptr, nullptr) == -1);
}

// ---- event_base_dump_events ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(dump_lists_inserted_then_active_events) {
  pipe_fds p;
  event io, active;
  BOOST_REQUIRE(event_assign(&io, base, p.fd[0], EV_READ | EV_PERSIST, nothing, nullptr) == 0);
  BOOST_REQUIRE(evtimer_assign(&active, base, nothing, nullptr) == 0);
  const timeval tv = ms_tv(10000);
  BOOST_REQUIRE(event_add(&io, &tv) == 0);
  event_active(&active, EV_TIMEOUT, 1);
  const std::string text = dump(base);
  const size_t inserted = text.find("Inserted events:\n");
  const size_t act = text.find("Active events:\n");
  BOOST_REQUIRE(inserted != std::string::npos);
  BOOST_REQUIRE(act != std::string::npos);
  BOOST_TEST(inserted < act);
  const std::string first = text.substr(inserted, act - inserted);
  const std::string second = text.substr(act);
  BOOST_TEST(count_of(first, " Read Persist Timeout=") == 1u);
  BOOST_TEST(count_of(second, " Timeout active") == 1u);
  event_del(&io);
  event_del(&active);
}

BOOST_AUTO_TEST_CASE(dump_of_an_empty_base_has_both_headings_only) {
  BOOST_TEST(dump(base) == "Inserted events:\nActive events:\n");
}

// ---- event_base_active_by_fd / _by_signal --------------------------------------------------------

BOOST_AUTO_TEST_CASE(active_by_fd_runs_the_fds_events_that_wait_for_those_events) {
  pipe_fds p;
  calls r, w;
  event rd, wr;
  BOOST_REQUIRE(event_assign(&rd, base, p.fd[0], EV_READ, count_call, &r) == 0);
  BOOST_REQUIRE(event_assign(&wr, base, p.fd[0], EV_WRITE, count_call, &w) == 0);
  BOOST_REQUIRE(event_add(&rd, nullptr) == 0);
  BOOST_REQUIRE(event_add(&wr, nullptr) == 0);
  event_base_active_by_fd(base, p.fd[0], EV_READ);
  event_base_loop(base, EVLOOP_NONBLOCK);
  BOOST_TEST(r.n == 1);
  BOOST_TEST(r.what == EV_READ);
  BOOST_TEST(w.n == 0);
  event_del(&wr);
}

BOOST_AUTO_TEST_CASE(active_by_fd_with_timeout_runs_the_fds_events_that_have_a_timeout) {
  pipe_fds p;
  calls timed, untimed;
  event a, b;
  BOOST_REQUIRE(event_assign(&a, base, p.fd[0], EV_READ, count_call, &timed) == 0);
  BOOST_REQUIRE(event_assign(&b, base, p.fd[0], EV_READ, count_call, &untimed) == 0);
  const timeval tv = ms_tv(10000);
  BOOST_REQUIRE(event_add(&a, &tv) == 0);
  BOOST_REQUIRE(event_add(&b, nullptr) == 0);
  event_base_active_by_fd(base, p.fd[0], EV_TIMEOUT);
  event_base_loop(base, EVLOOP_NONBLOCK);
  BOOST_TEST(timed.n == 1);
  BOOST_TEST(timed.what == EV_TIMEOUT);
  BOOST_TEST(untimed.n == 0);
  event_del(&b);
}

BOOST_AUTO_TEST_CASE(active_by_signal_runs_the_signals_events_without_a_signal) {
  calls c;
  event ev;
  BOOST_REQUIRE(evsignal_assign(&ev, base, SIGUSR1, count_call, &c) == 0);
  BOOST_REQUIRE(event_add(&ev, nullptr) == 0);
  event_base_active_by_signal(base, SIGUSR1);
  event_base_loop(base, EVLOOP_NONBLOCK);
  BOOST_TEST(c.n == 1);
  BOOST_TEST(c.what == EV_SIGNAL);
  event_del(&ev);
}

// ---- cached time ----------------------------------------------------------------------------------

namespace {
struct cache_probe {
  event_base* base;
  timeval before{}, after{}, refreshed{};
};
void probe_cache(evutil_socket_t, short, void* arg) {
  auto* p = static_cast<cache_probe*>(arg);
  event_base_gettimeofday_cached(p->base, &p->before);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  event_base_gettimeofday_cached(p->base, &p->after);
  event_base_update_cache_time(p->base);
  event_base_gettimeofday_cached(p->base, &p->refreshed);
}
long long us(const timeval& tv) { return tv.tv_sec * 1000000LL + tv.tv_usec; }
} // namespace

BOOST_AUTO_TEST_CASE(update_cache_time_refreshes_the_time_callbacks_see) {
  cache_probe p{base};
  event ev;
  BOOST_REQUIRE(evtimer_assign(&ev, base, probe_cache, &p) == 0);
  event_active(&ev, EV_TIMEOUT, 1);
  event_base_dispatch(base);
  BOOST_TEST(us(p.after) == us(p.before));  // cached
  BOOST_TEST(us(p.refreshed) - us(p.before) >= 25000);
}

BOOST_AUTO_TEST_CASE(update_cache_time_outside_the_loop_succeeds) {
  BOOST_TEST(event_base_update_cache_time(base) == 0);
}

// ---- event_base_get_max_events -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(max_events_keeps_the_most_events_added_at_once) {
  event a, b, c;
  const timeval tv = ms_tv(10000);
  for (event* e : {&a, &b, &c}) {
    BOOST_REQUIRE(evtimer_assign(e, base, nothing, nullptr) == 0);
    BOOST_REQUIRE(event_add(e, &tv) == 0);
  }
  for (event* e : {&a, &b, &c})
    event_del(e);
  BOOST_TEST(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED) == 0);
  BOOST_TEST(event_base_get_max_events(base, EVENT_BASE_COUNT_ADDED, 0) == 3);
}

BOOST_AUTO_TEST_CASE(max_events_keeps_the_most_events_active_at_once) {
  event a, b;
  for (event* e : {&a, &b}) {
    BOOST_REQUIRE(evtimer_assign(e, base, nothing, nullptr) == 0);
    event_active(e, EV_TIMEOUT, 1);
  }
  event_base_dispatch(base);
  BOOST_TEST(event_base_get_max_events(base, EVENT_BASE_COUNT_ACTIVE, 0) == 2);
}

BOOST_AUTO_TEST_CASE(max_events_clear_resets_the_maximum) {
  event a;
  const timeval tv = ms_tv(10000);
  BOOST_REQUIRE(evtimer_assign(&a, base, nothing, nullptr) == 0);
  BOOST_REQUIRE(event_add(&a, &tv) == 0);
  event_del(&a);
  BOOST_TEST(event_base_get_max_events(base, EVENT_BASE_COUNT_ADDED, 1) == 1);
  BOOST_TEST(event_base_get_max_events(base, EVENT_BASE_COUNT_ADDED, 0) == 0);
}

// ---- event_del_block / _noblock, event_debug_unassign ---------------------------------------------

BOOST_AUTO_TEST_CASE(del_noblock_and_del_block_delete_the_event) {
  event a, b;
  const timeval tv = ms_tv(10000);
  BOOST_REQUIRE(evtimer_assign(&a, base, nothing, nullptr) == 0);
  BOOST_REQUIRE(evtimer_assign(&b, base, nothing, nullptr) == 0);
  BOOST_REQUIRE(event_add(&a, &tv) == 0);
  BOOST_REQUIRE(event_add(&b, &tv) == 0);
  BOOST_TEST(event_del_noblock(&a) == 0);
  BOOST_TEST(event_del_block(&b) == 0);
  BOOST_TEST(event_pending(&a, EV_TIMEOUT, nullptr) == 0);
  BOOST_TEST(event_pending(&b, EV_TIMEOUT, nullptr) == 0);
}

BOOST_AUTO_TEST_CASE(debug_unassign_makes_the_event_uninitialized) {
  event ev;
  BOOST_REQUIRE(evtimer_assign(&ev, base, nothing, nullptr) == 0);
  event_debug_unassign(&ev);
  BOOST_TEST(event_initialized(&ev) == 0);
}

#ifdef EVASIO_VERSION
// libevent would crash on these; evasio refuses them.
BOOST_AUTO_TEST_CASE(null_and_uninitialized_input_is_refused) {
  BOOST_TEST(event_base_get_running_event(base) == nullptr);  // no callback runs
  BOOST_TEST(event_base_get_running_event(nullptr) == nullptr);
  BOOST_TEST(event_remove_timer(nullptr) == -1);
  BOOST_TEST(event_del_block(nullptr) == -1);
  BOOST_TEST(event_del_noblock(nullptr) == -1);
  const timeval d = ms_tv(10);
  BOOST_TEST(event_base_init_common_timeout(nullptr, &d) == nullptr);
  BOOST_TEST(event_base_init_common_timeout(base, nullptr) == nullptr);
  BOOST_TEST(event_base_foreach_event(nullptr, record_visit, nullptr) == -1);
  event_base_dump_events(nullptr, stdout);
  event_base_dump_events(base, nullptr);
  event_base_active_by_fd(nullptr, 0, EV_READ);
  event_base_active_by_signal(nullptr, SIGUSR1);
  BOOST_TEST(event_base_get_max_events(nullptr, EVENT_BASE_COUNT_ADDED, 0) == -1);
  event ev;
  std::memset(&ev, 0, sizeof ev);
  BOOST_TEST(event_remove_timer(&ev) == -1);
  evutil_socket_t fd = 42;
  event_get_assignment(&ev, nullptr, &fd, nullptr, nullptr, nullptr);
  BOOST_TEST(fd == 42);  // untouched
  event_get_assignment(nullptr, nullptr, &fd, nullptr, nullptr, nullptr);
  event_debug_unassign(nullptr);
}

BOOST_AUTO_TEST_CASE(debug_unassign_leaves_a_pending_event_alone) {
  event ev;
  const timeval tv = ms_tv(10000);
  BOOST_REQUIRE(evtimer_assign(&ev, base, nothing, nullptr) == 0);
  BOOST_REQUIRE(event_add(&ev, &tv) == 0);
  event_debug_unassign(&ev);
  BOOST_TEST(event_initialized(&ev) == 1);
  event_del(&ev);
}
#endif

BOOST_AUTO_TEST_SUITE_END()

// ---- waiting for a callback on another thread --------------------------------------------------------

namespace {
struct slow_callback {
  std::atomic<bool> started{false};
  std::atomic<bool> finished{false};
};
void run_slowly(evutil_socket_t, short, void* arg) {
  auto* s = static_cast<slow_callback*>(arg);
  s->started = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  s->finished = true;
}

// Deletes the event from another thread while its callback runs; returns
// whether the callback had finished when the delete returned.
template <class Del>
bool finished_when_deleted(short extra_events, Del del) {
  BOOST_REQUIRE(evthread_use_pthreads() == 0);
  event_base* base = event_base_new();
  BOOST_REQUIRE(base);
  slow_callback s;
  event* ev = event_new(base, -1, extra_events, run_slowly, &s);
  event_active(ev, EV_TIMEOUT, 1);
  std::thread loop([&] { event_base_dispatch(base); });
  while (!s.started)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  del(ev);
  const bool finished = s.finished;
  loop.join();
  event_free(ev);
  event_base_free(base);
  return finished;
}
} // namespace

BOOST_AUTO_TEST_SUITE(threads)

BOOST_AUTO_TEST_CASE(del_block_waits_for_the_callback_running_on_another_thread) {
  nettest::SafetyAlarm alarm(30, "del_block");
  BOOST_TEST(finished_when_deleted(0, event_del_block));
}

BOOST_AUTO_TEST_CASE(del_noblock_returns_while_the_callback_runs_on_another_thread) {
  nettest::SafetyAlarm alarm(30, "del_noblock");
  BOOST_TEST(!finished_when_deleted(0, event_del_noblock));
}

BOOST_AUTO_TEST_CASE(del_of_an_ev_finalize_event_does_not_wait_for_its_callback) {
  nettest::SafetyAlarm alarm(30, "del_finalize");
  BOOST_TEST(!finished_when_deleted(EV_FINALIZE, event_del));
}

BOOST_AUTO_TEST_CASE(del_of_an_event_waits_for_its_callback_on_another_thread) {
  nettest::SafetyAlarm alarm(30, "del_wait");
  BOOST_TEST(finished_when_deleted(0, event_del));
}

BOOST_AUTO_TEST_SUITE_END()

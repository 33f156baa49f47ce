// Finalizers (event2/event.h): event_finalize, event_free_finalize,
// event_base_free_nofinalize, with libevent 2.1.12's semantics: the event
// is deleted without waiting and can no longer run; its finalizer runs once,
// from the loop, after any callback of the event has returned. Includes
// ports of libevent's regress_finalize.c.
//
// Builds against real libevent too; the cases of NULL or uninitialized
// input, which libevent would crash on, are under #ifdef EVASIO_VERSION.
#define BOOST_TEST_MODULE event_finalize
#include <boost/test/unit_test.hpp>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/thread.h>

#include "fixtures.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace {

using nettest::ms_tv;
using base_fixture = nettest::AlarmedBase<30>;

// regress_finalize.c's counters: a callback adds 1, a finalizer 100.
void timer_cb(evutil_socket_t, short, void* arg) { *static_cast<int*>(arg) += 1; }
void finalizer_cb(struct event*, void* arg) { *static_cast<int*>(arg) += 100; }

const timeval ten_sec{10, 0};

} // namespace

BOOST_FIXTURE_TEST_SUITE(finalize, base_fixture)

BOOST_AUTO_TEST_CASE(finalizer_of_an_event_never_added_runs_from_the_loop) {
  int called = 0;
  event* ev = evtimer_new(base, timer_cb, &called);
  BOOST_TEST(event_free_finalize(0, ev, finalizer_cb) == 0);
  BOOST_TEST(called == 0);  // not from event_free_finalize itself
  event_base_dispatch(base);
  BOOST_TEST(called == 100);
}

BOOST_AUTO_TEST_CASE(finalizing_an_active_event_runs_only_its_finalizer) {
  int called = 0;
  event* ev = evtimer_new(base, timer_cb, &called);
  event_active(ev, EV_TIMEOUT, 1);
  BOOST_TEST(event_free_finalize(0, ev, finalizer_cb) == 0);
  event_base_dispatch(base);
  BOOST_TEST(called == 100);
}

BOOST_AUTO_TEST_CASE(finalizing_a_pending_event_deletes_it) {
  int called = 0;
  event* ev = evtimer_new(base, timer_cb, &called);
  BOOST_REQUIRE(event_add(ev, &ten_sec) == 0);
  BOOST_TEST(event_free_finalize(0, ev, finalizer_cb) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);  // ran the finalizer, then no events
  BOOST_TEST(called == 100);
}

BOOST_AUTO_TEST_CASE(a_finalizing_event_cannot_be_added_deleted_or_activated) {
  int called = 0;
  event* ev = evtimer_new(base, timer_cb, &called);
  event ev2;
  BOOST_REQUIRE(evtimer_assign(&ev2, base, timer_cb, &called) == 0);
  BOOST_REQUIRE(event_add(ev, &ten_sec) == 0);
  BOOST_TEST(event_free_finalize(0, ev, finalizer_cb) == 0);
  BOOST_TEST(event_finalize(0, &ev2, finalizer_cb) == 0);
  BOOST_TEST(event_add(&ev2, &ten_sec) == -1);
  BOOST_TEST(event_del(ev) == 0);
  event_active(&ev2, EV_TIMEOUT, 1);
  event_base_dispatch(base);
  BOOST_TEST(called == 200);  // two finalizers, no callback
}

BOOST_AUTO_TEST_CASE(finalizing_event_is_on_the_active_and_finalizing_lists) {
  int called = 0;
  event ev;
  BOOST_REQUIRE(evtimer_assign(&ev, base, timer_cb, &called) == 0);
  BOOST_REQUIRE(event_add(&ev, &ten_sec) == 0);
  BOOST_REQUIRE(event_finalize(0, &ev, finalizer_cb) == 0);
  BOOST_TEST(ev.ev_evcallback.evcb_flags == (EVLIST_INIT | EVLIST_ACTIVE | EVLIST_FINALIZING));
  BOOST_TEST(event_pending(&ev, EV_TIMEOUT, nullptr) == 0);
  event_base_dispatch(base);
  BOOST_TEST(called == 100);
}

namespace {
struct finalizer_args {
  struct event* ev = nullptr;
  void* arg = nullptr;
};
void record_finalizer(struct event* ev, void* arg) {
  auto* seen = static_cast<finalizer_args*>(arg);
  seen->ev = ev;
  seen->arg = arg;
}
} // namespace

BOOST_AUTO_TEST_CASE(finalizer_gets_the_event_and_its_callback_arg) {
  finalizer_args seen;
  event ev;
  BOOST_REQUIRE(evtimer_assign(&ev, base, timer_cb, &seen) == 0);
  BOOST_REQUIRE(event_finalize(0, &ev, record_finalizer) == 0);
  event_base_dispatch(base);
  BOOST_TEST(seen.ev == &ev);
  BOOST_TEST(seen.arg == static_cast<void*>(&seen));
}

// ---- regress_finalize.c test_fin_within_cb ---------------------------------------

namespace {
struct event_and_count {
  event* ev;
  event* ev2;
  int count;
};
void free_in_finalizer(struct event* ev, void* arg) {
  static_cast<event_and_count*>(arg)->count += 100;
  event_free(ev);
}
void finalize_both(evutil_socket_t, short, void* arg) {
  auto* evc = static_cast<event_and_count*>(arg);
  event_finalize(0, evc->ev, free_in_finalizer);
  event_finalize(0, evc->ev2, free_in_finalizer);
  ++evc->count;
}

void run_within_cb(event_base* base, short events) {
  event_and_count evc1{}, evc2{};
  evc2.ev2 = evc1.ev = event_new(base, -1, events, finalize_both, &evc1);
  evc1.ev2 = evc2.ev = event_new(base, -1, events, finalize_both, &evc2);
  // The first callback finalizes both: the second callback never runs.
  event_active(evc1.ev, EV_TIMEOUT, 1);
  event_active(evc2.ev, EV_TIMEOUT, 1);
  event_base_dispatch(base);
  BOOST_TEST(evc1.count == 101);
  BOOST_TEST(evc2.count == 100);
}
} // namespace

BOOST_AUTO_TEST_CASE(regress_finalize_from_within_a_callback) { run_within_cb(base, 0); }

BOOST_AUTO_TEST_CASE(regress_finalize_from_within_a_callback_of_persistent_events) {
  run_within_cb(base, EV_PERSIST);
}

// ---- regress_finalize.c test_fin_debug_use_after_free ------------------------------

namespace {
int reuse_ok = 0;
// With a base as arg: reassign the event (so it may be added again); else
// free it.
void reassign_or_free(struct event* ev, void* arg) {
  if (auto* base = static_cast<event_base*>(arg)) {
    BOOST_TEST(event_assign(ev, base, -1, EV_TIMEOUT, nullptr, nullptr) == 0);
  } else {
    std::free(ev);
  }
  ++reuse_ok;
}
} // namespace

BOOST_AUTO_TEST_CASE(regress_a_finalizer_may_reassign_its_event_for_reuse) {
  reuse_ok = 0;
  event* ev = event_new(base, -1, EV_TIMEOUT, nullptr, base);
  BOOST_REQUIRE(ev);
  BOOST_TEST(event_add(ev, nullptr) == 0);
  BOOST_TEST(event_finalize(0, ev, reassign_or_free) == 0);
  event_base_dispatch(base);
  BOOST_TEST(reuse_ok == 1);
  BOOST_TEST(event_add(ev, nullptr) == 0);
  BOOST_TEST(event_finalize(0, ev, reassign_or_free) == 0);
  event_base_dispatch(base);
  BOOST_TEST(reuse_ok == 2);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- freeing the base ---------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(base_free)

BOOST_AUTO_TEST_CASE(freeing_the_base_runs_the_finalizers_still_due) {
  nettest::SafetyAlarm alarm(30, "base_free");
  event_base* base = event_base_new();
  int called = 0;
  event* ev = evtimer_new(base, timer_cb, &called);
  BOOST_REQUIRE(event_free_finalize(0, ev, finalizer_cb) == 0);
  event_base_free(base);
  BOOST_TEST(called == 100);
}

BOOST_AUTO_TEST_CASE(free_nofinalize_frees_the_base_without_running_finalizers) {
  nettest::SafetyAlarm alarm(30, "base_free_nofinalize");
  event_base* base = event_base_new();
  int called = 0;
  event ev;  // not freed by a finalizer: nothing leaks
  BOOST_REQUIRE(evtimer_assign(&ev, base, timer_cb, &called) == 0);
  BOOST_REQUIRE(event_finalize(0, &ev, finalizer_cb) == 0);
  event_base_free_nofinalize(base);
  BOOST_TEST(called == 0);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- a callback running on another thread ---------------------------------------------

namespace {
struct slow {
  std::atomic<bool> started{false};
  std::atomic<bool> finished{false};
  std::atomic<bool> finished_before_finalizer{false};
  std::atomic<int> finalized{0};
};
void slow_cb(evutil_socket_t, short, void* arg) {
  auto* s = static_cast<slow*>(arg);
  s->started = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  s->finished = true;
}
void note_finalized(struct event*, void* arg) {
  auto* s = static_cast<slow*>(arg);
  s->finished_before_finalizer = s->finished.load();
  ++s->finalized;
}
} // namespace

BOOST_AUTO_TEST_SUITE(threads)

BOOST_AUTO_TEST_CASE(finalize_does_not_wait_and_the_finalizer_runs_after_the_callback) {
  nettest::SafetyAlarm alarm(30, "finalize_threads");
  BOOST_REQUIRE(evthread_use_pthreads() == 0);
  event_base* base = event_base_new();
  BOOST_REQUIRE(base);
  slow s;
  event* ev = event_new(base, -1, 0, slow_cb, &s);
  event_active(ev, EV_TIMEOUT, 1);
  std::thread loop([&] { event_base_dispatch(base); });
  while (!s.started)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  BOOST_TEST(event_free_finalize(0, ev, note_finalized) == 0);
  BOOST_TEST(!s.finished);  // returned while the callback runs
  loop.join();
  BOOST_TEST(s.finalized == 1);
  BOOST_TEST(s.finished_before_finalizer);
  event_base_free(base);
}

BOOST_AUTO_TEST_SUITE_END()

#ifdef EVASIO_VERSION
// libevent would crash on these; evasio refuses them.
BOOST_FIXTURE_TEST_SUITE(bad_input, base_fixture)

BOOST_AUTO_TEST_CASE(null_or_uninitialized_events_and_null_finalizers_are_refused) {
  BOOST_TEST(event_finalize(0, nullptr, finalizer_cb) == -1);
  BOOST_TEST(event_free_finalize(0, nullptr, finalizer_cb) == -1);
  event ev;
  std::memset(&ev, 0, sizeof ev);
  BOOST_TEST(event_finalize(0, &ev, finalizer_cb) == -1);
  BOOST_REQUIRE(evtimer_assign(&ev, base, timer_cb, nullptr) == 0);
  BOOST_TEST(event_finalize(0, &ev, nullptr) == -1);
  event_base_free_nofinalize(nullptr);  // no current base: nothing
}

BOOST_AUTO_TEST_SUITE_END()
#endif

// event2/event.h: struct event (fd readiness, timeouts, signals), the
// evtimer_*/evsignal_* macros, event_base_once, the accessors and the loop
// flags as they interact with events, with libevent 2.1.12's semantics.
//
// The file builds against real libevent too (system headers, -levent
// -levent_pthreads), which is how every expectation here was checked. Cases
// where evasio differs on purpose are under #ifdef EVASIO_VERSION.
//
// Only real fds are used (pipes, socketpairs). No assertion depends on how
// fast anything runs: timeouts are safety nets (SafetyAlarm), and a timer
// test checks only that a timer did not fire before its time.
#define BOOST_TEST_MODULE event
#include <boost/test/unit_test.hpp>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "fixtures.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

// ---- helpers ------------------------------------------------------------------

using nettest::ms_tv;
using nettest::stopwatch;

// Every test gets a fresh base and a safety alarm (a hang fails the test).
using base_fixture = nettest::AlarmedBase<30>;

// A pipe: r is the (non-blocking) read end, w the write end.
struct pipe_pair {
  pipe_pair() {
    int p[2];
    BOOST_REQUIRE(::pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0);
    r.reset(p[0]);
    w.reset(p[1]);
  }
  void put(const char* s) const {
    const ssize_t n = ::write(w.get(), s, std::strlen(s));
    BOOST_REQUIRE_EQUAL(n, static_cast<ssize_t>(std::strlen(s)));
  }
  size_t drain() const {
    char buf[4096];
    size_t total = 0;
    ssize_t n;
    while ((n = ::read(r.get(), buf, sizeof buf)) > 0)
      total += static_cast<size_t>(n);
    return total;
  }
  nettest::Fd r, w;
};

using nettest::socket_pair;

// What callbacks saw.
struct rec {
  int calls = 0;
  evutil_socket_t fd = -2;
  short what = 0;
  void* arg = nullptr;
  std::vector<short> whats;
  // Safety net against a loop that keeps calling back when it should have
  // returned: after `limit` calls the callback breaks the loop, so such a
  // failure shows as a wrong count instead of a hang.
  event_base* guard = nullptr;
  int limit = 100;
};

void record_cb(evutil_socket_t fd, short what, void* arg) {
  auto* r = static_cast<rec*>(arg);
  ++r->calls;
  r->fd = fd;
  r->what = what;
  if (r->whats.size() < 1000)
    r->whats.push_back(what);
  if (r->guard && r->calls >= r->limit)
    event_base_loopbreak(r->guard);
}

void noop_cb(evutil_socket_t, short, void*) {}

long long tv_us(const timeval& tv) { return tv.tv_sec * 1000000LL + tv.tv_usec; }

long long wall_now_us() {
  timeval tv;
  ::gettimeofday(&tv, nullptr);
  return tv_us(tv);
}

// Storage for an event_assign()ed event: malloc-free, as a porter would
// embed struct event in their own struct.
struct holder {
  struct event ev;
  rec seen;
  int stop_after = 0;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(events, base_fixture)

// ---- creation, assignment, accessors ---------------------------------------------

BOOST_AUTO_TEST_CASE(event_new_sets_the_accessors) {
  pipe_pair p;
  int marker = 0;
  event* ev = event_new(base, p.r.get(), EV_READ | EV_PERSIST, record_cb, &marker);
  BOOST_REQUIRE(ev != nullptr);
  BOOST_TEST(event_get_fd(ev) == p.r.get());
  BOOST_TEST(event_get_base(ev) == base);
  BOOST_TEST(event_get_events(ev) == (EV_READ | EV_PERSIST));
  BOOST_TEST(event_get_callback(ev) == &record_cb);
  BOOST_TEST(event_get_callback_arg(ev) == static_cast<void*>(&marker));
  BOOST_TEST(event_initialized(ev) == 1);
  BOOST_TEST(event_pending(ev, EV_READ | EV_WRITE | EV_TIMEOUT | EV_SIGNAL, nullptr) == 0);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(event_new_accepts_a_timer_with_fd_minus_one) {
  event* ev = evtimer_new(base, noop_cb, nullptr);
  BOOST_REQUIRE(ev != nullptr);
  BOOST_TEST(event_get_fd(ev) == -1);
  BOOST_TEST(event_get_events(ev) == 0);
  BOOST_TEST(evtimer_initialized(ev) == 1);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(event_new_refuses_signal_combined_with_read_or_write) {
  // libevent logs a warning and fails.
  BOOST_TEST(event_new(base, SIGUSR1, EV_SIGNAL | EV_READ, noop_cb, nullptr) == nullptr);
  BOOST_TEST(event_new(base, SIGUSR1, EV_SIGNAL | EV_WRITE, noop_cb, nullptr) == nullptr);
  struct event ev;
  std::memset(&ev, 0, sizeof ev);
  BOOST_TEST(event_assign(&ev, base, SIGUSR1, EV_SIGNAL | EV_READ, noop_cb, nullptr) == -1);
}

BOOST_AUTO_TEST_CASE(event_free_of_a_pending_event_removes_it_from_the_base) {
  pipe_pair p;
  rec seen;
  event* ev = event_new(base, p.r.get(), EV_READ | EV_PERSIST, record_cb, &seen);
  timeval tv = ms_tv(10000);
  BOOST_REQUIRE(event_add(ev, &tv) == 0);
  event_free(ev);
  p.put("x");
  // Nothing is left: the loop reports "no events" at once.
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.calls == 0);
}

BOOST_AUTO_TEST_CASE(event_assign_works_on_storage_from_event_struct_h) {
  BOOST_TEST(event_get_struct_event_size() <= sizeof(struct event));
  pipe_pair p;
  holder h;  // struct event embedded in a caller struct
  BOOST_REQUIRE(event_assign(&h.ev, base, p.r.get(), EV_READ, record_cb, &h.seen) == 0);
  BOOST_TEST(event_initialized(&h.ev) == 1);
  BOOST_TEST(event_get_fd(&h.ev) == p.r.get());
  BOOST_TEST(event_get_base(&h.ev) == base);
  BOOST_REQUIRE(event_add(&h.ev, nullptr) == 0);
  BOOST_TEST(event_pending(&h.ev, EV_READ, nullptr) == EV_READ);
  p.put("x");
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(h.seen.calls == 1);
  BOOST_TEST(h.seen.fd == p.r.get());
  BOOST_TEST(h.seen.what == EV_READ);
  // A non-pending assigned event owns nothing: the storage just goes away.
}

BOOST_AUTO_TEST_CASE(event_assign_again_on_a_non_pending_event_replaces_its_fields) {
  pipe_pair p1, p2;
  rec first, second;
  struct event ev;
  BOOST_REQUIRE(event_assign(&ev, base, p1.r.get(), EV_READ, record_cb, &first) == 0);
  BOOST_REQUIRE(event_add(&ev, nullptr) == 0);
  BOOST_REQUIRE(event_del(&ev) == 0);
  BOOST_REQUIRE(event_assign(&ev, base, p2.r.get(), EV_READ, record_cb, &second) == 0);
  BOOST_TEST(event_get_fd(&ev) == p2.r.get());
  BOOST_TEST(event_get_callback_arg(&ev) == static_cast<void*>(&second));
  BOOST_REQUIRE(event_add(&ev, nullptr) == 0);
  p1.put("a");
  p2.put("b");
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(first.calls == 0);
  BOOST_TEST(second.calls == 1);
  BOOST_TEST(second.fd == p2.r.get());
}

BOOST_AUTO_TEST_CASE(event_initialized_is_false_on_zeroed_storage) {
  struct event ev;
  std::memset(&ev, 0, sizeof ev);
  BOOST_TEST(event_initialized(&ev) == 0);
  BOOST_REQUIRE(evtimer_assign(&ev, base, noop_cb, nullptr) == 0);
  BOOST_TEST(event_initialized(&ev) == 1);
}

BOOST_AUTO_TEST_CASE(event_self_cbarg_passes_the_event_itself) {
  static void* last;
  static int calls;
  last = nullptr;
  calls = 0;
  struct seen_t {
    static void cb(evutil_socket_t, short, void* arg) {
      last = arg;
      ++calls;
    }
  };

  event* ev = event_new(base, -1, 0, seen_t::cb, event_self_cbarg());
  BOOST_REQUIRE(ev != nullptr);
  BOOST_TEST(event_get_callback_arg(ev) == static_cast<void*>(ev));
  timeval zero = ms_tv(0);
  BOOST_REQUIRE(event_add(ev, &zero) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(calls == 1);
  BOOST_TEST(last == static_cast<void*>(ev));
  event_free(ev);

  struct event embedded;
  BOOST_REQUIRE(event_assign(&embedded, base, -1, 0, seen_t::cb, event_self_cbarg()) == 0);
  BOOST_TEST(event_get_callback_arg(&embedded) == static_cast<void*>(&embedded));
  event_active(&embedded, EV_TIMEOUT, 1);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(calls == 2);
  BOOST_TEST(last == static_cast<void*>(&embedded));
}

BOOST_AUTO_TEST_CASE(event_get_version_reports_libevent_2_1_12) {
  BOOST_TEST(event_get_version_number() == 0x02010c00u);
  BOOST_TEST(std::string(event_get_version()) == "2.1.12-stable");
  BOOST_TEST(LIBEVENT_VERSION_NUMBER == 0x02010c00);
}

// ---- read and write readiness -------------------------------------------------

BOOST_AUTO_TEST_CASE(an_active_event_deleted_before_the_loop_leaves_no_events) {
  int calls = 0;
  event* ev = event_new(base, -1, 0, [](evutil_socket_t, short, void* a) { ++*static_cast<int*>(a); }, &calls);
  BOOST_REQUIRE(ev);
  event_active(ev, EV_TIMEOUT, 1);
  BOOST_TEST(event_del(ev) == 0);
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 1);
  BOOST_TEST(calls == 0);
  event_active(ev, EV_TIMEOUT, 1);  // active again: the loop runs it (then has none left)
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 1);
  BOOST_TEST(calls == 1);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(oneshot_read_event_fires_once_then_is_not_pending) {
  pipe_pair p;
  rec seen;
  event* ev = event_new(base, p.r.get(), EV_READ, record_cb, &seen);
  BOOST_REQUIRE(event_add(ev, nullptr) == 0);
  p.put("data");
  // The data stays unread, yet a one-shot event runs once and the loop ends.
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.calls == 1);
  BOOST_TEST(seen.fd == p.r.get());
  BOOST_TEST(seen.what == EV_READ);
  BOOST_TEST(event_pending(ev, EV_READ, nullptr) == 0);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(persistent_read_event_that_does_not_read_fires_again_and_again) {
  // Level-triggered: the callback leaves the data there, so the event fires
  // on every round until the callback deletes it.
  pipe_pair p;
  struct ctx_t {
    event* ev = nullptr;
    int calls = 0;
    short what = 0;
  } ctx;
  ctx.ev = event_new(base, p.r.get(), EV_READ | EV_PERSIST,
                     [](evutil_socket_t, short what, void* arg) {
                       auto* c = static_cast<ctx_t*>(arg);
                       c->what |= what;
                       if (++c->calls == 5)
                         event_del(c->ev);
                     },
                     &ctx);
  BOOST_REQUIRE(event_add(ctx.ev, nullptr) == 0);
  p.put("data");
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(ctx.calls == 5);
  BOOST_TEST(ctx.what == EV_READ);
  BOOST_TEST(p.drain() == 4u);  // nobody read it
  event_free(ctx.ev);
}

BOOST_AUTO_TEST_CASE(persistent_read_event_goes_quiet_once_the_data_is_consumed) {
  pipe_pair p;
  struct ctx_t {
    pipe_pair* p;
    int calls = 0;
    size_t bytes = 0;
  } ctx{&p};
  event* ev = event_new(base, p.r.get(), EV_READ | EV_PERSIST,
                        [](evutil_socket_t, short, void* arg) {
                          auto* c = static_cast<ctx_t*>(arg);
                          ++c->calls;
                          c->bytes += c->p->drain();
                        },
                        &ctx);
  BOOST_REQUIRE(event_add(ev, nullptr) == 0);
  p.put("hello");
  BOOST_TEST(event_base_loop(base, EVLOOP_ONCE) == 0);
  BOOST_TEST(ctx.calls == 1);
  BOOST_TEST(ctx.bytes == 5u);
  // Nothing more to read: non-blocking rounds run nothing, the event stays.
  for (int i = 0; i < 3; ++i)
    event_base_loop(base, EVLOOP_NONBLOCK);
  BOOST_TEST(ctx.calls == 1);
  BOOST_TEST(event_pending(ev, EV_READ, nullptr) == EV_READ);
  p.put("again");
  BOOST_TEST(event_base_loop(base, EVLOOP_ONCE) == 0);
  BOOST_TEST(ctx.calls == 2);
  BOOST_TEST(ctx.bytes == 10u);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(edge_triggered_read_event_fires_once_per_new_data) {
  // The callback never reads. With EV_ET it must not run again until new
  // data arrives: the first call schedules a timer (zero timeout, so it runs
  // on a later round) that writes more; the second call must come after it.
  pipe_pair p;
  struct ctx_t {
    pipe_pair* p;
    event_base* base;
    event* ev = nullptr;
    event* writer = nullptr;
    int calls = 0;
    int writes = 0;
    std::vector<int> writes_seen{};  // writes done when each call ran
  } ctx{&p, base};
  ctx.writer = evtimer_new(base,
                           [](evutil_socket_t, short, void* arg) {
                             auto* c = static_cast<ctx_t*>(arg);
                             c->p->put("more");
                             ++c->writes;
                           },
                           &ctx);
  ctx.ev = event_new(base, p.r.get(), EV_READ | EV_PERSIST | EV_ET,
                     [](evutil_socket_t, short what, void* arg) {
                       auto* c = static_cast<ctx_t*>(arg);
                       ++c->calls;
                       c->writes_seen.push_back(c->writes);
                       if (c->calls == 1 && (what & EV_READ)) {
                         timeval zero = ms_tv(0);
                         event_add(c->writer, &zero);
                       } else {
                         event_del(c->ev);
                       }
                       if (c->calls >= 100)  // safety net: end a runaway loop
                         event_base_loopbreak(c->base);
                     },
                     &ctx);
  BOOST_REQUIRE(event_add(ctx.ev, nullptr) == 0);
  p.put("one");
  event_base_dispatch(base);
  BOOST_TEST(ctx.calls == 2);
  BOOST_TEST(ctx.writes_seen.size() >= 2u);
  if (ctx.writes_seen.size() >= 2u) {
    BOOST_TEST(ctx.writes_seen[0] == 0);
    BOOST_TEST(ctx.writes_seen[1] == 1);  // not before the new data
  }
  event_free(ctx.ev);
  event_free(ctx.writer);
}

BOOST_AUTO_TEST_CASE(read_event_fires_at_end_of_file_of_a_pipe) {
  pipe_pair p;
  rec seen;
  event* ev = event_new(base, p.r.get(), EV_READ, record_cb, &seen);
  BOOST_REQUIRE(event_add(ev, nullptr) == 0);
  p.w.reset();
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.calls == 1);
  BOOST_TEST(seen.what == EV_READ);
  char c;
  BOOST_TEST(::read(p.r.get(), &c, 1) == 0);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(closed_event_reports_that_the_peer_closed) {
  socket_pair s(true);
  rec seen;
  event* ev = event_new(base, s.a.get(), EV_CLOSED, record_cb, &seen);
  BOOST_REQUIRE(event_add(ev, nullptr) == 0);
  BOOST_TEST(event_pending(ev, EV_CLOSED, nullptr) == EV_CLOSED);
  s.b.reset();
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.calls == 1);
  BOOST_TEST((seen.what & EV_CLOSED) != 0);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(write_event_fires_when_the_socket_is_writable) {
  socket_pair s(true);
  rec seen;
  event* ev = event_new(base, s.a.get(), EV_WRITE, record_cb, &seen);
  BOOST_REQUIRE(event_add(ev, nullptr) == 0);
  BOOST_TEST(event_pending(ev, EV_WRITE | EV_READ, nullptr) == EV_WRITE);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.calls == 1);
  BOOST_TEST(seen.fd == s.a.get());
  BOOST_TEST(seen.what == EV_WRITE);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(persistent_write_event_fires_again_while_writable) {
  socket_pair s(true);
  struct ctx_t {
    event* ev = nullptr;
    int calls = 0;
    short what = 0;
  } ctx;
  ctx.ev = event_new(base, s.a.get(), EV_WRITE | EV_PERSIST,
                     [](evutil_socket_t, short what, void* arg) {
                       auto* c = static_cast<ctx_t*>(arg);
                       c->what |= what;
                       if (++c->calls == 4)
                         event_del(c->ev);
                     },
                     &ctx);
  BOOST_REQUIRE(event_add(ctx.ev, nullptr) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(ctx.calls == 4);
  BOOST_TEST(ctx.what == EV_WRITE);
  event_free(ctx.ev);
}

BOOST_AUTO_TEST_CASE(write_event_waits_while_the_socket_buffer_is_full) {
  socket_pair s(true);
  // Fill a's send path until the kernel says EAGAIN.
  std::vector<char> chunk(65536, 'x');
  while (::send(s.a.get(), chunk.data(), chunk.size(), MSG_DONTWAIT) > 0) {
  }
  while (::send(s.a.get(), chunk.data(), 1, MSG_DONTWAIT) > 0) {
  }
  BOOST_REQUIRE(errno == EAGAIN || errno == EWOULDBLOCK);
  rec seen;
  event* ev = event_new(base, s.a.get(), EV_WRITE, record_cb, &seen);
  BOOST_REQUIRE(event_add(ev, nullptr) == 0);
  for (int i = 0; i < 3; ++i)
    BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 0);
  BOOST_TEST(seen.calls == 0);
  // The peer drains everything: now a has room.
  char buf[65536];
  while (::recv(s.b.get(), buf, sizeof buf, MSG_DONTWAIT) > 0) {
  }
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.calls == 1);
  BOOST_TEST(seen.what == EV_WRITE);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(read_and_write_events_on_one_fd_fire_independently) {
  socket_pair s(true);
  rec rd, wr;
  event* r = event_new(base, s.a.get(), EV_READ, record_cb, &rd);
  event* w = event_new(base, s.a.get(), EV_WRITE, record_cb, &wr);
  BOOST_REQUIRE(event_add(r, nullptr) == 0);
  BOOST_REQUIRE(event_add(w, nullptr) == 0);
  // Writable at once, not readable: only the write event runs.
  BOOST_TEST(event_base_loop(base, EVLOOP_ONCE) == 0);
  BOOST_TEST(wr.calls == 1);
  BOOST_TEST(rd.calls == 0);
  BOOST_TEST(event_pending(r, EV_READ, nullptr) == EV_READ);
  BOOST_REQUIRE(::send(s.b.get(), "z", 1, 0) == 1);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(rd.calls == 1);
  BOOST_TEST(rd.what == EV_READ);
  BOOST_TEST(wr.calls == 1);
  event_free(r);
  event_free(w);
}

// ---- timeouts -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(evtimer_fires_once_no_earlier_than_its_timeout) {
  rec seen;
  event* ev = evtimer_new(base, record_cb, &seen);
  stopwatch sw;
  timeval tv = ms_tv(60);
  BOOST_REQUIRE(evtimer_add(ev, &tv) == 0);
  BOOST_TEST(evtimer_pending(ev, nullptr) == EV_TIMEOUT);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(sw.elapsed_us() >= 60000);
  BOOST_TEST(seen.calls == 1);
  BOOST_TEST(seen.what == EV_TIMEOUT);
  BOOST_TEST(seen.fd == -1);
  BOOST_TEST(evtimer_pending(ev, nullptr) == 0);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(timer_with_zero_timeout_fires_on_the_next_round) {
  rec seen;
  event* ev = evtimer_new(base, record_cb, &seen);
  timeval zero = ms_tv(0);
  BOOST_REQUIRE(evtimer_add(ev, &zero) == 0);
  BOOST_TEST(event_base_loop(base, EVLOOP_ONCE) == 0);
  BOOST_TEST(seen.calls == 1);
  BOOST_TEST(seen.what == EV_TIMEOUT);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(persistent_timer_fires_repeatedly_at_its_interval) {
  struct ctx_t {
    event* ev = nullptr;
    int calls = 0;
    short what = 0;
  } ctx;
  ctx.ev = event_new(base, -1, EV_PERSIST,
                     [](evutil_socket_t, short what, void* arg) {
                       auto* c = static_cast<ctx_t*>(arg);
                       c->what |= what;
                       if (++c->calls == 5)
                         event_del(c->ev);
                     },
                     &ctx);
  stopwatch sw;
  timeval tv = ms_tv(20);
  BOOST_REQUIRE(event_add(ctx.ev, &tv) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(ctx.calls == 5);
  BOOST_TEST(ctx.what == EV_TIMEOUT);
  BOOST_TEST(sw.elapsed_us() >= 5 * 20000);
  event_free(ctx.ev);
}

BOOST_AUTO_TEST_CASE(persistent_timer_stays_pending_between_firings) {
  struct ctx_t {
    event* ev = nullptr;
    int calls = 0;
    int pending_inside = -1;
  } ctx;
  ctx.ev = event_new(base, -1, EV_PERSIST,
                     [](evutil_socket_t, short, void* arg) {
                       auto* c = static_cast<ctx_t*>(arg);
                       ++c->calls;
                       c->pending_inside = event_pending(c->ev, EV_TIMEOUT, nullptr);
                     },
                     &ctx);
  timeval tv = ms_tv(10);
  BOOST_REQUIRE(event_add(ctx.ev, &tv) == 0);
  BOOST_TEST(event_base_loop(base, EVLOOP_ONCE) == 0);
  BOOST_TEST(ctx.calls == 1);
  BOOST_TEST(ctx.pending_inside == EV_TIMEOUT);  // already re-added when the callback runs
  BOOST_TEST(event_pending(ctx.ev, EV_TIMEOUT, nullptr) == EV_TIMEOUT);
  event_free(ctx.ev);
}

BOOST_AUTO_TEST_CASE(event_add_on_a_pending_timer_reschedules_it_sooner) {
  rec seen;
  event* ev = evtimer_new(base, record_cb, &seen);
  timeval far = ms_tv(3600 * 1000);
  BOOST_REQUIRE(evtimer_add(ev, &far) == 0);
  timeval tv_far;
  BOOST_REQUIRE(evtimer_pending(ev, &tv_far) == EV_TIMEOUT);
  timeval near = ms_tv(20);
  BOOST_REQUIRE(evtimer_add(ev, &near) == 0);
  timeval tv_near;
  BOOST_REQUIRE(evtimer_pending(ev, &tv_near) == EV_TIMEOUT);
  BOOST_TEST(tv_us(tv_near) < tv_us(tv_far));
  // Would hang (until the safety alarm) if the hour-long timeout were kept.
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.calls == 1);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(event_add_on_a_pending_timer_reschedules_it_later) {
  rec seen;
  event* ev = evtimer_new(base, record_cb, &seen);
  timeval near = ms_tv(10);
  BOOST_REQUIRE(evtimer_add(ev, &near) == 0);
  stopwatch sw;
  timeval later = ms_tv(120);
  BOOST_REQUIRE(evtimer_add(ev, &later) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.calls == 1);  // once: the first timeout was replaced
  BOOST_TEST(sw.elapsed_us() >= 120000);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(event_add_with_null_tv_leaves_the_pending_timeout) {
  pipe_pair p;  // never written: only the timeout can fire
  rec seen;
  event* ev = event_new(base, p.r.get(), EV_READ, record_cb, &seen);
  stopwatch sw;
  timeval tv = ms_tv(100);
  BOOST_REQUIRE(event_add(ev, &tv) == 0);
  timeval before;
  BOOST_REQUIRE(event_pending(ev, EV_TIMEOUT, &before) == EV_TIMEOUT);
  ::usleep(50000);
  BOOST_REQUIRE(event_add(ev, nullptr) == 0);  // re-added 50 ms later, without tv
  timeval after;
  BOOST_TEST(event_pending(ev, EV_READ | EV_TIMEOUT, &after) == (EV_READ | EV_TIMEOUT));
  // The expiry is the one set first, not restarted from the second add
  // (which would have moved it 50 ms later).
  BOOST_TEST(tv_us(after) - tv_us(before) < 20000);
  BOOST_TEST(tv_us(before) - tv_us(after) < 20000);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.calls == 1);
  BOOST_TEST(seen.what == EV_TIMEOUT);
  BOOST_TEST(sw.elapsed_us() >= 100000);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(event_pending_tv_is_the_same_on_every_call_for_an_unchanged_timeout) {
  // libevent reports the stored expiry: asking again gives the same value.
  event* ev = evtimer_new(base, noop_cb, nullptr);
  timeval tv = ms_tv(5000);
  BOOST_REQUIRE(evtimer_add(ev, &tv) == 0);
  timeval first;
  BOOST_REQUIRE(evtimer_pending(ev, &first) == EV_TIMEOUT);
  int differing = 0;
  for (int i = 0; i < 1000; ++i) {
    timeval again;
    evtimer_pending(ev, &again);
    differing += tv_us(again) != tv_us(first);
  }
  BOOST_TEST(differing == 0);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(read_event_with_timeout_reports_EV_TIMEOUT_without_data) {
  pipe_pair p;
  rec seen;
  event* ev = event_new(base, p.r.get(), EV_READ, record_cb, &seen);
  stopwatch sw;
  timeval tv = ms_tv(30);
  BOOST_REQUIRE(event_add(ev, &tv) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(sw.elapsed_us() >= 30000);
  BOOST_TEST(seen.calls == 1);
  BOOST_TEST(seen.what == EV_TIMEOUT);
  BOOST_TEST(seen.fd == p.r.get());
  // A one-shot event that timed out is no longer pending for its fd either.
  BOOST_TEST(event_pending(ev, EV_READ | EV_TIMEOUT, nullptr) == 0);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(read_event_with_timeout_reports_EV_READ_when_data_comes_first) {
  pipe_pair p;
  rec seen;
  event* ev = event_new(base, p.r.get(), EV_READ, record_cb, &seen);
  timeval tv = ms_tv(3600 * 1000);
  BOOST_REQUIRE(event_add(ev, &tv) == 0);
  p.put("x");
  // The loop ends after the read: the timeout went with the one-shot event.
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.calls == 1);
  BOOST_TEST(seen.what == EV_READ);
  BOOST_TEST(event_pending(ev, EV_READ | EV_TIMEOUT, nullptr) == 0);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(persistent_read_event_with_timeout_times_out_repeatedly) {
  pipe_pair p;
  struct ctx_t {
    event* ev = nullptr;
    std::vector<short> whats;
  } ctx;
  ctx.ev = event_new(base, p.r.get(), EV_READ | EV_PERSIST,
                     [](evutil_socket_t, short what, void* arg) {
                       auto* c = static_cast<ctx_t*>(arg);
                       c->whats.push_back(what);
                       if (c->whats.size() == 3)
                         event_del(c->ev);
                     },
                     &ctx);
  stopwatch sw;
  timeval tv = ms_tv(15);
  BOOST_REQUIRE(event_add(ctx.ev, &tv) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_REQUIRE(ctx.whats.size() == 3u);
  for (short w : ctx.whats)
    BOOST_TEST(w == EV_TIMEOUT);
  BOOST_TEST(sw.elapsed_us() >= 3 * 15000);
  event_free(ctx.ev);
}

// ---- deleting and freeing from callbacks -----------------------------------------

BOOST_AUTO_TEST_CASE(event_del_inside_its_own_callback_stops_a_persistent_read_event) {
  pipe_pair p;
  struct ctx_t {
    event* ev = nullptr;
    int calls = 0;
    int del_rc = -2;
  } ctx;
  ctx.ev = event_new(base, p.r.get(), EV_READ | EV_PERSIST,
                     [](evutil_socket_t, short, void* arg) {
                       auto* c = static_cast<ctx_t*>(arg);
                       ++c->calls;
                       c->del_rc = event_del(c->ev);
                     },
                     &ctx);
  BOOST_REQUIRE(event_add(ctx.ev, nullptr) == 0);
  p.put("still readable");
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(ctx.calls == 1);
  BOOST_TEST(ctx.del_rc == 0);
  BOOST_TEST(event_pending(ctx.ev, EV_READ, nullptr) == 0);
  event_free(ctx.ev);
}

BOOST_AUTO_TEST_CASE(event_del_inside_its_own_callback_stops_a_persistent_timer) {
  struct ctx_t {
    event* ev = nullptr;
    int calls = 0;
  } ctx;
  ctx.ev = event_new(base, -1, EV_PERSIST,
                     [](evutil_socket_t, short, void* arg) {
                       auto* c = static_cast<ctx_t*>(arg);
                       ++c->calls;
                       event_del(c->ev);
                     },
                     &ctx);
  timeval tv = ms_tv(5);
  BOOST_REQUIRE(event_add(ctx.ev, &tv) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(ctx.calls == 1);
  BOOST_TEST(evtimer_pending(ctx.ev, nullptr) == 0);
  event_free(ctx.ev);
}

BOOST_AUTO_TEST_CASE(event_free_inside_its_own_callback_for_a_persistent_fd_event) {
  pipe_pair p;
  static int calls;
  calls = 0;
  event* ev = event_new(base, p.r.get(), EV_READ | EV_PERSIST,
                        [](evutil_socket_t, short, void* arg) {
                          ++calls;
                          event_free(static_cast<event*>(arg));
                        },
                        event_self_cbarg());
  BOOST_REQUIRE(event_add(ev, nullptr) == 0);
  p.put("x");
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(calls == 1);
  BOOST_TEST(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED | EVENT_BASE_COUNT_ACTIVE) == 0);
}

BOOST_AUTO_TEST_CASE(event_free_inside_its_own_callback_for_a_persistent_timer) {
  static int calls;
  calls = 0;
  event* ev = event_new(base, -1, EV_PERSIST,
                        [](evutil_socket_t, short, void* arg) {
                          ++calls;
                          event_free(static_cast<event*>(arg));
                        },
                        event_self_cbarg());
  timeval tv = ms_tv(5);
  BOOST_REQUIRE(event_add(ev, &tv) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(calls == 1);
}

BOOST_AUTO_TEST_CASE(event_free_inside_its_own_callback_for_a_signal_event) {
  static int calls;
  calls = 0;
  event* ev = event_new(base, SIGUSR2, EV_SIGNAL | EV_PERSIST,
                        [](evutil_socket_t, short, void* arg) {
                          ++calls;
                          event_free(static_cast<event*>(arg));
                        },
                        event_self_cbarg());
  BOOST_REQUIRE(event_add(ev, nullptr) == 0);
  BOOST_REQUIRE(::raise(SIGUSR2) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(calls == 1);
}

BOOST_AUTO_TEST_CASE(event_add_inside_its_own_callback_rearms_a_oneshot_event) {
  struct ctx_t {
    event* ev = nullptr;
    int calls = 0;
  } ctx;
  ctx.ev = evtimer_new(base,
                       [](evutil_socket_t, short, void* arg) {
                         auto* c = static_cast<ctx_t*>(arg);
                         if (++c->calls < 3) {
                           timeval tv = ms_tv(1);
                           event_add(c->ev, &tv);
                         }
                       },
                       &ctx);
  timeval tv = ms_tv(1);
  BOOST_REQUIRE(evtimer_add(ctx.ev, &tv) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(ctx.calls == 3);
  event_free(ctx.ev);
}

// Two events made active in the same round; whichever runs first deletes (or
// frees) the other, whose callback must then not run.
struct pair_ctx {
  event_base* base = nullptr;  // loopbreak after 100 calls: a safety net
  event* ev[2] = {nullptr, nullptr};
  int calls[2] = {0, 0};
  bool use_free = false;
  int victim = -1;
};

void pair_cb_0(evutil_socket_t, short, void* arg);
void pair_cb_1(evutil_socket_t, short, void* arg);

void pair_act(pair_ctx* c, int me) {
  if (++c->calls[me] >= 100 && c->base)
    event_base_loopbreak(c->base);
  if (c->victim < 0) {
    c->victim = 1 - me;
    if (c->use_free) {
      event_free(c->ev[c->victim]);
      c->ev[c->victim] = nullptr;
    } else {
      event_del(c->ev[c->victim]);
    }
  }
}
void pair_cb_0(evutil_socket_t, short, void* arg) { pair_act(static_cast<pair_ctx*>(arg), 0); }
void pair_cb_1(evutil_socket_t, short, void* arg) { pair_act(static_cast<pair_ctx*>(arg), 1); }

BOOST_AUTO_TEST_CASE(event_del_of_an_active_event_before_it_runs_cancels_its_callback) {
  pair_ctx c;
  c.ev[0] = evtimer_new(base, pair_cb_0, &c);
  c.ev[1] = evtimer_new(base, pair_cb_1, &c);
  event_active(c.ev[0], EV_TIMEOUT, 1);
  event_active(c.ev[1], EV_TIMEOUT, 1);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(c.calls[0] + c.calls[1] == 1);
  BOOST_REQUIRE(c.victim >= 0);
  BOOST_TEST(c.calls[c.victim] == 0);
  BOOST_TEST(event_pending(c.ev[c.victim], EV_TIMEOUT | EV_READ | EV_WRITE, nullptr) == 0);
  event_free(c.ev[0]);
  event_free(c.ev[1]);
}

BOOST_AUTO_TEST_CASE(event_del_of_an_fd_event_that_became_active_in_the_same_round) {
  // Two one-shot events on one readable pipe become active together.
  pipe_pair p;
  pair_ctx c;
  c.base = base;
  c.ev[0] = event_new(base, p.r.get(), EV_READ, pair_cb_0, &c);
  c.ev[1] = event_new(base, p.r.get(), EV_READ, pair_cb_1, &c);
  BOOST_REQUIRE(event_add(c.ev[0], nullptr) == 0);
  BOOST_REQUIRE(event_add(c.ev[1], nullptr) == 0);
  p.put("x");
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(c.calls[0] + c.calls[1] == 1);
  BOOST_REQUIRE(c.victim >= 0);
  BOOST_TEST(c.calls[c.victim] == 0);
  event_free(c.ev[0]);
  event_free(c.ev[1]);
}

BOOST_AUTO_TEST_CASE(event_free_of_an_active_event_before_it_runs_cancels_its_callback) {
  pair_ctx c;
  c.use_free = true;
  c.ev[0] = evtimer_new(base, pair_cb_0, &c);
  c.ev[1] = evtimer_new(base, pair_cb_1, &c);
  event_active(c.ev[0], EV_TIMEOUT, 1);
  event_active(c.ev[1], EV_TIMEOUT, 1);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(c.calls[0] + c.calls[1] == 1);
  for (event* e : c.ev)  // one of them is already freed (and null)
    if (e)
      event_free(e);
}

// ---- event_pending ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(event_pending_reports_the_added_kinds_and_the_timeout) {
  socket_pair s(true);
  event* ev = event_new(base, s.a.get(), EV_READ | EV_WRITE, noop_cb, nullptr);
  BOOST_TEST(event_pending(ev, EV_READ | EV_WRITE | EV_TIMEOUT, nullptr) == 0);
  BOOST_REQUIRE(event_add(ev, nullptr) == 0);
  BOOST_TEST(event_pending(ev, EV_READ | EV_WRITE | EV_TIMEOUT, nullptr) == (EV_READ | EV_WRITE));
  BOOST_TEST(event_pending(ev, EV_READ, nullptr) == EV_READ);
  BOOST_TEST(event_pending(ev, EV_TIMEOUT, nullptr) == 0);
  timeval tv = ms_tv(5000);
  BOOST_REQUIRE(event_add(ev, &tv) == 0);
  BOOST_TEST(event_pending(ev, EV_READ | EV_WRITE | EV_TIMEOUT, nullptr) ==
             (EV_READ | EV_WRITE | EV_TIMEOUT));
  BOOST_TEST(event_pending(ev, EV_SIGNAL, nullptr) == 0);
  BOOST_REQUIRE(event_del(ev) == 0);
  BOOST_TEST(event_pending(ev, EV_READ | EV_WRITE | EV_TIMEOUT, nullptr) == 0);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(event_pending_tv_is_the_wall_clock_expiry) {
  event* ev = evtimer_new(base, noop_cb, nullptr);
  timeval tv = ms_tv(5000);
  const long long before = wall_now_us();
  BOOST_REQUIRE(evtimer_add(ev, &tv) == 0);
  timeval expiry{};
  BOOST_REQUIRE(evtimer_pending(ev, &expiry) == EV_TIMEOUT);
  const long long after = wall_now_us();
  // Roughly now + 5 s (generous bounds: clock granularity, slow machines).
  BOOST_TEST(tv_us(expiry) >= before + 5000000 - 1000000);
  BOOST_TEST(tv_us(expiry) <= after + 5000000 + 1000000);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(event_pending_leaves_tv_alone_unless_the_timeout_is_asked_and_set) {
  pipe_pair p;
  event* ev = event_new(base, p.r.get(), EV_READ, noop_cb, nullptr);
  timeval tv = ms_tv(5000);
  BOOST_REQUIRE(event_add(ev, &tv) == 0);
  timeval out;
  out.tv_sec = 12345;
  out.tv_usec = 678;
  BOOST_TEST(event_pending(ev, EV_READ, &out) == EV_READ);
  BOOST_TEST(out.tv_sec == 12345);
  BOOST_TEST(out.tv_usec == 678);
  BOOST_REQUIRE(event_del(ev) == 0);
  BOOST_REQUIRE(event_add(ev, nullptr) == 0);  // no timeout now
  BOOST_TEST(event_pending(ev, EV_READ | EV_TIMEOUT, &out) == EV_READ);
  BOOST_TEST(out.tv_sec == 12345);
  BOOST_TEST(out.tv_usec == 678);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(event_pending_reports_the_result_of_an_active_event) {
  event* ev = evtimer_new(base, noop_cb, nullptr);
  event_active(ev, EV_WRITE, 1);
  BOOST_TEST(event_pending(ev, EV_READ | EV_WRITE | EV_TIMEOUT, nullptr) == EV_WRITE);
  BOOST_TEST(event_pending(ev, EV_READ, nullptr) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(event_pending(ev, EV_READ | EV_WRITE | EV_TIMEOUT, nullptr) == 0);
  event_free(ev);
}

// ---- event_active ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(event_active_on_a_non_pending_event_runs_its_callback_once) {
  pipe_pair p;
  rec seen;
  event* ev = event_new(base, p.r.get(), EV_READ | EV_PERSIST, record_cb, &seen);
  event_active(ev, EV_WRITE, 1);  // any result, even one it does not wait for
  BOOST_TEST(event_pending(ev, EV_READ | EV_WRITE, nullptr) == EV_WRITE);
  BOOST_TEST(event_base_loop(base, EVLOOP_ONCE) == 0);
  BOOST_TEST(seen.calls == 1);
  BOOST_TEST(seen.what == EV_WRITE);
  BOOST_TEST(seen.fd == p.r.get());
  // Running it did not add it (even though it is EV_PERSIST): nothing is
  // left for the loop. (Checked first: a wrongly added event would make the
  // dispatch below wait forever on the empty pipe.)
  const int pending_after = event_pending(ev, EV_READ | EV_WRITE | EV_TIMEOUT, nullptr);
  BOOST_TEST(pending_after == 0);
  if (pending_after == 0) {
    BOOST_TEST(event_base_dispatch(base) == 1);
    BOOST_TEST(seen.calls == 1);
  }
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(event_active_on_a_pending_persistent_event_keeps_it_pending) {
  pipe_pair p;  // never written
  rec seen;
  event* ev = event_new(base, p.r.get(), EV_READ | EV_PERSIST, record_cb, &seen);
  BOOST_REQUIRE(event_add(ev, nullptr) == 0);
  event_active(ev, EV_READ, 1);
  BOOST_TEST(event_base_loop(base, EVLOOP_ONCE) == 0);
  BOOST_TEST(seen.calls == 1);
  BOOST_TEST(seen.what == EV_READ);
  BOOST_TEST(event_pending(ev, EV_READ, nullptr) == EV_READ);
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 0);
  BOOST_TEST(seen.calls == 1);  // the pipe is still empty
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(event_active_on_a_pending_oneshot_event_leaves_it_not_pending) {
  pipe_pair p;
  rec seen;
  event* ev = event_new(base, p.r.get(), EV_READ, record_cb, &seen);
  timeval tv = ms_tv(5000);
  BOOST_REQUIRE(event_add(ev, &tv) == 0);
  event_active(ev, EV_READ, 1);
  // Runs once; afterwards neither the fd nor the timeout is pending, so the
  // loop has nothing left.
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.calls == 1);
  BOOST_TEST(event_pending(ev, EV_READ | EV_TIMEOUT, nullptr) == 0);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(event_active_twice_runs_once_with_the_results_merged) {
  rec seen;
  event* ev = evtimer_new(base, record_cb, &seen);
  event_active(ev, EV_READ, 1);
  event_active(ev, EV_WRITE, 1);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.calls == 1);
  BOOST_TEST(seen.what == (EV_READ | EV_WRITE));
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(event_active_from_a_callback_runs_the_other_callback_in_the_same_loop) {
  struct ctx_t {
    event* other = nullptr;
    int first = 0;
    int second = 0;
  } ctx;
  ctx.other = evtimer_new(base,
                          [](evutil_socket_t, short, void* arg) { ++static_cast<ctx_t*>(arg)->second; },
                          &ctx);
  event* first = evtimer_new(base,
                             [](evutil_socket_t, short, void* arg) {
                               auto* c = static_cast<ctx_t*>(arg);
                               ++c->first;
                               event_active(c->other, EV_TIMEOUT, 1);
                             },
                             &ctx);
  event_active(first, EV_TIMEOUT, 1);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(ctx.first == 1);
  BOOST_TEST(ctx.second == 1);
  event_free(first);
  event_free(ctx.other);
}

// ---- event_base_once ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(event_base_once_timer_runs_once_after_its_timeout) {
  rec seen;
  stopwatch sw;
  timeval tv = ms_tv(30);
  BOOST_REQUIRE(event_base_once(base, -1, EV_TIMEOUT, record_cb, &seen, &tv) == 0);
  BOOST_TEST(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED) == 1);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(sw.elapsed_us() >= 30000);
  BOOST_TEST(seen.calls == 1);
  BOOST_TEST(seen.what == EV_TIMEOUT);
  BOOST_TEST(seen.arg == nullptr);
  BOOST_TEST(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED | EVENT_BASE_COUNT_ACTIVE) == 0);
}

BOOST_AUTO_TEST_CASE(event_base_once_timer_with_null_timeout_runs_on_the_next_round) {
  rec seen;
  BOOST_REQUIRE(event_base_once(base, -1, EV_TIMEOUT, record_cb, &seen, nullptr) == 0);
  BOOST_TEST(event_base_loop(base, EVLOOP_ONCE) == 0);
  BOOST_TEST(seen.calls == 1);
  BOOST_TEST(seen.what == EV_TIMEOUT);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.calls == 1);
}

BOOST_AUTO_TEST_CASE(event_base_once_on_an_fd_runs_once_when_it_is_ready) {
  pipe_pair p;
  rec seen;
  BOOST_REQUIRE(event_base_once(base, p.r.get(), EV_READ, record_cb, &seen, nullptr) == 0);
  p.put("stays unread");
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.calls == 1);
  BOOST_TEST(seen.fd == p.r.get());
  BOOST_TEST(seen.what == EV_READ);
}

BOOST_AUTO_TEST_CASE(event_base_once_on_an_fd_with_timeout_reports_EV_TIMEOUT) {
  pipe_pair p;  // never written
  rec seen;
  timeval tv = ms_tv(20);
  BOOST_REQUIRE(event_base_once(base, p.r.get(), EV_READ, record_cb, &seen, &tv) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.calls == 1);
  BOOST_TEST(seen.what == EV_TIMEOUT);
}

BOOST_AUTO_TEST_CASE(event_base_once_refuses_signal_and_persist) {
  rec seen;
  timeval tv = ms_tv(10);
  BOOST_TEST(event_base_once(base, SIGUSR1, EV_SIGNAL, record_cb, &seen, nullptr) == -1);
  BOOST_TEST(event_base_once(base, -1, EV_TIMEOUT | EV_PERSIST, record_cb, &seen, &tv) == -1);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.calls == 0);
}

BOOST_AUTO_TEST_CASE(event_base_once_pending_at_base_free_is_released) {
  // Never runs; event_base_free reclaims it (LeakSanitizer would tell).
  timeval tv = ms_tv(3600 * 1000);
  BOOST_TEST(event_base_once(base, -1, EV_TIMEOUT, noop_cb, nullptr, &tv) == 0);
}

// ---- counts and the time cache -----------------------------------------------------

BOOST_AUTO_TEST_CASE(event_base_get_num_events_counts_added_and_active_events) {
  pipe_pair p;
  BOOST_TEST(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED) == 0);
  BOOST_TEST(event_base_get_num_events(base, EVENT_BASE_COUNT_ACTIVE) == 0);
  event* r = event_new(base, p.r.get(), EV_READ, noop_cb, nullptr);
  event* t = evtimer_new(base, noop_cb, nullptr);
  event* u = evtimer_new(base, noop_cb, nullptr);
  BOOST_REQUIRE(event_add(r, nullptr) == 0);
  BOOST_TEST(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED) == 1);
  timeval tv = ms_tv(5000);
  BOOST_REQUIRE(evtimer_add(t, &tv) == 0);
  BOOST_TEST(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED) == 2);
  BOOST_TEST(event_base_get_num_events(base, EVENT_BASE_COUNT_ACTIVE) == 0);
  event_active(u, EV_TIMEOUT, 1);
  BOOST_TEST(event_base_get_num_events(base, EVENT_BASE_COUNT_ACTIVE) == 1);
  BOOST_TEST(event_base_get_num_events(base, EVENT_BASE_COUNT_VIRTUAL) == 0);
  BOOST_REQUIRE(event_del(r) == 0);
  BOOST_REQUIRE(event_del(t) == 0);
  BOOST_REQUIRE(event_del(u) == 0);
  BOOST_TEST(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED | EVENT_BASE_COUNT_ACTIVE) == 0);
  event_free(r);
  event_free(t);
  event_free(u);
}

// libevent counts list memberships: an event waiting for its fd and a
// timeout counts twice in ADDED, and an active event counts in ADDED as
// well as in ACTIVE.
BOOST_AUTO_TEST_CASE(event_base_get_num_events_counts_fd_timeout_and_active_memberships) {
  pipe_pair p;
  event* rt = event_new(base, p.r.get(), EV_READ, noop_cb, nullptr);
  timeval tv = ms_tv(5000);
  BOOST_REQUIRE(event_add(rt, &tv) == 0);
  BOOST_TEST(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED) == 2);
  event* u = evtimer_new(base, noop_cb, nullptr);
  event_active(u, EV_TIMEOUT, 1);
  BOOST_TEST(event_base_get_num_events(base, EVENT_BASE_COUNT_ACTIVE) == 1);
  BOOST_TEST(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED) == 3);
  BOOST_TEST(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED | EVENT_BASE_COUNT_ACTIVE) == 4);
  event_free(rt);
  event_free(u);
  BOOST_TEST(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED | EVENT_BASE_COUNT_ACTIVE) == 0);
}

BOOST_AUTO_TEST_CASE(event_base_gettimeofday_cached_outside_the_loop_is_the_current_time) {
  timeval tv{};
  const long long before = wall_now_us();
  BOOST_REQUIRE(event_base_gettimeofday_cached(base, &tv) == 0);
  const long long after = wall_now_us();
  BOOST_TEST(tv_us(tv) >= before - 1000000);
  BOOST_TEST(tv_us(tv) <= after + 1000000);
}

BOOST_AUTO_TEST_CASE(event_base_gettimeofday_cached_is_stable_within_a_callback) {
  struct ctx_t {
    event_base* base;
    timeval first{}, second{};
    int rc1 = -2, rc2 = -2;
    long long wall = 0;
  } ctx{base};
  event* ev = evtimer_new(base,
                          [](evutil_socket_t, short, void* arg) {
                            auto* c = static_cast<ctx_t*>(arg);
                            c->rc1 = event_base_gettimeofday_cached(c->base, &c->first);
                            ::usleep(30000);
                            c->rc2 = event_base_gettimeofday_cached(c->base, &c->second);
                            c->wall = wall_now_us();
                          },
                          &ctx);
  event_active(ev, EV_TIMEOUT, 1);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(ctx.rc1 == 0);
  BOOST_TEST(ctx.rc2 == 0);
  // The same cached value, although 30 ms passed in between.
  BOOST_TEST(tv_us(ctx.first) == tv_us(ctx.second));
  BOOST_TEST(tv_us(ctx.first) <= ctx.wall + 1000000);
  BOOST_TEST(tv_us(ctx.first) >= ctx.wall - 5000000);
  event_free(ev);
}

// ---- signals -------------------------------------------------------------------------

struct sig_ctx {
  event* ev = nullptr;
  int calls = 0;
  evutil_socket_t fd = -2;
  short what = 0;
  bool on_main_thread = false;
};

pthread_t g_main_thread;

void sig_cb_del(evutil_socket_t fd, short what, void* arg) {
  auto* c = static_cast<sig_ctx*>(arg);
  ++c->calls;
  c->fd = fd;
  c->what = what;
  c->on_main_thread = pthread_equal(pthread_self(), g_main_thread) != 0;
  event_del(c->ev);
}

BOOST_AUTO_TEST_CASE(several_signal_events_on_one_signal_all_run) {
  g_main_thread = pthread_self();
  sig_ctx c[3];
  for (auto& x : c) {
    x.ev = evsignal_new(base, SIGUSR1, sig_cb_del, &x);
    BOOST_REQUIRE(x.ev != nullptr);
    BOOST_REQUIRE(evsignal_add(x.ev, nullptr) == 0);
    BOOST_TEST(evsignal_pending(x.ev, nullptr) == EV_SIGNAL);
  }
  BOOST_TEST(event_get_events(c[0].ev) == (EV_SIGNAL | EV_PERSIST));
  BOOST_TEST(event_get_fd(c[0].ev) == SIGUSR1);
  BOOST_REQUIRE(::raise(SIGUSR1) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  for (auto& x : c) {
    BOOST_TEST(x.calls == 1);
    BOOST_TEST(x.fd == SIGUSR1);
    BOOST_TEST(x.what == EV_SIGNAL);
    BOOST_TEST(x.on_main_thread);
    event_free(x.ev);
  }
}

BOOST_AUTO_TEST_CASE(signal_callback_runs_as_an_ordinary_callback_of_the_loop) {
  // A timer sends the signal while the loop runs; the signal's callback may
  // then use any event function, here event_base_loopexit and event_add.
  g_main_thread = pthread_self();
  struct ctx_t {
    event_base* base;
    event* sig = nullptr;
    event* after = nullptr;
    int sig_calls = 0;
    int after_calls = 0;
    bool on_main_thread = false;
  } ctx{base};
  ctx.sig = evsignal_new(base, SIGUSR1,
                         [](evutil_socket_t, short what, void* arg) {
                           auto* c = static_cast<ctx_t*>(arg);
                           ++c->sig_calls;
                           c->on_main_thread = pthread_equal(pthread_self(), g_main_thread) != 0 &&
                                               what == EV_SIGNAL;
                           timeval zero = ms_tv(0);
                           event_add(c->after, &zero);
                           event_base_loopexit(c->base, nullptr);
                         },
                         &ctx);
  ctx.after = evtimer_new(base, [](evutil_socket_t, short, void* arg) { ++static_cast<ctx_t*>(arg)->after_calls; },
                          &ctx);
  event* kicker = evtimer_new(base, [](evutil_socket_t, short, void*) { ::kill(::getpid(), SIGUSR1); },
                              nullptr);
  BOOST_REQUIRE(evsignal_add(ctx.sig, nullptr) == 0);
  timeval tv = ms_tv(10);
  BOOST_REQUIRE(evtimer_add(kicker, &tv) == 0);
  BOOST_TEST(event_base_dispatch(base) == 0);  // by loopexit: the signal event is still added
  BOOST_TEST(event_base_got_exit(base) == 1);
  BOOST_TEST(ctx.sig_calls == 1);
  BOOST_TEST(ctx.on_main_thread);
  BOOST_TEST(evsignal_pending(ctx.sig, nullptr) == EV_SIGNAL);
  // The timer it added ran in the same loop or is still due; run it now.
  if (ctx.after_calls == 0)
    event_base_loop(base, EVLOOP_ONCE);
  BOOST_TEST(ctx.after_calls == 1);
  event_free(kicker);
  event_free(ctx.after);
  event_free(ctx.sig);
}

BOOST_AUTO_TEST_CASE(oneshot_signal_event_is_not_pending_after_it_fires) {
  rec seen;
  event* ev = event_new(base, SIGUSR1, EV_SIGNAL, record_cb, &seen);
  BOOST_REQUIRE(event_add(ev, nullptr) == 0);
  BOOST_REQUIRE(::raise(SIGUSR1) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.calls == 1);
  BOOST_TEST(seen.what == EV_SIGNAL);
  BOOST_TEST(evsignal_pending(ev, nullptr) == 0);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(evsignal_del_of_one_event_leaves_the_others_on_that_signal) {
  sig_ctx kept, removed;
  kept.ev = evsignal_new(base, SIGUSR2, sig_cb_del, &kept);
  removed.ev = evsignal_new(base, SIGUSR2, sig_cb_del, &removed);
  BOOST_REQUIRE(evsignal_add(kept.ev, nullptr) == 0);
  BOOST_REQUIRE(evsignal_add(removed.ev, nullptr) == 0);
  BOOST_REQUIRE(evsignal_del(removed.ev) == 0);
  BOOST_TEST(evsignal_pending(removed.ev, nullptr) == 0);
  BOOST_REQUIRE(::raise(SIGUSR2) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(kept.calls == 1);
  BOOST_TEST(removed.calls == 0);
  event_free(kept.ev);
  event_free(removed.ev);
}

BOOST_AUTO_TEST_CASE(signal_event_with_timeout_reports_EV_TIMEOUT) {
  rec seen;
  event* ev = event_new(base, SIGUSR1, EV_SIGNAL, record_cb, &seen);
  timeval tv = ms_tv(20);
  BOOST_REQUIRE(event_add(ev, &tv) == 0);
  BOOST_TEST(event_pending(ev, EV_SIGNAL | EV_TIMEOUT, nullptr) == (EV_SIGNAL | EV_TIMEOUT));
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.calls == 1);
  BOOST_TEST(seen.what == EV_TIMEOUT);
  event_free(ev);
}

// ---- loop flags with events ----------------------------------------------------------

BOOST_AUTO_TEST_CASE(evloop_nonblock_runs_ready_events_without_waiting_for_others) {
  pipe_pair ready, idle;
  rec r1, r2;
  event* e1 = event_new(base, ready.r.get(), EV_READ, record_cb, &r1);
  event* e2 = event_new(base, idle.r.get(), EV_READ, record_cb, &r2);
  BOOST_REQUIRE(event_add(e1, nullptr) == 0);
  BOOST_REQUIRE(event_add(e2, nullptr) == 0);
  ready.put("x");
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 0);
  BOOST_TEST(r1.calls == 1);
  BOOST_TEST(r2.calls == 0);
  BOOST_TEST(event_pending(e2, EV_READ, nullptr) == EV_READ);
  event_free(e1);
  event_free(e2);
}

BOOST_AUTO_TEST_CASE(evloop_nonblock_returns_at_once_when_nothing_is_ready) {
  pipe_pair idle;
  rec seen;
  event* ev = event_new(base, idle.r.get(), EV_READ, record_cb, &seen);
  timeval tv = ms_tv(3600 * 1000);
  BOOST_REQUIRE(event_add(ev, &tv) == 0);
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 0);
  BOOST_TEST(seen.calls == 0);
  BOOST_TEST(event_pending(ev, EV_READ | EV_TIMEOUT, nullptr) == (EV_READ | EV_TIMEOUT));
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(evloop_nonblock_with_no_events_returns_1) {
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 1);
}

namespace {
struct readd_chain {
  event* ev = nullptr;
  int calls = 0;
  int upto = 0;
};
void readd_until(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<readd_chain*>(arg);
  if (++c->calls < c->upto) {
    const timeval zero = {0, 0};
    event_add(c->ev, &zero);
  }
}
} // namespace

// libevent's NONBLOCK loop makes another pass after each pass that ran
// callbacks, so a timer re-added by its callback runs again in the same call.
BOOST_AUTO_TEST_CASE(evloop_nonblock_alone_makes_passes_until_one_runs_nothing) {
  readd_chain c;
  c.upto = 3;
  c.ev = evtimer_new(base, readd_until, &c);
  const timeval zero = {0, 0};
  BOOST_REQUIRE(event_add(c.ev, &zero) == 0);
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 1);  // the last pass found no event
  BOOST_TEST(c.calls == 3);
  event_free(c.ev);
}

BOOST_AUTO_TEST_CASE(evloop_nonblock_once_stops_after_the_first_pass_that_ran_callbacks) {
  readd_chain c;
  c.upto = 3;
  c.ev = evtimer_new(base, readd_until, &c);
  const timeval zero = {0, 0};
  BOOST_REQUIRE(event_add(c.ev, &zero) == 0);
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK | EVLOOP_ONCE) == 0);
  BOOST_TEST(c.calls == 1);
  event_free(c.ev);
}

BOOST_AUTO_TEST_CASE(evloop_once_waits_for_the_first_event_and_returns_after_it) {
  rec soon, late;
  event* a = evtimer_new(base, record_cb, &soon);
  event* b = evtimer_new(base, record_cb, &late);
  timeval ta = ms_tv(20), tb = ms_tv(3600 * 1000);
  stopwatch sw;
  BOOST_REQUIRE(evtimer_add(a, &ta) == 0);
  BOOST_REQUIRE(evtimer_add(b, &tb) == 0);
  BOOST_TEST(event_base_loop(base, EVLOOP_ONCE) == 0);
  BOOST_TEST(sw.elapsed_us() >= 20000);
  BOOST_TEST(soon.calls == 1);
  BOOST_TEST(late.calls == 0);
  BOOST_TEST(evtimer_pending(b, nullptr) == EV_TIMEOUT);
  event_free(a);
  event_free(b);
}

BOOST_AUTO_TEST_CASE(evloop_once_runs_a_ready_persistent_event_once_per_call) {
  // Level-triggered and never read: each EVLOOP_ONCE call is one round, in
  // which the callback runs exactly once.
  pipe_pair p;
  rec seen;
  seen.guard = base;  // a loop that does not return is broken after 100 calls
  event* ev = event_new(base, p.r.get(), EV_READ | EV_PERSIST, record_cb, &seen);
  BOOST_REQUIRE(event_add(ev, nullptr) == 0);
  p.put("data");
  for (int round = 1; round <= 5; ++round) {
    BOOST_TEST(event_base_loop(base, EVLOOP_ONCE) == 0);
    BOOST_TEST(seen.calls == round);
  }
  BOOST_TEST(event_pending(ev, EV_READ, nullptr) == EV_READ);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(evloop_once_runs_every_event_active_in_that_round) {
  pipe_pair p1, p2;
  rec r1, r2;
  r1.guard = r2.guard = base;
  event* e1 = event_new(base, p1.r.get(), EV_READ | EV_PERSIST, record_cb, &r1);
  event* e2 = event_new(base, p2.r.get(), EV_READ | EV_PERSIST, record_cb, &r2);
  BOOST_REQUIRE(event_add(e1, nullptr) == 0);
  BOOST_REQUIRE(event_add(e2, nullptr) == 0);
  p1.put("a");
  p2.put("b");
  BOOST_TEST(event_base_loop(base, EVLOOP_ONCE) == 0);
  BOOST_TEST(r1.calls == 1);
  BOOST_TEST(r2.calls == 1);
  event_free(e1);
  event_free(e2);
}

// Two events active together: the first to run calls loopexit or loopbreak.
struct stop_ctx {
  event_base* base = nullptr;
  bool use_break = false;
  int calls[2] = {0, 0};
  int first = -1;
};

void stop_act(stop_ctx* c, int me) {
  ++c->calls[me];
  if (c->first < 0) {
    c->first = me;
    if (c->use_break)
      event_base_loopbreak(c->base);
    else
      event_base_loopexit(c->base, nullptr);
  }
}
void stop_cb_0(evutil_socket_t, short, void* arg) { stop_act(static_cast<stop_ctx*>(arg), 0); }
void stop_cb_1(evutil_socket_t, short, void* arg) { stop_act(static_cast<stop_ctx*>(arg), 1); }

BOOST_AUTO_TEST_CASE(loopexit_from_a_callback_lets_the_other_active_callbacks_run) {
  stop_ctx c;
  c.base = base;
  pipe_pair p;
  event* e0 = evtimer_new(base, stop_cb_0, &c);
  event* e1 = evtimer_new(base, stop_cb_1, &c);
  event* keep = event_new(base, p.r.get(), EV_READ, noop_cb, nullptr);  // keeps the loop busy
  BOOST_REQUIRE(event_add(keep, nullptr) == 0);
  event_active(e0, EV_TIMEOUT, 1);
  event_active(e1, EV_TIMEOUT, 1);
  BOOST_TEST(event_base_dispatch(base) == 0);
  BOOST_TEST(event_base_got_exit(base) == 1);
  BOOST_TEST(event_base_got_break(base) == 0);
  BOOST_TEST(c.calls[0] == 1);
  BOOST_TEST(c.calls[1] == 1);
  event_free(e0);
  event_free(e1);
  event_free(keep);
}

BOOST_AUTO_TEST_CASE(loopbreak_from_a_callback_stops_before_the_other_active_callbacks) {
  stop_ctx c;
  c.base = base;
  c.use_break = true;
  pipe_pair p;
  event* e[2] = {evtimer_new(base, stop_cb_0, &c), evtimer_new(base, stop_cb_1, &c)};
  event* keep = event_new(base, p.r.get(), EV_READ, noop_cb, nullptr);
  BOOST_REQUIRE(event_add(keep, nullptr) == 0);
  event_active(e[0], EV_TIMEOUT, 1);
  event_active(e[1], EV_TIMEOUT, 1);
  BOOST_TEST(event_base_dispatch(base) == 0);
  BOOST_TEST(event_base_got_break(base) == 1);
  BOOST_REQUIRE(c.first >= 0);
  BOOST_TEST(c.calls[c.first] == 1);
  const int other = 1 - c.first;
  BOOST_TEST(c.calls[other] == 0);
  // The other one is still active and runs in the next loop.
  BOOST_TEST(event_pending(e[other], EV_TIMEOUT, nullptr) == EV_TIMEOUT);
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 0);
  BOOST_TEST(c.calls[other] == 1);
  BOOST_TEST(event_base_got_break(base) == 0);  // cleared by the new loop
  event_free(e[0]);
  event_free(e[1]);
  event_free(keep);
}

BOOST_AUTO_TEST_CASE(loopexit_with_a_timeout_ends_a_loop_with_a_persistent_timer) {
  struct ctx_t {
    int calls = 0;
  } ctx;
  event* tick = event_new(base, -1, EV_PERSIST,
                          [](evutil_socket_t, short, void* arg) { ++static_cast<ctx_t*>(arg)->calls; },
                          &ctx);
  timeval every = ms_tv(5);
  BOOST_REQUIRE(event_add(tick, &every) == 0);
  stopwatch sw;
  timeval in = ms_tv(60);
  BOOST_REQUIRE(event_base_loopexit(base, &in) == 0);
  BOOST_TEST(event_base_dispatch(base) == 0);
  BOOST_TEST(sw.elapsed_us() >= 60000);
  BOOST_TEST(event_base_got_exit(base) == 1);
  BOOST_TEST(ctx.calls >= 1);
  BOOST_TEST(event_pending(tick, EV_TIMEOUT, nullptr) == EV_TIMEOUT);
  event_free(tick);
}

BOOST_AUTO_TEST_CASE(loopbreak_ends_a_loop_with_an_always_ready_persistent_event) {
  pipe_pair p;
  struct ctx_t {
    event_base* base;
    int calls = 0;
  } ctx{base};
  event* busy = event_new(base, p.r.get(), EV_READ | EV_PERSIST,
                          [](evutil_socket_t, short, void* arg) {
                            auto* c = static_cast<ctx_t*>(arg);
                            if (++c->calls == 50)
                              event_base_loopbreak(c->base);
                          },
                          &ctx);
  BOOST_REQUIRE(event_add(busy, nullptr) == 0);
  p.put("never read");
  BOOST_TEST(event_base_dispatch(base) == 0);
  BOOST_TEST(ctx.calls == 50);
  BOOST_TEST(event_base_got_break(base) == 1);
  event_free(busy);
}

BOOST_AUTO_TEST_CASE(loopexit_before_dispatch_runs_one_round_of_ready_events) {
  pipe_pair p;
  rec seen;
  event* ev = event_new(base, p.r.get(), EV_READ | EV_PERSIST, record_cb, &seen);
  BOOST_REQUIRE(event_add(ev, nullptr) == 0);
  p.put("x");
  BOOST_REQUIRE(event_base_loopexit(base, nullptr) == 0);
  BOOST_TEST(event_base_dispatch(base) == 0);
  BOOST_TEST(seen.calls == 1);
  BOOST_TEST(event_base_got_exit(base) == 1);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(dispatch_returns_1_once_the_last_event_is_gone) {
  rec seen;
  event* ev = evtimer_new(base, record_cb, &seen);
  timeval tv = ms_tv(1);
  BOOST_REQUIRE(evtimer_add(ev, &tv) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.calls == 1);
  BOOST_TEST(event_base_got_exit(base) == 0);
  BOOST_TEST(event_base_got_break(base) == 0);
  event_free(ev);
}

// ---- one pass per call (libevent's main/many_events and main/many_events_slow_add) ----

constexpr int many = 70;

// Sockets that are writable at once and stay so: "send a datagram" needs no
// peer, so an EV_WRITE event on each is ready in every pass.
struct many_udp_sockets {
  many_udp_sockets() {
    for (auto& s : sock) {
      s.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
      BOOST_REQUIRE(s.valid());
    }
  }
  nettest::Fd sock[many];
};

void count_cb(evutil_socket_t, short, void* arg) { ++*static_cast<int*>(arg); }

BOOST_AUTO_TEST_CASE(many_events_ready_at_once_all_run_in_one_nonblock_pass) {
  many_udp_sockets u;
  int called[many] = {};
  event* ev[many];
  for (int i = 0; i < many; ++i) {
    ev[i] = event_new(base, u.sock[i].get(), EV_WRITE, count_cb, &called[i]);
    BOOST_REQUIRE(event_add(ev[i], nullptr) == 0);
  }
  event_base_loop(base, EVLOOP_NONBLOCK);  // 1 in libevent: the pass leaves no event
  for (int i = 0; i < many; ++i)
    BOOST_TEST(called[i] == 1, "event " << i << " ran " << called[i] << " times");
  for (event* e : ev)
    event_free(e);
}

BOOST_AUTO_TEST_CASE(many_persistent_events_added_one_pass_at_a_time_run_once_per_pass) {
  // Event i is added before pass i and is ready in every pass from then on:
  // passes i..many-1 and the last one run it, many - i + 1 times in all.
  many_udp_sockets u;
  int called[many] = {};
  event* ev[many];
  for (int i = 0; i < many; ++i) {
    ev[i] = event_new(base, u.sock[i].get(), EV_WRITE | EV_PERSIST, count_cb, &called[i]);
    BOOST_REQUIRE(event_add(ev[i], nullptr) == 0);
    BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK | EVLOOP_ONCE) == 0);
  }
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK | EVLOOP_ONCE) == 0);
  for (int i = 0; i < many; ++i)
    BOOST_TEST(called[i] == many - i + 1, "event " << i << " ran " << called[i] << " times");
  for (event* e : ev)
    event_free(e);
}

BOOST_AUTO_TEST_CASE(evloop_once_nonblock_runs_an_always_ready_persistent_event_once_per_call) {
  socket_pair s(true);
  rec seen;
  event* ev = event_new(base, s.a.get(), EV_WRITE | EV_PERSIST, record_cb, &seen);
  BOOST_REQUIRE(event_add(ev, nullptr) == 0);
  for (int call = 1; call <= 5; ++call) {
    BOOST_TEST(event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK) == 0);
    BOOST_TEST(seen.calls == call);
  }
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(oneshot_event_added_again_by_its_callback_runs_in_the_next_pass_not_this_one) {
  socket_pair s(true);
  struct ctx_t {
    event* ev = nullptr;
    int calls = 0;
  } ctx;
  ctx.ev = event_new(base, s.a.get(), EV_WRITE,
                     [](evutil_socket_t, short, void* arg) {
                       auto* c = static_cast<ctx_t*>(arg);
                       ++c->calls;
                       event_add(c->ev, nullptr);
                     },
                     &ctx);
  BOOST_REQUIRE(event_add(ctx.ev, nullptr) == 0);
  for (int call = 1; call <= 3; ++call) {
    BOOST_TEST(event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK) == 0);
    BOOST_TEST(ctx.calls == call);
  }
  event_free(ctx.ev);
}

// ---- EV_ET in the callback's `what` ------------------------------------------------

BOOST_AUTO_TEST_CASE(edge_triggered_read_event_callback_gets_EV_ET_with_EV_READ) {
  pipe_pair p;
  rec seen;
  event* ev = event_new(base, p.r.get(), EV_READ | EV_ET, record_cb, &seen);
  BOOST_REQUIRE(event_add(ev, nullptr) == 0);
  p.put("x");
  BOOST_TEST(event_base_loop(base, EVLOOP_ONCE) == 0);
  BOOST_TEST(seen.calls == 1);
  BOOST_TEST(seen.what == (EV_READ | EV_ET));
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(edge_triggered_write_event_callback_gets_EV_ET_with_EV_WRITE) {
  socket_pair s(true);
  rec seen;
  event* ev = event_new(base, s.a.get(), EV_WRITE | EV_ET, record_cb, &seen);
  BOOST_REQUIRE(event_add(ev, nullptr) == 0);
  BOOST_TEST(event_base_loop(base, EVLOOP_ONCE) == 0);
  BOOST_TEST(seen.calls == 1);
  BOOST_TEST(seen.what == (EV_WRITE | EV_ET));
  event_free(ev);
}

// ---- a NULL callback ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(event_assign_and_event_new_accept_a_null_callback) {
  struct event storage;
  BOOST_TEST(event_assign(&storage, base, -1, 0, nullptr, nullptr) == 0);
  BOOST_TEST(event_initialized(&storage) == 1);
  BOOST_TEST(event_get_callback(&storage) == nullptr);
  event* ev = event_new(base, -1, EV_PERSIST, nullptr, nullptr);
  BOOST_TEST(ev != nullptr);
  if (ev)
    event_free(ev);
}

BOOST_AUTO_TEST_CASE(timer_with_a_null_callback_keeps_dispatch_running_until_loopexit) {
  // A keep-alive timer parked so that dispatch does not return for lack of
  // events (a threaded program adds its real events later).
  struct event keepalive;
  BOOST_REQUIRE(evtimer_assign(&keepalive, base, nullptr, nullptr) == 0);
  timeval hour = ms_tv(3600 * 1000), soon = ms_tv(20);
  BOOST_REQUIRE(evtimer_add(&keepalive, &hour) == 0);
  BOOST_TEST(evtimer_pending(&keepalive, nullptr) == EV_TIMEOUT);
  BOOST_REQUIRE(event_base_loopexit(base, &soon) == 0);
  BOOST_TEST(event_base_dispatch(base) == 0);
  BOOST_TEST(event_base_got_exit(base) == 1);
  BOOST_TEST(evtimer_pending(&keepalive, nullptr) == EV_TIMEOUT);
  event_del(&keepalive);
}

BOOST_AUTO_TEST_CASE(event_base_once_accepts_a_null_callback) {
  timeval hour = ms_tv(3600 * 1000);
  BOOST_TEST(event_base_once(base, -1, EV_TIMEOUT, nullptr, nullptr, &hour) == 0);
}

#ifdef EVASIO_VERSION
// libevent calls through the NULL pointer (a crash); evasio calls nothing.
BOOST_AUTO_TEST_CASE(an_event_with_a_null_callback_that_fires_calls_nothing) {
  event* timer = evtimer_new(base, nullptr, nullptr);
  BOOST_REQUIRE(timer != nullptr);
  timeval zero = ms_tv(0);
  BOOST_REQUIRE(evtimer_add(timer, &zero) == 0);
  event* active = event_new(base, -1, 0, nullptr, nullptr);
  event_active(active, EV_TIMEOUT, 1);
  BOOST_REQUIRE(event_base_once(base, -1, EV_TIMEOUT, nullptr, nullptr, nullptr) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(evtimer_pending(timer, nullptr) == 0);
  event_free(timer);
  event_free(active);
}
#endif

// ---- timeouts beyond the clock's range ---------------------------------------------------

struct huge_tv_case {
  long sec;
  long usec;
};

// Timeouts so long that they never come: the event stays pending.
std::vector<huge_tv_case> never_timeouts() {
  std::vector<huge_tv_case> v{{10000000000L, 0}, {10000000000L, 999999}};
#ifdef EVASIO_VERSION
  // libevent's own sums overflow on these (they fire at once there).
  v.push_back({LONG_MAX, 0});
  v.push_back({LONG_MAX, 999999});
  v.push_back({0, LONG_MAX});
#endif
  return v;
}

const huge_tv_case past_timeouts[] = {
    {-10000000000L, 0}, {LONG_MIN, 0}, {0, -999999}, {-1, 0}, {LONG_MIN, LONG_MIN}, {-1, -999999}};

timeval make_tv(const huge_tv_case& c) {
  timeval tv;
  tv.tv_sec = c.sec;
  tv.tv_usec = c.usec;
  return tv;
}

BOOST_AUTO_TEST_CASE(event_add_with_a_timeout_too_large_for_the_clock_never_fires) {
  for (const auto& c : never_timeouts()) {
    BOOST_TEST_CONTEXT("tv {" << c.sec << ", " << c.usec << "}") {
      nettest::Base b;
      rec seen;
      event* ev = evtimer_new(b, record_cb, &seen);
      timeval tv = make_tv(c), soon = ms_tv(20);
      BOOST_REQUIRE(evtimer_add(ev, &tv) == 0);
      BOOST_REQUIRE(event_base_loopexit(b, &soon) == 0);
      BOOST_TEST(event_base_dispatch(b) == 0);
      BOOST_TEST(seen.calls == 0);
      timeval when{};
      BOOST_TEST(evtimer_pending(ev, &when) == EV_TIMEOUT);
      BOOST_TEST(when.tv_sec > wall_now_us() / 1000000);
      event_free(ev);
    }
  }
}

BOOST_AUTO_TEST_CASE(event_pending_reports_the_wall_clock_expiry_of_a_timeout_beyond_the_clock) {
  // 1e10 s is beyond any steady clock deadline evasio keeps, yet libevent
  // reports now + 1e10 s.
  event* ev = evtimer_new(base, noop_cb, nullptr);
  timeval tv{10000000000L, 0};
  const long long before = wall_now_us() / 1000000;
  BOOST_REQUIRE(evtimer_add(ev, &tv) == 0);
  const long long after = wall_now_us() / 1000000;
  timeval when{};
  BOOST_TEST(evtimer_pending(ev, &when) == EV_TIMEOUT);
  BOOST_TEST(when.tv_sec >= before + 10000000000LL);
  BOOST_TEST(when.tv_sec <= after + 10000000000LL + 1);
  BOOST_TEST(when.tv_usec >= 0);
  BOOST_TEST(when.tv_usec < 1000000);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(event_add_with_a_very_negative_timeout_fires_at_once) {
  for (const auto& c : past_timeouts) {
    BOOST_TEST_CONTEXT("tv {" << c.sec << ", " << c.usec << "}") {
      nettest::Base b;
      rec seen;
      event* ev = evtimer_new(b, record_cb, &seen);
      timeval tv = make_tv(c);
      BOOST_REQUIRE(evtimer_add(ev, &tv) == 0);
      BOOST_TEST(event_base_dispatch(b) == 1);  // a hang fails by the alarm
      BOOST_TEST(seen.calls == 1);
      BOOST_TEST(seen.what == EV_TIMEOUT);
      event_free(ev);
    }
  }
}

BOOST_AUTO_TEST_CASE(persistent_timer_with_a_timeout_too_large_for_the_clock_stays_pending_after_event_active) {
  // Each run re-adds the timeout from the deadline it was active for (as
  // libevent's persist closure does), again and again: no overflow either.
  rec seen;
  event* ev = event_new(base, -1, EV_PERSIST, record_cb, &seen);
  timeval tv{10000000000L, 999999};
  BOOST_REQUIRE(event_add(ev, &tv) == 0);
  for (int call = 1; call <= 4; ++call) {
    event_active(ev, EV_TIMEOUT, 1);
    BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 0);
    BOOST_TEST(seen.calls == call);
    BOOST_TEST(evtimer_pending(ev, nullptr) == EV_TIMEOUT);
  }
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(event_base_once_with_a_timeout_too_large_for_the_clock_never_fires) {
  for (const auto& c : never_timeouts()) {
    BOOST_TEST_CONTEXT("tv {" << c.sec << ", " << c.usec << "}") {
      nettest::Base b;
      rec seen;
      timeval tv = make_tv(c), soon = ms_tv(20);
      BOOST_REQUIRE(event_base_once(b, -1, EV_TIMEOUT, record_cb, &seen, &tv) == 0);
      BOOST_REQUIRE(event_base_loopexit(b, &soon) == 0);
      BOOST_TEST(event_base_dispatch(b) == 0);
      BOOST_TEST(seen.calls == 0);
    }
  }
}

BOOST_AUTO_TEST_CASE(event_base_once_with_a_very_negative_timeout_fires_at_once) {
  for (const auto& c : past_timeouts) {
    BOOST_TEST_CONTEXT("tv {" << c.sec << ", " << c.usec << "}") {
      nettest::Base b;
      rec seen;
      timeval tv = make_tv(c);
      BOOST_REQUIRE(event_base_once(b, -1, EV_TIMEOUT, record_cb, &seen, &tv) == 0);
      BOOST_TEST(event_base_dispatch(b) == 1);
      BOOST_TEST(seen.calls == 1);
    }
  }
}

void break_cb(evutil_socket_t, short, void* arg) { event_base_loopbreak(static_cast<event_base*>(arg)); }

BOOST_AUTO_TEST_CASE(loopexit_with_a_timeout_too_large_for_the_clock_never_ends_the_loop) {
  for (const auto& c : never_timeouts()) {
    BOOST_TEST_CONTEXT("tv {" << c.sec << ", " << c.usec << "}") {
      nettest::Base b;
      event* breaker = evtimer_new(b, break_cb, b.b);
      timeval tv = make_tv(c), soon = ms_tv(20);
      BOOST_REQUIRE(event_base_loopexit(b, &tv) == 0);
      BOOST_REQUIRE(evtimer_add(breaker, &soon) == 0);
      BOOST_TEST(event_base_dispatch(b) == 0);
      BOOST_TEST(event_base_got_exit(b) == 0);
      BOOST_TEST(event_base_got_break(b) == 1);
      event_free(breaker);
    }
  }
}

BOOST_AUTO_TEST_CASE(loopexit_with_a_very_negative_timeout_ends_the_loop_at_once) {
  for (const auto& c : past_timeouts) {
    BOOST_TEST_CONTEXT("tv {" << c.sec << ", " << c.usec << "}") {
      nettest::Base b;
      rec seen;
      event* late = evtimer_new(b, record_cb, &seen);
      timeval tv = make_tv(c), hour = ms_tv(3600 * 1000);
      BOOST_REQUIRE(evtimer_add(late, &hour) == 0);
      BOOST_REQUIRE(event_base_loopexit(b, &tv) == 0);
      BOOST_TEST(event_base_dispatch(b) == 0);
      BOOST_TEST(event_base_got_exit(b) == 1);
      BOOST_TEST(seen.calls == 0);
      event_free(late);
    }
  }
}

// ---- signal dispositions ----------------------------------------------------------------

volatile sig_atomic_t g_own_handler_calls = 0;
void own_handler(int) { ++g_own_handler_calls; }

// The program's own handler on sig for the scope of the case.
struct own_signal_handler {
  explicit own_signal_handler(int s) : sig(s) {
    struct sigaction sa {};
    sa.sa_handler = own_handler;
    sigemptyset(&sa.sa_mask);
    BOOST_REQUIRE(::sigaction(sig, &sa, &saved) == 0);
    g_own_handler_calls = 0;
  }
  ~own_signal_handler() { ::sigaction(sig, &saved, nullptr); }
  bool installed() const {
    struct sigaction now {};
    ::sigaction(sig, nullptr, &now);
    return now.sa_handler == own_handler;
  }
  int sig;
  struct sigaction saved {};
};

BOOST_AUTO_TEST_CASE(evsignal_del_of_the_last_signal_event_restores_the_previous_handler) {
  own_signal_handler own(SIGUSR1);
  rec seen;
  event* ev = evsignal_new(base, SIGUSR1, record_cb, &seen);
  BOOST_REQUIRE(evsignal_add(ev, nullptr) == 0);
  BOOST_TEST(!own.installed());
  BOOST_REQUIRE(evsignal_del(ev) == 0);
  BOOST_TEST(own.installed());
  BOOST_REQUIRE(::raise(SIGUSR1) == 0);  // the program's handler, not death
  BOOST_TEST(g_own_handler_calls == 1);
  BOOST_TEST(seen.calls == 0);
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(event_free_of_the_last_signal_event_restores_the_previous_handler) {
  own_signal_handler own(SIGUSR2);
  event* ev = evsignal_new(base, SIGUSR2, noop_cb, nullptr);
  BOOST_REQUIRE(evsignal_add(ev, nullptr) == 0);
  BOOST_TEST(!own.installed());
  event_free(ev);
  BOOST_TEST(own.installed());
  BOOST_REQUIRE(::raise(SIGUSR2) == 0);
  BOOST_TEST(g_own_handler_calls == 1);
}

BOOST_AUTO_TEST_CASE(the_previous_handler_comes_back_when_the_last_of_several_signal_events_goes) {
  own_signal_handler own(SIGUSR1);
  nettest::Base other;
  event* a = evsignal_new(base, SIGUSR1, noop_cb, nullptr);
  event* b = evsignal_new(base, SIGUSR1, noop_cb, nullptr);
  event* c = evsignal_new(other, SIGUSR1, noop_cb, nullptr);
  BOOST_REQUIRE(evsignal_add(a, nullptr) == 0);
  BOOST_REQUIRE(evsignal_add(b, nullptr) == 0);
  BOOST_REQUIRE(evsignal_add(c, nullptr) == 0);
  event_del(c);  // the base added last goes first, as libevent needs
  BOOST_TEST(!own.installed());
  event_del(a);
  BOOST_TEST(!own.installed());
  event_del(b);
  BOOST_TEST(own.installed());
  event_free(a);
  event_free(b);
  event_free(c);
}

#ifdef EVASIO_VERSION
// libevent saves and restores per base: the first base to give the signal
// up puts back the program's handler although another base still uses it.
BOOST_AUTO_TEST_CASE(a_signal_still_used_by_another_base_keeps_its_handler) {
  own_signal_handler own(SIGUSR1);
  nettest::Base other;
  sig_ctx kept;
  event* gone = evsignal_new(base, SIGUSR1, noop_cb, nullptr);
  kept.ev = evsignal_new(other, SIGUSR1, sig_cb_del, &kept);
  BOOST_REQUIRE(evsignal_add(gone, nullptr) == 0);
  BOOST_REQUIRE(evsignal_add(kept.ev, nullptr) == 0);
  event_free(gone);
  BOOST_TEST(!own.installed());
  BOOST_REQUIRE(::raise(SIGUSR1) == 0);
  BOOST_TEST(event_base_dispatch(other) == 1);
  BOOST_TEST(kept.calls == 1);
  BOOST_TEST(g_own_handler_calls == 0);
  BOOST_TEST(own.installed());
  event_free(kept.ev);
}
#endif

BOOST_AUTO_TEST_CASE(event_base_free_with_a_signal_event_added_restores_the_previous_handler) {
  own_signal_handler own(SIGUSR2);
  event_base* b = event_base_new();
  BOOST_REQUIRE(b != nullptr);
  struct event ev;  // never touched once its base is gone
  BOOST_REQUIRE(evsignal_assign(&ev, b, SIGUSR2, noop_cb, nullptr) == 0);
  BOOST_REQUIRE(evsignal_add(&ev, nullptr) == 0);
  BOOST_TEST(!own.installed());
  event_base_free(b);
  BOOST_TEST(own.installed());
}

BOOST_AUTO_TEST_CASE(signal_raised_before_the_loop_is_delivered_by_the_first_nonblock_pass) {
  rec seen;
  event* ev = evsignal_new(base, SIGUSR1, record_cb, &seen);
  BOOST_REQUIRE(evsignal_add(ev, nullptr) == 0);
  BOOST_REQUIRE(::kill(::getpid(), SIGUSR1) == 0);
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 0);
  BOOST_TEST(seen.calls == 1);
  BOOST_TEST(seen.what == EV_SIGNAL);
  event_free(ev);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- threads (evthread_use_pthreads) -------------------------------------------------------
//
// Last in the file: once threads are enabled, every later base locks.

namespace {

struct threaded_base : nettest::UsePthreads, nettest::AlarmedBase<60> {};

// The loop on a thread of its own, kept alive by a parked timer until stop().
struct loop_thread {
  explicit loop_thread(event_base* b) : base(b) {
    keepalive = evtimer_new(base, noop_cb, nullptr);
    timeval hour = ms_tv(3600 * 1000);
    evtimer_add(keepalive, &hour);
    thread = std::thread([this] { rc = event_base_dispatch(base); });
  }
  ~loop_thread() { stop(); }
  void stop() {
    if (!thread.joinable())
      return;
    event_free(keepalive);  // nothing pending: dispatch returns
    event_base_loopbreak(base);
    thread.join();
  }
  event_base* base;
  event* keepalive = nullptr;
  std::thread thread;
  int rc = -2;
};

// A callback that stays inside until a deleter is on its way, and then
// a while longer: an event_del that does not wait returns first.
struct slow_callback {
  std::atomic<bool> entered{false};
  std::atomic<bool> deleting{false};
  std::atomic<bool> returned{false};
  event* also_delete = nullptr;  // deleted from inside the callback
  event* self = nullptr;
};

void slow_cb(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<slow_callback*>(arg);
  c->entered = true;
  while (!c->deleting)
    std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (c->also_delete)
    event_del(c->also_delete);
  if (c->self)
    event_del(c->self);
  c->returned = true;
}

void wait_for(const std::atomic<bool>& flag) {
  while (!flag)
    std::this_thread::yield();
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(threaded_events, threaded_base)

// libevent's regress main/del_wait: event_del from another thread deletes
// at once, then waits for the running callback; a still-ready persistent
// event is not run again meanwhile.
BOOST_AUTO_TEST_CASE(event_del_from_another_thread_keeps_a_ready_persistent_event_from_running_again) {
  int sv[2];
  BOOST_TEST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  std::atomic<int> runs{0};
  std::atomic<bool> entered{false};
  struct ctx {
    std::atomic<int>* runs;
    std::atomic<bool>* entered;
  } c{&runs, &entered};
  event* ev = event_new(
      base, sv[1], EV_READ | EV_PERSIST,
      [](evutil_socket_t, short, void* arg) {
        auto* x = static_cast<ctx*>(arg);
        ++*x->runs;
        *x->entered = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the fd stays readable
      },
      &c);
  event_add(ev, nullptr);
  loop_thread loop(base);
  BOOST_TEST_REQUIRE(::write(sv[0], "x", 1) == 1);
  wait_for(entered);
  BOOST_REQUIRE(event_del(ev) == 0);
  BOOST_TEST(runs.load() == 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  BOOST_TEST(runs.load() == 1);
  loop.stop();
  event_free(ev);
  ::close(sv[0]);
  ::close(sv[1]);
}

BOOST_AUTO_TEST_CASE(event_del_from_another_thread_waits_for_the_running_callback) {
  slow_callback cb;
  event* ev = event_new(base, -1, EV_PERSIST, slow_cb, &cb);
  loop_thread loop(base);
  event_active(ev, EV_TIMEOUT, 1);
  wait_for(cb.entered);
  cb.deleting = true;
  BOOST_REQUIRE(event_del(ev) == 0);
  BOOST_TEST(cb.returned.load());  // a port may free the callback's argument now
  loop.stop();
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(event_free_from_another_thread_waits_for_the_running_callback) {
  auto* cb = new slow_callback;
  event* ev = event_new(base, -1, EV_PERSIST, slow_cb, cb);
  timeval hour = ms_tv(3600 * 1000);
  BOOST_REQUIRE(event_add(ev, &hour) == 0);
  loop_thread loop(base);
  event_active(ev, EV_TIMEOUT, 1);
  wait_for(cb->entered);
  cb->deleting = true;
  event_free(ev);
  BOOST_TEST(cb->returned.load());
  delete cb;  // the use-after-free a non-waiting event_free would cause
  loop.stop();
}

BOOST_AUTO_TEST_CASE(callback_deleting_events_while_another_thread_waits_in_event_del_does_not_deadlock) {
  slow_callback cb;
  event* other = evtimer_new(base, noop_cb, nullptr);
  timeval hour = ms_tv(3600 * 1000);
  BOOST_REQUIRE(evtimer_add(other, &hour) == 0);
  event* ev = event_new(base, -1, EV_PERSIST, slow_cb, &cb);
  cb.also_delete = other;
  cb.self = ev;
  loop_thread loop(base);
  event_active(ev, EV_TIMEOUT, 1);
  wait_for(cb.entered);
  cb.deleting = true;
  BOOST_REQUIRE(event_del(ev) == 0);  // waits while the callback deletes both
  BOOST_TEST(cb.returned.load());
  BOOST_TEST(evtimer_pending(other, nullptr) == 0);
  loop.stop();
  event_free(ev);
  event_free(other);
}

BOOST_AUTO_TEST_CASE(event_del_inside_its_own_callback_does_not_wait_on_a_threaded_base) {
  struct ctx_t {
    event* ev = nullptr;
    int calls = 0;
  } ctx;
  ctx.ev = event_new(base, -1, EV_PERSIST,
                     [](evutil_socket_t, short, void* arg) {
                       auto* c = static_cast<ctx_t*>(arg);
                       ++c->calls;
                       event_del(c->ev);  // a wait here would never end
                     },
                     &ctx);
  timeval hour = ms_tv(3600 * 1000);
  BOOST_REQUIRE(event_add(ctx.ev, &hour) == 0);
  event_active(ctx.ev, EV_TIMEOUT, 1);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(ctx.calls == 1);
  event_free(ctx.ev);
}

BOOST_AUTO_TEST_CASE(fd_events_added_and_deleted_by_other_threads_on_a_running_loop) {
  // Readiness handlers of the loop and event_add/event_del/event_free of
  // other threads meet on the same fds: TSan checks that they do not race.
  constexpr int threads = 2, rounds = 300;
  socket_pair pairs[threads];
  std::atomic<int> calls{0};
  auto count = [](evutil_socket_t, short, void* arg) { static_cast<std::atomic<int>*>(arg)->fetch_add(1); };
  loop_thread loop(base);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      const int fd = pairs[t].a.get();
      for (int i = 0; i < rounds; ++i) {
        event* w = event_new(base, fd, EV_WRITE | EV_PERSIST, count, &calls);
        event* r = event_new(base, fd, EV_READ | EV_PERSIST, count, &calls);
        event_add(w, nullptr);
        event_add(r, nullptr);
        if (i % 3 == 0)
          std::this_thread::yield();
        event_del(w);
        if (i % 2 == 0)
          event_add(w, nullptr);
        event_free(w);
        event_free(r);
      }
    });
  }
  for (auto& w : workers)
    w.join();
  loop.stop();
  BOOST_TEST(loop.rc >= 0);
  BOOST_TEST(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED) == 0);
}

BOOST_AUTO_TEST_SUITE_END()

// libevent's regress et/et_mix_error: one fd's events are all edge-triggered
// or all level-triggered; an event_add that would mix them fails.
BOOST_AUTO_TEST_CASE(mixing_edge_and_level_triggered_events_on_one_fd_fails) {
  nettest::AlarmedBase<10> f;
  int sv[2];
  BOOST_TEST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  auto cb = [](evutil_socket_t, short, void*) {};
  event* et = event_new(f.base, sv[0], EV_READ | EV_ET, cb, nullptr);
  event* lt = event_new(f.base, sv[0], EV_READ, cb, nullptr);
  BOOST_TEST(event_add(et, nullptr) == 0);
  BOOST_TEST(event_add(lt, nullptr) == -1);
  BOOST_TEST(event_pending(lt, EV_READ, nullptr) == 0);
  BOOST_TEST(event_del(et) == 0);
  BOOST_TEST(event_add(lt, nullptr) == 0);
  BOOST_TEST(event_add(et, nullptr) == -1);
  BOOST_TEST(event_pending(et, EV_READ, nullptr) == 0);
  event_free(et);
  event_free(lt);
  ::close(sv[0]);
  ::close(sv[1]);
}

// libevent's regress main/event_base_get_num_events: an EV_READ event on no
// fd (-1) is added as libevent's evmap adds it, waiting for its timeout.
BOOST_AUTO_TEST_CASE(a_read_event_on_fd_minus_one_is_added_and_times_out) {
  nettest::AlarmedBase<10> f;
  int fired = 0;
  short got = 0;
  struct hit {
    int* n;
    short* what;
  } h{&fired, &got};
  event* ev = event_new(
      f.base, -1, EV_READ,
      [](evutil_socket_t, short what, void* arg) {
        auto* x = static_cast<hit*>(arg);
        ++*x->n;
        *x->what = what;
      },
      &h);
  const timeval tv = nettest::ms_tv(20);
  BOOST_TEST(event_add(ev, &tv) == 0);
  BOOST_TEST(event_pending(ev, EV_READ | EV_TIMEOUT, nullptr) == (EV_READ | EV_TIMEOUT));
  BOOST_TEST(event_base_dispatch(f.base) == 1);
  BOOST_TEST(fired == 1);
  BOOST_TEST(got == EV_TIMEOUT);
  event_free(ev);
}

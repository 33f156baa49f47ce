// event2/bufferevent_struct.h: struct bufferevent's public fields say what
// the API says (base, evbuffers, callbacks, enabled, watermarks, timeouts),
// fields a program sets directly are obeyed, and bufferevent_base_set moves
// an idle socket bufferevent to another base, as in libevent 2.1.12.
//
// Builds against real libevent too (system headers, -levent), which is how
// every expectation here was checked. Cases where evasio differs on purpose
// are under #ifdef EVASIO_VERSION.
#define BOOST_TEST_MODULE bufferevent_struct
#include <boost/test/unit_test.hpp>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
// libevent 2.1.12's bufferevent_compat.h lacks extern "C" guards.
extern "C" {
#include <event2/bufferevent_compat.h>
}
#include <event2/event_compat.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "fixtures.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstddef>
#include <cstring>
#include <string>
#include <thread>

#ifdef EVASIO_VERSION
#include <boost/asio/executor_work_guard.hpp>
#include <evasio/asio.hpp>
#endif

namespace {

using nettest::Fd;
using nettest::ms_tv;

struct base_fixture : nettest::AlarmedBase<30> {
  base_fixture() { nettest::ignore_sigpipe(); }
};

using nettest::socket_pair;

// A bufferevent freed at scope exit.
struct Bev {
  explicit Bev(event_base* base, int fd = -1, int options = 0)
      : p(bufferevent_socket_new(base, fd, options)) {
    BOOST_REQUIRE(p != nullptr);
  }
  ~Bev() { bufferevent_free(p); }
  Bev(const Bev&) = delete;
  Bev& operator=(const Bev&) = delete;
  bufferevent* operator->() const { return p; }
  operator bufferevent*() const { return p; }
  bufferevent* p;
};

struct calls {
  int read = 0, write = 0, event = 0;
  short what = 0;
  size_t input_length = 0;
};

void count_read(bufferevent* bev, void* arg) {
  auto* c = static_cast<calls*>(arg);
  ++c->read;
  c->input_length = evbuffer_get_length(bev->input);
}
void count_write(bufferevent*, void* arg) { ++static_cast<calls*>(arg)->write; }
void count_event(bufferevent*, short what, void* arg) {
  auto* c = static_cast<calls*>(arg);
  ++c->event;
  c->what = what;
}

bool same_timeval(const timeval& x, const timeval& y) {
  return x.tv_sec == y.tv_sec && x.tv_usec == y.tv_usec;
}

// Runs base until the flag is set (bounded by the safety alarm).
void loop_until(event_base* base, const int& flag) {
  while (!flag)
    event_base_loop(base, EVLOOP_ONCE);
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(fields, base_fixture)

// libevent's x86_64 layout, with its 128-byte struct event.
BOOST_AUTO_TEST_CASE(fields_have_libevent_order_and_offsets) {
  const size_t e = 128;
  BOOST_TEST(sizeof(struct event) == e);
  BOOST_TEST(offsetof(bufferevent, ev_base) == 0u);
  BOOST_TEST(offsetof(bufferevent, be_ops) == 8u);
  BOOST_TEST(offsetof(bufferevent, ev_read) == 16u);
  BOOST_TEST(offsetof(bufferevent, ev_write) == 16 + e);
  BOOST_TEST(offsetof(bufferevent, input) == 16 + 2 * e);
  BOOST_TEST(offsetof(bufferevent, output) == 24 + 2 * e);
  BOOST_TEST(offsetof(bufferevent, wm_read) == 32 + 2 * e);
  BOOST_TEST(offsetof(bufferevent, wm_write) == 48 + 2 * e);
  BOOST_TEST(offsetof(bufferevent, readcb) == 64 + 2 * e);
  BOOST_TEST(offsetof(bufferevent, writecb) == 72 + 2 * e);
  BOOST_TEST(offsetof(bufferevent, errorcb) == 80 + 2 * e);
  BOOST_TEST(offsetof(bufferevent, cbarg) == 88 + 2 * e);
  BOOST_TEST(offsetof(bufferevent, timeout_read) == 96 + 2 * e);
  BOOST_TEST(offsetof(bufferevent, timeout_write) == 112 + 2 * e);
  BOOST_TEST(offsetof(bufferevent, enabled) == 128 + 2 * e);
  BOOST_TEST(sizeof(bufferevent) == 136 + 2 * e);
  BOOST_TEST(sizeof(event_watermark) == 16u);
}

BOOST_AUTO_TEST_CASE(input_and_output_are_get_input_and_get_output) {
  Bev bev(base);
  BOOST_TEST(bev->input == bufferevent_get_input(bev));
  BOOST_TEST(bev->output == bufferevent_get_output(bev));
  BOOST_TEST(bev->input != bev->output);
}

BOOST_AUTO_TEST_CASE(ev_base_is_the_base_it_was_made_on) {
  Bev bev(base);
  BOOST_TEST(bev->ev_base == base);
  BOOST_TEST(bufferevent_get_base(bev) == bev->ev_base);
}

BOOST_AUTO_TEST_CASE(a_new_bufferevent_has_no_callbacks_watermarks_or_timeouts) {
  Bev bev(base);
  BOOST_TEST(!bev->readcb);
  BOOST_TEST(!bev->writecb);
  BOOST_TEST(!bev->errorcb);
  BOOST_TEST(bev->cbarg == nullptr);
  BOOST_TEST(bev->wm_read.low == 0u);
  BOOST_TEST(bev->wm_read.high == 0u);
  BOOST_TEST(bev->wm_write.low == 0u);
  BOOST_TEST(bev->wm_write.high == 0u);
  BOOST_TEST(same_timeval(bev->timeout_read, timeval{0, 0}));
  BOOST_TEST(same_timeval(bev->timeout_write, timeval{0, 0}));
}

BOOST_AUTO_TEST_CASE(enabled_is_ev_write_from_the_start) {
  Bev bev(base);
  BOOST_TEST(bev->enabled == EV_WRITE);
}

BOOST_AUTO_TEST_CASE(enabled_follows_enable_and_disable) {
  Bev bev(base);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_TEST(bev->enabled == (EV_READ | EV_WRITE));
  BOOST_REQUIRE(bufferevent_disable(bev, EV_WRITE) == 0);
  BOOST_TEST(bev->enabled == EV_READ);
  BOOST_TEST(bufferevent_get_enabled(bev) == bev->enabled);
}

BOOST_AUTO_TEST_CASE(enable_keeps_the_other_bits_it_was_given) {
  Bev bev(base);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ | EV_PERSIST) == 0);
  BOOST_TEST(bev->enabled == (EV_READ | EV_WRITE | EV_PERSIST));
  BOOST_TEST(bufferevent_get_enabled(bev) == (EV_READ | EV_WRITE | EV_PERSIST));
  BOOST_REQUIRE(bufferevent_disable(bev, EV_PERSIST) == 0);
  BOOST_TEST(bev->enabled == (EV_READ | EV_WRITE));
}

BOOST_AUTO_TEST_CASE(enabled_loses_ev_read_at_end_of_file) {
  socket_pair sp;
  Bev bev(base, sp.a.get());
  calls c;
  bufferevent_setcb(bev, nullptr, nullptr, count_event, &c);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  sp.b.reset();
  loop_until(base, c.event);
  BOOST_TEST(c.what == (BEV_EVENT_READING | BEV_EVENT_EOF));
  BOOST_TEST(bev->enabled == EV_WRITE);
}

BOOST_AUTO_TEST_CASE(setcb_fills_the_callback_fields) {
  Bev bev(base);
  calls c;
  bufferevent_setcb(bev, count_read, count_write, count_event, &c);
  BOOST_TEST(bev->readcb == &count_read);
  BOOST_TEST(bev->writecb == &count_write);
  BOOST_TEST(bev->errorcb == &count_event);
  BOOST_TEST(bev->cbarg == &c);
}

BOOST_AUTO_TEST_CASE(getcb_reports_callbacks_assigned_to_the_fields) {
  Bev bev(base);
  calls c;
  bev->readcb = count_read;
  bev->errorcb = count_event;
  bev->cbarg = &c;
  bufferevent_data_cb r = nullptr, w = count_write;
  bufferevent_event_cb e = nullptr;
  void* arg = nullptr;
  bufferevent_getcb(bev, &r, &w, &e, &arg);
  BOOST_TEST(r == &count_read);
  BOOST_TEST(!w);
  BOOST_TEST(e == &count_event);
  BOOST_TEST(arg == &c);
}

BOOST_AUTO_TEST_CASE(a_readcb_assigned_directly_is_called_with_cbarg) {
  socket_pair sp;
  Bev bev(base, sp.a.get());
  calls c;
  bev->readcb = count_read;
  bev->cbarg = &c;
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_REQUIRE(::send(sp.b.get(), "hello", 5, 0) == 5);
  loop_until(base, c.read);
  BOOST_TEST(c.read == 1);
}

BOOST_AUTO_TEST_CASE(an_errorcb_assigned_directly_is_called_at_end_of_file) {
  socket_pair sp;
  Bev bev(base, sp.a.get());
  calls c;
  bev->errorcb = count_event;
  bev->cbarg = &c;
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  sp.b.reset();
  loop_until(base, c.event);
  BOOST_TEST(c.what == (BEV_EVENT_READING | BEV_EVENT_EOF));
}

BOOST_AUTO_TEST_CASE(bytes_read_are_in_bev_input) {
  socket_pair sp;
  Bev bev(base, sp.a.get());
  calls c;
  bufferevent_setcb(bev, count_read, nullptr, nullptr, &c);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_REQUIRE(::send(sp.b.get(), "hello", 5, 0) == 5);
  loop_until(base, c.read);
  BOOST_TEST(c.input_length == 5u);
  char buf[8] = {};
  BOOST_TEST(evbuffer_remove(bev->input, buf, sizeof buf) == 5);
  BOOST_TEST(std::string(buf) == "hello");
}

BOOST_AUTO_TEST_CASE(bufferevent_write_lands_in_bev_output) {
  Bev bev(base);
  BOOST_REQUIRE(bufferevent_write(bev, "abc", 3) == 0);
  BOOST_TEST(evbuffer_get_length(bev->output) == 3u);
}

BOOST_AUTO_TEST_CASE(what_is_added_to_bev_output_is_sent) {
  socket_pair sp;
  Bev bev(base, sp.a.get());
  calls c;
  bufferevent_setcb(bev, nullptr, count_write, nullptr, &c);
  BOOST_REQUIRE(evbuffer_add(bev->output, "ping", 4) == 0);
  loop_until(base, c.write);
  char buf[8] = {};
  BOOST_TEST(::recv(sp.b.get(), buf, sizeof buf, 0) == 4);
  BOOST_TEST(std::string(buf) == "ping");
}

BOOST_AUTO_TEST_CASE(setwatermark_fills_wm_read_and_wm_write) {
  Bev bev(base);
  bufferevent_setwatermark(bev, EV_READ, 10, 100);
  bufferevent_setwatermark(bev, EV_WRITE, 20, 200);
  BOOST_TEST(bev->wm_read.low == 10u);
  BOOST_TEST(bev->wm_read.high == 100u);
  BOOST_TEST(bev->wm_write.low == 20u);
  BOOST_TEST(bev->wm_write.high == 200u);
  bufferevent_setwatermark(bev, EV_READ | EV_WRITE, 1, 2);
  BOOST_TEST(bev->wm_read.low == 1u);
  BOOST_TEST(bev->wm_write.high == 2u);
}

BOOST_AUTO_TEST_CASE(getwatermark_reports_watermarks_assigned_to_the_fields) {
  Bev bev(base);
  bev->wm_read.low = 7;
  bev->wm_read.high = 70;
  size_t low = 0, high = 0;
  BOOST_REQUIRE(bufferevent_getwatermark(bev, EV_READ, &low, &high) == 0);
  BOOST_TEST(low == 7u);
  BOOST_TEST(high == 70u);
}

BOOST_AUTO_TEST_CASE(a_read_low_watermark_assigned_directly_holds_back_readcb) {
  socket_pair sp;
  Bev bev(base, sp.a.get());
  calls c;
  bufferevent_setcb(bev, count_read, nullptr, nullptr, &c);
  bev->wm_read.low = 6;
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_REQUIRE(::send(sp.b.get(), "abc", 3, 0) == 3);
  for (int i = 0; i < 5; ++i)
    event_base_loop(base, EVLOOP_NONBLOCK);
  BOOST_TEST(c.read == 0);
  BOOST_REQUIRE(::send(sp.b.get(), "def", 3, 0) == 3);
  loop_until(base, c.read);
  BOOST_TEST(c.input_length == 6u);
}

BOOST_AUTO_TEST_CASE(set_timeouts_fills_timeout_read_and_timeout_write) {
  Bev bev(base);
  const timeval rd = ms_tv(1500), wr = ms_tv(250);
  BOOST_REQUIRE(bufferevent_set_timeouts(bev, &rd, &wr) == 0);
  BOOST_TEST(same_timeval(bev->timeout_read, rd));
  BOOST_TEST(same_timeval(bev->timeout_write, wr));
}

BOOST_AUTO_TEST_CASE(set_timeouts_with_null_clears_the_fields) {
  Bev bev(base);
  const timeval tv = ms_tv(1500);
  BOOST_REQUIRE(bufferevent_set_timeouts(bev, &tv, &tv) == 0);
  BOOST_REQUIRE(bufferevent_set_timeouts(bev, nullptr, nullptr) == 0);
  BOOST_TEST(same_timeval(bev->timeout_read, timeval{0, 0}));
  BOOST_TEST(same_timeval(bev->timeout_write, timeval{0, 0}));
}

BOOST_AUTO_TEST_CASE(set_timeouts_keeps_the_timeval_as_given) {
  Bev bev(base);
  const timeval odd = {3, 2500000};  // tv_usec beyond a second: not normalised
  BOOST_REQUIRE(bufferevent_set_timeouts(bev, &odd, nullptr) == 0);
  BOOST_TEST(same_timeval(bev->timeout_read, odd));
}

BOOST_AUTO_TEST_CASE(a_read_timeout_assigned_directly_applies_from_the_next_enable) {
  socket_pair sp;
  Bev bev(base, sp.a.get());
  calls c;
  bufferevent_setcb(bev, nullptr, nullptr, count_event, &c);
  bev->timeout_read = ms_tv(30);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  loop_until(base, c.event);
  BOOST_TEST(c.what == (BEV_EVENT_READING | BEV_EVENT_TIMEOUT));
  BOOST_TEST(bev->enabled == EV_WRITE);
}

#ifdef EVASIO_VERSION
// libevent leaves ev_base pointing at the freed base.
BOOST_AUTO_TEST_CASE(ev_base_is_null_once_the_base_is_freed) {
  event_base* other = event_base_new();
  BOOST_REQUIRE(other);
  bufferevent* bev = bufferevent_socket_new(other, -1, 0);
  BOOST_REQUIRE(bev);
  event_base_free(other);
  BOOST_TEST(bev->ev_base == nullptr);
  BOOST_TEST(bufferevent_get_base(bev) == nullptr);
  bufferevent_free(bev);
}

// libevent's read and write events live there; evasio leaves them zeroed.
BOOST_AUTO_TEST_CASE(ev_read_and_ev_write_are_not_initialized_events) {
  socket_pair sp;
  Bev bev(base, sp.a.get());
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_TEST(!event_initialized(&bev->ev_read));
  BOOST_TEST(!event_initialized(&bev->ev_write));
  BOOST_TEST(event_pending(&bev->ev_read, EV_READ, nullptr) == 0);
}
#endif

BOOST_AUTO_TEST_SUITE_END()

// ---- bufferevent_base_set -------------------------------------------------------

namespace {
struct moving_reader {
  std::atomic<int> reads{0};
  std::atomic<event_base*> ran_on{nullptr};
  static void on_read(bufferevent* bev, void* arg) {
    auto* self = static_cast<moving_reader*>(arg);
    self->ran_on = bev->ev_base;  // the callback holds the bufferevent's lock
    evbuffer_drain(bev->input, evbuffer_get_length(bev->input));
    ++self->reads;
  }
  void wait_for(int n) const {
    while (reads < n)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
};

struct two_bases : base_fixture {
  two_bases() { BOOST_REQUIRE(other.b != nullptr); }
  nettest::Base other;
};
} // namespace

BOOST_FIXTURE_TEST_SUITE(base_set, two_bases)

BOOST_AUTO_TEST_CASE(base_set_moves_an_idle_bufferevent_to_the_other_base) {
  socket_pair sp;
  Bev bev(base, sp.a.get());
  BOOST_REQUIRE(bufferevent_base_set(other, bev) == 0);
  BOOST_TEST(bev->ev_base == other.b);
  BOOST_TEST(bufferevent_get_base(bev) == other.b);
}

BOOST_AUTO_TEST_CASE(a_moved_bufferevent_reads_on_its_new_base) {
  socket_pair sp;
  Bev bev(base, sp.a.get());
  calls c;
  bufferevent_setcb(bev, count_read, nullptr, nullptr, &c);
  BOOST_REQUIRE(bufferevent_base_set(other, bev) == 0);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_REQUIRE(::send(sp.b.get(), "hi", 2, 0) == 2);
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 1);  // nothing left there
  BOOST_TEST(c.read == 0);
  loop_until(other, c.read);
  BOOST_TEST(c.input_length == 2u);
}

BOOST_AUTO_TEST_CASE(a_moved_bufferevent_writes_on_its_new_base) {
  socket_pair sp;
  Bev bev(base, sp.a.get());
  calls c;
  bufferevent_setcb(bev, nullptr, count_write, nullptr, &c);
  BOOST_REQUIRE(bufferevent_base_set(other, bev) == 0);
  BOOST_REQUIRE(bufferevent_write(bev, "xyz", 3) == 0);
  loop_until(other, c.write);
  char buf[4] = {};
  BOOST_TEST(::recv(sp.b.get(), buf, sizeof buf, 0) == 3);
}

BOOST_AUTO_TEST_CASE(base_set_fails_while_reading_is_enabled) {
  socket_pair sp;
  Bev bev(base, sp.a.get());
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_TEST(bufferevent_base_set(other, bev) == -1);
}

BOOST_AUTO_TEST_CASE(base_set_fails_while_output_waits_to_be_written) {
  socket_pair sp;
  Bev bev(base, sp.a.get());
  BOOST_REQUIRE(bufferevent_write(bev, "x", 1) == 0);
  BOOST_TEST(bufferevent_base_set(other, bev) == -1);
}

BOOST_AUTO_TEST_CASE(base_set_succeeds_once_the_output_is_written) {
  socket_pair sp;
  Bev bev(base, sp.a.get());
  calls c;
  bufferevent_setcb(bev, nullptr, count_write, nullptr, &c);
  BOOST_REQUIRE(bufferevent_write(bev, "x", 1) == 0);
  loop_until(base, c.write);
  BOOST_TEST(bufferevent_base_set(other, bev) == 0);
}

BOOST_AUTO_TEST_CASE(base_set_fails_once_enabled_even_without_an_fd) {
  Bev bev(base);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_TEST(bufferevent_base_set(other, bev) == -1);
}

BOOST_AUTO_TEST_CASE(base_set_to_the_same_base_succeeds_when_idle) {
  Bev bev(base);
  BOOST_TEST(bufferevent_base_set(base, bev) == 0);
  BOOST_TEST(bev->ev_base == base);
}

// After a wait was under way on the old base: it is given up there.
BOOST_AUTO_TEST_CASE(a_bufferevent_that_read_on_one_base_reads_on_the_next) {
  socket_pair sp;
  Bev bev(base, sp.a.get());
  calls c;
  bufferevent_setcb(bev, count_read, nullptr, nullptr, &c);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  event_base_loop(base, EVLOOP_NONBLOCK);  // nothing to read: it waits
  BOOST_REQUIRE(bufferevent_disable(bev, EV_READ) == 0);
  BOOST_REQUIRE(bufferevent_base_set(other, bev) == 0);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_REQUIRE(::send(sp.b.get(), "hi", 2, 0) == 2);
  loop_until(other, c.read);
  BOOST_TEST(c.input_length == 2u);
  event_base_loop(base, EVLOOP_NONBLOCK);  // what the old base still had
  BOOST_TEST(c.read == 1);
}

BOOST_AUTO_TEST_CASE(a_read_timeout_runs_on_the_new_base) {
  socket_pair sp;
  Bev bev(base, sp.a.get());
  calls c;
  bufferevent_setcb(bev, nullptr, nullptr, count_event, &c);
  const timeval tv = ms_tv(30);
  BOOST_REQUIRE(bufferevent_set_timeouts(bev, &tv, nullptr) == 0);
  BOOST_REQUIRE(bufferevent_base_set(other, bev) == 0);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  loop_until(other, c.event);
  BOOST_TEST(c.what == (BEV_EVENT_READING | BEV_EVENT_TIMEOUT));
}

void do_nothing(evutil_socket_t, short, void*) {}

// Moved with a wait of the old base still queued there, then used and freed
// on another thread, which goes on using its base while the old base's loop
// runs on this one (no evthread, no locks: nothing is shared once it moved).
BOOST_AUTO_TEST_CASE(a_moved_bufferevent_freed_on_another_thread_leaves_the_old_base_nothing) {
  socket_pair sp;
  calls c;
  bufferevent* bev = bufferevent_socket_new(base, sp.a.get(), 0);
  BOOST_REQUIRE(bev);
  bufferevent_setcb(bev, count_read, nullptr, nullptr, &c);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  event_base_loop(base, EVLOOP_NONBLOCK);  // nothing to read: it waits
  BOOST_REQUIRE(bufferevent_disable(bev, EV_READ) == 0);
  BOOST_REQUIRE(bufferevent_base_set(other, bev) == 0);
  std::atomic<bool> freed{false}, done{false};
  std::thread worker([&] {
    bufferevent_enable(bev, EV_READ);
    loop_until(other, c.read);
    bufferevent_free(bev);
    freed = true;
    while (!done)  // its base's objects come and go meanwhile
      bufferevent_free(bufferevent_socket_new(other, -1, 0));
  });
  BOOST_REQUIRE(::send(sp.b.get(), "x", 1, 0) == 1);
  while (!freed)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  event* keep_running = evtimer_new(base, do_nothing, nullptr);
  const timeval tv = ms_tv(20);
  evtimer_add(keep_running, &tv);
  event_base_dispatch(base);  // what the old base still had runs here
  done = true;
  worker.join();
  event_free(keep_running);
  BOOST_TEST(c.read == 1);
  BOOST_TEST(c.input_length == 1u);
}

// The 1.x idiom: bufferevent_new, then bufferevent_base_set onto the
// program's own base.
BOOST_AUTO_TEST_CASE(a_1x_bufferevent_set_on_a_base_reads_there) {
  event_base* current = event_init();
  BOOST_REQUIRE(current);
  socket_pair sp;
  calls c;
  bufferevent* bev = bufferevent_new(sp.a.get(), count_read, nullptr, nullptr, &c);
  BOOST_REQUIRE(bev);
  BOOST_TEST(bufferevent_base_set(other, bev) == 0);
  BOOST_TEST(bev->ev_base == other.b);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_REQUIRE(::send(sp.b.get(), "old", 3, 0) == 3);
  loop_until(other, c.read);
  BOOST_TEST(c.input_length == 3u);
  bufferevent_free(bev);
  event_base_free(current);
}

#ifdef EVASIO_VERSION
// libevent sets ev_base to the new base even when it then fails.
BOOST_AUTO_TEST_CASE(a_failed_base_set_leaves_the_bufferevent_on_its_base) {
  Bev bev(base);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  errno = 0;
  BOOST_TEST(bufferevent_base_set(other, bev) == -1);
  BOOST_TEST(errno == EBUSY);
  BOOST_TEST(bev->ev_base == base);
  BOOST_TEST(bufferevent_get_base(bev) == base);
}

// libevent dereferences the NULL.
BOOST_AUTO_TEST_CASE(base_set_with_null_fails_with_einval) {
  Bev bev(base);
  errno = 0;
  BOOST_TEST(bufferevent_base_set(nullptr, bev) == -1);
  BOOST_TEST(errno == EINVAL);
  errno = 0;
  BOOST_TEST(bufferevent_base_set(base, nullptr) == -1);
  BOOST_TEST(errno == EINVAL);
}

// libevent runs them on the base they were queued on. A connect refused at
// once queues the error callback and leaves nothing pending, so the
// bufferevent may move.
BOOST_AUTO_TEST_CASE(deferred_callbacks_queued_before_base_set_run_on_the_new_base) {
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::snprintf(sun.sun_path, sizeof sun.sun_path, "/tmp/evasio_bevstruct_%d", (int)::getpid());
  Fd bound(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ::unlink(sun.sun_path);
  BOOST_REQUIRE(::bind(bound.get(), reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0);
  Bev bev(base, -1, BEV_OPT_DEFER_CALLBACKS | BEV_OPT_CLOSE_ON_FREE);
  calls c;
  bufferevent_setcb(bev, nullptr, nullptr, count_event, &c);
  // Bound, not listening: refused at once.
  BOOST_REQUIRE(bufferevent_socket_connect(bev, reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0);
  ::unlink(sun.sun_path);
  BOOST_REQUIRE(bufferevent_base_set(other, bev) == 0);
  event_base_loop(base, EVLOOP_NONBLOCK);
  BOOST_TEST(c.event == 0);
  loop_until(other, c.event);
  BOOST_TEST(c.event == 1);
  BOOST_TEST(c.what == BEV_EVENT_ERROR);
}
#endif

#ifdef EVASIO_VERSION
// libevent leaves ev_base dangling once its base is freed; evasio makes it
// NULL, and the bufferevent may go on on another base.
BOOST_AUTO_TEST_CASE(a_bufferevent_whose_base_was_freed_goes_on_on_another) {
  socket_pair sp;
  calls c;
  bufferevent* bev = bufferevent_socket_new(other, sp.a.get(), 0);
  BOOST_REQUIRE(bev);
  bufferevent_setcb(bev, count_read, nullptr, nullptr, &c);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  event_base_loop(other, EVLOOP_NONBLOCK);
  other.free();
  BOOST_REQUIRE(bufferevent_base_set(base, bev) == 0);
  BOOST_TEST(bev->ev_base == base);
  BOOST_TEST(bev->enabled == (EV_READ | EV_WRITE));
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);  // its events went with the base
  BOOST_REQUIRE(::send(sp.b.get(), "on", 2, 0) == 2);
  loop_until(base, c.read);
  BOOST_TEST(c.input_length == 2u);
  bufferevent_free(bev);
}
#endif

#ifdef EVASIO_VERSION
// A base over an io_context that several threads run makes every
// bufferevent on it lock: one moved there starts locking too.
BOOST_AUTO_TEST_CASE(a_plain_bufferevent_moved_to_a_multi_threaded_base_is_safe_there) {
  boost::asio::io_context ctx;
  event_base* shared = evasio::make_event_base(ctx);
  BOOST_REQUIRE(shared);
  socket_pair sp;
  moving_reader r;
  bufferevent* bev = bufferevent_socket_new(base, sp.a.get(), 0);
  BOOST_REQUIRE(bev);
  bufferevent_setcb(bev, moving_reader::on_read, nullptr, nullptr, &r);
  BOOST_REQUIRE(bufferevent_base_set(shared, bev) == 0);
  auto guard = boost::asio::make_work_guard(ctx);
  std::thread t1([&] { ctx.run(); }), t2([&] { ctx.run(); });
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  for (int i = 1; i <= 20; ++i) {
    BOOST_REQUIRE(::send(sp.b.get(), "x", 1, 0) == 1);
    r.wait_for(i);
  }
  bufferevent_free(bev);
  guard.reset();
  ctx.stop();
  t1.join();
  t2.join();
  event_base_free(shared);
  BOOST_TEST(r.ran_on == shared);
}
#endif

BOOST_AUTO_TEST_SUITE_END()

// ---- with threads (last: evthread_use_pthreads stays on) -------------------------

namespace {
struct threaded_bases : nettest::CaseAlarm<60> {
  nettest::UsePthreads pthreads;
  nettest::Base a, b;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(base_set_with_threads, threaded_bases)

BOOST_AUTO_TEST_CASE(a_threadsafe_bufferevent_moves_back_and_forth_between_running_bases) {
  std::thread ta([&] { event_base_loop(a, EVLOOP_NO_EXIT_ON_EMPTY); });
  std::thread tb([&] { event_base_loop(b, EVLOOP_NO_EXIT_ON_EMPTY); });
  socket_pair sp;
  moving_reader r;
  bufferevent* bev = bufferevent_socket_new(a, sp.a.get(), BEV_OPT_THREADSAFE);
  BOOST_REQUIRE(bev);
  bufferevent_setcb(bev, moving_reader::on_read, nullptr, nullptr, &r);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  bool all_moved = true, all_ran_there = true;
  for (int i = 1; i <= 20; ++i) {
    event_base* to = i % 2 ? b.b : a.b;
    bufferevent_lock(bev);
    bufferevent_disable(bev, EV_READ);
    all_moved = bufferevent_base_set(to, bev) == 0 && all_moved;
    bufferevent_enable(bev, EV_READ);
    bufferevent_unlock(bev);
    BOOST_REQUIRE(::send(sp.b.get(), "x", 1, 0) == 1);
    r.wait_for(i);
    all_ran_there = r.ran_on == to && all_ran_there;
  }
  BOOST_TEST(all_moved);
  BOOST_TEST(all_ran_there);
  bufferevent_free(bev);
  event_base_loopbreak(a);
  event_base_loopbreak(b);
  ta.join();
  tb.join();
}

BOOST_AUTO_TEST_SUITE_END()

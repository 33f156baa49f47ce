// bufferevent_trigger, bufferevent_trigger_event, bufferevent_incref and
// bufferevent_decref (event2/bufferevent.h), with libevent 2.1.12's rules.
// Builds against real libevent too, which is how every case was checked.
#define BOOST_TEST_MODULE bufferevent_trigger
#include <boost/test/unit_test.hpp>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "fixtures.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace {

using nettest::socket_pair;

struct seen_t {
  int reads = 0, writes = 0, events = 0;
  short what = 0;
  bool free_in_callback = false;
};

void on_read(bufferevent* bev, void* arg) {
  auto* s = static_cast<seen_t*>(arg);
  ++s->reads;
  if (s->free_in_callback)
    bufferevent_free(bev);
}
void on_write(bufferevent*, void* arg) { ++static_cast<seen_t*>(arg)->writes; }
void on_event(bufferevent*, short what, void* arg) {
  auto* s = static_cast<seen_t*>(arg);
  ++s->events;
  s->what = what;
}

struct fixture : nettest::AlarmedBase<10> {
  socket_pair sp;
  seen_t seen;
  bufferevent* make(int options = 0) {
    bufferevent* bev = bufferevent_socket_new(base, sp.a.get(), options);
    BOOST_TEST_REQUIRE(bev != nullptr);
    bufferevent_setcb(bev, on_read, on_write, on_event, &seen);
    return bev;
  }
};

bool fd_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

} // namespace

BOOST_FIXTURE_TEST_SUITE(trigger, fixture)

BOOST_AUTO_TEST_CASE(trigger_read_calls_the_read_callback_at_once_when_the_input_meets_the_low_watermark) {
  bufferevent* bev = make();
  bufferevent_trigger(bev, EV_READ, 0);  // empty input, low watermark 0
  BOOST_TEST(seen.reads == 1);
  BOOST_TEST(seen.writes == 0);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(trigger_read_below_the_low_watermark_calls_nothing) {
  bufferevent* bev = make();
  bufferevent_setwatermark(bev, EV_READ, 10, 0);
  bufferevent_trigger(bev, EV_READ, 0);
  BOOST_TEST(seen.reads == 0);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(ignore_watermarks_calls_the_read_callback_anyway) {
  bufferevent* bev = make();
  bufferevent_setwatermark(bev, EV_READ, 10, 0);
  bufferevent_trigger(bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS);
  BOOST_TEST(seen.reads == 1);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(trigger_write_calls_the_write_callback_when_the_output_is_at_most_the_low_watermark) {
  bufferevent* bev = make();
  bufferevent_disable(bev, EV_WRITE);
  bufferevent_write(bev, "abc", 3);
  bufferevent_trigger(bev, EV_WRITE, 0);  // 3 bytes over a low watermark of 0
  BOOST_TEST(seen.writes == 0);
  bufferevent_setwatermark(bev, EV_WRITE, 3, 0);
  bufferevent_trigger(bev, EV_WRITE, 0);
  BOOST_TEST(seen.writes == 1);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(trigger_both_calls_both_callbacks) {
  bufferevent* bev = make();
  bufferevent_trigger(bev, EV_READ | EV_WRITE, 0);
  BOOST_TEST(seen.reads == 1);
  BOOST_TEST(seen.writes == 1);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(defer_callbacks_option_calls_them_from_the_loop) {
  bufferevent* bev = make();
  bufferevent_trigger(bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
  BOOST_TEST(seen.reads == 0);
  event_base_loop(base, EVLOOP_NONBLOCK);
  BOOST_TEST(seen.reads == 1);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(a_bufferevent_with_deferred_callbacks_defers_triggered_ones) {
  bufferevent* bev = make(BEV_OPT_DEFER_CALLBACKS);
  bufferevent_trigger(bev, EV_WRITE, 0);
  bufferevent_trigger_event(bev, BEV_EVENT_EOF, 0);
  BOOST_TEST(seen.writes == 0);
  BOOST_TEST(seen.events == 0);
  event_base_loop(base, EVLOOP_NONBLOCK);
  BOOST_TEST(seen.writes == 1);
  BOOST_TEST(seen.events == 1);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(trigger_event_passes_what_to_the_event_callback) {
  bufferevent* bev = make();
  bufferevent_trigger_event(bev, BEV_EVENT_READING | BEV_EVENT_EOF, 0);
  BOOST_TEST(seen.events == 1);
  BOOST_TEST(seen.what == (BEV_EVENT_READING | BEV_EVENT_EOF));
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(a_triggered_callback_may_free_its_bufferevent) {
  bufferevent* bev = make();
  seen.free_in_callback = true;
  bufferevent_trigger(bev, EV_READ | EV_WRITE, 0);
  BOOST_TEST(seen.reads == 1);
  BOOST_TEST(seen.writes == 0);  // freed: its callbacks are gone
}

// libevent's regress bufferevent_trigger_defer: the deferred run takes the
// event bits after the read callback, so an event that callback defers is
// told in the same run, whole, CONNECTED bit and all.
BOOST_AUTO_TEST_CASE(an_event_deferred_by_a_deferred_read_callback_comes_in_the_same_run_whole) {
  bufferevent* bev = make(BEV_OPT_DEFER_CALLBACKS);
  bufferevent_setcb(
      bev,
      [](bufferevent* b, void*) {
        bufferevent_trigger_event(b, BEV_EVENT_CONNECTED | BEV_EVENT_EOF, 0);
      },
      nullptr, on_event, &seen);
  bufferevent_trigger(bev, EV_READ, 0);
  event_base_loop(base, EVLOOP_NONBLOCK);
  BOOST_TEST(seen.events == 1);
  BOOST_TEST(seen.what == (BEV_EVENT_CONNECTED | BEV_EVENT_EOF));
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(without_a_callback_nothing_is_deferred_for_later) {
  bufferevent* bev = make(BEV_OPT_DEFER_CALLBACKS);
  bufferevent_setcb(bev, nullptr, nullptr, on_event, &seen);
  bufferevent_trigger(bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS);  // no read callback
  bufferevent_setcb(bev, on_read, nullptr, on_event, &seen);
  bufferevent_trigger_event(bev, BEV_EVENT_EOF, 0);
  event_base_loop(base, EVLOOP_NONBLOCK);
  BOOST_TEST(seen.reads == 0);
  BOOST_TEST(seen.events == 1);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(refcount, fixture)

BOOST_AUTO_TEST_CASE(decref_after_incref_keeps_the_bufferevent_working) {
  bufferevent* bev = make();
  bufferevent_incref(bev);
  BOOST_TEST(bufferevent_decref(bev) == 0);
  bufferevent_trigger(bev, EV_READ, 0);
  BOOST_TEST(seen.reads == 1);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(the_decref_after_free_that_drops_the_last_reference_returns_1) {
  bufferevent* bev = make(BEV_OPT_CLOSE_ON_FREE);
  const int fd = sp.a.release();
  bufferevent_incref(bev);
  bufferevent_free(bev);
  BOOST_TEST(bufferevent_decref(bev) == 1);
  event_base_loop(base, EVLOOP_NONBLOCK);
  BOOST_TEST(!fd_open(fd));
}

BOOST_AUTO_TEST_CASE(decref_of_the_last_reference_without_free_frees_it) {
  bufferevent* bev = make(BEV_OPT_CLOSE_ON_FREE);
  const int fd = sp.a.release();
  BOOST_TEST(bufferevent_decref(bev) == 1);
  event_base_loop(base, EVLOOP_NONBLOCK);
  BOOST_TEST(!fd_open(fd));
}

BOOST_AUTO_TEST_SUITE_END()

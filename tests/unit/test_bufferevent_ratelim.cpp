// event2/bufferevent.h's rate limits (libevent's bufferevent_ratelim): the
// token bucket configuration, groups and their buckets, and bufferevents
// limited on their own or through a group, with libevent 2.1.12's
// arithmetic.
//
// Counted, not timed: most cases use a tick of a million seconds, which
// never ends during a case, so every bucket holds exactly what the
// arithmetic says; the refill cases only wait for some ticks to pass and
// look at what can be known whatever their number. The file builds against
// real libevent too (-levent -levent_pthreads), which is how every
// expectation was checked; cases where evasio differs on purpose are under
// #ifdef EVASIO_VERSION.
#define BOOST_TEST_MODULE bufferevent_ratelim
#include <boost/test/unit_test.hpp>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "fixtures.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

using namespace nettest;

namespace {

const timeval forever_tick = {1000000, 0};  // never ends during a case

struct Cfg {
  ev_token_bucket_cfg* c;
  Cfg(size_t rr, size_t rb, size_t wr, size_t wb, const timeval* tick = &forever_tick)
      : c(ev_token_bucket_cfg_new(rr, rb, wr, wb, tick)) {
    BOOST_TEST_REQUIRE(c != nullptr);
  }
  ~Cfg() { ev_token_bucket_cfg_free(c); }
  Cfg(const Cfg&) = delete;
  Cfg& operator=(const Cfg&) = delete;
  operator ev_token_bucket_cfg*() const { return c; }
};

struct Group {
  bufferevent_rate_limit_group* g;
  Group(event_base* base, const ev_token_bucket_cfg* cfg)
      : g(bufferevent_rate_limit_group_new(base, cfg)) {
    BOOST_TEST_REQUIRE(g != nullptr);
  }
  ~Group() { bufferevent_rate_limit_group_free(g); }
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;
  operator bufferevent_rate_limit_group*() const { return g; }
};

bool cfg_refused(size_t rr, size_t rb, size_t wr, size_t wb, const timeval* tick = nullptr) {
  ev_token_bucket_cfg* c = ev_token_bucket_cfg_new(rr, rb, wr, wb, tick);
  ev_token_bucket_cfg_free(c);
  return c == nullptr;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(token_bucket_cfg, CaseAlarm<10>)

BOOST_AUTO_TEST_CASE(cfg_new_takes_rates_up_to_their_bursts) {
  BOOST_TEST(!cfg_refused(1, 1, 1, 1));
  BOOST_TEST(!cfg_refused(100, 1000, 50, 50));
}

BOOST_AUTO_TEST_CASE(cfg_new_refuses_a_rate_of_zero) {
  BOOST_TEST(cfg_refused(0, 100, 10, 100));
  BOOST_TEST(cfg_refused(10, 100, 0, 100));
}

BOOST_AUTO_TEST_CASE(cfg_new_refuses_a_rate_above_its_burst) {
  BOOST_TEST(cfg_refused(101, 100, 10, 100));
  BOOST_TEST(cfg_refused(10, 100, 101, 100));
}

BOOST_AUTO_TEST_CASE(cfg_new_refuses_values_above_EV_RATE_LIMIT_MAX) {
  const size_t most = static_cast<size_t>(EV_RATE_LIMIT_MAX);
  BOOST_TEST(!cfg_refused(most, most, most, most));
  BOOST_TEST(cfg_refused(1, most + 1, 1, 1));
  BOOST_TEST(cfg_refused(1, 1, 1, most + 1));
  BOOST_TEST(cfg_refused(SIZE_MAX, SIZE_MAX, 1, 1));
}

BOOST_AUTO_TEST_CASE(cfg_free_of_NULL_does_nothing) { ev_token_bucket_cfg_free(nullptr); }

#ifdef EVASIO_VERSION
// libevent takes such a tick and then divides by its zero milliseconds (or
// counts a negative one as a tick of years) once a limit uses it.
BOOST_AUTO_TEST_CASE(cfg_new_refuses_a_tick_under_a_millisecond_or_negative) {
  const timeval sub_ms = {0, 999};
  const timeval negative = {-1, 0};
  errno = 0;
  BOOST_TEST(cfg_refused(1, 1, 1, 1, &sub_ms));
  BOOST_TEST(errno == EINVAL);
  BOOST_TEST(cfg_refused(1, 1, 1, 1, &negative));
  const timeval one_ms = {0, 1000};
  BOOST_TEST(!cfg_refused(1, 1, 1, 1, &one_ms));
}
#endif

BOOST_AUTO_TEST_SUITE_END()

// ---- groups ---------------------------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(groups, AlarmedBase<10>)

BOOST_AUTO_TEST_CASE(a_new_group_holds_one_tick_of_its_rates_not_its_bursts) {
  Cfg cfg(100, 1000, 30, 300);
  Group g(base, cfg);
  BOOST_TEST(bufferevent_rate_limit_group_get_read_limit(g) == 100);
  BOOST_TEST(bufferevent_rate_limit_group_get_write_limit(g) == 30);
}

BOOST_AUTO_TEST_CASE(a_new_group_copies_its_cfg) {
  ev_token_bucket_cfg* cfg = ev_token_bucket_cfg_new(100, 1000, 30, 300, &forever_tick);
  Group g(base, cfg);
  ev_token_bucket_cfg_free(cfg);
  BOOST_TEST(bufferevent_rate_limit_group_decrement_read(g, 10) == 0);
  BOOST_TEST(bufferevent_rate_limit_group_get_read_limit(g) == 90);
}

BOOST_AUTO_TEST_CASE(group_decrements_go_below_zero_and_back_above_the_burst) {
  Cfg cfg(100, 1000, 30, 300);
  Group g(base, cfg);
  BOOST_TEST(bufferevent_rate_limit_group_decrement_read(g, 250) == 0);
  BOOST_TEST(bufferevent_rate_limit_group_get_read_limit(g) == -150);
  BOOST_TEST(bufferevent_rate_limit_group_decrement_read(g, -5000) == 0);
  BOOST_TEST(bufferevent_rate_limit_group_get_read_limit(g) == 4850);
  BOOST_TEST(bufferevent_rate_limit_group_decrement_write(g, 31) == 0);
  BOOST_TEST(bufferevent_rate_limit_group_get_write_limit(g) == -1);
}

BOOST_AUTO_TEST_CASE(group_set_cfg_clips_the_buckets_down_to_the_new_bursts_only) {
  Cfg cfg(100, 1000, 30, 300);
  Cfg tight(10, 20, 5, 40);
  Group g(base, cfg);
  BOOST_TEST(bufferevent_rate_limit_group_set_cfg(g, tight) == 0);
  BOOST_TEST(bufferevent_rate_limit_group_get_read_limit(g) == 20);
  BOOST_TEST(bufferevent_rate_limit_group_get_write_limit(g) == 30);
  BOOST_TEST(bufferevent_rate_limit_group_set_cfg(g, cfg) == 0);  // no refill
  BOOST_TEST(bufferevent_rate_limit_group_get_read_limit(g) == 20);
}

BOOST_AUTO_TEST_CASE(group_set_cfg_refuses_NULL) {
  Cfg cfg(100, 1000, 30, 300);
  Group g(base, cfg);
  BOOST_TEST(bufferevent_rate_limit_group_set_cfg(g, nullptr) == -1);
  BOOST_TEST(bufferevent_rate_limit_group_set_cfg(nullptr, cfg) == -1);
  BOOST_TEST(bufferevent_rate_limit_group_get_read_limit(g) == 100);
}

BOOST_AUTO_TEST_CASE(group_min_share_takes_any_size_up_to_EV_SSIZE_MAX) {
  Cfg cfg(100, 1000, 30, 300);
  Group g(base, cfg);
  BOOST_TEST(bufferevent_rate_limit_group_set_min_share(g, 0) == 0);
  BOOST_TEST(bufferevent_rate_limit_group_set_min_share(g, 1000000) == 0);
  BOOST_TEST(bufferevent_rate_limit_group_set_min_share(g, static_cast<size_t>(EV_SSIZE_MAX)) == 0);
  BOOST_TEST(bufferevent_rate_limit_group_set_min_share(g, static_cast<size_t>(EV_SSIZE_MAX) + 1) ==
             -1);
}

BOOST_AUTO_TEST_CASE(group_totals_start_at_zero_and_ignore_the_programs_decrements) {
  Cfg cfg(100, 1000, 30, 300);
  Group g(base, cfg);
  ev_uint64_t rd = 7, wr = 7;
  bufferevent_rate_limit_group_decrement_read(g, 40);
  bufferevent_rate_limit_group_decrement_write(g, 40);
  bufferevent_rate_limit_group_get_totals(g, &rd, &wr);
  BOOST_TEST(rd == 0u);
  BOOST_TEST(wr == 0u);
  bufferevent_rate_limit_group_get_totals(g, nullptr, nullptr);  // either may be NULL
}

// Its refill timer is an added event for as long as it exists: the loop
// does not run out of events.
BOOST_AUTO_TEST_CASE(a_group_keeps_its_base_loop_from_running_out_of_events) {
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 1);
  Cfg cfg(100, 1000, 30, 300);
  {
    Group g(base, cfg);
    BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 0);
  }
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 1);
}

// After one tick or more: a rate per tick, up to the burst.
BOOST_AUTO_TEST_CASE(a_group_refills_every_tick_up_to_its_burst) {
  const timeval tick = ms_tv(20);
  Cfg cfg(100, 150, 100, 100, &tick);
  Group g(base, cfg);
  bufferevent_rate_limit_group_decrement_read(g, 100);
  bufferevent_rate_limit_group_decrement_write(g, 1000);
  const timeval wait = ms_tv(300);  // 15 ticks or so: more than 2 whatever the load
  event_base_loopexit(base, &wait);
  event_base_dispatch(base);
  BOOST_TEST(bufferevent_rate_limit_group_get_read_limit(g) == 150);
  const ev_ssize_t w = bufferevent_rate_limit_group_get_write_limit(g);
  BOOST_TEST(w > -900);
  BOOST_TEST(w <= 100);
  BOOST_TEST((w + 1000) % 100 == 0);  // whole ticks' rates, or the burst
}

BOOST_AUTO_TEST_CASE(group_reset_totals_sets_them_to_zero) {
  Cfg cfg(100, 1000, 30, 300);
  Group g(base, cfg);
  bufferevent_rate_limit_group_reset_totals(g);
  ev_uint64_t rd = 7, wr = 7;
  bufferevent_rate_limit_group_get_totals(g, &rd, &wr);
  BOOST_TEST(rd == 0u);
  BOOST_TEST(wr == 0u);
}

#ifdef EVASIO_VERSION
// libevent dereferences these.
BOOST_AUTO_TEST_CASE(group_calls_with_NULL_fail_with_EINVAL) {
  Cfg cfg(100, 1000, 30, 300);
  errno = 0;
  BOOST_TEST(bufferevent_rate_limit_group_new(base, nullptr) == nullptr);
  BOOST_TEST(errno == EINVAL);
  BOOST_TEST(bufferevent_rate_limit_group_new(nullptr, cfg) == nullptr);
  BOOST_TEST(bufferevent_rate_limit_group_set_min_share(nullptr, 1) == -1);
  BOOST_TEST(bufferevent_rate_limit_group_decrement_read(nullptr, 1) == -1);
  BOOST_TEST(bufferevent_rate_limit_group_decrement_write(nullptr, 1) == -1);
  BOOST_TEST(bufferevent_rate_limit_group_get_read_limit(nullptr) == -1);
  BOOST_TEST(bufferevent_rate_limit_group_get_write_limit(nullptr) == -1);
  bufferevent_rate_limit_group_get_totals(nullptr, nullptr, nullptr);
  bufferevent_rate_limit_group_reset_totals(nullptr);
  bufferevent_rate_limit_group_free(nullptr);
}

// The base's end takes the group's timer; the group is still freed after.
BOOST_AUTO_TEST_CASE(a_group_may_outlive_its_base) {
  Cfg cfg(100, 1000, 30, 300);
  event_base* other = event_base_new();
  bufferevent_rate_limit_group* g = bufferevent_rate_limit_group_new(other, cfg);
  BOOST_TEST_REQUIRE(g != nullptr);
  event_base_free(other);
  BOOST_TEST(bufferevent_rate_limit_group_decrement_read(g, 1) == 0);
  bufferevent_rate_limit_group_free(g);
}
#endif

BOOST_AUTO_TEST_SUITE_END()

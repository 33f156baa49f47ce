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

// Runs base's loop for ms milliseconds.
void run_for(event_base* base, long ms) {
  const timeval tv = ms_tv(ms);
  event_base_loopexit(base, &tv);
  event_base_dispatch(base);
}

// A socket bufferevent on a socketpair whose peer has `incoming` bytes
// written to it and whose output holds `outgoing` bytes, not enabled yet.
struct Limited {
  socket_pair sp{true};
  bufferevent* bev;
  Limited(event_base* base, size_t incoming = 0, size_t outgoing = 0)
      : bev(bufferevent_socket_new(base, sp.a.get(), 0)) {
    BOOST_TEST_REQUIRE(bev != nullptr);
    const std::string in(incoming, 'i'), out(outgoing, 'o');
    if (incoming)
      BOOST_TEST_REQUIRE(write_all(sp.b.get(), in.data(), in.size()));
    if (outgoing)
      BOOST_TEST_REQUIRE(bufferevent_write(bev, out.data(), out.size()) == 0);
  }
  ~Limited() {
    if (bev) {
      bufferevent_remove_from_rate_limit_group(bev);  // libevent's leaves later
      bufferevent_free(bev);
    }
  }
  Limited(const Limited&) = delete;
  Limited& operator=(const Limited&) = delete;
  size_t input() const { return evbuffer_get_length(bufferevent_get_input(bev)); }
  // What the peer has received so far.
  size_t peer_got() {
    char buf[4096];
    size_t n = 0;
    ssize_t r;
    while ((r = ::read(sp.b.get(), buf, sizeof buf)) > 0)
      n += static_cast<size_t>(r);
    return n;
  }
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

// ---- a bufferevent's own limit ---------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(own_limits, AlarmedBase<20>)

BOOST_AUTO_TEST_CASE(a_bufferevent_without_a_limit_has_EV_SSIZE_MAX_and_no_cfg) {
  Limited l(base);
  BOOST_TEST(bufferevent_get_read_limit(l.bev) == EV_SSIZE_MAX);
  BOOST_TEST(bufferevent_get_write_limit(l.bev) == EV_SSIZE_MAX);
  BOOST_TEST(bufferevent_get_token_bucket_cfg(l.bev) == nullptr);
  BOOST_TEST(bufferevent_set_rate_limit(l.bev, nullptr) == 0);  // nothing to remove
}

BOOST_AUTO_TEST_CASE(set_rate_limit_keeps_the_programs_cfg) {
  Cfg cfg(100, 1000, 50, 500);
  Limited l(base);
  BOOST_TEST(bufferevent_set_rate_limit(l.bev, cfg) == 0);
  BOOST_TEST(bufferevent_get_token_bucket_cfg(l.bev) == cfg.c);
  BOOST_TEST(bufferevent_set_rate_limit(l.bev, cfg) == 0);  // the same again: nothing changes
  BOOST_TEST(bufferevent_get_token_bucket_cfg(l.bev) == cfg.c);
}

BOOST_AUTO_TEST_CASE(a_new_limit_starts_with_one_tick_of_its_rates) {
  Cfg cfg(100, 1000, 50, 500);
  Limited l(base);
  bufferevent_set_rate_limit(l.bev, cfg);
  BOOST_TEST(bufferevent_get_read_limit(l.bev) == 100);
  BOOST_TEST(bufferevent_get_write_limit(l.bev) == 50);
}

BOOST_AUTO_TEST_CASE(with_a_cfg_the_most_to_read_or_write_is_the_bucket) {
  Cfg cfg(100000, 100000, 50, 500);
  Limited l(base);
  bufferevent_set_rate_limit(l.bev, cfg);
  BOOST_TEST(bufferevent_get_max_to_read(l.bev) == 100000);
  BOOST_TEST(bufferevent_get_max_to_write(l.bev) == 50);
  bufferevent_decrement_write_limit(l.bev, 80);
  BOOST_TEST(bufferevent_get_max_to_write(l.bev) == 0);  // never negative
}

BOOST_AUTO_TEST_CASE(decrements_show_in_the_getters_below_zero_and_above_the_burst) {
  Cfg cfg(100, 1000, 50, 500);
  Limited l(base);
  bufferevent_set_rate_limit(l.bev, cfg);
  BOOST_TEST(bufferevent_decrement_read_limit(l.bev, 30) == 0);
  BOOST_TEST(bufferevent_get_read_limit(l.bev) == 70);
  BOOST_TEST(bufferevent_decrement_read_limit(l.bev, 100) == 0);
  BOOST_TEST(bufferevent_get_read_limit(l.bev) == -30);
  BOOST_TEST(bufferevent_decrement_write_limit(l.bev, -2000) == 0);
  BOOST_TEST(bufferevent_get_write_limit(l.bev) == 2050);
}

BOOST_AUTO_TEST_CASE(a_new_cfg_on_a_limited_bufferevent_only_clips_its_bucket) {
  Cfg cfg(100, 1000, 50, 500);
  Cfg tight(10, 40, 10, 40);
  Limited l(base);
  bufferevent_set_rate_limit(l.bev, cfg);
  bufferevent_decrement_write_limit(l.bev, 20);
  BOOST_TEST(bufferevent_set_rate_limit(l.bev, tight) == 0);
  BOOST_TEST(bufferevent_get_read_limit(l.bev) == 40);
  BOOST_TEST(bufferevent_get_write_limit(l.bev) == 30);
}

BOOST_AUTO_TEST_CASE(the_first_read_takes_exactly_the_read_rate) {
  Cfg cfg(100, 1000, 50, 500);
  Limited l(base, 1000);
  bufferevent_set_rate_limit(l.bev, cfg);
  bufferevent_enable(l.bev, EV_READ);
  run_for(base, 100);
  BOOST_TEST(l.input() == 100u);
  BOOST_TEST(bufferevent_get_read_limit(l.bev) == 0);
  BOOST_TEST(bufferevent_get_max_to_read(l.bev) == 0);
}

BOOST_AUTO_TEST_CASE(the_first_write_sends_exactly_the_write_rate) {
  Cfg cfg(100, 1000, 50, 500);
  Limited l(base, 0, 1000);
  bufferevent_set_rate_limit(l.bev, cfg);
  bufferevent_enable(l.bev, EV_WRITE);
  run_for(base, 100);
  BOOST_TEST(l.peer_got() == 50u);
  BOOST_TEST(evbuffer_get_length(bufferevent_get_output(l.bev)) == 950u);
  BOOST_TEST(bufferevent_get_write_limit(l.bev) == 0);
}

BOOST_AUTO_TEST_CASE(a_decrement_to_zero_stops_reading_before_any_byte) {
  Cfg cfg(100, 1000, 50, 500);
  Limited l(base, 1000);
  bufferevent_set_rate_limit(l.bev, cfg);
  bufferevent_decrement_read_limit(l.bev, 100);
  bufferevent_enable(l.bev, EV_READ);
  run_for(base, 100);
  BOOST_TEST(l.input() == 0u);
}

BOOST_AUTO_TEST_CASE(a_negative_decrement_on_a_spent_bucket_resumes_reading) {
  Cfg cfg(100, 1000, 50, 500);
  Limited l(base, 1000);
  bufferevent_set_rate_limit(l.bev, cfg);
  bufferevent_enable(l.bev, EV_READ);
  run_for(base, 100);
  BOOST_TEST_REQUIRE(l.input() == 100u);
  BOOST_TEST(bufferevent_decrement_read_limit(l.bev, -250) == 0);
  run_for(base, 100);
  BOOST_TEST(l.input() == 350u);
}

BOOST_AUTO_TEST_CASE(removing_the_limit_lets_it_read_what_is_left) {
  Cfg cfg(100, 1000, 50, 500);
  Limited l(base, 1000, 1000);
  bufferevent_set_rate_limit(l.bev, cfg);
  bufferevent_enable(l.bev, EV_READ | EV_WRITE);
  run_for(base, 100);
  BOOST_TEST(bufferevent_set_rate_limit(l.bev, nullptr) == 0);
  BOOST_TEST(bufferevent_get_token_bucket_cfg(l.bev) == nullptr);
  BOOST_TEST(bufferevent_get_read_limit(l.bev) == EV_SSIZE_MAX);
  run_for(base, 100);
  BOOST_TEST(l.input() == 1000u);
  BOOST_TEST(l.peer_got() == 1000u);
}

// A tick short enough to pass: each refill brings the bucket back to its
// burst of one tick's rate, so every read is one rate's worth.
BOOST_AUTO_TEST_CASE(a_spent_bucket_refills_every_tick_and_reading_resumes) {
  const timeval tick = ms_tv(20);
  Cfg cfg(100, 100, 100, 100, &tick);
  Limited l(base, 1000);
  bufferevent_set_rate_limit(l.bev, cfg);
  bufferevent_enable(l.bev, EV_READ);
  run_for(base, 300);
  BOOST_TEST(l.input() > 100u);
  BOOST_TEST(l.input() % 100 == 0u);
}

// The refill timer of a spent bucket is an added event.
BOOST_AUTO_TEST_CASE(a_spent_bucket_keeps_the_loop_from_running_out_of_events) {
  Cfg cfg(100, 1000, 50, 500);
  Limited l(base);
  bufferevent_set_rate_limit(l.bev, cfg);
  bufferevent_disable(l.bev, EV_WRITE);
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 1);
  bufferevent_decrement_read_limit(l.bev, 100);
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 0);
  bufferevent_decrement_read_limit(l.bev, -1);
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 1);
}

#ifdef EVASIO_VERSION
// libevent dereferences a NULL bufferevent, and asserts on a decrement
// without a cfg.
BOOST_AUTO_TEST_CASE(bufferevent_limit_calls_with_NULL_or_without_a_cfg_fail) {
  Cfg cfg(100, 1000, 50, 500);
  errno = 0;
  BOOST_TEST(bufferevent_set_rate_limit(nullptr, cfg) == -1);
  BOOST_TEST(errno == EINVAL);
  BOOST_TEST(bufferevent_add_to_rate_limit_group(nullptr, nullptr) == -1);
  BOOST_TEST(bufferevent_remove_from_rate_limit_group(nullptr) == -1);
  BOOST_TEST(bufferevent_get_read_limit(nullptr) == -1);
  BOOST_TEST(bufferevent_get_write_limit(nullptr) == -1);
  BOOST_TEST(bufferevent_get_max_to_read(nullptr) == -1);
  BOOST_TEST(bufferevent_get_max_to_write(nullptr) == -1);
  BOOST_TEST(bufferevent_get_token_bucket_cfg(nullptr) == nullptr);
  BOOST_TEST(bufferevent_decrement_read_limit(nullptr, 1) == -1);
  Limited l(base);
  errno = 0;
  BOOST_TEST(bufferevent_decrement_read_limit(l.bev, 1) == -1);
  BOOST_TEST(errno == EINVAL);
  BOOST_TEST(bufferevent_decrement_write_limit(l.bev, 1) == -1);
}

// The limit's timer belongs to the base: the base may go first.
BOOST_AUTO_TEST_CASE(a_spent_bufferevent_may_outlive_its_base) {
  Cfg cfg(100, 1000, 50, 500);
  event_base* other = event_base_new();
  bufferevent* bev = bufferevent_socket_new(other, -1, 0);
  BOOST_TEST_REQUIRE(bev != nullptr);
  bufferevent_set_rate_limit(bev, cfg);
  bufferevent_decrement_read_limit(bev, 1000);
  event_base_free(other);
  BOOST_TEST(bufferevent_get_read_limit(bev) == -900);
  bufferevent_free(bev);
}
#endif

BOOST_AUTO_TEST_SUITE_END()

// ---- members of a group ------------------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(group_members, AlarmedBase<20>)

BOOST_AUTO_TEST_CASE(a_member_may_move_an_equal_part_of_the_group_bucket) {
  Cfg cfg(400, 400, 800, 800);
  Group g(base, cfg);
  Limited a(base), b(base), c(base), d(base);
  for (bufferevent* bev : {a.bev, b.bev, c.bev, d.bev})
    BOOST_TEST(bufferevent_add_to_rate_limit_group(bev, g) == 0);
  BOOST_TEST(bufferevent_get_max_to_read(a.bev) == 100);
  BOOST_TEST(bufferevent_get_max_to_write(d.bev) == 200);
  BOOST_TEST(bufferevent_get_read_limit(a.bev) == EV_SSIZE_MAX);  // the group's is not its own
}

BOOST_AUTO_TEST_CASE(a_members_share_is_no_less_than_the_min_share) {
  Cfg cfg(400, 400, 800, 800);
  Group g(base, cfg);
  Limited a(base), b(base);
  bufferevent_add_to_rate_limit_group(a.bev, g);
  bufferevent_add_to_rate_limit_group(b.bev, g);
  bufferevent_rate_limit_group_decrement_read(g, 380);
  BOOST_TEST(bufferevent_get_max_to_read(a.bev) == 64);  // the default
  bufferevent_rate_limit_group_set_min_share(g, 5);
  BOOST_TEST(bufferevent_get_max_to_read(a.bev) == 10);
  bufferevent_rate_limit_group_set_min_share(g, 100000);  // capped at a tick's rate
  BOOST_TEST(bufferevent_get_max_to_read(a.bev) == 400);
}

BOOST_AUTO_TEST_CASE(the_smaller_of_the_own_bucket_and_the_share_goes) {
  Cfg own(30, 30, 1000, 1000);
  Cfg shared(400, 400, 400, 400);
  Group g(base, shared);
  Limited a(base);
  bufferevent_set_rate_limit(a.bev, own);
  bufferevent_add_to_rate_limit_group(a.bev, g);
  BOOST_TEST(bufferevent_get_max_to_read(a.bev) == 30);
  BOOST_TEST(bufferevent_get_max_to_write(a.bev) == 400);
}

BOOST_AUTO_TEST_CASE(the_group_totals_count_its_members_transfers) {
  Cfg cfg(1000, 1000, 1000, 1000);
  Group g(base, cfg);
  Limited a(base, 300, 200);
  bufferevent_add_to_rate_limit_group(a.bev, g);
  bufferevent_enable(a.bev, EV_READ | EV_WRITE);
  run_for(base, 100);
  ev_uint64_t rd = 0, wr = 0;
  bufferevent_rate_limit_group_get_totals(g, &rd, &wr);
  BOOST_TEST(rd == 300u);
  BOOST_TEST(wr == 200u);
  BOOST_TEST(bufferevent_rate_limit_group_get_read_limit(g) == 700);
}

// Shares follow from what is left (half of it, but no less than the min
// share of 64): 100 left -> 64 read, 36 left -> 64 read, -28 left: shut. The
// same sequence whichever member reads first.
BOOST_AUTO_TEST_CASE(a_spent_group_stops_all_of_its_members) {
  Cfg cfg(100, 100, 100, 100);
  Group g(base, cfg);
  Limited a(base, 1000), b(base, 1000);
  bufferevent_add_to_rate_limit_group(a.bev, g);
  bufferevent_add_to_rate_limit_group(b.bev, g);
  bufferevent_enable(a.bev, EV_READ);
  bufferevent_enable(b.bev, EV_READ);
  run_for(base, 100);
  BOOST_TEST(a.input() + b.input() == 128u);
  BOOST_TEST(bufferevent_rate_limit_group_get_read_limit(g) == -28);
  BOOST_TEST(bufferevent_get_max_to_read(a.bev) == 0);
}

BOOST_AUTO_TEST_CASE(leaving_a_spent_group_resumes_reading) {
  Cfg cfg(100, 100, 100, 100);
  Group g(base, cfg);
  Limited a(base, 1000), b(base, 1000);
  bufferevent_add_to_rate_limit_group(a.bev, g);
  bufferevent_add_to_rate_limit_group(b.bev, g);
  bufferevent_enable(a.bev, EV_READ);
  bufferevent_enable(b.bev, EV_READ);
  run_for(base, 100);
  BOOST_TEST(bufferevent_remove_from_rate_limit_group(a.bev) == 0);
  run_for(base, 100);
  BOOST_TEST(a.input() == 1000u);
  BOOST_TEST(b.input() < 1000u);
}

#ifdef EVASIO_VERSION
// As libevent's header says; its code dereferences the NULL group.
BOOST_AUTO_TEST_CASE(adding_to_a_NULL_group_leaves_the_group) {
  Cfg cfg(100, 100, 100, 100);
  Group g(base, cfg);
  Limited a(base, 1000);
  bufferevent_add_to_rate_limit_group(a.bev, g);
  bufferevent_rate_limit_group_decrement_read(g, 100);
  bufferevent_enable(a.bev, EV_READ);
  BOOST_TEST(bufferevent_add_to_rate_limit_group(a.bev, nullptr) == 0);
  run_for(base, 100);
  BOOST_TEST(a.input() == 1000u);
}
#endif

BOOST_AUTO_TEST_CASE(joining_a_spent_group_stops_reading) {
  Cfg cfg(100, 100, 100, 100);
  Group g(base, cfg);
  bufferevent_rate_limit_group_decrement_read(g, 100);
  Limited a(base, 1000);
  bufferevent_add_to_rate_limit_group(a.bev, g);
  bufferevent_enable(a.bev, EV_READ);
  run_for(base, 100);
  BOOST_TEST(a.input() == 0u);
  bufferevent_rate_limit_group_decrement_read(g, -100);  // back above zero: resumes
  run_for(base, 100);
  BOOST_TEST(a.input() == 100u);
}

BOOST_AUTO_TEST_CASE(joining_another_group_leaves_the_first) {
  Cfg cfg(400, 400, 400, 400);
  Group g1(base, cfg), g2(base, cfg);
  Limited a(base), b(base);
  bufferevent_add_to_rate_limit_group(a.bev, g1);
  bufferevent_add_to_rate_limit_group(b.bev, g1);
  BOOST_TEST(bufferevent_get_max_to_read(b.bev) == 200);
  BOOST_TEST(bufferevent_add_to_rate_limit_group(a.bev, g2) == 0);
  BOOST_TEST(bufferevent_get_max_to_read(b.bev) == 400);
  BOOST_TEST(bufferevent_get_max_to_read(a.bev) == 400);
}

// libevent lets a freed bufferevent go once its loop has finalized it.
BOOST_AUTO_TEST_CASE(a_freed_member_leaves_its_group) {
  Cfg cfg(400, 400, 400, 400);
  Group g(base, cfg);
  Limited a(base);
  bufferevent* b = bufferevent_socket_new(base, -1, 0);
  bufferevent_add_to_rate_limit_group(a.bev, g);
  bufferevent_add_to_rate_limit_group(b, g);
  BOOST_TEST(bufferevent_get_max_to_read(a.bev) == 200);
  bufferevent_free(b);
  run_for(base, 10);
  BOOST_TEST(bufferevent_get_max_to_read(a.bev) == 400);
}

// A tick short enough to pass: the group refills and its members go on,
// a min share at least per tick.
BOOST_AUTO_TEST_CASE(a_spent_group_resumes_its_members_at_the_next_tick) {
  const timeval tick = ms_tv(20);
  Cfg cfg(100, 100, 100, 100, &tick);
  Group g(base, cfg);
  Limited a(base, 5000), b(base, 5000);
  bufferevent_add_to_rate_limit_group(a.bev, g);
  bufferevent_add_to_rate_limit_group(b.bev, g);
  bufferevent_enable(a.bev, EV_READ);
  bufferevent_enable(b.bev, EV_READ);
  run_for(base, 300);
  ev_uint64_t rd = 0;
  bufferevent_rate_limit_group_get_totals(g, &rd, nullptr);
  BOOST_TEST(rd > 128u);
  BOOST_TEST(rd == a.input() + b.input());
}

BOOST_AUTO_TEST_SUITE_END()

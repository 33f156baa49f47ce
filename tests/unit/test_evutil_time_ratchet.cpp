// EV_MONOT_FALLBACK's ratchet: a monotonic timer on the wall clock never
// goes backwards; when the clock steps back, later readings carry the step.
//
// The wall clock is scripted: this executable defines gettimeofday(), which
// the library's calls bind to (the executable comes first in the dynamic
// lookup), so the clock can be moved backwards without privileges. It is an
// executable of its own so that no other case sees the fake clock. Builds
// against real libevent too (its fallback timer calls gettimeofday()).
#define BOOST_TEST_MODULE evutil_time_ratchet
#include <boost/test/unit_test.hpp>

#include <event2/util.h>

#include <sys/time.h>

#include <atomic>
#include <ctime>
#include <vector>

namespace {

std::atomic<bool> scripted{false};
std::vector<timeval> script;
size_t next_reading = 0;

timeval tv(long s, long us) {
  timeval t;
  t.tv_sec = s;
  t.tv_usec = us;
  return t;
}

} // namespace

// The real clock, unless a case is playing its script.
extern "C" int gettimeofday(struct timeval* __restrict out, void* __restrict) noexcept {
  if (scripted.load() && next_reading < script.size()) {
    *out = script[next_reading++];
    return 0;
  }
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  out->tv_sec = ts.tv_sec;
  out->tv_usec = static_cast<suseconds_t>(ts.tv_nsec / 1000);
  return 0;
}

namespace {

// The fallback timer's readings while the wall clock reads `clock`.
std::vector<long long> readings_over(const std::vector<timeval>& clock) {
  evutil_monotonic_timer* t = evutil_monotonic_timer_new();
  BOOST_REQUIRE(t);
  BOOST_REQUIRE(evutil_configure_monotonic_time(t, EV_MONOT_FALLBACK) == 0);
  script = clock;
  next_reading = 0;
  scripted = true;
  std::vector<long long> got;
  for (size_t i = 0; i < clock.size(); ++i) {
    timeval r;
    BOOST_REQUIRE(evutil_gettime_monotonic(t, &r) == 0);
    got.push_back(r.tv_sec * 1000000LL + r.tv_usec);
  }
  scripted = false;
  evutil_monotonic_timer_free(t);
  return got;
}

} // namespace

BOOST_AUTO_TEST_CASE(fallback_follows_a_clock_that_moves_forward) {
  const std::vector<long long> got =
      readings_over({tv(10, 0), tv(10, 500000), tv(11, 999999), tv(12, 0)});
  const std::vector<long long> want = {10000000, 10500000, 11999999, 12000000};
  BOOST_TEST(got == want, boost::test_tools::per_element());
}

// 10 s, 11 s, then the clock steps back 2 s: the reading holds at 11 s and
// later readings are 2 s ahead of the clock.
BOOST_AUTO_TEST_CASE(fallback_holds_when_the_clock_steps_back_and_carries_the_step) {
  const std::vector<long long> got =
      readings_over({tv(10, 0), tv(11, 0), tv(9, 0), tv(9, 500000), tv(12, 0)});
  const std::vector<long long> want = {10000000, 11000000, 11000000, 11500000, 14000000};
  BOOST_TEST(got == want, boost::test_tools::per_element());
}

// Steps back add up: each one is carried on top of the last.
BOOST_AUTO_TEST_CASE(fallback_carries_successive_steps_back) {
  const std::vector<long long> got =
      readings_over({tv(100, 0), tv(99, 0), tv(98, 999999), tv(101, 0)});
  const std::vector<long long> want = {100000000, 100000000, 100000000, 102000001};
  BOOST_TEST(got == want, boost::test_tools::per_element());
}

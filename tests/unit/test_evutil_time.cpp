// event2/util.h's monotonic timers and evutil_date_rfc1123, with libevent
// 2.1.12's semantics (regress_util.c's monotonic_res/_prc and date_rfc1123
// cases, ported, and more).
//
// The file builds against real libevent too. Cases under EVASIO_VERSION are
// what libevent leaves undefined (NULL pointers, out-of-range struct tm
// fields crash it or read past its tables).
#define BOOST_TEST_MODULE evutil_time
#include <boost/test/unit_test.hpp>

#include <event2/event.h>
#include <event2/util.h>

#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <thread>

namespace {

struct timer_deleter {
  void operator()(evutil_monotonic_timer* t) const { evutil_monotonic_timer_free(t); }
};
using timer_ptr = std::unique_ptr<evutil_monotonic_timer, timer_deleter>;

timer_ptr configured(int flags) {
  timer_ptr t(evutil_monotonic_timer_new());
  BOOST_REQUIRE(t);
  BOOST_REQUIRE(evutil_configure_monotonic_time(t.get(), flags) == 0);
  return t;
}

long long usec(const timeval& tv) { return tv.tv_sec * 1000000LL + tv.tv_usec; }

long long clock_usec(clockid_t clock) {
  timespec ts;
  BOOST_REQUIRE(::clock_gettime(clock, &ts) == 0);
  return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

long long wall_usec() {
  timeval tv;
  ::gettimeofday(&tv, nullptr);
  return usec(tv);
}

// The timer's reading in microseconds; -1 (before any reading) when the
// call fails or gives an unnormalised timeval.
long long read_usec(evutil_monotonic_timer* t) {
  timeval tv;
  if (evutil_gettime_monotonic(t, &tv) != 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000)
    return -1;
  return usec(tv);
}

// True when the timer's reading lies between two readings of clock.
bool reads_clock(evutil_monotonic_timer* t, long long (*now)()) {
  const long long before = now();
  const long long got = read_usec(t);
  const long long after = now();
  return before <= got && got <= after;
}

long long coarse_usec() { return clock_usec(CLOCK_MONOTONIC_COARSE); }
long long precise_usec() { return clock_usec(CLOCK_MONOTONIC); }

// regress_util's monotonic_prc: the average step between distinct
// successive readings.
long long average_step_usec(evutil_monotonic_timer* t) {
  long long first = read_usec(t), prev = first;
  for (int i = 0; i < 9; ++i) {
    long long cur;
    do
      cur = read_usec(t);
    while (cur == prev);
    if (cur < prev)
      return -1;  // went backwards or failed
    prev = cur;
  }
  return (prev - first) / 9;
}

std::string date_of(time_t t, size_t len = 64) {
  struct tm tm;
  BOOST_REQUIRE(::gmtime_r(&t, &tm));
  char out[64];
  std::memset(out, '#', sizeof out);
  const int r = evutil_date_rfc1123(out, len, &tm);
  BOOST_TEST(r == 29);
  return out;
}

} // namespace

// ---- which clock -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(no_flags_read_the_coarse_monotonic_clock) {
  timer_ptr t = configured(0);
  BOOST_TEST(reads_clock(t.get(), coarse_usec));
}

BOOST_AUTO_TEST_CASE(precise_reads_the_monotonic_clock) {
  timer_ptr t = configured(EV_MONOT_PRECISE);
  BOOST_TEST(reads_clock(t.get(), precise_usec));
}

BOOST_AUTO_TEST_CASE(fallback_reads_the_wall_clock) {
  timer_ptr t = configured(EV_MONOT_FALLBACK);
  BOOST_TEST(reads_clock(t.get(), wall_usec));
}

BOOST_AUTO_TEST_CASE(fallback_wins_over_precise) {
  timer_ptr t = configured(EV_MONOT_PRECISE | EV_MONOT_FALLBACK);
  BOOST_TEST(reads_clock(t.get(), wall_usec));
}

BOOST_AUTO_TEST_CASE(unknown_flag_bits_are_ignored) {
  timer_ptr precise = configured(EV_MONOT_PRECISE | 0x100);
  BOOST_TEST(reads_clock(precise.get(), precise_usec));
  timer_ptr coarse = configured(0x7ffffff0 & ~(EV_MONOT_PRECISE | EV_MONOT_FALLBACK));
  BOOST_TEST(reads_clock(coarse.get(), coarse_usec));
}

// As libevent's zeroed timer: clock id 0, CLOCK_REALTIME.
BOOST_AUTO_TEST_CASE(an_unconfigured_timer_reads_the_wall_clock) {
  timer_ptr t(evutil_monotonic_timer_new());
  BOOST_REQUIRE(t);
  BOOST_TEST(reads_clock(t.get(), wall_usec));
}

BOOST_AUTO_TEST_CASE(a_timer_may_be_configured_again) {
  timer_ptr t = configured(EV_MONOT_FALLBACK);
  BOOST_REQUIRE(evutil_configure_monotonic_time(t.get(), EV_MONOT_PRECISE) == 0);
  BOOST_TEST(reads_clock(t.get(), precise_usec));
}

// ---- readings ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(readings_never_decrease) {
  for (int flags : {0, EV_MONOT_PRECISE, EV_MONOT_FALLBACK}) {
    timer_ptr t = configured(flags);
    long long prev = read_usec(t.get());
    int backwards = 0;
    for (int i = 0; i < 10000; ++i) {
      const long long cur = read_usec(t.get());
      backwards += cur < prev;
      prev = cur;
    }
    BOOST_TEST(prev > 0, "flags " << flags);
    BOOST_TEST(backwards == 0, "flags " << flags);
  }
}

BOOST_AUTO_TEST_CASE(precise_steps_are_below_half_a_millisecond) {
  timer_ptr t = configured(EV_MONOT_PRECISE);
  const long long step = average_step_usec(t.get());
  BOOST_TEST(step >= 0);
  BOOST_TEST(step < 500);
}

BOOST_AUTO_TEST_CASE(coarse_and_fallback_steps_are_below_25_milliseconds) {
  for (int flags : {0, EV_MONOT_FALLBACK}) {
    timer_ptr t = configured(flags);
    const long long step = average_step_usec(t.get());
    BOOST_TEST(step >= 0, "flags " << flags);
    BOOST_TEST(step < 25000, "flags " << flags);
  }
}

// regress_util's monotonic_res, precise: readings follow 1 ms sleeps.
BOOST_AUTO_TEST_CASE(precise_readings_follow_sleeps) {
  timer_ptr t = configured(EV_MONOT_PRECISE);
  const long long start = read_usec(t.get());
  BOOST_REQUIRE(start >= 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const long long elapsed = read_usec(t.get()) - start;
  BOOST_TEST(elapsed >= 20000);
  BOOST_TEST(elapsed < 2000000);
}

BOOST_AUTO_TEST_CASE(freeing_null_does_nothing) {
  evutil_monotonic_timer_free(nullptr);
  BOOST_TEST(true);
}

#ifdef EVASIO_VERSION
BOOST_AUTO_TEST_CASE(null_timer_or_result_is_einval) {
  timeval tv;
  errno = 0;
  BOOST_TEST(evutil_configure_monotonic_time(nullptr, 0) == -1);
  BOOST_TEST(errno == EINVAL);
  errno = 0;
  BOOST_TEST(evutil_gettime_monotonic(nullptr, &tv) == -1);
  BOOST_TEST(errno == EINVAL);
  timer_ptr t = configured(0);
  errno = 0;
  BOOST_TEST(evutil_gettime_monotonic(t.get(), nullptr) == -1);
  BOOST_TEST(errno == EINVAL);
}
#endif

// ---- evutil_date_rfc1123 ---------------------------------------------------------

BOOST_AUTO_TEST_CASE(date_formats_rfc1123_in_gmt) {
  BOOST_TEST(date_of(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
  BOOST_TEST(date_of(946684799) == "Fri, 31 Dec 1999 23:59:59 GMT");
  BOOST_TEST(date_of(946684800) == "Sat, 01 Jan 2000 00:00:00 GMT");
  BOOST_TEST(date_of(981072000) == "Fri, 02 Feb 2001 00:00:00 GMT");
  BOOST_TEST(date_of(1015113600) == "Sun, 03 Mar 2002 00:00:00 GMT");
  BOOST_TEST(date_of(1049414400) == "Fri, 04 Apr 2003 00:00:00 GMT");
  BOOST_TEST(date_of(1083715200) == "Wed, 05 May 2004 00:00:00 GMT");
  BOOST_TEST(date_of(1118016000) == "Mon, 06 Jun 2005 00:00:00 GMT");
  BOOST_TEST(date_of(1152230400) == "Fri, 07 Jul 2006 00:00:00 GMT");
  BOOST_TEST(date_of(1186531200) == "Wed, 08 Aug 2007 00:00:00 GMT");
  BOOST_TEST(date_of(1220918400) == "Tue, 09 Sep 2008 00:00:00 GMT");
  BOOST_TEST(date_of(1255132800) == "Sat, 10 Oct 2009 00:00:00 GMT");
  BOOST_TEST(date_of(1289433600) == "Thu, 11 Nov 2010 00:00:00 GMT");
  BOOST_TEST(date_of(1323648000) == "Mon, 12 Dec 2011 00:00:00 GMT");
  BOOST_TEST(date_of(1456704000) == "Mon, 29 Feb 2016 00:00:00 GMT");
  BOOST_TEST(date_of(1481866376) == "Fri, 16 Dec 2016 05:32:56 GMT");
}

BOOST_AUTO_TEST_CASE(date_handles_years_beyond_32_bit_time) {
  BOOST_TEST(date_of(4294967296LL) == "Sun, 07 Feb 2106 06:28:16 GMT");
  BOOST_TEST(date_of(253402300799LL) == "Fri, 31 Dec 9999 23:59:59 GMT");
}

BOOST_AUTO_TEST_CASE(date_is_cut_to_a_small_buffer_and_returns_the_full_length) {
  BOOST_TEST(date_of(0, 8) == "Thu, 01");
  BOOST_TEST(date_of(0, 29) == "Thu, 01 Jan 1970 00:00:00 GM");
}

BOOST_AUTO_TEST_CASE(date_with_no_room_writes_nothing_and_returns_zero) {
  struct tm tm;
  const time_t t = 0;
  ::gmtime_r(&t, &tm);
  char out[4] = "xyz";
  BOOST_TEST(evutil_date_rfc1123(out, 0, &tm) == 0);
  BOOST_TEST(std::string(out) == "xyz");
}

BOOST_AUTO_TEST_CASE(date_without_tm_is_now) {
  char out[64];
  const time_t before = std::time(nullptr);
  BOOST_REQUIRE(evutil_date_rfc1123(out, sizeof out, nullptr) == 29);
  const time_t after = std::time(nullptr);
  const std::string got = out;
  BOOST_TEST((got == date_of(before) || got == date_of(after)));
}

#ifdef EVASIO_VERSION
BOOST_AUTO_TEST_CASE(date_with_out_of_range_day_or_month_is_einval) {
  struct tm tm;
  const time_t t = 0;
  ::gmtime_r(&t, &tm);
  char out[64];
  for (int wday : {-1, 7}) {
    struct tm bad = tm;
    bad.tm_wday = wday;
    errno = 0;
    BOOST_TEST(evutil_date_rfc1123(out, sizeof out, &bad) == -1);
    BOOST_TEST(errno == EINVAL);
  }
  for (int mon : {-1, 12}) {
    struct tm bad = tm;
    bad.tm_mon = mon;
    errno = 0;
    BOOST_TEST(evutil_date_rfc1123(out, sizeof out, &bad) == -1);
    BOOST_TEST(errno == EINVAL);
  }
}

BOOST_AUTO_TEST_CASE(date_into_a_null_buffer_is_einval) {
  errno = 0;
  BOOST_TEST(evutil_date_rfc1123(nullptr, 30, nullptr) == -1);
  BOOST_TEST(errno == EINVAL);
}
#endif

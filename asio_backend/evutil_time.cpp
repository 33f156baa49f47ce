// Monotonic timers and RFC 1123 dates (event2/util.h).
//
// A timer is a clock id and, for EV_MONOT_FALLBACK, a ratchet that keeps the
// wall clock from going backwards: when a reading is earlier than the last
// one, the difference is added to every later reading.
#include "detail/c_boundary.hpp"

#include <event2/util.h>

#include <sys/time.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>

struct evutil_monotonic_timer {
  // 0 (CLOCK_REALTIME) until configured, as in libevent's zeroed timer.
  clockid_t clock;
  bool ratchet;  // EV_MONOT_FALLBACK: gettimeofday() made non-decreasing
  timeval adjust;
  timeval last;
};

namespace {

int read_ratcheted(evutil_monotonic_timer& t, timeval& tv) {
  if (::gettimeofday(&tv, nullptr) < 0)
    return -1;
  evutil_timeradd(&tv, &t.adjust, &tv);
  if (evutil_timercmp(&tv, &t.last, <)) {
    timeval back;
    evutil_timersub(&t.last, &tv, &back);
    evutil_timeradd(&t.adjust, &back, &t.adjust);
    tv = t.last;
  }
  t.last = tv;
  return 0;
}

int read_clock(clockid_t clock, timeval& tv) {
  timespec ts;
  if (::clock_gettime(clock, &ts) < 0)
    return -1;
  tv.tv_sec = ts.tv_sec;
  tv.tv_usec = static_cast<suseconds_t>(ts.tv_nsec / 1000);
  return 0;
}

// Takes clock for the timer if the kernel answers for it.
bool try_clock(evutil_monotonic_timer& t, clockid_t clock) {
  timespec ts;
  if (::clock_gettime(clock, &ts) != 0)
    return false;
  t.clock = clock;
  return true;
}

const char* const day_names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
const char* const month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

} // namespace

extern "C" {

struct evutil_monotonic_timer* evutil_monotonic_timer_new(void) {
  void* p = std::calloc(1, sizeof(evutil_monotonic_timer));
  if (!p)
    errno = ENOMEM;
  return static_cast<evutil_monotonic_timer*>(p);
}

void evutil_monotonic_timer_free(struct evutil_monotonic_timer* timer) { std::free(timer); }

int evutil_configure_monotonic_time(struct evutil_monotonic_timer* timer, int flags) {
  if (!timer)
    return evasio::detail::fail(-1, EINVAL);
  timer->ratchet = false;
  if (!(flags & EV_MONOT_FALLBACK)) {
    if (!(flags & EV_MONOT_PRECISE) && try_clock(*timer, CLOCK_MONOTONIC_COARSE))
      return 0;
    if (try_clock(*timer, CLOCK_MONOTONIC))
      return 0;
  }
  timer->ratchet = true;  // asked for, or no monotonic clock at all
  return 0;
}

int evutil_gettime_monotonic(struct evutil_monotonic_timer* timer, struct timeval* tp) {
  if (!timer || !tp)
    return evasio::detail::fail(-1, EINVAL);
  return timer->ratchet ? read_ratcheted(*timer, *tp) : read_clock(timer->clock, *tp);
}

int evutil_date_rfc1123(char* date, const size_t datelen, const struct tm* tm) {
  struct tm now;
  if (!tm) {
    const time_t t = std::time(nullptr);
    if (!::gmtime_r(&t, &now))
      return -1;
    tm = &now;
  }
  if (tm->tm_wday < 0 || tm->tm_wday > 6 || tm->tm_mon < 0 || tm->tm_mon > 11)
    return evasio::detail::fail(-1, EINVAL);
  // The year in long: 1900 + a huge tm_year must not overflow.
  return evutil_snprintf(date, datelen, "%s, %02d %s %4ld %02d:%02d:%02d GMT",
                         day_names[tm->tm_wday], tm->tm_mday, month_names[tm->tm_mon],
                         1900L + tm->tm_year, tm->tm_hour, tm->tm_min, tm->tm_sec);
}

} // extern "C"

// A libevent timeout (struct timeval, relative) as a steady-clock duration,
// the one conversion every timeout of evasio goes through: event_add,
// event_base_once, event_base_loopexit, bufferevent_set_timeouts.
//
// Saturating, with no signed overflow for any input: the timeout is the
// exact sum tv_sec * 1e6 + tv_usec (tv_usec taken as given, outside
// [0, 1e6) too, as libevent adds it without normalising); one of zero or
// less fires at once, as libevent's does; one beyond `timeout_never` is
// `timeout_never`, a wait so long it never ends in practice but that still
// adds safely to steady_clock::now() (whose nanoseconds overflow after about
// 292 years of uptime).
#ifndef EVASIO_DETAIL_TIMEVAL_HPP_INCLUDED_
#define EVASIO_DETAIL_TIMEVAL_HPP_INCLUDED_

#include <sys/time.h>

#include <chrono>
#include <limits>

namespace evasio::detail {

constexpr std::chrono::microseconds timeout_never = std::chrono::hours(24 * 365 * 100);

inline std::chrono::microseconds to_timeout(const struct timeval& tv) noexcept {
  const long long s = tv.tv_sec;
  const long long us = tv.tv_usec;
  long long total;
  // Beyond long long, tv_sec * 1e6 outweighs any tv_usec; a sum beyond it
  // has the sign its two (like-signed) terms share.
  if (__builtin_mul_overflow(s, 1000000LL, &total))
    return s > 0 ? timeout_never : std::chrono::microseconds(0);
  if (__builtin_add_overflow(total, us, &total))
    return us > 0 ? timeout_never : std::chrono::microseconds(0);
  if (total <= 0)
    return std::chrono::microseconds(0);
  return total >= timeout_never.count() ? timeout_never : std::chrono::microseconds(total);
}

// now + tv in wall-clock time, as event_pending reports an expiry: exact
// where time_t can hold it, saturated where it cannot.
inline struct timeval wall_after(const struct timeval& now, const struct timeval& tv) noexcept {
  long long usec = static_cast<long long>(now.tv_usec) + tv.tv_usec % 1000000;  // |usec| < 2e6
  long long carry = tv.tv_usec / 1000000;
  if (usec >= 1000000) {
    usec -= 1000000;
    ++carry;
  } else if (usec < 0) {
    usec += 1000000;
    --carry;
  }
  using limits = std::numeric_limits<time_t>;
  time_t sec;
  if (__builtin_add_overflow(now.tv_sec, tv.tv_sec, &sec))
    sec = tv.tv_sec > 0 ? limits::max() : limits::min();
  else if (__builtin_add_overflow(sec, carry, &sec))
    sec = carry > 0 ? limits::max() : limits::min();
  struct timeval out;
  out.tv_sec = sec;
  out.tv_usec = static_cast<suseconds_t>(usec);
  return out;
}

} // namespace evasio::detail

#endif

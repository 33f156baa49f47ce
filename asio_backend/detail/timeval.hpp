// A libevent timeout (struct timeval, relative) as a steady-clock duration,
// the one conversion every timeout of evasio goes through: event_add,
// event_base_once, event_base_loopexit, bufferevent_set_timeouts.
//
// Saturating, with no signed overflow for any input: a negative timeout is
// zero (it fires at once, as libevent's does), one beyond `timeout_never` is
// `timeout_never`, a wait so long it never ends in practice but that still
// adds safely to steady_clock::now() (whose nanoseconds overflow after about
// 292 years of uptime). tv_usec is taken as given, outside [0, 1e6) too, as
// libevent adds it without normalising.
#ifndef EVASIO_DETAIL_TIMEVAL_HPP_INCLUDED_
#define EVASIO_DETAIL_TIMEVAL_HPP_INCLUDED_

#include <sys/time.h>

#include <chrono>

namespace evasio::detail {

constexpr std::chrono::microseconds timeout_never = std::chrono::hours(24 * 365 * 100);

inline std::chrono::microseconds to_timeout(const struct timeval& tv) noexcept {
  constexpr long long limit_s = std::chrono::duration_cast<std::chrono::seconds>(timeout_never).count();
  constexpr long long limit_us = timeout_never.count();
  const long long s = tv.tv_sec;
  const long long us = tv.tv_usec;
  if (s >= limit_s || us >= limit_us)
    return s > -limit_s ? timeout_never : std::chrono::microseconds(0);  // sums stay in range
  if (s <= -limit_s || us <= -limit_us)
    return std::chrono::microseconds(0);
  const long long total = s * 1000000LL + us;  // |total| < 2 * limit_us: no overflow
  if (total <= 0)
    return std::chrono::microseconds(0);
  return total >= limit_us ? timeout_never : std::chrono::microseconds(total);
}

} // namespace evasio::detail

#endif

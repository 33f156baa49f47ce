// libevent-style logging: "[warn] message" on stderr unless the program set
// a callback with event_set_log_callback().
#ifndef EVASIO_DETAIL_LOG_HPP_INCLUDED_
#define EVASIO_DETAIL_LOG_HPP_INCLUDED_

#include <atomic>
#include <cstdint>

namespace evasio::detail {

void log_msg(int severity, const char* fmt, ...) noexcept
    __attribute__((format(printf, 2, 3)));
// As log_msg at warn level, with ": strerror(err)" appended.
void log_sock_warn(int err, const char* fmt, ...) noexcept
    __attribute__((format(printf, 2, 3)));

// event_enable_debug_logging's mask: debug messages are formatted only
// when it is set.
extern std::atomic<std::uint32_t> debug_logging_mask;
#define EVASIO_LOG_DEBUG(...)                                                  \
  do {                                                                         \
    if (::evasio::detail::debug_logging_mask.load(std::memory_order_relaxed))  \
      ::evasio::detail::log_msg(EVENT_LOG_DEBUG, __VA_ARGS__);                 \
  } while (0)

// libevent's code for an internal error (an assertion, debug mode's
// findings): the fatal callback gets it.
constexpr int err_abort = static_cast<int>(0xdeaddeadu);
// Logs at error level, calls the fatal callback with err, and ends the
// process: abort() for err_abort, else exit(err), as libevent.
[[noreturn]] void fatal(int err, const char* fmt, ...) noexcept
    __attribute__((format(printf, 2, 3)));

} // namespace evasio::detail

#endif

// libevent-style logging: "[warn] message" on stderr unless the program set
// a callback with event_set_log_callback().
#ifndef EVASIO_DETAIL_LOG_HPP_INCLUDED_
#define EVASIO_DETAIL_LOG_HPP_INCLUDED_

namespace evasio::detail {

void log_msg(int severity, const char* fmt, ...) noexcept
    __attribute__((format(printf, 2, 3)));
// As log_msg at warn level, with ": strerror(err)" appended.
void log_sock_warn(int err, const char* fmt, ...) noexcept
    __attribute__((format(printf, 2, 3)));

} // namespace evasio::detail

#endif

// libevent's log format: "[warn] message\n" on stderr, or the user's callback.
#include "detail/log.hpp"

#include <event2/event.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace {

std::atomic<event_log_cb> user_log_cb{nullptr};

void emit(int severity, const char* msg) noexcept {
  if (event_log_cb cb = user_log_cb.load()) {
    cb(severity, msg);
    return;
  }
  const char* name = "???";
  switch (severity) {
  case EVENT_LOG_DEBUG: name = "debug"; break;
  case EVENT_LOG_MSG: name = "msg"; break;
  case EVENT_LOG_WARN: name = "warn"; break;
  case EVENT_LOG_ERR: name = "err"; break;
  }
  std::fprintf(stderr, "[%s] %s\n", name, msg);
}

} // namespace

namespace evasio::detail {

void log_msg(int severity, const char* fmt, ...) noexcept {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  emit(severity, buf);
}

void log_sock_warn(int err, const char* fmt, ...) noexcept {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n >= 0 && static_cast<size_t>(n) < sizeof buf)
    std::snprintf(buf + n, sizeof buf - n, ": %s", std::strerror(err));
  emit(EVENT_LOG_WARN, buf);
}

} // namespace evasio::detail

extern "C" void event_set_log_callback(event_log_cb cb) {
  user_log_cb.store(cb);
}

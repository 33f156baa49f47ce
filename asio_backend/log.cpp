// libevent's log format: "[warn] message\n" on stderr, or the user's callback;
// the fatal path (event_set_fatal_callback) and the debug-logging mask.
#include "detail/log.hpp"

#include <event2/event.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

std::atomic<event_log_cb> user_log_cb{nullptr};
std::atomic<event_fatal_cb> user_fatal_cb{nullptr};

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

std::atomic<std::uint32_t> debug_logging_mask{EVENT_DBG_NONE};

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

void fatal(int err, const char* fmt, ...) noexcept {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  emit(EVENT_LOG_ERR, buf);
  if (event_fatal_cb cb = user_fatal_cb.load()) {
    cb(err);
    std::exit(err);  // the callback was not meant to return
  }
  if (err == err_abort)
    std::abort();
  std::exit(err);
}

} // namespace evasio::detail

extern "C" {

void event_set_log_callback(event_log_cb cb) {
  user_log_cb.store(cb);
}

void event_set_fatal_callback(event_fatal_cb cb) {
  user_fatal_cb.store(cb);
}

void event_enable_debug_logging(ev_uint32_t which) {
  evasio::detail::debug_logging_mask.store(which);
}

} // extern "C"

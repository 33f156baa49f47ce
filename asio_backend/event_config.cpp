// event_config and event_base_new_with_config: what a program asks of a base.
//
// evasio has one method, Asio's reactor (epoll on Linux). A config that
// avoids it, or requires a feature it lacks, leaves no method: the base is
// not made, as libevent's when every one of its methods is ruled out.
#include "detail/base.hpp"
#include "detail/c_boundary.hpp"
#include "detail/global.hpp"
#include "detail/log.hpp"

#include <event2/event.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace evasio::detail;

struct event_config {
  std::vector<std::string> avoided;
  int required_features = 0;
  int cpus_hint = 0;
  base_settings settings;
  event_config() { settings.limit_after_prio = 1; }  // libevent's default
};

namespace {

// What Asio's reactor gives, truthfully: EV_ET (evasio's own edge-triggered
// epoll set), O(1) epoll, and EV_CLOSED from EPOLLRDHUP/POLLRDHUP without
// reading first. Not FDS: epoll refuses regular files and directories.
constexpr int method_features = EV_FEATURE_ET | EV_FEATURE_O1 | EV_FEATURE_EARLY_CLOSE;

const char* supported_methods[] = {backend_method(), nullptr};

bool method_fits(const event_config& cfg) {
  for (const std::string& name : cfg.avoided)
    if (name == backend_method())
      return false;
  return (method_features & cfg.required_features) == cfg.required_features;
}

// The environment, unless the program is set-id (as libevent's getenv).
bool env_set(const char* name) { return ::secure_getenv(name) != nullptr; }

// The loop's dispatch limits as libevent's base records them: with no
// limit at all, no priority is limited.
base_settings settings_for(const event_config* cfg) {
  base_settings s = cfg ? cfg->settings : base_settings{};
  if (s.max_callbacks == INT_MAX && s.max_interval.count() < 0)
    s.limit_after_prio = INT_MAX;
  // EVENT_NO<METHOD> is not read (see README); these two are, as flags.
  if (!(s.flags & EVENT_BASE_FLAG_IGNORE_ENV)) {
    if (env_set("EVENT_PRECISE_TIMER"))
      s.flags |= EVENT_BASE_FLAG_PRECISE_TIMER;
    if (env_set("EVENT_EPOLL_USE_CHANGELIST"))
      s.flags |= EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST;
  }
  return s;
}

} // namespace

namespace evasio::detail {

const char* backend_method() noexcept {
#if defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
  return "io_uring";
#elif defined(BOOST_ASIO_HAS_EPOLL)
  return "epoll";
#elif defined(BOOST_ASIO_HAS_KQUEUE)
  return "kqueue";
#else
  return "select";
#endif
}

} // namespace evasio::detail

extern "C" {

struct event_config* event_config_new(void) {
  return guarded<event_config*>(nullptr, [] { return new event_config; });
}

void event_config_free(struct event_config* cfg) {
  delete cfg;
}

int event_config_avoid_method(struct event_config* cfg, const char* method) {
  if (!cfg || !method)
    return fail(-1, EINVAL);
  return guarded(-1, [&] {
    cfg->avoided.emplace_back(method);
    return 0;
  });
}

int event_config_require_features(struct event_config* cfg, int features) {
  if (!cfg)
    return fail(-1, EINVAL);
  cfg->required_features = features;
  return 0;
}

int event_config_set_flag(struct event_config* cfg, int flag) {
  if (!cfg)
    return fail(-1, EINVAL);
  cfg->settings.flags |= flag;
  return 0;
}

int event_config_set_num_cpus_hint(struct event_config* cfg, int cpus) {
  if (!cfg)
    return fail(-1, EINVAL);
  cfg->cpus_hint = cpus;
  return 0;
}

int event_config_set_max_dispatch_interval(struct event_config* cfg, const struct timeval* max_interval,
                                           int max_callbacks, int min_priority) {
  if (!cfg)
    return fail(-1, EINVAL);
  base_settings& s = cfg->settings;
  // libevent: a tv_sec of -1 (or no timeval) is "no limit".
  if (max_interval && max_interval->tv_sec >= 0)
    s.max_interval = std::chrono::seconds(max_interval->tv_sec) +
                     std::chrono::microseconds(max_interval->tv_usec);
  else
    s.max_interval = std::chrono::microseconds(-1);
  s.max_callbacks = max_callbacks >= 0 ? max_callbacks : INT_MAX;
  s.limit_after_prio = min_priority < 0 ? 0 : min_priority;
  return 0;
}

struct event_base* event_base_new_with_config(const struct event_config* cfg) {
  debug_note_too_late();
  if (cfg && !method_fits(*cfg)) {
    log_msg(EVENT_LOG_WARN, "%s: no event mechanism available", "event_base_new_with_config");
    return fail<event_base*>(nullptr, ENOSYS);
  }
  event_base* base = guarded<event_base*>(nullptr, [&] { return new event_base(nullptr, settings_for(cfg)); });
  if (base && env_set("EVENT_SHOW_METHOD"))
    log_msg(EVENT_LOG_MSG, "libevent using: %s", event_base_get_method(base));
  return base;
}

int event_base_get_features(const struct event_base* base) {
  if (!base)
    return fail(0, EINVAL);
  return method_features;
}

const char** event_get_supported_methods(void) {
  return supported_methods;
}

} // extern "C"

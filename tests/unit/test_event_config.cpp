// event_config and event_base_new_with_config (event2/event.h): methods
// avoided, features required, flags, the environment, as libevent 2.1.12's.
// The cases pass against real libevent too, except those under
// EVASIO_VERSION (evasio has one method where libevent has three).
#define BOOST_TEST_MODULE event_config
#include <boost/test/unit_test.hpp>

#include <event2/event.h>

#include "fixtures.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sys/time.h>
#include <unistd.h>

using namespace nettest;

namespace {

using Watchdog = CaseAlarm<20>;

// An event_config for one scope.
struct Config {
  event_config* c = event_config_new();
  Config() { BOOST_TEST_REQUIRE(c != nullptr); }
  ~Config() { event_config_free(c); }
  Config(const Config&) = delete;
  Config& operator=(const Config&) = delete;
  operator event_config*() const { return c; }
};

// The base made from cfg (may be NULL), freed at scope exit.
struct ConfiguredBase {
  event_base* b;
  explicit ConfiguredBase(const event_config* cfg) : b(event_base_new_with_config(cfg)) {}
  ~ConfiguredBase() {
    if (b)
      event_base_free(b);
  }
  ConfiguredBase(const ConfiguredBase&) = delete;
  ConfiguredBase& operator=(const ConfiguredBase&) = delete;
};

// Sets environment variables for one scope.
struct Env {
  std::vector<std::string> names;
  explicit Env(std::vector<std::string> n) : names(std::move(n)) {
    for (const auto& s : names)
      ::setenv(s.c_str(), "1", 1);
  }
  ~Env() {
    for (const auto& s : names)
      ::unsetenv(s.c_str());
  }
};

std::vector<std::pair<int, std::string>> logged;
void log_cb(int severity, const char* msg) { logged.emplace_back(severity, msg); }
struct CaptureLog {
  CaptureLog() {
    logged.clear();
    event_set_log_callback(log_cb);
  }
  ~CaptureLog() { event_set_log_callback(nullptr); }
};

int fired = 0;
void count_cb(evutil_socket_t, short, void*) { ++fired; }

// The base runs a timer: it is a working base.
bool runs_a_timer(event_base* base) {
  fired = 0;
  event* ev = evtimer_new(base, count_cb, nullptr);
  const timeval tv = ms_tv(1);
  evtimer_add(ev, &tv);
  const int rc = event_base_dispatch(base);
  event_free(ev);
  return rc >= 0 && fired == 1;
}

std::vector<std::string> supported() {
  std::vector<std::string> v;
  for (const char** m = event_get_supported_methods(); m && *m; ++m)
    v.emplace_back(*m);
  return v;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(event_config_suite, Watchdog)

BOOST_AUTO_TEST_CASE(an_empty_config_makes_a_working_base) {
  Config cfg;
  ConfiguredBase base(cfg);
  BOOST_TEST_REQUIRE(base.b != nullptr);
  BOOST_TEST(runs_a_timer(base.b));
}

BOOST_AUTO_TEST_CASE(a_null_config_makes_a_base_as_event_base_new) {
  ConfiguredBase base(nullptr);
  BOOST_TEST_REQUIRE(base.b != nullptr);
  Base plain;
  BOOST_TEST(std::string(event_base_get_method(base.b)) == event_base_get_method(plain));
  BOOST_TEST(runs_a_timer(base.b));
}

BOOST_AUTO_TEST_CASE(supported_methods_are_null_terminated_and_name_the_default_method) {
  const std::vector<std::string> methods = supported();
  BOOST_TEST_REQUIRE(!methods.empty());
  Base plain;
  BOOST_TEST(methods.front() == event_base_get_method(plain));
}

BOOST_AUTO_TEST_CASE(avoiding_an_unknown_method_still_makes_a_base) {
  Config cfg;
  BOOST_TEST(event_config_avoid_method(cfg, "no-such-method") == 0);
  ConfiguredBase base(cfg);
  BOOST_TEST_REQUIRE(base.b != nullptr);
  BOOST_TEST(runs_a_timer(base.b));
}

BOOST_AUTO_TEST_CASE(avoiding_every_supported_method_makes_no_base) {
  CaptureLog capture;
  Config cfg;
  for (const std::string& m : supported())
    BOOST_TEST(event_config_avoid_method(cfg, m.c_str()) == 0);
  ConfiguredBase base(cfg);
  BOOST_TEST(base.b == nullptr);
  BOOST_TEST_REQUIRE(logged.size() == 1u);
  BOOST_TEST(logged[0].first == EVENT_LOG_WARN);
  BOOST_TEST(logged[0].second == "event_base_new_with_config: no event mechanism available");
}

BOOST_AUTO_TEST_CASE(avoiding_a_method_the_base_does_not_use_keeps_the_default) {
  Config cfg;
  BOOST_TEST(event_config_avoid_method(cfg, "select") == 0);
  ConfiguredBase base(cfg);
  BOOST_TEST_REQUIRE(base.b != nullptr);
  BOOST_TEST(std::string(event_base_get_method(base.b)) == supported().front());
}

BOOST_AUTO_TEST_CASE(the_default_method_has_et_o1_and_early_close_but_not_fds) {
  Base plain;
  BOOST_TEST(event_base_get_features(plain) == (EV_FEATURE_ET | EV_FEATURE_O1 | EV_FEATURE_EARLY_CLOSE));
}

BOOST_AUTO_TEST_CASE(requiring_features_the_method_has_makes_a_base_with_them) {
  Config cfg;
  const int wanted = EV_FEATURE_ET | EV_FEATURE_O1 | EV_FEATURE_EARLY_CLOSE;
  BOOST_TEST(event_config_require_features(cfg, wanted) == 0);
  ConfiguredBase base(cfg);
  BOOST_TEST_REQUIRE(base.b != nullptr);
  BOOST_TEST((event_base_get_features(base.b) & wanted) == wanted);
}

BOOST_AUTO_TEST_CASE(a_base_required_to_take_any_fd_has_the_fds_feature_if_made) {
  Config cfg;
  BOOST_TEST(event_config_require_features(cfg, EV_FEATURE_FDS) == 0);
  ConfiguredBase base(cfg);
  if (base.b)
    BOOST_TEST((event_base_get_features(base.b) & EV_FEATURE_FDS) != 0);
}

BOOST_AUTO_TEST_CASE(requiring_no_features_after_some_clears_the_requirement) {
  Config cfg;
  BOOST_TEST(event_config_require_features(cfg, 0x7fff0000) == 0);
  BOOST_TEST(event_config_require_features(cfg, 0) == 0);
  ConfiguredBase base(cfg);
  BOOST_TEST(base.b != nullptr);
}

BOOST_AUTO_TEST_CASE(every_base_flag_is_accepted_and_the_base_works) {
  const int flags[] = {EVENT_BASE_FLAG_NOLOCK, EVENT_BASE_FLAG_IGNORE_ENV, EVENT_BASE_FLAG_STARTUP_IOCP,
                       EVENT_BASE_FLAG_NO_CACHE_TIME, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST,
                       EVENT_BASE_FLAG_PRECISE_TIMER};
  for (int flag : flags) {
    Config cfg;
    BOOST_TEST(event_config_set_flag(cfg, flag) == 0);
    ConfiguredBase base(cfg);
    BOOST_TEST_REQUIRE(base.b != nullptr, "flag " << flag);
    BOOST_TEST(runs_a_timer(base.b), "flag " << flag);
  }
}

BOOST_AUTO_TEST_CASE(unknown_flag_bits_are_accepted_and_ignored) {
  Config cfg;
  BOOST_TEST(event_config_set_flag(cfg, 0x4000) == 0);
  BOOST_TEST(event_config_set_flag(cfg, -1) == 0);
  ConfiguredBase base(cfg);
  BOOST_TEST_REQUIRE(base.b != nullptr);
  BOOST_TEST(runs_a_timer(base.b));
}

BOOST_AUTO_TEST_CASE(the_cpu_hint_is_accepted_and_has_no_effect) {
  Config cfg;
  BOOST_TEST(event_config_set_num_cpus_hint(cfg, 8) == 0);
  BOOST_TEST(event_config_set_flag(cfg, EVENT_BASE_FLAG_STARTUP_IOCP) == 0);
  ConfiguredBase base(cfg);
  BOOST_TEST_REQUIRE(base.b != nullptr);
  BOOST_TEST(runs_a_timer(base.b));
}

BOOST_AUTO_TEST_CASE(dispatch_limits_of_any_value_are_accepted) {
  Config cfg;
  const timeval tv = ms_tv(5);
  BOOST_TEST(event_config_set_max_dispatch_interval(cfg, &tv, 10, 1) == 0);
  BOOST_TEST(event_config_set_max_dispatch_interval(cfg, nullptr, -1, -5) == 0);
  BOOST_TEST(event_config_set_max_dispatch_interval(cfg, &tv, 0, 0) == 0);
  ConfiguredBase base(cfg);
  BOOST_TEST_REQUIRE(base.b != nullptr);
  BOOST_TEST(runs_a_timer(base.b));
}

BOOST_AUTO_TEST_CASE(event_show_method_logs_the_method_at_msg_level) {
  Env env({"EVENT_SHOW_METHOD"});
  CaptureLog capture;
  Base plain;
  BOOST_TEST_REQUIRE(logged.size() == 1u);
  BOOST_TEST(logged[0].first == EVENT_LOG_MSG);
  BOOST_TEST(logged[0].second == std::string("libevent using: ") + event_base_get_method(plain));
}

BOOST_AUTO_TEST_CASE(event_show_method_is_shown_even_with_ignore_env) {
  Env env({"EVENT_SHOW_METHOD"});
  CaptureLog capture;
  Config cfg;
  event_config_set_flag(cfg, EVENT_BASE_FLAG_IGNORE_ENV);
  ConfiguredBase base(cfg);
  BOOST_TEST(logged.size() == 1u);
}

BOOST_AUTO_TEST_CASE(without_event_show_method_nothing_is_logged) {
  ::unsetenv("EVENT_SHOW_METHOD");
  CaptureLog capture;
  Base plain;
  BOOST_TEST(logged.empty());
}

BOOST_AUTO_TEST_CASE(event_noepoll_alone_still_gives_a_working_base) {
  Env env({"EVENT_NOEPOLL"});
  Base plain;
  BOOST_TEST(runs_a_timer(plain));
}

BOOST_AUTO_TEST_CASE(ignore_env_makes_a_base_whatever_event_no_variables_say) {
  Env env({"EVENT_NOEPOLL", "EVENT_NOPOLL", "EVENT_NOSELECT", "EVENT_NODEVPOLL", "EVENT_NOKQUEUE"});
  Config cfg;
  BOOST_TEST(event_config_set_flag(cfg, EVENT_BASE_FLAG_IGNORE_ENV) == 0);
  ConfiguredBase base(cfg);
  BOOST_TEST_REQUIRE(base.b != nullptr);
  BOOST_TEST(std::string(event_base_get_method(base.b)) == supported().front());
}

BOOST_AUTO_TEST_CASE(the_changelist_flag_names_the_method_epoll_with_changelist) {
  Config cfg;
  event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
  ConfiguredBase base(cfg);
  BOOST_TEST_REQUIRE(base.b != nullptr);
  BOOST_TEST(std::string(event_base_get_method(base.b)) == "epoll (with changelist)");
}

BOOST_AUTO_TEST_CASE(event_epoll_use_changelist_counts_unless_ignore_env) {
  Env env({"EVENT_EPOLL_USE_CHANGELIST"});
  Base plain;
  BOOST_TEST(std::string(event_base_get_method(plain)) == "epoll (with changelist)");
  Config cfg;
  event_config_set_flag(cfg, EVENT_BASE_FLAG_IGNORE_ENV);
  ConfiguredBase base(cfg);
  BOOST_TEST_REQUIRE(base.b != nullptr);
  BOOST_TEST(std::string(event_base_get_method(base.b)) == "epoll");
}

BOOST_AUTO_TEST_CASE(the_monotonic_clock_goes_forward_and_null_is_refused) {
  Base plain;
  timeval a, b;
  BOOST_TEST(event_gettime_monotonic(plain, &a) == 0);
  ::usleep(30000);  // libevent's clock may be the coarse one (a few ms)
  BOOST_TEST(event_gettime_monotonic(plain, &b) == 0);
  BOOST_TEST((b.tv_sec - a.tv_sec) * 1000000L + (b.tv_usec - a.tv_usec) >= 10000L);
  BOOST_TEST(event_gettime_monotonic(nullptr, &a) == -1);
  BOOST_TEST(event_gettime_monotonic(plain, nullptr) == -1);
}

BOOST_AUTO_TEST_CASE(setters_refuse_a_null_config) {
  BOOST_TEST(event_config_set_flag(nullptr, EVENT_BASE_FLAG_NOLOCK) == -1);
  BOOST_TEST(event_config_require_features(nullptr, EV_FEATURE_ET) == -1);
  BOOST_TEST(event_config_set_num_cpus_hint(nullptr, 2) == -1);
}

// ---- the dispatch limits and the time cache in the loop ------------------

// Three events, two priorities: w (1) writes a pipe that r (0) reads, x (1)
// logs. w and x are active together; whether r runs between them tells
// whether the loop polled again after w.
struct chain {
  int fd[2];
  std::string log;
  long w_sleep_us = 0;
};

void chain_write(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<chain*>(arg);
  c->log += 'w';
  if (c->w_sleep_us)
    ::usleep(static_cast<useconds_t>(c->w_sleep_us));
  BOOST_REQUIRE(::write(c->fd[1], "x", 1) == 1);
}
void chain_read(evutil_socket_t fd, short, void* arg) {
  static_cast<chain*>(arg)->log += 'r';
  char ch;
  BOOST_REQUIRE(::read(fd, &ch, 1) == 1);
}
void chain_log(evutil_socket_t, short, void* arg) { static_cast<chain*>(arg)->log += 'x'; }

std::string run_chain(const timeval* interval, int max_callbacks, int limit_after_prio,
                      long w_sleep_us = 0) {
  Config cfg;
  BOOST_REQUIRE(event_config_set_max_dispatch_interval(cfg, interval, max_callbacks, limit_after_prio) == 0);
  ConfiguredBase base(cfg);
  BOOST_REQUIRE(base.b);
  BOOST_REQUIRE(event_base_priority_init(base.b, 2) == 0);
  chain c;
  c.w_sleep_us = w_sleep_us;
  BOOST_REQUIRE(::pipe(c.fd) == 0);
  event* w = event_new(base.b, -1, 0, chain_write, &c);
  event* r = event_new(base.b, c.fd[0], EV_READ, chain_read, &c);
  event* x = event_new(base.b, -1, 0, chain_log, &c);
  event_priority_set(w, 1);
  event_priority_set(x, 1);
  event_priority_set(r, 0);
  event_add(r, nullptr);
  event_base_loop(base.b, EVLOOP_NONBLOCK);
  event_active(w, EV_TIMEOUT, 1);
  event_active(x, EV_TIMEOUT, 1);
  event_base_dispatch(base.b);
  event_free(w);
  event_free(r);
  event_free(x);
  ::close(c.fd[0]);
  ::close(c.fd[1]);
  return c.log;
}

BOOST_AUTO_TEST_CASE(without_dispatch_limits_a_pass_runs_its_whole_queue) {
  BOOST_TEST(run_chain(nullptr, -1, 0) == "wxr");
}

BOOST_AUTO_TEST_CASE(max_callbacks_makes_the_loop_poll_after_that_many) {
  BOOST_TEST(run_chain(nullptr, 1, 1) == "wrx");
}

BOOST_AUTO_TEST_CASE(queues_more_urgent_than_limit_after_prio_run_unlimited) {
  BOOST_TEST(run_chain(nullptr, 1, 2) == "wxr");
}

BOOST_AUTO_TEST_CASE(max_interval_makes_the_loop_poll_once_it_has_passed) {
  const timeval ten_ms = ms_tv(10);
  BOOST_TEST(run_chain(&ten_ms, -1, 0, 30000) == "wrx");
}

struct cache_probe {
  event_base* base;
  long long lag_us = -1;
};

void read_cache_after_sleep(evutil_socket_t, short, void* arg) {
  auto* p = static_cast<cache_probe*>(arg);
  ::usleep(30000);
  timeval cached, now;
  BOOST_REQUIRE(event_base_gettimeofday_cached(p->base, &cached) == 0);
  ::gettimeofday(&now, nullptr);
  p->lag_us = (now.tv_sec - cached.tv_sec) * 1000000LL + (now.tv_usec - cached.tv_usec);
}

long long cache_lag_us(int flags) {
  Config cfg;
  BOOST_REQUIRE(event_config_set_flag(cfg, flags) == 0);
  ConfiguredBase base(cfg);
  BOOST_REQUIRE(base.b);
  cache_probe p{base.b};
  const timeval zero{0, 0};
  BOOST_REQUIRE(event_base_once(base.b, -1, EV_TIMEOUT, read_cache_after_sleep, &p, &zero) == 0);
  event_base_dispatch(base.b);
  return p.lag_us;
}

BOOST_AUTO_TEST_CASE(the_cached_time_is_the_time_the_callbacks_began) {
  BOOST_TEST(cache_lag_us(0) >= 30000);
}

BOOST_AUTO_TEST_CASE(no_cache_time_gives_the_time_of_the_call) {
  BOOST_TEST(cache_lag_us(EVENT_BASE_FLAG_NO_CACHE_TIME) < 30000);
}

#ifdef EVASIO_VERSION
// evasio has one method: avoiding it, or requiring what it lacks, leaves
// none, where libevent would fall back to poll.
BOOST_AUTO_TEST_CASE(avoiding_the_one_method_makes_no_base) {
  Config cfg;
  BOOST_TEST(event_config_avoid_method(cfg, "epoll") == 0);
  errno = 0;
  ConfiguredBase base(cfg);
  BOOST_TEST(base.b == nullptr);
  BOOST_TEST(errno != 0);
}

BOOST_AUTO_TEST_CASE(requiring_any_fd_type_makes_no_base) {
  Config cfg;
  BOOST_TEST(event_config_require_features(cfg, EV_FEATURE_FDS) == 0);
  ConfiguredBase base(cfg);
  BOOST_TEST(base.b == nullptr);
}

BOOST_AUTO_TEST_CASE(the_one_supported_method_is_epoll) {
  BOOST_TEST(supported() == std::vector<std::string>{"epoll"});
}

// EVENT_NO<METHOD> is not read: the one method stays (libevent, with all
// of its methods ruled out, would make no base).
BOOST_AUTO_TEST_CASE(event_no_variables_are_ignored) {
  Env env({"EVENT_NOEPOLL", "EVENT_NOPOLL", "EVENT_NOSELECT"});
  Base plain;
  BOOST_TEST(std::string(event_base_get_method(plain)) == "epoll");
}

// libevent crashes on these.
BOOST_AUTO_TEST_CASE(bad_input_is_refused_with_errno) {
  errno = 0;
  BOOST_TEST(event_config_avoid_method(nullptr, "epoll") == -1);
  BOOST_TEST(errno == EINVAL);
  Config cfg;
  errno = 0;
  BOOST_TEST(event_config_avoid_method(cfg, nullptr) == -1);
  BOOST_TEST(errno == EINVAL);
  errno = 0;
  BOOST_TEST(event_config_set_max_dispatch_interval(nullptr, nullptr, 1, 1) == -1);
  BOOST_TEST(errno == EINVAL);
  errno = 0;
  BOOST_TEST(event_base_get_features(nullptr) == 0);
  BOOST_TEST(errno == EINVAL);
  event_config_free(nullptr);
}
#endif

BOOST_AUTO_TEST_SUITE_END()

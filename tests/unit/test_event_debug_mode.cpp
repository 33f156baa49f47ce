// event_enable_debug_mode (event2/event.h): misuse of events is reported
// through the fatal path (event_set_fatal_callback gets libevent's
// internal-error code) instead of corrupting memory. Debug mode must come
// before any event or base, so each case runs in a child process of its
// own, and the parent never makes one. The cases pass against real
// libevent too.
#define BOOST_TEST_MODULE event_debug_mode
#include <boost/test/unit_test.hpp>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/thread.h>

#include "fixtures.hpp"

#include <sys/wait.h>
#include <csignal>
#include <unistd.h>

#include <cstring>
#include <string>

using namespace nettest;

namespace {

using Watchdog = CaseAlarm<20>;

// libevent's code for an internal error, given to the fatal callback.
constexpr int internal_error = static_cast<int>(0xdeaddeadu);
constexpr int exit_internal = 42, exit_other_fatal = 43, exit_returned = 0;

int log_fd = -1;  // the child's end of the pipe the parent reads
void log_to_parent(int severity, const char* msg) {
  if (severity != EVENT_LOG_ERR)
    return;
  ssize_t ignored = ::write(log_fd, msg, std::strlen(msg));
  (void)ignored;
}
void exit_on_fatal(int err) { ::_exit(err == internal_error ? exit_internal : exit_other_fatal); }

struct Outcome {
  int exit_code = -1;
  std::string error_log;  // what was logged at EVENT_LOG_ERR
};

// Runs body in a child with debug mode on (unless `enable` is false),
// reporting how it ended.
template <class F>
Outcome in_debug_child(F body, bool enable = true) {
  int p[2];
  BOOST_TEST_REQUIRE(::pipe(p) == 0);
  const pid_t pid = ::fork();
  BOOST_TEST_REQUIRE(pid >= 0);
  if (pid == 0) {
    ::signal(SIGABRT, SIG_DFL);  // not Boost.Test's handler: the parent sees the abort
    ::close(p[0]);
    log_fd = p[1];
    event_set_log_callback(log_to_parent);
    event_set_fatal_callback(exit_on_fatal);
    if (enable)
      event_enable_debug_mode();
    body();
    ::_exit(exit_returned);
  }
  ::close(p[1]);
  Outcome o;
  char buf[512];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof buf)) > 0)
    o.error_log.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return o;
}

void nop_cb(evutil_socket_t, short, void*) {}

bool mentions(const Outcome& o, const char* what) { return o.error_log.find(what) != std::string::npos; }

} // namespace

BOOST_FIXTURE_TEST_SUITE(event_debug_mode_suite, Watchdog)

BOOST_AUTO_TEST_CASE(correct_use_of_events_runs_to_the_end) {
  const Outcome o = in_debug_child([] {
    event_base* base = event_base_new();
    struct event ev;
    event_assign(&ev, base, -1, 0, nop_cb, nullptr);
    const timeval tv = ms_tv(1);
    event_add(&ev, &tv);
    event_base_dispatch(base);
    event_add(&ev, &tv);
    event_del(&ev);
    event_assign(&ev, base, -1, 0, nop_cb, nullptr);  // not pending: may be reassigned
    event_debug_unassign(&ev);
    event* heap = event_new(base, -1, 0, nop_cb, nullptr);
    event_add(heap, &tv);
    event_free(heap);
    event_base_free(base);
  });
  BOOST_TEST(o.exit_code == exit_returned);
  BOOST_TEST(o.error_log.empty());
}

// The loop deletes a one-shot event when it fires: it is no longer added.
BOOST_AUTO_TEST_CASE(a_fired_one_shot_event_may_be_assigned_again) {
  const Outcome o = in_debug_child([] {
    event_base* base = event_base_new();
    struct event ev;
    event_assign(&ev, base, -1, 0, nop_cb, nullptr);
    const timeval tv = ms_tv(1);
    event_add(&ev, &tv);
    event_base_dispatch(base);
    event_assign(&ev, base, -1, 0, nop_cb, nullptr);
    event_debug_unassign(&ev);
    event_base_free(base);
  });
  BOOST_TEST(o.exit_code == exit_returned);
  BOOST_TEST(o.error_log.empty());
}

// A copy of an assigned event looks initialised, but was never assigned.
BOOST_AUTO_TEST_CASE(adding_a_copy_of_an_event_is_an_internal_error) {
  const Outcome o = in_debug_child([] {
    event_base* base = event_base_new();
    struct event ev, copy;
    event_assign(&ev, base, -1, 0, nop_cb, nullptr);
    std::memcpy(&copy, &ev, sizeof ev);
    const timeval tv = ms_tv(1);
    event_add(&copy, &tv);
    event_base_free(base);
  });
  BOOST_TEST(o.exit_code == exit_internal);
  BOOST_TEST(mentions(o, "non-initialized event"), o.error_log);
}

BOOST_AUTO_TEST_CASE(activating_a_copy_of_an_event_is_an_internal_error) {
  const Outcome o = in_debug_child([] {
    event_base* base = event_base_new();
    struct event ev, copy;
    event_assign(&ev, base, -1, 0, nop_cb, nullptr);
    std::memcpy(&copy, &ev, sizeof ev);
    event_active(&copy, EV_READ, 1);
    event_base_free(base);
  });
  BOOST_TEST(o.exit_code == exit_internal);
  BOOST_TEST(mentions(o, "non-initialized event"), o.error_log);
}

BOOST_AUTO_TEST_CASE(assigning_a_pending_event_is_an_internal_error) {
  const Outcome o = in_debug_child([] {
    event_base* base = event_base_new();
    struct event ev;
    event_assign(&ev, base, -1, 0, nop_cb, nullptr);
    const timeval tv = ms_tv(1000);
    event_add(&ev, &tv);
    event_assign(&ev, base, -1, 0, nop_cb, nullptr);
  });
  BOOST_TEST(o.exit_code == exit_internal);
  BOOST_TEST(mentions(o, "already added event"), o.error_log);
}

BOOST_AUTO_TEST_CASE(adding_an_event_after_event_debug_unassign_is_an_internal_error) {
  const Outcome o = in_debug_child([] {
    event_base* base = event_base_new();
    struct event ev;
    event_assign(&ev, base, -1, 0, nop_cb, nullptr);
    event_debug_unassign(&ev);
    const timeval tv = ms_tv(1);
    event_add(&ev, &tv);
    event_base_free(base);
  });
  BOOST_TEST(o.exit_code == exit_internal);
  BOOST_TEST(mentions(o, "non-initialized event"), o.error_log);
}

BOOST_AUTO_TEST_CASE(unassigning_a_pending_event_is_an_internal_error) {
  const Outcome o = in_debug_child([] {
    event_base* base = event_base_new();
    struct event ev;
    event_assign(&ev, base, -1, 0, nop_cb, nullptr);
    const timeval tv = ms_tv(1000);
    event_add(&ev, &tv);
    event_debug_unassign(&ev);
  });
  BOOST_TEST(o.exit_code == exit_internal);
  BOOST_TEST(mentions(o, "already added event"), o.error_log);
}

BOOST_AUTO_TEST_CASE(an_unassigned_event_is_no_longer_initialized) {
  const Outcome o = in_debug_child([] {
    event_base* base = event_base_new();
    struct event ev;
    event_assign(&ev, base, -1, 0, nop_cb, nullptr);
    event_debug_unassign(&ev);
    ::_exit(event_initialized(&ev) ? 1 : 0);
  });
  BOOST_TEST(o.exit_code == 0);
}

BOOST_AUTO_TEST_CASE(deleting_an_event_after_event_debug_unassign_is_an_internal_error) {
  const Outcome o = in_debug_child([] {
    event_base* base = event_base_new();
    struct event ev;
    event_assign(&ev, base, -1, 0, nop_cb, nullptr);
    event_debug_unassign(&ev);
    event_del(&ev);
    event_base_free(base);
  });
  BOOST_TEST(o.exit_code == exit_internal);
}

BOOST_AUTO_TEST_CASE(without_debug_mode_an_unassigned_event_is_just_refused) {
  const Outcome o = in_debug_child(
      [] {
        event_base* base = event_base_new();
        struct event ev;
        std::memset(&ev, 0, sizeof ev);
        const timeval tv = ms_tv(1);
        event_del(&ev);
        event_base_free(base);
        (void)tv;
      },
      false);
  BOOST_TEST(o.exit_code == exit_returned);
}

BOOST_AUTO_TEST_CASE(enabling_debug_mode_twice_is_fatal) {
  const Outcome o = in_debug_child([] { event_enable_debug_mode(); });
  BOOST_TEST(o.exit_code == exit_other_fatal);
  BOOST_TEST(mentions(o, "called twice"), o.error_log);
}

BOOST_AUTO_TEST_CASE(enabling_debug_mode_after_a_base_exists_is_fatal) {
  const Outcome o = in_debug_child(
      [] {
        event_base* base = event_base_new();
        event_enable_debug_mode();
        event_base_free(base);
      },
      false);
  BOOST_TEST(o.exit_code == exit_other_fatal);
  BOOST_TEST(mentions(o, "must be called *before*"), o.error_log);
}

// In debug mode threads must be set up before any base; events made
// without a base do not count.
BOOST_AUTO_TEST_CASE(threads_may_be_set_up_after_an_event_but_before_any_base) {
  const Outcome o = in_debug_child([] {
    struct event ev;
    event_assign(&ev, nullptr, -1, 0, nop_cb, nullptr);
    if (evthread_use_pthreads() != 0)
      ::_exit(1);
  });
  BOOST_TEST(o.exit_code == exit_returned, o.error_log);
}

BOOST_AUTO_TEST_CASE(setting_up_threads_after_a_base_exists_is_fatal) {
  const Outcome o = in_debug_child([] {
    event_base* base = event_base_new();
    evthread_use_pthreads();
    event_base_free(base);
  });
  BOOST_TEST(o.exit_code == exit_other_fatal);
  BOOST_TEST(mentions(o, "BEFORE anything else"), o.error_log);
}

BOOST_AUTO_TEST_CASE(without_a_fatal_callback_an_internal_error_aborts) {
  const Outcome o = in_debug_child([] {
    event_set_fatal_callback(nullptr);
    event_base* base = event_base_new();
    struct event ev;
    event_assign(&ev, base, -1, 0, nop_cb, nullptr);
    event_debug_unassign(&ev);
    event_add(&ev, nullptr);
    event_base_free(base);
  });
  BOOST_TEST(o.exit_code == 128 + SIGABRT);
}

BOOST_AUTO_TEST_SUITE_END()

// event.h's process-wide API: event_set_mem_functions (memory a program
// frees itself comes from its allocator), event_enable_debug_logging,
// event_set_fatal_callback, libevent_global_shutdown. The allocator is
// set before anything else (a global fixture), as libevent requires. The
// cases pass against real libevent too.
#define BOOST_TEST_MODULE event_global
#include <boost/test/unit_test.hpp>

#include <event2/buffer.h>
#include <event2/event.h>
// libevent 2.1.12's buffer_compat.h lacks extern "C".
extern "C" {
#include <event2/buffer_compat.h>
}

#include "fixtures.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <vector>

using namespace nettest;

namespace {

using Watchdog = CaseAlarm<20>;

// The program's allocator: malloc, with the blocks it gave out recorded.
struct Blocks {
  std::mutex m;
  std::set<void*> live;
  unsigned long foreign_frees = 0;  // frees of blocks it never gave out
};
Blocks& blocks() {
  static Blocks* b = new Blocks;  // never destroyed: frees may come late
  return *b;
}
void* my_malloc(size_t n) {
  void* p = std::malloc(n);
  std::lock_guard<std::mutex> g(blocks().m);
  if (p)
    blocks().live.insert(p);
  return p;
}
void* my_realloc(void* p, size_t n) {
  std::lock_guard<std::mutex> g(blocks().m);
  if (p)
    blocks().live.erase(p);  // before: p is not to be read once realloc had it
  void* q = std::realloc(p, n);
  if (q || p)
    blocks().live.insert(q ? q : p);
  return q;
}
void my_free(void* p) {
  if (!p)
    return;
  {
    std::lock_guard<std::mutex> g(blocks().m);
    if (!blocks().live.erase(p))
      ++blocks().foreign_frees;
  }
  std::free(p);
}
bool given_out(void* p) {
  std::lock_guard<std::mutex> g(blocks().m);
  return blocks().live.count(p) != 0;
}

struct SetAllocator {
  SetAllocator() { event_set_mem_functions(my_malloc, my_realloc, my_free); }
};

std::vector<std::pair<int, std::string>> logged;
void log_cb(int severity, const char* msg) { logged.emplace_back(severity, msg); }
struct CaptureLog {
  CaptureLog() {
    logged.clear();
    event_set_log_callback(log_cb);
  }
  ~CaptureLog() {
    event_set_log_callback(nullptr);
    event_enable_debug_logging(EVENT_DBG_NONE);
  }
  size_t debug_count() const {
    size_t n = 0;
    for (const auto& [sev, msg] : logged)
      n += sev == EVENT_LOG_DEBUG;
    return n;
  }
  bool has(int severity, const std::string& msg) const {
    for (const auto& e : logged)
      if (e.first == severity && e.second == msg)
        return true;
    return false;
  }
};

void nop_cb(evutil_socket_t, short, void*) {}

// How a child running body ended: its exit code, or 128 + signal.
template <class F>
int in_child(F body) {
  const pid_t pid = ::fork();
  BOOST_TEST_REQUIRE(pid >= 0);
  if (pid == 0) {
    ::signal(SIGABRT, SIG_DFL);
    body();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

} // namespace

BOOST_GLOBAL_FIXTURE(SetAllocator);

BOOST_FIXTURE_TEST_SUITE(mem_functions, Watchdog)

BOOST_AUTO_TEST_CASE(event_new_takes_its_event_from_the_programs_malloc) {
  Base base;
  event* ev = event_new(base, -1, 0, nop_cb, nullptr);
  BOOST_TEST_REQUIRE(ev != nullptr);
  BOOST_TEST(given_out(ev));
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(event_free_gives_the_event_back_to_the_programs_free) {
  Base base;
  event* ev = event_new(base, -1, 0, nop_cb, nullptr);
  BOOST_TEST_REQUIRE(given_out(ev));
  event_free(ev);
  BOOST_TEST(!given_out(ev));
}

BOOST_AUTO_TEST_CASE(an_evbuffer_readln_line_is_the_programs_to_free_with_its_free) {
  evbuffer* buf = evbuffer_new();
  evbuffer_add(buf, "one\ntwo\n", 8);
  size_t n = 0;
  char* line = evbuffer_readln(buf, &n, EVBUFFER_EOL_LF);
  BOOST_TEST_REQUIRE(line != nullptr);
  BOOST_TEST(std::string(line) == "one");
  BOOST_TEST(given_out(line));
  const unsigned long before = blocks().foreign_frees;
  my_free(line);
  BOOST_TEST(blocks().foreign_frees == before);
  evbuffer_free(buf);
}

BOOST_AUTO_TEST_CASE(an_evbuffer_readline_line_comes_from_the_programs_malloc) {
  evbuffer* buf = evbuffer_new();
  evbuffer_add(buf, "one\r\n", 5);
  char* line = evbuffer_readline(buf);
  BOOST_TEST_REQUIRE(line != nullptr);
  BOOST_TEST(given_out(line));
  my_free(line);
  evbuffer_free(buf);
}

BOOST_AUTO_TEST_CASE(the_library_never_frees_a_block_the_allocator_did_not_give) {
  const unsigned long before = blocks().foreign_frees;
  {
    Base base;
    event* ev = event_new(base, -1, EV_PERSIST, nop_cb, nullptr);
    const timeval tv = ms_tv(1);
    event_add(ev, &tv);
    event_base_loop(base, EVLOOP_ONCE);
    event_free(ev);
  }
  BOOST_TEST(blocks().foreign_frees == before);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(debug_logging, Watchdog)

BOOST_AUTO_TEST_CASE(with_all_debug_logging_an_empty_loop_says_so_at_debug_level) {
  CaptureLog capture;
  event_enable_debug_logging(EVENT_DBG_ALL);
  Base base;
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(capture.has(EVENT_LOG_DEBUG, "event_base_loop: no events registered."));
}

BOOST_AUTO_TEST_CASE(with_all_debug_logging_a_loop_told_to_exit_says_so) {
  CaptureLog capture;
  event_enable_debug_logging(EVENT_DBG_ALL);
  Base base;
  event* ev = event_new(base, -1, EV_PERSIST, nop_cb, nullptr);
  const timeval tv = ms_tv(10000);
  event_add(ev, &tv);
  const timeval soon = ms_tv(1);
  event_base_loopexit(base, &soon);
  BOOST_TEST(event_base_dispatch(base) == 0);
  event_free(ev);
  BOOST_TEST(capture.has(EVENT_LOG_DEBUG, "event_base_loop: asked to terminate loop."));
}

BOOST_AUTO_TEST_CASE(by_default_no_debug_message_is_logged) {
  CaptureLog capture;
  Base base;
  event* ev = event_new(base, -1, 0, nop_cb, nullptr);
  const timeval tv = ms_tv(1);
  event_add(ev, &tv);
  event_base_dispatch(base);
  event_base_dispatch(base);
  event_free(ev);
  BOOST_TEST(capture.debug_count() == 0u);
}

BOOST_AUTO_TEST_CASE(debug_logging_set_back_to_none_logs_nothing) {
  CaptureLog capture;
  event_enable_debug_logging(EVENT_DBG_ALL);
  event_enable_debug_logging(EVENT_DBG_NONE);
  Base base;
  event_base_dispatch(base);
  BOOST_TEST(capture.debug_count() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(fatal_and_shutdown, Watchdog)

int fatal_err = 0;
void exit_with_code(int err) { ::_exit(err == 1 ? 61 : 62); }

// A fatal error the program can cause: debug mode asked for too late.
BOOST_AUTO_TEST_CASE(a_fatal_error_calls_the_fatal_callback_with_its_code) {
  const int code = in_child([] {
    event_set_fatal_callback(exit_with_code);
    event_base* base = event_base_new();
    event_enable_debug_mode();
    event_base_free(base);
  });
  BOOST_TEST(code == 61);
}

BOOST_AUTO_TEST_CASE(a_fatal_error_without_a_callback_exits_with_its_code) {
  const int code = in_child([] {
    event_set_log_callback(nullptr);
    event_base* base = event_base_new();
    event_enable_debug_mode();
    event_base_free(base);
  });
  BOOST_TEST(code == 1);
}

BOOST_AUTO_TEST_CASE(a_fatal_callback_that_returns_still_ends_the_process) {
  const int code = in_child([] {
    event_set_fatal_callback([](int err) { fatal_err = err; });
    event_base* base = event_base_new();
    event_enable_debug_mode();
    event_base_free(base);
  });
  BOOST_TEST(code == 1);
}

BOOST_AUTO_TEST_CASE(libevent_global_shutdown_twice_is_safe) {
  const int code = in_child([] {
    event_base* base = event_base_new();
    event_base_free(base);
    libevent_global_shutdown();
    libevent_global_shutdown();
  });
  BOOST_TEST(code == 0);
}

BOOST_AUTO_TEST_SUITE_END()

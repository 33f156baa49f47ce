// event2/buffer_compat.h and event2/bufferevent_compat.h: libevent's 1.x
// evbuffer and bufferevent API, with libevent 2.1.12's semantics. Builds
// against real libevent too (system headers, -levent), where every
// expectation was checked.
#define BOOST_TEST_MODULE buffer_compat
#include <boost/test/unit_test.hpp>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
// libevent 2.1.12's buffer_compat.h and bufferevent_compat.h lack extern "C"
// (evasio's have it): the wrapper lets this file link against both.
extern "C" {
#include <event2/buffer_compat.h>
#include <event2/bufferevent_compat.h>
}
#include <event2/event.h>
#include <event2/event_compat.h>

#include "fixtures.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace {

struct buffer_fixture {
  buffer_fixture() : buf(evbuffer_new()) { BOOST_REQUIRE(buf); }
  ~buffer_fixture() { evbuffer_free(buf); }
  void add(const char* s) { BOOST_REQUIRE_EQUAL(evbuffer_add(buf, s, std::strlen(s)), 0); }
  evbuffer* buf;
};

std::string take_line(evbuffer* b) {
  char* line = evbuffer_readline(b);
  if (!line)
    return "<null>";
  std::string s(line);
  std::free(line);
  return s;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(buffer_compat, buffer_fixture)

BOOST_AUTO_TEST_CASE(evbuffer_readline_takes_lines_ending_in_any_run_of_cr_and_lf) {
  add("one\r\n\r\ntwo\nthree\rfour");
  BOOST_CHECK_EQUAL(take_line(buf), "one");
  BOOST_CHECK_EQUAL(take_line(buf), "two");
  BOOST_CHECK_EQUAL(take_line(buf), "three");
  BOOST_CHECK_EQUAL(take_line(buf), "<null>");  // no end yet
  BOOST_CHECK_EQUAL(EVBUFFER_LENGTH(buf), 4u);
}

BOOST_AUTO_TEST_CASE(evbuffer_find_points_at_the_match_in_contiguous_data) {
  add("hello ");
  add("wor");
  add("ld!");
  const unsigned char* at = evbuffer_find(buf, reinterpret_cast<const unsigned char*>("world"), 5);
  BOOST_REQUIRE(at != nullptr);
  BOOST_CHECK_EQUAL(std::string(reinterpret_cast<const char*>(at), 5), "world");
  BOOST_CHECK(at == EVBUFFER_DATA(buf) + 6);
  BOOST_CHECK_EQUAL(EVBUFFER_LENGTH(buf), 12u);  // nothing taken
}

BOOST_AUTO_TEST_CASE(evbuffer_find_of_absent_bytes_is_null) {
  add("hello");
  BOOST_CHECK(evbuffer_find(buf, reinterpret_cast<const unsigned char*>("xyz"), 3) == nullptr);
}

BOOST_AUTO_TEST_CASE(evbuffer_compat_macros_are_length_and_pulled_up_data) {
  add("abc");
  add("def");
  BOOST_CHECK_EQUAL(EVBUFFER_LENGTH(buf), 6u);
  BOOST_CHECK_EQUAL(std::string(reinterpret_cast<const char*>(EVBUFFER_DATA(buf)), 6), "abcdef");
}

// ---- evbuffer_setcb: one callback told each length change ------------------

struct length_log {
  std::string text;
  evbuffer* drain_on_add = nullptr;  // the callback empties this buffer when it grows
};

void log_length(evbuffer* b, size_t old_len, size_t new_len, void* arg) {
  auto* log = static_cast<length_log*>(arg);
  log->text += std::to_string(old_len) + ">" + std::to_string(new_len) + " ";
  if (log->drain_on_add == b && new_len > old_len)
    evbuffer_drain(b, new_len);
}

BOOST_AUTO_TEST_CASE(evbuffer_setcb_reports_each_change_with_the_old_and_new_length) {
  length_log log;
  BOOST_TEST(evbuffer_setcb(buf, log_length, &log) == 0);
  add("hello");
  evbuffer_drain(buf, 2);
  char out[8];
  BOOST_TEST(evbuffer_remove(buf, out, sizeof out) == 3);
  BOOST_TEST(log.text == "0>5 5>3 3>0 ");
}

BOOST_AUTO_TEST_CASE(evbuffer_setcb_counts_from_the_length_when_it_was_set) {
  add("abc");
  length_log log;
  evbuffer_setcb(buf, log_length, &log);
  add("de");
  BOOST_TEST(log.text == "3>5 ");
}

BOOST_AUTO_TEST_CASE(evbuffer_setcb_is_told_moves_on_both_buffers) {
  evbuffer* other = evbuffer_new();
  length_log here, there;
  evbuffer_setcb(buf, log_length, &here);
  evbuffer_setcb(other, log_length, &there);
  add("0123456789");
  BOOST_TEST(evbuffer_remove_buffer(buf, other, 4) == 4);
  BOOST_TEST(evbuffer_add_buffer(other, buf) == 0);
  BOOST_TEST(here.text == "0>10 10>6 6>0 ");
  BOOST_TEST(there.text == "0>4 4>10 ");
  evbuffer_free(other);
}

BOOST_AUTO_TEST_CASE(a_later_evbuffer_setcb_replaces_the_callback_and_null_removes_it) {
  length_log first, second;
  evbuffer_setcb(buf, log_length, &first);
  add("a");
  evbuffer_setcb(buf, log_length, &second);
  add("b");
  evbuffer_setcb(buf, nullptr, nullptr);
  add("c");
  BOOST_TEST(first.text == "0>1 ");
  BOOST_TEST(second.text == "1>2 ");
}

BOOST_AUTO_TEST_CASE(an_evbuffer_setcb_callback_may_change_the_buffer) {
  length_log log;
  log.drain_on_add = buf;
  evbuffer_setcb(buf, log_length, &log);
  add("xyz");
  BOOST_TEST(evbuffer_get_length(buf) == 0u);
  BOOST_TEST(log.text == "0>3 3>0 ");
}

BOOST_AUTO_TEST_CASE(evbuffer_setcb_is_told_bytes_read_from_an_fd) {
  length_log log;
  evbuffer_setcb(buf, log_length, &log);
  int p[2];
  BOOST_REQUIRE(::pipe(p) == 0);
  BOOST_REQUIRE(::write(p[1], "fd", 2) == 2);
  BOOST_TEST(evbuffer_read(buf, p[0], -1) == 2);
  BOOST_TEST(evbuffer_write(buf, p[1]) == 2);
  ::close(p[0]);
  ::close(p[1]);
  BOOST_TEST(log.text == "0>2 2>0 ");
}

#ifdef EVASIO_VERSION
// Intended difference: libevent's evbuffer_setcb also removes the
// bufferevent's own output callback, and the output is never written.
BOOST_AUTO_TEST_CASE(a_bufferevent_with_evbuffer_setcb_on_its_output_still_writes) {
  int sv[2];
  BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
  event_base* base = event_base_new();
  bufferevent* bev = bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE);
  length_log log;
  evbuffer_setcb(bufferevent_get_output(bev), log_length, &log);
  BOOST_TEST(bufferevent_write(bev, "out", 3) == 0);
  std::string got;
  for (int i = 0; i < 50 && got.size() < 3; ++i) {
    event_base_loop(base, EVLOOP_NONBLOCK);
    char tmp[8];
    const ssize_t n = ::read(sv[1], tmp, sizeof tmp);
    if (n > 0)
      got.append(tmp, size_t(n));
    else
      ::usleep(1000);
  }
  BOOST_TEST(got == "out");
  BOOST_TEST(log.text == "0>3 3>0 ");
  bufferevent_free(bev);
  event_base_free(base);
  ::close(sv[1]);
}
#endif

BOOST_AUTO_TEST_SUITE_END()

namespace {

struct echo_state {
  std::string got;
  short events = 0;
};

void compat_read_cb(struct bufferevent* bev, void* arg) {
  auto* st = static_cast<echo_state*>(arg);
  evbuffer* in = EVBUFFER_INPUT(bev);
  st->got.append(reinterpret_cast<const char*>(EVBUFFER_DATA(in)), EVBUFFER_LENGTH(in));
  evbuffer_drain(in, EVBUFFER_LENGTH(in));
  if (st->got == "ping")
    bufferevent_write(bev, "pong", 4);
}

void compat_write_cb(struct bufferevent*, void*) {}

void compat_error_cb(struct bufferevent*, short what, void* arg) {
  static_cast<echo_state*>(arg)->events = what;
  event_loopbreak();
}

// A current base from event_init() and a socketpair: own (for bufferevent_new)
// and peer.
struct compat_pair {
  compat_pair() : alarm(30, nettest::current_test_name()), base(event_init()) {
    BOOST_REQUIRE(base);
    int sv[2];
    BOOST_REQUIRE_EQUAL(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    own.reset(sv[0]);
    peer.reset(sv[1]);
  }
  ~compat_pair() {
    own.reset();
    event_base_free(base);
  }
  nettest::SafetyAlarm alarm;
  event_base* base;
  nettest::Fd own, peer;
};

} // namespace

BOOST_FIXTURE_TEST_CASE(bufferevent_new_works_on_the_current_base_with_the_1x_names, compat_pair) {
  echo_state st;
  bufferevent* bev = bufferevent_new(own.get(), compat_read_cb, compat_write_cb, compat_error_cb, &st);
  BOOST_REQUIRE(bev);
  BOOST_REQUIRE_EQUAL(bufferevent_enable(bev, EV_READ | EV_WRITE), 0);
  BOOST_REQUIRE_EQUAL(::write(peer.get(), "ping", 4), 4);
  char reply[4];
  size_t n = 0;
  while (n < 4) {
    BOOST_REQUIRE_EQUAL(event_loop(EVLOOP_ONCE), 0);
    const ssize_t r = ::recv(peer.get(), reply + n, 4 - n, MSG_DONTWAIT);
    if (r > 0)
      n += static_cast<size_t>(r);
  }
  BOOST_CHECK_EQUAL(std::string(reply, 4), "pong");
  peer.reset();  // EOF: the error callback with the 1.x names
  BOOST_CHECK_EQUAL(event_dispatch(), 0);
  BOOST_CHECK_EQUAL(st.events, EVBUFFER_READ | EVBUFFER_EOF);
  bufferevent_free(bev);
}

namespace {
void timeout_error_cb(struct bufferevent*, short what, void* arg) {
  *static_cast<short*>(arg) = what;
}
} // namespace

BOOST_FIXTURE_TEST_CASE(bufferevent_settimeout_in_seconds_reports_a_read_timeout, compat_pair) {
  short what = 0;
  bufferevent* bev = bufferevent_new(own.get(), nullptr, nullptr, timeout_error_cb, &what);
  BOOST_REQUIRE(bev);
  bufferevent_settimeout(bev, 1, 0);
  BOOST_REQUIRE_EQUAL(bufferevent_enable(bev, EV_READ), 0);
  BOOST_CHECK_EQUAL(event_dispatch(), 1);  // the timeout disables reading: nothing left
  BOOST_CHECK_EQUAL(what, EVBUFFER_READ | EVBUFFER_TIMEOUT);
  bufferevent_free(bev);
}

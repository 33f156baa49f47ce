// bufferevent_filter_new, bufferevent_get_underlying and bufferevent_flush
// on filters (event2/bufferevent.h), with libevent 2.1.12's rules: a filter
// takes its underlying bufferevent's callbacks, filters in what it reads
// only while reading, filters out what is written to it, passes events on.
// Builds against real libevent too, which is how every case was checked.
#define BOOST_TEST_MODULE bufferevent_filter
#include <boost/test/unit_test.hpp>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "fixtures.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <string>
#include <atomic>
#include <chrono>
#include <thread>
#include <event2/thread.h>

namespace {

using nettest::socket_pair;

struct seen_t {
  int reads = 0, writes = 0, events = 0;
  short what = 0;
  std::string got;
  event_base* exit_base = nullptr;
  size_t exit_at = 1;
};

void on_read(bufferevent* bev, void* arg) {
  auto* s = static_cast<seen_t*>(arg);
  ++s->reads;
  char buf[4096];
  size_t n;
  while ((n = bufferevent_read(bev, buf, sizeof buf)) > 0)
    s->got.append(buf, n);
  if (s->exit_base && s->got.size() >= s->exit_at)
    event_base_loopexit(s->exit_base, nullptr);
}
void on_write(bufferevent*, void* arg) { ++static_cast<seen_t*>(arg)->writes; }
void on_event(bufferevent* bev, short what, void* arg) {
  auto* s = static_cast<seen_t*>(arg);
  ++s->events;
  s->what = what;
  if (s->exit_base)
    event_base_loopexit(s->exit_base, nullptr);
  (void)bev;
}

// Filters: upper-case everything; count calls and the modes seen.
struct filter_log {
  int calls = 0;
  int flush_calls = 0;
  int finished_calls = 0;
  ev_ssize_t last_limit = 0;
  bool need_more = false;  // answer BEV_NEED_MORE, moving nothing
  int freed = 0;
};

bufferevent_filter_result upper(evbuffer* src, evbuffer* dst, ev_ssize_t limit,
                                bufferevent_flush_mode mode, void* ctx) {
  auto* log = static_cast<filter_log*>(ctx);
  ++log->calls;
  log->last_limit = limit;
  if (mode == BEV_FLUSH)
    ++log->flush_calls;
  if (mode == BEV_FINISHED)
    ++log->finished_calls;
  if (log->need_more)
    return BEV_NEED_MORE;
  size_t n = evbuffer_get_length(src);
  if (limit >= 0 && static_cast<size_t>(limit) < n)
    n = static_cast<size_t>(limit);
  if (n == 0)
    return BEV_NEED_MORE;
  std::string s(n, '\0');
  evbuffer_remove(src, &s[0], n);
  for (char& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  evbuffer_add(dst, s.data(), s.size());
  return BEV_OK;
}

void free_log(void* ctx) { ++static_cast<filter_log*>(ctx)->freed; }

std::string read_peer(int fd, size_t want) {
  std::string got;
  char buf[4096];
  while (got.size() < want) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0)
      break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

struct fixture : nettest::AlarmedBase<20> {
  socket_pair sp;
  bufferevent* under = nullptr;
  bufferevent* filt = nullptr;
  seen_t seen;
  filter_log log;
  fixture() {
    under = bufferevent_socket_new(base, sp.a.get(), 0);
    BOOST_TEST_REQUIRE(under != nullptr);
  }
  ~fixture() {
    if (filt)
      bufferevent_free(filt);
    if (under)
      bufferevent_free(under);
  }
  void make(bufferevent_filter_cb in, bufferevent_filter_cb out, int options = 0) {
    filt = bufferevent_filter_new(under, in, out, options, free_log, &log);
    BOOST_TEST_REQUIRE(filt != nullptr);
    bufferevent_setcb(filt, on_read, on_write, on_event, &seen);
  }
  void free_filter() {
    bufferevent_free(filt);
    filt = nullptr;
  }
  void peer_write(const std::string& s) {
    BOOST_TEST_REQUIRE(::write(sp.b.get(), s.data(), s.size()) == static_cast<ssize_t>(s.size()));
  }
  void run_for(long ms) {
    const timeval tv = nettest::ms_tv(ms);
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(filter, fixture)

BOOST_AUTO_TEST_CASE(a_filter_needs_an_underlying_bufferevent) {
  BOOST_TEST(bufferevent_filter_new(nullptr, nullptr, nullptr, 0, nullptr, nullptr) == nullptr);
}

BOOST_AUTO_TEST_CASE(the_underlying_bufferevent_and_its_fd_are_the_filters) {
  make(nullptr, nullptr);
  BOOST_TEST(bufferevent_get_underlying(filt) == under);
  BOOST_TEST(bufferevent_getfd(filt) == sp.a.get());
  BOOST_TEST(bufferevent_get_base(filt) == base);
  BOOST_TEST(bufferevent_get_underlying(under) == nullptr);
}

BOOST_AUTO_TEST_CASE(the_filter_takes_the_underlying_callbacks_and_enables_it) {
  make(nullptr, nullptr);
  bufferevent_data_cb r = nullptr, w = nullptr;
  bufferevent_event_cb e = nullptr;
  void* arg = nullptr;
  bufferevent_getcb(under, &r, &w, &e, &arg);
  BOOST_TEST((r != nullptr && w != nullptr && e != nullptr));
  BOOST_TEST(arg == static_cast<void*>(filt));
  BOOST_TEST(bufferevent_get_enabled(under) == (EV_READ | EV_WRITE));
  BOOST_TEST(bufferevent_get_enabled(filt) == EV_WRITE);
}

BOOST_AUTO_TEST_CASE(written_bytes_go_out_through_the_output_filter) {
  make(nullptr, upper);
  BOOST_TEST(bufferevent_write(filt, "hello", 5) == 0);
  run_for(50);
  BOOST_TEST(read_peer(sp.b.get(), 5) == "HELLO");
  BOOST_TEST(seen.writes >= 1);
}

BOOST_AUTO_TEST_CASE(read_bytes_come_in_through_the_input_filter) {
  make(upper, nullptr);
  bufferevent_enable(filt, EV_READ);
  seen.exit_base = base;
  seen.exit_at = 5;
  peer_write("world");
  event_base_dispatch(base);
  BOOST_TEST(seen.got == "WORLD");
}

BOOST_AUTO_TEST_CASE(null_filters_pass_the_bytes_unchanged_both_ways) {
  make(nullptr, nullptr);
  bufferevent_enable(filt, EV_READ);
  bufferevent_write(filt, "Out", 3);
  seen.exit_base = base;
  seen.exit_at = 2;
  peer_write("In");
  event_base_dispatch(base);
  BOOST_TEST(seen.got == "In");
  BOOST_TEST(read_peer(sp.b.get(), 3) == "Out");
}

BOOST_AUTO_TEST_CASE(the_underlying_bufferevent_reads_nothing_until_the_filter_reads) {
  make(upper, nullptr);
  peer_write("wait");
  run_for(50);
  BOOST_TEST(evbuffer_get_length(bufferevent_get_input(under)) == 0u);
  BOOST_TEST(seen.reads == 0);
  bufferevent_enable(filt, EV_READ);
  seen.exit_base = base;
  seen.exit_at = 4;
  event_base_dispatch(base);
  BOOST_TEST(seen.got == "WAIT");
}

BOOST_AUTO_TEST_CASE(an_input_filter_that_needs_more_produces_no_read_callback) {
  make(upper, nullptr);
  log.need_more = true;
  bufferevent_enable(filt, EV_READ);
  peer_write("partial");
  run_for(50);
  BOOST_TEST(log.calls >= 1);
  BOOST_TEST(seen.reads == 0);
}

BOOST_AUTO_TEST_CASE(the_input_filter_is_limited_to_the_room_under_the_high_watermark) {
  make(upper, nullptr);
  bufferevent_setwatermark(filt, EV_READ, 0, 10);
  bufferevent_setcb(filt, nullptr, nullptr, nullptr, nullptr);  // let it fill
  bufferevent_enable(filt, EV_READ);
  peer_write("abcdefghijklmnop");
  run_for(50);
  BOOST_TEST(evbuffer_get_length(bufferevent_get_input(filt)) == 10u);
  BOOST_TEST(evbuffer_get_length(bufferevent_get_input(under)) == 6u);
  // Draining below the mark brings in the rest.
  char buf[10];
  BOOST_TEST(bufferevent_read(filt, buf, sizeof buf) == 10u);
  BOOST_TEST(evbuffer_get_length(bufferevent_get_input(filt)) == 6u);
}

BOOST_AUTO_TEST_CASE(underlying_events_pass_on_to_the_filters_event_callback) {
  make(nullptr, nullptr);
  bufferevent_enable(filt, EV_READ);
  seen.exit_base = base;
  sp.b.reset();  // the peer closes
  event_base_dispatch(base);
  BOOST_TEST(seen.events == 1);
  BOOST_TEST(seen.what == (BEV_EVENT_READING | BEV_EVENT_EOF));
}

BOOST_AUTO_TEST_CASE(flush_urges_the_output_filter_and_says_whether_it_produced) {
  make(nullptr, upper);
  bufferevent_disable(filt, EV_WRITE);
  bufferevent_write(filt, "late", 4);
  BOOST_TEST(log.calls == 0);  // not writing: not filtered
  BOOST_TEST(bufferevent_flush(filt, EV_WRITE, BEV_FLUSH) == 1);
  BOOST_TEST(log.flush_calls >= 1);
  BOOST_TEST(evbuffer_get_length(bufferevent_get_output(filt)) == 0u);
  BOOST_TEST(bufferevent_flush(filt, EV_WRITE, BEV_NORMAL) == 0);  // nothing left, not writing
}

BOOST_AUTO_TEST_CASE(flush_finished_tells_the_filter_the_stream_ends) {
  make(nullptr, upper);
  bufferevent_flush(filt, EV_WRITE, BEV_FINISHED);
  BOOST_TEST(log.finished_calls == 1);
}

BOOST_AUTO_TEST_CASE(freeing_the_filter_gives_the_underlying_bufferevent_back) {
  make(upper, nullptr);
  free_filter();
  bufferevent_data_cb r = nullptr, w = nullptr;
  bufferevent_event_cb e = nullptr;
  bufferevent_getcb(under, &r, &w, &e, nullptr);
  BOOST_TEST((r == nullptr && w == nullptr && e == nullptr));
  // It reads again, unfiltered.
  bufferevent_setcb(under, on_read, nullptr, on_event, &seen);
  seen.exit_base = base;
  seen.exit_at = 3;
  peer_write("raw");
  event_base_dispatch(base);
  BOOST_TEST(seen.got == "raw");
}

BOOST_AUTO_TEST_CASE(the_context_is_freed_on_the_loops_next_pass_not_inside_free) {
  make(upper, nullptr);
  free_filter();
  BOOST_TEST(log.freed == 0);
  event_base_loop(base, EVLOOP_NONBLOCK);
  BOOST_TEST(log.freed == 1);
}

BOOST_AUTO_TEST_CASE(the_context_is_freed_when_the_base_goes_before_a_loop_pass) {
  event_base* b = event_base_new();
  bufferevent* s = bufferevent_socket_new(b, -1, 0);
  bufferevent* f = bufferevent_filter_new(s, nullptr, nullptr, BEV_OPT_CLOSE_ON_FREE, free_log, &log);
  bufferevent_free(f);
  event_base_free(b);
  BOOST_TEST(log.freed == 1);
}

BOOST_AUTO_TEST_CASE(the_context_is_freed_once_with_the_filter) {
  make(upper, nullptr);
  free_filter();
  run_for(10);
  BOOST_TEST(log.freed == 1);
}

BOOST_AUTO_TEST_CASE(close_on_free_frees_the_underlying_bufferevent_and_its_socket) {
  bufferevent_free(under);
  const int fd = sp.a.release();
  under = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
  make(nullptr, nullptr, BEV_OPT_CLOSE_ON_FREE);
  under = nullptr;  // the filter owns it now
  free_filter();
  run_for(10);
  BOOST_TEST(::fcntl(fd, F_GETFD) == -1);
}

BOOST_AUTO_TEST_CASE(a_read_timeout_fires_on_the_filter_when_nothing_comes) {
  make(nullptr, nullptr);
  const timeval rd = nettest::ms_tv(50);
  bufferevent_set_timeouts(filt, &rd, nullptr);
  bufferevent_enable(filt, EV_READ);
  seen.exit_base = base;
  event_base_dispatch(base);
  BOOST_TEST(seen.events == 1);
  BOOST_TEST(seen.what == (BEV_EVENT_READING | BEV_EVENT_TIMEOUT));
}

// libevent's generic timeouts: enabling writing starts the write timeout
// whether or not there is output (regress_bufferevent.c's timeouts case).
BOOST_AUTO_TEST_CASE(enabling_writing_starts_the_write_timeout_even_with_no_output) {
  make(nullptr, nullptr);
  const timeval wr = nettest::ms_tv(50);
  bufferevent_set_timeouts(filt, nullptr, &wr);
  bufferevent_enable(filt, EV_WRITE);
  seen.exit_base = base;
  event_base_dispatch(base);
  BOOST_TEST(seen.events == 1);
  BOOST_TEST(seen.what == (BEV_EVENT_WRITING | BEV_EVENT_TIMEOUT));
}

BOOST_AUTO_TEST_CASE(a_filter_works_over_a_bufferevent_pair) {
  bufferevent* p[2];
  BOOST_TEST_REQUIRE(bufferevent_pair_new(base, 0, p) == 0);
  bufferevent* f = bufferevent_filter_new(p[0], nullptr, upper, BEV_OPT_CLOSE_ON_FREE, nullptr, &log);
  BOOST_TEST_REQUIRE(f != nullptr);
  seen_t other;
  other.exit_base = base;
  other.exit_at = 4;
  bufferevent_setcb(p[1], on_read, nullptr, nullptr, &other);
  bufferevent_enable(p[1], EV_READ);
  bufferevent_write(f, "pair", 4);
  event_base_dispatch(base);
  BOOST_TEST(other.got == "PAIR");
  bufferevent_free(f);
  bufferevent_free(p[1]);
}

BOOST_AUTO_TEST_CASE(a_filter_can_stack_on_a_filter) {
  make(nullptr, upper);
  filter_log outer_log;
  bufferevent* outer = bufferevent_filter_new(filt, nullptr, upper, 0, nullptr, &outer_log);
  BOOST_TEST_REQUIRE(outer != nullptr);
  bufferevent_write(outer, "deep", 4);
  run_for(50);
  BOOST_TEST(read_peer(sp.b.get(), 4) == "DEEP");
  BOOST_TEST(outer_log.calls >= 1);
  BOOST_TEST(log.calls >= 1);
  bufferevent_free(outer);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {
struct threads_fixture : nettest::UsePthreads, nettest::AlarmedBase<30> {};
} // namespace

BOOST_FIXTURE_TEST_SUITE(threadsafe_filter, threads_fixture)

// evasio only: libevent 2.1.12 gives the filter a lock of its own, and a
// writer thread (filter lock, then the socket's) deadlocks against the
// loop's write callback (socket lock, then the filter's). See the README.
#ifdef EVASIO_VERSION
BOOST_AUTO_TEST_CASE(a_writer_thread_through_a_threadsafe_filter_loses_no_byte) {
  socket_pair sp;
  bufferevent* s = bufferevent_socket_new(base, sp.a.get(), BEV_OPT_THREADSAFE);
  filter_log log;
  bufferevent* f = bufferevent_filter_new(s, nullptr, upper, BEV_OPT_THREADSAFE | BEV_OPT_CLOSE_ON_FREE,
                                          nullptr, &log);
  BOOST_TEST_REQUIRE(f != nullptr);
  std::string expect;
  for (int i = 0; i < 8000; ++i) {
    char chunk[9];
    std::snprintf(chunk, sizeof chunk, "x%07d", i);
    expect.append(chunk, 8);
  }
  std::string upper_expect = expect;
  for (char& c : upper_expect)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::thread writer([&] {
    for (size_t off = 0; off < expect.size(); off += 8)
      bufferevent_write(f, expect.data() + off, 8);
  });
  std::string got;
  std::thread loop([&] {
    // Runs until the filter is freed below (its socket's events keep it going).
    event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
  });
  got = read_peer(sp.b.get(), upper_expect.size());
  writer.join();
  event_base_loopbreak(base);
  loop.join();
  BOOST_TEST((got == upper_expect));
  bufferevent_free(f);
  sp.a.release();  // closed with the socket bufferevent
}
#endif

// evasio only, as above: the filter's lock is its underlying one's.
#ifdef EVASIO_VERSION
BOOST_AUTO_TEST_CASE(a_threadsafe_filter_locks_with_its_underlying_bufferevent) {
  socket_pair sp;
  bufferevent* s = bufferevent_socket_new(base, sp.a.get(), BEV_OPT_THREADSAFE);
  bufferevent* f = bufferevent_filter_new(s, nullptr, nullptr, BEV_OPT_THREADSAFE, nullptr, nullptr);
  BOOST_TEST_REQUIRE(f != nullptr);
  bufferevent_lock(f);
  std::atomic<bool> got{false};
  std::thread t([&] {
    bufferevent_lock(s);  // blocks while the filter is locked
    got = true;
    bufferevent_unlock(s);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  BOOST_TEST(!got.load());
  bufferevent_unlock(f);
  t.join();
  BOOST_TEST(got.load());
  bufferevent_free(f);
  bufferevent_free(s);
}
#endif

BOOST_AUTO_TEST_SUITE_END()

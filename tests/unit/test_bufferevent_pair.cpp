// bufferevent_pair_new and bufferevent_pair_get_partner (event2/bufferevent.h):
// two in-process bufferevents, each one's output the other's input, with
// libevent 2.1.12's transfer, watermark, flush, timeout and free rules.
// Builds against real libevent too, which is how every case was checked.
#define BOOST_TEST_MODULE bufferevent_pair
#include <boost/test/unit_test.hpp>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_compat.h>
#include <event2/thread.h>

#include "fixtures.hpp"

#include <atomic>
#include <string>
#include <thread>

namespace {

struct seen_t {
  int reads = 0, writes = 0, events = 0;
  short what = 0;
  std::string got;  // what the read callback drained, when drain is set
  bool drain = false;
  event_base* exit_base = nullptr;  // loopexit from the read callback
  size_t exit_at = 0;               // ... once got holds this much
};

void on_read(bufferevent* bev, void* arg) {
  auto* s = static_cast<seen_t*>(arg);
  ++s->reads;
  if (s->drain) {
    char buf[4096];
    size_t n;
    while ((n = bufferevent_read(bev, buf, sizeof buf)) > 0)
      s->got.append(buf, n);
  }
  if (s->exit_base && s->got.size() >= s->exit_at)
    event_base_loopexit(s->exit_base, nullptr);
}
void on_write(bufferevent*, void* arg) { ++static_cast<seen_t*>(arg)->writes; }
void on_event(bufferevent*, short what, void* arg) {
  auto* s = static_cast<seen_t*>(arg);
  ++s->events;
  s->what = what;
}

struct fixture : nettest::AlarmedBase<20> {
  bufferevent* p[2] = {nullptr, nullptr};
  seen_t seen[2];
  explicit fixture(int options = 0) { make(options); }
  void make(int options) {
    BOOST_TEST_REQUIRE(bufferevent_pair_new(base, options, p) == 0);
    for (int i = 0; i < 2; ++i)
      bufferevent_setcb(p[i], on_read, on_write, on_event, &seen[i]);
  }
  ~fixture() {
    for (bufferevent* b : p)
      if (b)
        bufferevent_free(b);
  }
  void free_side(int i) {
    bufferevent_free(p[i]);
    p[i] = nullptr;
  }
  size_t in_len(int i) const { return evbuffer_get_length(bufferevent_get_input(p[i])); }
  size_t out_len(int i) const { return evbuffer_get_length(bufferevent_get_output(p[i])); }
  void run_once() { event_base_loop(base, EVLOOP_NONBLOCK); }
};

void write_str(bufferevent* bev, const std::string& s) {
  BOOST_TEST_REQUIRE(bufferevent_write(bev, s.data(), s.size()) == 0);
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(pair, fixture)

BOOST_AUTO_TEST_CASE(each_side_is_the_partner_of_the_other) {
  BOOST_TEST(bufferevent_pair_get_partner(p[0]) == p[1]);
  BOOST_TEST(bufferevent_pair_get_partner(p[1]) == p[0]);
}

BOOST_AUTO_TEST_CASE(a_side_has_no_fd_and_no_underlying_bufferevent) {
  BOOST_TEST(bufferevent_getfd(p[0]) == -1);
  BOOST_TEST(bufferevent_get_underlying(p[0]) == nullptr);
  BOOST_TEST(bufferevent_setfd(p[0], 0) == -1);
}

BOOST_AUTO_TEST_CASE(a_new_side_is_enabled_for_writing_only) {
  BOOST_TEST(bufferevent_get_enabled(p[0]) == EV_WRITE);
  BOOST_TEST(bufferevent_get_enabled(p[1]) == EV_WRITE);
}

BOOST_AUTO_TEST_CASE(a_socket_bufferevent_has_no_partner) {
  nettest::socket_pair sp;
  bufferevent* bev = bufferevent_socket_new(base, sp.a.get(), 0);
  BOOST_TEST(bufferevent_pair_get_partner(bev) == nullptr);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(bytes_written_on_one_side_are_at_once_in_the_reading_partners_input) {
  bufferevent_enable(p[1], EV_READ);
  write_str(p[0], "hello");
  BOOST_TEST(in_len(1) == 5u);
  BOOST_TEST(out_len(0) == 0u);
}

BOOST_AUTO_TEST_CASE(the_callbacks_of_a_transfer_are_deferred_to_the_loop) {
  bufferevent_enable(p[1], EV_READ);
  write_str(p[0], "hello");
  BOOST_TEST(seen[1].reads == 0);
  BOOST_TEST(seen[0].writes == 0);
  run_once();
  BOOST_TEST(seen[1].reads == 1);
  BOOST_TEST(seen[0].writes == 1);
}

BOOST_AUTO_TEST_CASE(bytes_wait_in_the_writers_output_until_the_partner_reads) {
  write_str(p[0], "hello");
  BOOST_TEST(out_len(0) == 5u);
  BOOST_TEST(in_len(1) == 0u);
  bufferevent_enable(p[1], EV_READ);
  BOOST_TEST(out_len(0) == 0u);
  BOOST_TEST(in_len(1) == 5u);
}

BOOST_AUTO_TEST_CASE(bytes_wait_while_the_writer_has_writing_disabled) {
  bufferevent_enable(p[1], EV_READ);
  bufferevent_disable(p[0], EV_WRITE);
  write_str(p[0], "hello");
  BOOST_TEST(in_len(1) == 0u);
  bufferevent_enable(p[0], EV_WRITE);
  BOOST_TEST(in_len(1) == 5u);
}

BOOST_AUTO_TEST_CASE(the_read_callback_waits_for_the_low_watermark) {
  bufferevent_enable(p[1], EV_READ);
  bufferevent_setwatermark(p[1], EV_READ, 8, 0);
  write_str(p[0], "hello");
  run_once();
  BOOST_TEST(seen[1].reads == 0);
  write_str(p[0], "world");
  run_once();
  BOOST_TEST(seen[1].reads == 1);
}

BOOST_AUTO_TEST_CASE(a_high_watermark_moves_only_what_fits_and_the_rest_after_a_drain) {
  bufferevent_enable(p[1], EV_READ);
  bufferevent_setwatermark(p[1], EV_READ, 0, 4);
  write_str(p[0], "0123456789");
  BOOST_TEST(in_len(1) == 4u);
  BOOST_TEST(out_len(0) == 6u);
  char buf[4];
  BOOST_TEST(bufferevent_read(p[1], buf, sizeof buf) == 4u);
  BOOST_TEST(in_len(1) == 4u);
  BOOST_TEST(out_len(0) == 2u);
}

BOOST_AUTO_TEST_CASE(the_user_may_not_add_to_an_input_nor_take_from_an_output) {
  BOOST_TEST(evbuffer_add(bufferevent_get_input(p[0]), "x", 1) == -1);
  write_str(p[0], "abc");  // partner not reading: the bytes stay
  char c;
  BOOST_TEST(evbuffer_remove(bufferevent_get_output(p[0]), &c, 1) == -1);
}

BOOST_AUTO_TEST_CASE(a_freed_side_leaves_its_partner_alone_and_untold) {
  bufferevent_enable(p[1], EV_READ);
  free_side(0);
  BOOST_TEST(bufferevent_pair_get_partner(p[1]) == nullptr);
  run_once();
  BOOST_TEST(seen[1].events == 0);
  write_str(p[1], "into nothing");  // no partner: it stays in the output
  BOOST_TEST(out_len(1) == 12u);
}

BOOST_AUTO_TEST_CASE(a_freed_side_stays_linked_while_a_reference_is_held) {
  bufferevent* a = p[0];
  p[0] = nullptr;
  bufferevent_incref(a);
  bufferevent_free(a);
  BOOST_TEST(bufferevent_pair_get_partner(p[1]) == a);
  BOOST_TEST(bufferevent_decref(a) == 1);
  BOOST_TEST(bufferevent_pair_get_partner(p[1]) == nullptr);
}

BOOST_AUTO_TEST_CASE(flush_normal_moves_nothing_and_returns_0) {
  bufferevent_setwatermark(p[1], EV_READ, 0, 2);
  bufferevent_enable(p[1], EV_READ);
  write_str(p[0], "abcdef");
  BOOST_TEST(bufferevent_flush(p[0], EV_WRITE, BEV_NORMAL) == 0);
  BOOST_TEST(in_len(1) == 2u);
}

BOOST_AUTO_TEST_CASE(flush_moves_everything_past_the_partners_high_watermark) {
  bufferevent_setwatermark(p[1], EV_READ, 0, 2);
  bufferevent_enable(p[1], EV_READ);
  write_str(p[0], "abcdef");
  BOOST_TEST(bufferevent_flush(p[0], EV_WRITE, BEV_FLUSH) == 0);
  BOOST_TEST(in_len(1) == 6u);
  BOOST_TEST(out_len(0) == 0u);
}

BOOST_AUTO_TEST_CASE(flush_of_the_read_side_pulls_from_the_partner) {
  write_str(p[0], "abc");  // p[1] not reading
  BOOST_TEST(bufferevent_flush(p[1], EV_READ, BEV_FLUSH) == 0);
  BOOST_TEST(in_len(1) == 3u);
}

BOOST_AUTO_TEST_CASE(flush_finished_tells_the_partner_eof_when_reading) {
  bufferevent_enable(p[1], EV_READ);
  BOOST_TEST(bufferevent_flush(p[0], EV_WRITE, BEV_FINISHED) == 0);
  BOOST_TEST(seen[1].events == 0);  // deferred
  event_base_loop(base, EVLOOP_ONCE);
  BOOST_TEST(seen[1].events == 1);
  BOOST_TEST(seen[1].what == (BEV_EVENT_READING | BEV_EVENT_EOF));
  BOOST_TEST(seen[0].events == 0);
}

BOOST_AUTO_TEST_CASE(flush_without_a_partner_fails) {
  free_side(1);
  BOOST_TEST(bufferevent_flush(p[0], EV_WRITE, BEV_FLUSH) == -1);
  BOOST_TEST(bufferevent_flush(p[0], EV_WRITE, BEV_NORMAL) == -1);
}

BOOST_AUTO_TEST_CASE(a_read_timeout_fires_when_nothing_arrives_and_disables_reading) {
  const timeval rd = nettest::ms_tv(50);
  nettest::stopwatch sw;  // before the timeout starts
  bufferevent_set_timeouts(p[1], &rd, nullptr);
  bufferevent_enable(p[1], EV_READ);
  event_base_dispatch(base);
  BOOST_TEST(seen[1].events == 1);
  BOOST_TEST(seen[1].what == (BEV_EVENT_READING | BEV_EVENT_TIMEOUT));
  BOOST_TEST(sw.elapsed_us() >= 50000);
  BOOST_TEST(!(bufferevent_get_enabled(p[1]) & EV_READ));
}

BOOST_AUTO_TEST_CASE(a_write_timeout_fires_while_the_output_waits_for_a_reader) {
  const timeval wr = nettest::ms_tv(50);
  bufferevent_set_timeouts(p[0], nullptr, &wr);
  write_str(p[0], "stuck");
  bufferevent_enable(p[0], EV_WRITE);
  event_base_dispatch(base);
  BOOST_TEST(seen[0].events == 1);
  BOOST_TEST(seen[0].what == (BEV_EVENT_WRITING | BEV_EVENT_TIMEOUT));
  BOOST_TEST(!(bufferevent_get_enabled(p[0]) & EV_WRITE));
}

BOOST_AUTO_TEST_CASE(no_write_timeout_without_output) {
  const timeval wr = nettest::ms_tv(30);
  bufferevent_set_timeouts(p[0], nullptr, &wr);
  bufferevent_enable(p[0], EV_WRITE);
  const timeval stop = nettest::ms_tv(120);
  event_base_loopexit(base, &stop);
  event_base_dispatch(base);
  BOOST_TEST(seen[0].events == 0);
}

BOOST_AUTO_TEST_CASE(a_side_with_nothing_pending_lets_the_loop_end) {
  bufferevent_enable(p[0], EV_READ | EV_WRITE);
  bufferevent_enable(p[1], EV_READ | EV_WRITE);
  BOOST_TEST(event_base_dispatch(base) == 1);  // no events: nothing to wait for
}

BOOST_AUTO_TEST_CASE(a_megabyte_arrives_whole_and_in_order_through_the_loop) {
  std::string data(1 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<char>(i * 7 + i / 251);
  seen[1].drain = true;
  seen[1].exit_base = base;
  seen[1].exit_at = data.size();
  bufferevent_setwatermark(p[1], EV_READ, 0, 65536);
  bufferevent_enable(p[1], EV_READ);
  write_str(p[0], data);
  event_base_dispatch(base);
  BOOST_TEST((seen[1].got == data));
}

BOOST_AUTO_TEST_CASE(free_in_the_read_callback_is_safe) {
  struct ctx {
    fixture* f;
  } c{this};
  bufferevent_setcb(
      p[1],
      [](bufferevent*, void* arg) {
        auto* f = static_cast<ctx*>(arg)->f;
        f->free_side(1);
      },
      nullptr, nullptr, &c);
  bufferevent_enable(p[1], EV_READ);
  write_str(p[0], "bye");
  event_base_loop(base, EVLOOP_NONBLOCK);
  BOOST_TEST(p[1] == nullptr);
  BOOST_TEST(bufferevent_pair_get_partner(p[0]) == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {
struct threads_fixture : nettest::UsePthreads, nettest::AlarmedBase<30> {};
} // namespace

BOOST_FIXTURE_TEST_SUITE(threadsafe_pair, threads_fixture)

BOOST_AUTO_TEST_CASE(both_sides_share_one_lock) {
  bufferevent* p[2];
  BOOST_TEST_REQUIRE(bufferevent_pair_new(base, BEV_OPT_THREADSAFE, p) == 0);
  bufferevent_lock(p[0]);
  std::atomic<bool> got{false};
  std::thread t([&] {
    bufferevent_lock(p[1]);  // blocks until the main thread lets go
    got = true;
    bufferevent_unlock(p[1]);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  BOOST_TEST(!got.load());
  bufferevent_unlock(p[0]);
  t.join();
  BOOST_TEST(got.load());
  bufferevent_free(p[0]);
  bufferevent_free(p[1]);
}

BOOST_AUTO_TEST_CASE(a_writer_thread_and_a_reading_loop_lose_no_byte) {
  bufferevent* p[2];
  BOOST_TEST_REQUIRE(bufferevent_pair_new(base, BEV_OPT_THREADSAFE, p) == 0);
  seen_t seen;
  seen.drain = true;
  seen.exit_base = base;
  const size_t total = 64 * 1000;
  seen.exit_at = total;
  bufferevent_setcb(p[1], on_read, nullptr, nullptr, &seen);
  bufferevent_enable(p[1], EV_READ);
  std::string expect;
  for (size_t i = 0; i < total / 8; ++i) {
    char chunk[9];
    std::snprintf(chunk, sizeof chunk, "%08zu", i);
    expect.append(chunk, 8);
  }
  // Pairs wait on nothing: a timer keeps the loop running meanwhile.
  event* keepalive = event_new(base, -1, EV_PERSIST, [](evutil_socket_t, short, void*) {}, nullptr);
  const timeval second = nettest::ms_tv(1000);
  event_add(keepalive, &second);
  std::thread writer([&] {
    for (size_t off = 0; off < expect.size(); off += 8)
      bufferevent_write(p[0], expect.data() + off, 8);
  });
  event_base_dispatch(base);
  event_free(keepalive);
  writer.join();
  BOOST_TEST((seen.got == expect));
  bufferevent_free(p[0]);
  bufferevent_free(p[1]);
}

// The shared lock outlives the first side freed (ASan and TSan builds
// check the frees and the lock).
BOOST_AUTO_TEST_CASE(freeing_one_side_leaves_the_other_locking_and_alone) {
  bufferevent* p[2];
  BOOST_TEST_REQUIRE(bufferevent_pair_new(base, BEV_OPT_THREADSAFE, p) == 0);
  bufferevent_free(p[0]);
  bufferevent_lock(p[1]);
  BOOST_TEST(bufferevent_pair_get_partner(p[1]) == nullptr);
  bufferevent_unlock(p[1]);
  bufferevent_free(p[1]);
}

BOOST_AUTO_TEST_SUITE_END()

// As libevent: a NULL base is the current one (event_init's), for pairs as
// for bufferevent_socket_new.
BOOST_AUTO_TEST_CASE(a_pair_on_a_null_base_lives_on_the_current_base) {
  nettest::CaseAlarm<10> alarm;
  event_base* current = event_init();
  BOOST_TEST_REQUIRE(current != nullptr);
  bufferevent* p[2];
  BOOST_TEST_REQUIRE(bufferevent_pair_new(nullptr, 0, p) == 0);
  bufferevent_enable(p[1], EV_READ);
  BOOST_TEST(bufferevent_write(p[0], "x", 1) == 0);
  BOOST_TEST(evbuffer_get_length(bufferevent_get_input(p[1])) == 1u);
  bufferevent* s = bufferevent_socket_new(nullptr, -1, 0);
  BOOST_TEST_REQUIRE(s != nullptr);
#ifdef EVASIO_VERSION
  // libevent leaves bev->ev_base NULL (its events go to the current base);
  // evasio says which base it is on (README, intended differences).
  BOOST_TEST(bufferevent_get_base(p[0]) == current);
  BOOST_TEST(bufferevent_get_base(s) == current);
#endif
  bufferevent_free(s);
  bufferevent_free(p[0]);
  bufferevent_free(p[1]);
  event_base_free(current);
}

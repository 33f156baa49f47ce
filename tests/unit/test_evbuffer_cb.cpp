// evbuffer callbacks (event2/buffer.h): evbuffer_add_cb and its list, what
// each callback is told, flags, removal while running, the 1.x
// evbuffer_setcb as one entry of the list, and evbuffer_defer_callbacks.
// Builds against real libevent too, where every expectation was checked;
// the one evasio-only case is under EVASIO_VERSION.
#define BOOST_TEST_MODULE evbuffer_callbacks
#include <boost/test/unit_test.hpp>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
// libevent 2.1.12's buffer_compat.h lacks extern "C" (evasio's has it).
extern "C" {
#include <event2/buffer_compat.h>
}

#include "buffers.hpp"
#include "fixtures.hpp"

#include <event2/thread.h>

#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>

using nettest::Buf;

namespace {

// Each call appends "name:orig+added-deleted " to the shared text.
struct logger {
  std::string* text;
  const char* name;
};

void log_info(evbuffer*, const evbuffer_cb_info* info, void* arg) {
  auto* l = static_cast<logger*>(arg);
  *l->text += std::string(l->name) + ":" + std::to_string(info->orig_size) + "+" +
              std::to_string(info->n_added) + "-" + std::to_string(info->n_deleted) + " ";
}

void log_length(evbuffer*, size_t old_len, size_t new_len, void* arg) {
  auto* l = static_cast<logger*>(arg);
  *l->text += std::string(l->name) + ":" + std::to_string(old_len) + ">" + std::to_string(new_len) + " ";
}

void add(evbuffer* b, const char* s) { BOOST_REQUIRE(evbuffer_add(b, s, std::strlen(s)) == 0); }

struct cb_case {
  nettest::SafetyAlarm alarm{30, nettest::current_test_name()};
  Buf buf;
  std::string text;
  logger a{&text, "a"}, b{&text, "b"}, c{&text, "c"};
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(evbuffer_callbacks, cb_case)

BOOST_AUTO_TEST_CASE(a_callback_is_told_the_original_size_and_the_bytes_added) {
  add(buf, "xy");
  BOOST_REQUIRE(evbuffer_add_cb(buf, log_info, &a));
  add(buf, "hello");
  BOOST_TEST(text == "a:2+5-0 ");
}

BOOST_AUTO_TEST_CASE(a_callback_is_told_the_bytes_drained) {
  add(buf, "hello");
  evbuffer_add_cb(buf, log_info, &a);
  BOOST_TEST(evbuffer_drain(buf, 3) == 0);
  char out[8];
  BOOST_TEST(evbuffer_remove(buf, out, sizeof out) == 2);
  BOOST_TEST(text == "a:5+0-3 a:2+0-2 ");
}

BOOST_AUTO_TEST_CASE(callbacks_run_newest_first) {
  evbuffer_add_cb(buf, log_info, &a);
  evbuffer_add_cb(buf, log_info, &b);
  evbuffer_add_cb(buf, log_info, &c);
  add(buf, "x");
  BOOST_TEST(text == "c:0+1-0 b:0+1-0 a:0+1-0 ");
}

BOOST_AUTO_TEST_CASE(a_change_of_nothing_calls_no_callback) {
  evbuffer_add_cb(buf, log_info, &a);
  add(buf, "");
  evbuffer_drain(buf, 10);  // empty
  BOOST_TEST(evbuffer_pullup(buf, -1) == nullptr);
  BOOST_TEST(text.empty());
}

BOOST_AUTO_TEST_CASE(pullup_calls_no_callback) {
  add(buf, "ab");
  add(buf, "cd");
  evbuffer_add_cb(buf, log_info, &a);
  BOOST_TEST(evbuffer_pullup(buf, -1) != nullptr);
  BOOST_TEST(text.empty());
}

BOOST_AUTO_TEST_CASE(a_disabled_callback_is_skipped_until_enabled_again) {
  evbuffer_cb_entry* e = evbuffer_add_cb(buf, log_info, &a);
  BOOST_TEST(evbuffer_cb_clear_flags(buf, e, EVBUFFER_CB_ENABLED) == 0);
  add(buf, "abc");
  BOOST_TEST(text.empty());
  BOOST_TEST(evbuffer_cb_set_flags(buf, e, EVBUFFER_CB_ENABLED) == 0);
  add(buf, "d");
  BOOST_TEST(text == "a:3+1-0 ");  // what happened while disabled is not kept
}

BOOST_AUTO_TEST_CASE(evbuffer_remove_cb_removes_the_callback_with_that_function_and_argument) {
  evbuffer_add_cb(buf, log_info, &a);
  evbuffer_add_cb(buf, log_info, &b);
  BOOST_TEST(evbuffer_remove_cb(buf, log_info, &a) == 0);
  BOOST_TEST(evbuffer_remove_cb(buf, log_info, &a) == -1);
  add(buf, "x");
  BOOST_TEST(text == "b:0+1-0 ");
}

BOOST_AUTO_TEST_CASE(evbuffer_remove_cb_entry_removes_that_entry) {
  evbuffer_cb_entry* ea = evbuffer_add_cb(buf, log_info, &a);
  evbuffer_add_cb(buf, log_info, &b);
  BOOST_TEST(evbuffer_remove_cb_entry(buf, ea) == 0);
  add(buf, "x");
  BOOST_TEST(text == "b:0+1-0 ");
}

namespace {
struct self_remover {
  std::string* text;
  evbuffer_cb_entry* me = nullptr;
};
void remove_myself(evbuffer* b, const evbuffer_cb_info*, void* arg) {
  auto* s = static_cast<self_remover*>(arg);
  *s->text += "once ";
  evbuffer_remove_cb_entry(b, s->me);
}
} // namespace

BOOST_AUTO_TEST_CASE(a_callback_may_remove_itself_while_running) {
  evbuffer_add_cb(buf, log_info, &a);  // older: runs after the remover
  self_remover s{&text};
  s.me = evbuffer_add_cb(buf, remove_myself, &s);
  add(buf, "x");
  add(buf, "y");
  BOOST_TEST(text == "once a:0+1-0 a:1+1-0 ");
}

#ifdef EVASIO_VERSION
// libevent's header forbids removing another callback from a callback (its
// list walk would read the freed entry); evasio allows it.
namespace {
struct other_remover {
  evbuffer_cb_entry* victim = nullptr;
};
void remove_other(evbuffer* b, const evbuffer_cb_info*, void* arg) {
  auto* r = static_cast<other_remover*>(arg);
  if (r->victim)
    BOOST_TEST(evbuffer_remove_cb_entry(b, r->victim) == 0);
  r->victim = nullptr;
}
} // namespace

BOOST_AUTO_TEST_CASE(a_null_callback_or_another_buffers_entry_is_refused) {
  errno = 0;
  BOOST_TEST(evbuffer_add_cb(buf, nullptr, nullptr) == nullptr);
  BOOST_TEST(errno == EINVAL);
  Buf other;
  evbuffer_cb_entry* theirs = evbuffer_add_cb(other, log_info, &a);
  BOOST_TEST(evbuffer_remove_cb_entry(buf, theirs) == -1);
  BOOST_TEST(evbuffer_cb_clear_flags(buf, theirs, EVBUFFER_CB_ENABLED) == -1);
  add(other, "x");
  BOOST_TEST(text == "a:0+1-0 ");  // still theirs, still enabled
}

BOOST_AUTO_TEST_CASE(a_callback_may_remove_the_next_callback_while_running) {
  other_remover r;
  r.victim = evbuffer_add_cb(buf, log_info, &a);
  evbuffer_add_cb(buf, remove_other, &r);
  add(buf, "x");
  add(buf, "y");
  BOOST_TEST(text.empty());
}
#endif

namespace {
struct drainer {
  std::string* text;
};
void drain_growth(evbuffer* b, const evbuffer_cb_info* info, void* arg) {
  *static_cast<drainer*>(arg)->text += "d:" + std::to_string(info->orig_size) + "+" +
                                       std::to_string(info->n_added) + "-" +
                                       std::to_string(info->n_deleted) + " ";
  if (info->n_added)
    evbuffer_drain(b, info->n_added);
}
} // namespace

BOOST_AUTO_TEST_CASE(a_callback_that_changes_the_buffer_is_called_again_for_that_change) {
  drainer d{&text};
  evbuffer_add_cb(buf, drain_growth, &d);
  add(buf, "abc");
  BOOST_TEST(text == "d:0+3-0 d:3+0-3 ");
  BOOST_TEST(evbuffer_get_length(buf) == 0u);
}

namespace {
struct adder {
  evbuffer_cb_func fn;
  void* arg;
  bool done = false;
};
void add_a_callback(evbuffer* b, const evbuffer_cb_info*, void* arg) {
  auto* ad = static_cast<adder*>(arg);
  if (!ad->done)
    evbuffer_add_cb(b, ad->fn, ad->arg);
  ad->done = true;
}
} // namespace

BOOST_AUTO_TEST_CASE(a_callback_added_by_a_callback_runs_from_the_next_change) {
  adder ad{log_info, &a};
  evbuffer_add_cb(buf, add_a_callback, &ad);
  add(buf, "x");
  BOOST_TEST(text.empty());
  add(buf, "y");
  BOOST_TEST(text == "a:1+1-0 ");
}

BOOST_AUTO_TEST_CASE(evbuffer_setcb_replaces_every_callback_by_its_own) {
  evbuffer_add_cb(buf, log_info, &a);
  evbuffer_add_cb(buf, log_info, &b);
  BOOST_TEST(evbuffer_setcb(buf, log_length, &c) == 0);
  add(buf, "xyz");
  BOOST_TEST(text == "c:0>3 ");
  BOOST_TEST(evbuffer_remove_cb(buf, log_info, &a) == -1);
}

BOOST_AUTO_TEST_CASE(evbuffer_setcb_null_removes_every_callback) {
  evbuffer_add_cb(buf, log_info, &a);
  BOOST_TEST(evbuffer_setcb(buf, nullptr, nullptr) == 0);
  add(buf, "x");
  BOOST_TEST(text.empty());
}

BOOST_AUTO_TEST_CASE(a_callback_added_after_evbuffer_setcb_runs_before_it) {
  evbuffer_setcb(buf, log_length, &a);
  evbuffer_add_cb(buf, log_info, &b);
  add(buf, "xy");
  BOOST_TEST(text == "b:0+2-0 a:0>2 ");
}

BOOST_AUTO_TEST_CASE(a_move_between_buffers_tells_the_source_first) {
  Buf other;
  add(buf, "0123456789");
  evbuffer_add_cb(buf, log_info, &a);
  evbuffer_add_cb(other, log_info, &b);
  BOOST_TEST(evbuffer_add_buffer(other, buf) == 0);
  BOOST_TEST(text == "a:10+0-10 b:0+10-0 ");
}

BOOST_AUTO_TEST_CASE(a_partial_remove_buffer_tells_the_destination_first) {
  Buf other;
  add(buf, "0123456789");
  evbuffer_add_cb(buf, log_info, &a);
  evbuffer_add_cb(other, log_info, &b);
  BOOST_TEST(evbuffer_remove_buffer(buf, other, 4) == 4);
  BOOST_TEST(text == "b:0+4-0 a:10+0-4 ");
}

BOOST_AUTO_TEST_CASE(prepend_buffer_tells_the_source_first) {
  Buf other;
  add(buf, "tail");
  add(other, "head");
  evbuffer_add_cb(buf, log_info, &a);
  evbuffer_add_cb(other, log_info, &b);
  BOOST_TEST(evbuffer_prepend_buffer(buf, other) == 0);
  BOOST_TEST(text == "b:4+0-4 a:4+4-0 ");
}

BOOST_AUTO_TEST_CASE(callbacks_are_told_prepends_printf_and_iovec_adds) {
  evbuffer_add_cb(buf, log_info, &a);
  evbuffer_prepend(buf, "ab", 2);
  evbuffer_add_printf(buf, "%d", 123);
  char x[] = "xy", z[] = "z";
  evbuffer_iovec v[2] = {{x, 2}, {z, 1}};
  BOOST_TEST(evbuffer_add_iovec(buf, v, 2) == 3u);
  BOOST_TEST(text == "a:0+2-0 a:2+3-0 a:5+2-0 a:7+1-0 ");
}

BOOST_AUTO_TEST_CASE(callbacks_are_told_fd_reads_and_writes) {
  evbuffer_add_cb(buf, log_info, &a);
  int p[2];
  BOOST_REQUIRE(::pipe(p) == 0);
  nettest::Fd r(p[0]), w(p[1]);
  BOOST_REQUIRE(::write(w.get(), "fd!", 3) == 3);
  BOOST_TEST(evbuffer_read(buf, r.get(), -1) == 3);
  BOOST_TEST(evbuffer_write(buf, w.get()) == 3);
  BOOST_TEST(text == "a:0+3-0 a:3+0-3 ");
}

BOOST_AUTO_TEST_CASE(a_callback_on_a_bufferevent_input_is_told_bytes_read) {
  event_base* base = event_base_new();
  nettest::socket_pair sp;
  bufferevent* bev = bufferevent_socket_new(base, sp.a.get(), 0);
  evbuffer_add_cb(bufferevent_get_input(bev), log_info, &a);
  bufferevent_enable(bev, EV_READ);
  BOOST_REQUIRE(::write(sp.b.get(), "ping", 4) == 4);
  for (int i = 0; i < 200 && text.empty(); ++i)
    event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
  BOOST_TEST(text == "a:0+4-0 ");
  bufferevent_free(bev);
  event_base_free(base);
}

// ---- deferred callbacks -------------------------------------------------------

BOOST_AUTO_TEST_CASE(deferred_callbacks_run_from_the_loop_once_for_all_changes) {
  event_base* base = event_base_new();
  BOOST_TEST(evbuffer_defer_callbacks(buf, base) == 0);
  evbuffer_add_cb(buf, log_info, &a);
  add(buf, "hello");
  evbuffer_drain(buf, 2);
  add(buf, "!");
  BOOST_TEST(text.empty());
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 1);  // ran it, then nothing was left
  BOOST_TEST(text == "a:0+6-2 ");
  event_base_free(base);
}

BOOST_AUTO_TEST_CASE(dispatch_runs_a_pending_deferred_callback_before_it_returns) {
  event_base* base = event_base_new();
  evbuffer_defer_callbacks(buf, base);
  evbuffer_add_cb(buf, log_info, &a);
  add(buf, "x");
  BOOST_TEST(event_base_dispatch(base) == 1);  // once it ran, nothing was left
  BOOST_TEST(text == "a:0+1-0 ");
  event_base_free(base);
}

BOOST_AUTO_TEST_CASE(a_change_after_the_deferred_run_is_run_again) {
  event_base* base = event_base_new();
  evbuffer_defer_callbacks(buf, base);
  evbuffer_add_cb(buf, log_info, &a);
  add(buf, "x");
  event_base_loop(base, EVLOOP_NONBLOCK);
  add(buf, "yz");
  event_base_loop(base, EVLOOP_NONBLOCK);
  BOOST_TEST(text == "a:0+1-0 a:1+2-0 ");
  event_base_free(base);
}

namespace {
struct seen_length {
  size_t length = 99;
  int calls = 0;
};
void note_length(evbuffer* b, const evbuffer_cb_info*, void* arg) {
  auto* s = static_cast<seen_length*>(arg);
  s->length = evbuffer_get_length(b);
  ++s->calls;
}
} // namespace

BOOST_AUTO_TEST_CASE(a_buffer_freed_with_a_deferred_run_pending_is_told_before_it_goes) {
  event_base* base = event_base_new();
  seen_length s;
  evbuffer_defer_callbacks(buf, base);
  evbuffer_add_cb(buf, note_length, &s);
  add(buf, "abc");
  buf.free();  // as libevent: the pending run still holds the buffer
  BOOST_TEST(s.calls == 0);
  event_base_loop(base, EVLOOP_NONBLOCK);
  BOOST_TEST(s.calls == 1);
  BOOST_TEST(s.length == 3u);
  event_base_free(base);
}

namespace {
struct loop_thread_check {
  event_base* base;
  std::thread::id ran_on;
  int calls = 0;
};
void note_thread(evbuffer*, const evbuffer_cb_info*, void* arg) {
  auto* c = static_cast<loop_thread_check*>(arg);
  c->ran_on = std::this_thread::get_id();
  ++c->calls;
  event_base_loopbreak(c->base);
}
void never(evutil_socket_t, short, void*) {}
} // namespace

// Threads stay set up for the rest of the process (the cases after this).
BOOST_AUTO_TEST_CASE(changes_made_on_another_thread_are_told_on_the_loops_thread) {
  BOOST_REQUIRE(evthread_use_pthreads() == 0);
  event_base* base = event_base_new();
  event* keep_alive = evtimer_new(base, never, nullptr);
  const timeval hour = nettest::ms_tv(3600 * 1000);
  evtimer_add(keep_alive, &hour);
  loop_thread_check check{base, {}};
  BOOST_REQUIRE(evbuffer_enable_locking(buf, nullptr) == 0);
  evbuffer_defer_callbacks(buf, base);
  evbuffer_add_cb(buf, note_thread, &check);
  std::thread writer([&] {
    ::usleep(20 * 1000);
    evbuffer_add(buf, "from afar", 9);
  });
  BOOST_TEST(event_base_dispatch(base) == 0);
  writer.join();
  BOOST_TEST(check.calls == 1);
  BOOST_TEST((check.ran_on == std::this_thread::get_id()));
  event_free(keep_alive);
  event_base_free(base);
}

#ifdef EVASIO_VERSION
// libevent's pending run holds the bufferevent too and calls the callbacks
// after bufferevent_free; evasio's buffer goes with its bufferevent, and the
// pending run finds it gone.
BOOST_AUTO_TEST_CASE(a_deferred_run_pending_for_a_freed_bufferevents_buffer_does_nothing) {
  event_base* base = event_base_new();
  nettest::socket_pair sp;
  bufferevent* bev = bufferevent_socket_new(base, sp.a.get(), 0);
  evbuffer* in = bufferevent_get_output(bev);
  evbuffer_defer_callbacks(in, base);
  evbuffer_add_cb(in, log_info, &a);
  add(in, "x");
  bufferevent_free(bev);
  event_base_loop(base, EVLOOP_NONBLOCK);
  BOOST_TEST(text.empty());
  event_base_free(base);
}
#endif

BOOST_AUTO_TEST_SUITE_END()

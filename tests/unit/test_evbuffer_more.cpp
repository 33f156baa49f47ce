// The rest of event2/buffer.h besides callbacks and files:
// evbuffer_prepend_buffer, evbuffer_copyout_from, evbuffer_add_iovec,
// evbuffer_add_buffer_reference, evbuffer_enable_locking/_lock/_unlock and
// the buffer flags. Builds against real libevent too, where every
// expectation was checked.
#define BOOST_TEST_MODULE evbuffer_more
#include <boost/test/unit_test.hpp>

#include <event2/buffer.h>
#include <event2/thread.h>

#include "buffers.hpp"
#include "fixtures.hpp"

#include <pthread.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

using nettest::Buf;

namespace {
void add(evbuffer* b, const char* s) { BOOST_REQUIRE(evbuffer_add(b, s, std::strlen(s)) == 0); }
// The address of the first byte (after evbuffer_peek).
const void* first_byte(evbuffer* b) {
  evbuffer_iovec v;
  return evbuffer_peek(b, -1, nullptr, &v, 1) > 0 ? v.iov_base : nullptr;
}
} // namespace

BOOST_AUTO_TEST_SUITE(prepend_buffer)

BOOST_AUTO_TEST_CASE(prepend_buffer_puts_the_source_in_front_and_empties_it) {
  Buf dst, src;
  add(dst, "world");
  add(src, "hello ");
  BOOST_TEST(evbuffer_prepend_buffer(dst, src) == 0);
  BOOST_TEST(dst.str() == "hello world");
  BOOST_TEST(src.length() == 0u);
}

BOOST_AUTO_TEST_CASE(prepend_buffer_into_an_empty_buffer_moves_everything) {
  Buf dst, src;
  add(src, "abc");
  add(src, "def");
  BOOST_TEST(evbuffer_prepend_buffer(dst, src) == 0);
  BOOST_TEST(dst.str() == "abcdef");
  add(dst, "g");  // the tail still takes adds
  BOOST_TEST(dst.str() == "abcdefg");
}

BOOST_AUTO_TEST_CASE(prepend_buffer_moves_chunks_without_copying) {
  Buf dst, src;
  add(dst, "tail");
  add(src, "head");
  const void* head = first_byte(src);
  evbuffer_prepend_buffer(dst, src);
  BOOST_TEST(first_byte(dst) == head);
}

BOOST_AUTO_TEST_CASE(prepend_buffer_fails_when_either_front_is_frozen) {
  Buf dst, src;
  add(dst, "b");
  add(src, "a");
  evbuffer_freeze(dst, 1);
  BOOST_TEST(evbuffer_prepend_buffer(dst, src) == -1);
  evbuffer_unfreeze(dst, 1);
  evbuffer_freeze(src, 1);
  BOOST_TEST(evbuffer_prepend_buffer(dst, src) == -1);
  evbuffer_unfreeze(src, 1);
  evbuffer_freeze(dst, 0);  // the back does not matter
  BOOST_TEST(evbuffer_prepend_buffer(dst, src) == 0);
  BOOST_TEST(dst.str() == "ab");
}

BOOST_AUTO_TEST_CASE(prepend_buffer_of_an_empty_or_the_same_buffer_does_nothing) {
  Buf dst, src;
  add(dst, "x");
  BOOST_TEST(evbuffer_prepend_buffer(dst, src) == 0);
  BOOST_TEST(evbuffer_prepend_buffer(dst, dst) == 0);
  BOOST_TEST(dst.str() == "x");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(copyout_from)

BOOST_AUTO_TEST_CASE(copyout_from_copies_from_a_position_across_chunks_without_draining) {
  Buf b;
  add(b, "0123");
  Buf other;
  add(other, "4567");
  evbuffer_add_buffer(b, other);  // a second chunk
  evbuffer_ptr p;
  BOOST_REQUIRE(evbuffer_ptr_set(b, &p, 2, EVBUFFER_PTR_SET) == 0);
  char out[5] = {};
  BOOST_TEST(evbuffer_copyout_from(b, &p, out, 4) == 4);
  BOOST_TEST(std::string(out, 4) == "2345");
  BOOST_TEST(b.length() == 8u);
}

BOOST_AUTO_TEST_CASE(copyout_from_copies_at_most_what_follows_the_position) {
  Buf b;
  add(b, "abcdef");
  evbuffer_ptr p = evbuffer_search(b, "e", 1, nullptr);
  char out[8];
  BOOST_TEST(evbuffer_copyout_from(b, &p, out, sizeof out) == 2);
  BOOST_TEST(std::string(out, 2) == "ef");
}

BOOST_AUTO_TEST_CASE(copyout_from_the_end_copies_nothing) {
  Buf b;
  add(b, "abc");
  evbuffer_ptr p;
  evbuffer_ptr_set(b, &p, 3, EVBUFFER_PTR_SET);
  char out[4];
  BOOST_TEST(evbuffer_copyout_from(b, &p, out, sizeof out) == 0);
}

BOOST_AUTO_TEST_CASE(copyout_from_a_null_position_copies_from_the_start) {
  Buf b;
  add(b, "abc");
  char out[4];
  BOOST_TEST(evbuffer_copyout_from(b, nullptr, out, 2) == 2);
  BOOST_TEST(std::string(out, 2) == "ab");
}

BOOST_AUTO_TEST_CASE(copyout_from_fails_when_the_front_is_frozen) {
  Buf b;
  add(b, "abc");
  evbuffer_freeze(b, 1);
  char out[4];
  BOOST_TEST(evbuffer_copyout_from(b, nullptr, out, 2) == -1);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(add_iovec)

BOOST_AUTO_TEST_CASE(add_iovec_appends_every_extent_in_order_and_returns_the_total) {
  Buf b;
  add(b, ">");
  char x[] = "ab", y[] = "", z[] = "cde";
  evbuffer_iovec v[3] = {{x, 2}, {y, 0}, {z, 3}};
  BOOST_TEST(evbuffer_add_iovec(b, v, 3) == 5u);
  BOOST_TEST(b.str() == ">abcde");
}

BOOST_AUTO_TEST_CASE(add_iovec_to_a_buffer_with_a_frozen_end_adds_nothing) {
  Buf b;
  evbuffer_freeze(b, 0);
  char x[] = "ab";
  evbuffer_iovec v[1] = {{x, 2}};
  BOOST_TEST(evbuffer_add_iovec(b, v, 1) == 0u);
  BOOST_TEST(b.length() == 0u);
}

BOOST_AUTO_TEST_CASE(add_iovec_of_no_extents_adds_nothing) {
  Buf b;
  BOOST_TEST(evbuffer_add_iovec(b, nullptr, 0) == 0u);
  BOOST_TEST(b.length() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(add_buffer_reference)

BOOST_AUTO_TEST_CASE(add_buffer_reference_shows_the_bytes_and_leaves_them_in_the_source) {
  Buf out, in;
  add(out, "<");
  add(in, "shared");
  BOOST_TEST(evbuffer_add_buffer_reference(out, in) == 0);
  BOOST_TEST(out.str() == "<shared");
  BOOST_TEST(in.str() == "shared");
}

BOOST_AUTO_TEST_CASE(add_buffer_reference_does_not_copy_the_bytes) {
  Buf out, in;
  add(in, "shared");
  evbuffer_add_buffer_reference(out, in);
  BOOST_TEST(first_byte(out) == first_byte(in));
}

BOOST_AUTO_TEST_CASE(referenced_bytes_outlive_draining_and_freeing_the_source) {
  Buf out, in;
  add(in, "kept");
  evbuffer_add_buffer_reference(out, in);
  evbuffer_drain(in, 4);
  add(in, "XXXX");  // never written over what out shows
  in.free();
  BOOST_TEST(out.str() == "kept");
}

BOOST_AUTO_TEST_CASE(adds_to_the_source_after_a_reference_do_not_appear_in_it) {
  Buf out, in;
  add(in, "ab");
  evbuffer_add_buffer_reference(out, in);
  add(in, "cd");
  BOOST_TEST(out.str() == "ab");
  BOOST_TEST(in.str() == "abcd");
}

BOOST_AUTO_TEST_CASE(draining_the_referencing_buffer_leaves_the_source_alone) {
  Buf out, in;
  add(in, "abcd");
  evbuffer_add_buffer_reference(out, in);
  evbuffer_drain(out, 3);
  BOOST_TEST(out.str() == "d");
  BOOST_TEST(in.str() == "abcd");
}

namespace {
void count_cleanup(const void*, size_t, void* arg) { ++*static_cast<int*>(arg); }
} // namespace

BOOST_AUTO_TEST_CASE(referenced_memory_is_released_once_neither_buffer_shows_it) {
  static const char text[] = "memory";
  int cleanups = 0;
  Buf out, in;
  evbuffer_add_reference(in, text, 6, count_cleanup, &cleanups);
  evbuffer_add_buffer_reference(out, in);
  evbuffer_drain(in, 6);
  BOOST_TEST(cleanups == 0);
  BOOST_TEST(out.str() == "memory");
  evbuffer_drain(out, 6);
  BOOST_TEST(cleanups == 1);
}

BOOST_AUTO_TEST_CASE(add_buffer_reference_refuses_a_source_that_shows_another_buffer) {
  Buf a, b, c;
  add(a, "x");
  evbuffer_add_buffer_reference(b, a);
  BOOST_TEST(evbuffer_add_buffer_reference(c, b) == -1);
  BOOST_TEST(c.length() == 0u);
}

BOOST_AUTO_TEST_CASE(add_buffer_reference_refuses_the_same_buffer_and_a_frozen_end) {
  Buf out, in;
  add(in, "x");
  BOOST_TEST(evbuffer_add_buffer_reference(in, in) == -1);
  evbuffer_freeze(out, 0);
  BOOST_TEST(evbuffer_add_buffer_reference(out, in) == -1);
  evbuffer_unfreeze(out, 0);
  evbuffer_freeze(in, 1);  // the source's front does not matter
  BOOST_TEST(evbuffer_add_buffer_reference(out, in) == 0);
}

BOOST_AUTO_TEST_CASE(add_buffer_reference_of_an_empty_buffer_succeeds_with_nothing) {
  Buf out, in;
  BOOST_TEST(evbuffer_add_buffer_reference(out, in) == 0);
  BOOST_TEST(out.length() == 0u);
}

#ifdef EVASIO_VERSION
// evasio counts a shown chunk's holders atomically (libevent's count is
// guarded by neither buffer's lock): the two buffers may go on two threads.
BOOST_AUTO_TEST_CASE(a_buffer_and_one_showing_it_may_be_freed_on_two_threads) {
  for (int i = 0; i < 200; ++i) {
    evbuffer* in = evbuffer_new();
    evbuffer* out = evbuffer_new();
    evbuffer_add(in, "one chunk", 9);
    evbuffer_add_reference(in, "and a reference", 15, nullptr, nullptr);
    BOOST_REQUIRE(evbuffer_add_buffer_reference(out, in) == 0);
    std::thread t([in] { evbuffer_free(in); });
    evbuffer_drain(out, 4);
    evbuffer_free(out);
    t.join();
  }
}
#endif

BOOST_AUTO_TEST_SUITE_END()

namespace {
// libevent allocates a buffer's lock only once threads are set up.
struct with_threads {
  with_threads() { BOOST_REQUIRE(evthread_use_pthreads() == 0); }
};
} // namespace

BOOST_FIXTURE_TEST_SUITE(locking_and_flags, with_threads)

BOOST_AUTO_TEST_CASE(enable_locking_gives_a_recursive_lock_once) {
  Buf b;
  BOOST_TEST(evbuffer_enable_locking(b, nullptr) == 0);
  BOOST_TEST(evbuffer_enable_locking(b, nullptr) == -1);
  evbuffer_lock(b);
  evbuffer_lock(b);  // recursive
  add(b, "locked");  // calls lock too
  evbuffer_unlock(b);
  evbuffer_unlock(b);
  BOOST_TEST(b.str() == "locked");
}

BOOST_AUTO_TEST_CASE(evbuffer_lock_excludes_other_threads) {
  Buf b;
  evbuffer_enable_locking(b, nullptr);
  evbuffer_lock(b);
  std::atomic<bool> added{false};
  std::thread t([&] { added = evbuffer_add(b, "late", 4) == 0; });
  ::usleep(50 * 1000);
  BOOST_TEST(b.length() == 0u);  // the other thread waits for the lock
  evbuffer_unlock(b);
  t.join();
  BOOST_TEST(added);
  BOOST_TEST(b.str() == "late");
}

BOOST_AUTO_TEST_CASE(a_lock_given_to_enable_locking_is_the_one_taken) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_t m;
  pthread_mutex_init(&m, &attr);
  {
    Buf b;
    BOOST_TEST(evbuffer_enable_locking(b, &m) == 0);
    evbuffer_lock(b);
    int busy = 0;
    std::thread t([&] { busy = pthread_mutex_trylock(&m); });
    t.join();
    BOOST_TEST(busy == EBUSY);
    evbuffer_unlock(b);
    std::thread t2([&] {
      busy = pthread_mutex_trylock(&m);
      if (busy == 0)
        pthread_mutex_unlock(&m);
    });
    t2.join();
    BOOST_TEST(busy == 0);
  }
  pthread_mutex_destroy(&m);
  pthread_mutexattr_destroy(&attr);
}

BOOST_AUTO_TEST_CASE(evbuffer_lock_of_a_buffer_without_a_lock_does_nothing) {
  Buf b;
  evbuffer_lock(b);
  evbuffer_unlock(b);
  add(b, "x");
  BOOST_TEST(b.str() == "x");
}

#ifdef EVASIO_VERSION
// Intended difference (as for BEV_OPT_THREADSAFE): evasio makes the lock
// whether or not threads were set up; libevent fails without them.
BOOST_AUTO_TEST_CASE(enable_locking_makes_a_lock_whatever_the_thread_setup) {
  Buf b;
  BOOST_TEST(evbuffer_enable_locking(b, nullptr) == 0);
}
#endif

BOOST_AUTO_TEST_CASE(set_and_clear_flags_succeed) {
  Buf b;
  BOOST_TEST(evbuffer_set_flags(b, EVBUFFER_FLAG_DRAINS_TO_FD) == 0);
  BOOST_TEST(evbuffer_clear_flags(b, EVBUFFER_FLAG_DRAINS_TO_FD) == 0);
  add(b, "still a buffer");
  BOOST_TEST(b.length() == 14u);
}

BOOST_AUTO_TEST_SUITE_END()

#ifdef EVASIO_VERSION
// evasio's guarantee at the C boundary (libevent dereferences these):
// NULL or out-of-range arguments fail with EINVAL.
BOOST_AUTO_TEST_SUITE(bad_input)

BOOST_AUTO_TEST_CASE(null_buffers_fail_with_einval) {
  Buf b;
  errno = 0;
  BOOST_TEST(evbuffer_prepend_buffer(nullptr, b) == -1);
  BOOST_TEST(errno == EINVAL);
  BOOST_TEST(evbuffer_add_buffer_reference(b, nullptr) == -1);
  BOOST_TEST(evbuffer_add_iovec(nullptr, nullptr, 1) == 0u);
  BOOST_TEST(evbuffer_enable_locking(nullptr, nullptr) == -1);
  BOOST_TEST(evbuffer_set_flags(nullptr, 1) == -1);
  BOOST_TEST(evbuffer_add_cb(nullptr, nullptr, nullptr) == nullptr);
  BOOST_TEST(evbuffer_defer_callbacks(b, nullptr) == -1);
  BOOST_TEST(evbuffer_add_file(nullptr, -1, 0, 1) == -1);
  BOOST_TEST(evbuffer_add_file_segment(b, nullptr, 0, 1) == -1);
  BOOST_TEST(evbuffer_file_segment_new(-1, 0, 1, 0) == nullptr);
  evbuffer_file_segment_free(nullptr);
  evbuffer_lock(nullptr);
  evbuffer_unlock(nullptr);
}

BOOST_AUTO_TEST_CASE(copyout_from_a_position_past_the_end_fails) {
  Buf b;
  add(b, "abc");
  evbuffer_ptr p;
  evbuffer_ptr_set(b, &p, 3, EVBUFFER_PTR_SET);
  evbuffer_drain(b, 2);  // p is now past the end
  char out[4];
  errno = 0;
  BOOST_TEST(evbuffer_copyout_from(b, &p, out, 1) == -1);
  BOOST_TEST(errno == EINVAL);
}

BOOST_AUTO_TEST_CASE(an_iovec_extent_without_memory_adds_nothing) {
  Buf b;
  evbuffer_iovec v[2] = {{const_cast<char*>("ok"), 2}, {nullptr, 3}};
  BOOST_TEST(evbuffer_add_iovec(b, v, 2) == 0u);
  BOOST_TEST(b.length() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
#endif

// event2/util.h's secure random number generator: evutil_secure_rng_init,
// _get_bytes, _set_urandom_device_file and _add_bytes, with the behaviour of
// Debian's libevent 2.1.12 (regress_util.c's "rand" case, ported, and more).
//
// The file builds against real libevent too. Cases under EVASIO_VERSION use
// what Debian's header leaves undeclared (evutil_secure_rng_add_bytes) or
// what libevent leaves undefined (a NULL buffer).
#define BOOST_TEST_MODULE evutil_rand
#include <boost/test/unit_test.hpp>

#include <event2/event.h>
#include <event2/util.h>

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <algorithm>
#include <thread>
#include <vector>

namespace {

using block = std::array<unsigned char, 32>;

block draw() {
  block b{};
  evutil_secure_rng_get_bytes(b.data(), b.size());
  return b;
}

// A child process's first draw, sent back through a pipe.
block draw_in_child() {
  int fds[2];
  BOOST_REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    const block b = draw();
    const ssize_t n = ::write(fds[1], b.data(), b.size());
    ::_exit(n == static_cast<ssize_t>(b.size()) ? 0 : 1);
  }
  ::close(fds[1]);
  block b{};
  size_t got = 0;
  while (got < b.size()) {
    const ssize_t n = ::read(fds[0], b.data() + got, b.size() - got);
    if (n <= 0)
      break;
    got += static_cast<size_t>(n);
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  BOOST_REQUIRE(got == b.size());
  BOOST_REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return b;
}

// Zero bytes near the end of buf: about 1 in 256 if they were drawn.
size_t zeros_in_tail(const std::vector<unsigned char>& buf, size_t tail) {
  size_t zeros = 0;
  for (size_t k = buf.size() - tail; k < buf.size(); ++k)
    zeros += buf[k] == 0;
  return zeros;
}

extern "C" void ignore_signal(int) {}

} // namespace

BOOST_AUTO_TEST_CASE(init_succeeds_and_may_be_repeated) {
  BOOST_TEST(evutil_secure_rng_init() == 0);
  BOOST_TEST(evutil_secure_rng_init() == 0);
}

BOOST_AUTO_TEST_CASE(two_draws_differ) {
  BOOST_TEST((draw() != draw()));
}

// regress_util's "rand": at every alignment of start and end, exactly the
// requested bytes are written, and each of them is non-zero in at least one
// of eight draws.
BOOST_AUTO_TEST_CASE(exactly_the_requested_bytes_are_written_at_any_alignment) {
  for (size_t start = 0; start < 4; ++start) {
    for (size_t end = 29; end <= 32; ++end) {
      unsigned char seen[32] = {0};
      for (int run = 0; run < 8; ++run) {
        unsigned char buf[32] = {0};
        evutil_secure_rng_get_bytes(buf + start, end - start);
        for (size_t j = 0; j < sizeof buf; ++j) {
          if (j >= start && j < end)
            seen[j] |= buf[j];
          else
            BOOST_TEST(buf[j] == 0, "byte " << j << " of [" << start << ", " << end << ")");
        }
      }
      for (size_t j = start; j < end; ++j)
        BOOST_TEST(seen[j] != 0, "byte " << j << " of [" << start << ", " << end << ")");
    }
  }
}

BOOST_AUTO_TEST_CASE(zero_bytes_writes_nothing) {
  unsigned char buf[8];
  std::memset(buf, 0x5a, sizeof buf);
  evutil_secure_rng_get_bytes(buf, 0);
  for (unsigned char b : buf)
    BOOST_TEST(b == 0x5a);
}

BOOST_AUTO_TEST_CASE(odd_sizes_fill_exactly_their_length) {
  for (size_t n : {1u, 3u, 7u, 255u, 257u, 4097u}) {
    std::vector<unsigned char> buf(n + 1, 0);
    int nonzero = 0;
    for (int run = 0; run < 4; ++run) {
      evutil_secure_rng_get_bytes(buf.data(), n);
      nonzero |= buf[n - 1];
    }
    BOOST_TEST(buf[n] == 0, "size " << n);
    BOOST_TEST(nonzero != 0, "size " << n);
  }
}

// More than getrandom(2) returns in one call on Linux (32 MiB - 1): the
// tail is filled too.
BOOST_AUTO_TEST_CASE(large_requests_are_filled_to_the_end) {
  std::vector<unsigned char> buf((size_t{33} << 20) + 5, 0);
  evutil_secure_rng_get_bytes(buf.data(), buf.size());
  BOOST_TEST(zeros_in_tail(buf, 65536) < 65536u / 64);  // about 256 expected
}

// Signals cut a large getrandom(2) short (or make it fail with EINTR): the
// request is still filled to the end.
BOOST_AUTO_TEST_CASE(signals_do_not_cut_a_request_short) {
  struct sigaction sa {}, old {};
  sa.sa_handler = ignore_signal;  // no SA_RESTART
  BOOST_REQUIRE(::sigaction(SIGUSR1, &sa, &old) == 0);
  std::atomic<bool> done{false};
  const pthread_t drawer = ::pthread_self();
  std::thread pester([&] {
    while (!done.load())
      ::pthread_kill(drawer, SIGUSR1);
  });
  std::vector<unsigned char> buf(size_t{8} << 20, 0);
  for (int run = 0; run < 8; ++run) {
    std::fill(buf.begin(), buf.end(), 0);
    evutil_secure_rng_get_bytes(buf.data(), buf.size());
    BOOST_TEST(zeros_in_tail(buf, 65536) < 65536u / 64, "run " << run);
  }
  done = true;
  pester.join();
  ::sigaction(SIGUSR1, &old, nullptr);
}

BOOST_AUTO_TEST_CASE(byte_values_are_evenly_spread) {
  std::vector<unsigned char> buf(256 * 1024);
  evutil_secure_rng_get_bytes(buf.data(), buf.size());
  int counts[256] = {0};
  for (unsigned char b : buf)
    ++counts[b];
  for (int v = 0; v < 256; ++v)  // 1024 expected, standard deviation 32
    BOOST_TEST((counts[v] > 800 && counts[v] < 1250), "value " << v << ": " << counts[v]);
}

// No generator state lives in the process, so a child cannot replay what
// its parent or a sibling draws.
BOOST_AUTO_TEST_CASE(forked_children_draw_their_own_bytes) {
  (void)draw();
  const block a = draw_in_child();
  const block b = draw_in_child();
  const block parent = draw();
  BOOST_TEST((a != b));
  BOOST_TEST((a != parent));
  BOOST_TEST((b != parent));
}

BOOST_AUTO_TEST_CASE(threads_draw_distinct_bytes) {
  std::array<block, 4> got{};
  std::vector<std::thread> threads;
  for (size_t k = 0; k < got.size(); ++k)
    threads.emplace_back([&got, k] {
      for (int i = 0; i < 1000; ++i)
        got[k] = draw();
    });
  for (auto& t : threads)
    t.join();
  for (size_t i = 0; i < got.size(); ++i)
    for (size_t j = i + 1; j < got.size(); ++j)
      BOOST_TEST((got[i] != got[j]));
}

// As Debian's libevent, whose generator reads no device file either.
BOOST_AUTO_TEST_CASE(urandom_device_file_is_refused) {
  char name[] = "/dev/urandom";
  BOOST_TEST(evutil_secure_rng_set_urandom_device_file(name) == -1);
  BOOST_TEST((draw() != draw()));
}

#ifdef EVASIO_VERSION
BOOST_AUTO_TEST_CASE(added_bytes_do_not_make_draws_repeat) {
  const char seed[16] = {0};
  evutil_secure_rng_add_bytes(seed, sizeof seed);
  evutil_secure_rng_add_bytes(nullptr, 0);
  const block a = draw();
  evutil_secure_rng_add_bytes(seed, sizeof seed);
  BOOST_TEST((a != draw()));
}

BOOST_AUTO_TEST_CASE(null_buffer_writes_nothing_and_sets_einval) {
  errno = 0;
  evutil_secure_rng_get_bytes(nullptr, 16);
  BOOST_TEST(errno == EINVAL);
}

BOOST_AUTO_TEST_CASE(null_device_file_is_refused) {
  BOOST_TEST(evutil_secure_rng_set_urandom_device_file(nullptr) == -1);
}

BOOST_AUTO_TEST_CASE(a_successful_draw_leaves_errno_alone) {
  errno = EDOM;
  (void)draw();
  BOOST_TEST(errno == EDOM);
}
#endif

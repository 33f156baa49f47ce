// evbuffer files (event2/buffer.h): evbuffer_add_file, file segments and
// their flags and cleanup. Written to a socket a file goes out with
// sendfile(2): this executable interposes read, pread, readv, preadv, mmap
// and sendfile (its definitions come before libc's for the library too) and
// counts the calls on the file's fd, so a copy through user space fails the
// zero-copy cases. Builds against real libevent too, where every expectation
// was checked; evasio-only cases are under EVASIO_VERSION.
#define BOOST_TEST_MODULE evbuffer_file
#include <boost/test/unit_test.hpp>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "buffers.hpp"
#include "fixtures.hpp"

#include <dlfcn.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

using nettest::Buf;

// ---- interposed system calls ------------------------------------------------

namespace {
std::atomic<int> watched_fd{-1};
std::atomic<long> user_space_reads{0};  // read/pread/readv/preadv/mmap of watched_fd
std::atomic<long> sendfiles{0};
std::atomic<long long> sendfile_bytes{0};

template <class F>
F real(const char* name) {
  return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}
void note_read(int fd) {
  if (fd >= 0 && fd == watched_fd.load())
    ++user_space_reads;
}
} // namespace

extern "C" {
ssize_t read(int fd, void* b, size_t n) {
  static auto fn = real<ssize_t (*)(int, void*, size_t)>("read");
  note_read(fd);
  return fn(fd, b, n);
}
ssize_t pread(int fd, void* b, size_t n, off_t off) {
  static auto fn = real<ssize_t (*)(int, void*, size_t, off_t)>("pread");
  note_read(fd);
  return fn(fd, b, n, off);
}
ssize_t pread64(int fd, void* b, size_t n, off64_t off) {
  static auto fn = real<ssize_t (*)(int, void*, size_t, off64_t)>("pread64");
  note_read(fd);
  return fn(fd, b, n, off);
}
ssize_t readv(int fd, const struct iovec* v, int n) {
  static auto fn = real<ssize_t (*)(int, const struct iovec*, int)>("readv");
  note_read(fd);
  return fn(fd, v, n);
}
ssize_t preadv(int fd, const struct iovec* v, int n, off_t off) {
  static auto fn = real<ssize_t (*)(int, const struct iovec*, int, off_t)>("preadv");
  note_read(fd);
  return fn(fd, v, n, off);
}
void* mmap(void* a, size_t len, int prot, int flags, int fd, off_t off) noexcept {
  static auto fn = real<void* (*)(void*, size_t, int, int, int, off_t)>("mmap");
  note_read(fd);
  return fn(a, len, prot, flags, fd, off);
}
void* mmap64(void* a, size_t len, int prot, int flags, int fd, off64_t off) noexcept {
  static auto fn = real<void* (*)(void*, size_t, int, int, int, off64_t)>("mmap64");
  note_read(fd);
  return fn(a, len, prot, flags, fd, off);
}
ssize_t sendfile(int out, int in, off_t* off, size_t n) noexcept {
  static auto fn = real<ssize_t (*)(int, int, off_t*, size_t)>("sendfile");
  const ssize_t r = fn(out, in, off, n);
  if (in == watched_fd.load()) {
    ++sendfiles;
    if (r > 0)
      sendfile_bytes += r;
  }
  return r;
}
ssize_t sendfile64(int out, int in, off64_t* off, size_t n) noexcept {
  static auto fn = real<ssize_t (*)(int, int, off64_t*, size_t)>("sendfile64");
  const ssize_t r = fn(out, in, off, n);
  if (in == watched_fd.load()) {
    ++sendfiles;
    if (r > 0)
      sendfile_bytes += r;
  }
  return r;
}
} // extern "C"

namespace {

// Bytes that differ from position to position.
std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

// A temporary file (already unlinked) holding text; the fd is the caller's.
int temp_file(const std::string& text) {
  char name[] = "/tmp/evasio-file-XXXXXX";
  const int fd = ::mkstemp(name);
  BOOST_REQUIRE(fd >= 0);
  ::unlink(name);
  BOOST_REQUIRE(nettest::write_all(fd, text.data(), text.size()));
  return fd;
}

// Watches fd's reads and sendfiles for the length of a case.
struct watch {
  explicit watch(int fd) {
    user_space_reads = 0;
    sendfiles = 0;
    sendfile_bytes = 0;
    watched_fd = fd;
  }
  ~watch() { watched_fd = -1; }
};

// Writes all of b to a socketpair with evbuffer_write while a thread reads
// the other end; what arrived.
std::string write_all_through_socket(evbuffer* b) {
  int sv[2];
  BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  nettest::Fd ours(sv[0]), peer(sv[1]);
  const size_t want = evbuffer_get_length(b);
  std::string got;
  std::thread reader([&] {
    char tmp[65536];
    while (got.size() < want) {
      const ssize_t n = ::recv(peer.get(), tmp, sizeof tmp, 0);
      if (n <= 0)
        break;
      got.append(tmp, static_cast<size_t>(n));
    }
  });
  while (evbuffer_get_length(b) > 0)
    if (evbuffer_write(b, ours.get()) < 0)
      break;
  reader.join();
  return got;
}

void count_cleanup(struct evbuffer_file_segment const*, int, void* arg) { ++*static_cast<int*>(arg); }

struct file_case {
  nettest::SafetyAlarm alarm{60, nettest::current_test_name()};
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(evbuffer_file, file_case)

// ---- sendfile: no copy through user space ------------------------------------

BOOST_AUTO_TEST_CASE(a_file_written_to_a_socket_goes_out_with_sendfile_unread) {
  const std::string text = pattern(1 << 20);
  const int fd = temp_file(text);
  watch w(fd);
  Buf b;
  evbuffer_set_flags(b, EVBUFFER_FLAG_DRAINS_TO_FD);  // libevent's condition for sendfile
  BOOST_REQUIRE(evbuffer_add_file(b, fd, 0, -1) == 0);
  BOOST_TEST(b.length() == text.size());
  BOOST_TEST(write_all_through_socket(b) == text);
  BOOST_TEST(user_space_reads.load() == 0);
  BOOST_TEST(sendfiles.load() > 0);
  BOOST_TEST(sendfile_bytes.load() == static_cast<long long>(text.size()));
}

BOOST_AUTO_TEST_CASE(a_file_on_a_socket_bufferevent_output_goes_out_with_sendfile_unread) {
  const std::string text = pattern(300000);
  const int fd = temp_file(text);
  watch w(fd);
  event_base* base = event_base_new();
  nettest::socket_pair sp;
  bufferevent* bev = bufferevent_socket_new(base, sp.a.get(), 0);
  BOOST_REQUIRE(evbuffer_add_file(bufferevent_get_output(bev), fd, 0, -1) == 0);
  bufferevent_enable(bev, EV_WRITE);
  std::string got;
  std::thread reader([&] {
    char tmp[65536];
    while (got.size() < text.size()) {
      const ssize_t n = ::recv(sp.b.get(), tmp, sizeof tmp, 0);
      if (n <= 0)
        break;
      got.append(tmp, static_cast<size_t>(n));
    }
  });
  while (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
    event_base_loop(base, EVLOOP_ONCE);
  reader.join();
  BOOST_TEST(got == text);
  BOOST_TEST(user_space_reads.load() == 0);
  BOOST_TEST(sendfile_bytes.load() == static_cast<long long>(text.size()));
  bufferevent_free(bev);
  event_base_free(base);
}

BOOST_AUTO_TEST_CASE(bytes_before_and_after_a_file_go_out_in_order) {
  const int fd = temp_file("FILE");
  Buf b;
  evbuffer_set_flags(b, EVBUFFER_FLAG_DRAINS_TO_FD);
  evbuffer_add(b, "<", 1);
  BOOST_REQUIRE(evbuffer_add_file(b, fd, 0, -1) == 0);
  evbuffer_add(b, ">", 1);
  BOOST_TEST(write_all_through_socket(b) == "<FILE>");
}

#ifdef EVASIO_VERSION
// libevent sends with sendfile only from buffers with
// EVBUFFER_FLAG_DRAINS_TO_FD (it maps the file into the others when it is
// added); evasio sends with sendfile from any buffer, and maps on a read.
BOOST_AUTO_TEST_CASE(a_file_in_any_buffer_goes_out_with_sendfile_unread) {
  const std::string text = pattern(100000);
  const int fd = temp_file(text);
  watch w(fd);
  Buf b;
  BOOST_REQUIRE(evbuffer_add_file(b, fd, 0, -1) == 0);
  BOOST_TEST(write_all_through_socket(b) == text);
  BOOST_TEST(user_space_reads.load() == 0);
  BOOST_TEST(sendfile_bytes.load() == static_cast<long long>(text.size()));
}

BOOST_AUTO_TEST_CASE(the_rest_of_a_partly_sent_file_can_be_read) {
  const int fd = temp_file("0123456789");
  Buf b;
  evbuffer_set_flags(b, EVBUFFER_FLAG_DRAINS_TO_FD);
  BOOST_REQUIRE(evbuffer_add_file(b, fd, 0, -1) == 0);
  int p[2];
  BOOST_REQUIRE(::pipe(p) == 0);
  nettest::Fd r(p[0]), wr(p[1]);
  BOOST_TEST(evbuffer_write_atmost(b, wr.get(), 4) == 4);
  char out[8] = {};
  BOOST_TEST(::read(r.get(), out, sizeof out) == 4);
  BOOST_TEST(std::string(out, 4) == "0123");
  BOOST_TEST(b.str() == "456789");
}

namespace {
struct event_seen {
  short what = 0;
  int err = 0;
};
void note_event(bufferevent*, short what, void* arg) {
  auto* e = static_cast<event_seen*>(arg);
  e->err = errno;
  e->what = what;
}
} // namespace

// SIGPIPE keeps its default action here: raised, it would end the test.
BOOST_AUTO_TEST_CASE(a_file_sent_to_a_closed_peer_gives_epipe_without_sigpipe) {
  struct sigaction dfl {}, old{};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGPIPE, &dfl, &old);
  const int fd = temp_file(pattern(1 << 20));
  event_base* base = event_base_new();
  nettest::socket_pair sp;
  bufferevent* bev = bufferevent_socket_new(base, sp.a.get(), 0);
  event_seen seen;
  bufferevent_setcb(bev, nullptr, nullptr, note_event, &seen);
  sp.b.reset();
  BOOST_REQUIRE(evbuffer_add_file(bufferevent_get_output(bev), fd, 0, -1) == 0);
  bufferevent_enable(bev, EV_WRITE);
  for (int i = 0; i < 100 && !seen.what; ++i)
    event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
  BOOST_TEST(seen.what == (BEV_EVENT_WRITING | BEV_EVENT_ERROR));
  BOOST_TEST(seen.err == EPIPE);
  bufferevent_free(bev);
  event_base_free(base);
  ::sigaction(SIGPIPE, &old, nullptr);
}

BOOST_AUTO_TEST_CASE(a_length_of_minus_one_means_up_to_the_end_of_the_file) {
  const int fd = temp_file("skip:rest");
  Buf b;
  BOOST_REQUIRE(evbuffer_add_file(b, fd, 5, -1) == 0);
  BOOST_TEST(b.str() == "rest");
}
#endif

// ---- reading a file's bytes from the buffer ------------------------------------

BOOST_AUTO_TEST_CASE(a_files_bytes_can_be_copied_out_removed_and_searched) {
  const int fd = temp_file("alpha\nbeta\ngamma");
  Buf b;
  BOOST_REQUIRE(evbuffer_add_file(b, fd, 0, -1) == 0);
  BOOST_TEST(evbuffer_search(b, "gamma", 5, nullptr).pos == 11);
  char* line = evbuffer_readln(b, nullptr, EVBUFFER_EOL_LF);
  BOOST_REQUIRE(line);
  BOOST_TEST(std::string(line) == "alpha");
  std::free(line);
  char out[5];
  BOOST_TEST(evbuffer_remove(b, out, 5) == 5);
  BOOST_TEST(std::string(out, 5) == "beta\n");
  BOOST_TEST(std::string(reinterpret_cast<char*>(evbuffer_pullup(b, -1)), 5) == "gamma");
}

BOOST_AUTO_TEST_CASE(add_file_takes_the_range_from_offset_of_length) {
  const int fd = temp_file("0123456789");
  Buf b;
  BOOST_REQUIRE(evbuffer_add_file(b, fd, 3, 4) == 0);
  BOOST_TEST(b.str() == "3456");
}

BOOST_AUTO_TEST_CASE(a_file_read_into_memory_without_mmap_has_the_same_bytes) {
  const int fd = temp_file("no mapping here");
  evbuffer_file_segment* seg = evbuffer_file_segment_new(fd, 3, 7, EVBUF_FS_DISABLE_MMAP | EVBUF_FS_CLOSE_ON_FREE);
  BOOST_REQUIRE(seg);
  Buf b;
  BOOST_REQUIRE(evbuffer_add_file_segment(b, seg, 0, -1) == 0);
  evbuffer_file_segment_free(seg);
  BOOST_TEST(b.str() == "mapping");
}

BOOST_AUTO_TEST_CASE(a_segment_without_sendfile_is_still_written_to_a_socket) {
  const int fd = temp_file("plain writes");
  evbuffer_file_segment* seg = evbuffer_file_segment_new(fd, 0, -1, EVBUF_FS_DISABLE_SENDFILE | EVBUF_FS_CLOSE_ON_FREE);
  BOOST_REQUIRE(seg);
  Buf b;
  BOOST_REQUIRE(evbuffer_add_file_segment(b, seg, 0, -1) == 0);
  evbuffer_file_segment_free(seg);
  BOOST_TEST(write_all_through_socket(b) == "plain writes");
}

BOOST_AUTO_TEST_CASE(a_part_of_a_file_moves_to_another_buffer) {
  const int fd = temp_file("abcdefgh");
  Buf b, other;
  BOOST_REQUIRE(evbuffer_add_file(b, fd, 0, -1) == 0);
  BOOST_TEST(evbuffer_remove_buffer(b, other, 3) == 3);
  BOOST_TEST(other.str() == "abc");
  BOOST_TEST(b.str() == "defgh");
}

// ---- segments ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_segment_part_is_taken_from_within_the_segment) {
  const int fd = temp_file("0123456789abcdef");
  evbuffer_file_segment* seg = evbuffer_file_segment_new(fd, 2, 10, 0);  // "23456789ab"
  BOOST_REQUIRE(seg);
  Buf b;
  BOOST_REQUIRE(evbuffer_add_file_segment(b, seg, 3, 4) == 0);
  BOOST_TEST(b.str() == "5678");
  evbuffer_file_segment_free(seg);
  b.free();
  ::close(fd);
}

BOOST_AUTO_TEST_CASE(a_segment_in_two_buffers_is_freed_with_the_last_of_them) {
  const int fd = temp_file("shared");
  evbuffer_file_segment* seg = evbuffer_file_segment_new(fd, 0, -1, EVBUF_FS_CLOSE_ON_FREE);
  BOOST_REQUIRE(seg);
  int cleanups = 0;
  evbuffer_file_segment_add_cleanup_cb(seg, count_cleanup, &cleanups);
  Buf one, two;
  BOOST_REQUIRE(evbuffer_add_file_segment(one, seg, 0, -1) == 0);
  BOOST_REQUIRE(evbuffer_add_file_segment(two, seg, 0, 3) == 0);
  evbuffer_file_segment_free(seg);
  BOOST_TEST(one.str() == "shared");
  one.free();
  BOOST_TEST(cleanups == 0);
  BOOST_TEST(nettest::fd_is_open(fd));
  BOOST_TEST(two.str() == "sha");
  two.free();
  BOOST_TEST(cleanups == 1);
  BOOST_TEST(!nettest::fd_is_open(fd));  // EVBUF_FS_CLOSE_ON_FREE
}

BOOST_AUTO_TEST_CASE(a_segment_without_close_on_free_leaves_the_fd_open) {
  const int fd = temp_file("kept open");
  evbuffer_file_segment* seg = evbuffer_file_segment_new(fd, 0, -1, 0);
  BOOST_REQUIRE(seg);
  {
    Buf b;
    BOOST_REQUIRE(evbuffer_add_file_segment(b, seg, 0, -1) == 0);
    evbuffer_file_segment_free(seg);
  }
  BOOST_TEST(nettest::fd_is_open(fd));
  ::close(fd);
}

BOOST_AUTO_TEST_CASE(draining_a_files_bytes_lets_the_segment_go) {
  const int fd = temp_file("drained");
  evbuffer_file_segment* seg = evbuffer_file_segment_new(fd, 0, -1, EVBUF_FS_CLOSE_ON_FREE);
  BOOST_REQUIRE(seg);
  int cleanups = 0;
  evbuffer_file_segment_add_cleanup_cb(seg, count_cleanup, &cleanups);
  Buf b;
  evbuffer_add(b, "x", 1);
  BOOST_REQUIRE(evbuffer_add_file_segment(b, seg, 0, -1) == 0);
  evbuffer_file_segment_free(seg);
  evbuffer_drain(b, 8);
  BOOST_TEST(cleanups == 1);
  BOOST_TEST(b.length() == 0u);
}

BOOST_AUTO_TEST_CASE(a_segment_range_past_its_end_is_refused_and_its_reference_dropped) {
  const int fd = temp_file("short");
  evbuffer_file_segment* seg = evbuffer_file_segment_new(fd, 0, -1, EVBUF_FS_CLOSE_ON_FREE);
  BOOST_REQUIRE(seg);
  int cleanups = 0;
  evbuffer_file_segment_add_cleanup_cb(seg, count_cleanup, &cleanups);
  Buf b;
  BOOST_TEST(evbuffer_add_file_segment(b, seg, 2, 10) == -1);
  BOOST_TEST(b.length() == 0u);
  BOOST_TEST(cleanups == 1);  // as libevent: the failed add dropped the program's reference
}

BOOST_AUTO_TEST_CASE(a_file_is_refused_by_a_buffer_with_a_frozen_end) {
  const int fd = temp_file("frozen");
  Buf b;
  evbuffer_freeze(b, 0);
  BOOST_TEST(evbuffer_add_file(b, fd, 0, -1) == -1);
  BOOST_TEST(b.length() == 0u);
  BOOST_TEST(!nettest::fd_is_open(fd));  // closed with its segment, as libevent
}

BOOST_AUTO_TEST_CASE(a_segment_of_a_bad_range_is_not_made) {
  const int fd = temp_file("x");
  BOOST_TEST(evbuffer_file_segment_new(fd, -1, 1, 0) == nullptr);
  BOOST_TEST(evbuffer_file_segment_new(fd, 0, -2, 0) == nullptr);
  ::close(fd);
}

BOOST_AUTO_TEST_CASE(a_file_moved_to_another_buffer_still_goes_out_whole) {
  const std::string text = pattern(50000);
  const int fd = temp_file(text);
  Buf b, other;
  evbuffer_set_flags(other, EVBUFFER_FLAG_DRAINS_TO_FD);
  evbuffer_set_flags(b, EVBUFFER_FLAG_DRAINS_TO_FD);
  BOOST_REQUIRE(evbuffer_add_file(b, fd, 0, -1) == 0);
  BOOST_REQUIRE(evbuffer_add_buffer(other, b) == 0);
  BOOST_TEST(write_all_through_socket(other) == text);
}

BOOST_AUTO_TEST_CASE(a_buffer_holding_a_file_cannot_be_referenced) {
  const int fd = temp_file("file");
  Buf b, out;
  BOOST_REQUIRE(evbuffer_add_file(b, fd, 0, -1) == 0);
  BOOST_TEST(evbuffer_add_buffer_reference(out, b) == -1);
}

BOOST_AUTO_TEST_SUITE_END()

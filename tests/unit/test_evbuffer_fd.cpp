// evbuffer_read, evbuffer_write, evbuffer_write_atmost (event2/buffer.h):
// an evbuffer's own I/O on a file descriptor, with libevent 2.1.12's
// limits and results. Builds against real libevent too (-levent), which is
// how every expectation here was checked.
#define BOOST_TEST_MODULE evbuffer_fd
#include <boost/test/unit_test.hpp>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "buffers.hpp"

#include <sys/socket.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

namespace {

using nettest::Buf;


// A non-blocking pipe, closed at scope exit.
struct Pipe {
  int rd = -1, wr = -1;
  Pipe() {
    int p[2];
    BOOST_REQUIRE(::pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
    rd = p[0];
    wr = p[1];
  }
  ~Pipe() {
    if (rd >= 0) ::close(rd);
    if (wr >= 0) ::close(wr);
  }
  void put(const std::string& s) { BOOST_REQUIRE(::write(wr, s.data(), s.size()) == ssize_t(s.size())); }
  std::string take() {
    char tmp[65536];
    const ssize_t n = ::read(rd, tmp, sizeof tmp);
    return n > 0 ? std::string(tmp, size_t(n)) : std::string();
  }
};

} // namespace

BOOST_AUTO_TEST_CASE(evbuffer_read_appends_what_the_fd_has) {
  Buf b;
  Pipe p;
  evbuffer_add(b, "x:", 2);
  p.put("hello");
  BOOST_TEST(evbuffer_read(b, p.rd, -1) == 5);
  BOOST_TEST(b.str() == "x:hello");
}

BOOST_AUTO_TEST_CASE(evbuffer_read_takes_at_most_4096_bytes_a_call) {
  Buf b;
  Pipe p;
  p.put(std::string(10000, 'a'));
  BOOST_TEST(evbuffer_read(b, p.rd, -1) == 4096);
  BOOST_TEST(evbuffer_read(b, p.rd, 100000) == 4096);
  BOOST_TEST(evbuffer_read(b, p.rd, 10) == 10);
  BOOST_TEST(evbuffer_get_length(b) == 8202u);
}

BOOST_AUTO_TEST_CASE(evbuffer_read_returns_0_at_end_of_file) {
  Buf b;
  Pipe p;
  ::close(p.wr);
  p.wr = -1;
  BOOST_TEST(evbuffer_read(b, p.rd, -1) == 0);
  BOOST_TEST(evbuffer_get_length(b) == 0u);
}

BOOST_AUTO_TEST_CASE(evbuffer_read_of_an_empty_nonblocking_fd_fails_with_eagain) {
  Buf b;
  Pipe p;
  errno = 0;
  BOOST_TEST(evbuffer_read(b, p.rd, -1) == -1);
  BOOST_TEST(errno == EAGAIN);
  BOOST_TEST(evbuffer_get_length(b) == 0u);
}

BOOST_AUTO_TEST_CASE(evbuffer_read_of_a_bad_fd_fails_with_ebadf) {
  Buf b;
  errno = 0;
  BOOST_TEST(evbuffer_read(b, -1, -1) == -1);
  BOOST_TEST(errno == EBADF);
}

BOOST_AUTO_TEST_CASE(evbuffer_read_into_a_frozen_end_fails) {
  Buf b;
  Pipe p;
  p.put("abc");
  evbuffer_freeze(b, 0);
  BOOST_TEST(evbuffer_read(b, p.rd, -1) == -1);
  evbuffer_unfreeze(b, 0);
  BOOST_TEST(evbuffer_read(b, p.rd, -1) == 3);  // the bytes waited in the pipe
}

BOOST_AUTO_TEST_CASE(evbuffer_write_sends_the_front_and_drains_it) {
  Buf b;
  Pipe p;
  evbuffer_add(b, "one ", 4);
  Buf other;
  evbuffer_add(other, "two", 3);
  evbuffer_add_buffer(b, other);  // two chunks: one writev
  BOOST_TEST(evbuffer_write(b, p.wr) == 7);
  BOOST_TEST(evbuffer_get_length(b) == 0u);
  BOOST_TEST(p.take() == "one two");
}

BOOST_AUTO_TEST_CASE(evbuffer_write_atmost_sends_at_most_howmuch) {
  Buf b;
  Pipe p;
  evbuffer_add(b, "0123456789", 10);
  BOOST_TEST(evbuffer_write_atmost(b, p.wr, 4) == 4);
  BOOST_TEST(b.str() == "456789");
  BOOST_TEST(evbuffer_write_atmost(b, p.wr, 100) == 6);
  BOOST_TEST(p.take() == "0123456789");
}

BOOST_AUTO_TEST_CASE(evbuffer_write_of_an_empty_buffer_returns_minus_one) {
  Buf b;
  Pipe p;
  BOOST_TEST(evbuffer_write(b, p.wr) == -1);
  evbuffer_add(b, "x", 1);
  BOOST_TEST(evbuffer_write_atmost(b, p.wr, 0) == -1);
  BOOST_TEST(evbuffer_get_length(b) == 1u);
}

BOOST_AUTO_TEST_CASE(evbuffer_write_from_a_frozen_front_fails) {
  Buf b;
  Pipe p;
  evbuffer_add(b, "abc", 3);
  evbuffer_freeze(b, 1);
  BOOST_TEST(evbuffer_write(b, p.wr) == -1);
  BOOST_TEST(evbuffer_get_length(b) == 3u);
}

BOOST_AUTO_TEST_CASE(evbuffer_write_to_a_full_pipe_fails_with_eagain_and_keeps_the_bytes) {
  Buf b;
  Pipe p;
  const std::vector<char> block(1 << 16, 'z');
  while (::write(p.wr, block.data(), block.size()) > 0) {
  }
  evbuffer_add(b, "kept", 4);
  errno = 0;
  BOOST_TEST(evbuffer_write(b, p.wr) == -1);
  BOOST_TEST(errno == EAGAIN);
  BOOST_TEST(b.str() == "kept");
}

BOOST_AUTO_TEST_CASE(evbuffer_read_into_a_bufferevents_output_sends_it) {
  Pipe p;
  int sv[2];
  BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
  event_base* base = event_base_new();
  bufferevent* bev = bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE);
  BOOST_REQUIRE(bev);
  p.put("relayed");
  BOOST_TEST(evbuffer_read(bufferevent_get_output(bev), p.rd, -1) == 7);
  std::string got;
  for (int i = 0; i < 50 && got.size() < 7; ++i) {
    event_base_loop(base, EVLOOP_NONBLOCK);
    char tmp[16];
    const ssize_t n = ::read(sv[1], tmp, sizeof tmp);
    if (n > 0)
      got.append(tmp, size_t(n));
    else
      ::usleep(1000);
  }
  BOOST_TEST(got == "relayed");
  bufferevent_free(bev);
  event_base_free(base);
  ::close(sv[1]);
}

#ifdef EVASIO_EVENT2_BUFFER_H_INCLUDED_
BOOST_AUTO_TEST_CASE(a_null_buffer_is_refused) {
  Pipe p;
  BOOST_TEST(evbuffer_read(nullptr, p.rd, -1) == -1);
  BOOST_TEST(evbuffer_write(nullptr, p.wr) == -1);
  BOOST_TEST(errno == EINVAL);
}
#endif

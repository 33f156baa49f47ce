// Bad input at the C boundary: NULL, short or odd sockaddrs, unknown
// families, closed and non-socket fds, NULL bases and listeners. Each call
// fails cleanly (NULL or -1 with errno set), leaks no fd and leaves the
// caller's fd as it was. Cases real libevent 2.1.12 would crash on, or
// accepts, are evasio's own guarantees and sit inside #ifdef EVASIO_VERSION.
#define BOOST_TEST_MODULE bad_input
#include <boost/test/unit_test.hpp>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "fixtures.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

using namespace nettest;
namespace utf = boost::unit_test;

namespace {

using Watchdog = CaseAlarm<20>;

int g_calls = 0;
void never_cb(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void*) {
  ++g_calls;
  ::close(fd);
}

// new_bind must fail: NULL, errno set, no fd left behind.
void expect_new_bind_fails(const sockaddr* sa, int socklen, int expected_errno = 0) {
  Base base;
  const int before = count_open_fds();
  errno = 0;
  evconnlistener* lev =
      evconnlistener_new_bind(base, never_cb, nullptr, LEV_OPT_CLOSE_ON_FREE, -1, sa, socklen);
  const int err = errno;
  BOOST_TEST(lev == nullptr);
  if (lev)
    evconnlistener_free(lev);
  BOOST_TEST(err != 0);
  if (expected_errno)
    BOOST_TEST(err == expected_errno, "errno " << err << " (" << std::strerror(err) << ")");
  BOOST_TEST(count_open_fds() == before);
}

// The observable state of a caller's fd.
struct FdState {
  int status = -1, descriptor = -1, listening = -1;
  explicit FdState(int fd)
      : status(fd_status_flags(fd)), descriptor(fd_descriptor_flags(fd)),
        listening(sockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN)) {}
  bool operator==(const FdState& o) const {
    return status == o.status && descriptor == o.descriptor && listening == o.listening;
  }
};

// evconnlistener_new(fd) must fail with NULL and errno, leaving fd open and
// as it was.
void expect_new_fails_and_leaves_fd(event_base* base, int fd, int backlog, int expected_errno) {
  const FdState before(fd);
  const int fds_before = count_open_fds();
  errno = 0;
  evconnlistener* lev = evconnlistener_new(base, never_cb, nullptr, 0, backlog, fd);
  const int err = errno;
  BOOST_TEST(lev == nullptr);
  if (lev)
    evconnlistener_free(lev);
  BOOST_TEST(err == expected_errno, "errno " << err << " (" << std::strerror(err) << ")");
  BOOST_TEST(fd_is_open(fd));
  BOOST_TEST((FdState(fd) == before));
  BOOST_TEST(count_open_fds() == fds_before);
}

// An fd number that is certainly closed.
int closed_fd_number() {
  int p[2];
  BOOST_TEST_REQUIRE(::pipe(p) == 0);
  ::close(p[1]);
  ::close(p[0]);
  return p[0];
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(bad_input, Watchdog)

// ---- evconnlistener_new_bind: addresses --------------------------------------

BOOST_AUTO_TEST_CASE(new_bind_with_null_sockaddr_returns_null_with_errno) {
  expect_new_bind_fails(nullptr, static_cast<int>(sizeof(sockaddr_in)));
}

BOOST_AUTO_TEST_CASE(new_bind_with_socklen_zero_returns_null_with_errno) {
  const Addr a = ipv4_loopback(0);
  expect_new_bind_fails(a.sa(), 0);
}

BOOST_AUTO_TEST_CASE(new_bind_with_negative_socklen_returns_null_with_errno) {
  const Addr a = ipv4_loopback(0);
  expect_new_bind_fails(a.sa(), -1);
  expect_new_bind_fails(a.sa(), -100000);
}

BOOST_AUTO_TEST_CASE(new_bind_with_ipv4_sockaddr_shorter_than_sockaddr_in_returns_null_with_einval) {
  const Addr a = ipv4_loopback(0);
  expect_new_bind_fails(a.sa(), static_cast<int>(sizeof(sockaddr_in)) - 1, EINVAL);
  expect_new_bind_fails(a.sa(), static_cast<int>(sizeof(sa_family_t)), EINVAL);
}

BOOST_AUTO_TEST_CASE(new_bind_with_ipv6_sockaddr_shorter_than_sockaddr_in6_returns_null_with_einval,
                     *utf::precondition([](utf::test_unit_id) { return ipv6_loopback_works(); })) {
  const Addr a = ipv6_loopback(0);
  expect_new_bind_fails(a.sa(), static_cast<int>(sizeof(sockaddr_in)), EINVAL);
}

BOOST_AUTO_TEST_CASE(new_bind_with_socklen_beyond_sockaddr_storage_returns_null_with_einval) {
  // A large, readable buffer so that no implementation reads out of bounds.
  union {
    sockaddr_in sin;
    unsigned char bytes[1024];
  } big;
  std::memset(&big, 0, sizeof big);
  const Addr a = ipv4_loopback(0);
  std::memcpy(&big.sin, &a.ss, sizeof(sockaddr_in));
  expect_new_bind_fails(reinterpret_cast<const sockaddr*>(&big), static_cast<int>(sizeof big),
                        EINVAL);
}

BOOST_AUTO_TEST_CASE(new_bind_with_an_unknown_family_returns_null_with_errno) {
  sockaddr_storage ss;
  std::memset(&ss, 0, sizeof ss);
  ss.ss_family = AF_APPLETALK;
  expect_new_bind_fails(reinterpret_cast<const sockaddr*>(&ss), static_cast<int>(sizeof ss));
}

BOOST_AUTO_TEST_CASE(new_bind_with_af_unspec_returns_null_with_errno) {
  sockaddr_storage ss;
  std::memset(&ss, 0, sizeof ss);
  ss.ss_family = AF_UNSPEC;
  expect_new_bind_fails(reinterpret_cast<const sockaddr*>(&ss), static_cast<int>(sizeof ss));
}

BOOST_AUTO_TEST_CASE(new_bind_keeps_the_errno_of_the_failing_bind) {
  // A unix path in a directory that does not exist: bind says ENOENT.
  const Addr missing = unix_address("/tmp/evasio-test-no-such-dir-" +
                                    std::to_string(::getpid()) + "/x.sock");
  expect_new_bind_fails(missing.sa(), missing.ilen(), ENOENT);
  // An address no interface has (TEST-NET-1): EADDRNOTAVAIL.
  Addr foreign = ipv4_loopback(0);
  reinterpret_cast<sockaddr_in*>(&foreign.ss)->sin_addr.s_addr = htonl(0xC0000201u);
  expect_new_bind_fails(foreign.sa(), foreign.ilen(), EADDRNOTAVAIL);
}

// ---- evconnlistener_new: fds ---------------------------------------------------

BOOST_AUTO_TEST_CASE(new_with_a_closed_fd_returns_null_with_ebadf) {
  Base base;
  const int fd = closed_fd_number();
  const int before = count_open_fds();
  errno = 0;
  evconnlistener* lev = evconnlistener_new(base, never_cb, nullptr, 0, -1, fd);
  BOOST_TEST(lev == nullptr);
  BOOST_TEST(errno == EBADF);
  if (lev)
    evconnlistener_free(lev);
  BOOST_TEST(!fd_is_open(fd));
  BOOST_TEST(count_open_fds() == before);
}

BOOST_AUTO_TEST_CASE(new_with_fd_minus_1_returns_null_with_ebadf) {
  Base base;
  errno = 0;
  evconnlistener* lev = evconnlistener_new(base, never_cb, nullptr, 0, -1, -1);
  BOOST_TEST(lev == nullptr);
  BOOST_TEST(errno == EBADF);
  if (lev)
    evconnlistener_free(lev);
}

BOOST_AUTO_TEST_CASE(new_with_a_pipe_returns_null_with_enotsock_and_leaves_it_unchanged) {
  Base base;
  int p[2];
  BOOST_TEST_REQUIRE(::pipe(p) == 0);
  Fd r(p[0]), w(p[1]);
  expect_new_fails_and_leaves_fd(base, r.get(), -1, ENOTSOCK);
}

BOOST_AUTO_TEST_CASE(new_with_dev_null_returns_null_with_enotsock_and_leaves_it_unchanged) {
  Base base;
  Fd f(::open("/dev/null", O_RDWR));
  BOOST_TEST_REQUIRE(f.valid());
  expect_new_fails_and_leaves_fd(base, f.get(), 16, ENOTSOCK);
}

BOOST_AUTO_TEST_CASE(new_with_a_udp_socket_returns_null_and_leaves_it_unchanged) {
  Base base;
  Fd u(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
  BOOST_TEST_REQUIRE(u.valid());
  const Addr a = ipv4_loopback(0);
  BOOST_TEST_REQUIRE(::bind(u.get(), a.sa(), a.len) == 0);
  const Addr bound = local_address(u.get());
  expect_new_fails_and_leaves_fd(base, u.get(), -1, EOPNOTSUPP);
  BOOST_TEST(local_address(u.get()).port() == bound.port());
}

BOOST_AUTO_TEST_CASE(new_with_a_unix_datagram_socket_returns_null_and_leaves_it_unchanged) {
  Base base;
  TempSocketPath path("dgram");
  Fd u(::socket(AF_UNIX, SOCK_DGRAM, 0));
  BOOST_TEST_REQUIRE(u.valid());
  const Addr a = path.addr();
  BOOST_TEST_REQUIRE(::bind(u.get(), a.sa(), a.len) == 0);
  expect_new_fails_and_leaves_fd(base, u.get(), 8, EOPNOTSUPP);
}

// ---- NULL bases ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(loopexit_with_null_base_returns_minus_1) {
  const timeval tv{0, 1000};
  BOOST_TEST(event_base_loopexit(nullptr, nullptr) == -1);
  BOOST_TEST(event_base_loopexit(nullptr, &tv) == -1);
}

BOOST_AUTO_TEST_CASE(loopbreak_with_null_base_returns_minus_1) {
  BOOST_TEST(event_base_loopbreak(nullptr) == -1);
}

BOOST_AUTO_TEST_CASE(event_base_free_of_null_does_nothing) {
  const int before = count_open_fds();
  event_base_free(nullptr);
  BOOST_TEST(count_open_fds() == before);
}

#ifdef EVASIO_VERSION
// Real libevent dereferences the NULL base in these (a crash), or, for
// backlog 0, adopts what it is given without checking it.

BOOST_AUTO_TEST_CASE(dispatch_with_null_base_returns_minus_1) {
  BOOST_TEST(event_base_dispatch(nullptr) == -1);
}

BOOST_AUTO_TEST_CASE(loop_with_null_base_returns_minus_1) {
  BOOST_TEST(event_base_loop(nullptr, 0) == -1);
  BOOST_TEST(event_base_loop(nullptr, EVLOOP_ONCE) == -1);
  BOOST_TEST(event_base_loop(nullptr, EVLOOP_NONBLOCK) == -1);
}

BOOST_AUTO_TEST_CASE(new_with_null_base_returns_null_with_einval_and_leaves_the_fd_unchanged) {
  Fd s = bound_socket(ipv4_loopback(0));
  BOOST_TEST_REQUIRE(s.valid());
  const FdState before(s.get());
  errno = 0;
  evconnlistener* lev = evconnlistener_new(nullptr, never_cb, nullptr, 0, -1, s.get());
  BOOST_TEST(lev == nullptr);
  BOOST_TEST(errno == EINVAL);
  if (lev)
    evconnlistener_free(lev);
  BOOST_TEST(fd_is_open(s.get()));
  BOOST_TEST(!is_listening(s.get()));  // not even listen() was done
  BOOST_TEST((FdState(s.get()) == before));
}

BOOST_AUTO_TEST_CASE(new_with_null_base_and_close_on_free_does_not_close_the_fd) {
  Fd s = bound_socket(ipv4_loopback(0));
  BOOST_TEST_REQUIRE(s.valid());
  BOOST_TEST_REQUIRE(::listen(s.get(), 4) == 0);
  evconnlistener* lev =
      evconnlistener_new(nullptr, never_cb, nullptr, LEV_OPT_CLOSE_ON_FREE, 0, s.get());
  BOOST_TEST(lev == nullptr);
  if (lev)
    evconnlistener_free(lev);
  BOOST_TEST(fd_is_open(s.get()));
  BOOST_TEST(is_listening(s.get()));
}

BOOST_AUTO_TEST_CASE(new_bind_with_null_base_returns_null_with_einval_and_leaks_no_fd) {
  const Addr a = ipv4_loopback(0);
  const int before = count_open_fds();
  errno = 0;
  evconnlistener* lev = evconnlistener_new_bind(nullptr, never_cb, nullptr, LEV_OPT_CLOSE_ON_FREE,
                                                -1, a.sa(), a.ilen());
  BOOST_TEST(lev == nullptr);
  BOOST_TEST(errno == EINVAL);
  if (lev)
    evconnlistener_free(lev);
  BOOST_TEST(count_open_fds() == before);
}

BOOST_AUTO_TEST_CASE(new_with_a_closed_fd_and_backlog_zero_returns_null_with_ebadf) {
  Base base;
  const int fd = closed_fd_number();
  const int before = count_open_fds();
  errno = 0;
  evconnlistener* lev = evconnlistener_new(base, never_cb, nullptr, 0, 0, fd);
  BOOST_TEST(lev == nullptr);
  BOOST_TEST(errno == EBADF);
  if (lev)
    evconnlistener_free(lev);
  BOOST_TEST(count_open_fds() == before);
}

BOOST_AUTO_TEST_CASE(new_with_a_pipe_and_backlog_zero_returns_null_with_enotsock) {
  Base base;
  int p[2];
  BOOST_TEST_REQUIRE(::pipe(p) == 0);
  Fd r(p[0]), w(p[1]);
  expect_new_fails_and_leaves_fd(base, r.get(), 0, ENOTSOCK);
}

BOOST_AUTO_TEST_CASE(new_with_a_udp_socket_and_backlog_zero_returns_null_and_leaves_it_unchanged) {
  Base base;
  Fd u(::socket(AF_INET, SOCK_DGRAM, 0));
  BOOST_TEST_REQUIRE(u.valid());
  const Addr a = ipv4_loopback(0);
  BOOST_TEST_REQUIRE(::bind(u.get(), a.sa(), a.len) == 0);
  const FdState before(u.get());
  const int fds_before = count_open_fds();
  errno = 0;
  evconnlistener* lev = evconnlistener_new(base, never_cb, nullptr, 0, 0, u.get());
  const int err = errno;
  BOOST_TEST(lev == nullptr);
  BOOST_TEST(err != 0);
  if (lev)
    evconnlistener_free(lev);
  BOOST_TEST((FdState(u.get()) == before));  // still blocking, as given
  BOOST_TEST(count_open_fds() == fds_before);
}

BOOST_AUTO_TEST_CASE(evconnlistener_free_of_null_does_nothing) {
  evconnlistener_free(nullptr);
  BOOST_TEST(true);
}

BOOST_AUTO_TEST_CASE(bufferevent_free_of_null_does_nothing) {
  bufferevent_free(nullptr);
  BOOST_TEST(true);
}

BOOST_AUTO_TEST_CASE(listener_calls_on_a_null_listener_fail_without_crashing) {
  BOOST_TEST(evconnlistener_enable(nullptr) == -1);
  BOOST_TEST(evconnlistener_disable(nullptr) == -1);
  BOOST_TEST(evconnlistener_get_fd(nullptr) == -1);
  BOOST_TEST(evconnlistener_get_base(nullptr) == nullptr);
  evconnlistener_set_cb(nullptr, never_cb, nullptr);
  evconnlistener_set_error_cb(nullptr, nullptr);
}

// The bufferevent family's calls with NULL: -1 (NULL) with EINVAL, or
// nothing at all, never a crash (libevent dereferences most of them).
BOOST_AUTO_TEST_CASE(bufferevent_family_calls_with_null_fail_without_crashing) {
  Base base;
  BOOST_TEST(bufferevent_pair_new(base, 0, nullptr) == -1);
  BOOST_TEST(errno == EINVAL);
  BOOST_TEST(bufferevent_pair_get_partner(nullptr) == nullptr);
  errno = 0;
  BOOST_TEST(bufferevent_filter_new(nullptr, nullptr, nullptr, 0, nullptr, nullptr) == nullptr);
  BOOST_TEST(errno == EINVAL);
  BOOST_TEST(bufferevent_flush(nullptr, EV_WRITE, BEV_FLUSH) == -1);
  BOOST_TEST(bufferevent_get_underlying(nullptr) == nullptr);
  BOOST_TEST(bufferevent_priority_set(nullptr, 0) == -1);
  BOOST_TEST(bufferevent_get_priority(nullptr) == -1);
  BOOST_TEST(bufferevent_set_max_single_read(nullptr, 10) == -1);
  BOOST_TEST(bufferevent_get_max_single_write(nullptr) == -1);
  BOOST_TEST(bufferevent_decref(nullptr) == -1);
  bufferevent_incref(nullptr);
  bufferevent_trigger(nullptr, EV_READ, 0);
  bufferevent_trigger_event(nullptr, BEV_EVENT_EOF, 0);
}

// A filter whose filter always answers BEV_ERROR produces nothing and
// crashes nothing; the bytes stay where they were (as libevent).
BOOST_AUTO_TEST_CASE(a_filter_answering_bev_error_moves_nothing) {
  Base base;
  bufferevent* p[2];
  BOOST_TEST_REQUIRE(bufferevent_pair_new(base, 0, p) == 0);
  auto err = [](evbuffer*, evbuffer*, ev_ssize_t, bufferevent_flush_mode, void*) {
    return BEV_ERROR;
  };
  bufferevent* f = bufferevent_filter_new(p[0], err, err, BEV_OPT_CLOSE_ON_FREE, nullptr, nullptr);
  BOOST_TEST_REQUIRE(f != nullptr);
  BOOST_TEST(bufferevent_write(f, "abc", 3) == 0);
  BOOST_TEST(evbuffer_get_length(bufferevent_get_output(f)) == 3u);
  BOOST_TEST(bufferevent_flush(f, EV_WRITE, BEV_FLUSH) == 0);
  bufferevent_free(f);
  bufferevent_free(p[1]);
}
#endif

// ---- a failed call leaves the library usable ------------------------------------

BOOST_AUTO_TEST_CASE(after_failed_calls_a_valid_listener_still_works) {
  Base base;
  const Addr a = ipv4_loopback(0);
  BOOST_TEST(evconnlistener_new_bind(base, never_cb, nullptr, 0, -1, a.sa(), 0) == nullptr);
  BOOST_TEST(evconnlistener_new(base, never_cb, nullptr, 0, -1, closed_fd_number()) == nullptr);
  g_calls = 0;
  evconnlistener* lev = evconnlistener_new_bind(base, never_cb, nullptr, LEV_OPT_CLOSE_ON_FREE, -1,
                                                a.sa(), a.ilen());
  BOOST_TEST_REQUIRE(lev != nullptr);
  Fd c = connect_to(local_address(evconnlistener_get_fd(lev)));
  BOOST_TEST_REQUIRE(c.valid());
  const timeval safety{5, 0};  // ends the loop only if EVLOOP_ONCE is ignored
  BOOST_TEST_REQUIRE(event_base_loopexit(base, &safety) == 0);
  BOOST_TEST(event_base_loop(base, EVLOOP_ONCE) == 0);
  BOOST_TEST(event_base_got_exit(base) == 0);
  BOOST_TEST(g_calls == 1);
  evconnlistener_free(lev);
}

BOOST_AUTO_TEST_SUITE_END()

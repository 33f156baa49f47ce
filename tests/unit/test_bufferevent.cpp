// event2/bufferevent.h: socket bufferevents (connect, read and write,
// enable/disable, watermarks, timeouts, setfd, flush, locking, deferred
// callbacks, freeing from callbacks), with libevent 2.1.12's semantics.
//
// The file builds against real libevent too (system headers, -levent
// -levent_pthreads), which is how every expectation here was checked. Cases
// where evasio differs on purpose are under #ifdef EVASIO_VERSION.
//
// Only real fds: AF_UNIX socketpairs and loopback TCP. No assertion depends
// on speed: a SafetyAlarm turns a hang into a failure, and the timeout tests
// check only that a timeout did not fire before its time.
#define BOOST_TEST_MODULE bufferevent
#include <boost/test/unit_test.hpp>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "fixtures.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <functional>
#include <string>
#include <type_traits>
#include <thread>
#include <vector>

#ifdef EVASIO_VERSION
#include <evasio/asio.hpp>
#endif

// bufferevent_read_buffer() is optional here: the probe below finds out at
// compile time whether <event2/bufferevent.h> declares it.
namespace probe_fallback {
struct absent {};
template <class... A>
absent bufferevent_read_buffer(A...) {
  return {};
}
} // namespace probe_fallback

namespace probe {
using namespace probe_fallback;
template <class Bev>
auto read_buffer(Bev* bev, struct evbuffer* buf) {
  return bufferevent_read_buffer(bev, buf);
}
constexpr bool has_read_buffer =
    !std::is_same<decltype(read_buffer<struct bufferevent>(nullptr, nullptr)),
                  probe_fallback::absent>::value;
} // namespace probe

namespace {

using nettest::Fd;
using nettest::ms_tv;
using nettest::stopwatch;

struct base_fixture : nettest::AlarmedBase<30> {
  base_fixture() { nettest::ignore_sigpipe(); }
};

using nettest::socket_pair;

// A listening TCP socket on 127.0.0.1 (or ::1), port chosen by the kernel.
struct tcp_listener {
  explicit tcp_listener(bool v6 = false) {
    const nettest::Addr at = v6 ? nettest::ipv6_loopback(0) : nettest::ipv4_loopback(0);
    fd = nettest::bound_socket(at, false);
    BOOST_REQUIRE(fd.valid());
    BOOST_REQUIRE(::listen(fd.get(), 16) == 0);
    addr = nettest::local_address(fd.get());
    BOOST_REQUIRE(addr.len > 0);
  }
  Fd accept_one() const { return Fd(::accept4(fd.get(), nullptr, nullptr, SOCK_CLOEXEC)); }
  Fd fd;
  nettest::Addr addr;
};

void send_all(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    BOOST_REQUIRE(w > 0);
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void send_str(int fd, const char* s) { send_all(fd, s, std::strlen(s)); }

// Reads exactly n bytes (blocking, bounded by the safety alarm).
std::string recv_exactly(int fd, size_t n) {
  std::string out;
  char buf[65536];
  while (out.size() < n) {
    if (!nettest::wait_readable(fd, 10000))
      break;
    const ssize_t r = ::recv(fd, buf, std::min(sizeof buf, n - out.size()), 0);
    if (r <= 0)
      break;
    out.append(buf, static_cast<size_t>(r));
  }
  return out;
}

// True when the next read on fd says end of file.
bool peer_sees_eof(int fd) {
  char c;
  if (!nettest::wait_readable(fd, 10000))
    return false;
  return ::recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

size_t unread_bytes(int fd) {
  int n = 0;
  if (::ioctl(fd, FIONREAD, &n) < 0)
    return static_cast<size_t>(-1);
  return static_cast<size_t>(n);
}

// Deterministic test data.
std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

// Runs the loop until pred() holds: a 1 ms persistent timer checks it and
// breaks the loop. Returns pred(). (The safety alarm ends a hang.) With
// max_ms, it also stops after about that many ticks: a safety net for cases
// that expect pred() to stay false, never an assertion on speed.
bool pump(event_base* base, const std::function<bool()>& pred, int max_ms = -1) {
  if (pred())
    return true;
  struct st_t {
    const std::function<bool()>* pred;
    event_base* base;
    int ticks_left;
  } st{&pred, base, max_ms};
  event* t = event_new(base, -1, EV_PERSIST,
                       [](evutil_socket_t, short, void* arg) {
                         auto* s = static_cast<st_t*>(arg);
                         if ((*s->pred)() || (s->ticks_left > 0 && --s->ticks_left == 0))
                           event_base_loopbreak(s->base);
                       },
                       &st);
  timeval tv{0, 1000};
  event_add(t, &tv);
  event_base_dispatch(base);
  event_free(t);
  return pred();
}

// What the callbacks saw.
struct seen_t {
  event_base* base = nullptr;
  int reads = 0;
  int writes = 0;
  int events = 0;
  std::vector<short> whats;
  std::string data;           // appended by readers that read
  int event_errno = 0;
  bool exit_on_event = false;  // loopexit from the event callback
  size_t input_at_read = 0;
  size_t output_at_write = 0;
};

// The i-th event callback's `what`, or -1 when there were fewer calls.
int what_at(const seen_t& s, size_t i) { return i < s.whats.size() ? s.whats[i] : -1; }

void on_read_count(struct bufferevent* bev, void* arg) {
  auto* s = static_cast<seen_t*>(arg);
  ++s->reads;
  s->input_at_read = evbuffer_get_length(bufferevent_get_input(bev));
}

void on_read_take(struct bufferevent* bev, void* arg) {
  auto* s = static_cast<seen_t*>(arg);
  ++s->reads;
  char buf[4096];
  size_t n;
  while ((n = bufferevent_read(bev, buf, sizeof buf)) > 0)
    s->data.append(buf, n);
}

void on_write_count(struct bufferevent* bev, void* arg) {
  auto* s = static_cast<seen_t*>(arg);
  ++s->writes;
  s->output_at_write = evbuffer_get_length(bufferevent_get_output(bev));
}

void on_event(struct bufferevent*, short what, void* arg) {
  auto* s = static_cast<seen_t*>(arg);
  s->event_errno = errno;
  ++s->events;
  s->whats.push_back(what);
  if (s->exit_on_event && s->base)
    event_base_loopexit(s->base, nullptr);
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(bufferevents, base_fixture)

// ---- creation and accessors --------------------------------------------------

BOOST_AUTO_TEST_CASE(socket_new_with_fd_minus_one_has_no_fd_yet) {
  struct bufferevent* bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
  BOOST_REQUIRE(bev != nullptr);
  BOOST_TEST(bufferevent_getfd(bev) == -1);
  BOOST_TEST(bufferevent_get_base(bev) == base);
  BOOST_TEST(bufferevent_get_enabled(bev) == EV_WRITE);  // writing is on from the start
  evbuffer* in = bufferevent_get_input(bev);
  evbuffer* out = bufferevent_get_output(bev);
  BOOST_TEST(in != nullptr);
  BOOST_TEST(out != nullptr);
  BOOST_TEST(in != out);
  BOOST_TEST(evbuffer_get_length(in) == 0u);
  BOOST_TEST(evbuffer_get_length(out) == 0u);
  BOOST_TEST(bufferevent_socket_get_dns_error(bev) == 0);
  // Nothing to do: the loop has no events.
  BOOST_TEST(event_base_dispatch(base) == 1);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(getfd_and_get_base_of_a_bufferevent_on_a_socket) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  BOOST_REQUIRE(bev != nullptr);
  BOOST_TEST(bufferevent_getfd(bev) == s.a.get());
  BOOST_TEST(bufferevent_get_base(bev) == base);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(getcb_returns_what_setcb_set) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  seen_t seen;
  bufferevent_setcb(bev, on_read_count, on_write_count, on_event, &seen);
  bufferevent_data_cb r = nullptr, w = nullptr;
  bufferevent_event_cb e = nullptr;
  void* arg = nullptr;
  bufferevent_getcb(bev, &r, &w, &e, &arg);
  BOOST_TEST(r == &on_read_count);
  BOOST_TEST(w == &on_write_count);
  BOOST_TEST(e == &on_event);
  BOOST_TEST(arg == static_cast<void*>(&seen));
  bufferevent_setcb(bev, nullptr, nullptr, nullptr, nullptr);
  bufferevent_getcb(bev, &r, &w, &e, &arg);
  BOOST_TEST(r == nullptr);
  BOOST_TEST(w == nullptr);
  BOOST_TEST(e == nullptr);
  BOOST_TEST(arg == nullptr);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(close_on_free_closes_the_socket_and_its_absence_leaves_it_open) {
  socket_pair s1, s2;
  const int fd1 = s1.a.release();
  struct bufferevent* closing = bufferevent_socket_new(base, fd1, BEV_OPT_CLOSE_ON_FREE);
  struct bufferevent* keeping = bufferevent_socket_new(base, s2.a.get(), 0);
  bufferevent_free(closing);
  bufferevent_free(keeping);
  // libevent closes from the loop (its finalizers run there): let it run.
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(peer_sees_eof(s1.b.get()));
  BOOST_TEST(nettest::fd_is_open(s2.a.get()));
}

// ---- connect --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(socket_connect_with_fd_minus_one_reports_connected) {
  tcp_listener lst;
  struct bufferevent* bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
  seen_t seen;
  seen.base = base;
  seen.exit_on_event = true;
  bufferevent_setcb(bev, nullptr, nullptr, on_event, &seen);
  BOOST_REQUIRE(bufferevent_socket_connect(bev, lst.addr.sa(), lst.addr.ilen()) == 0);
  BOOST_TEST(bufferevent_getfd(bev) >= 0);  // it made a socket
  event_base_dispatch(base);
  BOOST_TEST(seen.events == 1);
  BOOST_TEST(what_at(seen, 0) == BEV_EVENT_CONNECTED);
  Fd peer = lst.accept_one();
  BOOST_REQUIRE(peer.valid());
  // The bufferevent's socket is the one the listener accepted.
  const nettest::Addr mine = nettest::local_address(bufferevent_getfd(bev));
  sockaddr_storage theirs{};
  socklen_t len = sizeof theirs;
  BOOST_REQUIRE(::getpeername(peer.get(), reinterpret_cast<sockaddr*>(&theirs), &len) == 0);
  BOOST_TEST(nettest::same_endpoint(reinterpret_cast<sockaddr*>(&theirs), len, mine));
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(socket_connect_over_ipv6_loopback_reports_connected) {
  if (!nettest::ipv6_loopback_works()) {
    BOOST_TEST_MESSAGE("no IPv6 loopback here: skipped");
    return;
  }
  tcp_listener lst(true);
  struct bufferevent* bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
  seen_t seen;
  seen.base = base;
  seen.exit_on_event = true;
  bufferevent_setcb(bev, nullptr, nullptr, on_event, &seen);
  BOOST_REQUIRE(bufferevent_socket_connect(bev, lst.addr.sa(), lst.addr.ilen()) == 0);
  event_base_dispatch(base);
  BOOST_TEST(seen.events == 1);
  BOOST_TEST(what_at(seen, 0) == BEV_EVENT_CONNECTED);
  BOOST_TEST(nettest::local_address(bufferevent_getfd(bev)).family() == AF_INET6);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(data_written_before_the_connect_completes_is_sent_after_it) {
  tcp_listener lst;
  struct bufferevent* bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
  seen_t seen;
  bufferevent_setcb(bev, nullptr, on_write_count, on_event, &seen);
  BOOST_REQUIRE(bufferevent_socket_connect(bev, lst.addr.sa(), lst.addr.ilen()) == 0);
  BOOST_REQUIRE(bufferevent_write(bev, "early bird", 10) == 0);
  BOOST_TEST(pump(base, [&] { return seen.writes > 0; }));
  BOOST_TEST(seen.events >= 1);
  BOOST_TEST(what_at(seen, 0) == BEV_EVENT_CONNECTED);  // connected first, then written
  Fd peer = lst.accept_one();
  BOOST_REQUIRE(peer.valid());
  BOOST_TEST(recv_exactly(peer.get(), 10) == "early bird");
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(socket_connect_to_a_closed_port_reports_an_error) {
  // A bound socket that does not listen holds the port: connecting is refused.
  Fd holder = nettest::bound_socket(nettest::ipv4_loopback(0));
  BOOST_REQUIRE(holder.valid());
  const nettest::Addr to = nettest::local_address(holder.get());
  struct bufferevent* bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
  seen_t seen;
  seen.base = base;
  seen.exit_on_event = true;
  bufferevent_setcb(bev, nullptr, on_write_count, on_event, &seen);
  BOOST_REQUIRE(bufferevent_socket_connect(bev, to.sa(), to.ilen()) == 0);
  event_base_dispatch(base);
  BOOST_TEST(seen.events == 1);
  BOOST_TEST(what_at(seen, 0) == BEV_EVENT_ERROR);
  BOOST_TEST(seen.event_errno == ECONNREFUSED);
  BOOST_TEST(seen.writes == 0);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(socket_connect_on_a_bufferevent_given_an_unconnected_socket) {
  tcp_listener lst;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  BOOST_REQUIRE(fd >= 0);
  struct bufferevent* bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
  seen_t seen;
  seen.base = base;
  seen.exit_on_event = true;
  bufferevent_setcb(bev, nullptr, nullptr, on_event, &seen);
  BOOST_REQUIRE(bufferevent_socket_connect(bev, lst.addr.sa(), lst.addr.ilen()) == 0);
  BOOST_TEST(bufferevent_getfd(bev) == fd);  // its own socket, not a new one
  event_base_dispatch(base);
  BOOST_TEST(seen.events == 1);
  BOOST_TEST(what_at(seen, 0) == BEV_EVENT_CONNECTED);
  bufferevent_free(bev);
}

// ---- writing and reading -----------------------------------------------------------

BOOST_AUTO_TEST_CASE(write_sends_the_bytes_and_writecb_runs_once_output_is_empty) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  seen_t seen;
  bufferevent_setcb(bev, nullptr, on_write_count, on_event, &seen);
  BOOST_REQUIRE(bufferevent_write(bev, "hello", 5) == 0);
  BOOST_REQUIRE(bufferevent_write(bev, " world", 6) == 0);
  BOOST_TEST(evbuffer_get_length(bufferevent_get_output(bev)) == 11u);
  // Written out, the write side has nothing left to wait for: the loop ends.
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.writes == 1);
  BOOST_TEST(seen.output_at_write == 0u);
  BOOST_TEST(recv_exactly(s.b.get(), 11) == "hello world");
  BOOST_TEST(seen.events == 0);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(write_buffer_moves_the_whole_evbuffer_out) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  evbuffer* src = evbuffer_new();
  const std::string data = pattern(100000);
  BOOST_REQUIRE(evbuffer_add(src, data.data(), data.size()) == 0);
  BOOST_REQUIRE(bufferevent_write_buffer(bev, src) == 0);
  BOOST_TEST(evbuffer_get_length(src) == 0u);  // moved, not copied
  BOOST_TEST(evbuffer_get_length(bufferevent_get_output(bev)) == data.size());
  std::string got;
  BOOST_TEST(pump(base, [&] {
    char buf[65536];
    ssize_t r;
    while ((r = ::recv(s.b.get(), buf, sizeof buf, MSG_DONTWAIT)) > 0)
      got.append(buf, static_cast<size_t>(r));
    return got.size() >= data.size();
  }));
  BOOST_TEST((got == data));
  evbuffer_free(src);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(read_takes_the_bytes_that_arrived) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  seen_t seen;
  bufferevent_setcb(bev, on_read_take, nullptr, on_event, &seen);
  send_str(s.b.get(), "world");
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_TEST(pump(base, [&] { return seen.data.size() >= 5; }));
  BOOST_TEST(seen.data == "world");
  BOOST_TEST(evbuffer_get_length(bufferevent_get_input(bev)) == 0u);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(read_with_a_small_buffer_leaves_the_rest_in_the_input) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  seen_t seen;
  bufferevent_setcb(bev, on_read_count, nullptr, on_event, &seen);
  send_str(s.b.get(), "abcdef");
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  evbuffer* in = bufferevent_get_input(bev);
  BOOST_TEST(pump(base, [&] { return evbuffer_get_length(in) >= 6; }));
  char buf[2];
  BOOST_TEST(bufferevent_read(bev, buf, sizeof buf) == 2u);
  BOOST_TEST(std::string(buf, 2) == "ab");
  BOOST_TEST(evbuffer_get_length(in) == 4u);
  char rest[16];
  BOOST_TEST(bufferevent_read(bev, rest, sizeof rest) == 4u);
  BOOST_TEST(std::string(rest, 4) == "cdef");
  BOOST_TEST(bufferevent_read(bev, rest, sizeof rest) == 0u);
  bufferevent_free(bev);
}

// A template, so that the call is compiled only where the function exists.
template <class Bev>
void check_read_buffer(event_base* base) {
  if constexpr (!probe::has_read_buffer) {
    BOOST_ERROR("bufferevent_read_buffer() is not declared by <event2/bufferevent.h> "
                "(libevent 2.1.12 has it; issue 3 lists it)");
  } else {
    socket_pair s;
    Bev* bev = bufferevent_socket_new(base, s.a.get(), 0);
    seen_t seen;
    bufferevent_setcb(bev, on_read_count, nullptr, on_event, &seen);
    send_str(s.b.get(), "moved along");
    BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
    evbuffer* in = bufferevent_get_input(bev);
    BOOST_TEST(pump(base, [&] { return evbuffer_get_length(in) >= 11; }));
    evbuffer* dst = evbuffer_new();
    evbuffer_add(dst, ">", 1);
    BOOST_TEST(probe::read_buffer(bev, dst) == 0);
    BOOST_TEST(evbuffer_get_length(in) == 0u);
    BOOST_TEST(evbuffer_get_length(dst) == 12u);
    char out[12] = {};
    evbuffer_remove(dst, out, sizeof out);
    BOOST_TEST(std::string(out, 12) == ">moved along");
    evbuffer_free(dst);
    bufferevent_free(bev);
  }
}

BOOST_AUTO_TEST_CASE(read_buffer_moves_the_whole_input_into_an_evbuffer) {
  check_read_buffer<struct bufferevent>(base);
}

// ---- enable / disable -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(enable_disable_and_get_enabled) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  BOOST_TEST(bufferevent_get_enabled(bev) == EV_WRITE);
  BOOST_TEST(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_TEST(bufferevent_get_enabled(bev) == (EV_READ | EV_WRITE));
  BOOST_TEST(bufferevent_disable(bev, EV_WRITE) == 0);
  BOOST_TEST(bufferevent_get_enabled(bev) == EV_READ);
  BOOST_TEST(bufferevent_disable(bev, EV_READ) == 0);
  BOOST_TEST(bufferevent_get_enabled(bev) == 0);
  BOOST_TEST(bufferevent_enable(bev, EV_READ | EV_WRITE) == 0);
  BOOST_TEST(bufferevent_get_enabled(bev) == (EV_READ | EV_WRITE));
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(reading_disabled_leaves_the_data_in_the_socket) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  seen_t seen;
  bufferevent_setcb(bev, on_read_take, nullptr, on_event, &seen);
  send_str(s.b.get(), "waiting");
  // Reading is off by default: nothing is pending, nothing is read.
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.reads == 0);
  BOOST_TEST(evbuffer_get_length(bufferevent_get_input(bev)) == 0u);
  BOOST_TEST(unread_bytes(s.a.get()) == 7u);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_TEST(pump(base, [&] { return seen.data.size() >= 7; }));
  BOOST_TEST(seen.data == "waiting");
  // Disabled again from outside: later data stays in the socket.
  BOOST_REQUIRE(bufferevent_disable(bev, EV_READ) == 0);
  send_str(s.b.get(), "more");
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.data == "waiting");
  BOOST_TEST(unread_bytes(s.a.get()) == 4u);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(writing_disabled_keeps_the_output_until_enabled) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  seen_t seen;
  bufferevent_setcb(bev, nullptr, on_write_count, on_event, &seen);
  BOOST_REQUIRE(bufferevent_disable(bev, EV_WRITE) == 0);
  BOOST_REQUIRE(bufferevent_write(bev, "held", 4) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(evbuffer_get_length(bufferevent_get_output(bev)) == 4u);
  BOOST_TEST(unread_bytes(s.b.get()) == 0u);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_WRITE) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.writes == 1);
  BOOST_TEST(recv_exactly(s.b.get(), 4) == "held");
  bufferevent_free(bev);
}

// libevent adds its write event on bufferevent_enable(EV_WRITE) whatever the
// output holds: once the socket is writable the event finds nothing to
// write, deletes itself and calls the write callback. Programs enable
// EV_WRITE to be called back so (tmux's control clients do).
BOOST_AUTO_TEST_CASE(enabling_writing_with_empty_output_calls_the_write_callback_once) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  seen_t seen;
  bufferevent_setcb(bev, nullptr, on_write_count, on_event, &seen);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_WRITE) == 0);
  BOOST_TEST(event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK) == 0);
  BOOST_TEST(seen.writes == 1);
  BOOST_TEST(seen.output_at_write == 0u);
  // The event deleted itself: nothing is pending any more.
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.writes == 1);
  BOOST_TEST(seen.events == 0);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(each_enable_of_writing_with_empty_output_brings_one_write_callback) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  seen_t seen;
  bufferevent_setcb(bev, nullptr, on_write_count, nullptr, &seen);
  for (int i = 1; i <= 3; ++i) {
    BOOST_REQUIRE(bufferevent_enable(bev, EV_WRITE) == 0);
    event_base_dispatch(base);
    BOOST_TEST(seen.writes == i);
  }
  bufferevent_free(bev);
}

// bufferevent_socket_new turns writing on (get_enabled says EV_WRITE) but
// adds no event: no callback until something is written or enabled.
BOOST_AUTO_TEST_CASE(a_new_bufferevent_calls_no_write_callback_by_itself) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  seen_t seen;
  bufferevent_setcb(bev, nullptr, on_write_count, nullptr, &seen);
  BOOST_TEST(bufferevent_get_enabled(bev) == EV_WRITE);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.writes == 0);
  bufferevent_free(bev);
}

// Enabling only reading leaves the write event out.
BOOST_AUTO_TEST_CASE(enabling_reading_alone_calls_no_write_callback) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  seen_t seen;
  bufferevent_setcb(bev, on_read_count, on_write_count, nullptr, &seen);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  send_str(s.b.get(), "x");
  BOOST_REQUIRE(pump(base, [&] { return seen.reads == 1; }));
  BOOST_TEST(seen.writes == 0);
  bufferevent_free(bev);
}

// setfd enables again what is enabled: writing, so the write callback comes.
BOOST_AUTO_TEST_CASE(setfd_with_writing_enabled_calls_the_write_callback) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, -1, 0);
  seen_t seen;
  bufferevent_setcb(bev, nullptr, on_write_count, nullptr, &seen);
  BOOST_REQUIRE(bufferevent_setfd(bev, s.a.get()) == 0);
  event_base_dispatch(base);
  BOOST_TEST(seen.writes == 1);
  bufferevent_free(bev);
}

// A connect that completes with nothing to write reports CONNECTED and
// no write callback (libevent calls it only when it wrote something).
BOOST_AUTO_TEST_CASE(a_connect_completing_with_empty_output_calls_no_write_callback) {
  tcp_listener lst;
  struct bufferevent* bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
  seen_t seen;
  bufferevent_setcb(bev, nullptr, on_write_count, on_event, &seen);
  BOOST_REQUIRE(bufferevent_socket_connect(bev, lst.addr.sa(), lst.addr.ilen()) == 0);
  event_base_dispatch(base);
  BOOST_TEST(seen.events == 1);
  BOOST_TEST(what_at(seen, 0) == BEV_EVENT_CONNECTED);
  BOOST_TEST(seen.writes == 0);
  bufferevent_free(bev);
}

// With a write timeout, the write event that finds nothing to write is
// gone before the timeout: no BEV_EVENT_TIMEOUT later.
BOOST_AUTO_TEST_CASE(a_write_timeout_does_not_fire_after_an_empty_write_callback) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  seen_t seen;
  bufferevent_setcb(bev, nullptr, on_write_count, on_event, &seen);
  const timeval tv = ms_tv(20);
  bufferevent_set_timeouts(bev, nullptr, &tv);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_WRITE) == 0);
  event_base_dispatch(base);
  BOOST_TEST(seen.writes == 1);
  BOOST_TEST(seen.events == 0);
  bufferevent_free(bev);
}

#ifdef EVASIO_VERSION
// libevent's epoll backend refuses a regular file (bufferevent_enable fails
// with EPERM, nothing is written); its poll backend, which programs choose
// with EVENT_NOEPOLL for this (tmux), takes it as always ready. evasio does
// what poll does: the bytes go to the file and the write callback comes.
BOOST_AUTO_TEST_CASE(a_bufferevent_on_a_regular_file_writes_to_it) {
  char path[] = "/tmp/evasio_bev_file_XXXXXX";
  Fd file(::mkstemp(path));
  BOOST_REQUIRE(file.valid());
  ::unlink(path);
  struct bufferevent* bev = bufferevent_socket_new(base, file.get(), 0);
  seen_t seen;
  bufferevent_setcb(bev, nullptr, on_write_count, on_event, &seen);
  BOOST_REQUIRE(bufferevent_write(bev, "line\n", 5) == 0);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_WRITE) == 0);
  event_base_dispatch(base);
  BOOST_TEST(seen.writes == 1);
  BOOST_TEST(seen.events == 0);
  char got[8] = {};
  BOOST_TEST(::pread(file.get(), got, sizeof got, 0) == 5);
  BOOST_TEST(std::string(got) == "line\n");
  bufferevent_free(bev);
}
#endif

// ---- watermarks ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(getwatermark_returns_what_setwatermark_set) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  bufferevent_setwatermark(bev, EV_READ, 10, 100);
  bufferevent_setwatermark(bev, EV_WRITE, 20, 0);
  size_t lo = 1, hi = 1;
  BOOST_TEST(bufferevent_getwatermark(bev, EV_READ, &lo, &hi) == 0);
  BOOST_TEST(lo == 10u);
  BOOST_TEST(hi == 100u);
  BOOST_TEST(bufferevent_getwatermark(bev, EV_WRITE, &lo, &hi) == 0);
  BOOST_TEST(lo == 20u);
  BOOST_TEST(hi == 0u);
  bufferevent_setwatermark(bev, EV_READ | EV_WRITE, 0, 0);
  BOOST_TEST(bufferevent_getwatermark(bev, EV_READ, &lo, &hi) == 0);
  BOOST_TEST(lo == 0u);
  BOOST_TEST(hi == 0u);
  // Both sides at once is not a question getwatermark answers.
  BOOST_TEST(bufferevent_getwatermark(bev, EV_READ | EV_WRITE, &lo, &hi) == -1);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(read_low_watermark_delays_readcb_until_enough_bytes_are_in) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  seen_t seen;
  bufferevent_setcb(bev, on_read_count, nullptr, on_event, &seen);
  bufferevent_setwatermark(bev, EV_READ, 10, 0);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  evbuffer* in = bufferevent_get_input(bev);
  send_str(s.b.get(), "1234");
  BOOST_TEST(pump(base, [&] { return evbuffer_get_length(in) >= 4; }));
  BOOST_TEST(seen.reads == 0);  // 4 < 10: read, but no callback
  send_str(s.b.get(), "567");
  BOOST_TEST(pump(base, [&] { return evbuffer_get_length(in) >= 7; }));
  BOOST_TEST(seen.reads == 0);
  send_str(s.b.get(), "890");
  BOOST_TEST(pump(base, [&] { return seen.reads > 0; }));
  BOOST_TEST(seen.reads == 1);
  BOOST_TEST(seen.input_at_read == 10u);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(read_high_watermark_pauses_reading_until_the_input_drains) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  struct ctx_t {
    event_base* base;
    int fd;
    size_t high = 100;
    size_t input_when_full = 0;
    size_t unread_when_full = 0;
    bool full = false;
  } ctx{base, s.a.get()};
  // A reader that consumes nothing: once the input is at the mark it notes
  // what is where and leaves the loop.
  bufferevent_setcb(
      bev,
      [](struct bufferevent* b, void* arg) {
        auto* c = static_cast<ctx_t*>(arg);
        const size_t len = evbuffer_get_length(bufferevent_get_input(b));
        if (len >= c->high && !c->full) {
          c->full = true;
          c->input_when_full = len;
          c->unread_when_full = unread_bytes(c->fd);
          event_base_loopbreak(c->base);
        }
      },
      nullptr, nullptr, &ctx);
  bufferevent_setwatermark(bev, EV_READ, 0, ctx.high);
  const std::string data = pattern(1000);
  send_all(s.b.get(), data.data(), data.size());
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  event_base_dispatch(base);
  BOOST_TEST(ctx.full);
  BOOST_TEST(ctx.input_when_full == 100u);   // read up to the mark, not beyond
  BOOST_TEST(ctx.unread_when_full == 900u);  // the rest waits in the socket
  BOOST_TEST((bufferevent_get_enabled(bev) & EV_READ) != 0);  // paused, not disabled
  // Draining the input below the mark resumes reading, again up to the mark.
  evbuffer* in = bufferevent_get_input(bev);
  BOOST_REQUIRE(evbuffer_drain(in, 60) == 0);
  ctx.full = false;
  ctx.input_when_full = 0;
  ctx.unread_when_full = 0;
  event_base_dispatch(base);
  BOOST_TEST(ctx.full);  // reading resumed and filled up to the mark again
  BOOST_TEST(ctx.input_when_full == 100u);
  BOOST_TEST(ctx.unread_when_full == 840u);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(read_high_watermark_resumes_when_another_callback_drains_the_input) {
  // The read callback leaves the bytes; a timer consumes them later, as a
  // program that hands the input over to other work would. Reading must go
  // on each time the input drops below the mark, until the peer's EOF.
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  struct ctx_t {
    struct bufferevent* bev = nullptr;
    event* consumer = nullptr;
    std::string got{};
    size_t max_input = 0;
    bool eof = false;
  } ctx;
  ctx.bev = bev;
  ctx.consumer = evtimer_new(base,
                             [](evutil_socket_t, short, void* arg) {
                               auto* c = static_cast<ctx_t*>(arg);
                               char buf[4096];
                               size_t n;
                               while ((n = bufferevent_read(c->bev, buf, sizeof buf)) > 0)
                                 c->got.append(buf, n);
                             },
                             &ctx);
  bufferevent_setcb(
      bev,
      [](struct bufferevent* b, void* arg) {
        auto* c = static_cast<ctx_t*>(arg);
        c->max_input = std::max(c->max_input, evbuffer_get_length(bufferevent_get_input(b)));
        if (!evtimer_pending(c->consumer, nullptr)) {
          timeval zero{0, 0};
          evtimer_add(c->consumer, &zero);
        }
      },
      nullptr,
      [](struct bufferevent* b, short what, void* arg) {
        auto* c = static_cast<ctx_t*>(arg);
        if (what & BEV_EVENT_EOF) {
          c->eof = true;
          char buf[4096];
          size_t n;
          while ((n = bufferevent_read(b, buf, sizeof buf)) > 0)
            c->got.append(buf, n);
        }
      },
      &ctx);
  bufferevent_setwatermark(bev, EV_READ, 0, 100);
  const std::string data = pattern(5000);
  send_all(s.b.get(), data.data(), data.size());
  ::shutdown(s.b.get(), SHUT_WR);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  event_base_dispatch(base);
  BOOST_TEST(ctx.eof);
  BOOST_TEST(ctx.got.size() == data.size());
  BOOST_TEST((ctx.got == data));
  BOOST_TEST(ctx.max_input <= 100u);
  event_free(ctx.consumer);
  bufferevent_free(bev);
}

// libevent 2.1.12 (bufferevent_inbuf_wm_check): after the read callback, if
// reading is enabled and the input is still at or above the high watermark,
// the read callback is scheduled again, so a reader that could not consume
// anything is called back instead of stalling with reading paused.
BOOST_AUTO_TEST_CASE(readcb_runs_again_while_the_input_stays_at_the_high_watermark) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  struct ctx_t {
    int calls = 0;
    size_t len_at_third = 0;
  } ctx;
  bufferevent_setcb(
      bev,
      [](struct bufferevent* b, void* arg) {
        auto* c = static_cast<ctx_t*>(arg);
        if (++c->calls == 3) {
          c->len_at_third = evbuffer_get_length(bufferevent_get_input(b));
          bufferevent_disable(b, EV_READ);  // ends the test
        }
      },
      nullptr, nullptr, &ctx);
  bufferevent_setwatermark(bev, EV_READ, 0, 100);
  const std::string data = pattern(1000);
  send_all(s.b.get(), data.data(), data.size());
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(ctx.calls == 3);
  BOOST_TEST(ctx.len_at_third == 100u);
  BOOST_TEST(unread_bytes(s.a.get()) == 900u);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(read_high_watermark_bounds_the_input_with_a_slow_reader) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  struct ctx_t {
    size_t high = 256;
    size_t max_input = 0;
    std::string got;
    int reads = 0;
    bool eof = false;
    bool data_after_eof = false;
  } ctx;
  bufferevent_setcb(
      bev,
      [](struct bufferevent* b, void* arg) {
        auto* c = static_cast<ctx_t*>(arg);
        ++c->reads;
        if (c->eof)
          c->data_after_eof = true;
        evbuffer* in = bufferevent_get_input(b);
        c->max_input = std::max(c->max_input, evbuffer_get_length(in));
        char buf[37];  // a slow reader: a little at a time
        const size_t n = bufferevent_read(b, buf, sizeof buf);
        c->got.append(buf, n);
      },
      nullptr,
      [](struct bufferevent* b, short what, void* arg) {
        auto* c = static_cast<ctx_t*>(arg);
        if (what & BEV_EVENT_EOF) {
          c->eof = true;
          evbuffer* in = bufferevent_get_input(b);
          c->max_input = std::max(c->max_input, evbuffer_get_length(in));
          char buf[4096];
          size_t n;
          while ((n = bufferevent_read(b, buf, sizeof buf)) > 0)
            c->got.append(buf, n);
        }
      },
      &ctx);
  bufferevent_setwatermark(bev, EV_READ, 0, ctx.high);
  const std::string data = pattern(50000);
  send_all(s.b.get(), data.data(), data.size());
  ::shutdown(s.b.get(), SHUT_WR);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(ctx.eof);
  BOOST_TEST(!ctx.data_after_eof);
  BOOST_TEST(ctx.max_input <= ctx.high);
  BOOST_TEST(ctx.max_input > 0u);
  BOOST_TEST(ctx.got.size() == data.size());
  BOOST_TEST((ctx.got == data));
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(write_low_watermark_drives_the_write_callback) {
  socket_pair s;
  // Small socket buffers, so that the output backs up in the evbuffer.
  int small = 8192;
  ::setsockopt(s.a.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  ::setsockopt(s.b.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  struct ctx_t {
    event_base* base;
    const std::string* data;
    size_t low = 4096;
    size_t chunk = 32768;
    size_t queued = 0;
    size_t received = 0;
    int writecbs = 0;
    size_t max_output_at_writecb = 0;
    std::string got{};
    static void refill(struct bufferevent* b, ctx_t* c) {
      const size_t n = std::min(c->chunk, c->data->size() - c->queued);
      if (n) {
        bufferevent_write(b, c->data->data() + c->queued, n);
        c->queued += n;
      }
    }
  } ctx{base, nullptr};
  const std::string data = pattern(1 << 20);
  ctx.data = &data;
  bufferevent_setcb(
      bev, nullptr,
      [](struct bufferevent* b, void* arg) {
        auto* c = static_cast<ctx_t*>(arg);
        ++c->writecbs;
        c->max_output_at_writecb =
            std::max(c->max_output_at_writecb, evbuffer_get_length(bufferevent_get_output(b)));
        ctx_t::refill(b, c);
      },
      nullptr, &ctx);
  bufferevent_setwatermark(bev, EV_WRITE, ctx.low, 0);
  // The peer reads as the loop goes.
  event* reader = event_new(base, s.b.get(), EV_READ | EV_PERSIST,
                            [](evutil_socket_t fd, short, void* arg) {
                              auto* c = static_cast<ctx_t*>(arg);
                              char buf[4096];  // slowly: one small read per round
                              const ssize_t r = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                              if (r > 0)
                                c->got.append(buf, static_cast<size_t>(r));
                              if (c->got.size() >= c->data->size())
                                event_base_loopbreak(c->base);
                            },
                            &ctx);
  BOOST_REQUIRE(event_add(reader, nullptr) == 0);
  ctx_t::refill(bev, &ctx);
  event_base_dispatch(base);
  BOOST_TEST(ctx.got.size() == data.size());
  BOOST_TEST((ctx.got == data));
  BOOST_TEST(ctx.max_output_at_writecb <= ctx.low);
  BOOST_TEST(ctx.writecbs >= static_cast<int>(data.size() / ctx.chunk));
  event_free(reader);
  bufferevent_free(bev);
}

// ---- timeouts ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(read_timeout_reports_timeout_reading_and_disables_reading) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  seen_t seen;
  bufferevent_setcb(bev, on_read_take, nullptr, on_event, &seen);
  timeval rd = ms_tv(50);
  BOOST_REQUIRE(bufferevent_set_timeouts(bev, &rd, nullptr) == 0);
  stopwatch sw;
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  // After the timeout nothing is pending: the loop ends by itself.
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(sw.elapsed_us() >= 50000);
  BOOST_TEST(seen.events == 1);
  BOOST_TEST(what_at(seen, 0) == (BEV_EVENT_TIMEOUT | BEV_EVENT_READING));
  BOOST_TEST((bufferevent_get_enabled(bev) & EV_READ) == 0);
  BOOST_TEST((bufferevent_get_enabled(bev) & EV_WRITE) != 0);
  // Data arriving now is not read.
  send_str(s.b.get(), "late");
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.reads == 0);
  BOOST_TEST(unread_bytes(s.a.get()) == 4u);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(read_timeout_applies_again_after_reading_is_re_enabled) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  seen_t seen;
  bufferevent_setcb(bev, on_read_take, nullptr, on_event, &seen);
  timeval rd = ms_tv(20);
  BOOST_REQUIRE(bufferevent_set_timeouts(bev, &rd, nullptr) == 0);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.events == 1);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.events == 2);
  BOOST_TEST(what_at(seen, 1) == (BEV_EVENT_TIMEOUT | BEV_EVENT_READING));
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(read_timeout_does_not_fire_when_data_is_there) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  seen_t seen;
  seen.base = base;
  bufferevent_setcb(
      bev,
      [](struct bufferevent* b, void* arg) {
        on_read_take(b, arg);
        bufferevent_disable(b, EV_READ);  // done: no timeout may follow
      },
      nullptr, on_event, &seen);
  timeval rd = ms_tv(3600 * 1000);
  BOOST_REQUIRE(bufferevent_set_timeouts(bev, &rd, nullptr) == 0);
  send_str(s.b.get(), "prompt");
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);  // would wait an hour if the timer stayed
  BOOST_TEST(seen.data == "prompt");
  BOOST_TEST(seen.events == 0);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(write_timeout_reports_timeout_writing_and_disables_writing) {
  socket_pair s;
  int small = 4096;
  ::setsockopt(s.a.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  ::setsockopt(s.b.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  seen_t seen;
  bufferevent_setcb(bev, nullptr, on_write_count, on_event, &seen);
  timeval wr = ms_tv(50);
  BOOST_REQUIRE(bufferevent_set_timeouts(bev, nullptr, &wr) == 0);
  const std::string data = pattern(1 << 20);  // far more than the socket holds
  stopwatch sw;
  BOOST_REQUIRE(bufferevent_write(bev, data.data(), data.size()) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);  // the peer never reads
  BOOST_TEST(sw.elapsed_us() >= 50000);
  BOOST_TEST(seen.events == 1);
  BOOST_TEST(what_at(seen, 0) == (BEV_EVENT_TIMEOUT | BEV_EVENT_WRITING));
  BOOST_TEST((bufferevent_get_enabled(bev) & EV_WRITE) == 0);
  BOOST_TEST(evbuffer_get_length(bufferevent_get_output(bev)) > 0u);
  BOOST_TEST(seen.writes == 0);
  bufferevent_free(bev);
}

// ---- setfd, flush, locking --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(setfd_gives_a_socket_to_a_bufferevent_made_with_minus_one) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, -1, 0);
  seen_t seen;
  bufferevent_setcb(bev, on_read_take, nullptr, on_event, &seen);
  BOOST_REQUIRE(bufferevent_setfd(bev, s.a.get()) == 0);
  BOOST_TEST(bufferevent_getfd(bev) == s.a.get());
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  send_str(s.b.get(), "via setfd");
  BOOST_TEST(pump(base, [&] { return seen.data.size() >= 9; }));
  BOOST_TEST(seen.data == "via setfd");
  BOOST_REQUIRE(bufferevent_write(bev, "back", 4) == 0);
  evbuffer* out = bufferevent_get_output(bev);
  BOOST_TEST(pump(base, [&] { return evbuffer_get_length(out) == 0; }));
  BOOST_TEST(recv_exactly(s.b.get(), 4) == "back");
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(setfd_switches_sockets_without_closing_the_old_one) {
  socket_pair s1, s2;
  struct bufferevent* bev = bufferevent_socket_new(base, s1.a.get(), BEV_OPT_CLOSE_ON_FREE);
  seen_t seen;
  bufferevent_setcb(bev, on_read_take, nullptr, on_event, &seen);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_REQUIRE(bufferevent_setfd(bev, s2.a.release()) == 0);
  BOOST_TEST(nettest::fd_is_open(s1.a.get()));
  send_str(s1.b.get(), "old");
  send_str(s2.b.get(), "new");
  BOOST_TEST(pump(base, [&] { return seen.data.size() >= 3; }));
  BOOST_TEST(seen.data == "new");
  BOOST_TEST(unread_bytes(s1.a.get()) == 3u);
  bufferevent_free(bev);  // closes the new socket (CLOSE_ON_FREE), not the old one
  BOOST_TEST(event_base_dispatch(base) == 1);  // libevent closes from the loop
  BOOST_TEST(nettest::fd_is_open(s1.a.get()));
  BOOST_TEST(peer_sees_eof(s2.b.get()));
}

BOOST_AUTO_TEST_CASE(flush_returns_0_for_a_socket_bufferevent) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  BOOST_REQUIRE(bufferevent_write(bev, "x", 1) == 0);
  BOOST_TEST(bufferevent_flush(bev, EV_WRITE, BEV_NORMAL) == 0);
  BOOST_TEST(bufferevent_flush(bev, EV_WRITE, BEV_FLUSH) == 0);
  BOOST_TEST(bufferevent_flush(bev, EV_READ | EV_WRITE, BEV_FINISHED) == 0);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(lock_and_unlock_without_threadsafe_are_harmless) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  bufferevent_lock(bev);
  bufferevent_lock(bev);
  BOOST_TEST(bufferevent_write(bev, "ok", 2) == 0);
  bufferevent_unlock(bev);
  bufferevent_unlock(bev);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(recv_exactly(s.b.get(), 2) == "ok");
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(lock_is_recursive_and_excludes_other_threads) {
  // Needs real locks: evthread_use_pthreads() before the base is made.
  BOOST_REQUIRE(evthread_use_pthreads() == 0);
  event_base* tbase = event_base_new();
  BOOST_REQUIRE(tbase != nullptr);
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(tbase, s.a.get(), BEV_OPT_THREADSAFE);
  BOOST_REQUIRE(bev != nullptr);
  struct ctx_t {
    struct bufferevent* bev;
    std::atomic<int> stage{0};
  } ctx{bev};
  bufferevent_lock(bev);
  bufferevent_lock(bev);  // recursive: no self-deadlock
  pthread_t th;
  BOOST_REQUIRE(pthread_create(
                    &th, nullptr,
                    [](void* arg) -> void* {
                      auto* c = static_cast<ctx_t*>(arg);
                      c->stage = 1;
                      bufferevent_lock(c->bev);
                      c->stage = 2;
                      bufferevent_unlock(c->bev);
                      return nullptr;
                    },
                    &ctx) == 0);
  while (ctx.stage.load() < 1)
    ::usleep(1000);
  ::usleep(50000);  // give it every chance to (wrongly) get through
  BOOST_TEST(ctx.stage.load() == 1);
  bufferevent_unlock(bev);
  ::usleep(20000);
  BOOST_TEST(ctx.stage.load() == 1);  // still held once
  bufferevent_unlock(bev);
  pthread_join(th, nullptr);
  BOOST_TEST(ctx.stage.load() == 2);
  bufferevent_free(bev);
  event_base_free(tbase);
}

BOOST_AUTO_TEST_CASE(threadsafe_writes_and_toggles_from_another_thread_while_the_loop_echoes) {
  // evthread: other threads write to and enable/disable a BEV_OPT_THREADSAFE
  // bufferevent while the loop's thread reads and writes it. Every byte
  // arrives (count and checksum), and what the peer sends comes back whole.
  BOOST_REQUIRE(evthread_use_pthreads() == 0);
  event_base* tbase = event_base_new();
  BOOST_REQUIRE(tbase != nullptr);
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(tbase, s.a.get(), BEV_OPT_THREADSAFE);
  BOOST_REQUIRE(bev != nullptr);
  struct ctx_t {
    event_base* base;
    std::atomic<size_t> echoed{0};
    size_t want = 0;
  } ctx{tbase};
  constexpr int kWrites = 2000;
  const std::string piece = pattern(100);
  const std::string from_peer = pattern(300000);
  ctx.want = from_peer.size();
  bufferevent_setcb(
      bev,
      [](struct bufferevent* b, void* arg) {
        auto* c = static_cast<ctx_t*>(arg);
        const size_t n = evbuffer_get_length(bufferevent_get_input(b));
        bufferevent_write_buffer(b, bufferevent_get_input(b));  // echo
        c->echoed += n;
      },
      nullptr, nullptr, &ctx);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ | EV_WRITE) == 0);
  // Keeps the loop running until the peer has everything.
  struct event* keepalive = event_new(tbase, -1, EV_PERSIST, [](evutil_socket_t, short, void*) {}, nullptr);
  struct timeval hour = {3600, 0};
  event_add(keepalive, &hour);

  std::thread loop([&] { event_base_dispatch(tbase); });
  std::thread writer([&] {
    for (int i = 0; i < kWrites; ++i) {
      bufferevent_write(bev, piece.data(), piece.size());
      if (i % 50 == 0) {
        bufferevent_disable(bev, EV_READ);
        bufferevent_enable(bev, EV_READ);
      }
    }
  });
  std::thread sender([&] { send_all(s.b.get(), from_peer.data(), from_peer.size()); });
  // The peer gets the writer's pieces and the echo, interleaved: count the
  // bytes, and check that each stream's bytes are whole by their sum.
  const size_t total = kWrites * piece.size() + from_peer.size();
  const std::string got = recv_exactly(s.b.get(), total);
  writer.join();
  sender.join();
  event_base_loopbreak(tbase);
  loop.join();
  BOOST_TEST(got.size() == total);
  BOOST_TEST(ctx.echoed.load() == ctx.want);
  auto sum = [](const std::string& x) {
    unsigned long long v = 0;
    for (unsigned char c : x)
      v += c;
    return v;
  };
  BOOST_TEST(sum(got) == kWrites * sum(piece) + sum(from_peer));
  event_free(keepalive);
  bufferevent_free(bev);
  event_base_free(tbase);
}

BOOST_AUTO_TEST_CASE(unlock_callbacks_without_defer_callbacks_is_refused) {
  // libevent: "UNLOCK_CALLBACKS requires DEFER_CALLBACKS".
  socket_pair s1, s2;
  struct bufferevent* bad = bufferevent_socket_new(base, s1.a.get(), BEV_OPT_UNLOCK_CALLBACKS);
  BOOST_TEST(bad == nullptr);
  if (bad)
    bufferevent_free(bad);
  struct bufferevent* ok = bufferevent_socket_new(
      base, s2.a.get(), BEV_OPT_UNLOCK_CALLBACKS | BEV_OPT_DEFER_CALLBACKS);
  BOOST_TEST(ok != nullptr);
  if (ok)
    bufferevent_free(ok);
}

// Whether another thread can take the bufferevent's lock while the read
// callback runs. `got_lock` is polled for up to 1 s (a safety bound: with
// the lock held it never comes).
struct lock_probe {
  struct bufferevent* bev = nullptr;
  std::atomic<bool> got_lock{false};
  bool got_lock_inside_callback = false;
  pthread_t th{};
  bool started = false;
};

void lock_probe_read(struct bufferevent* bev, void* arg) {
  auto* p = static_cast<lock_probe*>(arg);
  bufferevent_disable(bev, EV_READ);
  if (p->started)
    return;
  p->started = true;
  pthread_create(
      &p->th, nullptr,
      [](void* a) -> void* {
        auto* q = static_cast<lock_probe*>(a);
        bufferevent_lock(q->bev);
        q->got_lock = true;
        bufferevent_unlock(q->bev);
        return nullptr;
      },
      p);
  for (int i = 0; i < 1000 && !p->got_lock.load(); ++i)
    ::usleep(1000);
  p->got_lock_inside_callback = p->got_lock.load();
}

bool lock_free_during_readcb(event_base* base, int options) {
  socket_pair s;
  lock_probe p;
  p.bev = bufferevent_socket_new(base, s.a.get(), options);
  BOOST_REQUIRE(p.bev != nullptr);
  bufferevent_setcb(p.bev, lock_probe_read, nullptr, nullptr, &p);
  send_str(s.b.get(), "x");
  BOOST_REQUIRE(bufferevent_enable(p.bev, EV_READ) == 0);
  event_base_dispatch(base);
  if (p.started)
    pthread_join(p.th, nullptr);
  BOOST_TEST(p.got_lock.load());  // at the latest once the callback returned
  bufferevent_free(p.bev);
  return p.got_lock_inside_callback;
}

BOOST_AUTO_TEST_CASE(unlock_callbacks_runs_deferred_callbacks_without_the_lock) {
  BOOST_REQUIRE(evthread_use_pthreads() == 0);
  event_base* tbase = event_base_new();
  BOOST_TEST(lock_free_during_readcb(
      tbase, BEV_OPT_THREADSAFE | BEV_OPT_DEFER_CALLBACKS | BEV_OPT_UNLOCK_CALLBACKS));
  event_base_free(tbase);
}

BOOST_AUTO_TEST_CASE(threadsafe_callbacks_run_with_the_lock_held) {
  BOOST_REQUIRE(evthread_use_pthreads() == 0);
  event_base* tbase = event_base_new();
  BOOST_TEST(!lock_free_during_readcb(tbase, BEV_OPT_THREADSAFE));
  event_base_free(tbase);
}

// ---- deferred callbacks -------------------------------------------------------------------

// Two bufferevents become readable in the same round. Without deferral each
// readcb runs inside its bufferevent's own read handler, so the first one
// runs before the other bufferevent has read anything; with
// BEV_OPT_DEFER_CALLBACKS the callbacks are queued on the loop and run after
// both read handlers have returned.
struct two_bevs {
  struct bufferevent* bev[2] = {nullptr, nullptr};
  int reads[2] = {0, 0};
  // Input length of the other bufferevent when each readcb first ran.
  size_t other_input_at_first_read[2] = {0, 0};
  int order = 0;
  int first = -1;
};

template <int Me>
void two_bevs_read(struct bufferevent*, void* arg) {
  auto* t = static_cast<two_bevs*>(arg);
  if (t->reads[Me]++ == 0) {
    t->other_input_at_first_read[Me] = evbuffer_get_length(bufferevent_get_input(t->bev[1 - Me]));
    if (t->first < 0)
      t->first = Me;
  }
  bufferevent_disable(t->bev[Me], EV_READ);
}

void run_two_bevs(event_base* base, int options, two_bevs& t) {
  socket_pair s0, s1;
  t.bev[0] = bufferevent_socket_new(base, s0.a.get(), options);
  t.bev[1] = bufferevent_socket_new(base, s1.a.get(), options);
  bufferevent_setcb(t.bev[0], two_bevs_read<0>, nullptr, nullptr, &t);
  bufferevent_setcb(t.bev[1], two_bevs_read<1>, nullptr, nullptr, &t);
  send_str(s0.b.get(), "zero");
  send_str(s1.b.get(), "one");
  BOOST_REQUIRE(bufferevent_enable(t.bev[0], EV_READ) == 0);
  BOOST_REQUIRE(bufferevent_enable(t.bev[1], EV_READ) == 0);
  event_base_dispatch(base);
  bufferevent_free(t.bev[0]);
  bufferevent_free(t.bev[1]);
}

BOOST_AUTO_TEST_CASE(callbacks_without_deferral_run_inside_the_read_handler) {
  two_bevs t;
  run_two_bevs(base, 0, t);
  BOOST_TEST(t.reads[0] == 1);
  BOOST_TEST(t.reads[1] == 1);
  BOOST_TEST(t.first >= 0);
  BOOST_TEST(t.other_input_at_first_read[t.first < 0 ? 0 : t.first] == 0u);
}

BOOST_AUTO_TEST_CASE(defer_callbacks_runs_readcb_from_the_loop_after_the_read_handlers) {
  two_bevs t;
  run_two_bevs(base, BEV_OPT_DEFER_CALLBACKS, t);
  BOOST_TEST(t.reads[0] == 1);
  BOOST_TEST(t.reads[1] == 1);
  BOOST_TEST(t.first >= 0);
  BOOST_TEST(t.other_input_at_first_read[t.first < 0 ? 0 : t.first] > 0u);
}

BOOST_AUTO_TEST_CASE(defer_callbacks_still_delivers_eof_after_all_the_data) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), BEV_OPT_DEFER_CALLBACKS);
  seen_t seen;
  size_t data_at_eof = 0;
  struct ctx_t {
    seen_t* seen;
    size_t* data_at_eof;
  } ctx{&seen, &data_at_eof};
  bufferevent_setcb(
      bev, [](struct bufferevent* b, void* arg) { on_read_take(b, static_cast<ctx_t*>(arg)->seen); },
      nullptr,
      [](struct bufferevent* b, short what, void* arg) {
        auto* c = static_cast<ctx_t*>(arg);
        on_event(b, what, c->seen);
        *c->data_at_eof = c->seen->data.size() + evbuffer_get_length(bufferevent_get_input(b));
      },
      &ctx);
  const std::string data = pattern(200000);
  send_all(s.b.get(), data.data(), data.size());
  s.b.reset();
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.events == 1);
  BOOST_TEST(what_at(seen, 0) == (BEV_EVENT_EOF | BEV_EVENT_READING));
  BOOST_TEST(data_at_eof == data.size());
  bufferevent_free(bev);
}

// ---- end of file, freeing from callbacks ---------------------------------------------------

BOOST_AUTO_TEST_CASE(eof_after_data_delivers_all_the_data_first) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  struct ctx_t {
    std::string got;
    int reads_after_eof = 0;
    bool eof = false;
    short what = 0;
    size_t got_at_eof = 0;
  } ctx;
  bufferevent_setcb(
      bev,
      [](struct bufferevent* b, void* arg) {
        auto* c = static_cast<ctx_t*>(arg);
        if (c->eof)
          ++c->reads_after_eof;
        char buf[8192];
        size_t n;
        while ((n = bufferevent_read(b, buf, sizeof buf)) > 0)
          c->got.append(buf, n);
      },
      nullptr,
      [](struct bufferevent* b, short what, void* arg) {
        auto* c = static_cast<ctx_t*>(arg);
        c->eof = true;
        c->what = what;
        c->got_at_eof = c->got.size() + evbuffer_get_length(bufferevent_get_input(b));
      },
      &ctx);
  const std::string data = pattern(300000);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  // The peer writes everything and closes; the socket buffer cannot hold it
  // all, so the peer writes from a thread while the loop reads.
  struct writer_t {
    int fd;
    const std::string* data;
  } w{s.b.release(), &data};
  pthread_t th;
  BOOST_REQUIRE(pthread_create(
                    &th, nullptr,
                    [](void* arg) -> void* {
                      auto* wr = static_cast<writer_t*>(arg);
                      const char* p = wr->data->data();
                      size_t n = wr->data->size();
                      while (n > 0) {
                        const ssize_t r = ::send(wr->fd, p, n, MSG_NOSIGNAL);
                        if (r <= 0)
                          break;
                        p += r;
                        n -= static_cast<size_t>(r);
                      }
                      ::close(wr->fd);
                      return nullptr;
                    },
                    &w) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  pthread_join(th, nullptr);
  BOOST_TEST(ctx.eof);
  BOOST_TEST(ctx.what == (BEV_EVENT_EOF | BEV_EVENT_READING));
  BOOST_TEST(ctx.got_at_eof == data.size());
  BOOST_TEST(ctx.reads_after_eof == 0);
  BOOST_TEST((ctx.got == data));
  BOOST_TEST((bufferevent_get_enabled(bev) & EV_READ) == 0);  // reading stops at EOF
  bufferevent_free(bev);
}

// Reads everything into got; notes the event that ends it.
struct read_to_end {
  std::string got;
  short what = 0;
  static void on_read(struct bufferevent* b, void* arg) {
    auto* c = static_cast<read_to_end*>(arg);
    char buf[4096];
    size_t n;
    while ((n = bufferevent_read(b, buf, sizeof buf)) > 0)
      c->got.append(buf, n);
  }
  static void on_event(struct bufferevent*, short what, void* arg) {
    static_cast<read_to_end*>(arg)->what = what;
  }
};

// The peer's FIN is already queued behind the data when reading starts: the
// read that takes the data comes up short, and the end of file must still
// be noticed (nothing new will arrive to wake the reader).
void check_eof_queued_behind_data(event_base* base, Fd& ours, Fd& peer) {
  send_str(peer.get(), "all there is");
  BOOST_REQUIRE(::shutdown(peer.get(), SHUT_WR) == 0);
  struct bufferevent* bev = bufferevent_socket_new(base, ours.get(), 0);
  BOOST_REQUIRE(bev != nullptr);
  read_to_end ctx;
  bufferevent_setcb(bev, read_to_end::on_read, nullptr, read_to_end::on_event, &ctx);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(ctx.got == "all there is");
  BOOST_TEST(ctx.what == (BEV_EVENT_EOF | BEV_EVENT_READING));
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(eof_queued_behind_the_data_before_reading_starts_is_reported) {
  socket_pair s;
  check_eof_queued_behind_data(base, s.a, s.b);
}

BOOST_AUTO_TEST_CASE(eof_queued_behind_the_data_on_tcp_is_reported) {
  tcp_listener l;
  Fd client = nettest::connect_to(l.addr);
  BOOST_REQUIRE(client.valid());
  Fd server = l.accept_one();
  BOOST_REQUIRE(server.valid());
  BOOST_REQUIRE(evutil_make_socket_nonblocking(server.get()) == 0);
  check_eof_queued_behind_data(base, server, client);
}

BOOST_AUTO_TEST_CASE(socket_new_leaves_the_fd_flags_alone) {
  // As libevent: the bufferevent reads and writes without making a blocking
  // fd non-blocking behind its owner's back.
  int sv[2];
  BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  Fd ours(sv[0]), peer(sv[1]);
  const int before = ::fcntl(ours.get(), F_GETFL);
  BOOST_REQUIRE(!(before & O_NONBLOCK));
  struct bufferevent* bev = bufferevent_socket_new(base, ours.get(), 0);
  BOOST_REQUIRE(bev != nullptr);
  read_to_end ctx;
  bufferevent_setcb(bev, read_to_end::on_read, nullptr, read_to_end::on_event, &ctx);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ | EV_WRITE) == 0);
  BOOST_REQUIRE(bufferevent_write(bev, "ping", 4) == 0);
  send_str(peer.get(), "pong");
  BOOST_REQUIRE(::shutdown(peer.get(), SHUT_WR) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(ctx.got == "pong");
  BOOST_TEST(recv_exactly(peer.get(), 4) == "ping");
  BOOST_TEST(::fcntl(ours.get(), F_GETFL) == before);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(a_duplicate_left_open_after_close_on_free_does_not_disturb_later_ones) {
  // CLOSE_ON_FREE closes our fd, but a dup of it keeps the socket alive, and
  // with it anything the kernel still associates with it. Traffic on that
  // socket must not reach (or confuse) the bufferevents made afterwards.
  socket_pair first;
  Fd dup_of_first(::dup(first.a.get()));
  BOOST_REQUIRE(dup_of_first.valid());
  struct bufferevent* old = bufferevent_socket_new(base, first.a.release(), BEV_OPT_CLOSE_ON_FREE);
  BOOST_REQUIRE(old != nullptr);
  BOOST_REQUIRE(bufferevent_enable(old, EV_READ) == 0);
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 0);
  bufferevent_free(old);

  socket_pair second;
  struct bufferevent* bev = bufferevent_socket_new(base, second.a.get(), 0);
  BOOST_REQUIRE(bev != nullptr);
  read_to_end ctx;
  bufferevent_setcb(bev, read_to_end::on_read, nullptr, read_to_end::on_event, &ctx);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  send_str(first.b.get(), "for the duplicate");
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 0);
  send_str(second.b.get(), "for the new one");
  BOOST_REQUIRE(::shutdown(second.b.get(), SHUT_WR) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(ctx.got == "for the new one");
  BOOST_TEST(ctx.what == (BEV_EVENT_EOF | BEV_EVENT_READING));
  BOOST_TEST(unread_bytes(dup_of_first.get()) == std::strlen("for the duplicate"));
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(socket_new_freezes_the_input_end_and_the_output_start) {
  // The bufferevent alone fills its input and empties its output.
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  BOOST_REQUIRE(bev != nullptr);
  evbuffer* in = bufferevent_get_input(bev);
  evbuffer* out = bufferevent_get_output(bev);
  BOOST_TEST(evbuffer_add(in, "x", 1) == -1);
  BOOST_TEST(evbuffer_get_length(in) == 0u);
  BOOST_REQUIRE(bufferevent_write(bev, "abc", 3) == 0);  // the output's end is open
  BOOST_TEST(evbuffer_drain(out, 1) == -1);
  BOOST_TEST(evbuffer_get_length(out) == 3u);
  // What they still allow: taking from the input, adding to the output.
  send_str(s.b.get(), "hi");
  read_to_end ctx;
  bufferevent_setcb(bev, read_to_end::on_read, nullptr, nullptr, &ctx);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_TEST(event_base_loop(base, EVLOOP_ONCE) == 0);
  BOOST_TEST(ctx.got == "hi");
  BOOST_TEST(recv_exactly(s.b.get(), 3) == "abc");
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(setfd_unfreezes_the_buffers_as_libevent_does) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, -1, 0);
  BOOST_REQUIRE(bev != nullptr);
  BOOST_TEST(evbuffer_add(bufferevent_get_input(bev), "x", 1) == -1);
  BOOST_REQUIRE(bufferevent_setfd(bev, s.a.get()) == 0);
  BOOST_TEST(evbuffer_add(bufferevent_get_input(bev), "x", 1) == 0);
  BOOST_REQUIRE(evbuffer_add(bufferevent_get_output(bev), "yz", 2) == 0);
  BOOST_TEST(evbuffer_drain(bufferevent_get_output(bev), 1) == 0);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(an_fd_number_given_back_by_dup2_after_close_on_free_works_again) {
  // CLOSE_ON_FREE closed fd X while a dup kept its socket open; dup2 then
  // puts that same socket back under X, and a new bufferevent on X works.
  socket_pair s;
  const int x = s.a.get();
  Fd keep(::dup(x));
  BOOST_REQUIRE(keep.valid());
  struct bufferevent* old = bufferevent_socket_new(base, s.a.release(), BEV_OPT_CLOSE_ON_FREE);
  BOOST_REQUIRE(old != nullptr);
  BOOST_REQUIRE(bufferevent_enable(old, EV_READ) == 0);
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 0);
  bufferevent_free(old);
  event_base_loop(base, EVLOOP_NONBLOCK);  // libevent closes x only here
  BOOST_REQUIRE(::dup2(keep.get(), x) == x);
  Fd again(x);
  struct bufferevent* bev = bufferevent_socket_new(base, x, 0);
  BOOST_REQUIRE(bev != nullptr);
  read_to_end ctx;
  bufferevent_setcb(bev, read_to_end::on_read, nullptr, read_to_end::on_event, &ctx);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  send_str(s.b.get(), "same socket, same number");
  BOOST_REQUIRE(::shutdown(s.b.get(), SHUT_WR) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(ctx.got == "same socket, same number");
  BOOST_TEST(ctx.what == (BEV_EVENT_EOF | BEV_EVENT_READING));
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(write_to_a_closed_peer_reports_a_writing_error) {
  // SIGPIPE is ignored here (as servers do); the failure comes as an event.
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  seen_t seen;
  bufferevent_setcb(bev, nullptr, on_write_count, on_event, &seen);
  s.b.reset();
  BOOST_REQUIRE(bufferevent_write(bev, "into the void", 13) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.events == 1);
  BOOST_TEST(what_at(seen, 0) == (BEV_EVENT_WRITING | BEV_EVENT_ERROR));
  BOOST_TEST(seen.event_errno == EPIPE);
  BOOST_TEST(seen.writes == 0);
  BOOST_TEST((bufferevent_get_enabled(bev) & EV_WRITE) == 0);
  bufferevent_free(bev);
}

#ifdef EVASIO_VERSION
// Intended difference (README): evasio writes with MSG_NOSIGNAL, so a
// program that did not ignore SIGPIPE survives and gets the error event;
// libevent's writev would raise SIGPIPE and kill it.
BOOST_AUTO_TEST_CASE(write_to_a_closed_peer_raises_no_sigpipe) {
  struct sigaction dfl {}, old {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(SIGPIPE, &dfl, &old);
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.get(), 0);
  seen_t seen;
  bufferevent_setcb(bev, nullptr, nullptr, on_event, &seen);
  s.b.reset();
  BOOST_REQUIRE(bufferevent_write(bev, "x", 1) == 0);
  event_base_dispatch(base);
  ::sigaction(SIGPIPE, &old, nullptr);
  BOOST_TEST(seen.events == 1);
  BOOST_TEST(what_at(seen, 0) == (BEV_EVENT_WRITING | BEV_EVENT_ERROR));
  BOOST_TEST(seen.event_errno == EPIPE);
  bufferevent_free(bev);
}
#endif

// The read callback frees its own bufferevent: no callback after that, and
// CLOSE_ON_FREE closes the socket.
void check_free_inside_the_read_callback(event_base* base, int options) {
  socket_pair s;
  struct bufferevent* bev =
      bufferevent_socket_new(base, s.a.release(), BEV_OPT_CLOSE_ON_FREE | options);
  static int reads;
  reads = 0;
  bufferevent_setcb(
      bev,
      [](struct bufferevent* b, void*) {
        ++reads;
        bufferevent_free(b);
      },
      nullptr, nullptr, nullptr);
  send_str(s.b.get(), "bye");
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(reads == 1);
  BOOST_TEST(peer_sees_eof(s.b.get()));
}

BOOST_AUTO_TEST_CASE(free_inside_the_read_callback) {
  check_free_inside_the_read_callback(base, 0);
}

BOOST_AUTO_TEST_CASE(free_inside_the_read_callback_with_deferred_callbacks) {
  check_free_inside_the_read_callback(base, BEV_OPT_DEFER_CALLBACKS);
}

BOOST_AUTO_TEST_CASE(free_inside_the_write_callback) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.release(), BEV_OPT_CLOSE_ON_FREE);
  static int writes;
  writes = 0;
  bufferevent_setcb(
      bev, nullptr,
      [](struct bufferevent* b, void*) {
        ++writes;
        bufferevent_free(b);
      },
      nullptr, nullptr);
  BOOST_REQUIRE(bufferevent_write(bev, "goodbye", 7) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(writes == 1);
  BOOST_TEST(recv_exactly(s.b.get(), 7) == "goodbye");
  BOOST_TEST(peer_sees_eof(s.b.get()));
}

BOOST_AUTO_TEST_CASE(free_inside_the_event_callback_on_eof) {
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.release(), BEV_OPT_CLOSE_ON_FREE);
  static short what_seen;
  what_seen = 0;
  bufferevent_setcb(
      bev, nullptr, nullptr,
      [](struct bufferevent* b, short what, void*) {
        what_seen = what;
        bufferevent_free(b);
      },
      nullptr);
  ::shutdown(s.b.get(), SHUT_WR);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(what_seen == (BEV_EVENT_EOF | BEV_EVENT_READING));
  BOOST_TEST(peer_sees_eof(s.b.get()));
}

BOOST_AUTO_TEST_CASE(free_inside_the_event_callback_on_connect_error) {
  Fd holder = nettest::bound_socket(nettest::ipv4_loopback(0));
  BOOST_REQUIRE(holder.valid());
  const nettest::Addr to = nettest::local_address(holder.get());
  struct bufferevent* bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
  static short what_seen;
  what_seen = 0;
  bufferevent_setcb(
      bev, nullptr, nullptr,
      [](struct bufferevent* b, short what, void*) {
        what_seen = what;
        bufferevent_free(b);
      },
      nullptr);
  BOOST_REQUIRE(bufferevent_socket_connect(bev, to.sa(), to.ilen()) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(what_seen == BEV_EVENT_ERROR);
}

BOOST_AUTO_TEST_CASE(free_with_pending_output_drops_it) {
  socket_pair s;
  int small = 4096;
  ::setsockopt(s.a.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  struct bufferevent* bev = bufferevent_socket_new(base, s.a.release(), BEV_OPT_CLOSE_ON_FREE);
  const std::string data = pattern(1 << 20);
  BOOST_REQUIRE(bufferevent_write(bev, data.data(), data.size()) == 0);
  bufferevent_free(bev);
  // Nothing is left on the base, and the socket is closed.
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(peer_sees_eof(s.b.get()));
}

// ---- timeouts, bufferevents without an fd, refused connects, watermarks, shared fds ----

namespace {

// A read timeout of `rd` on a bufferevent reading a quiet socket: whether
// it fired within a 50 ms loop, and whether reading then still works.
struct quiet_read_timeout {
  explicit quiet_read_timeout(event_base* base, timeval rd) {
    bev = bufferevent_socket_new(base, s.a.get(), 0);
    BOOST_REQUIRE(bev != nullptr);
    bufferevent_setcb(bev, on_read_take, nullptr, on_event, &seen);
    BOOST_REQUIRE(bufferevent_set_timeouts(bev, &rd, nullptr) == 0);
    BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
    timeval bound = ms_tv(50);
    event_base_loopexit(base, &bound);
    event_base_dispatch(base);
  }
  ~quiet_read_timeout() { bufferevent_free(bev); }
  void expect_no_timeout(event_base* base) {
    BOOST_TEST(seen.events == 0);
    BOOST_TEST((bufferevent_get_enabled(bev) & EV_READ) != 0);
    send_str(s.b.get(), "still reading");
    BOOST_TEST(pump(base, [&] { return seen.data.size() == 13; }));
    BOOST_TEST(seen.data == "still reading");
  }
  void expect_timeout_at_once() {
    BOOST_TEST(seen.events == 1);
    BOOST_TEST(what_at(seen, 0) == (BEV_EVENT_TIMEOUT | BEV_EVENT_READING));
    BOOST_TEST((bufferevent_get_enabled(bev) & EV_READ) == 0);
  }
  socket_pair s;
  seen_t seen;
  struct bufferevent* bev = nullptr;
};

} // namespace

// Item 1: libevent tests timerisset(): {0, 0} is no timeout, not one that
// fires at once.
BOOST_AUTO_TEST_CASE(set_timeouts_with_a_zero_timeval_means_no_timeout) {
  quiet_read_timeout q(base, timeval{0, 0});
  q.expect_no_timeout(base);
}

BOOST_AUTO_TEST_CASE(set_timeouts_with_ten_billion_seconds_never_fires) {
  quiet_read_timeout q(base, timeval{10000000000L, 0});
  q.expect_no_timeout(base);
}

#ifdef EVASIO_VERSION
// libevent adds tv_sec to the clock without a check (signed overflow: it
// fires at once, or with a huge tv_usec trips an assertion); evasio
// saturates to a wait that never ends in practice.
BOOST_AUTO_TEST_CASE(set_timeouts_with_long_max_seconds_or_microseconds_never_fires) {
  {
    quiet_read_timeout q(base, timeval{LONG_MAX, 0});
    q.expect_no_timeout(base);
  }
  {
    quiet_read_timeout q(base, timeval{0, LONG_MAX});
    q.expect_no_timeout(base);
  }
  {
    quiet_read_timeout q(base, timeval{LONG_MAX, LONG_MAX});
    q.expect_no_timeout(base);
  }
}
#endif

BOOST_AUTO_TEST_CASE(set_timeouts_with_a_very_negative_timeval_fires_at_once) {
  {
    quiet_read_timeout q(base, timeval{-10000000000L, 0});
    q.expect_timeout_at_once();
  }
  {
    quiet_read_timeout q(base, timeval{LONG_MIN, 0});
    q.expect_timeout_at_once();
  }
  {
    quiet_read_timeout q(base, timeval{-1, 0});
    q.expect_timeout_at_once();
  }
}

// Item 2: with no fd, libevent's read and write events are added all the
// same (as timers only): enabled, they count as pending, and their
// timeouts fire.
BOOST_AUTO_TEST_CASE(read_timeout_fires_on_a_bufferevent_without_an_fd) {
  struct bufferevent* bev = bufferevent_socket_new(base, -1, 0);
  BOOST_REQUIRE(bev != nullptr);
  seen_t seen;
  bufferevent_setcb(bev, on_read_count, on_write_count, on_event, &seen);
  timeval rd = ms_tv(20);
  BOOST_REQUIRE(bufferevent_set_timeouts(bev, &rd, nullptr) == 0);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);  // once it fired, nothing is pending
  BOOST_TEST(seen.events == 1);
  BOOST_TEST(what_at(seen, 0) == (BEV_EVENT_TIMEOUT | BEV_EVENT_READING));
  BOOST_TEST(bufferevent_get_enabled(bev) == EV_WRITE);
  BOOST_TEST(seen.reads == 0);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(write_timeout_fires_on_a_bufferevent_without_an_fd_once_writing_is_enabled) {
  // bufferevent_enable(EV_WRITE) adds the write event, output or not.
  struct bufferevent* bev = bufferevent_socket_new(base, -1, 0);
  BOOST_REQUIRE(bev != nullptr);
  seen_t seen;
  bufferevent_setcb(bev, on_read_count, on_write_count, on_event, &seen);
  timeval wr = ms_tv(20);
  BOOST_REQUIRE(bufferevent_set_timeouts(bev, nullptr, &wr) == 0);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_WRITE) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.events == 1);
  BOOST_TEST(what_at(seen, 0) == (BEV_EVENT_TIMEOUT | BEV_EVENT_WRITING));
  BOOST_TEST(bufferevent_get_enabled(bev) == 0);
  BOOST_TEST(seen.writes == 0);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(write_timeout_fires_on_a_bufferevent_without_an_fd_once_output_is_written) {
  // Writing is on from the start; adding output adds the write event.
  struct bufferevent* bev = bufferevent_socket_new(base, -1, 0);
  BOOST_REQUIRE(bev != nullptr);
  seen_t seen;
  bufferevent_setcb(bev, on_read_count, on_write_count, on_event, &seen);
  timeval wr = ms_tv(20);
  BOOST_REQUIRE(bufferevent_set_timeouts(bev, nullptr, &wr) == 0);
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 1);  // nothing added yet
  BOOST_REQUIRE(bufferevent_write(bev, "queued", 6) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.events == 1);
  BOOST_TEST(what_at(seen, 0) == (BEV_EVENT_TIMEOUT | BEV_EVENT_WRITING));
  BOOST_TEST(evbuffer_get_length(bufferevent_get_output(bev)) == 6u);
  bufferevent_free(bev);
}

BOOST_AUTO_TEST_CASE(an_enabled_bufferevent_without_an_fd_counts_as_pending_until_disabled) {
  struct bufferevent* bev = bufferevent_socket_new(base, -1, 0);
  BOOST_REQUIRE(bev != nullptr);
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 1);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 0);
  BOOST_REQUIRE(bufferevent_disable(bev, EV_READ) == 0);
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 1);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_WRITE) == 0);
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 0);
  BOOST_REQUIRE(bufferevent_disable(bev, EV_WRITE) == 0);
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 1);
  bufferevent_free(bev);
}

// Item 3: libevent's bufferevent_connect_fail_eventcb. A connect refused
// after it started deletes the read and write events (what is enabled
// stays enabled): the loop ends once the other events are done.
namespace {
void check_refused_connect_leaves_nothing_pending(event_base* base, int options) {
  Fd holder = nettest::bound_socket(nettest::ipv4_loopback(0));  // bound, not listening
  BOOST_REQUIRE(holder.valid());
  const nettest::Addr to = nettest::local_address(holder.get());
  struct bufferevent* bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE | options);
  BOOST_REQUIRE(bev != nullptr);
  seen_t seen;
  bufferevent_setcb(bev, on_read_count, on_read_count, on_event, &seen);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ | EV_WRITE) == 0);
  const int r = bufferevent_socket_connect(bev, to.sa(), to.ilen());
  BOOST_TEST((r == 0 || r == -1));
  BOOST_TEST(seen.events == 0);
  // The regress test closes the port's holder later (for platforms that
  // only refuse then): a timer the loop must also wait for.
  struct event* closer = evtimer_new(base, [](evutil_socket_t, short, void* arg) {
    static_cast<Fd*>(arg)->reset();
  }, &holder);
  timeval later = ms_tv(30);
  evtimer_add(closer, &later);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(seen.events == 1);
  BOOST_TEST(what_at(seen, 0) == BEV_EVENT_ERROR);
  BOOST_TEST(seen.reads == 0);
  event_free(closer);
  bufferevent_free(bev);
}
} // namespace

BOOST_AUTO_TEST_CASE(connect_refused_leaves_nothing_pending_so_dispatch_returns) {
  check_refused_connect_leaves_nothing_pending(base, 0);
}

BOOST_AUTO_TEST_CASE(connect_refused_leaves_nothing_pending_with_deferred_callbacks) {
  check_refused_connect_leaves_nothing_pending(base, BEV_OPT_DEFER_CALLBACKS);
}

// Item 4: libevent watches the input buffer itself (its watermark
// callback): whoever drains it below the high watermark resumes reading.
namespace {
// A bufferevent with no read callback, its input at its high watermark of
// 100 with 900 more bytes waiting in the socket.
struct full_input {
  explicit full_input(event_base* base) {
    bev = bufferevent_socket_new(base, s.a.get(), 0);
    BOOST_REQUIRE(bev != nullptr);
    bufferevent_setwatermark(bev, EV_READ, 0, 100);
    const std::string data = pattern(1000);
    send_all(s.b.get(), data.data(), data.size());
    BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
    BOOST_REQUIRE(pump(base, [&] { return input() == 100; }));
  }
  ~full_input() { bufferevent_free(bev); }
  size_t input() const { return evbuffer_get_length(bufferevent_get_input(bev)); }
  // After 60 bytes were drained: reading refills the input to the mark.
  void expect_refilled(event_base* base) {
    BOOST_TEST(pump(base, [&] { return unread_bytes(s.a.get()) == 840; }, 2000));
    BOOST_TEST(input() == 100u);
  }
  socket_pair s;
  struct bufferevent* bev = nullptr;
};
} // namespace

BOOST_AUTO_TEST_CASE(read_high_watermark_resumes_when_a_timer_drains_the_input) {
  full_input f(base);
  struct event* drainer = evtimer_new(base, [](evutil_socket_t, short, void* arg) {
    evbuffer_drain(bufferevent_get_input(static_cast<struct bufferevent*>(arg)), 60);
  }, f.bev);
  timeval now{0, 0};
  evtimer_add(drainer, &now);
  f.expect_refilled(base);
  event_free(drainer);
}

BOOST_AUTO_TEST_CASE(read_high_watermark_resumes_when_another_bufferevents_callback_drains_the_input) {
  full_input f(base);
  socket_pair other;
  struct bufferevent* o = bufferevent_socket_new(base, other.a.get(), 0);
  BOOST_REQUIRE(o != nullptr);
  bufferevent_setcb(o, [](struct bufferevent* self, void* arg) {
    evbuffer_drain(bufferevent_get_input(self), 1);
    evbuffer_drain(bufferevent_get_input(static_cast<struct bufferevent*>(arg)), 60);
  }, nullptr, nullptr, f.bev);
  BOOST_REQUIRE(bufferevent_enable(o, EV_READ) == 0);
  send_str(other.b.get(), "x");
  f.expect_refilled(base);
  bufferevent_free(o);
}

BOOST_AUTO_TEST_CASE(read_high_watermark_resumes_when_bufferevent_read_drains_outside_any_callback) {
  full_input f(base);
  char buf[60];
  BOOST_REQUIRE(bufferevent_read(f.bev, buf, sizeof buf) == sizeof buf);
  f.expect_refilled(base);
}

BOOST_AUTO_TEST_CASE(read_high_watermark_resumes_when_another_thread_drains_the_input_under_the_lock) {
  BOOST_REQUIRE(evthread_use_pthreads() == 0);
  event_base* tbase = event_base_new();
  BOOST_REQUIRE(tbase != nullptr);
  socket_pair s;
  struct bufferevent* bev = bufferevent_socket_new(tbase, s.a.get(), BEV_OPT_THREADSAFE);
  BOOST_REQUIRE(bev != nullptr);
  bufferevent_setwatermark(bev, EV_READ, 0, 100);
  const std::string data = pattern(1000);
  send_all(s.b.get(), data.data(), data.size());
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  auto input = [&] { return evbuffer_get_length(bufferevent_get_input(bev)); };
  struct event* keepalive = event_new(tbase, -1, EV_PERSIST, [](evutil_socket_t, short, void*) {}, nullptr);
  struct timeval hour = {3600, 0};
  event_add(keepalive, &hour);
  std::thread loop([&] { event_base_dispatch(tbase); });
  auto wait_for = [&](const std::function<bool()>& pred) {
    for (int i = 0; i < 10000 && !pred(); ++i)
      ::usleep(1000);
    return pred();
  };
  BOOST_TEST(wait_for([&] { return input() == 100 && unread_bytes(s.a.get()) == 900; }));
  bufferevent_lock(bev);
  evbuffer_drain(bufferevent_get_input(bev), 60);
  bufferevent_unlock(bev);
  BOOST_TEST(wait_for([&] { return unread_bytes(s.a.get()) == 840; }));
  event_base_loopbreak(tbase);
  loop.join();
  BOOST_TEST(input() == 100u);
  event_free(keepalive);
  bufferevent_free(bev);
  event_base_free(tbase);
}

// Item 5: a socket handed from one bufferevent to another. libevent keeps
// one event per bufferevent, so both may exist on the fd, and either may go.
namespace {
void check_two_bufferevents_share_an_fd(event_base* base, bool free_first_one) {
  socket_pair s;
  struct bufferevent* one = bufferevent_socket_new(base, s.a.get(), 0);
  BOOST_REQUIRE(one != nullptr);
  const int fds = nettest::count_open_fds();  // the base's own fds made by now
  read_to_end got_one;
  bufferevent_setcb(one, read_to_end::on_read, nullptr, nullptr, &got_one);
  BOOST_REQUIRE(bufferevent_enable(one, EV_READ) == 0);
  send_str(s.b.get(), "to one");
  BOOST_REQUIRE(pump(base, [&] { return got_one.got == "to one"; }));
  struct bufferevent* two = bufferevent_socket_new(base, s.a.get(), 0);
  BOOST_REQUIRE(two != nullptr);
  struct bufferevent* stays = free_first_one ? two : one;
  bufferevent_free(free_first_one ? one : two);
  read_to_end got;
  bufferevent_setcb(stays, read_to_end::on_read, nullptr, read_to_end::on_event, &got);
  BOOST_REQUIRE(bufferevent_enable(stays, EV_READ | EV_WRITE) == 0);
  BOOST_REQUIRE(bufferevent_write(stays, "reply", 5) == 0);
  send_str(s.b.get(), "to the one left");
  BOOST_REQUIRE(::shutdown(s.b.get(), SHUT_WR) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(got.got == "to the one left");
  BOOST_TEST(got.what == (BEV_EVENT_EOF | BEV_EVENT_READING));
  BOOST_TEST(recv_exactly(s.b.get(), 5) == "reply");
  bufferevent_free(stays);
  BOOST_TEST(nettest::fd_is_open(s.a.get()));  // neither had CLOSE_ON_FREE
  BOOST_TEST(nettest::count_open_fds() == fds);
}

// A plain event and a bufferevent on one fd, made in either order: the
// event sees writability while the bufferevent reads and writes.
void check_event_and_bufferevent_share_an_fd(event_base* base, bool event_first) {
  socket_pair s;
  int fired = 0;
  auto on_writable = [](evutil_socket_t, short, void* arg) { ++*static_cast<int*>(arg); };
  struct event* ev = nullptr;
  struct bufferevent* bev = nullptr;
  auto make_event = [&] {
    ev = event_new(base, s.a.get(), EV_WRITE, on_writable, &fired);
    BOOST_REQUIRE(ev != nullptr);
    BOOST_REQUIRE(event_add(ev, nullptr) == 0);
  };
  // The base's own fds (made on first use), before the second object.
  struct bufferevent* warm = bufferevent_socket_new(base, -1, 0);
  BOOST_REQUIRE(bufferevent_setfd(warm, s.b.get()) == 0);
  const int fds = nettest::count_open_fds();
  bufferevent_free(warm);
  if (event_first)
    make_event();
  bev = bufferevent_socket_new(base, s.a.get(), 0);
  BOOST_REQUIRE(bev != nullptr);
  if (!event_first)
    make_event();
  read_to_end got;
  bufferevent_setcb(bev, read_to_end::on_read, nullptr, read_to_end::on_event, &got);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  BOOST_REQUIRE(bufferevent_write(bev, "out", 3) == 0);
  send_str(s.b.get(), "in");
  BOOST_REQUIRE(::shutdown(s.b.get(), SHUT_WR) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(fired == 1);
  BOOST_TEST(got.got == "in");
  BOOST_TEST(recv_exactly(s.b.get(), 3) == "out");
  event_free(ev);
  bufferevent_free(bev);
  BOOST_TEST(nettest::count_open_fds() == fds);
}
} // namespace

BOOST_AUTO_TEST_CASE(a_second_bufferevent_on_an_fd_works_after_the_first_is_freed) {
  check_two_bufferevents_share_an_fd(base, true);
}

BOOST_AUTO_TEST_CASE(the_first_bufferevent_on_an_fd_works_after_a_second_is_freed) {
  check_two_bufferevents_share_an_fd(base, false);
}

BOOST_AUTO_TEST_CASE(a_bufferevent_on_an_fd_that_has_an_event_works) {
  check_event_and_bufferevent_share_an_fd(base, true);
}

BOOST_AUTO_TEST_CASE(an_event_on_an_fd_that_has_a_bufferevent_works) {
  check_event_and_bufferevent_share_an_fd(base, false);
}

BOOST_AUTO_TEST_CASE(setfd_to_an_fd_that_has_a_bufferevent_and_an_event_works) {
  socket_pair s;
  struct bufferevent* first = bufferevent_socket_new(base, s.a.get(), 0);
  BOOST_REQUIRE(first != nullptr);
  int fired = 0;
  struct event* ev = event_new(base, s.a.get(), EV_WRITE,
                               [](evutil_socket_t, short, void* arg) { ++*static_cast<int*>(arg); },
                               &fired);
  BOOST_REQUIRE(event_add(ev, nullptr) == 0);
  struct bufferevent* bev = bufferevent_socket_new(base, -1, 0);
  BOOST_REQUIRE(bev != nullptr);
  BOOST_REQUIRE(bufferevent_setfd(bev, s.a.get()) == 0);
  read_to_end got;
  bufferevent_setcb(bev, read_to_end::on_read, nullptr, read_to_end::on_event, &got);
  BOOST_REQUIRE(bufferevent_enable(bev, EV_READ) == 0);
  send_str(s.b.get(), "via setfd");
  BOOST_REQUIRE(::shutdown(s.b.get(), SHUT_WR) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(fired == 1);
  BOOST_TEST(got.got == "via setfd");
  event_free(ev);
  bufferevent_free(first);
  bufferevent_free(bev);
}

#ifdef EVASIO_VERSION
// The same over an application's io_context, where every fd sits in
// Asio's own reactor (which takes an fd only once).
BOOST_AUTO_TEST_CASE(two_bufferevents_share_an_fd_over_a_borrowed_io_context) {
  boost::asio::io_context ctx;
  event_base* b = evasio::make_event_base(ctx);
  BOOST_REQUIRE(b != nullptr);
  check_two_bufferevents_share_an_fd(b, true);
  ctx.restart();  // the check ran it out of work
  check_two_bufferevents_share_an_fd(b, false);
  event_base_free(b);
}

BOOST_AUTO_TEST_CASE(an_event_and_a_bufferevent_share_an_fd_over_a_borrowed_io_context) {
  boost::asio::io_context ctx;
  event_base* b = evasio::make_event_base(ctx);
  BOOST_REQUIRE(b != nullptr);
  check_event_and_bufferevent_share_an_fd(b, true);
  ctx.restart();  // the check ran it out of work
  check_event_and_bufferevent_share_an_fd(b, false);
  event_base_free(b);
}
#endif

BOOST_AUTO_TEST_SUITE_END()

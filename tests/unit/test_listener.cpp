// evconnlistener (event2/listener.h): behaviour as libevent 2.1.12's, on real
// loopback sockets. Every case also passes against real libevent except those
// inside #ifdef EVASIO_VERSION (documented evasio differences).
#define BOOST_TEST_MODULE evconnlistener
#include <boost/test/unit_test.hpp>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "fixtures.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <vector>

using namespace nettest;
namespace utf = boost::unit_test;

namespace {

// Every case runs under a safety alarm: a hang fails the run, loudly.
using Watchdog = CaseAlarm<20>;

// What the callbacks saw, and what they should do.
struct Probe {
  // accept callback
  int count = 0;
  int disable_at = 0;       // disable the listener when count reaches it
  bool break_at = false;    // ... and event_base_loopbreak
  bool free_in_cb = false;  // evconnlistener_free from the first callback
  evconnlistener* freed = nullptr;
  std::vector<Fd> conns;
  std::vector<Addr> peers;
  std::vector<int> socklens;
  std::vector<evconnlistener*> listeners_seen;
  // error callback
  int errors = 0;
  std::vector<int> error_codes;
  bool disable_on_error = true;
};

void probe_cb(evconnlistener* lev, evutil_socket_t fd, sockaddr* sa, int socklen, void* arg) {
  auto* p = static_cast<Probe*>(arg);
  ++p->count;
  p->conns.emplace_back(fd);
  Addr a;
  if (sa && socklen > 0 && static_cast<size_t>(socklen) <= sizeof a.ss)
    std::memcpy(&a.ss, sa, static_cast<size_t>(socklen));
  a.len = socklen > 0 ? static_cast<socklen_t>(socklen) : 0;
  p->peers.push_back(a);
  p->socklens.push_back(socklen);
  p->listeners_seen.push_back(lev);
  if (p->free_in_cb) {
    p->free_in_cb = false;
    p->freed = lev;
    evconnlistener_free(lev);
    return;
  }
  if (p->disable_at && p->count == p->disable_at) {
    evconnlistener_disable(lev);
    if (p->break_at)
      event_base_loopbreak(evconnlistener_get_base(lev));
  }
}

void probe_error_cb(evconnlistener* lev, void* arg) {
  auto* p = static_cast<Probe*>(arg);
  p->error_codes.push_back(EVUTIL_SOCKET_ERROR());
  ++p->errors;
  if (p->disable_on_error)
    evconnlistener_disable(lev);
}

evconnlistener* bind_listener(event_base* base, const Addr& at, Probe* p,
                              unsigned flags = LEV_OPT_CLOSE_ON_FREE, int backlog = -1) {
  return evconnlistener_new_bind(base, probe_cb, p, flags, backlog, at.sa(), at.ilen());
}

std::set<unsigned> ports_of(const std::vector<Addr>& v) {
  std::set<unsigned> s;
  for (const Addr& a : v)
    s.insert(a.port());
  return s;
}

std::set<unsigned> client_ports(const std::vector<Fd>& clients) {
  std::set<unsigned> s;
  for (const Fd& c : clients)
    s.insert(local_address(c.get()).port());
  return s;
}

bool have_ipv6() { return ipv6_loopback_works(); }

// One connection from a client (optionally bound to `client_at`) to a live
// listener; checks it is delivered once with the client's address, and that
// the accepted socket really is connected to the client.
void expect_delivery(event_base* base, evconnlistener* lev, Probe& p,
                     const Addr* client_at = nullptr) {
  const Addr where = address_of(lev);
  Fd client = connect_to(where, client_at);
  BOOST_TEST_REQUIRE(client.valid(), "connect: " << std::strerror(errno));
  const Addr client_addr = local_address(client.get());
  p.disable_at = p.count + 1;
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST_REQUIRE(p.count == 1);
  BOOST_TEST(p.peers[0].family() == where.family());
  BOOST_TEST(p.socklens[0] == static_cast<int>(client_addr.len));
  BOOST_TEST(same_endpoint(p.peers[0].sa(), p.peers[0].len, client_addr));
  BOOST_TEST(::send(p.conns[0].get(), "k", 1, MSG_NOSIGNAL) == 1);
  char c = 0;
  BOOST_TEST(::recv(client.get(), &c, 1, 0) == 1);
  BOOST_TEST(c == 'k');
}

// Adopts a bound socket of at's family with the given backlog (for 0, the
// socket is put to listen first) and checks it listens and delivers.
void expect_adopted_socket_works(const Addr& at, int backlog, const Addr* client_at = nullptr) {
  Base base;
  Fd s = bound_socket(at);
  BOOST_TEST_REQUIRE(s.valid(), "bind: " << std::strerror(errno));
  if (backlog == 0)
    BOOST_TEST_REQUIRE(::listen(s.get(), 8) == 0);
  Probe p;
  Listener l(evconnlistener_new(base, probe_cb, &p, 0, backlog, s.get()));
  BOOST_TEST_REQUIRE(l.l != nullptr, "evconnlistener_new: " << std::strerror(errno));
  BOOST_TEST(evconnlistener_get_fd(l) == s.get());
  BOOST_TEST(is_listening(s.get()));
  expect_delivery(base, l, p, client_at);
}

// RLIMIT_NOFILE lowered so that no new fd can be made; restored on exit.
// Unlike nettest::NoMoreFds it fills the holes below the highest fd first, so
// that no open fd lies above the limit.
class FilledFdTable {
public:
  FilledFdTable() {
    BOOST_TEST_REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved_) == 0);
    const int hi = highest_open_fd();
    BOOST_TEST_REQUIRE(hi >= 0);
    // Fill every hole below the highest fd, so the next fd would be hi+1.
    for (int fd = 0; fd < hi; ++fd)
      if (!fd_is_open(fd)) {
        const int f = ::fcntl(hi, F_DUPFD_CLOEXEC, fd);
        BOOST_TEST_REQUIRE(f == fd);
        fillers_.push_back(f);
      }
    rlimit low = saved_;
    low.rlim_cur = static_cast<rlim_t>(hi) + 1;
    BOOST_TEST_REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
    lowered_ = true;
  }
  ~FilledFdTable() { restore(); }
  void restore() {
    if (lowered_)
      ::setrlimit(RLIMIT_NOFILE, &saved_);
    lowered_ = false;
    for (int f : fillers_)
      ::close(f);
    fillers_.clear();
  }

private:
  rlimit saved_{};
  bool lowered_ = false;
  std::vector<int> fillers_;
};

int g_log_severity = -1;
std::string g_log_message;
void capture_log(int severity, const char* msg) {
  if (g_log_severity < 0) {
    g_log_severity = severity;
    g_log_message = msg ? msg : "";
  }
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(listener, Watchdog)

// ---- libevent's regression scenarios ---------------------------------------

void two_listeners_scenario(unsigned extra_flags) {
  Base base;
  Probe a, b;
  a.disable_at = 2;
  b.disable_at = 1;
  Listener la(bind_listener(base, ipv4_loopback(0), &a,
                            LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | extra_flags));
  Listener lb(bind_listener(base, ipv4_loopback(0), &b,
                            LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | extra_flags));
  BOOST_TEST_REQUIRE(la.l != nullptr);
  BOOST_TEST_REQUIRE(lb.l != nullptr);
  const Addr aa = address_of(la), ab = address_of(lb);
  BOOST_TEST_REQUIRE(aa.port() != 0u);
  BOOST_TEST_REQUIRE(ab.port() != 0u);
  BOOST_TEST_REQUIRE(aa.port() != ab.port());
  std::vector<Fd> clients;
  clients.push_back(connect_to(aa));
  clients.push_back(connect_to(aa));
  clients.push_back(connect_to(ab));
  for (const Fd& c : clients)
    BOOST_TEST_REQUIRE(c.valid());
  BOOST_TEST(event_base_dispatch(base) == 1);  // returned by itself
  BOOST_TEST(a.disable_at - a.count == 0);
  BOOST_TEST(b.disable_at - b.count == 0);
  BOOST_TEST(event_base_got_exit(base) == 0);
  BOOST_TEST(event_base_got_break(base) == 0);
}

BOOST_AUTO_TEST_CASE(two_listeners_each_disabling_itself_after_its_count_let_dispatch_return_1) {
  two_listeners_scenario(0);
}

BOOST_AUTO_TEST_CASE(two_threadsafe_listeners_each_disabling_itself_after_its_count_let_dispatch_return_1) {
  two_listeners_scenario(LEV_OPT_THREADSAFE);
}

BOOST_AUTO_TEST_CASE(accept_error_on_a_readable_socketpair_end_reaches_the_error_callback) {
  Base base;
  int sv[2];
  BOOST_TEST_REQUIRE(evutil_socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  Fd peer(sv[1]);
  BOOST_TEST_REQUIRE(evutil_make_socket_nonblocking(sv[0]) == 0);
  BOOST_TEST_REQUIRE(::send(peer.get(), "hello", 5, MSG_NOSIGNAL) == 5);  // readable
  Probe p;
  Listener l(evconnlistener_new(base, probe_cb, &p, LEV_OPT_CLOSE_ON_FREE, 0, sv[0]));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  evconnlistener_set_error_cb(l, probe_error_cb);
  BOOST_TEST(event_base_dispatch(base) == 1);  // the error callback disabled it
  BOOST_TEST(p.errors == 1);
  BOOST_TEST(p.count == 0);
  BOOST_TEST_REQUIRE(p.error_codes.size() == 1u);
  BOOST_TEST(p.error_codes[0] == EINVAL);  // accept() on a non-listening socket
}

BOOST_AUTO_TEST_CASE(accept_error_without_error_callback_logs_a_warning) {
  Base base;
  int sv[2];
  BOOST_TEST_REQUIRE(evutil_socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  Fd peer(sv[1]);
  BOOST_TEST_REQUIRE(evutil_make_socket_nonblocking(sv[0]) == 0);
  BOOST_TEST_REQUIRE(::send(peer.get(), "hello", 5, MSG_NOSIGNAL) == 5);
  Probe p;
  Listener l(evconnlistener_new(base, probe_cb, &p, LEV_OPT_CLOSE_ON_FREE, 0, sv[0]));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  g_log_severity = -1;
  g_log_message.clear();
  const timeval safety{5, 0};  // ends the loop only if EVLOOP_ONCE is ignored
  BOOST_TEST_REQUIRE(event_base_loopexit(base, &safety) == 0);
  event_set_log_callback(capture_log);
  const int rc = event_base_loop(base, EVLOOP_ONCE);
  event_set_log_callback(nullptr);
  BOOST_TEST(rc == 0);
  BOOST_TEST(event_base_got_exit(base) == 0);
  BOOST_TEST(p.count == 0);
  BOOST_TEST(g_log_severity == EVENT_LOG_WARN);
  BOOST_TEST(g_log_message.find("accept") != std::string::npos, "message: " << g_log_message);
}

BOOST_AUTO_TEST_CASE(listener_freed_inside_its_callback_gets_no_further_callbacks) {
  Base base;
  Probe p;
  p.free_in_cb = true;
  evconnlistener* lev = bind_listener(base, ipv4_loopback(0), &p);
  BOOST_TEST_REQUIRE(lev != nullptr);
  const Addr where = address_of(lev);
  Fd c1 = connect_to(where), c2 = connect_to(where);
  BOOST_TEST_REQUIRE(c1.valid());
  BOOST_TEST_REQUIRE(c2.valid());
  BOOST_TEST(event_base_dispatch(base) == 1);  // nothing left pending
  BOOST_TEST(p.count == 1);
  BOOST_TEST(p.freed == lev);
  if (p.freed != lev)
    evconnlistener_free(lev);
}

BOOST_AUTO_TEST_CASE(clients_that_connect_and_close_before_dispatch_are_still_delivered) {
  Base base;
  Probe p;
  p.disable_at = 3;
  Listener l(bind_listener(base, ipv4_loopback(0), &p));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  const Addr where = address_of(l);
  std::set<unsigned> ports;
  for (int i = 0; i < 3; ++i) {
    Fd c = connect_to(where);
    BOOST_TEST_REQUIRE(c.valid());
    ports.insert(local_address(c.get()).port());
  }  // each client closed at once
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(p.count == 3);
  BOOST_TEST((ports_of(p.peers) == ports));
}

BOOST_AUTO_TEST_CASE(emfile_from_accept_reaches_the_error_callback_and_the_connection_stays_queued) {
  Base base;
  Probe p;
  Listener l(bind_listener(base, ipv4_loopback(0), &p));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  evconnlistener_set_error_cb(l, probe_error_cb);
  Fd client = connect_to(address_of(l));
  BOOST_TEST_REQUIRE(client.valid());
  BOOST_TEST_REQUIRE(wait_readable(evconnlistener_get_fd(l)));
  int rc;
  {
    FilledFdTable limit;
    rc = event_base_dispatch(base);
  }
  BOOST_TEST(rc == 1);  // the error callback disabled the listener
  BOOST_TEST_REQUIRE(p.count == 0);
  BOOST_TEST_REQUIRE(p.errors == 1);
  BOOST_TEST(p.error_codes[0] == EMFILE);
  // The connection was not lost: with fds available again it is delivered.
  p.disable_at = 1;
  BOOST_TEST(evconnlistener_enable(l) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(p.count == 1);
}

// ---- accessors -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(get_fd_returns_exactly_the_adopted_fd) {
  Base base;
  Fd s = bound_socket(ipv4_loopback(0));
  BOOST_TEST_REQUIRE(s.valid());
  Probe p;
  Listener l(evconnlistener_new(base, probe_cb, &p, 0, -1, s.get()));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  BOOST_TEST(evconnlistener_get_fd(l) == s.get());
}

BOOST_AUTO_TEST_CASE(get_fd_of_new_bind_listener_is_its_bound_socket) {
  Base base;
  Probe p;
  Listener l(bind_listener(base, ipv4_loopback(0), &p));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  const int fd = evconnlistener_get_fd(l);
  BOOST_TEST(fd >= 0);
  BOOST_TEST(is_listening(fd));
  const Addr a = local_address(fd);
  BOOST_TEST(a.family() == AF_INET);
  BOOST_TEST(a.port() != 0u);
}

BOOST_AUTO_TEST_CASE(get_base_returns_the_base_given_at_creation) {
  Base base;
  Probe p;
  Listener l(bind_listener(base, ipv4_loopback(0), &p));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  BOOST_TEST(evconnlistener_get_base(l) == base.b);
}

// ---- families, new_bind and adopted sockets ---------------------------------

BOOST_AUTO_TEST_CASE(callback_gets_the_listener_and_the_ipv4_peer_address_and_length) {
  Base base;
  Probe p;
  Listener l(bind_listener(base, ipv4_loopback(0), &p));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  expect_delivery(base, l, p);
  BOOST_TEST(p.socklens[0] == static_cast<int>(sizeof(sockaddr_in)));
  BOOST_TEST(p.listeners_seen[0] == l.l);
  const auto* sin = reinterpret_cast<const sockaddr_in*>(&p.peers[0].ss);
  BOOST_TEST(ntohl(sin->sin_addr.s_addr) == INADDR_LOOPBACK);
}

BOOST_AUTO_TEST_CASE(ipv6_new_bind_listener_delivers_with_the_ipv6_peer_address,
                     *utf::precondition([](utf::test_unit_id) { return have_ipv6(); })) {
  Base base;
  Probe p;
  Listener l(bind_listener(base, ipv6_loopback(0), &p));
  BOOST_TEST_REQUIRE(l.l != nullptr, "new_bind [::1]: " << std::strerror(errno));
  BOOST_TEST(address_of(l).family() == AF_INET6);
  expect_delivery(base, l, p);
  BOOST_TEST(p.socklens[0] == static_cast<int>(sizeof(sockaddr_in6)));
}

BOOST_AUTO_TEST_CASE(unix_new_bind_listener_delivers_with_the_client_path) {
  Base base;
  TempSocketPath server("srv"), client("cli");
  Probe p;
  Listener l(bind_listener(base, server.addr(), &p));
  BOOST_TEST_REQUIRE(l.l != nullptr, "new_bind AF_UNIX: " << std::strerror(errno));
  const Addr where = address_of(l);
  BOOST_TEST(where.family() == AF_UNIX);
  BOOST_TEST(std::string(reinterpret_cast<const sockaddr_un*>(&where.ss)->sun_path) ==
             server.path());
  const Addr client_at = client.addr();
  expect_delivery(base, l, p, &client_at);
}

BOOST_AUTO_TEST_CASE(adopted_ipv4_socket_with_negative_backlog_is_made_to_listen) {
  expect_adopted_socket_works(ipv4_loopback(0), -1);
}
BOOST_AUTO_TEST_CASE(adopted_ipv4_socket_with_positive_backlog_is_made_to_listen) {
  expect_adopted_socket_works(ipv4_loopback(0), 16);
}
BOOST_AUTO_TEST_CASE(adopted_listening_ipv4_socket_with_zero_backlog_is_used_as_is) {
  expect_adopted_socket_works(ipv4_loopback(0), 0);
}

BOOST_AUTO_TEST_CASE(adopted_ipv6_socket_with_negative_backlog_is_made_to_listen,
                     *utf::precondition([](utf::test_unit_id) { return have_ipv6(); })) {
  expect_adopted_socket_works(ipv6_loopback(0), -1);
}
BOOST_AUTO_TEST_CASE(adopted_ipv6_socket_with_positive_backlog_is_made_to_listen,
                     *utf::precondition([](utf::test_unit_id) { return have_ipv6(); })) {
  expect_adopted_socket_works(ipv6_loopback(0), 16);
}
BOOST_AUTO_TEST_CASE(adopted_listening_ipv6_socket_with_zero_backlog_is_used_as_is,
                     *utf::precondition([](utf::test_unit_id) { return have_ipv6(); })) {
  expect_adopted_socket_works(ipv6_loopback(0), 0);
}

BOOST_AUTO_TEST_CASE(adopted_unix_socket_with_negative_backlog_is_made_to_listen) {
  TempSocketPath server("srv"), client("cli");
  const Addr client_at = client.addr();
  expect_adopted_socket_works(server.addr(), -1, &client_at);
}
BOOST_AUTO_TEST_CASE(adopted_unix_socket_with_positive_backlog_is_made_to_listen) {
  TempSocketPath server("srv"), client("cli");
  const Addr client_at = client.addr();
  expect_adopted_socket_works(server.addr(), 16, &client_at);
}
BOOST_AUTO_TEST_CASE(adopted_listening_unix_socket_with_zero_backlog_is_used_as_is) {
  TempSocketPath server("srv"), client("cli");
  const Addr client_at = client.addr();
  expect_adopted_socket_works(server.addr(), 0, &client_at);
}

BOOST_AUTO_TEST_CASE(unnamed_unix_client_is_reported_as_af_unix) {
  Base base;
  TempSocketPath server("srv");
  Probe p;
  Listener l(bind_listener(base, server.addr(), &p));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  expect_delivery(base, l, p);
  BOOST_TEST(p.peers[0].family() == AF_UNIX);
}

// ---- enabling and disabling ------------------------------------------------

BOOST_AUTO_TEST_CASE(disabled_option_starts_disabled_until_enable) {
  Base base;
  Probe p;
  p.disable_at = 1;
  Listener l(bind_listener(base, ipv4_loopback(0), &p, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_DISABLED));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  BOOST_TEST(is_listening(evconnlistener_get_fd(l)));
  Fd client = connect_to(address_of(l));
  BOOST_TEST_REQUIRE(client.valid());
  BOOST_TEST_REQUIRE(wait_readable(evconnlistener_get_fd(l)));
  BOOST_TEST(event_base_dispatch(base) == 1);  // nothing pending: returns at once
  BOOST_TEST_REQUIRE(p.count == 0);
  BOOST_TEST(evconnlistener_enable(l) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(p.count == 1);
}

BOOST_AUTO_TEST_CASE(connections_queued_while_disabled_are_delivered_exactly_once_after_enable) {
  Base base;
  Probe p;
  Listener l(bind_listener(base, ipv4_loopback(0), &p));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  BOOST_TEST(evconnlistener_disable(l) == 0);
  const Addr where = address_of(l);
  std::vector<Fd> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(connect_to(where));
    BOOST_TEST_REQUIRE(clients.back().valid());
  }
  BOOST_TEST_REQUIRE(wait_readable(evconnlistener_get_fd(l)));
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST_REQUIRE(p.count == 0);
  // Disable/enable cycles while nothing runs must not lose or duplicate.
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST(evconnlistener_enable(l) == 0);
    BOOST_TEST(evconnlistener_disable(l) == 0);
  }
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 1);
  BOOST_TEST_REQUIRE(p.count == 0);
  p.disable_at = 3;
  BOOST_TEST(evconnlistener_enable(l) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(p.count == 3);
  BOOST_TEST((ports_of(p.peers) == client_ports(clients)));
  // Nothing more arrives later: no connection was duplicated.
  BOOST_TEST(evconnlistener_enable(l) == 0);
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 0);
  BOOST_TEST(p.count == 3);
}

BOOST_AUTO_TEST_CASE(disable_inside_callback_leaves_the_other_queued_connections_for_after_enable) {
  Base base;
  Probe p;
  p.disable_at = 1;
  Listener l(bind_listener(base, ipv4_loopback(0), &p));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  const Addr where = address_of(l);
  std::vector<Fd> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(connect_to(where));
    BOOST_TEST_REQUIRE(clients.back().valid());
  }
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST_REQUIRE(p.count == 1);  // the other two stay in the kernel's queue
  p.disable_at = 3;
  BOOST_TEST(evconnlistener_enable(l) == 0);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(p.count == 3);
  BOOST_TEST((ports_of(p.peers) == client_ports(clients)));
}

BOOST_AUTO_TEST_CASE(null_callback_at_creation_keeps_the_listener_idle_until_set_cb) {
  Base base;
  Probe p;
  p.disable_at = 1;
  const Addr at = ipv4_loopback(0);
  Listener l(evconnlistener_new_bind(base, nullptr, nullptr, LEV_OPT_CLOSE_ON_FREE, -1, at.sa(),
                                     at.ilen()));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  Fd client = connect_to(address_of(l));
  BOOST_TEST_REQUIRE(client.valid());
  BOOST_TEST_REQUIRE(wait_readable(evconnlistener_get_fd(l)));
  BOOST_TEST(event_base_dispatch(base) == 1);  // not pending without a callback
  evconnlistener_set_cb(l, probe_cb, &p);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(p.count == 1);
}

int g_other_cb_calls = 0;
void other_cb(evconnlistener* lev, evutil_socket_t fd, sockaddr* sa, int socklen, void* arg) {
  ++g_other_cb_calls;
  probe_cb(lev, fd, sa, socklen, arg);
}

BOOST_AUTO_TEST_CASE(set_cb_replaces_the_callback_and_its_argument) {
  Base base;
  Probe a, b;
  a.disable_at = 1;
  b.disable_at = 1;
  g_other_cb_calls = 0;
  Listener l(bind_listener(base, ipv4_loopback(0), &a));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  const Addr where = address_of(l);
  Fd c1 = connect_to(where);
  BOOST_TEST_REQUIRE(c1.valid());
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST_REQUIRE(a.count == 1);
  evconnlistener_set_cb(l, other_cb, &b);
  BOOST_TEST(evconnlistener_enable(l) == 0);
  Fd c2 = connect_to(where);
  BOOST_TEST_REQUIRE(c2.valid());
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(a.count == 1);
  BOOST_TEST(b.count == 1);
  BOOST_TEST(g_other_cb_calls == 1);
}

#ifdef EVASIO_VERSION
// Documented difference: libevent accepts and closes the next connection
// after set_cb(NULL) on an enabled listener; evasio leaves it queued.
BOOST_AUTO_TEST_CASE(set_cb_null_on_an_enabled_listener_leaves_connections_queued) {
  Base base;
  Probe p;
  Listener l(bind_listener(base, ipv4_loopback(0), &p));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  evconnlistener_set_cb(l, nullptr, nullptr);
  Fd client = connect_to(address_of(l));
  BOOST_TEST_REQUIRE(client.valid());
  BOOST_TEST_REQUIRE(wait_readable(evconnlistener_get_fd(l)));
  BOOST_TEST(event_base_dispatch(base) == 1);
  p.disable_at = 1;
  evconnlistener_set_cb(l, probe_cb, &p);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(p.count == 1);
  BOOST_TEST((ports_of(p.peers) == std::set<unsigned>{local_address(client.get()).port()}));
}
#endif

BOOST_AUTO_TEST_CASE(freed_listener_is_no_longer_pending) {
  Base base;
  Probe p;
  evconnlistener* lev = bind_listener(base, ipv4_loopback(0), &p);
  BOOST_TEST_REQUIRE(lev != nullptr);
  Fd client = connect_to(address_of(lev));
  BOOST_TEST_REQUIRE(client.valid());
  evconnlistener_free(lev);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(p.count == 0);
}

// ---- a listener and a read event on the same fd ------------------------------

// A persistent EV_READ event on a listening fd; it takes a connection itself
// only when asked to.
struct ReadEvent {
  event_base* base;
  int fires = 0;
  bool accept_and_break = false;
  int accepted = 0;
  event* ev = nullptr;
  ReadEvent(event_base* b, int fd) : base(b) {
    ev = event_new(b, fd, EV_READ | EV_PERSIST, cb, this);
    BOOST_TEST_REQUIRE(ev != nullptr);
    BOOST_TEST_REQUIRE(event_add(ev, nullptr) == 0);
  }
  ~ReadEvent() { reset(); }
  ReadEvent(const ReadEvent&) = delete;
  ReadEvent& operator=(const ReadEvent&) = delete;
  void reset() {
    if (ev)
      event_free(ev);
    ev = nullptr;
  }
  static void cb(evutil_socket_t fd, short, void* arg) {
    auto* r = static_cast<ReadEvent*>(arg);
    ++r->fires;
    if (!r->accept_and_break)
      return;
    const int c = ::accept(fd, nullptr, nullptr);
    if (c >= 0) {
      ++r->accepted;
      ::close(c);
    }
    event_base_loopbreak(r->base);
  }
};

// The pair on one listening socket, made in the order asked for.
struct SharedFd {
  Base base;
  Fd sock = bound_socket(ipv4_loopback(0));
  Probe p;
  std::optional<ReadEvent> read;
  Listener lev;
  explicit SharedFd(bool event_first) {
    BOOST_TEST_REQUIRE(sock.valid());
    BOOST_TEST_REQUIRE(::listen(sock.get(), 16) == 0);
    if (event_first)
      read.emplace(base, sock.get());
    lev.reset(evconnlistener_new(base, probe_cb, &p, 0, 0, sock.get()));
    BOOST_TEST_REQUIRE(lev.l != nullptr, "evconnlistener_new: " << std::strerror(errno));
    if (!event_first)
      read.emplace(base, sock.get());
    p.disable_at = 1;
    p.break_at = true;
  }
};

// The listener takes a connection while the event is on its fd too.
void expect_listener_accepts(SharedFd& s) {
  Fd client = connect_to(local_address(s.sock.get()));
  BOOST_TEST_REQUIRE(client.valid());
  BOOST_TEST(event_base_dispatch(s.base) == 0);  // its loopbreak
  BOOST_TEST(s.p.count == 1);
}

// The event fires for a connection and takes it itself.
void expect_event_fires(SharedFd& s) {
  s.read->accept_and_break = true;
  Fd client = connect_to(local_address(s.sock.get()));
  BOOST_TEST_REQUIRE(client.valid());
  BOOST_TEST(event_base_dispatch(s.base) == 0);  // its loopbreak
  BOOST_TEST(s.read->accepted == 1);
}

BOOST_AUTO_TEST_CASE(new_listener_on_an_fd_with_a_read_event_added_succeeds_and_accepts) {
  SharedFd s(true);
  expect_listener_accepts(s);
}

BOOST_AUTO_TEST_CASE(read_event_added_on_a_listener_fd_succeeds_and_fires) {
  SharedFd s(false);
  s.p.disable_at = 0;
  evconnlistener_disable(s.lev);  // the event alone looks at the fd
  expect_event_fires(s);
  BOOST_TEST(s.p.count == 0);
}

BOOST_AUTO_TEST_CASE(freeing_the_listener_leaves_the_read_event_on_its_fd_working) {
  for (bool event_first : {true, false}) {
    BOOST_TEST_CONTEXT("event added " << (event_first ? "before" : "after") << " the listener") {
      const int fds = count_open_fds();
      {
        SharedFd s(event_first);
        s.lev.reset();
        BOOST_TEST(is_listening(s.sock.get()));  // no LEV_OPT_CLOSE_ON_FREE
        expect_event_fires(s);
      }
      BOOST_TEST(count_open_fds() == fds);
    }
  }
}

BOOST_AUTO_TEST_CASE(freeing_the_read_event_leaves_the_listener_on_its_fd_working) {
  for (bool event_first : {true, false}) {
    BOOST_TEST_CONTEXT("event added " << (event_first ? "before" : "after") << " the listener") {
      const int fds = count_open_fds();
      {
        SharedFd s(event_first);
        s.read->reset();
        expect_listener_accepts(s);
        BOOST_TEST(s.read->fires == 0);
      }
      BOOST_TEST(count_open_fds() == fds);
    }
  }
}

BOOST_AUTO_TEST_CASE(close_on_free_listener_sharing_its_fd_with_a_read_event_leaks_no_fd) {
  for (bool event_first : {true, false}) {
    BOOST_TEST_CONTEXT("event added " << (event_first ? "before" : "after") << " the listener") {
      const int fds = count_open_fds();
      {
        Base base;
        Fd sock = bound_socket(ipv4_loopback(0));
        BOOST_TEST_REQUIRE(sock.valid());
        std::optional<ReadEvent> read;
        if (event_first)
          read.emplace(base, sock.get());
        Probe p;
        evconnlistener* lev = evconnlistener_new(base, probe_cb, &p, LEV_OPT_CLOSE_ON_FREE, -1, sock.get());
        BOOST_TEST_REQUIRE(lev != nullptr, "evconnlistener_new: " << std::strerror(errno));
        if (!event_first)
          read.emplace(base, sock.get());
        read.reset();
        evconnlistener_free(lev);  // closes the socket
        BOOST_TEST(!fd_is_open(sock.release()));
      }
      BOOST_TEST(count_open_fds() == fds);
    }
  }
}

// ---- socket ownership and flags --------------------------------------------

BOOST_AUTO_TEST_CASE(close_on_free_closes_the_adopted_fd) {
  Base base;
  Fd s = bound_socket(ipv4_loopback(0));
  BOOST_TEST_REQUIRE(s.valid());
  const int fd = s.release();
  Probe p;
  evconnlistener* lev = evconnlistener_new(base, probe_cb, &p, LEV_OPT_CLOSE_ON_FREE, -1, fd);
  BOOST_TEST_REQUIRE(lev != nullptr);
  BOOST_TEST(fd_is_open(fd));
  evconnlistener_free(lev);
  errno = 0;
  BOOST_TEST(::fcntl(fd, F_GETFD) == -1);
  BOOST_TEST(errno == EBADF);
}

BOOST_AUTO_TEST_CASE(without_close_on_free_the_adopted_fd_stays_open_and_listening) {
  Base base;
  Fd s = bound_socket(ipv4_loopback(0));
  BOOST_TEST_REQUIRE(s.valid());
  Probe p;
  evconnlistener* lev = evconnlistener_new(base, probe_cb, &p, 0, -1, s.get());
  BOOST_TEST_REQUIRE(lev != nullptr);
  evconnlistener_free(lev);
  BOOST_TEST(::fcntl(s.get(), F_GETFD) != -1);
  BOOST_TEST(is_listening(s.get()));
  Fd client = connect_to(local_address(s.get()));  // the kernel still queues
  BOOST_TEST(client.valid());
}

BOOST_AUTO_TEST_CASE(new_bind_without_close_on_free_leaves_its_socket_open) {
  Base base;
  Probe p;
  evconnlistener* lev = bind_listener(base, ipv4_loopback(0), &p, 0);
  BOOST_TEST_REQUIRE(lev != nullptr);
  Fd owned(evconnlistener_get_fd(lev));  // ours to close after free
  evconnlistener_free(lev);
  BOOST_TEST(fd_is_open(owned.get()));
  BOOST_TEST(is_listening(owned.get()));
}

BOOST_AUTO_TEST_CASE(new_bind_with_close_on_free_closes_its_socket) {
  Base base;
  Probe p;
  evconnlistener* lev = bind_listener(base, ipv4_loopback(0), &p, LEV_OPT_CLOSE_ON_FREE);
  BOOST_TEST_REQUIRE(lev != nullptr);
  const int fd = evconnlistener_get_fd(lev);
  evconnlistener_free(lev);
  BOOST_TEST(!fd_is_open(fd));
}

// Accepts one connection with the given flags and returns it.
Fd accept_one(unsigned flags) {
  Base base;
  Probe p;
  p.disable_at = 1;
  Listener l(bind_listener(base, ipv4_loopback(0), &p, LEV_OPT_CLOSE_ON_FREE | flags));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  Fd client = connect_to(address_of(l));
  BOOST_TEST_REQUIRE(client.valid());
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST_REQUIRE(p.count == 1);
  return std::move(p.conns[0]);
}

BOOST_AUTO_TEST_CASE(accepted_sockets_are_nonblocking_by_default) {
  Fd s = accept_one(0);
  BOOST_TEST(fd_is_nonblocking(s.get()));
}

BOOST_AUTO_TEST_CASE(leave_sockets_blocking_keeps_accepted_sockets_blocking) {
  Fd s = accept_one(LEV_OPT_LEAVE_SOCKETS_BLOCKING);
  BOOST_TEST(fd_status_flags(s.get()) != -1);
  BOOST_TEST(!fd_is_nonblocking(s.get()));
}

BOOST_AUTO_TEST_CASE(close_on_exec_marks_accepted_sockets_close_on_exec) {
  Fd s = accept_one(LEV_OPT_CLOSE_ON_EXEC);
  BOOST_TEST(fd_is_cloexec(s.get()));
}

BOOST_AUTO_TEST_CASE(accepted_sockets_are_not_close_on_exec_without_the_option) {
  Fd s = accept_one(0);
  BOOST_TEST(fd_descriptor_flags(s.get()) != -1);
  BOOST_TEST(!fd_is_cloexec(s.get()));
}

// new_bind's socket, for inspection, with the given flags.
struct BoundListener {
  Base base;
  Probe p;
  Listener l;
  explicit BoundListener(unsigned flags, const Addr& at = ipv4_loopback(0))
      : l(bind_listener(base, at, &p, LEV_OPT_CLOSE_ON_FREE | flags)) {
    BOOST_TEST_REQUIRE(l.l != nullptr, "new_bind: " << std::strerror(errno));
  }
  int fd() const { return evconnlistener_get_fd(l); }
};

BOOST_AUTO_TEST_CASE(close_on_exec_marks_the_new_bind_socket_close_on_exec) {
  BoundListener b(LEV_OPT_CLOSE_ON_EXEC);
  BOOST_TEST(fd_is_cloexec(b.fd()));
}

BOOST_AUTO_TEST_CASE(new_bind_socket_is_not_close_on_exec_without_the_option) {
  BoundListener b(0);
  BOOST_TEST(fd_descriptor_flags(b.fd()) != -1);
  BOOST_TEST(!fd_is_cloexec(b.fd()));
}

BOOST_AUTO_TEST_CASE(new_bind_socket_is_nonblocking) {
  BoundListener b(0);
  BOOST_TEST(fd_is_nonblocking(b.fd()));
}

BOOST_AUTO_TEST_CASE(new_bind_turns_keepalive_on) {
  BoundListener b(0);
  BOOST_TEST(sockopt_int(b.fd(), SOL_SOCKET, SO_KEEPALIVE) == 1);
}

BOOST_AUTO_TEST_CASE(new_bind_leaves_reuseaddr_off_without_reuseable) {
  BoundListener b(0);
  BOOST_TEST(sockopt_int(b.fd(), SOL_SOCKET, SO_REUSEADDR) == 0);
}

BOOST_AUTO_TEST_CASE(reuseable_turns_reuseaddr_on) {
  BoundListener b(LEV_OPT_REUSEABLE);
  BOOST_TEST(sockopt_int(b.fd(), SOL_SOCKET, SO_REUSEADDR) == 1);
}

BOOST_AUTO_TEST_CASE(new_bind_leaves_reuseport_off_without_reuseable_port) {
  BoundListener b(0);
  BOOST_TEST(sockopt_int(b.fd(), SOL_SOCKET, SO_REUSEPORT) == 0);
}

BOOST_AUTO_TEST_CASE(reuseable_port_turns_reuseport_on) {
  BoundListener b(LEV_OPT_REUSEABLE_PORT);
  BOOST_TEST(sockopt_int(b.fd(), SOL_SOCKET, SO_REUSEPORT) == 1);
}

BOOST_AUTO_TEST_CASE(reuseable_port_lets_two_listeners_share_a_port) {
  BoundListener first(LEV_OPT_REUSEABLE_PORT);
  const Addr at = local_address(first.fd());
  Probe p;
  Listener second(bind_listener(first.base, at, &p, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE_PORT));
  BOOST_TEST(second.l != nullptr, "second bind: " << std::strerror(errno));
}

BOOST_AUTO_TEST_CASE(bind_ipv6only_turns_ipv6_v6only_on,
                     *utf::precondition([](utf::test_unit_id) { return have_ipv6(); })) {
  BoundListener b(LEV_OPT_BIND_IPV6ONLY, ipv6_loopback(0));
  BOOST_TEST(sockopt_int(b.fd(), IPPROTO_IPV6, IPV6_V6ONLY) == 1);
}

BOOST_AUTO_TEST_CASE(deferred_accept_sets_tcp_defer_accept) {
  BoundListener b(LEV_OPT_DEFERRED_ACCEPT);
  const int v = sockopt_int(b.fd(), IPPROTO_TCP, TCP_DEFER_ACCEPT);
  BOOST_TEST(v != -1000);
  BOOST_TEST(v > 0);
}

BOOST_AUTO_TEST_CASE(new_bind_leaves_tcp_defer_accept_off_without_deferred_accept) {
  BoundListener b(0);
  BOOST_TEST(sockopt_int(b.fd(), IPPROTO_TCP, TCP_DEFER_ACCEPT) == 0);
}

BOOST_AUTO_TEST_CASE(new_bind_with_backlog_zero_returns_null_and_leaks_no_fd) {
  Base base;
  Probe p;
  const int before = count_open_fds();
  const Addr at = ipv4_loopback(0);
  evconnlistener* lev = evconnlistener_new_bind(base, probe_cb, &p, LEV_OPT_CLOSE_ON_FREE, 0,
                                                at.sa(), at.ilen());
  BOOST_TEST(lev == nullptr);
  if (lev)
    evconnlistener_free(lev);
  BOOST_TEST(count_open_fds() == before);
}

BOOST_AUTO_TEST_CASE(new_bind_to_a_port_in_use_fails_with_eaddrinuse) {
  BoundListener first(0);
  const Addr at = local_address(first.fd());
  const int before = count_open_fds();
  Probe p;
  errno = 0;
  evconnlistener* lev = evconnlistener_new_bind(first.base, probe_cb, &p, LEV_OPT_CLOSE_ON_FREE,
                                                -1, at.sa(), at.ilen());
  const int err = EVUTIL_SOCKET_ERROR();
  BOOST_TEST(lev == nullptr);
  BOOST_TEST(err == EADDRINUSE);
  BOOST_TEST(errno == EADDRINUSE);
  if (lev)
    evconnlistener_free(lev);
  BOOST_TEST(count_open_fds() == before);
}

// ---- errors ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(socket_error_macros_read_and_set_errno) {
  EVUTIL_SET_SOCKET_ERROR(ECONNRESET);
  BOOST_TEST(errno == ECONNRESET);
  BOOST_TEST(EVUTIL_SOCKET_ERROR() == ECONNRESET);
  errno = EPIPE;
  BOOST_TEST(EVUTIL_SOCKET_ERROR() == EPIPE);
}

BOOST_AUTO_TEST_CASE(socket_geterror_reports_this_threads_last_error) {
  Fd s(::socket(AF_INET, SOCK_STREAM, 0));
  BOOST_TEST_REQUIRE(s.valid());
  errno = ETIMEDOUT;
  BOOST_TEST(evutil_socket_geterror(s.get()) == ETIMEDOUT);
}

BOOST_AUTO_TEST_CASE(socket_error_to_string_gives_the_system_message) {
  for (int e : {EADDRINUSE, ECONNREFUSED, EMFILE, EINVAL}) {
    const char* s = evutil_socket_error_to_string(e);
    BOOST_TEST_REQUIRE(s != nullptr);
    BOOST_TEST(std::string(s) == std::string(std::strerror(e)));
  }
}

BOOST_AUTO_TEST_SUITE_END()

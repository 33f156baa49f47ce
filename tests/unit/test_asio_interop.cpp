// evasio's C++ interop (<evasio/asio.hpp>): an event_base over an
// application's io_context, the acceptor behind a listener, adopting an
// accepted fd as an Asio socket, the listener counters, and what
// event_base_dispatch does on a base over an external io_context. Real
// loopback sockets; no timed assertions (a safety alarm only stops a hang).
#define BOOST_TEST_MODULE asio_interop
#include <boost/test/unit_test.hpp>

#include <evasio/asio.hpp>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "fixtures.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace nettest;
namespace utf = boost::unit_test;
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

using Watchdog = CaseAlarm<60>;

// A base over ctx, freed at scope exit (declare after the io_context).
struct AppBase {
  event_base* b;
  explicit AppBase(asio::io_context& ctx) : b(evasio::make_event_base(ctx)) {
    BOOST_TEST_REQUIRE(b != nullptr);
  }
  ~AppBase() { event_base_free(b); }
  AppBase(const AppBase&) = delete;
  AppBase& operator=(const AppBase&) = delete;
  operator event_base*() const { return b; }
};

evconnlistener* bind_listener(event_base* base, const Addr& at, evconnlistener_cb cb, void* arg,
                              unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE) {
  return evconnlistener_new_bind(base, cb, arg, flags, -1, at.sa(), at.ilen());
}

// Keeps what it accepts, or closes it.
struct Keeper {
  std::vector<Fd> fds;
  int calls = 0;
  int errors = 0;
  std::vector<int> error_codes;
  bool keep = true;
};
void keeper_cb(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* arg) {
  auto* k = static_cast<Keeper*>(arg);
  ++k->calls;
  Fd f(fd);
  if (k->keep)
    k->fds.push_back(std::move(f));
}
void keeper_error_cb(evconnlistener*, void* arg) {
  auto* k = static_cast<Keeper*>(arg);
  ++k->errors;
  k->error_codes.push_back(EVUTIL_SOCKET_ERROR());
}

// Runs ready and waiting handlers one at a time until pred() holds (the
// watchdog ends a run that never gets there).
template <class Pred>
bool run_until(asio::io_context& ctx, Pred pred) {
  while (!pred()) {
    if (ctx.stopped())
      ctx.restart();
    if (ctx.run_one() == 0)
      return pred();
  }
  return true;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(asio_interop, Watchdog)

// ---- the io_context behind a base --------------------------------------------

BOOST_AUTO_TEST_CASE(make_event_base_over_an_app_io_context_and_get_io_context_returns_that_context) {
  asio::io_context ctx;
  AppBase base(ctx);
  BOOST_TEST(&evasio::get_io_context(base) == &ctx);
  // Two bases over one context share it.
  AppBase other(ctx);
  BOOST_TEST(other.b != base.b);
  BOOST_TEST(&evasio::get_io_context(other) == &ctx);
}

BOOST_AUTO_TEST_CASE(get_io_context_of_an_event_base_new_base_is_its_own_private_context) {
  asio::io_context app;
  event_base* a = event_base_new();
  event_base* b = event_base_new();
  BOOST_TEST_REQUIRE(a != nullptr);
  BOOST_TEST_REQUIRE(b != nullptr);
  BOOST_TEST(&evasio::get_io_context(a) != &app);
  BOOST_TEST(&evasio::get_io_context(a) != &evasio::get_io_context(b));
  // Stable: the same context every time.
  BOOST_TEST(&evasio::get_io_context(a) == &evasio::get_io_context(a));
  event_base_free(a);
  event_base_free(b);
}

BOOST_AUTO_TEST_CASE(a_listener_on_a_base_over_an_app_io_context_accepts_when_the_app_runs_the_context) {
  asio::io_context ctx;
  AppBase base(ctx);
  Keeper k;
  Listener l(bind_listener(base, ipv4_loopback(0), keeper_cb, &k));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  Fd c = connect_to(address_of(l));
  BOOST_TEST_REQUIRE(c.valid());
  // The application's own run loop, not event_base_dispatch.
  BOOST_TEST(run_until(ctx, [&] { return k.calls == 1; }));
  BOOST_TEST_REQUIRE(k.fds.size() == 1u);
  BOOST_TEST(local_address(k.fds[0].get()).port() == address_of(l).port());
}

// ---- the acceptor behind a listener --------------------------------------------

BOOST_AUTO_TEST_CASE(get_tcp_acceptor_gives_the_acceptor_of_a_tcp_listener_and_get_local_acceptor_nullptr) {
  asio::io_context ctx;
  AppBase base(ctx);
  Keeper k;
  Listener l(bind_listener(base, ipv4_loopback(0), keeper_cb, &k));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  tcp::acceptor* acc = evasio::get_tcp_acceptor(l);
  BOOST_TEST_REQUIRE(acc != nullptr);
  BOOST_TEST(acc->is_open());
  BOOST_TEST(acc->native_handle() == evconnlistener_get_fd(l));
  const Addr bound = local_address(evconnlistener_get_fd(l));
  BOOST_TEST_REQUIRE(bound.port() != 0u);
  BOOST_TEST(acc->local_endpoint().port() == bound.port());
  BOOST_TEST(acc->local_endpoint().address() == asio::ip::address_v4::loopback());
  BOOST_TEST(evasio::get_local_acceptor(l) == nullptr);
  // The same object each time.
  BOOST_TEST(evasio::get_tcp_acceptor(l) == acc);
}

BOOST_AUTO_TEST_CASE(get_tcp_acceptor_gives_the_acceptor_of_an_ipv6_listener,
                     *utf::precondition([](utf::test_unit_id) { return ipv6_loopback_works(); })) {
  asio::io_context ctx;
  AppBase base(ctx);
  Keeper k;
  Listener l(bind_listener(base, ipv6_loopback(0), keeper_cb, &k));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  tcp::acceptor* acc = evasio::get_tcp_acceptor(l);
  BOOST_TEST_REQUIRE(acc != nullptr);
  BOOST_TEST((acc->local_endpoint().protocol() == tcp::v6()));
  BOOST_TEST(acc->local_endpoint().port() == address_of(l).port());
  BOOST_TEST(evasio::get_local_acceptor(l) == nullptr);
}

BOOST_AUTO_TEST_CASE(get_local_acceptor_gives_the_acceptor_of_an_af_unix_listener_and_get_tcp_acceptor_nullptr) {
  asio::io_context ctx;
  AppBase base(ctx);
  TempSocketPath path("interop");
  Keeper k;
  Listener l(bind_listener(base, path.addr(), keeper_cb, &k, LEV_OPT_CLOSE_ON_FREE));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  BOOST_TEST(evasio::get_tcp_acceptor(l) == nullptr);
  asio::local::stream_protocol::acceptor* acc = evasio::get_local_acceptor(l);
  BOOST_TEST_REQUIRE(acc != nullptr);
  BOOST_TEST(acc->native_handle() == evconnlistener_get_fd(l));
  BOOST_TEST(acc->local_endpoint().path() == path.path());
}

BOOST_AUTO_TEST_CASE(acceptors_of_a_null_listener_are_nullptr) {
  BOOST_TEST(evasio::get_tcp_acceptor(nullptr) == nullptr);
  BOOST_TEST(evasio::get_local_acceptor(nullptr) == nullptr);
}

// ---- adopting an accepted fd ------------------------------------------------------

// An Asio echo session: read exactly one message, write it back, then read
// until the peer closes.
struct AdoptedSession : std::enable_shared_from_this<AdoptedSession> {
  explicit AdoptedSession(tcp::socket s, std::size_t n, bool& echoed, bool& ended, bool& clean_eof)
      : sock(std::move(s)), buf(n), echoed_(echoed), ended_(ended), clean_eof_(clean_eof) {}
  void start() {
    auto self = shared_from_this();
    asio::async_read(sock, asio::buffer(buf), [self](boost::system::error_code ec, std::size_t) {
      if (ec) {
        self->ended_ = true;
        return;
      }
      asio::async_write(self->sock, asio::buffer(self->buf),
                        [self](boost::system::error_code ec2, std::size_t) {
                          if (ec2) {
                            self->ended_ = true;
                            return;
                          }
                          self->echoed_ = true;
                          self->wait_eof();
                        });
    });
  }
  void wait_eof() {
    auto self = shared_from_this();
    sock.async_read_some(asio::buffer(one), [self](boost::system::error_code ec, std::size_t) {
      self->clean_eof_ = ec == asio::error::eof;
      self->ended_ = true;
    });
  }
  tcp::socket sock;
  std::vector<char> buf;
  std::array<char, 1> one{};
  bool& echoed_;
  bool& ended_;
  bool& clean_eof_;
};

struct AdoptState {
  asio::io_context* ctx = nullptr;
  std::size_t message_size = 0;
  int calls = 0;
  int accepted_fd = -1;
  bool adopted = false;
  bool same_fd = false;
  bool open = false;
  unsigned remote_port = 0;
  std::string adopt_error;
  bool echoed = false;
  bool ended = false;
  bool clean_eof = false;
};

void adopt_cb(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* arg) {
  auto* s = static_cast<AdoptState*>(arg);
  ++s->calls;
  s->accepted_fd = fd;
  try {
    tcp::socket sock = evasio::adopt_tcp_socket(s->ctx->get_executor(), fd);
    s->adopted = true;
    s->same_fd = sock.native_handle() == fd;
    s->open = sock.is_open();
    s->remote_port = sock.remote_endpoint().port();
    std::make_shared<AdoptedSession>(std::move(sock), s->message_size, s->echoed, s->ended,
                                     s->clean_eof)
        ->start();
  } catch (const std::exception& e) {
    s->adopt_error = e.what();
    ::close(fd);
  }
}

BOOST_AUTO_TEST_CASE(adopt_tcp_socket_of_an_fd_accepted_by_a_listener_echoes_through_async_read_and_async_write) {
  asio::io_context ctx;
  AppBase base(ctx);
  AdoptState st;
  st.ctx = &ctx;
  st.message_size = 100000;  // more than one socket read
  Listener l(bind_listener(base, ipv4_loopback(0), adopt_cb, &st));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  Fd c = connect_to(address_of(l));
  BOOST_TEST_REQUIRE(c.valid());
  const unsigned client_port = local_address(c.get()).port();

  std::string msg(st.message_size, '\0');
  for (std::size_t i = 0; i < msg.size(); ++i)
    msg[i] = static_cast<char>('a' + (i * 7) % 26);
  // The client writes and reads on its own thread; the test thread runs
  // the application's io_context.
  std::string back(msg.size(), '\0');
  bool client_ok = false;
  std::thread client([&] {
    client_ok = write_all(c.get(), msg.data(), msg.size()) &&
                read_exact(c.get(), &back[0], back.size());
  });
  const bool echoed = run_until(ctx, [&] { return st.echoed || st.ended; });
  client.join();
  BOOST_TEST_REQUIRE(st.calls == 1);
  BOOST_TEST_REQUIRE(st.adopted, "adopt_tcp_socket threw: " << st.adopt_error);
  BOOST_TEST(st.same_fd);
  BOOST_TEST(st.open);
  BOOST_TEST(st.remote_port == client_port);
  BOOST_TEST(echoed);
  BOOST_TEST(st.echoed);
  BOOST_TEST(client_ok);
  BOOST_TEST((back == msg));

  // The socket owns the fd: when the session ends, it is closed.
  c.reset();
  BOOST_TEST(run_until(ctx, [&] { return st.ended; }));
  BOOST_TEST(st.clean_eof);
  BOOST_TEST(!fd_is_open(st.accepted_fd));
}

BOOST_AUTO_TEST_CASE(adopt_tcp_socket_throws_system_error_for_an_af_unix_socket) {
  asio::io_context ctx;
  int sv[2];
  BOOST_TEST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  Fd a(sv[0]), b(sv[1]);
  BOOST_CHECK_THROW(evasio::adopt_tcp_socket(ctx.get_executor(), a.get()), boost::system::system_error);
  BOOST_TEST(fd_is_open(a.get()));  // not taken over
}

BOOST_AUTO_TEST_CASE(adopt_tcp_socket_throws_system_error_for_a_udp_socket) {
  asio::io_context ctx;
  Fd u(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  BOOST_TEST_REQUIRE(u.valid());
  const Addr at = ipv4_loopback(0);
  BOOST_TEST_REQUIRE(::bind(u.get(), at.sa(), at.len) == 0);
  BOOST_CHECK_THROW(evasio::adopt_tcp_socket(ctx.get_executor(), u.get()), boost::system::system_error);
  BOOST_TEST(fd_is_open(u.get()));
}

BOOST_AUTO_TEST_CASE(adopt_tcp_socket_throws_system_error_for_a_closed_fd) {
  asio::io_context ctx;
  int fd;
  {
    Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    BOOST_TEST_REQUIRE(s.valid());
    fd = s.get();
  }
  BOOST_CHECK_THROW(evasio::adopt_tcp_socket(ctx.get_executor(), fd), boost::system::system_error);
}

// ---- listener counters ------------------------------------------------------------

BOOST_AUTO_TEST_CASE(get_listener_stats_counts_accepted_connections) {
  asio::io_context ctx;
  AppBase base(ctx);
  Keeper k;
  Listener l(bind_listener(base, ipv4_loopback(0), keeper_cb, &k));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  evasio::listener_stats st = evasio::get_listener_stats(l);
  BOOST_TEST(st.accepted == 0u);
  BOOST_TEST(st.accept_errors == 0u);
  BOOST_TEST(st.pauses == 0u);

  std::vector<Fd> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(connect_to(address_of(l)));
    BOOST_TEST_REQUIRE(clients.back().valid());
  }
  BOOST_TEST(run_until(ctx, [&] { return k.calls == 5; }));
  st = evasio::get_listener_stats(l);
  BOOST_TEST(st.accepted == 5u);
  BOOST_TEST(st.accept_errors == 0u);
  BOOST_TEST(st.pauses == 0u);

  // Counted across disable/enable too.
  BOOST_TEST(evconnlistener_disable(l) == 0);
  clients.push_back(connect_to(address_of(l)));
  BOOST_TEST(evconnlistener_enable(l) == 0);
  BOOST_TEST(run_until(ctx, [&] { return k.calls == 6; }));
  BOOST_TEST(evasio::get_listener_stats(l).accepted == 6u);
}

BOOST_AUTO_TEST_CASE(get_listener_stats_of_a_null_listener_is_all_zero) {
  const evasio::listener_stats st = evasio::get_listener_stats(nullptr);
  BOOST_TEST(st.accepted == 0u);
  BOOST_TEST(st.accept_errors == 0u);
  BOOST_TEST(st.pauses == 0u);
}

BOOST_AUTO_TEST_CASE(get_listener_stats_counts_accept_errors_and_pauses_after_emfile) {
  asio::io_context ctx;
  AppBase base(ctx);
  Keeper k;
  Listener l(bind_listener(base, ipv4_loopback(0), keeper_cb, &k));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  evconnlistener_set_error_cb(l, keeper_error_cb);

  Fd c1 = connect_to(address_of(l));
  BOOST_TEST_REQUIRE(c1.valid());
  BOOST_TEST_REQUIRE(run_until(ctx, [&] { return k.calls == 1; }));

  // Two more wait in the backlog while no fd can be made.
  Fd c2 = connect_to(address_of(l));
  Fd c3 = connect_to(address_of(l));
  BOOST_TEST_REQUIRE((c2.valid() && c3.valid()));
  std::size_t errors_while_limited = 0;
  {
    NoMoreFds limit;
    // Each failure is reported, then accepting pauses (the listener stays
    // enabled) and is retried: wait for the retry to fail as well.
    const bool two = run_until(ctx, [&] { return k.errors >= 2; });
    errors_while_limited = static_cast<std::size_t>(k.errors);
    const evasio::listener_stats st = evasio::get_listener_stats(l);
    limit.restore();
    BOOST_TEST_REQUIRE(two);
    BOOST_TEST(k.calls == 1);
    BOOST_TEST(k.error_codes[0] == EMFILE);
    BOOST_TEST(st.accepted == 1u);
    BOOST_TEST(st.accept_errors == static_cast<std::uint64_t>(errors_while_limited));
    BOOST_TEST(st.pauses == static_cast<std::uint64_t>(errors_while_limited));
  }
  // fds again: the retry takes the two waiting connections.
  BOOST_TEST(run_until(ctx, [&] { return k.calls == 3; }));
  const evasio::listener_stats st = evasio::get_listener_stats(l);
  BOOST_TEST(st.accepted == 3u);
  BOOST_TEST(st.accept_errors == static_cast<std::uint64_t>(k.errors));
  BOOST_TEST(st.pauses == static_cast<std::uint64_t>(k.errors));
  BOOST_TEST(static_cast<std::size_t>(k.errors) >= errors_while_limited);
}

// ---- event_base_dispatch on a base over an external io_context ---------------------

struct DispatchProbe {
  std::thread::id dispatch_thread;
  bool in_dispatch = false;
  int app_handlers_in_dispatch = 0;
  bool app_on_dispatch_thread = true;
  int accepts = 0;
  bool app_before_accept = false;
  Addr to;
  std::vector<Fd> clients;
};

void dispatch_probe_cb(evconnlistener* lev, evutil_socket_t fd, sockaddr*, int, void* arg) {
  auto* p = static_cast<DispatchProbe*>(arg);
  ::close(fd);
  ++p->accepts;
  p->app_before_accept = p->app_handlers_in_dispatch > 0;
  evconnlistener_disable(lev);  // nothing libevent-ish left
}

BOOST_AUTO_TEST_CASE(event_base_dispatch_on_a_base_over_an_external_io_context_runs_the_app_handlers_too) {
  asio::io_context ctx;
  AppBase base(ctx);
  DispatchProbe p;
  Listener l(bind_listener(base, ipv4_loopback(0), dispatch_probe_cb, &p));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  p.to = address_of(l);
  // The application's work: a posted handler and a timer that expires at
  // once; the timer connects the client that the listener then accepts.
  auto app_handler = [&p] {
    if (p.in_dispatch)
      ++p.app_handlers_in_dispatch;
    if (std::this_thread::get_id() != p.dispatch_thread)
      p.app_on_dispatch_thread = false;
  };
  asio::post(ctx, app_handler);
  asio::steady_timer timer(ctx);
  timer.expires_after(std::chrono::seconds(0));
  timer.async_wait([&](boost::system::error_code ec) {
    app_handler();
    if (!ec)
      p.clients.push_back(connect_to(p.to));
  });

  p.dispatch_thread = std::this_thread::get_id();
  p.in_dispatch = true;
  const int rc = event_base_dispatch(base);
  p.in_dispatch = false;
  // It returned once the listener was disabled: no events left, 1.
  BOOST_TEST(rc == 1);
  BOOST_TEST(p.app_handlers_in_dispatch == 2);
  BOOST_TEST(p.app_on_dispatch_thread);
  BOOST_TEST(p.accepts == 1);
  BOOST_TEST(p.app_before_accept);
  BOOST_TEST_REQUIRE(p.clients.size() == 1u);
  BOOST_TEST(p.clients[0].valid());
}

BOOST_AUTO_TEST_CASE(event_base_dispatch_on_a_base_over_an_external_io_context_returns_1_when_nothing_libevent_ish_is_pending) {
  asio::io_context ctx;
  AppBase base(ctx);
  // The application has a timer far away: work for the io_context, but no
  // event of the base.
  bool fired = false;
  boost::system::error_code fired_ec;
  asio::steady_timer later(ctx);
  later.expires_after(std::chrono::hours(1));
  later.async_wait([&](boost::system::error_code ec) {
    fired = true;
    fired_ec = ec;
  });
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(!fired);  // not waited for
  BOOST_TEST(!ctx.stopped());
  // A disabled listener is no pending event either.
  Keeper k;
  Listener l(bind_listener(base, ipv4_loopback(0), keeper_cb, &k,
                           LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_DISABLED));
  BOOST_TEST_REQUIRE(l.l != nullptr);
  BOOST_TEST(event_base_dispatch(base) == 1);
  BOOST_TEST(event_base_loop(base, EVLOOP_ONCE) == 1);
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 1);
  BOOST_TEST(!fired);
  // The application's timer is still there, for the application to run.
  later.cancel();
  ctx.run();
  BOOST_TEST(fired);
  BOOST_TEST(fired_ec == asio::error::operation_aborted);
}

void stop_ctx_cb(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void*) { ::close(fd); }

BOOST_AUTO_TEST_CASE(event_base_dispatch_on_a_base_over_an_external_io_context_returns_minus_1_when_the_app_stops_it) {
  asio::io_context ctx;
  AppBase base(ctx);
  Listener l(bind_listener(base, ipv4_loopback(0), stop_ctx_cb, nullptr));
  BOOST_TEST_REQUIRE(l.l != nullptr);  // enabled: an event pending
  asio::post(ctx, [&ctx] { ctx.stop(); });
  BOOST_TEST(event_base_dispatch(base) == -1);
  BOOST_TEST(ctx.stopped());  // the base leaves restarting to the application
  ctx.restart();
}

// ---- signals: the application's signal_set and an evsignal on one context ----------

struct SignalProbe {
  int lib_calls = 0;
  int app_calls = 0;
  bool gave_up = false;
};

void lib_signal_cb(evutil_socket_t, short, void* arg) { ++static_cast<SignalProbe*>(arg)->lib_calls; }

// Raises SIGUSR1 (the application's asio::signal_set) and SIGUSR2 (an
// evsignal event of the base) and runs the context until both were seen.
// A give-up timer only ends a broken run early, so that it fails instead of
// hanging; a working one never gets there.
void signals_on_one_context(bool app_first) {
  asio::io_context ctx;
  AppBase base(ctx);
  SignalProbe p;
  std::unique_ptr<asio::signal_set> app;
  event* ev = nullptr;
  auto make_app = [&] {
    app = std::make_unique<asio::signal_set>(ctx, SIGUSR1);
    app->async_wait([&p](boost::system::error_code ec, int sig) {
      if (!ec && sig == SIGUSR1)
        ++p.app_calls;
    });
  };
  auto make_lib = [&] {
    ev = evsignal_new(base, SIGUSR2, lib_signal_cb, &p);
    BOOST_TEST_REQUIRE(ev != nullptr);
    BOOST_TEST_REQUIRE(event_add(ev, nullptr) == 0);
  };
  if (app_first) {
    make_app();
    make_lib();
  } else {
    make_lib();
    make_app();
  }
  asio::steady_timer give_up(ctx);
  give_up.expires_after(std::chrono::seconds(10));
  give_up.async_wait([&p](boost::system::error_code ec) { p.gave_up = !ec; });
  BOOST_TEST_REQUIRE(::raise(SIGUSR1) == 0);
  BOOST_TEST_REQUIRE(::raise(SIGUSR2) == 0);
  run_until(ctx, [&] { return (p.app_calls == 1 && p.lib_calls == 1) || p.gave_up; });
  BOOST_TEST(p.app_calls == 1, "the application's signal_set did not get SIGUSR1");
  BOOST_TEST(p.lib_calls == 1, "the evsignal event did not get SIGUSR2");
  give_up.cancel();
  event_free(ev);
  app.reset();
}

BOOST_AUTO_TEST_CASE(an_app_signal_set_made_first_and_an_evsignal_on_the_same_io_context_both_get_their_signals) {
  signals_on_one_context(true);
}

BOOST_AUTO_TEST_CASE(an_evsignal_made_first_and_an_app_signal_set_on_the_same_io_context_both_get_their_signals) {
  signals_on_one_context(false);
}

BOOST_AUTO_TEST_SUITE_END()

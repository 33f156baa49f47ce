// asio_app: a plain Boost.Asio application that also hosts libevent-style
// code on its own io_context (evasio's C++ interop, <evasio/asio.hpp>).
//
// On one io_context, run by 2 threads (io_context::run() from each):
//   - an Asio echo server: async_accept, then async_read_some/async_write
//     per connection, on 127.0.0.1:<asio_port>;
//   - a steady_timer printing a heartbeat every second, with what both
//     servers did so far;
//   - a libevent-style echo server written against the C API: an
//     evconnlistener and one bufferevent per connection, on
//     127.0.0.1:<libevent_port>, on an event_base made over the same
//     io_context with evasio::make_event_base().
//
// Objects of a base over an application's io_context lock themselves, so the
// callbacks of one listener or one bufferevent never run concurrently even
// though two threads run the context. The Asio parts need no strand: each
// connection, the acceptor and the timer have at most one operation in
// flight at a time, so their handlers never overlap either.
//
// It stops on SIGINT/SIGTERM, or after `heartbeats` heartbeats when given
// (0: never). Port 0 lets the kernel choose; the first line tells the ports:
//
//   asio_app: asio echo on 127.0.0.1:40001, libevent echo on 127.0.0.1:40002
//
//   evasio-asio-app [asio_port [libevent_port [heartbeats]]]
//   (ports 9880 and 9881 by default)
#include <evasio/asio.hpp>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// ---- the Asio echo server ----------------------------------------------------

std::atomic<unsigned long> asio_connections{0};

// One connection: read some, write it back, repeat until EOF or an error.
// Only one operation is in flight at a time, so no strand is needed.
class echo_session : public std::enable_shared_from_this<echo_session> {
public:
  explicit echo_session(tcp::socket sock) : sock_(std::move(sock)) {}
  void start() { read(); }

private:
  void read() {
    sock_.async_read_some(asio::buffer(buf_),
                          [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                            if (!ec)
                              self->write(n);
                          });
  }
  void write(std::size_t n) {
    asio::async_write(sock_, asio::buffer(buf_.data(), n),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        if (!ec)
                          self->read();
                      });
  }

  tcp::socket sock_;
  std::array<char, 16384> buf_;
};

class asio_echo_server {
public:
  asio_echo_server(asio::io_context& ctx, unsigned short port)
      : acceptor_(ctx, tcp::endpoint(asio::ip::address_v4::loopback(), port)) {}
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  void start() { accept(); }

private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket sock) {
      if (ec == asio::error::operation_aborted)
        return;
      if (!ec) {
        ++asio_connections;
        std::make_shared<echo_session>(std::move(sock))->start();
      }
      accept();
    });
  }

  tcp::acceptor acceptor_;
};

// ---- the libevent-style echo server (C API) --------------------------------------

// The live bufferevents, so that the application can free what is left at
// the end. A bufferevent enters before it is enabled and leaves in its own
// event callback.
struct connection_set {
  std::mutex m;
  std::set<bufferevent*> live;
};

void on_readable(bufferevent* bev, void*) {
  evbuffer_add_buffer(bufferevent_get_output(bev), bufferevent_get_input(bev));
}

void on_conn_event(bufferevent* bev, short what, void* arg) {
  if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
    return;
  auto* conns = static_cast<connection_set*>(arg);
  {
    std::lock_guard<std::mutex> g(conns->m);
    conns->live.erase(bev);
  }
  bufferevent_free(bev);
}

void on_accept(evconnlistener* lev, evutil_socket_t fd, sockaddr*, int, void* arg) {
  auto* conns = static_cast<connection_set*>(arg);
  bufferevent* bev = bufferevent_socket_new(evconnlistener_get_base(lev), fd,
                                            BEV_OPT_CLOSE_ON_FREE | BEV_OPT_THREADSAFE);
  if (!bev) {
    std::fprintf(stderr, "asio_app: cannot make a bufferevent\n");
    evutil_closesocket(fd);
    return;
  }
  {
    std::lock_guard<std::mutex> g(conns->m);
    conns->live.insert(bev);
  }
  bufferevent_setcb(bev, on_readable, nullptr, on_conn_event, conns);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
}

void on_accept_error(evconnlistener*, void*) {
  const int err = EVUTIL_SOCKET_ERROR();
  std::fprintf(stderr, "asio_app: accept: %s\n", evutil_socket_error_to_string(err));
}

// ---- the heartbeat ---------------------------------------------------------------

class heartbeat {
public:
  heartbeat(asio::io_context& ctx, evconnlistener* lev, unsigned long limit)
      : ctx_(ctx), timer_(ctx), lev_(lev), limit_(limit) {}
  void start() { arm(); }

private:
  void arm() {
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (ec)
        return;
      ++beats_;
      // The listener's counters, something libevent never had.
      const evasio::listener_stats st = evasio::get_listener_stats(lev_);
      std::printf("heartbeat %lu: asio echo accepted %lu, libevent echo accepted %llu "
                  "(accept errors %llu, pauses %llu)\n",
                  beats_, asio_connections.load(), static_cast<unsigned long long>(st.accepted),
                  static_cast<unsigned long long>(st.accept_errors),
                  static_cast<unsigned long long>(st.pauses));
      std::fflush(stdout);
      if (limit_ && beats_ >= limit_)
        ctx_.stop();
      else
        arm();
    });
  }

  asio::io_context& ctx_;
  asio::steady_timer timer_;
  evconnlistener* lev_;
  const unsigned long limit_;
  unsigned long beats_ = 0;
};

// A decimal argument in [0, hi], or -1.
long parse_arg(const char* text, long hi) {
  char* end;
  const long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < 0 || v > hi)
    return -1;
  return v;
}

} // namespace

int main(int argc, char** argv) {
  long asio_port = 9880, lev_port = 9881, beats = 0;
  if (argc > 1)
    asio_port = parse_arg(argv[1], 65535);
  if (argc > 2)
    lev_port = parse_arg(argv[2], 65535);
  if (argc > 3)
    beats = parse_arg(argv[3], 1000000000L);
  if (argc > 4 || asio_port < 0 || lev_port < 0 || beats < 0) {
    std::fprintf(stderr, "usage: %s [asio_port [libevent_port [heartbeats]]]\n", argv[0]);
    return 2;
  }

  // The application's io_context, declared first so that it outlives
  // everything made over it (the event_base included).
  asio::io_context ctx;

  std::unique_ptr<asio_echo_server> asio_server;
  try {
    asio_server = std::make_unique<asio_echo_server>(ctx, static_cast<unsigned short>(asio_port));
  } catch (const boost::system::system_error& e) {
    std::fprintf(stderr, "asio_app: asio echo: %s\n", e.what());
    return 1;
  }

  // libevent-style code on the same io_context.
  event_base* base = evasio::make_event_base(ctx);
  if (!base) {
    std::perror("asio_app: make_event_base");
    return 1;
  }
  connection_set conns;
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sin.sin_port = htons(static_cast<unsigned short>(lev_port));
  evconnlistener* lev = evconnlistener_new_bind(base, on_accept, &conns,
                                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_THREADSAFE,
                                                -1, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
  if (!lev) {
    std::perror("asio_app: evconnlistener_new_bind");
    event_base_free(base);
    return 1;
  }
  evconnlistener_set_error_cb(lev, on_accept_error);
  // The listener's acceptor, for queries: here, the port it got.
  const unsigned short lev_bound = evasio::get_tcp_acceptor(lev)->local_endpoint().port();

  // Signals are watched before the ports are announced: whoever waits for
  // that line may stop us at once.
  asio::signal_set signals(ctx, SIGINT, SIGTERM);
  signals.async_wait([&ctx](boost::system::error_code ec, int) {
    if (!ec)
      ctx.stop();
  });

  std::printf("asio_app: asio echo on 127.0.0.1:%u, libevent echo on 127.0.0.1:%u\n",
              static_cast<unsigned>(asio_server->port()), static_cast<unsigned>(lev_bound));
  std::fflush(stdout);

  heartbeat beat(ctx, lev, static_cast<unsigned long>(beats));
  asio_server->start();
  beat.start();

  // Two threads run the one io_context: Asio handlers and libevent-style
  // callbacks alike run on either.
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i)
    threads.emplace_back([&ctx] { ctx.run(); });
  for (std::thread& t : threads)
    t.join();

  // No thread runs the context any more: free the libevent side (remaining
  // connections, listener, base) before the io_context goes.
  std::set<bufferevent*> left;
  {
    std::lock_guard<std::mutex> g(conns.m);
    left.swap(conns.live);
  }
  for (bufferevent* bev : left)
    bufferevent_free(bev);
  const evasio::listener_stats st = evasio::get_listener_stats(lev);
  evconnlistener_free(lev);
  event_base_free(base);
  std::printf("asio_app: done; asio echo accepted %lu, libevent echo accepted %llu\n",
              asio_connections.load(), static_cast<unsigned long long>(st.accepted));
  return 0;
}

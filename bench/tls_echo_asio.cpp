// bench-tls-echo-asio: a TLS echo server written with Boost.Asio's ssl::stream,
// the design evasio's TLS bufferevents did not take (they drive OpenSSL through
// a BIO of their own): measured against them with the same client,
// bench-tls-evasio --connect PORT.
// One io_context run by the main thread; per connection one heap object with
// the stream and a 16 KiB buffer: handshake, then read_some -> write (all) ->
// read_some.
//
// Usage: bench-tls-echo-asio CERT.pem KEY.pem PORT   (127.0.0.1 only)
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

namespace {

class connection : public std::enable_shared_from_this<connection> {
public:
  connection(tcp::socket s, ssl::context& ctx) : stream_(std::move(s), ctx) {}

  void start() {
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](const boost::system::error_code& ec) {
                              if (!ec)
                                self->read();
                            });
  }

private:
  void read() {
    stream_.async_read_some(net::buffer(buf_),
                            [self = shared_from_this()](const boost::system::error_code& ec,
                                                        std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(const boost::system::error_code& ec, std::size_t n) {
    if (ec)
      return;
    net::async_write(stream_, net::buffer(buf_, n),
                     [self = shared_from_this()](const boost::system::error_code& wec,
                                                 std::size_t) {
                       if (!wec)
                         self->read();
                     });
  }

  ssl::stream<tcp::socket> stream_;
  unsigned char buf_[16384];
};

void accept(tcp::acceptor& acceptor, ssl::context& ctx) {
  acceptor.async_accept([&](const boost::system::error_code& ec, tcp::socket s) {
    if (!ec) {
      s.set_option(tcp::no_delay(true));
      std::make_shared<connection>(std::move(s), ctx)->start();
    }
    accept(acceptor, ctx);
  });
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s CERT.pem KEY.pem PORT\n", argv[0]);
    return 2;
  }
  try {
    net::io_context io(1);
    ssl::context ctx(ssl::context::tls_server);
    ctx.use_certificate_chain_file(argv[1]);
    ctx.use_private_key_file(argv[2], ssl::context::pem);
    SSL_CTX_set_options(ctx.native_handle(), SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx.native_handle(), SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx.native_handle(), 0);
    tcp::acceptor acceptor(io, tcp::endpoint(net::ip::address_v4::loopback(),
                                             static_cast<unsigned short>(std::atoi(argv[3]))));
    accept(acceptor, ctx);
    std::printf("tls echo asio: listening\n");
    std::fflush(stdout);
    io.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-tls-echo-asio: %s\n", e.what());
    return 1;
  }
  return 0;
}

// bench-echo-asio: what a plain Boost.Asio program does for the same echo
// service, the reference a team moving onto Asio would write by hand.
// One io_context run by the main thread; per connection one heap object
// holding the socket and a 16 KiB buffer; read_some -> write (all) -> read_some.
//
// Usage: bench-echo-asio [port]   (listens on 127.0.0.1 only)
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

class connection : public std::enable_shared_from_this<connection> {
public:
  explicit connection(tcp::socket s) : sock_(std::move(s)) {}

  void start() { read(); }

private:
  void read() {
    sock_.async_read_some(net::buffer(buf_),
                          [self = shared_from_this()](const boost::system::error_code& ec,
                                                      std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(const boost::system::error_code& ec, std::size_t n) {
    if (ec)
      return;  // end of file or error: the last reference goes, the socket closes
    net::async_write(sock_, net::buffer(buf_, n),
                     [self = shared_from_this()](const boost::system::error_code& wec,
                                                 std::size_t) {
                       if (!wec)
                         self->read();
                     });
  }

  tcp::socket sock_;
  unsigned char buf_[16384];
};

class server {
public:
  server(net::io_context& io, unsigned short port)
      : acceptor_(io, tcp::endpoint(net::ip::address_v4::loopback(), port)) {}

  void accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket s) {
      if (!ec) {
        std::make_shared<connection>(std::move(s))->start();
      } else if (ec != net::error::operation_aborted) {
        std::fprintf(stderr, "echo-asio: accept error: %s\n", ec.message().c_str());
      }
      accept();
    });
  }

private:
  tcp::acceptor acceptor_;
};

} // namespace

int main(int argc, char** argv) {
  int port = 9876;
  if (argc > 1) {
    port = std::atoi(argv[1]);
    if (port <= 0 || port > 65535) {
      std::fprintf(stderr, "usage: %s [port]\n", argv[0]);
      return 2;
    }
  }
  try {
    net::io_context io(1);  // one thread: no locking inside the scheduler
    server srv(io, static_cast<unsigned short>(port));
    srv.accept();
    io.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo-asio: %s\n", e.what());
    return 1;
  }
  return 0;
}

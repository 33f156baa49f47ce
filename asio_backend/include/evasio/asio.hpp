// evasio: the C++ side of an event_base. C code never includes this header.
//
// An event_base made here runs on an io_context the application owns: the
// application keeps running it (io_context::run() from its own threads), and
// listeners and bufferevents of that base post their work there.
// event_base_dispatch() on such a base runs the same io_context from the
// calling thread, so the application's other handlers run in it too. It
// returns 1 once no libevent-style event is pending (without waiting for the
// application's own work, which stays queued), 0 after loopexit/loopbreak,
// and -1 if the application stopped the io_context; it never stops or
// restarts an io_context it does not own.
//
// Threads: the io_context may be run by any number of threads. Objects on a
// base over a borrowed io_context always lock, so the callbacks of one
// listener, bufferevent or event never run concurrently with each other, and
// they may be enabled, disabled and freed from any thread.
#ifndef EVASIO_ASIO_HPP_INCLUDED_
#define EVASIO_ASIO_HPP_INCLUDED_

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <cstdint>

struct event_base;
struct evconnlistener;

namespace evasio {

// A base over ctx, which must outlive it. Never throws: nullptr with errno
// set on failure (as event_base_new()). Free it with event_base_free().
event_base* make_event_base(boost::asio::io_context& ctx) noexcept;

// The io_context behind any base, owned or not. base must not be null.
// One that a base owns (event_base_new()) may take the application's
// handlers too, but only the thread in event_base_dispatch() may run it:
// its bufferevents count on that (see README, "Threading model").
boost::asio::io_context& get_io_context(event_base* base) noexcept;

// The acceptor under a TCP (AF_INET/AF_INET6) listener, or nullptr for other
// listeners. The listener waits on it for readiness: use it for queries and
// socket options, not for operations of your own.
boost::asio::ip::tcp::acceptor* get_tcp_acceptor(evconnlistener* lev) noexcept;
// The same for AF_UNIX listeners.
boost::asio::local::stream_protocol::acceptor* get_local_acceptor(evconnlistener* lev) noexcept;

// Takes over fd (an accepted TCP socket, say from an evconnlistener
// callback) as an Asio socket on ex; the socket owns the fd from then on.
// Throws boost::system::system_error if fd is not a TCP socket.
boost::asio::ip::tcp::socket adopt_tcp_socket(const boost::asio::any_io_executor& ex, int fd);

// What a listener did since it was made: something libevent never counted.
struct listener_stats {
  std::uint64_t accepted = 0;       // connections handed to the callback
  std::uint64_t accept_errors = 0;  // accept() failures other than EAGAIN/EINTR/ECONNABORTED
  std::uint64_t pauses = 0;         // times accepting was paused after such a failure
};
listener_stats get_listener_stats(evconnlistener* lev) noexcept;

} // namespace evasio

#endif // EVASIO_ASIO_HPP_INCLUDED_

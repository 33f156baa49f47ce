// evasio: the C++ side of an event_base. C code never includes this header.
//
// An event_base made here runs on an io_context the application owns: the
// application keeps running it (io_context::run() from its own threads), and
// listeners and bufferevents of that base post their work there.
// event_base_dispatch() on such a base runs the same io_context from the
// calling thread, so the application's other handlers run in it too.
#ifndef EVASIO_ASIO_HPP_INCLUDED_
#define EVASIO_ASIO_HPP_INCLUDED_

#include <boost/asio/io_context.hpp>

struct event_base;

namespace evasio {

// A base over ctx, which must outlive it. Never throws: nullptr with errno
// set on failure (as event_base_new()). Free it with event_base_free().
event_base* make_event_base(boost::asio::io_context& ctx) noexcept;

// The io_context behind any base, owned or not. base must not be null.
boost::asio::io_context& get_io_context(event_base* base) noexcept;

} // namespace evasio

#endif // EVASIO_ASIO_HPP_INCLUDED_

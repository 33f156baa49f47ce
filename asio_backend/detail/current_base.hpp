// libevent's "current base" of the 1.x API (event_init, event_set, ...):
// kept by event_compat.cpp, read by event_assign for a NULL base, forgotten
// by event_base_free.
#ifndef EVASIO_DETAIL_CURRENT_BASE_HPP_INCLUDED_
#define EVASIO_DETAIL_CURRENT_BASE_HPP_INCLUDED_

struct event_base;

namespace evasio::detail {

event_base* current_base() noexcept;
// base is being freed: if it is the current base, there is none any more.
void forget_current_base(event_base* base) noexcept;

} // namespace evasio::detail

#endif

// Address lists evasio builds itself (evdns_getaddrinfo's answers), as
// libevent's evutil_new_addrinfo_: one allocation per entry, marked so that
// evutil_freeaddrinfo frees them itself rather than with freeaddrinfo().
#ifndef EVASIO_DETAIL_ADDRINFO_HPP_INCLUDED_
#define EVASIO_DETAIL_ADDRINFO_HPP_INCLUDED_

#include <event2/util.h>

#include <netdb.h>
#include <sys/socket.h>

namespace evasio::detail {

// An ai_flags bit no C library sets (libevent uses the same one).
constexpr int addrinfo_ours = static_cast<int>(0x80000000u);

// One entry for sa, or with hints that name no socket type nor protocol a
// TCP entry followed by a UDP one. Null when out of memory.
evutil_addrinfo* new_addrinfo(const sockaddr* sa, socklen_t len, const evutil_addrinfo& hints);
evutil_addrinfo* append_addrinfo(evutil_addrinfo* first, evutil_addrinfo* more);

} // namespace evasio::detail

#endif

// evutil_getaddrinfo and friends: blocking name resolution by the C library.
//
// libevent 2.1.12 built on a system with getaddrinfo() (Debian's is) calls it
// with the caller's hints, after probing once for two resolver bugs of old
// BSDs and Solaris (a numeric port refused without a socket type; protocol
// left 0). glibc has neither, so the probes change nothing on Linux and
// evasio calls getaddrinfo() directly: the lists, their order (SOCK_STREAM,
// SOCK_DGRAM, SOCK_RAW per address when the hints leave the type open) and
// the error codes are glibc's, as they are under libevent.
#include "detail/addrinfo.hpp"
#include "detail/c_boundary.hpp"

#include <event2/util.h>

#include <netdb.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

extern "C" {

int evutil_getaddrinfo(const char* nodename, const char* servname,
                       const struct evutil_addrinfo* hints_in, struct evutil_addrinfo** res) {
  if (!res)
    return evasio::detail::fail(EVUTIL_EAI_SYSTEM, EINVAL);
  // No hints means no flags at all, as libevent: glibc's own NULL-hints
  // default would add AI_V4MAPPED | AI_ADDRCONFIG.
  addrinfo hints;
  std::memset(&hints, 0, sizeof hints);
  if (hints_in)
    hints = *hints_in;
  else
    hints.ai_family = AF_UNSPEC;
  return ::getaddrinfo(nodename, servname, &hints, res);
}

void evutil_freeaddrinfo(struct evutil_addrinfo* ai) {
  if (!ai)  // libevent reads ai->ai_flags first; NULL is simply nothing here
    return;
  if (!(ai->ai_flags & evasio::detail::addrinfo_ours)) {
    ::freeaddrinfo(ai);  // the C library's list
    return;
  }
  while (ai) {  // evdns_getaddrinfo's: an allocation per entry
    evutil_addrinfo* next = ai->ai_next;
    std::free(ai->ai_canonname);
    std::free(ai);
    ai = next;
  }
}

const char* evutil_gai_strerror(int err) {
  // libevent's wording for its codes (programs may print or compare it).
  switch (err) {
  case EVUTIL_EAI_CANCEL:
    return "Request canceled";
  case 0:
    return "No error";
  case EVUTIL_EAI_ADDRFAMILY:
    return "address family for nodename not supported";
  case EVUTIL_EAI_AGAIN:
    return "temporary failure in name resolution";
  case EVUTIL_EAI_BADFLAGS:
    return "invalid value for ai_flags";
  case EVUTIL_EAI_FAIL:
    return "non-recoverable failure in name resolution";
  case EVUTIL_EAI_FAMILY:
    return "ai_family not supported";
  case EVUTIL_EAI_MEMORY:
    return "memory allocation failure";
  case EVUTIL_EAI_NODATA:
    return "no address associated with nodename";
  case EVUTIL_EAI_NONAME:
    return "nodename nor servname provided, or not known";
  case EVUTIL_EAI_SERVICE:
    return "servname not supported for ai_socktype";
  case EVUTIL_EAI_SOCKTYPE:
    return "ai_socktype not supported";
  case EVUTIL_EAI_SYSTEM:
    return "system error";
  default:
    return ::gai_strerror(err);
  }
}

} // extern "C"

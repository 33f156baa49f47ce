// Fuzz target: evutil_parse_sockaddr_port (and, on the same text,
// evutil_inet_pton for both families).
//
// Input: one byte choosing the size of the output buffer (its value % 160:
// shorter and longer than a sockaddr_in/_in6), then the text (a C string: it
// ends at the first NUL).
//
// The output buffer is a heap block of exactly that size, so AddressSanitizer
// sees any write past it. Checked:
//   - failure leaves *outlen and the buffer untouched;
//   - success gives an AF_INET or AF_INET6 address whose length fits;
//   - what was parsed prints back (evutil_inet_ntop, with the port and the
//     IPv6 zone) as text that parses to the same address again;
//   - evutil_inet_pton agrees with itself through evutil_inet_ntop.
#include "fuzz_support.hpp"

#include <event2/util.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>

namespace {

// Text for a parsed address, in a form evutil_parse_sockaddr_port reads.
std::string format(const sockaddr_storage& ss) {
  char addr[128];
  char text[200];
  if (ss.ss_family == AF_INET) {
    sockaddr_in sin;
    std::memcpy(&sin, &ss, sizeof sin);
    fuzz::check(evutil_inet_ntop(AF_INET, &sin.sin_addr, addr, sizeof addr) != nullptr, "ntop v4");
    const unsigned port = ntohs(sin.sin_port);
    if (port)
      std::snprintf(text, sizeof text, "%s:%u", addr, port);
    else
      std::snprintf(text, sizeof text, "%s", addr);
  } else {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, &ss, sizeof sin6);
    fuzz::check(evutil_inet_ntop(AF_INET6, &sin6.sin6_addr, addr, sizeof addr) != nullptr, "ntop v6");
    std::string a = addr;
    if (sin6.sin6_scope_id)
      a += "%" + std::to_string(sin6.sin6_scope_id);
    const unsigned port = ntohs(sin6.sin6_port);
    if (port)
      std::snprintf(text, sizeof text, "[%s]:%u", a.c_str(), port);
    else
      std::snprintf(text, sizeof text, "[%s]", a.c_str());
  }
  return text;
}

void check_pton(const char* text) {
  unsigned char a[16], b[16];
  char printed[128];
  for (int af : {AF_INET, AF_INET6}) {
    const int r = evutil_inet_pton(af, text, a);
    fuzz::check(r == 0 || r == 1, "inet_pton result", r);
    if (r != 1)
      continue;
    fuzz::check(evutil_inet_ntop(af, a, printed, sizeof printed) != nullptr, "inet_ntop of a parsed address");
    fuzz::check(evutil_inet_pton(af, printed, b) == 1, "inet_pton of printed text", af);
    fuzz::check(std::memcmp(a, b, af == AF_INET ? 4 : 16) == 0, "inet_pton/ntop round trip", af);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Reader in(data, size);
  const int outsize = in.byte() % 160;
  const std::string text = in.rest();
  const char* str = text.c_str();

  std::unique_ptr<unsigned char[]> out(new unsigned char[static_cast<std::size_t>(outsize)]);
  std::memset(out.get(), 0xA5, static_cast<std::size_t>(outsize));
  int outlen = outsize;
  const int r = evutil_parse_sockaddr_port(str, reinterpret_cast<sockaddr*>(out.get()), &outlen);
  if (r != 0) {
    fuzz::check(r == -1, "parse result", r);
    fuzz::check(outlen == outsize, "failure changed *outlen", outlen, outsize);
    for (int i = 0; i < outsize; ++i)
      fuzz::check(out[static_cast<std::size_t>(i)] == 0xA5, "failure wrote the output", i);
  } else {
    fuzz::check(outlen > 0 && outlen <= outsize, "outlen after success", outlen, outsize);
    sockaddr_storage ss{};
    std::memcpy(&ss, out.get(), static_cast<std::size_t>(outlen));
    fuzz::check((ss.ss_family == AF_INET && outlen == sizeof(sockaddr_in)) ||
                    (ss.ss_family == AF_INET6 && outlen == sizeof(sockaddr_in6)),
                "family and length", ss.ss_family, outlen);
    // Round trip.
    const std::string again = format(ss);
    sockaddr_storage ss2{};
    int len2 = sizeof ss2;
    fuzz::check(evutil_parse_sockaddr_port(again.c_str(), reinterpret_cast<sockaddr*>(&ss2), &len2) == 0,
                "printed address does not parse");
    fuzz::check(len2 == outlen, "round trip length", len2, outlen);
    fuzz::check(evutil_sockaddr_cmp(reinterpret_cast<sockaddr*>(&ss), reinterpret_cast<sockaddr*>(&ss2), 1) == 0,
                "round trip address");
    if (ss.ss_family == AF_INET6) {
      sockaddr_in6 a, b;
      std::memcpy(&a, &ss, sizeof a);
      std::memcpy(&b, &ss2, sizeof b);
      fuzz::check(a.sin6_scope_id == b.sin6_scope_id, "round trip zone", a.sin6_scope_id, b.sin6_scope_id);
    }
  }
  check_pton(str);
  return 0;
}

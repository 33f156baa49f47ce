// evutil: libevent's portable socket helpers, address parsing and printing,
// and string helpers, on POSIX.
//
// The address parsers reproduce the language libevent 2.1.12 accepts (its own
// parsers, not the C library's inet_pton): see parse_ipv4/parse_ipv6 below.
// Nothing here allocates or throws, so no C++ exception can reach the C
// boundary; NULL pointers are reported with errno = EINVAL.
#include "detail/ascii.hpp"
#include "detail/c_boundary.hpp"

#include <event2/util.h>

#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <climits>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

int set_flag(int fd, int get, int set, int flag) {
  const int fl = ::fcntl(fd, get);
  if (fl < 0)
    return -1;
  if ((fl & flag) == flag)
    return 0;
  return ::fcntl(fd, set, fl | flag) < 0 ? -1 : 0;
}

int set_int_opt(int fd, int level, int name, int value) {
  return ::setsockopt(fd, level, name, &value, sizeof value);
}

// ---- character classes, C locale, whatever the program's locale is -------

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
using evasio::detail::ascii::hex_value;
using evasio::detail::ascii::is_digit;
char ascii_lower(char c) { return evasio::detail::ascii::to_lower(c); }

// ---- IPv4 -----------------------------------------------------------------
//
// libevent 2.1.12 reads an IPv4 address as four scanf "%u" fields separated
// by single dots, with nothing after the fourth. So each field may have
// leading white space and a sign ("1. 2.+3.-0" is 1.2.3.0), leading zeros are
// decimal ("010" is 10), and a field's value is what strtoul gives, reduced
// to unsigned int; the address is valid when every field is <= 255.

// One "%u" field in [p, end): returns the end of the field, or nullptr.
const char* scan_unsigned_field(const char* p, const char* end, unsigned& value) {
  while (p != end && is_space(*p))
    ++p;
  bool negative = false;
  if (p != end && (*p == '+' || *p == '-')) {
    negative = *p == '-';
    ++p;
  }
  if (p == end || !is_digit(*p))
    return nullptr;
  unsigned long magnitude = 0;
  bool overflow = false;
  for (; p != end && is_digit(*p); ++p) {
    const unsigned long d = static_cast<unsigned long>(*p - '0');
    if (magnitude > (ULONG_MAX - d) / 10)
      overflow = true;
    else
      magnitude = magnitude * 10 + d;
  }
  // strtoul: saturates on overflow, negates (modulo) otherwise.
  const unsigned long as_ulong = overflow ? ULONG_MAX : (negative ? 0UL - magnitude : magnitude);
  value = static_cast<unsigned>(as_ulong);
  return p;
}

// Parses [begin, end) as an IPv4 address into the four network-order bytes.
bool parse_ipv4(const char* begin, const char* end, unsigned char out[4]) {
  unsigned field[4];
  const char* p = begin;
  for (int k = 0; k < 4; ++k) {
    if (k > 0) {
      if (p == end || *p != '.')
        return false;
      ++p;
    }
    p = scan_unsigned_field(p, end, field[k]);
    if (!p)
      return false;
  }
  if (p != end)
    return false;
  for (int k = 0; k < 4; ++k) {
    if (field[k] > 255)
      return false;
    out[k] = static_cast<unsigned char>(field[k]);
  }
  return true;
}

// ---- IPv6 -----------------------------------------------------------------
//
// libevent 2.1.12's IPv6 grammar: groups of one to four characters read as a
// strtol(…, 16) number (so "0xab" is a group), separated by ':', with at most
// one "::" (which may stand for a single zero group, and may close the
// address: "1::2:" is 1::2); an IPv4 tail (read as above, from the run of
// digits before the first '.') counts as two groups. Eight groups without a
// "::", or fewer with one.

// A strtol(…, 16) number starting at p (an xdigit), reading no further than
// end: returns where it stops.
const char* scan_hex_word(const char* p, const char* end, unsigned long& value) {
  const char* q = p;
  if (q[0] == '0' && end - q > 2 && (q[1] == 'x' || q[1] == 'X') && hex_value(q[2]) >= 0)
    q += 2;
  value = 0;
  for (; q != end && hex_value(*q) >= 0; ++q)
    value = value < 0x10000UL ? value * 16 + static_cast<unsigned long>(hex_value(*q)) : value;
  return q;
}

// Parses [begin, end) as an IPv6 address: 1 on success, 0 otherwise.
int parse_ipv6(const char* begin, const char* end, unsigned char out[16]) {
  std::uint16_t head[8] = {0};  // groups before the IPv4 tail, in order
  std::uint16_t tail[2] = {0};  // the IPv4 tail, if any
  const char* dot = static_cast<const char*>(std::memchr(begin, '.', static_cast<size_t>(end - begin)));
  const char* words_end = end;
  int groups = 0;
  if (dot == begin)
    return 0;
  if (dot) {
    words_end = dot;
    while (words_end > begin && is_digit(words_end[-1]))
      --words_end;
    unsigned char v4[4];
    if (!parse_ipv4(words_end, end, v4))
      return 0;
    tail[0] = static_cast<std::uint16_t>((v4[0] << 8) | v4[1]);
    tail[1] = static_cast<std::uint16_t>((v4[2] << 8) | v4[3]);
    groups = 2;
  }

  int n = 0;         // groups in head
  int gap_at = -1;   // index in head where "::" stands
  const char* p = begin;
  while (p < words_end) {
    if (n > 7)
      return 0;
    if (hex_value(*p) >= 0) {
      unsigned long word;
      const char* next = scan_hex_word(p, end, word);
      if (next - p > 4)
        return 0;
      head[n++] = static_cast<std::uint16_t>(word);
      ++groups;
      p = next;
      if (p != words_end && (p == end || *p != ':'))
        return 0;
      ++p;
    } else if (*p == ':' && n > 0 && gap_at < 0) {
      gap_at = n;
      ++p;
    } else if (*p == ':' && n == 0 && end - p > 1 && p[1] == ':' && gap_at < 0) {
      gap_at = 0;
      p += 2;
    } else {
      return 0;
    }
  }

  if (groups > 8 || (groups == 8 && gap_at >= 0) || (groups < 8 && gap_at < 0))
    return 0;

  std::uint16_t words[8] = {0};
  // head[0, gap_at) first, then zeros, then head[gap_at, n) and the tail at the end.
  const int before = gap_at < 0 ? n : gap_at;
  const int after = n - before;
  const int tail_n = dot ? 2 : 0;
  for (int k = 0; k < before; ++k)
    words[k] = head[k];
  for (int k = 0; k < after; ++k)
    words[8 - tail_n - after + k] = head[before + k];
  for (int k = 0; k < tail_n; ++k)
    words[8 - tail_n + k] = tail[k];
  for (int k = 0; k < 8; ++k) {
    out[2 * k] = static_cast<unsigned char>(words[k] >> 8);
    out[2 * k + 1] = static_cast<unsigned char>(words[k] & 0xff);
  }
  return 1;
}

// The interface index of an IPv6 zone: a name known to if_nametoindex, else
// a number as strtoul reads it (the whole zone must be read). false if neither.
bool zone_index(const char* zone, unsigned& index) {
  index = ::if_nametoindex(zone);
  if (index != 0)
    return true;
  char* stop = nullptr;
  const unsigned long n = std::strtoul(zone, &stop, 10);
  if (*stop != '\0')
    return false;
  index = static_cast<unsigned>(n);
  return true;
}

int pton(int af, const char* src, const char* end, void* dst) {
  if (af == AF_INET) {
    unsigned char bytes[4];
    if (!parse_ipv4(src, end, bytes))
      return 0;
    std::memcpy(dst, bytes, sizeof bytes);
    return 1;
  }
  if (af == AF_INET6) {
    unsigned char bytes[16];
    if (!parse_ipv6(src, end, bytes))
      return 0;
    std::memcpy(dst, bytes, sizeof bytes);
    return 1;
  }
  errno = EAFNOSUPPORT;
  return -1;
}

// As evutil_inet_pton_scope, on a NUL-terminated src.
int pton_scope(int af, const char* src, void* dst, unsigned* indexp) {
  *indexp = 0;
  const char* end = src + std::strlen(src);
  if (af != AF_INET6)
    return pton(af, src, end, dst);
  const char* percent = std::strchr(src, '%');
  if (!percent)
    return pton(af, src, end, dst);
  unsigned index = 0;
  if (!zone_index(percent + 1, index))
    return 0;
  *indexp = index;  // as libevent: set before the address is checked
  return pton(af, src, percent, dst);
}

// ---- address to text --------------------------------------------------------

// Copies text (n characters) to dst if it fits with its NUL.
const char* deliver(const char* text, size_t n, char* dst, size_t len) {
  if (n < len) {
    std::memcpy(dst, text, n + 1);
    return dst;
  }
  errno = ENOSPC;
  return nullptr;
}

const char* ntop4(const unsigned char* b, char* dst, size_t len) {
  char text[16];
  const int n = std::snprintf(text, sizeof text, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
  if (static_cast<size_t>(n) < len) {
    std::memcpy(dst, text, static_cast<size_t>(n) + 1);
    return dst;
  }
  // libevent leaves the truncated text in dst.
  if (len > 0) {
    std::memcpy(dst, text, len - 1);
    dst[len - 1] = '\0';
  }
  errno = ENOSPC;
  return nullptr;
}

const char* ntop6(const unsigned char* b, char* dst, size_t len) {
  unsigned words[8];
  for (int k = 0; k < 8; ++k)
    words[k] = (static_cast<unsigned>(b[2 * k]) << 8) | b[2 * k + 1];
  char text[64];
  int n = 0;
  const bool zero_prefix = !words[0] && !words[1] && !words[2] && !words[3] && !words[4];
  if (zero_prefix && words[5] == 0 && words[6] && words[7]) {  // IPv4-compatible
    n = std::snprintf(text, sizeof text, "::%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
    return deliver(text, static_cast<size_t>(n), dst, len);
  }
  if (zero_prefix && words[5] == 0xffff) {  // IPv4-mapped
    n = std::snprintf(text, sizeof text, "::ffff:%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
    return deliver(text, static_cast<size_t>(n), dst, len);
  }
  // The longest run of zero groups (the first of equal ones), if at least 2.
  int best_at = -1, best_len = 1;
  for (int k = 0; k < 8;) {
    if (words[k] != 0) {
      ++k;
      continue;
    }
    int run = 0;
    while (k + run < 8 && words[k + run] == 0)
      ++run;
    if (run > best_len) {
      best_at = k;
      best_len = run;
    }
    k += run;
  }
  for (int k = 0; k < 8;) {
    if (k == best_at) {
      if (k == 0)
        text[n++] = ':';
      text[n++] = ':';
      k += best_len;
      continue;
    }
    n += std::snprintf(text + n, sizeof text - static_cast<size_t>(n), "%x", words[k]);
    if (k != 7)
      text[n++] = ':';
    ++k;
  }
  text[n] = '\0';
  return deliver(text, static_cast<size_t>(n), dst, len);
}

// ---- sockaddr comparison ------------------------------------------------------

int sign_of_compare(std::uint32_t a, std::uint32_t b) { return a < b ? -1 : (a > b ? 1 : 0); }

} // namespace

extern "C" {

int evutil_socket_geterror(evutil_socket_t) { return errno; }

const char* evutil_socket_error_to_string(int errcode) { return std::strerror(errcode); }

int evutil_socketpair(int d, int type, int protocol, evutil_socket_t sv[2]) {
  if (!sv)
    return evasio::detail::fail(-1, EINVAL);
  return ::socketpair(d, type, protocol, sv);
}

int evutil_make_socket_nonblocking(evutil_socket_t sock) {
  return set_flag(sock, F_GETFL, F_SETFL, O_NONBLOCK);
}

int evutil_make_socket_closeonexec(evutil_socket_t sock) {
  return set_flag(sock, F_GETFD, F_SETFD, FD_CLOEXEC);
}

int evutil_make_listen_socket_reuseable(evutil_socket_t sock) {
  return set_int_opt(sock, SOL_SOCKET, SO_REUSEADDR, 1);
}

int evutil_make_listen_socket_reuseable_port(evutil_socket_t sock) {
  return set_int_opt(sock, SOL_SOCKET, SO_REUSEPORT, 1);
}

int evutil_make_listen_socket_ipv6only(evutil_socket_t sock) {
  return set_int_opt(sock, IPPROTO_IPV6, IPV6_V6ONLY, 1);
}

int evutil_make_tcp_listen_socket_deferred(evutil_socket_t sock) {
  return set_int_opt(sock, IPPROTO_TCP, TCP_DEFER_ACCEPT, 1);
}

int evutil_closesocket(evutil_socket_t sock) { return ::close(sock); }

int evutil_gettimeofday(struct timeval* tv, struct timezone* tz) {
  return ::gettimeofday(tv, tz);
}

ev_int64_t evutil_strtoll(const char* s, char** endptr, int base) {
  if (!s) {
    if (endptr)
      *endptr = nullptr;
    return evasio::detail::fail<ev_int64_t>(0, EINVAL);
  }
  return static_cast<ev_int64_t>(std::strtoll(s, endptr, base));
}

int evutil_vsnprintf(char* buf, size_t buflen, const char* format, va_list ap) {
  if (buflen == 0)
    return 0;  // as libevent: nothing written, not even measured
  if (!buf)
    return evasio::detail::fail(-1, EINVAL);
  if (!format) {
    buf[0] = '\0';
    return evasio::detail::fail(-1, EINVAL);
  }
  const int r = std::vsnprintf(buf, buflen, format, ap);
  buf[buflen - 1] = '\0';
  return r;
}

int evutil_snprintf(char* buf, size_t buflen, const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  const int r = evutil_vsnprintf(buf, buflen, format, ap);
  va_end(ap);
  return r;
}

const char* evutil_inet_ntop(int af, const void* src, char* dst, size_t len) {
  if (!src || !dst)
    return evasio::detail::fail<const char*>(nullptr, EINVAL);
  if (af == AF_INET)
    return ntop4(static_cast<const unsigned char*>(src), dst, len);
  if (af == AF_INET6)
    return ntop6(static_cast<const unsigned char*>(src), dst, len);
  return evasio::detail::fail<const char*>(nullptr, EAFNOSUPPORT);
}

int evutil_inet_pton(int af, const char* src, void* dst) {
  if (!src || !dst)
    return evasio::detail::fail(-1, EINVAL);
  return pton(af, src, src + std::strlen(src), dst);
}

int evutil_inet_pton_scope(int af, const char* src, void* dst, unsigned* indexp) {
  if (!src || !dst || !indexp)
    return evasio::detail::fail(-1, EINVAL);
  return pton_scope(af, src, dst, indexp);
}

int evutil_parse_sockaddr_port(const char* str, struct sockaddr* out, int* outlen) {
  if (!str || !out || !outlen)
    return evasio::detail::fail(-1, EINVAL);
  const int saved_errno = errno;

  // Split into an address and an optional port, as libevent does:
  //   "[addr]..." IPv6 (":port" may follow the ']'; anything else after it
  //               is ignored), "a:b:..." IPv6 without a port, "addr:port"
  //               IPv4 with a port, else IPv4 without one. The address
  //               part, when copied, is at most 127 characters.
  char copy[128];
  const char* addr = str;
  const char* port_text = nullptr;
  bool ipv6 = false;
  const char* colon = std::strchr(str, ':');
  if (str[0] == '[') {
    const char* close = std::strchr(str, ']');
    if (!close)
      return evasio::detail::fail(-1, EINVAL);
    const size_t n = static_cast<size_t>(close - (str + 1));
    if (n >= sizeof copy)
      return evasio::detail::fail(-1, EINVAL);
    std::memcpy(copy, str + 1, n);
    copy[n] = '\0';
    addr = copy;
    if (close[1] == ':')
      port_text = close + 2;
    ipv6 = true;
  } else if (colon && std::strchr(colon + 1, ':')) {
    ipv6 = true;
  } else if (colon) {
    const size_t n = static_cast<size_t>(colon - str);
    if (n >= sizeof copy)
      return evasio::detail::fail(-1, EINVAL);
    std::memcpy(copy, str, n);
    copy[n] = '\0';
    addr = copy;
    port_text = colon + 1;
  }

  // The port is read as atoi() does (strtol reduced to int): leading blanks,
  // a sign and trailing characters are accepted; it must come out 1..65535.
  int port = 0;
  if (port_text) {
    port = static_cast<int>(std::strtol(port_text, nullptr, 10));
    if (port <= 0 || port > 65535)
      return evasio::detail::fail(-1, EINVAL);
  }

  if (ipv6) {
    sockaddr_in6 sin6;
    std::memset(&sin6, 0, sizeof sin6);
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(static_cast<std::uint16_t>(port));
    unsigned scope = 0;
    if (pton_scope(AF_INET6, addr, &sin6.sin6_addr, &scope) != 1)
      return evasio::detail::fail(-1, EINVAL);
    if (*outlen < static_cast<int>(sizeof sin6))
      return evasio::detail::fail(-1, ENOSPC);
    sin6.sin6_scope_id = scope;
    std::memset(out, 0, static_cast<size_t>(*outlen));
    std::memcpy(out, &sin6, sizeof sin6);
    *outlen = static_cast<int>(sizeof sin6);
  } else {
    sockaddr_in sin;
    std::memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(static_cast<std::uint16_t>(port));
    if (pton(AF_INET, addr, addr + std::strlen(addr), &sin.sin_addr) != 1)
      return evasio::detail::fail(-1, EINVAL);
    if (*outlen < static_cast<int>(sizeof sin))
      return evasio::detail::fail(-1, ENOSPC);
    std::memset(out, 0, static_cast<size_t>(*outlen));
    std::memcpy(out, &sin, sizeof sin);
    *outlen = static_cast<int>(sizeof sin);
  }
  errno = saved_errno;
  return 0;
}

int evutil_sockaddr_cmp(const struct sockaddr* sa1, const struct sockaddr* sa2, int include_port) {
  if (!sa1 || !sa2)
    return evasio::detail::fail(-1, EINVAL);
  // Family first, then the address and the port as the raw (network-order)
  // numbers: the order libevent 2.1.12 gives.
  if (const int r = static_cast<int>(sa1->sa_family) - static_cast<int>(sa2->sa_family))
    return r;
  if (sa1->sa_family == AF_INET) {
    sockaddr_in a, b;
    std::memcpy(&a, sa1, sizeof a);
    std::memcpy(&b, sa2, sizeof b);
    if (const int r = sign_of_compare(a.sin_addr.s_addr, b.sin_addr.s_addr))
      return r;
    return include_port ? static_cast<int>(a.sin_port) - static_cast<int>(b.sin_port) : 0;
  }
  if (sa1->sa_family == AF_INET6) {
    sockaddr_in6 a, b;
    std::memcpy(&a, sa1, sizeof a);
    std::memcpy(&b, sa2, sizeof b);
    if (const int r = std::memcmp(a.sin6_addr.s6_addr, b.sin6_addr.s6_addr, 16))
      return r;
    return include_port ? static_cast<int>(a.sin6_port) - static_cast<int>(b.sin6_port) : 0;
  }
  return 1;  // other families: not comparable, never equal
}

int evutil_ascii_strcasecmp(const char* str1, const char* str2) {
  if (!str1 || !str2)
    return evasio::detail::fail(-1, EINVAL);
  for (;; ++str1, ++str2) {
    const char c1 = ascii_lower(*str1), c2 = ascii_lower(*str2);
    if (c1 != c2)
      return c1 < c2 ? -1 : 1;
    if (c1 == '\0')
      return 0;
  }
}

int evutil_ascii_strncasecmp(const char* str1, const char* str2, size_t n) {
  if (n == 0)
    return 0;
  if (!str1 || !str2)
    return evasio::detail::fail(-1, EINVAL);
  for (; n > 0; --n, ++str1, ++str2) {
    const char c1 = ascii_lower(*str1), c2 = ascii_lower(*str2);
    if (c1 != c2)
      return c1 < c2 ? -1 : 1;
    if (c1 == '\0')
      return 0;
  }
  return 0;
}

} // extern "C"

// event2/util.h: address parsing and printing, sockaddr comparison, string
// helpers, snprintf, timer macros and socket options, with libevent 2.1.12's
// semantics.
//
// The file builds against real libevent too (system headers, -levent), which
// is how each expectation here was checked. Cases marked "evasio only" test
// what libevent does not define (NULL pointers crash it) or where evasio
// differs on purpose; they are compiled only against evasio's headers.
#define BOOST_TEST_MODULE evutil
#include <boost/test/unit_test.hpp>

#include <event2/util.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <string>
#include <type_traits>

#ifdef EVASIO_EVENT2_UTIL_H_INCLUDED_
#define EVUTIL_TEST_EVASIO 1
#endif

namespace {

// ---- helpers ------------------------------------------------------------------

// The 4 bytes evutil_inet_pton(AF_INET) gives, as "a.b.c.d" (via the C
// library), or "FAIL:<r>" when it does not return 1.
std::string pton4(const char* text) {
  in_addr a;
  std::memset(&a, 0xee, sizeof a);
  const int r = evutil_inet_pton(AF_INET, text, &a);
  if (r != 1)
    return "FAIL:" + std::to_string(r);
  char out[INET_ADDRSTRLEN];
  return ::inet_ntop(AF_INET, &a, out, sizeof out);
}

std::string pton6(const char* text) {
  in6_addr a;
  std::memset(&a, 0xee, sizeof a);
  const int r = evutil_inet_pton(AF_INET6, text, &a);
  if (r != 1)
    return "FAIL:" + std::to_string(r);
  char out[INET6_ADDRSTRLEN];
  return ::inet_ntop(AF_INET6, &a, out, sizeof out);
}

in6_addr v6(const char* text) {
  in6_addr a;
  BOOST_REQUIRE_EQUAL(::inet_pton(AF_INET6, text, &a), 1);
  return a;
}

std::string ntop6(const char* text) {
  const in6_addr a = v6(text);
  char out[64];
  const char* r = evutil_inet_ntop(AF_INET6, &a, out, sizeof out);
  return r ? std::string(r) : std::string("NULL");
}

struct parsed {
  int rc = -2;
  int outlen = 0;
  sockaddr_storage ss{};
  int family() const { return ss.ss_family; }
  unsigned port() const {
    if (ss.ss_family == AF_INET)
      return ntohs(reinterpret_cast<const sockaddr_in&>(ss).sin_port);
    return ntohs(reinterpret_cast<const sockaddr_in6&>(ss).sin6_port);
  }
  std::string address() const {
    char out[INET6_ADDRSTRLEN] = "";
    if (ss.ss_family == AF_INET)
      ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, out, sizeof out);
    else if (ss.ss_family == AF_INET6)
      ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr, out, sizeof out);
    return out;
  }
  unsigned scope() const { return reinterpret_cast<const sockaddr_in6&>(ss).sin6_scope_id; }
};

parsed parse(const char* text, int outlen = static_cast<int>(sizeof(sockaddr_storage))) {
  parsed p;
  std::memset(&p.ss, 0xaa, sizeof p.ss);
  p.outlen = outlen;
  p.rc = evutil_parse_sockaddr_port(text, reinterpret_cast<sockaddr*>(&p.ss), &p.outlen);
  return p;
}

bool parses(const char* text) { return parse(text).rc == 0; }

sockaddr_storage sa4(const char* text, unsigned port) {
  sockaddr_storage ss{};
  auto& sin = reinterpret_cast<sockaddr_in&>(ss);
  sin.sin_family = AF_INET;
  sin.sin_port = htons(static_cast<std::uint16_t>(port));
  BOOST_REQUIRE_EQUAL(::inet_pton(AF_INET, text, &sin.sin_addr), 1);
  return ss;
}

sockaddr_storage sa6(const char* text, unsigned port, unsigned scope = 0) {
  sockaddr_storage ss{};
  auto& sin6 = reinterpret_cast<sockaddr_in6&>(ss);
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(static_cast<std::uint16_t>(port));
  sin6.sin6_scope_id = scope;
  sin6.sin6_addr = v6(text);
  return ss;
}

int cmp(const sockaddr_storage& a, const sockaddr_storage& b, int include_port) {
  const int r = evutil_sockaddr_cmp(reinterpret_cast<const sockaddr*>(&a),
                                    reinterpret_cast<const sockaddr*>(&b), include_port);
  return r < 0 ? -1 : (r > 0 ? 1 : 0);
}

int call_vsnprintf(char* buf, size_t len, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int r = evutil_vsnprintf(buf, len, fmt, ap);
  va_end(ap);
  return r;
}

timeval tv(long s, long us) {
  timeval t;
  t.tv_sec = s;
  t.tv_usec = us;
  return t;
}

struct fd_closer {
  int fd;
  ~fd_closer() {
    if (fd >= 0)
      ::close(fd);
  }
};

} // namespace

// ---- evutil_inet_pton: IPv4 ----------------------------------------------------

BOOST_AUTO_TEST_CASE(inet_pton_ipv4_accepts_dotted_quads) {
  BOOST_TEST(pton4("1.2.3.4") == "1.2.3.4");
  BOOST_TEST(pton4("0.0.0.0") == "0.0.0.0");
  BOOST_TEST(pton4("255.255.255.255") == "255.255.255.255");
  BOOST_TEST(pton4("127.0.0.1") == "127.0.0.1");
}

BOOST_AUTO_TEST_CASE(inet_pton_ipv4_rejects_malformed_text) {
  for (const char* bad : {"", ".", "1.2.3", "1.2.3.4.5", "1..2.3", "1.2.3.", ".1.2.3", "256.1.1.1",
                          "1.1.1.256", "1.2.3.4 ", "1.2.3.4x", "1.2.3.4:80", "1 .2.3.4", "0x1.2.3.4",
                          "a.b.c.d", "-1.2.3.4", "::1", "1.2.3.4\n"})
    BOOST_TEST(pton4(bad) == "FAIL:0", "input \"" << bad << "\"");
}

// libevent reads each field as scanf's %u: blanks and a sign may lead, and
// leading zeros are decimal, not octal.
BOOST_AUTO_TEST_CASE(inet_pton_ipv4_fields_read_as_scanf_unsigned) {
  BOOST_TEST(pton4(" 1.2.3.4") == "1.2.3.4");
  BOOST_TEST(pton4("1.\t2.3. 4") == "1.2.3.4");
  BOOST_TEST(pton4("+1.2.3.+4") == "1.2.3.4");
  BOOST_TEST(pton4("-0.1.2.3") == "0.1.2.3");
  BOOST_TEST(pton4("010.0.0.1") == "10.0.0.1");
  BOOST_TEST(pton4("0255.0.0.1") == "255.0.0.1");
}

BOOST_AUTO_TEST_CASE(inet_pton_leaves_dst_untouched_on_failure) {
  unsigned char out[16];
  std::memset(out, 0x5a, sizeof out);
  BOOST_TEST(evutil_inet_pton(AF_INET, "1.2.3.999", out) == 0);
  BOOST_TEST(evutil_inet_pton(AF_INET6, "1::2::3", out) == 0);
  for (unsigned char b : out)
    BOOST_TEST(b == 0x5a);
}

// ---- evutil_inet_pton: IPv6 ----------------------------------------------------

BOOST_AUTO_TEST_CASE(inet_pton_ipv6_accepts_standard_forms) {
  BOOST_TEST(pton6("::") == "::");
  BOOST_TEST(pton6("::1") == "::1");
  BOOST_TEST(pton6("1::") == "1::");
  BOOST_TEST(pton6("1::2") == "1::2");
  BOOST_TEST(pton6("2001:DB8:0:0:1:0:0:1") == "2001:db8::1:0:0:1");
  BOOST_TEST(pton6("1:2:3:4:5:6:7:8") == "1:2:3:4:5:6:7:8");
  BOOST_TEST(pton6("1:2:3:4:5:6:7::") == "1:2:3:4:5:6:7:0");
  BOOST_TEST(pton6("::2:3:4:5:6:7:8") == "0:2:3:4:5:6:7:8");
  BOOST_TEST(pton6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") == "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

BOOST_AUTO_TEST_CASE(inet_pton_ipv6_accepts_an_ipv4_tail) {
  BOOST_TEST(pton6("::ffff:1.2.3.4") == "::ffff:1.2.3.4");
  BOOST_TEST(pton6("::1.2.3.4") == "::1.2.3.4");
  BOOST_TEST(pton6("1:2:3:4:5:6:1.2.3.4") == "1:2:3:4:5:6:102:304");
  BOOST_TEST(pton6("::ffff:1.2.3") == "FAIL:0");
  BOOST_TEST(pton6("::ffff:256.1.1.1") == "FAIL:0");
  BOOST_TEST(pton6("1:2:3:4:5:6:7:1.2.3.4") == "FAIL:0");
  BOOST_TEST(pton6("1.2.3.4") == "FAIL:0");
}

BOOST_AUTO_TEST_CASE(inet_pton_ipv6_rejects_malformed_text) {
  for (const char* bad : {"", ":", "1", "1:2", ":::", ":1::", "1:::2", "1::2::3", "::1::",
                          "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "::1:2:3:4:5:6:7:8", "12345::",
                          "00001::", "::g", " ::1", "::1 ", "::-1", "1.2.3.4::"})
    BOOST_TEST(pton6(bad) == "FAIL:0", "input \"" << bad << "\"");
}

// Groups are read with strtol(…, 16) and a trailing ':' after "::" is allowed.
BOOST_AUTO_TEST_CASE(inet_pton_ipv6_accepts_libevent_lenient_forms) {
  BOOST_TEST(pton6("1::2:") == "1::2");
  BOOST_TEST(pton6("0xab::") == "ab::");
  BOOST_TEST(pton6("::0x1") == "::1");
  BOOST_TEST(pton6("0xabc::") == "FAIL:0");  // five characters
}

BOOST_AUTO_TEST_CASE(inet_pton_other_family_returns_minus_one) {
  unsigned char out[16];
  BOOST_TEST(evutil_inet_pton(AF_UNIX, "1.2.3.4", out) == -1);
  BOOST_TEST(evutil_inet_pton(12345, "::1", out) == -1);
}

BOOST_AUTO_TEST_CASE(inet_pton_scope_reads_zone_name_or_number) {
  in6_addr a;
  unsigned index = 99;
  BOOST_TEST(evutil_inet_pton_scope(AF_INET6, "fe80::1%lo", &a, &index) == 1);
  BOOST_TEST(index == ::if_nametoindex("lo"));
  const in6_addr expected = v6("fe80::1");
  BOOST_TEST(std::memcmp(&a, &expected, sizeof a) == 0);
  BOOST_TEST(evutil_inet_pton_scope(AF_INET6, "fe80::1%42", &a, &index) == 1);
  BOOST_TEST(index == 42u);
  BOOST_TEST(evutil_inet_pton_scope(AF_INET6, "fe80::1", &a, &index) == 1);
  BOOST_TEST(index == 0u);
  in_addr a4;
  index = 99;
  BOOST_TEST(evutil_inet_pton_scope(AF_INET, "1.2.3.4", &a4, &index) == 1);
  BOOST_TEST(index == 0u);
}

BOOST_AUTO_TEST_CASE(inet_pton_scope_rejects_unknown_zone) {
  in6_addr a;
  unsigned index = 99;
  BOOST_TEST(evutil_inet_pton_scope(AF_INET6, "fe80::1%no-such-interface", &a, &index) == 0);
  BOOST_TEST(evutil_inet_pton_scope(AF_INET6, "fe80::1%7x", &a, &index) == 0);
}

// ---- evutil_inet_ntop ----------------------------------------------------------

BOOST_AUTO_TEST_CASE(inet_ntop_ipv4_dotted_decimal) {
  in_addr a;
  a.s_addr = htonl(0xC0A864C8);  // 192.168.100.200
  char out[INET_ADDRSTRLEN];
  BOOST_TEST(evutil_inet_ntop(AF_INET, &a, out, sizeof out) == out);
  BOOST_TEST(std::string(out) == "192.168.100.200");
}

BOOST_AUTO_TEST_CASE(inet_ntop_ipv4_fails_when_buffer_too_small) {
  in_addr a;
  a.s_addr = htonl(0x01020304);
  char out[16];
  BOOST_TEST(evutil_inet_ntop(AF_INET, &a, out, 8) == out);  // "1.2.3.4" + NUL
  BOOST_TEST(evutil_inet_ntop(AF_INET, &a, out, 7) == nullptr);
  BOOST_TEST(std::string(out) == "1.2.3.");  // as libevent: the cut text is left
  BOOST_TEST(evutil_inet_ntop(AF_INET, &a, out, 0) == nullptr);
}

BOOST_AUTO_TEST_CASE(inet_ntop_ipv6_compresses_first_longest_zero_run) {
  BOOST_TEST(ntop6("::") == "::");
  BOOST_TEST(ntop6("::2") == "::2");
  BOOST_TEST(ntop6("1::") == "1::");
  BOOST_TEST(ntop6("2001:db8::1") == "2001:db8::1");
  BOOST_TEST(ntop6("1:0:0:2:0:0:0:3") == "1:0:0:2::3");
  BOOST_TEST(ntop6("1:0:0:2:0:0:3:4") == "1::2:0:0:3:4");
  BOOST_TEST(ntop6("1:0:2:0:3:0:4:0") == "1:0:2:0:3:0:4:0");
  BOOST_TEST(ntop6("ABCD:EF01:2345:6789:ABCD:EF01:2345:6789") == "abcd:ef01:2345:6789:abcd:ef01:2345:6789");
}

BOOST_AUTO_TEST_CASE(inet_ntop_ipv6_prints_ipv4_compatible_and_mapped) {
  BOOST_TEST(ntop6("::ffff:1.2.3.4") == "::ffff:1.2.3.4");
  BOOST_TEST(ntop6("::ffff:0.0.0.0") == "::ffff:0.0.0.0");
  BOOST_TEST(ntop6("::1.2.3.4") == "::1.2.3.4");
  BOOST_TEST(ntop6("::1.0.0.0") == "::100:0");     // last group zero: not IPv4 form
  BOOST_TEST(ntop6("::fffe:1.2.3.4") == "::fffe:102:304");
  BOOST_TEST(ntop6("::1:ffff:1.2.3.4") == "::1:ffff:102:304");
}

BOOST_AUTO_TEST_CASE(inet_ntop_ipv6_fails_when_buffer_too_small) {
  const in6_addr a = v6("2001:db8::1");  // 11 characters
  char out[64];
  BOOST_TEST(evutil_inet_ntop(AF_INET6, &a, out, 12) == out);
  BOOST_TEST(std::string(out) == "2001:db8::1");
  std::memset(out, 'Z', sizeof out);
  BOOST_TEST(evutil_inet_ntop(AF_INET6, &a, out, 10) == nullptr);
  BOOST_TEST(out[0] == 'Z');  // nothing written
  BOOST_TEST(evutil_inet_ntop(AF_INET6, &a, out, 0) == nullptr);
}

// With exactly strlen(text) bytes there is no room for the NUL.
BOOST_AUTO_TEST_CASE(inet_ntop_ipv6_without_room_for_the_nul) {
  const in6_addr a = v6("2001:db8::1");
  char out[64];
  std::memset(out, 'Z', sizeof out);
  const char* r = evutil_inet_ntop(AF_INET6, &a, out, 11);
#ifdef EVUTIL_TEST_EVASIO
  // evasio (intended difference): fails with ENOSPC.
  BOOST_TEST(r == nullptr);
  BOOST_TEST(errno == ENOSPC);
#else
  // libevent 2.1.12: succeeds with the text cut by one character.
  BOOST_TEST(r == out);
  BOOST_TEST(std::string(out) == "2001:db8::");
#endif
}

BOOST_AUTO_TEST_CASE(inet_ntop_other_family_returns_null) {
  unsigned char src[16] = {0};
  char out[64];
  BOOST_TEST(evutil_inet_ntop(AF_UNIX, src, out, sizeof out) == nullptr);
}

BOOST_AUTO_TEST_CASE(inet_ntop_then_pton_round_trips) {
  // Every IPv6 address whose groups are drawn from {0, 1, 0xffff}, in many
  // zero-run layouts, and IPv4 addresses across the range.
  const std::uint16_t values[] = {0, 1, 0xffff};
  for (unsigned code = 0; code < 6561; code += 7) {  // 3^8 layouts, sampled
    unsigned c = code;
    in6_addr a;
    for (int k = 0; k < 8; ++k) {
      const std::uint16_t w = values[c % 3];
      c /= 3;
      a.s6_addr[2 * k] = static_cast<unsigned char>(w >> 8);
      a.s6_addr[2 * k + 1] = static_cast<unsigned char>(w & 0xff);
    }
    char text[64];
    BOOST_REQUIRE(evutil_inet_ntop(AF_INET6, &a, text, sizeof text) == text);
    in6_addr back;
    BOOST_REQUIRE_EQUAL(evutil_inet_pton(AF_INET6, text, &back), 1);
    BOOST_TEST(std::memcmp(&a, &back, sizeof a) == 0, "text " << text);
  }
  for (std::uint32_t x = 1; x < 0xfff00000u; x += 0x01010101u + (x >> 7)) {
    in_addr a;
    a.s_addr = htonl(x);
    char text[INET_ADDRSTRLEN];
    BOOST_REQUIRE(evutil_inet_ntop(AF_INET, &a, text, sizeof text) == text);
    in_addr back;
    BOOST_REQUIRE_EQUAL(evutil_inet_pton(AF_INET, text, &back), 1);
    BOOST_TEST(back.s_addr == a.s_addr, "text " << text);
  }
}

// ---- evutil_parse_sockaddr_port -------------------------------------------------

BOOST_AUTO_TEST_CASE(parse_sockaddr_port_ipv4_without_port) {
  const parsed p = parse("1.2.3.4");
  BOOST_TEST(p.rc == 0);
  BOOST_TEST(p.family() == AF_INET);
  BOOST_TEST(p.address() == "1.2.3.4");
  BOOST_TEST(p.port() == 0u);
  BOOST_TEST(p.outlen == static_cast<int>(sizeof(sockaddr_in)));
}

BOOST_AUTO_TEST_CASE(parse_sockaddr_port_ipv4_with_port) {
  parsed p = parse("10.0.0.1:8080");
  BOOST_TEST(p.rc == 0);
  BOOST_TEST(p.family() == AF_INET);
  BOOST_TEST(p.address() == "10.0.0.1");
  BOOST_TEST(p.port() == 8080u);
  p = parse("1.2.3.4:1");
  BOOST_TEST((p.rc == 0 && p.port() == 1u));
  p = parse("1.2.3.4:65535");
  BOOST_TEST((p.rc == 0 && p.port() == 65535u));
}

BOOST_AUTO_TEST_CASE(parse_sockaddr_port_bracketed_ipv6) {
  parsed p = parse("[::1]");
  BOOST_TEST(p.rc == 0);
  BOOST_TEST(p.family() == AF_INET6);
  BOOST_TEST(p.address() == "::1");
  BOOST_TEST(p.port() == 0u);
  BOOST_TEST(p.outlen == static_cast<int>(sizeof(sockaddr_in6)));
  p = parse("[::1]:80");
  BOOST_TEST(p.rc == 0);
  BOOST_TEST(p.address() == "::1");
  BOOST_TEST(p.port() == 80u);
  p = parse("[::ffff:1.2.3.4]:443");
  BOOST_TEST(p.rc == 0);
  BOOST_TEST(p.address() == "::ffff:1.2.3.4");
  BOOST_TEST(p.port() == 443u);
}

BOOST_AUTO_TEST_CASE(parse_sockaddr_port_bare_ipv6_has_no_port) {
  parsed p = parse("::1");
  BOOST_TEST(p.rc == 0);
  BOOST_TEST(p.family() == AF_INET6);
  BOOST_TEST(p.address() == "::1");
  BOOST_TEST(p.port() == 0u);
  // Two colons or more: the whole text is the address.
  p = parse("2001:db8::1:443");
  BOOST_TEST(p.rc == 0);
  BOOST_TEST(p.address() == "2001:db8::1:443");
  BOOST_TEST(p.port() == 0u);
}

BOOST_AUTO_TEST_CASE(parse_sockaddr_port_rejects_ports_out_of_range) {
  for (const char* bad : {"1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:99999", "1.2.3.4:-80", "1.2.3.4:",
                          "1.2.3.4:abc", "1.2.3.4:0x50", "[::1]:", "[::1]:0", "[::1]:65536",
                          "[::1]:-1", "1.2.3.4:99999999999999999999"})
    BOOST_TEST(!parses(bad), "input \"" << bad << "\"");
}

// The port is read as atoi() reads it.
BOOST_AUTO_TEST_CASE(parse_sockaddr_port_reads_port_like_atoi) {
  BOOST_TEST(parse("1.2.3.4:80abc").port() == 80u);
  BOOST_TEST(parse("1.2.3.4: 80").port() == 80u);
  BOOST_TEST(parse("1.2.3.4:+80").port() == 80u);
  BOOST_TEST(parse("1.2.3.4:0080").port() == 80u);
  BOOST_TEST(parse("[::1]:80x").port() == 80u);
}

BOOST_AUTO_TEST_CASE(parse_sockaddr_port_rejects_malformed_text) {
  for (const char* bad : {"", ":", ":80", "1:80", "1.2.3:80", "256.2.3.4:80", "1.2.3.4 :80",
                          "localhost", "localhost:80", "example.com:80", "1.2.3.4:80:90", "[::1",
                          "[]", "[]:80", "[1.2.3.4]:80", "[ ::1]", "[::1 ]", "::g", "garbage"})
    BOOST_TEST(!parses(bad), "input \"" << bad << "\"");
}

// As libevent: after "[addr]" only ":port" is looked at; anything else is ignored.
BOOST_AUTO_TEST_CASE(parse_sockaddr_port_ignores_text_after_bracket) {
  parsed p = parse("[::1]x");
  BOOST_TEST(p.rc == 0);
  BOOST_TEST(p.port() == 0u);
  p = parse("[::1]80");
  BOOST_TEST(p.rc == 0);
  BOOST_TEST(p.port() == 0u);
}

BOOST_AUTO_TEST_CASE(parse_sockaddr_port_fails_when_out_is_too_small) {
  parsed p = parse("1.2.3.4:80", static_cast<int>(sizeof(sockaddr_in)) - 1);
  BOOST_TEST(p.rc == -1);
  BOOST_TEST(p.outlen == static_cast<int>(sizeof(sockaddr_in)) - 1);  // unchanged
  const auto* bytes = reinterpret_cast<const unsigned char*>(&p.ss);
  for (size_t k = 0; k < sizeof p.ss; ++k)
    BOOST_TEST(bytes[k] == 0xaa);  // out untouched
  p = parse("[::1]:80", static_cast<int>(sizeof(sockaddr_in6)) - 1);
  BOOST_TEST(p.rc == -1);
  BOOST_TEST(p.outlen == static_cast<int>(sizeof(sockaddr_in6)) - 1);
  p = parse("::1", static_cast<int>(sizeof(sockaddr_in)));
  BOOST_TEST(p.rc == -1);
  p = parse("1.2.3.4", 0);
  BOOST_TEST(p.rc == -1);
  p = parse("1.2.3.4", -1);
  BOOST_TEST(p.rc == -1);
}

BOOST_AUTO_TEST_CASE(parse_sockaddr_port_exact_size_suffices) {
  parsed p = parse("1.2.3.4:80", static_cast<int>(sizeof(sockaddr_in)));
  BOOST_TEST(p.rc == 0);
  BOOST_TEST(p.outlen == static_cast<int>(sizeof(sockaddr_in)));
  p = parse("[::1]:80", static_cast<int>(sizeof(sockaddr_in6)));
  BOOST_TEST(p.rc == 0);
  BOOST_TEST(p.outlen == static_cast<int>(sizeof(sockaddr_in6)));
}

// On success the first *outlen bytes are cleared, then the address stored.
BOOST_AUTO_TEST_CASE(parse_sockaddr_port_clears_the_given_length) {
  const int given = static_cast<int>(sizeof(sockaddr_in)) + 8;
  const parsed p = parse("1.2.3.4:80", given);
  BOOST_REQUIRE(p.rc == 0);
  const auto* bytes = reinterpret_cast<const unsigned char*>(&p.ss);
  for (size_t k = sizeof(sockaddr_in); k < static_cast<size_t>(given); ++k)
    BOOST_TEST(bytes[k] == 0);
  for (size_t k = static_cast<size_t>(given); k < sizeof p.ss; ++k)
    BOOST_TEST(bytes[k] == 0xaa);
  const auto& sin = reinterpret_cast<const sockaddr_in&>(p.ss);
  for (unsigned char z : sin.sin_zero)
    BOOST_TEST(z == 0);
}

BOOST_AUTO_TEST_CASE(parse_sockaddr_port_reads_ipv6_zone) {
  parsed p = parse("[fe80::1%lo]:80");
  BOOST_TEST(p.rc == 0);
  BOOST_TEST(p.address() == "fe80::1");
  BOOST_TEST(p.port() == 80u);
  BOOST_TEST(p.scope() == ::if_nametoindex("lo"));
  p = parse("[fe80::1%3]");
  BOOST_TEST(p.rc == 0);
  BOOST_TEST(p.scope() == 3u);
  BOOST_TEST(!parses("[fe80::1%no-such-if]:80"));
}

// The address part is copied into 128 bytes: at most 127 characters.
BOOST_AUTO_TEST_CASE(parse_sockaddr_port_limits_the_address_part) {
  std::string ok = std::string(120, ' ') + "1.2.3.4";  // 127 characters
  BOOST_TEST(parses((ok + ":80").c_str()));
  BOOST_TEST(!parses((" " + ok + ":80").c_str()));
  BOOST_TEST(parses((" " + ok).c_str()));  // no port: no copy, no limit
  std::string v6ok = "::1.2.3." + std::string(118, '0') + "4";  // 127 characters
  BOOST_TEST(parses(("[" + v6ok + "]:80").c_str()));
  BOOST_TEST(!parses(("[0" + v6ok + "]:80").c_str()));
}

// ---- evutil_sockaddr_cmp ---------------------------------------------------------

BOOST_AUTO_TEST_CASE(sockaddr_cmp_ipv4_address_then_port) {
  BOOST_TEST(cmp(sa4("1.2.3.4", 80), sa4("1.2.3.4", 80), 1) == 0);
  BOOST_TEST(cmp(sa4("1.2.3.4", 80), sa4("1.2.3.4", 81), 0) == 0);
  BOOST_TEST(cmp(sa4("1.2.3.4", 80), sa4("1.2.3.4", 81), 1) != 0);
  BOOST_TEST(cmp(sa4("1.2.3.4", 80), sa4("1.2.3.5", 80), 0) != 0);
  BOOST_TEST(cmp(sa4("1.2.3.4", 9), sa4("1.2.3.5", 1), 1) == cmp(sa4("1.2.3.4", 9), sa4("1.2.3.5", 1), 0));
}

BOOST_AUTO_TEST_CASE(sockaddr_cmp_ipv6_address_then_port) {
  BOOST_TEST(cmp(sa6("::1", 80), sa6("::1", 80), 1) == 0);
  BOOST_TEST(cmp(sa6("::1", 80), sa6("::2", 80), 0) == -1);
  BOOST_TEST(cmp(sa6("1::", 80), sa6("::1", 80), 0) == 1);
  BOOST_TEST(cmp(sa6("::1", 80), sa6("::1", 81), 0) == 0);
  BOOST_TEST(cmp(sa6("::1", 80), sa6("::1", 81), 1) != 0);
  BOOST_TEST(cmp(sa6("fe80::1", 1, 1), sa6("fe80::1", 1, 2), 1) == 0);  // scope ignored
}

// libevent's order compares the raw network-order numbers: on a little-endian
// host 1.0.0.2 sorts after 2.0.0.1, and port 255 after port 256.
BOOST_AUTO_TEST_CASE(sockaddr_cmp_uses_libevent_order) {
  const sockaddr_storage a = sa4("1.0.0.2", 255), b = sa4("2.0.0.1", 255);
  const std::uint32_t ra = reinterpret_cast<const sockaddr_in&>(a).sin_addr.s_addr;
  const std::uint32_t rb = reinterpret_cast<const sockaddr_in&>(b).sin_addr.s_addr;
  BOOST_TEST(cmp(a, b, 0) == (ra < rb ? -1 : 1));
  const std::uint16_t p255 = htons(255), p256 = htons(256);
  BOOST_TEST(cmp(sa4("1.2.3.4", 255), sa4("1.2.3.4", 256), 1) == (p255 < p256 ? -1 : 1));
  BOOST_TEST(cmp(sa6("::1", 255), sa6("::1", 256), 1) == (p255 < p256 ? -1 : 1));
}

BOOST_AUTO_TEST_CASE(sockaddr_cmp_orders_families_first) {
  BOOST_TEST(cmp(sa4("255.255.255.255", 1), sa6("::", 0), 1) == (AF_INET < AF_INET6 ? -1 : 1));
  BOOST_TEST(cmp(sa6("::", 0), sa4("255.255.255.255", 1), 1) == (AF_INET < AF_INET6 ? 1 : -1));
}

BOOST_AUTO_TEST_CASE(sockaddr_cmp_other_families_never_equal) {
  sockaddr_storage u{};
  u.ss_family = AF_UNIX;
  BOOST_TEST(cmp(u, u, 0) != 0);
  BOOST_TEST(cmp(u, u, 1) != 0);
}

BOOST_AUTO_TEST_CASE(sockaddr_cmp_is_antisymmetric) {
  const sockaddr_storage all[] = {sa4("0.0.0.0", 0),      sa4("1.2.3.4", 80), sa4("1.2.3.4", 81),
                                  sa4("1.0.0.2", 1),      sa4("2.0.0.1", 1),  sa4("1.2.3.4", 256),
                                  sa6("::", 0),           sa6("::1", 80),     sa6("::1", 255),
                                  sa6("ff00::1", 1),      sa6("100::", 1),    sa6("::ffff:1.2.3.4", 1)};
  for (const auto& x : all)
    for (const auto& y : all)
      for (int port : {0, 1})
        BOOST_TEST(cmp(x, y, port) == -cmp(y, x, port));
}

// ---- evutil_strtoll ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(strtoll_parses_like_the_c_library) {
  char* end = nullptr;
  const char* s = "  -123xyz";
  BOOST_TEST(evutil_strtoll(s, &end, 10) == -123);
  BOOST_TEST(end == s + 6);
  BOOST_TEST(evutil_strtoll("0x1f", nullptr, 16) == 31);
  BOOST_TEST(evutil_strtoll("0X1F", nullptr, 0) == 31);
  BOOST_TEST(evutil_strtoll("017", nullptr, 0) == 15);
  BOOST_TEST(evutil_strtoll("017", nullptr, 10) == 17);
  BOOST_TEST(evutil_strtoll("zz", nullptr, 36) == 35 * 36 + 35);
  BOOST_TEST(evutil_strtoll("9223372036854775807", nullptr, 10) == INT64_MAX);
  BOOST_TEST(evutil_strtoll("-9223372036854775808", nullptr, 10) == INT64_MIN);
  const char* none = "abc";
  BOOST_TEST(evutil_strtoll(none, &end, 10) == 0);
  BOOST_TEST(end == none);
}

BOOST_AUTO_TEST_CASE(strtoll_saturates_with_erange) {
  errno = 0;
  BOOST_TEST(evutil_strtoll("9223372036854775808", nullptr, 10) == INT64_MAX);
  BOOST_TEST(errno == ERANGE);
  errno = 0;
  BOOST_TEST(evutil_strtoll("-99999999999999999999", nullptr, 10) == INT64_MIN);
  BOOST_TEST(errno == ERANGE);
  BOOST_TEST(sizeof(evutil_strtoll("0", nullptr, 10)) == 8u);
}

// ---- evutil_snprintf / evutil_vsnprintf -------------------------------------------

BOOST_AUTO_TEST_CASE(snprintf_returns_the_untruncated_length) {
  char buf[32];
  BOOST_TEST(evutil_snprintf(buf, sizeof buf, "%d-%s", 42, "abc") == 6);
  BOOST_TEST(std::string(buf) == "42-abc");
  BOOST_TEST(evutil_snprintf(buf, 4, "%d-%s", 42, "abc") == 6);
  BOOST_TEST(std::string(buf) == "42-");
  char big[300];
  BOOST_TEST(evutil_snprintf(big, 10, "%0250d", 7) == 250);
}

BOOST_AUTO_TEST_CASE(snprintf_always_nul_terminates) {
  char buf[8];
  for (size_t len = 1; len <= sizeof buf; ++len) {
    std::memset(buf, '#', sizeof buf);
    evutil_snprintf(buf, len, "%s", "0123456789");
    BOOST_TEST(buf[len - 1] == '\0');
    BOOST_TEST(std::strlen(buf) == len - 1);
  }
  std::memset(buf, '#', sizeof buf);
  BOOST_TEST(evutil_snprintf(buf, 1, "%s", "x") == 1);
  BOOST_TEST(buf[0] == '\0');
  BOOST_TEST(buf[1] == '#');
}

// As libevent: buflen 0 writes nothing and returns 0, not the length.
BOOST_AUTO_TEST_CASE(snprintf_with_zero_buflen_returns_zero) {
  char buf[4] = {'#', '#', '#', '#'};
  BOOST_TEST(evutil_snprintf(buf, 0, "%s", "hello") == 0);
  BOOST_TEST(buf[0] == '#');
  BOOST_TEST(evutil_snprintf(nullptr, 0, "%s", "hello") == 0);
}

BOOST_AUTO_TEST_CASE(vsnprintf_takes_a_va_list) {
  char buf[16];
  BOOST_TEST(call_vsnprintf(buf, sizeof buf, "%lld|%5.2f", -9000000000LL, 3.14159) == 17);
  BOOST_TEST(std::string(buf) == "-9000000000| 3.");
  BOOST_TEST(call_vsnprintf(buf, 0, "%d", 1) == 0);
}

// ---- evutil_ascii_strcasecmp / evutil_ascii_strncasecmp -----------------------------

BOOST_AUTO_TEST_CASE(ascii_strcasecmp_folds_ascii_letters_only) {
  BOOST_TEST(evutil_ascii_strcasecmp("Content-Length", "content-length") == 0);
  BOOST_TEST(evutil_ascii_strcasecmp("HELLO world", "hello WORLD") == 0);
  BOOST_TEST(evutil_ascii_strcasecmp("\xc9", "\xe9") != 0);  // Latin-1 É/é: not folded
  BOOST_TEST(evutil_ascii_strcasecmp("@", "`") != 0);        // 0x40/0x60 are not letters
}

BOOST_AUTO_TEST_CASE(ascii_strcasecmp_returns_minus_one_zero_or_one) {
  BOOST_TEST(evutil_ascii_strcasecmp("abc", "ABD") == -1);
  BOOST_TEST(evutil_ascii_strcasecmp("ABD", "abc") == 1);
  BOOST_TEST(evutil_ascii_strcasecmp("a", "ab") == -1);
  BOOST_TEST(evutil_ascii_strcasecmp("ab", "A") == 1);
  BOOST_TEST(evutil_ascii_strcasecmp("", "") == 0);
  BOOST_TEST(evutil_ascii_strcasecmp("Z", "a") == 1);   // compared lowercased: 'z' > 'a'
  BOOST_TEST(evutil_ascii_strcasecmp("[", "a") == -1);  // '[' < 'a'
}

BOOST_AUTO_TEST_CASE(ascii_strncasecmp_compares_at_most_n) {
  BOOST_TEST(evutil_ascii_strncasecmp("abcX", "ABCy", 3) == 0);
  BOOST_TEST(evutil_ascii_strncasecmp("abcX", "ABCy", 4) == -1);
  BOOST_TEST(evutil_ascii_strncasecmp("abc", "xyz", 0) == 0);
  BOOST_TEST(evutil_ascii_strncasecmp("ab", "AB", 100) == 0);  // stops at the NUL
  BOOST_TEST(evutil_ascii_strncasecmp("a", "ab", 5) == -1);
}

// ---- socket options ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(make_listen_socket_reuseable_port_sets_so_reuseport) {
  fd_closer s{::socket(AF_INET, SOCK_STREAM, 0)};
  BOOST_REQUIRE(s.fd >= 0);
  BOOST_TEST(evutil_make_listen_socket_reuseable_port(s.fd) == 0);
  int on = 0;
  socklen_t len = sizeof on;
  BOOST_REQUIRE(::getsockopt(s.fd, SOL_SOCKET, SO_REUSEPORT, &on, &len) == 0);
  BOOST_TEST(on != 0);
}

BOOST_AUTO_TEST_CASE(make_listen_socket_reuseable_port_lets_two_sockets_bind) {
  fd_closer a{::socket(AF_INET, SOCK_STREAM, 0)};
  fd_closer b{::socket(AF_INET, SOCK_STREAM, 0)};
  fd_closer c{::socket(AF_INET, SOCK_STREAM, 0)};
  BOOST_REQUIRE((a.fd >= 0 && b.fd >= 0 && c.fd >= 0));
  BOOST_REQUIRE(evutil_make_listen_socket_reuseable_port(a.fd) == 0);
  BOOST_REQUIRE(evutil_make_listen_socket_reuseable_port(b.fd) == 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_REQUIRE(::bind(a.fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0);
  socklen_t len = sizeof sin;
  BOOST_REQUIRE(::getsockname(a.fd, reinterpret_cast<sockaddr*>(&sin), &len) == 0);
  BOOST_REQUIRE(::listen(a.fd, 4) == 0);
  BOOST_TEST(::bind(b.fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0);
  BOOST_TEST(::listen(b.fd, 4) == 0);
  BOOST_TEST(::bind(c.fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == -1);  // no option
  BOOST_TEST(errno == EADDRINUSE);
}

BOOST_AUTO_TEST_CASE(make_listen_socket_reuseable_port_fails_on_a_bad_fd) {
  errno = 0;
  BOOST_TEST(evutil_make_listen_socket_reuseable_port(-1) == -1);
  BOOST_TEST(errno == EBADF);
  int p[2];
  BOOST_REQUIRE(::pipe(p) == 0);
  BOOST_TEST(evutil_make_listen_socket_reuseable_port(p[0]) == -1);
  BOOST_TEST(errno == ENOTSOCK);
  ::close(p[0]);
  ::close(p[1]);
}

// ---- timeval macros ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(timeradd_carries_microseconds) {
  timeval a = tv(1, 600000), b = tv(2, 500000), c;
  evutil_timeradd(&a, &b, &c);
  BOOST_TEST(c.tv_sec == 4);
  BOOST_TEST(c.tv_usec == 100000);
  evutil_timeradd(&a, &a, &a);  // the result may alias an operand
  BOOST_TEST(a.tv_sec == 3);
  BOOST_TEST(a.tv_usec == 200000);
}

BOOST_AUTO_TEST_CASE(timersub_borrows_microseconds) {
  timeval a = tv(3, 100000), b = tv(1, 600000), c;
  evutil_timersub(&a, &b, &c);
  BOOST_TEST(c.tv_sec == 1);
  BOOST_TEST(c.tv_usec == 500000);
  evutil_timersub(&b, &a, &c);  // negative: tv_sec < 0, 0 <= tv_usec < 1000000
  BOOST_TEST(c.tv_sec == -2);
  BOOST_TEST(c.tv_usec == 500000);
}

BOOST_AUTO_TEST_CASE(timercmp_supports_every_relational_operator) {
  const timeval pairs[][2] = {{tv(1, 0), tv(1, 0)},      {tv(1, 1), tv(1, 2)}, {tv(1, 999999), tv(2, 0)},
                              {tv(2, 0), tv(1, 999999)}, {tv(3, 5), tv(3, 5)}, {tv(5, 0), tv(4, 999999)}};
  for (const auto& p : pairs) {
    const timeval& a = p[0];
    const timeval& b = p[1];
    const long long x = static_cast<long long>(a.tv_sec) * 1000000 + a.tv_usec;
    const long long y = static_cast<long long>(b.tv_sec) * 1000000 + b.tv_usec;
    BOOST_TEST(bool(evutil_timercmp(&a, &b, <)) == (x < y));
    BOOST_TEST(bool(evutil_timercmp(&a, &b, <=)) == (x <= y));
    BOOST_TEST(bool(evutil_timercmp(&a, &b, ==)) == (x == y));
    BOOST_TEST(bool(evutil_timercmp(&a, &b, !=)) == (x != y));
    BOOST_TEST(bool(evutil_timercmp(&a, &b, >=)) == (x >= y));
    BOOST_TEST(bool(evutil_timercmp(&a, &b, >)) == (x > y));
  }
}

BOOST_AUTO_TEST_CASE(timerclear_and_timerisset_are_expressions) {
  timeval a = tv(0, 0);
  BOOST_TEST(!evutil_timerisset(&a));
  a.tv_usec = 1;
  BOOST_TEST(bool(evutil_timerisset(&a)));
  a = tv(7, 0);
  BOOST_TEST(bool(evutil_timerisset(&a)));
  const int n = (evutil_timerclear(&a), 5);  // usable inside an expression
  BOOST_TEST(n == 5);
  BOOST_TEST(a.tv_sec == 0);
  BOOST_TEST(a.tv_usec == 0);
}

BOOST_AUTO_TEST_CASE(gettimeofday_reports_the_current_time) {
  // Bounded by CLOCK_REALTIME read before and after (time() may lag: it is coarse).
  auto usec = [](long long s, long long us) { return s * 1000000 + us; };
  timespec before, after;
  timeval t;
  BOOST_REQUIRE(::clock_gettime(CLOCK_REALTIME, &before) == 0);
  BOOST_TEST(evutil_gettimeofday(&t, nullptr) == 0);
  BOOST_REQUIRE(::clock_gettime(CLOCK_REALTIME, &after) == 0);
  BOOST_TEST(usec(t.tv_sec, t.tv_usec) >= usec(before.tv_sec, before.tv_nsec / 1000));
  BOOST_TEST(usec(t.tv_sec, t.tv_usec) <= usec(after.tv_sec, after.tv_nsec / 1000));
  BOOST_TEST((t.tv_usec >= 0 && t.tv_usec < 1000000));
}

// ---- types and constants -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(integer_types_have_libevent_widths) {
  BOOST_TEST(sizeof(ev_uint64_t) == 8u);
  BOOST_TEST(sizeof(ev_int32_t) == 4u);
  BOOST_TEST(sizeof(ev_uint16_t) == 2u);
  BOOST_TEST(sizeof(ev_int8_t) == 1u);
  BOOST_TEST(sizeof(ev_off_t) == 8u);
  BOOST_TEST(sizeof(ev_uintptr_t) == sizeof(void*));
  BOOST_TEST(sizeof(ev_ssize_t) == sizeof(size_t));
  BOOST_TEST((std::is_same<ev_socklen_t, socklen_t>::value));
  BOOST_TEST((std::is_same<ev_off_t, std::int64_t>::value));
  BOOST_TEST((std::is_same<evutil_socket_t, int>::value));
  BOOST_TEST(EV_SIZE_MAX == SIZE_MAX);
  BOOST_TEST(EV_SSIZE_MAX == static_cast<ev_ssize_t>(SIZE_MAX / 2));
  BOOST_TEST(EV_SSIZE_MIN == -EV_SSIZE_MAX - 1);
  BOOST_TEST(EV_INT64_MIN == INT64_MIN);
  BOOST_TEST(EV_UINT16_MAX == 65535u);
  BOOST_TEST(EVUTIL_INVALID_SOCKET == -1);
#ifndef ev_uint64_t
  BOOST_ERROR("ev_uint64_t should be a macro, as in libevent");
#endif
}

// ---- evasio only ---------------------------------------------------------------------

#ifdef EVUTIL_TEST_EVASIO

// libevent 2.1.12 defines these only internally; evasio provides them.
BOOST_AUTO_TEST_CASE(shut_constants_match_shutdown) {
  BOOST_TEST(EVUTIL_SHUT_RD == SHUT_RD);
  BOOST_TEST(EVUTIL_SHUT_WR == SHUT_WR);
  BOOST_TEST(EVUTIL_SHUT_BOTH == SHUT_RDWR);
  int sv[2];
  BOOST_REQUIRE(evutil_socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  BOOST_TEST(::shutdown(sv[0], EVUTIL_SHUT_WR) == 0);
  char c;
  BOOST_TEST(::read(sv[1], &c, 1) == 0);  // EOF
  ::close(sv[0]);
  ::close(sv[1]);
}

BOOST_AUTO_TEST_CASE(failures_set_errno) {
  unsigned char out[16];
  char text[8];
  errno = 0;
  BOOST_TEST(evutil_inet_pton(AF_UNIX, "1.2.3.4", out) == -1);
  BOOST_TEST(errno == EAFNOSUPPORT);
  errno = 0;
  BOOST_TEST(evutil_inet_ntop(AF_UNIX, out, text, sizeof text) == nullptr);
  BOOST_TEST(errno == EAFNOSUPPORT);
  const in6_addr a = v6("2001:db8::1");
  errno = 0;
  BOOST_TEST(evutil_inet_ntop(AF_INET6, &a, text, sizeof text) == nullptr);
  BOOST_TEST(errno == ENOSPC);
  errno = 0;
  BOOST_TEST(parse("1.2.3.4:0").rc == -1);
  BOOST_TEST(errno == EINVAL);
  errno = 0;
  BOOST_TEST(parse("1.2.3.4:80", 4).rc == -1);
  BOOST_TEST(errno == ENOSPC);
  errno = 1234;
  BOOST_TEST(parse("[fe80::1%7]:80").rc == 0);
  BOOST_TEST(errno == 1234);  // success leaves errno alone
}

BOOST_AUTO_TEST_CASE(null_pointers_fail_with_einval) {
  unsigned char out[16];
  char text[64];
  unsigned index = 0;
  int len = sizeof(sockaddr_storage);
  sockaddr_storage ss;
  const sockaddr_storage x = sa4("1.2.3.4", 1);
  char* end = text;
  auto einval = [](auto r, decltype(r) expected) {
    const bool ok = (r == expected && errno == EINVAL);
    errno = 0;
    return ok;
  };
  errno = 0;
  BOOST_TEST(einval(evutil_inet_pton(AF_INET, nullptr, out), -1));
  BOOST_TEST(einval(evutil_inet_pton(AF_INET, "1.2.3.4", nullptr), -1));
  BOOST_TEST(einval(evutil_inet_pton_scope(AF_INET6, "::1", out, nullptr), -1));
  BOOST_TEST(einval(evutil_inet_pton_scope(AF_INET6, nullptr, out, &index), -1));
  BOOST_TEST(einval(evutil_inet_ntop(AF_INET, nullptr, text, sizeof text), static_cast<const char*>(nullptr)));
  BOOST_TEST(einval(evutil_inet_ntop(AF_INET, out, nullptr, 16), static_cast<const char*>(nullptr)));
  BOOST_TEST(einval(evutil_parse_sockaddr_port(nullptr, reinterpret_cast<sockaddr*>(&ss), &len), -1));
  BOOST_TEST(einval(evutil_parse_sockaddr_port("1.2.3.4", nullptr, &len), -1));
  BOOST_TEST(einval(evutil_parse_sockaddr_port("1.2.3.4", reinterpret_cast<sockaddr*>(&ss), nullptr), -1));
  BOOST_TEST(einval(evutil_sockaddr_cmp(nullptr, reinterpret_cast<const sockaddr*>(&x), 1), -1));
  BOOST_TEST(einval(evutil_sockaddr_cmp(reinterpret_cast<const sockaddr*>(&x), nullptr, 0), -1));
  BOOST_TEST(einval(evutil_ascii_strcasecmp(nullptr, "a"), -1));
  BOOST_TEST(einval(evutil_ascii_strcasecmp("a", nullptr), -1));
  BOOST_TEST(einval(evutil_ascii_strncasecmp(nullptr, "a", 3), -1));
  BOOST_TEST(evutil_ascii_strncasecmp(nullptr, nullptr, 0) == 0);  // n == 0 reads nothing
  BOOST_TEST(einval(evutil_strtoll(nullptr, &end, 10), static_cast<ev_int64_t>(0)));
  BOOST_TEST(end == nullptr);
  BOOST_TEST(einval(evutil_snprintf(nullptr, 8, "%d", 1), -1));
  const char* no_format = nullptr;
  BOOST_TEST(einval(call_vsnprintf(text, sizeof text, no_format), -1));
  BOOST_TEST(text[0] == '\0');
}

#endif // EVUTIL_TEST_EVASIO

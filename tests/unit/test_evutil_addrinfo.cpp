// event2/util.h name resolution: evutil_getaddrinfo, evutil_freeaddrinfo,
// evutil_gai_strerror and their constants, with libevent 2.1.12's semantics
// (its regress_util.c "getaddrinfo" cases, ported, and more).
//
// Only numeric names and names /etc/hosts answers ("localhost") are looked
// up, so nothing here waits for DNS. The file builds against real libevent
// too; cases under EVASIO_VERSION are what libevent leaves undefined (a NULL
// res or list crashes it).
#define BOOST_TEST_MODULE evutil_addrinfo
#include <boost/test/unit_test.hpp>

#include <event2/event.h>
#include <event2/util.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace {

// One entry of a result list, as comparable values.
struct entry {
  int family, socktype, protocol, flags;
  std::string address;
  unsigned port;
  unsigned scope;
  std::string canonname;
};

entry describe(const evutil_addrinfo& ai) {
  entry e{ai.ai_family, ai.ai_socktype, ai.ai_protocol, ai.ai_flags, "", 0, 0,
          ai.ai_canonname ? ai.ai_canonname : ""};
  char text[INET6_ADDRSTRLEN] = "";
  if (ai.ai_addr->sa_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(ai.ai_addr);
    BOOST_TEST(ai.ai_addrlen == sizeof(sockaddr_in));
    ::inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
    e.port = ntohs(sin->sin_port);
  } else if (ai.ai_addr->sa_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai.ai_addr);
    BOOST_TEST(ai.ai_addrlen == sizeof(sockaddr_in6));
    ::inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
    e.port = ntohs(sin6->sin6_port);
    e.scope = sin6->sin6_scope_id;
  }
  e.address = text;
  return e;
}

// The result of one call: its code and its list, freed here.
struct lookup {
  int rc = 1;
  std::vector<entry> entries;
  bool list_set = false;
};

evutil_addrinfo hints_of(int family, int socktype, int protocol, int flags) {
  evutil_addrinfo h;
  std::memset(&h, 0, sizeof h);
  h.ai_family = family;
  h.ai_socktype = socktype;
  h.ai_protocol = protocol;
  h.ai_flags = flags;
  return h;
}

lookup resolve(const char* node, const char* serv, const evutil_addrinfo* hints) {
  lookup l;
  evutil_addrinfo* ai = nullptr;
  l.rc = evutil_getaddrinfo(node, serv, hints, &ai);
  l.list_set = ai != nullptr;
  for (const evutil_addrinfo* p = ai; p; p = p->ai_next)
    l.entries.push_back(describe(*p));
  if (ai)
    evutil_freeaddrinfo(ai);
  return l;
}

lookup resolve(const char* node, const char* serv, int family, int socktype, int protocol,
               int flags) {
  const evutil_addrinfo h = hints_of(family, socktype, protocol, flags);
  return resolve(node, serv, &h);
}

const entry* find(const lookup& l, int family, int protocol) {
  for (const entry& e : l.entries)
    if (e.family == family && e.protocol == protocol)
      return &e;
  return nullptr;
}

} // namespace

// ---- types and constants -------------------------------------------------------

BOOST_AUTO_TEST_CASE(evutil_addrinfo_is_the_c_library_addrinfo) {
  BOOST_TEST((std::is_same<struct evutil_addrinfo, struct addrinfo>::value));
}

BOOST_AUTO_TEST_CASE(eai_codes_are_the_c_library_codes) {
  BOOST_TEST(EVUTIL_EAI_ADDRFAMILY == EAI_ADDRFAMILY);
  BOOST_TEST(EVUTIL_EAI_AGAIN == EAI_AGAIN);
  BOOST_TEST(EVUTIL_EAI_BADFLAGS == EAI_BADFLAGS);
  BOOST_TEST(EVUTIL_EAI_FAIL == EAI_FAIL);
  BOOST_TEST(EVUTIL_EAI_FAMILY == EAI_FAMILY);
  BOOST_TEST(EVUTIL_EAI_MEMORY == EAI_MEMORY);
  BOOST_TEST(EVUTIL_EAI_NODATA == EAI_NODATA);
  BOOST_TEST(EVUTIL_EAI_NONAME == EAI_NONAME);
  BOOST_TEST(EVUTIL_EAI_SERVICE == EAI_SERVICE);
  BOOST_TEST(EVUTIL_EAI_SOCKTYPE == EAI_SOCKTYPE);
  BOOST_TEST(EVUTIL_EAI_SYSTEM == EAI_SYSTEM);
}

BOOST_AUTO_TEST_CASE(eai_cancel_is_libevents_own_code) {
  BOOST_TEST(EVUTIL_EAI_CANCEL == -90001);
}

BOOST_AUTO_TEST_CASE(ai_flags_are_the_c_library_flags) {
  BOOST_TEST(EVUTIL_AI_PASSIVE == AI_PASSIVE);
  BOOST_TEST(EVUTIL_AI_CANONNAME == AI_CANONNAME);
  BOOST_TEST(EVUTIL_AI_NUMERICHOST == AI_NUMERICHOST);
  BOOST_TEST(EVUTIL_AI_NUMERICSERV == AI_NUMERICSERV);
  BOOST_TEST(EVUTIL_AI_V4MAPPED == AI_V4MAPPED);
  BOOST_TEST(EVUTIL_AI_ALL == AI_ALL);
  BOOST_TEST(EVUTIL_AI_ADDRCONFIG == AI_ADDRCONFIG);
}

// ---- numeric hosts and services ------------------------------------------------

BOOST_AUTO_TEST_CASE(numeric_ipv4_with_a_socket_type_gives_one_entry) {
  const lookup l = resolve("1.2.3.4", "8080", AF_UNSPEC, SOCK_STREAM, 0, 0);
  BOOST_REQUIRE(l.rc == 0);
  BOOST_REQUIRE(l.entries.size() == 1u);
  const entry& e = l.entries[0];
  BOOST_TEST(e.family == AF_INET);
  BOOST_TEST(e.socktype == SOCK_STREAM);
  BOOST_TEST(e.protocol == IPPROTO_TCP);
  BOOST_TEST(e.address == "1.2.3.4");
  BOOST_TEST(e.port == 8080u);
}

BOOST_AUTO_TEST_CASE(udp_protocol_hint_implies_datagram_sockets) {
  const lookup l = resolve("1001:b0b::f00f", "4321", AF_UNSPEC, 0, IPPROTO_UDP, 0);
  BOOST_REQUIRE(l.rc == 0);
  BOOST_REQUIRE(l.entries.size() == 1u);
  BOOST_TEST(l.entries[0].family == AF_INET6);
  BOOST_TEST(l.entries[0].socktype == SOCK_DGRAM);
  BOOST_TEST(l.entries[0].address == "1001:b0b::f00f");
  BOOST_TEST(l.entries[0].port == 4321u);
}

// The type and protocol left open: one entry per kind of socket, stream
// (TCP) first, then datagram (UDP), then raw, as glibc gives under libevent.
BOOST_AUTO_TEST_CASE(open_socket_type_gives_stream_then_datagram_then_raw) {
  const lookup l = resolve("1.2.3.4", "80", AF_UNSPEC, 0, 0, 0);
  BOOST_REQUIRE(l.rc == 0);
  BOOST_REQUIRE(l.entries.size() == 3u);
  BOOST_TEST(l.entries[0].socktype == SOCK_STREAM);
  BOOST_TEST(l.entries[0].protocol == IPPROTO_TCP);
  BOOST_TEST(l.entries[1].socktype == SOCK_DGRAM);
  BOOST_TEST(l.entries[1].protocol == IPPROTO_UDP);
  BOOST_TEST(l.entries[2].socktype == SOCK_RAW);
  for (const entry& e : l.entries) {
    BOOST_TEST(e.address == "1.2.3.4");
    BOOST_TEST(e.port == 80u);
  }
}

BOOST_AUTO_TEST_CASE(numerichost_accepts_an_address_without_a_service) {
  const lookup l = resolve("1.2.3.4", nullptr, AF_UNSPEC, 0, 0, EVUTIL_AI_NUMERICHOST);
  BOOST_REQUIRE(l.rc == 0);
  BOOST_REQUIRE(find(l, AF_INET, IPPROTO_TCP));
  BOOST_REQUIRE(find(l, AF_INET, IPPROTO_UDP));
  BOOST_TEST(find(l, AF_INET, IPPROTO_TCP)->port == 0u);
  BOOST_TEST(find(l, AF_INET, IPPROTO_UDP)->socktype == SOCK_DGRAM);
}

BOOST_AUTO_TEST_CASE(numerichost_refuses_a_name_and_leaves_the_list_null) {
  const lookup l = resolve("www.example.com", "80", AF_UNSPEC, 0, 0, EVUTIL_AI_NUMERICHOST);
  BOOST_TEST(l.rc == EVUTIL_EAI_NONAME);
  BOOST_TEST(!l.list_set);
}

BOOST_AUTO_TEST_CASE(numericserv_refuses_a_service_name) {
  const lookup l = resolve("1.2.3.4", "http", AF_UNSPEC, SOCK_STREAM, 0, EVUTIL_AI_NUMERICSERV);
  BOOST_TEST(l.rc == EVUTIL_EAI_NONAME);
}

BOOST_AUTO_TEST_CASE(service_names_are_looked_up) {
  const lookup l = resolve("1.2.3.4", "http", AF_UNSPEC, SOCK_STREAM, 0, 0);
  BOOST_REQUIRE(l.rc == 0);
  BOOST_REQUIRE(l.entries.size() == 1u);
  BOOST_TEST(l.entries[0].port == 80u);
}

BOOST_AUTO_TEST_CASE(unknown_service_name_is_eai_service) {
  BOOST_TEST(resolve("1.2.3.4", "no-such-service", AF_UNSPEC, SOCK_STREAM, 0, 0).rc ==
             EVUTIL_EAI_SERVICE);
}

BOOST_AUTO_TEST_CASE(ipv6_zone_gives_the_scope_id) {
  const lookup l = resolve("fe80::1%1", "80", AF_INET6, SOCK_STREAM, 0, EVUTIL_AI_NUMERICHOST);
  BOOST_REQUIRE(l.rc == 0);
  BOOST_REQUIRE(l.entries.size() == 1u);
  BOOST_TEST(l.entries[0].address == "fe80::1");
  BOOST_TEST(l.entries[0].scope == 1u);
}

BOOST_AUTO_TEST_CASE(v4mapped_maps_an_ipv4_address_into_ipv6) {
  BOOST_TEST(resolve("1.2.3.4", "80", AF_INET6, SOCK_STREAM, 0, 0).rc == EVUTIL_EAI_ADDRFAMILY);
  const lookup l = resolve("1.2.3.4", "80", AF_INET6, SOCK_STREAM, 0, EVUTIL_AI_V4MAPPED);
  BOOST_REQUIRE(l.rc == 0);
  BOOST_REQUIRE(l.entries.size() == 1u);
  BOOST_TEST(l.entries[0].family == AF_INET6);
  BOOST_TEST(l.entries[0].address == "::ffff:1.2.3.4");
}

BOOST_AUTO_TEST_CASE(addrconfig_with_passive_still_takes_loopback_literals) {
  const int flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_ADDRCONFIG;
  const lookup l = resolve("127.0.0.1", "80", AF_UNSPEC, SOCK_STREAM, 0, flags);
  BOOST_REQUIRE(l.rc == 0);
  BOOST_REQUIRE(l.entries.size() == 1u);
  BOOST_TEST(l.entries[0].address == "127.0.0.1");
  BOOST_TEST(l.entries[0].port == 80u);
}

// ---- NULL nodename -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(null_node_passive_gives_the_ipv4_wildcard) {
  const lookup l = resolve(nullptr, "9999", AF_INET, 0, IPPROTO_TCP, EVUTIL_AI_PASSIVE);
  BOOST_REQUIRE(l.rc == 0);
  BOOST_REQUIRE(l.entries.size() == 1u);
  BOOST_TEST(l.entries[0].address == "0.0.0.0");
  BOOST_TEST(l.entries[0].port == 9999u);
  BOOST_TEST(l.entries[0].socktype == SOCK_STREAM);
}

BOOST_AUTO_TEST_CASE(null_node_without_passive_gives_the_ipv4_loopback) {
  const lookup l = resolve(nullptr, "9998", AF_INET, 0, IPPROTO_TCP, 0);
  BOOST_REQUIRE(l.rc == 0);
  BOOST_REQUIRE(l.entries.size() == 1u);
  BOOST_TEST(l.entries[0].address == "127.0.0.1");
  BOOST_TEST(l.entries[0].port == 9998u);
}

BOOST_AUTO_TEST_CASE(null_node_without_passive_gives_the_ipv6_loopback) {
  const lookup l = resolve(nullptr, "9997", AF_INET6, 0, IPPROTO_TCP, 0);
  BOOST_REQUIRE(l.rc == 0);
  BOOST_REQUIRE(l.entries.size() == 1u);
  BOOST_TEST(l.entries[0].address == "::1");
}

BOOST_AUTO_TEST_CASE(null_node_passive_gives_the_ipv6_wildcard) {
  const lookup l = resolve(nullptr, "9996", AF_INET6, 0, IPPROTO_TCP, EVUTIL_AI_PASSIVE);
  BOOST_REQUIRE(l.rc == 0);
  BOOST_REQUIRE(l.entries.size() == 1u);
  BOOST_TEST(l.entries[0].address == "::");
}

BOOST_AUTO_TEST_CASE(null_node_passive_any_family_gives_both_wildcards) {
  const lookup l = resolve(nullptr, "9996", AF_UNSPEC, 0, IPPROTO_TCP, EVUTIL_AI_PASSIVE);
  BOOST_REQUIRE(l.rc == 0);
  BOOST_REQUIRE(find(l, AF_INET, IPPROTO_TCP));
  BOOST_REQUIRE(find(l, AF_INET6, IPPROTO_TCP));
  BOOST_TEST(find(l, AF_INET, IPPROTO_TCP)->address == "0.0.0.0");
  BOOST_TEST(find(l, AF_INET6, IPPROTO_TCP)->address == "::");
}

// ---- names -----------------------------------------------------------------------

// Whether the C library itself resolves "localhost" (a minimal root may
// have no /etc/hosts): if not, evutil_getaddrinfo must fail as it does.
bool system_knows_localhost(const lookup& l) {
  struct addrinfo hints {};
  hints.ai_family = AF_INET;
  struct addrinfo* res = nullptr;
  const int rc = ::getaddrinfo("localhost", nullptr, &hints, &res);
  if (res)
    ::freeaddrinfo(res);
  if (rc != 0) {
    BOOST_TEST_MESSAGE("the C library does not resolve localhost here (no /etc/hosts?)");
    BOOST_TEST(l.rc != 0);
  }
  return rc == 0;
}

BOOST_AUTO_TEST_CASE(localhost_resolves_to_the_ipv4_loopback) {
  const lookup l = resolve("localhost", "80", AF_INET, SOCK_STREAM, 0, 0);
  if (!system_knows_localhost(l))
    return;
  BOOST_REQUIRE(l.rc == 0);
  BOOST_REQUIRE(!l.entries.empty());
  BOOST_TEST(l.entries[0].address == "127.0.0.1");
  BOOST_TEST(l.entries[0].port == 80u);
}

BOOST_AUTO_TEST_CASE(canonname_is_set_on_the_first_entry_only) {
  const lookup l = resolve("localhost", nullptr, AF_INET, 0, 0, EVUTIL_AI_CANONNAME);
  if (!system_knows_localhost(l))
    return;
  BOOST_REQUIRE(l.rc == 0);
  BOOST_REQUIRE(l.entries.size() >= 2u);
  BOOST_TEST(l.entries[0].canonname == "localhost");
  BOOST_TEST(l.entries[1].canonname == "");
}

// ---- hints -------------------------------------------------------------------------

// No hints is AF_UNSPEC with no flags: glibc's own default for NULL hints
// (AI_V4MAPPED | AI_ADDRCONFIG, which it copies into every entry) is not used.
BOOST_AUTO_TEST_CASE(null_hints_mean_any_family_and_no_flags) {
  const lookup l = resolve("127.0.0.1", "80", nullptr);
  BOOST_REQUIRE(l.rc == 0);
  BOOST_REQUIRE(l.entries.size() == 3u);
  for (const entry& e : l.entries)
    BOOST_TEST(e.flags == 0);
}

// ---- bad input -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(null_node_and_service_is_eai_noname) {
  BOOST_TEST(resolve(nullptr, nullptr, AF_UNSPEC, 0, 0, 0).rc == EVUTIL_EAI_NONAME);
  BOOST_TEST(resolve(nullptr, nullptr, nullptr).rc == EVUTIL_EAI_NONAME);
}

BOOST_AUTO_TEST_CASE(unknown_family_is_eai_family) {
  BOOST_TEST(resolve("1.2.3.4", "80", 12345, 0, 0, 0).rc == EVUTIL_EAI_FAMILY);
  BOOST_TEST(resolve("1.2.3.4", "80", AF_UNIX, 0, 0, 0).rc == EVUTIL_EAI_FAMILY);
}

BOOST_AUTO_TEST_CASE(unknown_flags_are_eai_badflags) {
  BOOST_TEST(resolve("1.2.3.4", "80", AF_UNSPEC, 0, 0, 0x40000000).rc == EVUTIL_EAI_BADFLAGS);
  BOOST_TEST(resolve("1.2.3.4", "80", AF_UNSPEC, 0, 0, -1).rc == EVUTIL_EAI_BADFLAGS);
}

BOOST_AUTO_TEST_CASE(canonname_without_a_node_is_eai_badflags) {
  BOOST_TEST(resolve(nullptr, "80", AF_UNSPEC, 0, 0, EVUTIL_AI_CANONNAME).rc ==
             EVUTIL_EAI_BADFLAGS);
}

BOOST_AUTO_TEST_CASE(unknown_socket_type_is_eai_socktype) {
  BOOST_TEST(resolve("1.2.3.4", "80", AF_UNSPEC, 12345, 0, 0).rc == EVUTIL_EAI_SOCKTYPE);
  BOOST_TEST(resolve("1.2.3.4", "80", AF_UNSPEC, SOCK_DGRAM, IPPROTO_TCP, 0).rc ==
             EVUTIL_EAI_SOCKTYPE);
}

#ifdef EVASIO_VERSION
BOOST_AUTO_TEST_CASE(null_result_pointer_is_eai_system_with_einval) {
  evutil_addrinfo h = hints_of(AF_UNSPEC, SOCK_STREAM, 0, 0);
  errno = 0;
  BOOST_TEST(evutil_getaddrinfo("1.2.3.4", "80", &h, nullptr) == EVUTIL_EAI_SYSTEM);
  BOOST_TEST(errno == EINVAL);
}

BOOST_AUTO_TEST_CASE(freeing_a_null_list_does_nothing) {
  evutil_freeaddrinfo(nullptr);
  BOOST_TEST(true);
}
#endif

// ---- evutil_gai_strerror -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(gai_strerror_has_libevents_text_for_its_codes) {
  BOOST_TEST(std::string(evutil_gai_strerror(0)) == "No error");
  BOOST_TEST(std::string(evutil_gai_strerror(EVUTIL_EAI_CANCEL)) == "Request canceled");
  BOOST_TEST(std::string(evutil_gai_strerror(EVUTIL_EAI_NONAME)) ==
             "nodename nor servname provided, or not known");
  BOOST_TEST(std::string(evutil_gai_strerror(EVUTIL_EAI_FAMILY)) == "ai_family not supported");
  BOOST_TEST(std::string(evutil_gai_strerror(EVUTIL_EAI_SYSTEM)) == "system error");
  BOOST_TEST(std::string(evutil_gai_strerror(EVUTIL_EAI_BADFLAGS)) ==
             "invalid value for ai_flags");
}

BOOST_AUTO_TEST_CASE(gai_strerror_asks_the_c_library_for_other_codes) {
  for (int code : {-100, -101, -104, 1, 12345, -907})
    BOOST_TEST(std::string(evutil_gai_strerror(code)) == ::gai_strerror(code), "code " << code);
}

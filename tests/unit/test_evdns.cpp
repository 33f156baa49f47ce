// The evdns client (event2/dns.h) as libevent 2.1.12 behaves, against a real
// dnsmasq on 127.0.0.1 (and, where a case must see the queries themselves,
// the tests' own responder, hostile_dns). Every case also passes against
// real libevent: where libevent's behaviour is surprising it is still the
// expectation, and the comment says so.
#define BOOST_TEST_MODULE evdns
#include <boost/test/unit_test.hpp>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "dns.hpp"
#include "fixtures.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace nettest;
using namespace dnstest;
namespace utf = boost::unit_test;

namespace {

// ---- the zone dnsmasq serves ------------------------------------------------

const std::vector<std::string>& zone() {
  static const std::vector<std::string> z = {
      "--local=/example/",  // any other name under example: NXDOMAIN
      "--local-ttl=77",
      "--host-record=both.example,10.0.0.2,fd00::2",
      "--host-record=v4only.example,10.0.0.3",
      "--host-record=v6only.example,fd00::6",
      "--host-record=loop.example,127.0.0.1",
      "--address=/multi.example/10.0.0.11",
      "--address=/multi.example/10.0.0.12",
      "--address=/multi.example/10.0.0.13",
      "--address=/nx.example/",
      "--cname=alias.example,both.example",
      "--ptr-record=4.3.2.1.in-addr.arpa,ptr.example",
      "--local=/10.in-addr.arpa/",  // reverse of 10/8 without a record: NXDOMAIN
      "--txt-record=txt.example,hello",
  };
  return z;
}

// One dnsmasq for the whole run (started once: about 50 ms), if installed.
dnsmasq_server* the_zone = nullptr;

struct ZoneServer {
  ZoneServer() {
    if (dnsmasq_available())
      the_zone = new dnsmasq_server(zone());
  }
  ~ZoneServer() {
    delete the_zone;
    the_zone = nullptr;
  }
};
BOOST_TEST_GLOBAL_FIXTURE(ZoneServer);

// libevent's evdns logs every nameserver it gives up on; the cases provoke
// that on purpose, so the log goes here instead of stderr.
std::vector<std::string>& dns_log() {
  static std::vector<std::string> v;
  return v;
}
void quiet_log(int, const char* msg) { dns_log().push_back(msg); }
struct QuietDnsLog {
  QuietDnsLog() { evdns_set_log_fn(quiet_log); }
};
BOOST_TEST_GLOBAL_FIXTURE(QuietDnsLog);

// ---- callbacks ----------------------------------------------------------------

// >0 while the test is inside an evdns call: a callback that sees it ran
// from inside the call instead of from the loop.
int inside_call = 0;

template <class F>
auto calling(F f) {
  ++inside_call;
  auto r = f();
  --inside_call;
  return r;
}

std::string ntop(int family, const void* p) {
  char buf[INET6_ADDRSTRLEN] = "";
  ::inet_ntop(family, p, buf, sizeof buf);
  return buf;
}

// What one evdns_callback_type call delivered.
struct Lookup {
  int calls = 0;
  int result = -1;
  char type = 0;
  int count = -1;
  int ttl = -1;
  bool addresses_null = false;
  std::vector<std::string> addrs;  // text form, or the PTR name
  bool ran_inside_call = false;
  // What to do from the callback.
  evdns_base** free_base_from_callback = nullptr;

  bool done() const { return calls > 0; }
  std::set<std::string> addr_set() const { return {addrs.begin(), addrs.end()}; }
};

void lookup_cb(int result, char type, int count, int ttl, void* addresses, void* arg) {
  auto* l = static_cast<Lookup*>(arg);
  ++l->calls;
  l->result = result;
  l->type = type;
  l->count = count;
  l->ttl = ttl;
  l->addresses_null = addresses == nullptr;
  l->ran_inside_call = l->ran_inside_call || inside_call > 0;
  l->addrs.clear();
  if (result == DNS_ERR_NONE && addresses) {
    for (int i = 0; i < count; ++i) {
      if (type == DNS_IPv4_A)
        l->addrs.push_back(ntop(AF_INET, static_cast<const char*>(addresses) + 4 * i));
      else if (type == DNS_IPv6_AAAA)
        l->addrs.push_back(ntop(AF_INET6, static_cast<const char*>(addresses) + 16 * i));
      else if (type == DNS_PTR)
        l->addrs.push_back(static_cast<char**>(addresses)[i]);
    }
  }
  if (l->free_base_from_callback && *l->free_base_from_callback) {
    evdns_base_free(*l->free_base_from_callback, 0);
    *l->free_base_from_callback = nullptr;
  }
}

// One entry of an evutil_addrinfo list.
struct AddrEntry {
  int family = 0;
  int socktype = 0;
  int protocol = 0;
  std::string addr;
  unsigned port = 0;
};

// What one evdns_getaddrinfo_cb call delivered (the list is freed in it).
struct GaiResult {
  int calls = 0;
  int err = -1000;
  bool res_null = true;
  std::vector<AddrEntry> entries;
  std::string canonname;
  bool ran_inside_call = false;

  bool done() const { return calls > 0; }
  std::set<std::string> addr_set() const {
    std::set<std::string> s;
    for (const auto& e : entries)
      s.insert(e.addr);
    return s;
  }
};

void gai_cb(int err, evutil_addrinfo* res, void* arg) {
  auto* g = static_cast<GaiResult*>(arg);
  ++g->calls;
  g->err = err;
  g->res_null = res == nullptr;
  g->ran_inside_call = g->ran_inside_call || inside_call > 0;
  for (evutil_addrinfo* ai = res; ai; ai = ai->ai_next) {
    AddrEntry e;
    e.family = ai->ai_family;
    e.socktype = ai->ai_socktype;
    e.protocol = ai->ai_protocol;
    if (ai->ai_family == AF_INET) {
      auto* sin = reinterpret_cast<sockaddr_in*>(ai->ai_addr);
      e.addr = ntop(AF_INET, &sin->sin_addr);
      e.port = ntohs(sin->sin_port);
    } else if (ai->ai_family == AF_INET6) {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(ai->ai_addr);
      e.addr = ntop(AF_INET6, &sin6->sin6_addr);
      e.port = ntohs(sin6->sin6_port);
    }
    if (ai == res && ai->ai_canonname)
      g->canonname = ai->ai_canonname;
    g->entries.push_back(e);
  }
  if (res)
    evutil_freeaddrinfo(res);
}

// ---- the loop -----------------------------------------------------------------

// The loop: fixtures.hpp's loop_until and loop_for.

// ---- files ----------------------------------------------------------------------

// A file under /tmp with the given text, removed at scope exit.
class TempFile {
public:
  explicit TempFile(const std::string& text) {
    static std::atomic<unsigned> n{0};
    path_ = "/tmp/evasio-evdns-" + std::to_string(::getpid()) + "-" + std::to_string(n.fetch_add(1)) + ".txt";
    std::ofstream out(path_);
    out << text;
  }
  ~TempFile() { ::unlink(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const char* path() const { return path_.c_str(); }

private:
  std::string path_;
};

// The nameserver at idx as "a.b.c.d:port" or "[v6]:port", or "" if none.
std::string nameserver_at(evdns_base* d, int idx) {
  sockaddr_storage ss{};
  const int n = evdns_base_get_nameserver_addr(d, idx, reinterpret_cast<sockaddr*>(&ss), sizeof ss);
  if (n <= 0)
    return "";
  if (ss.ss_family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    return ntop(AF_INET, &sin->sin_addr) + ":" + std::to_string(ntohs(sin->sin_port));
  }
  if (ss.ss_family == AF_INET6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    return "[" + ntop(AF_INET6, &sin6->sin6_addr) + "]:" + std::to_string(ntohs(sin6->sin6_port));
  }
  return "?";
}

// ---- fixtures -----------------------------------------------------------------

// A case on a fresh event_base with an evdns_base on it (no nameserver
// unless the case adds one), under a safety alarm; once both are freed the
// process has the fds it had before (the fd-leak check).
struct DnsCase {
  SafetyAlarm alarm{20, current_test_name()};
  int fds_at_start = count_open_fds();
  event_base* base = event_base_new();
  evdns_base* dns = nullptr;

  DnsCase() {
    ignore_sigpipe();
    BOOST_TEST_REQUIRE(base != nullptr);
    dns = evdns_base_new(base, 0);
    BOOST_TEST_REQUIRE(dns != nullptr);
  }
  ~DnsCase() {
    // No loop runs past here: a case that stopped early may have left
    // callbacks aimed at its (gone) locals.
    if (dns)
      evdns_base_free(dns, 0);
    event_base_free(base);
    BOOST_TEST(count_open_fds() == fds_at_start);
  }
  DnsCase(const DnsCase&) = delete;
  DnsCase& operator=(const DnsCase&) = delete;

  void free_dns(int fail_requests) {
    evdns_base_free(dns, fail_requests);
    dns = nullptr;
  }
};

// DnsCase with the zone's dnsmasq as its one nameserver.
struct ZoneCase : DnsCase {
  ZoneCase() {
    BOOST_TEST_REQUIRE(the_zone != nullptr);
    BOOST_TEST_REQUIRE(the_zone->running());
    BOOST_TEST_REQUIRE(evdns_base_nameserver_ip_add(dns, the_zone->address_string().c_str()) == 0);
  }
};

// DnsCase with a hostile_dns of its own as the one nameserver (made before
// the fd count, so only the client's fds are counted).
struct HostileHolder {
  hostile_dns server;
};
struct HostileCase : HostileHolder, DnsCase {
  HostileCase() {
    BOOST_TEST_REQUIRE(evdns_base_nameserver_ip_add(dns, server.address_string().c_str()) == 0);
    // Cases here are about names and order, not timing: no retransmits.
    BOOST_TEST_REQUIRE(evdns_base_set_option(dns, "timeout:", "0.3") == 0);
    BOOST_TEST_REQUIRE(evdns_base_set_option(dns, "attempts:", "1") == 0);
  }
};

const auto needs_dnsmasq = utf::precondition(dnsmasq_present());

Lookup resolve4(event_base* base, evdns_base* dns, const char* name, int flags = 0) {
  Lookup l;
  evdns_request* r = calling([&] { return evdns_base_resolve_ipv4(dns, name, flags, lookup_cb, &l); });
  BOOST_TEST(r != nullptr);
  BOOST_TEST(loop_until(base, [&] { return l.done(); }));
  return l;
}

Lookup resolve6(event_base* base, evdns_base* dns, const char* name, int flags = 0) {
  Lookup l;
  evdns_request* r = calling([&] { return evdns_base_resolve_ipv6(dns, name, flags, lookup_cb, &l); });
  BOOST_TEST(r != nullptr);
  BOOST_TEST(loop_until(base, [&] { return l.done(); }));
  return l;
}

evutil_addrinfo hints_for(int family, int socktype = SOCK_STREAM, int flags = 0) {
  evutil_addrinfo h;
  std::memset(&h, 0, sizeof h);
  h.ai_family = family;
  h.ai_socktype = socktype;
  h.ai_flags = flags;
  return h;
}

} // namespace

// ================================================================================
BOOST_AUTO_TEST_SUITE(base_setup)

BOOST_AUTO_TEST_CASE(a_base_made_without_initialize_has_no_nameservers) {
  DnsCase c;
  BOOST_TEST(evdns_base_count_nameservers(c.dns) == 0);
  BOOST_TEST(nameserver_at(c.dns, 0) == "");
}

// The distinct nameservers of /etc/resolv.conf as "a.b.c.d:53" or
// "[v6]:53", in file order.
std::vector<std::string> etc_resolv_conf_nameservers() {
  std::vector<std::string> found;
  std::ifstream in("/etc/resolv.conf");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string key, value;
    ls >> key >> value;
    if (key != "nameserver" || value.empty())
      continue;
    in_addr a4;
    in6_addr a6;
    std::string text;
    if (::inet_pton(AF_INET, value.c_str(), &a4) == 1)
      text = value + ":53";
    else if (::inet_pton(AF_INET6, value.c_str(), &a6) == 1)
      text = "[" + ntop(AF_INET6, &a6) + "]:53";
    else
      continue;
    if (std::find(found.begin(), found.end(), text) == found.end())
      found.push_back(text);
  }
  return found;
}

// evdns_base_new(base, flags) is expected to have read /etc/resolv.conf:
// when that gives no nameserver (or is missing) libevent adds 127.0.0.1:53
// but, the parse having "failed" (codes 6 and 1), evdns_base_new returns
// NULL.
void expect_the_nameservers_of_etc_resolv_conf(int flags) {
  SafetyAlarm alarm{20, current_test_name()};
  const std::vector<std::string> expected = etc_resolv_conf_nameservers();
  Base base;
  evdns_base* dns = evdns_base_new(base, flags);
  if (expected.empty()) {
    BOOST_TEST_MESSAGE("/etc/resolv.conf names no nameserver here");
    BOOST_TEST(dns == nullptr);
    return;
  }
  BOOST_TEST_REQUIRE(dns != nullptr);
  BOOST_TEST(evdns_base_count_nameservers(dns) == static_cast<int>(expected.size()));
  BOOST_TEST(nameserver_at(dns, 0) == expected[0]);
  evdns_base_free(dns, 0);
}

BOOST_AUTO_TEST_CASE(a_base_made_with_initialize_takes_the_nameservers_of_etc_resolv_conf) {
  expect_the_nameservers_of_etc_resolv_conf(EVDNS_BASE_INITIALIZE_NAMESERVERS);
}

// Flags evdns_base_new does not know make it assume
// EVDNS_BASE_INITIALIZE_NAMESERVERS (and log a warning).
BOOST_AUTO_TEST_CASE(unknown_flags_are_taken_for_initialize_nameservers) {
  expect_the_nameservers_of_etc_resolv_conf(0x4);
}

// With EVDNS_BASE_DISABLE_WHEN_INACTIVE the base's loop is not kept
// running by an idle nameserver: event_base_dispatch returns once the
// lookups are done. Without it, it goes on until told to stop.
// (No timer may bound this dispatch: it would keep the loop alive itself;
// a hang is caught by the safety alarm.)
BOOST_AUTO_TEST_CASE(disable_when_inactive_lets_the_loop_end_when_lookups_are_done, *needs_dnsmasq) {
  SafetyAlarm alarm{5, current_test_name()};
  const int fds_at_start = count_open_fds();
  {
    Base base;
    evdns_base* dns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    BOOST_TEST_REQUIRE(dns != nullptr);
    BOOST_TEST_REQUIRE(evdns_base_nameserver_ip_add(dns, the_zone->address_string().c_str()) == 0);
    Lookup l;
    BOOST_TEST(evdns_base_resolve_ipv4(dns, "both.example", 0, lookup_cb, &l) != nullptr);
    BOOST_TEST(event_base_dispatch(base) == 1);  // 1: no events left
    BOOST_TEST(l.calls == 1);
    BOOST_TEST(l.result == DNS_ERR_NONE);
    evdns_base_free(dns, 0);
  }
  BOOST_TEST(count_open_fds() == fds_at_start);
}

BOOST_AUTO_TEST_CASE(without_disable_when_inactive_an_idle_nameserver_keeps_the_loop_running, *needs_dnsmasq) {
  SafetyAlarm alarm{20, current_test_name()};
  Base base;
  evdns_base* dns = evdns_base_new(base, 0);
  BOOST_TEST_REQUIRE(dns != nullptr);
  BOOST_TEST_REQUIRE(evdns_base_nameserver_ip_add(dns, the_zone->address_string().c_str()) == 0);
  Lookup l;
  BOOST_TEST(evdns_base_resolve_ipv4(dns, "both.example", 0, lookup_cb, &l) != nullptr);
  const timeval stop = ms_tv(300);
  event_base_loopexit(base, &stop);
  BOOST_TEST(event_base_dispatch(base) == 0);
  BOOST_TEST(event_base_got_exit(base));
  BOOST_TEST(l.calls == 1);
  evdns_base_free(dns, 0);
}

// libevent's resolv.conf parser hands the nameserver token to
// evdns_base_nameserver_ip_add, so "nameserver 127.0.0.1:N" takes a port
// (no system resolver accepts that form).
BOOST_TEST_DECORATOR(*needs_dnsmasq)
BOOST_AUTO_TEST_CASE(resolv_conf_parse_reads_nameservers_with_a_port) {
  DnsCase c;
  BOOST_TEST_REQUIRE(the_zone != nullptr);
  TempFile conf("# a comment\nnameserver " + the_zone->address_string() + "\n");
  BOOST_TEST(evdns_base_resolv_conf_parse(c.dns, DNS_OPTION_NAMESERVERS, conf.path()) == 0);
  BOOST_TEST(evdns_base_count_nameservers(c.dns) == 1);
  BOOST_TEST(nameserver_at(c.dns, 0) == the_zone->address_string());
  const Lookup l = resolve4(c.base, c.dns, "both.example");
  BOOST_TEST(l.result == DNS_ERR_NONE);
  BOOST_TEST(l.addr_set() == std::set<std::string>{"10.0.0.2"});
}

BOOST_AUTO_TEST_CASE(resolv_conf_parse_of_a_missing_file_returns_1_and_adds_the_local_default) {
  DnsCase c;
  BOOST_TEST(evdns_base_resolv_conf_parse(c.dns, DNS_OPTION_NAMESERVERS, "/nonexistent/resolv.conf") == 1);
  BOOST_TEST(evdns_base_count_nameservers(c.dns) == 1);
  BOOST_TEST(nameserver_at(c.dns, 0) == "127.0.0.1:53");
}

BOOST_AUTO_TEST_CASE(resolv_conf_parse_without_default_leaves_no_nameserver) {
  DnsCase c;
  BOOST_TEST(evdns_base_resolv_conf_parse(c.dns, DNS_OPTION_NAMESERVERS | DNS_OPTION_NAMESERVERS_NO_DEFAULT,
                                          "/nonexistent/resolv.conf") == 1);
  BOOST_TEST(evdns_base_count_nameservers(c.dns) == 0);
}

BOOST_AUTO_TEST_CASE(resolv_conf_parse_of_a_file_without_nameservers_returns_6_and_adds_the_default) {
  DnsCase c;
  TempFile conf("options ndots:2\n");
  BOOST_TEST(evdns_base_resolv_conf_parse(c.dns, DNS_OPTION_NAMESERVERS | DNS_OPTION_MISC, conf.path()) == 6);
  BOOST_TEST(evdns_base_count_nameservers(c.dns) == 1);
  BOOST_TEST(nameserver_at(c.dns, 0) == "127.0.0.1:53");
}

BOOST_AUTO_TEST_CASE(resolv_conf_nameserver_lines_are_ignored_without_the_nameservers_flag) {
  DnsCase c;
  TempFile conf("nameserver 127.0.0.1:5353\n");
  BOOST_TEST(evdns_base_resolv_conf_parse(c.dns, DNS_OPTION_MISC, conf.path()) == 0);
  BOOST_TEST(evdns_base_count_nameservers(c.dns) == 0);
}

BOOST_AUTO_TEST_CASE(nameserver_ip_add_return_codes) {
  DnsCase c;
  BOOST_TEST(evdns_base_nameserver_ip_add(c.dns, "127.0.0.1:5353") == 0);
  BOOST_TEST(evdns_base_nameserver_ip_add(c.dns, "127.0.0.1:5353") == 3);  // already there
  BOOST_TEST(evdns_base_nameserver_ip_add(c.dns, "not an address") == 4);
  BOOST_TEST(evdns_base_nameserver_ip_add(c.dns, "127.0.0.1:99999") == 4);
  BOOST_TEST(evdns_base_count_nameservers(c.dns) == 1);
}

BOOST_AUTO_TEST_CASE(a_nameserver_without_a_port_is_on_port_53) {
  DnsCase c;
  BOOST_TEST(evdns_base_nameserver_ip_add(c.dns, "127.0.0.2") == 0);
  BOOST_TEST(nameserver_at(c.dns, 0) == "127.0.0.2:53");
}

BOOST_AUTO_TEST_CASE(an_ipv6_nameserver_in_brackets_with_a_port) {
  DnsCase c;
  BOOST_TEST(evdns_base_nameserver_ip_add(c.dns, "[::1]:5300") == 0);
  BOOST_TEST(nameserver_at(c.dns, 0) == "[::1]:5300");
}

BOOST_AUTO_TEST_CASE(nameserver_add_takes_an_address_in_network_order_on_port_53) {
  DnsCase c;
  BOOST_TEST(evdns_base_nameserver_add(c.dns, htonl(0x7f000003)) == 0);
  BOOST_TEST(nameserver_at(c.dns, 0) == "127.0.0.3:53");
}

BOOST_AUTO_TEST_CASE(nameserver_sockaddr_add_keeps_the_port) {
  DnsCase c;
  const Addr a = ipv4_loopback(5301);
  BOOST_TEST(evdns_base_nameserver_sockaddr_add(c.dns, a.sa(), a.len, 0) == 0);
  BOOST_TEST(nameserver_at(c.dns, 0) == "127.0.0.1:5301");
}

// An AF_UNIX nameserver: libevent makes a datagram socket for it and adds
// it (nothing would answer there); evasio only asks IPv4 and IPv6 servers
// (c-ares talks to no other) and refuses it with 2, adding nothing.
BOOST_AUTO_TEST_CASE(a_nameserver_that_is_not_ipv4_or_ipv6) {
  DnsCase c;
  sockaddr_un sun;
  std::memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  std::strcpy(sun.sun_path, "/nonexistent-evdns-test");
  const int r = evdns_base_nameserver_sockaddr_add(c.dns, reinterpret_cast<sockaddr*>(&sun), sizeof sun, 0);
#ifdef EVASIO_DNS_IP_NAMESERVERS_ONLY
  BOOST_TEST(r == 2);
  BOOST_TEST(evdns_base_count_nameservers(c.dns) == 0);
#else
  BOOST_TEST(r == 0);
  BOOST_TEST(evdns_base_count_nameservers(c.dns) == 1);
#endif
}

BOOST_AUTO_TEST_CASE(get_nameserver_addr_indexes_in_the_order_added) {
  DnsCase c;
  BOOST_TEST(evdns_base_nameserver_ip_add(c.dns, "127.0.0.1:5301") == 0);
  BOOST_TEST(evdns_base_nameserver_ip_add(c.dns, "127.0.0.1:5302") == 0);
  BOOST_TEST(evdns_base_count_nameservers(c.dns) == 2);
  BOOST_TEST(nameserver_at(c.dns, 0) == "127.0.0.1:5301");
  BOOST_TEST(nameserver_at(c.dns, 1) == "127.0.0.1:5302");
}

BOOST_AUTO_TEST_CASE(get_nameserver_addr_past_the_last_is_minus_one) {
  DnsCase c;
  sockaddr_storage ss{};
  BOOST_TEST(evdns_base_get_nameserver_addr(c.dns, 0, reinterpret_cast<sockaddr*>(&ss), sizeof ss) == -1);
  BOOST_TEST(evdns_base_nameserver_ip_add(c.dns, "127.0.0.1:5301") == 0);
  BOOST_TEST(evdns_base_get_nameserver_addr(c.dns, 1, reinterpret_cast<sockaddr*>(&ss), sizeof ss) == -1);
  BOOST_TEST(evdns_base_get_nameserver_addr(c.dns, 5, reinterpret_cast<sockaddr*>(&ss), sizeof ss) == -1);
}

BOOST_AUTO_TEST_CASE(get_nameserver_addr_with_a_short_buffer_returns_the_size_and_copies_nothing) {
  DnsCase c;
  BOOST_TEST(evdns_base_nameserver_ip_add(c.dns, "127.0.0.1:5301") == 0);
  unsigned char buf[sizeof(sockaddr_in)];
  std::memset(buf, 0xab, sizeof buf);
  BOOST_TEST(evdns_base_get_nameserver_addr(c.dns, 0, reinterpret_cast<sockaddr*>(buf), 4) ==
             static_cast<int>(sizeof(sockaddr_in)));
  BOOST_TEST(std::all_of(buf, buf + sizeof buf, [](unsigned char b) { return b == 0xab; }));
  BOOST_TEST(evdns_base_get_nameserver_addr(c.dns, 0, reinterpret_cast<sockaddr*>(buf), sizeof buf) ==
             static_cast<int>(sizeof(sockaddr_in)));
  BOOST_TEST(reinterpret_cast<sockaddr_in*>(buf)->sin_family == AF_INET);
}

BOOST_AUTO_TEST_CASE(err_to_string_gives_libevents_texts) {
  BOOST_TEST(std::string(evdns_err_to_string(DNS_ERR_NONE)) == "no error");
  BOOST_TEST(std::string(evdns_err_to_string(DNS_ERR_FORMAT)) == "misformatted query");
  BOOST_TEST(std::string(evdns_err_to_string(DNS_ERR_SERVERFAILED)) == "server failed");
  BOOST_TEST(std::string(evdns_err_to_string(DNS_ERR_NOTEXIST)) == "name does not exist");
  BOOST_TEST(std::string(evdns_err_to_string(DNS_ERR_NOTIMPL)) == "query not implemented");
  BOOST_TEST(std::string(evdns_err_to_string(DNS_ERR_REFUSED)) == "refused");
  BOOST_TEST(std::string(evdns_err_to_string(DNS_ERR_TRUNCATED)) == "reply truncated or ill-formed");
  BOOST_TEST(std::string(evdns_err_to_string(DNS_ERR_UNKNOWN)) == "unknown");
  BOOST_TEST(std::string(evdns_err_to_string(DNS_ERR_TIMEOUT)) == "request timed out");
  BOOST_TEST(std::string(evdns_err_to_string(DNS_ERR_SHUTDOWN)) == "dns subsystem shut down");
  BOOST_TEST(std::string(evdns_err_to_string(DNS_ERR_CANCEL)) == "dns request canceled");
  BOOST_TEST(std::string(evdns_err_to_string(DNS_ERR_NODATA)) == "no records in the reply");
  BOOST_TEST(std::string(evdns_err_to_string(6)) == "[Unknown error code]");
  BOOST_TEST(std::string(evdns_err_to_string(-1)) == "[Unknown error code]");
}

BOOST_AUTO_TEST_CASE(the_dnsmasq_fixture_answers_and_is_reaped, *needs_dnsmasq) {
  SafetyAlarm alarm{20, current_test_name()};
  pid_t pid;
  {
    dnsmasq_server s({"--host-record=fixture.example,10.1.2.3"});
    BOOST_TEST_REQUIRE(s.running());
    pid = s.pid();
    BOOST_TEST(s.port() != the_zone->port());
    BOOST_TEST(s.address_string() == "127.0.0.1:" + std::to_string(s.port()));
    BOOST_TEST(::kill(pid, 0) == 0);
  }
  errno = 0;
  BOOST_TEST(::kill(pid, 0) == -1);
  BOOST_TEST(errno == ESRCH);  // gone, and no zombie left (reaped)
}

BOOST_AUTO_TEST_SUITE_END()

// ================================================================================
BOOST_AUTO_TEST_SUITE(lookups, *needs_dnsmasq)

BOOST_FIXTURE_TEST_CASE(resolve_ipv4_gives_the_address_count_and_ttl, ZoneCase) {
  const Lookup l = resolve4(base, dns, "both.example");
  BOOST_TEST(l.calls == 1);
  BOOST_TEST(l.result == DNS_ERR_NONE);
  BOOST_TEST(l.type == DNS_IPv4_A);
  BOOST_TEST(l.count == 1);
  BOOST_TEST(l.ttl == 77);
  BOOST_TEST(l.addr_set() == std::set<std::string>{"10.0.0.2"});
}

BOOST_FIXTURE_TEST_CASE(resolve_ipv4_gives_every_address, ZoneCase) {
  const Lookup l = resolve4(base, dns, "multi.example");
  BOOST_TEST(l.result == DNS_ERR_NONE);
  BOOST_TEST(l.count == 3);
  BOOST_TEST(l.addr_set() == (std::set<std::string>{"10.0.0.11", "10.0.0.12", "10.0.0.13"}));
}

BOOST_FIXTURE_TEST_CASE(resolve_ipv6_gives_the_address_count_and_ttl, ZoneCase) {
  const Lookup l = resolve6(base, dns, "both.example");
  BOOST_TEST(l.result == DNS_ERR_NONE);
  BOOST_TEST(l.type == DNS_IPv6_AAAA);
  BOOST_TEST(l.count == 1);
  BOOST_TEST(l.ttl == 77);
  BOOST_TEST(l.addr_set() == std::set<std::string>{"fd00::2"});
}

BOOST_FIXTURE_TEST_CASE(a_name_that_does_not_exist_is_notexist, ZoneCase) {
  const Lookup l = resolve4(base, dns, "nx.example");
  BOOST_TEST(l.calls == 1);
  BOOST_TEST(l.result == DNS_ERR_NOTEXIST);
  BOOST_TEST(l.count == 0);
  BOOST_TEST(l.addresses_null);
}

BOOST_FIXTURE_TEST_CASE(a_name_without_aaaa_records_is_nodata, ZoneCase) {
  const Lookup l = resolve6(base, dns, "v4only.example");
  BOOST_TEST(l.result == DNS_ERR_NODATA);
  BOOST_TEST(l.count == 0);
  BOOST_TEST(l.addresses_null);
}

BOOST_FIXTURE_TEST_CASE(a_name_without_a_records_is_nodata, ZoneCase) {
  const Lookup l = resolve4(base, dns, "v6only.example");
  BOOST_TEST(l.result == DNS_ERR_NODATA);
}

BOOST_FIXTURE_TEST_CASE(an_alias_resolves_to_its_targets_address, ZoneCase) {
  const Lookup l = resolve4(base, dns, "alias.example");
  BOOST_TEST(l.result == DNS_ERR_NONE);
  BOOST_TEST(l.addr_set() == std::set<std::string>{"10.0.0.2"});
}

BOOST_FIXTURE_TEST_CASE(resolve_reverse_gives_the_ptr_name, ZoneCase) {
  in_addr a;
  BOOST_TEST_REQUIRE(::inet_pton(AF_INET, "1.2.3.4", &a) == 1);
  Lookup l;
  BOOST_TEST(calling([&] { return evdns_base_resolve_reverse(dns, &a, 0, lookup_cb, &l); }) != nullptr);
  BOOST_TEST(loop_until(base, [&] { return l.done(); }));
  BOOST_TEST(l.result == DNS_ERR_NONE);
  BOOST_TEST(l.type == DNS_PTR);
  BOOST_TEST(l.count == 1);
  BOOST_TEST(l.ttl == 77);
  BOOST_TEST(l.addrs == std::vector<std::string>{"ptr.example"});
}

BOOST_FIXTURE_TEST_CASE(resolve_reverse_ipv6_gives_the_ptr_name, ZoneCase) {
  in6_addr a;
  BOOST_TEST_REQUIRE(::inet_pton(AF_INET6, "fd00::2", &a) == 1);
  Lookup l;
  BOOST_TEST(calling([&] { return evdns_base_resolve_reverse_ipv6(dns, &a, 0, lookup_cb, &l); }) != nullptr);
  BOOST_TEST(loop_until(base, [&] { return l.done(); }));
  BOOST_TEST(l.result == DNS_ERR_NONE);
  BOOST_TEST(l.type == DNS_PTR);
  BOOST_TEST(l.addrs == std::vector<std::string>{"both.example"});
}

BOOST_FIXTURE_TEST_CASE(a_reverse_lookup_without_a_ptr_record_is_notexist, ZoneCase) {
  in_addr a;
  BOOST_TEST_REQUIRE(::inet_pton(AF_INET, "10.0.0.99", &a) == 1);
  Lookup l;
  BOOST_TEST(evdns_base_resolve_reverse(dns, &a, 0, lookup_cb, &l) != nullptr);
  BOOST_TEST(loop_until(base, [&] { return l.done(); }));
  BOOST_TEST(l.result == DNS_ERR_NOTEXIST);
}

BOOST_FIXTURE_TEST_CASE(callbacks_run_from_the_loop_never_inside_the_resolve_call, ZoneCase) {
  Lookup a, b, c;
  in_addr in;
  ::inet_pton(AF_INET, "1.2.3.4", &in);
  calling([&] { return evdns_base_resolve_ipv4(dns, "both.example", 0, lookup_cb, &a); });
  calling([&] { return evdns_base_resolve_ipv6(dns, "nx.example", 0, lookup_cb, &b); });
  calling([&] { return evdns_base_resolve_reverse(dns, &in, 0, lookup_cb, &c); });
  BOOST_TEST(a.calls + b.calls + c.calls == 0);
  BOOST_TEST(loop_until(base, [&] { return a.done() && b.done() && c.done(); }));
  BOOST_TEST(!a.ran_inside_call);
  BOOST_TEST(!b.ran_inside_call);
  BOOST_TEST(!c.ran_inside_call);
  BOOST_TEST(a.calls == 1);
  BOOST_TEST(b.calls == 1);
  BOOST_TEST(c.calls == 1);
}

BOOST_FIXTURE_TEST_CASE(many_lookups_at_once_all_complete, ZoneCase) {
  std::vector<Lookup> ls(40);
  for (size_t i = 0; i < ls.size(); ++i)
    BOOST_TEST(evdns_base_resolve_ipv4(dns, i % 2 ? "both.example" : "multi.example", 0, lookup_cb, &ls[i]) !=
               nullptr);
  BOOST_TEST(loop_until(base, [&] { return std::all_of(ls.begin(), ls.end(), [](const Lookup& l) { return l.done(); }); }));
  for (size_t i = 0; i < ls.size(); ++i) {
    BOOST_TEST(ls[i].calls == 1);
    BOOST_TEST(ls[i].result == DNS_ERR_NONE);
    BOOST_TEST(ls[i].count == (i % 2 ? 1 : 3));
  }
}

// With max-inflight N, requests past N wait for a free slot; all finish.
BOOST_FIXTURE_TEST_CASE(max_inflight_queues_the_rest_and_all_complete, ZoneCase) {
  BOOST_TEST(evdns_base_set_option(dns, "max-inflight:", "2") == 0);
  std::vector<Lookup> ls(7);
  for (auto& l : ls)
    BOOST_TEST(evdns_base_resolve_ipv4(dns, "both.example", 0, lookup_cb, &l) != nullptr);
  BOOST_TEST(loop_until(base, [&] { return std::all_of(ls.begin(), ls.end(), [](const Lookup& l) { return l.done(); }); }));
  for (const auto& l : ls) {
    BOOST_TEST(l.calls == 1);
    BOOST_TEST(l.result == DNS_ERR_NONE);
  }
}

// A base without nameservers keeps the request waiting (no error, no
// callback) until one is added and the base resumed.
BOOST_FIXTURE_TEST_CASE(a_request_without_nameservers_waits_until_resume, DnsCase) {
  Lookup l;
  BOOST_TEST(evdns_base_resolve_ipv4(dns, "both.example", 0, lookup_cb, &l) != nullptr);
  loop_for(base, 100);
  BOOST_TEST(l.calls == 0);
  BOOST_TEST(evdns_base_nameserver_ip_add(dns, the_zone->address_string().c_str()) == 0);
  BOOST_TEST(evdns_base_resume(dns) == 0);
  BOOST_TEST(loop_until(base, [&] { return l.done(); }));
  BOOST_TEST(l.result == DNS_ERR_NONE);
  BOOST_TEST(l.addr_set() == std::set<std::string>{"10.0.0.2"});
}

BOOST_FIXTURE_TEST_CASE(suspended_requests_complete_after_resume, ZoneCase) {
  Lookup before, during;
  BOOST_TEST(evdns_base_resolve_ipv4(dns, "both.example", 0, lookup_cb, &before) != nullptr);
  BOOST_TEST(evdns_base_clear_nameservers_and_suspend(dns) == 0);
  BOOST_TEST(evdns_base_count_nameservers(dns) == 0);
  BOOST_TEST(evdns_base_resolve_ipv6(dns, "both.example", 0, lookup_cb, &during) != nullptr);
  loop_for(base, 100);
  BOOST_TEST(before.calls == 0);
  BOOST_TEST(during.calls == 0);
  BOOST_TEST(evdns_base_nameserver_ip_add(dns, the_zone->address_string().c_str()) == 0);
  BOOST_TEST(evdns_base_count_nameservers(dns) == 1);
  BOOST_TEST(evdns_base_resume(dns) == 0);
  BOOST_TEST(loop_until(base, [&] { return before.done() && during.done(); }));
  BOOST_TEST(before.calls == 1);
  BOOST_TEST(before.result == DNS_ERR_NONE);
  BOOST_TEST(before.addr_set() == std::set<std::string>{"10.0.0.2"});
  BOOST_TEST(during.calls == 1);
  BOOST_TEST(during.result == DNS_ERR_NONE);
  BOOST_TEST(during.addr_set() == std::set<std::string>{"fd00::2"});
}

BOOST_AUTO_TEST_SUITE_END()

// ================================================================================
BOOST_AUTO_TEST_SUITE(cancel_and_free, *needs_dnsmasq)

BOOST_FIXTURE_TEST_CASE(cancel_gives_dns_err_cancel_once_and_only_once, ZoneCase) {
  Lookup l;
  evdns_request* r = evdns_base_resolve_ipv4(dns, "both.example", 0, lookup_cb, &l);
  BOOST_TEST_REQUIRE(r != nullptr);
  calling([&] {
    evdns_cancel_request(dns, r);
    evdns_cancel_request(dns, r);  // the handle stays valid until the callback ran
    return 0;
  });
  BOOST_TEST(l.calls == 0);  // not from inside the cancel either
  BOOST_TEST(loop_until(base, [&] { return l.done(); }));
  loop_for(base, 100);  // dnsmasq's late answer must not reach the callback
  BOOST_TEST(l.calls == 1);
  BOOST_TEST(l.result == DNS_ERR_CANCEL);
  BOOST_TEST(!l.ran_inside_call);
}

BOOST_FIXTURE_TEST_CASE(cancel_with_a_null_base_uses_the_requests_own, ZoneCase) {
  Lookup l;
  evdns_request* r = evdns_base_resolve_ipv6(dns, "both.example", 0, lookup_cb, &l);
  BOOST_TEST_REQUIRE(r != nullptr);
  evdns_cancel_request(nullptr, r);
  BOOST_TEST(loop_until(base, [&] { return l.done(); }));
  loop_for(base, 50);
  BOOST_TEST(l.calls == 1);
  BOOST_TEST(l.result == DNS_ERR_CANCEL);
}

BOOST_FIXTURE_TEST_CASE(cancel_of_a_waiting_request_gives_dns_err_cancel, DnsCase) {
  Lookup l;  // no nameserver: the request waits
  evdns_request* r = evdns_base_resolve_ipv4(dns, "both.example", 0, lookup_cb, &l);
  BOOST_TEST_REQUIRE(r != nullptr);
  evdns_cancel_request(dns, r);
  BOOST_TEST(loop_until(base, [&] { return l.done(); }));
  BOOST_TEST(l.calls == 1);
  BOOST_TEST(l.result == DNS_ERR_CANCEL);
}

BOOST_FIXTURE_TEST_CASE(free_with_fail_requests_gives_dns_err_shutdown_to_each_pending, ZoneCase) {
  Lookup a, b, waiting;
  BOOST_TEST(evdns_base_resolve_ipv4(dns, "both.example", 0, lookup_cb, &a) != nullptr);
  BOOST_TEST(evdns_base_resolve_ipv6(dns, "both.example", 0, lookup_cb, &b) != nullptr);
  BOOST_TEST(evdns_base_clear_nameservers_and_suspend(dns) == 0);
  BOOST_TEST(evdns_base_resolve_ipv4(dns, "multi.example", 0, lookup_cb, &waiting) != nullptr);
  calling([&] {
    free_dns(1);
    return 0;
  });
  BOOST_TEST(loop_until(base, [&] { return a.done() && b.done() && waiting.done(); }));
  loop_for(base, 50);
  for (const Lookup* l : {&a, &b, &waiting}) {
    BOOST_TEST(l->calls == 1);
    BOOST_TEST(l->result == DNS_ERR_SHUTDOWN);
    BOOST_TEST(!l->ran_inside_call);
  }
}

BOOST_FIXTURE_TEST_CASE(free_with_fail_requests_of_inflight_requests, ZoneCase) {
  Lookup a;
  BOOST_TEST(evdns_base_resolve_ipv4(dns, "both.example", 0, lookup_cb, &a) != nullptr);
  free_dns(1);
  BOOST_TEST(loop_until(base, [&] { return a.done(); }));
  loop_for(base, 50);
  BOOST_TEST(a.calls == 1);
  BOOST_TEST(a.result == DNS_ERR_SHUTDOWN);
}

BOOST_FIXTURE_TEST_CASE(free_without_fail_requests_runs_no_callback, ZoneCase) {
  Lookup a, b;
  BOOST_TEST(evdns_base_resolve_ipv4(dns, "both.example", 0, lookup_cb, &a) != nullptr);
  BOOST_TEST(evdns_base_resolve_ipv6(dns, "nx.example", 0, lookup_cb, &b) != nullptr);
  free_dns(0);
  loop_for(base, 150);
  BOOST_TEST(a.calls == 0);
  BOOST_TEST(b.calls == 0);
}

// The callback's request is finished when it runs: freeing the whole
// evdns_base from inside it is allowed. A second request, still pending,
// then gets no callback, unless its answer was already being delivered.
BOOST_FIXTURE_TEST_CASE(a_callback_may_free_the_evdns_base, ZoneCase) {
  Lookup first, second;
  first.free_base_from_callback = &dns;
  second.free_base_from_callback = &dns;
  BOOST_TEST(evdns_base_resolve_ipv4(dns, "both.example", 0, lookup_cb, &first) != nullptr);
  BOOST_TEST(evdns_base_resolve_ipv4(dns, "multi.example", 0, lookup_cb, &second) != nullptr);
  BOOST_TEST(loop_until(base, [&] { return first.done() || second.done(); }));
  loop_for(base, 100);
  BOOST_TEST(dns == nullptr);
  BOOST_TEST(first.calls <= 1);
  BOOST_TEST(second.calls <= 1);
  BOOST_TEST(first.calls + second.calls >= 1);
  for (const Lookup* l : {&first, &second})
    if (l->calls)
      BOOST_TEST(l->result == DNS_ERR_NONE);
}

BOOST_AUTO_TEST_SUITE_END()

// ================================================================================
// The search list, seen from the server: hostile_dns records the names the
// client tries (NXDOMAIN for all but answer_names).
BOOST_AUTO_TEST_SUITE(search_list)

namespace {
hostile_config nothing_exists() {
  hostile_config c;
  c.answer_names = {"nothing.invalid"};
  return c;
}
} // namespace

// evdns_base_search_add puts each domain in front of the earlier ones: the
// last added is tried first (libevent; only the resolv.conf parser keeps
// the file's order). A name with fewer dots than ndots (1) goes through the
// list first and is tried as it is last.
BOOST_FIXTURE_TEST_CASE(search_add_domains_are_tried_last_added_first_then_the_bare_name, HostileCase) {
  server.configure(nothing_exists());
  evdns_base_search_add(dns, "one.test");
  evdns_base_search_add(dns, "two.test");
  const Lookup l = resolve4(base, dns, "host");
  BOOST_TEST(l.calls == 1);
  BOOST_TEST(l.result == DNS_ERR_NOTEXIST);
  BOOST_TEST(server.names() == (std::vector<std::string>{"host.two.test", "host.one.test", "host"}));
}

BOOST_FIXTURE_TEST_CASE(a_name_with_ndots_dots_is_tried_as_it_is_first, HostileCase) {
  server.configure(nothing_exists());
  evdns_base_search_add(dns, "one.test");
  evdns_base_search_add(dns, "two.test");
  const Lookup l = resolve4(base, dns, "host.sub");
  BOOST_TEST(l.result == DNS_ERR_NOTEXIST);
  BOOST_TEST(server.names() == (std::vector<std::string>{"host.sub", "host.sub.two.test", "host.sub.one.test"}));
}

BOOST_FIXTURE_TEST_CASE(ndots_set_raises_the_dots_needed_to_try_the_name_first, HostileCase) {
  server.configure(nothing_exists());
  evdns_base_search_add(dns, "one.test");
  evdns_base_search_ndots_set(dns, 2);
  const Lookup l = resolve4(base, dns, "host.sub");
  BOOST_TEST(l.result == DNS_ERR_NOTEXIST);
  BOOST_TEST(server.names() == (std::vector<std::string>{"host.sub.one.test", "host.sub"}));
}

BOOST_FIXTURE_TEST_CASE(the_ndots_option_is_the_same_as_ndots_set, HostileCase) {
  server.configure(nothing_exists());
  evdns_base_search_add(dns, "one.test");
  BOOST_TEST(evdns_base_set_option(dns, "ndots", "2") == 0);
  resolve4(base, dns, "host.sub");
  BOOST_TEST(server.names() == (std::vector<std::string>{"host.sub.one.test", "host.sub"}));
}

BOOST_FIXTURE_TEST_CASE(no_search_tries_only_the_name_itself, HostileCase) {
  server.configure(nothing_exists());
  evdns_base_search_add(dns, "one.test");
  evdns_base_search_add(dns, "two.test");
  const Lookup l = resolve4(base, dns, "host", DNS_QUERY_NO_SEARCH);
  BOOST_TEST(l.result == DNS_ERR_NOTEXIST);
  BOOST_TEST(server.names() == std::vector<std::string>{"host"});
}

BOOST_FIXTURE_TEST_CASE(the_search_stops_at_the_first_name_that_exists, HostileCase) {
  hostile_config cfg;
  cfg.answer_names = {"host.one.test", "host.two.test"};
  cfg.a = {"10.7.7.7"};
  server.configure(cfg);
  evdns_base_search_add(dns, "one.test");
  evdns_base_search_add(dns, "two.test");
  const Lookup l = resolve4(base, dns, "host");
  BOOST_TEST(l.calls == 1);
  BOOST_TEST(l.result == DNS_ERR_NONE);
  BOOST_TEST(l.addr_set() == std::set<std::string>{"10.7.7.7"});
  BOOST_TEST(server.names() == std::vector<std::string>{"host.two.test"});
}

BOOST_FIXTURE_TEST_CASE(a_search_goes_on_after_nodata, HostileCase) {
  hostile_config cfg;
  cfg.a = {"10.7.7.8"};
  cfg.answer_names = {"host.two.test", "host.one.test"};
  server.configure(cfg);
  evdns_base_search_add(dns, "one.test");
  evdns_base_search_add(dns, "two.test");
  // AAAA: both names exist but have no AAAA records (NODATA), then the bare name is NXDOMAIN.
  const Lookup l = resolve6(base, dns, "host");
  BOOST_TEST(l.result == DNS_ERR_NOTEXIST);
  BOOST_TEST(server.names() == (std::vector<std::string>{"host.two.test", "host.one.test", "host"}));
}

BOOST_FIXTURE_TEST_CASE(search_clear_empties_the_list, HostileCase) {
  server.configure(nothing_exists());
  evdns_base_search_add(dns, "one.test");
  evdns_base_search_clear(dns);
  resolve4(base, dns, "host");
  BOOST_TEST(server.names() == std::vector<std::string>{"host"});
}

BOOST_FIXTURE_TEST_CASE(a_leading_dot_of_a_search_domain_is_dropped, HostileCase) {
  server.configure(nothing_exists());
  evdns_base_search_add(dns, ".one.test");
  resolve4(base, dns, "host");
  BOOST_TEST(server.names() == (std::vector<std::string>{"host.one.test", "host"}));
}

// The resolv.conf "search" line keeps the file's order; its ndots option
// applies.
BOOST_FIXTURE_TEST_CASE(resolv_conf_search_keeps_the_files_order, HostileCase) {
  server.configure(nothing_exists());
  TempFile conf("search one.test two.test\noptions ndots:2\n");
  BOOST_TEST(evdns_base_resolv_conf_parse(dns, DNS_OPTION_SEARCH | DNS_OPTION_MISC, conf.path()) == 0);
  resolve4(base, dns, "host.sub");
  BOOST_TEST(server.names() == (std::vector<std::string>{"host.sub.one.test", "host.sub.two.test", "host.sub"}));
}

BOOST_FIXTURE_TEST_CASE(resolv_conf_domain_line_is_a_one_entry_search_list, HostileCase) {
  server.configure(nothing_exists());
  TempFile conf("domain dom.test\n");
  BOOST_TEST(evdns_base_resolv_conf_parse(dns, DNS_OPTION_SEARCH, conf.path()) == 0);
  resolve4(base, dns, "host");
  BOOST_TEST(server.names() == (std::vector<std::string>{"host.dom.test", "host"}));
}

BOOST_FIXTURE_TEST_CASE(reverse_lookups_do_not_use_the_search_list, HostileCase) {
  server.configure(nothing_exists());
  evdns_base_search_add(dns, "one.test");
  in_addr a;
  ::inet_pton(AF_INET, "10.1.2.3", &a);
  Lookup l;
  BOOST_TEST(evdns_base_resolve_reverse(dns, &a, 0, lookup_cb, &l) != nullptr);
  BOOST_TEST(loop_until(base, [&] { return l.done(); }));
  BOOST_TEST(l.result == DNS_ERR_NOTEXIST);
  BOOST_TEST(server.names() == std::vector<std::string>{"3.2.1.10.in-addr.arpa"});
}

// randomize-case (on by default) mixes the case of the letters sent; with
// it off the name goes out as given.
BOOST_FIXTURE_TEST_CASE(randomize_case_off_sends_the_name_as_given, HostileCase) {
  BOOST_TEST(evdns_base_set_option(dns, "randomize-case:", "0") == 0);
  const Lookup l = resolve4(base, dns, "MiXeD.Case.Example", DNS_QUERY_NO_SEARCH);
  BOOST_TEST(l.result == DNS_ERR_NONE);
  const auto q = server.queries();
  BOOST_TEST_REQUIRE(q.size() == 1u);
  BOOST_TEST(q[0].qname == "MiXeD.Case.Example");
}

BOOST_AUTO_TEST_SUITE_END()

// ================================================================================
BOOST_AUTO_TEST_SUITE(set_option)

BOOST_FIXTURE_TEST_CASE(set_option_accepts_every_option_with_or_without_the_colon, DnsCase) {
  const char* ok[][2] = {
      {"ndots", "2"},
      {"ndots:", "1"},
      {"timeout", "0.5"},
      {"timeout:", "2"},
      {"max-timeouts:", "5"},
      {"max-inflight:", "10"},
      {"attempts:", "3"},
      {"randomize-case:", "0"},
      {"bind-to:", "127.0.0.1"},
      {"initial-probe-timeout:", "1.5"},
      {"getaddrinfo-allow-skew:", "1"},
      {"so-rcvbuf:", "65536"},
      {"so-sndbuf:", "65536"},
  };
  for (const auto& o : ok)
    BOOST_TEST(evdns_base_set_option(dns, o[0], o[1]) == 0, o[0] << " " << o[1]);
}

BOOST_FIXTURE_TEST_CASE(set_option_rejects_values_it_cannot_parse, DnsCase) {
  const char* bad[][2] = {
      {"ndots:", "two"},
      {"timeout:", "soon"},
      {"timeout:", "1s"},
      {"timeout:", "-1"},
      {"timeout:", "0"},  // under a millisecond
      {"max-timeouts:", "x"},
      {"max-inflight:", "many"},
      {"attempts:", "3x"},
      {"randomize-case:", "yes"},
      {"bind-to:", "not an address"},
      {"initial-probe-timeout:", "later"},
      {"getaddrinfo-allow-skew:", "-2"},
      {"so-rcvbuf:", "big"},
  };
  for (const auto& o : bad)
    BOOST_TEST(evdns_base_set_option(dns, o[0], o[1]) == -1, o[0] << " " << o[1]);
}

// Out-of-range numbers are clipped, not refused.
BOOST_FIXTURE_TEST_CASE(set_option_clips_out_of_range_numbers, DnsCase) {
  BOOST_TEST(evdns_base_set_option(dns, "max-inflight:", "0") == 0);
  BOOST_TEST(evdns_base_set_option(dns, "max-inflight:", "100000") == 0);
  BOOST_TEST(evdns_base_set_option(dns, "max-timeouts:", "1000") == 0);
  BOOST_TEST(evdns_base_set_option(dns, "attempts:", "1000") == 0);
}

// libevent ignores option names it does not know (and says so nowhere).
BOOST_FIXTURE_TEST_CASE(set_option_ignores_unknown_names, DnsCase) {
  BOOST_TEST(evdns_base_set_option(dns, "no-such-option:", "1") == 0);
  BOOST_TEST(evdns_base_set_option(dns, "", "1") == 0);
}

// A name with text after its ':' is still that option (the resolv.conf form).
BOOST_FIXTURE_TEST_CASE(set_option_takes_the_name_before_a_colon, HostileCase) {
  hostile_config cfg;
  cfg.mode = behaviour::silent;
  server.configure(cfg);
  BOOST_TEST(evdns_base_set_option(dns, "timeout:30", "0.1") == 0);
  stopwatch sw;
  const Lookup l = resolve4(base, dns, "slow.example");
  BOOST_TEST(l.result == DNS_ERR_TIMEOUT);
  BOOST_TEST(sw.elapsed_us() < 1000000);  // 0.1 s, not the fixture's 0.3 s nor 30
  BOOST_TEST(sw.elapsed_us() >= 100000);
}

BOOST_AUTO_TEST_SUITE_END()

// ================================================================================
BOOST_AUTO_TEST_SUITE(evdns_getaddrinfo_cases)

BOOST_FIXTURE_TEST_CASE(a_numeric_host_is_answered_inside_the_call_which_returns_null, DnsCase) {
  GaiResult g;
  const evutil_addrinfo h = hints_for(AF_INET);
  evdns_getaddrinfo_request* r = calling([&] { return evdns_getaddrinfo(dns, "127.0.0.1", "80", &h, gai_cb, &g); });
  BOOST_TEST(r == nullptr);
  BOOST_TEST(g.calls == 1);
  BOOST_TEST(g.ran_inside_call);
  BOOST_TEST(g.err == 0);
  BOOST_TEST_REQUIRE(g.entries.size() == 1u);
  BOOST_TEST(g.entries[0].family == AF_INET);
  BOOST_TEST(g.entries[0].addr == "127.0.0.1");
  BOOST_TEST(g.entries[0].port == 80u);
  BOOST_TEST(g.entries[0].socktype == SOCK_STREAM);
  BOOST_TEST(g.entries[0].protocol == IPPROTO_TCP);
}

BOOST_FIXTURE_TEST_CASE(a_numeric_ipv6_host_is_answered_inside_the_call, DnsCase) {
  GaiResult g;
  const evutil_addrinfo h = hints_for(AF_UNSPEC);
  BOOST_TEST(calling([&] { return evdns_getaddrinfo(dns, "::1", "443", &h, gai_cb, &g); }) == nullptr);
  BOOST_TEST(g.calls == 1);
  BOOST_TEST(g.err == 0);
  BOOST_TEST_REQUIRE(g.entries.size() == 1u);
  BOOST_TEST(g.entries[0].family == AF_INET6);
  BOOST_TEST(g.entries[0].addr == "::1");
  BOOST_TEST(g.entries[0].port == 443u);
}

BOOST_FIXTURE_TEST_CASE(no_host_and_no_service_is_noname_inside_the_call, DnsCase) {
  GaiResult g;
  BOOST_TEST(calling([&] { return evdns_getaddrinfo(dns, nullptr, nullptr, nullptr, gai_cb, &g); }) == nullptr);
  BOOST_TEST(g.calls == 1);
  BOOST_TEST(g.err == EVUTIL_EAI_NONAME);
  BOOST_TEST(g.res_null);
}

BOOST_FIXTURE_TEST_CASE(an_unknown_service_name_is_noname_inside_the_call, DnsCase) {
  GaiResult g;
  const evutil_addrinfo h = hints_for(AF_INET);
  BOOST_TEST(calling([&] { return evdns_getaddrinfo(dns, "both.example", "no-such-service", &h, gai_cb, &g); }) ==
             nullptr);
  BOOST_TEST(g.calls == 1);
  BOOST_TEST(g.err == EVUTIL_EAI_NONAME);
}

BOOST_FIXTURE_TEST_CASE(a_family_other_than_inet_or_inet6_is_family_inside_the_call, DnsCase) {
  GaiResult g;
  const evutil_addrinfo h = hints_for(AF_UNIX);
  BOOST_TEST(calling([&] { return evdns_getaddrinfo(dns, "both.example", "80", &h, gai_cb, &g); }) == nullptr);
  BOOST_TEST(g.calls == 1);
  BOOST_TEST(g.err == EVUTIL_EAI_FAMILY);
}

BOOST_FIXTURE_TEST_CASE(a_name_is_resolved_through_the_nameserver_later, ZoneCase, *needs_dnsmasq) {
  GaiResult g;
  const evutil_addrinfo h = hints_for(AF_INET);
  evdns_getaddrinfo_request* r =
      calling([&] { return evdns_getaddrinfo(dns, "both.example", "8080", &h, gai_cb, &g); });
  BOOST_TEST(r != nullptr);
  BOOST_TEST(g.calls == 0);
  BOOST_TEST(loop_until(base, [&] { return g.done(); }));
  BOOST_TEST(g.calls == 1);
  BOOST_TEST(!g.ran_inside_call);
  BOOST_TEST(g.err == 0);
  BOOST_TEST_REQUIRE(g.entries.size() == 1u);
  BOOST_TEST(g.entries[0].family == AF_INET);
  BOOST_TEST(g.entries[0].addr == "10.0.0.2");
  BOOST_TEST(g.entries[0].port == 8080u);
  BOOST_TEST(g.entries[0].socktype == SOCK_STREAM);
  BOOST_TEST(g.entries[0].protocol == IPPROTO_TCP);
}

BOOST_FIXTURE_TEST_CASE(a_service_name_gives_its_port, ZoneCase, *needs_dnsmasq) {
  GaiResult g;
  const evutil_addrinfo h = hints_for(AF_INET);
  BOOST_TEST(evdns_getaddrinfo(dns, "both.example", "http", &h, gai_cb, &g) != nullptr);
  BOOST_TEST(loop_until(base, [&] { return g.done(); }));
  BOOST_TEST(g.err == 0);
  BOOST_TEST_REQUIRE(g.entries.size() == 1u);
  BOOST_TEST(g.entries[0].port == 80u);
}

BOOST_FIXTURE_TEST_CASE(unspec_gives_both_families_ipv4_first, ZoneCase, *needs_dnsmasq) {
  GaiResult g;
  const evutil_addrinfo h = hints_for(AF_UNSPEC);
  BOOST_TEST(evdns_getaddrinfo(dns, "both.example", "80", &h, gai_cb, &g) != nullptr);
  BOOST_TEST(loop_until(base, [&] { return g.done(); }));
  BOOST_TEST(g.calls == 1);
  BOOST_TEST(g.err == 0);
  BOOST_TEST_REQUIRE(g.entries.size() == 2u);
  BOOST_TEST(g.entries[0].family == AF_INET);
  BOOST_TEST(g.entries[0].addr == "10.0.0.2");
  BOOST_TEST(g.entries[1].family == AF_INET6);
  BOOST_TEST(g.entries[1].addr == "fd00::2");
  BOOST_TEST(g.entries[1].port == 80u);
}

BOOST_FIXTURE_TEST_CASE(null_hints_mean_unspec_and_every_socket_type, ZoneCase, *needs_dnsmasq) {
  GaiResult g;
  BOOST_TEST(evdns_getaddrinfo(dns, "both.example", nullptr, nullptr, gai_cb, &g) != nullptr);
  BOOST_TEST(loop_until(base, [&] { return g.done(); }));
  BOOST_TEST(g.err == 0);
  // One TCP and one UDP entry per address, IPv4 first.
  BOOST_TEST_REQUIRE(g.entries.size() == 4u);
  BOOST_TEST(g.entries[0].family == AF_INET);
  BOOST_TEST(g.entries[1].family == AF_INET);
  BOOST_TEST(g.entries[2].family == AF_INET6);
  BOOST_TEST(g.entries[3].family == AF_INET6);
  const std::set<int> types = {g.entries[0].socktype, g.entries[1].socktype};
  BOOST_TEST(types == (std::set<int>{SOCK_STREAM, SOCK_DGRAM}));
  for (const auto& e : g.entries)
    BOOST_TEST(e.protocol == (e.socktype == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP));
}

BOOST_FIXTURE_TEST_CASE(unspec_with_only_ipv4_records_gives_ipv4, ZoneCase, *needs_dnsmasq) {
  GaiResult g;
  const evutil_addrinfo h = hints_for(AF_UNSPEC);
  BOOST_TEST(evdns_getaddrinfo(dns, "v4only.example", "80", &h, gai_cb, &g) != nullptr);
  BOOST_TEST(loop_until(base, [&] { return g.done(); }));
  BOOST_TEST(g.err == 0);
  BOOST_TEST(g.addr_set() == std::set<std::string>{"10.0.0.3"});
}

BOOST_FIXTURE_TEST_CASE(a_name_that_does_not_exist_is_noname, ZoneCase, *needs_dnsmasq) {
  GaiResult g;
  const evutil_addrinfo h = hints_for(AF_UNSPEC);
  BOOST_TEST(evdns_getaddrinfo(dns, "nx.example", "80", &h, gai_cb, &g) != nullptr);
  BOOST_TEST(loop_until(base, [&] { return g.done(); }));
  loop_for(base, 50);
  BOOST_TEST(g.calls == 1);
  BOOST_TEST(g.err == EVUTIL_EAI_NONAME);
  BOOST_TEST(g.res_null);
}

// NODATA (the name exists, not with that family) is EVUTIL_EAI_FAIL in
// libevent, which maps every DNS error but NXDOMAIN to it.
BOOST_FIXTURE_TEST_CASE(a_family_the_name_lacks_is_eai_fail, ZoneCase, *needs_dnsmasq) {
  GaiResult g;
  const evutil_addrinfo h = hints_for(AF_INET6);
  BOOST_TEST(evdns_getaddrinfo(dns, "v4only.example", "80", &h, gai_cb, &g) != nullptr);
  BOOST_TEST(loop_until(base, [&] { return g.done(); }));
  BOOST_TEST(g.calls == 1);
  BOOST_TEST(g.err == EVUTIL_EAI_FAIL);
}

BOOST_FIXTURE_TEST_CASE(canonname_gives_the_target_of_the_alias, ZoneCase, *needs_dnsmasq) {
  GaiResult g;
  const evutil_addrinfo h = hints_for(AF_INET, SOCK_STREAM, EVUTIL_AI_CANONNAME);
  BOOST_TEST(evdns_getaddrinfo(dns, "alias.example", "80", &h, gai_cb, &g) != nullptr);
  BOOST_TEST(loop_until(base, [&] { return g.done(); }));
  BOOST_TEST(g.err == 0);
  BOOST_TEST(g.addr_set() == std::set<std::string>{"10.0.0.2"});
  BOOST_TEST(g.canonname == "both.example");
}

BOOST_FIXTURE_TEST_CASE(cancel_gives_eai_cancel_once, ZoneCase, *needs_dnsmasq) {
  GaiResult g;
  const evutil_addrinfo h = hints_for(AF_UNSPEC);
  evdns_getaddrinfo_request* r = evdns_getaddrinfo(dns, "both.example", "80", &h, gai_cb, &g);
  BOOST_TEST_REQUIRE(r != nullptr);
  calling([&] {
    evdns_getaddrinfo_cancel(r);
    return 0;
  });
  BOOST_TEST(g.calls == 0);
  BOOST_TEST(loop_until(base, [&] { return g.done(); }));
  loop_for(base, 100);
  BOOST_TEST(g.calls == 1);
  BOOST_TEST(g.err == EVUTIL_EAI_CANCEL);
  BOOST_TEST(g.res_null);
  BOOST_TEST(!g.ran_inside_call);
}

// Entries loaded with evdns_base_load_hosts answer inside the call (there
// is no nameserver to ask).
BOOST_FIXTURE_TEST_CASE(a_hosts_file_entry_is_answered_inside_the_call, DnsCase) {
  TempFile hosts("# comment\n10.1.1.1 hostsonly.example alias-of-hostsonly # trailing comment\n"
                 "fd00::11 hostsonly.example\n");
  BOOST_TEST(evdns_base_load_hosts(dns, hosts.path()) == 0);
  GaiResult g;
  const evutil_addrinfo h = hints_for(AF_UNSPEC);
  BOOST_TEST(calling([&] { return evdns_getaddrinfo(dns, "HostsOnly.Example", "81", &h, gai_cb, &g); }) == nullptr);
  BOOST_TEST(g.calls == 1);
  BOOST_TEST(g.err == 0);
  BOOST_TEST_REQUIRE(g.entries.size() == 2u);
  BOOST_TEST(g.entries[0].addr == "10.1.1.1");  // file order
  BOOST_TEST(g.entries[0].port == 81u);
  BOOST_TEST(g.entries[1].addr == "fd00::11");
  GaiResult alias;
  BOOST_TEST(evdns_getaddrinfo(dns, "alias-of-hostsonly", "81", &h, gai_cb, &alias) == nullptr);
  BOOST_TEST(alias.addr_set() == std::set<std::string>{"10.1.1.1"});
}

BOOST_FIXTURE_TEST_CASE(a_hosts_entry_of_the_other_family_gives_an_empty_success, DnsCase) {
  TempFile hosts("10.1.1.2 v4host.example\n");
  BOOST_TEST(evdns_base_load_hosts(dns, hosts.path()) == 0);
  GaiResult g;
  const evutil_addrinfo h = hints_for(AF_INET6);
  BOOST_TEST(evdns_getaddrinfo(dns, "v4host.example", "80", &h, gai_cb, &g) == nullptr);
  BOOST_TEST(g.calls == 1);
  BOOST_TEST(g.err == 0);
  BOOST_TEST(g.res_null);
}

BOOST_FIXTURE_TEST_CASE(load_hosts_of_null_adds_localhost, DnsCase) {
  BOOST_TEST(evdns_base_load_hosts(dns, nullptr) == 0);
  GaiResult g;
  const evutil_addrinfo h = hints_for(AF_UNSPEC);
  BOOST_TEST(evdns_getaddrinfo(dns, "localhost", "80", &h, gai_cb, &g) == nullptr);
  BOOST_TEST(g.calls == 1);
  BOOST_TEST(g.err == 0);
  BOOST_TEST(g.addr_set() == (std::set<std::string>{"127.0.0.1", "::1"}));
}

BOOST_FIXTURE_TEST_CASE(load_hosts_of_a_missing_file_is_minus_one_and_adds_localhost, DnsCase) {
  BOOST_TEST(evdns_base_load_hosts(dns, "/nonexistent/hosts") == -1);
  GaiResult g;
  const evutil_addrinfo h = hints_for(AF_INET);
  BOOST_TEST(evdns_getaddrinfo(dns, "localhost", "80", &h, gai_cb, &g) == nullptr);
  BOOST_TEST(g.err == 0);
  BOOST_TEST(g.addr_set() == std::set<std::string>{"127.0.0.1"});
}

BOOST_FIXTURE_TEST_CASE(clear_host_addresses_forgets_the_hosts_entries, ZoneCase, *needs_dnsmasq) {
  TempFile hosts("10.1.1.3 both.example\n");
  BOOST_TEST(evdns_base_load_hosts(dns, hosts.path()) == 0);
  evdns_base_clear_host_addresses(dns);
  GaiResult g;
  const evutil_addrinfo h = hints_for(AF_INET);
  BOOST_TEST(evdns_getaddrinfo(dns, "both.example", "80", &h, gai_cb, &g) != nullptr);  // asks dnsmasq
  BOOST_TEST(loop_until(base, [&] { return g.done(); }));
  BOOST_TEST(g.addr_set() == std::set<std::string>{"10.0.0.2"});
}

BOOST_AUTO_TEST_SUITE_END()

// ================================================================================
BOOST_AUTO_TEST_SUITE(connect_hostname_cases)

namespace {

// Echoes whatever a connection sends, on bufferevents of the base.
struct EchoServer {
  Listener listener;
  std::vector<bufferevent*> conns;

  explicit EchoServer(event_base* base) {
    const Addr a = ipv4_loopback(0);
    listener.reset(evconnlistener_new_bind(base, on_accept, this, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
                                           a.sa(), a.ilen()));
    BOOST_TEST_REQUIRE(listener.l != nullptr);
  }
  ~EchoServer() {
    for (auto* b : conns)
      bufferevent_free(b);
  }
  unsigned port() const { return address_of(listener).port(); }

  static void on_accept(evconnlistener* l, evutil_socket_t fd, sockaddr*, int, void* arg) {
    auto* self = static_cast<EchoServer*>(arg);
    bufferevent* b = bufferevent_socket_new(evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(b, on_read, nullptr, nullptr, nullptr);
    bufferevent_enable(b, EV_READ | EV_WRITE);
    self->conns.push_back(b);
  }
  static void on_read(bufferevent* b, void*) { bufferevent_write_buffer(b, bufferevent_get_input(b)); }
};

// A client bufferevent that says "hello" once connected and keeps what
// comes back.
struct Client {
  bufferevent* bev;
  short events = 0;
  int event_calls = 0;
  int dns_error_at_event = -1000;
  std::string received;

  explicit Client(event_base* base) : bev(bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)) {
    BOOST_TEST_REQUIRE(bev != nullptr);
    bufferevent_setcb(bev, on_read, nullptr, on_event, this);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
  }
  ~Client() { bufferevent_free(bev); }

  static void on_event(bufferevent* b, short what, void* arg) {
    auto* self = static_cast<Client*>(arg);
    self->events |= what;
    ++self->event_calls;
    self->dns_error_at_event = bufferevent_socket_get_dns_error(b);
    if (what & BEV_EVENT_CONNECTED)
      bufferevent_write(b, "hello", 5);
  }
  static void on_read(bufferevent* b, void* arg) {
    auto* self = static_cast<Client*>(arg);
    char buf[64];
    size_t n;
    while ((n = bufferevent_read(b, buf, sizeof buf)) > 0)
      self->received.append(buf, n);
  }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(connect_hostname_resolves_connects_and_data_flows, ZoneCase, *needs_dnsmasq) {
  {
    EchoServer echo(base);
    Client c(base);
    BOOST_TEST(bufferevent_socket_connect_hostname(c.bev, dns, AF_INET, "loop.example", static_cast<int>(echo.port())) ==
               0);
    BOOST_TEST(loop_until(base, [&] { return c.received == "hello" || (c.events & BEV_EVENT_ERROR); }));
    BOOST_TEST((c.events & BEV_EVENT_CONNECTED) != 0);
    BOOST_TEST((c.events & BEV_EVENT_ERROR) == 0);
    BOOST_TEST(c.received == "hello");
    BOOST_TEST(bufferevent_socket_get_dns_error(c.bev) == 0);
  }
}

BOOST_FIXTURE_TEST_CASE(connect_hostname_with_unspec_uses_the_ipv4_answer, ZoneCase, *needs_dnsmasq) {
  {
    EchoServer echo(base);
    Client c(base);
    BOOST_TEST(bufferevent_socket_connect_hostname(c.bev, dns, AF_UNSPEC, "loop.example", static_cast<int>(echo.port())) ==
               0);
    BOOST_TEST(loop_until(base, [&] { return c.received == "hello" || (c.events & BEV_EVENT_ERROR); }));
    BOOST_TEST((c.events & BEV_EVENT_CONNECTED) != 0);
    BOOST_TEST(c.received == "hello");
  }
}

BOOST_FIXTURE_TEST_CASE(connect_hostname_to_a_name_that_does_not_exist_is_an_error_with_the_eai_code, ZoneCase,
                        *needs_dnsmasq) {
  Client c(base);
  BOOST_TEST(bufferevent_socket_connect_hostname(c.bev, dns, AF_UNSPEC, "nx.example", 80) == 0);
  BOOST_TEST(loop_until(base, [&] { return c.event_calls > 0; }));
  loop_for(base, 50);
  BOOST_TEST(c.event_calls == 1);
  BOOST_TEST(c.events == (BEV_EVENT_ERROR));
  BOOST_TEST(c.dns_error_at_event == EVUTIL_EAI_NONAME);
  BOOST_TEST(bufferevent_socket_get_dns_error(c.bev) == EVUTIL_EAI_NONAME);
}

// With no evdns_base the name is resolved by the system, blocking.
BOOST_FIXTURE_TEST_CASE(connect_hostname_without_an_evdns_base_resolves_localhost_blocking, DnsCase) {
  {
    EchoServer echo(base);
    Client c(base);
    BOOST_TEST(bufferevent_socket_connect_hostname(c.bev, nullptr, AF_INET, "localhost", static_cast<int>(echo.port())) ==
               0);
    BOOST_TEST(loop_until(base, [&] { return c.received == "hello" || (c.events & BEV_EVENT_ERROR); }));
    BOOST_TEST((c.events & BEV_EVENT_CONNECTED) != 0);
    BOOST_TEST(c.received == "hello");
  }
}

BOOST_FIXTURE_TEST_CASE(connect_hostname_refuses_a_bad_family_or_port, DnsCase) {
  Client c(base);
  BOOST_TEST(bufferevent_socket_connect_hostname(c.bev, dns, AF_UNIX, "localhost", 80) == -1);
  BOOST_TEST(bufferevent_socket_connect_hostname(c.bev, dns, AF_INET, "localhost", 0) == -1);
  BOOST_TEST(bufferevent_socket_connect_hostname(c.bev, dns, AF_INET, "localhost", 65536) == -1);
}

BOOST_AUTO_TEST_SUITE_END()

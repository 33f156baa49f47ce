// evdns configuration, as libevent's: nameservers, options, resolv.conf,
// the hosts entries and the search list; and the C entry points of the
// evdns_base and its resolve calls.
#include "detail/evdns.hpp"

#include "detail/c_boundary.hpp"
#include "detail/current_base.hpp"
#include "detail/base.hpp"
#include "detail/log.hpp"

#include <event2/util.h>

#include <arpa/inet.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

using evasio::detail::fail;
using evasio::detail::guarded;
using evasio::detail::guarded_void;
namespace dns = evasio::detail::dns;

namespace {

std::atomic<evdns_debug_log_fn_type> log_fn{nullptr};

// libevent's option matching: "name", "name:" or "name:junk" (resolv.conf).
bool option_is(const char* s, const char* name_colon) {
  const size_t optlen = std::strlen(name_colon), slen = std::strlen(s);
  if (slen == optlen || slen == optlen - 1)
    return std::strncmp(s, name_colon, slen) == 0;
  if (slen > optlen)
    return std::strncmp(s, name_colon, optlen) == 0;
  return false;
}

// libevent's strtoint: a whole decimal number, -1 otherwise (and for -1).
int to_int(const char* s) {
  char* end;
  const long r = std::strtol(s, &end, 10);
  if (*end)
    return -1;
  return static_cast<int>(r);
}

int to_int_clipped(const char* s, int lo, int hi) {
  const int r = to_int(s);
  return r == -1 ? -1 : r < lo ? lo : r > hi ? hi : r;
}

// libevent's: seconds as a decimal, at least a millisecond.
bool to_timeval(const char* s, timeval& tv) {
  char* end;
  const double d = std::strtod(s, &end);
  if (*end || d < 0 || d > static_cast<double>(INT_MAX))
    return false;
  tv.tv_sec = static_cast<int>(d);
  tv.tv_usec = static_cast<int>((d - static_cast<int>(d)) * 1000000);
  return !(tv.tv_sec == 0 && tv.tv_usec < 1000);
}

bool read_file(const char* path, std::string& out, int& err) {
  std::FILE* f = std::fopen(path, "rb");
  if (!f) {
    err = 1;
    return false;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
    out.append(buf, n);
  const bool bad = std::ferror(f);
  std::fclose(f);
  if (bad) {
    err = 2;
    return false;
  }
  return true;
}

std::vector<std::string> tokens(const std::string& line) {
  std::vector<std::string> t;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
      ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t')
      ++j;
    if (j > i)
      t.push_back(line.substr(i, j - i));
    i = j;
  }
  return t;
}

int add_ip_string(evdns_base* b, const char* s) {
  sockaddr_storage ss;
  int len = sizeof ss;
  std::memset(&ss, 0, sizeof ss);
  if (evutil_parse_sockaddr_port(s, reinterpret_cast<sockaddr*>(&ss), &len)) {
    dns::log(EVENT_LOG_WARN, "Unable to parse nameserver address %s", s);
    return 4;
  }
  auto* sa = reinterpret_cast<sockaddr*>(&ss);
  if (sa->sa_family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(sa);
    if (!sin->sin_port)
      sin->sin_port = htons(53);
  } else if (sa->sa_family == AF_INET6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(sa);
    if (!sin6->sin6_port)
      sin6->sin6_port = htons(53);
  }
  return b->add_nameserver(sa, static_cast<socklen_t>(len));
}

void parse_hosts_line(evdns_base* b, const std::string& raw) {
  const std::vector<std::string> t = tokens(raw);
  if (t.empty() || t[0][0] == '#')
    return;
  dns::hosts_entry e;
  std::memset(&e.addr, 0, sizeof e.addr);
  int len = sizeof e.addr;
  if (evutil_parse_sockaddr_port(t[0].c_str(), reinterpret_cast<sockaddr*>(&e.addr), &len) < 0)
    return;
  const auto* sa = reinterpret_cast<const sockaddr*>(&e.addr);
  if (sa->sa_family == AF_INET ? reinterpret_cast<const sockaddr_in*>(sa)->sin_port
                               : reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port)
    return;  // an address with a port is no hosts entry
  e.len = static_cast<socklen_t>(len);
  for (size_t i = 1; i < t.size(); ++i) {
    std::string name = t[i];
    const size_t hash = name.find('#');
    if (hash == 0)
      return;
    if (hash != std::string::npos)
      name.resize(hash);
    e.name = name;
    b->hosts_.push_back(e);
    if (hash != std::string::npos)
      return;
  }
}

} // namespace

namespace evasio::detail::dns {

void log(int severity, const char* fmt, ...) noexcept {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (evdns_debug_log_fn_type fn = log_fn.load())
    fn(severity == EVENT_LOG_WARN ? 1 : 0, buf);
  else if (severity != EVENT_LOG_DEBUG)
    evasio::detail::log_msg(severity, "%s", buf);
  else
    EVASIO_LOG_DEBUG("%s", buf);
}

std::string format_addr(const sockaddr* sa) {
  char host[INET6_ADDRSTRLEN] = "?";
  char out[INET6_ADDRSTRLEN + 16];
  if (sa->sa_family == AF_INET) {
    auto* sin = reinterpret_cast<const sockaddr_in*>(sa);
    evutil_inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
    std::snprintf(out, sizeof out, "%s:%d", host, ntohs(sin->sin_port));
  } else if (sa->sa_family == AF_INET6) {
    auto* sin6 = reinterpret_cast<const sockaddr_in6*>(sa);
    evutil_inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
    std::snprintf(out, sizeof out, "[%s]:%d", host, ntohs(sin6->sin6_port));
  } else {
    return "<addr with socktype " + std::to_string(sa->sa_family) + ">";
  }
  return out;
}

::evdns_base*& global_base() noexcept {
  static ::evdns_base* b = nullptr;
  return b;
}

} // namespace evasio::detail::dns

// ---- configuration -----------------------------------------------------------

int evdns_base::set_option(const char* option, const char* val, int flags) {
  timeval tv;
  if (option_is(option, "ndots:")) {
    const int n = to_int(val);
    if (n == -1)
      return -1;
    if (flags & DNS_OPTION_SEARCH)
      ndots_ = n;
  } else if (option_is(option, "timeout:")) {
    if (!to_timeval(val, tv))
      return -1;
    if (flags & DNS_OPTION_MISC) {
      timeout_ = tv;
      config_changed();
    }
  } else if (option_is(option, "getaddrinfo-allow-skew:")) {
    if (!to_timeval(val, tv))
      return -1;
    if (flags & DNS_OPTION_MISC)
      getaddrinfo_skew_ = tv;
  } else if (option_is(option, "max-timeouts:")) {
    const int n = to_int_clipped(val, 1, 255);
    if (n == -1)
      return -1;
    if (flags & DNS_OPTION_MISC)
      max_timeouts_ = n;
  } else if (option_is(option, "max-inflight:")) {
    const int n = to_int_clipped(val, 1, 65000);
    if (n == -1)
      return -1;
    if (flags & DNS_OPTION_MISC) {
      max_inflight_ = n;
      pump_waiting();
    }
  } else if (option_is(option, "attempts:")) {
    int n = to_int(val);
    if (n == -1)
      return -1;
    if (n > 255)
      n = 255;
    if (flags & DNS_OPTION_MISC)
      attempts_ = n;
  } else if (option_is(option, "randomize-case:")) {
    const int n = to_int(val);
    if (n == -1)
      return -1;
    if (flags & DNS_OPTION_MISC)
      randomize_case_ = n != 0;
  } else if (option_is(option, "bind-to:")) {
    if (!(flags & DNS_OPTION_NAMESERVERS))
      return 0;
    sockaddr_storage ss;
    int len = sizeof ss;
    if (evutil_parse_sockaddr_port(val, reinterpret_cast<sockaddr*>(&ss), &len))
      return -1;
    // As libevent: for the nameservers added from now on.
    bind_to_ = ss;
    bind_to_len_ = static_cast<socklen_t>(len);
  } else if (option_is(option, "initial-probe-timeout:")) {
    if (!to_timeval(val, tv))
      return -1;
    if (tv.tv_sec > 3600)
      tv.tv_sec = 3600;
    if (flags & DNS_OPTION_MISC)
      probe_timeout_ = tv;
  } else if (option_is(option, "so-rcvbuf:") || option_is(option, "so-sndbuf:")) {
    const int n = to_int(val);
    if (n == -1)
      return -1;
    if (flags & DNS_OPTION_MISC)  // as libevent: for the nameservers added from now on
      (option_is(option, "so-rcvbuf:") ? so_rcvbuf_ : so_sndbuf_) = n;
  }
  return 0;  // as libevent: an unknown option is no error
}

void evdns_base::search_clear() {
  search_.clear();
  ndots_ = 1;  // libevent's new search state
}

void evdns_base::search_add(const char* domain) {
  while (*domain == '.')
    ++domain;
  // libevent puts each new domain first.
  search_.insert(search_.begin(), domain);
}

// libevent's default search list: the domain part of the host name.
void evdns_base::search_set_from_hostname() {
  search_clear();
  char host[HOST_NAME_MAX + 1];
  if (gethostname(host, sizeof host))
    return;
  host[HOST_NAME_MAX] = 0;
  if (const char* dot = std::strchr(host, '.'))
    search_add(dot);
}

int evdns_base::resolv_conf_parse(int flags, const char* filename) {
  const bool add_default = (flags & DNS_OPTION_NAMESERVERS) && !(flags & DNS_OPTION_NAMESERVERS_NO_DEFAULT);
  if (flags & DNS_OPTION_HOSTSFILE)
    load_hosts("/etc/hosts");
  auto defaults = [&] {
    if (flags & DNS_OPTION_SEARCH)
      search_set_from_hostname();
    if (add_default)
      add_ip_string(this, "127.0.0.1");
  };
  std::string text;
  int err = 0;
  if (!filename || !read_file(filename, text, err)) {
    if (!filename || err == 1) {
      defaults();
      return 1;
    }
    return err;
  }
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (const size_t nul = line.find('\0'); nul != std::string::npos)
      line.resize(nul);
    const std::vector<std::string> t = tokens(line);
    if (t.empty())
      continue;
    if (t[0] == "nameserver" && (flags & DNS_OPTION_NAMESERVERS)) {
      if (t.size() > 1)
        add_ip_string(this, t[1].c_str());
    } else if (t[0] == "domain" && (flags & DNS_OPTION_SEARCH)) {
      if (t.size() > 1) {
        search_clear();
        search_add(t[1].c_str());
      }
    } else if (t[0] == "search" && (flags & DNS_OPTION_SEARCH)) {
      search_clear();
      for (size_t i = 1; i < t.size(); ++i) {
        const char* d = t[i].c_str();
        while (*d == '.')
          ++d;
        search_.push_back(d);  // the file's order
      }
    } else if (t[0] == "options") {
      for (size_t i = 1; i < t.size(); ++i) {
        const char* colon = std::strchr(t[i].c_str(), ':');
        set_option(t[i].c_str(), colon ? colon + 1 : "", flags);
      }
    }
  }
  if (servers_.empty() && add_default) {
    add_ip_string(this, "127.0.0.1");
    err = 6;
  }
  if ((flags & DNS_OPTION_SEARCH) && search_.empty())
    search_set_from_hostname();
  return err;
}

int evdns_base::load_hosts(const char* fname) {
  std::string text;
  int err = 0;
  if (!fname || !read_file(fname, text, err)) {
    parse_hosts_line(this, "127.0.0.1   localhost");
    parse_hosts_line(this, "::1   localhost");
    return fname ? -1 : 0;
  }
  if (const size_t nul = text.find('\0'); nul != std::string::npos)
    text.resize(nul);  // as libevent: the file ends at a NUL
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    parse_hosts_line(this, line);
  return 0;
}

std::vector<const dns::hosts_entry*> evdns_base::hosts_for(const char* name) const {
  std::vector<const dns::hosts_entry*> out;
  for (const auto& e : hosts_)
    if (evutil_ascii_strcasecmp(e.name.c_str(), name) == 0)
      out.push_back(&e);
  return out;
}

// ---- C boundary ------------------------------------------------------------------

#define EVDNS_LOCKED(b) evasio::detail::recursive_scoped_lock evdns_guard_((b)->mutex_)

extern "C" {

struct evdns_base* evdns_base_new(struct event_base* event_base, int flags) {
  if (!event_base)
    event_base = evasio::detail::current_base();
  if (!event_base)
    return fail<struct evdns_base*>(nullptr, EINVAL);
  constexpr int known =
      EVDNS_BASE_INITIALIZE_NAMESERVERS | EVDNS_BASE_DISABLE_WHEN_INACTIVE | EVDNS_BASE_NAMESERVERS_NO_DEFAULT;
  if (flags & ~known) {
    dns::log(EVENT_LOG_WARN, "Unrecognized flag passed to evdns_base_new(). Assuming you meant "
                   "EVDNS_BASE_INITIALIZE_NAMESERVERS.");
    flags = EVDNS_BASE_INITIALIZE_NAMESERVERS;
  }
  return guarded<struct evdns_base*>(nullptr, [&]() -> struct evdns_base* {
    auto b = std::make_unique<evdns_base>(event_base, event_base->multi_threaded());
    b->disable_when_inactive_ = flags & EVDNS_BASE_DISABLE_WHEN_INACTIVE;
    if (flags & EVDNS_BASE_INITIALIZE_NAMESERVERS) {
      int opts = DNS_OPTIONS_ALL;
      if (flags & EVDNS_BASE_NAMESERVERS_NO_DEFAULT)
        opts |= DNS_OPTION_NAMESERVERS_NO_DEFAULT;
      EVDNS_LOCKED(b);
      if (b->resolv_conf_parse(opts, "/etc/resolv.conf") != 0)
        return nullptr;  // as libevent: no usable resolv.conf, no base
    }
    return b.release();
  });
}

void evdns_base_free(struct evdns_base* base, int fail_requests) {
  if (!base)
    return;
  base->mutex_.lock();
  base->free_base(fail_requests != 0);  // unlocks
}

void evdns_base_clear_host_addresses(struct evdns_base* base) {
  if (!base)
    return;
  EVDNS_LOCKED(base);
  base->hosts_.clear();
}

const char* evdns_err_to_string(int err) {
  switch (err) {
  case DNS_ERR_NONE: return "no error";
  case DNS_ERR_FORMAT: return "misformatted query";
  case DNS_ERR_SERVERFAILED: return "server failed";
  case DNS_ERR_NOTEXIST: return "name does not exist";
  case DNS_ERR_NOTIMPL: return "query not implemented";
  case DNS_ERR_REFUSED: return "refused";
  case DNS_ERR_TRUNCATED: return "reply truncated or ill-formed";
  case DNS_ERR_UNKNOWN: return "unknown";
  case DNS_ERR_TIMEOUT: return "request timed out";
  case DNS_ERR_SHUTDOWN: return "dns subsystem shut down";
  case DNS_ERR_CANCEL: return "dns request canceled";
  case DNS_ERR_NODATA: return "no records in the reply";
  default: return "[Unknown error code]";
  }
}

int evdns_base_nameserver_add(struct evdns_base* base, unsigned long int address) {
  if (!base)
    return fail(-1, EINVAL);
  sockaddr_in sin;
  std::memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = static_cast<in_addr_t>(address);
  sin.sin_port = htons(53);
  EVDNS_LOCKED(base);
  return guarded(-1, [&] { return base->add_nameserver(reinterpret_cast<sockaddr*>(&sin), sizeof sin); });
}

int evdns_base_count_nameservers(struct evdns_base* base) {
  if (!base)
    return fail(-1, EINVAL);
  EVDNS_LOCKED(base);
  return static_cast<int>(base->servers_.size());
}

int evdns_base_clear_nameservers_and_suspend(struct evdns_base* base) {
  if (!base)
    return fail(-1, EINVAL);
  EVDNS_LOCKED(base);
  return guarded(-1, [&] { base->clear_nameservers_and_suspend(); return 0; });
}

int evdns_base_resume(struct evdns_base* base) {
  if (!base)
    return fail(-1, EINVAL);
  EVDNS_LOCKED(base);
  return guarded(-1, [&] { base->resume(); return 0; });
}

int evdns_base_nameserver_ip_add(struct evdns_base* base, const char* ip_as_string) {
  if (!base || !ip_as_string)
    return fail(-1, EINVAL);
  EVDNS_LOCKED(base);
  return guarded(-1, [&] { return add_ip_string(base, ip_as_string); });
}

int evdns_base_nameserver_sockaddr_add(struct evdns_base* base, const struct sockaddr* sa, ev_socklen_t len,
                                       unsigned flags) {
  (void)flags;
  if (!base || !sa)
    return fail(-1, EINVAL);
  if (!((sa->sa_family == AF_INET && len >= sizeof(sockaddr_in)) ||
        (sa->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6))))
    return 2;  // evasio: only IPv4 and IPv6 nameservers (libevent: a socket error)
  EVDNS_LOCKED(base);
  return guarded(-1, [&] { return base->add_nameserver(sa, len); });
}

int evdns_base_get_nameserver_addr(struct evdns_base* base, int idx, struct sockaddr* sa, ev_socklen_t len) {
  if (!base)
    return fail(-1, EINVAL);
  EVDNS_LOCKED(base);
  if (idx < 0)
    idx = 0;  // as libevent's walk, which a negative index does not move
  if (static_cast<size_t>(idx) >= base->servers_.size())
    return -1;
  // Counted from the ring's head, which moves as servers are picked.
  const auto& s = *base->servers_[(base->head_ + static_cast<size_t>(idx)) % base->servers_.size()];
  if (s.len > len || !sa)
    return static_cast<int>(s.len);
  std::memcpy(sa, &s.addr, s.len);
  return static_cast<int>(s.len);
}

static struct evdns_request* resolve(struct evdns_base* base, char type, const char* name, int flags,
                                     evdns_callback_type cb, void* ptr) {
  if (!base || !name)
    return fail<struct evdns_request*>(nullptr, EINVAL);
  EVDNS_LOCKED(base);
  return guarded<struct evdns_request*>(nullptr, [&] { return base->resolve(type, name, flags, cb, ptr); });
}

struct evdns_request* evdns_base_resolve_ipv4(struct evdns_base* base, const char* name, int flags,
                                              evdns_callback_type callback, void* ptr) {
  return resolve(base, DNS_IPv4_A, name, flags, callback, ptr);
}

struct evdns_request* evdns_base_resolve_ipv6(struct evdns_base* base, const char* name, int flags,
                                              evdns_callback_type callback, void* ptr) {
  return resolve(base, DNS_IPv6_AAAA, name, flags, callback, ptr);
}

struct evdns_request* evdns_base_resolve_reverse(struct evdns_base* base, const struct in_addr* in, int flags,
                                                 evdns_callback_type callback, void* ptr) {
  if (!in)
    return fail<struct evdns_request*>(nullptr, EINVAL);
  const ev_uint32_t a = ntohl(in->s_addr);
  char name[32];
  std::snprintf(name, sizeof name, "%u.%u.%u.%u.in-addr.arpa", a & 0xff, (a >> 8) & 0xff, (a >> 16) & 0xff,
                a >> 24);
  return resolve(base, DNS_PTR, name, flags, callback, ptr);
}

struct evdns_request* evdns_base_resolve_reverse_ipv6(struct evdns_base* base, const struct in6_addr* in,
                                                      int flags, evdns_callback_type callback, void* ptr) {
  if (!in)
    return fail<struct evdns_request*>(nullptr, EINVAL);
  static const char hex[] = "0123456789abcdef";
  char name[80];
  char* p = name;
  for (int i = 15; i >= 0; --i) {
    const unsigned byte = in->s6_addr[i];
    *p++ = hex[byte & 0x0f];
    *p++ = '.';
    *p++ = hex[byte >> 4];
    *p++ = '.';
  }
  std::strcpy(p, "ip6.arpa");
  return resolve(base, DNS_PTR, name, flags, callback, ptr);
}

void evdns_cancel_request(struct evdns_base* base, struct evdns_request* req) {
  if (!req)
    return;
  if (!base)
    base = req->base;
  EVDNS_LOCKED(base);
  guarded_void([&] { base->cancel(req); });
}

int evdns_base_set_option(struct evdns_base* base, const char* option, const char* val) {
  if (!base || !option || !val)
    return fail(-1, EINVAL);
  EVDNS_LOCKED(base);
  return guarded(-1, [&] { return base->set_option(option, val, DNS_OPTIONS_ALL); });
}

int evdns_base_resolv_conf_parse(struct evdns_base* base, int flags, const char* const filename) {
  if (!base)
    return fail(-1, EINVAL);
  EVDNS_LOCKED(base);
  return guarded(4, [&] { return base->resolv_conf_parse(flags, filename); });
}

int evdns_base_load_hosts(struct evdns_base* base, const char* hosts_fname) {
  if (!base)
    return fail(-1, EINVAL);
  EVDNS_LOCKED(base);
  return guarded(-1, [&] { return base->load_hosts(hosts_fname); });
}

void evdns_base_search_clear(struct evdns_base* base) {
  if (!base)
    return;
  EVDNS_LOCKED(base);
  guarded_void([&] { base->search_clear(); });
}

void evdns_base_search_add(struct evdns_base* base, const char* domain) {
  if (!base || !domain)
    return;
  EVDNS_LOCKED(base);
  guarded_void([&] { base->search_add(domain); });
}

void evdns_base_search_ndots_set(struct evdns_base* base, const int ndots) {
  if (!base)
    return;
  EVDNS_LOCKED(base);
  base->ndots_ = ndots;
}

void evdns_set_log_fn(evdns_debug_log_fn_type fn) { log_fn.store(fn); }

void evdns_set_transaction_id_fn(ev_uint16_t (*)(void)) {}
void evdns_set_random_bytes_fn(void (*)(char*, size_t)) {}

} // extern "C"

// evdns_getaddrinfo: libevent's asynchronous getaddrinfo over the evdns_base.
// Numeric hosts, a NULL host and the base's hosts entries are answered
// before the call returns; other names are asked as an A and an AAAA
// request at once (as libevent: AF_UNSPEC asks both), and once one has
// answered the other gets getaddrinfo-allow-skew more to join it.
#include "detail/evdns.hpp"

#include "detail/addrinfo.hpp"
#include "detail/c_boundary.hpp"

#include <event2/event.h>
#include <event2/util.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

using evasio::detail::guarded;
namespace dns = evasio::detail::dns;

namespace evasio::detail {

evutil_addrinfo* new_addrinfo(const sockaddr* sa, socklen_t len, const evutil_addrinfo& hints) {
  if (hints.ai_socktype == 0 && hints.ai_protocol == 0) {
    // libevent's answer to open hints: a TCP entry, then a UDP one.
    evutil_addrinfo t = hints;
    t.ai_socktype = SOCK_STREAM;
    t.ai_protocol = IPPROTO_TCP;
    evutil_addrinfo* r1 = new_addrinfo(sa, len, t);
    if (!r1)
      return nullptr;
    t.ai_socktype = SOCK_DGRAM;
    t.ai_protocol = IPPROTO_UDP;
    evutil_addrinfo* r2 = new_addrinfo(sa, len, t);
    if (!r2) {
      evutil_freeaddrinfo(r1);
      return nullptr;
    }
    r1->ai_next = r2;
    return r1;
  }
  auto* ai = static_cast<evutil_addrinfo*>(std::calloc(1, sizeof(evutil_addrinfo) + len));
  if (!ai)
    return nullptr;
  ai->ai_addr = reinterpret_cast<sockaddr*>(reinterpret_cast<char*>(ai) + sizeof(evutil_addrinfo));
  std::memcpy(ai->ai_addr, sa, len);
  ai->ai_addrlen = len;
  ai->ai_family = sa->sa_family;
  ai->ai_flags = addrinfo_ours;
  ai->ai_socktype = hints.ai_socktype;
  ai->ai_protocol = hints.ai_protocol;
  return ai;
}

evutil_addrinfo* append_addrinfo(evutil_addrinfo* first, evutil_addrinfo* more) {
  if (!first)
    return more;
  evutil_addrinfo* ai = first;
  while (ai->ai_next)
    ai = ai->ai_next;
  ai->ai_next = more;
  return first;
}

} // namespace evasio::detail

namespace {

using evasio::detail::append_addrinfo;
using evasio::detail::new_addrinfo;

void set_port(sockaddr* sa, ev_uint16_t port) {
  if (sa->sa_family == AF_INET)
    reinterpret_cast<sockaddr_in*>(sa)->sin_port = htons(port);
  else if (sa->sa_family == AF_INET6)
    reinterpret_cast<sockaddr_in6*>(sa)->sin6_port = htons(port);
}

int parse_port(const char* servname, const evutil_addrinfo& hints) {
  char* end;
  const long n = std::strtol(servname, &end, 10);
  if (*servname && !*end && n >= 0 && n <= 65535)
    return static_cast<int>(n);
  if (!(hints.ai_flags & EVUTIL_AI_NUMERICSERV)) {
    const char* proto = hints.ai_protocol == IPPROTO_TCP ? "tcp" : hints.ai_protocol == IPPROTO_UDP ? "udp" : nullptr;
    if (const servent* s = getservbyname(servname, proto))
      return ntohs(static_cast<ev_uint16_t>(s->s_port));
  }
  return -1;
}

// AI_ADDRCONFIG with AF_UNSPEC: the one family this host has addresses of
// (loopback and link-local ones not counted), as libevent.
void adjust_for_addrconfig(evutil_addrinfo& hints) {
  if (!(hints.ai_flags & EVUTIL_AI_ADDRCONFIG) || hints.ai_family != PF_UNSPEC)
    return;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0)
    return;
  bool v4 = false, v6 = false;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr)
      continue;
    if (i->ifa_addr->sa_family == AF_INET) {
      const ev_uint32_t a = ntohl(reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr);
      if (a != 0 && (a >> 24) != 127 && (a >> 28) != 0xe)
        v4 = true;
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      const in6_addr& a = reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr;
      if (!IN6_IS_ADDR_LOOPBACK(&a) && !IN6_IS_ADDR_UNSPECIFIED(&a) && !IN6_IS_ADDR_LINKLOCAL(&a))
        v6 = true;
    }
  }
  freeifaddrs(list);
  if (v4 && !v6)
    hints.ai_family = PF_INET;
  else if (v6 && !v4)
    hints.ai_family = PF_INET6;
}

constexpr int need_resolve = 1;  // not an EVUTIL_EAI_* code

// libevent's evutil_getaddrinfo_common_: what needs no lookup.
int answer_without_lookup(const char* nodename, const char* servname, evutil_addrinfo& hints,
                          evutil_addrinfo** res, int& port) {
  if (!nodename && !servname)
    return EVUTIL_EAI_NONAME;
  if (hints.ai_family != PF_UNSPEC && hints.ai_family != PF_INET && hints.ai_family != PF_INET6)
    return EVUTIL_EAI_FAMILY;
  if (!hints.ai_protocol && hints.ai_socktype == SOCK_DGRAM)
    hints.ai_protocol = IPPROTO_UDP;
  else if (!hints.ai_protocol && hints.ai_socktype == SOCK_STREAM)
    hints.ai_protocol = IPPROTO_TCP;
  if (!hints.ai_socktype && hints.ai_protocol == IPPROTO_UDP)
    hints.ai_socktype = SOCK_DGRAM;
  else if (!hints.ai_socktype && (hints.ai_protocol == IPPROTO_TCP || hints.ai_protocol == IPPROTO_SCTP))
    hints.ai_socktype = SOCK_STREAM;
  port = 0;
  if (servname && (port = parse_port(servname, hints)) < 0)
    return EVUTIL_EAI_NONAME;
  if (!nodename) {
    // Bind to any, connect to localhost: IPv6 first, as libevent.
    evutil_addrinfo *r4 = nullptr, *r6 = nullptr;
    const bool passive = hints.ai_flags & EVUTIL_AI_PASSIVE;
    if (hints.ai_family != PF_INET) {
      sockaddr_in6 sin6;
      std::memset(&sin6, 0, sizeof sin6);
      sin6.sin6_family = AF_INET6;
      sin6.sin6_port = htons(static_cast<ev_uint16_t>(port));
      if (!passive)
        sin6.sin6_addr.s6_addr[15] = 1;
      if (!(r6 = new_addrinfo(reinterpret_cast<sockaddr*>(&sin6), sizeof sin6, hints)))
        return EVUTIL_EAI_MEMORY;
    }
    if (hints.ai_family != PF_INET6) {
      sockaddr_in sin;
      std::memset(&sin, 0, sizeof sin);
      sin.sin_family = AF_INET;
      sin.sin_port = htons(static_cast<ev_uint16_t>(port));
      if (!passive)
        sin.sin_addr.s_addr = htonl(0x7f000001);
      if (!(r4 = new_addrinfo(reinterpret_cast<sockaddr*>(&sin), sizeof sin, hints))) {
        evutil_freeaddrinfo(r6);
        return EVUTIL_EAI_MEMORY;
      }
    }
    *res = append_addrinfo(r4, r6);
    return 0;
  }
  if (hints.ai_family == PF_INET6 || hints.ai_family == PF_UNSPEC) {
    sockaddr_in6 sin6;
    std::memset(&sin6, 0, sizeof sin6);
    unsigned scope = 0;
    if (evutil_inet_pton_scope(AF_INET6, nodename, &sin6.sin6_addr, &scope) == 1) {
      sin6.sin6_family = AF_INET6;
      sin6.sin6_port = htons(static_cast<ev_uint16_t>(port));
      sin6.sin6_scope_id = scope;
      *res = new_addrinfo(reinterpret_cast<sockaddr*>(&sin6), sizeof sin6, hints);
      return *res ? 0 : EVUTIL_EAI_MEMORY;
    }
  }
  if (hints.ai_family == PF_INET || hints.ai_family == PF_UNSPEC) {
    sockaddr_in sin;
    std::memset(&sin, 0, sizeof sin);
    if (evutil_inet_pton(AF_INET, nodename, &sin.sin_addr) == 1) {
      sin.sin_family = AF_INET;
      sin.sin_port = htons(static_cast<ev_uint16_t>(port));
      *res = new_addrinfo(reinterpret_cast<sockaddr*>(&sin), sizeof sin, hints);
      return *res ? 0 : EVUTIL_EAI_MEMORY;
    }
  }
  if (hints.ai_flags & EVUTIL_AI_NUMERICHOST)
    return EVUTIL_EAI_NONAME;
  return need_resolve;
}

// The base's hosts entries for the name: 0 and the list (maybe empty, if
// entries exist for the other family only), or -1 for none.
int from_hosts(evdns_base* b, const char* name, const evutil_addrinfo& hints, int port, evutil_addrinfo** res) {
  const auto entries = b->hosts_for(name);
  if (entries.empty())
    return -1;
  evutil_addrinfo* out = nullptr;
  for (const auto* e : entries) {
    const int fam = reinterpret_cast<const sockaddr*>(&e->addr)->sa_family;
    if ((fam == AF_INET && hints.ai_family == PF_INET6) || (fam == AF_INET6 && hints.ai_family == PF_INET))
      continue;
    evutil_addrinfo* ai = new_addrinfo(reinterpret_cast<const sockaddr*>(&e->addr), e->len, hints);
    if (!ai) {
      evutil_freeaddrinfo(out);
      return -1;
    }
    for (evutil_addrinfo* i = ai; i; i = i->ai_next)
      set_port(i->ai_addr, static_cast<ev_uint16_t>(port));
    out = append_addrinfo(out, ai);
  }
  *res = out;
  return 0;
}

} // namespace

struct evdns_getaddrinfo_request {
  struct sub {
    evdns_getaddrinfo_request* owner;
    evdns_request* r = nullptr;
    char type;
  };
  evdns_base* base = nullptr;
  evutil_addrinfo hints{};
  ev_uint16_t port = 0;
  evdns_getaddrinfo_cb cb = nullptr;
  void* arg = nullptr;
  sub v4{this, nullptr, DNS_IPv4_A};
  sub v6{this, nullptr, DNS_IPv6_AAAA};
  ::event* skew = nullptr;
  evutil_addrinfo* pending_result = nullptr;
  int pending_error = 0;
  std::string cname;
  bool user_canceled = false;
  bool done = false;

  ~evdns_getaddrinfo_request() {
    evutil_freeaddrinfo(pending_result);
    if (skew)
      event_free(skew);
  }
  void add_cname(evutil_addrinfo* ai) {
    if (ai && !cname.empty() && !ai->ai_canonname)
      ai->ai_canonname = strdup(cname.c_str());
  }
  void report(int err, evutil_addrinfo* ai) {
    evdns_getaddrinfo_cb f = cb;
    cb = nullptr;
    if (f)
      f(err, ai, arg);
    else
      evutil_freeaddrinfo(ai);
  }
  static void got(int result, char type, int count, int ttl, void* addresses, void* arg);
  static void skew_expired(evutil_socket_t, short, void* arg);
};

namespace {

int gai_of(int dns_err) {
  return dns_err == DNS_ERR_NONE ? 0 : dns_err == DNS_ERR_NOTEXIST ? EVUTIL_EAI_NONAME : EVUTIL_EAI_FAIL;
}

} // namespace

// One of the two lookups ended: libevent's evdns_getaddrinfo_gotresolve.
void evdns_getaddrinfo_request::got(int result, char type, int count, int, void* addresses, void* arg) {
  auto* s = static_cast<sub*>(arg);
  evdns_getaddrinfo_request* d = s->owner;
  sub* other = s == &d->v4 ? &d->v6 : &d->v4;
  s->r = nullptr;
  if (!other->r)
    d->done = true;
  if (result == DNS_ERR_SHUTDOWN)
    d->base = nullptr;
  const bool canceled = d->user_canceled;
  if (result == DNS_ERR_CANCEL && !canceled) {
    // Our own cancel (the skew timer): the user has had the answer.
    if (!other->r)
      delete d;
    return;
  }
  if (!d->cb) {
    if (!other->r)
      delete d;
    return;
  }
  int err = result == DNS_ERR_NONE ? (count == 0 ? EVUTIL_EAI_NODATA : 0) : gai_of(result);
  auto arm_skew = [&] {
    if (d->base && result != DNS_ERR_SHUTDOWN)
      event_add(d->skew, &d->base->getaddrinfo_skew_);
  };
  if (err) {
    if (other->r) {
      arm_skew();
      d->pending_error = err;
      return;
    }
    if (canceled) {
      d->report(EVUTIL_EAI_CANCEL, nullptr);
    } else if (d->pending_result) {
      evutil_addrinfo* r = d->pending_result;
      d->pending_result = nullptr;
      d->add_cname(r);
      d->report(0, r);
    } else {
      d->report(err, nullptr);  // libevent's merge keeps this error
    }
    delete d;
    return;
  }
  if (canceled) {
    if (other->r)
      return;  // it comes back cancelled too, and reports then
    d->report(EVUTIL_EAI_CANCEL, nullptr);
    delete d;
    return;
  }
  evutil_addrinfo* res = nullptr;
  const bool v4 = type == DNS_IPv4_A;
  for (int i = 0; i < count; ++i) {
    sockaddr_in sin;
    sockaddr_in6 sin6;
    const sockaddr* sa;
    socklen_t len;
    if (v4) {
      std::memset(&sin, 0, sizeof sin);
      sin.sin_family = AF_INET;
      sin.sin_port = htons(d->port);
      std::memcpy(&sin.sin_addr, static_cast<char*>(addresses) + i * 4, 4);
      sa = reinterpret_cast<sockaddr*>(&sin);
      len = sizeof sin;
    } else {
      std::memset(&sin6, 0, sizeof sin6);
      sin6.sin6_family = AF_INET6;
      sin6.sin6_port = htons(d->port);
      std::memcpy(&sin6.sin6_addr, static_cast<char*>(addresses) + i * 16, 16);
      sa = reinterpret_cast<sockaddr*>(&sin6);
      len = sizeof sin6;
    }
    evutil_addrinfo* ai = new_addrinfo(sa, len, d->hints);
    if (!ai) {
      if (other->r)
        evdns_cancel_request(nullptr, other->r);
      evutil_freeaddrinfo(res);
      d->report(EVUTIL_EAI_MEMORY, nullptr);
      if (!other->r)
        delete d;
      return;
    }
    res = append_addrinfo(res, ai);
  }
  if (other->r) {
    arm_skew();
    d->pending_result = res;
    return;
  }
  if (d->pending_result) {
    // IPv4 entries first, whichever came first.
    res = v4 ? append_addrinfo(res, d->pending_result) : append_addrinfo(d->pending_result, res);
    d->pending_result = nullptr;
  }
  d->add_cname(res);
  d->report(0, res);
  delete d;
}

// One family answered, the other did not in time: report what we have.
void evdns_getaddrinfo_request::skew_expired(evutil_socket_t, short, void* arg) {
  auto* d = static_cast<evdns_getaddrinfo_request*>(arg);
  bool outstanding = false;
  for (sub* s : {&d->v4, &d->v6}) {
    if (s->r) {
      evdns_cancel_request(nullptr, s->r);  // comes back as DNS_ERR_CANCEL, then frees d
      outstanding = true;
    }
  }
  if (d->pending_result) {
    evutil_addrinfo* r = d->pending_result;
    d->pending_result = nullptr;
    d->add_cname(r);
    d->report(0, r);
  } else {
    d->report(d->pending_error ? d->pending_error : EVUTIL_EAI_AGAIN, nullptr);
  }
  if (!outstanding)
    delete d;
}

extern "C" {

struct evdns_getaddrinfo_request* evdns_getaddrinfo(struct evdns_base* dns_base, const char* nodename,
                                                    const char* servname, const struct evutil_addrinfo* hints_in,
                                                    evdns_getaddrinfo_cb cb, void* arg) {
  if (!cb) {
    errno = EINVAL;
    return nullptr;
  }
  if (!dns_base)
    dns_base = dns::global_base();
  if (!dns_base) {
    dns::log(EVENT_LOG_WARN, "Call to getaddrinfo_async with no evdns_base configured.");
    cb(EVUTIL_EAI_FAIL, nullptr, arg);
    return nullptr;
  }
  if (hints_in && (hints_in->ai_flags & EVUTIL_AI_NUMERICHOST)) {
    evutil_addrinfo* res = nullptr;
    const int err = evutil_getaddrinfo(nodename, servname, hints_in, &res);
    cb(err, res, arg);
    return nullptr;
  }
  evutil_addrinfo hints;
  std::memset(&hints, 0, sizeof hints);
  if (hints_in)
    hints = *hints_in;
  else
    hints.ai_family = PF_UNSPEC;
  adjust_for_addrconfig(hints);
  evutil_addrinfo* res = nullptr;
  int port = 0;
  const int err = answer_without_lookup(nodename, servname, hints, &res, port);
  if (err != need_resolve) {
    cb(err, res, arg);
    return nullptr;
  }
  {
    evasio::detail::recursive_scoped_lock g(dns_base->mutex_);
    if (from_hosts(dns_base, nodename, hints, port, &res) == 0) {
      g.unlock();
      cb(0, res, arg);
      return nullptr;
    }
  }
  auto* d = guarded<evdns_getaddrinfo_request*>(nullptr, [&] {
    auto p = std::make_unique<evdns_getaddrinfo_request>();
    p->skew = event_new(dns_base->ev_base, -1, 0, &evdns_getaddrinfo_request::skew_expired, p.get());
    if (!p->skew)
      throw std::bad_alloc();
    return p.release();
  });
  if (!d) {
    cb(EVUTIL_EAI_MEMORY, nullptr, arg);
    return nullptr;
  }
  d->base = dns_base;
  d->hints = hints;
  d->port = static_cast<ev_uint16_t>(port);
  d->cb = cb;
  d->arg = arg;
  const bool want_cname = hints.ai_flags & EVUTIL_AI_CANONNAME;
  bool started;
  {
    // Both lookups are made, and whether one was, read, under the lock: once
    // it is released the loop's thread may answer them and free d.
    evasio::detail::recursive_scoped_lock g(dns_base->mutex_);
    if (hints.ai_family != PF_INET6) {
      d->v4.r = evdns_base_resolve_ipv4(dns_base, nodename, 0, &evdns_getaddrinfo_request::got, &d->v4);
      if (want_cname && d->v4.r)
        d->v4.r->cname_out = &d->cname;
    }
    if (hints.ai_family != PF_INET) {
      d->v6.r = evdns_base_resolve_ipv6(dns_base, nodename, 0, &evdns_getaddrinfo_request::got, &d->v6);
      if (want_cname && d->v6.r)
        d->v6.r->cname_out = &d->cname;
    }
    started = d->v4.r || d->v6.r;
  }
  if (started)
    return d;
  delete d;
  cb(EVUTIL_EAI_FAIL, nullptr, arg);
  return nullptr;
}

void evdns_getaddrinfo_cancel(struct evdns_getaddrinfo_request* d) {
  if (!d || !d->base)
    return;
  evasio::detail::recursive_scoped_lock g(d->base->mutex_);
  if (d->done)
    return;
  event_del(d->skew);
  d->user_canceled = true;
  if (d->v4.r)
    d->base->cancel(d->v4.r);
  if (d->v6.r)
    d->base->cancel(d->v6.r);
}

} // extern "C"

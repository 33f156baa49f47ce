// evdns_base and its requests: libevent's resolver behaviour over c-ares
// channels (see detail/evdns.hpp for the division of labour).
#include "detail/evdns.hpp"

#include "detail/c_boundary.hpp"
#include "detail/current_base.hpp"

#include <event2/event.h>
#include <event2/util.h>

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <mutex>

using evasio::detail::fail;
using evasio::detail::guarded;
using evasio::detail::recursive_scoped_lock;
namespace dns = evasio::detail::dns;

namespace {

constexpr int type_a = 1, type_ptr = 12, type_aaaa = 28, type_cname = 5, type_soa = 6;
constexpr int class_in = 1;

void library_init() {
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

int ms_of(const timeval& tv) {
  const long long ms = static_cast<long long>(tv.tv_sec) * 1000 + tv.tv_usec / 1000;
  return static_cast<int>(std::clamp<long long>(ms, 1, 1 << 30));
}

ev_uint16_t get16(const unsigned char* p) { return static_cast<ev_uint16_t>(p[0] << 8 | p[1]); }
ev_uint32_t get32(const unsigned char* p) {
  return static_cast<ev_uint32_t>(p[0]) << 24 | static_cast<ev_uint32_t>(p[1]) << 16 |
         static_cast<ev_uint32_t>(p[2]) << 8 | p[3];
}

// A name at p within the message (c-ares decompresses it, loops and
// pointers past the end refused). Advances off past it; false if malformed.
bool read_name(const unsigned char* msg, int len, int& off, std::string* out) {
  char* name = nullptr;
  long used = 0;
  if (off >= len || ares_expand_name(msg + off, msg, len, &name, &used) != ARES_SUCCESS)
    return false;
  if (out)
    *out = name;
  ares_free_string(name);
  off += static_cast<int>(used);
  return off <= len;
}

// Past a name we do not need: its labels up to the end or a pointer (one
// back into the message, as compression points). False if malformed.
bool skip_name(const unsigned char* msg, int len, int& off) {
  const int start = off;
  while (off < len) {
    const unsigned l = msg[off];
    if (l == 0) {
      ++off;
      return true;
    }
    if ((l & 0xc0) == 0xc0) {
      if (off + 2 > len || static_cast<int>(((l & 0x3f) << 8) | msg[off + 1]) >= start)
        return false;
      off += 2;
      return true;
    }
    if (l & 0xc0)
      return false;
    off += 1 + static_cast<int>(l);
  }
  return false;
}

// What a reply says for a request, as libevent's reply_parse reads it.
struct parsed {
  bool ok = false;  // well formed
  bool have_answer = false;
  ev_uint32_t ttl = 0xffffffffu;
};

parsed parse_reply(const unsigned char* m, int len, evdns_request* req) {
  parsed r;
  if (len < 12)
    return r;
  const int qd = get16(m + 4), an = get16(m + 6), ns = get16(m + 8);
  int off = 12;
  for (int i = 0; i < qd; ++i) {
    if (!skip_name(m, len, off) || off + 4 > len)
      return r;
    off += 4;
  }
  auto rr_header = [&](int& type, int& cls, ev_uint32_t& ttl, int& rdlen) {
    if (!skip_name(m, len, off) || off + 10 > len)
      return false;
    type = get16(m + off);
    cls = get16(m + off + 2);
    ttl = get32(m + off + 4);
    rdlen = get16(m + off + 8);
    off += 10;
    return off + rdlen <= len;
  };
  req->count = 0;
  for (int i = 0; i < an; ++i) {
    int type, cls, rdlen;
    ev_uint32_t ttl;
    if (!rr_header(type, cls, ttl, rdlen))
      return r;
    const int next = off + rdlen;
    const int width = req->type == DNS_IPv4_A ? 4 : 16;
    if ((type == type_a && req->type == DNS_IPv4_A) || (type == type_aaaa && req->type == DNS_IPv6_AAAA)) {
      if (cls != class_in) {
        off = next;
        continue;
      }
      if (rdlen % width)
        return r;
      const int n = std::min(rdlen / width, dns::max_addrs - req->count);
      std::memcpy(reinterpret_cast<unsigned char*>(&req->addrs) + req->count * width, m + off,
                  static_cast<size_t>(n) * width);
      req->count += n;
      r.ttl = std::min(r.ttl, ttl);
      r.have_answer = true;
      if (req->count == dns::max_addrs)
        break;
    } else if (type == type_ptr && cls == class_in && req->type == DNS_PTR) {
      if (!read_name(m, len, off, &req->ptr))
        return r;
      r.ttl = std::min(r.ttl, ttl);
      r.have_answer = true;
      break;
    } else if (type == type_cname && req->cname_out && req->cname_out->empty()) {
      if (!read_name(m, len, off, req->cname_out))
        return r;
    }
    off = next;
  }
  if (!r.have_answer) {
    // A negative answer's TTL: its SOA's, as libevent reports it.
    for (int i = 0; i < ns; ++i) {
      int type, cls, rdlen;
      ev_uint32_t ttl;
      if (!rr_header(type, cls, ttl, rdlen))
        return r;
      const int next = off + rdlen;
      if (type == type_soa && cls == class_in) {
        if (!skip_name(m, len, off) || !skip_name(m, len, off) || off + 20 > len)
          return r;
        r.ttl = std::min({r.ttl, ttl, get32(m + off + 16)});
      }
      off = next;
    }
  }
  r.ok = true;
  return r;
}

// The query, encoded here (c-ares sends it, giving it its id): one
// question, recursion desired, the name's letters in random case if
// randomize-case (as libevent sends them). 0 if the name cannot be encoded
// (an empty label, or more than 255 bytes on the wire).
size_t encode_query(unsigned char (&out)[512], const std::string& name, int qtype, bool random_case) {
  std::memset(out, 0, 12);
  out[2] = 0x01;  // RD
  out[5] = 1;     // QDCOUNT
  size_t o = 12;
  unsigned char bits[32];
  if (random_case)
    evutil_secure_rng_get_bytes(bits, std::min(sizeof bits, (name.size() + 7) / 8));
  size_t label_at = o++;
  for (size_t i = 0; i < name.size(); ++i) {
    unsigned char ch = static_cast<unsigned char>(name[i]);
    if (ch == '.') {
      if (o - label_at == 1)
        return 0;  // an empty label
      out[label_at] = static_cast<unsigned char>(o - label_at - 1);
      label_at = o++;
      continue;
    }
    if (o - label_at > 63 || o >= 12 + 255)
      return 0;
    if (random_case && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) && i / 8 < sizeof bits)
      ch = (bits[i >> 3] & (1u << (i & 7))) ? static_cast<unsigned char>(ch | 0x20) : static_cast<unsigned char>(ch & ~0x20);
    out[o++] = ch;
  }
  if (o - label_at > 1)
    out[label_at] = static_cast<unsigned char>(o - label_at - 1);
  else
    --o;  // a final dot, or the root
  out[o++] = 0;
  if (o - 12 > 255)
    return 0;
  out[o++] = static_cast<unsigned char>(qtype >> 8);
  out[o++] = static_cast<unsigned char>(qtype);
  out[o++] = 0;
  out[o++] = class_in;
  return o;
}

int num_dots(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '.')); }

// libevent refuses a name it cannot encode: 256 bytes or more, or a label
// over 63 (the resolve call then returns NULL).
bool encodable(const char* name) {
  const size_t n = std::strlen(name);
  if (n > 255)
    return false;
  size_t label = 0;
  for (size_t i = 0; i < n; ++i) {
    if (name[i] == '.') {
      label = 0;
    } else if (++label > 63) {
      return false;
    }
  }
  return true;
}

} // namespace

// ---- the base ---------------------------------------------------------------

evdns_base::evdns_base(::event_base* base, bool locking) : ev_base(base), mutex_(locking) {
  library_init();
  answers_ev_ = event_new(base, -1, 0, &evdns_base::on_answers, this);
  keepalive_ = event_new(base, -1, EV_PERSIST, &evdns_base::on_keepalive, nullptr);
  if (!answers_ev_ || !keepalive_)
    throw std::bad_alloc();
}

evdns_base::~evdns_base() {
  remove_servers();
  event_free(answers_ev_);
  event_free(keepalive_);
}

evdns_base::channel* evdns_base::channel_for(dns::nameserver* ns) {
  if (!ns->chan)
    ns->chan = make_channel(*ns);
  return ns->chan;
}

evdns_base::channel* evdns_base::make_channel(dns::nameserver& ns) {
  auto c = std::make_unique<channel>();
  c->owner = this;
  c->ns = &ns;
  c->timer = event_new(ev_base, -1, 0, &evdns_base::on_timer, c.get());
  if (!c->timer)
    throw std::bad_alloc();
  ares_options o;
  std::memset(&o, 0, sizeof o);
  // Replies with SERVFAIL, NOTIMP and REFUSED come back to us: libevent's
  // policy for them (retransmit, reissue) is applied here. One try per
  // attempt: libevent's retransmissions are made here too, each waiting the
  // full timeout (c-ares alone would double it each round).
  o.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;  // (one server: no rotation)
  o.timeout = ms_of(timeout_);
  o.tries = 1;
  o.ndots = 1;
  o.sock_state_cb = &evdns_base::on_sock_state;
  o.sock_state_cb_data = c.get();
  o.nservers = 0;
  o.ndomains = 0;
  o.nsort = 0;
  o.lookups = const_cast<char*>("b");
  o.resolvconf_path = const_cast<char*>("/dev/null");  // the servers are ours alone
  int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_NDOTS | ARES_OPT_SOCK_STATE_CB |
             ARES_OPT_SERVERS | ARES_OPT_DOMAINS | ARES_OPT_SORTLIST | ARES_OPT_LOOKUPS | ARES_OPT_NOROTATE |
             ARES_OPT_RESOLVCONF;
  if (ares_init_options(&c->ch, &o, mask) != ARES_SUCCESS) {
    event_free(c->timer);
    throw std::bad_alloc();
  }
  ares_addr_port_node node;
  std::memset(&node, 0, sizeof node);
  const sockaddr* sa = reinterpret_cast<const sockaddr*>(&ns.addr);
  node.family = sa->sa_family;
  if (sa->sa_family == AF_INET) {
    auto* sin = reinterpret_cast<const sockaddr_in*>(sa);
    node.addr.addr4 = sin->sin_addr;
    node.udp_port = node.tcp_port = ntohs(sin->sin_port);
  } else {
    auto* sin6 = reinterpret_cast<const sockaddr_in6*>(sa);
    std::memcpy(&node.addr.addr6, &sin6->sin6_addr, 16);
    node.udp_port = node.tcp_port = ntohs(sin6->sin6_port);
  }
  ares_set_servers_ports(c->ch, &node);
  ares_set_socket_functions(c->ch, &socket_functions, c.get());
  channels_.push_back(std::move(c));
  return channels_.back().get();
}

// ---- c-ares's sockets, made here ----------------------------------------------

namespace {

bool is_loopback(const sockaddr* sa) {
  if (sa->sa_family == AF_INET)
    return (ntohl(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr.s_addr) >> 24) == 127;
  return sa->sa_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr);
}

ares_socket_t open_socket(int family, int type, int protocol, void* user) {
  auto* c = static_cast<dns::channel*>(user);
  dns::nameserver* ns = c->ns;
  if (type == SOCK_DGRAM && ns && ns->udp_fd >= 0 && !ns->udp_lent) {
    ns->udp_lent = true;
    return ns->udp_fd;
  }
  const int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0)
    return ARES_SOCKET_BAD;
  if (ns && c->owner->prepare_socket(fd, *ns) != 0) {
    ::close(fd);
    return ARES_SOCKET_BAD;
  }
  if (type == SOCK_STREAM) {
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

int close_socket(ares_socket_t fd, void* user) {
  dns::nameserver* ns = static_cast<dns::channel*>(user)->ns;
  if (ns && fd == ns->udp_fd && ns->udp_lent) {
    ns->udp_lent = false;  // back to its nameserver, open
    return 0;
  }
  return ::close(fd);
}

int connect_socket(ares_socket_t fd, const struct sockaddr* sa, ares_socklen_t len, void*) {
  return ::connect(fd, sa, len);
}

ares_ssize_t recv_socket(ares_socket_t fd, void* buf, size_t len, int flags, struct sockaddr* from,
                         ares_socklen_t* from_len, void*) {
  return ::recvfrom(fd, buf, len, flags, from, from_len);
}

ares_ssize_t send_socket(ares_socket_t fd, const struct iovec* iov, int n, void*) {
  msghdr m;
  std::memset(&m, 0, sizeof m);
  m.msg_iov = const_cast<iovec*>(iov);
  m.msg_iovlen = static_cast<size_t>(n);
  return ::sendmsg(fd, &m, MSG_NOSIGNAL);  // a TCP peer gone: EPIPE, not SIGPIPE
}

} // namespace

const ares_socket_functions evdns_base::socket_functions = {open_socket, close_socket, connect_socket, recv_socket,
                                                            send_socket};

// As libevent's nameserver sockets: bound to bind-to (unless the server is
// on the loopback), with the socket buffer sizes asked for. 0, or libevent's
// code for evdns_base_nameserver_*_add: 2 (bind), -SO_RCVBUF, -SO_SNDBUF.
int evdns_base::prepare_socket(int fd, const dns::nameserver& ns) const noexcept {
  if (bind_to_len_ && !is_loopback(reinterpret_cast<const sockaddr*>(&ns.addr)) &&
      ::bind(fd, reinterpret_cast<const sockaddr*>(&bind_to_), bind_to_len_) < 0) {
    dns::log(EVENT_LOG_WARN, "Couldn't bind to outgoing address");
    return 2;
  }
  if (so_rcvbuf_ && ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &so_rcvbuf_, sizeof so_rcvbuf_)) {
    dns::log(EVENT_LOG_WARN, "Couldn't set SO_RCVBUF to %i", so_rcvbuf_);
    return -SO_RCVBUF;
  }
  if (so_sndbuf_ && ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &so_sndbuf_, sizeof so_sndbuf_)) {
    dns::log(EVENT_LOG_WARN, "Couldn't set SO_SNDBUF to %i", so_sndbuf_);
    return -SO_SNDBUF;
  }
  return 0;
}

void evdns_base::destroy_channel(channel* c) noexcept {
  for (auto& ns : servers_)
    if (ns->chan == c)
      ns->chan = nullptr;
  if (c->ch) {
    ++cares_depth_;
    ares_destroy(c->ch);  // outstanding queries come back as ARES_EDESTRUCTION
    --cares_depth_;
    c->ch = nullptr;
  }
  for (auto& s : c->socks)
    event_free(s.ev);
  c->socks.clear();
  if (c->timer)
    event_free(c->timer);
  c->timer = nullptr;
}

void evdns_base::config_changed() {
  for (auto& ns : servers_)
    ns->chan = nullptr;
  for (auto& c : channels_)
    c->retired = true;
  reap_channels();
}

// Retired channels whose queries have all come back, destroyed: never from
// within a c-ares call.
void evdns_base::reap_channels() noexcept {
  if (cares_depth_)
    return;
  for (size_t i = 0; i < channels_.size();) {
    channel* c = channels_[i].get();
    if (c->retired && c->outstanding == 0) {
      destroy_channel(c);
      channels_.erase(channels_.begin() + static_cast<long>(i));
    } else {
      ++i;
    }
  }
}

// After c-ares ran: its next timeout, dead channels, answers for the loop.
// The timer is armed when a query goes out with none armed, and re-armed
// when it fires: every query has the same timeout, so a later query never
// needs it earlier, and an early wake-up that finds nothing due just re-arms
// it. c-ares's timeout (a walk of its queries) is asked only then, and no
// timer system call is made per query or reply.
void evdns_base::after_cares(channel* c) noexcept {
  if (c && c->ch) {
    if (c->outstanding == 0) {
      if (c->timer_armed) {
        evtimer_del(c->timer);
        c->timer_armed = false;
      }
    } else if (!c->timer_armed) {
      timeval tv;
      if (const timeval* t = ares_timeout(c->ch, nullptr, &tv)) {
        evtimer_add(c->timer, t);
        c->timer_armed = true;
      }
    }
  }
  reap_channels();
  if (!answers_.empty())
    event_active(answers_ev_, EV_TIMEOUT, 1);
}

// libevent keeps a nameserver's socket event added: the loop does not end
// while a nameserver is configured, unless EVDNS_BASE_DISABLE_WHEN_INACTIVE.
// c-ares opens its sockets only for queries, so a timer that never fires
// stands for them.
void evdns_base::update_keepalive() noexcept {
  const bool want = !disable_when_inactive_ && !servers_.empty();
  if (want == !!event_pending(keepalive_, EV_TIMEOUT, nullptr))
    return;
  if (want) {
    const timeval day{86400, 0};
    event_add(keepalive_, &day);
  } else {
    event_del(keepalive_);
  }
}

void evdns_base::on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
  auto* c = static_cast<channel*>(data);
  auto it = std::find_if(c->socks.begin(), c->socks.end(), [fd](const channel::watched& w) { return w.fd == fd; });
  const short what = static_cast<short>((readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
  if (it != c->socks.end()) {
    if (it->what == what)
      return;
    event_free(it->ev);
    c->socks.erase(it);
  }
  if (!what)
    return;
  ::event* ev = event_new(c->owner->ev_base, fd, static_cast<short>(what | EV_PERSIST), &evdns_base::on_sock_event, c);
  if (!ev || event_add(ev, nullptr) < 0) {
    if (ev)
      event_free(ev);
    return;  // the query times out
  }
  c->socks.push_back({fd, what, ev});
}

void evdns_base::on_sock_event(evutil_socket_t fd, short what, void* arg) {
  auto* c = static_cast<channel*>(arg);
  evdns_base* b = c->owner;
  recursive_scoped_lock g(b->mutex_);
  ++b->cares_depth_;
  ares_process_fd(c->ch, (what & EV_READ) ? fd : ARES_SOCKET_BAD, (what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
  --b->cares_depth_;
  b->after_cares(c);
}

void evdns_base::on_timer(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<channel*>(arg);
  evdns_base* b = c->owner;
  recursive_scoped_lock g(b->mutex_);
  c->timer_armed = false;
  ++b->cares_depth_;
  ares_process_fd(c->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  --b->cares_depth_;
  b->after_cares(c);
}

// ---- requests -----------------------------------------------------------------

evdns_request* evdns_base::resolve(char type, const char* name, int flags, evdns_callback_type cb, void* arg) {
  if (!encodable(name))
    return nullptr;
  std::unique_ptr<evdns_request> req(new evdns_request);  // default-initialized: the result space is not zeroed
  req->base = this;
  req->type = type;
  req->cb = cb;
  req->arg = arg;
  req->origname = name;
  req->name = name;
  // libevent's search: a name with fewer than ndots dots tries the domains
  // first, the name as given last; with more, the other way round.
  if (!(flags & DNS_QUERY_NO_SEARCH) && !search_.empty() && type != DNS_PTR) {
    req->searching = true;
    if (num_dots(req->origname) >= ndots_) {
      req->search_index = -1;
    } else {
      if (req->origname.empty())
        return nullptr;  // as libevent: no name to put a domain after
      req->search_index = 0;
      req->name = req->origname + (req->origname.back() == '.' ? "" : ".") + search_[0];
      if (!encodable(req->name.c_str()))
        return nullptr;
    }
  }
  evdns_request* r = req.release();
  submit(r);
  return r;
}

// In flight if the limit and the nameservers allow, else waiting.
void evdns_base::submit(evdns_request* req) {
  if (inflight_count_ < max_inflight_ && !servers_.empty()) {
    req->st = evdns_request::state::inflight;
    inflight_.push_back(*req);
    ++inflight_count_;
    transmit(req);
  } else {
    req->st = evdns_request::state::waiting;
    waiting_.push_back(*req);
  }
}

void evdns_base::pump_waiting() {
  while (inflight_count_ < max_inflight_ && !waiting_.empty() && !servers_.empty()) {
    evdns_request& req = waiting_.front();
    waiting_.pop_front();
    req.st = evdns_request::state::inflight;
    inflight_.push_back(req);
    ++inflight_count_;
    transmit(&req);
  }
}

void evdns_base::transmit(evdns_request* req) {
  dns::nameserver* ns = req->probe_of ? req->probe_of : pick_server();
  if (!ns) {
    answered(req, DNS_ERR_UNKNOWN, 0);  // unreachable: submit waits for a server
    return;
  }
  transmit_to(req, ns);
}

void evdns_base::transmit_to(evdns_request* req, dns::nameserver* ns) {
  channel* c = channel_for(ns);
  req->ns = ns;
  req->chan = c;
  req->in_cares = true;
  ++c->outstanding;
  ++req->tx;
  const int qtype = req->type == DNS_IPv4_A ? type_a : req->type == DNS_IPv6_AAAA ? type_aaaa : type_ptr;
  unsigned char q[512];
  const size_t qlen = encode_query(q, req->name, qtype, randomize_case_);
  if (!qlen) {
    // A name c-ares would not send either: an error from the loop.
    req->in_cares = false;
    --c->outstanding;
    req->chan = nullptr;
    answered(req, DNS_ERR_FORMAT, 0);
    return;
  }
  ++cares_depth_;
  ares_send(c->ch, q, static_cast<int>(qlen), &evdns_base::on_query_done, req);
  --cares_depth_;
  after_cares(c);
}

void evdns_base::on_query_done(void* arg, int status, int, unsigned char* abuf, int alen) {
  auto* req = static_cast<evdns_request*>(arg);
  evdns_base* b = req->base;
  req->in_cares = false;
  --req->chan->outstanding;
  req->chan = nullptr;
  switch (req->st) {
  case evdns_request::state::inflight:
    b->on_reply(req, status, abuf, alen);
    return;
  case evdns_request::state::delivered:
    delete req;  // cancelled, and its callback has run
    return;
  default:
    return;  // cancelled (callback to come) or suspended (waiting)
  }
}

// libevent's reply_handle, on what c-ares brought back.
void evdns_base::on_reply(evdns_request* req, int status, unsigned char* abuf, int alen) {
  if (!abuf || alen < 12) {
    // No reply: a timeout, or nothing could be sent. Retransmit as libevent.
    if (status == ARES_ETIMEOUT || status == ARES_ECONNREFUSED || status == ARES_ESERVFAIL)
      retry_or_fail(req);
    else if (status == ARES_EDESTRUCTION)
      answered(req, DNS_ERR_SHUTDOWN, 0);
    else
      answered(req, status == ARES_EBADNAME ? DNS_ERR_FORMAT : DNS_ERR_UNKNOWN, 0);
    return;
  }
  req->ns->timedout = 0;  // as libevent: a reply from the server resets its count
  const int hflags = get16(abuf + 2);
  const parsed p = parse_reply(abuf, alen, req);
  int err;
  if (hflags & 0x0200)
    err = DNS_ERR_TRUNCATED;
  else if (const int rcode = hflags & 0x000f)
    err = rcode <= 5 ? rcode : DNS_ERR_UNKNOWN;  // DNS_ERR_FORMAT .. DNS_ERR_REFUSED are the rcodes
  else if (!p.ok)
    err = DNS_ERR_UNKNOWN;
  else if (!p.have_answer)
    err = DNS_ERR_NODATA;
  else
    err = DNS_ERR_NONE;
  const int ttl = p.ok && p.ttl != 0xffffffffu ? static_cast<int>(std::min<ev_uint32_t>(p.ttl, 0x7fffffff)) : 0;
  switch (err) {
  case DNS_ERR_NOTIMPL:
  case DNS_ERR_REFUSED:
    // A bad nameserver: marked failed, and the request once more to
    // another one, if there is another.
    if (req->reissues < max_reissues_) {
      char why[64];
      std::snprintf(why, sizeof why, "Bad response %d (%s)", err, evdns_err_to_string(err));
      dns::nameserver* last = req->ns;
      server_failed(last, why);
      dns::nameserver* next = pick_server();
      if (next != last) {
        ++req->reissues;
        req->tx = 0;
        transmit_to(req, next);
        return;
      }
    }
    break;
  case DNS_ERR_SERVERFAILED:
    retry_or_fail(req);  // as libevent: treated as a timeout
    return;
  default:
    // An answer: the nameserver is up (its probe, if this is it, done).
    if (req->ns->probe == req)
      req->ns->probe = nullptr;
    server_up(req->ns);
    if (err == DNS_ERR_NONE) {
      answered(req, DNS_ERR_NONE, ttl);
      return;
    }
    break;
  }
  req->count = 0;
  if (req->searching && search_next(req))
    return;
  answered(req, err, ttl);
}

// libevent's timeout: retransmitted to the next server picked (which
// counts the timeout), or failed, its server marked failed.
void evdns_base::retry_or_fail(evdns_request* req) {
  if (req->tx >= attempts_) {
    dns::nameserver* ns = req->ns;
    answered(req, DNS_ERR_TIMEOUT, 0);
    server_failed(ns, "request timed out.");
    return;
  }
  dns::nameserver* ns = req->probe_of ? req->probe_of : pick_server();
  transmit_to(req, ns);
  if (++ns->timedout > max_timeouts_) {
    ns->timedout = 0;
    server_failed(ns, "request timed out.");
  }
}

// The next name of the search, if any is left: libevent's search_try_next.
bool evdns_base::search_next(evdns_request* req) {
  const int n = static_cast<int>(search_.size());
  ++req->search_index;
  if (req->search_index >= n) {
    if (num_dots(req->origname) < ndots_ && req->name != req->origname) {
      req->name = req->origname;  // the name as given, last
      req->searching = false;
    } else {
      return false;
    }
  } else {
    if (req->origname.empty())
      return false;
    req->name = req->origname + (req->origname.back() == '.' ? "" : ".") + search_[req->search_index];
    if (!encodable(req->name.c_str()))
      return false;
  }
  req->tx = 0;
  req->reissues = 0;
  transmit(req);
  return true;
}

// The request has its result: off the in-flight list, its callback queued
// for the loop.
void evdns_base::answered(evdns_request* req, int err, int ttl) {
  if (req->st == evdns_request::state::inflight) {
    inflight_.erase(inflight_.iterator_to(*req));
    --inflight_count_;
  } else if (req->st == evdns_request::state::waiting) {
    waiting_.erase(waiting_.iterator_to(*req));
  }
  if (req->probe_of) {
    probe_done(req, err);
    pump_waiting();
    return;
  }
  req->err = err;
  req->ttl = ttl;
  if (err)
    req->count = 0;
  req->st = evdns_request::state::answered;
  answers_.push_back(*req);
  event_active(answers_ev_, EV_TIMEOUT, 1);
  pump_waiting();
}

void evdns_base::cancel(evdns_request* req) {
  if (req->st != evdns_request::state::inflight && req->st != evdns_request::state::waiting)
    return;  // answered: its callback is due with the real result
  answered(req, DNS_ERR_CANCEL, 0);
}

// Runs the answered callbacks, without the lock: each may make, cancel or
// free anything, the evdns_base included.
void evdns_base::on_answers(evutil_socket_t, short, void* arg) {
  auto* b = static_cast<evdns_base*>(arg);
  b->mutex_.lock();
  if (!b->deliver_answers())
    b->mutex_.unlock();
}

bool evdns_base::deliver_answers() noexcept {
  delivering_ = true;
  while (!answers_.empty() && !free_after_delivery_) {
    evdns_request& req = answers_.front();
    answers_.pop_front();
    req.st = evdns_request::state::delivered;
    const bool ok = req.err == DNS_ERR_NONE;
    void* addrs = nullptr;
    char* ptr = nullptr;
    if (ok)
      addrs = req.type == DNS_PTR ? static_cast<void*>(&(ptr = &req.ptr[0])) : static_cast<void*>(&req.addrs);
    evdns_callback_type cb = req.cb;
    mutex_.unlock();
    if (cb)
      cb(req.err, ok ? req.type : 0, ok ? (req.type == DNS_PTR ? 1 : req.count) : 0, req.ttl, addrs, req.arg);
    mutex_.lock();
    release(&req);
  }
  delivering_ = false;
  if (!free_after_delivery_)
    return false;
  free_base(false);
  return true;
}

void evdns_base::release(evdns_request* req) noexcept {
  if (!req->in_cares)
    delete req;  // else c-ares's callback deletes it
}

// A callback due but not run when evdns_base_free came: libevent's deferred
// callbacks run on the event_base afterwards; so do these.
struct orphans {
  std::vector<evdns_request*> reqs;
};

void evdns_base::run_orphans(evutil_socket_t, short, void* arg) {
  std::unique_ptr<orphans> o(static_cast<orphans*>(arg));
  for (evdns_request* req : o->reqs) {
    const bool ok = req->err == DNS_ERR_NONE;
    char* ptr = ok && req->type == DNS_PTR ? &req->ptr[0] : nullptr;
    void* addrs = ok ? (req->type == DNS_PTR ? static_cast<void*>(&ptr) : static_cast<void*>(&req->addrs)) : nullptr;
    if (req->cb)
      req->cb(req->err, ok ? req->type : 0, ok ? (req->type == DNS_PTR ? 1 : req->count) : 0, req->ttl, addrs,
              req->arg);
    delete req;
  }
}

void evdns_base::free_base(bool fail_requests) {
  if (delivering_) {
    free_after_delivery_ = true;  // deliver_answers finishes, then frees
    pending_fail_ = pending_fail_ || fail_requests;
    mutex_.unlock();
    return;
  }
  fail_requests = fail_requests || pending_fail_;
  auto drop = [&](request_list& l) {
    while (!l.empty()) {
      evdns_request& r = l.front();
      if (fail_requests) {
        answered(&r, DNS_ERR_SHUTDOWN, 0);
      } else {
        l.pop_front();
        r.st = evdns_request::state::delivered;
        release(&r);
      }
    }
  };
  max_inflight_ = 0;  // nothing more goes out
  drop_probes();
  drop(waiting_);
  drop(inflight_);
  // c-ares lets go of the queries still out: their requests are answered or dropped.
  remove_servers();
  if (!answers_.empty()) {
    auto o = std::make_unique<orphans>();
    while (!answers_.empty()) {
      o->reqs.push_back(&answers_.front());
      answers_.pop_front();
    }
    const timeval now{0, 0};
    if (event_base_once(ev_base, -1, EV_TIMEOUT, &evdns_base::run_orphans, o.get(), &now) == 0)
      o.release();
    else
      for (evdns_request* r : o->reqs)
        delete r;
  }
  if (dns::global_base() == this)
    dns::global_base() = nullptr;
  mutex_.unlock();
  delete this;
}

// ---- nameservers and suspension ------------------------------------------------

int evdns_base::add_nameserver(const sockaddr* sa, socklen_t len) {
  for (const auto& s : servers_)
    if (evutil_sockaddr_cmp(reinterpret_cast<const sockaddr*>(&s->addr), sa, 1) == 0)
      return 3;  // libevent's "already there"
  if (len > sizeof(sockaddr_storage))
    return 2;
  auto ns = std::make_unique<dns::nameserver>();
  ns->owner = this;
  std::memset(&ns->addr, 0, sizeof ns->addr);
  std::memcpy(&ns->addr, sa, len);
  ns->len = len;
  ns->udp_fd = ::socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int err = ns->udp_fd < 0 ? 1 : prepare_socket(ns->udp_fd, *ns);
  if (err) {
    dns::log(EVENT_LOG_WARN, "Unable to add nameserver %s: error %d", dns::format_addr(sa).c_str(), err);
    if (ns->udp_fd >= 0)
      ::close(ns->udp_fd);
    return err;
  }
  ns->probe_timer = event_new(ev_base, -1, 0, &evdns_base::on_probe_timer, ns.get());
  if (!ns->probe_timer) {
    ::close(ns->udp_fd);
    throw std::bad_alloc();
  }
  // libevent's ring: a new server goes right after the head.
  servers_.insert(servers_.empty() ? servers_.end() : servers_.begin() + static_cast<long>(head_) + 1,
                  std::move(ns));
  ++good_servers_;
  update_keepalive();
  return 0;
}

// libevent's nameserver_pick: the next good server round the ring; with
// none good, the next one.
dns::nameserver* evdns_base::pick_server() {
  const size_t n = servers_.size();
  if (!n)
    return nullptr;
  if (good_servers_ == 0) {
    head_ = (head_ + 1) % n;
    return servers_[head_].get();
  }
  for (size_t i = 0; i < n; ++i) {
    dns::nameserver* s = servers_[head_].get();
    head_ = (head_ + 1) % n;
    if (s->good)
      return s;
  }
  return servers_[head_].get();
}

void evdns_base::server_failed(dns::nameserver* ns, const char* why) {
  if (!ns->good)
    return;
  dns::log(EVENT_LOG_MSG, "Nameserver %s has failed: %s",
           dns::format_addr(reinterpret_cast<const sockaddr*>(&ns->addr)).c_str(), why);
  if (--good_servers_ == 0)
    dns::log(EVENT_LOG_MSG, "All nameservers have failed");
  ns->good = false;
  ns->failed_times = 1;
  evtimer_add(ns->probe_timer, &probe_timeout_);
}

void evdns_base::server_up(dns::nameserver* ns) {
  if (ns->good)
    return;
  dns::log(EVENT_LOG_MSG, "Nameserver %s is back up",
           dns::format_addr(reinterpret_cast<const sockaddr*>(&ns->addr)).c_str());
  evtimer_del(ns->probe_timer);
  if (evdns_request* probe = ns->probe) {
    ns->probe = nullptr;
    cancel(probe);
  }
  ns->good = true;
  ns->failed_times = 0;
  ns->timedout = 0;
  ++good_servers_;
}

// The next probe, three times later than the last (at most an hour).
void evdns_base::probe_failed(dns::nameserver* ns) {
  evtimer_del(ns->probe_timer);
  if (ns->good)
    return;
  long long us = static_cast<long long>(probe_timeout_.tv_sec) * 1000000 + probe_timeout_.tv_usec;
  for (int i = ns->failed_times; i > 0 && us < 3600LL * 1000000; --i)
    us *= 3;
  us = std::min(us, 3600LL * 1000000);
  ++ns->failed_times;
  const timeval tv{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
  evtimer_add(ns->probe_timer, &tv);
}

void evdns_base::on_probe_timer(evutil_socket_t, short, void* arg) {
  auto* ns = static_cast<dns::nameserver*>(arg);
  evdns_base* b = ns->owner;
  recursive_scoped_lock g(b->mutex_);
  evasio::detail::guarded_void([&] { b->send_probe(ns); });
  b->after_cares(nullptr);
}

// libevent's probe: an A query for google.com, to this server only.
void evdns_base::send_probe(dns::nameserver* ns) {
  if (ns->probe)
    return;
  std::unique_ptr<evdns_request> req(new evdns_request);  // default-initialized: the result space is not zeroed
  req->base = this;
  req->type = DNS_IPv4_A;
  req->origname = req->name = "google.com";
  req->probe_of = ns;
  req->st = evdns_request::state::inflight;
  evdns_request* r = req.release();
  inflight_.push_back(*r);
  ++inflight_count_;
  ns->probe = r;
  transmit_to(r, ns);
}

// A probe's outcome: an answer (or NXDOMAIN) brings its server back.
void evdns_base::probe_done(evdns_request* req, int err) {
  dns::nameserver* ns = req->probe_of;
  if (ns->probe == req)
    ns->probe = nullptr;
  req->st = evdns_request::state::delivered;
  release(req);
  if (err == DNS_ERR_CANCEL || err == DNS_ERR_SHUTDOWN)
    return;  // cancelled because the server came back another way
  if (err == DNS_ERR_NONE || err == DNS_ERR_NOTEXIST)
    server_up(ns);
  else
    probe_failed(ns);
}

// The servers' probes in flight go, calling nothing.
void evdns_base::drop_probes() noexcept {
  for (auto& ns : servers_) {
    if (evdns_request* probe = ns->probe) {
      ns->probe = nullptr;
      inflight_.erase(inflight_.iterator_to(*probe));
      --inflight_count_;
      probe->st = evdns_request::state::delivered;
      release(probe);
    }
  }
}

// The servers go, with their channels (queries still out are abandoned:
// their requests were moved or answered first) and probes.
void evdns_base::remove_servers() noexcept {
  drop_probes();
  for (auto& c : channels_)
    destroy_channel(c.get());
  channels_.clear();
  for (auto& ns : servers_) {
    event_free(ns->probe_timer);
    ::close(ns->udp_fd);
  }
  servers_.clear();
  head_ = 0;
  good_servers_ = 0;
}

// libevent's: the nameservers go, requests in flight wait again (at the
// front of the queue) until evdns_base_resume.
void evdns_base::clear_nameservers_and_suspend() {
  if (servers_.empty())
    return;
  drop_probes();
  request_list back;
  while (!inflight_.empty()) {
    evdns_request& r = inflight_.front();
    inflight_.pop_front();
    r.st = evdns_request::state::waiting;
    r.tx = r.reissues = 0;
    back.push_back(r);
  }
  inflight_count_ = 0;
  waiting_.splice(waiting_.begin(), back);
  remove_servers();
  update_keepalive();
}

void evdns_base::resume() { pump_waiting(); }

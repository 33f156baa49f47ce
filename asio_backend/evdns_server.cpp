// The evdns server side (event2/dns.h): a port answers DNS queries that
// arrive on the program's UDP socket, through evasio's own public event API
// (a persistent EV_READ event on the socket, and an EV_WRITE one while
// replies wait for it), with libevent 2.1.12's behaviour:
//
//  - A datagram is read into 1500 bytes. It is dropped when it is shorter
//    than a header, is a response (QR), has no question (libevent's
//    allocator refuses an array of none), or a question does not decode
//    (dns_wire.hpp's rules: pointer loops, pointers or labels past the end,
//    names over 255 characters). Only RD and CD of its flags are kept; the
//    opcode is not looked at (libevent's test of it comes after the flags
//    were cut, so it never fires); the other sections are ignored.
//  - The callback runs with the port's lock held. A request lives until it
//    is responded or dropped, and keeps its port: evdns_close_server_port
//    frees a port (closing its socket, as libevent) only once its last
//    request is gone, and until then the port goes on serving new queries.
//  - A reply is built in 1500 bytes: the header (flags: the query's RD and
//    CD, what set_flags put, QR and err as the rcode), the questions, then
//    the answer, authority and additional records in the order they were
//    added, names compressed. Past 512 bytes, or when a record does not fit
//    in 1500 bytes or its name cannot be encoded (a label over 63 bytes), it
//    is cut at 512 bytes with TC set; the header counts stay.
//  - When sendto fails, the reply is queued (respond returns 1) and the
//    port waits for EV_WRITE (no longer reading if it was closed); queued
//    replies go in order, and one whose sendto fails for another reason than
//    EAGAIN is logged and dropped. libevent 2.1.12 has the test inverted (it
//    returns -1 on EAGAIN without queueing); evasio queues on EAGAIN too.
//
// Where libevent crashes or hangs, evasio does not: a datagram shorter than
// a header is dropped (libevent dereferences a request it has not made); NULL
// arguments, including NULL data for a name record (CNAME, PTR) or NULL
// addresses for an A or AAAA one, are refused (-1 or NULL, errno EINVAL); a
// port closed from inside its own callback stops reading and is freed when
// the callback returns (libevent's read loop goes on with the freed port);
// the socket is read and written with MSG_DONTWAIT, so a blocking one does
// not hang the loop (libevent reads until recvfrom fails).
#include "detail/base.hpp"
#include "detail/c_boundary.hpp"
#include "detail/current_base.hpp"
#include "detail/dns_wire.hpp"
#include "detail/evdns.hpp"
#include "detail/lock.hpp"
#include "detail/log.hpp"

#include <event2/dns.h>
#include <event2/dns_compat.h>
#include <event2/dns_struct.h>
#include <event2/event.h>
#include <event2/util.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <new>
#include <string>
#include <vector>

using namespace evasio::detail;
namespace wire = evasio::detail::dns_wire;

namespace {

constexpr unsigned qr_bit = 0x8000, tc_bit = 0x0200, rd_bit = 0x0100, cd_bit = 0x0010;
// What set_flags replaces: AA, and 0x80 (RA; dns.h's EVDNS_FLAGS_RD).
constexpr int settable_flags = EVDNS_FLAGS_AA | EVDNS_FLAGS_RD;
// A query is read, and a reply built, in this many bytes.
constexpr std::size_t datagram_room = 1500;
// The largest UDP reply; longer ones are cut here, with TC.
constexpr std::size_t udp_reply_max = 512;

// One resource record of a reply being built.
struct reply_record {
  std::string name;
  std::uint16_t type;
  std::uint16_t cls;
  std::uint32_t ttl;
  bool is_name;      // data is a name, written compressed
  std::string data;  // the rdata bytes, or the name
};

// A question as dns_struct.h lays it out: its name runs past the struct.
struct question_free {
  void operator()(evdns_server_question* q) const noexcept { ::operator delete(q); }
};
using question_ptr = std::unique_ptr<evdns_server_question, question_free>;

question_ptr make_question(unsigned type, unsigned cls, const char* name) {
  const std::size_t len = std::strlen(name);
  void* mem = ::operator new(offsetof(evdns_server_question, name) + len + 1);
  question_ptr q(new (mem) evdns_server_question);
  q->type = static_cast<int>(type);
  q->dns_question_class = static_cast<int>(cls);
  std::memcpy(static_cast<char*>(mem) + offsetof(evdns_server_question, name), name, len + 1);
  return q;
}

// What the program holds as a struct evdns_server_request.
struct server_request : evdns_server_request {
  server_request() : evdns_server_request{} {}

  evdns_server_port* port = nullptr;
  std::uint16_t id = 0;
  sockaddr_storage addr{};
  socklen_t addrlen = 0;
  std::vector<question_ptr> owned;
  std::vector<evdns_server_question*> list;  // what `questions` points at
  std::vector<reply_record> sections[3];     // answer, authority, additional
  std::vector<std::uint8_t> response;
  bool built = false;   // response made: no more records
  bool queued = false;  // in the port's send queue
};

server_request* of(evdns_server_request* r) noexcept { return static_cast<server_request*>(r); }

void on_readable(evutil_socket_t, short, void* arg);
void on_writable(evutil_socket_t, short, void* arg);

} // namespace

struct evdns_server_port {
  evdns_server_port(event_base* b, evutil_socket_t s, evdns_request_callback_fn_type c, void* a,
                    bool locking)
      : base(b), fd(s), cb(c), arg(a), mutex(locking) {}
  ~evdns_server_port() {
    event_free(read_ev);
    event_free(write_ev);
  }
  evdns_server_port(const evdns_server_port&) = delete;
  evdns_server_port& operator=(const evdns_server_port&) = delete;

  event_base* base;
  evutil_socket_t fd;
  evdns_request_callback_fn_type cb;
  void* arg;
  optional_recursive_mutex mutex;
  struct event* read_ev = nullptr;
  struct event* write_ev = nullptr;
  bool reading = false;
  bool writing = false;
  // One for the program until it closes the port, one per live request, and
  // one per event handler running (so that nothing frees the port under it).
  int refs = 1;
  bool closing = false;
  bool dead = false;  // refs reached 0: being freed
  std::deque<server_request*> pending;  // replies waiting for the socket
};

namespace {

// The port's lock for a scope. The reference dropped last marks the port;
// it is freed (events, then its socket) once the lock is let go.
class port_lock {
public:
  explicit port_lock(evdns_server_port* p) : port_(p) { port_->mutex.lock(); }
  ~port_lock() {
    const bool free_it = free_;
    port_->mutex.unlock();
    if (free_it) {
      const evutil_socket_t fd = port_->fd;
      delete port_;  // its events first, while the socket is still open
      if (fd > 0)    // as libevent's test (fd 0 is left open)
        evutil_closesocket(fd);
    }
  }
  port_lock(const port_lock&) = delete;
  port_lock& operator=(const port_lock&) = delete;

  void unref() noexcept {
    if (--port_->refs == 0) {
      port_->dead = true;
      free_ = true;
    }
  }
  bool freeing() const noexcept { return free_; }

private:
  evdns_server_port* port_;
  bool free_ = false;
};

void set_event(struct event* ev, bool& on, bool want) {
  if (on == want)
    return;
  if (want ? event_add(ev, nullptr) == 0 : event_del(ev) == 0)
    on = want;
  else
    dns::log(EVENT_LOG_WARN, "evdns server: cannot %s an event on its socket", want ? "add" : "delete");
}

// Frees req and drops its reference to the port.
void free_request(server_request* req, port_lock& lock) {
  evdns_server_port* port = req->port;
  if (req->queued) {
    auto it = std::find(port->pending.begin(), port->pending.end(), req);
    if (it != port->pending.end())
      port->pending.erase(it);
  }
  delete req;
  lock.unref();
}

// ---- reading queries --------------------------------------------------------

// The request a datagram holds, or nullptr when it is to be dropped.
std::unique_ptr<server_request> parse_query(const std::uint8_t* p, std::size_t n) {
  if (n < 12)
    return nullptr;
  const unsigned flags = wire::load16(p + 2);
  const unsigned count = wire::load16(p + 4);
  if ((flags & qr_bit) || count == 0)
    return nullptr;
  auto req = std::make_unique<server_request>();
  req->id = static_cast<std::uint16_t>(wire::load16(p));
  req->flags = static_cast<int>(flags & (rd_bit | cd_bit));
  std::size_t off = 12;
  char name[wire::max_name_chars + 1];
  for (unsigned i = 0; i < count; ++i) {
    if (!wire::read_name(p, n, off, name) || off + 4 > n)
      return nullptr;
    req->owned.push_back(make_question(wire::load16(p + off), wire::load16(p + off + 2), name));
    off += 4;
  }
  for (const question_ptr& q : req->owned)
    req->list.push_back(q.get());
  req->nquestions = static_cast<int>(req->list.size());
  req->questions = req->list.data();
  return req;
}

// One datagram: a request for the callback, or nothing.
void serve(evdns_server_port* port, const std::uint8_t* p, std::size_t n, const sockaddr_storage& from,
           socklen_t fromlen) {
  std::unique_ptr<server_request> req;
  try {
    req = parse_query(p, n);
  } catch (const std::bad_alloc&) {
    return;  // dropped, as libevent when out of memory
  }
  if (!req)
    return;
  req->port = port;
  std::memcpy(&req->addr, &from, std::min<std::size_t>(fromlen, sizeof req->addr));
  req->addrlen = fromlen;
  ++port->refs;
  port->cb(req.release(), port->arg);
}

void read_queries(evdns_server_port* port) {
  std::uint8_t packet[datagram_room];
  for (;;) {
    // Closed from a callback with nothing pending: only this handler's
    // reference is left, and nothing more is read.
    if (port->closing && port->refs == 1)
      return;
    sockaddr_storage from;
    socklen_t fromlen = sizeof from;
    const ssize_t r = ::recvfrom(port->fd, packet, sizeof packet, MSG_DONTWAIT,
                                 reinterpret_cast<sockaddr*>(&from), &fromlen);
    if (r < 0) {
      const int err = errno;
      if (err == EINTR)
        continue;
      if (err != EAGAIN && err != EWOULDBLOCK)
        dns::log(EVENT_LOG_WARN, "evdns server: error while reading a request: %s", evutil_socket_error_to_string(err));
      return;
    }
    serve(port, packet, static_cast<std::size_t>(r), from, std::min<socklen_t>(fromlen, sizeof from));
  }
}

// ---- replies ------------------------------------------------------------------

// 0, or the errno of a failed sendto.
int send_reply(const evdns_server_port* port, const server_request* req) {
  ssize_t r;
  do
    r = ::sendto(port->fd, req->response.data(), req->response.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                 reinterpret_cast<const sockaddr*>(&req->addr), req->addrlen);
  while (r < 0 && errno == EINTR);
  return r < 0 ? errno : 0;
}

// Sends the queued replies in order, until the socket would block.
void flush(evdns_server_port* port, port_lock& lock) {
  while (!port->pending.empty()) {
    server_request* req = port->pending.front();
    const int err = send_reply(port, req);
    if (err == EAGAIN || err == EWOULDBLOCK)
      return;
    if (err)
      dns::log(EVENT_LOG_WARN, "evdns server: error while writing a reply; dropping it: %s",
               evutil_socket_error_to_string(err));
    free_request(req, lock);
    if (lock.freeing())
      return;
  }
  set_event(port->write_ev, port->writing, false);
  set_event(port->read_ev, port->reading, true);  // as libevent, even when closing
}

void enqueue(evdns_server_port* port, server_request* req) {
  req->queued = true;
  port->pending.push_back(req);
  if (port->pending.size() == 1) {
    set_event(port->write_ev, port->writing, true);
    if (port->closing)
      set_event(port->read_ev, port->reading, false);
  }
}

// Builds the reply into req->response: 0, or a negative failure (err out of
// range, or a question name that cannot be encoded).
int build_reply(server_request& req, int err) {
  if (err < 0 || err > 15)
    return -1;
  std::uint8_t buf[datagram_room] = {};
  std::size_t j = 0;
  wire::label_table table;
  bool cut = false;
  const auto put16 = [&](unsigned v) {
    if (j + 2 > sizeof buf)
      return false;
    wire::store16(buf + j, v & 0xffff);
    j += 2;
    return true;
  };
  put16(req.id);
  put16(static_cast<unsigned>(req.flags) | qr_bit | static_cast<unsigned>(err));
  put16(static_cast<unsigned>(req.nquestions));
  for (const auto& s : req.sections)
    put16(static_cast<unsigned>(s.size()));

  for (int i = 0; i < req.nquestions && !cut; ++i) {
    const evdns_server_question* q = req.questions[i];
    const long r = wire::write_name(buf, sizeof buf, j, q->name, &table);
    if (r < 0)
      return static_cast<int>(r);
    j = static_cast<std::size_t>(r);
    cut = !put16(static_cast<unsigned>(q->type)) || !put16(static_cast<unsigned>(q->dns_question_class));
  }
  for (const auto& section : req.sections) {
    for (const reply_record& rec : section) {
      if (cut)
        break;
      long r = wire::write_name(buf, sizeof buf, j, rec.name, &table);
      if (r < 0) {
        cut = true;
        break;
      }
      j = static_cast<std::size_t>(r);
      if (!put16(rec.type) || !put16(rec.cls) || !put16(rec.ttl >> 16) || !put16(rec.ttl & 0xffff)) {
        cut = true;
        break;
      }
      if (rec.is_name) {
        const std::size_t len_at = j;
        const std::size_t start = j + 2;
        r = wire::write_name(buf, sizeof buf, start, rec.data, &table);
        if (r < 0) {
          cut = true;
          break;
        }
        j = static_cast<std::size_t>(r);
        wire::store16(buf + len_at, static_cast<unsigned>(j - start));
      } else {
        if (!put16(static_cast<unsigned>(rec.data.size())) || j + rec.data.size() > sizeof buf) {
          cut = true;
          break;
        }
        std::memcpy(buf + j, rec.data.data(), rec.data.size());
        j += rec.data.size();
      }
    }
  }
  if (cut || j > udp_reply_max) {
    // What was not written reads as zeros (libevent sends whatever its stack held).
    j = udp_reply_max;
    buf[2] |= tc_bit >> 8;
  }
  req.response.assign(buf, buf + j);
  req.built = true;
  for (auto& s : req.sections)
    s.clear();
  return 0;
}

int respond(server_request* req, int err) {
  evdns_server_port* port = req->port;
  port_lock lock(port);
  if (req->queued)
    return 1;  // on its way already
  if (!req->built) {
    const int r = build_reply(*req, err);
    if (r < 0)
      return r;
  }
  if (send_reply(port, req) != 0) {
    enqueue(port, req);
    return 1;
  }
  free_request(req, lock);
  if (!lock.freeing() && !port->pending.empty())
    flush(port, lock);
  return 0;
}

int add_record(server_request* req, int section, const char* name, int type, int cls, int ttl,
               int datalen, int is_name, const char* data) {
  port_lock lock(req->port);
  if (req->built)
    return fail(-1, EINVAL);  // answered already
  if (section < EVDNS_ANSWER_SECTION || section > EVDNS_ADDITIONAL_SECTION)
    return fail(-1, EINVAL);
  reply_record rec{name, static_cast<std::uint16_t>(type), static_cast<std::uint16_t>(cls),
                   static_cast<std::uint32_t>(ttl), is_name != 0, std::string()};
  if (data) {
    if (rec.is_name) {
      rec.data = data;
    } else {
      // As libevent: the copy is an allocation of datalen bytes, which its
      // allocator refuses for 0 (and a negative size cannot be); the record
      // keeps datalen's low 16 bits.
      if (datalen <= 0)
        return fail(-1, EINVAL);
      rec.data.assign(data, static_cast<std::size_t>(datalen) & 0xffff);
    }
  }
  req->sections[section].push_back(std::move(rec));
  return 0;
}

// An event handler's run: it holds a reference to the port meanwhile, so
// that nothing the callbacks do frees the port under it.
template <class Work>
void run_handler(evdns_server_port* port, Work&& work) {
  guarded_void([&] {
    port_lock lock(port);
    if (port->dead)
      return;  // being freed by another thread
    ++port->refs;
    struct release {
      port_lock& lock;
      ~release() { lock.unref(); }
    } release_ref{lock};
    work(lock);
  });
}

void on_readable(evutil_socket_t, short, void* arg) {
  auto* port = static_cast<evdns_server_port*>(arg);
  run_handler(port, [port](port_lock&) { read_queries(port); });
}

void on_writable(evutil_socket_t, short, void* arg) {
  auto* port = static_cast<evdns_server_port*>(arg);
  run_handler(port, [port](port_lock& lock) { flush(port, lock); });
}

} // namespace

// ---- C boundary -------------------------------------------------------------------

extern "C" {

struct evdns_server_port* evdns_add_server_port_with_base(struct event_base* base, evutil_socket_t socket,
                                                          int flags, evdns_request_callback_fn_type callback,
                                                          void* user_data) {
  if (flags)
    return fail<evdns_server_port*>(nullptr, EINVAL);  // as libevent: none are defined
  if (!base)
    base = current_base();  // as libevent's event_assign: event_init's base
  if (!base || socket < 0 || !callback)
    return fail<evdns_server_port*>(nullptr, EINVAL);
  return guarded<evdns_server_port*>(nullptr, [&]() -> evdns_server_port* {
    const bool locking = threads_enabled.load(std::memory_order_relaxed) || base->multi_threaded();
    auto port = std::make_unique<evdns_server_port>(base, socket, callback, user_data, locking);
    port->read_ev = event_new(base, socket, EV_READ | EV_PERSIST, on_readable, port.get());
    port->write_ev = event_new(base, socket, EV_WRITE | EV_PERSIST, on_writable, port.get());
    if (!port->read_ev || !port->write_ev || event_add(port->read_ev, nullptr) < 0)
      return nullptr;  // errno from event_new or event_add; the socket stays open
    port->reading = true;
    return port.release();
  });
}

struct evdns_server_port* evdns_add_server_port(evutil_socket_t socket, int flags,
                                                evdns_request_callback_fn_type callback, void* user_data) {
  return evdns_add_server_port_with_base(nullptr, socket, flags, callback, user_data);
}

void evdns_close_server_port(struct evdns_server_port* port) {
  if (!port)
    return;
  guarded_void([&] {
    port_lock lock(port);
    if (port->closing)
      return;  // closed already: the program's reference is gone
    port->closing = true;
    lock.unref();
  });
}

void evdns_server_request_set_flags(struct evdns_server_request* req, int flags) {
  if (!req)
    return;
  guarded_void([&] {
    port_lock lock(of(req)->port);
    req->flags = (req->flags & ~settable_flags) | flags;
  });
}

int evdns_server_request_add_reply(struct evdns_server_request* req, int section, const char* name, int type,
                                   int dns_class, int ttl, int datalen, int is_name, const char* data) {
  if (!req || !name || (is_name && !data))
    return fail(-1, EINVAL);
  return guarded(-1, [&] { return add_record(of(req), section, name, type, dns_class, ttl, datalen, is_name, data); });
}

int evdns_server_request_add_a_reply(struct evdns_server_request* req, const char* name, int n, const void* addrs,
                                     int ttl) {
  if (!addrs || n < 0 || n > INT_MAX / 4)
    return fail(-1, EINVAL);
  return evdns_server_request_add_reply(req, EVDNS_ANSWER_SECTION, name, EVDNS_TYPE_A, EVDNS_CLASS_INET, ttl, n * 4,
                                        0, static_cast<const char*>(addrs));
}

int evdns_server_request_add_aaaa_reply(struct evdns_server_request* req, const char* name, int n,
                                        const void* addrs, int ttl) {
  if (!addrs || n < 0 || n > INT_MAX / 16)
    return fail(-1, EINVAL);
  return evdns_server_request_add_reply(req, EVDNS_ANSWER_SECTION, name, EVDNS_TYPE_AAAA, EVDNS_CLASS_INET, ttl,
                                        n * 16, 0, static_cast<const char*>(addrs));
}

int evdns_server_request_add_ptr_reply(struct evdns_server_request* req, struct in_addr* in,
                                       const char* inaddr_name, const char* hostname, int ttl) {
  if (!in == !inaddr_name)
    return fail(-1, EINVAL);  // exactly one of the two
  char reverse[32];
  if (in) {
    const std::uint32_t a = ntohl(in->s_addr);
    std::snprintf(reverse, sizeof reverse, "%u.%u.%u.%u.in-addr.arpa", static_cast<unsigned>(a & 0xff),
                  static_cast<unsigned>((a >> 8) & 0xff), static_cast<unsigned>((a >> 16) & 0xff),
                  static_cast<unsigned>(a >> 24));
    inaddr_name = reverse;
  }
  return evdns_server_request_add_reply(req, EVDNS_ANSWER_SECTION, inaddr_name, EVDNS_TYPE_PTR, EVDNS_CLASS_INET,
                                        ttl, -1, 1, hostname);
}

int evdns_server_request_add_cname_reply(struct evdns_server_request* req, const char* name, const char* cname,
                                         int ttl) {
  return evdns_server_request_add_reply(req, EVDNS_ANSWER_SECTION, name, EVDNS_TYPE_CNAME, EVDNS_CLASS_INET, ttl,
                                        -1, 1, cname);
}

int evdns_server_request_respond(struct evdns_server_request* req, int err) {
  if (!req)
    return fail(-1, EINVAL);
  return guarded(-1, [&] { return respond(of(req), err); });
}

int evdns_server_request_drop(struct evdns_server_request* req) {
  if (!req)
    return fail(-1, EINVAL);
  return guarded(-1, [&] {
    server_request* r = of(req);
    port_lock lock(r->port);
    free_request(r, lock);
    return 0;
  });
}

int evdns_server_request_get_requesting_addr(struct evdns_server_request* req, struct sockaddr* sa, int addr_len) {
  if (!req || !sa)
    return fail(-1, EINVAL);
  const server_request* r = of(req);
  if (addr_len < 0 || static_cast<socklen_t>(addr_len) < r->addrlen)
    return -1;
  std::memcpy(sa, &r->addr, r->addrlen);
  return static_cast<int>(r->addrlen);
}

} // extern "C"

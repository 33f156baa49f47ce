// DNS servers for the evdns suites, on 127.0.0.1 random ports:
//   dnsmasq_server  a real /usr/sbin/dnsmasq answering from records given as
//                   dnsmasq options, started and reaped by the test;
//   hostile_dns     a small responder of our own, on its own thread, that
//                   answers the way a case asks (well, or truncated, late,
//                   from the wrong place, with errors or garbage) and
//                   records every query it receives.
// POSIX, the C++17 library and Boost.Test only: nothing here uses libevent or
// evasio, so the suites that include it build against either.
#ifndef EVASIO_TESTS_SUPPORT_DNS_HPP_INCLUDED_
#define EVASIO_TESTS_SUPPORT_DNS_HPP_INCLUDED_

#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace dnstest {

using steady = std::chrono::steady_clock;

// Lower-case ASCII copy without a trailing dot: how names are compared here
// (libevent sends names in randomized case, "0x20" hardening).
inline std::string canonical_name(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  if (!s.empty() && s.back() == '.')
    s.pop_back();
  return s;
}

// ---- DNS wire format (RFC 1035), just what the tests need ------------------

namespace wire {

constexpr uint16_t type_a = 1;
constexpr uint16_t type_cname = 5;
constexpr uint16_t type_soa = 6;
constexpr uint16_t type_ptr = 12;
constexpr uint16_t type_aaaa = 28;
constexpr uint16_t class_in = 1;

constexpr uint16_t flag_qr = 0x8000;  // a response
constexpr uint16_t flag_aa = 0x0400;  // authoritative
constexpr uint16_t flag_tc = 0x0200;  // truncated
constexpr uint16_t flag_rd = 0x0100;  // recursion desired
constexpr uint16_t flag_ra = 0x0080;  // recursion available
constexpr uint16_t opcode_mask = 0x7800;

constexpr uint16_t rcode_noerror = 0;
constexpr uint16_t rcode_formerr = 1;
constexpr uint16_t rcode_servfail = 2;
constexpr uint16_t rcode_nxdomain = 3;
constexpr uint16_t rcode_notimp = 4;
constexpr uint16_t rcode_refused = 5;

constexpr size_t header_size = 12;

// Appends big-endian integers, names and raw bytes to a message.
struct writer {
  std::vector<uint8_t> out;

  void u8(uint8_t v) { out.push_back(v); }
  void u16(uint16_t v) {
    out.push_back(static_cast<uint8_t>(v >> 8));
    out.push_back(static_cast<uint8_t>(v & 0xff));
  }
  void u32(uint32_t v) {
    u16(static_cast<uint16_t>(v >> 16));
    u16(static_cast<uint16_t>(v & 0xffff));
  }
  void bytes(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
  }
  void bytes(const std::vector<uint8_t>& v) { out.insert(out.end(), v.begin(), v.end()); }
  // A dotted name as labels, uncompressed; a trailing dot is optional.
  // Labels longer than 63 bytes are cut (the server never needs them).
  void name(const std::string& dotted) {
    size_t start = 0;
    while (start < dotted.size()) {
      size_t dot = dotted.find('.', start);
      if (dot == std::string::npos)
        dot = dotted.size();
      const size_t len = std::min<size_t>(dot - start, 63);
      if (len == 0)
        break;
      u8(static_cast<uint8_t>(len));
      bytes(dotted.data() + start, len);
      start = dot + 1;
    }
    u8(0);
  }
  void header(uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar) {
    u16(id);
    u16(flags);
    u16(qd);
    u16(an);
    u16(ns);
    u16(ar);
  }
  // The fixed part of a resource record after its owner name.
  void rr_fixed(uint16_t type, uint32_t ttl, uint16_t rdlength) {
    u16(type);
    u16(class_in);
    u32(ttl);
    u16(rdlength);
  }
};

// Bounds-checked reader of a received message.
struct reader {
  const uint8_t* p;
  size_t n;
  size_t at = 0;
  bool ok = true;

  reader(const uint8_t* data, size_t len) : p(data), n(len) {}
  uint8_t u8() {
    if (at + 1 > n) {
      ok = false;
      return 0;
    }
    return p[at++];
  }
  uint16_t u16() {
    if (at + 2 > n) {
      ok = false;
      at = n;
      return 0;
    }
    const uint16_t v = static_cast<uint16_t>((p[at] << 8) | p[at + 1]);
    at += 2;
    return v;
  }
  uint32_t u32() {
    const uint32_t hi = u16();
    return (hi << 16) | u16();
  }
  // A possibly compressed name, as a dotted string (labels as sent), or
  // nullopt when it runs off the message or loops.
  std::optional<std::string> name() {
    std::string out;
    size_t pos = at;
    bool jumped = false;
    for (int hops = 0; hops < 64;) {
      if (pos >= n)
        return fail();
      const uint8_t len = p[pos];
      if (len == 0) {
        if (!jumped)
          at = pos + 1;
        return out;
      }
      if ((len & 0xc0) == 0xc0) {
        if (pos + 1 >= n)
          return fail();
        const size_t target = static_cast<size_t>(((len & 0x3f) << 8) | p[pos + 1]);
        if (!jumped)
          at = pos + 2;
        jumped = true;
        pos = target;
        ++hops;
        continue;
      }
      if (len > 63 || pos + 1 + len > n)
        return fail();
      if (!out.empty())
        out += '.';
      out.append(reinterpret_cast<const char*>(p + pos + 1), len);
      pos += 1 + len;
    }
    return fail();
  }

private:
  std::optional<std::string> fail() {
    ok = false;
    return std::nullopt;
  }
};

// The header and first question of a query, with the question's raw bytes
// (so that a reply can echo them exactly, case and oddities included).
struct query {
  uint16_t id = 0;
  uint16_t flags = 0;
  uint16_t qdcount = 0;
  std::string qname;  // as sent (case preserved), dotted
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  std::vector<uint8_t> raw_question;  // name + type + class, as sent
};

inline std::optional<query> parse_query(const uint8_t* data, size_t len) {
  reader r(data, len);
  query q;
  q.id = r.u16();
  q.flags = r.u16();
  q.qdcount = r.u16();
  r.u16();
  r.u16();
  r.u16();
  if (!r.ok || q.qdcount == 0 || (q.flags & flag_qr))
    return std::nullopt;
  const size_t qstart = r.at;
  auto nm = r.name();
  if (!nm)
    return std::nullopt;
  q.qname = *nm;
  q.qtype = r.u16();
  q.qclass = r.u16();
  if (!r.ok)
    return std::nullopt;
  q.raw_question.assign(data + qstart, data + r.at);
  return q;
}

// A standard recursive query for one name.
inline std::vector<uint8_t> make_query(uint16_t id, const std::string& name, uint16_t qtype) {
  writer w;
  w.header(id, flag_rd, 1, 0, 0, 0);
  w.name(name);
  w.u16(qtype);
  w.u16(class_in);
  return w.out;
}

// Just the id and the response flag of a message, if it has a header.
inline bool is_response_to(const uint8_t* data, size_t len, uint16_t id) {
  if (len < header_size)
    return false;
  const uint16_t rid = static_cast<uint16_t>((data[0] << 8) | data[1]);
  return rid == id && (data[2] & 0x80) != 0;
}

}  // namespace wire

// ---- small POSIX helpers -----------------------------------------------------

namespace detail {

inline sockaddr_in ipv4(const std::string& dotted, unsigned port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, dotted.c_str(), &sin.sin_addr) != 1)
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sin;
}

inline unsigned bound_port(int fd) {
  sockaddr_in sin{};
  socklen_t len = sizeof sin;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len) < 0)
    return 0;
  return ntohs(sin.sin_port);
}

inline void close_fd(int& fd) {
  if (fd >= 0)
    ::close(fd);
  fd = -1;
}

// A UDP port that was free a moment ago (bind to 0, read it, close).
inline unsigned pick_free_udp_port() {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return 0;
  const sockaddr_in sin = ipv4("127.0.0.1", 0);
  unsigned port = 0;
  if (::bind(s, reinterpret_cast<const sockaddr*>(&sin), sizeof sin) == 0)
    port = bound_port(s);
  ::close(s);
  return port;
}

inline int poll_one(int fd, short events, int timeout_ms) {
  pollfd p{};
  p.fd = fd;
  p.events = events;
  int r;
  do
    r = ::poll(&p, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  return r;
}

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace detail

// ---- dnsmasq -----------------------------------------------------------------

// EVASIO_TEST_DNSMASQ: another dnsmasq binary (a path, as a string literal).
#ifdef EVASIO_TEST_DNSMASQ
constexpr const char* dnsmasq_path = EVASIO_TEST_DNSMASQ;
#else
constexpr const char* dnsmasq_path = "/usr/sbin/dnsmasq";
#endif

inline bool dnsmasq_available() { return ::access(dnsmasq_path, X_OK) == 0; }

// For *boost::unit_test::precondition(...): the case is reported as skipped
// (with this message) on a machine without dnsmasq.
struct dnsmasq_present {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
    boost::test_tools::assertion_result r(dnsmasq_available());
    if (!r)
      r.message() << "skipped: " << dnsmasq_path << " is not installed";
    return r;
  }
};

// A dnsmasq of the test's own, on 127.0.0.1 (UDP and TCP, one random port),
// answering only from `records` (dnsmasq options such as
// "--address=/a.example/10.0.0.1", "--host-record=h.example,10.0.0.2,fd00::2",
// "--cname=alias.example,h.example", "--txt-record=t.example,hi",
// "--ptr-record=4.3.2.1.in-addr.arpa,p.example", "--local=/example/",
// "--local-ttl=60"): no upstream servers, no /etc/hosts, no config file, no pid
// file. The constructor returns once it answers a query (bounded: a few
// seconds); running() says whether it does. Killed and reaped on destruction.
class dnsmasq_server {
public:
  explicit dnsmasq_server(std::vector<std::string> records) : records_(std::move(records)) {
    if (!dnsmasq_available()) {
      BOOST_TEST_MESSAGE("dnsmasq_server: " << dnsmasq_path << " not installed");
      return;
    }
    static std::atomic<unsigned> serial{0};
    log_path_ = "/tmp/evasio-dnsmasq-" + std::to_string(::getpid()) + "-" +
                std::to_string(serial.fetch_add(1)) + ".log";
    for (int attempt = 0; attempt < 6 && !running(); ++attempt) {
      const unsigned port = detail::pick_free_udp_port();
      if (port == 0)
        continue;
      if (spawn(port) && wait_until_answering(port, std::chrono::milliseconds(3000)))
        port_ = port;
      else
        stop();
    }
    if (!running())
      BOOST_TEST_MESSAGE("dnsmasq_server: could not start dnsmasq; its log:\n"
                         << detail::read_text_file(log_path_));
  }
  ~dnsmasq_server() {
    stop();
    if (!log_path_.empty())
      ::unlink(log_path_.c_str());
  }
  dnsmasq_server(const dnsmasq_server&) = delete;
  dnsmasq_server& operator=(const dnsmasq_server&) = delete;

  bool running() const { return pid_ > 0 && port_ != 0; }
  unsigned port() const { return port_; }
  // "127.0.0.1:N", for evdns_base_nameserver_ip_add.
  std::string address_string() const { return "127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return pid_; }
  // What dnsmasq wrote (its log goes to a file of ours).
  std::string log() const { return detail::read_text_file(log_path_); }

private:
  bool spawn(unsigned port) {
    std::vector<std::string> args = {
        dnsmasq_path,
        "--keep-in-foreground",
        "--no-resolv",
        "--no-hosts",
        "--no-poll",
        "--conf-file=/dev/null",
        "--pid-file=",  // an empty path: no pid file
        "--listen-address=127.0.0.1",
        "--bind-interfaces",
        "--log-facility=-",  // stderr, which is our log file
        "--port=" + std::to_string(port),
    };
    // As root dnsmasq would switch to "nobody" (not everywhere present);
    // it stays who it is. As anyone else it never switches.
    if (::geteuid() == 0)
      args.push_back("--user=root");
    args.insert(args.end(), records_.begin(), records_.end());
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(&a[0]);
    argv.push_back(nullptr);

    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0)
      return false;
    if (pid == 0) {
      // Child: only async-signal-safe calls until exec.
#ifdef __linux__
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // no orphan if the test dies
      if (::getppid() != parent)
        ::_exit(126);
#else
      (void)parent;
#endif
      const int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (devnull >= 0)
        ::dup2(devnull, 0);
      if (log >= 0) {
        ::dup2(log, 1);
        ::dup2(log, 2);
      }
      ::execv(dnsmasq_path, argv.data());
      ::_exit(127);
    }
    pid_ = pid;
    return true;
  }

  // Polls with a raw UDP query until dnsmasq answers, or exits, or the
  // deadline passes.
  bool wait_until_answering(unsigned port, std::chrono::milliseconds limit) {
    const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
      return false;
    bool answered = false;
    const auto deadline = steady::now() + limit;
    uint16_t id = 0x4d51;
    while (!answered && steady::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;  // it exited (most likely: the port was taken)
        break;
      }
      const auto q = wire::make_query(++id, "evasio-probe.invalid", wire::type_a);
      const sockaddr_in to = detail::ipv4("127.0.0.1", port);
      ::sendto(s, q.data(), q.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
      const auto until = steady::now() + std::chrono::milliseconds(50);
      while (!answered && steady::now() < until) {
        if (detail::poll_one(s, POLLIN, 10) != 1)
          continue;
        uint8_t buf[1500];
        const ssize_t n = ::recv(s, buf, sizeof buf, 0);
        if (n > 0 && wire::is_response_to(buf, static_cast<size_t>(n), id))
          answered = true;
      }
    }
    ::close(s);
    return answered;
  }

  void stop() {
    if (pid_ <= 0)
      return;
    ::kill(pid_, SIGTERM);
    const auto deadline = steady::now() + std::chrono::milliseconds(2000);
    int status = 0;
    for (;;) {
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_ || (r < 0 && errno != EINTR))
        break;
      if (steady::now() >= deadline) {
        ::kill(pid_, SIGKILL);
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    pid_ = -1;
    port_ = 0;
  }

  std::vector<std::string> records_;
  std::string log_path_;
  pid_t pid_ = -1;
  unsigned port_ = 0;
};

// ---- hostile_dns ---------------------------------------------------------------

enum class transport { udp, tcp };

inline std::ostream& operator<<(std::ostream& os, transport t) { return os << (t == transport::udp ? "udp" : "tcp"); }

// One query as the server received it.
struct received_query {
  std::string qname;  // as sent: case preserved, no trailing dot
  uint16_t qtype = 0;
  uint16_t id = 0;
  transport via = transport::udp;
  steady::time_point at;
};

// How hostile_dns answers (each query, over UDP and TCP alike unless said).
enum class behaviour {
  answer,                    // NOERROR with the configured records
  truncate_udp,              // UDP: TC bit and no answers; TCP: the full answer
  wrong_id_then_answer,      // a decoy reply with another id, then the answer
  wrong_id_only,             // only the decoy reply with another id
  wrong_source_then_answer,  // a decoy from a second socket, then the answer
  wrong_source_only,         // only the decoy from the second socket
  silent,                    // never answers (the query is still recorded)
  servfail,                  // rcode 2
  nxdomain,                  // rcode 3 (with an SOA if soa_minimum is set)
  refused,                   // rcode 5
  nodata,                    // NOERROR, no answers (an SOA if soa_minimum is set)
  garbage_then_answer,       // a few bytes that are no DNS message, then the answer
  garbage_only,              // only those bytes
  cut_answer,                // an answer whose packet stops inside its first record
  mismatched_question,       // a reply whose question names another name
  mismatched_answer_name,    // the question echoed, the records owned by another name
};

struct hostile_config {
  behaviour mode = behaviour::answer;
  std::vector<std::string> a = {"10.9.8.7"};  // A records for the answer
  std::vector<std::string> aaaa;              // AAAA records for the answer
  uint32_t ttl = 300;
  // answer: the question's name is an alias of cname_chain[0], which is an
  // alias of cname_chain[1], ...; the A/AAAA records belong to the last.
  std::vector<std::string> cname_chain;
  // When not empty, only these names (compared case-insensitively) get
  // `mode`; every other name gets NXDOMAIN.
  std::vector<std::string> answer_names;
  // nxdomain/nodata: add an SOA to the authority section with this TTL and
  // this "minimum" field when soa_minimum is not 0.
  uint32_t soa_ttl = 0;
  uint32_t soa_minimum = 0;
  // The A record of decoy replies (wrong id, wrong source).
  std::string decoy_a = "192.0.2.66";
  // wrong_source_*: where the decoy comes from: this address, and the
  // server's own port if decoy_same_port (else a port the kernel picks).
  std::string decoy_source = "127.0.0.1";
  bool decoy_same_port = false;
  // Names used by mismatched_question / mismatched_answer_name.
  std::string other_name = "elsewhere.invalid";
  // Query types never answered whatever the mode (recorded all the same).
  std::vector<uint16_t> silent_types;
};

// A DNS responder on 127.0.0.1:port() (UDP and TCP), served by a thread of
// its own with blocking sockets. Configure it per case; read what it got.
class hostile_dns {
public:
  explicit hostile_dns(hostile_config config = {}) : config_(std::move(config)) {
    for (int attempt = 0; attempt < 20 && port_ == 0; ++attempt)
      open_sockets();
    BOOST_TEST_REQUIRE(port_ != 0);
    bind_decoy_socket(config_);
    int p[2];
    BOOST_TEST_REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    wake_read_ = p[0];
    wake_write_ = p[1];
    thread_ = std::thread([this] { run(); });
  }
  ~hostile_dns() {
    const char x = 'x';
    ssize_t ignored = ::write(wake_write_, &x, 1);
    (void)ignored;
    if (thread_.joinable())
      thread_.join();
    detail::close_fd(udp_);
    detail::close_fd(tcp_);
    detail::close_fd(decoy_);
    detail::close_fd(wake_read_);
    detail::close_fd(wake_write_);
  }
  hostile_dns(const hostile_dns&) = delete;
  hostile_dns& operator=(const hostile_dns&) = delete;

  unsigned port() const { return port_; }
  std::string address_string() const { return "127.0.0.1:" + std::to_string(port_); }

  void configure(hostile_config config) {
    std::lock_guard<std::mutex> lock(mu_);
    config_ = std::move(config);
    bind_decoy_socket(config_);
  }
  hostile_config config() const {
    std::lock_guard<std::mutex> lock(mu_);
    return config_;
  }

  std::vector<received_query> queries() const {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }
  size_t query_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return log_.size();
  }
  size_t query_count(transport via) const {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<size_t>(std::count_if(log_.begin(), log_.end(),
                                             [&](const received_query& q) { return q.via == via; }));
  }
  // The names received, canonical (lower case), in arrival order.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& q : queries())
      out.push_back(canonical_name(q.qname));
    return out;
  }
  void clear_queries() {
    std::lock_guard<std::mutex> lock(mu_);
    log_.clear();
  }
  // Waits (bounded) until at least n queries arrived.
  bool wait_for_queries(size_t n, std::chrono::milliseconds limit) const {
    std::unique_lock<std::mutex> lock(mu_);
    return arrived_.wait_for(lock, limit, [&] { return log_.size() >= n; });
  }

private:
  void open_sockets() {
    udp_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    tcp_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (udp_ < 0 || tcp_ < 0)
      return fail_open();
    const int one = 1;
    ::setsockopt(tcp_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sin = detail::ipv4("127.0.0.1", 0);
    if (::bind(udp_, reinterpret_cast<sockaddr*>(&sin), sizeof sin) < 0)
      return fail_open();
    const unsigned port = detail::bound_port(udp_);
    sin = detail::ipv4("127.0.0.1", port);
    if (port == 0 || ::bind(tcp_, reinterpret_cast<sockaddr*>(&sin), sizeof sin) < 0 ||
        ::listen(tcp_, 16) < 0)
      return fail_open();
    port_ = port;
  }
  void fail_open() {
    detail::close_fd(udp_);
    detail::close_fd(tcp_);
  }

  void run() {
    for (;;) {
      pollfd fds[3] = {};
      fds[0].fd = udp_;
      fds[0].events = POLLIN;
      fds[1].fd = tcp_;
      fds[1].events = POLLIN;
      fds[2].fd = wake_read_;
      fds[2].events = POLLIN;
      const int r = ::poll(fds, 3, -1);
      if (r < 0) {
        if (errno == EINTR)
          continue;
        return;
      }
      if (fds[2].revents)
        return;
      if (fds[0].revents & POLLIN)
        serve_udp();
      if (fds[1].revents & POLLIN)
        serve_tcp();
    }
  }

  void serve_udp() {
    uint8_t buf[4096];
    sockaddr_in from{};
    socklen_t fromlen = sizeof from;
    const ssize_t n = ::recvfrom(udp_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fromlen);
    if (n <= 0)
      return;
    const auto q = wire::parse_query(buf, static_cast<size_t>(n));
    if (!q)
      return;
    record(*q, transport::udp);
    const hostile_config cfg = config();
    for (const auto& out : respond(*q, cfg, transport::udp)) {
      if (out.from_decoy_socket) {
        std::lock_guard<std::mutex> lock(mu_);
        if (decoy_ >= 0)
          ::sendto(decoy_, out.bytes.data(), out.bytes.size(), 0, reinterpret_cast<sockaddr*>(&from), fromlen);
      } else {
        ::sendto(udp_, out.bytes.data(), out.bytes.size(), 0, reinterpret_cast<sockaddr*>(&from), fromlen);
      }
    }
  }

  // One connection at a time: length-prefixed queries until the peer closes
  // (or stays quiet for a second, or the server stops).
  void serve_tcp() {
    const int c = ::accept4(tcp_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0)
      return;
    for (;;) {
      pollfd fds[2] = {};
      fds[0].fd = c;
      fds[0].events = POLLIN;
      fds[1].fd = wake_read_;
      fds[1].events = POLLIN;
      if (::poll(fds, 2, 1000) <= 0 || fds[1].revents)
        break;
      uint8_t lenbuf[2];
      if (!read_exact(c, lenbuf, 2))
        break;
      const size_t len = static_cast<size_t>((lenbuf[0] << 8) | lenbuf[1]);
      std::vector<uint8_t> msg(len);
      if (len == 0 || !read_exact(c, msg.data(), len))
        break;
      const auto q = wire::parse_query(msg.data(), msg.size());
      if (!q)
        break;
      record(*q, transport::tcp);
      const hostile_config cfg = config();
      for (const auto& out : respond(*q, cfg, transport::tcp)) {
        if (out.from_decoy_socket)
          continue;  // no "other source" on a connection
        wire::writer w;
        w.u16(static_cast<uint16_t>(out.bytes.size()));
        w.bytes(out.bytes);
        if (!write_all(c, w.out.data(), w.out.size()))
          break;
      }
    }
    ::close(c);
  }

  static bool read_exact(int fd, uint8_t* p, size_t n) {
    while (n) {
      if (detail::poll_one(fd, POLLIN, 1000) != 1)
        return false;
      const ssize_t r = ::read(fd, p, n);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        return false;
      p += r;
      n -= static_cast<size_t>(r);
    }
    return true;
  }
  static bool write_all(int fd, const uint8_t* p, size_t n) {
    while (n) {
      const ssize_t r = ::send(fd, p, n, MSG_NOSIGNAL);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        return false;
      p += r;
      n -= static_cast<size_t>(r);
    }
    return true;
  }

  void record(const wire::query& q, transport via) {
    received_query rq;
    rq.qname = q.qname;
    rq.qtype = q.qtype;
    rq.id = q.id;
    rq.via = via;
    rq.at = steady::now();
    {
      std::lock_guard<std::mutex> lock(mu_);
      log_.push_back(std::move(rq));
    }
    arrived_.notify_all();
  }

  // Binds the socket that decoys come from as the configuration says. It is
  // opened with the server and then only replaced in place (dup2), so that
  // the process's fd count stays what it was when the server was made: the
  // cases count fds to find the client's leaks. Called with mu_ held.
  void bind_decoy_socket(const hostile_config& cfg) {
    const std::string want = cfg.decoy_source + (cfg.decoy_same_port ? ":same" : ":any");
    if (decoy_ >= 0 && decoy_key_ == want)
      return;
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const sockaddr_in sin = detail::ipv4(cfg.decoy_source, cfg.decoy_same_port ? port_ : 0);
    if (s < 0 || ::bind(s, reinterpret_cast<const sockaddr*>(&sin), sizeof sin) < 0) {
      detail::close_fd(s);
      return;  // keeps the previous one
    }
    if (decoy_ < 0) {
      decoy_ = s;
    } else {
      ::dup2(s, decoy_);
      ::fcntl(decoy_, F_SETFD, FD_CLOEXEC);
      ::close(s);
    }
    decoy_key_ = want;
  }

  struct outgoing {
    std::vector<uint8_t> bytes;
    bool from_decoy_socket = false;
  };

  static bool name_listed(const std::vector<std::string>& names, const std::string& qname) {
    const std::string c = canonical_name(qname);
    return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return canonical_name(n) == c; });
  }

  // Reply header flags: a response to q (same opcode and RD), authoritative,
  // recursion available, with this rcode.
  static uint16_t reply_flags(const wire::query& q, uint16_t rcode) {
    return static_cast<uint16_t>(wire::flag_qr | (q.flags & (wire::opcode_mask | wire::flag_rd)) | wire::flag_aa |
                                 wire::flag_ra | (rcode & 0xf));
  }

  // Address records of q's type, owned by the name written by `owner`.
  template <class Owner>
  static uint16_t put_addresses(wire::writer& w, const wire::query& q, const hostile_config& cfg,
                                const std::vector<std::string>& a, Owner owner) {
    uint16_t n = 0;
    if (q.qtype == wire::type_a) {
      for (const auto& s : a) {
        in_addr v4{};
        if (::inet_pton(AF_INET, s.c_str(), &v4) != 1)
          continue;
        owner(w);
        w.rr_fixed(wire::type_a, cfg.ttl, 4);
        w.bytes(&v4, 4);
        ++n;
      }
    } else if (q.qtype == wire::type_aaaa) {
      for (const auto& s : cfg.aaaa) {
        in6_addr v6{};
        if (::inet_pton(AF_INET6, s.c_str(), &v6) != 1)
          continue;
        owner(w);
        w.rr_fixed(wire::type_aaaa, cfg.ttl, 16);
        w.bytes(&v6, 16);
        ++n;
      }
    }
    return n;
  }

  // The answer to q: the question echoed, then the CNAME chain (if any) and
  // the address records. Names compressed as pointers to the question.
  static std::vector<uint8_t> answer(const wire::query& q, const hostile_config& cfg,
                                     const std::vector<std::string>& a, uint16_t id) {
    wire::writer body;
    uint16_t count = 0;
    const auto at_question = [](wire::writer& w) { w.u16(0xc000 | wire::header_size); };
    if (cfg.cname_chain.empty()) {
      count = put_addresses(body, q, cfg, a, at_question);
    } else {
      std::string owner;  // empty: the question's name
      for (const auto& target : cfg.cname_chain) {
        if (owner.empty())
          at_question(body);
        else
          body.name(owner);
        wire::writer rdata;
        rdata.name(target);
        body.rr_fixed(wire::type_cname, cfg.ttl, static_cast<uint16_t>(rdata.out.size()));
        body.bytes(rdata.out);
        ++count;
        owner = target;
      }
      count = static_cast<uint16_t>(count + put_addresses(body, q, cfg, a, [&](wire::writer& w) { w.name(owner); }));
    }
    wire::writer w;
    w.header(id, reply_flags(q, wire::rcode_noerror), 1, count, 0, 0);
    w.bytes(q.raw_question);
    w.bytes(body.out);
    return w.out;
  }

  // An error or empty reply with this rcode (and the SOA if configured).
  static std::vector<uint8_t> empty_reply(const wire::query& q, const hostile_config& cfg, uint16_t rcode,
                                          uint16_t extra_flags = 0) {
    const bool soa = cfg.soa_minimum != 0 && (rcode == wire::rcode_nxdomain || rcode == wire::rcode_noerror);
    wire::writer w;
    w.header(q.id, static_cast<uint16_t>(reply_flags(q, rcode) | extra_flags), 1, 0, soa ? 1 : 0, 0);
    w.bytes(q.raw_question);
    if (soa) {
      wire::writer rdata;
      rdata.name("ns.invalid");
      rdata.name("hostmaster.invalid");
      rdata.u32(1);     // serial
      rdata.u32(3600);  // refresh
      rdata.u32(600);   // retry
      rdata.u32(86400); // expire
      rdata.u32(cfg.soa_minimum);
      w.name("invalid");
      w.rr_fixed(wire::type_soa, cfg.soa_ttl, static_cast<uint16_t>(rdata.out.size()));
      w.bytes(rdata.out);
    }
    return w.out;
  }

  static std::vector<uint8_t> garbage() { return {0xde, 0xad, 0xbe, 0xef, 0x00}; }

  static std::vector<outgoing> respond(const wire::query& q, const hostile_config& cfg, transport via) {
    std::vector<outgoing> out;
    const auto send = [&](std::vector<uint8_t> b, bool decoy = false) { out.push_back({std::move(b), decoy}); };
    if (!cfg.answer_names.empty() && !name_listed(cfg.answer_names, q.qname)) {
      send(empty_reply(q, cfg, wire::rcode_nxdomain));
      return out;
    }
    if (std::find(cfg.silent_types.begin(), cfg.silent_types.end(), q.qtype) != cfg.silent_types.end())
      return out;
    const std::vector<std::string> decoy = {cfg.decoy_a};
    switch (cfg.mode) {
    case behaviour::answer:
      send(answer(q, cfg, cfg.a, q.id));
      break;
    case behaviour::truncate_udp:
      if (via == transport::udp)
        send(empty_reply(q, cfg, wire::rcode_noerror, wire::flag_tc));
      else
        send(answer(q, cfg, cfg.a, q.id));
      break;
    case behaviour::wrong_id_then_answer:
    case behaviour::wrong_id_only:
      send(answer(q, cfg, decoy, static_cast<uint16_t>(q.id ^ 0x5a5a)));
      if (cfg.mode == behaviour::wrong_id_then_answer)
        send(answer(q, cfg, cfg.a, q.id));
      break;
    case behaviour::wrong_source_then_answer:
    case behaviour::wrong_source_only:
      send(answer(q, cfg, decoy, q.id), true);
      if (cfg.mode == behaviour::wrong_source_then_answer)
        send(answer(q, cfg, cfg.a, q.id));
      break;
    case behaviour::silent:
      break;
    case behaviour::servfail:
      send(empty_reply(q, cfg, wire::rcode_servfail));
      break;
    case behaviour::nxdomain:
      send(empty_reply(q, cfg, wire::rcode_nxdomain));
      break;
    case behaviour::refused:
      send(empty_reply(q, cfg, wire::rcode_refused));
      break;
    case behaviour::nodata:
      send(empty_reply(q, cfg, wire::rcode_noerror));
      break;
    case behaviour::garbage_then_answer:
      send(garbage());
      send(answer(q, cfg, cfg.a, q.id));
      break;
    case behaviour::garbage_only:
      send(garbage());
      break;
    case behaviour::cut_answer: {
      // Header, question, then the first record's name pointer and type:
      // its class, TTL, length and data are missing.
      auto full = answer(q, cfg, cfg.a, q.id);
      const size_t keep = wire::header_size + q.raw_question.size() + 4;
      if (full.size() > keep)
        full.resize(keep);
      send(std::move(full));
      break;
    }
    case behaviour::mismatched_question: {
      wire::query other = q;
      wire::writer qw;
      qw.name(cfg.other_name);
      qw.u16(q.qtype);
      qw.u16(q.qclass);
      other.raw_question = qw.out;
      send(answer(other, cfg, cfg.a, q.id));
      break;
    }
    case behaviour::mismatched_answer_name: {
      wire::writer w;
      hostile_config plain = cfg;
      plain.cname_chain.clear();
      wire::writer body;
      const uint16_t n =
          put_addresses(body, q, plain, cfg.a, [&](wire::writer& ow) { ow.name(cfg.other_name); });
      w.header(q.id, reply_flags(q, wire::rcode_noerror), 1, n, 0, 0);
      w.bytes(q.raw_question);
      w.bytes(body.out);
      send(w.out);
      break;
    }
    }
    return out;
  }

  mutable std::mutex mu_;
  mutable std::condition_variable arrived_;
  hostile_config config_;
  std::vector<received_query> log_;
  int udp_ = -1;
  int tcp_ = -1;
  int decoy_ = -1;
  std::string decoy_key_;
  int wake_read_ = -1;
  int wake_write_ = -1;
  unsigned port_ = 0;
  std::thread thread_;
};

}  // namespace dnstest

#endif  // EVASIO_TESTS_SUPPORT_DNS_HPP_INCLUDED_

// Small POSIX helpers for the evasio test suites: loopback clients, socket
// addresses, fd inspection and a safety alarm. Nothing here depends on
// libevent or evasio, so the same tests build against either.
#ifndef EVASIO_TESTS_SUPPORT_NET_HPP_INCLUDED_
#define EVASIO_TESTS_SUPPORT_NET_HPP_INCLUDED_

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace nettest {

// ---- RAII fd --------------------------------------------------------------

// Owns a file descriptor and closes it on destruction (unless released).
class Fd {
public:
  Fd() = default;
  explicit Fd(int fd) noexcept : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o)
      reset(o.release());
    return *this;
  }
  ~Fd() { reset(); }

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  int release() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) {
      const int saved = errno;
      ::close(fd_);
      errno = saved;
    }
    fd_ = fd;
  }

private:
  int fd_ = -1;
};

// ---- fd inspection --------------------------------------------------------

// True while fd names an open file description in this process.
inline bool fd_is_open(int fd) { return fd >= 0 && ::fcntl(fd, F_GETFD) != -1; }
// F_GETFL and F_GETFD, or -1.
inline int fd_status_flags(int fd) { return ::fcntl(fd, F_GETFL); }
inline int fd_descriptor_flags(int fd) { return ::fcntl(fd, F_GETFD); }
inline bool fd_is_nonblocking(int fd) {
  const int fl = fd_status_flags(fd);
  return fl != -1 && (fl & O_NONBLOCK) != 0;
}
inline bool fd_is_cloexec(int fd) {
  const int fl = fd_descriptor_flags(fd);
  return fl != -1 && (fl & FD_CLOEXEC) != 0;
}

// An int socket option, or -1000 when getsockopt fails.
inline int sockopt_int(int fd, int level, int name) {
  int v = 0;
  socklen_t len = sizeof v;
  if (::getsockopt(fd, level, name, &v, &len) < 0)
    return -1000;
  return v;
}
inline bool is_listening(int fd) { return sockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN) == 1; }

// Number of fds open in this process (entries of /proc/self/fd, not counting
// the one used to read the directory). -1 if /proc is unavailable.
inline int count_open_fds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (!d)
    return -1;
  const int self = ::dirfd(d);
  int n = 0;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.')
      continue;
    if (std::atoi(e->d_name) == self)
      continue;
    ++n;
  }
  ::closedir(d);
  return n;
}

// Highest fd number open in this process, or -1.
inline int highest_open_fd() {
  DIR* d = ::opendir("/proc/self/fd");
  if (!d)
    return -1;
  const int self = ::dirfd(d);
  int hi = -1;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.')
      continue;
    const int fd = std::atoi(e->d_name);
    if (fd != self && fd > hi)
      hi = fd;
  }
  ::closedir(d);
  return hi;
}

// ---- addresses ------------------------------------------------------------

// A sockaddr of any family with its length.
struct Addr {
  sockaddr_storage ss{};
  socklen_t len = 0;

  const sockaddr* sa() const noexcept { return reinterpret_cast<const sockaddr*>(&ss); }
  sockaddr* sa() noexcept { return reinterpret_cast<sockaddr*>(&ss); }
  int family() const noexcept { return ss.ss_family; }
  int ilen() const noexcept { return static_cast<int>(len); }
  // Port in host order (0 for AF_UNIX).
  unsigned port() const noexcept {
    if (ss.ss_family == AF_INET)
      return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
      return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
    return 0;
  }
};

inline Addr ipv4_loopback(unsigned port = 0) {
  Addr a;
  auto* sin = reinterpret_cast<sockaddr_in*>(&a.ss);
  sin->sin_family = AF_INET;
  sin->sin_port = htons(static_cast<uint16_t>(port));
  sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.len = sizeof(sockaddr_in);
  return a;
}

inline Addr ipv6_loopback(unsigned port = 0) {
  Addr a;
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(static_cast<uint16_t>(port));
  sin6->sin6_addr = in6addr_loopback;
  a.len = sizeof(sockaddr_in6);
  return a;
}

inline Addr unix_address(const std::string& path) {
  Addr a;
  auto* sun = reinterpret_cast<sockaddr_un*>(&a.ss);
  sun->sun_family = AF_UNIX;
  std::snprintf(sun->sun_path, sizeof sun->sun_path, "%s", path.c_str());
  a.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + std::strlen(sun->sun_path) + 1);
  return a;
}

// The socket's own address (getsockname); len 0 on failure.
inline Addr local_address(int fd) {
  Addr a;
  a.len = sizeof a.ss;
  if (::getsockname(fd, a.sa(), &a.len) < 0)
    a.len = 0;
  return a;
}

// Same family, address and port (AF_INET/AF_INET6), or same path (AF_UNIX).
inline bool same_endpoint(const sockaddr* x, socklen_t xlen, const Addr& y) {
  if (!x || x->sa_family != y.family())
    return false;
  if (y.family() == AF_INET) {
    if (xlen < sizeof(sockaddr_in))
      return false;
    auto* a = reinterpret_cast<const sockaddr_in*>(x);
    auto* b = reinterpret_cast<const sockaddr_in*>(&y.ss);
    return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
  }
  if (y.family() == AF_INET6) {
    if (xlen < sizeof(sockaddr_in6))
      return false;
    auto* a = reinterpret_cast<const sockaddr_in6*>(x);
    auto* b = reinterpret_cast<const sockaddr_in6*>(&y.ss);
    return a->sin6_port == b->sin6_port &&
           std::memcmp(&a->sin6_addr, &b->sin6_addr, sizeof a->sin6_addr) == 0;
  }
  if (y.family() == AF_UNIX) {
    const size_t off = offsetof(sockaddr_un, sun_path);
    if (xlen != y.len || xlen < off)
      return false;
    return std::memcmp(reinterpret_cast<const char*>(x) + off,
                       reinterpret_cast<const char*>(&y.ss) + off, xlen - off) == 0;
  }
  return false;
}

// A fresh AF_UNIX path under /tmp, unlinked before and on destruction.
class TempSocketPath {
public:
  explicit TempSocketPath(const char* tag = "s") {
    static std::atomic<unsigned> counter{0};
    char buf[96];
    std::snprintf(buf, sizeof buf, "/tmp/evasio-test-%ld-%u-%s.sock", static_cast<long>(::getpid()),
                  counter.fetch_add(1), tag);
    path_ = buf;
    ::unlink(path_.c_str());
  }
  TempSocketPath(const TempSocketPath&) = delete;
  TempSocketPath& operator=(const TempSocketPath&) = delete;
  ~TempSocketPath() { ::unlink(path_.c_str()); }
  const std::string& path() const noexcept { return path_; }
  Addr addr() const { return unix_address(path_); }

private:
  std::string path_;
};

// ---- sockets --------------------------------------------------------------

// A blocking stream socket of the address's family, connected to it. An
// invalid Fd (errno set) on failure. With `bind_to`, the client binds there
// first (used to give AF_UNIX clients a name).
inline Fd connect_to(const Addr& to, const Addr* bind_to = nullptr) {
  Fd s(::socket(to.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s.valid())
    return s;
  if (bind_to && ::bind(s.get(), bind_to->sa(), bind_to->len) < 0)
    return Fd();
  int r;
  do
    r = ::connect(s.get(), to.sa(), to.len);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return Fd();
  return s;
}

// A stream socket bound to `at` (not listening), optionally non-blocking.
// Invalid Fd (errno set) on failure.
inline Fd bound_socket(const Addr& at, bool nonblocking = true) {
  Fd s(::socket(at.family(), SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0));
  if (!s.valid())
    return s;
  if (::bind(s.get(), at.sa(), at.len) < 0)
    return Fd();
  return s;
}

// The address a listener's fd is bound to (getsockname).
inline Addr listener_address(int listen_fd) { return local_address(listen_fd); }

// Waits (bounded by timeout_ms, a safety net) until fd is readable.
inline bool wait_readable(int fd, int timeout_ms = 5000) {
  pollfd p{};
  p.fd = fd;
  p.events = POLLIN;
  int r;
  do
    r = ::poll(&p, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  return r == 1 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

// Calls io(fd, p, n), a read or a write, until all n bytes are through,
// retrying on EINTR; false on an error or end of file.
template <class Io, class Byte>
bool transfer_all(Io io, int fd, Byte* p, size_t n) {
  while (n) {
    const ssize_t r = io(fd, p, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

// Writes all n bytes to a blocking fd; false on error.
inline bool write_all(int fd, const void* p, size_t n) {
  return transfer_all([](int f, const char* c, size_t k) { return ::write(f, c, k); }, fd,
                      static_cast<const char*>(p), n);
}

// Reads exactly n bytes from a blocking fd; false on error or early EOF.
inline bool read_exact(int fd, void* p, size_t n) {
  return transfer_all([](int f, char* c, size_t k) { return ::read(f, c, k); }, fd,
                      static_cast<char*>(p), n);
}

inline bool ipv6_loopback_works() {
  Fd s(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s.valid())
    return false;
  const Addr a = ipv6_loopback(0);
  return ::bind(s.get(), a.sa(), a.len) == 0;
}

// ---- safety alarm ---------------------------------------------------------

// Bounded safety net: if the scope is not left within `seconds`, the process
// prints which test hung and exits with status 3, so a broken implementation
// fails instead of hanging. Not a timing assertion: the bound is generous.
class SafetyAlarm {
public:
  explicit SafetyAlarm(unsigned seconds, const std::string& what = "test") {
    std::snprintf(label(), label_size, "%s", what.c_str());
    struct sigaction sa {};
    sa.sa_handler = &SafetyAlarm::on_alarm;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGALRM, &sa, &previous_);
    ::alarm(seconds);
  }
  SafetyAlarm(const SafetyAlarm&) = delete;
  SafetyAlarm& operator=(const SafetyAlarm&) = delete;
  ~SafetyAlarm() {
    ::alarm(0);
    ::sigaction(SIGALRM, &previous_, nullptr);
  }

private:
  static constexpr size_t label_size = 200;
  static char* label() {
    static char buf[label_size];
    return buf;
  }
  static void on_alarm(int) {
    static const char head[] = "\n*** SAFETY ALARM: hung in ";
    static const char tail[] = " (no progress; failing instead of hanging)\n";
    ssize_t ignored = ::write(2, head, sizeof head - 1);
    ignored = ::write(2, label(), std::strlen(label()));
    ignored = ::write(2, tail, sizeof tail - 1);
    (void)ignored;
    ::_exit(3);
  }
  struct sigaction previous_ {};
};

// Writing to a peer that has gone must not kill the test with SIGPIPE.
inline void ignore_sigpipe() { ::signal(SIGPIPE, SIG_IGN); }

} // namespace nettest

#endif // EVASIO_TESTS_SUPPORT_NET_HPP_INCLUDED_

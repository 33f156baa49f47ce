// Fuzz target: evconnlistener_new_bind with arbitrary sockaddr bytes and
// lengths, flags and backlogs.
//
// It binds real sockets, so the address is masked first: whatever the input,
// a bind that succeeds is on 127.0.0.1 or ::1 (port 0: the kernel picks one,
// so no port another test uses is taken) or, for AF_UNIX, on a name of
// [a-z0-9] characters relative to a private temporary directory (the
// target's working directory), or an abstract name the kernel picks
// (autobind, a 2-byte address). Other families are AF_UNSPEC or numbers no
// kernel knows (socket() refuses them). A listener made is checked
// (getsockname: the masked address), freed at once, and its socket file
// unlinked. Every call must leave the process's fds as they were (the lowest
// free fd number is compared) and set errno when it fails.
//
// Input, front to back: family choice (byte: % 5 -> AF_INET, AF_INET6,
// AF_UNIX, AF_UNSPEC, an unknown number), flags (u32, any bits), backlog
// choice (byte), length choice (u16; edge values and lies included), then
// the address bytes.
#include "fuzz_support.hpp"

#include <event2/event.h>
#include <event2/listener.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <memory>
#include <vector>

namespace {

std::string g_dir;  // the private directory, our working directory

void remove_dir() {
  // Every socket file was unlinked as soon as it was made.
  if (!g_dir.empty() && chdir("/") == 0)
    rmdir(g_dir.c_str());
}

int lowest_free_fd() {
  const int fd = ::fcntl(0, F_DUPFD_CLOEXEC, 0);
  if (fd >= 0)
    ::close(fd);
  return fd;
}

void never_cb(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void*) { ::close(fd); }

int pick_backlog(std::uint8_t b) {
  static const int edge[] = {-1, 0, 1, 5, 128, SOMAXCONN, INT_MAX, INT_MIN, -1000};
  return b < 200 ? edge[b % (sizeof edge / sizeof edge[0])] : static_cast<int>(b) - 228;
}

// Length choices: edge values around each family's size, and lies.
int pick_length(std::uint16_t v) {
  static const int edge[] = {INT_MIN, -1, 0, 1, 2, 3, 4, 8, 15, 16, 17, 23, 24, 27, 28, 29,
                             109, 110, 111, 127, 128, 129, 4096, INT_MAX};
  if (v & 0x8000)
    return edge[v % (sizeof edge / sizeof edge[0])];
  return static_cast<int>(v % 300) - 4;  // -4 .. 295
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char tmpl[] = "/tmp/evasio-fuzz-bind-XXXXXX";
  if (!mkdtemp(tmpl) || chdir(tmpl) != 0) {
    std::perror("fuzz_listener_bind: private directory");
    std::abort();
  }
  g_dir = tmpl;
  std::atexit(remove_dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Reader in(data, size);
  const unsigned fam_choice = in.byte() % 5;
  const unsigned flags = in.u32();
  const int backlog = pick_backlog(in.byte());
  const int socklen = pick_length(in.u16());
  const std::string raw = in.rest();

  // An honest length gets a block of exactly that size (AddressSanitizer
  // sees any read past it); a negative or huge one, which the kernel
  // refuses without reading, a sockaddr_storage.
  const std::size_t bufsize = socklen >= 0 && socklen <= 4096 ? static_cast<std::size_t>(socklen)
                                                              : sizeof(sockaddr_storage);
  std::unique_ptr<std::uint8_t[]> buf(new std::uint8_t[bufsize]);
  for (std::size_t i = 0; i < bufsize; ++i)
    buf[i] = i < raw.size() ? static_cast<std::uint8_t>(raw[i]) : 0;

  // Masking.
  sa_family_t family;
  switch (fam_choice) {
  case 0: family = AF_INET; break;
  case 1: family = AF_INET6; break;
  case 2: family = AF_UNIX; break;
  case 3: family = AF_UNSPEC; break;
  default: family = static_cast<sa_family_t>(AF_MAX + 1 + (raw.empty() ? 0 : raw[0] & 0x3f)); break;
  }
  std::string unix_name;
  if (bufsize >= sizeof(sa_family_t))
    std::memcpy(buf.get(), &family, sizeof family);
  if (family == AF_INET) {
    if (bufsize >= 4)
      buf[2] = buf[3] = 0;  // port 0
    if (bufsize >= 8) {
      const in_addr lo{htonl(INADDR_LOOPBACK)};
      std::memcpy(buf.get() + 4, &lo, 4);
    } else {
      for (std::size_t i = 4; i < bufsize; ++i)
        buf[i] = 0;
    }
  } else if (family == AF_INET6) {
    if (bufsize >= 4)
      buf[2] = buf[3] = 0;
    if (bufsize >= 24)
      std::memcpy(buf.get() + 8, &in6addr_loopback, 16);
    else
      for (std::size_t i = 8; i < bufsize; ++i)
        buf[i] = 0;
  } else if (family == AF_UNIX) {
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (std::size_t i = 2; i < bufsize; ++i)
      buf[i] = static_cast<std::uint8_t>(alphabet[buf[i] % 36]);
    if (bufsize > 2)
      unix_name.assign(reinterpret_cast<const char*>(buf.get()) + 2,
                       std::min<std::size_t>(bufsize - 2, sizeof(sockaddr_un::sun_path)));
  }

  const int free_before = lowest_free_fd();
  event_base* base = event_base_new();
  fuzz::check(base != nullptr, "event_base_new");
  errno = 0;
  evconnlistener* lev = evconnlistener_new_bind(base, never_cb, nullptr, flags, backlog,
                                                reinterpret_cast<const sockaddr*>(buf.get()), socklen);
  if (lev) {
    const int fd = evconnlistener_get_fd(lev);
    fuzz::check(fd >= 0, "listener without an fd");
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    fuzz::check(::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0, "getsockname");
    // The safety net of the masking: loopback, or our directory.
    if (ss.ss_family == AF_INET) {
      fuzz::check(reinterpret_cast<sockaddr_in*>(&ss)->sin_addr.s_addr == htonl(INADDR_LOOPBACK),
                  "bound off loopback (IPv4)");
    } else if (ss.ss_family == AF_INET6) {
      fuzz::check(std::memcmp(&reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr, &in6addr_loopback, 16) == 0,
                  "bound off loopback (IPv6)");
    } else if (ss.ss_family == AF_UNIX) {
      const char* path = reinterpret_cast<sockaddr_un*>(&ss)->sun_path;
      fuzz::check(len <= sizeof(sa_family_t) + 1 || path[0] == '\0' || path[0] != '/',
                  "bound outside the private directory");
    } else {
      fuzz::fail("listener of an unexpected family", ss.ss_family);
    }
    evconnlistener_free(lev);
    if (!(flags & LEV_OPT_CLOSE_ON_FREE))
      fuzz::check(::close(fd) == 0, "fd without LEV_OPT_CLOSE_ON_FREE was closed by free");
  } else {
    fuzz::check(errno != 0, "new_bind failed without errno");
  }
  event_base_free(base);
  if (!unix_name.empty())
    ::unlink(unix_name.c_str());
  fuzz::check(lowest_free_fd() == free_before, "fd leak", free_before, lowest_free_fd());
  return 0;
}

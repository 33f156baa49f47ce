// The secure random number generator: the kernel's, through getrandom(2).
//
// Why getrandom: it is the kernel's CSPRNG with nothing kept in the process.
// No file descriptor stays open (none to leak into children, lose to a
// chroot or an fd limit), no generator state needs a lock between threads or
// reseeding after fork() (a child can never replay its parent's stream), and
// it blocks only until the kernel pool is first seeded at boot. Debian's
// libevent calls glibc's arc4random_buf, which is built on the same call.
// /dev/urandom, opened and closed per call, stands in only where the system
// call is refused (ENOSYS/EPERM from an old kernel or a seccomp filter).
#include "detail/c_boundary.hpp"

#include <event2/util.h>

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace {

// Reads all n bytes from the device; false if it cannot.
bool fill_from_device(unsigned char* p, size_t n) {
  const int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  while (n > 0) {
    const ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    p += r;
    n -= static_cast<size_t>(r);
  }
  ::close(fd);
  return n == 0;
}

// Fills [p, p + n): large requests come back in pieces, signals interrupt.
bool fill(unsigned char* p, size_t n) {
  while (n > 0) {
    const ssize_t r = ::getrandom(p, n, 0);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return (errno == ENOSYS || errno == EPERM) && fill_from_device(p, n);
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

} // namespace

extern "C" {

void evutil_secure_rng_get_bytes(void* buf, size_t n) {
  if (n == 0)
    return;
  if (!buf) {
    errno = EINVAL;
    return;
  }
  const int saved_errno = errno;
  if (!fill(static_cast<unsigned char*>(buf), n)) {
    // No entropy at all: handing out predictable "secure" bytes would be
    // worse than stopping, which is what glibc's arc4random does too.
    std::fputs("evasio: evutil_secure_rng_get_bytes: no source of random bytes\n", stderr);
    std::abort();
  }
  errno = saved_errno;
}

int evutil_secure_rng_init(void) {
  unsigned char probe;
  const int saved_errno = errno;
  if (!fill(&probe, 1))
    return -1;
  errno = saved_errno;
  return 0;
}

int evutil_secure_rng_set_urandom_device_file(char*) {
  return evasio::detail::fail(-1, ENOTSUP);
}

void evutil_secure_rng_add_bytes(const char*, size_t) {}

} // extern "C"

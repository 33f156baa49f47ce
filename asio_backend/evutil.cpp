// evutil: libevent's portable socket helpers, on POSIX.
#include "detail/c_boundary.hpp"

#include <event2/util.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstring>

namespace {

int set_flag(int fd, int get, int set, int flag) {
  const int fl = ::fcntl(fd, get);
  if (fl < 0)
    return -1;
  if ((fl & flag) == flag)
    return 0;
  return ::fcntl(fd, set, fl | flag) < 0 ? -1 : 0;
}

int set_int_opt(int fd, int level, int name, int value) {
  return ::setsockopt(fd, level, name, &value, sizeof value);
}

} // namespace

extern "C" {

int evutil_socket_geterror(evutil_socket_t) { return errno; }

const char* evutil_socket_error_to_string(int errcode) { return std::strerror(errcode); }

int evutil_socketpair(int d, int type, int protocol, evutil_socket_t sv[2]) {
  if (!sv)
    return evasio::detail::fail(-1, EINVAL);
  return ::socketpair(d, type, protocol, sv);
}

int evutil_make_socket_nonblocking(evutil_socket_t sock) {
  return set_flag(sock, F_GETFL, F_SETFL, O_NONBLOCK);
}

int evutil_make_socket_closeonexec(evutil_socket_t sock) {
  return set_flag(sock, F_GETFD, F_SETFD, FD_CLOEXEC);
}

int evutil_make_listen_socket_reuseable(evutil_socket_t sock) {
  return set_int_opt(sock, SOL_SOCKET, SO_REUSEADDR, 1);
}

int evutil_make_listen_socket_reuseable_port(evutil_socket_t sock) {
  return set_int_opt(sock, SOL_SOCKET, SO_REUSEPORT, 1);
}

int evutil_make_listen_socket_ipv6only(evutil_socket_t sock) {
  return set_int_opt(sock, IPPROTO_IPV6, IPV6_V6ONLY, 1);
}

int evutil_make_tcp_listen_socket_deferred(evutil_socket_t sock) {
  return set_int_opt(sock, IPPROTO_TCP, TCP_DEFER_ACCEPT, 1);
}

int evutil_closesocket(evutil_socket_t sock) { return ::close(sock); }

int evutil_gettimeofday(struct timeval* tv, struct timezone* tz) {
  return ::gettimeofday(tv, tz);
}

} // extern "C"

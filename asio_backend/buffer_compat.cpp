// event2/buffer_compat.h and event2/bufferevent_compat.h: libevent's 1.x
// evbuffer and bufferevent API, each function made of the 2.x ones.
#include "detail/c_boundary.hpp"
#include "detail/current_base.hpp"
#include "detail/evbuffer.hpp"

#include <event2/buffer.h>
#include <event2/buffer_compat.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_compat.h>

#include <sys/time.h>

using namespace evasio::detail;

extern "C" {

char* evbuffer_readline(struct evbuffer* buffer) {
  return evbuffer_readln(buffer, nullptr, EVBUFFER_EOL_ANY);
}

// evbuffer_setcb: evbuffer_cb.cpp, one entry of the buffer's list of callbacks.

unsigned char* evbuffer_find(struct evbuffer* buffer, const unsigned char* what, size_t len) {
  if (!buffer || (!what && len))
    return fail<unsigned char*>(nullptr, EINVAL);
  const evbuffer_ptr at = evbuffer_search(buffer, reinterpret_cast<const char*>(what), len, nullptr);
  if (at.pos < 0)
    return nullptr;
  unsigned char* data = evbuffer_pullup(buffer, static_cast<ev_ssize_t>(at.pos + len));
  return data ? data + at.pos : nullptr;
}

struct bufferevent* bufferevent_new(evutil_socket_t fd, evbuffercb readcb, evbuffercb writecb,
                                    everrorcb errorcb, void* cbarg) {
  struct bufferevent* bev = bufferevent_socket_new(current_base(), fd, 0);
  if (bev)
    bufferevent_setcb(bev, readcb, writecb, errorcb, cbarg);
  return bev;
}

void bufferevent_settimeout(struct bufferevent* bufev, int timeout_read, int timeout_write) {
  struct timeval rd = {timeout_read, 0}, wr = {timeout_write, 0};
  bufferevent_set_timeouts(bufev, timeout_read ? &rd : nullptr, timeout_write ? &wr : nullptr);
}

} // extern "C"

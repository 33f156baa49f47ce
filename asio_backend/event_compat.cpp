// event2/event_compat.h: libevent's 1.x event API, each function the 2.x
// one applied to the current base. Nothing here keeps state but that base.
#include "detail/c_boundary.hpp"
#include "detail/current_base.hpp"

#include <event2/event.h>
#include <event2/event_compat.h>

#include <atomic>

using namespace evasio::detail;

namespace {
// Atomic only so that reading it races with nothing; the 1.x API itself is
// not for threads, as in libevent.
std::atomic<event_base*> current{nullptr};
} // namespace

namespace evasio::detail {

event_base* current_base() noexcept { return current.load(std::memory_order_acquire); }

void forget_current_base(event_base* base) noexcept {
  event_base* expected = base;
  current.compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel);
}

} // namespace evasio::detail

extern "C" {

struct event_base* event_init(void) {
  event_base* base = event_base_new();
  if (base)
    current.store(base, std::memory_order_release);
  return base;
}

int event_dispatch(void) { return event_base_dispatch(current_base()); }

int event_loop(int flags) { return event_base_loop(current_base(), flags); }

int event_loopexit(const struct timeval* tv) { return event_base_loopexit(current_base(), tv); }

int event_loopbreak(void) { return event_base_loopbreak(current_base()); }

int event_once(evutil_socket_t fd, short events, void (*callback)(evutil_socket_t, short, void*),
               void* arg, const struct timeval* tv) {
  return event_base_once(current_base(), fd, events, callback, arg, tv);
}

int event_priority_init(int npriorities) {
  return event_base_priority_init(current_base(), npriorities);
}

const char* event_get_method(void) { return event_base_get_method(current_base()); }

void event_set(struct event* ev, evutil_socket_t fd, short events,
               void (*callback)(evutil_socket_t, short, void*), void* arg) {
  event_assign(ev, current_base(), fd, events, callback, arg);
}

} // extern "C"

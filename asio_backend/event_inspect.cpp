// Looking at a base's events from outside: event_base_foreach_event,
// event_base_dump_events, event_get_assignment, and activating events by
// fd or signal (event_base_active_by_fd, event_base_active_by_signal).
#include "detail/base.hpp"
#include "detail/c_boundary.hpp"
#include "detail/event_core.hpp"

#include <event2/event.h>
#include <event2/event_struct.h>

#include <cstdio>

using namespace evasio::detail;

namespace {

const struct event* as_event(const event_impl* e) { return reinterpret_cast<const struct event*>(e); }

struct foreach_call {
  const struct event_base* base;
  event_base_foreach_event_cb fn;
  void* arg;
};

int visit(const event_impl* e, void* arg) {
  auto* call = static_cast<foreach_call*>(arg);
  return call->fn(call->base, as_event(e), call->arg);
}

const char* gloss(const event_impl* e) { return (e->events & EV_SIGNAL) ? "sig" : "fd "; }

// One line per event added (to an fd, a signal or a timeout).
int dump_inserted(const event_impl* e, void* arg) {
  if (!e->is(EVLIST_INSERTED | EVLIST_TIMEOUT))
    return 0;
  FILE* out = static_cast<FILE*>(arg);
  std::fprintf(out, "  %p [%s %d]%s%s%s%s%s%s", static_cast<const void*>(e), gloss(e), e->fd,
               (e->events & EV_READ) ? " Read" : "", (e->events & EV_WRITE) ? " Write" : "",
               (e->events & EV_CLOSED) ? " EOF" : "", (e->events & EV_SIGNAL) ? " Signal" : "",
               (e->events & EV_PERSIST) ? " Persist" : "", (e->events & EV_ET) ? " ET" : "");
  if (e->is(EVLIST_TIMEOUT))
    std::fprintf(out, " Timeout=%ld.%06d", static_cast<long>(e->wall_deadline.tv_sec),
                 static_cast<int>(e->wall_deadline.tv_usec));
  std::fputc('\n', out);
  return 0;
}

// One line per active event, with what it is active for.
int dump_active(const event_impl* e, void* arg) {
  if (!e->is(EVLIST_ACTIVE))
    return 0;
  std::fprintf(static_cast<FILE*>(arg), "  %p [%s %d, priority=%d]%s%s%s%s%s active\n",
               static_cast<const void*>(e), gloss(e), e->fd, static_cast<int>(e->pri),
               (e->res & EV_READ) ? " Read" : "", (e->res & EV_WRITE) ? " Write" : "",
               (e->res & EV_CLOSED) ? " EOF" : "", (e->res & EV_SIGNAL) ? " Signal" : "",
               (e->res & EV_TIMEOUT) ? " Timeout" : "");
  return 0;
}

} // namespace

extern "C" {

int event_base_foreach_event(struct event_base* base, event_base_foreach_event_cb fn, void* arg) {
  if (!base || !fn)
    return fail(-1, EINVAL);
  foreach_call call{base, fn, arg};
  return guarded(-1, [&] { return base->events().foreach_event(visit, &call); });
}

void event_base_dump_events(struct event_base* base, FILE* output) {
  if (!base || !output)
    return;
  guarded_void([&] {
    std::fprintf(output, "Inserted events:\n");
    base->events().foreach_event(dump_inserted, output);
    std::fprintf(output, "Active events:\n");
    base->events().foreach_event(dump_active, output);
  });
}

void event_get_assignment(const struct event* ev, struct event_base** base_out, evutil_socket_t* fd_out,
                          short* events_out, event_callback_fn* callback_out, void** arg_out) {
  if (!initialized(ev))
    return;
  const event_impl* e = impl(ev);
  if (base_out)
    *base_out = e->base;
  if (fd_out)
    *fd_out = e->fd;
  if (events_out)
    *events_out = e->events;
  if (callback_out)
    *callback_out = e->cb;
  if (arg_out)
    *arg_out = e->arg;
}

void event_base_active_by_fd(struct event_base* base, evutil_socket_t fd, short events) {
  if (!base)
    return;
  guarded_void([&] { base->events().active_by_fd(fd, events); });
}

void event_base_active_by_signal(struct event_base* base, int sig) {
  if (!base)
    return;
  guarded_void([&] { base->events().active_by_signal(sig); });
}

} // extern "C"

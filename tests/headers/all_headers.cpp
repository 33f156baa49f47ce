// Every header of compat/include/event2 together in one C++17 translation
// unit (built with -std=c++17 -pedantic-errors -Wall -Wextra -Werror): in
// directory order, then in reverse (guards), then calls into libevasio,
// which link only if the headers give the functions C linkage.
#include "all_event2_headers.h"
#include "all_event2_headers_reversed.h"
#include "no_libevent_leak.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <event2/util.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <type_traits>

static_assert(EV_READ == 0x02 && EV_WRITE == 0x04, "EV_* values");
static_assert(BEV_EVENT_EOF == 0x10 && BEV_EVENT_ERROR == 0x20,
              "BEV_EVENT_* values");
static_assert(LEV_OPT_CLOSE_ON_FREE == 0x2u && LEV_OPT_REUSEABLE == 0x8u,
              "LEV_OPT_* values");
static_assert(std::is_same<evutil_socket_t, int>::value,
              "evutil_socket_t is int on POSIX");
static_assert(std::is_same<decltype(&evconnlistener_new_bind),
                           evconnlistener *(*)(event_base *, evconnlistener_cb,
                                               void *, unsigned, int,
                                               const sockaddr *, int)>::value,
              "evconnlistener_new_bind has libevent's signature");
static_assert(std::is_same<decltype(&bufferevent_socket_new),
                           bufferevent *(*)(event_base *, evutil_socket_t,
                                            int)>::value,
              "bufferevent_socket_new has libevent's signature");
static_assert(std::is_standard_layout<event>::value,
              "struct event is plain storage");

namespace {

int failures = 0;

void check(bool ok, const char *what)
{
    std::printf("%s: %s\n", ok ? "ok" : "FAILED", what);
    if (!ok)
        ++failures;
}

// A lambda without captures converts to the C callback types.
evconnlistener_cb accept_cb = [](evconnlistener *, evutil_socket_t,
                                 sockaddr *, int, void *) {};
bufferevent_event_cb event_cb = [](bufferevent *, short, void *) {};

} // namespace

int main()
{
    check(accept_cb != nullptr && event_cb != nullptr,
          "lambdas convert to the callback types");
    check(event_get_version() != nullptr, "event_get_version()");

    event_base *base = event_base_new();
    check(base != nullptr, "event_base_new()");
    if (base != nullptr) {
        check(event_base_get_method(base) != nullptr,
              "event_base_get_method()");
        event_base_free(base);
    }

    evbuffer *buf = evbuffer_new();
    check(buf != nullptr, "evbuffer_new()");
    if (buf != nullptr) {
        check(evbuffer_add(buf, "abc", 3) == 0, "evbuffer_add()");
        check(evbuffer_get_length(buf) == 3, "evbuffer_get_length()");
        evbuffer_free(buf);
    }

    EVUTIL_SET_SOCKET_ERROR(EPIPE);
    check(EVUTIL_SOCKET_ERROR() == EPIPE, "EVUTIL_SOCKET_ERROR()");
    char text[8];
    check(evutil_snprintf(text, sizeof text, "%s", "0123456789") == 10 &&
              std::strcmp(text, "0123456") == 0,
          "evutil_snprintf() truncates");

    std::printf("%s\n", failures ? "headers_cxx17: FAILED"
                                 : "headers_cxx17: passed");
    return failures ? 1 : 0;
}

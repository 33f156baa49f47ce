// event2/event_struct.h: struct event's public members, which programs that
// embed events read directly (memcached reads c->event.ev_base): what each
// one holds at each step of an event's life, as libevent 2.1.12 keeps them.
//
// Builds against real libevent too; the 1.x short names (ev_arg and the
// like), which only evasio's header defines when asked, are under
// #ifdef EVASIO_VERSION.
#define EVASIO_EVENT_MEMBER_MACROS
#define BOOST_TEST_MODULE event_struct
#include <boost/test/unit_test.hpp>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "fixtures.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <type_traits>

namespace {

using nettest::ms_tv;
using base_fixture = nettest::AlarmedBase<30>;

short flags_of(const event& ev) { return ev.ev_evcallback.evcb_flags; }
int pri_of(const event& ev) { return ev.ev_evcallback.evcb_pri; }

struct pipe_fds {
  pipe_fds() { BOOST_REQUIRE(::pipe2(fd, O_CLOEXEC | O_NONBLOCK) == 0); }
  ~pipe_fds() {
    ::close(fd[0]);
    ::close(fd[1]);
  }
  int fd[2];
};

// What a callback saw of its own event.
struct seen {
  event* ev = nullptr;
  short what = 0;
  short res = -1;
  short flags = -1;
  int calls = 0;
};

void record(evutil_socket_t, short what, void* arg) {
  auto* s = static_cast<seen*>(arg);
  s->what = what;
  s->res = s->ev->ev_res;
  s->flags = s->ev->ev_evcallback.evcb_flags;
  ++s->calls;
}

// A program's own connection object with an event inside, as memcached's.
struct connection {
  int id;
  struct event event;
  int tail;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(event_struct, base_fixture)

BOOST_AUTO_TEST_CASE(struct_event_is_128_bytes_as_libevent_on_x86_64) {
  BOOST_TEST(sizeof(struct event) == 128u);
  BOOST_TEST(event_get_struct_event_size() == sizeof(struct event));
  BOOST_TEST(sizeof(struct event_callback) == 40u);
}

BOOST_AUTO_TEST_CASE(public_members_sit_at_libevents_offsets) {
  BOOST_TEST(offsetof(struct event, ev_evcallback) == 0u);
  BOOST_TEST(offsetof(struct event_callback, evcb_flags) == 16u);
  BOOST_TEST(offsetof(struct event_callback, evcb_pri) == 18u);
  BOOST_TEST(offsetof(struct event_callback, evcb_cb_union) == 24u);
  BOOST_TEST(offsetof(struct event_callback, evcb_arg) == 32u);
  BOOST_TEST(offsetof(struct event, ev_timeout_pos) == 40u);
  BOOST_TEST(offsetof(struct event, ev_fd) == 56u);
  BOOST_TEST(offsetof(struct event, ev_base) == 64u);
  BOOST_TEST(offsetof(struct event, ev_) == 72u);
  BOOST_TEST(offsetof(struct event, ev_events) == 104u);
  BOOST_TEST(offsetof(struct event, ev_res) == 106u);
  BOOST_TEST(offsetof(struct event, ev_timeout) == 112u);
}

BOOST_AUTO_TEST_CASE(struct_event_is_plain_data_a_program_may_copy_and_free) {
  BOOST_TEST(std::is_trivially_destructible<struct event>::value);
  BOOST_TEST(std::is_trivially_copyable<struct event>::value);
}

BOOST_AUTO_TEST_CASE(assign_fills_base_fd_events_callback_and_arg) {
  pipe_fds p;
  event ev;
  seen s;
  BOOST_REQUIRE(event_assign(&ev, base, p.fd[0], EV_READ | EV_PERSIST, record, &s) == 0);
  BOOST_TEST(ev.ev_base == base);
  BOOST_TEST(ev.ev_fd == p.fd[0]);
  BOOST_TEST(ev.ev_events == (EV_READ | EV_PERSIST));
  BOOST_TEST(ev.ev_evcallback.evcb_cb_union.evcb_callback == &record);
  BOOST_TEST(ev.ev_evcallback.evcb_arg == static_cast<void*>(&s));
  BOOST_TEST(ev.ev_res == 0);
}

BOOST_AUTO_TEST_CASE(self_cbarg_puts_the_event_itself_in_its_arg) {
  event* ev = event_new(base, -1, 0, record, event_self_cbarg());
  BOOST_REQUIRE(ev);
  BOOST_TEST(ev->ev_evcallback.evcb_arg == static_cast<void*>(ev));
  event_free(ev);
}

BOOST_AUTO_TEST_CASE(an_embedded_event_reads_its_base_through_the_owner) {
  connection c{7, {}, 9};
  BOOST_REQUIRE(event_assign(&c.event, base, -1, 0, record, nullptr) == 0);
  BOOST_TEST(c.event.ev_base == base);
  BOOST_TEST(c.id == 7);
  BOOST_TEST(c.tail == 9);  // assign writes nothing outside the struct
}

BOOST_AUTO_TEST_CASE(assigned_event_is_on_the_init_list_only) {
  event ev;
  BOOST_REQUIRE(event_assign(&ev, base, -1, 0, record, nullptr) == 0);
  BOOST_TEST(flags_of(ev) == EVLIST_INIT);
}

BOOST_AUTO_TEST_CASE(added_fd_event_is_inserted) {
  pipe_fds p;
  event ev;
  BOOST_REQUIRE(event_assign(&ev, base, p.fd[0], EV_READ, record, nullptr) == 0);
  BOOST_REQUIRE(event_add(&ev, nullptr) == 0);
  BOOST_TEST(flags_of(ev) == (EVLIST_INIT | EVLIST_INSERTED));
  event_del(&ev);
}

BOOST_AUTO_TEST_CASE(added_timeout_puts_the_event_on_the_timeout_list) {
  pipe_fds p;
  event ev;
  BOOST_REQUIRE(event_assign(&ev, base, p.fd[0], EV_READ, record, nullptr) == 0);
  const timeval tv = ms_tv(10000);
  BOOST_REQUIRE(event_add(&ev, &tv) == 0);
  BOOST_TEST(flags_of(ev) == (EVLIST_INIT | EVLIST_INSERTED | EVLIST_TIMEOUT));
  event_del(&ev);
}

BOOST_AUTO_TEST_CASE(added_signal_event_is_inserted) {
  event ev;
  BOOST_REQUIRE(evsignal_assign(&ev, base, SIGUSR2, record, nullptr) == 0);
  BOOST_REQUIRE(event_add(&ev, nullptr) == 0);
  BOOST_TEST(flags_of(ev) == (EVLIST_INIT | EVLIST_INSERTED));
  event_del(&ev);
}

BOOST_AUTO_TEST_CASE(active_event_is_on_the_active_list_with_what_fired_in_res) {
  event ev;
  BOOST_REQUIRE(event_assign(&ev, base, -1, EV_READ | EV_WRITE, record, nullptr) == 0);
  event_active(&ev, EV_READ, 1);
  BOOST_TEST(flags_of(ev) == (EVLIST_INIT | EVLIST_ACTIVE));
  event_active(&ev, EV_WRITE, 1);
  BOOST_TEST(ev.ev_res == (EV_READ | EV_WRITE));
  event_del(&ev);
}

BOOST_AUTO_TEST_CASE(deleted_event_is_back_on_the_init_list) {
  pipe_fds p;
  event ev;
  BOOST_REQUIRE(event_assign(&ev, base, p.fd[0], EV_READ, record, nullptr) == 0);
  const timeval tv = ms_tv(10000);
  BOOST_REQUIRE(event_add(&ev, &tv) == 0);
  event_active(&ev, EV_READ, 1);
  BOOST_REQUIRE(event_del(&ev) == 0);
  BOOST_TEST(flags_of(ev) == EVLIST_INIT);
}

BOOST_AUTO_TEST_CASE(one_shot_event_is_off_every_list_in_its_callback_with_res_set) {
  pipe_fds p;
  seen s;
  event ev;
  s.ev = &ev;
  BOOST_REQUIRE(event_assign(&ev, base, p.fd[0], EV_READ, record, &s) == 0);
  BOOST_REQUIRE(event_add(&ev, nullptr) == 0);
  BOOST_REQUIRE(::write(p.fd[1], "x", 1) == 1);
  event_base_loop(base, EVLOOP_ONCE);
  BOOST_REQUIRE(s.calls == 1);
  BOOST_TEST(s.res == EV_READ);
  BOOST_TEST(s.flags == EVLIST_INIT);
}

BOOST_AUTO_TEST_CASE(persistent_event_stays_inserted_in_its_callback) {
  pipe_fds p;
  seen s;
  event ev;
  s.ev = &ev;
  BOOST_REQUIRE(event_assign(&ev, base, p.fd[0], EV_READ | EV_PERSIST, record, &s) == 0);
  BOOST_REQUIRE(event_add(&ev, nullptr) == 0);
  BOOST_REQUIRE(::write(p.fd[1], "x", 1) == 1);
  event_base_loop(base, EVLOOP_ONCE);
  BOOST_REQUIRE(s.calls == 1);
  BOOST_TEST(s.flags == (EVLIST_INIT | EVLIST_INSERTED));
  event_del(&ev);
}

BOOST_AUTO_TEST_CASE(res_keeps_what_fired_after_the_callback) {
  seen s;
  event ev;
  s.ev = &ev;
  BOOST_REQUIRE(event_assign(&ev, base, -1, 0, record, &s) == 0);
  const timeval tv = ms_tv(1);
  BOOST_REQUIRE(event_add(&ev, &tv) == 0);
  event_base_dispatch(base);
  BOOST_REQUIRE(s.calls == 1);
  BOOST_TEST(ev.ev_res == EV_TIMEOUT);
}

BOOST_AUTO_TEST_CASE(fd_event_made_active_with_several_calls_runs_once) {
  seen s;
  event ev;
  s.ev = &ev;
  BOOST_REQUIRE(event_assign(&ev, base, -1, EV_READ, record, &s) == 0);
  event_active(&ev, EV_READ, 5);
  event_base_loop(base, EVLOOP_NONBLOCK);
  BOOST_TEST(s.calls == 1);
}

BOOST_AUTO_TEST_CASE(new_event_gets_the_middle_priority) {
  BOOST_REQUIRE(event_base_priority_init(base, 5) == 0);
  event ev;
  BOOST_REQUIRE(event_assign(&ev, base, -1, 0, record, nullptr) == 0);
  BOOST_TEST(pri_of(ev) == 2);
}

BOOST_AUTO_TEST_CASE(base_set_refuses_an_event_on_any_list) {
  event_base* other = event_base_new();
  BOOST_REQUIRE(other);
  event ev;
  BOOST_REQUIRE(event_assign(&ev, base, -1, 0, record, nullptr) == 0);
  event_active(&ev, EV_TIMEOUT, 1);
  BOOST_TEST(event_base_set(other, &ev) == -1);
  BOOST_TEST(ev.ev_base == base);
  event_del(&ev);
  BOOST_TEST(event_base_set(other, &ev) == 0);
  BOOST_TEST(ev.ev_base == other);
  event_base_free(other);
}

BOOST_AUTO_TEST_CASE(base_set_moves_the_event_to_the_middle_priority_of_its_new_base) {
  event_base* other = event_base_new();
  BOOST_REQUIRE(other);
  BOOST_REQUIRE(event_base_priority_init(other, 7) == 0);
  event ev;
  BOOST_REQUIRE(event_assign(&ev, base, -1, 0, record, nullptr) == 0);
  BOOST_REQUIRE(event_base_set(other, &ev) == 0);
  BOOST_TEST(pri_of(ev) == 3);
  event_base_free(other);
}

BOOST_AUTO_TEST_CASE(non_pending_event_memory_may_be_reused_without_a_call) {
  alignas(struct event) unsigned char storage[sizeof(struct event)];
  auto* ev = reinterpret_cast<event*>(storage);
  BOOST_REQUIRE(event_assign(ev, base, -1, 0, record, nullptr) == 0);
  const timeval tv = ms_tv(10000);
  BOOST_REQUIRE(event_add(ev, &tv) == 0);
  BOOST_REQUIRE(event_del(ev) == 0);
  std::memset(storage, 0xa5, sizeof storage);  // the base keeps no pointer to it
  BOOST_TEST(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED) == 0);
  BOOST_TEST(event_base_loop(base, EVLOOP_NONBLOCK) == 1);
}

#ifdef EVASIO_VERSION
// Intended difference: asked with EVASIO_EVENT_MEMBER_MACROS, evasio's
// header also has libevent 1.x's short names (libevent 2.1 keeps them in a
// private header).
BOOST_AUTO_TEST_CASE(short_member_names_of_libevent_1_reach_the_same_members) {
  seen s;
  event ev;
  BOOST_REQUIRE(event_assign(&ev, base, -1, 0, record, &s) == 0);
  BOOST_TEST(ev.ev_arg == static_cast<void*>(&s));
  BOOST_TEST(ev.ev_callback == &record);
  BOOST_TEST(ev.ev_flags == EVLIST_INIT);
  BOOST_TEST(ev.ev_pri == 0);
}
#endif

BOOST_AUTO_TEST_SUITE_END()

// bufferevent_set_max_single_read/_write and their getters,
// bufferevent_priority_set and bufferevent_get_priority (event2/bufferevent.h),
// with libevent 2.1.12's rules. Builds against real libevent too, which is
// how every case was checked; the defaults differ (see the README) and are
// only compared with themselves here.
#define BOOST_TEST_MODULE bufferevent_settings
#include <boost/test/unit_test.hpp>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "fixtures.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <string>

namespace {

using nettest::socket_pair;

struct fixture : nettest::AlarmedBase<10> {
  socket_pair sp;
  bufferevent* bev = nullptr;
  fixture() {
    bev = bufferevent_socket_new(base, sp.a.get(), 0);
    BOOST_TEST_REQUIRE(bev != nullptr);
  }
  ~fixture() { bufferevent_free(bev); }
};

struct first_read {
  size_t len = 0;
  int calls = 0;
};

void note_first_read(bufferevent* b, void* arg) {
  auto* r = static_cast<first_read*>(arg);
  if (r->calls++ == 0)
    r->len = evbuffer_get_length(bufferevent_get_input(b));
  event_base_loopbreak(bufferevent_get_base(b));
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(max_single, fixture)

BOOST_AUTO_TEST_CASE(set_max_single_read_is_what_the_getter_reports) {
  BOOST_TEST(bufferevent_set_max_single_read(bev, 1000) == 0);
  BOOST_TEST(bufferevent_get_max_single_read(bev) == 1000);
}

BOOST_AUTO_TEST_CASE(set_max_single_write_is_what_the_getter_reports) {
  BOOST_TEST(bufferevent_set_max_single_write(bev, 1234) == 0);
  BOOST_TEST(bufferevent_get_max_single_write(bev) == 1234);
}

BOOST_AUTO_TEST_CASE(zero_restores_the_defaults) {
  const ev_ssize_t rd = bufferevent_get_max_single_read(bev);
  const ev_ssize_t wr = bufferevent_get_max_single_write(bev);
  BOOST_TEST(rd > 0);
  BOOST_TEST(wr > 0);
  bufferevent_set_max_single_read(bev, 10);
  bufferevent_set_max_single_write(bev, 10);
  BOOST_TEST(bufferevent_set_max_single_read(bev, 0) == 0);
  BOOST_TEST(bufferevent_set_max_single_write(bev, 0) == 0);
  BOOST_TEST(bufferevent_get_max_single_read(bev) == rd);
  BOOST_TEST(bufferevent_get_max_single_write(bev) == wr);
}

BOOST_AUTO_TEST_CASE(more_than_EV_SSIZE_MAX_restores_the_default) {
  const ev_ssize_t rd = bufferevent_get_max_single_read(bev);
  bufferevent_set_max_single_read(bev, 10);
  BOOST_TEST(bufferevent_set_max_single_read(bev, static_cast<size_t>(EV_SSIZE_MAX) + 1) == 0);
  BOOST_TEST(bufferevent_get_max_single_read(bev) == rd);
}

BOOST_AUTO_TEST_CASE(without_limits_the_most_to_read_is_the_max_single_read) {
  bufferevent_set_max_single_read(bev, 777);
  BOOST_TEST(bufferevent_get_max_to_read(bev) == 777);
}

BOOST_AUTO_TEST_CASE(one_read_takes_at_most_the_max_single_read) {
  bufferevent_set_max_single_read(bev, 1000);
  first_read r;
  bufferevent_setcb(bev, note_first_read, nullptr, nullptr, &r);
  bufferevent_enable(bev, EV_READ);
  const std::string data(10000, 'x');
  BOOST_TEST_REQUIRE(::write(sp.b.get(), data.data(), data.size()) == 10000);
  event_base_dispatch(base);
  BOOST_TEST(r.calls == 1);
  BOOST_TEST(r.len == 1000u);
}

BOOST_AUTO_TEST_CASE(the_setters_apply_to_pairs_too) {
  bufferevent* p[2];
  BOOST_TEST_REQUIRE(bufferevent_pair_new(base, 0, p) == 0);
  BOOST_TEST(bufferevent_set_max_single_read(p[0], 99) == 0);
  BOOST_TEST(bufferevent_get_max_single_read(p[0]) == 99);
  bufferevent_free(p[0]);
  bufferevent_free(p[1]);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(priority, fixture)

BOOST_AUTO_TEST_CASE(a_socket_bufferevent_starts_at_the_middle_priority) {
  event_base* b = event_base_new();
  BOOST_TEST_REQUIRE(event_base_priority_init(b, 5) == 0);
  socket_pair other;
  bufferevent* s = bufferevent_socket_new(b, other.a.get(), 0);
  BOOST_TEST(bufferevent_get_priority(s) == 2);
  bufferevent_free(s);
  event_base_free(b);
}

BOOST_AUTO_TEST_CASE(priority_set_is_what_get_priority_reports) {
  event_base_priority_init(base, 3);
  bufferevent* s = bufferevent_socket_new(base, -1, 0);
  BOOST_TEST(bufferevent_priority_set(s, 0) == 0);
  BOOST_TEST(bufferevent_get_priority(s) == 0);
  BOOST_TEST(bufferevent_priority_set(s, 2) == 0);
  BOOST_TEST(bufferevent_get_priority(s) == 2);
  bufferevent_free(s);
}

BOOST_AUTO_TEST_CASE(a_priority_out_of_range_is_refused_and_changes_nothing) {
  event_base_priority_init(base, 3);
  bufferevent* s = bufferevent_socket_new(base, -1, 0);
  bufferevent_priority_set(s, 1);
  BOOST_TEST(bufferevent_priority_set(s, 3) == -1);
  BOOST_TEST(bufferevent_priority_set(s, -1) == -1);
  BOOST_TEST(bufferevent_get_priority(s) == 1);
  bufferevent_free(s);
}

BOOST_AUTO_TEST_CASE(other_kinds_refuse_a_priority_and_report_the_middle_one) {
  event_base_priority_init(base, 3);
  bufferevent* p[2];
  BOOST_TEST_REQUIRE(bufferevent_pair_new(base, 0, p) == 0);
  BOOST_TEST(bufferevent_priority_set(p[0], 0) == -1);
  BOOST_TEST(bufferevent_get_priority(p[0]) == 1);
  bufferevent_free(p[0]);
  bufferevent_free(p[1]);
}

BOOST_AUTO_TEST_SUITE_END()

// event2/tag.h: event tagging, libevent's wire format for typed records in
// evbuffers. The file builds against real libevent too (-levent), which is
// how every expected byte here was checked; cases under
// #ifdef EVASIO_EVENT2_TAG_H_INCLUDED_ test NULL arguments, which crash
// libevent.
#define BOOST_TEST_MODULE tag
#include <boost/test/unit_test.hpp>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/tag.h>
#include <event2/tag_compat.h>

#include "buffers.hpp"

#include <sys/time.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

// Exported by libevent (and evasio) without a declaration in tag.h.
extern "C" {
int evtag_decode_int(ev_uint32_t* pnumber, struct evbuffer* evbuf);
int evtag_decode_int64(ev_uint64_t* pnumber, struct evbuffer* evbuf);
int evtag_encode_tag(struct evbuffer* evbuf, ev_uint32_t tag);
int evtag_decode_tag(ev_uint32_t* ptag, struct evbuffer* evbuf);
}

namespace {

using nettest::Buf;


using bytes = std::vector<unsigned char>;

} // namespace

BOOST_AUTO_TEST_CASE(a_tag_is_seven_bit_groups_least_significant_first) {
  Buf b;
  BOOST_TEST(evtag_encode_tag(b, 0x66) == 1);
  BOOST_TEST(evtag_encode_tag(b, 0x166) == 2);
  BOOST_TEST(evtag_encode_tag(b, 0xffffffffu) == 5);
  const bytes want{0x66, 0xe6, 0x02, 0xff, 0xff, 0xff, 0xff, 0x0f};
  BOOST_TEST(b.bytes() == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_tag_encoded_into_no_buffer_reports_its_size) {
  BOOST_TEST(evtag_encode_tag(nullptr, 0x7f) == 1);
  BOOST_TEST(evtag_encode_tag(nullptr, 0x80) == 2);
}

BOOST_AUTO_TEST_CASE(an_integer_starts_with_its_nibble_count) {
  Buf b;
  evtag_encode_int(b, 0);
  evtag_encode_int(b, 5);
  evtag_encode_int(b, 0x10);
  evtag_encode_int(b, 0x123);
  evtag_encode_int(b, 0xffffffffu);
  const bytes want{0x00, 0x05, 0x10, 0x10, 0x23, 0x21, 0x7f, 0xff, 0xff, 0xff, 0xf0};
  BOOST_TEST(b.bytes() == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(integers_decode_to_what_was_encoded) {
  Buf b;
  const ev_uint32_t v32[] = {0, 1, 15, 16, 255, 256, 0x12345678u, 0xffffffffu};
  const ev_uint64_t v64[] = {0, 1, 0x100000000ull, 0x0123456789abcdefull, ~0ull};
  for (ev_uint32_t v : v32)
    evtag_encode_int(b, v);
  for (ev_uint64_t v : v64)
    evtag_encode_int64(b, v);
  for (ev_uint32_t v : v32) {
    ev_uint32_t got = 0;
    BOOST_TEST(evtag_decode_int(&got, b) == 0);
    BOOST_TEST(got == v);
  }
  for (ev_uint64_t v : v64) {
    ev_uint64_t got = 0;
    BOOST_TEST(evtag_decode_int64(&got, b) == 0);
    BOOST_TEST(got == v);
  }
  BOOST_TEST(b.length() == 0u);
}

BOOST_AUTO_TEST_CASE(a_64_bit_integer_is_refused_by_the_32_bit_decoder) {
  Buf b;
  evtag_encode_int64(b, 0x100000000ull);
  ev_uint32_t got = 7;
  BOOST_TEST(evtag_decode_int(&got, b) == -1);
  BOOST_TEST(got == 7u);
  BOOST_TEST(b.length() == 5u);  // nothing consumed
}

BOOST_AUTO_TEST_CASE(the_old_names_encode_as_the_new_ones) {
  Buf a, b;
  encode_int(a, 4711);
  evtag_encode_int(b, 4711);
  encode_int64(a, 1ull << 40);
  evtag_encode_int64(b, 1ull << 40);
  BOOST_TEST(a.bytes() == b.bytes(), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(typed_records_read_back_in_order) {
  Buf b;
  struct timeval tv {1234567, 890123};
  evtag_init();
  evtag_marshal_int(b, 1, 0xdeadbeefu);
  evtag_marshal_int64(b, 2, 0x1122334455667788ull);
  evtag_marshal_string(b, 3, "hello, tags");
  evtag_marshal_timeval(b, 4, &tv);
  evtag_marshal(b, 5, "fixed", 5);

  ev_uint32_t i32 = 0;
  ev_uint64_t i64 = 0;
  char* s = nullptr;
  struct timeval got_tv {0, 0};
  char fixed[5];
  BOOST_TEST(evtag_unmarshal_int(b, 1, &i32) > 0);
  BOOST_TEST(i32 == 0xdeadbeefu);
  BOOST_TEST(evtag_unmarshal_int64(b, 2, &i64) > 0);
  BOOST_TEST(i64 == 0x1122334455667788ull);
  BOOST_TEST(evtag_unmarshal_string(b, 3, &s) == 0);
  BOOST_TEST(std::string(s) == "hello, tags");
  std::free(s);
  BOOST_TEST(evtag_unmarshal_timeval(b, 4, &got_tv) == 0);
  BOOST_TEST(got_tv.tv_sec == tv.tv_sec);
  BOOST_TEST(got_tv.tv_usec == tv.tv_usec);
  BOOST_TEST(evtag_unmarshal_fixed(b, 5, fixed, sizeof fixed) == 0);
  BOOST_TEST(std::memcmp(fixed, "fixed", 5) == 0);
  BOOST_TEST(b.length() == 0u);
}

BOOST_AUTO_TEST_CASE(a_buffer_record_moves_the_whole_buffer) {
  Buf b, data, out;
  evbuffer_add(data, "abc\0def", 7);
  evtag_marshal_buffer(b, 300, data);
  BOOST_TEST(data.length() == 0u);
  ev_uint32_t tag = 0;
  BOOST_TEST(evtag_unmarshal(b, &tag, out) == 7);
  BOOST_TEST(tag == 300u);
  const bytes want{'a', 'b', 'c', 0, 'd', 'e', 'f'};
  BOOST_TEST(out.bytes() == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(peeking_reports_the_tag_and_lengths_and_consumes_nothing) {
  Buf b;
  evtag_marshal(b, 0x166, "0123456789", 10);
  ev_uint32_t tag = 0, whole = 0, payload = 0;
  BOOST_TEST(evtag_peek(b, &tag) == 2);
  BOOST_TEST(tag == 0x166u);
  BOOST_TEST(evtag_peek_length(b, &whole) == 0);
  BOOST_TEST(whole == 13u);  // 2 (tag) + 1 (length) + 10
  BOOST_TEST(evtag_payload_length(b, &payload) == 0);
  BOOST_TEST(payload == 10u);
  BOOST_TEST(b.length() == 13u);
  BOOST_TEST(evtag_consume(b) == 0);
  BOOST_TEST(b.length() == 0u);
}

BOOST_AUTO_TEST_CASE(a_record_whose_payload_has_not_all_arrived_is_refused) {
  Buf b;
  b.put({0x05, 0x0a, 'a', 'b', 'c'});  // tag 5, length 10, 3 bytes
  ev_uint32_t whole = 0;
  BOOST_TEST(evtag_peek_length(b, &whole) == 0);
  BOOST_TEST(whole == 12u);  // what a reader waits for
  ev_uint32_t tag = 0;
  BOOST_TEST(evtag_unmarshal_header(b, &tag) == -1);
}

BOOST_AUTO_TEST_CASE(a_record_with_another_tag_is_refused) {
  Buf b;
  evtag_marshal_int(b, 7, 42);
  ev_uint32_t v = 0;
  BOOST_TEST(evtag_unmarshal_int(b, 8, &v) == -1);
  BOOST_TEST(v == 0u);
}

BOOST_AUTO_TEST_CASE(a_fixed_record_of_another_length_is_refused) {
  Buf b;
  evtag_marshal(b, 1, "four", 4);
  char out[5];
  BOOST_TEST(evtag_unmarshal_fixed(b, 1, out, sizeof out) == -1);
}

BOOST_AUTO_TEST_CASE(a_tag_wider_than_32_bits_is_refused) {
  Buf b;
  b.put({0xff, 0xff, 0xff, 0xff, 0x1f, 0x00});  // 5th group carries bit 32
  ev_uint32_t tag = 0;
  BOOST_TEST(evtag_peek(b, &tag) == -1);
  BOOST_TEST(evtag_decode_tag(&tag, b) == -1);
  BOOST_TEST(b.length() == 6u);
}

BOOST_AUTO_TEST_CASE(an_unterminated_tag_is_refused) {
  Buf b;
  b.put({0x81, 0x82});
  BOOST_TEST(evtag_peek(b, nullptr) == -1);
  BOOST_TEST(evtag_consume(b) == -1);
}

BOOST_AUTO_TEST_CASE(an_empty_buffer_holds_no_record) {
  Buf b;
  ev_uint32_t v;
  BOOST_TEST(evtag_peek(b, &v) == -1);
  BOOST_TEST(evtag_peek_length(b, &v) == -1);
  BOOST_TEST(evtag_decode_int(&v, b) == -1);
  BOOST_TEST(evtag_unmarshal_header(b, &v) == -1);
}

// As libevent's evtag fuzz test: random bytes never crash a reader, and
// every reader stops with an answer.
BOOST_AUTO_TEST_CASE(random_bytes_never_crash_the_readers) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 2000; ++round) {
    Buf b;
    const size_t n = rng() % 40;
    for (size_t i = 0; i < n; ++i) {
      const unsigned char c = static_cast<unsigned char>(rng());
      evbuffer_add(b, &c, 1);
    }
    ev_uint32_t tag, len, i32;
    ev_uint64_t i64;
    struct timeval tv;
    char* s = nullptr;
    char fixed[8];
    Buf out;
    switch (round % 8) {
    case 0: (void)evtag_unmarshal(b, &tag, out); break;
    case 1: (void)evtag_unmarshal_int(b, 0, &i32); break;
    case 2: (void)evtag_unmarshal_int64(b, 0, &i64); break;
    case 3: if (evtag_unmarshal_string(b, 0, &s) == 0) std::free(s); break;
    case 4: (void)evtag_unmarshal_timeval(b, 0, &tv); break;
    case 5: (void)evtag_unmarshal_fixed(b, 0, fixed, sizeof fixed); break;
    case 6: (void)evtag_peek_length(b, &len); break;
    default:
      while (evtag_consume(b) == 0) {
      }
    }
  }
}

#ifdef EVASIO_EVENT2_TAG_H_INCLUDED_
BOOST_AUTO_TEST_CASE(null_arguments_are_refused) {
  ev_uint32_t v;
  char* s;
  BOOST_TEST(evtag_peek(nullptr, &v) == -1);
  BOOST_TEST(evtag_unmarshal_header(nullptr, &v) == -1);
  BOOST_TEST(evtag_decode_int(&v, nullptr) == -1);
  BOOST_TEST(evtag_unmarshal_string(nullptr, 1, &s) == -1);
  Buf b;
  evtag_marshal_string(b, 1, "x");
  BOOST_TEST(evtag_unmarshal_string(b, 1, nullptr) == -1);
  evtag_marshal(nullptr, 1, "x", 1);
  evtag_marshal_string(b, 1, nullptr);
  evtag_marshal_timeval(b, 1, nullptr);
  evtag_marshal_buffer(b, 1, nullptr);
}
#endif

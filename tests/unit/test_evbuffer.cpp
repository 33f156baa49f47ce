// event2/buffer.h: evbuffers (add, remove, drain, move between buffers,
// printf, readln in every EOL style, search, peek, pullup, prepend,
// reserve/commit, references, freezing), with libevent 2.1.12's semantics.
//
// The file builds against real libevent too (system headers, -levent), which
// is how every expectation here was checked. Cases under #ifdef
// EVASIO_EVENT2_BUFFER_H_INCLUDED_ test what libevent does not define (NULL
// buffers crash it).
//
// How bytes fall into chunks differs between the two (libevent's chunks start
// at 1 KiB and double, evasio's are 16 KiB): an expectation on chunk counts or
// contiguous space uses a layout both must produce, i.e. buffers spliced
// together with evbuffer_add_buffer() (one chunk each) or references.
#define BOOST_TEST_MODULE evbuffer
#include <boost/test/unit_test.hpp>

#include <event2/buffer.h>

#include "buffers.hpp"

#include <sys/uio.h>

#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

namespace {

using nettest::Buf;


void add(evbuffer* b, const std::string& s) {
  BOOST_REQUIRE_EQUAL(evbuffer_add(b, s.data(), s.size()), 0);
}

// Appends each piece as its own chunk (a buffer of its own, spliced in).
void add_chunks(evbuffer* b, std::initializer_list<std::string> pieces) {
  for (const std::string& p : pieces) {
    evbuffer* t = evbuffer_new();
    BOOST_REQUIRE(t);
    BOOST_REQUIRE_EQUAL(evbuffer_add(t, p.data(), p.size()), 0);
    BOOST_REQUIRE_EQUAL(evbuffer_add_buffer(b, t), 0);
    evbuffer_free(t);
  }
}

// The whole content, read through evbuffer_peek (which freezing does not
// affect), checked against evbuffer_get_length.
std::string content(evbuffer* b) {
  const int n = evbuffer_peek(b, -1, nullptr, nullptr, 0);
  std::vector<evbuffer_iovec> v(static_cast<size_t>(n) + 1);
  BOOST_REQUIRE_EQUAL(evbuffer_peek(b, -1, nullptr, v.data(), n), n);
  std::string s;
  for (int i = 0; i < n; ++i)
    s.append(static_cast<const char*>(v[i].iov_base), v[i].iov_len);
  BOOST_REQUIRE_EQUAL(s.size(), evbuffer_get_length(b));
  return s;
}

// evbuffer_readln as a string; "<null>" when it returns NULL (and then the
// length it reports must be 0).
std::string readln(evbuffer* b, evbuffer_eol_style style) {
  size_t n = 12345;
  char* line = evbuffer_readln(b, &n, style);
  if (!line) {
    BOOST_CHECK_EQUAL(n, 0u);
    return "<null>";
  }
  std::string s(line, n);
  BOOST_CHECK_EQUAL(std::strlen(line), n);  // NUL-terminated right after
  std::free(line);
  return s;
}

// Every line readln gives, then "|rest".
std::string all_lines(const std::string& input, evbuffer_eol_style style) {
  Buf b;
  add(b, input);
  std::string out;
  for (std::string l; (l = readln(b, style)) != "<null>";)
    out += "[" + l + "]";
  return out + "|" + content(b);
}

ev_ssize_t search(evbuffer* b, const std::string& what, ev_ssize_t start = -1, ev_ssize_t end = -1) {
  evbuffer_ptr s, e;
  if (start >= 0)
    BOOST_REQUIRE_EQUAL(evbuffer_ptr_set(b, &s, static_cast<size_t>(start), EVBUFFER_PTR_SET), 0);
  if (end >= 0) {
    BOOST_REQUIRE_EQUAL(evbuffer_ptr_set(b, &e, static_cast<size_t>(end), EVBUFFER_PTR_SET), 0);
    return evbuffer_search_range(b, what.data(), what.size(), start >= 0 ? &s : nullptr, &e).pos;
  }
  return evbuffer_search(b, what.data(), what.size(), start >= 0 ? &s : nullptr).pos;
}

// Cleanup callback bookkeeping for references.
struct Cleanups {
  int calls = 0;
  const void* data = nullptr;
  size_t len = 0;
};
void on_cleanup(const void* data, size_t len, void* arg) {
  auto* c = static_cast<Cleanups*>(arg);
  ++c->calls;
  c->data = data;
  c->len = len;
}

int printf_via_v(evbuffer* b, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
int printf_via_v(evbuffer* b, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int r = evbuffer_add_vprintf(b, fmt, ap);
  va_end(ap);
  return r;
}

} // namespace

// ---- types and constants ----------------------------------------------------------

BOOST_AUTO_TEST_CASE(constants_have_libevent_values) {
  BOOST_CHECK_EQUAL(EVBUFFER_EOL_ANY, 0);
  BOOST_CHECK_EQUAL(EVBUFFER_EOL_CRLF, 1);
  BOOST_CHECK_EQUAL(EVBUFFER_EOL_CRLF_STRICT, 2);
  BOOST_CHECK_EQUAL(EVBUFFER_EOL_LF, 3);
  BOOST_CHECK_EQUAL(EVBUFFER_EOL_NUL, 4);
  BOOST_CHECK_EQUAL(EVBUFFER_PTR_SET, 0);
  BOOST_CHECK_EQUAL(EVBUFFER_PTR_ADD, 1);
  // evbuffer_iovec is the native iovec on POSIX, as in libevent.
  struct iovec native[1];
  evbuffer_iovec* v = native;
  BOOST_CHECK(v == native);
  BOOST_CHECK_EQUAL(sizeof(evbuffer_ptr), sizeof(ev_ssize_t) + sizeof(void*) + sizeof(size_t));
}

// ---- add, copyout, remove, drain -----------------------------------------------------

BOOST_AUTO_TEST_CASE(new_buffer_is_empty) {
  Buf b;
  BOOST_CHECK_EQUAL(evbuffer_get_length(b), 0u);
  BOOST_CHECK_EQUAL(evbuffer_get_contiguous_space(b), 0u);
  BOOST_CHECK_EQUAL(evbuffer_peek(b, -1, nullptr, nullptr, 0), 0);
  char c;
  BOOST_CHECK_EQUAL(evbuffer_remove(b, &c, 1), 0);
  BOOST_CHECK_EQUAL(evbuffer_copyout(b, &c, 1), 0);
}

BOOST_AUTO_TEST_CASE(add_appends_copies) {
  Buf b;
  std::string s = "hello";
  add(b, s);
  s[0] = 'J';  // the buffer holds its own copy
  add(b, " world");
  BOOST_CHECK_EQUAL(evbuffer_add(b, nullptr, 0), 0);
  BOOST_CHECK_EQUAL(content(b), "hello world");
}

BOOST_AUTO_TEST_CASE(copyout_does_not_drain_and_stops_at_length) {
  Buf b;
  add_chunks(b, {"abc", "def"});
  char out[16] = {};
  BOOST_CHECK_EQUAL(evbuffer_copyout(b, out, 4), 4);
  BOOST_CHECK_EQUAL(std::string(out, 4), "abcd");
  BOOST_CHECK_EQUAL(evbuffer_copyout(b, out, sizeof out), 6);
  BOOST_CHECK_EQUAL(std::string(out, 6), "abcdef");
  BOOST_CHECK_EQUAL(evbuffer_copyout(b, out, 0), 0);
  BOOST_CHECK_EQUAL(evbuffer_get_length(b), 6u);
}

BOOST_AUTO_TEST_CASE(remove_drains_what_it_copies) {
  Buf b;
  add_chunks(b, {"hel", "lo wo", "rld"});
  char out[32] = {};
  BOOST_CHECK_EQUAL(evbuffer_remove(b, out, 5), 5);
  BOOST_CHECK_EQUAL(std::string(out, 5), "hello");
  BOOST_CHECK_EQUAL(evbuffer_remove(b, out, sizeof out), 6);
  BOOST_CHECK_EQUAL(std::string(out, 6), " world");
  BOOST_CHECK_EQUAL(evbuffer_get_length(b), 0u);
  BOOST_CHECK_EQUAL(evbuffer_remove(b, out, sizeof out), 0);
}

BOOST_AUTO_TEST_CASE(drain_part_of_a_chunk_and_across_chunks) {
  Buf b;
  add_chunks(b, {"abc", "defg", "hi"});
  BOOST_CHECK_EQUAL(evbuffer_drain(b, 2), 0);
  BOOST_CHECK_EQUAL(content(b), "cdefghi");
  BOOST_CHECK_EQUAL(evbuffer_drain(b, 3), 0);
  BOOST_CHECK_EQUAL(content(b), "fghi");
  BOOST_CHECK_EQUAL(evbuffer_drain(b, 0), 0);
  BOOST_CHECK_EQUAL(content(b), "fghi");
}

BOOST_AUTO_TEST_CASE(drain_more_than_the_length_empties_the_buffer) {
  Buf b;
  add_chunks(b, {"abc", "def"});
  BOOST_CHECK_EQUAL(evbuffer_drain(b, 1000), 0);
  BOOST_CHECK_EQUAL(evbuffer_get_length(b), 0u);
  BOOST_CHECK_EQUAL(evbuffer_get_contiguous_space(b), 0u);
  BOOST_CHECK_EQUAL(evbuffer_drain(b, 1000), 0);  // and an empty one
  add(b, "next");                                 // still usable
  BOOST_CHECK_EQUAL(content(b), "next");
}

BOOST_AUTO_TEST_CASE(large_data_survives_many_chunks) {
  Buf b;
  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<char>(i * 7 + i / 251);
  for (size_t at = 0; at < big.size(); at += 1000)
    BOOST_REQUIRE_EQUAL(evbuffer_add(b, big.data() + at, std::min<size_t>(1000, big.size() - at)), 0);
  BOOST_CHECK_EQUAL(evbuffer_get_length(b), big.size());
  std::string back;
  std::vector<char> piece(4099);
  int n;
  while ((n = evbuffer_remove(b, piece.data(), piece.size())) > 0)
    back.append(piece.data(), static_cast<size_t>(n));
  BOOST_CHECK(back == big);
}

// ---- moving between buffers ------------------------------------------------------------

BOOST_AUTO_TEST_CASE(add_buffer_moves_everything) {
  Buf a, b;
  add(a, "head:");
  add_chunks(b, {"one", "two"});
  BOOST_CHECK_EQUAL(evbuffer_add_buffer(a, b), 0);
  BOOST_CHECK_EQUAL(content(a), "head:onetwo");
  BOOST_CHECK_EQUAL(evbuffer_get_length(b), 0u);
  BOOST_CHECK_EQUAL(evbuffer_add_buffer(a, b), 0);  // empty source
  BOOST_CHECK_EQUAL(evbuffer_add_buffer(a, a), 0);  // itself: nothing happens
  BOOST_CHECK_EQUAL(content(a), "head:onetwo");
  add(b, "again");  // the emptied source is still usable
  BOOST_CHECK_EQUAL(content(b), "again");
}

BOOST_AUTO_TEST_CASE(add_buffer_splices_chunks) {
  Buf a;
  add_chunks(a, {"ab", "cd", "ef"});
  BOOST_CHECK_EQUAL(evbuffer_peek(a, -1, nullptr, nullptr, 0), 3);
  BOOST_CHECK_EQUAL(evbuffer_get_contiguous_space(a), 2u);
}

BOOST_AUTO_TEST_CASE(remove_buffer_partial_moves_a_prefix) {
  Buf src, dst;
  add_chunks(src, {"hel", "lo wo", "rld hello", "!"});
  add(dst, "D:");
  // Inside the second chunk: one whole chunk and part of the next.
  BOOST_CHECK_EQUAL(evbuffer_remove_buffer(src, dst, 5), 5);
  BOOST_CHECK_EQUAL(content(src), " world hello!");
  BOOST_CHECK_EQUAL(content(dst), "D:hello");
  BOOST_CHECK_EQUAL(evbuffer_get_contiguous_space(src), 3u);  // " wo" left of "lo wo"
  // Exactly a chunk boundary.
  BOOST_CHECK_EQUAL(evbuffer_remove_buffer(src, dst, 3), 3);
  BOOST_CHECK_EQUAL(content(src), "rld hello!");
  BOOST_CHECK_EQUAL(content(dst), "D:hello wo");
  // Within one chunk.
  BOOST_CHECK_EQUAL(evbuffer_remove_buffer(src, dst, 1), 1);
  BOOST_CHECK_EQUAL(content(src), "ld hello!");
  BOOST_CHECK_EQUAL(content(dst), "D:hello wor");
  // More than is left: all of it.
  BOOST_CHECK_EQUAL(evbuffer_remove_buffer(src, dst, 100), 9);
  BOOST_CHECK_EQUAL(content(dst), "D:hello world hello!");
  BOOST_CHECK_EQUAL(evbuffer_get_length(src), 0u);
  BOOST_CHECK_EQUAL(evbuffer_remove_buffer(src, dst, 100), 0);
  BOOST_CHECK_EQUAL(evbuffer_remove_buffer(dst, src, 0), 0);
}

BOOST_AUTO_TEST_CASE(remove_buffer_onto_itself_does_nothing) {
  Buf b;
  add(b, "abc");
  BOOST_CHECK_EQUAL(evbuffer_remove_buffer(b, b, 2), 0);
  BOOST_CHECK_EQUAL(content(b), "abc");
}

// ---- printf --------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(add_printf_returns_the_count_added) {
  Buf b;
  add(b, ">");
  BOOST_CHECK_EQUAL(evbuffer_add_printf(b, "%d-%s-%c", 42, "xy", 'z'), 7);
  BOOST_CHECK_EQUAL(evbuffer_add_printf(b, "%s", ""), 0);
  BOOST_CHECK_EQUAL(printf_via_v(b, "[%05.1f]", 2.25), 7);
  BOOST_CHECK_EQUAL(content(b), ">42-xy-z[002.2]");
}

BOOST_AUTO_TEST_CASE(add_printf_with_long_output) {
  Buf b;
  add(b, "start");
  const std::string mid(5000, 'q');
  BOOST_CHECK_EQUAL(evbuffer_add_printf(b, "<%s>", mid.c_str()), 5002);
  const std::string huge(100000, 'z');
  BOOST_CHECK_EQUAL(evbuffer_add_printf(b, "%s|%s", huge.c_str(), huge.c_str()), 200001);
  BOOST_CHECK(content(b) == "start<" + mid + ">" + huge + "|" + huge);
  // A long text is formatted into one contiguous piece.
  Buf c;
  BOOST_CHECK_EQUAL(evbuffer_add_printf(c, "%s", huge.c_str()), 100000);
  BOOST_CHECK_EQUAL(evbuffer_get_contiguous_space(c), 100000u);
}

// ---- readln ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(readln_crlf_split_across_two_adds) {
  Buf b;
  add(b, "abc\r");
  BOOST_CHECK_EQUAL(readln(b, EVBUFFER_EOL_CRLF), "<null>");  // a lone CR is no line end yet
  add(b, "\ndef");
  BOOST_CHECK_EQUAL(readln(b, EVBUFFER_EOL_CRLF), "abc");
  BOOST_CHECK_EQUAL(content(b), "def");
  BOOST_CHECK_EQUAL(readln(b, EVBUFFER_EOL_CRLF), "<null>");
}

BOOST_AUTO_TEST_CASE(readln_crlf_strict_split_across_two_adds) {
  Buf b;
  add(b, "abc\r");
  BOOST_CHECK_EQUAL(readln(b, EVBUFFER_EOL_CRLF_STRICT), "<null>");
  add(b, "\ndef");
  BOOST_CHECK_EQUAL(readln(b, EVBUFFER_EOL_CRLF_STRICT), "abc");
  BOOST_CHECK_EQUAL(content(b), "def");
}

BOOST_AUTO_TEST_CASE(readln_any_split_across_two_adds_counts_two_line_ends) {
  // As documented: EOL_ANY takes the CR alone when it is all there is.
  Buf b;
  add(b, "abc\r");
  BOOST_CHECK_EQUAL(readln(b, EVBUFFER_EOL_ANY), "abc");
  add(b, "\ndef");
  BOOST_CHECK_EQUAL(readln(b, EVBUFFER_EOL_ANY), "");
  BOOST_CHECK_EQUAL(content(b), "def");
}

BOOST_AUTO_TEST_CASE(readln_line_end_across_a_chunk_boundary) {
  for (auto style : {EVBUFFER_EOL_ANY, EVBUFFER_EOL_CRLF, EVBUFFER_EOL_CRLF_STRICT}) {
    Buf b;
    add_chunks(b, {"abc\r", "\ndef"});
    BOOST_CHECK_EQUAL(readln(b, style), "abc");
    BOOST_CHECK_EQUAL(content(b), "def");
  }
  Buf b;
  add_chunks(b, {"abc\r", "\ndef"});
  BOOST_CHECK_EQUAL(readln(b, EVBUFFER_EOL_LF), "abc\r");
  Buf n;
  add_chunks(n, {"ab", std::string("c\0d", 3)});
  BOOST_CHECK_EQUAL(readln(n, EVBUFFER_EOL_NUL), "abc");
  BOOST_CHECK_EQUAL(content(n), "d");
}

BOOST_AUTO_TEST_CASE(readln_eol_any_takes_a_whole_run_of_cr_and_lf) {
  BOOST_CHECK_EQUAL(all_lines("a\r\n\r\nb\n", EVBUFFER_EOL_ANY), "[a][b]|");
  BOOST_CHECK_EQUAL(all_lines("a\rb\n\rc\r\nd", EVBUFFER_EOL_ANY), "[a][b][c]|d");
  BOOST_CHECK_EQUAL(all_lines("\r\nx", EVBUFFER_EOL_ANY), "[]|x");
}

BOOST_AUTO_TEST_CASE(readln_eol_any_on_leading_line_end) {
  Buf b;
  add(b, "\n\rx\n");
  BOOST_CHECK_EQUAL(readln(b, EVBUFFER_EOL_ANY), "");
  BOOST_CHECK_EQUAL(readln(b, EVBUFFER_EOL_ANY), "x");
  BOOST_CHECK_EQUAL(all_lines("\r", EVBUFFER_EOL_ANY), "[]|");
  BOOST_CHECK_EQUAL(all_lines("line\r\r\n", EVBUFFER_EOL_ANY), "[line]|");
}

BOOST_AUTO_TEST_CASE(readln_eol_crlf_keeps_lone_cr_in_the_line) {
  BOOST_CHECK_EQUAL(all_lines("a\r\n\r\nb\n", EVBUFFER_EOL_CRLF), "[a][][b]|");
  BOOST_CHECK_EQUAL(all_lines("a\rb\n\rc\r\nd", EVBUFFER_EOL_CRLF), "[a\rb][\rc]|d");
  BOOST_CHECK_EQUAL(all_lines("line\r\r\n", EVBUFFER_EOL_CRLF), "[line\r]|");
  BOOST_CHECK_EQUAL(all_lines("x\n\r\ny", EVBUFFER_EOL_CRLF), "[x][]|y");
  BOOST_CHECK_EQUAL(all_lines("\r", EVBUFFER_EOL_CRLF), "|\r");
}

BOOST_AUTO_TEST_CASE(readln_eol_crlf_strict_needs_cr_then_lf) {
  BOOST_CHECK_EQUAL(all_lines("a\r\n\r\nb\n", EVBUFFER_EOL_CRLF_STRICT), "[a][]|b\n");
  BOOST_CHECK_EQUAL(all_lines("a\rb\n\rc\r\nd", EVBUFFER_EOL_CRLF_STRICT), "[a\rb\n\rc]|d");
  BOOST_CHECK_EQUAL(all_lines("x\n\r\ny", EVBUFFER_EOL_CRLF_STRICT), "[x\n]|y");
  BOOST_CHECK_EQUAL(all_lines("line\r\r\n", EVBUFFER_EOL_CRLF_STRICT), "[line\r]|");
}

BOOST_AUTO_TEST_CASE(readln_eol_lf_keeps_cr_in_the_line) {
  BOOST_CHECK_EQUAL(all_lines("a\r\n\r\nb\n", EVBUFFER_EOL_LF), "[a\r][\r][b]|");
  BOOST_CHECK_EQUAL(all_lines("x\n\r\ny", EVBUFFER_EOL_LF), "[x][\r]|y");
  BOOST_CHECK_EQUAL(all_lines("\n\n", EVBUFFER_EOL_LF), "[][]|");
}

BOOST_AUTO_TEST_CASE(readln_eol_nul_splits_on_zero_bytes) {
  BOOST_CHECK_EQUAL(all_lines(std::string("ab\0cd\0e", 7), EVBUFFER_EOL_NUL), "[ab][cd]|e");
  BOOST_CHECK_EQUAL(all_lines("a\r\nb\n", EVBUFFER_EOL_NUL), "|a\r\nb\n");
  // The other styles do not treat NUL as a line end.
  BOOST_CHECK_EQUAL(all_lines(std::string("ab\0cd", 5), EVBUFFER_EOL_ANY), "|" + std::string("ab\0cd", 5));
}

BOOST_AUTO_TEST_CASE(readln_without_a_line_returns_null_and_zero_length) {
  Buf b;
  BOOST_CHECK_EQUAL(readln(b, EVBUFFER_EOL_LF), "<null>");
  add(b, "partial");
  for (auto style : {EVBUFFER_EOL_ANY, EVBUFFER_EOL_CRLF, EVBUFFER_EOL_CRLF_STRICT, EVBUFFER_EOL_LF,
                     EVBUFFER_EOL_NUL})
    BOOST_CHECK_EQUAL(readln(b, style), "<null>");
  BOOST_CHECK_EQUAL(content(b), "partial");
}

BOOST_AUTO_TEST_CASE(readln_unknown_style_finds_nothing) {
  Buf b;
  add(b, "a\nb\r\n");
  BOOST_CHECK_EQUAL(readln(b, static_cast<evbuffer_eol_style>(5)), "<null>");
  BOOST_CHECK_EQUAL(content(b), "a\nb\r\n");
}

BOOST_AUTO_TEST_CASE(readln_accepts_null_length_pointer) {
  Buf b;
  add(b, "hi\nthere");
  char* line = evbuffer_readln(b, nullptr, EVBUFFER_EOL_LF);
  BOOST_REQUIRE(line);
  BOOST_CHECK_EQUAL(std::string(line), "hi");
  std::free(line);
  BOOST_CHECK(evbuffer_readln(b, nullptr, EVBUFFER_EOL_LF) == nullptr);
}

// ---- pullup and contiguous space ---------------------------------------------------------

BOOST_AUTO_TEST_CASE(contiguous_space_is_the_first_chunk) {
  Buf b;
  add_chunks(b, {"hel", "lo wo", "rld"});
  BOOST_CHECK_EQUAL(evbuffer_get_contiguous_space(b), 3u);
  evbuffer_drain(b, 1);
  BOOST_CHECK_EQUAL(evbuffer_get_contiguous_space(b), 2u);
  evbuffer_drain(b, 2);
  BOOST_CHECK_EQUAL(evbuffer_get_contiguous_space(b), 5u);
}

BOOST_AUTO_TEST_CASE(pullup_across_chunks) {
  Buf b;
  add_chunks(b, {"hel", "lo wo", "rld hello", "!"});
  unsigned char* p = evbuffer_pullup(b, 2);  // already contiguous
  BOOST_REQUIRE(p);
  BOOST_CHECK_EQUAL(std::string(reinterpret_cast<char*>(p), 2), "he");
  BOOST_CHECK_EQUAL(evbuffer_get_contiguous_space(b), 3u);
  p = evbuffer_pullup(b, 5);  // part of the second chunk
  BOOST_REQUIRE(p);
  BOOST_CHECK_EQUAL(std::string(reinterpret_cast<char*>(p), 5), "hello");
  BOOST_CHECK_GE(evbuffer_get_contiguous_space(b), 5u);
  BOOST_CHECK_EQUAL(evbuffer_peek(b, -1, nullptr, nullptr, 0), 4);  // " wo" stays in its chunk
  p = evbuffer_pullup(b, 9);  // across a chunk boundary
  BOOST_REQUIRE(p);
  BOOST_CHECK_EQUAL(std::string(reinterpret_cast<char*>(p), 9), "hello wor");
  BOOST_CHECK_EQUAL(evbuffer_peek(b, -1, nullptr, nullptr, 0), 3);
  BOOST_CHECK_EQUAL(content(b), "hello world hello!");
}

BOOST_AUTO_TEST_CASE(pullup_minus_one_makes_everything_contiguous) {
  Buf b;
  add_chunks(b, {"hel", "lo wo", "rld hello", "!"});
  unsigned char* p = evbuffer_pullup(b, -1);
  BOOST_REQUIRE(p);
  BOOST_CHECK_EQUAL(std::string(reinterpret_cast<char*>(p), 18), "hello world hello!");
  BOOST_CHECK_EQUAL(evbuffer_get_contiguous_space(b), 18u);
  BOOST_CHECK_EQUAL(evbuffer_peek(b, -1, nullptr, nullptr, 0), 1);
  // Large: several chunks' worth.
  Buf big;
  std::string s(100000, 'x');
  for (size_t i = 0; i < s.size(); ++i)
    s[i] = static_cast<char>('a' + i % 26);
  for (size_t at = 0; at < s.size(); at += 777)
    add_chunks(big, {s.substr(at, 777)});
  p = evbuffer_pullup(big, -1);
  BOOST_REQUIRE(p);
  BOOST_CHECK(std::string(reinterpret_cast<char*>(p), s.size()) == s);
  BOOST_CHECK_EQUAL(evbuffer_get_contiguous_space(big), s.size());
}

BOOST_AUTO_TEST_CASE(pullup_zero_or_more_than_the_length_returns_null) {
  Buf b;
  BOOST_CHECK(evbuffer_pullup(b, -1) == nullptr);  // empty
  BOOST_CHECK(evbuffer_pullup(b, 0) == nullptr);
  add_chunks(b, {"ab", "c"});
  BOOST_CHECK(evbuffer_pullup(b, 0) == nullptr);
  BOOST_CHECK(evbuffer_pullup(b, 4) == nullptr);
  BOOST_CHECK_EQUAL(content(b), "abc");
  BOOST_CHECK(evbuffer_pullup(b, 3) != nullptr);
}

// ---- prepend ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(prepend_into_an_empty_buffer) {
  Buf b;
  BOOST_CHECK_EQUAL(evbuffer_prepend(b, "world", 5), 0);
  BOOST_CHECK_EQUAL(content(b), "world");
  add(b, "!");
  BOOST_CHECK_EQUAL(content(b), "world!");
  // And one that held data before.
  Buf d;
  add(d, "xyz");
  evbuffer_drain(d, 3);
  BOOST_CHECK_EQUAL(evbuffer_prepend(d, "p", 1), 0);
  add(d, "q");
  BOOST_CHECK_EQUAL(content(d), "pq");
}

BOOST_AUTO_TEST_CASE(prepend_into_a_non_empty_buffer) {
  Buf b;
  add_chunks(b, {"world", "!"});
  BOOST_CHECK_EQUAL(evbuffer_prepend(b, "hello ", 6), 0);
  BOOST_CHECK_EQUAL(content(b), "hello world!");
  BOOST_CHECK_EQUAL(evbuffer_prepend(b, "", 0), 0);
  // Into the room a drain left, then more than that room.
  Buf c;
  add(c, "abcdef");
  evbuffer_drain(c, 3);
  BOOST_CHECK_EQUAL(evbuffer_prepend(c, "12", 2), 0);
  BOOST_CHECK_EQUAL(content(c), "12def");
  BOOST_CHECK_EQUAL(evbuffer_prepend(c, "XYZW", 4), 0);
  BOOST_CHECK_EQUAL(content(c), "XYZW12def");
  const std::string long_head(40000, 'h');
  BOOST_CHECK_EQUAL(evbuffer_prepend(c, long_head.data(), long_head.size()), 0);
  BOOST_CHECK(content(c) == long_head + "XYZW12def");
}

BOOST_AUTO_TEST_CASE(prepend_before_a_reference_does_not_write_into_it) {
  Buf b;
  static const char ref[] = "hello";
  BOOST_REQUIRE_EQUAL(evbuffer_add_reference(b, ref, 5, nullptr, nullptr), 0);
  BOOST_CHECK_EQUAL(evbuffer_prepend(b, "12", 2), 0);
  BOOST_CHECK_EQUAL(content(b), "12hello");
  BOOST_CHECK_EQUAL(evbuffer_peek(b, -1, nullptr, nullptr, 0), 2);
  BOOST_CHECK_EQUAL(std::string(ref), "hello");
}

// ---- positions and search -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(search_across_chunk_boundaries) {
  Buf b;
  add_chunks(b, {"hel", "lo wo", "rld hello", "!"});
  BOOST_CHECK_EQUAL(search(b, "hello"), 0);
  BOOST_CHECK_EQUAL(search(b, "lo w"), 3);
  BOOST_CHECK_EQUAL(search(b, "world"), 6);   // "wo" + "rld"
  BOOST_CHECK_EQUAL(search(b, "o!"), 16);     // into the last chunk
  BOOST_CHECK_EQUAL(search(b, "!"), 17);
  BOOST_CHECK_EQUAL(search(b, "!x"), -1);     // would run past the end
  BOOST_CHECK_EQUAL(search(b, "zzz"), -1);
  BOOST_CHECK_EQUAL(search(b, "hel"), 0);
}

BOOST_AUTO_TEST_CASE(search_with_a_start_pointer) {
  Buf b;
  add_chunks(b, {"hel", "lo wo", "rld hello", "!"});
  BOOST_CHECK_EQUAL(search(b, "hello", 1), 12);
  BOOST_CHECK_EQUAL(search(b, "lo", 3), 3);  // a match right at the start counts
  BOOST_CHECK_EQUAL(search(b, "o", 5), 7);
  BOOST_CHECK_EQUAL(search(b, "hello", 13), -1);
  BOOST_CHECK_EQUAL(search(b, "!", 18), -1);  // start at the end
  // Walking through all the matches, as the manual does.
  evbuffer_ptr p = evbuffer_search(b, "l", 1, nullptr);
  std::vector<ev_ssize_t> found;
  while (p.pos >= 0) {
    found.push_back(p.pos);
    BOOST_REQUIRE_EQUAL(evbuffer_ptr_set(b, &p, 1, EVBUFFER_PTR_ADD), 0);
    p = evbuffer_search(b, "l", 1, &p);
  }
  BOOST_CHECK((found == std::vector<ev_ssize_t>{2, 3, 9, 14, 15}));
}

BOOST_AUTO_TEST_CASE(search_range_needs_the_match_to_end_before_end) {
  Buf b;
  add_chunks(b, {"hel", "lo wo", "rld hello", "!"});
  BOOST_CHECK_EQUAL(search(b, "hello", 0, 5), 0);
  BOOST_CHECK_EQUAL(search(b, "hello", 0, 4), -1);
  BOOST_CHECK_EQUAL(search(b, "hello", 1, 17), 12);
  BOOST_CHECK_EQUAL(search(b, "hello", 1, 16), -1);
  BOOST_CHECK_EQUAL(search(b, "!", 0, 18), 17);
  BOOST_CHECK_EQUAL(search(b, "rld", 0, 10), -1);
  BOOST_CHECK_EQUAL(search(b, "o", 5, 2), -1);  // end before start
}

BOOST_AUTO_TEST_CASE(search_for_an_empty_string_finds_the_start) {
  Buf b;
  add(b, "abc");
  BOOST_CHECK_EQUAL(search(b, ""), 0);
  BOOST_CHECK_EQUAL(search(b, "", 2), 2);
  BOOST_CHECK_EQUAL(search(b, "", 2, 1), 2);
}

BOOST_AUTO_TEST_CASE(ptr_set_and_add) {
  Buf b;
  add_chunks(b, {"hel", "lo"});
  evbuffer_ptr p;
  BOOST_CHECK_EQUAL(evbuffer_ptr_set(b, &p, 0, EVBUFFER_PTR_SET), 0);
  BOOST_CHECK_EQUAL(p.pos, 0);
  BOOST_CHECK_EQUAL(evbuffer_ptr_set(b, &p, 3, EVBUFFER_PTR_ADD), 0);
  BOOST_CHECK_EQUAL(p.pos, 3);
  BOOST_CHECK_EQUAL(evbuffer_ptr_set(b, &p, 2, EVBUFFER_PTR_ADD), 0);  // just past the end is valid
  BOOST_CHECK_EQUAL(p.pos, 5);
  BOOST_CHECK_EQUAL(evbuffer_ptr_set(b, &p, 1, EVBUFFER_PTR_ADD), -1);
  BOOST_CHECK_EQUAL(p.pos, -1);
  BOOST_CHECK_EQUAL(evbuffer_ptr_set(b, &p, 1, EVBUFFER_PTR_ADD), -1);  // a not-found pointer stays so
  BOOST_CHECK_EQUAL(evbuffer_ptr_set(b, &p, 6, EVBUFFER_PTR_SET), -1);
  BOOST_CHECK_EQUAL(p.pos, -1);
  BOOST_CHECK_EQUAL(evbuffer_ptr_set(b, &p, 5, EVBUFFER_PTR_SET), 0);
  BOOST_CHECK_EQUAL(p.pos, 5);
}

BOOST_AUTO_TEST_CASE(search_eol_reports_position_and_length) {
  Buf b;
  add_chunks(b, {"ab\r", "\ncd\n", "\r\r", "\n"});  // "ab\r\ncd\n\r\r\n"
  auto eol = [&](evbuffer_eol_style style, ev_ssize_t start) {
    evbuffer_ptr s;
    if (start >= 0)
      BOOST_REQUIRE_EQUAL(evbuffer_ptr_set(b, &s, static_cast<size_t>(start), EVBUFFER_PTR_SET), 0);
    size_t len = 77;
    evbuffer_ptr r = evbuffer_search_eol(b, start >= 0 ? &s : nullptr, &len, style);
    return std::to_string(r.pos) + "/" + std::to_string(len);
  };
  BOOST_CHECK_EQUAL(eol(EVBUFFER_EOL_ANY, -1), "2/2");
  BOOST_CHECK_EQUAL(eol(EVBUFFER_EOL_ANY, 3), "3/1");
  BOOST_CHECK_EQUAL(eol(EVBUFFER_EOL_ANY, 6), "6/4");
  BOOST_CHECK_EQUAL(eol(EVBUFFER_EOL_CRLF, -1), "2/2");
  BOOST_CHECK_EQUAL(eol(EVBUFFER_EOL_CRLF, 3), "3/1");
  BOOST_CHECK_EQUAL(eol(EVBUFFER_EOL_CRLF, 7), "8/2");
  BOOST_CHECK_EQUAL(eol(EVBUFFER_EOL_CRLF_STRICT, 3), "8/2");
  BOOST_CHECK_EQUAL(eol(EVBUFFER_EOL_LF, -1), "3/1");
  BOOST_CHECK_EQUAL(eol(EVBUFFER_EOL_LF, 7), "9/1");
  BOOST_CHECK_EQUAL(eol(EVBUFFER_EOL_NUL, -1), "-1/0");
  BOOST_CHECK_EQUAL(eol(EVBUFFER_EOL_LF, 10), "-1/0");
  BOOST_CHECK_EQUAL(eol(static_cast<evbuffer_eol_style>(5), -1), "-1/0");
  BOOST_CHECK_EQUAL(evbuffer_search_eol(b, nullptr, nullptr, EVBUFFER_EOL_LF).pos, 3);
}

// ---- peek ----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(peek_counts_extents) {
  Buf b;
  add_chunks(b, {"hel", "lo wo", "rld hello", "!"});
  evbuffer_iovec v[8];
  BOOST_CHECK_EQUAL(evbuffer_peek(b, -1, nullptr, nullptr, 0), 4);  // all of them
  BOOST_CHECK_EQUAL(evbuffer_peek(b, -1, nullptr, v, 8), 4);
  BOOST_CHECK_EQUAL(evbuffer_peek(b, -1, nullptr, v, 2), 2);  // as many as fit
  BOOST_CHECK_EQUAL(std::string(static_cast<char*>(v[1].iov_base), v[1].iov_len), "lo wo");
  BOOST_CHECK_EQUAL(evbuffer_peek(b, 0, nullptr, v, 8), 0);
  BOOST_CHECK_EQUAL(evbuffer_peek(b, 3, nullptr, v, 8), 1);
  BOOST_CHECK_EQUAL(evbuffer_peek(b, 4, nullptr, v, 8), 2);
  BOOST_CHECK_EQUAL(evbuffer_peek(b, 4, nullptr, nullptr, 0), 2);
  BOOST_CHECK_EQUAL(evbuffer_peek(b, 9, nullptr, v, 1), 3);  // needed, more than given
  BOOST_CHECK_EQUAL(std::string(static_cast<char*>(v[0].iov_base), v[0].iov_len), "hel");
  BOOST_CHECK_EQUAL(evbuffer_peek(b, 100, nullptr, v, 1), 4);
  Buf e;
  BOOST_CHECK_EQUAL(evbuffer_peek(e, -1, nullptr, v, 8), 0);
  BOOST_CHECK_EQUAL(evbuffer_peek(e, 10, nullptr, v, 8), 0);
}

BOOST_AUTO_TEST_CASE(peek_from_a_start_pointer) {
  Buf b;
  add_chunks(b, {"hel", "lo wo", "rld hello", "!"});
  evbuffer_iovec v[8];
  evbuffer_ptr p;
  BOOST_REQUIRE_EQUAL(evbuffer_ptr_set(b, &p, 4, EVBUFFER_PTR_SET), 0);
  BOOST_CHECK_EQUAL(evbuffer_peek(b, -1, &p, nullptr, 0), 3);
  BOOST_REQUIRE_EQUAL(evbuffer_peek(b, -1, &p, v, 8), 3);
  BOOST_CHECK_EQUAL(std::string(static_cast<char*>(v[0].iov_base), v[0].iov_len), "o wo");
  BOOST_CHECK_EQUAL(std::string(static_cast<char*>(v[1].iov_base), v[1].iov_len), "rld hello");
  BOOST_CHECK_EQUAL(evbuffer_peek(b, 0, &p, v, 8), 1);  // the start's extent always counts
  BOOST_CHECK_EQUAL(evbuffer_peek(b, 4, &p, v, 8), 1);
  BOOST_CHECK_EQUAL(evbuffer_peek(b, 5, &p, v, 8), 2);
  BOOST_REQUIRE_EQUAL(evbuffer_ptr_set(b, &p, 3, EVBUFFER_PTR_SET), 0);  // at a boundary
  BOOST_CHECK_EQUAL(evbuffer_peek(b, -1, &p, v, 8), 3);
  BOOST_CHECK_EQUAL(v[0].iov_len, 5u);
  BOOST_REQUIRE_EQUAL(evbuffer_ptr_set(b, &p, 18, EVBUFFER_PTR_SET), 0);  // at the end
  BOOST_CHECK_EQUAL(evbuffer_peek(b, -1, &p, v, 8), 0);
}

// ---- reserve and commit ----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(reserve_commit_with_one_vec) {
  Buf b;
  add(b, "ab");
  evbuffer_iovec v[1];
  BOOST_REQUIRE_EQUAL(evbuffer_reserve_space(b, 100, v, 1), 1);
  BOOST_CHECK_GE(v[0].iov_len, 100u);
  BOOST_CHECK_EQUAL(evbuffer_get_length(b), 2u);  // nothing added yet
  std::memcpy(v[0].iov_base, "cdefg", 5);
  v[0].iov_len = 5;
  BOOST_CHECK_EQUAL(evbuffer_commit_space(b, v, 1), 0);
  BOOST_CHECK_EQUAL(content(b), "abcdefg");
  BOOST_CHECK_EQUAL(evbuffer_commit_space(b, v, 1), -1);  // that space is used now
  // A large reservation is one extent.
  BOOST_REQUIRE_EQUAL(evbuffer_reserve_space(b, 100000, v, 1), 1);
  BOOST_CHECK_GE(v[0].iov_len, 100000u);
  std::memset(v[0].iov_base, 'z', 100000);
  v[0].iov_len = 100000;
  BOOST_CHECK_EQUAL(evbuffer_commit_space(b, v, 1), 0);
  BOOST_CHECK(content(b) == "abcdefg" + std::string(100000, 'z'));
}

BOOST_AUTO_TEST_CASE(reserve_same_space_until_committed) {
  Buf b;
  evbuffer_iovec v[2], w[2];
  const int n = evbuffer_reserve_space(b, 10, v, 2);
  BOOST_REQUIRE_GE(n, 1);
  BOOST_REQUIRE_EQUAL(evbuffer_reserve_space(b, 10, w, 2), n);
  BOOST_CHECK(v[0].iov_base == w[0].iov_base);
  BOOST_CHECK_EQUAL(v[0].iov_len, w[0].iov_len);
}

BOOST_AUTO_TEST_CASE(reserve_commit_with_two_vecs) {
  Buf b;
  evbuffer_iovec v[2];
  // Fill the tail chunk to 10 bytes short of full, then ask for 100: the
  // 10 bytes and a next chunk.
  BOOST_REQUIRE_EQUAL(evbuffer_reserve_space(b, 1000, v, 1), 1);
  const size_t first = v[0].iov_len - 10;
  std::memset(v[0].iov_base, 'a', first);
  v[0].iov_len = first;
  BOOST_REQUIRE_EQUAL(evbuffer_commit_space(b, v, 1), 0);
  BOOST_REQUIRE_EQUAL(evbuffer_reserve_space(b, 100, v, 2), 2);
  BOOST_CHECK_EQUAL(v[0].iov_len, 10u);
  BOOST_CHECK_GE(v[0].iov_len + v[1].iov_len, 100u);
  std::memset(v[0].iov_base, 'b', 10);
  std::memcpy(v[1].iov_base, "ccccc", 5);
  v[1].iov_len = 5;
  BOOST_CHECK_EQUAL(evbuffer_commit_space(b, v, 2), 0);
  BOOST_CHECK(content(b) == std::string(first, 'a') + std::string(10, 'b') + "ccccc");
  BOOST_CHECK_EQUAL(evbuffer_peek(b, -1, nullptr, nullptr, 0), 2);
  // Enough room in the tail: one extent even if two are allowed.
  BOOST_CHECK_EQUAL(evbuffer_reserve_space(b, 1, v, 2), 1);
}

BOOST_AUTO_TEST_CASE(commit_only_the_second_of_two_vecs) {
  Buf b;
  add(b, "x");
  evbuffer_iovec v[2];
  BOOST_REQUIRE_EQUAL(evbuffer_reserve_space(b, 100000, v, 2), 2);
  v[0].iov_len = 0;
  std::memcpy(v[1].iov_base, "Q", 1);
  v[1].iov_len = 1;
  BOOST_CHECK_EQUAL(evbuffer_commit_space(b, v, 2), 0);
  BOOST_CHECK_EQUAL(content(b), "xQ");
  add(b, "R");
  BOOST_CHECK_EQUAL(content(b), "xQR");
}

BOOST_AUTO_TEST_CASE(commit_fails_on_extents_that_do_not_match) {
  Buf b;
  add(b, "hello");
  evbuffer_iovec v[2];
  BOOST_REQUIRE_EQUAL(evbuffer_reserve_space(b, 10, v, 1), 1);
  evbuffer_iovec longer = v[0];
  longer.iov_len += 1;
  BOOST_CHECK_EQUAL(evbuffer_commit_space(b, &longer, 1), -1);  // more than was lent
  evbuffer_iovec moved = v[0];
  moved.iov_base = static_cast<char*>(moved.iov_base) + 1;
  moved.iov_len = 1;
  BOOST_CHECK_EQUAL(evbuffer_commit_space(b, &moved, 1), -1);  // not where the space starts
  add(b, "zz");  // an add takes the space
  v[0].iov_len = 2;
  BOOST_CHECK_EQUAL(evbuffer_commit_space(b, v, 1), -1);
  BOOST_CHECK_EQUAL(content(b), "hellozz");
  BOOST_CHECK_EQUAL(evbuffer_commit_space(b, v, 0), 0);  // nothing to commit
}

BOOST_AUTO_TEST_CASE(reserve_rejects_bad_arguments) {
  Buf b;
  evbuffer_iovec v[2];
  BOOST_CHECK_EQUAL(evbuffer_reserve_space(b, 10, v, 0), -1);
  BOOST_CHECK_EQUAL(evbuffer_reserve_space(b, -1, v, 1), -1);
  BOOST_CHECK_EQUAL(evbuffer_reserve_space(b, -1, v, 2), -1);
  BOOST_CHECK_EQUAL(evbuffer_reserve_space(b, 0, v, 1), 1);  // the tail's room
  BOOST_CHECK_EQUAL(evbuffer_reserve_space(b, 0, v, 2), 0);  // no extent needed
}

BOOST_AUTO_TEST_CASE(expand_makes_room_for_one_add) {
  Buf b;
  BOOST_CHECK_EQUAL(evbuffer_expand(b, 0), 0);
  BOOST_CHECK_EQUAL(evbuffer_expand(b, 5000), 0);
  BOOST_CHECK_EQUAL(evbuffer_get_length(b), 0u);
  const std::string s(5000, 'e');
  add(b, s);
  BOOST_CHECK_EQUAL(evbuffer_get_contiguous_space(b), 5000u);
  BOOST_CHECK_EQUAL(evbuffer_expand(b, static_cast<size_t>(-1)), -1);
  BOOST_CHECK(content(b) == s);
}

// ---- references ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(add_reference_cleanup_called_once_on_drain) {
  static const char data[] = "0123456789";
  Cleanups c;
  Buf b;
  add(b, "<");
  BOOST_REQUIRE_EQUAL(evbuffer_add_reference(b, data, 10, on_cleanup, &c), 0);
  add(b, ">");
  BOOST_CHECK_EQUAL(content(b), "<0123456789>");
  BOOST_CHECK_EQUAL(evbuffer_drain(b, 4), 0);  // part of it: still needed
  char out[4];
  BOOST_CHECK_EQUAL(evbuffer_remove(b, out, 4), 4);
  BOOST_CHECK_EQUAL(c.calls, 0);
  BOOST_CHECK_EQUAL(evbuffer_drain(b, 3), 0);  // the rest of it
  BOOST_CHECK_EQUAL(c.calls, 1);
  BOOST_CHECK(c.data == data);  // with the arguments it was added with
  BOOST_CHECK_EQUAL(c.len, 10u);
  BOOST_CHECK_EQUAL(content(b), ">");
  b.free();
  BOOST_CHECK_EQUAL(c.calls, 1);
}

BOOST_AUTO_TEST_CASE(add_reference_cleanup_called_once_on_free) {
  static const char data[] = "abcdef";
  Cleanups c;
  Buf b;
  BOOST_REQUIRE_EQUAL(evbuffer_add_reference(b, data, 6, on_cleanup, &c), 0);
  evbuffer_drain(b, 2);
  BOOST_CHECK_EQUAL(c.calls, 0);
  b.free();
  BOOST_CHECK_EQUAL(c.calls, 1);
  BOOST_CHECK(c.data == data);
  BOOST_CHECK_EQUAL(c.len, 6u);
}

BOOST_AUTO_TEST_CASE(add_reference_is_not_copied) {
  char data[] = "mutable";
  Buf b;
  BOOST_REQUIRE_EQUAL(evbuffer_add_reference(b, data, 7, nullptr, nullptr), 0);
  evbuffer_iovec v[1];
  BOOST_REQUIRE_EQUAL(evbuffer_peek(b, -1, nullptr, v, 1), 1);
  BOOST_CHECK(v[0].iov_base == data);
  add(b, "!");  // does not write into the referenced memory
  BOOST_CHECK_EQUAL(std::string(data), "mutable");
  BOOST_CHECK_EQUAL(content(b), "mutable!");
}

BOOST_AUTO_TEST_CASE(add_reference_moved_between_buffers_cleaned_once) {
  static const char data[] = "moved";
  Cleanups c;
  Buf a, b;
  BOOST_REQUIRE_EQUAL(evbuffer_add_reference(a, data, 5, on_cleanup, &c), 0);
  BOOST_CHECK_EQUAL(evbuffer_add_buffer(b, a), 0);
  a.free();
  BOOST_CHECK_EQUAL(c.calls, 0);
  BOOST_CHECK_EQUAL(content(b), "moved");
  // remove_buffer of part of it copies that part; the rest stays referenced.
  Buf d;
  BOOST_CHECK_EQUAL(evbuffer_remove_buffer(b, d, 2), 2);
  BOOST_CHECK_EQUAL(content(d), "mo");
  BOOST_CHECK_EQUAL(c.calls, 0);
  b.free();
  BOOST_CHECK_EQUAL(c.calls, 1);
  BOOST_CHECK_EQUAL(content(d), "mo");
}

BOOST_AUTO_TEST_CASE(add_reference_pullup_releases_what_it_consumed) {
  Cleanups c1, c2, c3;
  Buf b;
  BOOST_REQUIRE_EQUAL(evbuffer_add_reference(b, "abc", 3, on_cleanup, &c1), 0);
  BOOST_REQUIRE_EQUAL(evbuffer_add_reference(b, "defg", 4, on_cleanup, &c2), 0);
  BOOST_REQUIRE_EQUAL(evbuffer_add_reference(b, "hij", 3, on_cleanup, &c3), 0);
  unsigned char* p = evbuffer_pullup(b, 5);
  BOOST_REQUIRE(p);
  BOOST_CHECK_EQUAL(std::string(reinterpret_cast<char*>(p), 5), "abcde");
  BOOST_CHECK_EQUAL(c1.calls, 1);  // all copied out of it
  BOOST_CHECK_EQUAL(c2.calls, 0);  // partly
  BOOST_CHECK_EQUAL(content(b), "abcdefghij");
  b.free();
  BOOST_CHECK_EQUAL(c1.calls, 1);
  BOOST_CHECK_EQUAL(c2.calls, 1);
  BOOST_CHECK_EQUAL(c3.calls, 1);
}

BOOST_AUTO_TEST_CASE(add_reference_of_zero_bytes_cleaned_once_by_free) {
  Cleanups c;
  Buf b;
  BOOST_REQUIRE_EQUAL(evbuffer_add_reference(b, "", 0, on_cleanup, &c), 0);
  BOOST_CHECK_EQUAL(evbuffer_get_length(b), 0u);
  BOOST_CHECK_EQUAL(c.calls, 0);  // not inside the call
  b.free();
  BOOST_CHECK_EQUAL(c.calls, 1);
}

// ---- freezing -------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(freeze_back_blocks_adds) {
  Buf b, other;
  add(b, "data");
  add(other, "more");
  Cleanups c;
  BOOST_CHECK_EQUAL(evbuffer_freeze(b, 0), 0);
  BOOST_CHECK_EQUAL(evbuffer_add(b, "x", 1), -1);
  BOOST_CHECK_EQUAL(evbuffer_add(b, "x", 0), -1);
  BOOST_CHECK_EQUAL(evbuffer_add_printf(b, "%d", 1), -1);
  BOOST_CHECK_EQUAL(evbuffer_add_buffer(b, other), -1);
  BOOST_CHECK_EQUAL(evbuffer_remove_buffer(other, b, 2), -1);
  BOOST_CHECK_EQUAL(evbuffer_add_reference(b, "r", 1, on_cleanup, &c), -1);
  BOOST_CHECK_EQUAL(c.calls, 0);  // a refused reference is not cleaned up
  evbuffer_iovec v[2];
  BOOST_CHECK_EQUAL(evbuffer_reserve_space(b, 10, v, 2), -1);
  BOOST_CHECK_EQUAL(content(b), "data");
  BOOST_CHECK_EQUAL(content(other), "more");
  // The front still works.
  BOOST_CHECK_EQUAL(evbuffer_prepend(b, ">", 1), 0);
  BOOST_CHECK_EQUAL(evbuffer_drain(b, 2), 0);
  BOOST_CHECK_EQUAL(content(b), "ata");
  BOOST_CHECK_EQUAL(evbuffer_add_buffer(other, b), 0);  // draining b is fine
  BOOST_CHECK_EQUAL(content(other), "moreata");
}

BOOST_AUTO_TEST_CASE(freeze_back_blocks_a_pending_commit) {
  Buf b;
  evbuffer_iovec v[1];
  BOOST_REQUIRE_EQUAL(evbuffer_reserve_space(b, 10, v, 1), 1);
  std::memcpy(v[0].iov_base, "abc", 3);
  v[0].iov_len = 3;
  evbuffer_freeze(b, 0);
  BOOST_CHECK_EQUAL(evbuffer_commit_space(b, v, 1), -1);
  BOOST_CHECK_EQUAL(evbuffer_commit_space(b, v, 0), -1);
  evbuffer_unfreeze(b, 0);
  BOOST_CHECK_EQUAL(evbuffer_commit_space(b, v, 1), 0);
  BOOST_CHECK_EQUAL(content(b), "abc");
}

BOOST_AUTO_TEST_CASE(freeze_front_blocks_drains) {
  Buf b, other;
  add(b, "line\nrest");
  BOOST_CHECK_EQUAL(evbuffer_freeze(b, 1), 0);
  char out[8];
  BOOST_CHECK_EQUAL(evbuffer_drain(b, 1), -1);
  BOOST_CHECK_EQUAL(evbuffer_drain(b, 0), -1);
  BOOST_CHECK_EQUAL(evbuffer_remove(b, out, 2), -1);
  BOOST_CHECK_EQUAL(evbuffer_copyout(b, out, 2), -1);
  BOOST_CHECK_EQUAL(evbuffer_copyout(b, out, 0), 0);
  BOOST_CHECK_EQUAL(readln(b, EVBUFFER_EOL_LF), "<null>");
  BOOST_CHECK_EQUAL(evbuffer_remove_buffer(b, other, 2), -1);
  BOOST_CHECK_EQUAL(evbuffer_add_buffer(other, b), -1);
  BOOST_CHECK_EQUAL(evbuffer_prepend(b, "x", 1), -1);
  BOOST_CHECK_EQUAL(content(b), "line\nrest");
  // The back, and reading in place, still work.
  BOOST_CHECK_EQUAL(evbuffer_add(b, "!", 1), 0);
  BOOST_CHECK(evbuffer_pullup(b, -1) != nullptr);
  BOOST_CHECK_EQUAL(search(b, "rest"), 5);
  BOOST_CHECK_EQUAL(content(b), "line\nrest!");
  // An empty frozen buffer drains "successfully": there is nothing to drain.
  Buf e;
  evbuffer_freeze(e, 1);
  BOOST_CHECK_EQUAL(evbuffer_drain(e, 5), 0);
  BOOST_CHECK_EQUAL(evbuffer_remove(e, out, 5), 0);
}

BOOST_AUTO_TEST_CASE(unfreeze_restores_and_freezes_do_not_nest) {
  Buf b;
  add(b, "abc");
  BOOST_CHECK_EQUAL(evbuffer_freeze(b, 1), 0);
  BOOST_CHECK_EQUAL(evbuffer_freeze(b, 1), 0);
  BOOST_CHECK_EQUAL(evbuffer_unfreeze(b, 1), 0);  // one unfreeze is enough
  BOOST_CHECK_EQUAL(evbuffer_drain(b, 1), 0);
  BOOST_CHECK_EQUAL(evbuffer_freeze(b, 0), 0);
  BOOST_CHECK_EQUAL(evbuffer_add(b, "d", 1), -1);
  BOOST_CHECK_EQUAL(evbuffer_unfreeze(b, 0), 0);
  BOOST_CHECK_EQUAL(evbuffer_add(b, "d", 1), 0);
  BOOST_CHECK_EQUAL(content(b), "bcd");
}

// ---- evasio only ----------------------------------------------------------------------------------

#ifdef EVASIO_EVENT2_BUFFER_H_INCLUDED_
BOOST_AUTO_TEST_CASE(null_buffers_fail_without_crashing) {
  char c;
  evbuffer_iovec v[1];
  evbuffer_ptr p;
  size_t n = 9;
  BOOST_CHECK_EQUAL(evbuffer_add(nullptr, "x", 1), -1);
  BOOST_CHECK_EQUAL(errno, EINVAL);
  BOOST_CHECK_EQUAL(evbuffer_add_printf(nullptr, "%d", 1), -1);
  BOOST_CHECK_EQUAL(evbuffer_add_buffer(nullptr, nullptr), -1);
  BOOST_CHECK_EQUAL(evbuffer_add_reference(nullptr, "x", 1, nullptr, nullptr), -1);
  BOOST_CHECK_EQUAL(evbuffer_prepend(nullptr, "x", 1), -1);
  BOOST_CHECK_EQUAL(evbuffer_remove(nullptr, &c, 1), -1);
  BOOST_CHECK_EQUAL(evbuffer_copyout(nullptr, &c, 1), -1);
  BOOST_CHECK_EQUAL(evbuffer_remove_buffer(nullptr, nullptr, 1), -1);
  BOOST_CHECK_EQUAL(evbuffer_drain(nullptr, 1), -1);
  BOOST_CHECK(evbuffer_readln(nullptr, &n, EVBUFFER_EOL_LF) == nullptr);
  BOOST_CHECK_EQUAL(n, 0u);
  BOOST_CHECK(evbuffer_pullup(nullptr, -1) == nullptr);
  BOOST_CHECK_EQUAL(evbuffer_expand(nullptr, 1), -1);
  BOOST_CHECK_EQUAL(evbuffer_get_length(nullptr), 0u);
  BOOST_CHECK_EQUAL(evbuffer_get_contiguous_space(nullptr), 0u);
  BOOST_CHECK_EQUAL(evbuffer_ptr_set(nullptr, &p, 0, EVBUFFER_PTR_SET), -1);
  BOOST_CHECK_EQUAL(evbuffer_search(nullptr, "x", 1, nullptr).pos, -1);
  BOOST_CHECK_EQUAL(evbuffer_search_eol(nullptr, nullptr, &n, EVBUFFER_EOL_LF).pos, -1);
  BOOST_CHECK_EQUAL(evbuffer_peek(nullptr, -1, nullptr, v, 1), -1);
  BOOST_CHECK_EQUAL(evbuffer_reserve_space(nullptr, 1, v, 1), -1);
  BOOST_CHECK_EQUAL(evbuffer_commit_space(nullptr, v, 1), -1);
  BOOST_CHECK_EQUAL(evbuffer_freeze(nullptr, 0), -1);
  BOOST_CHECK_EQUAL(evbuffer_unfreeze(nullptr, 0), -1);
  evbuffer_free(nullptr);
  Buf b;
  BOOST_CHECK_EQUAL(evbuffer_add(b, nullptr, 1), -1);  // NULL data with a length
  BOOST_CHECK_EQUAL(errno, EINVAL);
  add(b, "x");
  BOOST_CHECK_EQUAL(evbuffer_remove(b, nullptr, 1), -1);
  BOOST_CHECK_EQUAL(evbuffer_peek(b, -1, nullptr, nullptr, 1), -1);
}

BOOST_AUTO_TEST_CASE(reserve_zero_with_two_vecs_after_a_full_chunk) {
  // libevent 2.1.12 aborts on an assertion here (evbuffer_read_setup_vecs_):
  // the last chunk exactly full, then a reservation of 0 bytes in 2 extents.
  Buf b;
  evbuffer_iovec v[2];
  BOOST_REQUIRE_EQUAL(evbuffer_reserve_space(b, 100, v, 1), 1);
  std::memset(v[0].iov_base, 'a', v[0].iov_len);
  BOOST_REQUIRE_EQUAL(evbuffer_commit_space(b, v, 1), 0);
  BOOST_CHECK_EQUAL(evbuffer_reserve_space(b, 0, v, 2), 0);
}
#endif

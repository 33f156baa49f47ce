// Shared by the fuzz targets: a front-to-back reader of the input (so that
// seed files are easy to write by hand), the evbuffer builder that splits
// content at arbitrary points, and libevent 2.1.12's line ends as a
// reference model on a flat string (checked against real libevent).
#ifndef EVASIO_FUZZ_SUPPORT_HPP_INCLUDED_
#define EVASIO_FUZZ_SUPPORT_HPP_INCLUDED_

#include <event2/buffer.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace fuzz {

// A finding: print it and abort, which libFuzzer reports as a crash (and
// saves the input).
[[noreturn]] inline void fail(const char* what, long a = 0, long b = 0) {
  std::fprintf(stderr, "\n*** FUZZ CHECK FAILED: %s (%ld, %ld)\n", what, a, b);
  std::abort();
}

inline void check(bool ok, const char* what, long a = 0, long b = 0) {
  if (!ok)
    fail(what, a, b);
}

// Reads the input from the front; past its end every read gives 0.
class Reader {
public:
  Reader(const std::uint8_t* data, std::size_t size) : p_(data), end_(data + size) {}
  std::uint8_t byte() { return p_ < end_ ? *p_++ : 0; }
  std::uint16_t u16() {
    const unsigned lo = byte();
    return static_cast<std::uint16_t>(lo | (static_cast<unsigned>(byte()) << 8));
  }
  std::uint32_t u32() {
    const std::uint32_t lo = u16();
    return lo | (static_cast<std::uint32_t>(u16()) << 16);
  }
  // The rest of the input.
  std::string rest() {
    std::string s(reinterpret_cast<const char*>(p_), static_cast<std::size_t>(end_ - p_));
    p_ = end_;
    return s;
  }
  std::size_t left() const { return static_cast<std::size_t>(end_ - p_); }

private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

// ---- evbuffer built from pieces --------------------------------------------

// Content longer than this is cut: longer inputs find nothing new.
constexpr std::size_t kMaxContent = 1 << 16;

// How the builder splits and stores the content, read from the input:
//   byte  junk: a prefix of (junk % 64) bytes added then drained (leaves the
//               first chunk misaligned); bit 6: front half built with
//               evbuffer_prepend, in reverse order
//   byte  n: pieces (n % 32)
//   n x (byte cut, byte method): piece lengths (cut, mod what is left; the
//               last piece takes the rest) and how each is stored: 0 add,
//               1 add_reference, 2 add_buffer of another evbuffer,
//               3 reserve_space + commit_space
struct Plan {
  std::uint8_t junk = 0;
  std::uint8_t n = 0;
  std::uint8_t cut[32] = {};
  std::uint8_t method[32] = {};
  static Plan read(Reader& in) {
    Plan p;
    p.junk = in.byte();
    p.n = static_cast<std::uint8_t>(in.byte() % 32);
    for (int i = 0; i < p.n; ++i) {
      p.cut[i] = in.byte();
      p.method[i] = in.byte();
    }
    return p;
  }
};

inline void add_piece(evbuffer* buf, const char* data, std::size_t n, std::uint8_t method) {
  int rc = 0;
  switch (method % 4) {
  case 0:
    rc = evbuffer_add(buf, data, n);
    break;
  case 1:
    // The caller keeps `data` unchanged until the buffer is freed.
    rc = evbuffer_add_reference(buf, data, n, nullptr, nullptr);
    break;
  case 2: {
    evbuffer* other = evbuffer_new();
    check(other != nullptr, "evbuffer_new");
    rc = evbuffer_add(other, data, n);
    if (rc == 0)
      rc = evbuffer_add_buffer(buf, other);
    check(evbuffer_get_length(other) == 0, "add_buffer left bytes behind");
    evbuffer_free(other);
    break;
  }
  default: {
    if (n == 0)
      break;
    evbuffer_iovec vec[2];
    const int nv = evbuffer_reserve_space(buf, static_cast<ev_ssize_t>(n), vec, 2);
    check(nv >= 1 && nv <= 2, "reserve_space extents", nv);
    std::size_t done = 0;
    for (int i = 0; i < nv; ++i) {
      const std::size_t k = std::min(n - done, vec[i].iov_len);
      std::memcpy(vec[i].iov_base, data + done, k);
      vec[i].iov_len = k;
      done += k;
    }
    check(done == n, "reserve_space too small", static_cast<long>(done), static_cast<long>(n));
    rc = evbuffer_commit_space(buf, vec, nv);
    break;
  }
  }
  check(rc == 0, "adding a piece failed", method % 4, static_cast<long>(n));
}

// A new evbuffer holding exactly `content`, stored as the plan says. Some
// pieces may reference `content` itself: keep it unchanged until the buffer
// is freed.
inline evbuffer* build(const std::string& content, const Plan& plan) {
  evbuffer* buf = evbuffer_new();
  check(buf != nullptr, "evbuffer_new");
  const std::size_t junk = plan.junk % 64;
  if (junk) {
    const std::string j(junk, '#');
    check(evbuffer_add(buf, j.data(), j.size()) == 0, "add junk");
  }
  // Piece boundaries.
  std::size_t bounds[33];
  int nb = 0;
  std::size_t at = 0;
  for (int i = 0; i < plan.n && at < content.size(); ++i) {
    const std::size_t left = content.size() - at;
    at += plan.cut[i] % (left + 1);
    bounds[nb++] = at;
  }
  bounds[nb++] = content.size();
  const bool prepend_front = (plan.junk & 0x40) && nb > 1;
  const int split = prepend_front ? nb / 2 : 0;  // pieces [0, split) are prepended
  std::size_t begin_of[33];
  for (int i = 0; i < nb; ++i)
    begin_of[i] = i == 0 ? 0 : bounds[i - 1];
  if (junk)  // drained now, before anything is prepended
    check(evbuffer_drain(buf, junk) == 0 && evbuffer_get_length(buf) == 0, "drain junk");
  for (int i = split; i < nb; ++i)
    add_piece(buf, content.data() + begin_of[i], bounds[i] - begin_of[i], plan.method[i % 32]);
  for (int i = split - 1; i >= 0; --i) {
    const std::size_t n = bounds[i] - begin_of[i];
    check(evbuffer_prepend(buf, content.data() + begin_of[i], n) == 0, "prepend");
  }
  check(evbuffer_get_length(buf) == content.size(), "built length",
        static_cast<long>(evbuffer_get_length(buf)), static_cast<long>(content.size()));
  return buf;
}

// The whole content of buf, copied out (not drained).
inline std::string contents(evbuffer* buf) {
  std::string s(evbuffer_get_length(buf), '\0');
  const ev_ssize_t n = evbuffer_copyout(buf, s.data(), s.size());
  check(n == static_cast<ev_ssize_t>(s.size()), "copyout", static_cast<long>(n), static_cast<long>(s.size()));
  return s;
}

// ---- the model ------------------------------------------------------------------

// libevent 2.1.12's line ends, on a flat string: the offset where the line
// end found at or after `from` starts (npos if none) and, in *len, its
// length. Checked against libevent 2.1.12 itself on millions of random
// buffers (evbuffer_readln and evbuffer_search_eol, every style).
inline std::size_t ref_find_eol(const std::string& s, std::size_t from, evbuffer_eol_style style,
                                std::size_t* len) {
  std::size_t at = std::string::npos, l = 0;
  if (from <= s.size()) {
    switch (style) {
    case EVBUFFER_EOL_ANY:  // the whole run of CR and LF characters
      at = s.find_first_of("\r\n", from);
      if (at != std::string::npos) {
        std::size_t j = at;
        while (j < s.size() && (s[j] == '\r' || s[j] == '\n'))
          ++j;
        l = j - at;
      }
      break;
    case EVBUFFER_EOL_CRLF:  // an LF, with the CR before it (if at or after from)
      at = s.find('\n', from);
      if (at != std::string::npos) {
        if (at > from && s[at - 1] == '\r') {
          --at;
          l = 2;
        } else {
          l = 1;
        }
      }
      break;
    case EVBUFFER_EOL_CRLF_STRICT:
      at = s.find("\r\n", from);
      l = 2;
      break;
    case EVBUFFER_EOL_LF:
      at = s.find('\n', from);
      l = 1;
      break;
    case EVBUFFER_EOL_NUL:
      at = s.find('\0', from);
      l = 1;
      break;
    }
  }
  *len = at == std::string::npos ? 0 : l;
  return at;
}

constexpr evbuffer_eol_style kStyles[] = {EVBUFFER_EOL_ANY, EVBUFFER_EOL_CRLF, EVBUFFER_EOL_CRLF_STRICT,
                                          EVBUFFER_EOL_LF, EVBUFFER_EOL_NUL};

} // namespace fuzz

#endif

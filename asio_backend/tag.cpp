// event tagging (event2/tag.h): libevent's wire format over the public
// evbuffer API. Reads look at the buffer's first bytes with a copy into a
// small array (a header is at most 14 bytes), so nothing is pulled up.
// What a failed read has consumed is what libevent's consumes, so that a
// program's recovery (usually: drop the connection) sees the same buffer.
#include "detail/c_boundary.hpp"

#include <event2/buffer.h>
#include <event2/tag.h>
#include <event2/tag_compat.h>

#include <cstdlib>
#include <cstring>
#include <limits>

namespace {

// The longest header: a 5-byte tag, then a 9-byte 64-bit integer.
constexpr size_t window = 16;

struct head {
  unsigned char b[window];
  size_t n;
};

head peek(struct evbuffer* buf) {
  head h;
  const ev_ssize_t r = evbuffer_copyout(buf, h.b, window);
  h.n = r > 0 ? static_cast<size_t>(r) : 0;
  return h;
}

// An integer in nibbles: the first nibble is the count of nibbles that
// follow minus one (zero takes one), then the number's nibbles from the
// least significant, each byte's high nibble first. Returns the bytes used.
template <class T>
size_t encode_number(unsigned char* out, T n) {
  std::memset(out, 0, sizeof(T) + 1);
  size_t pos = 1;
  for (; n; n >>= 4, ++pos) {
    const unsigned nib = static_cast<unsigned>(n & 0x0f);
    out[pos / 2] |= static_cast<unsigned char>((pos & 1) ? nib : nib << 4);
  }
  const size_t extra = pos > 2 ? pos - 2 : 0;
  out[0] |= static_cast<unsigned char>(extra << 4);
  return (pos + 1) / 2;
}

// The integer at p[0..n): its encoded size, or -1 (too short, or more
// nibbles than T holds). *out is written only on success.
template <class T>
int decode_number(const unsigned char* p, size_t n, T* out) {
  if (n == 0)
    return -1;
  const size_t nibbles = (p[0] >> 4) + 1u;
  const size_t size = nibbles / 2 + 1;
  if (nibbles > 2 * sizeof(T) || size > n)
    return -1;
  T v = 0;
  for (size_t pos = nibbles; pos > 0; --pos)
    v = static_cast<T>((v << 4) | ((pos & 1) ? (p[pos / 2] & 0x0f) : (p[pos / 2] >> 4)));
  *out = v;
  return static_cast<int>(size);
}

// A tag: 7-bit groups from the least significant, the high bit saying that
// another follows; it must fit in 32 bits. Its size, or -1.
int decode_tag(const unsigned char* p, size_t n, ev_uint32_t* tag) {
  ev_uint32_t v = 0;
  unsigned shift = 0;
  for (size_t i = 0; i < n; ++i, shift += 7) {
    const unsigned bits = p[i] & 0x7fu;
    if (shift > 28 || (shift == 28 && bits > 15))
      return -1;
    v |= static_cast<ev_uint32_t>(bits) << shift;
    if (!(p[i] & 0x80)) {
      if (tag)
        *tag = v;
      return static_cast<int>(i + 1);
    }
  }
  return -1;
}

template <class T>
int take_number(struct evbuffer* buf, T* out) {
  if (!buf || !out)
    return -1;
  const head h = peek(buf);
  const int used = decode_number(h.b, h.n, out);
  if (used < 0)
    return -1;
  evbuffer_drain(buf, static_cast<size_t>(used));
  return 0;
}

int take_tag(struct evbuffer* buf, ev_uint32_t* tag) {
  if (!buf)
    return -1;
  const head h = peek(buf);
  const int used = decode_tag(h.b, h.n, tag);
  if (used > 0)
    evbuffer_drain(buf, static_cast<size_t>(used));
  return used;
}

// A record's tag and payload length, from one look at the buffer. As
// libevent, a tag that decodes is taken even when the length then fails, or
// (need_tag given) is not the tag wanted. 0, or -1.
int take_header(struct evbuffer* buf, ev_uint32_t* tag, ev_uint32_t* len,
                const ev_uint32_t* need_tag = nullptr) {
  if (!buf)
    return -1;
  const head h = peek(buf);
  ev_uint32_t t;
  const int tag_size = decode_tag(h.b, h.n, &t);
  if (tag_size < 0)
    return -1;
  if (tag)
    *tag = t;
  const size_t after = static_cast<size_t>(tag_size);
  const int len_size = need_tag && t != *need_tag ? -1 : decode_number(h.b + after, h.n - after, len);
  evbuffer_drain(buf, after + static_cast<size_t>(len_size < 0 ? 0 : len_size));
  return len_size < 0 ? -1 : 0;
}

template <class T>
void marshal_number(struct evbuffer* buf, ev_uint32_t tag, T n) {
  unsigned char data[sizeof(T) + 1];
  const size_t len = encode_number(data, n);
  evtag_marshal(buf, tag, data, static_cast<ev_uint32_t>(len));
}

// A record holding one integer: tag, length, then the integer, which
// must not be longer than the length says.
template <class T>
int unmarshal_number(struct evbuffer* buf, ev_uint32_t need_tag, T* out) {
  ev_uint32_t len;
  if (!out || take_header(buf, nullptr, &len, &need_tag) < 0)
    return -1;
  if (evbuffer_get_length(buf) < len)
    return -1;
  const head h = peek(buf);
  const int used = decode_number(h.b, h.n, out);
  evbuffer_drain(buf, len);
  return used < 0 || static_cast<ev_uint32_t>(used) > len ? -1 : used;
}

} // namespace

extern "C" {

// Exported as libevent exports them (its own tests and generated RPC code
// use them), though tag.h does not declare them.
EVENT2_EXPORT_SYMBOL int evtag_decode_int(ev_uint32_t* pnumber, struct evbuffer* evbuf);
EVENT2_EXPORT_SYMBOL int evtag_decode_int64(ev_uint64_t* pnumber, struct evbuffer* evbuf);
EVENT2_EXPORT_SYMBOL int evtag_encode_tag(struct evbuffer* evbuf, ev_uint32_t tag);
EVENT2_EXPORT_SYMBOL int evtag_decode_tag(ev_uint32_t* ptag, struct evbuffer* evbuf);

void evtag_init(void) {}

int evtag_encode_tag(struct evbuffer* evbuf, ev_uint32_t tag) {
  unsigned char data[5];
  int n = 0;
  do {
    data[n] = static_cast<unsigned char>(tag & 0x7f);
    tag >>= 7;
    if (tag)
      data[n] |= 0x80;
    ++n;
  } while (tag);
  if (evbuf)
    evbuffer_add(evbuf, data, static_cast<size_t>(n));
  return n;
}

int evtag_decode_tag(ev_uint32_t* ptag, struct evbuffer* evbuf) { return take_tag(evbuf, ptag); }

int evtag_decode_int(ev_uint32_t* pnumber, struct evbuffer* evbuf) { return take_number(evbuf, pnumber); }

int evtag_decode_int64(ev_uint64_t* pnumber, struct evbuffer* evbuf) {
  return take_number(evbuf, pnumber);
}

void evtag_encode_int(struct evbuffer* evbuf, ev_uint32_t number) {
  unsigned char data[5];
  if (evbuf)
    evbuffer_add(evbuf, data, encode_number(data, number));
}

void evtag_encode_int64(struct evbuffer* evbuf, ev_uint64_t number) {
  unsigned char data[9];
  if (evbuf)
    evbuffer_add(evbuf, data, encode_number(data, number));
}

void evtag_marshal(struct evbuffer* evbuf, ev_uint32_t tag, const void* data, ev_uint32_t len) {
  if (!evbuf || (!data && len))
    return;
  evtag_encode_tag(evbuf, tag);
  evtag_encode_int(evbuf, len);
  evbuffer_add(evbuf, data, len);
}

void evtag_marshal_buffer(struct evbuffer* evbuf, ev_uint32_t tag, struct evbuffer* data) {
  if (!evbuf || !data)
    return;
  evtag_encode_tag(evbuf, tag);
  evtag_encode_int(evbuf, static_cast<ev_uint32_t>(evbuffer_get_length(data)));
  evbuffer_add_buffer(evbuf, data);
}

void evtag_marshal_int(struct evbuffer* evbuf, ev_uint32_t tag, ev_uint32_t integer) {
  marshal_number(evbuf, tag, integer);
}

void evtag_marshal_int64(struct evbuffer* evbuf, ev_uint32_t tag, ev_uint64_t integer) {
  marshal_number(evbuf, tag, integer);
}

void evtag_marshal_string(struct evbuffer* buf, ev_uint32_t tag, const char* string) {
  if (string)
    evtag_marshal(buf, tag, string, static_cast<ev_uint32_t>(std::strlen(string)));
}

// Seconds and microseconds, each as a 32-bit integer (libevent's format).
void evtag_marshal_timeval(struct evbuffer* evbuf, ev_uint32_t tag, struct timeval* tv) {
  if (!tv)
    return;
  unsigned char data[10];
  size_t len = encode_number(data, static_cast<ev_uint32_t>(tv->tv_sec));
  len += encode_number(data + len, static_cast<ev_uint32_t>(tv->tv_usec));
  evtag_marshal(evbuf, tag, data, static_cast<ev_uint32_t>(len));
}

// The tag and the length go even when the payload is not all there yet.
int evtag_unmarshal_header(struct evbuffer* evbuf, ev_uint32_t* ptag) {
  ev_uint32_t len;
  if (take_header(evbuf, ptag, &len) < 0)
    return -1;
  if (evbuffer_get_length(evbuf) < len || len > static_cast<ev_uint32_t>(std::numeric_limits<int>::max()))
    return -1;
  return static_cast<int>(len);
}

int evtag_peek(struct evbuffer* evbuf, ev_uint32_t* ptag) {
  if (!evbuf)
    return -1;
  const head h = peek(evbuf);
  return decode_tag(h.b, h.n, ptag);
}

namespace {
// The next record's tag size and payload length, left in the buffer.
int peek_header(struct evbuffer* evbuf, int* tag_size, ev_uint32_t* len) {
  if (!evbuf || !len)
    return -1;
  const head h = peek(evbuf);
  *tag_size = decode_tag(h.b, h.n, nullptr);
  if (*tag_size < 0)
    return -1;
  return decode_number(h.b + *tag_size, h.n - static_cast<size_t>(*tag_size), len);
}
} // namespace

int evtag_peek_length(struct evbuffer* evbuf, ev_uint32_t* plength) {
  int tag_size;
  const int len_size = peek_header(evbuf, &tag_size, plength);
  if (len_size < 0)
    return -1;
  *plength += static_cast<ev_uint32_t>(tag_size + len_size);
  return 0;
}

int evtag_payload_length(struct evbuffer* evbuf, ev_uint32_t* plength) {
  int tag_size;
  return peek_header(evbuf, &tag_size, plength) < 0 ? -1 : 0;
}

int evtag_consume(struct evbuffer* evbuf) {
  const int len = evtag_unmarshal_header(evbuf, nullptr);
  if (len < 0)
    return -1;
  evbuffer_drain(evbuf, static_cast<size_t>(len));
  return 0;
}

int evtag_unmarshal(struct evbuffer* src, ev_uint32_t* ptag, struct evbuffer* dst) {
  if (!dst)
    return -1;
  const int len = evtag_unmarshal_header(src, ptag);
  if (len < 0 || evbuffer_remove_buffer(src, dst, static_cast<size_t>(len)) != len)
    return -1;
  return len;
}

int evtag_unmarshal_int(struct evbuffer* evbuf, ev_uint32_t need_tag, ev_uint32_t* pinteger) {
  return unmarshal_number(evbuf, need_tag, pinteger);
}

int evtag_unmarshal_int64(struct evbuffer* evbuf, ev_uint32_t need_tag, ev_uint64_t* pinteger) {
  return unmarshal_number(evbuf, need_tag, pinteger);
}

int evtag_unmarshal_fixed(struct evbuffer* src, ev_uint32_t need_tag, void* data, size_t len) {
  ev_uint32_t tag;
  const int got = evtag_unmarshal_header(src, &tag);
  if (got < 0 || tag != need_tag || static_cast<size_t>(got) != len || (!data && len))
    return -1;
  evbuffer_remove(src, data, len);
  return 0;
}

int evtag_unmarshal_string(struct evbuffer* evbuf, ev_uint32_t need_tag, char** pstring) {
  ev_uint32_t tag;
  if (!pstring)
    return -1;
  const int len = evtag_unmarshal_header(evbuf, &tag);
  if (len < 0 || tag != need_tag)
    return -1;
  char* s = static_cast<char*>(std::malloc(static_cast<size_t>(len) + 1));
  if (!s)
    return evasio::detail::fail(-1, ENOMEM);
  evbuffer_remove(evbuf, s, static_cast<size_t>(len));
  s[len] = '\0';
  *pstring = s;
  return 0;
}

// The whole record goes, whatever is wrong with it.
int evtag_unmarshal_timeval(struct evbuffer* evbuf, ev_uint32_t need_tag, struct timeval* ptv) {
  ev_uint32_t tag;
  const int len = evtag_unmarshal_header(evbuf, &tag);
  if (len < 0)
    return -1;
  int rc = -1;
  if (tag == need_tag && ptv) {
    const head h = peek(evbuf);
    ev_uint32_t sec, usec;
    const int a = decode_number(h.b, h.n, &sec);
    const int b = a < 0 ? -1 : decode_number(h.b + a, h.n - static_cast<size_t>(a), &usec);
    if (b >= 0) {
      ptv->tv_sec = sec;
      ptv->tv_usec = usec;
      rc = a + b > len ? -1 : 0;
    } else if (a >= 0) {
      ptv->tv_sec = sec;
    }
  }
  evbuffer_drain(evbuf, static_cast<size_t>(len));
  return rc;
}

} // extern "C"

// evbuffer positions and searches: evbuffer_ptr_set, evbuffer_search,
// _search_range, _search_eol, evbuffer_readln (every EVBUFFER_EOL_* style)
// and evbuffer_peek, over the chain of chunks walked by offset.
#include "detail/c_boundary.hpp"
#include "detail/evbuffer.hpp"
#include "detail/global.hpp"

#include <event2/buffer.h>

#include <sys/uio.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

using namespace evasio::detail;
using chunk = evbuffer::chunk;

evbuffer::cursor evbuffer::locate(size_t pos) const noexcept {
  chunk* c = first_;
  while (c && c->off && pos >= c->off) {
    pos -= c->off;
    c = c->next;
  }
  if (c && c->off == 0)
    c = nullptr;
  return {c, c ? pos : 0};
}

unsigned char evbuffer::byte_at(size_t pos) const noexcept {
  const cursor at = locate(pos);
  return at.c ? at.c->begin()[at.in] : 0;
}

namespace {
// Whether the bytes from (c, in) on start with what[0..len); the buffer
// holds at least len bytes from there.
bool matches_at(const chunk* c, size_t in, const unsigned char* what, size_t len) noexcept {
  while (len) {
    if (!c || c->off == 0)
      return false;
    const size_t k = std::min(len, c->off - in);
    if (std::memcmp(c->begin() + in, what, k) != 0)
      return false;
    what += k;
    len -= k;
    c = c->next;
    in = 0;
  }
  return true;
}
} // namespace

ssize_t evbuffer::find(const void* what, size_t len, size_t from, size_t limit) const noexcept {
  limit = std::min<size_t>(limit, total_);
  if (len == 0 || len > limit || from > limit - len)
    return -1;
  auto* w = static_cast<const unsigned char*>(what);
  const size_t last_start = limit - len;
  cursor at = locate(from);
  chunk* c = at.c;
  size_t in = at.in;
  size_t pos = from;
  while (c && c->off && pos <= last_start) {
    const size_t avail = std::min(c->off - in, last_start - pos + 1);
    const unsigned char* base = c->begin() + in;
    auto* hit = static_cast<const unsigned char*>(std::memchr(base, w[0], avail));
    if (!hit) {
      pos += avail;
      c = c->next;
      in = 0;
      continue;
    }
    const size_t k = static_cast<size_t>(hit - base);
    pos += k;
    in += k;
    if (matches_at(c, in, w, len))
      return static_cast<ssize_t>(pos);
    ++pos;
    if (++in == c->off) {
      c = c->next;
      in = 0;
    }
  }
  return -1;
}

ssize_t evbuffer::find_any(const char* set, size_t n, size_t from) const noexcept {
  cursor at = locate(from);
  size_t pos = from;
  size_t in = at.in;
  for (chunk* c = at.c; c && c->off; c = c->next, in = 0) {
    const unsigned char* base = c->begin() + in;
    size_t avail = c->off - in;
    const unsigned char* best = nullptr;
    // Each later character is looked for only before the best hit so far,
    // so a call costs the distance to its answer.
    for (size_t i = 0; i < n; ++i) {
      auto* hit = static_cast<const unsigned char*>(std::memchr(base, static_cast<unsigned char>(set[i]), avail));
      if (hit) {
        best = hit;
        avail = static_cast<size_t>(hit - base);
      }
    }
    if (best)
      return static_cast<ssize_t>(pos + static_cast<size_t>(best - base));
    pos += c->off - in;
  }
  return -1;
}

size_t evbuffer::span(const char* set, size_t n, size_t from) const noexcept {
  cursor at = locate(from);
  size_t count = 0;
  size_t in = at.in;
  for (chunk* c = at.c; c && c->off; c = c->next, in = 0) {
    for (; in < c->off; ++in, ++count)
      if (!std::memchr(set, c->begin()[in], n))
        return count;
  }
  return count;
}

int evbuffer::peek(ssize_t len, const size_t* start, struct iovec* vec, int n_vec) const noexcept {
  int idx = 0;
  size_t so_far = 0;
  chunk* c = first_;
  if (start) {
    if (*start >= total_)
      return 0;
    const cursor at = locate(*start);
    so_far = at.c->off - at.in;
    if (n_vec > 0)
      vec[0] = {at.c->begin() + at.in, so_far};
    idx = 1;
    c = at.c->next;
  }
  if (n_vec == 0 && len < 0)
    len = static_cast<ssize_t>(total_ - (start ? *start : 0));
  for (; c && c->off; c = c->next) {
    if (len >= 0 && so_far >= static_cast<size_t>(len))
      break;
    if (idx < n_vec)
      vec[idx] = {c->begin(), c->off};
    else if (len < 0)
      break;
    ++idx;
    so_far += c->off;
  }
  return idx;
}

// ---- C boundary -----------------------------------------------------------


namespace {

evbuffer_ptr not_found() noexcept {
  evbuffer_ptr p;
  p.pos = -1;
  p.internal_.chain = nullptr;
  p.internal_.pos_in_chain = 0;
  return p;
}

evbuffer_ptr make_ptr(const evbuffer& buf, size_t pos) noexcept {
  evbuffer_ptr p;
  const evbuffer::cursor at = buf.locate(pos);
  p.pos = static_cast<ev_ssize_t>(pos);
  p.internal_.chain = at.c;
  p.internal_.pos_in_chain = at.in;
  return p;
}

// The offset a caller's start position names: 0 for NULL, -1 if invalid.
ssize_t start_of(const evbuffer& buf, const evbuffer_ptr* start) noexcept {
  if (!start)
    return 0;
  if (start->pos < 0 || static_cast<size_t>(start->pos) > buf.length())
    return -1;
  return start->pos;
}

// The first line end of the given style at or after from.
ssize_t find_eol(const evbuffer& buf, size_t from, evbuffer_eol_style style, size_t* eol_len) noexcept {
  const size_t total = buf.length();
  ssize_t at = -1;
  size_t len = 0;
  switch (style) {
  case EVBUFFER_EOL_ANY:
    // The whole run of CR and LF characters.
    at = buf.find_any("\r\n", 2, from);
    if (at >= 0)
      len = buf.span("\r\n", 2, static_cast<size_t>(at));
    break;
  case EVBUFFER_EOL_CRLF:
    // An LF, or a CR right before one; a lone CR is part of the line.
    for (size_t p = from;;) {
      at = buf.find_any("\n\r", 2, p);
      if (at < 0)
        break;
      const size_t i = static_cast<size_t>(at);
      if (buf.byte_at(i) == '\n') {
        len = 1;
        break;
      }
      if (i + 1 < total && buf.byte_at(i + 1) == '\n') {
        len = 2;
        break;
      }
      p = i + 1;
      at = -1;
    }
    break;
  case EVBUFFER_EOL_CRLF_STRICT:
    at = buf.find("\r\n", 2, from, total);
    len = 2;
    break;
  case EVBUFFER_EOL_LF:
    at = buf.find_any("\n", 1, from);
    len = 1;
    break;
  case EVBUFFER_EOL_NUL:
    at = buf.find_any("", 1, from);
    len = 1;
    break;
  default:
    break;
  }
  *eol_len = at >= 0 ? len : 0;
  return at;
}

} // namespace

extern "C" {

char* evbuffer_readln(struct evbuffer* buffer, size_t* n_read_out, enum evbuffer_eol_style eol_style) {
  buffer_guard g(buffer);
  if (n_read_out)
    *n_read_out = 0;
  if (!buffer)
    return fail<char*>(nullptr, EINVAL);
  if (buffer->frozen_front || !buffer->map_files())
    return nullptr;
  size_t eol_len = 0;
  const ssize_t at = find_eol(*buffer, 0, eol_style, &eol_len);
  if (at < 0)
    return nullptr;
  const size_t n = static_cast<size_t>(at);
  auto* line = static_cast<char*>(mm_malloc(n + 1));  // the program's allocator
  if (!line)
    return fail<char*>(nullptr, ENOMEM);
  buffer->copyout(line, n);
  line[n] = '\0';
  buffer->drain(n + eol_len);
  if (n_read_out)
    *n_read_out = n;
  return line;
}
int evbuffer_ptr_set(struct evbuffer* buffer, struct evbuffer_ptr* ptr, size_t position,
                     enum evbuffer_ptr_how how) {
  buffer_guard g(buffer);
  if (!buffer || !ptr)
    return fail(-1, EINVAL);
  size_t pos;
  switch (how) {
  case EVBUFFER_PTR_SET:
    pos = position;
    break;
  case EVBUFFER_PTR_ADD:
    if (ptr->pos < 0 || position > SIZE_MAX - static_cast<size_t>(ptr->pos))
      return -1;
    pos = static_cast<size_t>(ptr->pos) + position;
    break;
  default:
    return fail(-1, EINVAL);
  }
  if (pos > buffer->length()) {
    *ptr = not_found();
    return -1;
  }
  *ptr = make_ptr(*buffer, pos);
  return 0;
}

struct evbuffer_ptr evbuffer_search_range(struct evbuffer* buffer, const char* what, size_t len,
                                          const struct evbuffer_ptr* start,
                                          const struct evbuffer_ptr* end) {
  buffer_guard g(buffer);
  if (!buffer || (!what && len))
    return fail(not_found(), EINVAL);
  if (!buffer->map_files())
    return not_found();
  const ssize_t from = start_of(*buffer, start);
  if (from < 0)
    return not_found();
  if (len == 0)
    return make_ptr(*buffer, static_cast<size_t>(from));  // as libevent: found where it starts
  size_t limit = buffer->length();
  if (end) {
    if (end->pos < 0)
      return not_found();
    limit = std::min(limit, static_cast<size_t>(end->pos));
  }
  const ssize_t at = buffer->find(what, len, static_cast<size_t>(from), limit);
  return at < 0 ? not_found() : make_ptr(*buffer, static_cast<size_t>(at));
}

struct evbuffer_ptr evbuffer_search(struct evbuffer* buffer, const char* what, size_t len,
                                    const struct evbuffer_ptr* start) {
  return evbuffer_search_range(buffer, what, len, start, nullptr);
}

struct evbuffer_ptr evbuffer_search_eol(struct evbuffer* buffer, struct evbuffer_ptr* start,
                                        size_t* eol_len_out, enum evbuffer_eol_style eol_style) {
  buffer_guard g(buffer);
  size_t eol_len = 0;
  evbuffer_ptr result = not_found();
  if (!buffer) {
    errno = EINVAL;
  } else if (!buffer->map_files()) {
  } else if (const ssize_t from = start_of(*buffer, start); from >= 0) {
    const ssize_t at = find_eol(*buffer, static_cast<size_t>(from), eol_style, &eol_len);
    if (at >= 0)
      result = make_ptr(*buffer, static_cast<size_t>(at));
  }
  if (eol_len_out)
    *eol_len_out = eol_len;
  return result;
}

int evbuffer_peek(struct evbuffer* buffer, ev_ssize_t len, struct evbuffer_ptr* start_at,
                  struct evbuffer_iovec* vec_out, int n_vec) {
  buffer_guard g(buffer);
  if (!buffer || (!vec_out && n_vec > 0))
    return fail(-1, EINVAL);
  if (n_vec < 0)
    n_vec = 0;
  if (!buffer->map_files())
    return -1;
  if (start_at) {
    if (start_at->pos < 0)
      return 0;
    const size_t from = static_cast<size_t>(start_at->pos);
    return buffer->peek(len, &from, vec_out, n_vec);
  }
  return buffer->peek(len, nullptr, vec_out, n_vec);
}

} // extern "C"

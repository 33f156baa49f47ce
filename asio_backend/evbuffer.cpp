// evbuffer: libevent's byte queue as a chain of chunks: the chain, adds,
// drains, moves, fd I/O, reserve/commit and freezing. Positions and searches
// are in evbuffer_search.cpp, callbacks in evbuffer_cb.cpp, files in
// evbuffer_file.cpp, the rest of buffer.h in evbuffer_more.cpp.
#include "detail/evbuffer.hpp"
#include "detail/global.hpp"
#include "detail/c_boundary.hpp"
#include "detail/lock.hpp"

#include <event2/buffer.h>

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>
#include <utility>

using namespace evasio::detail;
using chunk = evbuffer::chunk;

namespace {

// Most chunks are of one size; a small per-thread cache of them makes
// steady-state reading and echoing allocation-free.
constexpr size_t standard_alloc = 16384;
constexpr size_t standard_cap = standard_alloc - sizeof(chunk);
constexpr int cache_limit = 32;
// Appending to a chunk whose free room is at its front moves its data back
// to the start when that is cheap (little data, in a mostly empty chunk).
constexpr size_t realign_max = 2048;

struct chunk_cache {
  chunk* head = nullptr;
  int count = 0;
  bool gone = false;  // this thread's cache was destroyed: free directly
  ~chunk_cache() {
    gone = true;
    while (head) {
      chunk* c = head;
      head = c->next;
      std::free(c);
    }
    count = 0;
  }
};
thread_local chunk_cache cache;

void init_chunk(chunk* c, unsigned char* buf, size_t cap) noexcept {
  c->next = nullptr;
  c->buf = buf;
  c->cap = cap;
  c->misalign = 0;
  c->off = 0;
  c->cleanup = nullptr;
  c->cleanup_arg = nullptr;
  c->reference = false;
  c->seg = nullptr;
  c->seg_off = 0;
  c->owner = nullptr;
  c->holders = 1;
}

// An owned chunk with room for at least want bytes.
chunk* new_chunk(size_t want) {
  const size_t cap = std::max(want, standard_cap);
  if (cap > SIZE_MAX / 2 - sizeof(chunk))
    throw std::bad_alloc();
  chunk* c;
  if (cap == standard_cap && cache.head) {
    c = cache.head;
    cache.head = c->next;
    --cache.count;
  } else {
    c = static_cast<chunk*>(std::malloc(sizeof(chunk) + cap));
    if (!c)
      throw std::bad_alloc();
  }
  init_chunk(c, reinterpret_cast<unsigned char*>(c + 1), cap);
  return c;
}

// Frees an owned chunk (to the cache if it is a standard one).
void free_chunk(chunk* c) noexcept {
  if (!c->reference && c->cap == standard_cap && !cache.gone && cache.count < cache_limit) {
    c->next = cache.head;
    cache.head = c;
    ++cache.count;
  } else {
    std::free(c);
  }
}

// Lets go of one holder of c; the last one frees it, with what it holds:
// the chunk a view shows, a file segment, a reference's cleanup. A chunk
// only this buffer holds (the usual case) costs one load.
void drop_chunk(chunk* c) noexcept {
  if (__atomic_load_n(&c->holders, __ATOMIC_ACQUIRE) != 1 &&
      __atomic_sub_fetch(&c->holders, 1, __ATOMIC_ACQ_REL) != 0)
    return;
  if (c->owner)
    drop_chunk(c->owner);
  else if (c->seg)
    segment_unref(c->seg);
  else if (c->reference && c->cleanup)
    c->cleanup(c->buf, c->cap, c->cleanup_arg);
  free_chunk(c);
}

// Frees a detached list of chunks, calling the cleanup of each reference.
// Called once the buffer is consistent again, so a cleanup may use it.
void release(chunk* list) noexcept {
  while (list) {
    chunk* c = list;
    list = c->next;
    drop_chunk(c);
  }
}

// A detached list that keeps its order.
struct chunk_list {
  chunk* head = nullptr;
  chunk** tail = &head;
  void push(chunk* c) noexcept {
    c->next = nullptr;
    *tail = c;
    tail = &c->next;
  }
};

} // namespace

evbuffer::~evbuffer() {
  if (deferred_)
    deferred_->owner = nullptr;  // a posted run finds it gone
  free_cbs();
  chunk* list = first_;
  first_ = last_ = last_data_ = nullptr;
  total_ = 0;
  release(list);
  release_zero_refs();
}

void evbuffer::release_zero_refs() noexcept {
  chunk* list = zero_refs_;
  zero_refs_ = nullptr;
  release(list);
}

void evbuffer::push_back(chunk* c) noexcept {
  c->next = nullptr;
  if (last_)
    last_->next = c;
  else
    first_ = c;
  last_ = c;
}

// Unlinks c, whose predecessor is prev (nullptr: c is first_).
void evbuffer::unlink_after(chunk* prev, chunk* c) noexcept {
  (prev ? prev->next : first_) = c->next;
  if (last_ == c)
    last_ = prev;
  c->next = nullptr;
}

void evbuffer::added(size_t len) noexcept {
  total_ += len;
  if (len && on_add)
    on_add(on_add_arg);
  changed(len, 0);
}

void evbuffer::maybe_realign(chunk* c, size_t want) noexcept {
  if (c->reference || c->misalign == 0 || c->space() >= want)
    return;
  if (c->cap - c->off < want || c->off > realign_max || c->off >= c->cap / 2)
    return;
  std::memmove(c->buf, c->begin(), c->off);
  c->misalign = 0;
}

// Makes sure len bytes fit at the tail: in the last data chunk's room (if
// count_last_data) and the empty chunks after it, adding one if needed.
void evbuffer::prepare_tail(size_t len, bool count_last_data) {
  size_t room = 0;
  if (count_last_data && last_data_ && !last_data_->reference) {
    maybe_realign(last_data_, len);
    room = last_data_->space();
  }
  for (chunk* e = trailing(); e && room < len; e = e->next) {
    e->misalign = 0;
    room += e->cap;
  }
  if (room < len)
    push_back(new_chunk(len - room));
}

// Copies p[0..len) to the tail; prepare_tail() made the room.
void evbuffer::write_tail(const unsigned char* p, size_t len) noexcept {
  chunk* c = last_data_;
  if (c && c->space()) {
    const size_t n = std::min(len, c->space());
    std::memcpy(c->end(), p, n);
    c->off += n;
    p += n;
    len -= n;
  }
  while (len) {
    c = c ? c->next : first_;
    c->misalign = 0;
    const size_t n = std::min(len, c->cap);
    std::memcpy(c->buf, p, n);
    c->off = n;
    last_data_ = c;
    p += n;
    len -= n;
  }
}

// A chunk at the tail with len contiguous free bytes: the last data chunk
// or the empty chunk right after it (replaced by a bigger one if needed).
chunk* evbuffer::contiguous_tail(size_t len) {
  chunk* t = last_data_;
  if (t && !t->reference) {
    maybe_realign(t, len);
    if (t->space() >= len)
      return t;
  }
  chunk* e = trailing();
  if (e && e->cap >= len) {
    e->misalign = 0;
    return e;
  }
  chunk* c = new_chunk(len);
  if (e) {
    c->next = e->next;
    (last_data_ ? last_data_->next : first_) = c;
    if (last_ == e)
      last_ = c;
    free_chunk(e);
  } else {
    push_back(c);
  }
  return c;
}

void evbuffer::add(const void* data, size_t len) {
  if (len == 0)
    return;
  prepare_tail(len, true);
  write_tail(static_cast<const unsigned char*>(data), len);
  added(len);
}

void evbuffer::append(evbuffer& from) noexcept {
  if (&from == this || from.total_ == 0)
    return;
  // Splice the chunks holding data; from keeps its empty ones, and ours stay
  // after the spliced data.
  chunk* head = from.first_;
  chunk* tail = from.last_data_;
  from.first_ = tail->next;
  if (!from.first_)
    from.last_ = nullptr;
  from.last_data_ = nullptr;
  chunk* after = trailing();
  (last_data_ ? last_data_->next : first_) = head;
  tail->next = after;
  if (!after)
    last_ = tail;
  last_data_ = tail;
  const size_t n = from.total_;
  from.total_ = 0;
  unmapped_ = unmapped_ || from.unmapped_;
  total_ += n;
  if (on_add)
    on_add(on_add_arg);
  from.removed(n);  // as libevent: the source's callbacks first
  changed(n, 0);
}

size_t evbuffer::copyout(void* out, size_t len) const noexcept {
  auto* p = static_cast<unsigned char*>(out);
  size_t done = 0;
  for (chunk* c = first_; c && done < len; c = c->next) {
    const size_t n = std::min(len - done, c->off);
    if (n)
      std::memcpy(p + done, c->begin(), n);
    done += n;
  }
  return done;
}

void evbuffer::drain(size_t len) noexcept {
  len = std::min<size_t>(len, total_);
  const size_t drained = len;
  const bool emptied = len && len == total_;
  total_ -= len;
  chunk_list dead;
  while (len) {
    chunk* c = first_;
    if (len < c->off) {
      c->misalign += len;
      c->off -= len;
      break;
    }
    len -= c->off;
    if (c == last_data_)
      last_data_ = nullptr;
    unlink_after(nullptr, c);
    dead.push(c);
  }
  // Empty now: its spare chunks go back to the per-thread cache, so that a
  // buffer at rest (an idle connection's) holds no memory.
  while (emptied && first_) {
    chunk* c = first_;
    unlink_after(nullptr, c);
    dead.push(c);
  }
  release(dead.head);
  release_zero_refs();
  removed(drained);
}

ssize_t evbuffer::read_from(int fd, size_t max, bool socket) {
  // The tail's free space, the empty chunks after it, then fresh chunks
  // (from the per-thread cache) up to max, all in one call. Fresh chunks
  // that get no data go back at once: an idle buffer holds none.
  constexpr int max_iov = 8;
  struct iovec iov[max_iov];
  chunk* target[max_iov];
  int n = 0;
  size_t room = 0;
  auto offer = [&](chunk* c, unsigned char* p, size_t len) {
    len = std::min(len, max - room);
    iov[n] = {p, len};
    target[n++] = c;
    room += len;
  };
  if (chunk* t = last_data_; t && t->space() > 0)
    offer(t, t->end(), t->space());
  for (chunk* e = trailing(); e && room < max && n < max_iov; e = e->next) {
    e->misalign = 0;
    offer(e, e->buf, e->cap);
  }
  const int n_old = n;
  while (room < max && n < max_iov) {
    chunk* c;
    try {
      c = new_chunk(std::min(max - room, standard_cap));
    } catch (const std::bad_alloc&) {
      if (n == 0)
        throw;
      break;  // read into what there is
    }
    offer(c, c->buf, c->cap);
  }
  ssize_t r;
  if (socket) {
    struct msghdr msg {};
    msg.msg_iov = iov;
    msg.msg_iovlen = n;
    r = ::recvmsg(fd, &msg, MSG_DONTWAIT);
  } else {
    r = ::readv(fd, iov, n);
  }
  last_read_short_ = r >= 0 && static_cast<size_t>(r) < room;
  size_t got = r > 0 ? static_cast<size_t>(r) : 0;
  total_ += got;
  for (int i = 0; i < n; ++i) {
    const size_t k = std::min(got, iov[i].iov_len);
    got -= k;
    if (i >= n_old) {
      if (k == 0) {
        free_chunk(target[i]);
        continue;
      }
      push_back(target[i]);
    }
    if (k) {
      target[i]->off += k;
      last_data_ = target[i];
    }
  }
  if (r > 0)
    changed(static_cast<size_t>(r), 0);
  return r;
}

ssize_t evbuffer::write_to(int fd, size_t max, bool socket) noexcept {
  // A file at the front goes out with sendfile; writev stops before one.
  if (first_ && first_->seg && first_->seg->can_sendfile) {
    const ssize_t r = send_file(fd, max, socket);
    if (r >= 0 || (errno != EINVAL && errno != ENOSYS))
      return r;
    // The fd takes no sendfile (a file opened O_APPEND, say): write a copy.
    if (!map_files())
      return -1;
    return write_iov(fd, max, socket, false);
  }
  return write_iov(fd, max, socket, true);
}

ssize_t evbuffer::write_iov(int fd, size_t max, bool socket, bool stop_at_file) noexcept {
  constexpr int max_iov = 64;
  struct iovec iov[max_iov];
  int n = 0;
  size_t want = 0;
  for (chunk* c = first_; c && c->off && n < max_iov && want < max; c = c->next) {
    if (c->seg && (stop_at_file ? c->seg->can_sendfile : !c->buf))
      break;
    const size_t len = std::min(c->off, max - want);
    iov[n++] = {c->begin(), len};
    want += len;
  }
  last_write_short_ = false;
  if (n == 0)
    return 0;
  ssize_t r;
  if (socket) {
    struct msghdr msg {};
    msg.msg_iov = iov;
    msg.msg_iovlen = n;
    r = ::sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  } else {
    r = ::writev(fd, iov, n);
  }
  last_write_short_ = r >= 0 && static_cast<size_t>(r) < want;
  if (r > 0)
    drain(static_cast<size_t>(r));
  return r;
}

void evbuffer::prepend(const void* data, size_t len) {
  if (len == 0)
    return;
  auto* p = static_cast<const unsigned char*>(data);
  // The first chunk's free front (all of it if the chunk is empty), then a
  // new chunk filled from its end, so later prepends fit in front.
  chunk* f = first_;
  const bool usable = f && !f->reference;
  const size_t fit = !usable ? 0 : f->off == 0 ? f->cap : f->misalign;
  chunk* fresh = fit < len ? new_chunk(len - fit) : nullptr;
  size_t rest = len;
  if (usable && fit) {
    if (f->off == 0)
      f->misalign = f->cap;
    const size_t k = std::min(fit, len);
    std::memcpy(f->buf + f->misalign - k, p + len - k, k);
    f->misalign -= k;
    f->off += k;
    rest -= k;
    if (!last_data_)
      last_data_ = f;
  }
  if (rest) {
    fresh->misalign = fresh->cap - rest;
    fresh->off = rest;
    std::memcpy(fresh->begin(), p, rest);
    fresh->next = first_;
    first_ = fresh;
    if (!last_)
      last_ = fresh;
    if (!last_data_)
      last_data_ = fresh;
  }
  added(len);
}

evbuffer::chunk* evbuffer::new_read_only_chunk(unsigned char* data, size_t len) {
  auto* c = static_cast<chunk*>(std::malloc(sizeof(chunk)));
  if (!c)
    throw std::bad_alloc();
  init_chunk(c, data, len);
  c->reference = true;
  c->off = len;
  return c;
}

// Puts a read-only chunk holding data after the last data chunk.
void evbuffer::insert_read_only(chunk* c) noexcept {
  c->next = trailing();
  (last_data_ ? last_data_->next : first_) = c;
  if (!c->next)
    last_ = c;
  last_data_ = c;
}

void evbuffer::add_reference(const void* data, size_t len, cleanup_fn fn, void* arg) {
  chunk* c = new_read_only_chunk(static_cast<unsigned char*>(const_cast<void*>(data)), len);
  c->cleanup = fn;
  c->cleanup_arg = arg;
  if (len == 0) {
    // Nothing to read: released at the next drain or when the buffer goes,
    // never inside this call.
    c->next = zero_refs_;
    zero_refs_ = c;
    return;
  }
  insert_read_only(c);
  added(len);
}

int evbuffer::add_vprintf(const char* fmt, va_list ap) {
  // Format straight into the tail's room; if it does not fit, make room
  // for the whole text in one chunk and format again.
  chunk* t = last_data_ && last_data_->space() ? last_data_ : trailing();
  if (t && t->off == 0)
    t->misalign = 0;
  const size_t room = t ? t->space() : 0;
  va_list aq;
  va_copy(aq, ap);
  const int n = std::vsnprintf(room ? reinterpret_cast<char*>(t->end()) : nullptr, room, fmt, aq);
  va_end(aq);
  if (n < 0)
    return -1;
  if (n == 0)
    return 0;
  const size_t len = static_cast<size_t>(n);
  if (len >= room) {
    t = contiguous_tail(len + 1);
    va_copy(aq, ap);
    const int m = std::vsnprintf(reinterpret_cast<char*>(t->end()), len + 1, fmt, aq);
    va_end(aq);
    if (m != n)
      return -1;
  }
  t->off += len;
  last_data_ = t;
  added(len);
  return n;
}

size_t evbuffer::move_to(evbuffer& dst, size_t len) {
  // Whole chunks move; the bytes of a chunk that is split are copied.
  len = std::min<size_t>(len, total_);
  chunk* c = first_;
  chunk* last_whole = nullptr;
  size_t moved = 0;
  while (c && c->off && c->off <= len - moved) {
    moved += c->off;
    last_whole = c;
    c = c->next;
  }
  const size_t part = len - moved;
  if (part && !(last_whole && last_whole->space() >= part))
    dst.prepare_tail(part, last_whole == nullptr);  // may throw: nothing moved yet
  if (last_whole) {
    chunk* head = first_;
    first_ = last_whole->next;
    if (last_data_ == last_whole)
      last_data_ = nullptr;
    if (last_ == last_whole)
      last_ = nullptr;
    last_whole->next = nullptr;
    chunk* after = dst.trailing();
    (dst.last_data_ ? dst.last_data_->next : dst.first_) = head;
    last_whole->next = after;
    if (!after)
      dst.last_ = last_whole;
    dst.last_data_ = last_whole;
  }
  if (part) {
    dst.write_tail(c->begin(), part);
    c->misalign += part;
    c->off -= part;
  }
  total_ -= len;
  dst.unmapped_ = dst.unmapped_ || unmapped_;
  dst.added(len);
  removed(len);
  return len;
}

unsigned char* evbuffer::pullup(size_t len) {
  chunk* f = first_;
  if (f->off >= len)
    return f->begin();
  // Gather into the first chunk if it can hold len bytes, else into a new
  // chunk put in front.
  chunk* into;
  if (!f->reference && f->cap >= len) {
    if (f->cap - f->misalign < len) {
      std::memmove(f->buf, f->begin(), f->off);
      f->misalign = 0;
    }
    into = f;
  } else {
    into = new_chunk(len);
    into->next = first_;
    first_ = into;
  }
  chunk_list dead;
  size_t need = len - into->off;
  chunk* prev = into;
  while (need) {
    chunk* c = prev->next;
    const size_t k = std::min(need, c->off);
    std::memcpy(into->end(), c->begin(), k);
    into->off += k;
    need -= k;
    if (k == c->off) {
      if (last_data_ == c)
        last_data_ = into;
      unlink_after(prev, c);
      dead.push(c);
    } else {
      c->misalign += k;
      c->off -= k;
    }
  }
  release(dead.head);
  return into->begin();
}

void evbuffer::expand(size_t len) {
  if (len)
    contiguous_tail(len);
}

int evbuffer::reserve(size_t len, struct iovec* vec, int n_vec) {
  if (len == 0 && n_vec >= 2)
    return 0;  // as libevent: no extent is needed (with one, it lends the tail)
  chunk* t = last_data_;
  if (n_vec >= 2 && t && t->space() > 0 && t->space() < len) {
    // The last data chunk's room, then an empty chunk for the rest.
    const size_t need = len - t->space();
    chunk* e = t->next;
    if (!e || e->cap < need) {
      chunk* c = new_chunk(need);
      c->next = e ? e->next : nullptr;
      t->next = c;
      if (!c->next)
        last_ = c;
      if (e)
        free_chunk(e);
      e = c;
    }
    e->misalign = 0;
    vec[0] = {t->end(), t->space()};
    vec[1] = {e->buf, e->cap};
    return 2;
  }
  chunk* c = contiguous_tail(len ? len : 1);
  vec[0] = {c->end(), c->space()};
  return 1;
}

bool evbuffer::commit(const struct iovec* vec, int n_vec) noexcept {
  if (n_vec <= 0)
    return true;
  // The extents must be the free space of consecutive chunks starting at
  // the last data chunk or at the empty chunk after it.
  chunk* start = nullptr;
  if (last_data_ && last_data_->space() && vec[0].iov_base == last_data_->end())
    start = last_data_;
  else if (chunk* e = trailing(); e && vec[0].iov_base == e->end())
    start = e;
  if (!start)
    return false;
  chunk* c = start;
  for (int i = 0; i < n_vec; ++i, c = c->next) {
    if (!c || c->reference || vec[i].iov_base != c->end() || vec[i].iov_len > c->space())
      return false;
    if (i > 0 && c->off)
      return false;
  }
  chunk* const stop = c;
  size_t total = 0;
  c = start;
  for (int i = 0; i < n_vec; ++i, c = c->next) {
    c->off += vec[i].iov_len;
    total += vec[i].iov_len;
  }
  // Empty chunks may not stay in front of data: drop those the caller left
  // unused before a filled one.
  chunk* filled = nullptr;
  for (chunk* x = trailing(); x != stop; x = x->next)
    if (x->off)
      filled = x;
  if (filled) {
    chunk* prev = last_data_;
    chunk* x = trailing();
    while (x != filled) {
      chunk* next = x->next;
      if (x->off == 0) {
        unlink_after(prev, x);
        free_chunk(x);
      } else {
        prev = x;
      }
      x = next;
    }
    last_data_ = filled;
  }
  added(total);
  return true;
}

// ---- C boundary -----------------------------------------------------------

namespace evasio::detail {

buffer_guard::buffer_guard(const evbuffer* a, const evbuffer* b) noexcept : a_(a), b_(b) {
  const void* ia = a_ ? a_->lock_id() : nullptr;
  const void* ib = b_ ? b_->lock_id() : nullptr;
  if (!ib || ib == ia)
    b_ = nullptr;
  if (!ia)
    a_ = nullptr;
  if (a_ && b_ && std::less<const void*>()(ib, ia))
    std::swap(a_, b_);
  if (a_)
    a_->lock_all();
  if (b_)
    b_->lock_all();
}

buffer_guard::~buffer_guard() {
  if (b_)
    b_->unlock_all();
  if (a_)
    a_->unlock_all();
}

} // namespace evasio::detail

extern "C" {

struct evbuffer* evbuffer_new(void) {
  return guarded<evbuffer*>(nullptr, [] { return new evbuffer(); });
}

void evbuffer_free(struct evbuffer* buf) {
  if (!buf)
    return;
  bool last;
  {
    buffer_guard g(buf);
    last = buf->release_by_program();
  }
  if (last)
    delete buf;
}

size_t evbuffer_get_length(const struct evbuffer* buf) {
  // No lock: the length is read atomically, so a callback may look at
  // another bufferevent's buffer without a lock-order cycle.
  return buf ? buf->length() : 0;
}

size_t evbuffer_get_contiguous_space(const struct evbuffer* buf) {
  buffer_guard g(buf);
  return buf ? buf->contiguous_space() : 0;
}

int evbuffer_expand(struct evbuffer* buf, size_t datlen) {
  buffer_guard g(buf);
  if (!buf)
    return fail(-1, EINVAL);
  return guarded(-1, [&] {
    buf->expand(datlen);
    return 0;
  });
}

int evbuffer_add(struct evbuffer* buf, const void* data, size_t datlen) {
  buffer_guard g(buf);
  if (!buf || (!data && datlen))
    return fail(-1, EINVAL);
  if (buf->frozen_back)
    return -1;
  if (datlen > SIZE_MAX - buf->length())
    return fail(-1, EINVAL);
  return guarded(-1, [&] {
    buf->add(data, datlen);
    return 0;
  });
}

int evbuffer_add_vprintf(struct evbuffer* buf, const char* fmt, va_list ap) {
  buffer_guard g(buf);
  if (!buf || !fmt)
    return fail(-1, EINVAL);
  if (buf->frozen_back)
    return -1;
  return guarded(-1, [&] { return buf->add_vprintf(fmt, ap); });
}

int evbuffer_add_printf(struct evbuffer* buf, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int r = evbuffer_add_vprintf(buf, fmt, ap);
  va_end(ap);
  return r;
}

int evbuffer_add_buffer(struct evbuffer* outbuf, struct evbuffer* inbuf) {
  buffer_guard g(outbuf, inbuf);
  if (!outbuf || !inbuf)
    return fail(-1, EINVAL);
  if (inbuf->length() == 0 || inbuf == outbuf)
    return 0;
  if (outbuf->frozen_back || inbuf->frozen_front)
    return -1;
  if (inbuf->length() > SIZE_MAX - outbuf->length())
    return fail(-1, EINVAL);
  outbuf->append(*inbuf);
  return 0;
}

int evbuffer_add_reference(struct evbuffer* outbuf, const void* data, size_t datlen,
                           evbuffer_ref_cleanup_cb cleanupfn, void* cleanupfn_arg) {
  buffer_guard g(outbuf);
  if (!outbuf || (!data && datlen))
    return fail(-1, EINVAL);
  if (outbuf->frozen_back)
    return -1;  // as libevent: the cleanup is not called
  if (datlen > SIZE_MAX - outbuf->length())
    return fail(-1, EINVAL);
  return guarded(-1, [&] {
    outbuf->add_reference(data, datlen, cleanupfn, cleanupfn_arg);
    return 0;
  });
}

int evbuffer_prepend(struct evbuffer* buf, const void* data, size_t size) {
  buffer_guard g(buf);
  if (!buf || (!data && size))
    return fail(-1, EINVAL);
  if (size == 0)
    return 0;
  if (buf->frozen_front)
    return -1;
  if (size > SIZE_MAX - buf->length())
    return fail(-1, EINVAL);
  return guarded(-1, [&] {
    buf->prepend(data, size);
    return 0;
  });
}

int evbuffer_remove(struct evbuffer* buf, void* data, size_t datlen) {
  buffer_guard g(buf);
  if (!buf)
    return fail(-1, EINVAL);
  const size_t n = std::min({datlen, buf->length(), static_cast<size_t>(INT_MAX)});
  if (n == 0)
    return 0;
  if (!data)
    return fail(-1, EINVAL);
  if (buf->frozen_front)
    return -1;
  if (!buf->map_files())
    return -1;
  buf->copyout(data, n);
  buf->drain(n);
  return static_cast<int>(n);
}

ev_ssize_t evbuffer_copyout(struct evbuffer* buf, void* data_out, size_t datlen) {
  buffer_guard g(buf);
  if (!buf)
    return fail(-1, EINVAL);
  const size_t n = std::min({datlen, buf->length(), static_cast<size_t>(SSIZE_MAX)});
  if (n == 0)
    return 0;
  if (!data_out)
    return fail(-1, EINVAL);
  if (buf->frozen_front || !buf->map_files())
    return -1;
  return static_cast<ev_ssize_t>(buf->copyout(data_out, n));
}

// libevent reads at most this much per call (its EVBUFFER_MAX_READ).
constexpr int max_fd_read = 4096;

int evbuffer_read(struct evbuffer* buf, evutil_socket_t fd, int howmuch) {
  buffer_guard g(buf);
  if (!buf || fd < 0)
    return fail(-1, !buf ? EINVAL : EBADF);
  if (buf->frozen_back)
    return -1;
  if (howmuch < 0 || howmuch > max_fd_read)
    howmuch = max_fd_read;
  if (howmuch == 0)
    return 0;
  const ssize_t r = guarded<ssize_t>(-1, [&] { return buf->read_from(fd, static_cast<size_t>(howmuch), false); });
  if (r > 0 && buf->on_add)
    buf->on_add(buf->on_add_arg);  // a bufferevent's output schedules its write
  return static_cast<int>(r);
}

int evbuffer_write_atmost(struct evbuffer* buf, evutil_socket_t fd, ev_ssize_t howmuch) {
  buffer_guard g(buf);
  if (!buf || fd < 0)
    return fail(-1, !buf ? EINVAL : EBADF);
  if (buf->frozen_front)
    return -1;
  size_t n = buf->length();
  if (howmuch >= 0 && static_cast<size_t>(howmuch) < n)
    n = static_cast<size_t>(howmuch);
  if (n == 0)
    return -1;  // as libevent: nothing to write is not a success
  const bool file_first = buf->sends_file_first();
  const ssize_t r = buf->write_to(fd, std::min(n, static_cast<size_t>(INT_MAX)), false);
  if (r < 0 && file_first && (errno == EAGAIN || errno == EINTR))
    return 0;  // as libevent's sendfile path: "nothing written yet"
  return static_cast<int>(r);
}

int evbuffer_write(struct evbuffer* buf, evutil_socket_t fd) { return evbuffer_write_atmost(buf, fd, -1); }

int evbuffer_remove_buffer(struct evbuffer* src, struct evbuffer* dst, size_t datlen) {
  buffer_guard g(src, dst);
  if (!src || !dst)
    return fail(-1, EINVAL);
  if (datlen == 0 || src == dst)
    return 0;
  if (dst->frozen_back || src->frozen_front)
    return -1;
  const size_t n = std::min({datlen, src->length(), static_cast<size_t>(INT_MAX)});
  if (n > SIZE_MAX - dst->length())
    return fail(-1, EINVAL);
  if (n == src->length()) {
    dst->append(*src);
    return static_cast<int>(n);
  }
  if (!src->map_files())  // the chunk split by n is copied
    return -1;
  return guarded(-1, [&] { return static_cast<int>(src->move_to(*dst, n)); });
}

int evbuffer_drain(struct evbuffer* buf, size_t len) {
  buffer_guard g(buf);
  if (!buf)
    return fail(-1, EINVAL);
  if (buf->length() == 0)
    return 0;
  if (buf->frozen_front)
    return -1;
  buf->drain(len);
  return 0;
}

unsigned char* evbuffer_pullup(struct evbuffer* buf, ev_ssize_t size) {
  buffer_guard g(buf);
  if (!buf)
    return fail<unsigned char*>(nullptr, EINVAL);
  const size_t n = size < 0 ? buf->length() : static_cast<size_t>(size);
  if (n == 0 || n > buf->length() || !buf->map_files())
    return nullptr;
  return guarded<unsigned char*>(nullptr, [&] { return buf->pullup(n); });
}

int evbuffer_reserve_space(struct evbuffer* buf, ev_ssize_t size, struct evbuffer_iovec* vec,
                           int n_vec) {
  buffer_guard g(buf);
  if (!buf || !vec || n_vec < 1 || size < 0)
    return fail(-1, EINVAL);
  if (buf->frozen_back)
    return -1;
  return guarded(-1, [&] { return buf->reserve(static_cast<size_t>(size), vec, n_vec); });
}

int evbuffer_commit_space(struct evbuffer* buf, struct evbuffer_iovec* vec, int n_vecs) {
  buffer_guard g(buf);
  if (!buf)
    return fail(-1, EINVAL);
  if (buf->frozen_back)
    return -1;
  if (n_vecs <= 0)
    return 0;
  if (!vec)
    return fail(-1, EINVAL);
  return buf->commit(vec, n_vecs) ? 0 : -1;
}

int evbuffer_freeze(struct evbuffer* buf, int at_front) {
  buffer_guard g(buf);
  if (!buf)
    return fail(-1, EINVAL);
  (at_front ? buf->frozen_front : buf->frozen_back) = true;
  return 0;
}

int evbuffer_unfreeze(struct evbuffer* buf, int at_front) {
  buffer_guard g(buf);
  if (!buf)
    return fail(-1, EINVAL);
  (at_front ? buf->frozen_front : buf->frozen_back) = false;
  return 0;
}

} // extern "C"

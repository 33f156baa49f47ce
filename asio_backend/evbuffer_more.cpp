// evbuffer: moving whole buffers to the front, showing another buffer's
// bytes without copying them, iovec adds, copies from a position, the
// program's lock and the buffer's flags.
#include "detail/base.hpp"
#include "detail/c_boundary.hpp"
#include "detail/evbuffer.hpp"

#include <event2/buffer.h>

#include <pthread.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

using namespace evasio::detail;
using chunk = evbuffer::chunk;

void evbuffer::prepend_buffer(evbuffer& src) noexcept {
  // src's chunks holding data go in front of ours; src keeps its empty ones.
  chunk* head = src.first_;
  chunk* tail = src.last_data_;
  src.first_ = tail->next;
  if (!src.first_)
    src.last_ = nullptr;
  src.last_data_ = nullptr;
  tail->next = first_;
  first_ = head;
  if (!last_data_)
    last_data_ = tail;
  if (!last_)
    last_ = tail;
  const size_t n = src.total_;
  src.total_ = 0;
  unmapped_ = unmapped_ || src.unmapped_;
  total_ += n;
  if (on_add)
    on_add(on_add_arg);
  src.removed(n);  // as libevent: the source's callbacks first
  changed(n, 0);
}

bool evbuffer::add_view(const evbuffer& src) {
  // As libevent: a file's bytes, or bytes src itself shows from elsewhere,
  // cannot be shown again.
  for (chunk* c = src.first_; c && c->off; c = c->next)
    if (c->seg || c->owner)
      return false;
  // Every view is made before any is linked, so a failed allocation leaves
  // both buffers as they were.
  chunk* views = nullptr;
  chunk** tail = &views;
  try {
    for (chunk* c = src.first_; c && c->off; c = c->next) {
      chunk* v = new_read_only_chunk(c->begin(), c->off);
      v->owner = c;
      *tail = v;
      tail = &v->next;
    }
  } catch (...) {
    while (views) {
      chunk* v = views;
      views = v->next;
      std::free(v);
    }
    throw;
  }
  size_t n = 0;
  while (views) {
    chunk* v = views;
    views = v->next;
    // The shown chunk stays as it is while a view holds it: its buffer
    // neither writes into it nor frees it before the last view goes.
    v->owner->reference = true;
    __atomic_add_fetch(&v->owner->holders, 1, __ATOMIC_RELAXED);
    insert_read_only(v);
    n += v->off;
  }
  added(n);
  return true;
}

size_t evbuffer::copyout_at(size_t pos, void* out, size_t len) const noexcept {
  auto* p = static_cast<unsigned char*>(out);
  const cursor at = locate(pos);
  size_t done = 0;
  size_t in = at.in;
  for (chunk* c = at.c; c && c->off && done < len; c = c->next, in = 0) {
    const size_t k = std::min(len - done, c->off - in);
    std::memcpy(p + done, c->begin() + in, k);
    done += k;
  }
  return done;
}

size_t evbuffer::add_iovec(const struct iovec* vec, int n_vec) {
  size_t total = 0;
  for (int i = 0; i < n_vec; ++i)
    total += vec[i].iov_len;
  // Room for all of it first (at most two chunks), then each extent as an
  // add of its own, which libevent's callbacks see one by one.
  if (total)
    prepare_tail(total, true);
  for (int i = 0; i < n_vec; ++i)
    add(vec[i].iov_base, vec[i].iov_len);
  return total;
}

bool evbuffer::enable_locking(void* program_lock) {
  if (lock || locking_enabled_)
    return false;
  if (!program_lock) {
    own_lock_ = std::make_unique<optional_recursive_mutex>(true);
    lock = own_lock_.get();
  } else if (threads_enabled.load()) {
    // libevent takes a program's lock only once threads are set up.
    program_lock_ = program_lock;
  }
  locking_enabled_ = true;
  return true;
}

void evbuffer::lock_all() const noexcept {
  if (lock)
    lock->lock();
  else if (program_lock_)
    ::pthread_mutex_lock(static_cast<pthread_mutex_t*>(program_lock_));
}

void evbuffer::unlock_all() const noexcept {
  if (lock)
    lock->unlock();
  else if (program_lock_)
    ::pthread_mutex_unlock(static_cast<pthread_mutex_t*>(program_lock_));
}

// ---- C boundary -----------------------------------------------------------

extern "C" {

int evbuffer_enable_locking(struct evbuffer* buf, void* lock) {
  if (!buf)
    return fail(-1, EINVAL);
  return guarded(-1, [&] { return buf->enable_locking(lock) ? 0 : -1; });
}

void evbuffer_lock(struct evbuffer* buf) {
  if (buf)
    buf->lock_all();
}

void evbuffer_unlock(struct evbuffer* buf) {
  if (buf)
    buf->unlock_all();
}

int evbuffer_set_flags(struct evbuffer* buf, ev_uint64_t flags) {
  buffer_guard g(buf);
  if (!buf)
    return fail(-1, EINVAL);
  buf->flags |= static_cast<ev_uint32_t>(flags);
  return 0;
}

int evbuffer_clear_flags(struct evbuffer* buf, ev_uint64_t flags) {
  buffer_guard g(buf);
  if (!buf)
    return fail(-1, EINVAL);
  buf->flags &= ~static_cast<ev_uint32_t>(flags);
  return 0;
}

ev_ssize_t evbuffer_copyout_from(struct evbuffer* buf, const struct evbuffer_ptr* pos, void* data_out,
                                 size_t datlen) {
  if (!pos)
    return evbuffer_copyout(buf, data_out, datlen);
  buffer_guard g(buf);
  if (!buf || pos->pos < 0 || static_cast<size_t>(pos->pos) > buf->length())
    return fail(-1, EINVAL);
  const size_t from = static_cast<size_t>(pos->pos);
  if (datlen > static_cast<size_t>(SSIZE_MAX) - from)
    return -1;
  const size_t n = std::min(datlen, buf->length() - from);
  if (n == 0)
    return 0;
  if (!data_out)
    return fail(-1, EINVAL);
  if (buf->frozen_front || !buf->map_files())
    return -1;
  return static_cast<ev_ssize_t>(buf->copyout_at(from, data_out, n));
}

int evbuffer_prepend_buffer(struct evbuffer* dst, struct evbuffer* src) {
  buffer_guard g(src, dst);
  if (!dst || !src)
    return fail(-1, EINVAL);
  if (src->length() == 0 || src == dst)
    return 0;
  if (dst->frozen_front || src->frozen_front)
    return -1;
  if (src->length() > SIZE_MAX - dst->length())
    return fail(-1, EINVAL);
  dst->prepend_buffer(*src);
  return 0;
}

int evbuffer_add_buffer_reference(struct evbuffer* outbuf, struct evbuffer* inbuf) {
  buffer_guard g(inbuf, outbuf);
  if (!outbuf || !inbuf)
    return fail(-1, EINVAL);
  if (inbuf->length() == 0)
    return 0;
  if (outbuf->frozen_back || outbuf == inbuf)
    return -1;
  if (inbuf->length() > SIZE_MAX - outbuf->length())
    return fail(-1, EINVAL);
  return guarded(-1, [&] { return outbuf->add_view(*inbuf) ? 0 : -1; });
}

size_t evbuffer_add_iovec(struct evbuffer* buffer, struct evbuffer_iovec* vec, int n_vec) {
  buffer_guard g(buffer);
  if (!buffer || (!vec && n_vec > 0))
    return fail<size_t>(0, EINVAL);
  if (n_vec <= 0 || buffer->frozen_back)
    return 0;
  size_t total = 0;
  for (int i = 0; i < n_vec; ++i) {
    if ((!vec[i].iov_base && vec[i].iov_len) || vec[i].iov_len > SIZE_MAX - buffer->length() - total)
      return fail<size_t>(0, EINVAL);
    total += vec[i].iov_len;
  }
  return guarded<size_t>(0, [&] { return buffer->add_iovec(vec, n_vec); });
}

} // extern "C"

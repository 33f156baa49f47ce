// evbuffer: libevent's byte queue as a chain of chunks.
#include "detail/evbuffer.hpp"
#include "detail/c_boundary.hpp"

#include <event2/buffer.h>

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

using namespace evasio::detail;
using chunk = evbuffer::chunk;

namespace {

// Most chunks are of one size; a small per-thread cache of them makes
// steady-state reading and echoing allocation-free.
constexpr size_t standard_alloc = 16384;
constexpr size_t standard_cap = standard_alloc - sizeof(chunk);
constexpr int cache_limit = 32;

struct chunk_cache {
  chunk* head = nullptr;
  int count = 0;
  ~chunk_cache() {
    while (head) {
      chunk* c = head;
      head = c->next;
      std::free(c);
    }
  }
};
thread_local chunk_cache cache;

chunk* new_chunk(size_t want) {
  const size_t cap = std::max(want, standard_cap);
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
  c->next = nullptr;
  c->cap = cap;
  c->misalign = 0;
  c->off = 0;
  return c;
}

void free_chunk(chunk* c) noexcept {
  if (c->cap == standard_cap && cache.count < cache_limit) {
    c->next = cache.head;
    cache.head = c;
    ++cache.count;
  } else {
    std::free(c);
  }
}

} // namespace

evbuffer::~evbuffer() {
  while (first_) {
    chunk* c = first_;
    first_ = c->next;
    free_chunk(c);
  }
}

// The last chunk if it has room, else a new one appended.
chunk* evbuffer::tail_with_space(size_t want) {
  if (last_ && last_->space() > 0) {
    if (last_->off == 0)
      last_->misalign = 0;
    return last_;
  }
  chunk* c = new_chunk(want);
  if (last_)
    last_->next = c;
  else
    first_ = c;
  last_ = c;
  return c;
}

void evbuffer::add(const void* data, size_t len) {
  if (len == 0)
    return;
  auto* p = static_cast<const unsigned char*>(data);
  size_t left = len;
  while (left) {
    chunk* c = tail_with_space(left);
    const size_t n = std::min(left, c->space());
    std::memcpy(c->begin() + c->off, p, n);
    c->off += n;
    p += n;
    left -= n;
  }
  total_ += len;
  notify_add();
}

void evbuffer::append(evbuffer& from) noexcept {
  if (&from == this || from.total_ == 0)
    return;
  // Splice the chunks holding data; an empty tail chunk stays with from.
  chunk* head = from.first_;
  chunk* tail = head;
  while (tail->next && tail->next->off)
    tail = tail->next;
  from.first_ = tail->next;
  if (!from.first_)
    from.last_ = nullptr;
  tail->next = nullptr;
  if (last_ && last_->off == 0) {
    // Our spare empty chunk goes after the spliced data.
    chunk* spare = last_;
    chunk* prev = nullptr;
    for (chunk* c = first_; c != spare; c = c->next)
      prev = c;
    if (prev)
      prev->next = head;
    else
      first_ = head;
    tail->next = spare;
  } else {
    if (last_)
      last_->next = head;
    else
      first_ = head;
    last_ = tail;
  }
  total_ += from.total_;
  from.total_ = 0;
  notify_add();
}

size_t evbuffer::copyout(void* out, size_t len) const noexcept {
  auto* p = static_cast<unsigned char*>(out);
  size_t done = 0;
  for (chunk* c = first_; c && done < len; c = c->next) {
    const size_t n = std::min(len - done, c->off);
    std::memcpy(p + done, c->begin(), n);
    done += n;
  }
  return done;
}

void evbuffer::drain(size_t len) noexcept {
  len = std::min(len, total_);
  total_ -= len;
  while (len && first_) {
    chunk* c = first_;
    if (len < c->off) {
      c->misalign += len;
      c->off -= len;
      return;
    }
    len -= c->off;
    c->misalign = 0;
    c->off = 0;
    if (c == last_)
      return;  // keep it, empty, for the next read
    first_ = c->next;
    free_chunk(c);
  }
}

ssize_t evbuffer::read_from(int fd, size_t max, bool socket) {
  // The tail's free space, then a fresh chunk for the rest.
  struct iovec iov[2];
  int n = 0;
  size_t room = 0;
  if (last_ && last_->space() > 0) {
    chunk* c = tail_with_space(0);
    iov[n++] = {c->begin() + c->off, std::min(c->space(), max)};
    room = iov[0].iov_len;
  }
  chunk* fresh = nullptr;
  if (room < max) {
    fresh = new_chunk(std::min(max - room, standard_cap));
    iov[n++] = {fresh->data(), std::min(fresh->cap, max - room)};
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
  size_t got = r > 0 ? static_cast<size_t>(r) : 0;
  if (room && got) {
    const size_t k = std::min(got, room);
    last_->off += k;
    got -= k;
  }
  if (fresh) {
    fresh->off = got;
    if (last_ && last_->off == 0 && last_ != fresh && fresh->off == 0) {
      free_chunk(fresh);  // already have an empty spare
    } else {
      if (last_)
        last_->next = fresh;
      else
        first_ = fresh;
      last_ = fresh;
    }
  }
  if (r > 0)
    total_ += static_cast<size_t>(r);
  return r;
}

ssize_t evbuffer::write_to(int fd, size_t max, bool socket) noexcept {
  constexpr int max_iov = 64;
  struct iovec iov[max_iov];
  int n = 0;
  size_t want = 0;
  for (chunk* c = first_; c && n < max_iov && want < max; c = c->next) {
    if (!c->off)
      continue;
    const size_t len = std::min(c->off, max - want);
    iov[n++] = {c->begin(), len};
    want += len;
  }
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
  if (r > 0)
    drain(static_cast<size_t>(r));
  return r;
}

// ---- C boundary -----------------------------------------------------------

extern "C" {

struct evbuffer* evbuffer_new(void) {
  return guarded<evbuffer*>(nullptr, [] { return new evbuffer(); });
}

void evbuffer_free(struct evbuffer* buf) {
  delete buf;
}

size_t evbuffer_get_length(const struct evbuffer* buf) {
  return buf ? buf->length() : 0;
}

int evbuffer_add(struct evbuffer* buf, const void* data, size_t datlen) {
  if (!buf || (!data && datlen))
    return fail(-1, EINVAL);
  return guarded(-1, [&] {
    buf->add(data, datlen);
    return 0;
  });
}

int evbuffer_add_buffer(struct evbuffer* outbuf, struct evbuffer* inbuf) {
  if (!outbuf || !inbuf)
    return fail(-1, EINVAL);
  outbuf->append(*inbuf);
  return 0;
}

int evbuffer_remove(struct evbuffer* buf, void* data, size_t datlen) {
  if (!buf || (!data && datlen))
    return fail(-1, EINVAL);
  const size_t n = buf->copyout(data, datlen);
  buf->drain(n);
  return static_cast<int>(n);
}

ev_ssize_t evbuffer_copyout(struct evbuffer* buf, void* data, size_t datlen) {
  if (!buf || (!data && datlen))
    return fail(-1, EINVAL);
  return static_cast<ev_ssize_t>(buf->copyout(data, datlen));
}

int evbuffer_drain(struct evbuffer* buf, size_t len) {
  if (!buf)
    return fail(-1, EINVAL);
  buf->drain(len);
  return 0;
}

} // extern "C"

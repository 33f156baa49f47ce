// struct evbuffer: a queue of bytes in a singly linked chain of chunks.
// Moving a buffer into another splices chunks; reads land in the tail
// chunk's free space or a fresh chunk, so echoing copies nothing.
//
// Layout invariant: every chunk from first_ up to last_data_ holds data
// (off > 0); the chunks after last_data_ (reserved or expanded room, usually
// none) are empty, owned and writable. A buffer drained to empty gives all
// its chunks back, so one at rest holds no memory. A chunk either owns its storage
// (allocated right after the header; standard-sized ones are recycled through
// a per-thread cache) or references caller memory (evbuffer_add_reference):
// read-only, released through its cleanup callback once drained.
#ifndef EVASIO_DETAIL_EVBUFFER_HPP_INCLUDED_
#define EVASIO_DETAIL_EVBUFFER_HPP_INCLUDED_

#include "lock.hpp"

#include <sys/types.h>
#include <atomic>
#include <sys/uio.h>
#include <cstdarg>
#include <cstddef>

namespace evasio::detail {
// A length written under the buffer's lock and read without it
// (evbuffer_get_length, say on another bufferevent's buffer from a
// callback): relaxed atomic loads and stores, no read-modify-write.
class relaxed_size {
public:
  relaxed_size(size_t v = 0) noexcept : v_(v) {}
  operator size_t() const noexcept { return v_.load(std::memory_order_relaxed); }
  relaxed_size& operator=(size_t v) noexcept {
    v_.store(v, std::memory_order_relaxed);
    return *this;
  }
  relaxed_size& operator+=(size_t d) noexcept { return *this = size_t(*this) + d; }
  relaxed_size& operator-=(size_t d) noexcept { return *this = size_t(*this) - d; }

private:
  std::atomic<size_t> v_;
};
} // namespace evasio::detail

struct evbuffer {
  using cleanup_fn = void (*)(const void* data, size_t len, void* arg);

  struct chunk {
    chunk* next;
    unsigned char* buf;  // storage: right after the header, or the caller's
    size_t cap;          // bytes at buf
    size_t misalign;     // consumed (or not yet prepended) bytes at the front
    size_t off;          // stored bytes after misalign
    cleanup_fn cleanup;  // references only
    void* cleanup_arg;
    bool reference;      // caller memory: never written, never grown

    unsigned char* begin() const noexcept { return buf + misalign; }
    unsigned char* end() const noexcept { return buf + misalign + off; }
    size_t space() const noexcept { return reference ? 0 : cap - misalign - off; }
  };

  evbuffer() = default;
  ~evbuffer();
  evbuffer(const evbuffer&) = delete;
  evbuffer& operator=(const evbuffer&) = delete;

  // ---- used by the bufferevent ----
  size_t length() const noexcept { return total_; }
  void add(const void* data, size_t len);  // throws std::bad_alloc, then adds nothing
  void append(evbuffer& from) noexcept;    // moves all of from
  size_t copyout(void* out, size_t len) const noexcept;
  void drain(size_t len) noexcept;

  // One non-blocking read of up to max bytes from fd (one recvmsg/readv
  // over several chunks): bytes read, 0 at end of file, -1 with errno.
  ssize_t read_from(int fd, size_t max, bool socket);
  // Whether the last read_from got less than it had room for: the fd was
  // drained at that moment.
  bool last_read_was_short() const noexcept { return last_read_short_; }
  // One non-blocking write of up to max bytes to fd, drained on success:
  // bytes written or -1 with errno.
  ssize_t write_to(int fd, size_t max, bool socket) noexcept;
  // Whether the last write_to wrote less than it offered (at most 64
  // chunks at once): the fd was full at that moment.
  bool last_write_was_short() const noexcept { return last_write_short_; }

  // The owner's lock (a bufferevent's; a no-op unless it locks), taken by
  // every C entry point, so that its users' calls and its own I/O exclude
  // each other.
  evasio::detail::optional_recursive_mutex* lock = nullptr;

  // Called after bytes are added (the owning bufferevent schedules a write).
  void (*on_add)(void* arg) = nullptr;
  void* on_add_arg = nullptr;
  // Called when a removal leaves fewer than drain_below bytes (0: never; set
  // only with on_drain): the owning bufferevent resumes reading.
  size_t drain_below = 0;
  void (*on_drain)(void* arg) noexcept = nullptr;
  void* on_drain_arg = nullptr;

  // evbuffer_setcb (1.x): told every change of the length, after it, with
  // the length it last reported and the length now. Set under the lock.
  using length_cb = void (*)(struct evbuffer* buf, size_t old_len, size_t new_len, void* arg);
  void set_length_cb(length_cb cb, void* arg) noexcept;

  // ---- the rest of event2/buffer.h ----
  // Freezing is checked by the C entry points only, so an owner (the
  // bufferevent) may freeze an end against its users and still move bytes.
  bool frozen_front = false;
  bool frozen_back = false;

  // Each may throw std::bad_alloc and then leaves the content unchanged.
  void prepend(const void* data, size_t len);
  void add_reference(const void* data, size_t len, cleanup_fn fn, void* arg);
  int add_vprintf(const char* fmt, va_list ap);      // bytes added, -1 on a format error
  size_t move_to(evbuffer& dst, size_t len);         // remove_buffer; dst != this
  unsigned char* pullup(size_t len);                 // 0 < len <= length()
  void expand(size_t len);
  int reserve(size_t len, struct iovec* vec, int n_vec);  // n_vec >= 1
  bool commit(const struct iovec* vec, int n_vec) noexcept;

  size_t contiguous_space() const noexcept { return first_ && first_->off ? first_->off : 0; }

  // Positions are byte offsets; the chunk and offset inside it are found by
  // walking the chain, so a stale position never reaches freed memory.
  struct cursor {
    chunk* c;   // nullptr at the end
    size_t in;  // offset inside c's data
  };
  cursor locate(size_t pos) const noexcept;  // pos <= length()
  // First occurrence of what[0..len) starting in [from, length()) and
  // ending at or before limit; -1 if none.
  ssize_t find(const void* what, size_t len, size_t from, size_t limit) const noexcept;
  // First byte at or after from that is one of set[0..n); -1 if none.
  ssize_t find_any(const char* set, size_t n, size_t from) const noexcept;
  // How many bytes from from on are all in set[0..n).
  size_t span(const char* set, size_t n, size_t from) const noexcept;
  unsigned char byte_at(size_t pos) const noexcept;  // pos < length()
  // Extents of stored data, evbuffer_peek's way.
  int peek(ssize_t len, const size_t* start, struct iovec* vec, int n_vec) const noexcept;

private:
  static bool writable(const chunk* c) noexcept { return c && !c->reference && c->space() > 0; }
  chunk* trailing() const noexcept { return last_data_ ? last_data_->next : first_; }
  void push_back(chunk* c) noexcept;
  void unlink_after(chunk* prev, chunk* c) noexcept;
  void maybe_realign(chunk* c, size_t want) noexcept;
  void prepare_tail(size_t len, bool count_last_data);
  void write_tail(const unsigned char* p, size_t len) noexcept;
  chunk* contiguous_tail(size_t len);
  void added(size_t len) noexcept;
  void removed() noexcept {
    if (total_ < drain_below)
      on_drain(on_drain_arg);
    report_length();
  }
  void report_length() noexcept {
    if (length_cb_ && total_ != length_seen_) {
      const size_t old = length_seen_;
      length_seen_ = total_;
      length_cb_(this, old, total_, length_cb_arg_);
    }
  }
  void release_zero_refs() noexcept;

  chunk* first_ = nullptr;
  chunk* last_ = nullptr;       // the last chunk of the chain
  chunk* last_data_ = nullptr;  // the last chunk holding data, if any
  evasio::detail::relaxed_size total_ = 0;
  bool last_read_short_ = false;
  bool last_write_short_ = false;
  length_cb length_cb_ = nullptr;
  void* length_cb_arg_ = nullptr;
  size_t length_seen_ = 0;  // what length_cb_ was last told
  chunk* zero_refs_ = nullptr;  // zero-length references, released later
};

#endif

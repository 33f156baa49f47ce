// struct evbuffer: a queue of bytes in a singly linked chain of chunks.
// Moving a buffer into another splices chunks; reads land in the tail
// chunk's free space or a fresh chunk, so echoing copies nothing.
#ifndef EVASIO_DETAIL_EVBUFFER_HPP_INCLUDED_
#define EVASIO_DETAIL_EVBUFFER_HPP_INCLUDED_

#include <sys/types.h>
#include <cstddef>

struct evbuffer {
  struct chunk {
    chunk* next;
    size_t cap;       // bytes of data[]
    size_t misalign;  // consumed bytes at the front
    size_t off;       // stored bytes after misalign
    unsigned char* begin() noexcept { return data() + misalign; }
    size_t space() const noexcept { return cap - misalign - off; }
    unsigned char* data() noexcept { return reinterpret_cast<unsigned char*>(this + 1); }
  };

  evbuffer() = default;
  ~evbuffer();
  evbuffer(const evbuffer&) = delete;
  evbuffer& operator=(const evbuffer&) = delete;

  size_t length() const noexcept { return total_; }
  void add(const void* data, size_t len);
  void append(evbuffer& from) noexcept;  // moves all of from
  size_t copyout(void* out, size_t len) const noexcept;
  void drain(size_t len) noexcept;

  // One non-blocking read of up to max bytes from fd: bytes read, 0 at end
  // of file, -1 with errno.
  ssize_t read_from(int fd, size_t max, bool socket);
  // One non-blocking write of up to max bytes to fd, drained on success:
  // bytes written or -1 with errno.
  ssize_t write_to(int fd, size_t max, bool socket) noexcept;

  // Called after bytes are added (the owning bufferevent schedules a write).
  void (*on_add)(void* arg) = nullptr;
  void* on_add_arg = nullptr;

private:
  chunk* tail_with_space(size_t want);
  void notify_add() { if (on_add) on_add(on_add_arg); }

  chunk* first_ = nullptr;
  chunk* last_ = nullptr;  // may be an empty chunk kept for the next read
  size_t total_ = 0;
};

#endif

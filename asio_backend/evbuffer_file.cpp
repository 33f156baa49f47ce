// evbuffer file segments: a file's bytes in a buffer without reading them.
// Written to an fd they go out with sendfile(2), kernel to kernel; only a
// read of the buffer (copyout, remove, pullup, search, peek) maps the file
// (or reads it, with EVBUF_FS_DISABLE_MMAP) into memory, once per segment.
#include "detail/c_boundary.hpp"
#include "detail/evbuffer.hpp"

#include <event2/buffer.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>

using namespace evasio::detail;
using chunk = evbuffer::chunk;

namespace {

// Bytes of the mapping before the segment: mmap wants a page-aligned offset.
size_t page_leftover(off_t offset) noexcept {
  const long page = ::sysconf(_SC_PAGESIZE);
  return page > 0 ? static_cast<size_t>(offset % page) : 0;
}

// Reads the whole segment with pread (the fd's position stays), or fails.
unsigned char* read_whole(int fd, off_t offset, size_t length) noexcept {
  auto* mem = static_cast<unsigned char*>(std::malloc(length ? length : 1));
  if (!mem) {
    errno = ENOMEM;
    return nullptr;
  }
  size_t got = 0;
  while (got < length) {
    const ssize_t n = ::pread(fd, mem + got, length - got, offset + static_cast<off_t>(got));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;  // EOF before the segment's end
      std::free(mem);
      errno = err;
      return nullptr;
    }
    got += static_cast<size_t>(n);
  }
  return mem;
}

// sendfile to a socket without SIGPIPE (bufferevents promise EPIPE, as their
// sendmsg(MSG_NOSIGNAL) does): SIGPIPE is blocked around the call, and one
// it raised is taken before the mask is restored.
ssize_t sendfile_nosignal(int out, int in, off_t* pos, size_t n) noexcept {
  sigset_t pipe_only, old, pending;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  const ssize_t r = ::sendfile(out, in, pos, n);
  const int err = errno;
  if (r < 0 && err == EPIPE && !was_pending) {
    const timespec zero{0, 0};
    while (sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = err;
  return r;
}

} // namespace

unsigned char* evbuffer_file_segment::materialize() noexcept {
  std::lock_guard<optional_mutex> g(lock);
  if (contents)
    return contents;
  if (!(flags & EVBUF_FS_DISABLE_MMAP) && length > 0) {
    const size_t left = page_leftover(offset);
    void* m = ::mmap(nullptr, length + left, PROT_READ, MAP_PRIVATE, fd, offset - static_cast<off_t>(left));
    if (m != MAP_FAILED) {
      mapping = m;
      mapping_len = length + left;
      contents = static_cast<unsigned char*>(m) + left;
      return contents;
    }
    // As libevent: a file that cannot be mapped is read instead.
  }
  contents = read_whole(fd, offset, length);
  return contents;
}

namespace evasio::detail {

void segment_ref(evbuffer_file_segment* seg) noexcept {
  __atomic_add_fetch(&seg->refs, 1, __ATOMIC_RELAXED);
}

void segment_unref(evbuffer_file_segment* seg) noexcept {
  if (__atomic_sub_fetch(&seg->refs, 1, __ATOMIC_ACQ_REL) != 0)
    return;
  if (seg->mapping)
    ::munmap(seg->mapping, seg->mapping_len);
  else
    std::free(seg->contents);
  if ((seg->flags & EVBUF_FS_CLOSE_ON_FREE) && seg->fd >= 0)
    ::close(seg->fd);
  if (seg->cleanup)
    seg->cleanup(seg, static_cast<int>(seg->flags), seg->cleanup_arg);
  delete seg;
}

} // namespace evasio::detail

void evbuffer::add_segment(evbuffer_file_segment* seg, size_t off, size_t len) {
  chunk* c = new_read_only_chunk(seg->contents ? seg->contents + off : nullptr, len);
  c->seg = seg;
  c->seg_off = off;
  segment_ref(seg);
  if (!c->buf)
    unmapped_ = true;
  insert_read_only(c);
  added(len);
}

bool evbuffer::map_files_slow() noexcept {
  for (chunk* c = first_; c && c->off; c = c->next) {
    if (c->seg && !c->buf) {
      unsigned char* contents = c->seg->materialize();
      if (!contents)
        return false;
      c->buf = contents + c->seg_off;
    }
  }
  unmapped_ = false;
  return true;
}

ssize_t evbuffer::send_file(int fd, size_t max, bool socket) noexcept {
  chunk* c = first_;
  const size_t want = std::min(c->off, max);
  last_write_short_ = false;
  if (want == 0)
    return 0;
  off_t pos = c->seg->offset + static_cast<off_t>(c->seg_off + c->misalign);
  const ssize_t r = socket ? sendfile_nosignal(fd, c->seg->fd, &pos, want) : ::sendfile(fd, c->seg->fd, &pos, want);
  if (r == 0) {
    errno = EIO;  // the file ends before the segment does (truncated since)
    return -1;
  }
  last_write_short_ = r > 0 && static_cast<size_t>(r) < want;
  if (r > 0)
    drain(static_cast<size_t>(r));
  return r;
}

// ---- C boundary -----------------------------------------------------------

extern "C" {

struct evbuffer_file_segment* evbuffer_file_segment_new(int fd, ev_off_t offset, ev_off_t length,
                                                        unsigned flags) {
  if (fd < 0)
    return fail<evbuffer_file_segment*>(nullptr, EBADF);
  if (offset < 0 || length < -1)
    return fail<evbuffer_file_segment*>(nullptr, EINVAL);
  if (length == -1) {
    // Up to the end of the file, as the header says.
    struct stat st;
    if (::fstat(fd, &st) < 0)
      return nullptr;
    length = st.st_size > offset ? st.st_size - offset : 0;
  }
  if (offset > INT64_MAX - length || static_cast<ev_uint64_t>(length) > SIZE_MAX / 2)
    return fail<evbuffer_file_segment*>(nullptr, EINVAL);
  auto* seg = new (std::nothrow)
      evbuffer_file_segment(fd, flags, static_cast<off_t>(offset), static_cast<size_t>(length));
  if (!seg)
    return fail<evbuffer_file_segment*>(nullptr, ENOMEM);
  // Without sendfile the bytes are needed in memory anyway: now, as libevent.
  if (!seg->can_sendfile && !seg->materialize()) {
    const int err = errno;
    delete seg;
    return fail<evbuffer_file_segment*>(nullptr, err);
  }
  return seg;
}

void evbuffer_file_segment_free(struct evbuffer_file_segment* seg) {
  if (seg)
    segment_unref(seg);
}

void evbuffer_file_segment_add_cleanup_cb(struct evbuffer_file_segment* seg,
                                          evbuffer_file_segment_cleanup_cb cb, void* arg) {
  if (!seg)
    return;
  seg->cleanup = cb;
  seg->cleanup_arg = arg;
}

int evbuffer_add_file_segment(struct evbuffer* buf, struct evbuffer_file_segment* seg, ev_off_t offset,
                              ev_off_t length) {
  if (!buf || !seg)
    return fail(-1, EINVAL);
  int r;
  {
    buffer_guard g(buf);
    const ev_off_t seg_len = static_cast<ev_off_t>(seg->length);
    if (length < 0 && offset >= 0 && offset <= seg_len)
      length = seg_len - offset;
    if (buf->frozen_back || offset < 0 || length < 0 || offset > seg_len - length) {
      r = -1;
    } else if (length == 0) {
      return 0;
    } else {
      r = guarded(-1, [&] {
        buf->add_segment(seg, static_cast<size_t>(offset), static_cast<size_t>(length));
        return 0;
      });
    }
  }
  if (r < 0)
    segment_unref(seg);  // as libevent: a failed add drops a reference
  return r;
}

int evbuffer_add_file(struct evbuffer* buf, int fd, ev_off_t offset, ev_off_t length) {
  if (!buf)
    return fail(-1, EINVAL);
  evbuffer_file_segment* seg = evbuffer_file_segment_new(fd, offset, length, EVBUF_FS_CLOSE_ON_FREE);
  if (!seg)
    return -1;
  const int r = evbuffer_add_file_segment(buf, seg, 0, -1);
  if (r == 0)
    evbuffer_file_segment_free(seg);
  return r;
}

} // extern "C"

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
// Two more kinds of read-only chunk: a file segment's bytes (sent with
// sendfile, mapped into memory only when something reads them) and a view
// of another buffer's chunk (evbuffer_add_buffer_reference), which keeps
// that chunk alive by its count of holders.
#ifndef EVASIO_DETAIL_EVBUFFER_HPP_INCLUDED_
#define EVASIO_DETAIL_EVBUFFER_HPP_INCLUDED_

#include "lock.hpp"

#include <event2/buffer.h>

#include <sys/types.h>
#include <atomic>
#include <memory>
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

// evbuffer_add_cb's handle: one entry of the buffer's list of callbacks,
// newest first as libevent keeps them.
struct evbuffer_cb_entry {
  evbuffer_cb_entry* next;
  evbuffer_cb_func fn;
  void (*obsolete)(struct evbuffer*, size_t, size_t, void*);  // evbuffer_setcb's
  void* arg;
  ev_uint32_t flags;  // EVBUFFER_CB_ENABLED
  bool dead;          // removed while callbacks ran: freed once they return
};

// A range of a file (evbuffer_file_segment_new), shared by the chunks that
// show it; freed with the last of them and the program's reference.
struct evbuffer_file_segment {
  int fd;
  unsigned flags;      // EVBUF_FS_*
  off_t offset;        // in the file
  size_t length;
  bool can_sendfile;   // not EVBUF_FS_DISABLE_SENDFILE
  unsigned refs;       // atomically counted holders
  evasio::detail::optional_mutex lock;  // guards the mapping
  unsigned char* contents = nullptr;    // the bytes in memory, once needed
  void* mapping = nullptr;              // mmap'ed (contents inside it) or nullptr
  size_t mapping_len = 0;
  evbuffer_file_segment_cleanup_cb cleanup = nullptr;
  void* cleanup_arg = nullptr;

  evbuffer_file_segment(int f, unsigned fl, off_t off, size_t len)
      : fd(f), flags(fl), offset(off), length(len), can_sendfile(!(fl & EVBUF_FS_DISABLE_SENDFILE)),
        refs(1), lock(!(fl & EVBUF_FS_DISABLE_LOCKING)) {}
  // The bytes in memory (mmap, else pread), made once; nullptr with errno.
  unsigned char* materialize() noexcept;
};

namespace evasio::detail {
// Takes one more holder / lets one go (the last frees the segment).
void segment_ref(evbuffer_file_segment* seg) noexcept;
void segment_unref(evbuffer_file_segment* seg) noexcept;
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
    bool reference;      // read-only: caller memory, a view, a file or a viewed chunk
    evbuffer_file_segment* seg;  // a file's bytes (buf null until mapped)
    size_t seg_off;      // where buf[0] is in seg
    chunk* owner;        // a view: the chunk whose bytes it shows
    unsigned holders;    // this chunk's buffer and its views (atomically counted)

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

  // ---- callbacks (evbuffer_cb.cpp), called with the lock held ----
  // evbuffer_add_cb; evbuffer_setcb replaces them all by one obsolete-style
  // entry (cb NULL: none). Throw std::bad_alloc.
  evbuffer_cb_entry* add_cb(evbuffer_cb_func fn, void* arg);
  using obsolete_cb = void (*)(struct evbuffer*, size_t, size_t, void*);
  void setcb(obsolete_cb cb, void* arg);
  // evbuffer_remove_cb_entry: false if ent is not one of this buffer's.
  bool remove_cb(evbuffer_cb_entry* ent) noexcept;
  evbuffer_cb_entry* find_cb(evbuffer_cb_func fn, void* arg) const noexcept;
  bool owns_cb(const evbuffer_cb_entry* ent) const noexcept;
  // evbuffer_defer_callbacks: callbacks run from base's loop, coalesced.
  void defer_callbacks(struct event_base* base);
  // evbuffer_free: false if a deferred run still holds the buffer (it frees
  // the buffer once it has run, as libevent's reference does).
  bool release_by_program() noexcept;

  // ---- the program's lock (evbuffer_enable_locking) ----
  // NULL: a recursive lock of its own; otherwise the evthread lock the
  // program passed (a pthread mutex, as evthread_use_pthreads' locks are).
  bool enable_locking(void* program_lock);
  void lock_all() const noexcept;
  void unlock_all() const noexcept;
  const void* lock_id() const noexcept { return lock ? static_cast<const void*>(lock) : program_lock_; }
  ev_uint32_t flags = 0;  // evbuffer_set_flags: EVBUFFER_FLAG_DRAINS_TO_FD

  // ---- files (evbuffer_file.cpp) ----
  // Appends seg's bytes [off, off + len) without reading them.
  void add_segment(evbuffer_file_segment* seg, size_t off, size_t len);
  // Maps every file chunk not mapped yet, so that their bytes can be read:
  // false (errno set) if a file cannot be read. One test when none is held.
  bool map_files() noexcept { return !unmapped_ || map_files_slow(); }
  bool sends_file_first() const noexcept { return first_ && first_->seg && first_->seg->can_sendfile; }

  // ---- more of event2/buffer.h ----
  void prepend_buffer(evbuffer& src) noexcept;  // src != this, not empty
  // evbuffer_add_buffer_reference: false if src holds a chunk that cannot be
  // shown (a file's, or a view).
  bool add_view(const evbuffer& src);
  size_t copyout_at(size_t pos, void* out, size_t len) const noexcept;  // pos <= length()
  size_t add_iovec(const struct iovec* vec, int n_vec);  // checked extents; throws std::bad_alloc

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
  void removed(size_t len) noexcept {
    if (total_ < drain_below)
      on_drain(on_drain_arg);
    if (total_ == 0)
      unmapped_ = false;
    changed(0, len);
  }
  // libevent's callback accounting: nothing to do without callbacks.
  void changed(size_t n_added, size_t n_deleted) noexcept {
    if (cbs_) {
      n_add_ += n_added;
      n_del_ += n_deleted;
      invoke_callbacks();
    }
  }
  void invoke_callbacks() noexcept;
  void run_callbacks() noexcept;
  void sweep_dead_cbs() noexcept;
  void free_cbs() noexcept;
  // evbuffer_defer_callbacks' state: the base to run them from, and whether
  // a run is posted there (the buffer then waits for it before it goes).
  struct deferred {
    evbuffer* owner = nullptr;  // nullptr once the buffer is destroyed (a bufferevent's went with it)
    struct event_base* base = nullptr;
    std::weak_ptr<struct event_base*> token;
    bool posted = false;
    bool orphaned = false;  // evbuffer_free was called meanwhile
  };
  friend struct deferred_run;
  void run_deferred() noexcept;
  void deferred_dropped() noexcept;
  bool map_files_slow() noexcept;
  ssize_t write_iov(int fd, size_t max, bool socket, bool stop_at_file) noexcept;
  ssize_t send_file(int fd, size_t max, bool socket) noexcept;
  static chunk* new_read_only_chunk(unsigned char* data, size_t len);  // throws std::bad_alloc
  void insert_read_only(chunk* c) noexcept;
  void release_zero_refs() noexcept;

  chunk* first_ = nullptr;
  chunk* last_ = nullptr;       // the last chunk of the chain
  chunk* last_data_ = nullptr;  // the last chunk holding data, if any
  evasio::detail::relaxed_size total_ = 0;
  bool last_read_short_ = false;
  bool last_write_short_ = false;
  chunk* zero_refs_ = nullptr;  // zero-length references, released later
  bool unmapped_ = false;  // may hold a file chunk not mapped yet

  evbuffer_cb_entry* cbs_ = nullptr;  // newest first
  size_t n_add_ = 0;  // bytes added and deleted since callbacks last ran
  size_t n_del_ = 0;
  int running_ = 0;      // nesting of callback runs
  bool dead_cbs_ = false;
  std::shared_ptr<deferred> deferred_;  // shared with a posted run
  std::unique_ptr<evasio::detail::optional_recursive_mutex> own_lock_;
  void* program_lock_ = nullptr;  // taken only if threads were set up
  bool locking_enabled_ = false;
};

namespace evasio::detail {

// Holds the lock of one or two buffers for the length of a C call (a
// bufferevent's, or one from evbuffer_enable_locking), as libevent's buffers
// share their bufferevent's lock. Two different locks are taken in one
// (address) order.
class buffer_guard {
public:
  explicit buffer_guard(const evbuffer* a, const evbuffer* b = nullptr) noexcept;
  ~buffer_guard();
  buffer_guard(const buffer_guard&) = delete;
  buffer_guard& operator=(const buffer_guard&) = delete;

private:
  const evbuffer* a_;
  const evbuffer* b_;
};

} // namespace evasio::detail

#endif

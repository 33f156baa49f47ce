/* evasio: libevent 2.1.12's event2/buffer.h API on Boost.Asio.
 * An evbuffer is a queue of bytes kept in a chain of chunks; moving data
 * between buffers moves chunks, not bytes. Everything declared here is
 * implemented. A NULL buffer makes a call fail (-1, NULL or 0) with errno
 * EINVAL instead of crashing. */
#ifndef EVASIO_EVENT2_BUFFER_H_INCLUDED_
#define EVASIO_EVENT2_BUFFER_H_INCLUDED_

#include <event2/util.h>

#include <stdarg.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct evbuffer;

/* A position inside an evbuffer, from its first byte up to just after its
 * last one. Set it with evbuffer_ptr_set() or take it from a search; a
 * position that was not found has pos == -1. Changing the buffer's content
 * invalidates positions. The internal_ fields are not for the caller. */
struct evbuffer_ptr {
	ev_ssize_t pos;
	struct {
		void *chain;
		size_t pos_in_chain;
	} internal_;
};

/* An extent of memory, as for evbuffer_peek() and evbuffer_reserve_space():
 * the native struct iovec, as libevent defines it on POSIX systems. */
#define evbuffer_iovec iovec
#define EVBUFFER_IOVEC_IS_NATIVE_

/* Where a line ends, for evbuffer_readln() and evbuffer_search_eol(). */
enum evbuffer_eol_style {
	/* A run of any CR and LF characters ("\r\n" that arrives in two
	 * pieces may count as two line ends). */
	EVBUFFER_EOL_ANY,
	/* An LF, optionally preceded by a CR. */
	EVBUFFER_EOL_CRLF,
	/* Exactly CR LF. */
	EVBUFFER_EOL_CRLF_STRICT,
	/* An LF. */
	EVBUFFER_EOL_LF,
	/* A NUL byte. */
	EVBUFFER_EOL_NUL
};

/* How evbuffer_ptr_set() moves a position. */
enum evbuffer_ptr_how {
	/* To the given offset from the start of the buffer. */
	EVBUFFER_PTR_SET,
	/* Forward by the given count. */
	EVBUFFER_PTR_ADD
};

/* Called once, with the arguments given to evbuffer_add_reference(), when
 * the buffer no longer needs referenced memory. */
typedef void (*evbuffer_ref_cleanup_cb)(const void *data,
    size_t datalen, void *extra);

/* A new empty buffer, or NULL with errno set. */
struct evbuffer *evbuffer_new(void);
/* Frees buf and its content (calling the cleanup of referenced memory).
 * Not from one of its own callbacks. With a deferred callback run pending
 * (evbuffer_defer_callbacks), the buffer goes once that run is over, as
 * libevent's. */
void evbuffer_free(struct evbuffer *buf);

/* Makes buf lockable: with lock NULL, by a recursive lock of its own; else
 * by the given evthread lock (after evthread_use_pthreads(), a recursive
 * pthread_mutex_t; without threads set up, it is never taken, as libevent's).
 * The lock is held while buf's callbacks run. -1 if buf already has a lock
 * (a bufferevent's buffers have theirs). */
int evbuffer_enable_locking(struct evbuffer *buf, void *lock);
/* Takes / releases buf's lock; nothing if it has none. */
void evbuffer_lock(struct evbuffer *buf);
void evbuffer_unlock(struct evbuffer *buf);

/* The buffer is only ever drained by writing it to an fd (or draining it
 * blindly, or moving all of it): socket bufferevents set it on their output.
 * evasio sends file segments with sendfile(2) whether or not it is set. */
#define EVBUFFER_FLAG_DRAINS_TO_FD 1
/* Add / remove EVBUFFER_FLAG_* flags; 0, or -1 for a NULL buffer. */
int evbuffer_set_flags(struct evbuffer *buf, ev_uint64_t flags);
int evbuffer_clear_flags(struct evbuffer *buf, ev_uint64_t flags);

/* Bytes stored. */
size_t evbuffer_get_length(const struct evbuffer *buf);
/* Bytes stored contiguously at the front (0 if the buffer is empty). */
size_t evbuffer_get_contiguous_space(const struct evbuffer *buf);
/* Makes room so that datlen more bytes can be appended without another
 * allocation. 0 on success, -1 on failure. */
int evbuffer_expand(struct evbuffer *buf, size_t datlen);

/* Appends a copy of data. 0 on success, -1 on failure (also when the end
 * of the buffer is frozen). */
int evbuffer_add(struct evbuffer *buf, const void *data, size_t datlen);
/* Appends formatted text; the count of bytes added, or -1. */
int evbuffer_add_printf(struct evbuffer *buf, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;
int evbuffer_add_vprintf(struct evbuffer *buf, const char *fmt, va_list ap)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 0)))
#endif
    ;
/* Moves all of inbuf to the end of outbuf. 0 on success, -1 on failure. */
int evbuffer_add_buffer(struct evbuffer *outbuf, struct evbuffer *inbuf);
/* Moves all of src to the front of dst. 0, or -1 when the front of either
 * is frozen. */
int evbuffer_prepend_buffer(struct evbuffer *dst, struct evbuffer *src);
/* Makes inbuf's bytes appear at the end of outbuf too, without copying
 * them: inbuf keeps them, and the memory stays alive while outbuf shows it
 * (inbuf's chunks become read-only). -1 if inbuf holds file segments or
 * bytes it shows by reference from another buffer, if outbuf is inbuf, or
 * if the end of outbuf is frozen. */
int evbuffer_add_buffer_reference(struct evbuffer *outbuf,
    struct evbuffer *inbuf);
/* Appends the n_vec extents in order (as that many evbuffer_add calls, in
 * room made once); returns the bytes added (0 on failure). */
size_t evbuffer_add_iovec(struct evbuffer *buffer,
    struct evbuffer_iovec *vec, int n_vec);
/* Appends datlen bytes at data without copying them: the memory must stay
 * valid and unchanged until cleanupfn (if not NULL) is called, once, when
 * the bytes have been drained or the buffer freed. 0 or -1 (on failure
 * cleanupfn is not called). */
int evbuffer_add_reference(struct evbuffer *outbuf, const void *data,
    size_t datlen, evbuffer_ref_cleanup_cb cleanupfn, void *cleanupfn_arg);
/* Inserts a copy of data at the front. 0 on success, -1 on failure (also
 * when the front of the buffer is frozen). */
int evbuffer_prepend(struct evbuffer *buf, const void *data, size_t size);

/* Reads and drains up to datlen bytes; returns the count or -1. */
int evbuffer_remove(struct evbuffer *buf, void *data, size_t datlen);
/* Copies up to datlen bytes without draining; returns the count or -1. */
ev_ssize_t evbuffer_copyout(struct evbuffer *buf, void *data_out,
    size_t datlen);
/* Same, from position pos (NULL: the start); -1 if pos is not in buf. */
ev_ssize_t evbuffer_copyout_from(struct evbuffer *buf,
    const struct evbuffer_ptr *pos, void *data_out, size_t datlen);
/* Moves up to datlen bytes from the front of src to the end of dst, whole
 * chunks without copying; returns the count or -1. */
int evbuffer_remove_buffer(struct evbuffer *src, struct evbuffer *dst,
    size_t datlen);
/* Drops len bytes from the front (all of them if len is larger). 0 or -1
 * (when the front is frozen). */
int evbuffer_drain(struct evbuffer *buf, size_t len);

/* I/O on a file descriptor (a socket, pipe or tty), as libevent's: one
 * readv of at most howmuch bytes (negative or more than 4096: 4096) added
 * at the end; returns the count, 0 at end of file, -1 with errno (EAGAIN
 * when a non-blocking fd has nothing). -1 when the end is frozen. */
int evbuffer_read(struct evbuffer *buffer, evutil_socket_t fd, int howmuch);
/* One writev of the front (at most howmuch bytes; negative: all), drained
 * by what was written; returns the count, or -1 with errno (EAGAIN, EPIPE:
 * SIGPIPE is raised as by writev). -1 when the front is frozen. */
int evbuffer_write_atmost(struct evbuffer *buffer, evutil_socket_t fd,
    ev_ssize_t howmuch);
int evbuffer_write(struct evbuffer *buffer, evutil_socket_t fd);
/* Takes one line off the front: a NUL-terminated copy without its line end,
 * allocated with malloc() (the caller frees it), or NULL when no complete
 * line is buffered. *n_read_out (if not NULL) gets the line's length, 0 on
 * NULL. */
char *evbuffer_readln(struct evbuffer *buffer, size_t *n_read_out,
    enum evbuffer_eol_style eol_style);

/* Makes the first size bytes (all of them if size is negative) contiguous
 * and returns them; NULL if size is 0 or more than the buffer holds. */
unsigned char *evbuffer_pullup(struct evbuffer *buf, ev_ssize_t size);

/* Sets *ptr to an offset from the start (EVBUFFER_PTR_SET) or moves it
 * forward (EVBUFFER_PTR_ADD). 0, or -1 with ptr->pos = -1 if the result
 * would be past the end. */
int evbuffer_ptr_set(struct evbuffer *buffer, struct evbuffer_ptr *ptr,
    size_t position, enum evbuffer_ptr_how how);
/* The first occurrence of what[0..len) at or after start (NULL: the
 * beginning); pos is -1 if there is none. */
struct evbuffer_ptr evbuffer_search(struct evbuffer *buffer,
    const char *what, size_t len, const struct evbuffer_ptr *start);
/* Same, for an occurrence that also ends at or before end (NULL: the end
 * of the buffer). */
struct evbuffer_ptr evbuffer_search_range(struct evbuffer *buffer,
    const char *what, size_t len, const struct evbuffer_ptr *start,
    const struct evbuffer_ptr *end);
/* The first line end of the given style at or after start; its length
 * goes to *eol_len_out (0 if none was found). */
struct evbuffer_ptr evbuffer_search_eol(struct evbuffer *buffer,
    struct evbuffer_ptr *start, size_t *eol_len_out,
    enum evbuffer_eol_style eol_style);

/* Points vec_out[0..n_vec) at the stored extents from start_at (NULL: the
 * beginning) covering len bytes (len < 0: as many extents as fit, or all of
 * them if n_vec is 0). Returns how many extents that takes, which may be
 * more than n_vec. */
int evbuffer_peek(struct evbuffer *buffer, ev_ssize_t len,
    struct evbuffer_ptr *start_at, struct evbuffer_iovec *vec_out,
    int n_vec);

/* Lends at least size bytes of free space at the end, as 1 or (if n_vec
 * allows) 2 extents; the count of extents or -1. Nothing is added until
 * evbuffer_commit_space(), which takes the same extents with iov_len set
 * to the bytes written; it fails (-1) if the buffer was changed in a way
 * that moved the space. */
int evbuffer_reserve_space(struct evbuffer *buf, ev_ssize_t size,
    struct evbuffer_iovec *vec, int n_vec);
int evbuffer_commit_space(struct evbuffer *buf,
    struct evbuffer_iovec *vec, int n_vecs);

/* Freezing the front (at_front != 0) makes draining and prepending fail;
 * freezing the back makes appending fail. Not counted: one unfreeze undoes
 * any number of freezes. 0 on success, -1 on failure. */
int evbuffer_freeze(struct evbuffer *buf, int at_front);
int evbuffer_unfreeze(struct evbuffer *buf, int at_front);

/* ---- Files ---- */

/* Appends length bytes (-1: up to the end) of fd from offset, and closes fd
 * once the buffer no longer needs it. Written to a socket or pipe with
 * sendfile(2), never through user space; read from the buffer (copyout,
 * remove, pullup, search...), the file is mapped (or read) into memory at
 * that moment. 0, or -1 (fd is then closed, unless no segment could even
 * be made of it, as libevent). */
int evbuffer_add_file(struct evbuffer *outbuf, int fd, ev_off_t offset,
    ev_off_t length);

/* A range of a file that may be added, whole or in part, to any number of
 * buffers; freed once the program's reference and every buffer's are gone. */
struct evbuffer_file_segment;
/* Close the fd when the segment is freed. */
#define EVBUF_FS_CLOSE_ON_FREE    0x01
/* Read the file into memory instead of mapping it, when it must be read. */
#define EVBUF_FS_DISABLE_MMAP     0x02
/* No sendfile: the bytes are mapped (or read) when the segment is made. */
#define EVBUF_FS_DISABLE_SENDFILE 0x04
/* No lock: the segment and its buffers stay in one thread. */
#define EVBUF_FS_DISABLE_LOCKING  0x08

/* Called once the segment is freed, with its EVBUF_FS_* flags. */
typedef void (*evbuffer_file_segment_cleanup_cb)(
    struct evbuffer_file_segment const *seg, int flags, void *arg);

/* length bytes of fd (-1: up to its end, by fstat) from offset; NULL with
 * errno on failure. fd must stay open while the segment is in use. */
struct evbuffer_file_segment *evbuffer_file_segment_new(
    int fd, ev_off_t offset, ev_off_t length, unsigned flags);
/* Drops the program's reference. */
void evbuffer_file_segment_free(struct evbuffer_file_segment *seg);
/* Sets the callback called when the segment is freed. */
void evbuffer_file_segment_add_cleanup_cb(struct evbuffer_file_segment *seg,
    evbuffer_file_segment_cleanup_cb cb, void *arg);
/* Appends bytes [offset, offset + length) of the segment (length -1: to
 * its end). 0, or -1; as libevent, a failure also drops one reference to
 * the segment (the program's, unless it took another). */
int evbuffer_add_file_segment(struct evbuffer *buf,
    struct evbuffer_file_segment *seg, ev_off_t offset, ev_off_t length);

/* ---- Callbacks ---- */

/* What changed since the callback was last told: the length before, and the
 * bytes added and deleted since (several changes when deferred). */
struct evbuffer_cb_info {
	size_t orig_size;
	size_t n_added;
	size_t n_deleted;
};
/* Called after each change of the buffer (add, drain, remove, prepend,
 * moves, fd reads and writes, file segments). Callbacks run newest first; a
 * callback may change the buffer (its callbacks then run again, nested),
 * add callbacks, and remove itself or others. */
typedef void (*evbuffer_cb_func)(struct evbuffer *buffer,
    const struct evbuffer_cb_info *info, void *arg);
struct evbuffer_cb_entry;
/* Adds a callback, enabled; its handle, or NULL (errno EINVAL for a NULL
 * buffer or cb, ENOMEM). */
struct evbuffer_cb_entry *evbuffer_add_cb(struct evbuffer *buffer,
    evbuffer_cb_func cb, void *cbarg);
/* Removes a callback by handle, or the newest with this cb and cbarg. 0, or
 * -1 if there is no such callback. */
int evbuffer_remove_cb_entry(struct evbuffer *buffer,
    struct evbuffer_cb_entry *ent);
int evbuffer_remove_cb(struct evbuffer *buffer, evbuffer_cb_func cb,
    void *cbarg);
/* A callback without this flag is skipped (its changes are not kept). */
#define EVBUFFER_CB_ENABLED 1
/* Set / clear EVBUFFER_CB_ENABLED; 0, or -1 with EINVAL if cb is not one of
 * buffer's callbacks. */
int evbuffer_cb_set_flags(struct evbuffer *buffer,
    struct evbuffer_cb_entry *cb, ev_uint32_t flags);
int evbuffer_cb_clear_flags(struct evbuffer *buffer,
    struct evbuffer_cb_entry *cb, ev_uint32_t flags);

struct event_base;
/* From now on the callbacks run from base's loop instead of after each
 * change: one run for all the changes since the last, with their sum. A
 * pending run counts as an active event of base. 0, or -1 (EINVAL). */
int evbuffer_defer_callbacks(struct evbuffer *buffer, struct event_base *base);

#ifdef __cplusplus
}
#endif

#endif /* EVASIO_EVENT2_BUFFER_H_INCLUDED_ */

/* evasio: libevent 2.1.12's event2/buffer.h API on Boost.Asio.
 * An evbuffer is a queue of bytes kept in a chain of chunks; moving data
 * between buffers moves chunks, not bytes. */
#ifndef EVASIO_EVENT2_BUFFER_H_INCLUDED_
#define EVASIO_EVENT2_BUFFER_H_INCLUDED_

#include <event2/util.h>

#ifdef __cplusplus
extern "C" {
#endif

struct evbuffer;

struct evbuffer *evbuffer_new(void);
void evbuffer_free(struct evbuffer *buf);
size_t evbuffer_get_length(const struct evbuffer *buf);
/* Appends a copy of data. 0 on success, -1 on failure. */
int evbuffer_add(struct evbuffer *buf, const void *data, size_t datlen);
/* Moves all of inbuf to the end of outbuf. 0 on success, -1 on failure. */
int evbuffer_add_buffer(struct evbuffer *outbuf, struct evbuffer *inbuf);
/* Reads and drains up to datlen bytes; returns the count or -1. */
int evbuffer_remove(struct evbuffer *buf, void *data, size_t datlen);
/* Copies up to datlen bytes without draining; returns the count or -1. */
ev_ssize_t evbuffer_copyout(struct evbuffer *buf, void *data, size_t datlen);
/* Drops len bytes from the front (all of them if len is larger). */
int evbuffer_drain(struct evbuffer *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* EVASIO_EVENT2_BUFFER_H_INCLUDED_ */

/* evasio: libevent 2.1.12's event2/buffer_compat.h, the 1.x evbuffer API,
 * over the 2.x functions (asio_backend/buffer_compat.cpp). */
#ifndef EVASIO_EVENT2_BUFFER_COMPAT_H_INCLUDED_
#define EVASIO_EVENT2_BUFFER_COMPAT_H_INCLUDED_

#include <event2/visibility.h>
#include <event2/util.h>

#ifdef __cplusplus
extern "C" {
#endif

struct evbuffer;

/* evbuffer_readln(buffer, NULL, EVBUFFER_EOL_ANY): a malloc'ed line, or NULL. */
char *evbuffer_readline(struct evbuffer *buffer);
/* The first occurrence of what[0..len) in the buffer, made contiguous, or NULL. */
unsigned char *evbuffer_find(struct evbuffer *buffer, const unsigned char *what, size_t len);

/* Called after each change of the buffer's length, with the length before
 * and after it. */
typedef void (*evbuffer_cb)(struct evbuffer *buffer, size_t old_len, size_t new_len, void *arg);
/* The buffer's one length callback (NULL: none); replaces the one set
 * before. 0, or -1 with errno EINVAL for a NULL buffer. */
int evbuffer_setcb(struct evbuffer *buffer, evbuffer_cb cb, void *cbarg);

#define EVBUFFER_LENGTH(x) evbuffer_get_length(x)
#define EVBUFFER_DATA(x) evbuffer_pullup((x), -1)

#ifdef __cplusplus
}
#endif

#endif

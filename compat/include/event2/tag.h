/* evasio: libevent 2.1.12's event2/tag.h, event tagging: typed values
 * (integers, strings, timevals, raw bytes) marshalled into and out of
 * evbuffers in libevent's wire format, byte for byte, so that data tagged by
 * a libevent program reads back here and the other way round.
 *
 * The format: a record is a tag, a length and the payload. A tag is its
 * value in 7-bit groups, least significant first, each but the last with
 * its high bit set. A length (and any tagged integer) is a nibble count
 * minus one in the first nibble, then the number's nibbles, least
 * significant first, padded with a zero nibble to whole bytes. Tags are
 * expected in increasing order, so that a reader may ignore what follows a
 * tag it does not know. */
#ifndef EVASIO_EVENT2_TAG_H_INCLUDED_
#define EVASIO_EVENT2_TAG_H_INCLUDED_

#include <event2/event-config.h>
#include <event2/visibility.h>
#include <event2/util.h>
#include <sys/types.h>
#include <sys/time.h>
#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

struct evbuffer;

/* Nothing to set up; kept for programs that call it. */
EVENT2_EXPORT_SYMBOL void evtag_init(void);

/* Reads a record's tag and length: the payload's length, or -1 when the
 * header is malformed or the payload is not all there yet. */
EVENT2_EXPORT_SYMBOL int evtag_unmarshal_header(struct evbuffer *evbuf, ev_uint32_t *ptag);

EVENT2_EXPORT_SYMBOL void evtag_marshal(struct evbuffer *evbuf, ev_uint32_t tag,
    const void *data, ev_uint32_t len);
/* Moves all of data into one record. */
EVENT2_EXPORT_SYMBOL void evtag_marshal_buffer(struct evbuffer *evbuf, ev_uint32_t tag,
    struct evbuffer *data);

/* A bare integer (no tag, no length) in the nibble encoding. */
EVENT2_EXPORT_SYMBOL void evtag_encode_int(struct evbuffer *evbuf, ev_uint32_t number);
EVENT2_EXPORT_SYMBOL void evtag_encode_int64(struct evbuffer *evbuf, ev_uint64_t number);

EVENT2_EXPORT_SYMBOL void evtag_marshal_int(struct evbuffer *evbuf, ev_uint32_t tag,
    ev_uint32_t integer);
EVENT2_EXPORT_SYMBOL void evtag_marshal_int64(struct evbuffer *evbuf, ev_uint32_t tag,
    ev_uint64_t integer);
EVENT2_EXPORT_SYMBOL void evtag_marshal_string(struct evbuffer *buf, ev_uint32_t tag,
    const char *string);
EVENT2_EXPORT_SYMBOL void evtag_marshal_timeval(struct evbuffer *evbuf, ev_uint32_t tag,
    struct timeval *tv);

/* Moves one record's payload into dst: its length, or -1. */
EVENT2_EXPORT_SYMBOL int evtag_unmarshal(struct evbuffer *src, ev_uint32_t *ptag,
    struct evbuffer *dst);
/* The next record's tag, left in the buffer: the tag's encoded size, or -1. */
EVENT2_EXPORT_SYMBOL int evtag_peek(struct evbuffer *evbuf, ev_uint32_t *ptag);
/* The next record's whole length (header and payload): 0, or -1. */
EVENT2_EXPORT_SYMBOL int evtag_peek_length(struct evbuffer *evbuf, ev_uint32_t *plength);
/* The next record's payload length: 0, or -1. */
EVENT2_EXPORT_SYMBOL int evtag_payload_length(struct evbuffer *evbuf, ev_uint32_t *plength);
/* Drops the next record: 0, or -1. */
EVENT2_EXPORT_SYMBOL int evtag_consume(struct evbuffer *evbuf);

/* The typed readers fail (-1) when the next record's tag is not need_tag or
 * its payload is malformed. */
EVENT2_EXPORT_SYMBOL int evtag_unmarshal_int(struct evbuffer *evbuf, ev_uint32_t need_tag,
    ev_uint32_t *pinteger);
EVENT2_EXPORT_SYMBOL int evtag_unmarshal_int64(struct evbuffer *evbuf, ev_uint32_t need_tag,
    ev_uint64_t *pinteger);
/* The payload must be exactly len bytes. */
EVENT2_EXPORT_SYMBOL int evtag_unmarshal_fixed(struct evbuffer *src, ev_uint32_t need_tag,
    void *data, size_t len);
/* *pstring is a NUL-terminated copy for the caller to free(). */
EVENT2_EXPORT_SYMBOL int evtag_unmarshal_string(struct evbuffer *evbuf, ev_uint32_t need_tag,
    char **pstring);
EVENT2_EXPORT_SYMBOL int evtag_unmarshal_timeval(struct evbuffer *evbuf, ev_uint32_t need_tag,
    struct timeval *ptv);

#ifdef __cplusplus
}
#endif

#endif /* EVASIO_EVENT2_TAG_H_INCLUDED_ */

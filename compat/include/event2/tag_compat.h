/* evasio: libevent 2.1.12's event2/tag_compat.h: the old names of the
 * integer encoders. */
#ifndef EVASIO_EVENT2_TAG_COMPAT_H_INCLUDED_
#define EVASIO_EVENT2_TAG_COMPAT_H_INCLUDED_

#define encode_int(evbuf, number) evtag_encode_int((evbuf), (number))
#define encode_int64(evbuf, number) evtag_encode_int64((evbuf), (number))

#endif /* EVASIO_EVENT2_TAG_COMPAT_H_INCLUDED_ */

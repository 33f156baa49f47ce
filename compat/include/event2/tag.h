/* evasio: libevent 2.1.12's <event2/tag.h> is not provided yet.
 * The name exists so that an evasio build can never take a system libevent's
 * copy of it: including it stops the compilation with this message. */
#ifndef EVASIO_EVENT2_TAG_H_INCLUDED_
#define EVASIO_EVENT2_TAG_H_INCLUDED_
#error "evasio does not provide <event2/tag.h> yet: event tagging (evtag_*) (see the coverage table in evasio's README.md)"
#endif

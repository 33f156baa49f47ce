/* evasio: struct event, for programs that embed events (event_assign).
 * Its insides are evasio's: treat it as opaque storage. An event that is not
 * pending owns nothing, so its memory may be freed or reused at will, as in
 * libevent. */
#ifndef EVASIO_EVENT2_EVENT_STRUCT_H_INCLUDED_
#define EVASIO_EVENT2_EVENT_STRUCT_H_INCLUDED_

/* What libevent's event2/event_struct.h brings (on Linux). */
#include <sys/types.h>
#include <sys/time.h>

#include <event2/util.h>
#include <event2/keyvalq_struct.h> /* as libevent's event_struct.h */

#ifdef __cplusplus
extern "C" {
#endif

struct event {
	void *evasio_opaque_[32];
};

#ifdef __cplusplus
}
#endif

#endif /* EVASIO_EVENT2_EVENT_STRUCT_H_INCLUDED_ */

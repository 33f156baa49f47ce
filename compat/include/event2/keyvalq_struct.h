/* evasio: libevent 2.1.12's event2/keyvalq_struct.h: a list of key/value
 * pairs (HTTP headers, parsed query strings), walked by programs with
 * <sys/queue.h>'s TAILQ_FOREACH. The TAILQ_* shapes are defined here only when
 * <sys/queue.h> has not been included, and undefined again after use, as
 * libevent does, so that a later <sys/queue.h> is not disturbed. */
#ifndef EVASIO_EVENT2_KEYVALQ_STRUCT_H_INCLUDED_
#define EVASIO_EVENT2_KEYVALQ_STRUCT_H_INCLUDED_

#ifdef __cplusplus
extern "C" {
#endif

#ifndef TAILQ_ENTRY
#define EVASIO_KEYVALQ_DEFINED_TQENTRY_
#define TAILQ_ENTRY(type) \
  struct {                \
    struct type* tqe_next;  \
    struct type** tqe_prev; \
  }
#endif
#ifndef TAILQ_HEAD
#define EVASIO_KEYVALQ_DEFINED_TQHEAD_
#define TAILQ_HEAD(name, type) \
  struct name {                \
    struct type* tqh_first;    \
    struct type** tqh_last;    \
  }
#endif

/* One key/value pair. */
struct evkeyval {
  TAILQ_ENTRY(evkeyval) next;
  char* key;
  char* value;
};

/* The list head: struct evkeyvalq. */
TAILQ_HEAD(evkeyvalq, evkeyval);

#ifdef EVASIO_KEYVALQ_DEFINED_TQENTRY_
#undef TAILQ_ENTRY
#undef EVASIO_KEYVALQ_DEFINED_TQENTRY_
#endif
#ifdef EVASIO_KEYVALQ_DEFINED_TQHEAD_
#undef TAILQ_HEAD
#undef EVASIO_KEYVALQ_DEFINED_TQHEAD_
#endif

#ifdef __cplusplus
}
#endif

#endif

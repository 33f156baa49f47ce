/* evasio: libevent 2.1.12's event2/visibility.h. libevent marks its exported
 * functions with these; evasio's library exports through a version script
 * (asio_backend/evasio.map), so to a program they are plain declarations. */
#ifndef EVASIO_EVENT2_VISIBILITY_H_INCLUDED_
#define EVASIO_EVENT2_VISIBILITY_H_INCLUDED_

#ifndef EVENT2_EXPORT_SYMBOL
#define EVENT2_EXPORT_SYMBOL
#endif
#ifndef EVENT2_CORE_EXPORT_SYMBOL
#define EVENT2_CORE_EXPORT_SYMBOL EVENT2_EXPORT_SYMBOL
#endif

/* evasio's own: marks a function libevent declares in a header evasio
 * provides but that evasio does not implement yet. A call to it stops the
 * compilation with the message (GCC, clang 14 and later); with another
 * compiler the program fails to link. */
#if defined(__has_attribute)
#if __has_attribute(error)
#define EVASIO_NOT_PROVIDED(msg) __attribute__((error(msg)))
#endif
#endif
#ifndef EVASIO_NOT_PROVIDED
#define EVASIO_NOT_PROVIDED(msg)
#endif

#endif

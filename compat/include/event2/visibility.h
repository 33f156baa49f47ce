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

#endif

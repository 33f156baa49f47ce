/* evasio: libevent's 1.x <evutil.h>, which is event2/util.h under its old name. */
#ifndef EVASIO_EVUTIL_H_INCLUDED_
#define EVASIO_EVUTIL_H_INCLUDED_

#include <event2/util.h>

#endif

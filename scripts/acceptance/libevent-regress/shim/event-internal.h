/* libevent-internal header name: everything the tests need is in shim.h */
#include "shim.h"

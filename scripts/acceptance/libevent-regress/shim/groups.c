/* The test groups of regress_main.c's table whose files are not built
 * (run.sh lists their cases as NOBUILD, with the reason). Empty lists, so
 * that the table links; nothing is run from them. */
#include <stddef.h>
#include "tinytest.h"
#include "tinytest_macros.h"
struct testcase_t evbuffer_testcases[] = { END_OF_TESTCASES };
struct testcase_t minheap_testcases[] = { END_OF_TESTCASES };
struct testcase_t http_testcases[] = { END_OF_TESTCASES };
struct testcase_t rpc_testcases[] = { END_OF_TESTCASES };
/* ssl/ is built (regress_ssl.c) when the library has TLS: run.sh then
 * passes EVENT__HAVE_OPENSSL. */
#ifndef EVENT__HAVE_OPENSSL
struct testcase_t ssl_testcases[] = { END_OF_TESTCASES };
#endif

/* shim: libevent's openssl-compat.h maps OpenSSL 1.1's accessors onto older
 * OpenSSL; with OpenSSL 1.1 and later (Debian 12: 3.0) there is nothing to
 * map, so regress_ssl.c needs only the name. */
#ifndef EVASIO_REGRESS_SHIM_OPENSSL_COMPAT_H_
#define EVASIO_REGRESS_SHIM_OPENSSL_COMPAT_H_
#endif

/* evasio: libevent 2.1.12's event2/dns_struct.h: the parts of a server
 * request a DNS server callback reads, laid out as libevent's. */
#ifndef EVASIO_EVENT2_DNS_STRUCT_H_INCLUDED_
#define EVASIO_EVENT2_DNS_STRUCT_H_INCLUDED_

#include <event2/event-config.h>
#include <sys/types.h>
#include <sys/time.h>
#include <event2/util.h>

#ifdef __cplusplus
extern "C" {
#endif

struct evdns_server_request {
	int flags;
	int nquestions;
	struct evdns_server_question **questions;
};

struct evdns_server_question {
	int type;
#ifdef __cplusplus
	int dns_question_class;
#else
	/* C programs may call it either; libevent's name is 'class'. */
	int class;
#define dns_question_class class
#endif
	char name[1];
};

#ifdef __cplusplus
}
#endif

#endif

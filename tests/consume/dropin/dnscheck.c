/* evdns through the drop-in install's libevent_extra: an evdns_base, a
 * nameserver, and an evdns_getaddrinfo answered from the hosts entries
 * (no network). Prints "dnscheck: ok" when all went as with libevent. */
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <stdio.h>
#include <string.h>

static int answered;

static void got(int result, struct evutil_addrinfo *res, void *arg)
{
	(void)arg;
	answered = result == 0 && res && res->ai_family == AF_INET;
	evutil_freeaddrinfo(res);
}

int main(void)
{
	struct event_base *base = event_base_new();
	struct evdns_base *dns = base ? evdns_base_new(base, 0) : NULL;
	struct evutil_addrinfo hints;
	if (!dns || evdns_base_nameserver_ip_add(dns, "127.0.0.1:53") != 0 ||
	    evdns_base_count_nameservers(dns) != 1 || evdns_base_load_hosts(dns, NULL) != 0)
		return 1;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_INET;
	if (evdns_getaddrinfo(dns, "localhost", "80", &hints, got, NULL) != NULL || !answered)
		return 1;
	evdns_base_free(dns, 0);
	event_base_free(base);
	printf("dnscheck: ok\n");
	return 0;
}

/* Links evasio from C: a listener on an ephemeral port, then a loop that
 * returns because nothing is pending once the listener is freed. */
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int len, void *arg)
{
	(void)l; (void)fd; (void)sa; (void)len; (void)arg;
}

int main(void)
{
	struct event_base *base = event_base_new();
	struct sockaddr_in sin;
	struct evconnlistener *lev;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lev = evconnlistener_new_bind(base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE,
	    -1, (struct sockaddr *)&sin, sizeof sin);
	if (!base || !lev)
		return 1;
	evconnlistener_free(lev);
	if (event_base_dispatch(base) != 1)
		return 2;
	event_base_free(base);
	puts("consumer ok");
	return 0;
}

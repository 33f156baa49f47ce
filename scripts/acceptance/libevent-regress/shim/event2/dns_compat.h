/* Placeholder for <event2/dns_compat.h>: see event2/dns.h here */
#include "dns.h"

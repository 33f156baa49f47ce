// The evdns 1.x API (event2/dns_compat.h): each call on the process-wide
// evdns_base, as libevent's. evdns_init makes it on the current base;
// evdns_set_option and evdns_resolv_conf_parse make an empty one if none.
#include "detail/evdns.hpp"

#include <event2/dns_compat.h>

namespace dns = evasio::detail::dns;

namespace {

struct evdns_base* global_or_new() {
  if (!dns::global_base())
    dns::global_base() = evdns_base_new(nullptr, 0);
  return dns::global_base();
}

} // namespace

extern "C" {

int evdns_init(void) {
  struct evdns_base* b = evdns_base_new(nullptr, EVDNS_BASE_INITIALIZE_NAMESERVERS);
  if (!b)
    return -1;
  dns::global_base() = b;
  return 0;
}

struct evdns_base* evdns_get_global_base(void) { return dns::global_base(); }

void evdns_shutdown(int fail_requests) {
  if (struct evdns_base* b = dns::global_base()) {
    dns::global_base() = nullptr;
    evdns_base_free(b, fail_requests);
  }
  evdns_set_log_fn(nullptr);  // as libevent
}

int evdns_nameserver_add(unsigned long int address) {
  return evdns_base_nameserver_add(dns::global_base(), address);
}
int evdns_count_nameservers(void) { return evdns_base_count_nameservers(dns::global_base()); }
int evdns_clear_nameservers_and_suspend(void) {
  return evdns_base_clear_nameservers_and_suspend(dns::global_base());
}
int evdns_resume(void) { return evdns_base_resume(dns::global_base()); }
int evdns_nameserver_ip_add(const char* ip_as_string) {
  return evdns_base_nameserver_ip_add(dns::global_base(), ip_as_string);
}

int evdns_resolve_ipv4(const char* name, int flags, evdns_callback_type callback, void* ptr) {
  return evdns_base_resolve_ipv4(dns::global_base(), name, flags, callback, ptr) ? 0 : -1;
}
int evdns_resolve_ipv6(const char* name, int flags, evdns_callback_type callback, void* ptr) {
  return evdns_base_resolve_ipv6(dns::global_base(), name, flags, callback, ptr) ? 0 : -1;
}
int evdns_resolve_reverse(const struct in_addr* in, int flags, evdns_callback_type callback, void* ptr) {
  return evdns_base_resolve_reverse(dns::global_base(), in, flags, callback, ptr) ? 0 : -1;
}
int evdns_resolve_reverse_ipv6(const struct in6_addr* in, int flags, evdns_callback_type callback, void* ptr) {
  return evdns_base_resolve_reverse_ipv6(dns::global_base(), in, flags, callback, ptr) ? 0 : -1;
}

int evdns_set_option(const char* option, const char* val, int flags) {
  (void)flags;  // as libevent: every part of the option applies
  return evdns_base_set_option(global_or_new(), option, val);
}
int evdns_resolv_conf_parse(int flags, const char* const filename) {
  return evdns_base_resolv_conf_parse(global_or_new(), flags, filename);
}
void evdns_search_clear(void) { evdns_base_search_clear(dns::global_base()); }
void evdns_search_add(const char* domain) { evdns_base_search_add(dns::global_base(), domain); }
void evdns_search_ndots_set(const int ndots) { evdns_base_search_ndots_set(dns::global_base(), ndots); }

} // extern "C"

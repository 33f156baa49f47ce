// evdns: libevent's asynchronous resolver over c-ares.
//
// c-ares sends the queries (encoded here), matches replies to them (query
// id, source address and port, question), falls back to TCP on truncation
// and decompresses the names we read. Its sockets and its timeouts are watched by plain events on the
// evdns_base's event_base, so a lookup costs no thread. What libevent adds
// on top, and programs see, lives here: requests and their callbacks (run
// from the loop, never from the call that made them), the search list,
// retransmission and reissue policy, the in-flight limit and its waiting
// queue, suspension, the hosts entries and libevent's error codes and TTLs.
#ifndef EVASIO_DETAIL_EVDNS_HPP_INCLUDED_
#define EVASIO_DETAIL_EVDNS_HPP_INCLUDED_

#include "lock.hpp"

#include <event2/dns.h>
#include <event2/event.h>

#include <ares.h>
#include <boost/intrusive/list.hpp>
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

namespace evasio::detail::dns {

// One c-ares channel per nameserver, so that evdns picks the server of
// each transmission as libevent does (round robin over the good ones). Its
// transport settings are fixed: a change of them (timeout, bind-to, socket
// buffers) gives each nameserver a new channel; the old one lives on
// (retired) until its queries have come back.
struct channel {
  struct watched {
    int fd;
    short what;
    ::event* ev;
  };
  ::evdns_base* owner = nullptr;
  struct nameserver* ns = nullptr;  // the one server it asks
  ares_channel ch = nullptr;
  ::event* timer = nullptr;
  std::vector<watched> socks;
  bool timer_armed = false;
  int outstanding = 0;  // our ares_query calls not yet called back
  bool retired = false;
};

struct hosts_entry {
  std::string name;
  sockaddr_storage addr;
  socklen_t len;
};

// libevent's nameserver: marked failed after timeouts (or REFUSED and
// NOTIMP), then probed with a query for google.com until it answers.
struct nameserver {
  ::evdns_base* owner = nullptr;
  sockaddr_storage addr;
  socklen_t len;
  channel* chan = nullptr;  // made on first use
  // Its UDP socket, opened when it was added (as libevent's: so that it can
  // still be asked when the process is out of fds), lent to one channel at
  // a time; c-ares opens others as it needs them.
  int udp_fd = -1;
  bool udp_lent = false;
  bool good = true;
  int timedout = 0;
  int failed_times = 0;
  ::event* probe_timer = nullptr;
  ::evdns_request* probe = nullptr;
};

using list_hook = boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::safe_link>>;

constexpr int max_addrs = 32;  // libevent's MAX_V4_ADDRS / MAX_V6_ADDRS

} // namespace evasio::detail::dns

// libevent's evdns_request: the handle a resolve returns. It is in at most
// one of the base's lists (waiting, in flight, answered) and lives until
// its callback has run and c-ares has let go of it.
struct evdns_request : evasio::detail::dns::list_hook {
  enum class state { waiting, inflight, answered, delivered };
  ::evdns_base* base = nullptr;
  evdns_callback_type cb = nullptr;
  void* arg = nullptr;
  char type = 0;  // DNS_IPv4_A, DNS_IPv6_AAAA, DNS_PTR
  state st = state::waiting;
  bool in_cares = false;  // an ares_query of ours is outstanding for it
  evasio::detail::dns::channel* chan = nullptr;  // the channel it is outstanding on
  evasio::detail::dns::nameserver* ns = nullptr;  // where it went last
  evasio::detail::dns::nameserver* probe_of = nullptr;  // a probe: always there
  bool searching = false;
  int search_index = 0;   // -1: the name as given is being tried
  std::string origname;   // the name asked for (search)
  std::string name;       // the name being asked now
  int tx = 0;             // transmissions of this name (timeouts, SERVFAIL)
  int reissues = 0;       // REFUSED / NOTIMP reissued
  // The result, kept until the callback runs.
  int err = 0;
  int ttl = 0;
  int count = 0;
  union {
    ev_uint32_t a[evasio::detail::dns::max_addrs];
    in6_addr aaaa[evasio::detail::dns::max_addrs];
  } addrs;
  std::string ptr;
  // evdns_getaddrinfo with AI_CANONNAME: the first CNAME target, if any.
  std::string* cname_out = nullptr;
};

struct evdns_base {
  using request_list = boost::intrusive::list<evdns_request>;
  using channel = evasio::detail::dns::channel;

  evdns_base(::event_base* base, bool locking);
  ~evdns_base();
  evdns_base(const evdns_base&) = delete;
  evdns_base& operator=(const evdns_base&) = delete;

  // ---- requests (lock held) ----
  evdns_request* resolve(char type, const char* name, int flags, evdns_callback_type cb, void* arg);
  void cancel(evdns_request* req);
  // Frees the base. Called with the lock held once; returns with it released.
  void free_base(bool fail_requests);
  // ---- configuration (lock held) ----
  int add_nameserver(const sockaddr* sa, socklen_t len);
  void clear_nameservers_and_suspend();
  void resume();
  int set_option(const char* option, const char* val, int flags);
  int resolv_conf_parse(int flags, const char* filename);
  int load_hosts(const char* fname);
  void search_clear();
  void search_add(const char* domain);
  void search_set_from_hostname();
  // Hosts entries for name (case-insensitive), in file order.
  std::vector<const evasio::detail::dns::hosts_entry*> hosts_for(const char* name) const;
  // The timeout changed: queries made from now go to new channels.
  void config_changed();
  // A socket for a nameserver: bind-to, buffer sizes (0 or libevent's code).
  int prepare_socket(int fd, const evasio::detail::dns::nameserver& ns) const noexcept;

  ::event_base* const ev_base;
  evasio::detail::optional_recursive_mutex mutex_;
  // libevent's ring of nameservers: head_ is where the next pick starts.
  std::vector<std::unique_ptr<evasio::detail::dns::nameserver>> servers_;
  size_t head_ = 0;
  int good_servers_ = 0;
  std::vector<std::string> search_;  // tried in this order
  int ndots_ = 1;
  std::vector<evasio::detail::dns::hosts_entry> hosts_;
  timeval timeout_{5, 0};
  int attempts_ = 3;
  int max_inflight_ = 64;
  int max_reissues_ = 1;
  int max_timeouts_ = 3;
  timeval probe_timeout_{10, 0};
  bool randomize_case_ = true;
  timeval getaddrinfo_skew_{3, 0};
  sockaddr_storage bind_to_{};
  socklen_t bind_to_len_ = 0;
  int so_rcvbuf_ = 0;
  int so_sndbuf_ = 0;
  bool disable_when_inactive_ = false;

private:
  friend struct evasio::detail::dns::channel;
  void submit(evdns_request* req);
  void transmit(evdns_request* req);  // to the next server picked
  void transmit_to(evdns_request* req, evasio::detail::dns::nameserver* ns);
  void pump_waiting();
  bool search_next(evdns_request* req);
  void answered(evdns_request* req, int err, int ttl);
  void retry_or_fail(evdns_request* req);
  void on_reply(evdns_request* req, int status, unsigned char* abuf, int alen);
  evasio::detail::dns::nameserver* pick_server();
  void server_failed(evasio::detail::dns::nameserver* ns, const char* why);
  void server_up(evasio::detail::dns::nameserver* ns);
  void probe_failed(evasio::detail::dns::nameserver* ns);
  void send_probe(evasio::detail::dns::nameserver* ns);
  void probe_done(evdns_request* req, int err);
  void drop_probes() noexcept;
  void remove_servers() noexcept;
  channel* channel_for(evasio::detail::dns::nameserver* ns);
  channel* make_channel(evasio::detail::dns::nameserver& ns);
  static const ares_socket_functions socket_functions;
  void destroy_channel(channel* c) noexcept;
  void reap_channels() noexcept;
  void after_cares(channel* c) noexcept;
  void update_keepalive() noexcept;
  bool deliver_answers() noexcept;  // true: the base was freed
  void release(evdns_request* req) noexcept;
  static void on_query_done(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
  static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable);
  static void on_sock_event(evutil_socket_t fd, short what, void* arg);
  static void on_timer(evutil_socket_t fd, short what, void* arg);
  static void on_answers(evutil_socket_t fd, short what, void* arg);
  static void on_keepalive(evutil_socket_t, short, void*) {}
  static void run_orphans(evutil_socket_t fd, short what, void* arg);
  static void on_probe_timer(evutil_socket_t fd, short what, void* arg);

  std::vector<std::unique_ptr<channel>> channels_;  // the nameservers' and retired ones
  request_list waiting_;
  request_list inflight_;
  request_list answers_;  // answered, callback not yet run
  int inflight_count_ = 0;
  ::event* answers_ev_ = nullptr;  // runs the answered callbacks from the loop
  ::event* keepalive_ = nullptr;   // see update_keepalive
  int cares_depth_ = 0;  // inside a c-ares call: no channel may be destroyed
  bool delivering_ = false;
  bool free_after_delivery_ = false;
  bool pending_fail_ = false;
};

namespace evasio::detail::dns {
// libevent's evdns messages (EVENT_LOG_DEBUG, _MSG, _WARN): to
// evdns_set_log_fn's function (is_warning for _WARN), else to the event log.
void log(int severity, const char* fmt, ...) noexcept __attribute__((format(printf, 2, 3)));
// "a.b.c.d:port" or "[v6]:port", for those messages.
std::string format_addr(const sockaddr* sa);
// The process-wide evdns_base of the 1.x API (evdns_init), or null.
::evdns_base*& global_base() noexcept;
} // namespace evasio::detail::dns

#endif

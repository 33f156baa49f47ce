// URIs (event2/http.h's struct evhttp_uri): parsing, the parts, joining.
// The grammar is libevent 2.1.12's reading of RFC 3986, written here rather
// than taken from Boost.URL, whose parser accepts and refuses other strings
// (libevent's is lenient in places: an empty host, a port with no digits,
// any port up to 65535 with leading zeros, a reg-name it never lower-cases;
// and EVHTTP_URI_NONCONFORMANT lets anything but '?' and '#' into the path).
// Every part is kept as given: nothing is decoded or normalised.
#include "detail/c_boundary.hpp"
#include "detail/global.hpp"

#include <event2/http.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

struct evhttp_uri {
  unsigned flags;
  char* scheme;   // NULL when absent
  char* userinfo; // NULL when absent
  char* host;     // NULL without an authority; "" for an empty one
  int port;       // -1 when absent
  char* path;     // "" after a parse of a URI with none; NULL in a new one
  char* query;    // NULL when absent ("" for a bare '?')
  char* fragment; // NULL when absent
};

namespace {

using evasio::detail::fail;
using evasio::detail::mm_free;
using evasio::detail::mm_malloc;
using std::string_view;

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
// RFC 3986's unreserved characters.
bool unreserved(char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
bool sub_delim(char c) { return c != '\0' && std::strchr("!$&'()*+,;=", c) != nullptr; }
// A %XX escape at s[i].
bool escape_at(string_view s, size_t i) {
  return s[i] == '%' && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2]);
}

char* copy_of(string_view s) {
  char* p = static_cast<char*>(mm_malloc(s.size() + 1));
  if (!p)
    return nullptr;
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  return p;
}

// scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
bool scheme_valid(string_view s) {
  if (s.empty() || !is_alpha(s[0]))
    return false;
  for (char c : s.substr(1))
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.')
      return false;
  return true;
}

// Unreserved, sub-delims, %XX, and ':' when colon_ok.
bool chars_valid(string_view s, bool colon_ok) {
  for (size_t i = 0; i < s.size();) {
    if (unreserved(s[i]) || sub_delim(s[i]) || (colon_ok && s[i] == ':'))
      ++i;
    else if (escape_at(s, i))
      i += 3;
    else
      return false;
  }
  return true;
}
bool userinfo_valid(string_view s) { return chars_valid(s, true); }
bool regname_valid(string_view s) { return chars_valid(s, false); }

// "[...]": an IPv6 address (as inet_pton reads it) or an IPvFuture
// ("v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )).
bool bracketed_valid(string_view s) {
  if (s.size() < 3 || s.front() != '[' || s.back() != ']')
    return false;
  string_view in = s.substr(1, s.size() - 2);
  if (in[0] == 'v') {
    size_t i = 1;
    if (i >= in.size() || !is_hex(in[i]))
      return false;
    while (i < in.size() && is_hex(in[i]))
      ++i;
    if (i >= in.size() || in[i] != '.')
      return false;
    // libevent takes "[v1.]" (nothing after the dot): so does this.
    for (++i; i < in.size(); ++i)
      if (!unreserved(in[i]) && !sub_delim(in[i]) && in[i] != ':')
        return false;
    return true;
  }
  if (in.size() >= 64)
    return false;
  char text[65];
  std::memcpy(text, in.data(), in.size());
  text[in.size()] = '\0';
  struct in6_addr a;
  return ::inet_pton(AF_INET6, text, &a) == 1;
}

// A host as evhttp_uri_set_host() takes it: bracketed when it starts so.
bool host_valid(string_view h) { return !h.empty() && h[0] == '[' ? bracketed_valid(h) : regname_valid(h); }

enum class part { path, query, fragment };

// Where the part that starts at s[from] ends: the first character it may
// not hold.
size_t end_of(string_view s, size_t from, part p, unsigned flags) {
  size_t i = from;
  if (flags & EVHTTP_URI_NONCONFORMANT) {
    if (p == part::fragment)
      return s.size();
    while (i < s.size() && s[i] != '#' && (p == part::query || s[i] != '?'))
      ++i;
    return i;
  }
  while (i < s.size()) {
    const char c = s[i];
    if (unreserved(c) || sub_delim(c) || c == ':' || c == '@' || c == '/')
      ++i;
    else if (c == '%' && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2]))
      i += 3;
    else if (c == '?' && p != part::path)
      ++i;
    else
      break;
  }
  return i;
}

bool whole(string_view s, part p, unsigned flags) { return end_of(s, 0, p, flags) == s.size(); }

// A relative reference's first segment may not hold a ':'.
bool first_segment_has_no_colon(string_view path) {
  for (char c : path) {
    if (c == ':')
      return false;
    if (c == '/')
      return true;
  }
  return true;
}

// The port's digits (at least one): the number, or -1 above 65535.
int port_number(string_view digits) {
  long n = 0;
  for (char c : digits) {
    n = n * 10 + (c - '0');
    if (n > 65535)
      return -1;
  }
  return static_cast<int>(n);
}

// authority = [ userinfo "@" ] host [ ":" port ]
bool parse_authority(evhttp_uri* uri, string_view a) {
  if (a.empty())
    return (uri->host = copy_of("")) != nullptr;
  const size_t at = a.find('@');
  if (at != string_view::npos) {
    if (!userinfo_valid(a.substr(0, at)) || !(uri->userinfo = copy_of(a.substr(0, at))))
      return false;
    a.remove_prefix(at + 1);
  }
  // Trailing digits after a ':' are the port; a ':' with none, no port.
  size_t i = a.size();
  while (i > 0 && is_digit(a[i - 1]))
    --i;
  if (i > 0 && a[i - 1] == ':') {
    if (i < a.size() && (uri->port = port_number(a.substr(i))) < 0)
      return false;
    a = a.substr(0, i - 1);
  }
  const bool bracketed = a.size() >= 2 && a.front() == '[' && a.back() == ']';
  if (bracketed ? !bracketed_valid(a) : !regname_valid(a))
    return false;
  return (uri->host = copy_of(a)) != nullptr;
}

evhttp_uri* new_uri(unsigned flags) {
  auto* uri = static_cast<evhttp_uri*>(mm_malloc(sizeof(evhttp_uri)));
  if (!uri)
    return fail<evhttp_uri*>(nullptr, ENOMEM);
  std::memset(uri, 0, sizeof *uri);
  uri->flags = flags;
  uri->port = -1;
  return uri;
}

void free_uri(evhttp_uri* uri) {
  for (char* p : {uri->scheme, uri->userinfo, uri->host, uri->path, uri->query, uri->fragment})
    if (p)
      mm_free(p);
  mm_free(uri);
}

// URI = scheme ":" hier-part [ "?" query ] [ "#" fragment ], or a
// relative-ref = relative-part [ "?" query ] [ "#" fragment ].
bool parse_into(evhttp_uri* uri, string_view s, unsigned flags) {
  size_t pos = 0;
  const size_t colon = s.find(':');
  if (colon != string_view::npos && scheme_valid(s.substr(0, colon))) {
    if (!(uri->scheme = copy_of(s.substr(0, colon))))
      return false;
    pos = colon + 1;
  }
  bool authority = false;
  if (s.substr(pos, 2) == "//") {
    pos += 2;
    size_t end = s.find_first_of("/?#", pos);
    if (end == string_view::npos)
      end = s.size();
    if (!parse_authority(uri, s.substr(pos, end - pos)))
      return false;
    pos = end;
    authority = true;
  }
  size_t end = end_of(s, pos, part::path, flags);
  const string_view path = s.substr(pos, end - pos);
  pos = end;
  const char* query_start = nullptr;
  size_t query_len = 0;
  if (pos < s.size() && s[pos] == '?') {
    end = end_of(s, pos + 1, part::query, flags);
    query_start = s.data() + pos + 1;
    query_len = end - pos - 1;
    pos = end;
  }
  const char* fragment_start = nullptr;
  size_t fragment_len = 0;
  if (pos < s.size() && s[pos] == '#') {
    end = end_of(s, pos + 1, part::fragment, flags);
    fragment_start = s.data() + pos + 1;
    fragment_len = end - pos - 1;
    pos = end;
  }
  if (pos != s.size())
    return false;
  // With an authority the path is empty or absolute; without one it may
  // not start with "//" (neither can happen after the steps above).
  if (authority && !path.empty() && path[0] != '/')
    return false;
  if (!authority && path.substr(0, 2) == "//")
    return false;
  if (!uri->scheme && !first_segment_has_no_colon(path))
    return false;
  if (!(uri->path = copy_of(path)))
    return false;
  if (query_start && !(uri->query = copy_of(string_view(query_start, query_len))))
    return false;
  if (fragment_start && !(uri->fragment = copy_of(string_view(fragment_start, fragment_len))))
    return false;
  return true;
}

// Replaces *field with a copy of value (NULL: none).
int set_field(char** field, const char* value) {
  char* copy = nullptr;
  if (value && !(copy = copy_of(value)))
    return fail(-1, ENOMEM);
  if (*field)
    mm_free(*field);
  *field = copy;
  return 0;
}

} // namespace

extern "C" {

struct evhttp_uri* evhttp_uri_new(void) { return new_uri(0); }

void evhttp_uri_set_flags(struct evhttp_uri* uri, unsigned flags) {
  if (!uri) {
    errno = EINVAL;
    return;
  }
  uri->flags = flags;
}

struct evhttp_uri* evhttp_uri_parse_with_flags(const char* source_uri, unsigned flags) {
  if (!source_uri)
    return fail<evhttp_uri*>(nullptr, EINVAL);
  evhttp_uri* uri = new_uri(flags);
  if (!uri)
    return nullptr;
  if (!parse_into(uri, source_uri, flags)) {
    free_uri(uri);
    return nullptr;
  }
  return uri;
}

struct evhttp_uri* evhttp_uri_parse(const char* source_uri) {
  return evhttp_uri_parse_with_flags(source_uri, 0);
}

void evhttp_uri_free(struct evhttp_uri* uri) {
  if (uri)
    free_uri(uri);
}

char* evhttp_uri_join(struct evhttp_uri* uri, char* buf, size_t limit) {
  if (!uri || !buf)
    return fail<char*>(nullptr, EINVAL);
  if (limit == 0)
    return nullptr;
  return evasio::detail::guarded<char*>(nullptr, [&]() -> char* {
    std::string out;
    if (uri->scheme)
      out.append(uri->scheme).append(":");
    if (uri->host) {
      out.append("//");
      if (uri->userinfo)
        out.append(uri->userinfo).append("@");
      out.append(uri->host);
      if (uri->port >= 0)
        out.append(":").append(std::to_string(uri->port));
      // After an authority, the path must be empty or absolute.
      if (uri->path && uri->path[0] != '/' && uri->path[0] != '\0')
        return nullptr;
    }
    if (uri->path)
      out.append(uri->path);
    if (uri->query)
      out.append("?").append(uri->query);
    if (uri->fragment)
      out.append("#").append(uri->fragment);
    if (out.size() + 1 > limit)
      return nullptr;
    std::memcpy(buf, out.c_str(), out.size() + 1);
    return buf;
  });
}

const char* evhttp_uri_get_scheme(const struct evhttp_uri* uri) {
  return uri ? uri->scheme : fail<const char*>(nullptr, EINVAL);
}
const char* evhttp_uri_get_userinfo(const struct evhttp_uri* uri) {
  return uri ? uri->userinfo : fail<const char*>(nullptr, EINVAL);
}
const char* evhttp_uri_get_host(const struct evhttp_uri* uri) {
  return uri ? uri->host : fail<const char*>(nullptr, EINVAL);
}
int evhttp_uri_get_port(const struct evhttp_uri* uri) { return uri ? uri->port : fail(-1, EINVAL); }
const char* evhttp_uri_get_path(const struct evhttp_uri* uri) {
  return uri ? uri->path : fail<const char*>(nullptr, EINVAL);
}
const char* evhttp_uri_get_query(const struct evhttp_uri* uri) {
  return uri ? uri->query : fail<const char*>(nullptr, EINVAL);
}
const char* evhttp_uri_get_fragment(const struct evhttp_uri* uri) {
  return uri ? uri->fragment : fail<const char*>(nullptr, EINVAL);
}

int evhttp_uri_set_scheme(struct evhttp_uri* uri, const char* scheme) {
  if (!uri)
    return fail(-1, EINVAL);
  if (scheme && !scheme_valid(scheme))
    return -1;
  return set_field(&uri->scheme, scheme);
}
int evhttp_uri_set_userinfo(struct evhttp_uri* uri, const char* userinfo) {
  if (!uri)
    return fail(-1, EINVAL);
  if (userinfo && !userinfo_valid(userinfo))
    return -1;
  return set_field(&uri->userinfo, userinfo);
}
int evhttp_uri_set_host(struct evhttp_uri* uri, const char* host) {
  if (!uri)
    return fail(-1, EINVAL);
  if (host && !host_valid(host))
    return -1;
  return set_field(&uri->host, host);
}
// Any port from -1 up is taken, as libevent takes it (join writes it).
int evhttp_uri_set_port(struct evhttp_uri* uri, int port) {
  if (!uri)
    return fail(-1, EINVAL);
  if (port < -1)
    return -1;
  uri->port = port;
  return 0;
}
int evhttp_uri_set_path(struct evhttp_uri* uri, const char* path) {
  if (!uri)
    return fail(-1, EINVAL);
  if (path && !whole(path, part::path, uri->flags))
    return -1;
  return set_field(&uri->path, path);
}
int evhttp_uri_set_query(struct evhttp_uri* uri, const char* query) {
  if (!uri)
    return fail(-1, EINVAL);
  if (query && !whole(query, part::query, uri->flags))
    return -1;
  return set_field(&uri->query, query);
}
int evhttp_uri_set_fragment(struct evhttp_uri* uri, const char* fragment) {
  if (!uri)
    return fail(-1, EINVAL);
  if (fragment && !whole(fragment, part::fragment, uri->flags))
    return -1;
  return set_field(&uri->fragment, fragment);
}

} // extern "C"

// event2/http.h's pure helpers: %-encoding and decoding, HTML escaping,
// query strings, and header lists (struct evkeyvalq, a TAILQ of
// struct evkeyval that programs walk themselves). Every string handed to the
// program, and every list entry, comes from the libevent allocator
// (event_set_mem_functions, else malloc), as libevent's do.
#include "detail/ascii.hpp"
#include "detail/c_boundary.hpp"
#include "detail/global.hpp"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace {

using evasio::detail::fail;
using evasio::detail::mm_free;
using evasio::detail::mm_malloc;
using std::string_view;

using evasio::detail::ascii::hex_value;
using evasio::detail::ascii::is_alnum;
bool unreserved(char c) { return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~'; }
char lower(char c) { return evasio::detail::ascii::to_lower(c); }
bool same_name(const char* a, const char* b) {
  for (; lower(*a) == lower(*b); ++a, ++b)
    if (*a == '\0')
      return true;
  return false;
}

char* copy_of(string_view s) {
  char* p = static_cast<char*>(mm_malloc(s.size() + 1));
  if (!p)
    return fail<char*>(nullptr, ENOMEM);
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  return p;
}

// How '+' decodes: never, always, or only after the first '?' (the
// deprecated evhttp_decode_uri()).
enum class plus { kept, space, space_after_query };

// Decodes in into out (in.size() + 1 bytes at least): %XX escapes become
// their byte, an incomplete or non-hex one stays as it is. Returns the
// bytes written before the NUL that ends out.
size_t decode(string_view in, char* out, plus mode) {
  bool plus_is_space = mode == plus::space;
  size_t n = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '?') {
      if (mode == plus::space_after_query)
        plus_is_space = true;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    } else if (c == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 &&
               hex_value(in[i + 2]) >= 0) {
      c = static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      i += 2;
    }
    out[n++] = c;
  }
  out[n] = '\0';
  return n;
}

char* decoded(const char* uri, plus mode, size_t* size_out) {
  if (!uri)
    return fail<char*>(nullptr, EINVAL);
  const size_t len = std::strlen(uri);
  char* out = static_cast<char*>(mm_malloc(len + 1));
  if (!out)
    return fail<char*>(nullptr, ENOMEM);
  const size_t n = decode(string_view(uri, len), out, mode);
  if (size_out)
    *size_out = n;
  return out;
}

void list_init(evkeyvalq* q) {
  q->tqh_first = nullptr;
  q->tqh_last = &q->tqh_first;
}
void list_append(evkeyvalq* q, evkeyval* e) {
  e->next.tqe_next = nullptr;
  e->next.tqe_prev = q->tqh_last;
  *q->tqh_last = e;
  q->tqh_last = &e->next.tqe_next;
}
void list_unlink(evkeyvalq* q, evkeyval* e) {
  if (e->next.tqe_next)
    e->next.tqe_next->next.tqe_prev = e->next.tqe_prev;
  else
    q->tqh_last = e->next.tqe_prev;
  *e->next.tqe_prev = e->next.tqe_next;
}
void free_string(char* s) {
  if (s)
    mm_free(s);
}
void entry_free(evkeyval* e) {
  free_string(e->key);
  free_string(e->value);
  mm_free(e);
}

// Appends copies of key and value, unchecked.
int append(evkeyvalq* q, string_view key, const char* value) {
  auto* e = static_cast<evkeyval*>(mm_malloc(sizeof(evkeyval)));
  if (!e)
    return fail(-1, ENOMEM);
  std::memset(e, 0, sizeof *e);
  e->key = copy_of(key);
  e->value = e->key ? copy_of(value) : nullptr;
  if (!e->value) {
    entry_free(e);
    return fail(-1, ENOMEM);
  }
  list_append(q, e);
  return 0;
}

void clear(evkeyvalq* q) {
  while (evkeyval* e = q->tqh_first) {
    list_unlink(q, e);
    entry_free(e);
  }
}

// "k=v&k2=v2" into q: values decoded ('+' as ' '), keys as they are. An
// argument with no '=' or an empty key fails the whole string. A value is
// kept up to a NUL that its decoding produced.
int parse_query_string(const char* query, evkeyvalq* q) {
  const string_view s = query ? string_view(query) : string_view();
  size_t pos = 0;
  while (pos < s.size()) {
    size_t amp = s.find('&', pos);
    const string_view arg = s.substr(pos, amp == string_view::npos ? string_view::npos : amp - pos);
    pos = amp == string_view::npos ? s.size() : amp + 1;
    const size_t eq = arg.find('=');
    if (eq == string_view::npos || eq == 0)
      return -1;
    const string_view raw = arg.substr(eq + 1);
    char* value = static_cast<char*>(mm_malloc(raw.size() + 1));
    if (!value)
      return fail(-1, ENOMEM);
    decode(raw, value, plus::space);
    const int r = append(q, arg.substr(0, eq), value);
    mm_free(value);
    if (r != 0)
      return -1;
  }
  return 0;
}

int parse_query(const char* str, evkeyvalq* headers, bool whole_uri) {
  if (!headers || (whole_uri && !str))
    return fail(-1, EINVAL);
  list_init(headers);
  int r = 0;
  if (whole_uri) {
    evhttp_uri* uri = evhttp_uri_parse(str);
    if (!uri)
      return -1;
    r = parse_query_string(evhttp_uri_get_query(uri), headers);
    evhttp_uri_free(uri);
  } else {
    r = parse_query_string(str, headers);
  }
  if (r != 0)
    clear(headers);
  return r;
}

} // namespace

extern "C" {

char* evhttp_uriencode(const char* str, ev_ssize_t size, int space_to_plus) {
  if (!str)
    return fail<char*>(nullptr, EINVAL);
  const size_t len = size >= 0 ? static_cast<size_t>(size) : std::strlen(str);
  size_t out_len = 0;
  for (size_t i = 0; i < len; ++i)
    out_len += (unreserved(str[i]) || (space_to_plus && str[i] == ' ')) ? 1 : 3;
  char* out = static_cast<char*>(mm_malloc(out_len + 1));
  if (!out)
    return fail<char*>(nullptr, ENOMEM);
  static const char digits[] = "0123456789ABCDEF";
  char* p = out;
  for (size_t i = 0; i < len; ++i) {
    const unsigned char c = static_cast<unsigned char>(str[i]);
    if (unreserved(str[i])) {
      *p++ = str[i];
    } else if (space_to_plus && c == ' ') {
      *p++ = '+';
    } else {
      *p++ = '%';
      *p++ = digits[c >> 4];
      *p++ = digits[c & 0x0f];
    }
  }
  *p = '\0';
  return out;
}

char* evhttp_encode_uri(const char* str) { return evhttp_uriencode(str, -1, 0); }

char* evhttp_decode_uri(const char* uri) { return decoded(uri, plus::space_after_query, nullptr); }

char* evhttp_uridecode(const char* uri, int decode_plus, size_t* size_out) {
  return decoded(uri, decode_plus ? plus::space : plus::kept, size_out);
}

char* evhttp_htmlescape(const char* html) {
  if (!html)
    return fail<char*>(nullptr, EINVAL);
  auto entity = [](char c) -> const char* {
    switch (c) {
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&#039;";
    case '&': return "&amp;";
    default: return nullptr;
    }
  };
  size_t n = 0;
  for (const char* s = html; *s; ++s)
    n += entity(*s) ? std::strlen(entity(*s)) : 1;
  char* out = static_cast<char*>(mm_malloc(n + 1));
  if (!out)
    return fail<char*>(nullptr, ENOMEM);
  char* p = out;
  for (const char* s = html; *s; ++s) {
    if (const char* e = entity(*s)) {
      const size_t l = std::strlen(e);
      std::memcpy(p, e, l);
      p += l;
    } else {
      *p++ = *s;
    }
  }
  *p = '\0';
  return out;
}

int evhttp_parse_query(const char* uri, struct evkeyvalq* headers) {
  return parse_query(uri, headers, true);
}

// A NULL query string is an empty one (0, no entries), as in libevent.
int evhttp_parse_query_str(const char* uri, struct evkeyvalq* headers) {
  return parse_query(uri, headers, false);
}

const char* evhttp_find_header(const struct evkeyvalq* headers, const char* key) {
  if (!headers || !key)
    return fail<const char*>(nullptr, EINVAL);
  for (const evkeyval* e = headers->tqh_first; e; e = e->next.tqe_next)
    if (same_name(e->key, key))
      return e->value;
  return nullptr;
}

int evhttp_remove_header(struct evkeyvalq* headers, const char* key) {
  if (!headers || !key)
    return fail(-1, EINVAL);
  for (evkeyval* e = headers->tqh_first; e; e = e->next.tqe_next)
    if (same_name(e->key, key)) {
      list_unlink(headers, e);
      entry_free(e);
      return 0;
    }
  return -1;
}

int evhttp_add_header(struct evkeyvalq* headers, const char* key, const char* value) {
  if (!headers || !key || !value)
    return fail(-1, EINVAL);
  // No CR or LF anywhere, folds included: the oracle (libevent 2.1.12 as
  // Debian ships it, 2.1.12-stable-8+deb12u1, with upstream's later fixes)
  // refuses them all, where the 2.1.12 tarball let "\r\n " through.
  if (std::strpbrk(key, "\r\n") || std::strpbrk(value, "\r\n"))
    return -1;
  return append(headers, key, value);
}

void evhttp_clear_headers(struct evkeyvalq* headers) {
  if (!headers) {
    errno = EINVAL;
    return;
  }
  clear(headers);
}

} // extern "C"

// Character classes of the C locale, whatever the program's locale is (as
// libevent's EVUTIL_IS*_ helpers): for parsers of addresses, URIs, headers.
#ifndef EVASIO_DETAIL_ASCII_HPP_INCLUDED_
#define EVASIO_DETAIL_ASCII_HPP_INCLUDED_

namespace evasio::detail::ascii {

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c); }
inline char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
// The value of a hex digit, or -1.
inline int hex_value(char c) {
  if (is_digit(c))
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace evasio::detail::ascii

#endif

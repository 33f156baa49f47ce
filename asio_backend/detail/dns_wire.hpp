// DNS wire format, the little the evdns server needs: reading a (possibly
// compressed) name out of a message and writing one with compression, by
// libevent 2.1.12's rules, which are not quite RFC 1035's:
//  - reading: a length byte with either of its top two bits set is a
//    compression pointer (so 64..191 are pointers, not over-long labels); a
//    pointer may go forwards but must land inside the message; a name that
//    jumps more times than the message has bytes is a loop; the text is at
//    most 255 characters; label bytes are copied as they are (a '.' inside a
//    label stays; a NUL ends the name as a C string).
//  - writing: the name is split at dots; every suffix written is remembered
//    (at most 128), and a later name whose whole rest equals one
//    (case-sensitively) becomes a pointer to it; an empty label ends the name.
#ifndef EVASIO_DETAIL_DNS_WIRE_HPP_INCLUDED_
#define EVASIO_DETAIL_DNS_WIRE_HPP_INCLUDED_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace evasio::detail::dns_wire {

// Longest name text, without its NUL.
constexpr std::size_t max_name_chars = 255;

inline void store16(std::uint8_t* p, unsigned v) noexcept {
  p[0] = static_cast<std::uint8_t>((v >> 8) & 0xff);
  p[1] = static_cast<std::uint8_t>(v & 0xff);
}
inline unsigned load16(const std::uint8_t* p) noexcept { return (unsigned{p[0]} << 8) | p[1]; }

// Reads the name at msg[off] (msg is len bytes) into out as a NUL-terminated
// string. On success off is past the name in the message (past its first
// pointer when it has one). False for a malformed name; off is then unchanged.
inline bool read_name(const std::uint8_t* msg, std::size_t len, std::size_t& off,
                      char (&out)[max_name_chars + 1]) noexcept {
  std::size_t at = off;
  std::size_t resume = 0;
  bool jumped = false;
  std::size_t jumps = 0;
  std::size_t n = 0;  // characters in out
  for (;;) {
    if (at >= len)
      return false;
    const unsigned b = msg[at++];
    if (b == 0)
      break;
    if (b & 0xc0) {
      if (at >= len)
        return false;
      const std::size_t target = ((b & 0x3fu) << 8) | msg[at++];
      if (!jumped) {
        resume = at;
        jumped = true;
      }
      if (target >= len || ++jumps > len)
        return false;
      at = target;
      continue;
    }
    // b <= 63 here.
    if (n != 0) {
      if (n + 1 >= sizeof out)
        return false;
      out[n++] = '.';
    }
    if (n + b >= sizeof out || at + b > len)
      return false;
    std::memcpy(out + n, msg + at, b);
    n += b;
    at += b;
  }
  out[n] = '\0';
  off = jumped ? resume : at;
  return true;
}

// The suffixes already written in a message, for compression.
class label_table {
public:
  static constexpr std::size_t max_entries = 128;
  // Offset where `rest` was written, or -1.
  long find(std::string_view rest) const {
    for (const entry& e : entries_)
      if (e.suffix == rest)
        return static_cast<long>(e.offset);
    return -1;
  }
  void add(std::string_view rest, std::size_t offset) {
    if (entries_.size() < max_entries)
      entries_.push_back({std::string(rest), offset});
  }

private:
  struct entry {
    std::string suffix;
    std::size_t offset;
  };
  std::vector<entry> entries_;
};

// write_name's failures.
constexpr long name_label_too_long = -1;  // a label over 63 bytes
constexpr long name_no_room = -2;         // the buffer is full, or the name over 255

// Writes name at buf[at] (buf holds cap bytes) as labels, compressed against
// table when there is one (which learns the new suffixes). Returns the offset
// after the name, or a negative failure.
inline long write_name(std::uint8_t* buf, std::size_t cap, std::size_t at, std::string_view name,
                       label_table* table) {
  if (name.size() > max_name_chars)
    return name_no_room;
  std::string_view rest = name;
  for (;;) {
    if (table) {
      const long earlier = table->find(rest);
      if (earlier >= 0) {
        if (at + 2 > cap)
          return name_no_room;
        store16(buf + at, 0xc000u | static_cast<unsigned>(earlier));
        return static_cast<long>(at + 2);
      }
    }
    const std::size_t dot = rest.find('.');
    const std::size_t label = dot == std::string_view::npos ? rest.size() : dot;
    if (label > 63)
      return name_label_too_long;
    if (at + label + 1 > cap)
      return name_no_room;
    if (table)
      table->add(rest, at);
    buf[at++] = static_cast<std::uint8_t>(label);
    std::memcpy(buf + at, rest.data(), label);
    at += label;
    if (dot == std::string_view::npos)
      break;
    rest.remove_prefix(dot + 1);
  }
  // The terminating empty label, unless the name ended with one (a trailing
  // dot, or the root name).
  if (at == 0 || buf[at - 1] != 0) {
    if (at >= cap)
      return name_no_room;
    buf[at++] = 0;
  }
  return static_cast<long>(at);
}

} // namespace evasio::detail::dns_wire

#endif

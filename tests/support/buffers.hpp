// An evbuffer owned for the length of a test case, shared by the suites of
// tests/unit/. Only libevent's public API: it builds against real libevent too.
#ifndef EVASIO_TESTS_SUPPORT_BUFFERS_HPP_INCLUDED_
#define EVASIO_TESTS_SUPPORT_BUFFERS_HPP_INCLUDED_

#include <boost/test/unit_test.hpp>

#include <event2/buffer.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace nettest {

struct Buf {
  evbuffer* b = evbuffer_new();
  Buf() { BOOST_REQUIRE(b); }
  ~Buf() {
    if (b)
      evbuffer_free(b);
  }
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  operator evbuffer*() const { return b; }
  // Frees it before the end of the case (a test of what freeing does).
  void free() {
    evbuffer_free(b);
    b = nullptr;
  }
  size_t length() const { return evbuffer_get_length(b); }
  // Its bytes, left in place.
  std::string str() const {
    std::string s(length(), '\0');
    if (!s.empty())
      evbuffer_copyout(b, &s[0], s.size());
    return s;
  }
  std::vector<unsigned char> bytes() const {
    const std::string s = str();
    return std::vector<unsigned char>(s.begin(), s.end());
  }
  void put(std::initializer_list<unsigned char> v) {
    const std::vector<unsigned char> d(v);
    BOOST_REQUIRE(evbuffer_add(b, d.data(), d.size()) == 0);
  }
};

} // namespace nettest

#endif

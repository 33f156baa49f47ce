// A lock that exists only when asked for (LEV_OPT_THREADSAFE and friends):
// single-threaded objects pay nothing.
#ifndef EVASIO_DETAIL_LOCK_HPP_INCLUDED_
#define EVASIO_DETAIL_LOCK_HPP_INCLUDED_

#include <memory>
#include <mutex>

namespace evasio::detail {

template <class Mutex>
class basic_optional_mutex {
public:
  explicit basic_optional_mutex(bool enabled)
      : m_(enabled ? std::make_shared<Mutex>() : nullptr) {}
  void lock() { if (m_) m_->lock(); }
  void unlock() { if (m_) m_->unlock(); }
  bool try_lock() { return !m_ || m_->try_lock(); }
  // From now on the same lock as o's (a bufferevent pair's two sides).
  void share(const basic_optional_mutex& o) { m_ = o.m_; }
  bool enabled() const noexcept { return m_ != nullptr; }

private:
  std::shared_ptr<Mutex> m_;
};
using optional_mutex = basic_optional_mutex<std::mutex>;
// bufferevents keep their lock during callbacks, as libevent's recursive one.
using optional_recursive_mutex = basic_optional_mutex<std::recursive_mutex>;

// A scoped lock that can be dropped around user callbacks.
template <class M>
class basic_scoped_lock {
public:
  explicit basic_scoped_lock(M& m) : m_(m) { m_.lock(); }
  ~basic_scoped_lock() { if (held_) m_.unlock(); }
  basic_scoped_lock(const basic_scoped_lock&) = delete;
  basic_scoped_lock& operator=(const basic_scoped_lock&) = delete;
  void unlock() { m_.unlock(); held_ = false; }
  void lock() { m_.lock(); held_ = true; }

private:
  M& m_;
  bool held_ = true;
};
using scoped_lock = basic_scoped_lock<optional_mutex>;
using recursive_scoped_lock = basic_scoped_lock<optional_recursive_mutex>;

} // namespace evasio::detail

#endif

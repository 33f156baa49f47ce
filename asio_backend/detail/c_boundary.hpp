// The C boundary: no C++ exception may cross it. Every extern "C" entry
// point runs its body through guarded(), which turns an exception into the
// C failure value with errno set, as libevent reports failures.
#ifndef EVASIO_DETAIL_C_BOUNDARY_HPP_INCLUDED_
#define EVASIO_DETAIL_C_BOUNDARY_HPP_INCLUDED_

#include <boost/system/system_error.hpp>
#include <cerrno>
#include <new>

namespace evasio::detail {

inline int errno_of_current_exception() noexcept {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  } catch (const boost::system::system_error& e) {
    return e.code().value() ? e.code().value() : EIO;
  } catch (...) {
    return EIO;
  }
}

// Runs f(); on an exception returns failure with errno set.
template <class R, class F>
R guarded(R failure, F&& f) noexcept {
  try {
    return f();
  } catch (...) {
    errno = errno_of_current_exception();
    return failure;
  }
}

template <class F>
void guarded_void(F&& f) noexcept {
  try {
    f();
  } catch (...) {
    errno = errno_of_current_exception();
  }
}

// Sets errno and returns failure: for argument checks.
template <class R>
R fail(R failure, int err) noexcept {
  errno = err;
  return failure;
}

} // namespace evasio::detail

#endif

// Process-wide state: the program's allocator (event_set_mem_functions),
// debug mode's registry of events (event_enable_debug_mode), and the hooks
// event.cpp calls into them.
#ifndef EVASIO_DETAIL_GLOBAL_HPP_INCLUDED_
#define EVASIO_DETAIL_GLOBAL_HPP_INCLUDED_

#include <atomic>
#include <cstddef>

struct event;

namespace evasio::detail {

// Memory the program frees itself (an event_new event, an evbuffer_readln
// line): from the program's allocator once it set one, else malloc/free.
void* mm_malloc(std::size_t n) noexcept;
void mm_free(void* p) noexcept;

// Debug mode. Each hook is one relaxed load when debug mode is off.
extern std::atomic<bool> debug_mode_on;
// Something made or used an event, or made a base: too late to turn debug
// mode on.
extern std::atomic<bool> debug_too_late;
// A base was made (libevent's "threadable context"): with debug mode on,
// too late to set up threads.
extern std::atomic<bool> threadable_ctx_created;
inline void set_once(std::atomic<bool>& flag) noexcept {
  if (!flag.load(std::memory_order_relaxed))
    flag.store(true, std::memory_order_relaxed);
}
inline void debug_note_too_late() noexcept { set_once(debug_too_late); }
inline void debug_note_base_created() noexcept { set_once(threadable_ctx_created); }
namespace debug_detail {
void note_assign(const struct event* ev) noexcept;
void assert_setup(const struct event* ev, const char* fn) noexcept;
void note_free(const struct event* ev) noexcept;
void note_unassign(const struct event* ev) noexcept;
}
// event_assign: ev must not be pending (read from the event itself, since
// the loop deletes fired one-shot events); it becomes known.
inline void debug_on_assign(const struct event* ev) noexcept {
  if (ev && debug_mode_on.load(std::memory_order_relaxed)) debug_detail::note_assign(ev);
  debug_note_too_late();
}
// event_add, event_del, event_active, ...: ev must be known.
inline void debug_on_use(const struct event* ev, const char* fn) noexcept {
  if (ev && debug_mode_on.load(std::memory_order_relaxed)) debug_detail::assert_setup(ev, fn);
  debug_note_too_late();
}
// event_free, after its event_del: ev is forgotten.
inline void debug_on_unassign(const struct event* ev) noexcept {
  if (ev && debug_mode_on.load(std::memory_order_relaxed)) debug_detail::note_unassign(ev);
}
inline void debug_on_free(const struct event* ev) noexcept {
  if (ev && debug_mode_on.load(std::memory_order_relaxed)) debug_detail::note_free(ev);
}

} // namespace evasio::detail

#endif

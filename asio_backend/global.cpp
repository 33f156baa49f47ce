// Process-wide API of event.h and thread.h: the program's allocator, debug
// mode, lock callbacks, libevent_global_shutdown.
#include "detail/base.hpp"
#include "detail/c_boundary.hpp"
#include "detail/event_core.hpp"
#include "detail/global.hpp"
#include "detail/log.hpp"

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/thread.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_set>

using namespace evasio::detail;

namespace {

// ---- the program's allocator ----------------------------------------------

struct allocator {
  void* (*malloc_fn)(size_t);
  void* (*realloc_fn)(void*, size_t);
  void (*free_fn)(void*);
};
// Set before anything else, as libevent asks: read without a lock.
std::atomic<const allocator*> user_allocator{nullptr};
allocator allocator_storage;

// ---- debug mode's registry -------------------------------------------------

// Events known to debug mode (assigned, not yet freed or unassigned). Only
// consulted in debug mode, where a lock per call is the price of the checks.
// Whether one is pending is read from the event itself: the loop deletes a
// fired one-shot event without a call the registry would see.
struct registry {
  std::mutex mutex;
  std::unordered_set<const struct event*> known;
};
registry& debug_registry() {
  static registry r;
  return r;
}

bool pending(const struct event* ev) {
  return impl(ev)->is(EVLIST_INSERTED | EVLIST_TIMEOUT);
}

// Events are not read in the messages: the point is that they may be freed.
[[noreturn]] void misuse(const char* fn, const char* what, const struct event* ev) {
  fatal(err_abort, "%s called on %s event %p", fn, what, static_cast<const void*>(ev));
}

// ---- lock callbacks --------------------------------------------------------

std::mutex callbacks_mutex;
evthread_lock_callbacks lock_fns{};
evthread_condition_callbacks cond_fns{};
std::atomic<unsigned long (*)(void)> id_fn{nullptr};

bool same(const evthread_lock_callbacks& a, const evthread_lock_callbacks& b) {
  return a.lock_api_version == b.lock_api_version &&
         a.supported_locktypes == b.supported_locktypes && a.alloc == b.alloc &&
         a.free == b.free && a.lock == b.lock && a.unlock == b.unlock;
}
bool same(const evthread_condition_callbacks& a, const evthread_condition_callbacks& b) {
  return a.condition_api_version == b.condition_api_version &&
         a.alloc_condition == b.alloc_condition && a.free_condition == b.free_condition &&
         a.signal_condition == b.signal_condition && a.wait_condition == b.wait_condition;
}

// evthread_use_pthreads() installs these, as libevent installs its pthread
// wrappers: a program's own set is then a different one. Never called.
void* pt_alloc(unsigned) { return nullptr; }
void pt_free(void*, unsigned) {}
int pt_lock(unsigned, void*) { return 0; }
int pt_unlock(unsigned, void*) { return 0; }
void* pt_alloc_cond(unsigned) { return nullptr; }
void pt_free_cond(void*) {}
int pt_signal(void*, int) { return 0; }
int pt_wait(void*, void*, const struct timeval*) { return 0; }
const evthread_lock_callbacks pthread_lock_fns = {
    EVTHREAD_LOCK_API_VERSION, EVTHREAD_LOCKTYPE_RECURSIVE, pt_alloc, pt_free, pt_lock, pt_unlock};
const evthread_condition_callbacks pthread_cond_fns = {
    EVTHREAD_CONDITION_API_VERSION, pt_alloc_cond, pt_free_cond, pt_signal, pt_wait};

// As libevent: with debug mode on, threads are set up before any base.
void check_not_too_late_for_threads() {
  if (debug_mode_on.load() && threadable_ctx_created.load())
    fatal(1, "evthread initialization must be called BEFORE anything else!");
}

} // namespace

namespace evasio::detail {

std::atomic<bool> debug_mode_on{false};
std::atomic<bool> debug_too_late{false};
std::atomic<bool> threadable_ctx_created{false};

// Each function the program gave replaces its own libc one, as libevent's.
void* mm_malloc(std::size_t n) noexcept {
  const allocator* a = user_allocator.load(std::memory_order_acquire);
  return a && a->malloc_fn ? a->malloc_fn(n) : std::malloc(n);
}

void mm_free(void* p) noexcept {
  const allocator* a = user_allocator.load(std::memory_order_acquire);
  a && a->free_fn ? a->free_fn(p) : std::free(p);
}

namespace debug_detail {

void note_assign(const struct event* ev) noexcept {
  registry& r = debug_registry();
  std::lock_guard<std::mutex> g(r.mutex);
  if (r.known.count(ev) && pending(ev))
    misuse("event_assign", "an already added", ev);
  try {
    r.known.insert(ev);
  } catch (...) {
    fatal(1, "Out of memory in debugging code");
  }
}

void assert_setup(const struct event* ev, const char* fn) noexcept {
  registry& r = debug_registry();
  std::lock_guard<std::mutex> g(r.mutex);
  if (!r.known.count(ev))
    misuse(fn, "a non-initialized", ev);
}

// event_debug_unassign: the event is forgotten; a pending one is misuse.
void note_unassign(const struct event* ev) noexcept {
  registry& r = debug_registry();
  std::lock_guard<std::mutex> g(r.mutex);
  if (r.known.erase(ev) != 0 && pending(ev))
    misuse("event_debug_unassign", "an already added", ev);
}

void note_free(const struct event* ev) noexcept {
  registry& r = debug_registry();
  std::lock_guard<std::mutex> g(r.mutex);
  r.known.erase(ev);
}

} // namespace debug_detail
} // namespace evasio::detail

extern "C" {

void event_set_mem_functions(void* (*malloc_fn)(size_t), void* (*realloc_fn)(void*, size_t),
                             void (*free_fn)(void*)) {
  allocator_storage = allocator{malloc_fn, realloc_fn, free_fn};
  user_allocator.store(&allocator_storage, std::memory_order_release);
}

void event_enable_debug_mode(void) {
  if (debug_mode_on.load())
    fatal(1, "%s was called twice!", "event_enable_debug_mode");
  if (debug_too_late.load())
    fatal(1, "%s must be called *before* creating any events or event_bases",
          "event_enable_debug_mode");
  debug_mode_on.store(true);
}

void libevent_global_shutdown(void) {
  // Debug mode's registry goes, and debug mode with it, as libevent's.
  {
    registry& r = debug_registry();
    std::lock_guard<std::mutex> g(r.mutex);
    std::unordered_set<const struct event*>().swap(r.known);
  }
  debug_mode_on.store(false);
}

int evthread_set_lock_callbacks(const struct evthread_lock_callbacks* cbs) {
  check_not_too_late_for_threads();
  std::lock_guard<std::mutex> g(callbacks_mutex);
  if (!cbs) {
    if (lock_fns.alloc)
      log_msg(EVENT_LOG_WARN, "Trying to disable lock functions after they have been set up "
                              "will probably not work.");
    lock_fns = {};
    threads_enabled.store(false);
    return 0;
  }
  if (lock_fns.alloc) {
    if (same(lock_fns, *cbs))
      return 0;
    log_msg(EVENT_LOG_WARN, "Can't change lock callbacks once they have been initialized.");
    return fail(-1, EBUSY);
  }
  if (!cbs->alloc || !cbs->free || !cbs->lock || !cbs->unlock)
    return fail(-1, EINVAL);
  lock_fns = *cbs;
  // evasio locks with its own mutexes: a set means "this program uses threads".
  threads_enabled.store(true);
  return 0;
}

int evthread_set_condition_callbacks(const struct evthread_condition_callbacks* cbs) {
  check_not_too_late_for_threads();
  std::lock_guard<std::mutex> g(callbacks_mutex);
  if (!cbs) {
    if (cond_fns.alloc_condition)
      log_msg(EVENT_LOG_WARN, "Trying to disable condition functions after they have been set "
                              "up will probably not work.");
    cond_fns = {};
    return 0;
  }
  if (cond_fns.alloc_condition) {
    if (same(cond_fns, *cbs))
      return 0;
    log_msg(EVENT_LOG_WARN, "Can't change condition callbacks once they have been initialized.");
    return fail(-1, EBUSY);
  }
  // An incomplete set is ignored, with success, as libevent does.
  if (cbs->alloc_condition && cbs->free_condition && cbs->signal_condition && cbs->wait_condition)
    cond_fns = *cbs;
  return 0;
}

void evthread_set_id_callback(unsigned long (*fn)(void)) {
  id_fn.store(fn);
}

// As libevent's: a program's own set already given stays (with a warning),
// and the call still succeeds.
int evthread_use_pthreads(void) {
  evthread_set_lock_callbacks(&pthread_lock_fns);
  evthread_set_condition_callbacks(&pthread_cond_fns);
  return 0;
}

void evthread_enable_lock_debugging(void) {}

void evthread_enable_lock_debuging(void) { evthread_enable_lock_debugging(); }

} // extern "C"

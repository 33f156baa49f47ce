// thread.h's callbacks (evthread_set_lock_callbacks and friends): a program
// that gives its own lock functions, and never calls evthread_use_pthreads,
// gets thread-safe bases. Its own executable: the threading setup is
// process-wide. The cases pass against real libevent too.
#define BOOST_TEST_MODULE evthread_callbacks
#include <boost/test/unit_test.hpp>

#include <event2/event.h>
#include <event2/thread.h>

#include "fixtures.hpp"

#include <pthread.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace nettest;

namespace {

using Watchdog = CaseAlarm<20>;

// A program's lock functions: recursive pthread mutexes.
void* lock_alloc(unsigned) {
  auto* m = new pthread_mutex_t;
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init(m, &attr);
  pthread_mutexattr_destroy(&attr);
  return m;
}
void lock_free(void* l, unsigned) {
  pthread_mutex_destroy(static_cast<pthread_mutex_t*>(l));
  delete static_cast<pthread_mutex_t*>(l);
}
int lock_lock(unsigned mode, void* l) {
  auto* m = static_cast<pthread_mutex_t*>(l);
  return (mode & EVTHREAD_TRY) ? pthread_mutex_trylock(m) : pthread_mutex_lock(m);
}
int lock_unlock(unsigned, void* l) { return pthread_mutex_unlock(static_cast<pthread_mutex_t*>(l)); }
// Another set: an unlock that differs.
int other_unlock(unsigned mode, void* l) { return lock_unlock(mode, l); }

const evthread_lock_callbacks program_locks = {EVTHREAD_LOCK_API_VERSION, EVTHREAD_LOCKTYPE_RECURSIVE,
                                               lock_alloc, lock_free, lock_lock, lock_unlock};

void* cond_alloc(unsigned) {
  auto* c = new pthread_cond_t;
  pthread_cond_init(c, nullptr);
  return c;
}
void cond_free(void* c) {
  pthread_cond_destroy(static_cast<pthread_cond_t*>(c));
  delete static_cast<pthread_cond_t*>(c);
}
int cond_signal(void* c, int broadcast) {
  auto* cv = static_cast<pthread_cond_t*>(c);
  return broadcast ? pthread_cond_broadcast(cv) : pthread_cond_signal(cv);
}
int cond_wait(void* c, void* l, const timeval* tv) {
  auto* cv = static_cast<pthread_cond_t*>(c);
  auto* m = static_cast<pthread_mutex_t*>(l);
  if (!tv)
    return pthread_cond_wait(cv, m) ? -1 : 0;
  timespec at;
  clock_gettime(CLOCK_REALTIME, &at);
  at.tv_sec += tv->tv_sec;
  at.tv_nsec += tv->tv_usec * 1000;
  if (at.tv_nsec >= 1000000000) {
    ++at.tv_sec;
    at.tv_nsec -= 1000000000;
  }
  const int r = pthread_cond_timedwait(cv, m, &at);
  return r == ETIMEDOUT ? 1 : r ? -1 : 0;
}
const evthread_condition_callbacks program_conds = {EVTHREAD_CONDITION_API_VERSION, cond_alloc, cond_free,
                                                    cond_signal, cond_wait};

unsigned long thread_id() { return static_cast<unsigned long>(pthread_self()); }

std::vector<std::string> warnings;
void log_cb(int severity, const char* msg) {
  if (severity == EVENT_LOG_WARN)
    warnings.emplace_back(msg);
}

std::atomic<int> woken{0};
void wake_cb(evutil_socket_t, short, void* arg) {
  ++woken;
  event_base_loopbreak(static_cast<event_base*>(arg));
}
void idle_cb(evutil_socket_t, short, void*) {}

// A loop blocked on a far timer, woken by event_active from another thread.
bool woken_from_another_thread(event_base* base) {
  woken = 0;
  event* far = event_new(base, -1, EV_PERSIST, idle_cb, nullptr);
  event* user = event_new(base, -1, 0, wake_cb, base);
  const timeval ten_s = ms_tv(10000);
  event_add(far, &ten_s);
  std::thread t([user] {
    ::usleep(100000);  // the loop is blocked in the kernel by now
    event_active(user, EV_READ, 0);
  });
  event_base_dispatch(base);
  t.join();
  event_free(user);
  event_free(far);
  return woken == 1;
}

std::atomic<bool> started{false}, finished{false};
void slow_cb(evutil_socket_t, short, void*) {
  started = true;
  ::usleep(200000);
  finished = true;
}

// event_del from another thread while the callback runs: on a locking
// base it returns only once the callback is over.
bool del_waits_for_running_callback(event_base* base) {
  started = finished = false;
  event* ev = event_new(base, -1, 0, slow_cb, nullptr);
  bool finished_at_del = false;
  std::thread t([&] {
    while (!started)
      ::usleep(1000);
    event_del(ev);
    finished_at_del = finished;
  });
  event_active(ev, EV_READ, 0);
  event_base_dispatch(base);
  t.join();
  event_free(ev);
  return finished_at_del;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(evthread_callbacks_suite, Watchdog)

// First: no set is in place yet.
BOOST_AUTO_TEST_CASE(an_incomplete_lock_set_is_refused) {
  evthread_lock_callbacks partial = program_locks;
  partial.unlock = nullptr;
  BOOST_TEST(evthread_set_lock_callbacks(&partial) == -1);
}

BOOST_AUTO_TEST_CASE(forgetting_a_set_never_given_is_silent) {
  warnings.clear();
  event_set_log_callback(log_cb);
  BOOST_TEST(evthread_set_lock_callbacks(nullptr) == 0);
  event_set_log_callback(nullptr);
  BOOST_TEST(warnings.empty());
}

BOOST_AUTO_TEST_CASE(a_complete_lock_set_is_accepted) {
  BOOST_TEST(evthread_set_lock_callbacks(&program_locks) == 0);
  BOOST_TEST(evthread_set_condition_callbacks(&program_conds) == 0);
  evthread_set_id_callback(thread_id);
}

BOOST_AUTO_TEST_CASE(bases_made_after_the_set_wake_for_another_threads_event_active) {
  Base base;
  BOOST_TEST(woken_from_another_thread(base));
}

BOOST_AUTO_TEST_CASE(bases_made_after_the_set_make_event_del_wait_for_a_running_callback) {
  Base base;
  BOOST_TEST(del_waits_for_running_callback(base));
}

BOOST_AUTO_TEST_CASE(the_same_lock_set_again_is_accepted) {
  BOOST_TEST(evthread_set_lock_callbacks(&program_locks) == 0);
}

BOOST_AUTO_TEST_CASE(a_different_lock_set_is_refused_with_a_warning) {
  warnings.clear();
  event_set_log_callback(log_cb);
  evthread_lock_callbacks other = program_locks;
  other.unlock = other_unlock;
  BOOST_TEST(evthread_set_lock_callbacks(&other) == -1);
  event_set_log_callback(nullptr);
  BOOST_TEST_REQUIRE(warnings.size() == 1u);
  BOOST_TEST(warnings[0] == "Can't change lock callbacks once they have been initialized.");
}

BOOST_AUTO_TEST_CASE(the_same_condition_set_again_is_accepted_a_different_one_refused) {
  BOOST_TEST(evthread_set_condition_callbacks(&program_conds) == 0);
  evthread_condition_callbacks other = program_conds;
  other.signal_condition = [](void* c, int b) { return cond_signal(c, b); };
  event_set_log_callback(log_cb);
  BOOST_TEST(evthread_set_condition_callbacks(&other) == -1);
  event_set_log_callback(nullptr);
}

BOOST_AUTO_TEST_CASE(evthread_use_pthreads_after_a_program_set_still_succeeds) {
  event_set_log_callback(log_cb);
  BOOST_TEST(evthread_use_pthreads() == 0);
  event_set_log_callback(nullptr);
  Base base;
  BOOST_TEST(woken_from_another_thread(base));
}

BOOST_AUTO_TEST_CASE(a_nolock_base_still_runs_its_events_on_its_own_thread) {
  event_config* cfg = event_config_new();
  BOOST_TEST_REQUIRE(cfg != nullptr);
  event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
  event_base* base = event_base_new_with_config(cfg);
  event_config_free(cfg);
  BOOST_TEST_REQUIRE(base != nullptr);
  woken = 0;
  event* user = event_new(base, -1, 0, wake_cb, base);
  event_active(user, EV_READ, 0);
  BOOST_TEST(event_base_dispatch(base) == 0);
  BOOST_TEST(woken == 1);
  event_free(user);
  event_base_free(base);
}

BOOST_AUTO_TEST_SUITE_END()

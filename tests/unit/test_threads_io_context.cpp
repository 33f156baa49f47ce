// libevent-style objects on an application's io_context run by several
// threads (io_context::run() from each), and the multi-core sample: one
// event_base per thread, listeners sharing a port with LEV_OPT_REUSEABLE_PORT.
// Real loopback sockets; no timed assertions (a safety alarm only stops a
// hang). The suite also runs under ThreadSanitizer: Boost.Test assertions are
// made on the test thread only; other threads record into atomics or under
// a mutex.
#define BOOST_TEST_MODULE threads_io_context
#include <boost/test/unit_test.hpp>

#include <evasio/asio.hpp>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <event2/util.h>

#include "fixtures.hpp"

#include <boost/asio/executor_work_guard.hpp>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <limits.h>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

using namespace nettest;
namespace utf = boost::unit_test;
namespace asio = boost::asio;

namespace {

// Generous: ThreadSanitizer slows everything down several times.
using Watchdog = CaseAlarm<240>;

// N threads running ctx until stop(); a work guard keeps them in run()
// while nothing is pending.
class Runners {
public:
  Runners(asio::io_context& ctx, int n) : ctx_(ctx), guard_(ctx.get_executor()) {
    for (int i = 0; i < n; ++i)
      threads_.emplace_back([this] { ctx_.run(); });
  }
  ~Runners() { stop(); }
  Runners(const Runners&) = delete;
  Runners& operator=(const Runners&) = delete;
  void stop() {
    guard_.reset();
    ctx_.stop();
    for (std::thread& t : threads_)
      if (t.joinable())
        t.join();
  }

private:
  asio::io_context& ctx_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
};

std::string pattern(unsigned seed, size_t n) {
  std::string s(n, '\0');
  unsigned x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    s[i] = static_cast<char>(x >> 16);
  }
  return s;
}

// A counter that the test thread can wait on (no timeout: the watchdog
// ends a run that never gets there).
struct Counter {
  std::mutex m;
  std::condition_variable cv;
  int n = 0;
  void add() {
    std::lock_guard<std::mutex> g(m);
    ++n;
    cv.notify_all();
  }
  int get() {
    std::lock_guard<std::mutex> g(m);
    return n;
  }
  void wait_for_at_least(int target) {
    std::unique_lock<std::mutex> g(m);
    cv.wait(g, [&] { return n >= target; });
  }
};

// Client threads, each making `per_thread` connections, `batch` open at a
// time: connect all, write `size` bytes on each, read each echo back, close.
// Returns the number of connections echoed intact.
int run_echo_clients(const Addr& to, int threads, int per_thread, int batch, size_t size) {
  std::atomic<int> good{0};
  std::vector<std::thread> v;
  for (int t = 0; t < threads; ++t) {
    v.emplace_back([&, t] {
      for (int done = 0; done < per_thread; done += batch) {
        std::vector<Fd> conns;
        std::vector<std::string> sent;
        for (int i = 0; i < batch && done + i < per_thread; ++i) {
          conns.push_back(connect_to(to));
          sent.push_back(pattern(static_cast<unsigned>(t * 100000 + done + i), size));
        }
        for (size_t i = 0; i < conns.size(); ++i)
          if (conns[i].valid() && !write_all(conns[i].get(), sent[i].data(), size))
            conns[i].reset();
        for (size_t i = 0; i < conns.size(); ++i) {
          if (!conns[i].valid())
            continue;
          std::string back(size, '\0');
          if (read_exact(conns[i].get(), &back[0], size) && back == sent[i])
            ++good;
        }
      }
    });
  }
  for (std::thread& th : v)
    th.join();
  return good.load();
}

// ---- the echo server of the manual, instrumented ------------------------------

// One connection: its callbacks flag themselves busy, so that two running at
// once show up as an overlap.
struct Conn {
  struct Server* server = nullptr;
  bufferevent* bev = nullptr;
  std::atomic<bool> in_cb{false};
};

struct Server {
  event_base* base = nullptr;
  unsigned bev_options = BEV_OPT_CLOSE_ON_FREE;
  bool use_writecb = false;
  std::atomic<bool> listener_in_cb{false};
  std::atomic<int> listener_overlaps{0};
  std::atomic<int> bev_overlaps{0};
  std::atomic<int> readcbs{0}, writecbs{0};
  std::mutex m;  // guards conns
  std::vector<std::unique_ptr<Conn>> conns;
  std::set<std::thread::id> accept_threads;  // under m
  Counter accepted;
  Counter closed;
};

struct BusyFlag {
  std::atomic<bool>& flag;
  BusyFlag(std::atomic<bool>& f, std::atomic<int>& overlaps) : flag(f) {
    if (flag.exchange(true))
      ++overlaps;
  }
  ~BusyFlag() { flag.store(false); }
};

void echo_read(bufferevent* bev, void* arg) {
  auto* c = static_cast<Conn*>(arg);
  BusyFlag busy(c->in_cb, c->server->bev_overlaps);
  ++c->server->readcbs;
  evbuffer_add_buffer(bufferevent_get_output(bev), bufferevent_get_input(bev));
  std::this_thread::yield();  // widen the window for an overlap to show
}

void echo_write(bufferevent*, void* arg) {
  auto* c = static_cast<Conn*>(arg);
  BusyFlag busy(c->in_cb, c->server->bev_overlaps);
  ++c->server->writecbs;
  std::this_thread::yield();
}

void echo_event(bufferevent* bev, short what, void* arg) {
  auto* c = static_cast<Conn*>(arg);
  Server* s = c->server;
  {
    BusyFlag busy(c->in_cb, s->bev_overlaps);
    if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
      return;
    bufferevent_free(bev);
  }
  s->closed.add();
}

void echo_accept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* arg) {
  auto* s = static_cast<Server*>(arg);
  BusyFlag busy(s->listener_in_cb, s->listener_overlaps);
  auto c = std::make_unique<Conn>();
  c->server = s;
  c->bev = bufferevent_socket_new(s->base, fd, static_cast<int>(s->bev_options));
  if (!c->bev) {
    ::close(fd);
    return;
  }
  Conn* raw = c.get();
  {
    std::lock_guard<std::mutex> g(s->m);
    s->conns.push_back(std::move(c));
    s->accept_threads.insert(std::this_thread::get_id());
  }
  bufferevent_setcb(raw->bev, echo_read, s->use_writecb ? echo_write : nullptr, echo_event, raw);
  bufferevent_enable(raw->bev, EV_READ | EV_WRITE);
  s->accepted.add();
}

// ---- listener-only callbacks ----------------------------------------------------

struct AcceptProbe {
  std::atomic<bool> in_cb{false};
  std::atomic<int> overlaps{0};
  std::atomic<bool> free_returned{false};
  std::atomic<int> after_free{0};  // callbacks that began after free returned
  Counter calls;
};

void probe_accept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* arg) {
  auto* p = static_cast<AcceptProbe*>(arg);
  if (p->free_returned.load())
    ++p->after_free;
  BusyFlag busy(p->in_cb, p->overlaps);
  ::close(fd);
  std::this_thread::yield();
  p->calls.add();
}

// Clients that connect and close at once, until told to stop.
class Hammer {
public:
  Hammer(const Addr& to, int threads) {
    for (int i = 0; i < threads; ++i)
      threads_.emplace_back([this, to] {
        while (!stop_.load()) {
          Fd c = connect_to(to);
          if (c.valid())
            ++connected_;
          else
            std::this_thread::yield();
        }
      });
  }
  ~Hammer() { stop(); }
  Hammer(const Hammer&) = delete;
  Hammer& operator=(const Hammer&) = delete;
  void stop() {
    stop_ = true;
    for (std::thread& t : threads_)
      if (t.joinable())
        t.join();
  }
  int connected() const { return connected_.load(); }

private:
  std::atomic<bool> stop_{false};
  std::atomic<int> connected_{0};
  std::vector<std::thread> threads_;
};

// ---- the multicore sample ---------------------------------------------------------

std::string exe_dir() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0)
    return ".";
  std::string p(buf, static_cast<size_t>(n));
  const size_t slash = p.rfind('/');
  return slash == std::string::npos ? "." : p.substr(0, slash);
}

std::string multicore_path() { return exe_dir() + "/../samples/evasio-multicore"; }

boost::test_tools::assertion_result multicore_present(utf::test_unit_id) {
  const std::string p = multicore_path();
  if (::access(p.c_str(), X_OK) == 0)
    return true;
  boost::test_tools::assertion_result r(false);
  r.message() << "skipped: the multicore sample is not built (" << p
              << " is absent; configure with EVASIO_BUILD_SAMPLES=ON)";
  return r;
}

// A child process whose stdout we read line by line.
class Child {
public:
  explicit Child(const std::vector<std::string>& argv) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0)
      return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    std::vector<char*> args;
    for (const std::string& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0)
      pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    ::close(p[1]);
    out_ = Fd(p[0]);
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  bool started() const { return pid_ > 0; }
  // The next line of its output ("" at the end).
  std::string line() {
    std::string l;
    char ch;
    while (true) {
      const ssize_t r = ::read(out_.get(), &ch, 1);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0 || ch == '\n')
        return l;
      l += ch;
    }
  }
  std::string rest() {
    std::string all;
    char buf[512];
    ssize_t r;
    while ((r = ::read(out_.get(), buf, sizeof buf)) != 0) {
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        break;
      all.append(buf, static_cast<size_t>(r));
    }
    return all;
  }
  // Exit status, or -1.
  int wait() {
    int status = 0;
    pid_t r;
    do
      r = ::waitpid(pid_, &status, 0);
    while (r < 0 && errno == EINTR);
    pid_ = -1;
    return r > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

private:
  pid_t pid_ = -1;
  Fd out_;
};

} // namespace

BOOST_TEST_GLOBAL_FIXTURE(UsePthreads);

BOOST_FIXTURE_TEST_SUITE(threads_io_context, Watchdog)

// ---- echo on an io_context run by two threads ---------------------------------------

BOOST_AUTO_TEST_CASE(listener_and_bufferevent_echo_on_an_io_context_run_by_two_threads_serve_200_connections) {
  asio::io_context ctx;
  event_base* base = evasio::make_event_base(ctx);
  BOOST_TEST_REQUIRE(base != nullptr);
  Server s;
  s.base = base;  // no BEV_OPT_THREADSAFE: a base over an app context locks anyway
  const Addr at = ipv4_loopback(0);
  evconnlistener* lev = evconnlistener_new_bind(base, echo_accept, &s,
                                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
                                                at.sa(), at.ilen());
  BOOST_TEST_REQUIRE(lev != nullptr);
  const Addr to = address_of(lev);

  Runners runners(ctx, 2);
  const int total = 4 * 60;
  const int good = run_echo_clients(to, 4, 60, 10, 8192);
  // Every connection's EOF reaches its bufferevent.
  s.closed.wait_for_at_least(total);
  evconnlistener_free(lev);  // from the test thread, while the loops run
  runners.stop();

  BOOST_TEST(good == total);
  BOOST_TEST(s.accepted.get() == total);
  BOOST_TEST(s.closed.get() == total);
  BOOST_TEST(s.listener_overlaps.load() == 0);
  BOOST_TEST(s.bev_overlaps.load() == 0);
  event_base_free(base);
}

BOOST_AUTO_TEST_CASE(listener_stats_count_every_connection_accepted_by_two_threads) {
  asio::io_context ctx;
  event_base* base = evasio::make_event_base(ctx);
  BOOST_TEST_REQUIRE(base != nullptr);
  AcceptProbe p;
  const Addr at = ipv4_loopback(0);
  evconnlistener* lev = evconnlistener_new_bind(base, probe_accept, &p, LEV_OPT_CLOSE_ON_FREE, -1,
                                                at.sa(), at.ilen());
  BOOST_TEST_REQUIRE(lev != nullptr);
  const Addr to = address_of(lev);
  Runners runners(ctx, 2);
  const int total = 200;
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t)
    clients.emplace_back([&] {
      for (int i = 0; i < total / 4; ++i)
        Fd c = connect_to(to);
    });
  for (std::thread& t : clients)
    t.join();
  p.calls.wait_for_at_least(total);
  // Read from the test thread while the loops run.
  const evasio::listener_stats st = evasio::get_listener_stats(lev);
  evconnlistener_free(lev);
  runners.stop();
  BOOST_TEST(st.accepted == static_cast<std::uint64_t>(total));
  BOOST_TEST(st.accept_errors == 0u);
  BOOST_TEST(st.pauses == 0u);
  event_base_free(base);
}

// ---- callbacks of one object never overlap ------------------------------------------

BOOST_AUTO_TEST_CASE(callbacks_of_one_listener_never_run_concurrently_on_two_threads) {
  asio::io_context ctx;
  event_base* base = evasio::make_event_base(ctx);
  BOOST_TEST_REQUIRE(base != nullptr);
  AcceptProbe p;
  const Addr at = ipv4_loopback(0);
  evconnlistener* lev = evconnlistener_new_bind(base, probe_accept, &p, LEV_OPT_CLOSE_ON_FREE, -1,
                                                at.sa(), at.ilen());
  BOOST_TEST_REQUIRE(lev != nullptr);
  const Addr to = address_of(lev);
  const int total = 400;
  {
    Runners runners(ctx, 2);
    std::vector<std::thread> clients;
    for (int t = 0; t < 8; ++t)
      clients.emplace_back([&] {
        for (int i = 0; i < total / 8; ++i)
          Fd c = connect_to(to);
      });
    for (std::thread& t : clients)
      t.join();
    p.calls.wait_for_at_least(total);
    evconnlistener_free(lev);
  }
  BOOST_TEST(p.calls.get() == total);
  BOOST_TEST(p.overlaps.load() == 0);
  event_base_free(base);
}

BOOST_AUTO_TEST_CASE(callbacks_of_one_threadsafe_listener_never_run_concurrently_while_another_thread_disables_and_enables_it) {
  asio::io_context ctx;
  event_base* base = evasio::make_event_base(ctx);
  BOOST_TEST_REQUIRE(base != nullptr);
  AcceptProbe p;
  const Addr at = ipv4_loopback(0);
  evconnlistener* lev = evconnlistener_new_bind(
      base, probe_accept, &p, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_THREADSAFE, -1, at.sa(), at.ilen());
  BOOST_TEST_REQUIRE(lev != nullptr);
  const Addr to = address_of(lev);
  const int total = 400;
  int toggles = 0;
  {
    Runners runners(ctx, 2);
    std::atomic<bool> clients_done{false};
    std::thread toggler([&] {
      while (!clients_done.load()) {
        evconnlistener_disable(lev);
        evconnlistener_enable(lev);
        ++toggles;
      }
    });
    std::vector<std::thread> clients;
    for (int t = 0; t < 8; ++t)
      clients.emplace_back([&] {
        for (int i = 0; i < total / 8; ++i)
          Fd c = connect_to(to);
      });
    for (std::thread& t : clients)
      t.join();
    clients_done = true;
    toggler.join();  // its last call was an enable
    p.calls.wait_for_at_least(total);
    evconnlistener_free(lev);
  }
  BOOST_TEST_MESSAGE("disable/enable pairs: " << toggles);
  BOOST_TEST(p.calls.get() == total);
  BOOST_TEST(p.overlaps.load() == 0);
  event_base_free(base);
}

// The first callback is held while the listener is disabled and re-enabled
// (by the test thread, or by the callback itself); a second connection waits
// in the backlog. The other loop thread must not start a callback for it
// until the first one has returned. If it did, it would do so at once; the
// held callback gives it a generous while to show up (a wrong library could
// pass only on a machine slower than that, a right one never fails).
struct HeldProbe {
  std::mutex m;
  std::condition_variable cv;
  bool toggle_inside = false;  // the callback itself disables and enables
  evconnlistener* lev = nullptr;
  int calls = 0;
  bool first_in = false;
  bool toggled = false;
  bool first_done = false;
  bool overlap = false;
};

void held_accept(evconnlistener* lev, evutil_socket_t fd, sockaddr*, int, void* arg) {
  auto* p = static_cast<HeldProbe*>(arg);
  ::close(fd);
  std::unique_lock<std::mutex> g(p->m);
  const int n = ++p->calls;
  if (n > 1 && !p->first_done)
    p->overlap = true;
  p->cv.notify_all();
  if (n != 1)
    return;
  p->first_in = true;
  if (p->toggle_inside) {
    g.unlock();
    evconnlistener_disable(lev);
    evconnlistener_enable(lev);
    g.lock();
    p->toggled = true;
  }
  p->cv.wait(g, [p] { return p->toggled; });
  p->cv.wait_for(g, std::chrono::milliseconds(500), [p] { return p->calls > 1; });
  p->first_done = true;
  p->cv.notify_all();
}

void held_listener_scenario(bool toggle_inside) {
  asio::io_context ctx;
  event_base* base = evasio::make_event_base(ctx);
  BOOST_TEST_REQUIRE(base != nullptr);
  HeldProbe p;
  p.toggle_inside = toggle_inside;
  const Addr at = ipv4_loopback(0);
  evconnlistener* lev = evconnlistener_new_bind(
      base, held_accept, &p, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_THREADSAFE, -1, at.sa(), at.ilen());
  BOOST_TEST_REQUIRE(lev != nullptr);
  p.lev = lev;
  Fd c1 = connect_to(address_of(lev));
  Fd c2 = connect_to(address_of(lev));
  BOOST_TEST_REQUIRE((c1.valid() && c2.valid()));
  {
    Runners runners(ctx, 2);
    std::unique_lock<std::mutex> g(p.m);
    p.cv.wait(g, [&] { return p.first_in; });
    if (!toggle_inside) {
      g.unlock();
      evconnlistener_disable(lev);  // from the test thread, not a loop thread
      evconnlistener_enable(lev);
      g.lock();
      p.toggled = true;
      p.cv.notify_all();
    }
    p.cv.wait(g, [&] { return p.calls >= 2 && p.first_done; });
    g.unlock();
    evconnlistener_free(lev);
  }
  BOOST_TEST(p.calls == 2);
  BOOST_TEST(!p.overlap, "a second accept callback began while the first was still running");
  event_base_free(base);
}

BOOST_AUTO_TEST_CASE(a_listener_disabled_and_enabled_from_another_thread_during_its_callback_does_not_start_a_second_one) {
  held_listener_scenario(false);
}

BOOST_AUTO_TEST_CASE(a_listener_callback_that_disables_and_enables_its_listener_is_not_overlapped_by_the_other_thread) {
  held_listener_scenario(true);
}

BOOST_AUTO_TEST_CASE(callbacks_of_one_bufferevent_never_run_concurrently_on_two_threads) {
  asio::io_context ctx;
  event_base* base = evasio::make_event_base(ctx);
  BOOST_TEST_REQUIRE(base != nullptr);
  Server s;
  s.base = base;
  s.use_writecb = true;  // read and write callbacks come from separate handlers
  const Addr at = ipv4_loopback(0);
  evconnlistener* lev = evconnlistener_new_bind(base, echo_accept, &s,
                                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
                                                at.sa(), at.ilen());
  BOOST_TEST_REQUIRE(lev != nullptr);
  const Addr to = address_of(lev);
  const int conns = 16, rounds = 50;
  std::atomic<int> good{0};
  {
    Runners runners(ctx, 2);
    std::vector<std::thread> clients;
    for (int t = 0; t < conns; ++t)
      clients.emplace_back([&, t] {
        Fd c = connect_to(to);
        if (!c.valid())
          return;
        // Many small round trips: each is a read callback and, once the
        // echo is out, a write callback, on whichever thread is free.
        for (int r = 0; r < rounds; ++r) {
          const std::string msg = pattern(static_cast<unsigned>(t * 1000 + r), 512);
          std::string back(msg.size(), '\0');
          if (!write_all(c.get(), msg.data(), msg.size()) ||
              !read_exact(c.get(), &back[0], back.size()) || back != msg)
            return;
        }
        ++good;
      });
    for (std::thread& t : clients)
      t.join();
    s.closed.wait_for_at_least(conns);
    evconnlistener_free(lev);
  }
  BOOST_TEST(good.load() == conns);
  BOOST_TEST(s.readcbs.load() >= conns);
  BOOST_TEST(s.writecbs.load() >= conns);
  BOOST_TEST(s.bev_overlaps.load() == 0);
  BOOST_TEST(s.listener_overlaps.load() == 0);
  event_base_free(base);
}

// ---- freeing a listener from a non-loop thread ------------------------------------

BOOST_AUTO_TEST_CASE(a_listener_freed_from_a_non_loop_thread_while_accepts_arrive_stops_cleanly_without_fd_leaks) {
  asio::io_context ctx;
  event_base* base = evasio::make_event_base(ctx);
  BOOST_TEST_REQUIRE(base != nullptr);
  const Addr at = ipv4_loopback(0);
  {
    // Warm-up: the io_context's reactor makes its own fds with the first
    // socket; they are not the listener's.
    evconnlistener* warm = evconnlistener_new_bind(base, probe_accept, nullptr,
                                                   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_DISABLED, -1,
                                                   at.sa(), at.ilen());
    BOOST_TEST_REQUIRE(warm != nullptr);
    evconnlistener_free(warm);
  }
  const int fds_before = count_open_fds();
  BOOST_TEST_REQUIRE(fds_before > 0);

  const int rounds = 20;
  int rounds_with_late_callbacks = 0;  // more than one began after free returned
  int rounds_with_extra_calls = 0;     // more than one finished after free returned
  int late_callbacks = 0;
  int overlaps = 0;
  for (int round = 0; round < rounds; ++round) {
    auto p = std::make_unique<AcceptProbe>();
    evconnlistener* lev = evconnlistener_new_bind(
        base, probe_accept, p.get(), LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_THREADSAFE,
        -1, at.sa(), at.ilen());
    BOOST_TEST_REQUIRE(lev != nullptr);
    ctx.restart();
    Runners runners(ctx, 2);
    Hammer hammer(address_of(lev), 3);
    p->calls.wait_for_at_least(10 + round);  // accepts are arriving
    evconnlistener_free(lev);                // test thread: not a loop thread
    const int at_free = p->calls.get();
    p->free_returned = true;
    hammer.stop();
    // The loop threads finish what they were running (a callback already
    // begun when free was called, say); stale handlers left queued for this
    // listener run as no-ops in later rounds.
    runners.stop();
    // A callback the loop had already begun (taken its connection) when free
    // was called may finish after free returned: at most one, since the
    // listener's callbacks never overlap. No new one may start.
    const int began_late = p->after_free.load();
    const int finished_late = p->calls.get() - at_free;
    late_callbacks += began_late;
    if (began_late > 1)
      ++rounds_with_late_callbacks;
    if (finished_late > 1)
      ++rounds_with_extra_calls;
    overlaps += p->overlaps.load();
  }
  BOOST_TEST(rounds_with_late_callbacks == 0);
  BOOST_TEST(rounds_with_extra_calls == 0);
  BOOST_TEST(overlaps == 0);
  BOOST_TEST_MESSAGE("callbacks that began after free returned (already dispatched): " << late_callbacks);
  // Every accepted fd was closed by the callback and every listener fd by
  // its free; no handler keeps one.
  BOOST_TEST(count_open_fds() == fds_before);
  event_base_free(base);
  BOOST_TEST(count_open_fds() == fds_before);
}

// ---- the multicore sample -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(multicore_sample_with_two_threads_and_reuseport_spreads_200_connections_over_both,
                     *utf::precondition(multicore_present)) {
  const int total = 200;
  Child child({multicore_path(), "0", "2", std::to_string(total)});
  BOOST_TEST_REQUIRE(child.started(), "cannot spawn " << multicore_path());
  const std::string first = child.line();
  const size_t colon = first.rfind(':');
  BOOST_TEST_REQUIRE((first.rfind("multicore: 2 threads listening on 127.0.0.1:", 0) == 0 &&
                      colon != std::string::npos),
                     "unexpected first line: '" << first << "'");
  const unsigned port = static_cast<unsigned>(std::stoul(first.substr(colon + 1)));
  BOOST_TEST_REQUIRE(port != 0u);

  const int good = run_echo_clients(ipv4_loopback(port), 4, total / 4, 5, 1024);
  BOOST_TEST(good == total);
  // It exits by itself after `total` connections, printing its counts.
  const std::string out = child.rest();
  const int status = child.wait();
  BOOST_TEST(status == 0, "exit status " << status << ", output:\n" << out);

  std::istringstream in(out);
  std::string line;
  long counts[2] = {-1, -1};
  long reported_total = -1;
  while (std::getline(in, line)) {
    int idx;
    long n;
    if (std::sscanf(line.c_str(), "thread %d: %ld connections", &idx, &n) == 2 && idx >= 0 && idx < 2)
      counts[idx] = n;
    else if (std::sscanf(line.c_str(), "total: %ld connections", &n) == 1)
      reported_total = n;
  }
  BOOST_TEST_MESSAGE("thread 0: " << counts[0] << ", thread 1: " << counts[1]);
  BOOST_TEST(counts[0] > 0, "thread 0 served none; output:\n" << out);
  BOOST_TEST(counts[1] > 0, "thread 1 served none; output:\n" << out);
  BOOST_TEST(counts[0] + counts[1] == total);
  BOOST_TEST(reported_total == total);
}

BOOST_AUTO_TEST_SUITE_END()

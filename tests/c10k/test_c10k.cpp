// C10K (issue #5): the echo sample holds 10,000 concurrent connections and
// echoes on every one of them.
//
// The server (the executable after "--", e.g. evasio-echo) runs as its own
// process; this process raises RLIMIT_NOFILE first (the server inherits it),
// then, from a single thread with epoll:
//   1. opens 10,000 connections and keeps every one open; each counts once
//      the server echoed a first byte on it (at most 100 on their way at
//      once); the server's /proc/<pid>/fd shows it holds them all;
//   2. sends a message of its own on every connection and reads it back,
//      intact, on every one; twice, so each connection is shown alive after
//      all of them are established;
//   3. closes them all: the server lets go of every one (its fd count comes
//      back to where it was), is still running and still echoes.
// The cases share the server and the connections and run in order.
//
// Every wait is bounded (generously: the bounds stop a broken server from
// hanging the test, they do not measure it).
#define BOOST_TEST_MODULE evasio_c10k
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace utf = boost::unit_test;

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::size_t kConnections = 10000;
constexpr std::size_t kConnectsInFlight = 100;
constexpr rlim_t kFdsNeeded = kConnections + 256;  // per process
constexpr auto kPhaseBound = seconds(120);          // safety bound of each phase
constexpr int kStartAttempts = 5;

std::string errno_text(const std::string& what, int err) { return what + ": " + std::strerror(err); }

// Raises RLIMIT_NOFILE to at least `want` (soft to hard first; as root the
// hard limit too, up to fs.nr_open). Empty on success, else why not.
std::string raise_fd_limit(rlim_t want) {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0)
    return errno_text("getrlimit", errno);
  if (r.rlim_cur >= want)
    return {};
  if (r.rlim_max < want) {
    rlimit h = r;
    h.rlim_max = want;
    h.rlim_cur = want;
    if (::setrlimit(RLIMIT_NOFILE, &h) == 0)
      return {};
    return errno_text("RLIMIT_NOFILE hard limit " + std::to_string(r.rlim_max) + " is below " +
                          std::to_string(want) + " and cannot be raised (root needed)",
                      errno);
  }
  r.rlim_cur = want;
  if (::setrlimit(RLIMIT_NOFILE, &r) != 0)
    return errno_text("setrlimit", errno);
  return {};
}

int count_fds(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (!d)
    return -1;
  int n = 0;
  while (const dirent* e = ::readdir(d))
    if (e->d_name[0] != '.')
      ++n;
  ::closedir(d);
  return n;
}

int pick_free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return 0;
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_ANY);
  socklen_t len = sizeof sin;
  int port = 0;
  if (::bind(s, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0 &&
      ::getsockname(s, reinterpret_cast<sockaddr*>(&sin), &len) == 0)
    port = ntohs(sin.sin_port);
  ::close(s);
  return port;
}

sockaddr_in loopback(int port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sin.sin_port = htons(static_cast<std::uint16_t>(port));
  return sin;
}

// A blocking connection, or -1.
int connect_blocking(int port) {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return -1;
  const sockaddr_in sin = loopback(port);
  if (::connect(s, reinterpret_cast<const sockaddr*>(&sin), sizeof sin) != 0) {
    const int e = errno;
    ::close(s);
    errno = e;
    return -1;
  }
  return s;
}

// One blocking round trip on a fresh connection (bounded by SO_RCVTIMEO).
bool echoes_once(int port) {
  const int s = connect_blocking(port);
  if (s < 0)
    return false;
  timeval tv{5, 0};
  ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const char msg[] = "are you still there?";
  bool ok = ::send(s, msg, sizeof msg, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof msg);
  char back[sizeof msg];
  std::size_t got = 0;
  while (ok && got < sizeof back) {
    const ssize_t r = ::recv(s, back + got, sizeof back - got, 0);
    if (r <= 0)
      ok = false;
    else
      got += static_cast<std::size_t>(r);
  }
  ::close(s);
  return ok && std::memcmp(back, msg, sizeof msg) == 0;
}

std::string describe_status(int status) {
  std::ostringstream os;
  if (WIFEXITED(status))
    os << "exited with status " << WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    os << "killed by signal " << WTERMSIG(status);
  else
    os << "status " << status;
  return os.str();
}

// The echo server process.
class Server {
public:
  ~Server() { kill_now(); }

  std::string start(const std::string& exe) {
    std::string last;
    for (int attempt = 1; attempt <= kStartAttempts; ++attempt) {
      port_ = pick_free_port();
      if (port_ == 0)
        return errno_text("no free port", errno);
      std::string port_arg = std::to_string(port_);
      std::vector<char*> args{const_cast<char*>(exe.c_str()), port_arg.data(), nullptr};
      const int rc = ::posix_spawn(&pid_, exe.c_str(), nullptr, nullptr, args.data(), environ);
      if (rc != 0) {
        pid_ = -1;
        return errno_text("cannot start " + exe, rc);
      }
      const auto deadline = Clock::now() + seconds(30);
      for (;;) {
        if (!running(&last))
          break;  // lost the port to someone else: try another
        const int probe = connect_blocking(port_);
        if (probe >= 0) {
          ::close(probe);
          return {};
        }
        if (errno != ECONNREFUSED)
          return errno_text("connect", errno);
        if (Clock::now() > deadline)
          return "the server did not accept within 30 s";
        std::this_thread::sleep_for(milliseconds(20));
      }
    }
    return "the server could not start (" + last + ")";
  }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }

  bool running(std::string* how = nullptr) {
    if (pid_ < 0) {
      if (how)
        *how = exit_text_;
      return false;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_text_ = describe_status(status);
      pid_ = -1;
      if (how)
        *how = exit_text_;
      return false;
    }
    return true;
  }

  void kill_now() {
    if (pid_ < 0)
      return;
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + seconds(10);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) != pid_) {
      if (Clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    pid_ = -1;
  }

private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string exit_text_ = "never started";
};

struct Conn {
  int fd = -1;
  std::string expect;  // the message of the current round
  std::string got;
};

// The server, the connections, the epoll set: shared by the cases.
struct C10k {
  Server server;
  std::string setup_error;
  int server_fds_idle = -1;  // the server's fds before the connections
  std::vector<Conn> conns;
  int ep = -1;
  std::size_t connect_errors = 0;
  std::string first_connect_error;

  ~C10k() {
    close_all();
    if (ep >= 0)
      ::close(ep);
  }

  void close_all() {
    for (Conn& c : conns)
      if (c.fd >= 0) {
        ::close(c.fd);
        c.fd = -1;
      }
  }

  std::string setup() {
    ::signal(SIGPIPE, SIG_IGN);
    const auto& suite = utf::framework::master_test_suite();
    if (suite.argc < 2)
      return "usage: test_c10k [boost.test options] -- <echo server executable>";
    if (std::string e = raise_fd_limit(kFdsNeeded); !e.empty())
      return e;  // before the server starts: it inherits the limit
    if (std::string e = server.start(suite.argv[1]); !e.empty())
      return e;
    ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
      return errno_text("epoll_create1", errno);
    // The server's fds at rest: the start-up probe's connection is gone
    // once the count holds still (bounded).
    server_fds_idle = count_fds(server.pid());
    for (int i = 0; i < 50; ++i) {
      std::this_thread::sleep_for(milliseconds(50));
      const int n = count_fds(server.pid());
      if (n == server_fds_idle)
        break;
      server_fds_idle = n;
    }
    conns.resize(kConnections);
    return {};
  }

  // Phase 1: every connection established and kept open. A connection
  // counts once the server echoed a first byte on it, which shows that the
  // server accepted it; at most kConnectsInFlight are on their way at once
  // (servers with libevent's backlog of 128 included).
  std::size_t open_all() {
    const sockaddr_in to = loopback(server.port());
    std::size_t next = 0, in_flight = 0, established = 0;
    const auto deadline = Clock::now() + kPhaseBound;
    std::vector<epoll_event> ready(kConnectsInFlight);
    auto greet = [&](std::size_t i) {
      Conn& c = conns[i];
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      if (::send(c.fd, "+", 1, MSG_NOSIGNAL) != 1 || ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev) != 0) {
        note_error(errno_text("first byte", errno));
        ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
        --in_flight;
      }
    };
    while (established + connect_errors < kConnections && Clock::now() < deadline) {
      while (in_flight < kConnectsInFlight && next < kConnections) {
        const std::size_t i = next++;
        Conn& c = conns[i];
        c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (c.fd < 0) {
          note_error(errno_text("socket", errno));
          continue;
        }
        const int r = ::connect(c.fd, reinterpret_cast<const sockaddr*>(&to), sizeof to);
        if (r != 0 && errno != EINPROGRESS) {
          note_error(errno_text("connect", errno));
          continue;
        }
        epoll_event ev{};
        ev.events = EPOLLOUT;
        ev.data.u64 = i;
        if (::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
          note_error(errno_text("epoll_ctl", errno));
          continue;
        }
        ++in_flight;
        if (r == 0)
          greet(i);
      }
      const int n = ::epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 1000);
      for (int k = 0; k < n; ++k) {
        const std::size_t i = ready[static_cast<std::size_t>(k)].data.u64;
        Conn& c = conns[i];
        if (ready[static_cast<std::size_t>(k)].events & EPOLLOUT) {  // connect finished
          int err = 0;
          socklen_t len = sizeof err;
          ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
          if (err == 0) {
            greet(i);
          } else {
            note_error(errno_text("connect (async)", err));
            ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
            --in_flight;
          }
          continue;
        }
        char b = 0;
        const ssize_t r = ::recv(c.fd, &b, 1, MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
          continue;
        ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
        --in_flight;
        if (r == 1 && b == '+')
          ++established;
        else
          note_error(r == 0 ? std::string("closed by the server") : errno_text("first echo", errno));
      }
    }
    return established;
  }

  void note_error(const std::string& what) {
    if (connect_errors++ == 0)
      first_connect_error = what;
  }

  // Waits until the server's fd count satisfies pred (bounded).
  template <class Pred>
  int wait_server_fds(Pred pred, seconds bound) {
    const auto deadline = Clock::now() + bound;
    int n = count_fds(server.pid());
    while (!pred(n) && Clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(50));
      n = count_fds(server.pid());
    }
    return n;
  }

  // Phase 2: one round of messages; returns how many came back intact.
  std::size_t echo_round(int round, std::size_t* mismatched) {
    *mismatched = 0;
    std::size_t pending = 0;
    for (std::size_t i = 0; i < conns.size(); ++i) {
      Conn& c = conns[i];
      if (c.fd < 0)
        continue;
      char msg[64];
      const int n = std::snprintf(msg, sizeof msg, "round %d connection %05zu of %zu\n", round, i, kConnections);
      c.expect.assign(msg, static_cast<std::size_t>(n));
      c.got.clear();
      if (::send(c.fd, c.expect.data(), c.expect.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(c.expect.size()))
        continue;  // counted as not echoed
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      if (::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev) == 0)
        ++pending;
    }
    std::size_t intact = 0;
    const auto deadline = Clock::now() + kPhaseBound;
    std::vector<epoll_event> ready(1024);
    while (pending > 0 && Clock::now() < deadline) {
      const int n = ::epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 1000);
      for (int k = 0; k < n; ++k) {
        Conn& c = conns[ready[static_cast<std::size_t>(k)].data.u64];
        char buf[256];
        const ssize_t r = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
        bool done = false;
        if (r > 0) {
          c.got.append(buf, static_cast<std::size_t>(r));
          if (c.got.size() >= c.expect.size()) {
            done = true;
            if (c.got == c.expect)
              ++intact;
            else
              ++*mismatched;
          }
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          done = true;  // closed or failed: not echoed
        }
        if (done) {
          ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
          --pending;
        }
      }
    }
    return intact;
  }
};

C10k& shared() {
  static C10k c;
  return c;
}

C10k* ready_or_null() {
  static bool tried = false;
  C10k& c = shared();
  if (!tried) {
    tried = true;
    c.setup_error = c.setup();
  }
  return c.setup_error.empty() ? &c : nullptr;
}

struct StopAtExit {
  ~StopAtExit() { shared().server.kill_now(); }
};

} // namespace

BOOST_TEST_GLOBAL_FIXTURE(StopAtExit);

BOOST_AUTO_TEST_SUITE(c10k)

BOOST_AUTO_TEST_CASE(echo_server_holds_10000_concurrent_connections) {
  C10k* c = ready_or_null();
  BOOST_TEST_REQUIRE(c != nullptr, shared().setup_error);
  const auto t0 = Clock::now();
  const std::size_t established = c->open_all();
  BOOST_TEST_MESSAGE(established << " connections established in "
                     << std::chrono::duration<double>(Clock::now() - t0).count() << " s");
  BOOST_TEST(c->connect_errors == 0u, c->first_connect_error);
  BOOST_TEST_REQUIRE(established == kConnections);
  // The server took every one of them and holds them: one fd each.
  const int want = c->server_fds_idle + static_cast<int>(kConnections);
  const int fds = c->wait_server_fds([want](int n) { return n >= want; }, seconds(60));
  BOOST_TEST_MESSAGE("server fds: " << c->server_fds_idle << " idle, " << fds << " now");
  BOOST_TEST(fds >= want);
  std::string how;
  BOOST_TEST(c->server.running(&how), "the server " << how);
}

BOOST_AUTO_TEST_CASE(echo_server_echoes_on_every_one_of_10000_concurrent_connections,
                     *utf::depends_on("c10k/echo_server_holds_10000_concurrent_connections")) {
  C10k* c = ready_or_null();
  BOOST_TEST_REQUIRE(c != nullptr, shared().setup_error);
  for (int round = 1; round <= 2; ++round) {
    const auto t0 = Clock::now();
    std::size_t mismatched = 0;
    const std::size_t intact = c->echo_round(round, &mismatched);
    BOOST_TEST_MESSAGE("round " << round << ": " << intact << " echoed intact in "
                       << std::chrono::duration<double>(Clock::now() - t0).count() << " s");
    BOOST_TEST(intact == kConnections);
    BOOST_TEST(mismatched == 0u);
  }
  // Still all open on the server's side.
  BOOST_TEST(count_fds(c->server.pid()) >= c->server_fds_idle + static_cast<int>(kConnections));
  std::string how;
  BOOST_TEST(c->server.running(&how), "the server " << how);
}

BOOST_AUTO_TEST_CASE(echo_server_lets_go_of_every_closed_connection_and_keeps_serving,
                     *utf::depends_on("c10k/echo_server_holds_10000_concurrent_connections")) {
  C10k* c = ready_or_null();
  BOOST_TEST_REQUIRE(c != nullptr, shared().setup_error);
  c->close_all();
  const int idle = c->server_fds_idle;
  const int fds = c->wait_server_fds([idle](int n) { return n <= idle; }, seconds(60));
  BOOST_TEST(fds == idle);
  std::string how;
  BOOST_TEST_REQUIRE(c->server.running(&how), "the server " << how);
  BOOST_TEST(echoes_once(c->server.port()));
}

BOOST_AUTO_TEST_SUITE_END()

// The echo sample (samples/echo.c), driven from outside as a separate
// process over loopback TCP:
//   - it starts on a free port and accepts connections;
//   - 8 clients at once each send 1 MiB of their own pseudo-random bytes
//     while reading, and get every byte back, in order; after a client
//     half-closes, the server closes the connection (the sample frees a
//     connection on EOF) without sending anything more;
//   - clients that connect and close at once (with a FIN or an RST) do not
//     disturb it: a connection opened before them still echoes, a new one
//     too, and the process still runs;
//   - it dies of SIGTERM, and not earlier.
//
// The server executable: the first argument after "--" (ctest passes it),
// else $EVASIO_ECHO_SERVER, else the EVASIO_ECHO_SERVER compile definition
// (the evasio-echo target). Any echo server taking its port as its only
// argument will do, e.g. libevent-echo (the same sample on real libevent).
//
// Every wait is bounded (generously: these bounds stop a broken server
// from hanging the test, they do not measure it); nothing is timed.
#define BOOST_TEST_MODULE evasio_echo_sample
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Safety bounds.
constexpr auto kStartBound = seconds(30);    // until the server accepts
constexpr auto kStallBound = seconds(60);    // a client without progress
constexpr auto kClientBound = seconds(240);  // a whole client
constexpr auto kStopBound = seconds(15);     // SIGTERM until exit
constexpr int kStartAttempts = 5;            // fresh ports to try

constexpr std::size_t kClients = 8;
constexpr std::size_t kBytesPerClient = 1024 * 1024;

std::string errno_text(const char *what, int err)
{
    return std::string(what) + ": " + std::strerror(err);
}

// A socket that closes itself.
class Socket {
public:
    explicit Socket(int fd = -1) : fd_(fd) {}
    ~Socket() { reset(); }
    Socket(Socket &&o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    Socket &operator=(Socket &&o) noexcept
    {
        if (this != &o) {
            reset();
            fd_ = o.fd_;
            o.fd_ = -1;
        }
        return *this;
    }
    Socket(const Socket &) = delete;
    Socket &operator=(const Socket &) = delete;

    int fd() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    void reset()
    {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_;
};

// A port nobody listens on right now, found by binding port 0 (0 on
// failure). Another process may take it before the server binds it: the
// server then exits, and a new port is tried.
int pick_free_port()
{
    Socket s(::socket(AF_INET, SOCK_STREAM, 0));
    if (!s.valid())
        return 0;
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_ANY);
    sin.sin_port = 0;
    socklen_t len = sizeof sin;
    if (::bind(s.fd(), reinterpret_cast<sockaddr *>(&sin), sizeof sin) != 0 ||
        ::getsockname(s.fd(), reinterpret_cast<sockaddr *>(&sin), &len) != 0)
        return 0;
    return ntohs(sin.sin_port);
}

// A blocking connection to 127.0.0.1:port; invalid with errno on failure.
Socket connect_loopback(int port)
{
    Socket s(::socket(AF_INET, SOCK_STREAM, 0));
    if (!s.valid())
        return s;
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons(static_cast<std::uint16_t>(port));
    while (::connect(s.fd(), reinterpret_cast<sockaddr *>(&sin), sizeof sin) != 0) {
        if (errno == EINTR)
            continue;
        int e = errno;
        s.reset();
        errno = e;
        break;
    }
    return s;
}

bool set_nonblocking(int fd)
{
    int flags = ::fcntl(fd, F_GETFL, 0);
    return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

std::string describe_status(int status)
{
    std::ostringstream os;
    if (WIFEXITED(status))
        os << "exited with status " << WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        os << "killed by signal " << WTERMSIG(status) << " ("
           << ::strsignal(WTERMSIG(status)) << ")";
    else
        os << "status " << status;
    return os.str();
}

// The echo server process.
class EchoServer {
public:
    explicit EchoServer(std::string exe) : exe_(std::move(exe)) {}
    ~EchoServer() { kill_now(); }
    EchoServer(const EchoServer &) = delete;
    EchoServer &operator=(const EchoServer &) = delete;

    // Starts the server on a free port and waits until it accepts a
    // connection. Empty on success, else what went wrong.
    std::string start()
    {
        std::string last;
        for (int attempt = 1; attempt <= kStartAttempts; ++attempt) {
            port_ = pick_free_port();
            if (port_ == 0)
                return errno_text("no free port", errno);
            std::string port_arg = std::to_string(port_);
            std::vector<char *> args{const_cast<char *>(exe_.c_str()),
                                     const_cast<char *>(port_arg.c_str()), nullptr};
            int rc = ::posix_spawn(&pid_, exe_.c_str(), nullptr, nullptr,
                                   args.data(), environ);
            if (rc != 0) {
                pid_ = -1;
                return errno_text(("cannot start " + exe_).c_str(), rc);
            }
            BOOST_TEST_MESSAGE("started " << exe_ << " on port " << port_
                               << " (pid " << pid_ << ", attempt " << attempt << ")");
            const auto deadline = Clock::now() + kStartBound;
            for (;;) {
                int status = 0;
                if (reap(status)) {
                    last = "the server " + describe_status(status) +
                           " on port " + std::to_string(port_);
                    BOOST_TEST_MESSAGE(last << "; trying another port");
                    break;
                }
                Socket probe = connect_loopback(port_);
                if (probe.valid())
                    return {};  // accepting; the probe closes at once
                if (errno != ECONNREFUSED)
                    return errno_text("connect", errno);
                if (Clock::now() > deadline) {
                    kill_now();
                    return "the server did not accept within the safety bound";
                }
                std::this_thread::sleep_for(milliseconds(20));
            }
        }
        return "the server could not start (" + last + ")";
    }

    int port() const { return port_; }

    // Still running? If it exited, *how tells how.
    bool running(std::string *how = nullptr)
    {
        if (pid_ < 0) {
            if (how)
                *how = exit_text_;
            return false;
        }
        int status = 0;
        if (reap(status)) {
            if (how)
                *how = exit_text_;
            return false;
        }
        return true;
    }

    // SIGTERM and a bounded wait (then SIGKILL). The exit status, or -1
    // when it was not running or would not die.
    int terminate()
    {
        if (pid_ < 0)
            return -1;
        ::kill(pid_, SIGTERM);
        const auto deadline = Clock::now() + kStopBound;
        int status = 0;
        while (!reap(status)) {
            if (Clock::now() > deadline) {
                kill_now();
                return -1;
            }
            std::this_thread::sleep_for(milliseconds(10));
        }
        return status;
    }

private:
    // Collects the process if it exited.
    bool reap(int &status)
    {
        if (pid_ < 0)
            return false;
        pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            exit_text_ = describe_status(status);
            pid_ = -1;
            return true;
        }
        return false;
    }

    void kill_now()
    {
        if (pid_ < 0)
            return;
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        exit_text_ = "killed by the test";
        pid_ = -1;
    }

    std::string exe_;
    pid_t pid_ = -1;
    int port_ = 0;
    std::string exit_text_ = "never started";
};

std::string server_path()
{
    auto &suite = boost::unit_test::framework::master_test_suite();
    if (suite.argc > 1)
        return suite.argv[1];
    if (const char *env = std::getenv("EVASIO_ECHO_SERVER"))
        if (*env)
            return env;
#ifdef EVASIO_ECHO_SERVER
    return EVASIO_ECHO_SERVER;
#else
    return {};
#endif
}

// The server shared by the test cases, started by the first one.
struct Shared {
    std::unique_ptr<EchoServer> server;
    std::string start_error;
};

Shared &shared()
{
    static Shared s;
    return s;
}

EchoServer *server_or_null()
{
    Shared &s = shared();
    if (!s.server && s.start_error.empty()) {
        std::string exe = server_path();
        if (exe.empty()) {
            s.start_error = "no server given (argument after --, "
                            "$EVASIO_ECHO_SERVER)";
        } else {
            s.server = std::make_unique<EchoServer>(exe);
            s.start_error = s.server->start();
            if (!s.start_error.empty())
                s.server.reset();
        }
    }
    return s.server.get();
}

// Stops a server left running when the test module ends.
struct StopServerAtExit {
    ~StopServerAtExit() { shared().server.reset(); }
};
BOOST_TEST_GLOBAL_FIXTURE(StopServerAtExit);

#define REQUIRE_SERVER(var)                                                  \
    EchoServer *var = server_or_null();                                      \
    BOOST_REQUIRE_MESSAGE(var != nullptr,                                    \
                          "echo server not running: " << shared().start_error)

// splitmix64: distinct, reproducible byte streams per seed.
struct SplitMix64 {
    std::uint64_t state;
    std::uint64_t next()
    {
        std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
};

std::vector<unsigned char> make_payload(std::uint64_t seed, std::size_t n)
{
    SplitMix64 rng{seed};
    std::vector<unsigned char> out(n);
    for (std::size_t i = 0; i < n; i += 8) {
        std::uint64_t v = rng.next();
        for (std::size_t k = 0; k < 8 && i + k < n; ++k)
            out[i + k] = static_cast<unsigned char>(v >> (8 * k));
    }
    return out;
}

struct ClientReport {
    bool ok = false;
    std::size_t sent = 0;
    std::size_t received = 0;
    std::string error;
};

// Sends payload while reading the echo, checking every byte against what
// was sent; then half-closes and expects the server to close the
// connection without sending more. Runs on its own thread: reports, does
// not assert.
ClientReport run_echo_client(int port, const std::vector<unsigned char> &payload,
                             std::uint64_t chunk_seed)
{
    ClientReport rep;
    Socket s = connect_loopback(port);
    if (!s.valid()) {
        rep.error = errno_text("connect", errno);
        return rep;
    }
    if (!set_nonblocking(s.fd())) {
        rep.error = errno_text("fcntl", errno);
        return rep;
    }
    SplitMix64 chunks{chunk_seed};
    std::vector<unsigned char> inbuf(64 * 1024);
    const std::size_t total = payload.size();
    const auto give_up = Clock::now() + kClientBound;
    auto stall_deadline = Clock::now() + kStallBound;
    bool half_closed = false;

    for (;;) {
        if (rep.received == total && !half_closed) {
            // Everything came back: no more to send; the server should
            // now close its side.
            if (::shutdown(s.fd(), SHUT_WR) != 0) {
                rep.error = errno_text("shutdown", errno);
                return rep;
            }
            half_closed = true;
            stall_deadline = Clock::now() + kStallBound;
        }
        pollfd p{};
        p.fd = s.fd();
        p.events = POLLIN;
        if (rep.sent < total)
            p.events |= POLLOUT;
        int n = ::poll(&p, 1, 200);
        if (n < 0 && errno != EINTR) {
            rep.error = errno_text("poll", errno);
            return rep;
        }
        const auto now = Clock::now();
        if (now > stall_deadline || now > give_up) {
            std::ostringstream os;
            os << (half_closed ? "server did not close the connection after "
                                 "the client's EOF"
                               : "no progress")
               << " within the safety bound (sent " << rep.sent << ", received "
               << rep.received << " of " << total << ")";
            rep.error = os.str();
            return rep;
        }
        if (n <= 0)
            continue;

        if ((p.revents & POLLOUT) && rep.sent < total) {
            // Chunks of 1 byte .. 64 KiB, so that the stream is cut in
            // many different ways.
            std::size_t want = 1 + static_cast<std::size_t>(chunks.next() % (64 * 1024));
            want = std::min(want, total - rep.sent);
            ssize_t w = ::send(s.fd(), payload.data() + rep.sent, want, MSG_NOSIGNAL);
            if (w > 0) {
                rep.sent += static_cast<std::size_t>(w);
                stall_deadline = Clock::now() + kStallBound;
            } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
                       errno != EINTR) {
                rep.error = errno_text("send", errno);
                return rep;
            }
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = ::recv(s.fd(), inbuf.data(), inbuf.size(), 0);
            if (r == 0) {
                if (rep.received == total) {
                    rep.ok = true;  // all echoed, then closed by the server
                    return rep;
                }
                std::ostringstream os;
                os << "server closed the connection early: received "
                   << rep.received << " of " << total << " bytes";
                rep.error = os.str();
                return rep;
            }
            if (r < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                    continue;
                rep.error = errno_text("recv", errno) + " after " +
                            std::to_string(rep.received) + " bytes";
                return rep;
            }
            const std::size_t got = static_cast<std::size_t>(r);
            if (rep.received + got > total) {
                rep.error = "server sent more bytes than the client did (" +
                            std::to_string(rep.received + got) + " > " +
                            std::to_string(total) + ")";
                return rep;
            }
            if (rep.received + got > rep.sent) {
                rep.error = "server echoed bytes before they were sent";
                return rep;
            }
            const unsigned char *expect = payload.data() + rep.received;
            auto mismatch = std::mismatch(inbuf.begin(), inbuf.begin() + r, expect);
            if (mismatch.first != inbuf.begin() + r) {
                std::size_t at = rep.received +
                                 static_cast<std::size_t>(mismatch.first - inbuf.begin());
                std::ostringstream os;
                os << "echoed byte " << at << " is " << int(*mismatch.first)
                   << ", sent " << int(*mismatch.second);
                rep.error = os.str();
                return rep;
            }
            rep.received += got;
            stall_deadline = Clock::now() + kStallBound;
        }
    }
}

// One line, echoed (blocking socket with receive/send timeouts as the
// safety bound). Empty on success, else what went wrong.
std::string echo_line(Socket &s, const std::string &line)
{
    timeval tv{};
    tv.tv_sec = std::chrono::duration_cast<seconds>(kStallBound).count();
    ::setsockopt(s.fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(s.fd(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    std::size_t off = 0;
    while (off < line.size()) {
        ssize_t w = ::send(s.fd(), line.data() + off, line.size() - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return errno_text("send", errno);
        off += static_cast<std::size_t>(w);
    }
    std::string back;
    while (back.size() < line.size()) {
        char buf[256];
        ssize_t r = ::recv(s.fd(), buf, std::min(sizeof buf, line.size() - back.size()), 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            return "connection closed after " + std::to_string(back.size()) +
                   " bytes of the echo";
        if (r < 0)
            return errno_text("recv (no echo within the safety bound?)", errno);
        back.append(buf, static_cast<std::size_t>(r));
    }
    if (back != line)
        return "sent \"" + line + "\", got back \"" + back + "\"";
    return {};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(echo_sample)

BOOST_AUTO_TEST_CASE(starts_and_accepts)
{
    REQUIRE_SERVER(server);
    BOOST_TEST_MESSAGE("server accepting on 127.0.0.1:" << server->port());
    Socket s = connect_loopback(server->port());
    BOOST_REQUIRE_MESSAGE(s.valid(), errno_text("connect", errno));
    std::string err = echo_line(s, "ping\n");
    BOOST_CHECK_MESSAGE(err.empty(), err);
}

BOOST_AUTO_TEST_CASE(eight_concurrent_clients_1MiB_each)
{
    REQUIRE_SERVER(server);
    std::vector<std::vector<unsigned char>> payloads;
    for (std::size_t i = 0; i < kClients; ++i)
        payloads.push_back(make_payload(0xE7A5100ull * (i + 1) + i, kBytesPerClient));
    for (std::size_t i = 1; i < kClients; ++i)
        BOOST_REQUIRE(payloads[i] != payloads[0]);  // distinct streams

    std::vector<ClientReport> reports(kClients);
    std::vector<std::thread> threads;
    const int port = server->port();
    for (std::size_t i = 0; i < kClients; ++i)
        threads.emplace_back([&, i] {
            reports[i] = run_echo_client(port, payloads[i], 1000 + i);
        });
    for (auto &t : threads)
        t.join();

    for (std::size_t i = 0; i < kClients; ++i) {
        BOOST_TEST_CONTEXT("client " << i) {
            BOOST_CHECK_MESSAGE(reports[i].ok, reports[i].error);
            BOOST_CHECK_EQUAL(reports[i].sent, kBytesPerClient);
            BOOST_CHECK_EQUAL(reports[i].received, kBytesPerClient);
        }
    }
    std::string how;
    BOOST_CHECK_MESSAGE(server->running(&how), "the server stopped: " << how);
}

BOOST_AUTO_TEST_CASE(clients_closing_at_once_do_not_disturb)
{
    REQUIRE_SERVER(server);
    const int port = server->port();

    // A connection opened before, used after.
    Socket before = connect_loopback(port);
    BOOST_REQUIRE_MESSAGE(before.valid(), errno_text("connect", errno));
    std::string err = echo_line(before, "before\n");
    BOOST_REQUIRE_MESSAGE(err.empty(), err);

    // Connect and close at once: an orderly close (FIN)...
    for (int i = 0; i < 16; ++i) {
        Socket s = connect_loopback(port);
        BOOST_REQUIRE_MESSAGE(s.valid(), errno_text("connect", errno));
    }
    // ... and an abortive one (RST, SO_LINGER with a zero timeout).
    for (int i = 0; i < 4; ++i) {
        Socket s = connect_loopback(port);
        BOOST_REQUIRE_MESSAGE(s.valid(), errno_text("connect", errno));
        linger lg{};
        lg.l_onoff = 1;
        lg.l_linger = 0;
        BOOST_REQUIRE(::setsockopt(s.fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
    }

    // The old connection still echoes, a new one too, the process runs.
    err = echo_line(before, "still here\n");
    BOOST_CHECK_MESSAGE(err.empty(), "connection opened before: " << err);
    Socket after = connect_loopback(port);
    BOOST_REQUIRE_MESSAGE(after.valid(), errno_text("connect", errno));
    err = echo_line(after, "after\n");
    BOOST_CHECK_MESSAGE(err.empty(), "new connection: " << err);
    std::string how;
    BOOST_CHECK_MESSAGE(server->running(&how), "the server stopped: " << how);
}

BOOST_AUTO_TEST_CASE(stops_on_sigterm)
{
    REQUIRE_SERVER(server);
    std::string how;
    BOOST_REQUIRE_MESSAGE(server->running(&how),
                          "the server stopped before SIGTERM: " << how);
    int status = server->terminate();
    BOOST_REQUIRE_MESSAGE(status != -1,
                          "the server did not exit on SIGTERM within the safety bound");
    BOOST_CHECK_MESSAGE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
                        "the server " << describe_status(status));
}

BOOST_AUTO_TEST_SUITE_END()

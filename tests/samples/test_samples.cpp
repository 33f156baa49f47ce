// The porting samples of issue #3 (samples/hello.c, lines.c, proxy.c),
// driven from outside as child processes over loopback TCP, each on a free
// port. The same test runs against the evasio build (evasio-NAME) and the
// real-libevent build (libevent-NAME) of each sample: the executables are
// given after "--" as NAME=PATH (hello=, lines=, proxy=, echo=), and
// --run_test picks the suite of one sample. ctest registers one test per
// (sample, flavour).
//
//   hello  every client gets exactly "Hello, World!\n" and then EOF, client
//          after client and several at once; SIGINT makes it print its
//          "interrupted" line and exit 0.
//   lines  LF and CRLF lines answered upper-cased (always with CRLF); a line
//          split across two sends, even between its CR and its LF; several
//          lines in one send; "quit" gets "bye" then EOF; an idle connection
//          (idle-seconds=1) is told "idle too long, bye" and closed, not
//          before about 1 s (>= 0.9 s), counted from its last line.
//   proxy  in front of the echo sample of the same flavour: 64 MiB from a
//          client through the proxy and back, every byte checked as it comes
//          back; the proxy's peak RSS (VmHWM) stays below 32 MiB and grows
//          by less than 8 MiB during the transfer (its read high watermark
//          is 256 KiB and it stops reading while the other side holds
//          512 KiB, per side: a few MiB of buffers at most); the same with a
//          client that sends 16 MiB and reads slowly (where the growth bound
//          is what catches a proxy without backpressure); clients
//          that go away early (FIN, RST, with data in flight) make the proxy
//          close its upstream connection: the fd counts of the proxy and of
//          the echo server (which sees the proxy's close) come back to where
//          they were, and the proxy still serves a new client.
//
// Every wait is bounded; the bounds are safety nets that turn a hang into a
// failure, never measurements. The only timing assertion is a lower bound
// (the idle timeout does not fire early).
#define BOOST_TEST_MODULE evasio_samples
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// ---- safety bounds (never measurements) ------------------------------------

constexpr auto kStartBound = seconds(30);     // until a sample is ready
constexpr auto kIoBound = seconds(30);        // one short exchange
constexpr auto kStallBound = seconds(30);     // a transfer without progress
constexpr auto kTransferBound = seconds(120); // a whole transfer
constexpr auto kExitBound = seconds(15);      // a signal until the exit
constexpr auto kSettleBound = seconds(15);    // fds to come back
constexpr int kStartAttempts = 5;             // fresh ports to try

// ---- the proxy's memory bounds --------------------------------------------

// proxy.c: MAX_INPUT (read high watermark) 256 KiB per side, and a side
// stops reading while the other side's output holds MAX_OUTPUT (512 KiB),
// so one connection pair holds at most about 2 * (256 KiB + 512 KiB + 256 KiB
// + one read) of data: under 2.5 MiB.
//  - Peak RSS (VmHWM) below 32 MiB: the process itself (libc, libstdc++,
//    Boost.Asio: 2-4 MiB) plus those buffers and the allocator's slack is far
//    below it; a proxy that buffers a 64 MiB stream is far above it.
//  - Growth of VmHWM during one transfer below 8 MiB: about three times the
//    buffers the watermarks allow. This is the check that bites on the
//    slow reader: a proxy without watermarks buffers most of the 16 MiB the
//    client does not read yet (12-26 MiB of growth, measured), which can
//    still stay under 32 MiB in total.
// Sanitizer runtimes take ~16 MiB more RSS before the first connection and
// add redzones to every buffer: such builds raise both bounds with
// rss-bound-mib=N and rss-growth-bound-mib=N after "--" (tests/samples/
// CMakeLists.txt). The proxy also runs with a small ASan quarantine (see
// kProxyAsanOptions) so that freed buffers are not all held back.
constexpr long kDefaultRssBoundKiB = 32 * 1024;
constexpr long kDefaultRssGrowthBoundKiB = 8 * 1024;

// Appended to ASAN_OPTIONS for the proxy only (ignored when it is not built
// with ASan): the default 256 MiB quarantine keeps every freed buffer
// resident, so VmHWM would measure the quarantine (300 MiB after 64 MiB
// through libevent, whose buffers are malloc'ed and freed per chunk), not
// the proxy. 4 MiB still catches use-after-free of recently freed memory.
const char *const kProxyAsanOptions = "quarantine_size_mb=4";

constexpr std::size_t kBigTransfer = 64u << 20;   // 64 MiB
constexpr std::size_t kSlowTransfer = 16u << 20;  // 16 MiB

// ---- command line: NAME=PATH after "--" -------------------------------------

const std::map<std::string, std::string> &options()
{
    static const std::map<std::string, std::string> opts = [] {
        std::map<std::string, std::string> m;
        auto &suite = boost::unit_test::framework::master_test_suite();
        for (int i = 1; i < suite.argc; ++i) {
            std::string a = suite.argv[i];
            auto eq = a.find('=');
            if (eq != std::string::npos && eq > 0)
                m[a.substr(0, eq)] = a.substr(eq + 1);
        }
        return m;
    }();
    return opts;
}

std::string option(const std::string &name)
{
    auto it = options().find(name);
    return it == options().end() ? std::string() : it->second;
}

long kib_option(const std::string &name, long fallback_kib)
{
    std::string v = option(name);
    if (!v.empty()) {
        long mib = std::strtol(v.c_str(), nullptr, 10);
        if (mib > 0)
            return mib * 1024;
    }
    return fallback_kib;
}

long rss_bound_kib() { return kib_option("rss-bound-mib", kDefaultRssBoundKiB); }
long rss_growth_bound_kib() { return kib_option("rss-growth-bound-mib", kDefaultRssGrowthBoundKiB); }

#define REQUIRE_EXE(var, name)                                                 \
    const std::string var = option(name);                                      \
    BOOST_REQUIRE_MESSAGE(!var.empty(), "no " name " executable given (pass " \
                                        name "=PATH after --)")

std::string errno_text(const std::string &what, int err)
{
    return what + ": " + std::strerror(err);
}

// ---- fds and sockets ---------------------------------------------------------

class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(Fd &&o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    Fd &operator=(Fd &&o) noexcept
    {
        if (this != &o) {
            reset();
            fd_ = o.fd_;
            o.fd_ = -1;
        }
        return *this;
    }
    Fd(const Fd &) = delete;
    Fd &operator=(const Fd &) = delete;

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    void reset()
    {
        if (fd_ >= 0) {
            int saved = errno;
            ::close(fd_);
            errno = saved;
        }
        fd_ = -1;
    }

private:
    int fd_ = -1;
};

// A port nobody uses right now (bound on the wildcard address, so that it is
// free for a server binding 0.0.0.0 too), 0 on failure. Another process may
// take it before the sample binds it: the sample then exits and the next
// attempt uses a new port.
int pick_free_port()
{
    Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s.valid())
        return 0;
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_ANY);
    socklen_t len = sizeof sin;
    if (::bind(s.get(), reinterpret_cast<sockaddr *>(&sin), sizeof sin) != 0 ||
        ::getsockname(s.get(), reinterpret_cast<sockaddr *>(&sin), &len) != 0)
        return 0;
    return ntohs(sin.sin_port);
}

// A connection to 127.0.0.1:port (blocking connect, then non-blocking
// unless told otherwise); invalid with errno set on failure. The socket is
// close-on-exec so that no sample started later inherits it.
Fd connect_loopback(int port, bool nonblocking = true, int rcvbuf = 0)
{
    Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s.valid())
        return s;
    if (rcvbuf > 0)
        ::setsockopt(s.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    int one = 1;
    ::setsockopt(s.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons(static_cast<std::uint16_t>(port));
    int r;
    do
        r = ::connect(s.get(), reinterpret_cast<sockaddr *>(&sin), sizeof sin);
    while (r != 0 && errno == EINTR);
    if (r != 0) {
        int e = errno;
        s.reset();
        errno = e;
        return s;
    }
    if (nonblocking) {
        int fl = ::fcntl(s.get(), F_GETFL, 0);
        ::fcntl(s.get(), F_SETFL, fl | O_NONBLOCK);
    }
    return s;
}

// Closes with an RST instead of a FIN.
void set_abortive_close(int fd)
{
    linger lg{};
    lg.l_onoff = 1;
    lg.l_linger = 0;
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

int ms_until(Clock::time_point deadline, int cap_ms = 1000)
{
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left < 0)
        return 0;
    return static_cast<int>(std::min<long long>(left, cap_ms));
}

// Waits until fd has events (bounded by deadline). True when it has.
bool wait_for(int fd, short events, Clock::time_point deadline)
{
    for (;;) {
        pollfd p{};
        p.fd = fd;
        p.events = events;
        int n = ::poll(&p, 1, ms_until(deadline));
        if (n > 0)
            return true;
        if (n < 0 && errno != EINTR)
            return false;
        if (Clock::now() >= deadline)
            return false;
    }
}

// Sends all of data on a non-blocking socket. Empty on success.
std::string send_all(int fd, const std::string &data, Clock::time_point deadline)
{
    std::size_t off = 0;
    while (off < data.size()) {
        ssize_t w = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (w > 0) {
            off += static_cast<std::size_t>(w);
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!wait_for(fd, POLLOUT, deadline))
                return "send: no room within the safety bound";
            continue;
        }
        return errno_text("send", errno);
    }
    return {};
}

// What a read up to a deadline saw.
struct Received {
    std::string data;
    bool eof = false;      // orderly close seen
    bool timeout = false;  // the deadline passed first
    std::string error;     // a socket error
};

// Reads until `want` bytes have come (want > 0), or until EOF (want == 0),
// or until the deadline.
Received receive(int fd, std::size_t want, Clock::time_point deadline)
{
    Received r;
    char buf[4096];
    for (;;) {
        if (want > 0 && r.data.size() >= want)
            return r;
        std::size_t room = sizeof buf;
        if (want > 0)
            room = std::min(room, want - r.data.size());
        ssize_t n = ::recv(fd, buf, room, 0);
        if (n > 0) {
            r.data.append(buf, static_cast<std::size_t>(n));
            continue;
        }
        if (n == 0) {
            r.eof = true;
            return r;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (!wait_for(fd, POLLIN, deadline)) {
                r.timeout = true;
                return r;
            }
            continue;
        }
        r.error = errno_text("recv", errno);
        return r;
    }
}

// Nothing readable on fd during `quiet` (no data, no EOF).
bool stays_quiet(int fd, milliseconds quiet)
{
    pollfd p{};
    p.fd = fd;
    p.events = POLLIN;
    int n;
    do
        n = ::poll(&p, 1, static_cast<int>(quiet.count()));
    while (n < 0 && errno == EINTR);
    return n == 0;
}

std::string printable(const std::string &s)
{
    std::string out;
    for (unsigned char c : s) {
        if (c == '\r')
            out += "\\r";
        else if (c == '\n')
            out += "\\n";
        else if (c < 0x20 || c >= 0x7f) {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02x", c);
            out += b;
        } else
            out += static_cast<char>(c);
    }
    return "\"" + out + "\"";
}

// ---- /proc --------------------------------------------------------------------

// A "Name:   123 kB" field of /proc/PID/status, in KiB; -1 if absent.
long proc_status_kib(pid_t pid, const std::string &field)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.compare(0, field.size() + 1, field + ":") == 0)
            return std::strtol(line.c_str() + field.size() + 1, nullptr, 10);
    }
    return -1;
}

// The number of open fds of a process (entries of /proc/PID/fd), -1 if
// unreadable.
int proc_fd_count(pid_t pid)
{
    std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR *d = ::opendir(dir.c_str());
    if (!d)
        return -1;
    int n = 0;
    while (const dirent *e = ::readdir(d))
        if (e->d_name[0] != '.')
            ++n;
    ::closedir(d);
    return n;
}

std::string mib(long kib)
{
    std::ostringstream os;
    os.setf(std::ios::fixed);
    os.precision(1);
    os << kib / 1024.0 << " MiB";
    return os.str();
}

// ---- child processes -------------------------------------------------------------

std::string describe_status(int status)
{
    std::ostringstream os;
    if (WIFEXITED(status))
        os << "exited with status " << WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        os << "killed by signal " << WTERMSIG(status) << " (" << ::strsignal(WTERMSIG(status)) << ")";
    else
        os << "status " << status;
    return os.str();
}

// A sample running as a child process, its stdout captured through a pipe
// (stderr is inherited: the samples' complaints go to the test log). The
// child gets SIGKILL if this process dies (PR_SET_PDEATHSIG), so no sample
// outlives a test that crashed or was killed by ctest's timeout.
class Child {
public:
    Child() = default;
    ~Child() { kill_now(); }
    Child(const Child &) = delete;
    Child &operator=(const Child &) = delete;

    // How a child starts, besides its arguments.
    struct Options {
        std::string asan_extra;       // appended to its ASAN_OPTIONS
        bool ignore_sigpipe = false;  // SIGPIPE ignored (else default)
    };

    // Empty on success.
    std::string spawn(const std::vector<std::string> &argv, const Options &opts)
    {
        const std::string &asan_extra = opts.asan_extra;
        kill_now();
        output_.clear();
        exit_text_ = "running";
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0)
            return errno_text("pipe2", errno);
        std::vector<char *> args;
        for (const auto &a : argv)
            args.push_back(const_cast<char *>(a.c_str()));
        args.push_back(nullptr);
        // The environment, prepared before fork (the child may only make
        // async-signal-safe calls until exec).
        std::vector<std::string> env_text;
        std::string asan = "ASAN_OPTIONS=";
        for (char **e = environ; *e; ++e) {
            if (std::strncmp(*e, "ASAN_OPTIONS=", 13) == 0)
                asan = *e;
            else
                env_text.push_back(*e);
        }
        if (!asan_extra.empty()) {
            if (asan.size() > 13)
                asan += ":";
            asan += asan_extra;
        }
        if (asan.size() > 13)
            env_text.push_back(asan);
        std::vector<char *> env;
        for (auto &e : env_text)
            env.push_back(const_cast<char *>(e.c_str()));
        env.push_back(nullptr);
        const pid_t parent = ::getpid();
        pid_t pid = ::fork();
        if (pid < 0) {
            int e = errno;
            ::close(p[0]);
            ::close(p[1]);
            return errno_text("fork", e);
        }
        if (pid == 0) {
            // Async-signal-safe calls only until exec.
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent)
                ::_exit(126);
            if (::dup2(p[1], STDOUT_FILENO) < 0)
                ::_exit(126);
            sigset_t none;
            ::sigemptyset(&none);
            ::sigprocmask(SIG_SETMASK, &none, nullptr);
            struct sigaction dfl {};
            dfl.sa_handler = SIG_DFL;
            ::sigemptyset(&dfl.sa_mask);
            for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGCHLD})
                ::sigaction(sig, &dfl, nullptr);
            if (opts.ignore_sigpipe) {
                struct sigaction ign {};
                ign.sa_handler = SIG_IGN;
                ::sigemptyset(&ign.sa_mask);
                ::sigaction(SIGPIPE, &ign, nullptr);
            }
            ::execve(args[0], args.data(), env.data());
            ::_exit(127);
        }
        ::close(p[1]);
        out_.reset();
        out_ = Fd(p[0]);
        ::fcntl(out_.get(), F_SETFL, ::fcntl(out_.get(), F_GETFL, 0) | O_NONBLOCK);
        pid_ = pid;
        return {};
    }

    pid_t pid() const { return pid_; }

    // Everything the child printed so far.
    const std::string &output()
    {
        pump();
        return output_;
    }

    // Waits (bounded) until the output contains `needle` or the child exits.
    bool wait_output(const std::string &needle, Clock::time_point deadline)
    {
        for (;;) {
            pump();
            if (output_.find(needle) != std::string::npos)
                return true;
            if (!running() || Clock::now() >= deadline)
                return false;
            if (out_.valid()) {
                pollfd p{};
                p.fd = out_.get();
                p.events = POLLIN;
                ::poll(&p, 1, std::min(50, ms_until(deadline)));
            } else {
                std::this_thread::sleep_for(milliseconds(20));
            }
        }
    }

    // Still running? If not, *how says how it ended.
    bool running(std::string *how = nullptr)
    {
        if (pid_ > 0) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_)
                reaped(status);
        }
        if (pid_ > 0)
            return true;
        if (how)
            *how = exit_text_;
        return false;
    }

    // Waits (bounded) for the child to exit: its wait status, or -1 if it
    // did not exit in time (it is then still running) or was not running.
    int wait_exit(Clock::duration bound)
    {
        if (pid_ <= 0)
            return -1;
        const auto deadline = Clock::now() + bound;
        for (;;) {
            int status = 0;
            pid_t r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_) {
                reaped(status);
                return status;
            }
            if (r < 0 && errno != EINTR)
                return -1;
            if (Clock::now() >= deadline)
                return -1;
            pump();
            std::this_thread::sleep_for(milliseconds(10));
        }
    }

    int signal(int sig) { return pid_ > 0 ? ::kill(pid_, sig) : -1; }

    // SIGTERM, a bounded wait, then SIGKILL.
    void stop()
    {
        if (pid_ <= 0)
            return;
        signal(SIGTERM);
        if (wait_exit(kExitBound) == -1)
            kill_now();
    }

private:
    void pump()
    {
        if (!out_.valid())
            return;
        char buf[4096];
        for (;;) {
            ssize_t n = ::read(out_.get(), buf, sizeof buf);
            if (n > 0) {
                output_.append(buf, static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n == 0)
                out_.reset();  // every writer is gone
            return;
        }
    }

    void reaped(int status)
    {
        exit_text_ = describe_status(status);
        pid_ = -1;
        pump();
    }

    void kill_now()
    {
        if (pid_ <= 0)
            return;
        ::kill(pid_, SIGKILL);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        exit_text_ = "killed by the test";
        pid_ = -1;
    }

    pid_t pid_ = -1;
    Fd out_;
    std::string output_;
    std::string exit_text_ = "never started";
};

// A sample server on a free port: started, and ready once its stdout shows
// `ready_marker` (hello, lines, proxy print a line after they listen) or,
// with an empty marker, once it accepts a connection (the echo sample
// prints nothing).
class Server {
public:
    using ArgsFor = std::vector<std::string> (*)(const std::string &exe, int port,
                                                  const std::string &extra);

    Server(std::string name, std::string exe, std::string ready_marker, ArgsFor args,
           std::string extra = {}, Child::Options opts = {})
        : name_(std::move(name)), exe_(std::move(exe)), marker_(std::move(ready_marker)),
          args_(args), extra_(std::move(extra)), opts_(std::move(opts))
    {
    }

    // Empty on success.
    std::string start()
    {
        std::string last;
        for (int attempt = 1; attempt <= kStartAttempts; ++attempt) {
            port_ = pick_free_port();
            if (port_ == 0)
                return errno_text("no free port", errno);
            std::string err = child_.spawn(args_(exe_, port_, extra_), opts_);
            if (!err.empty())
                return err;
            BOOST_TEST_MESSAGE("started " << name_ << " (" << exe_ << ") on port " << port_
                                          << ", pid " << child_.pid() << ", attempt " << attempt);
            const auto deadline = Clock::now() + kStartBound;
            if (!marker_.empty()) {
                if (child_.wait_output(marker_, deadline))
                    return {};
            } else {
                for (;;) {
                    Fd probe = connect_loopback(port_, false);
                    // (Still running: the connection reached this child, not
                    // some other process that took the port.)
                    if (probe.valid() && child_.running())
                        return {};
                    if (errno != ECONNREFUSED || !child_.running() || Clock::now() >= deadline)
                        break;
                    std::this_thread::sleep_for(milliseconds(20));
                }
            }
            std::string how;
            if (child_.running(&how)) {
                child_.stop();
                return name_ + " not ready within the safety bound; it printed " +
                       printable(child_.output());
            }
            last = name_ + " " + how + " on port " + std::to_string(port_) + ", printing " +
                   printable(child_.output());
            BOOST_TEST_MESSAGE(last << "; trying another port");
        }
        return name_ + " could not start (" + last + ")";
    }

    int port() const { return port_; }
    pid_t pid() const { return child_.pid(); }
    Child &child() { return child_; }

private:
    std::string name_, exe_, marker_;
    ArgsFor args_;
    std::string extra_;
    Child::Options opts_;
    int port_ = 0;
    Child child_;
};

std::vector<std::string> args_port(const std::string &exe, int port, const std::string &)
{
    return {exe, std::to_string(port)};
}

std::vector<std::string> args_port_extra(const std::string &exe, int port, const std::string &extra)
{
    return {exe, std::to_string(port), extra};
}

#define REQUIRE_STARTED(server)                                                \
    do {                                                                       \
        std::string start_error_ = (server).start();                           \
        BOOST_REQUIRE_MESSAGE(start_error_.empty(), start_error_);             \
    } while (0)

#define CHECK_STILL_RUNNING(server)                                            \
    do {                                                                       \
        std::string how_;                                                      \
        BOOST_CHECK_MESSAGE((server).child().running(&how_),                   \
                            "the sample stopped: " << how_);                   \
    } while (0)

// ---- hello -----------------------------------------------------------------------

const std::string kGreeting = "Hello, World!\n";

// Connects, expects exactly the greeting and then EOF. Empty on success.
std::string expect_greeting(int port)
{
    Fd s = connect_loopback(port);
    if (!s.valid())
        return errno_text("connect", errno);
    Received r = receive(s.get(), 0, Clock::now() + kIoBound);
    if (!r.error.empty())
        return r.error + " after " + printable(r.data);
    if (r.timeout)
        return "no EOF within the safety bound, got " + printable(r.data);
    if (r.data != kGreeting)
        return "got " + printable(r.data) + " before EOF, expected " + printable(kGreeting);
    return {};
}

// ---- lines -----------------------------------------------------------------------

// Sends `text`, expects exactly `reply` back, without EOF. Empty on success.
std::string exchange(int fd, const std::string &text, const std::string &reply)
{
    std::string err = send_all(fd, text, Clock::now() + kIoBound);
    if (!err.empty())
        return err;
    Received r = receive(fd, reply.size(), Clock::now() + kIoBound);
    if (!r.error.empty())
        return "sent " + printable(text) + ": " + r.error;
    if (r.eof)
        return "sent " + printable(text) + ", got " + printable(r.data) + " then EOF";
    if (r.timeout)
        return "sent " + printable(text) + ", got only " + printable(r.data) +
               " within the safety bound";
    if (r.data != reply)
        return "sent " + printable(text) + ", got " + printable(r.data) + ", expected " +
               printable(reply);
    return {};
}

// ---- proxy -----------------------------------------------------------------------

// splitmix64 as a byte stream: the sender and the checker each hold one with
// the same seed, so nothing of the 64 MiB is stored.
class ByteStream {
public:
    explicit ByteStream(std::uint64_t seed) : state_(seed) {}
    void fill(unsigned char *p, std::size_t n)
    {
        while (n > 0) {
            if (left_ == 0) {
                std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
                word_ = z ^ (z >> 31);
                left_ = 8;
            }
            *p++ = static_cast<unsigned char>(word_);
            word_ >>= 8;
            --left_;
            --n;
        }
    }

private:
    std::uint64_t state_;
    std::uint64_t word_ = 0;
    int left_ = 0;
};

struct TransferReport {
    bool ok = false;
    std::size_t sent = 0;
    std::size_t received = 0;
    double seconds = 0;
    std::string error;
};

// How the client reads.
struct ReadPace {
    std::size_t chunk;    // bytes per recv at most
    milliseconds pause;   // between two reads (0: read as fast as it comes)
    int rcvbuf;           // SO_RCVBUF of the client, 0 for the default
};

// Sends `total` pseudo-random bytes through the proxy while reading what
// comes back, checking each byte as it arrives; once everything is back,
// half-closes and expects EOF (the proxy passes the close on). Samples the
// proxy's VmRSS on the way (reported by *peak_rss_kib, for the log).
TransferReport transfer(int port, std::size_t total, std::uint64_t seed, ReadPace pace,
                        pid_t proxy_pid, long *peak_rss_kib)
{
    TransferReport rep;
    Fd s = connect_loopback(port, true, pace.rcvbuf);
    if (!s.valid()) {
        rep.error = errno_text("connect", errno);
        return rep;
    }
    ByteStream tx(seed), rx(seed);
    std::vector<unsigned char> out(256 * 1024);
    std::size_t out_len = 0, out_off = 0, generated = 0;
    std::vector<unsigned char> in(pace.chunk), expect(pace.chunk);
    const auto start = Clock::now();
    const auto give_up = start + kTransferBound;
    auto stall_deadline = start + kStallBound;
    auto next_read = start;
    auto next_sample = start;
    bool half_closed = false;

    for (;;) {
        auto now = Clock::now();
        if (proxy_pid > 0 && peak_rss_kib && now >= next_sample) {
            *peak_rss_kib = std::max(*peak_rss_kib, proc_status_kib(proxy_pid, "VmRSS"));
            next_sample = now + milliseconds(100);
        }
        if (rep.received == total && !half_closed) {
            if (::shutdown(s.get(), SHUT_WR) != 0) {
                rep.error = errno_text("shutdown", errno);
                return rep;
            }
            half_closed = true;
            stall_deadline = now + kStallBound;
        }
        if (now > stall_deadline || now > give_up) {
            std::ostringstream os;
            os << (half_closed ? "no EOF after the client's EOF" : "no progress")
               << " within the safety bound (sent " << rep.sent << ", received " << rep.received
               << " of " << total << ")";
            rep.error = os.str();
            return rep;
        }
        pollfd p{};
        p.fd = s.get();
        if (rep.sent < total)
            p.events |= POLLOUT;
        int timeout = 100;
        if (now >= next_read)
            p.events |= POLLIN;
        else
            timeout = std::max(1, ms_until(next_read, 100));
        int n = ::poll(&p, 1, timeout);
        if (n < 0 && errno != EINTR) {
            rep.error = errno_text("poll", errno);
            return rep;
        }
        if (n <= 0)
            continue;
        if ((p.revents & (POLLOUT | POLLERR | POLLHUP)) && rep.sent < total) {
            if (out_off == out_len) {
                out_len = std::min(out.size(), total - generated);
                tx.fill(out.data(), out_len);
                generated += out_len;
                out_off = 0;
            }
            ssize_t w = ::send(s.get(), out.data() + out_off, out_len - out_off, MSG_NOSIGNAL);
            if (w > 0) {
                out_off += static_cast<std::size_t>(w);
                rep.sent += static_cast<std::size_t>(w);
                stall_deadline = Clock::now() + kStallBound;
            } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                rep.error = errno_text("send", errno) + " after " + std::to_string(rep.sent) +
                            " bytes";
                return rep;
            }
        }
        if ((p.events & POLLIN) && (p.revents & (POLLIN | POLLERR | POLLHUP))) {
            ssize_t r = ::recv(s.get(), in.data(), in.size(), 0);
            if (r == 0) {
                if (half_closed && rep.received == total) {
                    rep.ok = true;
                    rep.seconds = std::chrono::duration<double>(Clock::now() - start).count();
                    return rep;
                }
                rep.error = "EOF after " + std::to_string(rep.received) + " of " +
                            std::to_string(total) + " bytes";
                return rep;
            }
            if (r < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                    continue;
                rep.error = errno_text("recv", errno) + " after " + std::to_string(rep.received) +
                            " bytes";
                return rep;
            }
            const std::size_t got = static_cast<std::size_t>(r);
            if (rep.received + got > rep.sent) {
                rep.error = "more bytes came back than were sent";
                return rep;
            }
            rx.fill(expect.data(), got);
            auto mm = std::mismatch(in.begin(), in.begin() + r, expect.begin());
            if (mm.first != in.begin() + r) {
                std::ostringstream os;
                os << "byte " << rep.received + static_cast<std::size_t>(mm.first - in.begin())
                   << " came back as " << int(*mm.first) << ", sent " << int(*mm.second);
                rep.error = os.str();
                return rep;
            }
            rep.received += got;
            stall_deadline = Clock::now() + kStallBound;
            if (pace.pause.count() > 0)
                next_read = Clock::now() + pace.pause;
        }
    }
}

// An echo server and the proxy in front of it, both of one flavour. The
// proxy is made once the echo server's port is known.
struct Upstreamed {
    Server echo;
    std::unique_ptr<Server> proxy;
};

// The upstream echo server runs with SIGPIPE ignored, as a server behind a
// proxy would be set up: the echo sample does not ignore it, and with real
// libevent (libevent-echo) a write to a connection the proxy has reset
// raises SIGPIPE and kills it (evasio sends with MSG_NOSIGNAL: README,
// "Intended differences"). The proxy is what is tested here; it ignores
// SIGPIPE itself, and runs with the default disposition.
Server upstream_echo(const std::string &echo_exe)
{
    Child::Options opts;
    opts.ignore_sigpipe = true;
    return Server("echo", echo_exe, "", &args_port, {}, opts);
}

std::string start_pair(Upstreamed &u, const std::string &proxy_exe)
{
    std::string err = u.echo.start();
    if (!err.empty())
        return err;
    u.proxy = std::make_unique<Server>("proxy", proxy_exe, "proxy:", &args_port_extra,
                                       "127.0.0.1:" + std::to_string(u.echo.port()),
                                       Child::Options{kProxyAsanOptions, false});
    return u.proxy->start();
}

// Waits (bounded) until pid's fd count is at most `target`; the last count.
int wait_fds_at_most(pid_t pid, int target, Clock::duration bound)
{
    const auto deadline = Clock::now() + bound;
    int n = proc_fd_count(pid);
    while (n > target && Clock::now() < deadline) {
        std::this_thread::sleep_for(milliseconds(20));
        n = proc_fd_count(pid);
    }
    return n;
}

// The proxy's peak RSS after a transfer: logged, and checked against the
// bound.
void check_proxy_rss(pid_t pid, long before_kib, long sampled_kib, const std::string &what)
{
    const long hwm = proc_status_kib(pid, "VmHWM");
    const long bound = rss_bound_kib();
    const long growth_bound = rss_growth_bound_kib();
    BOOST_TEST_MESSAGE("proxy " << what << ": VmHWM " << mib(hwm) << " (" << hwm
                                << " kB; " << mib(before_kib) << " before the transfer, growth "
                                << mib(hwm - before_kib) << "; highest VmRSS sampled "
                                << mib(sampled_kib) << "); bounds " << mib(bound) << ", growth "
                                << mib(growth_bound));
    BOOST_REQUIRE_MESSAGE(hwm > 0 && before_kib > 0, "cannot read VmHWM of the proxy");
    BOOST_CHECK_MESSAGE(hwm < bound, "proxy " << what << ": peak RSS (VmHWM) " << mib(hwm)
                                              << " is not below " << mib(bound));
    BOOST_CHECK_MESSAGE(hwm - before_kib < growth_bound,
                        "proxy " << what << ": peak RSS grew by " << mib(hwm - before_kib)
                                 << " during the transfer, not less than " << mib(growth_bound)
                                 << ": more than the watermarks allow");
}

} // namespace

// ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(hello)

BOOST_AUTO_TEST_CASE(greets_then_closes)
{
    REQUIRE_EXE(exe, "hello");
    Server server("hello", exe, "listening", &args_port);
    REQUIRE_STARTED(server);
    std::string err = expect_greeting(server.port());
    BOOST_CHECK_MESSAGE(err.empty(), err);
    CHECK_STILL_RUNNING(server);
}

BOOST_AUTO_TEST_CASE(clients_in_a_row_and_at_once)
{
    REQUIRE_EXE(exe, "hello");
    Server server("hello", exe, "listening", &args_port);
    REQUIRE_STARTED(server);
    for (int i = 0; i < 20; ++i) {
        std::string err = expect_greeting(server.port());
        BOOST_REQUIRE_MESSAGE(err.empty(), "client " << i << " in a row: " << err);
    }
    // Several connected before any reads.
    std::vector<Fd> clients;
    for (int i = 0; i < 8; ++i) {
        clients.push_back(connect_loopback(server.port()));
        BOOST_REQUIRE_MESSAGE(clients.back().valid(), errno_text("connect", errno));
    }
    const auto deadline = Clock::now() + kIoBound;  // for all of them
    for (std::size_t i = 0; i < clients.size(); ++i) {
        Received r = receive(clients[i].get(), 0, deadline);
        BOOST_CHECK_MESSAGE(r.error.empty() && !r.timeout && r.data == kGreeting,
                            "concurrent client " << i << ": got " << printable(r.data)
                                                 << (r.timeout ? ", no EOF" : "") << " "
                                                 << r.error);
    }
    std::string err = expect_greeting(server.port());
    BOOST_CHECK_MESSAGE(err.empty(), "client after them: " << err);
    CHECK_STILL_RUNNING(server);
}

BOOST_AUTO_TEST_CASE(sigint_stops_it_cleanly)
{
    REQUIRE_EXE(exe, "hello");
    Server server("hello", exe, "listening", &args_port);
    REQUIRE_STARTED(server);
    std::string err = expect_greeting(server.port());
    BOOST_CHECK_MESSAGE(err.empty(), err);
    std::string how;
    BOOST_REQUIRE_MESSAGE(server.child().running(&how), "stopped before SIGINT: " << how);

    BOOST_REQUIRE_EQUAL(server.child().signal(SIGINT), 0);
    const int status = server.child().wait_exit(kExitBound);
    BOOST_REQUIRE_MESSAGE(status != -1, "no exit within the safety bound after SIGINT; printed "
                                            << printable(server.child().output()));
    BOOST_CHECK_MESSAGE(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                        "after SIGINT the sample " << describe_status(status));
    const std::string out = server.child().output();
    BOOST_TEST_MESSAGE("hello printed " << printable(out));
    BOOST_CHECK_MESSAGE(out.find("hello: interrupted") != std::string::npos,
                        "no interrupted line in " << printable(out));
    BOOST_CHECK_MESSAGE(out.find("hello: done") != std::string::npos,
                        "no done line in " << printable(out));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(lines)

// Long enough not to interfere with the functional cases.
const std::string kLongIdle = "120";

BOOST_AUTO_TEST_CASE(lf_and_crlf_lines_upper_cased)
{
    REQUIRE_EXE(exe, "lines");
    Server server("lines", exe, "listening", &args_port_extra, kLongIdle);
    REQUIRE_STARTED(server);
    Fd s = connect_loopback(server.port());
    BOOST_REQUIRE_MESSAGE(s.valid(), errno_text("connect", errno));
    std::string err;
    err = exchange(s.get(), "hello\n", "HELLO\r\n");
    BOOST_REQUIRE_MESSAGE(err.empty(), "LF: " << err);
    err = exchange(s.get(), "Mixed Case 42!\r\n", "MIXED CASE 42!\r\n");
    BOOST_REQUIRE_MESSAGE(err.empty(), "CRLF: " << err);
    err = exchange(s.get(), "\n", "\r\n");
    BOOST_REQUIRE_MESSAGE(err.empty(), "empty line: " << err);
    err = exchange(s.get(), "one\ntwo\r\nthree\n", "ONE\r\nTWO\r\nTHREE\r\n");
    BOOST_REQUIRE_MESSAGE(err.empty(), "three lines in one send: " << err);
    CHECK_STILL_RUNNING(server);
}

BOOST_AUTO_TEST_CASE(line_split_across_sends)
{
    REQUIRE_EXE(exe, "lines");
    Server server("lines", exe, "listening", &args_port_extra, kLongIdle);
    REQUIRE_STARTED(server);
    Fd s = connect_loopback(server.port());
    BOOST_REQUIRE_MESSAGE(s.valid(), errno_text("connect", errno));
    const auto pause = milliseconds(150);

    // Split in the middle of the text.
    BOOST_REQUIRE(send_all(s.get(), "spl", Clock::now() + kIoBound).empty());
    BOOST_CHECK_MESSAGE(stays_quiet(s.get(), pause), "a reply before the line was complete");
    std::string err = exchange(s.get(), "it line\n", "SPLIT LINE\r\n");
    BOOST_REQUIRE_MESSAGE(err.empty(), "split text: " << err);

    // Split between CR and LF: one line, no stray CR in it.
    BOOST_REQUIRE(send_all(s.get(), "cr then lf\r", Clock::now() + kIoBound).empty());
    BOOST_CHECK_MESSAGE(stays_quiet(s.get(), pause), "a reply before the LF came");
    err = exchange(s.get(), "\n", "CR THEN LF\r\n");
    BOOST_REQUIRE_MESSAGE(err.empty(), "CR | LF: " << err);

    // CR | LF, with the next line coming along with the LF.
    BOOST_REQUIRE(send_all(s.get(), "first\r", Clock::now() + kIoBound).empty());
    BOOST_CHECK_MESSAGE(stays_quiet(s.get(), pause), "a reply before the LF came");
    err = exchange(s.get(), "\nsecond\r\n", "FIRST\r\nSECOND\r\n");
    BOOST_REQUIRE_MESSAGE(err.empty(), "CR | LF + next line: " << err);

    // A line spread over many one-byte sends.
    const std::string slow = "byte by byte\r\n";
    for (std::size_t i = 0; i + 1 < slow.size(); ++i) {
        BOOST_REQUIRE(send_all(s.get(), slow.substr(i, 1), Clock::now() + kIoBound).empty());
        std::this_thread::sleep_for(milliseconds(5));
    }
    err = exchange(s.get(), slow.substr(slow.size() - 1), "BYTE BY BYTE\r\n");
    BOOST_REQUIRE_MESSAGE(err.empty(), "one byte per send: " << err);
    CHECK_STILL_RUNNING(server);
}

BOOST_AUTO_TEST_CASE(quit_says_bye_and_closes)
{
    REQUIRE_EXE(exe, "lines");
    Server server("lines", exe, "listening", &args_port_extra, kLongIdle);
    REQUIRE_STARTED(server);
    for (const std::string quit : {"quit\n", "quit\r\n"}) {
        Fd s = connect_loopback(server.port());
        BOOST_REQUIRE_MESSAGE(s.valid(), errno_text("connect", errno));
        std::string err = exchange(s.get(), "before\n", "BEFORE\r\n");
        BOOST_REQUIRE_MESSAGE(err.empty(), err);
        BOOST_REQUIRE(send_all(s.get(), quit, Clock::now() + kIoBound).empty());
        Received r = receive(s.get(), 0, Clock::now() + kIoBound);
        BOOST_CHECK_MESSAGE(r.error.empty() && !r.timeout && r.eof,
                            "after " << printable(quit) << ": got " << printable(r.data)
                                     << (r.timeout ? " and no EOF" : "") << " " << r.error);
        BOOST_CHECK_MESSAGE(r.data == "bye\r\n", "after " << printable(quit) << ": got "
                                                          << printable(r.data)
                                                          << ", expected \"bye\\r\\n\" then EOF");
    }
    // Other connections are not affected.
    Fd s = connect_loopback(server.port());
    BOOST_REQUIRE_MESSAGE(s.valid(), errno_text("connect", errno));
    std::string err = exchange(s.get(), "still here\n", "STILL HERE\r\n");
    BOOST_REQUIRE_MESSAGE(err.empty(), err);
    CHECK_STILL_RUNNING(server);
}

// Waits for the idle goodbye; the seconds from `since` until it came, or a
// negative value (with *err) if it did not come as expected.
double idle_goodbye_after(int fd, Clock::time_point since, std::string *err)
{
    Received r = receive(fd, 0, Clock::now() + kIoBound);
    const double elapsed = std::chrono::duration<double>(Clock::now() - since).count();
    if (!r.error.empty() || r.timeout || r.data != "idle too long, bye\r\n") {
        *err = "got " + printable(r.data) + (r.timeout ? " and no EOF within the safety bound" : "") +
               " " + r.error + ", expected \"idle too long, bye\\r\\n\" then EOF";
        return -1;
    }
    return elapsed;
}

BOOST_AUTO_TEST_CASE(idle_connection_is_told_and_closed)
{
    REQUIRE_EXE(exe, "lines");
    Server server("lines", exe, "listening", &args_port_extra, "1");
    REQUIRE_STARTED(server);

    // Idle from the start: the timer starts when the server accepts, which
    // is after connect() returns here, so "elapsed" can only be longer.
    {
        Fd s = connect_loopback(server.port());
        BOOST_REQUIRE_MESSAGE(s.valid(), errno_text("connect", errno));
        const auto t0 = Clock::now();
        std::string err;
        double e = idle_goodbye_after(s.get(), t0, &err);
        BOOST_REQUIRE_MESSAGE(e >= 0, "idle connection: " << err);
        BOOST_TEST_MESSAGE("idle goodbye after " << e << " s");
        BOOST_CHECK_MESSAGE(e >= 0.9, "the idle goodbye came after " << e << " s, before 1 s");
    }

    // Each line restarts the timer: lines every 0.5 s for 1.5 s keep it alive,
    // then the goodbye comes at least about 1 s after the last one.
    {
        Fd s = connect_loopback(server.port());
        BOOST_REQUIRE_MESSAGE(s.valid(), errno_text("connect", errno));
        Clock::time_point last_sent = Clock::now();
        for (int i = 0; i < 3; ++i) {
            std::this_thread::sleep_for(milliseconds(500));
            last_sent = Clock::now();
            std::string err = exchange(s.get(), "ping\n", "PING\r\n");
            BOOST_REQUIRE_MESSAGE(err.empty(), "line " << i << " while not idle: " << err);
        }
        std::string err;
        double e = idle_goodbye_after(s.get(), last_sent, &err);
        BOOST_REQUIRE_MESSAGE(e >= 0, "after activity: " << err);
        BOOST_TEST_MESSAGE("idle goodbye " << e << " s after the last line");
        BOOST_CHECK_MESSAGE(e >= 0.9, "the idle goodbye came " << e
                                                               << " s after the last line, before 1 s");
    }
    CHECK_STILL_RUNNING(server);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(proxy)

BOOST_AUTO_TEST_CASE(carries_64MiB_intact_with_bounded_memory)
{
    REQUIRE_EXE(proxy_exe, "proxy");
    REQUIRE_EXE(echo_exe, "echo");
    Upstreamed u{upstream_echo(echo_exe), nullptr};
    std::string err = start_pair(u, proxy_exe);
    BOOST_REQUIRE_MESSAGE(err.empty(), err);
    const pid_t pid = u.proxy->pid();
    const long before = proc_status_kib(pid, "VmHWM");
    long sampled = 0;

    TransferReport rep = transfer(u.proxy->port(), kBigTransfer, 0x5A3C0FFEEull,
                                  ReadPace{256 * 1024, milliseconds(0), 0}, pid, &sampled);
    BOOST_CHECK_MESSAGE(rep.ok, rep.error);
    BOOST_CHECK_EQUAL(rep.sent, kBigTransfer);
    BOOST_CHECK_EQUAL(rep.received, kBigTransfer);
    if (rep.ok)
        BOOST_TEST_MESSAGE("64 MiB through the proxy and back in " << rep.seconds << " s");
    CHECK_STILL_RUNNING(*u.proxy);
    check_proxy_rss(pid, before, sampled, "after 64 MiB");
    CHECK_STILL_RUNNING(u.echo);
}

BOOST_AUTO_TEST_CASE(slow_reader_keeps_memory_bounded)
{
    REQUIRE_EXE(proxy_exe, "proxy");
    REQUIRE_EXE(echo_exe, "echo");
    Upstreamed u{upstream_echo(echo_exe), nullptr};
    std::string err = start_pair(u, proxy_exe);
    BOOST_REQUIRE_MESSAGE(err.empty(), err);
    const pid_t pid = u.proxy->pid();
    const long before = proc_status_kib(pid, "VmHWM");
    long sampled = 0;

    // The client sends as fast as it can but reads 16 KiB at a time with a
    // pause before each read (about 4 MiB/s at most) and a small receive
    // buffer, so the echoed stream piles up in front of it: the proxy must
    // stop reading from the upstream instead of buffering it.
    TransferReport rep = transfer(u.proxy->port(), kSlowTransfer, 0x51077EADull,
                                  ReadPace{16 * 1024, milliseconds(4), 64 * 1024}, pid, &sampled);
    BOOST_CHECK_MESSAGE(rep.ok, rep.error);
    BOOST_CHECK_EQUAL(rep.sent, kSlowTransfer);
    BOOST_CHECK_EQUAL(rep.received, kSlowTransfer);
    if (rep.ok)
        BOOST_TEST_MESSAGE("16 MiB to a slow reader in " << rep.seconds << " s");
    CHECK_STILL_RUNNING(*u.proxy);
    check_proxy_rss(pid, before, sampled, "after 16 MiB to a slow reader");
    CHECK_STILL_RUNNING(u.echo);
}

BOOST_AUTO_TEST_CASE(early_close_closes_upstream)
{
    REQUIRE_EXE(proxy_exe, "proxy");
    REQUIRE_EXE(echo_exe, "echo");
    Upstreamed u{upstream_echo(echo_exe), nullptr};
    std::string err = start_pair(u, proxy_exe);
    BOOST_REQUIRE_MESSAGE(err.empty(), err);
    const pid_t proxy_pid = u.proxy->pid();
    const pid_t echo_pid = u.echo.pid();
    const int proxy_port = u.proxy->port();

    // Warm up with one full exchange (a first connection may make either
    // process open something it keeps), then take the baselines once the
    // connection is gone on both sides.
    const int proxy_start = proc_fd_count(proxy_pid);
    const int echo_start = proc_fd_count(echo_pid);
    BOOST_REQUIRE(proxy_start > 0 && echo_start > 0);
    {
        Fd s = connect_loopback(proxy_port);
        BOOST_REQUIRE_MESSAGE(s.valid(), errno_text("connect", errno));
        err = exchange(s.get(), "warm up\n", "warm up\n");
        BOOST_REQUIRE_MESSAGE(err.empty(), "warm-up through the proxy: " << err);
    }
    const int proxy_base = wait_fds_at_most(proxy_pid, proxy_start, kSettleBound / 3);
    const int echo_base = wait_fds_at_most(echo_pid, echo_start, kSettleBound / 3);
    BOOST_REQUIRE(proxy_base > 0 && echo_base > 0);
    BOOST_TEST_MESSAGE("open fds: proxy " << proxy_start << " at start, " << proxy_base
                                          << " after a warm-up client; echo " << echo_start
                                          << ", " << echo_base);

    // Clients that leave early, each a different way, three rounds.
    std::vector<unsigned char> big(2u << 20);
    ByteStream(0xB16ull).fill(big.data(), big.size());
    const std::string big_text(big.begin(), big.end());
    int clients = 0;
    for (int round = 0; round < 3; ++round) {
        {  // connect and close at once (FIN), maybe before the upstream connects
            Fd s = connect_loopback(proxy_port);
            BOOST_REQUIRE_MESSAGE(s.valid(), errno_text("connect", errno));
            ++clients;
        }
        {  // connect and reset at once
            Fd s = connect_loopback(proxy_port);
            BOOST_REQUIRE_MESSAGE(s.valid(), errno_text("connect", errno));
            set_abortive_close(s.get());
            ++clients;
        }
        {  // send a line, close without reading its echo
            Fd s = connect_loopback(proxy_port);
            BOOST_REQUIRE_MESSAGE(s.valid(), errno_text("connect", errno));
            BOOST_REQUIRE(send_all(s.get(), "going away\n", Clock::now() + kIoBound).empty());
            ++clients;
        }
        {  // a line echoed through, then close (FIN)
            Fd s = connect_loopback(proxy_port);
            BOOST_REQUIRE_MESSAGE(s.valid(), errno_text("connect", errno));
            err = exchange(s.get(), "round trip\n", "round trip\n");
            BOOST_REQUIRE_MESSAGE(err.empty(), err);
            ++clients;
        }
        {  // 2 MiB in flight, nothing read, then reset
            Fd s = connect_loopback(proxy_port);
            BOOST_REQUIRE_MESSAGE(s.valid(), errno_text("connect", errno));
            std::size_t off = 0;
            const auto deadline = Clock::now() + seconds(2);
            while (off < big_text.size() && Clock::now() < deadline) {
                ssize_t w = ::send(s.get(), big_text.data() + off, big_text.size() - off,
                                   MSG_NOSIGNAL);
                if (w > 0)
                    off += static_cast<std::size_t>(w);
                else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                    wait_for(s.get(), POLLOUT, std::min(deadline, Clock::now() + milliseconds(50)));
                else if (!(w < 0 && errno == EINTR))
                    break;
            }
            BOOST_TEST_MESSAGE("round " << round << ": " << off
                                        << " bytes sent before the reset");
            set_abortive_close(s.get());
            ++clients;
        }
    }

    const int proxy_after = wait_fds_at_most(proxy_pid, proxy_base, kSettleBound);
    const int echo_after = wait_fds_at_most(echo_pid, echo_base, kSettleBound);
    BOOST_TEST_MESSAGE("after " << clients << " early-closing clients: proxy fds " << proxy_after
                                << " (base " << proxy_base << "), echo fds " << echo_after
                                << " (base " << echo_base << ")");
    // (A process that died shows no fds: the counts only mean something
    // while both run.)
    std::string how;
    BOOST_REQUIRE_MESSAGE(u.proxy->child().running(&how), "the proxy stopped: " << how);
    BOOST_REQUIRE_MESSAGE(u.echo.child().running(&how), "the echo server stopped: " << how);
    BOOST_CHECK_MESSAGE(proxy_after >= 0 && proxy_after <= proxy_base,
                        "the proxy holds " << proxy_after - proxy_base
                                           << " more fds than before the clients");
    BOOST_CHECK_MESSAGE(echo_after >= 0 && echo_after <= echo_base,
                        "the echo server holds "
                            << echo_after - echo_base
                            << " more fds: the proxy did not close upstream connections");

    // And the proxy still serves a new client, with a transfer of some size.
    {
        Fd s = connect_loopback(proxy_port);
        BOOST_REQUIRE_MESSAGE(s.valid(), errno_text("connect", errno));
        err = exchange(s.get(), "after them\n", "after them\n");
        BOOST_CHECK_MESSAGE(err.empty(), "new client: " << err);
    }
    TransferReport rep = transfer(proxy_port, 1u << 20, 0xAF7E4ull,
                                  ReadPace{64 * 1024, milliseconds(0), 0}, 0, nullptr);
    BOOST_CHECK_MESSAGE(rep.ok, "1 MiB after the early closers: " << rep.error);
    const int proxy_end = wait_fds_at_most(proxy_pid, proxy_base, kSettleBound);
    BOOST_REQUIRE_MESSAGE(u.proxy->child().running(&how), "the proxy stopped: " << how);
    BOOST_CHECK_MESSAGE(proxy_end >= 0 && proxy_end <= proxy_base,
                        "after the last clients the proxy holds " << proxy_end - proxy_base
                                                                  << " more fds");
}

BOOST_AUTO_TEST_SUITE_END()

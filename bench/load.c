/* bench-load: the benchmark's load generator. One thread, epoll, loopback
 * only, bounded in time (a hard alarm ends it whatever happens).
 *
 * Workloads (--workload):
 *   churn     --conns K attempts in flight; each connects, sends 1 byte,
 *             reads it back, closes. ops = connections.
 *   pingpong  --conns C connections, one --size M byte message in flight on
 *             each; ops = round trips; latency p50/p99.
 *   stream    --conns C connections writing --size bytes per write
 *             continuously and reading the echo; ops = echoed bytes.
 *   idle      opens --conns N connections (at most 64 attempts in flight),
 *             echoes 1 byte on each, then holds them all and reads the
 *             server's peak RSS (VmHWM, needs --server-pid).
 * Every echoed byte is compared with what was sent on that connection
 * (a per-connection position in a pseudo-random pattern); a mismatch, an
 * early end of file or a reset ends the run with "MISMATCH"/"ERROR" and
 * exit status 1.
 *
 * Run length: --warmup S then --duration S of measurement, or --count N
 * (round trips, connections, or MiB for stream) with no warm-up. Either
 * way the run then drains: no new work, all data in flight must come back.
 *
 * With --server-pid, the server's CPU time (utime+stime from
 * /proc/PID/stat) is read at the start and end of the measurement.
 *
 * Output: one line on stdout, "RESULT key=value ...". Exit status 0 only
 * if every byte checked out.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PERIOD 65521u /* pattern period (prime: never aligned with sizes) */
#define RBUF_SIZE (256u * 1024u)
#define MAX_EVENTS 512
#define IDLE_IN_FLIGHT 64
#define SOURCE_ADDRS 64 /* churn/idle: client addresses 127.0.0.2 .. 127.0.0.65 */
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

enum workload { W_CHURN, W_PINGPONG, W_STREAM, W_IDLE };
enum phase { P_WARMUP, P_MEASURE, P_DRAIN, P_DONE };

struct conn {
    int fd;
    unsigned id;         /* pattern position: different for every connection */
    uint64_t sent;       /* stream offsets */
    uint64_t recvd;
    uint64_t msg_start;  /* pingpong: when the message in flight was sent */
    uint64_t msg_end;    /* pingpong: stream offset where that message ends */
    uint32_t epoll_mask; /* events currently registered */
    int open;
    int connected;       /* churn/idle: the 1-byte request went out */
    int echoed;          /* idle: the byte came back */
};

static struct {
    enum workload workload;
    const char *wname;
    int port;
    unsigned conns;
    size_t size;
    double duration, warmup, timeout;
    uint64_t count; /* 0: duration mode */
    int server_pid;
    size_t window;
    int corrupt_test;
} opt = {W_PINGPONG, "pingpong", 0, 64, 64, 3.0, 0.5, 0, 0, 0, 0, 0};

static unsigned char pat[2 * PERIOD];
static unsigned char rbuf[RBUF_SIZE];
static int ep = -1;
static struct sockaddr_in server_addr;
static enum phase phase = P_WARMUP;

/* Counters of the measured window. */
static uint64_t ops, bytes_measured;
static uint32_t *lat; /* pingpong latencies, ns */
static size_t nlat, caplat;
static uint64_t total_started; /* churn/idle: connections started */
static uint64_t all_ops, all_bytes; /* the whole run: warm-up, measure, drain */

static void die(const char *kind, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "bench-load: %s: ", kind);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void on_alarm(int sig)
{
    static const char msg[] = "bench-load: ERROR: hard time limit reached (--timeout)\n";
    (void)sig;
    if (write(2, msg, sizeof msg - 1) < 0) {
        /* nothing more to do */
    }
    _exit(3);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double cpu_self_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Server CPU seconds (utime + stime of /proc/PID/stat), -1 if unknown. */
static double server_cpu_s(void)
{
    char path[64], buf[1024], *p;
    unsigned long long ut = 0, st = 0;
    FILE *f;
    size_t n;
    if (!opt.server_pid)
        return -1;
    snprintf(path, sizeof path, "/proc/%d/stat", opt.server_pid);
    f = fopen(path, "r");
    if (!f)
        die("ERROR", "server %d is gone (%s)", opt.server_pid, strerror(errno));
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        die("ERROR", "cannot parse %s", path);
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* A kB field of /proc/PID/status (VmHWM, VmRSS). */
static long server_status_kb(const char *field)
{
    char path[64], line[256];
    size_t flen = strlen(field);
    long kb = -1;
    FILE *f;
    snprintf(path, sizeof path, "/proc/%d/status", opt.server_pid);
    f = fopen(path, "r");
    if (!f)
        die("ERROR", "server %d is gone (%s)", opt.server_pid, strerror(errno));
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, field, flen) && line[flen] == ':')
            kb = strtol(line + flen + 1, NULL, 10);
    fclose(f);
    if (kb < 0)
        die("ERROR", "no %s in %s", field, path);
    return kb;
}

/* ---- the byte pattern --------------------------------------------------- */

static void make_pattern(void)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    unsigned i;
    for (i = 0; i < PERIOD; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        pat[i] = (unsigned char)(x >> 24);
    }
    memcpy(pat + PERIOD, pat, PERIOD);
}

/* The bytes a connection sends from stream offset off: up to PERIOD of them
 * are contiguous in pat. */
static const unsigned char *pattern_at(const struct conn *c, uint64_t off)
{
    return pat + (c->id * 7919u + off) % PERIOD;
}

static void verify(const struct conn *c, const unsigned char *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        size_t piece = n - done < PERIOD ? n - done : PERIOD;
        const unsigned char *want = pattern_at(c, c->recvd + done);
        if (memcmp(buf + done, want, piece) != 0) {
            size_t i = 0;
            while (buf[done + i] == want[i])
                i++;
            die("MISMATCH", "connection %u, byte %llu of its stream: sent 0x%02x, echoed 0x%02x",
                c->id, (unsigned long long)(c->recvd + done + i), want[i], buf[done + i]);
        }
        done += piece;
    }
}

/* ---- connections ---------------------------------------------------------- */

static void set_mask(struct conn *c, uint32_t mask)
{
    struct epoll_event ev;
    if (c->epoll_mask == mask)
        return;
    ev.events = mask;
    ev.data.ptr = c;
    if (epoll_ctl(ep, c->epoll_mask ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) < 0)
        die("ERROR", "epoll_ctl: %s", strerror(errno));
    c->epoll_mask = mask;
}

/* Non-blocking socket, connect started; 0 or -1 with errno.
 * The client address rotates over SOURCE_ADDRS loopback addresses: every
 * churned connection leaves a TIME_WAIT socket on the client side, and with
 * one address the kernel can reuse a local port only once that socket is a
 * second old, which capped churn at ~14,000 connections/s on ~28,000 ports
 * whatever the server. The port is still chosen at connect() time
 * (IP_BIND_ADDRESS_NO_PORT). */
static int conn_start(struct conn *c)
{
    struct sockaddr_in src;
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    memset(&src, 0, sizeof src);
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 + c->id % SOURCE_ADDRS);
    if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&src, sizeof src) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&server_addr, sizeof server_addr) < 0 &&
        errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    c->fd = fd;
    c->open = 1;
    c->sent = c->recvd = 0;
    c->epoll_mask = 0;
    c->connected = c->echoed = 0;
    return 0;
}

static void conn_close(struct conn *c)
{
    if (c->open)
        close(c->fd); /* also leaves the epoll set */
    c->open = 0;
    c->epoll_mask = 0;
}

static void conn_check_error(struct conn *c, uint32_t events)
{
    if (events & EPOLLERR) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        die("ERROR", "connection %u: %s", c->id, strerror(err ? err : EIO));
    }
}

/* A blocking connect, then non-blocking with TCP_NODELAY (client side only). */
static void conn_open_blocking(struct conn *c)
{
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("ERROR", "socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&server_addr, sizeof server_addr) < 0)
        die("ERROR", "connect to 127.0.0.1:%d: %s", opt.port, strerror(errno));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    c->fd = fd;
    c->open = 1;
    c->sent = c->recvd = 0;
    c->epoll_mask = 0;
}

/* Waits until the server accepts and echoes (it may still be starting). */
static void wait_for_server(double seconds)
{
    uint64_t deadline = now_ns() + (uint64_t)(seconds * 1e9);
    for (;;) {
        unsigned char b = 0x5a, r = 0;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            die("ERROR", "socket: %s", strerror(errno));
        if (connect(fd, (struct sockaddr *)&server_addr, sizeof server_addr) == 0) {
            struct timeval tv = {5, 0};
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            if (send(fd, &b, 1, MSG_NOSIGNAL) != 1 || recv(fd, &r, 1, 0) != 1 || r != b)
                die("ERROR", "127.0.0.1:%d accepted but did not echo", opt.port);
            close(fd);
            return;
        }
        if (errno != ECONNREFUSED)
            die("ERROR", "connect to 127.0.0.1:%d: %s", opt.port, strerror(errno));
        close(fd);
        if (now_ns() > deadline)
            die("ERROR", "nothing listens on 127.0.0.1:%d", opt.port);
        usleep(20000);
    }
}

/* ---- pingpong and stream ---------------------------------------------------- */

static void send_some(struct conn *c, uint64_t upto)
{
    while (c->sent < upto) {
        size_t len = upto - c->sent;
        ssize_t w;
        if (len > PERIOD)
            len = PERIOD;
        if (opt.workload == W_STREAM && len > opt.size)
            len = opt.size;
        w = send(c->fd, pattern_at(c, c->sent), len, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EINTR)
                continue;
            die("ERROR", "connection %u: send: %s", c->id, strerror(errno));
        }
        c->sent += (uint64_t)w;
        if (opt.workload == W_STREAM)
            return; /* one write per wake: the loop comes back while writable */
    }
}

static void pingpong_send(struct conn *c)
{
    c->msg_start = now_ns();
    c->msg_end = c->sent + opt.size;
    send_some(c, c->msg_end);
    set_mask(c, c->sent < c->msg_end ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

static void record_latency(uint64_t ns)
{
    if (nlat == caplat) {
        caplat = caplat ? caplat * 2 : 65536;
        lat = realloc(lat, caplat * sizeof *lat);
        if (!lat)
            die("ERROR", "out of memory");
    }
    lat[nlat++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

/* Reads what is there; returns bytes read (0 if none yet). */
static size_t recv_verify(struct conn *c, size_t max)
{
    ssize_t r;
    if (max > RBUF_SIZE)
        max = RBUF_SIZE;
    r = recv(c->fd, rbuf, max, 0);
    if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return 0;
        die("ERROR", "connection %u: recv: %s (after %llu echoed bytes)", c->id, strerror(errno),
            (unsigned long long)c->recvd);
    }
    if (r == 0)
        die("ERROR", "connection %u: the server closed it (after %llu of %llu bytes echoed)",
            c->id, (unsigned long long)c->recvd, (unsigned long long)c->sent);
    if (opt.corrupt_test)
        rbuf[r / 2] ^= 0x40; /* self-test of the checker: must fail */
    verify(c, rbuf, (size_t)r);
    c->recvd += (uint64_t)r;
    all_bytes += (uint64_t)r;
    return (size_t)r;
}

static void pingpong_event(struct conn *c, uint32_t events)
{
    conn_check_error(c, events);
    if (events & EPOLLOUT) {
        send_some(c, c->msg_end);
        if (c->sent == c->msg_end)
            set_mask(c, EPOLLIN);
    }
    if (events & (EPOLLIN | EPOLLHUP)) {
        if (c->sent == c->recvd)
            die("ERROR", "connection %u: the server sent bytes nobody asked for", c->id);
        recv_verify(c, c->sent - c->recvd);
        if (c->recvd == c->msg_end) {
            all_ops++;
            if (phase == P_MEASURE) {
                ops++;
                bytes_measured += opt.size;
                record_latency(now_ns() - c->msg_start);
            }
            if (phase == P_WARMUP || phase == P_MEASURE)
                pingpong_send(c);
        }
    }
}

static void stream_update_mask(struct conn *c)
{
    int want_out = phase == P_WARMUP || phase == P_MEASURE;
    if (want_out && opt.window && c->sent - c->recvd >= opt.window)
        want_out = 0;
    set_mask(c, want_out ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

static void stream_event(struct conn *c, uint32_t events)
{
    int i;
    conn_check_error(c, events);
    if (events & (EPOLLIN | EPOLLHUP)) {
        for (i = 0; i < 4; i++) {
            size_t n;
            if (c->sent == c->recvd)
                die("ERROR", "connection %u: the server sent bytes nobody asked for", c->id);
            n = recv_verify(c, c->sent - c->recvd);
            if (phase == P_MEASURE)
                bytes_measured += n;
            if (n < RBUF_SIZE || c->sent == c->recvd)
                break;
        }
    }
    if ((events & EPOLLOUT) && (phase == P_WARMUP || phase == P_MEASURE)) {
        for (i = 0; i < 4; i++) {
            uint64_t before = c->sent;
            if (opt.window && c->sent - c->recvd >= opt.window)
                break;
            send_some(c, c->sent + opt.size);
            if (c->sent - before < opt.size)
                break;
        }
    }
    stream_update_mask(c);
}

/* ---- churn and idle ------------------------------------------------------- */

static unsigned char churn_byte(const struct conn *c)
{
    return pat[c->id % PERIOD];
}

static void churn_try_send(struct conn *c)
{
    unsigned char b = churn_byte(c);
    ssize_t w = send(c->fd, &b, 1, MSG_NOSIGNAL);
    if (w == 1) {
        c->connected = 1;
        c->sent = 1;
    } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN &&
               errno != EINTR) {
        die("ERROR", "connection %u: send: %s", c->id, strerror(errno));
    }
}

/* Starts the next connection in slot c (failing loudly if it cannot). */
static int churn_next(struct conn *c, unsigned id)
{
    c->id = id;
    if (conn_start(c) < 0) {
        if (errno == EADDRNOTAVAIL)
            die("ERROR", "connect: out of local ports (EADDRNOTAVAIL); lower the rate or wait");
        die("ERROR", "connect to 127.0.0.1:%d: %s", opt.port, strerror(errno));
    }
    total_started++;
    churn_try_send(c); /* on loopback the handshake is usually done already */
    set_mask(c, c->connected ? EPOLLIN : EPOLLIN | EPOLLOUT | EPOLLET);
    return 1;
}

/* Returns 1 when the connection finished its echo. */
static int churn_event(struct conn *c, uint32_t events)
{
    conn_check_error(c, events);
    if (!c->connected && (events & EPOLLOUT))
        churn_try_send(c);
    if (c->connected && (events & (EPOLLIN | EPOLLHUP))) {
        unsigned char b[2];
        ssize_t r = recv(c->fd, b, sizeof b, 0);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return 0;
        if (r < 0)
            die("ERROR", "connection %u: recv: %s", c->id, strerror(errno));
        if (r == 0)
            die("ERROR", "connection %u: closed by the server before the echo", c->id);
        if (opt.corrupt_test)
            b[0] ^= 0x40;
        if (r != 1 || b[0] != churn_byte(c))
            die("MISMATCH", "connection %u: sent 0x%02x, echoed %zd byte(s), first 0x%02x", c->id,
                churn_byte(c), r, b[0]);
        c->recvd = 1;
        return 1;
    }
    return 0;
}

/* ---- main loop -------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr,
            "usage: bench-load --port P --workload churn|pingpong|stream|idle\n"
            "       [--conns N] [--size BYTES] [--duration S] [--warmup S] [--count N]\n"
            "       [--window BYTES] [--server-pid PID] [--timeout S] [--corrupt-test]\n"
            "       bench-load --free-port FROM   (prints a free loopback port >= FROM)\n");
    exit(2);
}

static int free_port(int from)
{
    int p;
    for (p = from; p < 32768; p++) {
        struct sockaddr_in a;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons((unsigned short)p);
        ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0; /* no SO_REUSEADDR: strict */
        close(fd);
        if (ok) {
            printf("%d\n", p);
            return 0;
        }
    }
    fprintf(stderr, "bench-load: no free port in [%d, 32768)\n", from);
    return 1;
}

static void raise_nofile(rlim_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
        return;
    if (rl.rlim_max < want) {
        struct rlimit hard = {want, want};
        if (setrlimit(RLIMIT_NOFILE, &hard) == 0) /* root */
            return;
        want = rl.rlim_max;
    }
    rl.rlim_cur = want;
    setrlimit(RLIMIT_NOFILE, &rl);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double percentile_us(double p)
{
    size_t i;
    if (!nlat)
        return 0;
    i = (size_t)(p * (double)(nlat - 1) + 0.5);
    return lat[i] / 1e3;
}

int main(int argc, char **argv)
{
    struct epoll_event evs[MAX_EVENTS];
    struct conn *conns;
    uint64_t t0, t_measure = 0, t_end = 0, t_drain_deadline = 0, next_id = 0;
    double cpu0 = -1, cpu1 = -1, self0 = 0, self1 = 0, seconds;
    unsigned i, active = 0;
    long hwm0 = -1, hwm1 = -1, rss1 = -1;
    int a;

    for (a = 1; a < argc; a++) {
        const char *k = argv[a];
        const char *v = a + 1 < argc ? argv[a + 1] : NULL;
        if (!strcmp(k, "--corrupt-test")) {
            opt.corrupt_test = 1;
            continue;
        }
        if (!v)
            usage();
        a++;
        if (!strcmp(k, "--free-port"))
            return free_port(atoi(v));
        else if (!strcmp(k, "--port"))
            opt.port = atoi(v);
        else if (!strcmp(k, "--workload")) {
            opt.wname = v;
            if (!strcmp(v, "churn"))
                opt.workload = W_CHURN;
            else if (!strcmp(v, "pingpong"))
                opt.workload = W_PINGPONG;
            else if (!strcmp(v, "stream"))
                opt.workload = W_STREAM;
            else if (!strcmp(v, "idle"))
                opt.workload = W_IDLE;
            else
                usage();
        } else if (!strcmp(k, "--conns"))
            opt.conns = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(k, "--size"))
            opt.size = strtoul(v, NULL, 10);
        else if (!strcmp(k, "--duration"))
            opt.duration = atof(v);
        else if (!strcmp(k, "--warmup"))
            opt.warmup = atof(v);
        else if (!strcmp(k, "--count"))
            opt.count = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--window"))
            opt.window = strtoul(v, NULL, 10);
        else if (!strcmp(k, "--server-pid"))
            opt.server_pid = atoi(v);
        else if (!strcmp(k, "--timeout"))
            opt.timeout = atof(v);
        else
            usage();
    }
    if (opt.port <= 0 || opt.port > 65535 || opt.conns == 0 || opt.size == 0 ||
        opt.duration <= 0 || opt.warmup < 0)
        usage();
    if (opt.workload == W_IDLE && !opt.server_pid)
        die("ERROR", "--workload idle needs --server-pid");
    if (opt.timeout <= 0)
        opt.timeout = (opt.count ? 120 : opt.warmup + opt.duration) + 30;

    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, on_alarm);
    alarm((unsigned)(opt.timeout + 0.999));
    raise_nofile(opt.conns + 64u);
    make_pattern();

    memset(&server_addr, 0, sizeof server_addr);
    server_addr.sin_family = AF_INET;
    server_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    server_addr.sin_port = htons((unsigned short)opt.port);
    wait_for_server(10);

    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("ERROR", "epoll_create1: %s", strerror(errno));
    conns = calloc(opt.conns, sizeof *conns);
    if (!conns)
        die("ERROR", "out of memory");

    /* Set up. */
    if (opt.workload == W_PINGPONG || opt.workload == W_STREAM) {
        for (i = 0; i < opt.conns; i++) {
            conns[i].id = i;
            conn_open_blocking(&conns[i]);
        }
    }
    if (opt.workload == W_IDLE)
        hwm0 = server_status_kb("VmHWM");

    t0 = now_ns();
    if (opt.count || opt.workload == W_IDLE) {
        phase = P_MEASURE;
        t_measure = t0;
        cpu0 = server_cpu_s();
        self0 = cpu_self_s();
    } else {
        t_measure = t0 + (uint64_t)(opt.warmup * 1e9);
        t_end = t_measure + (uint64_t)(opt.duration * 1e9);
        if (opt.warmup == 0) {
            phase = P_MEASURE;
            cpu0 = server_cpu_s();
            self0 = cpu_self_s();
        }
    }

    /* Start the work. */
    switch (opt.workload) {
    case W_PINGPONG:
        for (i = 0; i < opt.conns; i++)
            pingpong_send(&conns[i]);
        break;
    case W_STREAM:
        for (i = 0; i < opt.conns; i++)
            stream_update_mask(&conns[i]);
        break;
    case W_CHURN:
        for (i = 0; i < opt.conns && (!opt.count || next_id < opt.count); i++) {
            churn_next(&conns[i], (unsigned)next_id++);
            active++;
        }
        break;
    case W_IDLE:
        for (i = 0; i < opt.conns && i < IDLE_IN_FLIGHT; i++) {
            churn_next(&conns[i], (unsigned)next_id++);
            active++;
        }
        break;
    }

    while (phase != P_DONE) {
        int n, timeout_ms = 100;
        uint64_t t = now_ns();

        /* Phase changes. */
        if (phase == P_WARMUP && t >= t_measure) {
            phase = P_MEASURE;
            t_measure = t;
            t_end = t + (uint64_t)(opt.duration * 1e9);
            cpu0 = server_cpu_s();
            self0 = cpu_self_s();
        }
        if (phase == P_MEASURE) {
            int over;
            if (opt.workload == W_IDLE)
                over = active == 0 && next_id == opt.conns;
            else if (opt.count)
                over = opt.workload == W_STREAM ? bytes_measured >= opt.count << 20 : ops >= opt.count;
            else
                over = t >= t_end;
            if (over) {
                t_end = t;
                cpu1 = server_cpu_s();
                self1 = cpu_self_s();
                phase = P_DRAIN;
                t_drain_deadline = t + 10000000000ull;
                if (opt.workload == W_STREAM)
                    for (i = 0; i < opt.conns; i++)
                        stream_update_mask(&conns[i]);
            }
        }
        if (phase == P_DRAIN) {
            int busy = 0;
            if (opt.workload == W_PINGPONG || opt.workload == W_STREAM) {
                for (i = 0; i < opt.conns; i++)
                    if (conns[i].recvd != conns[i].sent)
                        busy = 1;
            } else if (opt.workload == W_CHURN) {
                busy = active != 0;
            }
            if (!busy) {
                phase = P_DONE;
                break;
            }
            if (t > t_drain_deadline)
                die("ERROR", "the server did not echo everything within 10 s of the end");
        }
        if (phase == P_WARMUP && t_measure - t < 100000000ull)
            timeout_ms = (int)((t_measure - t) / 1000000u) + 1;
        else if (phase == P_MEASURE && !opt.count && opt.workload != W_IDLE && t_end - t < 100000000ull)
            timeout_ms = (int)((t_end - t) / 1000000u) + 1;

        n = epoll_wait(ep, evs, MAX_EVENTS, timeout_ms);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("ERROR", "epoll_wait: %s", strerror(errno));
        }
        for (a = 0; a < n; a++) {
            struct conn *c = evs[a].data.ptr;
            uint32_t e = evs[a].events;
            switch (opt.workload) {
            case W_PINGPONG:
                pingpong_event(c, e);
                break;
            case W_STREAM:
                stream_event(c, e);
                break;
            case W_CHURN:
                if (churn_event(c, e)) {
                    conn_close(c);
                    active--;
                    all_ops++;
                    if (phase == P_MEASURE)
                        ops++;
                    if ((phase == P_WARMUP || phase == P_MEASURE) &&
                        (!opt.count || next_id < opt.count)) {
                        churn_next(c, (unsigned)next_id++);
                        active++;
                    }
                }
                break;
            case W_IDLE:
                if (!c->echoed && churn_event(c, e)) {
                    c->echoed = 1;
                    set_mask(c, EPOLLIN); /* level: an unexpected close shows */
                    active--;
                    all_ops++;
                    ops++;
                    if (next_id < opt.conns) {
                        churn_next(&conns[next_id], (unsigned)next_id);
                        next_id++;
                        active++;
                    }
                } else if (c->echoed) {
                    die("ERROR", "idle connection %u: the server closed it or sent data", c->id);
                }
                break;
            }
        }
    }

    if (opt.workload == W_IDLE) {
        /* Everything is connected and idle: let the server settle, then read
         * its peak. */
        usleep(300000);
        hwm1 = server_status_kb("VmHWM");
        rss1 = server_status_kb("VmRSS");
    }
    seconds = (double)(t_end - t_measure) / 1e9;
    for (i = 0; i < opt.conns; i++)
        conn_close(&conns[i]);

    if (opt.workload == W_STREAM)
        ops = bytes_measured;
    printf("RESULT workload=%s conns=%u size=%zu seconds=%.3f ops=%llu all_ops=%llu all_bytes=%llu",
           opt.wname, opt.conns, opt.size, seconds, (unsigned long long)ops,
           (unsigned long long)(opt.workload == W_STREAM ? all_bytes : all_ops),
           (unsigned long long)all_bytes);
    switch (opt.workload) {
    case W_PINGPONG:
        qsort(lat, nlat, sizeof *lat, cmp_u32);
        printf(" rate=%.1f p50_us=%.1f p99_us=%.1f", ops / seconds, percentile_us(0.50),
               percentile_us(0.99));
        break;
    case W_STREAM:
        printf(" bytes=%llu mbps=%.2f", (unsigned long long)bytes_measured,
               bytes_measured / seconds / 1e6);
        break;
    case W_CHURN:
        printf(" rate=%.1f", ops / seconds);
        break;
    case W_IDLE:
        printf(" hwm0_kb=%ld hwm_kb=%ld rss_kb=%ld per_conn_b=%.0f", hwm0, hwm1, rss1,
               (double)(hwm1 - hwm0) * 1024.0 / opt.conns);
        break;
    }
    if (cpu0 >= 0 && cpu1 >= 0) {
        double cpu = cpu1 - cpu0;
        printf(" server_cpu_s=%.2f server_cpu_pct=%.0f", cpu, 100.0 * cpu / seconds);
        if (ops && opt.workload != W_STREAM && opt.workload != W_IDLE)
            printf(" server_cpu_us_per_op=%.2f", cpu * 1e6 / (double)ops);
        if (opt.workload == W_STREAM && bytes_measured)
            printf(" server_cpu_us_per_mib=%.1f", cpu * 1e6 / ((double)bytes_measured / 1048576.0));
    }
    printf(" client_cpu_pct=%.0f\n", 100.0 * (self1 - self0) / seconds);
    free(conns);
    free(lat);
    close(ep);
    return 0;
}

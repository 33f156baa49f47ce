/* echo_probe SERVER [LINE]
 *
 * Starts SERVER (an echo server taking its port as its only argument) on
 * a free port, waits until it accepts on 127.0.0.1, sends one line (LINE
 * plus "\n", or a default), checks that exactly that line comes back,
 * then stops the server with SIGTERM. Exit status 0 on success, 1 on
 * failure.
 *
 * The free port is found by binding port 0 and closing the socket; another
 * process may take it before the server binds it, so when the server exits
 * while being waited for, the probe retries on a new port (a few times).
 * Every wait has a generous bound, so that a broken server fails the probe
 * instead of hanging it; no timing is asserted. Loopback only. */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum {
	START_ATTEMPTS = 5,
	START_WAIT_MS = 30000, /* until the server accepts */
	ECHO_WAIT_MS = 30000,  /* without progress, for the echo */
	STOP_WAIT_MS = 15000   /* after SIGTERM, before SIGKILL */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pause_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* A port nobody listens on right now (0 on failure). */
static int free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	int port = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return 0;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	sin.sin_port = 0;
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static int connect_loopback(int port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)port);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void describe_exit(const char *who, int status)
{
	if (WIFEXITED(status))
		fprintf(stderr, "%s exited with status %d\n", who,
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		fprintf(stderr, "%s was killed by signal %d\n", who,
		    WTERMSIG(status));
}

/* SIGTERM, a bounded wait, then SIGKILL. Returns 0 when the server was
 * still running and died of the SIGTERM. */
static int stop_server(pid_t pid)
{
	long long deadline = now_ms() + STOP_WAIT_MS;
	int status = 0;

	kill(pid, SIGTERM);
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			perror("echo_probe: waitpid");
			return -1;
		}
		if (now_ms() > deadline) {
			fprintf(stderr, "echo_probe: server ignored SIGTERM, "
			    "killing it\n");
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		pause_ms(10);
	}
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM)
		return 0;
	describe_exit("echo_probe: server", status);
	return -1;
}

/* Sends line, reads it back. 0 when the echo is exact. */
static int check_echo(int fd, const char *line)
{
	size_t len = strlen(line);
	size_t sent = 0, got = 0;
	char *back = malloc(len + 1);
	long long deadline = now_ms() + ECHO_WAIT_MS;
	int rc = -1;

	if (back == NULL)
		return -1;
	while (got < len) {
		struct pollfd p;
		int n;

		p.fd = fd;
		p.events = POLLIN | (sent < len ? POLLOUT : 0);
		p.revents = 0;
		n = poll(&p, 1, 100);
		if (n < 0 && errno != EINTR) {
			perror("echo_probe: poll");
			goto out;
		}
		if (n <= 0) {
			if (now_ms() > deadline) {
				fprintf(stderr, "echo_probe: no echo after "
				    "%d ms (%lu of %lu bytes back)\n",
				    ECHO_WAIT_MS, (unsigned long)got,
				    (unsigned long)len);
				goto out;
			}
			continue;
		}
		if ((p.revents & POLLOUT) && sent < len) {
			ssize_t w = send(fd, line + sent, len - sent,
			    MSG_NOSIGNAL);
			if (w < 0 && errno != EINTR && errno != EAGAIN) {
				perror("echo_probe: send");
				goto out;
			}
			if (w > 0) {
				sent += (size_t)w;
				deadline = now_ms() + ECHO_WAIT_MS;
			}
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = recv(fd, back + got, len - got, 0);
			if (r == 0) {
				fprintf(stderr, "echo_probe: server closed the "
				    "connection after %lu of %lu bytes\n",
				    (unsigned long)got, (unsigned long)len);
				goto out;
			}
			if (r < 0 && errno != EINTR && errno != EAGAIN) {
				perror("echo_probe: recv");
				goto out;
			}
			if (r > 0) {
				got += (size_t)r;
				deadline = now_ms() + ECHO_WAIT_MS;
			}
		}
	}
	back[got] = '\0';
	if (memcmp(back, line, len) != 0) {
		fprintf(stderr, "echo_probe: sent \"%s\" but got back \"%s\"\n",
		    line, back);
		goto out;
	}
	rc = 0;
out:
	free(back);
	return rc;
}

int main(int argc, char **argv)
{
	char line[256];
	int attempt;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: echo_probe SERVER [LINE]\n");
		return 2;
	}
	snprintf(line, sizeof line, "%s\n",
	    argc > 2 ? argv[2] : "hello from evasio's echo probe");

	for (attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
		char port_arg[16];
		char *args[3];
		long long deadline;
		pid_t pid;
		int port = free_port();
		int fd = -1;
		int status;
		int rc;

		if (port == 0) {
			perror("echo_probe: no free port");
			return 1;
		}
		snprintf(port_arg, sizeof port_arg, "%d", port);
		args[0] = argv[1];
		args[1] = port_arg;
		args[2] = NULL;
		rc = posix_spawn(&pid, argv[1], NULL, NULL, args, environ);
		if (rc != 0) {
			fprintf(stderr, "echo_probe: cannot start %s: %s\n",
			    argv[1], strerror(rc));
			return 1;
		}
		printf("started %s on port %d (attempt %d)\n", argv[1], port,
		    attempt);
		fflush(stdout);

		/* Until it accepts, or exits (port taken: try another). */
		deadline = now_ms() + START_WAIT_MS;
		while (fd < 0) {
			pid_t r = waitpid(pid, &status, WNOHANG);
			if (r == pid) {
				describe_exit("echo_probe: server", status);
				break;
			}
			fd = connect_loopback(port);
			if (fd >= 0)
				break;
			if (errno != ECONNREFUSED && errno != EINTR) {
				perror("echo_probe: connect");
				stop_server(pid);
				return 1;
			}
			if (now_ms() > deadline) {
				fprintf(stderr, "echo_probe: server not "
				    "accepting after %d ms\n", START_WAIT_MS);
				stop_server(pid);
				return 1;
			}
			pause_ms(20);
		}
		if (fd < 0)
			continue;

		rc = check_echo(fd, line);
		close(fd);
		if (stop_server(pid) != 0)
			rc = -1;
		if (rc == 0)
			printf("echoed: %s", line);
		printf("%s\n", rc == 0 ? "echo_probe: passed"
		    : "echo_probe: FAILED");
		return rc == 0 ? 0 : 1;
	}
	fprintf(stderr, "echo_probe: the server exited %d times on start\n",
	    START_ATTEMPTS);
	return 1;
}

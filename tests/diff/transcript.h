/* What the differential programs share: the safety net (an alarm per
 * scenario turns a hang into a "TIMEOUT in scenario NAME" line, which the
 * test fails on) and the transcript's line helpers. C99; included by each
 * *_diff.c, built against libevent and against evasio alike. */
#ifndef EVASIO_TESTS_DIFF_TRANSCRIPT_H_INCLUDED_
#define EVASIO_TESTS_DIFF_TRANSCRIPT_H_INCLUDED_

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *volatile transcript_scenario = "startup";

static void transcript_on_alarm(int sig)
{
	static const char a[] = "TIMEOUT in scenario ";
	const char *s = transcript_scenario;
	ssize_t r;
	(void)sig;
	r = write(STDOUT_FILENO, a, sizeof a - 1);
	r = write(STDOUT_FILENO, s, strlen(s));
	r = write(STDOUT_FILENO, "\n", 1);
	(void)r;
	_exit(3);
}

/* Once, first thing in main. */
static inline void transcript_start(void)
{
	signal(SIGALRM, transcript_on_alarm);  /* C's signal(): no POSIX feature macro needed */
}

/* A scenario named in the timeout line only, with its own time limit. */
static inline void scenario_alarm(const char *name, unsigned seconds)
{
	transcript_scenario = name;
	alarm(seconds);
}

/* A scenario with a heading line and 20 s. */
static inline void begin(const char *name)
{
	fflush(stdout);
	printf("== %s\n", name);
	fflush(stdout);
	scenario_alarm(name, 20);
}

static inline void end(void)
{
	alarm(0);
	fflush(stdout);
}

/* One indented line of the transcript. */
static inline void out(const char *fmt, ...)
{
	va_list ap;
	printf("  ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static inline const char *yn(int b)
{
	return b ? "yes" : "no";
}

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * memhog: allocates and touches memory, for tests that need a task to leak
 * its way into memory pressure or an OOM kill inside a memory cgroup.
 *
 * usage: memhog MIB [STEP_MS]
 *   Allocates MIB mebibytes, one at a time, writing every page so it is
 *   really charged, sleeping STEP_MS milliseconds between mebibytes (0 by
 *   default), prints "memhog: holding N MiB" and then sleeps until killed.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024UL * 1024UL)

static int parse_ulong(const char *s, const char *what, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-') {
		fprintf(stderr, "memhog: %s '%s' is not a number\n", what, s);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec step = { 0 };
	unsigned long mib, step_ms = 0, i;
	long page = sysconf(_SC_PAGESIZE);

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: memhog MIB [STEP_MS]\n");
		return 2;
	}
	if (parse_ulong(argv[1], "MIB", &mib) ||
	    (argc == 3 && parse_ulong(argv[2], "STEP_MS", &step_ms)))
		return 2;
	step.tv_sec = step_ms / 1000;
	step.tv_nsec = (long)(step_ms % 1000) * 1000000L;

	for (i = 0; i < mib; i++) {
		char *p = malloc(MIB);
		unsigned long off;

		if (!p) {
			fprintf(stderr, "memhog: malloc failed after %lu MiB\n", i);
			return 1;
		}
		/* Touch every page: untouched memory is never charged. */
		for (off = 0; off < MIB; off += (unsigned long)page)
			p[off] = (char)off | 1;
		if (step_ms)
			nanosleep(&step, NULL);
	}
	printf("memhog: holding %lu MiB\n", mib);
	fflush(stdout);
	for (;;)
		pause();
}

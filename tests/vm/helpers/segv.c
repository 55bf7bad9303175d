// SPDX-License-Identifier: GPL-2.0
/*
 * segv: dies of SIGSEGV the way a buggy program does, by writing through
 * a NULL pointer, for tests of crash reports.
 *
 * usage: segv
 */
#include <stddef.h>
#include <sys/resource.h>

int main(void)
{
	struct rlimit none = { 0, 0 };
	volatile int *null = NULL;

	setrlimit(RLIMIT_CORE, &none);	/* a crash, not a core file */
	*null = 1;
	return 1;
}

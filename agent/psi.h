/* SPDX-License-Identifier: GPL-2.0 */
/* Pressure stall information: the pressure files' text, and triggers. */
#ifndef KHEAL_PSI_H
#define KHEAL_PSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/*
 * The kernel's bounds on a trigger's window (kernel/sched/psi.c): a
 * trigger fires when tasks stalled for at least its stall time within
 * the last window, at most once per window.
 */
#define KHEAL_PSI_WINDOW_MIN_US	500000
#define KHEAL_PSI_WINDOW_MAX_US	10000000

/* A pressure file line: "some avg10=1.50 avg60=0.31 avg300=0.07 total=9" */
struct kheal_psi_line {
	double avg10, avg60, avg300;	/* percent */
	uint64_t total_us;		/* stalled, since boot */
};

struct kheal_psi {
	struct kheal_psi_line some;
	struct kheal_psi_line full;
	bool has_full;			/* /proc/pressure/cpu before 5.13 */
};

/*
 * Parses the text of a pressure file (/proc/pressure/memory, a cgroup's
 * memory.pressure). -EINVAL if it has no well-formed "some" line.
 */
int kheal_psi_parse(const char *text, struct kheal_psi *out);

/* Reads the pressure file open at @fd from its start, and parses it. */
int kheal_psi_read_fd(int fd, struct kheal_psi *out);

/* The same for @path, relative to @dirfd (or AT_FDCWD). */
int kheal_psi_read(int dirfd, const char *path, struct kheal_psi *out);

/*
 * The line as the kernel writes it, "some avg10=... total=N", or shorter
 * ("some avg10=... total=N" without avg60 and avg300) if @len is too
 * small for it. Returns the length, or -ENOSPC.
 */
int kheal_psi_format(const struct kheal_psi_line *l, char *buf, size_t len);

/*
 * Registers the trigger "some STALL_US WINDOW_US" on the pressure file
 * @path (relative to @dirfd, or AT_FDCWD): opens it read-write and
 * non-blocking, and writes the trigger with its terminating NUL (the
 * kernel overwrites the last byte it is given with one). The trigger
 * lives as long as the returned descriptor, which poll() reports with
 * POLLPRI when it fires, and with POLLERR once the file is gone (its
 * cgroup removed). -errno with @err naming the file and what to do.
 */
int kheal_psi_trigger_open(int dirfd, const char *path, uint32_t stall_us,
			   uint32_t window_us, struct kheal_err *err);

#endif

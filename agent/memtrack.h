/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The growth tracker: whose memory grew most over the last seconds, for
 * memory.kill_leaker to kill the leaker rather than the largest process.
 */
#ifndef KHEAL_MEMTRACK_H
#define KHEAL_MEMTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/kheal.h>

#include "err.h"

/* How often kheald --psi samples (the source's timer). */
#define KHEAL_MEMTRACK_SAMPLE_MS	250
/*
 * "Recent": growth is measured over this much of the past. Five trigger
 * windows: a leaker throttled at memory.high for a second or two still
 * shows its climb; a service that filled its cache before that does not.
 */
#define KHEAL_MEMTRACK_WINDOW_MS	5000
/* Kept per process, the lowest of each tenth of the window: the baselines. */
#define KHEAL_MEMTRACK_CHECKPOINTS	11
/* Beyond this many processes a sample is cut short, and says so. */
#define KHEAL_MEMTRACK_MAX_PROCS	8192
/* Growth below this is noise (page cache mapped in, a stack touched). */
#define KHEAL_MEMTRACK_LEAK_KB		1024
#define KHEAL_MEMTRACK_MAX_WATCHES	64

struct kheal_memtrack_sample {
	uint64_t at_ns;			/* the caller's clock */
	uint64_t kb;			/* resident and swapped */
};

struct kheal_memtrack_proc {
	pid_t pid;
	uint32_t cgroup;		/* index in the tracker's paths */
	uint64_t starttime;		/* /proc/PID/stat field 22: its identity */
	char comm[KHEAL_COMM_LEN];
	struct kheal_memtrack_sample last;
	/* Oldest first: when each tenth of the window began, its lowest. */
	struct kheal_memtrack_sample cp[KHEAL_MEMTRACK_CHECKPOINTS];
	unsigned int ncp;
};

/*
 * The processes of some cgroup subtrees ("/" for all of them), listed
 * from their cgroup.procs files and measured by /proc/PID/status (VmRSS
 * and VmSwap): counters the kernel keeps, read without walking page
 * tables (smaps_rollup does, a thousand times slower for a large
 * process). A sample costs an open and a read per process.
 */
/* A pid with no memory of its own: a kernel thread, or one exiting. */
struct kheal_memtrack_skip {
	pid_t pid;
	uint64_t at_ns;			/* when it was last read */
};

struct kheal_memtrack_watch {
	char *cgroup;
	uint64_t since_ns;		/* its first sample; 0: none yet */
};

struct kheal_memtrack {
	const char *proc_root;		/* "/proc"; kept, not copied */
	const char *cgroup_root;	/* the cgroup2 mount; kept */
	uint64_t window_ns;
	struct kheal_memtrack_watch watch[KHEAL_MEMTRACK_MAX_WATCHES];
	size_t nwatch;
	/* The last sample: processes sorted by pid, and their cgroups. */
	struct kheal_memtrack_proc *v;
	size_t n;
	char (*paths)[KHEAL_CGROUP_PATH_LEN];
	size_t npaths;
	/*
	 * Sorted by pid, read again only after a window: the root cgroup
	 * lists every kernel thread, which need not cost a read each sample.
	 */
	struct kheal_memtrack_skip *skip;
	size_t nskip;
	uint64_t last_ns;		/* last sample */
	bool truncated;			/* the last sample was cut short */
};

/* What kheal_memtrack_top() reports of a process. */
struct kheal_grower {
	pid_t pid;
	uint64_t starttime;
	char comm[KHEAL_COMM_LEN];
	char cgroup[KHEAL_CGROUP_PATH_LEN];
	uint64_t mem_kb;		/* resident and swapped, last sample */
	uint64_t growth_kb;		/* above its lowest in the window */
	uint64_t span_ms;		/* from its oldest sample in the window */
};

void kheal_memtrack_init(struct kheal_memtrack *t, const char *proc_root,
			 const char *cgroup_root, uint64_t window_ms);
void kheal_memtrack_free(struct kheal_memtrack *t);

/*
 * Tracks the subtree of @cgroup ("/a/b", or "/" for every process) from
 * the next sample on; one already covered adds nothing, and watches it
 * covers go. -ENOSPC beyond KHEAL_MEMTRACK_MAX_WATCHES, -ENOMEM.
 */
int kheal_memtrack_watch(struct kheal_memtrack *t, const char *cgroup,
			 struct kheal_err *err);



/*
 * Lists and measures the watched processes at @now_ns (any monotonic
 * clock, the same for every call). Processes that exit, and cgroups
 * that go, between listing and reading are skipped; kernel threads are
 * not tracked. -ENOMEM, else 0 (t->truncated tells a sample cut short).
 */
int kheal_memtrack_sample(struct kheal_memtrack *t, uint64_t now_ns,
			  struct kheal_err *err);

/*
 * Whether the tracker watches @cgroup's whole subtree, and has for at
 * least @min_span_ms of samples: enough to tell growth from size.
 */
bool kheal_memtrack_covers(const struct kheal_memtrack *t, const char *cgroup,
			   uint64_t min_span_ms);

/*
 * The processes of @cgroup's subtree ("/": all) at the last sample, the
 * most grown first (then the larger, then the lower pid), at most @n of
 * them into @out. Returns how many processes the subtree had.
 */
size_t kheal_memtrack_top(const struct kheal_memtrack *t, const char *cgroup,
			  struct kheal_grower *out, size_t n);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* The PSI event source: memory pressure triggers, and the growth tracker. */
#ifndef KHEAL_SOURCE_PSI_H
#define KHEAL_SOURCE_PSI_H

#include <sys/types.h>

#include "memtrack.h"
#include "psi.h"
#include "source.h"

/*
 * kheald numbers the triggers' events itself, as one stream of this
 * fixed instance that continues across restarts from the last psi seq
 * in the journal.
 */
#define KHEAL_SOURCE_PSI_INSTANCE	0

/* The trigger, "some 150000 1000000": 150 ms of stall within 1 s. */
#define KHEAL_PSI_STALL_MS_DEFAULT	150
#define KHEAL_PSI_WINDOW_MS_DEFAULT	1000

/*
 * What kheald --psi watches. The host's pressure (/proc/pressure/memory)
 * always; and the cgroups given (--psi-cgroup), or, when none is given,
 * every first-level cgroup under the cgroup2 root (on systemd hosts the
 * slices), found again each second as they come and go.
 */
struct kheal_psi_config {
	uint32_t stall_us;
	uint32_t window_us;
	const char *const *cgroups;
	size_t ncgroups;
	const char *cgroup_root;	/* NULL: no cgroup2: the host only */
	const char *proc_root;		/* "/proc" */
	pid_t self;			/* the agent */
	/*
	 * Sampled every KHEAL_MEMTRACK_SAMPLE_MS. Given empty, it tracks
	 * the cgroups given, or when none is, every process ("/").
	 */
	struct kheal_memtrack *memtrack;
};

extern const struct kheal_source_ops kheal_source_psi_ops;

/* A watch's stall totals, a sample apart; oldest first. */
#define KHEAL_PSI_HIST	(KHEAL_PSI_WINDOW_MAX_US / 1000 / \
			 KHEAL_MEMTRACK_SAMPLE_MS + 2)

struct kheal_psi_hist {
	struct {
		uint64_t at_ns;		/* CLOCK_MONOTONIC */
		uint64_t total_us;
	} v[KHEAL_PSI_HIST];
	unsigned int n;
};

void kheal_psi_hist_push(struct kheal_psi_hist *h, uint64_t at_ns,
			 uint64_t total_us);

/*
 * The stall time in the last @window_ns before @now_ns, when the total
 * is @total_now: counted from the newest entry at least @window_ns old,
 * else from the oldest; *@span_ns says over how long it was counted.
 */
uint64_t kheal_psi_hist_stall(const struct kheal_psi_hist *h, uint64_t now_ns,
			      uint64_t total_now, uint64_t window_ns,
			      uint64_t *span_ns);

/*
 * Whether the host's stall is explained by one watched cgroup: a memcg
 * at its limit stalls the host's pressure as much as its own, and
 * killing twice for one leak is what this prevents. The host is
 * reported only if it stalled @stall_us more than the most stalled
 * cgroup in the same window.
 */
bool kheal_psi_explained(uint64_t host_stall_us, uint64_t max_cgroup_stall_us,
			 uint32_t stall_us);

/*
 * The mem_pressure event of a trigger on @cgroup ("/" for the host), all
 * but its seq: warning, the "some" line and the top grower, if known
 * (@g, NULL if not), in its detail.
 */
void kheal_source_psi_event(struct kheal_event *ev, const char *cgroup,
			    uint64_t cgroup_id,
			    const struct kheal_psi_line *some,
			    const struct kheal_grower *g, uint64_t time_ns);

#endif

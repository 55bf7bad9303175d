/* SPDX-License-Identifier: GPL-2.0 */
/* Merging two sources: the same fault reported by both is kept once. */
#ifndef KHEAL_DEDUPE_H
#define KHEAL_DEDUPE_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "event.h"

/* Faults remembered at once; beyond, the oldest is forgotten. */
#define KHEAL_DEDUPE_SLOTS	256
/* The window is 2 x hung_ms, and never shorter than this. */
#define KHEAL_DEDUPE_MIN_WINDOW_MS	5000

struct kheal_dedupe_entry {
	bool used;
	bool absorbed;		/* a duplicate of it was dropped already */
	uint32_t kind;
	uint32_t pid;
	uint64_t time_ns;
	struct kheal_seq_id id;	/* the event reported */
};

struct kheal_dedupe {
	uint64_t window_ns;
	struct kheal_dedupe_entry e[KHEAL_DEDUPE_SLOTS];
};

/* The window for a hung-task threshold of @hung_ms. */
uint64_t kheal_dedupe_window_ms(uint32_t hung_ms);

void kheal_dedupe_init(struct kheal_dedupe *d, uint64_t window_ms);

/*
 * Is @ev a fault the other source reported first? True: @ev is to be
 * dropped, and *into names the event it duplicates. False: @ev is to be
 * reported, and is remembered.
 *
 * Only hung_task, hung_task_resolved and oom_kill with a pid take part.
 * @ev duplicates the last reported event of the same kind and pid if
 * that came from the other source, at most the window apart in time_ns
 * (either way), and has not absorbed a duplicate yet: each report pairs
 * with at most one from the other source, so the second episode of a
 * fault is not taken for an echo of the first. Two events of the same
 * source are never duplicates of each other: that source tells its own
 * episodes apart.
 */
bool kheal_dedupe_check(struct kheal_dedupe *d, const struct kheal_event *ev,
			struct kheal_seq_id *into);

/*
 * Remembers what the journal at @path says near its end, as if kheald
 * had not restarted: each event journalled within the window of the
 * latest one goes through kheal_dedupe_check() in journal order, and
 * each merged record marks the event it names as having absorbed its
 * duplicate. Events later than @now_ns (CLOCK_BOOTTIME) are from an
 * earlier boot, whose clock means nothing now: they are left out.
 * Returns the number of events fed, or -errno naming the journal and
 * the record.
 */
int kheal_dedupe_load_journal(struct kheal_dedupe *d, const char *path,
			      uint64_t now_ns, struct kheal_err *err);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * Merging the kmod and BPF sources (kheald --engine=both): both see the
 * same hung tasks and OOM kills, each in its own time. The first report
 * of a fault wins; the other one's is dropped. See dedupe.h for the rule.
 */
#include <string.h>

#include "dedupe.h"

#define NSEC_PER_MSEC	1000000ULL

uint64_t kheal_dedupe_window_ms(uint32_t hung_ms)
{
	uint64_t ms = 2ULL * hung_ms;

	return ms > KHEAL_DEDUPE_MIN_WINDOW_MS ? ms :
	       KHEAL_DEDUPE_MIN_WINDOW_MS;
}

void kheal_dedupe_init(struct kheal_dedupe *d, uint64_t window_ms)
{
	memset(d, 0, sizeof(*d));
	d->window_ns = window_ms * NSEC_PER_MSEC;
}

static bool takes_part(const struct kheal_event *ev)
{
	if (!kheal_event_has(ev, KHEAL_A_PID))
		return false;
	switch (ev->kind) {
	case KHEAL_EVENT_HUNG_TASK:
	case KHEAL_EVENT_HUNG_TASK_RESOLVED:
	case KHEAL_EVENT_OOM_KILL:
		return true;
	default:
		return false;
	}
}

static uint64_t distance(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

/* The entry of (kind, pid), else a free one, else the oldest. */
static struct kheal_dedupe_entry *slot(struct kheal_dedupe *d,
				       const struct kheal_event *ev)
{
	struct kheal_dedupe_entry *e, *free = NULL, *oldest = NULL;

	for (e = d->e; e < d->e + KHEAL_DEDUPE_SLOTS; e++) {
		if (!e->used) {
			free = free ? free : e;
			continue;
		}
		if (e->kind == ev->kind && e->pid == ev->pid)
			return e;
		if (!oldest || e->time_ns < oldest->time_ns)
			oldest = e;
	}
	return free ? free : oldest;
}

bool kheal_dedupe_check(struct kheal_dedupe *d, const struct kheal_event *ev,
			struct kheal_seq_id *into)
{
	struct kheal_dedupe_entry *e;

	if (!takes_part(ev))
		return false;
	e = slot(d, ev);
	if (e->used && e->kind == ev->kind && e->pid == ev->pid &&
	    e->id.source != ev->source && !e->absorbed &&
	    distance(e->time_ns, ev->time_ns) <= d->window_ns) {
		e->absorbed = true;
		*into = e->id;
		return true;
	}
	*e = (struct kheal_dedupe_entry){
		.used = true,
		.kind = ev->kind,
		.pid = ev->pid,
		.time_ns = ev->time_ns,
		.id = {
			.source = ev->source,
			.instance = ev->instance,
			.seq = ev->seq,
		},
	};
	return false;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Merging the kmod and BPF sources (kheald --engine=both): both see the
 * same hung tasks and OOM kills, each in its own time. The first report
 * of a fault wins; the other one's is dropped. See dedupe.h for the rule.
 */
#include <inttypes.h>
#include <string.h>

#include "dedupe.h"
#include "journal.h"
#include "record.h"

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

/* The entry of the reported event @into has absorbed its duplicate. */
static void absorb(struct kheal_dedupe *d, const struct kheal_seq_id *into)
{
	struct kheal_dedupe_entry *e;

	for (e = d->e; e < d->e + KHEAL_DEDUPE_SLOTS; e++)
		if (e->used && e->id.source == into->source &&
		    e->id.instance == into->instance && e->id.seq == into->seq)
			e->absorbed = true;
}

/* A range of time_ns: [from, to]. */
struct span {
	uint64_t from, to;
};

/*
 * One record. Without @d, keeps in *@last the latest time_ns of an event
 * of this boot (not after @now_ns). With @d, feeds it the events of this
 * boot in @in (1: one fed), and the merged records.
 */
static int feed(struct kheal_dedupe *d, const Kheal__Record *rec,
		uint64_t now_ns, const struct span *in, uint64_t *last,
		struct kheal_err *err)
{
	const Kheal__Event *pe = rec->event;
	struct kheal_seq_id into;
	struct kheal_merged m;
	struct kheal_event ev;
	int ret;

	if (rec->body_case == KHEAL__RECORD__BODY_MERGED && d) {
		kheal_record_to_merged(rec->merged, &m);
		absorb(d, &m.into);
		return 0;
	}
	if (rec->body_case != KHEAL__RECORD__BODY_EVENT ||
	    !pe->has_time_ns || pe->time_ns > now_ns)
		return 0;
	if (!d) {
		if (pe->time_ns > *last)
			*last = pe->time_ns;
		return 0;
	}
	if (pe->time_ns < in->from || pe->time_ns > in->to)
		return 0;
	ret = kheal_record_to_event(pe, &ev, err);
	if (ret)
		return ret;
	kheal_dedupe_check(d, &ev, &into);
	return 1;
}

/* feed() for each record of the journal: how many events were fed. */
static int replay(struct kheal_dedupe *d, const char *path, uint64_t now_ns,
		  const struct span *in, uint64_t *last, struct kheal_err *err)
{
	struct kheal_journal_iter it;
	Kheal__Record *rec;
	int ret, n = 0;

	ret = kheal_journal_iter_open(&it, path, err);
	if (ret)
		return kheal_err_wrap(err, ret, "journal");
	while ((ret = kheal_journal_iter_next(&it, &rec, err)) > 0) {
		ret = feed(d, rec, now_ns, in, last, err);
		kheal__record__free_unpacked(rec, NULL);
		if (ret < 0) {
			kheal_err_wrap(err, ret, "record at offset %" PRIu64,
				       it.rec_off);
			break;
		}
		n += ret;
	}
	kheal_journal_iter_close(&it);
	if (ret < 0)
		return kheal_err_wrap(err, ret, "journal %s", path);
	return n;
}

int kheal_dedupe_load_journal(struct kheal_dedupe *d, const char *path,
			      uint64_t now_ns, struct kheal_err *err)
{
	uint64_t last = 0;
	struct span in;
	int ret;

	ret = replay(NULL, path, now_ns, NULL, &last, err);
	if (ret < 0 || !last)
		return ret;
	in.to = last;
	in.from = last > d->window_ns ? last - d->window_ns : 0;
	return replay(d, path, now_ns, &in, &last, err);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Diagnosis rules. Each takes some event kinds, looks at the trigger, the
 * context gathered when the incident opened and the recent events, and
 * names a cause. Confidence is built from evidence: a rule starts from
 * what the event alone proves and adds for each independent piece that
 * confirms it, so an operator reading the evidence lines can redo the sum.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "diagnose.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define KIND(k)		(1U << KHEAL_EVENT_##k)

/* Crashes of one command within the recent window that make a loop. */
#define CRASH_LOOP	3

static void cause(struct kheal_diagnosis *d, double confidence,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void cause(struct kheal_diagnosis *d, double confidence,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->cause, sizeof(d->cause), fmt, ap);
	va_end(ap);
	d->confidence = confidence;
}

static void evidence(struct kheal_diagnosis *d, double add,
		     const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* One line of evidence, and what it adds to the confidence. */
static void evidence(struct kheal_diagnosis *d, double add,
		     const char *fmt, ...)
{
	char *line;
	va_list ap;
	int n;

	/* In hundredths, so that 0.7 + 0.2 is the 0.9 a runbook gates on. */
	d->confidence = (double)(long)((d->confidence + add) * 100 + 0.5) / 100;
	if (d->confidence > 1.0)
		d->confidence = 1.0;
	if (d->nevidence == KHEAL_DIAG_MAX_EVIDENCE)
		return;
	line = d->evidence[d->nevidence++];
	va_start(ap, fmt);
	n = vsnprintf(line, KHEAL_DIAG_EVIDENCE_LEN, fmt, ap);
	va_end(ap);
	if (add > 0 && n >= 0 && (size_t)n < KHEAL_DIAG_EVIDENCE_LEN - 8)
		snprintf(line + n, KHEAL_DIAG_EVIDENCE_LEN - n, " (+%.2f)",
			 add);
}

static bool has(const struct kheal_event *ev, int attr)
{
	return kheal_event_has(ev, attr);
}

static bool in_cgroup(const struct kheal_event *ev)
{
	return has(ev, KHEAL_A_CGROUP_PATH) && ev->cgroup_path[0] &&
	       strcmp(ev->cgroup_path, "/");
}

/* The first frame that says where a task waits: from the event or /proc. */
static const char *wait_site(const struct kheal_diag_input *in)
{
	const Kheal__Context *c = in->ctx;

	if (in->ev->nstack)
		return in->ev->stack[0];
	if (c && c->wchan && c->wchan[0] && strcmp(c->wchan, "0"))
		return c->wchan;
	if (c && c->n_stack)
		return c->stack[0];
	return NULL;
}

/* Other tasks of @ev's cgroup that hung in the window. */
static size_t hung_siblings(const struct kheal_diag_input *in)
{
	const struct kheal_event *e;
	size_t i, n = 0;

	for (i = 0; i < in->nrecent; i++) {
		e = in->recent[i];
		if (e->kind == KHEAL_EVENT_HUNG_TASK && e->pid != in->ev->pid &&
		    has(e, KHEAL_A_CGROUP_PATH) &&
		    !strcmp(e->cgroup_path, in->ev->cgroup_path))
			n++;
	}
	return n;
}

/*
 * A task in D state. Inside a service's cgroup the service is wedged
 * behind it (0.7); knowing where it waits (+0.2) and seeing other tasks
 * of the cgroup stuck too, or the hang lasting long (+0.1), confirm it.
 */
static void hung_task(const struct kheal_diag_input *in,
		      struct kheal_diagnosis *d)
{
	const struct kheal_event *ev = in->ev;
	const char *site = wait_site(in);
	size_t siblings;

	if (!in_cgroup(ev)) {
		cause(d, 0.5,
		      "%s[%" PRIu32 "] is stuck in uninterruptible sleep outside any service's cgroup",
		      ev->comm, ev->pid);
		evidence(d, 0, "cgroup: %s",
			 has(ev, KHEAL_A_CGROUP_PATH) ? ev->cgroup_path :
							"unknown");
		if (site)
			evidence(d, 0.1, "waits in %s", site);
		return;
	}
	cause(d, 0.7,
	      "%s[%" PRIu32 "] is stuck in uninterruptible sleep; the service in %s is wedged behind it",
	      ev->comm, ev->pid, ev->cgroup_path);
	if (has(ev, KHEAL_A_DURATION_MS))
		evidence(d, 0, "in D state for %" PRIu64 " ms", ev->duration_ms);
	if (site)
		evidence(d, 0.2, "waits in %s", site);
	if (in->ctx && in->ctx->task_state)
		evidence(d, 0, "/proc state: %s", in->ctx->task_state);
	if (in->ctx && in->ctx->has_cgroup_procs)
		evidence(d, 0, "%s holds %" PRIu32 " processes", ev->cgroup_path,
			 in->ctx->cgroup_procs);
	siblings = hung_siblings(in);
	if (siblings)
		evidence(d, 0.1, "%zu other tasks of %s hung in the window",
			 siblings, ev->cgroup_path);
	else if (has(ev, KHEAL_A_DURATION_MS) && ev->duration_ms >= 60000)
		evidence(d, 0.1, "hung for over a minute");
}

static void oom_kill(const struct kheal_diag_input *in,
		     struct kheal_diagnosis *d)
{
	const struct kheal_event *ev = in->ev;

	if (has(ev, KHEAL_A_OOM_CONSTRAINT) &&
	    ev->oom_constraint == KHEAL_OOM_MEMCG && in_cgroup(ev)) {
		cause(d, 0.85, "%s reached its memory limit; the OOM killer killed %s[%" PRIu32 "]",
		      ev->cgroup_path, ev->comm, ev->pid);
		evidence(d, 0, "constraint: memcg");
	} else {
		cause(d, 0.85, "the host ran out of memory; the OOM killer killed %s[%" PRIu32 "]",
		      ev->comm, ev->pid);
		evidence(d, 0, "constraint: %s",
			 has(ev, KHEAL_A_OOM_CONSTRAINT) ?
			 kheal_oom_constraint_name(ev->oom_constraint) :
			 "unknown");
	}
	if (has(ev, KHEAL_A_RSS_KB))
		evidence(d, 0.1, "victim RSS %" PRIu64 " kB", ev->rss_kb);
	if (in->ctx && in->ctx->cgroup_memory)
		evidence(d, 0, "cgroup memory: %s", in->ctx->cgroup_memory);
}

static void task_crash(const struct kheal_diag_input *in,
		       struct kheal_diagnosis *d)
{
	const struct kheal_event *ev = in->ev;
	size_t i, n = 0;

	for (i = 0; i < in->nrecent; i++)
		if (in->recent[i]->kind == KHEAL_EVENT_TASK_CRASH &&
		    !strcmp(in->recent[i]->comm, ev->comm))
			n++;
	if (n >= CRASH_LOOP) {
		cause(d, 0.8, "%s is in a crash loop", ev->comm);
		evidence(d, 0.1, "%zu crashes of %s in the window", n,
			 ev->comm);
	} else {
		cause(d, 0.7, "%s[%" PRIu32 "] died of signal %" PRIu32,
		      ev->comm, ev->pid, ev->signal);
	}
	if (has(ev, KHEAL_A_SIGNAL))
		evidence(d, 0, "signal %" PRIu32, ev->signal);
}

/* The top grower the PSI source names in its detail (source_psi.h). */
struct grower {
	unsigned int pid;
	uint64_t kb, ms;
	char comm[KHEAL_COMM_LEN];
};

static bool top_grower(const struct kheal_event *ev, struct grower *g)
{
	const char *s = has(ev, KHEAL_A_DETAIL) ?
			strstr(ev->detail, "top grower pid ") : NULL;

	return s && sscanf(s, "top grower pid %u +%" SCNu64 " kB in %" SCNu64
			   " ms: %15[^\n]", &g->pid, &g->kb, &g->ms,
			   g->comm) == 4;
}

/*
 * Tasks stall on memory (0.6). A process that grew more than any other
 * of the domain in the last seconds, named by the event, makes it a
 * leak (+0.2); the pressure files confirm the stall (+0.1).
 */
static void mem_pressure(const struct kheal_diag_input *in,
			 struct kheal_diagnosis *d)
{
	const struct kheal_event *ev = in->ev;
	struct grower g;

	if (top_grower(ev, &g)) {
		cause(d, 0.6, "%s[%u] leaks: it grew %" PRIu64 " kB in %" PRIu64 " ms, more than any other process of %s, which stalls on memory",
		      g.comm, g.pid, g.kb, g.ms, in->subsystem);
		evidence(d, 0.2, "top grower %s[%u]: +%" PRIu64 " kB in %" PRIu64 " ms",
			 g.comm, g.pid, g.kb, g.ms);
	} else {
		cause(d, 0.6, "memory pressure on %s", in->subsystem);
	}
	if (has(ev, KHEAL_A_DETAIL))
		evidence(d, 0, "trigger: %s", ev->detail);
	if (in->ctx && in->ctx->psi_memory)
		evidence(d, 0.1, "psi: %.100s", in->ctx->psi_memory);
	if (in->ctx && in->ctx->cgroup_memory)
		evidence(d, 0, "cgroup memory: %s", in->ctx->cgroup_memory);
}

static void netdev(const struct kheal_diag_input *in,
		   struct kheal_diagnosis *d)
{
	const struct kheal_event *ev = in->ev;

	if (ev->kind == KHEAL_EVENT_NETDEV_TX_TIMEOUT)
		cause(d, 0.8, "%s stopped transmitting (TX queue %" PRIu32 " timed out)",
		      ev->dev, ev->queue);
	else
		cause(d, 0.8, "%s lost its carrier", ev->dev);
	if (has(ev, KHEAL_A_DETAIL))
		evidence(d, 0, "%s", ev->detail);
}

static void block(const struct kheal_diag_input *in,
		  struct kheal_diagnosis *d)
{
	const struct kheal_event *ev = in->ev;
	size_t i, n = 0;

	if (ev->kind == KHEAL_EVENT_DISK_STALL) {
		cause(d, 0.6, "%s answers I/O slowly (%" PRIu64 " ms)", ev->dev,
		      ev->duration_ms);
	} else {
		cause(d, 0.7, "%s fails I/O (errno %" PRIu32 ")", ev->dev,
		      ev->errnum);
	}
	for (i = 0; i < in->nrecent; i++)
		if (in->recent[i]->kind == ev->kind &&
		    !strcmp(in->recent[i]->dev, ev->dev))
			n++;
	if (n > 1)
		evidence(d, 0.2, "%zu such events on %s in the window", n,
			 ev->dev);
}

static void kernel(const struct kheal_diag_input *in,
		   struct kheal_diagnosis *d)
{
	const char *kind = kheal_kind_name(in->ev->kind);

	cause(d, 0.9, "the kernel reported a %s", kind ? kind : "fault");
	if (has(in->ev, KHEAL_A_DETAIL))
		evidence(d, 0, "%s", in->ev->detail);
}

static void unclassified(const struct kheal_diag_input *in,
			 struct kheal_diagnosis *d)
{
	const char *kind = kheal_kind_name(in->ev->kind);

	cause(d, 0.3, "%s on %s; no rule knows it", kind ? kind : "an event",
	      in->subsystem);
}

static const struct rule {
	const char *name;
	uint32_t kinds;			/* 0: any */
	void (*fn)(const struct kheal_diag_input *in,
		   struct kheal_diagnosis *d);
} rules[] = {
	{ "hung-task", KIND(HUNG_TASK), hung_task },
	{ "oom-kill", KIND(OOM_KILL), oom_kill },
	{ "task-crash", KIND(TASK_CRASH), task_crash },
	{ "mem-pressure", KIND(MEM_PRESSURE), mem_pressure },
	{ "netdev", KIND(NETDEV_TX_TIMEOUT) | KIND(NETDEV_CARRIER), netdev },
	{ "block", KIND(BLOCK_IO_ERROR) | KIND(DISK_STALL), block },
	{ "kernel", KIND(SOFT_LOCKUP) | KIND(RCU_STALL) | KIND(OOPS), kernel },
	{ "unclassified", 0, unclassified },
};

void kheal_diagnose(const struct kheal_diag_input *in,
		    struct kheal_diagnosis *out)
{
	const struct rule *r;
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < ARRAY_SIZE(rules); i++) {
		r = &rules[i];
		if (r->kinds && !(in->ev->kind < 32 &&
				  (r->kinds & (1U << in->ev->kind))))
			continue;
		out->rule = r->name;
		r->fn(in, out);
		return;
	}
}

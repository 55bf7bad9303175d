// SPDX-License-Identifier: GPL-2.0
/*
 * The event backlog: a ring of the most recent events that gives every
 * event its gap-free sequence number, feeds the multicast sender and
 * answers GET_EVENTS, so a late or restarted listener loses nothing.
 *
 * Events are emitted from any context (tracepoint probes hold spinlocks),
 * so emission only copies into the ring under a spinlock and kicks a work
 * item; the work item multicasts in process context, in sequence order.
 */
#include <linux/spinlock.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <linux/timekeeping.h>
#include <linux/percpu.h>
#include <linux/string.h>
#include <linux/cgroup.h>

#include "kheal.h"

static struct {
	spinlock_t lock;		/* protects everything below */
	struct kheal_event *ring;
	u32 size;
	u64 head;			/* last seq assigned */
	u64 sent;			/* last seq handed to the sender */
	u64 dropped;
	u64 mcast_failed;
	bool stopping;
} kheal_bl = {
	.lock = __SPIN_LOCK_UNLOCKED(kheal_bl.lock),
};

static void kheal_send_work_fn(struct work_struct *work);
static DECLARE_WORK(kheal_send_work, kheal_send_work_fn);

/* Scratch events for detectors; used with local interrupts disabled. */
static DEFINE_PER_CPU(struct kheal_event, kheal_scratch);

static u64 kheal_oldest_locked(void)
{
	if (!kheal_bl.head)
		return 0;
	if (kheal_bl.head <= kheal_bl.size)
		return 1;
	return kheal_bl.head - kheal_bl.size + 1;
}

static struct kheal_event *kheal_slot(u64 seq)
{
	return &kheal_bl.ring[(seq - 1) % kheal_bl.size];
}

/**
 * kheal_event_begin() - start an event in this CPU's scratch buffer
 * @kind: enum kheal_event_kind
 * @severity: enum kheal_severity
 * @subsys: subsystem name
 * @flags: saved interrupt state, to hand to kheal_event_commit()
 *
 * Callable from any context but NMI. Interrupts stay disabled until
 * kheal_event_commit(), so the caller must not sleep in between.
 *
 * Return: the zeroed event to fill in.
 */
struct kheal_event *kheal_event_begin(u32 kind, u32 severity,
				      const char *subsys,
				      unsigned long *flags)
{
	struct kheal_event *ev;

	local_irq_save(*flags);
	ev = this_cpu_ptr(&kheal_scratch);
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->severity = severity;
	strscpy(ev->subsys, subsys, sizeof(ev->subsys));
	return ev;
}

/**
 * kheal_event_set_task() - fill in who an event is about
 * @ev: event being built
 * @t: the task; the caller keeps it alive (RCU or a reference)
 *
 * Does not take task_lock(): the OOM probe runs with it held.
 */
void kheal_event_set_task(struct kheal_event *ev, struct task_struct *t)
{
	struct cgroup *cgrp;

	ev->present |= KHEAL_F_PID | KHEAL_F_COMM | KHEAL_F_CGROUP;
	ev->pid = task_pid_nr(t);
	ev->tgid = task_tgid_nr(t);
	strscpy(ev->comm, t->comm, sizeof(ev->comm));

	rcu_read_lock();
	cgrp = task_dfl_cgroup(t);
	ev->cgroup_id = cgroup_id(cgrp);
	if (cgroup_path(cgrp, ev->cgroup_path, sizeof(ev->cgroup_path)) < 0)
		strscpy(ev->cgroup_path, "?", sizeof(ev->cgroup_path));
	rcu_read_unlock();
}

/**
 * kheal_event_commit() - number an event, store it and schedule its send
 * @det: detector to credit, or NULL for injected events
 * @ev: event from kheal_event_begin()
 * @flags: interrupt state from kheal_event_begin()
 *
 * Events emitted while the module unloads are discarded.
 */
void kheal_event_commit(struct kheal_detector *det, struct kheal_event *ev,
			unsigned long flags)
{
	bool kick = false;

	spin_lock(&kheal_bl.lock);
	if (!kheal_bl.stopping) {
		ev->seq = ++kheal_bl.head;
		ev->time_ns = ktime_get_boottime_ns();
		memcpy(kheal_slot(ev->seq), ev, sizeof(*ev));
		kick = true;
	}
	spin_unlock(&kheal_bl.lock);
	local_irq_restore(flags);

	if (!kick)
		return;
	if (det)
		atomic64_inc(&det->events);
	queue_work(system_unbound_wq, &kheal_send_work);
}

/*
 * Hands the next unsent event to the sender. Events the ring overwrote
 * before they could be sent are counted as dropped; listeners see the gap.
 */
static bool kheal_next_unsent(struct kheal_event *out)
{
	unsigned long flags;
	bool more = false;
	u64 oldest;

	spin_lock_irqsave(&kheal_bl.lock, flags);
	if (kheal_bl.sent < kheal_bl.head) {
		oldest = kheal_oldest_locked();
		if (kheal_bl.sent + 1 < oldest) {
			kheal_bl.dropped += oldest - 1 - kheal_bl.sent;
			kheal_bl.sent = oldest - 1;
		}
		memcpy(out, kheal_slot(++kheal_bl.sent), sizeof(*out));
		more = true;
	}
	spin_unlock_irqrestore(&kheal_bl.lock, flags);
	return more;
}

static void kheal_send_work_fn(struct work_struct *work)
{
	struct kheal_event ev;

	while (kheal_next_unsent(&ev)) {
		kheal_netlink_send(&ev);
		cond_resched();
	}
}

/**
 * kheal_backlog_next() - copy the first backlog event after a sequence
 * @after: return the oldest held event whose seq is greater than this
 * @out: where to copy it
 *
 * If events after @after were already overwritten, the returned event's
 * seq is greater than @after + 1: the caller sees the loss.
 *
 * Return: 0, or -ENOENT when no such event is held.
 */
int kheal_backlog_next(u64 after, struct kheal_event *out)
{
	unsigned long flags;
	int ret = -ENOENT;
	u64 seq;

	spin_lock_irqsave(&kheal_bl.lock, flags);
	seq = max(after + 1, kheal_oldest_locked());
	if (kheal_bl.head && seq <= kheal_bl.head) {
		memcpy(out, kheal_slot(seq), sizeof(*out));
		ret = 0;
	}
	spin_unlock_irqrestore(&kheal_bl.lock, flags);
	return ret;
}

/**
 * kheal_backlog_unsent() - events stored but not yet multicast
 *
 * Return: the count.
 */
u64 kheal_backlog_unsent(void)
{
	unsigned long flags;
	u64 n;

	spin_lock_irqsave(&kheal_bl.lock, flags);
	n = kheal_bl.head - kheal_bl.sent;
	spin_unlock_irqrestore(&kheal_bl.lock, flags);
	return n;
}

/**
 * kheal_backlog_flush() - wait until every stored event has been sent
 *
 * Lets a bulk producer pace itself to the sender instead of overrunning
 * the ring. Process context only.
 */
void kheal_backlog_flush(void)
{
	flush_work(&kheal_send_work);
}

/**
 * kheal_backlog_count_mcast_failed() - note a multicast a listener missed
 */
void kheal_backlog_count_mcast_failed(void)
{
	unsigned long flags;

	spin_lock_irqsave(&kheal_bl.lock, flags);
	kheal_bl.mcast_failed++;
	spin_unlock_irqrestore(&kheal_bl.lock, flags);
}

/**
 * kheal_backlog_stats() - snapshot the counters for GET_STATUS
 * @st: filled in
 */
void kheal_backlog_stats(struct kheal_backlog_stats *st)
{
	unsigned long flags;

	spin_lock_irqsave(&kheal_bl.lock, flags);
	st->head = kheal_bl.head;
	st->oldest = kheal_oldest_locked();
	st->size = kheal_bl.size;
	st->emitted = kheal_bl.head;
	st->dropped = kheal_bl.dropped;
	st->mcast_failed = kheal_bl.mcast_failed;
	spin_unlock_irqrestore(&kheal_bl.lock, flags);
}

/**
 * kheal_backlog_init() - allocate the ring
 * @size: capacity in events
 *
 * Return: 0 or -ENOMEM.
 */
int kheal_backlog_init(unsigned int size)
{
	kheal_bl.ring = vzalloc(array_size(size, sizeof(*kheal_bl.ring)));
	if (!kheal_bl.ring)
		return -ENOMEM;
	kheal_bl.size = size;
	return 0;
}

/**
 * kheal_backlog_exit() - refuse new events and send the ones stored
 *
 * Called after every producer has stopped and before the family goes;
 * the ring stays readable until kheal_backlog_free().
 */
void kheal_backlog_exit(void)
{
	unsigned long flags;

	spin_lock_irqsave(&kheal_bl.lock, flags);
	kheal_bl.stopping = true;
	spin_unlock_irqrestore(&kheal_bl.lock, flags);
	flush_work(&kheal_send_work);
}

/**
 * kheal_backlog_free() - free the ring once nothing can read it
 */
void kheal_backlog_free(void)
{
	vfree(kheal_bl.ring);
	kheal_bl.ring = NULL;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Hung-task detector: reports a task that stays in uninterruptible sleep
 * without a context switch for longer than hung_ms, once per episode, and
 * reports the episode resolved when the task runs again or exits.
 *
 * khungtaskd cannot go below one second and checks once per timeout, so
 * an episode can go unseen for up to twice the timeout. This scanner runs
 * several times per threshold and remembers each D-state task it saw.
 */
#include <linux/hashtable.h>
#include <linux/mutex.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "kheal.h"

#define KHEAL_HUNG_HASH_BITS	8
#define KHEAL_HUNG_SCANS	5	/* scans per threshold */
#define KHEAL_HUNG_MIN_TICK_MS	20
#define KHEAL_HUNG_MAX_TICK_MS	1000
#define KHEAL_HUNG_BATCH	1024	/* tasks between RCU lock breaks */

/* One task seen in D state, and the episode it is in. */
struct kheal_hung_task {
	struct hlist_node node;
	pid_t pid;
	pid_t tgid;
	u64 start_time;		/* tells a reused pid apart */
	unsigned long switches;	/* nvcsw + nivcsw when the episode began */
	u64 onset_ns;		/* first scan that saw this episode */
	u64 seen;		/* last scan generation that saw it in D */
	bool reported;
	char comm[KHEAL_COMM_LEN];
};

/* Only the scan work and start/stop touch these; the work is serialised. */
static DEFINE_HASHTABLE(kheal_hung_tasks, KHEAL_HUNG_HASH_BITS);
static struct kmem_cache *kheal_hung_cache;
static u64 kheal_hung_gen;

static DEFINE_MUTEX(kheal_hung_lock);	/* orders rescan against stop */
static bool kheal_hung_running;

static void kheal_hung_scan(struct work_struct *work);
static DECLARE_DELAYED_WORK(kheal_hung_work, kheal_hung_scan);

static unsigned long kheal_hung_tick(void)
{
	unsigned int ms = READ_ONCE(kheal_hung_ms) / KHEAL_HUNG_SCANS;

	ms = clamp_t(unsigned int, ms, KHEAL_HUNG_MIN_TICK_MS,
		     KHEAL_HUNG_MAX_TICK_MS);
	return msecs_to_jiffies(ms);
}

/*
 * The states khungtaskd watches: uninterruptible, but neither killable
 * (a kill ends the wait) nor TASK_IDLE (genuinely idle kernel threads).
 */
static bool kheal_hung_state(unsigned int state)
{
	return (state & TASK_UNINTERRUPTIBLE) && !(state & TASK_WAKEKILL) &&
	       !(state & TASK_NOLOAD);
}

static struct kheal_hung_task *kheal_hung_find(pid_t pid)
{
	struct kheal_hung_task *h;

	hash_for_each_possible(kheal_hung_tasks, h, node, pid)
		if (h->pid == pid)
			return h;
	return NULL;
}

static void kheal_hung_begin_episode(struct kheal_hung_task *h,
				     struct task_struct *t,
				     unsigned long switches, u64 now)
{
	h->tgid = t->tgid;
	h->start_time = t->start_time;
	h->switches = switches;
	h->onset_ns = now;
	h->reported = false;
	strscpy(h->comm, t->comm, sizeof(h->comm));
}

static void kheal_hung_report(struct kheal_hung_task *h,
			      struct task_struct *t, u64 now)
{
	u64 cp = kheal_checkpoint_take(t, KHEAL_CP_ALL, NULL);
	struct kheal_event *ev;
	unsigned long flags;

	ev = kheal_event_begin(KHEAL_EVENT_HUNG_TASK, KHEAL_SEV_WARNING,
			       "task", &flags);
	kheal_event_set_task(ev, t);
	kheal_event_set_checkpoint(ev, cp);
	ev->present |= KHEAL_F_DURATION;
	ev->duration_ms = div_u64(now - h->onset_ns, NSEC_PER_MSEC);
	h->reported = true;
	kheal_event_commit(&kheal_hung_detector, ev, flags);
}

/* The task ran again or exited: it may be gone, so use what was saved. */
static void kheal_hung_report_resolved(struct kheal_hung_task *h, u64 now)
{
	struct kheal_event *ev;
	unsigned long flags;

	ev = kheal_event_begin(KHEAL_EVENT_HUNG_TASK_RESOLVED, KHEAL_SEV_INFO,
			       "task", &flags);
	ev->present |= KHEAL_F_PID | KHEAL_F_COMM | KHEAL_F_DURATION;
	ev->pid = h->pid;
	ev->tgid = h->tgid;
	strscpy(ev->comm, h->comm, sizeof(ev->comm));
	ev->duration_ms = div_u64(now - h->onset_ns, NSEC_PER_MSEC);
	kheal_event_commit(&kheal_hung_detector, ev, flags);
}

/* Called under rcu_read_lock() for every task in TASK_UNINTERRUPTIBLE. */
static void kheal_hung_check(struct task_struct *t, u64 now, u64 threshold)
{
	unsigned long switches = t->nvcsw + t->nivcsw;
	struct kheal_hung_task *h = kheal_hung_find(t->pid);

	if (h && (h->start_time != t->start_time || h->switches != switches)) {
		if (h->reported)
			kheal_hung_report_resolved(h, now);
		kheal_hung_begin_episode(h, t, switches, now);
	}
	if (!h) {
		h = kmem_cache_zalloc(kheal_hung_cache,
				      GFP_ATOMIC | __GFP_NOWARN);
		if (!h)
			return;	/* seen again at the next scan */
		h->pid = t->pid;
		kheal_hung_begin_episode(h, t, switches, now);
		hash_add(kheal_hung_tasks, &h->node, h->pid);
	}
	h->seen = kheal_hung_gen;
	if (!h->reported && now - h->onset_ns >= threshold)
		kheal_hung_report(h, t, now);
}

/*
 * Lets other work run during a long walk, as khungtaskd does. Return:
 * false when @g or @t died meanwhile and the walk cannot continue.
 */
static bool kheal_hung_lock_break(struct task_struct *g, struct task_struct *t)
{
	bool alive;

	get_task_struct(g);
	get_task_struct(t);
	rcu_read_unlock();
	cond_resched();
	rcu_read_lock();
	alive = pid_alive(g) && pid_alive(t);
	put_task_struct(t);
	put_task_struct(g);
	return alive;
}

/* Ends the episodes of tasks this scan no longer saw in D state. */
static void kheal_hung_sweep(u64 now)
{
	struct kheal_hung_task *h;
	struct hlist_node *tmp;
	int bkt;

	hash_for_each_safe(kheal_hung_tasks, bkt, tmp, h, node) {
		if (h->seen == kheal_hung_gen)
			continue;
		if (h->reported)
			kheal_hung_report_resolved(h, now);
		hash_del(&h->node);
		kmem_cache_free(kheal_hung_cache, h);
	}
}

static void kheal_hung_scan(struct work_struct *work)
{
	u64 threshold = (u64)READ_ONCE(kheal_hung_ms) * NSEC_PER_MSEC;
	unsigned int batch = KHEAL_HUNG_BATCH;
	struct task_struct *g, *t;
	bool complete = true;
	u64 now;

	kheal_hung_gen++;
	rcu_read_lock();
	for_each_process_thread(g, t) {
		if (!--batch) {
			batch = KHEAL_HUNG_BATCH;
			if (!kheal_hung_lock_break(g, t)) {
				complete = false;
				goto unlock;
			}
		}
		if (!kheal_hung_state(READ_ONCE(t->__state)))
			continue;
		now = ktime_get_boottime_ns();
		kheal_hung_check(t, now, threshold);
	}
unlock:
	rcu_read_unlock();

	/* An interrupted walk did not see every task: sweep nothing. */
	if (complete)
		kheal_hung_sweep(ktime_get_boottime_ns());

	mutex_lock(&kheal_hung_lock);
	if (kheal_hung_running)
		queue_delayed_work(system_unbound_wq, &kheal_hung_work,
				   kheal_hung_tick());
	mutex_unlock(&kheal_hung_lock);
}

/**
 * kheal_hung_rescan() - apply a new threshold now instead of at next tick
 */
void kheal_hung_rescan(void)
{
	mutex_lock(&kheal_hung_lock);
	if (kheal_hung_running)
		mod_delayed_work(system_unbound_wq, &kheal_hung_work, 0);
	mutex_unlock(&kheal_hung_lock);
}

static int kheal_hung_start(void)
{
	kheal_hung_cache = KMEM_CACHE(kheal_hung_task, 0);
	if (!kheal_hung_cache)
		return -ENOMEM;

	mutex_lock(&kheal_hung_lock);
	kheal_hung_running = true;
	queue_delayed_work(system_unbound_wq, &kheal_hung_work, 0);
	mutex_unlock(&kheal_hung_lock);
	return 0;
}

static void kheal_hung_stop(void)
{
	struct kheal_hung_task *h;
	struct hlist_node *tmp;
	int bkt;

	mutex_lock(&kheal_hung_lock);
	kheal_hung_running = false;
	mutex_unlock(&kheal_hung_lock);
	cancel_delayed_work_sync(&kheal_hung_work);

	hash_for_each_safe(kheal_hung_tasks, bkt, tmp, h, node) {
		hash_del(&h->node);
		kmem_cache_free(kheal_hung_cache, h);
	}
	kmem_cache_destroy(kheal_hung_cache);
}

struct kheal_detector kheal_hung_detector = {
	.name = "hung_task",
	.start = kheal_hung_start,
	.stop = kheal_hung_stop,
};

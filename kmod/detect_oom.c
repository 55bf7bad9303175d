// SPDX-License-Identifier: GPL-2.0
/*
 * OOM-kill detector: a probe on the oom:mark_victim tracepoint reports the
 * victim, its cgroup, its RSS and whether a memory cgroup limit or the
 * whole machine ran out.
 *
 * The probe runs inside the OOM killer, usually with task_lock(victim)
 * held: it takes no sleeping lock, allocates nothing and does not take
 * task_lock; the checkpoint is taken there too, while the victim lives.
 * mark_victim also fires for a task that was already exiting and is only
 * given access to reserves; that too is reported as oom_kill.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/tracepoint.h>

#include "kheal.h"

/*
 * A charge that fails asks for at most a huge page, so a cgroup whose
 * usage is this close to memory.max is the one that ran out.
 */
#define KHEAL_OOM_SLACK_PAGES	(2UL << (20 - PAGE_SHIFT))

static struct tracepoint *kheal_tp_mark_victim;

/* Is some memory cgroup on the victim's path at its limit? */
static u32 kheal_oom_constraint(struct task_struct *victim)
{
	struct mem_cgroup *memcg;
	u32 constraint = KHEAL_OOM_GLOBAL;

	rcu_read_lock();
	memcg = mem_cgroup_from_css(task_css(victim, memory_cgrp_id));
	for (; memcg && memcg->css.parent; memcg = parent_mem_cgroup(memcg)) {
		unsigned long max = READ_ONCE(memcg->memory.max);

		if (max == PAGE_COUNTER_MAX)
			continue;
		if (page_counter_read(&memcg->memory) + KHEAL_OOM_SLACK_PAGES >=
		    max) {
			constraint = KHEAL_OOM_MEMCG;
			break;
		}
	}
	rcu_read_unlock();
	return constraint;
}

static void kheal_oom_probe(void *data, struct task_struct *victim, uid_t uid)
{
	u64 cp = kheal_checkpoint_take(victim, KHEAL_CP_ALL, NULL);
	struct kheal_event *ev;
	unsigned long flags;

	ev = kheal_event_begin(KHEAL_EVENT_OOM_KILL, KHEAL_SEV_ERROR, "memory",
			       &flags);
	kheal_event_set_task(ev, victim);
	kheal_event_set_checkpoint(ev, cp);
	ev->present |= KHEAL_F_OOM_CONSTRAINT;
	ev->oom_constraint = kheal_oom_constraint(victim);
	if (victim->mm) {
		ev->present |= KHEAL_F_RSS;
		ev->rss_kb = get_mm_rss(victim->mm) << (PAGE_SHIFT - 10);
	}
	kheal_event_commit(&kheal_oom_detector, ev, flags);
}

static void kheal_oom_find_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "mark_victim"))
		*(struct tracepoint **)priv = tp;
}

static int kheal_oom_start(void)
{
	int ret;

	kheal_tp_mark_victim = NULL;
	for_each_kernel_tracepoint(kheal_oom_find_tp, &kheal_tp_mark_victim);
	if (!kheal_tp_mark_victim) {
		pr_warn("tracepoint oom:mark_victim not found\n");
		return -ENOENT;
	}
	ret = tracepoint_probe_register(kheal_tp_mark_victim,
					kheal_oom_probe, NULL);
	if (ret)
		pr_warn("cannot attach to oom:mark_victim: %d\n", ret);
	return ret;
}

static void kheal_oom_stop(void)
{
	tracepoint_probe_unregister(kheal_tp_mark_victim, kheal_oom_probe,
				    NULL);
	/* No probe may still run once the module text can go. */
	tracepoint_synchronize_unregister();
}

struct kheal_detector kheal_oom_detector = {
	.name = "oom_kill",
	.start = kheal_oom_start,
	.stop = kheal_oom_stop,
};

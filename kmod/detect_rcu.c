// SPDX-License-Identifier: GPL-2.0
/*
 * RCU CPU stall detector: a probe on the rcu:rcu_stall_warning tracepoint
 * reports the RCU flavour and the kernel's message ("rcu_preempt
 * SelfDetected") in detail, and checkpoints the machine there.
 *
 * The tracepoint fires from the scheduler tick, in hard interrupt
 * context, just before the kernel prints its stall report and before it
 * takes the rcu_node locks: the probe allocates nothing and sleeps not,
 * as kheal_checkpoint_take() and kheal_event_begin() allow. Only a
 * self-detected stall names a task, the one running on the stalled CPU;
 * otherwise the CPU that reports is a bystander and no task is named.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/tracepoint.h>

#include "kheal.h"

#define KHEAL_RCU_SELF_DETECTED	"SelfDetected"

static struct tracepoint *kheal_tp_rcu_stall;

static void kheal_rcu_stall_probe(void *data, const char *rcuname,
				  const char *msg)
{
	struct task_struct *tsk = NULL;
	struct kheal_event *ev;
	unsigned long flags;
	u64 cp;

	if (!strcmp(msg, KHEAL_RCU_SELF_DETECTED))
		tsk = current;
	cp = kheal_checkpoint_take(tsk, KHEAL_CP_ALL, NULL);

	ev = kheal_event_begin(KHEAL_EVENT_RCU_STALL, KHEAL_SEV_CRITICAL,
			       "kernel", &flags);
	if (tsk)
		kheal_event_set_task(ev, tsk);
	kheal_event_set_checkpoint(ev, cp);
	ev->present |= KHEAL_F_DETAIL;
	snprintf(ev->detail, sizeof(ev->detail), "%s %s on cpu %d", rcuname,
		 msg, raw_smp_processor_id());
	kheal_event_commit(&kheal_rcu_stall_detector, ev, flags);
}

static void kheal_rcu_find_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "rcu_stall_warning"))
		*(struct tracepoint **)priv = tp;
}

static int kheal_rcu_start(void)
{
	int ret;

	kheal_tp_rcu_stall = NULL;
	for_each_kernel_tracepoint(kheal_rcu_find_tp, &kheal_tp_rcu_stall);
	if (!kheal_tp_rcu_stall) {
		pr_warn("tracepoint rcu:rcu_stall_warning not found\n");
		return -ENOENT;
	}
	ret = tracepoint_probe_register(kheal_tp_rcu_stall,
					kheal_rcu_stall_probe, NULL);
	if (ret)
		pr_warn("cannot attach to rcu:rcu_stall_warning: %d\n", ret);
	return ret;
}

static void kheal_rcu_stop(void)
{
	tracepoint_probe_unregister(kheal_tp_rcu_stall, kheal_rcu_stall_probe,
				    NULL);
	/* No probe may still run once the module text can go. */
	tracepoint_synchronize_unregister();
}

struct kheal_detector kheal_rcu_stall_detector = {
	.name = "rcu_stall",
	.start = kheal_rcu_start,
	.stop = kheal_rcu_stop,
};

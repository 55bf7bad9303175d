// SPDX-License-Identifier: GPL-2.0
/*
 * Test faults for the INJECT command (allow_inject=1 only): a kthread
 * that really hangs in TASK_UNINTERRUPTIBLE, a burst of synthetic
 * events, and a kthread that holds a CPU with preemption disabled.
 * Every injection is a kthread so that unloading can stop it at any
 * moment.
 */
#include <linux/cpumask.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/mutex.h>
#include <linux/sched/task.h>

#include "kheal.h"

struct kheal_injection {
	struct task_struct *task;	/* holds a reference */
	u64 arg;			/* duration in ms, or event count */
	bool done;			/* the thread function returned */
};

static DEFINE_MUTEX(kheal_inject_lock);	/* protects the two below */
static struct kheal_injection kheal_injections[KHEAL_INJECT_THREADS];
static bool kheal_inject_closed;

static int kheal_inject_hung_fn(void *data)
{
	struct kheal_injection *inj = data;
	unsigned long deadline = jiffies + msecs_to_jiffies(inj->arg);
	long left;

	/* Sleep in D state; only kthread_stop() cuts it short. */
	for (;;) {
		set_current_state(TASK_UNINTERRUPTIBLE);
		left = (long)(deadline - jiffies);
		if (left <= 0 || kthread_should_stop())
			break;
		schedule_timeout(left);
	}
	__set_current_state(TASK_RUNNING);
	WRITE_ONCE(inj->done, true);
	return 0;
}

static int kheal_inject_burst_fn(void *data)
{
	struct kheal_injection *inj = data;
	struct kheal_backlog_stats st;
	struct kheal_event *ev;
	unsigned long flags;
	u64 i;

	kheal_backlog_stats(&st);
	for (i = 0; i < inj->arg && !kthread_should_stop(); i++) {
		ev = kheal_event_begin(KHEAL_EVENT_SYNTHETIC, KHEAL_SEV_INFO,
				       "synthetic", &flags);
		kheal_event_set_task(ev, current);
		kheal_event_commit(NULL, ev, flags);

		/* Pace to the sender rather than overrun the backlog. */
		if (kheal_backlog_unsent() > st.size / 2)
			kheal_backlog_flush();
		cond_resched();
	}
	WRITE_ONCE(inj->done, true);
	return 0;
}

/*
 * Spins on its CPU with preemption disabled, neither sleeping nor calling
 * cond_resched(): the soft-lockup watchdog and RCU see a stuck CPU. The
 * time is bounded, and kthread_stop() cuts it short when unloading.
 */
static int kheal_inject_lockup_fn(void *data)
{
	struct kheal_injection *inj = data;
	ktime_t end = ktime_add_ms(ktime_get(), inj->arg);

	preempt_disable();
	while (ktime_before(ktime_get(), end) && !kthread_should_stop())
		cpu_relax();
	preempt_enable();
	WRITE_ONCE(inj->done, true);
	return 0;
}

static void kheal_injection_reap(struct kheal_injection *inj)
{
	kthread_stop(inj->task);
	put_task_struct(inj->task);
	inj->task = NULL;
}

/* @cpu: the CPU the thread is bound to, or -1 for any. */
static int kheal_inject_start(int (*fn)(void *), u64 arg, const char *name,
			      int cpu, struct task_struct **task)
{
	struct kheal_injection *inj = NULL;
	struct task_struct *t;
	unsigned int i;
	int ret = 0;

	mutex_lock(&kheal_inject_lock);
	if (kheal_inject_closed) {
		ret = -ESHUTDOWN;
		goto out_unlock;
	}
	for (i = 0; i < ARRAY_SIZE(kheal_injections); i++) {
		struct kheal_injection *slot = &kheal_injections[i];

		if (slot->task && READ_ONCE(slot->done))
			kheal_injection_reap(slot);
		if (!slot->task && !inj)
			inj = slot;
	}
	if (!inj) {
		ret = -EBUSY;
		goto out_unlock;
	}

	inj->arg = arg;
	inj->done = false;
	t = kthread_create(fn, inj, "%s", name);
	if (IS_ERR(t)) {
		ret = PTR_ERR(t);
		goto out_unlock;
	}
	if (cpu >= 0)
		kthread_bind(t, cpu);
	/* One reference for the slot, one for the caller's reply. */
	get_task_struct(t);
	get_task_struct(t);
	inj->task = t;
	wake_up_process(t);
	*task = t;
out_unlock:
	mutex_unlock(&kheal_inject_lock);
	return ret;
}

/**
 * kheal_inject_hung() - start a kthread asleep in D state
 * @duration_ms: how long it sleeps
 * @task: set to the thread, with a reference the caller puts
 *
 * Return: 0, -EBUSY when KHEAL_INJECT_THREADS injections run, -ESHUTDOWN
 * while unloading, or the error of kthread_create().
 */
int kheal_inject_hung(u64 duration_ms, struct task_struct **task)
{
	return kheal_inject_start(kheal_inject_hung_fn, duration_ms,
				  "kheal-hung", -1, task);
}

/**
 * kheal_inject_burst() - start a kthread emitting synthetic events
 * @count: how many
 * @task: set to the thread, with a reference the caller puts
 *
 * Return: as kheal_inject_hung().
 */
int kheal_inject_burst(u32 count, struct task_struct **task)
{
	return kheal_inject_start(kheal_inject_burst_fn, count, "kheal-burst",
				  -1, task);
}

/**
 * kheal_inject_lockup() - start a kthread that holds a CPU
 * @duration_ms: how long it spins with preemption disabled, at most
 *	KHEAL_INJECT_LOCKUP_MAX_MS
 * @task: set to the thread, with a reference the caller puts
 *
 * The thread is bound to the last online CPU; the others keep the
 * machine (and kheald) running, so one CPU alone is refused.
 *
 * Return: as kheal_inject_hung(), or -EINVAL with a single online CPU.
 */
int kheal_inject_lockup(u64 duration_ms, struct task_struct **task)
{
	/* A CPU that goes offline meanwhile: the thread runs elsewhere. */
	if (num_online_cpus() < 2)
		return -EINVAL;
	return kheal_inject_start(kheal_inject_lockup_fn, duration_ms,
				  "kheal-lockup", cpumask_last(cpu_online_mask),
				  task);
}

/**
 * kheal_inject_init() - accept injections
 */
void kheal_inject_init(void)
{
	kheal_inject_closed = false;
}

/**
 * kheal_inject_exit() - refuse new injections and stop the running ones
 */
void kheal_inject_exit(void)
{
	unsigned int i;

	mutex_lock(&kheal_inject_lock);
	kheal_inject_closed = true;
	for (i = 0; i < ARRAY_SIZE(kheal_injections); i++)
		if (kheal_injections[i].task)
			kheal_injection_reap(&kheal_injections[i]);
	mutex_unlock(&kheal_inject_lock);
}

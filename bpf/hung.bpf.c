// SPDX-License-Identifier: GPL-2.0
/*
 * Hung tasks: a tracker that times every uninterruptible sleep from its
 * switch-out, a task iterator the loader runs a few times per threshold
 * to report the sleeps past hung_ms with their stacks, and khungtaskd's
 * own verdict (sched_process_hang).
 *
 * The check is a task iterator rather than a bpf_timer: a timer callback
 * holds only a pid, and turning a pid into a task (bpf_task_from_pid)
 * needs 6.2. The iterator hands over each task, so bpf_get_task_stack()
 * takes the stack once, at report time, instead of at every D-state
 * switch-out, which keeps sched_switch cheap.
 *
 * An episode ends when the task is switched in again (not at wake-up:
 * that would need a second program on a hotter path); its resolution is
 * reported only if the episode was.
 */
#include "kheal_probe.bpf.h"

/* Set by the loader: the tracker (hung_switch) is loaded alongside. */
const volatile bool tracker_on = false;

#define HUNG_TRACKING	0
#define HUNG_REPORTED	1
#define HUNG_ENDED	2

struct hung_entry {
	__u64 onset_ns;		/* switch-out into D; 0: unknown */
	__u32 pid;		/* guards against a recycled element */
	__u32 state;		/* HUNG_* */
};

/* Tasks asleep in D state, by pid; an entry lives while they sleep. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct hung_entry);
} dstate SEC(".maps");

static __always_inline void hung_resolved(struct task_struct *t,
					  struct hung_entry *h, __u64 now)
{
	struct kheal_bpf_event *e;

	e = kheal_event_reserve(KHEAL_BPF_PROBE_HUNG,
				KHEAL_EVENT_HUNG_TASK_RESOLVED, KHEAL_SEV_INFO);
	if (!e)
		return;
	kheal_event_set_task(e, t);
	if (h->onset_ns) {
		e->present |= KHEAL_BPF_F_DURATION;
		e->duration_ms = (now - h->onset_ns) / NSEC_PER_MSEC;
	}
	kheal_event_submit(e);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(hung_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	__u32 pid = next->pid;
	struct hung_entry *h;
	__u64 now = 0;

	if (pid) {
		h = bpf_map_lookup_elem(&dstate, &pid);
		if (h) {
			now = bpf_ktime_get_boot_ns();
			if (__sync_lock_test_and_set(&h->state, HUNG_ENDED) ==
			    HUNG_REPORTED && h->pid == pid)
				hung_resolved(next, h, now);
			bpf_map_delete_elem(&dstate, &pid);
		}
	}

	/* A preempted task stays runnable whatever its state says. */
	if (preempt || !kheal_hung_state(kheal_task_state(prev)))
		return 0;

	pid = prev->pid;
	struct hung_entry nh = {
		.onset_ns = now ? now : bpf_ktime_get_boot_ns(),
		.pid = pid,
		.state = HUNG_TRACKING,
	};
	if (bpf_map_update_elem(&dstate, &pid, &nh, BPF_ANY))
		kheal_count(KHEAL_BPF_PROBE_HUNG, map_full);
	return 0;
}

SEC("iter/task")
int hung_scan(struct bpf_iter__task *ctx)
{
	const struct kheal_bpf_config_map *cfg = kheal_get_config();
	struct task_struct *t = ctx->task;
	struct kheal_bpf_event *e;
	struct hung_entry *h;
	__u64 now;
	__u32 pid;
	long n;

	if (!t || !cfg || !cfg->hung_ms)
		return 0;
	pid = t->pid;
	h = bpf_map_lookup_elem(&dstate, &pid);
	if (!h || h->pid != pid || h->state != HUNG_TRACKING)
		return 0;
	/* Woken but not yet run: not hung. */
	if (!kheal_hung_state(kheal_task_state(t)))
		return 0;
	now = bpf_ktime_get_boot_ns();
	if (now - h->onset_ns < cfg->hung_ms * NSEC_PER_MSEC)
		return 0;

	/* Reserve first, so hung_task precedes its resolution in the ring. */
	e = kheal_event_reserve(KHEAL_BPF_PROBE_HUNG, KHEAL_EVENT_HUNG_TASK,
				KHEAL_SEV_WARNING);
	if (!e)
		return 0;
	if (__sync_val_compare_and_swap(&h->state, HUNG_TRACKING,
					HUNG_REPORTED) != HUNG_TRACKING) {
		kheal_event_discard(e);
		return 0;
	}
	kheal_event_set_task(e, t);
	e->present |= KHEAL_BPF_F_DURATION;
	e->duration_ms = (now - h->onset_ns) / NSEC_PER_MSEC;
	n = bpf_get_task_stack(t, e->stack, sizeof(e->stack), 0);
	kheal_event_set_stack_depth(e, n);
	kheal_event_submit(e);
	return 0;
}

/*
 * khungtaskd found @t blocked past hung_task_timeout_secs. An episode the
 * tracker already reported is not reported twice; one it never saw (the
 * task went to sleep before the probes were attached) is adopted so that
 * its resolution is reported too, without a duration.
 */
SEC("tp_btf/sched_process_hang")
int BPF_PROG(hung_kernel, struct task_struct *t)
{
	struct kheal_bpf_event *e;
	__u32 pid = t->pid;
	struct hung_entry *h;
	__u64 now;
	long n;

	e = kheal_event_reserve(KHEAL_BPF_PROBE_HUNG_KERNEL,
				KHEAL_EVENT_HUNG_TASK, KHEAL_SEV_WARNING);
	if (!e)
		return 0;
	now = e->time_ns;
	h = bpf_map_lookup_elem(&dstate, &pid);
	if (h && h->pid == pid) {
		if (__sync_val_compare_and_swap(&h->state, HUNG_TRACKING,
						HUNG_REPORTED) !=
		    HUNG_TRACKING) {
			kheal_event_discard(e);
			kheal_count(KHEAL_BPF_PROBE_HUNG_KERNEL, suppressed);
			return 0;
		}
		if (h->onset_ns) {
			e->present |= KHEAL_BPF_F_DURATION;
			e->duration_ms = (now - h->onset_ns) / NSEC_PER_MSEC;
		}
	} else if (tracker_on) {
		struct hung_entry nh = {
			.pid = pid,
			.state = HUNG_REPORTED,
		};

		if (bpf_map_update_elem(&dstate, &pid, &nh, BPF_NOEXIST))
			kheal_count(KHEAL_BPF_PROBE_HUNG_KERNEL, map_full);
	}
	kheal_event_set_task(e, t);
	n = bpf_get_task_stack(t, e->stack, sizeof(e->stack), 0);
	kheal_event_set_stack_depth(e, n);
	kheal_event_submit(e);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

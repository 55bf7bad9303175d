// SPDX-License-Identifier: GPL-2.0
/*
 * Crashes: a process whose last thread exits on a fatal signal in the
 * configured set (SIGKILL, SIGSEGV, SIGBUS, SIGABRT by default).
 *
 * sched_process_exit rather than signal_deliver or signal_generate:
 * those fire for every signal sent or taken, handled ones included, and
 * before anyone knows whether it kills; exit_code says how the process
 * actually ended. do_exit() sets it before the tracepoint.
 *
 * One report per process, from its last thread: since 6.16 the
 * tracepoint says group_dead. Before, the last thread is one that sees
 * signal->live == 0, but threads exiting together can all see it, so
 * the first of them to claim the process reports it.
 */
#include "kheal_probe.bpf.h"

struct trace_event_raw_sched_process_exit___post616 {
	bool group_dead;
} __attribute__((preserve_access_index));

struct crash_proc {
	__u64 start_time;	/* of the group leader: tells reused tgids apart */
	__u32 tgid;
	__u32 __pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct crash_proc);
	__type(value, __u8);
} crash_claimed SEC(".maps");

static __always_inline bool last_thread(__u64 *ctx, struct task_struct *t)
{
	struct crash_proc key = {};
	__u8 one = 1;

	if (bpf_core_field_exists(struct trace_event_raw_sched_process_exit___post616,
				  group_dead))
		return (__u8)ctx[1];
	if (BPF_CORE_READ(t, signal, live.counter))
		return false;
	key.tgid = BPF_CORE_READ(t, tgid);
	key.start_time = BPF_CORE_READ(t, group_leader, start_time);
	return !bpf_map_update_elem(&crash_claimed, &key, &one, BPF_NOEXIST);
}

SEC("tp_btf/sched_process_exit")
int crash_exit(__u64 *ctx)
{
	struct task_struct *t = (void *)ctx[0];
	const struct kheal_bpf_config_map *cfg;
	struct task_struct *leader;
	struct kheal_bpf_event *e;
	int code = t->exit_code;
	int sig = code & 0x7f;

	if (!sig || sig >= 64 || (t->flags & KHEAL_PF_KTHREAD))
		return 0;
	cfg = kheal_get_config();
	if (!cfg || !(cfg->crash_sigmask & (1ULL << sig)))
		return 0;
	if (!last_thread(ctx, t))
		return 0;
	e = kheal_event_reserve(KHEAL_BPF_PROBE_CRASH, KHEAL_EVENT_TASK_CRASH,
				KHEAL_SEV_WARNING);
	if (!e)
		return 0;
	leader = BPF_CORE_READ(t, group_leader);
	kheal_event_set_task(e, t);
	e->pid = e->tgid;
	if (leader)
		BPF_CORE_READ_STR_INTO(&e->comm, leader, comm);
	e->present |= KHEAL_BPF_F_SIGNAL;
	e->signal = sig;
	if (code & 0x80)
		e->present |= KHEAL_BPF_F_CORE_DUMPED;
	kheal_event_submit(e);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/*
 * RCU CPU stalls (rcu:rcu_stall_warning), with the RCU flavour and the
 * kernel's message in detail and the stack of the CPU that reports it.
 * Only a self-detected stall names a task: the one that was running on
 * the stalled CPU. Otherwise the reporter is a bystander.
 */
#include "kheal_probe.bpf.h"

#define SELF_DETECTED	"SelfDetected"

SEC("tp_btf/rcu_stall_warning")
int BPF_PROG(rcu_stall, const char *rcuname, const char *msg)
{
	char what[sizeof(SELF_DETECTED)] = {};
	struct kheal_bpf_event *e;
	__u64 args[2];
	long n;

	e = kheal_event_reserve(KHEAL_BPF_PROBE_RCU_STALL,
				KHEAL_EVENT_RCU_STALL, KHEAL_SEV_CRITICAL);
	if (!e)
		return 0;
	args[0] = (__u64)rcuname;
	args[1] = (__u64)msg;
	e->present |= KHEAL_BPF_F_DETAIL;
	bpf_snprintf(e->detail, sizeof(e->detail), "%s %s", args,
		     sizeof(args));

	bpf_probe_read_kernel_str(what, sizeof(what), msg);
	if (!bpf_strncmp(what, sizeof(what), SELF_DETECTED))
		kheal_event_set_task(e, bpf_get_current_task_btf());

	n = bpf_get_stack(ctx, e->stack, sizeof(e->stack), 0);
	kheal_event_set_stack_depth(e, n);
	kheal_event_submit(e);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

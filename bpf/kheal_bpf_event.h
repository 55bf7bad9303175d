/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The layouts the BPF probes and their loader share: the ring-buffer
 * record, the config map value and the per-probe counters. Both sides
 * compile this file; the assertions pin every field so that a change on
 * one side cannot go unnoticed on the other.
 */
#ifndef _KHEAL_BPF_EVENT_H
#define _KHEAL_BPF_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include <linux/kheal.h>

#define KHEAL_BPF_STACK_DEPTH	32	/* kernel frames kept per event */
#define KHEAL_BPF_DETAIL_LEN	48

/* Probes, each loaded, attached and disabled on its own. Append only. */
enum kheal_bpf_probe {
	KHEAL_BPF_PROBE_HUNG,		/* D-state tracker: sched_switch */
	KHEAL_BPF_PROBE_HUNG_KERNEL,	/* khungtaskd's sched_process_hang */
	KHEAL_BPF_PROBE_OOM,		/* oom:mark_victim */
	KHEAL_BPF_PROBE_BLOCK_ERROR,	/* block:block_rq_error */
	KHEAL_BPF_PROBE_DISK_STALL,	/* block_rq_issue -> _complete */
	KHEAL_BPF_PROBE_NETDEV_TX_TIMEOUT, /* net:net_dev_xmit_timeout */
	KHEAL_BPF_PROBE_RCU_STALL,	/* rcu:rcu_stall_warning */
	KHEAL_BPF_PROBE_CRASH,		/* sched_process_exit, fatal signal */

	KHEAL_BPF_PROBE_MAX
};

/* struct kheal_bpf_event.present: which optional fields are valid. */
#define KHEAL_BPF_F_PID		(1U << 0)	/* pid, tgid */
#define KHEAL_BPF_F_COMM	(1U << 1)
#define KHEAL_BPF_F_CGROUP	(1U << 2)	/* cgroup_id */
#define KHEAL_BPF_F_DEV		(1U << 3)	/* dev */
#define KHEAL_BPF_F_DEVT	(1U << 4)	/* dev_major, dev_minor */
#define KHEAL_BPF_F_DURATION	(1U << 5)
#define KHEAL_BPF_F_RSS		(1U << 6)
#define KHEAL_BPF_F_OOM_CONSTRAINT (1U << 7)
#define KHEAL_BPF_F_SIGNAL	(1U << 8)
#define KHEAL_BPF_F_CORE_DUMPED	(1U << 9)	/* task_crash dumped core */
#define KHEAL_BPF_F_ERROR	(1U << 10)	/* error */
#define KHEAL_BPF_F_QUEUE	(1U << 11)	/* queue */
#define KHEAL_BPF_F_STACK	(1U << 12)	/* stack[0..stack_depth) */
#define KHEAL_BPF_F_DETAIL	(1U << 13)	/* detail */

/*
 * One event, as the probes write it into the ring buffer. Strings are
 * NUL-terminated. time_ns is CLOCK_BOOTTIME, like the module's.
 *
 * pid/tgid: the task the event is about (task_crash: the process, so
 * pid == tgid). error: a negative errno (block_io_error). queue: the TX
 * queue (netdev_tx_timeout). detail: free text for what has no field of
 * its own (rcu_stall: "rcu_preempt SelfDetected"; block_io_error: the
 * operation and sector).
 */
struct kheal_bpf_event {
	__u64 time_ns;
	__u64 cgroup_id;
	__u64 duration_ms;
	__u64 rss_kb;
	__u32 kind;		/* enum kheal_event_kind */
	__u32 severity;		/* enum kheal_severity */
	__u32 probe;		/* enum kheal_bpf_probe */
	__u32 present;		/* KHEAL_BPF_F_* */
	__u32 pid;
	__u32 tgid;
	__u32 oom_constraint;	/* enum kheal_oom_constraint */
	__u32 signal;
	__s32 error;
	__u32 queue;
	__u32 dev_major;
	__u32 dev_minor;
	__u32 stack_depth;	/* frames valid in stack[] */
	__u32 __pad;
	char comm[KHEAL_COMM_LEN];
	char dev[KHEAL_DEV_LEN];
	char detail[KHEAL_BPF_DETAIL_LEN];
	__u64 stack[KHEAL_BPF_STACK_DEPTH];	/* kernel addresses, innermost first */
};

/* The single value of the "config" array map (key 0). */
struct kheal_bpf_config_map {
	__u64 crash_sigmask;	/* bit N: death by signal N is a crash */
	__u32 hung_ms;		/* 0: the tracker reports no hung_task */
	__u32 disk_stall_ms;	/* 0: no disk_stall, no I/O tracking */
	__u32 page_shift;	/* set by the loader, for rss_kb */
	__u32 __pad;
};

/* Value of the per-CPU "counters" array map, one entry per probe. */
struct kheal_bpf_counters {
	__u64 emitted;		/* events submitted to the ring buffer */
	__u64 rb_drops;		/* events lost: ring buffer full */
	__u64 map_full;		/* episodes or requests not tracked */
	__u64 suppressed;	/* duplicates not sent (hung_kernel) */
};

#define KHEAL_BPF_ASSERT_FIELD(type, field, off, size)			\
	_Static_assert(__builtin_offsetof(struct type, field) == (off),	\
		       #type "." #field " moved");				\
	_Static_assert(sizeof(((struct type *)0)->field) == (size),	\
		       #type "." #field " resized")

KHEAL_BPF_ASSERT_FIELD(kheal_bpf_event, time_ns, 0, 8);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_event, cgroup_id, 8, 8);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_event, duration_ms, 16, 8);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_event, rss_kb, 24, 8);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_event, kind, 32, 4);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_event, severity, 36, 4);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_event, probe, 40, 4);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_event, present, 44, 4);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_event, pid, 48, 4);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_event, tgid, 52, 4);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_event, oom_constraint, 56, 4);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_event, signal, 60, 4);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_event, error, 64, 4);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_event, queue, 68, 4);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_event, dev_major, 72, 4);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_event, dev_minor, 76, 4);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_event, stack_depth, 80, 4);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_event, __pad, 84, 4);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_event, comm, 88, KHEAL_COMM_LEN);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_event, dev, 104, KHEAL_DEV_LEN);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_event, detail, 136, KHEAL_BPF_DETAIL_LEN);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_event, stack, 184,
		       8 * KHEAL_BPF_STACK_DEPTH);
_Static_assert(sizeof(struct kheal_bpf_event) == 184 + 8 * KHEAL_BPF_STACK_DEPTH,
	       "struct kheal_bpf_event resized");

KHEAL_BPF_ASSERT_FIELD(kheal_bpf_config_map, crash_sigmask, 0, 8);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_config_map, hung_ms, 8, 4);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_config_map, disk_stall_ms, 12, 4);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_config_map, page_shift, 16, 4);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_config_map, __pad, 20, 4);
_Static_assert(sizeof(struct kheal_bpf_config_map) == 24,
	       "struct kheal_bpf_config_map resized");

KHEAL_BPF_ASSERT_FIELD(kheal_bpf_counters, emitted, 0, 8);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_counters, rb_drops, 8, 8);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_counters, map_full, 16, 8);
KHEAL_BPF_ASSERT_FIELD(kheal_bpf_counters, suppressed, 24, 8);
_Static_assert(sizeof(struct kheal_bpf_counters) == 32,
	       "struct kheal_bpf_counters resized");

#endif /* _KHEAL_BPF_EVENT_H */

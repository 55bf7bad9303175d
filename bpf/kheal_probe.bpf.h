/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every probe shares on the BPF side: the maps the loader creates
 * once and hands to each probe object, and the event builder.
 */
#ifndef _KHEAL_PROBE_BPF_H
#define _KHEAL_PROBE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "kheal_bpf_event.h"

#define NSEC_PER_MSEC	1000000ULL

/* Task state bits: #defines, not in BTF, and stable since 6.1. */
#define KHEAL_TASK_UNINTERRUPTIBLE	0x00000002
#define KHEAL_TASK_WAKEKILL		0x00000100
#define KHEAL_TASK_NOLOAD		0x00000400
#define KHEAL_TASK_FROZEN		0x00008000
#define KHEAL_PF_KTHREAD		0x00200000

/*
 * Shared by all probes. The sizes here are placeholders: the loader
 * creates each map once and makes every probe object reuse its fd.
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} kheal_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kheal_bpf_config_map);
} kheal_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KHEAL_BPF_PROBE_MAX);
	__type(key, __u32);
	__type(value, struct kheal_bpf_counters);
} kheal_counters SEC(".maps");

/* Before 5.14, task_struct->__state was a long called state. */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

static __always_inline const struct kheal_bpf_config_map *kheal_get_config(void)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(&kheal_config, &key);
}

static __always_inline struct kheal_bpf_counters *kheal_get_counters(__u32 probe)
{
	return bpf_map_lookup_elem(&kheal_counters, &probe);
}

#define kheal_count(probe, field)					\
	do {								\
		struct kheal_bpf_counters *__c = kheal_get_counters(probe); \
									\
		if (__c)						\
			__sync_fetch_and_add(&__c->field, 1);		\
	} while (0)

static __always_inline unsigned int kheal_task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___pre514 *)t, state);
}

/*
 * The states khungtaskd watches: uninterruptible, but neither killable
 * (a kill ends the wait), TASK_IDLE (idle kernel threads) nor frozen.
 */
static __always_inline bool kheal_hung_state(unsigned int state)
{
	return (state & KHEAL_TASK_UNINTERRUPTIBLE) &&
	       !(state & (KHEAL_TASK_WAKEKILL | KHEAL_TASK_NOLOAD |
			  KHEAL_TASK_FROZEN));
}

/* A zeroed event from the ring buffer, or NULL (counted as a drop). */
static __always_inline struct kheal_bpf_event *
kheal_event_reserve(__u32 probe, __u32 kind, __u32 severity)
{
	struct kheal_bpf_event *e;

	e = bpf_ringbuf_reserve(&kheal_events, sizeof(*e), 0);
	if (!e) {
		kheal_count(probe, rb_drops);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->time_ns = bpf_ktime_get_boot_ns();
	e->probe = probe;
	e->kind = kind;
	e->severity = severity;
	return e;
}

static __always_inline void kheal_event_submit(struct kheal_bpf_event *e)
{
	__u32 probe = e->probe;

	bpf_ringbuf_submit(e, 0);
	kheal_count(probe, emitted);
}

static __always_inline void kheal_event_discard(struct kheal_bpf_event *e)
{
	bpf_ringbuf_discard(e, 0);
}

static __always_inline __u64 kheal_task_cgroup_id(struct task_struct *t)
{
	return BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
}

/* Who the event is about: pid, tgid, comm and cgroup v2 id of @t. */
static __always_inline void kheal_event_set_task(struct kheal_bpf_event *e,
						 struct task_struct *t)
{
	e->present |= KHEAL_BPF_F_PID | KHEAL_BPF_F_COMM | KHEAL_BPF_F_CGROUP;
	e->pid = BPF_CORE_READ(t, pid);
	e->tgid = BPF_CORE_READ(t, tgid);
	BPF_CORE_READ_STR_INTO(&e->comm, t, comm);
	e->cgroup_id = kheal_task_cgroup_id(t);
}

static __always_inline void kheal_event_set_stack_depth(struct kheal_bpf_event *e,
							long bytes)
{
	if (bytes <= 0)
		return;
	e->present |= KHEAL_BPF_F_STACK;
	e->stack_depth = bytes / sizeof(e->stack[0]);
}

#endif /* _KHEAL_PROBE_BPF_H */

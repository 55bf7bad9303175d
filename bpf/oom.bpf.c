// SPDX-License-Identifier: GPL-2.0
/*
 * OOM kills: oom:mark_victim names the victim. Reported with its cgroup
 * v2 id, its RSS and whether a memory cgroup limit or the whole machine
 * ran out, as the module does.
 *
 * mark_victim passes the task since 6.8 (and in Debian's 6.1, which has
 * the backport); before, it passed the pid alone, and so does this probe
 * there, guarded by the shape of the tracepoint's record.
 */
#include "kheal_probe.bpf.h"

/* mm->rss_stat up to 6.1: atomic counters... */
struct mm_rss_stat___pre62 {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));

struct mm_struct___pre62 {
	struct mm_rss_stat___pre62 rss_stat;
} __attribute__((preserve_access_index));

/* ...from 6.2: per-CPU counters, whose ->count the kernel reads too. */
struct mm_struct___post62 {
	struct percpu_counter rss_stat[4];
} __attribute__((preserve_access_index));

/* The record before 6.8 had no uid: the tracepoint passed a pid. */
struct trace_event_raw_mark_victim___post68 {
	uid_t uid;
} __attribute__((preserve_access_index));

/* enum mm_counter; stable since 4.x. */
#define MM_FILEPAGES	0
#define MM_ANONPAGES	1
#define MM_SHMEMPAGES	3

/* A failing charge asks for at most a huge page: 2 MiB of slack. */
#define OOM_SLACK_BYTES		(2ULL << 20)
#define OOM_MEMCG_DEPTH		16

static __always_inline long rss_pages(struct mm_struct *mm)
{
	struct mm_struct___post62 *n = (void *)mm;
	struct mm_struct___pre62 *o = (void *)mm;
	long file, anon, shmem;

	if (bpf_core_field_exists(n->rss_stat)) {
		file = BPF_CORE_READ(n, rss_stat[MM_FILEPAGES].count);
		anon = BPF_CORE_READ(n, rss_stat[MM_ANONPAGES].count);
		shmem = BPF_CORE_READ(n, rss_stat[MM_SHMEMPAGES].count);
	} else if (bpf_core_field_exists(o->rss_stat)) {
		file = BPF_CORE_READ(o, rss_stat.count[MM_FILEPAGES].counter);
		anon = BPF_CORE_READ(o, rss_stat.count[MM_ANONPAGES].counter);
		shmem = BPF_CORE_READ(o, rss_stat.count[MM_SHMEMPAGES].counter);
	} else {
		return -1;
	}
	/* Per-CPU deltas not yet folded in can leave a counter negative. */
	return (file > 0 ? file : 0) + (anon > 0 ? anon : 0) +
	       (shmem > 0 ? shmem : 0);
}

/* Is some memory cgroup on the victim's path at its limit? */
static __always_inline __u32 oom_constraint(struct task_struct *t,
					    __u32 page_shift)
{
	unsigned long unlimited = 0x7fffffffffffffffUL >> page_shift;
	unsigned long slack = OOM_SLACK_BYTES >> page_shift;
	struct cgroup_subsys_state *css = NULL, *parent;
	struct css_set *cset;
	int id, i;

	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		return KHEAL_OOM_UNKNOWN;
	id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	if (id < 0 || id >= 16)
		return KHEAL_OOM_UNKNOWN;
	cset = BPF_CORE_READ(t, cgroups);
	if (!cset || bpf_core_read(&css, sizeof(css), &cset->subsys[id]))
		return KHEAL_OOM_UNKNOWN;

	for (i = 0; i < OOM_MEMCG_DEPTH && css; i++) {
		struct mem_cgroup *memcg;
		unsigned long max;
		long usage;

		parent = BPF_CORE_READ(css, parent);
		if (!parent)
			break;	/* the root has no limit */
		memcg = (void *)css - bpf_core_field_offset(struct mem_cgroup, css);
		max = BPF_CORE_READ(memcg, memory.max);
		usage = BPF_CORE_READ(memcg, memory.usage.counter);
		if (max < unlimited && usage + slack >= max)
			return KHEAL_OOM_MEMCG;
		css = parent;
	}
	return KHEAL_OOM_GLOBAL;
}

SEC("tp_btf/mark_victim")
int oom_mark_victim(__u64 *ctx)
{
	const struct kheal_bpf_config_map *cfg = kheal_get_config();
	__u32 page_shift = cfg && cfg->page_shift ? cfg->page_shift : 12;
	struct kheal_bpf_event *e;

	e = kheal_event_reserve(KHEAL_BPF_PROBE_OOM, KHEAL_EVENT_OOM_KILL,
				KHEAL_SEV_ERROR);
	if (!e)
		return 0;

	if (bpf_core_field_exists(struct trace_event_raw_mark_victim___post68,
				  uid)) {
		struct task_struct *t = (void *)ctx[0];
		struct mm_struct *mm = BPF_CORE_READ(t, mm);
		long pages = mm ? rss_pages(mm) : -1;

		kheal_event_set_task(e, t);
		e->present |= KHEAL_BPF_F_OOM_CONSTRAINT;
		e->oom_constraint = oom_constraint(t, page_shift);
		if (pages >= 0) {
			e->present |= KHEAL_BPF_F_RSS;
			e->rss_kb = (__u64)pages << (page_shift - 10);
		}
	} else {
		e->present |= KHEAL_BPF_F_PID;
		e->pid = (int)ctx[0];	/* tgid unknown: 0 */
	}
	kheal_event_submit(e);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

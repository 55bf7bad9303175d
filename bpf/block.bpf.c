// SPDX-License-Identifier: GPL-2.0
/*
 * Block devices: I/O errors (block:block_rq_error, with the errno) and
 * I/O latency outliers, timed from block_rq_issue to block_rq_complete
 * and reported as disk_stall once per device and threshold window.
 *
 * A request that never completes is not reported here: the task waiting
 * for it is, by the hung-task probes.
 */
#include "kheal_probe.bpf.h"

#define REQ_OP_MASK	0xff	/* REQ_OP_BITS is 8 since 4.10 */

/* Issue time of each request in flight; LRU, so a lost one ages out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64);
} inflight SEC(".maps");

/* Last disk_stall report per device (MKDEV-style key). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} stall_last SEC(".maps");

/* Before 5.16 the disk hung off the request itself. */
struct request___pre516 {
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

static __always_inline struct gendisk *rq_disk(struct request *rq)
{
	struct request___pre516 *o = (void *)rq;

	if (bpf_core_field_exists(o->rq_disk))
		return BPF_CORE_READ(o, rq_disk);
	return BPF_CORE_READ(rq, q, disk);
}

static __always_inline void set_dev(struct kheal_bpf_event *e,
				    struct gendisk *disk)
{
	if (!disk)
		return;
	e->present |= KHEAL_BPF_F_DEV | KHEAL_BPF_F_DEVT;
	BPF_CORE_READ_STR_INTO(&e->dev, disk, disk_name);
	e->dev_major = BPF_CORE_READ(disk, major);
	e->dev_minor = BPF_CORE_READ(disk, first_minor);
}

/* blk_status_to_errno(), from the BLK_STS_* values (stable, append-only). */
static __always_inline int blk_errno(__u8 status)
{
	switch (status) {
	case 0: return 0;
	case 1: return -95;	/* NOTSUPP: EOPNOTSUPP */
	case 2: return -110;	/* TIMEOUT: ETIMEDOUT */
	case 3: return -28;	/* NOSPC: ENOSPC */
	case 4: return -67;	/* TRANSPORT: ENOLINK */
	case 5: return -121;	/* TARGET: EREMOTEIO */
	case 6: return -52;	/* NEXUS, RESV_CONFLICT: EBADE */
	case 7: return -61;	/* MEDIUM: ENODATA */
	case 8: return -84;	/* PROTECTION: EILSEQ */
	case 9: return -12;	/* RESOURCE: ENOMEM */
	case 11: return -11;	/* DM_REQUEUE */
	case 12: return -11;	/* AGAIN: EAGAIN */
	case 13: return -16;	/* DEV_RESOURCE: EBUSY */
	case 14: return -109;	/* ZONE_OPEN_RESOURCE: ETOOMANYREFS */
	case 15: return -75;	/* ZONE_ACTIVE_RESOURCE: EOVERFLOW */
	case 16: return -19;	/* OFFLINE: ENODEV */
	case 17: return -62;	/* DURATION_LIMIT: ETIME */
	case 18: return -22;	/* INVAL: EINVAL */
	default: return -5;	/* IOERR and unknown: EIO */
	}
}

static __always_inline const char *op_name(__u32 op)
{
	switch (op) {
	case 0: return "read";
	case 1: return "write";
	case 2: return "flush";
	case 3: return "discard";
	case 5: return "secure_erase";
	case 9: return "write_zeroes";
	default: return "op";
	}
}

SEC("tp_btf/block_rq_error")
int BPF_PROG(block_rq_error, struct request *rq, blk_status_t error,
	     unsigned int nr_bytes)
{
	struct kheal_bpf_event *e;
	__u64 args[2];

	e = kheal_event_reserve(KHEAL_BPF_PROBE_BLOCK_ERROR,
				KHEAL_EVENT_BLOCK_IO_ERROR, KHEAL_SEV_ERROR);
	if (!e)
		return 0;
	set_dev(e, rq_disk(rq));
	e->present |= KHEAL_BPF_F_ERROR | KHEAL_BPF_F_DETAIL;
	e->error = blk_errno(error);
	args[0] = (__u64)op_name(BPF_CORE_READ(rq, cmd_flags) & REQ_OP_MASK);
	args[1] = BPF_CORE_READ(rq, __sector);
	bpf_snprintf(e->detail, sizeof(e->detail), "%s sector %llu", args,
		     sizeof(args));
	kheal_event_submit(e);
	return 0;
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(disk_issue, struct request *rq)
{
	const struct kheal_bpf_config_map *cfg = kheal_get_config();
	__u64 key = (__u64)rq, now;

	if (!cfg || !cfg->disk_stall_ms)
		return 0;
	now = bpf_ktime_get_boot_ns();
	bpf_map_update_elem(&inflight, &key, &now, BPF_ANY);
	return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(disk_complete, struct request *rq, blk_status_t error,
	     unsigned int nr_bytes)
{
	const struct kheal_bpf_config_map *cfg = kheal_get_config();
	__u64 key = (__u64)rq, now, lat, thr, *start, *last;
	struct kheal_bpf_event *e;
	struct gendisk *disk;
	__u32 devt;

	start = bpf_map_lookup_elem(&inflight, &key);
	if (!start)
		return 0;
	now = bpf_ktime_get_boot_ns();
	lat = now - *start;
	bpf_map_delete_elem(&inflight, &key);
	if (!cfg || !cfg->disk_stall_ms)
		return 0;
	thr = cfg->disk_stall_ms * NSEC_PER_MSEC;
	if (lat < thr)
		return 0;

	disk = rq_disk(rq);
	if (!disk)
		return 0;
	devt = (BPF_CORE_READ(disk, major) << 20) |
	       BPF_CORE_READ(disk, first_minor);
	last = bpf_map_lookup_elem(&stall_last, &devt);
	if (last && now - *last < thr)
		return 0;
	if (bpf_map_update_elem(&stall_last, &devt, &now, BPF_ANY))
		kheal_count(KHEAL_BPF_PROBE_DISK_STALL, map_full);

	e = kheal_event_reserve(KHEAL_BPF_PROBE_DISK_STALL,
				KHEAL_EVENT_DISK_STALL, KHEAL_SEV_WARNING);
	if (!e)
		return 0;
	set_dev(e, disk);
	e->present |= KHEAL_BPF_F_DURATION;
	e->duration_ms = lat / NSEC_PER_MSEC;
	kheal_event_submit(e);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kheal: the generic netlink contract between kheal.ko, the BPF probes
 * and the kheald agent. Documentation/netlink/specs/kheal.yaml describes
 * the same family; a unit test keeps the two in agreement.
 *
 * Rules: enums are append-only, values are never renumbered or reused,
 * no integer attribute is narrower than 32 bits.
 */
#ifndef _UAPI_LINUX_KHEAL_H
#define _UAPI_LINUX_KHEAL_H

#define KHEAL_GENL_NAME		"kheal"
#define KHEAL_GENL_VERSION	1
#define KHEAL_MCGRP_EVENTS	"events"

/* Longest strings carried in events, terminating NUL included. */
#define KHEAL_COMM_LEN		16
#define KHEAL_SUBSYS_LEN	64
#define KHEAL_DEV_LEN		32
#define KHEAL_CGROUP_PATH_LEN	256
#define KHEAL_STACK_FRAME_LEN	128
#define KHEAL_DETAIL_LEN	128
/* Longest GET_CHECKPOINT text, terminating NUL included. */
#define KHEAL_CHECKPOINT_TEXT_LEN	8192

/* Most KHEAL_A_STACK attributes one event carries. */
#define KHEAL_STACK_DEPTH	32

/* What happened. Names as the agent prints them: hung_task, oom_kill... */
enum kheal_event_kind {
	KHEAL_EVENT_UNSPEC,
	KHEAL_EVENT_HUNG_TASK,
	KHEAL_EVENT_HUNG_TASK_RESOLVED,
	KHEAL_EVENT_OOM_KILL,
	KHEAL_EVENT_MEM_PRESSURE,
	KHEAL_EVENT_TASK_CRASH,
	KHEAL_EVENT_NETDEV_TX_TIMEOUT,
	KHEAL_EVENT_NETDEV_CARRIER,
	KHEAL_EVENT_BLOCK_IO_ERROR,
	KHEAL_EVENT_DISK_STALL,
	KHEAL_EVENT_SOFT_LOCKUP,
	KHEAL_EVENT_RCU_STALL,
	KHEAL_EVENT_OOPS,
	KHEAL_EVENT_SYNTHETIC,

	__KHEAL_EVENT_MAX,
	KHEAL_EVENT_MAX = __KHEAL_EVENT_MAX - 1
};

enum kheal_severity {
	KHEAL_SEV_INFO,
	KHEAL_SEV_NOTICE,
	KHEAL_SEV_WARNING,
	KHEAL_SEV_ERROR,
	KHEAL_SEV_CRITICAL,

	__KHEAL_SEV_MAX,
	KHEAL_SEV_MAX = __KHEAL_SEV_MAX - 1
};

/* KHEAL_A_OOM_CONSTRAINT: which limit the OOM kill enforced. */
enum kheal_oom_constraint {
	KHEAL_OOM_UNKNOWN,
	KHEAL_OOM_GLOBAL,
	KHEAL_OOM_MEMCG,

	__KHEAL_OOM_MAX,
	KHEAL_OOM_MAX = __KHEAL_OOM_MAX - 1
};

/* KHEAL_A_INJECT_TYPE: the test faults INJECT can cause. */
enum kheal_inject_type {
	KHEAL_INJECT_UNSPEC,
	/* a kthread asleep in TASK_UNINTERRUPTIBLE for DURATION_MS */
	KHEAL_INJECT_HUNG_TASK,
	/* COUNT synthetic events, as fast as the send path takes them */
	KHEAL_INJECT_BURST,
	/* a kthread spinning with preemption off on one CPU, DURATION_MS */
	KHEAL_INJECT_LOCKUP,

	__KHEAL_INJECT_MAX,
	KHEAL_INJECT_MAX = __KHEAL_INJECT_MAX - 1
};

/* One attribute space for events, status replies and requests. */
enum kheal_attr {
	KHEAL_A_UNSPEC,
	KHEAL_A_PAD,
	KHEAL_A_SEQ,			/* u64, gap-free per module instance */
	KHEAL_A_TIME_NS,		/* u64, CLOCK_BOOTTIME */
	KHEAL_A_KIND,			/* u32, enum kheal_event_kind */
	KHEAL_A_SEVERITY,		/* u32, enum kheal_severity */
	KHEAL_A_SUBSYS,			/* string, e.g. "task", "memory" */
	KHEAL_A_PID,			/* u32 */
	KHEAL_A_COMM,			/* string */
	KHEAL_A_CGROUP_ID,		/* u64, cgroup v2 id */
	KHEAL_A_CGROUP_PATH,		/* string, cgroup v2 path */
	KHEAL_A_DEV,			/* string, netdev or block device */
	KHEAL_A_DURATION_MS,		/* u64 */
	KHEAL_A_CHECKPOINT_ID,		/* u64 */
	KHEAL_A_INSTANCE,		/* u64, random per module load */
	KHEAL_A_TGID,			/* u32 */
	KHEAL_A_RSS_KB,			/* u64 */
	KHEAL_A_OOM_CONSTRAINT,		/* u32, enum kheal_oom_constraint */

	/* GET_STATUS reply */
	KHEAL_A_VERSION,		/* string, module version */
	KHEAL_A_HEAD_SEQ,		/* u64, last SEQ assigned */
	KHEAL_A_OLDEST_SEQ,		/* u64, oldest SEQ still in the backlog */
	KHEAL_A_BACKLOG_SIZE,		/* u32, backlog capacity in events */
	KHEAL_A_EVENTS_EMITTED,		/* u64 */
	KHEAL_A_EVENTS_DROPPED,		/* u64, overwritten before sent */
	KHEAL_A_MCAST_FAILED,		/* u64, multicasts a listener missed */
	KHEAL_A_HUNG_MS,		/* u32, hung-task threshold */
	KHEAL_A_ALLOW_INJECT,		/* u32, boolean */
	KHEAL_A_DETECTOR,		/* nest, multi-attr: kheal_detector_attr */

	/* requests */
	KHEAL_A_SINCE_SEQ,		/* u64, GET_EVENTS: events after it */
	KHEAL_A_INJECT_TYPE,		/* u32, enum kheal_inject_type */
	KHEAL_A_COUNT,			/* u32 */

	/* events, appended */
	KHEAL_A_SIGNAL,			/* u32, task_crash: fatal signal */
	KHEAL_A_ERRNO,			/* u32, positive errno */
	KHEAL_A_QUEUE,			/* u32, netdev TX queue */
	KHEAL_A_STACK,			/* string, multi-attr: a frame */
	KHEAL_A_DETAIL,			/* string, free text */

	/* GET_CHECKPOINT reply, appended */
	KHEAL_A_CHECKPOINT_TEXT,	/* string, what was captured */

	__KHEAL_A_MAX,
	KHEAL_A_MAX = __KHEAL_A_MAX - 1
};

enum kheal_detector_attr {
	KHEAL_DETECTOR_A_UNSPEC,
	KHEAL_DETECTOR_A_NAME,		/* string */
	KHEAL_DETECTOR_A_ACTIVE,	/* u32, boolean */
	KHEAL_DETECTOR_A_EVENTS,	/* u64, events reported */
	KHEAL_DETECTOR_A_PAD,

	__KHEAL_DETECTOR_A_MAX,
	KHEAL_DETECTOR_A_MAX = __KHEAL_DETECTOR_A_MAX - 1
};

enum kheal_cmd {
	KHEAL_CMD_UNSPEC,
	KHEAL_CMD_EVENT,		/* notification on "events" */
	KHEAL_CMD_GET_STATUS,
	KHEAL_CMD_GET_EVENTS,		/* dump; SINCE_SEQ optional */
	KHEAL_CMD_GET_CHECKPOINT,	/* admin: CHECKPOINT_ID, INSTANCE */
	KHEAL_CMD_SET_CONFIG,		/* admin: HUNG_MS */
	KHEAL_CMD_INJECT,		/* admin, allow_inject=1 only */

	__KHEAL_CMD_MAX,
	KHEAL_CMD_MAX = __KHEAL_CMD_MAX - 1
};

#endif /* _UAPI_LINUX_KHEAL_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kheal.ko internals shared by the detectors, the backlog and the
 * generic netlink family.
 */
#ifndef _KHEAL_H
#define _KHEAL_H

#include <linux/types.h>
#include <linux/atomic.h>
#include <linux/sched.h>
#include <uapi/linux/kheal.h>

#define KHEAL_VERSION		"0.1.0"

#define KHEAL_HUNG_MS_MIN	100
#define KHEAL_BACKLOG_MIN	16
#define KHEAL_BACKLOG_MAX	2097152
#define KHEAL_CHECKPOINTS_MIN	4
#define KHEAL_CHECKPOINTS_MAX	4096
#define KHEAL_INJECT_HUNG_MAX_MS	3600000
#define KHEAL_INJECT_BURST_MAX	100000000
#define KHEAL_INJECT_LOCKUP_MAX_MS	60000
#define KHEAL_INJECT_THREADS	16

/* Optional fields present in a struct kheal_event. */
#define KHEAL_F_PID		BIT(0)
#define KHEAL_F_COMM		BIT(1)
#define KHEAL_F_CGROUP		BIT(2)
#define KHEAL_F_DEV		BIT(3)
#define KHEAL_F_DURATION	BIT(4)
#define KHEAL_F_CHECKPOINT	BIT(5)
#define KHEAL_F_RSS		BIT(6)
#define KHEAL_F_OOM_CONSTRAINT	BIT(7)
#define KHEAL_F_QUEUE		BIT(8)
#define KHEAL_F_DETAIL		BIT(9)
#define KHEAL_F_ERRNO		BIT(10)

/**
 * struct kheal_event - one detected anomaly, as stored in the backlog
 * @seq: gap-free sequence number, assigned by kheal_emit()
 * @time_ns: CLOCK_BOOTTIME at emission, assigned by kheal_emit()
 * @kind: enum kheal_event_kind
 * @severity: enum kheal_severity
 * @present: KHEAL_F_* bits saying which optional fields are valid
 * @pid: task id (KHEAL_F_PID)
 * @tgid: thread group id (KHEAL_F_PID)
 * @cgroup_id: cgroup v2 id (KHEAL_F_CGROUP)
 * @duration_ms: how long the condition lasted (KHEAL_F_DURATION)
 * @checkpoint_id: checkpoint taken at detection (KHEAL_F_CHECKPOINT)
 * @rss_kb: resident set of the task (KHEAL_F_RSS)
 * @oom_constraint: enum kheal_oom_constraint (KHEAL_F_OOM_CONSTRAINT)
 * @queue: netdev TX queue (KHEAL_F_QUEUE)
 * @errnum: positive errno of a failed operation (KHEAL_F_ERRNO)
 * @subsys: subsystem the event is about, e.g. "task" or "memory"
 * @comm: task command name (KHEAL_F_COMM)
 * @dev: netdev or block device name (KHEAL_F_DEV)
 * @cgroup_path: cgroup v2 path (KHEAL_F_CGROUP)
 * @detail: free text (KHEAL_F_DETAIL)
 */
struct kheal_event {
	u64 seq;
	u64 time_ns;
	u32 kind;
	u32 severity;
	u32 present;
	u32 pid;
	u32 tgid;
	u32 oom_constraint;
	u32 queue;
	u32 errnum;
	u64 cgroup_id;
	u64 duration_ms;
	u64 checkpoint_id;
	u64 rss_kb;
	char subsys[KHEAL_SUBSYS_LEN];
	char comm[KHEAL_COMM_LEN];
	char dev[KHEAL_DEV_LEN];
	char cgroup_path[KHEAL_CGROUP_PATH_LEN];
	char detail[KHEAL_DETAIL_LEN];
};

/**
 * struct kheal_detector - a source of events, started and stopped as a unit
 * @name: name reported by GET_STATUS
 * @start: arm the detector; an error leaves it inactive, the others run
 * @stop: disarm it; on return no callback of it runs any more
 * @active: set while started
 * @events: events it has emitted
 */
struct kheal_detector {
	const char *name;
	int (*start)(void);
	void (*stop)(void);
	bool active;
	atomic64_t events;
};

extern struct kheal_detector kheal_hung_detector;
extern struct kheal_detector kheal_oom_detector;
extern struct kheal_detector kheal_carrier_detector;
extern struct kheal_detector kheal_tx_timeout_detector;
extern struct kheal_detector kheal_block_detector;
extern struct kheal_detector kheal_rcu_stall_detector;
extern struct kheal_detector *const kheal_detectors[];
extern const unsigned int kheal_n_detectors;

/* Module parameters (main.c). */
extern unsigned int kheal_hung_ms;
extern bool kheal_allow_inject;
extern u64 kheal_instance;

int kheal_set_hung_ms(unsigned int ms);
void kheal_hung_rescan(void);

/**
 * struct kheal_backlog_stats - counters reported by GET_STATUS
 * @head: last sequence number assigned, 0 before the first event
 * @oldest: oldest sequence number still held, 0 when empty
 * @size: capacity in events
 * @emitted: events emitted since load
 * @dropped: events overwritten before they could be multicast
 * @mcast_failed: multicasts that some listener could not take
 */
struct kheal_backlog_stats {
	u64 head;
	u64 oldest;
	u32 size;
	u64 emitted;
	u64 dropped;
	u64 mcast_failed;
};

int kheal_backlog_init(unsigned int size);
void kheal_backlog_exit(void);
void kheal_backlog_free(void);
void kheal_backlog_stats(struct kheal_backlog_stats *st);
int kheal_backlog_next(u64 after, struct kheal_event *out);
u64 kheal_backlog_unsent(void);
void kheal_backlog_flush(void);
void kheal_backlog_count_mcast_failed(void);

struct kheal_event *kheal_event_begin(u32 kind, u32 severity,
				      const char *subsys,
				      unsigned long *flags);
void kheal_event_set_task(struct kheal_event *ev, struct task_struct *t);
void kheal_event_commit(struct kheal_detector *det, struct kheal_event *ev,
			unsigned long flags);

/**
 * kheal_event_set_checkpoint() - name the checkpoint taken for an event
 * @ev: event being built
 * @id: from kheal_checkpoint_take(); 0 (none taken) leaves @ev as it is
 */
static inline void kheal_event_set_checkpoint(struct kheal_event *ev, u64 id)
{
	if (!id)
		return;
	ev->present |= KHEAL_F_CHECKPOINT;
	ev->checkpoint_id = id;
}

/* Sections of a checkpoint, for kheal_checkpoint_take(). */
#define KHEAL_CP_MEMORY		BIT(0)	/* the figures of /proc/meminfo */
#define KHEAL_CP_LOAD		BIT(1)	/* load averages */
#define KHEAL_CP_TASK		BIT(2)	/* state, cgroup, memcg, stack */
#define KHEAL_CP_LOG		BIT(3)	/* the newest kernel log records */
#define KHEAL_CP_DEVICE		BIT(4)	/* the netdev or block device */
#define KHEAL_CP_ALL		(KHEAL_CP_MEMORY | KHEAL_CP_LOAD | \
				 KHEAL_CP_TASK | KHEAL_CP_LOG | \
				 KHEAL_CP_DEVICE)

struct net_device;
struct block_device;

/**
 * struct kheal_cp_dev - the device a checkpoint is about (KHEAL_CP_DEVICE)
 * @netdev: a network device the caller keeps registered, or NULL
 * @tx_queue: index of @netdev's TX queue that timed out, or -1
 * @driver_stats: @netdev's driver counters may be read (dev_get_stats()):
 *	the caller is in process context and holds no lock the driver's
 *	ndo_get_stats64 could take (RTNL is fine). Otherwise only the
 *	counters the core keeps are read, without locks.
 * @bdev: a block device with I/O completing on it, or NULL
 */
struct kheal_cp_dev {
	struct net_device *netdev;
	int tx_queue;
	bool driver_stats;
	struct block_device *bdev;
};

/**
 * struct kheal_checkpoint - what was captured at a detection
 * @id: from 1, per module instance
 * @time_ns: CLOCK_BOOTTIME of the capture
 * @state: whether the slot is empty, being written or ready
 * @len: bytes of @text, NUL excluded
 * @text: the capture, as GET_CHECKPOINT sends it
 */
struct kheal_checkpoint {
	u64 id;
	u64 time_ns;
	u32 state;
	u32 len;
	char text[KHEAL_CHECKPOINT_TEXT_LEN];
};

int kheal_checkpoint_init(unsigned int size);
void kheal_checkpoint_free(void);
u64 kheal_checkpoint_take(struct task_struct *tsk, unsigned int flags,
			  const struct kheal_cp_dev *dev);
int kheal_checkpoint_copy(u64 id, struct kheal_checkpoint *out, u64 *last);

int kheal_netlink_init(void);
void kheal_netlink_exit(void);
void kheal_netlink_send(const struct kheal_event *ev);

void kheal_inject_init(void);
void kheal_inject_exit(void);
int kheal_inject_hung(u64 duration_ms, struct task_struct **task);
int kheal_inject_burst(u32 count, struct task_struct **task);
int kheal_inject_lockup(u64 duration_ms, struct task_struct **task);

#endif /* _KHEAL_H */

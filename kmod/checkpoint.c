// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoints: what explains a fault, captured when it is detected, before
 * it is gone (memory, load, the netdev's or block device's state and
 * counters, the task's state, cgroup and kernel stack, the end of the
 * kernel log), kept under an id in a bounded ring that GET_CHECKPOINT
 * reads.
 *
 * Detectors capture where they detect: the OOM probe inside the OOM
 * killer, with task_lock(victim) held and memory exhausted; the hung-task
 * scan under rcu_read_lock(). So a capture allocates nothing (the ring is
 * allocated at load), never sleeps, and takes no lock such a caller could
 * hold or wait on: counters are read without locks, the kernel log through
 * the lockless printk ring (kmsg_dump_get_line() takes no lock since 5.13),
 * and another task's stack only while its pi_lock holds off its wakeup.
 * A network driver's own counters are the exception: its ndo_get_stats64
 * may take the driver's locks, so the caller says whether it may be called.
 */
#include <linux/blkdev.h>
#include <linux/cgroup.h>
#include <linux/kmsg_dump.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/netdevice.h>
#include <linux/part_stat.h>
#include <linux/percpu.h>
#include <linux/sched/loadavg.h>
#include <linux/sched/task_stack.h>
#include <linux/spinlock.h>
#include <linux/stacktrace.h>
#include <linux/swap.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>
#include <net/rtnetlink.h>
#ifdef CONFIG_X86
#include <asm/unwind.h>
#endif

#include "kheal.h"

#define KHEAL_CP_STACK_DEPTH	32
#define KHEAL_CP_LOG_LINES	48	/* most kernel log records kept */
#define KHEAL_CP_LINE_MAX	256	/* a longer record is cut to this */
#define KHEAL_CP_LINE_BUF	1024	/* a record too long for it is left out */
#define KHEAL_CP_CUT		"...\n"

enum kheal_cp_state {
	KHEAL_CP_EMPTY,
	KHEAL_CP_WRITING,
	KHEAL_CP_READY,
};

static struct {
	spinlock_t lock;		/* protects everything below */
	struct kheal_checkpoint *ring;
	u32 size;
	u64 last;			/* last id assigned */
} kheal_cp = {
	.lock = __SPIN_LOCK_UNLOCKED(kheal_cp.lock),
};

/* A kernel log record, read with local interrupts disabled. */
static DEFINE_PER_CPU(char [KHEAL_CP_LINE_BUF], kheal_cp_line);

/* The text being written into a claimed slot. */
struct kheal_cp_text {
	char *buf;
	size_t size;			/* of buf, NUL included */
	size_t len;			/* always below size */
};

static __printf(2, 3) void kheal_cp_printf(struct kheal_cp_text *t,
					   const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	t->len += vscnprintf(t->buf + t->len, t->size - t->len, fmt, args);
	va_end(args);
}

static struct kheal_checkpoint *kheal_cp_slot(u64 id)
{
	return &kheal_cp.ring[(id - 1) % kheal_cp.size];
}

/*
 * Takes the slot of the next id. The oldest checkpoint goes, unless it is
 * still being written (as many captures in flight as the ring has slots):
 * then this capture is refused rather than wait.
 */
static struct kheal_checkpoint *kheal_cp_claim(void)
{
	struct kheal_checkpoint *cp;
	unsigned long flags;

	spin_lock_irqsave(&kheal_cp.lock, flags);
	cp = kheal_cp_slot(kheal_cp.last + 1);
	if (cp->state == KHEAL_CP_WRITING) {
		cp = NULL;
	} else {
		cp->id = ++kheal_cp.last;
		cp->time_ns = ktime_get_boottime_ns();
		cp->state = KHEAL_CP_WRITING;
		cp->len = 0;
	}
	spin_unlock_irqrestore(&kheal_cp.lock, flags);
	return cp;
}

static void kheal_cp_publish(struct kheal_checkpoint *cp, size_t len)
{
	unsigned long flags;

	spin_lock_irqsave(&kheal_cp.lock, flags);
	cp->len = len;
	cp->state = KHEAL_CP_READY;
	spin_unlock_irqrestore(&kheal_cp.lock, flags);
}

static void kheal_cp_kb(struct kheal_cp_text *t, const char *name,
			unsigned long pages)
{
	kheal_cp_printf(t, "  %-14s%10lu kB\n", name,
			pages << (PAGE_SHIFT - 10));
}

/* The figures of /proc/meminfo that tell where memory went. */
static void kheal_cp_memory(struct kheal_cp_text *t)
{
	kheal_cp_printf(t, "memory:\n");
	kheal_cp_kb(t, "MemTotal:", totalram_pages());
	kheal_cp_kb(t, "MemFree:", global_zone_page_state(NR_FREE_PAGES));
	kheal_cp_kb(t, "MemAvailable:", si_mem_available());
	kheal_cp_kb(t, "FilePages:", global_node_page_state(NR_FILE_PAGES));
	kheal_cp_kb(t, "Shmem:", global_node_page_state(NR_SHMEM));
	kheal_cp_kb(t, "AnonPages:", global_node_page_state(NR_ANON_MAPPED));
	kheal_cp_kb(t, "Dirty:", global_node_page_state(NR_FILE_DIRTY));
	kheal_cp_kb(t, "Writeback:", global_node_page_state(NR_WRITEBACK));
	kheal_cp_kb(t, "SReclaimable:",
		    global_node_page_state_pages(NR_SLAB_RECLAIMABLE_B));
	kheal_cp_kb(t, "SUnreclaim:",
		    global_node_page_state_pages(NR_SLAB_UNRECLAIMABLE_B));
	kheal_cp_kb(t, "PageTables:", global_node_page_state(NR_PAGETABLE));
	kheal_cp_kb(t, "SwapFree:", get_nr_swap_pages());
	kheal_cp_kb(t, "Committed_AS:", vm_memory_committed());
}

/* As /proc/loadavg rounds them. */
static void kheal_cp_load(struct kheal_cp_text *t)
{
	unsigned long a[3];
	int i;

	for (i = 0; i < ARRAY_SIZE(a); i++)
		a[i] = READ_ONCE(avenrun[i]) + FIXED_1 / 200;
	kheal_cp_printf(t, "load average: %lu.%02lu %lu.%02lu %lu.%02lu\n",
			LOAD_INT(a[0]), LOAD_FRAC(a[0]), LOAD_INT(a[1]),
			LOAD_FRAC(a[1]), LOAD_INT(a[2]), LOAD_FRAC(a[2]));
}

static const char *const kheal_cp_operstates[] = {
	[IF_OPER_UNKNOWN] = "unknown",
	[IF_OPER_NOTPRESENT] = "notpresent",
	[IF_OPER_DOWN] = "down",
	[IF_OPER_LOWERLAYERDOWN] = "lowerlayerdown",
	[IF_OPER_TESTING] = "testing",
	[IF_OPER_DORMANT] = "dormant",
	[IF_OPER_UP] = "up",
};

/* As ip link names them, in the order of their bits. */
static const struct {
	unsigned int flag;
	const char *name;
} kheal_cp_iff[] = {
	{ IFF_UP, "UP" },
	{ IFF_BROADCAST, "BROADCAST" },
	{ IFF_LOOPBACK, "LOOPBACK" },
	{ IFF_POINTOPOINT, "POINTOPOINT" },
	{ IFF_RUNNING, "RUNNING" },
	{ IFF_NOARP, "NOARP" },
	{ IFF_PROMISC, "PROMISC" },
	{ IFF_ALLMULTI, "ALLMULTI" },
	{ IFF_MASTER, "MASTER" },
	{ IFF_SLAVE, "SLAVE" },
	{ IFF_MULTICAST, "MULTICAST" },
	{ IFF_LOWER_UP, "LOWER_UP" },
	{ IFF_DORMANT, "DORMANT" },
};

/* Its link kind ("veth", "bond") or its parent device's driver. */
static const char *kheal_cp_netdev_driver(const struct net_device *dev)
{
	const struct device_driver *drv;

	if (dev->rtnl_link_ops)
		return dev->rtnl_link_ops->kind;
	drv = dev->dev.parent ? READ_ONCE(dev->dev.parent->driver) : NULL;
	return drv ? drv->name : "?";
}

static void kheal_cp_netdev_flags(struct kheal_cp_text *t,
				  const struct net_device *dev)
{
	unsigned int flags = dev_get_flags(dev);
	const char *sep = "";
	int i;

	kheal_cp_printf(t, "  flags 0x%x <", flags);
	for (i = 0; i < ARRAY_SIZE(kheal_cp_iff); i++) {
		if (!(flags & kheal_cp_iff[i].flag))
			continue;
		kheal_cp_printf(t, "%s%s", sep, kheal_cp_iff[i].name);
		sep = ",";
	}
	kheal_cp_printf(t, ">\n");
}

static void kheal_cp_netdev_dir(struct kheal_cp_text *t, const char *dir,
				u64 packets, u64 bytes, u64 errors, u64 dropped)
{
	kheal_cp_printf(t, "  %s: packets %llu bytes %llu errors %llu dropped %llu\n",
			dir, packets, bytes, errors, dropped);
}

/*
 * The counters ip -s link shows. The driver's ndo_get_stats64 is called
 * only when the caller allows it: some take a lock that their own process
 * context paths hold without disabling softirqs (e1000e's stats64_lock),
 * so called from a timer on the CPU holding it, it would never return.
 * Without the driver's counters, those the core keeps per CPU are read.
 */
static void kheal_cp_netdev_stats(struct kheal_cp_text *t,
				  struct net_device *dev, bool driver)
{
	const struct net_device_ops *ops = dev->netdev_ops;
	const struct net_device_core_stats __percpu *core;
	struct rtnl_link_stats64 s;
	unsigned long rx = 0, tx = 0;
	int cpu;

	/* Without the ops, dev_get_stats() only reads, as below. */
	if (driver || (!ops->ndo_get_stats64 && !ops->ndo_get_stats)) {
		dev_get_stats(dev, &s);
		kheal_cp_netdev_dir(t, "rx", s.rx_packets, s.rx_bytes,
				    s.rx_errors, s.rx_dropped);
		kheal_cp_netdev_dir(t, "tx", s.tx_packets, s.tx_bytes,
				    s.tx_errors, s.tx_dropped);
		return;
	}
	core = READ_ONCE(dev->core_stats);
	if (core) {
		for_each_possible_cpu(cpu) {
			rx += READ_ONCE(per_cpu_ptr(core, cpu)->rx_dropped);
			tx += READ_ONCE(per_cpu_ptr(core, cpu)->tx_dropped);
		}
	}
	kheal_cp_printf(t, "  rx: dropped %lu by the core\n", rx);
	kheal_cp_printf(t, "  tx: dropped %lu by the core\n", tx);
	kheal_cp_printf(t, "  driver counters: not read in this context\n");
}

static void kheal_cp_netdev_queues(struct kheal_cp_text *t,
				   struct net_device *dev, int timed_out)
{
	struct netdev_queue *txq;
	unsigned long timeouts = 0;
	unsigned int i;

	for (i = 0; i < dev->num_tx_queues; i++) {
		txq = netdev_get_tx_queue(dev, i);
		timeouts += atomic_long_read(&txq->trans_timeout);
	}
	kheal_cp_printf(t, "  tx_timeout %lu, TX queues %u\n", timeouts,
			dev->real_num_tx_queues);
	if (timed_out < 0 || timed_out >= dev->num_tx_queues)
		return;

	txq = netdev_get_tx_queue(dev, timed_out);
	kheal_cp_printf(t, "  tx queue %d: %s, last transmit %u ms ago, tx_timeout %lu",
			timed_out,
			netif_tx_queue_stopped(txq) ? "stopped by the driver" :
			netif_xmit_stopped(txq) ? "stopped by BQL" : "running",
			jiffies_to_msecs(jiffies - READ_ONCE(txq->trans_start)),
			atomic_long_read(&txq->trans_timeout));
#ifdef CONFIG_BQL
	/* Nothing ever queued: the driver does not use BQL (virtio-net). */
	if (READ_ONCE(txq->dql.num_queued))
		kheal_cp_printf(t, ", %u bytes queued to the device (BQL)",
				READ_ONCE(txq->dql.num_queued) -
				READ_ONCE(txq->dql.num_completed));
#endif
	kheal_cp_printf(t, "\n");
}

static void kheal_cp_netdev(struct kheal_cp_text *t,
			    const struct kheal_cp_dev *d)
{
	struct net_device *dev = d->netdev, *master;
	unsigned char operstate = READ_ONCE(dev->operstate);

	kheal_cp_printf(t, "netdev:\n  %s ifindex %d (%s)", dev->name,
			dev->ifindex, kheal_cp_netdev_driver(dev));
	rcu_read_lock();
	master = netdev_master_upper_dev_get_rcu(dev);
	if (master)
		kheal_cp_printf(t, ", master %s (%s)", master->name,
				kheal_cp_netdev_driver(master));
	rcu_read_unlock();
	kheal_cp_printf(t, "\n  operstate %s, carrier %s, mtu %u\n",
			operstate < ARRAY_SIZE(kheal_cp_operstates) ?
			kheal_cp_operstates[operstate] : "?",
			netif_carrier_ok(dev) ? "on" : "off",
			READ_ONCE(dev->mtu));
	kheal_cp_netdev_flags(t, dev);
	kheal_cp_netdev_stats(t, dev, d->driver_stats);
	kheal_cp_netdev_queues(t, dev, d->tx_queue);
}

static const char *const kheal_cp_stat_groups[NR_STAT_GROUPS] = {
	[STAT_READ] = "read",
	[STAT_WRITE] = "write",
	[STAT_DISCARD] = "discard",
	[STAT_FLUSH] = "flush",
};

/*
 * The I/O counters of /sys/block/DEV/stat, summed over the CPUs as
 * part_stat_read_all() does. Requests in flight are counted there for a
 * bio-based device (dm, md) only: blk-mq counts them by walking its tags,
 * which a module cannot.
 */
static void kheal_cp_bdev(struct kheal_cp_text *t, struct block_device *bdev)
{
	struct gendisk *disk = bdev->bd_disk;
	unsigned long ios[NR_STAT_GROUPS] = {}, merges[NR_STAT_GROUPS] = {};
	unsigned long sectors[NR_STAT_GROUPS] = {}, io_ticks = 0;
	u64 nsecs[NR_STAT_GROUPS] = {};
	long in_flight[2] = {};
	struct disk_stats *st;
	sector_t size = bdev_nr_sectors(bdev);
	bool mq = queue_is_mq(bdev_get_queue(bdev));
	int cpu, g;

	for_each_possible_cpu(cpu) {
		st = per_cpu_ptr(bdev->bd_stats, cpu);
		for (g = 0; g < NR_STAT_GROUPS; g++) {
			ios[g] += READ_ONCE(st->ios[g]);
			merges[g] += READ_ONCE(st->merges[g]);
			sectors[g] += READ_ONCE(st->sectors[g]);
			nsecs[g] += READ_ONCE(st->nsecs[g]);
		}
		io_ticks += READ_ONCE(st->io_ticks);
		in_flight[READ] += local_read(&st->in_flight[READ]);
		in_flight[WRITE] += local_read(&st->in_flight[WRITE]);
	}

	kheal_cp_printf(t, "block device:\n  %pg", bdev);
	if (bdev->bd_partno)
		kheal_cp_printf(t, " (partition %u of %s)", bdev->bd_partno,
				disk->disk_name);
	kheal_cp_printf(t, ": %llu sectors (%llu MiB), %s, %s%s\n",
			(unsigned long long)size,
			(unsigned long long)size >> (20 - SECTOR_SHIFT),
			mq ? "blk-mq" : "bio-based",
			bdev_read_only(bdev) ? "read-only" : "read-write",
			test_bit(GD_DEAD, &disk->state) ? ", dead" : "");
	for (g = 0; g < NR_STAT_GROUPS; g++)
		kheal_cp_printf(t, "  %-8s ios %lu merges %lu sectors %lu ticks %llu ms\n",
				kheal_cp_stat_groups[g], ios[g], merges[g],
				sectors[g], div_u64(nsecs[g], NSEC_PER_MSEC));
	if (mq)
		kheal_cp_printf(t, "  in flight: not counted (blk-mq), busy %u ms\n",
				jiffies_to_msecs(io_ticks));
	else
		kheal_cp_printf(t, "  in flight %ld (read %ld, write %ld), busy %u ms\n",
				max(in_flight[READ] + in_flight[WRITE], 0L),
				max(in_flight[READ], 0L),
				max(in_flight[WRITE], 0L),
				jiffies_to_msecs(io_ticks));
}

#if defined(CONFIG_X86) && defined(CONFIG_SMP)
/*
 * The stack of a task that is not current. stack_trace_save_tsk() is not
 * exported, so this walks with the x86 unwinder as it does, but only
 * while the task is pinned as task_call_func() pins it: blocked, with its
 * pi_lock held so that try_to_wake_up() cannot run it (or let it exit and
 * free its stack) under the walk. A runnable task's stack is not read.
 *
 * Return: the number of frames, or -EBUSY when the task was not blocked.
 */
static int kheal_cp_stack_blocked(struct task_struct *tsk,
				  unsigned long *entries, unsigned int max)
{
	struct unwind_state state;
	unsigned long flags, addr;
	unsigned int task_state;
	int n = -EBUSY;

	raw_spin_lock_irqsave(&tsk->pi_lock, flags);
	task_state = READ_ONCE(tsk->__state);
	/* Load on_rq after __state, as try_to_wake_up() explains. */
	smp_rmb();
	if (task_state == TASK_RUNNING ||
	    task_state & (TASK_WAKING | TASK_DEAD) ||
	    READ_ONCE(tsk->on_rq) || READ_ONCE(tsk->on_cpu) || !tsk->stack)
		goto out_unlock;

	n = 0;
	for (unwind_start(&state, tsk, NULL, NULL);
	     !unwind_done(&state) && n < max; unwind_next_frame(&state)) {
		addr = unwind_get_return_address(&state);
		if (!addr)
			break;
		entries[n++] = addr;
	}
out_unlock:
	raw_spin_unlock_irqrestore(&tsk->pi_lock, flags);
	return n;
}
#else
static int kheal_cp_stack_blocked(struct task_struct *tsk,
				  unsigned long *entries, unsigned int max)
{
	return -EOPNOTSUPP;
}
#endif

static void kheal_cp_stack(struct kheal_cp_text *t, struct task_struct *tsk)
{
	unsigned long entries[KHEAL_CP_STACK_DEPTH];
	int i, n;

	if (tsk == current)
		n = stack_trace_save(entries, ARRAY_SIZE(entries), 0);
	else
		n = kheal_cp_stack_blocked(tsk, entries, ARRAY_SIZE(entries));
	if (n == -EBUSY) {
		kheal_cp_printf(t, "stack: not read, the task was not blocked\n");
		return;
	}
	if (n <= 0) {
		kheal_cp_printf(t, "stack: not available\n");
		return;
	}
	kheal_cp_printf(t, "stack:\n");
	for (i = 0; i < n; i++)
		kheal_cp_printf(t, "  %pB\n", (void *)entries[i]);
}

static const char *const kheal_cp_state_names[] = {
	"running", "sleeping", "disk sleep", "stopped", "tracing stop",
	"dead", "zombie", "parked", "idle",
};

static void kheal_cp_memcg(struct kheal_cp_text *t, struct task_struct *tsk)
{
	struct mem_cgroup *memcg;
	unsigned long usage, max;

	if (mem_cgroup_disabled())
		return;
	rcu_read_lock();
	memcg = mem_cgroup_from_css(task_css(tsk, memory_cgrp_id));
	/* Nothing is charged to the root: it has no usage to show. */
	if (!memcg->css.parent) {
		rcu_read_unlock();
		return;
	}
	usage = page_counter_read(&memcg->memory);
	max = READ_ONCE(memcg->memory.max);
	rcu_read_unlock();

	kheal_cp_printf(t, "  memory.current %lu kB, memory.max ",
			usage << (PAGE_SHIFT - 10));
	if (max == PAGE_COUNTER_MAX)
		kheal_cp_printf(t, "max\n");
	else
		kheal_cp_printf(t, "%lu kB\n", max << (PAGE_SHIFT - 10));
}

/* Does not take task_lock(): the OOM probe runs with it held. */
static void kheal_cp_task(struct kheal_cp_text *t, struct task_struct *tsk)
{
	char path[KHEAL_CGROUP_PATH_LEN];
	char comm[TASK_COMM_LEN];
	unsigned int state = task_state_index(tsk);

	strscpy(comm, tsk->comm, sizeof(comm));
	rcu_read_lock();
	if (cgroup_path(task_dfl_cgroup(tsk), path, sizeof(path)) < 0)
		strscpy(path, "?", sizeof(path));
	rcu_read_unlock();

	kheal_cp_printf(t, "task:\n  pid %d tgid %d comm %s\n",
			task_pid_nr(tsk), task_tgid_nr(tsk), comm);
	kheal_cp_printf(t, "  state %c (%s), context switches %lu voluntary %lu involuntary\n",
			task_index_to_char(state),
			state < ARRAY_SIZE(kheal_cp_state_names) ?
			kheal_cp_state_names[state] : "?",
			READ_ONCE(tsk->nvcsw), READ_ONCE(tsk->nivcsw));
	kheal_cp_printf(t, "  cgroup %s\n", path);
	kheal_cp_memcg(t, tsk);
	kheal_cp_stack(t, tsk);
}

/*
 * One kernel log record, as dmesg prints it, each line of it prefixed.
 * One longer than KHEAL_CP_LINE_MAX is cut after its last whole line
 * that fits, or if none does, within its first, and "..." says so.
 * Return: the record was read; @iter moved past it.
 */
static bool kheal_cp_log_record(struct kheal_cp_text *t,
				struct kmsg_dump_iter *iter)
{
	unsigned long flags;
	char *line, *nl;
	size_t len;
	bool more;

	local_irq_save(flags);
	line = this_cpu_ptr(kheal_cp_line);
	more = kmsg_dump_get_line(iter, false, line, KHEAL_CP_LINE_BUF, &len);
	if (more && len > KHEAL_CP_LINE_MAX) {
		len = KHEAL_CP_LINE_MAX - strlen(KHEAL_CP_CUT);
		line[len] = '\0';
		nl = strrchr(line, '\n');
		if (nl)
			nl[1] = '\0';
		kheal_cp_printf(t, "%s%s", line, KHEAL_CP_CUT);
	} else if (more && len) {
		kheal_cp_printf(t, "%s", line);
	}
	local_irq_restore(flags);
	return more;
}

/*
 * The newest kernel log records that fit in what is left of the text, at
 * most KHEAL_CP_LOG_LINES: a first pass measures them, the second prints
 * from the oldest that leaves room for all the newer ones.
 */
static void kheal_cp_log(struct kheal_cp_text *t)
{
	static const char head[] = "kernel log (newest last):\n";
	u64 seqs[KHEAL_CP_LOG_LINES];
	size_t sizes[KHEAL_CP_LOG_LINES];
	struct kmsg_dump_iter iter;
	size_t len, room;
	unsigned int n = 0, first;
	u64 end;

	kmsg_dump_rewind(&iter);
	end = iter.next_seq;
	if (end - iter.cur_seq > KHEAL_CP_LOG_LINES)
		iter.cur_seq = end - KHEAL_CP_LOG_LINES;
	while (n < KHEAL_CP_LOG_LINES && iter.cur_seq < end &&
	       kmsg_dump_get_line(&iter, false, NULL, 0, &len)) {
		seqs[n] = iter.cur_seq - 1;
		sizes[n++] = min_t(size_t, len, KHEAL_CP_LINE_MAX);
	}

	room = t->size - 1 - t->len;
	if (room < sizeof(head))
		return;
	room -= sizeof(head) - 1;
	for (first = n; first > 0 && sizes[first - 1] <= room; first--)
		room -= sizes[first - 1];

	kheal_cp_printf(t, "%s", head);
	if (first == n) {
		kheal_cp_printf(t, "  (none)\n");
		return;
	}
	iter.cur_seq = seqs[first];
	while (iter.cur_seq <= seqs[n - 1] && kheal_cp_log_record(t, &iter))
		;
}

/**
 * kheal_checkpoint_take() - capture what explains a fault, now
 * @tsk: the task the fault is about, or NULL; the caller keeps it alive
 * @flags: KHEAL_CP_* sections to capture
 * @dev: the device the fault is about, or NULL (KHEAL_CP_DEVICE)
 *
 * Callable from any context but NMI, with any lock held but a task's
 * pi_lock or a runqueue lock: it allocates nothing and does not sleep.
 * A network driver's counters are read only when @dev->driver_stats says
 * the context allows it.
 * Kernel log records are cut to 256 bytes; the text is at most
 * KHEAL_CHECKPOINT_TEXT_LEN bytes, NUL included, the log getting what
 * the other sections leave.
 *
 * Return: the checkpoint's id, for KHEAL_A_CHECKPOINT_ID, or 0 when none
 * was taken (as many captures in flight as the ring has slots).
 */
u64 kheal_checkpoint_take(struct task_struct *tsk, unsigned int flags,
			  const struct kheal_cp_dev *dev)
{
	struct kheal_checkpoint *cp;
	struct kheal_cp_text t;
	u64 id;

	cp = kheal_cp_claim();
	if (!cp)
		return 0;
	id = cp->id;

	t = (struct kheal_cp_text){ .buf = cp->text, .size = sizeof(cp->text) };
	kheal_cp_printf(&t, "checkpoint %llu at %llu.%06lu s (CLOCK_BOOTTIME) on cpu %d\n",
			id, div_u64(cp->time_ns, NSEC_PER_SEC),
			(unsigned long)(div_u64(cp->time_ns, NSEC_PER_USEC) %
					USEC_PER_SEC),
			raw_smp_processor_id());
	if (flags & KHEAL_CP_MEMORY)
		kheal_cp_memory(&t);
	if (flags & KHEAL_CP_LOAD)
		kheal_cp_load(&t);
	if (dev && dev->netdev && flags & KHEAL_CP_DEVICE)
		kheal_cp_netdev(&t, dev);
	if (dev && dev->bdev && flags & KHEAL_CP_DEVICE)
		kheal_cp_bdev(&t, dev->bdev);
	if (tsk && flags & KHEAL_CP_TASK)
		kheal_cp_task(&t, tsk);
	if (flags & KHEAL_CP_LOG)
		kheal_cp_log(&t);

	/* Once published, the slot may be taken again at any time. */
	kheal_cp_publish(cp, t.len);
	return id;
}

/**
 * kheal_checkpoint_copy() - copy a checkpoint out of the ring
 * @id: its id
 * @out: where to copy it
 * @last: set to the last id assigned, so that the caller can tell an id
 *	not yet given from one that has left the ring
 *
 * Return: 0; -ENOENT when no checkpoint with @id is held; -EAGAIN while
 * it is still being written.
 */
int kheal_checkpoint_copy(u64 id, struct kheal_checkpoint *out, u64 *last)
{
	struct kheal_checkpoint *cp;
	unsigned long flags;
	int ret = 0;

	spin_lock_irqsave(&kheal_cp.lock, flags);
	*last = kheal_cp.last;
	cp = id ? kheal_cp_slot(id) : NULL;
	if (!cp || id > kheal_cp.last || cp->id != id) {
		ret = -ENOENT;
	} else if (cp->state != KHEAL_CP_READY) {
		ret = -EAGAIN;
	} else {
		out->id = cp->id;
		out->time_ns = cp->time_ns;
		out->state = cp->state;
		out->len = cp->len;
		memcpy(out->text, cp->text, cp->len + 1);
	}
	spin_unlock_irqrestore(&kheal_cp.lock, flags);
	return ret;
}

/**
 * kheal_checkpoint_init() - allocate the ring
 * @size: capacity in checkpoints
 *
 * Return: 0 or -ENOMEM.
 */
int kheal_checkpoint_init(unsigned int size)
{
	kheal_cp.ring = vzalloc(array_size(size, sizeof(*kheal_cp.ring)));
	if (!kheal_cp.ring)
		return -ENOMEM;
	kheal_cp.size = size;
	return 0;
}

/**
 * kheal_checkpoint_free() - free the ring once nothing can take or read
 */
void kheal_checkpoint_free(void)
{
	vfree(kheal_cp.ring);
	kheal_cp.ring = NULL;
}

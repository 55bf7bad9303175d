/* SPDX-License-Identifier: GPL-2.0 */
/* The runbook actions and checks: what each one does to the host. */
#ifndef KHEAL_ACTIONS_H
#define KHEAL_ACTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/*
 * What the executors act on, passed as the `void *ctx` of kheal_action_fn
 * and kheal_check_fn. Tests point the roots at directory trees of their
 * own. cgroup_root must be a cgroup2 mount (or a tree shaped like one)
 * whose root is the agent's cgroup namespace root, so that the paths in
 * <proc_root>/PID/cgroup name directories below it.
 */
struct Kheal__Context;
struct kheal_memtrack;

struct kheal_exec_ctx {
	const char *cgroup_root;	/* "/sys/fs/cgroup"; NULL: none */
	const char *proc_root;		/* "/proc" */
	pid_t self;			/* the agent, getpid() */
	/* What was recorded when the incident acted on opened (service.h). */
	const struct Kheal__Context *incident;
	/* kheald --psi's growth tracker (memtrack.h), or NULL. */
	struct kheal_memtrack *memtrack;
	uint64_t incident_id;		/* the incident acted on */
	/* host.reboot's request file; NULL: KHEAL_REBOOT_REQUEST_PATH */
	const char *reboot_request;
	const char *sys_root;		/* NULL: "/sys" */
};

/*
 * The actions, as kheal_action_fn (runbook.h), args indexed as the action
 * table lists the params. Each returns 0 or -errno with @err saying what
 * failed on what. On success @err->msg is empty, or holds a note for the
 * caller to journal beside the step's outcome: the step did what it could
 * but the host was not quite as asked (a freeze that left tasks in D state
 * behind, a kill of a process that was already gone). Waits are bounded by
 * @timeout_ms on CLOCK_MONOTONIC; 0 looks once.
 *
 * Every cgroup argument must name a cgroup strictly below cgroup_root:
 * absolute, without "//", "..", a "." component or control characters,
 * resolving (symlinks followed) below the root; -EPERM otherwise, as for
 * freezing or killing a cgroup that holds pid 1, the agent or the agent's
 * parent (or if that cannot be told). -ENOENT if the cgroup does not exist.
 *
 * cgroup.freeze {cgroup}: writes 1 to cgroup.freeze and waits for
 *	cgroup.events to say "frozen 1". A task in D state cannot reach the
 *	freezer until it wakes, so a cgroup with a hung task never says so:
 *	if at the timeout every task of the subtree that is not frozen
 *	(trapped in do_freezer_trap, stopped, or exited) is in D state, the
 *	freeze returns 0 with the note "cgroup /x: N tasks in D state could
 *	not be frozen; the rest are (...)". Otherwise -ETIMEDOUT naming a
 *	task still running, and the freeze stays asked for (a rollback
 *	thaws); -EOPNOTSUPP if the kernel has no cgroup.freeze (before 5.2).
 * cgroup.thaw {cgroup}: writes 0 to cgroup.freeze and waits for "frozen 0"
 *	(which never comes while an ancestor is frozen: -ETIMEDOUT says so).
 * cgroup.kill {cgroup}: writes 1 to cgroup.kill and waits for "populated 0";
 *	-ETIMEDOUT says how many processes remain, -EOPNOTSUPP if the kernel
 *	has no cgroup.kill (before 5.14).
 * task.kill {pid, signal}: sends the signal (a name as the runbook parser
 *	takes it, KILL or SIGKILL, or a number) through a pidfd (Linux 5.3),
 *	so a recycled pid is never hit, and waits until the process has
 *	exited (a zombie counts as exited). Refuses (-EPERM) pids 0 and 1,
 *	the agent, its parent and kernel threads. A process already gone is
 *	a success, with a note; a thread id that is not a process is -EINVAL.
 * escalate {message, target}, notify {message, target}: change nothing.
 *	They check there is a message (-EINVAL if empty) and return 0; the
 *	caller journals the message for the target.
 */
int kheal_action_cgroup_freeze(const char *const *args, uint64_t timeout_ms,
			       void *ctx, struct kheal_err *err);
int kheal_action_cgroup_thaw(const char *const *args, uint64_t timeout_ms,
			     void *ctx, struct kheal_err *err);
int kheal_action_cgroup_kill(const char *const *args, uint64_t timeout_ms,
			     void *ctx, struct kheal_err *err);
int kheal_action_task_kill(const char *const *args, uint64_t timeout_ms,
			   void *ctx, struct kheal_err *err);
int kheal_action_escalate(const char *const *args, uint64_t timeout_ms,
			  void *ctx, struct kheal_err *err);
int kheal_action_notify(const char *const *args, uint64_t timeout_ms,
			void *ctx, struct kheal_err *err);

/*
 * The checks, as kheal_check_fn: 1 if it holds, 0 if not, -errno if it
 * cannot be told. The cgroup argument is held to the rules above.
 *
 * cgroup.empty {cgroup}: cgroup.events says "populated 0", or the cgroup
 *	no longer exists.
 * task.gone {pid}: no such process under proc_root, or a zombie.
 */
int kheal_check_cgroup_empty(const char *const *args, void *ctx,
			     struct kheal_err *err);
int kheal_check_task_gone(const char *const *args, void *ctx,
			  struct kheal_err *err);

/*
 * Opens the directory of @cgroup below x->cgroup_root, held to the rules
 * above (minus the one on who the cgroup holds), for reading its files.
 * Returns the descriptor or -errno.
 */
/* What every executor starts with: the note cleared, the context checked. */
void kheal_exec_note_clear(struct kheal_err *err);
const struct kheal_exec_ctx *kheal_exec_ctx_of(void *ctx,
					       struct kheal_err *err);
/* CLOCK_MONOTONIC, which every executor's waits are bounded on. */
uint64_t kheal_exec_now_ns(void);
void kheal_exec_sleep_ms(uint64_t ms);

int kheal_exec_cgroup_open(const struct kheal_exec_ctx *x, const char *cgroup,
			   struct kheal_err *err);

/*
 * Reads at most @len - 1 bytes of @path, relative to @dirfd (or AT_FDCWD),
 * and NUL-terminates them. Returns the length read, or -errno.
 */
ssize_t kheal_exec_read_file(int dirfd, const char *path, char *buf,
			     size_t len);

/*
 * task.kill's rules and kill, for an executor that picks the process
 * itself: @sig to @pid, refused as task.kill refuses, waited for as
 * task.kill waits. @starttime, if not 0, is the process's start time as
 * it was picked (/proc/PID/stat field 22): once the pidfd pins the pid,
 * another start time means the process picked has exited, a success
 * with a note, nothing signalled. @within, if not NULL or "/", is a
 * cgroup the process must still be in or below (-EPERM otherwise).
 */
int kheal_exec_task_kill(const struct kheal_exec_ctx *x, pid_t pid,
			 uint64_t starttime, const char *within, int sig,
			 uint64_t timeout_ms, struct kheal_err *err);

/*
 * The network executors (actions_netdev.c), through rtnetlink in the
 * agent's network namespace; ctx is not used. {dev} is a device name held
 * to the kernel's rules (-EINVAL otherwise); -ENODEV if there is no such
 * device. Each reads the link back after acting; a success with nothing
 * to do leaves a note.
 *
 * netdev.down {dev}: clears IFF_UP, isolating the device. Refused (-EPERM):
 *	the loopback device; a bond slave that has its carrier while no
 *	other slave of its bond is up with carrier; any other device
 *	through which a default route (IPv4 or IPv6, any table) leaves, or
 *	may leave (a nexthop object), or when that cannot be told. The
 *	kernel deletes the routes through a device it takes down, and
 *	netdev.up does not bring them back: a bond slave has none.
 * netdev.up {dev}: sets IFF_UP. It does not wait for the carrier.
 * bond.failover {dev}: dev is a failing slave; its master must be a bond
 *	(-EINVAL) in a mode with an active slave: active-backup, balance-tlb
 *	or balance-alb (-EOPNOTSUPP). If the bond already uses another slave
 *	that is up with carrier, nothing is done (a note). Otherwise it
 *	makes another slave that is up with carrier the active one
 *	(IFLA_BOND_ACTIVE_SLAVE), preferring one whose link the bond sees up,
 *	then the bond's primary; -ENODEV if there is none.
 *
 * netdev.carrier {dev}: the device is up and has its carrier.
 * bond.active_ok {dev}: dev's bond has an active slave other than dev
 *	that is up with carrier. -EINVAL if dev is not a bond slave.
 */
int kheal_action_netdev_down(const char *const *args, uint64_t timeout_ms,
			     void *ctx, struct kheal_err *err);
int kheal_action_netdev_up(const char *const *args, uint64_t timeout_ms,
			   void *ctx, struct kheal_err *err);
int kheal_action_bond_failover(const char *const *args, uint64_t timeout_ms,
			       void *ctx, struct kheal_err *err);
int kheal_check_netdev_carrier(const char *const *args, void *ctx,
			       struct kheal_err *err);
int kheal_check_bond_active_ok(const char *const *args, void *ctx,
			       struct kheal_err *err);

/*
 * The memory executors (actions_memory.c). Their cgroup argument follows
 * the rules above, except that "/" is allowed: the whole host, whose
 * pressure is /proc/pressure/memory.
 *
 * memory.kill_leaker {cgroup}: SIGKILLs the process of @cgroup's subtree
 *	whose memory (resident and swapped) grew most over the last
 *	KHEAL_MEMTRACK_WINDOW_MS
 *	(memtrack.h): growth, not size, so a large steady process is left
 *	alone. From x->memtrack when it tracks that subtree and has samples
 *	spanning 500 ms or more (kheald --psi), sampled once more first;
 *	else from two samples of its own 500 ms apart. Processes task.kill
 *	refuses are passed over, and so are those whose oom_score_adj is
 *	-1000 (the admin's "never kill"); one that grew less than 1 MiB
 *	is no leaker: -ESRCH if none is left, nothing killed. The note says
 *	who was killed, how much it grew in how long, and the margin at the
 *	kill: memory.max - memory.current of the cgroup (or of the nearest
 *	ancestor with a limit), else the host's MemAvailable.
 *
 * memory.pressure_ok {cgroup, stall_pct}: tasks of @cgroup ("/": any)
 *	stalled on memory ("some") at most @stall_pct percent of the time
 *	over 200 ms measured now: the "total" stall time read twice, since
 *	avg10 trails a relief by ten seconds and more. A cgroup that no
 *	longer exists holds.
 */
int kheal_action_memory_kill_leaker(const char *const *args,
				    uint64_t timeout_ms, void *ctx,
				    struct kheal_err *err);
int kheal_check_memory_pressure_ok(const char *const *args, void *ctx,
				   struct kheal_err *err);

#define KHEAL_REBOOT_REQUEST_PATH	"/run/kheal/reboot-requested"

/*
 * host.reboot {reason}: kheal never reboots a host itself. It writes a
 *	request (atomically, 0644), "incident=N\nreason=...\nrequested_at=
 *	UNIX_S\nagent_pid=PID\n", for a rebooter that holds the fleet's
 *	reboot lock (kured's sentinel, locksmith...) to honour when it may.
 *	A request already there is kept, with a note: the host reboots once.
 */
int kheal_action_host_reboot(const char *const *args, uint64_t timeout_ms,
			     void *ctx, struct kheal_err *err);

/*
 * The storage executors (actions_block.c), through sysfs below
 * x->sys_root and <proc_root>/self/mountinfo. {dev} and {spare} are block
 * device names as the kernel gives them (sdb, dm-0, md0): letters,
 * digits, '_', '-', '.', not starting with '.' (-EINVAL otherwise);
 * -ENODEV if there is no such device. Nothing touches the device of the
 * root filesystem, a partition of it, or a device stacked on them (an md
 * array holding it, dm on top): -EPERM, as when that cannot be told.
 * An md member's array is found through /sys/class/block/DEV/holders and
 * the array's md/dev-DEV.
 *
 * md.fail_member {dev}: writes "faulty" to md/dev-DEV/state of dev's array
 *	and reads it back; already faulty is a success with a note; -EBUSY
 *	if md keeps it (the array's last working member).
 * md.add_spare {dev, spare}: gets dev's degraded array recovering onto a
 *	spare. Not degraded, or already recovering (md starts recovery onto
 *	a spare of its own when a member fails): a note, nothing done. With
 *	a spare in the array (state "spare") it writes "recover" to
 *	md/sync_action; with none, it adds {spare} (optional) with mdadm
 *	--manage /dev/MD --add /dev/SPARE (mdadm writes the superblock md
 *	needs); neither: -ENODEV. Then waits until recovery runs or the array
 *	is whole again; -ETIMEDOUT if not.
 * md.remove_member {dev}: writes "remove" to a faulty member's state
 *	(-EBUSY if it is not faulty) and checks the array no longer lists it.
 * fs.remount_ro {dev}: remounts read-only every read-write mount of dev or
 *	of its partitions (/proc/self/mountinfo), keeping each mount's
 *	nosuid, nodev, noexec and atime flags; mount(2) runs in a child, so
 *	a filesystem stuck on its device costs at most the timeout
 *	(-ETIMEDOUT). A filesystem that cannot sync to its failing device
 *	refuses to go read-only: then its mount is made read-only
 *	(MS_BIND), with a note. -ENOENT if nothing of dev is mounted;
 *	-EBUSY if files are open for writing.
 *
 * md.member {dev}: dev is listed in an md array (in any state).
 * md.resynced {dev}: dev's array (dev still listed, as a faulty member is)
 *	has md/degraded 0, sync_action idle and array_state clean, active or
 *	active-idle. -ENODEV if dev is no longer listed.
 * fs.mounted {dev}: a filesystem of dev or of a partition is mounted.
 * fs.readonly {dev}: every mount of dev and its partitions is read-only
 *	(the filesystem, or the mount); holds if none is mounted.
 */
int kheal_action_md_fail_member(const char *const *args, uint64_t timeout_ms,
				void *ctx, struct kheal_err *err);
int kheal_action_md_add_spare(const char *const *args, uint64_t timeout_ms,
			      void *ctx, struct kheal_err *err);
int kheal_action_md_remove_member(const char *const *args,
				  uint64_t timeout_ms, void *ctx,
				  struct kheal_err *err);
int kheal_action_fs_remount_ro(const char *const *args, uint64_t timeout_ms,
			       void *ctx, struct kheal_err *err);
int kheal_check_md_member(const char *const *args, void *ctx,
			  struct kheal_err *err);
int kheal_check_md_resynced(const char *const *args, void *ctx,
			    struct kheal_err *err);
int kheal_check_fs_mounted(const char *const *args, void *ctx,
			   struct kheal_err *err);
int kheal_check_fs_readonly(const char *const *args, void *ctx,
			    struct kheal_err *err);

#endif

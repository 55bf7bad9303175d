/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The names of the values of kheal's UAPI enums, as the agent and the
 * tools print them: hung_task, oom_kill... One table for all userspace
 * (agent/event.c, bpf/kheal-bpf-trace.c), next to the one schema,
 * <linux/kheal.h>. Not UAPI: the kernel prints none of them.
 */
#ifndef _KHEAL_NAMES_H
#define _KHEAL_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include <linux/kheal.h>

#define KHEAL_NAMES_N(a)	(sizeof(a) / sizeof((a)[0]))

/* The name of event kind @kind; NULL for a value this build lacks. */
static inline const char *kheal_name_kind(uint32_t kind)
{
	static const char *const names[] = {
		[KHEAL_EVENT_HUNG_TASK]		= "hung_task",
		[KHEAL_EVENT_HUNG_TASK_RESOLVED] = "hung_task_resolved",
		[KHEAL_EVENT_OOM_KILL]		= "oom_kill",
		[KHEAL_EVENT_MEM_PRESSURE]	= "mem_pressure",
		[KHEAL_EVENT_TASK_CRASH]	= "task_crash",
		[KHEAL_EVENT_NETDEV_TX_TIMEOUT]	= "netdev_tx_timeout",
		[KHEAL_EVENT_NETDEV_CARRIER]	= "netdev_carrier",
		[KHEAL_EVENT_BLOCK_IO_ERROR]	= "block_io_error",
		[KHEAL_EVENT_DISK_STALL]	= "disk_stall",
		[KHEAL_EVENT_SOFT_LOCKUP]	= "soft_lockup",
		[KHEAL_EVENT_RCU_STALL]		= "rcu_stall",
		[KHEAL_EVENT_OOPS]		= "oops",
		[KHEAL_EVENT_SYNTHETIC]		= "synthetic",
	};
	_Static_assert(KHEAL_NAMES_N(names) == KHEAL_EVENT_MAX + 1,
		       "every event kind has a name");

	return kind < KHEAL_NAMES_N(names) ? names[kind] : NULL;
}

static inline const char *kheal_name_severity(uint32_t severity)
{
	static const char *const names[] = {
		[KHEAL_SEV_INFO]	= "info",
		[KHEAL_SEV_NOTICE]	= "notice",
		[KHEAL_SEV_WARNING]	= "warning",
		[KHEAL_SEV_ERROR]	= "error",
		[KHEAL_SEV_CRITICAL]	= "critical",
	};
	_Static_assert(KHEAL_NAMES_N(names) == KHEAL_SEV_MAX + 1,
		       "every severity has a name");

	return severity < KHEAL_NAMES_N(names) ? names[severity] : NULL;
}

static inline const char *kheal_name_oom_constraint(uint32_t constraint)
{
	static const char *const names[] = {
		[KHEAL_OOM_UNKNOWN]	= "unknown",
		[KHEAL_OOM_GLOBAL]	= "global",
		[KHEAL_OOM_MEMCG]	= "memcg",
	};
	_Static_assert(KHEAL_NAMES_N(names) == KHEAL_OOM_MAX + 1,
		       "every OOM constraint has a name");

	return constraint < KHEAL_NAMES_N(names) ? names[constraint] : NULL;
}

#undef KHEAL_NAMES_N

#endif /* _KHEAL_NAMES_H */

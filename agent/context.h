/* SPDX-License-Identifier: GPL-2.0 */
/* What explained a fault when its incident opened, from /proc and /sys. */
#ifndef KHEAL_CONTEXT_H
#define KHEAL_CONTEXT_H

#include "actions.h"
#include "err.h"
#include "event.h"
#include "kheal.pb-c.h"

/* The most any one text of a context holds, as read. */
#define KHEAL_CONTEXT_TEXT_MAX	4096
/* The most stack frames kept. */
#define KHEAL_CONTEXT_FRAMES	64

/*
 * Fills a new Context for @ev from x->proc_root and x->cgroup_root (either
 * may be NULL, as may @x: then that part is absent):
 *
 *   psi_memory, psi_io, psi_cpu	<proc_root>/pressure/{memory,io,cpu}
 *   meminfo		the lines of <proc_root>/meminfo for MemTotal,
 *			MemFree, MemAvailable, Buffers, Cached, SwapTotal,
 *			SwapFree, Dirty, Writeback, Slab and Committed_AS, in
 *			the kernel's order
 *   task_state		the State: line of the event's pid, "D (disk sleep)"
 *   wchan		its wchan (absent if the kernel says "0": none)
 *   stack		its kernel stack, "func+0x1a/0x40", innermost first
 *			(reading it needs root)
 *   cgroup_memory	"current N max M" (M may be "max") of the event's
 *			cgroup_path
 *   cgroup_procs	the processes in that cgroup (not its children)
 *
 * Text is kept as the kernel wrote it, a trailing newline dropped; each is
 * read up to KHEAL_CONTEXT_TEXT_MAX bytes. What cannot be read (the task
 * is gone, the file missing, no permission, a cgroup path the executors
 * would refuse) is left absent. related, checkpoint_id and checkpoint are
 * the caller's to fill. Returns 0 with *@out set, or -ENOMEM.
 *
 * Every field is malloc'ed, so that kheal_context_free() - which is
 * kheal__context__free_unpacked() with the default allocator - frees the
 * lot, what the caller added included if it was malloc'ed too.
 */
int kheal_context_gather(const struct kheal_event *ev,
			 const struct kheal_exec_ctx *x, Kheal__Context **out,
			 struct kheal_err *err);
void kheal_context_free(Kheal__Context *c);

#endif

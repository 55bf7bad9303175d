/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A service: the processes of a cgroup as kheald recorded them when an
 * incident opened, so that it can start the service again and check
 * that it answers, with no service manager to ask.
 */
#ifndef KHEAL_SERVICE_H
#define KHEAL_SERVICE_H

#include <stdint.h>

#include "actions.h"
#include "err.h"
#include "kheal.pb-c.h"

/* The most processes and ports recorded per cgroup. */
#define KHEAL_SERVICE_MAX_PROCS	16
#define KHEAL_SERVICE_MAX_PORTS	8

/*
 * Records in @c->processes the processes of @cgroup (below x->cgroup_root)
 * that are not in D state: pid, parent, executable, command line, working
 * directory, state and the TCP ports they listen on; the main process
 * (whose parent is outside the cgroup) first. A task in D state may hold
 * its mmap_lock, and reading its command line would block kheald behind
 * it: such tasks are skipped. Unreadable processes are skipped too.
 * Returns 0, or -ENOMEM.
 */
int kheal_service_record(const struct kheal_exec_ctx *x, const char *cgroup,
			 Kheal__Context *c);

/*
 * service.restart {cgroup}: starts the recorded main process of @cgroup
 * again, in @cgroup, from its executable, command line and working
 * directory, with stdio on /dev/null, in a session of its own and
 * reparented away from kheald. Nothing recorded is a success with a note
 * (the service manager, if any, restarts it). -EPERM for a cgroup the
 * executors refuse; -ENOEXEC with the reason if the exec failed.
 * x->incident must be the incident's context.
 *
 * service.ok {cgroup} (a check): if ports were recorded, each accepts a
 * TCP connection on the loopback address within a second; else if a main
 * process was recorded, a process of the same executable runs in
 * @cgroup; else @cgroup is empty.
 */
int kheal_action_service_restart(const char *const *args, uint64_t timeout_ms,
				 void *ctx, struct kheal_err *err);
int kheal_check_service_ok(const char *const *args, void *ctx,
			   struct kheal_err *err);

#endif

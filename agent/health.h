/* SPDX-License-Identifier: GPL-2.0 */
/* The health registry: a state per subsystem, and what events imply. */
#ifndef KHEAL_HEALTH_H
#define KHEAL_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "event.h"

enum kheal_subsys_type {
	KHEAL_SUBSYS_TASK,		/* name: the pid */
	KHEAL_SUBSYS_CGROUP,		/* name: the cgroup v2 path */
	KHEAL_SUBSYS_MEMORY,		/* name: a memcg path, or "global" */
	KHEAL_SUBSYS_NETDEV,		/* name: the interface */
	KHEAL_SUBSYS_BLOCK,		/* name: the disk */
	KHEAL_SUBSYS_FILESYSTEM,	/* name: the mount point */
	KHEAL_SUBSYS_KERNEL,		/* no name: there is one */

	KHEAL_SUBSYS_NTYPES
};

/*
 * Allowed transitions (row: from, column: to). The main path is
 * healthy -> degraded -> failed -> recovering -> healthy; a fault may
 * also clear by itself (degraded or failed -> healthy); isolated is
 * fenced off on purpose and leaves only through recovering or a human;
 * escalated belongs to a human until recovering, healthy or isolated.
 *
 *              healthy degraded failed recovering isolated escalated
 *  healthy        -       y       y        .          y        .
 *  degraded       y       -       y        y          y        y
 *  failed         y       .       -        y          y        y
 *  recovering     y       .       y        -          y        y
 *  isolated       .       .       .        y          -        y
 *  escalated      y       .       .        y          y        -
 */
enum kheal_health_state {
	KHEAL_HEALTHY,
	KHEAL_DEGRADED,
	KHEAL_FAILED,
	KHEAL_RECOVERING,
	KHEAL_ISOLATED,
	KHEAL_ESCALATED,

	KHEAL_HEALTH_NSTATES
};

#define KHEAL_SUBSYS_NAME_LEN	KHEAL_CGROUP_PATH_LEN
/* "filesystem:" and a name */
#define KHEAL_HEALTH_ID_LEN	(KHEAL_SUBSYS_NAME_LEN + 16)
#define KHEAL_HEALTH_CAUSE_LEN	256

const char *kheal_subsys_type_name(enum kheal_subsys_type type);
const char *kheal_health_state_name(enum kheal_health_state state);

struct kheal_subsystem {
	enum kheal_subsys_type type;
	char name[KHEAL_SUBSYS_NAME_LEN];
	enum kheal_health_state state;
	uint64_t since_ns;		/* of the last transition or creation */
	char cause[KHEAL_HEALTH_CAUSE_LEN];	/* of the last transition */
};

/*
 * Called before every transition, to journal it; an error stops the
 * transition, so nothing changes state without its record.
 */
typedef int (*kheal_health_hook_fn)(void *arg,
				    const struct kheal_subsystem *sub,
				    enum kheal_health_state to,
				    const char *cause, uint64_t time_ns,
				    struct kheal_err *err);

/* Subsystems in the order they were first named; looked up linearly. */
struct kheal_health {
	struct kheal_subsystem **v;
	size_t n;
	size_t count[KHEAL_HEALTH_NSTATES];
	kheal_health_hook_fn hook;
	void *hook_arg;
};

void kheal_health_init(struct kheal_health *h, kheal_health_hook_fn hook,
		       void *arg);
void kheal_health_free(struct kheal_health *h);

/* The subsystem, or NULL if nothing named it yet. */
struct kheal_subsystem *kheal_health_find(const struct kheal_health *h,
					  enum kheal_subsys_type type,
					  const char *name);

/* The subsystem, created healthy at @now_ns if nothing named it yet. */
int kheal_health_get(struct kheal_health *h, enum kheal_subsys_type type,
		     const char *name, uint64_t now_ns,
		     struct kheal_subsystem **out, struct kheal_err *err);

bool kheal_health_allowed(enum kheal_health_state from,
			  enum kheal_health_state to);

/*
 * Moves @sub to @to for @cause at @now_ns, after the hook recorded it.
 * Staying in the same state is no transition: 0, and no hook. A move the
 * table above forbids: -EINVAL, naming from and to.
 */
int kheal_health_transition(struct kheal_health *h,
			    struct kheal_subsystem *sub,
			    enum kheal_health_state to, const char *cause,
			    uint64_t now_ns, struct kheal_err *err);

static inline size_t kheal_health_count(const struct kheal_health *h,
					enum kheal_health_state state)
{
	return state < KHEAL_HEALTH_NSTATES ? h->count[state] : 0;
}

#define kheal_health_for_each(h, i, sub)				\
	for ((i) = 0; (i) < (h)->n && ((sub) = (h)->v[(i)]); (i)++)

/* "cgroup:/system.slice/a.service", "kernel": what runbooks match on. */
int kheal_health_id(enum kheal_subsys_type type, const char *name, char *buf,
		    size_t len);

/* The subsystem an event names, and the state it implies. */
struct kheal_health_target {
	enum kheal_subsys_type type;
	char name[KHEAL_SUBSYS_NAME_LEN];
	enum kheal_health_state state;
};

/*
 * From the one table of event kinds in health.c. -ENOENT for an event
 * that names no subsystem (synthetic), -EINVAL for one that lacks the
 * attribute its kind is named by (a netdev event without a dev).
 */
int kheal_health_event_target(const struct kheal_event *ev,
			      struct kheal_health_target *t,
			      struct kheal_err *err);

/*
 * Applies an event: creates the subsystem it names and moves it to the
 * state the event implies, if the table allows that move. An event never
 * overrides what the agent or a human decided: a failed subsystem stays
 * failed on a warning, an escalated one stays with its human. Returns 1
 * if the state changed, 0 if not, or -errno; *out is the subsystem.
 */
int kheal_health_observe(struct kheal_health *h, const struct kheal_event *ev,
			 uint64_t now_ns, struct kheal_subsystem **out,
			 struct kheal_err *err);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * The health registry: subsystems created as events name them, each with
 * a state whose transitions follow the table in health.h and are recorded
 * through a hook before they happen.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "json.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static const char *const type_names[] = {
	[KHEAL_SUBSYS_TASK]		= "task",
	[KHEAL_SUBSYS_CGROUP]		= "cgroup",
	[KHEAL_SUBSYS_MEMORY]		= "memory",
	[KHEAL_SUBSYS_NETDEV]		= "netdev",
	[KHEAL_SUBSYS_BLOCK]		= "block",
	[KHEAL_SUBSYS_FILESYSTEM]	= "filesystem",
	[KHEAL_SUBSYS_KERNEL]		= "kernel",
};
_Static_assert(ARRAY_SIZE(type_names) == KHEAL_SUBSYS_NTYPES,
	       "every subsystem type has a name");

static const char *const state_names[] = {
	[KHEAL_HEALTHY]		= "healthy",
	[KHEAL_DEGRADED]	= "degraded",
	[KHEAL_FAILED]		= "failed",
	[KHEAL_RECOVERING]	= "recovering",
	[KHEAL_ISOLATED]	= "isolated",
	[KHEAL_ESCALATED]	= "escalated",
};
_Static_assert(ARRAY_SIZE(state_names) == KHEAL_HEALTH_NSTATES,
	       "every health state has a name");

const char *kheal_subsys_type_name(enum kheal_subsys_type type)
{
	return (unsigned int)type < KHEAL_SUBSYS_NTYPES ? type_names[type] :
							  NULL;
}

const char *kheal_health_state_name(enum kheal_health_state state)
{
	return (unsigned int)state < KHEAL_HEALTH_NSTATES ? state_names[state] :
							    NULL;
}

#define TO(s)	(1U << KHEAL_##s)

/* The table in health.h: allowed[from] has bit `to` set. */
static const unsigned int allowed[KHEAL_HEALTH_NSTATES] = {
	[KHEAL_HEALTHY]    = TO(DEGRADED) | TO(FAILED) | TO(ISOLATED),
	[KHEAL_DEGRADED]   = TO(HEALTHY) | TO(FAILED) | TO(RECOVERING) |
			     TO(ISOLATED) | TO(ESCALATED),
	[KHEAL_FAILED]     = TO(HEALTHY) | TO(RECOVERING) | TO(ISOLATED) |
			     TO(ESCALATED),
	[KHEAL_RECOVERING] = TO(HEALTHY) | TO(FAILED) | TO(ISOLATED) |
			     TO(ESCALATED),
	[KHEAL_ISOLATED]   = TO(RECOVERING) | TO(ESCALATED),
	[KHEAL_ESCALATED]  = TO(HEALTHY) | TO(RECOVERING) | TO(ISOLATED),
};

bool kheal_health_allowed(enum kheal_health_state from,
			  enum kheal_health_state to)
{
	return (unsigned int)from < KHEAL_HEALTH_NSTATES &&
	       (unsigned int)to < KHEAL_HEALTH_NSTATES &&
	       (allowed[from] & (1U << to));
}

void kheal_health_init(struct kheal_health *h, kheal_health_hook_fn hook,
		       void *arg)
{
	*h = (struct kheal_health){ .hook = hook, .hook_arg = arg };
}

void kheal_health_free(struct kheal_health *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		free(h->v[i]);
	free(h->v);
	kheal_health_init(h, h->hook, h->hook_arg);
}

struct kheal_subsystem *kheal_health_find(const struct kheal_health *h,
					  enum kheal_subsys_type type,
					  const char *name)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (h->v[i]->type == type && !strcmp(h->v[i]->name, name))
			return h->v[i];
	return NULL;
}

int kheal_health_get(struct kheal_health *h, enum kheal_subsys_type type,
		     const char *name, uint64_t now_ns,
		     struct kheal_subsystem **out, struct kheal_err *err)
{
	struct kheal_subsystem *sub, **v;

	if (!kheal_subsys_type_name(type))
		return kheal_err_set(err, EINVAL, "no subsystem type %d",
				     (int)type);
	if (strlen(name) >= KHEAL_SUBSYS_NAME_LEN)
		return kheal_err_set(err, ENAMETOOLONG,
				     "%s subsystem '%.32s...': the name is longer than %d bytes",
				     type_names[type], name,
				     KHEAL_SUBSYS_NAME_LEN - 1);
	sub = kheal_health_find(h, type, name);
	if (sub) {
		*out = sub;
		return 0;
	}
	sub = calloc(1, sizeof(*sub));
	v = sub ? realloc(h->v, (h->n + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(sub);
		return kheal_err_set(err, ENOMEM,
				     "out of memory adding %s subsystem %s",
				     type_names[type], name);
	}
	sub->type = type;
	strcpy(sub->name, name);
	sub->state = KHEAL_HEALTHY;
	sub->since_ns = now_ns;
	snprintf(sub->cause, sizeof(sub->cause), "first named");
	h->v = v;
	h->v[h->n++] = sub;
	h->count[KHEAL_HEALTHY]++;
	*out = sub;
	return 0;
}

int kheal_health_id(enum kheal_subsys_type type, const char *name, char *buf,
		    size_t len)
{
	struct kheal_json j;

	if (!kheal_subsys_type_name(type))
		return -EINVAL;
	kheal_json_init(&j, buf, len);
	kheal_json_raw(&j, "%s%s%s", type_names[type], *name ? ":" : "", name);
	return kheal_json_finish(&j);
}

int kheal_health_transition(struct kheal_health *h,
			    struct kheal_subsystem *sub,
			    enum kheal_health_state to, const char *cause,
			    uint64_t now_ns, struct kheal_err *err)
{
	enum kheal_health_state from = sub->state;
	char id[KHEAL_HEALTH_ID_LEN];
	int ret;

	kheal_health_id(sub->type, sub->name, id, sizeof(id));
	if (!kheal_health_state_name(to))
		return kheal_err_set(err, EINVAL, "%s: no health state %d", id,
				     (int)to);
	if (to == from)
		return 0;
	if (!kheal_health_allowed(from, to))
		return kheal_err_set(err, EINVAL,
				     "%s: %s -> %s is not an allowed transition",
				     id, state_names[from], state_names[to]);
	if (h->hook) {
		ret = h->hook(h->hook_arg, sub, to, cause, now_ns, err);
		if (ret)
			return kheal_err_wrap(err, ret, "%s: recording %s -> %s",
					      id, state_names[from],
					      state_names[to]);
	}
	h->count[from]--;
	h->count[to]++;
	sub->state = to;
	sub->since_ns = now_ns;
	snprintf(sub->cause, sizeof(sub->cause), "%s", cause);
	return 0;
}

/* How an event kind names its subsystem. */
enum name_by {
	BY_NOTHING,		/* the kind names no subsystem */
	BY_PID,
	BY_MEMCG,		/* its memcg, or "global" */
	BY_DEV,
	BY_HOST,		/* the kernel: no name */
};

/*
 * The one table from an event kind to the subsystem it names and the
 * state it implies, below severity error and at or above it (and, for a
 * kind whose info events say a fault ended, healthy at info: kheal.ko's
 * netdev_carrier "carrier up"). Task events name the task, not its
 * cgroup: hung_task_resolved may not carry the cgroup, and the task is
 * what both ends of an episode share; runbooks reach the cgroup through
 * ${cgroup_path}.
 */
static const struct {
	enum kheal_subsys_type type;
	enum name_by by;
	enum kheal_health_state below_error;
	enum kheal_health_state at_error;
	bool info_clears;
} event_kinds[] = {
	[KHEAL_EVENT_HUNG_TASK] =
		{ KHEAL_SUBSYS_TASK, BY_PID, KHEAL_DEGRADED, KHEAL_FAILED },
	[KHEAL_EVENT_HUNG_TASK_RESOLVED] =
		{ KHEAL_SUBSYS_TASK, BY_PID, KHEAL_HEALTHY, KHEAL_HEALTHY },
	[KHEAL_EVENT_OOM_KILL] =
		{ KHEAL_SUBSYS_MEMORY, BY_MEMCG, KHEAL_FAILED, KHEAL_FAILED },
	[KHEAL_EVENT_MEM_PRESSURE] =
		{ KHEAL_SUBSYS_MEMORY, BY_MEMCG, KHEAL_DEGRADED, KHEAL_FAILED },
	[KHEAL_EVENT_TASK_CRASH] =
		{ KHEAL_SUBSYS_TASK, BY_PID, KHEAL_FAILED, KHEAL_FAILED },
	[KHEAL_EVENT_NETDEV_TX_TIMEOUT] =
		{ KHEAL_SUBSYS_NETDEV, BY_DEV, KHEAL_DEGRADED, KHEAL_FAILED },
	[KHEAL_EVENT_NETDEV_CARRIER] =
		{ KHEAL_SUBSYS_NETDEV, BY_DEV, KHEAL_DEGRADED, KHEAL_FAILED,
		  true },
	[KHEAL_EVENT_BLOCK_IO_ERROR] =
		{ KHEAL_SUBSYS_BLOCK, BY_DEV, KHEAL_DEGRADED, KHEAL_FAILED },
	[KHEAL_EVENT_DISK_STALL] =
		{ KHEAL_SUBSYS_BLOCK, BY_DEV, KHEAL_DEGRADED, KHEAL_FAILED },
	[KHEAL_EVENT_SOFT_LOCKUP] =
		{ KHEAL_SUBSYS_KERNEL, BY_HOST, KHEAL_DEGRADED, KHEAL_FAILED },
	[KHEAL_EVENT_RCU_STALL] =
		{ KHEAL_SUBSYS_KERNEL, BY_HOST, KHEAL_DEGRADED, KHEAL_FAILED },
	[KHEAL_EVENT_OOPS] =
		{ KHEAL_SUBSYS_KERNEL, BY_HOST, KHEAL_FAILED, KHEAL_FAILED },
	[KHEAL_EVENT_SYNTHETIC] = { .by = BY_NOTHING },
};
_Static_assert(ARRAY_SIZE(event_kinds) == KHEAL_EVENT_MAX + 1,
	       "every event kind says what it names");

/* Only a memcg-constrained OOM kill (or pressure) blames its cgroup. */
static const char *memcg_name(const struct kheal_event *ev)
{
	if (kheal_event_has(ev, KHEAL_A_OOM_CONSTRAINT) &&
	    ev->oom_constraint != KHEAL_OOM_MEMCG)
		return "global";
	if (!kheal_event_has(ev, KHEAL_A_CGROUP_PATH) ||
	    !strcmp(ev->cgroup_path, "/") || !ev->cgroup_path[0])
		return "global";
	return ev->cgroup_path;
}

int kheal_health_event_target(const struct kheal_event *ev,
			      struct kheal_health_target *t,
			      struct kheal_err *err)
{
	const char *kind = kheal_kind_name(ev->kind);
	enum name_by by;

	by = ev->kind < ARRAY_SIZE(event_kinds) ? event_kinds[ev->kind].by :
						  BY_NOTHING;
	if (by == BY_NOTHING)
		return kheal_err_set(err, ENOENT,
				     "event %" PRIu64 " (%s) names no subsystem",
				     ev->seq, kind ? kind : "unknown kind");
	t->type = event_kinds[ev->kind].type;
	t->state = ev->severity >= KHEAL_SEV_ERROR ?
		   event_kinds[ev->kind].at_error :
		   event_kinds[ev->kind].below_error;
	if (ev->severity == KHEAL_SEV_INFO && event_kinds[ev->kind].info_clears)
		t->state = KHEAL_HEALTHY;
	switch (by) {
	case BY_PID:
		if (!kheal_event_has(ev, KHEAL_A_PID))
			return kheal_err_set(err, EINVAL,
					     "event %" PRIu64 " (%s) names no task: it has no pid",
					     ev->seq, kind);
		snprintf(t->name, sizeof(t->name), "%" PRIu32, ev->pid);
		break;
	case BY_MEMCG:
		snprintf(t->name, sizeof(t->name), "%s", memcg_name(ev));
		break;
	case BY_DEV:
		if (!kheal_event_has(ev, KHEAL_A_DEV) || !ev->dev[0])
			return kheal_err_set(err, EINVAL,
					     "event %" PRIu64 " (%s) names no device: it has no dev",
					     ev->seq, kind);
		snprintf(t->name, sizeof(t->name), "%s", ev->dev);
		break;
	case BY_HOST:
	case BY_NOTHING:
		t->name[0] = '\0';
		break;
	}
	return 0;
}

int kheal_health_observe(struct kheal_health *h, const struct kheal_event *ev,
			 uint64_t now_ns, struct kheal_subsystem **out,
			 struct kheal_err *err)
{
	struct kheal_health_target t;
	struct kheal_subsystem *sub;
	char cause[KHEAL_HEALTH_CAUSE_LEN];
	const char *severity;
	int ret;

	ret = kheal_health_event_target(ev, &t, err);
	if (ret)
		return ret;
	ret = kheal_health_get(h, t.type, t.name, now_ns, &sub, err);
	if (ret)
		return ret;
	*out = sub;
	if (sub->state == t.state || !kheal_health_allowed(sub->state, t.state))
		return 0;
	severity = kheal_severity_name(ev->severity);
	snprintf(cause, sizeof(cause), "%s (%s), event %" PRIu64,
		 kheal_kind_name(ev->kind), severity ? severity : "unknown",
		 ev->seq);
	ret = kheal_health_transition(h, sub, t.state, cause, now_ns, err);
	return ret ? ret : 1;
}

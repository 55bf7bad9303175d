// SPDX-License-Identifier: GPL-2.0
/*
 * Autonomy: the profiles and the risk each allows, the confidence gate,
 * and the table of approvals that actions above the profile wait in.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autonomy.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *name;
	int max_risk;			/* -1: none */
} profiles[] = {
	[KHEAL_PROFILE_OBSERVE]		= { "observe", -1 },
	[KHEAL_PROFILE_CONSERVATIVE]	= { "conservative", KHEAL_RISK_LOW },
	[KHEAL_PROFILE_AUTONOMOUS]	= { "autonomous", KHEAL_RISK_MEDIUM },
	[KHEAL_PROFILE_FULL]		= { "full", KHEAL_RISK_HIGH },
};
_Static_assert(ARRAY_SIZE(profiles) == KHEAL_NPROFILES,
	       "every profile has a name and a risk");

const char *kheal_profile_name(enum kheal_profile profile)
{
	return (unsigned int)profile < KHEAL_NPROFILES ?
	       profiles[profile].name : NULL;
}

int kheal_profile_parse(const char *s, enum kheal_profile *out,
			struct kheal_err *err)
{
	size_t i;

	for (i = 0; i < KHEAL_NPROFILES; i++) {
		if (!strcmp(profiles[i].name, s)) {
			*out = i;
			return 0;
		}
	}
	return kheal_err_set(err, EINVAL,
			     "autonomy profile '%s': expected one of observe, conservative, autonomous, full",
			     s);
}

bool kheal_autonomy_allows(enum kheal_profile profile, enum kheal_risk risk)
{
	return (unsigned int)profile < KHEAL_NPROFILES &&
	       (unsigned int)risk < KHEAL_NRISKS &&
	       (int)risk <= profiles[profile].max_risk;
}

enum kheal_gate kheal_confidence_gate(const struct kheal_confidence *gate,
				      double confidence)
{
	if (!gate->gated || confidence >= gate->min)
		return KHEAL_GATE_ACT;
	if (gate->below == KHEAL_BELOW_LOW_RISK_SUBSET)
		return KHEAL_GATE_LOW_RISK_SUBSET;
	return KHEAL_GATE_ESCALATE;
}

static const char *const decision_names[] = {
	[KHEAL_DECIDE_OBSERVE]	= "observe",
	[KHEAL_DECIDE_ACT]	= "act",
	[KHEAL_DECIDE_LOW_RISK]	= "low-risk-subset",
	[KHEAL_DECIDE_ESCALATE]	= "escalate",
	[KHEAL_DECIDE_APPROVAL]	= "approval",
};

const char *kheal_decision_name(enum kheal_decision decision)
{
	return (unsigned int)decision < ARRAY_SIZE(decision_names) ?
	       decision_names[decision] : NULL;
}

enum kheal_decision kheal_autonomy_decide(enum kheal_profile profile,
					  const struct kheal_runbook *rb,
					  double confidence)
{
	if (!kheal_autonomy_allows(profile, KHEAL_RISK_LOW))
		return KHEAL_DECIDE_OBSERVE;
	switch (kheal_confidence_gate(&rb->confidence, confidence)) {
	case KHEAL_GATE_ACT:
		return kheal_autonomy_allows(profile, rb->risk) ?
		       KHEAL_DECIDE_ACT : KHEAL_DECIDE_APPROVAL;
	case KHEAL_GATE_LOW_RISK_SUBSET:
		return KHEAL_DECIDE_LOW_RISK;
	case KHEAL_GATE_ESCALATE:
		break;
	}
	return KHEAL_DECIDE_ESCALATE;
}

static const char *const approval_state_names[] = {
	[KHEAL_APPROVAL_PENDING]	= "pending",
	[KHEAL_APPROVAL_APPROVED]	= "approved",
	[KHEAL_APPROVAL_DENIED]		= "denied",
	[KHEAL_APPROVAL_EXPIRED]	= "expired",
};
_Static_assert(ARRAY_SIZE(approval_state_names) == KHEAL_APPROVAL_NSTATES,
	       "every approval state has a name");

const char *kheal_approval_state_name(enum kheal_approval_state state)
{
	return (unsigned int)state < KHEAL_APPROVAL_NSTATES ?
	       approval_state_names[state] : NULL;
}

void kheal_approvals_init(struct kheal_approvals *a, uint64_t first_id,
			  uint64_t ttl_ns)
{
	*a = (struct kheal_approvals){
		.next_id = first_id ? first_id : 1,
		.ttl_ns = ttl_ns,
	};
}

void kheal_approvals_free(struct kheal_approvals *a)
{
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

size_t kheal_approvals_expire(struct kheal_approvals *a, uint64_t now_ns)
{
	struct kheal_approval *r;
	size_t n = 0;

	if (!a->ttl_ns)
		return 0;
	for (r = a->v; r < a->v + a->n; r++) {
		if (r->state != KHEAL_APPROVAL_PENDING ||
		    now_ns < r->created_ns ||
		    now_ns - r->created_ns < a->ttl_ns)
			continue;
		r->state = KHEAL_APPROVAL_EXPIRED;
		r->decided_ns = now_ns;
		n++;
	}
	return n;
}

static struct kheal_approval *find(const struct kheal_approvals *a,
				   uint64_t id)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (a->v[i].id == id)
			return &a->v[i];
	return NULL;
}

const struct kheal_approval *
kheal_approval_find(const struct kheal_approvals *a, uint64_t id)
{
	return find(a, id);
}

/* Room for one more: grow, or push out the oldest decided request. */
static int make_room(struct kheal_approvals *a, struct kheal_err *err)
{
	struct kheal_approval *v;
	size_t i;

	if (a->n < KHEAL_APPROVALS_MAX) {
		v = realloc(a->v, (a->n + 1) * sizeof(*v));
		if (!v)
			return kheal_err_set(err, ENOMEM,
					     "out of memory for an approval request");
		a->v = v;
		return 0;
	}
	for (i = 0; i < a->n; i++) {
		if (a->v[i].state == KHEAL_APPROVAL_PENDING)
			continue;
		memmove(&a->v[i], &a->v[i + 1],
			(a->n - i - 1) * sizeof(*a->v));
		a->n--;
		return 0;
	}
	return kheal_err_set(err, ENOSPC,
			     "%d approval requests are pending; approve or deny some first",
			     KHEAL_APPROVALS_MAX);
}

int kheal_approval_request(struct kheal_approvals *a, const char *runbook,
			   const char *subsystem, enum kheal_risk risk,
			   uint64_t now_ns, uint64_t *id, struct kheal_err *err)
{
	struct kheal_approval *r;
	size_t i;
	int ret;

	if (strlen(runbook) >= sizeof(r->runbook) ||
	    strlen(subsystem) >= sizeof(r->subsystem))
		return kheal_err_set(err, ENAMETOOLONG,
				     "approval for runbook '%.64s' on '%.64s': name too long",
				     runbook, subsystem);
	kheal_approvals_expire(a, now_ns);
	for (i = 0; i < a->n; i++) {
		r = &a->v[i];
		if (r->state == KHEAL_APPROVAL_PENDING &&
		    !strcmp(r->runbook, runbook) &&
		    !strcmp(r->subsystem, subsystem)) {
			*id = r->id;
			return 0;
		}
	}
	ret = make_room(a, err);
	if (ret)
		return ret;
	r = &a->v[a->n++];
	*r = (struct kheal_approval){
		.id = a->next_id++,
		.risk = risk,
		.state = KHEAL_APPROVAL_PENDING,
		.created_ns = now_ns,
	};
	strcpy(r->runbook, runbook);
	strcpy(r->subsystem, subsystem);
	*id = r->id;
	return 0;
}

int kheal_approval_decide(struct kheal_approvals *a, uint64_t id,
			  bool approve, uid_t uid, uint64_t now_ns,
			  struct kheal_err *err)
{
	struct kheal_approval *r;

	kheal_approvals_expire(a, now_ns);
	r = find(a, id);
	if (!r)
		return kheal_err_set(err, ENOENT, "no approval request %" PRIu64,
				     id);
	if (r->state == KHEAL_APPROVAL_EXPIRED)
		return kheal_err_set(err, ETIMEDOUT,
				     "approval request %" PRIu64 " (%s on %s) expired unanswered after %" PRIu64 " s",
				     id, r->runbook, r->subsystem,
				     a->ttl_ns / 1000000000);
	if (r->state != KHEAL_APPROVAL_PENDING)
		return kheal_err_set(err, EALREADY,
				     "approval request %" PRIu64 " (%s on %s) was already %s by uid %u",
				     id, r->runbook, r->subsystem,
				     approval_state_names[r->state],
				     (unsigned int)r->decided_by);
	r->state = approve ? KHEAL_APPROVAL_APPROVED : KHEAL_APPROVAL_DENIED;
	r->decided_ns = now_ns;
	r->decided_by = uid;
	return 0;
}

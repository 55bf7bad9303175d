/* SPDX-License-Identifier: GPL-2.0 */
/* Autonomy: what the agent may do alone, approvals, the confidence gate. */
#ifndef KHEAL_AUTONOMY_H
#define KHEAL_AUTONOMY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "health.h"
#include "runbook.h"

/*
 * Each profile allows actions up to a risk:
 *   observe       none: the agent records and never acts
 *   conservative  low
 *   autonomous    low and medium
 *   full          low, medium and high
 */
enum kheal_profile {
	KHEAL_PROFILE_OBSERVE,
	KHEAL_PROFILE_CONSERVATIVE,
	KHEAL_PROFILE_AUTONOMOUS,
	KHEAL_PROFILE_FULL,

	KHEAL_NPROFILES
};

const char *kheal_profile_name(enum kheal_profile profile);
int kheal_profile_parse(const char *s, enum kheal_profile *out,
			struct kheal_err *err);
bool kheal_autonomy_allows(enum kheal_profile profile, enum kheal_risk risk);

enum kheal_gate {
	KHEAL_GATE_ACT,
	KHEAL_GATE_LOW_RISK_SUBSET,
	KHEAL_GATE_ESCALATE,
};

/*
 * A runbook's confidence gate on the diagnosis: act at or above its min
 * (or with no gate); below it, what its `below` says. NaN is below.
 */
enum kheal_gate kheal_confidence_gate(const struct kheal_confidence *gate,
				      double confidence);

enum kheal_decision {
	KHEAL_DECIDE_OBSERVE,		/* record only: the profile acts not */
	KHEAL_DECIDE_ACT,		/* steps, verify; rollback, escalate */
	KHEAL_DECIDE_LOW_RISK,		/* the low-risk steps, then escalate */
	KHEAL_DECIDE_ESCALATE,		/* no action; escalate */
	KHEAL_DECIDE_APPROVAL,		/* above the profile: ask a human */
};

const char *kheal_decision_name(enum kheal_decision decision);

/*
 * What to do with a matched runbook: the confidence gate first, then the
 * profile. Risk is the runbook's: one above the profile waits whole for
 * approval rather than run in part.
 */
enum kheal_decision kheal_autonomy_decide(enum kheal_profile profile,
					  const struct kheal_runbook *rb,
					  double confidence);

#define KHEAL_APPROVALS_MAX	256

enum kheal_approval_state {
	KHEAL_APPROVAL_PENDING,
	KHEAL_APPROVAL_APPROVED,
	KHEAL_APPROVAL_DENIED,
	KHEAL_APPROVAL_EXPIRED,

	KHEAL_APPROVAL_NSTATES
};

const char *kheal_approval_state_name(enum kheal_approval_state state);

struct kheal_approval {
	uint64_t id;
	char runbook[KHEAL_RUNBOOK_NAME_LEN];
	char subsystem[KHEAL_HEALTH_ID_LEN];
	enum kheal_risk risk;
	enum kheal_approval_state state;
	uint64_t created_ns;
	uint64_t decided_ns;		/* approved, denied or expired */
	uid_t decided_by;		/* approved or denied */
};

/*
 * Requests, oldest first. Ids are never reused. At most
 * KHEAL_APPROVALS_MAX are kept: a new one pushes out the oldest decided.
 */
struct kheal_approvals {
	struct kheal_approval *v;
	size_t n;
	uint64_t next_id;
	uint64_t ttl_ns;		/* pending longer: expired; 0: never */
};

/* @first_id: where ids start (at least 1), e.g. after the journal's last. */
void kheal_approvals_init(struct kheal_approvals *a, uint64_t first_id,
			  uint64_t ttl_ns);
void kheal_approvals_free(struct kheal_approvals *a);

/*
 * Asks for approval to run @runbook on @subsystem. A request already
 * pending for both is not repeated: *id is that one's.
 */
int kheal_approval_request(struct kheal_approvals *a, const char *runbook,
			   const char *subsystem, enum kheal_risk risk,
			   uint64_t now_ns, uint64_t *id,
			   struct kheal_err *err);

/*
 * Approves or denies request @id for @uid. -ENOENT for an id not kept,
 * -EALREADY for one approved or denied, -ETIMEDOUT for one expired.
 */
int kheal_approval_decide(struct kheal_approvals *a, uint64_t id,
			  bool approve, uid_t uid, uint64_t now_ns,
			  struct kheal_err *err);

static inline int kheal_approval_approve(struct kheal_approvals *a,
					 uint64_t id, uid_t uid,
					 uint64_t now_ns, struct kheal_err *err)
{
	return kheal_approval_decide(a, id, true, uid, now_ns, err);
}

static inline int kheal_approval_deny(struct kheal_approvals *a, uint64_t id,
				      uid_t uid, uint64_t now_ns,
				      struct kheal_err *err)
{
	return kheal_approval_decide(a, id, false, uid, now_ns, err);
}

const struct kheal_approval *
kheal_approval_find(const struct kheal_approvals *a, uint64_t id);

/* Expires what waited longer than the ttl; returns how many. */
size_t kheal_approvals_expire(struct kheal_approvals *a, uint64_t now_ns);

#endif

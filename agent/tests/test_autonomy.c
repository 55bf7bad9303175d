// SPDX-License-Identifier: GPL-2.0
/* Autonomy: profiles against risks, the confidence gate, approvals. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "autonomy.h"

#define SEC	1000000000ULL

static const enum kheal_profile every_profile[] = {
	KHEAL_PROFILE_OBSERVE, KHEAL_PROFILE_CONSERVATIVE,
	KHEAL_PROFILE_AUTONOMOUS, KHEAL_PROFILE_FULL,
};

static void test_profiles_parse_by_name(void **state)
{
	struct kheal_err err = { { 0 } };
	enum kheal_profile p;
	size_t i;

	(void)state;
	for (i = 0; i < KHEAL_NPROFILES; i++) {
		assert_int_equal(kheal_profile_parse(kheal_profile_name(i), &p,
						     &err), 0);
		assert_int_equal(p, i);
	}
	assert_string_equal(kheal_profile_name(KHEAL_PROFILE_AUTONOMOUS),
			    "autonomous");
	assert_null(kheal_profile_name(KHEAL_NPROFILES));
}

static void test_unknown_profile_is_refused_naming_it(void **state)
{
	struct kheal_err err = { { 0 } };
	enum kheal_profile p = KHEAL_PROFILE_FULL;

	(void)state;
	assert_int_equal(kheal_profile_parse("aggressive", &p, &err), -EINVAL);
	assert_string_equal(err.msg, "autonomy profile 'aggressive': expected one of observe, conservative, autonomous, full");
	assert_int_equal(p, KHEAL_PROFILE_FULL);
	assert_int_equal(kheal_profile_parse("", &p, &err), -EINVAL);
	assert_int_equal(kheal_profile_parse("Full", &p, &err), -EINVAL);
}

static void test_each_profile_allows_up_to_its_risk(void **state)
{
	/* rows: profiles in order; columns: low, medium, high */
	static const bool want[KHEAL_NPROFILES][KHEAL_NRISKS] = {
		{ false, false, false },
		{ true,  false, false },
		{ true,  true,  false },
		{ true,  true,  true  },
	};
	size_t p, r;

	(void)state;
	for (p = 0; p < KHEAL_NPROFILES; p++)
		for (r = 0; r < KHEAL_NRISKS; r++)
			assert_int_equal(kheal_autonomy_allows(every_profile[p],
							       r), want[p][r]);
	assert_false(kheal_autonomy_allows(KHEAL_PROFILE_FULL, KHEAL_NRISKS));
	assert_false(kheal_autonomy_allows(KHEAL_NPROFILES, KHEAL_RISK_LOW));
}

static void test_confidence_gate_acts_at_or_above_its_min(void **state)
{
	struct kheal_confidence none = { 0 };
	struct kheal_confidence subset = { true, 0.9,
					   KHEAL_BELOW_LOW_RISK_SUBSET };
	struct kheal_confidence escalate = { true, 0.9,
					     KHEAL_BELOW_ESCALATE };

	(void)state;
	assert_int_equal(kheal_confidence_gate(&none, 0), KHEAL_GATE_ACT);
	assert_int_equal(kheal_confidence_gate(&subset, 0.9), KHEAL_GATE_ACT);
	assert_int_equal(kheal_confidence_gate(&subset, 1), KHEAL_GATE_ACT);
	assert_int_equal(kheal_confidence_gate(&subset, 0.89),
			 KHEAL_GATE_LOW_RISK_SUBSET);
	assert_int_equal(kheal_confidence_gate(&escalate, 0.89),
			 KHEAL_GATE_ESCALATE);
	assert_int_equal(kheal_confidence_gate(&subset, NAN),
			 KHEAL_GATE_LOW_RISK_SUBSET);
}

static struct kheal_runbook gated(enum kheal_risk risk, bool gate,
				  enum kheal_below below)
{
	struct kheal_runbook rb = { 0 };

	rb.risk = risk;
	rb.confidence = (struct kheal_confidence){ gate, 0.9, below };
	return rb;
}

static void test_decision_for_every_profile_and_risk(void **state)
{
	/* Confident, or no gate: act within the profile, else ask. */
	enum { OBS = KHEAL_DECIDE_OBSERVE, ACT = KHEAL_DECIDE_ACT,
	       ASK = KHEAL_DECIDE_APPROVAL };
	static const int confident[KHEAL_NPROFILES][KHEAL_NRISKS] = {
		/* low  medium high */
		{ OBS,  OBS,   OBS },	/* observe */
		{ ACT,  ASK,   ASK },	/* conservative */
		{ ACT,  ACT,   ASK },	/* autonomous */
		{ ACT,  ACT,   ACT },	/* full */
	};
	struct kheal_runbook rb;
	size_t p, r;

	(void)state;
	for (p = 0; p < KHEAL_NPROFILES; p++) {
		for (r = 0; r < KHEAL_NRISKS; r++) {
			rb = gated(r, false, KHEAL_BELOW_ESCALATE);
			assert_int_equal(kheal_autonomy_decide(every_profile[p],
							       &rb, 0),
					 confident[p][r]);
			rb = gated(r, true, KHEAL_BELOW_ESCALATE);
			assert_int_equal(kheal_autonomy_decide(every_profile[p],
							       &rb, 0.95),
					 confident[p][r]);
		}
	}
}

static void test_below_the_gate_no_profile_acts_in_full(void **state)
{
	struct kheal_runbook rb;
	size_t p;

	(void)state;
	for (p = 0; p < KHEAL_NPROFILES; p++) {
		rb = gated(KHEAL_RISK_MEDIUM, true,
			   KHEAL_BELOW_LOW_RISK_SUBSET);
		assert_int_equal(kheal_autonomy_decide(every_profile[p], &rb,
						       0.5),
				 p ? KHEAL_DECIDE_LOW_RISK :
				     KHEAL_DECIDE_OBSERVE);
		rb = gated(KHEAL_RISK_HIGH, true, KHEAL_BELOW_ESCALATE);
		assert_int_equal(kheal_autonomy_decide(every_profile[p], &rb,
						       0.5),
				 p ? KHEAL_DECIDE_ESCALATE :
				     KHEAL_DECIDE_OBSERVE);
	}
	assert_string_equal(kheal_decision_name(KHEAL_DECIDE_LOW_RISK),
			    "low-risk-subset");
}

static void test_low_risk_subset_keeps_only_low_risk_steps(void **state)
{
	static const char text[] =
		"name: hung\n"
		"match: {kinds: [hung_task]}\n"
		"risk: medium\n"
		"steps:\n"
		"  - {action: cgroup.freeze, timeout: 1s}\n"
		"  - {action: cgroup.kill, timeout: 1s}\n"
		"  - {action: notify, params: {message: x}, timeout: 1s}\n"
		"verify: {check: cgroup.empty, deadline: 5s}\n"
		"confidence: {min: 0.9, below: low-risk-subset}\n";
	struct kheal_err err = { { 0 } };
	struct kheal_runbook rb;
	const char *subset[3];
	size_t i, n = 0;

	(void)state;
	assert_int_equal(kheal_runbook_parse_buf("hung.yaml", text,
						 strlen(text), &rb, &err), 0);
	assert_int_equal(kheal_autonomy_decide(KHEAL_PROFILE_FULL, &rb, 0.5),
			 KHEAL_DECIDE_LOW_RISK);
	for (i = 0; i < rb.nsteps; i++)
		if (kheal_step_low_risk(&rb.steps[i]))
			subset[n++] = rb.steps[i].action->name;
	assert_int_equal(n, 2);
	assert_string_equal(subset[0], "cgroup.freeze");
	assert_string_equal(subset[1], "notify");
	kheal_runbook_free(&rb);
}

static void request(struct kheal_approvals *a, const char *runbook,
		    const char *subsystem, uint64_t now, uint64_t want)
{
	struct kheal_err err = { { 0 } };
	uint64_t id = 0;

	assert_int_equal(kheal_approval_request(a, runbook, subsystem,
						KHEAL_RISK_MEDIUM, now, &id,
						&err), 0);
	assert_int_equal(id, want);
}

static void test_approval_lifecycle(void **state)
{
	struct kheal_err err = { { 0 } };
	const struct kheal_approval *r;
	struct kheal_approvals a;

	(void)state;
	kheal_approvals_init(&a, 0, 0);
	request(&a, "hung", "task:55", 1 * SEC, 1);
	request(&a, "hung", "task:56", 2 * SEC, 2);
	/* The same incident asking again waits under the same id. */
	request(&a, "hung", "task:55", 3 * SEC, 1);
	r = kheal_approval_find(&a, 1);
	assert_non_null(r);
	assert_string_equal(r->runbook, "hung");
	assert_string_equal(r->subsystem, "task:55");
	assert_int_equal(r->risk, KHEAL_RISK_MEDIUM);
	assert_int_equal(r->state, KHEAL_APPROVAL_PENDING);
	assert_int_equal(r->created_ns, 1 * SEC);

	assert_int_equal(kheal_approval_approve(&a, 1, 1000, 4 * SEC, &err), 0);
	assert_int_equal(r->state, KHEAL_APPROVAL_APPROVED);
	assert_int_equal(r->decided_ns, 4 * SEC);
	assert_int_equal(r->decided_by, 1000);
	assert_int_equal(kheal_approval_deny(&a, 2, 0, 5 * SEC, &err), 0);
	assert_int_equal(kheal_approval_find(&a, 2)->state,
			 KHEAL_APPROVAL_DENIED);

	/* Decided once, for good. */
	assert_int_equal(kheal_approval_deny(&a, 1, 0, 6 * SEC, &err),
			 -EALREADY);
	assert_string_equal(err.msg, "approval request 1 (hung on task:55) was already approved by uid 1000");
	assert_int_equal(kheal_approval_approve(&a, 2, 0, 6 * SEC, &err),
			 -EALREADY);
	assert_string_equal(err.msg, "approval request 2 (hung on task:56) was already denied by uid 0");
	assert_int_equal(kheal_approval_approve(&a, 99, 0, 6 * SEC, &err),
			 -ENOENT);
	assert_string_equal(err.msg, "no approval request 99");

	/* Once decided, the incident may ask again: a new request. */
	request(&a, "hung", "task:55", 7 * SEC, 3);
	assert_string_equal(kheal_approval_state_name(KHEAL_APPROVAL_EXPIRED),
			    "expired");
	kheal_approvals_free(&a);
}

static void test_unanswered_approvals_expire(void **state)
{
	struct kheal_err err = { { 0 } };
	struct kheal_approvals a;

	(void)state;
	kheal_approvals_init(&a, 0, 10 * SEC);
	request(&a, "hung", "task:55", 100 * SEC, 1);
	request(&a, "hung", "task:56", 105 * SEC, 2);
	assert_int_equal(kheal_approvals_expire(&a, 109 * SEC), 0);
	assert_int_equal(kheal_approvals_expire(&a, 110 * SEC), 1);
	assert_int_equal(kheal_approval_find(&a, 1)->state,
			 KHEAL_APPROVAL_EXPIRED);
	assert_int_equal(kheal_approval_approve(&a, 1, 0, 111 * SEC, &err),
			 -ETIMEDOUT);
	assert_string_equal(err.msg, "approval request 1 (hung on task:55) expired unanswered after 10 s");
	/* Approving late expires it first: no action on a stale request. */
	assert_int_equal(kheal_approval_approve(&a, 2, 0, 115 * SEC, &err),
			 -ETIMEDOUT);
	request(&a, "hung", "task:55", 116 * SEC, 3);
	kheal_approvals_free(&a);
}

static void test_ids_continue_where_the_journal_left_off(void **state)
{
	struct kheal_approvals a;

	(void)state;
	kheal_approvals_init(&a, 42, 0);
	request(&a, "hung", "task:55", 1, 42);
	request(&a, "oom-kill", "memory:global", 1, 43);
	kheal_approvals_free(&a);
}

static void test_table_is_bounded_and_pushes_out_decided_ones(void **state)
{
	struct kheal_err err = { { 0 } };
	struct kheal_approvals a;
	char subsystem[32];
	uint64_t id;
	size_t i;

	(void)state;
	kheal_approvals_init(&a, 0, 0);
	for (i = 1; i <= KHEAL_APPROVALS_MAX; i++) {
		snprintf(subsystem, sizeof(subsystem), "task:%zu", i);
		request(&a, "hung", subsystem, i, i);
	}
	assert_int_equal(kheal_approval_request(&a, "hung", "task:0",
						KHEAL_RISK_HIGH, 999, &id,
						&err), -ENOSPC);
	assert_string_equal(err.msg, "256 approval requests are pending; approve or deny some first");
	assert_int_equal(kheal_approval_deny(&a, 7, 0, 1000, &err), 0);
	request(&a, "hung", "task:0", 1001, KHEAL_APPROVALS_MAX + 1);
	assert_int_equal(a.n, KHEAL_APPROVALS_MAX);
	assert_null(kheal_approval_find(&a, 7));
	assert_int_equal(kheal_approval_approve(&a, 7, 0, 1002, &err), -ENOENT);
	assert_non_null(kheal_approval_find(&a, 8));
	kheal_approvals_free(&a);
}

#define T(f)	cmocka_unit_test(f)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_profiles_parse_by_name),
		T(test_unknown_profile_is_refused_naming_it),
		T(test_each_profile_allows_up_to_its_risk),
		T(test_confidence_gate_acts_at_or_above_its_min),
		T(test_decision_for_every_profile_and_risk),
		T(test_below_the_gate_no_profile_acts_in_full),
		T(test_low_risk_subset_keeps_only_low_risk_steps),
		T(test_approval_lifecycle),
		T(test_unanswered_approvals_expire),
		T(test_ids_continue_where_the_journal_left_off),
		T(test_table_is_bounded_and_pushes_out_decided_ones),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

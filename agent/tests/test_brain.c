// SPDX-License-Identifier: GPL-2.0
/*
 * The brain, end to end from events to journalled records: grouping,
 * diagnosis, the profile and confidence gates, approvals, novel
 * incidents, cooldown and max_attempts, and that the same events give the
 * same records. Actions run dry here (test_actions.c proves them).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "brain.h"
#include "fixtures.h"

#define SEC	1000000000ULL
#define MAX_RECS 512

/* A runbook like the shipped one, short cooldown so tests can recur. */
static const char hung_yaml[] =
	"name: hung-in-cgroup\n"
	"match:\n"
	"  kinds: [hung_task]\n"
	"  subsystem: \"task:*\"\n"
	"  when:\n"
	"    - {attr: cgroup_path, op: \"!=\", value: \"/\"}\n"
	"risk: medium\n"
	"preconditions:\n"
	"  - {check: cgroup.empty, expect: false}\n"
	"steps:\n"
	"  - {action: cgroup.freeze, params: {cgroup: \"${cgroup_path}\"}, timeout: 5s}\n"
	"  - {action: cgroup.kill, params: {cgroup: \"${cgroup_path}\"}, timeout: 5s}\n"
	"verify: {check: cgroup.empty, params: {cgroup: \"${cgroup_path}\"}, deadline: 10s}\n"
	"rollback:\n"
	"  - {action: cgroup.thaw, params: {cgroup: \"${cgroup_path}\"}, timeout: 5s}\n"
	"confidence: {min: 0.9, below: low-risk-subset}\n"
	"cooldown: 30s\n"
	"max_attempts: 2\n";

struct fixture {
	char dir[64];
	char runbooks[96];
	char drafts[96];
	struct kheal_brain b;
	struct kheal_brain_cfg cfg;
	Kheal__Record *recs[MAX_RECS];
	size_t nrecs;
	const char *wchan;		/* what the fake /proc shows */
	uint64_t seq;
};

static int fake_journal(void *arg, const Kheal__Record *rec,
			struct kheal_err *err)
{
	struct fixture *f = arg;
	size_t len = kheal__record__get_packed_size(rec);
	uint8_t *buf = malloc(len);

	(void)err;
	assert_non_null(buf);
	kheal__record__pack(rec, buf);
	assert_true(f->nrecs < MAX_RECS);
	f->recs[f->nrecs] = kheal__record__unpack(NULL, len, buf);
	assert_non_null(f->recs[f->nrecs]);
	f->nrecs++;
	free(buf);
	return 0;
}

static Kheal__Context *fake_context(void *arg, const struct kheal_event *ev)
{
	struct fixture *f = arg;
	Kheal__Context *c;

	(void)ev;
	if (!f->wchan)
		return NULL;
	c = malloc(sizeof(*c));
	kheal__context__init(c);
	c->wchan = strdup(f->wchan);
	return c;
}

static const struct kheal_brain_ops ops = {
	.journal = fake_journal,
	.context = fake_context,
};

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/kheal-brain-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	chmod(f->dir, 0755);
	snprintf(f->runbooks, sizeof(f->runbooks), "%s/runbooks", f->dir);
	snprintf(f->drafts, sizeof(f->drafts), "%s/drafts", f->dir);
	assert_int_equal(mkdir(f->runbooks, 0755), 0);
	write_file(f->runbooks, "hung.yaml", hung_yaml);
	f->cfg = (struct kheal_brain_cfg){
		.profile = KHEAL_PROFILE_AUTONOMOUS,
		.runbooks_dir = f->runbooks,
		.drafts_dir = f->drafts,
		.dry_run = true,
	};
	f->wchan = "rwsem_down_write_slowpath";
	*state = f;
	return 0;
}

static void start(struct fixture *f)
{
	struct kheal_err err = { "" };

	assert_int_equal(kheal_brain_init(&f->b, &f->cfg, &ops, f, &err), 0);
	assert_int_equal(f->b.runbooks.n, 1);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	size_t i;

	kheal_brain_free(&f->b);
	for (i = 0; i < f->nrecs; i++)
		kheal__record__free_unpacked(f->recs[i], NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void hung(struct fixture *f, struct kheal_event *ev, uint32_t pid,
		 const char *cgroup, uint64_t at_s)
{
	memset(ev, 0, sizeof(*ev));
	ev->source = KHEAL_SOURCE_KMOD;
	ev_set(ev, KHEAL_A_SEQ, ++f->seq);
	ev_set(ev, KHEAL_A_TIME_NS, at_s * SEC);
	ev_set(ev, KHEAL_A_KIND, KHEAL_EVENT_HUNG_TASK);
	ev_set(ev, KHEAL_A_SEVERITY, KHEAL_SEV_WARNING);
	ev_set_str(ev, KHEAL_A_SUBSYS, "task");
	ev_set(ev, KHEAL_A_INSTANCE, 7);
	ev_set(ev, KHEAL_A_PID, pid);
	ev_set_str(ev, KHEAL_A_COMM, "svc-worker");
	ev_set_str(ev, KHEAL_A_CGROUP_PATH, cgroup);
	ev_set(ev, KHEAL_A_DURATION_MS, 2000);
}

static void feed(struct fixture *f, const struct kheal_event *ev)
{
	struct kheal_err err = { "" };

	assert_int_equal(kheal_brain_event(&f->b, ev, &err), 0);
}

static size_t count(const struct fixture *f, Kheal__Record__BodyCase body)
{
	size_t i, n = 0;

	for (i = 0; i < f->nrecs; i++)
		n += f->recs[i]->body_case == body;
	return n;
}

/* The @n-th (from 0) record of @body, or fails. */
static Kheal__Record *nth(const struct fixture *f,
			  Kheal__Record__BodyCase body, size_t n)
{
	size_t i;

	for (i = 0; i < f->nrecs; i++)
		if (f->recs[i]->body_case == body && !n--)
			return f->recs[i];
	fail_msg("no record %zu of body %d among %zu", n, body, f->nrecs);
	return NULL;
}

static size_t count_decisions(const struct fixture *f, Kheal__DecisionKind k)
{
	size_t i, n = 0;

	for (i = 0; i < f->nrecs; i++)
		n += f->recs[i]->body_case == KHEAL__RECORD__BODY_DECISION &&
		     f->recs[i]->decision->decision == k;
	return n;
}

static size_t count_steps(const struct fixture *f, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < f->nrecs; i++)
		n += f->recs[i]->body_case == KHEAL__RECORD__BODY_ACTION &&
		     f->recs[i]->action->phase == KHEAL__PHASE__STEP &&
		     !strcmp(f->recs[i]->action->name, name);
	return n;
}

static const struct kheal_subsystem *sub(struct fixture *f, const char *name)
{
	const struct kheal_subsystem *s;

	s = kheal_health_find(&f->b.health, KHEAL_SUBSYS_TASK, name);
	assert_non_null(s);
	return s;
}

static void test_hung_task_in_cgroup_is_diagnosed_acted_on_and_healed(void **state)
{
	struct fixture *f = *state;
	Kheal__Diagnosis *d;
	Kheal__Incident *inc;
	struct kheal_event ev;

	start(f);
	hung(f, &ev, 300, "/svc", 10);
	feed(f, &ev);

	inc = nth(f, KHEAL__RECORD__BODY_INCIDENT, 0)->incident;
	assert_int_equal(inc->id, 1);
	assert_string_equal(inc->subsystem, "task:300");
	assert_int_equal(inc->trigger->seq, ev.seq);
	assert_string_equal(inc->context->wchan, "rwsem_down_write_slowpath");
	d = nth(f, KHEAL__RECORD__BODY_DIAGNOSIS, 0)->diagnosis;
	assert_string_equal(d->rule, "hung-task");
	assert_true(d->confidence >= 0.9 && d->confidence <= 0.9);
	assert_non_null(strstr(d->cause, "/svc"));
	assert_int_equal(nth(f, KHEAL__RECORD__BODY_DECISION, 0)->decision->decision,
			 KHEAL__DECISION_KIND__DECIDE_ACT);
	assert_int_equal(count_steps(f, "cgroup.freeze"), 1);
	assert_int_equal(count_steps(f, "cgroup.kill"), 1);
	assert_int_equal(nth(f, KHEAL__RECORD__BODY_ACTION, 1)->action->result,
			 KHEAL__ACTION_RESULT__RESULT_DRY_RUN);
	assert_string_equal(nth(f, KHEAL__RECORD__BODY_ACTION, 1)->action->args[0],
			    "cgroup=/svc");
	assert_int_equal(nth(f, KHEAL__RECORD__BODY_OUTCOME, 0)->outcome->outcome,
			 KHEAL__OUTCOME_KIND__RECOVERED);
	/* degraded, recovering, healthy: each journalled with the incident */
	assert_int_equal(count(f, KHEAL__RECORD__BODY_TRANSITION), 3);
	assert_int_equal(nth(f, KHEAL__RECORD__BODY_TRANSITION, 0)->transition->incident, 1);
	assert_int_equal(nth(f, KHEAL__RECORD__BODY_TRANSITION, 2)->transition->to,
			 KHEAL__HEALTH_STATE__HEALTHY);
	assert_int_equal(sub(f, "300")->state, KHEAL_HEALTHY);
	assert_int_equal(kheal_incident_find(&f->b.incidents, 1)->state,
			 KHEAL__INCIDENT_STATE__INCIDENT_RESOLVED);
}

static void test_below_the_confidence_gate_only_low_risk_steps_run(void **state)
{
	struct fixture *f = *state;
	struct kheal_event ev;

	f->wchan = NULL;	/* no wait site: confidence 0.7 */
	start(f);
	hung(f, &ev, 301, "/svc", 10);
	feed(f, &ev);
	assert_int_equal(count_decisions(f, KHEAL__DECISION_KIND__DECIDE_LOW_RISK), 1);
	assert_int_equal(count_steps(f, "cgroup.freeze"), 1);
	assert_int_equal(count_steps(f, "cgroup.kill"), 0);
	assert_int_equal(nth(f, KHEAL__RECORD__BODY_OUTCOME, 0)->outcome->outcome,
			 KHEAL__OUTCOME_KIND__PARTIAL);
	assert_int_equal(sub(f, "301")->state, KHEAL_ESCALATED);
}

static void test_observe_waits_for_approval_and_approving_runs_it(void **state)
{
	struct fixture *f = *state;
	struct kheal_err err = { "" };
	struct kheal_event ev;
	Kheal__Decision *d;

	f->cfg.profile = KHEAL_PROFILE_OBSERVE;
	start(f);
	hung(f, &ev, 302, "/svc", 10);
	feed(f, &ev);
	d = nth(f, KHEAL__RECORD__BODY_DECISION, 0)->decision;
	assert_int_equal(d->decision, KHEAL__DECISION_KIND__DECIDE_OBSERVE);
	assert_int_equal(d->approval, 1);
	assert_int_equal(count(f, KHEAL__RECORD__BODY_ACTION), 0);
	assert_int_equal(nth(f, KHEAL__RECORD__BODY_APPROVAL, 0)->approval->state,
			 KHEAL__APPROVAL_STATE__APPROVAL_PENDING);
	assert_int_equal(kheal_incident_find(&f->b.incidents, 1)->state,
			 KHEAL__INCIDENT_STATE__INCIDENT_AWAITING_APPROVAL);

	/* More of the same fault waits with it; nothing runs. */
	hung(f, &ev, 302, "/svc", 12);
	feed(f, &ev);
	assert_int_equal(count(f, KHEAL__RECORD__BODY_DECISION), 1);

	assert_int_equal(kheal_brain_decide(&f->b, 1, true, 0, 20 * SEC, &err), 0);
	assert_int_equal(nth(f, KHEAL__RECORD__BODY_APPROVAL, 1)->approval->state,
			 KHEAL__APPROVAL_STATE__APPROVAL_APPROVED);
	assert_int_equal(count_steps(f, "cgroup.kill"), 1);
	assert_int_equal(kheal_incident_find(&f->b.incidents, 1)->state,
			 KHEAL__INCIDENT_STATE__INCIDENT_RESOLVED);
	assert_int_equal(kheal_brain_decide(&f->b, 1, true, 0, 21 * SEC, &err),
			 -EALREADY);
}

static void test_a_denied_approval_escalates_without_acting(void **state)
{
	struct fixture *f = *state;
	struct kheal_err err = { "" };
	struct kheal_event ev;

	f->cfg.profile = KHEAL_PROFILE_CONSERVATIVE;	/* medium is above */
	start(f);
	hung(f, &ev, 303, "/svc", 10);
	feed(f, &ev);
	assert_int_equal(count_decisions(f, KHEAL__DECISION_KIND__DECIDE_APPROVAL), 1);
	assert_int_equal(kheal_brain_decide(&f->b, 1, false, 0, 20 * SEC, &err), 0);
	assert_int_equal(count(f, KHEAL__RECORD__BODY_ACTION), 1);	/* escalation */
	assert_int_equal(nth(f, KHEAL__RECORD__BODY_ACTION, 0)->action->phase,
			 KHEAL__PHASE__ESCALATION);
	assert_int_equal(nth(f, KHEAL__RECORD__BODY_OUTCOME, 0)->outcome->outcome,
			 KHEAL__OUTCOME_KIND__DENIED);
	assert_int_equal(sub(f, "303")->state, KHEAL_ESCALATED);
}

static void test_an_approval_left_past_its_ttl_expires_and_escalates(void **state)
{
	struct fixture *f = *state;
	struct kheal_err err = { "" };
	struct kheal_event ev;

	f->cfg.profile = KHEAL_PROFILE_OBSERVE;
	f->cfg.approval_ttl_ms = 60000;
	start(f);
	hung(f, &ev, 304, "/svc", 10);
	feed(f, &ev);
	assert_int_equal(kheal_brain_tick(&f->b, 30 * SEC, &err), 0);
	assert_int_equal(count(f, KHEAL__RECORD__BODY_OUTCOME), 0);
	assert_int_equal(kheal_brain_tick(&f->b, 71 * SEC, &err), 0);
	assert_int_equal(nth(f, KHEAL__RECORD__BODY_APPROVAL, 1)->approval->state,
			 KHEAL__APPROVAL_STATE__APPROVAL_EXPIRED);
	assert_int_equal(nth(f, KHEAL__RECORD__BODY_OUTCOME, 0)->outcome->outcome,
			 KHEAL__OUTCOME_KIND__DENIED);
	assert_int_equal(count(f, KHEAL__RECORD__BODY_ACTION), 1);
	assert_int_equal(kheal_brain_decide(&f->b, 1, true, 0, 72 * SEC, &err),
			 -ETIMEDOUT);
}

static void test_a_fault_that_clears_closes_its_waiting_incident(void **state)
{
	struct fixture *f = *state;
	struct kheal_event ev;

	f->cfg.profile = KHEAL_PROFILE_OBSERVE;
	start(f);
	hung(f, &ev, 305, "/svc", 10);
	feed(f, &ev);
	hung(f, &ev, 305, "/svc", 11);
	ev_set(&ev, KHEAL_A_KIND, KHEAL_EVENT_HUNG_TASK_RESOLVED);
	feed(f, &ev);
	assert_int_equal(kheal_incident_find(&f->b.incidents, 1)->state,
			 KHEAL__INCIDENT_STATE__INCIDENT_RESOLVED);
	assert_int_equal(nth(f, KHEAL__RECORD__BODY_APPROVAL, 1)->approval->state,
			 KHEAL__APPROVAL_STATE__APPROVAL_EXPIRED);
	assert_int_equal(sub(f, "305")->state, KHEAL_HEALTHY);
}

static void test_a_novel_fault_gets_a_valid_draft_and_no_action(void **state)
{
	struct fixture *f = *state;
	struct kheal_runbook rb;
	struct kheal_err err = { "" };
	struct kheal_event ev;
	Kheal__Decision *d;

	start(f);
	hung(f, &ev, 306, "/svc", 10);
	ev_set(&ev, KHEAL_A_KIND, KHEAL_EVENT_TASK_CRASH);
	ev_set(&ev, KHEAL_A_SIGNAL, 11);
	feed(f, &ev);
	d = nth(f, KHEAL__RECORD__BODY_DECISION, 0)->decision;
	assert_int_equal(d->decision, KHEAL__DECISION_KIND__DECIDE_NOVEL);
	assert_non_null(strstr(d->reason, "no runbook matches"));
	assert_non_null(strstr(d->draft, f->drafts));
	assert_int_equal(count(f, KHEAL__RECORD__BODY_ACTION), 0);
	assert_int_equal(kheal_runbook_parse_file(d->draft, &rb, &err), 0);
	assert_int_equal(rb.risk, KHEAL_RISK_HIGH);
	kheal_runbook_free(&rb);
	assert_int_equal(kheal_incident_find(&f->b.incidents, 1)->state,
			 KHEAL__INCIDENT_STATE__INCIDENT_NOVEL);
	assert_int_equal(sub(f, "306")->state, KHEAL_ESCALATED);
}

/*
 * A fault that keeps coming back on one subsystem runs its runbook at
 * most max_attempts times, then goes to a human.
 */
static void test_a_fault_recurring_ten_times_escalates_after_max_attempts(void **state)
{
	struct fixture *f = *state;
	struct kheal_event ev;
	int i;

	start(f);
	for (i = 0; i < 10; i++) {
		hung(f, &ev, 307, "/svc", 10 + 40 * i);	/* past the cooldown */
		feed(f, &ev);
	}
	assert_int_equal(count_steps(f, "cgroup.kill"), 2);
	assert_int_equal(count(f, KHEAL__RECORD__BODY_INCIDENT) > 0, 1);
	assert_int_equal(count_decisions(f, KHEAL__DECISION_KIND__DECIDE_MAX_ATTEMPTS), 1);
	assert_int_equal(f->b.incidents.n, 1);
	assert_int_equal(kheal_incident_find(&f->b.incidents, 1)->state,
			 KHEAL__INCIDENT_STATE__INCIDENT_ESCALATED);
	assert_int_equal(sub(f, "307")->state, KHEAL_ESCALATED);
}

/*
 * A service whose hung tasks keep coming back (a new pid each time) is
 * acted on once per cooldown: the next hang within it goes to a human.
 */
static void test_a_service_hung_again_within_the_cooldown_escalates(void **state)
{
	struct fixture *f = *state;
	struct kheal_event ev;
	int i;

	start(f);
	for (i = 0; i < 10; i++) {
		hung(f, &ev, 400 + i, "/svc", 10 + 2 * i);	/* cooldown 30 s */
		feed(f, &ev);
	}
	assert_int_equal(count_steps(f, "cgroup.kill"), 1);
	assert_int_equal(count_decisions(f, KHEAL__DECISION_KIND__DECIDE_COOLDOWN), 9);
	assert_int_equal(sub(f, "409")->state, KHEAL_ESCALATED);
	assert_non_null(strstr(nth(f, KHEAL__RECORD__BODY_DECISION, 1)->decision->reason,
			       "cgroup:/svc"));
	hung(f, &ev, 420, "/svc", 60);			/* past it: acts */
	feed(f, &ev);
	assert_int_equal(count_steps(f, "cgroup.kill"), 2);
	hung(f, &ev, 421, "/other", 61);		/* another service */
	feed(f, &ev);
	assert_int_equal(count_steps(f, "cgroup.kill"), 3);
}

static void test_heal_forces_the_runbook_whatever_the_profile(void **state)
{
	struct fixture *f = *state;
	struct kheal_err err = { "" };
	struct kheal_event ev;
	uint64_t id = 0;

	f->cfg.profile = KHEAL_PROFILE_OBSERVE;
	start(f);
	assert_int_equal(kheal_brain_heal(&f->b, "task:309", 0, 5 * SEC, &id,
					  &err), -ENOENT);
	assert_non_null(strstr(err.msg, "task:309"));
	hung(f, &ev, 309, "/svc", 10);
	feed(f, &ev);
	assert_int_equal(kheal_brain_heal(&f->b, "task:309", 0, 11 * SEC, &id,
					  &err), 0);
	assert_int_equal(id, 1);
	assert_true(nth(f, KHEAL__RECORD__BODY_DECISION, 1)->decision->forced);
	assert_int_equal(count_steps(f, "cgroup.kill"), 1);
	/* The approval it answered is approved, not left pending. */
	assert_int_equal(kheal_approval_find(&f->b.approvals, 1)->state,
			 KHEAL_APPROVAL_APPROVED);
}

static void test_events_naming_no_subsystem_open_nothing(void **state)
{
	struct fixture *f = *state;
	struct kheal_event ev;

	start(f);
	ev_basic(&ev, 7, 1);
	feed(f, &ev);
	assert_int_equal(f->nrecs, 0);
	assert_int_equal(f->b.incidents.n, 0);
}

/* The golden-journal property, in small: same input, same records. */
static void test_the_same_events_give_the_same_records(void **state)
{
	struct fixture *f = *state;
	struct fixture *g = calloc(1, sizeof(*g));
	struct kheal_event ev;
	uint8_t a[65536], b[65536];
	size_t i, la, lb;
	int k;

	*g = *f;
	g->nrecs = 0;
	start(f);
	start(g);
	for (k = 0; k < 6; k++) {
		hung(f, &ev, 310 + k % 2, k % 3 ? "/svc" : "/", 10 + 20 * k);
		feed(f, &ev);
		feed(g, &ev);
	}
	assert_int_equal(f->nrecs, g->nrecs);
	for (i = 0; i < f->nrecs; i++) {
		la = kheal__record__pack(f->recs[i], a);
		lb = kheal__record__pack(g->recs[i], b);
		assert_int_equal(la, lb);
		assert_memory_equal(a, b, la);
	}
	kheal_brain_free(&g->b);
	for (i = 0; i < g->nrecs; i++)
		kheal__record__free_unpacked(g->recs[i], NULL);
	free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
		T(test_hung_task_in_cgroup_is_diagnosed_acted_on_and_healed),
		T(test_below_the_confidence_gate_only_low_risk_steps_run),
		T(test_observe_waits_for_approval_and_approving_runs_it),
		T(test_a_denied_approval_escalates_without_acting),
		T(test_an_approval_left_past_its_ttl_expires_and_escalates),
		T(test_a_fault_that_clears_closes_its_waiting_incident),
		T(test_a_novel_fault_gets_a_valid_draft_and_no_action),
		T(test_a_fault_recurring_ten_times_escalates_after_max_attempts),
		T(test_a_service_hung_again_within_the_cooldown_escalates),
		T(test_heal_forces_the_runbook_whatever_the_profile),
		T(test_events_naming_no_subsystem_open_nothing),
		T(test_the_same_events_give_the_same_records),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0
/* The brain: from events to journalled decisions and verified actions. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "brain.h"
#include "diagnose.h"
#include "journal.h"
#include "record.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MS		UINT64_C(1000000)
#define ARG_LEN		512

static void note(struct kheal_brain *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(struct kheal_brain *b, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	if (!b->ops->note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	b->ops->note(b->arg, msg);
}

/* snprintf that may cut: long paths and messages end in the journal cut. */
static void fmt(char *buf, size_t len, const char *f, ...)
	__attribute__((format(printf, 3, 4)));

static void fmt(char *buf, size_t len, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, len, f, ap);
	va_end(ap);
}

static uint64_t clock_ns(struct kheal_brain *b)
{
	return b->ops->now ? b->ops->now(b->arg) : 0;
}

static int journal(struct kheal_brain *b, Kheal__Record *rec,
		   struct kheal_err *err)
{
	return b->ops->journal(b->arg, rec, err);
}

static Kheal__HealthState pb_state(enum kheal_health_state s)
{
	return (Kheal__HealthState)(s + 1);
}

/* The registry's hook: nothing changes state without its record. */
static int on_transition(void *arg, const struct kheal_subsystem *sub,
			 enum kheal_health_state to, const char *cause,
			 uint64_t time_ns, struct kheal_err *err)
{
	struct kheal_brain *b = arg;
	Kheal__Record rec = KHEAL__RECORD__INIT;
	Kheal__Transition t = KHEAL__TRANSITION__INIT;
	char id[KHEAL_HEALTH_ID_LEN];

	kheal_health_id(sub->type, sub->name, id, sizeof(id));
	t.subsystem = id;
	t.has_from = t.has_to = true;
	t.from = pb_state(sub->state);
	t.to = pb_state(to);
	t.cause = (char *)cause;
	t.has_time_ns = true;
	t.time_ns = time_ns;
	if (b->cur_incident) {
		t.has_incident = true;
		t.incident = b->cur_incident;
	}
	rec.body_case = KHEAL__RECORD__BODY_TRANSITION;
	rec.transition = &t;
	return journal(b, &rec, err);
}

/* The registry entry of a health id ("cgroup:/a", "kernel"), or NULL. */
static struct kheal_subsystem *subsystem_of(struct kheal_brain *b,
					    const char *id)
{
	char buf[KHEAL_HEALTH_ID_LEN];
	struct kheal_subsystem *sub;
	size_t i;

	kheal_health_for_each(&b->health, i, sub) {
		kheal_health_id(sub->type, sub->name, buf, sizeof(buf));
		if (!strcmp(buf, id))
			return sub;
	}
	return NULL;
}

/* Moves the incident's subsystem, if the table allows it. */
static int move(struct kheal_brain *b, struct kheal_incident *inc,
		enum kheal_health_state to, uint64_t now, struct kheal_err *err,
		const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int move(struct kheal_brain *b, struct kheal_incident *inc,
		enum kheal_health_state to, uint64_t now, struct kheal_err *err,
		const char *fmt, ...)
{
	struct kheal_subsystem *sub = subsystem_of(b, inc->subsystem);
	char cause[KHEAL_HEALTH_CAUSE_LEN];
	va_list ap;
	int ret;

	if (!sub || !kheal_health_allowed(sub->state, to))
		return 0;
	va_start(ap, fmt);
	vsnprintf(cause, sizeof(cause), fmt, ap);
	va_end(ap);
	b->cur_incident = inc->id;
	ret = kheal_health_transition(&b->health, sub, to, cause, now, err);
	b->cur_incident = 0;
	return ret;
}

static int journal_incident(struct kheal_brain *b, struct kheal_incident *inc,
			    bool first, struct kheal_err *err)
{
	Kheal__Record rec = KHEAL__RECORD__INIT;
	Kheal__Incident pi = KHEAL__INCIDENT__INIT;
	Kheal__EventRef ref = KHEAL__EVENT_REF__INIT;

	pi.has_id = pi.has_state = pi.has_time_ns = pi.has_events = true;
	pi.id = inc->id;
	pi.subsystem = inc->subsystem;
	pi.state = inc->state;
	pi.time_ns = inc->updated_ns;
	pi.events = inc->nevents;
	if (first) {
		ref.has_source = ref.has_instance = ref.has_seq = true;
		ref.source = (Kheal__Source)inc->trigger.source;
		ref.instance = inc->trigger.instance;
		ref.seq = inc->trigger.seq;
		pi.trigger = &ref;
		pi.has_kind = true;
		pi.kind = inc->trigger.kind;
		pi.summary = inc->summary;
		pi.context = inc->context;
	}
	rec.body_case = KHEAL__RECORD__BODY_INCIDENT;
	rec.incident = &pi;
	return journal(b, &rec, err);
}

static int set_state(struct kheal_brain *b, struct kheal_incident *inc,
		     Kheal__IncidentState state, uint64_t now,
		     struct kheal_err *err)
{
	if (inc->state == state)
		return 0;
	inc->state = state;
	inc->updated_ns = now;
	if (kheal_incident_closed(inc))
		inc->closed_ns = now;
	return journal_incident(b, inc, false, err);
}

static int journal_diagnosis(struct kheal_brain *b,
			     const struct kheal_incident *inc, uint64_t now,
			     struct kheal_err *err)
{
	Kheal__Record rec = KHEAL__RECORD__INIT;
	Kheal__Diagnosis pd = KHEAL__DIAGNOSIS__INIT;
	char *ev[KHEAL_DIAG_MAX_EVIDENCE];
	size_t i;

	for (i = 0; i < inc->diag.nevidence; i++)
		ev[i] = (char *)inc->diag.evidence[i];
	pd.has_incident = pd.has_confidence = pd.has_time_ns = true;
	pd.incident = inc->id;
	pd.rule = (char *)inc->diag.rule;
	pd.cause = (char *)inc->diag.cause;
	pd.confidence = inc->diag.confidence;
	pd.n_evidence = inc->diag.nevidence;
	pd.evidence = ev;
	pd.time_ns = now;
	rec.body_case = KHEAL__RECORD__BODY_DIAGNOSIS;
	rec.diagnosis = &pd;
	return journal(b, &rec, err);
}

struct decision {
	const struct kheal_runbook *rb;
	Kheal__DecisionKind kind;
	const char *reason;
	uint64_t approval;
	const char *draft;
	bool forced;
};

static int journal_decision(struct kheal_brain *b, struct kheal_incident *inc,
			    const struct decision *d, uint64_t now,
			    struct kheal_err *err)
{
	Kheal__Record rec = KHEAL__RECORD__INIT;
	Kheal__Decision pd = KHEAL__DECISION__INIT;

	inc->decision = d->kind;
	pd.has_incident = pd.has_decision = pd.has_time_ns = true;
	pd.incident = inc->id;
	pd.decision = d->kind;
	pd.time_ns = now;
	pd.profile = (char *)kheal_profile_name(b->cfg.profile);
	pd.reason = (char *)d->reason;
	if (d->rb) {
		pd.runbook = d->rb->name;
		pd.risk = (char *)kheal_risk_name(d->rb->risk);
		pd.has_attempt = true;
		pd.attempt = inc->attempts;
	}
	if (d->approval) {
		pd.has_approval = true;
		pd.approval = d->approval;
	}
	pd.draft = (char *)d->draft;
	if (d->forced) {
		pd.has_forced = true;
		pd.forced = true;
	}
	rec.body_case = KHEAL__RECORD__BODY_DECISION;
	rec.decision = &pd;
	return journal(b, &rec, err);
}

static int journal_outcome(struct kheal_brain *b, struct kheal_incident *inc,
			   Kheal__OutcomeKind kind, uint64_t now,
			   struct kheal_err *err, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static int journal_outcome(struct kheal_brain *b, struct kheal_incident *inc,
			   Kheal__OutcomeKind kind, uint64_t now,
			   struct kheal_err *err, const char *fmt, ...)
{
	Kheal__Record rec = KHEAL__RECORD__INIT;
	Kheal__Outcome po = KHEAL__OUTCOME__INIT;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(inc->outcome_detail, sizeof(inc->outcome_detail), fmt, ap);
	va_end(ap);
	inc->outcome = kind;
	po.has_incident = po.has_outcome = po.has_time_ns = true;
	po.incident = inc->id;
	po.runbook = inc->runbook[0] ? inc->runbook : NULL;
	po.outcome = kind;
	po.detail = inc->outcome_detail;
	po.time_ns = now;
	if (inc->run_started_ns) {
		po.has_duration_ms = true;
		po.duration_ms = (clock_ns(b) - inc->run_started_ns) / MS;
	}
	rec.body_case = KHEAL__RECORD__BODY_OUTCOME;
	rec.outcome = &po;
	return journal(b, &rec, err);
}

static int journal_approval(struct kheal_brain *b, const struct kheal_approval *a,
			    uint64_t incident, uint64_t now,
			    struct kheal_err *err)
{
	Kheal__Record rec = KHEAL__RECORD__INIT;
	Kheal__Approval pa = KHEAL__APPROVAL__INIT;

	pa.has_id = pa.has_incident = pa.has_state = pa.has_time_ns = true;
	pa.id = a->id;
	pa.incident = incident;
	pa.runbook = (char *)a->runbook;
	pa.subsystem = (char *)a->subsystem;
	pa.risk = (char *)kheal_risk_name(a->risk);
	pa.state = (Kheal__ApprovalState)(a->state + 1);
	pa.time_ns = now;
	if (a->state == KHEAL_APPROVAL_APPROVED ||
	    a->state == KHEAL_APPROVAL_DENIED) {
		pa.has_uid = true;
		pa.uid = a->decided_by;
	}
	rec.body_case = KHEAL__RECORD__BODY_APPROVAL;
	rec.approval = &pa;
	return journal(b, &rec, err);
}

/* Journals one action or check that ran, and keeps it for status. */
static int journal_action(struct kheal_brain *b, struct kheal_incident *inc,
			  const struct kheal_action_log *log,
			  struct kheal_err *err)
{
	Kheal__Record rec = KHEAL__RECORD__INIT;
	Kheal__Action pa = KHEAL__ACTION__INIT;
	struct kheal_last_action *last;
	char args[sizeof(log->args)];
	char *argv[KHEAL_ACTION_MAX_PARAMS];
	char *save = NULL, *a;
	size_t n = 0;

	/* "a=1\tb=2": one string per argument. */
	fmt(args, sizeof(args), "%s", log->args);
	for (a = strtok_r(args, "\t", &save); a && n < ARRAY_SIZE(argv);
	     a = strtok_r(NULL, "\t", &save))
		argv[n++] = a;
	pa.has_incident = pa.has_phase = pa.has_index = pa.has_result = true;
	pa.has_duration_ms = pa.has_time_ns = true;
	pa.incident = inc->id;
	pa.runbook = inc->runbook;
	pa.phase = log->phase;
	pa.index = log->index;
	pa.name = (char *)log->name;
	pa.n_args = n;
	pa.args = argv;
	pa.result = log->result;
	pa.error = log->error[0] ? (char *)log->error : NULL;
	pa.duration_ms = log->duration_ms;
	pa.time_ns = log->time_ns;
	rec.body_case = KHEAL__RECORD__BODY_ACTION;
	rec.action = &pa;
	kheal_incident_log_action(inc, log);
	last = &b->last[b->last_head];
	last->incident = inc->id;
	fmt(last->runbook, sizeof(last->runbook), "%s", inc->runbook);
	last->log = *log;
	b->last_head = (b->last_head + 1) % KHEAL_BRAIN_LAST_ACTIONS;
	if (b->nlast < KHEAL_BRAIN_LAST_ACTIONS)
		b->nlast++;
	return journal(b, &rec, err);
}

const struct kheal_last_action *kheal_brain_last(const struct kheal_brain *b,
						 size_t i)
{
	size_t first = (b->last_head + KHEAL_BRAIN_LAST_ACTIONS - b->nlast) %
		       KHEAL_BRAIN_LAST_ACTIONS;

	return i < b->nlast ?
	       &b->last[(first + i) % KHEAL_BRAIN_LAST_ACTIONS] : NULL;
}

/*
 * Expands an action's or check's arguments for the incident's event:
 * @argv gets one string per param (NULL for an optional one left out),
 * @log->args "name=value" for each, tab-separated.
 */
static int expand(struct kheal_brain *b, struct kheal_incident *inc,
		  const struct kheal_param_spec *params, char *const *tmpl,
		  char buf[][ARG_LEN], const char **argv,
		  struct kheal_action_log *log, struct kheal_err *err)
{
	size_t i, off = 0;
	const char *t;
	int ret;

	(void)b;
	for (i = 0; i < KHEAL_ACTION_MAX_PARAMS; i++) {
		argv[i] = NULL;
		if (!params[i].name)
			continue;
		t = tmpl[i] ? tmpl[i] : params[i].def;
		if (!t)
			continue;
		ret = kheal_runbook_expand(t, &inc->cur, inc->subsystem, buf[i],
					   ARG_LEN, err);
		if (ret < 0)
			return kheal_err_wrap(err, ret, "%s", params[i].name);
		argv[i] = buf[i];
		ret = snprintf(log->args + off, sizeof(log->args) - off,
			       "%s%s=%s", off ? "\t" : "", params[i].name,
			       buf[i]);
		if (ret > 0 && (size_t)ret < sizeof(log->args) - off)
			off += ret;
	}
	return 0;
}

static void acting(struct kheal_brain *b, const struct kheal_incident *inc)
{
	if (b->ops->acting)
		b->ops->acting(b->arg, inc);
}

/* Whether the incident's subsystem is healthy: the one check the brain runs. */
static int subsystem_healthy(struct kheal_brain *b, const char *id,
			     struct kheal_err *err)
{
	struct kheal_subsystem *sub = subsystem_of(b, id);

	if (!sub)
		return kheal_err_set(err, ENOENT, "no subsystem %s", id);
	return sub->state == KHEAL_HEALTHY;
}

/* A check: 1 holds, 0 not, -errno; dry runs assume it holds. */
static int run_check(struct kheal_brain *b, struct kheal_incident *inc,
		     const struct kheal_probe *p, struct kheal_action_log *log,
		     struct kheal_err *err)
{
	char buf[KHEAL_ACTION_MAX_PARAMS][ARG_LEN];
	const char *argv[KHEAL_ACTION_MAX_PARAMS];
	int ret;

	fmt(log->name, sizeof(log->name), "%s", p->check->name);
	ret = expand(b, inc, p->check->params, p->args, buf, argv, log, err);
	if (ret)
		return ret;
	if (b->cfg.dry_run)
		return 1;
	acting(b, inc);
	if (!strcmp(p->check->name, "subsystem.healthy"))
		return subsystem_healthy(b, argv[0], err);
	if (!p->check->check)
		return kheal_err_set(err, ENOSYS, "check %s is not implemented",
				     p->check->name);
	return p->check->check(argv, b->cfg.exec_ctx, err);
}

static void log_result(struct kheal_action_log *log, int ret,
		       const struct kheal_err *err, bool dry_run)
{
	if (dry_run) {
		log->result = KHEAL__ACTION_RESULT__RESULT_DRY_RUN;
		return;
	}
	if (ret >= 0) {
		log->result = KHEAL__ACTION_RESULT__RESULT_OK;
		/* An action may leave a note even when it succeeds. */
		fmt(log->error, sizeof(log->error), "%s", err->msg);
		return;
	}
	log->result = ret == -ETIMEDOUT ? KHEAL__ACTION_RESULT__RESULT_TIMEOUT :
					  KHEAL__ACTION_RESULT__RESULT_FAILED;
	fmt(log->error, sizeof(log->error), "%s", kheal_err_str(err, ret));
}

/*
 * Runs @steps (only the low-risk ones if @low_only; all but those if
 * they ran before the approval, inc->low_ran). Returns 0 if all
 * went well, 1 if one failed (journalled), or -errno from the journal.
 * *@escalated is set if a step was the escalate action.
 */
static int run_steps(struct kheal_brain *b, struct kheal_incident *inc,
		     const struct kheal_step *steps, size_t n, Kheal__Phase phase,
		     bool low_only, uint64_t now, bool *escalated,
		     struct kheal_err *jerr)
{
	char buf[KHEAL_ACTION_MAX_PARAMS][ARG_LEN];
	const char *argv[KHEAL_ACTION_MAX_PARAMS];
	struct kheal_action_log log;
	struct kheal_err err;
	uint64_t t0;
	bool failed = false;
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		const struct kheal_step *s = &steps[i];

		if (low_only && !kheal_step_low_risk(s))
			continue;
		if (phase == KHEAL__PHASE__STEP && !low_only && inc->low_ran &&
		    kheal_step_low_risk(s)) {
			/* It ran before the approval: it counts. */
			if (!strcmp(s->action->name, "escalate"))
				*escalated = true;
			continue;
		}
		memset(&log, 0, sizeof(log));
		err.msg[0] = '\0';
		log.phase = phase;
		log.index = i;
		fmt(log.name, sizeof(log.name), "%s", s->action->name);
		t0 = clock_ns(b);
		log.time_ns = now;
		ret = expand(b, inc, s->action->params, s->args, buf, argv, &log,
			     &err);
		if (!ret && !b->cfg.dry_run)
			acting(b, inc);
		if (!ret && !b->cfg.dry_run)
			ret = s->action->exec ?
			      s->action->exec(argv, s->timeout_ms,
					      b->cfg.exec_ctx, &err) :
			      kheal_err_set(&err, ENOSYS,
					    "action %s is not implemented",
					    s->action->name);
		log.duration_ms = (clock_ns(b) - t0) / MS;
		log_result(&log, ret, &err, b->cfg.dry_run && !ret);
		if (!strcmp(s->action->name, "escalate") && ret >= 0)
			*escalated = true;
		ret = journal_action(b, inc, &log, jerr);
		if (ret)
			return ret;
		if (log.result == KHEAL__ACTION_RESULT__RESULT_FAILED ||
		    log.result == KHEAL__ACTION_RESULT__RESULT_TIMEOUT) {
			failed = true;
			/* A rollback goes on: undo as much as it can. */
			if (phase != KHEAL__PHASE__ROLLBACK)
				break;
		}
	}
	return failed;
}

/* Hands the incident to a human: the escalation record, the states. */
static int escalate(struct kheal_brain *b, struct kheal_incident *inc,
		    const struct kheal_runbook *rb, const char *why,
		    uint64_t now, struct kheal_err *err)
{
	char msg[ARG_LEN] = "";
	struct kheal_action_log log = {
		.phase = KHEAL__PHASE__ESCALATION,
		.name = "escalate",
		.result = KHEAL__ACTION_RESULT__RESULT_OK,
		.time_ns = now,
	};
	struct kheal_err xerr = { "" };
	int ret;

	if (rb && rb->escalate_message &&
	    kheal_runbook_expand(rb->escalate_message, &inc->cur,
				 inc->subsystem, msg, sizeof(msg), &xerr) < 0)
		fmt(msg, sizeof(msg), "%s", rb->escalate_message);
	fmt(log.args, sizeof(log.args), "message=%s\ttarget=%s\treason=%s",
		 msg[0] ? msg : inc->summary,
		 rb && rb->escalate_target ? rb->escalate_target : "operator",
		 why);
	note(b, "incident %" PRIu64 " on %s escalated: %s (%s)", inc->id,
	     inc->subsystem, msg[0] ? msg : inc->summary, why);
	ret = journal_action(b, inc, &log, err);
	if (!ret)
		ret = move(b, inc, KHEAL_ESCALATED, now, err,
			   "incident %" PRIu64 ": %s", inc->id, why);
	if (!ret)
		ret = set_state(b, inc,
				KHEAL__INCIDENT_STATE__INCIDENT_ESCALATED, now,
				err);
	return ret;
}

/* Rollback, then escalation, after a failed step or verify. */
static int fail_run(struct kheal_brain *b, struct kheal_incident *inc,
		    const struct kheal_runbook *rb, Kheal__OutcomeKind kind,
		    const char *why, uint64_t now, struct kheal_err *err)
{
	bool escalated = false;
	int ret;

	inc->verify_deadline_ns = 0;
	if (rb && rb->nrollback) {
		ret = run_steps(b, inc, rb->rollback, rb->nrollback,
				KHEAL__PHASE__ROLLBACK, false, now, &escalated,
				err);
		if (ret < 0)
			return ret;
	}
	ret = journal_outcome(b, inc, kind, now, err, "%s", why);
	return ret ? ret : escalate(b, inc, rb, why, now, err);
}

static int succeed(struct kheal_brain *b, struct kheal_incident *inc,
		   uint64_t now, struct kheal_err *err)
{
	int ret;

	inc->verify_deadline_ns = 0;
	ret = journal_outcome(b, inc, KHEAL__OUTCOME_KIND__RECOVERED, now, err,
			      "%s", b->cfg.dry_run ?
			      "dry run: assumed to verify" : "verified");
	if (!ret)
		ret = move(b, inc, KHEAL_HEALTHY, now, err,
			   "incident %" PRIu64 ": runbook %s verified",
			   inc->id, inc->runbook);
	if (!ret)
		ret = set_state(b, inc, KHEAL__INCIDENT_STATE__INCIDENT_RESOLVED,
				now, err);
	return ret;
}

/* A step of @rb hands the incident to a human once the rest verifies. */
static bool has_escalate_step(const struct kheal_runbook *rb)
{
	size_t i;

	for (i = 0; i < rb->nsteps; i++)
		if (!strcmp(rb->steps[i].action->name, "escalate"))
			return true;
	return false;
}

/* Polls the verify once; at its deadline a failure fails the run. */
static int verify(struct kheal_brain *b, struct kheal_incident *inc,
		  const struct kheal_runbook *rb, uint64_t now,
		  struct kheal_err *jerr)
{
	struct kheal_action_log log = {
		.phase = KHEAL__PHASE__VERIFY,
		.time_ns = now,
	};
	struct kheal_err err = { "" };
	int ret;

	ret = run_check(b, inc, &rb->verify, &log, &err);
	if (ret == 0 && now < inc->verify_deadline_ns)
		return 0;		/* not yet: the next tick looks again */
	log.duration_ms = (clock_ns(b) - inc->run_started_ns) / MS;
	if (b->cfg.dry_run) {
		log.result = KHEAL__ACTION_RESULT__RESULT_DRY_RUN;
	} else if (ret == 1) {
		log.result = KHEAL__ACTION_RESULT__RESULT_OK;
	} else if (ret == 0) {
		log.result = KHEAL__ACTION_RESULT__RESULT_TIMEOUT;
		snprintf(log.error, sizeof(log.error),
			 "%s did not hold within %" PRIu64 " ms",
			 rb->verify.check->name, rb->verify.deadline_ms);
	} else {
		log.result = KHEAL__ACTION_RESULT__RESULT_FAILED;
		snprintf(log.error, sizeof(log.error), "%s",
			 kheal_err_str(&err, ret));
	}
	ret = journal_action(b, inc, &log, jerr);
	if (ret)
		return ret;
	if ((log.result == KHEAL__ACTION_RESULT__RESULT_OK ||
	     log.result == KHEAL__ACTION_RESULT__RESULT_DRY_RUN) &&
	    has_escalate_step(rb)) {
		/* Isolated and verified, but only a human can mend it. */
		inc->verify_deadline_ns = 0;
		ret = journal_outcome(b, inc,
				      KHEAL__OUTCOME_KIND__ESCALATED_ONLY, now,
				      jerr, "verified; the runbook hands the rest to a human");
		return ret ? ret : escalate(b, inc, rb,
					    "verified; the runbook escalates",
					    now, jerr);
	}
	if (log.result == KHEAL__ACTION_RESULT__RESULT_OK ||
	    log.result == KHEAL__ACTION_RESULT__RESULT_DRY_RUN)
		return succeed(b, inc, now, jerr);
	return fail_run(b, inc, rb, KHEAL__OUTCOME_KIND__ROLLED_BACK,
			log.error, now, jerr);
}

/* Preconditions: 1 if all hold, 0 if one does not (journalled). */
static int preconditions(struct kheal_brain *b, struct kheal_incident *inc,
			 const struct kheal_runbook *rb, uint64_t now,
			 struct kheal_err *jerr)
{
	struct kheal_action_log log;
	struct kheal_err err;
	size_t i;
	int ret;

	for (i = 0; i < rb->npre; i++) {
		const struct kheal_precond *p = &rb->pre[i];

		memset(&log, 0, sizeof(log));
		err.msg[0] = '\0';
		log.phase = KHEAL__PHASE__PRECONDITION;
		log.index = i;
		log.time_ns = now;
		if (p->is_check) {
			ret = run_check(b, inc, &p->probe, &log, &err);
			if (ret >= 0 && !b->cfg.dry_run)
				ret = ret == p->probe.expect;
			if (!b->cfg.dry_run && ret == 0)
				snprintf(err.msg, sizeof(err.msg),
					 "%s is %s, expected %s",
					 p->probe.check->name,
					 p->probe.expect ? "false" : "true",
					 p->probe.expect ? "true" : "false");
		} else {
			snprintf(log.name, sizeof(log.name), "%s",
				 p->cond.field->name);
			ret = kheal_cond_holds(&p->cond, &inc->cur);
			if (!ret)
				snprintf(err.msg, sizeof(err.msg),
					 "%s does not satisfy the condition",
					 p->cond.field->name);
		}
		if (ret == 1) {
			log.result = p->is_check && b->cfg.dry_run ?
				     KHEAL__ACTION_RESULT__RESULT_DRY_RUN :
				     KHEAL__ACTION_RESULT__RESULT_OK;
		} else {
			log.result = KHEAL__ACTION_RESULT__RESULT_FAILED;
			snprintf(log.error, sizeof(log.error), "%s",
				 kheal_err_str(&err, ret ? ret : -EINVAL));
		}
		ret = journal_action(b, inc, &log, jerr);
		if (ret)
			return ret;
		if (log.result == KHEAL__ACTION_RESULT__RESULT_FAILED)
			return 0;
	}
	return 1;
}

/*
 * What a cooldown counts runs on: a task's service (its cgroup), since a
 * hung service gives a new pid each time; else the subsystem.
 */
static void scope_of(const struct kheal_incident *inc, char *buf,
		     size_t len)
{
	const struct kheal_event *ev = &inc->cur;

	if (!strncmp(inc->subsystem, "task:", 5) &&
	    kheal_event_has(ev, KHEAL_A_CGROUP_PATH) && ev->cgroup_path[0] &&
	    strcmp(ev->cgroup_path, "/"))
		kheal_health_id(KHEAL_SUBSYS_CGROUP, ev->cgroup_path, buf, len);
	else
		fmt(buf, len, "%s", inc->subsystem);
}

static struct kheal_cooldown *cooldown_of(struct kheal_brain *b,
					  const char *runbook,
					  const char *subsystem, bool add)
{
	struct kheal_cooldown *c;
	size_t i;

	for (i = 0; i < b->ncooldowns; i++) {
		c = &b->cooldowns[i];
		if (!strcmp(c->runbook, runbook) &&
		    !strcmp(c->subsystem, subsystem))
			return c;
	}
	if (!add)
		return NULL;
	if (b->ncooldowns == KHEAL_BRAIN_COOLDOWNS) {
		/* The oldest run has waited longest: its cooldown goes. */
		size_t oldest = 0;

		for (i = 1; i < b->ncooldowns; i++)
			if (b->cooldowns[i].last_ns <
			    b->cooldowns[oldest].last_ns)
				oldest = i;
		c = &b->cooldowns[oldest];
	} else {
		c = &b->cooldowns[b->ncooldowns++];
	}
	fmt(c->runbook, sizeof(c->runbook), "%s", runbook);
	fmt(c->subsystem, sizeof(c->subsystem), "%s", subsystem);
	return c;
}

/* Runs @rb for @inc now: preconditions, steps, then verify or escalate. */
static int run(struct kheal_brain *b, struct kheal_incident *inc,
	       const struct kheal_runbook *rb, Kheal__DecisionKind kind,
	       uint64_t now, struct kheal_err *err)
{
	bool low_only = kind == KHEAL__DECISION_KIND__DECIDE_LOW_RISK;
	char scope[KHEAL_HEALTH_ID_LEN];
	bool escalated = false;
	int ret;

	inc->run_started_ns = clock_ns(b);
	inc->run_kind = kind;
	scope_of(inc, scope, sizeof(scope));
	cooldown_of(b, rb->name, scope, true)->last_ns = now;
	ret = set_state(b, inc, KHEAL__INCIDENT_STATE__INCIDENT_ACTING, now,
			err);
	if (!ret)
		ret = move(b, inc, KHEAL_RECOVERING, now, err,
			   "incident %" PRIu64 ": runbook %s, attempt %" PRIu32,
			   inc->id, rb->name, inc->attempts);
	if (ret)
		return ret;
	ret = preconditions(b, inc, rb, now, err);
	if (ret < 0)
		return ret;
	if (!ret) {
		ret = journal_outcome(b, inc,
				      KHEAL__OUTCOME_KIND__PRECONDITION_FAILED,
				      now, err, "a precondition failed; nothing was done");
		return ret ? ret : escalate(b, inc, rb, "a precondition failed",
					    now, err);
	}
	ret = run_steps(b, inc, rb->steps, rb->nsteps, KHEAL__PHASE__STEP,
			low_only, now, &escalated, err);
	inc->low_ran = false;
	if (ret < 0)
		return ret;
	if (ret)
		return fail_run(b, inc, rb, KHEAL__OUTCOME_KIND__STEP_FAILED,
				"a step failed", now, err);
	if (low_only) {
		ret = journal_outcome(b, inc, KHEAL__OUTCOME_KIND__PARTIAL, now,
				      err, "the low-risk steps ran; the diagnosis is below the runbook's confidence gate");
		return ret ? ret : escalate(b, inc, rb,
					    "confidence below the runbook's gate",
					    now, err);
	}
	if (!rb->verify.check) {
		if (!escalated)
			return succeed(b, inc, now, err);
		ret = journal_outcome(b, inc,
				      KHEAL__OUTCOME_KIND__ESCALATED_ONLY, now,
				      err, "the runbook hands this to a human");
		return ret ? ret : escalate(b, inc, rb, "the runbook escalates",
					    now, err);
	}
	inc->verify_deadline_ns = now + rb->verify.deadline_ms * MS;
	return verify(b, inc, rb, now, err);
}

static int request_approval(struct kheal_brain *b, struct kheal_incident *inc,
			    const struct kheal_runbook *rb,
			    struct decision *d, uint64_t now,
			    struct kheal_err *err)
{
	const struct kheal_approval *a;
	int ret;

	ret = kheal_approval_request(&b->approvals, rb->name, inc->subsystem,
				     rb->risk, now, &d->approval, err);
	if (ret)
		return ret;
	inc->approval = d->approval;
	ret = journal_decision(b, inc, d, now, err);
	a = kheal_approval_find(&b->approvals, d->approval);
	if (!ret && a)
		ret = journal_approval(b, a, inc->id, now, err);
	if (!ret)
		ret = set_state(b, inc,
				KHEAL__INCIDENT_STATE__INCIDENT_AWAITING_APPROVAL,
				now, err);
	if (!ret)
		note(b, "incident %" PRIu64 " on %s: runbook %s (risk %s) waits for approval %" PRIu64 ": khealctl approve %" PRIu64,
		     inc->id, inc->subsystem, rb->name,
		     kheal_risk_name(rb->risk), d->approval, d->approval);
	return ret;
}

/*
 * awaiting_approval: low-risk-subset: the low-risk steps now, before the
 * wait. A step that fails is journalled; the approval is asked all the
 * same, for a human to see both.
 */
static int low_before_approval(struct kheal_brain *b,
			       struct kheal_incident *inc,
			       const struct kheal_runbook *rb, uint64_t now,
			       struct kheal_err *err)
{
	bool escalated = false;
	int ret;

	inc->low_ran = false;
	ret = run_steps(b, inc, rb->steps, rb->nsteps, KHEAL__PHASE__STEP,
			true, now, &escalated, err);
	if (ret < 0)
		return ret;
	inc->low_ran = true;
	return 0;
}

/* No runbook: a draft for a human, and no action. */
static int novel(struct kheal_brain *b, struct kheal_incident *inc,
		 uint64_t now, struct kheal_err *err)
{
	char name[KHEAL_RUNBOOK_NAME_LEN], path[4096], summary[512];
	static char draft[16384];
	struct decision d = { .kind = KHEAL__DECISION_KIND__DECIDE_NOVEL };
	int fd, len, ret;

	if (kheal_runbook_novel_summary(&inc->cur, inc->subsystem, summary,
					sizeof(summary)) < 0)
		snprintf(summary, sizeof(summary), "novel incident on %s",
			 inc->subsystem);
	d.reason = summary;
	if (kheal_runbook_draft_name(&inc->cur, inc->subsystem, name,
				     sizeof(name)) < 0)
		snprintf(name, sizeof(name), "draft");
	snprintf(path, sizeof(path), "%s/%s.yaml",
		 b->cfg.drafts_dir ? b->cfg.drafts_dir : "drafts", name);
	d.draft = b->cfg.drafts_dir ? path : name;
	len = kheal_runbook_draft(&inc->cur, inc->subsystem, draft,
				  sizeof(draft));
	if (b->cfg.drafts_dir && len > 0) {
		mkdir(b->cfg.drafts_dir, 0755);
		/* A draft already there is the same fault's, or a human's. */
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0) {
			if (write(fd, draft, len) != len)
				note(b, "draft %s: %s", path, strerror(errno));
			close(fd);
		} else if (errno != EEXIST) {
			note(b, "draft %s: %s", path, strerror(errno));
		}
	}
	note(b, "incident %" PRIu64 ": %s; draft %s", inc->id, summary, d.draft);
	ret = journal_decision(b, inc, &d, now, err);
	if (!ret)
		ret = move(b, inc, KHEAL_ESCALATED, now, err,
			   "incident %" PRIu64 ": novel, no runbook matches",
			   inc->id);
	if (!ret)
		ret = set_state(b, inc, KHEAL__INCIDENT_STATE__INCIDENT_NOVEL, now,
				err);
	return ret;
}

static const char *decision_reason(Kheal__DecisionKind kind)
{
	switch (kind) {
	case KHEAL__DECISION_KIND__DECIDE_OBSERVE:
		return "profile observe never acts alone: waiting for approval";
	case KHEAL__DECISION_KIND__DECIDE_ACT:
		return "within the profile and above the confidence gate";
	case KHEAL__DECISION_KIND__DECIDE_LOW_RISK:
		return "below the confidence gate: the low-risk steps only";
	case KHEAL__DECISION_KIND__DECIDE_ESCALATE:
		return "below the confidence gate: escalating without acting";
	case KHEAL__DECISION_KIND__DECIDE_APPROVAL:
		return "the runbook's risk is above the profile: waiting for approval";
	default:
		return NULL;
	}
}

/* What to do with an incident that has its diagnosis. */
static int decide(struct kheal_brain *b, struct kheal_incident *inc,
		  uint64_t now, bool forced, uint64_t approval,
		  struct kheal_err *err)
{
	const struct kheal_runbook *rb;
	struct kheal_cooldown *cd;
	struct decision d = { .forced = forced, .approval = approval };
	char reason[512], scope[KHEAL_HEALTH_ID_LEN];
	int ret;

	rb = kheal_runbook_match(&b->runbooks, &inc->cur, inc->subsystem);
	if (!rb)
		return novel(b, inc, now, err);
	d.rb = rb;
	fmt(inc->runbook, sizeof(inc->runbook), "%s", rb->name);
	if (forced) {
		inc->attempts++;
		d.kind = KHEAL__DECISION_KIND__DECIDE_ACT;
		d.reason = "forced by an operator (khealctl heal)";
		ret = journal_decision(b, inc, &d, now, err);
		return ret ? ret : run(b, inc, rb, d.kind, now, err);
	}
	if (inc->attempts >= rb->max_attempts) {
		snprintf(reason, sizeof(reason),
			 "ran %" PRIu32 " times on this incident (max_attempts %" PRIu32 ")",
			 inc->attempts, rb->max_attempts);
		d.kind = KHEAL__DECISION_KIND__DECIDE_MAX_ATTEMPTS;
		d.reason = reason;
		ret = journal_decision(b, inc, &d, now, err);
		return ret ? ret : escalate(b, inc, rb, reason, now, err);
	}
	scope_of(inc, scope, sizeof(scope));
	cd = cooldown_of(b, rb->name, scope, false);
	if (cd && now - cd->last_ns < rb->cooldown_ms * MS) {
		/* Back so soon: what the runbook did does not hold. */
		fmt(reason, sizeof(reason),
			 "ran on %s %" PRIu64 " ms ago, within its cooldown of %" PRIu64 " ms: the fault came back",
			 scope, (now - cd->last_ns) / MS, rb->cooldown_ms);
		d.kind = KHEAL__DECISION_KIND__DECIDE_COOLDOWN;
		d.reason = reason;
		ret = journal_decision(b, inc, &d, now, err);
		return ret ? ret : escalate(b, inc, rb, reason, now, err);
	}
	d.kind = (Kheal__DecisionKind)(kheal_autonomy_decide(b->cfg.profile, rb,
							     inc->diag.confidence) + 1);
	d.reason = decision_reason(d.kind);
	switch (d.kind) {
	case KHEAL__DECISION_KIND__DECIDE_OBSERVE:
		return request_approval(b, inc, rb, &d, now, err);
	case KHEAL__DECISION_KIND__DECIDE_APPROVAL:
		ret = rb->awaiting == KHEAL_AWAITING_LOW_RISK_SUBSET ?
		      low_before_approval(b, inc, rb, now, err) : 0;
		return ret ? ret : request_approval(b, inc, rb, &d, now, err);
	case KHEAL__DECISION_KIND__DECIDE_ESCALATE:
		ret = journal_decision(b, inc, &d, now, err);
		if (!ret)
			ret = journal_outcome(b, inc,
					      KHEAL__OUTCOME_KIND__ESCALATED_ONLY,
					      now, err, "%s", d.reason);
		return ret ? ret : escalate(b, inc, rb, d.reason, now, err);
	default:
		inc->attempts++;
		ret = journal_decision(b, inc, &d, now, err);
		return ret ? ret : run(b, inc, rb, d.kind, now, err);
	}
}

static void recent_add(struct kheal_brain *b, const struct kheal_event *ev)
{
	b->recent[b->recent_head] = *ev;
	b->recent_head = (b->recent_head + 1) % KHEAL_BRAIN_RECENT;
	if (b->nrecent < KHEAL_BRAIN_RECENT)
		b->nrecent++;
}

static const struct kheal_event *recent_at(const struct kheal_brain *b,
					   size_t i)
{
	size_t first = (b->recent_head + KHEAL_BRAIN_RECENT - b->nrecent) %
		       KHEAL_BRAIN_RECENT;

	return &b->recent[(first + i) % KHEAL_BRAIN_RECENT];
}

/* Whether @e touches @inc's subsystem or what it depends on. */
static bool related(const struct kheal_event *e, const struct kheal_event *ev,
		    const char *subsystem)
{
	struct kheal_health_target t;
	char id[KHEAL_HEALTH_ID_LEN];

	if (e->source == ev->source && e->instance == ev->instance &&
	    e->seq == ev->seq)
		return false;
	if (kheal_event_has(ev, KHEAL_A_CGROUP_PATH) &&
	    kheal_event_has(e, KHEAL_A_CGROUP_PATH) &&
	    strcmp(ev->cgroup_path, "/") &&
	    !strcmp(e->cgroup_path, ev->cgroup_path))
		return true;
	if (kheal_health_event_target(e, &t, NULL))
		return false;
	kheal_health_id(t.type, t.name, id, sizeof(id));
	return !strcmp(id, subsystem);
}

/* The events of the window before @now, for diagnosis and context. */
static size_t window(const struct kheal_brain *b, uint64_t now,
		     const struct kheal_event **v)
{
	const struct kheal_event *e;
	uint64_t from = now > b->cfg.related_window_ms * MS ?
			now - b->cfg.related_window_ms * MS : 0;
	size_t i, n = 0;

	for (i = 0; i < b->nrecent; i++) {
		e = recent_at(b, i);
		if (e->time_ns >= from && e->time_ns <= now)
			v[n++] = e;
	}
	return n;
}

static int add_related(Kheal__Context *ctx, const struct kheal_event *const *v,
		       size_t n, const struct kheal_event *ev,
		       const char *subsystem)
{
	Kheal__EventRef **refs, *r;
	size_t i, k = 0;

	refs = calloc(n ? n : 1, sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (!related(v[i], ev, subsystem))
			continue;
		r = malloc(sizeof(*r));
		if (!r)
			break;
		kheal__event_ref__init(r);
		r->has_source = r->has_instance = r->has_seq = true;
		r->source = (Kheal__Source)v[i]->source;
		r->instance = v[i]->instance;
		r->seq = v[i]->seq;
		refs[k++] = r;
	}
	for (i = 0; i < ctx->n_related; i++)
		free(ctx->related[i]);
	free(ctx->related);
	ctx->related = refs;
	ctx->n_related = k;
	return 0;
}

/* A new incident: its context, its diagnosis, then the decision. */
static int open_incident(struct kheal_brain *b, const struct kheal_event *ev,
			 const char *subsystem, struct kheal_err *err)
{
	const struct kheal_event *win[KHEAL_BRAIN_RECENT];
	struct kheal_diag_input in;
	struct kheal_incident *inc;
	size_t n;
	int ret;

	ret = kheal_incident_open(&b->incidents, subsystem, ev, ev->time_ns,
				  &inc, err);
	if (ret)
		return ret;
	inc->cur = *ev;
	if (kheal_runbook_novel_summary(ev, subsystem, inc->summary,
					sizeof(inc->summary)) > 0) {
		/* The same line, without the novelty it does not know yet. */
		char *cut = strstr(inc->summary, ": no runbook matches");

		if (cut)
			*cut = '\0';
		if (!strncmp(inc->summary, "novel incident: ", 16))
			memmove(inc->summary, inc->summary + 16,
				strlen(inc->summary + 16) + 1);
	}
	if (b->ops->context)
		inc->context = b->ops->context(b->arg, ev);
	if (!inc->context) {
		inc->context = malloc(sizeof(*inc->context));
		if (!inc->context)
			return kheal_err_set(err, ENOMEM, "incident context");
		kheal__context__init(inc->context);
	}
	n = window(b, ev->time_ns, win);
	if (add_related(inc->context, win, n, ev, subsystem))
		return kheal_err_set(err, ENOMEM, "incident context");
	if (kheal_event_has(ev, KHEAL_A_CHECKPOINT_ID) &&
	    !inc->context->has_checkpoint_id) {
		inc->context->has_checkpoint_id = true;
		inc->context->checkpoint_id = ev->checkpoint_id;
	}
	ret = journal_incident(b, inc, true, err);
	if (ret)
		return ret;
	in = (struct kheal_diag_input){
		.ev = ev,
		.subsystem = subsystem,
		.ctx = inc->context,
		.recent = win,
		.nrecent = n,
	};
	kheal_diagnose(&in, &inc->diag);
	inc->diagnosed = true;
	ret = journal_diagnosis(b, inc, ev->time_ns, err);
	return ret ? ret : decide(b, inc, ev->time_ns, false, 0, err);
}

int kheal_brain_event(struct kheal_brain *b, const struct kheal_event *ev,
		      struct kheal_err *err)
{
	struct kheal_health_target t;
	struct kheal_subsystem *sub;
	struct kheal_incident *inc;
	char id[KHEAL_HEALTH_ID_LEN];
	struct kheal_err terr = { "" };
	uint64_t now = ev->time_ns;
	int ret;

	recent_add(b, ev);
	ret = kheal_health_event_target(ev, &t, &terr);
	if (ret == -ENOENT)
		return 0;	/* names no subsystem: journalled, no more */
	if (ret) {
		note(b, "%s", kheal_err_str(&terr, ret));
		return 0;
	}
	kheal_health_id(t.type, t.name, id, sizeof(id));
	inc = kheal_incident_for(&b->incidents, id, now);
	/* A fault that opens an incident moves its subsystem for it. */
	b->cur_incident = inc ? inc->id :
			  t.state != KHEAL_HEALTHY ? b->incidents.next_id : 0;
	ret = kheal_health_observe(&b->health, ev, now, &sub, err);
	b->cur_incident = 0;
	if (ret < 0)
		return ret;
	if (t.state == KHEAL_HEALTHY) {
		/* The fault cleared: an incident nobody acts on is over. */
		if (!inc || kheal_incident_closed(inc) ||
		    inc->state == KHEAL__INCIDENT_STATE__INCIDENT_ACTING)
			return 0;
		inc->nevents++;
		if (inc->approval) {
			struct kheal_approval *a;

			a = (struct kheal_approval *)
			    kheal_approval_find(&b->approvals, inc->approval);
			if (a && a->state == KHEAL_APPROVAL_PENDING) {
				a->state = KHEAL_APPROVAL_EXPIRED;
				a->decided_ns = now;
				ret = journal_approval(b, a, inc->id, now, err);
				if (ret)
					return ret;
			}
			inc->approval = 0;
		}
		ret = journal_outcome(b, inc, KHEAL__OUTCOME_KIND__RECOVERED,
				      now, err, "cleared by itself (%s)",
				      kheal_kind_name(ev->kind));
		return ret ? ret :
		       set_state(b, inc,
				 KHEAL__INCIDENT_STATE__INCIDENT_RESOLVED, now,
				 err);
	}
	if (!inc)
		return open_incident(b, ev, id, err);
	inc->nevents++;
	inc->updated_ns = now;
	if (!kheal_incident_closed(inc))
		return 0;	/* grouped into it */
	/* A human has it: more of the fault is theirs too. */
	if (inc->state != KHEAL__INCIDENT_STATE__INCIDENT_RESOLVED)
		return 0;
	/* The fault is back within the flap window: the same incident. */
	inc->reopened++;
	inc->cur = *ev;
	inc->approval = 0;
	ret = set_state(b, inc, KHEAL__INCIDENT_STATE__INCIDENT_OPEN, now, err);
	return ret ? ret : decide(b, inc, now, false, 0, err);
}

int kheal_brain_tick(struct kheal_brain *b, uint64_t now_ns,
		     struct kheal_err *err)
{
	const struct kheal_runbook *rb;
	struct kheal_incident *inc;
	struct kheal_approval *a;
	size_t i;
	int ret;

	for (i = 0; i < b->incidents.n; i++) {
		inc = b->incidents.v[i];
		if (inc->state != KHEAL__INCIDENT_STATE__INCIDENT_ACTING ||
		    !inc->verify_deadline_ns)
			continue;
		rb = kheal_runbook_set_find(&b->runbooks, inc->runbook);
		ret = rb ? verify(b, inc, rb, now_ns, err) :
		      fail_run(b, inc, NULL, KHEAL__OUTCOME_KIND__ROLLED_BACK,
			       "the runbook was removed while verifying",
			       now_ns, err);
		if (ret)
			return ret;
	}
	if (!kheal_approvals_expire(&b->approvals, now_ns))
		return 0;
	for (i = 0; i < b->incidents.n; i++) {
		inc = b->incidents.v[i];
		if (inc->state !=
		    KHEAL__INCIDENT_STATE__INCIDENT_AWAITING_APPROVAL)
			continue;
		a = (struct kheal_approval *)
		    kheal_approval_find(&b->approvals, inc->approval);
		if (a && a->state != KHEAL_APPROVAL_EXPIRED)
			continue;
		inc->approval = 0;
		ret = a ? journal_approval(b, a, inc->id, now_ns, err) : 0;
		if (!ret)
			ret = journal_outcome(b, inc, KHEAL__OUTCOME_KIND__DENIED,
					      now_ns, err,
					      "the approval expired");
		if (!ret)
			ret = escalate(b, inc,
				       kheal_runbook_set_find(&b->runbooks,
							      inc->runbook),
				       "the approval expired", now_ns, err);
		if (ret)
			return ret;
	}
	return 0;
}

int kheal_brain_decide(struct kheal_brain *b, uint64_t id, bool approve,
		       uid_t uid, uint64_t now_ns, struct kheal_err *err)
{
	const struct kheal_runbook *rb;
	const struct kheal_approval *a;
	struct kheal_incident *inc = NULL;
	struct decision d = { 0 };
	size_t i;
	int ret;

	ret = kheal_approval_decide(&b->approvals, id, approve, uid, now_ns,
				    err);
	if (ret)
		return ret;
	a = kheal_approval_find(&b->approvals, id);
	for (i = 0; i < b->incidents.n; i++)
		if (b->incidents.v[i]->approval == id)
			inc = b->incidents.v[i];
	if (!inc)
		return 0;
	inc->approval = 0;
	ret = journal_approval(b, a, inc->id, now_ns, err);
	if (ret)
		return ret;
	rb = kheal_runbook_set_find(&b->runbooks, a->runbook);
	if (!approve || !rb) {
		const char *why = approve ?
				  "approved, but the runbook is gone" :
				  "an operator denied the approval";

		inc->low_ran = false;
		ret = journal_outcome(b, inc, KHEAL__OUTCOME_KIND__DENIED, now_ns,
				      err, "%s", why);
		return ret ? ret : escalate(b, inc, rb, why, now_ns, err);
	}
	inc->attempts++;
	d.rb = rb;
	d.kind = KHEAL__DECISION_KIND__DECIDE_ACT;
	d.reason = "approved by an operator";
	d.approval = id;
	ret = journal_decision(b, inc, &d, now_ns, err);
	return ret ? ret : run(b, inc, rb, d.kind, now_ns, err);
}

int kheal_brain_heal(struct kheal_brain *b, const char *subsystem,
		     uid_t uid, uint64_t now_ns, uint64_t *incident,
		     struct kheal_err *err)
{
	struct kheal_incident *inc = NULL;
	uint64_t approval = 0;
	size_t i;
	int ret;

	for (i = b->incidents.n; i-- > 0;) {
		if (!strcmp(b->incidents.v[i]->subsystem, subsystem)) {
			inc = b->incidents.v[i];
			break;
		}
	}
	if (!inc)
		return kheal_err_set(err, ENOENT,
				     "no incident on %s: nothing to heal (khealctl subsystems lists what kheald knows)",
				     subsystem);
	if (inc->state == KHEAL__INCIDENT_STATE__INCIDENT_ACTING)
		return kheal_err_set(err, EBUSY,
				     "runbook %s is already running on %s (incident %" PRIu64 ")",
				     inc->runbook, subsystem, inc->id);
	if (!kheal_runbook_match(&b->runbooks, &inc->cur, inc->subsystem))
		return kheal_err_set(err, ENOENT,
				     "no runbook matches the last fault on %s (%s)",
				     subsystem, kheal_kind_name(inc->cur.kind));
	if (inc->approval) {
		struct kheal_approval *a = (struct kheal_approval *)
			kheal_approval_find(&b->approvals, inc->approval);

		/* Healing answers the question the approval asked. */
		if (a && a->state == KHEAL_APPROVAL_PENDING) {
			a->state = KHEAL_APPROVAL_APPROVED;
			a->decided_ns = now_ns;
			a->decided_by = uid;
			ret = journal_approval(b, a, inc->id, now_ns, err);
			if (ret)
				return ret;
			approval = a->id;
		}
		inc->approval = 0;
	}
	if (kheal_incident_closed(inc)) {
		inc->reopened++;
		ret = set_state(b, inc, KHEAL__INCIDENT_STATE__INCIDENT_OPEN,
				now_ns, err);
		if (ret)
			return ret;
	}
	*incident = inc->id;
	return decide(b, inc, now_ns, true, approval, err);
}

static void note_load_errors(struct kheal_brain *b,
			     struct kheal_runbook_errs *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		note(b, "runbook %s", errs->v[i].msg);
	kheal_runbook_errs_free(errs);
}

int kheal_brain_reload(struct kheal_brain *b, struct kheal_err *err)
{
	struct kheal_runbook_errs errs = { 0 };
	int ret;

	ret = kheal_runbook_set_load_dir(b->cfg.runbooks_dir, &b->runbooks,
					 &errs);
	note_load_errors(b, &errs);
	if (ret && ret != -EINVAL)
		return kheal_err_set(err, -ret, "runbooks directory %s: %s",
				     b->cfg.runbooks_dir, strerror(-ret));
	return 0;
}

int kheal_brain_init(struct kheal_brain *b, const struct kheal_brain_cfg *cfg,
		     const struct kheal_brain_ops *ops, void *arg,
		     struct kheal_err *err)
{
	struct kheal_err rerr = { "" };

	*b = (struct kheal_brain){ .cfg = *cfg, .ops = ops, .arg = arg };
	if (!b->cfg.flap_window_ms)
		b->cfg.flap_window_ms = KHEAL_BRAIN_FLAP_WINDOW_MS;
	if (!b->cfg.related_window_ms)
		b->cfg.related_window_ms = KHEAL_BRAIN_RELATED_WINDOW_MS;
	b->recent = calloc(KHEAL_BRAIN_RECENT, sizeof(*b->recent));
	if (!b->recent)
		return kheal_err_set(err, ENOMEM, "recent events");
	kheal_health_init(&b->health, on_transition, b);
	kheal_incidents_init(&b->incidents, cfg->first_incident,
			     b->cfg.flap_window_ms * MS);
	kheal_approvals_init(&b->approvals,
			     cfg->first_approval ? cfg->first_approval : 1,
			     cfg->approval_ttl_ms * MS);
	/*
	 * Without runbooks every incident is novel: detection and the
	 * journal go on, and a reload picks the directory up when it exists.
	 */
	if (kheal_brain_reload(b, &rerr))
		note(b, "%s; every incident is novel until a reload finds runbooks",
		     rerr.msg);
	return 0;
}

void kheal_brain_free(struct kheal_brain *b)
{
	kheal_runbook_set_free(&b->runbooks);
	kheal_approvals_free(&b->approvals);
	kheal_incidents_free(&b->incidents);
	kheal_health_free(&b->health);
	free(b->recent);
	b->recent = NULL;
}

int kheal_brain_journal_ids(const char *path, uint64_t *incident,
			    uint64_t *approval, struct kheal_err *err)
{
	struct kheal_journal_iter it;
	Kheal__Record *rec;
	int ret;

	*incident = *approval = 0;
	ret = kheal_journal_iter_open(&it, path, err);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	while ((ret = kheal_journal_iter_next(&it, &rec, err)) == 1) {
		if (rec->body_case == KHEAL__RECORD__BODY_INCIDENT &&
		    rec->incident->id > *incident)
			*incident = rec->incident->id;
		if (rec->body_case == KHEAL__RECORD__BODY_APPROVAL &&
		    rec->approval->id > *approval)
			*approval = rec->approval->id;
		kheal__record__free_unpacked(rec, NULL);
	}
	kheal_journal_iter_close(&it);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
/* The control socket's ops: the brain's state as CtlResponses. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "brain_ctl.h"
#include "record.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static uint64_t now_ns(struct kheal_brain *b)
{
	return b->ops->now ? b->ops->now(b->arg) : 0;
}

/* An arena-owned message, initialized; NULL (the arena failed) on ENOMEM. */
#define NEW(a, p, init)							\
	((p) = kheal_ctl_alloc((a), sizeof(*(p))), (p) ? (init(p), (p)) : NULL)

static Kheal__Action *action_pb(struct kheal_ctl_arena *a, uint64_t incident,
				const char *runbook,
				const struct kheal_action_log *log)
{
	Kheal__Action *p;
	char args[sizeof(log->args)], *save = NULL, *s;

	if (!NEW(a, p, kheal__action__init))
		return NULL;
	p->has_incident = p->has_phase = p->has_index = p->has_result = true;
	p->has_duration_ms = p->has_time_ns = true;
	p->incident = incident;
	p->runbook = kheal_ctl_strdup(a, runbook);
	p->phase = log->phase;
	p->index = log->index;
	p->name = kheal_ctl_strdup(a, log->name);
	p->args = kheal_ctl_calloc(a, KHEAL_ACTION_MAX_PARAMS + 1,
				   sizeof(char *));
	snprintf(args, sizeof(args), "%s", log->args);
	for (s = strtok_r(args, "\t", &save);
	     s && p->args && p->n_args <= KHEAL_ACTION_MAX_PARAMS;
	     s = strtok_r(NULL, "\t", &save))
		p->args[p->n_args++] = kheal_ctl_strdup(a, s);
	p->result = log->result;
	if (log->error[0])
		p->error = kheal_ctl_strdup(a, log->error);
	p->duration_ms = log->duration_ms;
	p->time_ns = log->time_ns;
	return p;
}

/* The event as its journal record carries it; strings stay @ev's. */
static Kheal__Event *event_pb(struct kheal_ctl_arena *a,
			      const struct kheal_event *ev)
{
	struct kheal_pb_event *pe = kheal_ctl_alloc(a, sizeof(*pe));
	Kheal__Record rec;

	if (!pe)
		return NULL;
	kheal_record_event(&rec, pe, ev);
	return &pe->pe;
}

static void incident_pb(struct kheal_ctl_arena *a, Kheal__IncidentInfo *p,
			const struct kheal_incident *inc, bool full)
{
	Kheal__Diagnosis *d;
	size_t i;

	p->has_id = p->has_state = p->has_opened_ns = true;
	p->has_updated_ns = p->has_events = p->has_attempts = true;
	p->id = inc->id;
	p->subsystem = kheal_ctl_strdup(a, inc->subsystem);
	p->state = inc->state;
	p->opened_ns = inc->opened_ns;
	p->updated_ns = inc->updated_ns;
	p->summary = kheal_ctl_strdup(a, inc->summary);
	p->events = inc->nevents;
	p->attempts = inc->attempts;
	if (inc->diagnosed) {
		NEW(a, d, kheal__diagnosis__init);
		if (d) {
			d->has_incident = d->has_confidence = true;
			d->incident = inc->id;
			d->rule = kheal_ctl_strdup(a, inc->diag.rule);
			d->cause = kheal_ctl_strdup(a, inc->diag.cause);
			d->confidence = inc->diag.confidence;
			d->evidence = kheal_ctl_calloc(a, inc->diag.nevidence + 1,
						       sizeof(char *));
			for (i = 0; d->evidence && i < inc->diag.nevidence; i++)
				d->evidence[d->n_evidence++] =
					kheal_ctl_strdup(a, inc->diag.evidence[i]);
		}
		p->diagnosis = d;
	}
	if (inc->decision) {
		NEW(a, p->decision, kheal__decision__init);
		if (p->decision) {
			p->decision->has_decision = true;
			p->decision->decision = inc->decision;
			if (inc->runbook[0])
				p->decision->runbook =
					kheal_ctl_strdup(a, inc->runbook);
			if (inc->approval) {
				p->decision->has_approval = true;
				p->decision->approval = inc->approval;
			}
		}
	}
	if (inc->outcome) {
		NEW(a, p->outcome, kheal__outcome__init);
		if (p->outcome) {
			p->outcome->has_outcome = true;
			p->outcome->outcome = inc->outcome;
			p->outcome->detail = kheal_ctl_strdup(a,
							      inc->outcome_detail);
		}
	}
	if (!full)
		return;
	p->trigger = event_pb(a, &inc->trigger);
	p->context = inc->context;	/* held by the brain until sent */
	p->actions = kheal_ctl_calloc(a, inc->nactions + 1, sizeof(*p->actions));
	for (i = 0; p->actions && i < inc->nactions; i++)
		p->actions[p->n_actions++] = action_pb(a, inc->id, inc->runbook,
						       &inc->actions[i]);
}

static int put_incidents(Kheal__CtlResponse *resp, struct kheal_ctl_arena *a,
			 struct kheal_brain *b, bool open_only)
{
	const struct kheal_incidents *t = &b->incidents;
	Kheal__IncidentInfo *p;
	size_t i;

	resp->incidents = kheal_ctl_calloc(a, t->n + 1, sizeof(*resp->incidents));
	if (!resp->incidents)
		return -ENOMEM;
	for (i = 0; i < t->n; i++) {
		if (open_only && kheal_incident_closed(t->v[i]))
			continue;
		NEW(a, p, kheal__incident_info__init);
		if (!p)
			return -ENOMEM;
		incident_pb(a, p, t->v[i], false);
		resp->incidents[resp->n_incidents++] = p;
	}
	return 0;
}

static int put_approvals(Kheal__CtlResponse *resp, struct kheal_ctl_arena *a,
			 struct kheal_brain *b, bool pending_only)
{
	const struct kheal_approvals *ap = &b->approvals;
	const struct kheal_approval *x;
	Kheal__Approval *p;
	size_t i, j;

	resp->approvals = kheal_ctl_calloc(a, ap->n + 1, sizeof(*resp->approvals));
	if (!resp->approvals)
		return -ENOMEM;
	for (i = 0; i < ap->n; i++) {
		x = &ap->v[i];
		if (pending_only && x->state != KHEAL_APPROVAL_PENDING)
			continue;
		NEW(a, p, kheal__approval__init);
		if (!p)
			return -ENOMEM;
		p->has_id = p->has_state = p->has_time_ns = true;
		p->id = x->id;
		p->runbook = kheal_ctl_strdup(a, x->runbook);
		p->subsystem = kheal_ctl_strdup(a, x->subsystem);
		p->risk = (char *)kheal_risk_name(x->risk);
		p->state = (Kheal__ApprovalState)(x->state + 1);
		p->time_ns = x->decided_ns ? x->decided_ns : x->created_ns;
		if (x->state == KHEAL_APPROVAL_APPROVED ||
		    x->state == KHEAL_APPROVAL_DENIED) {
			p->has_uid = true;
			p->uid = x->decided_by;
		}
		for (j = 0; j < b->incidents.n; j++) {
			if (b->incidents.v[j]->approval == x->id) {
				p->has_incident = true;
				p->incident = b->incidents.v[j]->id;
			}
		}
		resp->approvals[resp->n_approvals++] = p;
	}
	return 0;
}

static int op_status(const Kheal__CtlRequest *req,
		     const struct kheal_ctl_peer *peer,
		     Kheal__CtlResponse *resp, struct kheal_ctl_arena *a,
		     void *arg)
{
	struct kheal_brain *b = arg;
	const struct kheal_last_action *l;
	Kheal__StateCount *c;
	size_t i;
	int ret;

	(void)req;
	(void)peer;
	resp->profile = (char *)kheal_profile_name(b->cfg.profile);
	resp->counts = kheal_ctl_calloc(a, KHEAL_HEALTH_NSTATES,
					sizeof(*resp->counts));
	if (!resp->counts)
		return -ENOMEM;
	for (i = 0; i < KHEAL_HEALTH_NSTATES; i++) {
		NEW(a, c, kheal__state_count__init);
		if (!c)
			return -ENOMEM;
		c->has_state = c->has_count = true;
		c->state = (Kheal__HealthState)(i + 1);
		c->count = kheal_health_count(&b->health, i);
		resp->counts[resp->n_counts++] = c;
	}
	ret = put_incidents(resp, a, b, true);
	if (!ret)
		ret = put_approvals(resp, a, b, true);
	if (ret)
		return ret;
	resp->last_actions = kheal_ctl_calloc(a, b->nlast + 1,
					      sizeof(*resp->last_actions));
	if (!resp->last_actions)
		return -ENOMEM;
	for (i = 0; (l = kheal_brain_last(b, i)); i++)
		resp->last_actions[resp->n_last_actions++] =
			action_pb(a, l->incident, l->runbook, &l->log);
	return 0;
}

static int op_subsystems(const Kheal__CtlRequest *req,
			 const struct kheal_ctl_peer *peer,
			 Kheal__CtlResponse *resp, struct kheal_ctl_arena *a,
			 void *arg)
{
	struct kheal_brain *b = arg;
	struct kheal_subsystem *sub;
	Kheal__SubsystemInfo *p;
	char id[KHEAL_HEALTH_ID_LEN];
	size_t i;

	(void)req;
	(void)peer;
	resp->subsystems = kheal_ctl_calloc(a, b->health.n + 1,
					    sizeof(*resp->subsystems));
	if (!resp->subsystems)
		return -ENOMEM;
	kheal_health_for_each(&b->health, i, sub) {
		NEW(a, p, kheal__subsystem_info__init);
		if (!p)
			return -ENOMEM;
		kheal_health_id(sub->type, sub->name, id, sizeof(id));
		p->id = kheal_ctl_strdup(a, id);
		p->has_state = p->has_since_ns = true;
		p->state = (Kheal__HealthState)(sub->state + 1);
		p->since_ns = sub->since_ns;
		p->cause = kheal_ctl_strdup(a, sub->cause);
		resp->subsystems[resp->n_subsystems++] = p;
	}
	return 0;
}

static int op_incidents(const Kheal__CtlRequest *req,
			const struct kheal_ctl_peer *peer,
			Kheal__CtlResponse *resp, struct kheal_ctl_arena *a,
			void *arg)
{
	(void)req;
	(void)peer;
	return put_incidents(resp, a, arg, false);
}

static int op_incident(const Kheal__CtlRequest *req,
		       const struct kheal_ctl_peer *peer,
		       Kheal__CtlResponse *resp, struct kheal_ctl_arena *a,
		       void *arg)
{
	struct kheal_brain *b = arg;
	const struct kheal_incident *inc;
	Kheal__IncidentInfo *p;

	(void)peer;
	inc = req->has_id ? kheal_incident_find(&b->incidents, req->id) : NULL;
	if (!inc) {
		resp->message = kheal_ctl_sprintf(a,
			"no incident %" PRIu64 " (khealctl incidents lists those kept)",
			req->id);
		return -ENOENT;
	}
	resp->incidents = kheal_ctl_calloc(a, 1, sizeof(*resp->incidents));
	NEW(a, p, kheal__incident_info__init);
	if (!resp->incidents || !p)
		return -ENOMEM;
	incident_pb(a, p, inc, true);
	resp->incidents[0] = p;
	resp->n_incidents = 1;
	return 0;
}

static int op_approvals(const Kheal__CtlRequest *req,
			const struct kheal_ctl_peer *peer,
			Kheal__CtlResponse *resp, struct kheal_ctl_arena *a,
			void *arg)
{
	(void)req;
	(void)peer;
	return put_approvals(resp, a, arg, false);
}

static int answer(struct kheal_ctl_arena *a, Kheal__CtlResponse *resp,
		  const struct kheal_err *err, int ret)
{
	if (ret)
		resp->message = kheal_ctl_strdup(a, kheal_err_str(err, ret));
	return ret;
}

static int op_decide(const Kheal__CtlRequest *req,
		     const struct kheal_ctl_peer *peer,
		     Kheal__CtlResponse *resp, struct kheal_ctl_arena *a,
		     void *arg)
{
	bool approve = req->op == KHEAL__CTL_REQUEST__OP__APPROVE;
	struct kheal_brain *b = arg;
	struct kheal_err err = { "" };
	int ret;

	if (!req->has_id)
		return answer(a, resp, &err,
			      kheal_err_set(&err, EINVAL,
					    "%s needs an approval id",
					    approve ? "approve" : "deny"));
	ret = kheal_brain_decide(b, req->id, approve, peer->uid, now_ns(b),
				 &err);
	if (ret)
		return answer(a, resp, &err, ret);
	resp->message = kheal_ctl_sprintf(a, "approval %" PRIu64 " %s",
					  req->id,
					  approve ? "approved" : "denied");
	return 0;
}

static int op_heal(const Kheal__CtlRequest *req,
		   const struct kheal_ctl_peer *peer,
		   Kheal__CtlResponse *resp, struct kheal_ctl_arena *a,
		   void *arg)
{
	struct kheal_brain *b = arg;
	struct kheal_err err = { "" };
	const struct kheal_incident *inc;
	uint64_t id = 0;
	int ret;

	if (!req->subsystem || !req->subsystem[0])
		return answer(a, resp, &err,
			      kheal_err_set(&err, EINVAL,
					    "heal needs a subsystem, e.g. cgroup:/a.slice"));
	ret = kheal_brain_heal(b, req->subsystem, peer->uid, now_ns(b), &id,
			       &err);
	if (ret)
		return answer(a, resp, &err, ret);
	inc = kheal_incident_find(&b->incidents, id);
	resp->has_id = true;
	resp->id = id;
	resp->message = kheal_ctl_sprintf(a,
		"incident %" PRIu64 " on %s: runbook %s ran; %s (%s)", id,
		req->subsystem, inc ? inc->runbook : "?",
		inc ? kheal_incident_state_name(inc->state) : "?",
		inc ? inc->outcome_detail : "");
	return 0;
}

static int op_runbooks(const Kheal__CtlRequest *req,
		       const struct kheal_ctl_peer *peer,
		       Kheal__CtlResponse *resp, struct kheal_ctl_arena *a,
		       void *arg)
{
	struct kheal_brain *b = arg;
	const struct kheal_runbook_entry *e;
	Kheal__RunbookInfo *p;
	const char *kind;
	size_t i, k;

	(void)req;
	(void)peer;
	resp->profile = (char *)kheal_profile_name(b->cfg.profile);
	resp->runbooks = kheal_ctl_calloc(a, b->runbooks.n + 1,
					  sizeof(*resp->runbooks));
	if (!resp->runbooks)
		return -ENOMEM;
	for (i = 0; i < b->runbooks.n; i++) {
		e = &b->runbooks.v[i];
		NEW(a, p, kheal__runbook_info__init);
		if (!p)
			return -ENOMEM;
		p->name = kheal_ctl_strdup(a, e->rb.name);
		p->path = kheal_ctl_strdup(a, e->path);
		p->risk = (char *)kheal_risk_name(e->rb.risk);
		if (e->rb.description)
			p->description = kheal_ctl_strdup(a, e->rb.description);
		p->has_stale = true;
		p->stale = e->stale;
		p->subsystem = kheal_ctl_strdup(a, e->rb.match.subsystem);
		p->kinds = kheal_ctl_calloc(a, 33, sizeof(char *));
		for (k = 0; p->kinds && k < 32; k++)
			if ((e->rb.match.kinds & (1U << k)) &&
			    (kind = kheal_kind_name(k)))
				p->kinds[p->n_kinds++] = (char *)kind;
		resp->runbooks[resp->n_runbooks++] = p;
	}
	return 0;
}

static int op_reload(const Kheal__CtlRequest *req,
		     const struct kheal_ctl_peer *peer,
		     Kheal__CtlResponse *resp, struct kheal_ctl_arena *a,
		     void *arg)
{
	struct kheal_brain *b = arg;
	struct kheal_err err = { "" };
	size_t i, stale = 0;
	int ret;

	(void)req;
	(void)peer;
	ret = kheal_brain_reload(b, &err);
	if (ret)
		return answer(a, resp, &err, ret);
	for (i = 0; i < b->runbooks.n; i++)
		stale += b->runbooks.v[i].stale;
	resp->message = kheal_ctl_sprintf(a,
		"%zu runbooks loaded from %s, %zu of them stale (the file is bad now; its last good version is kept: see kheald's log)",
		b->runbooks.n, b->cfg.runbooks_dir, stale);
	return 0;
}

const struct kheal_ctl_op kheal_brain_ctl_ops[] = {
	{ KHEAL__CTL_REQUEST__OP__STATUS, "status", false, op_status },
	{ KHEAL__CTL_REQUEST__OP__SUBSYSTEMS, "subsystems", false,
	  op_subsystems },
	{ KHEAL__CTL_REQUEST__OP__INCIDENTS, "incidents", false, op_incidents },
	{ KHEAL__CTL_REQUEST__OP__INCIDENT, "incident", false, op_incident },
	{ KHEAL__CTL_REQUEST__OP__APPROVALS, "approvals", false, op_approvals },
	{ KHEAL__CTL_REQUEST__OP__APPROVE, "approve", true, op_decide },
	{ KHEAL__CTL_REQUEST__OP__DENY, "deny", true, op_decide },
	{ KHEAL__CTL_REQUEST__OP__HEAL, "heal", true, op_heal },
	{ KHEAL__CTL_REQUEST__OP__RUNBOOKS, "runbooks", false, op_runbooks },
	{ KHEAL__CTL_REQUEST__OP__RELOAD, "reload", true, op_reload },
};
const size_t kheal_brain_ctl_nops = ARRAY_SIZE(kheal_brain_ctl_ops);

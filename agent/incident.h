/* SPDX-License-Identifier: GPL-2.0 */
/* Incidents: the events of one fault on one subsystem, and what was done. */
#ifndef KHEAL_INCIDENT_H
#define KHEAL_INCIDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "event.h"
#include "health.h"
#include "kheal.pb-c.h"
#include "runbook.h"

#define KHEAL_INCIDENT_SUMMARY_LEN	256
#define KHEAL_DIAG_CAUSE_LEN		256
#define KHEAL_DIAG_EVIDENCE_LEN		192
#define KHEAL_DIAG_MAX_EVIDENCE		8
#define KHEAL_INCIDENT_MAX_ACTIONS	32

/* Incidents kept in memory; the oldest closed ones go first. */
#define KHEAL_INCIDENTS_MAX		1024

/* What a rule (diagnose.h) named as the cause. */
struct kheal_diagnosis {
	const char *rule;		/* static: the rule's name */
	char cause[KHEAL_DIAG_CAUSE_LEN];
	double confidence;		/* 0..1 */
	char evidence[KHEAL_DIAG_MAX_EVIDENCE][KHEAL_DIAG_EVIDENCE_LEN];
	size_t nevidence;
};

/* One action or check that ran, for `khealctl incident show`. */
struct kheal_action_log {
	Kheal__Phase phase;
	uint32_t index;
	char name[32];
	char args[256];			/* "cgroup=/svc pid=12" */
	Kheal__ActionResult result;
	char error[256];
	uint64_t duration_ms;
	uint64_t time_ns;
};

struct kheal_incident {
	uint64_t id;
	char subsystem[KHEAL_HEALTH_ID_LEN];
	Kheal__IncidentState state;
	uint64_t opened_ns;
	uint64_t updated_ns;
	uint64_t closed_ns;		/* resolved, escalated or novel */
	struct kheal_event trigger;
	char summary[KHEAL_INCIDENT_SUMMARY_LEN];
	uint64_t nevents;		/* grouped into it, trigger included */
	uint32_t reopened;		/* flaps folded back into it */
	Kheal__Context *context;	/* owned; NULL if none */
	struct kheal_diagnosis diag;
	bool diagnosed;
	char runbook[KHEAL_RUNBOOK_NAME_LEN];
	Kheal__DecisionKind decision;
	uint64_t approval;		/* pending approval's id, or 0 */
	/* Its low-risk steps ran before the approval (awaiting_approval). */
	bool low_ran;
	uint32_t attempts;		/* runbook runs */
	Kheal__OutcomeKind outcome;
	char outcome_detail[256];
	/* The run in progress (state acting) and the event it acts on. */
	struct kheal_event cur;
	uint64_t run_started_ns;
	uint64_t verify_deadline_ns;	/* 0: not verifying */
	Kheal__DecisionKind run_kind;
	struct kheal_action_log actions[KHEAL_INCIDENT_MAX_ACTIONS];
	size_t nactions;		/* the newest if more ran */
	size_t actions_total;
};

static inline bool kheal_incident_closed(const struct kheal_incident *inc)
{
	return inc->state == KHEAL__INCIDENT_STATE__INCIDENT_RESOLVED ||
	       inc->state == KHEAL__INCIDENT_STATE__INCIDENT_ESCALATED ||
	       inc->state == KHEAL__INCIDENT_STATE__INCIDENT_NOVEL;
}

const char *kheal_incident_state_name(Kheal__IncidentState state);

/* Incidents in the order they opened. */
struct kheal_incidents {
	struct kheal_incident **v;
	size_t n;
	uint64_t next_id;
	uint64_t flap_window_ns;
};

/* @first_id: where ids start, e.g. after the journal's last incident. */
void kheal_incidents_init(struct kheal_incidents *t, uint64_t first_id,
			  uint64_t flap_window_ns);
void kheal_incidents_free(struct kheal_incidents *t);

struct kheal_incident *kheal_incident_find(const struct kheal_incidents *t,
					   uint64_t id);

/*
 * Where an event on @subsystem goes: the open incident of that subsystem,
 * or one closed on it less than the flap window before @now_ns (the
 * fault came back: it is the same incident, reopened, so its attempts
 * count on), or NULL for a new one.
 */
struct kheal_incident *kheal_incident_for(const struct kheal_incidents *t,
					  const char *subsystem,
					  uint64_t now_ns);

/*
 * Opens a new incident on @subsystem for @trigger at @now_ns. When the
 * table is full, the oldest closed incident is dropped; if none is
 * closed, -ENOSPC.
 */
int kheal_incident_open(struct kheal_incidents *t, const char *subsystem,
			const struct kheal_event *trigger, uint64_t now_ns,
			struct kheal_incident **out, struct kheal_err *err);

/* Keeps the record of an action or check that ran. */
void kheal_incident_log_action(struct kheal_incident *inc,
			       const struct kheal_action_log *log);

#endif

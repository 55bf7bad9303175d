/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The brain: events in; health, incidents, diagnoses, decisions and
 * runbook runs out, each journalled before it takes effect.
 *
 *   event ─► health registry ─► incident (group, flap, context) ─►
 *   diagnosis ─► runbook match ─► cooldown, max_attempts ─► autonomy ─►
 *   preconditions ─► steps ─► verify (polled on ticks) ─► outcome
 *                                     └─ failed: rollback ─► escalate
 *
 * Decisions depend only on the events, the recorded contexts, the
 * runbooks and the profile, and take the event's time as "now", so a
 * replay of a journal decides as the live run did.
 */
#ifndef KHEAL_BRAIN_H
#define KHEAL_BRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "autonomy.h"
#include "err.h"
#include "event.h"
#include "health.h"
#include "incident.h"
#include "kheal.pb-c.h"
#include "runbook.h"

struct kheal_brain_ops {
	/* Journals @rec; an error stops the brain's step that made it. */
	int (*journal)(void *arg, const Kheal__Record *rec,
		       struct kheal_err *err);
	/*
	 * The context of a new incident, to free with
	 * kheal__context__free_unpacked(), or NULL for none.
	 */
	Kheal__Context *(*context)(void *arg, const struct kheal_event *ev);
	/* CLOCK_BOOTTIME now: only for durations, never for decisions. */
	uint64_t (*now)(void *arg);
	/* Something an operator should read (stderr). */
	void (*note)(void *arg, const char *msg);
	/* About to run actions or checks for @inc (its context, say). */
	void (*acting)(void *arg, const struct kheal_incident *inc);
};

struct kheal_brain_cfg {
	enum kheal_profile profile;
	const char *runbooks_dir;
	const char *drafts_dir;		/* NULL: drafts are not written */
	bool dry_run;			/* decide; run no action or check */
	void *exec_ctx;			/* handed to actions and checks */
	uint64_t flap_window_ms;	/* a fault back within it reopens */
	uint64_t related_window_ms;	/* context: the events before */
	uint64_t approval_ttl_ms;	/* 0: approvals never expire */
	uint64_t first_incident;	/* ids resume after the journal's */
	uint64_t first_approval;
};

#define KHEAL_BRAIN_FLAP_WINDOW_MS	(10 * 60 * 1000)
#define KHEAL_BRAIN_RELATED_WINDOW_MS	(5 * 60 * 1000)
#define KHEAL_BRAIN_APPROVAL_TTL_MS	(60 * 60 * 1000)

/* Events kept for diagnosis and context, newest replacing oldest. */
#define KHEAL_BRAIN_RECENT		256
#define KHEAL_BRAIN_COOLDOWNS		256
#define KHEAL_BRAIN_LAST_ACTIONS	16

struct kheal_cooldown {
	char runbook[KHEAL_RUNBOOK_NAME_LEN];
	char subsystem[KHEAL_HEALTH_ID_LEN];
	uint64_t last_ns;
};

struct kheal_last_action {
	uint64_t incident;
	char runbook[KHEAL_RUNBOOK_NAME_LEN];
	struct kheal_action_log log;
};

struct kheal_brain {
	struct kheal_brain_cfg cfg;
	const struct kheal_brain_ops *ops;
	void *arg;
	struct kheal_health health;
	struct kheal_incidents incidents;
	struct kheal_approvals approvals;
	struct kheal_runbook_set runbooks;
	uint64_t cur_incident;		/* for transition records */
	struct kheal_event *recent;	/* a ring */
	size_t nrecent, recent_head;
	struct kheal_cooldown cooldowns[KHEAL_BRAIN_COOLDOWNS];
	size_t ncooldowns;
	struct kheal_last_action last[KHEAL_BRAIN_LAST_ACTIONS];
	size_t nlast, last_head;
};

/*
 * Loads the runbooks (a bad file is noted and skipped, as reload does;
 * a directory that cannot be read is noted, and leaves none) and starts
 * empty. -ENOMEM only.
 */
int kheal_brain_init(struct kheal_brain *b, const struct kheal_brain_cfg *cfg,
		     const struct kheal_brain_ops *ops, void *arg,
		     struct kheal_err *err);
void kheal_brain_free(struct kheal_brain *b);

/* Reloads the runbooks directory: the last good runbook of a bad file stays. */
int kheal_brain_reload(struct kheal_brain *b, struct kheal_err *err);

/* One event, at its own time. Errors are the journal's. */
int kheal_brain_event(struct kheal_brain *b, const struct kheal_event *ev,
		      struct kheal_err *err);

/* Polls verifies and expires approvals at @now_ns. */
int kheal_brain_tick(struct kheal_brain *b, uint64_t now_ns,
		     struct kheal_err *err);

/*
 * A human's answer to approval @id: approving runs the runbook it waits
 * for; denying escalates. -ENOENT, -EALREADY, -ETIMEDOUT as autonomy.h.
 */
int kheal_brain_decide(struct kheal_brain *b, uint64_t id, bool approve,
		       uid_t uid, uint64_t now_ns, struct kheal_err *err);

/*
 * Forces the runbook of @subsystem (a health id) now, whatever the
 * profile, cooldown or confidence: the operator decided. *@incident is
 * the incident it runs for. -ENOENT if no event named @subsystem or no
 * runbook matches its last fault, -EBUSY if a runbook runs on it.
 */
int kheal_brain_heal(struct kheal_brain *b, const char *subsystem,
		     uid_t uid, uint64_t now_ns, uint64_t *incident,
		     struct kheal_err *err);

/* The last actions, oldest first: @i from 0 to b->nlast - 1. */
const struct kheal_last_action *kheal_brain_last(const struct kheal_brain *b,
						 size_t i);

/* The highest incident and approval ids a journal names (0 if none). */
int kheal_brain_journal_ids(const char *path, uint64_t *incident,
			    uint64_t *approval, struct kheal_err *err);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* Runbooks: the schema, the action table, the parser, loader and matcher. */
#ifndef KHEAL_RUNBOOK_H
#define KHEAL_RUNBOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "err.h"
#include "event.h"

/*
 * One runbook per YAML file. Every key, with its default:
 *
 *   name: hung-task-in-cgroup       # [A-Za-z0-9._-], at most 63, unique
 *   description: one line           # optional; `runbooks list` shows it
 *   match:
 *     kinds: [hung_task]            # event kind names; at least one
 *     subsystem: "task:*"           # fnmatch(3) glob on the subsystem id
 *                                   # (health.h: "cgroup:/a.slice", "kernel");
 *                                   # '*' also matches '/'; default "*"
 *     min_severity: warning         # default info
 *     when:                         # all must hold; default none
 *       - {attr: cgroup_path, op: "!=", value: "/"}
 *   risk: medium                    # low, medium or high: at least the risk
 *                                   # of every step and rollback step
 *   preconditions:                  # all must hold just before acting
 *     - {attr: duration_ms, op: ">=", value: 1000}
 *     - {check: cgroup.empty, expect: false}   # expect defaults to true
 *   steps:                          # at least one, run in order
 *     - action: cgroup.freeze
 *       params: {cgroup: "${cgroup_path}"}     # optional, see below
 *       timeout: 5s                 # required
 *   verify:                         # required if a step changes state
 *     check: cgroup.empty
 *     params: {}
 *     deadline: 30s                 # required
 *   rollback:                       # steps run when verify fails
 *     - {action: cgroup.thaw, timeout: 5s}
 *   escalate:                       # handing over to a human
 *     message: "..."                # default names the runbook
 *     target: operator              # default operator
 *   confidence:                     # the gate on the diagnosis
 *     min: 0.9                      # act at or above it (0 to 1)
 *     below: low-risk-subset        # or escalate, the default
 *   awaiting_approval: nothing      # or low-risk-subset, see below
 *   cooldown: 10m                   # between runs on a subsystem; 5m
 *   max_attempts: 2                 # per incident, 1 to 100; 3
 *
 * Conditions (`when`, attribute preconditions) compare an event attribute,
 * named as JSON prints it, with a value: ==, !=, <, <=, >, >= on numbers,
 * and on kind, severity and oom_constraint by their names; ==, != and
 * `matches` (a glob) on strings. An attribute the event lacks fails the
 * condition.
 *
 * Parameter values are text with ${attr} templates: any event attribute
 * or ${subsystem}; $$ is a dollar sign. A parameter left out takes the
 * default the action table gives it (most act on the incident's cgroup or
 * pid). Values without a template are type-checked when parsed.
 *
 * Durations are a whole number and a unit: 500ms, 30s, 5m, 1h.
 *
 * Below the confidence gate, `low-risk-subset` runs the steps whose
 * action is low-risk, in order, then escalates; no verify follows, since
 * the runbook did not run whole. `escalate` acts not at all.
 *
 * Above the autonomy profile a runbook waits for approval. With
 * `awaiting_approval: low-risk-subset` its low-risk steps (escalate,
 * notify...) run at once, before the wait; once approved, the others
 * run, not these again. `nothing`, the default, runs none before.
 *
 * A bad file gets one error, "FILE:LINE:COLUMN: PATH: what was expected,
 * got what", e.g. "disk.yaml:7:7: risk: expected one of low, medium,
 * high, got 'extreme'". The position is that of the bad value; of the key
 * for an unknown or repeated key; of the enclosing mapping for a missing
 * key. Lines and columns count from 1; list indices in PATH from 0.
 */

#define KHEAL_RUNBOOK_NAME_LEN	64
#define KHEAL_ACTION_MAX_PARAMS	4

enum kheal_risk {
	KHEAL_RISK_LOW,
	KHEAL_RISK_MEDIUM,
	KHEAL_RISK_HIGH,

	KHEAL_NRISKS
};

const char *kheal_risk_name(enum kheal_risk risk);

enum kheal_param_type {
	KHEAL_PARAM_STR,
	KHEAL_PARAM_UINT,
	KHEAL_PARAM_SIGNAL,		/* KILL, SIGTERM... */
};

/* The number of a signal named like KILL or SIGKILL, or -1. */
int kheal_signal_number(const char *s);

struct kheal_param_spec {
	const char *name;
	enum kheal_param_type type;
	bool required;
	const char *def;		/* template if left out, or NULL */
};

/*
 * Runs an action. @args are expanded and indexed as the action's params;
 * an optional one left out without a default is NULL.
 */
typedef int (*kheal_action_fn)(const char *const *args, uint64_t timeout_ms,
			       void *ctx, struct kheal_err *err);

/* A check: 1 if it holds, 0 if not, or -errno. */
typedef int (*kheal_check_fn)(const char *const *args, void *ctx,
			      struct kheal_err *err);

/*
 * The one place an action is defined. Its params end at the first
 * without a name.
 */
struct kheal_action {
	const char *name;
	enum kheal_risk risk;
	bool changes_state;		/* a runbook using it needs a verify */
	struct kheal_param_spec params[KHEAL_ACTION_MAX_PARAMS];
	kheal_action_fn exec;		/* NULL: not implemented yet */
};

struct kheal_check {
	const char *name;
	struct kheal_param_spec params[KHEAL_ACTION_MAX_PARAMS];
	kheal_check_fn check;		/* NULL: not implemented yet */
};

extern const struct kheal_action kheal_actions[];
extern const size_t kheal_nactions;
extern const struct kheal_check kheal_checks[];
extern const size_t kheal_nchecks;

const struct kheal_action *kheal_action_find(const char *name);
const struct kheal_check *kheal_check_find(const char *name);

enum kheal_op {
	KHEAL_OP_EQ,
	KHEAL_OP_NE,
	KHEAL_OP_LT,
	KHEAL_OP_LE,
	KHEAL_OP_GT,
	KHEAL_OP_GE,
	KHEAL_OP_MATCHES,
};

struct kheal_cond {
	const struct kheal_event_field *field;
	enum kheal_op op;
	uint64_t num;			/* numeric and named fields */
	char *str;			/* string fields */
};

struct kheal_match {
	uint32_t kinds;			/* bit n: event kind n */
	char *subsystem;
	uint32_t min_severity;
	struct kheal_cond *when;
	size_t nwhen;
};

struct kheal_step {
	const struct kheal_action *action;
	char *args[KHEAL_ACTION_MAX_PARAMS];	/* templates */
	uint64_t timeout_ms;
};

/* A verify, or a check precondition. */
struct kheal_probe {
	const struct kheal_check *check;
	char *args[KHEAL_ACTION_MAX_PARAMS];	/* templates */
	bool expect;			/* preconditions: the result wanted */
	uint64_t deadline_ms;		/* verify only */
};

struct kheal_precond {
	bool is_check;
	struct kheal_cond cond;
	struct kheal_probe probe;
};

enum kheal_below {
	KHEAL_BELOW_ESCALATE,
	KHEAL_BELOW_LOW_RISK_SUBSET,
};

enum kheal_awaiting {
	KHEAL_AWAITING_NOTHING,
	KHEAL_AWAITING_LOW_RISK_SUBSET,
};

struct kheal_confidence {
	bool gated;
	double min;
	enum kheal_below below;
};

struct kheal_runbook {
	char *name;
	char *description;		/* NULL if none */
	struct kheal_match match;
	enum kheal_risk risk;
	struct kheal_precond *pre;
	size_t npre;
	struct kheal_step *steps;
	size_t nsteps;
	struct kheal_probe verify;	/* .check NULL: none */
	struct kheal_step *rollback;
	size_t nrollback;
	char *escalate_message;		/* template */
	char *escalate_target;
	struct kheal_confidence confidence;
	enum kheal_awaiting awaiting;
	uint64_t cooldown_ms;
	uint32_t max_attempts;
};

static inline bool kheal_step_low_risk(const struct kheal_step *step)
{
	return step->action->risk == KHEAL_RISK_LOW;
}

/*
 * Parse one runbook. @name is what errors call the text (a path). On
 * failure @rb holds nothing to free. parse_file does not check the file's
 * owner and mode; the directory loader does.
 */
int kheal_runbook_parse_buf(const char *name, const char *buf, size_t len,
			    struct kheal_runbook *rb, struct kheal_err *err);
int kheal_runbook_parse_file(const char *path, struct kheal_runbook *rb,
			     struct kheal_err *err);
void kheal_runbook_free(struct kheal_runbook *rb);

/*
 * The runbook as canonical YAML, defaults written out, which parses back
 * to the same runbook. Returns the length, or -ENOSPC.
 */
int kheal_runbook_emit(const struct kheal_runbook *rb, char *buf, size_t len);

/* True if @cond holds for @ev. */
bool kheal_cond_holds(const struct kheal_cond *cond,
		      const struct kheal_event *ev);

/*
 * Expands the ${attr} templates of @tmpl for @ev and its subsystem id.
 * Returns the length; -ENODATA if the event lacks an attribute it names,
 * -ENOSPC if @len is too small.
 */
int kheal_runbook_expand(const char *tmpl, const struct kheal_event *ev,
			 const char *subsystem, char *buf, size_t len,
			 struct kheal_err *err);

/*
 * Runbooks must be root-owned regular files (or, for their directory,
 * a directory) that are not group- or world-writable: -EPERM otherwise,
 * with what to run to fix it.
 */
int kheal_runbook_check_file_perms(const char *path, const struct stat *st,
				   struct kheal_err *err);

struct kheal_runbook_entry {
	char *path;
	struct kheal_runbook rb;
	bool stale;			/* file bad now; rb is its last good */
};

struct kheal_runbook_set {
	struct kheal_runbook_entry *v;
	size_t n;
};

struct kheal_runbook_errs {
	struct kheal_err *v;
	size_t n;
};

void kheal_runbook_set_free(struct kheal_runbook_set *set);
void kheal_runbook_errs_free(struct kheal_runbook_errs *errs);

/*
 * (Re)loads every *.yaml in @dir (dotfiles skipped) into @set, in name
 * order. A file that fails (syntax, schema, permissions, or a name another
 * file already took) is reported in @errs, one error each, and its last
 * good runbook from @set is kept, marked stale. Files gone from @dir leave
 * the set. Returns 0, -EINVAL if a file failed (the rest are loaded), or
 * another -errno if @dir itself cannot be used: then @set is unchanged.
 */
int kheal_runbook_set_load_dir(const char *dir, struct kheal_runbook_set *set,
			       struct kheal_runbook_errs *errs);

const struct kheal_runbook *
kheal_runbook_set_find(const struct kheal_runbook_set *set, const char *name);

/* True if @rb's match section takes @ev on the subsystem @subsystem. */
bool kheal_runbook_matches(const struct kheal_runbook *rb,
			   const struct kheal_event *ev, const char *subsystem);

/*
 * The most specific runbook that matches, or NULL: the incident is novel.
 * Most specific: (1) an exact subsystem pattern over a glob; (2) more
 * literal characters in the pattern; (3) more `when` conditions; (4) fewer
 * kinds; (5) a higher min_severity; (6) the name that sorts first, so the
 * choice never depends on file order.
 */
const struct kheal_runbook *
kheal_runbook_match(const struct kheal_runbook_set *set,
		    const struct kheal_event *ev, const char *subsystem);

/*
 * For a novel incident: a one-line summary, the draft's runbook name, and
 * the draft itself, YAML the parser accepts with risk high, matching the
 * event's kind and subsystem (any task for a task: pids do not recur; the
 * comm is matched instead), and a single escalate step. Each returns the
 * length, or -ENOSPC.
 */
int kheal_runbook_novel_summary(const struct kheal_event *ev,
				const char *subsystem, char *buf, size_t len);
int kheal_runbook_draft_name(const struct kheal_event *ev,
			     const char *subsystem, char *buf, size_t len);
int kheal_runbook_draft(const struct kheal_event *ev, const char *subsystem,
			char *buf, size_t len);

#endif

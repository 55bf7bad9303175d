// SPDX-License-Identifier: GPL-2.0
/* Runbooks: parsing and its errors, loading, permissions, matching, drafts. */
#include <dirent.h>
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

#include "fixtures.h"
#include "runbook.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define NOBODY		65534

/* The smallest runbook there is; the malformed cases edit it. */
#define BASE								\
	"name: t\n"							\
	"match:\n"							\
	"  kinds: [hung_task]\n"					\
	"risk: low\n"							\
	"steps:\n"							\
	"  - action: notify\n"						\
	"    params: {message: hi}\n"					\
	"    timeout: 5s\n"

/* Every key there is. */
#define FULL								\
	"name: hung-task-in-cgroup\n"					\
	"description: freeze and kill\n"				\
	"match:\n"							\
	"  kinds: [hung_task, task_crash]\n"				\
	"  subsystem: \"task:*\"\n"					\
	"  min_severity: warning\n"					\
	"  when:\n"							\
	"    - {attr: cgroup_path, op: \"!=\", value: /}\n"		\
	"    - {attr: duration_ms, op: \">=\", value: 5000}\n"		\
	"risk: medium\n"						\
	"preconditions:\n"						\
	"  - {attr: oom_constraint, op: \"==\", value: memcg}\n"	\
	"  - {check: cgroup.empty, expect: false}\n"			\
	"steps:\n"							\
	"  - action: cgroup.freeze\n"					\
	"    timeout: 500ms\n"						\
	"  - action: task.kill\n"					\
	"    params: {pid: \"${pid}\", signal: SIGTERM}\n"		\
	"    timeout: 1h\n"						\
	"verify:\n"							\
	"  check: cgroup.empty\n"					\
	"  params: {cgroup: /a.slice}\n"				\
	"  deadline: 30s\n"						\
	"rollback:\n"							\
	"  - {action: cgroup.thaw, timeout: 5m}\n"			\
	"escalate:\n"							\
	"  message: \"${comm} is stuck, $$5 says\"\n"			\
	"  target: oncall\n"						\
	"confidence:\n"							\
	"  min: 0.9\n"							\
	"  below: low-risk-subset\n"					\
	"cooldown: 0s\n"						\
	"max_attempts: 2\n"

static char buf[1 << 16];
static char buf2[1 << 16];

static int parse(const char *text, struct kheal_runbook *rb,
		 struct kheal_err *err)
{
	return kheal_runbook_parse_buf("t.yaml", text, strlen(text), rb, err);
}

static void parse_ok(const char *text, struct kheal_runbook *rb)
{
	struct kheal_err err = { { 0 } };
	int ret = parse(text, rb, &err);

	if (ret)
		fail_msg("%s", err.msg);
}

/* @text is refused with exactly @msg, and leaves nothing to free. */
static void assert_refused(const char *text, const char *msg)
{
	struct kheal_err err = { { 0 } };
	struct kheal_runbook rb;

	assert_int_equal(parse(text, &rb, &err), -EINVAL);
	assert_string_equal(err.msg, msg);
	assert_null(rb.name);
	assert_null(rb.steps);
}

/*
 * As assert_refused(), for messages that list names the UAPI may append
 * to: only the start and the end are fixed.
 */
static void assert_refused_listing(const char *text, const char *start,
				   const char *end)
{
	struct kheal_err err = { { 0 } };
	struct kheal_runbook rb;
	size_t len;

	assert_int_equal(parse(text, &rb, &err), -EINVAL);
	len = strlen(err.msg);
	if (strncmp(err.msg, start, strlen(start)) || len < strlen(end) ||
	    strcmp(err.msg + len - strlen(end), end))
		fail_msg("'%s' is not '%s...%s'", err.msg, start, end);
	assert_null(rb.name);
}

/* BASE with @from replaced by @to. */
static const char *base_with(const char *from, const char *to)
{
	const char *at = strstr(BASE, from);

	assert_non_null(at);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - BASE), BASE, to,
		 at + strlen(from));
	return buf;
}

static const char *base_plus(const char *more)
{
	snprintf(buf, sizeof(buf), "%s%s", BASE, more);
	return buf;
}

static void test_minimal_runbook_gets_documented_defaults(void **state)
{
	struct kheal_runbook rb;

	(void)state;
	parse_ok(BASE, &rb);
	assert_string_equal(rb.name, "t");
	assert_null(rb.description);
	assert_int_equal(rb.match.kinds, 1U << KHEAL_EVENT_HUNG_TASK);
	assert_string_equal(rb.match.subsystem, "*");
	assert_int_equal(rb.match.min_severity, KHEAL_SEV_INFO);
	assert_int_equal(rb.match.nwhen, 0);
	assert_int_equal(rb.risk, KHEAL_RISK_LOW);
	assert_int_equal(rb.nsteps, 1);
	assert_string_equal(rb.steps[0].action->name, "notify");
	assert_string_equal(rb.steps[0].args[0], "hi");
	assert_string_equal(rb.steps[0].args[1], "journal");
	assert_int_equal(rb.steps[0].timeout_ms, 5000);
	assert_null(rb.verify.check);
	assert_int_equal(rb.nrollback, 0);
	assert_string_equal(rb.escalate_message,
			    "runbook t could not heal ${subsystem} (${kind})");
	assert_string_equal(rb.escalate_target, "operator");
	assert_false(rb.confidence.gated);
	assert_int_equal(rb.cooldown_ms, 5 * 60 * 1000);
	assert_int_equal(rb.max_attempts, 3);
	kheal_runbook_free(&rb);
}

static void test_every_key_parses_to_its_field(void **state)
{
	struct kheal_runbook rb;

	(void)state;
	parse_ok(FULL, &rb);
	assert_string_equal(rb.description, "freeze and kill");
	assert_int_equal(rb.match.kinds, (1U << KHEAL_EVENT_HUNG_TASK) |
			 (1U << KHEAL_EVENT_TASK_CRASH));
	assert_string_equal(rb.match.subsystem, "task:*");
	assert_int_equal(rb.match.min_severity, KHEAL_SEV_WARNING);
	assert_int_equal(rb.match.nwhen, 2);
	assert_string_equal(rb.match.when[0].field->name, "cgroup_path");
	assert_int_equal(rb.match.when[0].op, KHEAL_OP_NE);
	assert_string_equal(rb.match.when[0].str, "/");
	assert_int_equal(rb.match.when[1].op, KHEAL_OP_GE);
	assert_int_equal(rb.match.when[1].num, 5000);
	assert_int_equal(rb.risk, KHEAL_RISK_MEDIUM);
	assert_int_equal(rb.npre, 2);
	assert_false(rb.pre[0].is_check);
	assert_int_equal(rb.pre[0].cond.num, KHEAL_OOM_MEMCG);
	assert_true(rb.pre[1].is_check);
	assert_string_equal(rb.pre[1].probe.check->name, "cgroup.empty");
	assert_false(rb.pre[1].probe.expect);
	assert_string_equal(rb.pre[1].probe.args[0], "${cgroup_path}");
	assert_int_equal(rb.nsteps, 2);
	assert_string_equal(rb.steps[0].args[0], "${cgroup_path}");
	assert_int_equal(rb.steps[0].timeout_ms, 500);
	assert_string_equal(rb.steps[1].args[0], "${pid}");
	assert_string_equal(rb.steps[1].args[1], "SIGTERM");
	assert_int_equal(rb.steps[1].timeout_ms, 3600 * 1000);
	assert_string_equal(rb.verify.check->name, "cgroup.empty");
	assert_string_equal(rb.verify.args[0], "/a.slice");
	assert_int_equal(rb.verify.deadline_ms, 30000);
	assert_int_equal(rb.nrollback, 1);
	assert_int_equal(rb.rollback[0].timeout_ms, 5 * 60 * 1000);
	assert_string_equal(rb.escalate_message, "${comm} is stuck, $$5 says");
	assert_string_equal(rb.escalate_target, "oncall");
	assert_true(rb.confidence.gated);
	assert_true(rb.confidence.min == 0.9);
	assert_int_equal(rb.confidence.below, KHEAL_BELOW_LOW_RISK_SUBSET);
	assert_int_equal(rb.cooldown_ms, 0);
	assert_int_equal(rb.max_attempts, 2);
	kheal_runbook_free(&rb);
}

/* What the canonical form says is what the original said. */
static void assert_round_trips(const struct kheal_runbook *rb)
{
	struct kheal_err err = { { 0 } };
	struct kheal_runbook again;
	int n;

	n = kheal_runbook_emit(rb, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(n, strlen(buf));
	if (kheal_runbook_parse_buf("emitted", buf, n, &again, &err))
		fail_msg("%s\n%s", err.msg, buf);
	assert_int_equal(kheal_runbook_emit(&again, buf2, sizeof(buf2)), n);
	assert_string_equal(buf2, buf);
	kheal_runbook_free(&again);
}

static void test_emitted_yaml_parses_back_the_same(void **state)
{
	struct kheal_runbook rb;

	(void)state;
	parse_ok(FULL, &rb);
	assert_round_trips(&rb);
	kheal_runbook_free(&rb);
	parse_ok(BASE, &rb);
	assert_round_trips(&rb);
	kheal_runbook_free(&rb);
}

static void test_emit_reports_a_short_buffer(void **state)
{
	struct kheal_runbook rb;
	char small[64];

	(void)state;
	parse_ok(FULL, &rb);
	assert_int_equal(kheal_runbook_emit(&rb, small, sizeof(small)),
			 -ENOSPC);
	kheal_runbook_free(&rb);
}

/* Every runbook in runbooks/ parses, round-trips, and loads as a set. */
static void test_every_shipped_runbook_validates(void **state)
{
	struct kheal_err err = { { 0 } };
	struct kheal_runbook rb;
	struct dirent *d;
	char path[512];
	size_t n = 0, len;
	DIR *dir;

	(void)state;
	dir = opendir(KHEAL_RUNBOOKS_DIR);
	assert_non_null(dir);
	while ((d = readdir(dir))) {
		len = strlen(d->d_name);
		if (d->d_name[0] == '.')
			continue;
		if (len < 5 || strcmp(d->d_name + len - 5, ".yaml"))
			fail_msg("%s: not a runbook file in runbooks/",
				 d->d_name);
		snprintf(path, sizeof(path), "%s/%s", KHEAL_RUNBOOKS_DIR,
			 d->d_name);
		if (kheal_runbook_parse_file(path, &rb, &err))
			fail_msg("%s", err.msg);
		assert_round_trips(&rb);
		kheal_runbook_free(&rb);
		n++;
	}
	closedir(dir);
	assert_true(n >= 2);
}

static void test_shipped_runbooks_have_their_documented_risk(void **state)
{
	struct kheal_err err = { { 0 } };
	struct kheal_runbook rb;

	(void)state;
	assert_int_equal(kheal_runbook_parse_file(KHEAL_RUNBOOKS_DIR
						  "/hung-task-in-cgroup.yaml",
						  &rb, &err), 0);
	assert_int_equal(rb.risk, KHEAL_RISK_MEDIUM);
	assert_string_equal(rb.steps[0].action->name, "cgroup.freeze");
	assert_string_equal(rb.steps[1].action->name, "cgroup.kill");
	assert_string_equal(rb.steps[2].action->name, "cgroup.thaw");
	assert_string_equal(rb.steps[3].action->name, "service.restart");
	assert_string_equal(rb.verify.check->name, "service.ok");
	assert_string_equal(rb.rollback[0].action->name, "cgroup.thaw");
	kheal_runbook_free(&rb);
	assert_int_equal(kheal_runbook_parse_file(KHEAL_RUNBOOKS_DIR
						  "/oom-kill.yaml", &rb, &err),
			 0);
	assert_int_equal(rb.risk, KHEAL_RISK_LOW);
	kheal_runbook_free(&rb);
}

static void test_tab_indentation_is_refused_at_the_tab(void **state)
{
	(void)state;
	assert_refused("name: t\nmatch:\n\tkinds: [hung_task]\n",
		       "t.yaml:3:1: YAML syntax error: found character that cannot start any token; indent with spaces, not tabs");
}

static void test_unclosed_quote_is_reported_where_it_opens(void **state)
{
	(void)state;
	assert_refused("name: \"t\nrisk: low\n",
		       "t.yaml:1:7: YAML syntax error: a quoted scalar starts here and is never closed (end of file at 3:1)");
}

static void test_unclosed_flow_list_names_where_it_opened(void **state)
{
	(void)state;
	assert_refused("name: t\nmatch:\n  kinds: [hung_task\nrisk: low\n",
		       "t.yaml:4:5: YAML syntax error: did not find expected ',' or ']', while parsing a flow sequence at 3:10");
}

static void test_text_that_is_not_utf8_is_refused(void **state)
{
	(void)state;
	assert_refused("name: t\nrisk: \xff\n",
		       "t.yaml:2:7: not UTF-8 text: invalid leading UTF-8 octet");
}

static void test_wrong_types_are_refused_with_what_was_expected(void **state)
{
	(void)state;
	assert_refused(base_with("kinds: [hung_task]", "kinds: hung_task"),
		       "t.yaml:3:10: match.kinds: expected a list of event kinds, got 'hung_task'");
	assert_refused(base_plus("max_attempts: three\n"),
		       "t.yaml:9:15: max_attempts: expected a whole number from 1 to 100, got 'three'");
	assert_refused(base_plus("max_attempts: 0\n"),
		       "t.yaml:9:15: max_attempts: expected a whole number from 1 to 100, got '0'");
	assert_refused(base_with("match:\n  kinds: [hung_task]\n",
				 "match: [hung_task]\n"),
		       "t.yaml:2:8: match: expected a mapping, got a list");
	assert_refused(base_with("{message: hi}", "[hi]"),
		       "t.yaml:7:13: steps[0].params: expected a mapping, got a list");
	assert_refused(base_plus("escalate:\n"),
		       "t.yaml:9:10: escalate: expected a mapping, got nothing");
	assert_refused(base_plus("preconditions: [{check: task.gone, expect: maybe}]\n"),
		       "t.yaml:9:44: preconditions[0].expect: expected true or false, got 'maybe'");
}

static void test_unknown_keys_are_refused_with_the_known_ones(void **state)
{
	(void)state;
	assert_refused(base_with("risk: low", "rsk: low"),
		       "t.yaml:4:1: unknown key 'rsk'; expected one of name, description, match, risk, preconditions, steps, verify, rollback, escalate, confidence, cooldown, max_attempts, awaiting_approval");
	assert_refused(base_with("kinds:", "kind:"),
		       "t.yaml:3:3: match: unknown key 'kind'; expected one of kinds, subsystem, min_severity, when");
	assert_refused(base_with("timeout:", "time_out:"),
		       "t.yaml:8:5: steps[0]: unknown key 'time_out'; expected one of action, params, timeout");
}

/* Every name of the action (or check) table, as the parser lists them. */
static const char *table_names(bool actions, char *buf, size_t len)
{
	size_t i, n = actions ? kheal_nactions : kheal_nchecks, off = 0;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		off += snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
				actions ? kheal_actions[i].name :
					  kheal_checks[i].name);
	return buf;
}

static void test_unknown_action_is_refused_with_the_known_ones(void **state)
{
	char names[1024], msg[1280];

	(void)state;
	snprintf(msg, sizeof(msg),
		 "t.yaml:6:13: steps[0].action: expected an action (%s), got 'cgroup.nuke'",
		 table_names(true, names, sizeof(names)));
	assert_non_null(strstr(msg, "cgroup.freeze, cgroup.thaw, cgroup.kill, task.kill"));
	assert_refused(base_with("action: notify", "action: cgroup.nuke"), msg);
	snprintf(msg, sizeof(msg),
		 "t.yaml:9:17: verify.check: expected a check (%s), got 'cgroup.gone'",
		 table_names(false, names, sizeof(names)));
	assert_non_null(strstr(msg, "(cgroup.empty, task.gone, "));
	assert_refused(base_plus("verify: {check: cgroup.gone, deadline: 1s}\n"),
		       msg);
}

static void test_missing_required_key_is_named_at_its_mapping(void **state)
{
	(void)state;
	assert_refused(base_with("risk: low\n", ""),
		       "t.yaml:1:1: missing required key 'risk'");
	assert_refused(base_with("    timeout: 5s\n", ""),
		       "t.yaml:6:5: steps[0]: missing required key 'timeout'");
	assert_refused(base_with("    params: {message: hi}\n", ""),
		       "t.yaml:6:5: steps[0]: missing required parameter 'message' of notify");
	assert_refused(base_with("{message: hi}", "{target: oncall}"),
		       "t.yaml:7:13: steps[0].params: missing required parameter 'message' of notify");
	assert_refused(base_plus("confidence: {below: escalate}\n"),
		       "t.yaml:9:13: confidence: missing required key 'min'");
}

static void test_bad_durations_are_refused(void **state)
{
	static const char *const bad[] = {
		"5 seconds", "5", "s", "1d", "-1s", "1.5s", "169h",
		"99999999999999999999ms",
	};
	char text[256], msg[256];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(text, sizeof(text), "%s", base_with("5s", bad[i]));
		snprintf(msg, sizeof(msg),
			 "t.yaml:8:14: steps[0].timeout: expected a duration like 500ms, 30s, 5m or 1h (at most 168h), got '%s'",
			 bad[i]);
		assert_refused(text, msg);
	}
	assert_refused(base_with("5s", "0ms"),
		       "t.yaml:8:14: steps[0].timeout: expected a duration above zero, got '0ms'");
}

static void test_bad_enum_values_are_refused_with_the_choices(void **state)
{
	(void)state;
	assert_refused(base_with("risk: low", "risk: extreme"),
		       "t.yaml:4:7: risk: expected one of low, medium, high, got 'extreme'");
	assert_refused_listing(base_with("[hung_task]", "[hung_task, hung]"),
			       "t.yaml:3:22: match.kinds[1]: expected an event kind (hung_task, hung_task_resolved, oom_kill, ",
			       ", synthetic), got 'hung'");
	assert_refused(base_with("[hung_task]", "[hung_task, hung_task]"),
		       "t.yaml:3:22: match.kinds[1]: hung_task is listed twice");
	assert_refused(base_with("[hung_task]\n",
				 "[hung_task]\n  min_severity: loud\n"),
		       "t.yaml:4:17: match.min_severity: expected a severity (info, notice, warning, error, critical), got 'loud'");
	assert_refused(base_plus("confidence: {min: 0.5, below: shrug}\n"),
		       "t.yaml:9:31: confidence.below: expected one of escalate, low-risk-subset, got 'shrug'");
}

static void test_confidence_outside_zero_to_one_is_refused(void **state)
{
	static const char *const bad[] = { "1.5", "-0.1", "nan", "0.9x", "" };
	char text[512], msg[256];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(text, sizeof(text), "%sconfidence: {min: '%s'}\n",
			 BASE, bad[i]);
		snprintf(msg, sizeof(msg),
			 "t.yaml:9:19: confidence.min: expected a confidence from 0 to 1, like 0.9, got '%s'",
			 bad[i]);
		assert_refused(text, msg);
	}
}

#define WHEN(c)	base_with("[hung_task]\n", "[hung_task]\n  when: [" c "]\n")

static void test_conditions_are_checked_against_attribute_types(void **state)
{
	struct kheal_runbook rb;

	(void)state;
	assert_refused_listing(WHEN("{attr: comms, op: ==, value: x}"),
			       "t.yaml:4:17: match.when[0].attr: expected an event attribute (seq, time_ns, kind, severity, subsys, ",
			       "), got 'comms'");
	assert_refused(WHEN("{attr: comm, op: '>=', value: x}"),
		       "t.yaml:4:27: match.when[0].op: '>=' compares numbers, but comm is text; use ==, != or matches");
	assert_refused(WHEN("{attr: pid, op: matches, value: '1*'}"),
		       "t.yaml:4:26: match.when[0].op: 'matches' compares text, but pid is a number");
	assert_refused(WHEN("{attr: pid, op: '=~', value: 1}"),
		       "t.yaml:4:26: match.when[0].op: expected one of ==, !=, <, <=, >, >=, matches, got '=~'");
	assert_refused(WHEN("{attr: duration_ms, op: '>', value: 5s}"),
		       "t.yaml:4:46: match.when[0].value: expected a whole number, got '5s'");
	assert_refused(WHEN("{attr: pid, op: '>', value: 4294967296}"),
		       "t.yaml:4:38: match.when[0].value: expected a whole number, got '4294967296'");
	assert_refused(WHEN("{attr: severity, op: '>=', value: loud}"),
		       "t.yaml:4:44: match.when[0].value: expected a number or one of info, notice, warning, error, critical, got 'loud'");
	parse_ok(WHEN("{attr: severity, op: '>=', value: warning}"), &rb);
	assert_int_equal(rb.match.when[0].num, KHEAL_SEV_WARNING);
	kheal_runbook_free(&rb);
}

static void test_params_are_checked_against_the_action_table(void **state)
{
	(void)state;
	assert_refused(base_with("{message: hi}", "{mesage: hi}"),
		       "t.yaml:7:14: steps[0].params: unknown parameter 'mesage' for notify; expected one of message, target");
	assert_refused(base_with("{message: hi}", "{message: hi, message: ho}"),
		       "t.yaml:7:27: steps[0].params: parameter 'message' given twice");
	assert_refused(base_plus("verify: {check: task.gone, params: {pid: many}, deadline: 1s}\n"),
		       "t.yaml:9:42: verify.params.pid: expected a whole number or a ${attribute}, got 'many'");
	assert_refused(base_with("action: notify\n    params: {message: hi}",
				 "action: task.kill\n    params: {signal: BOOM}"),
		       "t.yaml:7:22: steps[0].params.signal: expected a signal name like KILL or TERM, got 'BOOM'");
	assert_refused(base_with("{message: hi}", "{message: ''}"),
		       "t.yaml:7:23: steps[0].params.message: expected a value, got ''");
}

static void test_templates_name_known_attributes(void **state)
{
	(void)state;
	assert_refused_listing(base_with("{message: hi}", "{message: '${cgroupath}'}"),
			       "t.yaml:7:23: steps[0].params.message: unknown attribute '${cgroupath}'; expected one of seq, time_ns, ",
			       ", subsystem");
	assert_refused(base_with("{message: hi}", "{message: 'costs $5'}"),
		       "t.yaml:7:23: steps[0].params.message: '$' must start ${attribute} or be doubled, in 'costs $5'");
	assert_refused(base_plus("escalate: {message: '${pid'}\n"),
		       "t.yaml:9:21: escalate.message: '$' must start ${attribute} or be doubled, in '${pid'");
}

static void test_risk_below_a_step_is_refused(void **state)
{
	(void)state;
	assert_refused(base_plus("  - {action: cgroup.kill, timeout: 1s}\n"
				 "verify: {check: cgroup.empty, deadline: 1s}\n"),
		       "t.yaml:4:7: risk: low is below the risk of steps[1] (cgroup.kill: medium); raise risk or drop the step");
	assert_refused(base_plus("rollback: [{action: task.kill, timeout: 1s}]\n"),
		       "t.yaml:4:7: risk: low is below the risk of rollback[0] (task.kill: medium); raise risk or drop the step");
}

static void test_steps_that_change_state_need_a_verify(void **state)
{
	(void)state;
	assert_refused(base_plus("  - {action: cgroup.freeze, timeout: 1s}\n"),
		       "t.yaml:1:1: missing required key 'verify': steps[1] (cgroup.freeze) changes state, and every action is verified");
}

static void test_bad_documents_are_refused(void **state)
{
	(void)state;
	assert_refused("", "t.yaml:1:1: no runbook in the file: expected a mapping with name, match, risk and steps");
	assert_refused("# nothing\n", "t.yaml:1:1: no runbook in the file: expected a mapping with name, match, risk and steps");
	assert_refused("- name: t\n", "t.yaml:1:1: expected a mapping, got a list");
	assert_refused(base_plus("---\nname: u\n"),
		       "t.yaml:9:1: a second YAML document; a file holds one runbook");
	assert_refused(base_plus("name: u\n"),
		       "t.yaml:9:1: key 'name' given twice (first at 1:1)");
	assert_refused(base_with("name: t", "name: &n t\ndescription: *n"),
		       "t.yaml:2:14: aliases (*n) are not allowed in runbooks");
	assert_refused(base_with("name: t", "name: \"t\\0u\""),
		       "t.yaml:1:7: NUL characters are not allowed");
}

static void test_names_and_descriptions_are_checked(void **state)
{
	(void)state;
	assert_refused(base_with("name: t", "name: a b"),
		       "t.yaml:1:7: name: expected a name of letters, digits, '.', '_' and '-', starting with a letter or digit, got 'a b'");
	assert_refused(base_with("name: t", "name: -t"),
		       "t.yaml:1:7: name: expected a name of letters, digits, '.', '_' and '-', starting with a letter or digit, got '-t'");
	assert_refused(base_with("name: t",
				 "name: a123456789012345678901234567890123456789012345678901234567890123"),
		       "t.yaml:1:7: name: expected at most 63 characters, got 64");
	assert_refused(base_plus("description: \"two\\nlines\"\n"),
		       "t.yaml:9:14: description: expected one line, got 'two\nlines'");
}

static void test_parse_file_names_the_file_it_cannot_read(void **state)
{
	struct kheal_err err = { { 0 } };
	struct kheal_runbook rb;

	(void)state;
	assert_int_equal(kheal_runbook_parse_file("/nonexistent/x.yaml", &rb,
						  &err), -ENOENT);
	assert_string_equal(err.msg, "/nonexistent/x.yaml: cannot open: No such file or directory");
	assert_int_equal(kheal_runbook_parse_file("/", &rb, &err), -EINVAL);
	assert_string_equal(err.msg, "/: not a regular file");
}

static void test_templates_expand_from_the_event(void **state)
{
	struct kheal_err err = { { 0 } };
	struct kheal_event ev;
	char out[128];

	(void)state;
	ev_example(&ev);
	ev_set_str(&ev, KHEAL_A_CGROUP_PATH, "/a.slice");
	assert_int_equal(kheal_runbook_expand("${comm}[${pid}] in ${cgroup_path}: ${kind}/${severity} on ${subsystem}, $$1",
					      &ev, "task:55", out, sizeof(out),
					      &err),
			 strlen("kheal-hung[55] in /a.slice: hung_task/warning on task:55, $1"));
	assert_string_equal(out, "kheal-hung[55] in /a.slice: hung_task/warning on task:55, $1");
	assert_int_equal(kheal_runbook_expand("${dev}", &ev, "task:55", out,
					      sizeof(out), &err), -ENODATA);
	assert_string_equal(err.msg, "template '${dev}': the event has no dev");
	assert_int_equal(kheal_runbook_expand("${cgroup_path}", &ev, "x", out, 4,
					      &err), -ENOSPC);
}

static void test_action_table_is_consistent(void **state)
{
	const struct kheal_param_spec *p, *q;
	size_t i;

	(void)state;
	for (i = 0; i < kheal_nactions; i++) {
		assert_ptr_equal(kheal_action_find(kheal_actions[i].name),
				 &kheal_actions[i]);
		assert_non_null(kheal_risk_name(kheal_actions[i].risk));
		for (p = kheal_actions[i].params; p < kheal_actions[i].params +
		     KHEAL_ACTION_MAX_PARAMS && p->name; p++) {
			assert_false(p->required && p->def);
			for (q = kheal_actions[i].params; q < p; q++)
				assert_string_not_equal(p->name, q->name);
		}
	}
	for (i = 0; i < kheal_nchecks; i++)
		assert_ptr_equal(kheal_check_find(kheal_checks[i].name),
				 &kheal_checks[i]);
	assert_null(kheal_action_find("cgroup.nuke"));
	assert_null(kheal_check_find("cgroup.gone"));
	assert_int_equal(kheal_action_find("cgroup.freeze")->risk,
			 KHEAL_RISK_LOW);
	assert_int_equal(kheal_action_find("cgroup.kill")->risk,
			 KHEAL_RISK_MEDIUM);
	assert_false(kheal_action_find("escalate")->changes_state);
}

/* A set built in memory from runbook texts, in the order given. */
static void set_of(struct kheal_runbook_set *set, const char *const *texts,
		   size_t n)
{
	size_t i;

	set->v = calloc(n, sizeof(*set->v));
	assert_non_null(set->v);
	set->n = n;
	for (i = 0; i < n; i++) {
		set->v[i].path = strdup("mem");
		parse_ok(texts[i], &set->v[i].rb);
	}
}

#define RB(name, kinds, match)						\
	"name: " name "\n"						\
	"match:\n"							\
	"  kinds: [" kinds "]\n"					\
	match								\
	"risk: low\n"							\
	"steps: [{action: escalate, timeout: 1s}]\n"

/* The winner is the same whichever order the set holds them in. */
static void assert_best(const char *a, const char *b,
			const struct kheal_event *ev, const char *subsystem,
			const char *want)
{
	const char *const fwd[] = { a, b }, *const rev[] = { b, a };
	struct kheal_runbook_set set;
	const struct kheal_runbook *rb;

	set_of(&set, fwd, 2);
	rb = kheal_runbook_match(&set, ev, subsystem);
	assert_non_null(rb);
	assert_string_equal(rb->name, want);
	kheal_runbook_set_free(&set);
	set_of(&set, rev, 2);
	rb = kheal_runbook_match(&set, ev, subsystem);
	assert_non_null(rb);
	assert_string_equal(rb->name, want);
	kheal_runbook_set_free(&set);
}

static void test_match_takes_kind_severity_subsystem_and_when(void **state)
{
	struct kheal_runbook rb;
	struct kheal_event ev;

	(void)state;
	ev_example(&ev);	/* hung_task, warning, cgroup / */
	parse_ok(RB("r", "hung_task, oom_kill",
		    "  subsystem: \"task:*\"\n  min_severity: warning\n"
		    "  when: [{attr: duration_ms, op: '>=', value: 500},"
		    " {attr: comm, op: matches, value: 'kheal-*'}]\n"), &rb);
	assert_true(kheal_runbook_matches(&rb, &ev, "task:55"));
	assert_false(kheal_runbook_matches(&rb, &ev, "cgroup:/a"));
	ev.severity = KHEAL_SEV_NOTICE;
	assert_false(kheal_runbook_matches(&rb, &ev, "task:55"));
	ev.severity = KHEAL_SEV_CRITICAL;
	assert_true(kheal_runbook_matches(&rb, &ev, "task:55"));
	ev.kind = KHEAL_EVENT_TASK_CRASH;
	assert_false(kheal_runbook_matches(&rb, &ev, "task:55"));
	ev.kind = KHEAL_EVENT_OOM_KILL;
	assert_true(kheal_runbook_matches(&rb, &ev, "task:55"));
	ev.duration_ms = 499;
	assert_false(kheal_runbook_matches(&rb, &ev, "task:55"));
	ev.duration_ms = 500;
	ev_set_str(&ev, KHEAL_A_COMM, "bash");
	assert_false(kheal_runbook_matches(&rb, &ev, "task:55"));
	ev_set_str(&ev, KHEAL_A_COMM, "kheal-x");
	assert_true(kheal_runbook_matches(&rb, &ev, "task:55"));
	/* An attribute the event lacks fails the condition. */
	ev.present &= ~(1ULL << KHEAL_A_DURATION_MS);
	assert_false(kheal_runbook_matches(&rb, &ev, "task:55"));
	kheal_runbook_free(&rb);
}

static void test_glob_star_matches_across_slashes(void **state)
{
	struct kheal_runbook rb;
	struct kheal_event ev;

	(void)state;
	ev_example(&ev);
	parse_ok(RB("r", "hung_task", "  subsystem: \"cgroup:/system.slice/*\"\n"),
		 &rb);
	assert_true(kheal_runbook_matches(&rb, &ev,
					  "cgroup:/system.slice/a/b.service"));
	assert_false(kheal_runbook_matches(&rb, &ev, "cgroup:/user.slice/a"));
	kheal_runbook_free(&rb);
}

static void test_most_specific_runbook_wins(void **state)
{
	struct kheal_event ev;

	(void)state;
	ev_example(&ev);
	/* (1) an exact pattern over a glob, even a longer one */
	assert_best(RB("glob", "hung_task", "  subsystem: \"cgroup:/a.slice*\"\n"),
		    RB("exact", "hung_task", "  subsystem: \"cgroup:/a.slice\"\n"),
		    &ev, "cgroup:/a.slice", "exact");
	/* (2) more literal characters */
	assert_best(RB("short", "hung_task", "  subsystem: \"cgroup:*\"\n"),
		    RB("long", "hung_task", "  subsystem: \"cgroup:/a*\"\n"),
		    &ev, "cgroup:/a.slice", "long");
	/* (3) more conditions */
	assert_best(RB("none", "hung_task", ""),
		    RB("one", "hung_task",
		       "  when: [{attr: pid, op: '==', value: 55}]\n"),
		    &ev, "task:55", "one");
	/* (4) fewer kinds */
	assert_best(RB("two", "hung_task, oom_kill", ""),
		    RB("single", "hung_task", ""), &ev, "task:55", "single");
	/* (5) a higher minimum severity */
	assert_best(RB("info", "hung_task", ""),
		    RB("warning", "hung_task", "  min_severity: warning\n"),
		    &ev, "task:55", "warning");
	/* (6) the name that sorts first */
	assert_best(RB("b", "hung_task", ""), RB("a", "hung_task", ""),
		    &ev, "task:55", "a");
}

static void test_no_match_means_novel(void **state)
{
	const char *const texts[] = { RB("oom", "oom_kill", "") };
	struct kheal_runbook_set set;
	struct kheal_event ev;

	(void)state;
	ev_example(&ev);
	set_of(&set, texts, 1);
	assert_null(kheal_runbook_match(&set, &ev, "task:55"));
	kheal_runbook_set_free(&set);
}

/* A temporary runbook directory; removed with everything in it. */
struct tmpdir {
	char path[64];
};

static void tmpdir_make(struct tmpdir *t)
{
	snprintf(t->path, sizeof(t->path), "/tmp/kheal-runbooks-XXXXXX");
	assert_non_null(mkdtemp(t->path));
}

static void tmpdir_remove(struct tmpdir *t)
{
	char path[512];
	struct dirent *d;
	DIR *dir = opendir(t->path);

	assert_non_null(dir);
	while ((d = readdir(dir))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", t->path, d->d_name);
		assert_int_equal(unlink(path), 0);
	}
	closedir(dir);
	assert_int_equal(rmdir(t->path), 0);
}

static const char *put(struct tmpdir *t, const char *name, const char *text,
		       mode_t mode)
{
	static char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", t->path, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

static int need_root(void **state)
{
	(void)state;
	if (geteuid())
		skip();
	return 0;
}

static void assert_perms_refused(const char *path, const char *msg)
{
	struct kheal_err err = { { 0 } };
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(kheal_runbook_check_file_perms(path, &st, &err),
			 -EPERM);
	assert_string_equal(err.msg, msg);
}

static void test_group_or_world_writable_files_are_refused(void **state)
{
	struct kheal_err err = { { 0 } };
	struct tmpdir t;
	struct stat st;
	char msg[256];
	const char *p;

	need_root(state);
	tmpdir_make(&t);
	p = put(&t, "a.yaml", BASE, 0644);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(kheal_runbook_check_file_perms(p, &st, &err), 0);
	p = put(&t, "a.yaml", BASE, 0666);
	snprintf(msg, sizeof(msg), "%s: refused: mode 0666 lets group or others write it; fix: chmod go-w %s",
		 p, p);
	assert_perms_refused(p, msg);
	p = put(&t, "a.yaml", BASE, 0664);
	snprintf(msg, sizeof(msg), "%s: refused: mode 0664 lets group or others write it; fix: chmod go-w %s",
		 p, p);
	assert_perms_refused(p, msg);
	tmpdir_remove(&t);
}

static void test_files_not_owned_by_root_are_refused(void **state)
{
	struct tmpdir t;
	char msg[256];
	const char *p;

	need_root(state);
	tmpdir_make(&t);
	p = put(&t, "a.yaml", BASE, 0644);
	assert_int_equal(chown(p, NOBODY, NOBODY), 0);
	snprintf(msg, sizeof(msg), "%s: refused: owned by uid 65534, not root; fix: chown root %s",
		 p, p);
	assert_perms_refused(p, msg);
	tmpdir_remove(&t);
}

#define NAMED(n)	base_with("name: t", "name: " n)

static void test_load_dir_takes_yaml_files_in_name_order(void **state)
{
	struct kheal_runbook_errs errs = { 0 };
	struct kheal_runbook_set set = { 0 };
	struct tmpdir t;

	need_root(state);
	tmpdir_make(&t);
	put(&t, "b.yaml", NAMED("bee"), 0644);
	put(&t, "a.yaml", NAMED("ay"), 0644);
	put(&t, "c.yml", NAMED("sea"), 0644);
	put(&t, ".d.yaml", NAMED("dee"), 0644);
	put(&t, "e.yaml.bak", NAMED("ee"), 0644);
	assert_int_equal(kheal_runbook_set_load_dir(t.path, &set, &errs), 0);
	assert_int_equal(errs.n, 0);
	assert_int_equal(set.n, 2);
	assert_string_equal(set.v[0].rb.name, "ay");
	assert_string_equal(set.v[1].rb.name, "bee");
	assert_false(set.v[0].stale);
	assert_non_null(kheal_runbook_set_find(&set, "bee"));
	assert_null(kheal_runbook_set_find(&set, "sea"));
	kheal_runbook_set_free(&set);
	tmpdir_remove(&t);
}

static void test_bad_files_are_reported_and_the_rest_loaded(void **state)
{
	struct kheal_runbook_errs errs = { 0 };
	struct kheal_runbook_set set = { 0 };
	struct tmpdir t;
	char msg[256];

	need_root(state);
	tmpdir_make(&t);
	put(&t, "a.yaml", NAMED("ay"), 0644);
	put(&t, "b.yaml", base_with("risk: low", "risk: extreme"), 0644);
	put(&t, "c.yaml", NAMED("sea"), 0666);
	assert_int_equal(kheal_runbook_set_load_dir(t.path, &set, &errs),
			 -EINVAL);
	assert_int_equal(set.n, 1);
	assert_string_equal(set.v[0].rb.name, "ay");
	assert_int_equal(errs.n, 2);
	snprintf(msg, sizeof(msg), "%s/b.yaml:4:7: risk: expected one of low, medium, high, got 'extreme'",
		 t.path);
	assert_string_equal(errs.v[0].msg, msg);
	snprintf(msg, sizeof(msg), "%s/c.yaml: refused: mode 0666 lets group or others write it; fix: chmod go-w %s/c.yaml",
		 t.path, t.path);
	assert_string_equal(errs.v[1].msg, msg);
	kheal_runbook_errs_free(&errs);
	kheal_runbook_set_free(&set);
	tmpdir_remove(&t);
}

static void test_broken_file_keeps_its_last_good_runbook(void **state)
{
	struct kheal_runbook_errs errs = { 0 };
	struct kheal_runbook_set set = { 0 };
	struct tmpdir t;
	const char *p;

	need_root(state);
	tmpdir_make(&t);
	put(&t, "a.yaml", NAMED("ay"), 0644);
	put(&t, "b.yaml", NAMED("bee"), 0644);
	assert_int_equal(kheal_runbook_set_load_dir(t.path, &set, &errs), 0);

	/* A syntax error: the runbook stays, marked stale. */
	put(&t, "a.yaml", "name: \"ay\n", 0644);
	assert_int_equal(kheal_runbook_set_load_dir(t.path, &set, &errs),
			 -EINVAL);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.v[0].msg, "a.yaml:1:7: YAML syntax error"));
	assert_int_equal(set.n, 2);
	assert_string_equal(set.v[0].rb.name, "ay");
	assert_true(set.v[0].stale);
	assert_false(set.v[1].stale);

	/* Still bad, now by its mode: still the same last good. */
	p = put(&t, "a.yaml", NAMED("ay2"), 0646);
	assert_int_equal(kheal_runbook_set_load_dir(t.path, &set, &errs),
			 -EINVAL);
	assert_non_null(strstr(errs.v[0].msg, "refused: mode 0646"));
	assert_string_equal(set.v[0].rb.name, "ay");
	assert_true(set.v[0].stale);

	/* Fixed: the new version replaces it. */
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(kheal_runbook_set_load_dir(t.path, &set, &errs), 0);
	assert_int_equal(errs.n, 0);
	assert_string_equal(set.v[0].rb.name, "ay2");
	assert_false(set.v[0].stale);

	/* Removed: gone from the set. */
	assert_int_equal(unlink(p), 0);
	assert_int_equal(kheal_runbook_set_load_dir(t.path, &set, &errs), 0);
	assert_int_equal(set.n, 1);
	assert_string_equal(set.v[0].rb.name, "bee");
	kheal_runbook_set_free(&set);
	tmpdir_remove(&t);
}

static void test_duplicate_names_are_an_error_naming_both_files(void **state)
{
	struct kheal_runbook_errs errs = { 0 };
	struct kheal_runbook_set set = { 0 };
	struct tmpdir t;
	char msg[256];

	need_root(state);
	tmpdir_make(&t);
	put(&t, "a.yaml", NAMED("same"), 0644);
	put(&t, "b.yaml", NAMED("same"), 0644);
	assert_int_equal(kheal_runbook_set_load_dir(t.path, &set, &errs),
			 -EINVAL);
	assert_int_equal(set.n, 1);
	assert_string_equal(set.v[0].path + strlen(t.path), "/a.yaml");
	assert_int_equal(errs.n, 1);
	snprintf(msg, sizeof(msg), "%s/b.yaml: runbook name 'same' is taken by %s/a.yaml",
		 t.path, t.path);
	assert_string_equal(errs.v[0].msg, msg);
	kheal_runbook_errs_free(&errs);
	kheal_runbook_set_free(&set);
	tmpdir_remove(&t);
}

static void test_unusable_directory_leaves_the_set_alone(void **state)
{
	struct kheal_runbook_errs errs = { 0 };
	struct kheal_runbook_set set = { 0 };
	struct tmpdir t;
	char msg[256];

	need_root(state);
	tmpdir_make(&t);
	put(&t, "a.yaml", NAMED("ay"), 0644);
	assert_int_equal(kheal_runbook_set_load_dir(t.path, &set, &errs), 0);
	assert_int_equal(chmod(t.path, 0777), 0);
	assert_int_equal(kheal_runbook_set_load_dir(t.path, &set, &errs),
			 -EPERM);
	snprintf(msg, sizeof(msg), "%s: refused: mode 0777 lets group or others write it; fix: chmod go-w %s",
		 t.path, t.path);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.v[0].msg, msg);
	assert_int_equal(set.n, 1);
	assert_int_equal(kheal_runbook_set_load_dir("/nonexistent/runbooks.d",
						    &set, &errs), -ENOENT);
	assert_string_equal(errs.v[0].msg, "/nonexistent/runbooks.d: cannot open: No such file or directory");
	assert_int_equal(set.n, 1);
	kheal_runbook_errs_free(&errs);
	kheal_runbook_set_free(&set);
	tmpdir_remove(&t);
}

static void draft_parsed(const struct kheal_event *ev, const char *subsystem,
			 struct kheal_runbook *rb)
{
	struct kheal_err err = { { 0 } };
	int n;

	n = kheal_runbook_draft(ev, subsystem, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(n, strlen(buf));
	if (kheal_runbook_parse_buf("draft.yaml", buf, n, rb, &err))
		fail_msg("%s\n%s", err.msg, buf);
}

static void test_draft_parses_as_high_risk_single_escalation(void **state)
{
	struct kheal_runbook rb;
	struct kheal_event ev;
	char summary[256];
	int n;

	(void)state;
	ev_example(&ev);
	draft_parsed(&ev, "task:55", &rb);
	assert_int_equal(strncmp(buf, "# Draft for a novel incident", 28), 0);
	assert_string_equal(rb.name, "draft-hung_task-task");
	n = kheal_runbook_novel_summary(&ev, "task:55", summary,
					sizeof(summary));
	assert_int_equal(n, strlen(summary));
	assert_string_equal(summary, "novel incident: hung_task (warning) on task:55, comm kheal-hung, event 7: no runbook matches");
	assert_string_equal(rb.description, summary);
	assert_int_equal(rb.risk, KHEAL_RISK_HIGH);
	assert_int_equal(rb.nsteps, 1);
	assert_string_equal(rb.steps[0].action->name, "escalate");
	assert_null(rb.verify.check);
	assert_int_equal(rb.match.kinds, 1U << KHEAL_EVENT_HUNG_TASK);
	assert_int_equal(rb.match.min_severity, KHEAL_SEV_WARNING);
	/* Pids do not recur: any task with this comm. */
	assert_string_equal(rb.match.subsystem, "task:*");
	assert_int_equal(rb.match.nwhen, 1);
	assert_string_equal(rb.match.when[0].field->name, "comm");
	assert_string_equal(rb.match.when[0].str, "kheal-hung");
	assert_round_trips(&rb);
	kheal_runbook_free(&rb);
}

static void test_draft_matches_the_event_it_was_drafted_for(void **state)
{
	static const char *const subsystem = "memory:/a[1]*.slice";
	struct kheal_runbook_set set = { 0 };
	struct kheal_event ev;

	(void)state;
	ev_example(&ev);
	ev.kind = KHEAL_EVENT_OOM_KILL;
	ev.severity = KHEAL_SEV_ERROR;
	set.v = calloc(1, sizeof(*set.v));
	assert_non_null(set.v);
	set.n = 1;
	set.v[0].path = strdup("draft.yaml");
	draft_parsed(&ev, subsystem, &set.v[0].rb);
	assert_string_equal(set.v[0].rb.name, "draft-oom_kill-memory-a-1-.slice");
	assert_string_equal(set.v[0].rb.match.subsystem,
			    "memory:/a\\[1\\]\\*.slice");
	assert_non_null(kheal_runbook_match(&set, &ev, subsystem));
	/* Glob characters in the subsystem are matched as themselves. */
	assert_null(kheal_runbook_match(&set, &ev, "memory:/a1x.slice"));
	kheal_runbook_set_free(&set);
}

static void test_draft_for_the_kernel_names_it(void **state)
{
	struct kheal_runbook rb;
	struct kheal_event ev;
	char name[KHEAL_RUNBOOK_NAME_LEN];

	(void)state;
	ev_basic(&ev, 1, 3);
	ev.kind = KHEAL_EVENT_SOFT_LOCKUP;
	assert_int_equal(kheal_runbook_draft_name(&ev, "kernel", name,
						  sizeof(name)),
			 strlen("draft-soft_lockup-kernel"));
	assert_string_equal(name, "draft-soft_lockup-kernel");
	draft_parsed(&ev, "kernel", &rb);
	assert_string_equal(rb.match.subsystem, "kernel");
	assert_int_equal(rb.match.nwhen, 0);
	kheal_runbook_free(&rb);
}

static void test_draft_summary_stays_on_one_line(void **state)
{
	struct kheal_runbook rb;
	struct kheal_event ev;

	(void)state;
	ev_example(&ev);
	ev.kind = KHEAL_EVENT_MEM_PRESSURE;
	draft_parsed(&ev, "memory:/evil\n.slice", &rb);
	assert_non_null(strstr(rb.description, "memory:/evil?.slice"));
	assert_string_equal(rb.match.subsystem, "memory:/evil\n.slice");
	kheal_runbook_free(&rb);
}

static void test_draft_reports_a_short_buffer(void **state)
{
	struct kheal_event ev;
	char small[128];

	(void)state;
	ev_example(&ev);
	assert_int_equal(kheal_runbook_draft(&ev, "task:55", small,
					     sizeof(small)), -ENOSPC);
	ev.kind = 99;
	assert_int_equal(kheal_runbook_draft(&ev, "task:55", buf, sizeof(buf)),
			 -EINVAL);
}

#define T(f)	cmocka_unit_test(f)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_minimal_runbook_gets_documented_defaults),
		T(test_every_key_parses_to_its_field),
		T(test_emitted_yaml_parses_back_the_same),
		T(test_emit_reports_a_short_buffer),
		T(test_every_shipped_runbook_validates),
		T(test_shipped_runbooks_have_their_documented_risk),
		T(test_tab_indentation_is_refused_at_the_tab),
		T(test_unclosed_quote_is_reported_where_it_opens),
		T(test_unclosed_flow_list_names_where_it_opened),
		T(test_text_that_is_not_utf8_is_refused),
		T(test_wrong_types_are_refused_with_what_was_expected),
		T(test_unknown_keys_are_refused_with_the_known_ones),
		T(test_unknown_action_is_refused_with_the_known_ones),
		T(test_missing_required_key_is_named_at_its_mapping),
		T(test_bad_durations_are_refused),
		T(test_bad_enum_values_are_refused_with_the_choices),
		T(test_confidence_outside_zero_to_one_is_refused),
		T(test_conditions_are_checked_against_attribute_types),
		T(test_params_are_checked_against_the_action_table),
		T(test_templates_name_known_attributes),
		T(test_risk_below_a_step_is_refused),
		T(test_steps_that_change_state_need_a_verify),
		T(test_bad_documents_are_refused),
		T(test_names_and_descriptions_are_checked),
		T(test_parse_file_names_the_file_it_cannot_read),
		T(test_templates_expand_from_the_event),
		T(test_action_table_is_consistent),
		T(test_match_takes_kind_severity_subsystem_and_when),
		T(test_glob_star_matches_across_slashes),
		T(test_most_specific_runbook_wins),
		T(test_no_match_means_novel),
		T(test_group_or_world_writable_files_are_refused),
		T(test_files_not_owned_by_root_are_refused),
		T(test_load_dir_takes_yaml_files_in_name_order),
		T(test_bad_files_are_reported_and_the_rest_loaded),
		T(test_broken_file_keeps_its_last_good_runbook),
		T(test_duplicate_names_are_an_error_naming_both_files),
		T(test_unusable_directory_leaves_the_set_alone),
		T(test_draft_parses_as_high_risk_single_escalation),
		T(test_draft_matches_the_event_it_was_drafted_for),
		T(test_draft_for_the_kernel_names_it),
		T(test_draft_summary_stays_on_one_line),
		T(test_draft_reports_a_short_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

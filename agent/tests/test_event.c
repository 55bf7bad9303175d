// SPDX-License-Identifier: GPL-2.0
/* The event type's names and its JSON and human-readable forms. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "event.h"
#include "fixtures.h"
#include "json.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static char line[KHEAL_EVENT_LINE_MAX];

static const char *json_of(const struct kheal_event *ev)
{
	assert_true(kheal_event_json(ev, line, sizeof(line)) > 0);
	return line;
}

static const char *text_of(const struct kheal_event *ev)
{
	assert_true(kheal_event_text(ev, line, sizeof(line)) > 0);
	return line;
}

/* The documented example prints byte for byte as documented. */
static void test_json_matches_documented_example(void **state)
{
	struct kheal_event ev;

	(void)state;
	ev_example(&ev);
	assert_string_equal(json_of(&ev), EXAMPLE_JSON);
}

/* Only present fields print: an absent pid is not "pid":0. */
static void test_json_prints_only_present_fields(void **state)
{
	struct kheal_event ev;

	(void)state;
	ev_basic(&ev, 5, 1);
	assert_string_equal(json_of(&ev),
			    "{\"seq\":1,\"time_ns\":1000,\"kind\":\"synthetic\","
			    "\"severity\":\"info\",\"subsys\":\"test\","
			    "\"instance\":5,\"source\":\"kmod\"}");
	ev_set(&ev, KHEAL_A_PID, 0);
	assert_non_null(strstr(json_of(&ev), "\"pid\":0"));
}

/* Quotes and backslashes in a comm are escaped, not emitted raw. */
static void test_json_escapes_comm_with_quotes(void **state)
{
	struct kheal_event ev;

	(void)state;
	ev_basic(&ev, 5, 1);
	ev_set_str(&ev, KHEAL_A_COMM, "a\"b\\c");
	assert_non_null(strstr(json_of(&ev), "\"comm\":\"a\\\"b\\\\c\""));
}

/*
 * Control bytes and bytes that are not UTF-8 become \u00XX; valid
 * UTF-8 passes through unchanged.
 */
static void test_json_escapes_control_bytes_and_invalid_utf8(void **state)
{
	struct kheal_event ev;

	(void)state;
	ev_basic(&ev, 5, 1);
	ev_set_str(&ev, KHEAL_A_COMM, "x\n\x01\xff\xc3");
	assert_non_null(strstr(json_of(&ev),
			"\"comm\":\"x\\u000a\\u0001\\u00ff\\u00c3\""));
	ev_set_str(&ev, KHEAL_A_COMM, "caf\xc3\xa9");
	assert_non_null(strstr(json_of(&ev), "\"comm\":\"caf\xc3\xa9\""));
	/* An overlong encoding of '/' is not valid UTF-8. */
	ev_set_str(&ev, KHEAL_A_COMM, "\xc0\xaf");
	assert_non_null(strstr(json_of(&ev), "\"comm\":\"\\u00c0\\u00af\""));
}

/* A kind newer than this build prints as its number. */
static void test_unknown_kind_prints_number(void **state)
{
	struct kheal_event ev;

	(void)state;
	ev_basic(&ev, 5, 1);
	ev_set(&ev, KHEAL_A_KIND, KHEAL_EVENT_MAX + 1);
	snprintf(line, sizeof(line), "\"kind\":%d,", KHEAL_EVENT_MAX + 1);
	assert_non_null(strstr(json_of(&ev), line));
	ev_set(&ev, KHEAL_A_KIND, KHEAL_EVENT_UNSPEC);
	assert_non_null(strstr(json_of(&ev), "\"kind\":0,"));
}

/* Unknown severities and OOM constraints print as numbers too. */
static void test_unknown_severity_and_constraint_print_numbers(void **state)
{
	struct kheal_event ev;

	(void)state;
	ev_basic(&ev, 5, 1);
	ev_set(&ev, KHEAL_A_SEVERITY, 77);
	ev_set(&ev, KHEAL_A_OOM_CONSTRAINT, 9);
	assert_non_null(strstr(json_of(&ev), "\"severity\":77,"));
	assert_non_null(strstr(json_of(&ev), "\"oom_constraint\":9,"));
	ev_set(&ev, KHEAL_A_OOM_CONSTRAINT, KHEAL_OOM_MEMCG);
	assert_non_null(strstr(json_of(&ev), "\"oom_constraint\":\"memcg\""));
}

/* Kind names are exactly the contract's, in enum order. */
static void test_kind_names_match_contract(void **state)
{
	static const char *const want[] = {
		"hung_task", "hung_task_resolved", "oom_kill", "mem_pressure",
		"task_crash", "netdev_tx_timeout", "netdev_carrier",
		"block_io_error", "disk_stall", "soft_lockup", "rcu_stall",
		"oops", "synthetic",
	};
	size_t i;

	(void)state;
	assert_int_equal(KHEAL_EVENT_MAX, ARRAY_SIZE(want));
	assert_null(kheal_kind_name(KHEAL_EVENT_UNSPEC));
	for (i = 0; i < ARRAY_SIZE(want); i++)
		assert_string_equal(kheal_kind_name(i + 1), want[i]);
	assert_null(kheal_kind_name(KHEAL_EVENT_MAX + 1));
}

/* Severity and OOM constraint names are exactly the contract's. */
static void test_severity_and_constraint_names_match_contract(void **state)
{
	static const char *const sev[] = {
		"info", "notice", "warning", "error", "critical",
	};
	static const char *const oom[] = { "unknown", "global", "memcg" };
	size_t i;

	(void)state;
	for (i = 0; i < 5; i++)
		assert_string_equal(kheal_severity_name(i), sev[i]);
	assert_null(kheal_severity_name(5));
	for (i = 0; i < 3; i++)
		assert_string_equal(kheal_oom_constraint_name(i), oom[i]);
	assert_null(kheal_oom_constraint_name(3));
}

/* A buffer too small is -ENOSPC and an empty string, never a cut line. */
static void test_json_too_long_for_buffer_is_enospc(void **state)
{
	struct kheal_event ev;
	char small[40];

	(void)state;
	ev_example(&ev);
	assert_int_equal(kheal_event_json(&ev, small, sizeof(small)), -ENOSPC);
	assert_string_equal(small, "");
}

/* The longest possible event, every string all escapes, fits a line. */
static void test_longest_event_fits_line_max(void **state)
{
	char ones[KHEAL_STACK_FRAME_LEN];
	const struct kheal_event_field *f;
	struct kheal_event ev;
	char *p;

	(void)state;
	memset(ones, 0x01, sizeof(ones));
	memset(&ev, 0, sizeof(ev));
	ev.source = KHEAL_SOURCE_KMOD;
	for (f = kheal_event_fields; f < kheal_event_fields +
	     kheal_event_nfields; f++) {
		p = (char *)&ev + f->offset;
		if (f->type == KHEAL_FIELD_STR) {
			memset(p, 0x01, f->size - 1);
			ev.present |= 1ULL << f->attr;
		} else if (f->type == KHEAL_FIELD_STRV) {
			while (kheal_event_strv_add(&ev, f, ones,
						    sizeof(ones)) == 0)
				;
		} else {
			ev_set(&ev, f->attr, UINT64_MAX);
		}
	}
	assert_true(kheal_event_json(&ev, line, sizeof(line)) > 0);
	assert_true(kheal_event_text(&ev, line, sizeof(line)) > 0);
}

/*
 * The human line: seq, time, kind, severity, subsys, then name=value;
 * strings that need it are quoted.
 */
static void test_text_line_reads_as_documented(void **state)
{
	struct kheal_event ev;

	(void)state;
	ev_example(&ev);
	ev_set(&ev, KHEAL_A_TIME_NS, 5000000123ULL);
	assert_string_equal(text_of(&ev),
			    "7 5.000000123 hung_task warning task instance=99 "
			    "pid=55 comm=kheal-hung cgroup_path=/ duration_ms=512");
	ev_set_str(&ev, KHEAL_A_COMM, "two words");
	assert_non_null(strstr(text_of(&ev), " comm=\"two words\" "));
}

/* A gap prints as its own JSON object, apart from events. */
static void test_gap_json_names_range_and_reason(void **state)
{
	struct kheal_gap gap = {
		.source = KHEAL_SOURCE_KMOD, .instance = 9, .first = 3,
		.last = 5, .reason = KHEAL_GAP_OVERRUN,
	};

	(void)state;
	assert_true(kheal_gap_json(&gap, line, sizeof(line)) > 0);
	assert_string_equal(line,
			    "{\"gap\":{\"instance\":9,\"first_missing\":3,"
			    "\"last_missing\":5,\"reason\":\"overrun\","
			    "\"source\":\"kmod\"}}");
	assert_true(kheal_gap_text(&gap, line, sizeof(line)) > 0);
	assert_string_equal(line,
			    "gap: kmod seq 3..5 of instance 9 lost (overrun)");
	gap = (struct kheal_gap){
		.source = KHEAL_SOURCE_BPF, .first = 8, .last = 9,
		.reason = KHEAL_GAP_RINGBUF,
	};
	assert_true(kheal_gap_text(&gap, line, sizeof(line)) > 0);
	assert_string_equal(line,
			    "gap: bpf seq 8..9 of instance 0 lost (ringbuf)");
}

/* A merged event prints both numbers: the one dropped, the one kept. */
static void test_merged_json_and_text_name_both_events(void **state)
{
	struct kheal_merged m = {
		.event = { KHEAL_SOURCE_BPF, 0, 4 },
		.into = { KHEAL_SOURCE_KMOD, 77, 2 },
	};

	(void)state;
	assert_true(kheal_merged_json(&m, line, sizeof(line)) > 0);
	assert_string_equal(line,
			    "{\"merged\":{\"event\":{\"source\":\"bpf\","
			    "\"instance\":0,\"seq\":4},\"into\":{\"source\":"
			    "\"kmod\",\"instance\":77,\"seq\":2}}}");
	assert_true(kheal_merged_text(&m, line, sizeof(line)) > 0);
	assert_string_equal(line, "merged: bpf seq 4 of instance 0 is kmod "
			    "seq 2 of instance 77");
}

/*
 * The BPF engine's fields print under the contract's names: errno as
 * errno, the stack as an array of frames (comma-joined in text).
 */
static void test_bpf_fields_print_with_contract_names(void **state)
{
	const struct kheal_event_field *stack = field_of(KHEAL_A_STACK);
	struct kheal_event ev;

	(void)state;
	ev_basic(&ev, 0, 1);
	ev.source = KHEAL_SOURCE_BPF;
	ev_set(&ev, KHEAL_A_SIGNAL, 11);
	ev_set(&ev, KHEAL_A_ERRNO, 5);
	ev_set(&ev, KHEAL_A_QUEUE, 2);
	ev_set_str(&ev, KHEAL_A_DETAIL, "read sector 65536");
	kheal_event_strv_add(&ev, stack, "schedule+0x5d", 13);
	kheal_event_strv_add(&ev, stack, "fuse_flush+0x1a0 [fuse]", 23);
	assert_string_equal(json_of(&ev),
			    "{\"seq\":1,\"time_ns\":1000,\"kind\":\"synthetic\","
			    "\"severity\":\"info\",\"subsys\":\"test\","
			    "\"instance\":0,\"signal\":11,\"errno\":5,"
			    "\"queue\":2,\"detail\":\"read sector 65536\","
			    "\"stack\":[\"schedule+0x5d\","
			    "\"fuse_flush+0x1a0 [fuse]\"],\"source\":\"bpf\"}");
	assert_string_equal(text_of(&ev),
			    "1 0.000001000 synthetic info test instance=0 "
			    "signal=11 errno=5 queue=2 "
			    "detail=\"read sector 65536\" "
			    "stack=\"schedule+0x5d,fuse_flush+0x1a0 [fuse]\"");
}

/* A stack holds KHEAL_STACK_DEPTH frames, each cut to fit; no more. */
static void test_stack_is_bounded(void **state)
{
	const struct kheal_event_field *stack = field_of(KHEAL_A_STACK);
	char wide[KHEAL_STACK_FRAME_LEN + 10];
	struct kheal_event ev;
	int i;

	(void)state;
	ev_basic(&ev, 0, 1);
	memset(wide, 'f', sizeof(wide));
	for (i = 0; i < KHEAL_STACK_DEPTH; i++)
		assert_int_equal(kheal_event_strv_add(&ev, stack, wide,
						      sizeof(wide)), 0);
	assert_int_equal(kheal_event_strv_add(&ev, stack, "x", 1), -ENOSPC);
	assert_int_equal(kheal_event_strv_count(&ev, stack), KHEAL_STACK_DEPTH);
	assert_int_equal(strlen(kheal_event_strv(&ev, stack, 0)),
			 KHEAL_STACK_FRAME_LEN - 1);
}

/* Nested JSON gets its commas right. */
static void test_json_nesting_and_commas(void **state)
{
	struct kheal_json j;

	(void)state;
	kheal_json_init(&j, line, sizeof(line));
	kheal_json_begin(&j, NULL, '{');
	kheal_json_begin(&j, "a", '[');
	kheal_json_u64(&j, NULL, 1);
	kheal_json_begin(&j, NULL, '{');
	kheal_json_bool(&j, "x", true);
	kheal_json_end(&j, '}');
	kheal_json_end(&j, ']');
	kheal_json_str(&j, "b", "c");
	kheal_json_end(&j, '}');
	assert_true(kheal_json_finish(&j) > 0);
	assert_string_equal(line, "{\"a\":[1,{\"x\":true}],\"b\":\"c\"}");
}

#define T(f)	cmocka_unit_test(f)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_json_matches_documented_example),
		T(test_json_prints_only_present_fields),
		T(test_json_escapes_comm_with_quotes),
		T(test_json_escapes_control_bytes_and_invalid_utf8),
		T(test_unknown_kind_prints_number),
		T(test_unknown_severity_and_constraint_print_numbers),
		T(test_kind_names_match_contract),
		T(test_severity_and_constraint_names_match_contract),
		T(test_json_too_long_for_buffer_is_enospc),
		T(test_longest_event_fits_line_max),
		T(test_text_line_reads_as_documented),
		T(test_gap_json_names_range_and_reason),
		T(test_merged_json_and_text_name_both_events),
		T(test_bpf_fields_print_with_contract_names),
		T(test_stack_is_bounded),
		T(test_json_nesting_and_commas),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0
/* khealctl as a user runs it: arguments, exit codes, output. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "fixtures.h"
#include "journal.h"
#include "record.h"
#include "run.h"
#include "state.h"

static char dir[] = "/tmp/kheal-test-ctl-XXXXXX";
static char journal[64], head[80];
static const uint8_t key[KHEAL_JOURNAL_KEY_BYTES] = "test_khealctl's key";

#define CTL(...)	((char *const[]){ KHEALCTL, __VA_ARGS__, NULL })

static int make_dir(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(journal, sizeof(journal), "%s/journal", dir);
	snprintf(head, sizeof(head), "%s" KHEAL_JOURNAL_HEAD_SUFFIX, journal);
	return 0;
}

static int remove_dir(void **state)
{
	(void)state;
	unlink(journal);
	unlink(head);
	return rmdir(dir);
}

static int fresh(void **state)
{
	(void)state;
	unlink(journal);
	return 0;
}

/* Runs khealctl expecting @code, and stderr holding @err if given. */
static struct result expect(int code, const char *err, char *const argv[])
{
	struct result r = run(argv);

	if (r.code != code || (err && !strstr(r.err, err)))
		fail_msg("exit %d (want %d), stderr: %s", r.code, code, r.err);
	return r;
}

static void expect_usage(const char *err, char *const argv[])
{
	struct result r = expect(2, err, argv);

	result_free(&r);
}

static void journal_append(struct kheal_journal *j,
			   const struct kheal_event *ev)
{
	Kheal__Record rec;
	struct kheal_pb_event pe;

	kheal_record_event(&rec, &pe, ev);
	assert_int_equal(kheal_journal_append(j, &rec, NULL), 0);
}

/* The example event (seq 7), a gap 8..9, and event 10. */
static void write_journal(void)
{
	struct kheal_gap gap = {
		.source = KHEAL_SOURCE_KMOD, .instance = 99, .first = 8,
		.last = 9, .reason = KHEAL_GAP_OVERRUN,
	};
	struct kheal_journal j;
	struct kheal_event ev;
	Kheal__Record rec;
	Kheal__Gap pg;

	assert_int_equal(kheal_journal_open(&j, journal, key, NULL), 0);
	ev_example(&ev);
	journal_append(&j, &ev);
	kheal_record_gap(&rec, &pg, &gap);
	assert_int_equal(kheal_journal_append(&j, &rec, NULL), 0);
	ev_basic(&ev, 99, 10);
	journal_append(&j, &ev);
	assert_int_equal(kheal_journal_sync(&j, NULL), 0);
	kheal_journal_close(&j);
}

/* A --since that is not a number is a usage error naming it. */
static void test_khealctl_rejects_bad_since(void **state)
{
	(void)state;
	expect_usage("events: bad --since 'abc': expected a number",
		     CTL("events", "--since", "abc"));
	expect_usage("bad --since '-1'", CTL("events", "--since", "-1"));
	expect_usage("bad --since '12x'", CTL("events", "--since", "12x"));
	expect_usage("bad --since '18446744073709551616'",
		     CTL("events", "--since", "18446744073709551616"));
	expect_usage("--since needs an argument", CTL("events", "--since"));
}

/* Unknown commands and options are usage errors that name them. */
static void test_khealctl_unknown_command_or_option_named(void **state)
{
	(void)state;
	expect_usage("unknown command 'frobnicate'", CTL("frobnicate"));
	expect_usage("events: unknown option '--bogus'",
		     CTL("events", "--bogus"));
	expect_usage("status: unexpected argument 'extra'",
		     CTL("status", "extra"));
	expect_usage("Usage:", (char *const[]){ KHEALCTL, NULL });
}

/* inject needs a known fault and exactly that fault's option. */
static void test_khealctl_inject_arguments_checked(void **state)
{
	(void)state;
	expect_usage("which fault?", CTL("inject"));
	expect_usage("'inject hung' takes --ms N", CTL("inject", "hung"));
	expect_usage("'inject hung' takes --ms N",
		     CTL("inject", "hung", "--ms", "5", "--count", "3"));
	expect_usage("bad --count '0'",
		     CTL("inject", "burst", "--count", "0"));
	expect_usage("bad --count '4294967296'",
		     CTL("inject", "burst", "--count", "4294967296"));
	expect_usage("unknown fault 'sideways'",
		     CTL("inject", "sideways", "--ms", "1"));
	expect_usage("'inject lockup' takes --ms N", CTL("inject", "lockup"));
	expect_usage("'inject lockup' takes --ms N",
		     CTL("inject", "lockup", "--ms", "5", "--count", "1"));
}

/* config takes known KEY=VALUE settings with values in range. */
static void test_khealctl_config_arguments_checked(void **state)
{
	(void)state;
	expect_usage("unknown setting 'foo=1'", CTL("config", "foo=1"));
	expect_usage("unknown setting 'hung_ms'", CTL("config", "hung_ms"));
	expect_usage("bad hung_ms 'abc'", CTL("config", "hung_ms=abc"));
	expect_usage("bad hung_ms '4294967296'",
		     CTL("config", "hung_ms=4294967296"));
	expect_usage("expected one KEY=VALUE", CTL("config"));
}

/* checkpoint takes one id from 1, and --instance N. */
static void test_khealctl_checkpoint_arguments_checked(void **state)
{
	(void)state;
	expect_usage("checkpoint: expected one checkpoint ID",
		     CTL("checkpoint"));
	expect_usage("expected one checkpoint ID", CTL("checkpoint", "1", "2"));
	expect_usage("bad checkpoint ID '0'", CTL("checkpoint", "0"));
	expect_usage("bad checkpoint ID 'x1'", CTL("checkpoint", "x1"));
	expect_usage("bad --instance 'abc'",
		     CTL("checkpoint", "1", "--instance", "abc"));
}

/* -h on any command prints its usage and succeeds. */
static void test_khealctl_help_per_command(void **state)
{
	struct result r;

	(void)state;
	r = expect(0, NULL, CTL("events", "-h"));
	assert_non_null(strstr(r.out, "Usage: khealctl [-j] events [--follow]"));
	result_free(&r);
	r = expect(0, NULL, CTL("help", "inject"));
	assert_non_null(strstr(r.out, "inject hung --ms N"));
	result_free(&r);
	r = expect(0, NULL, CTL("--help"));
	assert_non_null(strstr(r.out, "config hung_ms=N"));
	result_free(&r);
}

/* events -j prints the journal as JSON lines, gaps included. */
static void test_khealctl_events_prints_journal_as_json_lines(void **state)
{
	struct result r;

	(void)state;
	write_journal();
	r = expect(0, NULL, CTL("-j", "events", "--journal", journal));
	assert_string_equal(r.out,
			    EXAMPLE_JSON "\n"
			    "{\"gap\":{\"instance\":99,\"first_missing\":8,"
			    "\"last_missing\":9,\"reason\":\"overrun\","
			    "\"source\":\"kmod\"}}\n"
			    "{\"seq\":10,\"time_ns\":10000,\"kind\":\"synthetic\","
			    "\"severity\":\"info\",\"subsys\":\"test\","
			    "\"instance\":99,\"source\":\"kmod\"}\n");
	result_free(&r);
}

/* --since keeps what comes after it; --json works after the command. */
static void test_khealctl_events_since_filters(void **state)
{
	struct result r;

	(void)state;
	write_journal();
	r = expect(0, NULL, CTL("events", "--since", "9", "--journal",
				journal, "--json"));
	assert_string_equal(r.out,
			    "{\"seq\":10,\"time_ns\":10000,\"kind\":\"synthetic\","
			    "\"severity\":\"info\",\"subsys\":\"test\","
			    "\"instance\":99,\"source\":\"kmod\"}\n");
	result_free(&r);
}

/* Without -j, one human-readable line per record. */
static void test_khealctl_events_prints_human_lines(void **state)
{
	struct result r;

	(void)state;
	write_journal();
	r = expect(0, NULL, CTL("events", "--journal", journal));
	assert_string_equal(r.out,
			    "7 0.000000123 hung_task warning task instance=99 "
			    "pid=55 comm=kheal-hung cgroup_path=/ duration_ms=512\n"
			    "gap: kmod seq 8..9 of instance 99 lost (overrun)\n"
			    "10 0.000010000 synthetic info test instance=99\n");
	result_free(&r);
}

/*
 * A corrupt journal: what precedes the damage prints, then an error
 * naming the offset, exit 1.
 */
static void test_khealctl_events_corrupt_journal_names_offset(void **state)
{
	static const uint8_t junk[] = { 0x05, 0xff, 0xff, 0xff, 0xff, 0xff };
	char *good, want[64];
	struct result r;
	struct stat st;
	FILE *f;

	(void)state;
	write_journal();
	assert_int_equal(stat(journal, &st), 0);
	good = slurp(journal);
	f = fopen(journal, "a");
	fwrite(junk, 1, sizeof(junk), f);
	fwrite(good, 1, st.st_size, f);
	fclose(f);
	free(good);
	r = expect(1, NULL, CTL("-j", "events", "--journal", journal));
	assert_non_null(strstr(r.out, "\"seq\":10"));
	snprintf(want, sizeof(want), "corrupt record at offset %lld ",
		 (long long)st.st_size);
	assert_non_null(strstr(r.err, want));
	result_free(&r);
}

/* A journal that is not there is an error naming it. */
static void test_khealctl_events_missing_journal_named(void **state)
{
	struct result r;

	(void)state;
	r = expect(1, journal, CTL("events", "--journal", journal));
	assert_non_null(strstr(r.err, "No such file or directory"));
	result_free(&r);
}

/* --follow prints what is appended later, until interrupted. */
static void test_khealctl_events_follow_sees_appends(void **state)
{
	struct kheal_journal j;
	struct kheal_event ev;
	struct proc p;
	char *out;

	(void)state;
	write_journal();
	proc_start(&p, CTL("-j", "events", "--follow", "--journal", journal));
	assert_true(wait_for(p.out, "\"seq\":10,"));
	assert_int_equal(kheal_journal_open(&j, journal, key, NULL), 0);
	ev_basic(&ev, 99, 11);
	journal_append(&j, &ev);
	assert_int_equal(kheal_journal_flush(&j, NULL), 0);
	assert_true(wait_for(p.out, "\"seq\":11,"));
	kheal_journal_close(&j);
	kill(p.pid, SIGINT);
	assert_int_equal(proc_wait(&p), 0);
	out = slurp(p.out);
	assert_null(strstr(strstr(out, "\"seq\":11,"), "\n{"));
	free(out);
	unlink(p.out);
	unlink(p.err);
}

/* status -j reports module, agent and journal as one JSON object. */
static void test_khealctl_status_json(void **state)
{
	char pidfile[96];
	struct result r;

	(void)state;
	write_journal();
	snprintf(pidfile, sizeof(pidfile), "%s/none.pid", dir);
	r = expect(0, NULL, CTL("-j", "status", "--journal", journal,
				"--pidfile", pidfile));
	assert_non_null(strstr(r.out, "{\"module\":{\"loaded\":false}"));
	assert_non_null(strstr(r.out, "\"agent\":{\"running\":false,"));
	assert_non_null(strstr(r.out, "\"records\":3,\"last_seq\":10,"
				      "\"instance\":99,\"bpf_last_seq\":0,"
				      "\"psi_last_seq\":0,\"torn_bytes\":0}}"));
	result_free(&r);
}

static uint64_t boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * A state file as kheald writes it: engine bpf, chosen by auto, one
 * probe attached and one not, @age_ms old; and a pid file naming this
 * (live) process as the agent.
 */
static void write_state(const char *state, const char *pidfile,
			uint64_t age_ms)
{
	Kheal__ProbeState probes[2], *pp[2] = { &probes[0], &probes[1] };
	Kheal__SourceState src = KHEAL__SOURCE_STATE__INIT, *sp = &src;
	Kheal__AgentState st = KHEAL__AGENT_STATE__INIT;
	FILE *f;

	kheal__probe_state__init(&probes[0]);
	kheal__probe_state__init(&probes[1]);
	probes[0].name = "hung";
	probes[0].has_attached = probes[0].has_events = 1;
	probes[0].attached = 1;
	probes[0].events = 3;
	probes[1].name = "rcu_stall";
	probes[1].has_attached = 1;
	probes[1].reason = "probe rcu_stall: tracepoint rcu_stall_warning "
			   "is not in this kernel";
	src.has_source = src.has_attached = src.has_last_seq = 1;
	src.source = KHEAL__SOURCE__SOURCE_BPF;
	src.attached = 1;
	src.last_seq = 4;
	src.has_merged = 1;
	src.merged = 1;
	src.n_probes = 2;
	src.probes = pp;
	st.has_pid = st.has_updated_ns = st.has_engine = 1;
	st.has_requested = 1;
	st.pid = getpid();
	st.updated_ns = boottime_ns() - age_ms * 1000000;
	st.requested = KHEAL__ENGINE__ENGINE_AUTO;
	st.engine = KHEAL__ENGINE__ENGINE_BPF;
	st.reason = "--engine=auto: kheal.ko is not loaded";
	st.n_sources = 1;
	st.sources = &sp;
	assert_int_equal(kheal_state_write(state, &st, NULL), 0);
	f = fopen(pidfile, "w");
	assert_non_null(f);
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
}

/* status says which engine kheald runs and why, and each probe's state. */
static void test_khealctl_status_names_engine_and_why(void **state)
{
	char pidfile[96], st[96];
	struct result r;

	(void)state;
	snprintf(pidfile, sizeof(pidfile), "%s/kheald.pid", dir);
	snprintf(st, sizeof(st), "%s/kheald.state", dir);
	write_state(st, pidfile, 0);
	r = expect(0, NULL, CTL("status", "--journal", journal, "--pidfile",
				pidfile, "--state", st));
	assert_non_null(strstr(r.out, "  engine: bpf (--engine=auto: kheal.ko "
				      "is not loaded)\n"));
	assert_non_null(strstr(r.out, "    probe hung: attached, 3 events\n"));
	assert_non_null(strstr(r.out, "    probe rcu_stall: not attached: "
				      "probe rcu_stall: tracepoint"));
	assert_null(strstr(r.out, "is stale"));
	result_free(&r);
	r = expect(0, NULL, CTL("-j", "status", "--journal", journal,
				"--pidfile", pidfile, "--state", st));
	assert_non_null(strstr(r.out, "\"stale\":false,"));
	assert_non_null(strstr(r.out, "\"engine\":\"bpf\",\"requested\":"
				      "\"auto\",\"reason\":\"--engine=auto: "
				      "kheal.ko is not loaded\""));
	assert_non_null(strstr(r.out, "\"source\":\"bpf\",\"attached\":true"));
	assert_non_null(strstr(r.out, "\"merged\":1,"));
	result_free(&r);
	unlink(st);
	unlink(pidfile);
}

/* A state file kheald stopped updating, or none at all, is said so. */
static void test_khealctl_status_stale_or_missing_state_said(void **state)
{
	char pidfile[96], st[96];
	struct result r;

	(void)state;
	snprintf(pidfile, sizeof(pidfile), "%s/kheald.pid", dir);
	snprintf(st, sizeof(st), "%s/kheald.state", dir);
	write_state(st, pidfile, 60000);
	r = expect(0, NULL, CTL("status", "--journal", journal, "--pidfile",
				pidfile, "--state", st));
	assert_non_null(strstr(r.out, " is stale (kheald has not updated it;"));
	result_free(&r);
	r = expect(0, NULL, CTL("-j", "status", "--journal", journal,
				"--pidfile", pidfile, "--state", st));
	assert_non_null(strstr(r.out, "\"stale\":true,"));
	result_free(&r);
	unlink(st);
	r = expect(0, NULL, CTL("status", "--journal", journal, "--pidfile",
				pidfile, "--state", st));
	assert_non_null(strstr(r.out, "  engine: unknown: no state file "));
	result_free(&r);
	r = expect(0, NULL, CTL("-j", "status", "--journal", journal,
				"--pidfile", pidfile, "--state", st));
	assert_non_null(strstr(r.out, "\"present\":false}"));
	result_free(&r);
	unlink(pidfile);
}

/* events prints a merged event's record, naming both numbers. */
static void test_khealctl_events_prints_merged(void **state)
{
	struct kheal_merged m = {
		.event = { KHEAL_SOURCE_BPF, 0, 1 },
		.into = { KHEAL_SOURCE_KMOD, 99, 7 },
	};
	struct kheal_journal j;
	Kheal__Record rec;
	Kheal__Merged pm;
	struct result r;

	(void)state;
	write_journal();
	assert_int_equal(kheal_journal_open(&j, journal, key, NULL), 0);
	kheal_record_merged(&rec, &pm, &m);
	assert_int_equal(kheal_journal_append(&j, &rec, NULL), 0);
	assert_int_equal(kheal_journal_sync(&j, NULL), 0);
	kheal_journal_close(&j);
	r = expect(0, NULL, CTL("events", "--journal", journal));
	assert_non_null(strstr(r.out, "\nmerged: bpf seq 1 of instance 0 is "
				      "kmod seq 7 of instance 99\n"));
	result_free(&r);
}

/* Commands that need the module say clearly that it is not loaded. */
static void test_khealctl_without_module_says_so(void **state)
{
	struct result r;

	(void)state;
	r = expect(1, "khealctl: inject: the kheal module is not loaded",
		   CTL("inject", "hung", "--ms", "100"));
	result_free(&r);
	r = expect(1, "khealctl: events: the kheal module is not loaded",
		   CTL("events", "--kernel"));
	result_free(&r);
	r = expect(1, "khealctl: checkpoint: the kheal module is not loaded",
		   CTL("checkpoint", "3"));
	result_free(&r);
}

#define T(f)	cmocka_unit_test_setup(f, fresh)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_khealctl_rejects_bad_since),
		T(test_khealctl_unknown_command_or_option_named),
		T(test_khealctl_inject_arguments_checked),
		T(test_khealctl_config_arguments_checked),
		T(test_khealctl_checkpoint_arguments_checked),
		T(test_khealctl_help_per_command),
		T(test_khealctl_events_prints_journal_as_json_lines),
		T(test_khealctl_events_since_filters),
		T(test_khealctl_events_prints_human_lines),
		T(test_khealctl_events_corrupt_journal_names_offset),
		T(test_khealctl_events_missing_journal_named),
		T(test_khealctl_events_follow_sees_appends),
		T(test_khealctl_status_json),
		T(test_khealctl_status_names_engine_and_why),
		T(test_khealctl_status_stale_or_missing_state_said),
		T(test_khealctl_events_prints_merged),
		T(test_khealctl_without_module_says_so),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}

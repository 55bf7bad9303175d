// SPDX-License-Identifier: GPL-2.0
/* khealctl journal and khealctl journal verify, as a user runs them. */
#include <errno.h>
#include <inttypes.h>
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

static char dir[] = "/tmp/kheal-test-jcli-XXXXXX";
static char journal[64], keyfile[80];

#define CTL(...)	((char *const[]){ KHEALCTL, __VA_ARGS__, NULL })

static int make_dir(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(journal, sizeof(journal), "%s/journal", dir);
	snprintf(keyfile, sizeof(keyfile), "%s" KHEAL_JOURNAL_KEY_SUFFIX,
		 journal);
	return 0;
}

static int remove_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static int fresh(void **state)
{
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s/*", dir);
	return system(cmd);
}

/* Runs khealctl expecting @code, and stderr holding @err if given. */
static struct result expect(int code, const char *err, char *const argv[])
{
	struct result r = run(argv);

	if (r.code != code || (err && !strstr(r.err, err)))
		fail_msg("exit %d (want %d), stdout: %s, stderr: %s", r.code,
			 code, r.out, r.err);
	return r;
}

static void expect_out(const char *out, char *const argv[])
{
	struct result r = expect(0, NULL, argv);

	assert_string_equal(r.out, out);
	result_free(&r);
}

static void open_journal(struct kheal_journal *j)
{
	uint8_t key[KHEAL_JOURNAL_KEY_BYTES];
	struct kheal_err err;

	assert_int_equal(kheal_journal_key_load(keyfile, true, key, &err), 0);
	if (kheal_journal_open(j, journal, key, &err))
		fail_msg("%s", err.msg);
}

static void append(struct kheal_journal *j, Kheal__Record *rec)
{
	assert_int_equal(kheal_journal_append(j, rec, NULL), 0);
}

static void append_event(struct kheal_journal *j, struct kheal_event *ev)
{
	struct kheal_pb_event pe;
	Kheal__Record rec;

	kheal_record_event(&rec, &pe, ev);
	append(j, &rec);
}

static void append_gap(struct kheal_journal *j)
{
	struct kheal_gap gap = {
		.source = KHEAL_SOURCE_KMOD, .instance = 99, .first = 8,
		.last = 9, .reason = KHEAL_GAP_OVERRUN,
	};
	Kheal__Record rec;
	Kheal__Gap pg;

	kheal_record_gap(&rec, &pg, &gap);
	append(j, &rec);
}

static void append_transition(struct kheal_journal *j, uint64_t time_ns)
{
	Kheal__Record rec = KHEAL__RECORD__INIT;
	Kheal__Transition t = KHEAL__TRANSITION__INIT;

	t.subsystem = "cgroup:/a.slice";
	t.has_from = t.has_to = t.has_time_ns = t.has_incident = 1;
	t.from = KHEAL__HEALTH_STATE__HEALTHY;
	t.to = KHEAL__HEALTH_STATE__DEGRADED;
	t.cause = "hung_task";
	t.time_ns = time_ns;
	t.incident = 1;
	rec.body_case = KHEAL__RECORD__BODY_TRANSITION;
	rec.transition = &t;
	append(j, &rec);
}

/*
 * The example event; incident 1: its transition, opening, diagnosis;
 * a decision on incident 2; a gap, which has no time of its own.
 */
static void write_journal(void)
{
	static char *evidence[] = { "wchan io_schedule", "D for 12 s" };
	Kheal__Record rec = KHEAL__RECORD__INIT;
	Kheal__Incident inc = KHEAL__INCIDENT__INIT;
	Kheal__EventRef trig = KHEAL__EVENT_REF__INIT;
	Kheal__Diagnosis diag = KHEAL__DIAGNOSIS__INIT;
	Kheal__Decision dec = KHEAL__DECISION__INIT;
	struct kheal_journal j;
	struct kheal_event ev;

	open_journal(&j);
	ev_example(&ev);
	append_event(&j, &ev);
	append_transition(&j, 2000000000);

	inc.has_id = inc.has_state = inc.has_time_ns = inc.has_kind = 1;
	inc.id = 1;
	inc.subsystem = "cgroup:/a.slice";
	inc.state = KHEAL__INCIDENT_STATE__INCIDENT_OPEN;
	inc.time_ns = 3000000000;
	trig.has_source = trig.has_instance = trig.has_seq = 1;
	trig.source = KHEAL__SOURCE__SOURCE_KMOD;
	trig.instance = 99;
	trig.seq = 7;
	inc.trigger = &trig;
	inc.kind = KHEAL_EVENT_HUNG_TASK;
	inc.summary = "a.slice: hung task";
	rec.body_case = KHEAL__RECORD__BODY_INCIDENT;
	rec.incident = &inc;
	append(&j, &rec);

	diag.has_incident = diag.has_confidence = diag.has_time_ns = 1;
	diag.incident = 1;
	diag.rule = "hung-io";
	diag.cause = "disk stall";
	diag.confidence = 0.85;
	diag.n_evidence = 2;
	diag.evidence = evidence;
	diag.time_ns = 4000000000;
	rec.body_case = KHEAL__RECORD__BODY_DIAGNOSIS;
	rec.diagnosis = &diag;
	append(&j, &rec);

	dec.has_incident = dec.has_decision = dec.has_time_ns = 1;
	dec.incident = 2;
	dec.runbook = "restart-service";
	dec.decision = KHEAL__DECISION_KIND__DECIDE_ACT;
	dec.time_ns = 5000000000;
	rec.body_case = KHEAL__RECORD__BODY_DECISION;
	rec.decision = &dec;
	append(&j, &rec);

	append_gap(&j);
	assert_int_equal(kheal_journal_sync(&j, NULL), 0);
	kheal_journal_close(&j);
}

#define TRANSITION_JSON "{\"type\":\"transition\",\"subsystem\":" \
	"\"cgroup:/a.slice\",\"from\":\"healthy\",\"to\":\"degraded\"," \
	"\"cause\":\"hung_task\",\"time_ns\":2000000000,\"incident\":1}\n"
#define INCIDENT_JSON "{\"type\":\"incident\",\"id\":1,\"subsystem\":" \
	"\"cgroup:/a.slice\",\"state\":\"open\",\"time_ns\":3000000000," \
	"\"trigger\":{\"source\":\"kmod\",\"instance\":99,\"seq\":7}," \
	"\"kind\":1,\"summary\":\"a.slice: hung task\"}\n"
#define DIAGNOSIS_JSON "{\"type\":\"diagnosis\",\"incident\":1,\"rule\":" \
	"\"hung-io\",\"cause\":\"disk stall\",\"confidence\":0.85," \
	"\"evidence\":[\"wchan io_schedule\",\"D for 12 s\"]," \
	"\"time_ns\":4000000000}\n"
#define DECISION_JSON "{\"type\":\"decision\",\"incident\":2,\"runbook\":" \
	"\"restart-service\",\"decision\":\"act\"," \
	"\"time_ns\":5000000000}\n"
#define GAP_JSON "{\"type\":\"gap\",\"instance\":99,\"first_missing\":8," \
	"\"last_missing\":9,\"reason\":\"overrun\",\"source\":\"kmod\"}\n"

/* -j: one object per record, its type first, events as events print. */
static void test_journal_json_one_object_per_record(void **state)
{
	char want[2048];

	(void)state;
	write_journal();
	snprintf(want, sizeof(want), "{\"type\":\"event\",%s\n%s%s%s%s%s",
		 EXAMPLE_JSON + 1, TRANSITION_JSON, INCIDENT_JSON,
		 DIAGNOSIS_JSON, DECISION_JSON, GAP_JSON);
	expect_out(want, CTL("-j", "journal", "--journal", journal));
	expect_out(want, CTL("journal", "--journal", journal, "--json"));
}

/* Text: time, type, the body's fields; "-" for a record without time. */
static void test_journal_text_lines(void **state)
{
	(void)state;
	write_journal();
	expect_out("0.000000123 event 7 hung_task warning task instance=99 "
		   "pid=55 comm=kheal-hung cgroup_path=/ duration_ms=512\n"
		   "2.000000000 transition subsystem=cgroup:/a.slice "
		   "from=healthy to=degraded cause=hung_task incident=1\n"
		   "3.000000000 incident id=1 subsystem=cgroup:/a.slice "
		   "state=open kind=1 summary=\"a.slice: hung task\"\n"
		   "4.000000000 diagnosis incident=1 rule=hung-io "
		   "cause=\"disk stall\" confidence=0.85 "
		   "evidence=\"wchan io_schedule\",\"D for 12 s\"\n"
		   "5.000000000 decision incident=2 runbook=restart-service "
		   "decision=act\n"
		   "- gap instance=99 first_missing=8 last_missing=9 "
		   "reason=overrun source=kmod\n",
		   CTL("journal", "--journal", journal));
}

/* --incident keeps the records about that incident, Incident's by id. */
static void test_journal_incident_filter(void **state)
{
	(void)state;
	write_journal();
	expect_out(TRANSITION_JSON INCIDENT_JSON DIAGNOSIS_JSON,
		   CTL("-j", "journal", "--journal", journal, "--incident",
		       "1"));
	expect_out(DECISION_JSON, CTL("-j", "journal", "--journal", journal,
				      "--incident", "2"));
	expect_out("", CTL("-j", "journal", "--journal", journal,
			   "--incident", "3"));
}

static uint64_t boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * --since 1s keeps what is newer than a second ago: not an event of long
 * ago, but a record of the future and the gap after it.
 */
static void test_journal_since_keeps_recent_records(void **state)
{
	uint64_t later = boottime_ns() + 3600000000000ULL;
	struct kheal_journal j;
	struct kheal_event ev;
	struct result r;

	(void)state;
	open_journal(&j);
	ev_basic(&ev, 1, 1);
	append_event(&j, &ev);
	append_transition(&j, later);
	append_gap(&j);
	assert_int_equal(kheal_journal_sync(&j, NULL), 0);
	kheal_journal_close(&j);
	r = expect(0, NULL, CTL("-j", "journal", "--journal", journal,
				"--since", "1s"));
	assert_null(strstr(r.out, "\"type\":\"event\""));
	assert_non_null(strstr(r.out, "{\"type\":\"transition\""));
	assert_non_null(strstr(r.out, "\n" GAP_JSON));
	result_free(&r);
}

/* Bad arguments are usage errors that name them. */
static void test_journal_bad_arguments(void **state)
{
	struct result r;

	(void)state;
	r = expect(2, "journal: bad --since 'abc': expected a duration",
		   CTL("journal", "--since", "abc"));
	result_free(&r);
	r = expect(2, "bad --since '10x'", CTL("journal", "--since", "10x"));
	result_free(&r);
	r = expect(2, "bad --incident '0'", CTL("journal", "--incident", "0"));
	result_free(&r);
	r = expect(2, "unexpected argument 'extra'",
		   CTL("journal", "verify", "extra"));
	result_free(&r);
	r = expect(2, "unknown option '--key'", CTL("journal", "--key", "k"));
	result_free(&r);
	r = expect(0, NULL, CTL("help", "journal"));
	assert_non_null(strstr(r.out, "journal verify [--journal PATH] "
				      "[--key PATH]"));
	assert_non_null(strstr(r.out, "DURATION: 90s, 10m, 2h, 1d"));
	result_free(&r);
}

/* The offset of record @index. */
static uint64_t record_offset(uint64_t index)
{
	struct kheal_journal_iter it;
	Kheal__Record *rec;
	uint64_t off = 0;

	assert_int_equal(kheal_journal_iter_open(&it, journal, NULL), 0);
	while (kheal_journal_iter_next(&it, &rec, NULL) > 0) {
		if (it.records - 1 == index)
			off = it.rec_off;
		kheal__record__free_unpacked(rec, NULL);
	}
	kheal_journal_iter_close(&it);
	return off;
}

/* A good journal: exit 0 and a line that says so. */
static void test_verify_valid_journal(void **state)
{
	char want[160];
	struct result r;

	(void)state;
	write_journal();
	snprintf(want, sizeof(want),
		 "journal %s: 6 records, chain and signatures valid\n",
		 journal);
	expect_out(want, CTL("journal", "verify", "--journal", journal));
	r = expect(0, NULL, CTL("-j", "journal", "verify", "--journal",
				journal, "--key", keyfile));
	assert_non_null(strstr(r.out, "\"valid\":true,\"records\":6,"));
	assert_non_null(strstr(r.out, "\"anchor\":{\"records\":6,"));
	result_free(&r);
}

/* Changes the first @from in the journal to @to, in place. */
static void edit_journal(const char *from, const char *to)
{
	char *text = slurp(journal);
	struct stat st;
	char *p;
	FILE *f;

	assert_int_equal(stat(journal, &st), 0);
	p = memmem(text, st.st_size, from, strlen(from));
	assert_non_null(p);
	f = fopen(journal, "r+");
	assert_non_null(f);
	assert_int_equal(fseek(f, p - text, SEEK_SET), 0);
	assert_int_equal(fwrite(to, 1, strlen(to), f), strlen(to));
	fclose(f);
	free(text);
}

/* An edited record: exit 1, naming it, its offset and why. */
static void test_verify_edited_record_exit_1_naming_it(void **state)
{
	struct result r;
	char want[160];

	(void)state;
	write_journal();
	edit_journal("hung-io", "Hung-io");
	snprintf(want, sizeof(want),
		 "khealctl: journal verify: journal %s: record 3 at offset %"
		 PRIu64 ": bad HMAC: HMAC mismatch", journal, record_offset(3));
	r = expect(1, want, CTL("journal", "verify", "--journal", journal));
	assert_string_equal(r.out, "");
	result_free(&r);
	r = expect(1, NULL, CTL("-j", "journal", "verify", "--journal",
				journal));
	assert_non_null(strstr(r.out, "\"valid\":false,"));
	assert_non_null(strstr(r.out, "\"fault\":\"bad_hmac\",\"index\":3,"));
	result_free(&r);
}

/* Records cut from the end: exit 1, truncated, the first one missing. */
static void test_verify_truncated_exit_1(void **state)
{
	struct result r;
	char want[160];
	uint64_t off;

	(void)state;
	write_journal();
	off = record_offset(4);
	assert_int_equal(truncate(journal, off), 0);
	snprintf(want, sizeof(want), "record 4 at offset %" PRIu64
		 ": truncated: the anchor ", off);
	r = expect(1, want, CTL("journal", "verify", "--journal", journal));
	assert_non_null(strstr(r.err, "records were cut from its end"));
	result_free(&r);
}

/*
 * Another key is exit 1 at record 0; a key others may read, or none, is
 * an error naming the file.
 */
static void test_verify_key_problems(void **state)
{
	static const uint8_t other[KHEAL_JOURNAL_KEY_BYTES] = "other";
	char other_key[96];
	struct result r;
	FILE *f;

	(void)state;
	write_journal();
	snprintf(other_key, sizeof(other_key), "%s/other.key", dir);
	f = fopen(other_key, "w");
	assert_non_null(f);
	fwrite(other, 1, sizeof(other), f);
	fclose(f);
	assert_int_equal(chmod(other_key, 0600), 0);
	r = expect(1, "record 0 at offset 0: bad HMAC",
		   CTL("journal", "verify", "--journal", journal, "--key",
		       other_key));
	result_free(&r);

	assert_int_equal(chmod(other_key, 0644), 0);
	r = expect(1, "chmod 600", CTL("journal", "verify", "--journal",
				       journal, "--key", other_key));
	assert_non_null(strstr(r.err, other_key));
	result_free(&r);

	unlink(keyfile);
	r = expect(1, keyfile, CTL("journal", "verify", "--journal", journal));
	assert_non_null(strstr(r.err, "No such file or directory"));
	result_free(&r);
}

/* A torn last record is a warning, not tampering: exit 0. */
static void test_verify_torn_tail_warns_exit_0(void **state)
{
	static const uint8_t half[] = { 0x40, 0x0a };
	struct result r;
	FILE *f;

	(void)state;
	write_journal();
	f = fopen(journal, "a");
	fwrite(half, 1, sizeof(half), f);
	fclose(f);
	r = expect(0, "warning: journal ", CTL("journal", "verify",
					       "--journal", journal));
	assert_non_null(strstr(r.err, "a torn record of 2 bytes"));
	assert_non_null(strstr(r.out, "6 records, chain and signatures valid"));
	result_free(&r);
}

#define T(f)	cmocka_unit_test_setup(f, fresh)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_journal_json_one_object_per_record),
		T(test_journal_text_lines),
		T(test_journal_incident_filter),
		T(test_journal_since_keeps_recent_records),
		T(test_journal_bad_arguments),
		T(test_verify_valid_journal),
		T(test_verify_edited_record_exit_1_naming_it),
		T(test_verify_truncated_exit_1),
		T(test_verify_key_problems),
		T(test_verify_torn_tail_warns_exit_0),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}

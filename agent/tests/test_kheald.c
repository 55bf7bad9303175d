// SPDX-License-Identifier: GPL-2.0
/*
 * kheald as a service manager runs it. This host has no kheal module,
 * so the daemon waits for one: what is tested is start-up, the journal
 * checks, signals and the stats line.
 */
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

static char dir[] = "/tmp/kheal-test-d-XXXXXX";
static char journal[96], logfile[96], pidfile[96];

/* kheald with this test's files, then the arguments given, NULL last. */
#define KHEALD_ARGS(...) ((char *const[]){ KHEALD, "--journal", journal, \
	"--log", logfile, "--pidfile", pidfile, __VA_ARGS__ })

#define STATS_ZERO "kheald: stats: source=kmod received=0 backfilled=0 " \
	"duplicates=0 lost=0 enobufs=0 stale=0\n"

static int make_dir(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(journal, sizeof(journal), "%s/lib/journal", dir);
	snprintf(logfile, sizeof(logfile), "%s/log/events.jsonl", dir);
	snprintf(pidfile, sizeof(pidfile), "%s/run/kheald.pid", dir);
	return 0;
}

static int remove_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* Each test starts without the files and the directories they go in. */
static int fresh(void **state)
{
	const char *const files[] = { journal, logfile, pidfile };
	char parent[96];
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		unlink(files[i]);
		snprintf(parent, sizeof(parent), "%s", files[i]);
		*strrchr(parent, '/') = '\0';
		rmdir(parent);
	}
	return 0;
}

static void proc_done(struct proc *p)
{
	unlink(p->out);
	unlink(p->err);
}

/* Starts kheald and waits until it is waiting for the module. */
static void start(struct proc *p, char *const argv[])
{
	proc_start(p, argv);
	if (!wait_for(p->err, "waiting for it to load"))
		fail_msg("kheald did not come up: %s", slurp(p->err));
}

static void write_events(uint64_t from, uint64_t to)
{
	struct kheal_journal j;
	struct kheal_event ev;
	Kheal__Record rec;
	Kheal__Event pe;
	char parent[96];
	uint64_t seq;

	snprintf(parent, sizeof(parent), "%s/lib", dir);
	mkdir(parent, 0755);
	assert_int_equal(kheal_journal_open(&j, journal, NULL), 0);
	for (seq = from; seq <= to; seq++) {
		ev_basic(&ev, 5, seq);
		kheal_record_event(&rec, &pe, &ev);
		assert_int_equal(kheal_journal_append(&j, &rec, NULL), 0);
	}
	assert_int_equal(kheal_journal_sync(&j, NULL), 0);
	kheal_journal_close(&j);
}

static off_t size_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/*
 * Without the module kheald says once that it waits; SIGTERM stops it
 * cleanly, with the one-line counters on stderr and its pid file gone.
 * Missing directories for its files are created.
 */
static void test_kheald_waits_for_module_and_reports_on_sigterm(
	void **state)
{
	struct proc p;
	char *err;

	(void)state;
	start(&p, KHEALD_ARGS(NULL));
	assert_int_equal(access(journal, F_OK), 0);
	assert_int_equal(access(logfile, F_OK), 0);
	assert_int_equal(access(pidfile, F_OK), 0);
	kill(p.pid, SIGTERM);
	assert_int_equal(proc_wait(&p), 0);
	err = slurp(p.err);
	assert_string_equal(err,
			    "kheald: the kheal module is not loaded (no generic "
			    "netlink family \"kheal\"); waiting for it to load\n"
			    STATS_ZERO);
	free(err);
	assert_int_equal(access(pidfile, F_OK), -1);
	proc_done(&p);
}

/* SIGINT stops it quietly; with --stats the counters print anyway. */
static void test_kheald_sigint_prints_stats_only_when_asked(void **state)
{
	struct proc p;
	char *err;

	(void)state;
	start(&p, KHEALD_ARGS(NULL));
	kill(p.pid, SIGINT);
	assert_int_equal(proc_wait(&p), 0);
	err = slurp(p.err);
	assert_null(strstr(err, "stats:"));
	free(err);
	proc_done(&p);

	start(&p, KHEALD_ARGS("--stats", "--quiet", NULL));
	kill(p.pid, SIGINT);
	assert_int_equal(proc_wait(&p), 0);
	err = slurp(p.err);
	assert_non_null(strstr(err, STATS_ZERO));
	free(err);
	proc_done(&p);
}

/*
 * A torn tail left by a crash is cut on start, and kheald says so;
 * the records before it stay.
 */
static void test_kheald_cuts_torn_journal_tail_and_says_so(void **state)
{
	struct kheal_journal_summary sum;
	struct proc p;
	off_t whole;

	(void)state;
	write_events(1, 3);
	whole = size_of(journal);
	assert_int_equal(truncate(journal, whole - 2), 0);
	start(&p, KHEALD_ARGS(NULL));
	assert_true(wait_for(p.err, "cut a torn record of"));
	assert_true(wait_for(p.err, "the 2 records before it are kept"));
	kill(p.pid, SIGTERM);
	assert_int_equal(proc_wait(&p), 0);
	proc_done(&p);
	assert_int_equal(kheal_journal_scan(journal, &sum, NULL), 0);
	assert_int_equal(sum.records, 2);
	assert_int_equal(sum.torn, 0);
}

/*
 * A journal corrupt before its end stops kheald at once, naming the
 * offset, and the file is left untouched.
 */
static void test_kheald_refuses_corrupt_journal(void **state)
{
	static const uint8_t junk[] = { 0x02, 0xff, 0xff };
	struct result r;
	off_t one, whole;
	FILE *f;
	char *good;

	(void)state;
	write_events(1, 1);
	one = size_of(journal);
	good = slurp(journal);
	f = fopen(journal, "a");
	fwrite(junk, 1, sizeof(junk), f);
	fwrite(good, 1, one, f);
	fclose(f);
	free(good);
	whole = size_of(journal);

	r = run(KHEALD_ARGS(NULL));
	assert_int_equal(r.code, 1);
	assert_non_null(strstr(r.err, "corrupt record at offset"));
	assert_non_null(strstr(r.err, "(after 1 good records)"));
	assert_int_equal(size_of(journal), whole);
	result_free(&r);
}

/* A second kheald on the same pid file is refused, naming the first. */
static void test_kheald_refuses_second_instance(void **state)
{
	struct result r;
	struct proc p;
	char want[64];

	(void)state;
	start(&p, KHEALD_ARGS(NULL));
	r = run(KHEALD_ARGS(NULL));
	snprintf(want, sizeof(want), "already running (pid %d,", (int)p.pid);
	assert_int_equal(r.code, 1);
	assert_non_null(strstr(r.err, want));
	result_free(&r);
	kill(p.pid, SIGTERM);
	assert_int_equal(proc_wait(&p), 0);
	proc_done(&p);
}

/* Bad options are usage errors, exit 2. */
static void test_kheald_rejects_unknown_option(void **state)
{
	struct result r;

	(void)state;
	r = run((char *const[]){ KHEALD, "--frobnicate", NULL });
	assert_int_equal(r.code, 2);
	assert_non_null(strstr(r.err, "unknown option '--frobnicate'"));
	result_free(&r);
	r = run((char *const[]){ KHEALD, "--journal", NULL });
	assert_int_equal(r.code, 2);
	assert_non_null(strstr(r.err, "--journal needs an argument"));
	result_free(&r);
}

#define T(f)	cmocka_unit_test_setup(f, fresh)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_kheald_waits_for_module_and_reports_on_sigterm),
		T(test_kheald_sigint_prints_stats_only_when_asked),
		T(test_kheald_cuts_torn_journal_tail_and_says_so),
		T(test_kheald_refuses_corrupt_journal),
		T(test_kheald_refuses_second_instance),
		T(test_kheald_rejects_unknown_option),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}

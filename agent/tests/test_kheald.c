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
#include "state.h"

static char dir[] = "/tmp/kheal-test-d-XXXXXX";
static char journal[96], logfile[96], pidfile[96], statefile[96];
static char sockfile[96], drafts[96];

/*
 * kheald on the module with this test's files, then the arguments given,
 * NULL last.
 */
#define KHEALD_ARGS(...) ((char *const[]){ KHEALD, "--engine=kmod", \
	"--journal", journal, "--log", logfile, "--pidfile", pidfile, \
	"--state", statefile, "--socket", sockfile, "--drafts", drafts, \
	"--runbooks", KHEAL_RUNBOOKS_DIR, __VA_ARGS__ })

#define ENGINE_KMOD "kheald: engine kmod (--engine=kmod)\n"
#define STATS_ZERO "kheald: stats: source=kmod received=0 backfilled=0 " \
	"duplicates=0 lost=0 enobufs=0 stale=0 merged=0\n"

static int make_dir(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(journal, sizeof(journal), "%s/lib/journal", dir);
	snprintf(logfile, sizeof(logfile), "%s/log/events.jsonl", dir);
	snprintf(pidfile, sizeof(pidfile), "%s/run/kheald.pid", dir);
	snprintf(statefile, sizeof(statefile), "%s/run/kheald.state", dir);
	snprintf(sockfile, sizeof(sockfile), "%s/run/kheald.sock", dir);
	snprintf(drafts, sizeof(drafts), "%s/drafts", dir);
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
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s/lib %s/log %s/run %s/drafts",
		 dir, dir, dir, dir);
	return system(cmd);
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

/* Events of a journal signed with the key kheald will use. */
static void write_events(uint64_t from, uint64_t to)
{
	uint8_t key[KHEAL_JOURNAL_KEY_BYTES];
	struct kheal_journal j;
	struct kheal_event ev;
	struct kheal_pb_event pe;
	Kheal__Record rec;
	char parent[96], keyfile[112];
	uint64_t seq;

	snprintf(parent, sizeof(parent), "%s/lib", dir);
	mkdir(parent, 0755);
	snprintf(keyfile, sizeof(keyfile), "%s" KHEAL_JOURNAL_KEY_SUFFIX,
		 journal);
	assert_int_equal(kheal_journal_key_load(keyfile, true, key, NULL), 0);
	assert_int_equal(kheal_journal_open(&j, journal, key, NULL), 0);
	for (seq = from; seq <= to; seq++) {
		ev_basic(&ev, 5, seq);
		kheal_record_event(&rec, &pe, &ev);
		assert_int_equal(kheal_journal_append(&j, &rec, NULL), 0);
	}
	assert_int_equal(kheal_journal_sync(&j, NULL), 0);
	kheal_journal_close(&j);
}

/* Waits up to 10 s for @path to exist. */
static bool wait_for_file(const char *path)
{
	struct timespec pause = { .tv_nsec = 20 * 1000 * 1000 };
	int i;

	for (i = 0; i < 500; i++) {
		if (!access(path, F_OK))
			return true;
		nanosleep(&pause, NULL);
	}
	return false;
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
	/* After what it says of the profile, runbooks and socket. */
	assert_non_null(strstr(err, "kheald: profile conservative, "));
	assert_non_null(strstr(err, " runbooks from " KHEAL_RUNBOOKS_DIR "\n"));
	assert_non_null(strstr(err, "\n" ENGINE_KMOD
			    "kheald: the kheal module is not loaded (no generic "
			    "netlink family \"kheal\"); waiting for it to load\n"
			    STATS_ZERO));
	assert_int_equal(strlen(strstr(err, "\n" ENGINE_KMOD)),
			 strlen("\n" ENGINE_KMOD "kheald: the kheal module is not loaded (no generic "
				"netlink family \"kheal\"); waiting for it to load\n"
				STATS_ZERO));
	assert_int_equal(access(sockfile, F_OK), -1);
	free(err);
	assert_int_equal(access(pidfile, F_OK), -1);
	proc_done(&p);
}

/*
 * While it runs, its state file says which engine runs and why, and
 * the source's state; it goes at exit, with the pid file.
 */
static void test_kheald_state_file_names_engine(void **state)
{
	Kheal__AgentState *st;
	struct proc p;

	(void)state;
	start(&p, KHEALD_ARGS(NULL));
	assert_true(wait_for_file(statefile));
	assert_int_equal(kheal_state_read(statefile, &st, NULL), 0);
	assert_int_equal(st->pid, p.pid);
	assert_int_equal(st->requested, KHEAL__ENGINE__ENGINE_KMOD);
	assert_int_equal(st->engine, KHEAL__ENGINE__ENGINE_KMOD);
	assert_string_equal(st->reason, "--engine=kmod");
	assert_int_equal(st->n_sources, 1);
	assert_int_equal(st->sources[0]->source, KHEAL__SOURCE__SOURCE_KMOD);
	assert_false(st->sources[0]->attached);
	kheal__agent_state__free_unpacked(st, NULL);
	kill(p.pid, SIGTERM);
	assert_int_equal(proc_wait(&p), 0);
	assert_int_equal(access(statefile, F_OK), -1);
	proc_done(&p);
}

/*
 * auto says which engine it picked and why: on this host, which has no
 * kheal module, the BPF probes (whether they then load or not).
 */
static void test_kheald_auto_says_engine_and_why(void **state)
{
	char *const argv[] = { KHEALD, "--journal", journal, "--log",
			       logfile, "--pidfile", pidfile, "--state",
			       statefile, "--quiet", NULL };
	struct proc p;

	(void)state;
	proc_start(&p, argv);
	assert_true(wait_for(p.err, "kheald: engine bpf (--engine=auto: "
				    "kheal.ko is not loaded (no generic "
				    "netlink family \"kheal\"))\n"));
	kill(p.pid, SIGTERM);
	proc_wait(&p);
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

/* --engine and --hung-ms values are checked, naming what was wrong. */
static void test_kheald_rejects_bad_engine_and_hung_ms(void **state)
{
	struct result r;

	(void)state;
	r = run((char *const[]){ KHEALD, "--engine=foo", NULL });
	assert_int_equal(r.code, 2);
	assert_non_null(strstr(r.err, "kheald: --engine: 'foo' is not one of "
				      "auto, kmod, bpf, both\n"));
	result_free(&r);
	r = run((char *const[]){ KHEALD, "--hung-ms", "99", NULL });
	assert_int_equal(r.code, 2);
	assert_non_null(strstr(r.err, "kheald: --hung-ms: '99' is not a number "
				      "from 100 to 86400000\n"));
	result_free(&r);
	r = run((char *const[]){ KHEALD, "--hung-ms=1e3", NULL });
	assert_int_equal(r.code, 2);
	assert_non_null(strstr(r.err, "--hung-ms: '1e3' is not a number"));
	result_free(&r);
}

/*
 * --ringbuf-kb takes a power of two from one page to 1 GiB, the size
 * the ring buffer then has; anything else is named, with the range.
 */
static void test_kheald_ringbuf_kb_checked(void **state)
{
	static const char *const bad[] = { "3000", "2", "0", "2097152",
					   "4k", "-4096", "" };
	char want[128];
	struct result r;
	struct proc p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = run((char *const[]){ KHEALD, "--ringbuf-kb", (char *)bad[i],
					 NULL });
		assert_int_equal(r.code, 2);
		snprintf(want, sizeof(want), "kheald: --ringbuf-kb: '%s' is "
			 "not a power of two from 4 to 1048576 (KiB)\n",
			 bad[i]);
		assert_non_null(strstr(r.err, want));
		result_free(&r);
	}
	start(&p, KHEALD_ARGS("--ringbuf-kb", "4096", NULL));
	kill(p.pid, SIGTERM);
	assert_int_equal(proc_wait(&p), 0);
	proc_done(&p);
	start(&p, KHEALD_ARGS("--ringbuf-kb=4", NULL));
	kill(p.pid, SIGTERM);
	assert_int_equal(proc_wait(&p), 0);
	proc_done(&p);
}

/*
 * --psi runs the PSI source beside the engine; its trigger is held to
 * the kernel's bounds first. A cgroup that does not exist yet is waited
 * for. (Windows of 2 s: without CAP_SYS_RESOURCE, Linux 6.5+ takes only
 * multiples of 2 s.)
 */
static void test_kheald_psi_source_beside_the_engine(void **state)
{
	Kheal__AgentState *st;
	const Kheal__SourceState *psi;
	struct result r;
	struct proc p;
	char *err;

	(void)state;
	r = run((char *const[]){ KHEALD, "--psi-window-ms", "400", NULL });
	assert_int_equal(r.code, 2);
	assert_non_null(strstr(r.err, "kheald: --psi-window-ms: '400' is not "
				      "a number from 500 to 10000\n"));
	result_free(&r);
	r = run((char *const[]){ KHEALD, "--psi-stall-ms", "0", NULL });
	assert_int_equal(r.code, 2);
	assert_non_null(strstr(r.err, "--psi-stall-ms: '0' is not a number "
				      "from 1 to 10000"));
	result_free(&r);
	r = run((char *const[]){ KHEALD, "--psi-stall-ms", "3000",
				 "--psi-window-ms", "2000", NULL });
	assert_int_equal(r.code, 2);
	assert_non_null(strstr(r.err, "kheald: --psi-stall-ms 3000 is longer "
				      "than --psi-window-ms 2000\n"));
	result_free(&r);

	if (geteuid() || access("/proc/pressure/memory", W_OK)) {
		print_message("[  SKIP    ] the source itself needs root and PSI\n");
		skip();
	}
	start(&p, KHEALD_ARGS("--psi-window-ms", "2000", "--psi-cgroup",
			      "/kheal-test-none", NULL));
	assert_true(wait_for(p.err, "PSI: memory:/kheal-test-none does not "
				    "exist (yet): watching for it each "
				    "second\n"));
	assert_true(wait_for(p.err, "PSI: trigger some 150000 2000000 on "
				    "memory:global and 1 cgroup "
				    "(--psi-cgroup)"));
	assert_true(wait_for_file(statefile));
	assert_int_equal(kheal_state_read(statefile, &st, NULL), 0);
	assert_int_equal(st->n_sources, 2);
	psi = st->sources[1];
	assert_int_equal(psi->source, KHEAL__SOURCE__SOURCE_PSI);
	assert_true(psi->attached);
	assert_int_equal(psi->n_probes, 2);
	assert_string_equal(psi->probes[0]->name, "memory:global");
	assert_true(psi->probes[0]->attached);
	assert_string_equal(psi->probes[1]->name, "memory:/kheal-test-none");
	assert_false(psi->probes[1]->attached);
	kheal__agent_state__free_unpacked(st, NULL);
	kill(p.pid, SIGTERM);
	assert_int_equal(proc_wait(&p), 0);
	err = slurp(p.err);
	assert_non_null(strstr(err, "stats: source=psi received=0"));
	free(err);
	proc_done(&p);
}

#define T(f)	cmocka_unit_test_setup(f, fresh)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_kheald_waits_for_module_and_reports_on_sigterm),
		T(test_kheald_state_file_names_engine),
		T(test_kheald_auto_says_engine_and_why),
		T(test_kheald_sigint_prints_stats_only_when_asked),
		T(test_kheald_cuts_torn_journal_tail_and_says_so),
		T(test_kheald_refuses_corrupt_journal),
		T(test_kheald_refuses_second_instance),
		T(test_kheald_rejects_unknown_option),
		T(test_kheald_rejects_bad_engine_and_hung_ms),
		T(test_kheald_ringbuf_kb_checked),
		T(test_kheald_psi_source_beside_the_engine),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}

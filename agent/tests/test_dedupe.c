// SPDX-License-Identifier: GPL-2.0
/* Merging two sources: which reports of a fault are the same fault. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "dedupe.h"
#include "fixtures.h"
#include "journal.h"
#include "record.h"

#define MS	1000000ULL

static struct kheal_dedupe d;

static int setup(void **state)
{
	(void)state;
	kheal_dedupe_init(&d, 1000);
	return 0;
}

/* An event of @source about @pid at @ms, numbered @seq. */
static struct kheal_event *ev(enum kheal_source_id source, uint32_t kind,
			      uint32_t pid, uint64_t ms, uint64_t seq)
{
	static struct kheal_event e;

	ev_basic(&e, source == KHEAL_SOURCE_BPF ? 0 : 42, seq);
	e.source = source;
	ev_set(&e, KHEAL_A_KIND, kind);
	ev_set(&e, KHEAL_A_TIME_NS, ms * MS);
	ev_set(&e, KHEAL_A_PID, pid);
	return &e;
}

static bool dup(enum kheal_source_id source, uint32_t kind, uint32_t pid,
		uint64_t ms)
{
	struct kheal_seq_id into;

	return kheal_dedupe_check(&d, ev(source, kind, pid, ms, ms), &into);
}

#define KMOD	KHEAL_SOURCE_KMOD
#define BPF	KHEAL_SOURCE_BPF
#define HUNG	KHEAL_EVENT_HUNG_TASK

/* The window is twice hung_ms, but never under 5 s. */
static void test_window_is_twice_hung_ms_at_least_5s(void **state)
{
	(void)state;
	assert_int_equal(kheal_dedupe_window_ms(500), 5000);
	assert_int_equal(kheal_dedupe_window_ms(2500), 5000);
	assert_int_equal(kheal_dedupe_window_ms(10000), 20000);
}

/*
 * The other source's report of the same hung task is dropped, naming
 * the one reported first; the first one wins whichever source it is.
 */
static void test_same_fault_from_other_source_dropped(void **state)
{
	struct kheal_seq_id into;

	(void)state;
	assert_false(kheal_dedupe_check(&d, ev(KMOD, HUNG, 7, 100, 3),
					 &into));
	assert_true(kheal_dedupe_check(&d, ev(BPF, HUNG, 7, 300, 9), &into));
	assert_int_equal(into.source, KMOD);
	assert_int_equal(into.instance, 42);
	assert_int_equal(into.seq, 3);

	assert_false(dup(BPF, KHEAL_EVENT_OOM_KILL, 8, 100));
	assert_true(dup(KMOD, KHEAL_EVENT_OOM_KILL, 8, 120));
	assert_false(dup(BPF, KHEAL_EVENT_HUNG_TASK_RESOLVED, 9, 100));
	assert_true(dup(KMOD, KHEAL_EVENT_HUNG_TASK_RESOLVED, 9, 150));
}

/* The window's edges: at it, a duplicate; one ns past it, not. */
static void test_window_edges(void **state)
{
	struct kheal_seq_id into;
	struct kheal_event *e;

	(void)state;
	assert_false(dup(KMOD, HUNG, 7, 5000));
	assert_true(dup(BPF, HUNG, 7, 6000));

	assert_false(dup(KMOD, HUNG, 8, 5000));
	e = ev(BPF, HUNG, 8, 6000, 1);
	e->time_ns++;
	assert_false(kheal_dedupe_check(&d, e, &into));

	/* Either way in time: the second report may carry an earlier one. */
	assert_false(dup(KMOD, HUNG, 9, 5000));
	assert_true(dup(BPF, HUNG, 9, 4000));
	assert_false(dup(KMOD, HUNG, 10, 5000));
	assert_false(dup(BPF, HUNG, 10, 3999));
}

/* Another pid or another kind is another fault. */
static void test_different_pid_or_kind_not_duplicate(void **state)
{
	(void)state;
	assert_false(dup(KMOD, HUNG, 7, 100));
	assert_false(dup(BPF, HUNG, 8, 100));
	assert_false(dup(BPF, KHEAL_EVENT_HUNG_TASK_RESOLVED, 7, 100));
	assert_false(dup(BPF, KHEAL_EVENT_OOM_KILL, 7, 100));
	assert_true(dup(BPF, HUNG, 7, 100));
}

/*
 * Two reports from one source are two faults (two episodes): telling
 * them apart is that source's job.
 */
static void test_same_source_twice_not_duplicate(void **state)
{
	(void)state;
	assert_false(dup(KMOD, HUNG, 7, 100));
	assert_false(dup(KMOD, HUNG, 7, 200));
	assert_false(dup(BPF, KHEAL_EVENT_OOM_KILL, 7, 100));
	assert_false(dup(BPF, KHEAL_EVENT_OOM_KILL, 7, 100));
}

/*
 * Each report absorbs one from the other source at most: a second
 * episode within the window, reported first by the other source, is
 * reported, and its echo dropped.
 */
static void test_second_episode_in_window_reported_once(void **state)
{
	(void)state;
	assert_false(dup(KMOD, HUNG, 7, 100));	/* episode 1 */
	assert_true(dup(BPF, HUNG, 7, 150));
	assert_false(dup(BPF, HUNG, 7, 700));	/* episode 2 */
	assert_true(dup(KMOD, HUNG, 7, 720));
	assert_false(dup(KMOD, HUNG, 7, 900));	/* episode 3, kmod only */
}

/* Only hung-task and OOM events with a pid take part. */
static void test_other_kinds_and_pidless_never_merged(void **state)
{
	struct kheal_seq_id into;
	struct kheal_event *e;

	(void)state;
	assert_false(dup(KMOD, KHEAL_EVENT_TASK_CRASH, 7, 100));
	assert_false(dup(BPF, KHEAL_EVENT_TASK_CRASH, 7, 100));
	e = ev(KMOD, KHEAL_EVENT_OOM_KILL, 0, 100, 1);
	e->present &= ~(1ULL << KHEAL_A_PID);
	assert_false(kheal_dedupe_check(&d, e, &into));
	e = ev(BPF, KHEAL_EVENT_OOM_KILL, 0, 100, 1);
	e->present &= ~(1ULL << KHEAL_A_PID);
	assert_false(kheal_dedupe_check(&d, e, &into));
}

/* A full table forgets the oldest fault first, never the newest. */
static void test_full_table_forgets_oldest(void **state)
{
	uint32_t pid;

	(void)state;
	for (pid = 1; pid <= KHEAL_DEDUPE_SLOTS; pid++)
		assert_false(dup(KMOD, HUNG, pid, 100 + pid));
	assert_false(dup(KMOD, HUNG, 1000, 900));
	assert_false(dup(BPF, HUNG, 1, 101));		/* forgotten */
	assert_true(dup(BPF, HUNG, KHEAL_DEDUPE_SLOTS, 400));
	assert_true(dup(BPF, HUNG, 1000, 900));
}

/* The journal a restarted kheald reads back. */

static char dir[] = "/tmp/kheal-test-dedupe-XXXXXX";
static char path[64], head[80];
static const uint8_t key[KHEAL_JOURNAL_KEY_BYTES] = "test_dedupe's key";
static struct kheal_journal j;

#define NOW	(1000000 * MS)		/* CLOCK_BOOTTIME at the restart */

static int make_dir(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/journal", dir);
	snprintf(head, sizeof(head), "%s" KHEAL_JOURNAL_HEAD_SUFFIX, path);
	return 0;
}

static int remove_dir(void **state)
{
	(void)state;
	remove(path);
	remove(head);
	return remove(dir);
}

/* A fresh table, and a fresh journal open for writing. */
static int journal_setup(void **state)
{
	remove(path);
	remove(head);
	setup(state);
	return kheal_journal_open(&j, path, key, NULL);
}

/* Journals an event, as kheald does when it reports one. */
static void journal_event(const struct kheal_event *e)
{
	struct kheal_pb_event pe;
	Kheal__Record rec;

	kheal_record_event(&rec, &pe, e);
	assert_int_equal(kheal_journal_append(&j, &rec, NULL), 0);
}

/* Journals that bpf event @seq was merged into kmod event @into. */
static void journal_merged(uint64_t seq, uint64_t into)
{
	struct kheal_merged m = {
		.event = { KHEAL_SOURCE_BPF, 0, seq },
		.into = { KHEAL_SOURCE_KMOD, 42, into },
	};
	Kheal__Merged pm;
	Kheal__Record rec;

	kheal_record_merged(&rec, &pm, &m);
	assert_int_equal(kheal_journal_append(&j, &rec, NULL), 0);
}

/* Closes the journal, loads it into the table: how many events fed. */
static int load(void)
{
	struct kheal_err err = { "" };
	int n;

	assert_int_equal(kheal_journal_sync(&j, NULL), 0);
	kheal_journal_close(&j);
	n = kheal_dedupe_load_journal(&d, path, NOW, &err);
	if (n < 0)
		fail_msg("%s", err.msg);
	return n;
}

/*
 * A hung task kmod reported just before a restart: the probes' report
 * of it just after is a duplicate of that journalled event; another
 * pid, or the same one past the window, is not.
 */
static void test_journal_reload_merges_across_restart(void **state)
{
	struct kheal_seq_id into;

	(void)state;
	journal_event(ev(KMOD, HUNG, 7, 900000, 3));
	journal_event(ev(KMOD, HUNG, 9, 900000, 4));
	journal_event(ev(KMOD, KHEAL_EVENT_SYNTHETIC, 0, 900200, 5));
	assert_int_equal(load(), 3);

	assert_true(kheal_dedupe_check(&d, ev(BPF, HUNG, 7, 900600, 1),
					 &into));
	assert_int_equal(into.source, KMOD);
	assert_int_equal(into.instance, 42);
	assert_int_equal(into.seq, 3);
	assert_false(dup(BPF, HUNG, 8, 900600));
	assert_false(dup(BPF, HUNG, 9, 901001));
}

/* Only the events within the window of the journal's latest are read. */
static void test_journal_reload_only_the_window_before_the_last(void **state)
{
	(void)state;
	journal_event(ev(KMOD, HUNG, 7, 500000, 3));
	journal_event(ev(KMOD, HUNG, 8, 899000, 4));
	journal_event(ev(KMOD, HUNG, 9, 900000, 5));
	assert_int_equal(load(), 2);
	assert_false(dup(BPF, HUNG, 7, 500100));	/* not read back */
	assert_true(dup(BPF, HUNG, 8, 899100));
	assert_true(dup(BPF, HUNG, 9, 900100));
}

/*
 * A pair merged before the restart is complete: the next report of the
 * same pid is a new episode, journalled.
 */
static void test_journal_reload_keeps_merged_pairs(void **state)
{
	(void)state;
	journal_event(ev(KMOD, HUNG, 7, 900000, 3));
	journal_merged(1, 3);
	journal_event(ev(KMOD, HUNG, 8, 900000, 4));
	assert_int_equal(load(), 2);
	assert_false(dup(BPF, HUNG, 7, 900300));
	assert_true(dup(BPF, HUNG, 8, 900300));
}

/*
 * A journal that already holds both reports of a fault (written before
 * it was read back at start) leaves that pair complete too.
 */
static void test_journal_reload_pair_journalled_twice(void **state)
{
	(void)state;
	journal_event(ev(KMOD, HUNG, 7, 900000, 3));
	journal_event(ev(BPF, HUNG, 7, 900100, 1));
	assert_int_equal(load(), 2);
	assert_false(dup(KMOD, HUNG, 7, 900200));
}

/* Events stamped after now are from an earlier boot: left out. */
static void test_journal_reload_skips_earlier_boot(void **state)
{
	(void)state;
	journal_event(ev(KMOD, HUNG, 7, 2000000, 3));
	journal_event(ev(KMOD, HUNG, 8, 900000, 4));
	assert_int_equal(load(), 1);
	assert_false(dup(BPF, HUNG, 7, 2000100));
	assert_true(dup(BPF, HUNG, 8, 900100));
}

/* An empty journal leaves the table empty; a missing one is named. */
static void test_journal_reload_empty_or_missing(void **state)
{
	struct kheal_err err = { "" };
	char missing[80];

	(void)state;
	assert_int_equal(load(), 0);
	assert_false(dup(BPF, HUNG, 7, 900000));
	snprintf(missing, sizeof(missing), "%s/nope", dir);
	assert_int_equal(kheal_dedupe_load_journal(&d, missing, NOW, &err),
			 -ENOENT);
	assert_non_null(strstr(err.msg, "journal: "));
	assert_non_null(strstr(err.msg, missing));
}

#define T(f)	cmocka_unit_test_setup(f, setup)
#define TJ(f)	cmocka_unit_test_setup(f, journal_setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_window_is_twice_hung_ms_at_least_5s),
		T(test_same_fault_from_other_source_dropped),
		T(test_window_edges),
		T(test_different_pid_or_kind_not_duplicate),
		T(test_same_source_twice_not_duplicate),
		T(test_second_episode_in_window_reported_once),
		T(test_other_kinds_and_pidless_never_merged),
		T(test_full_table_forgets_oldest),
		TJ(test_journal_reload_merges_across_restart),
		TJ(test_journal_reload_only_the_window_before_the_last),
		TJ(test_journal_reload_keeps_merged_pairs),
		TJ(test_journal_reload_pair_journalled_twice),
		TJ(test_journal_reload_skips_earlier_boot),
		TJ(test_journal_reload_empty_or_missing),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}

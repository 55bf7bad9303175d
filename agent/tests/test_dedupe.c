// SPDX-License-Identifier: GPL-2.0
/* Merging two sources: which reports of a fault are the same fault. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dedupe.h"
#include "fixtures.h"

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

#define T(f)	cmocka_unit_test_setup(f, setup)

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

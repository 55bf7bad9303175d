// SPDX-License-Identifier: GPL-2.0
/* Sequence continuity: next, duplicate, gap and new instance. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "seq.h"

static struct kheal_seq at(uint64_t instance, uint64_t last)
{
	struct kheal_seq s;

	kheal_seq_begin(&s, instance, last);
	return s;
}

/* Nothing tracked yet: any event starts a new instance. */
static void test_untracked_stream_sees_new_instance(void **state)
{
	struct kheal_seq s = { 0 };
	uint64_t first, last;

	(void)state;
	assert_int_equal(kheal_seq_check(&s, 7, 1, &first, &last),
			 KHEAL_SEQ_NEW_INSTANCE);
}

/* A fresh instance expects seq 1 first. */
static void test_fresh_instance_accepts_seq_one(void **state)
{
	struct kheal_seq s = at(7, 0);
	uint64_t first, last;

	(void)state;
	assert_int_equal(kheal_seq_check(&s, 7, 1, &first, &last),
			 KHEAL_SEQ_NEXT);
}

/* last + 1 is the next event, and advancing moves last to it. */
static void test_next_seq_accepted_and_advances(void **state)
{
	struct kheal_seq s = at(7, 41);
	uint64_t first, last;

	(void)state;
	assert_int_equal(kheal_seq_check(&s, 7, 42, &first, &last),
			 KHEAL_SEQ_NEXT);
	kheal_seq_advance(&s, 42);
	assert_int_equal(s.last, 42);
	assert_int_equal(kheal_seq_check(&s, 7, 43, &first, &last),
			 KHEAL_SEQ_NEXT);
}

/* A skip reports exactly the missing range, inclusive. */
static void test_gap_detected_when_seq_skips(void **state)
{
	struct kheal_seq s = at(7, 10);
	uint64_t first = 0, last = 0;

	(void)state;
	assert_int_equal(kheal_seq_check(&s, 7, 15, &first, &last),
			 KHEAL_SEQ_GAP);
	assert_int_equal(first, 11);
	assert_int_equal(last, 14);
}

/* A gap of one event is still a gap. */
static void test_single_missing_event_is_a_gap(void **state)
{
	struct kheal_seq s = at(7, 10);
	uint64_t first = 0, last = 0;

	(void)state;
	assert_int_equal(kheal_seq_check(&s, 7, 12, &first, &last),
			 KHEAL_SEQ_GAP);
	assert_int_equal(first, 11);
	assert_int_equal(last, 11);
}

/* The first event of a tracked instance may already show a gap. */
static void test_fresh_instance_starting_late_is_a_gap_from_one(void **state)
{
	struct kheal_seq s = at(7, 0);
	uint64_t first = 0, last = 0;

	(void)state;
	assert_int_equal(kheal_seq_check(&s, 7, 5, &first, &last),
			 KHEAL_SEQ_GAP);
	assert_int_equal(first, 1);
	assert_int_equal(last, 4);
}

/* Seen before, the same seq or an older one, is a duplicate. */
static void test_duplicate_when_seq_repeats_or_goes_back(void **state)
{
	struct kheal_seq s = at(7, 10);
	uint64_t first, last;

	(void)state;
	assert_int_equal(kheal_seq_check(&s, 7, 10, &first, &last),
			 KHEAL_SEQ_DUPLICATE);
	assert_int_equal(kheal_seq_check(&s, 7, 3, &first, &last),
			 KHEAL_SEQ_DUPLICATE);
}

/* Seq 0 is never valid; it cannot pass as a new event. */
static void test_seq_zero_is_never_next(void **state)
{
	struct kheal_seq s = at(7, 0);
	uint64_t first, last;

	(void)state;
	assert_int_equal(kheal_seq_check(&s, 7, 0, &first, &last),
			 KHEAL_SEQ_DUPLICATE);
}

/* Another instance is reported as such, whatever its seq. */
static void test_other_instance_is_new_instance(void **state)
{
	struct kheal_seq s = at(7, 10);
	uint64_t first, last;

	(void)state;
	assert_int_equal(kheal_seq_check(&s, 8, 11, &first, &last),
			 KHEAL_SEQ_NEW_INSTANCE);
	assert_int_equal(kheal_seq_check(&s, 8, 1, &first, &last),
			 KHEAL_SEQ_NEW_INSTANCE);
}

/* Advancing past a gap moves to its end; it never moves back. */
static void test_advance_never_moves_back(void **state)
{
	struct kheal_seq s = at(7, 10);

	(void)state;
	kheal_seq_advance(&s, 14);
	assert_int_equal(s.last, 14);
	kheal_seq_advance(&s, 12);
	assert_int_equal(s.last, 14);
}

/* The largest seq does not overflow the gap arithmetic. */
static void test_gap_up_to_max_seq(void **state)
{
	struct kheal_seq s = at(7, 0);
	uint64_t first = 0, last = 0;

	(void)state;
	assert_int_equal(kheal_seq_check(&s, 7, UINT64_MAX, &first, &last),
			 KHEAL_SEQ_GAP);
	assert_int_equal(first, 1);
	assert_true(last == UINT64_MAX - 1);
}

#define T(f)	cmocka_unit_test(f)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_untracked_stream_sees_new_instance),
		T(test_fresh_instance_accepts_seq_one),
		T(test_next_seq_accepted_and_advances),
		T(test_gap_detected_when_seq_skips),
		T(test_single_missing_event_is_a_gap),
		T(test_fresh_instance_starting_late_is_a_gap_from_one),
		T(test_duplicate_when_seq_repeats_or_goes_back),
		T(test_seq_zero_is_never_next),
		T(test_other_instance_is_new_instance),
		T(test_advance_never_moves_back),
		T(test_gap_up_to_max_seq),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0
/* Diagnosis rules, from the events and context they are given. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "diagnose.h"
#include "fixtures.h"

static void pressure(struct kheal_event *ev, const char *detail)
{
	ev_basic(ev, 0, 3);
	ev->source = KHEAL_SOURCE_PSI;
	ev_set(ev, KHEAL_A_KIND, KHEAL_EVENT_MEM_PRESSURE);
	ev_set(ev, KHEAL_A_SEVERITY, KHEAL_SEV_WARNING);
	ev_set_str(ev, KHEAL_A_CGROUP_PATH, "/work");
	if (detail)
		ev_set_str(ev, KHEAL_A_DETAIL, detail);
}

/*
 * The PSI source's top grower makes the pressure a leak: 0.6, +0.2 for
 * the grower, +0.1 for the stall in the context: the 0.9 of a kill.
 */
static void test_mem_pressure_with_top_grower_is_a_leak(void **state)
{
	Kheal__Context ctx = KHEAL__CONTEXT__INIT;
	const struct kheal_event *recent[1];
	struct kheal_diag_input in = { .subsystem = "memory:/work" };
	struct kheal_diagnosis d;
	struct kheal_event ev;

	(void)state;
	pressure(&ev, "some avg10=38.40 avg60=9.10 avg300=2.07 total=1234567; top grower pid 812 +98304 kB in 9750 ms: memhog");
	recent[0] = &ev;
	in.ev = &ev;
	in.recent = recent;
	in.nrecent = 1;
	ctx.psi_memory = "some avg10=38.40 avg60=9.10 avg300=2.07 total=1234567";
	in.ctx = &ctx;
	kheal_diagnose(&in, &d);
	assert_string_equal(d.rule, "mem-pressure");
	assert_string_equal(d.cause,
			    "memhog[812] leaks: it grew 98304 kB in 9750 ms, more than any other process of memory:/work, which stalls on memory");
	assert_true(d.confidence > 0.89 && d.confidence < 0.91);
	assert_string_equal(d.evidence[0],
			    "top grower memhog[812]: +98304 kB in 9750 ms (+0.20)");
}

/* Without a grower, pressure alone stays below a kill's gate. */
static void test_mem_pressure_without_grower_is_not_a_leak(void **state)
{
	Kheal__Context ctx = KHEAL__CONTEXT__INIT;
	struct kheal_diag_input in = { .subsystem = "memory:global" };
	struct kheal_diagnosis d;
	struct kheal_event ev;

	(void)state;
	pressure(&ev, "some avg10=38.40 avg60=9.10 avg300=2.07 total=1234567");
	ctx.psi_memory = "some avg10=38.40";
	in.ev = &ev;
	in.ctx = &ctx;
	kheal_diagnose(&in, &d);
	assert_string_equal(d.cause, "memory pressure on memory:global");
	assert_true(d.confidence > 0.69 && d.confidence < 0.71);

	/* A detail that only looks like one names nobody. */
	pressure(&ev, "top grower pid x");
	kheal_diagnose(&in, &d);
	assert_string_equal(d.cause, "memory pressure on memory:global");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mem_pressure_with_top_grower_is_a_leak),
		cmocka_unit_test(test_mem_pressure_without_grower_is_not_a_leak),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

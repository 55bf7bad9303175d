// SPDX-License-Identifier: GPL-2.0
/* The health registry: states, transitions, and what events imply. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"
#include "health.h"

#define H	KHEAL_HEALTHY
#define D	KHEAL_DEGRADED
#define F	KHEAL_FAILED
#define R	KHEAL_RECOVERING
#define I	KHEAL_ISOLATED
#define E	KHEAL_ESCALATED

/* ARCHITECTURE.md's states, as health.h documents the moves between them. */
static const bool allowed[KHEAL_HEALTH_NSTATES][KHEAL_HEALTH_NSTATES] = {
	/*	   H      D      F      R      I      E */
	[H] = { false, true,  true,  false, true,  false },
	[D] = { true,  false, true,  true,  true,  true  },
	[F] = { true,  false, false, true,  true,  true  },
	[R] = { true,  false, true,  false, true,  true  },
	[I] = { false, false, false, true,  false, true  },
	[E] = { true,  false, false, true,  true,  false },
};

/* A way from healthy to each state, through allowed moves only. */
static const enum kheal_health_state way[KHEAL_HEALTH_NSTATES][3] = {
	[H] = { H },
	[D] = { D },
	[F] = { F },
	[R] = { D, R },
	[I] = { I },
	[E] = { D, E },
};

struct record {
	int calls;
	enum kheal_health_state from, to;
	char cause[KHEAL_HEALTH_CAUSE_LEN];
	uint64_t time_ns;
	int fail;			/* -errno the hook returns */
};

static int hook(void *arg, const struct kheal_subsystem *sub,
		enum kheal_health_state to, const char *cause, uint64_t time_ns,
		struct kheal_err *err)
{
	struct record *r = arg;

	if (r->fail)
		return kheal_err_set(err, -r->fail, "journal is full");
	r->calls++;
	r->from = sub->state;
	r->to = to;
	snprintf(r->cause, sizeof(r->cause), "%s", cause);
	r->time_ns = time_ns;
	return 0;
}

static struct kheal_subsystem *task(struct kheal_health *h, const char *pid)
{
	struct kheal_err err = { { 0 } };
	struct kheal_subsystem *sub = NULL;

	assert_int_equal(kheal_health_get(h, KHEAL_SUBSYS_TASK, pid, 1, &sub,
					  &err), 0);
	return sub;
}

static void reach(struct kheal_health *h, struct kheal_subsystem *sub,
		  enum kheal_health_state state)
{
	struct kheal_err err = { { 0 } };
	size_t i;

	for (i = 0; i < 3 && (i == 0 || way[state][i] != H); i++)
		assert_int_equal(kheal_health_transition(h, sub, way[state][i],
							 "setup", 2, &err), 0);
	assert_int_equal(sub->state, state);
}

static void test_every_allowed_transition_is_made_and_recorded(void **state)
{
	struct kheal_err err = { { 0 } };
	struct kheal_subsystem *sub;
	struct kheal_health h;
	struct record r = { 0 };
	int from, to;

	(void)state;
	for (from = 0; from < KHEAL_HEALTH_NSTATES; from++) {
		for (to = 0; to < KHEAL_HEALTH_NSTATES; to++) {
			if (!allowed[from][to])
				continue;
			kheal_health_init(&h, hook, &r);
			sub = task(&h, "1");
			reach(&h, sub, from);
			r.calls = 0;
			assert_true(kheal_health_allowed(from, to));
			assert_int_equal(kheal_health_transition(&h, sub, to,
								 "because", 99,
								 &err), 0);
			assert_int_equal(sub->state, to);
			assert_int_equal(sub->since_ns, 99);
			assert_string_equal(sub->cause, "because");
			assert_int_equal(r.calls, 1);
			assert_int_equal(r.from, from);
			assert_int_equal(r.to, to);
			assert_string_equal(r.cause, "because");
			assert_int_equal(r.time_ns, 99);
			kheal_health_free(&h);
		}
	}
}

static void test_forbidden_transitions_are_refused_naming_both(void **state)
{
	struct kheal_err err = { { 0 } };
	struct kheal_subsystem *sub;
	struct kheal_health h;
	struct record r = { 0 };
	char msg[128];
	int from, to, refused = 0;

	(void)state;
	for (from = 0; from < KHEAL_HEALTH_NSTATES; from++) {
		for (to = 0; to < KHEAL_HEALTH_NSTATES; to++) {
			if (from == to || allowed[from][to])
				continue;
			kheal_health_init(&h, hook, &r);
			sub = task(&h, "1");
			reach(&h, sub, from);
			r.calls = 0;
			assert_false(kheal_health_allowed(from, to));
			assert_int_equal(kheal_health_transition(&h, sub, to,
								 "because", 99,
								 &err),
					 -EINVAL);
			snprintf(msg, sizeof(msg),
				 "task:1: %s -> %s is not an allowed transition",
				 kheal_health_state_name(from),
				 kheal_health_state_name(to));
			assert_string_equal(err.msg, msg);
			assert_int_equal(sub->state, from);
			assert_int_equal(r.calls, 0);
			kheal_health_free(&h);
			refused++;
		}
	}
	assert_int_equal(refused, 9);
}

static void test_the_documented_cycle_is_allowed(void **state)
{
	(void)state;
	assert_true(kheal_health_allowed(H, D));
	assert_true(kheal_health_allowed(D, F));
	assert_true(kheal_health_allowed(F, R));
	assert_true(kheal_health_allowed(R, H));
	assert_false(kheal_health_allowed(H, R));
	assert_false(kheal_health_allowed(I, H));
	assert_false(kheal_health_allowed(H, KHEAL_HEALTH_NSTATES));
}

static void test_staying_put_is_no_transition(void **state)
{
	struct kheal_err err = { { 0 } };
	struct kheal_subsystem *sub;
	struct kheal_health h;
	struct record r = { 0 };

	(void)state;
	kheal_health_init(&h, hook, &r);
	sub = task(&h, "1");
	assert_int_equal(kheal_health_transition(&h, sub, H, "again", 5, &err),
			 0);
	assert_int_equal(r.calls, 0);
	assert_int_equal(sub->since_ns, 1);
	kheal_health_free(&h);
}

static void test_hook_failure_leaves_the_state_unchanged(void **state)
{
	struct kheal_err err = { { 0 } };
	struct kheal_subsystem *sub;
	struct kheal_health h;
	struct record r = { .fail = -ENOSPC };

	(void)state;
	kheal_health_init(&h, hook, &r);
	sub = task(&h, "1");
	assert_int_equal(kheal_health_transition(&h, sub, D, "hung", 5, &err),
			 -ENOSPC);
	assert_string_equal(err.msg,
			    "task:1: recording healthy -> degraded: journal is full");
	assert_int_equal(sub->state, H);
	assert_int_equal(kheal_health_count(&h, H), 1);
	assert_int_equal(kheal_health_count(&h, D), 0);
	kheal_health_free(&h);
}

static void test_subsystems_are_created_healthy_on_first_mention(void **state)
{
	struct kheal_err err = { { 0 } };
	struct kheal_subsystem *a, *b, *c;
	struct kheal_health h;

	(void)state;
	kheal_health_init(&h, NULL, NULL);
	assert_null(kheal_health_find(&h, KHEAL_SUBSYS_NETDEV, "eth0"));
	assert_int_equal(kheal_health_get(&h, KHEAL_SUBSYS_NETDEV, "eth0", 7,
					  &a, &err), 0);
	assert_int_equal(a->state, H);
	assert_int_equal(a->since_ns, 7);
	assert_int_equal(kheal_health_get(&h, KHEAL_SUBSYS_NETDEV, "eth0", 8,
					  &b, &err), 0);
	assert_ptr_equal(a, b);
	assert_int_equal(b->since_ns, 7);
	/* The same name under another type is another subsystem. */
	assert_int_equal(kheal_health_get(&h, KHEAL_SUBSYS_BLOCK, "eth0", 8,
					  &c, &err), 0);
	assert_ptr_not_equal(a, c);
	assert_ptr_equal(kheal_health_find(&h, KHEAL_SUBSYS_NETDEV, "eth0"), a);
	assert_int_equal(h.n, 2);
	kheal_health_free(&h);
}

static void test_overlong_names_are_refused(void **state)
{
	struct kheal_err err = { { 0 } };
	char name[KHEAL_SUBSYS_NAME_LEN + 1];
	struct kheal_subsystem *sub;
	struct kheal_health h;

	(void)state;
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	kheal_health_init(&h, NULL, NULL);
	assert_int_equal(kheal_health_get(&h, KHEAL_SUBSYS_CGROUP, name, 1,
					  &sub, &err), -ENAMETOOLONG);
	assert_int_equal(h.n, 0);
	kheal_health_free(&h);
}

static void test_counts_follow_every_state_and_iteration_order(void **state)
{
	struct kheal_err err = { { 0 } };
	struct kheal_subsystem *a, *b, *c, *sub;
	struct kheal_health h;
	const char *names[3];
	size_t i;

	(void)state;
	kheal_health_init(&h, NULL, NULL);
	a = task(&h, "3");
	b = task(&h, "1");
	c = task(&h, "2");
	assert_int_equal(kheal_health_count(&h, H), 3);
	assert_int_equal(kheal_health_transition(&h, a, D, "x", 2, &err), 0);
	assert_int_equal(kheal_health_transition(&h, b, F, "x", 2, &err), 0);
	assert_int_equal(kheal_health_transition(&h, b, E, "x", 2, &err), 0);
	assert_int_equal(kheal_health_count(&h, H), 1);
	assert_int_equal(kheal_health_count(&h, D), 1);
	assert_int_equal(kheal_health_count(&h, F), 0);
	assert_int_equal(kheal_health_count(&h, E), 1);
	assert_int_equal(kheal_health_count(&h, KHEAL_HEALTH_NSTATES), 0);
	(void)c;
	kheal_health_for_each(&h, i, sub)
		names[i] = sub->name;
	assert_int_equal(i, 3);
	assert_string_equal(names[0], "3");
	assert_string_equal(names[1], "1");
	assert_string_equal(names[2], "2");
	kheal_health_free(&h);
}

static void test_ids_read_type_colon_name(void **state)
{
	char id[KHEAL_HEALTH_ID_LEN];

	(void)state;
	assert_int_equal(kheal_health_id(KHEAL_SUBSYS_CGROUP, "/a.slice", id,
					 sizeof(id)), 15);
	assert_string_equal(id, "cgroup:/a.slice");
	assert_int_equal(kheal_health_id(KHEAL_SUBSYS_KERNEL, "", id,
					 sizeof(id)), 6);
	assert_string_equal(id, "kernel");
	assert_int_equal(kheal_health_id(KHEAL_SUBSYS_MEMORY, "global", id, 8),
			 -ENOSPC);
	assert_string_equal(kheal_subsys_type_name(KHEAL_SUBSYS_FILESYSTEM),
			    "filesystem");
	assert_null(kheal_subsys_type_name(KHEAL_SUBSYS_NTYPES));
}

/* What @ev names, as an id, and the state it implies. */
static void assert_target(const struct kheal_event *ev, const char *want_id,
			  enum kheal_health_state want)
{
	struct kheal_err err = { { 0 } };
	struct kheal_health_target t;
	char id[KHEAL_HEALTH_ID_LEN];

	if (kheal_health_event_target(ev, &t, &err))
		fail_msg("%s", err.msg);
	assert_true(kheal_health_id(t.type, t.name, id, sizeof(id)) > 0);
	assert_string_equal(id, want_id);
	assert_int_equal(t.state, want);
}

static void event(struct kheal_event *ev, uint32_t kind, uint32_t severity)
{
	ev_basic(ev, 1, 7);
	ev_set(ev, KHEAL_A_KIND, kind);
	ev_set(ev, KHEAL_A_SEVERITY, severity);
}

static void test_task_events_name_the_task_by_pid(void **state)
{
	struct kheal_event ev;

	(void)state;
	ev_example(&ev);
	assert_target(&ev, "task:55", D);
	ev.severity = KHEAL_SEV_ERROR;
	assert_target(&ev, "task:55", F);
	/* As kmod sends it: no cgroup, still the same task. */
	event(&ev, KHEAL_EVENT_HUNG_TASK_RESOLVED, KHEAL_SEV_INFO);
	ev_set(&ev, KHEAL_A_PID, 55);
	assert_target(&ev, "task:55", H);
	event(&ev, KHEAL_EVENT_TASK_CRASH, KHEAL_SEV_WARNING);
	ev_set(&ev, KHEAL_A_PID, 9);
	assert_target(&ev, "task:9", F);
}

static void test_oom_kill_fails_its_memcg_or_global_memory(void **state)
{
	struct kheal_event ev;

	(void)state;
	event(&ev, KHEAL_EVENT_OOM_KILL, KHEAL_SEV_ERROR);
	ev_set_str(&ev, KHEAL_A_CGROUP_PATH, "/system.slice/a.service");
	ev_set(&ev, KHEAL_A_OOM_CONSTRAINT, KHEAL_OOM_MEMCG);
	assert_target(&ev, "memory:/system.slice/a.service", F);
	ev_set(&ev, KHEAL_A_OOM_CONSTRAINT, KHEAL_OOM_GLOBAL);
	assert_target(&ev, "memory:global", F);
	ev_set(&ev, KHEAL_A_OOM_CONSTRAINT, KHEAL_OOM_UNKNOWN);
	assert_target(&ev, "memory:global", F);
	event(&ev, KHEAL_EVENT_MEM_PRESSURE, KHEAL_SEV_WARNING);
	ev_set_str(&ev, KHEAL_A_CGROUP_PATH, "/");
	assert_target(&ev, "memory:global", D);
	ev_set_str(&ev, KHEAL_A_CGROUP_PATH, "/b.slice");
	assert_target(&ev, "memory:/b.slice", D);
}

static void test_device_and_kernel_events_name_their_subsystem(void **state)
{
	struct kheal_event ev;

	(void)state;
	event(&ev, KHEAL_EVENT_NETDEV_TX_TIMEOUT, KHEAL_SEV_ERROR);
	ev_set_str(&ev, KHEAL_A_DEV, "eth0");
	assert_target(&ev, "netdev:eth0", F);
	event(&ev, KHEAL_EVENT_NETDEV_CARRIER, KHEAL_SEV_WARNING);
	ev_set_str(&ev, KHEAL_A_DEV, "eth1");
	assert_target(&ev, "netdev:eth1", D);
	/* kheal.ko's "carrier up": the loss it reported is over. */
	event(&ev, KHEAL_EVENT_NETDEV_CARRIER, KHEAL_SEV_INFO);
	ev_set_str(&ev, KHEAL_A_DEV, "eth1");
	assert_target(&ev, "netdev:eth1", H);
	event(&ev, KHEAL_EVENT_BLOCK_IO_ERROR, KHEAL_SEV_ERROR);
	ev_set_str(&ev, KHEAL_A_DEV, "sda");
	assert_target(&ev, "block:sda", F);
	event(&ev, KHEAL_EVENT_DISK_STALL, KHEAL_SEV_WARNING);
	ev_set_str(&ev, KHEAL_A_DEV, "nvme0n1");
	assert_target(&ev, "block:nvme0n1", D);
	event(&ev, KHEAL_EVENT_SOFT_LOCKUP, KHEAL_SEV_WARNING);
	assert_target(&ev, "kernel", D);
	event(&ev, KHEAL_EVENT_RCU_STALL, KHEAL_SEV_CRITICAL);
	assert_target(&ev, "kernel", F);
	event(&ev, KHEAL_EVENT_OOPS, KHEAL_SEV_WARNING);
	assert_target(&ev, "kernel", F);
}

static void test_events_lacking_their_name_are_refused(void **state)
{
	struct kheal_err err = { { 0 } };
	struct kheal_health_target t;
	struct kheal_event ev;

	(void)state;
	event(&ev, KHEAL_EVENT_NETDEV_TX_TIMEOUT, KHEAL_SEV_ERROR);
	assert_int_equal(kheal_health_event_target(&ev, &t, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "event 7 (netdev_tx_timeout) names no device: it has no dev");
	event(&ev, KHEAL_EVENT_HUNG_TASK, KHEAL_SEV_WARNING);
	assert_int_equal(kheal_health_event_target(&ev, &t, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "event 7 (hung_task) names no task: it has no pid");
	event(&ev, KHEAL_EVENT_SYNTHETIC, KHEAL_SEV_INFO);
	assert_int_equal(kheal_health_event_target(&ev, &t, &err), -ENOENT);
	assert_string_equal(err.msg, "event 7 (synthetic) names no subsystem");
	event(&ev, KHEAL_EVENT_MAX + 1, KHEAL_SEV_INFO);
	assert_int_equal(kheal_health_event_target(&ev, &t, &err), -ENOENT);
	assert_string_equal(err.msg, "event 7 (unknown kind) names no subsystem");
}

static void test_every_real_event_kind_names_a_subsystem(void **state)
{
	struct kheal_err err = { { 0 } };
	struct kheal_health_target t;
	struct kheal_event ev;
	uint32_t kind;

	(void)state;
	for (kind = KHEAL_EVENT_UNSPEC + 1; kind < KHEAL_EVENT_SYNTHETIC;
	     kind++) {
		ev_example(&ev);
		ev_set(&ev, KHEAL_A_KIND, kind);
		ev_set_str(&ev, KHEAL_A_DEV, "dev0");
		if (kheal_health_event_target(&ev, &t, &err))
			fail_msg("%s: %s", kheal_kind_name(kind), err.msg);
	}
}

static void test_hung_then_resolved_degrades_and_heals(void **state)
{
	struct kheal_err err = { { 0 } };
	struct kheal_subsystem *sub;
	struct kheal_health h;
	struct record r = { 0 };
	struct kheal_event ev;

	(void)state;
	kheal_health_init(&h, hook, &r);
	ev_example(&ev);
	assert_int_equal(kheal_health_observe(&h, &ev, 10, &sub, &err), 1);
	assert_string_equal(sub->name, "55");
	assert_int_equal(sub->state, D);
	assert_string_equal(r.cause, "hung_task (warning), event 7");
	assert_int_equal(r.time_ns, 10);
	/* Reported again: nothing to record. */
	assert_int_equal(kheal_health_observe(&h, &ev, 11, &sub, &err), 0);
	assert_int_equal(r.calls, 1);
	event(&ev, KHEAL_EVENT_HUNG_TASK_RESOLVED, KHEAL_SEV_INFO);
	ev_set(&ev, KHEAL_A_PID, 55);
	ev_set(&ev, KHEAL_A_SEQ, 8);
	assert_int_equal(kheal_health_observe(&h, &ev, 12, &sub, &err), 1);
	assert_int_equal(sub->state, H);
	assert_string_equal(sub->cause, "hung_task_resolved (info), event 8");
	assert_int_equal(h.n, 1);
	kheal_health_free(&h);
}

static void test_events_never_override_a_decision(void **state)
{
	struct kheal_err err = { { 0 } };
	struct kheal_subsystem *sub;
	struct kheal_health h;
	struct kheal_event ev;

	(void)state;
	kheal_health_init(&h, NULL, NULL);
	/* A failed memory domain is not demoted by a warning. */
	event(&ev, KHEAL_EVENT_OOM_KILL, KHEAL_SEV_ERROR);
	assert_int_equal(kheal_health_observe(&h, &ev, 1, &sub, &err), 1);
	assert_int_equal(sub->state, F);
	event(&ev, KHEAL_EVENT_MEM_PRESSURE, KHEAL_SEV_WARNING);
	assert_int_equal(kheal_health_observe(&h, &ev, 2, &sub, &err), 0);
	assert_int_equal(sub->state, F);
	/* An escalated task stays with its human. */
	ev_example(&ev);
	assert_int_equal(kheal_health_observe(&h, &ev, 3, &sub, &err), 1);
	assert_int_equal(kheal_health_transition(&h, sub, E, "novel", 4, &err),
			 0);
	ev.severity = KHEAL_SEV_ERROR;
	assert_int_equal(kheal_health_observe(&h, &ev, 5, &sub, &err), 0);
	assert_int_equal(sub->state, E);
	kheal_health_free(&h);
}

#define T(f)	cmocka_unit_test(f)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_every_allowed_transition_is_made_and_recorded),
		T(test_forbidden_transitions_are_refused_naming_both),
		T(test_the_documented_cycle_is_allowed),
		T(test_staying_put_is_no_transition),
		T(test_hook_failure_leaves_the_state_unchanged),
		T(test_subsystems_are_created_healthy_on_first_mention),
		T(test_overlong_names_are_refused),
		T(test_counts_follow_every_state_and_iteration_order),
		T(test_ids_read_type_colon_name),
		T(test_task_events_name_the_task_by_pid),
		T(test_oom_kill_fails_its_memcg_or_global_memory),
		T(test_device_and_kernel_events_name_their_subsystem),
		T(test_events_lacking_their_name_are_refused),
		T(test_every_real_event_kind_names_a_subsystem),
		T(test_hung_then_resolved_degrades_and_heals),
		T(test_events_never_override_a_decision),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

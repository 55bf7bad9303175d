// SPDX-License-Identifier: GPL-2.0
/*
 * The kmsg source against a fake /dev/kmsg: a pipe the tests write
 * records into, read by the source's handle() as the daemon would.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "source_kmsg.h"

#define BOOT	0x1234abcd5678ef90ULL

static struct {
	struct kheal_event ev[8];
	int n;
	int notes;
} got;

static int on_event(const struct kheal_event *ev, void *arg)
{
	(void)arg;
	assert_true(got.n < 8);
	got.ev[got.n++] = *ev;
	return 0;
}

static void on_note(const char *msg, void *arg)
{
	(void)arg;
	(void)msg;
	got.notes++;
}

struct fake {
	struct kheal_source src;
	int wfd;
};

static void fake_open(struct fake *f, const struct kheal_seq *resume)
{
	struct kheal_err err = { "" };
	int p[2];

	memset(&got, 0, sizeof(got));
	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	f->src = (struct kheal_source){
		.ops = &kheal_source_kmsg_ops,
		.cb = { .event = on_event, .note = on_note },
	};
	if (resume)
		f->src.resume = *resume;
	f->wfd = p[1];
	assert_int_equal(kheal_source_kmsg_attach(&f->src, p[0], BOOT, &err),
			 0);
}

static void feed(struct fake *f, const char *text)
{
	struct kheal_err err = { "" };

	assert_int_equal(write(f->wfd, text, strlen(text)),
			 (ssize_t)strlen(text));
	assert_int_equal(f->src.ops->handle(&f->src, &err), 0);
}

static void fake_close(struct fake *f)
{
	close(f->wfd);
	f->src.ops->close(&f->src);
}

#define LOCKUP	"0,812,25123456,-;watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [kheal-lockup:93]\n"

static void test_soft_lockup_is_an_event_with_cpu_task_and_time(void **state)
{
	struct fake f;
	const struct kheal_event *ev = &got.ev[0];

	(void)state;
	fake_open(&f, NULL);
	feed(&f, LOCKUP);
	assert_int_equal(got.n, 1);
	assert_int_equal(ev->source, KHEAL_SOURCE_KMSG);
	assert_int_equal(ev->kind, KHEAL_EVENT_SOFT_LOCKUP);
	assert_int_equal(ev->severity, KHEAL_SEV_CRITICAL);
	assert_string_equal(ev->subsys, "kernel");
	assert_int_equal(ev->instance, BOOT);
	assert_int_equal(ev->seq, 813);
	assert_int_equal(ev->time_ns, 25123456000ULL);
	assert_int_equal(ev->pid, 93);
	assert_string_equal(ev->comm, "kheal-lockup");
	assert_int_equal(ev->duration_ms, 22000);
	assert_string_equal(ev->detail, "CPU#1 stuck for 22s");
	assert_true(ev->present & (1ULL << KHEAL_A_PID));
	assert_true(ev->present & (1ULL << KHEAL_A_DETAIL));
	fake_close(&f);
}

/* A comm with ':' and ']' in it: the pid is after the last ':'. */
static void test_soft_lockup_of_an_odd_comm(void **state)
{
	struct fake f;

	(void)state;
	fake_open(&f, NULL);
	feed(&f, "0,5,1,-;watchdog: BUG: soft lockup - CPU#0 stuck for 23s! [a:b]c:7]\n");
	assert_int_equal(got.n, 1);
	assert_string_equal(got.ev[0].comm, "a:b]c");
	assert_int_equal(got.ev[0].pid, 7);
	fake_close(&f);
}

static void test_oops_and_warning_are_oops_events(void **state)
{
	struct fake f;

	(void)state;
	fake_open(&f, NULL);
	feed(&f, "4,10,100,-;------------[ cut here ]------------\n"
		 "4,11,101,-;WARNING: CPU: 1 PID: 42 at drivers/x.c:12 foo+0x1/0x2 [x]\n"
		 " SUBSYSTEM=cpu\n"
		 "0,12,102,-;Oops: 0002 [#1] PREEMPT SMP NOPTI\n"
		 "0,13,103,-;BUG: unable to handle page fault for address: 0000000000000008\n");
	assert_int_equal(got.n, 3);
	assert_int_equal(got.ev[0].kind, KHEAL_EVENT_OOPS);
	assert_int_equal(got.ev[0].severity, KHEAL_SEV_WARNING);
	assert_int_equal(got.ev[0].pid, 42);
	assert_string_equal(got.ev[0].detail,
			    "WARNING at drivers/x.c:12 foo+0x1/0x2 [x]");
	assert_int_equal(got.ev[1].severity, KHEAL_SEV_CRITICAL);
	assert_string_equal(got.ev[1].detail,
			    "Oops: 0002 [#1] PREEMPT SMP NOPTI");
	assert_int_equal(got.ev[2].seq, 14);
	fake_close(&f);
}

/* The tracepoint reports RCU stalls; other lines are no event. */
static void test_rcu_stall_and_other_lines_are_not_reported(void **state)
{
	struct fake f;

	(void)state;
	fake_open(&f, NULL);
	feed(&f, "3,20,200,-;rcu: INFO: rcu_preempt self-detected stall on CPU\n"
		 "6,21,201,-;BUG: not a rule of ours\n"
		 "6,22,202,-;kheal: v0.1.0 loaded\n");
	assert_int_equal(got.n, 0);
	assert_int_equal(got.notes, 0);
	fake_close(&f);
}

/* Restarted in the same boot: nothing journalled is reported again. */
static void test_records_journalled_in_this_boot_are_skipped(void **state)
{
	struct kheal_seq same = { .known = true, .instance = BOOT,
				  .last = 813 };
	struct kheal_seq other = { .known = true, .instance = BOOT + 1,
				   .last = 900 };
	struct fake f;

	(void)state;
	fake_open(&f, &same);
	feed(&f, LOCKUP);
	feed(&f, "0,830,26000000,-;watchdog: BUG: soft lockup - CPU#1 stuck for 23s! [kheal-lockup:93]\n");
	assert_int_equal(got.n, 1);
	assert_int_equal(got.ev[0].seq, 831);
	fake_close(&f);

	/* Another boot's numbers say nothing about this one's. */
	fake_open(&f, &other);
	feed(&f, LOCKUP);
	assert_int_equal(got.n, 1);
	fake_close(&f);
}

/* A record split across reads waits for its end; a bad one is noted. */
static void test_partial_and_malformed_records(void **state)
{
	struct fake f;

	(void)state;
	fake_open(&f, NULL);
	feed(&f, "0,812,25123456,-;watchdog: BUG: soft lo");
	assert_int_equal(got.n, 0);
	feed(&f, "ckup - CPU#1 stuck for 22s! [kheal-lockup:93]\n");
	assert_int_equal(got.n, 1);
	feed(&f, "garbage without a prefix\n0,x,1,-;Oops: 1\n");
	assert_int_equal(got.n, 1);
	assert_int_equal(got.notes, 2);
	fake_close(&f);
}

static void test_boot_id_gives_the_instance(void **state)
{
	char path[] = "/tmp/kheal-bootid-XXXXXX";
	struct kheal_err err = { "" };
	uint64_t inst = 0;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "1234abcd-5678-ef90-aaaa-bbbbccccdddd\n", 37),
			 37);
	close(fd);
	assert_int_equal(kheal_kmsg_boot_instance(path, &inst, &err), 0);
	assert_int_equal(inst, BOOT);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "short\n", 6), 6);
	close(fd);
	assert_int_equal(kheal_kmsg_boot_instance(path, &inst, &err),
			 -EBADMSG);
	assert_non_null(strstr(err.msg, "not a boot id"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_soft_lockup_is_an_event_with_cpu_task_and_time),
		cmocka_unit_test(test_soft_lockup_of_an_odd_comm),
		cmocka_unit_test(test_oops_and_warning_are_oops_events),
		cmocka_unit_test(test_rcu_stall_and_other_lines_are_not_reported),
		cmocka_unit_test(test_records_journalled_in_this_boot_are_skipped),
		cmocka_unit_test(test_partial_and_malformed_records),
		cmocka_unit_test(test_boot_id_gives_the_instance),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

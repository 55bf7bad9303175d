// SPDX-License-Identifier: GPL-2.0
/*
 * The PSI source: pressure files parsed, triggers written as the kernel
 * wants them (on files standing in for /proc/pressure), the decisions
 * on a firing (windows, the host explained by a cgroup), the event and
 * its detail; and, as root with PSI, the source on the real kernel:
 * triggers registered, cgroups found and dropped as they come and go.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgroup.h"
#include "source_psi.h"

#define MS	1000000ULL

static char tmp[] = "/tmp/kheal-test-psi-XXXXXX";

#define assert_contains(s, sub)						\
	do {								\
		if (!strstr((s), (sub)))				\
			fail_msg("'%s' lacks '%s'", (s), (sub));	\
	} while (0)

static void put(const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* Both formats: /proc/pressure/memory and a cgroup's memory.pressure. */
static void test_pressure_text_parsed(void **state)
{
	struct kheal_psi p;

	(void)state;
	assert_int_equal(kheal_psi_parse(
		"some avg10=12.50 avg60=3.01 avg300=0.66 total=123456789\n"
		"full avg10=1.00 avg60=0.20 avg300=0.04 total=4567\n", &p), 0);
	assert_true(p.some.avg10 > 12.49 && p.some.avg10 < 12.51);
	assert_true(p.some.avg300 > 0.65 && p.some.avg300 < 0.67);
	assert_int_equal(p.some.total_us, 123456789);
	assert_true(p.has_full);
	assert_int_equal(p.full.total_us, 4567);

	assert_int_equal(kheal_psi_parse(
		"some avg10=0.00 avg60=0.00 avg300=0.00 total=0", &p), 0);
	assert_false(p.has_full);

	assert_int_equal(kheal_psi_parse("", &p), -EINVAL);
	assert_int_equal(kheal_psi_parse(
		"full avg10=1.00 avg60=0.20 avg300=0.04 total=4567\n", &p),
		-EINVAL);
	assert_int_equal(kheal_psi_parse("some avg10=x avg60=0 avg300=0 total=1\n",
					 &p), -EINVAL);
	assert_int_equal(kheal_psi_parse(
		"some avg10=1.00 avg60=0.20 avg300=0.04 total=45 junk\n", &p),
		-EINVAL);
}

/* The kernel's line, or a shorter one where it does not fit. */
static void test_pressure_line_formatted(void **state)
{
	struct kheal_psi_line l = {
		.avg10 = 45.5, .avg60 = 10, .avg300 = 2.25,
		.total_us = 987654,
	};
	char buf[128];

	(void)state;
	assert_int_equal(kheal_psi_format(&l, buf, sizeof(buf)), 53);
	assert_string_equal(buf,
			    "some avg10=45.50 avg60=10.00 avg300=2.25 total=987654");
	assert_true(kheal_psi_format(&l, buf, 40) > 0);
	assert_string_equal(buf, "some avg10=45.50 total=987654");
	assert_int_equal(kheal_psi_format(&l, buf, 10), -ENOSPC);
	assert_string_equal(buf, "");
}

/*
 * "some STALL WINDOW" and its NUL, which the kernel wants (it makes the
 * last byte it is given one); the descriptor holds the trigger.
 */
static void test_trigger_written_with_its_nul(void **state)
{
	struct kheal_err err = { "" };
	char path[PATH_MAX], buf[64];
	int fd, dirfd;
	ssize_t n;

	(void)state;
	put("memory.pressure", "");
	dirfd = open(tmp, O_RDONLY | O_DIRECTORY);
	assert_true(dirfd >= 0);
	fd = kheal_psi_trigger_open(dirfd, "memory.pressure", 150000, 1000000,
				    &err);
	assert_true(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/memory.pressure", tmp);
	fd = open(path, O_RDONLY);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	assert_int_equal(n, sizeof("some 150000 1000000"));
	assert_memory_equal(buf, "some 150000 1000000", n);

	assert_int_equal(kheal_psi_trigger_open(dirfd, "missing", 150000,
						1000000, &err), -ENOENT);
	assert_contains(err.msg, "missing: no such file: PSI needs Linux 4.20");
	close(dirfd);
}

/* The stall in the last window, from samples a quarter second apart. */
static void test_stall_over_the_window(void **state)
{
	struct kheal_psi_hist h = { .n = 0 };
	uint64_t span, i;

	(void)state;
	assert_int_equal(kheal_psi_hist_stall(&h, 1000 * MS, 5, 1000 * MS,
					      &span), 0);
	assert_int_equal(span, 0);
	/* 100 ms of stall per 250 ms sample, from t = 0. */
	for (i = 0; i <= 8; i++)
		kheal_psi_hist_push(&h, i * 250 * MS, i * 100000);
	/* At 2.1 s, total 850 ms: from the entry at 1.0 s (400 ms). */
	assert_int_equal(kheal_psi_hist_stall(&h, 2100 * MS, 850000,
					      1000 * MS, &span), 450000);
	assert_int_equal(span, 1100 * MS);
	/* A window longer than the history: from the oldest. */
	assert_int_equal(kheal_psi_hist_stall(&h, 2100 * MS, 850000,
					      5000 * MS, &span), 850000);
	assert_int_equal(span, 2100 * MS);
	/* The history keeps its newest entries only. */
	for (i = 9; i < 9 + 2 * KHEAL_PSI_HIST; i++)
		kheal_psi_hist_push(&h, i * 250 * MS, i * 100000);
	assert_int_equal(h.n, KHEAL_PSI_HIST);
	assert_int_equal(h.v[h.n - 1].total_us, (i - 1) * 100000);
}

/*
 * A cgroup at its limit stalls the host as much as itself: the host is
 * reported when it stalled a trigger's worth more than any cgroup.
 */
static void test_host_explained_by_a_cgroup(void **state)
{
	(void)state;
	assert_true(kheal_psi_explained(400000, 400000, 150000));
	assert_true(kheal_psi_explained(500000, 400000, 150000));
	assert_false(kheal_psi_explained(550000, 400000, 150000));
	assert_false(kheal_psi_explained(300000, 0, 150000));
}

/* The event: the attributes every event has, the cgroup, the detail. */
static void test_event_names_pressure_and_top_grower(void **state)
{
	struct kheal_psi_line l = {
		.avg10 = 38.4, .avg60 = 9.1, .avg300 = 2.07,
		.total_us = 1234567,
	};
	struct kheal_grower g = {
		.pid = 812, .growth_kb = 98304, .span_ms = 9750,
		.comm = "memhog",
	};
	struct kheal_event ev;
	char line[KHEAL_EVENT_LINE_MAX];

	(void)state;
	kheal_source_psi_event(&ev, "/work", 77, &l, &g, 5000);
	assert_int_equal(ev.source, KHEAL_SOURCE_PSI);
	assert_int_equal(ev.kind, KHEAL_EVENT_MEM_PRESSURE);
	assert_int_equal(ev.severity, KHEAL_SEV_WARNING);
	assert_string_equal(ev.subsys, "memory");
	assert_string_equal(ev.cgroup_path, "/work");
	assert_true(kheal_event_has(&ev, KHEAL_A_CGROUP_ID));
	assert_string_equal(ev.detail,
			    "some avg10=38.40 avg60=9.10 avg300=2.07 total=1234567; top grower pid 812 +98304 kB in 9750 ms: memhog");
	assert_true(kheal_event_json(&ev, line, sizeof(line)) > 0);
	assert_contains(line, "\"kind\":\"mem_pressure\"");
	assert_contains(line, "\"source\":\"psi\"");

	/* The host, nobody growing: the line alone. */
	kheal_source_psi_event(&ev, "/", 0, &l, NULL, 5000);
	assert_string_equal(ev.cgroup_path, "/");
	assert_false(kheal_event_has(&ev, KHEAL_A_CGROUP_ID));
	assert_string_equal(ev.detail,
			    "some avg10=38.40 avg60=9.10 avg300=2.07 total=1234567");

	/* Long numbers: the short line keeps the grower whole. */
	l.total_us = 12345678901234567ULL;
	g.growth_kb = 123456789012ULL;
	snprintf(g.comm, sizeof(g.comm), "a-fifteen-chars");
	kheal_source_psi_event(&ev, "/work", 77, &l, &g, 5000);
	assert_true(strlen(ev.detail) < KHEAL_DETAIL_LEN);
	assert_contains(ev.detail, "some avg10=38.40 total=12345678901234567; ");
	assert_contains(ev.detail, ": a-fifteen-chars");
}

/* The real kernel: root, PSI, and triggers this process may register. */
static char real_root[256], real_cg[64], real_dir[512];
static struct kheal_psi_config real_cfg;
static struct kheal_memtrack real_track;
static struct kheal_source real_src;
static char notes[4096];

static void on_note(const char *msg, void *arg)
{
	size_t len = strlen(notes);

	(void)arg;
	snprintf(notes + len, sizeof(notes) - len, "%s\n", msg);
}

static int on_event(const struct kheal_event *ev, void *arg)
{
	(void)ev;
	(void)arg;
	return 0;
}

static int real_setup(void **state)
{
	struct kheal_err err;
	int fd;

	*state = NULL;
	if (geteuid() || !kheal_cgroup_find_root("/proc/self/mounts",
						 real_root, sizeof(real_root)))
		return 0;
	/* Without CAP_SYS_RESOURCE (6.5+), windows are multiples of 2 s. */
	fd = kheal_psi_trigger_open(AT_FDCWD, "/proc/pressure/memory", 150000,
				    2000000, &err);
	if (fd < 0)
		return 0;
	close(fd);
	snprintf(real_cg, sizeof(real_cg), "/kheal-test-psi-%d", (int)getpid());
	snprintf(real_dir, sizeof(real_dir), "%s%s", real_root, real_cg);
	kheal_memtrack_init(&real_track, "/proc", real_root,
			    KHEAL_MEMTRACK_WINDOW_MS);
	real_cfg = (struct kheal_psi_config){
		.stall_us = 150000,
		.window_us = 2000000,
		.cgroup_root = real_root,
		.proc_root = "/proc",
		.self = getpid(),
		.memtrack = &real_track,
	};
	real_src = (struct kheal_source){
		.ops = &kheal_source_psi_ops,
		.cb = { .event = on_event, .note = on_note },
		.cfg = { .psi = &real_cfg },
		.resume = { .known = true, .last = 41 },
	};
	notes[0] = '\0';
	*state = real_dir;
	return 0;
}

static int real_teardown(void **state)
{
	if (!*state)
		return 0;
	rmdir(real_dir);
	kheal_memtrack_free(&real_track);
	return 0;
}

/* What the source says of the watch @name: -1 absent, else attached. */
static int probe(const char *name)
{
	struct kheal_source_state st;
	unsigned int i;

	real_src.ops->state(&real_src, &st);
	for (i = 0; i < st.nprobes; i++)
		if (!strcmp(st.probes[i].name, name))
			return st.probes[i].attached;
	return -1;
}

/* Handles the tokens of the next @ms milliseconds. */
static void run_for(int ms)
{
	struct pollfd pfd = { .fd = real_src.ops->fd(&real_src),
			      .events = POLLIN };
	struct kheal_err err;
	int i;

	for (i = 0; i < ms / 50; i++)
		if (poll(&pfd, 1, 50) > 0)
			assert_int_equal(real_src.ops->handle(&real_src, &err),
					 0);
}

/*
 * Every first-level cgroup is watched as it comes and dropped as it
 * goes; the tracker is sampled on the source's timer; seq resumes.
 */
static void test_real_cgroups_come_and_go(void **state)
{
	struct kheal_source_state st;
	struct kheal_err err = { "" };
	char name[80];

	if (!*state) {
		print_message("[  SKIP    ] needs root, cgroup v2 and PSI triggers\n");
		skip();
	}
	assert_int_equal(real_src.ops->open(&real_src, &err), 0);
	assert_contains(notes, "PSI: trigger some 150000 2000000 on memory:global");
	assert_contains(notes, "numbering after seq 41");
	assert_int_equal(probe("memory:global"), 1);
	real_src.ops->state(&real_src, &st);
	assert_int_equal(st.last_seq, 41);
	assert_int_equal(real_track.nwatch, 1);
	assert_string_equal(real_track.watch[0].cgroup, "/");

	snprintf(name, sizeof(name), "memory:%s", real_cg);
	assert_int_equal(mkdir(real_dir, 0755), 0);
	assert_int_equal(probe(name), -1);
	assert_int_equal(real_src.ops->tick(&real_src, &err), 0);
	assert_int_equal(probe(name), 1);
	run_for(600);
	assert_true(real_track.watch[0].since_ns);
	assert_true(real_track.last_ns > real_track.watch[0].since_ns);

	assert_int_equal(rmdir(real_dir), 0);
	run_for(300);
	assert_int_equal(real_src.ops->tick(&real_src, &err), 0);
	assert_int_equal(probe(name), -1);
	real_src.ops->close(&real_src);
}

#define T(f)	cmocka_unit_test(f)
#define REAL(f)	cmocka_unit_test_setup_teardown(f, real_setup, real_teardown)

static int group_setup(void **state)
{
	(void)state;
	return mkdtemp(tmp) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_pressure_text_parsed),
		T(test_pressure_line_formatted),
		T(test_trigger_written_with_its_nul),
		T(test_stall_over_the_window),
		T(test_host_explained_by_a_cgroup),
		T(test_event_names_pressure_and_top_grower),
		REAL(test_real_cgroups_come_and_go),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The growth tracker on a tree standing in for cgroupfs and /proc, at
 * times the test sets: growth, not size, orders the processes.
 */
#include <errno.h>
#include <limits.h>
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

#include "memtrack.h"

#define MS		1000000ULL
#define PF_KTHREAD	0x00200000

static char tmp[] = "/tmp/kheal-test-mt-XXXXXX";
static char cg_root[256], proc_root[256];

static void put(const char *rel, const char *text)
{
	char path[PATH_MAX], *p;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	for (p = path + strlen(tmp) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void putf(const char *rel, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void putf(const char *rel, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	put(rel, text);
}

static void rss(int pid, unsigned long kb);

/* A process in the fake /proc: its stat, and @kb resident. */
static void fake_proc(int pid, const char *comm, unsigned int flags,
		      unsigned long long start, unsigned long kb)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
	putf(rel, "%d (%s) S 1 %d %d 0 -1 %u 0 0 0 0 1 2 0 0 20 0 1 0 %llu\n",
	     pid, comm, pid, pid, flags, start);
	rss(pid, kb);
}

/*
 * Rewrites only status (the identity stays as first written): @kb
 * resident, @swap swapped out; no VmRSS at all for 0, as for a kernel
 * thread.
 */
static void mem(int pid, unsigned long kb, unsigned long swap)
{
	char path[PATH_MAX], rel[64], stat[256] = "", comm[64] = "";
	FILE *f;

	/* Named as its stat names it, as the kernel's status is. */
	snprintf(path, sizeof(path), "%s/proc/%d/stat", tmp, pid);
	f = fopen(path, "r");
	if (f) {
		if (fgets(stat, sizeof(stat), f))
			sscanf(stat, "%*d (%63[^)])", comm);
		fclose(f);
	}
	snprintf(rel, sizeof(rel), "proc/%d/status", pid);
	if (kb)
		putf(rel, "Name:\t%s\nVmPeak:\t%lu kB\nVmRSS:\t%lu kB\nRssAnon:\t%lu kB\nVmSwap:\t%lu kB\n",
		     comm, 2 * kb, kb, kb, swap);
	else
		putf(rel, "Name:\t%s\nState:\tS (sleeping)\n", comm);
}

static void rss(int pid, unsigned long kb)
{
	mem(pid, kb, 0);
}

static void procs(const char *cg, const char *pids)
{
	char rel[PATH_MAX];

	snprintf(rel, sizeof(rel), "cg%s/cgroup.procs", cg);
	put(rel, pids);
}

static int setup(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s/cg %s/proc", tmp, tmp);
	if (system(cmd))
		return -1;
	mkdir(cg_root, 0755);
	mkdir(proc_root, 0755);
	procs("", "1\n2\n");
	fake_proc(1, "init", 0, 5, 8000);
	fake_proc(2, "kthreadd", PF_KTHREAD, 5, 0);
	procs("/work", "101\n102\n103\n");
	procs("/work/sub", "105\n");
	procs("/other", "104\n");
	fake_proc(101, "leaker", 0, 1000, 4000);
	fake_proc(102, "database", 0, 1000, 200000);
	fake_proc(103, "idle", 0, 1000, 400);
	fake_proc(104, "elsewhere", 0, 1000, 1000);
	fake_proc(105, "child", 0, 1000, 2000);
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmp))
		return -1;
	snprintf(cg_root, sizeof(cg_root), "%s/cg", tmp);
	snprintf(proc_root, sizeof(proc_root), "%s/proc", tmp);
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd);
}

static struct kheal_memtrack t;

static void track(const char *cg)
{
	kheal_memtrack_init(&t, proc_root, cg_root, KHEAL_MEMTRACK_WINDOW_MS);
	assert_int_equal(kheal_memtrack_watch(&t, cg, NULL), 0);
}

static void sample_at(uint64_t ms)
{
	assert_int_equal(kheal_memtrack_sample(&t, ms * MS, NULL), 0);
}

/*
 * A process that execs after it was first seen (a shell that execs the
 * leaker, as a service's wrapper does) is named by what it runs now.
 */
static void test_an_exec_renames_the_grower(void **state)
{
	struct kheal_grower g[8];

	(void)state;
	track("/work");
	fake_proc(101, "sh", 0, 1000, 4000);
	sample_at(1000);
	fake_proc(101, "memhog", 0, 1000, 4000 + 40960);
	sample_at(2000);
	assert_true(kheal_memtrack_top(&t, "/work", g, 8) >= 1);
	assert_int_equal(g[0].pid, 101);
	assert_string_equal(g[0].comm, "memhog");
	assert_int_equal(g[0].growth_kb, 40960);
	kheal_memtrack_free(&t);
}

/*
 * The leaker grew most; the database is the largest but steady. The
 * order is growth, then size, then pid; only the subtree asked for.
 */
static void test_growth_not_size_orders_the_processes(void **state)
{
	struct kheal_grower g[8];
	size_t n;

	(void)state;
	track("/work");
	sample_at(1000);
	rss(101, 4000 + 40960);
	rss(102, 200000 + 8);
	rss(105, 2000 + 1024);
	sample_at(2000);
	n = kheal_memtrack_top(&t, "/work", g, 8);
	assert_int_equal(n, 4);
	assert_int_equal(g[0].pid, 101);
	assert_string_equal(g[0].comm, "leaker");
	assert_string_equal(g[0].cgroup, "/work");
	assert_int_equal(g[0].growth_kb, 40960);
	assert_int_equal(g[0].mem_kb, 44960);
	assert_int_equal(g[0].span_ms, 1000);
	assert_int_equal(g[0].starttime, 1000);
	assert_int_equal(g[1].pid, 105);
	assert_string_equal(g[1].cgroup, "/work/sub");
	assert_int_equal(g[2].pid, 102);
	assert_int_equal(g[2].growth_kb, 8);
	assert_int_equal(g[3].pid, 103);
	assert_int_equal(g[3].growth_kb, 0);

	/* Fewer asked for: the best ones. A subtree: its own only. */
	assert_int_equal(kheal_memtrack_top(&t, "/work", g, 1), 4);
	assert_int_equal(g[0].pid, 101);
	assert_int_equal(kheal_memtrack_top(&t, "/work/sub", g, 8), 1);
	assert_int_equal(g[0].pid, 105);
	assert_int_equal(kheal_memtrack_top(&t, "/other", g, 8), 0);
	kheal_memtrack_free(&t);
}

/* Growth is counted from the lowest reading in the window only. */
static void test_growth_is_measured_over_the_window(void **state)
{
	struct kheal_grower g;
	uint64_t ms;

	(void)state;
	track("/work");
	rss(101, 1000);
	sample_at(0);
	rss(101, 50000);
	for (ms = 250; ms <= 5000; ms += 250)
		sample_at(ms);
	kheal_memtrack_top(&t, "/work", &g, 1);
	assert_int_equal(g.pid, 101);
	assert_int_equal(g.growth_kb, 49000);
	assert_int_equal(g.span_ms, 5000);
	/* Later on, the low reading has left the window. */
	for (; ms <= 16000; ms += 250)
		sample_at(ms);
	kheal_memtrack_top(&t, "/work", &g, 1);
	assert_int_equal(g.growth_kb, 0);
	assert_true(g.span_ms <= KHEAL_MEMTRACK_WINDOW_MS);
	assert_true(g.span_ms >= KHEAL_MEMTRACK_WINDOW_MS - 1000);
	/* A process that shrank and grows again: from its low. */
	rss(101, 20000);
	sample_at(ms);
	rss(101, 30000);
	sample_at(ms + 1000);
	kheal_memtrack_top(&t, "/work", &g, 1);
	assert_int_equal(g.pid, 101);
	assert_int_equal(g.growth_kb, 10000);
	kheal_memtrack_free(&t);
}

/*
 * "/" is everything but kernel threads; processes that exit go, and a
 * new one starts from its first reading.
 */
static void test_whole_host_without_kernel_threads_nor_the_dead(void **state)
{
	struct kheal_grower g[8];
	char rel[320];
	size_t i, n;

	(void)state;
	track("/");
	sample_at(0);
	n = kheal_memtrack_top(&t, "/", g, 8);
	assert_int_equal(n, 6);		/* 1 and 101..105, not kthreadd */
	for (i = 0; i < n; i++)
		assert_int_not_equal(g[i].pid, 2);
	snprintf(rel, sizeof(rel), "rm -rf %s/103", proc_root);
	assert_int_equal(system(rel), 0);
	procs("/work", "101\n102\n103\n106\n");
	fake_proc(106, "newcomer", 0, 2000, 30000);
	sample_at(500);
	n = kheal_memtrack_top(&t, "/", g, 8);
	assert_int_equal(n, 6);		/* 103 gone, 106 came */
	for (i = 0; i < n; i++) {
		assert_int_not_equal(g[i].pid, 103);
		if (g[i].pid == 106)
			assert_int_equal(g[i].growth_kb, 0);
	}
	/*
	 * A kernel thread is not read again for a window: its pid, were it
	 * reused by a process, would be tracked from then on.
	 */
	fake_proc(2, "reused", 0, 9000, 5000);
	sample_at(1000);
	assert_int_equal(kheal_memtrack_top(&t, "/", g, 8), 6);
	sample_at(10000);
	assert_int_equal(kheal_memtrack_top(&t, "/", g, 8), 7);
	kheal_memtrack_free(&t);
}

/*
 * Watches: nested ones add nothing, "/" takes all. A watch covers its
 * subtree once its samples span enough, each from its own first.
 */
static void test_watches_and_coverage(void **state)
{
	(void)state;
	track("/work");
	assert_int_equal(kheal_memtrack_watch(&t, "/work/sub", NULL), 0);
	assert_int_equal(t.nwatch, 1);
	assert_false(kheal_memtrack_covers(&t, "/work", 500));
	sample_at(100);
	sample_at(400);
	assert_false(kheal_memtrack_covers(&t, "/work", 500));
	assert_int_equal(kheal_memtrack_watch(&t, "/other", NULL), 0);
	assert_int_equal(t.nwatch, 2);
	sample_at(600);
	assert_true(kheal_memtrack_covers(&t, "/work", 500));
	assert_true(kheal_memtrack_covers(&t, "/work/sub/x", 500));
	assert_false(kheal_memtrack_covers(&t, "/other", 500));
	assert_false(kheal_memtrack_covers(&t, "/workers", 500));
	assert_false(kheal_memtrack_covers(&t, "/", 500));
	sample_at(1100);
	assert_true(kheal_memtrack_covers(&t, "/other", 500));
	/* "/" takes the others' place, and starts its own span. */
	assert_int_equal(kheal_memtrack_watch(&t, "/", NULL), 0);
	assert_int_equal(t.nwatch, 1);
	assert_false(kheal_memtrack_covers(&t, "/other", 500));
	sample_at(1200);
	sample_at(1800);
	assert_true(kheal_memtrack_covers(&t, "/", 500));
	kheal_memtrack_free(&t);
}

/* Memory swapped out counts: reclaim takes a leaker's pages as it goes. */
static void test_swapped_memory_counts(void **state)
{
	struct kheal_grower g;

	(void)state;
	track("/work");
	sample_at(0);
	mem(101, 3000, 20000);
	sample_at(1000);
	kheal_memtrack_top(&t, "/work", &g, 1);
	assert_int_equal(g.pid, 101);
	assert_int_equal(g.mem_kb, 23000);
	assert_int_equal(g.growth_kb, 19000);
	kheal_memtrack_free(&t);
}

/* A watched cgroup that does not exist yet is not an error. */
static void test_missing_cgroup_is_empty(void **state)
{
	struct kheal_grower g;

	(void)state;
	track("/not-yet");
	sample_at(0);
	assert_int_equal(kheal_memtrack_top(&t, "/not-yet", &g, 1), 0);
	kheal_memtrack_free(&t);
	kheal_memtrack_init(&t, proc_root, NULL, KHEAL_MEMTRACK_WINDOW_MS);
	assert_int_equal(kheal_memtrack_watch(&t, "/", NULL), 0);
	assert_int_equal(kheal_memtrack_sample(&t, 0, NULL), -EOPNOTSUPP);
	kheal_memtrack_free(&t);
}

#define T(f)	cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_growth_not_size_orders_the_processes),
		T(test_growth_is_measured_over_the_window),
		T(test_an_exec_renames_the_grower),
		T(test_whole_host_without_kernel_threads_nor_the_dead),
		T(test_watches_and_coverage),
		T(test_swapped_memory_counts),
		T(test_missing_cgroup_is_empty),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The memory executors: which process memory.kill_leaker picks, and what
 * it refuses, on a tree standing in for cgroupfs and /proc in which real
 * children play the processes it signals; memory.pressure_ok on pressure
 * files the test writes; and, as root on cgroup v2, the pick from two
 * samples of its own on real growing children.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "run.h"

#include "actions.h"
#include "cgroup.h"
#include "memtrack.h"
#include "runbook.h"

#define SELF		4242
#define PARENT		4241
#define MS		1000000ULL

static char tmp[] = "/tmp/kheal-test-mem-XXXXXX";
static char cg_root[256], proc_root[256];
static struct kheal_exec_ctx fake;
static struct kheal_memtrack track;

#define assert_contains(s, sub)						\
	do {								\
		if (!strstr((s), (sub)))				\
			fail_msg("'%s' lacks '%s'", (s), (sub));	\
	} while (0)

static void put(const char *rel, const char *text, size_t len)
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
	assert_int_equal(fwrite(text, 1, len, f), len);
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
	put(rel, text, strlen(text));
}

static void rss(int pid, unsigned long kb);

/* A process of the fake /proc in @cg, @kb resident. */
static void fake_proc(int pid, const char *comm, int ppid, const char *cg,
		      unsigned long kb)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
	putf(rel, "%d (%s) S %d %d %d 0 -1 4194560 0 0 0 0 1 2 0 0 20 0 1 0 777\n",
	     pid, comm, ppid, pid, pid);
	snprintf(rel, sizeof(rel), "proc/%d/cgroup", pid);
	putf(rel, "0::%s\n", cg);
	snprintf(rel, sizeof(rel), "proc/%d/cmdline", pid);
	put(rel, comm, strlen(comm) + 1);
	snprintf(rel, sizeof(rel), "proc/%d/oom_score_adj", pid);
	putf(rel, "0\n");
	rss(pid, kb);
}

/* Its status, named as its stat names it, as the kernel's are. */
static void rss(int pid, unsigned long kb)
{
	char path[PATH_MAX], rel[64], stat[256] = "", comm[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/proc/%d/stat", tmp, pid);
	f = fopen(path, "r");
	if (f) {
		if (fgets(stat, sizeof(stat), f))
			sscanf(stat, "%*d (%63[^)])", comm);
		fclose(f);
	}
	snprintf(rel, sizeof(rel), "proc/%d/status", pid);
	putf(rel, "Name:\t%s\nVmRSS:\t%lu kB\nVmSwap:\t0 kB\n", comm, kb);
}

static void end(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int act(const char *cg, struct kheal_exec_ctx *x, struct kheal_err *err)
{
	const char *args[KHEAL_ACTION_MAX_PARAMS] = { cg };

	err->msg[0] = 'x';
	err->msg[1] = '\0';
	return kheal_action_memory_kill_leaker(args, 2000, x, err);
}

static int chk(const char *cg, const char *pct, struct kheal_exec_ctx *x,
	       struct kheal_err *err)
{
	const char *args[KHEAL_ACTION_MAX_PARAMS] = { cg, pct };

	return kheal_check_memory_pressure_ok(args, x, err);
}

/* @cg's processes as the test wrote them, then @grow applied, 1 s on. */
static void tracked_in(const char *cg, void (*grow)(void))
{
	uint64_t now = now_ns();

	kheal_memtrack_init(&track, proc_root, cg_root,
			    KHEAL_MEMTRACK_WINDOW_MS);
	assert_int_equal(kheal_memtrack_watch(&track, cg, NULL), 0);
	assert_int_equal(kheal_memtrack_sample(&track, now - 2000 * MS, NULL),
			 0);
	grow();
	assert_int_equal(kheal_memtrack_sample(&track, now - 1000 * MS, NULL),
			 0);
	fake.memtrack = &track;
}

static void tracked(void (*grow)(void))
{
	tracked_in("/work", grow);
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
	fake_proc(1, "init", 0, "/work", 8000);
	fake_proc(SELF, "kheald", PARENT, "/agent", 8000);
	fake_proc(PARENT, "supervisor", 1, "/system", 8000);
	putf("cg/work/memory.max", "268435456\n");
	putf("cg/work/memory.current", "209715200\n");
	putf("cg/work/memory.pressure",
	     "some avg10=0.00 avg60=0.00 avg300=0.00 total=1000\n"
	     "full avg10=0.00 avg60=0.00 avg300=0.00 total=500\n");
	putf("cg/work/cgroup.procs", "\n");
	putf("proc/meminfo", "MemTotal: 1000000 kB\nMemAvailable:  123456 kB\n"
	     "SwapTotal: 4096 kB\nSwapFree: 2048 kB\n");
	putf("proc/pressure/memory",
	     "some avg10=0.00 avg60=0.00 avg300=0.00 total=1000\n"
	     "full avg10=0.00 avg60=0.00 avg300=0.00 total=500\n");
	fake.memtrack = NULL;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	kheal_memtrack_free(&track);
	return 0;
}

/* The table points at the executors; killing is as risky as task.kill. */
static void test_table_points_at_memory_executors(void **state)
{
	const struct kheal_action *a = kheal_action_find("memory.kill_leaker");
	const struct kheal_check *c = kheal_check_find("memory.pressure_ok");

	(void)state;
	assert_non_null(a);
	assert_ptr_equal(a->exec, kheal_action_memory_kill_leaker);
	assert_int_equal(a->risk, kheal_action_find("task.kill")->risk);
	assert_true(a->changes_state);
	assert_non_null(c);
	assert_ptr_equal(c->check, kheal_check_memory_pressure_ok);
	assert_string_equal(c->params[1].name, "stall_pct");
	assert_string_equal(c->params[1].def, "10");
}

static pid_t big, leaker;

static void leaker_grows_alone(void)
{
	rss(leaker, 4000 + 40960);
}

static void leaker_grows(void)
{
	rss(big, 200000 + 64);
	rss(leaker, 4000 + 40960);
}

/* The leaker, not the largest, dies; the note says who, and the margin. */
static void test_kill_leaker_kills_the_grower_not_the_largest(void **state)
{
	struct kheal_err err;
	char want[128];

	(void)state;
	big = child_pausing();
	leaker = child_pausing();
	fake_proc(big, "database", 1, "/work", 200000);
	fake_proc(leaker, "leaker", 1, "/work/sub", 4000);
	putf("cg/work/cgroup.procs", "%d\n", (int)big);
	putf("cg/work/sub/cgroup.procs", "%d\n", (int)leaker);
	tracked(leaker_grows);

	assert_int_equal(act("/work", &fake, &err), 0);
	reap(leaker, SIGKILL);
	snprintf(want, sizeof(want),
		 "killed leaker[%d] in /work/sub: +40960 kB in ", (int)leaker);
	assert_contains(err.msg, want);
	assert_contains(err.msg, "now 44960 kB (tracked)");
	assert_contains(err.msg, "margin 57344 kB (memory.max of /work)");
	assert_int_equal(kill(big, 0), 0);
	end(big);
}

/* On the host, the margin is what the kernel says is available. */
static void test_kill_leaker_on_the_host(void **state)
{
	struct kheal_err err;
	char want[64];

	(void)state;
	leaker = child_pausing();
	fake_proc(leaker, "leaker", 1, "/", 4000);
	putf("cg/cgroup.procs", "1\n%d\n", (int)leaker);
	tracked_in("/", leaker_grows_alone);
	assert_int_equal(act("/", &fake, &err), 0);
	reap(leaker, SIGKILL);
	snprintf(want, sizeof(want), "killed leaker[%d] in /: +40960 kB",
		 (int)leaker);
	assert_contains(err.msg, want);
	assert_contains(err.msg,
			"margin 123456 kB (MemAvailable; SwapFree 2048 kB)");
}

static pid_t nokill, kthread, small;

static void all_grow(void)
{
	rss(1, 8000 + 90000);
	rss(SELF, 8000 + 80000);
	rss(nokill, 1000 + 70000);
	rss(kthread, 1000 + 60000);
	rss(small, 1000 + 2048);
}

/*
 * init, the agent, a process the admin made OOM-proof, a kernel thread:
 * passed over, however much they grew. The next grower dies.
 */
static void test_kill_leaker_passes_over_what_it_must_not_kill(void **state)
{
	struct kheal_err err;
	char rel[64], want[64];

	(void)state;
	nokill = child_pausing();
	kthread = child_pausing();
	small = child_pausing();
	fake_proc(nokill, "precious", 1, "/work", 1000);
	snprintf(rel, sizeof(rel), "proc/%d/oom_score_adj", (int)nokill);
	putf(rel, "-1000\n");
	fake_proc(kthread, "kworker/0:1", 2, "/work", 1000);
	snprintf(rel, sizeof(rel), "proc/%d/cmdline", (int)kthread);
	put(rel, "", 0);
	fake_proc(small, "small", 1, "/work", 1000);
	fake_proc(SELF, "kheald", PARENT, "/work", 8000);
	putf("cg/work/cgroup.procs", "1\n%d\n%d\n%d\n%d\n", SELF, (int)nokill,
	     (int)kthread, (int)small);
	tracked(all_grow);

	assert_int_equal(act("/work", &fake, &err), 0);
	reap(small, SIGKILL);
	snprintf(want, sizeof(want), "killed small[%d]", (int)small);
	assert_contains(err.msg, want);
	assert_contains(err.msg, "+2048 kB");
	assert_contains(err.msg,
			"passed over 4: pid 1: refused: pids 0 and 1 are never signalled");
	assert_int_equal(kill(nokill, 0), 0);
	assert_int_equal(kill(kthread, 0), 0);
	end(nokill);
	end(kthread);
}

static void only_init_grows(void)
{
	rss(1, 8000 + 90000);
}

/* Only what must not be killed grew: nothing is, and the error says why. */
static void test_kill_leaker_all_passed_over_kills_nothing(void **state)
{
	struct kheal_err err;

	(void)state;
	putf("cg/work/cgroup.procs", "1\n");
	tracked(only_init_grows);
	assert_int_equal(act("/work", &fake, &err), -ESRCH);
	assert_contains(err.msg,
			"cgroup /work: nothing was killed: each process that grew by 1024 kB or more in the last 5000 ms was passed over (1, the first: pid 1: refused: pids 0 and 1");
}

static void barely_grows(void)
{
	rss(small, 1000 + 1020);
}

/* Nobody grew a mebibyte: no leak, nothing killed. */
static void test_kill_leaker_without_a_grower_kills_nothing(void **state)
{
	struct kheal_err err;

	(void)state;
	small = child_pausing();
	fake_proc(small, "small", 1, "/work", 1000);
	putf("cg/work/cgroup.procs", "%d\n", (int)small);
	tracked(barely_grows);
	assert_int_equal(act("/work", &fake, &err), -ESRCH);
	assert_contains(err.msg,
			"cgroup /work: no process grew by 1024 kB or more in the last 5000 ms (1 looked at, tracked, the most: small); nothing was killed");
	assert_int_equal(kill(small, 0), 0);
	end(small);
}

/* The cgroup rules hold, but "/" is the host; no context, no action. */
static void test_kill_leaker_cgroup_rules(void **state)
{
	struct kheal_err err;

	(void)state;
	assert_int_equal(act("work", &fake, &err), -EPERM);
	assert_contains(err.msg, "not absolute");
	assert_int_equal(act("/work/../x", &fake, &err), -EPERM);
	assert_contains(err.msg, "contains '..'");
	assert_int_equal(act("/wo\nrk", &fake, &err), -EPERM);
	assert_contains(err.msg, "control character");
	assert_int_equal(act("/missing", &fake, &err), -ENOENT);
	assert_int_equal(act("/work", NULL, &err), -EINVAL);
	/* The host: every process, none of which grew here. */
	putf("cg/cgroup.procs", "1\n");
	assert_int_equal(act("/", &fake, &err), -ESRCH);
	assert_contains(err.msg, "cgroup /: no process grew");
	assert_contains(err.msg, "sampled");
}

struct stall {
	const char *rel;
	unsigned long long total;
};

static void *stall_later(void *arg)
{
	const struct stall *s = arg;

	usleep(50000);
	putf(s->rel, "some avg10=38.00 avg60=9.00 avg300=2.00 total=%llu\n",
	     s->total);
	return NULL;
}

/* Stalled under the limit over its 200 ms: holds; over it: not. */
static void test_pressure_ok_measures_the_stall_now(void **state)
{
	struct stall s = { "cg/work/memory.pressure", 1000 + 150000 };
	struct kheal_err err;
	pthread_t t;

	(void)state;
	assert_int_equal(chk("/work", "10", &fake, &err), 1);
	assert_int_equal(chk("/", NULL, &fake, &err), 1);
	assert_int_equal(pthread_create(&t, NULL, stall_later, &s), 0);
	assert_int_equal(chk("/work", "10", &fake, &err), 0);
	pthread_join(t, NULL);
	assert_contains(err.msg, "cgroup /work: tasks stalled on memory 150000 us of the last 2");
	assert_contains(err.msg, "(avg10 38.00%), above 10%");
	/* The same stall is within 90%. */
	s.total += 150000;
	assert_int_equal(pthread_create(&t, NULL, stall_later, &s), 0);
	assert_int_equal(chk("/work", "90", &fake, &err), 1);
	pthread_join(t, NULL);
	/* Gone: nothing in it stalls. A bad limit is refused. */
	assert_int_equal(chk("/gone", "10", &fake, &err), 1);
	assert_int_equal(chk("/work", "101", &fake, &err), -EINVAL);
	assert_contains(err.msg, "stall_pct '101': expected a percentage");
	assert_int_equal(chk("/work", "x", &fake, &err), -EINVAL);
}

/*
 * Real cgroup v2, no tracker: the action samples twice itself. A child
 * grows a mebibyte every 20 ms beside one that holds 16 MiB.
 */
static char real_root[256], real_cg[64], real_dir[512];

static int real_setup(void **state)
{
	*state = NULL;
	if (geteuid() || !kheal_cgroup_find_root("/proc/self/mounts",
						 real_root, sizeof(real_root)))
		return 0;
	snprintf(real_cg, sizeof(real_cg), "/kheal-test-mem-%d", (int)getpid());
	snprintf(real_dir, sizeof(real_dir), "%s%s", real_root, real_cg);
	if (mkdir(real_dir, 0755))
		return 0;
	*state = real_dir;
	return 0;
}

static int real_teardown(void **state)
{
	int i;

	if (!*state)
		return 0;
	for (i = 0; i < 100 && rmdir(real_dir) && errno == EBUSY; i++)
		usleep(10000);
	return 0;
}

/* A child in the real cgroup, allocating @mib MiB, one per @step_ms. */
static pid_t real_child(unsigned int mib, unsigned int step_ms)
{
	char path[PATH_MAX];
	unsigned int i;
	int pipefd[2];
	pid_t pid;
	char c;
	FILE *f;

	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", real_dir);
		f = fopen(path, "w");
		if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f))
			_exit(1);
		if (write(pipefd[1], "r", 1) != 1)
			_exit(1);
		for (i = 0; ; i++) {
			if (i < mib)
				memset(malloc(1 << 20), 1, 1 << 20);
			usleep(step_ms * 1000);
		}
	}
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);
	close(pipefd[1]);
	return pid;
}

static void test_real_kill_leaker_samples_itself(void **state)
{
	struct kheal_exec_ctx real = {
		.cgroup_root = real_root, .proc_root = "/proc",
		.self = getpid(),
	};
	struct kheal_err err;
	pid_t steady, grower;
	char want[128];

	if (!*state) {
		print_message("[  SKIP    ] needs root and cgroup v2\n");
		skip();
	}
	steady = real_child(16, 1);
	usleep(300000);		/* it holds its 16 MiB */
	grower = real_child(100000, 20);
	assert_int_equal(act(real_cg, &real, &err), 0);
	reap(grower, SIGKILL);
	snprintf(want, sizeof(want), "[%d] in %s: +", (int)grower, real_cg);
	assert_contains(err.msg, want);
	assert_contains(err.msg, "(sampled)");
	assert_int_equal(kill(steady, 0), 0);
	end(steady);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
#define REAL(f)	cmocka_unit_test_setup_teardown(f, real_setup, real_teardown)

static int group_setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmp))
		return -1;
	snprintf(cg_root, sizeof(cg_root), "%s/cg", tmp);
	snprintf(proc_root, sizeof(proc_root), "%s/proc", tmp);
	fake = (struct kheal_exec_ctx){
		.cgroup_root = cg_root, .proc_root = proc_root, .self = SELF,
	};
	return 0;
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
		T(test_table_points_at_memory_executors),
		T(test_kill_leaker_kills_the_grower_not_the_largest),
		T(test_kill_leaker_on_the_host),
		T(test_kill_leaker_passes_over_what_it_must_not_kill),
		T(test_kill_leaker_without_a_grower_kills_nothing),
		T(test_kill_leaker_all_passed_over_kills_nothing),
		T(test_kill_leaker_cgroup_rules),
		T(test_pressure_ok_measures_the_stall_now),
		REAL(test_real_kill_leaker_samples_itself),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

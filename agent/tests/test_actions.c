// SPDX-License-Identifier: GPL-2.0
/*
 * The runbook executors: what they refuse, on a tree standing in for
 * cgroupfs and /proc; what they do, on real cgroup v2 and real children.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include "runbook.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define SELF		4242
#define PARENT		4241
#define PF_KTHREAD	0x00200000
/* How late a timed-out wait may return: scheduling, the census. */
#define SLACK_MS	400

static char tmp[] = "/tmp/kheal-test-act-XXXXXX";
static char cg_root[256], proc_root[256];
static struct kheal_exec_ctx fake;

/* Writes @text to @rel under the temp dir, making directories on the way. */
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

static char *slurp_rel(const char *rel, char *buf, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	assert_true(kheal_exec_read_file(AT_FDCWD, path, buf, len) >= 0);
	return buf;
}

/* A task in the fake /proc: its stat, cgroup, and wchan if given. */
static void fake_task(int pid, const char *comm, char state, int ppid,
		      unsigned int flags, const char *cgroup, const char *wchan)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
	putf(rel, "%d (%s) %c %d %d %d 0 -1 %u 0 0 0 0 1 2 0 0 20 0 1 0 99\n",
	     pid, comm, state, ppid, pid, pid, flags);
	snprintf(rel, sizeof(rel), "proc/%d/cgroup", pid);
	putf(rel, "1:name=systemd:/\n0::%s\n", cgroup);
	if (wchan) {
		snprintf(rel, sizeof(rel), "proc/%d/wchan", pid);
		put(rel, wchan);
	}
}

/* A fake cgroup directory with its control files. */
static void fake_cgroup(const char *cg, const char *events, const char *threads,
			bool with_kill)
{
	char rel[PATH_MAX];

	snprintf(rel, sizeof(rel), "cg%s/cgroup.freeze", cg);
	put(rel, "0\n");
	snprintf(rel, sizeof(rel), "cg%s/cgroup.events", cg);
	put(rel, events);
	snprintf(rel, sizeof(rel), "cg%s/cgroup.threads", cg);
	put(rel, threads);
	snprintf(rel, sizeof(rel), "cg%s/cgroup.procs", cg);
	put(rel, threads);
	if (with_kill) {
		snprintf(rel, sizeof(rel), "cg%s/cgroup.kill", cg);
		put(rel, "");
	}
}

static int group_setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmp))
		return -1;
	snprintf(cg_root, sizeof(cg_root), "%s/cg", tmp);
	snprintf(proc_root, sizeof(proc_root), "%s/proc", tmp);
	mkdir(cg_root, 0755);
	mkdir(proc_root, 0755);
	fake.cgroup_root = cg_root;
	fake.proc_root = proc_root;
	fake.self = SELF;

	fake_task(1, "systemd", 'S', 0, 0x400100, "/init.scope", NULL);
	fake_task(SELF, "kheald", 'S', PARENT, 0x400040,
		  "/agent.slice/kheald.service", NULL);
	fake_task(PARENT, "supervisor", 'S', 1, 0x400040,
		  "/system.slice/sup.service", NULL);
	fake_cgroup("/init.scope", "populated 1\nfrozen 0\n", "1\n", true);
	fake_cgroup("/agent.slice", "populated 1\nfrozen 0\n", "", true);
	fake_cgroup("/agent.slice/kheald.service", "populated 1\nfrozen 0\n",
		    "4242\n", true);
	fake_cgroup("/system.slice/sup.service", "populated 1\nfrozen 0\n",
		    "4241\n", true);
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

typedef int (*action_fn)(const char *const *, uint64_t, void *,
			 struct kheal_err *);

static int act(action_fn fn, const char *a0, const char *a1,
	       uint64_t timeout_ms, struct kheal_exec_ctx *x,
	       struct kheal_err *err)
{
	const char *args[KHEAL_ACTION_MAX_PARAMS] = { a0, a1 };

	err->msg[0] = 'x';	/* a stale detail must not pass for a note */
	err->msg[1] = '\0';
	return fn(args, timeout_ms, x, err);
}

static int chk(kheal_check_fn fn, const char *a0, struct kheal_exec_ctx *x,
	       struct kheal_err *err)
{
	const char *args[KHEAL_ACTION_MAX_PARAMS] = { a0 };

	return fn(args, x, err);
}

#define assert_contains(s, sub)						\
	do {								\
		if (!strstr((s), (sub)))				\
			fail_msg("'%s' lacks '%s'", (s), (sub));	\
	} while (0)

/* The tables point at the executors; the brain runs subsystem.healthy. */
static void test_table_points_at_executors(void **state)
{
	(void)state;
	assert_ptr_equal(kheal_action_find("cgroup.freeze")->exec,
			 kheal_action_cgroup_freeze);
	assert_ptr_equal(kheal_action_find("cgroup.thaw")->exec,
			 kheal_action_cgroup_thaw);
	assert_ptr_equal(kheal_action_find("cgroup.kill")->exec,
			 kheal_action_cgroup_kill);
	assert_ptr_equal(kheal_action_find("task.kill")->exec,
			 kheal_action_task_kill);
	assert_ptr_equal(kheal_action_find("escalate")->exec,
			 kheal_action_escalate);
	assert_ptr_equal(kheal_action_find("notify")->exec,
			 kheal_action_notify);
	assert_ptr_equal(kheal_check_find("cgroup.empty")->check,
			 kheal_check_cgroup_empty);
	assert_ptr_equal(kheal_check_find("task.gone")->check,
			 kheal_check_task_gone);
	assert_null(kheal_check_find("subsystem.healthy")->check);
}

/* Every cgroup action and check refuses a bad argument, naming the rule. */
static void test_cgroup_arguments_refused_by_rule(void **state)
{
	static const struct {
		const char *cg;
		const char *rule;
	} bad[] = {
		{ NULL, "empty" },
		{ "", "empty" },
		{ "system.slice", "not absolute" },
		{ "/", "root cgroup" },
		{ "/a//b", "contains '//'" },
		{ "/a/../b", "contains '..'" },
		{ "/..", "contains '..'" },
		{ "/a/.", "'.' component" },
		{ "/./a", "'.' component" },
		{ "/a\nb", "control character 0x0a" },
		{ "/a\x7f", "control character 0x7f" },
	};
	static const action_fn fns[] = {
		kheal_action_cgroup_freeze, kheal_action_cgroup_thaw,
		kheal_action_cgroup_kill,
	};
	struct kheal_err err;
	size_t i, j;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		for (j = 0; j < ARRAY_SIZE(fns); j++) {
			assert_int_equal(act(fns[j], bad[i].cg, NULL, 0, &fake,
					     &err), -EPERM);
			assert_contains(err.msg, "refused");
			assert_contains(err.msg, bad[i].rule);
		}
		assert_int_equal(chk(kheal_check_cgroup_empty, bad[i].cg,
				     &fake, &err), -EPERM);
		assert_contains(err.msg, bad[i].rule);
	}
}

/* A symlink out of the root, or back to it, is seen through. */
static void test_cgroup_resolving_outside_root_refused(void **state)
{
	char link[PATH_MAX], outside[PATH_MAX];
	struct kheal_err err;

	(void)state;
	snprintf(outside, sizeof(outside), "%s/outside", tmp);
	mkdir(outside, 0755);
	put("outside/cgroup.freeze", "0\n");
	put("outside/cgroup.events", "populated 1\nfrozen 0\n");
	snprintf(link, sizeof(link), "%s/escape", cg_root);
	assert_int_equal(symlink(outside, link), 0);
	snprintf(link, sizeof(link), "%s/loop", cg_root);
	assert_int_equal(symlink(".", link), 0);

	assert_int_equal(act(kheal_action_cgroup_freeze, "/escape", NULL, 0,
			     &fake, &err), -EPERM);
	assert_contains(err.msg, "cgroup '/escape': refused: resolves to");
	assert_contains(err.msg, "not below the cgroup root");
	assert_int_equal(act(kheal_action_cgroup_kill, "/loop", NULL, 0,
			     &fake, &err), -EPERM);
	assert_contains(err.msg, "not below the cgroup root");
	assert_int_equal(chk(kheal_check_cgroup_empty, "/escape", &fake, &err),
			 -EPERM);
	assert_string_equal(slurp_rel("outside/cgroup.freeze", link,
				      sizeof(link)), "0\n");
}

/* Freezing or killing the cgroup of init, the agent or its parent: no. */
static void test_cgroup_holding_init_agent_or_parent_refused(void **state)
{
	static const struct {
		const char *cg;
		const char *why;
	} held[] = {
		{ "/init.scope", "it holds init (pid 1" },
		{ "/agent.slice", "it holds the agent (pid 4242" },
		{ "/agent.slice/kheald.service", "it holds the agent" },
		{ "/system.slice/sup.service",
		  "it holds the agent's parent (pid 4241" },
		{ "/system.slice", "it holds the agent's parent" },
	};
	struct kheal_exec_ctx orphan = fake;
	struct kheal_err err;
	char buf[16];
	size_t i;

	(void)state;
	put("cg/system.slice/cgroup.events", "populated 1\nfrozen 0\n");
	for (i = 0; i < ARRAY_SIZE(held); i++) {
		assert_int_equal(act(kheal_action_cgroup_freeze, held[i].cg,
				     NULL, 0, &fake, &err), -EPERM);
		assert_contains(err.msg, held[i].why);
		assert_int_equal(act(kheal_action_cgroup_kill, held[i].cg,
				     NULL, 0, &fake, &err), -EPERM);
		assert_contains(err.msg, held[i].why);
	}
	assert_string_equal(slurp_rel("cg/init.scope/cgroup.freeze", buf,
				      sizeof(buf)), "0\n");

	/* An agent whose /proc entry cannot be read cannot be kept safe. */
	orphan.self = 999;
	fake_cgroup("/other", "populated 1\nfrozen 0\n", "", true);
	assert_int_equal(act(kheal_action_cgroup_freeze, "/other", NULL, 0,
			     &orphan, &err), -EPERM);
	assert_contains(err.msg, "cannot tell the agent's parent");
}

/* A missing cgroup is -ENOENT to act on, and empty to check. */
static void test_missing_cgroup(void **state)
{
	struct kheal_err err;

	(void)state;
	assert_int_equal(act(kheal_action_cgroup_freeze, "/no/such", NULL, 0,
			     &fake, &err), -ENOENT);
	assert_contains(err.msg, "/no/such: no such cgroup");
	assert_int_equal(chk(kheal_check_cgroup_empty, "/no/such", &fake,
			     &err), 1);
}

static void test_cgroup_empty_reads_populated(void **state)
{
	struct kheal_err err;

	(void)state;
	fake_cgroup("/full", "populated 1\nfrozen 0\n", "7\n", true);
	fake_cgroup("/empty", "populated 0\nfrozen 0\n", "", true);
	assert_int_equal(chk(kheal_check_cgroup_empty, "/full", &fake, &err),
			 0);
	assert_int_equal(chk(kheal_check_cgroup_empty, "/empty", &fake, &err),
			 1);
	put("cg/odd/cgroup.events", "frozen 0\n");
	assert_int_equal(chk(kheal_check_cgroup_empty, "/odd", &fake, &err),
			 -EOPNOTSUPP);
	assert_contains(err.msg, "no 'populated' line");
}

/*
 * A hung task cannot be frozen until it wakes: when all that is left
 * unfrozen is in D state, the freeze succeeds with a note. No unit test
 * can put a task in D state reliably, so a fake /proc says it.
 */
static void test_freeze_leaving_only_d_state_tasks_notes_them(void **state)
{
	struct kheal_err err;
	uint64_t t0, dt;
	char buf[16];

	(void)state;
	fake_cgroup("/hung", "populated 1\nfrozen 0\n", "100\n101\n", true);
	fake_cgroup("/hung/child", "populated 1\nfrozen 0\n", "102\n103\n",
		    true);
	fake_task(100, "db", 'D', 1, 0x400040, "/hung", "io_schedule\n");
	fake_task(101, "db-worker", 'S', 1, 0x400040, "/hung",
		  "do_freezer_trap\n");
	fake_task(102, "db-flush", 'D', 1, 0x400040, "/hung/child",
		  "folio_wait_bit_common\n");
	fake_task(103, "db-stopped", 'T', 1, 0x400040, "/hung/child",
		  "do_signal_stop\n");

	t0 = now_ms();
	assert_int_equal(act(kheal_action_cgroup_freeze, "/hung", NULL, 200,
			     &fake, &err), 0);
	dt = now_ms() - t0;
	assert_true(dt >= 200 && dt < 200 + SLACK_MS);
	assert_string_equal(err.msg,
			    "cgroup /hung: 2 tasks in D state could not be frozen; the rest are (pid 100 (db) is in D state)");
	assert_string_equal(slurp_rel("cg/hung/cgroup.freeze", buf,
				      sizeof(buf)), "1\n");
}

/* A task neither frozen nor in D state: the freeze times out, naming it. */
static void test_freeze_timeout_names_running_task(void **state)
{
	struct kheal_err err;
	uint64_t t0, dt;

	(void)state;
	fake_cgroup("/busy", "populated 1\nfrozen 0\n", "110\n111\n", true);
	fake_task(110, "hung", 'D', 1, 0x400040, "/busy", "io_schedule\n");
	fake_task(111, "spinner", 'R', 1, 0x400040, "/busy", "0\n");

	t0 = now_ms();
	assert_int_equal(act(kheal_action_cgroup_freeze, "/busy", NULL, 150,
			     &fake, &err), -ETIMEDOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 150 && dt < 150 + SLACK_MS);
	assert_string_equal(err.msg,
			    "cgroup /busy: not frozen after 150 ms: pid 111 (spinner) is still running (state R, wchan 0)");
}

/* A cgroup that never empties: cgroup.kill times out, counting. */
static void test_kill_timeout_counts_what_remains(void **state)
{
	struct kheal_err err;
	uint64_t t0, dt;
	char buf[16];

	(void)state;
	fake_cgroup("/stuck", "populated 1\nfrozen 0\n", "120\n121\n", true);
	fake_task(120, "nfs-reader", 'D', 1, 0x400040, "/stuck", NULL);
	fake_task(121, "sleeper", 'S', 1, 0x400040, "/stuck", NULL);

	t0 = now_ms();
	assert_int_equal(act(kheal_action_cgroup_kill, "/stuck", NULL, 200,
			     &fake, &err), -ETIMEDOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 200 && dt < 200 + SLACK_MS);
	assert_string_equal(err.msg,
			    "cgroup /stuck: 2 processes remain 200 ms after cgroup.kill, 1 in D state (pid 120 (nfs-reader)): they die when they wake");
	assert_string_equal(slurp_rel("cg/stuck/cgroup.kill", buf,
				      sizeof(buf)), "1");

	/* A thaw that never comes. */
	t0 = now_ms();
	put("cg/stuck/cgroup.events", "populated 1\nfrozen 1\n");
	assert_int_equal(act(kheal_action_cgroup_thaw, "/stuck", NULL, 100,
			     &fake, &err), -ETIMEDOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 100 && dt < 100 + SLACK_MS);
	assert_contains(err.msg, "cgroup /stuck: still frozen after 100 ms");
}

/* Before Linux 5.14 there is no cgroup.kill. */
static void test_kill_without_cgroup_kill_unsupported(void **state)
{
	struct kheal_err err;

	(void)state;
	fake_cgroup("/old", "populated 1\nfrozen 0\n", "", false);
	assert_int_equal(act(kheal_action_cgroup_kill, "/old", NULL, 100,
			     &fake, &err), -EOPNOTSUPP);
	assert_string_equal(err.msg,
			    "cgroup /old: no cgroup.kill: the kernel is older than 5.14; kill its processes with task.kill");
}

/* pids 0 and 1, the agent and its parent are never signalled. */
static void test_task_kill_refuses_init_self_parent(void **state)
{
	static const struct {
		const char *pid;
		const char *why;
	} refused[] = {
		{ "0", "pid 0: refused: pids 0 and 1 are never signalled" },
		{ "1", "pid 1: refused: pids 0 and 1 are never signalled" },
		{ "4242", "pid 4242: refused: it is the agent itself" },
		{ "4241", "pid 4241: refused: it is the agent's parent" },
	};
	struct kheal_err err;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(refused); i++) {
		assert_int_equal(act(kheal_action_task_kill, refused[i].pid,
				     "KILL", 100, &fake, &err), -EPERM);
		assert_contains(err.msg, refused[i].why);
	}
}

static void test_task_kill_rejects_bad_pid_and_signal(void **state)
{
	struct kheal_err err;

	(void)state;
	assert_int_equal(act(kheal_action_task_kill, "12x", "KILL", 0, &fake,
			     &err), -EINVAL);
	assert_string_equal(err.msg, "pid '12x': expected a process id");
	assert_int_equal(act(kheal_action_task_kill, "-5", "KILL", 0, &fake,
			     &err), -EINVAL);
	assert_int_equal(act(kheal_action_task_kill, "99999999999", "KILL", 0,
			     &fake, &err), -EINVAL);
	assert_int_equal(act(kheal_action_task_kill, "500", "BOOM", 0, &fake,
			     &err), -EINVAL);
	assert_contains(err.msg, "signal 'BOOM': expected a name like KILL");
	assert_int_equal(act(kheal_action_task_kill, "500", "0", 0, &fake,
			     &err), -EINVAL);
	assert_int_equal(act(kheal_action_task_kill, "500", "65", 0, &fake,
			     &err), -EINVAL);
}

/*
 * A kernel thread is refused, told by PF_KTHREAD or by kthreadd as its
 * parent with no command line. The pidfd needs a real process: a child
 * stands in, which the fake /proc dresses as a kernel thread.
 */
static void test_task_kill_refuses_kernel_threads(void **state)
{
	struct kheal_exec_ctx real = {
		.cgroup_root = NULL, .proc_root = "/proc", .self = getpid(),
	};
	char rel[64], pid_s[16], buf[256];
	struct kheal_err err;
	pid_t child;

	(void)state;
	child = child_pausing();
	snprintf(pid_s, sizeof(pid_s), "%d", (int)child);
	snprintf(rel, sizeof(rel), "proc/%d/cmdline", (int)child);

	fake_task(child, "kworker/0:1", 'I', 2, PF_KTHREAD | 0x40, "/", NULL);
	put(rel, "");
	assert_int_equal(act(kheal_action_task_kill, pid_s, "KILL", 100, &fake,
			     &err), -EPERM);
	assert_contains(err.msg, "(kworker/0:1): refused: a kernel thread");

	fake_task(child, "kworker/0:2", 'I', 2, 0x40, "/", NULL);
	assert_int_equal(act(kheal_action_task_kill, pid_s, "KILL", 100, &fake,
			     &err), -EPERM);
	assert_contains(err.msg, "refused: a kernel thread");

	/* The same, but with a command line: a process like any other. */
	put(rel, "sleep\0009\0");
	assert_int_equal(act(kheal_action_task_kill, pid_s, "KILL", 2000,
			     &fake, &err), 0);
	reap(child, SIGKILL);

	/* And kthreadd itself, from the real /proc. */
	if (kheal_exec_read_file(AT_FDCWD, "/proc/2/stat", buf,
				 sizeof(buf)) < 0 ||
	    !strstr(buf, "(kthreadd)"))
		skip();
	assert_int_equal(act(kheal_action_task_kill, "2", "KILL", 100, &real,
			     &err), -EPERM);
	assert_contains(err.msg, "pid 2 (kthreadd): refused: a kernel thread");
}

/* Signals by name or number; waits for the exit; zombies count as gone. */
static void test_task_kill_signals_and_waits(void **state)
{
	struct kheal_exec_ctx real = {
		.cgroup_root = NULL, .proc_root = "/proc", .self = getpid(),
	};
	struct kheal_err err;
	char pid_s[16];
	pid_t child;

	(void)state;
	child = child_pausing();
	snprintf(pid_s, sizeof(pid_s), "%d", (int)child);
	assert_int_equal(chk(kheal_check_task_gone, pid_s, &real, &err), 0);
	assert_int_equal(act(kheal_action_task_kill, pid_s, "SIGTERM", 2000,
			     &real, &err), 0);
	assert_string_equal(err.msg, "");
	/* Not reaped yet: a zombie. */
	assert_int_equal(chk(kheal_check_task_gone, pid_s, &real, &err), 1);
	reap(child, SIGTERM);
	assert_int_equal(chk(kheal_check_task_gone, pid_s, &real, &err), 1);

	child = child_pausing();
	snprintf(pid_s, sizeof(pid_s), "%d", (int)child);
	assert_int_equal(act(kheal_action_task_kill, pid_s, "9", 2000, &real,
			     &err), 0);
	reap(child, SIGKILL);

	/* A pid no process has (above any pid_max). */
	assert_int_equal(act(kheal_action_task_kill, "2147483647", "KILL",
			     100, &real, &err), 0);
	assert_string_equal(err.msg,
			    "pid 2147483647: already gone; nothing was signalled");
}

/* A process that ignores the signal: -ETIMEDOUT, on time. */
static void test_task_kill_timeout_honoured(void **state)
{
	struct kheal_exec_ctx real = {
		.cgroup_root = NULL, .proc_root = "/proc", .self = getpid(),
	};
	struct kheal_err err;
	uint64_t t0, dt;
	int ready[2];
	char pid_s[16], c;
	pid_t child;

	(void)state;
	assert_int_equal(pipe(ready), 0);
	child = fork();
	assert_true(child >= 0);
	if (!child) {
		signal(SIGTERM, SIG_IGN);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	close(ready[1]);
	snprintf(pid_s, sizeof(pid_s), "%d", (int)child);

	t0 = now_ms();
	assert_int_equal(act(kheal_action_task_kill, pid_s, "TERM", 300, &real,
			     &err), -ETIMEDOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 300 && dt < 300 + SLACK_MS);
	assert_contains(err.msg, "still there 300 ms after SIGTERM (state S");
	assert_int_equal(act(kheal_action_task_kill, pid_s, "KILL", 2000,
			     &real, &err), 0);
	reap(child, SIGKILL);
}

static void test_task_gone_reads_proc(void **state)
{
	struct kheal_err err;

	(void)state;
	fake_task(130, "alive", 'S', 1, 0x400040, "/", NULL);
	fake_task(131, "zombie", 'Z', 1, 0x400040, "/", NULL);
	assert_int_equal(chk(kheal_check_task_gone, "130", &fake, &err), 0);
	assert_int_equal(chk(kheal_check_task_gone, "131", &fake, &err), 1);
	assert_int_equal(chk(kheal_check_task_gone, "132", &fake, &err), 1);
	assert_int_equal(chk(kheal_check_task_gone, "0", &fake, &err),
			 -EINVAL);
	assert_int_equal(chk(kheal_check_task_gone, "x", &fake, &err),
			 -EINVAL);
}

/* escalate and notify change nothing; they want a message. */
static void test_escalate_and_notify_only_check_their_message(void **state)
{
	struct kheal_err err;

	(void)state;
	assert_int_equal(act(kheal_action_escalate, "disk dying", "operator",
			     0, &fake, &err), 0);
	assert_string_equal(err.msg, "");
	assert_int_equal(act(kheal_action_notify, "froze db", NULL, 0, NULL,
			     &err), 0);
	assert_int_equal(act(kheal_action_notify, "", "journal", 0, &fake,
			     &err), -EINVAL);
	assert_string_equal(err.msg, "notify: message: empty");
	assert_int_equal(act(kheal_action_escalate, NULL, NULL, 0, &fake,
			     &err), -EINVAL);
}

/* Without a context there is nothing to act on. */
static void test_no_context_is_einval(void **state)
{
	struct kheal_err err;

	(void)state;
	assert_int_equal(act(kheal_action_cgroup_freeze, "/x", NULL, 0, NULL,
			     &err), -EINVAL);
	assert_int_equal(chk(kheal_check_task_gone, "5", NULL, &err), -EINVAL);
}

/*
 * Real cgroup v2: a cgroup of our own below the cgroup2 mount, with
 * children moved in. It needs root and a kernel with cgroup.kill.
 */
static char real_root[256], real_cg[64], real_dir[512];
static pid_t kids[3];

static bool real_write(const char *file, const char *text)
{
	char path[PATH_MAX];
	bool ok;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", real_dir, file);
	f = fopen(path, "w");
	if (!f)
		return false;
	ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok;
}

static int real_setup(void **state)
{
	char path[PATH_MAX], pid_s[16];
	size_t i;

	*state = NULL;
	memset(kids, 0, sizeof(kids));
	if (geteuid() || !kheal_cgroup_find_root("/proc/self/mounts",
						 real_root, sizeof(real_root)))
		return 0;
	snprintf(real_cg, sizeof(real_cg), "/kheal-test-%d", (int)getpid());
	snprintf(real_dir, sizeof(real_dir), "%s%s", real_root, real_cg);
	if (mkdir(real_dir, 0755))
		return 0;
	snprintf(path, sizeof(path), "%s/cgroup.kill", real_dir);
	if (access(path, F_OK)) {
		rmdir(real_dir);
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(kids); i++) {
		kids[i] = child_pausing();
		snprintf(pid_s, sizeof(pid_s), "%d\n", (int)kids[i]);
		if (!real_write("cgroup.procs", pid_s))
			return -1;
	}
	*state = real_dir;
	return 0;
}

static int real_teardown(void **state)
{
	size_t i;

	if (!*state)
		return 0;
	real_write("cgroup.kill", "1");
	for (i = 0; i < ARRAY_SIZE(kids); i++)
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
		}
	/* The cgroup goes once its last task has been released. */
	for (i = 0; i < 100 && rmdir(real_dir) && errno == EBUSY; i++)
		usleep(10000);
	return access(real_dir, F_OK) ? 0 : -1;
}

static bool events_say(const char *line)
{
	char path[PATH_MAX], buf[256];

	snprintf(path, sizeof(path), "%s/cgroup.events", real_dir);
	assert_true(kheal_exec_read_file(AT_FDCWD, path, buf, sizeof(buf)) >
		    0);
	return strstr(buf, line);
}

static void skip_unless_real(void **state)
{
	if (!*state) {
		print_message("[  SKIP    ] needs root and cgroup v2 with cgroup.kill (Linux 5.14+)\n");
		skip();
	}
}

static char task_state_of(pid_t pid)
{
	char path[64], buf[512];
	const char *rp;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	assert_true(kheal_exec_read_file(AT_FDCWD, path, buf, sizeof(buf)) >
		    0);
	rp = strrchr(buf, ')');
	assert_non_null(rp);
	return rp[2];
}

static void test_real_freeze_then_thaw(void **state)
{
	struct kheal_exec_ctx real = {
		.cgroup_root = real_root, .proc_root = "/proc",
		.self = getpid(),
	};
	char path[64], wchan[64];
	struct kheal_err err;
	int tries;
	size_t i;

	skip_unless_real(state);
	assert_int_equal(act(kheal_action_cgroup_freeze, real_cg, NULL, 5000,
			     &real, &err), 0);
	assert_string_equal(err.msg, "");
	assert_true(events_say("frozen 1"));
	/*
	 * A task counts as frozen just before it schedules out; until then
	 * its wchan is 0. Then do_freezer_trap(), or get_signal() if the
	 * compiler inlined the one into the other.
	 */
	for (i = 0; i < ARRAY_SIZE(kids); i++) {
		snprintf(path, sizeof(path), "/proc/%d/wchan", (int)kids[i]);
		for (tries = 0; tries < 100; tries++) {
			assert_true(kheal_exec_read_file(AT_FDCWD, path, wchan,
							 sizeof(wchan)) > 0);
			if (strcmp(wchan, "0"))
				break;
			usleep(10000);
		}
		if (strcmp(wchan, "get_signal"))
			assert_string_equal(wchan, "do_freezer_trap");
	}
	assert_int_equal(chk(kheal_check_cgroup_empty, real_cg, &real, &err),
			 0);

	assert_int_equal(act(kheal_action_cgroup_thaw, real_cg, NULL, 5000,
			     &real, &err), 0);
	assert_true(events_say("frozen 0"));
	for (i = 0; i < ARRAY_SIZE(kids); i++)
		assert_true(strchr("SR", task_state_of(kids[i])));
}

static void test_real_kill_empties_cgroup(void **state)
{
	struct kheal_exec_ctx real = {
		.cgroup_root = real_root, .proc_root = "/proc",
		.self = getpid(),
	};
	struct kheal_err err;
	size_t i;

	skip_unless_real(state);
	/* Frozen first, as a runbook would: the kill goes through. */
	assert_int_equal(act(kheal_action_cgroup_freeze, real_cg, NULL, 5000,
			     &real, &err), 0);
	assert_int_equal(act(kheal_action_cgroup_kill, real_cg, NULL, 5000,
			     &real, &err), 0);
	assert_string_equal(err.msg, "");
	assert_true(events_say("populated 0"));
	assert_int_equal(chk(kheal_check_cgroup_empty, real_cg, &real, &err),
			 1);
	for (i = 0; i < ARRAY_SIZE(kids); i++) {
		reap(kids[i], SIGKILL);
		kids[i] = 0;
	}
}

/* The agent's own cgroup, for real: moved in, it may not be frozen. */
static void test_real_cgroup_holding_agent_refused(void **state)
{
	struct kheal_exec_ctx real = {
		.cgroup_root = real_root, .proc_root = "/proc",
		.self = kids[0],
	};
	struct kheal_err err;

	skip_unless_real(state);
	assert_int_equal(act(kheal_action_cgroup_freeze, real_cg, NULL, 1000,
			     &real, &err), -EPERM);
	assert_contains(err.msg, "refused: it holds the agent");
	assert_true(events_say("frozen 0"));
}

#define T(f)		cmocka_unit_test(f)
#define REAL(f)		cmocka_unit_test_setup_teardown(f, real_setup, \
							 real_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_table_points_at_executors),
		T(test_cgroup_arguments_refused_by_rule),
		T(test_cgroup_resolving_outside_root_refused),
		T(test_cgroup_holding_init_agent_or_parent_refused),
		T(test_missing_cgroup),
		T(test_cgroup_empty_reads_populated),
		T(test_freeze_leaving_only_d_state_tasks_notes_them),
		T(test_freeze_timeout_names_running_task),
		T(test_kill_timeout_counts_what_remains),
		T(test_kill_without_cgroup_kill_unsupported),
		T(test_task_kill_refuses_init_self_parent),
		T(test_task_kill_rejects_bad_pid_and_signal),
		T(test_task_kill_refuses_kernel_threads),
		T(test_task_kill_signals_and_waits),
		T(test_task_kill_timeout_honoured),
		T(test_task_gone_reads_proc),
		T(test_escalate_and_notify_only_check_their_message),
		T(test_no_context_is_einval),
		REAL(test_real_freeze_then_thaw),
		REAL(test_real_kill_empties_cgroup),
		REAL(test_real_cgroup_holding_agent_refused),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

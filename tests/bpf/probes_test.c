// SPDX-License-Identifier: GPL-2.0
/*
 * The BPF probes against real faults on the running kernel: each test
 * causes the fault with kheal-trigger and checks the event that comes
 * out of libkhealbpf names the right task, device, signal and duration.
 * Runs as root; prints TAP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/loop.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kheal_bpf.h"
#include "ksyms.h"
#include "tap.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define HUNG_MS		300
#define WAIT_MS		5000
/*
 * For a task to reach a sleep: costs nothing when it gets there, and a
 * loaded VM under TCG may take seconds to schedule it.
 */
#define STATE_MS	30000

static char trigger_path[PATH_MAX];
static struct kheal_ksyms *ksyms;

/* Every event the library delivered, in order. */
struct ev_log {
	struct kheal_bpf_event *v;
	size_t n, cap;
};

static int collect(const struct kheal_bpf_event *ev, void *ctx)
{
	struct ev_log *log = ctx;

	if (log->n == log->cap) {
		size_t cap = log->cap ? 2 * log->cap : 256;
		void *v = realloc(log->v, cap * sizeof(*log->v));

		if (!v)
			return -ENOMEM;
		log->v = v;
		log->cap = cap;
	}
	log->v[log->n++] = *ev;
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* Drives the library's fd for @ms, as a daemon's loop would. */
static void pump(struct kheal_bpf *kb, unsigned int ms)
{
	uint64_t end = now_ms() + ms;
	struct pollfd pfd = { .fd = kheal_bpf_fd(kb), .events = POLLIN };

	for (;;) {
		uint64_t t = now_ms();
		int err;

		if (t >= end)
			break;
		if (poll(&pfd, 1, end - t) < 0 && errno != EINTR)
			break;
		err = kheal_bpf_handle(kb);
		if (err < 0)
			tap_diag("kheal_bpf_handle: %s", strerror(-err));
	}
}

struct match {
	unsigned int kind;
	const char *comm;	/* NULL: any */
	int pid;		/* 0: any */
	const char *dev;	/* NULL: any */
};

static bool matches(const struct kheal_bpf_event *e, const struct match *m)
{
	if (e->kind != m->kind)
		return false;
	if (m->comm && (!(e->present & KHEAL_BPF_F_COMM) ||
			strcmp(e->comm, m->comm)))
		return false;
	if (m->pid && (!(e->present & KHEAL_BPF_F_PID) ||
		       e->pid != (unsigned int)m->pid))
		return false;
	if (m->dev && (!(e->present & KHEAL_BPF_F_DEV) ||
		       strcmp(e->dev, m->dev)))
		return false;
	return true;
}

static unsigned int count(const struct ev_log *log, const struct match *m)
{
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < log->n; i++)
		n += matches(&log->v[i], m);
	return n;
}

/* The first matching event, waiting up to @ms for it. */
static const struct kheal_bpf_event *wait_for(struct kheal_bpf *kb,
					      struct ev_log *log,
					      const struct match *m,
					      unsigned int ms)
{
	uint64_t end = now_ms() + ms;
	size_t i;

	for (;;) {
		for (i = 0; i < log->n; i++)
			if (matches(&log->v[i], m))
				return &log->v[i];
		if (now_ms() >= end)
			return NULL;
		pump(kb, 20);
	}
}

static struct kheal_bpf *open_kb(const char *probes, unsigned int ringbuf_kb,
				 const struct kheal_bpf_config *cfg,
				 struct ev_log *log)
{
	struct kheal_bpf_opts o = {
		.sz = sizeof(o),
		.probes = probes,
		.ringbuf_kb = ringbuf_kb,
		.config = cfg,
	};
	struct kheal_bpf *kb = kheal_bpf_open(&o, collect, log);

	if (!kb)
		tap_diag("kheal_bpf_open(%s): %s", probes ? probes : "all",
			 strerror(errno));
	return kb;
}

static const struct kheal_bpf_config test_cfg = {
	.hung_ms = HUNG_MS,
	.disk_stall_ms = 200,
	.crash_sigmask = KHEAL_BPF_CRASH_SIGMASK_DEFAULT,
};

/* Runs kheal-trigger ARGS... with optional pipes on its stdin/stdout. */
static pid_t spawn(int *in, int *out, const char *arg, ...)
{
	const char *argv[8] = { trigger_path, arg };
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 };
	unsigned int n = 2;
	va_list ap;
	pid_t pid;

	va_start(ap, arg);
	while (n < 7 && (argv[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	if ((in && pipe2(pin, O_CLOEXEC)) || (out && pipe2(pout, O_CLOEXEC)))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		if (in)
			dup2(pin[0], STDIN_FILENO);
		if (out)
			dup2(pout[1], STDOUT_FILENO);
		execv(trigger_path, (char *const *)argv);
		_exit(127);
	}
	if (in) {
		close(pin[0]);
		*in = pin[1];
	}
	if (out) {
		close(pout[1]);
		*out = pout[0];
	}
	return pid;
}

static int reap(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

/* Spawns a trigger and waits for it; its wait status. */
static int run(const char *arg, const char *a1, const char *a2)
{
	pid_t pid = spawn(NULL, NULL, arg, a1, a2, NULL);

	return pid < 0 ? -1 : reap(pid);
}

static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/* /proc/PID/NAME, whole and NUL-terminated; "" if it cannot be read. */
static void proc_text(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[64];
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		n = read(fd, buf, size - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
}

static bool proc_wchan_is(pid_t pid, const char *want)
{
	char buf[128];

	proc_text(pid, "wchan", buf, sizeof(buf));
	return !strcmp(buf, want);
}

/* The system call @pid sleeps in; -1 when it runs, or is gone. */
static long proc_syscall(pid_t pid)
{
	char buf[256];

	proc_text(pid, "syscall", buf, sizeof(buf));
	return buf[0] >= '0' && buf[0] <= '9' ? strtol(buf, NULL, 10) : -1;
}

/* State, wchan and system call of @pid, for a failed check. */
static void diag_task(pid_t pid)
{
	char wchan[128], sc[256];

	proc_text(pid, "wchan", wchan, sizeof(wchan));
	proc_text(pid, "syscall", sc, sizeof(sc));
	sc[strcspn(sc, " \n")] = '\0';
	tap_diag("  pid %d: state %c, wchan %s, syscall %s", pid,
		 proc_state(pid) ? proc_state(pid) : '?', wchan, sc);
}

static bool wait_until(bool (*cond)(pid_t, const void *), pid_t pid,
		       const void *arg, unsigned int ms)
{
	uint64_t end = now_ms() + ms;

	while (!cond(pid, arg)) {
		if (now_ms() >= end)
			return false;
		usleep(10000);
	}
	return true;
}

static bool has_comm(pid_t pid, const void *arg)
{
	char path[64], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return !strcmp(buf, arg);
}

/* A "sleep" trigger, once it has taken its name: ready to be killed. */
static pid_t spawn_sleeper(const char *comm)
{
	pid_t pid = spawn(NULL, NULL, "sleep", comm, NULL);

	if (pid > 0 && !wait_until(has_comm, pid, comm, STATE_MS))
		tap_diag("%s never took its name", comm);
	return pid;
}

/*
 * Waiting for a FUSE answer in system call *@arg (a long). open() waits
 * on FUSE too (LOOKUP, OPEN): a SIGUSR1 sent there is spent before the
 * read or close that was meant, which then sleeps interruptibly, in S.
 */
static bool in_fuse_wait(pid_t pid, const void *arg)
{
	return proc_syscall(pid) == *(const long *)arg &&
	       proc_wchan_is(pid, "request_wait_answer");
}

static bool in_state(pid_t pid, const void *arg)
{
	return proc_state(pid) == *(const char *)arg;
}

/* Does the event's symbolised stack have a frame in @func? */
static bool stack_has(const struct kheal_bpf_event *e, const char *func)
{
	unsigned int i;

	if (!ksyms || !(e->present & KHEAL_BPF_F_STACK))
		return false;
	for (i = 0; i < e->stack_depth && i < KHEAL_BPF_STACK_DEPTH; i++) {
		const struct kheal_ksym *s = kheal_ksyms_find(ksyms,
							      e->stack[i]);

		if (s && !strcmp(s->name, func))
			return true;
	}
	return false;
}

/* The FUSE filesystem of kheal-trigger, mounted for a test. */
struct fuse_fs {
	char mnt[64];
	pid_t pid;
	int ctl;
};

static int fuse_start(struct fuse_fs *fs)
{
	char buf[16] = "";
	int out;

	strcpy(fs->mnt, "/tmp/kheal-bpf-test-XXXXXX");
	if (!mkdtemp(fs->mnt))
		return -errno;
	fs->pid = spawn(&fs->ctl, &out, "fuse", fs->mnt, "--slow-ms", "400",
			NULL);
	if (fs->pid < 0)
		return -errno;
	if (read(out, buf, sizeof(buf) - 1) < 5 || strncmp(buf, "ready", 5)) {
		close(out);
		return -EIO;
	}
	close(out);
	return 0;
}

static void fuse_release(struct fuse_fs *fs)
{
	if (write(fs->ctl, "release\n", 8) != 8)
		tap_diag("fuse release: %s", strerror(errno));
}

static void fuse_stop(struct fuse_fs *fs)
{
	if (fs->pid <= 0)
		return;
	close(fs->ctl);	/* EOF: the server answers, unmounts, exits */
	reap(fs->pid);
	umount2(fs->mnt, MNT_DETACH);
	rmdir(fs->mnt);
	fs->pid = 0;
}

static void fuse_path(const struct fuse_fs *fs, const char *name, char *buf,
		      size_t size)
{
	snprintf(buf, size, "%s/%s", fs->mnt, name);
}

static void test_crash_exact_signal(struct kheal_bpf *kb, struct ev_log *log)
{
	static const struct {
		int sig;
		const char *comm;
	} cases[] = {
		{ SIGSEGV, "kh-segv" },
		{ SIGBUS, "kh-bus" },
		{ SIGABRT, "kh-abrt" },
	};
	const struct kheal_bpf_event *e;
	char sig[8], name[64];
	unsigned int i;
	pid_t pid;
	int st;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct match m = { .kind = KHEAL_EVENT_TASK_CRASH, .comm = cases[i].comm };

		snprintf(sig, sizeof(sig), "%d", cases[i].sig);
		pid = spawn(NULL, NULL, "signal", sig, cases[i].comm, NULL);
		st = reap(pid);
		if (!WIFSIGNALED(st) || WTERMSIG(st) != cases[i].sig)
			tap_diag("%s did not die of signal %d (status %#x)",
				 cases[i].comm, cases[i].sig, st);
		e = wait_for(kb, log, &m, WAIT_MS);
		snprintf(name, sizeof(name),
			 "crash_reports_exact_signal: %s reported",
			 cases[i].comm);
		if (!tap_ok(e != NULL, "%s", name))
			continue;
		tap_is_u64(e->signal, cases[i].sig,
			   "crash_reports_exact_signal: signal number");
		tap_is_u64(e->pid, pid, "crash_reports_exact_signal: pid");
		tap_is_u64(e->tgid, pid, "crash_reports_exact_signal: tgid");
		tap_is_u64(e->severity, KHEAL_SEV_WARNING,
			   "crash_reports_exact_signal: severity warning");
	}

	/* SIGKILL from outside, as an OOM killer or a human would send. */
	{
		struct match m = { .kind = KHEAL_EVENT_TASK_CRASH, .comm = "kh-kill" };

		pid = spawn_sleeper("kh-kill");
		kill(pid, SIGKILL);
		reap(pid);
		e = wait_for(kb, log, &m, WAIT_MS);
		if (tap_ok(e != NULL, "crash_reports_exact_signal: SIGKILL reported")) {
			tap_is_u64(e->signal, SIGKILL,
				   "crash_reports_exact_signal: SIGKILL number");
			tap_is_u64(e->pid, pid,
				   "crash_reports_exact_signal: SIGKILL pid");
		}
	}
}

static void test_crash_once_per_process(struct kheal_bpf *kb,
					struct ev_log *log)
{
	struct match m = { .kind = KHEAL_EVENT_TASK_CRASH, .comm = "kh-mt-segv" };
	const struct kheal_bpf_event *e;
	pid_t pid;

	pid = spawn(NULL, NULL, "threads-segv", "kh-mt-segv", "4", NULL);
	reap(pid);
	e = wait_for(kb, log, &m, WAIT_MS);
	pump(kb, 200);
	if (!tap_ok(e != NULL, "crash_reported_once_per_process: reported"))
		return;
	tap_is_u64(count(log, &m), 1,
		   "crash_reported_once_per_process: 4 threads, 1 event");
	tap_is_u64(e->pid, pid, "crash_reported_once_per_process: pid is the tgid");
	tap_is_u64(e->signal, SIGSEGV, "crash_reported_once_per_process: SIGSEGV");
}

/*
 * The ring buffer keeps order: once a later marker crash is delivered,
 * any event of the earlier exits would have been delivered before it.
 */
static void test_crash_not_reported(struct kheal_bpf *kb, struct ev_log *log)
{
	struct match exit0 = { .kind = KHEAL_EVENT_TASK_CRASH, .comm = "kh-exit0" };
	struct match exit3 = { .kind = KHEAL_EVENT_TASK_CRASH, .comm = "kh-exit3" };
	struct match term = { .kind = KHEAL_EVENT_TASK_CRASH, .comm = "kh-term" };
	struct match intr = { .kind = KHEAL_EVENT_TASK_CRASH, .comm = "kh-int" };
	struct match marker = { .kind = KHEAL_EVENT_TASK_CRASH, .comm = "kh-marker1" };
	pid_t t, i;

	run("exit", "0", "kh-exit0");
	run("exit", "3", "kh-exit3");
	t = spawn_sleeper("kh-term");
	i = spawn_sleeper("kh-int");
	kill(t, SIGTERM);
	kill(i, SIGINT);
	reap(t);
	reap(i);
	run("signal", "11", "kh-marker1");
	tap_ok(wait_for(kb, log, &marker, WAIT_MS) != NULL,
	       "crash_not_reported: marker crash delivered");
	tap_is_u64(count(log, &exit0) + count(log, &exit3), 0,
		   "crash_not_reported: exit(0) and exit(3) not reported");
	tap_is_u64(count(log, &term), 0,
		   "crash_not_reported: SIGTERM not reported");
	tap_is_u64(count(log, &intr), 0,
		   "crash_not_reported: SIGINT not reported");
}

static void test_crash_signals_run_time(struct kheal_bpf *kb,
					struct ev_log *log)
{
	struct kheal_bpf_config cfg = test_cfg, bad = test_cfg;
	struct match term = { .kind = KHEAL_EVENT_TASK_CRASH, .comm = "kh-term2" };
	const struct kheal_bpf_event *e;
	pid_t pid;

	bad.crash_sigmask |= 1;
	tap_is_i64(kheal_bpf_set_config(kb, &bad), -EINVAL,
		   "set_config refuses signal 0");
	cfg.crash_sigmask |= 1ULL << SIGTERM;
	tap_is_i64(kheal_bpf_set_config(kb, &cfg), 0,
		   "crash_signals_changed_at_run_time: set_config");
	pid = spawn_sleeper("kh-term2");
	kill(pid, SIGTERM);
	reap(pid);
	e = wait_for(kb, log, &term, WAIT_MS);
	if (tap_ok(e != NULL,
		   "crash_signals_changed_at_run_time: SIGTERM now reported"))
		tap_is_u64(e->signal, SIGTERM,
			   "crash_signals_changed_at_run_time: signal 15");
	kheal_bpf_set_config(kb, &test_cfg);
}

static void test_hung_task(struct kheal_bpf *kb, struct ev_log *log,
			   struct fuse_fs *fs)
{
	struct match hung = { .kind = KHEAL_EVENT_HUNG_TASK, .comm = "kh-hung" };
	struct match res = { .kind = KHEAL_EVENT_HUNG_TASK_RESOLVED, .comm = "kh-hung" };
	const long sys_close = SYS_close;
	const struct kheal_bpf_event *e;
	char path[128], d = 'D';
	uint64_t d_since, d_ms;
	pid_t pid;

	fuse_path(fs, "hang", path, sizeof(path));
	pid = spawn(NULL, NULL, "close-hang", path, "kh-hung", NULL);
	/* close() waits interruptibly first; a signal makes it forced. */
	if (!tap_ok(wait_until(in_fuse_wait, pid, &sys_close, STATE_MS),
		    "hung_task: close() waits on the FUSE flush")) {
		diag_task(pid);
		goto out;
	}
	kill(pid, SIGUSR1);
	d_since = now_ms();
	if (!tap_ok(wait_until(in_state, pid, &d, STATE_MS),
		    "hung_task: the task is in D state")) {
		diag_task(pid);
		goto out;
	}

	e = wait_for(kb, log, &hung, WAIT_MS);
	if (!tap_ok(e != NULL, "hung_task: reported"))
		goto out;
	tap_is_u64(e->pid, pid, "hung_task: pid");
	tap_is_u64(e->probe, KHEAL_BPF_PROBE_HUNG, "hung_task: by the tracker");
	tap_in_range(e->duration_ms, HUNG_MS, HUNG_MS + 1500,
		     "hung_task: duration_ms at least hung_ms, within a scan");
	tap_ok(stack_has(e, "fuse_flush") &&
	       stack_has(e, "request_wait_answer"),
	       "hung_task: stack shows fuse_flush -> request_wait_answer");

	/* Several scans later, still one report for the episode. */
	pump(kb, 4 * HUNG_MS);
	tap_is_u64(count(log, &hung), 1, "hung_task_reported_once_per_episode");

	fuse_release(fs);
	e = wait_for(kb, log, &res, WAIT_MS);
	d_ms = now_ms() - d_since;
	if (tap_ok(e != NULL, "hung_task_resolved: reported")) {
		tap_is_u64(e->pid, pid, "hung_task_resolved: pid");
		tap_in_range(e->duration_ms, HUNG_MS, d_ms + 100,
			     "hung_task_resolved: duration covers the D sleep");
	}
	tap_is_u64(count(log, &res), 1, "hung_task_resolved: once");
out:
	fuse_release(fs);
	reap(pid);
}

static void test_killable_not_hung(struct kheal_bpf *kb, struct ev_log *log,
				   struct fuse_fs *fs)
{
	struct match hung = { .kind = KHEAL_EVENT_HUNG_TASK, .comm = "kh-killable" };
	const long sys_read = SYS_read;
	char path[128], d = 'D';
	pid_t pid;

	fuse_path(fs, "hang-read", path, sizeof(path));
	pid = spawn(NULL, NULL, "read-hang", path, "kh-killable", NULL);
	if (!tap_ok(wait_until(in_fuse_wait, pid, &sys_read, STATE_MS),
		    "killable_d_state_not_reported: read() waits on FUSE")) {
		diag_task(pid);
		goto out;
	}
	kill(pid, SIGUSR1);	/* now TASK_KILLABLE: D in /proc, not hung */
	if (!tap_ok(wait_until(in_state, pid, &d, STATE_MS),
		    "killable_d_state_not_reported: /proc says D"))
		diag_task(pid);
	pump(kb, 3 * HUNG_MS + 500);
	tap_is_u64(count(log, &hung), 0,
		   "killable_d_state_not_reported: no hung_task");
out:
	fuse_release(fs);
	reap(pid);
}

/*
 * Asleep in write() in the FUSE write path, not on a FUSE answer: on
 * the inode's i_rwsem. The lock's own frames are scheduler code, which
 * wchan and /proc/PID/stack leave out.
 */
static bool on_inode_lock(pid_t pid, const void *arg)
{
	char wchan[128];

	(void)arg;
	proc_text(pid, "wchan", wchan, sizeof(wchan));
	return proc_syscall(pid) == SYS_pwrite64 && proc_state(pid) == 'D' &&
	       !strncmp(wchan, "fuse_", 5) && strstr(wchan, "write_iter");
}

/* Of writers @w[2], the one in a FUSE wait while the other is on i_rwsem. */
static pid_t write_holder(const pid_t *w)
{
	const long sys_pwrite = SYS_pwrite64;
	int i;

	for (i = 0; i < 2; i++)
		if (in_fuse_wait(w[i], &sys_pwrite) &&
		    on_inode_lock(w[!i], NULL))
			return w[i];
	return 0;
}

static bool writers_settled(pid_t pid, const void *arg)
{
	(void)pid;
	return write_holder(arg) != 0;
}

/* Requests the FUSE connection of @dev waits on (fusectl), or -errno. */
static long fuse_waiting(dev_t dev, bool *mounted)
{
	const char *ctl = "/sys/fs/fuse/connections";
	char path[96], buf[32];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/waiting", ctl, minor(dev));
	if (access(path, F_OK) && !mount("fusectl", ctl, "fusectl", 0, NULL))
		*mounted = true;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/* Both writers gone within @ms; their wait statuses in @status. */
static bool reap_within(const pid_t *w, int *status, unsigned int ms)
{
	uint64_t end = now_ms() + ms;
	bool done[2] = { false, false };
	int i;

	while (!done[0] || !done[1]) {
		for (i = 0; i < 2; i++)
			if (!done[i] && waitpid(w[i], &status[i], WNOHANG) > 0)
				done[i] = true;
		if (now_ms() >= end)
			return false;
		usleep(10000);
	}
	return true;
}

/*
 * Two writers of hang-write: one holds i_rwsem waiting killably for a
 * WRITE the server leaves unread, the other sleeps on i_rwsem in exact
 * TASK_UNINTERRUPTIBLE, a hung task. SIGKILL frees both, the server
 * still never answering: what a service stuck on a dead filesystem
 * needs from kheal.
 */
static void test_write_hang(struct kheal_bpf *kb, struct ev_log *log,
			    struct fuse_fs *fs)
{
	const long sys_pwrite = SYS_pwrite64;
	struct match hung = { .kind = KHEAL_EVENT_HUNG_TASK };
	pid_t w[2] = { -1, -1 }, holder, waiter;
	const struct kheal_bpf_event *e;
	char path[128], stack[4096], d = 'D';
	int status[2] = { 0, 0 };
	bool ctl_mounted = false;
	uint64_t t0;
	struct stat sb;
	long waiting;

	if (!tap_ok(stat(fs->mnt, &sb) == 0, "write_hang: the mount answers"))
		return;
	fuse_path(fs, "hang-write", path, sizeof(path));
	w[0] = spawn(NULL, NULL, "write-hang", path, "kh-writer-0", NULL);
	if (!tap_ok(wait_until(in_fuse_wait, w[0], &sys_pwrite, STATE_MS),
		    "write_hang: the first write() waits on FUSE")) {
		diag_task(w[0]);
		goto out;
	}
	w[1] = spawn(NULL, NULL, "write-hang", path, "kh-writer-1", NULL);
	if (!tap_ok(wait_until(writers_settled, 0, w, STATE_MS),
		    "write_hang: one writer holds i_rwsem in a FUSE wait, "
		    "the other sleeps on it")) {
		diag_task(w[0]);
		diag_task(w[1]);
		goto out;
	}
	holder = write_holder(w);
	waiter = holder == w[0] ? w[1] : w[0];

	kill(holder, SIGUSR1);	/* its wait for the answer: now killable */
	if (!tap_ok(wait_until(in_state, holder, &d, STATE_MS),
		    "write_hang: the holder waits killably: /proc says D"))
		diag_task(holder);
	proc_text(waiter, "stack", stack, sizeof(stack));
	if (!tap_ok(on_inode_lock(waiter, NULL) && strstr(stack, "vfs_write") &&
		    !strstr(stack, "request_wait_answer"),
		    "write_hang: the other is in D in the FUSE write path, "
		    "not waiting on FUSE")) {
		diag_task(waiter);
		tap_diag("  stack:\n%s", stack);
	}
	waiting = fuse_waiting(sb.st_dev, &ctl_mounted);
	if (waiting < 0)
		tap_skip("write_hang: one FUSE request outstanding",
			 "no fusectl here");
	else
		tap_is_u64(waiting, 1, "write_hang: one FUSE request "
			   "outstanding: the other waits on i_rwsem alone");

	hung.pid = waiter;
	e = wait_for(kb, log, &hung, WAIT_MS);
	if (tap_ok(e != NULL,
		   "write_hang: the one on i_rwsem is reported hung"))
		tap_ok(stack_has(e, "fuse_file_write_iter") ||
		       stack_has(e, "fuse_direct_write_iter"),
		       "write_hang: its stack shows the FUSE write path");
	pump(kb, 3 * HUNG_MS);
	hung.pid = holder;
	tap_is_u64(count(log, &hung), 0,
		   "write_hang: the killable holder is not reported");

	t0 = now_ms();
	kill(w[0], SIGKILL);
	kill(w[1], SIGKILL);
	if (tap_ok(reap_within(w, status, 10000),
		   "write_hang: SIGKILL ends both within 10 s, unanswered")) {
		tap_diag("  both gone in %" PRIu64 " ms", now_ms() - t0);
		tap_ok(WIFSIGNALED(status[0]) &&
		       WTERMSIG(status[0]) == SIGKILL &&
		       WIFSIGNALED(status[1]) &&
		       WTERMSIG(status[1]) == SIGKILL,
		       "write_hang: both died of SIGKILL");
		w[0] = w[1] = -1;
	} else {
		diag_task(w[0]);
		diag_task(w[1]);
	}
out:
	if (ctl_mounted)
		umount2("/sys/fs/fuse/connections", MNT_DETACH);
	/* A WRITE the server read is waited for to the end: answer it. */
	if (w[0] > 0)
		kill(w[0], SIGKILL);
	if (w[1] > 0)
		kill(w[1], SIGKILL);
	fuse_release(fs);
	if (w[0] > 0)
		reap(w[0]);
	if (w[1] > 0)
		reap(w[1]);
}

/* "release" answers every WRITE with 0 bytes: both writers finish. */
static void test_write_hang_released(struct fuse_fs *fs)
{
	const long sys_pwrite = SYS_pwrite64;
	pid_t w[2] = { -1, -1 };
	int status[2] = { 0, 0 };
	char path[128];

	fuse_path(fs, "hang-write", path, sizeof(path));
	w[0] = spawn(NULL, NULL, "write-hang", path, "kh-writer-0", NULL);
	if (wait_until(in_fuse_wait, w[0], &sys_pwrite, STATE_MS))
		w[1] = spawn(NULL, NULL, "write-hang", path, "kh-writer-1",
			     NULL);
	if (!tap_ok(w[1] > 0 && wait_until(writers_settled, 0, w, STATE_MS),
		    "write_hang_released: two writers hang again")) {
		diag_task(w[0]);
		if (w[1] > 0)
			diag_task(w[1]);
	}
	fuse_release(fs);
	if (tap_ok(w[1] > 0 && reap_within(w, status, 10000),
		   "write_hang_released: both finish after \"release\"")) {
		tap_ok(WIFEXITED(status[0]) && !WEXITSTATUS(status[0]) &&
		       WIFEXITED(status[1]) && !WEXITSTATUS(status[1]),
		       "write_hang_released: both exit 0");
		return;
	}
	kill(w[0], SIGKILL);
	reap(w[0]);
	if (w[1] > 0) {
		kill(w[1], SIGKILL);
		reap(w[1]);
	}
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -EIO;
}

static int read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

#define HUNG_SYSCTL "/proc/sys/kernel/hung_task_"

/*
 * khungtaskd's own verdict, with its timeout lowered to 1 s for the
 * test (and its console warnings off), restored afterwards. Both a
 * hung_kernel-only instance and a full one (tracker first, kernel's
 * duplicate suppressed) watch the same task.
 */
static void test_hung_kernel(struct ev_log *log_all, struct kheal_bpf *all,
			     struct fuse_fs *fs)
{
	struct match hung = { .kind = KHEAL_EVENT_HUNG_TASK, .comm = "kh-hung-k" };
	char timeout[32], warnings[32], panic[32], path[128], d = 'D';
	const long sys_close = SYS_close;
	struct ev_log log = { 0 };
	const struct kheal_bpf_event *e;
	struct kheal_bpf_status st;
	struct kheal_bpf *kb;
	pid_t pid;

	if (read_file(HUNG_SYSCTL "timeout_secs", timeout, sizeof(timeout)) ||
	    read_file(HUNG_SYSCTL "warnings", warnings, sizeof(warnings)) ||
	    read_file(HUNG_SYSCTL "panic", panic, sizeof(panic))) {
		tap_skip("hung_kernel", "no hung-task detector in this kernel");
		return;
	}
	if (strcmp(panic, "0")) {
		tap_skip("hung_kernel", "hung_task_panic is set: not risking it");
		return;
	}
	kb = open_kb("hung_kernel", 0, &test_cfg, &log);
	if (!tap_ok(kb != NULL, "hung_kernel: opens alone"))
		return;

	fuse_path(fs, "hang", path, sizeof(path));
	pid = spawn(NULL, NULL, "close-hang", path, "kh-hung-k", NULL);
	wait_until(in_fuse_wait, pid, &sys_close, STATE_MS);
	kill(pid, SIGUSR1);
	wait_until(in_state, pid, &d, STATE_MS);
	write_file(HUNG_SYSCTL "warnings", "0");
	write_file(HUNG_SYSCTL "timeout_secs", "1");

	e = wait_for(kb, &log, &hung, 4000);
	if (tap_ok(e != NULL, "hung_kernel: khungtaskd's report delivered")) {
		tap_is_u64(e->pid, pid, "hung_kernel: pid");
		tap_is_u64(e->probe, KHEAL_BPF_PROBE_HUNG_KERNEL,
			   "hung_kernel: by the hung_kernel probe");
		tap_ok(stack_has(e, "fuse_flush"),
		       "hung_kernel: stack shows fuse_flush");
	}
	/* The full instance's tracker reported first; the kernel's is not. */
	wait_for(all, log_all, &hung, 1000);
	pump(all, 1500);
	tap_is_u64(count(log_all, &hung), 1,
		   "hung_kernel_duplicate_suppressed: one hung_task");
	kheal_bpf_status(all, &st);
	tap_ok(st.probes[KHEAL_BPF_PROBE_HUNG_KERNEL].suppressed >= 1,
	       "hung_kernel_duplicate_suppressed: counted as suppressed");

	write_file(HUNG_SYSCTL "timeout_secs", timeout);
	write_file(HUNG_SYSCTL "warnings", warnings);
	fuse_release(fs);
	reap(pid);
	kheal_bpf_close(kb);
	free(log.v);
}

/* A memory cgroup with a limit, in v2 if it has the controller, else v1. */
struct memcg {
	char v2[128];		/* the task's v2 cgroup: its id is reported */
	char v1[128];		/* "" when v2 holds the memory controller */
};

static int memcg_setup(struct memcg *cg, unsigned long limit)
{
	char path[192], ctl[256] = "", val[32];
	const char *v2root = "/sys/fs/cgroup/unified";
	struct stat sb;

	if (stat("/sys/fs/cgroup/cgroup.controllers", &sb) == 0)
		v2root = "/sys/fs/cgroup";
	snprintf(path, sizeof(path), "%s/cgroup.controllers", v2root);
	read_file(path, ctl, sizeof(ctl));
	snprintf(cg->v2, sizeof(cg->v2), "%s/kheal-bpf-test", v2root);
	if (mkdir(cg->v2, 0755) && errno != EEXIST)
		return -errno;
	snprintf(val, sizeof(val), "%lu", limit);
	cg->v1[0] = '\0';
	if (strstr(ctl, "memory")) {
		snprintf(path, sizeof(path), "%s/cgroup.subtree_control",
			 v2root);
		write_file(path, "+memory");
		snprintf(path, sizeof(path), "%s/memory.max", cg->v2);
		return write_file(path, val);
	}
	snprintf(cg->v1, sizeof(cg->v1), "/sys/fs/cgroup/memory/kheal-bpf-test");
	if (mkdir(cg->v1, 0755) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/memory.limit_in_bytes", cg->v1);
	return write_file(path, val);
}

static void memcg_teardown(struct memcg *cg)
{
	rmdir(cg->v2);
	if (cg->v1[0])
		rmdir(cg->v1);
}

static void test_oom(struct kheal_bpf *kb, struct ev_log *log)
{
	const unsigned long limit = 64UL << 20;
	struct match oom = { .kind = KHEAL_EVENT_OOM_KILL, .comm = "kh-hog" };
	struct match crash = { .kind = KHEAL_EVENT_TASK_CRASH, .comm = "kh-hog" };
	const struct kheal_bpf_event *e, *c;
	struct memcg cg;
	char procs[192];
	struct stat sb;
	pid_t pid;
	int err, st;

	err = memcg_setup(&cg, limit);
	if (err) {
		tap_skip("oom_kill", "no memory cgroup to limit");
		tap_diag("memcg setup: %s", strerror(-err));
		memcg_teardown(&cg);
		return;
	}
	stat(cg.v2, &sb);
	/* Join the cgroups between fork and exec: a child of our own. */
	pid = fork();
	if (!pid) {
		char me[16];

		snprintf(me, sizeof(me), "%d", getpid());
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg.v2);
		if (write_file(procs, me))
			_exit(120);
		if (cg.v1[0]) {
			snprintf(procs, sizeof(procs), "%s/cgroup.procs",
				 cg.v1);
			if (write_file(procs, me))
				_exit(121);
		}
		execl(trigger_path, trigger_path, "hog", "512", "kh-hog",
		      (char *)NULL);
		_exit(127);
	}
	st = reap(pid);
	tap_ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	       "oom_kill: the hog was killed (status %#x)", st);
	e = wait_for(kb, log, &oom, WAIT_MS);
	if (tap_ok(e != NULL, "oom_kill: reported")) {
		tap_is_u64(e->pid, pid, "oom_kill: victim pid");
		tap_is_u64(e->cgroup_id, sb.st_ino,
			   "oom_kill: victim's cgroup v2 id");
		tap_in_range(e->rss_kb, limit / 1024 / 2, limit / 1024 * 5 / 4,
			     "oom_kill: rss_kb near the 64 MiB limit");
		tap_is_u64(e->oom_constraint, KHEAL_OOM_MEMCG,
			   "oom_kill: constraint memcg");
		tap_is_u64(e->severity, KHEAL_SEV_ERROR, "oom_kill: severity");
	}
	c = wait_for(kb, log, &crash, WAIT_MS);
	if (tap_ok(c != NULL, "oom_kill: the victim's death is a SIGKILL crash")) {
		tap_is_u64(c->signal, SIGKILL, "oom_kill: crash signal 9");
		tap_ok(e && c > e, "oom_kill: oom_kill comes before the crash");
	}
	memcg_teardown(&cg);
}

/* A read-only loop device over the FUSE "disk" file. */
struct loopdev {
	char path[32];
	int fd;			/* O_DIRECT reader */
	dev_t rdev;
};

static int loop_setup(struct loopdev *ld, const char *backing)
{
	struct loop_config lc = { 0 };
	int ctl, n, lfd, bfd, err = 0;
	struct stat sb;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	n = ioctl(ctl, LOOP_CTL_GET_FREE);
	close(ctl);
	if (n < 0)
		return -errno;
	snprintf(ld->path, sizeof(ld->path), "/dev/loop%d", n);
	bfd = open(backing, O_RDONLY | O_CLOEXEC);
	if (bfd < 0)
		return -errno;
	lfd = open(ld->path, O_RDONLY | O_CLOEXEC);
	if (lfd < 0) {
		err = -errno;
		close(bfd);
		return err;
	}
	lc.fd = bfd;
	lc.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
	if (ioctl(lfd, LOOP_CONFIGURE, &lc))
		err = -errno;
	close(bfd);
	if (!err) {
		ld->fd = open(ld->path, O_RDONLY | O_DIRECT | O_CLOEXEC);
		if (ld->fd < 0)
			err = -errno;
	}
	if (!err && fstat(ld->fd, &sb) == 0)
		ld->rdev = sb.st_rdev;
	if (err)
		ioctl(lfd, LOOP_CLR_FD, 0);
	close(lfd);
	return err;
}

static void loop_teardown(struct loopdev *ld)
{
	if (ld->fd >= 0) {
		ioctl(ld->fd, LOOP_CLR_FD, 0);
		close(ld->fd);	/* autoclear detaches it */
	}
	ld->fd = -1;
}

static ssize_t loop_read(struct loopdev *ld, off_t off)
{
	void *buf;
	ssize_t n;

	if (posix_memalign(&buf, 4096, 4096))
		return -ENOMEM;
	n = pread(ld->fd, buf, 4096, off);
	if (n < 0)
		n = -errno;
	free(buf);
	return n;
}

static void test_block(struct kheal_bpf *kb, struct ev_log *log,
		       struct fuse_fs *fs)
{
	struct kheal_bpf_config cfg = test_cfg;
	const struct kheal_bpf_event *e, *err_ev;
	struct loopdev ld = { .fd = -1 };
	struct match ioerr = { .kind = KHEAL_EVENT_BLOCK_IO_ERROR };
	struct match stall = { .kind = KHEAL_EVENT_DISK_STALL };
	const char *name;
	char path[128];
	uint64_t t0, lat;
	ssize_t n;
	int err;

	fuse_path(fs, "disk", path, sizeof(path));
	err = loop_setup(&ld, path);
	if (!tap_ok(!err, "block: loop device over the FUSE disk")) {
		tap_diag("loop setup: %s", strerror(-err));
		return;
	}
	name = ld.path + strlen("/dev/");
	ioerr.dev = name;
	stall.dev = name;
	tap_diag("%s over %s", ld.path, path);

	/* Threshold 1000 ms: a 400 ms read is no stall. */
	cfg.disk_stall_ms = 1000;
	kheal_bpf_set_config(kb, &cfg);
	t0 = now_ms();
	n = loop_read(&ld, 16 << 20);
	lat = now_ms() - t0;
	tap_ok(n == 4096 && lat >= 350,
	       "disk_stall: a slow read takes 400 ms (%zd bytes in %" PRIu64
	       " ms)", n, lat);

	/* An I/O error; it also marks the end of the slow read's events. */
	n = loop_read(&ld, 32 << 20);
	tap_is_i64(n, -EIO, "block_io_error: read fails with EIO");
	err_ev = wait_for(kb, log, &ioerr, WAIT_MS);
	if (tap_ok(err_ev != NULL, "block_io_error: reported on %s", name)) {
		tap_is_i64(err_ev->error, -EIO,
			   "block_io_error: error -EIO");
		tap_is_u64(err_ev->dev_major, major(ld.rdev),
			   "block_io_error: major");
		tap_is_u64(err_ev->dev_minor, minor(ld.rdev),
			   "block_io_error: minor");
		tap_is_str(err_ev->detail, "read sector 65536",
			   "block_io_error: operation and sector");
		tap_is_u64(err_ev->severity, KHEAL_SEV_ERROR,
			   "block_io_error: severity");
	}
	tap_is_u64(count(log, &stall), 0,
		   "disk_stall: nothing under the 1000 ms threshold");

	/* Threshold 200 ms, set at run time: the same read is a stall. */
	cfg.disk_stall_ms = 200;
	tap_is_i64(kheal_bpf_set_config(kb, &cfg), 0,
		   "disk_stall: threshold lowered at run time");
	t0 = now_ms();
	loop_read(&ld, (16 << 20) + 4096);
	lat = now_ms() - t0;
	e = wait_for(kb, log, &stall, WAIT_MS);
	if (tap_ok(e != NULL, "disk_stall: reported on %s", name)) {
		tap_in_range(e->duration_ms, 380, lat + 50,
			     "disk_stall: duration_ms is the request's latency");
		tap_is_u64(e->dev_minor, minor(ld.rdev), "disk_stall: minor");
	}
	loop_teardown(&ld);
	kheal_bpf_set_config(kb, &test_cfg);
}

static void test_missing_tracepoint(void)
{
	struct kheal_bpf_opts o = {
		.sz = sizeof(o),
		.probes = "oom,crash",
		.config = &test_cfg,
		.retarget_probe = "oom",
		.retarget_tp = "kheal_no_such_tracepoint",
	};
	struct match m = { .kind = KHEAL_EVENT_TASK_CRASH, .comm = "kh-marker2" };
	const struct kheal_bpf_probe_status *ps;
	struct ev_log log = { 0 };
	struct kheal_bpf_status st;
	struct kheal_bpf *kb;

	kb = kheal_bpf_open(&o, collect, &log);
	if (!tap_ok(kb != NULL,
		    "missing_tracepoint_disables_probe_alone: opens"))
		return;
	kheal_bpf_status(kb, &st);
	ps = &st.probes[KHEAL_BPF_PROBE_OOM];
	tap_ok(!ps->attached && !ps->loaded,
	       "missing_tracepoint_disables_probe_alone: oom is off");
	tap_is_i64(ps->error, -ENOENT,
		   "missing_tracepoint_disables_probe_alone: ENOENT");
	tap_ok(strstr(ps->reason, "probe oom:") &&
	       strstr(ps->reason, "kheal_no_such_tracepoint"),
	       "missing_tracepoint_disables_probe_alone: reason names probe and tracepoint");
	tap_diag("reason: %s", ps->reason);
	tap_ok(st.probes[KHEAL_BPF_PROBE_CRASH].attached,
	       "missing_tracepoint_disables_probe_alone: crash attached");
	run("signal", "11", "kh-marker2");
	tap_ok(wait_for(kb, &log, &m, WAIT_MS) != NULL,
	       "missing_tracepoint_disables_probe_alone: crash still delivers");
	kheal_bpf_close(kb);
	free(log.v);
}

/*
 * hung_kernel pointed at a tracepoint whose first argument is a bool:
 * the verifier refuses it; hung, in the same object, must still load.
 */
static void test_verifier_rejection(void)
{
	struct kheal_bpf_opts o = {
		.sz = sizeof(o),
		.probes = "hung,hung_kernel,crash",
		.config = &test_cfg,
		.retarget_probe = "hung_kernel",
		.retarget_tp = "sched_switch",
	};
	struct match m = { .kind = KHEAL_EVENT_TASK_CRASH, .comm = "kh-marker3" };
	const struct kheal_bpf_probe_status *ps;
	struct ev_log log = { 0 };
	struct kheal_bpf_status st;
	struct kheal_bpf *kb;

	kb = kheal_bpf_open(&o, collect, &log);
	if (!tap_ok(kb != NULL, "verifier_rejection_disables_probe_alone: opens"))
		return;
	kheal_bpf_status(kb, &st);
	ps = &st.probes[KHEAL_BPF_PROBE_HUNG_KERNEL];
	tap_ok(!ps->loaded && ps->error < 0,
	       "verifier_rejection_disables_probe_alone: hung_kernel is off");
	tap_ok(strstr(ps->reason, "probe hung_kernel:") &&
	       strstr(ps->reason, "verifier:"),
	       "verifier_rejection_disables_probe_alone: reason quotes the verifier");
	tap_diag("reason: %s", ps->reason);
	tap_ok(st.probes[KHEAL_BPF_PROBE_HUNG].attached,
	       "verifier_rejection_disables_probe_alone: hung (same object) attached");
	run("signal", "11", "kh-marker3");
	tap_ok(wait_for(kb, &log, &m, WAIT_MS) != NULL,
	       "verifier_rejection_disables_probe_alone: crash still delivers");
	kheal_bpf_close(kb);
	free(log.v);
}

/* A one-page ring buffer that nobody drains: the overflow is counted. */
static void test_ringbuf_drops(void)
{
	const unsigned int n = 40;
	struct match m = { .kind = KHEAL_EVENT_TASK_CRASH, .comm = "kh-flood" };
	struct ev_log log = { 0 };
	struct kheal_bpf_status st;
	struct kheal_bpf *kb;
	unsigned int i;

	kb = open_kb("crash", 4, &test_cfg, &log);
	if (!tap_ok(kb != NULL, "ringbuf_full_drops_counted: opens"))
		return;
	for (i = 0; i < n; i++)
		run("signal", "11", "kh-flood");
	kheal_bpf_status(kb, &st);
	tap_ok(st.rb_drops > 0 && st.rb_drops + st.emitted >= n,
	       "ringbuf_full_drops_counted: %" PRIu64 " dropped + %" PRIu64
	       " emitted >= %u crashes", (uint64_t)st.rb_drops,
	       (uint64_t)st.emitted, n);
	tap_is_u64(st.probes[KHEAL_BPF_PROBE_CRASH].rb_drops, st.rb_drops,
		   "ringbuf_full_drops_counted: charged to the crash probe");
	pump(kb, 200);
	kheal_bpf_status(kb, &st);
	tap_is_u64(st.delivered, st.emitted,
		   "ringbuf_full_drops_counted: every emitted event delivered");
	tap_ok(count(&log, &m) >= 1 && count(&log, &m) < n,
	       "ringbuf_full_drops_counted: %u of %u crashes delivered",
	       count(&log, &m), n);
	kheal_bpf_close(kb);
	free(log.v);
}

static void test_open_errors(void)
{
	struct kheal_bpf_opts o = { .sz = sizeof(o), .probes = "crash,bogus" };

	errno = 0;
	tap_ok(!kheal_bpf_open(&o, collect, NULL) && errno == EINVAL,
	       "unknown probe name refused with EINVAL");
	o.sz = sizeof(o) + 8;
	errno = 0;
	tap_ok(!kheal_bpf_open(&o, collect, NULL) && errno == EINVAL,
	       "opts from a newer library refused with EINVAL");
}

/* Faults this host cannot produce: the probes must at least run. */
static void test_unreachable_faults(struct kheal_bpf *kb)
{
	struct kheal_bpf_status st;

	kheal_bpf_status(kb, &st);
	tap_ok(st.probes[KHEAL_BPF_PROBE_NETDEV_TX_TIMEOUT].attached,
	       "netdev_tx_timeout: attached");
	tap_skip("netdev_tx_timeout: event",
		 "no NIC here whose TX queue can be stalled");
	tap_ok(st.probes[KHEAL_BPF_PROBE_RCU_STALL].attached,
	       "rcu_stall: attached");
	tap_skip("rcu_stall: event",
		 "an RCU stall needs kernel code; userspace cannot cause one");
}

int main(int argc, char **argv)
{
	struct fuse_fs fs = { 0 };
	struct ev_log log = { 0 };
	struct kheal_bpf_status st;
	struct kheal_bpf *kb;
	unsigned int p;
	char *dir;

	(void)argc;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("KHEAL_TRIGGER")) {
		snprintf(trigger_path, sizeof(trigger_path), "%s",
			 getenv("KHEAL_TRIGGER"));
	} else {
		dir = dirname(strdup(argv[0]));
		snprintf(trigger_path, sizeof(trigger_path), "%s/kheal-trigger",
			 dir);
	}
	if (geteuid()) {
		printf("1..0 # SKIP needs root\n");
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	ksyms = kheal_ksyms_load(NULL);

	kb = open_kb(NULL, 0, &test_cfg, &log);
	if (!tap_ok(kb != NULL, "all probes: kheal_bpf_open"))
		return tap_done();
	kheal_bpf_status(kb, &st);
	for (p = 0; p < KHEAL_BPF_PROBE_MAX; p++)
		if (!tap_ok(st.probes[p].attached, "probe %s attached",
			    st.probes[p].name))
			tap_diag("%s", st.probes[p].reason);

	test_crash_exact_signal(kb, &log);
	test_crash_once_per_process(kb, &log);
	test_crash_not_reported(kb, &log);
	test_crash_signals_run_time(kb, &log);

	if (tap_ok(fuse_start(&fs) == 0, "FUSE test filesystem mounted")) {
		test_hung_task(kb, &log, &fs);
		test_killable_not_hung(kb, &log, &fs);
		test_write_hang(kb, &log, &fs);
		test_write_hang_released(&fs);
		test_hung_kernel(&log, kb, &fs);
		test_block(kb, &log, &fs);
	}
	fuse_stop(&fs);
	test_oom(kb, &log);
	test_unreachable_faults(kb);

	kheal_bpf_status(kb, &st);
	tap_is_u64(st.rb_drops, 0, "no event lost in the main run");
	tap_is_u64(st.delivered, st.emitted,
		   "every emitted event delivered in the main run");
	kheal_bpf_close(kb);
	free(log.v);

	test_missing_tracepoint();
	test_verifier_rejection();
	test_ringbuf_drops();
	test_open_errors();

	kheal_ksyms_free(ksyms);
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The runbook executors: freezing, thawing and killing cgroups through
 * cgroup v2's files, signalling a process through a pidfd, and the checks
 * that verify them. They run as root on production hosts, so arguments
 * are held to rules before anything is touched, and every wait is bounded.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "actions.h"
#include "runbook.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define PF_KTHREAD	0x00200000	/* include/linux/sched.h */
#define KTHREADD	2
#define NSEC_PER_MSEC	1000000ULL
#define MAX_TIMEOUT_MS	(7ULL * 24 * 3600 * 1000)
#define POLL_MS		50	/* re-read, notified or not */
#define MAX_DEPTH	32	/* deeper than any cgroup tree */
#define MAX_TASKS	4096	/* a census gives up beyond */
#define COMM_LEN	64
#define WCHAN_LEN	64

void kheal_exec_note_clear(struct kheal_err *err)
{
	if (err)
		err->msg[0] = '\0';
}

const struct kheal_exec_ctx *kheal_exec_ctx_of(void *ctx,
					       struct kheal_err *err)
{
	const struct kheal_exec_ctx *x = ctx;

	if (!x || !x->proc_root || !*x->proc_root) {
		kheal_err_set(err, EINVAL,
			      "executor: no context (struct kheal_exec_ctx with a proc_root)");
		return NULL;
	}
	return x;
}

uint64_t kheal_exec_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void kheal_exec_sleep_ms(uint64_t ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static uint64_t deadline_of(uint64_t timeout_ms)
{
	if (timeout_ms > MAX_TIMEOUT_MS)
		timeout_ms = MAX_TIMEOUT_MS;
	return kheal_exec_now_ns() + timeout_ms * NSEC_PER_MSEC;
}

/* The next wait in ms until @deadline, at most POLL_MS; 0 once past it. */
static int wait_ms(uint64_t deadline)
{
	uint64_t now = kheal_exec_now_ns(), left;

	if (now >= deadline)
		return 0;
	left = (deadline - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;
	return left < POLL_MS ? (int)left : POLL_MS;
}

ssize_t kheal_exec_read_file(int dirfd, const char *path, char *buf,
			     size_t len)
{
	ssize_t n, got = 0;
	int fd, ret = 0;

	if (!len)
		return -EINVAL;
	buf[0] = '\0';
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return -errno;
	while ((size_t)got < len - 1) {
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		if (!n)
			break;
		got += n;
	}
	close(fd);
	buf[got] = '\0';
	return ret ? ret : got;
}

static int write_file(int dirfd, const char *name, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;
	int fd, ret;

	fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	ret = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
	close(fd);
	return ret;
}

/* Control characters become '?': comms and arguments go into messages. */
static void printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			*s = '?';
}

static int proc_path(char *buf, size_t len, const struct kheal_exec_ctx *x,
		     pid_t pid, const char *name)
{
	if (snprintf(buf, len, "%s/%d/%s", x->proc_root, (int)pid, name) >=
	    (int)len)
		return -ENAMETOOLONG;
	return 0;
}

/* What /proc/PID/stat says of a task. */
struct task_stat {
	char comm[COMM_LEN];
	char state;
	pid_t ppid;
	unsigned int flags;
	unsigned long long starttime;	/* field 22: with the pid, its identity */
};

static int task_stat(const struct kheal_exec_ctx *x, pid_t pid,
		     struct task_stat *ts)
{
	char path[PATH_MAX], buf[1024];
	const char *lp, *rp;
	int ppid, ret;
	ssize_t n;

	ret = proc_path(path, sizeof(path), x, pid, "stat");
	if (ret)
		return ret;
	n = kheal_exec_read_file(AT_FDCWD, path, buf, sizeof(buf));
	if (n < 0)
		return n;
	/* The comm may hold anything, ')' and spaces included. */
	lp = strchr(buf, '(');
	rp = strrchr(buf, ')');
	if (!lp || !rp || rp < lp)
		return -EINVAL;
	snprintf(ts->comm, sizeof(ts->comm), "%.*s", (int)(rp - lp - 1),
		 lp + 1);
	printable(ts->comm);
	if (sscanf(rp + 1,
		   " %c %d %*d %*d %*d %*d %u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		   &ts->state, &ppid, &ts->flags, &ts->starttime) != 4)
		return -EINVAL;
	ts->ppid = ppid;
	return 0;
}

static bool gone(int ret)
{
	return ret == -ENOENT || ret == -ESRCH;
}

/* The path of @pid's cgroup v2 ("0::/a/b" in /proc/PID/cgroup). */
static int task_cgroup(const struct kheal_exec_ctx *x, pid_t pid, char *buf,
		       size_t len)
{
	char path[PATH_MAX], text[4096], *line, *save;
	ssize_t n;
	int ret;

	ret = proc_path(path, sizeof(path), x, pid, "cgroup");
	if (ret)
		return ret;
	n = kheal_exec_read_file(AT_FDCWD, path, text, sizeof(text));
	if (n < 0)
		return n;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, "0::", 3)) {
			snprintf(buf, len, "%s", line + 3);
			return 0;
		}
	return -ENODATA;
}

/* The rules a cgroup argument must pass before it is looked up. */
static int cgroup_check_arg(const char *cg, struct kheal_err *err)
{
	size_t len;
	const char *c;

	if (!cg || !*cg)
		return kheal_err_set(err, EPERM,
				     "cgroup '': refused: empty; name a cgroup below the root, like /system.slice/x.service");
	for (c = cg; *c; c++)
		if ((unsigned char)*c < ' ' || *c == 0x7f)
			return kheal_err_set(err, EPERM,
					     "cgroup argument: refused: control character 0x%02x at offset %zu",
					     (unsigned char)*c,
					     (size_t)(c - cg));
	len = c - cg;
	if (*cg != '/')
		return kheal_err_set(err, EPERM,
				     "cgroup '%s': refused: not absolute; cgroup paths start with '/', the cgroup2 root",
				     cg);
	if (!strcmp(cg, "/"))
		return kheal_err_set(err, EPERM,
				     "cgroup '/': refused: the root cgroup holds the whole host");
	if (strstr(cg, "//"))
		return kheal_err_set(err, EPERM,
				     "cgroup '%s': refused: contains '//'", cg);
	if (strstr(cg, ".."))
		return kheal_err_set(err, EPERM,
				     "cgroup '%s': refused: contains '..'", cg);
	if (strstr(cg, "/./") || (len >= 2 && !strcmp(cg + len - 2, "/.")))
		return kheal_err_set(err, EPERM,
				     "cgroup '%s': refused: has a '.' component",
				     cg);
	return 0;
}

/*
 * Opens @cg's directory. The check against the root is made on the
 * resolved path; the open itself then resolves without symlinks and
 * beneath the root (openat2, Linux 5.6), so a directory swapped in
 * between cannot lead it elsewhere. @rel gets the resolved path below
 * the root, "/a/b", if not NULL.
 */
static int cgroup_open(const struct kheal_exec_ctx *x, const char *cg,
		       char *rel, size_t rel_len, struct kheal_err *err)
{
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	char root[PATH_MAX], full[PATH_MAX], real[PATH_MAX];
	int rootfd, fd, ret, e;
	size_t n;

	ret = cgroup_check_arg(cg, err);
	if (ret)
		return ret;
	if (!x->cgroup_root || !*x->cgroup_root)
		return kheal_err_set(err, EOPNOTSUPP,
				     "cgroup %s: no cgroup2 mount on this host",
				     cg);
	if (!realpath(x->cgroup_root, root)) {
		e = errno;
		return kheal_err_set(err, e == ENOENT ? ENODEV : e,
				     "cgroup root %s: %s", x->cgroup_root,
				     strerror(e));
	}
	if (snprintf(full, sizeof(full), "%s%s", root, cg) >=
	    (int)sizeof(full))
		return kheal_err_set(err, ENAMETOOLONG,
				     "cgroup %s: path too long", cg);
	if (!realpath(full, real)) {
		e = errno;
		if (e == ENOENT)
			return kheal_err_set(err, ENOENT,
					     "cgroup %s: no such cgroup under %s",
					     cg, root);
		return kheal_err_set(err, e, "cgroup %s: %s: %s", cg, full,
				     strerror(e));
	}
	n = strcmp(root, "/") ? strlen(root) : 0;
	if (strncmp(real, root, n) || real[n] != '/' || !real[n + 1])
		return kheal_err_set(err, EPERM,
				     "cgroup '%s': refused: resolves to %s, not below the cgroup root %s",
				     cg, real, root);

	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		e = errno;
		return kheal_err_set(err, e, "cgroup root %s: %s", root,
				     strerror(e));
	}
	fd = syscall(SYS_openat2, rootfd, real + n + 1, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS)
		fd = open(real, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			  O_CLOEXEC);
	e = errno;
	close(rootfd);
	if (fd < 0) {
		if (e == ENOENT)
			return kheal_err_set(err, ENOENT,
					     "cgroup %s: no such cgroup under %s",
					     cg, root);
		if (e == ELOOP || e == EXDEV)
			return kheal_err_set(err, EPERM,
					     "cgroup '%s': refused: %s changed while being opened",
					     cg, real);
		return kheal_err_set(err, e, "cgroup %s: %s: %s", cg, real,
				     strerror(e));
	}
	if (rel)
		snprintf(rel, rel_len, "%s", real + n);
	return fd;
}

int kheal_exec_cgroup_open(const struct kheal_exec_ctx *x, const char *cgroup,
			   struct kheal_err *err)
{
	return cgroup_open(x, cgroup, NULL, 0, err);
}

/* True if the cgroup at @path is @cg or below it. */
static bool is_within(const char *path, const char *cg)
{
	size_t n = strlen(cg);

	return !strncmp(path, cg, n) && (path[n] == '\0' || path[n] == '/');
}

/*
 * Freezing or killing a cgroup that holds pid 1 hangs or panics the host;
 * one that holds the agent or its parent (its supervisor) stops the
 * healing. When that cannot be told, the answer is no.
 */
static int refuse_if_holds(const struct kheal_exec_ctx *x, const char *cg,
			   const char *rel, struct kheal_err *err)
{
	struct {
		pid_t pid;
		const char *who;
	} v[] = {
		{ 1, "init" },
		{ x->self, "the agent" },
		{ 0, "the agent's parent" },
	};
	char where[PATH_MAX];
	struct task_stat me;
	size_t i;
	pid_t pid;
	int ret;

	ret = task_stat(x, x->self, &me);
	if (ret)
		return kheal_err_set(err, EPERM,
				     "cgroup %s: refused: cannot tell the agent's parent: %s/%d/stat: %s",
				     cg, x->proc_root, (int)x->self,
				     strerror(-ret));
	v[2].pid = me.ppid;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		pid = v[i].pid;
		if (pid <= 0)
			continue;
		ret = task_cgroup(x, pid, where, sizeof(where));
		if (ret)
			return kheal_err_set(err, EPERM,
					     "cgroup %s: refused: cannot tell whether it holds %s (pid %d): %s/%d/cgroup: %s",
					     cg, v[i].who, (int)pid,
					     x->proc_root, (int)pid,
					     strerror(-ret));
		if (is_within(where, rel))
			return kheal_err_set(err, EPERM,
					     "cgroup %s: refused: it holds %s (pid %d, in %s)",
					     cg, v[i].who, (int)pid, where);
	}
	return 0;
}

/* The value of @key ("frozen", "populated") in a cgroup.events text. */
static int events_parse(char *text, const char *key, int *val)
{
	size_t klen = strlen(key);
	char *line, *save;

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, key, klen) && line[klen] == ' ') {
			*val = atoi(line + klen + 1);
			return 0;
		}
	return -ENODATA;
}

static int events_get(int fd, const char *key, int *val)
{
	char buf[256];
	ssize_t n;

	/* kernfs restarts a read at offset 0, and rearms poll() with it. */
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return events_parse(buf, key, val);
}

/*
 * Waits until cgroup.events, open at @fd, says "@key @want". kernfs
 * wakes poll() with POLLPRI when the file changes; the poll is capped so
 * that a tree without notifications is re-read as well.
 */
static int events_wait(int fd, const char *key, int want, uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLPRI };
	int val, ret, ms;

	for (;;) {
		ret = events_get(fd, key, &val);
		if (ret)
			return ret;
		if (val == want)
			return 0;
		ms = wait_ms(deadline);
		if (!ms)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, ms) < 0 && errno != EINTR)
			return -errno;
	}
}

static int events_open(int dirfd, const char *cg, struct kheal_err *err)
{
	int fd, e;

	fd = openat(dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		e = errno;
		return kheal_err_set(err, e == ENOENT ? EOPNOTSUPP : e,
				     "cgroup %s: cgroup.events: %s", cg,
				     strerror(e));
	}
	return fd;
}

static int events_fail(int ret, const char *cg, const char *key,
		       struct kheal_err *err)
{
	if (ret == -ENODATA)
		return kheal_err_set(err, EOPNOTSUPP,
				     "cgroup %s: cgroup.events has no '%s' line (cgroup v2 before Linux 5.2?)",
				     cg, key);
	return kheal_err_set(err, -ret, "cgroup %s: reading cgroup.events: %s",
			     cg, strerror(-ret));
}

/* Writes a cgroup control file; a missing one means an older kernel. */
static int cgroup_write(int dirfd, const char *cg, const char *file,
			const char *val, const char *need,
			struct kheal_err *err)
{
	int ret = write_file(dirfd, file, val);

	if (ret == -ENOENT)
		return kheal_err_set(err, EOPNOTSUPP, "cgroup %s: no %s: %s",
				     cg, file, need);
	if (ret)
		return kheal_err_set(err, -ret,
				     "cgroup %s: writing %s to %s: %s", cg, val,
				     file, strerror(-ret));
	return 0;
}

/*
 * Where the tasks of a cgroup subtree stand, from their /proc entries:
 * what the freezer reached and what it cannot. Bounded in depth and in
 * tasks; beyond either it is incomplete.
 */
struct census {
	const struct kheal_exec_ctx *x;
	unsigned int seen;	/* ids listed */
	unsigned int alive;	/* not exited */
	unsigned int dstate;
	unsigned int running;	/* neither frozen, stopped nor in D */
	bool incomplete;
	pid_t d_pid, run_pid;
	struct task_stat d, run;
	char run_wchan[WCHAN_LEN];
};

/*
 * The cgroup v2 freezer parks a task in do_freezer_trap() (kernel/signal.c),
 * which the compiler may inline into get_signal(). The only other sleeps
 * in get_signal() are job control and ptrace stops, which are in T or t
 * state, not S. Without kallsyms wchan gives no name, and the task counts
 * as running: the freeze then times out rather than claim too much.
 */
static bool in_freezer_trap(const char *wchan)
{
	return !strcmp(wchan, "do_freezer_trap") ||
	       !strcmp(wchan, "get_signal");
}

static void census_task(struct census *c, pid_t pid)
{
	char path[PATH_MAX], wchan[WCHAN_LEN] = "?";
	struct task_stat ts;
	int ret;

	ret = task_stat(c->x, pid, &ts);
	if (gone(ret))
		return;
	if (ret) {
		/* Unknown: it may be running, so the census cannot vouch. */
		c->incomplete = true;
		return;
	}
	switch (ts.state) {
	case 'Z':
	case 'X':
	case 'x':
		return;
	case 'D':
		c->alive++;
		if (!c->dstate++) {
			c->d_pid = pid;
			c->d = ts;
		}
		return;
	case 'T':
	case 't':
		/* The cgroup v2 freezer counts stopped tasks as frozen. */
		c->alive++;
		return;
	}
	c->alive++;
	if (!proc_path(path, sizeof(path), c->x, pid, "wchan") &&
	    kheal_exec_read_file(AT_FDCWD, path, wchan, sizeof(wchan)) >= 0) {
		wchan[strcspn(wchan, "\n")] = '\0';
		if (ts.state == 'S' && in_freezer_trap(wchan))
			return;
	}
	printable(wchan);
	if (!c->running++) {
		c->run_pid = pid;
		c->run = ts;
		snprintf(c->run_wchan, sizeof(c->run_wchan), "%s",
			 *wchan ? wchan : "?");
	}
}

/* Every task that @list ("cgroup.threads", "cgroup.procs") names, below. */
static void census_walk(struct census *c, int dirfd, const char *list,
			int depth)
{
	struct dirent *de;
	char *line = NULL;
	size_t cap = 0;
	DIR *dir;
	FILE *f;
	long pid;
	int fd;

	fd = openat(dirfd, list, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		c->incomplete = true;
		return;
	}
	while (getline(&line, &cap, f) > 0) {
		if (c->seen++ >= MAX_TASKS) {
			c->incomplete = true;
			break;
		}
		pid = strtol(line, NULL, 10);
		if (pid > 0 && pid <= INT_MAX)
			census_task(c, pid);
	}
	free(line);
	fclose(f);

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		c->incomplete = true;
		return;
	}
	while (!c->incomplete && (de = readdir(dir))) {
		if ((de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) ||
		    !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		fd = openat(dirfd, de->d_name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;	/* not a directory, or removed */
		if (depth + 1 >= MAX_DEPTH)
			c->incomplete = true;
		else
			census_walk(c, fd, list, depth + 1);
		close(fd);
	}
	closedir(dir);
}

static const char *plural(unsigned int n)
{
	return n == 1 ? "" : "s";
}

/*
 * The freeze timed out. Tasks in D state cannot be frozen until they
 * wake; if they are all that is left, the cgroup is as frozen as it can
 * be, and the note says so.
 */
static int freeze_verdict(const struct kheal_exec_ctx *x, int dirfd, int evfd,
			  const char *cg, uint64_t timeout_ms,
			  struct kheal_err *err)
{
	struct census c = { .x = x };
	int frozen;

	census_walk(&c, dirfd, "cgroup.threads", 0);
	if (!events_get(evfd, "frozen", &frozen) && frozen == 1)
		return 0;
	if (c.running)
		return kheal_err_set(err, ETIMEDOUT,
				     "cgroup %s: not frozen after %llu ms: pid %d (%s) is still running (state %c, wchan %s)",
				     cg, (unsigned long long)timeout_ms,
				     (int)c.run_pid, c.run.comm, c.run.state,
				     c.run_wchan);
	if (c.incomplete)
		return kheal_err_set(err, ETIMEDOUT,
				     "cgroup %s: not frozen after %llu ms, and not all of its tasks could be checked (%u listed)",
				     cg, (unsigned long long)timeout_ms,
				     c.seen);
	if (!c.dstate)
		return kheal_err_set(err, ETIMEDOUT,
				     "cgroup %s: not frozen after %llu ms, though none of its %u tasks is running",
				     cg, (unsigned long long)timeout_ms,
				     c.alive);
	if (err)
		snprintf(err->msg, sizeof(err->msg),
			 "cgroup %s: %u task%s in D state could not be frozen; the rest are (pid %d (%s) is in D state)",
			 cg, c.dstate, plural(c.dstate), (int)c.d_pid,
			 c.d.comm);
	return 0;
}

int kheal_action_cgroup_freeze(const char *const *args, uint64_t timeout_ms,
			       void *ctx, struct kheal_err *err)
{
	uint64_t deadline = deadline_of(timeout_ms);
	const struct kheal_exec_ctx *x;
	const char *cg = args[0];
	char rel[PATH_MAX];
	int dirfd, evfd, ret;

	kheal_exec_note_clear(err);
	x = kheal_exec_ctx_of(ctx, err);
	if (!x)
		return -EINVAL;
	dirfd = cgroup_open(x, cg, rel, sizeof(rel), err);
	if (dirfd < 0)
		return dirfd;
	ret = refuse_if_holds(x, cg, rel, err);
	if (ret)
		goto out;
	evfd = events_open(dirfd, cg, err);
	if (evfd < 0) {
		ret = evfd;
		goto out;
	}
	ret = cgroup_write(dirfd, cg, "cgroup.freeze", "1",
			   "the kernel is older than 5.2", err);
	if (ret)
		goto out_events;
	ret = events_wait(evfd, "frozen", 1, deadline);
	if (ret == -ETIMEDOUT)
		ret = freeze_verdict(x, dirfd, evfd, cg, timeout_ms, err);
	else if (ret)
		ret = events_fail(ret, cg, "frozen", err);
out_events:
	close(evfd);
out:
	close(dirfd);
	return ret;
}

int kheal_action_cgroup_thaw(const char *const *args, uint64_t timeout_ms,
			     void *ctx, struct kheal_err *err)
{
	uint64_t deadline = deadline_of(timeout_ms);
	const struct kheal_exec_ctx *x;
	const char *cg = args[0];
	int dirfd, evfd, ret;

	kheal_exec_note_clear(err);
	x = kheal_exec_ctx_of(ctx, err);
	if (!x)
		return -EINVAL;
	dirfd = cgroup_open(x, cg, NULL, 0, err);
	if (dirfd < 0)
		return dirfd;
	evfd = events_open(dirfd, cg, err);
	if (evfd < 0) {
		ret = evfd;
		goto out;
	}
	ret = cgroup_write(dirfd, cg, "cgroup.freeze", "0",
			   "the kernel is older than 5.2", err);
	if (ret)
		goto out_events;
	ret = events_wait(evfd, "frozen", 0, deadline);
	if (ret == -ETIMEDOUT)
		ret = kheal_err_set(err, ETIMEDOUT,
				    "cgroup %s: still frozen after %llu ms; is a parent cgroup frozen (its cgroup.freeze)?",
				    cg, (unsigned long long)timeout_ms);
	else if (ret)
		ret = events_fail(ret, cg, "frozen", err);
out_events:
	close(evfd);
out:
	close(dirfd);
	return ret;
}

int kheal_action_cgroup_kill(const char *const *args, uint64_t timeout_ms,
			     void *ctx, struct kheal_err *err)
{
	uint64_t deadline = deadline_of(timeout_ms);
	const struct kheal_exec_ctx *x;
	const char *cg = args[0];
	struct census c = { 0 };
	char rel[PATH_MAX];
	int dirfd, evfd, ret;

	kheal_exec_note_clear(err);
	x = kheal_exec_ctx_of(ctx, err);
	if (!x)
		return -EINVAL;
	dirfd = cgroup_open(x, cg, rel, sizeof(rel), err);
	if (dirfd < 0)
		return dirfd;
	ret = refuse_if_holds(x, cg, rel, err);
	if (ret)
		goto out;
	evfd = events_open(dirfd, cg, err);
	if (evfd < 0) {
		ret = evfd;
		goto out;
	}
	ret = cgroup_write(dirfd, cg, "cgroup.kill", "1",
			   "the kernel is older than 5.14; kill its processes with task.kill",
			   err);
	if (ret)
		goto out_events;
	ret = events_wait(evfd, "populated", 0, deadline);
	if (ret == -ETIMEDOUT) {
		c.x = x;
		census_walk(&c, dirfd, "cgroup.procs", 0);
		if (!c.dstate)
			ret = kheal_err_set(err, ETIMEDOUT,
					    "cgroup %s: %u process%s remain%s %llu ms after cgroup.kill",
					    cg, c.alive, c.alive == 1 ? "" : "es",
					    c.alive == 1 ? "s" : "",
					    (unsigned long long)timeout_ms);
		else
			ret = kheal_err_set(err, ETIMEDOUT,
					    "cgroup %s: %u process%s remain%s %llu ms after cgroup.kill, %u in D state (pid %d (%s)): they die when they wake",
					    cg, c.alive, c.alive == 1 ? "" : "es",
					    c.alive == 1 ? "s" : "",
					    (unsigned long long)timeout_ms,
					    c.dstate, (int)c.d_pid, c.d.comm);
	} else if (ret) {
		ret = events_fail(ret, cg, "populated", err);
	}
out_events:
	close(evfd);
out:
	close(dirfd);
	return ret;
}

static int parse_pid(const char *s, pid_t *pid, struct kheal_err *err)
{
	unsigned long v;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		goto bad;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > INT_MAX)
		goto bad;
	*pid = v;
	return 0;
bad:
	return kheal_err_set(err, EINVAL, "pid '%.32s': expected a process id",
			     s ? s : "");
}

/* A name as the runbook parser takes it (KILL, SIGKILL), or a number. */
static int parse_signal(const char *s, int *sig, struct kheal_err *err)
{
	unsigned long v;
	char *end;

	if (!s) {
		*sig = SIGKILL;
		return 0;
	}
	if (isdigit((unsigned char)*s)) {
		errno = 0;
		v = strtoul(s, &end, 10);
		if (!errno && !*end && v >= 1 && v <= (unsigned long)SIGRTMAX) {
			*sig = v;
			return 0;
		}
	} else {
		*sig = kheal_signal_number(s);
		if (*sig > 0)
			return 0;
	}
	return kheal_err_set(err, EINVAL,
			     "signal '%.32s': expected a name like KILL or TERM, or a number from 1 to %d",
			     s, SIGRTMAX);
}

static const char *sig_name(int sig, char *buf, size_t len)
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		snprintf(buf, len, "SIG%s", abbrev);
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}

/* True once the process behind @pidfd has exited (a zombie included). */
static bool exited(int pidfd, int ms)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

	while (poll(&pfd, 1, ms) < 0)
		if (errno != EINTR)
			return false;
	return pfd.revents & (POLLIN | POLLHUP);
}

static int already_gone(pid_t pid, struct kheal_err *err)
{
	if (err)
		snprintf(err->msg, sizeof(err->msg),
			 "pid %d: already gone; nothing was signalled",
			 (int)pid);
	return 0;
}

/* A kernel thread: PF_KTHREAD, or (older ways) kthreadd's child sans argv. */
static bool is_kthread(const struct kheal_exec_ctx *x, pid_t pid,
		       const struct task_stat *ts)
{
	char path[PATH_MAX], buf[16];

	if (ts->flags & PF_KTHREAD)
		return true;
	if (ts->ppid != KTHREADD)
		return false;
	return !proc_path(path, sizeof(path), x, pid, "cmdline") &&
	       kheal_exec_read_file(AT_FDCWD, path, buf, sizeof(buf)) == 0;
}

/*
 * The checks that name a pid run before the pidfd is opened; those that
 * read /proc after it, and hold only if the process is still there once
 * read: then what was read was about the process the pidfd pins.
 */
int kheal_exec_task_kill(const struct kheal_exec_ctx *x, pid_t pid,
			 uint64_t starttime, const char *within, int sig,
			 uint64_t timeout_ms, struct kheal_err *err)
{
	uint64_t deadline = deadline_of(timeout_ms);
	char name[32], where[PATH_MAX];
	struct task_stat me, ts;
	int pidfd, ret, e;

	kheal_exec_note_clear(err);
	sig_name(sig, name, sizeof(name));
	if (pid <= 1)
		return kheal_err_set(err, EPERM,
				     "pid %d: refused: pids 0 and 1 are never signalled (1 is init: killing it panics the kernel)",
				     (int)pid);
	if (pid == x->self)
		return kheal_err_set(err, EPERM,
				     "pid %d: refused: it is the agent itself",
				     (int)pid);
	ret = task_stat(x, x->self, &me);
	if (ret)
		return kheal_err_set(err, EPERM,
				     "pid %d: refused: cannot tell the agent's parent: %s/%d/stat: %s",
				     (int)pid, x->proc_root, (int)x->self,
				     strerror(-ret));
	if (pid == me.ppid)
		return kheal_err_set(err, EPERM,
				     "pid %d: refused: it is the agent's parent",
				     (int)pid);

	pidfd = pidfd_open(pid, 0);
	if (pidfd < 0) {
		e = errno;
		if (e == ESRCH)
			return already_gone(pid, err);
		if (e == EINVAL)
			return kheal_err_set(err, EINVAL,
					     "pid %d: not a process (a thread's id?); task.kill signals whole processes",
					     (int)pid);
		return kheal_err_set(err, e, "pid %d: pidfd_open: %s%s",
				     (int)pid, strerror(e),
				     e == ENOSYS ? " (needs Linux 5.3)" : "");
	}
	ret = task_stat(x, pid, &ts);
	if (ret) {
		if (gone(ret) && exited(pidfd, 0))
			ret = already_gone(pid, err);
		else
			ret = kheal_err_set(err, -ret,
					    "pid %d: reading %s/%d/stat: %s",
					    (int)pid, x->proc_root, (int)pid,
					    strerror(-ret));
		goto out;
	}
	if (is_kthread(x, pid, &ts)) {
		ret = kheal_err_set(err, EPERM,
				    "pid %d (%s): refused: a kernel thread; signals do not stop it",
				    (int)pid, ts.comm);
		goto out;
	}
	if (starttime && ts.starttime != starttime) {
		if (err)
			snprintf(err->msg, sizeof(err->msg),
				 "pid %d: the process picked has exited, and its pid is another's now; nothing was signalled",
				 (int)pid);
		ret = 0;
		goto out;
	}
	if (within && strcmp(within, "/") &&
	    (task_cgroup(x, pid, where, sizeof(where)) ||
	     !is_within(where, within))) {
		ret = kheal_err_set(err, EPERM,
				    "pid %d (%s): refused: no longer in cgroup %s",
				    (int)pid, ts.comm, within);
		goto out;
	}
	if (ts.state == 'Z' || ts.state == 'X' || exited(pidfd, 0)) {
		ret = already_gone(pid, err);
		goto out;
	}
	if (pidfd_send_signal(pidfd, sig, NULL, 0) < 0) {
		e = errno;
		if (e == ESRCH)
			ret = already_gone(pid, err);
		else
			ret = kheal_err_set(err, e, "pid %d (%s): sending %s: %s",
					    (int)pid, ts.comm, name,
					    strerror(e));
		goto out;
	}
	for (;;) {
		if (exited(pidfd, wait_ms(deadline))) {
			ret = 0;
			break;
		}
		if (!wait_ms(deadline)) {
			if (task_stat(x, pid, &ts))
				ts.state = '?';
			ret = kheal_err_set(err, ETIMEDOUT,
					    "pid %d (%s): still there %llu ms after %s (state %c%s)",
					    (int)pid, ts.comm,
					    (unsigned long long)timeout_ms,
					    name, ts.state,
					    ts.state == 'D' ?
					    ": in D state it cannot die until it wakes" :
					    "");
			break;
		}
	}
out:
	close(pidfd);
	return ret;
}

int kheal_action_task_kill(const char *const *args, uint64_t timeout_ms,
			   void *ctx, struct kheal_err *err)
{
	const struct kheal_exec_ctx *x;
	int sig = 0, ret;
	pid_t pid;

	kheal_exec_note_clear(err);
	x = kheal_exec_ctx_of(ctx, err);
	if (!x)
		return -EINVAL;
	ret = parse_pid(args[0], &pid, err);
	if (!ret)
		ret = parse_signal(args[1], &sig, err);
	if (ret)
		return ret;
	return kheal_exec_task_kill(x, pid, 0, NULL, sig, timeout_ms, err);
}

/* The message is the caller's to journal; there must be one. */
static int say(const char *what, const char *const *args,
	       struct kheal_err *err)
{
	kheal_exec_note_clear(err);
	if (!args[0] || !*args[0])
		return kheal_err_set(err, EINVAL, "%s: message: empty", what);
	if (args[1] && !*args[1])
		return kheal_err_set(err, EINVAL, "%s: target: empty", what);
	return 0;
}

int kheal_action_escalate(const char *const *args, uint64_t timeout_ms,
			  void *ctx, struct kheal_err *err)
{
	(void)timeout_ms;
	(void)ctx;
	return say("escalate", args, err);
}

int kheal_action_notify(const char *const *args, uint64_t timeout_ms,
			void *ctx, struct kheal_err *err)
{
	(void)timeout_ms;
	(void)ctx;
	return say("notify", args, err);
}

int kheal_check_cgroup_empty(const char *const *args, void *ctx,
			     struct kheal_err *err)
{
	const struct kheal_exec_ctx *x;
	const char *cg = args[0];
	int dirfd, populated;
	char buf[256];
	ssize_t n;

	kheal_exec_note_clear(err);
	x = kheal_exec_ctx_of(ctx, err);
	if (!x)
		return -EINVAL;
	dirfd = cgroup_open(x, cg, NULL, 0, err);
	if (dirfd == -ENOENT) {
		kheal_exec_note_clear(err);
		return 1;	/* removed: nothing is left in it */
	}
	if (dirfd < 0)
		return dirfd;
	n = kheal_exec_read_file(dirfd, "cgroup.events", buf, sizeof(buf));
	close(dirfd);
	if (n == -ENOENT)
		return 1;	/* removed since it was opened */
	if (n < 0)
		return events_fail(n, cg, "populated", err);
	n = events_parse(buf, "populated", &populated);
	if (n < 0)
		return events_fail(n, cg, "populated", err);
	return populated == 0;
}

int kheal_check_task_gone(const char *const *args, void *ctx,
			  struct kheal_err *err)
{
	const struct kheal_exec_ctx *x;
	struct task_stat ts;
	pid_t pid;
	int ret;

	kheal_exec_note_clear(err);
	x = kheal_exec_ctx_of(ctx, err);
	if (!x)
		return -EINVAL;
	ret = parse_pid(args[0], &pid, err);
	if (ret)
		return ret;
	if (!pid)
		return kheal_err_set(err, EINVAL, "pid 0: not a process id");
	ret = task_stat(x, pid, &ts);
	if (gone(ret))
		return 1;
	if (ret)
		return kheal_err_set(err, -ret, "pid %d: reading %s/%d/stat: %s",
				     (int)pid, x->proc_root, (int)pid,
				     strerror(-ret));
	return ts.state == 'Z' || ts.state == 'X';
}

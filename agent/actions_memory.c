// SPDX-License-Identifier: GPL-2.0
/*
 * The memory executors: killing the process that leaks, the one whose
 * memory grew most of late (memtrack.h), before the kernel's OOM killer
 * takes the largest; and checking that tasks no longer stall on memory.
 * Through the kernel's interfaces only: cgroup v2 files, /proc, PSI, a
 * pidfd (task.kill's rules, kheal_exec_task_kill()).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actions.h"
#include "memtrack.h"
#include "psi.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define NSEC_PER_MSEC	((uint64_t)1000000)
/* Samples spanning less cannot tell growth from size. */
#define MIN_SPAN_MS	500
/* The pick's two samples of its own, when kheald tracks nothing here. */
#define OWN_SPAN_MS	500
/* The leaders looked at: beyond them, something is wrong anyway. */
#define CANDIDATES	8
/* How long memory.pressure_ok measures. */
#define MEASURE_MS	200

static bool is_host(const char *cg)
{
	return cg && !strcmp(cg, "/");
}

/*
 * Holds @cg to the cgroup rules ("/" allowed): 0, or -errno naming the
 * rule it breaks; -ENOENT if it does not exist.
 */
static int scope_check(const struct kheal_exec_ctx *x, const char *cg,
		       struct kheal_err *err)
{
	int fd;

	if (is_host(cg))
		return 0;
	fd = kheal_exec_cgroup_open(x, cg, err);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* A number from a cgroup file of @cg under the root; -ENODATA for "max". */
static int cgroup_u64(const struct kheal_exec_ctx *x, const char *cg,
		      const char *file, uint64_t *v)
{
	char path[PATH_MAX], buf[64], *end;
	ssize_t n;

	if (snprintf(path, sizeof(path), "%s%s/%s", x->cgroup_root, cg, file) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	n = kheal_exec_read_file(AT_FDCWD, path, buf, sizeof(buf));
	if (n < 0)
		return n;
	if (!strncmp(buf, "max", 3))
		return -ENODATA;
	errno = 0;
	*v = strtoull(buf, &end, 10);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

static int meminfo_kb(const struct kheal_exec_ctx *x, const char *key,
		      int64_t *kb)
{
	char path[PATH_MAX], buf[8192], *line, *save;
	size_t klen = strlen(key);
	long long v;

	snprintf(path, sizeof(path), "%s/meminfo", x->proc_root);
	if (kheal_exec_read_file(AT_FDCWD, path, buf, sizeof(buf)) <= 0)
		return -ENODATA;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, key, klen) && line[klen] == ':' &&
		    sscanf(line + klen + 1, "%lld", &v) == 1) {
			*kb = v;
			return 0;
		}
	return -ENODATA;
}

/*
 * The room left before the OOM killer: the least memory.max -
 * memory.current of @cg and its ancestors, else the host's MemAvailable
 * (and its free swap, beside). @what says which.
 */
static int margin_kb(const struct kheal_exec_ctx *x, const char *cg,
		     int64_t *kb, char *what, size_t len)
{
	char path[KHEAL_CGROUP_PATH_LEN], *slash;
	uint64_t max, cur;
	int64_t m;
	bool found = false;

	snprintf(path, sizeof(path), "%s", is_host(cg) ? "" : cg);
	while (path[0] && x->cgroup_root) {
		if (!cgroup_u64(x, path, "memory.max", &max) &&
		    !cgroup_u64(x, path, "memory.current", &cur)) {
			m = ((int64_t)max - (int64_t)cur) / 1024;
			if (!found || m < *kb) {
				*kb = m;
				snprintf(what, len, "memory.max of %s", path);
			}
			found = true;
		}
		slash = strrchr(path, '/');
		*slash = '\0';
	}
	if (found)
		return 0;
	/* Swap is room too, if not RAM: said beside. */
	if (!meminfo_kb(x, "SwapTotal", &m) && m &&
	    !meminfo_kb(x, "SwapFree", &m))
		snprintf(what, len, "MemAvailable; SwapFree %" PRId64 " kB", m);
	else
		snprintf(what, len, "MemAvailable");
	return meminfo_kb(x, "MemAvailable", kb);
}

/* /proc/PID/oom_score_adj; 0 if it cannot be read. */
static int oom_score_adj(const struct kheal_exec_ctx *x, pid_t pid)
{
	char path[PATH_MAX], buf[16];

	snprintf(path, sizeof(path), "%s/%d/oom_score_adj", x->proc_root,
		 (int)pid);
	if (kheal_exec_read_file(AT_FDCWD, path, buf, sizeof(buf)) <= 0)
		return 0;
	return atoi(buf);
}

/*
 * The candidates, most grown first: from kheald's tracker when it has
 * watched @cg long enough (then sampled once more, to be current), else
 * from two samples of its own OWN_SPAN_MS apart. @how says which.
 */
static int pick(const struct kheal_exec_ctx *x, const char *cg,
		uint64_t timeout_ms, struct kheal_grower *top, size_t *n,
		size_t *looked, const char **how, struct kheal_err *err)
{
	struct kheal_memtrack own, *t = x->memtrack;
	uint64_t span = OWN_SPAN_MS;
	int ret;

	if (t && kheal_memtrack_covers(t, cg, MIN_SPAN_MS)) {
		*how = "tracked";
		ret = kheal_memtrack_sample(t, kheal_exec_now_ns(), err);
	} else {
		*how = "sampled";
		if (timeout_ms < 2 * span)
			span = timeout_ms / 2;
		t = &own;
		kheal_memtrack_init(t, x->proc_root, x->cgroup_root,
				    KHEAL_MEMTRACK_WINDOW_MS);
		ret = kheal_memtrack_watch(t, cg, err);
		if (!ret)
			ret = kheal_memtrack_sample(t, kheal_exec_now_ns(), err);
		if (!ret) {
			kheal_exec_sleep_ms(span);
			ret = kheal_memtrack_sample(t, kheal_exec_now_ns(), err);
		}
	}
	if (!ret) {
		*looked = kheal_memtrack_top(t, cg, top, CANDIDATES);
		*n = *looked < CANDIDATES ? *looked : CANDIDATES;
	}
	if (t == &own)
		kheal_memtrack_free(t);
	return ret;
}

/* "; passed over N: first reason" for the note or the error. */
static void passed_over(char *buf, size_t len, unsigned int n,
			const char *first)
{
	if (n)
		snprintf(buf, len, "; passed over %u: %.120s", n, first);
	else
		buf[0] = '\0';
}

int kheal_action_memory_kill_leaker(const char *const *args,
				    uint64_t timeout_ms, void *ctx,
				    struct kheal_err *err)
{
	uint64_t deadline = kheal_exec_now_ns() + timeout_ms * NSEC_PER_MSEC, now;
	char first[KHEAL_CGROUP_PATH_LEN + 128] = "", over[160], what[300];
	struct kheal_grower top[CANDIDATES], *g;
	const struct kheal_exec_ctx *x;
	struct kheal_err kerr = { "" };
	unsigned int skipped = 0;
	const char *cg = args[0], *how = "";
	size_t i, n = 0, looked = 0;
	int64_t margin = 0;
	int ret;

	if (err)
		err->msg[0] = '\0';
	x = kheal_exec_ctx_of(ctx, err);
	if (!x)
		return -EINVAL;
	ret = scope_check(x, cg, err);
	if (!ret)
		ret = pick(x, cg, timeout_ms, top, &n, &looked, &how, err);
	if (ret)
		return ret;
	for (i = 0; i < n && top[i].growth_kb >= KHEAL_MEMTRACK_LEAK_KB; i++) {
		g = &top[i];
		if (oom_score_adj(x, g->pid) == -1000) {
			if (!skipped++)
				snprintf(first, sizeof(first),
					 "pid %d (%s): oom_score_adj -1000",
					 (int)g->pid, g->comm);
			continue;
		}
		if (margin_kb(x, cg, &margin, what, sizeof(what)))
			snprintf(what, sizeof(what), "unknown");
		now = kheal_exec_now_ns();
		ret = kheal_exec_task_kill(x, g->pid, g->starttime, cg, SIGKILL,
					   deadline > now ? (deadline - now) /
					   NSEC_PER_MSEC : 0, &kerr);
		if (ret == -EPERM) {
			if (!skipped++)
				snprintf(first, sizeof(first), "%s", kerr.msg);
			continue;
		}
		if (ret)
			return kheal_err_set(err, -ret, "%s", kerr.msg);
		passed_over(over, sizeof(over), skipped, first);
		if (err && kerr.msg[0])
			snprintf(err->msg, sizeof(err->msg),
				 "%s[%d] grew most in %s (+%" PRIu64 " kB in %" PRIu64 " ms, %s), but %s%s",
				 g->comm, (int)g->pid, cg, g->growth_kb,
				 g->span_ms, how, kerr.msg, over);
		else if (err)
			snprintf(err->msg, sizeof(err->msg),
				 "killed %s[%d] in %s: +%" PRIu64 " kB in %" PRIu64 " ms, now %" PRIu64 " kB (%s); margin %" PRId64 " kB (%s)%s",
				 g->comm, (int)g->pid, g->cgroup, g->growth_kb,
				 g->span_ms, g->mem_kb, how, margin, what,
				 over);
		return 0;
	}
	if (skipped)
		return kheal_err_set(err, ESRCH,
				     "cgroup %s: nothing was killed: each process that grew by %d kB or more in the last %d ms was passed over (%u, the first: %.120s)",
				     cg, KHEAL_MEMTRACK_LEAK_KB,
				     KHEAL_MEMTRACK_WINDOW_MS, skipped, first);
	return kheal_err_set(err, ESRCH,
			     "cgroup %s: no process grew by %d kB or more in the last %d ms (%zu looked at, %s%s%s); nothing was killed",
			     cg, KHEAL_MEMTRACK_LEAK_KB, KHEAL_MEMTRACK_WINDOW_MS,
			     looked, how, n ? ", the most: " : "",
			     n ? top[0].comm : "");
}

static int parse_pct(const char *s, unsigned int *pct, struct kheal_err *err)
{
	unsigned long v;
	char *end;

	if (!s) {
		*pct = 10;
		return 0;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (!isdigit((unsigned char)*s) || errno || *end || v > 100)
		return kheal_err_set(err, EINVAL,
				     "stall_pct '%.32s': expected a percentage from 0 to 100",
				     s);
	*pct = v;
	return 0;
}

/* The pressure file of @cg, open for reading; -ENOENT if it is gone. */
static int pressure_open(const struct kheal_exec_ctx *x, const char *cg,
			 struct kheal_err *err)
{
	char path[PATH_MAX];
	int dirfd, fd, e;

	if (is_host(cg)) {
		snprintf(path, sizeof(path), "%s/pressure/memory",
			 x->proc_root);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return kheal_err_set(err, errno, "%s: %s", path,
					     strerror(errno));
		return fd;
	}
	dirfd = kheal_exec_cgroup_open(x, cg, err);
	if (dirfd < 0)
		return dirfd;
	fd = openat(dirfd, "memory.pressure", O_RDONLY | O_CLOEXEC);
	e = errno;
	close(dirfd);
	if (fd < 0)
		return kheal_err_set(err, e == ENOENT ? EOPNOTSUPP : e,
				     "cgroup %s: memory.pressure: %s%s", cg,
				     strerror(e),
				     e == ENOENT ? " (PSI needs Linux 4.20)" : "");
	return fd;
}

int kheal_check_memory_pressure_ok(const char *const *args, void *ctx,
				   struct kheal_err *err)
{
	const struct kheal_exec_ctx *x;
	struct kheal_psi a, b;
	uint64_t t0, t1, stalled;
	const char *cg = args[0];
	unsigned int pct = 10;
	int fd, ret;

	if (err)
		err->msg[0] = '\0';
	x = kheal_exec_ctx_of(ctx, err);
	if (!x)
		return -EINVAL;
	ret = parse_pct(args[1], &pct, err);
	if (ret)
		return ret;
	fd = pressure_open(x, cg, err);
	if (fd == -ENOENT && !is_host(cg)) {
		if (err)
			err->msg[0] = '\0';
		return 1;	/* gone: nothing in it stalls */
	}
	if (fd < 0)
		return fd;
	t0 = kheal_exec_now_ns();
	ret = kheal_psi_read_fd(fd, &a);
	if (!ret) {
		kheal_exec_sleep_ms(MEASURE_MS);
		t1 = kheal_exec_now_ns();
		ret = kheal_psi_read_fd(fd, &b);
	}
	close(fd);
	if (ret == -ENODEV || (ret == -ENOENT && !is_host(cg)))
		return 1;	/* removed while measured */
	if (ret)
		return kheal_err_set(err, -ret, "cgroup %s: reading its memory pressure: %s",
				     cg, strerror(-ret));
	stalled = b.some.total_us > a.some.total_us ?
		  b.some.total_us - a.some.total_us : 0;
	/* stalled / elapsed <= pct / 100, in whole microseconds. */
	if (stalled * 100 <= (uint64_t)pct * ((t1 - t0) / 1000))
		return 1;
	if (err)
		snprintf(err->msg, sizeof(err->msg),
			 "cgroup %s: tasks stalled on memory %" PRIu64 " us of the last %" PRIu64 " ms (avg10 %.2f%%), above %u%%",
			 cg, stalled, (t1 - t0) / NSEC_PER_MSEC, b.some.avg10,
			 pct);
	return 0;
}

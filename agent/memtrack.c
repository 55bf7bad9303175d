// SPDX-License-Identifier: GPL-2.0
/*
 * The growth tracker. Each sample lists the processes of the watched
 * cgroup subtrees from their cgroup.procs files, reads each one's
 * memory from /proc/PID/status, and keeps, per process, the last
 * reading and, for each tenth of the window, the lowest. A process's
 * growth is its last reading above its lowest in the window: what it
 * took recently, whatever its size.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memtrack.h"

#define NSEC_PER_MSEC	((uint64_t)1000000)
#define MAX_DEPTH	32		/* deeper than any cgroup tree */
#define PF_KTHREAD	0x00200000	/* include/linux/sched.h */

/* What one sample lists: a process and the cgroup it was listed in. */
struct listed {
	pid_t pid;
	uint32_t cgroup;
};

struct listing {
	struct kheal_memtrack *t;
	struct listed *v;
	size_t n, cap;
	char (*paths)[KHEAL_CGROUP_PATH_LEN];
	size_t npaths, paths_cap;
	bool truncated;
	bool nomem;
};

void kheal_memtrack_init(struct kheal_memtrack *t, const char *proc_root,
			 const char *cgroup_root, uint64_t window_ms)
{
	*t = (struct kheal_memtrack){
		.proc_root = proc_root,
		.cgroup_root = cgroup_root,
		.window_ns = window_ms * NSEC_PER_MSEC,
	};
}

void kheal_memtrack_free(struct kheal_memtrack *t)
{
	size_t i;

	for (i = 0; i < t->nwatch; i++)
		free(t->watch[i].cgroup);
	free(t->v);
	free(t->paths);
	free(t->skip);
	kheal_memtrack_init(t, t->proc_root, t->cgroup_root,
			    t->window_ns / NSEC_PER_MSEC);
}

/* True if cgroup @path is @cg or below it; everything is below "/". */
static bool within(const char *path, const char *cg)
{
	size_t n = strlen(cg);

	if (!strcmp(cg, "/"))
		return true;
	return !strncmp(path, cg, n) && (path[n] == '\0' || path[n] == '/');
}

int kheal_memtrack_watch(struct kheal_memtrack *t, const char *cgroup,
			 struct kheal_err *err)
{
	size_t i, j;
	char *w;

	for (i = 0; i < t->nwatch; i++)
		if (within(cgroup, t->watch[i].cgroup))
			return 0;
	if (t->nwatch == KHEAL_MEMTRACK_MAX_WATCHES)
		return kheal_err_set(err, ENOSPC,
				     "tracking %s: already %d cgroups tracked",
				     cgroup, KHEAL_MEMTRACK_MAX_WATCHES);
	w = strdup(cgroup);
	if (!w)
		return kheal_err_set(err, ENOMEM, "tracking %s: out of memory",
				     cgroup);
	/* What the new one covers goes: each process is listed once. */
	for (i = j = 0; i < t->nwatch; i++) {
		if (within(t->watch[i].cgroup, cgroup))
			free(t->watch[i].cgroup);
		else
			t->watch[j++] = t->watch[i];
	}
	t->nwatch = j;
	t->watch[t->nwatch++] = (struct kheal_memtrack_watch){ .cgroup = w };
	return 0;
}

static uint32_t add_path(struct listing *l, const char *path)
{
	void *p;

	if (l->npaths == l->paths_cap) {
		l->paths_cap = l->paths_cap ? 2 * l->paths_cap : 16;
		p = realloc(l->paths, l->paths_cap * sizeof(*l->paths));
		if (!p) {
			l->nomem = true;
			return UINT32_MAX;
		}
		l->paths = p;
	}
	snprintf(l->paths[l->npaths], sizeof(l->paths[0]), "%s", path);
	return l->npaths++;
}

static void add_pid(struct listing *l, pid_t pid, uint32_t cg)
{
	void *p;

	if (l->n == KHEAL_MEMTRACK_MAX_PROCS) {
		l->truncated = true;
		return;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		p = realloc(l->v, l->cap * sizeof(*l->v));
		if (!p) {
			l->nomem = true;
			return;
		}
		l->v = p;
	}
	l->v[l->n++] = (struct listed){ .pid = pid, .cgroup = cg };
}

/* The processes of the cgroup open at @dirfd, then of those below it. */
static void list_cgroup(struct listing *l, int dirfd, const char *path,
			int depth)
{
	char sub[KHEAL_CGROUP_PATH_LEN];
	struct dirent *de;
	char *line = NULL;
	size_t cap = 0;
	uint32_t cg;
	DIR *dir;
	FILE *f;
	long pid;
	int fd;

	cg = add_path(l, path);
	if (cg == UINT32_MAX)
		return;
	fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return;		/* removed meanwhile */
	}
	while (!l->nomem && getline(&line, &cap, f) > 0) {
		pid = strtol(line, NULL, 10);
		if (pid > 0 && pid <= INT_MAX)
			add_pid(l, pid, cg);
	}
	free(line);
	fclose(f);

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while (!l->nomem && (de = readdir(dir))) {
		if ((de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) ||
		    !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (depth + 1 >= MAX_DEPTH ||
		    snprintf(sub, sizeof(sub), "%s%s%s",
			     strcmp(path, "/") ? path : "", "/",
			     de->d_name) >= (int)sizeof(sub)) {
			l->truncated = true;
			continue;
		}
		fd = openat(dirfd, de->d_name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;	/* not a directory, or removed */
		list_cgroup(l, fd, sub, depth + 1);
		close(fd);
	}
	closedir(dir);
}

static int by_pid(const void *a, const void *b)
{
	const struct listed *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int proc_read(const struct kheal_memtrack *t, pid_t pid,
		     const char *name, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n, got = 0;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%d/%s", t->proc_root, (int)pid,
		     name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return -errno;
	while ((size_t)got < len - 1) {
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	buf[got] = '\0';
	return got;
}

/* The value of "@key:" in a /proc/PID/status text, in kB. */
static bool status_kb(const char *text, const char *key, uint64_t *kb)
{
	size_t n = strlen(key);
	const char *s, *next;
	unsigned long long v;

	for (s = text; s; s = next) {
		next = strchr(s, '\n');
		if (next)
			next++;
		if (!strncmp(s, key, n) && s[n] == ':' &&
		    sscanf(s + n + 1, "%llu", &v) == 1) {
			*kb = v;
			return true;
		}
	}
	return false;
}

/* Control characters out: a comm goes into messages and events. */
static void sanitize(char *c)
{
	for (; *c; c++)
		if ((unsigned char)*c < ' ' || *c == 0x7f)
			*c = '?';
}

/*
 * Its memory: resident and swapped out, which reclaim moves a leaker's
 * pages to as fast as it touches them, and its comm now (an exec since
 * the last sample renames it). -ESRCH without an mm of its own.
 */
static int read_rss(const struct kheal_memtrack *t, pid_t pid, uint64_t *kb,
		    char *comm, size_t len)
{
	uint64_t rss, swap = 0;
	char buf[4096];
	const char *end;
	int ret;

	ret = proc_read(t, pid, "status", buf, sizeof(buf));
	if (ret < 0)
		return ret;
	if (!status_kb(buf, "VmRSS", &rss))
		return -ESRCH;	/* a kernel thread, or exiting */
	status_kb(buf, "VmSwap", &swap);
	*kb = rss + swap;
	if (!strncmp(buf, "Name:\t", 6) && (end = strchr(buf, '\n'))) {
		snprintf(comm, len, "%.*s", (int)(end - buf - 6), buf + 6);
		sanitize(comm);
	}
	return 0;
}

/* A new process's comm and start time; kernel threads are -ESRCH. */
static int read_identity(const struct kheal_memtrack *t,
			 struct kheal_memtrack_proc *p)
{
	unsigned long long start;
	char buf[1024];
	const char *lp, *rp;
	unsigned int flags;
	int ret;

	ret = proc_read(t, p->pid, "stat", buf, sizeof(buf));
	if (ret < 0)
		return ret;
	/* The comm may hold anything, ')' and spaces included. */
	lp = strchr(buf, '(');
	rp = strrchr(buf, ')');
	if (!lp || !rp || rp < lp)
		return -EINVAL;
	/* state ppid pgrp session tty tpgid flags ... starttime (22) */
	if (sscanf(rp + 1,
		   " %*c %*d %*d %*d %*d %*d %u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		   &flags, &start) != 2)
		return -EINVAL;
	if (flags & PF_KTHREAD)
		return -ESRCH;
	snprintf(p->comm, sizeof(p->comm), "%.*s", (int)(rp - lp - 1), lp + 1);
	sanitize(p->comm);
	p->starttime = start;
	return 0;
}

/* The last reading into the newest checkpoint, or a new one. */
static void checkpoint(const struct kheal_memtrack *t,
		       struct kheal_memtrack_proc *p)
{
	uint64_t step = t->window_ns / (KHEAL_MEMTRACK_CHECKPOINTS - 1);
	struct kheal_memtrack_sample *c = p->ncp ? &p->cp[p->ncp - 1] : NULL;

	if (c && p->last.at_ns - c->at_ns < step) {
		if (p->last.kb < c->kb)
			c->kb = p->last.kb;
		return;
	}
	if (p->ncp == KHEAL_MEMTRACK_CHECKPOINTS) {
		memmove(p->cp, p->cp + 1, (p->ncp - 1) * sizeof(p->cp[0]));
		p->ncp--;
	}
	p->cp[p->ncp++] = p->last;
}

int kheal_memtrack_sample(struct kheal_memtrack *t, uint64_t now_ns,
			  struct kheal_err *err)
{
	struct listing l = { .t = t };
	struct kheal_memtrack_proc *v, *p;
	struct kheal_memtrack_skip *skip;
	size_t i, j = 0, k = 0, n = 0, ns = 0;
	char root[PATH_MAX], comm[sizeof(t->v->comm)] = "";
	uint64_t kb = 0;
	const char *w;
	int fd, ret;

	if (!t->cgroup_root)
		return kheal_err_set(err, EOPNOTSUPP,
				     "tracking memory growth: no cgroup2 mount");
	for (i = 0; i < t->nwatch; i++) {
		w = t->watch[i].cgroup;
		if (snprintf(root, sizeof(root), "%s%s", t->cgroup_root,
			     strcmp(w, "/") ? w : "") >= (int)sizeof(root))
			continue;
		fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;	/* not there (yet) */
		list_cgroup(&l, fd, w, 0);
		close(fd);
	}
	v = l.nomem ? NULL : calloc(l.n ? l.n : 1, sizeof(*v));
	skip = v ? calloc(l.n ? l.n : 1, sizeof(*skip)) : NULL;
	if (!skip) {
		free(v);
		free(l.v);
		free(l.paths);
		return kheal_err_set(err, ENOMEM,
				     "tracking memory growth: out of memory for %zu processes",
				     l.n);
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), by_pid);
	for (i = 0; i < l.n; i++) {
		if (i && l.v[i].pid == l.v[i - 1].pid)
			continue;	/* moved while listed */
		while (k < t->nskip && t->skip[k].pid < l.v[i].pid)
			k++;
		if (k < t->nskip && t->skip[k].pid == l.v[i].pid &&
		    now_ns - t->skip[k].at_ns < t->window_ns) {
			skip[ns++] = t->skip[k];
			continue;
		}
		comm[0] = '\0';
		ret = read_rss(t, l.v[i].pid, &kb, comm, sizeof(comm));
		while (j < t->n && t->v[j].pid < l.v[i].pid)
			j++;
		p = &v[n];
		if (!ret && j < t->n && t->v[j].pid == l.v[i].pid) {
			*p = t->v[j];
			if (comm[0])
				snprintf(p->comm, sizeof(p->comm), "%s", comm);
		} else if (!ret) {
			*p = (struct kheal_memtrack_proc){ .pid = l.v[i].pid };
			ret = read_identity(t, p);
		}
		if (ret == -ESRCH)
			skip[ns++] = (struct kheal_memtrack_skip){
				.pid = l.v[i].pid, .at_ns = now_ns,
			};
		if (ret)
			continue;
		p->cgroup = l.v[i].cgroup;
		p->last = (struct kheal_memtrack_sample){ now_ns, kb };
		checkpoint(t, p);
		n++;
	}
	free(l.v);
	free(t->v);
	free(t->paths);
	free(t->skip);
	t->v = v;
	t->n = n;
	t->skip = skip;
	t->nskip = ns;
	t->paths = l.paths;
	t->npaths = l.npaths;
	t->truncated = l.truncated;
	for (i = 0; i < t->nwatch; i++)
		if (!t->watch[i].since_ns)
			t->watch[i].since_ns = now_ns;
	t->last_ns = now_ns;
	return 0;
}

bool kheal_memtrack_covers(const struct kheal_memtrack *t, const char *cgroup,
			   uint64_t min_span_ms)
{
	const struct kheal_memtrack_watch *w;
	size_t i;

	for (i = 0; i < t->nwatch; i++) {
		w = &t->watch[i];
		if (within(cgroup, w->cgroup))
			return w->since_ns && t->last_ns - w->since_ns >=
					      min_span_ms * NSEC_PER_MSEC;
	}
	return false;
}

static void grower_of(const struct kheal_memtrack *t,
		      const struct kheal_memtrack_proc *p,
		      struct kheal_grower *g)
{
	uint64_t low = p->last.kb, from = p->last.at_ns;
	unsigned int i;

	for (i = 0; i < p->ncp; i++) {
		if (p->last.at_ns - p->cp[i].at_ns > t->window_ns)
			continue;
		if (p->cp[i].kb < low)
			low = p->cp[i].kb;
		if (p->cp[i].at_ns < from)
			from = p->cp[i].at_ns;
	}
	*g = (struct kheal_grower){
		.pid = p->pid,
		.starttime = p->starttime,
		.mem_kb = p->last.kb,
		.growth_kb = p->last.kb - low,
		.span_ms = (p->last.at_ns - from) / NSEC_PER_MSEC,
	};
	snprintf(g->comm, sizeof(g->comm), "%s", p->comm);
	snprintf(g->cgroup, sizeof(g->cgroup), "%s", t->paths[p->cgroup]);
}

static int by_growth(const void *a, const void *b)
{
	const struct kheal_grower *x = a, *y = b;

	if (x->growth_kb != y->growth_kb)
		return x->growth_kb < y->growth_kb ? 1 : -1;
	if (x->mem_kb != y->mem_kb)
		return x->mem_kb < y->mem_kb ? 1 : -1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

size_t kheal_memtrack_top(const struct kheal_memtrack *t, const char *cgroup,
			  struct kheal_grower *out, size_t n)
{
	struct kheal_grower g;
	size_t i, j, k = 0, found = 0;

	for (i = 0; i < t->n; i++) {
		if (!within(t->paths[t->v[i].cgroup], cgroup))
			continue;
		found++;
		grower_of(t, &t->v[i], &g);
		/* Into the n best so far, kept in order. */
		if (k == n && (!n || by_growth(&g, &out[n - 1]) >= 0))
			continue;
		j = k < n ? k++ : n - 1;
		for (; j > 0 && by_growth(&g, &out[j - 1]) < 0; j--)
			out[j] = out[j - 1];
		out[j] = g;
	}
	return found;
}

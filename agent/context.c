// SPDX-License-Identifier: GPL-2.0
/*
 * Per-incident context: pressure and memory of the host, the state and
 * kernel stack of the event's task, the memory and size of its cgroup.
 * Gathered once when an incident opens; the task may be gone by then,
 * so whatever cannot be read is simply left out.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "context.h"
#include "service.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define TEXT_LEN	(KHEAL_CONTEXT_TEXT_MAX + 1)
/* The whole file, lines are picked from it. */
#define MEMINFO_LEN	8192

static const char *const meminfo_keys[] = {
	"MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached",
	"SwapTotal", "SwapFree", "Dirty", "Writeback", "Slab",
	"Committed_AS",
};

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && s[n - 1] == '\n')
		s[--n] = '\0';
}

/* *@out: a copy of @s, unless it is empty. */
static int keep(const char *s, char **out)
{
	if (!*s)
		return 0;
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

/* The text of @path under @dirfd into *@out; absent if unreadable. */
static int text_at(int dirfd, const char *path, char **out)
{
	char buf[TEXT_LEN];

	if (kheal_exec_read_file(dirfd, path, buf, sizeof(buf)) <= 0)
		return 0;
	chomp(buf);
	return keep(buf, out);
}

static int proc_text(const char *proc_root, const char *name, char **out)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", proc_root, name) >=
	    (int)sizeof(path))
		return 0;
	return text_at(AT_FDCWD, path, out);
}

static bool wanted(const char *line)
{
	size_t i, n;

	for (i = 0; i < ARRAY_SIZE(meminfo_keys); i++) {
		n = strlen(meminfo_keys[i]);
		if (!strncmp(line, meminfo_keys[i], n) && line[n] == ':')
			return true;
	}
	return false;
}

static int meminfo(const char *proc_root, char **out)
{
	char path[PATH_MAX], buf[MEMINFO_LEN], sel[TEXT_LEN], *line, *save;
	size_t len = 0;
	int n;

	if (snprintf(path, sizeof(path), "%s/meminfo", proc_root) >=
	    (int)sizeof(path) ||
	    kheal_exec_read_file(AT_FDCWD, path, buf, sizeof(buf)) <= 0)
		return 0;
	sel[0] = '\0';
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!wanted(line))
			continue;
		n = snprintf(sel + len, sizeof(sel) - len, "%s%s",
			     len ? "\n" : "", line);
		if (n < 0 || (size_t)n >= sizeof(sel) - len) {
			sel[len] = '\0';
			break;
		}
		len += n;
	}
	return keep(sel, out);
}

static int pid_path(char *buf, size_t len, const char *proc_root, uint32_t pid,
		    const char *name)
{
	return snprintf(buf, len, "%s/%u/%s", proc_root, pid, name) <
	       (int)len ? 0 : -ENAMETOOLONG;
}

/* "State:\tD (disk sleep)" in /proc/PID/status. */
static int task_state(const char *proc_root, uint32_t pid, char **out)
{
	char path[PATH_MAX], buf[TEXT_LEN], *line, *save;

	if (pid_path(path, sizeof(path), proc_root, pid, "status") ||
	    kheal_exec_read_file(AT_FDCWD, path, buf, sizeof(buf)) <= 0)
		return 0;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, "State:", 6))
			return keep(line + 6 + strspn(line + 6, " \t"), out);
	return 0;
}

static int wchan(const char *proc_root, uint32_t pid, char **out)
{
	char path[PATH_MAX], buf[256];

	if (pid_path(path, sizeof(path), proc_root, pid, "wchan") ||
	    kheal_exec_read_file(AT_FDCWD, path, buf, sizeof(buf)) <= 0)
		return 0;
	chomp(buf);
	/* "0": not sleeping, or not ours to see. */
	if (!strcmp(buf, "0"))
		return 0;
	return keep(buf, out);
}

/* "[<0>] func+0x1a/0x40" lines, innermost first, as "func+0x1a/0x40". */
static int stack(const char *proc_root, uint32_t pid, Kheal__Context *c)
{
	char path[PATH_MAX], buf[TEXT_LEN], *line, *save, *frame;
	char **v;

	if (pid_path(path, sizeof(path), proc_root, pid, "stack") ||
	    kheal_exec_read_file(AT_FDCWD, path, buf, sizeof(buf)) <= 0)
		return 0;
	v = calloc(KHEAL_CONTEXT_FRAMES, sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->stack = v;
	for (line = strtok_r(buf, "\n", &save);
	     line && c->n_stack < KHEAL_CONTEXT_FRAMES;
	     line = strtok_r(NULL, "\n", &save)) {
		frame = line;
		if (*frame == '[' && strstr(frame, "] "))
			frame = strstr(frame, "] ") + 2;
		if (!*frame)
			continue;
		v[c->n_stack] = strdup(frame);
		if (!v[c->n_stack])
			return -ENOMEM;
		c->n_stack++;
	}
	if (!c->n_stack) {
		free(v);
		c->stack = NULL;
	}
	return 0;
}

/* Lines in @name under @dirfd, or -errno. */
static long count_lines(int dirfd, const char *name)
{
	char buf[4096];
	long lines = 0;
	ssize_t n, i;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++)
			lines += buf[i] == '\n';
	if (n < 0)
		lines = -errno;
	close(fd);
	return lines;
}

static int cgroup(const struct kheal_exec_ctx *x, const char *path,
		  Kheal__Context *c)
{
	char cur[64], max[64], text[160];
	struct kheal_err ignored;
	int fd, ret = 0;
	long procs;

	fd = kheal_exec_cgroup_open(x, path, &ignored);
	if (fd < 0)
		return 0;
	if (kheal_exec_read_file(fd, "memory.current", cur, sizeof(cur)) > 0) {
		chomp(cur);
		if (kheal_exec_read_file(fd, "memory.max", max, sizeof(max)) >
		    0) {
			chomp(max);
			snprintf(text, sizeof(text), "current %s max %s", cur,
				 max);
		} else {
			snprintf(text, sizeof(text), "current %s", cur);
		}
		ret = keep(text, &c->cgroup_memory);
	}
	procs = count_lines(fd, "cgroup.procs");
	if (procs >= 0) {
		c->has_cgroup_procs = true;
		c->cgroup_procs = procs > UINT32_MAX ? UINT32_MAX : procs;
	}
	close(fd);
	return ret;
}

int kheal_context_gather(const struct kheal_event *ev,
			 const struct kheal_exec_ctx *x, Kheal__Context **out,
			 struct kheal_err *err)
{
	const char *proc = x ? x->proc_root : NULL;
	Kheal__Context *c;
	uint32_t pid = 0;

	*out = NULL;
	c = malloc(sizeof(*c));
	if (!c)
		return kheal_err_set(err, ENOMEM,
				     "incident context: out of memory");
	kheal__context__init(c);
	if (kheal_event_has(ev, KHEAL_A_PID))
		pid = ev->pid;
	if (proc && *proc) {
		if (proc_text(proc, "pressure/memory", &c->psi_memory) ||
		    proc_text(proc, "pressure/io", &c->psi_io) ||
		    proc_text(proc, "pressure/cpu", &c->psi_cpu) ||
		    meminfo(proc, &c->meminfo))
			goto oom;
		if (pid && (task_state(proc, pid, &c->task_state) ||
			    wchan(proc, pid, &c->wchan) ||
			    stack(proc, pid, c)))
			goto oom;
	}
	if (x && kheal_event_has(ev, KHEAL_A_CGROUP_PATH) &&
	    (cgroup(x, ev->cgroup_path, c) ||
	     kheal_service_record(x, ev->cgroup_path, c)))
		goto oom;
	*out = c;
	return 0;
oom:
	kheal_context_free(c);
	return kheal_err_set(err, ENOMEM, "incident context: out of memory");
}

void kheal_context_free(Kheal__Context *c)
{
	if (c)
		kheal__context__free_unpacked(c, NULL);
}

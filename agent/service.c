// SPDX-License-Identifier: GPL-2.0
/* A cgroup's service: recorded at incident time, restarted, checked. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "service.h"

#define CMDLINE_MAX	4096
#define ARGV_MAX	64
#define CONNECT_MS	1000

/* The pids of @cgroup's cgroup.procs (at most @max). -errno if none can be read. */
static int procs_of(const struct kheal_exec_ctx *x, const char *cgroup,
		    pid_t *pids, int max, struct kheal_err *err)
{
	char buf[8192], *line, *save = NULL;
	int fd, n = 0;
	ssize_t len;

	fd = kheal_exec_cgroup_open(x, cgroup, err);
	if (fd < 0)
		return fd;
	len = kheal_exec_read_file(fd, "cgroup.procs", buf, sizeof(buf));
	close(fd);
	if (len < 0)
		return kheal_err_set(err, -len, "cgroup %s: cgroup.procs: %s",
				     cgroup, strerror(-len));
	for (line = strtok_r(buf, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save))
		pids[n++] = atoi(line);
	return n;
}

static int proc_path(char *buf, size_t len, const struct kheal_exec_ctx *x,
		     pid_t pid, const char *name)
{
	return snprintf(buf, len, "%s/%d/%s", x->proc_root, pid, name) <
	       (int)len ? 0 : -ENAMETOOLONG;
}

/* "S (sleeping)" from /proc/PID/status, and the parent. */
static bool status_of(const struct kheal_exec_ctx *x, pid_t pid, char *state,
		      size_t len, pid_t *ppid)
{
	char path[PATH_MAX], buf[4096], *s, *e;

	if (proc_path(path, sizeof(path), x, pid, "status") ||
	    kheal_exec_read_file(AT_FDCWD, path, buf, sizeof(buf)) <= 0)
		return false;
	s = strstr(buf, "\nState:\t");
	e = s ? strchr(s + 8, '\n') : NULL;
	if (!e)
		return false;
	snprintf(state, len, "%.*s", (int)(e - s - 8), s + 8);
	s = strstr(buf, "\nPPid:\t");
	*ppid = s ? atoi(s + 7) : 0;
	return true;
}

/* Socket inodes listening on TCP in @pid's network namespace. */
static size_t listening(const struct kheal_exec_ctx *x, pid_t pid,
			unsigned long *inode, uint32_t *port, size_t max)
{
	static const char *const files[] = { "net/tcp", "net/tcp6" };
	char path[PATH_MAX], line[512];
	unsigned int lport, st;
	unsigned long ino;
	size_t i, n = 0;
	FILE *f;

	for (i = 0; i < 2; i++) {
		if (proc_path(path, sizeof(path), x, pid, files[i]))
			continue;
		f = fopen(path, "re");
		if (!f)
			continue;
		while (n < max && fgets(line, sizeof(line), f)) {
			/* sl local:port rem:port st ... uid timeout inode */
			if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*s %*s %*s %*u %*u %lu",
				   &lport, &st, &ino) != 3 || st != 0x0A)
				continue;
			inode[n] = ino;
			port[n++] = lport;
		}
		fclose(f);
	}
	return n;
}

/* The ports @pid listens on: its fds that are listening sockets. */
static int ports_of(const struct kheal_exec_ctx *x, pid_t pid,
		    Kheal__ProcessInfo *p)
{
	unsigned long inode[256], ino;
	uint32_t port[256];
	char path[PATH_MAX], link[64];
	struct dirent *de;
	size_t n, i;
	ssize_t len;
	DIR *d;

	n = listening(x, pid, inode, port, 256);
	if (!n || proc_path(path, sizeof(path), x, pid, "fd"))
		return 0;
	d = opendir(path);
	if (!d)
		return 0;
	p->listen_ports = calloc(KHEAL_SERVICE_MAX_PORTS,
				 sizeof(*p->listen_ports));
	if (!p->listen_ports) {
		closedir(d);
		return -ENOMEM;
	}
	while ((de = readdir(d)) &&
	       p->n_listen_ports < KHEAL_SERVICE_MAX_PORTS) {
		len = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (sscanf(link, "socket:[%lu]", &ino) != 1)
			continue;
		for (i = 0; i < n; i++)
			if (inode[i] == ino)
				p->listen_ports[p->n_listen_ports++] = port[i];
	}
	closedir(d);
	return 0;
}

/* argv from /proc/PID/cmdline: NUL-separated. */
static int argv_of(const struct kheal_exec_ctx *x, pid_t pid,
		   Kheal__ProcessInfo *p)
{
	char path[PATH_MAX], buf[CMDLINE_MAX];
	ssize_t len, i;
	int fd;

	if (proc_path(path, sizeof(path), x, pid, "cmdline"))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	p->argv = calloc(ARGV_MAX, sizeof(*p->argv));
	if (!p->argv)
		return -ENOMEM;
	for (i = 0; i < len && p->n_argv < ARGV_MAX; i += strlen(buf + i) + 1) {
		p->argv[p->n_argv] = strdup(buf + i);
		if (!p->argv[p->n_argv++])
			return -ENOMEM;
	}
	return 0;
}

static char *link_of(const struct kheal_exec_ctx *x, pid_t pid,
		     const char *name)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t len;

	if (proc_path(path, sizeof(path), x, pid, name))
		return NULL;
	len = readlink(path, target, sizeof(target) - 1);
	if (len <= 0)
		return NULL;
	target[len] = '\0';
	return strdup(target);
}

static bool in(const pid_t *pids, int n, pid_t pid)
{
	int i;

	for (i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

int kheal_service_record(const struct kheal_exec_ctx *x, const char *cgroup,
			 Kheal__Context *c)
{
	pid_t pids[KHEAL_SERVICE_MAX_PROCS * 4], ppid;
	struct kheal_err ignored;
	Kheal__ProcessInfo *p, *t;
	char state[64];
	int n, i, k;

	if (!x || !x->proc_root || !cgroup || !strcmp(cgroup, "/"))
		return 0;
	n = procs_of(x, cgroup, pids, (int)(sizeof(pids) / sizeof(*pids)),
		     &ignored);
	if (n <= 0)
		return 0;
	c->processes = calloc(KHEAL_SERVICE_MAX_PROCS, sizeof(*c->processes));
	if (!c->processes)
		return -ENOMEM;
	for (i = 0; i < n && c->n_processes < KHEAL_SERVICE_MAX_PROCS; i++) {
		if (!status_of(x, pids[i], state, sizeof(state), &ppid) ||
		    state[0] == 'D' || state[0] == 'Z')
			continue;
		p = malloc(sizeof(*p));
		if (!p)
			return -ENOMEM;
		kheal__process_info__init(p);
		c->processes[c->n_processes++] = p;
		p->has_pid = p->has_ppid = p->has_main = true;
		p->pid = pids[i];
		p->ppid = ppid;
		p->main = !in(pids, n, ppid);
		p->state = strdup(state);
		p->exe = link_of(x, pids[i], "exe");
		p->cwd = link_of(x, pids[i], "cwd");
		if (!p->state || argv_of(x, pids[i], p) ||
		    ports_of(x, pids[i], p))
			return -ENOMEM;
	}
	/* The main process first: it is what a restart starts. */
	for (k = 0; k < (int)c->n_processes; k++) {
		if (!c->processes[k]->main)
			continue;
		t = c->processes[0];
		c->processes[0] = c->processes[k];
		c->processes[k] = t;
		break;
	}
	return 0;
}

static const Kheal__ProcessInfo *main_of(const struct kheal_exec_ctx *x)
{
	const Kheal__Context *c = x->incident;

	if (!c || !c->n_processes || !c->processes[0]->exe ||
	    !c->processes[0]->n_argv)
		return NULL;
	return c->processes[0];
}

/* The grandchild: into the cgroup, away from kheald, exec. */
static void start_child(int cgfd, const Kheal__ProcessInfo *p, int errfd)
{
	char *argv[ARGV_MAX + 1];
	size_t i;
	int fd, e;

	setsid();
	fd = openat(cgfd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0", 1) != 1)
		goto fail;
	close(fd);
	fd = open("/dev/null", O_RDWR);
	if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		goto fail;
	if (fd > 2)
		close(fd);
	if (p->cwd && chdir(p->cwd))
		goto fail;
	for (i = 0; i < p->n_argv && i < ARGV_MAX; i++)
		argv[i] = p->argv[i];
	argv[i] = NULL;
	execv(p->exe, argv);
fail:
	e = errno;
	if (write(errfd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

int kheal_action_service_restart(const char *const *args, uint64_t timeout_ms,
				 void *ctx, struct kheal_err *err)
{
	const struct kheal_exec_ctx *x = ctx;
	const Kheal__ProcessInfo *p = main_of(x);
	const char *cgroup = args[0];
	int pfd[2], cgfd, e = 0, status;
	struct pollfd pl;
	pid_t mid;
	ssize_t n;

	err->msg[0] = '\0';
	cgfd = kheal_exec_cgroup_open(x, cgroup, err);
	if (cgfd < 0)
		return cgfd;
	if (!p) {
		close(cgfd);
		kheal_err_set(err, 0,
			      "cgroup %s: no service process was recorded (all its tasks were in D state, or it had none); nothing to restart",
			      cgroup);
		return 0;
	}
	if (pipe2(pfd, O_CLOEXEC)) {
		e = errno;
		close(cgfd);
		return kheal_err_set(err, e, "service.restart: pipe: %s",
				     strerror(e));
	}
	mid = fork();
	if (mid == 0) {
		close(pfd[0]);
		/* A second fork: the service is init's child, not kheald's. */
		if (fork() == 0)
			start_child(cgfd, p, pfd[1]);
		_exit(0);
	}
	close(pfd[1]);
	close(cgfd);
	if (mid < 0) {
		e = errno;
		close(pfd[0]);
		return kheal_err_set(err, e, "service.restart: fork: %s",
				     strerror(e));
	}
	waitpid(mid, &status, 0);
	/* The exec closes the pipe; a failure writes its errno first. */
	pl = (struct pollfd){ .fd = pfd[0], .events = POLLIN };
	if (poll(&pl, 1, timeout_ms ? (int)timeout_ms : 1000) > 0) {
		n = read(pfd[0], &e, sizeof(e));
		if (n != sizeof(e))
			e = 0;
	}
	close(pfd[0]);
	if (e)
		return kheal_err_set(err, ENOEXEC,
				     "service.restart %s: starting %s in %s: %s",
				     cgroup, p->exe, cgroup, strerror(e));
	kheal_err_set(err, 0, "started %s (was pid %" PRIu32 ") in %s",
		      p->exe, p->pid, cgroup);
	return 0;
}

static bool answers(uint32_t port)
{
	struct sockaddr_in6 a6 = {
		.sin6_family = AF_INET6,
		.sin6_port = htons(port),
		.sin6_addr = IN6ADDR_LOOPBACK_INIT,
	};
	struct sockaddr_in a4 = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct pollfd p;
	int fd, i, e;
	socklen_t len = sizeof(e);

	for (i = 0; i < 2; i++) {
		fd = socket(i ? AF_INET6 : AF_INET,
			    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if (connect(fd, i ? (struct sockaddr *)&a6 :
				    (struct sockaddr *)&a4,
			    i ? sizeof(a6) : sizeof(a4)) == 0) {
			close(fd);
			return true;
		}
		p = (struct pollfd){ .fd = fd, .events = POLLOUT };
		if (errno == EINPROGRESS && poll(&p, 1, CONNECT_MS) == 1 &&
		    !getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) && !e) {
			close(fd);
			return true;
		}
		close(fd);
	}
	return false;
}

int kheal_check_service_ok(const char *const *args, void *ctx,
			   struct kheal_err *err)
{
	const struct kheal_exec_ctx *x = ctx;
	const Kheal__ProcessInfo *p = main_of(x);
	pid_t pids[KHEAL_SERVICE_MAX_PROCS * 4];
	const char *cgroup = args[0];
	char *exe;
	size_t i;
	int n, k;

	err->msg[0] = '\0';
	n = procs_of(x, cgroup, pids, (int)(sizeof(pids) / sizeof(*pids)),
		     err);
	if (n < 0)
		return n;
	if (!p)
		return n == 0;
	if (p->n_listen_ports) {
		for (i = 0; i < p->n_listen_ports; i++)
			if (!answers(p->listen_ports[i]))
				return 0;
		return 1;
	}
	for (k = 0; k < n; k++) {
		exe = link_of(x, pids[k], "exe");
		if (exe && !strcmp(exe, p->exe)) {
			free(exe);
			return 1;
		}
		free(exe);
	}
	return 0;
}

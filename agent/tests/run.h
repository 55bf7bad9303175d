/* SPDX-License-Identifier: GPL-2.0 */
/* Running the programs under test, with stdout and stderr in files. */
#ifndef KHEAL_TEST_RUN_H
#define KHEAL_TEST_RUN_H

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct proc {
	pid_t pid;
	char out[64];
	char err[64];
};

static inline void proc_start(struct proc *p, char *const argv[])
{
	int o, e;

	snprintf(p->out, sizeof(p->out), "/tmp/kheal-test-out-XXXXXX");
	snprintf(p->err, sizeof(p->err), "/tmp/kheal-test-err-XXXXXX");
	o = mkstemp(p->out);
	e = mkstemp(p->err);
	assert_true(o >= 0 && e >= 0);
	p->pid = fork();
	assert_true(p->pid >= 0);
	if (!p->pid) {
		dup2(o, 1);
		dup2(e, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(o);
	close(e);
}

/* The exit code, or 128 + the signal that ended it. */
static inline int proc_wait(struct proc *p)
{
	int status;

	assert_int_equal(waitpid(p->pid, &status, 0), p->pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) :
	       128 + WTERMSIG(status);
}

/* A file's text; the caller frees it. */
static inline char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Waits up to 10 s for @text to show up in the file at @path. */
static inline bool wait_for(const char *path, const char *text)
{
	struct timespec pause = { .tv_nsec = 20 * 1000 * 1000 };
	bool found = false;
	char *s;
	int i;

	for (i = 0; i < 500 && !found; i++) {
		s = slurp(path);
		found = strstr(s, text) != NULL;
		free(s);
		if (!found)
			nanosleep(&pause, NULL);
	}
	return found;
}

struct result {
	int code;
	char *out;
	char *err;
};

static inline struct result run(char *const argv[])
{
	struct result r;
	struct proc p;

	proc_start(&p, argv);
	r.code = proc_wait(&p);
	r.out = slurp(p.out);
	r.err = slurp(p.err);
	unlink(p.out);
	unlink(p.err);
	return r;
}

static inline void result_free(struct result *r)
{
	free(r->out);
	free(r->err);
}

/*
 * A child that waits for a signal. It dies with the test: a failed
 * assertion must not leave it holding the test's stdout, which would keep
 * `make check` waiting instead of failing.
 */
static inline pid_t child_pausing(void)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (!pid) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(1);
		for (;;)
			pause();
	}
	return pid;
}

/* Waits for @pid, which must have died of @want_sig. */
static inline void reap(pid_t pid, int want_sig)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), want_sig);
}

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * runas: runs a command as an unprivileged uid/gid with no capabilities
 * and no supplementary groups, for permission tests.
 * Usage: runas UID GID COMMAND [ARG...]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned int parse_id(const char *what, const char *s)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 0xfffffffeUL) {
		fprintf(stderr, "runas: %s: not an id: '%s'\n", what, s);
		exit(2);
	}
	return (unsigned int)v;
}

int main(int argc, char **argv)
{
	gid_t gid;
	uid_t uid;

	if (argc < 4) {
		fprintf(stderr, "usage: runas UID GID COMMAND [ARG...]\n");
		return 2;
	}
	uid = parse_id("UID", argv[1]);
	gid = parse_id("GID", argv[2]);
	/* A non-root uid drops every capability on setuid(). */
	if (setgroups(0, NULL) || setgid(gid) || setuid(uid)) {
		fprintf(stderr, "runas: cannot become %u:%u: %s\n", uid, gid,
			strerror(errno));
		return 1;
	}
	execvp(argv[3], argv + 3);
	fprintf(stderr, "runas: cannot run %s: %s\n", argv[3],
		strerror(errno));
	return 127;
}

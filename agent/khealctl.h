/* SPDX-License-Identifier: GPL-2.0 */
/* What khealctl's command files share: the command type, options, output. */
#ifndef KHEAL_KHEALCTL_H
#define KHEAL_KHEALCTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "json.h"

#define EXIT_USAGE	2

/* The journal kheald writes; its key and anchor are beside it. */
#define DEFAULT_JOURNAL	"/var/lib/kheal/journal"

/* -j: print JSON. */
extern bool json;

struct cmd {
	const char *name;
	int (*func)(const struct cmd *cmd, int argc, char **argv);
	const char *usage;
};

void print_usage(const struct cmd *c, FILE *f);

/* Prints "khealctl: NAME: ..." and the usage; returns EXIT_USAGE. */
int usage_error(const struct cmd *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prints "khealctl: NAME: " and the error; returns 1. */
int fail(const struct cmd *c, const struct kheal_err *err, int ret);

/* A decimal number from @min to @max, or a usage error naming @what. */
int parse_num(const struct cmd *c, const char *what, const char *s,
	      uint64_t min, uint64_t max, uint64_t *out);

/*
 * getopt_long over a command's arguments, with -j and -h everywhere.
 * Returns the option, -1 at the end, or '?' after printing a usage error.
 */
int next_opt(const struct cmd *c, int argc, char **argv,
	     const struct option *extra);

/* CLOCK_BOOTTIME, the clock of kheal's times. */
uint64_t boottime_ns(void);

/* Prints @line and a newline if @len (a length or -errno) is not an error. */
void print_line(const char *line, int len);

/* The commands of khealctl_brain.c: kheald's control socket, runbooks. */
int cmd_subsystems(const struct cmd *c, int argc, char **argv);
int cmd_incidents(const struct cmd *c, int argc, char **argv);
int cmd_incident(const struct cmd *c, int argc, char **argv);
int cmd_approvals(const struct cmd *c, int argc, char **argv);
int cmd_approve(const struct cmd *c, int argc, char **argv);
int cmd_deny(const struct cmd *c, int argc, char **argv);
int cmd_heal(const struct cmd *c, int argc, char **argv);
int cmd_runbooks(const struct cmd *c, int argc, char **argv);

/* khealctl_journal.c: journal [...], journal verify [...]. */
int cmd_journal(const struct cmd *c, int argc, char **argv);

/*
 * status's part from kheald's control socket at @socket: health at a
 * glance, or that the brain is unreachable. Into @j, or printed if @j is
 * NULL.
 */
void status_brain(const char *socket, struct kheal_json *j);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* The detail that goes with a -errno: what failed, on what, and where. */
#ifndef KHEAL_ERR_H
#define KHEAL_ERR_H

struct kheal_err {
	char msg[512];
};

/*
 * Formats the detail into @err (which may be NULL) and returns -@errnum,
 * so a failing path reads: return kheal_err_set(err, EINVAL, "...", ...);
 */
int kheal_err_set(struct kheal_err *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Puts "context: " before the detail @err already holds; returns @ret. */
int kheal_err_wrap(struct kheal_err *err, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The detail if there is one, else strerror(-@ret). */
const char *kheal_err_str(const struct kheal_err *err, int ret);

#endif

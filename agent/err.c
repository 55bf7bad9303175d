// SPDX-License-Identifier: GPL-2.0
/* Error details for the -errno that kheal's libraries return. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

int kheal_err_set(struct kheal_err *err, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -errnum;
}

int kheal_err_wrap(struct kheal_err *err, int ret, const char *fmt, ...)
{
	char detail[sizeof(err->msg)];
	va_list ap;
	size_t len;

	if (!err)
		return ret;
	snprintf(detail, sizeof(detail), "%s", kheal_err_str(err, ret));
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	len = strlen(err->msg);
	snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", detail);
	return ret;
}

const char *kheal_err_str(const struct kheal_err *err, int ret)
{
	if (err && err->msg[0])
		return err->msg;
	return strerror(-ret);
}

// SPDX-License-Identifier: GPL-2.0
/* Paths kheald writes to: the directories above them. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "path.h"

int kheal_make_parents(const char *path, struct kheal_err *err)
{
	char dir[PATH_MAX];
	char *p;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return kheal_err_set(err, ENAMETOOLONG, "%s: path too long",
				     path);
	for (p = strchr(dir + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return kheal_err_set(err, errno, "creating %s: %s",
					     dir, strerror(errno));
		*p = '/';
	}
	return 0;
}

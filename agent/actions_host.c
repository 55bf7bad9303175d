// SPDX-License-Identifier: GPL-2.0
/*
 * Actions on the whole host. kheal does not reboot a host by itself: a
 * reboot is a request on disk, which a rebooter that holds the fleet's
 * reboot lock honours when its turn comes (ARCHITECTURE.md: fleet-locked
 * reboot). So no test, and no wrong diagnosis, takes a host down at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "actions.h"
#include "path.h"

int kheal_action_host_reboot(const char *const *args, uint64_t timeout_ms,
			     void *ctx, struct kheal_err *err)
{
	const struct kheal_exec_ctx *x = ctx;
	const char *path = x && x->reboot_request ? x->reboot_request :
			   KHEAL_REBOOT_REQUEST_PATH;
	const char *reason = args[0] && *args[0] ? args[0] : "unspecified";
	char tmp[4096], text[1024];
	struct stat st;
	int fd, len, ret;

	(void)timeout_ms;
	err->msg[0] = '\0';
	if (strpbrk(reason, "\n\r"))
		return kheal_err_set(err, EINVAL,
				     "host.reboot: reason: a single line expected");
	if (!stat(path, &st)) {
		kheal_err_set(err, 0,
			      "a reboot was already requested (%s); it is kept",
			      path);
		return 0;
	}
	len = snprintf(text, sizeof(text),
		       "incident=%" PRIu64 "\nreason=%s\nrequested_at=%lld\nagent_pid=%d\n",
		       x ? x->incident_id : 0, reason, (long long)time(NULL),
		       (int)getpid());
	if (len < 0 || (size_t)len >= sizeof(text))
		return kheal_err_set(err, ENAMETOOLONG,
				     "host.reboot: reason too long");
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return kheal_err_set(err, ENAMETOOLONG, "%s: path too long",
				     path);
	ret = kheal_make_parents(path, err);
	if (ret)
		return ret;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return kheal_err_set(err, errno, "host.reboot: creating %s: %s",
				     tmp, strerror(errno));
	if (write(fd, text, len) != len || fsync(fd)) {
		ret = kheal_err_set(err, errno ? errno : EIO,
				    "host.reboot: writing %s: %s", tmp,
				    strerror(errno ? errno : EIO));
		close(fd);
		unlink(tmp);
		return ret;
	}
	close(fd);
	if (rename(tmp, path)) {
		ret = kheal_err_set(err, errno, "host.reboot: renaming %s to %s: %s",
				    tmp, path, strerror(errno));
		unlink(tmp);
		return ret;
	}
	return 0;
}

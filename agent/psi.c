// SPDX-License-Identifier: GPL-2.0
/*
 * Pressure stall information (Documentation/accounting/psi.rst): reading
 * the pressure files, and registering the triggers the kernel wakes
 * poll() with when tasks stall on memory for too long.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "psi.h"

/* Two lines of about 70 bytes each. */
#define PSI_TEXT_LEN	256

static int parse_line(const char *s, struct kheal_psi_line *l)
{
	int n = 0;

	if (sscanf(s, " avg10=%lf avg60=%lf avg300=%lf total=%" SCNu64 "%n",
		   &l->avg10, &l->avg60, &l->avg300, &l->total_us, &n) != 4 ||
	    (s[n] && s[n] != '\n'))
		return -EINVAL;
	return 0;
}

int kheal_psi_parse(const char *text, struct kheal_psi *out)
{
	const char *line, *next;
	bool has_some = false;

	memset(out, 0, sizeof(*out));
	for (line = text; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			next++;
		if (!strncmp(line, "some ", 5)) {
			if (parse_line(line + 4, &out->some))
				return -EINVAL;
			has_some = true;
		} else if (!strncmp(line, "full ", 5)) {
			if (parse_line(line + 4, &out->full))
				return -EINVAL;
			out->has_full = true;
		}
	}
	return has_some ? 0 : -EINVAL;
}

int kheal_psi_read_fd(int fd, struct kheal_psi *out)
{
	char buf[PSI_TEXT_LEN];
	ssize_t n;

	/* seq_file and kernfs make the text anew for a read at offset 0. */
	do {
		n = pread(fd, buf, sizeof(buf) - 1, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return kheal_psi_parse(buf, out);
}

int kheal_psi_read(int dirfd, const char *path, struct kheal_psi *out)
{
	int fd, ret;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	ret = kheal_psi_read_fd(fd, out);
	close(fd);
	return ret;
}

int kheal_psi_format(const struct kheal_psi_line *l, char *buf, size_t len)
{
	int n;

	n = snprintf(buf, len, "some avg10=%.2f avg60=%.2f avg300=%.2f total=%"
		     PRIu64, l->avg10, l->avg60, l->avg300, l->total_us);
	if (n >= 0 && (size_t)n < len)
		return n;
	n = snprintf(buf, len, "some avg10=%.2f total=%" PRIu64, l->avg10,
		     l->total_us);
	if (n >= 0 && (size_t)n < len)
		return n;
	if (len)
		buf[0] = '\0';
	return -ENOSPC;
}

int kheal_psi_trigger_open(int dirfd, const char *path, uint32_t stall_us,
			   uint32_t window_us, struct kheal_err *err)
{
	char trig[64];
	int fd, len, e;
	ssize_t n;

	len = snprintf(trig, sizeof(trig), "some %" PRIu32 " %" PRIu32,
		       stall_us, window_us);
	fd = openat(dirfd, path,
		    O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0) {
		e = errno;
		if (e == ENOENT)
			return kheal_err_set(err, e,
					     "%s: no such file: PSI needs Linux 4.20 built with CONFIG_PSI, and psi=1 on the kernel command line if it was built off (CONFIG_PSI_DEFAULT_DISABLED)",
					     path);
		if (e == EPERM || e == EACCES)
			return kheal_err_set(err, e,
					     "%s: %s: registering a PSI trigger needs CAP_SYS_RESOURCE (run kheald as root)",
					     path, strerror(e));
		return kheal_err_set(err, e, "%s: %s", path, strerror(e));
	}
	n = write(fd, trig, len + 1);
	if (n == len + 1)
		return fd;
	e = n < 0 ? errno : EIO;
	close(fd);
	if (e == EINVAL)
		return kheal_err_set(err, e,
				     "%s: the kernel refused the trigger '%s': the window must be %u to %u us (a multiple of 2 s without CAP_SYS_RESOURCE), the stall at most the window",
				     path, trig, KHEAL_PSI_WINDOW_MIN_US,
				     KHEAL_PSI_WINDOW_MAX_US);
	if (e == EOPNOTSUPP)
		return kheal_err_set(err, e,
				     "%s: the kernel has pressure accounting off here (psi=0, or cgroup.pressure 0)",
				     path);
	return kheal_err_set(err, e, "%s: writing the trigger '%s': %s", path,
			     trig, strerror(e));
}

// SPDX-License-Identifier: GPL-2.0
/*
 * kheald's state file, an AgentState (proto/kheal.proto) that kheald
 * rewrites at each tick and removes at exit, for khealctl status: which
 * engine runs and why, each source's counters, each probe's status.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state.h"

const char *kheal_engine_name(Kheal__Engine engine)
{
	switch (engine) {
	case KHEAL__ENGINE__ENGINE_AUTO:
		return "auto";
	case KHEAL__ENGINE__ENGINE_KMOD:
		return "kmod";
	case KHEAL__ENGINE__ENGINE_BPF:
		return "bpf";
	case KHEAL__ENGINE__ENGINE_BOTH:
		return "both";
	default:
		return "unspec";
	}
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}

int kheal_state_write(const char *path, const Kheal__AgentState *st,
		      struct kheal_err *err)
{
	size_t len = kheal__agent_state__get_packed_size(st);
	char tmp[4096];
	uint8_t *buf;
	int fd, ret;

	if (len > KHEAL_STATE_MAX)
		return kheal_err_set(err, EMSGSIZE,
				     "state file %s: %zu bytes, over %d", path,
				     len, KHEAL_STATE_MAX);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return kheal_err_set(err, ENAMETOOLONG,
				     "state file %s: path too long", path);
	buf = malloc(len ? len : 1);
	if (!buf)
		return kheal_err_set(err, ENOMEM, "state file %s: %s", path,
				     strerror(ENOMEM));
	kheal__agent_state__pack(st, buf);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ret = fd < 0 ? -errno : write_all(fd, buf, len);
	if (fd >= 0 && close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	free(buf);
	if (ret) {
		unlink(tmp);
		return kheal_err_set(err, -ret, "writing state file %s: %s",
				     path, strerror(-ret));
	}
	return 0;
}

int kheal_state_read(const char *path, Kheal__AgentState **st,
		     struct kheal_err *err)
{
	uint8_t *buf;
	ssize_t n;
	size_t len = 0;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kheal_err_set(err, errno, "state file %s: %s", path,
				     strerror(errno));
	buf = malloc(KHEAL_STATE_MAX + 1);
	if (!buf) {
		close(fd);
		return kheal_err_set(err, ENOMEM, "state file %s: %s", path,
				     strerror(ENOMEM));
	}
	while (len <= KHEAL_STATE_MAX &&
	       (n = read(fd, buf + len, KHEAL_STATE_MAX + 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = kheal_err_set(err, errno,
					    "reading state file %s: %s", path,
					    strerror(errno));
			break;
		}
		len += n;
	}
	close(fd);
	if (!ret && len > KHEAL_STATE_MAX)
		ret = kheal_err_set(err, EBADMSG,
				    "state file %s: over %d bytes", path,
				    KHEAL_STATE_MAX);
	if (!ret) {
		*st = kheal__agent_state__unpack(NULL, len, buf);
		if (!*st)
			ret = kheal_err_set(err, EBADMSG,
					    "state file %s: %zu bytes that are not a kheald state",
					    path, len);
	}
	free(buf);
	return ret;
}

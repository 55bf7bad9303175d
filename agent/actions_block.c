// SPDX-License-Identifier: GPL-2.0
/*
 * The storage executors: failing an md array's member, getting a spare
 * into the array, removing a failed member, remounting a failing device's
 * filesystems read-only, and the checks that verify them, through sysfs
 * (md's per-member state files), /proc/self/mountinfo and mount(2).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "actions.h"

#define NAME_MAX_LEN	32		/* a block device's kernel name */
#define STACK_DEPTH	8		/* holders followed, at most */
#define MAX_MOUNTS	16		/* of one device, acted on */
#define MAX_DEVS	64		/* a device and its partitions */
#define POLL_MS		20

struct blk {
	int sysfd;			/* sys_root */
	const char *proc_root;
};

struct devno {
	unsigned int maj, min;
};

struct mnt {
	struct devno dev;
	char point[PATH_MAX];		/* unescaped */
	unsigned long flags;		/* per-mount MS_* to keep */
	bool mnt_ro, sb_ro;
};

static uint64_t now_ms(void)
{
	return kheal_exec_now_ns() / 1000000;
}

/*
 * A kernel block device name as sysfs shows it: letters, digits, '_',
 * '-' and '.', not starting with '.'. Anything else (a path, "..",
 * spaces, control bytes) is refused before it reaches a path.
 */
static int name_check(const char *what, const char *name,
		      struct kheal_err *err)
{
	const char *c;

	if (!name || !*name)
		return kheal_err_set(err, EINVAL,
				     "%s '': expected a block device name, like sdb or dm-0",
				     what);
	if (strlen(name) >= NAME_MAX_LEN)
		return kheal_err_set(err, EINVAL,
				     "%s '%.32s...': longer than %d bytes: not a block device name",
				     what, name, NAME_MAX_LEN - 1);
	if (name[0] == '.')
		return kheal_err_set(err, EINVAL,
				     "%s '%s': not a block device name", what,
				     name);
	for (c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-' &&
		    *c != '.')
			return kheal_err_set(err, EINVAL,
					     "%s name: byte 0x%02x at offset %zu is not allowed in a block device name",
					     what, (unsigned char)*c,
					     (size_t)(c - name));
	return 0;
}

static int blk_open(struct blk *b, void *ctx, struct kheal_err *err)
{
	const struct kheal_exec_ctx *x = ctx;
	const char *sys = x && x->sys_root ? x->sys_root : "/sys";

	b->proc_root = x && x->proc_root ? x->proc_root : "/proc";
	b->sysfd = open(sys, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->sysfd < 0)
		return kheal_err_set(err, errno, "%s: %s", sys,
				     strerror(errno));
	return 0;
}

static void blk_close(struct blk *b)
{
	close(b->sysfd);
}

/* Reads sysfs attribute @rel (below sys_root), trailing newline cut. */
static int attr_read(const struct blk *b, const char *rel, char *buf,
		     size_t len)
{
	ssize_t n = kheal_exec_read_file(b->sysfd, rel, buf, len);

	if (n < 0)
		return n;
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	return 0;
}

static int attr_write(const struct blk *b, const char *rel, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd;

	fd = openat(b->sysfd, rel, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return n;
	return (size_t)n == len ? 0 : -EIO;
}

static int devno_of(const struct blk *b, const char *name, struct devno *d)
{
	char rel[128], buf[32];
	int ret;

	snprintf(rel, sizeof(rel), "class/block/%s/dev", name);
	ret = attr_read(b, rel, buf, sizeof(buf));
	if (ret)
		return ret;
	if (sscanf(buf, "%u:%u", &d->maj, &d->min) != 2)
		return -EINVAL;
	return 0;
}

/* Calls @fn for each entry name of directory @rel, until it returns != 0. */
static int each_entry(const struct blk *b, const char *rel,
		      int (*fn)(const struct blk *b, const char *name,
				void *arg), void *arg)
{
	struct dirent *de;
	int fd, ret = 0;
	DIR *d;

	fd = openat(b->sysfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while (!ret && (de = readdir(d))) {
		if (de->d_name[0] == '.' || name_check("", de->d_name, NULL))
			continue;
		ret = fn(b, de->d_name, arg);
	}
	closedir(d);
	return ret;
}

/* The device, then its partitions: what a filesystem of it may sit on. */
struct devs {
	struct devno v[MAX_DEVS];
	size_t n;
};

static int add_partition(const struct blk *b, const char *name, void *arg)
{
	const char *disk = ((const char **)arg)[0];
	struct devs *ds = ((void **)arg)[1];
	char rel[160], buf[16];

	snprintf(rel, sizeof(rel), "class/block/%s/%s/partition", disk, name);
	if (attr_read(b, rel, buf, sizeof(buf)) || ds->n == MAX_DEVS)
		return 0;
	if (!devno_of(b, name, &ds->v[ds->n]))
		ds->n++;
	return 0;
}

static int devs_of(const struct blk *b, const char *name, struct devs *ds)
{
	char rel[128];
	void *arg[2] = { (void *)name, ds };
	int ret;

	ds->n = 0;
	ret = devno_of(b, name, &ds->v[0]);
	if (ret)
		return ret;
	ds->n = 1;
	snprintf(rel, sizeof(rel), "class/block/%s", name);
	each_entry(b, rel, add_partition, arg);
	return 0;
}

/* "\040" and the like, as the kernel escapes mountinfo fields. */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
				      (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

static const struct {
	const char *opt;
	unsigned long flag;
} mnt_flags[] = {
	{ "nosuid", MS_NOSUID }, { "nodev", MS_NODEV },
	{ "noexec", MS_NOEXEC }, { "noatime", MS_NOATIME },
	{ "nodiratime", MS_NODIRATIME }, { "relatime", MS_RELATIME },
	{ "strictatime", MS_STRICTATIME },
};

static bool has_opt(const char *opts, const char *opt)
{
	size_t n = strlen(opt);
	const char *p;

	for (p = opts; (p = strstr(p, opt)); p += n)
		if ((p == opts || p[-1] == ',') && (!p[n] || p[n] == ','))
			return true;
	return false;
}

/* One mountinfo line; false if it is not one. */
static bool parse_mount(char *line, struct mnt *m)
{
	char *f[6], *sep, *save = NULL, *s = line;
	size_t i;

	/* Fields escape their spaces: " - " is the separator. */
	sep = strstr(line, " - ");
	if (!sep)
		return false;
	*sep = '\0';
	for (i = 0; i < 6; i++, s = NULL) {
		f[i] = strtok_r(s, " ", &save);
		if (!f[i])
			return false;
	}
	if (sscanf(f[2], "%u:%u", &m->dev.maj, &m->dev.min) != 2)
		return false;
	/* "fstype source superopts" */
	s = sep + 3;
	if (!strtok_r(s, " ", &save) || !strtok_r(NULL, " ", &save) ||
	    !(s = strtok_r(NULL, " \n", &save)))
		return false;
	m->sb_ro = has_opt(s, "ro");
	m->mnt_ro = has_opt(f[5], "ro");
	m->flags = 0;
	for (i = 0; i < sizeof(mnt_flags) / sizeof(mnt_flags[0]); i++)
		if (has_opt(f[5], mnt_flags[i].opt))
			m->flags |= mnt_flags[i].flag;
	snprintf(m->point, sizeof(m->point), "%s", f[4]);
	unescape(m->point);
	return true;
}

/*
 * The mounts of /proc/self/mountinfo, to @fn in order until it returns
 * != 0. -errno if mountinfo cannot be read.
 */
static int each_mount(const struct blk *b,
		      int (*fn)(const struct mnt *m, void *arg), void *arg)
{
	char path[PATH_MAX], line[3 * PATH_MAX];
	struct mnt m;
	int ret = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/self/mountinfo", b->proc_root);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (!ret && fgets(line, sizeof(line), f))
		if (parse_mount(line, &m))
			ret = fn(&m, arg);
	fclose(f);
	return ret;
}

static int root_mount(const struct mnt *m, void *arg)
{
	/* The last mount on "/" is the one in use. */
	if (!strcmp(m->point, "/"))
		*(struct devno *)arg = m->dev;
	return 0;
}

struct root_walk {
	struct devno root;
	int depth;
	bool found;
};

/* Whether @name, a partition of it or a device stacked on them is root. */
static int holds_root_walk(const struct blk *b, const char *name, void *arg)
{
	struct root_walk *w = arg;
	struct devs ds;
	char rel[160];
	size_t i;

	if (w->found || w->depth > STACK_DEPTH)
		return w->depth > STACK_DEPTH ? -ELOOP : 0;
	if (devs_of(b, name, &ds))
		return 0;
	for (i = 0; i < ds.n; i++)
		if (ds.v[i].maj == w->root.maj && ds.v[i].min == w->root.min)
			w->found = true;
	if (w->found)
		return 0;
	w->depth++;
	snprintf(rel, sizeof(rel), "class/block/%s/holders", name);
	each_entry(b, rel, holds_root_walk, w);
	w->depth--;
	return 0;
}

/*
 * -EPERM if @name holds the root filesystem: it is its device, or a
 * partition of it is, or something stacked on them (an md array, a dm
 * device) is; or if that cannot be told.
 */
static int refuse_root(const struct blk *b, const char *name,
		       struct kheal_err *err)
{
	struct root_walk w = { .root = { 0, 0 } };
	int ret;

	ret = each_mount(b, root_mount, &w.root);
	if (ret)
		return kheal_err_set(err, EPERM,
				     "%s: cannot tell whether it holds the root filesystem (%s/self/mountinfo: %s); not touching it",
				     name, b->proc_root, strerror(-ret));
	ret = holds_root_walk(b, name, &w);
	if (ret || w.found)
		return kheal_err_set(err, EPERM,
				     "%s holds the root filesystem (device %u:%u)%s; not touching it",
				     name, w.root.maj, w.root.min,
				     ret ? ", or is stacked too deep to tell" : "");
	return 0;
}

struct array_find {
	const char *member;
	char *md;
	size_t len;
};

static int is_array_of(const struct blk *b, const char *holder, void *arg)
{
	struct array_find *a = arg;
	char rel[160], buf[64];

	snprintf(rel, sizeof(rel), "class/block/%s/md/dev-%s/state", holder,
		 a->member);
	if (attr_read(b, rel, buf, sizeof(buf)))
		return 0;
	snprintf(a->md, a->len, "%s", holder);
	return 1;
}

/*
 * The md array @dev is a member of, through /sys/class/block/DEV/holders
 * and the array's md/dev-DEV: 1 and its name in @md, 0 if none, -ENODEV
 * if there is no such block device.
 */
static int array_of(const struct blk *b, const char *dev, char *md,
		    size_t len, struct kheal_err *err)
{
	struct array_find a = { dev, md, len };
	char rel[128];
	struct devno d;
	int ret;

	if (devno_of(b, dev, &d))
		return kheal_err_set(err, ENODEV, "%s: no such block device",
				     dev);
	snprintf(rel, sizeof(rel), "class/block/%s/holders", dev);
	ret = each_entry(b, rel, is_array_of, &a);
	return ret == 1 ? 1 : 0;
}

/* The array of member @dev, with the rules every md action follows. */
static int member_open(struct blk *b, const char *const *args, void *ctx,
		       char *md, size_t len, struct kheal_err *err)
{
	const char *dev = args[0];
	int ret;

	kheal_exec_note_clear(err);
	ret = name_check("block device", dev, err);
	if (ret)
		return ret;
	ret = blk_open(b, ctx, err);
	if (ret)
		return ret;
	ret = array_of(b, dev, md, len, err);
	if (ret == 0)
		ret = kheal_err_set(err, ENODEV,
				    "%s is not a member of an md array", dev);
	if (ret == 1)
		ret = refuse_root(b, md, err);
	if (ret)
		blk_close(b);
	return ret;
}

static int md_attr(const struct blk *b, const char *md, const char *attr,
		   char *buf, size_t len)
{
	char rel[160];

	snprintf(rel, sizeof(rel), "class/block/%s/md/%s", md, attr);
	return attr_read(b, rel, buf, len);
}

static int member_state(const struct blk *b, const char *md, const char *dev,
			char *buf, size_t len)
{
	char attr[64];

	snprintf(attr, sizeof(attr), "dev-%s/state", dev);
	return md_attr(b, md, attr, buf, len);
}

int kheal_action_md_fail_member(const char *const *args, uint64_t timeout_ms,
				void *ctx, struct kheal_err *err)
{
	char md[NAME_MAX_LEN], state[128], rel[160];
	const char *dev = args[0];
	struct blk b;
	int ret;

	(void)timeout_ms;
	ret = member_open(&b, args, ctx, md, sizeof(md), err);
	if (ret)
		return ret;
	ret = member_state(&b, md, dev, state, sizeof(state));
	if (!ret && has_opt(state, "faulty")) {
		kheal_err_set(err, 0, "%s was already faulty in %s (%s)", dev,
			      md, state);
		goto out;
	}
	snprintf(rel, sizeof(rel), "class/block/%s/md/dev-%s/state", md, dev);
	ret = attr_write(&b, rel, "faulty");
	if (!ret)
		ret = member_state(&b, md, dev, state, sizeof(state));
	if (ret)
		ret = kheal_err_set(err, -ret, "%s: marking %s faulty: %s", md,
				    dev, strerror(-ret));
	else if (!has_opt(state, "faulty"))
		/* md keeps the last working member of an array. */
		ret = kheal_err_set(err, EBUSY,
				    "%s kept %s (state %s): it may be the array's last working member",
				    md, dev, state);
out:
	blk_close(&b);
	return ret;
}

struct spares {
	const struct blk *b;
	const char *md;
	int n;
};

static int count_spare(const struct blk *b, const char *name, void *arg)
{
	struct spares *s = arg;
	char state[128];

	if (strncmp(name, "dev-", 4) ||
	    member_state(b, s->md, name + 4, state, sizeof(state)))
		return 0;
	if (has_opt(state, "spare") && !has_opt(state, "faulty"))
		s->n++;
	return 0;
}

/* Runs argv with output discarded; the exit status, or -errno. */
static int run_wait(char *const argv[], uint64_t timeout_ms,
		    struct kheal_err *err)
{
	uint64_t until = now_ms() + timeout_ms;
	int status, fd;
	pid_t pid, r;

	pid = fork();
	if (pid < 0)
		return kheal_err_set(err, errno, "fork: %s", strerror(errno));
	if (!pid) {
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	while (!(r = waitpid(pid, &status, WNOHANG)) && now_ms() < until)
		kheal_exec_sleep_ms(POLL_MS);
	if (r == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return kheal_err_set(err, ETIMEDOUT,
				     "%s did not finish within %llu ms",
				     argv[0], (unsigned long long)timeout_ms);
	}
	if (r < 0)
		return kheal_err_set(err, errno, "waiting for %s: %s", argv[0],
				     strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static bool recovering(const struct blk *b, const char *md)
{
	char action[32], degraded[32];

	if (!md_attr(b, md, "degraded", degraded, sizeof(degraded)) &&
	    !strcmp(degraded, "0"))
		return true;
	return !md_attr(b, md, "sync_action", action, sizeof(action)) &&
	       strcmp(action, "idle") && strcmp(action, "frozen");
}

/* Adds @spare to @md with mdadm, which writes its superblock first. */
static int add_configured(const struct blk *b, const char *md,
			  const char *spare, uint64_t timeout_ms,
			  struct kheal_err *err)
{
	char dev[NAME_MAX_LEN + 8], array[NAME_MAX_LEN + 8], rel[128];
	char *argv[] = { "mdadm", "--manage", array, "--add", dev, NULL };
	char other[NAME_MAX_LEN];
	struct array_find a = { spare, other, sizeof(other) };
	struct devno d;
	int ret;

	ret = name_check("spare", spare, err);
	if (ret)
		return ret;
	if (devno_of(b, spare, &d))
		return kheal_err_set(err, ENODEV, "spare %s: no such block device",
				     spare);
	ret = refuse_root(b, spare, err);
	if (ret)
		return ret;
	snprintf(rel, sizeof(rel), "class/block/%s/holders", spare);
	if (each_entry(b, rel, is_array_of, &a) == 1)
		return kheal_err_set(err, EBUSY, "spare %s is already in %s",
				     spare, other);
	snprintf(array, sizeof(array), "/dev/%s", md);
	snprintf(dev, sizeof(dev), "/dev/%s", spare);
	ret = run_wait(argv, timeout_ms, err);
	if (ret < 0)
		return ret;
	if (ret)
		return kheal_err_set(err, EIO,
				     "mdadm --manage %s --add %s exited with %d",
				     array, dev, ret);
	return 0;
}

int kheal_action_md_add_spare(const char *const *args, uint64_t timeout_ms,
			      void *ctx, struct kheal_err *err)
{
	char md[NAME_MAX_LEN], degraded[32], action[32], rel[160];
	uint64_t until = now_ms() + timeout_ms;
	const char *spare = args[1];
	struct spares s = { .n = 0 };
	struct blk b;
	int ret;

	ret = member_open(&b, args, ctx, md, sizeof(md), err);
	if (ret)
		return ret;
	ret = md_attr(&b, md, "degraded", degraded, sizeof(degraded));
	if (ret) {
		ret = kheal_err_set(err, -ret, "%s/md/degraded: %s", md,
				    strerror(-ret));
		goto out;
	}
	if (!strcmp(degraded, "0")) {
		kheal_err_set(err, 0, "%s is not degraded; nothing to add", md);
		goto out;
	}
	if (recovering(&b, md)) {
		md_attr(&b, md, "sync_action", action, sizeof(action));
		kheal_err_set(err, 0, "%s is already recovering (sync_action %s)",
			      md, action);
		goto out;
	}
	s.b = &b;
	s.md = md;
	snprintf(rel, sizeof(rel), "class/block/%s/md", md);
	each_entry(&b, rel, count_spare, &s);
	if (!s.n && !spare) {
		ret = kheal_err_set(err, ENODEV,
				    "%s is degraded and has no spare; give the step a spare: parameter to add one",
				    md);
		goto out;
	}
	if (!s.n)
		ret = add_configured(&b, md, spare, timeout_ms, err);
	/* md starts a recovery onto a spare when it is asked to look. */
	if (!ret && !recovering(&b, md)) {
		snprintf(rel, sizeof(rel), "class/block/%s/md/sync_action", md);
		ret = attr_write(&b, rel, "recover");
		if (ret)
			ret = kheal_err_set(err, -ret, "%s: sync_action recover: %s",
					    md, strerror(-ret));
	}
	while (!ret && !recovering(&b, md) && now_ms() < until)
		kheal_exec_sleep_ms(POLL_MS);
	if (!ret && !recovering(&b, md))
		ret = kheal_err_set(err, ETIMEDOUT,
				    "%s did not start recovering within %llu ms",
				    md, (unsigned long long)timeout_ms);
	else if (!ret && s.n)
		kheal_err_set(err, 0, "%s recovers onto its spare", md);
	else if (!ret)
		kheal_err_set(err, 0, "%s recovers onto %s, added with mdadm",
			      md, spare);
out:
	blk_close(&b);
	return ret;
}

int kheal_action_md_remove_member(const char *const *args,
				  uint64_t timeout_ms, void *ctx,
				  struct kheal_err *err)
{
	char md[NAME_MAX_LEN], state[128], rel[160];
	const char *dev = args[0];
	struct blk b;
	int ret;

	(void)timeout_ms;
	ret = member_open(&b, args, ctx, md, sizeof(md), err);
	if (ret)
		return ret;
	ret = member_state(&b, md, dev, state, sizeof(state));
	if (!ret && !has_opt(state, "faulty")) {
		ret = kheal_err_set(err, EBUSY,
				    "%s is not faulty in %s (state %s): fail it first",
				    dev, md, state);
		goto out;
	}
	snprintf(rel, sizeof(rel), "class/block/%s/md/dev-%s/state", md, dev);
	if (!ret)
		ret = attr_write(&b, rel, "remove");
	if (ret)
		ret = kheal_err_set(err, -ret, "%s: removing %s: %s", md, dev,
				    strerror(-ret));
	else if (!member_state(&b, md, dev, state, sizeof(state)))
		ret = kheal_err_set(err, EBUSY, "%s still lists %s (state %s)",
				    md, dev, state);
out:
	blk_close(&b);
	return ret;
}

int kheal_check_md_member(const char *const *args, void *ctx,
			  struct kheal_err *err)
{
	char md[NAME_MAX_LEN];
	struct blk b;
	int ret;

	ret = name_check("block device", args[0], err);
	if (!ret)
		ret = blk_open(&b, ctx, err);
	if (ret)
		return ret;
	ret = array_of(&b, args[0], md, sizeof(md), err);
	blk_close(&b);
	return ret;
}

int kheal_check_md_resynced(const char *const *args, void *ctx,
			    struct kheal_err *err)
{
	char md[NAME_MAX_LEN], degraded[32], action[32], state[32];
	struct blk b;
	int ret;

	ret = name_check("block device", args[0], err);
	if (!ret)
		ret = blk_open(&b, ctx, err);
	if (ret)
		return ret;
	ret = array_of(&b, args[0], md, sizeof(md), err);
	if (ret == 0)
		ret = kheal_err_set(err, ENODEV,
				    "%s is not listed in an md array any more: nothing to tell the resync by",
				    args[0]);
	if (ret < 0)
		goto out;
	if (md_attr(&b, md, "degraded", degraded, sizeof(degraded)) ||
	    md_attr(&b, md, "sync_action", action, sizeof(action)) ||
	    md_attr(&b, md, "array_state", state, sizeof(state))) {
		ret = kheal_err_set(err, EIO, "%s: cannot read its md state",
				    md);
		goto out;
	}
	ret = !strcmp(degraded, "0") && !strcmp(action, "idle") &&
	      (!strcmp(state, "clean") || !strcmp(state, "active") ||
	       !strcmp(state, "active-idle"));
out:
	blk_close(&b);
	return ret;
}

struct dev_mounts {
	const struct devs *ds;
	struct mnt v[MAX_MOUNTS];
	size_t n;
	bool more;
};

static int collect_mount(const struct mnt *m, void *arg)
{
	struct dev_mounts *dm = arg;
	size_t i;

	for (i = 0; i < dm->ds->n; i++)
		if (m->dev.maj == dm->ds->v[i].maj &&
		    m->dev.min == dm->ds->v[i].min)
			break;
	if (i == dm->ds->n)
		return 0;
	if (dm->n == MAX_MOUNTS)
		dm->more = true;
	else
		dm->v[dm->n++] = *m;
	return 0;
}

/* The mounts of @dev and its partitions. */
static int mounts_of(const struct blk *b, const char *dev, struct devs *ds,
		     struct dev_mounts *dm, struct kheal_err *err)
{
	int ret;

	if (devs_of(b, dev, ds))
		return kheal_err_set(err, ENODEV, "%s: no such block device",
				     dev);
	memset(dm, 0, sizeof(*dm));
	dm->ds = ds;
	ret = each_mount(b, collect_mount, dm);
	if (ret)
		return kheal_err_set(err, -ret, "%s/self/mountinfo: %s",
				     b->proc_root, strerror(-ret));
	return 0;
}

/* mount(2) in a child, so a filesystem stuck on its device waits alone. */
static int remount(const char *point, unsigned long flags,
		   uint64_t timeout_ms)
{
	uint64_t until = now_ms() + timeout_ms;
	int status;
	pid_t pid, r;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid)
		_exit(mount(NULL, point, NULL, flags, NULL) ? errno : 0);
	while (!(r = waitpid(pid, &status, WNOHANG)) && now_ms() < until)
		kheal_exec_sleep_ms(POLL_MS);
	if (r == 0)
		return -ETIMEDOUT;	/* in D state: a kill would not land */
	if (r < 0)
		return -errno;
	if (!WIFEXITED(status))
		return -EINTR;
	return -WEXITSTATUS(status);
}

int kheal_action_fs_remount_ro(const char *const *args, uint64_t timeout_ms,
			       void *ctx, struct kheal_err *err)
{
	const char *dev = args[0];
	struct dev_mounts dm;
	char note[256] = "";
	size_t i, done = 0, bind = 0;
	struct devs ds;
	struct blk b;
	int ret;

	kheal_exec_note_clear(err);
	ret = name_check("block device", dev, err);
	if (!ret)
		ret = blk_open(&b, ctx, err);
	if (ret)
		return ret;
	ret = refuse_root(&b, dev, err);
	if (!ret)
		ret = mounts_of(&b, dev, &ds, &dm, err);
	if (ret)
		goto out;
	if (!dm.n) {
		ret = kheal_err_set(err, ENOENT,
				    "no filesystem of %s is mounted", dev);
		goto out;
	}
	for (i = 0; i < dm.n; i++) {
		const struct mnt *m = &dm.v[i];

		if (m->sb_ro || m->mnt_ro)
			continue;
		ret = remount(m->point, MS_REMOUNT | MS_RDONLY | m->flags,
			      timeout_ms);
		/*
		 * A filesystem that cannot sync to its failing device will
		 * not go read-only; its mount still can, which stops writes
		 * through it.
		 */
		if (ret && ret != -ETIMEDOUT && ret != -EBUSY) {
			snprintf(note, sizeof(note),
				 "; %s could not remount read-only (%s), its mount was made read-only instead",
				 m->point, strerror(-ret));
			ret = remount(m->point, MS_REMOUNT | MS_BIND |
				      MS_RDONLY | m->flags, timeout_ms);
			bind++;
		}
		if (ret) {
			ret = kheal_err_set(err, -ret,
					    "remounting %s (on %s) read-only: %s%s",
					    m->point, dev, strerror(-ret),
					    ret == -EBUSY ?
					    "; files are open for writing" : "");
			goto out;
		}
		done++;
	}
	if (!done)
		kheal_err_set(err, 0, "every filesystem of %s was already read-only",
			      dev);
	else
		kheal_err_set(err, 0, "%zu mount%s of %s made read-only%s%s",
			      done, done == 1 ? "" : "s", dev,
			      dm.more ? "; more mounts than were looked at" : "",
			      bind ? note : "");
out:
	blk_close(&b);
	return ret;
}

int kheal_check_fs_readonly(const char *const *args, void *ctx,
			    struct kheal_err *err)
{
	struct dev_mounts dm;
	struct devs ds;
	struct blk b;
	size_t i;
	int ret;

	ret = name_check("block device", args[0], err);
	if (!ret)
		ret = blk_open(&b, ctx, err);
	if (ret)
		return ret;
	ret = mounts_of(&b, args[0], &ds, &dm, err);
	blk_close(&b);
	if (ret)
		return ret;
	for (i = 0; i < dm.n; i++)
		if (!dm.v[i].sb_ro && !dm.v[i].mnt_ro)
			return 0;
	return !dm.more;
}

int kheal_check_fs_mounted(const char *const *args, void *ctx,
			   struct kheal_err *err)
{
	struct dev_mounts dm;
	struct devs ds;
	struct blk b;
	int ret;

	ret = name_check("block device", args[0], err);
	if (!ret)
		ret = blk_open(&b, ctx, err);
	if (ret)
		return ret;
	ret = mounts_of(&b, args[0], &ds, &dm, err);
	blk_close(&b);
	return ret ? ret : dm.n > 0;
}

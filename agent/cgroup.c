// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup v2 paths for the BPF engine, whose probes report the cgroup id
 * only: on 64-bit kernels the id is the inode number of the cgroup's
 * directory, so a walk of the cgroup2 mount finds it. A small cache
 * keeps repeated events of one cgroup from walking again.
 */
#include <dirent.h>
#include <fcntl.h>
#include <mntent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"

/* Deeper than any cgroup tree; bounds the open directories. */
#define MAX_DEPTH	32

const char *kheal_cgroup_find_root(const char *mounts, char *buf,
				   size_t len)
{
	const char *found = NULL;
	struct mntent *m;
	FILE *f;

	f = setmntent(mounts, "re");
	if (!f)
		return NULL;
	while (!found && (m = getmntent(f)))
		if (!strcmp(m->mnt_type, "cgroup2") &&
		    snprintf(buf, len, "%s", m->mnt_dir) < (int)len)
			found = buf;
	endmntent(f);
	return found;
}

void kheal_cgroup_init(struct kheal_cgroup_cache *c, const char *root)
{
	memset(c, 0, sizeof(*c));
	if (root)
		snprintf(c->root, sizeof(c->root), "%s", root);
}

/*
 * Looks for @id under directory @fd, whose path below the root is
 * path[0..len). True, with the path completed, if found.
 */
static bool walk(int fd, uint64_t id, char *path, size_t len, size_t size,
		 int depth)
{
	struct dirent *de;
	struct stat st;
	bool found = false;
	size_t n;
	DIR *dir;
	int sub;

	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return false;
	}
	while (!found && (de = readdir(dir))) {
		if ((de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) ||
		    !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(dir), de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) || !S_ISDIR(st.st_mode))
			continue;
		n = snprintf(path + len, size - len, "/%s", de->d_name);
		if (n >= size - len)
			n = size - len - 1;	/* cut, as the module does */
		if (st.st_ino == id) {
			found = true;
			break;
		}
		if (depth >= MAX_DEPTH)
			continue;
		sub = openat(dirfd(dir), de->d_name,
			     O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub >= 0)
			found = walk(sub, id, path, len + n, size, depth + 1);
	}
	closedir(dir);
	if (!found)
		path[len] = '\0';
	return found;
}

static bool lookup(const char *root, uint64_t id, char *path, size_t size)
{
	struct stat st;
	int fd;

	path[0] = '\0';
	if (!root[0] || stat(root, &st))
		return false;
	if (st.st_ino == id) {
		snprintf(path, size, "/");
		return true;
	}
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd >= 0 && walk(fd, id, path, 0, size, 1);
}

const char *kheal_cgroup_path(struct kheal_cgroup_cache *c, uint64_t id)
{
	unsigned int i;

	if (!id)
		return NULL;
	for (i = 0; i < KHEAL_CGROUP_CACHE; i++)
		if (c->e[i].id == id)
			return c->e[i].found ? c->e[i].path : NULL;
	i = c->next;
	c->next = (c->next + 1) % KHEAL_CGROUP_CACHE;
	c->e[i].id = id;
	c->e[i].found = lookup(c->root, id, c->e[i].path,
			       sizeof(c->e[i].path));
	return c->e[i].found ? c->e[i].path : NULL;
}

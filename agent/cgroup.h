/* SPDX-License-Identifier: GPL-2.0 */
/* A cgroup v2 id to its path, by walking the cgroup2 mount. */
#ifndef KHEAL_CGROUP_H
#define KHEAL_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/kheal.h>

#define KHEAL_CGROUP_CACHE	64

struct kheal_cgroup_cache {
	char root[256];		/* the cgroup2 mount; "" if none */
	unsigned int next;	/* the slot to reuse next */
	struct {
		uint64_t id;	/* 0: unused */
		bool found;
		char path[KHEAL_CGROUP_PATH_LEN];
	} e[KHEAL_CGROUP_CACHE];
};

/* The first cgroup2 mount of @mounts (a /proc/self/mounts), or NULL. */
const char *kheal_cgroup_find_root(const char *mounts, char *buf,
				   size_t len);

/* Paths are relative to @root, which may be NULL: no cgroup2 mount. */
void kheal_cgroup_init(struct kheal_cgroup_cache *c, const char *root);

/*
 * The path of cgroup @id ("/" for the root, else "/a/b", cut to fit),
 * or NULL if no directory under the root has that inode number: the
 * cgroup is gone, or not on this hierarchy. Cgroup ids are never
 * reused, so misses are cached as well as hits.
 */
const char *kheal_cgroup_path(struct kheal_cgroup_cache *c, uint64_t id);

#endif

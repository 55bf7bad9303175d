// SPDX-License-Identifier: GPL-2.0
/* cgroup ids to paths, on a directory tree standing in for cgroupfs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgroup.h"

static char root[] = "/tmp/kheal-test-cg-XXXXXX";
static struct kheal_cgroup_cache cache;

static uint64_t ino(const char *rel)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

static void mkdirs(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(root))
		return -1;
	mkdirs("/system.slice");
	mkdirs("/system.slice/db.service");
	mkdirs("/hog");
	kheal_cgroup_init(&cache, root);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd);
}

/* A cgroup's id finds its path below the root; the root is "/". */
static void test_id_resolves_to_path_below_root(void **state)
{
	const char *p;

	(void)state;
	p = kheal_cgroup_path(&cache, ino("/system.slice/db.service"));
	assert_non_null(p);
	assert_string_equal(p, "/system.slice/db.service");
	p = kheal_cgroup_path(&cache, ino("/hog"));
	assert_non_null(p);
	assert_string_equal(p, "/hog");
	p = kheal_cgroup_path(&cache, ino(""));
	assert_non_null(p);
	assert_string_equal(p, "/");
}

/* An id no directory has is absent; so is id 0, and any without a root. */
static void test_unknown_id_is_absent(void **state)
{
	struct kheal_cgroup_cache none;

	(void)state;
	assert_null(kheal_cgroup_path(&cache, 1ULL << 62));
	assert_null(kheal_cgroup_path(&cache, 0));
	kheal_cgroup_init(&none, NULL);
	assert_null(kheal_cgroup_path(&none, ino("/hog")));
}

/* A path once found is kept: a cgroup gone since still has its name. */
static void test_found_path_is_cached(void **state)
{
	char from[512], to[512];
	uint64_t id = ino("/hog");

	(void)state;
	assert_string_equal(kheal_cgroup_path(&cache, id), "/hog");
	snprintf(from, sizeof(from), "%s/hog", root);
	snprintf(to, sizeof(to), "%s/hog2", root);
	assert_int_equal(rename(from, to), 0);
	assert_string_equal(kheal_cgroup_path(&cache, id), "/hog");
	assert_int_equal(rename(to, from), 0);
}

/* A path longer than an event holds is cut to fit, as the module does. */
static void test_long_path_cut_to_fit(void **state)
{
	char rel[400] = "";
	char name[64];
	const char *p;
	int i;

	(void)state;
	memset(name, 'n', 60);
	name[60] = '\0';
	for (i = 0; i < 5; i++) {
		snprintf(rel + strlen(rel), sizeof(rel) - strlen(rel), "/%s",
			 name);
		mkdirs(rel);
	}
	p = kheal_cgroup_path(&cache, ino(rel));
	assert_non_null(p);
	assert_int_equal(strlen(p), KHEAL_CGROUP_PATH_LEN - 1);
	assert_memory_equal(p, rel, KHEAL_CGROUP_PATH_LEN - 1);
}

/* The cgroup2 mount is found in a mount table; none is NULL. */
static void test_cgroup2_mount_found(void **state)
{
	char mounts[96], buf[256];
	FILE *f;

	(void)state;
	snprintf(mounts, sizeof(mounts), "%s/mounts", root);
	f = fopen(mounts, "w");
	assert_non_null(f);
	fputs("proc /proc proc rw 0 0\n"
	      "cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\n"
	      "cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n", f);
	fclose(f);
	assert_string_equal(kheal_cgroup_find_root(mounts, buf, sizeof(buf)),
			    "/sys/fs/cgroup/unified");
	f = fopen(mounts, "w");
	fputs("proc /proc proc rw 0 0\n", f);
	fclose(f);
	assert_null(kheal_cgroup_find_root(mounts, buf, sizeof(buf)));
	unlink(mounts);
}

#define T(f)	cmocka_unit_test(f)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_id_resolves_to_path_below_root),
		T(test_unknown_id_is_absent),
		T(test_found_path_is_cached),
		T(test_long_path_cut_to_fit),
		T(test_cgroup2_mount_found),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

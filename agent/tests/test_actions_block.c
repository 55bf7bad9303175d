// SPDX-License-Identifier: GPL-2.0
/*
 * The storage executors on a tree standing in for sysfs and /proc: how
 * they find an array and a mount, what they refuse, what they write.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#include "actions.h"

static char tmp[] = "/tmp/kheal-test-blk-XXXXXX";
static char sys_root[PATH_MAX], proc_root[PATH_MAX];
static struct kheal_exec_ctx fake;

static void put(const char *rel, const char *text)
{
	char path[PATH_MAX], *p;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	for (p = path + strlen(tmp) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void get(const char *rel, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	n = kheal_exec_read_file(AT_FDCWD, path, buf, len);
	assert_true(n >= 0);
}

#define ROOT_LINE	"1 0 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"

/*
 * sda (root on sda1); md0 = RAID1 of dm-0 and loop1, spare loop2;
 * loop3 unused; vdb with a filesystem on /mnt/data dir.
 */
static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(tmp));
	snprintf(sys_root, sizeof(sys_root), "%s/sys", tmp);
	snprintf(proc_root, sizeof(proc_root), "%s/proc", tmp);
	fake = (struct kheal_exec_ctx){ .proc_root = proc_root,
					.sys_root = sys_root };

	put("sys/class/block/sda/dev", "8:0\n");
	put("sys/class/block/sda/sda1/dev", "8:1\n");
	put("sys/class/block/sda/sda1/partition", "1\n");
	put("sys/class/block/sda1/dev", "8:1\n");
	put("sys/class/block/dm-0/dev", "253:0\n");
	put("sys/class/block/dm-0/holders/md0", "");
	put("sys/class/block/loop1/dev", "7:1\n");
	put("sys/class/block/loop1/holders/md0", "");
	put("sys/class/block/loop2/dev", "7:2\n");
	put("sys/class/block/loop2/holders/md0", "");
	put("sys/class/block/loop3/dev", "7:3\n");
	put("sys/class/block/md0/dev", "9:0\n");
	put("sys/class/block/md0/md/degraded", "0\n");
	put("sys/class/block/md0/md/sync_action", "idle\n");
	put("sys/class/block/md0/md/array_state", "clean\n");
	put("sys/class/block/md0/md/dev-dm-0/state", "in_sync\n");
	put("sys/class/block/md0/md/dev-loop1/state", "in_sync\n");
	put("sys/class/block/md0/md/dev-loop2/state", "spare\n");
	put("sys/class/block/vdb/dev", "254:16\n");
	put("proc/self/mountinfo", ROOT_LINE
	    "30 1 254:16 / /mnt/data\\040dir rw,nosuid,noatime shared:9 - ext4 /dev/vdb rw,errors=continue\n");
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	assert_int_equal(system(cmd), 0);
	strcpy(tmp, "/tmp/kheal-test-blk-XXXXXX");
	return 0;
}

static int act(int (*fn)(const char *const *, uint64_t, void *,
			 struct kheal_err *), const char *dev,
	       const char *spare, struct kheal_err *err)
{
	const char *args[] = { dev, spare };

	return fn(args, 100, &fake, err);
}

static int check(int (*fn)(const char *const *, void *, struct kheal_err *),
		 const char *dev, struct kheal_err *err)
{
	const char *args[] = { dev };

	return fn(args, &fake, err);
}

static void md_member_found_through_holders(void **state)
{
	struct kheal_err err = { "" };

	(void)state;
	assert_int_equal(check(kheal_check_md_member, "dm-0", &err), 1);
	assert_int_equal(check(kheal_check_md_member, "loop3", &err), 0);
	assert_int_equal(check(kheal_check_md_member, "vdb", &err), 0);
	assert_int_equal(check(kheal_check_md_member, "nosuch", &err),
			 -ENODEV);
}

static void odd_device_names_are_refused(void **state)
{
	static const char *const bad[] = {
		"", "..", ".hidden", "../sda", "sda/sda1", "sd a", "md0\n",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	struct kheal_err err = { "" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(act(kheal_action_md_fail_member, bad[i], NULL,
				     &err), -EINVAL);
		assert_int_equal(act(kheal_action_fs_remount_ro, bad[i], NULL,
				     &err), -EINVAL);
		assert_int_equal(check(kheal_check_md_resynced, bad[i], &err),
				 -EINVAL);
	}
	put("sys/class/block/md0/md/degraded", "1\n");
	put("sys/class/block/md0/md/dev-loop2/state", "faulty\n");
	assert_int_equal(act(kheal_action_md_add_spare, "dm-0", "../loop3",
			     &err), -EINVAL);
}

static void fail_member_writes_faulty_and_reads_it_back(void **state)
{
	struct kheal_err err = { "" };
	char buf[64];

	(void)state;
	assert_int_equal(act(kheal_action_md_fail_member, "dm-0", NULL, &err),
			 0);
	get("sys/class/block/md0/md/dev-dm-0/state", buf, sizeof(buf));
	assert_string_equal(buf, "faulty");
	assert_string_equal(err.msg, "");
	/* Again: nothing to do, and a note says so. */
	assert_int_equal(act(kheal_action_md_fail_member, "dm-0", NULL, &err),
			 0);
	assert_non_null(strstr(err.msg, "already faulty in md0"));
}

static void fail_member_refuses_a_non_member(void **state)
{
	struct kheal_err err = { "" };

	(void)state;
	assert_int_equal(act(kheal_action_md_fail_member, "loop3", NULL, &err),
			 -ENODEV);
	assert_non_null(strstr(err.msg, "not a member of an md array"));
}

static void array_holding_root_is_never_touched(void **state)
{
	struct kheal_err err = { "" };
	char buf[64], path[PATH_MAX];

	(void)state;
	put("proc/self/mountinfo",
	    "1 0 9:0 / / rw,relatime shared:1 - ext4 /dev/md0 rw\n");
	assert_int_equal(act(kheal_action_md_fail_member, "dm-0", NULL, &err),
			 -EPERM);
	assert_non_null(strstr(err.msg, "md0 holds the root filesystem"));
	get("sys/class/block/md0/md/dev-dm-0/state", buf, sizeof(buf));
	assert_string_equal(buf, "in_sync\n");
	/* Nor when the root cannot be told. */
	snprintf(path, sizeof(path), "%s/proc/self/mountinfo", tmp);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(act(kheal_action_md_remove_member, "dm-0", NULL,
			     &err), -EPERM);
}

static void root_device_is_not_remounted(void **state)
{
	struct kheal_err err = { "" };

	(void)state;
	assert_int_equal(act(kheal_action_fs_remount_ro, "sda", NULL, &err),
			 -EPERM);
	assert_non_null(strstr(err.msg, "root filesystem"));
	assert_int_equal(act(kheal_action_fs_remount_ro, "sda1", NULL, &err),
			 -EPERM);
}

static void add_spare_asks_md_to_recover_onto_its_spare(void **state)
{
	struct kheal_err err = { "" };
	char buf[64];

	(void)state;
	put("sys/class/block/md0/md/degraded", "1\n");
	assert_int_equal(act(kheal_action_md_add_spare, "dm-0", NULL, &err),
			 0);
	get("sys/class/block/md0/md/sync_action", buf, sizeof(buf));
	assert_string_equal(buf, "recover");
	assert_non_null(strstr(err.msg, "recovers onto its spare"));
	/* Recovering already: a note, nothing written. */
	assert_int_equal(act(kheal_action_md_add_spare, "dm-0", NULL, &err),
			 0);
	assert_non_null(strstr(err.msg, "already recovering"));
}

static void add_spare_without_a_spare_says_what_to_do(void **state)
{
	struct kheal_err err = { "" };

	(void)state;
	put("sys/class/block/md0/md/degraded", "1\n");
	put("sys/class/block/md0/md/dev-loop2/state", "faulty\n");
	assert_int_equal(act(kheal_action_md_add_spare, "dm-0", NULL, &err),
			 -ENODEV);
	assert_non_null(strstr(err.msg, "spare: parameter"));
	assert_int_equal(act(kheal_action_md_add_spare, "dm-0", "sda", &err),
			 -EPERM);
	assert_int_equal(act(kheal_action_md_add_spare, "dm-0", "loop1", &err),
			 -EBUSY);
	assert_int_equal(act(kheal_action_md_add_spare, "dm-0", "a/b", &err),
			 -EINVAL);
}

static void remove_member_wants_it_faulty_first(void **state)
{
	struct kheal_err err = { "" };
	char buf[64];

	(void)state;
	assert_int_equal(act(kheal_action_md_remove_member, "dm-0", NULL,
			     &err), -EBUSY);
	assert_non_null(strstr(err.msg, "fail it first"));
	put("sys/class/block/md0/md/dev-dm-0/state", "faulty\n");
	/* A plain file keeps what is written: md would drop the member. */
	assert_int_equal(act(kheal_action_md_remove_member, "dm-0", NULL,
			     &err), -EBUSY);
	get("sys/class/block/md0/md/dev-dm-0/state", buf, sizeof(buf));
	assert_string_equal(buf, "remove");
}

static void resynced_wants_whole_idle_and_clean(void **state)
{
	struct kheal_err err = { "" };

	(void)state;
	assert_int_equal(check(kheal_check_md_resynced, "dm-0", &err), 1);
	put("sys/class/block/md0/md/degraded", "1\n");
	assert_int_equal(check(kheal_check_md_resynced, "dm-0", &err), 0);
	put("sys/class/block/md0/md/degraded", "0\n");
	put("sys/class/block/md0/md/sync_action", "recover\n");
	assert_int_equal(check(kheal_check_md_resynced, "dm-0", &err), 0);
	put("sys/class/block/md0/md/sync_action", "idle\n");
	put("sys/class/block/md0/md/array_state", "inactive\n");
	assert_int_equal(check(kheal_check_md_resynced, "dm-0", &err), 0);
	assert_int_equal(check(kheal_check_md_resynced, "loop3", &err),
			 -ENODEV);
}

static void readonly_reads_filesystem_and_mount_flags(void **state)
{
	struct kheal_err err = { "" };

	(void)state;
	assert_int_equal(check(kheal_check_fs_mounted, "vdb", &err), 1);
	assert_int_equal(check(kheal_check_fs_mounted, "loop3", &err), 0);
	assert_int_equal(check(kheal_check_fs_readonly, "vdb", &err), 0);
	/* Without optional fields, as in a namespace without propagation. */
	put("proc/self/mountinfo", ROOT_LINE
	    "30 1 254:16 / /mnt/data rw,nosuid - ext4 /dev/vdb ro,errors=continue\n");
	assert_int_equal(check(kheal_check_fs_mounted, "vdb", &err), 1);
	assert_int_equal(check(kheal_check_fs_readonly, "vdb", &err), 1);
	put("proc/self/mountinfo", ROOT_LINE
	    "30 1 254:16 / /mnt/data ro,nosuid shared:9 - ext4 /dev/vdb rw\n"
	    "31 1 254:16 / /mnt/other rw shared:10 - ext4 /dev/vdb rw\n");
	assert_int_equal(check(kheal_check_fs_readonly, "vdb", &err), 0);
	/* A partition's filesystem counts as the disk's. */
	assert_int_equal(check(kheal_check_fs_mounted, "sda", &err), 1);
}

static void remount_of_nothing_mounted_or_already_ro(void **state)
{
	struct kheal_err err = { "" };

	(void)state;
	assert_int_equal(act(kheal_action_fs_remount_ro, "loop3", NULL, &err),
			 -ENOENT);
	assert_non_null(strstr(err.msg, "no filesystem of loop3"));
	put("proc/self/mountinfo", ROOT_LINE
	    "30 1 254:16 / /mnt/data rw shared:9 - ext4 /dev/vdb ro\n");
	assert_int_equal(act(kheal_action_fs_remount_ro, "vdb", NULL, &err), 0);
	assert_non_null(strstr(err.msg, "already read-only"));
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(md_member_found_through_holders),
		T(odd_device_names_are_refused),
		T(fail_member_writes_faulty_and_reads_it_back),
		T(fail_member_refuses_a_non_member),
		T(array_holding_root_is_never_touched),
		T(root_device_is_not_remounted),
		T(add_spare_asks_md_to_recover_onto_its_spare),
		T(add_spare_without_a_spare_says_what_to_do),
		T(remove_member_wants_it_faulty_first),
		T(resynced_wants_whole_idle_and_clean),
		T(readonly_reads_filesystem_and_mount_flags),
		T(remount_of_nothing_mounted_or_already_ro),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

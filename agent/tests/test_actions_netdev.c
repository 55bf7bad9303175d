// SPDX-License-Identifier: GPL-2.0
/*
 * The network executors: the names they refuse, with no kernel involved;
 * what they do and refuse on real links, veth pairs and bonds in a private
 * network namespace of a child process (as root; bonds where the kernel
 * has bonding).
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "actions.h"
#include "rtnl.h"
#include "runbook.h"

/* Exit statuses of a child that could not set up its namespace. */
#define NO_NETNS	77
#define NO_IP		78
#define NO_BONDING	79

static int act(kheal_action_fn fn, const char *dev, struct kheal_err *err)
{
	const char *args[KHEAL_ACTION_MAX_PARAMS] = { dev };

	return fn(args, 1000, NULL, err);
}

static int chk(kheal_check_fn fn, const char *dev, struct kheal_err *err)
{
	const char *args[KHEAL_ACTION_MAX_PARAMS] = { dev };

	return fn(args, NULL, err);
}

static void test_bad_names_are_refused(void **state)
{
	static const char *const bad[] = {
		"", "a/b", "eth0:1", "a b", "tab\t", ".", "..",
		"sixteen-bytes-xx", "\x7f",
	};
	static const kheal_action_fn fns[] = {
		kheal_action_netdev_down, kheal_action_netdev_up,
		kheal_action_bond_failover,
	};
	struct kheal_err err;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (j = 0; j < sizeof(fns) / sizeof(fns[0]); j++)
			assert_int_equal(act(fns[j], bad[i], &err), -EINVAL);
		assert_int_equal(chk(kheal_check_netdev_carrier, bad[i], &err),
				 -EINVAL);
		assert_int_equal(chk(kheal_check_bond_active_ok, bad[i], &err),
				 -EINVAL);
	}
	assert_int_equal(act(kheal_action_netdev_down, NULL, &err), -EINVAL);
}

static void test_actions_are_in_the_table(void **state)
{
	(void)state;
	assert_ptr_equal(kheal_action_find("netdev.down")->exec,
			 kheal_action_netdev_down);
	assert_int_equal(kheal_action_find("netdev.down")->risk,
			 KHEAL_RISK_LOW);
	assert_ptr_equal(kheal_action_find("netdev.up")->exec,
			 kheal_action_netdev_up);
	assert_ptr_equal(kheal_action_find("bond.failover")->exec,
			 kheal_action_bond_failover);
	assert_int_equal(kheal_action_find("bond.failover")->risk,
			 KHEAL_RISK_MEDIUM);
	assert_ptr_equal(kheal_check_find("netdev.carrier")->check,
			 kheal_check_netdev_carrier);
	assert_ptr_equal(kheal_check_find("bond.active_ok")->check,
			 kheal_check_bond_active_ok);
}

/*
 * In the child: a failed expectation prints where and why and exits 1.
 * The child's own network namespace goes with it.
 */
#define EXPECT(cond, err)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: %s failed; err: %s\n",	\
				__FILE__, __LINE__, #cond, (err)->msg);	\
			return 1;					\
		}							\
	} while (0)

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st)
		fprintf(stderr, "test: '%s' failed (status %d)\n", cmd, st);
	return st;
}

/* The link named @name, or with ifindex @ifindex if @name is NULL. */
static int link_of(const char *name, int ifindex, struct kheal_link *l)
{
	struct kheal_rtnl r;
	int ret;

	ret = kheal_rtnl_open(&r, 1000, NULL);
	if (ret)
		return ret;
	ret = name ? kheal_rtnl_link_by_name(&r, name, l, NULL) :
		     kheal_rtnl_link_by_index(&r, ifindex, l, NULL);
	kheal_rtnl_close(&r);
	return ret;
}

static bool is_up(const char *name)
{
	struct kheal_link l;

	return !link_of(name, 0, &l) && (l.flags & IFF_UP);
}

/* Runs @fn in a child with a network namespace of its own. */
static void in_netns(int (*fn)(void))
{
	pid_t pid;
	int st;

	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		if (unshare(CLONE_NEWNET)) {
			fprintf(stderr, "test: unshare(CLONE_NEWNET): %s\n",
				strerror(errno));
			_exit(NO_NETNS);
		}
		if (system("PATH=$PATH:/sbin:/usr/sbin ip link set lo up"))
			_exit(NO_IP);
		_exit(fn());
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	switch (WEXITSTATUS(st)) {
	case NO_NETNS:
		fprintf(stderr, "skipped: no private network namespace (not root?)\n");
		skip();
		break;
	case NO_IP:
		fprintf(stderr, "skipped: no 'ip' (iproute2) to build links with\n");
		skip();
		break;
	case NO_BONDING:
		fprintf(stderr, "skipped: this kernel has no bonding (and no module to load it from)\n");
		skip();
		break;
	}
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* veth pair kha <-> khb, both up. */
static int veth_pair(void)
{
	return sh("PATH=$PATH:/sbin:/usr/sbin; ip link add kha type veth peer name khb && ip link set kha up && ip link set khb up");
}

static int down_isolates_and_up_restores(void)
{
	struct kheal_err err = { "" };

	if (veth_pair())
		return 1;
	EXPECT(chk(kheal_check_netdev_carrier, "kha", &err) == 1, &err);
	EXPECT(act(kheal_action_netdev_down, "kha", &err) == 0, &err);
	EXPECT(!err.msg[0], &err);
	EXPECT(!is_up("kha"), &err);
	EXPECT(chk(kheal_check_netdev_carrier, "kha", &err) == 0, &err);
	/* Its peer lost the carrier with it. */
	EXPECT(chk(kheal_check_netdev_carrier, "khb", &err) == 0, &err);
	EXPECT(act(kheal_action_netdev_down, "kha", &err) == 0, &err);
	EXPECT(strstr(err.msg, "already down"), &err);

	EXPECT(act(kheal_action_netdev_up, "kha", &err) == 0, &err);
	EXPECT(!err.msg[0], &err);
	EXPECT(is_up("kha"), &err);
	EXPECT(chk(kheal_check_netdev_carrier, "kha", &err) == 1, &err);
	EXPECT(act(kheal_action_netdev_up, "kha", &err) == 0, &err);
	EXPECT(strstr(err.msg, "already up"), &err);
	return 0;
}

static void test_down_isolates_and_up_restores(void **state)
{
	(void)state;
	in_netns(down_isolates_and_up_restores);
}

static int missing_devices_are_enodev(void)
{
	struct kheal_err err = { "" };

	EXPECT(act(kheal_action_netdev_down, "nosuch0", &err) == -ENODEV,
	       &err);
	EXPECT(strstr(err.msg, "nosuch0: no such device"), &err);
	EXPECT(act(kheal_action_netdev_up, "nosuch0", &err) == -ENODEV, &err);
	EXPECT(act(kheal_action_bond_failover, "nosuch0", &err) == -ENODEV,
	       &err);
	EXPECT(chk(kheal_check_netdev_carrier, "nosuch0", &err) == -ENODEV,
	       &err);
	return 0;
}

static void test_missing_devices_are_enodev(void **state)
{
	(void)state;
	in_netns(missing_devices_are_enodev);
}

static int loopback_and_default_routes_are_refused(void)
{
	struct kheal_err err = { "" };

	EXPECT(act(kheal_action_netdev_down, "lo", &err) == -EPERM, &err);
	EXPECT(strstr(err.msg, "loopback"), &err);
	EXPECT(is_up("lo"), &err);

	if (veth_pair() ||
	    sh("PATH=$PATH:/sbin:/usr/sbin; ip addr add 10.1.0.1/24 dev kha && ip route add default via 10.1.0.2"))
		return 1;
	EXPECT(act(kheal_action_netdev_down, "kha", &err) == -EPERM, &err);
	EXPECT(strstr(err.msg, "default route leaves through it"), &err);
	EXPECT(is_up("kha"), &err);

	/* IPv6, in a table of its own. */
	if (sh("PATH=$PATH:/sbin:/usr/sbin; ip -6 route add default dev khb table 100"))
		return 1;
	EXPECT(act(kheal_action_netdev_down, "khb", &err) == -EPERM, &err);
	EXPECT(is_up("khb"), &err);

	/* A route to a subnet does not hold it up. */
	if (sh("PATH=$PATH:/sbin:/usr/sbin; ip -6 route flush table 100 && ip route del default && ip route add 10.2.0.0/16 via 10.1.0.2"))
		return 1;
	EXPECT(act(kheal_action_netdev_down, "kha", &err) == 0, &err);
	EXPECT(!is_up("kha"), &err);
	return 0;
}

static void test_loopback_and_default_routes_are_refused(void **state)
{
	(void)state;
	in_netns(loopback_and_default_routes_are_refused);
}

static int failover_needs_a_bond(void)
{
	struct kheal_err err = { "" };

	if (veth_pair())
		return 1;
	EXPECT(act(kheal_action_bond_failover, "kha", &err) == -EINVAL, &err);
	EXPECT(strstr(err.msg, "not a bond slave"), &err);
	EXPECT(chk(kheal_check_bond_active_ok, "kha", &err) == -EINVAL, &err);
	return 0;
}

static void test_failover_needs_a_bond(void **state)
{
	(void)state;
	in_netns(failover_needs_a_bond);
}

/*
 * bond0 (active-backup, miimon 100) over s0 and s1, whose veth peers p0
 * and p1 are up; s0 is active.
 */
static int make_bond(void)
{
	if (system("PATH=$PATH:/sbin:/usr/sbin; ip link add bond0 type bond mode active-backup miimon 100 2>/dev/null"))
		return NO_BONDING;
	return sh("PATH=$PATH:/sbin:/usr/sbin; set -e; for i in 0 1; do ip link add s$i type veth peer name p$i; ip link set s$i master bond0; ip link set p$i up; done; ip link set bond0 up; ip link set s0 up; ip link set s1 up; ip link set bond0 type bond active_slave s0; sleep 0.3");
}

static int active_slave(char *name, size_t len)
{
	struct kheal_link bond, cur;

	if (link_of("bond0", 0, &bond) || bond.bond_active <= 0 ||
	    link_of(NULL, bond.bond_active, &cur))
		return -1;
	snprintf(name, len, "%s", cur.name);
	return 0;
}

static int bond_fails_over_to_a_working_slave(void)
{
	struct kheal_err err = { "" };
	char cur[IFNAMSIZ] = "";
	int ret;

	ret = make_bond();
	if (ret)
		return ret;
	EXPECT(!active_slave(cur, sizeof(cur)) && !strcmp(cur, "s0"), &err);
	EXPECT(chk(kheal_check_bond_active_ok, "s1", &err) == 1, &err);
	/* s0 still has its carrier: "stopped transmitting". */
	EXPECT(chk(kheal_check_bond_active_ok, "s0", &err) == 0, &err);
	EXPECT(act(kheal_action_bond_failover, "s0", &err) == 0, &err);
	EXPECT(!active_slave(cur, sizeof(cur)) && !strcmp(cur, "s1"), &err);
	EXPECT(chk(kheal_check_bond_active_ok, "s0", &err) == 1, &err);
	/* Again: the bond already uses another slave. */
	EXPECT(act(kheal_action_bond_failover, "s0", &err) == 0, &err);
	EXPECT(strstr(err.msg, "already uses s1"), &err);
	/* s0 can go: s1 works. */
	EXPECT(act(kheal_action_netdev_down, "s0", &err) == 0, &err);
	EXPECT(!is_up("s0"), &err);
	return 0;
}

static void test_bond_fails_over_to_a_working_slave(void **state)
{
	(void)state;
	in_netns(bond_fails_over_to_a_working_slave);
}

static int last_working_slave_is_kept(void)
{
	struct kheal_err err = { "" };
	int ret;

	ret = make_bond();
	if (ret)
		return ret;
	if (sh("PATH=$PATH:/sbin:/usr/sbin; ip link set p1 down; sleep 0.3"))
		return 1;
	/* s1 has no carrier: s0 is all bond0 has. */
	EXPECT(act(kheal_action_netdev_down, "s0", &err) == -EPERM, &err);
	EXPECT(strstr(err.msg, "would leave bond0 with none"), &err);
	EXPECT(is_up("s0"), &err);
	EXPECT(act(kheal_action_bond_failover, "s0", &err) == -ENODEV, &err);
	EXPECT(strstr(err.msg, "nothing to fail over to"), &err);
	/* s1 passes nothing: taking it down loses nothing. */
	EXPECT(act(kheal_action_netdev_down, "s1", &err) == 0, &err);
	return 0;
}

static void test_last_working_slave_is_kept(void **state)
{
	(void)state;
	in_netns(last_working_slave_is_kept);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_names_are_refused),
		cmocka_unit_test(test_actions_are_in_the_table),
		cmocka_unit_test(test_down_isolates_and_up_restores),
		cmocka_unit_test(test_missing_devices_are_enodev),
		cmocka_unit_test(test_loopback_and_default_routes_are_refused),
		cmocka_unit_test(test_failover_needs_a_bond),
		cmocka_unit_test(test_bond_fails_over_to_a_working_slave),
		cmocka_unit_test(test_last_working_slave_is_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

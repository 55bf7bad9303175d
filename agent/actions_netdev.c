// SPDX-License-Identifier: GPL-2.0
/*
 * The network executors: taking a link down (isolating it) and up again,
 * failing a bond over to another slave, and the checks that verify them,
 * all through rtnetlink. Each reads the link back after acting: an action
 * that returns 0 did what it says.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/if_bonding.h>

#include "actions.h"
#include "rtnl.h"


/* The kernel's rules for a device name (dev_valid_name()). */
static int dev_check_arg(const char *dev, struct kheal_err *err)
{
	const char *c;

	if (!dev || !*dev)
		return kheal_err_set(err, EINVAL,
				     "netdev '': expected a device name, like eth0");
	if (strlen(dev) >= IFNAMSIZ)
		return kheal_err_set(err, EINVAL,
				     "netdev '%.32s': longer than %d bytes: not a device name",
				     dev, IFNAMSIZ - 1);
	if (!strcmp(dev, ".") || !strcmp(dev, ".."))
		return kheal_err_set(err, EINVAL,
				     "netdev '%s': not a device name", dev);
	for (c = dev; *c; c++)
		if (*c == '/' || *c == ':' || (unsigned char)*c <= ' ' ||
		    *c == 0x7f)
			return kheal_err_set(err, EINVAL,
					     "netdev name: byte 0x%02x at offset %zu is not allowed in a device name",
					     (unsigned char)*c,
					     (size_t)(c - dev));
	return 0;
}

/* Opens rtnetlink and reads the link @dev names. */
static int open_link(const char *dev, uint64_t timeout_ms,
		     struct kheal_rtnl *r, struct kheal_link *l,
		     struct kheal_err *err)
{
	int ret;

	kheal_exec_note_clear(err);
	ret = dev_check_arg(dev, err);
	if (ret)
		return ret;
	ret = kheal_rtnl_open(r, timeout_ms, err);
	if (ret)
		return ret;
	ret = kheal_rtnl_link_by_name(r, dev, l, err);
	if (ret)
		kheal_rtnl_close(r);
	return ret;
}

static const char *link_state(const struct kheal_link *l)
{
	if (!(l->flags & IFF_UP))
		return "down";
	return l->carrier ? "up" : "no carrier";
}

/* The other slaves of a bond, and the one to fail over to. */
struct slaves {
	const struct kheal_link *bond;
	int except;			/* the failing slave */
	int usable;			/* others up with carrier */
	struct kheal_link pick;		/* best of them, if usable */
	int rank;			/* pick's */
	char list[256];			/* "b (up), c (down)" */
	size_t off;
};

/*
 * The bond itself must see the link up (miimon): the kernel refuses any
 * other as the active slave. Then its primary, then the lowest ifindex.
 */
static int slave_rank(const struct kheal_link *l, const struct kheal_link *bond)
{
	return (l->slave_mii == BOND_LINK_UP) * 2 +
	       (l->ifindex == bond->bond_primary);
}

static int slaves_cb(const struct kheal_link *l, void *arg)
{
	struct slaves *s = arg;
	int n, rank;

	if (l->master != s->bond->ifindex || l->ifindex == s->except)
		return 0;
	n = snprintf(s->list + s->off, sizeof(s->list) - s->off, "%s%s (%s)",
		     s->off ? ", " : "", l->name, link_state(l));
	if (n > 0 && (size_t)n < sizeof(s->list) - s->off)
		s->off += n;
	if (!kheal_link_usable(l))
		return 0;
	rank = slave_rank(l, s->bond);
	if (!s->usable++ || rank > s->rank) {
		s->pick = *l;
		s->rank = rank;
	}
	return 0;
}

static int scan_slaves(struct kheal_rtnl *r, const struct kheal_link *bond,
		       int except, struct slaves *s, struct kheal_err *err)
{
	memset(s, 0, sizeof(*s));
	s->bond = bond;
	s->except = except;
	return kheal_rtnl_links(r, slaves_cb, s, err);
}

/* The bond @l is a slave of: -EINVAL if it is not one. */
static int bond_of(struct kheal_rtnl *r, const struct kheal_link *l,
		   struct kheal_link *bond, struct kheal_err *err)
{
	int ret;

	if (!kheal_link_bond_slave(l))
		return kheal_err_set(err, EINVAL,
				     "netdev %s: not a bond slave (%s)", l->name,
				     l->master ? "its master is not a bond" :
				     "it has no master");
	ret = kheal_rtnl_link_by_index(r, l->master, bond, err);
	if (ret)
		return kheal_err_wrap(err, ret, "netdev %s: its master",
				      l->name);
	if (strcmp(bond->kind, "bond"))
		return kheal_err_set(err, EINVAL,
				     "netdev %s: its master %s is a %s, not a bond",
				     l->name, bond->name,
				     bond->kind[0] ? bond->kind : "device");
	return 0;
}

/*
 * Taking a link down drops what goes through it, and the kernel deletes
 * the routes through it, which coming back up does not restore. So the
 * loopback is never taken down; a bond slave (it has no routes of its
 * own) only if it passes nothing now (no carrier) or another slave of
 * its bond is up with carrier; any other device only if no default route
 * leaves through it, or if that cannot be told.
 */
static int down_refused(struct kheal_rtnl *r, const struct kheal_link *l,
			struct kheal_err *err)
{
	struct kheal_link bond;
	struct slaves s;
	int ret;

	if (l->flags & IFF_LOOPBACK)
		return kheal_err_set(err, EPERM,
				     "netdev %s: refused: the loopback device",
				     l->name);
	if (kheal_link_bond_slave(l)) {
		if (!l->carrier)
			return 0;
		ret = bond_of(r, l, &bond, err);
		if (!ret)
			ret = scan_slaves(r, &bond, l->ifindex, &s, err);
		if (ret)
			return kheal_err_wrap(err, -EPERM,
					      "netdev %s: refused: cannot tell whether its bond keeps a working slave",
					      l->name);
		if (!s.usable)
			return kheal_err_set(err, EPERM,
					     "netdev %s: refused: it has its carrier and no other slave of %s is up with carrier (%s): taking it down would leave %s with none",
					     l->name, bond.name,
					     s.off ? s.list : "no other slave",
					     bond.name);
		return 0;
	}
	ret = kheal_rtnl_default_route_via(r, l->ifindex, err);
	if (ret < 0)
		return kheal_err_wrap(err, -EPERM,
				      "netdev %s: refused: cannot tell whether a default route leaves through it",
				      l->name);
	if (ret == KHEAL_ROUTE_VIA)
		return kheal_err_set(err, EPERM,
				     "netdev %s: refused: a default route leaves through it and it is not a bond slave: taking it down could cut the host off",
				     l->name);
	if (ret == KHEAL_ROUTE_NEXTHOP)
		return kheal_err_set(err, EPERM,
				     "netdev %s: refused: a default route uses a nexthop object, whose device the kernel does not list (net.ipv4.nexthop_compat_mode=0?): it may leave through %s",
				     l->name, l->name);
	return 0;
}

/* Sets IFF_UP and reads the link back: the action's own verify. */
static int set_up(struct kheal_rtnl *r, struct kheal_link *l, bool up,
		  struct kheal_err *err)
{
	int ret;

	ret = kheal_rtnl_set_up(r, l, up, err);
	if (!ret)
		ret = kheal_rtnl_link_by_index(r, l->ifindex, l, err);
	if (!ret && !(l->flags & IFF_UP) != !up)
		ret = kheal_err_set(err, EIO,
				    "netdev %s: still %s after setting it %s",
				    l->name, up ? "down" : "up",
				    up ? "up" : "down");
	return ret;
}

int kheal_action_netdev_down(const char *const *args, uint64_t timeout_ms,
			     void *ctx, struct kheal_err *err)
{
	struct kheal_rtnl r;
	struct kheal_link l;
	int ret;

	(void)ctx;
	ret = open_link(args[0], timeout_ms, &r, &l, err);
	if (ret)
		return ret;
	if (!(l.flags & IFF_UP)) {
		if (err)
			snprintf(err->msg, sizeof(err->msg),
				 "netdev %s: already down; nothing was done",
				 l.name);
		goto out;
	}
	ret = down_refused(&r, &l, err);
	if (!ret)
		ret = set_up(&r, &l, false, err);
out:
	kheal_rtnl_close(&r);
	return ret;
}

int kheal_action_netdev_up(const char *const *args, uint64_t timeout_ms,
			   void *ctx, struct kheal_err *err)
{
	struct kheal_rtnl r;
	struct kheal_link l;
	int ret;

	(void)ctx;
	ret = open_link(args[0], timeout_ms, &r, &l, err);
	if (ret)
		return ret;
	if (l.flags & IFF_UP) {
		if (err)
			snprintf(err->msg, sizeof(err->msg),
				 "netdev %s: already up; nothing was done",
				 l.name);
		goto out;
	}
	ret = set_up(&r, &l, true, err);
out:
	kheal_rtnl_close(&r);
	return ret;
}

static bool has_active_slave(int mode)
{
	return mode == BOND_MODE_ACTIVEBACKUP || mode == BOND_MODE_TLB ||
	       mode == BOND_MODE_ALB;
}

/*
 * If the bond's active slave is already another one that works (miimon
 * got there first), there is nothing to do: a note says so.
 */
static int failover(struct kheal_rtnl *r, const struct kheal_link *l,
		    struct kheal_err *err)
{
	struct kheal_link bond, cur;
	struct slaves s;
	int ret;

	ret = bond_of(r, l, &bond, err);
	if (ret)
		return ret;
	if (!has_active_slave(bond.bond_mode))
		return kheal_err_set(err, EOPNOTSUPP,
				     "bond %s: mode %d has no active slave to change (active-backup, balance-tlb and balance-alb have one)",
				     bond.name, bond.bond_mode);
	if (bond.bond_active > 0 && bond.bond_active != l->ifindex &&
	    !kheal_rtnl_link_by_index(r, bond.bond_active, &cur, NULL) &&
	    kheal_link_usable(&cur)) {
		if (err)
			snprintf(err->msg, sizeof(err->msg),
				 "bond %s: already uses %s, not %s; nothing was done",
				 bond.name, cur.name, l->name);
		return 0;
	}
	ret = scan_slaves(r, &bond, l->ifindex, &s, err);
	if (ret)
		return ret;
	if (!s.usable)
		return kheal_err_set(err, ENODEV,
				     "bond %s: no slave but %s is up with carrier (%s): nothing to fail over to",
				     bond.name, l->name,
				     s.off ? s.list : "it has no other");
	ret = kheal_rtnl_bond_set_active(r, &bond, &s.pick, err);
	if (ret == -EINVAL && err) {
		char why[sizeof(err->msg)];

		snprintf(why, sizeof(why), "%s", err->msg);
		return kheal_err_set(err, EINVAL,
				     "%.300s: the kernel takes a slave only while the bond has an active one and sees the new one's link up (miimon: %s)",
				     why, s.pick.slave_mii == BOND_LINK_UP ?
				     "up" : "not up yet");
	}
	if (ret)
		return ret;
	ret = kheal_rtnl_link_by_index(r, bond.ifindex, &bond, err);
	if (!ret && bond.bond_active != s.pick.ifindex)
		ret = kheal_err_set(err, EIO,
				    "bond %s: made %s its active slave, but it uses ifindex %d",
				    bond.name, s.pick.name, bond.bond_active);
	return ret;
}

int kheal_action_bond_failover(const char *const *args, uint64_t timeout_ms,
			       void *ctx, struct kheal_err *err)
{
	struct kheal_rtnl r;
	struct kheal_link l;
	int ret;

	(void)ctx;
	ret = open_link(args[0], timeout_ms, &r, &l, err);
	if (ret)
		return ret;
	ret = failover(&r, &l, err);
	kheal_rtnl_close(&r);
	return ret;
}

int kheal_check_netdev_carrier(const char *const *args, void *ctx,
			       struct kheal_err *err)
{
	struct kheal_rtnl r;
	struct kheal_link l;
	int ret;

	(void)ctx;
	ret = open_link(args[0], 0, &r, &l, err);
	if (ret)
		return ret;
	kheal_rtnl_close(&r);
	return kheal_link_usable(&l);
}

int kheal_check_bond_active_ok(const char *const *args, void *ctx,
			       struct kheal_err *err)
{
	struct kheal_link bond, cur;
	struct kheal_rtnl r;
	struct kheal_link l;
	int ret;

	(void)ctx;
	ret = open_link(args[0], 0, &r, &l, err);
	if (ret)
		return ret;
	ret = bond_of(&r, &l, &bond, err);
	if (ret)
		goto out;
	if (bond.bond_active <= 0 || bond.bond_active == l.ifindex) {
		ret = 0;
		goto out;
	}
	ret = kheal_rtnl_link_by_index(&r, bond.bond_active, &cur, err);
	if (ret == -ENODEV)
		ret = 0;	/* gone since: not a working slave */
	else if (!ret)
		ret = kheal_link_usable(&cur);
out:
	kheal_rtnl_close(&r);
	if (ret >= 0)
		kheal_exec_note_clear(err);
	return ret;
}

/* SPDX-License-Identifier: GPL-2.0 */
/* rtnetlink through libmnl: links, their bond state, default routes. */
#ifndef KHEAL_RTNL_H
#define KHEAL_RTNL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <linux/if.h>
#include <linux/netlink.h>

#include "err.h"

#define KHEAL_RTNL_KIND_LEN	16

/* What RTM_NEWLINK says of a link: the parts the executors act on. */
struct kheal_link {
	int ifindex;
	char name[IFNAMSIZ];
	unsigned int flags;		/* IFF_*: ifi_flags */
	bool carrier;			/* IFLA_CARRIER, else IFF_LOWER_UP */
	int master;			/* IFLA_MASTER; 0: none */
	char kind[KHEAL_RTNL_KIND_LEN];		/* IFLA_INFO_KIND: "bond" */
	char slave_kind[KHEAL_RTNL_KIND_LEN];	/* IFLA_INFO_SLAVE_KIND */
	/* A bond's IFLA_INFO_DATA; -1 or 0 when not told. */
	int bond_mode;			/* IFLA_BOND_MODE, BOND_MODE_* */
	int bond_active;		/* IFLA_BOND_ACTIVE_SLAVE: ifindex */
	int bond_primary;		/* IFLA_BOND_PRIMARY: ifindex */
	/* A bond slave's IFLA_INFO_SLAVE_DATA; -1 when not told. */
	int slave_state;		/* BOND_STATE_ACTIVE, _BACKUP */
	int slave_mii;			/* BOND_LINK_UP, _FAIL, _DOWN, _BACK */
};

/* Administratively up, with its carrier: it can pass traffic. */
static inline bool kheal_link_usable(const struct kheal_link *l)
{
	return (l->flags & IFF_UP) && l->carrier;
}

/* Enslaved to a bond: its master is a bond. */
static inline bool kheal_link_bond_slave(const struct kheal_link *l)
{
	return l->master > 0 && !strcmp(l->slave_kind, "bond");
}

struct mnl_socket;

struct kheal_rtnl {
	struct mnl_socket *nl;
	unsigned int portid;
	unsigned int seq;
	char *buf;
};

/*
 * A NETLINK_ROUTE socket in the caller's network namespace, with extended
 * acks on: the kernel's own words on a refusal end up in the error. The
 * kernel answers a request as it takes it; @timeout_ms (at least 1000)
 * bounds the wait for an answer, not a wait for RTNL.
 */
int kheal_rtnl_open(struct kheal_rtnl *r, uint64_t timeout_ms,
		    struct kheal_err *err);
void kheal_rtnl_close(struct kheal_rtnl *r);

/* A link by name or by ifindex: -ENODEV if there is none. */
int kheal_rtnl_link_by_name(struct kheal_rtnl *r, const char *name,
			    struct kheal_link *l, struct kheal_err *err);
int kheal_rtnl_link_by_index(struct kheal_rtnl *r, int ifindex,
			     struct kheal_link *l, struct kheal_err *err);

/*
 * Calls @fn for every link, in the kernel's order; a non-zero return
 * stops the walk and is returned.
 */
int kheal_rtnl_links(struct kheal_rtnl *r,
		     int (*fn)(const struct kheal_link *l, void *arg),
		     void *arg, struct kheal_err *err);

/* Sets IFF_UP on or off (RTM_NEWLINK, ifi_change IFF_UP). */
int kheal_rtnl_set_up(struct kheal_rtnl *r, const struct kheal_link *l,
		      bool up, struct kheal_err *err);

/* Makes @slave the active slave of @bond (IFLA_BOND_ACTIVE_SLAVE). */
int kheal_rtnl_bond_set_active(struct kheal_rtnl *r,
			       const struct kheal_link *bond,
			       const struct kheal_link *slave,
			       struct kheal_err *err);

enum kheal_route_via {
	KHEAL_ROUTE_NOT_VIA,
	KHEAL_ROUTE_VIA,		/* RTA_OIF or a multipath hop */
	KHEAL_ROUTE_NEXTHOP,		/* a nexthop object: device unknown */
};

/*
 * Whether a default route (IPv4 or IPv6, unicast, any table) leaves
 * through @ifindex: a kheal_route_via, or -errno.
 */
int kheal_rtnl_default_route_via(struct kheal_rtnl *r, int ifindex,
				 struct kheal_err *err);

/*
 * The messages, built in @buf (at least KHEAL_RTNL_MSG_LEN bytes) and
 * parsed, apart from the socket so that tests can look at them.
 */
#define KHEAL_RTNL_MSG_LEN	512

struct nlmsghdr *kheal_rtnl_msg_getlink(void *buf, int ifindex,
					const char *name);
struct nlmsghdr *kheal_rtnl_msg_set_up(void *buf, int ifindex, bool up);
struct nlmsghdr *kheal_rtnl_msg_bond_active(void *buf, int bond, int slave);
struct nlmsghdr *kheal_rtnl_msg_dump(void *buf, uint16_t type);

/* An RTM_NEWLINK into @l: 0, or -EINVAL if it is malformed. */
int kheal_rtnl_parse_link(const struct nlmsghdr *nlh, struct kheal_link *l);

/* An RTM_NEWROUTE: a kheal_route_via for @ifindex, or -EINVAL. */
int kheal_rtnl_parse_route(const struct nlmsghdr *nlh, int ifindex);

#endif

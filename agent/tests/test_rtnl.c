// SPDX-License-Identifier: GPL-2.0
/*
 * rtnetlink messages: what the network executors ask the kernel, and how
 * its answers (links, bonds, default routes) are read, malformed ones
 * refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <linux/if_bonding.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "rtnl.h"

static char buf[KHEAL_RTNL_MSG_LEN];

/* The attributes of a message or nest, by type, up to @max. */
struct tb {
	const struct nlattr *a[64];
	unsigned int max;
};

static int tb_cb(const struct nlattr *a, void *data)
{
	struct tb *t = data;
	unsigned int type = mnl_attr_get_type(a);

	assert_true(type <= t->max);
	t->a[type] = a;
	return MNL_CB_OK;
}

static void parse_msg(const struct nlmsghdr *nlh, size_t hdr, struct tb *t,
		      unsigned int max)
{
	memset(t, 0, sizeof(*t));
	t->max = max;
	assert_int_equal(mnl_attr_parse(nlh, hdr, tb_cb, t), MNL_CB_OK);
}

static void parse_nest(const struct nlattr *nest, struct tb *t,
		       unsigned int max)
{
	memset(t, 0, sizeof(*t));
	t->max = max;
	assert_int_equal(mnl_attr_parse_nested(nest, tb_cb, t), MNL_CB_OK);
}

static void test_set_up_changes_only_iff_up(void **state)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	struct tb t;

	(void)state;
	nlh = kheal_rtnl_msg_set_up(buf, 7, false);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWLINK);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(nlh->nlmsg_len, mnl_nlmsg_size(sizeof(*ifm)));
	ifm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifm->ifi_family, AF_UNSPEC);
	assert_int_equal(ifm->ifi_index, 7);
	assert_int_equal(ifm->ifi_change, IFF_UP);
	assert_int_equal(ifm->ifi_flags, 0);
	parse_msg(nlh, sizeof(*ifm), &t, IFLA_MAX);

	nlh = kheal_rtnl_msg_set_up(buf, 9, true);
	ifm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifm->ifi_index, 9);
	assert_int_equal(ifm->ifi_change, IFF_UP);
	assert_int_equal(ifm->ifi_flags, IFF_UP);
}

static void test_bond_active_is_bond_linkinfo_data(void **state)
{
	struct tb msg, info, data;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	(void)state;
	nlh = kheal_rtnl_msg_bond_active(buf, 4, 6);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWLINK);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	ifm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifm->ifi_index, 4);
	assert_int_equal(ifm->ifi_change, 0);
	assert_int_equal(ifm->ifi_flags, 0);
	parse_msg(nlh, sizeof(*ifm), &msg, IFLA_MAX);
	assert_non_null(msg.a[IFLA_LINKINFO]);
	parse_nest(msg.a[IFLA_LINKINFO], &info, IFLA_INFO_MAX);
	assert_string_equal(mnl_attr_get_str(info.a[IFLA_INFO_KIND]), "bond");
	assert_non_null(info.a[IFLA_INFO_DATA]);
	parse_nest(info.a[IFLA_INFO_DATA], &data, IFLA_BOND_MAX);
	assert_int_equal(mnl_attr_get_payload_len(data.a[IFLA_BOND_ACTIVE_SLAVE]),
			 4);
	assert_int_equal(mnl_attr_get_u32(data.a[IFLA_BOND_ACTIVE_SLAVE]), 6);
	assert_null(data.a[IFLA_BOND_MODE]);
}

static void test_getlink_by_name_or_index(void **state)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	struct tb t;

	(void)state;
	nlh = kheal_rtnl_msg_getlink(buf, 0, "veth-a");
	assert_int_equal(nlh->nlmsg_type, RTM_GETLINK);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST);
	ifm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifm->ifi_index, 0);
	parse_msg(nlh, sizeof(*ifm), &t, IFLA_MAX);
	assert_string_equal(mnl_attr_get_str(t.a[IFLA_IFNAME]), "veth-a");
	assert_int_equal(mnl_attr_get_u32(t.a[IFLA_EXT_MASK]),
			 RTEXT_FILTER_SKIP_STATS);

	nlh = kheal_rtnl_msg_getlink(buf, 12, NULL);
	ifm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifm->ifi_index, 12);
	parse_msg(nlh, sizeof(*ifm), &t, IFLA_MAX);
	assert_null(t.a[IFLA_IFNAME]);
}

static void test_dumps_ask_every_family(void **state)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	(void)state;
	nlh = kheal_rtnl_msg_dump(buf, RTM_GETROUTE);
	assert_int_equal(nlh->nlmsg_type, RTM_GETROUTE);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
	rtm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(rtm->rtm_family, AF_UNSPEC);
	nlh = kheal_rtnl_msg_dump(buf, RTM_GETLINK);
	assert_int_equal(nlh->nlmsg_type, RTM_GETLINK);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
}

/* An RTM_NEWLINK as the kernel sends it, to be filled in. */
static struct nlmsghdr *newlink(int ifindex, unsigned int flags,
				const char *name)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_index = ifindex;
	ifm->ifi_flags = flags;
	if (name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nlh;
}

static void test_bond_slave_is_read_whole(void **state)
{
	struct nlattr *info, *data;
	struct nlmsghdr *nlh;
	struct kheal_link l;

	(void)state;
	nlh = newlink(5, IFF_UP | IFF_LOWER_UP | IFF_SLAVE, "veth-a");
	mnl_attr_put_u32(nlh, IFLA_MASTER, 3);
	mnl_attr_put_u8(nlh, IFLA_CARRIER, 0);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	mnl_attr_put_strz(nlh, IFLA_INFO_SLAVE_KIND, "bond");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_SLAVE_DATA);
	mnl_attr_put_u8(nlh, IFLA_BOND_SLAVE_STATE, BOND_STATE_BACKUP);
	mnl_attr_put_u8(nlh, IFLA_BOND_SLAVE_MII_STATUS, BOND_LINK_DOWN);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);

	assert_int_equal(kheal_rtnl_parse_link(nlh, &l), 0);
	assert_int_equal(l.ifindex, 5);
	assert_string_equal(l.name, "veth-a");
	assert_int_equal(l.master, 3);
	/* IFLA_CARRIER wins over a stale IFF_LOWER_UP. */
	assert_false(l.carrier);
	assert_false(kheal_link_usable(&l));
	assert_true(kheal_link_bond_slave(&l));
	assert_string_equal(l.kind, "veth");
	assert_int_equal(l.slave_state, BOND_STATE_BACKUP);
	assert_int_equal(l.slave_mii, BOND_LINK_DOWN);
	assert_int_equal(l.bond_mode, -1);
}

static void test_bond_is_read_whole(void **state)
{
	struct nlattr *info, *data;
	struct nlmsghdr *nlh;
	struct kheal_link l;

	(void)state;
	nlh = newlink(3, IFF_UP | IFF_LOWER_UP | IFF_MASTER, "bond0");
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bond");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u8(nlh, IFLA_BOND_MODE, BOND_MODE_ACTIVEBACKUP);
	mnl_attr_put_u32(nlh, IFLA_BOND_ACTIVE_SLAVE, 5);
	mnl_attr_put_u32(nlh, IFLA_BOND_PRIMARY, 6);
	mnl_attr_put_u32(nlh, IFLA_BOND_MIIMON, 100);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);

	assert_int_equal(kheal_rtnl_parse_link(nlh, &l), 0);
	assert_string_equal(l.kind, "bond");
	/* Without IFLA_CARRIER, IFF_LOWER_UP says it. */
	assert_true(l.carrier);
	assert_true(kheal_link_usable(&l));
	assert_false(kheal_link_bond_slave(&l));
	assert_int_equal(l.bond_mode, BOND_MODE_ACTIVEBACKUP);
	assert_int_equal(l.bond_active, 5);
	assert_int_equal(l.bond_primary, 6);
	assert_int_equal(l.slave_state, -1);
}

static void test_malformed_links_are_refused(void **state)
{
	struct nlmsghdr *nlh;
	struct nlattr *info;
	struct kheal_link l;

	(void)state;
	nlh = newlink(2, 0, NULL);
	assert_int_equal(kheal_rtnl_parse_link(nlh, &l), -EINVAL);

	nlh = newlink(2, 0, "eth0");
	nlh->nlmsg_type = RTM_DELROUTE;
	assert_int_equal(kheal_rtnl_parse_link(nlh, &l), -EINVAL);

	nlh = newlink(2, 0, "eth0");
	mnl_attr_put_u16(nlh, IFLA_MASTER, 1);
	assert_int_equal(kheal_rtnl_parse_link(nlh, &l), -EINVAL);

	nlh = newlink(2, 0, "eth0");
	mnl_attr_put(nlh, IFLA_IFNAME, 0, NULL);	/* an empty name */
	assert_int_equal(kheal_rtnl_parse_link(nlh, &l), -EINVAL);

	nlh = newlink(2, 0, "bond1");
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bond");
	mnl_attr_put_u8(nlh, IFLA_INFO_DATA, 1);
	mnl_attr_nest_end(nlh, info);
	assert_int_equal(kheal_rtnl_parse_link(nlh, &l), -EINVAL);

	/* Shorter than its ifinfomsg. */
	nlh = newlink(2, 0, NULL);
	nlh->nlmsg_len = mnl_nlmsg_size(4);
	assert_int_equal(kheal_rtnl_parse_link(nlh, &l), -EINVAL);
}

static struct nlmsghdr *newroute(int family, int dst_len, int type)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = family;
	rtm->rtm_dst_len = dst_len;
	rtm->rtm_type = type;
	rtm->rtm_table = RT_TABLE_MAIN;
	return nlh;
}

static void put_hops(struct nlmsghdr *nlh, const int *ifindex, size_t n,
		     int bad_len)
{
	struct nlattr *mp = mnl_attr_nest_start(nlh, RTA_MULTIPATH);
	struct rtnexthop *nh;
	size_t i;

	for (i = 0; i < n; i++) {
		nh = mnl_nlmsg_get_payload_tail(nlh);
		memset(nh, 0, sizeof(*nh));
		nh->rtnh_len = bad_len ? (size_t)bad_len : sizeof(*nh);
		nh->rtnh_ifindex = ifindex[i];
		nlh->nlmsg_len += RTNH_ALIGN(sizeof(*nh));
	}
	mnl_attr_nest_end(nlh, mp);
}

static void test_default_routes_are_told_by_device(void **state)
{
	static const int hops[] = { 4, 3 };
	struct nlmsghdr *nlh;

	(void)state;
	nlh = newroute(AF_INET, 0, RTN_UNICAST);
	mnl_attr_put_u32(nlh, RTA_OIF, 3);
	assert_int_equal(kheal_rtnl_parse_route(nlh, 3), KHEAL_ROUTE_VIA);
	assert_int_equal(kheal_rtnl_parse_route(nlh, 4), KHEAL_ROUTE_NOT_VIA);

	nlh = newroute(AF_INET6, 0, RTN_UNICAST);
	put_hops(nlh, hops, 2, 0);
	assert_int_equal(kheal_rtnl_parse_route(nlh, 3), KHEAL_ROUTE_VIA);
	assert_int_equal(kheal_rtnl_parse_route(nlh, 4), KHEAL_ROUTE_VIA);
	assert_int_equal(kheal_rtnl_parse_route(nlh, 5), KHEAL_ROUTE_NOT_VIA);

	nlh = newroute(AF_INET, 0, RTN_UNICAST);
	mnl_attr_put_u32(nlh, RTA_NH_ID, 17);
	assert_int_equal(kheal_rtnl_parse_route(nlh, 3), KHEAL_ROUTE_NEXTHOP);
}

static void test_other_routes_are_not_default_routes(void **state)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	(void)state;
	nlh = newroute(AF_INET, 24, RTN_UNICAST);
	mnl_attr_put_u32(nlh, RTA_OIF, 3);
	assert_int_equal(kheal_rtnl_parse_route(nlh, 3), KHEAL_ROUTE_NOT_VIA);

	nlh = newroute(AF_INET6, 0, RTN_UNREACHABLE);
	mnl_attr_put_u32(nlh, RTA_OIF, 3);
	assert_int_equal(kheal_rtnl_parse_route(nlh, 3), KHEAL_ROUTE_NOT_VIA);

	nlh = newroute(AF_INET6, 0, RTN_UNICAST);
	rtm = mnl_nlmsg_get_payload(nlh);
	rtm->rtm_flags = RTM_F_CLONED;
	mnl_attr_put_u32(nlh, RTA_OIF, 3);
	assert_int_equal(kheal_rtnl_parse_route(nlh, 3), KHEAL_ROUTE_NOT_VIA);
}

static void test_malformed_routes_are_refused(void **state)
{
	static const int hop[] = { 3 };
	struct nlmsghdr *nlh;

	(void)state;
	nlh = newroute(AF_INET, 0, RTN_UNICAST);
	mnl_attr_put_u16(nlh, RTA_OIF, 3);
	assert_int_equal(kheal_rtnl_parse_route(nlh, 3), -EINVAL);

	nlh = newroute(AF_INET, 0, RTN_UNICAST);
	put_hops(nlh, hop, 1, 200);
	assert_int_equal(kheal_rtnl_parse_route(nlh, 3), -EINVAL);

	nlh = newroute(AF_INET, 0, RTN_UNICAST);
	nlh->nlmsg_type = RTM_NEWLINK;
	assert_int_equal(kheal_rtnl_parse_route(nlh, 3), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_up_changes_only_iff_up),
		cmocka_unit_test(test_bond_active_is_bond_linkinfo_data),
		cmocka_unit_test(test_getlink_by_name_or_index),
		cmocka_unit_test(test_dumps_ask_every_family),
		cmocka_unit_test(test_bond_slave_is_read_whole),
		cmocka_unit_test(test_bond_is_read_whole),
		cmocka_unit_test(test_malformed_links_are_refused),
		cmocka_unit_test(test_default_routes_are_told_by_device),
		cmocka_unit_test(test_other_routes_are_not_default_routes),
		cmocka_unit_test(test_malformed_routes_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

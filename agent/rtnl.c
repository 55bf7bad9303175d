// SPDX-License-Identifier: GPL-2.0
/*
 * rtnetlink through libmnl: the requests the network executors make (a
 * link, every link, IFF_UP, a bond's active slave, default routes), and
 * the parsing of what the kernel answers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_bonding.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "rtnl.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Large enough for the biggest part of a dump the kernel sends at once. */
#define BUF_LEN		32768
#define MIN_WAIT_MS	1000
#define DUMP_TRIES	3	/* a dump the kernel says changed under it */
#define EXT_LEN		200

/* One request: the caller's callback, and the kernel's extended ack. */
struct req {
	mnl_cb_t cb;
	void *arg;
	char ext[EXT_LEN];
};

int kheal_rtnl_open(struct kheal_rtnl *r, uint64_t timeout_ms,
		    struct kheal_err *err)
{
	struct timeval tv;
	int one = 1, e;

	memset(r, 0, sizeof(*r));
	if (timeout_ms < MIN_WAIT_MS)
		timeout_ms = MIN_WAIT_MS;
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = timeout_ms % 1000 * 1000;
	r->buf = malloc(BUF_LEN);
	if (!r->buf)
		return kheal_err_set(err, ENOMEM, "rtnetlink: out of memory");
	r->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!r->nl || mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	/* Without them the kernel's reasons are lost; not worth failing. */
	mnl_socket_setsockopt(r->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(r->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	if (setsockopt(mnl_socket_get_fd(r->nl), SOL_SOCKET, SO_RCVTIMEO, &tv,
		       sizeof(tv)) < 0)
		goto fail;
	r->portid = mnl_socket_get_portid(r->nl);
	r->seq = time(NULL);
	return 0;
fail:
	e = errno;
	kheal_rtnl_close(r);
	return kheal_err_set(err, e, "rtnetlink: opening a socket: %s",
			     strerror(e));
}

void kheal_rtnl_close(struct kheal_rtnl *r)
{
	if (r->nl)
		mnl_socket_close(r->nl);
	free(r->buf);
	r->nl = NULL;
	r->buf = NULL;
}

static int data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct req *q = data;

	return q->cb ? q->cb(nlh, q->arg) : MNL_CB_OK;
}

/* An error, or the ack: keeps the kernel's message if it sent one. */
static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e;
	const struct nlattr *a;
	struct req *q = data;
	size_t off;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	e = mnl_nlmsg_get_payload(nlh);
	if (!e->error)
		return MNL_CB_STOP;
	off = sizeof(*e);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) &&
	    off <= mnl_nlmsg_get_payload_len(nlh))
		mnl_attr_for_each(a, nlh, off)
			if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
			    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
				snprintf(q->ext, sizeof(q->ext), "%s",
					 mnl_attr_get_str(a));
	errno = e->error < 0 ? -e->error : EPROTO;
	return MNL_CB_ERROR;
}

/*
 * What is left of a dump read in part would answer the next request: a
 * new socket leaves it behind. If none can be had, the next request fails
 * on the old one's stale sequence numbers.
 */
static void renew(struct kheal_rtnl *r)
{
	struct kheal_rtnl fresh;

	if (!kheal_rtnl_open(&fresh, MIN_WAIT_MS, NULL)) {
		kheal_rtnl_close(r);
		*r = fresh;
	}
}

/*
 * Sends @nlh and reads the answer until the ack or the end of the dump,
 * handing each message to @cb. Returns 0 or -errno, with @err saying what
 * @what was.
 */
static int request(struct kheal_rtnl *r, struct nlmsghdr *nlh, mnl_cb_t cb,
		   void *arg, const char *what, struct kheal_err *err)
{
	static mnl_cb_t ctl[] = { [NLMSG_ERROR] = error_cb };
	struct req q = { .cb = cb, .arg = arg };
	unsigned int seq = ++r->seq;
	ssize_t n;
	int ret, e;

	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0) {
		e = errno;
		return kheal_err_set(err, e, "%s: sending: %s", what,
				     strerror(e));
	}
	do {
		n = mnl_socket_recvfrom(r->nl, r->buf, BUF_LEN);
		if (n < 0) {
			e = errno == EAGAIN ? ETIMEDOUT : errno;
			return kheal_err_set(err, e, "%s: %s", what,
					     e == ETIMEDOUT ?
					     "no answer from the kernel" :
					     strerror(e));
		}
		ret = mnl_cb_run2(r->buf, n, seq, r->portid, data_cb, &q, ctl,
				  ARRAY_SIZE(ctl));
	} while (ret > MNL_CB_STOP);
	if (ret == MNL_CB_STOP)
		return 0;
	e = errno ? errno : EPROTO;
	if (nlh->nlmsg_flags & NLM_F_DUMP)
		renew(r);
	if (q.ext[0])
		return kheal_err_set(err, e, "%s: %s (%s)", what, strerror(e),
				     q.ext);
	return kheal_err_set(err, e, "%s: %s", what, strerror(e));
}

static struct nlmsghdr *link_msg(void *buf, uint16_t type, uint16_t flags,
				 int ifindex)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	memset(buf, 0, KHEAL_RTNL_MSG_LEN);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	return nlh;
}

struct nlmsghdr *kheal_rtnl_msg_getlink(void *buf, int ifindex,
					const char *name)
{
	struct nlmsghdr *nlh = link_msg(buf, RTM_GETLINK, 0, ifindex);

	if (name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return nlh;
}

struct nlmsghdr *kheal_rtnl_msg_set_up(void *buf, int ifindex, bool up)
{
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_ACK, ifindex);
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = up ? IFF_UP : 0;
	return nlh;
}

/* The kernel takes IFLA_INFO_DATA only with the kind of the link. */
struct nlmsghdr *kheal_rtnl_msg_bond_active(void *buf, int bond, int slave)
{
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_ACK, bond);
	struct nlattr *info, *data;

	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bond");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u32(nlh, IFLA_BOND_ACTIVE_SLAVE, slave);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nlh;
}

struct nlmsghdr *kheal_rtnl_msg_dump(void *buf, uint16_t type)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	if (type == RTM_GETLINK) {
		nlh = link_msg(buf, RTM_GETLINK, NLM_F_DUMP, 0);
		mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
		return nlh;
	}
	memset(buf, 0, KHEAL_RTNL_MSG_LEN);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_UNSPEC;
	return nlh;
}

/* The attributes of one nest (or message) by type, each checked. */
struct attrs {
	const struct nlattr **tb;
	const enum mnl_attr_data_type *types;
	unsigned int max;
	bool bad;
};

static int attr_cb(const struct nlattr *a, void *data)
{
	struct attrs *t = data;
	unsigned int type = mnl_attr_get_type(a);

	if (type > t->max)
		return MNL_CB_OK;	/* newer than this build: skipped */
	if (t->types[type] != MNL_TYPE_UNSPEC &&
	    mnl_attr_validate(a, t->types[type]) < 0) {
		t->bad = true;
		return MNL_CB_ERROR;
	}
	t->tb[type] = a;
	return MNL_CB_OK;
}

static int parse_nested(const struct nlattr *nest, const struct nlattr **tb,
			const enum mnl_attr_data_type *types, unsigned int max)
{
	struct attrs t = { tb, types, max, false };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	if (mnl_attr_parse_nested(nest, attr_cb, &t) < 0 || t.bad)
		return -EINVAL;
	return 0;
}

static const enum mnl_attr_data_type link_types[IFLA_MAX + 1] = {
	[IFLA_IFNAME]	= MNL_TYPE_NUL_STRING,
	[IFLA_MASTER]	= MNL_TYPE_U32,
	[IFLA_CARRIER]	= MNL_TYPE_U8,
	[IFLA_LINKINFO]	= MNL_TYPE_NESTED,
};

static const enum mnl_attr_data_type info_types[IFLA_INFO_MAX + 1] = {
	[IFLA_INFO_KIND]	= MNL_TYPE_NUL_STRING,
	[IFLA_INFO_DATA]	= MNL_TYPE_NESTED,
	[IFLA_INFO_SLAVE_KIND]	= MNL_TYPE_NUL_STRING,
	[IFLA_INFO_SLAVE_DATA]	= MNL_TYPE_NESTED,
};

static const enum mnl_attr_data_type bond_types[IFLA_BOND_MAX + 1] = {
	[IFLA_BOND_MODE]		= MNL_TYPE_U8,
	[IFLA_BOND_ACTIVE_SLAVE]	= MNL_TYPE_U32,
	[IFLA_BOND_PRIMARY]		= MNL_TYPE_U32,
};

static const enum mnl_attr_data_type slave_types[IFLA_BOND_SLAVE_MAX + 1] = {
	[IFLA_BOND_SLAVE_STATE]		= MNL_TYPE_U8,
	[IFLA_BOND_SLAVE_MII_STATUS]	= MNL_TYPE_U8,
};

static void copy_str(char *dst, size_t len, const struct nlattr *a)
{
	if (a)
		snprintf(dst, len, "%s", mnl_attr_get_str(a));
}

/* IFLA_LINKINFO: the kind, and a bond's or a bond slave's data. */
static int parse_linkinfo(const struct nlattr *nest, struct kheal_link *l)
{
	const struct nlattr *info[IFLA_INFO_MAX + 1];
	const struct nlattr *bond[IFLA_BOND_MAX + 1];
	const struct nlattr *slave[IFLA_BOND_SLAVE_MAX + 1];

	if (parse_nested(nest, info, info_types, IFLA_INFO_MAX))
		return -EINVAL;
	copy_str(l->kind, sizeof(l->kind), info[IFLA_INFO_KIND]);
	copy_str(l->slave_kind, sizeof(l->slave_kind),
		 info[IFLA_INFO_SLAVE_KIND]);
	if (!strcmp(l->kind, "bond") && info[IFLA_INFO_DATA]) {
		if (parse_nested(info[IFLA_INFO_DATA], bond, bond_types,
				 IFLA_BOND_MAX))
			return -EINVAL;
		if (bond[IFLA_BOND_MODE])
			l->bond_mode = mnl_attr_get_u8(bond[IFLA_BOND_MODE]);
		if (bond[IFLA_BOND_ACTIVE_SLAVE])
			l->bond_active =
				mnl_attr_get_u32(bond[IFLA_BOND_ACTIVE_SLAVE]);
		if (bond[IFLA_BOND_PRIMARY])
			l->bond_primary =
				mnl_attr_get_u32(bond[IFLA_BOND_PRIMARY]);
	}
	if (!strcmp(l->slave_kind, "bond") && info[IFLA_INFO_SLAVE_DATA]) {
		if (parse_nested(info[IFLA_INFO_SLAVE_DATA], slave, slave_types,
				 IFLA_BOND_SLAVE_MAX))
			return -EINVAL;
		if (slave[IFLA_BOND_SLAVE_STATE])
			l->slave_state =
				mnl_attr_get_u8(slave[IFLA_BOND_SLAVE_STATE]);
		if (slave[IFLA_BOND_SLAVE_MII_STATUS])
			l->slave_mii =
				mnl_attr_get_u8(slave[IFLA_BOND_SLAVE_MII_STATUS]);
	}
	return 0;
}

int kheal_rtnl_parse_link(const struct nlmsghdr *nlh, struct kheal_link *l)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	struct attrs t = { tb, link_types, IFLA_MAX, false };
	const struct ifinfomsg *ifm;

	memset(l, 0, sizeof(*l));
	l->bond_mode = l->slave_state = l->slave_mii = -1;
	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifm))
		return -EINVAL;
	ifm = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*ifm), attr_cb, &t) < 0 || t.bad ||
	    !tb[IFLA_IFNAME])
		return -EINVAL;
	l->ifindex = ifm->ifi_index;
	l->flags = ifm->ifi_flags;
	copy_str(l->name, sizeof(l->name), tb[IFLA_IFNAME]);
	l->carrier = tb[IFLA_CARRIER] ? mnl_attr_get_u8(tb[IFLA_CARRIER]) :
					!!(ifm->ifi_flags & IFF_LOWER_UP);
	if (tb[IFLA_MASTER])
		l->master = mnl_attr_get_u32(tb[IFLA_MASTER]);
	if (tb[IFLA_LINKINFO] && parse_linkinfo(tb[IFLA_LINKINFO], l))
		return -EINVAL;
	return 0;
}

/* The one answer to a RTM_GETLINK. */
struct one_link {
	struct kheal_link *l;
	bool got;
};

static int one_link_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct one_link *o = arg;

	if (kheal_rtnl_parse_link(nlh, o->l)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	o->got = true;
	return MNL_CB_OK;
}

static int get_link(struct kheal_rtnl *r, struct nlmsghdr *nlh,
		    struct kheal_link *l, const char *what,
		    struct kheal_err *err)
{
	struct one_link o = { l, false };
	int ret;

	/* The answer, then the ack: the ack ends the request. */
	nlh->nlmsg_flags |= NLM_F_ACK;
	ret = request(r, nlh, one_link_cb, &o, what, err);
	if (ret == -ENODEV || (!ret && !o.got))
		return kheal_err_set(err, ENODEV, "%s: no such device", what);
	return ret;
}

int kheal_rtnl_link_by_name(struct kheal_rtnl *r, const char *name,
			    struct kheal_link *l, struct kheal_err *err)
{
	char buf[KHEAL_RTNL_MSG_LEN], what[64];

	snprintf(what, sizeof(what), "netdev %s", name);
	return get_link(r, kheal_rtnl_msg_getlink(buf, 0, name), l, what,
			err);
}

int kheal_rtnl_link_by_index(struct kheal_rtnl *r, int ifindex,
			     struct kheal_link *l, struct kheal_err *err)
{
	char buf[KHEAL_RTNL_MSG_LEN], what[64];

	snprintf(what, sizeof(what), "netdev with ifindex %d", ifindex);
	return get_link(r, kheal_rtnl_msg_getlink(buf, ifindex, NULL), l,
			what, err);
}

struct each_link {
	int (*fn)(const struct kheal_link *l, void *arg);
	void *arg;
	int ret;
};

static int each_link_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct each_link *e = arg;
	struct kheal_link l;

	if (kheal_rtnl_parse_link(nlh, &l)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	e->ret = e->fn(&l, e->arg);
	return e->ret ? MNL_CB_STOP : MNL_CB_OK;
}

/*
 * A dump the kernel marks interrupted (NLM_F_DUMP_INTR: links changed
 * meanwhile) is asked again; a walk a callback stopped leaves the rest of
 * the dump behind, with its socket.
 */
int kheal_rtnl_links(struct kheal_rtnl *r,
		     int (*fn)(const struct kheal_link *l, void *arg),
		     void *arg, struct kheal_err *err)
{
	char buf[KHEAL_RTNL_MSG_LEN];
	struct each_link e = { fn, arg, 0 };
	int ret, tries = 0;

	do {
		e.ret = 0;
		ret = request(r, kheal_rtnl_msg_dump(buf, RTM_GETLINK),
			      each_link_cb, &e, "listing links", err);
	} while (ret == -EINTR && ++tries < DUMP_TRIES);
	if (ret)
		return ret;
	if (e.ret)
		renew(r);
	return e.ret;
}

int kheal_rtnl_set_up(struct kheal_rtnl *r, const struct kheal_link *l,
		      bool up, struct kheal_err *err)
{
	char buf[KHEAL_RTNL_MSG_LEN], what[64];

	snprintf(what, sizeof(what), "netdev %s: setting it %s", l->name,
		 up ? "up" : "down");
	return request(r, kheal_rtnl_msg_set_up(buf, l->ifindex, up), NULL,
		       NULL, what, err);
}

int kheal_rtnl_bond_set_active(struct kheal_rtnl *r,
			       const struct kheal_link *bond,
			       const struct kheal_link *slave,
			       struct kheal_err *err)
{
	char buf[KHEAL_RTNL_MSG_LEN], what[80];

	snprintf(what, sizeof(what), "bond %s: making %s its active slave",
		 bond->name, slave->name);
	return request(r, kheal_rtnl_msg_bond_active(buf, bond->ifindex,
						     slave->ifindex),
		       NULL, NULL, what, err);
}

static const enum mnl_attr_data_type route_types[RTA_MAX + 1] = {
	[RTA_OIF]	= MNL_TYPE_U32,
	[RTA_NH_ID]	= MNL_TYPE_U32,
};

/* The hops of RTA_MULTIPATH, struct rtnexthop each, aligned. */
static int multipath_via(const struct nlattr *a, int ifindex)
{
	const char *p = mnl_attr_get_payload(a);
	size_t left = mnl_attr_get_payload_len(a);
	const struct rtnexthop *nh;

	while (left >= sizeof(*nh)) {
		nh = (const struct rtnexthop *)p;
		if (nh->rtnh_len < sizeof(*nh) || nh->rtnh_len > left)
			return -EINVAL;
		if (nh->rtnh_ifindex == ifindex)
			return KHEAL_ROUTE_VIA;
		if ((size_t)RTNH_ALIGN(nh->rtnh_len) >= left)
			break;
		left -= RTNH_ALIGN(nh->rtnh_len);
		p += RTNH_ALIGN(nh->rtnh_len);
	}
	return KHEAL_ROUTE_NOT_VIA;
}

int kheal_rtnl_parse_route(const struct nlmsghdr *nlh, int ifindex)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	struct attrs t = { tb, route_types, RTA_MAX, false };
	const struct rtmsg *rtm;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return -EINVAL;
	rtm = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*rtm), attr_cb, &t) < 0 || t.bad)
		return -EINVAL;
	if (rtm->rtm_dst_len || rtm->rtm_type != RTN_UNICAST ||
	    (rtm->rtm_flags & RTM_F_CLONED))
		return KHEAL_ROUTE_NOT_VIA;
	if (tb[RTA_OIF])
		return (int)mnl_attr_get_u32(tb[RTA_OIF]) == ifindex ?
		       KHEAL_ROUTE_VIA : KHEAL_ROUTE_NOT_VIA;
	if (tb[RTA_MULTIPATH])
		return multipath_via(tb[RTA_MULTIPATH], ifindex);
	return tb[RTA_NH_ID] ? KHEAL_ROUTE_NEXTHOP : KHEAL_ROUTE_NOT_VIA;
}

struct route_scan {
	int ifindex;
	int via;
};

static int route_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct route_scan *s = arg;
	int via = kheal_rtnl_parse_route(nlh, s->ifindex);

	if (via < 0) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	/* A route through the device says more than one that may be. */
	if (via == KHEAL_ROUTE_VIA || (via && !s->via))
		s->via = via;
	return MNL_CB_OK;
}

int kheal_rtnl_default_route_via(struct kheal_rtnl *r, int ifindex,
				 struct kheal_err *err)
{
	char buf[KHEAL_RTNL_MSG_LEN];
	struct route_scan s = { ifindex, KHEAL_ROUTE_NOT_VIA };
	int ret, tries = 0;

	do {
		s.via = KHEAL_ROUTE_NOT_VIA;
		ret = request(r, kheal_rtnl_msg_dump(buf, RTM_GETROUTE),
			      route_cb, &s, "listing routes", err);
	} while (ret == -EINTR && ++tries < DUMP_TRIES);
	return ret ? ret : s.via;
}

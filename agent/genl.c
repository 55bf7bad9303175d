// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink plumbing for the kheal family: the command socket
 * (requests, replies, dumps, extended ACKs), the listening socket
 * (multicast events and nlctrl notifications), and strict parsing of
 * what the kernel sends.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <linux/genetlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "genl.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* How long a request waits for the kernel's answer. */
#define KHEAL_GENL_TIMEOUT_S	5
/* Room for a burst in flight; ENOBUFS beyond it is handled by backfill. */
#define KHEAL_LISTEN_RCVBUF	(8 << 20)

/* Exact sizes: libnl checks the minimum, maxlen the maximum. */
#define U32	{ .type = NLA_U32, .maxlen = sizeof(uint32_t) }
#define U64	{ .type = NLA_U64, .maxlen = sizeof(uint64_t) }
#define STR(n)	{ .type = NLA_STRING, .maxlen = (n) }

const struct nla_policy kheal_genl_policy[KHEAL_A_MAX + 1] = {
	[KHEAL_A_SEQ]		= U64,
	[KHEAL_A_TIME_NS]	= U64,
	[KHEAL_A_KIND]		= U32,
	[KHEAL_A_SEVERITY]	= U32,
	[KHEAL_A_SUBSYS]	= STR(KHEAL_SUBSYS_LEN),
	[KHEAL_A_PID]		= U32,
	[KHEAL_A_COMM]		= STR(KHEAL_COMM_LEN),
	[KHEAL_A_CGROUP_ID]	= U64,
	[KHEAL_A_CGROUP_PATH]	= STR(KHEAL_CGROUP_PATH_LEN),
	[KHEAL_A_DEV]		= STR(KHEAL_DEV_LEN),
	[KHEAL_A_DURATION_MS]	= U64,
	[KHEAL_A_CHECKPOINT_ID]	= U64,
	[KHEAL_A_INSTANCE]	= U64,
	[KHEAL_A_TGID]		= U32,
	[KHEAL_A_RSS_KB]	= U64,
	[KHEAL_A_OOM_CONSTRAINT] = U32,
	[KHEAL_A_VERSION]	= STR(KHEAL_NAME_LEN),
	[KHEAL_A_HEAD_SEQ]	= U64,
	[KHEAL_A_OLDEST_SEQ]	= U64,
	[KHEAL_A_BACKLOG_SIZE]	= U32,
	[KHEAL_A_EVENTS_EMITTED] = U64,
	[KHEAL_A_EVENTS_DROPPED] = U64,
	[KHEAL_A_MCAST_FAILED]	= U64,
	[KHEAL_A_HUNG_MS]	= U32,
	[KHEAL_A_ALLOW_INJECT]	= U32,
	[KHEAL_A_DETECTOR]	= { .type = NLA_NESTED },
	[KHEAL_A_SINCE_SEQ]	= U64,
	[KHEAL_A_INJECT_TYPE]	= U32,
	[KHEAL_A_COUNT]		= U32,
	[KHEAL_A_SIGNAL]	= U32,
	[KHEAL_A_ERRNO]		= U32,
	[KHEAL_A_QUEUE]		= U32,
	[KHEAL_A_STACK]		= STR(KHEAL_STACK_FRAME_LEN),
	[KHEAL_A_DETAIL]	= STR(KHEAL_DETAIL_LEN),
	[KHEAL_A_CHECKPOINT_TEXT] = STR(KHEAL_CHECKPOINT_TEXT_LEN),
};

static const char *const attr_names[KHEAL_A_MAX + 1] = {
	[KHEAL_A_PAD]		= "PAD",
	[KHEAL_A_SEQ]		= "SEQ",
	[KHEAL_A_TIME_NS]	= "TIME_NS",
	[KHEAL_A_KIND]		= "KIND",
	[KHEAL_A_SEVERITY]	= "SEVERITY",
	[KHEAL_A_SUBSYS]	= "SUBSYS",
	[KHEAL_A_PID]		= "PID",
	[KHEAL_A_COMM]		= "COMM",
	[KHEAL_A_CGROUP_ID]	= "CGROUP_ID",
	[KHEAL_A_CGROUP_PATH]	= "CGROUP_PATH",
	[KHEAL_A_DEV]		= "DEV",
	[KHEAL_A_DURATION_MS]	= "DURATION_MS",
	[KHEAL_A_CHECKPOINT_ID]	= "CHECKPOINT_ID",
	[KHEAL_A_INSTANCE]	= "INSTANCE",
	[KHEAL_A_TGID]		= "TGID",
	[KHEAL_A_RSS_KB]	= "RSS_KB",
	[KHEAL_A_OOM_CONSTRAINT] = "OOM_CONSTRAINT",
	[KHEAL_A_VERSION]	= "VERSION",
	[KHEAL_A_HEAD_SEQ]	= "HEAD_SEQ",
	[KHEAL_A_OLDEST_SEQ]	= "OLDEST_SEQ",
	[KHEAL_A_BACKLOG_SIZE]	= "BACKLOG_SIZE",
	[KHEAL_A_EVENTS_EMITTED] = "EVENTS_EMITTED",
	[KHEAL_A_EVENTS_DROPPED] = "EVENTS_DROPPED",
	[KHEAL_A_MCAST_FAILED]	= "MCAST_FAILED",
	[KHEAL_A_HUNG_MS]	= "HUNG_MS",
	[KHEAL_A_ALLOW_INJECT]	= "ALLOW_INJECT",
	[KHEAL_A_DETECTOR]	= "DETECTOR",
	[KHEAL_A_SINCE_SEQ]	= "SINCE_SEQ",
	[KHEAL_A_INJECT_TYPE]	= "INJECT_TYPE",
	[KHEAL_A_COUNT]		= "COUNT",
	[KHEAL_A_SIGNAL]	= "SIGNAL",
	[KHEAL_A_ERRNO]		= "ERRNO",
	[KHEAL_A_QUEUE]		= "QUEUE",
	[KHEAL_A_STACK]		= "STACK",
	[KHEAL_A_DETAIL]	= "DETAIL",
	[KHEAL_A_CHECKPOINT_TEXT] = "CHECKPOINT_TEXT",
};

static const struct nla_policy detector_policy[KHEAL_DETECTOR_A_MAX + 1] = {
	[KHEAL_DETECTOR_A_NAME]		= STR(KHEAL_NAME_LEN),
	[KHEAL_DETECTOR_A_ACTIVE]	= U32,
	[KHEAL_DETECTOR_A_EVENTS]	= U64,
};

static const char *const detector_names[KHEAL_DETECTOR_A_MAX + 1] = {
	[KHEAL_DETECTOR_A_NAME]		= "NAME",
	[KHEAL_DETECTOR_A_ACTIVE]	= "ACTIVE",
	[KHEAL_DETECTOR_A_EVENTS]	= "EVENTS",
	[KHEAL_DETECTOR_A_PAD]		= "PAD",
};

const char *kheal_genl_attr_name(int attr)
{
	if (attr < 0 || attr > KHEAL_A_MAX || !attr_names[attr])
		return "UNSPEC";
	return attr_names[attr];
}

/* libnl's error codes, back to the errno they stand for. */
static const int nle_errno[] = {
	[NLE_INTR]		= EINTR,
	[NLE_BAD_SOCK]		= EBADF,
	[NLE_AGAIN]		= EAGAIN,
	[NLE_NOMEM]		= ENOMEM,
	[NLE_EXIST]		= EEXIST,
	[NLE_INVAL]		= EINVAL,
	[NLE_RANGE]		= ERANGE,
	[NLE_MSGSIZE]		= EMSGSIZE,
	[NLE_OPNOTSUPP]		= EOPNOTSUPP,
	[NLE_AF_NOSUPPORT]	= EAFNOSUPPORT,
	[NLE_OBJ_NOTFOUND]	= ENOENT,
	[NLE_NOATTR]		= ENOENT,
	[NLE_MSG_TRUNC]		= EMSGSIZE,
	[NLE_SEQ_MISMATCH]	= EPROTO,
	[NLE_MSG_OVERFLOW]	= ENOBUFS,
	[NLE_PERM]		= EPERM,
	[NLE_BUSY]		= EBUSY,
	[NLE_PROTO_MISMATCH]	= EPROTONOSUPPORT,
	[NLE_NOACCESS]		= EACCES,
	[NLE_NODEV]		= ENODEV,
	[NLE_DUMP_INTR]		= EINTR,
};

static int nl_fail(struct kheal_err *err, int nle, const char *what)
{
	int e = -nle;

	e = e > 0 && (size_t)e < ARRAY_SIZE(nle_errno) && nle_errno[e] ?
	    nle_errno[e] : EIO;
	return kheal_err_set(err, e, "%s: %s", what, nl_geterror(nle));
}

/* Checks one attribute against @policy, naming it if it is bad. */
static int check_attr(const struct nlattr *nla, int maxtype,
		      const struct nla_policy *policy,
		      const char *const *names, const char *what,
		      struct kheal_err *err)
{
	int type = nla_type(nla);
	const struct nla_policy *p;

	if (type > maxtype || !nla_validate(nla, nla->nla_len, maxtype, policy))
		return 0;
	p = &policy[type];
	if (p->type == NLA_STRING)
		return kheal_err_set(err, EBADMSG,
				     "%s attribute %s (%d): %d bytes, not a NUL-terminated string of at most %u",
				     what, names[type] ? names[type] : "?",
				     type, nla_len(nla), p->maxlen);
	return kheal_err_set(err, EBADMSG,
			     "%s attribute %s (%d): %d bytes where %u belong",
			     what, names[type] ? names[type] : "?", type,
			     nla_len(nla), p->maxlen);
}

/*
 * Indexes the attributes of a genl message into @tb, validating each.
 * A bad attribute is left out and the first error returned, so callers
 * still see every good one.
 */
static int parse_attrs(struct nlmsghdr *nlh, struct nlattr **tb,
		       const char *what, struct kheal_err *err)
{
	struct genlmsghdr *gnlh;
	struct nlattr *nla;
	int rem, ret, first = 0;

	memset(tb, 0, sizeof(*tb) * (KHEAL_A_MAX + 1));
	if (!genlmsg_valid_hdr(nlh, 0))
		return kheal_err_set(err, EBADMSG,
				     "%s: message of %u bytes is too short",
				     what, nlh->nlmsg_len);
	gnlh = nlmsg_data(nlh);
	nla_for_each_attr(nla, genlmsg_attrdata(gnlh, 0),
			  genlmsg_attrlen(gnlh, 0), rem) {
		ret = check_attr(nla, KHEAL_A_MAX, kheal_genl_policy,
				 attr_names, what, first ? NULL : err);
		if (ret) {
			first = first ? first : ret;
			continue;
		}
		if (nla_type(nla) <= KHEAL_A_MAX)
			tb[nla_type(nla)] = nla;
	}
	return first;
}

static void copy_field(struct kheal_event *ev,
		       const struct kheal_event_field *f,
		       const struct nlattr *nla)
{
	char *p = (char *)ev + f->offset;

	if (f->type == KHEAL_FIELD_STR)
		nla_strlcpy(p, nla, f->size);
	else if (f->type == KHEAL_FIELD_U32)
		*(uint32_t *)p = nla_get_u32(nla);
	else
		*(uint64_t *)p = nla_get_u64(nla);
	ev->present |= 1ULL << f->attr;
}

/*
 * A multi-attr field: every valid attribute of its type, in order. The
 * bad ones parse_attrs() has already reported.
 */
static int copy_strv(struct kheal_event *ev, const struct kheal_event_field *f,
		     struct genlmsghdr *gnlh, struct kheal_err *err)
{
	struct nlattr *nla;
	int rem;

	nla_for_each_attr(nla, genlmsg_attrdata(gnlh, 0),
			  genlmsg_attrlen(gnlh, 0), rem) {
		if (nla_type(nla) != f->attr ||
		    check_attr(nla, KHEAL_A_MAX, kheal_genl_policy,
			       attr_names, "event", NULL))
			continue;
		if (kheal_event_strv_add(ev, f, nla_data(nla),
					 strnlen(nla_data(nla), nla_len(nla))))
			return kheal_err_set(err, EBADMSG,
					     "event has more than %zu %s attributes",
					     f->max, attr_names[f->attr]);
	}
	return 0;
}

int kheal_genl_parse_event(struct nlmsghdr *nlh, struct kheal_event *ev,
			   struct kheal_err *err)
{
	struct nlattr *tb[KHEAL_A_MAX + 1];
	const struct kheal_event_field *f;
	struct genlmsghdr *gnlh;
	int ret, strv;

	memset(ev, 0, sizeof(*ev));
	ev->source = KHEAL_SOURCE_KMOD;
	if (!genlmsg_valid_hdr(nlh, 0))
		return kheal_err_set(err, EBADMSG,
				     "event: message of %u bytes is too short",
				     nlh->nlmsg_len);
	gnlh = nlmsg_data(nlh);
	/* Notifications carry EVENT, backlog dump replies GET_EVENTS. */
	if (gnlh->cmd != KHEAL_CMD_EVENT && gnlh->cmd != KHEAL_CMD_GET_EVENTS)
		return kheal_err_set(err, EBADMSG,
				     "message with command %u where an event (%u or %u) belongs",
				     gnlh->cmd, KHEAL_CMD_EVENT,
				     KHEAL_CMD_GET_EVENTS);
	ret = parse_attrs(nlh, tb, "event", err);
	for (f = kheal_event_fields; f < kheal_event_fields +
	     kheal_event_nfields; f++) {
		if (f->type == KHEAL_FIELD_STRV) {
			strv = copy_strv(ev, f, gnlh, ret ? NULL : err);
			ret = ret ? ret : strv;
		} else if (tb[f->attr]) {
			copy_field(ev, f, tb[f->attr]);
		}
	}
	if (ret)
		return ret;
	for (f = kheal_event_fields; f < kheal_event_fields +
	     kheal_event_nfields; f++)
		if (f->required && !kheal_event_has(ev, f->attr))
			return kheal_err_set(err, EBADMSG,
					     "event lacks attribute %s",
					     attr_names[f->attr]);
	if (!ev->seq)
		return kheal_err_set(err, EBADMSG,
				     "event has SEQ 0 (sequence numbers start at 1)");
	return 0;
}

static uint64_t get_u64(struct nlattr **tb, int attr)
{
	return tb[attr] ? nla_get_u64(tb[attr]) : 0;
}

static uint32_t get_u32(struct nlattr **tb, int attr)
{
	return tb[attr] ? nla_get_u32(tb[attr]) : 0;
}

static int parse_detector(struct nlattr *nest, struct kheal_detector_status *d,
			  struct kheal_err *err)
{
	struct nlattr *tb[KHEAL_DETECTOR_A_MAX + 1] = { NULL };
	struct nlattr *nla;
	int rem, ret;

	nla_for_each_nested(nla, nest, rem) {
		ret = check_attr(nla, KHEAL_DETECTOR_A_MAX, detector_policy,
				 detector_names, "status detector", err);
		if (ret)
			return ret;
		if (nla_type(nla) <= KHEAL_DETECTOR_A_MAX)
			tb[nla_type(nla)] = nla;
	}
	if (!tb[KHEAL_DETECTOR_A_NAME])
		return kheal_err_set(err, EBADMSG,
				     "status detector lacks attribute NAME");
	nla_strlcpy(d->name, tb[KHEAL_DETECTOR_A_NAME], sizeof(d->name));
	d->active = get_u32(tb, KHEAL_DETECTOR_A_ACTIVE);
	d->events = get_u64(tb, KHEAL_DETECTOR_A_EVENTS);
	return 0;
}

int kheal_genl_parse_status(struct nlmsghdr *nlh, struct kheal_status *st,
			    struct kheal_err *err)
{
	static const int required[] = { KHEAL_A_INSTANCE, KHEAL_A_HEAD_SEQ };
	struct nlattr *tb[KHEAL_A_MAX + 1];
	struct genlmsghdr *gnlh;
	struct nlattr *nla;
	size_t i;
	int rem, ret;

	memset(st, 0, sizeof(*st));
	ret = parse_attrs(nlh, tb, "status", err);
	if (ret)
		return ret;
	for (i = 0; i < ARRAY_SIZE(required); i++)
		if (!tb[required[i]])
			return kheal_err_set(err, EBADMSG,
					     "status reply lacks attribute %s",
					     attr_names[required[i]]);
	if (tb[KHEAL_A_VERSION])
		nla_strlcpy(st->version, tb[KHEAL_A_VERSION],
			    sizeof(st->version));
	st->instance = get_u64(tb, KHEAL_A_INSTANCE);
	st->head_seq = get_u64(tb, KHEAL_A_HEAD_SEQ);
	st->oldest_seq = get_u64(tb, KHEAL_A_OLDEST_SEQ);
	st->events_emitted = get_u64(tb, KHEAL_A_EVENTS_EMITTED);
	st->events_dropped = get_u64(tb, KHEAL_A_EVENTS_DROPPED);
	st->mcast_failed = get_u64(tb, KHEAL_A_MCAST_FAILED);
	st->backlog_size = get_u32(tb, KHEAL_A_BACKLOG_SIZE);
	st->hung_ms = get_u32(tb, KHEAL_A_HUNG_MS);
	st->allow_inject = get_u32(tb, KHEAL_A_ALLOW_INJECT);

	gnlh = nlmsg_data(nlh);
	nla_for_each_attr(nla, genlmsg_attrdata(gnlh, 0),
			  genlmsg_attrlen(gnlh, 0), rem) {
		if (nla_type(nla) != KHEAL_A_DETECTOR)
			continue;
		if (st->ndetectors == KHEAL_STATUS_MAX_DETECTORS)
			return kheal_err_set(err, EBADMSG,
					     "status reply has more than %d detectors",
					     KHEAL_STATUS_MAX_DETECTORS);
		ret = parse_detector(nla, &st->detectors[st->ndetectors++],
				     err);
		if (ret)
			return ret;
	}
	return 0;
}

int kheal_genl_parse_checkpoint(struct nlmsghdr *nlh,
				struct kheal_checkpoint *cp,
				struct kheal_err *err)
{
	static const int required[] = {
		KHEAL_A_CHECKPOINT_ID, KHEAL_A_INSTANCE, KHEAL_A_CHECKPOINT_TEXT,
	};
	struct nlattr *tb[KHEAL_A_MAX + 1];
	size_t i;
	int ret;

	memset(cp, 0, sizeof(*cp));
	ret = parse_attrs(nlh, tb, "checkpoint", err);
	if (ret)
		return ret;
	for (i = 0; i < ARRAY_SIZE(required); i++)
		if (!tb[required[i]])
			return kheal_err_set(err, EBADMSG,
					     "checkpoint reply lacks attribute %s",
					     attr_names[required[i]]);
	cp->id = get_u64(tb, KHEAL_A_CHECKPOINT_ID);
	cp->instance = get_u64(tb, KHEAL_A_INSTANCE);
	cp->time_ns = get_u64(tb, KHEAL_A_TIME_NS);
	nla_strlcpy(cp->text, tb[KHEAL_A_CHECKPOINT_TEXT], sizeof(cp->text));
	return 0;
}

void kheal_genl_extack(const struct nlmsghdr *nlh, char *buf, size_t len)
{
	static const struct nla_policy policy[NLMSGERR_ATTR_MAX + 1] = {
		[NLMSGERR_ATTR_MSG]		= { .type = NLA_STRING },
		[NLMSGERR_ATTR_MISS_TYPE]	= U32,
	};
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	const struct nlmsgerr *e = NLMSG_DATA(nlh);
	size_t off = sizeof(*e), have;

	buf[0] = '\0';
	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*e) ||
	    !(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	have = nlh->nlmsg_len - NLMSG_HDRLEN;
	/* Unless capped, the request is echoed before the TLVs. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED) &&
	    e->msg.nlmsg_len >= NLMSG_HDRLEN)
		off += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
	if (off >= have ||
	    nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)e + off),
		      have - off, policy) < 0)
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(buf, len, "%s", nla_get_string(tb[NLMSGERR_ATTR_MSG]));
	else if (tb[NLMSGERR_ATTR_MISS_TYPE])
		snprintf(buf, len, "missing attribute %s",
			 kheal_genl_attr_name(nla_get_u32(
				tb[NLMSGERR_ATTR_MISS_TYPE])));
}

int kheal_genl_family_notify(struct nlmsghdr *nlh, const char *name)
{
	static const struct nla_policy policy[CTRL_ATTR_MAX + 1] = {
		[CTRL_ATTR_FAMILY_NAME] = STR(GENL_NAMSIZ),
	};
	struct nlattr *tb[CTRL_ATTR_MAX + 1];
	struct genlmsghdr *gnlh;

	if (nlh->nlmsg_type != GENL_ID_CTRL ||
	    genlmsg_parse(nlh, 0, tb, CTRL_ATTR_MAX, policy) < 0 ||
	    !tb[CTRL_ATTR_FAMILY_NAME] ||
	    strcmp(nla_get_string(tb[CTRL_ATTR_FAMILY_NAME]), name))
		return 0;
	gnlh = nlmsg_data(nlh);
	if (gnlh->cmd == CTRL_CMD_NEWFAMILY || gnlh->cmd == CTRL_CMD_DELFAMILY)
		return gnlh->cmd;
	return 0;
}

/* One request in flight on the command socket. */
struct request {
	unsigned int seq;
	kheal_genl_msg_cb cb;
	void *arg;
	int cb_err;		/* first error a callback returned */
	int kernel_err;		/* -errno from NLMSG_ERROR or NLMSG_DONE */
	char extack[256];
	bool done;
};

/* Skip what belongs to an earlier request that timed out. */
static int on_seq_check(struct nl_msg *msg, void *arg)
{
	struct request *r = arg;

	return nlmsg_hdr(msg)->nlmsg_seq == r->seq ? NL_OK : NL_SKIP;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct request *r = arg;
	int ret;

	if (r->cb && !r->cb_err) {
		ret = r->cb(nlmsg_hdr(msg), r->arg);
		if (ret < 0)
			r->cb_err = ret;
	}
	return NL_OK;
}

static int on_done(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct request *r = arg;
	int status;

	/* A dump that failed part way says so in its NLMSG_DONE. */
	if (nlh->nlmsg_type == NLMSG_DONE &&
	    nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(status)) {
		memcpy(&status, nlmsg_data(nlh), sizeof(status));
		if (status < 0)
			r->kernel_err = status;
	}
	r->done = true;
	return NL_STOP;
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	/* libnl hands over nlmsg_data() of the NLMSG_ERROR message. */
	const struct nlmsghdr *nlh = (const void *)((char *)e - NLMSG_HDRLEN);
	struct request *r = arg;

	(void)nla;
	r->kernel_err = e->error;
	kheal_genl_extack(nlh, r->extack, sizeof(r->extack));
	r->done = true;
	return NL_STOP;
}

/*
 * After a request went unanswered, its answer may still come, and
 * libnl's own sequence bookkeeping (used by genl_ctrl_resolve()) is off:
 * carry on with a new socket.
 */
static void reconnect(struct kheal_genl *g)
{
	struct kheal_genl fresh;

	if (kheal_genl_open(&fresh, NULL))
		return;
	fresh.family = g->family;
	fresh.events_group = g->events_group;
	kheal_genl_close(g);
	*g = fresh;
}

/* Sends @msg (consumed) and reads the answer to its end. */
static int transact(struct kheal_genl *g, struct nl_msg *msg,
		    kheal_genl_msg_cb cb, void *arg, struct kheal_err *err)
{
	struct request r = { .cb = cb, .arg = arg };
	struct nl_cb *nlcb;
	int ret;

	nlcb = nl_cb_alloc(NL_CB_CUSTOM);
	if (!nlcb) {
		nlmsg_free(msg);
		return kheal_err_set(err, ENOMEM, "allocating callbacks");
	}
	nl_cb_set(nlcb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, on_seq_check, &r);
	nl_cb_set(nlcb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &r);
	nl_cb_set(nlcb, NL_CB_FINISH, NL_CB_CUSTOM, on_done, &r);
	nl_cb_set(nlcb, NL_CB_ACK, NL_CB_CUSTOM, on_done, &r);
	nl_cb_err(nlcb, NL_CB_CUSTOM, on_error, &r);

	ret = nl_send_auto(g->sk, msg);
	r.seq = nlmsg_hdr(msg)->nlmsg_seq;
	nlmsg_free(msg);
	if (ret < 0) {
		ret = nl_fail(err, ret, "sending the request");
		goto out_reconnect;
	}
	while (!r.done) {
		ret = nl_recvmsgs(g->sk, nlcb);
		if (ret < 0 && !r.done) {
			ret = nl_fail(err, ret, ret == -NLE_AGAIN ?
				      "waiting for the kernel's answer" :
				      "reading the kernel's answer");
			goto out_reconnect;
		}
	}
	if (r.kernel_err)
		ret = kheal_err_set(err, -r.kernel_err, "%s%s%s%s",
				    strerror(-r.kernel_err),
				    r.extack[0] ? " (kernel: " : "",
				    r.extack, r.extack[0] ? ")" : "");
	else
		ret = r.cb_err;
	nl_cb_put(nlcb);
	return ret;
out_reconnect:
	nl_cb_put(nlcb);
	reconnect(g);
	return ret;
}

static struct nl_msg *request(struct kheal_genl *g, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, g->family, 0,
				flags, cmd, KHEAL_GENL_VERSION)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

static int no_module(struct kheal_err *err)
{
	return kheal_err_set(err, ENOENT,
			     "the kheal module is not loaded (no generic netlink family \"%s\")",
			     KHEAL_GENL_NAME);
}

int kheal_genl_open(struct kheal_genl *g, struct kheal_err *err)
{
	struct timeval tv = { .tv_sec = KHEAL_GENL_TIMEOUT_S };
	int one = 1, fd, ret;

	*g = (struct kheal_genl){ 0 };
	g->sk = nl_socket_alloc();
	if (!g->sk)
		return kheal_err_set(err, ENOMEM,
				     "allocating a netlink socket");
	ret = genl_connect(g->sk);
	if (ret < 0) {
		ret = nl_fail(err, ret, "opening a generic netlink socket");
		goto fail;
	}
	nl_socket_enable_msg_peek(g->sk);
	fd = nl_socket_get_fd(g->sk);
	/* Extended ACKs carry the kernel's reason; older kernels lack them. */
	if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) &&
	    errno != ENOPROTOOPT) {
		ret = kheal_err_set(err, errno, "enabling NETLINK_EXT_ACK: %s",
				    strerror(errno));
		goto fail;
	}
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		ret = kheal_err_set(err, errno, "setting SO_RCVTIMEO: %s",
				    strerror(errno));
		goto fail;
	}
	return 0;
fail:
	nl_socket_free(g->sk);
	g->sk = NULL;
	return ret;
}

void kheal_genl_close(struct kheal_genl *g)
{
	nl_socket_free(g->sk);
	g->sk = NULL;
}

int kheal_genl_resolve(struct kheal_genl *g, struct kheal_err *err)
{
	int family, group;

	g->family = 0;
	family = genl_ctrl_resolve(g->sk, KHEAL_GENL_NAME);
	if (family == -NLE_OBJ_NOTFOUND)
		return no_module(err);
	if (family < 0)
		return nl_fail(err, family, "looking up the family");
	group = genl_ctrl_resolve_grp(g->sk, KHEAL_GENL_NAME,
				      KHEAL_MCGRP_EVENTS);
	if (group == -NLE_OBJ_NOTFOUND)
		return kheal_err_set(err, ENOENT,
				     "family %s has no multicast group \"%s\"",
				     KHEAL_GENL_NAME, KHEAL_MCGRP_EVENTS);
	if (group < 0)
		return nl_fail(err, group, "looking up the events group");
	g->family = family;
	g->events_group = group;
	return 0;
}

/* Resolves the family on first use; kheald keeps it resolved itself. */
static int need_family(struct kheal_genl *g, struct kheal_err *err)
{
	return g->family ? 0 : kheal_genl_resolve(g, err);
}

struct status_arg {
	struct kheal_status *st;
	struct kheal_err *err;
	bool seen;
};

static int status_cb(struct nlmsghdr *nlh, void *arg)
{
	struct status_arg *a = arg;

	a->seen = true;
	return kheal_genl_parse_status(nlh, a->st, a->err);
}

int kheal_genl_status(struct kheal_genl *g, struct kheal_status *st,
		      struct kheal_err *err)
{
	struct status_arg a = { .st = st, .err = err };
	struct nl_msg *msg;
	int ret;

	ret = need_family(g, err);
	if (ret)
		return ret;
	msg = request(g, KHEAL_CMD_GET_STATUS, 0);
	if (!msg)
		return kheal_err_set(err, ENOMEM, "building GET_STATUS");
	ret = transact(g, msg, status_cb, &a, err);
	if (!ret && !a.seen)
		ret = kheal_err_set(err, EBADMSG,
				    "GET_STATUS was acknowledged without a reply");
	return ret;
}

int kheal_genl_dump_events(struct kheal_genl *g, uint64_t since,
			   kheal_genl_msg_cb cb, void *arg,
			   struct kheal_err *err)
{
	struct nl_msg *msg;
	int ret;

	ret = need_family(g, err);
	if (ret)
		return ret;
	/* Without SINCE_SEQ the whole backlog comes. */
	msg = request(g, KHEAL_CMD_GET_EVENTS, NLM_F_DUMP);
	if (!msg || (since && nla_put_u64(msg, KHEAL_A_SINCE_SEQ, since) < 0)) {
		nlmsg_free(msg);
		return kheal_err_set(err, ENOMEM, "building GET_EVENTS");
	}
	return transact(g, msg, cb, arg, err);
}

int kheal_genl_set_hung_ms(struct kheal_genl *g, uint32_t hung_ms,
			   struct kheal_err *err)
{
	struct nl_msg *msg;
	int ret;

	ret = need_family(g, err);
	if (ret)
		return ret;
	msg = request(g, KHEAL_CMD_SET_CONFIG, 0);
	if (!msg || nla_put_u32(msg, KHEAL_A_HUNG_MS, hung_ms) < 0) {
		nlmsg_free(msg);
		return kheal_err_set(err, ENOMEM, "building SET_CONFIG");
	}
	return transact(g, msg, NULL, NULL, err);
}

struct inject_arg {
	struct kheal_inject_reply *rep;
	struct kheal_err *err;
	bool seen;
};

static int inject_cb(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[KHEAL_A_MAX + 1];
	struct inject_arg *a = arg;
	int ret;

	a->seen = true;
	ret = parse_attrs(nlh, tb, "inject reply", a->err);
	if (ret)
		return ret;
	if (!tb[KHEAL_A_PID])
		return kheal_err_set(a->err, EBADMSG,
				     "inject reply lacks attribute PID");
	a->rep->pid = nla_get_u32(tb[KHEAL_A_PID]);
	if (tb[KHEAL_A_COMM])
		nla_strlcpy(a->rep->comm, tb[KHEAL_A_COMM],
			    sizeof(a->rep->comm));
	return 0;
}

int kheal_genl_inject(struct kheal_genl *g, const struct kheal_inject *req,
		      struct kheal_inject_reply *rep, struct kheal_err *err)
{
	struct inject_arg a = { .rep = rep, .err = err };
	struct nl_msg *msg;
	int ret;

	memset(rep, 0, sizeof(*rep));
	ret = need_family(g, err);
	if (ret)
		return ret;
	msg = request(g, KHEAL_CMD_INJECT, 0);
	if (!msg || nla_put_u32(msg, KHEAL_A_INJECT_TYPE, req->type) < 0 ||
	    ((req->type == KHEAL_INJECT_HUNG_TASK ||
	      req->type == KHEAL_INJECT_LOCKUP) &&
	     nla_put_u64(msg, KHEAL_A_DURATION_MS, req->duration_ms) < 0) ||
	    (req->type == KHEAL_INJECT_BURST &&
	     nla_put_u32(msg, KHEAL_A_COUNT, req->count) < 0)) {
		nlmsg_free(msg);
		return kheal_err_set(err, ENOMEM, "building INJECT");
	}
	ret = transact(g, msg, inject_cb, &a, err);
	if (!ret && !a.seen)
		ret = kheal_err_set(err, EBADMSG,
				    "INJECT was acknowledged without a reply");
	return ret;
}

struct checkpoint_arg {
	struct kheal_checkpoint *cp;
	struct kheal_err *err;
	bool seen;
};

static int checkpoint_cb(struct nlmsghdr *nlh, void *arg)
{
	struct checkpoint_arg *a = arg;

	a->seen = true;
	return kheal_genl_parse_checkpoint(nlh, a->cp, a->err);
}

int kheal_genl_get_checkpoint(struct kheal_genl *g, uint64_t instance,
			      uint64_t id, struct kheal_checkpoint *cp,
			      struct kheal_err *err)
{
	struct checkpoint_arg a = { .cp = cp, .err = err };
	struct nl_msg *msg;
	int ret;

	ret = need_family(g, err);
	if (ret)
		return ret;
	msg = request(g, KHEAL_CMD_GET_CHECKPOINT, 0);
	if (!msg || nla_put_u64(msg, KHEAL_A_CHECKPOINT_ID, id) < 0 ||
	    (instance && nla_put_u64(msg, KHEAL_A_INSTANCE, instance) < 0)) {
		nlmsg_free(msg);
		return kheal_err_set(err, ENOMEM, "building GET_CHECKPOINT");
	}
	ret = transact(g, msg, checkpoint_cb, &a, err);
	if (!ret && !a.seen)
		ret = kheal_err_set(err, EBADMSG,
				    "GET_CHECKPOINT was acknowledged without a reply");
	if (!ret && cp->id != id)
		ret = kheal_err_set(err, EBADMSG,
				    "GET_CHECKPOINT %" PRIu64 " answered checkpoint %" PRIu64,
				    id, cp->id);
	if (ret)
		return kheal_err_wrap(err, ret, "checkpoint %" PRIu64, id);
	return 0;
}

int kheal_genl_listen_open(struct nl_sock **skp, struct kheal_err *err)
{
	int size = KHEAL_LISTEN_RCVBUF;
	struct nl_sock *sk;
	int fd, group, ret;

	sk = nl_socket_alloc();
	if (!sk)
		return kheal_err_set(err, ENOMEM,
				     "allocating a netlink socket");
	ret = genl_connect(sk);
	if (ret < 0) {
		ret = nl_fail(err, ret, "opening a generic netlink socket");
		goto fail;
	}
	group = genl_ctrl_resolve_grp(sk, "nlctrl", "notify");
	if (group < 0) {
		ret = nl_fail(err, group, "looking up nlctrl's notify group");
		goto fail;
	}
	ret = nl_socket_add_membership(sk, group);
	if (ret < 0) {
		ret = nl_fail(err, ret, "joining nlctrl's notify group");
		goto fail;
	}
	ret = nl_socket_set_nonblocking(sk);
	if (ret < 0) {
		ret = nl_fail(err, ret, "setting O_NONBLOCK");
		goto fail;
	}
	/* Root may exceed rmem_max; others get what SO_RCVBUF allows. */
	fd = nl_socket_get_fd(sk);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	*skp = sk;
	return 0;
fail:
	nl_socket_free(sk);
	return ret;
}

int kheal_genl_listen_join(struct nl_sock *sk, int group,
			   struct kheal_err *err)
{
	int ret = nl_socket_add_membership(sk, group);

	return ret < 0 ? nl_fail(err, ret, "joining the events group") : 0;
}

int kheal_genl_listen_fd(struct nl_sock *sk)
{
	return nl_socket_get_fd(sk);
}

ssize_t kheal_genl_listen_recv(struct nl_sock *sk, void *buf, size_t len)
{
	struct sockaddr_nl from;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh = {
		.msg_name = &from,
		.msg_namelen = sizeof(from),
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	ssize_t n;

	for (;;) {
		n = recvmsg(nl_socket_get_fd(sk), &mh, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 :
			       -errno;
		if (mh.msg_flags & MSG_TRUNC)
			return -EMSGSIZE;
		/* Only the kernel speaks for the kheal family. */
		if (from.nl_pid == 0)
			return n;
		mh.msg_namelen = sizeof(from);
	}
}

void kheal_genl_listen_close(struct nl_sock *sk)
{
	nl_socket_free(sk);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The "kheal" generic netlink family: event multicast on "events",
 * GET_STATUS, GET_EVENTS (a dump of the backlog), and the admin
 * commands GET_CHECKPOINT, SET_CONFIG and INJECT.
 */
#include <net/genetlink.h>
#include <linux/capability.h>
#include <linux/slab.h>

#include "kheal.h"

enum kheal_mcgrp_ids {
	KHEAL_MCGRP_EVENTS_ID,
};

static const struct genl_multicast_group kheal_mcgrps[] = {
	[KHEAL_MCGRP_EVENTS_ID] = { .name = KHEAL_MCGRP_EVENTS },
};

static const struct nla_policy kheal_get_events_policy[KHEAL_A_SINCE_SEQ + 1] = {
	[KHEAL_A_SINCE_SEQ] = { .type = NLA_U64 },
};

static const struct nla_policy kheal_get_checkpoint_policy[KHEAL_A_INSTANCE + 1] = {
	[KHEAL_A_CHECKPOINT_ID] = NLA_POLICY_MIN(NLA_U64, 1),
	[KHEAL_A_INSTANCE] = { .type = NLA_U64 },
};

static const struct nla_policy kheal_set_config_policy[KHEAL_A_HUNG_MS + 1] = {
	[KHEAL_A_HUNG_MS] = NLA_POLICY_MIN(NLA_U32, KHEAL_HUNG_MS_MIN),
};

static struct netlink_range_validation kheal_inject_ms_range = {
	.min = 1,
	.max = KHEAL_INJECT_HUNG_MAX_MS,
};

static struct netlink_range_validation kheal_inject_count_range = {
	.min = 1,
	.max = KHEAL_INJECT_BURST_MAX,
};

static const struct nla_policy kheal_inject_policy[KHEAL_A_COUNT + 1] = {
	[KHEAL_A_DURATION_MS] =
		NLA_POLICY_FULL_RANGE(NLA_U64, &kheal_inject_ms_range),
	[KHEAL_A_INJECT_TYPE] = NLA_POLICY_RANGE(NLA_U32, KHEAL_INJECT_HUNG_TASK,
						 KHEAL_INJECT_MAX),
	[KHEAL_A_COUNT] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &kheal_inject_count_range),
};

static struct genl_family kheal_genl_family;

static int kheal_put_str(struct sk_buff *skb, int attr, u32 flag,
			 u32 present, const char *s)
{
	if (!(present & flag))
		return 0;
	return nla_put_string(skb, attr, s);
}

static int kheal_put_u64(struct sk_buff *skb, int attr, u32 flag,
			 u32 present, u64 v)
{
	if (!(present & flag))
		return 0;
	return nla_put_u64_64bit(skb, attr, v, KHEAL_A_PAD);
}

static int kheal_event_put(struct sk_buff *skb, const struct kheal_event *ev)
{
	u32 p = ev->present;

	if (nla_put_u64_64bit(skb, KHEAL_A_SEQ, ev->seq, KHEAL_A_PAD) ||
	    nla_put_u64_64bit(skb, KHEAL_A_TIME_NS, ev->time_ns, KHEAL_A_PAD) ||
	    nla_put_u64_64bit(skb, KHEAL_A_INSTANCE, kheal_instance,
			      KHEAL_A_PAD) ||
	    nla_put_u32(skb, KHEAL_A_KIND, ev->kind) ||
	    nla_put_u32(skb, KHEAL_A_SEVERITY, ev->severity) ||
	    nla_put_string(skb, KHEAL_A_SUBSYS, ev->subsys))
		return -EMSGSIZE;
	if (p & KHEAL_F_PID &&
	    (nla_put_u32(skb, KHEAL_A_PID, ev->pid) ||
	     nla_put_u32(skb, KHEAL_A_TGID, ev->tgid)))
		return -EMSGSIZE;
	if (kheal_put_str(skb, KHEAL_A_COMM, KHEAL_F_COMM, p, ev->comm) ||
	    kheal_put_u64(skb, KHEAL_A_CGROUP_ID, KHEAL_F_CGROUP, p,
			  ev->cgroup_id) ||
	    kheal_put_str(skb, KHEAL_A_CGROUP_PATH, KHEAL_F_CGROUP, p,
			  ev->cgroup_path) ||
	    kheal_put_str(skb, KHEAL_A_DEV, KHEAL_F_DEV, p, ev->dev) ||
	    kheal_put_u64(skb, KHEAL_A_DURATION_MS, KHEAL_F_DURATION, p,
			  ev->duration_ms) ||
	    kheal_put_u64(skb, KHEAL_A_CHECKPOINT_ID, KHEAL_F_CHECKPOINT, p,
			  ev->checkpoint_id) ||
	    kheal_put_u64(skb, KHEAL_A_RSS_KB, KHEAL_F_RSS, p, ev->rss_kb))
		return -EMSGSIZE;
	if (p & KHEAL_F_OOM_CONSTRAINT &&
	    nla_put_u32(skb, KHEAL_A_OOM_CONSTRAINT, ev->oom_constraint))
		return -EMSGSIZE;
	if (p & KHEAL_F_QUEUE && nla_put_u32(skb, KHEAL_A_QUEUE, ev->queue))
		return -EMSGSIZE;
	if (p & KHEAL_F_ERRNO && nla_put_u32(skb, KHEAL_A_ERRNO, ev->errnum))
		return -EMSGSIZE;
	if (kheal_put_str(skb, KHEAL_A_DETAIL, KHEAL_F_DETAIL, p, ev->detail))
		return -EMSGSIZE;
	return 0;
}

/**
 * kheal_netlink_send() - multicast one event to the "events" group
 * @ev: the event, already numbered
 *
 * Process context. A listener whose socket was full misses the event and
 * gets ENOBUFS; the event stays in the backlog for it to fetch.
 */
void kheal_netlink_send(const struct kheal_event *ev)
{
	struct sk_buff *skb;
	void *hdr;
	int ret;

	if (!genl_has_listeners(&kheal_genl_family, &init_net,
				KHEAL_MCGRP_EVENTS_ID))
		return;

	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb)
		goto out_failed;

	hdr = genlmsg_put(skb, 0, 0, &kheal_genl_family, 0, KHEAL_CMD_EVENT);
	if (!hdr)
		goto out_free_msg;

	if (kheal_event_put(skb, ev))
		goto out_cancel_msg;

	genlmsg_end(skb, hdr);
	ret = genlmsg_multicast(&kheal_genl_family, skb, 0,
				KHEAL_MCGRP_EVENTS_ID, GFP_KERNEL);
	if (ret && ret != -ESRCH)
		kheal_backlog_count_mcast_failed();
	return;

out_cancel_msg:
	genlmsg_cancel(skb, hdr);
out_free_msg:
	nlmsg_free(skb);
out_failed:
	kheal_backlog_count_mcast_failed();
}

static int kheal_detectors_put(struct sk_buff *skb)
{
	struct nlattr *nest;
	unsigned int i;

	for (i = 0; i < kheal_n_detectors; i++) {
		struct kheal_detector *det = kheal_detectors[i];

		nest = nla_nest_start(skb, KHEAL_A_DETECTOR);
		if (!nest)
			return -EMSGSIZE;
		if (nla_put_string(skb, KHEAL_DETECTOR_A_NAME, det->name) ||
		    nla_put_u32(skb, KHEAL_DETECTOR_A_ACTIVE, det->active) ||
		    nla_put_u64_64bit(skb, KHEAL_DETECTOR_A_EVENTS,
				      atomic64_read(&det->events),
				      KHEAL_DETECTOR_A_PAD)) {
			nla_nest_cancel(skb, nest);
			return -EMSGSIZE;
		}
		nla_nest_end(skb, nest);
	}
	return 0;
}

static int kheal_status_put(struct sk_buff *skb, void *arg)
{
	struct kheal_backlog_stats st;

	kheal_backlog_stats(&st);
	if (nla_put_string(skb, KHEAL_A_VERSION, KHEAL_VERSION) ||
	    nla_put_u64_64bit(skb, KHEAL_A_INSTANCE, kheal_instance,
			      KHEAL_A_PAD) ||
	    nla_put_u64_64bit(skb, KHEAL_A_HEAD_SEQ, st.head, KHEAL_A_PAD) ||
	    nla_put_u64_64bit(skb, KHEAL_A_OLDEST_SEQ, st.oldest,
			      KHEAL_A_PAD) ||
	    nla_put_u32(skb, KHEAL_A_BACKLOG_SIZE, st.size) ||
	    nla_put_u64_64bit(skb, KHEAL_A_EVENTS_EMITTED, st.emitted,
			      KHEAL_A_PAD) ||
	    nla_put_u64_64bit(skb, KHEAL_A_EVENTS_DROPPED, st.dropped,
			      KHEAL_A_PAD) ||
	    nla_put_u64_64bit(skb, KHEAL_A_MCAST_FAILED, st.mcast_failed,
			      KHEAL_A_PAD) ||
	    nla_put_u32(skb, KHEAL_A_HUNG_MS, READ_ONCE(kheal_hung_ms)) ||
	    nla_put_u32(skb, KHEAL_A_ALLOW_INJECT, kheal_allow_inject))
		return -EMSGSIZE;
	return kheal_detectors_put(skb);
}

/* Answers a do request with one message of @size that @put fills. */
static int kheal_nl_reply_sized(struct genl_info *info, size_t size,
				int (*put)(struct sk_buff *skb, void *arg),
				void *arg)
{
	struct sk_buff *msg;
	void *hdr;
	int ret;

	msg = genlmsg_new(size, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	hdr = genlmsg_put_reply(msg, info, &kheal_genl_family, 0,
				info->genlhdr->cmd);
	if (!hdr) {
		ret = -EMSGSIZE;
		goto out_free_msg;
	}

	ret = put(msg, arg);
	if (ret)
		goto out_cancel_msg;

	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

out_cancel_msg:
	genlmsg_cancel(msg, hdr);
out_free_msg:
	nlmsg_free(msg);
	return ret;
}

static int kheal_nl_reply(struct genl_info *info,
			  int (*put)(struct sk_buff *skb, void *arg),
			  void *arg)
{
	return kheal_nl_reply_sized(info, NLMSG_GOODSIZE, put, arg);
}

static int kheal_nl_get_status_doit(struct sk_buff *skb,
				    struct genl_info *info)
{
	return kheal_nl_reply(info, kheal_status_put, NULL);
}

static int kheal_nl_get_events_start(struct netlink_callback *cb)
{
	const struct genl_dumpit_info *info = genl_dumpit_info(cb);
	struct nlattr *since = info->attrs[KHEAL_A_SINCE_SEQ];
	struct kheal_backlog_stats st;

	/*
	 * cb->args[0]: seq of the last event dumped so far;
	 * cb->args[1]: the head when the dump began. Later events reach the
	 * caller by multicast, so a busy detector cannot make a dump endless.
	 */
	kheal_backlog_stats(&st);
	cb->args[0] = since ? nla_get_u64(since) : 0;
	cb->args[1] = st.head;
	return 0;
}

static int kheal_nl_get_events_dumpit(struct sk_buff *skb,
				      struct netlink_callback *cb)
{
	struct kheal_event ev;
	u64 last = cb->args[0];
	void *hdr;

	while (last < cb->args[1] && !kheal_backlog_next(last, &ev)) {
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &kheal_genl_family,
				  NLM_F_MULTI, KHEAL_CMD_GET_EVENTS);
		if (!hdr)
			break;
		if (kheal_event_put(skb, &ev)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		last = ev.seq;
	}
	cb->args[0] = last;
	return skb->len;
}

static int kheal_checkpoint_put(struct sk_buff *skb, void *arg)
{
	const struct kheal_checkpoint *cp = arg;

	if (nla_put_u64_64bit(skb, KHEAL_A_CHECKPOINT_ID, cp->id,
			      KHEAL_A_PAD) ||
	    nla_put_u64_64bit(skb, KHEAL_A_INSTANCE, kheal_instance,
			      KHEAL_A_PAD) ||
	    nla_put_u64_64bit(skb, KHEAL_A_TIME_NS, cp->time_ns, KHEAL_A_PAD) ||
	    nla_put_string(skb, KHEAL_A_CHECKPOINT_TEXT, cp->text))
		return -EMSGSIZE;
	return 0;
}

/*
 * Admin only: the text holds kernel log lines and stack symbols, which
 * dmesg_restrict and /proc/PID/stack keep from unprivileged users.
 */
static int kheal_nl_get_checkpoint_doit(struct sk_buff *skb,
					struct genl_info *info)
{
	struct nlattr *instance = info->attrs[KHEAL_A_INSTANCE];
	struct kheal_checkpoint *cp;
	u64 id, last;
	size_t size;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, KHEAL_A_CHECKPOINT_ID))
		return -EINVAL;
	if (instance && nla_get_u64(instance) != kheal_instance) {
		NL_SET_ERR_MSG_ATTR(info->extack, instance,
				    "checkpoint ids are per load of kheal; INSTANCE names another load");
		return -ENOENT;
	}
	id = nla_get_u64(info->attrs[KHEAL_A_CHECKPOINT_ID]);

	cp = kvmalloc(sizeof(*cp), GFP_KERNEL);
	if (!cp)
		return -ENOMEM;
	ret = kheal_checkpoint_copy(id, cp, &last);
	if (ret == -ENOENT && id > last)
		NL_SET_ERR_MSG(info->extack, "no checkpoint has this id yet");
	else if (ret == -ENOENT)
		NL_SET_ERR_MSG(info->extack,
			       "the checkpoint has left the ring; load kheal with a larger checkpoints= to keep more");
	else if (ret == -EAGAIN)
		NL_SET_ERR_MSG(info->extack,
			       "the checkpoint is still being taken; ask again");
	if (!ret) {
		size = 3 * nla_total_size_64bit(sizeof(u64)) +
		       nla_total_size(cp->len + 1);
		ret = kheal_nl_reply_sized(info, size, kheal_checkpoint_put, cp);
	}
	kvfree(cp);
	return ret;
}

static int kheal_nl_set_config_doit(struct sk_buff *skb,
				    struct genl_info *info)
{
	struct nlattr *hung_ms = info->attrs[KHEAL_A_HUNG_MS];

	if (!hung_ms) {
		NL_SET_ERR_MSG(info->extack, "SET_CONFIG needs HUNG_MS");
		return -EINVAL;
	}
	return kheal_set_hung_ms(nla_get_u32(hung_ms));
}

static int kheal_inject_put(struct sk_buff *skb, void *arg)
{
	struct task_struct *t = arg;

	if (nla_put_u32(skb, KHEAL_A_PID, task_pid_nr(t)) ||
	    nla_put_string(skb, KHEAL_A_COMM, t->comm))
		return -EMSGSIZE;
	return 0;
}

static int kheal_nl_inject_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	struct task_struct *t;
	int ret;

	if (!kheal_allow_inject) {
		NL_SET_ERR_MSG(info->extack,
			       "INJECT is disabled; load kheal with allow_inject=1");
		return -EPERM;
	}
	if (GENL_REQ_ATTR_CHECK(info, KHEAL_A_INJECT_TYPE))
		return -EINVAL;

	switch (nla_get_u32(attrs[KHEAL_A_INJECT_TYPE])) {
	case KHEAL_INJECT_HUNG_TASK:
		if (GENL_REQ_ATTR_CHECK(info, KHEAL_A_DURATION_MS))
			return -EINVAL;
		ret = kheal_inject_hung(nla_get_u64(attrs[KHEAL_A_DURATION_MS]),
					&t);
		break;
	case KHEAL_INJECT_BURST:
		if (GENL_REQ_ATTR_CHECK(info, KHEAL_A_COUNT))
			return -EINVAL;
		ret = kheal_inject_burst(nla_get_u32(attrs[KHEAL_A_COUNT]), &t);
		break;
	case KHEAL_INJECT_LOCKUP:
		if (GENL_REQ_ATTR_CHECK(info, KHEAL_A_DURATION_MS))
			return -EINVAL;
		if (nla_get_u64(attrs[KHEAL_A_DURATION_MS]) >
		    KHEAL_INJECT_LOCKUP_MAX_MS) {
			NL_SET_ERR_MSG_ATTR(info->extack,
					    attrs[KHEAL_A_DURATION_MS],
					    "a lockup lasts at most 60000 ms");
			return -ERANGE;
		}
		ret = kheal_inject_lockup(nla_get_u64(attrs[KHEAL_A_DURATION_MS]),
					  &t);
		if (ret == -EINVAL)
			NL_SET_ERR_MSG(info->extack,
				       "a lockup needs a second online CPU");
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (ret == -EBUSY)
		NL_SET_ERR_MSG(info->extack, "too many injections running");
	if (ret)
		return ret;

	ret = kheal_nl_reply(info, kheal_inject_put, t);
	put_task_struct(t);
	return ret;
}

static const struct genl_ops kheal_genl_ops[] = {
	{
		.cmd = KHEAL_CMD_GET_STATUS,
		.doit = kheal_nl_get_status_doit,
	},
	{
		.cmd = KHEAL_CMD_GET_EVENTS,
		.start = kheal_nl_get_events_start,
		.dumpit = kheal_nl_get_events_dumpit,
		.policy = kheal_get_events_policy,
		.maxattr = ARRAY_SIZE(kheal_get_events_policy) - 1,
	},
	{
		.cmd = KHEAL_CMD_GET_CHECKPOINT,
		.doit = kheal_nl_get_checkpoint_doit,
		.policy = kheal_get_checkpoint_policy,
		.maxattr = ARRAY_SIZE(kheal_get_checkpoint_policy) - 1,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KHEAL_CMD_SET_CONFIG,
		.doit = kheal_nl_set_config_doit,
		.policy = kheal_set_config_policy,
		.maxattr = ARRAY_SIZE(kheal_set_config_policy) - 1,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KHEAL_CMD_INJECT,
		.doit = kheal_nl_inject_doit,
		.policy = kheal_inject_policy,
		.maxattr = ARRAY_SIZE(kheal_inject_policy) - 1,
		.flags = GENL_ADMIN_PERM,
	},
};

static struct genl_family kheal_genl_family __ro_after_init = {
	.name = KHEAL_GENL_NAME,
	.version = KHEAL_GENL_VERSION,
	.module = THIS_MODULE,
	.ops = kheal_genl_ops,
	.n_ops = ARRAY_SIZE(kheal_genl_ops),
	.mcgrps = kheal_mcgrps,
	.n_mcgrps = ARRAY_SIZE(kheal_mcgrps),
};

/**
 * kheal_netlink_init() - register the family
 *
 * Return: 0 or -errno from genl_register_family().
 */
int kheal_netlink_init(void)
{
	return genl_register_family(&kheal_genl_family);
}

/**
 * kheal_netlink_exit() - unregister the family; waits for running requests
 */
void kheal_netlink_exit(void)
{
	genl_unregister_family(&kheal_genl_family);
}

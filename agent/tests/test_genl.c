// SPDX-License-Identifier: GPL-2.0
/* Parsing what the kernel sends: events, status, extended ACKs, nlctrl. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/genetlink.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "genl.h"

#define FAMILY	0x20

static struct nl_msg *genl_msg(int type, uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	assert_non_null(msg);
	assert_non_null(genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, type, 0, 0,
				    cmd, KHEAL_GENL_VERSION));
	return msg;
}

static void put_basic(struct nl_msg *msg, uint64_t instance, uint64_t seq)
{
	assert_int_equal(nla_put_u64(msg, KHEAL_A_SEQ, seq), 0);
	assert_int_equal(nla_put_u64(msg, KHEAL_A_TIME_NS, 123), 0);
	assert_int_equal(nla_put_u32(msg, KHEAL_A_KIND,
				     KHEAL_EVENT_OOM_KILL), 0);
	assert_int_equal(nla_put_u32(msg, KHEAL_A_SEVERITY,
				     KHEAL_SEV_ERROR), 0);
	assert_int_equal(nla_put_string(msg, KHEAL_A_SUBSYS, "memory"), 0);
	assert_int_equal(nla_put_u64(msg, KHEAL_A_INSTANCE, instance), 0);
}

static int parse(struct nl_msg *msg, struct kheal_event *ev,
		 struct kheal_err *err)
{
	int ret;

	err->msg[0] = '\0';
	ret = kheal_genl_parse_event(nlmsg_hdr(msg), ev, err);
	nlmsg_free(msg);
	return ret;
}

/*
 * Every attribute an event can carry lands in its field, a PAD
 * attribute is skipped, and one from a newer kernel is ignored.
 */
static void test_netlink_event_parses_all_attributes(void **state)
{
	struct nl_msg *msg = genl_msg(FAMILY, KHEAL_CMD_EVENT);
	struct kheal_event ev;
	struct kheal_err err;

	(void)state;
	put_basic(msg, 0xfeedULL << 32, 42);
	assert_int_equal(nla_put(msg, KHEAL_A_PAD, 0, NULL), 0);
	assert_int_equal(nla_put_u32(msg, KHEAL_A_PID, 55), 0);
	assert_int_equal(nla_put_u32(msg, KHEAL_A_TGID, 54), 0);
	assert_int_equal(nla_put_string(msg, KHEAL_A_COMM, "stress-ng"), 0);
	assert_int_equal(nla_put_u64(msg, KHEAL_A_CGROUP_ID, 77), 0);
	assert_int_equal(nla_put_string(msg, KHEAL_A_CGROUP_PATH,
					"/system.slice/x.service"), 0);
	assert_int_equal(nla_put_string(msg, KHEAL_A_DEV, "sda"), 0);
	assert_int_equal(nla_put_u64(msg, KHEAL_A_DURATION_MS, 512), 0);
	assert_int_equal(nla_put_u64(msg, KHEAL_A_CHECKPOINT_ID, 3), 0);
	assert_int_equal(nla_put_u64(msg, KHEAL_A_RSS_KB, 1 << 20), 0);
	assert_int_equal(nla_put_u32(msg, KHEAL_A_OOM_CONSTRAINT,
				     KHEAL_OOM_MEMCG), 0);
	assert_int_equal(nla_put_u32(msg, KHEAL_A_MAX + 7, 1), 0);

	assert_int_equal(parse(msg, &ev, &err), 0);
	assert_int_equal(ev.source, KHEAL_SOURCE_KMOD);
	assert_int_equal(ev.seq, 42);
	assert_int_equal(ev.time_ns, 123);
	assert_int_equal(ev.kind, KHEAL_EVENT_OOM_KILL);
	assert_int_equal(ev.severity, KHEAL_SEV_ERROR);
	assert_string_equal(ev.subsys, "memory");
	assert_true(ev.instance == 0xfeedULL << 32);
	assert_int_equal(ev.pid, 55);
	assert_int_equal(ev.tgid, 54);
	assert_string_equal(ev.comm, "stress-ng");
	assert_int_equal(ev.cgroup_id, 77);
	assert_string_equal(ev.cgroup_path, "/system.slice/x.service");
	assert_string_equal(ev.dev, "sda");
	assert_int_equal(ev.duration_ms, 512);
	assert_int_equal(ev.checkpoint_id, 3);
	assert_int_equal(ev.rss_kb, 1 << 20);
	assert_int_equal(ev.oom_constraint, KHEAL_OOM_MEMCG);
	assert_true(ev.present == ((1ULL << (KHEAL_A_OOM_CONSTRAINT + 1)) -
				   (1ULL << KHEAL_A_SEQ)));
}

/*
 * The attributes the BPF engine brought: STACK is multi-attr, its frames
 * kept in order; the others are single.
 */
static void test_event_stack_frames_and_new_attributes(void **state)
{
	const struct kheal_event_field *stack =
		kheal_event_field(KHEAL_A_STACK);
	struct nl_msg *msg = genl_msg(FAMILY, KHEAL_CMD_EVENT);
	struct kheal_event ev;
	struct kheal_err err;

	(void)state;
	put_basic(msg, 1, 1);
	assert_int_equal(nla_put_string(msg, KHEAL_A_STACK, "schedule+0x5d"),
			 0);
	assert_int_equal(nla_put_u32(msg, KHEAL_A_SIGNAL, 11), 0);
	assert_int_equal(nla_put_string(msg, KHEAL_A_STACK, "io_schedule+0x42"),
			 0);
	assert_int_equal(nla_put_u32(msg, KHEAL_A_ERRNO, 5), 0);
	assert_int_equal(nla_put_u32(msg, KHEAL_A_QUEUE, 2), 0);
	assert_int_equal(nla_put_string(msg, KHEAL_A_DETAIL, "rcu_sched"), 0);
	assert_int_equal(parse(msg, &ev, &err), 0);
	assert_int_equal(kheal_event_strv_count(&ev, stack), 2);
	assert_string_equal(kheal_event_strv(&ev, stack, 0), "schedule+0x5d");
	assert_string_equal(kheal_event_strv(&ev, stack, 1),
			    "io_schedule+0x42");
	assert_int_equal(ev.signal, 11);
	assert_int_equal(ev.errnum, 5);
	assert_int_equal(ev.queue, 2);
	assert_string_equal(ev.detail, "rcu_sched");
	assert_true(kheal_event_has(&ev, KHEAL_A_STACK));
}

/* More frames than an event holds are refused, naming the attribute. */
static void test_event_too_many_stack_frames_rejected(void **state)
{
	struct nl_msg *msg = genl_msg(FAMILY, KHEAL_CMD_EVENT);
	struct kheal_event ev;
	struct kheal_err err;
	int i;

	(void)state;
	put_basic(msg, 1, 1);
	for (i = 0; i <= KHEAL_STACK_DEPTH; i++)
		assert_int_equal(nla_put_string(msg, KHEAL_A_STACK, "f+0x1"),
				 0);
	assert_int_equal(parse(msg, &ev, &err), -EBADMSG);
	assert_string_equal(err.msg, "event has more than 32 STACK attributes");
	assert_int_equal(ev.seq, 1);
}

/* Absent optional attributes stay absent. */
static void test_event_with_required_attributes_only(void **state)
{
	struct nl_msg *msg = genl_msg(FAMILY, KHEAL_CMD_EVENT);
	struct kheal_event ev;
	struct kheal_err err;

	(void)state;
	put_basic(msg, 1, 1);
	assert_int_equal(parse(msg, &ev, &err), 0);
	assert_false(kheal_event_has(&ev, KHEAL_A_PID));
	assert_false(kheal_event_has(&ev, KHEAL_A_COMM));
}

/* A missing required attribute is an error that names it. */
static void test_event_missing_required_attribute_named(void **state)
{
	struct nl_msg *msg = genl_msg(FAMILY, KHEAL_CMD_EVENT);
	struct kheal_event ev;
	struct kheal_err err;

	(void)state;
	assert_int_equal(nla_put_u64(msg, KHEAL_A_SEQ, 1), 0);
	assert_int_equal(nla_put_u64(msg, KHEAL_A_INSTANCE, 1), 0);
	assert_int_equal(parse(msg, &ev, &err), -EBADMSG);
	assert_string_equal(err.msg, "event lacks attribute TIME_NS");
}

/* A string without its NUL is refused, naming the attribute. */
static void test_event_string_without_nul_rejected_by_name(void **state)
{
	struct nl_msg *msg = genl_msg(FAMILY, KHEAL_CMD_EVENT);
	struct kheal_event ev;
	struct kheal_err err;

	(void)state;
	put_basic(msg, 1, 1);
	assert_int_equal(nla_put(msg, KHEAL_A_COMM, 4, "abcd"), 0);
	assert_int_equal(parse(msg, &ev, &err), -EBADMSG);
	assert_string_equal(err.msg,
			    "event attribute COMM (8): 4 bytes, not a NUL-terminated string of at most 16");
}

/* A string longer than the UAPI's limit is refused. */
static void test_event_string_too_long_rejected(void **state)
{
	struct nl_msg *msg = genl_msg(FAMILY, KHEAL_CMD_EVENT);
	struct kheal_event ev;
	struct kheal_err err;

	(void)state;
	put_basic(msg, 1, 1);
	assert_int_equal(nla_put_string(msg, KHEAL_A_DEV,
			 "a-device-name-longer-than-32-bytes"), 0);
	assert_int_equal(parse(msg, &ev, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "attribute DEV (11)"));
}

/* Integers must have their exact size, not merely at least it. */
static void test_event_integer_of_wrong_size_rejected(void **state)
{
	struct nl_msg *msg = genl_msg(FAMILY, KHEAL_CMD_EVENT);
	struct kheal_event ev;
	struct kheal_err err;
	uint64_t wide = 55;

	(void)state;
	put_basic(msg, 1, 1);
	assert_int_equal(nla_put(msg, KHEAL_A_PID, sizeof(wide), &wide), 0);
	assert_int_equal(parse(msg, &ev, &err), -EBADMSG);
	assert_string_equal(err.msg,
			    "event attribute PID (7): 8 bytes where 4 belong");
}

/*
 * A bad attribute does not hide the good ones: seq and instance stay
 * known, so the loss can be placed.
 */
static void test_bad_attribute_keeps_seq_and_instance(void **state)
{
	struct nl_msg *msg = genl_msg(FAMILY, KHEAL_CMD_EVENT);
	struct kheal_event ev;
	struct kheal_err err;

	(void)state;
	assert_int_equal(nla_put(msg, KHEAL_A_COMM, 3, "abc"), 0);
	put_basic(msg, 9, 17);
	assert_int_equal(parse(msg, &ev, &err), -EBADMSG);
	assert_int_equal(ev.seq, 17);
	assert_int_equal(ev.instance, 9);
	assert_true(kheal_event_has(&ev, KHEAL_A_SEQ));
	assert_false(kheal_event_has(&ev, KHEAL_A_COMM));
}

/* Seq 0 is not a valid event. */
static void test_event_seq_zero_rejected(void **state)
{
	struct nl_msg *msg = genl_msg(FAMILY, KHEAL_CMD_EVENT);
	struct kheal_event ev;
	struct kheal_err err;

	(void)state;
	put_basic(msg, 1, 0);
	assert_int_equal(parse(msg, &ev, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "SEQ 0"));
}

/* A message of another command is not taken for an event. */
static void test_message_of_other_command_rejected(void **state)
{
	struct nl_msg *msg = genl_msg(FAMILY, KHEAL_CMD_GET_STATUS);
	struct kheal_event ev;
	struct kheal_err err;

	(void)state;
	put_basic(msg, 1, 1);
	assert_int_equal(parse(msg, &ev, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "command 2"));
}

/* A GET_EVENTS dump reply carries an event like a notification does. */
static void test_backlog_dump_reply_parses_as_event(void **state)
{
	struct nl_msg *msg = genl_msg(FAMILY, KHEAL_CMD_GET_EVENTS);
	struct kheal_event ev;
	struct kheal_err err;

	(void)state;
	put_basic(msg, 9, 17);
	assert_int_equal(parse(msg, &ev, &err), 0);
	assert_int_equal(ev.seq, 17);
	assert_true(ev.instance == 9);
}

/* A message too short for its genl header is refused, not read past. */
static void test_truncated_message_rejected(void **state)
{
	struct nl_msg *msg = genl_msg(FAMILY, KHEAL_CMD_EVENT);
	struct kheal_event ev;
	struct kheal_err err;

	(void)state;
	nlmsg_hdr(msg)->nlmsg_len = NLMSG_HDRLEN + 2;
	assert_int_equal(parse(msg, &ev, &err), -EBADMSG);
	assert_string_equal(err.msg, "event: message of 18 bytes is too short");
}

static void put_detector(struct nl_msg *msg, const char *name, uint32_t on,
			 uint64_t events)
{
	struct nlattr *nest = nla_nest_start(msg, KHEAL_A_DETECTOR);

	assert_non_null(nest);
	nest->nla_type |= NLA_F_NESTED;
	assert_int_equal(nla_put_string(msg, KHEAL_DETECTOR_A_NAME, name), 0);
	assert_int_equal(nla_put_u32(msg, KHEAL_DETECTOR_A_ACTIVE, on), 0);
	assert_int_equal(nla_put_u64(msg, KHEAL_DETECTOR_A_EVENTS, events), 0);
	nla_nest_end(msg, nest);
}

/* GET_STATUS's reply fills every field, detectors included. */
static void test_status_reply_parses_counters_and_detectors(void **state)
{
	struct nl_msg *msg = genl_msg(FAMILY, KHEAL_CMD_GET_STATUS);
	struct kheal_status st;
	struct kheal_err err;

	(void)state;
	assert_int_equal(nla_put_string(msg, KHEAL_A_VERSION, "0.1.0"), 0);
	assert_int_equal(nla_put_u64(msg, KHEAL_A_INSTANCE, 99), 0);
	assert_int_equal(nla_put_u64(msg, KHEAL_A_HEAD_SEQ, 10), 0);
	assert_int_equal(nla_put_u64(msg, KHEAL_A_OLDEST_SEQ, 2), 0);
	assert_int_equal(nla_put_u32(msg, KHEAL_A_BACKLOG_SIZE, 4096), 0);
	assert_int_equal(nla_put_u64(msg, KHEAL_A_EVENTS_EMITTED, 10), 0);
	assert_int_equal(nla_put_u64(msg, KHEAL_A_EVENTS_DROPPED, 1), 0);
	assert_int_equal(nla_put_u64(msg, KHEAL_A_MCAST_FAILED, 4), 0);
	assert_int_equal(nla_put_u32(msg, KHEAL_A_HUNG_MS, 2000), 0);
	assert_int_equal(nla_put_u32(msg, KHEAL_A_ALLOW_INJECT, 1), 0);
	put_detector(msg, "hung_task", 1, 7);
	put_detector(msg, "oom", 0, 0);

	assert_int_equal(kheal_genl_parse_status(nlmsg_hdr(msg), &st, &err), 0);
	nlmsg_free(msg);
	assert_string_equal(st.version, "0.1.0");
	assert_int_equal(st.instance, 99);
	assert_int_equal(st.head_seq, 10);
	assert_int_equal(st.oldest_seq, 2);
	assert_int_equal(st.backlog_size, 4096);
	assert_int_equal(st.events_emitted, 10);
	assert_int_equal(st.events_dropped, 1);
	assert_int_equal(st.mcast_failed, 4);
	assert_int_equal(st.hung_ms, 2000);
	assert_int_equal(st.allow_inject, 1);
	assert_int_equal(st.ndetectors, 2);
	assert_string_equal(st.detectors[0].name, "hung_task");
	assert_int_equal(st.detectors[0].active, 1);
	assert_int_equal(st.detectors[0].events, 7);
	assert_string_equal(st.detectors[1].name, "oom");
}

/* A status reply without INSTANCE cannot be used, and says why. */
static void test_status_reply_lacking_instance_rejected(void **state)
{
	struct nl_msg *msg = genl_msg(FAMILY, KHEAL_CMD_GET_STATUS);
	struct kheal_status st;
	struct kheal_err err;

	(void)state;
	assert_int_equal(nla_put_u64(msg, KHEAL_A_HEAD_SEQ, 10), 0);
	assert_int_equal(kheal_genl_parse_status(nlmsg_hdr(msg), &st, &err),
			 -EBADMSG);
	nlmsg_free(msg);
	assert_string_equal(err.msg, "status reply lacks attribute INSTANCE");
}

/* A detector nest with a bad member is named as such. */
static void test_status_bad_detector_named(void **state)
{
	struct nl_msg *msg = genl_msg(FAMILY, KHEAL_CMD_GET_STATUS);
	struct kheal_status st;
	struct kheal_err err;
	struct nlattr *nest;

	(void)state;
	assert_int_equal(nla_put_u64(msg, KHEAL_A_INSTANCE, 1), 0);
	assert_int_equal(nla_put_u64(msg, KHEAL_A_HEAD_SEQ, 1), 0);
	nest = nla_nest_start(msg, KHEAL_A_DETECTOR);
	assert_int_equal(nla_put_u64(msg, KHEAL_DETECTOR_A_ACTIVE, 1), 0);
	nla_nest_end(msg, nest);
	assert_int_equal(kheal_genl_parse_status(nlmsg_hdr(msg), &st, &err),
			 -EBADMSG);
	nlmsg_free(msg);
	assert_string_equal(err.msg,
			    "status detector attribute ACTIVE (2): 8 bytes where 4 belong");
}

static struct nl_msg *error_msg(int flags, int error, size_t echoed,
				const char *text)
{
	struct nl_msg *msg = nlmsg_alloc_simple(NLMSG_ERROR, flags);
	struct nlmsgerr e = { .error = error };
	char payload[64] = { 0 };

	e.msg.nlmsg_len = NLMSG_HDRLEN + echoed;
	assert_int_equal(nlmsg_append(msg, &e, sizeof(e), NLMSG_ALIGNTO), 0);
	if (echoed)
		assert_int_equal(nlmsg_append(msg, payload, echoed,
					      NLMSG_ALIGNTO), 0);
	if (text)
		assert_int_equal(nla_put_string(msg, NLMSGERR_ATTR_MSG,
						text), 0);
	return msg;
}

/*
 * The kernel's extended ACK text is found, whether or not the request
 * was echoed before it.
 */
static void test_extack_message_extracted(void **state)
{
	struct nl_msg *msg;
	char buf[128];

	(void)state;
	msg = error_msg(NLM_F_CAPPED | NLM_F_ACK_TLVS, -EPERM, 0,
			"injection disabled: load with allow_inject=1");
	kheal_genl_extack(nlmsg_hdr(msg), buf, sizeof(buf));
	assert_string_equal(buf, "injection disabled: load with allow_inject=1");
	nlmsg_free(msg);

	msg = error_msg(NLM_F_ACK_TLVS, -EINVAL, 12, "hung_ms below 100");
	kheal_genl_extack(nlmsg_hdr(msg), buf, sizeof(buf));
	assert_string_equal(buf, "hung_ms below 100");
	nlmsg_free(msg);

	msg = error_msg(NLM_F_CAPPED, -EINVAL, 0, NULL);
	kheal_genl_extack(nlmsg_hdr(msg), buf, sizeof(buf));
	assert_string_equal(buf, "");
	nlmsg_free(msg);
}

/* An error whose TLV area is garbage yields no text, and no overread. */
static void test_extack_with_lying_lengths_is_ignored(void **state)
{
	struct nl_msg *msg;
	char buf[128];

	(void)state;
	msg = error_msg(NLM_F_ACK_TLVS, -EINVAL, 0, "x");
	((struct nlmsgerr *)nlmsg_data(nlmsg_hdr(msg)))->msg.nlmsg_len = 4000;
	kheal_genl_extack(nlmsg_hdr(msg), buf, sizeof(buf));
	assert_string_equal(buf, "");
	nlmsg_free(msg);
}

static struct nl_msg *family_msg(uint8_t cmd, const char *name)
{
	struct nl_msg *msg = genl_msg(GENL_ID_CTRL, cmd);

	assert_int_equal(nla_put_string(msg, CTRL_ATTR_FAMILY_NAME, name), 0);
	assert_int_equal(nla_put_u16(msg, CTRL_ATTR_FAMILY_ID, FAMILY), 0);
	return msg;
}

/*
 * nlctrl's announcements of the kheal family are recognised; those of
 * other families and other nlctrl commands are not.
 */
static void test_family_notifications_recognised(void **state)
{
	struct nl_msg *msg;

	(void)state;
	msg = family_msg(CTRL_CMD_NEWFAMILY, "kheal");
	assert_int_equal(kheal_genl_family_notify(nlmsg_hdr(msg), "kheal"),
			 CTRL_CMD_NEWFAMILY);
	nlmsg_free(msg);
	msg = family_msg(CTRL_CMD_DELFAMILY, "kheal");
	assert_int_equal(kheal_genl_family_notify(nlmsg_hdr(msg), "kheal"),
			 CTRL_CMD_DELFAMILY);
	nlmsg_free(msg);
	msg = family_msg(CTRL_CMD_NEWFAMILY, "khealx");
	assert_int_equal(kheal_genl_family_notify(nlmsg_hdr(msg), "kheal"), 0);
	nlmsg_free(msg);
	msg = family_msg(CTRL_CMD_NEWMCAST_GRP, "kheal");
	assert_int_equal(kheal_genl_family_notify(nlmsg_hdr(msg), "kheal"), 0);
	nlmsg_free(msg);
}

static struct nl_msg *checkpoint_msg(uint64_t id, const char *text)
{
	struct nl_msg *msg = genl_msg(FAMILY, KHEAL_CMD_GET_CHECKPOINT);

	assert_int_equal(nla_put_u64(msg, KHEAL_A_CHECKPOINT_ID, id), 0);
	assert_int_equal(nla_put_u64(msg, KHEAL_A_INSTANCE, 0xfeed), 0);
	assert_int_equal(nla_put_u64(msg, KHEAL_A_TIME_NS, 5000000000ULL), 0);
	if (text)
		assert_int_equal(nla_put_string(msg, KHEAL_A_CHECKPOINT_TEXT,
						text), 0);
	return msg;
}

/* A GET_CHECKPOINT reply gives its id, instance, time and text. */
static void test_checkpoint_reply_parses_id_instance_time_text(void **state)
{
	struct nl_msg *msg = checkpoint_msg(3, "checkpoint 3\nmemory:\n");
	struct kheal_checkpoint cp;
	struct kheal_err err = { "" };

	(void)state;
	assert_int_equal(kheal_genl_parse_checkpoint(nlmsg_hdr(msg), &cp,
						     &err), 0);
	nlmsg_free(msg);
	assert_int_equal(cp.id, 3);
	assert_int_equal(cp.instance, 0xfeed);
	assert_true(cp.time_ns == 5000000000ULL);
	assert_string_equal(cp.text, "checkpoint 3\nmemory:\n");
}

/* A reply without its text is refused, naming what it lacks. */
static void test_checkpoint_reply_lacking_text_rejected(void **state)
{
	struct nl_msg *msg = checkpoint_msg(3, NULL);
	struct kheal_checkpoint cp;
	struct kheal_err err = { "" };

	(void)state;
	assert_int_equal(kheal_genl_parse_checkpoint(nlmsg_hdr(msg), &cp,
						     &err), -EBADMSG);
	nlmsg_free(msg);
	assert_string_equal(err.msg,
			    "checkpoint reply lacks attribute CHECKPOINT_TEXT");
}

/* A text longer than the UAPI's limit is refused, not cut. */
static void test_checkpoint_text_over_limit_rejected(void **state)
{
	static char text[KHEAL_CHECKPOINT_TEXT_LEN + 1];
	struct kheal_checkpoint cp;
	struct kheal_err err = { "" };
	struct nl_msg *msg;

	(void)state;
	memset(text, 'x', KHEAL_CHECKPOINT_TEXT_LEN);
	msg = nlmsg_alloc_size(2 * KHEAL_CHECKPOINT_TEXT_LEN);
	assert_non_null(msg);
	assert_non_null(genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, FAMILY, 0,
				    0, KHEAL_CMD_GET_CHECKPOINT,
				    KHEAL_GENL_VERSION));
	assert_int_equal(nla_put_u64(msg, KHEAL_A_CHECKPOINT_ID, 1), 0);
	assert_int_equal(nla_put_u64(msg, KHEAL_A_INSTANCE, 1), 0);
	assert_int_equal(nla_put_string(msg, KHEAL_A_CHECKPOINT_TEXT, text),
			 0);
	assert_int_equal(kheal_genl_parse_checkpoint(nlmsg_hdr(msg), &cp,
						     &err), -EBADMSG);
	nlmsg_free(msg);
	assert_string_equal(err.msg,
			    "checkpoint attribute CHECKPOINT_TEXT (36): 8193 bytes, not a NUL-terminated string of at most 8192");
}

/*
 * The wire policy and the event field table agree on every event
 * attribute; every attribute has a policy and a name.
 */
static void test_policy_agrees_with_event_field_table(void **state)
{
	const struct kheal_event_field *f;
	const struct nla_policy *p;
	int a;

	(void)state;
	for (f = kheal_event_fields; f < kheal_event_fields +
	     kheal_event_nfields; f++) {
		p = &kheal_genl_policy[f->attr];
		if (f->type == KHEAL_FIELD_STR ||
		    f->type == KHEAL_FIELD_STRV) {
			assert_int_equal(p->type, NLA_STRING);
			assert_int_equal(p->maxlen, f->size);
		} else {
			assert_int_equal(p->type, f->type == KHEAL_FIELD_U32 ?
					 NLA_U32 : NLA_U64);
			assert_int_equal(p->maxlen, f->size);
		}
	}
	for (a = KHEAL_A_SEQ; a <= KHEAL_A_MAX; a++) {
		assert_int_not_equal(kheal_genl_policy[a].type, NLA_UNSPEC);
		assert_string_not_equal(kheal_genl_attr_name(a), "UNSPEC");
	}
}

/*
 * Against the running kernel: no kheal module here, so nlctrl stands in.
 * Its GETFAMILY has kheal's GET_EVENTS number (3) and dumps every
 * family; its DELOPS has SET_CONFIG's (5) and is refused.
 */
static int count_cb(struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	++*(int *)arg;
	return 0;
}

static void open_as_nlctrl(struct kheal_genl *g)
{
	struct kheal_err err;

	assert_int_equal(kheal_genl_open(g, &err), 0);
	g->family = GENL_ID_CTRL;
}

/* A dump is read through to its NLMSG_DONE, every part of it. */
static void test_kernel_dump_read_to_its_end(void **state)
{
	struct kheal_genl g;
	struct kheal_err err;
	int n = 0;

	(void)state;
	open_as_nlctrl(&g);
	assert_int_equal(kheal_genl_dump_events(&g, 0, count_cb, &n, &err), 0);
	assert_true(n > 0);
	kheal_genl_close(&g);
}

/*
 * The kernel's refusal comes back as its errno, with its extended ACK
 * message: nlctrl knows no attribute SINCE_SEQ.
 */
static void test_kernel_error_returned_with_extack_message(void **state)
{
	struct kheal_genl g;
	struct kheal_err err;
	int n = 0;

	(void)state;
	open_as_nlctrl(&g);
	assert_int_equal(kheal_genl_set_hung_ms(&g, 1000, &err), -EOPNOTSUPP);
	assert_non_null(strstr(err.msg, strerror(EOPNOTSUPP)));
	assert_int_equal(kheal_genl_dump_events(&g, 5, count_cb, &n, &err),
			 -EINVAL);
	assert_memory_equal(err.msg, "Invalid argument (kernel: ", 26);
	kheal_genl_close(&g);
}

/*
 * A refused GET_CHECKPOINT says which checkpoint and why: nlctrl has no
 * operation 4 (kheal's GET_CHECKPOINT).
 */
static void test_kernel_refusing_checkpoint_names_it(void **state)
{
	struct kheal_checkpoint *cp = malloc(sizeof(*cp));
	struct kheal_genl g;
	struct kheal_err err;

	(void)state;
	assert_non_null(cp);
	open_as_nlctrl(&g);
	assert_int_equal(kheal_genl_get_checkpoint(&g, 7, 12, cp, &err),
			 -EOPNOTSUPP);
	assert_memory_equal(err.msg, "checkpoint 12: ", 15);
	assert_non_null(strstr(err.msg, strerror(EOPNOTSUPP)));
	kheal_genl_close(&g);
	free(cp);
}

/*
 * After requests, refusals and dumps the socket is still in step with
 * libnl: a family lookup on it gets its true answer.
 */
static void test_socket_stays_in_step_after_requests(void **state)
{
	struct kheal_genl g;
	struct kheal_err err;
	int n = 0;

	(void)state;
	open_as_nlctrl(&g);
	kheal_genl_set_hung_ms(&g, 1000, &err);
	kheal_genl_dump_events(&g, 0, count_cb, &n, &err);
	kheal_genl_dump_events(&g, 5, count_cb, &n, &err);
	kheal_genl_set_hung_ms(&g, 1000, &err);
	assert_int_equal(kheal_genl_resolve(&g, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "the kheal module is not loaded"));
	kheal_genl_close(&g);
}

#define T(f)	cmocka_unit_test(f)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_netlink_event_parses_all_attributes),
		T(test_event_stack_frames_and_new_attributes),
		T(test_event_too_many_stack_frames_rejected),
		T(test_event_with_required_attributes_only),
		T(test_event_missing_required_attribute_named),
		T(test_event_string_without_nul_rejected_by_name),
		T(test_event_string_too_long_rejected),
		T(test_event_integer_of_wrong_size_rejected),
		T(test_bad_attribute_keeps_seq_and_instance),
		T(test_event_seq_zero_rejected),
		T(test_message_of_other_command_rejected),
		T(test_backlog_dump_reply_parses_as_event),
		T(test_truncated_message_rejected),
		T(test_status_reply_parses_counters_and_detectors),
		T(test_status_reply_lacking_instance_rejected),
		T(test_status_bad_detector_named),
		T(test_extack_message_extracted),
		T(test_extack_with_lying_lengths_is_ignored),
		T(test_family_notifications_recognised),
		T(test_checkpoint_reply_parses_id_instance_time_text),
		T(test_checkpoint_reply_lacking_text_rejected),
		T(test_checkpoint_text_over_limit_rejected),
		T(test_policy_agrees_with_event_field_table),
		T(test_kernel_dump_read_to_its_end),
		T(test_kernel_error_returned_with_extack_message),
		T(test_kernel_refusing_checkpoint_names_it),
		T(test_socket_stays_in_step_after_requests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

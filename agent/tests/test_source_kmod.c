// SPDX-License-Identifier: GPL-2.0
/*
 * The kmod source against a fake kernel: the netlink plumbing it calls
 * is replaced (ld --wrap) by a module with a backlog, a multicast queue
 * and nlctrl announcements that each test steers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/genetlink.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "genl.h"
#include "source_kmod.h"

#define FAMILY	0x1f
#define GROUP	7

enum mcast { Q_EVENT, Q_ENOBUFS, Q_NEWFAMILY, Q_DELFAMILY };

static struct fake {
	bool loaded;
	uint64_t instance;
	uint64_t oldest;		/* the backlog holds oldest..head */
	uint64_t head;
	uint64_t bad_seq;		/* sent with a malformed COMM */
	int dump_err;			/* the next dump fails with it */
	struct {
		enum mcast what;
		uint64_t instance;
		uint64_t seq;
	} q[64];
	int qhead, qlen;
	char calls[1024];		/* "resolve join status dump(0) " */
	int set_err;			/* SET_CONFIG fails with it */
	int nstatus;
	/* Live mode: each read emits the next event, up to live_to. */
	uint64_t live_to;
	unsigned int rng;
	bool overflowed;		/* ENOBUFS is due */
	uint64_t cp_last;		/* checkpoints cp_last - 3..cp_last */
} fk;

static struct {
	char trail[4096];		/* "1:4 gap1:5-6 1:7 " */
	char notes[2048];
	uint8_t *seen;			/* if set: deliveries per seq instead */
	uint64_t last;
} out;

static struct kheal_source src;

static void logf_(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

/* The fake kernel */

static void load(uint64_t instance, uint64_t head)
{
	fk.loaded = true;
	fk.instance = instance;
	fk.oldest = 1;
	fk.head = head;
}

static void mcast(enum mcast what, uint64_t instance, uint64_t seq)
{
	assert_true(fk.qlen < 64);
	fk.q[fk.qlen].what = what;
	fk.q[fk.qlen].instance = instance;
	fk.q[fk.qlen].seq = seq;
	fk.qlen++;
}

static size_t copy_out(struct nl_msg *msg, void *buf, size_t len)
{
	size_t n = nlmsg_hdr(msg)->nlmsg_len;

	assert_true(n <= len);
	memcpy(buf, nlmsg_hdr(msg), n);
	nlmsg_free(msg);
	return n;
}

static size_t build_event(void *buf, size_t len, uint64_t instance,
			  uint64_t seq)
{
	struct nl_msg *msg = nlmsg_alloc();

	genlmsg_put(msg, 0, 0, FAMILY, 0, 0, KHEAL_CMD_EVENT, 1);
	nla_put_u64(msg, KHEAL_A_SEQ, seq);
	nla_put_u64(msg, KHEAL_A_TIME_NS, seq * 1000);
	nla_put_u32(msg, KHEAL_A_KIND, KHEAL_EVENT_SYNTHETIC);
	nla_put_u32(msg, KHEAL_A_SEVERITY, KHEAL_SEV_INFO);
	nla_put_string(msg, KHEAL_A_SUBSYS, "test");
	nla_put_u64(msg, KHEAL_A_INSTANCE, instance);
	if (seq == fk.bad_seq)
		nla_put(msg, KHEAL_A_COMM, 3, "abc");
	return copy_out(msg, buf, len);
}

static size_t build_family(void *buf, size_t len, uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	genlmsg_put(msg, 0, 0, GENL_ID_CTRL, 0, 0, cmd, 2);
	nla_put_string(msg, CTRL_ATTR_FAMILY_NAME, KHEAL_GENL_NAME);
	nla_put_u16(msg, CTRL_ATTR_FAMILY_ID, FAMILY);
	return copy_out(msg, buf, len);
}

int __wrap_kheal_genl_open(struct kheal_genl *g, struct kheal_err *err)
{
	(void)err;
	*g = (struct kheal_genl){ 0 };
	return 0;
}

void __wrap_kheal_genl_close(struct kheal_genl *g)
{
	(void)g;
}

int __wrap_kheal_genl_resolve(struct kheal_genl *g, struct kheal_err *err)
{
	logf_(fk.calls, sizeof(fk.calls), "resolve ");
	if (!fk.loaded)
		return kheal_err_set(err, ENOENT, "the kheal module is not loaded");
	g->family = FAMILY;
	g->events_group = GROUP;
	return 0;
}

int __wrap_kheal_genl_status(struct kheal_genl *g, struct kheal_status *st,
			     struct kheal_err *err)
{
	(void)g;
	logf_(fk.calls, sizeof(fk.calls), "status ");
	fk.nstatus++;
	if (!fk.loaded)
		return kheal_err_set(err, ENOENT, "no such family");
	memset(st, 0, sizeof(*st));
	strcpy(st->version, "fake");
	st->instance = fk.instance;
	st->head_seq = fk.head;
	st->oldest_seq = fk.oldest;
	return 0;
}

int __wrap_kheal_genl_dump_events(struct kheal_genl *g, uint64_t since,
				  kheal_genl_msg_cb cb, void *arg,
				  struct kheal_err *err)
{
	uint8_t buf[1024];
	uint64_t seq;
	int ret;

	(void)g;
	logf_(fk.calls, sizeof(fk.calls), "dump(%llu) ",
	      (unsigned long long)since);
	if (fk.dump_err) {
		ret = fk.dump_err;
		fk.dump_err = 0;
		return kheal_err_set(err, -ret, "%s", strerror(-ret));
	}
	if (!fk.loaded)
		return kheal_err_set(err, ENOENT, "no such family");
	for (seq = since + 1 > fk.oldest ? since + 1 : fk.oldest;
	     seq <= fk.head; seq++) {
		build_event(buf, sizeof(buf), fk.instance, seq);
		ret = cb((struct nlmsghdr *)buf, arg);
		if (ret)
			return ret;
	}
	return 0;
}

int __wrap_kheal_genl_set_hung_ms(struct kheal_genl *g, uint32_t hung_ms,
				  struct kheal_err *err)
{
	(void)g;
	logf_(fk.calls, sizeof(fk.calls), "set(%u) ", hung_ms);
	if (fk.set_err)
		return kheal_err_set(err, -fk.set_err, "%s",
				     strerror(-fk.set_err));
	return 0;
}

/* A ring of four checkpoints, as GET_CHECKPOINT answers from it. */
int __wrap_kheal_genl_get_checkpoint(struct kheal_genl *g, uint64_t instance,
				     uint64_t id, struct kheal_checkpoint *cp,
				     struct kheal_err *err)
{
	(void)g;
	logf_(fk.calls, sizeof(fk.calls), "checkpoint(%llu:%llu) ",
	      (unsigned long long)instance, (unsigned long long)id);
	if (!fk.loaded)
		return kheal_err_set(err, ENOENT, "no such family");
	if (instance && instance != fk.instance)
		return kheal_err_set(err, ENOENT,
				     "checkpoint %llu: INSTANCE names another load",
				     (unsigned long long)id);
	if (id > fk.cp_last || id + 4 <= fk.cp_last)
		return kheal_err_set(err, ENOENT,
				     "checkpoint %llu: the checkpoint has left the ring",
				     (unsigned long long)id);
	memset(cp, 0, sizeof(*cp));
	cp->id = id;
	cp->instance = fk.instance;
	snprintf(cp->text, sizeof(cp->text), "checkpoint %llu\nstack:\n  f+0x1\n",
		 (unsigned long long)id);
	return 0;
}

int __wrap_kheal_genl_listen_open(struct nl_sock **skp, struct kheal_err *err)
{
	(void)err;
	*skp = NULL;
	return 0;
}

int __wrap_kheal_genl_listen_join(struct nl_sock *sk, int group,
				  struct kheal_err *err)
{
	(void)sk;
	(void)err;
	assert_int_equal(group, GROUP);
	logf_(fk.calls, sizeof(fk.calls), "join ");
	return 0;
}

int __wrap_kheal_genl_listen_fd(struct nl_sock *sk)
{
	(void)sk;
	return 42;
}

static unsigned int roll(void)
{
	fk.rng = fk.rng * 1103515245 + 12345;
	return (fk.rng >> 16) % 100;
}

/*
 * A burst as the socket sees it: 3% of the multicasts are lost to a
 * full receive buffer (ENOBUFS follows), 1% vanish without a trace.
 */
static ssize_t live_recv(void *buf, size_t len)
{
	unsigned int r;

	while (fk.head < fk.live_to) {
		if (fk.overflowed) {
			fk.overflowed = false;
			return -ENOBUFS;
		}
		fk.head++;
		r = roll();
		if (r < 3)
			fk.overflowed = true;
		else if (r != 99)
			return build_event(buf, len, fk.instance, fk.head);
	}
	return 0;
}

ssize_t __wrap_kheal_genl_listen_recv(struct nl_sock *sk, void *buf,
				      size_t len)
{
	int i;

	(void)sk;
	if (fk.live_to)
		return live_recv(buf, len);
	if (fk.qhead == fk.qlen)
		return 0;
	i = fk.qhead++;
	switch (fk.q[i].what) {
	case Q_ENOBUFS:
		return -ENOBUFS;
	case Q_NEWFAMILY:
		return build_family(buf, len, CTRL_CMD_NEWFAMILY);
	case Q_DELFAMILY:
		return build_family(buf, len, CTRL_CMD_DELFAMILY);
	default:
		return build_event(buf, len, fk.q[i].instance, fk.q[i].seq);
	}
}

void __wrap_kheal_genl_listen_close(struct nl_sock *sk)
{
	(void)sk;
}

/* What the source reports */

static int on_event(const struct kheal_event *ev, void *arg)
{
	(void)arg;
	if (out.seen) {
		out.seen[ev->seq]++;
		out.last = ev->seq;
		return 0;
	}
	logf_(out.trail, sizeof(out.trail), "%llu:%llu ",
	      (unsigned long long)ev->instance, (unsigned long long)ev->seq);
	return 0;
}

static int on_gap(const struct kheal_gap *gap, void *arg)
{
	(void)arg;
	logf_(out.trail, sizeof(out.trail), "gap%llu:%llu-%llu%s ",
	      (unsigned long long)gap->instance,
	      (unsigned long long)gap->first, (unsigned long long)gap->last,
	      gap->reason == KHEAL_GAP_MALFORMED ? "/malformed" : "");
	return 0;
}

static void on_note(const char *msg, void *arg)
{
	(void)arg;
	logf_(out.notes, sizeof(out.notes), "%s\n", msg);
}

static int setup(void **state)
{
	(void)state;
	memset(&fk, 0, sizeof(fk));
	memset(&out, 0, sizeof(out));
	src = (struct kheal_source){
		.ops = &kheal_source_kmod_ops,
		.cb = {
			.event = on_event,
			.gap = on_gap,
			.note = on_note,
		},
	};
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	src.ops->close(&src);
	return 0;
}

static void open_src(void)
{
	struct kheal_err err = { "" };

	assert_int_equal(src.ops->open(&src, &err), 0);
	assert_int_equal(src.ops->fd(&src), 42);
}

static int handle(void)
{
	struct kheal_err err = { "" };

	return src.ops->handle(&src, &err);
}

static int tick(void)
{
	struct kheal_err err = { "" };

	return src.ops->tick(&src, &err);
}

/* Opened to instance 1 with events 1..@head delivered. */
static void open_at(uint64_t head)
{
	load(1, head);
	open_src();
	out.trail[0] = '\0';
	fk.calls[0] = '\0';
	memset(&src.stats, 0, sizeof(src.stats));
}

/* The tests */

/*
 * At start the source joins the events group before it asks for the
 * backlog, so nothing can slip between the two.
 */
static void test_start_joins_group_before_backfilling(void **state)
{
	(void)state;
	load(1, 3);
	open_src();
	assert_string_equal(fk.calls, "resolve join status dump(0) ");
	assert_string_equal(out.trail, "1:1 1:2 1:3 ");
	assert_int_equal(src.stats.backfilled, 3);
}

/*
 * Restarted on the same module instance, it reads on from the seq its
 * journal ended at: nothing twice.
 */
static void test_resume_same_instance_backfills_after_journal_seq(
	void **state)
{
	(void)state;
	load(1, 8);
	kheal_seq_begin(&src.resume, 1, 5);
	open_src();
	assert_non_null(strstr(fk.calls, "dump(5)"));
	assert_string_equal(out.trail, "1:6 1:7 1:8 ");
}

/*
 * Restarted on another module instance, it reads that instance's
 * whole backlog, and says why.
 */
static void test_new_instance_reads_whole_backlog(void **state)
{
	(void)state;
	load(2, 3);
	kheal_seq_begin(&src.resume, 1, 5);
	open_src();
	assert_non_null(strstr(fk.calls, "dump(0)"));
	assert_string_equal(out.trail, "2:1 2:2 2:3 ");
	assert_non_null(strstr(out.notes, "is not the journal's 1"));
}

/* The module keeps its own hung_ms unless kheald was given one. */
static void test_module_hung_ms_left_alone_unless_given(void **state)
{
	(void)state;
	src.cfg.hung_ms = 10000;
	load(1, 0);
	open_src();
	assert_null(strstr(fk.calls, "set("));
}

/*
 * A hung_ms given on the command line is set on the module once per
 * instance, on attach: again after a reload, not again at every tick.
 */
static void test_module_hung_ms_set_when_given_once_per_instance(
	void **state)
{
	(void)state;
	src.cfg = (struct kheal_source_config){
		.hung_ms = 500,
		.hung_ms_set = true,
	};
	load(1, 0);
	open_src();
	assert_string_equal(fk.calls, "resolve join status set(500) dump(0) ");
	assert_non_null(strstr(out.notes, "module hung_ms set to 500"));
	fk.calls[0] = '\0';
	assert_int_equal(tick(), 0);
	assert_int_equal(tick(), 0);
	assert_null(strstr(fk.calls, "set("));
	load(2, 0);
	mcast(Q_NEWFAMILY, 0, 0);
	assert_int_equal(handle(), 0);
	assert_non_null(strstr(fk.calls, "set(500)"));
}

/* A module refusing the threshold is told, and events still flow. */
static void test_module_refusing_hung_ms_is_noted_not_fatal(void **state)
{
	(void)state;
	src.cfg = (struct kheal_source_config){
		.hung_ms = 50,
		.hung_ms_set = true,
	};
	fk.set_err = -ERANGE;
	load(1, 2);
	open_src();
	assert_non_null(strstr(out.notes,
			       "setting the module's hung_ms to 50: "));
	assert_string_equal(out.trail, "1:1 1:2 ");
}

/*
 * Multicast copies of events already backfilled are dropped and
 * counted; the next new one is delivered.
 */
static void test_multicast_copies_of_backfilled_events_dropped(void **state)
{
	(void)state;
	open_at(3);
	fk.head = 4;
	mcast(Q_EVENT, 1, 2);
	mcast(Q_EVENT, 1, 3);
	mcast(Q_EVENT, 1, 4);
	assert_int_equal(handle(), 0);
	assert_string_equal(out.trail, "1:4 ");
	assert_int_equal(src.stats.duplicates, 2);
	assert_int_equal(src.stats.received, 1);
}

/*
 * ENOBUFS means multicasts were lost: the backlog fills them in, in
 * order, and the late multicast copies are dropped.
 */
static void test_enobufs_backfills_missing_events(void **state)
{
	(void)state;
	open_at(3);
	fk.head = 8;
	mcast(Q_ENOBUFS, 0, 0);
	mcast(Q_EVENT, 1, 7);
	mcast(Q_EVENT, 1, 8);
	assert_int_equal(handle(), 0);
	assert_string_equal(out.trail, "1:4 1:5 1:6 1:7 1:8 ");
	assert_string_equal(fk.calls, "dump(3) ");
	assert_int_equal(src.stats.enobufs, 1);
	assert_int_equal(src.stats.backfilled, 5);
	assert_int_equal(src.stats.duplicates, 2);
	assert_int_equal(src.stats.lost, 0);
}

/*
 * A gap seen on multicast is filled from the backlog before the event
 * that showed it: delivery stays in order.
 */
static void test_multicast_gap_backfilled_in_order(void **state)
{
	(void)state;
	open_at(3);
	fk.head = 6;
	mcast(Q_EVENT, 1, 4);
	mcast(Q_EVENT, 1, 6);
	assert_int_equal(handle(), 0);
	assert_string_equal(out.trail, "1:4 1:5 1:6 ");
	assert_string_equal(fk.calls, "dump(4) ");
	assert_int_equal(src.stats.received, 1);
	assert_int_equal(src.stats.backfilled, 2);
	assert_int_equal(src.stats.lost, 0);
}

/*
 * Events the backlog overwrote before they were read are a proven
 * loss, recorded as a gap in its place.
 */
static void test_overwritten_events_recorded_as_gap(void **state)
{
	(void)state;
	load(1, 8);
	fk.oldest = 6;
	kheal_seq_begin(&src.resume, 1, 2);
	open_src();
	assert_string_equal(out.trail, "gap1:3-5 1:6 1:7 1:8 ");
	assert_int_equal(src.stats.lost, 3);
}

/*
 * An event in hand is not lost when the backlog has overwritten it
 * too: it goes in between the gaps around it.
 */
static void test_held_event_survives_backlog_overwriting_it(void **state)
{
	(void)state;
	open_at(5);
	fk.head = 14;
	fk.oldest = 12;
	mcast(Q_EVENT, 1, 10);
	assert_int_equal(handle(), 0);
	assert_string_equal(out.trail,
			    "gap1:6-9 1:10 gap1:11-11 1:12 1:13 1:14 ");
	assert_int_equal(src.stats.lost, 5);
	assert_int_equal(src.stats.received, 1);
	assert_int_equal(src.stats.backfilled, 3);
}

/*
 * Without the module the source waits, says so once, and attaches
 * when nlctrl announces the family.
 */
static void test_module_absent_at_start_waits_for_newfamily(void **state)
{
	(void)state;
	open_src();
	assert_non_null(strstr(out.notes, "waiting for it to load"));
	assert_int_equal(tick(), 0);
	assert_int_equal(handle(), 0);
	assert_string_equal(out.trail, "");
	assert_null(strchr(strchr(out.notes, '\n') + 1, '\n'));

	load(7, 2);
	mcast(Q_NEWFAMILY, 0, 0);
	assert_int_equal(handle(), 0);
	assert_string_equal(out.trail, "7:1 7:2 ");
}

/*
 * Unloaded and loaded again, the module has a new instance, which is
 * read from its first event.
 */
static void test_module_reload_tracks_new_instance_from_start(void **state)
{
	(void)state;
	open_at(3);
	mcast(Q_DELFAMILY, 0, 0);
	assert_int_equal(handle(), 0);
	assert_non_null(strstr(out.notes, "module unloaded at seq 3"));
	load(2, 2);
	mcast(Q_NEWFAMILY, 0, 0);
	mcast(Q_EVENT, 2, 2);
	assert_int_equal(handle(), 0);
	assert_string_equal(out.trail, "2:1 2:2 ");
	assert_int_equal(src.stats.duplicates, 1);
}

/*
 * If the announcements were lost, an event of the new instance is
 * enough to switch to it.
 */
static void test_event_of_new_instance_switches_over(void **state)
{
	(void)state;
	open_at(3);
	load(2, 4);
	mcast(Q_EVENT, 2, 4);
	assert_int_equal(handle(), 0);
	assert_string_equal(out.trail, "2:1 2:2 2:3 2:4 ");
	assert_non_null(strstr(out.notes, "instance 2 replaces 1"));
}

/*
 * Events of an instance no longer loaded are dropped as stale, with
 * one status query, not one per event.
 */
static void test_event_of_unloaded_instance_dropped_as_stale(void **state)
{
	(void)state;
	open_at(1);
	fk.nstatus = 0;
	mcast(Q_EVENT, 9, 5);
	mcast(Q_EVENT, 9, 6);
	assert_int_equal(handle(), 0);
	assert_string_equal(out.trail, "");
	assert_int_equal(src.stats.stale, 2);
	assert_int_equal(fk.nstatus, 1);
}

/*
 * A tail lost with no later event to show it is found by the tick:
 * events more than a tick behind HEAD_SEQ are backfilled.
 */
static void test_tick_backfills_tail_that_never_arrived(void **state)
{
	(void)state;
	open_at(3);
	fk.head = 5;
	assert_int_equal(tick(), 0);
	assert_string_equal(out.trail, "");
	assert_int_equal(tick(), 0);
	assert_string_equal(out.trail, "1:4 1:5 ");
}

/*
 * A malformed event is recorded as a gap of one, with the reason, and
 * the stream goes on.
 */
static void test_malformed_event_recorded_as_gap_of_one(void **state)
{
	(void)state;
	open_at(3);
	fk.head = 6;
	fk.bad_seq = 5;
	mcast(Q_EVENT, 1, 4);
	mcast(Q_EVENT, 1, 5);
	mcast(Q_EVENT, 1, 6);
	assert_int_equal(handle(), 0);
	assert_string_equal(out.trail, "1:4 gap1:5-5/malformed 1:6 ");
	assert_non_null(strstr(out.notes, "event 5 of instance 1 is malformed"));
	assert_non_null(strstr(out.notes, "COMM"));
	assert_int_equal(src.stats.lost, 1);
}

/*
 * A failed backfill reports the error and keeps the position; the
 * tick retries and nothing is lost.
 */
static void test_failed_backfill_keeps_position_for_retry(void **state)
{
	struct kheal_err err = { "" };

	(void)state;
	open_at(3);
	fk.head = 6;
	fk.dump_err = -EINTR;
	mcast(Q_EVENT, 1, 6);
	assert_int_equal(src.ops->handle(&src, &err), -EINTR);
	assert_non_null(strstr(err.msg, "reading the backlog after seq 3"));
	assert_string_equal(out.trail, "");
	assert_int_equal(tick(), 0);
	assert_int_equal(tick(), 0);
	assert_string_equal(out.trail, "1:4 1:5 1:6 ");
	assert_int_equal(src.stats.lost, 0);
}

/*
 * The tick notices a module gone without an announcement, and one
 * that came back.
 */
static void test_tick_notices_module_gone_and_back(void **state)
{
	(void)state;
	open_at(2);
	fk.loaded = false;
	assert_int_equal(tick(), 0);
	assert_non_null(strstr(out.notes, "module gone at seq 2"));
	load(3, 1);
	assert_int_equal(tick(), 0);
	assert_string_equal(out.trail, "3:1 ");
}

static void run_live_until(uint64_t seq)
{
	fk.live_to = seq;
	while (fk.head < seq)
		assert_int_equal(handle(), 0);
}

/*
 * The VM test in small: a burst with multicasts lost, kheald killed in
 * the middle with its last batch unwritten, events going on while it is
 * down, then restarted from its journal. Every seq is journalled exactly
 * once.
 */
static void test_burst_and_kill_journal_each_seq_exactly_once(void **state)
{
	enum { N = 20000, UNWRITTEN = 150, WHILE_DOWN = 3000 };
	uint64_t seq, journalled;

	(void)state;
	out.seen = calloc(N + 1, 1);
	assert_non_null(out.seen);
	fk.rng = 7;
	load(1, 0);
	open_src();
	run_live_until(N / 2);
	assert_true(src.stats.enobufs > 0);

	/* SIGKILL: the last batch never reached the journal. */
	journalled = out.last - UNWRITTEN;
	for (seq = journalled + 1; seq <= out.last; seq++)
		out.seen[seq]--;
	src.ops->close(&src);
	fk.head += WHILE_DOWN;

	kheal_seq_begin(&src.resume, 1, journalled);
	open_src();
	run_live_until(N);
	assert_int_equal(tick(), 0);
	assert_int_equal(tick(), 0);

	for (seq = 1; seq <= N; seq++)
		if (out.seen[seq] != 1)
			fail_msg("seq %llu journalled %u times",
				 (unsigned long long)seq, out.seen[seq]);
	assert_int_equal(src.stats.lost, 0);
	free(out.seen);
	out.seen = NULL;
}

static struct kheal_event checkpointed(enum kheal_source_id source,
				       uint64_t instance, uint64_t id)
{
	struct kheal_event ev = { .source = source, .instance = instance };

	if (id) {
		ev.checkpoint_id = id;
		ev.present |= 1ULL << KHEAL_A_CHECKPOINT_ID;
	}
	return ev;
}

/*
 * An incident's checkpoint comes from the module that took it: asked for
 * by the event's id, of the event's instance.
 */
static void test_checkpoint_text_fetched_by_event_instance_and_id(void **state)
{
	struct kheal_event ev = checkpointed(KHEAL_SOURCE_KMOD, 0x42, 6);
	struct kheal_err err = { "" };
	char *text;

	(void)state;
	load(0x42, 10);
	fk.cp_last = 7;
	assert_int_equal(kheal_kmod_checkpoint(&ev, &text, &err), 0);
	assert_string_equal(fk.calls, "checkpoint(66:6) ");
	assert_non_null(text);
	assert_string_equal(text, "checkpoint 6\nstack:\n  f+0x1\n");
	free(text);
}

/*
 * A checkpoint gone from the ring, or of a module load that has been
 * replaced, is an error that says so, and no text.
 */
static void test_checkpoint_gone_or_of_other_load_reported(void **state)
{
	struct kheal_event ev = checkpointed(KHEAL_SOURCE_KMOD, 0x42, 2);
	struct kheal_err err = { "" };
	char *text;

	(void)state;
	load(0x42, 10);
	fk.cp_last = 9;
	assert_int_equal(kheal_kmod_checkpoint(&ev, &text, &err), -ENOENT);
	assert_null(text);
	assert_string_equal(err.msg,
			    "checkpoint 2: the checkpoint has left the ring");

	load(0x43, 10);
	ev.checkpoint_id = 9;
	assert_int_equal(kheal_kmod_checkpoint(&ev, &text, &err), -ENOENT);
	assert_null(text);
	assert_string_equal(err.msg,
			    "checkpoint 9: INSTANCE names another load");
}

/* Events that name no checkpoint of the module ask the module nothing. */
static void test_no_checkpoint_asked_for_bpf_or_unnamed(void **state)
{
	struct kheal_event bpf = checkpointed(KHEAL_SOURCE_BPF, 0x42, 3);
	struct kheal_event none = checkpointed(KHEAL_SOURCE_KMOD, 0x42, 0);
	struct kheal_err err = { "" };
	char *text = (char *)"unset";

	(void)state;
	load(0x42, 10);
	fk.cp_last = 3;
	assert_int_equal(kheal_kmod_checkpoint(&bpf, &text, &err), 0);
	assert_null(text);
	text = (char *)"unset";
	assert_int_equal(kheal_kmod_checkpoint(&none, &text, &err), 0);
	assert_null(text);
	assert_string_equal(fk.calls, "");
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_start_joins_group_before_backfilling),
		T(test_resume_same_instance_backfills_after_journal_seq),
		T(test_new_instance_reads_whole_backlog),
		T(test_module_hung_ms_left_alone_unless_given),
		T(test_module_hung_ms_set_when_given_once_per_instance),
		T(test_module_refusing_hung_ms_is_noted_not_fatal),
		T(test_multicast_copies_of_backfilled_events_dropped),
		T(test_enobufs_backfills_missing_events),
		T(test_multicast_gap_backfilled_in_order),
		T(test_overwritten_events_recorded_as_gap),
		T(test_held_event_survives_backlog_overwriting_it),
		T(test_module_absent_at_start_waits_for_newfamily),
		T(test_module_reload_tracks_new_instance_from_start),
		T(test_event_of_new_instance_switches_over),
		T(test_event_of_unloaded_instance_dropped_as_stale),
		T(test_tick_backfills_tail_that_never_arrived),
		T(test_malformed_event_recorded_as_gap_of_one),
		T(test_failed_backfill_keeps_position_for_retry),
		T(test_tick_notices_module_gone_and_back),
		T(test_burst_and_kill_journal_each_seq_exactly_once),
		T(test_checkpoint_text_fetched_by_event_instance_and_id),
		T(test_checkpoint_gone_or_of_other_load_reported),
		T(test_no_checkpoint_asked_for_bpf_or_unnamed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

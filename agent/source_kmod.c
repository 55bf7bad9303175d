// SPDX-License-Identifier: GPL-2.0
/*
 * The kmod event source: kheal.ko's events over generic netlink.
 *
 * How it keeps "nothing lost, nothing twice":
 *  - Events are accepted strictly in seq order per module instance.
 *  - The listening socket joins the events group before any backfill, so
 *    every event is in the backfill or still queued on the socket; the
 *    queued copies of backfilled events are dropped as duplicates.
 *  - A gap on multicast, or ENOBUFS, backfills from the kernel's backlog
 *    (GET_EVENTS since the last accepted seq). The backlog answers in
 *    order, so what it no longer holds is proven lost: a Gap.
 *  - An event from another instance means the module was reloaded. The
 *    instance GET_STATUS reports is tracked from its first event; events
 *    of an instance no longer loaded are dropped as stale.
 *  - A failed request leaves the position as it was. Each tick compares
 *    HEAD_SEQ with it and backfills what is over a tick late, which also
 *    finds a tail lost with no later event to reveal it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/genetlink.h>
#include <netlink/msg.h>

#include "genl.h"
#include "source_kmod.h"

/* Datagrams per handle() call, so the main loop still sees signals. */
#define HANDLE_BATCH	64
#define RECV_BUF	(64 << 10)

struct kmod {
	struct kheal_source *src;
	struct kheal_genl g;			/* requests and dumps */
	struct nl_sock *listen;			/* multicast */
	bool attached;				/* family found, group joined */
	struct kheal_seq seq;
	const struct kheal_event *held;		/* waits on a backfill */
	bool dump_stale;			/* a dump met another one */
	bool stale_known;
	uint64_t stale_instance;		/* an instance gone for good */
	uint64_t tick_head;			/* HEAD_SEQ at the last tick */
	bool configured;			/* hung_ms set, on... */
	uint64_t configured_instance;		/* ...this instance */
	uint8_t buf[RECV_BUF];
};

static void __attribute__((format(printf, 2, 3)))
note(struct kmod *k, const char *fmt, ...)
{
	struct kheal_source_cb *cb = &k->src->cb;
	char msg[512];
	va_list ap;

	if (!cb->note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cb->note(msg, cb->arg);
}

static int lose(struct kmod *k, uint64_t first, uint64_t last,
		enum kheal_gap_reason reason)
{
	struct kheal_gap gap = {
		.source = KHEAL_SOURCE_KMOD,
		.instance = k->seq.instance,
		.first = first,
		.last = last,
		.reason = reason,
	};

	kheal_seq_advance(&k->seq, last);
	k->src->stats.lost += last - first + 1;
	return k->src->cb.gap(&gap, k->src->cb.arg);
}

/*
 * Takes @ev, of the tracked instance, in order: anything missing before
 * it is proven lost, so callers pass multicast events only once the
 * backlog has been read past them. @bad: why @ev failed to parse.
 */
static int accept_event(struct kmod *k, const struct kheal_event *ev,
			const char *bad, bool backfilled)
{
	uint64_t first, last;
	int ret;

	switch (kheal_seq_check(&k->seq, ev->instance, ev->seq, &first,
				&last)) {
	case KHEAL_SEQ_NEW_INSTANCE:
		return 0;
	case KHEAL_SEQ_DUPLICATE:
		k->src->stats.duplicates++;
		return 0;
	case KHEAL_SEQ_GAP:
		ret = lose(k, first, last, KHEAL_GAP_OVERRUN);
		if (ret)
			return ret;
		break;
	case KHEAL_SEQ_NEXT:
		break;
	}
	if (bad) {
		note(k, "event %" PRIu64 " of instance %" PRIu64
		     " is malformed and recorded as lost: %s", ev->seq,
		     ev->instance, bad);
		return lose(k, ev->seq, ev->seq, KHEAL_GAP_MALFORMED);
	}
	kheal_seq_advance(&k->seq, ev->seq);
	if (backfilled)
		k->src->stats.backfilled++;
	else
		k->src->stats.received++;
	return k->src->cb.event(ev, k->src->cb.arg);
}

/*
 * Parses an event message. Returns false if it cannot be placed (no
 * SEQ or INSTANCE); otherwise *bad is NULL or says what was wrong.
 */
static bool parse(struct kmod *k, struct nlmsghdr *nlh,
		  struct kheal_event *ev, struct kheal_err *perr,
		  const char **bad)
{
	perr->msg[0] = '\0';
	*bad = NULL;
	if (!kheal_genl_parse_event(nlh, ev, perr))
		return true;
	*bad = perr->msg;
	if (ev->seq && kheal_event_has(ev, KHEAL_A_SEQ) &&
	    kheal_event_has(ev, KHEAL_A_INSTANCE))
		return true;
	note(k, "dropped an event that names no seq and instance: %s",
	     perr->msg);
	return false;
}

static int dump_cb(struct nlmsghdr *nlh, void *arg)
{
	struct kmod *k = arg;
	struct kheal_event ev;
	struct kheal_err perr;
	const char *bad;
	int ret;

	if (!parse(k, nlh, &ev, &perr, &bad))
		return 0;
	if (ev.instance != k->seq.instance) {
		k->dump_stale = true;
		return 0;
	}
	/* A held event the backlog has already overwritten goes in here. */
	if (k->held && k->held->seq < ev.seq) {
		ret = accept_event(k, k->held, NULL, false);
		k->held = NULL;
		if (ret)
			return ret;
	}
	return accept_event(k, &ev, bad, true);
}

static int backfill(struct kmod *k, struct kheal_err *err)
{
	uint64_t since = k->seq.last;
	int ret;

	k->dump_stale = false;
	ret = kheal_genl_dump_events(&k->g, since, dump_cb, k, err);
	if (!ret && k->dump_stale)
		ret = kheal_err_set(err, ESTALE,
				    "the module was reloaded meanwhile");
	if (ret)
		return kheal_err_wrap(err, ret, "reading the backlog after seq %"
				      PRIu64, since);
	return 0;
}

/* --hung-ms, once per module instance; a refusal is told, not fatal. */
static void configure(struct kmod *k, uint64_t instance)
{
	const struct kheal_source_config *cfg = &k->src->cfg;
	struct kheal_err err = { "" };
	int ret;

	if (!cfg->hung_ms_set ||
	    (k->configured && k->configured_instance == instance))
		return;
	k->configured = true;
	k->configured_instance = instance;
	ret = kheal_genl_set_hung_ms(&k->g, cfg->hung_ms, &err);
	if (ret)
		note(k, "setting the module's hung_ms to %" PRIu32 ": %s",
		     cfg->hung_ms, kheal_err_str(&err, ret));
	else
		note(k, "module hung_ms set to %" PRIu32 " (--hung-ms)",
		     cfg->hung_ms);
}

/* Finds the module, joins its group, then backfills: in that order. */
static int attach(struct kmod *k, struct kheal_err *err)
{
	struct kheal_seq *resume = &k->src->resume;
	struct kheal_status st;
	int ret;

	ret = kheal_genl_resolve(&k->g, err);
	if (!ret)
		ret = kheal_genl_listen_join(k->listen, k->g.events_group, err);
	if (!ret)
		ret = kheal_genl_status(&k->g, &st, err);
	if (ret)
		return ret;
	if (!k->seq.known && resume->known && resume->instance == st.instance) {
		k->seq = *resume;
	} else if (!k->seq.known || k->seq.instance != st.instance) {
		if (k->seq.known)
			note(k, "module reloaded: instance %" PRIu64
			     " replaces %" PRIu64 " (last seq %" PRIu64 ")",
			     st.instance, k->seq.instance, k->seq.last);
		else if (resume->known)
			note(k, "module instance %" PRIu64
			     " is not the journal's %" PRIu64
			     ": reading its backlog from the start",
			     st.instance, resume->instance);
		kheal_seq_begin(&k->seq, st.instance, 0);
	}
	if (!k->attached)
		note(k, "kheal %s, instance %" PRIu64 ", head seq %" PRIu64
		     ": reading after seq %" PRIu64, st.version, st.instance,
		     st.head_seq, k->seq.last);
	k->attached = true;
	k->tick_head = 0;
	configure(k, st.instance);
	return backfill(k, err);
}

static int other_instance(struct kmod *k, const struct kheal_event *ev,
			  const char *bad, struct kheal_err *err)
{
	int ret;

	if (!k->stale_known || ev->instance != k->stale_instance) {
		ret = attach(k, err);
		if (ret)
			return ret;
		if (ev->instance == k->seq.instance)
			return accept_event(k, ev, bad, false);
		k->stale_known = true;
		k->stale_instance = ev->instance;
	}
	k->src->stats.stale++;
	return 0;
}

static int on_event(struct kmod *k, struct nlmsghdr *nlh,
		    struct kheal_err *err)
{
	struct kheal_event ev;
	struct kheal_err perr;
	uint64_t first, last;
	const char *bad;
	int ret;

	if (!parse(k, nlh, &ev, &perr, &bad))
		return 0;
	switch (kheal_seq_check(&k->seq, ev.instance, ev.seq, &first, &last)) {
	case KHEAL_SEQ_NEW_INSTANCE:
		return other_instance(k, &ev, bad, err);
	case KHEAL_SEQ_GAP:
		/*
		 * The backlog fills the gap. @ev is held so that it goes in
		 * its place even if the backlog no longer has it; what the
		 * backfill did not take goes in after it. A malformed @ev
		 * is not held: the backlog has the same bytes.
		 */
		k->held = bad ? NULL : &ev;
		ret = backfill(k, err);
		if (!ret && (k->held || bad))
			ret = accept_event(k, &ev, bad, false);
		k->held = NULL;
		return ret;
	default:
		return accept_event(k, &ev, bad, false);
	}
}

static int on_message(struct kmod *k, struct nlmsghdr *nlh,
		      struct kheal_err *err)
{
	switch (kheal_genl_family_notify(nlh, KHEAL_GENL_NAME)) {
	case CTRL_CMD_NEWFAMILY:
		return attach(k, err);
	case CTRL_CMD_DELFAMILY:
		if (k->attached)
			note(k, "module unloaded at seq %" PRIu64
			     " of instance %" PRIu64 "; waiting for it",
			     k->seq.last, k->seq.instance);
		k->attached = false;
		return 0;
	}
	if (k->attached && nlh->nlmsg_type == k->g.family)
		return on_event(k, nlh, err);
	return 0;
}

static int kmod_handle(struct kheal_source *src, struct kheal_err *err)
{
	struct kmod *k = src->priv;
	struct nlmsghdr *nlh;
	ssize_t n;
	int i, len, ret;

	for (i = 0; i < HANDLE_BATCH; i++) {
		n = kheal_genl_listen_recv(k->listen, k->buf, sizeof(k->buf));
		if (n == 0)
			return 0;
		if (n == -ENOBUFS) {
			/* Multicasts were lost; the backlog still has them. */
			src->stats.enobufs++;
			ret = k->attached ? backfill(k, err) : 0;
			if (ret)
				return ret;
			continue;
		}
		if (n < 0)
			return kheal_err_set(err, -n, "receiving events: %s",
					     strerror(-n));
		len = n;
		for (nlh = (struct nlmsghdr *)k->buf; nlmsg_ok(nlh, len);
		     nlh = nlmsg_next(nlh, &len)) {
			ret = on_message(k, nlh, err);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int kmod_tick(struct kheal_source *src, struct kheal_err *err)
{
	struct kmod *k = src->priv;
	struct kheal_status st;
	uint64_t late;
	int ret;

	if (!k->attached) {
		ret = attach(k, err);
		return ret == -ENOENT ? 0 : ret;
	}
	ret = kheal_genl_status(&k->g, &st, err);
	if (ret == -ENOENT) {
		note(k, "module gone at seq %" PRIu64 " of instance %" PRIu64
		     "; waiting for it", k->seq.last, k->seq.instance);
		k->attached = false;
		return 0;
	}
	if (ret)
		return ret;
	if (st.instance != k->seq.instance)
		return attach(k, err);
	late = k->tick_head;
	k->tick_head = st.head_seq;
	return k->seq.last < late ? backfill(k, err) : 0;
}

static void kmod_state(struct kheal_source *src, struct kheal_source_state *st)
{
	struct kmod *k = src->priv;

	*st = (struct kheal_source_state){
		.attached = k->attached,
		.instance = k->seq.instance,
		.last_seq = k->seq.last,
	};
}

static void kmod_close(struct kheal_source *src)
{
	struct kmod *k = src->priv;

	if (!k)
		return;
	if (k->listen)
		kheal_genl_listen_close(k->listen);
	kheal_genl_close(&k->g);
	free(k);
	src->priv = NULL;
}

static int kmod_open(struct kheal_source *src, struct kheal_err *err)
{
	struct kmod *k;
	int ret;

	k = calloc(1, sizeof(*k));
	if (!k)
		return kheal_err_set(err, ENOMEM, "allocating the kmod source");
	k->src = src;
	src->priv = k;
	ret = kheal_genl_open(&k->g, err);
	if (!ret)
		ret = kheal_genl_listen_open(&k->listen, err);
	if (!ret)
		ret = attach(k, err);
	if (ret == -ENOENT) {
		note(k, "%s; waiting for it to load", kheal_err_str(err, ret));
		return 0;
	}
	if (ret)
		kmod_close(src);
	return ret;
}

static int kmod_fd(struct kheal_source *src)
{
	struct kmod *k = src->priv;

	return kheal_genl_listen_fd(k->listen);
}

const struct kheal_source_ops kheal_source_kmod_ops = {
	.name	= "kmod",
	.id	= KHEAL_SOURCE_KMOD,
	.open	= kmod_open,
	.fd	= kmod_fd,
	.handle	= kmod_handle,
	.tick	= kmod_tick,
	.state	= kmod_state,
	.close	= kmod_close,
};

int kheal_kmod_checkpoint(const struct kheal_event *ev, char **text,
			  struct kheal_err *err)
{
	struct kheal_checkpoint *cp;
	struct kheal_genl g;
	int ret;

	*text = NULL;
	if (ev->source != KHEAL_SOURCE_KMOD ||
	    !kheal_event_has(ev, KHEAL_A_CHECKPOINT_ID))
		return 0;
	cp = malloc(sizeof(*cp));
	if (!cp)
		return kheal_err_set(err, ENOMEM, "checkpoint %" PRIu64,
				     ev->checkpoint_id);
	ret = kheal_genl_open(&g, err);
	if (!ret) {
		ret = kheal_genl_get_checkpoint(&g, ev->instance,
						ev->checkpoint_id, cp, err);
		kheal_genl_close(&g);
	}
	if (!ret) {
		*text = strdup(cp->text);
		if (!*text)
			ret = kheal_err_set(err, ENOMEM, "checkpoint %" PRIu64,
					    ev->checkpoint_id);
	}
	free(cp);
	return ret;
}

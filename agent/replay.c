// SPDX-License-Identifier: GPL-2.0
/*
 * kheald --replay JOURNAL --dry-run: a recorded journal's events through
 * the brain again, printing the records it would journal instead of
 * acting. What the live run learnt from outside the events comes from the
 * journal too: each incident's context as recorded, and the humans'
 * answers (approvals, denials, forced heals) at the times they came.
 * Actions and checks are not run; each is assumed to succeed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brain.h"
#include "journal.h"
#include "pbjson.h"
#include "record.h"
#include "replay.h"

struct recorded_context {
	Kheal__Source source;
	uint64_t instance;
	uint64_t seq;
	Kheal__Context *ctx;		/* owned by the record list */
};

struct replay {
	FILE *out;
	uint64_t now;
	Kheal__Record **recs;		/* the whole journal */
	size_t nrecs;
	struct recorded_context *ctxs;
	size_t nctxs;
	uint64_t printed;
};

static int print_record(void *arg, const Kheal__Record *rec,
			struct kheal_err *err)
{
	static char line[65536];
	const ProtobufCFieldDescriptor *f;
	const ProtobufCMessage *body;
	struct replay *r = arg;
	struct kheal_json j;

	f = protobuf_c_message_descriptor_get_field(&kheal__record__descriptor,
						    rec->body_case);
	if (!f)
		return kheal_err_set(err, EINVAL, "record without a body");
	body = *(const ProtobufCMessage *const *)((const char *)rec +
						  f->offset);
	kheal_json_init(&j, line, sizeof(line));
	kheal_json_raw(&j, "%s", f->name);
	/* The context is the live run's, replayed as recorded. */
	kheal_pbjson_text(&j, body, "context");
	if (kheal_json_finish(&j) < 0)
		return kheal_err_set(err, ENOSPC, "a %s record too long to print",
				     f->name);
	fprintf(r->out, "%s\n", line);
	r->printed++;
	return 0;
}

static Kheal__Context *copy(const Kheal__Context *c)
{
	size_t len = kheal__context__get_packed_size(c);
	uint8_t *buf = malloc(len ? len : 1);
	Kheal__Context *dup;

	if (!buf)
		return NULL;
	kheal__context__pack(c, buf);
	dup = kheal__context__unpack(NULL, len, buf);
	free(buf);
	return dup;
}

static Kheal__Context *recorded(void *arg, const struct kheal_event *ev)
{
	struct replay *r = arg;
	Kheal__Context *c;
	size_t i;

	for (i = 0; i < r->nctxs; i++) {
		if ((enum kheal_source_id)r->ctxs[i].source != ev->source ||
		    r->ctxs[i].instance != ev->instance ||
		    r->ctxs[i].seq != ev->seq)
			continue;
		c = copy(r->ctxs[i].ctx);
		if (!c)
			return NULL;
		/* The brain works out the related events again. */
		for (i = 0; i < c->n_related; i++)
			kheal__event_ref__free_unpacked(c->related[i], NULL);
		free(c->related);
		c->related = NULL;
		c->n_related = 0;
		return c;
	}
	return NULL;
}

static uint64_t replay_now(void *arg)
{
	return ((struct replay *)arg)->now;
}

static void note(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "kheald: replay: %s\n", msg);
}

static const struct kheal_brain_ops replay_ops = {
	.journal = print_record,
	.context = recorded,
	.now = replay_now,
	.note = note,
};

static int load(struct replay *r, const char *path, struct kheal_err *err)
{
	struct kheal_journal_iter it;
	Kheal__Record *rec, **v;
	Kheal__Incident *inc;
	struct recorded_context *c;
	size_t cap = 0;
	int ret;

	ret = kheal_journal_iter_open(&it, path, err);
	if (ret)
		return ret;
	while ((ret = kheal_journal_iter_next(&it, &rec, err)) == 1) {
		if (r->nrecs == cap) {
			cap = cap ? 2 * cap : 1024;
			v = realloc(r->recs, cap * sizeof(*v));
			if (!v) {
				kheal__record__free_unpacked(rec, NULL);
				ret = kheal_err_set(err, ENOMEM, "replay");
				break;
			}
			r->recs = v;
		}
		r->recs[r->nrecs++] = rec;
		inc = rec->body_case == KHEAL__RECORD__BODY_INCIDENT ?
		      rec->incident : NULL;
		if (!inc || !inc->context || !inc->trigger)
			continue;
		c = realloc(r->ctxs, (r->nctxs + 1) * sizeof(*c));
		if (!c) {
			ret = kheal_err_set(err, ENOMEM, "replay");
			break;
		}
		r->ctxs = c;
		r->ctxs[r->nctxs++] = (struct recorded_context){
			.source = inc->trigger->source,
			.instance = inc->trigger->instance,
			.seq = inc->trigger->seq,
			.ctx = inc->context,
		};
	}
	if (!ret && it.tail)
		fprintf(stderr,
			"kheald: replay: %s ends in a torn record of %" PRIu64
			" bytes; replaying the %" PRIu64 " whole ones\n",
			path, it.tail, it.records);
	kheal_journal_iter_close(&it);
	return ret;
}

/*
 * A heal approves what waits on its incident before it runs: the forced
 * decision that follows, naming the approval, is what gets fed.
 */
static bool answered_by_heal(const struct replay *r, size_t at, uint64_t id)
{
	const Kheal__Record *rec;
	size_t i;

	for (i = at + 1; i < r->nrecs; i++) {
		rec = r->recs[i];
		if (rec->body_case == KHEAL__RECORD__BODY_DECISION &&
		    rec->decision->has_approval &&
		    rec->decision->approval == id)
			return rec->decision->forced;
	}
	return false;
}

/* The humans' answers, fed at their recorded times. */
static int human(struct kheal_brain *b, struct replay *r, size_t at,
		 struct kheal_err *err)
{
	const Kheal__Record *rec = r->recs[at];
	const Kheal__Approval *a = rec->approval;
	const Kheal__Decision *d = rec->decision;
	uint64_t id;

	if (rec->body_case == KHEAL__RECORD__BODY_APPROVAL &&
	    (a->state == KHEAL__APPROVAL_STATE__APPROVAL_APPROVED ||
	     a->state == KHEAL__APPROVAL_STATE__APPROVAL_DENIED) &&
	    a->has_uid && !answered_by_heal(r, at, a->id)) {
		r->now = a->time_ns;
		return kheal_brain_decide(b, a->id,
					  a->state == KHEAL__APPROVAL_STATE__APPROVAL_APPROVED,
					  a->uid, a->time_ns, err);
	}
	if (rec->body_case == KHEAL__RECORD__BODY_DECISION && d->forced) {
		const struct kheal_incident *inc;

		inc = kheal_incident_find(&b->incidents, d->incident);
		if (!inc)
			return kheal_err_set(err, EINVAL,
					     "a forced heal of incident %" PRIu64 ", which the replay did not open: the decisions differ",
					     d->incident);
		r->now = d->time_ns;
		return kheal_brain_heal(b, inc->subsystem, 0, d->time_ns, &id,
					err);
	}
	return 0;
}

int kheal_replay(const char *path, const struct kheal_brain_cfg *cfg,
		 FILE *out, struct kheal_err *err)
{
	struct replay r = { .out = out };
	struct kheal_brain_cfg c = *cfg;
	struct kheal_brain b;
	struct kheal_event ev;
	uint64_t events = 0;
	size_t i;
	int ret;

	c.dry_run = true;
	c.drafts_dir = NULL;
	c.first_incident = c.first_approval = 0;
	ret = load(&r, path, err);
	if (!ret)
		ret = kheal_brain_init(&b, &c, &replay_ops, &r, err);
	if (ret)
		goto out;
	for (i = 0; i < r.nrecs && !ret; i++) {
		const Kheal__Record *rec = r.recs[i];

		if (rec->body_case != KHEAL__RECORD__BODY_EVENT) {
			ret = human(&b, &r, i, err);
			continue;
		}
		ret = kheal_record_to_event(rec->event, &ev, err);
		if (ret)
			break;
		events++;
		r.now = ev.time_ns;
		ret = kheal_brain_tick(&b, ev.time_ns, err);
		if (!ret)
			ret = kheal_brain_event(&b, &ev, err);
	}
	if (!ret)
		fprintf(out, "replay events=%" PRIu64 " incidents=%zu records=%" PRIu64 "\n",
			events, b.incidents.n, r.printed);
	kheal_brain_free(&b);
out:
	for (i = 0; i < r.nrecs; i++)
		kheal__record__free_unpacked(r.recs[i], NULL);
	free(r.recs);
	free(r.ctxs);
	return ret;
}

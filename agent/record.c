// SPDX-License-Identifier: GPL-2.0
/*
 * Journal records to and from the in-memory types. Event fields are
 * found in the protobuf schema by the names in the event field table, so
 * that table stays the one map from attributes to the journal.
 */
#include <errno.h>
#include <string.h>

#include "record.h"

_Static_assert((int)KHEAL_SOURCE_KMOD == KHEAL__SOURCE__SOURCE_KMOD &&
	       (int)KHEAL_SOURCE_BPF == KHEAL__SOURCE__SOURCE_BPF &&
	       (int)KHEAL_SOURCE_PSI == KHEAL__SOURCE__SOURCE_PSI &&
	       (int)KHEAL_SOURCE_KMSG == KHEAL__SOURCE__SOURCE_KMSG,
	       "enum kheal_source_id follows enum Source");
_Static_assert((int)KHEAL_GAP_OVERRUN == KHEAL__GAP__REASON__OVERRUN &&
	       (int)KHEAL_GAP_MALFORMED == KHEAL__GAP__REASON__MALFORMED &&
	       (int)KHEAL_GAP_RINGBUF == KHEAL__GAP__REASON__RINGBUF,
	       "enum kheal_gap_reason follows enum Gap.Reason");

const ProtobufCFieldDescriptor *
kheal_record_field(const struct kheal_event_field *f)
{
	static const ProtobufCType types[] = {
		[KHEAL_FIELD_U32] = PROTOBUF_C_TYPE_UINT32,
		[KHEAL_FIELD_U64] = PROTOBUF_C_TYPE_UINT64,
		[KHEAL_FIELD_STR] = PROTOBUF_C_TYPE_STRING,
		[KHEAL_FIELD_STRV] = PROTOBUF_C_TYPE_STRING,
	};
	ProtobufCLabel label = f->type == KHEAL_FIELD_STRV ?
			       PROTOBUF_C_LABEL_REPEATED :
			       PROTOBUF_C_LABEL_OPTIONAL;
	const ProtobufCFieldDescriptor *fd;

	fd = protobuf_c_message_descriptor_get_field_by_name(
		&kheal__event__descriptor, f->pb_name);
	if (!fd || fd->type != types[f->type] || fd->label != label)
		return NULL;
	return fd;
}

void kheal_record_event(Kheal__Record *rec, struct kheal_pb_event *pbe,
			const struct kheal_event *ev)
{
	const struct kheal_event_field *f;
	const ProtobufCFieldDescriptor *fd;
	Kheal__Event *pe = &pbe->pe;
	size_t i, n, used = 0;
	const char *src;
	char *dst;

	kheal__record__init(rec);
	kheal__event__init(pe);
	rec->body_case = KHEAL__RECORD__BODY_EVENT;
	rec->event = pe;
	pe->has_source = ev->source != KHEAL_SOURCE_UNSPEC;
	pe->source = (Kheal__Source)ev->source;
	for (f = kheal_event_fields; f < kheal_event_fields +
	     kheal_event_nfields; f++) {
		fd = kheal_record_field(f);
		if (!fd || !kheal_event_has(ev, f->attr))
			continue;
		src = (const char *)ev + f->offset;
		dst = (char *)pe + fd->offset;
		if (f->type == KHEAL_FIELD_STRV) {
			n = kheal_event_strv_count(ev, f);
			for (i = 0; i < n && i < f->max &&
			     used + i < KHEAL_STACK_DEPTH; i++)
				pbe->strv[used + i] =
					(char *)kheal_event_strv(ev, f, i);
			*(char ***)dst = pbe->strv + used;
			*(size_t *)((char *)pe + fd->quantifier_offset) = i;
			used += i;
			continue;
		}
		if (f->type == KHEAL_FIELD_STR) {
			*(const char **)dst = src;
			continue;
		}
		memcpy(dst, src, f->size);
		*(protobuf_c_boolean *)((char *)pe + fd->quantifier_offset) = 1;
	}
}

void kheal_record_gap(Kheal__Record *rec, Kheal__Gap *pg,
		      const struct kheal_gap *gap)
{
	kheal__record__init(rec);
	kheal__gap__init(pg);
	rec->body_case = KHEAL__RECORD__BODY_GAP;
	rec->gap = pg;
	pg->has_instance = pg->has_first_missing = pg->has_last_missing = 1;
	pg->has_reason = 1;
	pg->has_source = gap->source != KHEAL_SOURCE_UNSPEC;
	pg->instance = gap->instance;
	pg->first_missing = gap->first;
	pg->last_missing = gap->last;
	pg->reason = (Kheal__Gap__Reason)gap->reason;
	pg->source = (Kheal__Source)gap->source;
}

void kheal_record_merged(Kheal__Record *rec, Kheal__Merged *pm,
			 const struct kheal_merged *m)
{
	kheal__record__init(rec);
	kheal__merged__init(pm);
	rec->body_case = KHEAL__RECORD__BODY_MERGED;
	rec->merged = pm;
	pm->has_source = pm->has_instance = pm->has_seq = 1;
	pm->has_into_source = pm->has_into_instance = pm->has_into_seq = 1;
	pm->source = (Kheal__Source)m->event.source;
	pm->instance = m->event.instance;
	pm->seq = m->event.seq;
	pm->into_source = (Kheal__Source)m->into.source;
	pm->into_instance = m->into.instance;
	pm->into_seq = m->into.seq;
}

static int strv_to_event(const Kheal__Event *pe, struct kheal_event *ev,
			 const struct kheal_event_field *f,
			 const ProtobufCFieldDescriptor *fd,
			 struct kheal_err *err)
{
	size_t i, n = *(const size_t *)((const char *)pe +
					fd->quantifier_offset);
	char *const *v = *(char *const *const *)((const char *)pe +
						  fd->offset);

	if (n > f->max)
		return kheal_err_set(err, EBADMSG,
				     "event field %s: %zu entries, more than %zu",
				     f->name, n, f->max);
	for (i = 0; i < n; i++) {
		if (strlen(v[i]) >= f->size)
			return kheal_err_set(err, EBADMSG,
					     "event field %s, entry %zu: %zu bytes, more than %zu",
					     f->name, i, strlen(v[i]),
					     f->size - 1);
		kheal_event_strv_add(ev, f, v[i], strlen(v[i]));
	}
	return 0;
}

int kheal_record_to_event(const Kheal__Event *pe, struct kheal_event *ev,
			  struct kheal_err *err)
{
	const struct kheal_event_field *f;
	const ProtobufCFieldDescriptor *fd;
	const char *src;
	char *dst;
	int ret;

	memset(ev, 0, sizeof(*ev));
	ev->source = pe->has_source ? (enum kheal_source_id)pe->source :
		     KHEAL_SOURCE_UNSPEC;
	for (f = kheal_event_fields; f < kheal_event_fields +
	     kheal_event_nfields; f++) {
		fd = kheal_record_field(f);
		if (!fd)
			continue;
		src = (const char *)pe + fd->offset;
		dst = (char *)ev + f->offset;
		if (f->type == KHEAL_FIELD_STRV) {
			ret = strv_to_event(pe, ev, f, fd, err);
			if (ret)
				return ret;
			continue;
		}
		if (f->type == KHEAL_FIELD_STR) {
			src = *(const char *const *)src;
			if (!src)
				continue;
			if (strlen(src) >= f->size)
				return kheal_err_set(err, EBADMSG,
						     "event field %s: %zu bytes, more than %zu",
						     f->name, strlen(src),
						     f->size - 1);
			strcpy(dst, src);
		} else if (*(const protobuf_c_boolean *)((const char *)pe +
			   fd->quantifier_offset)) {
			memcpy(dst, src, f->size);
		} else {
			continue;
		}
		ev->present |= 1ULL << f->attr;
	}
	for (f = kheal_event_fields; f < kheal_event_fields +
	     kheal_event_nfields; f++)
		if (f->required && !kheal_event_has(ev, f->attr))
			return kheal_err_set(err, EBADMSG,
					     "event lacks field %s", f->name);
	return 0;
}

/* Gaps journalled before the BPF engine existed name no source. */
static enum kheal_source_id gap_source(const Kheal__Gap *pg)
{
	return pg->has_source ? (enum kheal_source_id)pg->source :
	       KHEAL_SOURCE_KMOD;
}

void kheal_record_to_gap(const Kheal__Gap *pg, struct kheal_gap *gap)
{
	*gap = (struct kheal_gap){
		.source = gap_source(pg),
		.instance = pg->instance,
		.first = pg->first_missing,
		.last = pg->last_missing,
		.reason = (enum kheal_gap_reason)pg->reason,
	};
}

void kheal_record_to_merged(const Kheal__Merged *pm, struct kheal_merged *m)
{
	*m = (struct kheal_merged){
		.event = {
			.source = (enum kheal_source_id)pm->source,
			.instance = pm->instance,
			.seq = pm->seq,
		},
		.into = {
			.source = (enum kheal_source_id)pm->into_source,
			.instance = pm->into_instance,
			.seq = pm->into_seq,
		},
	};
}

void kheal_record_resume(const Kheal__Record *rec,
			 enum kheal_source_id source, struct kheal_seq *resume)
{
	const Kheal__Merged *m = rec->merged;
	const Kheal__Event *e = rec->event;
	const Kheal__Gap *g = rec->gap;

	switch (rec->body_case) {
	case KHEAL__RECORD__BODY_EVENT:
		if (e->has_source && e->source == (Kheal__Source)source &&
		    e->has_seq && e->has_instance)
			kheal_seq_begin(resume, e->instance, e->seq);
		break;
	case KHEAL__RECORD__BODY_GAP:
		if (gap_source(g) == source && g->has_instance &&
		    g->has_last_missing)
			kheal_seq_begin(resume, g->instance, g->last_missing);
		break;
	case KHEAL__RECORD__BODY_MERGED:
		if (m->source == (Kheal__Source)source && m->has_instance &&
		    m->has_seq)
			kheal_seq_begin(resume, m->instance, m->seq);
		break;
	default:
		break;
	}
}

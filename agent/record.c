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
	       (int)KHEAL_SOURCE_BPF == KHEAL__SOURCE__SOURCE_BPF,
	       "enum kheal_source_id follows enum Source");
_Static_assert((int)KHEAL_GAP_OVERRUN == KHEAL__GAP__REASON__OVERRUN &&
	       (int)KHEAL_GAP_MALFORMED == KHEAL__GAP__REASON__MALFORMED,
	       "enum kheal_gap_reason follows enum Gap.Reason");

const ProtobufCFieldDescriptor *
kheal_record_field(const struct kheal_event_field *f)
{
	static const ProtobufCType types[] = {
		[KHEAL_FIELD_U32] = PROTOBUF_C_TYPE_UINT32,
		[KHEAL_FIELD_U64] = PROTOBUF_C_TYPE_UINT64,
		[KHEAL_FIELD_STR] = PROTOBUF_C_TYPE_STRING,
	};
	const ProtobufCFieldDescriptor *fd;

	fd = protobuf_c_message_descriptor_get_field_by_name(
		&kheal__event__descriptor, f->name);
	if (!fd || fd->type != types[f->type] ||
	    fd->label != PROTOBUF_C_LABEL_OPTIONAL)
		return NULL;
	return fd;
}

void kheal_record_event(Kheal__Record *rec, Kheal__Event *pe,
			const struct kheal_event *ev)
{
	const struct kheal_event_field *f;
	const ProtobufCFieldDescriptor *fd;
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
	pg->instance = gap->instance;
	pg->first_missing = gap->first;
	pg->last_missing = gap->last;
	pg->reason = (Kheal__Gap__Reason)gap->reason;
}

int kheal_record_to_event(const Kheal__Event *pe, struct kheal_event *ev,
			  struct kheal_err *err)
{
	const struct kheal_event_field *f;
	const ProtobufCFieldDescriptor *fd;
	const char *src;
	char *dst;

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

void kheal_record_to_gap(const Kheal__Gap *pg, struct kheal_gap *gap)
{
	*gap = (struct kheal_gap){
		.instance = pg->instance,
		.first = pg->first_missing,
		.last = pg->last_missing,
		.reason = (enum kheal_gap_reason)pg->reason,
	};
}

void kheal_record_resume(const Kheal__Record *rec, struct kheal_seq *resume)
{
	const Kheal__Event *e = rec->event;
	const Kheal__Gap *g = rec->gap;

	if (rec->body_case == KHEAL__RECORD__BODY_EVENT &&
	    e->source == KHEAL__SOURCE__SOURCE_KMOD && e->has_seq &&
	    e->has_instance)
		kheal_seq_begin(resume, e->instance, e->seq);
	else if (rec->body_case == KHEAL__RECORD__BODY_GAP &&
		 g->has_instance && g->has_last_missing)
		kheal_seq_begin(resume, g->instance, g->last_missing);
}

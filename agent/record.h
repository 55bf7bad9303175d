/* SPDX-License-Identifier: GPL-2.0 */
/* Journal records (proto/kheal.proto) to and from the in-memory types. */
#ifndef KHEAL_RECORD_H
#define KHEAL_RECORD_H

#include "err.h"
#include "event.h"
#include "kheal.pb-c.h"
#include "seq.h"

/* The protobuf field that carries @f, or NULL if the schema lacks it. */
const ProtobufCFieldDescriptor *
kheal_record_field(const struct kheal_event_field *f);

/* An Event body and the array its repeated strings point from. */
struct kheal_pb_event {
	Kheal__Event pe;
	char *strv[KHEAL_STACK_DEPTH];
};

/*
 * Fill @rec, with @pe, @pg or @pm as its body, from @ev, @gap or @m.
 * Strings point into @ev: the record is valid while @ev and @pe are.
 */
void kheal_record_event(Kheal__Record *rec, struct kheal_pb_event *pe,
			const struct kheal_event *ev);
void kheal_record_gap(Kheal__Record *rec, Kheal__Gap *pg,
		      const struct kheal_gap *gap);
void kheal_record_merged(Kheal__Record *rec, Kheal__Merged *pm,
			 const struct kheal_merged *m);

/* Back from a record read from a journal; -EBADMSG names a bad field. */
int kheal_record_to_event(const Kheal__Event *pe, struct kheal_event *ev,
			  struct kheal_err *err);
void kheal_record_to_gap(const Kheal__Gap *pg, struct kheal_gap *gap);
void kheal_record_to_merged(const Kheal__Merged *pm, struct kheal_merged *m);

/*
 * Moves @resume past what @rec covers of @source's numbering: its
 * events, gaps and merged events. Records of other sources leave it.
 */
void kheal_record_resume(const Kheal__Record *rec,
			 enum kheal_source_id source, struct kheal_seq *resume);

#endif

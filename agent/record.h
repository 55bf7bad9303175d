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

/*
 * Fill @rec, with @pe or @pg as its body, from @ev or @gap. Strings point
 * into @ev: the record is valid while @ev is.
 */
void kheal_record_event(Kheal__Record *rec, Kheal__Event *pe,
			const struct kheal_event *ev);
void kheal_record_gap(Kheal__Record *rec, Kheal__Gap *pg,
		      const struct kheal_gap *gap);

/* Back from a record read from a journal; -EBADMSG names a bad field. */
int kheal_record_to_event(const Kheal__Event *pe, struct kheal_event *ev,
			  struct kheal_err *err);
void kheal_record_to_gap(const Kheal__Gap *pg, struct kheal_gap *gap);

/* Moves @resume past what @rec covers: kmod events and gaps. */
void kheal_record_resume(const Kheal__Record *rec, struct kheal_seq *resume);

#endif

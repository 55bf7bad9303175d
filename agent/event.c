// SPDX-License-Identifier: GPL-2.0
/*
 * The event every source produces, and how it prints. The field table
 * below is the one place that ties a netlink attribute to a struct
 * member, a JSON key and a protobuf field.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <kheal/names.h>

#include "event.h"
#include "json.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

_Static_assert(KHEAL_A_MAX < 64, "presence bits are a uint64_t");

static const char *const source_names[] = {
	[KHEAL_SOURCE_KMOD]	= "kmod",
	[KHEAL_SOURCE_BPF]	= "bpf",
	[KHEAL_SOURCE_PSI]	= "psi",
	[KHEAL_SOURCE_KMSG]	= "kmsg",
};

static const char *const gap_reason_names[] = {
	[KHEAL_GAP_OVERRUN]	= "overrun",
	[KHEAL_GAP_MALFORMED]	= "malformed",
	[KHEAL_GAP_RINGBUF]	= "ringbuf",
};

static const char *lookup(const char *const *names, size_t n, uint32_t v)
{
	return v < n ? names[v] : NULL;
}

const char *kheal_kind_name(uint32_t kind)
{
	return kheal_name_kind(kind);
}

const char *kheal_severity_name(uint32_t severity)
{
	return kheal_name_severity(severity);
}

const char *kheal_oom_constraint_name(uint32_t constraint)
{
	return kheal_name_oom_constraint(constraint);
}

const char *kheal_source_name(enum kheal_source_id source)
{
	return lookup(source_names, ARRAY_SIZE(source_names), source);
}

const char *kheal_gap_reason_name(enum kheal_gap_reason reason)
{
	return lookup(gap_reason_names, ARRAY_SIZE(gap_reason_names), reason);
}

#define FIELD(a, key, m, t, size, req, nm) \
	{ KHEAL_A_##a, key, #m, t, offsetof(struct kheal_event, m), size, \
	  0, 0, req, nm }
#define U64(a, m, req)	FIELD(a, #m, m, KHEAL_FIELD_U64, 8, req, NULL)
#define U32(a, m, req, nm) FIELD(a, #m, m, KHEAL_FIELD_U32, 4, req, nm)
#define STR(a, m, req)	FIELD(a, #m, m, KHEAL_FIELD_STR, \
			      sizeof(((struct kheal_event *)0)->m), req, NULL)
#define STRV(a, m, n)	{ KHEAL_A_##a, #m, #m, KHEAL_FIELD_STRV, \
			  offsetof(struct kheal_event, m), \
			  sizeof(((struct kheal_event *)0)->m[0]), \
			  ARRAY_SIZE(((struct kheal_event *)0)->m), \
			  offsetof(struct kheal_event, n), false, NULL }

const struct kheal_event_field kheal_event_fields[] = {
	U64(SEQ,		seq,		true),
	U64(TIME_NS,		time_ns,	true),
	U32(KIND,		kind,		true,	kheal_kind_name),
	U32(SEVERITY,		severity,	true,	kheal_severity_name),
	STR(SUBSYS,		subsys,		true),
	U64(INSTANCE,		instance,	true),
	U32(PID,		pid,		false,	NULL),
	U32(TGID,		tgid,		false,	NULL),
	STR(COMM,		comm,		false),
	U64(CGROUP_ID,		cgroup_id,	false),
	STR(CGROUP_PATH,	cgroup_path,	false),
	STR(DEV,		dev,		false),
	U64(DURATION_MS,	duration_ms,	false),
	U64(CHECKPOINT_ID,	checkpoint_id,	false),
	U64(RSS_KB,		rss_kb,		false),
	U32(OOM_CONSTRAINT,	oom_constraint,	false,
	    kheal_oom_constraint_name),
	U32(SIGNAL,		signal,		false,	NULL),
	FIELD(ERRNO, "errno", errnum, KHEAL_FIELD_U32, 4, false, NULL),
	U32(QUEUE,		queue,		false,	NULL),
	STR(DETAIL,		detail,		false),
	STRV(STACK,		stack,		nstack),
};
const size_t kheal_event_nfields = ARRAY_SIZE(kheal_event_fields);

const struct kheal_event_field *kheal_event_field(int attr)
{
	const struct kheal_event_field *f;

	for (f = kheal_event_fields; f < kheal_event_fields +
	     kheal_event_nfields; f++)
		if (f->attr == attr)
			return f;
	return NULL;
}

int kheal_event_strv_add(struct kheal_event *ev,
			 const struct kheal_event_field *f, const char *s,
			 size_t len)
{
	uint32_t *n = (uint32_t *)((char *)ev + f->count_offset);
	char *dst;

	if (*n >= f->max)
		return -ENOSPC;
	if (len >= f->size)
		len = f->size - 1;
	dst = (char *)ev + f->offset + (*n)++ * f->size;
	memcpy(dst, s, len);
	dst[len] = '\0';
	ev->present |= 1ULL << f->attr;
	return 0;
}

static uint64_t field_num(const struct kheal_event *ev,
			  const struct kheal_event_field *f)
{
	const char *p = (const char *)ev + f->offset;

	if (f->type == KHEAL_FIELD_STR || f->type == KHEAL_FIELD_STRV)
		return 0;
	if (f->type == KHEAL_FIELD_U32)
		return *(const uint32_t *)p;
	return *(const uint64_t *)p;
}

/* An enum's name, a string's text, or NULL for a plain number. */
static const char *field_text(const struct kheal_event *ev,
			      const struct kheal_event_field *f)
{
	if (f->type == KHEAL_FIELD_STR)
		return (const char *)ev + f->offset;
	if (f->value_name)
		return f->value_name(field_num(ev, f));
	return NULL;
}

static void json_strv(struct kheal_json *j, const struct kheal_event *ev,
		      const struct kheal_event_field *f)
{
	uint32_t i, n = kheal_event_strv_count(ev, f);

	kheal_json_begin(j, f->name, '[');
	for (i = 0; i < n && i < f->max; i++)
		kheal_json_str(j, NULL, kheal_event_strv(ev, f, i));
	kheal_json_end(j, ']');
}

int kheal_event_json(const struct kheal_event *ev, char *buf, size_t len)
{
	const struct kheal_event_field *f;
	struct kheal_json j;
	const char *s;

	kheal_json_init(&j, buf, len);
	kheal_json_begin(&j, NULL, '{');
	for (f = kheal_event_fields; f < kheal_event_fields +
	     kheal_event_nfields; f++) {
		if (!kheal_event_has(ev, f->attr))
			continue;
		if (f->type == KHEAL_FIELD_STRV) {
			json_strv(&j, ev, f);
			continue;
		}
		s = field_text(ev, f);
		if (s)
			kheal_json_str(&j, f->name, s);
		else
			kheal_json_u64(&j, f->name, field_num(ev, f));
	}
	s = kheal_source_name(ev->source);
	if (s)
		kheal_json_str(&j, "source", s);
	kheal_json_end(&j, '}');
	return kheal_json_finish(&j);
}

static void text_value(struct kheal_json *j, const char *s, uint64_t num)
{
	if (!s)
		kheal_json_raw(j, "%" PRIu64, num);
	else if (kheal_json_is_plain(s))
		kheal_json_raw(j, "%s", s);
	else
		kheal_json_quoted(j, s);
}

/* Printed bare after seq and time; the other fields as name=value. */
static bool text_bare(int attr)
{
	return attr == KHEAL_A_KIND || attr == KHEAL_A_SEVERITY ||
	       attr == KHEAL_A_SUBSYS;
}

/* A STRV field's strings, comma-separated, into @buf. */
static const char *text_strv(const struct kheal_event *ev,
			     const struct kheal_event_field *f, char *buf,
			     size_t len)
{
	uint32_t i, n = kheal_event_strv_count(ev, f);
	struct kheal_json j;

	kheal_json_init(&j, buf, len);
	for (i = 0; i < n && i < f->max; i++)
		kheal_json_raw(&j, "%s%s", i ? "," : "",
			       kheal_event_strv(ev, f, i));
	return kheal_json_finish(&j) < 0 ? "" : buf;
}

/* "SEQ SECONDS.NS KIND SEVERITY SUBSYS name=value..." */
int kheal_event_text(const struct kheal_event *ev, char *buf, size_t len)
{
	char strv[sizeof(((struct kheal_event *)0)->stack)];
	const struct kheal_event_field *f;
	struct kheal_json j;

	kheal_json_init(&j, buf, len);
	kheal_json_raw(&j, "%" PRIu64 " %" PRIu64 ".%09" PRIu64, ev->seq,
		       ev->time_ns / 1000000000, ev->time_ns % 1000000000);
	for (f = kheal_event_fields; f < kheal_event_fields +
	     kheal_event_nfields; f++) {
		if (f->attr == KHEAL_A_SEQ || f->attr == KHEAL_A_TIME_NS)
			continue;
		if (text_bare(f->attr))
			kheal_json_raw(&j, " ");
		else if (kheal_event_has(ev, f->attr))
			kheal_json_raw(&j, " %s=", f->name);
		else
			continue;
		if (f->type == KHEAL_FIELD_STRV)
			text_value(&j, text_strv(ev, f, strv, sizeof(strv)), 0);
		else
			text_value(&j, field_text(ev, f), field_num(ev, f));
	}
	return kheal_json_finish(&j);
}

static const char *gap_reason(const struct kheal_gap *gap)
{
	const char *s = kheal_gap_reason_name(gap->reason);

	return s ? s : "unspec";
}

static const char *source_name(enum kheal_source_id source)
{
	const char *s = kheal_source_name(source);

	return s ? s : "unspec";
}

int kheal_gap_json(const struct kheal_gap *gap, char *buf, size_t len)
{
	struct kheal_json j;

	kheal_json_init(&j, buf, len);
	kheal_json_begin(&j, NULL, '{');
	kheal_json_begin(&j, "gap", '{');
	kheal_json_u64(&j, "instance", gap->instance);
	kheal_json_u64(&j, "first_missing", gap->first);
	kheal_json_u64(&j, "last_missing", gap->last);
	kheal_json_str(&j, "reason", gap_reason(gap));
	kheal_json_str(&j, "source", source_name(gap->source));
	kheal_json_end(&j, '}');
	kheal_json_end(&j, '}');
	return kheal_json_finish(&j);
}

int kheal_gap_text(const struct kheal_gap *gap, char *buf, size_t len)
{
	struct kheal_json j;

	kheal_json_init(&j, buf, len);
	kheal_json_raw(&j, "gap: %s seq %" PRIu64 "..%" PRIu64
		       " of instance %" PRIu64 " lost (%s)",
		       source_name(gap->source), gap->first, gap->last,
		       gap->instance, gap_reason(gap));
	return kheal_json_finish(&j);
}

static void json_seq_id(struct kheal_json *j, const char *key,
			const struct kheal_seq_id *id)
{
	kheal_json_begin(j, key, '{');
	kheal_json_str(j, "source", source_name(id->source));
	kheal_json_u64(j, "instance", id->instance);
	kheal_json_u64(j, "seq", id->seq);
	kheal_json_end(j, '}');
}

int kheal_merged_json(const struct kheal_merged *m, char *buf, size_t len)
{
	struct kheal_json j;

	kheal_json_init(&j, buf, len);
	kheal_json_begin(&j, NULL, '{');
	kheal_json_begin(&j, "merged", '{');
	json_seq_id(&j, "event", &m->event);
	json_seq_id(&j, "into", &m->into);
	kheal_json_end(&j, '}');
	kheal_json_end(&j, '}');
	return kheal_json_finish(&j);
}

int kheal_merged_text(const struct kheal_merged *m, char *buf, size_t len)
{
	struct kheal_json j;

	kheal_json_init(&j, buf, len);
	kheal_json_raw(&j, "merged: %s seq %" PRIu64 " of instance %" PRIu64
		       " is %s seq %" PRIu64 " of instance %" PRIu64,
		       source_name(m->event.source), m->event.seq,
		       m->event.instance, source_name(m->into.source),
		       m->into.seq, m->into.instance);
	return kheal_json_finish(&j);
}

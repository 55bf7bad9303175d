/* SPDX-License-Identifier: GPL-2.0 */
/* The one in-memory event type, its names, and how it prints. */
#ifndef KHEAL_EVENT_H
#define KHEAL_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/kheal.h>

/* Values as in proto/kheal.proto, enum Source. */
enum kheal_source_id {
	KHEAL_SOURCE_UNSPEC,
	KHEAL_SOURCE_KMOD,
	KHEAL_SOURCE_BPF,
	KHEAL_SOURCE_PSI,
	KHEAL_SOURCE_KMSG,
};

struct kheal_event {
	uint64_t present;	/* bit n set: attribute n of enum kheal_attr */
	enum kheal_source_id source;
	uint64_t seq;
	uint64_t time_ns;
	uint64_t instance;
	uint64_t cgroup_id;
	uint64_t duration_ms;
	uint64_t checkpoint_id;
	uint64_t rss_kb;
	uint32_t kind;
	uint32_t severity;
	uint32_t pid;
	uint32_t tgid;
	uint32_t oom_constraint;
	uint32_t signal;
	uint32_t errnum;		/* KHEAL_A_ERRNO: errno is a macro */
	uint32_t queue;
	uint32_t nstack;		/* frames in stack[] */
	char subsys[KHEAL_SUBSYS_LEN];
	char comm[KHEAL_COMM_LEN];
	char cgroup_path[KHEAL_CGROUP_PATH_LEN];
	char dev[KHEAL_DEV_LEN];
	char detail[KHEAL_DETAIL_LEN];
	char stack[KHEAL_STACK_DEPTH][KHEAL_STACK_FRAME_LEN];
};

/* Values as in proto/kheal.proto, enum Gap.Reason. */
enum kheal_gap_reason {
	KHEAL_GAP_UNSPEC,
	KHEAL_GAP_OVERRUN,
	KHEAL_GAP_MALFORMED,
	KHEAL_GAP_RINGBUF,
};

/* A proven loss: events first..last of a source's instance. */
struct kheal_gap {
	enum kheal_source_id source;
	uint64_t instance;
	uint64_t first;
	uint64_t last;
	enum kheal_gap_reason reason;
};

/* One event's seq in its source's numbering. */
struct kheal_seq_id {
	enum kheal_source_id source;
	uint64_t instance;
	uint64_t seq;
};

/* An event not reported: the other source reported the same fault. */
struct kheal_merged {
	struct kheal_seq_id event;	/* the one dropped */
	struct kheal_seq_id into;	/* the one reported */
};

enum kheal_field_type {
	KHEAL_FIELD_U32,
	KHEAL_FIELD_U64,
	KHEAL_FIELD_STR,
	KHEAL_FIELD_STRV,		/* multi-attr: an array of strings */
};

/*
 * The one table that maps netlink attributes to event fields, JSON keys
 * and protobuf fields (which carry the same name). Ordered as events
 * print: the attributes every event has first.
 */
struct kheal_event_field {
	int attr;			/* enum kheal_attr */
	const char *name;		/* JSON key */
	const char *pb_name;		/* protobuf field name, struct member */
	enum kheal_field_type type;
	size_t offset;			/* in struct kheal_event */
	size_t size;			/* strings: buffer size, NUL included */
	size_t max;			/* STRV: most strings */
	size_t count_offset;		/* STRV: the uint32_t count */
	bool required;			/* every event carries it */
	const char *(*value_name)(uint32_t v);	/* enums: name or NULL */
};

extern const struct kheal_event_field kheal_event_fields[];
extern const size_t kheal_event_nfields;

static inline bool kheal_event_has(const struct kheal_event *ev, int attr)
{
	return ev->present & (1ULL << attr);
}

/* The number of strings a STRV field holds. */
static inline uint32_t kheal_event_strv_count(const struct kheal_event *ev,
					      const struct kheal_event_field *f)
{
	return *(const uint32_t *)((const char *)ev + f->count_offset);
}

/* String @i of a STRV field. */
static inline const char *kheal_event_strv(const struct kheal_event *ev,
					   const struct kheal_event_field *f,
					   size_t i)
{
	return (const char *)ev + f->offset + i * f->size;
}

/*
 * Appends @len bytes of @s to STRV field @f, cut to fit: -ENOSPC if the
 * field already holds f->max strings.
 */
int kheal_event_strv_add(struct kheal_event *ev,
			 const struct kheal_event_field *f, const char *s,
			 size_t len);

/* The field of attribute @attr, or NULL. */
const struct kheal_event_field *kheal_event_field(int attr);

/*
 * Names as printed; NULL for a value this build does not know. Kinds,
 * severities and OOM constraints as <kheal/names.h> names them.
 */
const char *kheal_kind_name(uint32_t kind);
const char *kheal_severity_name(uint32_t severity);
const char *kheal_oom_constraint_name(uint32_t constraint);
const char *kheal_source_name(enum kheal_source_id source);
const char *kheal_gap_reason_name(enum kheal_gap_reason reason);

/* Room for the longest line either format below can produce. */
#define KHEAL_EVENT_LINE_MAX	32768

/*
 * One JSON object, or one human-readable line, without a newline.
 * Return the length, or -ENOSPC if @len is too small.
 */
int kheal_event_json(const struct kheal_event *ev, char *buf, size_t len);
int kheal_event_text(const struct kheal_event *ev, char *buf, size_t len);
int kheal_gap_json(const struct kheal_gap *gap, char *buf, size_t len);
int kheal_gap_text(const struct kheal_gap *gap, char *buf, size_t len);
int kheal_merged_json(const struct kheal_merged *m, char *buf, size_t len);
int kheal_merged_text(const struct kheal_merged *m, char *buf, size_t len);

#endif

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
	char subsys[KHEAL_SUBSYS_LEN];
	char comm[KHEAL_COMM_LEN];
	char cgroup_path[KHEAL_CGROUP_PATH_LEN];
	char dev[KHEAL_DEV_LEN];
};

/* Values as in proto/kheal.proto, enum Gap.Reason. */
enum kheal_gap_reason {
	KHEAL_GAP_UNSPEC,
	KHEAL_GAP_OVERRUN,
	KHEAL_GAP_MALFORMED,
};

/* A proven loss: events first..last of a module instance. */
struct kheal_gap {
	uint64_t instance;
	uint64_t first;
	uint64_t last;
	enum kheal_gap_reason reason;
};

enum kheal_field_type {
	KHEAL_FIELD_U32,
	KHEAL_FIELD_U64,
	KHEAL_FIELD_STR,
};

/*
 * The one table that maps netlink attributes to event fields, JSON keys
 * and protobuf fields (which carry the same name). Ordered as events
 * print: the attributes every event has first.
 */
struct kheal_event_field {
	int attr;			/* enum kheal_attr */
	const char *name;		/* JSON key, protobuf field name */
	enum kheal_field_type type;
	size_t offset;			/* in struct kheal_event */
	size_t size;			/* strings: buffer size, NUL included */
	bool required;			/* every event carries it */
	const char *(*value_name)(uint32_t v);	/* enums: name or NULL */
};

extern const struct kheal_event_field kheal_event_fields[];
extern const size_t kheal_event_nfields;

static inline bool kheal_event_has(const struct kheal_event *ev, int attr)
{
	return ev->present & (1ULL << attr);
}

/* Names as printed; NULL for a value this build does not know. */
const char *kheal_kind_name(uint32_t kind);
const char *kheal_severity_name(uint32_t severity);
const char *kheal_oom_constraint_name(uint32_t constraint);
const char *kheal_source_name(enum kheal_source_id source);
const char *kheal_gap_reason_name(enum kheal_gap_reason reason);

/* Room for the longest line either format below can produce. */
#define KHEAL_EVENT_LINE_MAX	4096

/*
 * One JSON object, or one human-readable line, without a newline.
 * Return the length, or -ENOSPC if @len is too small.
 */
int kheal_event_json(const struct kheal_event *ev, char *buf, size_t len);
int kheal_event_text(const struct kheal_event *ev, char *buf, size_t len);
int kheal_gap_json(const struct kheal_gap *gap, char *buf, size_t len);
int kheal_gap_text(const struct kheal_gap *gap, char *buf, size_t len);

#endif

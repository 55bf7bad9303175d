// SPDX-License-Identifier: GPL-2.0
/*
 * khealctl journal: every record of the journal, one a line, filtered by
 * incident and time; and khealctl journal verify: its chain, signatures
 * and anchor.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "event.h"
#include "journal.h"
#include "khealctl.h"
#include "pbjson.h"
#include "record.h"

/* Room for the largest record as JSON, escapes and all. */
#define LINE_MAX_LEN	(8 * KHEAL_JOURNAL_RECORD_MAX)

struct journal_opts {
	const char *journal;
	bool incident_set;
	uint64_t incident;
	bool since_set;
	uint64_t since_ns;		/* CLOCK_BOOTTIME */
};

/* A duration: a number and s, m, h, d or ms (none: seconds). */
static int parse_duration(const struct cmd *c, const char *s, uint64_t *ns)
{
	static const struct {
		const char *unit;
		uint64_t ns;
	} units[] = {
		{ "", 1000000000ULL },
		{ "ms", 1000000ULL },
		{ "s", 1000000000ULL },
		{ "m", 60 * 1000000000ULL },
		{ "h", 3600 * 1000000000ULL },
		{ "d", 86400 * 1000000000ULL },
	};
	unsigned long long v;
	char *end;
	size_t i;

	errno = 0;
	v = strtoull(s, &end, 10);
	for (i = 0; *s >= '0' && *s <= '9' && !errno &&
	     i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit))
			continue;
		if (v > UINT64_MAX / units[i].ns)
			break;
		*ns = v * units[i].ns;
		return 0;
	}
	usage_error(c, "bad --since '%s': expected a duration such as 90s, 10m, 2h or 1d",
		    s);
	return -1;
}

/* The body: its name, as the oneof calls it, and its message. */
static const ProtobufCMessage *body_of(const Kheal__Record *rec,
				       const char **type)
{
	const ProtobufCFieldDescriptor *fd;

	fd = protobuf_c_message_descriptor_get_field(&kheal__record__descriptor,
						     rec->body_case);
	if (!fd || fd->type != PROTOBUF_C_TYPE_MESSAGE) {
		*type = "unknown";	/* a body a newer kheal wrote */
		return NULL;
	}
	*type = fd->name;
	return *(const ProtobufCMessage *const *)((const char *)rec +
						  fd->offset);
}

/* The incident a body is about: Incident's id, the others' incident. */
static bool incident_of(const ProtobufCMessage *body, const char *type,
			uint64_t *id)
{
	return body && kheal_pb_u64(body, strcmp(type, "incident") ?
				    "incident" : "id", id);
}

static void event_json(struct kheal_json *j, const Kheal__Event *pe)
{
	static char buf[KHEAL_EVENT_LINE_MAX];
	struct kheal_event ev;

	/* The event's own JSON, with the type put first. */
	if (kheal_record_to_event(pe, &ev, NULL) ||
	    kheal_event_json(&ev, buf, sizeof(buf)) < 2) {
		kheal_json_begin(j, NULL, '{');
		kheal_json_str(j, "type", "event");
		kheal_pbjson_fields(j, &pe->base);
		kheal_json_end(j, '}');
		return;
	}
	kheal_json_raw(j, "{\"type\":\"event\",%s", buf + 1);
}

static void event_text(struct kheal_json *j, const Kheal__Event *pe)
{
	static char buf[KHEAL_EVENT_LINE_MAX];
	struct kheal_event ev;
	const char *seq_end, *time_end;

	/* "SEQ TIME KIND ...": the time is already first on the line. */
	if (kheal_record_to_event(pe, &ev, NULL) ||
	    kheal_event_text(&ev, buf, sizeof(buf)) < 0 ||
	    !(seq_end = strchr(buf, ' ')) ||
	    !(time_end = strchr(seq_end + 1, ' '))) {
		kheal_pbjson_text(j, &pe->base, "time_ns");
		return;
	}
	kheal_json_raw(j, " %.*s%s", (int)(seq_end - buf), buf, time_end);
}

static int print_record(const Kheal__Record *rec, const char *type,
			const ProtobufCMessage *body, const uint64_t *time_ns)
{
	static char line[LINE_MAX_LEN];
	struct kheal_json j;
	int len;

	kheal_json_init(&j, line, sizeof(line));
	if (json && rec->body_case == KHEAL__RECORD__BODY_EVENT) {
		event_json(&j, rec->event);
	} else if (json) {
		kheal_json_begin(&j, NULL, '{');
		kheal_json_str(&j, "type", type);
		if (body)
			kheal_pbjson_fields(&j, body);
		kheal_json_end(&j, '}');
	} else {
		if (time_ns)
			kheal_json_raw(&j, "%" PRIu64 ".%09" PRIu64 " %s",
				       *time_ns / 1000000000,
				       *time_ns % 1000000000, type);
		else
			kheal_json_raw(&j, "- %s", type);
		if (rec->body_case == KHEAL__RECORD__BODY_EVENT)
			event_text(&j, rec->event);
		else if (body)
			kheal_pbjson_text(&j, body, "time_ns");
	}
	len = kheal_json_finish(&j);
	print_line(line, len);
	return len < 0 ? len : 0;
}

static int journal_list(const struct cmd *c, const struct journal_opts *o)
{
	const ProtobufCMessage *body;
	struct kheal_journal_iter it;
	struct kheal_err err = { "" };
	uint64_t t, last_t = 0, id;
	Kheal__Record *rec;
	const char *type;
	bool has_t, show;
	int ret;

	ret = kheal_journal_iter_open(&it, o->journal, &err);
	if (ret)
		return fail(c, &err, kheal_err_wrap(&err, ret, "journal"));
	while ((ret = kheal_journal_iter_next(&it, &rec, &err)) > 0) {
		body = body_of(rec, &type);
		has_t = body && kheal_pb_u64(body, "time_ns", &t);
		/* A record without a time (gap, merged) is as old as the
		 * record before it. */
		if (has_t)
			last_t = t;
		show = (!o->since_set || last_t >= o->since_ns) &&
		       (!o->incident_set || (incident_of(body, type, &id) &&
					     id == o->incident));
		if (show && print_record(rec, type, body, has_t ? &t : NULL))
			fprintf(stderr,
				"khealctl: journal: record %" PRIu64
				" at offset %" PRIu64 ": too long to print\n",
				it.records - 1, it.rec_off);
		kheal__record__free_unpacked(rec, NULL);
	}
	if (!ret && it.tail)
		fprintf(stderr,
			"khealctl: journal: journal %s: %" PRIu64
			" bytes at offset %" PRIu64
			" are an incomplete record (being written, or torn by a crash)\n",
			o->journal, it.tail, it.off);
	if (ret < 0)
		kheal_err_wrap(&err, ret, "journal %s", o->journal);
	kheal_journal_iter_close(&it);
	return ret < 0 ? fail(c, &err, ret) : 0;
}

static const char *fault_text(enum kheal_journal_fault fault)
{
	switch (fault) {
	case KHEAL_JOURNAL_CORRUPT:
		return "corrupt";
	case KHEAL_JOURNAL_UNSIGNED:
		return "unsigned";
	case KHEAL_JOURNAL_BAD_HMAC:
		return "bad HMAC";
	case KHEAL_JOURNAL_BAD_CHAIN:
		return "prev_hash mismatch";
	case KHEAL_JOURNAL_TRUNCATED:
		return "truncated";
	case KHEAL_JOURNAL_BAD_ANCHOR:
		return "bad anchor";
	default:
		return "valid";
	}
}

static void verify_json(const char *path,
			const struct kheal_journal_report *rep)
{
	static char buf[4096];
	struct kheal_json j;

	kheal_json_init(&j, buf, sizeof(buf));
	kheal_json_begin(&j, NULL, '{');
	kheal_json_str(&j, "journal", path);
	kheal_json_bool(&j, "valid", !rep->fault);
	kheal_json_u64(&j, "records", rep->records);
	kheal_json_u64(&j, "size", rep->size);
	kheal_json_u64(&j, "torn_bytes", rep->torn);
	if (rep->anchored) {
		kheal_json_begin(&j, "anchor", '{');
		kheal_json_u64(&j, "records", rep->head.records);
		kheal_json_u64(&j, "size", rep->head.size);
		kheal_json_end(&j, '}');
	}
	if (rep->fault) {
		kheal_json_str(&j, "fault",
			       kheal_journal_fault_name(rep->fault));
		kheal_json_u64(&j, "index", rep->bad_index);
		kheal_json_u64(&j, "offset", rep->bad_offset);
		kheal_json_str(&j, "why", rep->why);
	}
	kheal_json_end(&j, '}');
	print_line(buf, kheal_json_finish(&j));
}

static int journal_verify(const struct cmd *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "journal", required_argument, NULL, 'J' },
		{ "key", required_argument, NULL, 'K' },
		{ 0 }
	};
	const char *path = DEFAULT_JOURNAL, *key_path = NULL;
	uint8_t key[KHEAL_JOURNAL_KEY_BYTES];
	struct kheal_journal_report rep;
	struct kheal_err err = { "" };
	char own_key[4096];
	int opt, ret;

	while ((opt = next_opt(c, argc, argv, opts)) != -1) {
		if (opt == 'J')
			path = optarg;
		else if (opt == 'K')
			key_path = optarg;
		else
			return EXIT_USAGE;
	}
	if (optind < argc)
		return usage_error(c, "unexpected argument '%s'", argv[optind]);
	if (!key_path) {
		if (snprintf(own_key, sizeof(own_key), "%s%s", path,
			     KHEAL_JOURNAL_KEY_SUFFIX) >= (int)sizeof(own_key))
			return usage_error(c, "--journal: path too long");
		key_path = own_key;
	}
	ret = kheal_journal_key_load(key_path, false, key, &err);
	if (!ret)
		ret = kheal_journal_verify(path, key, NULL, &rep, &err);
	sodium_memzero(key, sizeof(key));
	if (ret)
		return fail(c, &err, ret);
	if (json)
		verify_json(path, &rep);
	else if (!rep.fault)
		printf("journal %s: %" PRIu64
		       " records, chain and signatures valid\n",
		       path, rep.records);
	else if (rep.fault == KHEAL_JOURNAL_BAD_ANCHOR)
		fprintf(stderr, "khealctl: journal verify: journal %s: %s: %s (%"
			PRIu64 " records checked)\n", path,
			fault_text(rep.fault), rep.why, rep.records);
	else
		fprintf(stderr, "khealctl: journal verify: journal %s: record %"
			PRIu64 " at offset %" PRIu64 ": %s: %s (%" PRIu64
			" records checked)\n", path, rep.bad_index,
			rep.bad_offset, fault_text(rep.fault), rep.why,
			rep.records);
	if (rep.torn && !json)
		fprintf(stderr,
			"khealctl: journal verify: warning: journal %s: a torn record of %"
			PRIu64 " bytes at offset %" PRIu64
			" (a crash during a write, not tampering); kheald cuts it at its next start\n",
			path, rep.torn, rep.size);
	return rep.fault ? 1 : 0;
}

int cmd_journal(const struct cmd *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "journal", required_argument, NULL, 'J' },
		{ "incident", required_argument, NULL, 'I' },
		{ "since", required_argument, NULL, 'S' },
		{ 0 }
	};
	struct journal_opts o = { .journal = DEFAULT_JOURNAL };
	uint64_t ago, now;
	int opt;

	if (argc >= 2 && !strcmp(argv[1], "verify"))
		return journal_verify(c, argc - 1, argv + 1);
	while ((opt = next_opt(c, argc, argv, opts)) != -1) {
		switch (opt) {
		case 'J':
			o.journal = optarg;
			break;
		case 'I':
			if (parse_num(c, "--incident", optarg, 1, UINT64_MAX,
				      &o.incident))
				return EXIT_USAGE;
			o.incident_set = true;
			break;
		case 'S':
			if (parse_duration(c, optarg, &ago))
				return EXIT_USAGE;
			now = boottime_ns();
			o.since_ns = now > ago ? now - ago : 0;
			o.since_set = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error(c, "unexpected argument '%s'", argv[optind]);
	return journal_list(c, &o);
}

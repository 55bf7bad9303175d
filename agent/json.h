/* SPDX-License-Identifier: GPL-2.0 */
/* JSON text into a caller's buffer: escaping, commas, nesting. */
#ifndef KHEAL_JSON_H
#define KHEAL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kheal_json {
	char *buf;
	size_t cap;
	size_t len;
	bool overflow;
	bool comma;	/* a value came last: the next one needs a comma */
};

void kheal_json_init(struct kheal_json *j, char *buf, size_t cap);

/* @key is NULL for a top-level value or an array element. */
void kheal_json_begin(struct kheal_json *j, const char *key, char open);
void kheal_json_end(struct kheal_json *j, char close);
void kheal_json_u64(struct kheal_json *j, const char *key, uint64_t v);
void kheal_json_str(struct kheal_json *j, const char *key, const char *s);
void kheal_json_bool(struct kheal_json *j, const char *key, bool v);

/* Text as is, and a quoted escaped string: for human-readable lines. */
void kheal_json_raw(struct kheal_json *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void kheal_json_quoted(struct kheal_json *j, const char *s);

/* True if @s prints the same quoted and raw, and has no space. */
bool kheal_json_is_plain(const char *s);

/* The length of the NUL-terminated text, or -ENOSPC if it did not fit. */
int kheal_json_finish(struct kheal_json *j);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Checks that the kheal YAML netlink spec and the UAPI header define the
 * same family: the same constants with the same values, both ways.
 */
#ifndef SPECCHECK_H
#define SPECCHECK_H

#include <stdbool.h>
#include <stddef.h>

/* Messages naming each mismatch or error, in the order found. */
struct spec_report {
	char **msgs;
	size_t n;
	size_t cap;
};

void spec_report_free(struct spec_report *r);
bool spec_report_has(const struct spec_report *r, const char *text);

/* A constant of an enum in the header, or one the spec implies. */
struct spec_const {
	char *name;		/* C name, e.g. KHEAL_A_SINCE_SEQ */
	long long value;
	char *enum_name;	/* C enum, e.g. kheal_attr; NULL if unknown */
	char *note;		/* header: comment on the entry's line */
	int line;		/* header: line of the entry */
};

struct spec_define {
	char *name;
	char *str;		/* string literal without quotes, or NULL */
	long long value;	/* when str is NULL */
};

/* The enums and #defines of a UAPI header, read as text. */
struct uapi_header {
	struct spec_const *consts;
	size_t n_consts;
	struct spec_define *defines;
	size_t n_defines;
	size_t n_enums;
};

/**
 * uapi_parse() - read the named enums and the #defines of a header
 * @path: file name used in messages
 * @text: the header's text
 * @h: filled in; free with uapi_header_free() whatever the result
 * @r: parse errors are added here
 *
 * Return: 0, or -EINVAL after adding a message naming where and why.
 */
int uapi_parse(const char *path, const char *text, struct uapi_header *h,
	       struct spec_report *r);
void uapi_header_free(struct uapi_header *h);
const struct spec_const *uapi_find(const struct uapi_header *h,
				   const char *name);

struct spec_stats {
	size_t header_enums;	/* named enums in the header */
	size_t header_consts;	/* their constants, counts and maxes included */
	size_t spec_consts;	/* constants the spec defines or implies */
	size_t matched;		/* spec constants found in the header */
};

/**
 * spec_check_files() - compare a YAML netlink spec with a UAPI header
 * @yaml_path: the spec, Documentation/netlink/specs/kheal.yaml
 * @uapi_path: the header, include/uapi/linux/kheal.h
 * @r: every mismatch is added here as one message
 * @st: if not NULL, what was compared
 *
 * Return: 0 when both files were read (@r then holds the mismatches, if
 * any), -errno when one could not be read or parsed (with a message).
 */
int spec_check_files(const char *yaml_path, const char *uapi_path,
		     struct spec_report *r, struct spec_stats *st);

#endif /* SPECCHECK_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * JSON text for kheal's output. Strings are escaped per RFC 8259; bytes
 * that are not valid UTF-8 (a comm is any bytes) print as \u00XX, so the
 * output is always valid JSON.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

void kheal_json_init(struct kheal_json *j, char *buf, size_t cap)
{
	*j = (struct kheal_json){ .buf = buf, .cap = cap };
	if (cap)
		buf[0] = '\0';
}

static void put(struct kheal_json *j, const char *s, size_t n)
{
	if (j->overflow || j->cap - j->len <= n) {
		j->overflow = true;
		return;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void vraw(struct kheal_json *j, const char *fmt, va_list ap)
{
	size_t room = j->cap - j->len;
	int n;

	if (j->overflow)
		return;
	n = vsnprintf(j->buf + j->len, room, fmt, ap);
	if (n < 0 || (size_t)n >= room) {
		j->overflow = true;
		return;
	}
	j->len += n;
}

void kheal_json_raw(struct kheal_json *j, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vraw(j, fmt, ap);
	va_end(ap);
}

/* Length of the valid UTF-8 sequence at @s, or 0 if there is none. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;	/* overlong */
		if (s[0] == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		if (s[0] == 0xf0)
			lo = 0x90;	/* overlong */
		if (s[0] == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if (s[i] < lo || s[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xbf;
	}
	return n;
}

void kheal_json_quoted(struct kheal_json *j, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char esc[8];
	size_t n;

	put(j, "\"", 1);
	while (*p) {
		n = utf8_len(p);
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = *p;
			put(j, esc, 2);
		} else if (*p < 0x20 || *p == 0x7f || !n) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			put(j, esc, 6);
		} else {
			put(j, (const char *)p, n);
		}
		p += n ? n : 1;
	}
	put(j, "\"", 1);
}

bool kheal_json_is_plain(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '\\')
			return false;
	return *s != '\0';
}

static void key(struct kheal_json *j, const char *k)
{
	if (j->comma)
		put(j, ",", 1);
	if (k) {
		kheal_json_quoted(j, k);
		put(j, ":", 1);
	}
}

void kheal_json_begin(struct kheal_json *j, const char *k, char open)
{
	key(j, k);
	put(j, &open, 1);
	j->comma = false;
}

void kheal_json_end(struct kheal_json *j, char close)
{
	put(j, &close, 1);
	j->comma = true;
}

void kheal_json_u64(struct kheal_json *j, const char *k, uint64_t v)
{
	key(j, k);
	kheal_json_raw(j, "%" PRIu64, v);
	j->comma = true;
}

void kheal_json_str(struct kheal_json *j, const char *k, const char *s)
{
	key(j, k);
	kheal_json_quoted(j, s);
	j->comma = true;
}

void kheal_json_bool(struct kheal_json *j, const char *k, bool v)
{
	key(j, k);
	kheal_json_raw(j, "%s", v ? "true" : "false");
	j->comma = true;
}

int kheal_json_finish(struct kheal_json *j)
{
	if (j->overflow) {
		if (j->cap)
			j->buf[0] = '\0';
		return -ENOSPC;
	}
	return j->len;
}

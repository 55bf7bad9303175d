// SPDX-License-Identifier: GPL-2.0
/*
 * Protobuf messages as JSON and text, walked by their descriptors, so
 * that a body the schema gains prints without code of its own.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbjson.h"

static bool present(const ProtobufCMessage *m,
		    const ProtobufCFieldDescriptor *fd)
{
	const char *p = (const char *)m;

	if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(p + fd->quantifier_offset) ==
		       fd->id;
	if (fd->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)(p + fd->quantifier_offset) > 0;
	if (fd->type == PROTOBUF_C_TYPE_STRING ||
	    fd->type == PROTOBUF_C_TYPE_MESSAGE)
		return *(const void *const *)(p + fd->offset) != NULL;
	if (fd->label == PROTOBUF_C_LABEL_OPTIONAL)
		return *(const protobuf_c_boolean *)(p + fd->quantifier_offset);
	return true;
}

static size_t elem_size(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		return 4;
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	default:
		return 8;
	}
}

const char *kheal_pbjson_enum(const ProtobufCEnumDescriptor *d, int value,
			      char *buf, size_t len)
{
	const ProtobufCEnumValue *ev;
	const char *first, *name;
	size_t pre, k, i;

	ev = protobuf_c_enum_descriptor_get_value(d, value);
	if (!ev || !len)
		return NULL;
	/* The prefix the named values share; a zero "unset" may differ. */
	first = NULL;
	pre = 0;
	for (i = 0; i < d->n_values; i++) {
		if (!d->values[i].value && d->n_values > 2)
			continue;
		if (!first) {
			first = d->values[i].name;
			pre = strlen(first);
			continue;
		}
		for (k = 0; k < pre && d->values[i].name[k] == first[k]; k++)
			;
		pre = k;
	}
	if (!first)
		first = ev->name;
	while (pre && first[pre - 1] != '_')
		pre--;
	name = ev->name[pre] ? ev->name + pre : ev->name;
	for (i = 0; name[i] && i < len - 1; i++)
		buf[i] = name[i] >= 'A' && name[i] <= 'Z' ?
			 name[i] - 'A' + 'a' : name[i];
	buf[i] = '\0';
	return buf;
}

/*
 * A number, bool or enum as text into @buf; *@quote if JSON wants it
 * quoted. False for the other types.
 */
static bool scalar(const ProtobufCFieldDescriptor *fd, const void *v,
		   char *buf, size_t len, bool *quote)
{
	double d;

	*quote = false;
	switch (fd->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		snprintf(buf, len, "%" PRId32, *(const int32_t *)v);
		return true;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		snprintf(buf, len, "%" PRIu32, *(const uint32_t *)v);
		return true;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		snprintf(buf, len, "%" PRId64, *(const int64_t *)v);
		return true;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		snprintf(buf, len, "%" PRIu64, *(const uint64_t *)v);
		return true;
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		d = fd->type == PROTOBUF_C_TYPE_FLOAT ? *(const float *)v :
		    *(const double *)v;
		if (isfinite(d))
			snprintf(buf, len, "%.15g", d);
		else
			snprintf(buf, len, "null");
		return true;
	case PROTOBUF_C_TYPE_BOOL:
		snprintf(buf, len, "%s",
			 *(const protobuf_c_boolean *)v ? "true" : "false");
		return true;
	case PROTOBUF_C_TYPE_ENUM:
		*quote = kheal_pbjson_enum(fd->descriptor, *(const int *)v,
					   buf, len) != NULL;
		if (!*quote)
			snprintf(buf, len, "%d", *(const int *)v);
		return true;
	default:
		return false;
	}
}

/* Bytes in hex, to free; NULL without the memory for them. */
static char *hex(const ProtobufCBinaryData *b)
{
	char *s = malloc(2 * b->len + 1);
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i < b->len; i++)
		snprintf(s + 2 * i, 3, "%02x", b->data[i]);
	s[2 * b->len] = '\0';
	return s;
}

/*
 * A value json.h has no call for, a number as text: the key and its
 * first character as an "opening", then the rest.
 */
static void json_number(struct kheal_json *j, const char *key,
			const char *num)
{
	kheal_json_begin(j, key, num[0]);
	kheal_json_raw(j, "%s", num + 1);
	j->comma = true;
}

static void json_value(struct kheal_json *j, const char *key,
		       const ProtobufCFieldDescriptor *fd, const void *v)
{
	char buf[64], *s;
	bool quote;

	switch (fd->type) {
	case PROTOBUF_C_TYPE_STRING:
		kheal_json_str(j, key, *(const char *const *)v);
		return;
	case PROTOBUF_C_TYPE_BYTES:
		s = hex(v);
		kheal_json_str(j, key, s ? s : "");
		free(s);
		return;
	case PROTOBUF_C_TYPE_MESSAGE:
		kheal_json_begin(j, key, '{');
		kheal_pbjson_fields(j, *(const ProtobufCMessage *const *)v);
		kheal_json_end(j, '}');
		return;
	default:
		scalar(fd, v, buf, sizeof(buf), &quote);
		if (quote)
			kheal_json_str(j, key, buf);
		else
			json_number(j, key, buf);
	}
}

void kheal_pbjson_fields(struct kheal_json *j, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const ProtobufCFieldDescriptor *fd;
	const char *p;
	size_t i, k, n;

	for (i = 0; i < d->n_fields; i++) {
		fd = &d->fields[i];
		if (!present(m, fd))
			continue;
		p = (const char *)m + fd->offset;
		if (fd->label != PROTOBUF_C_LABEL_REPEATED) {
			json_value(j, fd->name, fd, p);
			continue;
		}
		n = *(const size_t *)((const char *)m + fd->quantifier_offset);
		p = *(const char *const *)p;
		kheal_json_begin(j, fd->name, '[');
		for (k = 0; k < n; k++)
			json_value(j, NULL, fd, p + k * elem_size(fd->type));
		kheal_json_end(j, ']');
	}
}

static void text_value(struct kheal_json *j,
		       const ProtobufCFieldDescriptor *fd, const void *v)
{
	const char *s;
	char buf[64], *h;
	bool quote;

	switch (fd->type) {
	case PROTOBUF_C_TYPE_STRING:
		s = *(const char *const *)v;
		if (kheal_json_is_plain(s))
			kheal_json_raw(j, "%s", s);
		else
			kheal_json_quoted(j, s);
		return;
	case PROTOBUF_C_TYPE_BYTES:
		h = hex(v);
		kheal_json_raw(j, "%s", h ? h : "");
		free(h);
		return;
	default:
		if (scalar(fd, v, buf, sizeof(buf), &quote))
			kheal_json_raw(j, "%s", buf);
	}
}

void kheal_pbjson_text(struct kheal_json *j, const ProtobufCMessage *m,
		       const char *skip)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const ProtobufCFieldDescriptor *fd;
	const char *p;
	size_t i, k, n;

	for (i = 0; i < d->n_fields; i++) {
		fd = &d->fields[i];
		if (fd->type == PROTOBUF_C_TYPE_MESSAGE || !present(m, fd) ||
		    (skip && !strcmp(fd->name, skip)))
			continue;
		kheal_json_raw(j, " %s=", fd->name);
		p = (const char *)m + fd->offset;
		if (fd->label != PROTOBUF_C_LABEL_REPEATED) {
			text_value(j, fd, p);
			continue;
		}
		n = *(const size_t *)((const char *)m + fd->quantifier_offset);
		p = *(const char *const *)p;
		for (k = 0; k < n; k++) {
			if (k)
				kheal_json_raw(j, ",");
			text_value(j, fd, p + k * elem_size(fd->type));
		}
	}
}

bool kheal_pb_u64(const ProtobufCMessage *m, const char *name, uint64_t *v)
{
	const ProtobufCFieldDescriptor *fd;

	fd = protobuf_c_message_descriptor_get_field_by_name(m->descriptor,
							     name);
	if (!fd || fd->type != PROTOBUF_C_TYPE_UINT64 ||
	    fd->label == PROTOBUF_C_LABEL_REPEATED || !present(m, fd))
		return false;
	*v = *(const uint64_t *)((const char *)m + fd->offset);
	return true;
}

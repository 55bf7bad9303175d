/* SPDX-License-Identifier: GPL-2.0 */
/* Protobuf messages as JSON and as text, by their descriptors. */
#ifndef KHEAL_PBJSON_H
#define KHEAL_PBJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "json.h"

/*
 * The fields @m holds, as members of the object @j has open, in field
 * number order, named as in the .proto file: numbers as JSON numbers,
 * enums by name (see kheal_pbjson_enum), bytes in hex, messages as
 * objects, repeated fields as arrays.
 */
void kheal_pbjson_fields(struct kheal_json *j, const ProtobufCMessage *m);

/*
 * The same for a human-readable line, each as " name=value": strings
 * quoted only when they need it, repeated values joined by commas.
 * Messages, and the field named @skip (or NULL), are left out.
 */
void kheal_pbjson_text(struct kheal_json *j, const ProtobufCMessage *m,
		       const char *skip);

/*
 * An enum value's name in lower case, without the prefix every name of
 * its enum shares ("SOURCE_KMOD" is "kmod"), into @buf; NULL for a value
 * the enum lacks.
 */
const char *kheal_pbjson_enum(const ProtobufCEnumDescriptor *d, int value,
			      char *buf, size_t len);

/* The uint64 field @name of @m, if @m has such a field and holds it. */
bool kheal_pb_u64(const ProtobufCMessage *m, const char *name, uint64_t *v);

#endif

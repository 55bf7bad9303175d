/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel symbols from /proc/kallsyms, to turn the stack addresses in an
 * event into "func+0xoff" names.
 */
#ifndef _KHEAL_KSYMS_H
#define _KHEAL_KSYMS_H

#include <stddef.h>
#include <linux/types.h>

struct kheal_ksym {
	__u64 addr;
	const char *name;
	const char *module;		/* NULL: built in */
};

struct kheal_ksyms;

/*
 * Reads the text symbols of @path (NULL: /proc/kallsyms). Returns NULL
 * with errno set: EPERM when the addresses are hidden (kptr_restrict,
 * or not CAP_SYSLOG), ENOENT when there are no symbols.
 */
struct kheal_ksyms *kheal_ksyms_load(const char *path);
void kheal_ksyms_free(struct kheal_ksyms *ks);

size_t kheal_ksyms_count(const struct kheal_ksyms *ks);

/* The symbol @addr is in (the last one at or below it), or NULL. */
const struct kheal_ksym *kheal_ksyms_find(const struct kheal_ksyms *ks,
					  __u64 addr);

/*
 * Writes "func+0xoff", "func+0xoff [module]", or "0xaddr" when no symbol
 * covers @addr, into @buf (always NUL-terminated when @size > 0).
 * Returns the length it needed, as snprintf() does.
 */
int kheal_ksyms_format(const struct kheal_ksyms *ks, __u64 addr, char *buf,
		       size_t size);

#endif /* _KHEAL_KSYMS_H */

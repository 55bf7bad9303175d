// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel symboliser: the text symbols of /proc/kallsyms sorted by
 * address, looked up by binary search.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksyms.h"

struct kheal_ksyms {
	struct kheal_ksym *syms;
	size_t n;
	char *pool;		/* names and module names, NUL-separated */
};

/* While reading: names are pool offsets until the pool stops moving. */
struct ksym_raw {
	__u64 addr;
	size_t name;
	size_t module;		/* SIZE_MAX: built in */
};

struct ksyms_builder {
	struct ksym_raw *raw;
	size_t n, cap;
	char *pool;
	size_t len, pool_cap;
	size_t last_module;	/* module symbols come grouped: share it */
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 4096;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * elem);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

static int pool_add(struct ksyms_builder *b, const char *s, size_t len,
		    size_t *off)
{
	if (grow((void **)&b->pool, &b->pool_cap, b->len + len + 1, 1))
		return -ENOMEM;
	memcpy(b->pool + b->len, s, len);
	b->pool[b->len + len] = '\0';
	*off = b->len;
	b->len += len + 1;
	return 0;
}

static bool is_text(char type)
{
	return type == 't' || type == 'T' || type == 'w' || type == 'W';
}

/* "ffffffff81000000 T _stext" or "ffffffffc0000000 t foo\t[mod]" */
static int add_line(struct ksyms_builder *b, const char *line)
{
	char type, *end, *mod;
	struct ksym_raw *r;
	const char *name;
	size_t len;
	__u64 addr;
	int err;

	addr = strtoull(line, &end, 16);
	if (end == line || end[0] != ' ' || !end[1] || end[2] != ' ')
		return -EINVAL;
	type = end[1];
	if (!is_text(type))
		return 0;
	name = end + 3;
	len = strcspn(name, "\t\n");
	if (!len)
		return -EINVAL;
	if (grow((void **)&b->raw, &b->cap, b->n + 1, sizeof(*b->raw)))
		return -ENOMEM;
	r = &b->raw[b->n];
	r->addr = addr;
	r->module = SIZE_MAX;
	err = pool_add(b, name, len, &r->name);
	if (err)
		return err;
	mod = strchr(name + len, '[');
	if (mod) {
		size_t mlen = strcspn(++mod, "]");

		if (b->last_module != SIZE_MAX &&
		    strlen(b->pool + b->last_module) == mlen &&
		    !strncmp(b->pool + b->last_module, mod, mlen)) {
			r->module = b->last_module;
		} else {
			err = pool_add(b, mod, mlen, &r->module);
			if (err)
				return err;
			b->last_module = r->module;
		}
	}
	b->n++;
	return 0;
}

static int cmp_raw(const void *a, const void *b)
{
	const struct ksym_raw *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

struct kheal_ksyms *kheal_ksyms_load(const char *path)
{
	struct ksyms_builder b = { .last_module = SIZE_MAX };
	struct kheal_ksyms *ks = NULL;
	bool any_addr = false;
	size_t cap = 0, i;
	char *line = NULL;
	int err = 0;
	FILE *f;

	f = fopen(path ? path : "/proc/kallsyms", "re");
	if (!f)
		return NULL;
	while (getline(&line, &cap, f) > 0) {
		err = add_line(&b, line);
		if (err == -EINVAL) {
			err = 0;	/* not a symbol line: skip it */
			continue;
		}
		if (err)
			goto out;
		if (b.n && b.raw[b.n - 1].addr)
			any_addr = true;
	}
	if (ferror(f)) {
		err = -EIO;
		goto out;
	}
	if (!b.n) {
		err = -ENOENT;
		goto out;
	}
	if (!any_addr) {
		err = -EPERM;
		goto out;
	}
	qsort(b.raw, b.n, sizeof(*b.raw), cmp_raw);

	ks = calloc(1, sizeof(*ks));
	if (ks)
		ks->syms = calloc(b.n, sizeof(*ks->syms));
	if (!ks || !ks->syms) {
		free(ks);
		ks = NULL;
		err = -ENOMEM;
		goto out;
	}
	ks->n = b.n;
	ks->pool = b.pool;
	b.pool = NULL;
	for (i = 0; i < b.n; i++) {
		ks->syms[i].addr = b.raw[i].addr;
		ks->syms[i].name = ks->pool + b.raw[i].name;
		ks->syms[i].module = b.raw[i].module == SIZE_MAX ? NULL :
				     ks->pool + b.raw[i].module;
	}
out:
	free(line);
	fclose(f);
	free(b.raw);
	free(b.pool);
	if (err)
		errno = -err;
	return ks;
}

void kheal_ksyms_free(struct kheal_ksyms *ks)
{
	if (!ks)
		return;
	free(ks->syms);
	free(ks->pool);
	free(ks);
}

size_t kheal_ksyms_count(const struct kheal_ksyms *ks)
{
	return ks->n;
}

const struct kheal_ksym *kheal_ksyms_find(const struct kheal_ksyms *ks,
					  __u64 addr)
{
	size_t lo = 0, hi = ks->n;

	/* The last symbol whose address is <= addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &ks->syms[lo - 1] : NULL;
}

int kheal_ksyms_format(const struct kheal_ksyms *ks, __u64 addr, char *buf,
		       size_t size)
{
	const struct kheal_ksym *s = ks ? kheal_ksyms_find(ks, addr) : NULL;

	if (!s)
		return snprintf(buf, size, "0x%" PRIx64, (uint64_t)addr);
	if (s->module)
		return snprintf(buf, size, "%s+0x%" PRIx64 " [%s]", s->name,
				(uint64_t)(addr - s->addr), s->module);
	return snprintf(buf, size, "%s+0x%" PRIx64, s->name,
			(uint64_t)(addr - s->addr));
}

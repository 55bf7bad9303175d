// SPDX-License-Identifier: GPL-2.0
/*
 * The comparison behind spec_matches_uapi: a small enum and #define parser
 * for the UAPI header, libyaml for the spec, and the checks both ways.
 *
 * C names follow the kernel's genetlink-c rules (tools/net/ynl): a name
 * is prefix + name, upper-cased, '-' becoming '_'; attributes and commands
 * count from 1 (0 is the implicit UNSPEC), enum entries from value-start
 * (default 0); render-max and every attribute set and command enum add
 * __<PREFIX>MAX = last + 1 and <PREFIX>MAX = last.
 *
 * Beyond names and values, an attribute's type, enum and nesting must
 * match what the comment on its header line says ("u64", "enum ...",
 * "nest, multi-attr: ..."), and every valued #define of the header must
 * be the family name, its version, a multicast group or a spec const.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "speccheck.h"

/* A test tool: running out of memory ends it. */
static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		perror("speccheck");
		abort();
	}
	return p;
}

static char *xstrdup(const char *s)
{
	return strcpy(xrealloc(NULL, strlen(s) + 1), s);
}

static char *xstrndup(const char *s, size_t n)
{
	char *d = xrealloc(NULL, n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define GROW(arr, n, cap)						\
	do {								\
		if ((n) == (cap)) {					\
			(cap) = (cap) ? 2 * (cap) : 16;			\
			(arr) = xrealloc((arr), (cap) * sizeof(*(arr)));\
		}							\
	} while (0)

static void report(struct spec_report *r, const char *f, ...)
	__attribute__((format(printf, 2, 3)));

static void report(struct spec_report *r, const char *f, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, f);
	if (vasprintf(&msg, f, ap) < 0)
		msg = xstrdup("speccheck: out of memory formatting a message");
	va_end(ap);
	GROW(r->msgs, r->n, r->cap);
	r->msgs[r->n++] = msg;
}

void spec_report_free(struct spec_report *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->msgs[i]);
	free(r->msgs);
	memset(r, 0, sizeof(*r));
}

bool spec_report_has(const struct spec_report *r, const char *text)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strstr(r->msgs[i], text))
			return true;
	return false;
}

/* "kheal-a-" + "since-seq" -> "KHEAL_A_SINCE_SEQ" */
static char *c_upper(const char *prefix, const char *name)
{
	char *s;
	size_t i;

	if (asprintf(&s, "%s%s", prefix, name) < 0)
		abort();
	for (i = 0; s[i]; i++)
		s[i] = s[i] == '-' ? '_' : toupper((unsigned char)s[i]);
	return s;
}

/* "kheal-event-kind" -> "kheal_event_kind" */
static char *c_lower(const char *name)
{
	char *s = xstrdup(name);
	size_t i;

	for (i = 0; s[i]; i++)
		s[i] = s[i] == '-' ? '_' : tolower((unsigned char)s[i]);
	return s;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, f);
	n = vasprintf(&s, f, ap);
	va_end(ap);
	if (n < 0)
		abort();
	return s;
}

static int read_text(const char *path, char **out, struct spec_report *r)
{
	size_t n = 0, cap = 4096, got;
	char *buf;
	FILE *f;
	int err;

	f = fopen(path, "rb");
	if (!f) {
		err = errno;
		report(r, "%s: cannot open: %s", path, strerror(err));
		return -err;
	}
	buf = xrealloc(NULL, cap);
	while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (cap - n - 1 == 0) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
	}
	err = ferror(f) ? EIO : 0;
	fclose(f);
	if (err) {
		free(buf);
		report(r, "%s: read error", path);
		return -err;
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

/* ---- the UAPI header ------------------------------------------------ */

enum tok_type { T_IDENT, T_NUMBER, T_STRING, T_PUNCT, T_COMMENT };

struct tok {
	enum tok_type type;
	char *text;
	int line;
	bool nl_before;		/* a newline since the previous token */
};

struct toks {
	struct tok *v;
	size_t n;
	size_t cap;
};

static void tok_push(struct toks *t, enum tok_type type, const char *s,
		     size_t len, int line, bool nl)
{
	GROW(t->v, t->n, t->cap);
	t->v[t->n++] = (struct tok){ type, xstrndup(s, len), line, nl };
}

static void toks_free(struct toks *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->v[i].text);
	free(t->v);
}

static bool parse_int(const char *s, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 0);
	if (errno || end == s)
		return false;
	while (*end == 'u' || *end == 'U' || *end == 'l' || *end == 'L')
		end++;
	while (isspace((unsigned char)*end))
		end++;
	return *end == '\0';
}

/* Records "#define NAME 12" and "#define NAME "text""; skips the rest. */
static void parse_define(struct uapi_header *h, const char *line, size_t len)
{
	char *s = xstrndup(line, len), *p, *name, *q;
	struct spec_define d = { 0 };
	bool quoted = false;

	/* drop comments outside string literals */
	for (q = s; *q; q++) {
		if (*q == '"')
			quoted = !quoted;
		if (!quoted && q[0] == '/' && (q[1] == '*' || q[1] == '/')) {
			*q = '\0';
			break;
		}
	}
	p = s + 1;
	while (isspace((unsigned char)*p))
		p++;
	if (strncmp(p, "define", 6) || !isspace((unsigned char)p[6]))
		goto out;
	p += 6;
	while (isspace((unsigned char)*p))
		p++;
	name = p;
	while (isalnum((unsigned char)*p) || *p == '_')
		p++;
	if (p == name || *p == '(')
		goto out;
	d.name = xstrndup(name, p - name);
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '"') {
		q = strchr(p + 1, '"');
		if (!q)
			goto out_free;
		d.str = xstrndup(p + 1, q - p - 1);
	} else if (!*p || !parse_int(p, &d.value)) {
		goto out_free;
	}
	h->defines = xrealloc(h->defines,
			      (h->n_defines + 1) * sizeof(*h->defines));
	h->defines[h->n_defines++] = d;
	free(s);
	return;
out_free:
	free(d.name);
out:
	free(s);
}

static int lex(const char *path, const char *text, struct uapi_header *h,
	       struct toks *t, struct spec_report *r)
{
	const char *p = text, *s;
	bool nl = true, line_start = true;
	int line = 1;

	while (*p) {
		if (*p == '\n') {
			line++;
			nl = true;
			line_start = true;
			p++;
			continue;
		}
		if (isspace((unsigned char)*p)) {
			p++;
			continue;
		}
		if (line_start && *p == '#') {
			s = p;
			while (*p && (*p != '\n' || p[-1] == '\\')) {
				if (*p == '\n')
					line++;
				p++;
			}
			parse_define(h, s, p - s);
			continue;
		}
		line_start = false;
		s = p;
		if (p[0] == '/' && p[1] == '*') {
			const char *end = strstr(p + 2, "*/");

			if (!end) {
				report(r, "%s:%d: unterminated comment", path,
				       line);
				return -EINVAL;
			}
			tok_push(t, T_COMMENT, p + 2, end - p - 2, line, nl);
			for (; p < end; p++)
				line += *p == '\n';
			p = end + 2;
		} else if (p[0] == '/' && p[1] == '/') {
			while (*p && *p != '\n')
				p++;
			tok_push(t, T_COMMENT, s + 2, p - s - 2, line, nl);
		} else if (isalpha((unsigned char)*p) || *p == '_') {
			while (isalnum((unsigned char)*p) || *p == '_')
				p++;
			tok_push(t, T_IDENT, s, p - s, line, nl);
		} else if (isdigit((unsigned char)*p)) {
			while (isalnum((unsigned char)*p))
				p++;
			tok_push(t, T_NUMBER, s, p - s, line, nl);
		} else if (*p == '"' || *p == '\'') {
			for (p++; *p && *p != *s && *p != '\n'; p++)
				if (*p == '\\' && p[1])
					p++;
			if (*p != *s) {
				report(r, "%s:%d: unterminated literal", path,
				       line);
				return -EINVAL;
			}
			p++;
			tok_push(t, T_STRING, s, p - s, line, nl);
		} else {
			p++;
			tok_push(t, T_PUNCT, s, 1, line, nl);
		}
		nl = false;
	}
	return 0;
}

const struct spec_const *uapi_find(const struct uapi_header *h,
				   const char *name)
{
	size_t i;

	for (i = 0; i < h->n_consts; i++)
		if (!strcmp(h->consts[i].name, name))
			return &h->consts[i];
	return NULL;
}

struct expr {
	const struct uapi_header *h;
	const struct tok *v;
	size_t i;
	size_t n;
};

static bool is_punct(const struct tok *t, char c)
{
	return t->type == T_PUNCT && t->text[0] == c;
}

static bool eval_sum(struct expr *e, long long *out);

static bool eval_term(struct expr *e, long long *out)
{
	const struct spec_const *c;
	const struct tok *t;

	if (e->i >= e->n)
		return false;
	t = &e->v[e->i++];
	if (is_punct(t, '-')) {
		if (!eval_term(e, out))
			return false;
		*out = -*out;
		return true;
	}
	if (is_punct(t, '(')) {
		if (!eval_sum(e, out) || e->i >= e->n ||
		    !is_punct(&e->v[e->i], ')'))
			return false;
		e->i++;
		return true;
	}
	if (t->type == T_NUMBER)
		return parse_int(t->text, out);
	if (t->type == T_IDENT) {
		c = uapi_find(e->h, t->text);
		if (!c)
			return false;
		*out = c->value;
		return true;
	}
	return false;
}

static bool eval_sum(struct expr *e, long long *out)
{
	long long rhs;
	char op;

	if (!eval_term(e, out))
		return false;
	while (e->i < e->n && (is_punct(&e->v[e->i], '+') ||
			       is_punct(&e->v[e->i], '-'))) {
		op = e->v[e->i++].text[0];
		if (!eval_term(e, &rhs))
			return false;
		*out = op == '+' ? *out + rhs : *out - rhs;
	}
	return true;
}

/* Parses "{ A, B = expr, ... }" from t->v[*k], the '{'. */
static int parse_enum_body(const char *path, struct uapi_header *h,
			   const struct toks *t, size_t *k,
			   const char *enum_name, struct spec_report *r)
{
	struct spec_const *last = NULL;
	long long next = 0;
	size_t i = *k + 1, start;

	for (; i < t->n; i++) {
		const struct tok *tk = &t->v[i];
		struct spec_const c = { 0 };

		if (tk->type == T_COMMENT) {
			if (last && !tk->nl_before && !last->note)
				last->note = xstrdup(tk->text);
			continue;
		}
		if (is_punct(tk, ','))
			continue;
		if (is_punct(tk, '}')) {
			*k = i;
			return 0;
		}
		if (tk->type != T_IDENT) {
			report(r, "%s:%d: unexpected '%s' in enum %s", path,
			       tk->line, tk->text, enum_name);
			return -EINVAL;
		}
		c.name = xstrdup(tk->text);
		c.enum_name = xstrdup(enum_name);
		c.line = tk->line;
		c.value = next;
		if (i + 1 < t->n && is_punct(&t->v[i + 1], '=')) {
			struct toks ex = { 0 };
			struct expr e = { h, NULL, 0, 0 };
			bool ok;

			for (start = i + 2; start < t->n; start++) {
				const struct tok *x = &t->v[start];

				if (is_punct(x, ',') || is_punct(x, '}'))
					break;
				if (x->type != T_COMMENT)
					tok_push(&ex, x->type, x->text,
						 strlen(x->text), x->line,
						 x->nl_before);
			}
			e.v = ex.v;
			e.n = ex.n;
			ok = eval_sum(&e, &c.value) && e.i == e.n;
			toks_free(&ex);
			if (!ok) {
				report(r, "%s:%d: cannot evaluate the value of %s",
				       path, tk->line, c.name);
				free(c.name);
				free(c.enum_name);
				return -EINVAL;
			}
			i = start - 1;
		}
		next = c.value + 1;
		h->consts = xrealloc(h->consts,
				     (h->n_consts + 1) * sizeof(*h->consts));
		h->consts[h->n_consts++] = c;
		last = &h->consts[h->n_consts - 1];
	}
	report(r, "%s: enum %s has no closing brace", path, enum_name);
	return -EINVAL;
}

int uapi_parse(const char *path, const char *text, struct uapi_header *h,
	       struct spec_report *r)
{
	struct toks t = { 0 };
	size_t k;
	int ret;

	memset(h, 0, sizeof(*h));
	ret = lex(path, text, h, &t, r);
	for (k = 0; !ret && k < t.n; k++) {
		const char *name = "(anonymous)";
		size_t b = k + 1;

		if (t.v[k].type != T_IDENT || strcmp(t.v[k].text, "enum"))
			continue;
		while (b < t.n && t.v[b].type == T_COMMENT)
			b++;
		if (b < t.n && t.v[b].type == T_IDENT)
			name = t.v[b++].text;
		while (b < t.n && t.v[b].type == T_COMMENT)
			b++;
		if (b >= t.n || !is_punct(&t.v[b], '{'))
			continue;
		h->n_enums++;
		ret = parse_enum_body(path, h, &t, &b, name, r);
		k = b;
	}
	toks_free(&t);
	return ret;
}

void uapi_header_free(struct uapi_header *h)
{
	size_t i;

	for (i = 0; i < h->n_consts; i++) {
		free(h->consts[i].name);
		free(h->consts[i].enum_name);
		free(h->consts[i].note);
	}
	for (i = 0; i < h->n_defines; i++) {
		free(h->defines[i].name);
		free(h->defines[i].str);
	}
	free(h->consts);
	free(h->defines);
	memset(h, 0, sizeof(*h));
}

static const struct spec_define *uapi_define(const struct uapi_header *h,
					     const char *name)
{
	size_t i;

	for (i = 0; i < h->n_defines; i++)
		if (!strcmp(h->defines[i].name, name))
			return &h->defines[i];
	return NULL;
}

/* ---- the YAML spec --------------------------------------------------- */

struct yspec {
	yaml_document_t doc;
	const char *path;
	struct spec_report *r;
	yaml_node_t *root;
	const char *family;
};

static yaml_node_t *ynode(struct yspec *y, int i)
{
	return yaml_document_get_node(&y->doc, i);
}

static int yline(const yaml_node_t *n)
{
	return n ? (int)n->start_mark.line + 1 : 0;
}

static const char *scalar(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

static yaml_node_t *map_get(struct yspec *y, const yaml_node_t *map,
			    const char *key)
{
	yaml_node_pair_t *p;

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(ynode(y, p->key));

		if (k && !strcmp(k, key))
			return ynode(y, p->value);
	}
	return NULL;
}

static const char *map_str(struct yspec *y, const yaml_node_t *map,
			   const char *key)
{
	return scalar(map_get(y, map, key));
}

static bool map_bool(struct yspec *y, const yaml_node_t *map,
		     const char *key)
{
	const char *s = map_str(y, map, key);

	return s && !strcmp(s, "true");
}

/* Return: 1 with *out set, 0 when @key is absent, -1 when not a number. */
static int map_int(struct yspec *y, const yaml_node_t *map, const char *key,
		   long long *out)
{
	yaml_node_t *n = map_get(y, map, key);
	const char *s = scalar(n);

	if (!n)
		return 0;
	if (s && parse_int(s, out))
		return 1;
	report(y->r, "%s:%d: '%s' is not an integer", y->path, yline(n), key);
	return -1;
}

static size_t seq_len(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SEQUENCE_NODE)
		return 0;
	return n->data.sequence.items.top - n->data.sequence.items.start;
}

static yaml_node_t *seq_at(struct yspec *y, const yaml_node_t *n, size_t i)
{
	return ynode(y, n->data.sequence.items.start[i]);
}

/* A sequence under @key, reporting any other type. NULL if absent. */
static yaml_node_t *map_seq(struct yspec *y, const yaml_node_t *map,
			    const char *key, const char *where)
{
	yaml_node_t *n = map_get(y, map, key);

	if (n && n->type != YAML_SEQUENCE_NODE) {
		report(y->r, "%s:%d: %s: '%s' is not a list", y->path,
		       yline(n), where, key);
		return NULL;
	}
	return n;
}

static yaml_node_t *find_named(struct yspec *y, const yaml_node_t *seq,
			       const char *name)
{
	size_t i;

	for (i = 0; i < seq_len(seq); i++) {
		yaml_node_t *n = seq_at(y, seq, i);
		const char *s = map_str(y, n, "name");

		if (s && !strcmp(s, name))
			return n;
	}
	return NULL;
}

/* A constant the spec defines or implies. */
struct item {
	char *name;
	long long value;
	char *enum_name;
	char *what;		/* "spec attribute 'since-seq'" */
	bool optional;		/* the implicit 0 of attributes and commands */
	bool is_attr;
	bool multi;
	const char *type;
	char *enum_c;		/* C enum of the attribute's values */
	char *nest_c;		/* C enum of the nested attribute set */
};

struct items {
	struct item *v;
	size_t n;
	size_t cap;
};

static struct item *item_add(struct items *it, char *name, long long value,
			     const char *enum_name, char *what)
{
	struct item *i;

	GROW(it->v, it->n, it->cap);
	i = &it->v[it->n++];
	memset(i, 0, sizeof(*i));
	i->name = name;
	i->value = value;
	i->enum_name = enum_name ? xstrdup(enum_name) : NULL;
	i->what = what;
	return i;
}

static void items_free(struct items *it)
{
	size_t i;

	for (i = 0; i < it->n; i++) {
		free(it->v[i].name);
		free(it->v[i].enum_name);
		free(it->v[i].what);
		free(it->v[i].enum_c);
		free(it->v[i].nest_c);
	}
	free(it->v);
}

static bool is_null(const char *s)
{
	return !*s || !strcmp(s, "~") || !strcmp(s, "null");
}

/* The C enum a definition renders to; NULL for an anonymous one. */
static char *def_enum_c(struct yspec *y, const yaml_node_t *def)
{
	const char *en = map_str(y, def, "enum-name");
	char *def_name, *c;

	if (en)
		return is_null(en) ? NULL : c_lower(en);
	def_name = fmt("%s-%s", y->family, map_str(y, def, "name"));
	c = c_lower(def_name);
	free(def_name);
	return c;
}

static void add_max(struct items *it, const char *prefix,
		    const char *cnt_name, const char *max_name,
		    long long last, const char *enum_c, const char *what)
{
	char *cnt, *max, *s;

	if (cnt_name) {
		cnt = c_upper("", cnt_name);
	} else {
		s = fmt("__%smax", prefix);
		cnt = c_upper("", s);
		free(s);
	}
	max = max_name ? c_upper("", max_name) : c_upper(prefix, "max");
	item_add(it, cnt, last + 1, enum_c, fmt("spec count of %s", what));
	item_add(it, max, last, enum_c, fmt("spec max of %s", what));
}

static void spec_definitions(struct yspec *y, struct items *it,
			     struct items *consts)
{
	yaml_node_t *defs = map_seq(y, y->root, "definitions", "family");
	size_t i, j;

	for (i = 0; i < seq_len(defs); i++) {
		yaml_node_t *d = seq_at(y, defs, i), *entries;
		const char *name = map_str(y, d, "name");
		const char *type = map_str(y, d, "type");
		const char *pfx = map_str(y, d, "name-prefix");
		char *prefix, *enum_c, *what;
		long long v = 0, last = -1;

		if (!name || !type) {
			report(y->r, "%s:%d: a definition needs a name and a type",
			       y->path, yline(d));
			continue;
		}
		if (!strcmp(type, "const")) {
			prefix = pfx ? xstrdup(pfx) : fmt("%s-", y->family);
			if (map_int(y, d, "value", &v) == 1)
				item_add(consts, c_upper(prefix, name), v, NULL,
					 fmt("spec const '%s'", name));
			else
				report(y->r, "%s:%d: const '%s' needs an integer value",
				       y->path, yline(d), name);
			free(prefix);
			continue;
		}
		if (strcmp(type, "enum")) {
			report(y->r, "%s:%d: definition '%s': type %s is not supported by this checker",
			       y->path, yline(d), name, type);
			continue;
		}
		prefix = pfx ? xstrdup(pfx) : fmt("%s-%s-", y->family, name);
		enum_c = def_enum_c(y, d);
		if (map_int(y, d, "value-start", &v) < 0)
			v = 0;
		entries = map_seq(y, d, "entries", name);
		for (j = 0; j < seq_len(entries); j++) {
			yaml_node_t *e = seq_at(y, entries, j);
			const char *en = scalar(e);

			if (!en) {
				en = map_str(y, e, "name");
				if (map_int(y, e, "value", &v) < 0)
					continue;
			}
			if (!en) {
				report(y->r, "%s:%d: an entry of '%s' has no name",
				       y->path, yline(e), name);
				continue;
			}
			what = fmt("spec %s entry '%s'", name, en);
			item_add(it, c_upper(prefix, en), v, enum_c, what);
			last = v++;
		}
		if (map_bool(y, d, "render-max")) {
			what = fmt("definition '%s'", name);
			add_max(it, prefix, map_str(y, d, "enum-cnt-name"), NULL,
				last, enum_c, what);
			free(what);
		}
		free(prefix);
		free(enum_c);
	}
}

static const char *const narrow_types[] = { "u8", "u16", "s8", "s16" };

static void spec_attr(struct yspec *y, struct item *i, yaml_node_t *a,
		      const char *name)
{
	yaml_node_t *defs = map_get(y, y->root, "definitions");
	yaml_node_t *sets = map_get(y, y->root, "attribute-sets");
	const char *ref;
	size_t k;

	i->is_attr = true;
	i->multi = map_bool(y, a, "multi-attr");
	i->type = map_str(y, a, "type");
	if (!i->type) {
		report(y->r, "%s:%d: spec attribute '%s' has no type", y->path,
		       yline(a), name);
		return;
	}
	for (k = 0; k < ARRAY_SIZE(narrow_types); k++)
		if (!strcmp(i->type, narrow_types[k]))
			report(y->r, "spec attribute '%s' is %s: STYLE.md allows no integer attribute under 32 bits",
			       name, i->type);
	ref = map_str(y, a, "enum");
	if (ref) {
		yaml_node_t *d = find_named(y, defs, ref);

		if (d)
			i->enum_c = def_enum_c(y, d);
		else
			report(y->r, "spec attribute '%s' uses enum '%s', which the spec does not define",
			       name, ref);
	}
	ref = map_str(y, a, "nested-attributes");
	if (ref) {
		yaml_node_t *s = find_named(y, sets, ref);
		const char *en = map_str(y, s, "enum-name");

		if (!s)
			report(y->r, "spec attribute '%s' nests attribute set '%s', which the spec does not define",
			       name, ref);
		else if (en)
			i->nest_c = c_lower(en);
	}
	if (!strcmp(i->type, "nest") && !ref)
		report(y->r, "spec attribute '%s' is a nest without nested-attributes",
		       name);
}

static void spec_attribute_sets(struct yspec *y, struct items *it)
{
	yaml_node_t *sets = map_seq(y, y->root, "attribute-sets", "family");
	size_t i, j;

	if (!sets)
		report(y->r, "%s: the spec has no attribute-sets", y->path);
	for (i = 0; i < seq_len(sets); i++) {
		yaml_node_t *s = seq_at(y, sets, i), *attrs;
		const char *name = map_str(y, s, "name");
		const char *pfx = map_str(y, s, "name-prefix");
		const char *en = map_str(y, s, "enum-name");
		char *prefix, *enum_c, *what;
		long long v = 1, last = 0;

		if (!name) {
			report(y->r, "%s:%d: an attribute set has no name",
			       y->path, yline(s));
			continue;
		}
		if (map_get(y, s, "subset-of"))
			continue;	/* its constants are its parent's */
		if (pfx)
			prefix = xstrdup(pfx);
		else if (!strcmp(name, y->family))
			prefix = fmt("%s-a-", name);
		else
			prefix = fmt("%s-a-%s-", y->family, name);
		enum_c = en && !is_null(en) ? c_lower(en) : NULL;
		what = fmt("spec implicit unspec of attribute set '%s'", name);
		item_add(it, c_upper(prefix, "unspec"), 0, enum_c,
			 what)->optional = true;
		attrs = map_seq(y, s, "attributes", name);
		for (j = 0; j < seq_len(attrs); j++) {
			yaml_node_t *a = seq_at(y, attrs, j);
			const char *an = map_str(y, a, "name");

			if (!an) {
				report(y->r, "%s:%d: an attribute of set '%s' has no name",
				       y->path, yline(a), name);
				continue;
			}
			if (map_int(y, a, "value", &v) < 0)
				continue;
			spec_attr(y, item_add(it, c_upper(prefix, an), v, enum_c,
					      fmt("spec attribute '%s'", an)),
				  a, an);
			last = v++;
		}
		what = fmt("attribute set '%s'", name);
		add_max(it, prefix, map_str(y, s, "attr-cnt-name"),
			map_str(y, s, "attr-max-name"), last, enum_c, what);
		free(what);
		free(prefix);
		free(enum_c);
	}
}

/* Each attribute an operation lists must be in its attribute set. */
static void check_attr_list(struct yspec *y, const yaml_node_t *list,
			    const yaml_node_t *set, const char *op,
			    const char *where)
{
	yaml_node_t *attrs = map_get(y, set, "attributes");
	size_t i;

	for (i = 0; i < seq_len(list); i++) {
		const char *a = scalar(seq_at(y, list, i));

		if (a && !find_named(y, attrs, a))
			report(y->r, "spec operation '%s' %s lists '%s', which attribute set '%s' does not have",
			       op, where, a, map_str(y, set, "name"));
	}
}

static void spec_op_refs(struct yspec *y, const yaml_node_t *op,
			 const char *name)
{
	static const char *const modes[] = { "do", "dump" };
	static const char *const parts[] = { "request", "reply" };
	yaml_node_t *sets = map_get(y, y->root, "attribute-sets");
	yaml_node_t *ops = map_get(y, map_get(y, y->root, "operations"),
				   "list");
	yaml_node_t *grps = map_get(y, map_get(y, y->root, "mcast-groups"),
				    "list");
	const char *set_name = map_str(y, op, "attribute-set");
	const char *s = map_str(y, op, "notify");
	yaml_node_t *set = NULL;
	char where[32];
	size_t m, p;

	if (s && !find_named(y, ops, s))
		report(y->r, "spec operation '%s' notifies for '%s', which is not an operation",
		       name, s);
	s = map_str(y, op, "mcgrp");
	if (s && !find_named(y, grps, s))
		report(y->r, "spec operation '%s' uses multicast group '%s', which the spec does not define",
		       name, s);
	if (set_name) {
		set = find_named(y, sets, set_name);
		if (!set) {
			report(y->r, "spec operation '%s' uses attribute set '%s', which the spec does not define",
			       name, set_name);
			return;
		}
	} else if (map_get(y, op, "do") || map_get(y, op, "dump") ||
		   map_get(y, op, "event")) {
		report(y->r, "spec operation '%s' has messages but no attribute-set",
		       name);
		return;
	}
	for (m = 0; m < 2; m++) {
		for (p = 0; p < 2; p++) {
			yaml_node_t *part = map_get(y, map_get(y, op, modes[m]),
						    parts[p]);

			snprintf(where, sizeof(where), "%s %s", modes[m],
				 parts[p]);
			check_attr_list(y, map_get(y, part, "attributes"), set,
					name, where);
		}
	}
	check_attr_list(y, map_get(y, map_get(y, op, "event"), "attributes"),
			set, name, "event");
}

static void spec_operations(struct yspec *y, struct items *it)
{
	yaml_node_t *ops = map_get(y, y->root, "operations"), *list;
	const char *pfx = map_str(y, ops, "name-prefix");
	const char *en = map_str(y, ops, "enum-name");
	const char *model = map_str(y, ops, "enum-model");
	char *prefix, *enum_c;
	long long v = 1, last = 0;
	size_t i;

	list = map_seq(y, ops, "list", "operations");
	if (!list) {
		report(y->r, "%s: the spec has no operations list", y->path);
		return;
	}
	if (model && strcmp(model, "unified"))
		report(y->r, "%s: enum-model %s is not supported by this checker",
		       y->path, model);
	if (map_get(y, ops, "async-prefix"))
		report(y->r, "%s: async-prefix is not supported by this checker",
		       y->path);
	prefix = pfx ? xstrdup(pfx) : fmt("%s-cmd-", y->family);
	enum_c = en && !is_null(en) ? c_lower(en) : NULL;
	item_add(it, c_upper(prefix, "unspec"), 0, enum_c,
		 xstrdup("spec implicit unspec of the operations"))->optional =
		true;
	for (i = 0; i < seq_len(list); i++) {
		yaml_node_t *op = seq_at(y, list, i);
		const char *name = map_str(y, op, "name");

		if (!name) {
			report(y->r, "%s:%d: an operation has no name", y->path,
			       yline(op));
			continue;
		}
		if (map_int(y, op, "value", &v) < 0)
			continue;
		item_add(it, c_upper(prefix, name), v, enum_c,
			 fmt("spec operation '%s'", name));
		spec_op_refs(y, op, name);
		last = v++;
	}
	add_max(it, prefix, map_str(y, y->root, "cmd-cnt-name"),
		map_str(y, y->root, "cmd-max-name"), last, enum_c,
		"the operations");
	free(prefix);
	free(enum_c);
}

/* ---- the comparison -------------------------------------------------- */

/* First word of a header comment, e.g. "u64" in "u64, gap-free ...". */
static char *note_word(const char *note)
{
	const char *s = note, *e;

	while (isspace((unsigned char)*s))
		s++;
	for (e = s; isalnum((unsigned char)*e) || *e == '_'; e++)
		;
	return xstrndup(s, e - s);
}

/* The identifier after "enum " in a header comment, or NULL. */
static char *note_enum(const char *note)
{
	const char *s = strstr(note, "enum ");
	const char *e;

	if (!s)
		return NULL;
	for (s += 5, e = s; isalnum((unsigned char)*e) || *e == '_'; e++)
		;
	return e > s ? xstrndup(s, e - s) : NULL;
}

/* An identifier ending in "_attr" in a header comment: a nest's set. */
static char *note_nest(const char *note)
{
	const char *s = note, *e;

	for (; *s; s = e) {
		while (*s && !(isalnum((unsigned char)*s) || *s == '_'))
			s++;
		for (e = s; isalnum((unsigned char)*e) || *e == '_'; e++)
			;
		if (e - s > 5 && !strncmp(e - 5, "_attr", 5))
			return xstrndup(s, e - s);
	}
	return NULL;
}

static const char *const note_types[] = {
	"u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64",
	"string", "nest", "flag", "binary", "pad",
};

/* The header's comments state each attribute's type; the spec must agree. */
static void check_note(const struct item *i, const struct spec_const *c,
		       struct spec_report *r)
{
	char *word, *en;
	size_t k;

	if (!c->note || !i->type)
		return;
	word = note_word(c->note);
	for (k = 0; k < ARRAY_SIZE(note_types); k++)
		if (!strcmp(word, note_types[k]) && strcmp(word, i->type))
			report(r, "%s is %s but the header comment on %s says %s",
			       i->what, i->type, c->name, word);
	free(word);

	en = note_enum(c->note);
	if (en && !i->enum_c)
		report(r, "%s has no enum but the header comment on %s says enum %s",
		       i->what, c->name, en);
	else if (en && strcmp(en, i->enum_c))
		report(r, "%s uses enum %s but the header comment on %s says enum %s",
		       i->what, i->enum_c, c->name, en);
	else if (!en && i->enum_c)
		report(r, "%s uses enum %s but the header comment on %s names no enum",
		       i->what, i->enum_c, c->name);
	free(en);

	if (!!strstr(c->note, "multi-attr") != i->multi)
		report(r, "%s is %smulti-attr but the header comment on %s says %s",
		       i->what, i->multi ? "" : "not ", c->name, c->note);

	if (strcmp(i->type, "nest"))
		return;
	en = note_nest(c->note);
	if (en && i->nest_c && strcmp(en, i->nest_c))
		report(r, "%s nests enum %s but the header comment on %s says %s",
		       i->what, i->nest_c, c->name, en);
	free(en);
}

static void compare_consts(const struct items *it, const struct uapi_header *h,
			   struct spec_report *r, struct spec_stats *st)
{
	size_t i, j;

	for (i = 0; i < it->n; i++) {
		const struct item *x = &it->v[i];
		const struct spec_const *c = uapi_find(h, x->name);

		for (j = 0; j < i; j++)
			if (!strcmp(it->v[j].name, x->name))
				report(r, "%s and %s both map to %s",
				       it->v[j].what, x->what, x->name);
		if (!c) {
			if (!x->optional)
				report(r, "%s = %lld is %s, which the header does not define",
				       x->what, x->value, x->name);
			continue;
		}
		st->matched++;
		if (c->value != x->value)
			report(r, "%s = %lld but header %s = %lld", x->what,
			       x->value, c->name, c->value);
		if (x->enum_name && strcmp(x->enum_name, c->enum_name))
			report(r, "%s is %s in enum %s, but the header has it in enum %s",
			       x->what, x->name, x->enum_name, c->enum_name);
		if (x->is_attr)
			check_note(x, c, r);
	}
	for (j = 0; j < h->n_consts; j++) {
		const struct spec_const *c = &h->consts[j];

		for (i = 0; i < it->n; i++)
			if (!strcmp(it->v[i].name, c->name))
				break;
		if (i == it->n)
			report(r, "header %s = %lld (enum %s) is not in the spec",
			       c->name, c->value, c->enum_name);
	}
}

/* Names of the header #defines the spec accounts for. */
struct names {
	char **v;
	size_t n;
	size_t cap;
};

static void names_add(struct names *nm, char *name)
{
	GROW(nm->v, nm->n, nm->cap);
	nm->v[nm->n++] = name;
}

static bool names_has(const struct names *nm, const char *name)
{
	size_t i;

	for (i = 0; i < nm->n; i++)
		if (!strcmp(nm->v[i], name))
			return true;
	return false;
}

static void names_free(struct names *nm)
{
	size_t i;

	for (i = 0; i < nm->n; i++)
		free(nm->v[i]);
	free(nm->v);
}

static void compare_family(struct yspec *y, const struct items *consts,
			   const struct uapi_header *h, struct names *seen)
{
	yaml_node_t *grps = map_get(y, map_get(y, y->root, "mcast-groups"),
				    "list");
	const struct spec_define *d;
	const char *s;
	long long version = 1;
	char *name;
	size_t i;

	s = map_str(y, y->root, "c-family-name");
	name = s ? c_upper("", s) : c_upper(y->family, "-family-name");
	d = uapi_define(h, name);
	if (!d)
		report(y->r, "spec family name '%s' is %s, which the header does not define",
		       y->family, name);
	else if (!d->str || strcmp(d->str, y->family))
		report(y->r, "spec family name '%s' but header %s = \"%s\"",
		       y->family, name, d->str ? d->str : "(a number)");
	names_add(seen, name);

	if (map_int(y, y->root, "version", &version) < 0)
		version = 1;
	s = map_str(y, y->root, "c-version-name");
	name = s ? c_upper("", s) : c_upper(y->family, "-family-version");
	d = uapi_define(h, name);
	if (!d)
		report(y->r, "spec family version %lld is %s, which the header does not define",
		       version, name);
	else if (d->str || d->value != version)
		report(y->r, "spec family version %lld%s but header %s = %lld",
		       version, map_get(y, y->root, "version") ? "" :
		       " (the default)", name, d->value);
	names_add(seen, name);

	for (i = 0; i < seq_len(grps); i++) {
		yaml_node_t *g = seq_at(y, grps, i);
		const char *gn = map_str(y, g, "name");

		if (!gn)
			continue;
		s = map_str(y, g, "c-define-name");
		if (s) {
			name = c_upper("", s);
		} else {
			char *def = fmt("%s-mcgrp-%s", y->family, gn);

			name = c_upper("", def);
			free(def);
		}
		d = uapi_define(h, name);
		if (!d)
			report(y->r, "spec multicast group '%s' is %s, which the header does not define",
			       gn, name);
		else if (!d->str || strcmp(d->str, gn))
			report(y->r, "spec multicast group '%s' but header %s = \"%s\"",
			       gn, name, d->str ? d->str : "(a number)");
		names_add(seen, name);
	}

	for (i = 0; i < consts->n; i++) {
		const struct item *c = &consts->v[i];

		d = uapi_define(h, c->name);
		if (!d)
			report(y->r, "%s = %lld is %s, which the header does not define",
			       c->what, c->value, c->name);
		else if (d->str || d->value != c->value)
			report(y->r, "%s = %lld but header %s = %lld", c->what,
			       c->value, c->name, d->value);
		names_add(seen, xstrdup(c->name));
	}

	for (i = 0; i < h->n_defines; i++) {
		d = &h->defines[i];
		if (names_has(seen, d->name))
			continue;
		if (d->str)
			report(y->r, "header %s = \"%s\" is not in the spec (a multicast group or the family name?)",
			       d->name, d->str);
		else
			report(y->r, "header %s = %lld is not in the spec (a const definition?)",
			       d->name, d->value);
	}
}

static int yaml_load(struct yspec *y)
{
	yaml_parser_t parser;
	FILE *f;
	int err;

	f = fopen(y->path, "rb");
	if (!f) {
		err = errno;
		report(y->r, "%s: cannot open: %s", y->path, strerror(err));
		return -err;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &y->doc)) {
		report(y->r, "%s:%zu:%zu: YAML error: %s%s%s", y->path,
		       parser.problem_mark.line + 1,
		       parser.problem_mark.column + 1,
		       parser.problem ? parser.problem : "unknown",
		       parser.context ? " " : "",
		       parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		fclose(f);
		return -EINVAL;
	}
	yaml_parser_delete(&parser);
	fclose(f);
	y->root = yaml_document_get_root_node(&y->doc);
	if (!y->root || y->root->type != YAML_MAPPING_NODE) {
		report(y->r, "%s: the spec is not a YAML mapping", y->path);
		yaml_document_delete(&y->doc);
		return -EINVAL;
	}
	y->family = map_str(y, y->root, "name");
	if (!y->family) {
		report(y->r, "%s: the spec has no family name", y->path);
		yaml_document_delete(&y->doc);
		return -EINVAL;
	}
	return 0;
}

int spec_check_files(const char *yaml_path, const char *uapi_path,
		     struct spec_report *r, struct spec_stats *st)
{
	struct yspec y = { .path = yaml_path, .r = r };
	struct spec_stats dummy;
	struct uapi_header h;
	struct items it = { 0 }, consts = { 0 };
	struct names seen = { 0 };
	char *text;
	int ret;

	if (!st)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	ret = read_text(uapi_path, &text, r);
	if (ret)
		return ret;
	ret = uapi_parse(uapi_path, text, &h, r);
	free(text);
	if (ret)
		goto out_free_header;
	ret = yaml_load(&y);
	if (ret)
		goto out_free_header;

	spec_definitions(&y, &it, &consts);
	spec_attribute_sets(&y, &it);
	spec_operations(&y, &it);
	compare_consts(&it, &h, r, st);
	compare_family(&y, &consts, &h, &seen);

	st->header_enums = h.n_enums;
	st->header_consts = h.n_consts;
	st->spec_consts = it.n;

	names_free(&seen);
	items_free(&consts);
	items_free(&it);
	yaml_document_delete(&y.doc);
out_free_header:
	uapi_header_free(&h);
	return ret;
}

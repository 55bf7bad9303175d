// SPDX-License-Identifier: GPL-2.0
/*
 * Runbooks: the action and check tables, the parser (libyaml events into
 * a small tree, then the tree checked against the schema in runbook.h),
 * the canonical emitter, the directory loader, the matcher and drafts.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <yaml.h>

#include "actions.h"
#include "service.h"
#include "json.h"
#include "runbook.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define MAX_FILE		(1 << 20)
#define MAX_DEPTH		32
#define MAX_LIST		32
#define MAX_FIELDS		16
#define MAX_TEXT		1024
#define MAX_DESCRIPTION		512
#define MAX_ATTEMPTS		100
#define MAX_DURATION_MS		(168ULL * 3600 * 1000)
#define PATH_LEN		128
#define LIST_LEN		384
#define WHAT_LEN		(LIST_LEN + 64)

#define DEFAULT_COOLDOWN_MS	(5 * 60 * 1000)
#define DEFAULT_MAX_ATTEMPTS	3
#define DEFAULT_TARGET		"operator"
#define DRAFT_TIMEOUT_MS	5000

static const char *const risk_names[] = {
	[KHEAL_RISK_LOW]	= "low",
	[KHEAL_RISK_MEDIUM]	= "medium",
	[KHEAL_RISK_HIGH]	= "high",
};
_Static_assert(ARRAY_SIZE(risk_names) == KHEAL_NRISKS, "every risk has a name");

const char *kheal_risk_name(enum kheal_risk risk)
{
	return (unsigned int)risk < KHEAL_NRISKS ? risk_names[risk] : NULL;
}

static const char *const op_names[] = {
	[KHEAL_OP_EQ]		= "==",
	[KHEAL_OP_NE]		= "!=",
	[KHEAL_OP_LT]		= "<",
	[KHEAL_OP_LE]		= "<=",
	[KHEAL_OP_GT]		= ">",
	[KHEAL_OP_GE]		= ">=",
	[KHEAL_OP_MATCHES]	= "matches",
};

static const char *const below_names[] = {
	[KHEAL_BELOW_ESCALATE]		= "escalate",
	[KHEAL_BELOW_LOW_RISK_SUBSET]	= "low-risk-subset",
};

static const char *const awaiting_names[] = {
	[KHEAL_AWAITING_NOTHING]		= "nothing",
	[KHEAL_AWAITING_LOW_RISK_SUBSET]	= "low-risk-subset",
};

_Static_assert(KHEAL_EVENT_MAX < 32, "match.kinds is a uint32_t");

#define P_CGROUP	{ "cgroup", KHEAL_PARAM_STR, false, "${cgroup_path}" }
#define P_PID		{ "pid", KHEAL_PARAM_UINT, false, "${pid}" }
#define P_TARGET(def)	{ "target", KHEAL_PARAM_STR, false, def }
#define P_DEV		{ "dev", KHEAL_PARAM_STR, false, "${dev}" }

/*
 * Risk is what an action can cost if the diagnosis was wrong: freezing
 * is undone by thawing; killing loses work; telling people costs nothing.
 */
const struct kheal_action kheal_actions[] = {
	{ "cgroup.freeze", KHEAL_RISK_LOW, true, { P_CGROUP },
	  kheal_action_cgroup_freeze },
	{ "cgroup.thaw", KHEAL_RISK_LOW, true, { P_CGROUP },
	  kheal_action_cgroup_thaw },
	{ "cgroup.kill", KHEAL_RISK_MEDIUM, true, { P_CGROUP },
	  kheal_action_cgroup_kill },
	{ "task.kill", KHEAL_RISK_MEDIUM, true,
	  { P_PID, { "signal", KHEAL_PARAM_SIGNAL, false, "KILL" } },
	  kheal_action_task_kill },
	{ "escalate", KHEAL_RISK_LOW, false,
	  { { "message", KHEAL_PARAM_STR, false,
	      "${kind} on ${subsystem} needs a human" },
	    P_TARGET(DEFAULT_TARGET) }, kheal_action_escalate },
	{ "notify", KHEAL_RISK_LOW, false,
	  { { "message", KHEAL_PARAM_STR, true, NULL },
	    P_TARGET("journal") }, kheal_action_notify },
	/* Starting what was killed again cannot make it worse than dead. */
	{ "service.restart", KHEAL_RISK_LOW, true, { P_CGROUP },
	  kheal_action_service_restart },
	/* A link taken down comes back up; a failover moves a whole bond. */
	{ "netdev.down", KHEAL_RISK_LOW, true, { P_DEV },
	  kheal_action_netdev_down },
	{ "netdev.up", KHEAL_RISK_LOW, true, { P_DEV },
	  kheal_action_netdev_up },
	{ "bond.failover", KHEAL_RISK_MEDIUM, true, { P_DEV },
	  kheal_action_bond_failover },
	/* One process of the cgroup, the one that grew most, is killed. */
	{ "memory.kill_leaker", KHEAL_RISK_MEDIUM, true, { P_CGROUP },
	  kheal_action_memory_kill_leaker },
	/*
	 * Only a request that a fleet-locked rebooter honours: the host is
	 * not changed until it reboots, and that may lose all its work.
	 */
	{ "host.reboot", KHEAL_RISK_HIGH, false,
	  { { "reason", KHEAL_PARAM_STR, false,
	      "${kind} on ${subsystem}" } },
	  kheal_action_host_reboot },
	/*
	 * A member failed out of its array loses the redundancy it still
	 * gave; recovery onto a spare only adds some; a faulty member's
	 * removal loses nothing. A filesystem remounted read-only fails its
	 * writers.
	 */
	{ "md.fail_member", KHEAL_RISK_MEDIUM, true, { P_DEV },
	  kheal_action_md_fail_member },
	{ "md.add_spare", KHEAL_RISK_LOW, true,
	  { P_DEV, { "spare", KHEAL_PARAM_STR, false, NULL } },
	  kheal_action_md_add_spare },
	{ "md.remove_member", KHEAL_RISK_LOW, true, { P_DEV },
	  kheal_action_md_remove_member },
	{ "fs.remount_ro", KHEAL_RISK_MEDIUM, true, { P_DEV },
	  kheal_action_fs_remount_ro },
};
const size_t kheal_nactions = ARRAY_SIZE(kheal_actions);

const struct kheal_check kheal_checks[] = {
	{ "cgroup.empty", { P_CGROUP }, kheal_check_cgroup_empty },
	{ "task.gone", { P_PID }, kheal_check_task_gone },
	{ "service.ok", { P_CGROUP }, kheal_check_service_ok },
	{ "netdev.carrier", { P_DEV }, kheal_check_netdev_carrier },
	{ "bond.active_ok", { P_DEV }, kheal_check_bond_active_ok },
	{ "memory.pressure_ok",
	  { P_CGROUP, { "stall_pct", KHEAL_PARAM_UINT, false, "10" } },
	  kheal_check_memory_pressure_ok },
	{ "md.member", { P_DEV }, kheal_check_md_member },
	{ "md.resynced", { P_DEV }, kheal_check_md_resynced },
	{ "fs.mounted", { P_DEV }, kheal_check_fs_mounted },
	{ "fs.readonly", { P_DEV }, kheal_check_fs_readonly },
	/* The health registry answers it: the brain runs it. */
	{ "subsystem.healthy",
	  { { "subsystem", KHEAL_PARAM_STR, false, "${subsystem}" } }, NULL },
};
const size_t kheal_nchecks = ARRAY_SIZE(kheal_checks);

const struct kheal_action *kheal_action_find(const char *name)
{
	size_t i;

	for (i = 0; i < kheal_nactions; i++)
		if (!strcmp(kheal_actions[i].name, name))
			return &kheal_actions[i];
	return NULL;
}

const struct kheal_check *kheal_check_find(const char *name)
{
	size_t i;

	for (i = 0; i < kheal_nchecks; i++)
		if (!strcmp(kheal_checks[i].name, name))
			return &kheal_checks[i];
	return NULL;
}

/* "a, b, c" into @buf, from the strings @next hands out in turn. */
static const char *join(char *buf, size_t len,
			const char *(*next)(size_t i, const void *arg),
			const void *arg)
{
	struct kheal_json j;
	const char *s;
	size_t i;

	kheal_json_init(&j, buf, len);
	for (i = 0; (s = next(i, arg)); i++)
		kheal_json_raw(&j, "%s%s", i ? ", " : "", s);
	if (kheal_json_finish(&j) < 0)
		snprintf(buf, len, "(too many to list)");
	return buf;
}

static const char *nth_action(size_t i, const void *arg)
{
	(void)arg;
	return i < kheal_nactions ? kheal_actions[i].name : NULL;
}

static const char *nth_check(size_t i, const void *arg)
{
	(void)arg;
	return i < kheal_nchecks ? kheal_checks[i].name : NULL;
}

static const char *nth_param(size_t i, const void *arg)
{
	const struct kheal_param_spec *spec = arg;

	return i < KHEAL_ACTION_MAX_PARAMS ? spec[i].name : NULL;
}

struct names {
	const char *const *v;
	size_t n;
};

static const char *nth_name(size_t i, const void *arg)
{
	const struct names *names = arg;

	return i < names->n ? names->v[i] : NULL;
}

/* An enum's names as event.h prints them, skipping values without one. */
typedef const char *(*value_name_fn)(uint32_t v);

#define NAMED_MAX	64

static const char *nth_value_name(size_t i, const void *arg)
{
	const value_name_fn *fn = arg;
	const char *s;
	uint32_t v;

	for (v = 0; v < NAMED_MAX; v++) {
		s = (*fn)(v);
		if (s && !i--)
			return s;
	}
	return NULL;
}

static bool value_of_name(value_name_fn fn, const char *s, uint32_t *out)
{
	const char *name;
	uint32_t v;

	for (v = 0; v < NAMED_MAX; v++) {
		name = fn(v);
		if (name && !strcmp(name, s)) {
			*out = v;
			return true;
		}
	}
	return false;
}

static const char *nth_attr(size_t i, const void *arg)
{
	(void)arg;
	return i < kheal_event_nfields ? kheal_event_fields[i].name : NULL;
}

/* What a template may name: the attributes, then the subsystem id. */
static const char *nth_var(size_t i, const void *arg)
{
	return i == kheal_event_nfields ? "subsystem" : nth_attr(i, arg);
}

static const struct kheal_event_field *field_named(const char *name,
						   size_t n)
{
	const struct kheal_event_field *f;

	for (f = kheal_event_fields; f < kheal_event_fields +
	     kheal_event_nfields; f++)
		if (strlen(f->name) == n && !strncmp(f->name, name, n))
			return f;
	return NULL;
}

static uint64_t field_num(const struct kheal_event *ev,
			  const struct kheal_event_field *f)
{
	const char *p = (const char *)ev + f->offset;

	if (f->type == KHEAL_FIELD_U32)
		return *(const uint32_t *)p;
	return *(const uint64_t *)p;
}

static const char *field_str(const struct kheal_event *ev,
			     const struct kheal_event_field *f)
{
	return (const char *)ev + f->offset;
}

/* The YAML document as a tree, positions kept for error messages. */
enum node_type {
	NODE_SCALAR,
	NODE_MAP,
	NODE_SEQ,
};

struct node {
	enum node_type type;
	unsigned int line, col;		/* from 1 */
	bool null;			/* a plain empty, ~ or null scalar */
	char *text;			/* scalars */
	struct node **kids;		/* maps: key, value, key, value... */
	size_t n, cap;
};

struct parse {
	const char *file;
	const char *buf;
	size_t len;
	struct kheal_err *err;
};

static void node_free(struct node *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->n; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->text);
	free(n);
}

static int __attribute__((format(printf, 5, 6)))
at(struct parse *p, size_t line, size_t col, const char *path,
   const char *fmt, ...)
{
	char msg[sizeof(p->err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return kheal_err_set(p->err, EINVAL, "%s:%zu:%zu: %s%s%s", p->file,
			     line, col, path, *path ? ": " : "", msg);
}

#define bad(p, n, path, ...)	at(p, (n)->line, (n)->col, path, __VA_ARGS__)

static int oom(struct parse *p)
{
	return kheal_err_set(p->err, ENOMEM, "%s: out of memory", p->file);
}

/* Byte offset to line and column, for errors libyaml gives as offsets. */
static void offset_pos(const struct parse *p, size_t off, size_t *line,
		       size_t *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && i < p->len; i++) {
		if (p->buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* True if line @line (from 0) is indented with a tab. */
static bool tab_indented(const struct parse *p, size_t line)
{
	const char *s = p->buf, *end = p->buf + p->len;

	while (line && s < end) {
		s = memchr(s, '\n', end - s);
		if (!s)
			return false;
		s++;
		line--;
	}
	for (; s < end && (*s == ' ' || *s == '\t'); s++)
		if (*s == '\t')
			return true;
	return false;
}

static int syntax_error(struct parse *p, const yaml_parser_t *yp)
{
	const yaml_mark_t *pm = &yp->problem_mark, *cm = &yp->context_mark;
	const char *what = yp->context, *sp;
	size_t line, col;

	if (yp->error == YAML_MEMORY_ERROR)
		return oom(p);
	if (yp->error == YAML_READER_ERROR) {
		offset_pos(p, yp->problem_offset, &line, &col);
		return at(p, line, col, "", "not UTF-8 text: %s", yp->problem);
	}
	/* Report an unclosed quote or bracket where it opened. */
	if (what && !strcmp(yp->problem, "found unexpected end of stream")) {
		if (!strncmp(what, "while ", 6) && (sp = strchr(what + 6, ' ')))
			what = sp + 1;
		return at(p, cm->line + 1, cm->column + 1, "",
			  "YAML syntax error: %s starts here and is never closed (end of file at %zu:%zu)",
			  what, pm->line + 1, pm->column + 1);
	}
	if (what && (cm->line != pm->line || cm->column != pm->column))
		return at(p, pm->line + 1, pm->column + 1, "",
			  "YAML syntax error: %s, %s at %zu:%zu%s", yp->problem,
			  what, cm->line + 1, cm->column + 1,
			  tab_indented(p, pm->line) ?
			  "; indent with spaces, not tabs" : "");
	return at(p, pm->line + 1, pm->column + 1, "", "YAML syntax error: %s%s",
		  yp->problem, tab_indented(p, pm->line) ?
		  "; indent with spaces, not tabs" : "");
}

static int node_new(struct parse *p, const yaml_event_t *ev, struct node **out)
{
	struct node *n = calloc(1, sizeof(*n));
	const char *s;
	size_t len;

	if (!n)
		return oom(p);
	n->line = ev->start_mark.line + 1;
	n->col = ev->start_mark.column + 1;
	if (ev->type == YAML_MAPPING_START_EVENT) {
		n->type = NODE_MAP;
	} else if (ev->type == YAML_SEQUENCE_START_EVENT) {
		n->type = NODE_SEQ;
	} else {
		n->type = NODE_SCALAR;
		s = (const char *)ev->data.scalar.value;
		len = ev->data.scalar.length;
		if (memchr(s, '\0', len)) {
			free(n);
			return at(p, ev->start_mark.line + 1,
				  ev->start_mark.column + 1, "",
				  "NUL characters are not allowed");
		}
		n->null = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
			  (!len || !strcmp(s, "~") || !strcasecmp(s, "null"));
		n->text = strndup(s, len);
		if (!n->text) {
			free(n);
			return oom(p);
		}
	}
	*out = n;
	return 0;
}

static int node_add(struct parse *p, struct node *parent, struct node *kid)
{
	struct node **kids;
	size_t cap;

	if (parent->n == parent->cap) {
		cap = parent->cap ? 2 * parent->cap : 8;
		kids = realloc(parent->kids, cap * sizeof(*kids));
		if (!kids)
			return oom(p);
		parent->kids = kids;
		parent->cap = cap;
	}
	parent->kids[parent->n++] = kid;
	return 0;
}

/* One event into the tree; *done once the stream ends. */
static int tree_event(struct parse *p, const yaml_event_t *ev,
		      struct node **stack, int *depth, struct node **root,
		      bool *done)
{
	const yaml_mark_t *m = &ev->start_mark;
	struct node *n = NULL;
	int ret;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (*root)
			return at(p, m->line + 1, m->column + 1, "",
				  "a second YAML document; a file holds one runbook");
		return 0;
	case YAML_STREAM_END_EVENT:
		*done = true;
		return 0;
	case YAML_ALIAS_EVENT:
		return at(p, m->line + 1, m->column + 1, "",
			  "aliases (*%s) are not allowed in runbooks",
			  (const char *)ev->data.alias.anchor);
	case YAML_SCALAR_EVENT:
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		(*depth)--;
		return 0;
	default:
		return 0;
	}

	ret = node_new(p, ev, &n);
	if (ret)
		return ret;
	if (!*depth) {
		*root = n;
	} else {
		ret = node_add(p, stack[*depth - 1], n);
		if (ret) {
			node_free(n);
			return ret;
		}
	}
	if (n->type == NODE_SCALAR)
		return 0;
	if (*depth == MAX_DEPTH)
		return bad(p, n, "", "nested deeper than %d levels", MAX_DEPTH);
	stack[(*depth)++] = n;
	return 0;
}

static int tree_build(struct parse *p, struct node **out)
{
	struct node *stack[MAX_DEPTH], *root = NULL;
	yaml_parser_t yp;
	yaml_event_t ev;
	bool done = false;
	int depth = 0, ret = 0;

	if (!yaml_parser_initialize(&yp))
		return oom(p);
	yaml_parser_set_input_string(&yp, (const unsigned char *)p->buf,
				     p->len);
	while (!done && !ret) {
		if (!yaml_parser_parse(&yp, &ev)) {
			ret = syntax_error(p, &yp);
			break;
		}
		ret = tree_event(p, &ev, stack, &depth, &root, &done);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&yp);
	if (!ret && !root)
		ret = at(p, 1, 1, "", "no runbook in the file: expected a mapping with name, match, risk and steps");
	if (ret) {
		node_free(root);
		return ret;
	}
	*out = root;
	return 0;
}

/* How a node reads in "expected X, got Y". */
/* snprintf where a cut is harmless: messages' paths and quotes. */
static void __attribute__((format(printf, 3, 4)))
cut(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static const char *what_is(const struct node *n, char *buf, size_t len)
{
	if (n->type == NODE_MAP)
		return "a mapping";
	if (n->type == NODE_SEQ)
		return "a list";
	if (n->null)
		return "nothing";
	cut(buf, len, "'%.64s%s'", n->text,
		 strlen(n->text) > 64 ? "..." : "");
	return buf;
}

static int expected(struct parse *p, const struct node *n, const char *path,
		    const char *what)
{
	char got[80];

	return bad(p, n, path, "expected %s, got %s", what,
		   what_is(n, got, sizeof(got)));
}

static const char *subpath(char *buf, const char *path, const char *key)
{
	cut(buf, PATH_LEN, "%s%s%s", path, *path ? "." : "", key);
	return buf;
}

struct field {
	const char *key;
	bool required;
};

static const char *nth_key(size_t i, const void *arg)
{
	const struct field *f = arg;

	return f[i].key;
}

/*
 * Checks a mapping's keys against @f (which ends with a NULL key): all
 * known, none twice, the required ones there. Sets vals[i] to the value
 * of f[i], or NULL.
 */
static int walk_map(struct parse *p, const struct node *map, const char *path,
		    const struct field *f, const struct node **vals)
{
	const struct node *keys[MAX_FIELDS] = { NULL }, *key;
	char list[LIST_LEN];
	size_t i, j;

	if (map->type != NODE_MAP)
		return expected(p, map, path, "a mapping");
	for (j = 0; f[j].key; j++)
		vals[j] = NULL;
	for (i = 0; i + 1 < map->n; i += 2) {
		key = map->kids[i];
		if (key->type != NODE_SCALAR)
			return expected(p, key, path, "a key");
		for (j = 0; f[j].key && strcmp(f[j].key, key->text); j++)
			;
		if (!f[j].key)
			return bad(p, key, path,
				   "unknown key '%s'; expected one of %s",
				   key->text,
				   join(list, sizeof(list), nth_key, f));
		if (keys[j])
			return bad(p, key, path, "key '%s' given twice (first at %u:%u)",
				   key->text, keys[j]->line, keys[j]->col);
		keys[j] = key;
		vals[j] = map->kids[i + 1];
	}
	for (j = 0; f[j].key; j++)
		if (f[j].required && !keys[j])
			return bad(p, map, path, "missing required key '%s'",
				   f[j].key);
	return 0;
}

/* A scalar's text, or NULL for anything else, nothing included. */
static const char *text_of(const struct node *n)
{
	return n->type == NODE_SCALAR && !n->null ? n->text : NULL;
}

static int get_str(struct parse *p, const struct node *n, const char *path,
		   size_t max, char **out)
{
	const char *s;

	s = text_of(n);
	if (!s || !*s)
		return expected(p, n, path, "text");
	if (strlen(s) > max)
		return bad(p, n, path,
			   "expected at most %zu characters, got %zu", max,
			   strlen(s));
	*out = strdup(s);
	return *out ? 0 : oom(p);
}

static bool parse_u64(const char *s, uint64_t *v, const char **end)
{
	uint64_t x = 0;

	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (x > (UINT64_MAX - (*s - '0')) / 10)
			return false;
		x = x * 10 + (*s - '0');
	}
	*v = x;
	*end = s;
	return true;
}

static int get_uint(struct parse *p, const struct node *n, const char *path,
		    uint64_t min, uint64_t max, uint64_t *out)
{
	char what[64];
	const char *s, *end;
	uint64_t v;

	snprintf(what, sizeof(what), "a whole number from %" PRIu64 " to %"
		 PRIu64, min, max);
	s = text_of(n);
	if (!s || !parse_u64(s, &v, &end) || *end || v < min || v > max)
		return expected(p, n, path, what);
	*out = v;
	return 0;
}

static const struct {
	const char *unit;
	uint64_t ms;
} duration_units[] = {
	{ "h", 3600 * 1000 },
	{ "m", 60 * 1000 },
	{ "s", 1000 },
	{ "ms", 1 },
};

static bool parse_duration(const char *s, uint64_t *ms)
{
	const char *end;
	uint64_t v;
	size_t i;

	if (!parse_u64(s, &v, &end))
		return false;
	for (i = 0; i < ARRAY_SIZE(duration_units); i++) {
		if (strcmp(end, duration_units[i].unit))
			continue;
		if (v > MAX_DURATION_MS / duration_units[i].ms)
			return false;
		*ms = v * duration_units[i].ms;
		return true;
	}
	return false;
}

static void format_duration(uint64_t ms, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(duration_units) - 1; i++)
		if (ms && !(ms % duration_units[i].ms))
			break;
	if (!ms)
		i = ARRAY_SIZE(duration_units) - 2;	/* 0s */
	snprintf(buf, len, "%" PRIu64 "%s", ms / duration_units[i].ms,
		 duration_units[i].unit);
}

static int get_duration(struct parse *p, const struct node *n,
			const char *path, bool zero_ok, uint64_t *out)
{
	const char *what = "a duration like 500ms, 30s, 5m or 1h (at most 168h)";
	const char *s;

	s = text_of(n);
	if (!s || !parse_duration(s, out))
		return expected(p, n, path, what);
	if (!*out && !zero_ok)
		return expected(p, n, path, "a duration above zero");
	return 0;
}

static int get_bool(struct parse *p, const struct node *n, const char *path,
		    bool *out)
{
	const char *s;

	s = text_of(n);
	if (!s || (strcmp(s, "true") && strcmp(s, "false")))
		return expected(p, n, path, "true or false");
	*out = !strcmp(s, "true");
	return 0;
}

/* The index of @n's text in @names, or -EINVAL. */
static int get_choice(struct parse *p, const struct node *n, const char *path,
		      const char *const *names, size_t count)
{
	struct names arg = { names, count };
	char what[WHAT_LEN], list[LIST_LEN];
	const char *s;
	size_t i;

	snprintf(what, sizeof(what), "one of %s",
		 join(list, sizeof(list), nth_name, &arg));
	s = text_of(n);
	for (i = 0; s && i < count; i++)
		if (names[i] && !strcmp(names[i], s))
			return i;
	return expected(p, n, path, what);
}

static int get_named(struct parse *p, const struct node *n, const char *path,
		     value_name_fn fn, const char *noun, uint32_t *out)
{
	char what[WHAT_LEN], list[LIST_LEN];
	const char *s;

	snprintf(what, sizeof(what), "%s (%s)", noun,
		 join(list, sizeof(list), nth_value_name, &fn));
	s = text_of(n);
	if (!s || !value_of_name(fn, s, out))
		return expected(p, n, path, what);
	return 0;
}

/* A template's next piece: literal text, a ${var}, or a stray '$'. */
enum tmpl_tok {
	TMPL_END,
	TMPL_TEXT,
	TMPL_VAR,
	TMPL_BAD,
};

static enum tmpl_tok tmpl_next(const char **s, const char **start, size_t *n)
{
	const char *p = *s, *close;

	*start = p;
	if (!*p)
		return TMPL_END;
	if (*p != '$') {
		while (*p && *p != '$')
			p++;
		*n = p - *start;
		*s = p;
		return TMPL_TEXT;
	}
	if (p[1] == '$') {
		*n = 1;
		*s = p + 2;
		return TMPL_TEXT;
	}
	close = p[1] == '{' ? strchr(p + 2, '}') : NULL;
	if (!close)
		return TMPL_BAD;
	*start = p + 2;
	*n = close - *start;
	*s = close + 1;
	return TMPL_VAR;
}

static bool is_subsystem_var(const char *name, size_t n)
{
	return n == strlen("subsystem") && !strncmp(name, "subsystem", n);
}

/* Checks @n's templates; *has_var says whether it has any. */
static int check_template(struct parse *p, const struct node *n,
			  const char *path, bool *has_var)
{
	const char *s = n->text, *start;
	char list[LIST_LEN];
	enum tmpl_tok tok;
	size_t len;

	*has_var = false;
	while ((tok = tmpl_next(&s, &start, &len)) != TMPL_END) {
		if (tok == TMPL_BAD)
			return bad(p, n, path,
				   "'$' must start ${attribute} or be doubled, in '%s'",
				   n->text);
		if (tok != TMPL_VAR)
			continue;
		if (!field_named(start, len) && !is_subsystem_var(start, len))
			return bad(p, n, path,
				   "unknown attribute '${%.*s}'; expected one of %s",
				   (int)len, start,
				   join(list, sizeof(list), nth_var, NULL));
		*has_var = true;
	}
	return 0;
}

int kheal_runbook_expand(const char *tmpl, const struct kheal_event *ev,
			 const char *subsystem, char *buf, size_t len,
			 struct kheal_err *err)
{
	const struct kheal_event_field *f;
	const char *s = tmpl, *start, *name;
	struct kheal_json j;
	enum tmpl_tok tok;
	size_t n;

	kheal_json_init(&j, buf, len);
	while ((tok = tmpl_next(&s, &start, &n)) != TMPL_END) {
		if (tok == TMPL_TEXT) {
			kheal_json_raw(&j, "%.*s", (int)n, start);
			continue;
		}
		if (tok == TMPL_BAD)
			return kheal_err_set(err, EINVAL,
					     "template '%s': a stray '$'", tmpl);
		if (is_subsystem_var(start, n)) {
			kheal_json_raw(&j, "%s", subsystem);
			continue;
		}
		f = field_named(start, n);
		if (!f)
			return kheal_err_set(err, EINVAL,
					     "template '%s': unknown attribute '%.*s'",
					     tmpl, (int)n, start);
		if (!kheal_event_has(ev, f->attr))
			return kheal_err_set(err, ENODATA,
					     "template '%s': the event has no %s",
					     tmpl, f->name);
		name = f->type == KHEAL_FIELD_STR ? field_str(ev, f) :
		       f->value_name ? f->value_name(field_num(ev, f)) : NULL;
		if (name)
			kheal_json_raw(&j, "%s", name);
		else
			kheal_json_raw(&j, "%" PRIu64, field_num(ev, f));
	}
	if (kheal_json_finish(&j) < 0)
		return kheal_err_set(err, ENOSPC,
				     "template '%s': longer than %zu bytes",
				     tmpl, len);
	return j.len;
}

int kheal_signal_number(const char *s)
{
	const char *abbrev;
	int sig;

	if (!strncmp(s, "SIG", 3))
		s += 3;
	for (sig = 1; sig < SIGRTMIN; sig++) {
		abbrev = sigabbrev_np(sig);
		if (abbrev && !strcmp(abbrev, s))
			return sig;
	}
	return -1;
}

static int check_arg(struct parse *p, const struct node *n, const char *path,
		     const struct kheal_param_spec *spec)
{
	const char *s, *end;
	bool has_var;
	uint64_t v;
	int ret;

	s = text_of(n);
	if (!s || !*s)
		return expected(p, n, path, "a value");
	if (strlen(s) > MAX_TEXT)
		return bad(p, n, path, "expected at most %d characters, got %zu",
			   MAX_TEXT, strlen(s));
	ret = check_template(p, n, path, &has_var);
	if (ret || has_var)
		return ret;
	switch (spec->type) {
	case KHEAL_PARAM_UINT:
		if (!parse_u64(s, &v, &end) || *end)
			return expected(p, n, path,
					"a whole number or a ${attribute}");
		break;
	case KHEAL_PARAM_SIGNAL:
		if (kheal_signal_number(s) < 0)
			return expected(p, n, path,
					"a signal name like KILL or TERM");
		break;
	case KHEAL_PARAM_STR:
		break;
	}
	return 0;
}

/* A step's or check's params: a mapping of the names @spec lists. */
static int parse_args(struct parse *p, const struct node *map,
		      const char *path, const char *owner,
		      const struct kheal_param_spec *spec, char **args)
{
	const struct node *key;
	char list[LIST_LEN], sub[PATH_LEN];
	size_t i, k;
	int ret;

	if (map->type != NODE_MAP)
		return expected(p, map, path, "a mapping");
	for (i = 0; i + 1 < map->n; i += 2) {
		key = map->kids[i];
		if (key->type != NODE_SCALAR)
			return expected(p, key, path, "a parameter name");
		for (k = 0; k < KHEAL_ACTION_MAX_PARAMS && spec[k].name &&
		     strcmp(spec[k].name, key->text); k++)
			;
		if (k == KHEAL_ACTION_MAX_PARAMS || !spec[k].name) {
			if (!spec[0].name)
				return bad(p, key, path,
					   "unknown parameter '%s': %s takes none",
					   key->text, owner);
			return bad(p, key, path,
				   "unknown parameter '%s' for %s; expected one of %s",
				   key->text, owner,
				   join(list, sizeof(list), nth_param, spec));
		}
		if (args[k])
			return bad(p, key, path, "parameter '%s' given twice",
				   key->text);
		subpath(sub, path, key->text);
		ret = check_arg(p, map->kids[i + 1], sub, &spec[k]);
		if (ret)
			return ret;
		args[k] = strdup(map->kids[i + 1]->text);
		if (!args[k])
			return oom(p);
	}
	return 0;
}

/*
 * The params (@pn, or NULL) of an action or check in mapping @n; those
 * left out take their defaults.
 */
static int parse_params(struct parse *p, const struct node *n,
			const struct node *pn, const char *path,
			const char *owner, const struct kheal_param_spec *spec,
			char **args)
{
	char sub[PATH_LEN];
	size_t k;
	int ret;

	subpath(sub, path, "params");
	if (pn) {
		ret = parse_args(p, pn, sub, owner, spec, args);
		if (ret)
			return ret;
	}
	for (k = 0; k < KHEAL_ACTION_MAX_PARAMS && spec[k].name; k++) {
		if (args[k])
			continue;
		if (spec[k].required)
			return bad(p, pn ? pn : n, pn ? sub : path,
				   "missing required parameter '%s' of %s",
				   spec[k].name, owner);
		if (spec[k].def && !(args[k] = strdup(spec[k].def)))
			return oom(p);
	}
	return 0;
}

enum { C_ATTR, C_OP, C_VALUE, NC };
static const struct field cond_fields[NC + 1] = {
	[C_ATTR]	= { "attr", true },
	[C_OP]		= { "op", true },
	[C_VALUE]	= { "value", true },
};

static int parse_cond(struct parse *p, const struct node *map,
		      const char *path, struct kheal_cond *c)
{
	const struct node *v[NC];
	char sub[PATH_LEN], list[LIST_LEN], what[WHAT_LEN];
	const struct kheal_event_field *f;
	const char *s, *end;
	unsigned int op;
	uint64_t num;
	uint32_t named;
	int ret;

	ret = walk_map(p, map, path, cond_fields, v);
	if (ret)
		return ret;
	subpath(sub, path, "attr");
	snprintf(what, sizeof(what), "an event attribute (%s)",
		 join(list, sizeof(list), nth_attr, NULL));
	s = text_of(v[C_ATTR]);
	f = s ? field_named(s, strlen(s)) : NULL;
	if (!f)
		return expected(p, v[C_ATTR], sub, what);
	c->field = f;

	ret = get_choice(p, v[C_OP], subpath(sub, path, "op"), op_names,
			 ARRAY_SIZE(op_names));
	if (ret < 0)
		return ret;
	c->op = op = ret;
	if (f->type == KHEAL_FIELD_STR && op != KHEAL_OP_EQ &&
	    op != KHEAL_OP_NE && op != KHEAL_OP_MATCHES)
		return bad(p, v[C_OP], sub,
			   "'%s' compares numbers, but %s is text; use ==, != or matches",
			   op_names[op], f->name);
	if (f->type != KHEAL_FIELD_STR && op == KHEAL_OP_MATCHES)
		return bad(p, v[C_OP], sub,
			   "'matches' compares text, but %s is a number", f->name);

	subpath(sub, path, "value");
	if (f->type == KHEAL_FIELD_STR)
		return get_str(p, v[C_VALUE], sub, MAX_TEXT, &c->str);
	if (f->value_name)
		snprintf(what, sizeof(what), "a number or one of %s",
			 join(list, sizeof(list), nth_value_name,
			      &f->value_name));
	else
		snprintf(what, sizeof(what), "a whole number");
	s = text_of(v[C_VALUE]);
	if (!s)
		return expected(p, v[C_VALUE], sub, what);
	if (f->value_name && value_of_name(f->value_name, s, &named)) {
		c->num = named;
		return 0;
	}
	if (!parse_u64(s, &num, &end) || *end ||
	    (f->type == KHEAL_FIELD_U32 && num > UINT32_MAX))
		return expected(p, v[C_VALUE], sub, what);
	c->num = num;
	return 0;
}

typedef int (*item_fn)(struct parse *p, const struct node *n,
		       const char *path, void *item);

/*
 * A list of items of @size bytes, returned zeroed and counted before the
 * items are parsed, so that on failure (*ret) what it holds is freed with
 * the runbook.
 */
static void *parse_list(struct parse *p, const struct node *n,
			const char *path, bool nonempty, size_t size,
			item_fn fn, size_t *count, int *ret)
{
	char sub[PATH_LEN];
	void *arr;
	size_t i;

	*count = 0;
	*ret = 0;
	if (n->type != NODE_SEQ) {
		*ret = expected(p, n, path, "a list");
		return NULL;
	}
	if (nonempty && !n->n) {
		*ret = bad(p, n, path, "expected at least one item, got none");
		return NULL;
	}
	if (n->n > MAX_LIST) {
		*ret = bad(p, n->kids[MAX_LIST], path,
			   "expected at most %d items, got %zu", MAX_LIST,
			   n->n);
		return NULL;
	}
	arr = calloc(n->n ? n->n : 1, size);
	if (!arr) {
		*ret = oom(p);
		return NULL;
	}
	*count = n->n;
	for (i = 0; i < n->n && !*ret; i++) {
		cut(sub, sizeof(sub), "%s[%zu]", path, i);
		*ret = fn(p, n->kids[i], sub, (char *)arr + i * size);
	}
	return arr;
}

static int parse_when(struct parse *p, const struct node *n, const char *path,
		      void *item)
{
	return parse_cond(p, n, path, item);
}

enum { M_KINDS, M_SUBSYSTEM, M_MIN_SEVERITY, M_WHEN, NM };
static const struct field match_fields[NM + 1] = {
	[M_KINDS]	 = { "kinds", true },
	[M_SUBSYSTEM]	 = { "subsystem", false },
	[M_MIN_SEVERITY] = { "min_severity", false },
	[M_WHEN]	 = { "when", false },
};

static int parse_match(struct parse *p, const struct node *map,
		       const char *path, struct kheal_match *m)
{
	const struct node *v[NM], *kinds;
	char sub[PATH_LEN], item[PATH_LEN];
	uint32_t kind;
	size_t i;
	int ret;

	ret = walk_map(p, map, path, match_fields, v);
	if (ret)
		return ret;
	kinds = v[M_KINDS];
	subpath(sub, path, "kinds");
	if (kinds->type != NODE_SEQ)
		return expected(p, kinds, sub, "a list of event kinds");
	if (!kinds->n)
		return bad(p, kinds, sub, "expected at least one event kind, got none");
	for (i = 0; i < kinds->n; i++) {
		cut(item, sizeof(item), "%s[%zu]", sub, i);
		ret = get_named(p, kinds->kids[i], item, kheal_kind_name,
				"an event kind", &kind);
		if (ret)
			return ret;
		if (m->kinds & (1U << kind))
			return bad(p, kinds->kids[i], item, "%s is listed twice",
				   kinds->kids[i]->text);
		m->kinds |= 1U << kind;
	}

	if (v[M_SUBSYSTEM])
		ret = get_str(p, v[M_SUBSYSTEM], subpath(sub, path, "subsystem"),
			      MAX_TEXT, &m->subsystem);
	else
		ret = (m->subsystem = strdup("*")) ? 0 : oom(p);
	if (ret)
		return ret;
	if (v[M_MIN_SEVERITY]) {
		ret = get_named(p, v[M_MIN_SEVERITY],
				subpath(sub, path, "min_severity"),
				kheal_severity_name, "a severity",
				&m->min_severity);
		if (ret)
			return ret;
	}
	if (v[M_WHEN])
		m->when = parse_list(p, v[M_WHEN], subpath(sub, path, "when"),
				     false, sizeof(*m->when), parse_when,
				     &m->nwhen, &ret);
	return ret;
}

enum { S_ACTION, S_PARAMS, S_TIMEOUT, NS };
static const struct field step_fields[NS + 1] = {
	[S_ACTION]	= { "action", true },
	[S_PARAMS]	= { "params", false },
	[S_TIMEOUT]	= { "timeout", true },
};

static int parse_step(struct parse *p, const struct node *n, const char *path,
		      void *item)
{
	struct kheal_step *step = item;
	char sub[PATH_LEN], what[WHAT_LEN], list[LIST_LEN];
	const struct node *v[NS];
	const char *s;
	int ret;

	ret = walk_map(p, n, path, step_fields, v);
	if (ret)
		return ret;
	subpath(sub, path, "action");
	snprintf(what, sizeof(what), "an action (%s)",
		 join(list, sizeof(list), nth_action, NULL));
	s = text_of(v[S_ACTION]);
	step->action = s ? kheal_action_find(s) : NULL;
	if (!step->action)
		return expected(p, v[S_ACTION], sub, what);
	ret = parse_params(p, n, v[S_PARAMS], path, step->action->name,
			   step->action->params, step->args);
	if (ret)
		return ret;
	return get_duration(p, v[S_TIMEOUT], subpath(sub, path, "timeout"),
			    false, &step->timeout_ms);
}

/* verify: {check, params, deadline}; a precondition: {check, params, expect} */
enum { K_CHECK, K_PARAMS, K_LAST, NK };
static const struct field verify_fields[NK + 1] = {
	[K_CHECK]	= { "check", true },
	[K_PARAMS]	= { "params", false },
	[K_LAST]	= { "deadline", true },
};
static const struct field precheck_fields[NK + 1] = {
	[K_CHECK]	= { "check", true },
	[K_PARAMS]	= { "params", false },
	[K_LAST]	= { "expect", false },
};

static int parse_probe(struct parse *p, const struct node *n, const char *path,
		       bool verify, struct kheal_probe *probe)
{
	char sub[PATH_LEN], what[WHAT_LEN], list[LIST_LEN];
	const struct node *v[NK];
	const char *s;
	int ret;

	ret = walk_map(p, n, path, verify ? verify_fields : precheck_fields, v);
	if (ret)
		return ret;
	subpath(sub, path, "check");
	snprintf(what, sizeof(what), "a check (%s)",
		 join(list, sizeof(list), nth_check, NULL));
	s = text_of(v[K_CHECK]);
	probe->check = s ? kheal_check_find(s) : NULL;
	if (!probe->check)
		return expected(p, v[K_CHECK], sub, what);
	ret = parse_params(p, n, v[K_PARAMS], path, probe->check->name,
			   probe->check->params, probe->args);
	if (ret)
		return ret;
	probe->expect = true;
	if (verify)
		return get_duration(p, v[K_LAST],
				    subpath(sub, path, "deadline"), false,
				    &probe->deadline_ms);
	if (v[K_LAST])
		return get_bool(p, v[K_LAST], subpath(sub, path, "expect"),
				&probe->expect);
	return 0;
}

/* Is there a key @key in mapping @n? */
static const struct node *map_get(const struct node *n, const char *key)
{
	size_t i;

	if (n->type != NODE_MAP)
		return NULL;
	for (i = 0; i + 1 < n->n; i += 2)
		if (n->kids[i]->type == NODE_SCALAR &&
		    !strcmp(n->kids[i]->text, key))
			return n->kids[i + 1];
	return NULL;
}

static int parse_precond(struct parse *p, const struct node *n,
			 const char *path, void *item)
{
	struct kheal_precond *pre = item;

	if (map_get(n, "check")) {
		pre->is_check = true;
		return parse_probe(p, n, path, false, &pre->probe);
	}
	if (map_get(n, "attr"))
		return parse_cond(p, n, path, &pre->cond);
	return expected(p, n, path,
			"a condition {attr, op, value} or a check {check, params, expect}");
}

static int get_template(struct parse *p, const struct node *n,
			const char *path, char **out)
{
	bool has_var;
	int ret;

	ret = get_str(p, n, path, MAX_TEXT, out);
	if (ret)
		return ret;
	return check_template(p, n, path, &has_var);
}

static void default_escalation(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "runbook %s could not heal ${subsystem} (${kind})",
		 name);
}

enum { E_MESSAGE, E_TARGET, NE };
static const struct field escalate_fields[NE + 1] = {
	[E_MESSAGE]	= { "message", false },
	[E_TARGET]	= { "target", false },
};

static int parse_escalate(struct parse *p, const struct node *n,
			  const char *path, struct kheal_runbook *rb)
{
	const struct node *v[NE];
	char sub[PATH_LEN];
	int ret;

	ret = walk_map(p, n, path, escalate_fields, v);
	if (!ret && v[E_MESSAGE])
		ret = get_template(p, v[E_MESSAGE],
				   subpath(sub, path, "message"),
				   &rb->escalate_message);
	if (!ret && v[E_TARGET])
		ret = get_str(p, v[E_TARGET], subpath(sub, path, "target"),
			      KHEAL_RUNBOOK_NAME_LEN - 1, &rb->escalate_target);
	return ret;
}

enum { G_MIN, G_BELOW, NG };
static const struct field confidence_fields[NG + 1] = {
	[G_MIN]		= { "min", true },
	[G_BELOW]	= { "below", false },
};

static int parse_confidence(struct parse *p, const struct node *n,
			    const char *path, struct kheal_confidence *c)
{
	const char *what = "a confidence from 0 to 1, like 0.9";
	const struct node *v[NG];
	char sub[PATH_LEN], *end;
	const char *s;
	int ret;

	ret = walk_map(p, n, path, confidence_fields, v);
	if (ret)
		return ret;
	subpath(sub, path, "min");
	s = text_of(v[G_MIN]);
	if (!s)
		return expected(p, v[G_MIN], sub, what);
	errno = 0;
	c->min = strtod(s, &end);
	/* A digit first: strtod also takes "nan", "inf" and " 0.5". */
	if (*s < '0' || *s > '9' || *end || errno || c->min > 1)
		return expected(p, v[G_MIN], sub, what);
	c->gated = true;
	if (!v[G_BELOW])
		return 0;
	ret = get_choice(p, v[G_BELOW], subpath(sub, path, "below"),
			 below_names, ARRAY_SIZE(below_names));
	if (ret < 0)
		return ret;
	c->below = ret;
	return 0;
}

static bool valid_name(const char *s)
{
	const char *c;

	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
	      (*s >= '0' && *s <= '9')))
		return false;
	for (c = s; *c; c++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *c))
			return false;
	return c - s < KHEAL_RUNBOOK_NAME_LEN;
}

enum {
	R_NAME, R_DESCRIPTION, R_MATCH, R_RISK, R_PRECONDITIONS, R_STEPS,
	R_VERIFY, R_ROLLBACK, R_ESCALATE, R_CONFIDENCE, R_COOLDOWN,
	R_MAX_ATTEMPTS, R_AWAITING, NR
};
static const struct field root_fields[NR + 1] = {
	[R_NAME]		= { "name", true },
	[R_DESCRIPTION]		= { "description", false },
	[R_MATCH]		= { "match", true },
	[R_RISK]		= { "risk", true },
	[R_PRECONDITIONS]	= { "preconditions", false },
	[R_STEPS]		= { "steps", true },
	[R_VERIFY]		= { "verify", false },
	[R_ROLLBACK]		= { "rollback", false },
	[R_ESCALATE]		= { "escalate", false },
	[R_CONFIDENCE]		= { "confidence", false },
	[R_COOLDOWN]		= { "cooldown", false },
	[R_MAX_ATTEMPTS]	= { "max_attempts", false },
	[R_AWAITING]		= { "awaiting_approval", false },
};
_Static_assert(NR < MAX_FIELDS, "walk_map() has room for every key");

/* The riskiest of @n steps, or NULL if none is above @risk. */
static const struct kheal_step *above(const struct kheal_step *steps,
				      size_t n, enum kheal_risk risk)
{
	const struct kheal_step *worst = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if (steps[i].action->risk > risk) {
			worst = &steps[i];
			risk = worst->action->risk;
		}
	}
	return worst;
}

static int check_risk(struct parse *p, const struct node *risk,
		      const struct kheal_runbook *rb,
		      const struct kheal_step *steps, size_t n,
		      const char *list)
{
	const struct kheal_step *s = above(steps, n, rb->risk);

	if (!s)
		return 0;
	return bad(p, risk, "risk",
		   "%s is below the risk of %s[%td] (%s: %s); raise risk or drop the step",
		   risk_names[rb->risk], list, s - steps, s->action->name,
		   risk_names[s->action->risk]);
}

/* What no single key can check: risk covers the steps; actions verified. */
static int check_whole(struct parse *p, const struct node *root,
		       const struct node *risk, const struct kheal_runbook *rb)
{
	size_t i;
	int ret;

	ret = check_risk(p, risk, rb, rb->steps, rb->nsteps, "steps");
	if (!ret)
		ret = check_risk(p, risk, rb, rb->rollback, rb->nrollback,
				 "rollback");
	if (ret || rb->verify.check)
		return ret;
	for (i = 0; i < rb->nsteps; i++)
		if (rb->steps[i].action->changes_state)
			return bad(p, root, "",
				   "missing required key 'verify': steps[%zu] (%s) changes state, and every action is verified",
				   i, rb->steps[i].action->name);
	return 0;
}

static struct kheal_step *parse_steps(struct parse *p, const struct node *n,
				      const char *path, bool nonempty,
				      size_t *count, int *ret)
{
	return parse_list(p, n, path, nonempty, sizeof(struct kheal_step),
			  parse_step, count, ret);
}

static int parse_runbook(struct parse *p, const struct node *root,
			 struct kheal_runbook *rb)
{
	const struct node *v[NR];
	char what[WHAT_LEN];
	uint64_t n = 0;
	int ret;

	ret = walk_map(p, root, "", root_fields, v);
	if (ret)
		return ret;
	ret = get_str(p, v[R_NAME], "name", KHEAL_RUNBOOK_NAME_LEN - 1,
		      &rb->name);
	if (ret)
		return ret;
	if (!valid_name(rb->name))
		return expected(p, v[R_NAME], "name",
				"a name of letters, digits, '.', '_' and '-', starting with a letter or digit");
	if (v[R_DESCRIPTION]) {
		ret = get_str(p, v[R_DESCRIPTION], "description",
			      MAX_DESCRIPTION, &rb->description);
		if (ret)
			return ret;
		if (strchr(rb->description, '\n'))
			return expected(p, v[R_DESCRIPTION], "description",
					"one line");
	}
	ret = parse_match(p, v[R_MATCH], "match", &rb->match);
	if (ret)
		return ret;
	ret = get_choice(p, v[R_RISK], "risk", risk_names,
			 ARRAY_SIZE(risk_names));
	if (ret < 0)
		return ret;
	rb->risk = ret;
	if (v[R_PRECONDITIONS]) {
		rb->pre = parse_list(p, v[R_PRECONDITIONS], "preconditions",
				     false, sizeof(*rb->pre), parse_precond,
				     &rb->npre, &ret);
		if (ret)
			return ret;
	}
	rb->steps = parse_steps(p, v[R_STEPS], "steps", true, &rb->nsteps,
				&ret);
	if (ret)
		return ret;
	if (v[R_VERIFY]) {
		ret = parse_probe(p, v[R_VERIFY], "verify", true, &rb->verify);
		if (ret)
			return ret;
	}
	if (v[R_ROLLBACK]) {
		rb->rollback = parse_steps(p, v[R_ROLLBACK], "rollback", false,
					   &rb->nrollback, &ret);
		if (ret)
			return ret;
	}
	if (v[R_ESCALATE]) {
		ret = parse_escalate(p, v[R_ESCALATE], "escalate", rb);
		if (ret)
			return ret;
	}
	if (v[R_CONFIDENCE]) {
		ret = parse_confidence(p, v[R_CONFIDENCE], "confidence",
				       &rb->confidence);
		if (ret)
			return ret;
	}
	if (v[R_AWAITING]) {
		ret = get_choice(p, v[R_AWAITING], "awaiting_approval",
				 awaiting_names, ARRAY_SIZE(awaiting_names));
		if (ret < 0)
			return ret;
		rb->awaiting = ret;
	}
	rb->cooldown_ms = DEFAULT_COOLDOWN_MS;
	if (v[R_COOLDOWN]) {
		ret = get_duration(p, v[R_COOLDOWN], "cooldown", true,
				   &rb->cooldown_ms);
		if (ret)
			return ret;
	}
	rb->max_attempts = DEFAULT_MAX_ATTEMPTS;
	if (v[R_MAX_ATTEMPTS]) {
		ret = get_uint(p, v[R_MAX_ATTEMPTS], "max_attempts", 1,
			       MAX_ATTEMPTS, &n);
		if (ret)
			return ret;
		rb->max_attempts = n;
	}
	if (!rb->escalate_message) {
		default_escalation(rb->name, what, sizeof(what));
		rb->escalate_message = strdup(what);
	}
	if (!rb->escalate_target)
		rb->escalate_target = strdup(DEFAULT_TARGET);
	if (!rb->escalate_message || !rb->escalate_target)
		return oom(p);
	return check_whole(p, root, v[R_RISK], rb);
}

static void free_args(char **args)
{
	size_t k;

	for (k = 0; k < KHEAL_ACTION_MAX_PARAMS; k++)
		free(args[k]);
}

static void free_steps(struct kheal_step *steps, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free_args(steps[i].args);
	free(steps);
}

void kheal_runbook_free(struct kheal_runbook *rb)
{
	size_t i;

	free(rb->name);
	free(rb->description);
	free(rb->match.subsystem);
	for (i = 0; i < rb->match.nwhen; i++)
		free(rb->match.when[i].str);
	free(rb->match.when);
	for (i = 0; i < rb->npre; i++) {
		free(rb->pre[i].cond.str);
		free_args(rb->pre[i].probe.args);
	}
	free(rb->pre);
	free_steps(rb->steps, rb->nsteps);
	free_args(rb->verify.args);
	free_steps(rb->rollback, rb->nrollback);
	free(rb->escalate_message);
	free(rb->escalate_target);
	memset(rb, 0, sizeof(*rb));
}

int kheal_runbook_parse_buf(const char *name, const char *buf, size_t len,
			    struct kheal_runbook *rb, struct kheal_err *err)
{
	struct parse p = { name, buf, len, err };
	struct node *root;
	int ret;

	memset(rb, 0, sizeof(*rb));
	ret = tree_build(&p, &root);
	if (ret)
		return ret;
	ret = parse_runbook(&p, root, rb);
	node_free(root);
	if (ret)
		kheal_runbook_free(rb);
	return ret;
}

/* A regular file's text, NUL-terminated, at most MAX_FILE bytes. */
static int read_text(int fd, const char *path, char **out, size_t *lenp,
		     struct kheal_err *err)
{
	size_t len = 0;
	ssize_t n;
	char *buf;

	buf = malloc(MAX_FILE + 2);
	if (!buf)
		return kheal_err_set(err, ENOMEM, "%s: out of memory", path);
	do {
		n = read(fd, buf + len, MAX_FILE + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return kheal_err_set(err, errno, "%s: cannot read: %s",
					     path, strerror(errno));
		}
		len += n;
	} while (n && len <= MAX_FILE);
	if (len > MAX_FILE) {
		free(buf);
		return kheal_err_set(err, EFBIG,
				     "%s: refused: larger than the %d bytes a runbook may have",
				     path, MAX_FILE);
	}
	buf[len] = '\0';
	*out = buf;
	*lenp = len;
	return 0;
}

/* Open (at @dfd, or the cwd) @name, a regular file, and parse it. */
static int load_file(int dfd, const char *name, const char *path,
		     bool check_perms, struct kheal_runbook *rb,
		     struct kheal_err *err)
{
	struct stat st;
	size_t len = 0;
	char *buf = NULL;
	int fd, ret;

	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return kheal_err_set(err, errno, "%s: cannot open: %s", path,
				     strerror(errno));
	if (fstat(fd, &st)) {
		ret = kheal_err_set(err, errno, "%s: cannot stat: %s", path,
				    strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		ret = kheal_err_set(err, EINVAL, "%s: not a regular file",
				    path);
	} else {
		ret = check_perms ?
		      kheal_runbook_check_file_perms(path, &st, err) : 0;
		if (!ret)
			ret = read_text(fd, path, &buf, &len, err);
		if (!ret) {
			ret = kheal_runbook_parse_buf(path, buf, len, rb, err);
			free(buf);
		}
	}
	close(fd);
	return ret;
}

int kheal_runbook_parse_file(const char *path, struct kheal_runbook *rb,
			     struct kheal_err *err)
{
	memset(rb, 0, sizeof(*rb));
	return load_file(AT_FDCWD, path, path, false, rb, err);
}

/* The canonical YAML, through libyaml's emitter so quoting is right. */
struct emitter {
	yaml_emitter_t e;
	char *buf;
	size_t cap, len;
	bool full;			/* @buf is too small */
	bool failed;
};

static int emit_write(void *data, unsigned char *s, size_t n)
{
	struct emitter *em = data;

	if (n >= em->cap - em->len) {
		em->full = true;
		return 0;
	}
	memcpy(em->buf + em->len, s, n);
	em->len += n;
	em->buf[em->len] = '\0';
	return 1;
}

/* Emits @ev if it was made and nothing failed before it. */
static void emit(struct emitter *em, yaml_event_t *ev, int made)
{
	if (!made) {
		em->failed = true;
		return;
	}
	if (em->failed) {
		yaml_event_delete(ev);
		return;
	}
	if (!yaml_emitter_emit(&em->e, ev))
		em->failed = true;
}

static void e_str(struct emitter *em, const char *s)
{
	yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
	yaml_event_t ev;

	/* Plain, these would read back as nothing. */
	if (!*s || !strcmp(s, "~") || !strcasecmp(s, "null"))
		style = YAML_SINGLE_QUOTED_SCALAR_STYLE;
	emit(em, &ev, yaml_scalar_event_initialize(&ev, NULL, NULL,
						   (yaml_char_t *)s, strlen(s),
						   1, 1, style));
}

static void e_open(struct emitter *em, bool map, bool flow)
{
	yaml_event_t ev;

	if (map)
		emit(em, &ev, yaml_mapping_start_event_initialize(&ev, NULL,
			NULL, 1, flow ? YAML_FLOW_MAPPING_STYLE :
					YAML_BLOCK_MAPPING_STYLE));
	else
		emit(em, &ev, yaml_sequence_start_event_initialize(&ev, NULL,
			NULL, 1, flow ? YAML_FLOW_SEQUENCE_STYLE :
					YAML_BLOCK_SEQUENCE_STYLE));
}

static void e_close(struct emitter *em, bool map)
{
	yaml_event_t ev;

	emit(em, &ev, map ? yaml_mapping_end_event_initialize(&ev) :
			    yaml_sequence_end_event_initialize(&ev));
}

static void e_kv(struct emitter *em, const char *key, const char *value)
{
	e_str(em, key);
	e_str(em, value);
}

static void e_duration(struct emitter *em, const char *key, uint64_t ms)
{
	char buf[32];

	format_duration(ms, buf, sizeof(buf));
	e_kv(em, key, buf);
}

static void e_args(struct emitter *em, const struct kheal_param_spec *spec,
		   char *const *args)
{
	size_t k, n = 0;

	for (k = 0; k < KHEAL_ACTION_MAX_PARAMS; k++)
		n += !!args[k];
	if (!n)
		return;
	e_str(em, "params");
	e_open(em, true, true);
	for (k = 0; k < KHEAL_ACTION_MAX_PARAMS; k++)
		if (args[k])
			e_kv(em, spec[k].name, args[k]);
	e_close(em, true);
}

static void e_cond(struct emitter *em, const struct kheal_cond *c)
{
	const struct kheal_event_field *f = c->field;
	const char *name = NULL;
	char num[32];

	e_open(em, true, true);
	e_kv(em, "attr", f->name);
	e_kv(em, "op", op_names[c->op]);
	if (f->type == KHEAL_FIELD_STR) {
		e_kv(em, "value", c->str);
		e_close(em, true);
		return;
	}
	if (f->value_name)
		name = f->value_name(c->num);
	snprintf(num, sizeof(num), "%" PRIu64, c->num);
	e_kv(em, "value", name ? name : num);
	e_close(em, true);
}

static void e_steps(struct emitter *em, const char *key,
		    const struct kheal_step *steps, size_t n)
{
	size_t i;

	if (!n)
		return;
	e_str(em, key);
	e_open(em, false, false);
	for (i = 0; i < n; i++) {
		e_open(em, true, false);
		e_kv(em, "action", steps[i].action->name);
		e_args(em, steps[i].action->params, steps[i].args);
		e_duration(em, "timeout", steps[i].timeout_ms);
		e_close(em, true);
	}
	e_close(em, false);
}

static void e_probe(struct emitter *em, const struct kheal_probe *probe,
		    bool verify)
{
	e_open(em, true, false);
	e_kv(em, "check", probe->check->name);
	e_args(em, probe->check->params, probe->args);
	if (verify)
		e_duration(em, "deadline", probe->deadline_ms);
	else if (!probe->expect)
		e_kv(em, "expect", "false");
	e_close(em, true);
}

/* The shortest text that reads back as @v. */
static void format_confidence(double v, char *buf, size_t len)
{
	int prec;

	for (prec = 1; prec < 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
	snprintf(buf, len, "%.17g", v);
}

static void e_runbook(struct emitter *em, const struct kheal_runbook *rb)
{
	const struct kheal_match *m = &rb->match;
	char buf[32];
	size_t i;

	e_open(em, true, false);
	e_kv(em, "name", rb->name);
	if (rb->description)
		e_kv(em, "description", rb->description);
	e_str(em, "match");
	e_open(em, true, false);
	e_str(em, "kinds");
	e_open(em, false, true);
	for (i = 0; i < 32; i++)
		if (m->kinds & (1U << i))
			e_str(em, kheal_kind_name(i));
	e_close(em, false);
	e_kv(em, "subsystem", m->subsystem);
	e_kv(em, "min_severity", kheal_severity_name(m->min_severity));
	if (m->nwhen) {
		e_str(em, "when");
		e_open(em, false, false);
		for (i = 0; i < m->nwhen; i++)
			e_cond(em, &m->when[i]);
		e_close(em, false);
	}
	e_close(em, true);
	e_kv(em, "risk", risk_names[rb->risk]);
	if (rb->npre) {
		e_str(em, "preconditions");
		e_open(em, false, false);
		for (i = 0; i < rb->npre; i++) {
			if (rb->pre[i].is_check)
				e_probe(em, &rb->pre[i].probe, false);
			else
				e_cond(em, &rb->pre[i].cond);
		}
		e_close(em, false);
	}
	e_steps(em, "steps", rb->steps, rb->nsteps);
	if (rb->verify.check) {
		e_str(em, "verify");
		e_probe(em, &rb->verify, true);
	}
	e_steps(em, "rollback", rb->rollback, rb->nrollback);
	e_str(em, "escalate");
	e_open(em, true, false);
	e_kv(em, "message", rb->escalate_message);
	e_kv(em, "target", rb->escalate_target);
	e_close(em, true);
	if (rb->confidence.gated) {
		e_str(em, "confidence");
		e_open(em, true, false);
		format_confidence(rb->confidence.min, buf, sizeof(buf));
		e_kv(em, "min", buf);
		e_kv(em, "below", below_names[rb->confidence.below]);
		e_close(em, true);
	}
	/* Written only when set: runbooks from before it emit as they did. */
	if (rb->awaiting != KHEAL_AWAITING_NOTHING)
		e_kv(em, "awaiting_approval", awaiting_names[rb->awaiting]);
	e_duration(em, "cooldown", rb->cooldown_ms);
	snprintf(buf, sizeof(buf), "%" PRIu32, rb->max_attempts);
	e_kv(em, "max_attempts", buf);
	e_close(em, true);
}

/* The runbook after the @off bytes already in @buf. */
static int emit_at(const struct kheal_runbook *rb, char *buf, size_t len,
		   size_t off)
{
	struct emitter em = { .buf = buf, .cap = len, .len = off };
	yaml_event_t ev;

	if (off >= len)
		return -ENOSPC;
	if (!yaml_emitter_initialize(&em.e))
		return -ENOMEM;
	yaml_emitter_set_output(&em.e, emit_write, &em);
	yaml_emitter_set_unicode(&em.e, 1);
	yaml_emitter_set_width(&em.e, -1);
	yaml_emitter_set_indent(&em.e, 2);
	emit(&em, &ev, yaml_stream_start_event_initialize(&ev,
							  YAML_UTF8_ENCODING));
	emit(&em, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL,
							    NULL, 1));
	e_runbook(&em, rb);
	emit(&em, &ev, yaml_document_end_event_initialize(&ev, 1));
	emit(&em, &ev, yaml_stream_end_event_initialize(&ev));
	yaml_emitter_delete(&em.e);
	if (em.full)
		return -ENOSPC;
	if (em.failed)
		return -EINVAL;		/* text that is not UTF-8 */
	return em.len;
}

int kheal_runbook_emit(const struct kheal_runbook *rb, char *buf, size_t len)
{
	if (len)
		buf[0] = '\0';
	return emit_at(rb, buf, len, 0);
}

bool kheal_cond_holds(const struct kheal_cond *c, const struct kheal_event *ev)
{
	const struct kheal_event_field *f = c->field;
	uint64_t v;

	if (!kheal_event_has(ev, f->attr))
		return false;
	if (f->type == KHEAL_FIELD_STR) {
		if (c->op == KHEAL_OP_MATCHES)
			return !fnmatch(c->str, field_str(ev, f), 0);
		if (c->op == KHEAL_OP_EQ)
			return !strcmp(field_str(ev, f), c->str);
		return c->op == KHEAL_OP_NE && strcmp(field_str(ev, f), c->str);
	}
	v = field_num(ev, f);
	switch (c->op) {
	case KHEAL_OP_EQ:
		return v == c->num;
	case KHEAL_OP_NE:
		return v != c->num;
	case KHEAL_OP_LT:
		return v < c->num;
	case KHEAL_OP_LE:
		return v <= c->num;
	case KHEAL_OP_GT:
		return v > c->num;
	case KHEAL_OP_GE:
		return v >= c->num;
	case KHEAL_OP_MATCHES:
		break;
	}
	return false;
}

bool kheal_runbook_matches(const struct kheal_runbook *rb,
			   const struct kheal_event *ev, const char *subsystem)
{
	const struct kheal_match *m = &rb->match;
	size_t i;

	if (ev->kind >= 32 || !(m->kinds & (1U << ev->kind)) ||
	    ev->severity < m->min_severity ||
	    fnmatch(m->subsystem, subsystem, 0))
		return false;
	for (i = 0; i < m->nwhen; i++)
		if (!kheal_cond_holds(&m->when[i], ev))
			return false;
	return true;
}

/* Whether a glob has no wildcard, and how many literal characters. */
static size_t glob_literals(const char *s, bool *exact)
{
	const char *close;
	size_t n = 0;

	*exact = true;
	for (; *s; s++) {
		if (*s == '*' || *s == '?') {
			*exact = false;
			continue;
		}
		if (*s == '[' && (close = strchr(s + 1, ']'))) {
			*exact = false;
			s = close;
			continue;
		}
		if (*s == '\\' && s[1])
			s++;
		n++;
	}
	return n;
}

/* Above zero if @a is more specific than @b; the rule is in runbook.h. */
static int specificity_cmp(const struct kheal_runbook *a,
			   const struct kheal_runbook *b)
{
	const struct kheal_match *ma = &a->match, *mb = &b->match;
	size_t la, lb;
	bool ea, eb;
	int ka, kb;

	la = glob_literals(ma->subsystem, &ea);
	lb = glob_literals(mb->subsystem, &eb);
	if (ea != eb)
		return ea ? 1 : -1;
	if (la != lb)
		return la > lb ? 1 : -1;
	if (ma->nwhen != mb->nwhen)
		return ma->nwhen > mb->nwhen ? 1 : -1;
	ka = __builtin_popcount(ma->kinds);
	kb = __builtin_popcount(mb->kinds);
	if (ka != kb)
		return ka < kb ? 1 : -1;
	if (ma->min_severity != mb->min_severity)
		return ma->min_severity > mb->min_severity ? 1 : -1;
	return strcmp(b->name, a->name);
}

const struct kheal_runbook *
kheal_runbook_match(const struct kheal_runbook_set *set,
		    const struct kheal_event *ev, const char *subsystem)
{
	const struct kheal_runbook *best = NULL, *rb;
	size_t i;

	for (i = 0; i < set->n; i++) {
		rb = &set->v[i].rb;
		if (kheal_runbook_matches(rb, ev, subsystem) &&
		    (!best || specificity_cmp(rb, best) > 0))
			best = rb;
	}
	return best;
}

int kheal_runbook_check_file_perms(const char *path, const struct stat *st,
				   struct kheal_err *err)
{
	if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
		return kheal_err_set(err, EPERM,
				     "%s: refused: not a regular file", path);
	if (st->st_uid)
		return kheal_err_set(err, EPERM,
				     "%s: refused: owned by uid %u, not root; fix: chown root %s",
				     path, (unsigned int)st->st_uid, path);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return kheal_err_set(err, EPERM,
				     "%s: refused: mode %04o lets group or others write it; fix: chmod go-w %s",
				     path, (unsigned int)(st->st_mode & 07777),
				     path);
	return 0;
}

void kheal_runbook_set_free(struct kheal_runbook_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		free(set->v[i].path);
		kheal_runbook_free(&set->v[i].rb);
	}
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

void kheal_runbook_errs_free(struct kheal_runbook_errs *errs)
{
	free(errs->v);
	errs->v = NULL;
	errs->n = 0;
}

static int errs_add(struct kheal_runbook_errs *errs,
		    const struct kheal_err *err)
{
	struct kheal_err *v;

	v = realloc(errs->v, (errs->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	errs->v = v;
	errs->v[errs->n++] = *err;
	return 0;
}

/* Appends, taking over @rb's contents. */
static int set_add(struct kheal_runbook_set *set, const char *path,
		   const struct kheal_runbook *rb, bool stale)
{
	struct kheal_runbook_entry *v;
	char *copy = strdup(path);

	v = copy ? realloc(set->v, (set->n + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(copy);
		return -ENOMEM;
	}
	set->v = v;
	set->v[set->n++] = (struct kheal_runbook_entry){ copy, *rb, stale };
	return 0;
}

static const struct kheal_runbook_entry *
entry_named(const struct kheal_runbook_set *set, const char *name)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (!strcmp(set->v[i].rb.name, name))
			return &set->v[i];
	return NULL;
}

const struct kheal_runbook *
kheal_runbook_set_find(const struct kheal_runbook_set *set, const char *name)
{
	const struct kheal_runbook_entry *e = entry_named(set, name);

	return e ? &e->rb : NULL;
}

static int is_runbook_file(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return d->d_name[0] != '.' && len > 5 &&
	       !strcmp(d->d_name + len - 5, ".yaml");
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/*
 * The loader's state: @next is built beside @old, borrowing the last good
 * runbooks of bad files (adopted[i] for old->v[i]) until it replaces it.
 */
struct load {
	const struct kheal_runbook_set *old;
	struct kheal_runbook_set next;
	bool *adopted;
};

/* Loads one file into l->next; returns its error, or -ENOMEM to stop. */
static int load_one(struct load *l, int dfd, const char *dir,
		    const char *name, struct kheal_err *err)
{
	const struct kheal_runbook_entry *taken;
	struct kheal_runbook rb;
	char path[PATH_MAX];
	size_t i;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ret = load_file(dfd, name, path, true, &rb, err);
	if (!ret && (taken = entry_named(&l->next, rb.name))) {
		ret = kheal_err_set(err, EINVAL,
				    "%s: runbook name '%s' is taken by %s",
				    path, rb.name, taken->path);
		kheal_runbook_free(&rb);
	}
	if (!ret) {
		ret = set_add(&l->next, path, &rb, false);
		if (ret)
			kheal_runbook_free(&rb);
		return ret;
	}
	if (ret == -ENOMEM)
		return ret;
	for (i = 0; i < l->old->n; i++) {
		if (strcmp(l->old->v[i].path, path) ||
		    entry_named(&l->next, l->old->v[i].rb.name))
			continue;
		if (set_add(&l->next, path, &l->old->v[i].rb, true))
			return -ENOMEM;
		l->adopted[i] = true;
	}
	return ret;
}

/* Drops what @next made, sparing what it borrowed. */
static void load_abort(struct load *l)
{
	size_t i;

	for (i = 0; i < l->next.n; i++) {
		if (l->next.v[i].stale)
			memset(&l->next.v[i].rb, 0, sizeof(l->next.v[i].rb));
	}
	kheal_runbook_set_free(&l->next);
}

/* Loads the @n files of @names; 0, or -ENOMEM having dropped l->next. */
static int load_all(struct load *l, int dfd, const char *dir,
		    struct dirent **names, int n,
		    struct kheal_runbook_errs *errs)
{
	struct kheal_err err;
	int i, ret;

	for (i = 0; i < n; i++) {
		ret = load_one(l, dfd, dir, names[i]->d_name, &err);
		if (ret && (ret == -ENOMEM || errs_add(errs, &err))) {
			load_abort(l);
			return -ENOMEM;
		}
	}
	return 0;
}

/* @dir cannot be used: its one error. */
static int dir_error(struct kheal_runbook_errs *errs,
		     const struct kheal_err *err, int ret)
{
	return errs_add(errs, err) ? -ENOMEM : ret;
}

int kheal_runbook_set_load_dir(const char *dir, struct kheal_runbook_set *set,
			       struct kheal_runbook_errs *errs)
{
	struct load l = { .old = set };
	struct dirent **names = NULL;
	struct kheal_err err;
	struct stat st;
	int dfd, n = 0, i, ret;
	size_t k;

	kheal_runbook_errs_free(errs);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return dir_error(errs, &err, kheal_err_set(&err, errno,
			"%s: cannot open: %s", dir, strerror(errno)));
	if (fstat(dfd, &st))
		ret = kheal_err_set(&err, errno, "%s: cannot stat: %s", dir,
				    strerror(errno));
	else
		ret = kheal_runbook_check_file_perms(dir, &st, &err);
	if (!ret) {
		n = scandirat(dfd, ".", &names, is_runbook_file, by_name);
		if (n < 0)
			ret = kheal_err_set(&err, errno, "%s: cannot list: %s",
					    dir, strerror(errno));
	}
	if (ret) {
		close(dfd);
		return dir_error(errs, &err, ret);
	}

	l.adopted = calloc(set->n + 1, sizeof(*l.adopted));
	ret = l.adopted ? load_all(&l, dfd, dir, names, n, errs) : -ENOMEM;
	if (!ret) {
		for (k = 0; k < set->n; k++)
			if (l.adopted[k])
				memset(&set->v[k].rb, 0, sizeof(set->v[k].rb));
		kheal_runbook_set_free(set);
		*set = l.next;
		ret = errs->n ? -EINVAL : 0;
	}
	free(l.adopted);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	close(dfd);
	return ret;
}

static bool is_task(const char *subsystem)
{
	return !strncmp(subsystem, "task:", 5);
}

int kheal_runbook_novel_summary(const struct kheal_event *ev,
				const char *subsystem, char *buf, size_t len)
{
	const char *kind = kheal_kind_name(ev->kind);
	const char *severity = kheal_severity_name(ev->severity);
	struct kheal_json j;
	char *c;
	int ret;

	if (!kind || !severity)
		return -EINVAL;
	kheal_json_init(&j, buf, len);
	kheal_json_raw(&j, "novel incident: %s (%s) on %s", kind, severity,
		       subsystem);
	if (kheal_event_has(ev, KHEAL_A_COMM))
		kheal_json_raw(&j, ", comm %s", ev->comm);
	kheal_json_raw(&j, ", event %" PRIu64 ": no runbook matches", ev->seq);
	ret = kheal_json_finish(&j);
	/* One line, whatever bytes a comm or cgroup path holds. */
	for (c = buf; ret > 0 && *c; c++)
		if ((unsigned char)*c < ' ' || *c == 0x7f)
			*c = '?';
	return ret;
}

int kheal_runbook_draft_name(const struct kheal_event *ev,
			     const char *subsystem, char *buf, size_t len)
{
	const char *kind = kheal_kind_name(ev->kind);
	char raw[KHEAL_RUNBOOK_NAME_LEN];
	size_t n = 0;
	const char *c;

	if (!kind)
		return -EINVAL;
	snprintf(raw, sizeof(raw), "draft-%s-%s", kind,
		 is_task(subsystem) ? "task" : subsystem);
	if (len < sizeof(raw))
		return -ENOSPC;
	for (c = raw; *c; c++) {
		if (strchr("abcdefghijklmnopqrstuvwxyz"
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *c))
			buf[n++] = *c;
		else if (buf[n - 1] != '-')
			buf[n++] = '-';
	}
	while (buf[n - 1] == '-')
		n--;
	buf[n] = '\0';
	return n;
}

/* @s as a glob that matches only @s. */
static int glob_escape(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	for (; *s; s++) {
		if (n + 3 > len)
			return -ENOSPC;
		if (strchr("*?[]\\", *s))
			buf[n++] = '\\';
		buf[n++] = *s;
	}
	buf[n] = '\0';
	return n;
}

int kheal_runbook_draft(const struct kheal_event *ev, const char *subsystem,
			char *buf, size_t len)
{
	char name[KHEAL_RUNBOOK_NAME_LEN], summary[MAX_DESCRIPTION + 1];
	char pattern[2 * MAX_TEXT], comm[KHEAL_COMM_LEN];
	char message[160], escalation[160], target[] = DEFAULT_TARGET;
	struct kheal_runbook rb = { 0 };
	struct kheal_step step = { 0 };
	struct kheal_cond cond = { 0 };
	struct kheal_json j;
	int ret;

	ret = kheal_runbook_draft_name(ev, subsystem, name, sizeof(name));
	if (ret < 0)
		return ret;
	ret = kheal_runbook_novel_summary(ev, subsystem, summary,
					  sizeof(summary));
	if (ret < 0)
		return ret;
	if (is_task(subsystem))
		snprintf(pattern, sizeof(pattern), "task:*");
	else if (glob_escape(subsystem, pattern, sizeof(pattern)) < 0)
		return -EINVAL;

	rb.name = name;
	rb.description = summary;
	rb.match.kinds = 1U << ev->kind;
	rb.match.subsystem = pattern;
	rb.match.min_severity = ev->severity;
	if (is_task(subsystem) && kheal_event_has(ev, KHEAL_A_COMM) &&
	    ev->comm[0]) {
		snprintf(comm, sizeof(comm), "%s", ev->comm);
		cond = (struct kheal_cond){ field_named("comm", 4), KHEAL_OP_EQ,
					    0, comm };
		rb.match.when = &cond;
		rb.match.nwhen = 1;
	}
	rb.risk = KHEAL_RISK_HIGH;
	snprintf(message, sizeof(message),
		 "novel ${kind} on ${subsystem}: no runbook matched (draft %s)",
		 name);
	step.action = kheal_action_find("escalate");
	step.args[0] = message;
	step.args[1] = target;
	step.timeout_ms = DRAFT_TIMEOUT_MS;
	rb.steps = &step;
	rb.nsteps = 1;
	default_escalation(name, escalation, sizeof(escalation));
	rb.escalate_message = escalation;
	rb.escalate_target = target;
	rb.cooldown_ms = DEFAULT_COOLDOWN_MS;
	rb.max_attempts = 1;

	kheal_json_init(&j, buf, len);
	kheal_json_raw(&j,
		       "# Draft for a novel incident; kheald took no action.\n"
		       "# %s\n"
		       "# Before installing it in /etc/kheal/runbooks.d/ (root-owned, not\n"
		       "# group- or world-writable): replace the escalate step with steps\n"
		       "# that heal, add a verify, and set risk to what they warrant.\n",
		       summary);
	ret = kheal_json_finish(&j);
	if (ret < 0)
		return ret;
	return emit_at(&rb, buf, len, ret);
}

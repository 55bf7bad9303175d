// SPDX-License-Identifier: GPL-2.0
/*
 * khealctl's commands on kheald's brain, over its control socket (ctl.h):
 * subsystems, incidents, approvals, heal, status's health at a glance;
 * and runbooks, from kheald or from their directory.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl.h"
#include "event.h"
#include "json.h"
#include "khealctl.h"
#include "pbjson.h"
#include "record.h"
#include "runbook.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define DEFAULT_RUNBOOKS	"/etc/kheal/runbooks.d"
#define DEFAULT_DRAFTS		"/var/lib/kheal/drafts"

/* Short-lived text for one printf: enum names, ages. */
static char *scratch(void)
{
	static char bufs[16][64];
	static unsigned int turn;

	return bufs[turn++ % ARRAY_SIZE(bufs)];
}

/* An enum value's name, as pbjson.h names it; the number if it has none. */
static const char *enum_name(const ProtobufCEnumDescriptor *d, int v)
{
	char *buf = scratch();

	if (!kheal_pbjson_enum(d, v, buf, 64))
		snprintf(buf, 64, "%d", v);
	return buf;
}

#define ENUM(type, v)	enum_name(&kheal__##type##__descriptor, (v))

/* "3m12s ago" for a CLOCK_BOOTTIME time; "-" for none. */
static const char *ago(uint64_t ns)
{
	uint64_t now = boottime_ns(), s;
	char *buf = scratch();

	if (!ns)
		return "-";
	s = now > ns ? (now - ns) / 1000000000 : 0;
	if (s < 60)
		snprintf(buf, 64, "%" PRIu64 "s ago", s);
	else if (s < 3600)
		snprintf(buf, 64, "%" PRIu64 "m%02" PRIu64 "s ago", s / 60,
			 s % 60);
	else if (s < 86400)
		snprintf(buf, 64, "%" PRIu64 "h%02" PRIu64 "m ago", s / 3600,
			 s / 60 % 60);
	else
		snprintf(buf, 64, "%" PRIu64 "d%02" PRIu64 "h ago", s / 86400,
			 s / 3600 % 24);
	return buf;
}

static const char *str(const char *s)
{
	return s && *s ? s : "-";
}

/*
 * JSON by the protobuf descriptors (pbjson.h), but events as
 * kheal_event_json prints them everywhere else: kind by name, and so on.
 */
static void json_event(struct kheal_json *j, const char *key,
		       const Kheal__Event *pe)
{
	static char line[KHEAL_EVENT_LINE_MAX];
	static struct kheal_event ev;

	kheal_json_begin(j, key, '{');
	if (!kheal_record_to_event(pe, &ev, NULL) &&
	    kheal_event_json(&ev, line, sizeof(line)) > 0) {
		kheal_json_raw(j, "%s", line + 1);
		j->comma = true;
		return;
	}
	kheal_pbjson_fields(j, &pe->base);
	kheal_json_end(j, '}');
}

static void json_incident(struct kheal_json *j, const char *key,
			  const Kheal__IncidentInfo *in)
{
	Kheal__IncidentInfo rest = *in;

	rest.trigger = NULL;
	kheal_json_begin(j, key, '{');
	kheal_pbjson_fields(j, &rest.base);
	if (in->trigger)
		json_event(j, "trigger", in->trigger);
	kheal_json_end(j, '}');
}

/* A response's fields, into the object @j has open. */
static void json_response(struct kheal_json *j, const Kheal__CtlResponse *r)
{
	Kheal__CtlResponse rest = *r;
	size_t i;

	rest.n_incidents = 0;
	rest.incidents = NULL;
	kheal_pbjson_fields(j, &rest.base);
	if (!r->n_incidents)
		return;
	kheal_json_begin(j, "incidents", '[');
	for (i = 0; i < r->n_incidents; i++)
		json_incident(j, NULL, r->incidents[i]);
	kheal_json_end(j, ']');
}

/* Prints what @fill writes as one line, in a buffer as big as it takes. */
static void json_print(void (*fill)(struct kheal_json *j, const void *arg),
		       const void *arg)
{
	size_t cap = 65536;
	struct kheal_json j;
	char *buf = NULL;
	int len;

	do {
		free(buf);
		cap *= 2;
		buf = malloc(cap);
		if (!buf) {
			fprintf(stderr, "khealctl: out of memory\n");
			return;
		}
		kheal_json_init(&j, buf, cap);
		fill(&j, arg);
		len = kheal_json_finish(&j);
	} while (len < 0 && cap < (256U << 20));
	print_line(buf, len);
	free(buf);
}

static void fill_message(struct kheal_json *j, const void *arg)
{
	const ProtobufCMessage *m = arg;

	if (m->descriptor == &kheal__incident_info__descriptor) {
		json_incident(j, NULL, arg);
		return;
	}
	kheal_json_begin(j, NULL, '{');
	if (m->descriptor == &kheal__ctl_response__descriptor)
		json_response(j, arg);
	else
		kheal_pbjson_fields(j, m);
	kheal_json_end(j, '}');
}

/* One JSON object on its own line. */
static void print_json(const void *m)
{
	json_print(fill_message, m);
}

/* Options and the call to kheald */

struct brain_opts {
	const char *socket;
	const char *dir;
	const char *drafts;
};

enum {
	OPT_SOCKET = 1 << 0,
	OPT_DIR = 1 << 1,
	OPT_DRAFTS = 1 << 2,
};

/* @c's options: those in @allow. Positional arguments from optind. */
static int parse_opts(const struct cmd *c, int argc, char **argv,
		      unsigned int allow, struct brain_opts *o)
{
	static const struct option all[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "dir", required_argument, NULL, 'd' },
		{ "drafts", required_argument, NULL, 'D' },
	};
	struct option opts[ARRAY_SIZE(all) + 1] = { { 0 } };
	size_t i, n = 0;
	int opt;

	*o = (struct brain_opts){
		.socket = KHEAL_CTL_DEFAULT_PATH,
		.dir = DEFAULT_RUNBOOKS,
		.drafts = DEFAULT_DRAFTS,
	};
	for (i = 0; i < ARRAY_SIZE(all); i++)
		if (allow & (1U << i))
			opts[n++] = all[i];
	while ((opt = next_opt(c, argc, argv, opts)) != -1) {
		switch (opt) {
		case 's':
			o->socket = optarg;
			break;
		case 'd':
			o->dir = optarg;
			break;
		case 'D':
			o->drafts = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	return 0;
}

/* Exactly @n positional arguments, or a usage error. */
static int want_args(const struct cmd *c, int argc, char **argv, int n,
		     const char *what)
{
	if (argc - optind > n)
		return usage_error(c, "unexpected argument '%s'",
				   argv[optind + n]);
	if (argc - optind < n)
		return usage_error(c, "expected %s", what);
	return 0;
}

/* 0, or 1 after printing why kheald refused; then *@resp is freed. */
static int refused(const struct cmd *c, Kheal__CtlResponse **resp)
{
	struct kheal_err err = { "" };
	int ret;

	if ((*resp)->error) {
		ret = (*resp)->error < 0 ? (*resp)->error : -EIO;
		kheal_err_set(&err, -ret, "%s", (*resp)->message ?
			      (*resp)->message : strerror(-ret));
		kheal__ctl_response__free_unpacked(*resp, NULL);
		*resp = NULL;
		return fail(c, &err, ret);
	}
	return 0;
}

/*
 * Asks kheald; 0 with its answer, or 1 after printing why not: kheald is
 * not running, or it refused (the answer's error and message).
 */
static int call(const struct cmd *c, const char *socket,
		const Kheal__CtlRequest *req, Kheal__CtlResponse **resp)
{
	struct kheal_err err = { "" };
	int ret;

	ret = kheal_ctl_call(socket, req, resp, &err);
	if (ret)
		return fail(c, &err, ret);
	return refused(c, resp);
}

static Kheal__CtlRequest request(Kheal__CtlRequest__Op op)
{
	Kheal__CtlRequest req = KHEAL__CTL_REQUEST__INIT;

	req.has_op = true;
	req.op = op;
	return req;
}

/* Text */

static const char *health_name(const Kheal__SubsystemInfo *s)
{
	return s->has_state ? ENUM(health_state, s->state) : "-";
}

static const char *incident_state(const Kheal__IncidentInfo *in)
{
	return in->has_state ? ENUM(incident_state, in->state) : "-";
}

/* Lines of @text, each after @indent. */
static void print_lines(const char *indent, const char *text)
{
	const char *nl;

	while (*text) {
		nl = strchr(text, '\n');
		if (!nl)
			nl = text + strlen(text);
		printf("%s%.*s\n", indent, (int)(nl - text), text);
		text = *nl ? nl + 1 : nl;
	}
}

static void print_args(const Kheal__Action *a)
{
	size_t i;

	for (i = 0; i < a->n_args; i++)
		printf(" %s", a->args[i]);
}

/* "step 0 cgroup.freeze cgroup=/a.slice: ok (3 ms)" and an error. */
static void print_action(const Kheal__Action *a)
{
	printf("%s %" PRIu32 " %s", a->has_phase ?
	       ENUM(phase, a->phase) : "-", a->index, str(a->name));
	print_args(a);
	printf(": %s", a->has_result ? ENUM(action_result, a->result) : "-");
	if (a->has_duration_ms)
		printf(" (%" PRIu64 " ms)", a->duration_ms);
	if (a->error)
		printf(": %s", a->error);
}

static void print_event_text(const char *indent, const Kheal__Event *pe)
{
	static char line[KHEAL_EVENT_LINE_MAX];
	static struct kheal_event ev;
	struct kheal_err err = { "" };
	int ret;

	ret = kheal_record_to_event(pe, &ev, &err);
	if (ret) {
		printf("%s(unreadable: %s)\n", indent, kheal_err_str(&err, ret));
		return;
	}
	if (kheal_event_text(&ev, line, sizeof(line)) >= 0)
		printf("%s%s\n", indent, line);
}

/* Column widths: the longest of a header and its values. */
static int width(int w, const char *s)
{
	int n = strlen(str(s));

	return n > w ? n : w;
}

/* status */

static void status_brain_text(const Kheal__CtlResponse *r)
{
	uint64_t counts[KHEAL__HEALTH_STATE__ESCALATED + 1] = { 0 };
	const Kheal__IncidentInfo *in;
	const Kheal__Approval *ap;
	const Kheal__Action *a;
	size_t i, shown;
	int s;

	printf("brain: profile %s\n", str(r->profile));
	for (i = 0; i < r->n_counts; i++)
		if (r->counts[i]->has_state &&
		    r->counts[i]->state < (int)ARRAY_SIZE(counts))
			counts[r->counts[i]->state] = r->counts[i]->count;
	printf("  health:");
	for (s = KHEAL__HEALTH_STATE__HEALTHY;
	     s <= KHEAL__HEALTH_STATE__ESCALATED; s++)
		printf("%s %" PRIu64 " %s", s > 1 ? "," : "", counts[s],
		       ENUM(health_state, s));
	putchar('\n');

	for (i = shown = 0; i < r->n_incidents; i++) {
		in = r->incidents[i];
		if (in->state == KHEAL__INCIDENT_STATE__INCIDENT_RESOLVED)
			continue;
		if (!shown++)
			printf("  open incidents:\n");
		printf("    incident %" PRIu64 " on %s, %s: %s\n", in->id,
		       str(in->subsystem), incident_state(in),
		       str(in->summary));
	}
	if (!shown)
		printf("  open incidents: none\n");

	for (i = shown = 0; i < r->n_approvals; i++) {
		ap = r->approvals[i];
		if (ap->has_state &&
		    ap->state != KHEAL__APPROVAL_STATE__APPROVAL_PENDING)
			continue;
		if (!shown++)
			printf("  pending approvals:\n");
		printf("    approval %" PRIu64 ": runbook %s on %s (risk %s) "
		       "for incident %" PRIu64, ap->id, str(ap->runbook),
		       str(ap->subsystem), str(ap->risk), ap->incident);
		if (ap->has_time_ns)
			printf(", asked %s", ago(ap->time_ns));
		printf("; khealctl approve %" PRIu64 "\n", ap->id);
	}
	if (!shown)
		printf("  pending approvals: none\n");

	if (!r->n_last_actions)
		printf("  last actions: none\n");
	else
		printf("  last actions:\n");
	for (i = 0; i < r->n_last_actions; i++) {
		a = r->last_actions[i];
		printf("    %s  incident %" PRIu64 "  %s  ", ago(a->time_ns),
		       a->incident, str(a->runbook));
		print_action(a);
		putchar('\n');
	}
}

void status_brain(const char *socket, struct kheal_json *j)
{
	Kheal__CtlRequest req = request(KHEAL__CTL_REQUEST__OP__STATUS);
	struct kheal_err err = { "" };
	Kheal__CtlResponse *resp;
	int ret;

	ret = kheal_ctl_call(socket, &req, &resp, &err);
	if (j) {
		kheal_json_begin(j, "brain", '{');
		kheal_json_bool(j, "reachable", !ret);
		if (ret)
			kheal_json_str(j, "message", kheal_err_str(&err, ret));
		else
			json_response(j, resp);
		kheal_json_end(j, '}');
	} else if (ret) {
		printf("brain: unreachable: %s\n", kheal_err_str(&err, ret));
	} else if (resp->error) {
		printf("brain: error: %s\n", resp->message ? resp->message :
		       strerror(-resp->error));
	} else {
		status_brain_text(resp);
	}
	if (!ret)
		kheal__ctl_response__free_unpacked(resp, NULL);
}

/* subsystems */

int cmd_subsystems(const struct cmd *c, int argc, char **argv)
{
	Kheal__CtlRequest req = request(KHEAL__CTL_REQUEST__OP__SUBSYSTEMS);
	const Kheal__SubsystemInfo *s;
	Kheal__CtlResponse *resp;
	struct brain_opts o;
	int ret, w = 9;
	size_t i;

	ret = parse_opts(c, argc, argv, OPT_SOCKET, &o);
	if (!ret)
		ret = want_args(c, argc, argv, 0, "no arguments");
	if (!ret)
		ret = call(c, o.socket, &req, &resp);
	if (ret)
		return ret;
	for (i = 0; i < resp->n_subsystems; i++)
		w = width(w, resp->subsystems[i]->id);
	if (!json && !resp->n_subsystems)
		printf("no subsystems: nothing has reported a fault yet\n");
	else if (!json)
		printf("%-*s  %-10s  %-10s  %s\n", w, "SUBSYSTEM", "STATE",
		       "SINCE", "CAUSE");
	for (i = 0; i < resp->n_subsystems; i++) {
		s = resp->subsystems[i];
		if (json)
			print_json(s);
		else
			printf("%-*s  %-10s  %-10s  %s\n", w, str(s->id),
			       health_name(s), ago(s->since_ns),
			       str(s->cause));
	}
	kheal__ctl_response__free_unpacked(resp, NULL);
	return 0;
}

/* incidents, incident show */

int cmd_incidents(const struct cmd *c, int argc, char **argv)
{
	Kheal__CtlRequest req = request(KHEAL__CTL_REQUEST__OP__INCIDENTS);
	const Kheal__IncidentInfo *in;
	Kheal__CtlResponse *resp;
	struct brain_opts o;
	int ret, w = 9;
	size_t i;

	ret = parse_opts(c, argc, argv, OPT_SOCKET, &o);
	if (!ret)
		ret = want_args(c, argc, argv, 0, "no arguments");
	if (!ret)
		ret = call(c, o.socket, &req, &resp);
	if (ret)
		return ret;
	for (i = 0; i < resp->n_incidents; i++)
		w = width(w, resp->incidents[i]->subsystem);
	if (!json && !resp->n_incidents)
		printf("no incidents\n");
	else if (!json)
		printf("%-6s  %-*s  %-17s  %-10s  %6s  %s\n", "ID", w,
		       "SUBSYSTEM", "STATE", "OPENED", "EVENTS", "SUMMARY");
	for (i = 0; i < resp->n_incidents; i++) {
		in = resp->incidents[i];
		if (json)
			print_json(in);
		else
			printf("%-6" PRIu64 "  %-*s  %-17s  %-10s  %6" PRIu64
			       "  %s\n", in->id, w, str(in->subsystem),
			       incident_state(in), ago(in->opened_ns),
			       in->events, str(in->summary));
	}
	kheal__ctl_response__free_unpacked(resp, NULL);
	return 0;
}

static void print_diagnosis(const Kheal__Diagnosis *d)
{
	size_t i;

	printf("  diagnosis: %s, by rule %s", str(d->cause), str(d->rule));
	if (d->has_confidence)
		printf(" (confidence %.2f)", d->confidence);
	putchar('\n');
	for (i = 0; i < d->n_evidence; i++)
		printf("    evidence: %s\n", d->evidence[i]);
}

static void print_decision(const Kheal__Decision *d)
{
	printf("  decision: %s", d->has_decision ?
	       ENUM(decision_kind, d->decision) : "-");
	if (d->runbook)
		printf(", runbook %s", d->runbook);
	printf(" (profile %s, risk %s", str(d->profile), str(d->risk));
	if (d->has_attempt)
		printf(", attempt %" PRIu32, d->attempt);
	if (d->forced)
		printf(", forced by khealctl heal");
	if (d->has_time_ns)
		printf(", %s", ago(d->time_ns));
	putchar(')');
	if (d->reason)
		printf(": %s", d->reason);
	putchar('\n');
	if (d->has_approval)
		printf("    approval %" PRIu64 ": khealctl approve %" PRIu64
		       " or khealctl deny %" PRIu64 "\n", d->approval,
		       d->approval, d->approval);
	if (d->draft)
		printf("    draft runbook: %s\n", d->draft);
}

static void print_outcome(const Kheal__Outcome *o)
{
	printf("  outcome: %s", o->has_outcome ?
	       ENUM(outcome_kind, o->outcome) : "-");
	if (o->runbook)
		printf(", runbook %s", o->runbook);
	if (o->has_duration_ms)
		printf(", %" PRIu64 " ms after the decision", o->duration_ms);
	if (o->has_time_ns)
		printf(", %s", ago(o->time_ns));
	if (o->detail)
		printf(": %s", o->detail);
	putchar('\n');
}

static void print_text_item(const char *name, const char *text)
{
	if (!text)
		return;
	if (!strchr(text, '\n') || !text[strcspn(text, "\n") + 1]) {
		printf("    %s: %.*s\n", name, (int)strcspn(text, "\n"), text);
		return;
	}
	printf("    %s:\n", name);
	print_lines("      ", text);
}

static void print_context(const Kheal__Context *x)
{
	const Kheal__EventRef *r;
	size_t i;

	printf("  context:\n");
	print_text_item("psi memory", x->psi_memory);
	print_text_item("psi io", x->psi_io);
	print_text_item("psi cpu", x->psi_cpu);
	print_text_item("meminfo", x->meminfo);
	print_text_item("task state", x->task_state);
	print_text_item("wchan", x->wchan);
	if (x->n_stack)
		printf("    stack:\n");
	for (i = 0; i < x->n_stack; i++)
		printf("      %s\n", x->stack[i]);
	print_text_item("cgroup memory", x->cgroup_memory);
	if (x->has_cgroup_procs)
		printf("    cgroup procs: %" PRIu32 "\n", x->cgroup_procs);
	if (x->has_checkpoint_id)
		printf("    checkpoint: %" PRIu64 "\n", x->checkpoint_id);
	if (x->checkpoint) {
		printf("    checkpoint text:\n");
		print_lines("      ", x->checkpoint);
	}
	if (x->n_related)
		printf("    related events:");
	for (i = 0; i < x->n_related; i++) {
		r = x->related[i];
		printf(" %s %" PRIu64 ":%" PRIu64, r->has_source ?
		       ENUM(source, r->source) : "-", r->instance, r->seq);
	}
	if (x->n_related)
		printf("\n      (source instance:seq; khealctl events shows them)\n");
}

static void print_incident(const Kheal__IncidentInfo *in)
{
	size_t i;

	printf("incident %" PRIu64 " on %s: %s\n", in->id, str(in->subsystem),
	       incident_state(in));
	printf("  summary: %s\n", str(in->summary));
	printf("  opened %s", ago(in->opened_ns));
	if (in->has_updated_ns)
		printf(", updated %s", ago(in->updated_ns));
	printf("; %" PRIu64 " events", in->events);
	if (in->has_attempts)
		printf(", %" PRIu32 " attempts", in->attempts);
	putchar('\n');
	if (in->trigger)
		print_event_text("  trigger: ", in->trigger);
	if (in->diagnosis)
		print_diagnosis(in->diagnosis);
	if (in->decision)
		print_decision(in->decision);
	if (in->n_actions)
		printf("  actions:\n");
	for (i = 0; i < in->n_actions; i++) {
		printf("    ");
		print_action(in->actions[i]);
		printf(", %s\n", ago(in->actions[i]->time_ns));
	}
	if (in->outcome)
		print_outcome(in->outcome);
	if (in->context)
		print_context(in->context);
}

int cmd_incident(const struct cmd *c, int argc, char **argv)
{
	Kheal__CtlRequest req = request(KHEAL__CTL_REQUEST__OP__INCIDENT);
	Kheal__CtlResponse *resp;
	struct brain_opts o;
	struct kheal_err err;
	int ret;

	if (argc < 2 || strcmp(argv[1], "show")) {
		if (argc >= 2 && (!strcmp(argv[1], "-h") ||
				  !strcmp(argv[1], "--help"))) {
			print_usage(c, stdout);
			return 0;
		}
		return usage_error(c, "expected 'show ID'");
	}
	argc--;
	argv++;
	ret = parse_opts(c, argc, argv, OPT_SOCKET, &o);
	if (!ret)
		ret = want_args(c, argc, argv, 1, "an incident ID");
	if (!ret && parse_num(c, "incident ID", argv[optind], 1, UINT64_MAX,
			      &req.id))
		ret = EXIT_USAGE;
	if (ret)
		return ret;
	req.has_id = true;
	ret = call(c, o.socket, &req, &resp);
	if (ret)
		return ret;
	if (!resp->n_incidents) {
		kheal__ctl_response__free_unpacked(resp, NULL);
		kheal_err_set(&err, ENOENT, "kheald sent no incident %" PRIu64,
			      req.id);
		return fail(c, &err, -ENOENT);
	}
	if (json)
		print_json(resp->incidents[0]);
	else
		print_incident(resp->incidents[0]);
	kheal__ctl_response__free_unpacked(resp, NULL);
	return 0;
}

/* approvals, approve, deny, heal */

int cmd_approvals(const struct cmd *c, int argc, char **argv)
{
	Kheal__CtlRequest req = request(KHEAL__CTL_REQUEST__OP__APPROVALS);
	const Kheal__Approval *a;
	Kheal__CtlResponse *resp;
	int ret, wr = 7, ws = 9;
	struct brain_opts o;
	size_t i;

	ret = parse_opts(c, argc, argv, OPT_SOCKET, &o);
	if (!ret)
		ret = want_args(c, argc, argv, 0, "no arguments");
	if (!ret)
		ret = call(c, o.socket, &req, &resp);
	if (ret)
		return ret;
	for (i = 0; i < resp->n_approvals; i++) {
		wr = width(wr, resp->approvals[i]->runbook);
		ws = width(ws, resp->approvals[i]->subsystem);
	}
	if (!json && !resp->n_approvals)
		printf("no approvals\n");
	else if (!json)
		printf("%-6s  %-8s  %-*s  %-*s  %-6s  %-8s  %s\n", "ID",
		       "INCIDENT", wr, "RUNBOOK", ws, "SUBSYSTEM", "RISK",
		       "STATE", "TIME");
	for (i = 0; i < resp->n_approvals; i++) {
		a = resp->approvals[i];
		if (json)
			print_json(a);
		else
			printf("%-6" PRIu64 "  %-8" PRIu64 "  %-*s  %-*s  "
			       "%-6s  %-8s  %s\n", a->id, a->incident, wr,
			       str(a->runbook), ws, str(a->subsystem),
			       str(a->risk), a->has_state ?
			       ENUM(approval_state, a->state) : "-",
			       ago(a->time_ns));
	}
	kheal__ctl_response__free_unpacked(resp, NULL);
	return 0;
}

/* What kheald answered an act: its message, the incident it opened. */
static void print_answer(const Kheal__CtlResponse *resp, const char *done)
{
	if (json)
		print_json(resp);
	else if (resp->has_id && resp->message)
		printf("incident %" PRIu64 ": %s\n", resp->id, resp->message);
	else if (resp->has_id)
		printf("incident %" PRIu64 "\n", resp->id);
	else
		printf("%s\n", resp->message ? resp->message : done);
}

static int decide(const struct cmd *c, int argc, char **argv,
		  Kheal__CtlRequest__Op op, const char *done)
{
	Kheal__CtlRequest req = request(op);
	Kheal__CtlResponse *resp;
	struct brain_opts o;
	int ret;

	ret = parse_opts(c, argc, argv, OPT_SOCKET, &o);
	if (!ret)
		ret = want_args(c, argc, argv, 1, "an approval ID");
	if (!ret && parse_num(c, "approval ID", argv[optind], 1, UINT64_MAX,
			      &req.id))
		ret = EXIT_USAGE;
	if (ret)
		return ret;
	req.has_id = true;
	ret = call(c, o.socket, &req, &resp);
	if (ret)
		return ret;
	print_answer(resp, done);
	kheal__ctl_response__free_unpacked(resp, NULL);
	return 0;
}

int cmd_approve(const struct cmd *c, int argc, char **argv)
{
	return decide(c, argc, argv, KHEAL__CTL_REQUEST__OP__APPROVE,
		      "approved");
}

int cmd_deny(const struct cmd *c, int argc, char **argv)
{
	return decide(c, argc, argv, KHEAL__CTL_REQUEST__OP__DENY, "denied");
}

int cmd_heal(const struct cmd *c, int argc, char **argv)
{
	Kheal__CtlRequest req = request(KHEAL__CTL_REQUEST__OP__HEAL);
	Kheal__CtlResponse *resp;
	struct brain_opts o;
	int ret;

	ret = parse_opts(c, argc, argv, OPT_SOCKET, &o);
	if (!ret)
		ret = want_args(c, argc, argv, 1,
				"a SUBSYSTEM, e.g. cgroup:/svc.slice");
	if (ret)
		return ret;
	req.subsystem = argv[optind];
	ret = call(c, o.socket, &req, &resp);
	if (ret)
		return ret;
	print_answer(resp, "done");
	kheal__ctl_response__free_unpacked(resp, NULL);
	return 0;
}

/* runbooks */

static void print_runbooks(Kheal__RunbookInfo *const *v, size_t n)
{
	int wn = 4, wk = 5, ws = 9;
	char kinds[256];
	size_t i, k, len;
	const Kheal__RunbookInfo *r;

	if (json) {
		for (i = 0; i < n; i++)
			print_json(v[i]);
		return;
	}
	for (i = 0; i < n; i++) {
		wn = width(wn, v[i]->name);
		ws = width(ws, v[i]->subsystem);
		for (k = len = 0; k < v[i]->n_kinds; k++)
			len += strlen(v[i]->kinds[k]) + 1;
		wk = (int)len - 1 > wk ? (int)len - 1 : wk;
	}
	if (!n) {
		printf("no runbooks\n");
		return;
	}
	printf("%-*s  %-6s  %-*s  %-*s  %s\n", wn, "NAME", "RISK", wk, "KINDS",
	       ws, "SUBSYSTEM", "STATUS");
	for (i = 0; i < n; i++) {
		r = v[i];
		kinds[0] = '\0';
		for (k = len = 0; k < r->n_kinds && len < sizeof(kinds); k++)
			len += snprintf(kinds + len, sizeof(kinds) - len,
					"%s%s", k ? "," : "", r->kinds[k]);
		printf("%-*s  %-6s  %-*s  %-*s  ", wn, str(r->name),
		       str(r->risk), wk, str(kinds), ws, str(r->subsystem));
		if (r->stale)
			printf("stale, last good kept: %s\n", str(r->error));
		else if (r->error)
			printf("error: %s\n", r->error);
		else
			printf("ok\n");
	}
}

/* The set in @dir as kheald would describe it, hung off @a. */
static int local_runbooks(const struct kheal_runbook_set *set,
			  const struct kheal_runbook_errs *errs,
			  struct kheal_ctl_arena *a, Kheal__RunbookInfo ***out,
			  size_t *n)
{
	const struct kheal_runbook_entry *e;
	Kheal__RunbookInfo **v, *r;
	const char *kind;
	uint32_t bit;
	size_t i, k;

	v = kheal_ctl_calloc(a, set->n + errs->n, sizeof(*v));
	for (i = 0; v && i < set->n + errs->n; i++) {
		r = v[i] = kheal_ctl_alloc(a, sizeof(*r));
		if (!r)
			break;
		kheal__runbook_info__init(r);
		if (i >= set->n) {
			r->error = errs->v[i - set->n].msg;
			continue;
		}
		e = &set->v[i];
		r->name = e->rb.name;
		r->path = e->path;
		r->risk = (char *)kheal_risk_name(e->rb.risk);
		r->description = e->rb.description;
		r->has_stale = true;
		r->stale = e->stale;
		r->subsystem = e->rb.match.subsystem;
		r->kinds = kheal_ctl_calloc(a, 32, sizeof(*r->kinds));
		for (bit = 0, k = 0; r->kinds && bit < 32; bit++) {
			kind = kheal_kind_name(bit);
			if ((e->rb.match.kinds & (1U << bit)) && kind)
				r->kinds[k++] = (char *)kind;
		}
		r->n_kinds = k;
	}
	*out = v;
	*n = set->n + errs->n;
	return a->failed ? -ENOMEM : 0;
}

static int runbooks_list_local(const struct cmd *c, const char *dir)
{
	struct kheal_runbook_errs errs = { 0 };
	struct kheal_runbook_set set = { 0 };
	struct kheal_err err = { "" };
	struct kheal_ctl_arena a;
	Kheal__RunbookInfo **v;
	size_t n;
	int ret;

	ret = kheal_runbook_set_load_dir(dir, &set, &errs);
	if (ret && ret != -EINVAL) {
		/* The one error names the directory and what failed. */
		kheal_err_set(&err, -ret, "%s", errs.n ? errs.v[0].msg :
			      strerror(-ret));
		kheal_runbook_errs_free(&errs);
		return fail(c, &err, ret);
	}
	kheal_ctl_arena_init(&a);
	ret = local_runbooks(&set, &errs, &a, &v, &n);
	if (!ret)
		print_runbooks(v, n);
	kheal_ctl_arena_free(&a);
	kheal_runbook_set_free(&set);
	kheal_runbook_errs_free(&errs);
	return ret ? fail(c, NULL, ret) : 0;
}

static int runbooks_list(const struct cmd *c, int argc, char **argv)
{
	Kheal__CtlRequest req = request(KHEAL__CTL_REQUEST__OP__RUNBOOKS);
	struct kheal_err err = { "" };
	Kheal__CtlResponse *resp;
	struct brain_opts o;
	int ret;

	ret = parse_opts(c, argc, argv, OPT_SOCKET | OPT_DIR, &o);
	if (!ret)
		ret = want_args(c, argc, argv, 0, "no arguments");
	if (ret)
		return ret;
	ret = kheal_ctl_call(o.socket, &req, &resp, &err);
	if (ret == -ENOENT || ret == -ECONNREFUSED) {
		fprintf(stderr, "khealctl: %s: %s; these are the runbooks in %s, read here\n",
			c->name, kheal_err_str(&err, ret), o.dir);
		return runbooks_list_local(c, o.dir);
	}
	if (ret)
		return fail(c, &err, ret);
	if (refused(c, &resp))
		return 1;
	print_runbooks(resp->runbooks, resp->n_runbooks);
	kheal__ctl_response__free_unpacked(resp, NULL);
	return 0;
}

struct shown {
	const struct kheal_runbook_entry *e;
	const char *yaml;
};

static void fill_shown(struct kheal_json *j, const void *arg)
{
	const struct shown *s = arg;

	kheal_json_begin(j, NULL, '{');
	kheal_json_str(j, "name", s->e->rb.name);
	kheal_json_str(j, "path", s->e->path);
	kheal_json_str(j, "yaml", s->yaml);
	kheal_json_end(j, '}');
}

/* The canonical YAML of @e, in a buffer as big as it takes. */
static char *emit(const struct kheal_runbook_entry *e)
{
	size_t cap = 16384;
	char *buf = NULL;
	int len;

	do {
		free(buf);
		cap *= 2;
		buf = malloc(cap);
		if (!buf)
			return NULL;
		len = kheal_runbook_emit(&e->rb, buf, cap);
	} while (len == -ENOSPC && cap < (16U << 20));
	if (len < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int runbooks_show(const struct cmd *c, int argc, char **argv)
{
	struct kheal_runbook_errs errs = { 0 };
	struct kheal_runbook_set set = { 0 };
	const struct kheal_runbook_entry *e = NULL;
	struct kheal_err err = { "" };
	struct brain_opts o;
	struct shown s;
	size_t i;
	char *yaml;
	int ret;

	ret = parse_opts(c, argc, argv, OPT_SOCKET | OPT_DIR, &o);
	if (!ret)
		ret = want_args(c, argc, argv, 1, "a runbook NAME");
	if (ret)
		return ret;
	ret = kheal_runbook_set_load_dir(o.dir, &set, &errs);
	for (i = 0; (!ret || ret == -EINVAL) && i < set.n; i++)
		if (!strcmp(set.v[i].rb.name, argv[optind]))
			e = &set.v[i];
	if (!e) {
		if (ret && ret != -EINVAL)
			kheal_err_set(&err, -ret, "%s", errs.n ?
				      errs.v[0].msg : strerror(-ret));
		else
			kheal_err_set(&err, ENOENT,
				      "no runbook named '%s' in %s%s",
				      argv[optind], o.dir, errs.n ?
				      " (some files there failed: khealctl runbooks validate them)" :
				      "");
		ret = fail(c, &err, -ENOENT);
		goto out;
	}
	yaml = emit(e);
	if (!yaml) {
		ret = fail(c, NULL, -ENOMEM);
		goto out;
	}
	if (json) {
		s = (struct shown){ e, yaml };
		json_print(fill_shown, &s);
	} else {
		printf("# %s\n%s", e->path, yaml);
	}
	free(yaml);
	ret = 0;
out:
	kheal_runbook_set_free(&set);
	kheal_runbook_errs_free(&errs);
	return ret;
}

struct validated {
	const char *file;
	const struct kheal_runbook *rb;	/* NULL: it failed */
	const char *error;
	const char *warning;
};

static void fill_validated(struct kheal_json *j, const void *arg)
{
	const struct validated *v = arg;

	kheal_json_begin(j, NULL, '{');
	kheal_json_str(j, "file", v->file);
	kheal_json_bool(j, "ok", v->rb);
	if (v->rb) {
		kheal_json_str(j, "name", v->rb->name);
		kheal_json_str(j, "risk", kheal_risk_name(v->rb->risk));
	} else {
		kheal_json_str(j, "error", v->error);
	}
	if (v->warning)
		kheal_json_str(j, "warning", v->warning);
	kheal_json_end(j, '}');
}

/* 0 if @file parses, 1 if not; printed either way. */
static int validate_one(const char *file)
{
	struct kheal_err err = { "" }, perr = { "" };
	struct validated v = { .file = file };
	struct kheal_runbook rb;
	struct stat st;
	int ret;

	ret = kheal_runbook_parse_file(file, &rb, &err);
	if (!ret)
		v.rb = &rb;
	else
		v.error = kheal_err_str(&err, ret);
	if (!stat(file, &st) && kheal_runbook_check_file_perms(file, &st,
							       &perr))
		v.warning = perr.msg;
	if (json)
		json_print(fill_validated, &v);
	else if (v.rb)
		printf("%s: ok (%s, %s)\n", file, rb.name,
		       kheal_risk_name(rb.risk));
	else
		printf("%s\n", v.error);
	if (!json && v.warning)
		printf("%s: warning: kheald would refuse it: %s\n", file,
		       v.warning);
	if (!ret)
		kheal_runbook_free(&rb);
	return ret ? 1 : 0;
}

static int runbooks_validate(const struct cmd *c, int argc, char **argv)
{
	struct brain_opts o;
	int ret, failed = 0;

	ret = parse_opts(c, argc, argv, OPT_SOCKET, &o);
	if (ret)
		return ret;
	if (optind == argc)
		return usage_error(c, "expected one or more FILEs");
	for (; optind < argc; optind++)
		failed |= validate_one(argv[optind]);
	return failed;
}

struct draft {
	const char *file;
	const char *name;
	const char *summary;
	const char *error;
};

static void fill_draft(struct kheal_json *j, const void *arg)
{
	const struct draft *d = arg;

	kheal_json_begin(j, NULL, '{');
	kheal_json_str(j, "path", d->file);
	if (d->name)
		kheal_json_str(j, "name", d->name);
	if (d->summary)
		kheal_json_str(j, "summary", d->summary);
	if (d->error)
		kheal_json_str(j, "error", d->error);
	kheal_json_end(j, '}');
}

static int is_yaml(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return d->d_name[0] != '.' && len > 5 &&
	       !strcmp(d->d_name + len - 5, ".yaml");
}

/*
 * A draft's name and summary: kheal_runbook_draft writes the summary as
 * the runbook's description (and as its second comment line).
 */
static void print_draft(const char *dir, const char *file)
{
	struct kheal_err err = { "" };
	struct kheal_runbook rb;
	struct draft d = { 0 };
	char path[4096];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	d.file = path;
	ret = kheal_runbook_parse_file(path, &rb, &err);
	if (ret) {
		d.error = kheal_err_str(&err, ret);
	} else {
		d.name = rb.name;
		d.summary = rb.description;
	}
	if (json)
		json_print(fill_draft, &d);
	else if (ret)
		printf("%s: does not parse: %s\n", file, d.error);
	else
		printf("%s: %s: %s\n", file, d.name, str(d.summary));
	if (!ret)
		kheal_runbook_free(&rb);
}

static int runbooks_drafts(const struct cmd *c, int argc, char **argv)
{
	struct kheal_err err = { "" };
	struct dirent **names;
	struct brain_opts o;
	int i, n, ret;

	ret = parse_opts(c, argc, argv, OPT_SOCKET | OPT_DRAFTS, &o);
	if (!ret)
		ret = want_args(c, argc, argv, 0, "no arguments");
	if (ret)
		return ret;
	n = scandir(o.drafts, &names, is_yaml, alphasort);
	if (n < 0 && errno == ENOENT) {
		if (!json)
			printf("no drafts: %s does not exist\n", o.drafts);
		return 0;
	}
	if (n < 0)
		return fail(c, &err, kheal_err_set(&err, errno,
						   "drafts in %s: %s",
						   o.drafts, strerror(errno)));
	if (!n && !json)
		printf("no drafts in %s\n", o.drafts);
	else if (!json)
		printf("drafts in %s (kheald wrote them for novel incidents; "
		       "edit one, then install it in %s):\n", o.drafts,
		       DEFAULT_RUNBOOKS);
	for (i = 0; i < n; i++) {
		print_draft(o.drafts, names[i]->d_name);
		free(names[i]);
	}
	free(names);
	return 0;
}

static int runbooks_reload(const struct cmd *c, int argc, char **argv)
{
	Kheal__CtlRequest req = request(KHEAL__CTL_REQUEST__OP__RELOAD);
	Kheal__CtlResponse *resp;
	struct brain_opts o;
	int ret;

	ret = parse_opts(c, argc, argv, OPT_SOCKET, &o);
	if (!ret)
		ret = want_args(c, argc, argv, 0, "no arguments");
	if (!ret)
		ret = call(c, o.socket, &req, &resp);
	if (ret)
		return ret;
	if (json) {
		print_json(resp);
	} else {
		printf("%s\n", resp->message ? resp->message :
		       "runbooks reloaded");
		if (resp->n_runbooks)
			print_runbooks(resp->runbooks, resp->n_runbooks);
	}
	kheal__ctl_response__free_unpacked(resp, NULL);
	return 0;
}

#define RUNBOOKS_SUBCOMMANDS	"list, show, validate, drafts or reload"

static const struct {
	const char *name;
	int (*func)(const struct cmd *c, int argc, char **argv);
} runbooks_cmds[] = {
	{ "list", runbooks_list },
	{ "show", runbooks_show },
	{ "validate", runbooks_validate },
	{ "drafts", runbooks_drafts },
	{ "reload", runbooks_reload },
};

int cmd_runbooks(const struct cmd *c, int argc, char **argv)
{
	size_t i;

	if (argc >= 2 && (!strcmp(argv[1], "-h") ||
			  !strcmp(argv[1], "--help"))) {
		print_usage(c, stdout);
		return 0;
	}
	for (i = 0; argc >= 2 && i < ARRAY_SIZE(runbooks_cmds); i++)
		if (!strcmp(argv[1], runbooks_cmds[i].name))
			return runbooks_cmds[i].func(c, argc - 1, argv + 1);
	if (argc < 2)
		return usage_error(c, "which? %s", RUNBOOKS_SUBCOMMANDS);
	return usage_error(c, "unknown subcommand '%s': %s", argv[1],
			   RUNBOOKS_SUBCOMMANDS);
}

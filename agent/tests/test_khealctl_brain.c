// SPDX-License-Identifier: GPL-2.0
/*
 * khealctl's brain commands as a user runs them: runbooks from files,
 * and the control-socket commands against no kheald and against a fake
 * one served from this process.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "ctl.h"
#include "fixtures.h"
#include "pbjson.h"
#include "record.h"
#include "run.h"
#include "runbook.h"

static char dir[] = "/tmp/kheal-test-brain-XXXXXX";
static char sock[64], rbdir[64], drafts[64];

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define CTL(...)	((char *const[]){ KHEALCTL, __VA_ARGS__, NULL })

#define GOOD								\
	"name: notify-hung\n"						\
	"match:\n"							\
	"  kinds: [hung_task]\n"					\
	"risk: low\n"							\
	"steps:\n"							\
	"  - action: notify\n"						\
	"    params: {message: hi}\n"					\
	"    timeout: 5s\n"

/* Line 4, column 7: the bad value. */
#define BAD								\
	"name: bad\n"							\
	"match:\n"							\
	"  kinds: [hung_task]\n"					\
	"risk: extreme\n"						\
	"steps:\n"							\
	"  - action: notify\n"						\
	"    params: {message: hi}\n"					\
	"    timeout: 5s\n"

static int make_dirs(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(sock, sizeof(sock), "%s/kheald.sock", dir);
	snprintf(rbdir, sizeof(rbdir), "%s/runbooks.d", dir);
	snprintf(drafts, sizeof(drafts), "%s/drafts", dir);
	return mkdir(rbdir, 0755) || mkdir(drafts, 0755);
}

static int remove_dirs(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static const char *put(const char *in, const char *name, const char *text,
		       mode_t mode)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", in, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

/* Runs khealctl expecting @code, and stderr holding @err if given. */
static struct result expect(int code, const char *err, char *const argv[])
{
	struct result r = run(argv);

	if (r.code != code || (err && !strstr(r.err, err)))
		fail_msg("exit %d (want %d), stdout: %s, stderr: %s", r.code,
			 code, r.out, r.err);
	return r;
}

static void expect_out(const struct result *r, const char *text)
{
	if (!strstr(r->out, text))
		fail_msg("stdout lacks '%s': %s", text, r->out);
}

/* runbooks validate */

/* A good file is ok with its name and risk; a bad one names its place. */
static void test_validate_says_ok_or_file_line_column(void **state)
{
	char good[128], bad[128], want[512];
	struct result r;

	(void)state;
	snprintf(good, sizeof(good), "%s", put(dir, "good.yaml", GOOD, 0644));
	snprintf(bad, sizeof(bad), "%s", put(dir, "bad.yaml", BAD, 0644));
	r = expect(0, NULL, CTL("runbooks", "validate", good));
	snprintf(want, sizeof(want), "%s: ok (notify-hung, low)\n", good);
	assert_string_equal(r.out, want);
	result_free(&r);

	r = expect(1, NULL, CTL("runbooks", "validate", good, bad));
	snprintf(want, sizeof(want),
		 "%s: ok (notify-hung, low)\n"
		 "%s:4:7: risk: expected one of low, medium, high, got "
		 "'extreme'\n", good, bad);
	assert_string_equal(r.out, want);
	result_free(&r);

	r = expect(1, NULL, CTL("-j", "runbooks", "validate", bad));
	snprintf(want, sizeof(want),
		 "{\"file\":\"%s\",\"ok\":false,\"error\":\"%s:4:7: risk: "
		 "expected one of low, medium, high, got 'extreme'\"}\n",
		 bad, bad);
	assert_string_equal(r.out, want);
	result_free(&r);
}

/* A file kheald would refuse for its mode parses, with a warning. */
static void test_validate_warns_on_permissions(void **state)
{
	struct result r;
	char good[128];

	(void)state;
	if (geteuid())
		skip();
	snprintf(good, sizeof(good), "%s", put(dir, "open.yaml", GOOD, 0666));
	r = expect(0, NULL, CTL("runbooks", "validate", good));
	expect_out(&r, ": ok (notify-hung, low)\n");
	expect_out(&r, ": warning: kheald would refuse it: ");
	expect_out(&r, "mode 0666 lets group or others write it");
	result_free(&r);
	r = expect(2, "expected one or more FILEs",
		   CTL("runbooks", "validate"));
	result_free(&r);
}

/* Without kheald */

/* status still reports, and says the brain is unreachable. */
static void test_status_without_kheald_says_unreachable(void **state)
{
	char journal[96], pidfile[96], want[256];
	struct result r;

	(void)state;
	snprintf(journal, sizeof(journal), "%s/journal", dir);
	snprintf(pidfile, sizeof(pidfile), "%s/none.pid", dir);
	r = expect(0, NULL, CTL("status", "--journal", journal, "--pidfile",
				pidfile, "--socket", sock));
	snprintf(want, sizeof(want),
		 "brain: unreachable: kheald is not running (nothing answers "
		 "on %s)\n", sock);
	expect_out(&r, "agent: not running");
	expect_out(&r, want);
	result_free(&r);
	r = expect(0, NULL, CTL("-j", "status", "--journal", journal,
				"--pidfile", pidfile, "--socket", sock));
	expect_out(&r, "\"brain\":{\"reachable\":false,\"message\":"
		       "\"kheald is not running");
	result_free(&r);
}

/* Commands that need kheald say it is not running, and exit 1. */
static void test_commands_without_kheald_say_not_running(void **state)
{
	char want[256];
	struct result r;

	(void)state;
	snprintf(want, sizeof(want),
		 "khealctl: subsystems: kheald is not running (nothing "
		 "answers on %s)\n", sock);
	r = expect(1, NULL, CTL("subsystems", "--socket", sock));
	assert_string_equal(r.err, want);
	assert_string_equal(r.out, "");
	result_free(&r);
	r = expect(1, "khealctl: incidents: kheald is not running",
		   CTL("incidents", "--socket", sock));
	result_free(&r);
	r = expect(1, "khealctl: incident: kheald is not running",
		   CTL("incident", "show", "4", "--socket", sock));
	result_free(&r);
	r = expect(1, "khealctl: approvals: kheald is not running",
		   CTL("-j", "approvals", "--socket", sock));
	result_free(&r);
	r = expect(1, "khealctl: approve: kheald is not running",
		   CTL("approve", "3", "--socket", sock));
	result_free(&r);
	r = expect(1, "khealctl: heal: kheald is not running",
		   CTL("heal", "cgroup:/svc.slice", "--socket", sock));
	result_free(&r);
	r = expect(1, "khealctl: runbooks: kheald is not running",
		   CTL("runbooks", "reload", "--socket", sock));
	result_free(&r);
}

/* runbooks list reads the directory itself when kheald is down. */
static void test_runbooks_list_without_kheald_reads_dir(void **state)
{
	struct result r;

	(void)state;
	put(rbdir, "good.yaml", GOOD, 0644);
	put(rbdir, "bad.yaml", BAD, 0644);
	r = expect(0, "kheald is not running",
		   CTL("runbooks", "list", "--socket", sock, "--dir", rbdir));
	assert_non_null(strstr(r.err, "these are the runbooks in "));
	expect_out(&r, "NAME         RISK    KINDS      SUBSYSTEM  STATUS\n"
		       "notify-hung  low     hung_task  *          ok\n");
	expect_out(&r, "error: ");
	expect_out(&r, "bad.yaml:4:7: risk: expected one of low");
	result_free(&r);
	r = expect(0, NULL, CTL("-j", "runbooks", "list", "--socket", sock,
				"--dir", rbdir));
	expect_out(&r, "{\"name\":\"notify-hung\",\"path\":\"");
	expect_out(&r, "\"risk\":\"low\",\"stale\":false,\"kinds\":"
		       "[\"hung_task\"],\"subsystem\":\"*\"}\n");
	result_free(&r);
	unlink(put(rbdir, "bad.yaml", "", 0644));
	unlink(put(rbdir, "good.yaml", "", 0644));
}

/* runbooks show prints the canonical YAML, which validates. */
static void test_runbooks_show_canonical(void **state)
{
	char out[128], cmd[512];
	struct result r;
	FILE *f;

	(void)state;
	put(rbdir, "good.yaml", GOOD, 0644);
	r = expect(0, NULL, CTL("runbooks", "show", "notify-hung", "--dir",
				rbdir));
	expect_out(&r, "name: notify-hung\n");
	expect_out(&r, "risk: low\n");
	expect_out(&r, "max_attempts: 3\n");
	snprintf(out, sizeof(out), "%s/shown.yaml", dir);
	f = fopen(out, "w");
	assert_non_null(f);
	fputs(r.out, f);
	fclose(f);
	result_free(&r);
	r = expect(0, NULL, CTL("runbooks", "validate", out));
	snprintf(cmd, sizeof(cmd), "%s: ok (notify-hung, low)\n", out);
	assert_string_equal(r.out, cmd);
	result_free(&r);
	r = expect(1, "khealctl: runbooks: no runbook named 'nope' in ",
		   CTL("runbooks", "show", "nope", "--dir", rbdir));
	result_free(&r);
	unlink(out);
	unlink(put(rbdir, "good.yaml", "", 0644));
}

/* runbooks drafts: each draft with its name and summary. */
static void test_runbooks_drafts_named_and_summarized(void **state)
{
	char name[KHEAL_RUNBOOK_NAME_LEN], summary[512], file[96];
	static char draft[65536];
	struct kheal_event ev;
	struct result r;
	char want[1024];

	(void)state;
	ev_example(&ev);
	assert_true(kheal_runbook_draft(&ev, "task:55", draft,
					sizeof(draft)) > 0);
	assert_true(kheal_runbook_draft_name(&ev, "task:55", name,
					     sizeof(name)) > 0);
	assert_true(kheal_runbook_novel_summary(&ev, "task:55", summary,
						sizeof(summary)) > 0);
	snprintf(file, sizeof(file), "%s.yaml", name);
	put(drafts, file, draft, 0644);
	r = expect(0, NULL, CTL("runbooks", "drafts", "--drafts", drafts));
	snprintf(want, sizeof(want), "%s: %s: %s\n", file, name, summary);
	expect_out(&r, want);
	result_free(&r);
	r = expect(0, NULL, CTL("-j", "runbooks", "drafts", "--drafts",
				drafts));
	snprintf(want, sizeof(want),
		 "{\"path\":\"%s/%s\",\"name\":\"%s\",\"summary\":\"%s\"}\n",
		 drafts, file, name, summary);
	assert_string_equal(r.out, want);
	result_free(&r);
	unlink(put(drafts, file, "", 0644));
	r = expect(0, NULL, CTL("runbooks", "drafts", "--drafts", "/nonexistent"));
	assert_string_equal(r.out, "no drafts: /nonexistent does not exist\n");
	result_free(&r);
}

/* Arguments are checked before anything is asked. */
static void test_brain_arguments_checked(void **state)
{
	struct result r;

	(void)state;
	r = expect(2, "approve: bad approval ID 'abc'",
		   CTL("approve", "abc"));
	result_free(&r);
	r = expect(2, "deny: expected an approval ID", CTL("deny"));
	result_free(&r);
	r = expect(2, "incident: expected 'show ID'", CTL("incident", "4"));
	result_free(&r);
	r = expect(2, "incident: unexpected argument '5'",
		   CTL("incident", "show", "4", "5"));
	result_free(&r);
	r = expect(2, "heal: expected a SUBSYSTEM", CTL("heal"));
	result_free(&r);
	r = expect(2, "runbooks: unknown subcommand 'frob'",
		   CTL("runbooks", "frob"));
	result_free(&r);
	r = expect(2, "subsystems: unknown option '--dir'",
		   CTL("subsystems", "--dir", "x"));
	result_free(&r);
}

/* Against a fake kheald */

#define NS	1000000000ULL

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * NS + ts.tv_nsec;
}

static Kheal__Action *action(struct kheal_ctl_arena *a)
{
	Kheal__Action *p = kheal_ctl_alloc(a, sizeof(*p));
	static char *args[] = { "cgroup=/svc.slice" };

	kheal__action__init(p);
	p->has_incident = p->has_phase = p->has_index = true;
	p->has_result = p->has_duration_ms = p->has_time_ns = true;
	p->incident = 4;
	p->runbook = "hung-task-in-cgroup";
	p->phase = KHEAL__PHASE__STEP;
	p->name = "cgroup.freeze";
	p->n_args = 1;
	p->args = args;
	p->result = KHEAL__ACTION_RESULT__RESULT_OK;
	p->duration_ms = 3;
	p->time_ns = now_ns() - 12 * NS;
	return p;
}

static Kheal__IncidentInfo *incident(struct kheal_ctl_arena *a, uint64_t id,
				     Kheal__IncidentState state)
{
	Kheal__IncidentInfo *p = kheal_ctl_alloc(a, sizeof(*p));

	kheal__incident_info__init(p);
	p->has_id = p->has_state = p->has_opened_ns = p->has_events = true;
	p->id = id;
	p->subsystem = "cgroup:/svc.slice";
	p->state = state;
	p->opened_ns = now_ns() - 200 * NS;
	p->events = 3;
	p->summary = id == 4 ? "hung task kheal-hung in /svc.slice" : "old";
	return p;
}

static int op_status(const Kheal__CtlRequest *req,
		     const struct kheal_ctl_peer *peer,
		     Kheal__CtlResponse *resp, struct kheal_ctl_arena *a,
		     void *arg)
{
	Kheal__Approval *ap = kheal_ctl_alloc(a, sizeof(*ap));
	Kheal__StateCount *c = kheal_ctl_calloc(a, 2, sizeof(*c));

	(void)req;
	(void)peer;
	(void)arg;
	resp->profile = "autonomous";
	kheal__state_count__init(&c[0]);
	kheal__state_count__init(&c[1]);
	c[0].has_state = c[0].has_count = c[1].has_state = true;
	c[1].has_count = true;
	c[0].state = KHEAL__HEALTH_STATE__HEALTHY;
	c[0].count = 3;
	c[1].state = KHEAL__HEALTH_STATE__DEGRADED;
	c[1].count = 1;
	resp->n_counts = 2;
	resp->counts = kheal_ctl_calloc(a, 2, sizeof(*resp->counts));
	resp->counts[0] = &c[0];
	resp->counts[1] = &c[1];
	resp->n_incidents = 2;
	resp->incidents = kheal_ctl_calloc(a, 2, sizeof(*resp->incidents));
	resp->incidents[0] = incident(a, 2,
				      KHEAL__INCIDENT_STATE__INCIDENT_RESOLVED);
	resp->incidents[1] = incident(a, 4,
				      KHEAL__INCIDENT_STATE__INCIDENT_ACTING);
	kheal__approval__init(ap);
	ap->has_id = ap->has_incident = ap->has_state = true;
	ap->id = 2;
	ap->incident = 4;
	ap->runbook = "hung-task-in-cgroup";
	ap->subsystem = "cgroup:/svc.slice";
	ap->risk = "medium";
	ap->state = KHEAL__APPROVAL_STATE__APPROVAL_PENDING;
	resp->n_approvals = 1;
	resp->approvals = kheal_ctl_calloc(a, 1, sizeof(*resp->approvals));
	resp->approvals[0] = ap;
	resp->n_last_actions = 1;
	resp->last_actions = kheal_ctl_calloc(a, 1,
					      sizeof(*resp->last_actions));
	resp->last_actions[0] = action(a);
	return 0;
}

static int op_subsystems(const Kheal__CtlRequest *req,
			 const struct kheal_ctl_peer *peer,
			 Kheal__CtlResponse *resp, struct kheal_ctl_arena *a,
			 void *arg)
{
	Kheal__SubsystemInfo *s = kheal_ctl_alloc(a, sizeof(*s));

	(void)req;
	(void)peer;
	(void)arg;
	kheal__subsystem_info__init(s);
	s->id = "cgroup:/svc.slice";
	s->has_state = s->has_since_ns = true;
	s->state = KHEAL__HEALTH_STATE__DEGRADED;
	s->since_ns = now_ns() - 5 * NS;
	s->cause = "hung_task: kheal-hung for 512 ms";
	resp->n_subsystems = 1;
	resp->subsystems = kheal_ctl_calloc(a, 1, sizeof(*resp->subsystems));
	resp->subsystems[0] = s;
	return 0;
}

static int op_incident(const Kheal__CtlRequest *req,
		       const struct kheal_ctl_peer *peer,
		       Kheal__CtlResponse *resp, struct kheal_ctl_arena *a,
		       void *arg)
{
	static char *evidence[] = { "pid 55 in D state for 512 ms" };
	static char *stack[] = { "folio_wait_bit", "do_read_cache" };
	struct kheal_pb_event *pe = kheal_ctl_alloc(a, sizeof(*pe));
	struct kheal_event *ev = kheal_ctl_alloc(a, sizeof(*ev));
	Kheal__Diagnosis *d = kheal_ctl_alloc(a, sizeof(*d));
	Kheal__Decision *dec = kheal_ctl_alloc(a, sizeof(*dec));
	Kheal__Outcome *o = kheal_ctl_alloc(a, sizeof(*o));
	Kheal__Context *x = kheal_ctl_alloc(a, sizeof(*x));
	Kheal__IncidentInfo *in;
	Kheal__Record rec;

	(void)peer;
	(void)arg;
	if (req->id != 4)
		return -ENOENT;
	in = incident(a, 4, KHEAL__INCIDENT_STATE__INCIDENT_RESOLVED);
	ev_example(ev);
	kheal_record_event(&rec, pe, ev);
	in->trigger = rec.event;
	kheal__diagnosis__init(d);
	d->rule = "hung-in-cgroup";
	d->cause = "a task of /svc.slice waits on I/O";
	d->has_confidence = true;
	d->confidence = 0.9;
	d->n_evidence = 1;
	d->evidence = evidence;
	in->diagnosis = d;
	kheal__decision__init(dec);
	dec->runbook = "hung-task-in-cgroup";
	dec->has_decision = dec->has_attempt = true;
	dec->decision = KHEAL__DECISION_KIND__DECIDE_ACT;
	dec->profile = "autonomous";
	dec->risk = "medium";
	dec->reason = "within the profile";
	dec->attempt = 1;
	in->decision = dec;
	in->n_actions = 1;
	in->actions = kheal_ctl_calloc(a, 1, sizeof(*in->actions));
	in->actions[0] = action(a);
	kheal__outcome__init(o);
	o->has_outcome = o->has_duration_ms = true;
	o->outcome = KHEAL__OUTCOME_KIND__RECOVERED;
	o->runbook = "hung-task-in-cgroup";
	o->duration_ms = 1234;
	in->outcome = o;
	kheal__context__init(x);
	x->psi_memory = "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
			"full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
	x->meminfo = "MemTotal: 1000 kB\nMemAvailable: 500 kB\n";
	x->task_state = "D (disk sleep)";
	x->wchan = "folio_wait_bit";
	x->n_stack = 2;
	x->stack = stack;
	x->cgroup_memory = "current 1048576 max max";
	x->has_checkpoint_id = true;
	x->checkpoint_id = 17;
	x->checkpoint = "hung task 55\n  state D\n";
	in->context = x;
	resp->n_incidents = 1;
	resp->incidents = kheal_ctl_calloc(a, 1, sizeof(*resp->incidents));
	resp->incidents[0] = in;
	return 0;
}

static int op_approve(const Kheal__CtlRequest *req,
		      const struct kheal_ctl_peer *peer,
		      Kheal__CtlResponse *resp, struct kheal_ctl_arena *a,
		      void *arg)
{
	(void)peer;
	(void)arg;
	resp->message = kheal_ctl_sprintf(a, "approval %llu approved",
					  (unsigned long long)req->id);
	return 0;
}

static int op_deny(const Kheal__CtlRequest *req,
		   const struct kheal_ctl_peer *peer,
		   Kheal__CtlResponse *resp, struct kheal_ctl_arena *a,
		   void *arg)
{
	(void)peer;
	(void)arg;
	resp->message = kheal_ctl_sprintf(a, "no approval %llu",
					  (unsigned long long)req->id);
	return -ENOENT;
}

static int op_heal(const Kheal__CtlRequest *req,
		   const struct kheal_ctl_peer *peer,
		   Kheal__CtlResponse *resp, struct kheal_ctl_arena *a,
		   void *arg)
{
	(void)peer;
	(void)arg;
	resp->has_id = true;
	resp->id = 9;
	resp->message = kheal_ctl_sprintf(a, "forced a runbook on %s",
					  req->subsystem);
	return 0;
}

static const struct kheal_ctl_op fake_ops[] = {
	{ KHEAL__CTL_REQUEST__OP__STATUS, "status", false, op_status },
	{ KHEAL__CTL_REQUEST__OP__SUBSYSTEMS, "subsystems", false,
	  op_subsystems },
	{ KHEAL__CTL_REQUEST__OP__INCIDENT, "incident", false, op_incident },
	{ KHEAL__CTL_REQUEST__OP__APPROVE, "approve", true, op_approve },
	{ KHEAL__CTL_REQUEST__OP__DENY, "deny", true, op_deny },
	{ KHEAL__CTL_REQUEST__OP__HEAL, "heal", true, op_heal },
};

/* khealctl @argv, answered by the fake kheald until it exits. */
static struct result served(int code, char *const argv[])
{
	struct kheal_err err = { "" };
	struct kheal_ctl c;
	struct pollfd pfd;
	struct result r;
	struct proc p;
	int i, status = 0;

	assert_int_equal(kheal_ctl_listen(&c, sock, (gid_t)-1, fake_ops,
					  ARRAY_SIZE(fake_ops), NULL, &err), 0);
	pfd = (struct pollfd){ .fd = kheal_ctl_fd(&c), .events = POLLIN };
	proc_start(&p, argv);
	for (i = 0; i < 1000; i++) {
		if (poll(&pfd, 1, 10) > 0)
			assert_int_equal(kheal_ctl_handle(&c, &err), 0);
		if (waitpid(p.pid, &status, WNOHANG) == p.pid)
			break;
	}
	assert_true(i < 1000);
	kheal_ctl_close(&c);
	r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
	r.out = slurp(p.out);
	r.err = slurp(p.err);
	unlink(p.out);
	unlink(p.err);
	if (r.code != code)
		fail_msg("exit %d (want %d), stdout: %s, stderr: %s", r.code,
			 code, r.out, r.err);
	return r;
}

/* status adds health at a glance when kheald answers. */
static void test_status_shows_health_at_a_glance(void **state)
{
	char journal[96], pidfile[96];
	struct result r;

	(void)state;
	snprintf(journal, sizeof(journal), "%s/journal", dir);
	snprintf(pidfile, sizeof(pidfile), "%s/none.pid", dir);
	r = served(0, CTL("status", "--journal", journal, "--pidfile",
			  pidfile, "--socket", sock));
	expect_out(&r, "brain: profile autonomous\n"
		       "  health: 3 healthy, 1 degraded, 0 failed, "
		       "0 recovering, 0 isolated, 0 escalated\n"
		       "  open incidents:\n"
		       "    incident 4 on cgroup:/svc.slice, acting: hung "
		       "task kheal-hung in /svc.slice\n"
		       "  pending approvals:\n"
		       "    approval 2: runbook hung-task-in-cgroup on "
		       "cgroup:/svc.slice (risk medium) for incident 4; "
		       "khealctl approve 2\n"
		       "  last actions:\n");
	expect_out(&r, "s ago  incident 4  hung-task-in-cgroup  step 0 "
		       "cgroup.freeze cgroup=/svc.slice: ok (3 ms)\n");
	result_free(&r);
	r = served(0, CTL("-j", "status", "--journal", journal, "--pidfile",
			  pidfile, "--socket", sock));
	expect_out(&r, "\"brain\":{\"reachable\":true,\"error\":0,"
		       "\"profile\":\"autonomous\",\"counts\":[{\"state\":"
		       "\"healthy\",\"count\":3},");
	expect_out(&r, "\"state\":\"acting\"");
	expect_out(&r, "\"last_actions\":[{\"incident\":4,\"runbook\":"
		       "\"hung-task-in-cgroup\",\"phase\":\"step\",\"index\":0,"
		       "\"name\":\"cgroup.freeze\",\"args\":"
		       "[\"cgroup=/svc.slice\"],\"result\":\"ok\"");
	result_free(&r);
}

static void test_subsystems_table_and_json(void **state)
{
	struct result r;

	(void)state;
	r = served(0, CTL("subsystems", "--socket", sock));
	expect_out(&r, "SUBSYSTEM          STATE       SINCE       CAUSE\n"
		       "cgroup:/svc.slice  degraded    5s ago      hung_task: "
		       "kheal-hung for 512 ms\n");
	result_free(&r);
	r = served(0, CTL("-j", "subsystems", "--socket", sock));
	expect_out(&r, "{\"id\":\"cgroup:/svc.slice\",\"state\":\"degraded\","
		       "\"since_ns\":");
	result_free(&r);
}

/* incident show prints all there is, the trigger as events print. */
static void test_incident_show_everything(void **state)
{
	char want[256], act[32];
	struct result r;

	(void)state;
	r = served(0, CTL("incident", "show", "4", "--socket", sock));
	expect_out(&r, "incident 4 on cgroup:/svc.slice: resolved\n"
		       "  summary: hung task kheal-hung in /svc.slice\n"
		       "  opened 3m20s ago; 3 events\n"
		       "  trigger: 7 0.000000123 hung_task warning task "
		       "instance=99 pid=55 comm=kheal-hung cgroup_path=/ "
		       "duration_ms=512\n");
	expect_out(&r, "  trigger: ");
	expect_out(&r, "hung_task");
	expect_out(&r, "  diagnosis: a task of /svc.slice waits on I/O, by "
		       "rule hung-in-cgroup (confidence 0.90)\n"
		       "    evidence: pid 55 in D state for 512 ms\n");
	/* Enum values print as pbjson.h names them. */
	snprintf(want, sizeof(want),
		 "  decision: %s, runbook hung-task-in-cgroup (profile "
		 "autonomous, risk medium, attempt 1): within the profile\n",
		 kheal_pbjson_enum(&kheal__decision_kind__descriptor,
				   KHEAL__DECISION_KIND__DECIDE_ACT, act,
				   sizeof(act)));
	expect_out(&r, want);
	expect_out(&r, "  actions:\n    step 0 cgroup.freeze "
		       "cgroup=/svc.slice: ok (3 ms), 12s ago\n");
	expect_out(&r, "  outcome: recovered, runbook hung-task-in-cgroup, "
		       "1234 ms after the decision\n");
	expect_out(&r, "  context:\n    psi memory:\n      some avg10=0.00");
	expect_out(&r, "    meminfo:\n      MemTotal: 1000 kB\n"
		       "      MemAvailable: 500 kB\n"
		       "    task state: D (disk sleep)\n"
		       "    wchan: folio_wait_bit\n"
		       "    stack:\n      folio_wait_bit\n      do_read_cache\n"
		       "    cgroup memory: current 1048576 max max\n"
		       "    checkpoint: 17\n"
		       "    checkpoint text:\n      hung task 55\n"
		       "        state D\n");
	result_free(&r);
	r = served(0, CTL("-j", "incident", "show", "4", "--socket", sock));
	expect_out(&r, "\"trigger\":" EXAMPLE_JSON);
	expect_out(&r, "\"diagnosis\":{\"rule\":\"hung-in-cgroup\",");
	expect_out(&r, "\"confidence\":0.9,");
	expect_out(&r, "\"context\":{\"psi_memory\":");
	expect_out(&r, "\"checkpoint_id\":17,");
	result_free(&r);
	r = served(1, CTL("incident", "show", "5", "--socket", sock));
	assert_string_equal(r.err, "khealctl: incident: incident: No such "
				   "file or directory\n");
	result_free(&r);
}

/* approve, deny and heal print what kheald answered. */
static void test_acts_print_the_answer(void **state)
{
	struct result r;

	(void)state;
	r = served(0, CTL("approve", "2", "--socket", sock));
	assert_string_equal(r.out, "approval 2 approved\n");
	result_free(&r);
	r = served(1, CTL("deny", "99", "--socket", sock));
	assert_string_equal(r.err, "khealctl: deny: no approval 99\n");
	result_free(&r);
	r = served(0, CTL("heal", "cgroup:/svc.slice", "--socket", sock));
	assert_string_equal(r.out, "incident 9: forced a runbook on "
				   "cgroup:/svc.slice\n");
	result_free(&r);
	r = served(0, CTL("-j", "heal", "cgroup:/svc.slice", "--socket",
			  sock));
	assert_string_equal(r.out, "{\"error\":0,\"message\":\"forced a "
				   "runbook on cgroup:/svc.slice\",\"id\":9}\n");
	result_free(&r);
	/* An op this kheald does not serve is its answer, not a crash. */
	r = served(1, CTL("approvals", "--socket", sock));
	assert_string_equal(r.err, "khealctl: approvals: unknown op 5: this "
				   "kheald does not serve it\n");
	result_free(&r);
}

#define T(f)	cmocka_unit_test(f)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_validate_says_ok_or_file_line_column),
		T(test_validate_warns_on_permissions),
		T(test_status_without_kheald_says_unreachable),
		T(test_commands_without_kheald_say_not_running),
		T(test_runbooks_list_without_kheald_reads_dir),
		T(test_runbooks_show_canonical),
		T(test_runbooks_drafts_named_and_summarized),
		T(test_brain_arguments_checked),
		T(test_status_shows_health_at_a_glance),
		T(test_subsystems_table_and_json),
		T(test_incident_show_everything),
		T(test_acts_print_the_answer),
	};

	return cmocka_run_group_tests(tests, make_dirs, remove_dirs);
}

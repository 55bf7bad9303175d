// SPDX-License-Identifier: GPL-2.0
/*
 * khealctl: look at and steer kheal. One function per command, found by
 * name in a table; -j prints JSON everywhere. Exit codes: 0 ok, 1 error,
 * 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "event.h"
#include "genl.h"
#include "journal.h"
#include "json.h"
#include "khealctl.h"
#include "record.h"
#include "source_kmod.h"
#include "state.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define DEFAULT_PIDFILE	"/run/kheal/kheald.pid"
#define DEFAULT_STATE	"/run/kheal/kheald.state"
/* kheald rewrites its state every second; this old, it has stopped. */
#define STATE_STALE_MS	5000

bool json;

void print_usage(const struct cmd *c, FILE *f)
{
	fprintf(f, "Usage: khealctl [-j] %s\n", c->usage);
}

int usage_error(const struct cmd *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "khealctl: %s: ", c->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	print_usage(c, stderr);
	return EXIT_USAGE;
}

int fail(const struct cmd *c, const struct kheal_err *err, int ret)
{
	fprintf(stderr, "khealctl: %s: %s\n", c->name, kheal_err_str(err, ret));
	return 1;
}

int parse_num(const struct cmd *c, const char *what, const char *s,
	      uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || errno || v < min || v > max) {
		usage_error(c, "bad %s '%s': expected a number from %" PRIu64
			    " to %" PRIu64, what, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int next_opt(const struct cmd *c, int argc, char **argv,
	     const struct option *extra)
{
	struct option longopts[16] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
	};
	size_t n = 2;
	int opt;

	for (; extra && extra->name; extra++)
		longopts[n++] = *extra;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":jh", longopts, NULL)) == 'j')
		json = true;
	switch (opt) {
	case 'h':
		print_usage(c, stdout);
		exit(0);
	case ':':
		usage_error(c, "%s needs an argument", argv[optind - 1]);
		return '?';
	case '?':
		usage_error(c, "unknown option '%s'", argv[optind - 1]);
		return '?';
	}
	return opt;
}

void print_line(const char *line, int len)
{
	if (len >= 0)
		printf("%s\n", line);
}

static void print_event(const struct kheal_event *ev)
{
	char line[KHEAL_EVENT_LINE_MAX];

	print_line(line, json ? kheal_event_json(ev, line, sizeof(line)) :
				kheal_event_text(ev, line, sizeof(line)));
}

static void print_gap(const struct kheal_gap *gap)
{
	char line[KHEAL_EVENT_LINE_MAX];

	print_line(line, json ? kheal_gap_json(gap, line, sizeof(line)) :
				kheal_gap_text(gap, line, sizeof(line)));
}

static void print_merged(const struct kheal_merged *m)
{
	char line[KHEAL_EVENT_LINE_MAX];

	print_line(line, json ? kheal_merged_json(m, line, sizeof(line)) :
				kheal_merged_text(m, line, sizeof(line)));
}

/* status */

static void status_module_json(struct kheal_json *j, int ret,
			       const struct kheal_status *st,
			       const struct kheal_err *err)
{
	const struct kheal_detector_status *d;

	kheal_json_begin(j, "module", '{');
	kheal_json_bool(j, "loaded", ret != -ENOENT);
	if (ret && ret != -ENOENT)
		kheal_json_str(j, "error", kheal_err_str(err, ret));
	if (!ret) {
		kheal_json_str(j, "version", st->version);
		kheal_json_u64(j, "instance", st->instance);
		kheal_json_u64(j, "head_seq", st->head_seq);
		kheal_json_u64(j, "oldest_seq", st->oldest_seq);
		kheal_json_u64(j, "backlog_size", st->backlog_size);
		kheal_json_u64(j, "events_emitted", st->events_emitted);
		kheal_json_u64(j, "events_dropped", st->events_dropped);
		kheal_json_u64(j, "mcast_failed", st->mcast_failed);
		kheal_json_u64(j, "hung_ms", st->hung_ms);
		kheal_json_bool(j, "allow_inject", st->allow_inject);
		kheal_json_begin(j, "detectors", '[');
		for (d = st->detectors; d < st->detectors + st->ndetectors;
		     d++) {
			kheal_json_begin(j, NULL, '{');
			kheal_json_str(j, "name", d->name);
			kheal_json_bool(j, "active", d->active);
			kheal_json_u64(j, "events", d->events);
			kheal_json_end(j, '}');
		}
		kheal_json_end(j, ']');
	}
	kheal_json_end(j, '}');
}

static void status_module_text(int ret, const struct kheal_status *st,
			       const struct kheal_err *err)
{
	const struct kheal_detector_status *d;

	if (ret == -ENOENT) {
		printf("module: not loaded\n");
		return;
	}
	if (ret) {
		printf("module: error: %s\n", kheal_err_str(err, ret));
		return;
	}
	printf("module: kheal %s, instance %" PRIu64 "\n"
	       "  seq: head %" PRIu64 ", oldest %" PRIu64 ", backlog %" PRIu32
	       "\n  events: emitted %" PRIu64 ", dropped %" PRIu64
	       ", multicast failed %" PRIu64 "\n"
	       "  hung_ms %" PRIu32 ", inject %s\n", st->version,
	       st->instance, st->head_seq, st->oldest_seq, st->backlog_size,
	       st->events_emitted, st->events_dropped, st->mcast_failed,
	       st->hung_ms, st->allow_inject ? "allowed" : "refused");
	for (d = st->detectors; d < st->detectors + st->ndetectors; d++)
		printf("  detector %s: %s, %" PRIu64 " events\n", d->name,
		       d->active ? "active" : "inactive", d->events);
}

/* kheald's state file, as read, and how old it is. */
struct agent_state {
	const char *path;
	int ret;
	struct kheal_err err;
	Kheal__AgentState *st;
	uint64_t age_ms;
	bool stale;
	const char *why_stale;
};

uint64_t boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void read_state(struct agent_state *a, pid_t running)
{
	uint64_t now = boottime_ns();

	a->ret = kheal_state_read(a->path, &a->st, &a->err);
	if (a->ret)
		return;
	a->age_ms = now > a->st->updated_ns ?
		    (now - a->st->updated_ns) / 1000000 : 0;
	if (!running || (pid_t)a->st->pid != running) {
		a->stale = true;
		a->why_stale = "its kheald is not running";
	} else if (a->age_ms > STATE_STALE_MS) {
		a->stale = true;
		a->why_stale = "kheald has not updated it";
	}
}

static const char *source_state_name(const Kheal__SourceState *s)
{
	const char *name = kheal_source_name((enum kheal_source_id)s->source);

	return name ? name : "unspec";
}

static void state_json(struct kheal_json *j, const struct agent_state *a)
{
	const Kheal__AgentState *st = a->st;
	const Kheal__SourceState *s;
	const Kheal__ProbeState *p;
	size_t i, k;

	kheal_json_begin(j, "state", '{');
	kheal_json_str(j, "path", a->path);
	kheal_json_bool(j, "present", a->ret != -ENOENT);
	if (a->ret && a->ret != -ENOENT)
		kheal_json_str(j, "error", kheal_err_str(&a->err, a->ret));
	if (!a->ret) {
		kheal_json_bool(j, "stale", a->stale);
		kheal_json_u64(j, "age_ms", a->age_ms);
		kheal_json_str(j, "engine", kheal_engine_name(st->engine));
		kheal_json_str(j, "requested",
			       kheal_engine_name(st->requested));
		kheal_json_str(j, "reason", st->reason ? st->reason : "");
		kheal_json_begin(j, "sources", '[');
		for (i = 0; i < st->n_sources; i++) {
			s = st->sources[i];
			kheal_json_begin(j, NULL, '{');
			kheal_json_str(j, "source", source_state_name(s));
			kheal_json_bool(j, "attached", s->attached);
			kheal_json_u64(j, "instance", s->instance);
			kheal_json_u64(j, "last_seq", s->last_seq);
			kheal_json_u64(j, "received", s->received);
			kheal_json_u64(j, "backfilled", s->backfilled);
			kheal_json_u64(j, "duplicates", s->duplicates);
			kheal_json_u64(j, "lost", s->lost);
			kheal_json_u64(j, "enobufs", s->enobufs);
			kheal_json_u64(j, "stale", s->stale);
			kheal_json_u64(j, "merged", s->merged);
			kheal_json_begin(j, "probes", '[');
			for (k = 0; k < s->n_probes; k++) {
				p = s->probes[k];
				kheal_json_begin(j, NULL, '{');
				kheal_json_str(j, "name",
					       p->name ? p->name : "");
				kheal_json_bool(j, "attached", p->attached);
				if (p->reason)
					kheal_json_str(j, "reason", p->reason);
				kheal_json_u64(j, "events", p->events);
				kheal_json_end(j, '}');
			}
			kheal_json_end(j, ']');
			kheal_json_end(j, '}');
		}
		kheal_json_end(j, ']');
	}
	kheal_json_end(j, '}');
}

static void state_text(const struct agent_state *a)
{
	const Kheal__AgentState *st = a->st;
	const Kheal__SourceState *s;
	const Kheal__ProbeState *p;
	size_t i, k;

	if (a->ret == -ENOENT) {
		printf("  engine: unknown: no state file %s\n", a->path);
		return;
	}
	if (a->ret) {
		printf("  engine: unknown: %s\n",
		       kheal_err_str(&a->err, a->ret));
		return;
	}
	if (a->stale)
		printf("  state file %s is stale (%s; written %" PRIu64
		       " ms ago by pid %" PRIu32 "); as it was then:\n",
		       a->path, a->why_stale, a->age_ms, st->pid);
	printf("  engine: %s (%s)\n", kheal_engine_name(st->engine),
	       st->reason ? st->reason : "");
	for (i = 0; i < st->n_sources; i++) {
		s = st->sources[i];
		printf("  source %s: %s, instance %" PRIu64 ", last seq %"
		       PRIu64 "\n    received %" PRIu64 ", backfilled %"
		       PRIu64 ", duplicates %" PRIu64 ", lost %" PRIu64
		       ", enobufs %" PRIu64 ", stale %" PRIu64 ", merged %"
		       PRIu64 "\n", source_state_name(s),
		       s->attached ? "attached" : "not attached", s->instance,
		       s->last_seq, s->received, s->backfilled, s->duplicates,
		       s->lost, s->enobufs, s->stale, s->merged);
		for (k = 0; k < s->n_probes; k++) {
			p = s->probes[k];
			if (p->attached)
				printf("    probe %s: attached, %" PRIu64
				       " events\n", p->name, p->events);
			else
				printf("    probe %s: not attached: %s\n",
				       p->name, p->reason ? p->reason : "");
		}
	}
}

/* The pid in @path if that process is alive, else 0. */
static pid_t agent_pid(const char *path)
{
	char buf[32] = "";
	FILE *f = fopen(path, "re");
	long pid;

	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	pid = strtol(buf, NULL, 10);
	if (pid <= 0 || (kill(pid, 0) && errno != EPERM))
		return 0;
	return pid;
}

static void journal_text(const char *path,
			 const struct kheal_journal_summary *sum)
{
	printf("journal: %s: %" PRIu64 " records", path, sum->records);
	if (sum->resume.known)
		printf(", last seq %" PRIu64 " of instance %" PRIu64,
		       sum->resume.last, sum->resume.instance);
	if (sum->bpf_resume.known)
		printf(", last bpf seq %" PRIu64, sum->bpf_resume.last);
	if (sum->psi_resume.known)
		printf(", last psi seq %" PRIu64, sum->psi_resume.last);
	putchar('\n');
}

static int cmd_status(const struct cmd *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "journal", required_argument, NULL, 'J' },
		{ "pidfile", required_argument, NULL, 'P' },
		{ "state", required_argument, NULL, 'S' },
		{ "socket", required_argument, NULL, 's' },
		{ 0 }
	};
	const char *journal = DEFAULT_JOURNAL, *pidfile = DEFAULT_PIDFILE;
	const char *socket = KHEAL_CTL_DEFAULT_PATH;
	struct agent_state as = { .path = DEFAULT_STATE };
	struct kheal_journal_summary sum;
	struct kheal_err merr = { "" }, jerr = { "" };
	static struct kheal_status st;
	/* The brain's part may hold a control-socket packet's worth. */
	static char buf[8 << 20];
	struct kheal_genl g;
	struct kheal_json j;
	int opt, mret, jret;
	pid_t pid;

	while ((opt = next_opt(c, argc, argv, opts)) != -1) {
		if (opt == 'J')
			journal = optarg;
		else if (opt == 'P')
			pidfile = optarg;
		else if (opt == 'S')
			as.path = optarg;
		else if (opt == 's')
			socket = optarg;
		else
			return EXIT_USAGE;
	}
	if (optind < argc)
		return usage_error(c, "unexpected argument '%s'", argv[optind]);

	mret = kheal_genl_open(&g, &merr);
	if (!mret) {
		mret = kheal_genl_status(&g, &st, &merr);
		kheal_genl_close(&g);
	}
	pid = agent_pid(pidfile);
	read_state(&as, pid);
	jret = kheal_journal_scan(journal, &sum, &jerr);

	if (!json) {
		status_module_text(mret, &st, &merr);
		if (pid)
			printf("agent: running, pid %d\n", (int)pid);
		else
			printf("agent: not running (pid file %s)\n", pidfile);
		if (pid || as.ret != -ENOENT)
			state_text(&as);
		status_brain(socket, NULL);
		if (jret == -ENOENT)
			printf("journal: %s: absent\n", journal);
		else if (jret)
			printf("journal: error: %s\n",
			       kheal_err_str(&jerr, jret));
		else
			journal_text(journal, &sum);
	} else {
		kheal_json_init(&j, buf, sizeof(buf));
		kheal_json_begin(&j, NULL, '{');
		status_module_json(&j, mret, &st, &merr);
		kheal_json_begin(&j, "agent", '{');
		kheal_json_bool(&j, "running", pid);
		if (pid)
			kheal_json_u64(&j, "pid", pid);
		kheal_json_str(&j, "pidfile", pidfile);
		state_json(&j, &as);
		kheal_json_end(&j, '}');
		status_brain(socket, &j);
		kheal_json_begin(&j, "journal", '{');
		kheal_json_str(&j, "path", journal);
		kheal_json_bool(&j, "present", jret != -ENOENT);
		if (jret && jret != -ENOENT)
			kheal_json_str(&j, "error", kheal_err_str(&jerr, jret));
		if (!jret) {
			kheal_json_u64(&j, "records", sum.records);
			kheal_json_u64(&j, "last_seq", sum.resume.last);
			kheal_json_u64(&j, "instance", sum.resume.instance);
			kheal_json_u64(&j, "bpf_last_seq", sum.bpf_resume.last);
			kheal_json_u64(&j, "psi_last_seq", sum.psi_resume.last);
			kheal_json_u64(&j, "torn_bytes", sum.torn);
		}
		kheal_json_end(&j, '}');
		kheal_json_end(&j, '}');
		print_line(buf, kheal_json_finish(&j));
	}
	if (as.st)
		kheal__agent_state__free_unpacked(as.st, NULL);
	return (mret && mret != -ENOENT) || (jret && jret != -ENOENT);
}

/* events */

struct events_opts {
	bool follow;
	bool kernel;
	bool since_set;
	uint64_t since;
	const char *journal;
};

static int open_signalfd(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	return signalfd(-1, &mask, SFD_CLOEXEC);
}

static void print_record(const Kheal__Record *rec, uint64_t since)
{
	struct kheal_event ev;
	struct kheal_merged m;
	struct kheal_gap gap;

	if (rec->body_case == KHEAL__RECORD__BODY_EVENT &&
	    !kheal_record_to_event(rec->event, &ev, NULL) && ev.seq > since) {
		print_event(&ev);
	} else if (rec->body_case == KHEAL__RECORD__BODY_GAP) {
		kheal_record_to_gap(rec->gap, &gap);
		if (gap.last > since)
			print_gap(&gap);
	} else if (rec->body_case == KHEAL__RECORD__BODY_MERGED) {
		kheal_record_to_merged(rec->merged, &m);
		if (m.event.seq > since)
			print_merged(&m);
	}
}

/* Waits until the journal changes or a signal comes: 1, 0, or -errno. */
static int wait_journal(int inotifyfd, int sigfd)
{
	struct pollfd pfd[2] = {
		{ .fd = inotifyfd, .events = POLLIN },
		{ .fd = sigfd, .events = POLLIN },
	};
	char buf[4096];

	if (poll(pfd, 2, -1) < 0)
		return errno == EINTR ? 1 : -errno;
	if (pfd[1].revents)
		return 0;
	if (read(inotifyfd, buf, sizeof(buf)) < 0 && errno != EAGAIN)
		return -errno;
	return 1;
}

static int events_journal(const struct cmd *c, const struct events_opts *o)
{
	struct kheal_journal_iter it;
	struct kheal_err err = { "" };
	int ret, inotifyfd = -1, sigfd = -1;
	Kheal__Record *rec;

	ret = kheal_journal_iter_open(&it, o->journal, &err);
	if (ret)
		return fail(c, &err, kheal_err_wrap(&err, ret, "journal"));
	if (o->follow) {
		sigfd = open_signalfd();
		inotifyfd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (sigfd < 0 || inotifyfd < 0 ||
		    inotify_add_watch(inotifyfd, o->journal,
				      IN_MODIFY | IN_CLOSE_WRITE) < 0) {
			ret = kheal_err_set(&err, errno, "watching %s: %s",
					    o->journal, strerror(errno));
			goto out;
		}
	}
	for (;;) {
		ret = kheal_journal_iter_next(&it, &rec, &err);
		if (ret > 0) {
			print_record(rec, o->since);
			kheal__record__free_unpacked(rec, NULL);
			continue;
		}
		if (ret < 0 || !o->follow)
			break;
		fflush(stdout);
		ret = wait_journal(inotifyfd, sigfd);
		if (ret <= 0)
			break;
	}
	if (!ret && !o->follow && it.tail)
		fprintf(stderr,
			"khealctl: events: journal %s: %" PRIu64
			" bytes at offset %" PRIu64
			" are an incomplete record (being written, or torn by a crash)\n",
			o->journal, it.tail, it.off);
	if (ret < 0)
		kheal_err_wrap(&err, ret, "journal %s", o->journal);
out:
	if (inotifyfd >= 0)
		close(inotifyfd);
	if (sigfd >= 0)
		close(sigfd);
	kheal_journal_iter_close(&it);
	return ret < 0 ? fail(c, &err, ret) : 0;
}

struct dump_state {
	struct kheal_seq seq;
	struct kheal_err err;
};

static int dump_cb(struct nlmsghdr *nlh, void *arg)
{
	struct dump_state *s = arg;
	struct kheal_event ev;
	struct kheal_gap gap;
	int ret;

	ret = kheal_genl_parse_event(nlh, &ev, &s->err);
	if (ret) {
		fprintf(stderr, "khealctl: events: skipped: %s\n", s->err.msg);
		return 0;
	}
	if (!s->seq.known)
		kheal_seq_begin(&s->seq, ev.instance, s->seq.last);
	switch (kheal_seq_check(&s->seq, ev.instance, ev.seq, &gap.first,
				&gap.last)) {
	case KHEAL_SEQ_NEW_INSTANCE:
		kheal_seq_begin(&s->seq, ev.instance, 0);
		break;
	case KHEAL_SEQ_GAP:
		gap.instance = ev.instance;
		gap.reason = KHEAL_GAP_OVERRUN;
		print_gap(&gap);
		break;
	case KHEAL_SEQ_DUPLICATE:
		return 0;
	default:
		break;
	}
	kheal_seq_advance(&s->seq, ev.seq);
	print_event(&ev);
	return 0;
}

static int follow_event(const struct kheal_event *ev, void *arg)
{
	(void)arg;
	print_event(ev);
	return 0;
}

static int follow_gap(const struct kheal_gap *gap, void *arg)
{
	(void)arg;
	print_gap(gap);
	return 0;
}

static void follow_note(const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "khealctl: events: %s\n", msg);
}

/* Multicast events as they come, after the backlog: kheald's loop. */
static int events_follow_kernel(const struct cmd *c, uint64_t instance,
				const struct events_opts *o)
{
	struct itimerspec tick = {
		.it_interval = { .tv_sec = 1 },
		.it_value = { .tv_sec = 1 },
	};
	struct kheal_source src = {
		.ops = &kheal_source_kmod_ops,
		.cb = {
			.event = follow_event,
			.gap = follow_gap,
			.note = follow_note,
		},
		.resume = {
			.known = o->since_set && instance,
			.instance = instance,
			.last = o->since,
		},
	};
	struct kheal_err err = { "" };
	struct pollfd pfd[3];
	int ret, sigfd, timerfd;
	uint64_t expirations;

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigfd = open_signalfd();
	timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (sigfd < 0 || timerfd < 0 || timerfd_settime(timerfd, 0, &tick,
							NULL)) {
		ret = kheal_err_set(&err, errno, "%s", strerror(errno));
		goto out;
	}
	ret = src.ops->open(&src, &err);
	if (ret)
		goto out;
	pfd[0] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = timerfd, .events = POLLIN };
	pfd[2] = (struct pollfd){ .fd = src.ops->fd(&src), .events = POLLIN };
	for (;;) {
		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			ret = kheal_err_set(&err, errno, "poll: %s",
					    strerror(errno));
			break;
		}
		if (pfd[0].revents)
			break;
		ret = 0;
		if (pfd[2].revents)
			ret = src.ops->handle(&src, &err);
		if (!ret && pfd[1].revents &&
		    read(timerfd, &expirations, sizeof(expirations)) > 0)
			ret = src.ops->tick(&src, &err);
		if (ret)
			fail(c, &err, ret);
	}
	src.ops->close(&src);
out:
	if (sigfd >= 0)
		close(sigfd);
	if (timerfd >= 0)
		close(timerfd);
	return ret ? fail(c, &err, ret) : 0;
}

static int events_kernel(const struct cmd *c, const struct events_opts *o)
{
	struct dump_state s = { .seq = { .last = o->since } };
	struct kheal_status st = { 0 };
	struct kheal_genl g;
	int ret;

	ret = kheal_genl_open(&g, &s.err);
	if (!ret)
		ret = kheal_genl_status(&g, &st, &s.err);
	if (!ret && !o->follow)
		ret = kheal_genl_dump_events(&g, o->since, dump_cb, &s, &s.err);
	kheal_genl_close(&g);
	if (o->follow && (!ret || ret == -ENOENT))
		return events_follow_kernel(c, st.instance, o);
	return ret ? fail(c, &s.err, ret) : 0;
}

static int cmd_events(const struct cmd *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "since", required_argument, NULL, 'S' },
		{ "journal", required_argument, NULL, 'J' },
		{ "kernel", no_argument, NULL, 'k' },
		{ 0 }
	};
	struct events_opts o = { .journal = DEFAULT_JOURNAL };
	int opt;

	while ((opt = next_opt(c, argc, argv, opts)) != -1) {
		switch (opt) {
		case 'f':
			o.follow = true;
			break;
		case 'S':
			if (parse_num(c, "--since", optarg, 0, UINT64_MAX,
				      &o.since))
				return EXIT_USAGE;
			o.since_set = true;
			break;
		case 'J':
			o.journal = optarg;
			break;
		case 'k':
			o.kernel = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error(c, "unexpected argument '%s'", argv[optind]);
	return o.kernel ? events_kernel(c, &o) : events_journal(c, &o);
}

/* inject */

static int cmd_inject(const struct cmd *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ms", required_argument, NULL, 'm' },
		{ "count", required_argument, NULL, 'n' },
		{ 0 }
	};
	struct kheal_inject req = { 0 };
	struct kheal_inject_reply rep;
	struct kheal_err err = { "" };
	uint64_t ms = 0, count = 0;
	char buf[256];
	struct kheal_json j;
	struct kheal_genl g;
	const char *type;
	int opt, ret;

	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && (!strcmp(argv[1], "-h") ||
				  !strcmp(argv[1], "--help"))) {
			print_usage(c, stdout);
			return 0;
		}
		return usage_error(c, "which fault? 'hung', 'burst' or 'lockup'");
	}
	type = argv[1];
	argc--;
	argv++;
	while ((opt = next_opt(c, argc, argv, opts)) != -1) {
		if (opt == 'm' && !parse_num(c, "--ms", optarg, 1, UINT64_MAX,
					     &ms))
			continue;
		if (opt == 'n' && !parse_num(c, "--count", optarg, 1,
					     UINT32_MAX, &count))
			continue;
		return EXIT_USAGE;
	}
	if (optind < argc)
		return usage_error(c, "unexpected argument '%s'", argv[optind]);
	if (!strcmp(type, "hung")) {
		if (!ms || count)
			return usage_error(c,
					   "'inject hung' takes --ms N, and only that");
		req.type = KHEAL_INJECT_HUNG_TASK;
		req.duration_ms = ms;
	} else if (!strcmp(type, "burst")) {
		if (!count || ms)
			return usage_error(c,
					   "'inject burst' takes --count N, and only that");
		req.type = KHEAL_INJECT_BURST;
		req.count = count;
	} else if (!strcmp(type, "lockup")) {
		if (!ms || count)
			return usage_error(c,
					   "'inject lockup' takes --ms N, and only that");
		req.type = KHEAL_INJECT_LOCKUP;
		req.duration_ms = ms;
	} else {
		return usage_error(c,
				   "unknown fault '%s': 'hung', 'burst' or 'lockup'",
				   type);
	}

	ret = kheal_genl_open(&g, &err);
	if (!ret) {
		ret = kheal_genl_inject(&g, &req, &rep, &err);
		kheal_genl_close(&g);
	}
	if (ret)
		return fail(c, &err, ret);
	if (json) {
		kheal_json_init(&j, buf, sizeof(buf));
		kheal_json_begin(&j, NULL, '{');
		kheal_json_u64(&j, "pid", rep.pid);
		if (rep.comm[0])
			kheal_json_str(&j, "comm", rep.comm);
		kheal_json_end(&j, '}');
		print_line(buf, kheal_json_finish(&j));
	} else {
		printf("pid %" PRIu32 "%s%s\n", rep.pid,
		       rep.comm[0] ? " comm " : "", rep.comm);
	}
	return 0;
}

/* checkpoint */

static int cmd_checkpoint(const struct cmd *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "instance", required_argument, NULL, 'i' },
		{ 0 }
	};
	/* Each byte of the text escapes to at most six. */
	static char buf[6 * KHEAL_CHECKPOINT_TEXT_LEN + 256];
	struct kheal_checkpoint *cp;
	struct kheal_err err = { "" };
	uint64_t id, instance = 0;
	struct kheal_json j;
	struct kheal_genl g;
	int opt, ret;

	while ((opt = next_opt(c, argc, argv, opts)) != -1) {
		if (opt == 'i' && !parse_num(c, "--instance", optarg, 1,
					     UINT64_MAX, &instance))
			continue;
		return EXIT_USAGE;
	}
	if (optind + 1 != argc)
		return usage_error(c, "expected one checkpoint ID");
	if (parse_num(c, "checkpoint ID", argv[optind], 1, UINT64_MAX, &id))
		return EXIT_USAGE;

	cp = malloc(sizeof(*cp));
	if (!cp) {
		kheal_err_set(&err, ENOMEM, "checkpoint %" PRIu64, id);
		return fail(c, &err, -ENOMEM);
	}
	ret = kheal_genl_open(&g, &err);
	if (!ret) {
		ret = kheal_genl_get_checkpoint(&g, instance, id, cp, &err);
		kheal_genl_close(&g);
	}
	if (ret) {
		free(cp);
		return fail(c, &err, ret);
	}
	if (json) {
		kheal_json_init(&j, buf, sizeof(buf));
		kheal_json_begin(&j, NULL, '{');
		kheal_json_u64(&j, "checkpoint_id", cp->id);
		kheal_json_u64(&j, "instance", cp->instance);
		kheal_json_u64(&j, "time_ns", cp->time_ns);
		kheal_json_str(&j, "text", cp->text);
		kheal_json_end(&j, '}');
		print_line(buf, kheal_json_finish(&j));
	} else {
		fputs(cp->text, stdout);
	}
	free(cp);
	return 0;
}

/* config */

struct config_key {
	const char *name;
	uint64_t min, max;
	int (*set)(struct kheal_genl *g, uint64_t v, struct kheal_err *err);
};

static int set_hung_ms(struct kheal_genl *g, uint64_t v,
		       struct kheal_err *err)
{
	return kheal_genl_set_hung_ms(g, v, err);
}

static const struct config_key config_keys[] = {
	{ "hung_ms", 0, UINT32_MAX, set_hung_ms },
};

static int cmd_config(const struct cmd *c, int argc, char **argv)
{
	const struct config_key *key = NULL;
	struct kheal_err err = { "" };
	const char *arg, *eq;
	struct kheal_genl g;
	size_t i, len;
	uint64_t v;
	int ret;

	if (next_opt(c, argc, argv, NULL) != -1)
		return EXIT_USAGE;
	if (optind + 1 != argc)
		return usage_error(c, "expected one KEY=VALUE");
	arg = argv[optind];
	eq = strchr(arg, '=');
	len = eq ? (size_t)(eq - arg) : 0;
	for (i = 0; eq && i < ARRAY_SIZE(config_keys); i++)
		if (!strncmp(config_keys[i].name, arg, len) &&
		    !config_keys[i].name[len])
			key = &config_keys[i];
	if (!key)
		return usage_error(c, "unknown setting '%s' (known: hung_ms=N)",
				   arg);
	if (parse_num(c, key->name, eq + 1, key->min, key->max, &v))
		return EXIT_USAGE;

	ret = kheal_genl_open(&g, &err);
	if (!ret) {
		ret = key->set(&g, v, &err);
		kheal_genl_close(&g);
	}
	if (ret)
		return fail(c, &err, ret);
	if (json)
		printf("{\"%s\":%" PRIu64 "}\n", key->name, v);
	else
		printf("%s = %" PRIu64 "\n", key->name, v);
	return 0;
}

/* help */

static int cmd_help(const struct cmd *c, int argc, char **argv);

static const struct cmd cmds[] = {
	{ "status", cmd_status,
	  "status [--journal PATH] [--pidfile PATH] [--state PATH] [--socket PATH]" },
	{ "events", cmd_events,
	  "events [--follow] [--since SEQ] [--journal PATH] [--kernel]" },
	{ "journal", cmd_journal,
	  "journal [--journal PATH] [--incident ID] [--since DURATION]\n"
	  "      (DURATION: 90s, 10m, 2h, 1d; records that recent, by CLOCK_BOOTTIME)\n"
	  "  journal verify [--journal PATH] [--key PATH]" },
	{ "subsystems", cmd_subsystems, "subsystems [--socket PATH]" },
	{ "incidents", cmd_incidents, "incidents [--socket PATH]" },
	{ "incident", cmd_incident, "incident show ID [--socket PATH]" },
	{ "approvals", cmd_approvals, "approvals [--socket PATH]" },
	{ "approve", cmd_approve, "approve ID [--socket PATH]" },
	{ "deny", cmd_deny, "deny ID [--socket PATH]" },
	{ "heal", cmd_heal,
	  "heal SUBSYSTEM [--socket PATH]   (e.g. heal cgroup:/svc.slice)" },
	{ "runbooks", cmd_runbooks,
	  "runbooks list [--dir DIR] [--socket PATH]\n"
	  "  runbooks show NAME [--dir DIR]\n"
	  "  runbooks validate FILE...\n"
	  "  runbooks drafts [--drafts DIR]\n"
	  "  runbooks reload [--socket PATH]\n"
	  "      (DIR: /etc/kheal/runbooks.d; drafts: /var/lib/kheal/drafts)" },
	{ "inject", cmd_inject,
	  "inject hung --ms N | inject burst --count N | inject lockup --ms N" },
	{ "checkpoint", cmd_checkpoint,
	  "checkpoint ID [--instance N]   (kheal.ko's, as an event names it;\n"
	  "      needs CAP_NET_ADMIN)" },
	{ "config", cmd_config, "config hung_ms=N" },
	{ "help", cmd_help, "help [COMMAND]" },
};

static const struct cmd *find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

static void usage_all(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: khealctl [-j|--json] COMMAND [ARGS]\n"
		   "       khealctl COMMAND -h\n\nCommands:\n");
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		fprintf(f, "  %s\n", cmds[i].usage);
}

static int cmd_help(const struct cmd *c, int argc, char **argv)
{
	const struct cmd *about;

	if (argc < 2) {
		usage_all(stdout);
		return 0;
	}
	about = find_cmd(argv[1]);
	if (!about)
		return usage_error(c, "unknown command '%s'", argv[1]);
	print_usage(about, stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const struct cmd *c;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+jh", opts, NULL)) != -1) {
		if (opt == 'h') {
			usage_all(stdout);
			return 0;
		}
		if (opt != 'j') {
			fprintf(stderr, "khealctl: unknown option '%s'\n",
				argv[optind - 1]);
			usage_all(stderr);
			return EXIT_USAGE;
		}
		json = true;
	}
	if (optind == argc) {
		usage_all(stderr);
		return EXIT_USAGE;
	}
	c = find_cmd(argv[optind]);
	if (!c) {
		fprintf(stderr, "khealctl: unknown command '%s'\n",
			argv[optind]);
		usage_all(stderr);
		return EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	optind = 0;
	return c->func(c, argc, argv);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * kheald: the kheal agent. It reads events from its sources and, for
 * each, prints a JSON line, appends it to the JSON log and journals it.
 * The daemon owns the main loop: poll() on a signalfd, a 1 s timerfd and
 * each source's fd.
 *
 * The engine says which sources run: kheal.ko (kmod), the BPF probes
 * (bpf), or both, merged so that a fault both report is reported once
 * (dedupe.h). At each tick kheald rewrites its state file, which
 * khealctl status reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "actions.h"
#include "brain.h"
#include "brain_ctl.h"
#include "cgroup.h"
#include "context.h"
#include "ctl.h"
#include "dedupe.h"
#include "event.h"
#include "genl.h"
#include "journal.h"
#include "path.h"
#include "record.h"
#include "replay.h"
#include "source_bpf.h"
#include "source_kmod.h"
#include "source_kmsg.h"
#include "source_psi.h"
#include "state.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define MAX_SOURCES	4		/* an engine's two, psi and kmsg */
#define PSI_CGROUPS_MAX	32
#define HUNG_MS_MIN	100		/* the module's minimum */
#define HUNG_MS_MAX	86400000	/* a day */

static const struct engine {
	Kheal__Engine id;
	const struct kheal_source_ops *ops[MAX_SOURCES];
} engines[] = {
	{ KHEAL__ENGINE__ENGINE_AUTO, { NULL } },
	{ KHEAL__ENGINE__ENGINE_KMOD, { &kheal_source_kmod_ops } },
	{ KHEAL__ENGINE__ENGINE_BPF, { &kheal_source_bpf_ops } },
	{ KHEAL__ENGINE__ENGINE_BOTH,
	  { &kheal_source_kmod_ops, &kheal_source_bpf_ops } },
};

struct opts {
	const char *journal;
	const char *key;		/* NULL: the journal's path + .key */
	const char *log;
	const char *pidfile;
	const char *state;
	const struct engine *engine;
	enum kheal_profile profile;
	const char *runbooks;
	const char *drafts;
	const char *socket;
	const char *cgroup_root;	/* NULL: the first cgroup2 mount */
	const char *replay;		/* a journal to replay, or NULL */
	bool dry_run;
	uint32_t hung_ms;
	bool hung_ms_set;
	uint32_t ringbuf_kb;		/* 0: the BPF library's default */
	bool quiet;
	bool stats;
	bool psi;			/* --psi: the PSI source beside */
	bool kmsg;			/* --kmsg: kernel log rules beside */
	uint32_t psi_stall_ms;
	uint32_t psi_window_ms;
	const char *psi_cgroups[PSI_CGROUPS_MAX];
	size_t npsi_cgroups;
};

struct daemon {
	struct opts o;
	const struct engine *engine;	/* what runs: never auto */
	char reason[256];		/* why */
	struct kheal_journal journal;
	FILE *log;
	int pidfd;
	bool stdout_broken;
	bool state_failed;		/* said once; tried again each tick */
	bool failed;			/* the journal failed: stop */
	struct kheal_err fatal;
	bool merge;			/* more than one source: dedupe */
	struct kheal_dedupe dedupe;
	size_t nsrc;
	struct kheal_source src[MAX_SOURCES];
	char cgroup_root[256];
	struct kheal_exec_ctx exec;
	struct kheal_memtrack memtrack;	/* --psi's, for memory.kill_leaker */
	struct kheal_psi_config psi;
	struct kheal_brain brain;
	bool brain_up;
	struct kheal_ctl ctl;
	bool ctl_up;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: kheald [OPTIONS]\n"
		"Reads kernel health events, prints them as JSON lines, logs and journals them.\n"
		"\n"
		"  --engine=ENGINE  auto (default: kmod if kheal.ko is loaded at start,\n"
		"                   else bpf), kmod, bpf, or both (merged)\n"
		"  --hung-ms N      hung-task threshold of the BPF probes (default %d);\n"
		"                   given, it is also set on kheal.ko\n"
		"  --ringbuf-kb N   the BPF ring buffer in KiB, a power of two from %u\n"
		"                   to %u (default %u)\n"
		"  --journal PATH   journal file (default /var/lib/kheal/journal)\n"
		"  --key PATH       key that signs the journal, made (0600) at first start\n"
		"                   (default: the journal's path and .key)\n"
		"  --log PATH       JSON lines log (default /var/log/kheal/events.jsonl)\n"
		"  --pidfile PATH   pid file (default /run/kheal/kheald.pid)\n"
		"  --state PATH     state file (default /run/kheal/kheald.state)\n"
		"  --profile NAME   autonomy: observe, conservative (default), autonomous\n"
		"                   or full; what is above it waits for khealctl approve\n"
		"  --runbooks DIR   runbooks (default /etc/kheal/runbooks.d)\n"
		"  --drafts DIR     drafts for novel incidents (default /var/lib/kheal/drafts)\n"
		"  --socket PATH    control socket for khealctl (default %s)\n"
		"  --cgroup-root DIR  the cgroup2 mount actions work in (default: found\n"
		"                   in /proc/self/mounts)\n"
		"  --dry-run        decide and journal, but run no action or check\n"
		"  --replay JOURNAL with --dry-run: feed JOURNAL's events through the\n"
		"                   decisions and print the records they would journal\n"
		"  --quiet          print no events on stdout\n"
		"  --stats          print counters to stderr on exit\n"
		"  --kmsg           report soft lockups, oopses and WARNs from the kernel\n"
		"                   log (/dev/kmsg, needs CAP_SYSLOG), beside the engine\n"
		"  --psi            report memory pressure from PSI triggers, beside the\n"
		"                   engine, and track which processes grow\n"
		"  --psi-cgroup PATH  watch this cgroup (repeatable; implies --psi); none:\n"
		"                   every first-level cgroup, as they come and go\n"
		"  --psi-stall-ms N --psi-window-ms N  the trigger: N ms of stall within\n"
		"                   the window (default %d within %d; window %d to %d)\n"
		"  -h, --help       this help\n", KHEAL_BPF_HUNG_MS_DEFAULT,
		kheal_bpf_ringbuf_kb_min(), KHEAL_BPF_RINGBUF_KB_MAX,
		KHEAL_BPF_RINGBUF_KB_DEFAULT, KHEAL_CTL_DEFAULT_PATH,
		KHEAL_PSI_STALL_MS_DEFAULT, KHEAL_PSI_WINDOW_MS_DEFAULT,
		KHEAL_PSI_WINDOW_MIN_US / 1000, KHEAL_PSI_WINDOW_MAX_US / 1000);
}

static const struct engine *engine_of(Kheal__Engine id)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(engines); i++)
		if (engines[i].id == id)
			return &engines[i];
	return &engines[0];
}

static int parse_engine(const char *arg, struct opts *o)
{
	char names[64] = "";
	size_t i, len = 0;

	for (i = 0; i < ARRAY_SIZE(engines); i++) {
		if (!strcmp(arg, kheal_engine_name(engines[i].id))) {
			o->engine = &engines[i];
			return 0;
		}
		len += snprintf(names + len, sizeof(names) - len, "%s%s",
				i ? ", " : "",
				kheal_engine_name(engines[i].id));
	}
	fprintf(stderr, "kheald: --engine: '%s' is not one of %s\n", arg,
		names);
	return -1;
}

static int parse_hung_ms(const char *arg, struct opts *o)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (*arg < '0' || *arg > '9' || *end || errno || v < HUNG_MS_MIN ||
	    v > HUNG_MS_MAX) {
		fprintf(stderr,
			"kheald: --hung-ms: '%s' is not a number from %d to %d\n",
			arg, HUNG_MS_MIN, HUNG_MS_MAX);
		return -1;
	}
	o->hung_ms = v;
	o->hung_ms_set = true;
	return 0;
}

/* A size the kernel takes as it is: the size asked for is the size used. */
static int parse_ringbuf_kb(const char *arg, struct opts *o)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (*arg < '0' || *arg > '9' || *end || errno || v > UINT32_MAX ||
	    !kheal_bpf_ringbuf_kb_valid(v)) {
		fprintf(stderr,
			"kheald: --ringbuf-kb: '%s' is not a power of two from %u to %u (KiB)\n",
			arg, kheal_bpf_ringbuf_kb_min(),
			KHEAL_BPF_RINGBUF_KB_MAX);
		return -1;
	}
	o->ringbuf_kb = v;
	return 0;
}

/* A number of ms from @min to @max, for option @name. */
static int parse_ms(const char *arg, const char *name, uint32_t min,
		    uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (*arg < '0' || *arg > '9' || *end || errno || v < min || v > max) {
		fprintf(stderr, "kheald: %s: '%s' is not a number from %" PRIu32
			" to %" PRIu32 "\n", name, arg, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_psi_cgroup(const char *arg, struct opts *o)
{
	if (o->npsi_cgroups == PSI_CGROUPS_MAX) {
		fprintf(stderr, "kheald: --psi-cgroup: at most %d\n",
			PSI_CGROUPS_MAX);
		return -1;
	}
	o->psi_cgroups[o->npsi_cgroups++] = arg;
	o->psi = true;
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "engine",	required_argument,	NULL, 'E' },
		{ "hung-ms",	required_argument,	NULL, 'H' },
		{ "ringbuf-kb",	required_argument,	NULL, 'B' },
		{ "journal",	required_argument,	NULL, 'J' },
		{ "key",	required_argument,	NULL, 'K' },
		{ "log",	required_argument,	NULL, 'L' },
		{ "pidfile",	required_argument,	NULL, 'P' },
		{ "state",	required_argument,	NULL, 'S' },
		{ "profile",	required_argument,	NULL, 'p' },
		{ "runbooks",	required_argument,	NULL, 'R' },
		{ "drafts",	required_argument,	NULL, 'D' },
		{ "socket",	required_argument,	NULL, 'C' },
		{ "cgroup-root", required_argument,	NULL, 'G' },
		{ "replay",	required_argument,	NULL, 'r' },
		{ "dry-run",	no_argument,		NULL, 'n' },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "stats",	no_argument,		NULL, 's' },
		{ "psi",	no_argument,		NULL, 'M' },
		{ "kmsg",	no_argument,		NULL, 'k' },
		{ "psi-cgroup",	required_argument,	NULL, 'g' },
		{ "psi-stall-ms", required_argument,	NULL, 'T' },
		{ "psi-window-ms", required_argument,	NULL, 'W' },
		{ "help",	no_argument,		NULL, 'h' },
		{ 0 }
	};
	struct kheal_err err = { "" };
	int c;

	*o = (struct opts){
		.journal = "/var/lib/kheal/journal",
		.log = "/var/log/kheal/events.jsonl",
		.pidfile = "/run/kheal/kheald.pid",
		.state = "/run/kheal/kheald.state",
		.engine = &engines[0],
		.hung_ms = KHEAL_BPF_HUNG_MS_DEFAULT,
		.psi_stall_ms = KHEAL_PSI_STALL_MS_DEFAULT,
		.psi_window_ms = KHEAL_PSI_WINDOW_MS_DEFAULT,
		.profile = KHEAL_PROFILE_CONSERVATIVE,
		.runbooks = "/etc/kheal/runbooks.d",
		.drafts = "/var/lib/kheal/drafts",
		.socket = KHEAL_CTL_DEFAULT_PATH,
	};
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'E':
			if (parse_engine(optarg, o))
				return -1;
			break;
		case 'H':
			if (parse_hung_ms(optarg, o))
				return -1;
			break;
		case 'B':
			if (parse_ringbuf_kb(optarg, o))
				return -1;
			break;
		case 'S':
			o->state = optarg;
			break;
		case 'J':
			o->journal = optarg;
			break;
		case 'K':
			o->key = optarg;
			break;
		case 'L':
			o->log = optarg;
			break;
		case 'P':
			o->pidfile = optarg;
			break;
		case 'p':
			if (kheal_profile_parse(optarg, &o->profile, &err)) {
				fprintf(stderr, "kheald: --profile: %s\n",
					err.msg);
				return -1;
			}
			break;
		case 'R':
			o->runbooks = optarg;
			break;
		case 'D':
			o->drafts = optarg;
			break;
		case 'C':
			o->socket = optarg;
			break;
		case 'G':
			o->cgroup_root = optarg;
			break;
		case 'r':
			o->replay = optarg;
			break;
		case 'n':
			o->dry_run = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 's':
			o->stats = true;
			break;
		case 'k':
			o->kmsg = true;
			break;
		case 'M':
			o->psi = true;
			break;
		case 'g':
			if (parse_psi_cgroup(optarg, o))
				return -1;
			break;
		case 'T':
			if (parse_ms(optarg, "--psi-stall-ms", 1,
				     KHEAL_PSI_WINDOW_MAX_US / 1000,
				     &o->psi_stall_ms))
				return -1;
			break;
		case 'W':
			if (parse_ms(optarg, "--psi-window-ms",
				     KHEAL_PSI_WINDOW_MIN_US / 1000,
				     KHEAL_PSI_WINDOW_MAX_US / 1000,
				     &o->psi_window_ms))
				return -1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			fprintf(stderr, "kheald: %s needs an argument\n",
				argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "kheald: unknown option '%s'\n",
				argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kheald: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	if (o->replay && !o->dry_run) {
		fprintf(stderr,
			"kheald: --replay needs --dry-run: a replay never acts\n");
		return -1;
	}
	if (o->psi_stall_ms > o->psi_window_ms) {
		fprintf(stderr,
			"kheald: --psi-stall-ms %" PRIu32 " is longer than --psi-window-ms %" PRIu32 "\n",
			o->psi_stall_ms, o->psi_window_ms);
		return -1;
	}
	return 0;
}

static int pidfile_open(const char *path, struct kheal_err *err)
{
	char buf[32] = "";
	int fd, ret;

	ret = kheal_make_parents(path, err);
	if (ret)
		return ret;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return kheal_err_set(err, errno, "pid file %s: %s", path,
				     strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		ret = errno;
		if (read(fd, buf, sizeof(buf) - 1) > 0)
			buf[strcspn(buf, "\n")] = '\0';
		close(fd);
		if (ret == EWOULDBLOCK)
			return kheal_err_set(err, EEXIST,
					     "already running (pid %s, pid file %s)",
					     buf[0] ? buf : "?", path);
		return kheal_err_set(err, ret, "locking pid file %s: %s",
				     path, strerror(ret));
	}
	if (ftruncate(fd, 0) || dprintf(fd, "%d\n", (int)getpid()) < 0) {
		ret = kheal_err_set(err, errno, "writing pid file %s: %s",
				    path, strerror(errno));
		close(fd);
		return ret;
	}
	return fd;
}

static void emit(struct daemon *d, const char *line, int len)
{
	if (!d->o.quiet && !d->stdout_broken &&
	    (fwrite(line, 1, len, stdout) != (size_t)len ||
	     putchar('\n') == EOF))
		d->stdout_broken = true;
	fwrite(line, 1, len, d->log);
	fputc('\n', d->log);
}

static int journal(struct daemon *d, const Kheal__Record *rec)
{
	int ret = kheal_journal_append(&d->journal, rec, &d->fatal);

	d->failed |= ret != 0;
	return ret;
}

static struct kheal_source *source_of(struct daemon *d,
				      enum kheal_source_id id)
{
	size_t i;

	for (i = 0; i < d->nsrc; i++)
		if (d->src[i].ops->id == id)
			return &d->src[i];
	return NULL;
}

/* Journals that @ev duplicates @into, which was reported. */
static int merged(struct daemon *d, const struct kheal_event *ev,
		  const struct kheal_seq_id *into)
{
	struct kheal_merged m = {
		.event = {
			.source = ev->source,
			.instance = ev->instance,
			.seq = ev->seq,
		},
		.into = *into,
	};
	struct kheal_source *src = source_of(d, ev->source);
	Kheal__Record rec;
	Kheal__Merged pm;

	if (src)
		src->stats.merged++;
	kheal_record_merged(&rec, &pm, &m);
	return journal(d, &rec);
}

/* The event to the brain, after its own record. */
static void decide(struct daemon *d, const struct kheal_event *ev)
{
	struct kheal_err err = { "" };
	int ret;

	if (!d->brain_up || d->failed)
		return;
	ret = kheal_brain_event(&d->brain, ev, &err);
	if (ret && !d->failed)
		fprintf(stderr, "kheald: event %" PRIu64 ": %s\n", ev->seq,
			kheal_err_str(&err, ret));
}

static int on_event(const struct kheal_event *ev, void *arg)
{
	static char line[KHEAL_EVENT_LINE_MAX];
	struct kheal_pb_event pe;
	struct kheal_seq_id into;
	struct daemon *d = arg;
	Kheal__Record rec;
	int len, ret;

	if (d->merge && kheal_dedupe_check(&d->dedupe, ev, &into))
		return merged(d, ev, &into);
	len = kheal_event_json(ev, line, sizeof(line));
	if (len > 0)
		emit(d, line, len);
	kheal_record_event(&rec, &pe, ev);
	ret = journal(d, &rec);
	if (!ret)
		decide(d, ev);
	return ret;
}

static int on_gap(const struct kheal_gap *gap, void *arg)
{
	static char line[KHEAL_EVENT_LINE_MAX];
	struct daemon *d = arg;
	Kheal__Record rec;
	Kheal__Gap pg;
	int len;

	len = kheal_gap_text(gap, line, sizeof(line));
	if (len > 0)
		fprintf(stderr, "kheald: %s\n", line);
	len = kheal_gap_json(gap, line, sizeof(line));
	if (len > 0)
		emit(d, line, len);
	kheal_record_gap(&rec, &pg, gap);
	return journal(d, &rec);
}

static void on_note(const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "kheald: %s\n", msg);
}

static int brain_journal(void *arg, const Kheal__Record *rec,
			 struct kheal_err *err)
{
	struct daemon *d = arg;
	int ret = journal(d, rec);

	if (ret)
		kheal_err_set(err, -ret, "journal: %s",
			      kheal_err_str(&d->fatal, ret));
	return ret;
}

/*
 * kheal.ko's checkpoint of the fault. Asked for as the incident opens,
 * which is as its event arrives: the checkpoint is still in the ring.
 */
static void context_checkpoint(Kheal__Context *c,
			       const struct kheal_event *ev)
{
	struct kheal_err err = { "" };
	char *text;
	int ret;

	ret = kheal_kmod_checkpoint(ev, &text, &err);
	if (ret)
		fprintf(stderr, "kheald: incident context: %s\n",
			kheal_err_str(&err, ret));
	if (!text)
		return;
	c->has_checkpoint_id = true;
	c->checkpoint_id = ev->checkpoint_id;
	c->checkpoint = text;
}

static Kheal__Context *brain_context(void *arg, const struct kheal_event *ev)
{
	struct daemon *d = arg;
	struct kheal_err err = { "" };
	Kheal__Context *c = NULL;

	if (kheal_context_gather(ev, &d->exec, &c, &err))
		fprintf(stderr, "kheald: incident context: %s\n", err.msg);
	if (c)
		context_checkpoint(c, ev);
	return c;
}

static uint64_t boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t brain_now(void *arg)
{
	(void)arg;
	return boottime_ns();
}

static void brain_note(void *arg, const char *msg)
{
	on_note(msg, arg);
}

/* The executors see what was recorded when the incident opened. */
static void brain_acting(void *arg, const struct kheal_incident *inc)
{
	struct daemon *d = arg;

	d->exec.incident = inc->context;
	d->exec.incident_id = inc->id;
}

static const struct kheal_brain_ops brain_ops = {
	.journal = brain_journal,
	.context = brain_context,
	.now = brain_now,
	.note = brain_note,
	.acting = brain_acting,
};

/*
 * Once per main-loop turn. The log goes out before the journal: a kill
 * in between repeats a line in the log on restart rather than lose one.
 */
static int flush_outputs(struct daemon *d)
{
	int ret;

	if (fflush(d->log))
		fprintf(stderr, "kheald: writing %s: %s\n", d->o.log,
			strerror(errno));
	ret = kheal_journal_flush(&d->journal, &d->fatal);
	d->failed |= ret != 0;
	if (!d->o.quiet && !d->stdout_broken && fflush(stdout))
		d->stdout_broken = true;
	return ret;
}

static void print_stats(struct daemon *d)
{
	const struct kheal_source_stats *s;
	size_t i;

	for (i = 0; i < d->nsrc; i++) {
		s = &d->src[i].stats;
		fprintf(stderr, "kheald: stats: source=%s received=%" PRIu64
			" backfilled=%" PRIu64 " duplicates=%" PRIu64
			" lost=%" PRIu64 " enobufs=%" PRIu64 " stale=%" PRIu64
			" merged=%" PRIu64 "\n", d->src[i].ops->name,
			s->received, s->backfilled, s->duplicates, s->lost,
			s->enobufs, s->stale, s->merged);
	}
}

static void state_source(struct kheal_source *src,
			 struct kheal_source_state *ss, Kheal__SourceState *ps,
			 Kheal__ProbeState *probes, Kheal__ProbeState **pp)
{
	const struct kheal_source_stats *s = &src->stats;
	unsigned int i;

	src->ops->state(src, ss);
	kheal__source_state__init(ps);
	ps->has_source = ps->has_attached = ps->has_instance = 1;
	ps->has_last_seq = ps->has_received = ps->has_backfilled = 1;
	ps->has_duplicates = ps->has_lost = ps->has_enobufs = 1;
	ps->has_stale = ps->has_merged = 1;
	ps->source = (Kheal__Source)src->ops->id;
	ps->attached = ss->attached;
	ps->instance = ss->instance;
	ps->last_seq = ss->last_seq;
	ps->received = s->received;
	ps->backfilled = s->backfilled;
	ps->duplicates = s->duplicates;
	ps->lost = s->lost;
	ps->enobufs = s->enobufs;
	ps->stale = s->stale;
	ps->merged = s->merged;
	for (i = 0; i < ss->nprobes; i++) {
		kheal__probe_state__init(&probes[i]);
		probes[i].name = (char *)ss->probes[i].name;
		probes[i].has_attached = probes[i].has_events = 1;
		probes[i].attached = ss->probes[i].attached;
		probes[i].events = ss->probes[i].events;
		if (ss->probes[i].reason[0])
			probes[i].reason = ss->probes[i].reason;
		pp[i] = &probes[i];
	}
	ps->n_probes = ss->nprobes;
	ps->probes = pp;
}

/* The state file; a failure is told once, and tried again next tick. */
static void write_state(struct daemon *d)
{
	static struct kheal_source_state ss[MAX_SOURCES];
	static Kheal__ProbeState probes[MAX_SOURCES][KHEAL_SOURCE_PROBES_MAX];
	static Kheal__ProbeState *pp[MAX_SOURCES][KHEAL_SOURCE_PROBES_MAX];
	Kheal__SourceState ps[MAX_SOURCES], *psp[MAX_SOURCES];
	Kheal__AgentState st = KHEAL__AGENT_STATE__INIT;
	struct kheal_err err = { "" };
	size_t i;
	int ret;

	st.has_pid = st.has_updated_ns = st.has_requested = 1;
	st.has_engine = 1;
	st.pid = getpid();
	st.updated_ns = boottime_ns();
	st.requested = d->o.engine->id;
	st.engine = d->engine->id;
	st.reason = d->reason;
	for (i = 0; i < d->nsrc; i++) {
		state_source(&d->src[i], &ss[i], &ps[i], probes[i], pp[i]);
		psp[i] = &ps[i];
	}
	st.n_sources = d->nsrc;
	st.sources = psp;
	ret = kheal_state_write(d->o.state, &st, &err);
	if (ret && !d->state_failed)
		fprintf(stderr, "kheald: %s (khealctl status cannot tell the engine)\n",
			kheal_err_str(&err, ret));
	d->state_failed = ret != 0;
}

static int open_fds(int *sigfd, int *timerfd, struct kheal_err *err)
{
	struct itimerspec tick = {
		.it_interval = { .tv_sec = 1 },
		.it_value = { .tv_sec = 1 },
	};
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return kheal_err_set(err, errno, "blocking signals: %s",
				     strerror(errno));
	*sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (*sigfd < 0)
		return kheal_err_set(err, errno, "signalfd: %s",
				     strerror(errno));
	*timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (*timerfd < 0 || timerfd_settime(*timerfd, 0, &tick, NULL))
		return kheal_err_set(err, errno, "timerfd: %s",
				     strerror(errno));
	return 0;
}

static void tick(struct daemon *d, int timerfd)
{
	struct kheal_err err;
	uint64_t expirations;
	size_t i;
	int ret;

	if (read(timerfd, &expirations, sizeof(expirations)) < 0)
		return;
	for (i = 0; i < d->nsrc && !d->failed; i++) {
		err.msg[0] = '\0';
		ret = d->src[i].ops->tick(&d->src[i], &err);
		if (ret && !d->failed)
			fprintf(stderr, "kheald: %s: %s\n",
				d->src[i].ops->name, kheal_err_str(&err, ret));
	}
	if (d->brain_up && !d->failed) {
		err.msg[0] = '\0';
		ret = kheal_brain_tick(&d->brain, boottime_ns(), &err);
		if (ret && !d->failed)
			fprintf(stderr, "kheald: %s\n", kheal_err_str(&err, ret));
	}
	if (!d->failed && kheal_journal_sync(&d->journal, &d->fatal))
		d->failed = true;
	write_state(d);
}

/* Runs until a signal or a journal failure; returns the signal or 0. */
static int run(struct daemon *d, int sigfd, int timerfd)
{
	struct pollfd pfd[3 + MAX_SOURCES];
	struct signalfd_siginfo si;
	struct kheal_err err;
	size_t i;
	int ret;

	pfd[0] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = timerfd, .events = POLLIN };
	while (!d->failed) {
		for (i = 0; i < d->nsrc; i++)
			pfd[2 + i] = (struct pollfd){
				.fd = d->src[i].ops->fd(&d->src[i]),
				.events = POLLIN,
			};
		pfd[2 + d->nsrc] = (struct pollfd){
			.fd = d->ctl_up ? kheal_ctl_fd(&d->ctl) : -1,
			.events = POLLIN,
		};
		if (poll(pfd, 3 + d->nsrc, -1) < 0) {
			if (errno == EINTR)
				continue;
			kheal_err_set(&d->fatal, errno, "poll: %s",
				      strerror(errno));
			d->failed = true;
			break;
		}
		for (i = 0; i < d->nsrc && !d->failed; i++) {
			if (!pfd[2 + i].revents)
				continue;
			err.msg[0] = '\0';
			ret = d->src[i].ops->handle(&d->src[i], &err);
			if (ret && !d->failed)
				fprintf(stderr, "kheald: %s: %s\n",
					d->src[i].ops->name,
					kheal_err_str(&err, ret));
		}
		if (pfd[1].revents && !d->failed)
			tick(d, timerfd);
		if (pfd[2 + d->nsrc].revents && !d->failed) {
			err.msg[0] = '\0';
			ret = kheal_ctl_handle(&d->ctl, &err);
			if (ret && !d->failed)
				fprintf(stderr, "kheald: control socket: %s\n",
					kheal_err_str(&err, ret));
		}
		flush_outputs(d);
		if (pfd[0].revents &&
		    read(sigfd, &si, sizeof(si)) == sizeof(si))
			return si.ssi_signo;
	}
	return 0;
}

/*
 * auto: the module if its family is registered now, else the probes.
 * Says which and why, on stderr and in the state file.
 */
static void choose_engine(struct daemon *d)
{
	const char *name = kheal_engine_name(d->o.engine->id);
	struct kheal_err err = { "" };
	struct kheal_genl g;
	int ret;

	d->engine = d->o.engine;
	if (d->engine->id != KHEAL__ENGINE__ENGINE_AUTO) {
		snprintf(d->reason, sizeof(d->reason), "--engine=%s", name);
	} else {
		ret = kheal_genl_open(&g, &err);
		if (!ret) {
			ret = kheal_genl_resolve(&g, &err);
			kheal_genl_close(&g);
		}
		d->engine = engine_of(ret ? KHEAL__ENGINE__ENGINE_BPF :
					    KHEAL__ENGINE__ENGINE_KMOD);
		if (!ret)
			snprintf(d->reason, sizeof(d->reason),
				 "--engine=auto: kheal.ko is loaded (generic netlink family \"%s\" found)",
				 KHEAL_GENL_NAME);
		else if (ret == -ENOENT)
			snprintf(d->reason, sizeof(d->reason),
				 "--engine=auto: kheal.ko is not loaded (no generic netlink family \"%s\")",
				 KHEAL_GENL_NAME);
		else
			snprintf(d->reason, sizeof(d->reason),
				 "--engine=auto: cannot ask generic netlink for kheal.ko (%s)",
				 kheal_err_str(&err, ret));
	}
	fprintf(stderr, "kheald: engine %s (%s)\n",
		kheal_engine_name(d->engine->id), d->reason);
}

/* The journal, signed with its key, which the first start makes. */
static int journal_open(struct daemon *d, struct kheal_err *err)
{
	uint8_t key[KHEAL_JOURNAL_KEY_BYTES];
	char own[4096];
	const char *path = d->o.key;
	int ret;

	if (!path) {
		if (snprintf(own, sizeof(own), "%s%s", d->o.journal,
			     KHEAL_JOURNAL_KEY_SUFFIX) >= (int)sizeof(own))
			return kheal_err_set(err, ENAMETOOLONG,
					     "%s: path too long", d->o.journal);
		path = own;
	}
	ret = kheal_make_parents(d->o.journal, err);
	if (!ret)
		ret = kheal_journal_key_load(path, true, key, err);
	if (!ret)
		ret = kheal_journal_open(&d->journal, d->o.journal, key, err);
	explicit_bzero(key, sizeof(key));
	if (!ret && d->journal.head_kept)
		fprintf(stderr,
			"kheald: journal %s: %s; the anchor is kept as it is, as evidence, and no longer updated: check with 'khealctl journal verify', then move %s away to anchor the journal anew at the next start\n",
			d->o.journal, d->journal.head_why.msg,
			d->journal.head_path);
	return ret;
}

/* What acts on the host, from the options. */
static int exec_ctx(struct daemon *d, struct kheal_err *err)
{
	const char *root = d->o.cgroup_root;

	if (!root)
		root = kheal_cgroup_find_root("/proc/self/mounts",
					      d->cgroup_root,
					      sizeof(d->cgroup_root));
	else if (snprintf(d->cgroup_root, sizeof(d->cgroup_root), "%s",
			  root) >= (int)sizeof(d->cgroup_root))
		return kheal_err_set(err, ENAMETOOLONG, "--cgroup-root %s: too long",
				     root);
	if (!root)
		fprintf(stderr,
			"kheald: no cgroup2 mount: cgroup actions will fail (mount one, or give --cgroup-root)\n");
	d->exec = (struct kheal_exec_ctx){
		.cgroup_root = root ? d->cgroup_root : NULL,
		.proc_root = "/proc",
		.self = getpid(),
		.memtrack = d->o.psi ? &d->memtrack : NULL,
	};
	kheal_memtrack_init(&d->memtrack, d->exec.proc_root,
			    d->exec.cgroup_root, KHEAL_MEMTRACK_WINDOW_MS);
	d->psi = (struct kheal_psi_config){
		.stall_us = d->o.psi_stall_ms * 1000,
		.window_us = d->o.psi_window_ms * 1000,
		.cgroups = d->o.psi_cgroups,
		.ncgroups = d->o.npsi_cgroups,
		.cgroup_root = d->exec.cgroup_root,
		.proc_root = d->exec.proc_root,
		.self = d->exec.self,
		.memtrack = &d->memtrack,
	};
	return 0;
}

static struct kheal_brain_cfg brain_cfg(const struct daemon *d)
{
	return (struct kheal_brain_cfg){
		.profile = d->o.profile,
		.runbooks_dir = d->o.runbooks,
		.drafts_dir = d->o.drafts,
		.dry_run = d->o.dry_run,
		.exec_ctx = (void *)&d->exec,
		.approval_ttl_ms = KHEAL_BRAIN_APPROVAL_TTL_MS,
	};
}

/*
 * The brain, its ids resuming after the journal's, and the control
 * socket khealctl talks to. Readers are the group kheal, if there is one.
 */
static int brain_start(struct daemon *d, struct kheal_err *err)
{
	struct kheal_brain_cfg cfg = brain_cfg(d);
	uint64_t incident, approval;
	struct group *gr;
	int ret;

	ret = exec_ctx(d, err);
	if (!ret)
		ret = kheal_brain_journal_ids(d->o.journal, &incident,
					      &approval, err);
	if (ret)
		return kheal_err_wrap(err, ret, "journal %s", d->o.journal);
	cfg.first_incident = incident + 1;
	cfg.first_approval = approval + 1;
	ret = kheal_brain_init(&d->brain, &cfg, &brain_ops, d, err);
	if (ret)
		return ret;
	d->brain_up = true;
	fprintf(stderr, "kheald: profile %s, %zu runbooks from %s%s\n",
		kheal_profile_name(d->o.profile), d->brain.runbooks.n,
		d->o.runbooks, d->o.dry_run ? ", dry run: no action is taken" : "");
	ret = kheal_make_parents(d->o.socket, err);
	if (ret)
		return ret;
	gr = getgrnam("kheal");
	if (!gr)
		fprintf(stderr,
			"kheald: no group kheal: the control socket %s is for root only (groupadd --system kheal to let its members read)\n",
			d->o.socket);
	ret = kheal_ctl_listen(&d->ctl, d->o.socket, gr ? gr->gr_gid : (gid_t)-1,
			       kheal_brain_ctl_ops, kheal_brain_ctl_nops,
			       &d->brain, err);
	if (ret)
		return kheal_err_wrap(err, ret, "control socket %s", d->o.socket);
	d->ctl_up = true;
	return 0;
}

/*
 * What was reported just before a restart is remembered, so that the
 * other engine's report of it just after is merged, not journalled
 * twice. Without it merging still works, only from an empty memory.
 */
static void load_dedupe(struct daemon *d)
{
	struct kheal_err err = { "" };
	int n;

	n = kheal_dedupe_load_journal(&d->dedupe, d->o.journal,
				      boottime_ns(), &err);
	if (n < 0)
		fprintf(stderr,
			"kheald: merging: %s; starting with nothing remembered:"
			" a fault reported just before this start may be"
			" journalled twice\n", kheal_err_str(&err, n));
	else if (n)
		fprintf(stderr,
			"kheald: merging: read back the journal's last %" PRIu64
			" ms: %d events\n", d->dedupe.window_ns / 1000000, n);
}

/* The next source, resuming after the journal's last seq of its own. */
static int open_source(struct daemon *d, const struct kheal_source_ops *ops,
		       struct kheal_err *err)
{
	const struct kheal_journal_summary *sum = &d->journal.sum;
	struct kheal_source *src = &d->src[d->nsrc];
	int ret;

	*src = (struct kheal_source){
		.ops = ops,
		.cb = {
			.event = on_event,
			.gap = on_gap,
			.note = on_note,
			.arg = d,
		},
		.cfg = {
			.hung_ms = d->o.hung_ms,
			.hung_ms_set = d->o.hung_ms_set,
			.ringbuf_kb = d->o.ringbuf_kb,
			.psi = &d->psi,
		},
		.resume = ops->id == KHEAL_SOURCE_BPF ? sum->bpf_resume :
			  ops->id == KHEAL_SOURCE_PSI ? sum->psi_resume :
			  ops->id == KHEAL_SOURCE_KMSG ? sum->kmsg_resume :
			  sum->resume,
	};
	ret = ops->open(src, err);
	if (ret)
		return kheal_err_wrap(err, ret, "%s", ops->name);
	d->nsrc++;
	flush_outputs(d);
	return 0;
}

static int start(struct daemon *d, struct kheal_err *err)
{
	size_t i;
	int fd, ret;

	d->pidfd = pidfile_open(d->o.pidfile, err);
	if (d->pidfd < 0)
		return d->pidfd;
	ret = journal_open(d, err);
	if (ret)
		return ret;
	if (d->journal.torn)
		fprintf(stderr,
			"kheald: journal %s: cut a torn record of %" PRIu64
			" bytes at offset %" PRIu64 " (a crash during a write);"
			" the %" PRIu64 " records before it are kept\n",
			d->o.journal, d->journal.torn, d->journal.torn_at,
			d->journal.sum.records);
	ret = kheal_make_parents(d->o.log, err);
	if (ret)
		return ret;
	fd = open(d->o.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	d->log = fd >= 0 ? fdopen(fd, "a") : NULL;
	if (!d->log) {
		ret = kheal_err_set(err, errno, "log %s: %s", d->o.log,
				    strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	ret = kheal_make_parents(d->o.state, err);
	if (ret)
		return ret;
	ret = brain_start(d, err);
	if (ret)
		return ret;
	choose_engine(d);
	d->merge = d->engine->ops[1] != NULL;
	kheal_dedupe_init(&d->dedupe, kheal_dedupe_window_ms(d->o.hung_ms));
	if (d->merge)
		load_dedupe(d);
	for (i = 0; i < MAX_SOURCES && d->engine->ops[i] && !ret; i++)
		ret = open_source(d, d->engine->ops[i], err);
	if (d->o.psi && !ret)
		ret = open_source(d, &kheal_source_psi_ops, err);
	if (d->o.kmsg && !ret)
		ret = open_source(d, &kheal_source_kmsg_ops, err);
	if (!ret)
		write_state(d);
	return ret;
}

static void stop(struct daemon *d)
{
	size_t i;

	if (d->ctl_up)
		kheal_ctl_close(&d->ctl);
	for (i = 0; i < d->nsrc; i++)
		d->src[i].ops->close(&d->src[i]);
	kheal_memtrack_free(&d->memtrack);
	if (d->brain_up)
		kheal_brain_free(&d->brain);
	if (d->log)
		fclose(d->log);
	if (d->journal.fd >= 0 && !d->failed &&
	    kheal_journal_sync(&d->journal, &d->fatal))
		d->failed = true;
	kheal_journal_close(&d->journal);
	if (d->pidfd >= 0) {
		unlink(d->o.state);
		unlink(d->o.pidfile);
		close(d->pidfd);
	}
}

/* kheald --replay JOURNAL --dry-run: decisions on stdout, nothing else. */
static int replay(struct daemon *d)
{
	struct kheal_brain_cfg cfg;
	struct kheal_err err = { "" };
	int ret;

	ret = exec_ctx(d, &err);
	cfg = brain_cfg(d);
	if (!ret)
		ret = kheal_replay(d->o.replay, &cfg, stdout, &err);
	if (ret) {
		fprintf(stderr, "kheald: replay %s: %s\n", d->o.replay,
			kheal_err_str(&err, ret));
		return 1;
	}
	return fflush(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct daemon d = { .pidfd = -1, .journal = { .fd = -1 } };
	int sigfd = -1, timerfd = -1, signo = 0, ret;
	struct kheal_err err = { "" };

	if (parse_opts(argc, argv, &d.o)) {
		fprintf(stderr, "kheald: try 'kheald --help'\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (d.o.replay)
		return replay(&d);
	ret = open_fds(&sigfd, &timerfd, &err);
	if (!ret)
		ret = start(&d, &err);
	if (!ret)
		signo = run(&d, sigfd, timerfd);
	stop(&d);
	if (ret)
		fprintf(stderr, "kheald: %s\n", kheal_err_str(&err, ret));
	if (d.failed)
		fprintf(stderr, "kheald: %s\n", kheal_err_str(&d.fatal, -EIO));
	if (d.o.stats || signo == SIGTERM)
		print_stats(&d);
	if (sigfd >= 0)
		close(sigfd);
	if (timerfd >= 0)
		close(timerfd);
	return ret || d.failed ? 1 : 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * kheald: the kheal agent. It reads events from its sources and, for
 * each, prints a JSON line, appends it to the JSON log and journals it.
 * The daemon owns the main loop: poll() on a signalfd, a 1 s timerfd and
 * each source's fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
#include <unistd.h>

#include "event.h"
#include "journal.h"
#include "record.h"
#include "source_kmod.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static const struct kheal_source_ops *const source_ops[] = {
	&kheal_source_kmod_ops,
};
#define NSOURCES	ARRAY_SIZE(source_ops)

struct opts {
	const char *journal;
	const char *log;
	const char *pidfile;
	bool quiet;
	bool stats;
};

struct daemon {
	struct opts o;
	struct kheal_journal journal;
	FILE *log;
	int pidfd;
	bool stdout_broken;
	bool failed;			/* the journal failed: stop */
	struct kheal_err fatal;
	struct kheal_source src[NSOURCES];
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: kheald [OPTIONS]\n"
		"Reads kernel health events, prints them as JSON lines, logs and journals them.\n"
		"\n"
		"  --journal PATH   journal file (default /var/lib/kheal/journal)\n"
		"  --log PATH       JSON lines log (default /var/log/kheal/events.jsonl)\n"
		"  --pidfile PATH   pid file (default /run/kheal/kheald.pid)\n"
		"  --quiet          print no events on stdout\n"
		"  --stats          print counters to stderr on exit\n"
		"  -h, --help       this help\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "journal",	required_argument,	NULL, 'J' },
		{ "log",	required_argument,	NULL, 'L' },
		{ "pidfile",	required_argument,	NULL, 'P' },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "stats",	no_argument,		NULL, 's' },
		{ "help",	no_argument,		NULL, 'h' },
		{ 0 }
	};
	int c;

	*o = (struct opts){
		.journal = "/var/lib/kheal/journal",
		.log = "/var/log/kheal/events.jsonl",
		.pidfile = "/run/kheal/kheald.pid",
	};
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'J':
			o->journal = optarg;
			break;
		case 'L':
			o->log = optarg;
			break;
		case 'P':
			o->pidfile = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 's':
			o->stats = true;
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
	return 0;
}

/* Creates the directories above @path, as mkdir -p would. */
static int make_parents(const char *path, struct kheal_err *err)
{
	char dir[4096];
	char *p;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return kheal_err_set(err, ENAMETOOLONG, "%s: path too long",
				     path);
	for (p = strchr(dir + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return kheal_err_set(err, errno, "creating %s: %s",
					     dir, strerror(errno));
		*p = '/';
	}
	return 0;
}

static int pidfile_open(const char *path, struct kheal_err *err)
{
	char buf[32] = "";
	int fd, ret;

	ret = make_parents(path, err);
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

static int on_event(const struct kheal_event *ev, void *arg)
{
	char line[KHEAL_EVENT_LINE_MAX];
	struct daemon *d = arg;
	Kheal__Record rec;
	Kheal__Event pe;
	int len;

	len = kheal_event_json(ev, line, sizeof(line));
	if (len > 0)
		emit(d, line, len);
	kheal_record_event(&rec, &pe, ev);
	return journal(d, &rec);
}

static int on_gap(const struct kheal_gap *gap, void *arg)
{
	char line[KHEAL_EVENT_LINE_MAX];
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

	for (i = 0; i < NSOURCES; i++) {
		s = &d->src[i].stats;
		fprintf(stderr, "kheald: stats: source=%s received=%" PRIu64
			" backfilled=%" PRIu64 " duplicates=%" PRIu64
			" lost=%" PRIu64 " enobufs=%" PRIu64 " stale=%" PRIu64
			"\n", source_ops[i]->name, s->received, s->backfilled,
			s->duplicates, s->lost, s->enobufs, s->stale);
	}
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
	for (i = 0; i < NSOURCES && !d->failed; i++) {
		err.msg[0] = '\0';
		ret = d->src[i].ops->tick(&d->src[i], &err);
		if (ret && !d->failed)
			fprintf(stderr, "kheald: %s: %s\n", source_ops[i]->name,
				kheal_err_str(&err, ret));
	}
	if (!d->failed && kheal_journal_sync(&d->journal, &d->fatal))
		d->failed = true;
}

/* Runs until a signal or a journal failure; returns the signal or 0. */
static int run(struct daemon *d, int sigfd, int timerfd)
{
	struct pollfd pfd[2 + NSOURCES];
	struct signalfd_siginfo si;
	struct kheal_err err;
	size_t i;
	int ret;

	pfd[0] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = timerfd, .events = POLLIN };
	while (!d->failed) {
		for (i = 0; i < NSOURCES; i++)
			pfd[2 + i] = (struct pollfd){
				.fd = d->src[i].ops->fd(&d->src[i]),
				.events = POLLIN,
			};
		if (poll(pfd, ARRAY_SIZE(pfd), -1) < 0) {
			if (errno == EINTR)
				continue;
			kheal_err_set(&d->fatal, errno, "poll: %s",
				      strerror(errno));
			d->failed = true;
			break;
		}
		for (i = 0; i < NSOURCES && !d->failed; i++) {
			if (!pfd[2 + i].revents)
				continue;
			err.msg[0] = '\0';
			ret = d->src[i].ops->handle(&d->src[i], &err);
			if (ret && !d->failed)
				fprintf(stderr, "kheald: %s: %s\n",
					source_ops[i]->name,
					kheal_err_str(&err, ret));
		}
		if (pfd[1].revents && !d->failed)
			tick(d, timerfd);
		flush_outputs(d);
		if (pfd[0].revents &&
		    read(sigfd, &si, sizeof(si)) == sizeof(si))
			return si.ssi_signo;
	}
	return 0;
}

static int start(struct daemon *d, struct kheal_err *err)
{
	size_t i;
	int fd, ret;

	d->pidfd = pidfile_open(d->o.pidfile, err);
	if (d->pidfd < 0)
		return d->pidfd;
	ret = make_parents(d->o.journal, err);
	if (!ret)
		ret = kheal_journal_open(&d->journal, d->o.journal, err);
	if (ret)
		return ret;
	if (d->journal.torn)
		fprintf(stderr,
			"kheald: journal %s: cut a torn record of %" PRIu64
			" bytes at offset %" PRIu64 " (a crash during a write);"
			" the %" PRIu64 " records before it are kept\n",
			d->o.journal, d->journal.torn, d->journal.torn_at,
			d->journal.sum.records);
	ret = make_parents(d->o.log, err);
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
	for (i = 0; i < NSOURCES; i++) {
		d->src[i] = (struct kheal_source){
			.ops = source_ops[i],
			.cb = {
				.event = on_event,
				.gap = on_gap,
				.note = on_note,
				.arg = d,
			},
			.resume = d->journal.sum.resume,
		};
		ret = source_ops[i]->open(&d->src[i], err);
		if (ret)
			return kheal_err_wrap(err, ret, "%s",
					      source_ops[i]->name);
		flush_outputs(d);
	}
	return 0;
}

static void stop(struct daemon *d)
{
	size_t i;

	for (i = 0; i < NSOURCES; i++)
		if (d->src[i].ops)
			d->src[i].ops->close(&d->src[i]);
	if (d->log)
		fclose(d->log);
	if (d->journal.fd >= 0 && !d->failed &&
	    kheal_journal_sync(&d->journal, &d->fatal))
		d->failed = true;
	kheal_journal_close(&d->journal);
	if (d->pidfd >= 0) {
		unlink(d->o.pidfile);
		close(d->pidfd);
	}
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

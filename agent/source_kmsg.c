// SPDX-License-Identifier: GPL-2.0
/*
 * The kmsg event source: rules on the kernel log (/dev/kmsg) for the
 * faults that no tracepoint reports: soft lockups (the watchdog only
 * prints), oopses and WARNs. RCU stalls have a tracepoint, which kheal.ko
 * and the BPF engine probe with a checkpoint and the stalled task: this
 * source leaves them out rather than report them twice.
 *
 * Numbering: the instance is this boot (64 bits of its boot id), the seq
 * the kernel log's own sequence number plus one. So numbers never repeat
 * within a boot, and have holes: the lines that are no event. Restarted,
 * kheald reads the log from its oldest record again and skips every
 * record up to the last one it journalled in this boot: nothing is
 * reported twice, and what the kernel logged while kheald was down is
 * still reported, if the log has not overwritten it.
 *
 * An event's time_ns is the record's timestamp, local_clock(): it is
 * CLOCK_BOOTTIME less the time spent suspended.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source_kmsg.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define SET(ev, a)	((ev)->present |= 1ULL << KHEAL_A_##a)

/* /dev/kmsg refuses a read too small for its record: 8 KiB suffices. */
#define KMSG_BUF	16384
/* A rule looks at this much of a line. */
#define KMSG_LINE_MAX	1024

struct kmsg_src {
	struct kheal_source *src;
	int fd;
	uint64_t instance;
	uint64_t last_seq;		/* of the last record read, + 1 */
	size_t len;			/* bytes held in buf */
	bool skip_line;			/* the rest of an overlong line */
	char buf[KMSG_BUF];
};

static void note(struct kmsg_src *k, const char *msg)
{
	if (k->src->cb.note)
		k->src->cb.note(msg, k->src->cb.arg);
}

int kheal_kmsg_parse(const char *line, size_t len,
		     struct kheal_kmsg_record *rec, struct kheal_err *err)
{
	char head[128], *p, *end;
	const char *semi = memchr(line, ';', len);
	size_t n;

	if (!semi || (n = semi - line) >= sizeof(head))
		return kheal_err_set(err, EBADMSG,
				     "kernel log record without a 'PRIO,SEQ,TS;' prefix: '%.40s'",
				     line);
	memcpy(head, line, n);
	head[n] = '\0';
	p = head;
	errno = 0;
	rec->prio = strtoul(p, &end, 10);
	if (end == p || *end != ',')
		goto bad;
	p = end + 1;
	rec->seq = strtoull(p, &end, 10);
	if (end == p || *end != ',')
		goto bad;
	p = end + 1;
	rec->ts_us = strtoull(p, &end, 10);
	if (end == p || (*end != ',' && *end != '\0') || errno)
		goto bad;
	rec->text = semi + 1;
	rec->len = len - n - 1;
	return 0;
bad:
	return kheal_err_set(err, EBADMSG,
			     "kernel log record with a bad prefix '%s'", head);
}

/*
 * "watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [kheal-lockup:93]".
 * A comm may hold ':' and ']': the pid follows the last ':'.
 */
static bool soft_lockup(const char *at, struct kheal_event *ev)
{
	unsigned int cpu, secs, pid;
	const char *open, *colon, *close;
	int n = 0;

	if (sscanf(at, "soft lockup - CPU#%u stuck for %us! [%n", &cpu, &secs,
		   &n) != 2 || !n)
		return false;
	open = at + n;
	close = strrchr(open, ']');
	colon = close ? memrchr(open, ':', close - open) : NULL;
	if (colon && sscanf(colon + 1, "%u]", &pid) == 1) {
		snprintf(ev->comm, sizeof(ev->comm), "%.*s",
			 (int)(colon - open), open);
		ev->pid = pid;
		SET(ev, COMM);
		SET(ev, PID);
	}
	ev->duration_ms = (uint64_t)secs * 1000;
	SET(ev, DURATION_MS);
	snprintf(ev->detail, sizeof(ev->detail), "CPU#%u stuck for %us", cpu,
		 secs);
	SET(ev, DETAIL);
	return true;
}

/* "WARNING: CPU: 1 PID: 93 at drivers/foo.c:12 foo+0x1/0x2 [mod]" */
static bool warning(const char *at, struct kheal_event *ev)
{
	unsigned int cpu, pid;
	int n = 0;

	if (sscanf(at, "CPU: %u PID: %u at %n", &cpu, &pid, &n) != 2 || !n)
		return false;
	ev->pid = pid;
	SET(ev, PID);
	snprintf(ev->detail, sizeof(ev->detail), "WARNING at %s", at + n);
	SET(ev, DETAIL);
	return true;
}

/* The line as it is: "Oops: 0002 [#1] PREEMPT SMP", "kernel BUG at..." */
static bool whole_line(const char *at, struct kheal_event *ev)
{
	(void)at;
	SET(ev, DETAIL);
	return true;
}

/*
 * The rules, tried in order on the first line of each record. @prefix
 * must start the text, after an optional "subsystem: " tag of the
 * printk's pr_fmt (the watchdog's "watchdog: "); fill gets what follows
 * it, and ev->detail holds the whole line when it is called.
 */
static const struct kmsg_rule {
	const char *name;
	const char *tag;		/* pr_fmt prefix, or NULL */
	const char *prefix;
	uint32_t kind;
	uint32_t severity;
	bool (*fill)(const char *at, struct kheal_event *ev);
} rules[] = {
	{ "soft-lockup", "watchdog: ", "BUG: ", KHEAL_EVENT_SOFT_LOCKUP,
	  KHEAL_SEV_CRITICAL, soft_lockup },
	{ "oops", NULL, "Oops: ", KHEAL_EVENT_OOPS, KHEAL_SEV_CRITICAL,
	  whole_line },
	{ "kernel-bug", NULL, "kernel BUG at ", KHEAL_EVENT_OOPS,
	  KHEAL_SEV_CRITICAL, whole_line },
	{ "bad-access", NULL, "BUG: unable to handle ", KHEAL_EVENT_OOPS,
	  KHEAL_SEV_CRITICAL, whole_line },
	{ "warning", NULL, "WARNING: ", KHEAL_EVENT_OOPS, KHEAL_SEV_WARNING,
	  warning },
};

int kheal_kmsg_match(const struct kheal_kmsg_record *rec, uint64_t instance,
		     struct kheal_event *ev)
{
	char line[KMSG_LINE_MAX];
	const struct kmsg_rule *r;
	const char *at;
	size_t i, n;

	n = rec->len < sizeof(line) - 1 ? rec->len : sizeof(line) - 1;
	memcpy(line, rec->text, n);
	line[n] = '\0';
	for (i = 0; i < ARRAY_SIZE(rules); i++) {
		r = &rules[i];
		at = line;
		if (r->tag && !strncmp(at, r->tag, strlen(r->tag)))
			at += strlen(r->tag);
		if (strncmp(at, r->prefix, strlen(r->prefix)))
			continue;
		memset(ev, 0, sizeof(*ev));
		snprintf(ev->detail, sizeof(ev->detail), "%.*s",
			 (int)sizeof(ev->detail) - 1, line);
		if (!r->fill(at + strlen(r->prefix), ev))
			continue;
		ev->source = KHEAL_SOURCE_KMSG;
		ev->instance = instance;
		ev->seq = rec->seq + 1;
		ev->time_ns = rec->ts_us * 1000;
		ev->kind = r->kind;
		ev->severity = r->severity;
		snprintf(ev->subsys, sizeof(ev->subsys), "kernel");
		SET(ev, SEQ);
		SET(ev, INSTANCE);
		SET(ev, TIME_NS);
		SET(ev, KIND);
		SET(ev, SEVERITY);
		SET(ev, SUBSYS);
		return 1;
	}
	return 0;
}

int kheal_kmsg_boot_instance(const char *path, uint64_t *instance,
			     struct kheal_err *err)
{
	char id[64], hex[17];
	size_t i, n = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return kheal_err_set(err, errno, "%s: %s", path,
				     strerror(errno));
	if (!fgets(id, sizeof(id), f))
		id[0] = '\0';
	fclose(f);
	for (i = 0; id[i] && n < sizeof(hex) - 1; i++)
		if (id[i] != '-')
			hex[n++] = id[i];
	hex[n] = '\0';
	if (n < sizeof(hex) - 1 || sscanf(hex, "%16" SCNx64, instance) != 1)
		return kheal_err_set(err, EBADMSG, "%s: not a boot id: '%s'",
				     path, id);
	return 0;
}

/* One line of the log: the first of a record, or a continuation. */
static int line(struct kmsg_src *k, const char *s, size_t len,
		struct kheal_err *err)
{
	struct kheal_source *src = k->src;
	const struct kheal_seq *r = &src->resume;
	struct kheal_kmsg_record rec;
	struct kheal_event ev;
	struct kheal_err perr;
	char msg[KHEAL_SOURCE_REASON_LEN];
	int ret;

	/* Continuation lines (" SUBSYSTEM=...") carry no fault. */
	if (!len || s[0] == ' ')
		return 0;
	if (kheal_kmsg_parse(s, len, &rec, &perr)) {
		snprintf(msg, sizeof(msg), "kmsg: %.*s",
			 (int)sizeof(msg) - 7, perr.msg);
		note(k, msg);
		return 0;
	}
	k->last_seq = rec.seq + 1;
	if (r->known && r->instance == k->instance && rec.seq + 1 <= r->last)
		return 0;
	if (!kheal_kmsg_match(&rec, k->instance, &ev))
		return 0;
	src->stats.received++;
	ret = src->cb.event(&ev, src->cb.arg);
	if (ret)
		return kheal_err_set(err, -ret, "delivering kernel log record %" PRIu64,
				     rec.seq);
	return 0;
}

/* Splits what buf holds into lines; keeps an unfinished last one. */
static int lines(struct kmsg_src *k, struct kheal_err *err)
{
	char *p = k->buf, *end = k->buf + k->len, *nl;
	int ret = 0;

	while (!ret && (nl = memchr(p, '\n', end - p))) {
		if (!k->skip_line)
			ret = line(k, p, nl - p, err);
		k->skip_line = false;
		p = nl + 1;
	}
	k->len = end - p;
	memmove(k->buf, p, k->len);
	if (k->len == sizeof(k->buf)) {
		/* No record is this long: drop it, to its newline. */
		k->len = 0;
		k->skip_line = true;
	}
	return ret;
}

static int kmsg_handle(struct kheal_source *src, struct kheal_err *err)
{
	struct kmsg_src *k = src->priv;
	ssize_t n;
	int ret;

	for (;;) {
		n = read(k->fd, k->buf + k->len, sizeof(k->buf) - k->len);
		if (n == 0)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0 && errno == EPIPE) {
			/* The next read gives the oldest record left. */
			note(k, "kmsg: the kernel log overwrote records before kheald read them; a soft lockup or oops among them is not reported");
			continue;
		}
		if (n < 0)
			return kheal_err_set(err, errno, "reading %s: %s",
					     KHEAL_KMSG_PATH, strerror(errno));
		k->len += n;
		ret = lines(k, err);
		if (ret)
			return ret;
	}
}

int kheal_source_kmsg_attach(struct kheal_source *src, int fd,
			     uint64_t instance, struct kheal_err *err)
{
	struct kmsg_src *k = calloc(1, sizeof(*k));

	if (!k)
		return kheal_err_set(err, ENOMEM, "kmsg source: out of memory");
	k->src = src;
	k->fd = fd;
	k->instance = instance;
	src->priv = k;
	return 0;
}

static int kmsg_open(struct kheal_source *src, struct kheal_err *err)
{
	uint64_t instance;
	int fd, ret;

	ret = kheal_kmsg_boot_instance(KHEAL_KMSG_BOOT_ID, &instance, err);
	if (ret)
		return ret;
	fd = open(KHEAL_KMSG_PATH, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return kheal_err_set(err, errno,
				     "opening %s: %s (kheald needs CAP_SYSLOG, or --no-kmsg)",
				     KHEAL_KMSG_PATH, strerror(errno));
	ret = kheal_source_kmsg_attach(src, fd, instance, err);
	if (ret)
		close(fd);
	return ret;
}

static int kmsg_fd(struct kheal_source *src)
{
	return ((struct kmsg_src *)src->priv)->fd;
}

static int kmsg_tick(struct kheal_source *src, struct kheal_err *err)
{
	(void)src;
	(void)err;
	return 0;
}

static void kmsg_state(struct kheal_source *src, struct kheal_source_state *st)
{
	struct kmsg_src *k = src->priv;

	*st = (struct kheal_source_state){
		.attached = true,
		.instance = k->instance,
		.last_seq = k->last_seq,
	};
}

static void kmsg_close(struct kheal_source *src)
{
	struct kmsg_src *k = src->priv;

	if (!k)
		return;
	close(k->fd);
	free(k);
	src->priv = NULL;
}

const struct kheal_source_ops kheal_source_kmsg_ops = {
	.name	= "kmsg",
	.id	= KHEAL_SOURCE_KMSG,
	.open	= kmsg_open,
	.fd	= kmsg_fd,
	.handle	= kmsg_handle,
	.tick	= kmsg_tick,
	.state	= kmsg_state,
	.close	= kmsg_close,
};

// SPDX-License-Identifier: GPL-2.0
/*
 * The BPF event source: kheal's CO-RE probes, loaded by libkhealbpf,
 * where kheal.ko cannot be (or beside it, kheald --engine=both).
 *
 * How it keeps "nothing lost, nothing twice" without a kernel backlog:
 *  - kheald numbers the events, instance KHEAL_SOURCE_BPF_INSTANCE, seq
 *    after the last BPF seq in the journal, so numbers never repeat
 *    across restarts. What the ring buffer held when kheald stopped is
 *    gone with the probes; the probes report what happens while loaded.
 *  - The probes count the events they could not write because the ring
 *    buffer was full. Each tick turns the growth of that count into a
 *    Gap (reason ringbuf) of as many numbers: never a silent loss.
 *  - An event that does not map (a kind or severity this build does not
 *    know) is a Gap (reason malformed) of its number.
 *
 * kheald adds what the probes cannot know in the kernel: the cgroup's
 * path (a walk of the cgroup2 mount for the directory whose inode is the
 * cgroup id) and the stack's symbols (/proc/kallsyms, loaded at start
 * and again, at most once a minute, for an address it does not cover).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cgroup.h"
#include "ksyms.h"
#include "source_bpf.h"

/* Reloading kallsyms for an address it lacks: at most this often. */
#define KSYMS_RELOAD_S		60
/*
 * An address this far past the nearest symbol is taken as uncovered: a
 * module loaded after kallsyms was read. No kernel function is as long.
 */
#define KSYM_SPAN_MAX		(1 << 20)

_Static_assert(KHEAL_BPF_STACK_DEPTH <= KHEAL_STACK_DEPTH,
	       "every frame a probe takes fits an event");
_Static_assert(KHEAL_BPF_DETAIL_LEN <= KHEAL_DETAIL_LEN,
	       "a probe's detail fits an event");
_Static_assert(KHEAL_BPF_PROBE_MAX <= KHEAL_SOURCE_PROBES_MAX,
	       "every probe has a place in the source state");

struct bpf_src {
	struct kheal_source *src;
	struct kheal_bpf *kb;
	uint64_t seq;				/* the last one given */
	uint64_t rb_drops[KHEAL_BPF_PROBE_MAX];	/* already journalled */
	struct kheal_bpf_status st;		/* as of the last tick */
	int cb_ret;				/* the callback's failure */
	struct kheal_ksyms *ksyms;
	time_t ksyms_at;			/* CLOCK_MONOTONIC, s */
	bool ksyms_noted;
	char libbpf_says[160];			/* first warning, at open */
	struct kheal_cgroup_cache cg;
};

static void __attribute__((format(printf, 2, 3)))
note(struct bpf_src *b, const char *fmt, ...)
{
	struct kheal_source_cb *cb = &b->src->cb;
	char msg[512];
	va_list ap;

	if (!cb->note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cb->note(msg, cb->arg);
}

#define SET(ev, a)	((ev)->present |= 1ULL << KHEAL_A_##a)

/* A NUL-terminated copy of a string the probe may not have ended. */
static void copy_str(char *dst, size_t size, const char *src, size_t max)
{
	snprintf(dst, size, "%.*s", (int)strnlen(src, max), src);
}

int kheal_source_bpf_map(const struct kheal_bpf_event *in,
			 struct kheal_event *out, struct kheal_err *err)
{
	const char *subsys = kheal_bpf_kind_subsys(in->kind);
	const char *probe = kheal_bpf_probe_name(in->probe);

	memset(out, 0, sizeof(*out));
	if (!probe)
		return kheal_err_set(err, EBADMSG,
				     "an event from probe %" PRIu32
				     ", which this build does not know",
				     in->probe);
	if (!subsys)
		return kheal_err_set(err, EBADMSG,
				     "probe %s sent kind %" PRIu32
				     ", which has no subsystem", probe,
				     in->kind);
	if (in->severity > KHEAL_SEV_MAX)
		return kheal_err_set(err, EBADMSG,
				     "probe %s sent severity %" PRIu32
				     ", above %d", probe, in->severity,
				     KHEAL_SEV_MAX);
	out->source = KHEAL_SOURCE_BPF;
	out->instance = KHEAL_SOURCE_BPF_INSTANCE;
	out->time_ns = in->time_ns;
	out->kind = in->kind;
	out->severity = in->severity;
	snprintf(out->subsys, sizeof(out->subsys), "%s", subsys);
	SET(out, INSTANCE);
	SET(out, TIME_NS);
	SET(out, KIND);
	SET(out, SEVERITY);
	SET(out, SUBSYS);
	if (in->present & KHEAL_BPF_F_PID) {
		out->pid = in->pid;
		SET(out, PID);
		/* 0: unknown (oom_kill on kernels that pass a pid alone) */
		if (in->tgid) {
			out->tgid = in->tgid;
			SET(out, TGID);
		}
	}
	if (in->present & KHEAL_BPF_F_COMM) {
		copy_str(out->comm, sizeof(out->comm), in->comm,
			 sizeof(in->comm));
		SET(out, COMM);
	}
	if (in->present & KHEAL_BPF_F_CGROUP) {
		out->cgroup_id = in->cgroup_id;
		SET(out, CGROUP_ID);
	}
	if (in->present & KHEAL_BPF_F_DEV) {
		copy_str(out->dev, sizeof(out->dev), in->dev, sizeof(in->dev));
		SET(out, DEV);
	} else if (in->present & KHEAL_BPF_F_DEVT) {
		snprintf(out->dev, sizeof(out->dev), "%" PRIu32 ":%" PRIu32,
			 in->dev_major, in->dev_minor);
		SET(out, DEV);
	}
	if (in->present & KHEAL_BPF_F_DURATION) {
		out->duration_ms = in->duration_ms;
		SET(out, DURATION_MS);
	}
	if (in->present & KHEAL_BPF_F_RSS) {
		out->rss_kb = in->rss_kb;
		SET(out, RSS_KB);
	}
	if (in->present & KHEAL_BPF_F_OOM_CONSTRAINT) {
		out->oom_constraint = in->oom_constraint;
		SET(out, OOM_CONSTRAINT);
	}
	if (in->present & KHEAL_BPF_F_SIGNAL) {
		out->signal = in->signal;
		SET(out, SIGNAL);
	}
	if (in->present & KHEAL_BPF_F_ERROR) {
		out->errnum = in->error < 0 ? -(int64_t)in->error : in->error;
		SET(out, ERRNO);
	}
	if (in->present & KHEAL_BPF_F_QUEUE) {
		out->queue = in->queue;
		SET(out, QUEUE);
	}
	if (in->present & KHEAL_BPF_F_DETAIL) {
		copy_str(out->detail, sizeof(out->detail), in->detail,
			 sizeof(in->detail));
		SET(out, DETAIL);
	} else if (in->present & KHEAL_BPF_F_CORE_DUMPED) {
		snprintf(out->detail, sizeof(out->detail), "core dumped");
		SET(out, DETAIL);
	}
	return 0;
}

static time_t now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void load_ksyms(struct bpf_src *b)
{
	struct kheal_ksyms *ks;

	b->ksyms_at = now_s();
	ks = kheal_ksyms_load(NULL);
	if (!ks) {
		if (!b->ksyms_noted)
			note(b, "reading /proc/kallsyms: %s%s; stacks show addresses",
			     strerror(errno), errno == EPERM ?
			     " (kptr_restrict, or no CAP_SYSLOG)" : "");
		b->ksyms_noted = true;
		return;
	}
	kheal_ksyms_free(b->ksyms);
	b->ksyms = ks;
}

static bool covered(const struct kheal_ksyms *ks, uint64_t addr)
{
	const struct kheal_ksym *s = ks ? kheal_ksyms_find(ks, addr) : NULL;

	return s && addr - s->addr < KSYM_SPAN_MAX;
}

static void add_frame(struct bpf_src *b, struct kheal_event *ev,
		      const struct kheal_event_field *f, uint64_t addr)
{
	char frame[KHEAL_STACK_FRAME_LEN];

	if (!covered(b->ksyms, addr) &&
	    now_s() - b->ksyms_at >= KSYMS_RELOAD_S)
		load_ksyms(b);
	if (covered(b->ksyms, addr))
		kheal_ksyms_format(b->ksyms, addr, frame, sizeof(frame));
	else
		snprintf(frame, sizeof(frame), "0x%" PRIx64, addr);
	kheal_event_strv_add(ev, f, frame, strlen(frame));
}

static int lose(struct bpf_src *b, uint64_t first, uint64_t last,
		enum kheal_gap_reason reason)
{
	struct kheal_gap gap = {
		.source = KHEAL_SOURCE_BPF,
		.instance = KHEAL_SOURCE_BPF_INSTANCE,
		.first = first,
		.last = last,
		.reason = reason,
	};

	b->src->stats.lost += last - first + 1;
	return b->src->cb.gap(&gap, b->src->cb.arg);
}

static int deliver(struct bpf_src *b, const struct kheal_bpf_event *in)
{
	const struct kheal_event_field *stack =
		kheal_event_field(KHEAL_A_STACK);
	struct kheal_event ev;
	struct kheal_err perr;
	const char *path;
	uint32_t i;

	b->seq++;
	if (kheal_source_bpf_map(in, &ev, &perr)) {
		note(b, "BPF event %" PRIu64 " is malformed and recorded as lost: %s",
		     b->seq, perr.msg);
		return lose(b, b->seq, b->seq, KHEAL_GAP_MALFORMED);
	}
	ev.seq = b->seq;
	SET(&ev, SEQ);
	path = kheal_event_has(&ev, KHEAL_A_CGROUP_ID) ?
	       kheal_cgroup_path(&b->cg, ev.cgroup_id) : NULL;
	if (path) {
		snprintf(ev.cgroup_path, sizeof(ev.cgroup_path), "%s", path);
		SET(&ev, CGROUP_PATH);
	}
	if (in->present & KHEAL_BPF_F_STACK)
		for (i = 0; i < in->stack_depth && i < KHEAL_BPF_STACK_DEPTH;
		     i++)
			add_frame(b, &ev, stack, in->stack[i]);
	b->src->stats.received++;
	return b->src->cb.event(&ev, b->src->cb.arg);
}

static int on_bpf_event(const struct kheal_bpf_event *in, void *ctx)
{
	struct bpf_src *b = ctx;

	b->cb_ret = deliver(b, in);
	return b->cb_ret;
}

static int bpf_handle(struct kheal_source *src, struct kheal_err *err)
{
	struct bpf_src *b = src->priv;
	int ret;

	b->cb_ret = 0;
	ret = kheal_bpf_handle(b->kb);
	if (ret >= 0 || ret == b->cb_ret)
		return ret < 0 ? ret : 0;
	return kheal_err_set(err, -ret, "handling the BPF probes' events: %s",
			     strerror(-ret));
}

/* The ring buffer's drops since the last tick, journalled as a gap. */
static int bpf_tick(struct kheal_source *src, struct kheal_err *err)
{
	struct bpf_src *b = src->priv;
	char probes[256] = "";
	uint64_t lost = 0, d;
	size_t len = 0;
	unsigned int p;
	int ret;

	ret = kheal_bpf_status(b->kb, &b->st);
	if (ret)
		return kheal_err_set(err, -ret,
				     "reading the BPF probes' counters: %s",
				     strerror(-ret));
	for (p = 0; p < KHEAL_BPF_PROBE_MAX; p++) {
		d = b->st.probes[p].rb_drops - b->rb_drops[p];
		if (!d)
			continue;
		b->rb_drops[p] = b->st.probes[p].rb_drops;
		lost += d;
		if (len < sizeof(probes))
			len += snprintf(probes + len, sizeof(probes) - len,
					"%s%s %" PRIu64, len ? ", " : "",
					b->st.probes[p].name, d);
	}
	if (!lost)
		return 0;
	note(b, "the BPF ring buffer was full: %" PRIu64
	     " events lost (%s); journalled as seq %" PRIu64 "..%" PRIu64,
	     lost, probes, b->seq + 1, b->seq + lost);
	b->seq += lost;
	return lose(b, b->seq - lost + 1, b->seq, KHEAL_GAP_RINGBUF);
}

static void bpf_state(struct kheal_source *src, struct kheal_source_state *st)
{
	struct bpf_src *b = src->priv;
	const struct kheal_bpf_probe_status *ps;
	struct kheal_probe_state *out;
	unsigned int p;

	*st = (struct kheal_source_state){
		.attached = true,
		.instance = KHEAL_SOURCE_BPF_INSTANCE,
		.last_seq = b->seq,
	};
	for (p = 0; p < KHEAL_BPF_PROBE_MAX; p++) {
		ps = &b->st.probes[p];
		if (!ps->requested)
			continue;
		out = &st->probes[st->nprobes++];
		out->name = ps->name;
		out->attached = ps->attached;
		out->events = ps->delivered;
		snprintf(out->reason, sizeof(out->reason), "%s",
			 ps->attached ? "" : ps->reason);
	}
}

static void bpf_close(struct kheal_source *src)
{
	struct bpf_src *b = src->priv;

	if (!b)
		return;
	kheal_bpf_close(b->kb);
	kheal_ksyms_free(b->ksyms);
	free(b);
	src->priv = NULL;
}

/* libbpf's first warning says why a load failed. */
static void on_libbpf(enum kheal_bpf_log_level level, const char *msg,
		      void *ctx)
{
	struct bpf_src *b = ctx;

	if (level == KHEAL_BPF_LOG_WARN && !b->libbpf_says[0])
		snprintf(b->libbpf_says, sizeof(b->libbpf_says), "%s", msg);
}

static int bpf_open(struct kheal_source *src, struct kheal_err *err)
{
	struct kheal_bpf_config cfg = {
		.hung_ms = src->cfg.hung_ms,
		.disk_stall_ms = KHEAL_BPF_DISK_STALL_MS_DEFAULT,
		.crash_sigmask = KHEAL_BPF_CRASH_SIGMASK_DEFAULT,
	};
	struct kheal_bpf_opts opts = {
		.sz = sizeof(opts),
		.config = &cfg,
		.ringbuf_kb = src->cfg.ringbuf_kb,
		.log = on_libbpf,
	};
	char root[256];
	struct bpf_src *b;
	unsigned int p;
	int ret, e;

	b = calloc(1, sizeof(*b));
	if (!b)
		return kheal_err_set(err, ENOMEM, "allocating the bpf source");
	b->src = src;
	src->priv = b;
	opts.log_ctx = b;
	b->kb = kheal_bpf_open(&opts, on_bpf_event, b);
	if (!b->kb) {
		e = errno;
		ret = kheal_err_set(err, e, "loading the BPF probes: %s%s%s%s",
				    strerror(e), e == EPERM ?
				    " (needs root: CAP_BPF and CAP_PERFMON)" :
				    "", b->libbpf_says[0] ? "; libbpf: " : "",
				    b->libbpf_says);
		bpf_close(src);
		return ret;
	}
	ret = kheal_bpf_status(b->kb, &b->st);
	if (ret) {
		kheal_err_set(err, -ret, "reading the BPF probes' status: %s",
			      strerror(-ret));
		bpf_close(src);
		return ret;
	}
	for (p = 0; p < KHEAL_BPF_PROBE_MAX; p++) {
		b->rb_drops[p] = b->st.probes[p].rb_drops;
		if (b->st.probes[p].requested && !b->st.probes[p].attached)
			note(b, "%s; the other probes run",
			     b->st.probes[p].reason);
	}
	b->seq = src->resume.known ? src->resume.last : 0;
	load_ksyms(b);
	kheal_cgroup_init(&b->cg, kheal_cgroup_find_root("/proc/self/mounts",
							 root, sizeof(root)));
	note(b, "BPF probes: %u of %d attached, hung_ms %u, ring buffer %u KiB;"
	     " numbering after seq %" PRIu64, b->st.attached,
	     KHEAL_BPF_PROBE_MAX, cfg.hung_ms, b->st.ringbuf_kb, b->seq);
	return 0;
}

static int bpf_fd(struct kheal_source *src)
{
	struct bpf_src *b = src->priv;

	return kheal_bpf_fd(b->kb);
}

const struct kheal_source_ops kheal_source_bpf_ops = {
	.name	= "bpf",
	.id	= KHEAL_SOURCE_BPF,
	.open	= bpf_open,
	.fd	= bpf_fd,
	.handle	= bpf_handle,
	.tick	= bpf_tick,
	.state	= bpf_state,
	.close	= bpf_close,
};

// SPDX-License-Identifier: GPL-2.0
/*
 * libkhealbpf: loads each probe on its own, shares one ring buffer, one
 * config map and one counters map between them, and drives the hung-task
 * scan from a timer in the same epoll set as the ring buffer.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kheal_bpf.h"

#include "block.skel.h"
#include "crash.skel.h"
#include "hung.skel.h"
#include "net.skel.h"
#include "oom.skel.h"
#include "rcu.skel.h"

#define KHEAL_BPF_MAX_PROGS	2
#define KHEAL_BPF_SCANS		4	/* hung-task scans per threshold */
#define KHEAL_BPF_SCAN_MIN_MS	20
#define KHEAL_BPF_SCAN_MAX_MS	1000

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

/* One compiled object, holding the programs of one or more probes. */
struct kheal_bpf_skel_ops {
	const char *name;
	void *(*open)(const struct bpf_object_open_opts *opts);
	void (*destroy)(void *skel);
	struct bpf_object *(*obj)(void *skel);
	/* Sets read-only data for the probes in @mask, before load. */
	void (*prepare)(void *skel, unsigned long mask);
};

#define KHEAL_BPF_SKEL(x)						\
static void *x##_open(const struct bpf_object_open_opts *opts)		\
{									\
	return x##_bpf__open_opts(opts);				\
}									\
static void x##_destroy(void *skel)					\
{									\
	x##_bpf__destroy(skel);						\
}									\
static struct bpf_object *x##_obj(void *skel)				\
{									\
	return ((struct x##_bpf *)skel)->obj;				\
}

KHEAL_BPF_SKEL(hung)
KHEAL_BPF_SKEL(oom)
KHEAL_BPF_SKEL(block)
KHEAL_BPF_SKEL(net)
KHEAL_BPF_SKEL(rcu)
KHEAL_BPF_SKEL(crash)

static void hung_prepare(void *skel, unsigned long mask)
{
	((struct hung_bpf *)skel)->rodata->tracker_on =
		!!(mask & (1UL << KHEAL_BPF_PROBE_HUNG));
}

enum kheal_bpf_skel_id {
	SKEL_HUNG,
	SKEL_OOM,
	SKEL_BLOCK,
	SKEL_NET,
	SKEL_RCU,
	SKEL_CRASH,
	SKEL_MAX
};

#define SKEL_OPS(x, prep) { #x, x##_open, x##_destroy, x##_obj, prep }

static const struct kheal_bpf_skel_ops kheal_bpf_skels[SKEL_MAX] = {
	[SKEL_HUNG] = SKEL_OPS(hung, hung_prepare),
	[SKEL_OOM] = SKEL_OPS(oom, NULL),
	[SKEL_BLOCK] = SKEL_OPS(block, NULL),
	[SKEL_NET] = SKEL_OPS(net, NULL),
	[SKEL_RCU] = SKEL_OPS(rcu, NULL),
	[SKEL_CRASH] = SKEL_OPS(crash, NULL),
};

struct kheal_bpf_probe_desc {
	const char *name;
	enum kheal_bpf_skel_id skel;
	const char *progs[KHEAL_BPF_MAX_PROGS];
};

static const struct kheal_bpf_probe_desc kheal_bpf_probes[KHEAL_BPF_PROBE_MAX] = {
	[KHEAL_BPF_PROBE_HUNG] = {
		"hung", SKEL_HUNG, { "hung_switch", "hung_scan" } },
	[KHEAL_BPF_PROBE_HUNG_KERNEL] = {
		"hung_kernel", SKEL_HUNG, { "hung_kernel" } },
	[KHEAL_BPF_PROBE_OOM] = {
		"oom", SKEL_OOM, { "oom_mark_victim" } },
	[KHEAL_BPF_PROBE_BLOCK_ERROR] = {
		"block_error", SKEL_BLOCK, { "block_rq_error" } },
	[KHEAL_BPF_PROBE_DISK_STALL] = {
		"disk_stall", SKEL_BLOCK, { "disk_issue", "disk_complete" } },
	[KHEAL_BPF_PROBE_NETDEV_TX_TIMEOUT] = {
		"netdev_tx_timeout", SKEL_NET, { "net_tx_timeout" } },
	[KHEAL_BPF_PROBE_RCU_STALL] = {
		"rcu_stall", SKEL_RCU, { "rcu_stall" } },
	[KHEAL_BPF_PROBE_CRASH] = {
		"crash", SKEL_CRASH, { "crash_exit" } },
};

struct kheal_bpf_probe_state {
	bool requested;
	bool loaded;
	int error;
	char reason[KHEAL_BPF_REASON_LEN];
	struct bpf_link *links[KHEAL_BPF_MAX_PROGS];
	unsigned int n_links;
	__u64 delivered;
};

struct kheal_bpf {
	kheal_bpf_event_fn cb;
	void *ctx;
	kheal_bpf_log_fn log;
	void *log_ctx;

	int events_fd;
	int config_fd;
	int counters_fd;
	unsigned int ringbuf_kb;
	unsigned int page_shift;
	int ncpus;
	struct kheal_bpf_config cfg;

	void *skels[SKEL_MAX];
	struct kheal_bpf_probe_state probes[KHEAL_BPF_PROBE_MAX];
	struct bpf_link *scan_link;	/* the hung probe's iterator */
	__u64 scans;

	struct ring_buffer *rb;
	int epoll_fd;
	int timer_fd;

	/* While loading: what libbpf said, for the probe's reason. */
	struct btf *vmlinux_btf;
	char first_warn[160];
	char verifier_says[96];
};

/* libbpf's print callback is process-wide: this is who it reports to. */
static struct kheal_bpf *kheal_bpf_loading;

const char *kheal_bpf_probe_name(unsigned int probe)
{
	return probe < KHEAL_BPF_PROBE_MAX ? kheal_bpf_probes[probe].name :
					     NULL;
}

unsigned int kheal_bpf_ringbuf_kb_min(void)
{
	long page = sysconf(_SC_PAGESIZE);

	return page > 1024 ? page / 1024 : 1;
}

bool kheal_bpf_ringbuf_kb_valid(unsigned int kb)
{
	return kb >= kheal_bpf_ringbuf_kb_min() &&
	       kb <= KHEAL_BPF_RINGBUF_KB_MAX && !(kb & (kb - 1));
}

const char *kheal_bpf_kind_subsys(unsigned int kind)
{
	switch (kind) {
	case KHEAL_EVENT_HUNG_TASK:
	case KHEAL_EVENT_HUNG_TASK_RESOLVED:
	case KHEAL_EVENT_TASK_CRASH:
		return "task";
	case KHEAL_EVENT_OOM_KILL:
	case KHEAL_EVENT_MEM_PRESSURE:
		return "memory";
	case KHEAL_EVENT_NETDEV_TX_TIMEOUT:
	case KHEAL_EVENT_NETDEV_CARRIER:
		return "netdev";
	case KHEAL_EVENT_BLOCK_IO_ERROR:
	case KHEAL_EVENT_DISK_STALL:
		return "block";
	case KHEAL_EVENT_SOFT_LOCKUP:
	case KHEAL_EVENT_RCU_STALL:
	case KHEAL_EVENT_OOPS:
		return "kernel";
	default:
		return NULL;
	}
}

static void copy_trimmed(char *dst, size_t size, const char *src, size_t len)
{
	while (len && (src[len - 1] == '\n' || src[len - 1] == ' '))
		len--;
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/*
 * The verifier's verdict is the last line of its log that is not one of
 * its closing statistics.
 */
static void note_verifier_log(struct kheal_bpf *kb, const char *msg)
{
	const char *begin = strstr(msg, "-- BEGIN PROG LOAD LOG --\n");
	const char *end = strstr(msg, "-- END PROG LOAD LOG --");
	const char *line, *p;

	if (!begin || !end || end <= begin)
		return;
	begin += strlen("-- BEGIN PROG LOAD LOG --\n");
	for (p = end; p > begin;) {
		const char *eol = p;

		while (eol > begin && eol[-1] == '\n')
			eol--;
		line = eol;
		while (line > begin && line[-1] != '\n')
			line--;
		if (eol == line)
			break;
		if (strncmp(line, "processed ", 10) &&
		    strncmp(line, "verification time", 17) &&
		    strncmp(line, "stack depth", 11)) {
			copy_trimmed(kb->verifier_says,
				     sizeof(kb->verifier_says), line,
				     eol - line);
			return;
		}
		p = line;
	}
}

static int kheal_bpf_libbpf_print(enum libbpf_print_level level,
				  const char *fmt, va_list ap)
{
	struct kheal_bpf *kb = kheal_bpf_loading;
	char *msg, *text;
	va_list aq;
	int n;

	if (!kb)
		return 0;
	/* A verifier log can be long, and its verdict is at the end. */
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return 0;
	msg = malloc(n + 1);
	if (!msg)
		return 0;
	vsnprintf(msg, n + 1, fmt, ap);
	text = msg;
	/* libbpf prefixes its messages with "libbpf: ". */
	if (!strncmp(text, "libbpf: ", 8))
		text += 8;
	if (level == LIBBPF_WARN) {
		if (strstr(text, "-- BEGIN PROG LOAD LOG --"))
			note_verifier_log(kb, text);
		else if (!kb->first_warn[0])
			copy_trimmed(kb->first_warn, sizeof(kb->first_warn),
				     text, strlen(text));
	}
	if (kb->log) {
		enum kheal_bpf_log_level l = level == LIBBPF_WARN ?
			KHEAL_BPF_LOG_WARN : level == LIBBPF_INFO ?
			KHEAL_BPF_LOG_INFO : KHEAL_BPF_LOG_DEBUG;

		copy_trimmed(text, n + 1 - (text - msg), text, strlen(text));
		kb->log(l, text, kb->log_ctx);
	}
	free(msg);
	return n;
}

static void probe_fail(struct kheal_bpf *kb, unsigned int p, int err,
		       const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void probe_fail(struct kheal_bpf *kb, unsigned int p, int err,
		       const char *fmt, ...)
{
	struct kheal_bpf_probe_state *ps = &kb->probes[p];
	int n;
	va_list ap;

	if (ps->error)
		return;	/* keep the first reason */
	ps->error = err < 0 ? err : -EINVAL;
	n = snprintf(ps->reason, sizeof(ps->reason), "probe %s: ",
		     kheal_bpf_probes[p].name);
	va_start(ap, fmt);
	vsnprintf(ps->reason + n, sizeof(ps->reason) - n, fmt, ap);
	va_end(ap);
}

/*
 * A tp_btf program needs its tracepoint in the kernel's BTF; checking
 * first gives a clearer reason than the load failure would, and keeps
 * the object's other probes loadable.
 */
static int check_targets(struct kheal_bpf *kb, struct bpf_object *obj,
			 unsigned int p, const char *retarget_tp)
{
	const struct kheal_bpf_probe_desc *d = &kheal_bpf_probes[p];
	char name[128];
	unsigned int i;

	if (!kb->vmlinux_btf)
		return 0;
	for (i = 0; i < KHEAL_BPF_MAX_PROGS && d->progs[i]; i++) {
		struct bpf_program *prog;
		const char *tp, *sec;

		prog = bpf_object__find_program_by_name(obj, d->progs[i]);
		if (!prog)
			return -ENOENT;
		sec = bpf_program__section_name(prog);
		if (strncmp(sec, "tp_btf/", 7))
			continue;
		tp = i == 0 && retarget_tp ? retarget_tp : sec + 7;
		snprintf(name, sizeof(name), "btf_trace_%s", tp);
		if (btf__find_by_name_kind(kb->vmlinux_btf, name,
					   BTF_KIND_TYPEDEF) < 0) {
			probe_fail(kb, p, -ENOENT,
				   "tracepoint %s is not in this kernel (no %s in its BTF)",
				   tp, name);
			return -ENOENT;
		}
	}
	return 0;
}

static const char *retarget_for(const struct kheal_bpf_opts *o, unsigned int p)
{
	if (!o->retarget_probe || !o->retarget_tp ||
	    strcmp(o->retarget_probe, kheal_bpf_probes[p].name))
		return NULL;
	return o->retarget_tp;
}

/*
 * Opens object @s with the programs of the probes in @mask only, on the
 * shared maps, and loads it. Returns 0 with *out set, or -errno.
 */
static int try_load(struct kheal_bpf *kb, const struct kheal_bpf_opts *o,
		    enum kheal_bpf_skel_id s, unsigned long mask, void **out)
{
	const struct kheal_bpf_skel_ops *ops = &kheal_bpf_skels[s];
	static const char *const shared[] = {
		"kheal_events", "kheal_config", "kheal_counters",
	};
	const int fds[] = { kb->events_fd, kb->config_fd, kb->counters_fd };
	struct bpf_program *prog;
	struct bpf_object *obj;
	unsigned int p, i;
	void *skel;
	int err;

	kb->first_warn[0] = kb->verifier_says[0] = '\0';
	skel = ops->open(NULL);
	if (!skel)
		return -errno;
	obj = ops->obj(skel);

	bpf_object__for_each_program(prog, obj)
		bpf_program__set_autoload(prog, false);
	for (p = 0; p < KHEAL_BPF_PROBE_MAX; p++) {
		const struct kheal_bpf_probe_desc *d = &kheal_bpf_probes[p];
		const char *tp = retarget_for(o, p);

		if (d->skel != s || !(mask & (1UL << p)))
			continue;
		for (i = 0; i < KHEAL_BPF_MAX_PROGS && d->progs[i]; i++) {
			prog = bpf_object__find_program_by_name(obj,
								d->progs[i]);
			if (!prog) {
				err = -ENOENT;
				goto out_destroy;
			}
			bpf_program__set_autoload(prog, true);
			if (i == 0 && tp) {
				err = bpf_program__set_attach_target(prog, 0,
								     tp);
				if (err)
					goto out_destroy;
			}
		}
	}
	for (i = 0; i < ARRAY_SIZE(shared); i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(obj,
								   shared[i]);

		if (!map) {
			err = -ENOENT;
			goto out_destroy;
		}
		err = bpf_map__reuse_fd(map, fds[i]);
		if (err)
			goto out_destroy;
	}
	if (ops->prepare)
		ops->prepare(skel, mask);
	err = bpf_object__load(obj);
	if (err)
		goto out_destroy;
	*out = skel;
	return 0;

out_destroy:
	ops->destroy(skel);
	return err;
}

static void load_failed(struct kheal_bpf *kb, unsigned int p, int err)
{
	if (kb->verifier_says[0])
		probe_fail(kb, p, err, "load failed (%s): %s; verifier: %s",
			   strerror(-err), kb->first_warn, kb->verifier_says);
	else
		probe_fail(kb, p, err, "load failed (%s): %s", strerror(-err),
			   kb->first_warn[0] ? kb->first_warn : "no detail");
}

/*
 * Loads object @s with every requested probe of it. If that fails, each
 * probe is tried alone, so that one bad probe does not take its
 * neighbours down, and the object is loaded with those that passed.
 */
static void load_skel(struct kheal_bpf *kb, const struct kheal_bpf_opts *o,
		      enum kheal_bpf_skel_id s)
{
	unsigned long mask = 0, good = 0;
	unsigned int p, n = 0;
	void *skel = NULL;
	int err;

	for (p = 0; p < KHEAL_BPF_PROBE_MAX; p++) {
		struct kheal_bpf_probe_state *ps = &kb->probes[p];

		if (kheal_bpf_probes[p].skel != s || !ps->requested)
			continue;
		mask |= 1UL << p;
		n++;
	}
	if (!mask)
		return;

	/* Drop the probes whose tracepoints this kernel lacks. */
	skel = kheal_bpf_skels[s].open(NULL);
	if (!skel) {
		err = -errno;
		for (p = 0; p < KHEAL_BPF_PROBE_MAX; p++)
			if (mask & (1UL << p))
				probe_fail(kb, p, err, "cannot open object %s: %s",
					   kheal_bpf_skels[s].name,
					   strerror(-err));
		return;
	}
	for (p = 0; p < KHEAL_BPF_PROBE_MAX; p++) {
		if (!(mask & (1UL << p)))
			continue;
		if (check_targets(kb, kheal_bpf_skels[s].obj(skel), p,
				  retarget_for(o, p))) {
			mask &= ~(1UL << p);
			n--;
		}
	}
	kheal_bpf_skels[s].destroy(skel);
	skel = NULL;
	if (!mask)
		return;

	err = try_load(kb, o, s, mask, &skel);
	if (err && n == 1) {
		for (p = 0; p < KHEAL_BPF_PROBE_MAX; p++)
			if (mask & (1UL << p))
				load_failed(kb, p, err);
		return;
	}
	if (err) {
		for (p = 0; p < KHEAL_BPF_PROBE_MAX; p++) {
			void *alone;

			if (!(mask & (1UL << p)))
				continue;
			err = try_load(kb, o, s, 1UL << p, &alone);
			if (err) {
				load_failed(kb, p, err);
				continue;
			}
			kheal_bpf_skels[s].destroy(alone);
			good |= 1UL << p;
		}
		mask = good;
		if (!mask)
			return;
		err = try_load(kb, o, s, mask, &skel);
		if (err) {
			for (p = 0; p < KHEAL_BPF_PROBE_MAX; p++)
				if (mask & (1UL << p))
					load_failed(kb, p, err);
			return;
		}
	}
	kb->skels[s] = skel;
	for (p = 0; p < KHEAL_BPF_PROBE_MAX; p++)
		if (mask & (1UL << p))
			kb->probes[p].loaded = true;
}

static void detach_probe(struct kheal_bpf *kb, unsigned int p)
{
	struct kheal_bpf_probe_state *ps = &kb->probes[p];

	while (ps->n_links) {
		struct bpf_link *l = ps->links[--ps->n_links];

		if (l == kb->scan_link)
			kb->scan_link = NULL;
		bpf_link__destroy(l);
	}
}

static void attach_probe(struct kheal_bpf *kb, unsigned int p)
{
	const struct kheal_bpf_probe_desc *d = &kheal_bpf_probes[p];
	struct kheal_bpf_probe_state *ps = &kb->probes[p];
	struct bpf_object *obj = kheal_bpf_skels[d->skel].obj(kb->skels[d->skel]);
	unsigned int i;

	for (i = 0; i < KHEAL_BPF_MAX_PROGS && d->progs[i]; i++) {
		struct bpf_program *prog;
		struct bpf_link *link;

		kb->first_warn[0] = '\0';
		prog = bpf_object__find_program_by_name(obj, d->progs[i]);
		link = prog ? bpf_program__attach(prog) : NULL;
		if (!link) {
			int err = prog ? -errno : -ENOENT;

			probe_fail(kb, p, err, "cannot attach %s (%s): %s",
				   d->progs[i], strerror(-err),
				   kb->first_warn[0] ? kb->first_warn :
						       "no detail");
			detach_probe(kb, p);
			return;
		}
		ps->links[ps->n_links++] = link;
		if (!strncmp(bpf_program__section_name(prog), "iter/", 5))
			kb->scan_link = link;
	}
}

static bool probe_attached(const struct kheal_bpf *kb, unsigned int p)
{
	return kb->probes[p].n_links > 0;
}

static unsigned int scan_period_ms(unsigned int hung_ms)
{
	unsigned int ms = hung_ms / KHEAL_BPF_SCANS;

	if (ms < KHEAL_BPF_SCAN_MIN_MS)
		ms = KHEAL_BPF_SCAN_MIN_MS;
	if (ms > KHEAL_BPF_SCAN_MAX_MS)
		ms = KHEAL_BPF_SCAN_MAX_MS;
	return ms;
}

static int arm_scan_timer(struct kheal_bpf *kb)
{
	struct itimerspec its = { 0 };
	unsigned int ms;

	if (kb->timer_fd < 0)
		return 0;
	if (kb->cfg.hung_ms && kb->scan_link) {
		ms = scan_period_ms(kb->cfg.hung_ms);
		its.it_interval.tv_sec = ms / 1000;
		its.it_interval.tv_nsec = (ms % 1000) * 1000000L;
		its.it_value = its.it_interval;
	}
	if (timerfd_settime(kb->timer_fd, 0, &its, NULL))
		return -errno;
	return 0;
}

static int write_config(struct kheal_bpf *kb, const struct kheal_bpf_config *c)
{
	struct kheal_bpf_config_map m = {
		.crash_sigmask = c->crash_sigmask,
		.hung_ms = c->hung_ms,
		.disk_stall_ms = c->disk_stall_ms,
		.page_shift = kb->page_shift,
	};
	__u32 key = 0;

	if (bpf_map_update_elem(kb->config_fd, &key, &m, BPF_ANY))
		return -errno;
	return 0;
}

int kheal_bpf_set_config(struct kheal_bpf *kb,
			 const struct kheal_bpf_config *cfg)
{
	int err;

	if (!kb || !cfg || (cfg->crash_sigmask & 1))
		return -EINVAL;
	err = write_config(kb, cfg);
	if (err)
		return err;
	kb->cfg = *cfg;
	return arm_scan_timer(kb);
}

void kheal_bpf_get_config(const struct kheal_bpf *kb,
			  struct kheal_bpf_config *cfg)
{
	*cfg = kb->cfg;
}

static int on_sample(void *ctx, void *data, size_t size)
{
	const struct kheal_bpf_event *ev = data;
	struct kheal_bpf *kb = ctx;

	if (size < sizeof(*ev))
		return 0;
	if (ev->probe < KHEAL_BPF_PROBE_MAX)
		kb->probes[ev->probe].delivered++;
	return kb->cb ? kb->cb(ev, kb->ctx) : 0;
}

int kheal_bpf_scan(struct kheal_bpf *kb)
{
	char buf[64];
	ssize_t n;
	int fd, err = 0;

	if (!kb->scan_link)
		return 0;
	fd = bpf_iter_create(bpf_link__fd(kb->scan_link));
	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	if (n < 0)
		err = -errno;
	close(fd);
	kb->scans++;
	return err;
}

int kheal_bpf_fd(const struct kheal_bpf *kb)
{
	return kb->epoll_fd;
}

int kheal_bpf_handle(struct kheal_bpf *kb)
{
	__u64 expired;
	int err;

	if (kb->timer_fd >= 0) {
		if (read(kb->timer_fd, &expired, sizeof(expired)) ==
		    sizeof(expired)) {
			err = kheal_bpf_scan(kb);
			if (err)
				return err;
		} else if (errno != EAGAIN) {
			return -errno;
		}
	}
	return ring_buffer__consume(kb->rb);
}

int kheal_bpf_status(const struct kheal_bpf *kb, struct kheal_bpf_status *st)
{
	struct kheal_bpf_counters *pc;
	unsigned int p;
	int c;

	memset(st, 0, sizeof(*st));
	pc = calloc(kb->ncpus, sizeof(*pc));
	if (!pc)
		return -ENOMEM;
	st->ringbuf_kb = kb->ringbuf_kb;
	st->scans = kb->scans;
	for (p = 0; p < KHEAL_BPF_PROBE_MAX; p++) {
		const struct kheal_bpf_probe_state *ps = &kb->probes[p];
		struct kheal_bpf_probe_status *s = &st->probes[p];
		__u32 key = p;

		s->name = kheal_bpf_probes[p].name;
		s->requested = ps->requested;
		s->loaded = ps->loaded;
		s->attached = probe_attached(kb, p);
		s->error = ps->error;
		memcpy(s->reason, ps->reason, sizeof(s->reason));
		s->delivered = ps->delivered;
		if (bpf_map_lookup_elem(kb->counters_fd, &key, pc)) {
			free(pc);
			return -errno;
		}
		for (c = 0; c < kb->ncpus; c++) {
			s->emitted += pc[c].emitted;
			s->rb_drops += pc[c].rb_drops;
			s->map_full += pc[c].map_full;
			s->suppressed += pc[c].suppressed;
		}
		st->attached += s->attached;
		st->emitted += s->emitted;
		st->delivered += s->delivered;
		st->rb_drops += s->rb_drops;
		st->map_full += s->map_full;
	}
	free(pc);
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void kheal_bpf_close(struct kheal_bpf *kb)
{
	unsigned int p, s;

	if (!kb)
		return;
	for (p = 0; p < KHEAL_BPF_PROBE_MAX; p++)
		detach_probe(kb, p);
	ring_buffer__free(kb->rb);
	for (s = 0; s < SKEL_MAX; s++)
		if (kb->skels[s])
			kheal_bpf_skels[s].destroy(kb->skels[s]);
	close_fd(&kb->timer_fd);
	close_fd(&kb->epoll_fd);
	close_fd(&kb->events_fd);
	close_fd(&kb->config_fd);
	close_fd(&kb->counters_fd);
	btf__free(kb->vmlinux_btf);
	free(kb);
}

static int parse_probes(struct kheal_bpf *kb, const char *list)
{
	const char *p = list;
	unsigned int i;

	if (!list) {
		for (i = 0; i < KHEAL_BPF_PROBE_MAX; i++)
			kb->probes[i].requested = true;
		return 0;
	}
	while (*p) {
		size_t len = strcspn(p, ",");

		for (i = 0; i < KHEAL_BPF_PROBE_MAX; i++)
			if (strlen(kheal_bpf_probes[i].name) == len &&
			    !strncmp(kheal_bpf_probes[i].name, p, len))
				break;
		if (i == KHEAL_BPF_PROBE_MAX)
			return -EINVAL;
		kb->probes[i].requested = true;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* The smallest power-of-two number of pages holding @kb KiB. */
static unsigned int ringbuf_bytes(unsigned int kb, unsigned int page)
{
	unsigned long want = (unsigned long)(kb ? kb : KHEAL_BPF_RINGBUF_KB_DEFAULT) *
			     1024, sz = page;

	while (sz < want && sz < KHEAL_BPF_RINGBUF_KB_MAX * 1024UL)
		sz <<= 1;
	return sz;
}

static int create_maps(struct kheal_bpf *kb, unsigned int rb_bytes)
{
	kb->events_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "kheal_events",
				       0, 0, rb_bytes, NULL);
	if (kb->events_fd < 0)
		return -errno;
	kb->config_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "kheal_config",
				       sizeof(__u32),
				       sizeof(struct kheal_bpf_config_map), 1,
				       NULL);
	if (kb->config_fd < 0)
		return -errno;
	kb->counters_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY,
					 "kheal_counters", sizeof(__u32),
					 sizeof(struct kheal_bpf_counters),
					 KHEAL_BPF_PROBE_MAX, NULL);
	if (kb->counters_fd < 0)
		return -errno;
	return 0;
}

static int setup_poll(struct kheal_bpf *kb)
{
	struct epoll_event ev = { .events = EPOLLIN };

	kb->rb = ring_buffer__new(kb->events_fd, on_sample, kb, NULL);
	if (!kb->rb)
		return -errno;
	kb->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (kb->epoll_fd < 0)
		return -errno;
	ev.data.fd = ring_buffer__epoll_fd(kb->rb);
	if (epoll_ctl(kb->epoll_fd, EPOLL_CTL_ADD, ev.data.fd, &ev))
		return -errno;
	if (!kb->scan_link)
		return 0;
	kb->timer_fd = timerfd_create(CLOCK_MONOTONIC,
				      TFD_NONBLOCK | TFD_CLOEXEC);
	if (kb->timer_fd < 0)
		return -errno;
	ev.data.fd = kb->timer_fd;
	if (epoll_ctl(kb->epoll_fd, EPOLL_CTL_ADD, kb->timer_fd, &ev))
		return -errno;
	return arm_scan_timer(kb);
}

struct kheal_bpf *kheal_bpf_open(const struct kheal_bpf_opts *opts,
				 kheal_bpf_event_fn cb, void *ctx)
{
	static const struct kheal_bpf_config defaults = {
		.hung_ms = KHEAL_BPF_HUNG_MS_DEFAULT,
		.disk_stall_ms = KHEAL_BPF_DISK_STALL_MS_DEFAULT,
		.crash_sigmask = KHEAL_BPF_CRASH_SIGMASK_DEFAULT,
	};
	struct kheal_bpf_opts o = { 0 };
	libbpf_print_fn_t old_print;
	struct kheal_bpf *kb;
	unsigned int p, s;
	long page;
	int err = 0;

	if (opts) {
		if (opts->sz > sizeof(o) || opts->sz < sizeof(o.sz)) {
			errno = EINVAL;
			return NULL;
		}
		memcpy(&o, opts, opts->sz);
	}
	if (o.config && (o.config->crash_sigmask & 1)) {
		errno = EINVAL;
		return NULL;
	}
	kb = calloc(1, sizeof(*kb));
	if (!kb) {
		errno = ENOMEM;
		return NULL;
	}
	kb->events_fd = kb->config_fd = kb->counters_fd = -1;
	kb->epoll_fd = kb->timer_fd = -1;
	kb->cb = cb;
	kb->ctx = ctx;
	kb->log = o.log;
	kb->log_ctx = o.log_ctx;
	kb->cfg = o.config ? *o.config : defaults;

	err = parse_probes(kb, o.probes);
	if (err)
		goto out_close;
	page = sysconf(_SC_PAGESIZE);
	kb->page_shift = __builtin_ctzl(page);
	kb->ncpus = libbpf_num_possible_cpus();
	if (kb->ncpus < 0) {
		err = kb->ncpus;
		goto out_close;
	}
	s = ringbuf_bytes(o.ringbuf_kb, page);
	kb->ringbuf_kb = s / 1024;
	err = create_maps(kb, s);
	if (err)
		goto out_close;
	err = write_config(kb, &kb->cfg);
	if (err)
		goto out_close;

	kheal_bpf_loading = kb;
	old_print = libbpf_set_print(kheal_bpf_libbpf_print);
	/* Without it, no pre-check: the loads will say what is missing. */
	kb->vmlinux_btf = btf__load_vmlinux_btf();
	for (s = 0; s < SKEL_MAX; s++)
		load_skel(kb, &o, s);
	for (p = 0; p < KHEAL_BPF_PROBE_MAX; p++)
		if (kb->probes[p].loaded)
			attach_probe(kb, p);
	libbpf_set_print(old_print);
	kheal_bpf_loading = NULL;
	btf__free(kb->vmlinux_btf);
	kb->vmlinux_btf = NULL;

	err = -ENOENT;
	for (p = 0; p < KHEAL_BPF_PROBE_MAX; p++) {
		if (probe_attached(kb, p)) {
			err = 0;
			break;
		}
		if (kb->probes[p].error && err == -ENOENT)
			err = kb->probes[p].error;
	}
	if (err)
		goto out_close;
	err = setup_poll(kb);
	if (err)
		goto out_close;
	return kb;

out_close:
	kheal_bpf_close(kb);
	errno = -err;
	return NULL;
}

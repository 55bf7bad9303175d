// SPDX-License-Identifier: GPL-2.0
/*
 * The BPF source against a fake libkhealbpf: kheal_bpf_*() are replaced
 * (ld --wrap) by a ring buffer each test fills and counters it steers;
 * /proc/kallsyms by a file, and the monotonic clock by one it sets.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "cgroup.h"
#include "fixtures.h"
#include "ksyms.h"
#include "source_bpf.h"

static struct fake {
	int open_errno;			/* kheal_bpf_open() fails with it */
	struct kheal_bpf_config cfg;	/* as opened */
	unsigned int ringbuf_kb;	/* as opened */
	kheal_bpf_event_fn cb;
	void *ctx;
	struct kheal_bpf_event q[16];	/* the ring buffer */
	int qlen;
	struct kheal_bpf_status st;
	bool clock_set;
	time_t now;			/* CLOCK_MONOTONIC, s */
	int ksyms_loads;
} fk;

static struct {
	char trail[2048];		/* "1 2 gap3-5/ringbuf 6 " */
	char notes[2048];
	struct kheal_event last;
} out;

static struct kheal_source src;
static char kallsyms[] = "/tmp/kheal-test-kallsyms-XXXXXX";

static void logf_(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

/* The fake library */

struct kheal_bpf *__wrap_kheal_bpf_open(const struct kheal_bpf_opts *opts,
					kheal_bpf_event_fn cb, void *ctx)
{
	if (fk.open_errno) {
		opts->log(KHEAL_BPF_LOG_WARN,
			  "failed to load object 'hung_bpf'", opts->log_ctx);
		errno = fk.open_errno;
		return NULL;
	}
	fk.cfg = *opts->config;
	fk.ringbuf_kb = opts->ringbuf_kb;
	fk.cb = cb;
	fk.ctx = ctx;
	return (struct kheal_bpf *)&fk;
}

int __wrap_kheal_bpf_fd(const struct kheal_bpf *kb)
{
	(void)kb;
	return 77;
}

int __wrap_kheal_bpf_handle(struct kheal_bpf *kb)
{
	int i, n = fk.qlen, ret;

	(void)kb;
	fk.qlen = 0;
	for (i = 0; i < n; i++) {
		ret = fk.cb(&fk.q[i], fk.ctx);
		if (ret)
			return ret;
	}
	return n;
}

int __wrap_kheal_bpf_status(const struct kheal_bpf *kb,
			    struct kheal_bpf_status *st)
{
	unsigned int p;

	(void)kb;
	*st = fk.st;
	st->rb_drops = 0;
	for (p = 0; p < KHEAL_BPF_PROBE_MAX; p++) {
		st->probes[p].name = kheal_bpf_probe_name(p);
		st->rb_drops += st->probes[p].rb_drops;
	}
	return 0;
}

void __wrap_kheal_bpf_close(struct kheal_bpf *kb)
{
	assert_true(!kb || kb == (struct kheal_bpf *)&fk);
}

struct kheal_ksyms *__real_kheal_ksyms_load(const char *path);

struct kheal_ksyms *__wrap_kheal_ksyms_load(const char *path)
{
	assert_null(path);
	fk.ksyms_loads++;
	return __real_kheal_ksyms_load(kallsyms);
}

int __real_clock_gettime(clockid_t clk, struct timespec *ts);

int __wrap_clock_gettime(clockid_t clk, struct timespec *ts)
{
	if (clk != CLOCK_MONOTONIC || !fk.clock_set)
		return __real_clock_gettime(clk, ts);
	*ts = (struct timespec){ .tv_sec = fk.now };
	return 0;
}

/* What the source reports */

static int on_event(const struct kheal_event *ev, void *arg)
{
	(void)arg;
	out.last = *ev;
	logf_(out.trail, sizeof(out.trail), "%llu ",
	      (unsigned long long)ev->seq);
	return 0;
}

static int on_gap(const struct kheal_gap *gap, void *arg)
{
	(void)arg;
	assert_int_equal(gap->source, KHEAL_SOURCE_BPF);
	assert_int_equal(gap->instance, KHEAL_SOURCE_BPF_INSTANCE);
	logf_(out.trail, sizeof(out.trail), "gap%llu-%llu/%s ",
	      (unsigned long long)gap->first, (unsigned long long)gap->last,
	      kheal_gap_reason_name(gap->reason));
	return 0;
}

static void on_note(const char *msg, void *arg)
{
	(void)arg;
	logf_(out.notes, sizeof(out.notes), "%s\n", msg);
}

static void write_kallsyms(const char *text)
{
	FILE *f = fopen(kallsyms, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	unsigned int p;

	(void)state;
	memset(&fk, 0, sizeof(fk));
	memset(&out, 0, sizeof(out));
	for (p = 0; p < KHEAL_BPF_PROBE_MAX; p++)
		fk.st.probes[p].requested = fk.st.probes[p].attached = true;
	fk.st.attached = KHEAL_BPF_PROBE_MAX;
	write_kallsyms("ffffffff81000000 T _stext\n"
		       "ffffffff81000100 T schedule\n"
		       "ffffffff81000200 D some_data\n"
		       "ffffffffc0000000 t fuse_flush\t[fuse]\n");
	src = (struct kheal_source){
		.ops = &kheal_source_bpf_ops,
		.cb = {
			.event = on_event,
			.gap = on_gap,
			.note = on_note,
		},
		.cfg = { .hung_ms = 1000 },
	};
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	src.ops->close(&src);
	return 0;
}

static int group_setup(void **state)
{
	int fd = mkstemp(kallsyms);

	(void)state;
	return fd < 0 ? -1 : close(fd);
}

static int group_teardown(void **state)
{
	(void)state;
	return unlink(kallsyms);
}

static void open_src(void)
{
	struct kheal_err err = { "" };

	assert_int_equal(src.ops->open(&src, &err), 0);
	assert_int_equal(src.ops->fd(&src), 77);
}

static int handle(void)
{
	struct kheal_err err = { "" };

	return src.ops->handle(&src, &err);
}

static int tick(void)
{
	struct kheal_err err = { "" };

	return src.ops->tick(&src, &err);
}

/* A probe's event of @kind in the fake ring buffer; more set by caller. */
static struct kheal_bpf_event *queue(unsigned int probe, unsigned int kind)
{
	struct kheal_bpf_event *e = &fk.q[fk.qlen++];

	memset(e, 0, sizeof(*e));
	e->probe = probe;
	e->kind = kind;
	e->severity = KHEAL_SEV_WARNING;
	e->time_ns = 5000000000ULL;
	return e;
}

static struct kheal_bpf_event *queue_crash(int pid)
{
	struct kheal_bpf_event *e = queue(KHEAL_BPF_PROBE_CRASH,
					  KHEAL_EVENT_TASK_CRASH);

	e->present = KHEAL_BPF_F_PID | KHEAL_BPF_F_COMM | KHEAL_BPF_F_SIGNAL;
	e->pid = e->tgid = pid;
	strcpy(e->comm, "segv");
	e->signal = 11;
	return e;
}

static void map(const struct kheal_bpf_event *in, struct kheal_event *ev)
{
	struct kheal_err err = { "" };

	assert_int_equal(kheal_source_bpf_map(in, ev, &err), 0);
}

/* The tests */

/*
 * An OOM kill maps field by field: the kind's subsystem, the fixed
 * instance, source bpf; the cgroup's path and the seq are not the map's.
 */
static void test_oom_event_maps_to_kheal_event(void **state)
{
	struct kheal_bpf_event *e = queue(KHEAL_BPF_PROBE_OOM,
					  KHEAL_EVENT_OOM_KILL);
	struct kheal_event ev;

	(void)state;
	e->severity = KHEAL_SEV_ERROR;
	e->present = KHEAL_BPF_F_PID | KHEAL_BPF_F_COMM | KHEAL_BPF_F_CGROUP |
		     KHEAL_BPF_F_RSS | KHEAL_BPF_F_OOM_CONSTRAINT;
	e->pid = 321;
	e->tgid = 320;
	strcpy(e->comm, "memhog");
	e->cgroup_id = 4242;
	e->rss_kb = 65536;
	e->oom_constraint = KHEAL_OOM_MEMCG;
	map(e, &ev);
	assert_int_equal(ev.source, KHEAL_SOURCE_BPF);
	assert_int_equal(ev.present,
			 (1ULL << KHEAL_A_TIME_NS) | (1ULL << KHEAL_A_KIND) |
			 (1ULL << KHEAL_A_SEVERITY) | (1ULL << KHEAL_A_SUBSYS) |
			 (1ULL << KHEAL_A_INSTANCE) | (1ULL << KHEAL_A_PID) |
			 (1ULL << KHEAL_A_TGID) | (1ULL << KHEAL_A_COMM) |
			 (1ULL << KHEAL_A_CGROUP_ID) |
			 (1ULL << KHEAL_A_RSS_KB) |
			 (1ULL << KHEAL_A_OOM_CONSTRAINT));
	assert_int_equal(ev.time_ns, 5000000000ULL);
	assert_int_equal(ev.kind, KHEAL_EVENT_OOM_KILL);
	assert_int_equal(ev.severity, KHEAL_SEV_ERROR);
	assert_string_equal(ev.subsys, "memory");
	assert_int_equal(ev.instance, KHEAL_SOURCE_BPF_INSTANCE);
	assert_int_equal(ev.pid, 321);
	assert_int_equal(ev.tgid, 320);
	assert_string_equal(ev.comm, "memhog");
	assert_int_equal(ev.cgroup_id, 4242);
	assert_int_equal(ev.rss_kb, 65536);
	assert_int_equal(ev.oom_constraint, KHEAL_OOM_MEMCG);
}

/*
 * The other kinds' fields: a crash's signal (and a core dump, said in
 * detail), a block error's disk, positive errno and detail, a TX
 * timeout's queue, a device known by number only, a duration; a tgid
 * of 0 (unknown) is left out.
 */
static void test_other_fields_map(void **state)
{
	struct kheal_bpf_event *e;
	struct kheal_event ev;

	(void)state;
	e = queue_crash(99);
	e->present |= KHEAL_BPF_F_CORE_DUMPED;
	map(e, &ev);
	assert_string_equal(ev.subsys, "task");
	assert_int_equal(ev.signal, 11);
	assert_true(kheal_event_has(&ev, KHEAL_A_SIGNAL));
	assert_string_equal(ev.detail, "core dumped");

	e = queue(KHEAL_BPF_PROBE_BLOCK_ERROR, KHEAL_EVENT_BLOCK_IO_ERROR);
	e->present = KHEAL_BPF_F_DEV | KHEAL_BPF_F_ERROR | KHEAL_BPF_F_DETAIL;
	strcpy(e->dev, "loop0");
	e->error = -EIO;
	strcpy(e->detail, "read sector 65536");
	map(e, &ev);
	assert_string_equal(ev.subsys, "block");
	assert_string_equal(ev.dev, "loop0");
	assert_int_equal(ev.errnum, EIO);
	assert_true(kheal_event_has(&ev, KHEAL_A_ERRNO));
	assert_string_equal(ev.detail, "read sector 65536");

	e = queue(KHEAL_BPF_PROBE_NETDEV_TX_TIMEOUT,
		  KHEAL_EVENT_NETDEV_TX_TIMEOUT);
	e->present = KHEAL_BPF_F_DEV | KHEAL_BPF_F_QUEUE;
	strcpy(e->dev, "eth0");
	e->queue = 3;
	map(e, &ev);
	assert_string_equal(ev.subsys, "netdev");
	assert_int_equal(ev.queue, 3);
	assert_true(kheal_event_has(&ev, KHEAL_A_QUEUE));

	e = queue(KHEAL_BPF_PROBE_DISK_STALL, KHEAL_EVENT_DISK_STALL);
	e->present = KHEAL_BPF_F_DEVT | KHEAL_BPF_F_DURATION;
	e->dev_major = 8;
	e->dev_minor = 16;
	e->duration_ms = 420;
	map(e, &ev);
	assert_string_equal(ev.dev, "8:16");
	assert_int_equal(ev.duration_ms, 420);

	e = queue(KHEAL_BPF_PROBE_OOM, KHEAL_EVENT_OOM_KILL);
	e->present = KHEAL_BPF_F_PID;
	e->pid = 7;
	map(e, &ev);
	assert_true(kheal_event_has(&ev, KHEAL_A_PID));
	assert_false(kheal_event_has(&ev, KHEAL_A_TGID));
	assert_false(kheal_event_has(&ev, KHEAL_A_COMM));
}

/* A string the probe did not end is cut, not read past. */
static void test_unterminated_strings_cut(void **state)
{
	struct kheal_bpf_event *e = queue_crash(1);
	struct kheal_event ev;

	(void)state;
	memset(e->comm, 'c', sizeof(e->comm));
	map(e, &ev);
	assert_int_equal(strlen(ev.comm), KHEAL_COMM_LEN - 1);
}

/* A kind, probe or severity this build does not know is refused, named. */
static void test_map_rejects_what_it_does_not_know(void **state)
{
	struct kheal_bpf_event *e = queue_crash(1);
	struct kheal_err err;
	struct kheal_event ev;

	(void)state;
	e->kind = KHEAL_EVENT_UNSPEC;
	assert_int_equal(kheal_source_bpf_map(e, &ev, &err), -EBADMSG);
	assert_string_equal(err.msg,
			    "probe crash sent kind 0, which has no subsystem");
	e->kind = KHEAL_EVENT_TASK_CRASH;
	e->severity = 9;
	assert_int_equal(kheal_source_bpf_map(e, &ev, &err), -EBADMSG);
	assert_string_equal(err.msg, "probe crash sent severity 9, above 4");
	e->probe = KHEAL_BPF_PROBE_MAX;
	assert_int_equal(kheal_source_bpf_map(e, &ev, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "which this build does not know"));
}

/*
 * kheald numbers BPF events 1, 2, 3...; restarted, it goes on after the
 * journal's last BPF seq, never giving a number twice.
 */
static void test_events_numbered_and_resumed_after_journal(void **state)
{
	(void)state;
	open_src();
	assert_non_null(strstr(out.notes, "numbering after seq 0"));
	queue_crash(1);
	queue_crash(2);
	queue_crash(3);
	assert_int_equal(handle(), 0);
	assert_string_equal(out.trail, "1 2 3 ");
	assert_int_equal(out.last.seq, 3);
	assert_true(kheal_event_has(&out.last, KHEAL_A_SEQ));
	assert_int_equal(src.stats.received, 3);
	src.ops->close(&src);

	out.trail[0] = '\0';
	kheal_seq_begin(&src.resume, KHEAL_SOURCE_BPF_INSTANCE, 3);
	open_src();
	assert_non_null(strstr(out.notes, "numbering after seq 3"));
	queue_crash(4);
	assert_int_equal(handle(), 0);
	assert_string_equal(out.trail, "4 ");
}

/*
 * Ring-buffer drops are never silent: each tick turns their growth into
 * a gap of as many numbers, naming the probes; none grew, no gap.
 */
static void test_ringbuf_drops_journalled_as_gap(void **state)
{
	(void)state;
	open_src();
	queue_crash(1);
	assert_int_equal(handle(), 0);
	assert_int_equal(tick(), 0);
	assert_string_equal(out.trail, "1 ");

	fk.st.probes[KHEAL_BPF_PROBE_OOM].rb_drops = 2;
	fk.st.probes[KHEAL_BPF_PROBE_CRASH].rb_drops = 1;
	assert_int_equal(tick(), 0);
	assert_string_equal(out.trail, "1 gap2-4/ringbuf ");
	assert_int_equal(src.stats.lost, 3);
	assert_non_null(strstr(out.notes, "the BPF ring buffer was full: 3 "
					  "events lost (oom 2, crash 1); "
					  "journalled as seq 2..4"));
	assert_int_equal(tick(), 0);
	queue_crash(2);
	assert_int_equal(handle(), 0);
	assert_string_equal(out.trail, "1 gap2-4/ringbuf 5 ");
	fk.st.probes[KHEAL_BPF_PROBE_CRASH].rb_drops = 2;
	assert_int_equal(tick(), 0);
	assert_string_equal(out.trail, "1 gap2-4/ringbuf 5 gap6-6/ringbuf ");
}

/* An event that does not map is a gap of its one number; the rest flow. */
static void test_malformed_event_is_gap_of_one(void **state)
{
	(void)state;
	open_src();
	queue_crash(1);
	queue_crash(2)->kind = 200;
	queue_crash(3);
	assert_int_equal(handle(), 0);
	assert_string_equal(out.trail, "1 gap2-2/malformed 3 ");
	assert_non_null(strstr(out.notes, "BPF event 2 is malformed and "
					  "recorded as lost: probe crash "
					  "sent kind 200"));
}

/*
 * Stacks print as symbols; an address no symbol covers (a module loaded
 * since) reloads kallsyms, at most once a minute, else prints as is.
 */
static void test_stack_symbolised_reloading_at_most_once_a_minute(
	void **state)
{
	const struct kheal_event_field *f = field_of(KHEAL_A_STACK);
	struct kheal_bpf_event *e;

	(void)state;
	fk.clock_set = true;
	fk.now = 1000;
	open_src();
	assert_int_equal(fk.ksyms_loads, 1);
	write_kallsyms("ffffffff81000100 T schedule\n"
		       "ffffffffd0000000 t newmod_fn\t[newmod]\n");

	fk.now = 1059;
	e = queue(KHEAL_BPF_PROBE_HUNG, KHEAL_EVENT_HUNG_TASK);
	e->present = KHEAL_BPF_F_STACK;
	e->stack_depth = 3;
	e->stack[0] = 0xffffffff81000110ULL;
	e->stack[1] = 0xffffffffc0000020ULL;
	e->stack[2] = 0xffffffffd0000008ULL;
	assert_int_equal(handle(), 0);
	assert_int_equal(fk.ksyms_loads, 1);
	assert_int_equal(kheal_event_strv_count(&out.last, f), 3);
	assert_string_equal(kheal_event_strv(&out.last, f, 0), "schedule+0x10");
	assert_string_equal(kheal_event_strv(&out.last, f, 1),
			    "fuse_flush+0x20 [fuse]");
	assert_string_equal(kheal_event_strv(&out.last, f, 2),
			    "0xffffffffd0000008");

	fk.now = 1060;
	fk.qlen = 1;
	assert_int_equal(handle(), 0);
	assert_int_equal(fk.ksyms_loads, 2);
	assert_string_equal(kheal_event_strv(&out.last, f, 2),
			    "newmod_fn+0x8 [newmod]");

	fk.now = 1061;
	e->stack[2] = 0xffffffffe0000000ULL;
	fk.qlen = 1;
	assert_int_equal(handle(), 0);
	assert_int_equal(fk.ksyms_loads, 2);
	assert_string_equal(kheal_event_strv(&out.last, f, 2),
			    "0xffffffffe0000000");
}

/*
 * The cgroup id is resolved to a path on the cgroup2 mount (here the
 * host's root cgroup, "/"); an id not found leaves the path out.
 */
static void test_cgroup_path_resolved_from_id(void **state)
{
	struct kheal_bpf_event *e;
	char root[256];
	struct stat st;

	(void)state;
	if (!kheal_cgroup_find_root("/proc/self/mounts", root, sizeof(root)) ||
	    stat(root, &st))
		skip();
	open_src();
	e = queue_crash(1);
	e->present |= KHEAL_BPF_F_CGROUP;
	e->cgroup_id = st.st_ino;
	e = queue_crash(2);
	e->present |= KHEAL_BPF_F_CGROUP;
	e->cgroup_id = 1ULL << 62;
	fk.qlen = 1;
	assert_int_equal(handle(), 0);
	assert_string_equal(out.last.cgroup_path, "/");
	assert_true(kheal_event_has(&out.last, KHEAL_A_CGROUP_PATH));
	fk.q[0] = fk.q[1];
	fk.qlen = 1;
	assert_int_equal(handle(), 0);
	assert_false(kheal_event_has(&out.last, KHEAL_A_CGROUP_PATH));
	assert_true(kheal_event_has(&out.last, KHEAL_A_CGROUP_ID));
}

/*
 * The probes get kheald's hung_ms; a probe that could not be attached
 * is told in one line with its reason, and listed in the state.
 */
/* kheald's --ringbuf-kb reaches the library; the note says the size. */
static void test_ringbuf_kb_passed_and_told(void **state)
{
	(void)state;
	src.cfg.ringbuf_kb = 4096;
	fk.st.ringbuf_kb = 4096;
	open_src();
	assert_int_equal(fk.ringbuf_kb, 4096);
	assert_non_null(strstr(out.notes, "BPF probes: 8 of 8 attached, "
			       "hung_ms 1000, ring buffer 4096 KiB; "
			       "numbering after seq 0\n"));
}

static void test_probe_not_attached_told_and_listed(void **state)
{
	struct kheal_bpf_probe_status *rcu =
		&fk.st.probes[KHEAL_BPF_PROBE_RCU_STALL];
	struct kheal_source_state st;
	unsigned int i;

	(void)state;
	rcu->attached = false;
	strcpy(rcu->reason, "probe rcu_stall: tracepoint rcu_stall_warning "
	       "is not in this kernel");
	fk.st.attached--;
	open_src();
	assert_int_equal(fk.cfg.hung_ms, 1000);
	assert_int_equal(fk.cfg.crash_sigmask, KHEAL_BPF_CRASH_SIGMASK_DEFAULT);
	assert_int_equal(fk.ringbuf_kb, 0);
	assert_non_null(strstr(out.notes,
			       "probe rcu_stall: tracepoint rcu_stall_warning "
			       "is not in this kernel; the other probes run\n"));
	assert_non_null(strstr(out.notes, "BPF probes: 7 of 8 attached"));
	src.ops->state(&src, &st);
	assert_true(st.attached);
	assert_int_equal(st.nprobes, KHEAL_BPF_PROBE_MAX);
	for (i = 0; i < st.nprobes; i++) {
		if (strcmp(st.probes[i].name, "rcu_stall")) {
			assert_true(st.probes[i].attached);
			assert_string_equal(st.probes[i].reason, "");
			continue;
		}
		assert_false(st.probes[i].attached);
		assert_non_null(strstr(st.probes[i].reason, "tracepoint"));
	}
}

/* Probes that cannot load at all fail the open, saying why. */
static void test_open_failure_says_why(void **state)
{
	struct kheal_err err = { "" };

	(void)state;
	fk.open_errno = EPERM;
	assert_int_equal(src.ops->open(&src, &err), -EPERM);
	assert_string_equal(err.msg, "loading the BPF probes: Operation not "
			    "permitted (needs root: CAP_BPF and CAP_PERFMON); "
			    "libbpf: failed to load object 'hung_bpf'");
	assert_null(src.priv);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_oom_event_maps_to_kheal_event),
		T(test_other_fields_map),
		T(test_unterminated_strings_cut),
		T(test_map_rejects_what_it_does_not_know),
		T(test_events_numbered_and_resumed_after_journal),
		T(test_ringbuf_drops_journalled_as_gap),
		T(test_malformed_event_is_gap_of_one),
		T(test_stack_symbolised_reloading_at_most_once_a_minute),
		T(test_cgroup_path_resolved_from_id),
		T(test_probe_not_attached_told_and_listed),
		T(test_ringbuf_kb_passed_and_told),
		T(test_open_failure_says_why),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * kheal-bpf-trace: loads every BPF probe and prints each event as one
 * line until SIGINT, for people and for the tests.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <kheal/names.h>

#include "kheal_bpf.h"
#include "ksyms.h"

struct trace {
	struct kheal_ksyms *ksyms;
	bool stacks;
	unsigned long max_events;
	unsigned long events;
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: kheal-bpf-trace [options]\n"
"Loads kheal's BPF probes and prints one line per event until SIGINT.\n"
"  -p, --probes LIST        probes to load, comma-separated (default all:\n"
"                           hung,hung_kernel,oom,block_error,disk_stall,\n"
"                           netdev_tx_timeout,rcu_stall,crash)\n"
"      --hung-ms MS         hung_task threshold (default %u; 0: off)\n"
"      --disk-stall-ms MS   disk_stall threshold (default %u; 0: off)\n"
"      --crash-signals LIST signal numbers that make a crash (default 6,7,9,11)\n"
"  -r, --ringbuf-kb KB      ring buffer size, a power of two from %u to %u\n"
"                           (default %u)\n"
"  -n, --count N            exit after N events\n"
"  -t, --timeout SEC        exit after SEC seconds\n"
"      --no-stack           do not print stacks\n"
"      --retarget PROBE=TP  attach PROBE to tracepoint TP (for tests)\n"
"  -s, --status             print the probes' status on stderr, at start and exit\n"
"  -v, --verbose            libbpf's warnings on stderr (-vv info, -vvv debug)\n"
"  -h, --help\n"
"Output: TIME_NS KIND probe=NAME key=value..., one event per line, flushed.\n",
		KHEAL_BPF_HUNG_MS_DEFAULT, KHEAL_BPF_DISK_STALL_MS_DEFAULT,
		kheal_bpf_ringbuf_kb_min(), KHEAL_BPF_RINGBUF_KB_MAX,
		KHEAL_BPF_RINGBUF_KB_DEFAULT);
}

static void print_event_line(struct trace *t, const struct kheal_bpf_event *e)
{
	const char *kind = kheal_name_kind(e->kind);
	char sym[256];
	unsigned int i;

	printf("%" PRIu64 " %s probe=%s", (uint64_t)e->time_ns,
	       kind ? kind : "unknown", kheal_bpf_probe_name(e->probe));
	if (e->present & KHEAL_BPF_F_PID)
		printf(" pid=%u tgid=%u", e->pid, e->tgid);
	if (e->present & KHEAL_BPF_F_COMM)
		printf(" comm=%s", e->comm);
	if (e->present & KHEAL_BPF_F_CGROUP)
		printf(" cgroup_id=%" PRIu64, (uint64_t)e->cgroup_id);
	if (e->present & KHEAL_BPF_F_DEV)
		printf(" dev=%s", e->dev);
	if (e->present & KHEAL_BPF_F_DEVT)
		printf(" devt=%u:%u", e->dev_major, e->dev_minor);
	if (e->present & KHEAL_BPF_F_DURATION)
		printf(" duration_ms=%" PRIu64, (uint64_t)e->duration_ms);
	if (e->present & KHEAL_BPF_F_RSS)
		printf(" rss_kb=%" PRIu64, (uint64_t)e->rss_kb);
	if ((e->present & KHEAL_BPF_F_OOM_CONSTRAINT) &&
	    kheal_name_oom_constraint(e->oom_constraint))
		printf(" oom_constraint=%s",
		       kheal_name_oom_constraint(e->oom_constraint));
	if (e->present & KHEAL_BPF_F_SIGNAL)
		printf(" signal=%u", e->signal);
	if (e->present & KHEAL_BPF_F_CORE_DUMPED)
		printf(" core_dumped=1");
	if (e->present & KHEAL_BPF_F_ERROR)
		printf(" error=%d", e->error);
	if (e->present & KHEAL_BPF_F_QUEUE)
		printf(" queue=%u", e->queue);
	if (e->present & KHEAL_BPF_F_DETAIL)
		printf(" detail=\"%s\"", e->detail);
	if (t->stacks && (e->present & KHEAL_BPF_F_STACK)) {
		printf(" stack=");
		for (i = 0; i < e->stack_depth && i < KHEAL_BPF_STACK_DEPTH;
		     i++) {
			kheal_ksyms_format(t->ksyms, e->stack[i], sym,
					   sizeof(sym));
			printf("%s%s", i ? "," : "", sym);
		}
	}
	putchar('\n');
	fflush(stdout);
}

static int on_event(const struct kheal_bpf_event *e, void *ctx)
{
	struct trace *t = ctx;

	print_event_line(t, e);
	t->events++;
	if (t->max_events && t->events >= t->max_events)
		return -ECANCELED;
	return 0;
}

static void on_log(enum kheal_bpf_log_level level, const char *msg,
		   void *ctx)
{
	int verbose = *(int *)ctx;

	/* The probes' status says what failed; libbpf's detail on -v. */
	if ((verbose && level == KHEAL_BPF_LOG_WARN) ||
	    (verbose > 1 && level == KHEAL_BPF_LOG_INFO) || verbose > 2)
		fprintf(stderr, "libbpf: %s\n", msg);
}

/* Always says which probes are off and why; everything with -s. */
static void print_status(struct kheal_bpf *kb, bool all)
{
	struct kheal_bpf_status st;
	unsigned int p;
	int err = kheal_bpf_status(kb, &st);

	if (err) {
		fprintf(stderr, "kheal-bpf-trace: status: %s\n",
			strerror(-err));
		return;
	}
	for (p = 0; p < KHEAL_BPF_PROBE_MAX; p++) {
		const struct kheal_bpf_probe_status *s = &st.probes[p];

		if (!s->requested || (s->attached && !all))
			continue;
		if (s->attached)
			fprintf(stderr,
				"probe %s: attached, emitted %" PRIu64
				" delivered %" PRIu64 " rb_drops %" PRIu64
				" map_full %" PRIu64 " suppressed %" PRIu64 "\n",
				s->name, (uint64_t)s->emitted,
				(uint64_t)s->delivered, (uint64_t)s->rb_drops,
				(uint64_t)s->map_full,
				(uint64_t)s->suppressed);
		else
			fprintf(stderr, "%s\n", s->reason);
	}
	if (!all)
		return;
	fprintf(stderr,
		"total: %u probes attached, ring buffer %u KiB, emitted %"
		PRIu64 " delivered %" PRIu64 " rb_drops %" PRIu64
		" hung scans %" PRIu64 "\n",
		st.attached, st.ringbuf_kb, (uint64_t)st.emitted,
		(uint64_t)st.delivered, (uint64_t)st.rb_drops,
		(uint64_t)st.scans);
}

/* The library says EINVAL for a bad name; a person wants the name. */
static int check_probes(const char *list)
{
	const char *p = list;
	unsigned int i;

	while (*p) {
		size_t len = strcspn(p, ",");

		for (i = 0; i < KHEAL_BPF_PROBE_MAX; i++)
			if (strlen(kheal_bpf_probe_name(i)) == len &&
			    !strncmp(kheal_bpf_probe_name(i), p, len))
				break;
		if (i == KHEAL_BPF_PROBE_MAX) {
			fprintf(stderr,
				"kheal-bpf-trace: --probes: unknown probe '%.*s'\n",
				(int)len, p);
			return -EINVAL;
		}
		p += len + (p[len] == ',');
	}
	return 0;
}

static int parse_uint(const char *s, const char *what, unsigned int *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > UINT_MAX) {
		fprintf(stderr, "kheal-bpf-trace: %s: not a number: '%s'\n",
			what, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_signals(const char *s, __u64 *mask)
{
	char *copy = strdup(s), *tok, *save = NULL;
	unsigned int sig;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	*mask = 0;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		err = parse_uint(tok, "--crash-signals", &sig);
		if (err)
			break;
		if (sig < 1 || sig > 63) {
			fprintf(stderr,
				"kheal-bpf-trace: --crash-signals: %u is not a signal (1-63)\n",
				sig);
			err = -EINVAL;
			break;
		}
		*mask |= 1ULL << sig;
	}
	free(copy);
	return err;
}

static int parse_ringbuf_kb(const char *s, unsigned int *kb)
{
	int err = parse_uint(s, "--ringbuf-kb", kb);

	if (err)
		return err;
	if (!kheal_bpf_ringbuf_kb_valid(*kb)) {
		fprintf(stderr,
			"kheal-bpf-trace: --ringbuf-kb: '%s' is not a power of two from %u to %u (KiB)\n",
			s, kheal_bpf_ringbuf_kb_min(),
			KHEAL_BPF_RINGBUF_KB_MAX);
		return -EINVAL;
	}
	return 0;
}

enum {
	OPT_HUNG_MS = 256,
	OPT_DISK_STALL_MS,
	OPT_CRASH_SIGNALS,
	OPT_NO_STACK,
	OPT_RETARGET,
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "probes", required_argument, NULL, 'p' },
		{ "hung-ms", required_argument, NULL, OPT_HUNG_MS },
		{ "disk-stall-ms", required_argument, NULL, OPT_DISK_STALL_MS },
		{ "crash-signals", required_argument, NULL, OPT_CRASH_SIGNALS },
		{ "ringbuf-kb", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "no-stack", no_argument, NULL, OPT_NO_STACK },
		{ "retarget", required_argument, NULL, OPT_RETARGET },
		{ "status", no_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct kheal_bpf_config cfg = {
		.hung_ms = KHEAL_BPF_HUNG_MS_DEFAULT,
		.disk_stall_ms = KHEAL_BPF_DISK_STALL_MS_DEFAULT,
		.crash_sigmask = KHEAL_BPF_CRASH_SIGMASK_DEFAULT,
	};
	struct kheal_bpf_opts opts = {
		.sz = sizeof(opts),
		.config = &cfg,
		.log = on_log,
	};
	struct trace t = { .stacks = true };
	unsigned int timeout = 0, n;
	int verbose = 0, status = 0, c, err, ret = 1;
	char *retarget = NULL;
	struct pollfd pfd[2];
	struct kheal_bpf *kb;
	time_t deadline = 0;
	sigset_t mask;

	opts.log_ctx = &verbose;
	while ((c = getopt_long(argc, argv, "p:r:n:t:svh", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'p':
			if (check_probes(optarg))
				return 2;
			opts.probes = optarg;
			break;
		case OPT_HUNG_MS:
			if (parse_uint(optarg, "--hung-ms", &cfg.hung_ms))
				return 2;
			break;
		case OPT_DISK_STALL_MS:
			if (parse_uint(optarg, "--disk-stall-ms",
				       &cfg.disk_stall_ms))
				return 2;
			break;
		case OPT_CRASH_SIGNALS:
			if (parse_signals(optarg, &cfg.crash_sigmask))
				return 2;
			break;
		case 'r':
			if (parse_ringbuf_kb(optarg, &opts.ringbuf_kb))
				return 2;
			break;
		case 'n':
			if (parse_uint(optarg, "--count", &n))
				return 2;
			t.max_events = n;
			break;
		case 't':
			if (parse_uint(optarg, "--timeout", &timeout))
				return 2;
			break;
		case OPT_NO_STACK:
			t.stacks = false;
			break;
		case OPT_RETARGET:
			retarget = strdup(optarg);
			if (!retarget || !strchr(retarget, '=')) {
				fprintf(stderr,
					"kheal-bpf-trace: --retarget: want PROBE=TRACEPOINT, got '%s'\n",
					optarg);
				return 2;
			}
			*strchr(retarget, '=') = '\0';
			opts.retarget_probe = retarget;
			opts.retarget_tp = retarget + strlen(retarget) + 1;
			break;
		case 's':
			status = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}

	if (t.stacks) {
		t.ksyms = kheal_ksyms_load(NULL);
		if (!t.ksyms)
			fprintf(stderr,
				"kheal-bpf-trace: cannot read /proc/kallsyms (%s): stacks print as addresses\n",
				strerror(errno));
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	pfd[0].fd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (pfd[0].fd < 0) {
		perror("kheal-bpf-trace: signalfd");
		goto out;
	}

	kb = kheal_bpf_open(&opts, on_event, &t);
	if (!kb) {
		err = errno;
		fprintf(stderr, "kheal-bpf-trace: no probe could be attached: %s%s\n",
			strerror(err), err == EPERM ?
			" (needs root, or CAP_BPF and CAP_PERFMON)" : "");
		goto out;
	}
	print_status(kb, status);
	fprintf(stderr, "kheal-bpf-trace: tracing, ^C to stop\n");

	if (timeout)
		deadline = time(NULL) + timeout;
	pfd[0].events = POLLIN;
	pfd[1].fd = kheal_bpf_fd(kb);
	pfd[1].events = POLLIN;
	for (;;) {
		int wait = -1;

		if (deadline) {
			time_t now = time(NULL);

			if (now >= deadline)
				break;
			wait = (deadline - now) * 1000;
		}
		if (poll(pfd, 2, wait) < 0) {
			if (errno == EINTR)
				continue;
			perror("kheal-bpf-trace: poll");
			break;
		}
		if (pfd[0].revents)
			break;
		err = kheal_bpf_handle(kb);
		if (err == -ECANCELED)
			break;
		if (err < 0) {
			fprintf(stderr, "kheal-bpf-trace: %s\n", strerror(-err));
			break;
		}
	}
	if (status)
		print_status(kb, true);
	kheal_bpf_close(kb);
	ret = 0;
out:
	kheal_ksyms_free(t.ksyms);
	free(retarget);
	return ret;
}

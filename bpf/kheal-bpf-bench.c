// SPDX-License-Identifier: GPL-2.0
/*
 * kheal-bpf-bench: what the probes cost and carry, as ratios measured
 * side by side in one run. Not a test: it prints figures.
 *
 * 1. perf bench sched messaging and sched pipe (context-switch heavy:
 *    every switch runs the hung tracker), without and with all probes
 *    attached, alternating ABBA over several repetitions.
 * 2. A flood of short-lived processes killed by SIGKILL: processes/s
 *    without probes, and with them, where each death is a task_crash
 *    event through the ring buffer; events/s delivered and lost.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kheal_bpf.h"

#define MAX_REPS	32

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct kheal_bpf *attach_all(kheal_bpf_event_fn cb, void *ctx,
				    const char *probes)
{
	struct kheal_bpf_opts o = { .sz = sizeof(o), .probes = probes };
	struct kheal_bpf *kb = kheal_bpf_open(&o, cb, ctx);

	if (!kb)
		fprintf(stderr, "kheal-bpf-bench: kheal_bpf_open: %s\n",
			strerror(errno));
	return kb;
}

/* Runs a perf bench command; the number after @key in its output. */
static double run_perf(const char *cmd, const char *key)
{
	char line[256];
	double v = -1;
	FILE *f = popen(cmd, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, key);

		if (p)
			v = strtod(p + strlen(key), NULL);
	}
	if (pclose(f))
		return -1;
	return v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Drains events while the workload runs, as the agent would. */
struct drain {
	struct kheal_bpf *kb;
	atomic_bool stop;
	uint64_t events;
};

static int count_event(const struct kheal_bpf_event *ev, void *ctx)
{
	struct drain *d = ctx;

	(void)ev;
	d->events++;
	return 0;
}

static void *drain_thread(void *arg)
{
	struct drain *d = arg;
	struct pollfd pfd = { .fd = kheal_bpf_fd(d->kb), .events = POLLIN };

	while (!atomic_load(&d->stop)) {
		poll(&pfd, 1, 50);
		kheal_bpf_handle(d->kb);
	}
	kheal_bpf_handle(d->kb);
	return NULL;
}

static int bench_sched(const char *name, const char *cmd, const char *key,
		       int reps)
{
	double off[MAX_REPS], on[MAX_REPS], m_off, m_on;
	struct drain d = { 0 };
	pthread_t th;
	int r, i;

	printf("%s: %s\n", name, cmd);
	for (r = 0; r < reps; r++) {
		/* ABBA: even reps run without probes first, odd ones after. */
		for (i = 0; i < 2; i++) {
			bool with = (i == 1) ^ (r % 2);
			double v;

			if (with) {
				d.kb = attach_all(count_event, &d, NULL);
				if (!d.kb)
					return -1;
				atomic_store(&d.stop, false);
				pthread_create(&th, NULL, drain_thread, &d);
			}
			v = run_perf(cmd, key);
			if (with) {
				atomic_store(&d.stop, true);
				pthread_join(th, NULL);
				kheal_bpf_close(d.kb);
			}
			if (v < 0) {
				fprintf(stderr, "kheal-bpf-bench: '%s' failed\n",
					cmd);
				return -1;
			}
			(with ? on : off)[r] = v;
		}
		printf("  rep %d: without %.3f, with %.3f (%s)\n", r + 1, off[r],
		       on[r], key);
	}
	m_off = median(off, reps);
	m_on = median(on, reps);
	printf("  median: without %.3f, with %.3f: with/without = %.3f\n\n",
	       m_off, m_on, m_on / m_off);
	return 0;
}

/* @n processes, at most @par alive, each killed by SIGKILL at once. */
static double flood(unsigned int n, unsigned int par)
{
	unsigned int started = 0, alive = 0;
	double t0 = now_s();

	while (started < n || alive) {
		if (started < n && alive < par) {
			pid_t pid = fork();

			if (pid == 0)
				raise(SIGKILL);
			if (pid < 0) {
				perror("kheal-bpf-bench: fork");
				return -1;
			}
			started++;
			alive++;
			continue;
		}
		if (wait(NULL) > 0)
			alive--;
	}
	return now_s() - t0;
}

static int bench_flood(unsigned int n, int reps)
{
	double off[MAX_REPS], on[MAX_REPS], evs[MAX_REPS];
	struct kheal_bpf_status st;
	uint64_t drops = 0, emitted = 0, delivered = 0;
	struct drain d = { 0 };
	pthread_t th;
	int r;

	printf("crash flood: %u processes killed by SIGKILL, 4 at a time\n", n);
	for (r = 0; r < reps; r++) {
		double t;

		t = flood(n, 4);
		off[r] = n / t;

		d.events = 0;
		d.kb = attach_all(count_event, &d, "crash");
		if (!d.kb)
			return -1;
		atomic_store(&d.stop, false);
		pthread_create(&th, NULL, drain_thread, &d);
		t = flood(n, 4);
		atomic_store(&d.stop, true);
		pthread_join(th, NULL);
		kheal_bpf_status(d.kb, &st);
		kheal_bpf_close(d.kb);
		on[r] = n / t;
		evs[r] = d.events / t;
		drops += st.rb_drops;
		emitted += st.emitted;
		delivered += st.delivered;
		printf("  rep %d: without %.0f proc/s, with %.0f proc/s, %.0f events/s delivered\n",
		       r + 1, off[r], on[r], evs[r]);
	}
	printf("  median: without %.0f proc/s, with %.0f proc/s: with/without = %.3f;"
	       " %.0f events/s; emitted %" PRIu64 ", delivered %" PRIu64
	       ", ring-buffer drops %" PRIu64 "\n",
	       median(off, reps), median(on, reps),
	       median(on, reps) / median(off, reps), median(evs, reps),
	       emitted, delivered, drops);
	return 0;
}

int main(int argc, char **argv)
{
	struct rlimit nocore = { 0, 0 };
	unsigned int n = 5000;
	int reps = 5, c;

	while ((c = getopt(argc, argv, "r:n:h")) != -1) {
		switch (c) {
		case 'r':
			reps = atoi(optarg);
			break;
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr,
				"usage: kheal-bpf-bench [-r REPS (5)] [-n FLOOD_PROCESSES (5000)]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (reps < 1 || reps > MAX_REPS || !n) {
		fprintf(stderr, "kheal-bpf-bench: -r 1..%d, -n > 0\n", MAX_REPS);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	setrlimit(RLIMIT_CORE, &nocore);

	if (system("perf bench sched messaging -g 1 -l 1 >/dev/null 2>&1")) {
		printf("perf bench unavailable (apt-get install linux-perf): sched figures skipped\n\n");
	} else {
		if (bench_sched("sched messaging (seconds, lower is better)",
				"perf bench sched messaging -g 5 -l 200 2>&1",
				"Total time:", reps))
			return 1;
		if (bench_sched("sched pipe (seconds, lower is better)",
				"perf bench sched pipe -l 200000 2>&1",
				"Total time:", reps))
			return 1;
	}
	return bench_flood(n, reps) ? 1 : 0;
}

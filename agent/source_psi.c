// SPDX-License-Identifier: GPL-2.0
/*
 * The PSI event source (kheald --psi): memory pressure as the kernel
 * measures it, before the OOM killer has to act. It registers a trigger,
 * "some STALL WINDOW", on /proc/pressure/memory and on the memory.pressure
 * of each watched cgroup, as systemd-oomd does, and turns each firing into
 * a mem_pressure event; meanwhile it samples the growth tracker
 * (memtrack.h) every KHEAL_MEMTRACK_SAMPLE_MS, so that the process that
 * grew most is known when a trigger fires, and names it in the event.
 *
 * One event per pressure episode and watch: a trigger fires at most once
 * per window, and again each window while tasks stall; after an event the
 * watch stays quiet until its stall over a whole window has fallen below
 * the trigger's and the trigger has been quiet for two windows, so the
 * stall a kill has just ended does not report again.
 * The host's pressure includes every cgroup's: a firing on the host is
 * reported only if no watched cgroup explains it (kheal_psi_explained()).
 *
 * Numbering as the BPF source does: instance KHEAL_SOURCE_PSI_INSTANCE,
 * seq after the last psi seq in the journal.
 *
 * Why a thread: a trigger tells that it fired only to the first poll of
 * its file after the fact (psi_trigger_poll() clears the event as it
 * reports it), and poll() on an epoll descriptor polls the ready files
 * to answer. kheald's main loop polling an epoll set of triggers would
 * take each event and leave epoll_wait() nothing. So a thread of this
 * source is the one waiter (epoll_wait(), each trigger EPOLLONESHOT), and
 * passes each firing, and each tick of the sampling timer, as a token
 * through a socket pair, whose other end is the source's descriptor. The
 * main thread handles the token, then re-arms the trigger. The thread
 * touches nothing else.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "actions.h"
#include "source_psi.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define NSEC_PER_MSEC	((uint64_t)1000000)
#define NSEC_PER_USEC	((uint64_t)1000)
#define MAX_WATCHES	64
/* Epoll data of the thread's own descriptors; triggers are 2 * id. */
#define EP_TIMER	0
#define EP_STOP		1
/* Tokens: a trigger's id, doubled, plus one if its file is gone. */
#define TOKEN_TIMER	0
#define TOKEN_GONE	1
#define TOKENS_PER_HANDLE	256

struct watch {
	uint64_t id;			/* from 1, never reused */
	char cgroup[KHEAL_CGROUP_PATH_LEN];	/* "/": the host */
	char name[KHEAL_CGROUP_PATH_LEN + 8];	/* "memory:/a", as health names it */
	int fd;				/* the trigger; -1: none */
	uint64_t cgroup_id;
	bool given;			/* --psi-cgroup: kept while missing */
	bool seen;			/* by the last scan of the root */
	bool episode;			/* reported: quiet until the stall falls */
	uint64_t fired_ns;		/* CLOCK_MONOTONIC, the last firing */
	bool noted;			/* said why it has no trigger */
	char reason[KHEAL_SOURCE_REASON_LEN];
	uint64_t events;
	struct kheal_psi_hist hist;
};

struct psi_src {
	struct kheal_source *src;
	const struct kheal_psi_config *cfg;
	struct kheal_exec_ctx x;	/* the cgroup rules, for the paths */
	struct kheal_memtrack *track;
	uint64_t seq;			/* the last one given */
	int epfd, timerfd, stopfd;
	int sv[2];			/* tokens: [1] the thread's end */
	pthread_t thread;
	bool thread_up;
	atomic_bool timer_pending;
	struct watch *w[MAX_WATCHES];	/* w[0]: the host */
	size_t nw;
	uint64_t next_id;
	bool all;			/* no --psi-cgroup: first-level cgroups */
	bool full_noted, track_noted, thread_failed;
};

static void __attribute__((format(printf, 2, 3)))
note(struct psi_src *p, const char *fmt, ...)
{
	struct kheal_source_cb *cb = &p->src->cb;
	char msg[512];
	va_list ap;

	if (!cb->note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cb->note(msg, cb->arg);
}

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static bool is_host(const struct watch *w)
{
	return !strcmp(w->cgroup, "/");
}

void kheal_psi_hist_push(struct kheal_psi_hist *h, uint64_t at_ns,
			 uint64_t total_us)
{
	if (h->n == KHEAL_PSI_HIST) {
		memmove(h->v, h->v + 1, (h->n - 1) * sizeof(h->v[0]));
		h->n--;
	}
	h->v[h->n].at_ns = at_ns;
	h->v[h->n].total_us = total_us;
	h->n++;
}

uint64_t kheal_psi_hist_stall(const struct kheal_psi_hist *h, uint64_t now_ns,
			      uint64_t total_now, uint64_t window_ns,
			      uint64_t *span_ns)
{
	unsigned int i, from = 0;

	*span_ns = 0;
	if (!h->n)
		return 0;
	for (i = 0; i < h->n; i++)
		if (now_ns >= h->v[i].at_ns &&
		    now_ns - h->v[i].at_ns >= window_ns)
			from = i;
	*span_ns = now_ns > h->v[from].at_ns ? now_ns - h->v[from].at_ns : 0;
	return total_now > h->v[from].total_us ?
	       total_now - h->v[from].total_us : 0;
}

bool kheal_psi_explained(uint64_t host_stall_us, uint64_t max_cgroup_stall_us,
			 uint32_t stall_us)
{
	return host_stall_us < max_cgroup_stall_us + stall_us;
}

#define SET(ev, a)	((ev)->present |= 1ULL << KHEAL_A_##a)

void kheal_source_psi_event(struct kheal_event *ev, const char *cgroup,
			    uint64_t cgroup_id,
			    const struct kheal_psi_line *some,
			    const struct kheal_grower *g, uint64_t time_ns)
{
	char grower[KHEAL_DETAIL_LEN] = "";
	int n = 0;

	memset(ev, 0, sizeof(*ev));
	ev->source = KHEAL_SOURCE_PSI;
	ev->instance = KHEAL_SOURCE_PSI_INSTANCE;
	ev->time_ns = time_ns;
	ev->kind = KHEAL_EVENT_MEM_PRESSURE;
	ev->severity = KHEAL_SEV_WARNING;
	snprintf(ev->subsys, sizeof(ev->subsys), "memory");
	snprintf(ev->cgroup_path, sizeof(ev->cgroup_path), "%s", cgroup);
	SET(ev, INSTANCE);
	SET(ev, TIME_NS);
	SET(ev, KIND);
	SET(ev, SEVERITY);
	SET(ev, SUBSYS);
	SET(ev, CGROUP_PATH);
	if (cgroup_id) {
		ev->cgroup_id = cgroup_id;
		SET(ev, CGROUP_ID);
	}
	/* diagnose.c reads the grower back: "top grower pid P +K kB in M ms: COMM" */
	if (g)
		n = snprintf(grower, sizeof(grower),
			     "; top grower pid %d +%" PRIu64 " kB in %" PRIu64 " ms: %s",
			     (int)g->pid, g->growth_kb, g->span_ms, g->comm);
	if (n < 0 || (size_t)n >= sizeof(ev->detail))
		grower[0] = '\0';
	if (kheal_psi_format(some, ev->detail,
			     sizeof(ev->detail) - strlen(grower)) < 0)
		ev->detail[0] = '\0';
	strcat(ev->detail, grower);
	if (ev->detail[0])
		SET(ev, DETAIL);
}

/* The waiter: the one poller of the triggers, see the top of the file. */
static void *waiter(void *arg)
{
	struct psi_src *p = arg;
	struct epoll_event evs[16];
	uint64_t token, exp;
	int i, n;

	for (;;) {
		n = epoll_wait(p->epfd, evs, ARRAY_SIZE(evs), -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* The main thread sees the socket hang up. */
			shutdown(p->sv[1], SHUT_WR);
			return NULL;
		}
		for (i = 0; i < n; i++) {
			token = evs[i].data.u64;
			if (token == EP_STOP)
				return NULL;
			if (token == EP_TIMER) {
				if (read(p->timerfd, &exp, sizeof(exp)) < 0 ||
				    atomic_exchange(&p->timer_pending, true))
					continue;
				token = TOKEN_TIMER;
			} else if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
				token |= TOKEN_GONE;
			}
			/* Blocks while the main thread is busy: nothing is lost. */
			while (send(p->sv[1], &token, sizeof(token),
				    MSG_NOSIGNAL) < 0 && errno == EINTR)
				;
		}
	}
}

static int arm(struct psi_src *p, struct watch *w, int op)
{
	struct epoll_event ev = {
		.events = EPOLLPRI | EPOLLONESHOT,
		.data.u64 = w->id * 2,
	};

	return epoll_ctl(p->epfd, op, w->fd, &ev) ? -errno : 0;
}

static void watch_unregister(struct psi_src *p, struct watch *w)
{
	if (w->fd < 0)
		return;
	epoll_ctl(p->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	close(w->fd);
	w->fd = -1;
	w->episode = false;
	w->hist.n = 0;
}

/* The trigger on @w's pressure file; on failure @w->reason says why. */
static int watch_register(struct psi_src *p, struct watch *w,
			  struct kheal_err *err)
{
	struct stat st;
	int dirfd = AT_FDCWD, ret;
	char path[PATH_MAX];

	if (is_host(w)) {
		snprintf(path, sizeof(path), "%s/pressure/memory",
			 p->cfg->proc_root);
	} else {
		dirfd = kheal_exec_cgroup_open(&p->x, w->cgroup, err);
		if (dirfd < 0) {
			ret = dirfd;
			goto out;
		}
		if (!fstat(dirfd, &st))
			w->cgroup_id = st.st_ino;
		snprintf(path, sizeof(path), "memory.pressure");
	}
	ret = kheal_psi_trigger_open(dirfd, path, p->cfg->stall_us,
				     p->cfg->window_us, err);
	if (dirfd >= 0)
		close(dirfd);
	if (ret < 0)
		goto out;
	w->fd = ret;
	ret = arm(p, w, EPOLL_CTL_ADD);
	if (ret) {
		kheal_err_set(err, -ret, "%s: epoll: %s", w->name,
			      strerror(-ret));
		close(w->fd);
		w->fd = -1;
		goto out;
	}
	w->reason[0] = '\0';
	w->noted = false;
	w->hist.n = 0;
	return 0;
out:
	snprintf(w->reason, sizeof(w->reason), "%.*s",
		 (int)sizeof(w->reason) - 1, err->msg);
	return ret;
}

static struct watch *watch_add(struct psi_src *p, const char *cgroup,
			       bool given)
{
	struct watch *w;

	if (p->nw == MAX_WATCHES) {
		if (!p->full_noted)
			note(p, "PSI: watching %d memory domains already; %s is not watched",
			     MAX_WATCHES, cgroup);
		p->full_noted = true;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->id = ++p->next_id;
	w->fd = -1;
	w->given = given;
	snprintf(w->cgroup, sizeof(w->cgroup), "%s", cgroup);
	snprintf(w->name, sizeof(w->name), "memory:%s",
		 is_host(w) ? "global" : cgroup);
	p->w[p->nw++] = w;
	return w;
}

static void watch_remove(struct psi_src *p, size_t i)
{
	watch_unregister(p, p->w[i]);
	free(p->w[i]);
	memmove(&p->w[i], &p->w[i + 1], (p->nw - i - 1) * sizeof(p->w[0]));
	p->nw--;
}

static struct watch *watch_find(struct psi_src *p, const char *cgroup)
{
	size_t i;

	for (i = 0; i < p->nw; i++)
		if (!strcmp(p->w[i]->cgroup, cgroup))
			return p->w[i];
	return NULL;
}

/* Registers @w if it has no trigger; says once why it cannot. */
static void try_register(struct psi_src *p, struct watch *w)
{
	struct kheal_err err = { "" };

	if (w->fd >= 0 || !watch_register(p, w, &err) || w->noted)
		return;
	w->noted = true;
	note(p, "PSI: %s not watched: %s%s", w->name, err.msg,
	     w->given ? "; trying again each second" : "");
}

/*
 * Without --psi-cgroup, the first-level cgroups that account pressure,
 * as they are now. Cgroups the rules refuse (a name with control
 * characters) are noted once, like any that cannot be watched.
 */
static void scan_root(struct psi_src *p)
{
	char path[KHEAL_CGROUP_PATH_LEN];
	struct watch *w;
	struct dirent *de;
	size_t i;
	DIR *dir;

	dir = opendir(p->cfg->cgroup_root);
	if (!dir)
		return;
	for (i = 1; i < p->nw; i++)
		p->w[i]->seen = false;
	while ((de = readdir(dir))) {
		if ((de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) ||
		    de->d_name[0] == '.' ||
		    snprintf(path, sizeof(path), "%s/memory.pressure",
			     de->d_name) >= (int)sizeof(path) ||
		    faccessat(dirfd(dir), path, F_OK, AT_SYMLINK_NOFOLLOW))
			continue;
		if (snprintf(path, sizeof(path), "/%s", de->d_name) >=
		    (int)sizeof(path))
			continue;
		w = watch_find(p, path);
		if (!w)
			w = watch_add(p, path, false);
		if (!w)
			continue;
		w->seen = true;
		try_register(p, w);
	}
	closedir(dir);
	for (i = p->nw; i-- > 1;)
		if (!p->w[i]->seen && !p->w[i]->given)
			watch_remove(p, i);
}

/* Each second: cgroups that came or went, triggers not registered yet. */
static int psi_tick(struct kheal_source *src, struct kheal_err *err)
{
	struct psi_src *p = src->priv;
	size_t i;

	if (p->all && p->cfg->cgroup_root)
		scan_root(p);
	for (i = 0; i < p->nw; i++)
		try_register(p, p->w[i]);
	if (p->thread_failed)
		return kheal_err_set(err, EIO,
				     "PSI: the trigger waiter stopped; memory pressure is no longer reported");
	return 0;
}

/* The stall of @w in the last window, from its history and @total_now. */
static uint64_t window_stall(const struct psi_src *p, const struct watch *w,
			     uint64_t now, uint64_t total_now, uint64_t *span)
{
	return kheal_psi_hist_stall(&w->hist, now, total_now,
				    p->cfg->window_us * NSEC_PER_USEC, span);
}

/* The most stalled watched cgroup, in the last window. */
static uint64_t most_stalled_cgroup(struct psi_src *p, uint64_t now)
{
	struct kheal_psi psi;
	uint64_t most = 0, s, span;
	size_t i;

	for (i = 1; i < p->nw; i++) {
		if (p->w[i]->fd < 0 || kheal_psi_read_fd(p->w[i]->fd, &psi))
			continue;
		s = window_stall(p, p->w[i], now, psi.some.total_us, &span);
		if (s > most)
			most = s;
	}
	return most;
}

/* A trigger fired: the event, unless in an episode, or explained. */
static int fire(struct psi_src *p, struct watch *w)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC), host, span;
	const struct kheal_grower *gp = NULL;
	struct kheal_psi psi = { 0 };
	struct kheal_grower g;
	struct kheal_event ev;

	kheal_psi_read_fd(w->fd, &psi);
	w->fired_ns = now;
	if (w->episode)
		return 0;
	if (is_host(w) && p->nw > 1) {
		host = window_stall(p, w, now, psi.some.total_us, &span);
		if (kheal_psi_explained(host, most_stalled_cgroup(p, now),
					p->cfg->stall_us))
			return 0;
	}
	w->episode = true;
	w->events++;
	if (p->track && kheal_memtrack_top(p->track, w->cgroup, &g, 1) &&
	    g.growth_kb >= KHEAL_MEMTRACK_LEAK_KB)
		gp = &g;
	kheal_source_psi_event(&ev, w->cgroup, w->cgroup_id, &psi.some, gp,
			       clock_ns(CLOCK_BOOTTIME));
	ev.seq = ++p->seq;
	SET(&ev, SEQ);
	p->src->stats.received++;
	return p->src->cb.event(&ev, p->src->cb.arg);
}

/*
 * The timer: a sample of the tracker, and of each watch's stall, which
 * ends the episode of a watch whose stall over the last whole window is
 * below the trigger's, and whose trigger has not fired for two windows:
 * the kernel adds the last window's growth, prorated, to the current
 * one's (window_update()), so a trigger may fire once more a window
 * after the stall has ended.
 */
static void sample(struct psi_src *p)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC), span, s;
	uint64_t window = p->cfg->window_us * NSEC_PER_USEC;
	struct kheal_err err = { "" };
	struct kheal_psi psi;
	struct watch *w;
	size_t i;

	atomic_store(&p->timer_pending, false);
	if (p->track && kheal_memtrack_sample(p->track, now, &err) &&
	    !p->track_noted) {
		p->track_noted = true;
		note(p, "PSI: growth tracker: %s", err.msg);
	}
	for (i = 0; i < p->nw; i++) {
		w = p->w[i];
		if (w->fd < 0 || kheal_psi_read_fd(w->fd, &psi))
			continue;
		s = window_stall(p, w, now, psi.some.total_us, &span);
		if (w->episode && span >= window && s < p->cfg->stall_us &&
		    now - w->fired_ns >= 2 * window)
			w->episode = false;
		kheal_psi_hist_push(&w->hist, now, psi.some.total_us);
	}
}

static struct watch *watch_by_id(struct psi_src *p, uint64_t id, size_t *at)
{
	size_t i;

	for (i = 0; i < p->nw; i++)
		if (p->w[i]->id == id) {
			*at = i;
			return p->w[i];
		}
	return NULL;
}

/* A trigger whose file went: its cgroup was removed. */
static void gone(struct psi_src *p, struct watch *w, size_t at)
{
	if (is_host(w)) {
		note(p, "PSI: %s: the trigger reports an error; registering it again",
		     w->name);
		watch_unregister(p, w);
		try_register(p, w);
	} else if (w->given) {
		note(p, "PSI: %s is gone; watching for it to come back",
		     w->name);
		watch_unregister(p, w);
	} else {
		watch_remove(p, at);
	}
}

static int psi_handle(struct kheal_source *src, struct kheal_err *err)
{
	struct psi_src *p = src->priv;
	uint64_t token;
	struct watch *w;
	int i, ret = 0;
	ssize_t n;
	size_t at;

	for (i = 0; i < TOKENS_PER_HANDLE && !ret; i++) {
		n = recv(p->sv[0], &token, sizeof(token), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n != sizeof(token)) {
			p->thread_failed = true;
			return kheal_err_set(err, EIO,
					     "PSI: the trigger waiter stopped; memory pressure is no longer reported");
		}
		if (token == TOKEN_TIMER) {
			sample(p);
			continue;
		}
		w = watch_by_id(p, token / 2, &at);
		if (!w || w->fd < 0)
			continue;	/* removed since */
		if (token & TOKEN_GONE) {
			gone(p, w, at);
			continue;
		}
		ret = fire(p, w);
		/* The event may have run a step: look the watch up anew. */
		w = watch_by_id(p, token / 2, &at);
		if (w && w->fd >= 0 && arm(p, w, EPOLL_CTL_MOD))
			gone(p, w, at);
	}
	return ret;
}

static int psi_fd(struct kheal_source *src)
{
	struct psi_src *p = src->priv;

	return p->sv[0];
}

static void psi_state(struct kheal_source *src, struct kheal_source_state *st)
{
	struct psi_src *p = src->priv;
	struct kheal_probe_state *out;
	size_t i;

	*st = (struct kheal_source_state){
		.attached = !p->thread_failed,
		.instance = KHEAL_SOURCE_PSI_INSTANCE,
		.last_seq = p->seq,
	};
	for (i = 0; i < p->nw && i < KHEAL_SOURCE_PROBES_MAX; i++) {
		out = &st->probes[st->nprobes++];
		out->name = p->w[i]->name;
		out->attached = p->w[i]->fd >= 0;
		out->events = p->w[i]->events;
		snprintf(out->reason, sizeof(out->reason), "%s",
			 p->w[i]->reason);
	}
}

/* Stops the waiter, taking what it still sends so it never blocks. */
static void stop_thread(struct psi_src *p)
{
	struct pollfd pfd = { .fd = p->sv[0], .events = POLLIN };
	uint64_t one = 1, token;

	if (!p->thread_up)
		return;
	if (write(p->stopfd, &one, sizeof(one)) < 0)
		pthread_cancel(p->thread);
	while (pthread_tryjoin_np(p->thread, NULL) == EBUSY) {
		while (recv(p->sv[0], &token, sizeof(token), MSG_DONTWAIT) > 0)
			;
		poll(&pfd, 1, 10);
	}
	p->thread_up = false;
}

static void psi_close(struct kheal_source *src)
{
	struct psi_src *p = src->priv;
	size_t i;

	if (!p)
		return;
	stop_thread(p);
	for (i = 0; i < p->nw; i++) {
		watch_unregister(p, p->w[i]);
		free(p->w[i]);
	}
	for (i = 0; i < 2; i++)
		if (p->sv[i] >= 0)
			close(p->sv[i]);
	if (p->epfd >= 0)
		close(p->epfd);
	if (p->timerfd >= 0)
		close(p->timerfd);
	if (p->stopfd >= 0)
		close(p->stopfd);
	free(p);
	src->priv = NULL;
}

static int setup(struct psi_src *p, struct kheal_err *err)
{
	struct itimerspec period = {
		.it_interval = { .tv_nsec = KHEAL_MEMTRACK_SAMPLE_MS *
					    NSEC_PER_MSEC },
		.it_value = { .tv_nsec = KHEAL_MEMTRACK_SAMPLE_MS *
					 NSEC_PER_MSEC },
	};
	struct epoll_event timer = { .events = EPOLLIN, .data.u64 = EP_TIMER };
	struct epoll_event stop = { .events = EPOLLIN, .data.u64 = EP_STOP };
	int ret;

	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	p->timerfd = timerfd_create(CLOCK_MONOTONIC,
				    TFD_CLOEXEC | TFD_NONBLOCK);
	p->stopfd = eventfd(0, EFD_CLOEXEC);
	if (p->epfd < 0 || p->timerfd < 0 || p->stopfd < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p->sv) ||
	    timerfd_settime(p->timerfd, 0, &period, NULL) ||
	    epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->timerfd, &timer) ||
	    epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->stopfd, &stop))
		return kheal_err_set(err, errno, "PSI: setting up: %s",
				     strerror(errno));
	ret = pthread_create(&p->thread, NULL, waiter, p);
	if (ret)
		return kheal_err_set(err, ret, "PSI: starting the waiter: %s",
				     strerror(ret));
	p->thread_up = true;
	return 0;
}

/*
 * Given empty, the tracker follows the triggers: the cgroups given, or
 * every process ("/"; kernel threads cost it a read a window).
 */
static int setup_tracker(struct psi_src *p, struct kheal_err *err)
{
	size_t i;
	int ret = 0;

	if (!p->track || p->track->nwatch || !p->cfg->cgroup_root)
		return 0;
	if (p->all)
		return kheal_memtrack_watch(p->track, "/", err);
	for (i = 0; i < p->cfg->ncgroups && !ret; i++)
		ret = kheal_memtrack_watch(p->track, p->cfg->cgroups[i], err);
	return ret;
}

static int psi_open(struct kheal_source *src, struct kheal_err *err)
{
	const struct kheal_psi_config *cfg = src->cfg.psi;
	struct kheal_err werr;
	struct psi_src *p;
	struct watch *w;
	size_t i;
	int ret;

	if (!cfg || !cfg->proc_root)
		return kheal_err_set(err, EINVAL, "PSI: no configuration");
	p = calloc(1, sizeof(*p));
	if (!p)
		return kheal_err_set(err, ENOMEM, "allocating the PSI source");
	*p = (struct psi_src){
		.src = src,
		.cfg = cfg,
		.x = {
			.cgroup_root = cfg->cgroup_root,
			.proc_root = cfg->proc_root,
			.self = cfg->self,
		},
		.track = cfg->memtrack,
		.epfd = -1, .timerfd = -1, .stopfd = -1, .sv = { -1, -1 },
		.all = !cfg->ncgroups,
	};
	src->priv = p;
	ret = setup(p, err);
	if (!ret)
		ret = setup_tracker(p, err);
	w = ret ? NULL : watch_add(p, "/", false);
	if (!ret && !w)
		ret = kheal_err_set(err, ENOMEM, "allocating the PSI source");
	if (!ret)
		ret = watch_register(p, w, err);
	if (ret)
		goto fail;
	for (i = 0; i < cfg->ncgroups; i++) {
		w = watch_add(p, cfg->cgroups[i], true);
		werr.msg[0] = '\0';
		if (w && watch_register(p, w, &werr) == -ENOENT) {
			w->noted = true;
			note(p, "PSI: %s does not exist (yet): watching for it each second",
			     w->name);
		} else if (w && w->fd < 0) {
			ret = kheal_err_set(err, EINVAL, "--psi-cgroup %s: %s",
					    cfg->cgroups[i], werr.msg);
			goto fail;
		}
	}
	if (p->all && cfg->cgroup_root)
		scan_root(p);
	p->seq = src->resume.known ? src->resume.last : 0;
	note(p, "PSI: trigger some %" PRIu32 " %" PRIu32 " on %s and %zu cgroup%s (%s); growth sampled every %d ms over %d ms; numbering after seq %" PRIu64,
	     cfg->stall_us, cfg->window_us, p->w[0]->name, p->nw - 1,
	     p->nw == 2 ? "" : "s",
	     p->all ? "every first-level cgroup" : "--psi-cgroup",
	     KHEAL_MEMTRACK_SAMPLE_MS, KHEAL_MEMTRACK_WINDOW_MS, p->seq);
	return 0;
fail:
	psi_close(src);
	return ret;
}

const struct kheal_source_ops kheal_source_psi_ops = {
	.name	= "psi",
	.id	= KHEAL_SOURCE_PSI,
	.open	= psi_open,
	.fd	= psi_fd,
	.handle	= psi_handle,
	.tick	= psi_tick,
	.state	= psi_state,
	.close	= psi_close,
};

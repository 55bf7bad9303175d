/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libkhealbpf: loads kheal's BPF probes and delivers their events, for a
 * daemon that owns its main loop (the *_fd() / *_handle() pair).
 *
 *	struct kheal_bpf *kb = kheal_bpf_open(&opts, on_event, ctx);
 *
 *	if (!kb)
 *		fail(-errno);		no probe could be attached at all
 *	kheal_bpf_status(kb, &st);	which probes run, and why not
 *	poll kheal_bpf_fd(kb) for POLLIN, then kheal_bpf_handle(kb)
 *	kheal_bpf_set_config(kb, &cfg);	thresholds, at any time
 *	kheal_bpf_close(kb);
 *
 * Each probe (enum kheal_bpf_probe) loads and attaches on its own: one
 * whose tracepoint the kernel lacks, or that the verifier refuses, is
 * disabled alone and its status says why; the others run. All probes
 * write into one ring buffer, so events arrive in the order the probes
 * reserved them, across CPUs.
 *
 * Functions returning int return 0 or a count on success and -errno on
 * failure; kheal_bpf_open() returns NULL and sets errno. Nothing here
 * prints: libbpf's messages go to opts->log if set, else nowhere. Needs
 * CAP_BPF and CAP_PERFMON (or root). Not thread-safe: one thread drives
 * a struct kheal_bpf, and kheal_bpf_open() temporarily replaces libbpf's
 * process-wide print callback, so do not load other BPF objects from
 * another thread while it runs.
 */
#ifndef _KHEAL_BPF_H
#define _KHEAL_BPF_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "kheal_bpf_event.h"

/* Signals whose deaths are crashes unless told otherwise. */
#define KHEAL_BPF_CRASH_SIGMASK_DEFAULT					\
	((1ULL << SIGKILL) | (1ULL << SIGSEGV) | (1ULL << SIGBUS) |	\
	 (1ULL << SIGABRT))

#define KHEAL_BPF_HUNG_MS_DEFAULT	10000	/* as kheal.ko's hung_ms */
#define KHEAL_BPF_DISK_STALL_MS_DEFAULT	5000
#define KHEAL_BPF_RINGBUF_KB_DEFAULT	1024
#define KHEAL_BPF_RINGBUF_KB_MAX	(1024 * 1024)	/* 1 GiB */

/* Run-time thresholds; 0 turns the corresponding report off. */
struct kheal_bpf_config {
	unsigned int hung_ms;		/* D state this long: hung_task */
	unsigned int disk_stall_ms;	/* I/O this slow: disk_stall */
	__u64 crash_sigmask;		/* bit N: death by signal N */
};

enum kheal_bpf_log_level {
	KHEAL_BPF_LOG_WARN,
	KHEAL_BPF_LOG_INFO,
	KHEAL_BPF_LOG_DEBUG,		/* libbpf's debug output */
};

typedef void (*kheal_bpf_log_fn)(enum kheal_bpf_log_level level,
				 const char *msg, void *ctx);

/*
 * Called for each event, from kheal_bpf_handle(). @ev points into the
 * ring buffer and is valid only during the call. A negative return stops
 * kheal_bpf_handle(), which returns it: that event is consumed, the ones
 * after it stay queued for the next call.
 */
typedef int (*kheal_bpf_event_fn)(const struct kheal_bpf_event *ev,
				  void *ctx);

struct kheal_bpf_opts {
	size_t sz;			/* sizeof(struct kheal_bpf_opts); a
					 * larger one (a newer caller) is EINVAL */
	/* NULL: the defaults (KHEAL_BPF_*_DEFAULT) */
	const struct kheal_bpf_config *config;
	unsigned int ringbuf_kb;	/* 0: default; rounded up to 2^n pages */
	/*
	 * Comma-separated probe names to load ("hung,oom"); NULL: all.
	 * An unknown name fails kheal_bpf_open() with EINVAL.
	 */
	const char *probes;
	/*
	 * For tests: attach probe @retarget_probe's first program to the
	 * tracepoint @retarget_tp instead (e.g. one the kernel lacks).
	 */
	const char *retarget_probe;
	const char *retarget_tp;
	kheal_bpf_log_fn log;		/* libbpf's messages; NULL: dropped */
	void *log_ctx;
};

#define KHEAL_BPF_REASON_LEN	256

struct kheal_bpf_probe_status {
	const char *name;		/* kheal_bpf_probe_name() */
	bool requested;			/* asked for by opts->probes */
	bool loaded;			/* the verifier accepted it */
	bool attached;			/* it runs */
	int error;			/* -errno when requested but not attached */
	char reason[KHEAL_BPF_REASON_LEN]; /* why not, naming the probe */
	__u64 emitted;			/* events it put in the ring buffer */
	__u64 delivered;		/* of those, handed to the callback */
	__u64 rb_drops;			/* events lost: ring buffer full */
	__u64 map_full;			/* episodes or requests untracked */
	__u64 suppressed;		/* duplicates deliberately not sent */
};

struct kheal_bpf_status {
	struct kheal_bpf_probe_status probes[KHEAL_BPF_PROBE_MAX];
	unsigned int attached;		/* probes running */
	unsigned int ringbuf_kb;
	__u64 emitted;			/* sums over the probes */
	__u64 delivered;
	__u64 rb_drops;
	__u64 map_full;
	__u64 scans;			/* hung-task scans run */
};

struct kheal_bpf;

/*
 * Loads and attaches the requested probes, creates the ring buffer and
 * sets the initial config. Succeeds if at least one probe is attached;
 * kheal_bpf_status() tells which. Returns NULL with errno set otherwise:
 * EINVAL (bad opts), EPERM (no privilege), or the first probe's error.
 */
struct kheal_bpf *kheal_bpf_open(const struct kheal_bpf_opts *opts,
				 kheal_bpf_event_fn cb, void *ctx);

/*
 * An epoll fd that turns readable when events are queued or a hung-task
 * scan is due; poll it for POLLIN and call kheal_bpf_handle().
 */
int kheal_bpf_fd(const struct kheal_bpf *kb);

/*
 * Runs a due hung-task scan, then hands every queued event to the
 * callback. Does not block. Returns the number of events handled, or a
 * negative callback return, or -errno.
 */
int kheal_bpf_handle(struct kheal_bpf *kb);

/* Runs a hung-task scan now, whatever the timer says. */
int kheal_bpf_scan(struct kheal_bpf *kb);

/* Takes effect for the next event; EINVAL leaves the old config. */
int kheal_bpf_set_config(struct kheal_bpf *kb,
			 const struct kheal_bpf_config *cfg);
void kheal_bpf_get_config(const struct kheal_bpf *kb,
			  struct kheal_bpf_config *cfg);

int kheal_bpf_status(const struct kheal_bpf *kb, struct kheal_bpf_status *st);

/* Detaches every probe and frees everything; NULL is a no-op. */
void kheal_bpf_close(struct kheal_bpf *kb);

/* "hung", "oom"...; NULL for a value out of range. */
const char *kheal_bpf_probe_name(unsigned int probe);
/*
 * Ring buffer sizes the kernel takes as they are: a power of two KiB
 * from one page, kheal_bpf_ringbuf_kb_min(), to KHEAL_BPF_RINGBUF_KB_MAX.
 * kheal_bpf_open() rounds any other opts->ringbuf_kb up; a CLI checks
 * with this that the size asked for is the size used.
 */
unsigned int kheal_bpf_ringbuf_kb_min(void);
bool kheal_bpf_ringbuf_kb_valid(unsigned int kb);
/* The subsystem an event of @kind is about, as kheal.ko names it. */
const char *kheal_bpf_kind_subsys(unsigned int kind);

#endif /* _KHEAL_BPF_H */

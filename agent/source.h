/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An event source: an engine that delivers events in order, behind a
 * small ops table. The daemon owns the main loop: it polls each source's
 * fd and calls handle() when it is readable, and tick() once a second.
 */
#ifndef KHEAL_SOURCE_H
#define KHEAL_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "event.h"
#include "seq.h"

/*
 * How the source reports; a negative return stops the source's work
 * and comes back out of handle() or tick().
 */
struct kheal_source_cb {
	int (*event)(const struct kheal_event *ev, void *arg);
	int (*gap)(const struct kheal_gap *gap, void *arg);
	/* Something a human should know; not an error. */
	void (*note)(const char *msg, void *arg);
	void *arg;
};

struct kheal_source_stats {
	uint64_t received;	/* delivered as they arrived (multicast) */
	uint64_t backfilled;	/* delivered from the kernel's backlog */
	uint64_t duplicates;	/* dropped: already delivered */
	uint64_t lost;		/* proven lost: the sum of all gaps */
	uint64_t enobufs;	/* times the receive buffer overflowed */
	uint64_t stale;		/* dropped: from an unloaded instance */
	uint64_t merged;	/* not reported: the other source was first */
};

struct kheal_psi_config;

/* What the daemon asks of every source. */
struct kheal_source_config {
	uint32_t hung_ms;	/* hung-task threshold */
	/*
	 * Given on the command line: the module's own threshold is set to
	 * it too. Otherwise the module keeps its own.
	 */
	bool hung_ms_set;
	uint32_t ringbuf_kb;	/* BPF ring buffer, KiB; 0: the default */
	const struct kheal_psi_config *psi;	/* the PSI source's */
};

#define KHEAL_SOURCE_PROBES_MAX	16
#define KHEAL_SOURCE_REASON_LEN	256

/* A part of a source that runs on its own (a BPF probe). */
struct kheal_probe_state {
	const char *name;
	bool attached;
	char reason[KHEAL_SOURCE_REASON_LEN];	/* why not attached */
	uint64_t events;
};

/* What khealctl status shows of a source. */
struct kheal_source_state {
	bool attached;		/* delivering events */
	uint64_t instance;
	uint64_t last_seq;
	unsigned int nprobes;
	struct kheal_probe_state probes[KHEAL_SOURCE_PROBES_MAX];
};

struct kheal_source {
	const struct kheal_source_ops *ops;
	struct kheal_source_cb cb;
	struct kheal_source_config cfg;
	/* Where to start: events after (instance, last); !known: all. */
	struct kheal_seq resume;
	struct kheal_source_stats stats;
	void *priv;
};

struct kheal_source_ops {
	const char *name;
	enum kheal_source_id id;	/* what its events say in source */
	int (*open)(struct kheal_source *src, struct kheal_err *err);
	int (*fd)(struct kheal_source *src);
	int (*handle)(struct kheal_source *src, struct kheal_err *err);
	/* Periodic checks that no event can prompt by arriving. */
	int (*tick)(struct kheal_source *src, struct kheal_err *err);
	void (*state)(struct kheal_source *src, struct kheal_source_state *st);
	void (*close)(struct kheal_source *src);
};

#endif

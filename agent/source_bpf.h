/* SPDX-License-Identifier: GPL-2.0 */
/* The BPF event source: kheal's BPF probes through libkhealbpf. */
#ifndef KHEAL_SOURCE_BPF_H
#define KHEAL_SOURCE_BPF_H

#include "kheal_bpf.h"
#include "source.h"

/*
 * The probes do not number their events: kheald does, as one stream of
 * this fixed instance that continues across restarts from the last BPF
 * seq in the journal.
 */
#define KHEAL_SOURCE_BPF_INSTANCE	0

extern const struct kheal_source_ops kheal_source_bpf_ops;

/*
 * A probe's event as a kheal event, all but what kheald adds: seq,
 * cgroup_path and the symbolised stack. -EBADMSG names what is wrong.
 */
int kheal_source_bpf_map(const struct kheal_bpf_event *in,
			 struct kheal_event *out, struct kheal_err *err);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* Deterministic replay of a journal through the brain, acting on nothing. */
#ifndef KHEAL_REPLAY_H
#define KHEAL_REPLAY_H

#include <stdio.h>

#include "brain.h"
#include "err.h"

/*
 * Feeds the events of the journal at @path through a brain configured
 * as @cfg (dry run forced, no drafts written), with each incident's
 * context and the humans' answers as recorded, and prints to @out one
 * line per record it would journal, then a summary line. The same
 * journal, runbooks and profile print the same lines every time.
 */
int kheal_replay(const char *path, const struct kheal_brain_cfg *cfg,
		 FILE *out, struct kheal_err *err);

#endif

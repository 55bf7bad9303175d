/* SPDX-License-Identifier: GPL-2.0 */
/* kheald's state file: the engine it runs and its sources, each tick. */
#ifndef KHEAL_STATE_H
#define KHEAL_STATE_H

#include "err.h"
#include "kheal.pb-c.h"

/* No state comes near this; a larger file is not one kheald wrote. */
#define KHEAL_STATE_MAX		(64 << 10)

/* The names --engine takes, and khealctl status prints. */
const char *kheal_engine_name(Kheal__Engine engine);

/* Replaces @path as a whole (a reader never sees half a state). */
int kheal_state_write(const char *path, const Kheal__AgentState *st,
		      struct kheal_err *err);

/*
 * Reads @path; free *st with kheal__agent_state__free_unpacked().
 * -ENOENT if there is none, -EBADMSG if it is not a state.
 */
int kheal_state_read(const char *path, Kheal__AgentState **st,
		     struct kheal_err *err);

#endif

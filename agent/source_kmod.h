/* SPDX-License-Identifier: GPL-2.0 */
/* The kmod event source: kheal.ko's events over generic netlink. */
#ifndef KHEAL_SOURCE_KMOD_H
#define KHEAL_SOURCE_KMOD_H

#include "source.h"

extern const struct kheal_source_ops kheal_source_kmod_ops;

/*
 * The text of the checkpoint kheal.ko took for @ev (its CHECKPOINT_ID, of
 * its INSTANCE), asked for with GET_CHECKPOINT on a command socket of its
 * own, into *@text (malloc'ed). 0 with *@text NULL when @ev names no
 * checkpoint of the module's (the BPF engine takes none).
 */
int kheal_kmod_checkpoint(const struct kheal_event *ev, char **text,
			  struct kheal_err *err);

#endif

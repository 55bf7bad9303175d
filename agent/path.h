/* SPDX-License-Identifier: GPL-2.0 */
/* Paths kheald writes to: the directories above them. */
#ifndef KHEAL_PATH_H
#define KHEAL_PATH_H

#include "err.h"

/* Creates the directories above @path (mode 0755), as mkdir -p would. */
int kheal_make_parents(const char *path, struct kheal_err *err);

#endif

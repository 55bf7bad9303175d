/* SPDX-License-Identifier: GPL-2.0 */
/* The control socket's ops on the brain (ctl.h serves them). */
#ifndef KHEAL_BRAIN_CTL_H
#define KHEAL_BRAIN_CTL_H

#include <stddef.h>

#include "brain.h"
#include "ctl.h"

/* Their handlers take the struct kheal_brain as their arg. */
extern const struct kheal_ctl_op kheal_brain_ctl_ops[];
extern const size_t kheal_brain_ctl_nops;

#endif

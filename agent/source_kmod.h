/* SPDX-License-Identifier: GPL-2.0 */
/* The kmod event source: kheal.ko's events over generic netlink. */
#ifndef KHEAL_SOURCE_KMOD_H
#define KHEAL_SOURCE_KMOD_H

#include "source.h"

extern const struct kheal_source_ops kheal_source_kmod_ops;

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* Diagnosis: rules that name an incident's cause, with a confidence. */
#ifndef KHEAL_DIAGNOSE_H
#define KHEAL_DIAGNOSE_H

#include <stddef.h>

#include "event.h"
#include "incident.h"
#include "kheal.pb-c.h"

/* What a rule sees. */
struct kheal_diag_input {
	const struct kheal_event *ev;		/* the trigger */
	const char *subsystem;			/* its health id */
	const Kheal__Context *ctx;		/* NULL: none gathered */
	/* Events of the last minutes, oldest first, the trigger included. */
	const struct kheal_event *const *recent;
	size_t nrecent;
};

/*
 * Runs the first rule of the table in diagnose.c that takes the
 * trigger's kind; the last rule takes any. Deterministic: the same input
 * gives the same diagnosis, so a replay decides as the live run did.
 */
void kheal_diagnose(const struct kheal_diag_input *in,
		    struct kheal_diagnosis *out);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* Sequence continuity per module instance: next, duplicate, gap. */
#ifndef KHEAL_SEQ_H
#define KHEAL_SEQ_H

#include <stdbool.h>
#include <stdint.h>

/* Where a stream stands: the last seq accepted from an instance. */
struct kheal_seq {
	bool known;		/* false until an instance is tracked */
	uint64_t instance;
	uint64_t last;		/* 0: nothing accepted yet (seq starts at 1) */
};

enum kheal_seq_verdict {
	KHEAL_SEQ_NEXT,		/* seq == last + 1: accept it */
	KHEAL_SEQ_DUPLICATE,	/* seq <= last: already have it */
	KHEAL_SEQ_GAP,		/* seq > last + 1: *gap_first..*gap_last */
	KHEAL_SEQ_NEW_INSTANCE,	/* another instance, or none tracked yet */
};

enum kheal_seq_verdict kheal_seq_check(const struct kheal_seq *s,
				       uint64_t instance, uint64_t seq,
				       uint64_t *gap_first, uint64_t *gap_last);

/* Track @instance from @last on (0: from its first event). */
void kheal_seq_begin(struct kheal_seq *s, uint64_t instance, uint64_t last);

/* Record @seq as accepted; callers pass NEXT or GAP verdicts only. */
void kheal_seq_advance(struct kheal_seq *s, uint64_t seq);

#endif

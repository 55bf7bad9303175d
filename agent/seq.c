// SPDX-License-Identifier: GPL-2.0
/*
 * Sequence continuity. The module numbers its events 1, 2, 3... per load
 * (instance); this decides, for each arriving (instance, seq), whether it
 * is the next one, one already had, or one that shows a gap.
 */
#include "seq.h"

enum kheal_seq_verdict kheal_seq_check(const struct kheal_seq *s,
				       uint64_t instance, uint64_t seq,
				       uint64_t *gap_first, uint64_t *gap_last)
{
	if (!s->known || instance != s->instance)
		return KHEAL_SEQ_NEW_INSTANCE;
	if (seq <= s->last)
		return KHEAL_SEQ_DUPLICATE;
	if (seq == s->last + 1)
		return KHEAL_SEQ_NEXT;
	*gap_first = s->last + 1;
	*gap_last = seq - 1;
	return KHEAL_SEQ_GAP;
}

void kheal_seq_begin(struct kheal_seq *s, uint64_t instance, uint64_t last)
{
	*s = (struct kheal_seq){
		.known = true,
		.instance = instance,
		.last = last,
	};
}

void kheal_seq_advance(struct kheal_seq *s, uint64_t seq)
{
	if (seq > s->last)
		s->last = seq;
}

/* SPDX-License-Identifier: GPL-2.0 */
/* The append-only journal: varint-length-prefixed protobuf Records. */
#ifndef KHEAL_JOURNAL_H
#define KHEAL_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "kheal.pb-c.h"
#include "seq.h"

/* No record comes near this; a longer length prefix means corruption. */
#define KHEAL_JOURNAL_RECORD_MAX	(64 << 10)

/* Reads records one by one; a reader may follow a journal as it grows. */
struct kheal_journal_iter {
	int fd;
	uint8_t *buf;
	size_t len;		/* bytes buffered */
	size_t pos;		/* the next record starts at buf[pos]... */
	uint64_t off;		/* ...which is this file offset */
	uint64_t records;	/* records returned so far */
	uint64_t tail;		/* at the end: bytes of an incomplete record */
	uint64_t bad_end;	/* on -EBADMSG: the offset past it, or 0 */
};

int kheal_journal_iter_open(struct kheal_journal_iter *it, const char *path,
			    struct kheal_err *err);
/*
 * 1 and a record to free with kheal__record__free_unpacked(); 0 at the
 * end, where it->tail counts the bytes of a record not (yet) complete;
 * -EBADMSG for a corrupt record, naming its offset. Calling again after 0
 * picks up what was appended since.
 */
int kheal_journal_iter_next(struct kheal_journal_iter *it,
			    Kheal__Record **rec, struct kheal_err *err);
void kheal_journal_iter_close(struct kheal_journal_iter *it);

struct kheal_journal_summary {
	uint64_t records;
	struct kheal_seq resume;	/* last kmod (instance, seq) */
	struct kheal_seq bpf_resume;	/* last bpf (instance, seq) */
	uint64_t good_size;		/* bytes of whole, valid records */
	uint64_t torn;			/* bytes after them: a torn tail */
};

/*
 * Reads a whole journal. A torn tail (a record cut short, or zeros, as
 * a crash during a write leaves) is reported in @sum, not as an error;
 * a corrupt record before the end is -EBADMSG, naming its offset.
 */
int kheal_journal_scan(const char *path, struct kheal_journal_summary *sum,
		       struct kheal_err *err);

/* The writer. kheald holds an exclusive lock on the file. */
struct kheal_journal {
	int fd;
	struct kheal_journal_summary sum;	/* as opened, then kept */
	uint64_t torn_at;			/* where open cut a torn tail */
	uint64_t torn;				/* and how many bytes */
	uint8_t *batch;
	size_t batch_len;
	bool unsynced;
};

/* Opens (creating) @path, cutting a torn tail away; see j->torn. */
int kheal_journal_open(struct kheal_journal *j, const char *path,
		       struct kheal_err *err);
/* Adds a record to the batch, writing the batch out when it is full. */
int kheal_journal_append(struct kheal_journal *j, const Kheal__Record *rec,
			 struct kheal_err *err);
/* Writes the batch with write(2): it survives the process, not a crash. */
int kheal_journal_flush(struct kheal_journal *j, struct kheal_err *err);
/* Flushes, then fsync(2)s if anything was written since the last one. */
int kheal_journal_sync(struct kheal_journal *j, struct kheal_err *err);
void kheal_journal_close(struct kheal_journal *j);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The append-only journal: varint-length-prefixed protobuf Records, each
 * chained to the one before by its hash and signed with HMAC-SHA256.
 */
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

#define KHEAL_JOURNAL_KEY_BYTES		32	/* HMAC-SHA256 key */
#define KHEAL_JOURNAL_HASH_BYTES	32	/* SHA-256 */

/*
 * Beside the journal at PATH: its key, PATH.key unless given, and its
 * anchor, PATH.head.
 */
#define KHEAL_JOURNAL_KEY_SUFFIX	".key"
#define KHEAL_JOURNAL_HEAD_SUFFIX	".head"

/*
 * Reads the journal key at @path. With @create, a missing key is made:
 * 32 random bytes, mode 0600, its directory created if need be. A key
 * file that others may read, or that is not 32 bytes, is refused.
 */
int kheal_journal_key_load(const char *path, bool create,
			   uint8_t key[KHEAL_JOURNAL_KEY_BYTES],
			   struct kheal_err *err);

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
	/*
	 * The record returned last: its bytes as written, valid until the
	 * next call, without the length prefix, which starts at rec_off.
	 */
	const uint8_t *raw;
	size_t raw_len;
	uint64_t rec_off;
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
	struct kheal_seq psi_resume;	/* last psi (instance, seq) */
	struct kheal_seq kmsg_resume;	/* last kmsg (boot, log seq + 1) */
	uint64_t good_size;		/* bytes of whole, valid records */
	uint64_t torn;			/* bytes after them: a torn tail */
	/* SHA-256 of the last whole record; zeros if there is none. */
	uint8_t last_hash[KHEAL_JOURNAL_HASH_BYTES];
};

/*
 * Reads a whole journal. A torn tail (a record cut short, or zeros, as
 * a crash during a write leaves) is reported in @sum, not as an error;
 * a corrupt record before the end is -EBADMSG, naming its offset.
 */
int kheal_journal_scan(const char *path, struct kheal_journal_summary *sum,
		       struct kheal_err *err);

/*
 * The anchor, PATH.head: what the journal held at its last sync. Records
 * cut from the end leave a valid chain behind; the anchor tells.
 */
struct kheal_journal_head {
	uint64_t records;
	uint64_t size;
	uint8_t last_hash[KHEAL_JOURNAL_HASH_BYTES];
};

/* The writer. kheald holds an exclusive lock on the file. */
struct kheal_journal {
	int fd;
	/* As opened, then kept; sum.last_hash is the chain's head. */
	struct kheal_journal_summary sum;
	uint64_t torn_at;			/* where open cut a torn tail */
	uint64_t torn;				/* and how many bytes */
	uint8_t *batch;
	size_t batch_len;
	bool unsynced;
	uint8_t key[KHEAL_JOURNAL_KEY_BYTES];
	char *head_path;
	/*
	 * Set when the anchor disagrees with the journal at open: records
	 * were cut from its end, or the anchor was forged or signed with
	 * another key. The anchor is then kept as it is, as evidence, and
	 * not rewritten; head_why says what is wrong.
	 */
	bool head_kept;
	struct kheal_err head_why;
};

/*
 * Opens (creating) @path, cutting a torn tail away (see j->torn), and
 * goes on with the hash chain after the last whole record. Every record
 * appended is signed with @key, which is copied. The anchor is checked
 * (see j->head_kept), then written.
 */
int kheal_journal_open(struct kheal_journal *j, const char *path,
		       const uint8_t key[KHEAL_JOURNAL_KEY_BYTES],
		       struct kheal_err *err);
/*
 * Adds a record to the batch, writing the batch out when it is full.
 * The record goes out with prev_hash and hmac set, whatever it held.
 */
int kheal_journal_append(struct kheal_journal *j, const Kheal__Record *rec,
			 struct kheal_err *err);
/* Writes the batch with write(2): it survives the process, not a crash. */
int kheal_journal_flush(struct kheal_journal *j, struct kheal_err *err);
/*
 * Flushes, then, if anything was written since the last time, fsync(2)s
 * and rewrites the anchor (a temporary file renamed over it).
 */
int kheal_journal_sync(struct kheal_journal *j, struct kheal_err *err);
void kheal_journal_close(struct kheal_journal *j);

/* What is wrong with a journal; the first fault found is reported. */
enum kheal_journal_fault {
	KHEAL_JOURNAL_OK,
	KHEAL_JOURNAL_CORRUPT,		/* framing: not a record */
	KHEAL_JOURNAL_UNSIGNED,		/* no hmac */
	KHEAL_JOURNAL_BAD_HMAC,		/* edited, or another key */
	KHEAL_JOURNAL_BAD_CHAIN,	/* reordered, inserted, deleted */
	KHEAL_JOURNAL_TRUNCATED,	/* shorter than its anchor says */
	KHEAL_JOURNAL_BAD_ANCHOR,	/* anchor missing, malformed, forged */
};

/* "bad_hmac", ...: as khealctl prints it in JSON. */
const char *kheal_journal_fault_name(enum kheal_journal_fault fault);

struct kheal_journal_report {
	uint64_t records;		/* whole records checked */
	uint64_t size;			/* their bytes */
	uint64_t torn;			/* bytes of a torn tail after */
	bool anchored;			/* the anchor read: head holds it */
	struct kheal_journal_head head;
	enum kheal_journal_fault fault;
	uint64_t bad_index;		/* the first bad record, from 0 */
	uint64_t bad_offset;		/* where its length prefix is */
	char why[512];
};

/*
 * Checks every record's HMAC under @key and the hash chain, then the
 * journal against its anchor @head_path (NULL: @path.head). Returns 0
 * with the verdict in @rep, or -errno if the check could not be made
 * (a file missing or unreadable). A torn tail is not a fault: rep->torn
 * tells, as a warning.
 */
int kheal_journal_verify(const char *path,
			 const uint8_t key[KHEAL_JOURNAL_KEY_BYTES],
			 const char *head_path,
			 struct kheal_journal_report *rep,
			 struct kheal_err *err);

#endif

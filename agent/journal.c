// SPDX-License-Identifier: GPL-2.0
/*
 * The journal: an append-only file of Records, each prefixed with its
 * length as a protobuf varint.
 *
 * Integrity: each record carries prev_hash, the SHA-256 of the record
 * before it as written (32 zeros for the first), and hmac, the
 * HMAC-SHA256 under the journal's key of the record serialized with
 * prev_hash set and hmac absent. The writer puts hmac last, so the
 * signed bytes are the record's bytes without its last 34; a verifier
 * needs no re-encoding, which newer fields would not survive. An edit
 * breaks a record's HMAC; a reorder, insertion or deletion breaks the
 * chain. Records cut from the end leave a valid chain, so each sync
 * also rewrites the anchor, PATH.head: count, size and hash of the last
 * record, under the same key.
 *
 * Write policy: records collect in a batch that goes out with one
 * write(2) per main-loop turn (or when it fills), so a killed kheald
 * loses at most the turn in progress, which it backfills on restart.
 * kheald fsyncs on a timer and at exit, not per record.
 *
 * Recovery: a crash can leave the last record cut short, or zeros where
 * the file grew but its data never landed. Opening cuts such a torn tail
 * away and keeps every record before it. A corrupt record with more data
 * after it is not a torn tail: that is an error, and the file is left as
 * it is.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "event.h"
#include "journal.h"
#include "path.h"
#include "record.h"

#define VARINT_MAX	10
#define ITER_BUF	(2 * KHEAL_JOURNAL_RECORD_MAX)
#define BATCH_MAX	(256 << 10)

/* Record field 15, hmac: its tag (length-delimited) and its length. */
#define HMAC_TAG	((15 << 3) | 2)
#define HMAC_LEN	crypto_auth_hmacsha256_BYTES
#define HMAC_FIELD	(2 + HMAC_LEN)

#define HEAD_MAGIC	"kheal journal head 1\n"
#define HEAD_MAX	512

_Static_assert(KHEAL_JOURNAL_KEY_BYTES == crypto_auth_hmacsha256_KEYBYTES &&
	       KHEAL_JOURNAL_HASH_BYTES == crypto_hash_sha256_BYTES &&
	       HMAC_LEN < 0x80, "key, hash and HMAC sizes");

static int sodium_ready(struct kheal_err *err)
{
	if (sodium_init() < 0)
		return kheal_err_set(err, EIO, "libsodium failed to initialise");
	return 0;
}

/* fsync(2) of the directory that holds @path: a new name lasts. */
static int sync_dir(const char *path, struct kheal_err *err)
{
	char dir[PATH_MAX];
	char *slash;
	int fd, ret = 0;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return kheal_err_set(err, ENAMETOOLONG, "%s: path too long",
				     path);
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';		/* "/x": the root */
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd))
		ret = kheal_err_set(err, errno, "fsync of directory %s: %s",
				    dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	return ret;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}

/* Up to @len bytes of @fd, fewer only at its end: 0 and *@got, or -errno. */
static int read_all(int fd, void *buf, size_t len, size_t *got)
{
	uint8_t *p = buf;
	ssize_t n;

	*got = 0;
	while (*got < len) {
		n = read(fd, p + *got, len - *got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			break;
		*got += n;
	}
	return 0;
}

/* A new key: 0600 from the start, on disk before it signs anything. */
static int key_create(const char *path, uint8_t *key, struct kheal_err *err)
{
	int fd, ret;

	ret = kheal_make_parents(path, err);
	if (ret)
		return ret;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return -EEXIST;		/* made meanwhile: read it */
	if (fd < 0)
		return kheal_err_set(err, errno, "creating journal key %s: %s",
				     path, strerror(errno));
	randombytes_buf(key, KHEAL_JOURNAL_KEY_BYTES);
	ret = fchmod(fd, 0600) ? -errno : 0;
	if (!ret)
		ret = write_all(fd, key, KHEAL_JOURNAL_KEY_BYTES);
	if (!ret && fsync(fd))
		ret = -errno;
	close(fd);
	if (ret) {
		unlink(path);
		sodium_memzero(key, KHEAL_JOURNAL_KEY_BYTES);
		return kheal_err_set(err, -ret, "writing journal key %s: %s",
				     path, strerror(-ret));
	}
	return sync_dir(path, err);
}

int kheal_journal_key_load(const char *path, bool create,
			   uint8_t key[KHEAL_JOURNAL_KEY_BYTES],
			   struct kheal_err *err)
{
	struct stat st;
	size_t got;
	int fd, ret;

	ret = sodium_ready(err);
	if (ret)
		return ret;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		ret = key_create(path, key, err);
		if (ret != -EEXIST)
			return ret;
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		return kheal_err_set(err, errno, "journal key %s: %s%s", path,
				     strerror(errno),
				     errno == ENOENT ?
				     " (kheald creates it at its first start; or give --key PATH)" :
				     "");
	if (fstat(fd, &st)) {
		ret = kheal_err_set(err, errno, "journal key %s: %s", path,
				    strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		ret = kheal_err_set(err, EINVAL,
				    "journal key %s is not a regular file",
				    path);
	} else if (st.st_mode & 077) {
		ret = kheal_err_set(err, EPERM,
				    "journal key %s has mode %04o: others than its owner may read it, so it signs nothing; make it private with: chmod 600 %s",
				    path, (unsigned int)(st.st_mode & 07777),
				    path);
	} else if (st.st_size != KHEAL_JOURNAL_KEY_BYTES) {
		ret = kheal_err_set(err, EINVAL,
				    "journal key %s is %lld bytes, not %d: it is not a kheal journal key; put the right key back (a new one would not verify the records signed so far)",
				    path, (long long)st.st_size,
				    KHEAL_JOURNAL_KEY_BYTES);
	} else {
		ret = read_all(fd, key, KHEAL_JOURNAL_KEY_BYTES, &got);
		if (!ret && got != KHEAL_JOURNAL_KEY_BYTES)
			ret = -ENODATA;
		if (ret)
			ret = kheal_err_set(err, -ret,
					    "reading journal key %s: %s", path,
					    strerror(-ret));
	}
	close(fd);
	if (ret)
		sodium_memzero(key, KHEAL_JOURNAL_KEY_BYTES);
	return ret;
}

/*
 * The anchor's text: four lines, then an HMAC of them. Text, so that an
 * operator can read what it says; one canonical form, so that reading it
 * back is comparing it with what it should be.
 */
static int head_text(const struct kheal_journal_head *h,
		     const uint8_t *key, char *buf, size_t len,
		     size_t *body_len)
{
	char hex[2 * KHEAL_JOURNAL_HASH_BYTES + 1];
	uint8_t mac[HMAC_LEN];
	int n, m;

	sodium_bin2hex(hex, sizeof(hex), h->last_hash, sizeof(h->last_hash));
	n = snprintf(buf, len, HEAD_MAGIC "records %" PRIu64 "\nsize %" PRIu64
		     "\nlast_hash %s\n", h->records, h->size, hex);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	crypto_auth_hmacsha256(mac, (const uint8_t *)buf, n, key);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	m = snprintf(buf + n, len - n, "hmac %s\n", hex);
	if (m < 0 || (size_t)m >= len - n)
		return -ENOSPC;
	if (body_len)
		*body_len = n;
	return n + m;
}

/* 0, -ENOENT, -EBADMSG for a malformed or forged anchor, or -errno. */
static int head_read(const char *path, const uint8_t *key,
		     struct kheal_journal_head *h, struct kheal_err *err)
{
	char buf[HEAD_MAX + 1], want[HEAD_MAX];
	char hex[2 * KHEAL_JOURNAL_HASH_BYTES + 1];
	size_t got, body, bin;
	int fd, ret, n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kheal_err_set(err, errno, "anchor %s: %s", path,
				     strerror(errno));
	ret = read_all(fd, buf, HEAD_MAX, &got);
	close(fd);
	if (ret)
		return kheal_err_set(err, -ret, "reading anchor %s: %s", path,
				     strerror(-ret));
	buf[got] = '\0';
	*h = (struct kheal_journal_head){ 0 };
	if (sscanf(buf, HEAD_MAGIC "records %" SCNu64 " size %" SCNu64
		   " last_hash %64s", &h->records, &h->size, hex) != 3 ||
	    sodium_hex2bin(h->last_hash, sizeof(h->last_hash), hex,
			   strlen(hex), NULL, &bin, NULL) ||
	    bin != sizeof(h->last_hash) || (!h->records && h->size))
		return kheal_err_set(err, EBADMSG,
				     "anchor %s is malformed: not a kheal journal anchor",
				     path);
	n = head_text(h, key, want, sizeof(want), &body);
	if (n < 0 || (size_t)n != got || memcmp(buf, want, body))
		return kheal_err_set(err, EBADMSG,
				     "anchor %s is malformed: not a kheal journal anchor",
				     path);
	if (sodium_memcmp(buf + body, want + body, n - body))
		return kheal_err_set(err, EBADMSG,
				     "anchor %s: HMAC mismatch: it was edited, or written with another key",
				     path);
	return 0;
}

/* Written whole or not at all: a temporary file renamed over it. */
static int head_write(const char *path, const uint8_t *key,
		      const struct kheal_journal_head *h,
		      struct kheal_err *err)
{
	char tmp[PATH_MAX], buf[HEAD_MAX];
	int fd, n, ret;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return kheal_err_set(err, ENAMETOOLONG, "%s: path too long",
				     path);
	n = head_text(h, key, buf, sizeof(buf), NULL);
	if (n < 0)
		return kheal_err_set(err, -n, "anchor %s: too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return kheal_err_set(err, errno, "writing anchor %s: %s", tmp,
				     strerror(errno));
	ret = write_all(fd, buf, n);
	if (!ret && fsync(fd))
		ret = -errno;
	close(fd);
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret) {
		unlink(tmp);
		return kheal_err_set(err, -ret, "writing anchor %s: %s", path,
				     strerror(-ret));
	}
	return sync_dir(path, err);
}

int kheal_journal_iter_open(struct kheal_journal_iter *it, const char *path,
			    struct kheal_err *err)
{
	*it = (struct kheal_journal_iter){ .fd = -1 };
	it->buf = malloc(ITER_BUF);
	if (!it->buf)
		return kheal_err_set(err, ENOMEM, "allocating a read buffer");
	it->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (it->fd < 0) {
		free(it->buf);
		it->buf = NULL;
		return kheal_err_set(err, errno, "%s: %s", path,
				     strerror(errno));
	}
	return 0;
}

void kheal_journal_iter_close(struct kheal_journal_iter *it)
{
	if (it->fd >= 0)
		close(it->fd);
	free(it->buf);
	it->fd = -1;
	it->buf = NULL;
}

/* 1 once @need bytes are buffered, 0 if the file ends first. */
static int fill(struct kheal_journal_iter *it, size_t need,
		struct kheal_err *err)
{
	ssize_t n;

	while (it->len - it->pos < need) {
		if (it->pos) {
			memmove(it->buf, it->buf + it->pos, it->len - it->pos);
			it->len -= it->pos;
			it->pos = 0;
		}
		n = read(it->fd, it->buf + it->len, ITER_BUF - it->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return kheal_err_set(err, errno,
					     "reading at offset %" PRIu64 ": %s",
					     it->off - it->pos + it->len,
					     strerror(errno));
		if (n == 0)
			return 0;
		it->len += n;
	}
	return 1;
}

static int __attribute__((format(printf, 3, 4)))
corrupt(struct kheal_journal_iter *it, struct kheal_err *err,
	const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return kheal_err_set(err, EBADMSG,
			     "corrupt record at offset %" PRIu64
			     " (after %" PRIu64 " good records): %s",
			     it->off, it->records, why);
}

/*
 * The end for now: a record not yet whole. Its bytes are read again next
 * time, as a restarted kheald may have cut them and written others.
 */
static int incomplete(struct kheal_journal_iter *it)
{
	it->tail = it->len - it->pos;
	it->len = it->pos;
	lseek(it->fd, it->off, SEEK_SET);
	return 0;
}

static int validate(const Kheal__Record *rec, struct kheal_err *err)
{
	const Kheal__Merged *m = rec->merged;
	const Kheal__Gap *g = rec->gap;
	struct kheal_event ev;

	switch (rec->body_case) {
	case KHEAL__RECORD__BODY_EVENT:
		return kheal_record_to_event(rec->event, &ev, err);
	case KHEAL__RECORD__BODY_GAP:
		if (!g->has_instance || !g->has_first_missing ||
		    !g->has_last_missing || g->first_missing > g->last_missing)
			return kheal_err_set(err, EBADMSG,
					     "gap without a valid range");
		return 0;
	case KHEAL__RECORD__BODY_MERGED:
		if (!m->has_source || !m->has_instance || !m->has_seq)
			return kheal_err_set(err, EBADMSG,
					     "merged event without its source, instance and seq");
		return 0;
	case KHEAL__RECORD__BODY__NOT_SET:
		/* A body a newer kheal wrote is fine; no body at all is not. */
		return rec->base.n_unknown_fields ? 0 :
		       kheal_err_set(err, EBADMSG, "record without a body");
	default:
		return 0;	/* the brain's: its readers check them */
	}
}

int kheal_journal_iter_next(struct kheal_journal_iter *it,
			    Kheal__Record **rec, struct kheal_err *err)
{
	struct kheal_err why;
	uint64_t len = 0;
	size_t avail, hdr;
	int ret;

	it->tail = 0;
	it->bad_end = 0;
	it->raw = NULL;
	it->raw_len = 0;
	ret = fill(it, VARINT_MAX, err);
	if (ret < 0)
		return ret;
	avail = it->len - it->pos;
	if (!avail)
		return 0;
	for (hdr = 0; hdr < avail && hdr < VARINT_MAX; hdr++) {
		len |= (uint64_t)(it->buf[it->pos + hdr] & 0x7f) << (7 * hdr);
		if (!(it->buf[it->pos + hdr] & 0x80))
			break;
	}
	if (hdr == VARINT_MAX)
		return corrupt(it, err, "length prefix longer than %d bytes",
			       VARINT_MAX);
	if (hdr == avail)
		return incomplete(it);
	hdr++;
	if (!len)
		return corrupt(it, err, "length 0");
	if (len > KHEAL_JOURNAL_RECORD_MAX)
		return corrupt(it, err,
			       "length %" PRIu64 " exceeds the limit of %d",
			       len, KHEAL_JOURNAL_RECORD_MAX);
	it->bad_end = it->off + hdr + len;
	ret = fill(it, hdr + len, err);
	if (ret < 0)
		return ret;
	if (!ret)
		return incomplete(it);
	*rec = kheal__record__unpack(NULL, len, it->buf + it->pos + hdr);
	if (!*rec)
		return corrupt(it, err,
			       "%" PRIu64 " bytes that are not a Record", len);
	ret = validate(*rec, &why);
	if (ret) {
		kheal__record__free_unpacked(*rec, NULL);
		*rec = NULL;
		return corrupt(it, err, "%s", why.msg);
	}
	it->raw = it->buf + it->pos + hdr;
	it->raw_len = len;
	it->rec_off = it->off;
	it->pos += hdr + len;
	it->off += hdr + len;
	it->records++;
	return 1;
}

/* True if @fd holds only zero bytes from @off to its end. */
static bool zeros_from(int fd, uint64_t off)
{
	uint8_t buf[4096];
	ssize_t n, i;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		for (i = 0; i < n; i++)
			if (buf[i])
				return false;
		off += n;
	}
	return n == 0;
}

/* One pass over a journal, for its summary, its anchor, its faults. */
struct walk {
	const uint8_t *key;		/* check HMACs and the chain */
	const struct kheal_journal_head *head;	/* look for its record */
	struct kheal_journal_report *rep;	/* with key: faults */
	bool head_found;			/* head's record is there */
	uint64_t head_off;			/* where its record starts */
};

static void __attribute__((format(printf, 5, 6)))
fault(struct kheal_journal_report *rep, enum kheal_journal_fault f,
      uint64_t index, uint64_t off, const char *fmt, ...)
{
	va_list ap;

	if (rep->fault)
		return;
	rep->fault = f;
	rep->bad_index = index;
	rep->bad_offset = off;
	va_start(ap, fmt);
	vsnprintf(rep->why, sizeof(rep->why), fmt, ap);
	va_end(ap);
}

static void chain_fault(struct kheal_journal_report *rep, uint64_t i,
			uint64_t off)
{
	if (!i)
		fault(rep, KHEAL_JOURNAL_BAD_CHAIN, i, off,
		      "prev_hash is not the zeros of a first record: records were deleted before it");
	else
		fault(rep, KHEAL_JOURNAL_BAD_CHAIN, i, off,
		      "prev_hash is not the hash of record %" PRIu64
		      ": records were deleted, inserted or reordered here",
		      i - 1);
}

/* The record @it returned last, against the key and @prev, its hash. */
static void check_record(struct walk *w, const Kheal__Record *rec,
			 const struct kheal_journal_iter *it,
			 const uint8_t *prev)
{
	const uint8_t *raw = it->raw;
	uint64_t i = it->records - 1;
	size_t len = it->raw_len;

	if (!rec->has_hmac)
		fault(w->rep, KHEAL_JOURNAL_UNSIGNED, i, it->rec_off,
		      "no hmac: not written by a kheald that signs");
	else if (len < HMAC_FIELD || raw[len - HMAC_FIELD] != HMAC_TAG ||
		 raw[len - HMAC_FIELD + 1] != HMAC_LEN)
		fault(w->rep, KHEAL_JOURNAL_BAD_HMAC, i, it->rec_off,
		      "its hmac is not the %d-byte last field kheald writes",
		      HMAC_LEN);
	else if (crypto_auth_hmacsha256_verify(raw + len - HMAC_LEN, raw,
					       len - HMAC_FIELD, w->key))
		fault(w->rep, KHEAL_JOURNAL_BAD_HMAC, i, it->rec_off,
		      "HMAC mismatch: the record was edited, or signed with another key");
	else if (!rec->has_prev_hash ||
		 rec->prev_hash.len != KHEAL_JOURNAL_HASH_BYTES ||
		 memcmp(rec->prev_hash.data, prev, KHEAL_JOURNAL_HASH_BYTES))
		chain_fault(w->rep, i, it->rec_off);
}

static int walk(const char *path, struct walk *w,
		struct kheal_journal_summary *sum, struct kheal_err *err)
{
	uint8_t hash[KHEAL_JOURNAL_HASH_BYTES];
	struct kheal_journal_iter it;
	struct kheal_err own;
	Kheal__Record *rec;
	struct stat st;
	int ret;

	if (!err)
		err = &own;	/* a corrupt record's detail: for the fault */

	*sum = (struct kheal_journal_summary){ 0 };
	w->head_found = w->head && !w->head->records;
	ret = kheal_journal_iter_open(&it, path, err);
	if (ret)
		return ret;
	while ((ret = kheal_journal_iter_next(&it, &rec, err)) > 0) {
		crypto_hash_sha256(hash, it.raw, it.raw_len);
		if (w->key)
			check_record(w, rec, &it, sum->last_hash);
		if (w->head && it.records == w->head->records) {
			w->head_off = it.rec_off;
			w->head_found = it.off == w->head->size &&
					!memcmp(hash, w->head->last_hash,
						sizeof(hash));
		}
		memcpy(sum->last_hash, hash, sizeof(hash));
		kheal_record_resume(rec, KHEAL_SOURCE_KMOD, &sum->resume);
		kheal_record_resume(rec, KHEAL_SOURCE_BPF, &sum->bpf_resume);
		kheal_record_resume(rec, KHEAL_SOURCE_PSI, &sum->psi_resume);
		kheal_record_resume(rec, KHEAL_SOURCE_KMSG, &sum->kmsg_resume);
		kheal__record__free_unpacked(rec, NULL);
	}
	sum->records = it.records;
	sum->good_size = it.off;
	sum->torn = it.tail;
	if (ret == -EBADMSG && !fstat(it.fd, &st) &&
	    ((it.bad_end && it.bad_end >= (uint64_t)st.st_size) ||
	     zeros_from(it.fd, it.off))) {
		/* The bad record is the last thing in the file: torn. */
		sum->torn = st.st_size - it.off;
		ret = 0;
	}
	if (ret == -EBADMSG && w->rep) {
		fault(w->rep, KHEAL_JOURNAL_CORRUPT, it.records, it.off, "%s",
		      err->msg);
		ret = 0;
	}
	kheal_journal_iter_close(&it);
	if (ret)
		return kheal_err_wrap(err, ret, "journal %s", path);
	return 0;
}

int kheal_journal_scan(const char *path, struct kheal_journal_summary *sum,
		       struct kheal_err *err)
{
	struct walk w = { 0 };

	return walk(path, &w, sum, err);
}

/*
 * After a walk with w->head: 0 if the journal still holds the record
 * the anchor names where it names it, else -EBADMSG with the first
 * record missing or replaced.
 */
static int head_check(const struct walk *w,
		      const struct kheal_journal_summary *sum,
		      const char *head_path, uint64_t *index, uint64_t *off,
		      struct kheal_err *err)
{
	const struct kheal_journal_head *h = w->head;

	if (h->records > sum->records) {
		*index = sum->records;
		*off = sum->good_size;
		return kheal_err_set(err, EBADMSG,
				     "the anchor %s says %" PRIu64 " records (%"
				     PRIu64 " bytes), the journal has %" PRIu64
				     " (%" PRIu64 " bytes): records were cut from its end",
				     head_path, h->records, h->size,
				     sum->records, sum->good_size);
	}
	if (!w->head_found) {
		*index = h->records - 1;
		*off = w->head_off;
		return kheal_err_set(err, EBADMSG,
				     "record %" PRIu64 " is not the one the anchor %s names (its hash or its end differ): the journal was cut and written again",
				     h->records - 1, head_path);
	}
	return 0;
}

const char *kheal_journal_fault_name(enum kheal_journal_fault fault)
{
	static const char *const names[] = {
		[KHEAL_JOURNAL_OK] = "ok",
		[KHEAL_JOURNAL_CORRUPT] = "corrupt",
		[KHEAL_JOURNAL_UNSIGNED] = "unsigned",
		[KHEAL_JOURNAL_BAD_HMAC] = "bad_hmac",
		[KHEAL_JOURNAL_BAD_CHAIN] = "bad_chain",
		[KHEAL_JOURNAL_TRUNCATED] = "truncated",
		[KHEAL_JOURNAL_BAD_ANCHOR] = "bad_anchor",
	};

	return (size_t)fault < sizeof(names) / sizeof(names[0]) ?
	       names[fault] : "unknown";
}

int kheal_journal_verify(const char *path,
			 const uint8_t key[KHEAL_JOURNAL_KEY_BYTES],
			 const char *head_path,
			 struct kheal_journal_report *rep,
			 struct kheal_err *err)
{
	struct kheal_journal_summary sum;
	struct kheal_journal_head head;
	struct walk w = { .key = key, .rep = rep };
	struct kheal_err why = { "" };
	uint64_t index, off;
	char *own = NULL;
	int hret, ret;

	*rep = (struct kheal_journal_report){ 0 };
	ret = sodium_ready(err);
	if (ret)
		return ret;
	if (!head_path) {
		if (asprintf(&own, "%s" KHEAL_JOURNAL_HEAD_SUFFIX, path) < 0)
			return kheal_err_set(err, ENOMEM, "allocating a path");
		head_path = own;
	}
	hret = head_read(head_path, key, &head, &why);
	if (hret && hret != -ENOENT && hret != -EBADMSG) {
		ret = kheal_err_set(err, -hret, "%s", why.msg);
		goto out;
	}
	if (!hret)
		w.head = &head;
	ret = walk(path, &w, &sum, err);
	if (ret)
		goto out;
	rep->records = sum.records;
	rep->size = sum.good_size;
	rep->torn = sum.torn;
	if (hret == -ENOENT && sum.records) {
		fault(rep, KHEAL_JOURNAL_BAD_ANCHOR, sum.records, sum.good_size,
		      "no anchor %s: whether records were cut from the end cannot be told",
		      head_path);
	} else if (hret == -EBADMSG) {
		fault(rep, KHEAL_JOURNAL_BAD_ANCHOR, sum.records, sum.good_size,
		      "%s", why.msg);
	} else if (!hret) {
		rep->anchored = true;
		rep->head = head;
		if (head_check(&w, &sum, head_path, &index, &off, &why))
			fault(rep, KHEAL_JOURNAL_TRUNCATED, index, off, "%s",
			      why.msg);
	}
out:
	free(own);
	return ret;
}

static int write_head(struct kheal_journal *j, struct kheal_err *err)
{
	struct kheal_journal_head h = {
		.records = j->sum.records,
		.size = j->sum.good_size,
	};

	memcpy(h.last_hash, j->sum.last_hash, sizeof(h.last_hash));
	return head_write(j->head_path, j->key, &h, err);
}

/*
 * The anchor against the journal as opened. One that disagrees is kept
 * as it is, the evidence of what happened, and not rewritten.
 */
static int open_head(struct kheal_journal *j, const char *path,
		     bool created, struct kheal_err *err)
{
	struct kheal_journal_head head;
	struct walk w = { 0 };
	uint64_t index, off;
	int hret, ret;

	hret = created ? -ENOENT : head_read(j->head_path, j->key, &head,
					     &j->head_why);
	if (hret && hret != -ENOENT && hret != -EBADMSG)
		return kheal_err_set(err, -hret, "%s", j->head_why.msg);
	if (!hret)
		w.head = &head;
	ret = walk(path, &w, &j->sum, err);
	if (ret)
		return ret;
	if (hret == -EBADMSG)
		j->head_kept = true;
	else if (!hret)
		j->head_kept = head_check(&w, &j->sum, j->head_path, &index,
					  &off, &j->head_why) != 0;
	if (!j->head_kept)
		j->head_why.msg[0] = '\0';
	return 0;
}

int kheal_journal_open(struct kheal_journal *j, const char *path,
		       const uint8_t key[KHEAL_JOURNAL_KEY_BYTES],
		       struct kheal_err *err)
{
	bool created = false;
	int ret;

	*j = (struct kheal_journal){ .fd = -1 };
	memcpy(j->key, key, sizeof(j->key));
	ret = sodium_ready(err);
	if (ret)
		goto fail;
	if (asprintf(&j->head_path, "%s" KHEAL_JOURNAL_HEAD_SUFFIX, path) < 0) {
		j->head_path = NULL;
		ret = kheal_err_set(err, ENOMEM, "allocating a path");
		goto fail;
	}
	j->batch = malloc(BATCH_MAX);
	if (!j->batch) {
		ret = kheal_err_set(err, ENOMEM, "allocating a write batch");
		goto fail;
	}
	j->fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (j->fd < 0 && errno == ENOENT) {
		j->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_APPEND |
			     O_CLOEXEC, 0640);
		created = j->fd >= 0;
	}
	if (j->fd < 0) {
		ret = kheal_err_set(err, errno, "journal %s: %s", path,
				    strerror(errno));
		goto fail;
	}
	if (flock(j->fd, LOCK_EX | LOCK_NB)) {
		ret = kheal_err_set(err, errno,
				    "journal %s: %s (another kheald is writing it)",
				    path, strerror(errno));
		goto fail;
	}
	ret = open_head(j, path, created, err);
	if (ret)
		goto fail;
	if (j->sum.torn) {
		if (ftruncate(j->fd, j->sum.good_size) || fsync(j->fd)) {
			ret = kheal_err_set(err, errno,
					    "journal %s: cutting the torn tail at offset %" PRIu64 ": %s",
					    path, j->sum.good_size,
					    strerror(errno));
			goto fail;
		}
		j->torn_at = j->sum.good_size;
		j->torn = j->sum.torn;
		j->sum.torn = 0;
	}
	if (!j->head_kept) {
		/* The anchor may only name what is on disk. */
		if (fsync(j->fd)) {
			ret = kheal_err_set(err, errno, "fsync of journal %s: %s",
					    path, strerror(errno));
			goto fail;
		}
		ret = write_head(j, err);
		if (ret)
			goto fail;
	}
	return 0;
fail:
	kheal_journal_close(j);
	return ret;
}

int kheal_journal_append(struct kheal_journal *j, const Kheal__Record *rec,
			 struct kheal_err *err)
{
	Kheal__Record r = *rec;
	size_t body, size, n;
	uint8_t *p, *start;
	int ret;

	r.has_prev_hash = 1;
	r.prev_hash.len = sizeof(j->sum.last_hash);
	r.prev_hash.data = j->sum.last_hash;
	r.has_hmac = 0;
	r.hmac.len = 0;
	r.hmac.data = NULL;
	body = kheal__record__get_packed_size(&r);
	size = body + HMAC_FIELD;
	if (size > KHEAL_JOURNAL_RECORD_MAX)
		return kheal_err_set(err, EMSGSIZE,
				     "a record of %zu bytes exceeds the journal's limit",
				     size);
	if (j->batch_len + VARINT_MAX + size > BATCH_MAX) {
		ret = kheal_journal_flush(j, err);
		if (ret)
			return ret;
	}
	p = j->batch + j->batch_len;
	for (n = size; n >= 0x80; n >>= 7)
		*p++ = (n & 0x7f) | 0x80;
	*p++ = n;
	start = p;
	p += kheal__record__pack(&r, p);
	*p++ = HMAC_TAG;
	*p++ = HMAC_LEN;
	crypto_auth_hmacsha256(p, start, body, j->key);
	p += HMAC_LEN;
	crypto_hash_sha256(j->sum.last_hash, start, size);
	j->batch_len = p - j->batch;
	j->sum.records++;
	kheal_record_resume(rec, KHEAL_SOURCE_KMOD, &j->sum.resume);
	kheal_record_resume(rec, KHEAL_SOURCE_BPF, &j->sum.bpf_resume);
	kheal_record_resume(rec, KHEAL_SOURCE_PSI, &j->sum.psi_resume);
	kheal_record_resume(rec, KHEAL_SOURCE_KMSG, &j->sum.kmsg_resume);
	return 0;
}

int kheal_journal_flush(struct kheal_journal *j, struct kheal_err *err)
{
	size_t done = 0;
	ssize_t n;
	int e;

	while (done < j->batch_len) {
		n = write(j->fd, j->batch + done, j->batch_len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			/*
			 * Never leave a partial record for the next write to
			 * follow: that would be corruption, not a torn tail.
			 */
			if (ftruncate(j->fd, j->sum.good_size))
				e = errno;
			return kheal_err_set(err, e,
					     "writing the journal at offset %" PRIu64 ": %s",
					     j->sum.good_size, strerror(e));
		}
		done += n;
	}
	j->sum.good_size += j->batch_len;
	j->unsynced |= j->batch_len > 0;
	j->batch_len = 0;
	return 0;
}

int kheal_journal_sync(struct kheal_journal *j, struct kheal_err *err)
{
	int ret = kheal_journal_flush(j, err);

	if (ret || !j->unsynced)
		return ret;
	if (fsync(j->fd))
		return kheal_err_set(err, errno, "fsync of the journal: %s",
				     strerror(errno));
	j->unsynced = false;
	return j->head_kept ? 0 : write_head(j, err);
}

void kheal_journal_close(struct kheal_journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	free(j->batch);
	free(j->head_path);
	sodium_memzero(j->key, sizeof(j->key));
	j->fd = -1;
	j->batch = NULL;
	j->head_path = NULL;
}

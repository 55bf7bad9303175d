// SPDX-License-Identifier: GPL-2.0
/*
 * The journal: an append-only file of Records, each prefixed with its
 * length as a protobuf varint.
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.h"
#include "journal.h"
#include "record.h"

#define VARINT_MAX	10
#define ITER_BUF	(2 * KHEAL_JOURNAL_RECORD_MAX)
#define BATCH_MAX	(256 << 10)

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
	default:
		/* A body a newer kheal wrote is fine; no body at all is not. */
		return rec->base.n_unknown_fields ? 0 :
		       kheal_err_set(err, EBADMSG, "record without a body");
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

int kheal_journal_scan(const char *path, struct kheal_journal_summary *sum,
		       struct kheal_err *err)
{
	struct kheal_journal_iter it;
	Kheal__Record *rec;
	struct stat st;
	int ret;

	*sum = (struct kheal_journal_summary){ 0 };
	ret = kheal_journal_iter_open(&it, path, err);
	if (ret)
		return ret;
	while ((ret = kheal_journal_iter_next(&it, &rec, err)) > 0) {
		kheal_record_resume(rec, KHEAL_SOURCE_KMOD, &sum->resume);
		kheal_record_resume(rec, KHEAL_SOURCE_BPF, &sum->bpf_resume);
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
	kheal_journal_iter_close(&it);
	if (ret)
		return kheal_err_wrap(err, ret, "journal %s", path);
	return 0;
}

int kheal_journal_open(struct kheal_journal *j, const char *path,
		       struct kheal_err *err)
{
	int ret;

	*j = (struct kheal_journal){ .fd = -1 };
	j->batch = malloc(BATCH_MAX);
	if (!j->batch)
		return kheal_err_set(err, ENOMEM, "allocating a write batch");
	j->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
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
	ret = kheal_journal_scan(path, &j->sum, err);
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
	return 0;
fail:
	kheal_journal_close(j);
	return ret;
}

int kheal_journal_append(struct kheal_journal *j, const Kheal__Record *rec,
			 struct kheal_err *err)
{
	size_t size = kheal__record__get_packed_size(rec);
	uint8_t *p;
	int ret;

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
	for (; size >= 0x80; size >>= 7)
		*p++ = (size & 0x7f) | 0x80;
	*p++ = size;
	p += kheal__record__pack(rec, p);
	j->batch_len = p - j->batch;
	j->sum.records++;
	kheal_record_resume(rec, KHEAL_SOURCE_KMOD, &j->sum.resume);
	kheal_record_resume(rec, KHEAL_SOURCE_BPF, &j->sum.bpf_resume);
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
	return 0;
}

void kheal_journal_close(struct kheal_journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	free(j->batch);
	j->fd = -1;
	j->batch = NULL;
}

// SPDX-License-Identifier: GPL-2.0
/* The journal: append, read back, torn tails, corruption, resume. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixtures.h"
#include "journal.h"
#include "record.h"

static char dir[] = "/tmp/kheal-test-journal-XXXXXX";
static char path[64], head[80];
static const uint8_t key[KHEAL_JOURNAL_KEY_BYTES] = "test_journal's key";

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof(path), "%s/journal", dir);
	snprintf(head, sizeof(head), "%s" KHEAL_JOURNAL_HEAD_SUFFIX, path);
	unlink(path);
	unlink(head);
	return 0;
}

static int make_dir(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	(void)state;
	unlink(path);
	unlink(head);
	return rmdir(dir);
}

static void append_event(struct kheal_journal *j, enum kheal_source_id src,
			 uint64_t instance, uint64_t seq)
{
	struct kheal_event ev;
	Kheal__Record rec;
	struct kheal_pb_event pe;

	ev_basic(&ev, instance, seq);
	ev.source = src;
	kheal_record_event(&rec, &pe, &ev);
	assert_int_equal(kheal_journal_append(j, &rec, NULL), 0);
}

/* Writes kmod events from..to of @instance to the journal. */
static void write_events(uint64_t instance, uint64_t from, uint64_t to)
{
	struct kheal_journal j;
	struct kheal_err err;
	uint64_t seq;

	assert_int_equal(kheal_journal_open(&j, path, key, &err), 0);
	for (seq = from; seq <= to; seq++)
		append_event(&j, KHEAL_SOURCE_KMOD, instance, seq);
	assert_int_equal(kheal_journal_sync(&j, &err), 0);
	kheal_journal_close(&j);
}

static off_t file_size(void)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void append_bytes(const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_APPEND);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static void write_at(off_t off, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

/* Reads the whole journal into @seqs; returns the iterator's last word. */
static int read_seqs(uint64_t *seqs, size_t max, size_t *n,
		     struct kheal_err *err)
{
	struct kheal_journal_iter it;
	Kheal__Record *rec;
	int ret;

	*n = 0;
	assert_int_equal(kheal_journal_iter_open(&it, path, err), 0);
	while ((ret = kheal_journal_iter_next(&it, &rec, err)) > 0) {
		assert_true(*n < max);
		seqs[(*n)++] = rec->body_case == KHEAL__RECORD__BODY_EVENT ?
			       rec->event->seq : 0;
		kheal__record__free_unpacked(rec, NULL);
	}
	kheal_journal_iter_close(&it);
	return ret;
}

/* What is appended reads back in order, events and gaps alike. */
static void test_appended_records_read_back_in_order(void **state)
{
	struct kheal_gap gap = { .instance = 1, .first = 4, .last = 4 };
	struct kheal_journal j;
	struct kheal_err err;
	uint64_t seqs[16];
	Kheal__Record rec;
	Kheal__Gap pg;
	size_t n;

	(void)state;
	assert_int_equal(kheal_journal_open(&j, path, key, &err), 0);
	assert_int_equal(j.sum.records, 0);
	assert_false(j.sum.resume.known);
	append_event(&j, KHEAL_SOURCE_KMOD, 1, 3);
	kheal_record_gap(&rec, &pg, &gap);
	assert_int_equal(kheal_journal_append(&j, &rec, &err), 0);
	append_event(&j, KHEAL_SOURCE_KMOD, 1, 5);
	assert_int_equal(kheal_journal_sync(&j, &err), 0);
	kheal_journal_close(&j);

	assert_int_equal(read_seqs(seqs, 16, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(seqs[0], 3);
	assert_int_equal(seqs[1], 0);
	assert_int_equal(seqs[2], 5);
}

/* Many records cross the batch size and still come back whole. */
static void test_large_journal_crosses_batches_intact(void **state)
{
	struct kheal_journal_summary sum;
	struct kheal_err err;

	(void)state;
	write_events(3, 1, 20000);
	assert_int_equal(kheal_journal_scan(path, &sum, &err), 0);
	assert_int_equal(sum.records, 20000);
	assert_int_equal(sum.resume.last, 20000);
	assert_int_equal(sum.torn, 0);
	assert_int_equal(sum.good_size, file_size());
}

/*
 * A last record cut short by a crash is cut away on open; every
 * earlier record is kept and appending carries on after them.
 */
static void test_torn_tail_truncated_earlier_records_kept(void **state)
{
	struct kheal_journal j;
	struct kheal_err err;
	uint64_t seqs[8];
	off_t whole;
	size_t n;

	(void)state;
	write_events(1, 1, 5);
	whole = file_size();
	assert_int_equal(truncate(path, whole - 3), 0);

	assert_int_equal(kheal_journal_open(&j, path, key, &err), 0);
	assert_int_equal(j.sum.records, 4);
	assert_int_equal(j.sum.resume.last, 4);
	assert_true(j.torn > 0);
	assert_int_equal(j.torn_at + j.torn, whole - 3);
	assert_int_equal(file_size(), j.torn_at);
	append_event(&j, KHEAL_SOURCE_KMOD, 1, 5);
	assert_int_equal(kheal_journal_sync(&j, &err), 0);
	kheal_journal_close(&j);

	assert_int_equal(read_seqs(seqs, 8, &n, &err), 0);
	assert_int_equal(n, 5);
	assert_int_equal(seqs[4], 5);
	assert_int_equal(file_size(), whole);
}

/* A length prefix cut in the middle of its varint is a torn tail. */
static void test_torn_length_prefix_truncated(void **state)
{
	static const uint8_t half_varint = 0x85;
	struct kheal_journal j;
	struct kheal_err err;
	off_t whole;

	(void)state;
	write_events(1, 1, 3);
	whole = file_size();
	append_bytes(&half_varint, 1);
	assert_int_equal(kheal_journal_open(&j, path, key, &err), 0);
	assert_int_equal(j.torn, 1);
	assert_int_equal(j.sum.records, 3);
	kheal_journal_close(&j);
	assert_int_equal(file_size(), whole);
}

/* Zeros where the file grew but data never landed are a torn tail. */
static void test_zero_filled_tail_truncated(void **state)
{
	static const uint8_t zeros[4096];
	struct kheal_journal j;
	struct kheal_err err;
	off_t whole;

	(void)state;
	write_events(1, 1, 3);
	whole = file_size();
	append_bytes(zeros, sizeof(zeros));
	assert_int_equal(kheal_journal_open(&j, path, key, &err), 0);
	assert_int_equal(j.torn, sizeof(zeros));
	assert_int_equal(j.sum.records, 3);
	assert_int_equal(j.sum.resume.last, 3);
	kheal_journal_close(&j);
	assert_int_equal(file_size(), whole);
}

/*
 * A whole last record that does not decode is what a torn write can
 * leave, too: it is cut, the rest kept.
 */
static void test_undecodable_last_record_is_torn(void **state)
{
	static const uint8_t junk[] = { 0x03, 0xff, 0xff, 0xff };
	struct kheal_journal j;
	struct kheal_err err;

	(void)state;
	write_events(1, 1, 3);
	append_bytes(junk, sizeof(junk));
	assert_int_equal(kheal_journal_open(&j, path, key, &err), 0);
	assert_int_equal(j.torn, sizeof(junk));
	assert_int_equal(j.sum.records, 3);
	kheal_journal_close(&j);
}

/*
 * A corrupt record with records after it is corruption, not a torn
 * tail: open fails naming the offset, the file is left as it was, and
 * the records before it still read.
 */
static void test_corrupt_middle_record_names_offset_and_keeps_file(
	void **state)
{
	static const uint8_t junk[] = { 0xff, 0xff, 0xff };
	struct kheal_journal j;
	struct kheal_err err;
	char want[128];
	uint64_t seqs[8];
	off_t one, whole;
	size_t n;

	(void)state;
	write_events(1, 1, 1);
	one = file_size();
	write_events(1, 2, 3);
	whole = file_size();
	write_at(one + 1, junk, sizeof(junk));

	assert_int_equal(kheal_journal_open(&j, path, key, &err), -EBADMSG);
	snprintf(want, sizeof(want),
		 "journal %s: corrupt record at offset %lld (after 1 good records):",
		 path, (long long)one);
	assert_memory_equal(err.msg, want, strlen(want));
	assert_int_equal(file_size(), whole);

	assert_int_equal(read_seqs(seqs, 8, &n, &err), -EBADMSG);
	assert_int_equal(n, 1);
	assert_int_equal(seqs[0], 1);
}

/* An absurd length prefix mid-file is an error naming the offset. */
static void test_absurd_length_prefix_is_an_error_not_a_crash(void **state)
{
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0x7f };
	struct kheal_journal_summary sum;
	struct kheal_err err;
	off_t one;

	(void)state;
	write_events(1, 1, 1);
	one = file_size();
	write_events(1, 2, 3);
	write_at(one, huge, sizeof(huge));
	assert_int_equal(kheal_journal_scan(path, &sum, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "exceeds the limit of 65536"));
	assert_int_equal(sum.records, 1);
	assert_int_equal(sum.good_size, one);
}

/* A zero byte followed by good records is corruption, not a tail. */
static void test_zero_length_record_mid_file_is_corruption(void **state)
{
	struct kheal_journal_summary sum;
	struct kheal_err err;
	uint8_t buf[512];
	off_t one, whole;
	int fd;

	(void)state;
	write_events(1, 1, 1);
	one = file_size();
	write_events(1, 2, 2);
	whole = file_size();
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, buf + 1, whole), whole);
	close(fd);
	memmove(buf, buf + 1, one);
	buf[one] = 0;
	write_at(0, buf, whole + 1);
	assert_int_equal(kheal_journal_scan(path, &sum, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "length 0"));
}

/*
 * A record body a newer kheal added (field 13, free in this schema) is
 * read past, not called corrupt.
 */
static void test_record_of_newer_kind_is_not_corruption(void **state)
{
	static const uint8_t newer[] = { 0x03, 0x6a, 0x01, 'x' };
	struct kheal_journal_summary sum;
	struct kheal_err err;

	(void)state;
	write_events(1, 1, 1);
	append_bytes(newer, sizeof(newer));
	write_events(1, 2, 2);
	assert_int_equal(kheal_journal_scan(path, &sum, &err), 0);
	assert_int_equal(sum.records, 3);
	assert_int_equal(sum.resume.last, 2);
}

/* Resume is the last kmod (instance, seq), counting gaps, not BPF. */
static void test_resume_reports_last_kmod_seq(void **state)
{
	struct kheal_gap gap = { .instance = 1, .first = 4, .last = 6 };
	struct kheal_journal_summary sum;
	struct kheal_journal j;
	struct kheal_err err;
	Kheal__Record rec;
	Kheal__Gap pg;

	(void)state;
	assert_int_equal(kheal_journal_open(&j, path, key, &err), 0);
	append_event(&j, KHEAL_SOURCE_KMOD, 1, 3);
	kheal_record_gap(&rec, &pg, &gap);
	assert_int_equal(kheal_journal_append(&j, &rec, &err), 0);
	assert_int_equal(j.sum.resume.last, 6);
	append_event(&j, KHEAL_SOURCE_KMOD, 1, 7);
	append_event(&j, KHEAL_SOURCE_BPF, 1, 50);
	assert_int_equal(kheal_journal_sync(&j, &err), 0);
	kheal_journal_close(&j);

	assert_int_equal(kheal_journal_scan(path, &sum, &err), 0);
	assert_true(sum.resume.known);
	assert_int_equal(sum.resume.instance, 1);
	assert_int_equal(sum.resume.last, 7);
	assert_int_equal(sum.records, 4);
	assert_true(sum.bpf_resume.known);
	assert_int_equal(sum.bpf_resume.last, 50);

	write_events(2, 1, 2);
	assert_int_equal(kheal_journal_open(&j, path, key, &err), 0);
	assert_int_equal(j.sum.resume.instance, 2);
	assert_int_equal(j.sum.resume.last, 2);
	assert_int_equal(j.sum.bpf_resume.last, 50);
	kheal_journal_close(&j);
}

/*
 * The BPF numbering resumes after the last BPF seq journalled, be it an
 * event, a ring-buffer gap or a merged event; kmod records leave it.
 */
static void test_bpf_resume_after_last_bpf_record(void **state)
{
	struct kheal_gap gap = {
		.source = KHEAL_SOURCE_BPF, .first = 3, .last = 8,
		.reason = KHEAL_GAP_RINGBUF,
	};
	struct kheal_merged m = {
		.event = { KHEAL_SOURCE_BPF, 0, 9 },
		.into = { KHEAL_SOURCE_KMOD, 1, 4 },
	};
	struct kheal_journal_summary sum;
	struct kheal_journal j;
	struct kheal_err err;
	Kheal__Record rec;
	Kheal__Merged pm;
	Kheal__Gap pg;

	(void)state;
	assert_int_equal(kheal_journal_open(&j, path, key, &err), 0);
	assert_false(j.sum.bpf_resume.known);
	append_event(&j, KHEAL_SOURCE_BPF, 0, 1);
	append_event(&j, KHEAL_SOURCE_BPF, 0, 2);
	kheal_record_gap(&rec, &pg, &gap);
	assert_int_equal(kheal_journal_append(&j, &rec, &err), 0);
	append_event(&j, KHEAL_SOURCE_KMOD, 1, 4);
	kheal_record_merged(&rec, &pm, &m);
	assert_int_equal(kheal_journal_append(&j, &rec, &err), 0);
	append_event(&j, KHEAL_SOURCE_KMOD, 1, 5);
	assert_int_equal(kheal_journal_sync(&j, &err), 0);
	kheal_journal_close(&j);

	assert_int_equal(kheal_journal_scan(path, &sum, &err), 0);
	assert_int_equal(sum.records, 6);
	assert_true(sum.bpf_resume.known);
	assert_int_equal(sum.bpf_resume.instance, 0);
	assert_int_equal(sum.bpf_resume.last, 9);
	assert_int_equal(sum.resume.instance, 1);
	assert_int_equal(sum.resume.last, 5);
}

/* Two writers on one journal would interleave: the second is refused. */
static void test_second_writer_refused(void **state)
{
	struct kheal_journal j1, j2;
	struct kheal_err err;

	(void)state;
	assert_int_equal(kheal_journal_open(&j1, path, key, &err), 0);
	assert_int_equal(kheal_journal_open(&j2, path, key, &err), -EWOULDBLOCK);
	assert_non_null(strstr(err.msg, "another kheald is writing it"));
	kheal_journal_close(&j1);
}

/*
 * A reader at the end picks up records appended after; half a record
 * is not returned until it is whole.
 */
static void test_reader_follows_appends(void **state)
{
	struct kheal_journal_iter it;
	struct kheal_journal j;
	struct kheal_err err;
	Kheal__Record *rec;
	uint8_t buf[256];
	ssize_t half;
	int fd;

	(void)state;
	write_events(1, 1, 2);
	assert_int_equal(kheal_journal_iter_open(&it, path, &err), 0);
	assert_int_equal(kheal_journal_iter_next(&it, &rec, &err), 1);
	kheal__record__free_unpacked(rec, NULL);
	assert_int_equal(kheal_journal_iter_next(&it, &rec, &err), 1);
	kheal__record__free_unpacked(rec, NULL);
	assert_int_equal(kheal_journal_iter_next(&it, &rec, &err), 0);
	assert_int_equal(it.tail, 0);

	/* Record 3, written in two halves. */
	write_events(1, 3, 3);
	fd = open(path, O_RDONLY);
	half = pread(fd, buf, sizeof(buf), it.off);
	close(fd);
	assert_true(half > 4);
	assert_int_equal(truncate(path, it.off + half / 2), 0);
	assert_int_equal(kheal_journal_iter_next(&it, &rec, &err), 0);
	assert_int_equal(it.tail, half / 2);
	append_bytes(buf + half / 2, half - half / 2);
	assert_int_equal(kheal_journal_iter_next(&it, &rec, &err), 1);
	assert_int_equal(rec->event->seq, 3);
	kheal__record__free_unpacked(rec, NULL);

	assert_int_equal(kheal_journal_open(&j, path, key, &err), 0);
	append_event(&j, KHEAL_SOURCE_KMOD, 1, 4);
	assert_int_equal(kheal_journal_flush(&j, &err), 0);
	assert_int_equal(kheal_journal_iter_next(&it, &rec, &err), 1);
	assert_int_equal(rec->event->seq, 4);
	kheal__record__free_unpacked(rec, NULL);
	kheal_journal_close(&j);
	kheal_journal_iter_close(&it);
}

/*
 * A reader waiting on half a record, cut away by a restarted kheald and
 * written over with other records, reads the new records, not a mix.
 */
static void test_reader_rereads_tail_cut_by_restart(void **state)
{
	static const uint8_t torn[] = { 0x40, 0x01, 0x02 };
	struct kheal_journal_iter it;
	struct kheal_err err;
	Kheal__Record *rec;

	(void)state;
	write_events(1, 1, 1);
	append_bytes(torn, sizeof(torn));
	assert_int_equal(kheal_journal_iter_open(&it, path, &err), 0);
	assert_int_equal(kheal_journal_iter_next(&it, &rec, &err), 1);
	kheal__record__free_unpacked(rec, NULL);
	assert_int_equal(kheal_journal_iter_next(&it, &rec, &err), 0);
	assert_int_equal(it.tail, sizeof(torn));

	write_events(1, 2, 3);
	assert_int_equal(kheal_journal_iter_next(&it, &rec, &err), 1);
	assert_int_equal(rec->event->seq, 2);
	kheal__record__free_unpacked(rec, NULL);
	assert_int_equal(kheal_journal_iter_next(&it, &rec, &err), 1);
	assert_int_equal(rec->event->seq, 3);
	kheal__record__free_unpacked(rec, NULL);
	kheal_journal_iter_close(&it);
}

/* A journal that is not there is -ENOENT, naming the path. */
static void test_missing_journal_named(void **state)
{
	struct kheal_journal_summary sum;
	struct kheal_err err;

	(void)state;
	assert_int_equal(kheal_journal_scan(path, &sum, &err), -ENOENT);
	assert_non_null(strstr(err.msg, path));
}

#define T(f)	cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_appended_records_read_back_in_order),
		T(test_bpf_resume_after_last_bpf_record),
		T(test_large_journal_crosses_batches_intact),
		T(test_torn_tail_truncated_earlier_records_kept),
		T(test_torn_length_prefix_truncated),
		T(test_zero_filled_tail_truncated),
		T(test_undecodable_last_record_is_torn),
		T(test_corrupt_middle_record_names_offset_and_keeps_file),
		T(test_absurd_length_prefix_is_an_error_not_a_crash),
		T(test_zero_length_record_mid_file_is_corruption),
		T(test_record_of_newer_kind_is_not_corruption),
		T(test_resume_reports_last_kmod_seq),
		T(test_second_writer_refused),
		T(test_reader_follows_appends),
		T(test_reader_rereads_tail_cut_by_restart),
		T(test_missing_journal_named),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The signed journal: its key, the hash chain, the HMACs, the anchor, and
 * what verify finds when any of them is tampered with.
 */
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
#include <sodium.h>

#include "fixtures.h"
#include "journal.h"
#include "record.h"

#define NREC	5

static char dir[] = "/tmp/kheal-test-jverify-XXXXXX";
static char path[64], head[80], keyfile[80];
static const uint8_t key[KHEAL_JOURNAL_KEY_BYTES] = "the journal's key";
static const uint8_t other_key[KHEAL_JOURNAL_KEY_BYTES] = "another key";

/* Where each record of the journal starts, and where the last ends. */
static uint64_t off[16];
static size_t nrec;

static int make_dir(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/journal", dir);
	snprintf(head, sizeof(head), "%s" KHEAL_JOURNAL_HEAD_SUFFIX, path);
	snprintf(keyfile, sizeof(keyfile), "%s/keys/journal.key", dir);
	return 0;
}

static int remove_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static int fresh(void **state)
{
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s/*", dir);
	return system(cmd);
}

static void append_event(struct kheal_journal *j, uint64_t seq)
{
	struct kheal_pb_event pe;
	struct kheal_event ev;
	Kheal__Record rec;

	ev_basic(&ev, 1, seq);
	kheal_record_event(&rec, &pe, &ev);
	assert_int_equal(kheal_journal_append(j, &rec, NULL), 0);
}

/* Events from..to, signed with @k, synced: the anchor names them. */
static void write_events(const char *p, const uint8_t *k, uint64_t from,
			 uint64_t to)
{
	struct kheal_journal j;
	struct kheal_err err;
	uint64_t seq;

	if (kheal_journal_open(&j, p, k, &err))
		fail_msg("%s", err.msg);
	for (seq = from; seq <= to; seq++)
		append_event(&j, seq);
	assert_int_equal(kheal_journal_sync(&j, &err), 0);
	kheal_journal_close(&j);
}

/* Fills off[] and nrec from the journal as it is. */
static void find_records(void)
{
	struct kheal_journal_iter it;
	Kheal__Record *rec;

	nrec = 0;
	assert_int_equal(kheal_journal_iter_open(&it, path, NULL), 0);
	while (kheal_journal_iter_next(&it, &rec, NULL) > 0) {
		off[nrec++] = it.rec_off;
		kheal__record__free_unpacked(rec, NULL);
	}
	off[nrec] = it.off;
	kheal_journal_iter_close(&it);
}

static uint8_t *read_file(const char *p, size_t *len)
{
	uint8_t *buf = malloc(1 << 20);
	int fd = open(p, O_RDONLY);
	ssize_t n;

	assert_non_null(buf);
	assert_true(fd >= 0);
	n = read(fd, buf, 1 << 20);
	assert_true(n >= 0);
	close(fd);
	*len = n;
	return buf;
}

static void write_file(const char *p, const void *buf, size_t len)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0640);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static void verify(const uint8_t *k, struct kheal_journal_report *rep)
{
	struct kheal_err err;

	if (kheal_journal_verify(path, k, NULL, rep, &err))
		fail_msg("verify: %s", err.msg);
}

static void expect_fault(enum kheal_journal_fault fault, uint64_t index,
			 uint64_t offset, const char *why)
{
	struct kheal_journal_report rep;

	verify(key, &rep);
	if (rep.fault != fault || rep.bad_index != index ||
	    rep.bad_offset != offset || !strstr(rep.why, why))
		fail_msg("want %s at record %llu offset %llu (%s); got %s at record %llu offset %llu: %s",
			 kheal_journal_fault_name(fault),
			 (unsigned long long)index, (unsigned long long)offset,
			 why, kheal_journal_fault_name(rep.fault),
			 (unsigned long long)rep.bad_index,
			 (unsigned long long)rep.bad_offset, rep.why);
}

/* A journal as kheald writes it verifies, anchor included. */
static void test_signed_journal_verifies(void **state)
{
	struct kheal_journal_report rep;

	(void)state;
	write_events(path, key, 1, 3);
	write_events(path, key, 4, NREC);
	find_records();
	verify(key, &rep);
	assert_int_equal(rep.fault, KHEAL_JOURNAL_OK);
	assert_int_equal(rep.records, NREC);
	assert_int_equal(rep.size, off[NREC]);
	assert_int_equal(rep.torn, 0);
	assert_true(rep.anchored);
	assert_int_equal(rep.head.records, NREC);
	assert_int_equal(rep.head.size, off[NREC]);
}

/*
 * Each record is what the schema says: prev_hash the SHA-256 of the
 * record before as written (zeros first), hmac the HMAC-SHA256 of the
 * record serialized with prev_hash and without hmac.
 */
static void test_records_carry_hash_of_previous_and_hmac(void **state)
{
	uint8_t want[KHEAL_JOURNAL_HASH_BYTES] = { 0 };
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	struct kheal_journal_iter it;
	Kheal__Record *rec, copy;
	uint8_t packed[1024];
	size_t n;

	(void)state;
	write_events(path, key, 1, 3);
	assert_int_equal(kheal_journal_iter_open(&it, path, NULL), 0);
	while (kheal_journal_iter_next(&it, &rec, NULL) > 0) {
		assert_true(rec->has_prev_hash && rec->has_hmac);
		assert_int_equal(rec->prev_hash.len, sizeof(want));
		assert_memory_equal(rec->prev_hash.data, want, sizeof(want));
		copy = *rec;
		copy.has_hmac = 0;
		n = kheal__record__pack(&copy, packed);
		crypto_auth_hmacsha256(mac, packed, n, key);
		assert_int_equal(rec->hmac.len, sizeof(mac));
		assert_memory_equal(rec->hmac.data, mac, sizeof(mac));
		crypto_hash_sha256(want, it.raw, it.raw_len);
		kheal__record__free_unpacked(rec, NULL);
	}
	kheal_journal_iter_close(&it);
}

/* One byte changed in a record's body: that record's HMAC fails. */
static void test_flipped_byte_names_the_edited_record(void **state)
{
	uint8_t *buf, *p;
	size_t len;

	(void)state;
	write_events(path, key, 1, NREC);
	find_records();
	buf = read_file(path, &len);
	p = memmem(buf + off[2], off[3] - off[2], "test", 4);
	assert_non_null(p);
	p[3] ^= 0x01;
	write_file(path, buf, len);
	free(buf);
	expect_fault(KHEAL_JOURNAL_BAD_HMAC, 2, off[2], "HMAC mismatch");
}

/* Two records swapped: the first out of place breaks the chain. */
static void test_swapped_records_break_the_chain(void **state)
{
	uint8_t *buf, *out;
	size_t len, a, b;

	(void)state;
	write_events(path, key, 1, NREC);
	find_records();
	buf = read_file(path, &len);
	out = malloc(len);
	assert_non_null(out);
	a = off[2] - off[1];
	b = off[3] - off[2];
	memcpy(out, buf, off[1]);
	memcpy(out + off[1], buf + off[2], b);
	memcpy(out + off[1] + b, buf + off[1], a);
	memcpy(out + off[3], buf + off[3], len - off[3]);
	write_file(path, out, len);
	free(buf);
	free(out);
	expect_fault(KHEAL_JOURNAL_BAD_CHAIN, 1, off[1],
		     "records were deleted, inserted or reordered here");
}

/* Inserts @rec (its framing included) before record @at. */
static void insert(size_t at, const uint8_t *rec, size_t rec_len)
{
	uint8_t *buf, *out;
	size_t len;

	buf = read_file(path, &len);
	out = malloc(len + rec_len);
	assert_non_null(out);
	memcpy(out, buf, off[at]);
	memcpy(out + off[at], rec, rec_len);
	memcpy(out + off[at] + rec_len, buf + off[at], len - off[at]);
	write_file(path, out, len + rec_len);
	free(buf);
	free(out);
}

/*
 * A record slipped in, framed and signed as kheald would but with
 * another key, is named; so is an unsigned one, and a copy of a genuine
 * record from elsewhere in the journal.
 */
static void test_inserted_record_is_named(void **state)
{
	struct kheal_pb_event pe;
	struct kheal_event ev;
	uint8_t unsigned_rec[256];
	Kheal__Record rec;
	char other[96];
	uint8_t *buf;
	size_t len;

	(void)state;
	snprintf(other, sizeof(other), "%s/other", dir);
	write_events(other, other_key, 9, 9);
	buf = read_file(other, &len);

	write_events(path, key, 1, NREC);
	find_records();
	insert(3, buf, len);
	free(buf);
	expect_fault(KHEAL_JOURNAL_BAD_HMAC, 3, off[3], "another key");

	fresh(NULL);
	write_events(path, key, 1, NREC);
	find_records();
	ev_basic(&ev, 1, 9);
	kheal_record_event(&rec, &pe, &ev);
	len = kheal__record__pack(&rec, unsigned_rec + 1);
	assert_true(len < 0x80);
	unsigned_rec[0] = len;
	insert(2, unsigned_rec, len + 1);
	expect_fault(KHEAL_JOURNAL_UNSIGNED, 2, off[2], "no hmac");

	fresh(NULL);
	write_events(path, key, 1, NREC);
	find_records();
	buf = read_file(path, &len);
	insert(4, buf + off[1], off[2] - off[1]);
	free(buf);
	expect_fault(KHEAL_JOURNAL_BAD_CHAIN, 4, off[4], "not the hash of record 3");
}

/* A record cut from the middle: the one after it breaks the chain. */
static void test_deleted_middle_record_breaks_the_chain(void **state)
{
	uint8_t *buf;
	size_t len;

	(void)state;
	write_events(path, key, 1, NREC);
	find_records();
	buf = read_file(path, &len);
	memmove(buf + off[2], buf + off[3], len - off[3]);
	write_file(path, buf, len - (off[3] - off[2]));
	free(buf);
	expect_fault(KHEAL_JOURNAL_BAD_CHAIN, 2, off[2],
		     "not the hash of record 1");

	fresh(NULL);
	write_events(path, key, 1, NREC);
	find_records();
	buf = read_file(path, &len);
	write_file(path, buf + off[1], len - off[1]);
	free(buf);
	expect_fault(KHEAL_JOURNAL_BAD_CHAIN, 0, 0,
		     "records were deleted before it");
}

/*
 * Whole records cut from the end leave a valid chain: the anchor tells,
 * naming the first record missing; cut to nothing, too.
 */
static void test_truncated_records_found_by_anchor(void **state)
{
	(void)state;
	write_events(path, key, 1, NREC);
	find_records();
	assert_int_equal(truncate(path, off[3]), 0);
	expect_fault(KHEAL_JOURNAL_TRUNCATED, 3, off[3],
		     "records were cut from its end");
	assert_int_equal(truncate(path, 0), 0);
	expect_fault(KHEAL_JOURNAL_TRUNCATED, 0, 0,
		     "says 5 records");
}

/*
 * kheald restarted on a cut journal keeps the anchor as evidence and
 * says why; what it appends after does not hide the cut.
 */
static void test_reopen_after_truncation_keeps_evidence(void **state)
{
	struct kheal_journal j;
	struct kheal_err err;

	(void)state;
	write_events(path, key, 1, NREC);
	find_records();
	assert_int_equal(truncate(path, off[3]), 0);
	assert_int_equal(kheal_journal_open(&j, path, key, &err), 0);
	assert_true(j.head_kept);
	assert_non_null(strstr(j.head_why.msg, "records were cut from its end"));
	append_event(&j, 7);
	append_event(&j, 8);
	append_event(&j, 9);
	assert_int_equal(kheal_journal_sync(&j, &err), 0);
	kheal_journal_close(&j);
	find_records();
	expect_fault(KHEAL_JOURNAL_TRUNCATED, 4, off[4],
		     "is not the one the anchor");
}

/* Verified with another key, the first record already fails. */
static void test_wrong_key_fails_first_record(void **state)
{
	struct kheal_journal_report rep;

	(void)state;
	write_events(path, key, 1, NREC);
	verify(other_key, &rep);
	assert_int_equal(rep.fault, KHEAL_JOURNAL_BAD_HMAC);
	assert_int_equal(rep.bad_index, 0);
	assert_int_equal(rep.bad_offset, 0);
}

/* A missing, edited or foreign anchor is a fault of its own. */
static void test_missing_or_forged_anchor_reported(void **state)
{
	struct kheal_journal_report rep;
	char *text;
	size_t len;

	(void)state;
	write_events(path, key, 1, NREC);
	find_records();
	text = (char *)read_file(head, &len);
	assert_int_equal(unlink(head), 0);
	expect_fault(KHEAL_JOURNAL_BAD_ANCHOR, NREC, off[NREC], "no anchor");

	*strstr(text, "records 5") = 'R';
	write_file(head, text, len);
	expect_fault(KHEAL_JOURNAL_BAD_ANCHOR, NREC, off[NREC], "malformed");
	free(text);

	write_events(path, other_key, NREC + 1, NREC + 1);
	verify(key, &rep);
	assert_int_equal(rep.fault, KHEAL_JOURNAL_BAD_HMAC);
	assert_int_equal(rep.bad_index, NREC);
}

/* Bytes that are not a record, with records after them: corrupt. */
static void test_corrupt_framing_named(void **state)
{
	static const uint8_t junk[] = { 0xff, 0xff, 0xff };
	uint8_t *buf;
	size_t len;

	(void)state;
	write_events(path, key, 1, NREC);
	find_records();
	buf = read_file(path, &len);
	memcpy(buf + off[2] + 1, junk, sizeof(junk));
	write_file(path, buf, len);
	free(buf);
	expect_fault(KHEAL_JOURNAL_CORRUPT, 2, off[2], "corrupt record");
}

/*
 * A crash leaves the last record half written, after the last sync:
 * verify warns of a torn tail without calling it tampering; reopening
 * cuts it, keeps the records before, and the chain goes on and verifies.
 */
static void test_torn_tail_cut_chain_continues_and_verifies(void **state)
{
	struct kheal_journal_report rep;
	struct kheal_journal j;
	struct kheal_err err;

	(void)state;
	write_events(path, key, 1, 3);
	assert_int_equal(kheal_journal_open(&j, path, key, &err), 0);
	append_event(&j, 4);
	append_event(&j, 5);
	assert_int_equal(kheal_journal_flush(&j, &err), 0);
	kheal_journal_close(&j);
	find_records();
	assert_int_equal(nrec, 5);
	assert_int_equal(truncate(path, off[5] - 5), 0);

	verify(key, &rep);
	assert_int_equal(rep.fault, KHEAL_JOURNAL_OK);
	assert_int_equal(rep.records, 4);
	assert_int_equal(rep.torn, off[5] - 5 - off[4]);

	assert_int_equal(kheal_journal_open(&j, path, key, &err), 0);
	assert_false(j.head_kept);
	assert_int_equal(j.torn_at, off[4]);
	assert_int_equal(j.sum.records, 4);
	append_event(&j, 5);
	append_event(&j, 6);
	assert_int_equal(kheal_journal_sync(&j, &err), 0);
	kheal_journal_close(&j);

	verify(key, &rep);
	assert_int_equal(rep.fault, KHEAL_JOURNAL_OK);
	assert_int_equal(rep.records, 6);
	assert_int_equal(rep.torn, 0);
	assert_int_equal(rep.head.records, 6);
}

/*
 * The first start makes the key: 32 random bytes, mode 0600, its
 * directory too; later loads read the same key.
 */
static void test_key_created_0600_and_reread(void **state)
{
	uint8_t k1[KHEAL_JOURNAL_KEY_BYTES], k2[KHEAL_JOURNAL_KEY_BYTES];
	uint8_t zero[KHEAL_JOURNAL_KEY_BYTES] = { 0 };
	struct kheal_err err;
	struct stat st;
	mode_t old;

	(void)state;
	old = umask(0);
	assert_int_equal(kheal_journal_key_load(keyfile, true, k1, &err), 0);
	umask(old);
	assert_int_equal(stat(keyfile, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, KHEAL_JOURNAL_KEY_BYTES);
	assert_memory_not_equal(k1, zero, sizeof(zero));
	assert_int_equal(kheal_journal_key_load(keyfile, false, k2, &err), 0);
	assert_memory_equal(k1, k2, sizeof(k1));
	assert_int_equal(kheal_journal_key_load(keyfile, true, k2, &err), 0);
	assert_memory_equal(k1, k2, sizeof(k1));
}

/* A key others may read, or of the wrong size, or missing, is refused. */
static void test_bad_key_files_refused_naming_file_and_fix(void **state)
{
	uint8_t k[KHEAL_JOURNAL_KEY_BYTES];
	struct kheal_err err;
	char want[160];

	(void)state;
	assert_int_equal(kheal_journal_key_load(keyfile, false, k, &err),
			 -ENOENT);
	assert_non_null(strstr(err.msg, keyfile));

	assert_int_equal(kheal_journal_key_load(keyfile, true, k, &err), 0);
	assert_int_equal(chmod(keyfile, 0644), 0);
	assert_int_equal(kheal_journal_key_load(keyfile, false, k, &err),
			 -EPERM);
	snprintf(want, sizeof(want), "journal key %s has mode 0644", keyfile);
	assert_non_null(strstr(err.msg, want));
	snprintf(want, sizeof(want), "chmod 600 %s", keyfile);
	assert_non_null(strstr(err.msg, want));
	assert_int_equal(kheal_journal_key_load(keyfile, true, k, &err),
			 -EPERM);

	assert_int_equal(chmod(keyfile, 0600), 0);
	assert_int_equal(truncate(keyfile, 16), 0);
	assert_int_equal(kheal_journal_key_load(keyfile, false, k, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "is 16 bytes, not 32"));
}

#define T(f)	cmocka_unit_test_setup(f, fresh)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_signed_journal_verifies),
		T(test_records_carry_hash_of_previous_and_hmac),
		T(test_flipped_byte_names_the_edited_record),
		T(test_swapped_records_break_the_chain),
		T(test_inserted_record_is_named),
		T(test_deleted_middle_record_breaks_the_chain),
		T(test_truncated_records_found_by_anchor),
		T(test_reopen_after_truncation_keeps_evidence),
		T(test_wrong_key_fails_first_record),
		T(test_missing_or_forged_anchor_reported),
		T(test_corrupt_framing_named),
		T(test_torn_tail_cut_chain_continues_and_verifies),
		T(test_key_created_0600_and_reread),
		T(test_bad_key_files_refused_naming_file_and_fix),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}

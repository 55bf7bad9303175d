// SPDX-License-Identifier: GPL-2.0
/* Journal records: the attribute-to-protobuf map and round trips. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "fixtures.h"
#include "record.h"

/*
 * Each event field has a protobuf field of the same name, the number
 * of its netlink attribute, and a matching type.
 */
static void test_every_event_field_maps_to_proto_field(void **state)
{
	const struct kheal_event_field *f;
	const ProtobufCFieldDescriptor *fd;

	(void)state;
	for (f = kheal_event_fields; f < kheal_event_fields +
	     kheal_event_nfields; f++) {
		fd = kheal_record_field(f);
		assert_non_null(fd);
		assert_int_equal(fd->id, f->attr);
	}
	assert_int_equal(kheal__event__descriptor.n_fields,
			 kheal_event_nfields + 1);
}

static Kheal__Record *round_trip(const Kheal__Record *rec)
{
	size_t len = kheal__record__get_packed_size(rec);
	uint8_t *buf = malloc(len);
	Kheal__Record *back;

	assert_non_null(buf);
	kheal__record__pack(rec, buf);
	back = kheal__record__unpack(NULL, len, buf);
	free(buf);
	assert_non_null(back);
	return back;
}

/*
 * An event comes back from the journal exactly as it went in,
 * presence bits included.
 */
static void test_event_round_trips_through_record(void **state)
{
	struct kheal_event ev, back;
	Kheal__Record rec, *out;
	struct kheal_pb_event pe;

	(void)state;
	ev_example(&ev);
	ev_set(&ev, KHEAL_A_PID, 0);
	ev_set(&ev, KHEAL_A_RSS_KB, UINT64_MAX);
	kheal_record_event(&rec, &pe, &ev);
	out = round_trip(&rec);
	assert_int_equal(out->body_case, KHEAL__RECORD__BODY_EVENT);
	assert_int_equal(kheal_record_to_event(out->event, &back, NULL), 0);
	kheal__record__free_unpacked(out, NULL);
	assert_memory_equal(&ev, &back, sizeof(ev));
}

/*
 * The BPF engine's fields, the stack's frames in order among them, come
 * back as they went in; errno travels as field errnum.
 */
static void test_bpf_fields_and_stack_round_trip(void **state)
{
	const struct kheal_event_field *stack = field_of(KHEAL_A_STACK);
	struct kheal_event ev, back;
	Kheal__Record rec, *out;
	struct kheal_pb_event pe;

	(void)state;
	ev_example(&ev);
	ev.source = KHEAL_SOURCE_BPF;
	ev_set(&ev, KHEAL_A_SIGNAL, 11);
	ev_set(&ev, KHEAL_A_ERRNO, 5);
	ev_set(&ev, KHEAL_A_QUEUE, 3);
	ev_set_str(&ev, KHEAL_A_DETAIL, "rcu_preempt SelfDetected");
	kheal_event_strv_add(&ev, stack, "schedule+0x5d", 13);
	kheal_event_strv_add(&ev, stack, "fuse_flush+0x1a0 [fuse]", 23);
	kheal_record_event(&rec, &pe, &ev);
	assert_int_equal(pe.pe.errnum, 5);
	assert_int_equal(pe.pe.n_stack, 2);
	out = round_trip(&rec);
	assert_int_equal(kheal_record_to_event(out->event, &back, NULL), 0);
	kheal__record__free_unpacked(out, NULL);
	assert_memory_equal(&ev, &back, sizeof(ev));
	assert_string_equal(kheal_event_strv(&back, stack, 1),
			    "fuse_flush+0x1a0 [fuse]");
}

/* A journalled stack deeper or wider than an event holds is refused. */
static void test_record_stack_out_of_bounds_rejected(void **state)
{
	static char frame[] = "f+0x1";
	char *frames[KHEAL_STACK_DEPTH + 1], wide[KHEAL_STACK_FRAME_LEN + 1];
	struct kheal_event ev, back;
	struct kheal_err err;
	Kheal__Record rec;
	struct kheal_pb_event pe;
	size_t i;

	(void)state;
	ev_basic(&ev, 1, 1);
	kheal_record_event(&rec, &pe, &ev);
	for (i = 0; i <= KHEAL_STACK_DEPTH; i++)
		frames[i] = frame;
	pe.pe.stack = frames;
	pe.pe.n_stack = KHEAL_STACK_DEPTH + 1;
	assert_int_equal(kheal_record_to_event(&pe.pe, &back, &err), -EBADMSG);
	assert_string_equal(err.msg,
			    "event field stack: 33 entries, more than 32");
	memset(wide, 'x', KHEAL_STACK_FRAME_LEN);
	wide[KHEAL_STACK_FRAME_LEN] = '\0';
	frames[1] = wide;
	pe.pe.n_stack = 2;
	assert_int_equal(kheal_record_to_event(&pe.pe, &back, &err), -EBADMSG);
	assert_string_equal(err.msg,
			    "event field stack, entry 1: 128 bytes, more than 127");
}

/* A merged event's record names both numbers, and comes back so. */
static void test_merged_round_trips_through_record(void **state)
{
	struct kheal_merged m = {
		.event = { KHEAL_SOURCE_BPF, 0, 12 },
		.into = { KHEAL_SOURCE_KMOD, 77, 3 },
	}, back;
	Kheal__Record rec, *out;
	Kheal__Merged pm;

	(void)state;
	kheal_record_merged(&rec, &pm, &m);
	out = round_trip(&rec);
	assert_int_equal(out->body_case, KHEAL__RECORD__BODY_MERGED);
	kheal_record_to_merged(out->merged, &back);
	kheal__record__free_unpacked(out, NULL);
	assert_int_equal(back.event.source, KHEAL_SOURCE_BPF);
	assert_int_equal(back.event.instance, 0);
	assert_int_equal(back.event.seq, 12);
	assert_int_equal(back.into.source, KHEAL_SOURCE_KMOD);
	assert_int_equal(back.into.instance, 77);
	assert_int_equal(back.into.seq, 3);
}

/*
 * A journalled string longer than the in-memory field is refused by
 * name rather than cut or overflowed.
 */
static void test_record_string_too_long_rejected(void **state)
{
	static char comm[] = "a-comm-that-is-far-too-long";
	struct kheal_event ev, back;
	struct kheal_err err;
	Kheal__Record rec;
	struct kheal_pb_event pe;

	(void)state;
	ev_basic(&ev, 1, 1);
	kheal_record_event(&rec, &pe, &ev);
	pe.pe.comm = comm;
	assert_int_equal(kheal_record_to_event(&pe.pe, &back, &err), -EBADMSG);
	assert_string_equal(err.msg, "event field comm: 27 bytes, more than 15");
}

/* A journalled event missing a required field is refused by name. */
static void test_record_missing_required_field_rejected(void **state)
{
	struct kheal_event ev, back;
	struct kheal_err err;
	Kheal__Record rec;
	struct kheal_pb_event pe;

	(void)state;
	ev_basic(&ev, 1, 1);
	kheal_record_event(&rec, &pe, &ev);
	pe.pe.has_time_ns = 0;
	assert_int_equal(kheal_record_to_event(&pe.pe, &back, &err), -EBADMSG);
	assert_string_equal(err.msg, "event lacks field time_ns");
}

/* A gap comes back as it went in. */
static void test_gap_round_trips_through_record(void **state)
{
	struct kheal_gap gap = {
		.instance = 5, .first = 10, .last = 20,
		.reason = KHEAL_GAP_MALFORMED,
	}, back;
	Kheal__Record rec, *out;
	Kheal__Gap pg;

	(void)state;
	kheal_record_gap(&rec, &pg, &gap);
	out = round_trip(&rec);
	assert_int_equal(out->body_case, KHEAL__RECORD__BODY_GAP);
	kheal_record_to_gap(out->gap, &back);
	kheal__record__free_unpacked(out, NULL);
	assert_int_equal(back.instance, 5);
	assert_int_equal(back.first, 10);
	assert_int_equal(back.last, 20);
	assert_int_equal(back.reason, KHEAL_GAP_MALFORMED);
	assert_int_equal(back.source, KHEAL_SOURCE_KMOD);
}

/*
 * Each source's resume point follows its own events, gaps and merged
 * events only; a gap that names no source (journalled before the BPF
 * engine) is the module's.
 */
static void test_resume_per_source(void **state)
{
	struct kheal_gap bgap = {
		.source = KHEAL_SOURCE_BPF, .first = 3, .last = 5,
		.reason = KHEAL_GAP_RINGBUF,
	}, kgap = { .instance = 9, .first = 1, .last = 2 };
	struct kheal_merged m = {
		.event = { KHEAL_SOURCE_BPF, 0, 6 },
		.into = { KHEAL_SOURCE_KMOD, 9, 3 },
	};
	struct kheal_seq kmod = { 0 }, bpf = { 0 };
	struct kheal_pb_event pe;
	struct kheal_event ev;
	Kheal__Record rec;
	Kheal__Merged pm;
	Kheal__Gap pg;

#define BOTH(r) do { kheal_record_resume(r, KHEAL_SOURCE_KMOD, &kmod); \
		     kheal_record_resume(r, KHEAL_SOURCE_BPF, &bpf); } while (0)
	(void)state;
	ev_basic(&ev, 0, 2);
	ev.source = KHEAL_SOURCE_BPF;
	kheal_record_event(&rec, &pe, &ev);
	BOTH(&rec);
	assert_false(kmod.known);
	assert_true(bpf.known);
	assert_int_equal(bpf.last, 2);
	kheal_record_gap(&rec, &pg, &bgap);
	BOTH(&rec);
	assert_false(kmod.known);
	assert_int_equal(bpf.last, 5);
	kheal_record_merged(&rec, &pm, &m);
	BOTH(&rec);
	assert_false(kmod.known);
	assert_int_equal(bpf.last, 6);
	kheal_record_gap(&rec, &pg, &kgap);
	assert_false(pg.has_source);
	BOTH(&rec);
	assert_int_equal(kmod.instance, 9);
	assert_int_equal(kmod.last, 2);
	assert_int_equal(bpf.last, 6);
#undef BOTH
}

/* The resume point follows kmod events and gaps, not other sources. */
static void test_resume_moves_on_kmod_events_and_gaps_only(void **state)
{
	struct kheal_gap gap = { .instance = 4, .first = 8, .last = 9 };
	struct kheal_seq resume = { 0 };
	struct kheal_event ev;
	Kheal__Record rec;
	struct kheal_pb_event pe;
	Kheal__Gap pg;

	(void)state;
	ev_basic(&ev, 4, 7);
	kheal_record_event(&rec, &pe, &ev);
	kheal_record_resume(&rec, KHEAL_SOURCE_KMOD, &resume);
	assert_true(resume.known);
	assert_int_equal(resume.instance, 4);
	assert_int_equal(resume.last, 7);

	kheal_record_gap(&rec, &pg, &gap);
	kheal_record_resume(&rec, KHEAL_SOURCE_KMOD, &resume);
	assert_int_equal(resume.last, 9);

	ev_basic(&ev, 4, 100);
	ev.source = KHEAL_SOURCE_BPF;
	kheal_record_event(&rec, &pe, &ev);
	kheal_record_resume(&rec, KHEAL_SOURCE_KMOD, &resume);
	assert_int_equal(resume.last, 9);
}

#define T(f)	cmocka_unit_test(f)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_every_event_field_maps_to_proto_field),
		T(test_event_round_trips_through_record),
		T(test_bpf_fields_and_stack_round_trip),
		T(test_record_stack_out_of_bounds_rejected),
		T(test_merged_round_trips_through_record),
		T(test_resume_per_source),
		T(test_record_string_too_long_rejected),
		T(test_record_missing_required_field_rejected),
		T(test_gap_round_trips_through_record),
		T(test_resume_moves_on_kmod_events_and_gaps_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

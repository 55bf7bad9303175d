// SPDX-License-Identifier: GPL-2.0
/*
 * Proves that Documentation/netlink/specs/kheal.yaml and
 * include/uapi/linux/kheal.h describe the same family, and that the check
 * catches a mismatch: each negative test edits a copy of one file and
 * expects the exact message naming what differs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "speccheck.h"

#ifndef KHEAL_SPEC
#error "KHEAL_SPEC must name Documentation/netlink/specs/kheal.yaml"
#endif
#ifndef KHEAL_UAPI
#error "KHEAL_UAPI must name include/uapi/linux/kheal.h"
#endif

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	assert_non_null(f);
	do {
		cap += 65536;
		buf = realloc(buf, cap + 1);
		assert_non_null(buf);
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* @text with @from, which must occur exactly once, replaced by @to. */
static char *edit(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	size_t head, len;
	char *out;

	if (!at || strstr(at + 1, from))
		fail_msg("must occur exactly once: \"%s\"", from);
	head = at - text;
	len = strlen(text) - strlen(from) + strlen(to);
	out = malloc(len + 1);
	assert_non_null(out);
	memcpy(out, text, head);
	strcpy(out + head, to);
	strcat(out, at + strlen(from));
	return out;
}

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/kheal-spec-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void print_report(const struct spec_report *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		print_message("  %s\n", r->msgs[i]);
}

/*
 * Runs the check on the real files, one of them edited (@from -> @to in
 * the spec if @in_spec, else in the header), and expects each of the
 * NULL-terminated messages among the findings.
 */
static void expect_mismatch(bool in_spec, const char *from, const char *to,
			    ...)
{
	const char *real = in_spec ? KHEAL_SPEC : KHEAL_UAPI;
	struct spec_report r = { 0 };
	char *orig = slurp(real);
	char *mod = edit(orig, from, to);
	char *tmp = write_temp(mod);
	const char *want;
	bool missed = false;
	va_list ap;

	spec_check_files(in_spec ? tmp : KHEAL_SPEC, in_spec ? KHEAL_UAPI : tmp,
			 &r, NULL);
	va_start(ap, to);
	while ((want = va_arg(ap, const char *))) {
		if (!spec_report_has(&r, want)) {
			print_message("missing: %s\n", want);
			missed = true;
		}
	}
	va_end(ap);
	if (missed) {
		print_message("the check reported:\n");
		print_report(&r);
	}
	unlink(tmp);
	free(tmp);
	free(mod);
	free(orig);
	spec_report_free(&r);
	assert_false(missed);
}

static void spec_and_uapi_header_agree(void **state)
{
	struct spec_report r = { 0 };
	struct spec_stats st;
	int ret;

	(void)state;
	ret = spec_check_files(KHEAL_SPEC, KHEAL_UAPI, &r, &st);
	print_report(&r);
	assert_int_equal(ret, 0);
	assert_int_equal(r.n, 0);
	/* Not vacuous: every header constant was compared. */
	assert_true(st.header_enums >= 7);
	assert_true(st.header_consts >= 80);
	assert_int_equal(st.matched, st.header_consts);
	spec_report_free(&r);
}

static void header_enum_parser_counts_like_c(void **state)
{
	static const char text[] =
		"#define X_NAME\t\"x\" /* the name */\n"
		"#define X_LEN 0x10\n"
		"enum x_attr {\n"
		"\tX_A_UNSPEC,\n"
		"\tX_A_SEQ,\t/* u64, gap-free */\n"
		"\t/* a comment of its own */\n"
		"\tX_A_TEN = 10,\n"
		"\tX_A_ELEVEN,\n"
		"\n"
		"\t__X_A_MAX,\n"
		"\tX_A_MAX = __X_A_MAX - 1\n"
		"};\n";
	struct spec_report r = { 0 };
	struct uapi_header h;
	const struct spec_const *c;

	(void)state;
	assert_int_equal(uapi_parse("x.h", text, &h, &r), 0);
	assert_int_equal(h.n_enums, 1);
	assert_int_equal(h.n_consts, 6);
	assert_int_equal(uapi_find(&h, "X_A_SEQ")->value, 1);
	assert_string_equal(uapi_find(&h, "X_A_SEQ")->note, " u64, gap-free ");
	assert_null(uapi_find(&h, "X_A_TEN")->note);
	assert_int_equal(uapi_find(&h, "X_A_TEN")->value, 10);
	assert_int_equal(uapi_find(&h, "X_A_ELEVEN")->value, 11);
	c = uapi_find(&h, "__X_A_MAX");
	assert_int_equal(c->value, 12);
	assert_string_equal(c->enum_name, "x_attr");
	assert_int_equal(uapi_find(&h, "X_A_MAX")->value, 11);
	assert_int_equal(h.n_defines, 2);
	assert_string_equal(h.defines[0].str, "x");
	assert_int_equal(h.defines[1].value, 16);
	uapi_header_free(&h);
	spec_report_free(&r);
}

static void header_enum_parser_names_a_bad_value(void **state)
{
	struct spec_report r = { 0 };
	struct uapi_header h;

	(void)state;
	assert_int_equal(uapi_parse("x.h", "enum e {\n A,\n B = NOPE + 1,\n};\n",
				    &h, &r), -EINVAL);
	assert_true(spec_report_has(&r, "x.h:3: cannot evaluate the value of B"));
	uapi_header_free(&h);
	spec_report_free(&r);
}

static void renumbered_spec_attribute_is_reported(void **state)
{
	(void)state;
	expect_mismatch(true, "        name: since-seq\n",
			"        name: since-seq\n        value: 29\n",
			"spec attribute 'since-seq' = 29 but header KHEAL_A_SINCE_SEQ = 28",
			"spec attribute 'count' = 31 but header KHEAL_A_COUNT = 30",
			"spec count of attribute set 'attrs' = 38 but header __KHEAL_A_MAX = 37",
			NULL);
}

static void renumbered_header_attribute_is_reported(void **state)
{
	(void)state;
	expect_mismatch(false, "\tKHEAL_A_SINCE_SEQ,", "\tKHEAL_A_SINCE_SEQ = 40,",
			"spec attribute 'since-seq' = 28 but header KHEAL_A_SINCE_SEQ = 40",
			"spec attribute 'inject-type' = 29 but header KHEAL_A_INJECT_TYPE = 41",
			NULL);
}

static void missing_spec_enum_entry_is_reported(void **state)
{
	(void)state;
	expect_mismatch(true,
			"      -\n        name: oops\n"
			"        doc: Reserved; no detector reports it in this version.\n",
			"",
			"header KHEAL_EVENT_OOPS = 12 (enum kheal_event_kind) is not in the spec",
			"spec event-kind entry 'synthetic' = 12 but header KHEAL_EVENT_SYNTHETIC = 13",
			NULL);
}

static void extra_spec_command_is_reported(void **state)
{
	(void)state;
	expect_mismatch(true, "\nmcast-groups:\n",
			"    -\n      name: get-foo\n      doc: Not in the header.\n"
			"\nmcast-groups:\n",
			"spec operation 'get-foo' = 7 is KHEAL_CMD_GET_FOO, which the header does not define",
			"spec count of the operations = 8 but header __KHEAL_CMD_MAX = 7",
			NULL);
}

static void extra_header_attribute_is_reported(void **state)
{
	(void)state;
	expect_mismatch(false,
			"\tKHEAL_A_CHECKPOINT_TEXT,\t/* string, what was captured */\n",
			"\tKHEAL_A_CHECKPOINT_TEXT,\t/* string, what was captured */\n"
			"\tKHEAL_A_NEW,\n",
			"header KHEAL_A_NEW = 37 (enum kheal_attr) is not in the spec",
			"spec count of attribute set 'attrs' = 37 but header __KHEAL_A_MAX = 38",
			NULL);
}

static void attribute_missing_from_header_is_reported(void **state)
{
	(void)state;
	expect_mismatch(false, "\tKHEAL_DETECTOR_A_PAD,\n", "",
			"spec attribute 'pad' = 4 is KHEAL_DETECTOR_A_PAD, which the header does not define",
			"spec count of attribute set 'detector' = 5 but header __KHEAL_DETECTOR_A_MAX = 4",
			NULL);
}

static void attribute_in_another_enum_is_reported(void **state)
{
	(void)state;
	expect_mismatch(false, "enum kheal_detector_attr {",
			"enum kheal_detector_attrs {",
			"spec attribute 'name' is KHEAL_DETECTOR_A_NAME in enum kheal_detector_attr, but the header has it in enum kheal_detector_attrs",
			NULL);
}

static void family_name_mismatch_is_reported(void **state)
{
	(void)state;
	expect_mismatch(false, "\"kheal\"", "\"kheal2\"",
			"spec family name 'kheal' but header KHEAL_GENL_NAME = \"kheal2\"",
			NULL);
}

static void family_version_mismatch_is_reported(void **state)
{
	(void)state;
	expect_mismatch(false, "KHEAL_GENL_VERSION\t1", "KHEAL_GENL_VERSION\t2",
			"spec family version 1 (the default) but header KHEAL_GENL_VERSION = 2",
			NULL);
}

static void mcast_group_mismatch_is_reported(void **state)
{
	(void)state;
	expect_mismatch(true, "  list:\n    -\n      name: events\n",
			"  list:\n    -\n      name: notify\n",
			"spec multicast group 'notify' is KHEAL_MCGRP_NOTIFY, which the header does not define",
			"header KHEAL_MCGRP_EVENTS = \"events\" is not in the spec",
			"spec operation 'event' uses multicast group 'events', which the spec does not define",
			NULL);
}

static void narrow_integer_attribute_is_reported(void **state)
{
	(void)state;
	expect_mismatch(true, "        name: pid\n        type: u32\n",
			"        name: pid\n        type: u16\n",
			"spec attribute 'pid' is u16: STYLE.md allows no integer attribute under 32 bits",
			"spec attribute 'pid' is u16 but the header comment on KHEAL_A_PID says u32",
			NULL);
}

static void attribute_type_differs_from_header(void **state)
{
	(void)state;
	expect_mismatch(true, "        name: seq\n        type: u64\n",
			"        name: seq\n        type: u32\n",
			"spec attribute 'seq' is u32 but the header comment on KHEAL_A_SEQ says u64",
			NULL);
}

static void attribute_enum_differs_from_header(void **state)
{
	(void)state;
	expect_mismatch(true, "        name: severity\n        type: u32\n        enum: severity\n",
			"        name: severity\n        type: u32\n        enum: event-kind\n",
			"spec attribute 'severity' uses enum kheal_event_kind but the header comment on KHEAL_A_SEVERITY says enum kheal_severity",
			NULL);
}

static void unknown_attribute_in_operation_is_reported(void **state)
{
	(void)state;
	expect_mismatch(true, "            - since-seq\n", "            - sinc-seq\n",
			"spec operation 'get-events' dump request lists 'sinc-seq', which attribute set 'attrs' does not have",
			NULL);
}

static void malformed_yaml_is_located(void **state)
{
	(void)state;
	expect_mismatch(true, "\nattribute-sets:\n", "\nattribute-sets: [\n",
			": YAML error: ", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spec_and_uapi_header_agree),
		cmocka_unit_test(header_enum_parser_counts_like_c),
		cmocka_unit_test(header_enum_parser_names_a_bad_value),
		cmocka_unit_test(renumbered_spec_attribute_is_reported),
		cmocka_unit_test(renumbered_header_attribute_is_reported),
		cmocka_unit_test(missing_spec_enum_entry_is_reported),
		cmocka_unit_test(extra_spec_command_is_reported),
		cmocka_unit_test(extra_header_attribute_is_reported),
		cmocka_unit_test(attribute_missing_from_header_is_reported),
		cmocka_unit_test(attribute_in_another_enum_is_reported),
		cmocka_unit_test(family_name_mismatch_is_reported),
		cmocka_unit_test(family_version_mismatch_is_reported),
		cmocka_unit_test(mcast_group_mismatch_is_reported),
		cmocka_unit_test(narrow_integer_attribute_is_reported),
		cmocka_unit_test(attribute_type_differs_from_header),
		cmocka_unit_test(attribute_enum_differs_from_header),
		cmocka_unit_test(unknown_attribute_in_operation_is_reported),
		cmocka_unit_test(malformed_yaml_is_located),
	};

	return cmocka_run_group_tests_name("spec_matches_uapi", tests, NULL,
					   NULL);
}

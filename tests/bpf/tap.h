/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal TAP for the BPF tests: numbered "ok"/"not ok" lines, a plan at
 * the end, and the "N passed, N failed" summary line.
 */
#ifndef KHEAL_TEST_TAP_H
#define KHEAL_TEST_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static unsigned int tap_n, tap_failed, tap_skipped;

static inline void tap_diag(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static inline int tap_ok(int cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %u - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

static inline void tap_skip(const char *what, const char *why)
{
	printf("ok %u - %s # SKIP %s\n", ++tap_n, what, why);
	fflush(stdout);
	tap_skipped++;
}

#define tap_is_u64(got, want, name)					\
	({								\
		uint64_t __g = (got), __w = (want);			\
		if (!tap_ok(__g == __w, "%s", name))			\
			tap_diag("  got %" PRIu64 ", want %" PRIu64,	\
				 __g, __w);				\
		__g == __w;						\
	})

#define tap_is_i64(got, want, name)					\
	({								\
		int64_t __g = (got), __w = (want);			\
		if (!tap_ok(__g == __w, "%s", name))			\
			tap_diag("  got %" PRId64 ", want %" PRId64,	\
				 __g, __w);				\
		__g == __w;						\
	})

#define tap_is_str(got, want, name)					\
	({								\
		const char *__g = (got), *__w = (want);			\
		int __eq = __g && __w && !strcmp(__g, __w);		\
		if (!tap_ok(__eq, "%s", name))				\
			tap_diag("  got '%s', want '%s'",		\
				 __g ? __g : "(null)",			\
				 __w ? __w : "(null)");			\
		__eq;							\
	})

#define tap_in_range(got, lo, hi, name)					\
	({								\
		uint64_t __g = (got), __l = (lo), __h = (hi);		\
		int __in = __g >= __l && __g <= __h;			\
		if (!tap_ok(__in, "%s", name))				\
			tap_diag("  got %" PRIu64 ", want %" PRIu64	\
				 "..%" PRIu64, __g, __l, __h);		\
		__in;							\
	})

/* Prints the plan and the summary; the exit status for main(). */
static inline int tap_done(void)
{
	printf("1..%u\n", tap_n);
	printf("%u passed, %u failed", tap_n - tap_failed - tap_skipped,
	       tap_failed);
	if (tap_skipped)
		printf(", %u skipped", tap_skipped);
	putchar('\n');
	return tap_failed ? 1 : 0;
}

#endif /* KHEAL_TEST_TAP_H */

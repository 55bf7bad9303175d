/* SPDX-License-Identifier: GPL-2.0 */
/* The kmsg event source: kernel log lines that no tracepoint reports. */
#ifndef KHEAL_SOURCE_KMSG_H
#define KHEAL_SOURCE_KMSG_H

#include <stddef.h>
#include <stdint.h>

#include "source.h"

#define KHEAL_KMSG_PATH		"/dev/kmsg"
#define KHEAL_KMSG_BOOT_ID	"/proc/sys/kernel/random/boot_id"

extern const struct kheal_source_ops kheal_source_kmsg_ops;

/* One /dev/kmsg record: "PRIO,SEQ,TS_US,FLAGS[,...];TEXT". */
struct kheal_kmsg_record {
	uint32_t prio;		/* facility << 3 | level */
	uint64_t seq;		/* the kernel's, from 0 at boot */
	uint64_t ts_us;		/* local_clock() at printk, us */
	const char *text;	/* into the caller's buffer, not ended */
	size_t len;
};

/*
 * Parses the first line of a record (@len bytes, newline excluded).
 * Returns 0, or -EBADMSG naming what is wrong.
 */
int kheal_kmsg_parse(const char *line, size_t len,
		     struct kheal_kmsg_record *rec, struct kheal_err *err);

/*
 * Applies the rules to @rec: 1 and *@ev filled in (source kmsg, instance
 * @instance, seq the record's + 1) if a rule takes it, 0 if none does.
 */
int kheal_kmsg_match(const struct kheal_kmsg_record *rec, uint64_t instance,
		     struct kheal_event *ev);

/* 64 bits of the boot id in @path: the instance of this boot's log. */
int kheal_kmsg_boot_instance(const char *path, uint64_t *instance,
			     struct kheal_err *err);

/*
 * What open() does after opening /dev/kmsg and reading the boot id:
 * takes @fd (non-blocking, one record or more per read) as the log of
 * boot @instance. For tests, which feed a pipe.
 */
int kheal_source_kmsg_attach(struct kheal_source *src, int fd,
			     uint64_t instance, struct kheal_err *err);

#endif

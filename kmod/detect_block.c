// SPDX-License-Identifier: GPL-2.0
/*
 * Block I/O error detector: probes on block:block_rq_error (a request-
 * based device's driver failed a request) and block:block_bio_complete (a
 * bio-based device, dm or md, ended a bio with an error; blk-mq clears the
 * bio's trace flag, so a request-based device is never reported twice).
 *
 * A failing device errs thousands of times a second. Each device's first
 * error is reported at once, later ones at most once a second, with the
 * count of those left unreported since. The detail says the operation,
 * the sector and, when the failed I/O was issued by md (its completion
 * callback lives in md-mod.ko, raid1.ko, raid10.ko...), which module:
 * ", md member (raid1)"; runbooks match on it to tell an array's member
 * from a device that holds a filesystem.
 *
 * Both probes run in the completion path, often in interrupt context:
 * they take one spinlock with interrupts off and allocate nothing. The
 * checkpoint holds the device's I/O counters, read from its per-CPU
 * statistics without locks.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/jiffies.h>
#include <linux/kallsyms.h>
#include <linux/spinlock.h>
#include <linux/tracepoint.h>

#include "kheal.h"

#define KHEAL_BLOCK_SLOTS	32	/* devices rate-limited at once */

/* What the rate limit remembers of a device that erred. */
struct kheal_block_slot {
	dev_t dev;			/* 0: free */
	unsigned long last;		/* jiffies of the last report */
	u64 unreported;			/* errors since the last report */
};

static DEFINE_SPINLOCK(kheal_block_lock);
static struct kheal_block_slot kheal_block_slots[KHEAL_BLOCK_SLOTS];

static struct tracepoint *kheal_tp_rq_error;
static struct tracepoint *kheal_tp_bio_complete;

/*
 * md's core (superblock writes) and its personalities, as kallsyms names
 * their modules.
 */
static const char *const kheal_md_modules[] = {
	"md_mod", "raid1", "raid10", "raid456", "raid0", "linear", "multipath",
};

/*
 * Whether to report an error of @dev now; if so, *@skipped is the count
 * of its errors left unreported since the last report. A device not
 * remembered takes a free slot or the one reported longest ago.
 */
static bool kheal_block_ratelimit(dev_t dev, u64 *skipped)
{
	struct kheal_block_slot *s, *victim = NULL;
	unsigned long flags, now = jiffies;
	bool report = true;
	unsigned int i;

	spin_lock_irqsave(&kheal_block_lock, flags);
	for (i = 0; i < KHEAL_BLOCK_SLOTS; i++) {
		s = &kheal_block_slots[i];
		if (s->dev == dev)
			break;
		if (!victim || !s->dev ||
		    (victim->dev && time_before(s->last, victim->last)))
			victim = s;
	}
	if (i == KHEAL_BLOCK_SLOTS) {
		s = victim;
		s->dev = dev;
		s->unreported = 0;
	} else if (time_before(now, s->last + HZ)) {
		s->unreported++;
		report = false;
	}
	if (report) {
		*skipped = s->unreported;
		s->unreported = 0;
		s->last = now;
	}
	spin_unlock_irqrestore(&kheal_block_lock, flags);
	return report;
}

/* ", md member (raid1)" if md issued the I/O whose callback is @end_io. */
static void kheal_block_issuer(bio_end_io_t *end_io, char *buf, size_t len)
{
	char sym[KSYM_SYMBOL_LEN];
	const char *mod;
	unsigned int i;

	buf[0] = '\0';
	if (!end_io)
		return;
	sprint_symbol_no_offset(sym, (unsigned long)end_io);
	mod = strstr(sym, " [");
	if (!mod)
		return;
	mod += 2;
	for (i = 0; i < ARRAY_SIZE(kheal_md_modules); i++) {
		size_t n = strlen(kheal_md_modules[i]);

		if (!strncmp(mod, kheal_md_modules[i], n) && mod[n] == ']') {
			snprintf(buf, len, ", md member (%s)",
				 kheal_md_modules[i]);
			return;
		}
	}
}

static void kheal_block_report(struct block_device *bdev, enum req_op op,
			       sector_t sector, unsigned int sectors,
			       blk_status_t status, bio_end_io_t *end_io)
{
	struct kheal_cp_dev cp_dev = { .bdev = bdev, .tx_queue = -1 };
	char issuer[32], more[40];
	struct kheal_event *ev;
	unsigned long flags;
	u64 skipped, cp;

	if (!kheal_block_ratelimit(bdev->bd_dev, &skipped))
		return;
	kheal_block_issuer(end_io, issuer, sizeof(issuer));
	if (skipped)
		snprintf(more, sizeof(more), ", %llu more since the last report",
			 skipped);
	else
		more[0] = '\0';
	/* The kernel log holds the driver's own account of the error. */
	cp = kheal_checkpoint_take(NULL, KHEAL_CP_LOAD | KHEAL_CP_DEVICE |
				   KHEAL_CP_LOG, &cp_dev);

	ev = kheal_event_begin(KHEAL_EVENT_BLOCK_IO_ERROR, KHEAL_SEV_ERROR,
			       "block", &flags);
	ev->present |= KHEAL_F_DEV | KHEAL_F_ERRNO | KHEAL_F_DETAIL;
	snprintf(ev->dev, sizeof(ev->dev), "%pg", bdev);
	ev->errnum = -blk_status_to_errno(status);
	snprintf(ev->detail, sizeof(ev->detail),
		 "%s error at sector %llu (%u sectors)%s%s",
		 blk_op_str(op), (unsigned long long)sector,
		 sectors, more, issuer);
	kheal_event_set_checkpoint(ev, cp);
	kheal_event_commit(&kheal_block_detector, ev, flags);
}

static void kheal_block_rq_error_probe(void *data, struct request *rq,
				       blk_status_t error,
				       unsigned int nr_bytes)
{
	struct block_device *bdev = rq->part;

	if (!bdev && rq->q->disk)
		bdev = rq->q->disk->part0;
	if (!bdev)
		return;
	kheal_block_report(bdev, req_op(rq), blk_rq_pos(rq),
			   blk_rq_sectors(rq), error,
			   rq->bio ? rq->bio->bi_end_io : NULL);
}

static void kheal_block_bio_complete_probe(void *data,
					   struct request_queue *q,
					   struct bio *bio)
{
	if (likely(!bio->bi_status))
		return;
	kheal_block_report(bio->bi_bdev, bio_op(bio),
			   bio->bi_iter.bi_sector, bio_sectors(bio),
			   bio->bi_status, bio->bi_end_io);
}

static void kheal_block_find_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "block_rq_error"))
		kheal_tp_rq_error = tp;
	else if (!strcmp(tp->name, "block_bio_complete"))
		kheal_tp_bio_complete = tp;
}

static int kheal_block_start(void)
{
	int ret;

	kheal_tp_rq_error = NULL;
	kheal_tp_bio_complete = NULL;
	memset(kheal_block_slots, 0, sizeof(kheal_block_slots));
	for_each_kernel_tracepoint(kheal_block_find_tp, NULL);
	if (!kheal_tp_rq_error || !kheal_tp_bio_complete) {
		pr_warn("tracepoints block:block_rq_error and block:block_bio_complete not found\n");
		return -ENOENT;
	}
	ret = tracepoint_probe_register(kheal_tp_rq_error,
					kheal_block_rq_error_probe, NULL);
	if (ret) {
		pr_warn("cannot attach to block:block_rq_error: %d\n", ret);
		return ret;
	}
	ret = tracepoint_probe_register(kheal_tp_bio_complete,
					kheal_block_bio_complete_probe, NULL);
	if (ret) {
		pr_warn("cannot attach to block:block_bio_complete: %d\n", ret);
		goto out_unregister_rq;
	}
	return 0;

out_unregister_rq:
	tracepoint_probe_unregister(kheal_tp_rq_error,
				    kheal_block_rq_error_probe, NULL);
	tracepoint_synchronize_unregister();
	return ret;
}

static void kheal_block_stop(void)
{
	tracepoint_probe_unregister(kheal_tp_bio_complete,
				    kheal_block_bio_complete_probe, NULL);
	tracepoint_probe_unregister(kheal_tp_rq_error,
				    kheal_block_rq_error_probe, NULL);
	/* No probe may still run once the module text can go. */
	tracepoint_synchronize_unregister();
}

struct kheal_detector kheal_block_detector = {
	.name = "block_io_error",
	.start = kheal_block_start,
	.stop = kheal_block_stop,
};

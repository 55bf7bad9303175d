// SPDX-License-Identifier: GPL-2.0
/*
 * kheal.ko: detects kernel-level anomalies, checkpoints them and reports
 * them to the kheald agent over the "kheal" generic netlink family.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/random.h>

#include "kheal.h"

unsigned int kheal_hung_ms = 10000;
bool kheal_allow_inject;
u64 kheal_instance;
static unsigned int kheal_backlog_size = 4096;
static unsigned int kheal_checkpoints = 64;

struct kheal_detector *const kheal_detectors[] = {
	&kheal_hung_detector,
	&kheal_oom_detector,
	&kheal_carrier_detector,
	&kheal_tx_timeout_detector,
	&kheal_rcu_stall_detector,
	&kheal_block_detector,
};

const unsigned int kheal_n_detectors = ARRAY_SIZE(kheal_detectors);

/**
 * kheal_set_hung_ms() - change the hung-task threshold at run time
 * @ms: new threshold in milliseconds, at least KHEAL_HUNG_MS_MIN
 *
 * Return: 0 or -EINVAL.
 */
int kheal_set_hung_ms(unsigned int ms)
{
	if (ms < KHEAL_HUNG_MS_MIN)
		return -EINVAL;
	WRITE_ONCE(kheal_hung_ms, ms);
	kheal_hung_rescan();
	return 0;
}

static int kheal_param_set_hung_ms(const char *val,
				   const struct kernel_param *kp)
{
	unsigned int ms;
	int ret;

	ret = kstrtouint(val, 0, &ms);
	if (ret)
		return ret;
	return kheal_set_hung_ms(ms);
}

static const struct kernel_param_ops kheal_hung_ms_ops = {
	.set = kheal_param_set_hung_ms,
	.get = param_get_uint,
};

module_param_cb(hung_ms, &kheal_hung_ms_ops, &kheal_hung_ms, 0644);
MODULE_PARM_DESC(hung_ms,
		 "report tasks in D state without a context switch for this many ms (min 100, default 10000)");

module_param_named(backlog, kheal_backlog_size, uint, 0444);
MODULE_PARM_DESC(backlog,
		 "events kept for GET_EVENTS (16..2097152, default 4096)");

module_param_named(checkpoints, kheal_checkpoints, uint, 0444);
MODULE_PARM_DESC(checkpoints,
		 "checkpoints kept for GET_CHECKPOINT (4..4096, default 64)");

module_param_named(allow_inject, kheal_allow_inject, bool, 0444);
MODULE_PARM_DESC(allow_inject,
		 "accept the INJECT command (test faults); default off");

static void kheal_detectors_stop(unsigned int n)
{
	while (n--) {
		struct kheal_detector *det = kheal_detectors[n];

		if (det->active) {
			det->stop();
			det->active = false;
		}
	}
}

static void kheal_detectors_start(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < kheal_n_detectors; i++) {
		struct kheal_detector *det = kheal_detectors[i];

		ret = det->start();
		if (ret) {
			pr_warn("detector %s unavailable (%d); the others run\n",
				det->name, ret);
			continue;
		}
		det->active = true;
	}
}

static int __init kheal_init(void)
{
	int ret;

	if (kheal_backlog_size < KHEAL_BACKLOG_MIN ||
	    kheal_backlog_size > KHEAL_BACKLOG_MAX) {
		pr_err("backlog=%u is out of range %u..%u\n",
		       kheal_backlog_size, KHEAL_BACKLOG_MIN,
		       KHEAL_BACKLOG_MAX);
		return -EINVAL;
	}
	if (kheal_checkpoints < KHEAL_CHECKPOINTS_MIN ||
	    kheal_checkpoints > KHEAL_CHECKPOINTS_MAX) {
		pr_err("checkpoints=%u is out of range %u..%u\n",
		       kheal_checkpoints, KHEAL_CHECKPOINTS_MIN,
		       KHEAL_CHECKPOINTS_MAX);
		return -EINVAL;
	}
	if (kheal_hung_ms < KHEAL_HUNG_MS_MIN) {
		pr_err("hung_ms=%u is below the minimum %u\n", kheal_hung_ms,
		       KHEAL_HUNG_MS_MIN);
		return -EINVAL;
	}
	kheal_instance = get_random_u64();

	ret = kheal_backlog_init(kheal_backlog_size);
	if (ret)
		return ret;

	ret = kheal_checkpoint_init(kheal_checkpoints);
	if (ret)
		goto out_free_backlog;

	ret = kheal_netlink_init();
	if (ret)
		goto out_free_checkpoints;

	kheal_inject_init();
	kheal_detectors_start();
	pr_info("v%s loaded: hung_ms=%u backlog=%u checkpoints=%u allow_inject=%d\n",
		KHEAL_VERSION, kheal_hung_ms, kheal_backlog_size,
		kheal_checkpoints, kheal_allow_inject);
	return 0;

out_free_checkpoints:
	kheal_checkpoint_free();
out_free_backlog:
	kheal_backlog_free();
	return ret;
}

/*
 * Producers stop first (injections, then detectors), then the sender
 * drains, then the family goes, then the memory the dumps read.
 */
static void __exit kheal_exit(void)
{
	kheal_inject_exit();
	kheal_detectors_stop(kheal_n_detectors);
	kheal_backlog_exit();
	kheal_netlink_exit();
	kheal_backlog_free();
	kheal_checkpoint_free();
	pr_info("unloaded\n");
}

module_init(kheal_init);
module_exit(kheal_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The kheal authors");
MODULE_DESCRIPTION("kheal: kernel anomaly detection for self-healing hosts");
MODULE_VERSION(KHEAL_VERSION);

// SPDX-License-Identifier: GPL-2.0
/*
 * crashmod: makes the kernel report a problem on load, so scripts/vm-test
 * --selftest can prove the harness fails a test on it.
 *
 *   insmod crashmod.ko what=warn|oops|leak|redzone
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

static char *what = "warn";
module_param(what, charp, 0444);
MODULE_PARM_DESC(what, "warn, oops, leak or redzone");

static int __init crashmod_init(void)
{
	struct kmem_cache *cache;
	size_t past_end = 16;
	int *null_ptr = NULL;
	char *p;

	/* The compiler must neither see the bugs nor drop the accesses. */
	OPTIMIZER_HIDE_VAR(null_ptr);
	OPTIMIZER_HIDE_VAR(past_end);

	if (!strcmp(what, "warn")) {
		WARN(1, "crashmod: a deliberate warning\n");
	} else if (!strcmp(what, "oops")) {
		*null_ptr = 1;
	} else if (!strcmp(what, "leak")) {
		/* Destroying a cache with a live object: "Objects remaining". */
		cache = kmem_cache_create("crashmod", 64, 0, 0, NULL);
		if (!cache || !kmem_cache_alloc(cache, GFP_KERNEL))
			return -ENOMEM;
		kmem_cache_destroy(cache);
	} else if (!strcmp(what, "redzone")) {
		/* slub_debug=Z finds the write past the end on kfree(). */
		p = kmalloc(16, GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		p[past_end] = 0x5a;
		kfree(p);
	} else {
		pr_err("crashmod: what=%s: expected warn, oops, leak or redzone\n",
		       what);
		return -EINVAL;
	}
	return 0;
}
module_init(crashmod_init);

MODULE_DESCRIPTION("Reports a kernel problem on load, to test the VM harness");
MODULE_LICENSE("GPL");

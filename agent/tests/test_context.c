// SPDX-License-Identifier: GPL-2.0
/* Incident context: from a fake /proc and cgroup tree, and the real /proc. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "context.h"
#include "fixtures.h"

static char tmp[] = "/tmp/kheal-test-ctx-XXXXXX";
static char cg_root[256], proc_root[256];
static struct kheal_exec_ctx fake;

static void put(const char *rel, const char *text)
{
	char path[PATH_MAX], *p;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	for (p = path + strlen(tmp) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

#define MEMINFO								\
	"MemTotal:       16318480 kB\n"					\
	"MemFree:          912344 kB\n"					\
	"MemAvailable:    7432100 kB\n"					\
	"Buffers:          201000 kB\n"					\
	"Cached:          6100000 kB\n"					\
	"SwapCached:            0 kB\n"					\
	"Active:          8000000 kB\n"					\
	"SwapTotal:       2097148 kB\n"					\
	"SwapFree:        2097148 kB\n"					\
	"Dirty:              1200 kB\n"					\
	"Writeback:             0 kB\n"					\
	"WritebackTmp:          0 kB\n"					\
	"Slab:             700000 kB\n"					\
	"SReclaimable:     500000 kB\n"					\
	"Committed_AS:   20000000 kB\n"					\
	"HugePages_Total:       0\n"

#define MEMINFO_PICKED							\
	"MemTotal:       16318480 kB\n"					\
	"MemFree:          912344 kB\n"					\
	"MemAvailable:    7432100 kB\n"					\
	"Buffers:          201000 kB\n"					\
	"Cached:          6100000 kB\n"					\
	"SwapTotal:       2097148 kB\n"					\
	"SwapFree:        2097148 kB\n"					\
	"Dirty:              1200 kB\n"					\
	"Writeback:             0 kB\n"					\
	"Slab:             700000 kB\n"					\
	"Committed_AS:   20000000 kB"

#define PSI_MEM	"some avg10=1.00 avg60=0.50 avg300=0.10 total=123\n" \
		"full avg10=0.00 avg60=0.00 avg300=0.00 total=45\n"

static int group_setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmp))
		return -1;
	snprintf(cg_root, sizeof(cg_root), "%s/cg", tmp);
	snprintf(proc_root, sizeof(proc_root), "%s/proc", tmp);
	mkdir(cg_root, 0755);
	mkdir(proc_root, 0755);
	fake.cgroup_root = cg_root;
	fake.proc_root = proc_root;
	fake.self = 4242;

	put("proc/pressure/memory", PSI_MEM);
	put("proc/pressure/io", "some avg10=9.00 avg60=0.00 avg300=0.00 total=7\n"
				"full avg10=8.00 avg60=0.00 avg300=0.00 total=6\n");
	put("proc/pressure/cpu", "some avg10=0.00 avg60=0.00 avg300=0.00 total=1\n");
	put("proc/meminfo", MEMINFO);
	put("proc/77/status", "Name:\tdb\nUmask:\t0022\nState:\tD (disk sleep)\n"
			      "Tgid:\t77\n");
	put("proc/77/wchan", "io_schedule");
	put("proc/77/stack", "[<0>] io_schedule+0x12/0x40\n"
			     "[<0>] folio_wait_bit_common+0x13d/0x350\n"
			     "[<0>] filemap_fault+0x5a1/0xa60\n");
	put("proc/78/status", "Name:\tidle\nState:\tS (sleeping)\n");
	put("proc/78/wchan", "0");
	put("cg/app.slice/db.service/memory.current", "1234\n");
	put("cg/app.slice/db.service/memory.max", "max\n");
	put("cg/app.slice/db.service/cgroup.procs", "77\n80\n81\n");
	put("cg/bare/cgroup.procs", "");
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd);
}

static void hung_event(struct kheal_event *ev, uint32_t pid, const char *cg)
{
	ev_basic(ev, 1, 1);
	ev_set(ev, KHEAL_A_KIND, KHEAL_EVENT_HUNG_TASK);
	ev_set(ev, KHEAL_A_PID, pid);
	if (cg)
		ev_set_str(ev, KHEAL_A_CGROUP_PATH, cg);
}

/* Every field from the fake tree, as the kernel wrote it. */
static void test_context_gathered_from_proc_and_cgroup(void **state)
{
	struct kheal_event ev;
	struct kheal_err err;
	Kheal__Context *c;

	(void)state;
	hung_event(&ev, 77, "/app.slice/db.service");
	assert_int_equal(kheal_context_gather(&ev, &fake, &c, &err), 0);
	assert_string_equal(c->psi_memory,
			    "some avg10=1.00 avg60=0.50 avg300=0.10 total=123\n"
			    "full avg10=0.00 avg60=0.00 avg300=0.00 total=45");
	assert_string_equal(c->psi_io,
			    "some avg10=9.00 avg60=0.00 avg300=0.00 total=7\n"
			    "full avg10=8.00 avg60=0.00 avg300=0.00 total=6");
	assert_string_equal(c->psi_cpu,
			    "some avg10=0.00 avg60=0.00 avg300=0.00 total=1");
	assert_string_equal(c->meminfo, MEMINFO_PICKED);
	assert_string_equal(c->task_state, "D (disk sleep)");
	assert_string_equal(c->wchan, "io_schedule");
	assert_int_equal(c->n_stack, 3);
	assert_string_equal(c->stack[0], "io_schedule+0x12/0x40");
	assert_string_equal(c->stack[1], "folio_wait_bit_common+0x13d/0x350");
	assert_string_equal(c->stack[2], "filemap_fault+0x5a1/0xa60");
	assert_string_equal(c->cgroup_memory, "current 1234 max max");
	assert_true(c->has_cgroup_procs);
	assert_int_equal(c->cgroup_procs, 3);
	/* The brain's to fill. */
	assert_int_equal(c->n_related, 0);
	assert_false(c->has_checkpoint_id);
	assert_null(c->checkpoint);
	kheal_context_free(c);
}

/* A task gone, a cgroup without memory files: absent, not an error. */
static void test_unreadable_is_absent(void **state)
{
	struct kheal_exec_ctx nowhere = {
		.cgroup_root = "/nonexistent", .proc_root = "/nonexistent",
	};
	struct kheal_event ev;
	struct kheal_err err;
	Kheal__Context *c;

	(void)state;
	hung_event(&ev, 99, "/gone.scope");
	assert_int_equal(kheal_context_gather(&ev, &fake, &c, &err), 0);
	assert_non_null(c->psi_memory);
	assert_null(c->task_state);
	assert_null(c->wchan);
	assert_int_equal(c->n_stack, 0);
	assert_null(c->stack);
	assert_null(c->cgroup_memory);
	assert_false(c->has_cgroup_procs);
	kheal_context_free(c);

	/* wchan "0" says nothing; a cgroup with no memory controller. */
	hung_event(&ev, 78, "/bare");
	assert_int_equal(kheal_context_gather(&ev, &fake, &c, &err), 0);
	assert_string_equal(c->task_state, "S (sleeping)");
	assert_null(c->wchan);
	assert_null(c->cgroup_memory);
	assert_true(c->has_cgroup_procs);
	assert_int_equal(c->cgroup_procs, 0);
	kheal_context_free(c);

	/* The root cgroup and a path with ".." are not read. */
	hung_event(&ev, 77, "/");
	assert_int_equal(kheal_context_gather(&ev, &fake, &c, &err), 0);
	assert_false(c->has_cgroup_procs);
	kheal_context_free(c);
	hung_event(&ev, 77, "/app.slice/../app.slice/db.service");
	assert_int_equal(kheal_context_gather(&ev, &fake, &c, &err), 0);
	assert_false(c->has_cgroup_procs);
	kheal_context_free(c);

	/* No pid, no cgroup, nothing to read at all. */
	ev_basic(&ev, 1, 2);
	assert_int_equal(kheal_context_gather(&ev, &nowhere, &c, &err), 0);
	assert_null(c->psi_memory);
	assert_null(c->meminfo);
	assert_null(c->task_state);
	assert_false(c->has_cgroup_procs);
	assert_int_equal(kheal__context__get_packed_size(c), 0);
	kheal_context_free(c);
}

/* Texts are cut at KHEAL_CONTEXT_TEXT_MAX, stacks at KHEAL_CONTEXT_FRAMES. */
static void test_reads_are_bounded(void **state)
{
	char *big, *stack;
	struct kheal_event ev;
	struct kheal_err err;
	Kheal__Context *c;
	size_t i, len = 0;

	(void)state;
	big = malloc(3 * KHEAL_CONTEXT_TEXT_MAX);
	stack = malloc(100 * 32);
	assert_non_null(big);
	assert_non_null(stack);
	memset(big, 'x', 3 * KHEAL_CONTEXT_TEXT_MAX - 1);
	big[3 * KHEAL_CONTEXT_TEXT_MAX - 1] = '\0';
	put("proc/90/wchan", big);
	for (i = 0; i < 100; i++)
		len += sprintf(stack + len, "[<0>] f%zu+0x1/0x2\n", i);
	put("proc/90/stack", stack);

	hung_event(&ev, 90, NULL);
	assert_int_equal(kheal_context_gather(&ev, &fake, &c, &err), 0);
	/* wchan is a symbol: a small read. */
	assert_true(strlen(c->wchan) < 256);
	assert_int_equal(c->n_stack, KHEAL_CONTEXT_FRAMES);
	assert_string_equal(c->stack[0], "f0+0x1/0x2");
	kheal_context_free(c);

	put("proc/pressure/memory", big);
	assert_int_equal(kheal_context_gather(&ev, &fake, &c, &err), 0);
	assert_int_equal(strlen(c->psi_memory), KHEAL_CONTEXT_TEXT_MAX);
	kheal_context_free(c);
	put("proc/pressure/memory", PSI_MEM);
	free(big);
	free(stack);
}

/* The context packs and unpacks as the journal will store it. */
static void test_context_round_trips_through_protobuf(void **state)
{
	struct kheal_event ev;
	struct kheal_err err;
	Kheal__Context *c, *back;
	uint8_t *buf;
	size_t len;

	(void)state;
	hung_event(&ev, 77, "/app.slice/db.service");
	assert_int_equal(kheal_context_gather(&ev, &fake, &c, &err), 0);
	len = kheal__context__get_packed_size(c);
	buf = malloc(len);
	assert_non_null(buf);
	assert_int_equal(kheal__context__pack(c, buf), len);
	back = kheal__context__unpack(NULL, len, buf);
	assert_non_null(back);
	assert_string_equal(back->task_state, "D (disk sleep)");
	assert_int_equal(back->n_stack, 3);
	assert_int_equal(back->cgroup_procs, 3);
	kheal__context__free_unpacked(back, NULL);
	free(buf);
	kheal_context_free(c);
}

/* The real /proc, for this very process. */
static void test_context_of_own_pid_from_real_proc(void **state)
{
	struct kheal_exec_ctx real = {
		.cgroup_root = NULL, .proc_root = "/proc", .self = getpid(),
	};
	struct kheal_event ev;
	struct kheal_err err;
	Kheal__Context *c;

	(void)state;
	hung_event(&ev, getpid(), NULL);
	assert_int_equal(kheal_context_gather(&ev, &real, &c, &err), 0);
	assert_non_null(c->meminfo);
	assert_non_null(strstr(c->meminfo, "MemTotal:"));
	assert_null(strstr(c->meminfo, "Active:"));
	assert_non_null(c->task_state);
	assert_int_equal(c->task_state[0], 'R');
	if (!access("/proc/pressure/memory", R_OK)) {
		assert_non_null(c->psi_memory);
		assert_non_null(strstr(c->psi_memory, "some avg10="));
	} else {
		assert_null(c->psi_memory);
	}
	/* Reading a stack needs root (CAP_SYS_ADMIN). */
	if (!geteuid()) {
		assert_true(c->n_stack > 0);
		assert_null(strchr(c->stack[0], '['));
		assert_non_null(strstr(c->stack[0], "+0x"));
	}
	assert_false(c->has_cgroup_procs);
	kheal_context_free(c);
}

#define T(f)	cmocka_unit_test(f)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_context_gathered_from_proc_and_cgroup),
		T(test_unreadable_is_absent),
		T(test_reads_are_bounded),
		T(test_context_round_trips_through_protobuf),
		T(test_context_of_own_pid_from_real_proc),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

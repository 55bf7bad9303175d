// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel symboliser on a made-up kallsyms (order, modules, data
 * symbols, hidden addresses), then on the real /proc/kallsyms.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "ksyms.h"
#include "tap.h"

static const char fake[] =
	"ffffffff81000300 T third\n"
	"ffffffff81000000 T _stext\n"
	"ffffffff81000100 t second\n"
	"ffffffff81000200 D some_data\n"
	"ffffffffc0001000 t mod_func\t[fakemod]\n"
	"ffffffffc0002000 t mod_func2\t[fakemod]\n"
	"ffffffffc0003000 T other_mod\t[othermod]\n"
	"not a symbol line\n";

static const char hidden[] =
	"0000000000000000 T _stext\n"
	"0000000000000000 t second\n";

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/kheal-ksyms-XXXXXX");
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	return path;
}

int main(void)
{
	char *path = write_tmp(fake), *hpath = write_tmp(hidden), buf[128];
	const struct kheal_ksym *s;
	struct kheal_ksyms *ks;

	ks = kheal_ksyms_load(path);
	if (!tap_ok(ks != NULL, "ksyms: loads a kallsyms file"))
		return tap_done();
	tap_is_u64(kheal_ksyms_count(ks), 6, "ksyms: keeps text symbols only");

	kheal_ksyms_format(ks, 0xffffffff81000000ULL, buf, sizeof(buf));
	tap_is_str(buf, "_stext+0x0", "ksyms: exact address");
	kheal_ksyms_format(ks, 0xffffffff810001a0ULL, buf, sizeof(buf));
	tap_is_str(buf, "second+0xa0", "ksyms: offset into a symbol");
	kheal_ksyms_format(ks, 0xffffffff81000250ULL, buf, sizeof(buf));
	tap_is_str(buf, "second+0x150", "ksyms: data symbols are not targets");
	kheal_ksyms_format(ks, 0xffffffff81000301ULL, buf, sizeof(buf));
	tap_is_str(buf, "third+0x1", "ksyms: input need not be sorted");
	kheal_ksyms_format(ks, 0xffffffffc0002010ULL, buf, sizeof(buf));
	tap_is_str(buf, "mod_func2+0x10 [fakemod]", "ksyms: module symbol");
	kheal_ksyms_format(ks, 0xffffffffc0003000ULL, buf, sizeof(buf));
	tap_is_str(buf, "other_mod+0x0 [othermod]", "ksyms: second module");
	kheal_ksyms_format(ks, 0xffffffff80000000ULL, buf, sizeof(buf));
	tap_is_str(buf, "0xffffffff80000000", "ksyms: below all symbols");
	s = kheal_ksyms_find(ks, 0xffffffffc0001fffULL);
	tap_ok(s && !strcmp(s->name, "mod_func") && !strcmp(s->module, "fakemod"),
	       "ksyms: find returns name and module");
	tap_is_i64(kheal_ksyms_format(ks, 0xffffffff810001a0ULL, buf, 4), 11,
		   "ksyms: format returns the length it needed");
	tap_is_str(buf, "sec", "ksyms: format truncates safely");
	kheal_ksyms_free(ks);

	errno = 0;
	tap_ok(!kheal_ksyms_load(hpath) && errno == EPERM,
	       "ksyms: all-zero addresses (kptr_restrict) give EPERM");
	errno = 0;
	tap_ok(!kheal_ksyms_load("/nonexistent/kallsyms") && errno == ENOENT,
	       "ksyms: missing file gives ENOENT");

	if (geteuid()) {
		tap_skip("ksyms: real kallsyms", "needs root to see addresses");
	} else {
		ks = kheal_ksyms_load(NULL);
		if (tap_ok(ks != NULL, "ksyms: loads /proc/kallsyms")) {
			void *addr = NULL;
			FILE *f = fopen("/proc/kallsyms", "r");
			char line[256], name[128], type;
			unsigned long long a;

			while (f && fgets(line, sizeof(line), f))
				if (sscanf(line, "%llx %c %127s", &a, &type,
					   name) == 3 &&
				    !strcmp(name, "schedule")) {
					addr = (void *)(uintptr_t)a;
					break;
				}
			if (f)
				fclose(f);
			kheal_ksyms_format(ks, (uintptr_t)addr + 4, buf,
					   sizeof(buf));
			tap_is_str(buf, "schedule+0x4",
				   "ksyms: schedule+4 in the running kernel");
			kheal_ksyms_free(ks);
		}
	}
	unlink(path);
	unlink(hpath);
	free(path);
	free(hpath);
	return tap_done();
}

#!/bin/sh
# Proves the VM harness: cgroup2 with the memory controller, the
# tracepoints kheal hooks, and a kheal.ko that loads and unloads.
# timeout: 120
# shellcheck source=tests/vm/lib.sh
. /kheal/tests/lib.sh

plan 3

ok "cgroup2 is mounted on /sys/fs/cgroup with the memory controller" \
	sh -c 'grep -q "^cgroup2 /sys/fs/cgroup cgroup2 " /proc/mounts &&
		grep -qw memory /sys/fs/cgroup/cgroup.subtree_control'

ok "tracefs has oom/mark_victim and sched/sched_process_hang" \
	test -d /sys/kernel/tracing/events/oom/mark_victim \
	-a -d /sys/kernel/tracing/events/sched/sched_process_hang

if [ -f /kheal/kheal.ko ]; then
	ok "kheal.ko loads and unloads" \
		sh -c 'insmod /kheal/kheal.ko && rmmod kheal'
else
	skip "kheal.ko is not built"
fi

#!/bin/sh
# The BPF probe suite of tests/bpf, on the Debian kernel in the VM with
# kheal.ko loaded beside it: each probe sees its real fault (a FUSE
# request left unanswered in D state, a cgroup OOM, EIO and a slow read
# through a loop device over FUSE, crashing processes), a probe whose
# tracepoint is missing is disabled alone, ring-buffer drops are counted,
# two FUSE writers make a hung task that SIGKILL ends. `make vm-bpf` runs
# this test alone.
# timeout: 300
# modules: fuse loop
# binaries: tests/bpf/probes_test tests/bpf/kheal-trigger
# kernel-log-allow: invoked oom-killer
. /kheal/tests/lib.sh
. /kheal/tests/kheal.sh

modprobe fuse && modprobe loop || bail_out "cannot load fuse and loop"
load_kheal hung_ms=1000
exec /usr/local/bin/probes_test

#!/bin/sh
# Harness self-test: a call trace alone in the kernel log fails the test
# (here sysrq's backtrace of the running CPUs).
# expect: fail kernel log: .*Call Trace:
# shellcheck source=tests/vm/lib.sh
. /kheal/tests/lib.sh

plan 1
echo l >/proc/sysrq-trigger
ok "backtraces printed" true

#!/bin/sh
# Harness self-test: a kernel panic fails the test (the test never finishes).
# expect: fail kernel log: .*Kernel panic
# shellcheck source=tests/vm/lib.sh
. /kheal/tests/lib.sh

plan 1
ok "about to crash" true
echo c >/proc/sysrq-trigger

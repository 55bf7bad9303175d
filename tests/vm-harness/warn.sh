#!/bin/sh
# Harness self-test: a WARN in the kernel log fails the test.
# expect: fail kernel log: .*(WARNING: CPU: .* crashmod)
# shellcheck source=tests/vm/lib.sh
. /kheal/tests/lib.sh

plan 1
insmod /kheal/crashmod.ko what=warn
ok "the test itself passes" true

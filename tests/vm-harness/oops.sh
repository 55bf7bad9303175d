#!/bin/sh
# Harness self-test: an oops in the kernel log fails the test.
# expect: fail kernel log: .*(BUG: kernel NULL pointer dereference)
# shellcheck source=tests/vm/lib.sh
. /kheal/tests/lib.sh

plan 1
insmod /kheal/crashmod.ko what=oops
ok "the test itself passes" true

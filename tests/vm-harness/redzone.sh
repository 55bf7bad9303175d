#!/bin/sh
# Harness self-test: a write past a kmalloc()ed object in the kernel log fails the test.
# expect: fail kernel log: .*(Redzone overwritten)
# shellcheck source=tests/vm/lib.sh
. /kheal/tests/lib.sh

plan 1
insmod /kheal/crashmod.ko what=redzone
ok "the test itself passes" true

#!/bin/sh
# Harness self-test: a slab cache destroyed with live objects in the kernel log fails the test.
# expect: fail kernel log: .*(Objects remaining|still has objects)
# shellcheck source=tests/vm/lib.sh
. /kheal/tests/lib.sh

plan 1
insmod /kheal/crashmod.ko what=leak
ok "the test itself passes" true

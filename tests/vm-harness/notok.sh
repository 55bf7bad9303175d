#!/bin/sh
# Harness self-test: a failed assertion fails the test.
# expect: fail not ok 2 - this one fails
# shellcheck source=tests/vm/lib.sh
. /kheal/tests/lib.sh

plan 2
ok "this one passes" true
ok "this one fails" false

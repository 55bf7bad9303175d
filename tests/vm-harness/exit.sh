#!/bin/sh
# Harness self-test: a non-zero exit fails the test, even after a clean plan.
# expect: fail exited with status 3
# shellcheck source=tests/vm/lib.sh
. /kheal/tests/lib.sh

plan 1
ok "one" true
exit 3

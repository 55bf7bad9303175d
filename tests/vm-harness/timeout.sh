#!/bin/sh
# Harness self-test: a test that never ends is killed and fails.
# expect: fail timed out after 15 s
# timeout: 15
# shellcheck source=tests/vm/lib.sh
. /kheal/tests/lib.sh

plan 1
sleep 600

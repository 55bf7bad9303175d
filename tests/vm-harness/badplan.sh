#!/bin/sh
# Harness self-test: fewer assertions than planned fails the test.
# expect: fail planned 3 tests but ran 2
# shellcheck source=tests/vm/lib.sh
. /kheal/tests/lib.sh

plan 3
ok "one" true
ok "two" true

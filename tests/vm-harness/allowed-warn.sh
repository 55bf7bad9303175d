#!/bin/sh
# Harness self-test: a WARN the test declares expected does not fail it.
# expect: pass
# kernel-log-allow: WARNING: CPU: .* crashmod_init
# shellcheck source=tests/vm/lib.sh
. /kheal/tests/lib.sh

plan 1
ok "crashmod warns" insmod /kheal/crashmod.ko what=warn

#!/bin/sh
# Admin commands need CAP_NET_ADMIN: an unprivileged user without
# capabilities gets EPERM from INJECT and SET_CONFIG, while GET_STATUS
# works; INJECT is refused even to root unless allow_inject=1; a
# threshold below the minimum is rejected with the kernel's reason.
# timeout: 120
. /kheal/tests/lib.sh
. /kheal/tests/kheal.sh
plan 10

nobody() { /kheal/runas 65534 65534 "$@"; }

load_kheal hung_ms=1000
out=$(nobody khealctl inject hung --ms 100 2>&1)
is $? 1 "unprivileged INJECT fails"
like "$out" "Operation not permitted" "unprivileged INJECT gets EPERM"
out=$(nobody khealctl config hung_ms=2000 2>&1)
is $? 1 "unprivileged SET_CONFIG fails"
like "$out" "Operation not permitted" "unprivileged SET_CONFIG gets EPERM"
ok "unprivileged GET_STATUS works" nobody khealctl status
is "$(nobody khealctl -j status | json_get hung_ms)" 1000 \
	"SET_CONFIG by the unprivileged user changed nothing"

out=$(khealctl inject hung --ms 100 2>&1)
like "$out" "allow_inject=1" "root INJECT without allow_inject is refused"

out=$(khealctl config hung_ms=50 2>&1)
is $? 1 "hung_ms below 100 is rejected"
ok "root SET_CONFIG hung_ms=2000 works" khealctl config hung_ms=2000
is "$(khealctl -j status | json_get hung_ms)" 2000 \
	"the module applied hung_ms=2000"

#!/bin/sh
# A real hung task, an injected kthread asleep 3000 ms in D state with
# hung_ms=500, gives exactly one hung_task event with the kthread's pid
# and comm, a duration of at least hung_ms, reported within hung_ms + 1 s
# of onset; then exactly one hung_task_resolved event when it runs again.
# timeout: 180
. /kheal/tests/lib.sh
. /kheal/tests/kheal.sh
plan 10

load_kheal hung_ms=500 allow_inject=1
start_agent

onset=$(uptime_ms)
pid=$(khealctl -j inject hung --ms 3000 | json_get pid)
diag "injected kheal-hung pid $pid at ${onset} ms"

wait_for 10 "hung_task event reaches the agent" \
	grep -qF '"kind":"hung_task"' "$KHEAL_LOG"
wait_for 10 "hung_task_resolved event reaches the agent" \
	grep -qF '"kind":"hung_task_resolved"' "$KHEAL_LOG"

hung=$(grep -F '"kind":"hung_task"' "$KHEAL_LOG")
is "$(printf '%s\n' "$hung" | wc -l)" 1 "exactly one hung_task event"
is "$(printf '%s\n' "$hung" | json_get pid)" "$pid" "hung_task names the pid"
is "$(printf '%s\n' "$hung" | json_get comm)" kheal-hung \
	"hung_task names the comm"
cmp_ge "$(printf '%s\n' "$hung" | json_get duration_ms)" 500 \
	"reported duration is at least hung_ms"
detected=$(($(printf '%s\n' "$hung" | json_get time_ns) / 1000000))
diag "detection latency $((detected - onset)) ms for hung_ms=500"
cmp_le $((detected - onset)) 1500 "reported within hung_ms + 1 s of onset"

sleep 1
res=$(grep -F '"kind":"hung_task_resolved"' "$KHEAL_LOG")
is "$(printf '%s\n' "$res" | wc -l)" 1 "exactly one hung_task_resolved event"
is "$(printf '%s\n' "$res" | json_get pid)" "$pid" "resolved names the pid"
cmp_ge "$(printf '%s\n' "$res" | json_get duration_ms)" 2500 \
	"resolved duration covers the 3000 ms sleep"

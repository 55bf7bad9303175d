#!/bin/sh
# Foundation figures, measured in one VM run (qemu TCG: absolute numbers
# are those of an emulated CPU; compare the ratios):
# - event throughput of a 100,000-event burst, module to agent journal,
#   against the module alone (no listener), and how many were backfilled;
# - hung-task detection latency (onset to the agent) against hung_ms.
# timeout: 1200
. /kheal/tests/lib.sh
. /kheal/tests/kheal.sh

n=100000
thresholds="200 500 1000 2000"
plan $((4 + 2 * 4))

# head_at_least N: the module has emitted N events.
head_at_least() {
	[ "$(khealctl -j status | json_get head_seq)" -ge "$1" ]
}

# burst_ms: time for the module to emit and multicast $n events.
burst_ms() {
	_base=$(khealctl -j status | json_get head_seq)
	_t0=$(ms_now)
	khealctl inject burst --count $n >/dev/null
	retry 600 head_at_least $((_base + n)) || return 1
	echo $(($(ms_now) - _t0))
}

load_kheal backlog=262144 allow_inject=1 hung_ms=500

alone=$(burst_ms)
ok "burst of $n with no listener took ${alone} ms" test -n "$alone"

# A fresh module, so the agent has only the measured burst to read.
rmmod kheal
load_kheal backlog=262144 allow_inject=1 hung_ms=500
start_agent
t0=$(ms_now)
khealctl inject burst --count $n >/dev/null
wait_for 600 "the agent journalled the burst" agent_caught_up $n
agent=$(($(ms_now) - t0))
stop_agent
backfilled=$(agent_stat backfilled)
ok "kheald stats read" test -n "$backfilled"

diag "" "burst of $n events                  time ms   events/s"
diag "$(printf '  module alone (no listener)        %7d   %8d' \
	"$alone" $((n * 1000 / alone)))"
diag "$(printf '  module -> kheald journal          %7d   %8d' \
	"$agent" $((n * 1000 / agent)))"
diag "$(printf '  ratio agent/alone                 %7s' \
	"$(awk -v a="$agent" -v b="$alone" 'BEGIN { printf "%.2f", a / b }')")"
diag "  backfilled by the agent: $backfilled of $n"

start_agent
diag "" "hung_ms   scan tick ms   onset->agent ms   overshoot ms"
for h in $thresholds; do
	khealctl config hung_ms=$h >/dev/null
	tick=$((h / 5))
	[ $tick -ge 20 ] || tick=20
	[ $tick -le 1000 ] || tick=1000
	onset=$(uptime_ms)
	pid=$(khealctl -j inject hung --ms $((h + 1500)) | json_get pid)
	[ -n "$pid" ] || bail_out "inject hung failed"
	wait_for 30 "hung_ms=$h: hung task reported" \
		grep -q "\"kind\":\"hung_task\",.*\"pid\":$pid," "$KHEAL_LOG"
	ev=$(grep -F '"kind":"hung_task",' "$KHEAL_LOG" |
		grep -F "\"pid\":$pid,")
	lat=$(($(printf '%s\n' "$ev" | json_get time_ns) / 1000000 - onset))
	diag "$(printf '%7d   %12d   %15d   %12d' $h $tick $lat $((lat - h)))"
	cmp_le $lat $((h + 1000)) "hung_ms=$h: within hung_ms + 1 s"
	retry 30 grep -q "\"kind\":\"hung_task_resolved\",.*\"pid\":$pid," \
		"$KHEAL_LOG"
done
stop_agent
ok "bench complete" true

#!/bin/sh
# kheald --engine=both runs kheal.ko and the BPF probes side by side and
# merges them: a real hung task (an injected kthread 3000 ms in D state,
# hung_ms=500 on both) and a cgroup OOM kill, which both sources see, are
# each journalled once, the other source's report journalled as merged
# and counted in the stats; a SIGSEGV, which only the probes see, is
# reported by the bpf source with signal 11.
# timeout: 240
# kernel-log-allow: invoked oom-killer
. /kheal/tests/lib.sh
. /kheal/tests/kheal.sh
plan 18

# crash: /kheal/segv dies of SIGSEGV, its pid in $segv; the shell's
# "Segmentation fault" kept off the TAP stream.
crash() {
	{
		/kheal/segv &
		segv=$!
		wait $segv
	} 2>/dev/null
}

# journal KIND PID: the journalled events of KIND about PID.
journal() {
	khealctl -j events | grep -F "\"kind\":\"$1\"" | grep -F "\"pid\":$2,"
}

# journalled N KIND PID: N such events have been journalled.
journalled() {
	[ "$(journal "$2" "$3" | wc -l)" -ge "$1" ]
}

load_kheal hung_ms=500 allow_inject=1
start_agent --engine=both --hung-ms 500
echo -1000 >"/proc/$KHEAL_AGENT_PID/oom_score_adj"
wait_for 120 "the BPF probes are attached" grep -q "BPF probes: " "$KHEAL_ERR"
ok "kheald names its engine and why" \
	grep -qxF "kheald: engine both (--engine=both)" "$KHEAL_ERR"
ok "the module's hung_ms is set to --hung-ms" \
	grep -qF "module hung_ms set to 500 (--hung-ms)" "$KHEAL_ERR"
diag "$(grep 'BPF probes: ' "$KHEAL_ERR")"

pid=$(khealctl -j inject hung --ms 3000 | json_get pid)
diag "injected kheal-hung pid $pid"
wait_for 20 "hung_task_resolved is journalled" \
	journalled 1 hung_task_resolved "$pid"
sleep 2
is "$(journal hung_task "$pid" | wc -l)" 1 "hung_task journalled once"
is "$(journal hung_task_resolved "$pid" | wc -l)" 1 \
	"hung_task_resolved journalled once"
diag "$(journal hung_task "$pid")"

cg=/sys/fs/cgroup/hog
mkdir "$cg"
echo 32M >"$cg/memory.max"
{
	sh -c "echo \$\$ > $cg/cgroup.procs && exec /kheal/memhog 256" &
	hog=$!
	wait $hog
} 2>/dev/null
is $? 137 "the hog in $cg was killed by SIGKILL"
wait_for 20 "oom_kill is journalled" journalled 1 oom_kill "$hog"
sleep 2
is "$(journal oom_kill "$hog" | wc -l)" 1 "oom_kill journalled once"
ev=$(journal oom_kill "$hog")
diag "$ev"
is "$(printf '%s\n' "$ev" | json_get cgroup_path)" /hog \
	"oom_kill names the victim's cgroup"

crash
is $? 139 "segv died of SIGSEGV"
wait_for 20 "task_crash is journalled" journalled 1 task_crash "$segv"
ev=$(journal task_crash "$segv")
diag "$ev"
is "$(printf '%s\n' "$ev" | json_get source)" bpf "task_crash comes from bpf"
is "$(printf '%s\n' "$ev" | json_get signal)" 11 "task_crash has signal 11"
is "$(printf '%s\n' "$ev" | json_get comm)" segv "task_crash names the comm"

khealctl status >/tmp/status
diag_cmd cat /tmp/status
ok "khealctl status says engine both and why" \
	grep -qxF "  engine: both (--engine=both)" /tmp/status

stop_agent
merged=$(grep 'stats:' "$KHEAL_ERR" | sed -n 's/.* merged=\([0-9]*\).*/\1/p' |
	awk '{ n += $1 } END { print n + 0 }')
diag "$(grep 'stats:' "$KHEAL_ERR")"
cmp_ge "$merged" 3 "hung_task, its resolution and oom_kill were merged"
is "$(khealctl -j events | grep -c '"merged":')" "$merged" \
	"each merged report is journalled as merged"

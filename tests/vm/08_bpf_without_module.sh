#!/bin/sh
# Without kheal.ko, kheald picks the BPF engine on its own and says why,
# and khealctl status says so; the probes report a SIGSEGV, numbered from
# 1 by kheald; restarted with --engine=bpf it numbers on after its
# journal. A kheald killed leaves a state file khealctl calls stale.
# timeout: 180
. /kheal/tests/lib.sh
. /kheal/tests/kheal.sh
plan 13

# crash: /kheal/segv dies of SIGSEGV, its pid in $segv; the shell's
# "Segmentation fault" kept off the TAP stream.
crash() {
	{
		/kheal/segv &
		segv=$!
		wait $segv
	} 2>/dev/null
}

start_agent
wait_for 120 "the BPF probes are attached" grep -q "BPF probes: " "$KHEAL_ERR"
ok "kheald says it picked bpf because kheal.ko is not loaded" \
	grep -qF "kheald: engine bpf (--engine=auto: kheal.ko is not loaded" \
	"$KHEAL_ERR"
khealctl status >/tmp/status
diag_cmd cat /tmp/status
ok "khealctl status says engine bpf and why" \
	grep -qF "  engine: bpf (--engine=auto: kheal.ko is not loaded" \
	/tmp/status
is "$(khealctl -j status | json_get engine)" bpf "status -j: engine bpf"

crash
is $? 139 "segv died of SIGSEGV"
wait_for 20 "task_crash reaches the log" \
	grep -qF "\"pid\":$segv," "$KHEAL_LOG"
ev=$(grep -F "\"pid\":$segv," "$KHEAL_LOG")
diag "$ev"
is "$(printf '%s\n' "$ev" | json_get signal)" 11 "task_crash has signal 11"
is "$(printf '%s\n' "$ev" | json_get seq)" 1 "it is BPF seq 1"
stop_agent

start_agent --engine=bpf
wait_for 120 "the probes are attached again" \
	grep -q "numbering after seq 1$" "$KHEAL_ERR"
ok "status now says --engine=bpf" sh -c \
	"khealctl status | grep -qxF '  engine: bpf (--engine=bpf)'"
crash
wait_for 20 "the second crash reaches the log" \
	grep -qF "\"pid\":$segv," "$KHEAL_LOG"
is "$(grep -F "\"pid\":$segv," "$KHEAL_LOG" | json_get seq)" 2 \
	"after the restart it is BPF seq 2"

kill -9 "$KHEAL_AGENT_PID"
wait "$KHEAL_AGENT_PID" 2>/dev/null
like "$(khealctl status)" "is stale \\(its kheald is not running" \
	"a killed kheald's state file is called stale"

#!/bin/sh
# Scenario 2: a memory leak, healed before the OOM killer. Cgroup /work
# (memory.max 256M, memory.high 224M; the VM has no swap) holds a healthy
# process, 160 MiB and steady, and a leaker that grows 4 MiB every 100 ms.
# Above memory.high the kernel throttles the leaker, which the cgroup's
# PSI counts as stall; kheald --psi (profile autonomous) has a trigger on
# /work's memory.pressure, reports mem_pressure naming the top grower,
# and the shipped runbook memory-leak kills the process that grew most
# (memory.kill_leaker: the leaker, though the healthy one is larger) and
# checks the stall is over (memory.pressure_ok). Checked from outside
# kheal: the leaker died of SIGKILL; the healthy process is alive with
# all its memory; the kernel killed nothing (memory.events oom_kill 0, no
# "invoked oom-killer" in the log, no oom_kill event). The host's
# pressure rose with /work's and was not reported apart. Prints "# timing:
# scenario=memory-leak ..." with the margin left below memory.max at the
# kill.
#
# Then the same leak in /nokheal with kheald stopped, side by side: the
# kernel alone, whose OOM killer takes the largest process at
# memory.max, the healthy one ("# timing: scenario=memory-leak-kernel").
#
# Why memory.high: with swap off and every file in RAM (the initramfs),
# reclaim finds nothing to take, so a cgroup goes from no stall to its
# OOM kill within milliseconds at memory.max, too fast for any PSI
# reader. memory.high (systemd's MemoryHigh=) gives the stall that swap
# or page cache gives a real host, and the time to act on it.
# timeout: 300
# kernel-log-allow: memhog invoked oom-killer
. /kheal/tests/lib.sh
. /kheal/tests/kheal.sh
plan 26

# anon PID: its anonymous resident memory in kB. Without swap nothing
# takes it away; khugepaged may add a few pages as it collapses a range.
anon() {
	awk '/^RssAnon:/ { print $2 }' "/proc/$1/status"
}

# cpu_ms PID: the CPU time PID has used (utime + stime, 10 ms ticks).
cpu_ms() {
	awk '{ print ($14 + $15) * 10 }' "/proc/$1/stat"
}

# journal_records TYPE: the journal's records of TYPE, as JSON lines.
journal_records() {
	khealctl -j journal | grep "\"type\":\"$1\""
}

# scene CGROUP: the cgroup, and in it the healthy process ($healthy,
# holding 160 MiB) and the leaker ($leaker, from $t0); /tmp/high_ms gets
# the uptime at which the cgroup first went above memory.high.
scene() {
	mkdir "$1"
	echo 256M >"$1/memory.max"
	echo 224M >"$1/memory.high"
	[ -e "$1/memory.swap.max" ] && echo 0 >"$1/memory.swap.max"
	rm -f /tmp/healthy.out /tmp/high_ms
	sh -c "echo \$\$ >$1/cgroup.procs && exec /kheal/memhog 160" \
		>/tmp/healthy.out &
	healthy=$!
	retry 30 grep -q holding /tmp/healthy.out ||
		bail_out "the healthy process did not start"
	rss_healthy=$(anon "$healthy")
	diag "$1: healthy pid $healthy, RssAnon $rss_healthy kB"
}

# leak CGROUP: starts the leaker; t0 is its start.
leak() {
	(while [ "$(sed -n 's/^high //p' "$1/memory.events")" = 0 ]; do
		sleep 0.05
	done; uptime_ms >/tmp/high_ms) &
	t0=$(uptime_ms)
	sh -c "echo \$\$ >$1/cgroup.procs && exec /kheal/memhog 100000 25" &
	leaker=$!
}

load_kheal
start_agent --profile autonomous --psi
echo -1000 >"/proc/$KHEAL_AGENT_PID/oom_score_adj"
wait_for 10 "kheald registers a PSI trigger on the host's memory pressure" \
	grep -q "PSI: trigger some 150000 1000000 on memory:global" \
	"$KHEAL_ERR"

cg=/sys/fs/cgroup/work
scene "$cg"
wait_for 10 "kheald finds /work and watches its memory.pressure" \
	sh -c "khealctl -j status | grep -q '\"name\":\"memory:/work\",\"attached\":true'"
# The healthy process filled its 160 MiB more than the tracker's 5 s
# window ago: steady, as a service that has been up a while.
sleep 6

cpu0=$(cpu_ms "$KHEAL_AGENT_PID")
leak "$cg"
# The OOM killer would end it too; a TERM says neither did.
(sleep 120; kill -TERM "$leaker") 2>/dev/null &
watchdog=$!
wait "$leaker"
rc=$?
t_kill=$(uptime_ms)
cpu1=$(cpu_ms "$KHEAL_AGENT_PID")
kill "$watchdog" 2>/dev/null
wait "$watchdog" 2>/dev/null
is "$rc" 137 "the leaker (pid $leaker) died of SIGKILL" || brain_diag

ok "the healthy process (pid $healthy, the larger) is alive" kill -0 "$healthy"
cmp_ge "$(anon "$healthy")" "$rss_healthy" \
	"and it has all its memory ($rss_healthy kB anonymous, resident)"
like "$(cat "/proc/$healthy/cgroup")" "^0::/work\$" "and is still in /work"
is "$(sed -n 's/^oom_kill //p' "$cg/memory.events")" 0 \
	"the kernel OOM-killed nothing in /work (memory.events oom_kill 0)"
is "$(dmesg | grep -c 'invoked oom-killer')" 0 \
	"the kernel log has no OOM killer"
diag "/work memory.events: $(tr '\n' ' ' <"$cg/memory.events")"
high_ms=$(cat /tmp/high_ms)

wait_for 10 "the incident is resolved" \
	sh -c "khealctl -j incidents | grep -q '\"state\":\"resolved\"'" ||
	brain_diag
# The stall the kill ended must not come back as a second event.
sleep 3
khealctl -j events >/tmp/events.json
ev=$(grep '"kind":"mem_pressure"' /tmp/events.json | head -n 1)
diag "$ev"
is "$(grep -c '"kind":"mem_pressure"' /tmp/events.json)" 1 \
	"one mem_pressure event: one episode"
is "$(printf '%s\n' "$ev" | json_get source)" psi \
	"it comes from the PSI source"
is "$(printf '%s\n' "$ev" | json_get cgroup_path)" /work "on /work"
like "$(printf '%s\n' "$ev" | json_get detail)" \
	"^some avg10=[0-9.]+ .*; top grower pid $leaker \\+[0-9]+ kB in [0-9]+ ms: memhog\$" \
	"it names the leaker as the top grower"
is "$(grep -c '"kind":"oom_kill"' /tmp/events.json)" 0 \
	"no oom_kill event was journalled"

khealctl -j incident show 1 >/tmp/incident.json 2>&1
diag "$(cat /tmp/incident.json)"
like "$(cat /tmp/incident.json)" '"subsystem":"memory:/work"' \
	"the incident is on memory:/work"
like "$(cat /tmp/incident.json)" '"rule":"mem-pressure"' \
	"diagnosed by the mem-pressure rule"
like "$(cat /tmp/incident.json)" '"confidence":0.9' \
	"with confidence 0.9: a top grower, and the stall in the context"
like "$(cat /tmp/incident.json)" '"runbook":"memory-leak","decision":"act"' \
	"the runbook memory-leak was run"
like "$(cat /tmp/incident.json)" \
	"\"name\":\"memory.kill_leaker\"[^}]*\"result\":\"ok\"[^}]*killed memhog\\[$leaker\\]" \
	"memory.kill_leaker killed the leaker"
like "$(cat /tmp/incident.json)" \
	'"phase":"verify"[^}]*"name":"memory.pressure_ok"[^}]*"result":"ok"' \
	"memory.pressure_ok held"
like "$(cat /tmp/incident.json)" '"outcome":"recovered"' \
	"the outcome is recovered"
like "$(khealctl -j subsystems | grep '"memory:/work"')" '"state":"healthy"' \
	"memory:/work is healthy again"

kill -TERM "$healthy"
wait "$healthy"
is $? 143 "the healthy process lived until the test ended it"
is "$(journal_records action | grep -vc '"incident":1')" 0 \
	"every action journalled is the incident's"
stop_agent
ok "khealctl journal verify passes" khealctl journal verify
golden memory-leak-autonomous --profile autonomous

# The figures: onset is the leaker's start; detection the event's time.
ev_ms=$(($(printf '%s\n' "$ev" | json_get time_ns) / 1000000))
kill_note=$(journal_records action | grep '"name":"memory.kill_leaker"' |
	json_get error)
verify_ms=$(journal_records action | grep '"phase":"verify"' | tail -n 1 |
	json_get duration_ms)
margin=$(printf '%s\n' "$kill_note" | sed -nE 's/.*margin (-?[0-9]+) kB.*/\1/p')
diag "kill: $kill_note"
diag "/work went above memory.high $((high_ms - t0)) ms after the onset; detected $((ev_ms - high_ms)) ms later"
diag "kheald used $((cpu1 - cpu0)) ms of CPU from the onset to the kill ($((t_kill - t0)) ms; emulated CPU)"
diag "timing: scenario=memory-leak onset_to_detect_ms=$((ev_ms - t0)) to_action_ms=$((t_kill - t0)) to_verified_ms=$((ev_ms - t0 + verify_ms)) margin_kb=$margin"

# The kernel alone: no kheald. Throttled at memory.high, the leaker still
# creeps up to memory.max, where the OOM killer takes the largest.
nk=/sys/fs/cgroup/nokheal
scene "$nk"
leak "$nk"
(sleep 120; kill -TERM "$leaker") 2>/dev/null &
watchdog=$!
retry 120 sh -c "[ \$(sed -n 's/^oom_kill //p' $nk/memory.events) -gt 0 ]"
t_oom=$(uptime_ms)
if kill -0 "$healthy" 2>/dev/null; then
	victim=leaker
else
	victim=healthy
fi
kill -KILL "$leaker" "$healthy" 2>/dev/null
wait "$leaker" "$healthy" 2>/dev/null
kill "$watchdog" 2>/dev/null
wait "$watchdog" 2>/dev/null
diag "$nk memory.events: $(tr '\n' ' ' <"$nk/memory.events")"
dmesg | grep -E 'Killed process|oom-kill:' | tail -n 2 | while read -r l; do
	diag "kernel: $l"
done
is "$victim" healthy \
	"without kheal, the OOM killer takes the largest: the healthy process"
diag "timing: scenario=memory-leak-kernel onset_to_high_ms=$(($(cat /tmp/high_ms) - t0)) onset_to_oom_kill_ms=$((t_oom - t0)) oom_victim=$victim margin_kb=0"

#!/bin/sh
# Scenario 2 on the whole host: a leaker in no cgroup of its own (the
# root cgroup, as on a host without systemd) while the host runs short of
# memory. zram swap gives reclaim something to take, so tasks stall on
# memory (reclaim, swap-ins) before the OOM killer would act. kheald
# --psi (profile autonomous) watches /proc/pressure/memory and /svc; no
# watched cgroup explains the host's stall, so mem_pressure is reported
# on memory:global, and memory-leak kills the top grower of the whole
# host. A healthy process in /svc, 160 MiB, protected by memory.min as a
# service would be, lives on with all its memory; the kernel killed
# nothing. Prints "# timing: scenario=memory-leak-global ..." with the
# host's MemAvailable at the kill as the margin.
# timeout: 300
# modules: zram
. /kheal/tests/lib.sh
. /kheal/tests/kheal.sh
plan 17

anon() {
	awk '/^RssAnon:/ { print $2 }' "/proc/$1/status"
}

journal_records() {
	khealctl -j journal | grep "\"type\":\"$1\""
}

modprobe zram num_devices=1 || bail_out "cannot load zram"
echo 1G >/sys/block/zram0/disksize || bail_out "cannot size zram0"
mkswap /dev/zram0 >/dev/null && swapon /dev/zram0 ||
	bail_out "cannot swap on zram0"
diag "$(grep -E '^(MemTotal|MemAvailable|SwapTotal)' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"

load_kheal
start_agent --profile autonomous --psi
echo -1000 >"/proc/$KHEAL_AGENT_PID/oom_score_adj"
wait_for 10 "kheald registers a PSI trigger on the host's memory pressure" \
	grep -q "PSI: trigger some 150000 1000000 on memory:global" \
	"$KHEAL_ERR"

svc=/sys/fs/cgroup/svc
mkdir "$svc"
echo 192M >"$svc/memory.min"
sh -c "echo \$\$ >$svc/cgroup.procs && exec /kheal/memhog 160" \
	>/tmp/healthy.out &
healthy=$!
retry 30 grep -q holding /tmp/healthy.out ||
	bail_out "the healthy process did not start"
rss_healthy=$(anon "$healthy")
diag "healthy: pid $healthy in /svc, RssAnon $rss_healthy kB"
wait_for 10 "kheald watches /svc" \
	sh -c "khealctl -j status | grep -q '\"name\":\"memory:/svc\",\"attached\":true'"
# Steady longer than the tracker's 5 s window.
sleep 6

t0=$(uptime_ms)
/kheal/memhog 100000 25 &
leaker=$!
(sleep 200; kill -TERM "$leaker") 2>/dev/null &
watchdog=$!
wait "$leaker"
rc=$?
t_kill=$(uptime_ms)
kill "$watchdog" 2>/dev/null
wait "$watchdog" 2>/dev/null
is "$rc" 137 "the leaker (pid $leaker, root cgroup) died of SIGKILL" ||
	brain_diag
ok "the healthy process is alive" kill -0 "$healthy"
cmp_ge "$(anon "$healthy")" "$rss_healthy" \
	"and it has all its memory ($rss_healthy kB anonymous, resident)"
is "$(dmesg | grep -c 'invoked oom-killer')" 0 \
	"the kernel log has no OOM killer"
diag "$(grep -E '^(MemAvailable|SwapFree)' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"

wait_for 10 "the incident is resolved" \
	sh -c "khealctl -j incidents | grep -q '\"state\":\"resolved\"'" ||
	brain_diag
sleep 3
khealctl -j events >/tmp/events.json
ev=$(grep '"kind":"mem_pressure"' /tmp/events.json | head -n 1)
diag "$ev"
is "$(grep -c '"kind":"mem_pressure"' /tmp/events.json)" 1 \
	"one mem_pressure event"
is "$(printf '%s\n' "$ev" | json_get cgroup_path)" / "on the host"
like "$(printf '%s\n' "$ev" | json_get detail)" \
	"; top grower pid $leaker \\+[0-9]+ kB in [0-9]+ ms: memhog\$" \
	"naming the leaker as the top grower"
is "$(grep -c '"kind":"oom_kill"' /tmp/events.json)" 0 \
	"no oom_kill event was journalled"

khealctl -j incident show 1 >/tmp/incident.json 2>&1
diag "$(cat /tmp/incident.json)"
like "$(cat /tmp/incident.json)" '"subsystem":"memory:global"' \
	"the incident is on memory:global"
like "$(cat /tmp/incident.json)" \
	"\"name\":\"memory.kill_leaker\"[^}]*\"args\":\\[\"cgroup=/\"\\][^}]*\"result\":\"ok\"[^}]*killed memhog\\[$leaker\\] in /:" \
	"memory.kill_leaker on / killed the leaker"
like "$(cat /tmp/incident.json)" \
	'"phase":"verify"[^}]*"name":"memory.pressure_ok"[^}]*"result":"ok"' \
	"memory.pressure_ok held on the host"
like "$(cat /tmp/incident.json)" '"outcome":"recovered"' \
	"the outcome is recovered"

kill -TERM "$healthy"
wait "$healthy"
is $? 143 "the healthy process lived until the test ended it"
stop_agent
ok "khealctl journal verify passes" khealctl journal verify

ev_ms=$(($(printf '%s\n' "$ev" | json_get time_ns) / 1000000))
kill_note=$(journal_records action | grep '"name":"memory.kill_leaker"' |
	json_get error)
verify_ms=$(journal_records action | grep '"phase":"verify"' | tail -n 1 |
	json_get duration_ms)
margin=$(printf '%s\n' "$kill_note" | sed -nE 's/.*margin (-?[0-9]+) kB.*/\1/p')
diag "kill: $kill_note"
diag "timing: scenario=memory-leak-global onset_to_detect_ms=$((ev_ms - t0)) to_action_ms=$((t_kill - t0)) to_verified_ms=$((ev_ms - t0 + verify_ms)) margin_kb=$margin"
swapoff /dev/zram0

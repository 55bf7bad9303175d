#!/bin/sh
# A memory hog in a cgroup v2 with memory.max=32M is OOM-killed and the
# agent reports oom_kill with the victim's pid, that cgroup's path and a
# memcg constraint; a hog that exhausts the whole machine is reported
# with a global constraint.
# timeout: 240
# kernel-log-allow: memhog invoked oom-killer
. /kheal/tests/lib.sh
. /kheal/tests/kheal.sh
plan 10

load_kheal
start_agent
echo -1000 > "/proc/$KHEAL_AGENT_PID/oom_score_adj"

cg=/sys/fs/cgroup/hog
mkdir "$cg"
echo 32M > "$cg/memory.max"
sh -c "echo \$\$ > $cg/cgroup.procs && exec /kheal/memhog 256" &
hog=$!
wait $hog
is $? 137 "the hog in $cg was killed by SIGKILL"

wait_for 10 "oom_kill reaches the agent" grep -qF '"kind":"oom_kill"' \
	"$KHEAL_LOG"
ev=$(grep -F '"kind":"oom_kill"' "$KHEAL_LOG" | head -n 1)
diag "$ev"
is "$(printf '%s\n' "$ev" | json_get pid)" "$hog" "oom_kill names the victim"
is "$(printf '%s\n' "$ev" | json_get cgroup_path)" /hog \
	"oom_kill names the victim's cgroup"
is "$(printf '%s\n' "$ev" | json_get oom_constraint)" memcg \
	"the kill is memcg-constrained"
cmp_ge "$(printf '%s\n' "$ev" | json_get rss_kb)" 16384 \
	"victim RSS is reported"

big=/sys/fs/cgroup/big
mkdir "$big"
mem_mb=$(awk '/^MemTotal:/ { print int($2 / 1024) * 2 }' /proc/meminfo)
sh -c "echo \$\$ > $big/cgroup.procs && exec /kheal/memhog $mem_mb" &
hog=$!
wait $hog
is $? 137 "the unlimited hog was killed by SIGKILL"
wait_for 10 "a second oom_kill reaches the agent" \
	sh -c "[ \$(grep -cF '\"kind\":\"oom_kill\"' $KHEAL_LOG) -ge 2 ]"
ev=$(grep -F '"kind":"oom_kill"' "$KHEAL_LOG" | grep -F "\"pid\":$hog,")
is "$(printf '%s\n' "$ev" | json_get cgroup_path)" /big \
	"global oom_kill names the victim's cgroup"
is "$(printf '%s\n' "$ev" | json_get oom_constraint)" global \
	"the machine-wide kill is global"

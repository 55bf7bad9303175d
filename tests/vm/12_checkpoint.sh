#!/bin/sh
# Checkpoints. An injected kthread asleep in D state (hung_ms=500): its
# hung_task event names a checkpoint, which GET_CHECKPOINT (khealctl
# checkpoint) returns with memory, load averages, the kernel log and the
# kthread's stack asleep in schedule_timeout; kheald puts it in the
# incident's context and `khealctl incident show` prints it; it is
# admin-only. An OOM kill's checkpoint has the victim, its memory cgroup,
# its stack in the OOM killer and the OOM report from the kernel log. With
# checkpoints=4, an id that has left the ring, one not taken yet and one
# of another load get errors that say so. Unloading while hung tasks are
# being checkpointed is clean.
# timeout: 300
# kernel-log-allow: memhog invoked oom-killer
. /kheal/tests/lib.sh
. /kheal/tests/kheal.sh
plan 39

nobody() { /kheal/runas 65534 65534 "$@"; }

# has WHAT ERE: the checkpoint text in /tmp/cp.txt has a line matching ERE.
has() {
	like "$(cat /tmp/cp.txt)" "$2" "the checkpoint has $1"
}

# checkpointed N: the module's backlog has N events that name a checkpoint.
checkpointed() {
	[ "$(khealctl -j events --kernel | json_get checkpoint_id | wc -l)" \
		-ge "$1" ]
}

load_kheal allow_inject=1 hung_ms=500
start_agent
echo -1000 >"/proc/$KHEAL_AGENT_PID/oom_score_adj"

pid=$(khealctl -j inject hung --ms 2000 | json_get pid)
diag "injected kheal-hung pid $pid"
wait_for 10 "hung_task reaches the agent" \
	grep -qF '"kind":"hung_task"' "$KHEAL_LOG"
ev=$(grep -F '"kind":"hung_task"' "$KHEAL_LOG" | grep -F "\"pid\":$pid," |
	head -n 1)
cp=$(printf '%s\n' "$ev" | json_get checkpoint_id)
cmp_ge "${cp:-0}" 1 "the hung_task event names a checkpoint"

khealctl checkpoint "$cp" >/tmp/cp.txt 2>&1
is $? 0 "khealctl checkpoint $cp answers"
diag "$(cat /tmp/cp.txt)"
has "its id" "^checkpoint $cp at [0-9]+\.[0-9]{6} s \(CLOCK_BOOTTIME\)"
has "meminfo" '^  MemAvailable: +[0-9]+ kB$'
has "the load averages" '^load average: [0-9]+\.[0-9]{2} [0-9]+\.[0-9]{2} '
has "the task" "^  pid $pid tgid $pid comm kheal-hung$"
has "the task's state" '^  state D \(disk sleep\)'
has "the task's cgroup" '^  cgroup /$'
has "a stack asleep in schedule_timeout" '^  schedule_timeout\+0x'
has "the inject kthread in its stack" \
	'^  kheal_inject_hung_fn\+0x[0-9a-f]+/0x[0-9a-f]+ \[kheal\]$'
has "kernel log lines" '^kernel log \(newest last\):$'
has "the module's load in the log" \
	'^\[ *[0-9]+\.[0-9]+\] kheal: v[0-9.]+ loaded: hung_ms=500 '
unlike "$(cat /tmp/cp.txt)" '^(netdev|block device):$' \
	"it has no device section: no device is at fault"
cmp_le "$(wc -c </tmp/cp.txt)" 8191 "the text is within 8191 bytes"

khealctl -j checkpoint "$cp" >/tmp/cp.json
is "$(json_get checkpoint_id </tmp/cp.json)" "$cp" \
	"khealctl -j checkpoint gives its id"
like "$(cat /tmp/cp.json)" '"text":"checkpoint [0-9]+ at .*\\u000amemory:\\u000a' \
	"and its text, escaped"

nobody khealctl checkpoint "$cp" >/tmp/nobody.out 2>&1
is $? 1 "an unprivileged user cannot read a checkpoint"
like "$(cat /tmp/nobody.out)" "checkpoint $cp: Operation not permitted" \
	"and is told why"

wait_for 10 "kheald opened an incident on the hung kthread" \
	sh -c "khealctl incident show 1 | grep -q 'task:$pid'"
khealctl incident show 1 >/tmp/incident.txt 2>&1
like "$(cat /tmp/incident.txt)" "^    checkpoint: $cp$" \
	"the incident's context names the checkpoint"
like "$(cat /tmp/incident.txt)" '^      +kheal_inject_hung_fn\+0x' \
	"khealctl incident show prints its text"

# An OOM kill in a cgroup limited to 32M: the victim is the allocating
# task itself, so its stack is read inside the OOM killer.
cg=/sys/fs/cgroup/hog
mkdir "$cg"
echo 32M >"$cg/memory.max"
sh -c "echo \$\$ > $cg/cgroup.procs && exec /kheal/memhog 256" &
hog=$!
wait $hog
is $? 137 "the hog in $cg was OOM-killed"
wait_for 10 "oom_kill reaches the agent" grep -qF '"kind":"oom_kill"' \
	"$KHEAL_LOG"
ev=$(grep -F '"kind":"oom_kill"' "$KHEAL_LOG" | head -n 1)
cp=$(printf '%s\n' "$ev" | json_get checkpoint_id)
cmp_ge "${cp:-0}" 1 "the oom_kill event names a checkpoint"
khealctl checkpoint "$cp" >/tmp/cp.txt 2>&1
diag "$(cat /tmp/cp.txt)"
has "the victim" "^  pid $hog tgid $hog comm memhog$"
has "the victim's cgroup" '^  cgroup /hog$'
has "its memory cgroup at its limit" \
	'^  memory.current [0-9]+ kB, memory.max 32768 kB$'
has "its stack in the OOM killer" '^  [a-z_]*out_of_memory\+0x'
has "the OOM report" \
	"oom-kill:constraint=CONSTRAINT_MEMCG.*task=memhog,pid=$hog,"
stop_agent

# A ring of 4: the fifth checkpoint replaces the first.
rmmod kheal || bail_out "rmmod kheal failed"
load_kheal allow_inject=1 hung_ms=100 checkpoints=4
for i in 1 2 3 4 5 6; do
	khealctl inject hung --ms 1500 >/dev/null
done
wait_for 10 "six hung tasks are checkpointed" checkpointed 6
last=$(khealctl -j events --kernel | json_get checkpoint_id | sort -n |
	tail -n 1)
instance=$(khealctl -j events --kernel | json_get instance | tail -n 1)
diag "last checkpoint $last of instance $instance"
ok "checkpoint $((last - 3)), fourth newest, is kept" \
	khealctl checkpoint $((last - 3))
khealctl checkpoint $((last - 4)) >/tmp/gone.out 2>&1
is $? 1 "checkpoint $((last - 4)), fifth newest, is gone"
like "$(cat /tmp/gone.out)" \
	"checkpoint $((last - 4)): No such file or directory \(kernel: the checkpoint has left the ring; load kheal with a larger checkpoints= to keep more\)" \
	"the error says it has left the ring"
khealctl checkpoint $((last + 100)) >/tmp/early.out 2>&1
like "$(cat /tmp/early.out)" "no checkpoint has this id yet" \
	"an id not taken yet is refused as such"
ok "asked with its instance, checkpoint $last is given" \
	khealctl checkpoint "$last" --instance "$instance"
khealctl checkpoint "$last" --instance 1 >/tmp/other.out 2>&1
like "$(cat /tmp/other.out)" "INSTANCE names another load" \
	"with another load's instance it is refused"

# Unload while hung kthreads are found and checkpointed, every 20 ms.
unloads=0
for round in 1 2 3; do
	for i in 1 2 3 4 5 6 7 8; do
		khealctl inject hung --ms 150 >/dev/null
	done
	sleep 0.1
	rmmod kheal || break
	unloads=$((unloads + 1))
	load_kheal allow_inject=1 hung_ms=100 checkpoints=4
done
is "$unloads" 3 "rmmod during checkpointing succeeds three times"
ok "the last load unloads" rmmod kheal

#!/bin/sh
# The kheal demo: load kheal.ko, start kheald, cause a real hung task and
# a real OOM kill, and show what the agent reports and journals.
# timeout: 300
# kernel-log-allow: invoked oom-killer
. /kheal/tests/lib.sh
. /kheal/tests/kheal.sh
plan 4

say() { printf '\n=== %s\n' "$*"; }

say "insmod kheal.ko hung_ms=1000 backlog=65536 allow_inject=1"
load_kheal hung_ms=1000 backlog=65536 allow_inject=1
start_agent
# Show the agent's JSON lines as they are written.
tail -n +1 -f "$KHEAL_LOG" | sed 's/^/kheald> /' &
tailer=$!
khealctl status

say "a kthread sleeps uninterruptibly for 3 s (a real hung task)"
khealctl inject hung --ms 3000
wait_for 15 "the agent saw the hung task resolve" \
	grep -qF '"kind":"hung_task_resolved"' "$KHEAL_LOG"

say "a process in cgroup /demo (memory.max=32M) allocates 256 MiB"
mkdir /sys/fs/cgroup/demo
echo 32M > /sys/fs/cgroup/demo/memory.max
sh -c 'echo $$ > /sys/fs/cgroup/demo/cgroup.procs; exec /kheal/memhog 256'
wait_for 15 "the agent saw the OOM kill" \
	grep -qF '"kind":"oom_kill"' "$KHEAL_LOG"

say "a burst of 20000 events, with the agent stalled for a second"
kill "$tailer"
khealctl inject burst --count 20000
retry 60 agent_caught_up 100
kill -STOP "$KHEAL_AGENT_PID"
sleep 1
kill -CONT "$KHEAL_AGENT_PID"
wait_for 120 "the agent journalled every event" agent_caught_up 20003

say "khealctl status"
khealctl status
say "khealctl events (the journal, first 4 lines)"
khealctl events | head -n 4
stop_agent
ok "kheald stopped cleanly and backfilled what it missed" \
	test "$(agent_stat backfilled)" -gt 0

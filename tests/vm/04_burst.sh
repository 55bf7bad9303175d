#!/bin/sh
# A burst of 100,000 synthetic events overflows the socket of an agent
# that stalls for a second: the agent backfills from the module's backlog and its journal ends up with
# SEQ 1..100000 exactly once each; the module dropped nothing.
# timeout: 900
. /kheal/tests/lib.sh
. /kheal/tests/kheal.sh
plan 8

n=100000
load_kheal backlog=131072 allow_inject=1
start_agent
khealctl inject burst --count $n >/dev/null
# Stall the agent for a second, as a slow disk would: its socket overflows
# (ENOBUFS) and it must backfill what it missed.
retry 60 agent_caught_up 1000
kill -STOP "$KHEAL_AGENT_PID"
sleep 1
kill -CONT "$KHEAL_AGENT_PID"
wait_for 600 "the agent journalled all $n events" burst_journalled $n
stop_agent

journal_complete $n
cmp_ge "$(agent_stat backfilled)" 1 "the backfill path was exercised"
is "$(khealctl -j status | json_get events_dropped)" 0 \
	"the module dropped no event"

#!/bin/sh
# kheald is killed with SIGKILL in the middle of a 100,000-event burst and
# restarted: it resumes from the last SEQ in its journal, and the journal
# ends up with SEQ 1..100000 exactly once each.
# timeout: 900
. /kheal/tests/lib.sh
. /kheal/tests/kheal.sh
plan 7

n=100000
load_kheal backlog=131072 allow_inject=1
start_agent
khealctl inject burst --count $n >/dev/null
wait_for 300 "the agent has journalled part of the burst" \
	agent_caught_up 20000
kill -9 "$KHEAL_AGENT_PID"
wait "$KHEAL_AGENT_PID" 2>/dev/null
diag "killed kheald at about $(khealctl -j status | json_get head_seq) events"

start_agent
wait_for 600 "the restarted agent journalled all $n events" \
	burst_journalled $n
stop_agent

journal_complete $n

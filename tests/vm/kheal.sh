#!/bin/sh
# kheal helpers for the VM tests, sourced after lib.sh: load the module,
# run the agent with its default file locations (as on a real host), read
# its counters.

KHEAL_JOURNAL=/var/lib/kheal/journal
KHEAL_LOG=/var/log/kheal/events.jsonl
KHEAL_PIDFILE=/run/kheal/kheald.pid
KHEAL_ERR=/tmp/kheald.err
KHEAL_AGENT_PID=

# load_kheal [PARAM=VALUE...]: insmod kheal.ko or bail out.
load_kheal() {
	insmod /kheal/kheal.ko "$@" ||
		bail_out "insmod kheal.ko $* failed"
}

# start_agent [KHEALD_ARGS...]: kheald in the background, quiet (a serial
# console would slow it down), its stderr kept in $KHEAL_ERR.
start_agent() {
	kheald --quiet "$@" 2>>"$KHEAL_ERR" &
	KHEAL_AGENT_PID=$!
	retry 30 test -s "$KHEAL_PIDFILE" ||
		bail_out "kheald did not start: $(cat "$KHEAL_ERR")"
}

# stop_agent: SIGTERM, wait, and show what it said.
stop_agent() {
	kill -TERM "$KHEAL_AGENT_PID"
	wait "$KHEAL_AGENT_PID"
	_rc=$?
	[ "$_rc" -eq 0 ] || diag "kheald exited with status $_rc"
	sed 's/^/kheald: /' "$KHEAL_ERR" | tail -n 5 | while read -r l; do
		diag "$l"
	done
}

# agent_caught_up N: the agent's journal has reached SEQ N.
agent_caught_up() {
	_last=$(khealctl -j status | json_get last_seq)
	[ "${_last:-0}" -ge "$1" ]
}

# agent_stat NAME: the counter NAME from kheald's last stats line.
agent_stat() {
	grep 'stats:' "$KHEAL_ERR" | tail -n 1 |
		sed -n "s/.* $1=\([0-9]*\).*/\1/p"
}

# burst_journalled N: the module has emitted at least N events and the
# agent's journal has reached the module's head.
burst_journalled() {
	_head=$(khealctl -j status | json_get head_seq)
	[ "${_head:-0}" -ge "$1" ] && agent_caught_up "$_head"
}

# journal_complete N: five tests that the agent's journal holds SEQ
# 1..last exactly once, N of them synthetic (the burst). Other events (a
# detector seeing the burst thread wait on the sender for longer than
# hung_ms, say) are listed, not failed.
journal_complete() {
	khealctl -j events --journal "$KHEAL_JOURNAL" > /tmp/journal.json
	json_get seq < /tmp/journal.json | sort -n > /tmp/seqs
	_last=$(tail -n 1 /tmp/seqs)
	is "$(wc -l < /tmp/seqs)" "$_last" "the journal holds $_last events"
	is "$(uniq < /tmp/seqs | wc -l)" "$_last" "no SEQ appears twice"
	is "$(head -n 1 /tmp/seqs)" 1 "the first SEQ is 1"
	cmp_ge "$_last" "$1" "the last SEQ is at least $1"
	is "$(grep -c '"kind":"synthetic"' /tmp/journal.json)" "$1" \
		"$1 of them are the burst's"
	grep -v '"kind":"synthetic"' /tmp/journal.json | while read -r _l; do
		diag "also journalled: $_l"
	done
}

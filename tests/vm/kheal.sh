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

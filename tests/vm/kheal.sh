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

# svc_hang CGROUP MNT: a "service" in CGROUP (made here) with a task stuck
# in D state: a FUSE server on MNT (kheal-trigger fuse; its pid in
# $FUSE_PID, its stdin on fd 3) and two writers of MNT/hang-write in
# CGROUP (pids in $SVC_A, $SVC_B): one holds the inode's i_rwsem waiting
# for its WRITE, the other sleeps in down_write() in TASK_UNINTERRUPTIBLE.
svc_hang() {
	mkdir -p "$2" "$1"
	rm -f /tmp/fuse.in /tmp/fuse.out
	mkfifo /tmp/fuse.in
	kheal-trigger fuse "$2" </tmp/fuse.in >/tmp/fuse.out 2>&1 &
	FUSE_PID=$!
	exec 3>/tmp/fuse.in
	retry 20 grep -q ready /tmp/fuse.out ||
		bail_out "the FUSE server did not start: $(cat /tmp/fuse.out)"
	sh -c "echo \$\$ >$1/cgroup.procs &&
		exec kheal-trigger write-hang $2/hang-write svc-a" &
	SVC_A=$!
	sh -c "echo \$\$ >$1/cgroup.procs &&
		exec kheal-trigger write-hang $2/hang-write svc-b" &
	SVC_B=$!
}

# svc_release MNT: answers what hangs, unmounts, and reaps the server.
svc_release() {
	echo release >&3
	echo quit >&3
	exec 3>&-
	wait "$FUSE_PID" 2>/dev/null
	umount "$1" 2>/dev/null
}

# brain_diag: what the brain did, in TAP comments, when a test failed.
brain_diag() {
	khealctl incidents 2>&1 | while read -r _l; do diag "$_l"; done
	khealctl journal 2>&1 | tail -n 30 | while read -r _l; do
		diag "journal: $_l"
	done
	tail -n 20 "$KHEAL_ERR" | while read -r _l; do diag "$_l"; done
}

# golden NAME ARGS...: the agent's journal in TAP comments, base64, and
# the kheald ARGS it ran with (its profile), for scripts/golden to keep as
# tests/golden/NAME.journal and NAME.args.
golden() {
	_name=$1
	shift
	diag "golden-args $_name $*"
	base64 "$KHEAL_JOURNAL" | while read -r _l; do
		diag "golden $_name $_l"
	done
}

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kheald --engine=bpf against real faults on this kernel: a SIGSEGV and a
# cgroup OOM kill reach its JSON log and its journal, numbered by kheald
# from 1; restarted, it numbers on after its journal, nothing twice. It
# runs with a 4 MiB ring buffer (--ringbuf-kb 4096), not the default.
set -u
here=$(cd "$(dirname "$0")" && pwd)
agent=$here/../../agent
trigger=$here/kheal-trigger
n=0
failed=0

ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

# is GOT WANT DESC
is() {
	[ "$1" = "$2" ]
	rc=$?
	ok $rc "$3"
	[ $rc = 0 ] || echo "#   got '$1', want '$2'"
}

# json_get KEY < lines: the value of KEY in each JSON line that has it.
json_get() {
	sed -n -E -e 's/.*"'"$1"'":"([^"]*)".*/\1/p;t' \
		-e 's/.*"'"$1"'":([-0-9]+).*/\1/p'
}

# wait_for SECONDS CMD...: until CMD succeeds, or fails after SECONDS.
wait_for() {
	_t=$(($1 * 10))
	shift
	while ! "$@" >/dev/null 2>&1; do
		_t=$((_t - 1))
		[ $_t -gt 0 ] || return 1
		sleep 0.1
	done
}

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root"
	exit 0
fi

t=$(mktemp -d)
cg=""
cg1=""
kpid=""
cleanup() {
	[ -z "$kpid" ] || kill "$kpid" 2>/dev/null
	[ -z "$cg" ] || rmdir "$cg" 2>/dev/null
	[ -z "$cg1" ] || rmdir "$cg1" 2>/dev/null
	rm -rf "$t"
}
trap cleanup EXIT

start_kheald() {
	: >"$t/err"
	"$agent/kheald" --engine=bpf --hung-ms 1000 --ringbuf-kb 4096 --quiet \
		--journal "$t/j" --log "$t/l" --pidfile "$t/p" --state "$t/s" \
		2>>"$t/err" &
	kpid=$!
	wait_for 20 grep -q "BPF probes: " "$t/err"
}

stop_kheald() {
	kill -TERM "$kpid"
	wait "$kpid"
	_rc=$?
	kpid=""
	return $_rc
}

# run PIDVAR CMD...: runs CMD in the background, waits for it and
# returns its status, sets PIDVAR to its pid; a death by signal is not
# announced on stderr.
run() {
	_var=$1
	shift
	{
		"$@" &
		eval "$_var=\$!"
		wait $!
	} 2>/dev/null
}

# A memory cgroup limited to 64 MiB, v2 if it has the controller, else
# v1 beside it; sets cg (v2) and cg1 (v1, or "").
memcg_setup() {
	v2=/sys/fs/cgroup/unified
	[ -e /sys/fs/cgroup/cgroup.controllers ] && v2=/sys/fs/cgroup
	cg=$v2/kheal-agent-test
	mkdir -p "$cg" || return 1
	if grep -qw memory "$v2/cgroup.controllers"; then
		echo +memory >"$v2/cgroup.subtree_control"
		echo 64M >"$cg/memory.max"
	else
		cg1=/sys/fs/cgroup/memory/kheal-agent-test
		mkdir -p "$cg1" && echo 64M >"$cg1/memory.limit_in_bytes"
	fi
}

start_kheald
ok $? "kheald --engine=bpf starts and attaches its probes"
grep -q "^kheald: engine bpf (--engine=bpf)$" "$t/err"
ok $? "it says which engine runs and why"
grep -q "ring buffer 4096 KiB;" "$t/err"
ok $? "its ring buffer has the size asked for (--ringbuf-kb 4096)"

run segv "$trigger" signal 11 kh-agent-segv
is $? 139 "the child died of SIGSEGV"
wait_for 10 grep -q "\"comm\":\"kh-agent-segv\"" "$t/l"
ok $? "task_crash reaches the JSON log"
line=$(grep "\"kind\":\"task_crash\"" "$t/l" |
	grep "\"comm\":\"kh-agent-segv\"")
echo "# $line"
is "$(echo "$line" | json_get pid)" "$segv" "task_crash names the pid"
is "$(echo "$line" | json_get signal)" 11 "task_crash has signal 11"
is "$(echo "$line" | json_get source)" bpf "task_crash comes from bpf"

if memcg_setup; then
	run hog sh -c "echo \$\$ >$cg/cgroup.procs &&
		{ [ -z '$cg1' ] || echo \$\$ >$cg1/cgroup.procs; } &&
		exec $trigger hog 512 kh-agent-hog"
	is $? 137 "the hog in a 64 MiB cgroup was killed by SIGKILL"
	wait_for 10 grep -q "\"kind\":\"oom_kill\".*\"pid\":$hog," "$t/l"
	ok $? "oom_kill reaches the JSON log"
	line=$(grep "\"kind\":\"oom_kill\"" "$t/l" | grep "\"pid\":$hog,")
	echo "# $line"
	is "$(echo "$line" | json_get source)" bpf "oom_kill comes from bpf"
	is "$(echo "$line" | json_get comm)" kh-agent-hog \
		"oom_kill names the comm"
	is "$(echo "$line" | json_get cgroup_path)" /kheal-agent-test \
		"oom_kill names the victim's cgroup v2 path"
else
	for d in "hog killed" "oom_kill logged" "source" "comm" "cgroup"; do
		n=$((n + 1))
		echo "ok $n - oom_kill: $d # SKIP no memory cgroup"
	done
fi

"$agent/khealctl" status --journal "$t/j" --pidfile "$t/p" --state "$t/s" \
	>"$t/status"
grep -q "^  engine: bpf (--engine=bpf)$" "$t/status"
ok $? "khealctl status says engine bpf and why"

stop_kheald
ok $? "kheald stops cleanly on SIGTERM"
"$agent/khealctl" -j events --journal "$t/j" >"$t/events"
seqs=$(json_get seq <"$t/events")
last=$(echo "$seqs" | wc -l)
is "$seqs" "$(seq 1 "$last")" "the journal holds BPF seq 1..$last in order"
grep "\"comm\":\"kh-agent-segv\"" "$t/events" | grep -q "\"seq\":"
ok $? "khealctl events lists the crash"

start_kheald
ok $? "kheald restarts on the same journal"
grep -q "numbering after seq $last$" "$t/err"
ok $? "it numbers on after the journal's last BPF seq ($last)"
run segv2 "$trigger" signal 11 kh-agent-segv2
wait_for 10 grep -q "\"comm\":\"kh-agent-segv2\"" "$t/l"
ok $? "a crash after the restart is logged"
stop_kheald
"$agent/khealctl" -j events --journal "$t/j" >"$t/events"
is "$(grep "\"comm\":\"kh-agent-segv2\"" "$t/events" | json_get seq)" \
	$((last + 1)) "it continues the BPF seq"
seqs=$(json_get seq <"$t/events")
is "$(echo "$seqs" | sort -n | uniq -d | wc -l)" 0 "no seq appears twice"
is "$(echo "$seqs" | sort -n | tail -n 1)" "$(echo "$seqs" | wc -l)" \
	"no seq is missing"

echo "1..$n"
echo "$((n - failed)) passed, $failed failed"
[ $failed = 0 ]

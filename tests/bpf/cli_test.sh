#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kheal-bpf-trace as a person uses it: one line per event, the fields
# named, bad arguments refused with a message.
set -u
here=$(cd "$(dirname "$0")" && pwd)
trace=$here/../../bpf/kheal-bpf-trace
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

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root"
	exit 0
fi

out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

"$trace" -p crash -n 1 -t 20 -r 4096 -s >"$out" 2>"$err" &
tpid=$!
# wait until it is tracing
i=0
while ! grep -q "tracing" "$err" && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
"$trigger" signal 11 kh-cli-segv 2>/dev/null
wait $tpid
ok $? "kheal-bpf-trace exits 0 after -n 1"
line=$(cat "$out")
echo "# $line"
echo "$line" | grep -Eq '^[0-9]+ task_crash probe=crash pid=[0-9]+ tgid=[0-9]+ comm=kh-cli-segv cgroup_id=[0-9]+ signal=11$'
ok $? "one line: time, kind, probe, pid, comm, cgroup, signal"
[ "$(wc -l <"$out")" = 1 ]
ok $? "exactly one line for one event"
grep -q "ring buffer 4096 KiB" "$err"
ok $? "-r 4096: the ring buffer has the size asked for"

"$trace" -p crash,bogus >"$out" 2>"$err"
rc=$?
[ $rc = 2 ] && grep -q "unknown probe 'bogus'" "$err"
ok $? "unknown probe refused, exit 2, named in the message"
"$trace" --hung-ms abc >"$out" 2>"$err"
[ $? = 2 ] && grep -q -- "--hung-ms: not a number: 'abc'" "$err"
ok $? "bad number refused, exit 2, named in the message"
"$trace" -r 3000 >"$out" 2>"$err"
[ $? = 2 ] && grep -q -- "--ringbuf-kb: '3000' is not a power of two from 4 to 1048576 (KiB)" "$err"
ok $? "a ring buffer size not a power of two refused, with the range"

"$trace" -s -t 1 --retarget rcu_stall=kheal_nope -p rcu_stall,crash >"$out" 2>"$err"
grep -q "probe rcu_stall: tracepoint kheal_nope is not in this kernel" "$err" &&
	grep -q "probe crash: attached" "$err"
ok $? "a probe without its tracepoint is reported and skipped, the rest run"

echo "1..$n"
echo "$((n - failed)) passed, $failed failed"
[ $failed = 0 ]

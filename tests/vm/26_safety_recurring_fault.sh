#!/bin/sh
# Loops stop: the same service hangs ten times in a row (a new hung task
# each time). kheal (profile autonomous) freezes and kills it once; each
# hang after that comes back within the runbook's cooldown, so kheal
# escalates it to a human instead of killing the service again and again.
# timeout: 420
# modules: fuse
# binaries: tests/bpf/kheal-trigger
. /kheal/tests/lib.sh
. /kheal/tests/kheal.sh
plan 5

cg=/sys/fs/cgroup/svc
mnt=/tmp/fuse

# decided N: the brain has taken N decisions.
decided() {
	[ "$(khealctl -j journal | grep -c '"type":"decision"')" -ge "$1" ]
}

modprobe fuse || bail_out "cannot load fuse"
load_kheal hung_ms=1000
start_agent --profile autonomous
i=1
while [ $i -le 10 ]; do
	svc_hang "$cg" "$mnt"
	retry 60 decided $i || {
		brain_diag
		diag "fuse: $(cat /tmp/fuse.out)"
		for p in $SVC_A $SVC_B; do
			diag "$p: $(cat /proc/$p/stat 2>&1) wchan $(cat /proc/$p/wchan 2>&1)"
		done
		diag "events: $(khealctl events | tail -n 3)"
		bail_out "hang $i: no decision"
	}
	# Whatever kheal decided, the next hang starts from a clean service.
	echo 1 >$cg/cgroup.kill
	svc_release "$mnt"
	wait "$SVC_A" "$SVC_B" 2>/dev/null
	i=$((i + 1))
done
khealctl -j journal >/tmp/journal.json
is "$(grep '"type":"action"' /tmp/journal.json | grep -c '"name":"cgroup.kill"')" 1 \
	"the service was killed once, not ten times"
is "$(grep '"type":"decision"' /tmp/journal.json | grep -c '"decision":"act"')" 1 \
	"one decision to act"
is "$(grep '"type":"decision"' /tmp/journal.json | grep -c '"decision":"cooldown"')" 9 \
	"nine hangs within the cooldown"
is "$(khealctl -j incidents | grep -c '"state":"escalated"')" 9 \
	"each of them escalated to a human"
diag "$(grep '"decision":"cooldown"' /tmp/journal.json | head -n 1)"
stop_agent
ok "khealctl journal verify passes" khealctl journal verify

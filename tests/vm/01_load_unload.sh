#!/bin/sh
# kheal.ko loads and unloads 20 times while events are being emitted (an
# event burst, a hung kthread and a listener): every rmmod succeeds, the
# kernel logs no oops/WARN/BUG (checked by the host), the module's slab
# cache is empty at destroy (SLUB reports "Objects remaining" otherwise)
# and no vmalloc memory is left behind.
# timeout: 600
. /kheal/tests/lib.sh
. /kheal/tests/kheal.sh

cycles=20
plan $((cycles + 2))

vmalloc_kb() { awk '/^VmallocUsed:/ { print $2 }' /proc/meminfo; }

before=$(vmalloc_kb)
i=1
while [ $i -le $cycles ]; do
	insmod /kheal/kheal.ko allow_inject=1 backlog=65536 hung_ms=100
	khealctl events --kernel --follow >/dev/null 2>&1 &
	listener=$!
	khealctl inject burst --count 1000000 >/dev/null
	khealctl inject hung --ms 5000 >/dev/null
	# Unload at a different point of the burst each time.
	usleep $((i * 37000))
	# EAGAIN while a GET_EVENTS dump holds a module reference: retry.
	ok "rmmod $i of $cycles with events in flight" retry 10 rmmod kheal
	kill $listener 2>/dev/null
	wait $listener 2>/dev/null
	i=$((i + 1))
done
after=$(vmalloc_kb)
diag "VmallocUsed before ${before} kB, after ${after} kB"
# One leaked backlog of 65536 events would be about 28 MiB.
cmp_le $((after - before)) 8192 "no vmalloc leak after $cycles cycles"
ok "module is gone" sh -c '! grep -q "^kheal " /proc/modules'

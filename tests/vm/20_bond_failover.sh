#!/bin/sh
# Network failover to backup (scenario 3). bond0 (active-backup) over
# veth-a, veth-b and veth-c, whose peers sit on a bridge in netns "peer"
# (10.9.0.2); bond0 is 10.9.0.1. pinggap pings across the bond every 10 ms
# (answers timed by the kernel), watches the failing slave and the bond in
# sysfs every millisecond, and causes the fault itself, so its onset is
# known: it takes the active slave's peer down, which drops the slave's
# carrier. kheal.ko reports netdev_carrier; kheald (profile autonomous)
# runs netdev-bond-failover: the bond is switched to another slave and the
# failed one taken down, through rtnetlink, then verified. Checked from
# outside kheal: the bond's active slave, the failed slave down, the ping
# answering again. Three ways, three rounds each (one per slave), in one
# run: kheal with miimon 100 (whichever is first fails over), kheal alone
# (miimon 0), and miimon 100 alone (kheald stopped); the "# timing:"
# lines put them side by side. A first round, not counted, has the
# emulator translate the code all of them run. The checkpoint of a carrier
# loss has the slave's state and counters as they were at the loss. Last,
# kheal.ko is unloaded while the carrier of a slave flaps.
# timeout: 600
# modules: bonding veth bridge
# binaries: ip
. /kheal/tests/lib.sh
. /kheal/tests/kheal.sh
plan 90

IP=/usr/local/bin/ip
BOND=/sys/class/net/bond0/bonding
PEER=10.9.0.2
SLAVES="veth-a veth-b veth-c"

active() { cat $BOND/active_slave; }
is_up() { [ $(($(cat "/sys/class/net/$1/flags") & 1)) = 1 ]; }
# mii_up SLAVE: the bond sees SLAVE's link up (miimon).
mii_up() {
	grep -A1 "^Slave Interface: $1\$" /proc/net/bonding/bond0 |
		grep -q "MII Status: up"
}
# val KEY FILE: KEY's value in pinggap's summary line in FILE.
val() { tail -n 1 "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# ms FROM_NS TO_NS: milliseconds between two CLOCK_BOOTTIME stamps.
ms() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || b == "" || a == 0 || b == 0) print "-"
		else printf "%.1f", (b - a) / 1e6 }'
}
# event SLAVE UP_OR_DOWN: kheal.ko's last netdev_carrier event for SLAVE.
event() {
	khealctl -j events --kernel | grep '"kind":"netdev_carrier"' |
		grep "\"dev\":\"$1\"" | grep "carrier $2" | tail -n 1
}

# incident_after SUBSYSTEM ID: the first incident on SUBSYSTEM above ID
# whose runbook is done (resolved or escalated); fails if none yet.
incident_after() {
	_id=$(khealctl -j incidents | grep "\"subsystem\":\"$1\"" |
		grep -E '"state":"(resolved|escalated)"' | json_get id |
		awk -v a="$2" '$1 > a' | head -n 1)
	[ -n "$_id" ] && echo "$_id"
}

setup() {
	$IP netns add peer &&
	$IP -n peer link set lo up &&
	$IP -n peer link add br0 type bridge &&
	$IP link add bond0 type bond mode active-backup miimon 100 &&
	for s in $SLAVES; do
		$IP link add "$s" type veth peer name "peer-${s#veth-}" \
			netns peer &&
		$IP link set "$s" master bond0 &&
		$IP -n peer link set "peer-${s#veth-}" master br0 &&
		$IP -n peer link set "peer-${s#veth-}" up || return 1
	done &&
	$IP -n peer link set br0 up &&
	$IP -n peer addr add $PEER/24 dev br0 &&
	$IP link set bond0 up &&
	for s in $SLAVES; do $IP link set "$s" up || return 1; done &&
	$IP addr add 10.9.0.1/24 dev bond0
}

# use SLAVE: makes SLAVE the bond's active slave.
use() {
	retry 10 mii_up "$1" || diag "the bond does not see $1 up"
	$IP link set bond0 type bond active_slave "$1"
}

# fault SLAVE OUT: pings across the bond; 1 s after the first answer,
# pinggap takes SLAVE's peer down (the onset); until 2 s after the bond
# no longer uses SLAVE. pinggap's lines in OUT.
fault() {
	pinggap -f "peer:peer-${1#veth-}" -s "$1" -b bond0 -j "$KHEAL_JOURNAL" \
		$PEER >"$2" &
	_pg=$!
	retry 10 grep -q fault "$2" ||
		bail_out "pinggap did not cause the fault: $(cat "$2")"
	retry 20 sh -c "[ \"\$(cat $BOND/active_slave)\" != $1 ]" ||
		diag "the bond still uses $1"
	sleep 2
	kill -INT $_pg
	wait $_pg
	diag "pinggap: $(tail -n 1 "$2")"
}

# restore SLAVE: its peer up, and itself, and the bond sees its link.
restore() {
	$IP -n peer link set "peer-${1#veth-}" up
	$IP link set "$1" up
	retry 10 mii_up "$1" || diag "the bond does not see $1 up again"
}

# ping_kept OUT WHO: the ping answered again after the fault.
ping_kept() {
	_from=$(val onset_ns "$1")
	_to=$(val gap_to_ns "$1")
	_gap=$(val gap_ms "$1")
	ok "$2: the ping answers again after the fault (gap ${_gap} ms)" \
		sh -c "[ ${_from:-0} -gt 0 ] && [ ${_to:-0} -gt ${_from:-0} ] &&
			[ ${_gap%.*} -lt 1000 ]"
}

# timing WAY N SLAVE OUT DETECTED_NS STEPS WHO: the round's figures, as
# diagnostics and as a line of /tmp/summary. The onset is when the kernel
# had taken the peer down; the carrier drops at the end of that.
timing() {
	_on=$(val onset_end_ns "$4")
	_det=$(ms "$_on" "$5")
	_act=$(ms "$_on" "$(val active_ns "$4")")
	_ver=$(ms "$_on" "$(val journal_ns "$4")")
	_unans=$(($(val sent "$4") - $(val received "$4")))
	diag "timing: $1 round $2 ($3): fault applied in $(ms "$(val onset_ns "$4")" "$_on") ms; from then: detection $_det ms, failover $_act ms, isolated $(ms "$_on" "$(val down_ns "$4")") ms, verified and journalled $_ver ms; ping gap $(val gap_ms "$4") ms ($_unans of $(val sent "$4") pings unanswered; longest gap before the fault $(val base_gap_ms "$4") ms)"
	[ -z "$6" ] || diag "timing: $1 round $2 ($3): steps as journalled: $6; the failover was $7"
	[ "$2" = 0 ] ||
		echo "$1 $2 $3 $_det $_act $_ver $(val gap_ms "$4")" >>/tmp/summary
}

# kheal_round N SLAVE WAY: the fault on SLAVE with kheald running, WAY
# "kheal+miimon", "kheal" (miimon 0: the failover must be kheal's) or
# "warm-up" (round 0: no assertions).
kheal_round() {
	n=$1 slave=$2 way=$3 out=/tmp/kheal-$1.gap
	use "$slave"
	[ "$way" = warm-up ] || is "$(active)" "$slave" "round $n: bond0 uses $slave"
	last=$(khealctl -j incidents | json_get id | sort -n | tail -n 1)
	fault "$slave" "$out"
	ev=$(event "$slave" down)
	retry 20 incident_after "netdev:$slave" "${last:-0}" ||
		diag "no incident on netdev:$slave done after $last"
	inc=$(incident_after "netdev:$slave" "${last:-0}")
	khealctl -j incident show "${inc:-0}" >/tmp/incident-$n.json 2>&1
	json=$(cat /tmp/incident-$n.json)
	if printf '%s\n' "$json" | grep -q '"name":"bond.failover"[^}]*already uses'; then
		who="miimon's (bond.failover found it done)"
	else
		who="kheal's"
	fi
	steps=$(printf '%s\n' "$json" |
		grep -oE '"name":"(netdev.down|bond.failover)"[^}]*"duration_ms":[0-9]+' |
		sed 's/"name":"\([^"]*\)".*"duration_ms":\([0-9]*\)/\1 \2 ms/' |
		tr '\n' ';' | sed 's/;$//; s/;/, /g')
	timing "$way" "$n" "$slave" "$out" "$(printf '%s\n' "$ev" | json_get time_ns)" \
		"$steps" "$who"
	[ "$way" = warm-up ] && return

	like "$ev" '"severity":"error".*"detail":"carrier down, slave of bond bond0"' \
		"round $n: kheal.ko reports netdev_carrier for $slave, a slave of bond0"
	like "$json" '"outcome":"recovered"' "round $n: incident $inc is resolved"
	like "$json" "\"subsystem\":\"netdev:$slave\".*\"runbook\":\"netdev-bond-failover\"" \
		"round $n: on netdev:$slave, by netdev-bond-failover"
	like "$json" '"name":"bond.failover"[^}]*"result":"ok"' \
		"round $n: bond.failover ran"
	like "$json" '"name":"netdev.down"[^}]*"result":"ok"' \
		"round $n: netdev.down ran"
	like "$json" '"phase":"verify"[^}]*"name":"bond.active_ok"[^}]*"result":"ok"' \
		"round $n: bond.active_ok verified it"
	now=$(active)
	ok "round $n: bond0 now uses $now, which is up" \
		sh -c "[ '$now' != '$slave' ] && [ -n '$now' ] &&
			[ \$((\$(cat /sys/class/net/$now/flags) & 1)) = 1 ]"
	! is_up "$slave"
	ok $? "round $n: $slave is down: isolated"
	ping_kept "$out" "round $n"
	[ "$way" != kheal ] ||
		is "$who" "kheal's" "round $n: with miimon 0, the failover was kheal's"
}

# miimon_round N SLAVE: the same fault, kheald stopped.
miimon_round() {
	n=$1 slave=$2 out=/tmp/miimon-$1.gap
	use "$slave"
	is "$(active)" "$slave" "miimon round $n: bond0 uses $slave"
	fault "$slave" "$out"
	ev=$(event "$slave" down)
	isnt "$(active)" "$slave" "miimon round $n: miimon switched bond0 away from $slave"
	ok "miimon round $n: nobody took $slave down" is_up "$slave"
	ping_kept "$out" "miimon round $n"
	timing miimon "$n" "$slave" "$out" "$(printf '%s\n' "$ev" | json_get time_ns)"
}

# max_bonds=0: no bond0 of the module's own; setup makes it.
modprobe bonding max_bonds=0 || bail_out "cannot load bonding"
for m in veth bridge; do
	modprobe $m || bail_out "cannot load $m"
done
setup || bail_out "cannot build the bond and the peer namespace"
load_kheal
khealctl -j status >/tmp/status.json
like "$(cat /tmp/status.json)" '"name":"netdev_carrier","active":true' \
	"the netdev_carrier detector is active"
like "$(cat /tmp/status.json)" '"name":"netdev_tx_timeout","active":true' \
	"the netdev_tx_timeout detector is active"
start_agent --profile autonomous
like "$(khealctl runbooks list 2>&1)" "netdev-bond-failover" \
	"kheald loaded netdev-bond-failover"
: >/tmp/summary

kheal_round 0 veth-c warm-up
restore veth-c
# A restart forgets the runbook's cooldown on veth-c.
stop_agent
start_agent --profile autonomous

# kheal on top of miimon: whichever comes first fails the bond over.
n=1
for s in $SLAVES; do
	kheal_round $n "$s" kheal+miimon
	restore "$s"
	n=$((n + 1))
done
# veth-c's loss in round 3: taken in the notifier, so with the driver's
# counters, which hold the pings it carried as the active slave.
ev=$(event veth-c down)
cp=$(printf '%s\n' "$ev" | json_get checkpoint_id)
cmp_ge "${cp:-0}" 1 "veth-c's carrier loss names a checkpoint"
khealctl checkpoint "${cp:-0}" >/tmp/cp.txt 2>&1
diag "$(sed -n '/^netdev:$/,/^kernel log/p' /tmp/cp.txt)"
like "$(cat /tmp/cp.txt)" '^  veth-c ifindex [0-9]+ \(veth\), master bond0 \(bond\)$' \
	"the checkpoint names the device, its kind and its master"
like "$(cat /tmp/cp.txt)" '^  operstate [a-z]+, carrier off, mtu 1500$' \
	"the checkpoint has its carrier off"
like "$(cat /tmp/cp.txt)" '^  flags 0x[0-9a-f]+ <UP,.*,SLAVE,' \
	"the checkpoint has its flags"
like "$(cat /tmp/cp.txt)" '^  tx: packets [1-9][0-9]* bytes [1-9][0-9]* errors [0-9]+ dropped [0-9]+$' \
	"the checkpoint has the pings it sent"
like "$(cat /tmp/cp.txt)" '^  rx: packets [0-9]+ bytes [0-9]+ errors [0-9]+ dropped [0-9]+$' \
	"the checkpoint has its rx counters"
like "$(cat /tmp/cp.txt)" '^  tx_timeout 0, TX queues [0-9]+$' \
	"the checkpoint has its TX timeouts"

wait_for 10 "veth-a back: kheal.ko reports its carrier up (info)" \
	sh -c "khealctl -j events --kernel | grep '\"dev\":\"veth-a\"' |
		grep '\"severity\":\"info\"' | grep -q 'carrier up, slave of bond bond0'"

# kheal alone.
$IP link set bond0 type bond miimon 0
stop_agent
start_agent --profile autonomous
for s in $SLAVES; do
	kheal_round $n "$s" kheal
	restore "$s"
	n=$((n + 1))
done
$IP link set bond0 type bond miimon 100
stop_agent
ok "khealctl journal verify passes" khealctl journal verify

# miimon alone.
n=1
for s in $SLAVES; do
	miimon_round $n "$s"
	restore "$s"
	n=$((n + 1))
done

diag "timing: side by side, ms from the fault (the kernel had taken the peer down);" \
	"timing: ping gap: the longest time without an answer across the fault, pings every 10 ms:"
awk '{ printf "timing:   %-12s round %s %-6s detection %6s  failover %6s  verified %6s  ping gap %6s\n",
	$1, $2, $3, $4, $5, $6, $7 }' /tmp/summary | while read -r l; do diag "$l"; done
awk '{ n[$1]++; f[$1] += $5; g[$1] += $7; if (!($1 in o)) o[$1] = ++k }
	END { for (w in o) printf "%d timing:   %-12s mean of %d: failover %6.1f ms, ping gap %6.1f ms\n",
		o[w], w, n[w], f[w] / n[w], g[w] / n[w] }' /tmp/summary |
	sort -n | cut -d' ' -f2- | while read -r l; do diag "$l"; done

# Unloading while a slave's carrier flaps and events are in flight.
( i=0; while [ $i -lt 200 ]; do
	$IP -n peer link set peer-a down; $IP -n peer link set peer-a up
	i=$((i + 1)); done ) >/dev/null 2>&1 &
flap=$!
sleep 1
ok "rmmod while a carrier flaps" retry 10 rmmod kheal
load_kheal
sleep 1
ok "rmmod again, the flapping goes on" retry 10 rmmod kheal
kill $flap 2>/dev/null
wait $flap 2>/dev/null
ok "the module is gone" sh -c '! grep -q "^kheal " /proc/modules'

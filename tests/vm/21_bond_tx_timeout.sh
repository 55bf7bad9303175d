#!/bin/sh
# A bond slave that stops transmitting with its carrier up: the case
# miimon cannot see. bond0 (active-backup, miimon 100) over two virtio-net
# NICs, nic-a and nic-b; each is wired through a qemu hub to a NIC of its
# own in netns "peer", where a bridge answers 10.9.0.2. The fault: the
# peer of the active slave stops taking packets (admin down: its driver
# no longer refills its receive ring). Once that ring is full, qemu stops
# taking nic-a's frames, nic-a's transmit ring fills, its queue stops, and
# the TX watchdog reports a real timeout (net:net_dev_xmit_timeout) about
# 5 s later. nic-a keeps its carrier all along, so miimon keeps the bond
# on it. kheal.ko reports netdev_tx_timeout, its checkpoint holding the
# stopped queue (not the driver's counters: the watchdog is a timer);
# kheald (profile autonomous)
# runs netdev-bond-failover: bond0 moves to nic-b and nic-a is taken down;
# the ping answers again. Then the same fault with kheald stopped: the
# bond stays on nic-a and the ping stays dead.
# timeout: 600
# modules: virtio_pci virtio_net bonding bridge
# binaries: ip
# qemu: -netdev hubport,id=ha,hubid=1 -device virtio-net-pci,netdev=ha,mac=52:54:00:6b:00:0a
# qemu: -netdev hubport,id=pa,hubid=1 -device virtio-net-pci,netdev=pa,mac=52:54:00:6b:00:1a
# qemu: -netdev hubport,id=hb,hubid=2 -device virtio-net-pci,netdev=hb,mac=52:54:00:6b:00:0b
# qemu: -netdev hubport,id=pb,hubid=2 -device virtio-net-pci,netdev=pb,mac=52:54:00:6b:00:1b
. /kheal/tests/lib.sh
. /kheal/tests/kheal.sh
plan 20

IP=/usr/local/bin/ip
BOND=/sys/class/net/bond0/bonding
PEER=10.9.0.2

active() { cat $BOND/active_slave; }
is_up() { [ $(($(cat "/sys/class/net/$1/flags") & 1)) = 1 ]; }
mii_up() {
	grep -A1 "^Slave Interface: $1\$" /proc/net/bonding/bond0 |
		grep -q "MII Status: up"
}
val() { tail -n 1 "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
ms() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || b == "" || a == 0 || b == 0) print "-"
		else printf "%.1f", (b - a) / 1e6 }'
}
# tx_timeouts DEV: kheal.ko's netdev_tx_timeout events for DEV.
tx_timeouts() {
	khealctl -j events --kernel | grep '"kind":"netdev_tx_timeout"' |
		grep "\"dev\":\"$1\""
}

# The NIC whose MAC ends in $1, renamed $2.
nic() {
	for d in /sys/class/net/*; do
		[ -f "$d/address" ] || continue
		case "$(cat "$d/address")" in
		*"$1") $IP link set "${d##*/}" name "$2" && return 0 ;;
		esac
	done
	return 1
}

setup() {
	nic 00:0a nic-a && nic 00:0b nic-b && nic 00:1a peer-a &&
	nic 00:1b peer-b &&
	$IP netns add peer &&
	$IP link set peer-a netns peer && $IP link set peer-b netns peer &&
	$IP -n peer link set lo up &&
	$IP -n peer link add br0 type bridge &&
	$IP -n peer link set peer-a master br0 &&
	$IP -n peer link set peer-b master br0 &&
	$IP -n peer link set peer-a up && $IP -n peer link set peer-b up &&
	$IP -n peer link set br0 up &&
	$IP -n peer addr add $PEER/24 dev br0 &&
	$IP link add bond0 type bond mode active-backup miimon 100 &&
	$IP link set nic-a master bond0 && $IP link set nic-b master bond0 &&
	$IP link set bond0 up &&
	$IP link set nic-a up && $IP link set nic-b up &&
	$IP addr add 10.9.0.1/24 dev bond0 &&
	retry 10 mii_up nic-a && retry 10 mii_up nic-b &&
	$IP link set bond0 type bond active_slave nic-a
}

# stall OUT SECONDS: pings across the bond; pinggap takes nic-a's peer
# down 1 s after the first answer (the onset); waits up to SECONDS for the
# bond to leave nic-a, then 2 s more.
stall() {
	pinggap -f peer:peer-a -s nic-a -b bond0 -j "$KHEAL_JOURNAL" $PEER >"$1" &
	_pg=$!
	retry 10 grep -q fault "$1" ||
		bail_out "pinggap did not cause the fault: $(cat "$1")"
	retry "$2" sh -c "[ \"\$(cat $BOND/active_slave)\" != nic-a ]"
	sleep 2
	kill -INT $_pg
	wait $_pg
	diag "pinggap: $(tail -n 1 "$1")"
}

modprobe bonding max_bonds=0 || bail_out "cannot load bonding"
for m in virtio_pci virtio_net bridge; do
	modprobe $m || bail_out "cannot load $m"
done
setup || bail_out "cannot build the bond over the virtio NICs"
load_kheal
start_agent --profile autonomous

stall /tmp/kheal.gap 40
onset=$(val onset_end_ns /tmp/kheal.gap)
ev=$(tx_timeouts nic-a | head -n 1)
diag "event: $ev"
like "$ev" '"severity":"error".*"queue":0.*"detail":"TX queue 0 timed out, slave of bond bond0"' \
	"kheal.ko reports netdev_tx_timeout for nic-a, queue 0, a slave of bond0"
cp=$(printf '%s\n' "$ev" | json_get checkpoint_id)
khealctl checkpoint "${cp:-0}" >/tmp/cp.txt 2>&1
diag "$(sed -n '/^netdev:$/,/^kernel log/p' /tmp/cp.txt)"
like "$(cat /tmp/cp.txt)" '^  nic-a ifindex [0-9]+ \(virtio_net\), master bond0 \(bond\)$' \
	"its checkpoint names nic-a, its driver and its master"
like "$(cat /tmp/cp.txt)" '^  tx queue 0: stopped by the driver, last transmit [0-9]+ ms ago, tx_timeout [1-9]' \
	"and has queue 0 stopped by the driver, timed out"
like "$(cat /tmp/cp.txt)" '^  driver counters: not read in this context$' \
	"and not the driver's counters, in the watchdog timer"
is "$(khealctl -j events --kernel | grep '"kind":"netdev_carrier"' | grep -c '"dev":"nic-a"')" 0 \
	"nic-a never lost its carrier"
wait_for 20 "the incident is resolved" \
	sh -c "khealctl -j incident show 1 | grep -q '\"outcome\":\"recovered\"'"
khealctl -j incident show 1 >/tmp/incident.json 2>&1
json=$(cat /tmp/incident.json)
like "$json" '"subsystem":"netdev:nic-a".*"runbook":"netdev-bond-failover"' \
	"on netdev:nic-a, by netdev-bond-failover"
like "$json" '"rule":"netdev".*stopped transmitting' \
	"diagnosed: nic-a stopped transmitting"
like "$json" '"name":"bond.failover"[^}]*"result":"ok"' "bond.failover ran"
unlike "$json" '"name":"bond.failover"[^}]*already uses' \
	"and did the failover itself: miimon had not"
like "$json" '"name":"netdev.down"[^}]*"result":"ok"' "netdev.down ran"
like "$json" '"phase":"verify"[^}]*"result":"ok"' "bond.active_ok verified it"
is "$(active)" nic-b "bond0 now uses nic-b"
! is_up nic-a
ok $? "nic-a is down: isolated"
to=$(val gap_to_ns /tmp/kheal.gap)
ok "the ping answers again (gap $(val gap_ms /tmp/kheal.gap) ms)" \
	sh -c "[ ${to:-0} -gt $onset ]"
t_ev=$(printf '%s\n' "$ev" | json_get time_ns)
diag "timing: kheal  (TX stall): onset->TX timeout detected $(ms "$onset" "$t_ev") ms, ->failover $(ms "$onset" "$(val active_ns /tmp/kheal.gap)") ms (detection->failover $(ms "$t_ev" "$(val active_ns /tmp/kheal.gap)") ms), ->verified and journalled $(ms "$onset" "$(val journal_ns /tmp/kheal.gap)") ms; ping gap $(val gap_ms /tmp/kheal.gap) ms"

# The same fault with only miimon watching.
stop_agent
$IP -n peer link set peer-a up
$IP link set nic-a up
retry 10 mii_up nic-a || diag "the bond does not see nic-a up again"
$IP link set bond0 type bond active_slave nic-a
before=$(tx_timeouts nic-a | wc -l)
stall /tmp/miimon.gap 30
onset=$(val onset_end_ns /tmp/miimon.gap)
is "$(active)" nic-a "miimon alone: bond0 still uses nic-a 30 s after the fault"
is "$(cat /sys/class/net/nic-a/carrier)" 1 "nic-a still has its carrier"
last=$(val last_ns /tmp/miimon.gap)
ok "miimon alone: no answer in the 30 s after the fault" \
	sh -c "[ ${last:-0} -gt 0 ] && [ ${last:-0} -lt $((onset + 200000000)) ]"
cmp_ge "$(tx_timeouts nic-a | wc -l)" $((before + 1)) \
	"kheal.ko reported the TX timeout again, with nobody acting on it"
ev=$(tx_timeouts nic-a | sed -n "$((before + 1))p")
diag "timing: miimon (TX stall): onset->TX timeout detected by kheal.ko $(ms "$onset" "$(printf '%s\n' "$ev" | json_get time_ns)") ms; no failover in 30 s; last answer $(ms "$onset" "$last") ms after the onset, none in the $(ms "$onset" "$(pinggap -n)") ms since"
ok "khealctl journal verify passes" khealctl journal verify

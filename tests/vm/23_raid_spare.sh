#!/bin/sh
# Scenario 4, storage failover to a spare: md0 is a RAID1 of dm-flakey
# over loop0 and of loop1, with loop2 as its spare, holding an ext4
# filesystem with a file whose checksum is recorded. The flakey member
# starts failing writes (dm-flakey error_writes), and a write to the
# filesystem hits it. kheal.ko reports block_io_error on the dm device,
# "md member (raid1)", with a checkpoint of the device's I/O counters;
# kheald (profile autonomous) runs md-member-failing:
# marks the member faulty, gets md0 recovering onto the spare, and
# verifies the resync finished. Checked from outside kheal: /proc/mdstat
# shows the member faulty and the spare active, nothing recovering, and
# the file reads back (caches dropped) with the same checksum.
# timeout: 600
# modules: loop dm-flakey raid1 ext4
# binaries: mdadm dmsetup mkfs.ext4
. /kheal/tests/lib.sh
. /kheal/tests/kheal.sh
plan 19

mb=32
sectors=$((mb * 2048))
mnt=/mnt/md

for m in loop dm-flakey raid1 ext4; do
	modprobe "$m" || bail_out "cannot load $m"
done
mkdir -p /tmp/disks "$mnt"
for i in 0 1 2; do
	dd if=/dev/zero of=/tmp/disks/d$i bs=1M count=$mb 2>/dev/null
	losetup /dev/loop$i /tmp/disks/d$i || bail_out "losetup loop$i"
done
dmsetup create --noudevsync flaky \
	--table "0 $sectors flakey /dev/loop0 0 3600 0" ||
	bail_out "dmsetup create"
# Without udev there is no /dev/mapper/flaky; devtmpfs has /dev/dm-N.
dm=$(ls /sys/block/loop0/holders)
diag "the flakey member is $dm"

mdadm --create /dev/md0 --run --quiet --level=1 --raid-devices=2 \
	--bitmap=none --assume-clean /dev/$dm /dev/loop1 \
	--spare-devices=1 /dev/loop2 || bail_out "mdadm --create"
mkfs.ext4 -q -F /dev/md0 || bail_out "mkfs.ext4"
mount -t ext4 /dev/md0 "$mnt" || bail_out "mount"
dd if=/dev/urandom of=$mnt/data bs=1M count=4 2>/dev/null
sync
sum=$(sha256sum <$mnt/data)
diag "$(cat /proc/mdstat)"

load_kheal
start_agent --profile autonomous

# The member fails every write from now on; reads still work.
t0=$(uptime_ms)
dmsetup suspend --noudevsync flaky
dmsetup reload --noudevsync flaky \
	--table "0 $sectors flakey /dev/loop0 0 0 3600 1 error_writes"
dmsetup resume --noudevsync flaky
# The journal's times are the event's (replay is deterministic), so the
# first sight of the incident past "open" (a runbook's steps have run)
# times the action, to within a poll.
(while ! khealctl -j incidents 2>/dev/null |
	grep -Eq '"state":"(acting|resolved|escalated)"'; do
	sleep 0.05
done; uptime_ms >/tmp/acted) &
dd if=/dev/urandom of=$mnt/after bs=64k count=4 conv=fsync 2>/dev/null

wait_for 30 "kheal.ko reports block_io_error on $dm as an md member" \
	sh -c "khealctl -j events | grep '\"kind\":\"block_io_error\"' |
		grep '\"dev\":\"$dm\"' | grep -q 'md member ('"
detected=$(($(khealctl -j events | grep '"kind":"block_io_error"' |
	grep "\"dev\":\"$dm\"" | head -n 1 | json_get time_ns) / 1000000))
ev=$(khealctl -j events --kernel | grep '"kind":"block_io_error"' |
	grep "\"dev\":\"$dm\"" | head -n 1)
cp=$(printf '%s\n' "$ev" | json_get checkpoint_id)
cmp_ge "${cp:-0}" 1 "the block_io_error event names a checkpoint"
khealctl checkpoint "${cp:-0}" >/tmp/cp.txt 2>&1
diag "$(sed -n '/^block device:$/,/^kernel log/p' /tmp/cp.txt)"
like "$(cat /tmp/cp.txt)" '^block device:$' "the checkpoint has a block device"
like "$(cat /tmp/cp.txt)" "^  $dm: $sectors sectors \\($mb MiB\\), bio-based, read-write\$" \
	"it names $dm with its capacity"
like "$(cat /tmp/cp.txt)" '^  read +ios [1-9][0-9]* merges [0-9]+ sectors [1-9][0-9]* ticks [0-9]+ ms$' \
	"it has $dm's reads"
like "$(cat /tmp/cp.txt)" '^  write +ios [1-9][0-9]* merges [0-9]+ sectors [1-9][0-9]* ticks [0-9]+ ms$' \
	"it has $dm's writes"
like "$(cat /tmp/cp.txt)" '^  in flight [0-9]+ \(read [0-9]+, write [0-9]+\), busy [0-9]+ ms$' \
	"it has the I/O in flight"
wait_for 300 "the incident is resolved" \
	sh -c "khealctl -j incidents | grep -q '\"state\":\"resolved\"'" ||
	brain_diag
t1=$(uptime_ms)

diag "$(cat /proc/mdstat)"
like "$(cat /proc/mdstat)" "$dm\\[[0-9]\\]\\(F\\)" \
	"/proc/mdstat shows $dm faulty"
unlike "$(cat /proc/mdstat)" "loop2\\[[0-9]\\]\\(S\\)" \
	"loop2 is no longer a spare"
like "$(cat /sys/block/md0/md/dev-loop2/state)" "in_sync" \
	"loop2 is an in-sync member"
is "$(cat /sys/block/md0/md/degraded)" 0 "md0 is not degraded"
is "$(cat /sys/block/md0/md/sync_action)" idle "the resync finished"
unlike "$(cat /proc/mdstat)" "recovery|resync" "nothing is recovering"
sync
echo 3 >/proc/sys/vm/drop_caches
is "$(sha256sum <$mnt/data)" "$sum" \
	"the file written before the fault reads back the same"

khealctl -j incident show 1 >/tmp/incident.json
like "$(cat /tmp/incident.json)" \
	'"name":"md.fail_member"[^}]*"result":"ok"' "md.fail_member ran"
like "$(cat /tmp/incident.json)" \
	'"phase":"verify","index":0,"name":"md.resynced"[^}]*"result":"ok"' \
	"md.resynced verified it"
khealctl incident show 1 | grep -E 'md\.|fs\.|escalat|verif|detail' |
	cut -c1-300 | while read -r l; do diag "$l"; done
acted=$(cat /tmp/acted 2>/dev/null)

umount "$mnt"
mdadm --stop /dev/md0 >/dev/null 2>&1
stop_agent
ok "khealctl journal verify passes" khealctl journal verify
ok "kheal.ko unloads" rmmod kheal
diag "timing: scenario=raid-spare onset_to_detect_ms=$((detected - t0)) to_action_ms=$((${acted:-$t0} - t0)) to_verified_ms=$((t1 - t0))"

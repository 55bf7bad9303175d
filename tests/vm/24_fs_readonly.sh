#!/bin/sh
# Scenario 4, a filesystem on a single failing device: ext4 on dm-flakey
# over loop0, with nothing to fail over to. The device starts failing
# writes (dm-flakey error_writes) and a direct write to a file hits it.
# kheal.ko reports block_io_error on the dm device; it is no md member, so
# kheald (profile autonomous) runs fs-device-failing: remounts the
# filesystem read-only (isolates it), verifies it is, and escalates.
# Checked from outside kheal: /proc/mounts shows the mount ro, a write to
# it fails, the file written before the fault still reads back the same,
# and the incident is escalated with block:DEV escalated too.
# timeout: 300
# modules: loop dm-flakey ext4
# binaries: dmsetup mkfs.ext4
. /kheal/tests/lib.sh
. /kheal/tests/kheal.sh
plan 10

mb=32
sectors=$((mb * 2048))
mnt=/mnt/fs

for m in loop dm-flakey ext4; do
	modprobe "$m" || bail_out "cannot load $m"
done
mkdir -p /tmp/disks "$mnt"
dd if=/dev/zero of=/tmp/disks/d0 bs=1M count=$mb 2>/dev/null
losetup /dev/loop0 /tmp/disks/d0 || bail_out "losetup loop0"
dmsetup create --noudevsync flaky \
	--table "0 $sectors flakey /dev/loop0 0 3600 0" ||
	bail_out "dmsetup create"
# Without udev there is no /dev/mapper/flaky; devtmpfs has /dev/dm-N.
dm=$(ls /sys/block/loop0/holders)
mkfs.ext4 -q -F /dev/$dm || bail_out "mkfs.ext4"
mount -t ext4 /dev/$dm "$mnt" || bail_out "mount"
dd if=/dev/urandom of=$mnt/data bs=64k count=16 2>/dev/null
sync
sum=$(sha256sum <$mnt/data)

load_kheal
start_agent --profile autonomous

t0=$(uptime_ms)
(while ! khealctl -j incidents 2>/dev/null |
	grep -Eq '"state":"(acting|resolved|escalated)"'; do
	sleep 0.05
done; uptime_ms >/tmp/acted) &
dmsetup suspend --noudevsync flaky
dmsetup reload --noudevsync flaky \
	--table "0 $sectors flakey /dev/loop0 0 0 3600 1 error_writes"
dmsetup resume --noudevsync flaky
# Overwrites data blocks in place: the error reaches the writer, not the
# journal, so ext4 itself has no reason to go read-only.
dd if=/dev/urandom of=$mnt/data bs=4k count=1 conv=notrunc oflag=direct \
	2>/dev/null
is $? 1 "a direct write to the failing device fails"

wait_for 30 "kheal.ko reports block_io_error on $dm" \
	sh -c "khealctl -j events | grep '\"kind\":\"block_io_error\"' |
		grep -q '\"dev\":\"$dm\"'"
detected=$(($(khealctl -j events | grep '"kind":"block_io_error"' |
	grep "\"dev\":\"$dm\"" | head -n 1 | json_get time_ns) / 1000000))
wait_for 60 "the incident is escalated" \
	sh -c "khealctl -j incidents | grep -q '\"state\":\"escalated\"'" ||
	brain_diag
t1=$(uptime_ms)

like "$(grep " $mnt " /proc/mounts)" " ro[ ,]" "/proc/mounts shows $mnt ro"
! sh -c "echo x >$mnt/new" 2>/dev/null
is $? 0 "a new file cannot be written"
is "$(sha256sum <$mnt/data)" "$sum" \
	"the file written before the fault reads back the same"

khealctl -j incident show 1 >/tmp/incident.json
like "$(cat /tmp/incident.json)" \
	'"name":"fs.remount_ro"[^}]*"result":"ok"' "fs.remount_ro ran"
like "$(cat /tmp/incident.json)" \
	'"phase":"verify","index":0,"name":"fs.readonly"[^}]*"result":"ok"' \
	"fs.readonly verified it"
like "$(khealctl -j subsystems)" "\"block:$dm\"[^}]*\"escalated\"" \
	"block:$dm is escalated"
khealctl incident show 1 | grep -E 'md\.|fs\.|escalat|verif|detail' |
	cut -c1-300 | while read -r l; do diag "$l"; done
acted=$(cat /tmp/acted 2>/dev/null)

umount "$mnt"
stop_agent
ok "khealctl journal verify passes" khealctl journal verify
diag "timing: scenario=fs-readonly onset_to_detect_ms=$((detected - t0)) to_action_ms=$((${acted:-$t0} - t0)) to_verified_ms=$((t1 - t0))"

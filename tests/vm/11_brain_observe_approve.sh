#!/bin/sh
# Profile observe never acts alone. The same hung service as in 10: the
# incident is diagnosed and its runbook chosen, but it waits as a pending
# approval and /svc is left as it is; `khealctl approve` (root) runs it:
# the cgroup is killed and what was recorded of the service restarted.
# A user outside group kheal cannot read the brain, a member can read but
# not approve.
# timeout: 300
# modules: fuse
# binaries: tests/bpf/kheal-trigger
. /kheal/tests/lib.sh
. /kheal/tests/kheal.sh
plan 14

cg=/sys/fs/cgroup/svc
mnt=/tmp/fuse

modprobe fuse || bail_out "cannot load fuse"
load_kheal hung_ms=1000
start_agent --profile observe
svc_hang "$cg" "$mnt"
wait_for 60 "the incident waits for approval" \
	sh -c "khealctl -j incidents | grep -q '\"state\":\"awaiting_approval\"'" ||
	brain_diag
khealctl -j approvals >/tmp/approvals.json
diag "$(cat /tmp/approvals.json)"
id=$(json_get id </tmp/approvals.json)
like "$(cat /tmp/approvals.json)" '"state":"pending"' "an approval is pending"
like "$(cat /tmp/approvals.json)" '"runbook":"hung-task-in-cgroup"' \
	"for hung-task-in-cgroup"
sleep 3
isnt "$(cat $cg/cgroup.procs)" "" "nothing was done: $cg still has its tasks"
is "$(khealctl -j journal | grep '"type":"action"' | grep -c '"phase":"step"')" 0 \
	"no step was journalled"

# The socket lets group kheal in; nobody else.
runas 65534 65534 khealctl approvals >/tmp/nobody.out 2>&1
isnt $? 0 "a user outside group kheal cannot read the approvals"
diag "$(cat /tmp/nobody.out)"
runas 65534 990 khealctl approvals >/dev/null 2>&1
is $? 0 "a member of group kheal can"
runas 65534 990 khealctl approve "$id" >/tmp/member.out 2>&1
isnt $? 0 "but cannot approve"
like "$(cat /tmp/member.out)" "root" "and is told approving needs root"

khealctl approve "$id" >/tmp/approve.out 2>&1
is $? 0 "root approves $id"
diag "$(cat /tmp/approve.out)"
wait_for 60 "the incident is resolved" \
	sh -c "khealctl -j incidents | grep -q '\"state\":\"resolved\"'" ||
	brain_diag
new=$(cat $cg/cgroup.procs)
like "$(tr '\0' ' ' </proc/$new/cmdline 2>/dev/null)" \
	"^kheal-trigger write-hang $mnt/hang-write svc-[ab] \$" \
	"$cg was killed and holds only the restarted writer"
echo 1 >$cg/cgroup.kill
svc_release "$mnt"
like "$(khealctl -j incident show 1)" '"outcome":"recovered"' \
	"the outcome is recovered"

stop_agent
ok "khealctl journal verify passes" khealctl journal verify
golden hung-cgroup-observe-approve --profile observe

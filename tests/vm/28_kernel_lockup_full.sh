#!/bin/sh
# Scenario 5, profile full: the lockup of 27_kernel_lockup.sh, and this
# time runbook kernel-lockup runs whole: the evidence escalated, then
# host.reboot writes /run/kheal/reboot-requested (incident and reason)
# for a fleet-locked rebooter. kheal itself reboots nothing: the VM is
# still up, with the same boot id, at the end.
# timeout: 300
# cmdline: watchdog_thresh=3 rcupdate.rcu_cpu_stall_timeout=5
# kernel-log-allow: BUG: soft lockup
# kernel-log-allow: rcu: INFO: .*(self-)?detected stall
. /kheal/tests/lib.sh
. /kheal/tests/kheal.sh
. /kheal/tests/lockup.sh
plan 15

REBOOT=/run/kheal/reboot-requested
boot=$(cat /proc/sys/kernel/random/boot_id)
load_kheal allow_inject=1
start_agent --profile full --kmsg
lockup_inject 25000

lockup_detected
wait_for 60 "the reboot request is written" test -s "$REBOOT"
diag "$(cat "$REBOOT")"
like "$(cat "$REBOOT")" '^incident=[1-9][0-9]*$' "it names the incident"
like "$(cat "$REBOOT")" '^reason=(rcu_stall|soft_lockup): ' "and the reason"
khealctl -j journal >/tmp/journal.json
like "$(grep '"type":"action"' /tmp/journal.json | grep '"name":"host.reboot"')" \
	'"result":"ok"' "the journal records the host.reboot action"
is "$(khealctl -j approvals | grep -c '"state":"pending"')" 0 \
	"nothing waits for approval"
diag "timing: $(lockup_figures)"
is "$(cat /proc/sys/kernel/random/boot_id)" "$boot" "nothing rebooted"
lockup_done

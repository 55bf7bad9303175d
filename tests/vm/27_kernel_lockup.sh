#!/bin/sh
# Scenario 5, profile autonomous: a kthread spins with preemption off on
# CPU 1 for 25 s (khealctl inject lockup). kheal.ko's probe on
# rcu:rcu_stall_warning reports the RCU stall with a checkpoint, kheald's
# kernel log rules (--kmsg) the soft lockup; runbook kernel-lockup
# escalates with the evidence at once, but its reboot request (risk high)
# waits for approval: no request is written, nothing reboots. Each RCU
# stall report touches the soft-lockup watchdog (its stack dumps do), so
# the lockup outlasts the first report by two soft-lockup thresholds.
# timeout: 300
# cmdline: watchdog_thresh=3 rcupdate.rcu_cpu_stall_timeout=5
# kernel-log-allow: BUG: soft lockup
# kernel-log-allow: rcu: INFO: .*(self-)?detected stall
. /kheal/tests/lib.sh
. /kheal/tests/kheal.sh
. /kheal/tests/lockup.sh
plan 14

REBOOT=/run/kheal/reboot-requested
load_kheal allow_inject=1
start_agent --profile autonomous --kmsg
lockup_inject 25000

lockup_detected
wait_for 60 "the incident waits for approval" \
	sh -c "khealctl -j incidents | grep -q '\"state\":\"awaiting_approval\"'"
khealctl -j journal >/tmp/journal.json
like "$(grep '"type":"action"' /tmp/journal.json | grep '"name":"escalate"')" \
	'"result":"ok"' "the evidence was escalated without approval"
khealctl -j approvals >/tmp/approvals.json
diag "$(cat /tmp/approvals.json)"
like "$(cat /tmp/approvals.json)" '"runbook":"kernel-lockup".*"state":"pending"|"state":"pending".*"runbook":"kernel-lockup"' \
	"the reboot request waits for approval"
is "$(grep '"type":"action"' /tmp/journal.json | grep -c '"name":"host.reboot"')" 0 \
	"no reboot was requested"
ok "no reboot request file" test ! -e "$REBOOT"
diag "timing: $(lockup_figures)"
lockup_done

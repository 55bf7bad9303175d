#!/bin/sh
# The brain end to end on a real hung task. A "service" in cgroup /svc
# gets a task stuck in D state (two writers on a FUSE file whose server
# stops answering: one holds i_rwsem while it waits for its WRITE, the
# other sleeps in down_write()). kheal.ko reports it; kheald, profile
# autonomous, opens an incident, diagnoses it at 0.9 (it knows where the
# task waits), and runs the shipped runbook hung-task-in-cgroup: freeze
# /svc (tasks in D state cannot freeze; the step says so and goes on),
# kill it, thaw it, start again what it recorded of the service (the
# writer that was not in D state), verify it runs. Checked from outside
# kheal: both writers died of SIGKILL, the cgroup is thawed and holds
# only the restarted writer. Then the task is healthy again and
# `khealctl journal verify` passes.
# timeout: 300
# modules: fuse
# binaries: tests/bpf/kheal-trigger
. /kheal/tests/lib.sh
. /kheal/tests/kheal.sh
plan 20

cg=/sys/fs/cgroup/svc
mnt=/tmp/fuse

# incident_json: the first incident, as khealctl shows it.
incident_json() {
	khealctl -j incident show 1 >/tmp/incident.json 2>/tmp/incident.err
}

modprobe fuse || bail_out "cannot load fuse"
load_kheal hung_ms=1000
start_agent --profile autonomous
wait_for 10 "kheald loads the shipped runbooks" \
	grep -q "profile autonomous, [1-9][0-9]* runbooks from /etc/kheal/runbooks.d" \
	"$KHEAL_ERR"
t0=$(uptime_ms)
svc_hang "$cg" "$mnt"
diag "svc-a pid $SVC_A, svc-b pid $SVC_B in $cg"

wait_for 30 "kheal.ko reports a hung task in /svc" \
	sh -c "khealctl -j events | grep '\"kind\":\"hung_task\"' |
		grep -q '\"cgroup_path\":\"/svc\"'"
hung=$(khealctl -j events | grep '"kind":"hung_task"' | json_get pid)
diag "hung task: pid $hung"
wait_for 60 "the incident is resolved" \
	sh -c "khealctl -j incidents | grep -q '\"state\":\"resolved\"'" ||
	brain_diag
diag "fault to resolved: $(($(uptime_ms) - t0)) ms"

# The writer waiting interruptibly (not in D state) was recorded, and is
# started again: alone now, it does not hang.
new=$(cat $cg/cgroup.procs)
like "$(tr '\0' ' ' </proc/$new/cmdline 2>/dev/null)" \
	"^kheal-trigger write-hang $mnt/hang-write svc-[ab] \$" \
	"$cg holds only the restarted writer (read from cgroup.procs)"
is "$(cat $cg/cgroup.freeze)" 0 "and is thawed"
# Whatever kheal did, nothing below may wait on a hung task.
echo 1 >$cg/cgroup.kill
svc_release "$mnt"
wait "$SVC_A"
is $? 137 "svc-a died of SIGKILL"
wait "$SVC_B"
is $? 137 "svc-b died of SIGKILL"

incident_json
ok "khealctl incident show 1 answers" test -s /tmp/incident.json
diag "$(cat /tmp/incident.json)"
like "$(cat /tmp/incident.json)" "\"subsystem\":\"task:$hung\"" \
	"the incident is on the hung task"
like "$(cat /tmp/incident.json)" '"rule":"hung-task"' \
	"diagnosed by the hung-task rule"
like "$(cat /tmp/incident.json)" '"confidence":0.9' \
	"with confidence 0.9"
like "$(cat /tmp/incident.json)" '"wchan":"' \
	"its context has the task's wchan"
like "$(cat /tmp/incident.json)" \
	'"name":"cgroup.freeze"[^}]*"result":"ok"' "cgroup.freeze ran"
like "$(cat /tmp/incident.json)" \
	'"name":"cgroup.kill"[^}]*"result":"ok"' "cgroup.kill ran"
like "$(cat /tmp/incident.json)" \
	'"phase":"verify"[^}]*"result":"ok"' "the verify held"
like "$(cat /tmp/incident.json)" '"outcome":"recovered"' \
	"the outcome is recovered"

khealctl -j subsystems >/tmp/subsystems.json
like "$(grep "\"task:$hung\"" /tmp/subsystems.json)" '"state":"healthy"' \
	"task:$hung is healthy again"
khealctl status >/tmp/status 2>&1
like "$(cat /tmp/status)" "last actions:" "status shows the last actions"
diag "$(sed -n '/^brain/,$p' /tmp/status)"

stop_agent
ok "khealctl journal verify passes" khealctl journal verify
is "$(khealctl -j journal | grep -c '"type":"action"')" \
	"$(khealctl -j journal | grep '"type":"action"' | grep -c '"incident":1')" \
	"every action journalled is the incident's"
golden hung-cgroup-autonomous --profile autonomous

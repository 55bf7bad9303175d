#!/bin/sh
# An unknown fault: a process dies of SIGSEGV (the BPF engine reports it;
# no runbook handles task_crash). kheald marks the incident novel, writes
# a draft runbook that `khealctl runbooks validate` accepts (risk high,
# matching the fault), escalates the subsystem, and takes no action.
# timeout: 240
. /kheal/tests/lib.sh
. /kheal/tests/kheal.sh
plan 10

drafts=/var/lib/kheal/drafts

load_kheal hung_ms=1000
start_agent --engine=both --profile full
wait_for 120 "the BPF probes are attached" grep -q "BPF probes: " "$KHEAL_ERR"
{
	/kheal/segv &
	segv=$!
	wait $segv
} 2>/dev/null
is $? 139 "segv died of SIGSEGV"
wait_for 30 "the incident is novel" \
	sh -c "khealctl -j incidents | grep -q '\"state\":\"novel\"'" || brain_diag
khealctl -j incident show 1 >/tmp/incident.json
like "$(cat /tmp/incident.json)" "\"subsystem\":\"task:$segv\"" \
	"the incident is on the crashed task"
like "$(cat /tmp/incident.json)" '"decision":"novel"' "decided novel"
unlike "$(cat /tmp/incident.json)" '"phase":"step"' "no step ran"
draft=$(ls $drafts/*.yaml 2>/dev/null | head -n 1)
ok "a draft was written in $drafts" test -f "$draft"
diag "$(cat "$draft")"
ok "khealctl runbooks validate accepts the draft" khealctl runbooks validate "$draft"
like "$(cat "$draft")" 'risk: high' "the draft is risk high"
like "$(khealctl runbooks drafts)" "$(basename "$draft" .yaml)" \
	"khealctl runbooks drafts lists it"
stop_agent

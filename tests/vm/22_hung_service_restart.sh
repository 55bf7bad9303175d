#!/bin/sh
# Scenario 1, a hung service: a web server (busybox httpd) runs in its own
# cgroup /web; two of the service's tasks get stuck in D state (writers
# on a FUSE file whose server stops answering). kheal.ko reports the hung
# task; kheald (profile autonomous) runs hung-task-in-cgroup: freezes
# /web, kills it, thaws it, starts httpd again from the command line it
# recorded when the incident opened, and verifies the service answers on
# the port it listened on. Checked from outside kheal: the old httpd died
# of SIGKILL, a new one runs in /web, and an HTTP GET answers. The timing
# line gives fault onset to detection and to verified recovery.
# timeout: 300
# modules: fuse
# binaries: tests/bpf/kheal-trigger
. /kheal/tests/lib.sh
. /kheal/tests/kheal.sh
plan 12

cg=/sys/fs/cgroup/web
mnt=/tmp/fuse

# get: the body of GET / (busybox's static wget cannot resolve; nc can).
get() {
	printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 2 127.0.0.1 8080 2>/dev/null |
		sed -n '/^\r*$/,$p' | sed 1d
}

answers() {
	get | grep -q ok
}

modprobe fuse || bail_out "cannot load fuse"
load_kheal hung_ms=1000
start_agent --profile autonomous
mkdir -p /tmp/www "$cg"
echo "kheal says ok" >/tmp/www/index.html
sh -c "echo \$\$ >$cg/cgroup.procs &&
	exec httpd -f -p 127.0.0.1:8080 -h /tmp/www" &
web=$!
wait_for 10 "httpd in $cg answers" answers

t0=$(uptime_ms)
svc_hang "$cg" "$mnt"
wait_for 30 "kheal.ko reports a hung task in /web" \
	sh -c "khealctl -j events | grep '\"kind\":\"hung_task\"' |
		grep -q '\"cgroup_path\":\"/web\"'"
detected=$(($(khealctl -j events | grep '"kind":"hung_task"' |
	json_get time_ns) / 1000000))
wait_for 60 "the incident is resolved" \
	sh -c "khealctl -j incidents | grep -q '\"state\":\"resolved\"'" ||
	brain_diag
t1=$(uptime_ms)

wait "$web"
is $? 137 "the old httpd died of SIGKILL"
new=$(cat $cg/cgroup.procs)
isnt "$new" "" "a process runs in $cg again"
is "$(tr '\0' ' ' </proc/$new/cmdline 2>/dev/null)" \
	"httpd -f -p 127.0.0.1:8080 -h /tmp/www " "it is httpd, as it was started"
isnt "$new" "$web" "a new one"
is "$(get)" "kheal says ok" "the service answers"

khealctl -j incident show 1 >/tmp/incident.json
like "$(cat /tmp/incident.json)" \
	'"name":"service.restart"[^}]*"result":"ok"' "service.restart ran"
like "$(cat /tmp/incident.json)" \
	'"phase":"verify","index":0,"name":"service.ok"[^}]*"result":"ok"' \
	"service.ok verified it"
like "$(cat /tmp/incident.json)" '"listen_ports":\[8080\]' \
	"the context recorded the port it listened on"
diag "$(khealctl incident show 1 | sed -n '/^actions/,$p')"
steps=$(grep -o '"name":"[a-z.]*","args":[^]]*\],"result":"[a-z]*","duration_ms":[0-9]*' \
	/tmp/incident.json | sed 's/"name":"\([a-z.]*\)".*"duration_ms":\([0-9]*\)/\1=\2/' |
	tr '\n' ' ')
diag "timing: scenario=hung-service onset_to_detect_ms=$((detected - t0)) onset_to_verified_ms=$((t1 - t0)) steps_ms: $steps"

echo 1 >$cg/cgroup.kill
svc_release "$mnt"
stop_agent
ok "khealctl journal verify passes" khealctl journal verify

# Shared by 27_kernel_lockup.sh and 28_kernel_lockup_full.sh, sourced
# after lib.sh and kheal.sh.

# lockup_inject MS: the lockup, its onset kept in LOCKUP_T0 (uptime ms).
lockup_inject() {
	LOCKUP_MS=$1
	LOCKUP_T0=$(uptime_ms)
	LOCKUP_PID=$(khealctl -j inject lockup --ms "$1" | json_get pid)
	cmp_ge "${LOCKUP_PID:-0}" 1 "a kheal-lockup kthread spins"
}

# lockup_detected: 6 tests. Both reports arrive; the soft lockup names
# the spinning kthread; the RCU stall has a checkpoint, in the incident.
# Which CPU's tick reports the stall first is a race: the stalled one
# (SelfDetected: the checkpoint names the task) or the other (no task).
lockup_detected() {
	# First, before anything slows the poll: when the escalation shows.
	retry 60 sh -c "khealctl -j journal | grep '\"type\":\"action\"' |
		grep -q '\"name\":\"escalate\"'"
	LOCKUP_ESC=$(uptime_ms)
	wait_for 60 "the module reports the RCU stall" \
		grep -qF '"kind":"rcu_stall"' "$KHEAL_LOG"
	wait_for 60 "the kernel log rules report the soft lockup" \
		grep -qF '"kind":"soft_lockup"' "$KHEAL_LOG"
	_ev=$(grep -F '"kind":"rcu_stall"' "$KHEAL_LOG" | head -n 1)
	diag "$_ev"
	diag "$(grep -F '"kind":"soft_lockup"' "$KHEAL_LOG" | head -n 1)"
	_cp=$(printf '%s\n' "$_ev" | json_get checkpoint_id)
	cmp_ge "${_cp:-0}" 1 "the rcu_stall event names a checkpoint"
	khealctl checkpoint "$_cp" >/tmp/cp.txt 2>&1
	like "$(cat /tmp/cp.txt)" '^kernel log \(newest last\):$' \
		"the checkpoint has the kernel log"
	is "$(grep -F '"kind":"soft_lockup"' "$KHEAL_LOG" | head -n 1 |
		json_get pid)" "$LOCKUP_PID" \
		"the soft lockup names the spinning kthread"
	wait_for 30 "the incident's context has the checkpoint" \
		sh -c "khealctl incident show 1 | grep -q '^    checkpoint: '"
}

# lockup_figures: the timing figures. Detection is the first event's
# time_ns (CLOCK_BOOTTIME); escalation is when the journal was seen to
# hold the escalate action (polled every 100 ms): the brain stamps its
# records with the event's time, so theirs would say nothing new.
lockup_figures() {
	_det=$(grep -E '"kind":"(rcu_stall|soft_lockup)"' "$KHEAL_LOG" |
		json_get time_ns | sort -n | head -n 1)
	echo "scenario=kernel-lockup onset_to_detect_ms=$((_det / 1000000 - LOCKUP_T0)) to_escalated_ms=$((LOCKUP_ESC - LOCKUP_T0))"
}

# lockup_done: 2 tests. The lockup ends; the module unloads.
lockup_done() {
	wait_for 60 "the lockup ends" sh -c "! test -d /proc/$LOCKUP_PID"
	stop_agent
	ok "rmmod kheal" rmmod kheal
}

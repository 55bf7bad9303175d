# TAP helpers for the tests that run inside the kheal VM (busybox ash).
#
# A test sources this file, prints its plan first, then one assertion per
# planned test:
#
#	. /kheal/tests/lib.sh
#	plan 2
#	ok "kheal.ko loads" insmod /kheal/kheal.ko
#	is "$(cat /sys/module/kheal/initstate)" live "kheal is live"
#
# Only TAP goes to stdout: "ok N - desc", "not ok N - desc", "1..N",
# "# diagnostics". Print anything else through diag, or it may be taken for
# TAP. The counter lives in a file, so assertions made in a pipeline's
# subshell (cmd | while read l; do ok ...; done) are numbered right.

# Host programs a test stages with "# binaries:" land in /usr/local/bin;
# busybox sh would still run its own applet of the same name (ip, modinfo)
# whatever PATH says, but a function comes first. In "sh -c" or a script
# of its own, use the absolute path.
for _b in /usr/local/bin/*; do
	_n=${_b##*/}
	case "$_n" in
	*[!A-Za-z0-9_]* | [0-9]*) continue ;;
	esac
	[ -x "$_b" ] && eval "$_n() { $_b \"\$@\"; }"
done

_tap_state=${TMPDIR:-/tmp}/tap-state.$$
_tap_out=${TMPDIR:-/tmp}/tap-out.$$
echo "0 0" >"$_tap_state"

# diag LINE...: prints each line of each argument as a TAP comment.
diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

# Runs a command and prints its output (stdout and stderr) through diag.
diag_cmd() {
	diag "\$ $*"
	"$@" >"$_tap_out" 2>&1
	sed 's/^/#   /' "$_tap_out"
}

plan() {
	echo "1..$1"
}

# Prints the next test number; $1 is 1 for a failure.
_tap_next() {
	read -r _n _f <"$_tap_state"
	_n=$((_n + 1))
	_f=$((_f + $1))
	echo "$_n $_f" >"$_tap_state"
	echo "$_n"
}

_tap_pass() {
	echo "ok $(_tap_next 0) - $1"
}

_tap_fail() {
	echo "not ok $(_tap_next 1) - $1"
}

# ok "desc" cmd [args...]: passes when cmd exits 0. cmd's output is shown
# (as diagnostics) only when it fails.
# ok EXIT_CODE "desc": passes when EXIT_CODE is 0.
ok() {
	if [ $# -eq 2 ] && _is_uint "$1"; then
		if [ "$1" -eq 0 ]; then
			_tap_pass "$2"
			return 0
		fi
		_tap_fail "$2"
		diag "  exit code: $1"
		return 1
	fi
	if [ $# -lt 2 ]; then
		_tap_fail "${1:-(no description)}"
		diag "  ok: no command given: use ok \"desc\" cmd [args...]"
		return 1
	fi
	_d=$1
	shift
	if "$@" >"$_tap_out" 2>&1; then
		_tap_pass "$_d"
		return 0
	else
		_rc=$?
	fi
	_tap_fail "$_d"
	diag "  command: $* (exit code $_rc)"
	sed 's/^/#   /' "$_tap_out"
	return 1
}

# is GOT WANT "desc": string equality.
is() {
	if [ "$1" = "$2" ]; then
		_tap_pass "$3"
		return 0
	fi
	_tap_fail "$3"
	diag "       got: '$1'" "  expected: '$2'"
	return 1
}

# isnt GOT UNWANTED "desc"
isnt() {
	if [ "$1" != "$2" ]; then
		_tap_pass "$3"
		return 0
	fi
	_tap_fail "$3"
	diag "       got: '$1'" "  expected anything else"
	return 1
}

# like GOT ERE "desc": a line of GOT matches the extended regex ERE.
like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		_tap_pass "$3"
		return 0
	fi
	_tap_fail "$3"
	diag "       got: '$1'" "  expected to match: /$2/"
	return 1
}

# unlike GOT ERE "desc": no line of GOT matches ERE.
unlike() {
	if ! printf '%s\n' "$1" | grep -Eq -- "$2"; then
		_tap_pass "$3"
		return 0
	fi
	_tap_fail "$3"
	diag "       got: '$1'" "  expected not to match: /$2/"
	return 1
}

_is_uint() {
	case "$1" in
	'' | *[!0-9]*) return 1 ;;
	esac
	return 0
}

_is_int() {
	_is_uint "${1#-}"
}

# _cmp ge|le GOT BOUND "desc"
_cmp() {
	if ! _is_int "$2"; then
		_tap_fail "$4"
		diag "  got '$2', which is not an integer"
		return 1
	fi
	case "$1" in
	ge) [ "$2" -ge "$3" ] && _tap_pass "$4" && return 0 ;;
	le) [ "$2" -le "$3" ] && _tap_pass "$4" && return 0 ;;
	esac
	_tap_fail "$4"
	if [ "$1" = ge ]; then
		diag "       got: $2" "  expected: >= $3"
	else
		diag "       got: $2" "  expected: <= $3"
	fi
	return 1
}

# cmp_ge GOT MIN "desc", cmp_le GOT MAX "desc": integer comparisons.
cmp_ge() {
	_cmp ge "$@"
}

cmp_le() {
	_cmp le "$@"
}

# skip "reason" [COUNT]: COUNT (default 1) skipped tests, which pass.
skip() {
	_i=0
	while [ "$_i" -lt "${2:-1}" ]; do
		echo "ok $(_tap_next 0) # SKIP $1"
		_i=$((_i + 1))
	done
}

# bail_out "reason": stops the test; the host fails it.
bail_out() {
	echo "Bail out! $*"
	exit 255
}

# ms_now, uptime_ms: print the uptime in milliseconds (CLOCK_BOOTTIME, the
# clock of the events' time_ns; 10 ms resolution: busybox date has no %N).
ms_now() {
	read -r _up _idle </proc/uptime
	_s=${_up%.*}
	_c=${_up#*.}
	echo $((_s * 1000 + ${_c#0} * 10))
}

uptime_ms() {
	ms_now
}

# retry TIMEOUT_S cmd [args...]: runs cmd every 100 ms until it succeeds
# (returns 0) or TIMEOUT_S seconds have passed (returns 1). No TAP output.
retry() {
	_deadline=$(($(ms_now) + $1 * 1000))
	shift
	while ! "$@" >"$_tap_out" 2>&1; do
		[ "$(ms_now)" -lt "$_deadline" ] || return 1
		sleep 0.1
	done
	return 0
}

# wait_for TIMEOUT_S "desc" cmd [args...]: one test, passing once cmd
# succeeds within TIMEOUT_S seconds.
wait_for() {
	_t=$1
	_d=$2
	shift 2
	if retry "$_t" "$@"; then
		_tap_pass "$_d"
		return 0
	fi
	_tap_fail "$_d"
	diag "  command: $*" "  still failing after ${_t} s; last output:"
	sed 's/^/#   /' "$_tap_out"
	return 1
}

# json_get FIELD < lines: prints FIELD's value from each line (a flat JSON
# object, as kheald and khealctl -j print) that has it. Strings lose their
# quotes (\" and \\ are unescaped); numbers, true, false, null are printed
# as they are.
json_get() {
	sed -n -E \
		-e 's/.*"'"$1"'"[[:space:]]*:[[:space:]]*"(([^"\\]|\\.)*)".*/\1/' \
		-e 't str' \
		-e 's/.*"'"$1"'"[[:space:]]*:[[:space:]]*([-+.0-9eE]+|true|false|null).*/\1/p' \
		-e 'b' \
		-e ': str' \
		-e 's/\\"/"/g' -e 's/\\\\/\\/g' -e 'p'
}

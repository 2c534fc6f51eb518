# Helpers for the VM suites: TAP output, and a summary line that the runner
# and CI print.
L=${CONFINE_LIBEXECDIR:-/usr/lib/confine}/snap-confine
P=${CONFINE_LIBEXECDIR:-/usr/lib/confine}/confine-probe
T_PASS=0 T_FAIL=0 T_N=0
T_SUITE=${T_SUITE:-suite}

# as_nobody CMD...: run CMD as nobody with a small, fixed environment.
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups -- env -i PATH=/usr/bin:/bin \
		SNAP_INSTANCE_NAME="${SNAP_INSTANCE_NAME:-demo}" SNAP_CONFINE_MAX_PROFILE_WAIT=1 "$@"
}

# as_app SNAP CMD...: run CMD as root under snap SNAP's app "app" (classic
# launch: the label and the seccomp filter, no mount namespace).
as_app() {
	local snap=$1
	shift
	env -i PATH=/usr/bin:/bin HOME=/root SNAP_INSTANCE_NAME="$snap" SNAP_CONFINE_MAX_PROFILE_WAIT=3 \
		"$L" --classic "snap.$snap.app" "$@"
}

pass() { T_N=$((T_N + 1)); T_PASS=$((T_PASS + 1)); echo "ok $T_N - $1"; }
fail() {
	T_N=$((T_N + 1)); T_FAIL=$((T_FAIL + 1)); echo "not ok $T_N - $1"
	shift; [ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/#   /'
	return 0
}

# expect_line NAME OUTPUT LINE: OUTPUT has LINE as one of its lines.
expect_line() {
	if grep -qxF -- "$3" <<<"$2"; then pass "$1"; else fail "$1" "expected line: $3" "got:" "$2"; fi
}

# expect_text NAME OUTPUT TEXT: OUTPUT contains TEXT.
expect_text() {
	if grep -qF -- "$3" <<<"$2"; then pass "$1"; else fail "$1" "expected text: $3" "got:" "$2"; fi
}

summary() {
	echo "# $T_SUITE: $T_PASS passed, $T_FAIL failed, $T_N total"
	[ "$T_FAIL" -eq 0 ] && [ "$T_N" -gt 0 ]
}

#!/bin/bash
# VM suite: the policy tools under real AppArmor. Runs inside the guest as
# root:
#   integration/vm-run integration/suites/policy.sh INPUT_DIR
# INPUT_DIR (made on the host by run-vm-suites) holds the snaps alpha and beta
# (snaps/<name>/meta/snap.yaml) and the prebuilt test binary policy_vm.
# `confine register` and `confine connect` generate, compile and load the
# profiles here; apps run through the installed launcher (--classic: no
# mount namespace, the app's own profile and seccomp filter).
# Everything the suite changes lives in the guest's overlay.
set -u
T_SUITE=policy
. "$(dirname "$0")/lib.sh"
input=$1
C=${CONFINE_LIBEXECDIR:-/usr/lib/confine}/confine
launcher_profile=/etc/apparmor.d/usr.lib.confine.snap-confine

# start_app SNAP: start "sleep" under snap SNAP; sets $started to its pid
# (env execs the launcher, which execs sleep: one process throughout).
start_app() {
	env -i PATH=/usr/bin:/bin HOME=/root SNAP_INSTANCE_NAME="$1" SNAP_CONFINE_MAX_PROFILE_WAIT=3 \
		"$L" --classic "snap.$1.app" /usr/bin/sleep 600 &
	started=$!
	local i
	for i in $(seq 50); do
		[ "$(cat /proc/$started/attr/current 2>/dev/null)" = "snap.$1.app (enforce)" ] && return 0
		sleep 0.1
	done
	return 1
}

# alive PID: the process exists and is not alpha zombie.
alive() { [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat")" != Z ]; }

# denied_in_log NAME PATTERN...: a DENIED line of the kernel log contains
# every pattern.
denied_in_log() {
	local name=$1 lines
	shift
	lines=$(dmesg | grep 'apparmor="DENIED"')
	for p in "$@"; do lines=$(grep -F -- "$p" <<<"$lines"); done
	if [ -n "$lines" ]; then pass "$name"; else fail "$name" "no DENIED line with: $*" "$(dmesg | grep DENIED | tail -5)"; fi
}

[ "$(cat /sys/module/apparmor/parameters/enabled)" = Y ] && pass "AppArmor is enabled in the guest" ||
	fail "AppArmor is enabled in the guest"
apparmor_parser -r "$launcher_profile" && pass "the launcher's profile is loaded" || fail "the launcher's profile is loaded"
install -d -m 0111 /var/lib/snapd/void 2>/dev/null || true

# 1. Registering generates and loads every profile, and compiles seccomp.
for s in alpha beta; do
	out=$("$C" register "$input/snaps/$s" --revision 1 2>&1)
	expect_line "register $s" "$out" "$s 1 registered"
done
profiles=$(cat /sys/kernel/security/apparmor/profiles)
for p in snap.alpha.app snap.beta.app snap-update-ns.alpha snap-update-ns.beta; do
	expect_text "profile $p is loaded" "$profiles" "$p (enforce)"
done
[ -s /var/lib/snapd/seccomp/bpf/snap.alpha.app.bin2 ] && pass "the seccomp filter of snap.alpha.app is written" ||
	fail "the seccomp filter of snap.alpha.app is written"
out=$(as_app alpha /usr/bin/cat /proc/self/attr/current /proc/self/status 2>&1)
expect_line "the app runs under snap.alpha.app" "$out" "snap.alpha.app (enforce)"
expect_text "the app runs under its seccomp filter" "$out" "Seccomp_filters:	2"

# 2. Without process-control: no signal to another snap or to an
# unconfined process; the own snap's processes are fine.
start_app beta && pass "beta runs under its profile" || fail "beta runs under its profile"
b_pid=$started
sleep 600 &
u_pid=$!
as_app alpha /usr/bin/kill -TERM "$b_pid" 2>/dev/null && fail "alpha cannot signal beta without process-control" ||
	pass "alpha cannot signal beta without process-control"
sleep 0.2
alive "$b_pid" && pass "beta survived" || fail "beta survived"
denied_in_log "the refused signal is logged" 'operation="signal"' 'profile="snap.alpha.app"' 'peer="snap.beta.app"'
as_app alpha /usr/bin/kill -TERM "$u_pid" 2>/dev/null && fail "alpha cannot signal an unconfined process" ||
	pass "alpha cannot signal an unconfined process"
alive "$u_pid" && pass "the unconfined process survived" || fail "the unconfined process survived"
start_app alpha
a2=$started
as_app alpha /usr/bin/kill -TERM "$a2" && pass "alpha may signal its own processes" || fail "alpha may signal its own processes"
wait "$a2" 2>/dev/null

# 3. With process-control: both work.
out=$("$C" connect alpha:process-control 2>&1) && pass "connect alpha:process-control" || fail "connect alpha:process-control" "$out"
out=$("$C" connections alpha 2>&1)
expect_text "the connection is listed" "$out" "process-control  alpha:process-control  system:process-control  manual"
as_app alpha /usr/bin/kill -TERM "$b_pid" && pass "alpha signals beta with process-control" || fail "alpha signals beta with process-control"
wait "$b_pid" 2>/dev/null
alive "$b_pid" && fail "beta got SIGTERM" || pass "beta got SIGTERM"
as_app alpha /usr/bin/kill -TERM "$u_pid" && pass "alpha signals an unconfined process" || fail "alpha signals an unconfined process"
wait "$u_pid" 2>/dev/null
alive "$u_pid" && fail "the unconfined process got SIGTERM" || pass "the unconfined process got SIGTERM"

# 4. Snaps receive signals from unconfined processes (root's kill).
start_app beta
b_pid=$started
kill -TERM "$b_pid" && pass "root signals beta" || fail "root signals beta"
wait "$b_pid" 2>/dev/null
alive "$b_pid" && fail "beta got root's SIGTERM" || pass "beta got root's SIGTERM"

# 5. Disconnecting takes the permission away again.
"$C" disconnect alpha:process-control && pass "disconnect alpha:process-control" || fail "disconnect alpha:process-control"
start_app beta
b_pid=$started
as_app alpha /usr/bin/kill -TERM "$b_pid" 2>/dev/null && fail "alpha cannot signal beta after the disconnection" ||
	pass "alpha cannot signal beta after the disconnection"
alive "$b_pid" && pass "beta survived the disconnection" || fail "beta survived the disconnection"
kill "$b_pid"

# 6. system-observe: /proc/locks and another process's fdinfo, denied
# (and logged) before the connection, readable after.
sleep 600 &
u_pid=$!
as_app alpha /usr/bin/cat /proc/locks >/dev/null 2>&1 && fail "/proc/locks is denied without system-observe" ||
	pass "/proc/locks is denied without system-observe"
denied_in_log "the denied /proc/locks is logged" 'profile="snap.alpha.app"' 'name="/proc/locks"'
as_app alpha /usr/bin/cat "/proc/$u_pid/fdinfo/0" >/dev/null 2>&1 && fail "fdinfo of another process is denied" ||
	pass "fdinfo of another process is denied"
"$C" connect alpha:system-observe && pass "connect alpha:system-observe" || fail "connect alpha:system-observe"
as_app alpha /usr/bin/cat /proc/locks >/dev/null && pass "/proc/locks is readable with system-observe" ||
	fail "/proc/locks is readable with system-observe"
out=$(as_app alpha /usr/bin/cat "/proc/$u_pid/fdinfo/0" 2>&1)
expect_text "fdinfo of another process is readable with system-observe" "$out" "flags:"
kill "$u_pid"

# 7. Data directories: the current revision and common are writable, other
# revisions only readable.
mkdir -p /var/snap/alpha/1 /var/snap/alpha/0 /var/snap/alpha/common /root/snap/alpha/1 /root/snap/alpha/0 /root/snap/alpha/common
echo old >/var/snap/alpha/0/data
as_app alpha /usr/bin/touch /var/snap/alpha/1/new /var/snap/alpha/common/new /root/snap/alpha/1/new /root/snap/alpha/common/new &&
	pass "SNAP_DATA, SNAP_COMMON and the user's data are writable" || fail "SNAP_DATA, SNAP_COMMON and the user's data are writable"
as_app alpha /usr/bin/touch /var/snap/alpha/0/new 2>/dev/null && fail "another revision's SNAP_DATA is read-only" ||
	pass "another revision's SNAP_DATA is read-only"
as_app alpha /usr/bin/touch /root/snap/alpha/0/new 2>/dev/null && fail "another revision's user data is read-only" ||
	pass "another revision's user data is read-only"
out=$(as_app alpha /usr/bin/cat /var/snap/alpha/0/data 2>&1)
expect_line "another revision's SNAP_DATA is readable" "$out" "old"

# 8. Unregistering removes the files and unloads the profiles.
"$C" unregister beta && pass "unregister beta" || fail "unregister beta"
grep -q '^snap.beta.app ' /sys/kernel/security/apparmor/profiles && fail "snap.beta.app is unloaded" || pass "snap.beta.app is unloaded"
ls /var/lib/snapd/apparmor/profiles/ /var/lib/snapd/seccomp/bpf/ | grep -q 'beta' &&
	fail "beta's files are gone" "$(ls /var/lib/snapd/apparmor/profiles/ /var/lib/snapd/seccomp/bpf/)" || pass "beta's files are gone"

# 9. A profile that does not compile leaves the loaded one in force (the
# library test, run here where the kernel has AppArmor).
out=$("$input/policy_vm" --ignored --test-threads=1 2>&1)
expect_text "a broken profile leaves the loaded one in force" "$out" "test result: ok. 1 passed"

summary

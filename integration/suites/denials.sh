#!/bin/bash
# VM suite: real denials, read back from the guest's kernel log and
# explained by `confine denials`. Runs inside the guest as root:
#   integration/vm-run integration/suites/denials.sh INPUT_DIR
# INPUT_DIR (made on the host by run-vm-suites) holds the snaps alpha (plugs
# process-control and system-observe, not connected) and beta (no plugs),
# and the non-snap profile testprofile (denials.testprofile). Apps run
# through the installed launcher (--classic: the app's own profile and
# seccomp filter, no mount namespace). Denials produced: a file read, a
# signal to and from the non-snap profile, a ptrace read, a system call
# refused by seccomp (logged, as the launcher asks). Everything the suite
# changes lives in the guest's overlay.
set -u
T_SUITE=denials
. "$(dirname "$0")/lib.sh"
input=$1
C=${CONFINE_LIBEXECDIR:-/usr/lib/confine}/confine
launcher_profile=/etc/apparmor.d/usr.lib.confine.snap-confine
work=$(mktemp -d)

# wait_label PID LABEL: the process runs under LABEL (enforce).
wait_label() {
	local i
	for i in $(seq 50); do
		[ "$(cat "/proc/$1/attr/current" 2>/dev/null)" = "$2 (enforce)" ] && return 0
		sleep 0.1
	done
	return 1
}

# has NAME FILE TEXT: FILE contains TEXT (a fixed string).
has() {
	if grep -qF -- "$3" "$2"; then pass "$1"; else fail "$1" "expected text: $3" "in $2:" "$(cat "$2")"; fi
}

# lacks NAME FILE TEXT: FILE does not contain TEXT.
lacks() {
	if grep -qF -- "$3" "$2"; then fail "$1" "unexpected text: $3"; else pass "$1"; fi
}

# Every audit record reaches the kernel log (no printk rate limit), and
# seccomp logs the calls it fails.
sysctl -qw kernel.printk_ratelimit=0
[ "$(cat /sys/module/apparmor/parameters/enabled)" = Y ] && pass "AppArmor is enabled in the guest" ||
	fail "AppArmor is enabled in the guest"
grep -qw errno /proc/sys/kernel/seccomp/actions_logged && pass "seccomp logs failed calls (errno in actions_logged)" ||
	fail "seccomp logs failed calls (errno in actions_logged)" "$(cat /proc/sys/kernel/seccomp/actions_logged)"
apparmor_parser -r "$launcher_profile" && pass "the launcher's profile is loaded" || fail "the launcher's profile is loaded"
install -d -m 0111 /var/lib/snapd/void 2>/dev/null || true
for s in alpha beta; do
	out=$("$C" register "$input/snaps/$s" --revision 1 2>&1)
	expect_line "register $s" "$out" "$s 1 registered"
done
install -m 0644 "$input/denials.testprofile" /etc/apparmor.d/denials.testprofile
apparmor_parser -r /etc/apparmor.d/denials.testprofile && pass "the non-snap profile testprofile is loaded" ||
	fail "the non-snap profile testprofile is loaded"

# 1. The denials.
as_app alpha /usr/bin/cat /proc/locks >/dev/null 2>&1 && fail "alpha cannot read /proc/locks" ||
	pass "alpha cannot read /proc/locks"
as_app beta /usr/bin/cat /proc/locks >/dev/null 2>&1 && fail "beta cannot read /proc/locks" ||
	pass "beta cannot read /proc/locks"
aa-exec -p testprofile /usr/bin/sleep 600 &
t_pid=$!
wait_label "$t_pid" testprofile && pass "a process runs under testprofile" || fail "a process runs under testprofile"
as_app alpha /usr/bin/kill -TERM "$t_pid" 2>/dev/null && fail "alpha cannot signal testprofile" ||
	pass "alpha cannot signal testprofile"
env -i PATH=/usr/bin:/bin HOME=/root SNAP_INSTANCE_NAME=beta SNAP_CONFINE_MAX_PROFILE_WAIT=3 \
	"$L" --classic snap.beta.app /usr/bin/sleep 600 &
b_pid=$!
wait_label "$b_pid" snap.beta.app && pass "beta runs under its profile" || fail "beta runs under its profile"
aa-exec -p testprofile /usr/bin/kill -TERM "$b_pid" 2>/dev/null && fail "testprofile cannot signal beta" ||
	pass "testprofile cannot signal beta"
sleep 600 &
u_pid=$!
as_app alpha /usr/bin/readlink "/proc/$u_pid/exe" >/dev/null 2>&1 && fail "alpha cannot read another process's exe" ||
	pass "alpha cannot read another process's exe"
out=$(as_app alpha /usr/bin/nice -n -5 /usr/bin/true 2>&1)
expect_text "seccomp refuses alpha a higher priority" "$out" "cannot set niceness: Operation not permitted"
sleep 0.5
dmesg | grep -q 'type=1326' && pass "the seccomp denial is in the kernel log" ||
	fail "the seccomp denial is in the kernel log" "$(dmesg | tail -5)"

# The records themselves, for the log (and for fixtures).
dmesg -r | grep -E 'apparmor="DENIED"|type=1326' | grep -E 'alpha|beta|testprofile' | sed 's/^/# record: /'

# 2. The explanations, as root, from the kernel log.
"$C" denials >"$work/all.txt" 2>"$work/all.err" && pass "confine denials runs as root" ||
	fail "confine denials runs as root" "$(cat "$work/all.err")"
"$C" denials --json >"$work/all.json" 2>/dev/null && pass "confine denials --json runs" || fail "confine denials --json runs"
t=$work/all.txt j=$work/all.json
has "the file read: snap, app and path" $j '"summary": "AppArmor stopped snap alpha (app app) from reading /proc/locks"'
has "the file read: the rule" $t "      /proc/locks r,"
has "the file read: the interface" $j "Interface system-observe grants it, with the rule:"
has "the file read: not connected" $j "alpha:system-observe is not connected. To connect it:"
has "the file read: the command" $t "      sudo confine connect alpha:system-observe"
has "beta: the plug is not declared" $j "Snap beta does not declare a plug of interface system-observe"
has "beta: the command all the same" $t "      sudo confine connect beta:system-observe"
has "signal sent: who" $j '"summary": "AppArmor stopped snap alpha (app app) from sending SIGTERM to a process under profile testprofile"'
has "signal sent: the sender refused" $j '"side": "sender"'
has "signal sent: the sender's rule" $t "      signal (send) set=(term) peer=testprofile,"
has "signal sent: no interface grants it" $j "No interface grants sending signals to a process under profile testprofile."
has "signal sent: the receiver refused too" $t "      signal (receive) set=(term) peer=snap.alpha.app,"
has "signal sent: the receiver's local include" $j "whose local include is /etc/apparmor.d/local/denials.testprofile"
has "signal sent: reload the receiver's profile" $t "      sudo apparmor_parser -r /etc/apparmor.d/denials.testprofile"
has "signal sent: both ends are matched" $j "Both ends refused"
has "signal received: who" $j '"summary": "AppArmor stopped a process under profile testprofile from sending SIGTERM to a process of snap beta (app app)"'
has "signal received: the receiver refused" $j '"side": "receiver"'
has "signal received: the rule" $t "      signal (receive) set=(term) peer=testprofile,"
has "signal received: no interface" $j "No interface lets it accept them from a process under profile testprofile."
has "ptrace: who" $j '"summary": "AppArmor stopped snap alpha (app app) from reading the state of an unconfined process (ptrace read)"'
has "ptrace: the rule" $t "      ptrace (read) peer=unconfined,"
has "ptrace: the interface" $t "      ptrace (read, trace) peer=unconfined,"
has "ptrace: the command" $t "      sudo confine connect alpha:process-control"
has "seccomp: the call" $j '"summary": "seccomp stopped snap alpha (app app) from calling setpriority: the filter made the call fail with an error"'
has "seccomp: the base policy's line" $t "      setpriority PRIO_PROCESS 0 <=19"
has "seccomp: the interface" $j '"rule": "setpriority",'
has "seccomp: logging" $j "Seccomp denials appear in the log only when logging is on"
if grep -q '"interface": "process-control"' $j && grep -q '"status": "not_connected"' $j; then
	pass "JSON: interfaces with their plug's status"
else
	fail "JSON: interfaces with their plug's status"
fi

# 3. One snap only; and a connection shows up in the advice.
"$C" denials --json --snap beta >"$work/beta.json" 2>&1
has "--snap beta keeps beta's" "$work/beta.json" "from sending SIGTERM to a process of snap beta (app app)"
lacks "--snap beta drops alpha's" "$work/beta.json" "alpha:system-observe"
"$C" connect alpha:system-observe && pass "connect alpha:system-observe" || fail "connect alpha:system-observe"
"$C" denials --json --snap alpha >"$work/connected.json" 2>&1
has "a connected plug is reported as such" "$work/connected.json" "alpha:system-observe is connected now"

# 4. --follow: a new denial appears while it watches (one JSON object a line).
"$C" denials --follow --json --snap alpha >"$work/follow.json" 2>/dev/null &
f_pid=$!
sleep 1
as_app alpha /usr/bin/cat /var/log/dpkg.log 2>&1 >/dev/null | sed "s/^/# dpkg.log: /"; ls -la /var/log/dpkg.log | sed "s/^/# /"; dmesg | tail -3 | sed "s/^/# dmesg: /"
for i in $(seq 50); do grep -qF '"rule":"/var/log/dpkg.log r,"' "$work/follow.json" && break; sleep 0.2; done
has "--follow shows a new denial" "$work/follow.json" '"rule":"/var/log/dpkg.log r,"'
has "--follow names the interface" "$work/follow.json" "Snap alpha does not declare a plug of interface log-observe"
kill "$f_pid" 2>/dev/null
wait "$f_pid" 2>/dev/null

# 5. Without root: refused with the reason while dmesg_restrict is 1, then
# readable, with connections unknown.
sysctl -qw kernel.dmesg_restrict=1
out=$(as_nobody "$C" denials 2>&1; echo "status=$?")
expect_line "nobody is refused the kernel log" "$out" "status=1"
expect_text "the refusal says what to do" "$out" "reading it needs root, or kernel.dmesg_restrict=0"
sysctl -qw kernel.dmesg_restrict=0
as_nobody "$C" denials --json >"$work/nobody.json" 2>&1
has "nobody reads the denials with dmesg_restrict=0" "$work/nobody.json" '"rule": "/proc/locks r,"'
has "nobody is told the connections are root's" "$work/nobody.json" "readable by root only"

kill "$t_pid" "$b_pid" "$u_pid" 2>/dev/null
rm -rf "$work"
summary

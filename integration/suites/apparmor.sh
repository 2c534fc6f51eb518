#!/bin/bash
# VM suite: the launcher under real AppArmor. Runs inside the guest as root:
#   integration/vm-run integration/suites/apparmor.sh POLICY_DIR
# POLICY_DIR holds the compiled policies of snap.demo.app and snap.demo.noprofile,
# made on the host. Everything the suite changes lives in the guest's overlay.
set -u
T_SUITE=apparmor
. "$(dirname "$0")/lib.sh"
policies=$1
here=$(cd "$(dirname "$0")/.." && pwd)
profile=/etc/apparmor.d/usr.lib.confine.snap-confine

[ "$(cat /sys/module/apparmor/parameters/enabled)" = Y ] && pass "AppArmor is enabled in the guest" ||
	fail "AppArmor is enabled in the guest"
install -d -m 0755 /var/lib/snapd/seccomp/bpf
install -d -m 0111 /var/lib/snapd/void 2>/dev/null || true
install -m 0644 "$policies"/* /var/lib/snapd/seccomp/bpf/
apparmor_parser -r "$here/profiles/snap.demo.app"

# 1. The launcher refuses to run unconfined for a non-root caller.
out=$(as_nobody $L --classic snap.demo.app $P report 2>&1)
expect_text "unconfined launcher is refused for nobody" "$out" \
	"snap-confine has elevated permissions and is not confined but should be"

# 2. With its profile loaded: the app runs under its own label, in enforce mode.
apparmor_parser -r "$profile" || fail "load the launcher profile"
out=$(as_nobody $L --classic snap.demo.app $P report 2>&1)
expect_line "the app runs under snap.demo.app (enforce)" "$out" "label=snap.demo.app (enforce)"
expect_line "the app runs as nobody" "$out" "uid=65534,65534,65534"
expect_line "the app holds no capability" "$out" "capeff=0000000000000000"
expect_line "the seccomp filter is loaded" "$out" "seccomp=2"

# 3. The app's profile is enforced: a path it does not allow is denied.
out=$(as_nobody $L --classic snap.demo.app $P read /etc/hostname /etc/os-release 2>&1)
expect_line "a path the profile does not allow is denied" "$out" "read:/etc/hostname=EACCES"
expect_line "a path the profile allows is readable" "$out" "read:/etc/os-release=ok"
if dmesg | grep -q 'apparmor="DENIED" operation="open" profile="snap.demo.app" name="/etc/hostname"'; then
	pass "the denial is logged by the kernel"
else
	fail "the denial is logged by the kernel" "$(dmesg | grep DENIED | tail -3)"
fi

# 4. Seccomp and AppArmor together.
out=$(as_nobody $L --classic snap.demo.app $P try unshare0 tiocsti getppid 2>&1)
expect_line "seccomp denies what the policy lacks" "$out" "unshare0=EPERM"
expect_line "seccomp explicit denial" "$out" "tiocsti=EACCES"

# 5. A missing app profile fails closed: nothing runs.
out=$(as_nobody $L --classic snap.demo.noprofile $P report 2>&1; echo "status=$?")
expect_text "a missing app profile is reported" "$out" \
	"cannot change the AppArmor profile for the next exec to snap.demo.noprofile: the profile is not loaded"
expect_line "a missing app profile stops the launch" "$out" "status=1"
grep -q '^label=' <<<"$out" && fail "nothing ran without its profile" "$out" || pass "nothing ran without its profile"

# 6. A copy of the launcher is not confined by the profile and is refused.
cp -p $L /tmp/snap-confine-copy
out=$(as_nobody /tmp/snap-confine-copy --classic snap.demo.app $P report 2>&1; echo "status=$?")
expect_text "a copy of the launcher is refused" "$out" "cannot run from unexpected location /tmp/snap-confine-copy"
expect_line "a copy of the launcher exits 1" "$out" "status=1"

# 7. In complain mode the launcher is not confined and refuses again.
sed 's/flags=(attach_disconnected)/flags=(attach_disconnected,complain)/' "$profile" | apparmor_parser -r
out=$(as_nobody $L --classic snap.demo.app $P report 2>&1)
expect_text "a launcher in complain mode is refused" "$out" "is not confined but should be"
apparmor_parser -r "$profile"

# 8. Root may run it regardless, and still gets the app's label.
out=$(env -i SNAP_INSTANCE_NAME=demo $L --classic snap.demo.app $P report 2>&1)
expect_line "root launches under the app label" "$out" "label=snap.demo.app (enforce)"

summary

#!/bin/bash
# VM suite with systemd as PID 1 (VM_RUN_SYSTEMD=1) and AppArmor on: the
# user's whole path through the installed tools. Root installs the example
# snaps (a systemd mount unit per revision, a service unit per daemon),
# nobody runs them through their /snap/bin wrappers, the daemon runs
# confined under systemd, a second install refreshes to a new revision, and
# removal leaves nothing behind.
#   VM_RUN_SYSTEMD=1 integration/vm-run integration/suites/install.sh EXAMPLES_DIR
set -u
T_SUITE=install
. "$(dirname "$0")/lib.sh"
examples=$1
sysctl -qw kernel.printk_ratelimit=0
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- env -i HOME=/home/nobody PATH=/snap/bin:/usr/bin:/bin "$@"; }

[ "$(cat /proc/1/comm)" = systemd ] && pass "systemd is PID 1" || fail "systemd is PID 1" "$(cat /proc/1/comm)"
apparmor_parser -r /etc/apparmor.d/usr.lib.confine.snap-confine
install -d -m 0700 /tmp/snap-private-tmp
install -d -o 65534 -g 65534 /home/nobody

out=$(confine install "$examples/debian12.snap" 2>&1 && confine install "$examples/hello.snap" 2>&1 &&
	confine install "$examples/hello-classic.snap" 2>&1)
expect_line "the daemon's unit is started at install" "$out" "  service: snap.hello.daemon.service (started)"
expect_line "the revision is mounted by a mount unit" "$(systemctl is-active snap-hello-x1.mount)" "active"
expect_line "the wrapper is installed" "$(readlink /snap/bin/hello)" "/usr/bin/snap-run"

# The app, as nobody, through its wrapper.
out=$(cd /tmp && nobody hello 2>&1)
expect_line "hello runs under its label" "$out" "AppArmor label : snap.hello.hello (enforce)"
expect_line "hello runs under its seccomp filter" "$out" "seccomp        : filter (2 filters)"
expect_line "hello runs as nobody" "$out" "user ids       : 65534,65534,65534  group ids: 65534,65534,65534"
# The strict template does not grant /proc/self/mountinfo (mount-observe does).
expect_line "hello cannot tell where its /tmp comes from" "$out" "/tmp           : unknown (/proc/self/mountinfo: EACCES)"
expect_line "hello's HOME is its user data" "$out" "HOME           : /home/nobody/snap/hello/x1"
expect_line "hello has the snap's cookie" "$(grep '^SNAP_COOKIE' <<<"$out" | sed 's/[0-9a-f]\{64\}$/COOKIE/')" "SNAP_COOKIE    : COOKIE"
expect_text "AppArmor keeps hello from /etc/shadow" "$out" "/etc/shadow=EACCES"
out=$(cd /tmp && nobody snap-run --shell hello -c 'echo $SNAP $SNAP_DATA $SNAP_USER_DATA $SNAP_USER_COMMON $SNAP_NAME $SNAP_REVISION; head -1 /etc/os-release; cat /proc/self/attr/current' 2>&1)
expect_line "the shell has the snap's environment" "$out" \
	"/snap/hello/x1 /var/snap/hello/x1 /home/nobody/snap/hello/x1 /home/nobody/snap/hello/common hello x1"
expect_line "the shell runs on the base snap" "$out" 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"'
expect_line "the shell runs under the app's label" "$out" "snap.hello.hello (enforce)"
expect_line "the user's snap directories are made as the user" \
	"$(stat -c '%U %a %n' /home/nobody/snap/hello/x1 /home/nobody/snap/hello/common)" \
	"$(printf '%s\n' 'nobody 755 /home/nobody/snap/hello/x1' 'nobody 755 /home/nobody/snap/hello/common')"
(cd /tmp && nobody snap-run --shell hello -c 'echo from-hello > /tmp/marker') 2>&1
expect_line "hello's /tmp is the snap's private one" "$(cat /tmp/snap-private-tmp/snap.hello/tmp/marker 2>&1)" "from-hello"
out=$(cd /tmp && nobody hello-classic 2>&1)
expect_line "the classic app has no seccomp filter" "$out" "seccomp        : off"
expect_line "the classic app keeps the user's HOME" "$out" "HOME           : /home/nobody"

# The daemon, under systemd.
for i in $(seq 30); do [ -s /var/snap/hello/x1/heartbeat ] && break; sleep 1; done
expect_line "the daemon is running" "$(systemctl is-active snap.hello.daemon.service)" "active"
pid=$(systemctl show -p MainPID --value snap.hello.daemon.service)
# The service's main process is the daemon's shell (snap-run became the
# launcher, which became snap-exec, which became the daemon).
expect_line "the daemon runs under its label" "$(cat /proc/$pid/attr/current 2>&1)" "snap.hello.daemon (enforce)"
expect_text "the daemon is in its service cgroup" "$(cat /proc/$pid/cgroup)" "snap.hello.daemon.service"
expect_text "the daemon is in its device cgroup" "$(cat /proc/$pid/cgroup)" "devices:/snap.hello.daemon"
expect_line "the daemon runs under its seccomp filter" "$(awk '/^Seccomp:/ {print $2}' /proc/$pid/status)" "2"
[ -s /var/snap/hello/x1/heartbeat ] && pass "the daemon writes its heartbeat in SNAP_DATA" ||
	fail "the daemon writes its heartbeat in SNAP_DATA" "$(journalctl -u snap.hello.daemon.service --no-pager | tail -5)"
expect_text "the daemon's output reaches the journal" "$(journalctl -u snap.hello.daemon.service --no-pager)" \
	"hello.daemon started as root under snap.hello.daemon (enforce)"
systemctl stop snap.hello.daemon.service
expect_line "the daemon stops" "$(systemctl is-active snap.hello.daemon.service)" "inactive"
systemctl start snap.hello.daemon.service
expect_line "the daemon starts again" "$(systemctl is-active snap.hello.daemon.service)" "active"

# Refresh: a second install is a new revision; the old one stays readable.
# The daemon is started again once the new revision is linked and the
# refresh no longer holds apps back (a daemon started during a refresh runs
# the previous revision): a drop-in records the hint systemd starts it under.
echo kept >/var/snap/hello/x1/kept
install -d /etc/systemd/system/snap.hello.daemon.service.d
printf '[Service]\nExecStartPre=/bin/sh -c "cat /var/lib/snapd/inhibit/hello.lock >/var/tmp/hint-at-start; echo . >>/var/tmp/hint-at-start"\n' \
	>/etc/systemd/system/snap.hello.daemon.service.d/hint.conf
systemctl daemon-reload
out=$(confine install "$examples/hello.snap" 2>&1)
expect_line "a second install refreshes" "$out" "hello refreshed from revision x1 to x2"
expect_line "SNAP_DATA is carried over" "$(cat /var/snap/hello/x2/kept 2>&1)" "kept"
expect_line "the old revision stays readable" "$(head -1 /snap/hello/x1/meta/snap.yaml 2>&1)" "name: hello"
expect_line "the app runs the new revision" "$(cd /tmp && nobody hello 2>&1 | grep '^HOME')" "HOME           : /home/nobody/snap/hello/x2"
expect_line "the daemon is started once the refresh holds nothing back" "$(cat /var/tmp/hint-at-start 2>&1)" "."
rm -r /etc/systemd/system/snap.hello.daemon.service.d /var/tmp/hint-at-start
systemctl daemon-reload
# Its main process becomes the daemon (snap-run, the launcher, snap-exec).
for i in $(seq 60); do
	pid=$(systemctl show -p MainPID --value snap.hello.daemon.service)
	grep -qz '^SNAP_REVISION=' /proc/$pid/environ 2>/dev/null && break
	sleep 0.5
done
expect_text "the daemon runs the new revision" "$(tr '\0' '\n' </proc/$pid/environ 2>&1)" "SNAP_REVISION=x2"

# Landlock on top of AppArmor, when asked for: listing / is allowed by the
# AppArmor profile, not by the Landlock policy.
expect_text "without asking, AppArmor alone confines hello" "$(cd /tmp && nobody hello 2>&1)" "ls /=ok"
CONFINE_LANDLOCK=always confine disconnect hello:network >/dev/null
expect_line "the policy asks to stack" "$(grep '^apply' /var/lib/snapd/landlock/snap.hello.hello)" "apply always"
out=$(cd /tmp && nobody hello 2>&1)
expect_line "hello still runs under its label" "$out" "AppArmor label : snap.hello.hello (enforce)"
expect_text "and under Landlock too" "$out" "ls /=EACCES"

# Removal.
out=$(confine remove hello 2>&1)
expect_line "the snap is removed" "$out" "hello removed"
expect_line "the unit is gone" "$(systemctl is-active snap.hello.daemon.service)" "inactive"
left=$(ls -d /etc/systemd/system/snap.hello.* /etc/systemd/system/snap-hello-* /snap/hello /var/snap/hello /snap/bin/hello \
	/run/snapd/ns/hello.mnt /var/lib/snapd/seccomp/bpf/snap.hello.* /var/lib/snapd/apparmor/profiles/snap.hello.* \
	/var/lib/snapd/landlock/snap.hello.* /var/lib/snapd/cookie/snap.hello /home/nobody/snap/hello 2>/dev/null
	grep ' /snap/hello' /proc/self/mountinfo; grep -c '^snap\.hello\.\|^snap-update-ns\.hello ' /sys/kernel/security/apparmor/profiles)
expect_line "nothing of the snap is left (files, mounts, units, profiles)" "$left" "0"
expect_line "the other snaps stay" "$(cd /tmp && nobody hello-classic 2>&1 | grep '^seccomp')" "seccomp        : off"
summary

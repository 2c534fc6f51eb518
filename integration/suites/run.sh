#!/bin/bash
# VM suite with systemd as PID 1 (VM_RUN_SYSTEMD=1) and AppArmor on: snap-run
# around the launcher, as `snap run` users expect it. Run twice by
# integration/run-vm-suites: run-v2 boots the unified cgroup layout, run-v1
# the hybrid one. Each app lands in a transient scope made by systemd (the
# system's for root, the user's own for a user with a session) and its device
# filter applies there; the desktop files, icons and completion of an
# installed snap; refresh and removal waits (with a desktop notice, shown by
# a stand-in notification service, notifyd.py); homes outside /home refused,
# then bound into the sandbox once listed in snapd's homedirs setting.
#   VM_RUN_SYSTEMD=1 integration/vm-run integration/suites/run.sh DIR
# DIR holds the example snaps (debian12.snap, hello.snap) and the snaps the
# runner builds for this suite (gui.snap, broken.snap).
set -u
if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then layout=v2; else layout=v1; fi
T_SUITE=run-$layout
. "$(dirname "$0")/lib.sh"
snaps=$1
notifyd=$(cd "$(dirname "$0")" && pwd)/notifyd.py
sysctl -qw kernel.printk_ratelimit=0
echo "# layout $layout, kernel $(uname -r)"
uuid='[0-9a-f]\{8\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{12\}'

[ "$(cat /proc/1/comm)" = systemd ] && pass "systemd is PID 1" || fail "systemd is PID 1" "$(cat /proc/1/comm)"
apparmor_parser -r /etc/apparmor.d/usr.lib.confine.snap-confine
install -d -m 0700 /tmp/snap-private-tmp
for s in debian12 hello gui; do
	out=$(confine install "$snaps/$s.snap" 2>&1) || fail "install $s" "$out"
done
systemctl stop snap.hello.daemon.service

# A device node only the device cgroup refuses (mode 0666): kmsg, c 1:11.
mknod -m 0666 /dev/confine-kmsg c 1 11
# probe: in the app's shell, its cgroups and whether kmsg opens for writing.
probe='cat /proc/self/cgroup; (exec 3>/dev/confine-kmsg) 2>/dev/null && echo kmsg=ok || echo kmsg=refused; echo HOME=$HOME'

# scope_of OUTPUT: the app's scope in systemd's own hierarchy.
scope_of() {
	if [ $layout = v2 ]; then sed -n 's/^0:://p' <<<"$1"; else sed -n 's/^[0-9]*:name=systemd://p' <<<"$1"; fi
}
# check_tracked WHO OUTPUT PARENT: the app ran in snap.hello.hello-<uuid>.scope
# under PARENT, with its device filter.
check_tracked() {
	local scope
	scope=$(scope_of "$2")
	if grep -qx "$3/snap\.hello\.hello-$uuid\.scope" <<<"$scope"; then pass "$1: the app runs in its own scope"; else
		fail "$1: the app runs in its own scope" "expected $3/snap.hello.hello-<uuid>.scope" "got:" "$2"
	fi
	expect_line "$1: the device filter applies in the scope" "$2" "kmsg=refused"
}

# 1. Root: a scope made by the system's systemd.
out=$(cd /tmp && env -i PATH=/snap/bin:/usr/bin:/bin HOME=/root snap-run --shell hello -c "$probe" 2>&1)
check_tracked "root" "$out" "/system.slice"
expect_line "kmsg opens outside the sandbox" "$( (exec 3>/dev/confine-kmsg) 2>&1 && echo ok)" "ok"
# Without the scope the launcher refuses the app: the scope is what makes it run.
if [ $layout = v2 ]; then
	out=$(env -i PATH=/usr/bin:/bin SNAP_INSTANCE_NAME=hello $L --base debian12 snap.hello.hello /bin/true 2>&1; echo "status=$?")
	expect_text "the launcher alone, outside a scope, is refused the device filter" "$out" "is not a snap cgroup for tag snap.hello.hello"
fi
out=$(cd /tmp && env -i PATH=/usr/bin:/bin HOME=/root SNAP_CONFINE_DEBUG=1 snap-run --shell hello -c true 2>&1)
expect_text "the debug output names the scope and the bus" "$out" "made by systemd on the system bus"
expect_text "snapd's start-up stage lines are printed" "$out" '-- snap startup {"stage":"snap to snap-confine"'

# 2. A user with a session (su -l through pam_systemd): a scope made by the
# user's own systemd, under user@UID.service.
useradd -m -u 1234 -s /bin/bash alice
loginctl enable-linger alice
for i in $(seq 120); do [ -S /run/user/1234/bus ] && break; sleep 0.5; done
[ -S /run/user/1234/bus ] && pass "alice's session bus runs" || fail "alice's session bus runs" "$(systemctl status user@1234.service 2>&1 | tail -5)"
out=$(su -l alice -c "cd /tmp && snap-run --shell hello -c '$probe'" 2>&1)
check_tracked "a user in a session" "$out" '/user.slice/user-1234.slice/user@1234.service\(/app.slice\)\{0,1\}'
expect_line "the user's app has its data in the user's home" "$out" "HOME=/home/alice/snap/hello/x1"
out=$(su -l alice -c "cd /tmp && SNAP_CONFINE_DEBUG=1 snap-run --shell hello -c true" 2>&1)
expect_text "the user's scope is made on the session bus" "$out" "made by systemd on the session bus"
# A user outside any session (no bus of theirs) is not tracked; on v2 the
# launcher then refuses the app, which needs its device filter.
install -d -o 65534 -g 65534 /home/nobody
out=$(cd /tmp && setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH=/usr/bin:/bin HOME=/home/nobody \
	SNAP_CONFINE_DEBUG=1 snap-run --shell hello -c true 2>&1)
expect_text "a user without a session bus is not tracked (and told why)" "$out" "not tracked: no session bus runs for this user"

# 3. The X11 cookie file in /tmp is copied to $XDG_RUNTIME_DIR/.Xauthority.
# One entry: family local, address vm-run, display 0, MIT-MAGIC-COOKIE-1, 16 bytes.
printf '\001\000\000\006vm-run\000\0010\000\022MIT-MAGIC-COOKIE-1\000\020cookie0123456789' >/var/tmp/alice-xauth
install -m 0600 -o alice -g alice /var/tmp/alice-xauth /tmp/alice-xauth
out=$(su -l alice -c "cd /tmp && XAUTHORITY=/tmp/alice-xauth snap-run --shell hello -c 'echo XAUTHORITY=\$XAUTHORITY'" 2>&1)
expect_line "the app's XAUTHORITY is in the runtime directory" "$out" "XAUTHORITY=/run/user/1234/.Xauthority"
# (the app reads it through the x11 interface, which hello does not plug)
expect_line "the cookie is copied, the user's own" "$(cmp /var/tmp/alice-xauth /run/user/1234/.Xauthority &&
	stat -c '%U %a' /run/user/1234/.Xauthority 2>&1)" "alice 600"

# 4. Desktop integration of gui (a desktop file, an icon, a completer).
d=/var/lib/snapd/desktop
f=$d/applications/gui_gui.desktop
expect_line "the desktop file is written" "$(head -2 $f 2>&1)" "$(printf '%s\n' '[Desktop Entry]' 'X-SnapInstanceName=gui')"
expect_line "its Exec= runs the app's wrapper" "$(grep '^Exec=' $f)" "Exec=/snap/bin/gui %U"
expect_line "only the keys snapd keeps" "$(grep -c '^TryExec=\|^X-Evil=' $f)" "0"
expect_line "\${SNAP} is the current revision" "$(grep '^Icon=' $f)" "Icon=/snap/gui/current/meta/gui/icon.svg"
expect_line "the icon is installed" "$(cat $d/icons/hicolor/64x64/apps/snap.gui.gui.png 2>&1)" "PNG"
expect_line "the completion link is installed" "$(readlink $d/bash-completion/completions/gui)" "/usr/lib/confine/complete.sh"
# Completion through the sandbox, as bash-completion runs it for alice.
complete_gui='. /usr/share/bash-completion/bash_completion; . /var/lib/snapd/desktop/bash-completion/completions/gui gui
	COMP_WORDS=(gui --co); COMP_CWORD=1; COMP_LINE="gui --co"; COMP_POINT=8; COMP_TYPE=9; COMP_KEY=9
	_confine_snap_complete gui; echo "status=$?"; printf "reply=%s\n" "${COMPREPLY[@]}"'
out=$(su -l alice -c "cd /tmp && bash -c '$complete_gui'" 2>&1)
expect_line "the app's completer completes its options (1)" "$out" "reply=--color"
expect_line "the app's completer completes its options (2)" "$out" "reply=--count"
expect_line "only those that fit" "$(grep -c '^reply=' <<<"$out")" "2"
out=$(su -l alice -c "cd /tmp && SECONDS=0; snap-run --command=complete gui.slow 9 9 9 1 ' ' 'gui.slow ' gui.slow '' ; echo status=\$? after=\$SECONDS" 2>&1)
expect_text "a completer that hangs is stopped" "$out" "cannot complete gui.slow: its completer did not answer in 5 s"
expect_text "and the completion fails" "$out" "status=1"
# The completion of snap-run and confine themselves.
out=$(bash -c '. /usr/share/bash-completion/bash_completion; . /usr/share/bash-completion/completions/snap-run
	COMP_WORDS=(snap-run gu); COMP_CWORD=1; _snap_run; printf "%s\n" "${COMPREPLY[@]}"
	COMP_WORDS=(snap-run --str); COMP_CWORD=1; _snap_run; printf "%s\n" "${COMPREPLY[@]}"
	. /usr/share/bash-completion/completions/confine
	COMP_WORDS=(confine rem); COMP_CWORD=1; _confine; printf "%s\n" "${COMPREPLY[@]}"' 2>&1)
expect_line "snap-run completes the snaps' commands" "$out" "gui"
expect_line "snap-run completes its options" "$out" "--strace"
expect_line "confine completes its commands" "$out" "remove"

# A broken desktop file: the install fails and changes nothing.
snapshot() { ls -R /snap /var/snap /var/lib/snapd/desktop /var/lib/snapd/apparmor/profiles /etc/systemd/system 2>&1; }
snapshot >/var/tmp/before
out=$(confine install "$snaps/broken.snap" 2>&1; echo "status=$?")
expect_text "a broken desktop file is refused" "$out" "cannot install $snaps/broken.snap: cannot use meta/gui/evil.desktop of snap broken: line 3: Exec=/usr/bin/evil starts none of the snap"
expect_line "the install fails" "$out" "status=1"
expect_line "and changes nothing" "$(snapshot | diff /var/tmp/before - && echo same)" "same"

# 5. Refresh and removal: snapd's inhibition lock file.
install -d /var/lib/snapd/inhibit
printf refresh >/var/lib/snapd/inhibit/hello.lock
(cd /tmp && env -i PATH=/usr/bin:/bin HOME=/root snap-run --shell hello -c 'echo REV=$SNAP_REVISION' >/var/tmp/waited.out 2>&1) &
waiter=$!
sleep 3
kill -0 $waiter 2>/dev/null && pass "a refresh holds the app back" || fail "a refresh holds the app back" "$(cat /var/tmp/waited.out)"
out=$(confine install "$snaps/hello.snap" 2>&1) || fail "hello refreshes" "$out"
systemctl stop snap.hello.daemon.service
: >/var/lib/snapd/inhibit/hello.lock
wait $waiter
out=$(cat /var/tmp/waited.out)
expect_text "the user is told why" "$out" 'snap package "hello" is being refreshed, please wait'
expect_line "the new revision starts when the refresh is done" "$out" "REV=x2"
# In a graphical session, the wait is also shown as a desktop notice, closed
# when the app starts (a stand-in notification service on a session bus).
printf refresh >/var/lib/snapd/inhibit/hello.lock
: >/var/tmp/notices
dbus-run-session -- sh -c '/usr/bin/python3 '"$notifyd"' /var/tmp/notices >/var/tmp/notifyd.out 2>&1 &
	for i in $(seq 100); do grep -q ready /var/tmp/notifyd.out && break; sleep 0.2; done
	cd /tmp && env -i PATH=/usr/bin:/bin HOME=/root DISPLAY=:0 DBUS_SESSION_BUS_ADDRESS="$DBUS_SESSION_BUS_ADDRESS" \
		snap-run --shell hello -c "echo REV=\$SNAP_REVISION"' >/var/tmp/noticed.out 2>&1 &
waiter=$!
for i in $(seq 150); do grep -q '^notify' /var/tmp/notices && break; sleep 0.2; done
expect_line "a graphical session gets a desktop notice" "$(cat /var/tmp/notices)" \
	'notify app=snap-run summary=Snap "hello" is being refreshed body=hello will start when the refresh is done.'
: >/var/lib/snapd/inhibit/hello.lock
wait $waiter
expect_line "the app starts when the refresh is done" "$(cat /var/tmp/noticed.out)" "REV=x2"
expect_line "and the notice is closed" "$(cat /var/tmp/notices)" "close 7"
printf remove >/var/lib/snapd/inhibit/hello.lock
out=$(cd /tmp && env -i PATH=/usr/bin:/bin HOME=/root snap-run hello 2>&1; echo "status=$?")
expect_text "a snap being removed is not run" "$out" 'cannot run "hello": snap is being removed'
printf 'refresh\0junk' >/var/lib/snapd/inhibit/hello.lock
out=$(cd /tmp && env -i PATH=/usr/bin:/bin HOME=/root timeout 20 snap-run hello 2>&1; echo "status=$?")
expect_text "a malformed lock file is refused" "$out" 'cannot run "hello": '
expect_line "with status 1" "$out" "status=1"
rm -f /var/lib/snapd/inhibit/hello.lock

# 6. A home outside /home is refused, with the setting that would allow it;
# once it is set, the app runs there.
mkdir -p /srv/home
useradd -m -d /srv/home/bob -u 1235 bob
out=$(su -l bob -c "cd /tmp && snap-run --shell hello -c true" 2>&1; echo "status=$?")
expect_text "a home outside /home and homedirs is refused, with the reason" "$out" \
	"cannot run hello: the home directory /srv/home/bob is outside /home, and homedirs (none) in /var/lib/snapd/system-params does not list it"
expect_line "with status 1" "$out" "status=1"
expect_line "and nothing is made in that home" "$(ls -A /srv/home/bob | grep -c '^snap$')" "0"
# Listed in homedirs, as `snap set system homedirs=/srv/home` lists it (the
# setting, and the AppArmor tunable the profiles are compiled with), bob's
# app runs: the launcher binds /srv/home into the sandbox. The namespace of
# hello preserved before the setting has no /srv/home: it is rebuilt.
printf 'homedirs=/srv/home\n' >/var/lib/snapd/system-params
printf '# Generated by snapd -- DO NOT EDIT!\n@{HOMEDIRS}+="/srv/home"\n' >/etc/apparmor.d/tunables/home.d/snapd
out=$(apparmor_parser -r --skip-read-cache /etc/apparmor.d/usr.lib.confine.snap-confine \
	/var/lib/snapd/apparmor/profiles/snap.hello.* /var/lib/snapd/apparmor/profiles/snap-update-ns.hello 2>&1) ||
	fail "the profiles are reloaded with the tunable" "$out"
loginctl enable-linger bob
for i in $(seq 120); do [ -S /run/user/1235/bus ] && break; sleep 0.5; done
su -l bob -c 'mkdir -p ~/snap/hello/common && echo "left by bob" >~/snap/hello/common/note'
out=$(su -l bob -c "cd /tmp && SNAP_CONFINE_DEBUG=1 snap-run --shell hello -c 'cat \$HOME/../common/note; echo written >\$SNAP_USER_DATA/out; echo HOME=\$HOME'" 2>&1; echo "status=$?")
expect_line "a home listed in homedirs runs" "$out" "status=0"
expect_line "the app's data is in that home" "$out" "HOME=/srv/home/bob/snap/hello/x2"
expect_line "the app reads a file from the home" "$out" "left by bob"
expect_line "and writes its data there, on the host" "$(cat /srv/home/bob/snap/hello/x2/out 2>&1)" "written"
expect_text "the namespace preserved without /srv/home is rebuilt" "$out" \
	"discarding the namespace of hello: home directory /srv/home is not mounted in it"
out=$(su -l bob -c "cd /tmp && SNAP_CONFINE_DEBUG=1 snap-run --shell hello -c 'ls /srv/home'" 2>&1; echo "status=$?")
expect_text "the rebuilt namespace is joined by the next command" "$out" "joined the preserved mount namespace of hello"
expect_line "and shows the host's homes there" "$out" "bob"
# A system directory in homedirs is refused by the launcher, with the entry named.
printf 'homedirs=/srv/home,/etc/homes\n' >/var/lib/snapd/system-params
out=$(cd /tmp && env -i PATH=/usr/bin:/bin HOME=/root snap-run --shell hello -c true 2>&1; echo "status=$?")
expect_text "a system directory in homedirs is refused" "$out" \
	'cannot use homedirs entry "/etc/homes" of /var/lib/snapd/system-params: it is /etc or within or above it'
expect_line "with status 1" "$out" "status=1"
rm -f /var/lib/snapd/system-params /etc/apparmor.d/tunables/home.d/snapd

# 7. Removal takes the desktop files with it.
out=$(confine remove gui 2>&1) || fail "remove gui" "$out"
expect_line "removal leaves no desktop file, icon or completion link" \
	"$(find $d -name '*gui*' 2>/dev/null)" ""

summary

#!/bin/bash
# VM suite with systemd as PID 1 (VM_RUN_SYSTEMD=1) and AppArmor on: Debian's
# snapd 2.57.6, offline, drives the launcher. snapd installs a base and snaps
# of each kind (integration/snapd/make-snaps), and the strict app again as a
# second instance (hello_foo); they run once with Debian's
# snap-confine and once with ours from the confine-snapd package, and the
# two sides are compared fact by fact; every difference must be one of the
# deliberate ones (README, "Using it with snapd"). Then the package survives
# a reload of the AppArmor profiles, a restart and a reinstall of snapd, a
# snap is removed, and dpkg -r puts Debian's files back, with which snaps
# run again.
#   VM_RUN_SYSTEMD=1 integration/vm-run integration/suites/snapd.sh SNAPS_DIR
set -u
T_SUITE=snapd
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/suites/lib.sh"
. "$here/snapd/lib.sh"
in=$1
obs=/var/tmp/snapd-suite
rm -rf "$obs" && mkdir -p "$obs/debian" "$obs/ours"
sysctl -qw kernel.printk_ratelimit=0
export PATH=$PATH:/snap/bin
useradd -m -u 1001 tester
# A user's command, executed in place (no process in between, so a
# background one's pid is the app's): as_user CMD...
as_user=(setpriv --reuid=1001 --regid=1001 --init-groups env HOME=/home/tester USER=tester LOGNAME=tester)
# A login shell, as a user's terminal has: /etc/profile.d applies:
# as_login CMD. The login starts the user's systemd manager (user@1001),
# and while its bus is there snap run puts the user's commands, however
# started, in scopes of that manager; logind stops the manager some seconds
# after the last session ended, and that SIGTERMs whatever runs in them (a
# launch still in progress then ended with status 143 and no word). So the
# session is ended here and the manager waited for, before the suite goes on.
as_login() {
	local rc i t=$SECONDS
	runuser -l tester -c "$*"
	rc=$?
	loginctl terminate-user tester 2>/dev/null
	for i in $(seq 1200); do
		if [ -z "$(systemctl show -p ActiveState --value user@1001.service user-runtime-dir@1001.service | grep -vxE 'inactive|failed|')" ] &&
			[ ! -e /run/user/1001 ]; then
			echo "# tester's login ended, and its systemd manager with it ($(took $t))"
			[ $rc = 0 ] || echo "cannot run the login shell's command: exit status $rc" >&2
			return $rc
		fi
		sleep 0.1
	done
	echo "cannot see tester's systemd manager stop: $(systemctl show -p ActiveState user@1001.service user-runtime-dir@1001.service | tr '\n' ' ')" >&2
	return 1
}
took() { echo "$((SECONDS - $1)) s"; }

# snapd 2.57.6 writes no device checkpoints, but confine's own tools make
# their directory (the install suite, run in this boot before, leaves it
# empty): the launcher must go by snapd's version (/usr/lib/snapd/info), not
# by the directory, and never wait for a checkpoint. Made here whatever ran
# before, so that every launch of ours below proves it.
install -d -m 0755 /var/lib/snapd/cgroup

# Debian's files, before anything of ours is installed.
SNAPD_FILES="/usr/lib/snapd/snap-confine /etc/apparmor.d/usr.lib.snapd.snap-confine.real /usr/share/man/man8/snap-confine.8.gz"
files_state() {
	for f in $SNAPD_FILES; do echo "$(stat -c '%a %U:%G' "$f") $(sha256sum <"$f" | cut -c1-64) $f"; done
}
pristine=$(files_state)

t=$SECONDS
if ! snapd_start; then
	fail "snapd starts and is seeded" "$(journalctl -u snapd --no-pager | tail -20)"
	summary
	exit 1
fi
pass "snapd starts and is seeded ($(took $t))"
t=$SECONDS
snapd_install "$in" snapd debian12 && pass "the placeholder snapd snap and the base install ($(took $t))" ||
	fail "the placeholder snapd snap and the base install"
t=$SECONDS
snapd_install "$in" hello layouts provider consumer hello-classic &&
	pass "a strict app with a daemon and a hook, layouts, a content slot and plug, a classic app install ($(took $t))" ||
	fail "the snaps install" "$(snap changes 2>&1 | tail -5)"

# A second instance of the strict app, beside it (parallel instances, an
# experimental feature of snapd).
t=$SECONDS
out=$(snap set system experimental.parallel-instances=true 2>&1 &&
	snap install --dangerous --name hello_foo "$in/hello.snap" 2>&1 && snap list hello_foo 2>&1)
expect_text "with parallel instances enabled, the strict app installs again as hello_foo ($(took $t))" "$out" "hello_foo "

# daemon_pid: the daemon's pid once it runs as the app (up to 60 s).
daemon_pid() {
	local pid i
	for i in $(seq 120); do
		pid=$(systemctl show -p MainPID --value snap.hello.daemon.service)
		[ "$(cat /proc/$pid/attr/current 2>/dev/null)" = "snap.hello.daemon (enforce)" ] && break
		sleep 0.5
	done
	echo "$pid"
}

# instances: hello and hello_foo, two instances of one snap, as root and as
# a user: each writes a marker in its /tmp and in its data directory (root:
# $SNAP_DATA, a user: $SNAP_USER_DATA), then each reads both back; last,
# where the markers are on the host.
instances() {
	local who s data run
	for who in root user; do
		if [ $who = root ]; then run=() data='$SNAP_DATA'; else run=("${as_user[@]}") data='$SNAP_USER_DATA'; fi
		for s in hello hello_foo; do
			"${run[@]}" snap run --shell $s -c "rm -f /tmp/mark-$who $data/mark-$who && echo $s >/tmp/mark-$who && echo $s >$data/mark-$who" 2>&1
		done
		for s in hello hello_foo; do
			echo "$who $s: $("${run[@]}" snap run --shell $s -c \
				"echo \$SNAP_INSTANCE_NAME \$SNAP_NAME \$SNAP_DATA \$SNAP_USER_DATA, /tmp: \$(cat /tmp/mark-$who), data: \$(cat $data/mark-$who)" 2>&1)"
		done
	done
	for s in hello hello_foo; do
		echo "host $s: $(cat /var/snap/$s/x1/mark-root 2>&1) $(cat /home/tester/snap/$s/x1/mark-user 2>&1)"
		# Nothing left for the other checks (the hook counts its /tmp).
		rm -f /tmp/snap-private-tmp/snap.$s/tmp/mark-* /var/snap/$s/x1/mark-root /home/tester/snap/$s/x1/mark-user
	done
}

# One side's observations, one file each, in $obs/SIDE.
observe() {
	local d=$obs/$1 pid upid npid s
	# Each side builds its own namespaces: the ones made while the snaps
	# installed predate the shared /snap and /var/snap that the launcher
	# makes once parallel instances are on, and that mount propagated into
	# them a second time.
	for s in hello hello_foo layouts consumer; do /usr/lib/snapd/snap-discard-ns $s; done
	snap run hello >"$d/hello-root.out" 2>&1
	"${as_user[@]}" snap run hello >"$d/hello-user.out" 2>&1
	start_app pid snap run --shell hello -c 'exec sleep 600'
	describe "$pid" >"$d/hello-root.state"
	stop_app "$pid"
	start_app pid "${as_user[@]}" snap run --shell hello -c 'exec sleep 600'
	describe "$pid" >"$d/hello-user.state"
	stop_app "$pid"
	snap set hello greeting="hi"
	cp /var/snap/hello/common/configure.out "$d/hook.out"
	systemctl restart snap.hello.daemon.service
	pid=$(daemon_pid)
	describe "$pid" >"$d/daemon.state"
	snap run layouts >"$d/layouts-root.out" 2>&1
	"${as_user[@]}" snap run layouts >"$d/layouts-user.out" 2>&1
	start_app pid "${as_user[@]}" snap run layouts wait
	describe "$pid" >"$d/layouts-user.state"
	stop_app "$pid"
	instances >"$d/instances.out" 2>&1
	snap run hello-classic >"$d/classic-root.out" 2>&1
	"${as_user[@]}" snap run hello-classic >"$d/classic-user.out" 2>&1
	start_app pid "${as_user[@]}" snap run --shell hello-classic -c 'exec sleep 600'
	describe "$pid" | grep -v '^mount:' >"$d/classic-user.state"
	stop_app "$pid"
	# The content plug connected and disconnected while the app runs, as
	# root and as a user; snapd runs snap-update-ns in the preserved namespace.
	see() { echo "$(cat /proc/$1/comm 2>&1): $(ls "/proc/$1/root/snap/consumer/x1/content/" 2>&1 | tr '\n' ' ')"; }
	start_app pid snap run consumer
	start_app upid "${as_user[@]}" snap run consumer
	{
		echo "before: root [$(see "$pid")] user [$(see "$upid")]"
		snap connect consumer:content provider:content
		echo "connected: root [$(see "$pid")] user [$(see "$upid")]"
		start_app npid "${as_user[@]}" snap run consumer
		echo "connected, a new command: [$(see "$npid")]"
		stop_app "$npid"
		snap disconnect consumer:content provider:content
		echo "disconnected: root [$(see "$pid")] user [$(see "$upid")]"
	} >"$d/content.out" 2>&1
	stop_app "$pid"
	stop_app "$upid"
	# Which re-executions into the snapd snap happened: from a login shell,
	# from the daemon's unit and from a hook snapd runs.
	install -m 0666 /dev/null /tmp/snap-reexec.log
	as_login 'snap run hello >/dev/null 2>&1'
	echo "login shell: exit status $?" >"$d/login.out"
	systemctl restart snap.hello.daemon.service
	daemon_pid >/dev/null
	snap set hello greeting="hello again"
	{
		echo "login shell: $(grep -c '^1001 run hello' /tmp/snap-reexec.log)"
		echo "daemon: $(grep -c '^0 run hello.daemon' /tmp/snap-reexec.log)"
		echo "hook: $(grep -c '^0 run --hook=configure' /tmp/snap-reexec.log)"
	} >"$d/reexec.out"
	bad_input "$d"
}

# What a failed launch left: the namespace files and scratch directories.
leftovers() {
	ls /run/snapd/ns | grep -E "^($1\.|snap\.$1\.)" | tr '\n' ' '
	ls /tmp/snap-private-tmp | grep -c rootfs_
}

# try DIR NAME SNAP CMD...: run a launch that must fail, keep its exit
# status, stderr and what it left behind.
try() {
	local d=$1 name=$2 snap=$3
	shift 3
	"$@" >"$d/bad-$name.stdout" 2>"$d/bad-$name.stderr"
	echo "$?" >"$d/bad-$name.rc"
	leftovers "$snap" >"$d/bad-$name.left"
}

bad_input() {
	local d=$1 profiles=/var/lib/snapd/apparmor/profiles bpf=/var/lib/snapd/seccomp/bpf
	# No AppArmor profile for the app.
	/usr/lib/snapd/snap-discard-ns hello
	apparmor_parser -R $profiles/snap.hello.hello
	try "$d" no-profile hello "${as_user[@]}" snap run hello
	apparmor_parser -r $profiles/snap.hello.hello
	# No seccomp filter for the app (waited for 1 s).
	/usr/lib/snapd/snap-discard-ns hello
	mv $bpf/snap.hello.hello.bin $bpf/snap.hello.hello.bin.away
	try "$d" no-bin hello "${as_user[@]}" env SNAP_CONFINE_MAX_PROFILE_WAIT=1 snap run hello
	mv $bpf/snap.hello.hello.bin.away $bpf/snap.hello.hello.bin
	# A base that is not installed.
	/usr/lib/snapd/snap-discard-ns hello
	try "$d" unknown-base hello "${as_user[@]}" env SNAP_INSTANCE_NAME=hello /usr/lib/snapd/snap-confine --base nosuchbase \
		snap.hello.hello /usr/lib/snapd/snap-exec hello
	# A mount profile snap-update-ns cannot apply.
	/usr/lib/snapd/snap-discard-ns layouts
	cp /var/lib/snapd/mount/snap.layouts.fstab "$d/layouts.fstab"
	echo "this is not a mount entry" >>/var/lib/snapd/mount/snap.layouts.fstab
	try "$d" update-ns layouts "${as_user[@]}" snap run layouts
	cp "$d/layouts.fstab" /var/lib/snapd/mount/snap.layouts.fstab
	# A namespace whose base changed (recorded as another base) is
	# discarded and built again.
	"${as_user[@]}" snap run hello >/dev/null 2>&1
	sed -i 's/=debian12$/=core18/' /run/snapd/ns/snap.hello.info
	"${as_user[@]}" snap run hello >"$d/stale.out" 2>&1
	echo "exit status $?, $(cat /run/snapd/ns/snap.hello.info)" >"$d/stale.rc"
}

# Debian's snap-confine.
t=$SECONDS
observe debian
pass "Debian's snap-confine runs everything ($(took $t))"

# Ours, from the package.
t=$SECONDS
out=$(dpkg -i "$in"/confine-snapd_*.deb 2>&1)
rc=$?
[ $rc = 0 ] && pass "the package installs with dpkg -i ($(took $t))" || fail "the package installs with dpkg -i" "$out"
expect_text "/usr/lib/snapd/snap-confine is ours" "$(/usr/lib/snapd/snap-confine --version)" "snap-confine 0."
expect_line "three files are diverted" "$(dpkg-divert --list | grep -c 'by confine-snapd')" 3
expect_line "snapd's launcher is kept as it was, where only root reaches it" \
	"$(stat -c '%a %U:%G' /usr/lib/confine-snapd) $(sha256sum </usr/lib/confine-snapd/snap-confine | cut -c1-64)" \
	"700 root:root $(sed -n '1s/^[^ ]* [^ ]* \([^ ]*\) .*/\1/p' <<<"$pristine")"
expect_line "system services get SNAP_REEXEC=0" "$(systemctl show-environment | grep '^SNAP_REEXEC=')" "SNAP_REEXEC=0"
t=$SECONDS
out=$(SNAP_CONFINE_DEBUG=1 snap run hello 2>&1 >/dev/null)
expect_text "ours goes by snapd's version, not by the checkpoint directory, and waits for nothing ($(took $t))" "$out" \
	"snapd 2.57 (/usr/lib/snapd/info) predates device checkpoints"
t=$SECONDS
observe ours
pass "our snap-confine runs everything ($(took $t))"

# Both sides, compared. Each difference must be a deliberate one.
deliberate() { # FILE LINE: whether LINE ("< x" Debian's, "> x" ours) is an expected difference
	local file=$1 line=$2
	case "$file:$line" in
	# SNAP_REEXEC=0 comes from the package's settings.
	*.state:"> env: SNAP_REEXEC=0" | *.state:"< env: SNAP_REEXEC=") return 0 ;;
	reexec.out:*) return 0 ;;
	# Ours sets SHELL=/bin/bash for strict apps, as snapd 2.70's does (the
	# host's shell may not exist in the base).
	*.state:"> env: SHELL=/bin/bash") return 0 ;;
	# The private tmp base is a private mount point of its own (bound onto
	# itself at the first cold launch of ours), seen through the host's /tmp
	# and through hostfs.
	*.state:"> mount: /tmp/snap-private-tmp "*" /tmp/snap-private-tmp") return 0 ;;
	*.state:"> mount: /var/lib/snapd/hostfs/tmp/snap-private-tmp "*" /tmp/snap-private-tmp") return 0 ;;
	# Classic apps whose policy is unrestricted: ours still loads snapd's
	# global.bin (TIOCSTI refused); Debian's loads nothing.
	classic-*.out:"< seccomp        : off" | classic-*.out:"> seccomp        : filter (1 filters)") return 0 ;;
	classic-*.out:"< denied calls   : "*tiocsti=ENOTTY*) return 0 ;;
	classic-*.out:"> denied calls   : "*tiocsti=EPERM*) return 0 ;;
	classic-user.state:"< Seccomp: 0" | classic-user.state:"< Seccomp_filters: 0") return 0 ;;
	classic-user.state:"> Seccomp: 2" | classic-user.state:"> Seccomp_filters: 1") return 0 ;;
	# Refusals: one "cannot ..." line each where Debian's words differ, and
	# ours reads the policy before it builds anything, so a missing filter
	# leaves no namespace behind.
	bad-*.stderr:*) return 0 ;;
	bad-no-bin.left:"< "*) [ "$line" = "< hello.mnt snap.hello.fstab snap.hello.info 0" ] && return 0 ;;
	bad-no-bin.left:"> 0") return 0 ;;
	# A content connection reaches a user's running command too with ours
	# (each command's namespace is a slave of the snap's); with Debian's
	# 2.57.6 only root's.
	content.out:"< connected: root [sleep: provided.txt ] user [sleep: ]") return 0 ;;
	content.out:"> connected: root [sleep: provided.txt ] user [sleep: provided.txt ]") return 0 ;;
	esac
	return 1
}
# What differs from run to run: namespace ids, pipe and socket numbers.
# The files each side writes to, and the socket the hook inherits from
# snapd (at another descriptor from run to run).
norm() { sed -E 's/(mnt|pipe|socket):\[[0-9]+\]/\1:[N]/g; s|/var/tmp/snapd-suite/[a-z]+/|OBS/|g; s/ [0-9]+:socket:/ N:socket:/g'; }
for f in "$obs"/debian/*; do
	name=${f##*/}
	case $name in layouts.fstab) continue ;; esac
	unexplained=$(diff <(norm <"$f") <(norm <"$obs/ours/$name") | grep '^[<>]' | while IFS= read -r line; do
		deliberate "$name" "$line" || echo "$line"
	done)
	if [ -z "$unexplained" ]; then
		pass "same on both sides, or deliberately not: $name"
	else
		fail "same on both sides, or deliberately not: $name" "$unexplained"
	fi
done
for f in "$obs"/ours/bad-*.stderr; do
	name=${f##*/}
	expect_text "ours refuses with a cannot line: ${name%.stderr}" "$(tail -n +1 "$f" | grep -v '^WARNING\|^Please')" "cannot "
done
expect_text "ours: a command started after snap connect sees the content" "$(cat "$obs/ours/content.out")" \
	"connected, a new command: [sleep: provided.txt ]"
expect_text "ours: the running commands, root's and a user's, see the content once connected" "$(cat "$obs/ours/content.out")" \
	"connected: root [sleep: provided.txt ] user [sleep: provided.txt ]"
expect_text "ours: and no longer once disconnected" "$(cat "$obs/ours/content.out")" "disconnected: root [sleep: ] user [sleep: ]"
echo "# the content plug, Debian's then ours:"
sed 's/^/#   /' "$obs/debian/content.out" "$obs/ours/content.out"
echo "# the differences, Debian's (<) and ours (>):"
(cd "$obs" && diff -r debian ours | sed 's/^/#   /')

# Each instance has its own /tmp and data, as root and as a user, on both
# sides (the files are compared above): hello_foo sees its own data as
# /var/snap/hello; a user's data keeps the instance's name.
instances_want="root hello: hello hello /var/snap/hello/x1 /root/snap/hello/x1, /tmp: hello, data: hello
root hello_foo: hello_foo hello /var/snap/hello/x1 /root/snap/hello_foo/x1, /tmp: hello_foo, data: hello_foo
user hello: hello hello /var/snap/hello/x1 /home/tester/snap/hello/x1, /tmp: hello, data: hello
user hello_foo: hello_foo hello /var/snap/hello/x1 /home/tester/snap/hello_foo/x1, /tmp: hello_foo, data: hello_foo
host hello: hello hello
host hello_foo: hello_foo hello_foo"
for side in debian ours; do
	out=$(cat "$obs/$side/instances.out")
	if [ "$out" = "$instances_want" ]; then
		pass "$side: hello and hello_foo each see their own /tmp and data, as root and as a user"
	else
		fail "$side: hello and hello_foo each see their own /tmp and data, as root and as a user" \
			"expected:" "$instances_want" "got:" "$out"
	fi
	expect_line "$side: the login shell's command ran, and the login's systemd manager ended before the suite went on" \
		"$(cat "$obs/$side/login.out")" "login shell: exit status 0"
done

# The settings reach every way snap run is started.
expect_line "Debian's: snap run re-executes into the snapd snap from a login shell" "$(cat "$obs/debian/reexec.out")" "login shell: 1"
expect_line "Debian's: snap run re-executes into the snapd snap from a daemon" "$(cat "$obs/debian/reexec.out")" "daemon: 1"
expect_line "ours: no re-execution into the snapd snap from a login shell, a daemon or a hook" \
	"$(cat "$obs/ours/reexec.out" | tr '\n' ' ')" "login shell: 0 daemon: 0 hook: 0 "


# The package survives what snapd and AppArmor do. apparmor.service loads
# every profile in /etc/apparmor.d again (it does not run in this VM: done
# here for the files that name snap-confine); snapd's profile is not there.
# running_label AS...: the label of an app started by snap run as AS.
running_label() {
	local pid
	start_app pid "$@" snap run --shell hello -c 'exec sleep 600'
	cat "/proc/$pid/attr/current" 2>&1
	stop_app "$pid"
}
user_label() { running_label "${as_user[@]}"; }
for f in $(grep -l snap-confine /etc/apparmor.d/* 2>/dev/null); do apparmor_parser -r "$f" 2>&1; done
expect_line "snapd's profile is not in /etc/apparmor.d" "$(grep -l '^profile /usr/lib/snapd/snap-confine' -r /etc/apparmor.d | wc -l)" 1
expect_line "after a reload of the profiles a user's snap run still works" "$(user_label)" "snap.hello.hello (enforce)"
t=$SECONDS
out=$(systemctl restart snapd.service 2>&1 && snap wait system seed.loaded 2>&1)
expect_line "after a restart of snapd a user's snap run still works ($(took $t))" "$(user_label)" "snap.hello.hello (enforce)"
t=$SECONDS
out=$(dpkg -i "$in"/snapd_*.deb 2>&1)
rc=$?
[ $rc = 0 ] && pass "snapd's package reinstalls over ours ($(took $t))" || fail "snapd's package reinstalls over ours" "$out"
snap wait system seed.loaded >/dev/null 2>&1
expect_text "/usr/lib/snapd/snap-confine is still ours" "$(/usr/lib/snapd/snap-confine --version 2>&1)" "snap-confine 0."
expect_line "snapd's launcher went to the diverted name" "$(sha256sum </usr/lib/confine-snapd/snap-confine | cut -c1-64)" \
	"$(sed -n '1s/^[^ ]* [^ ]* \([^ ]*\) .*/\1/p' <<<"$pristine")"
expect_line "after snapd's reinstall a user's snap run still works" "$(user_label)" "snap.hello.hello (enforce)"
expect_line "and the daemon is confined" \
	"$(systemctl restart snap.hello.daemon.service; cat /proc/$(daemon_pid)/attr/current)" \
	"snap.hello.daemon (enforce)"

# snap remove discards the namespace our launcher made (snapd runs its own
# snap-discard-ns).
"${as_user[@]}" snap run layouts >/dev/null 2>&1
out=$(snap remove layouts 2>&1)
expect_line "a snap whose namespace ours made is removed" "$(snap list layouts 2>&1 | grep -c '^layouts ')$(ls /run/snapd/ns | grep -c layouts)" "00"

# dpkg -r puts Debian's files back exactly, and its launcher runs snaps again.
t=$SECONDS
out=$(dpkg -r confine-snapd 2>&1)
rc=$?
[ $rc = 0 ] && pass "the package is removed with dpkg -r ($(took $t))" || fail "the package is removed with dpkg -r" "$out"
expect_line "Debian's files are back exactly (mode, owner, contents)" "$(files_state)" "$pristine"
expect_line "no diversion is left" "$(dpkg-divert --list | grep -c 'by confine-snapd')" 0
expect_line "nothing of the package is left" \
	"$(ls -d /usr/lib/confine-snapd /etc/confine-snapd /etc/profile.d/confine-snapd.sh /etc/sudoers.d/confine-snapd \
		/usr/lib/environment.d/60-confine-snapd.conf /usr/lib/systemd/system-environment-generators/60-confine-snapd 2>/dev/null | wc -l)" 0
expect_line "system services no longer get SNAP_REEXEC=0" "$(systemctl show-environment | grep -c '^SNAP_REEXEC=')" 0
expect_line "Debian's launcher runs a user's app (over the namespace ours preserved)" "$(user_label)" "snap.hello.hello (enforce)"
expect_line "Debian's launcher runs root's app" "$(running_label)" "snap.hello.hello (enforce)"
out=$(snap set hello greeting=back 2>&1; cat /var/snap/hello/common/configure.out)
expect_line "Debian's launcher runs the hook" "$(head -n1 <<<"$out")" "snapctl get greeting: back"

summary

#!/bin/bash
# VM suite with systemd as PID 1 (VM_RUN_SYSTEMD=1) and AppArmor on: mount
# profiles end to end through the installed tools. Root installs the
# content provider "platform" and the GNOME-shaped "gnome-app" (four content
# plugs whose default provider is platform, five layouts); nobody runs it
# and it reports its layouts and content as snap-update-ns made them; a
# connection made or undone reaches a running app's namespace; bad layouts
# are refused; symlinks planted at layout targets, in content sources and
# at content mount points are never followed, with ours and with Debian's
# snap-update-ns; the personal-files example reaches what its plugs name
# and nothing else of the home; the caller's own mount profile (the document portal) is applied per command.
#   VM_RUN_SYSTEMD=1 integration/vm-run integration/suites/mounts.sh EXAMPLES_DIR
set -u
T_SUITE=mounts
. "$(dirname "$0")/lib.sh"
examples=$1
triplet=$(gcc -print-multiarch)
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- env -i HOME=/home/nobody PATH=/snap/bin:/usr/bin:/bin "$@"; }

apparmor_parser -r /etc/apparmor.d/usr.lib.confine.snap-confine
install -d -m 0700 /tmp/snap-private-tmp
install -d -o 65534 -g 65534 /home/nobody

out=$(confine install "$examples/debian12.snap" 2>&1 && confine install "$examples/platform.snap" 2>&1 &&
	confine install "$examples/gnome-app.snap" 2>&1)
echo "$out" | sed 's/^/# /'
conns=$(confine connections gnome-app 2>&1)
for plug in gnome-platform gtk-3-themes icon-themes sound-themes; do
	expect_text "$plug connects to its default provider at install" "$conns" "platform:$plug"
done
fstab=$(cat /var/lib/snapd/mount/snap.gnome-app.fstab 2>&1)
expect_text "the mount profile binds the provider's runtime" "$fstab" \
	"/snap/platform/x1/runtime /snap/gnome-app/x1/gnome-platform none bind,ro 0 0"
expect_text "the mount profile has the layouts" "$fstab" "x-snapd.origin=layout"
# platform-state names no default provider: connected by hand.
# Owned by nobody, so that only the mount decides whether the app may write.
install -d -o 65534 -g 65534 /var/snap/platform/x1/state && echo shared >/var/snap/platform/x1/state/marker
confine connect gnome-app:platform-state platform:state >/dev/null 2>&1 || fail "connect platform-state" "$(confine connect gnome-app:platform-state platform:state 2>&1)"

out=$(cd /tmp && nobody gnome-app 2>&1)
echo "$out" | sed 's/^/# /'
expect_line "a bind layout over the base's /usr/lib" "$out" "/usr/lib/$triplet/webkit2gtk-4.1: directory root:root 755"
expect_line "it shows the provider's library directory" "$out" "webkit: platform runtime/usr/lib/$triplet/webkit2gtk-4.1"
expect_line "the base's files and symlinks stay beside it (writable mimic)" "$out" "base lib kept: libzstd.so.1.5.4 ELF"
expect_line "a second bind layout" "$out" "libdrm: platform runtime/usr/share/libdrm"
expect_line "a symlink layout" "$out" "/usr/share/xml/iso-codes: symlink -> /snap/gnome-app/x1/gnome-platform/usr/share/xml/iso-codes"
expect_line "through it, the provider's data" "$out" "iso-codes: platform runtime/usr/share/xml/iso-codes"
expect_line "a bind-file layout in /etc" "$out" "/etc/gnome-app.conf: regular file root:root 644"
expect_line "it shows the snap's file" "$out" "conf: gnome-app configuration"
expect_line "a tmpfs layout with its mode" "$out" "/var/cache/gnome-app: directory root:root 750"
expect_line "the runtime content" "$out" "gnome-platform: platform runtime"
expect_line "the themes content (source: under the target)" "$out" "data-dir/themes/themes: platform share/themes"
expect_line "the icons content" "$out" "data-dir/icons/icons: platform share/icons"
expect_line "the sounds content" "$out" "data-dir/sounds/sounds: platform share/sounds"
expect_line "read content is read-only" "$out" "/snap/gnome-app/x1/gnome-platform: read-only"
expect_line "write content is writable" "$out" "/var/snap/gnome-app/x1/platform-state: writable"
expect_line "write content is the provider's data" "$out" "state: shared"
current=$(cat /run/snapd/ns/snap.gnome-app.fstab 2>&1)
# No home directory outside /home: the root is the base itself, and the
# current profile records no tmpfs root for snap-update-ns to write in.
grep -q "x-snapd.origin=rootfs" <<<"$current" && fail "the root is the base, not a tmpfs" "$current" ||
	pass "the root is the base, not a tmpfs"
expect_text "the current profile records the mimic" "$current" "x-snapd.synthetic"

# sleeper: starts a command of gnome-app that sleeps (its pid in $pid,
# told by the command itself); stop_sleeper ends it.
sleeper() {
	local f=/tmp/snap-private-tmp/snap.gnome-app/tmp/sleeper
	rm -f $f
	(cd /tmp && nobody snap-run --shell gnome-app -c 'echo $$ >/tmp/sleeper; exec sleep 120') &
	pid=
	for i in $(seq 100); do pid=$(cat $f 2>/dev/null) && [ -n "$pid" ] && break; sleep 0.1; done
}
stop_sleeper() { kill "$pid" 2>/dev/null; wait; }

# The differential: the same profiles applied by Debian's snap-update-ns
# (snapd 2.57.6), run by our launcher from its directory as snap-confine
# runs it. The snap's mount tables, normalised (mount point, root in its
# file system, type, read-only or not; ids and devices dropped; the test's
# own bind of Debian's tool left out), must be the same, and so must what
# the app reports but for the tmpfs layout's mode (ours gives the tmpfs the
# layout's mode; snapd only its mount point).
uns=/usr/lib/confine/snap-update-ns
table() {
	nsenter --mount=/run/snapd/ns/gnome-app.mnt cat /proc/self/mountinfo |
		awk '{ for (i = 7; $i != "-"; i++); split($6, o, ","); print $5, $4, $(i + 1), o[1] }' | grep -v snap-update-ns | sort
}
ours_table=$(table)
ours_report=$(cd /tmp && nobody gnome-app 2>&1)
/usr/lib/confine/snap-discard-ns gnome-app
mount --bind /usr/lib/snapd/snap-update-ns $uns
debian_report=$(cd /tmp && nobody gnome-app 2>&1)
debian_table=$(table)
expect_line "Debian's snap-update-ns run by our launcher applies the tmpfs layout" "$debian_report" \
	"/var/cache/gnome-app: directory root:root 1777"
d=$(diff <(grep -v '^/var/cache/gnome-app:' <<<"$ours_report") <(grep -v '^/var/cache/gnome-app:' <<<"$debian_report"))
[ -z "$d" ] && pass "the app sees the same with Debian's snap-update-ns" || fail "the app sees the same with Debian's snap-update-ns" "$d"
d=$(diff <(echo "$ours_table") <(echo "$debian_table"))
[ -z "$d" ] && pass "the mount tables are the same with Debian's snap-update-ns" ||
	fail "the mount tables are the same with Debian's snap-update-ns" "$d"
# Each updates a namespace the other built, with an app running in it:
# ours one that Debian's built (a disconnect, and a connect that needs a
# new mimic), then Debian's one that ours built (a disconnect: Debian's
# 2.57.6 cannot make a new mimic in a namespace whose mounts are shared,
# see README.md).
sounds=/snap/gnome-app/x1/data-dir/sounds/sounds/marker
sleeper
umount $uns
confine disconnect gnome-app:sound-themes >/dev/null 2>&1
[ -e /proc/$pid/root$sounds ] && fail "ours disconnects in a namespace Debian's built" "$(grep sounds /proc/$pid/mountinfo)" ||
	pass "ours disconnects in a namespace Debian's built"
out=$(confine connect gnome-app:sound-themes platform:sound-themes 2>&1)
expect_line "ours connects in a namespace Debian's built" "$(cat /proc/$pid/root$sounds 2>&1)" "platform share/sounds"
stop_sleeper
/usr/lib/confine/snap-discard-ns gnome-app
sleeper
mount --bind /usr/lib/snapd/snap-update-ns $uns
out=$(confine disconnect gnome-app:sound-themes 2>&1)
umount $uns
[ -e /proc/$pid/root$sounds ] && fail "Debian's disconnects in a namespace ours built" "$out" "$(grep sounds /proc/$pid/mountinfo)" ||
	pass "Debian's disconnects in a namespace ours built"
confine connect gnome-app:sound-themes platform:sound-themes >/dev/null 2>&1
expect_line "and ours connects again after it" "$(cat /proc/$pid/root$sounds 2>&1)" "platform share/sounds"
stop_sleeper

# A connection undone and made again while an app runs: its namespace follows.
sleeper
icons=/snap/gnome-app/x1/data-dir/icons/icons/marker
expect_line "the running app sees the icons" "$(cat /proc/$pid/root$icons 2>&1)" "platform share/icons"
out=$(confine disconnect gnome-app:icon-themes 2>&1)
expect_text "disconnect updates the live namespace" "$out" "updated"
[ -e /proc/$pid/root$icons ] && fail "disconnect removes the icons from the running app" "$(grep icons /proc/$pid/mountinfo)" ||
	pass "disconnect removes the icons from the running app"
expect_line "the other content stays" "$(cat /proc/$pid/root/snap/gnome-app/x1/data-dir/themes/themes/marker 2>&1)" "platform share/themes"
expect_line "a new command joins the updated namespace" "$(cd /tmp && nobody gnome-app 2>&1 | grep '^data-dir/icons')" \
	"data-dir/icons/icons: cat: /snap/gnome-app/x1/data-dir/icons/icons/marker: No such file or directory"
confine connect gnome-app:icon-themes platform:icon-themes >/dev/null 2>&1
expect_line "connect brings them back to the running app" "$(cat /proc/$pid/root$icons 2>&1)" "platform share/icons"
stop_sleeper

# No app running: the namespace is discarded and the next launch builds it.
out=$(confine disconnect gnome-app:sound-themes 2>&1)
expect_text "disconnect with no app running discards the namespace" "$out" "discarded"
expect_line "the rebuilt namespace has no sounds" "$(cd /tmp && nobody gnome-app 2>&1 | grep '^data-dir/sounds')" \
	"data-dir/sounds/sounds: cat: /snap/gnome-app/x1/data-dir/sounds/sounds/marker: No such file or directory"

# A symlink planted in a content source (the provider's writable data) is
# never followed: nothing of the host's /etc reaches the consumer.
confine disconnect gnome-app:platform-state >/dev/null 2>&1
rm -rf /var/snap/platform/x1/state && ln -s /etc /var/snap/platform/x1/state
confine connect gnome-app:platform-state platform:state >/dev/null 2>&1
out=$(cd /tmp && nobody gnome-app 2>&1)
expect_line "a symlinked content source is not mounted" "$out" "state: cat: /var/snap/gnome-app/x1/platform-state/marker: No such file or directory"
mounts=$(cd /tmp && nobody snap-run --shell gnome-app -c 'ls /var/snap/gnome-app/x1/platform-state/' 2>&1)
[ -z "$(grep -x passwd <<<"$mounts")" ] && pass "the host's /etc is not bound in" || fail "the host's /etc is not bound in" "$mounts"
rm -f /var/snap/platform/x1/state

# Symlinks the snaps plant themselves, never followed: each points to a
# directory of the host that the sandbox shares (/var/tmp), where a
# followed link would leave a directory or a mount. Each case runs with
# our snap-update-ns and with Debian's (bound over ours, as above), which
# must agree.
#  - planted-layout ships $SNAP/plugins as a link, with a layout there, and
#    planted-deep ships $SNAP/lib as one, with a layout at $SNAP/lib/sub:
#    their launches are refused (a layout that cannot be made stops the
#    update, as in snapd) and leave no namespace;
#  - planted-provider's content source is a link it ships ($SNAP/etc to
#    /etc), and planted-consumer's app links the mount point of its other
#    content plug ($SNAP_DATA/plugins) to the host before it is connected:
#    both are skipped (as snapd skips content it cannot mount) and the app
#    runs without them.
host=/var/tmp/planted-host
rm -rf $host /var/tmp/planted && install -d -m 0755 $host && echo host >$host/marker
# mksnap NAME YAML_LINE...: /var/tmp/planted/NAME.snap from the files made
# in /var/tmp/planted/NAME and a snap.yaml of these lines after the first.
mksnap() {
	local name=$1 d=/var/tmp/planted/$1
	shift
	mkdir -p $d/meta && printf '%s\n' "name: $name" "version: '1'" "base: debian12" "$@" >$d/meta/snap.yaml &&
		mksquashfs $d $d.snap -all-root -noappend -quiet -no-progress
}
mkdir -p /var/tmp/planted/planted-layout/real /var/tmp/planted/planted-deep /var/tmp/planted/planted-provider/plain \
	/var/tmp/planted/planted-consumer/source
ln -s $host /var/tmp/planted/planted-layout/plugins
ln -s $host /var/tmp/planted/planted-deep/lib
ln -s /etc /var/tmp/planted/planted-provider/etc
echo provider >/var/tmp/planted/planted-provider/plain/marker
mksnap planted-layout "apps:" "  planted-layout:" "    command: bin/true" "layout:" '  $SNAP/plugins:' '    bind: $SNAP/real'
mksnap planted-deep "apps:" "  planted-deep:" "    command: bin/true" "layout:" '  $SNAP/lib/sub:' '    type: tmpfs'
mksnap planted-provider "slots:" "  etc:" "    interface: content" "    content: etc" '    read: [$SNAP/etc]' \
	"  plain:" "    interface: content" "    content: plain" '    read: [$SNAP/plain]'
mksnap planted-consumer "apps:" "  planted-consumer:" "    command: bin/true" "    plugs: [etc, plugins]" "plugs:" "  etc:" "    interface: content" "    content: etc" \
	'    target: $SNAP/source' "    default-provider: planted-provider" "  plugins:" "    interface: content" \
	"    content: plain" '    target: $SNAP_DATA/plugins'
out=$(for s in planted-layout planted-deep planted-provider planted-consumer; do confine install /var/tmp/planted/$s.snap 2>&1; done)
echo "$out" | sed 's/^/# /'
as_root() { env -i PATH=/snap/bin:/usr/bin:/bin HOME=/root "$@"; }
# The consumer's app plants its link, then the plug is connected.
as_root snap-run --shell planted-consumer -c 'ln -s /var/tmp/planted-host $SNAP_DATA/plugins' 2>&1 | sed 's/^/# /'
out=$(confine connect planted-consumer:plugins planted-provider:plain 2>&1) || fail "connect planted-consumer:plugins" "$out"
# planted TOOL: what each planted snap's launch gives (status, and the
# consumer's view of its content from its namespace), with our launcher
# running TOOL's snap-update-ns.
planted() {
	local s st
	[ "$1" = debian ] && mount --bind /usr/lib/snapd/snap-update-ns $uns
	for s in planted-layout planted-deep planted-consumer; do
		/usr/lib/confine/snap-discard-ns $s
		out=$(cd /tmp && nobody snap-run --shell $s -c 'echo ran' 2>&1)
		st=$?
		echo "$1 $s: status $st" && echo "$out" | sed "s/^/# $1 $s: /" >&2
		grep -q "cannot apply the mount profile of snap $s: snap-update-ns failed" <<<"$out" && echo "$1 $s: update refused"
		[ -e /run/snapd/ns/$s.mnt ] && echo "$1 $s: namespace kept"
	done
	nsenter --mount=/run/snapd/ns/planted-consumer.mnt sh -c 'echo "source: $(ls -A /snap/planted-consumer/x1/source)"
		echo "plugins: $(readlink /var/snap/planted-consumer/x1/plugins)"; echo "host: $(ls -A /var/tmp/planted-host)"
		cat /proc/self/mountinfo' 2>&1 | awk -v t="$1 consumer" '
		$5 ~ /^\/var\/tmp\/planted-host($|\/)/ || $5 == "/snap/planted-consumer/x1/source" || $5 == "/var/snap/planted-consumer/x1/plugins" { n++; next }
		NF < 7 { print t, $0; next } { m++ } END { print t, "mount table lines:", (m > 0 ? "some" : "none"); print t, "mounts there:", n + 0 }'
	[ "$1" = debian ] && umount $uns
	/usr/lib/confine/snap-discard-ns planted-consumer
}
ours=$(planted ours)
debian=$(planted debian)
echo "$ours" | sed 's/^/# /'
echo "$debian" | sed 's/^/# /'
for tool in ours debian; do
	out=${!tool}
	expect_line "$tool: a layout at a link the snap ships is refused" "$out" "$tool planted-layout: status 1"
	expect_line "$tool: planted-layout is refused by snap-update-ns" "$out" "$tool planted-layout: update refused"
	expect_line "$tool: a layout below a link the snap ships is refused" "$out" "$tool planted-deep: status 1"
	expect_line "$tool: planted-deep is refused by snap-update-ns" "$out" "$tool planted-deep: update refused"
	expect_line "$tool: the consumer runs without the content it cannot have" "$out" "$tool planted-consumer: status 0"
	expect_line "$tool: a linked content source is not mounted" "$out" "$tool consumer source: "
	expect_line "$tool: a content mount point the app linked stays a link" "$out" "$tool consumer plugins: $host"
	expect_line "$tool: nothing is made in the host's directory" "$out" "$tool consumer host: marker"
	expect_line "$tool: the consumer's namespace is kept" "$out" "$tool consumer mount table lines: some"
	expect_line "$tool: no mount at the links' targets or the content's mount points" "$out" "$tool consumer mounts there: 0"
	grep -q "planted-layout: namespace kept\|planted-deep: namespace kept" <<<"$out" &&
		fail "$tool: a refused launch keeps no namespace" "$out" || pass "$tool: a refused launch keeps no namespace"
done
d=$(diff <(sed 's/^ours //' <<<"$ours") <(sed 's/^debian //' <<<"$debian"))
[ -z "$d" ] && pass "planted links: Debian's snap-update-ns does the same" || fail "planted links: Debian's snap-update-ns does the same" "$d"
[ "$(ls -A $host)" = marker ] && ! grep -q planted-host /proc/self/mountinfo &&
	pass "planted links: the host is untouched" || fail "planted links: the host is untouched" "$(ls -A $host; grep planted /proc/self/mountinfo)"
for s in planted-consumer planted-provider planted-deep planted-layout; do confine remove $s >/dev/null 2>&1; done
rm -rf $host /var/tmp/planted

# The personal-files example under AppArmor: its plugs (never connected
# automatically) give it ~/.config/personal to read and ~/.personal-notes
# to read and write, nothing else of the home; every file is nobody's, so
# only the policy refuses.
h=/home/nobody
install -d -o 65534 -g 65534 $h/.config $h/.config/personal $h/.config/other $h/.personal-notes $h/.ssh $h/Documents
for f in .config/personal/settings .config/other/settings .personal-notes/today .ssh/id Documents/letter; do
	echo mine >$h/$f && chown 65534:65534 $h/$f
done
out=$(confine install "$examples/personal.snap" 2>&1)
echo "$out" | sed 's/^/# /'
# personal_sees STATE OK_PATH...: the app's verdicts, each ok for the
# paths given and EACCES for the others.
personal_sees() {
	local state=$1 got want line bad=
	shift
	got=$(cd /tmp && nobody personal 2>&1)
	echo "$got" | sed "s/^/# $state: /"
	for line in read:$h/.config/personal/settings read:$h/.personal-notes/today read:$h/.config/other/settings \
		read:$h/.ssh/id read:$h/Documents/letter write:$h/.personal-notes/today write:$h/.personal-notes/new \
		write:$h/.config/personal/settings write:$h/.config/other/settings write:$h/new; do
		want=EACCES
		for ok; do [ "$line" = "$ok" ] && want=ok; done
		grep -qxF "$line=$want" <<<"$got" || bad+="$line: want $want"$'\n'
	done
	[ -z "$bad" ] && pass "personal-files, $state: the app reaches what its plugs name and nothing else" ||
		fail "personal-files, $state: the app reaches what its plugs name and nothing else" "$bad"
}
personal_sees "not connected"
confine connect personal:dot-config >/dev/null 2>&1 && confine connect personal:notes >/dev/null 2>&1 ||
	fail "connect the personal-files plugs" "$(confine connections personal 2>&1)"
personal_sees "connected" read:$h/.config/personal/settings read:$h/.personal-notes/today \
	write:$h/.personal-notes/today write:$h/.personal-notes/new
confine disconnect personal:notes >/dev/null 2>&1
personal_sees "notes disconnected" read:$h/.config/personal/settings
[ ! -e $h/new ] && [ "$(cat $h/.config/personal/settings $h/.personal-notes/today)" = "$(printf 'mine\nmine\nprobe')" ] &&
	pass "personal-files: the app wrote where its plug said and nowhere else" ||
	fail "personal-files: the app wrote where its plug said and nowhere else" "$(ls -A $h; cat $h/.personal-notes/today)"
confine remove personal >/dev/null 2>&1

# Layouts snapd's validation forbids are refused; /usr, /var and /etc work
# (above).
for target in /proc/x /sys/x /dev/x /run/x /boot/x /var/lib/snapd/x /var/snap/x /tmp/x /home/x; do
	d=/var/tmp/bad && rm -rf $d && mkdir -p $d/meta &&
		printf '%s\n' "name: bad" "version: '1'" "base: debian12" "apps:" "  bad:" "    command: bin/true" "layout:" \
			"  $target:" "    type: tmpfs" >$d/meta/snap.yaml
	out=$(CONFINE_ROOT=/var/tmp/badroot confine register $d --revision 1 2>&1)
	expect_text "a layout at $target is refused" "$out" "cannot"
done

# The caller's own profile: the document portal of desktop apps, bound in
# each command's namespace (not the snap's) from the caller's runtime dir.
install -d -o 65534 -g 65534 -m 0700 /run/user/65534 /run/user/65534/doc /run/user/65534/doc/by-app \
	/run/user/65534/doc/by-app/snap.gnome-app
echo portal >/run/user/65534/doc/by-app/snap.gnome-app/marker && chown 65534:65534 /run/user/65534/doc/by-app/snap.gnome-app/marker
expect_text "the desktop plug writes the user's profile" "$(cat /var/lib/snapd/mount/snap.gnome-app.user-fstab 2>&1)" \
	'$XDG_RUNTIME_DIR/doc/by-app/snap.gnome-app $XDG_RUNTIME_DIR/doc none bind,rw'
out=$(cd /tmp && nobody env XDG_RUNTIME_DIR=/run/user/65534 snap-run --shell gnome-app -c 'cat /run/user/65534/doc/marker' 2>&1)
expect_line "the portal's files are bound at XDG_RUNTIME_DIR/doc" "$out" "portal"
expect_line "the host's doc directory is untouched" "$(ls /run/user/65534/doc)" "by-app"
# Our snap-update-ns is next to the launcher: the launcher applies the
# caller's profile itself, under its own AppArmor profile, and starts no
# snap-update-ns for it.
out=$(cd /tmp && nobody env XDG_RUNTIME_DIR=/run/user/65534 SNAP_CONFINE_DEBUG=1 snap-run --shell gnome-app -c 'cat /run/user/65534/doc/marker' 2>&1)
expect_text "the launcher applies the caller's profile itself" "$out" "in the launcher, as user 65534"
expect_line "and the portal's files are there" "$(tail -1 <<<"$out")" "portal"
if grep -q -- '--user-mounts' <<<"$out"; then fail "no snap-update-ns --user-mounts is run" "$out"; else pass "no snap-update-ns --user-mounts is run"; fi
grep -q ' /run/user/65534/doc ' /proc/self/mountinfo && fail "no user mount reaches the host" ||
	pass "no user mount reaches the host"

# Parallel instances (snapd's experimental.parallel-instances): hello_foo
# (strict) and hello-classic_bar (classic) beside hello and hello-classic,
# an instance of each running at the same time. The strict instance's
# mapping is its mount profile's overname entries, applied by
# snap-update-ns; its home directory by the user profile.
install -d /var/lib/snapd/features && touch /var/lib/snapd/features/parallel-instances
out=$(confine install "$examples/hello.snap" 2>&1 && confine install --name hello_foo "$examples/hello.snap" 2>&1 &&
	confine install "$examples/hello-classic.snap" 2>&1 && confine install --name hello-classic_bar "$examples/hello-classic.snap" 2>&1)
echo "$out" | sed 's/^/# /'
expect_line "the instance's wrapper" "$(readlink /snap/bin/hello_foo)" "/usr/bin/snap-run"
expect_text "the instance's profile maps its snap directory" "$(cat /var/lib/snapd/mount/snap.hello_foo.fstab 2>&1)" \
	"/snap/hello_foo /snap/hello none rbind,x-snapd.origin=overname 0 0"
for i in hello hello_foo hello-classic hello-classic_bar; do
	install -d /var/snap/$i/common && echo "$i data" >/var/snap/$i/common/marker
	install -d -o 65534 -g 65534 /home/nobody/snap/$i && echo "$i home" >/home/nobody/snap/$i/marker
done
f=/tmp/snap-private-tmp/snap.hello_foo/tmp/held
rm -f $f
(cd /tmp && nobody snap-run --shell hello_foo -c 'echo from-foo >/tmp/marker; echo $$ >/tmp/held; exec sleep 120') &
held=
for i in $(seq 150); do held=$(cat $f 2>/dev/null) && [ -n "$held" ] && break; sleep 0.2; done
out=$(cd /tmp && nobody snap-run --shell hello_foo -c \
	'echo $SNAP $SNAP_DATA $SNAP_NAME $SNAP_INSTANCE_NAME; cat /var/snap/hello/common/marker /tmp/marker' 2>&1)
expect_line "the strict instance's environment uses the snap's name" "$(head -1 <<<"$out")" "/snap/hello/x1 /var/snap/hello/x1 hello hello_foo"
expect_line "the strict instance sees its data as /var/snap/hello" "$(sed -n 2p <<<"$out")" "hello_foo data"
expect_line "the strict instance's /tmp is its own" "$(sed -n 3p <<<"$out")" "from-foo"
same() { [ "$(stat -L -c %d:%i "$1")" = "$(stat -L -c %d:%i "$2")" ]; }
if same /proc/$held/root/snap/hello/x1/meta/snap.yaml /snap/hello_foo/x1/meta/snap.yaml &&
	! same /proc/$held/root/snap/hello/x1/meta/snap.yaml /snap/hello/x1/meta/snap.yaml; then
	pass "the strict instance's /snap/hello is /snap/hello_foo"
else fail "the strict instance's /snap/hello is /snap/hello_foo" "$(ls -l /proc/$held/root/snap 2>&1)"; fi
expect_line "its ~/snap/hello is ~/snap/hello_foo (user profile)" "$(cat /proc/$held/root/home/nobody/snap/hello/marker 2>&1)" "hello_foo home"
out=$(cd /tmp && nobody snap-run --shell hello-classic_bar -c 'echo $SNAP_INSTANCE_NAME; cat /var/snap/hello-classic/common/marker' 2>&1)
expect_line "meanwhile the classic instance runs" "$(head -1 <<<"$out")" "hello-classic_bar"
expect_line "the classic instance sees its data as /var/snap/hello-classic" "$(sed -n 2p <<<"$out")" "hello-classic_bar data"
out=$(cd /tmp && nobody snap-run --shell hello -c 'cat /var/snap/hello/common/marker; cat /tmp/marker' 2>&1)
expect_line "the snap itself sees its own data" "$(head -1 <<<"$out")" "hello data"
expect_text "and not the instance's /tmp" "$(sed -n 2p <<<"$out")" "No such file"
[ -e /run/snapd/ns/hello.mnt ] && [ -e /run/snapd/ns/hello_foo.mnt ] &&
	[ "$(nsenter --mount=/run/snapd/ns/hello.mnt readlink /proc/self/ns/mnt)" != "$(nsenter --mount=/run/snapd/ns/hello_foo.mnt readlink /proc/self/ns/mnt)" ] &&
	pass "each instance has its own namespace" || fail "each instance has its own namespace" "$(ls /run/snapd/ns)"
[ -s /var/lib/snapd/cookie/snap.hello ] && [ -s /var/lib/snapd/cookie/snap.hello_foo ] && [ "$(cat /var/lib/snapd/cookie/snap.hello 2>&1)" != "$(cat /var/lib/snapd/cookie/snap.hello_foo 2>&1)" ] &&
	pass "each instance has its own cookie" || fail "each instance has its own cookie" "$(ls /var/lib/snapd/cookie)"
kill "$held" 2>/dev/null; wait
out=$(confine remove hello_foo 2>&1 && confine remove hello-classic_bar 2>&1)
echo "$out" | sed 's/^/# /'
[ ! -e /snap/hello_foo ] && [ ! -e /snap/bin/hello_foo ] && [ ! -e /var/lib/snapd/mount/snap.hello_foo.fstab ] &&
	pass "removing the instance removes its files" || fail "removing the instance removes its files" "$(ls /snap /snap/bin)"
out=$(cd /tmp && nobody snap-run --shell hello -c 'cat /var/snap/hello/common/marker' 2>&1)
expect_line "and leaves the snap itself running" "$out" "hello data"
rm -f /var/lib/snapd/features/parallel-instances

summary

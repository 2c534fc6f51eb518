#!/bin/bash
# VM suite: strict confinement natively in the VM (PID 1 is the guest's
# init), AppArmor on, through the installed setuid launcher as nobody; then
# the mount table inside our sandbox next to Debian's snap-confine's.
#   integration/vm-run integration/suites/strict.sh POLICY_DIR
set -u
T_SUITE=strict
. "$(dirname "$0")/lib.sh"
policies=$1
here=$(cd "$(dirname "$0")/.." && pwd)
sysctl -qw kernel.printk_ratelimit=0

# The scene: policies, profiles, the packaging-made private tmp base, and a
# base snap "core" (the guest's root with a marker file in /usr).
install -d -m 0755 /var/lib/snapd/seccomp/bpf
install -m 0644 "$policies"/* /var/lib/snapd/seccomp/bpf/
install -d -m 0700 /tmp/snap-private-tmp
mkdir -p /var/tmp/bases && mount -t tmpfs bases /var/tmp/bases
for rev in 1 2; do
	mkdir -p /var/tmp/bases/$rev/upper/usr/share/confine /var/tmp/bases/$rev/work /snap/core/$rev
	echo core/$rev >/var/tmp/bases/$rev/upper/usr/share/confine/base-marker
	mount -t overlay -o lowerdir=/,upperdir=/var/tmp/bases/$rev/upper,workdir=/var/tmp/bases/$rev/work core-$rev /snap/core/$rev
done
ln -s 1 /snap/core/current
apparmor_parser -r /etc/apparmor.d/usr.lib.confine.snap-confine
apparmor_parser -r "$here/profiles/snap.demo.app"
for p in snap.demo.tool snap.other.app snap-update-ns.demo; do
	sed "s/PROFILE/$p/" "$here/profiles/permissive" | apparmor_parser -r
done

# 1. Cold launch: built from the base, preserved, run under its label.
out=$(as_nobody $L snap.demo.tool /bin/sh -c 'cat /usr/share/confine/base-marker /proc/self/attr/current; id -u' 2>&1)
expect_line "a strict app sees the base's /usr" "$out" "core/1"
expect_line "a strict app runs under its label" "$out" "snap.demo.tool (enforce)"
expect_line "a strict app runs as nobody" "$out" "65534"
[ "$(stat -f -c %T /run/snapd/ns/demo.mnt 2>/dev/null)" = nsfs ] && pass "the namespace is preserved" ||
	fail "the namespace is preserved" "$(ls -la /run/snapd/ns)"
expect_line "the base is recorded" "$(cat /run/snapd/ns/snap.demo.info)" "base-snap-name=core"
out=$(as_nobody $L snap.demo.app $P report 2>&1)
expect_line "the probe runs confined by its profile" "$out" "label=snap.demo.app (enforce)"
expect_line "the probe runs under its filter" "$out" "seccomp_filters=2"
expect_line "the probe holds no capability" "$out" "capeff=0000000000000000"

# 2. Apps of one snap share /tmp and the namespace; another snap does not.
as_nobody $L snap.demo.tool /bin/sh -c 'echo shared > /tmp/note'
out=$(as_nobody $L snap.demo.tool /bin/cat /tmp/note 2>&1)
expect_line "apps of one snap share /tmp" "$out" "shared"
out=$(SNAP_INSTANCE_NAME=other as_nobody $L snap.other.app /bin/sh -c 'cat /tmp/note 2>/dev/null || echo unseen')
expect_line "another snap has its own /tmp" "$out" "unseen"
nsenter --mount=/run/snapd/ns/demo.mnt mount -t tmpfs marker-of-demo /mnt
out=$(as_nobody $L snap.demo.tool /bin/grep -c marker-of-demo /proc/self/mountinfo)
expect_line "later commands join the preserved namespace" "$out" "1"
out=$(SNAP_INSTANCE_NAME=other as_nobody $L snap.other.app /bin/grep -c marker-of-demo /proc/self/mountinfo)
expect_line "another snap's namespace is another" "$out" "0"

# 3. devpts: a new instance per command, /dev/ptmx bound to it.
out=$(as_nobody $L snap.demo.tool /bin/sh -c 'grep " /dev/pts " /proc/self/mountinfo | tail -1; ls /dev/pts')
expect_text "devpts has the expected options" "$out" "devpts devpts rw,gid=5,mode=620,ptmxmode=666"
expect_line "only the new instance's ptmx is listed" "$(tail -n1 <<<"$out")" "ptmx"

# 4. A refreshed base is noticed; a namespace in use is kept.
ln -sfn 2 /snap/core/current
out=$(as_nobody $L snap.demo.tool /bin/cat /usr/share/confine/base-marker)
expect_line "a refreshed base rebuilds an unused namespace" "$out" "core/2"

# 5. Fifty concurrent cold launches.
/usr/lib/confine/snap-discard-ns demo
for i in $(seq 50); do (as_nobody $L snap.demo.tool /bin/sh -c 'echo x >> /tmp/count' && echo ok) & done >"$policies/fifty" 2>&1
wait
expect_line "fifty concurrent cold launches succeed" "$(grep -c '^ok$' "$policies/fifty")" "50"
out=$(as_nobody $L snap.demo.tool /bin/wc -l /tmp/count)
expect_line "the fifty shared one /tmp" "$out" "50 /tmp/count"
expect_line "exactly one namespace is preserved" "$(ls /run/snapd/ns | tr '\n' ' ')" "demo.mnt other.mnt snap.demo.info snap.other.info "

# 6. Launches killed at random points, each followed by a clean launch.
killed=0 bad=0
for i in $(seq 200); do
	[ $((i % 2)) = 0 ] && /usr/lib/confine/snap-discard-ns demo
	as_nobody $L snap.demo.tool /bin/true &
	pid=$!
	sleep "$(printf '0.%03d' $((RANDOM % 150)))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	[ $? = 137 ] && killed=$((killed + 1))
	got=$(as_nobody $L snap.demo.tool /bin/sh -c "cat /usr/share/confine/base-marker; awk '\$5 == \"/tmp\" {r = \$4} END {print r}' /proc/self/mountinfo" 2>&1)
	case "$got" in
	"core/2"$'\n'*snap-private-tmp/snap.demo/tmp) ;;
	*) bad=$((bad + 1)); echo "# bad: $got" ;;
	esac
done
echo "# killed $killed of 200 launches"
[ "$bad" = 0 ] && [ "$killed" -ge 50 ] && pass "200 killed launches leave nothing reused wrongly ($killed killed)" ||
	fail "200 killed launches leave nothing reused wrongly" "bad=$bad killed=$killed"

# 7. Ours next to Debian's snap-confine 2.57.6, same snap, same base.
norm() { awk '{ for (i = 7; $i != "-"; i++); print $5, $(i + 1), $4 }' | sort; }
/usr/lib/confine/snap-discard-ns demo
as_nobody $L snap.demo.tool /bin/cat /proc/self/mountinfo | norm >/tmp/ours.txt
/usr/lib/confine/snap-discard-ns demo
apparmor_parser -r /etc/apparmor.d/usr.lib.snapd.snap-confine.real
SNAP_CONFINE_MAX_PROFILE_WAIT=3 as_nobody /usr/lib/snapd/snap-confine snap.demo.tool /bin/cat /proc/self/mountinfo | norm >/tmp/debian.txt
echo "# mount table inside the sandbox: Debian's snap-confine (left), ours (right); mount point, type, root"
diff -y -W 140 /tmp/debian.txt /tmp/ours.txt | sed 's/^/#   /'
# Every difference must be one of the deliberate ones (README, "Compared
# with Debian's snap-confine"):
#  - Debian binds the whole base at /; ours is a tmpfs holding the base's
#    top-level entries, each bound from the base;
#  - ours binds its own helper directory at /usr/lib/snapd (read-only).
base_tops=$(ls -A /snap/core/current | sed 's|^|/|')
unexplained=$(diff /tmp/debian.txt /tmp/ours.txt | grep '^[<>]' | while read -r side mp type root; do
	case "$side $mp $type $root" in
	"< / overlay /" | "> / tmpfs /") ;;
	"> /usr/lib/snapd overlay /usr/lib/confine") ;;
	">"*) grep -qxF -- "$mp" <<<"$base_tops" && [ "$mp" = "$root" ] || echo "$side $mp $type $root" ;;
	*) echo "$side $mp $type $root" ;;
	esac
done)
[ -z "$unexplained" ] && pass "every difference from Debian's mount table is a deliberate one" ||
	fail "every difference from Debian's mount table is a deliberate one" "$unexplained"

summary

#!/bin/bash
# VM suite: parallel instances of classic snaps (ours and, on the same pair,
# Debian's snap-confine), and the local group policy,
# with AppArmor on, through the installed launcher as nobody.
#   integration/vm-run integration/suites/instances.sh POLICY_DIR
set -u
T_SUITE=instances
. "$(dirname "$0")/lib.sh"
policies=$1
here=$(cd "$(dirname "$0")/.." && pwd)
# The apps start from /, not from the tree's directory, which nobody may not
# be able to enter (Debian's snap-confine then starts them in the void
# directory, ours where they were).
cd /

install -d -m 0755 /var/lib/snapd/seccomp/bpf /var/lib/snapd/features
install -d -m 0111 /var/lib/snapd/void
install -m 0644 "$policies"/*.bin2 "$policies"/*.bin /var/lib/snapd/seccomp/bpf/
apparmor_parser -r /etc/apparmor.d/usr.lib.confine.snap-confine
for p in snap.demo.app snap.demo_foo.app; do sed "s/PROFILE/$p/" "$here/profiles/permissive" | apparmor_parser -r; done
for i in demo demo_foo; do
	mkdir -p /snap/$i/1 /var/snap/$i/common && ln -s 1 /snap/$i/current
	echo "$i files" >/snap/$i/1/marker && echo "$i data" >/var/snap/$i/common/marker
done
run() { SNAP_INSTANCE_NAME=$1 as_nobody $L --classic snap.$1.app /bin/cat /snap/demo/1/marker /var/snap/demo/common/marker 2>&1; }

# 1. Without the feature file an instance is not mapped (as snap-confine).
expect_line "without the feature nothing is mapped" "$(run demo_foo | head -1)" "demo files"

# 2. With it, the instance sees its own files and data under the snap's name.
touch /var/lib/snapd/features/parallel-instances
out=$(run demo_foo)
expect_line "the instance sees its files as /snap/demo" "$(head -1 <<<"$out")" "demo_foo files"
expect_line "the instance sees its data as /var/snap/demo" "$(tail -1 <<<"$out")" "demo_foo data"
expect_line "the snap itself sees its own" "$(run demo | head -1)" "demo files"
expect_line "nothing leaks to the host" "$(cat /snap/demo/1/marker)" "demo files"
for d in /snap /var/snap; do
	expect_text "$d is a shared mount point" "$(findmnt -n -o PROPAGATION "$d" | head -1)" "shared"
done

# 3. Debian's snap-confine 2.57.6 on the same instance pair: the same files
#    and data under the snap's name, from the same mounts.
apparmor_parser -r /etc/apparmor.d/usr.lib.snapd.snap-confine.real
mounts='awk '"'"'$5 ~ /^\/(var\/)?snap\/demo($|\/)/ {print $5, $4}'"'"' /proc/self/mountinfo | sort'
for i in demo_foo demo; do
	cmd="cat /snap/demo/1/marker /var/snap/demo/common/marker; $mounts"
	ours=$(SNAP_INSTANCE_NAME=$i as_nobody $L --classic snap.$i.app /bin/sh -c "$cmd" 2>&1)
	deb=$(SNAP_INSTANCE_NAME=$i as_nobody /usr/lib/snapd/snap-confine --classic snap.$i.app /bin/sh -c "$cmd" 2>&1)
	echo "# $i, Debian's snap-confine (left), ours (right):"
	diff -y -W 120 <(echo "$deb") <(echo "$ours") | sed 's/^/#   /'
	[ -n "$ours" ] && [ "$deb" = "$ours" ] && pass "$i: Debian's snap-confine shows the same files, data and mounts" ||
		fail "$i: Debian's snap-confine shows the same files, data and mounts" "$(diff <(echo "$deb") <(echo "$ours"))"
done

# 4. The local group policy: the launcher given to a group runs only for
#    root and the group's members.
groupadd -g 4242 snapusers
chgrp snapusers $L && chmod 4755 $L
out=$(run demo)
expect_text "a user outside the launcher's group is refused" "$out" \
	"user is not a member of group owning snap-confine; check your distribution's policy for running snaps"
out=$(SNAP_INSTANCE_NAME=demo setpriv --reuid=65534 --regid=65534 --groups=4242 -- env -i PATH=/usr/bin:/bin SNAP_INSTANCE_NAME=demo \
	$L --classic snap.demo.app /bin/cat /snap/demo/1/marker 2>&1)
expect_line "a member of the group runs it" "$out" "demo files"
out=$(env -i PATH=/usr/bin:/bin SNAP_INSTANCE_NAME=demo $L --classic snap.demo.app /bin/cat /snap/demo/1/marker 2>&1)
expect_line "root runs it" "$out" "demo files"
chgrp root $L && chmod 4755 $L

summary

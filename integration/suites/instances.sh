#!/bin/bash
# VM suite: parallel instances of classic snaps, and the local group policy,
# with AppArmor on, through the installed launcher as nobody.
#   integration/vm-run integration/suites/instances.sh POLICY_DIR
set -u
T_SUITE=instances
. "$(dirname "$0")/lib.sh"
policies=$1
here=$(cd "$(dirname "$0")/.." && pwd)

install -d -m 0755 /var/lib/snapd/seccomp/bpf /var/lib/snapd/features
install -d -m 0111 /var/lib/snapd/void
install -m 0644 "$policies"/*.bin2 /var/lib/snapd/seccomp/bpf/
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

# 3. The local group policy: the launcher given to a group runs only for
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

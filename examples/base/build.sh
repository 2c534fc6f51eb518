#!/bin/bash
# Builds the base snap "debian12" from Debian 12 packages (no store is
# reachable): the packages are downloaded with apt, unpacked with dpkg-deb,
# and the mount points the launcher binds over are added.
#   examples/base/build.sh ROOTFS_DIR
set -euo pipefail
rootfs=$1
packages=(base-files libc6 libgcc-s1 gcc-12-base bash dash coreutils grep sed mawk findutils
	libacl1 libattr1 libselinux1 libpcre2-8-0 libtinfo6 libgmp10 procps libproc2-0 libsystemd0
	liblzma5 libzstd1 liblz4-1 libcap2 libgcrypt20 libgpg-error0 libncursesw6
	# The GL, EGL and Vulkan loaders GPU apps bring: the vendor's libraries
	# (NVIDIA's, from the host) are loaded by them.
	libglvnd0 libegl1 libopengl0 libvulkan1 libx11-6 libx11-data libxext6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0)
debs=$(mktemp -d)
trap 'rm -rf "$debs"' EXIT
(cd "$debs" && apt-get download "${packages[@]}" >/dev/null 2>&1) ||
	{ echo "cannot download the base's packages (apt-get download ${packages[*]})" >&2; exit 1; }
rm -rf "$rootfs"
mkdir -p "$rootfs"
for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$rootfs"; done
# The directories the launcher binds the host's over, and /snap.
for d in dev etc home root proc sys tmp run mnt media snap var/snap var/lib/snapd var/tmp var/log \
	usr/src usr/lib/snapd lib/modules lib/firmware opt srv; do
	mkdir -p "$rootfs/$d"
done
# As in snapd's core bases: hooks and apps call snapctl from the launcher's
# directory, which is /usr/lib/snapd inside the sandbox.
ln -sfn ../lib/snapd/snapctl "$rootfs/usr/bin/snapctl"
chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
printf 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
mkdir -p "$rootfs/meta"
cat >"$rootfs/meta/snap.yaml" <<'YAML'
name: debian12
version: "12"
summary: A base snap made from Debian 12 packages
description: The root filesystem of strict snaps built on Debian 12.
type: base
YAML

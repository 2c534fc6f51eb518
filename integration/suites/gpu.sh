#!/bin/bash
# VM suite: NVIDIA's driver userspace in strict snaps, with AppArmor on, on a
# faked driver (no GPU here): sysfs cannot hold new entries, so the real
# /sys/module is moved aside, a tmpfs put in its place with every real module
# bound back and nvidia/version added; fake libraries (small ELF objects with
# the real sonames) are laid out as a distribution (Debian's multiarch) and as
# NVIDIA's container toolkit lays them out (the H200 machine's listing, found
# through an ld.so cache ldconfig makes here). Then Debian's snap-confine on
# the same fake driver, next to ours.
#   integration/vm-run integration/suites/gpu.sh DIR   (DIR: see run-vm-suites)
set -u
T_SUITE=gpu
. "$(dirname "$0")/lib.sh"
in=$1
sysctl -qw kernel.printk_ratelimit=0
C=${CONFINE_LIBEXECDIR:-/usr/lib/confine}/confine

# ---- The scene: a base core24 (the guest's root), the snaps gputest (opengl
# ---- plug, connected automatically) and plain (no plug), NVIDIA's nodes.
# ---- Their Landlock policies stack on AppArmor (CONFINE_LANDLOCK=always), so
# ---- what the app reaches passes both.
install -d -m 0700 /tmp/snap-private-tmp
install -d -m 0755 /var/lib/snapd/lib/gl /var/lib/snapd/lib/gl32 /var/lib/snapd/lib/vulkan /var/lib/snapd/lib/glvnd
mkdir -p /var/tmp/base && mount -t tmpfs base /var/tmp/base
mkdir -p /var/tmp/base/upper /var/tmp/base/work /snap/core24/1
mount -t overlay -o lowerdir=/,upperdir=/var/tmp/base/upper,workdir=/var/tmp/base/work core24-1 /snap/core24/1
ln -s 1 /snap/core24/current
apparmor_parser -r /etc/apparmor.d/usr.lib.confine.snap-confine
for s in gputest plain; do
	mkdir -p /snap/$s && cp -a "$in/$s" /snap/$s/1 && ln -s 1 /snap/$s/current
	out=$(CONFINE_LANDLOCK=always $C register /snap/$s/1 --revision 1 2>&1) || fail "register $s" "$out"
done
expect_line "opengl connects automatically" "$($C connections gputest)" "opengl     gputest:opengl  system:opengl  auto"
mknod -m 0666 /dev/nvidia0 c 195 0
mknod -m 0666 /dev/nvidiactl c 195 255
mknod -m 0666 /dev/nvidia-uvm c 238 0
mknod -m 0666 /dev/nvidia-uvm-tools c 238 1
mkdir -p /dev/nvidia-caps && mknod -m 0400 /dev/nvidia-caps/nvidia-cap1 c 241 1 && mknod -m 0444 /dev/nvidia-caps/nvidia-cap2 c 241 2

# app SNAP CMD: runs CMD (a shell snippet) in SNAP's app as nobody.
app() {
	local snap=$1
	shift
	SNAP_INSTANCE_NAME=$snap as_nobody $L --base core24 snap.$snap.$snap /bin/sh -c "$1"
}
app_root() {
	env -i PATH=/usr/bin:/bin HOME=/root SNAP_INSTANCE_NAME=gputest SNAP_CONFINE_MAX_PROFILE_WAIT=3 \
		$L --base core24 snap.gputest.gputest /bin/sh -c "$1"
}
farm() { echo 'cd /var/lib/snapd/lib/'"$1"' 2>/dev/null && find . \( -type l -o -type f \) -not -name .confine-driver -printf "%P -> %l\n" | sort'; }
fresh() { for s in gputest plain; do ${L%/*}/snap-discard-ns $s; done; }
in_ns() { nsenter --mount=/run/snapd/ns/gputest.mnt "$@"; }

# fake_version VERSION: the NVIDIA module "loaded", with this version.
modules_moved=
fake_version() {
	if [ -z "$modules_moved" ]; then
		mount --make-private /sys
		mkdir -p /run/real-modules && mount --bind /sys/module /run/real-modules
		mount -t tmpfs -o mode=0755 modules /sys/module
		for m in /run/real-modules/*; do mkdir "/sys/module/${m##*/}" && mount --bind "$m" "/sys/module/${m##*/}"; done
		mkdir -p /sys/module/nvidia
		modules_moved=1
	fi
	printf '%s\n' "$1" >/sys/module/nvidia/version
}

# ---- 1. No driver: nothing is mounted.
out=$(app gputest "$(farm gl); echo end")
expect_line "without a driver the farm is empty" "$out" "end"
[ "$(in_ns grep -c ' /var/lib/snapd/lib' /proc/self/mountinfo)" = 0 ] && pass "without a driver nothing is mounted" ||
	fail "without a driver nothing is mounted" "$(in_ns grep /var/lib/snapd/lib /proc/self/mountinfo)"
expect_text "confine gpu says there is no driver" "$($C gpu)" "No NVIDIA driver is loaded"

# ---- 2. NVIDIA's container toolkit layout, found through the ld.so cache.
cp -a "$in/toolkit/." /
echo /usr/local/nvidia/lib64 >/etc/ld.so.conf.d/nvidia.conf && ldconfig
fake_version 580.159.04
fresh
out=$(app gputest "$(farm gl)")
want=$($C gpu | awk '/^Libraries in \/var\/lib\/snapd\/lib\/gl /{on=1; next} /^[^ ]/{on=0} on && $2 == "->" {print $1, "->", $3}')
[ -n "$want" ] && [ "$out" = "$want" ] && pass "the app sees the farm confine gpu describes ($(wc -l <<<"$out") links)" ||
	fail "the app sees the farm confine gpu describes" "$(diff <(echo "$want") <(echo "$out"))"
expect_text "confine gpu names the cache entry that chose the directory" "$($C gpu)" "Libraries: ld.so cache: libnvidia-glcore.so.580.159.04 => /usr/local/nvidia/lib64/libnvidia-glcore.so.580.159.04"
expect_line "a soname link stays relative" "$out" "libcuda.so.1 -> libcuda.so.580.159.04"
expect_line "a library links into hostfs" "$out" "libnvidia-glsi.so.580.159.04 -> /var/lib/snapd/hostfs/usr/local/nvidia/lib64/libnvidia-glsi.so.580.159.04"
out=$(app gputest 'head -c 4 /var/lib/snapd/lib/gl/libcuda.so.1 | od -An -c | tr -d " "; head -c 4 /var/lib/snapd/lib/gl/libEGL_nvidia.so.0 >/dev/null && echo egl-read')
expect_line "the libraries are readable through hostfs under AppArmor" "$out" "177ELF"
expect_line "every library of the driver is" "$(tail -n1 <<<"$out")" "egl-read"
out=$(app plain 'head -c 4 /var/lib/snapd/lib/gl/libcuda.so.1 2>&1 >/dev/null')
expect_text "without opengl AppArmor keeps them out" "$out" "Permission denied"
expect_line "the app sees the Vulkan farm" "$(app gputest "$(farm vulkan)")" "icd.d/nvidia_icd.json -> /var/lib/snapd/hostfs/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json"
expect_line "the app sees the EGL farm" "$(app gputest "$(farm glvnd)")" "egl_vendor.d/10_nvidia.json -> /var/lib/snapd/hostfs/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json"
out=$(in_ns touch /var/lib/snapd/lib/gl/x 2>&1)
expect_text "the farm is read-only, to root too" "$out" "Read-only file system"
opts=$(in_ns awk '$5 == "/var/lib/snapd/lib/gl" {print $6}' /proc/self/mountinfo)
expect_line "the farm is mounted ro, nosuid, nodev, noexec" "$opts" "ro,nosuid,nodev,noexec,relatime"
out=$(app_root "$(farm gl)" | wc -l)
expect_line "root's app sees the same farm" "$out" "$(wc -l <<<"$want")"

# ---- 3. NVIDIA's device nodes: the device cgroup and AppArmor let them
# ---- through to opengl (no driver behind them: ENXIO past both).
devs=$(cat /sys/fs/cgroup/devices/snap.gputest.gputest/devices.list)
for d in "c 195:0 rwm" "c 195:255 rwm" "c 238:0 rwm" "c 238:1 rwm" "c 241:1 rwm" "c 241:2 rwm"; do
	expect_line "the device cgroup allows $d" "$devs" "$d"
done
out=$(app gputest 'for d in /dev/nvidia0 /dev/nvidiactl /dev/nvidia-uvm /dev/nvidia-uvm-tools /dev/nvidia-caps/nvidia-cap2; do (exec 3<$d) 2>&1 | sed "s|.*: |$d: |"; done')
for d in /dev/nvidia0 /dev/nvidiactl /dev/nvidia-uvm /dev/nvidia-uvm-tools /dev/nvidia-caps/nvidia-cap2; do
	expect_line "opengl opens $d" "$out" "$d: No such device or address"
done
out=$(app plain '(exec 3</dev/nvidia-uvm-tools) 2>&1')
expect_text "without opengl AppArmor refuses the nodes" "$out" "Permission denied"

# ---- 4. A distribution's driver (Debian's multiarch layout), 64 and 32 bits.
rm -rf /usr/local/nvidia /usr/share/vulkan/icd.d/nvidia_icd.json /usr/share/glvnd/egl_vendor.d/10_nvidia.json /etc/ld.so.conf.d/nvidia.conf
find /usr/lib -maxdepth 1 -lname '/usr/local/nvidia/*' -delete
ldconfig
cp -a "$in/debian/." /
fake_version 535.183.01
fresh
out=$(app gputest "$(farm gl)")
m=/var/lib/snapd/hostfs/usr/lib/x86_64-linux-gnu
for l in "libcuda.so.1 -> libcuda.so.535.183.01" "libcuda.so.535.183.01 -> $m/libcuda.so.535.183.01" \
	"gbm/nvidia-drm_gbm.so -> ../libnvidia-allocator.so.1" "vdpau/libvdpau_nvidia.so.1 -> libvdpau_nvidia.so.535.183.01" \
	"libnvidia-sandboxutils.so.535.183.01 -> $m/libnvidia-sandboxutils.so.535.183.01"; do
	expect_line "multiarch farm: $l" "$out" "$l"
done
expect_line "the 32-bit farm" "$(app gputest "$(farm gl32)" | grep -c .)" "3"
expect_line "the host's Vulkan file" "$(app gputest "$(farm vulkan)")" "icd.d/nvidia_icd.json -> /var/lib/snapd/hostfs/usr/share/vulkan/icd.d/nvidia_icd.json"

# ---- 5. No canary: /usr/lib/nvidia-<major> bound as it is, read-only.
rm -f /usr/lib/x86_64-linux-gnu/libnvidia-glcore.so.535.183.01 /usr/lib/i386-linux-gnu/libnvidia-glcore.so.535.183.01
mkdir -p /usr/lib/nvidia-535 && echo fallback >/usr/lib/nvidia-535/marker
fresh
out=$(app gputest 'cat /var/lib/snapd/lib/gl/marker')
expect_line "without a canary the driver directory is bound" "$out" "fallback"
expect_text "the bound directory is read-only" "$(in_ns touch /var/lib/snapd/lib/gl/x 2>&1)" "Read-only file system"

# ---- 6. Versions: refused as snap-confine refuses them, or passed over.
fake_version garbage
fresh
out=$(app gputest true 2>&1)
expect_text "a version file that does not parse is refused" "$out" "cannot parse major version from nvidia driver version string"
[ ! -e /run/snapd/ns/gputest.mnt ] && pass "nothing is preserved after the refusal" || fail "nothing is preserved after the refusal"
fake_version '535.183.01 beta'
out=$(SNAP_INSTANCE_NAME=gputest as_nobody env SNAP_CONFINE_DEBUG=1 $L --base core24 snap.gputest.gputest /bin/sh -c "$(farm gl); echo end" 2>&1)
expect_text "odd characters: one debug line" "$out" "has odd characters: no library farm"
expect_line "odd characters: no farm, the launch goes on" "$(tail -n1 <<<"$out")" "end"

# ---- 7. snap-confine's two fix-ups, at every launch.
fake_version 535.183.01
chmod 0777 /snap/core24/1/var/lib
mkdir -p /run/udev/tags/snap_gputest_gputest && touch /run/udev/tags/snap_gputest_gputest/c195:0-nvidia0 /run/udev/tags/snap_gputest_gputest/c10:200
fresh
app gputest true
expect_line "/var/lib at 0777 goes back to 0755" "$(stat -c %a /snap/core24/1/var/lib)" "755"
[ ! -e /run/udev/tags/snap_gputest_gputest/c195:0-nvidia0 ] && [ -e /run/udev/tags/snap_gputest_gputest/c10:200 ] &&
	pass "stale NVIDIA udev tags are removed, others kept" || fail "stale NVIDIA udev tags are removed, others kept" "$(ls /run/udev/tags/snap_gputest_gputest)"

# ---- 8. Debian's snap-confine 2.57.6 on the same fake driver.
# Debian builds it without a host triplet: no multiarch farm, only the bind
# of /usr/lib/nvidia-<major> where there is one (here: the one of step 5).
# Everything else under /var/lib/snapd/lib must be the same; the mount
# options are printed (the README says why ours differ).
cp -a "$in/debian/." /
norm() { awk '$5 ~ /^\/var\/lib\/snapd\/lib/ { for (i = 7; $i != "-"; i++); print $5, $(i + 1), $6 }' | sort; }
fresh
ours_gl=$(app gputest "$(farm gl)") ours_vk=$(app gputest "$(farm vulkan)") ours_egl=$(app gputest "$(farm glvnd)")
in_ns cat /proc/self/mountinfo | norm >/tmp/ours.txt
fresh
/usr/lib/snapd/snap-seccomp compile /var/lib/snapd/seccomp/bpf/snap.gputest.gputest.src /var/lib/snapd/seccomp/bpf/snap.gputest.gputest.bin
apparmor_parser -r /etc/apparmor.d/usr.lib.snapd.snap-confine.real
debian() { SNAP_INSTANCE_NAME=gputest as_nobody /usr/lib/snapd/snap-confine --base core24 snap.gputest.gputest /bin/sh -c "$1"; }
deb_gl=$(debian "$(farm gl)" 2>&1) deb_vk=$(debian "$(farm vulkan)" 2>&1) deb_egl=$(debian "$(farm glvnd)" 2>&1)
in_ns cat /proc/self/mountinfo | norm >/tmp/debian.txt
echo "# /var/lib/snapd/lib mounts: Debian's snap-confine (left), ours (right): mount point, type, options"
diff -y -W 150 /tmp/debian.txt /tmp/ours.txt | sed 's/^/#   /'
[ "$deb_vk" = "$ours_vk" ] && [ -n "$ours_vk" ] && pass "Debian's Vulkan farm is ours" || fail "Debian's Vulkan farm is ours" "debian: $deb_vk" "ours: $ours_vk"
[ "$deb_egl" = "$ours_egl" ] && [ -n "$ours_egl" ] && pass "Debian's EGL farm is ours" || fail "Debian's EGL farm is ours" "debian: $deb_egl" "ours: $ours_egl"
expect_line "Debian's gl is the bound /usr/lib/nvidia-535 (no triplet in its build)" "$deb_gl" "marker -> "
want=$($C gpu | awk '/^Libraries in \/var\/lib\/snapd\/lib\/gl /{on=1; next} /^[^ ]/{on=0} on && $2 == "->" {print $1, "->", $3}')
[ -n "$ours_gl" ] && [ "$ours_gl" = "$want" ] && pass "ours is the multiarch farm confine gpu describes ($(wc -l <<<"$ours_gl") links)" ||
	fail "ours is the multiarch farm confine gpu describes" "$(diff <(echo "$want") <(echo "$ours_gl"))"
unexplained=$(diff <(awk '{print $1, $2}' /tmp/debian.txt) <(awk '{print $1, $2}' /tmp/ours.txt) | grep '^[<>]' |
	grep -v -x -e '> /var/lib/snapd/lib/gl tmpfs' -e '> /var/lib/snapd/lib/gl32 tmpfs' -e '< /var/lib/snapd/lib/gl overlay')
[ -z "$unexplained" ] && pass "every other /var/lib/snapd/lib mount is Debian's" || fail "every other /var/lib/snapd/lib mount is Debian's" "$unexplained"

summary

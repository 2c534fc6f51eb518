#!/bin/bash
# Policy tools benchmark, as root: compiling the default seccomp template with
# ours (confine-seccomp) and Debian's snap-seccomp, on this host; and
# generating, compiling and loading the AppArmor policy of a snap with 3 apps and a daemon
# (`confine register`) against apparmor_parser alone on the same profiles,
# in a VM whose kernel has AppArmor (integration/vm-run). Prints tables.
#   bench/policy.sh
set -euo pipefail
cd "$(dirname "$0")/.."
libexec=${CONFINE_LIBEXECDIR:-/usr/lib/confine}
for t in hyperfine /usr/lib/snapd/snap-seccomp "$libexec/confine" "$libexec/confine-seccomp"; do
	command -v "$t" >/dev/null || { echo "cannot find $t (make deps install)" >&2; exit 1; }
done
work=$(mktemp -d /var/tmp/confine-bench-policy.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
mkdir -p "$work/snap/meta"
cat >"$work/snap/meta/snap.yaml" <<'YAML'
name: bench
version: "1"
apps:
  one:
    command: bin/one
    plugs: [network, home]
  two:
    command: bin/two
    plugs: [network-bind, process-control]
  three:
    command: bin/three
    plugs: [system-observe]
  plain:
    command: bin/plain
    daemon: simple
YAML
CONFINE_ROOT="$work/root" CONFINE_APPARMOR=skip "$libexec/confine" register "$work/snap" --revision 1 >/dev/null
src=$work/root/var/lib/snapd/seccomp/bpf/snap.bench.plain.src

echo "== seccomp: compiling the default template ($(grep -vc '^#' "$src") lines), on this host"
hyperfine -N --warmup 5 --runs 100 --export-markdown "$work/seccomp.md" \
	-n "ours, native generator (what the policy tools use)" "$libexec/confine-seccomp compile --backend=native $src $work/out.bin2" \
	-n "ours, through libseccomp" "$libexec/confine-seccomp compile --backend=libseccomp $src $work/out.bin2" \
	-n "Debian's snap-seccomp compile" "/usr/lib/snapd/snap-seccomp compile $src $work/out.bin" >/dev/null
cat "$work/seccomp.md"

cat >"$work/vm.sh" <<SCRIPT
set -e
r=$work/vmroot
profiles=\$r/var/lib/snapd/apparmor/profiles
export CONFINE_ROOT=\$r CONFINE_APPARMOR=load
$libexec/confine register $work/snap --revision 1 >/dev/null
cp -a \$profiles $work/vm-profiles
unload="for p in snap.bench.one snap.bench.two snap.bench.three snap.bench.plain snap-update-ns.bench; do echo -n \\\$p > /sys/kernel/security/apparmor/.remove 2>/dev/null || true; done"
hyperfine --warmup 1 --runs 10 --export-markdown $work/apparmor.md \\
	-n "ours: generate, compile and load (confine register)" \\
	--prepare "$libexec/confine unregister bench >/dev/null; rm -rf \$r/var/cache" \\
	"$libexec/confine register $work/snap --revision 1" \\
	-n "apparmor_parser -r alone, same 5 profiles" \\
	--prepare "\$unload" \\
	"apparmor_parser -r --skip-cache $work/vm-profiles/snap.bench.one $work/vm-profiles/snap.bench.two $work/vm-profiles/snap.bench.three $work/vm-profiles/snap.bench.plain $work/vm-profiles/snap-update-ns.bench" >/dev/null
# The guest's writes vanish with it: the table comes back on stdout.
cat $work/apparmor.md
SCRIPT
echo
echo "== AppArmor: the policy of a snap with 3 apps and a daemon (4 profiles and its snap-update-ns profile), in a VM with AppArmor (TCG: slow, compare the ratio)"
integration/vm-run bash "$work/vm.sh"

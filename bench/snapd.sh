#!/bin/bash
# `snap run` under Debian's snapd, in one boot of the systemd VM (AppArmor
# on): a strict app whose command is /bin/true, started by snapd's `snap
# run` with Debian's snap-confine 2.57.6, then with ours from the
# confine-snapd package; cold (the namespace discarded before each run) and
# warm, as root and as a user; hyperfine in the guest. Prints hyperfine's
# results and a table with ratios ("net" is minus the app's /bin/true run
# directly). The VM is emulated where there is no hardware KVM: then the
# ratios mean something, the milliseconds little. Needs `make examples deb`.
#   bench/snapd.sh [RUNS]          (default 30 runs per command)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
work=$(mktemp -d /var/tmp/confine-bench-snapd.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
integration/snapd/make-snaps "$work/snaps" >/dev/null
mkdir -p "$work/bench-true/meta" "$work/bench-true/bin"
cp /bin/true "$work/bench-true/bin/true"
printf '%s\n' "name: bench-true" "version: '1'" "summary: /bin/true" "description: /bin/true, strictly confined" \
	"base: debian12" "apps:" "  bench-true:" "    command: bin/true" >"$work/bench-true/meta/snap.yaml"
mksquashfs "$work/bench-true" "$work/snaps/bench-true.snap" -all-root -noappend -quiet -no-progress
chmod -R a+rX "$work"

cat >"$work/run.sh" <<SCRIPT
set -euo pipefail
. $PWD/integration/snapd/lib.sh
# Both sides measure the same snap run: no re-execution into the snapd snap
# (what the package sets; the placeholder snap's stand-in would add a shell).
export SNAP_REEXEC=0
snapd_start
snapd_install $work/snaps snapd debian12 bench-true 2>/dev/null
useradd -m -u 1001 tester
user="setpriv --reuid=1001 --regid=1001 --init-groups env HOME=/home/tester USER=tester"
round() {
	snap run bench-true && \$user snap run bench-true
	hyperfine -N --runs $runs --warmup 3 --export-json $work/\$1.json \\
		--prepare "/usr/lib/snapd/snap-discard-ns bench-true" --command-name "root, cold" "snap run bench-true" \\
		--prepare true --command-name "root, warm" "snap run bench-true" \\
		--prepare "/usr/lib/snapd/snap-discard-ns bench-true" --command-name "user, cold" "\$user snap run bench-true" \\
		--prepare true --command-name "user, warm" "\$user snap run bench-true" \\
		--prepare true --command-name "bare" "/snap/bench-true/x1/bin/true"
}
echo "== Debian's snap-confine"
round debian
dpkg -i $work/snaps/confine-snapd_*.deb >/dev/null
echo "== ours, from the package (\$(/usr/lib/snapd/snap-confine --version 2>/dev/null || true))"
/usr/lib/snapd/snap-discard-ns bench-true
round ours
# The results are in the guest's /var/tmp (an overlay that does not reach
# the host): the table is printed here.
python3 $work/table.py $work
SCRIPT
cat >"$work/table.py" <<'PY'
import json, sys
load = lambda side: {x["command"]: x for x in json.load(open(f"{sys.argv[1]}/{side}.json"))["results"]}
d, o = load("debian"), load("ours")
ms = lambda r, name: r[name]["mean"] * 1e3
print("\nsnap run of a strict /bin/true under snapd 2.57.6 "
      f"({len(d['bare']['times'])} runs each; net = mean minus the bare /bin/true of the same side)")
print("| started by | Debian's snap-confine (ms) | ours (ms) | ours / Debian's | net: Debian's (ms) | net: ours (ms) | net ratio |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for name in ("root, cold", "root, warm", "user, cold", "user, warm"):
    dm, om = ms(d, name), ms(o, name)
    dn, on = dm - ms(d, "bare"), om - ms(o, "bare")
    print(f"| {name} | {dm:.1f} | {om:.1f} | {om / dm:.2f}x | {dn:.1f} | {on:.1f} | {on / dn:.2f}x |")
PY
VM_RUN_SYSTEMD=1 VM_RUN_TIMEOUT=${VM_RUN_TIMEOUT:-3600} integration/vm-run bash "$work/run.sh"

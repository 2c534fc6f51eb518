#!/bin/bash
# Launch latency, measured with hyperfine in one run, as root on the host:
# a strict snap running /bin/true, cold (namespace built and preserved) and
# warm (namespace joined), with our launcher and with Debian's snap-confine,
# next to bubblewrap with all namespaces and a bare /bin/true. Two rounds:
# started by root through `env SNAP_INSTANCE_NAME=...`, and started by
# nobody through `setpriv ... env -i ...`; the wrapper's cost is in every
# line, so the tables also give each time minus the bare run's ("net"). Prints
# hyperfine's results and tables of ratios. Everything happens in a private mount and PID namespace with tmpfs
# over /snap, /run/snapd, /var/lib/snapd and /tmp, so the host is untouched.
#   bench/launch.sh [RUNS]          (default 200 runs per command)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
libexec=${CONFINE_LIBEXECDIR:-/usr/lib/confine}
for t in hyperfine bwrap /usr/lib/snapd/snap-confine "$libexec/snap-confine"; do
	command -v "$t" >/dev/null || { echo "cannot find $t (make deps install)" >&2; exit 1; }
done
work=$(mktemp -d /var/tmp/confine-bench.XXXXXX)
trap 'rm -rf "$work"; rmdir /sys/fs/cgroup/freezer/snap.ours /sys/fs/cgroup/freezer/snap.debian 2>/dev/null || true' EXIT
chmod 755 "$work"
echo @unrestricted >"$work/unrestricted.src"
"$libexec/confine-seccomp" compile "$work/unrestricted.src" "$work/snap.ours.app.bin2"
/usr/lib/snapd/snap-seccomp compile "$work/unrestricted.src" "$work/snap.debian.app.bin"

cat >"$work/run.sh" <<SCRIPT
set -euo pipefail
mount -t tmpfs -o mode=0755 bench-snap /snap
mkdir -p /run/snapd && mount -t tmpfs -o mode=0755 bench-run /run/snapd
mount -t tmpfs -o mode=0755 bench-lib /var/lib/snapd
mount -t tmpfs -o mode=1777 bench-tmp /tmp
install -d -m 0700 /tmp/snap-private-tmp
install -d -m 0755 /var/lib/snapd/seccomp/bpf
install -d -m 0111 /var/lib/snapd/void
install -m 0644 $work/snap.ours.app.bin2 $work/snap.debian.app.bin /var/lib/snapd/seccomp/bpf/
mkdir -p $work/base/upper $work/base/work /snap/core/1
mount -t overlay -o lowerdir=/,upperdir=$work/base/upper,workdir=$work/base/work bench-base /snap/core/1
ln -s 1 /snap/core/current
cd /
round() {
if [ "\$1" = root ]; then
	as() { echo "env SNAP_INSTANCE_NAME=\$1 \${@:2}"; }
else
	as() { echo "setpriv --reuid=65534 --regid=65534 --clear-groups -- env -i PATH=/usr/bin:/bin SNAP_INSTANCE_NAME=\$1 \${@:2}"; }
fi
ours=\$(as ours $libexec/snap-confine snap.ours.app /bin/true)
debian=\$(as debian /usr/lib/snapd/snap-confine snap.debian.app /bin/true)
bare=\$(as none /bin/true)
bwrap="\$(as none bwrap --unshare-all --dev /dev --proc /proc --tmpfs /tmp --ro-bind / / /bin/true)"
# A first run of each launcher, so a failure shows its message.
\$ours && \$debian && /usr/lib/snapd/snap-discard-ns debian && $libexec/snap-discard-ns ours
# Cold launches that fail: Debian's snap-confine 2.57.6 fails now and then
# on Linux 6.18 ("cannot preserve mount namespace ... Invalid argument").
for who in ours debian; do
	fails=0
	for i in \$(seq 100); do
		if [ \$who = ours ]; then $libexec/snap-discard-ns ours; \$ours 2>/dev/null || fails=\$((fails + 1))
		else /usr/lib/snapd/snap-discard-ns debian; \$debian 2>/dev/null || fails=\$((fails + 1)); fi
	done
	echo "\$who: \$fails of 100 cold launches failed" | tee -a $work/failures-\$1
done
# One --prepare per command: cold runs discard the namespace first. Failed
# runs (see above) are timed too (--ignore-failure).
hyperfine -N -i --runs $runs --warmup 5 --export-json $work/results-\$1.json \\
	--prepare "$libexec/snap-discard-ns ours" --command-name "ours, cold" "\$ours" \\
	--prepare "/usr/lib/snapd/snap-discard-ns debian" --command-name "debian snap-confine, cold" "\$debian" \\
	--prepare true --command-name "ours, warm" "\$ours" \\
	--prepare true --command-name "debian snap-confine, warm" "\$debian" \\
	--prepare true --command-name "bwrap --unshare-all" "\$bwrap" \\
	--prepare true --command-name "bare /bin/true" "\$bare"
}
echo "== started by root"
round root
echo "== started by nobody"
round nobody
SCRIPT
unshare --pid --fork --mount-proc --mount --propagation private -- bash "$work/run.sh"

python3 - "$work" <<'PY'
import json, sys
for who in ("root", "nobody"):
    print()
    print(open(f"{sys.argv[1]}/failures-{who}").read().strip())
    r = {x["command"]: x for x in json.load(open(f"{sys.argv[1]}/results-{who}.json"))["results"]}
    ms = lambda name: r[name]["mean"] * 1e3
    bare = ms("bare /bin/true")
    net = lambda name: ms(name) - bare
    print(f"\nStarted by {who} ({len(r['bare /bin/true']['times'])} runs each; net = mean minus the bare run)")
    print("| command | mean (ms) | stddev (ms) | net (ms) | mean / ours | net / ours |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in r:
        ref = "ours, cold" if "cold" in name else "ours, warm"
        nr = f"{net(name) / net(ref):.2f}x" if net(ref) > 0 else "-"
        print(f"| {name} | {ms(name):.2f} | {r[name]['stddev'] * 1e3:.2f} | {net(name):.2f} | {ms(name) / ms(ref):.2f}x | {nr} |")
    for kind, target in (("cold", 0.4), ("warm", 0.5)):
        o, d = f"ours, {kind}", f"debian snap-confine, {kind}"
        print(f"ours/debian {kind}: {ms(o) / ms(d):.2f} (net {net(o) / net(d):.2f}); target at most {target}")
PY

#!/bin/bash
# Launch latency of a snap with a mount profile: the GNOME-shaped example
# gnome-app (five layouts, four content binds from the platform snap, the
# desktop interface's fonts and document portal), installed with `confine
# install`, started by nobody. In one hyperfine run:
#   - cold (the namespace is discarded first, so it is built and the
#     snap's profile applied): our launcher running our snap-update-ns;
#     our launcher running Debian's snap-update-ns (bound over ours);
#     Debian's snap-confine running Debian's snap-update-ns;
#   - warm (the namespace is joined; the caller's .user-fstab is applied in
#     the command's namespace: by our launcher itself, by Debian's
#     snap-update-ns under Debian's snap-confine): ours and Debian's, and
#     ours with our snap-update-ns started for that profile (a copy without
#     its note bound over it: what the launcher did before);
#   - then, under strace -f, the processes one warm launch of each starts;
#   - last, the floor under the profile's writable mimics
#     (bench/mimic-floor.c): their entries put back, nothing else timed.
# Prints hyperfine's results and a table of ratios, of the wall-clock time
# and of the CPU time (user and system, of every process of the launch: on
# a loaded machine it is the steadier figure, with the median). Everything happens in a
# private mount and PID namespace with tmpfs over every place an install
# writes, so the host is untouched. As root, after `make install examples`.
#   bench/mount-profile.sh [RUNS]          (default 100 runs per command)
set -euo pipefail
source "$(dirname "$0")/private-ns.sh"
cd "$(dirname "$0")/.."
runs=${1:-100}
libexec=${CONFINE_LIBEXECDIR:-/usr/lib/confine}
examples=$PWD/target/examples
for t in hyperfine /usr/lib/snapd/snap-confine /usr/lib/snapd/snap-update-ns "$libexec/snap-confine" "$libexec/snap-update-ns"; do
	command -v "$t" >/dev/null || { echo "cannot find $t (make deps install)" >&2; exit 1; }
done
for s in debian12 platform gnome-app; do
	[ -f "$examples/$s.snap" ] || { echo "cannot find $examples/$s.snap: run make examples" >&2; exit 1; }
done
work=$(mktemp -d /var/tmp/confine-bench.XXXXXX)
trap 'rm -rf "$work"; rmdir /sys/fs/cgroup/freezer/snap.gnome-app /sys/fs/cgroup/devices/snap.gnome-app /sys/fs/cgroup/devices/snap.gnome-app.gnome-app 2>/dev/null || true' EXIT
chmod 755 "$work"
echo @unrestricted >"$work/unrestricted.src"
gcc -O2 -Wall -o "$work/mimic-floor" bench/mimic-floor.c

# Warm launches with and without snap-update-ns started for the caller's
# profile, interleaved pair by pair (on a loaded machine, hyperfine's
# blocks of runs of one command meet different loads): the median wall and
# CPU time of each, and the median of the differences within pairs.
cat >"$work/pairs.py" <<'PY'
import os, statistics, subprocess, sys, time, shlex
libexec, cmd, pairs = sys.argv[1], shlex.split(sys.argv[2]), int(sys.argv[3])
tool, unmarked = f"{libexec}/snap-update-ns", "/var/lib/confine/unmarked/snap-update-ns"
def once():
    start = time.perf_counter()
    pid = subprocess.Popen(cmd, stdout=subprocess.DEVNULL).pid
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        sys.exit(f"cannot launch: {cmd} ended with status {status}")
    return wall * 1e3, (ru.ru_utime + ru.ru_stime) * 1e3  # the launch's and its children's
res = {"ours, warm": [], "ours, warm, snap-update-ns started": []}
for i in range(pairs):
    for started in ((False, True) if i % 2 else (True, False)):
        if started:
            subprocess.run(["mount", "--bind", unmarked, tool], check=True)
        try:
            res["ours, warm, snap-update-ns started" if started else "ours, warm"].append(once())
        finally:
            if started:
                subprocess.run(["umount", tool], check=True)
(a, b) = res.values()
print(f"\n{pairs} interleaved pairs of warm launches:")
print("| command | median wall (ms) | median CPU (ms) |\n| --- | ---: | ---: |")
for name, r in res.items():
    print(f"| {name} | {statistics.median(w for w, _ in r):.2f} | {statistics.median(c for _, c in r):.2f} |")
print(f"median difference within pairs (started - ours): wall {statistics.median(y[0] - x[0] for x, y in zip(a, b)):.2f} ms, "
      f"CPU {statistics.median(y[1] - x[1] for x, y in zip(a, b)):.2f} ms")
PY

cat >"$work/run.sh" <<SCRIPT
set -euo pipefail
for d in /snap /var/snap /var/lib/snapd /var/lib/confine /run/snapd /etc/systemd/system /etc/udev/rules.d /home /run/user; do
	mkdir -p \$d && mount -t tmpfs -o mode=0755 bench \$d
done
install -d -m 0111 /var/lib/snapd/void
mount -t tmpfs -o mode=1777 bench-tmp /tmp
install -d -m 0700 /tmp/snap-private-tmp
install -d -o 65534 -g 65534 /home/nobody
# The document portal's directory, so that the caller's profile has work.
install -d -o 65534 -g 65534 -m 0700 /run/user/65534 /run/user/65534/doc /run/user/65534/doc/by-app /run/user/65534/doc/by-app/snap.gnome-app
for s in debian12 platform gnome-app; do confine install $examples/\$s.snap >/dev/null; done
# Debian's snap-confine reads snap-seccomp's format.
/usr/lib/snapd/snap-seccomp compile $work/unrestricted.src /var/lib/snapd/seccomp/bpf/snap.gnome-app.gnome-app.bin
# Our launcher with Debian's snap-update-ns next to it: a copy of our
# directory (root may start the launcher from anywhere).
install -d -m 0755 /var/lib/confine/mixed
install -m 0755 $libexec/snap-confine /var/lib/confine/mixed/snap-confine
install -m 0755 /usr/lib/snapd/snap-update-ns /var/lib/confine/mixed/snap-update-ns
# A copy of our snap-update-ns whose note is changed: the launcher does not
# know it for ours, and starts it for the caller's profile (as it did before
# it applied that profile itself), for "ours, warm, snap-update-ns started".
install -d -m 0755 /var/lib/confine/unmarked
perl -0777 -pe 's/confine\0snap-update-ns/confinX\0snap-update-ns/' $libexec/snap-update-ns >/var/lib/confine/unmarked/snap-update-ns
chmod 0755 /var/lib/confine/unmarked/snap-update-ns
cmp -s $libexec/snap-update-ns /var/lib/confine/unmarked/snap-update-ns && { echo "cannot find the note in $libexec/snap-update-ns" >&2; exit 1; }
cd /
as() { echo "setpriv --reuid=65534 --regid=65534 --clear-groups -- env -i PATH=/usr/bin:/bin HOME=/home/nobody XDG_RUNTIME_DIR=/run/user/65534 SNAP_REAL_HOME=/home/nobody SNAP_INSTANCE_NAME=gnome-app \$*"; }
ours=\$(as $libexec/snap-confine --base debian12 snap.gnome-app.gnome-app /bin/true)
mixed="env -i SNAP_INSTANCE_NAME=gnome-app /var/lib/confine/mixed/snap-confine --base debian12 snap.gnome-app.gnome-app /bin/true"
debian=\$(as /usr/lib/snapd/snap-confine --base debian12 snap.gnome-app.gnome-app /bin/true)
ours_root="env -i SNAP_INSTANCE_NAME=gnome-app $libexec/snap-confine --base debian12 snap.gnome-app.gnome-app /bin/true"
# A first run of each, so a failure shows its message.
\$ours
$libexec/snap-discard-ns gnome-app
\$mixed
$libexec/snap-discard-ns gnome-app
# Debian's snap-confine 2.57.6 fails cold launches on Linux 6.18 now and
# then, here often ("cannot preserve mount namespace ... Invalid
# argument"): its lines are left out, loudly, when 10 tries all fail, and
# its failed runs are counted and left out of its means.
debian_works=
for i in \$(seq 10); do
	/usr/lib/snapd/snap-discard-ns gnome-app
	if \$debian 2>$work/debian.err; then debian_works=yes; break; fi
done
# The processes one warm launch starts, and its execs of snap-update-ns,
# under strace -f (root traces the setuid launcher with its privileges).
warm_processes() {
	strace -f -qq -e trace=execve,execveat,fork,vfork,clone,clone3 -o $work/\$1.trace \$2 >/dev/null 2>&1 || true
	echo "\$1, warm: \$(cut -d' ' -f1 $work/\$1.trace | sort -u | wc -l) process(es), \$(grep -c 'exec.*snap-update-ns' $work/\$1.trace) exec(s) of snap-update-ns"
}
/usr/lib/snapd/snap-discard-ns gnome-app
hyperfine -N --runs $runs --warmup 3 --export-json $work/results.json \\
	--prepare "$libexec/snap-discard-ns gnome-app" --command-name "ours, cold" "\$ours" \\
	--prepare "$libexec/snap-discard-ns gnome-app" --command-name "ours, cold (root)" "\$ours_root" \\
	--prepare "$libexec/snap-discard-ns gnome-app" --command-name "our launcher + Debian's snap-update-ns, cold (root)" "\$mixed" \\
	--prepare true --command-name "ours, warm" "\$ours" \\
	--prepare "sh -c 'mountpoint -q $libexec/snap-update-ns || mount --bind /var/lib/confine/unmarked/snap-update-ns $libexec/snap-update-ns'" \\
	--command-name "ours, warm, snap-update-ns started" "\$ours"
warm_processes "ours-started" "\$ours"
umount $libexec/snap-update-ns
python3 $work/pairs.py $libexec "\$ours" 200
if [ -n "\$debian_works" ]; then
	/usr/lib/snapd/snap-discard-ns gnome-app
	hyperfine -N -i --runs $runs --warmup 3 --export-json $work/debian.json \\
		--prepare "/usr/lib/snapd/snap-discard-ns gnome-app" --command-name "debian, cold" "\$debian" \\
		--prepare true --command-name "debian, warm" "\$debian"
else
	echo "SKIPPED: Debian's snap-confine failed 10 cold launches of 10:"; cat $work/debian.err
fi
$libexec/snap-discard-ns gnome-app
\$ours
warm_processes ours "\$ours"
if [ -n "\$debian_works" ]; then
	/usr/lib/snapd/snap-discard-ns gnome-app
	for i in \$(seq 10); do \$debian && break; /usr/lib/snapd/snap-discard-ns gnome-app; done
	warm_processes debian "\$debian"
fi
# The floor under the profile's writable mimics (bench/mimic-floor.c): the
# entries of each directory a mimic goes over put back with nothing else
# around, over the same directories as the launcher's root file system
# shows them (the host's /etc and /var, the base's /usr).
echo
echo "| floor: a mimic over | entries | median of $runs | per entry |"
echo "| --- | ---: | ---: | ---: |"
mkdir -p $work/floor
for d in /etc /snap/debian12/x1/usr /snap/debian12/x1/usr/share /snap/debian12/x1/usr/lib/x86_64-linux-gnu /var/cache \\
	/snap/gnome-app/x1/data-dir/icons /snap/gnome-app/x1/data-dir/sounds /snap/gnome-app/x1/data-dir/themes; do
	$work/mimic-floor \$d $work/floor $runs
done | tee $work/floor.md
awk -F'|' '{ n += \$3; t += \$4 } END { printf "| all | %d | %.3f ms | |\\n", n, t }' $work/floor.md
SCRIPT
in_private_ns "$work/run.sh"

python3 - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
r = {x["command"]: x for x in json.load(open(f"{work}/results.json"))["results"]}
failed = {}
if os.path.exists(f"{work}/debian.json"):
    for x in json.load(open(f"{work}/debian.json"))["results"]:
        codes = x.get("exit_codes") or [0] * len(x["times"])
        ok = [t for t, c in zip(x["times"], codes) if c == 0]
        failed[x["command"]] = len(x["times"]) - len(ok)
        if ok:
            mean = sum(ok) / len(ok)
            x["stddev"] = (sum((t - mean) ** 2 for t in ok) / max(len(ok) - 1, 1)) ** 0.5
            x["mean"] = mean
            ok.sort()
            x["median"] = (ok[(len(ok) - 1) // 2] + ok[len(ok) // 2]) / 2
            r[x["command"]] = x
ms = lambda name: r[name]["mean"] * 1e3
med = lambda name: r[name]["median"] * 1e3
cpu = lambda name: (r[name]["user"] + r[name]["system"]) * 1e3
print(f"\n({len(r['ours, cold']['times'])} runs each)")
for name, n in failed.items():
    if n:
        print(f"{name}: {n} failed runs left out of the mean (CPU time: all runs)")
print("| command | mean (ms) | stddev (ms) | mean / ours | median (ms) | median / ours | CPU, user+system (ms) | CPU / ours |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for name in r:
    ref = ("ours, cold (root)" if "root" in name else "ours, cold") if "cold" in name else "ours, warm"
    print(f"| {name} | {ms(name):.2f} | {r[name]['stddev'] * 1e3:.2f} | {ms(name) / ms(ref):.2f}x | {med(name):.2f} | {med(name) / med(ref):.2f}x | {cpu(name):.2f} | {cpu(name) / cpu(ref):.2f}x |")
mixed = "our launcher + Debian" + chr(39) + "s snap-update-ns, cold (root)"
o = "ours, cold (root)"
print(f"ours/our launcher with Debian's snap-update-ns, cold as root: {ms(o) / ms(mixed):.2f} (median {med(o) / med(mixed):.2f}, CPU {cpu(o) / cpu(mixed):.2f})")
o, st = "ours, warm", "ours, warm, snap-update-ns started"
print(f"ours, warm / the same with snap-update-ns started for the caller's profile: {ms(o) / ms(st):.2f} (median {med(o) / med(st):.2f}, CPU {cpu(o) / cpu(st):.2f})")
for kind, target in (("cold", 0.15), ("warm", None)):
    o, d = f"ours, {kind}", f"debian, {kind}"
    if d in r:
        print(f"ours/debian {kind}: {ms(o) / ms(d):.2f} (median {med(o) / med(d):.2f}, CPU {cpu(o) / cpu(d):.2f})" + (f"; target at most {target}" if target else ""))
    else:
        print(f"ours/debian {kind}: not measured (Debian's snap-confine failed, see above)")
PY

#!/bin/bash
# The time the front end adds before the launcher: our snap-run against
# snapd's `snap run`, in one boot of the systemd VM (both make a transient
# scope through systemd's D-Bus API, read the snap, make the user's
# directories and exec the launcher). The launchers themselves are replaced
# by /bin/true for the measurement (bind mounts, in the VM only), so each
# run is the front end alone plus one exec of /bin/true; a bare /bin/true
# gives the floor. Prints hyperfine's results and a table of ratios.
#   integration/vm-run with VM_RUN_SYSTEMD=1, from the host:
#   VM_RUN_SYSTEMD=1 VM_RUN_CGROUP=v2 integration/vm-run bench/front-end.sh EXAMPLES_DIR [RUNS]
# EXAMPLES_DIR holds debian12.snap and hello.snap (make examples).
set -euo pipefail
examples=$1
runs=${2:-100}
[ "$(cat /proc/1/comm)" = systemd ] || { echo "cannot run: systemd is not PID 1 (VM_RUN_SYSTEMD=1)" >&2; exit 1; }
for t in hyperfine snap snap-run /usr/lib/snapd/snap-confine /usr/lib/confine/snap-confine; do
	command -v "$t" >/dev/null || { echo "cannot find $t" >&2; exit 1; }
done
apparmor_parser -r /etc/apparmor.d/usr.lib.confine.snap-confine
confine install "$examples/debian12.snap" >/dev/null
confine install "$examples/hello.snap" >/dev/null
systemctl stop snap.hello.daemon.service
# snap run reads the snap file's size where snapd keeps snap files.
install -d /var/lib/snapd/snaps
for f in /var/lib/confine/snaps/*.snap; do ln -sf "$f" /var/lib/snapd/snaps/; done
# snap run checks that snapd's launcher exists before it execs it.
mount --bind /bin/true /usr/lib/confine/snap-confine
mount --bind /bin/true /usr/lib/snapd/snap-confine
cd /var/tmp
export HOME=/root
snap run hello >/dev/null 2>&1 || { echo "cannot bench: snap run hello fails here:" >&2; snap run hello; exit 1; }
snap-run hello
out=/var/tmp/front-end.json
hyperfine -N --runs "$runs" --warmup 5 --export-json $out \
	-n "bare /bin/true" "/bin/true" \
	-n "snap-run (confine)" "snap-run hello" \
	-n "snap run (snapd $(snap version | awk '$1 == "snap" {print $2}'))" "snap run hello"
python3 - "$out" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
bare = r[0]["median"]
print("\n| front end | median (ms) | minus bare (ms) | ratio to snap-run |")
print("|---|---|---|---|")
ours = r[1]["median"] - bare
for x in r:
    net = x["median"] - bare
    ratio = f"{net / ours:.2f}" if x is not r[0] else "-"
    print(f"| {x['command']} | {x['median'] * 1e3:.2f} | {net * 1e3:.2f} | {ratio} |")
EOF

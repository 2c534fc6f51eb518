#!/bin/bash
# Times the policy tools against what they replace, and prints tables:
#
#   (a) compiling the default seccomp template: confine-seccomp (our own BPF
#       generator, .bin2; and the libseccomp backend) against Debian's
#       snap-seccomp, writing to disk and to tmpfs, with hyperfine;
#   (b) generating and loading the policy of a snap with three apps:
#       `confine register` against apparmor_parser alone on the same
#       profile files, in the AppArmor VM (loading needs a kernel with
#       AppArmor); plus the generation alone on this host.
#
#   tools/bench-policy.sh [RUNS]      (RUNS of the hyperfine part, default 200)
#
# Run as root after `make install` (the installed tools are measured).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
runs=${1:-200}
libexec=${CONFINE_LIBEXECDIR:-/usr/lib/confine}
ours=$libexec/confine-seccomp
confine=$libexec/confine
theirs=/usr/lib/snapd/snap-seccomp
template=$here/data/seccomp/default.src

for tool in "$ours" "$confine" "$theirs" hyperfine; do
	command -v "$tool" >/dev/null || { echo "cannot find $tool (make install; apt-get install snapd hyperfine)" >&2; exit 1; }
done

work=$(mktemp -d /var/tmp/bench-policy.XXXXXX)
shm=$(mktemp -d /dev/shm/bench-policy.XXXXXX)
trap 'rm -rf "$work" "$shm"' EXIT
chmod 755 "$work"

# mean_ms CSV COMMAND_INDEX: the mean of one hyperfine result, in ms.
mean_ms() { awk -F, -v n="$2" 'NR == n + 1 { printf "%.2f", $2 * 1000 }' "$1"; }

echo "== (a) seccomp: compiling the default template ($(grep -cv '^\s*\(#\|$\)' "$template") rule lines), $runs runs each"
echo "   every run writes a new file (the old one is removed first), flushed to disk as both tools do"
for where in disk tmpfs; do
	dir=$work
	[ "$where" = tmpfs ] && dir=$shm
	hyperfine -N --style none --warmup 10 --runs "$runs" --export-csv "$work/a-$where.csv" \
		--prepare "rm -f $dir/theirs.bin $dir/native.bin2 $dir/lib.bin2" \
		"$theirs compile $template $dir/theirs.bin" \
		"$ours compile --backend=native $template $dir/native.bin2" \
		"$ours compile --backend=libseccomp $template $dir/lib.bin2" >/dev/null
done
printf '%-44s %10s %8s %10s %8s\n' "compiler" "disk ms" "speed-up" "tmpfs ms" "speed-up"
row() {
	local d t dt tt
	d=$(mean_ms "$work/a-disk.csv" "$2")
	t=$(mean_ms "$work/a-tmpfs.csv" "$2")
	dt=$(mean_ms "$work/a-disk.csv" 1)
	tt=$(mean_ms "$work/a-tmpfs.csv" 1)
	printf '%-44s %10s %7.1fx %10s %7.1fx\n' "$1" "$d" "$(awk -v a="$dt" -v b="$d" 'BEGIN { print a / b }')" \
		"$t" "$(awk -v a="$tt" -v b="$t" 'BEGIN { print a / b }')"
}
row "snap-seccomp $(dpkg-query -W -f '${Version}' snapd 2>/dev/null || echo '?') (.bin)" 1
row "confine-seccomp, our generator (.bin2)" 2
row "confine-seccomp, libseccomp backend (.bin2)" 3

# (b) A snap with three apps and a hook, two interfaces connected.
snap=$work/snap
mkdir -p "$snap/meta"
cat >"$snap/meta/snap.yaml" <<'EOF'
name: bench
version: '1'
apps:
  server:
    command: bin/server
    plugs: [network-bind, system-observe]
  client:
    command: bin/client
    plugs: [network, home]
  admin:
    command: bin/admin
    plugs: [process-control, log-observe]
EOF
chmod -R a+rX "$work"

echo
echo "== (b) policy of a snap with 3 apps (4 profiles with snap-update-ns, 3 seccomp filters)"
echo "   on this host, generation only (profiles compiled to check them, not loaded):"
gen_ms() {
	local mode=$1 total=0 i start end
	for i in $(seq 20); do
		rm -rf "$work/root"
		start=$(date +%s%N)
		CONFINE_ROOT=$work/root CONFINE_APPARMOR=$mode "$confine" register "$snap" --revision 1 >/dev/null
		end=$(date +%s%N)
		total=$((total + end - start))
	done
	awk -v t="$total" 'BEGIN { printf "%.1f", t / 20 / 1e6 }'
}
printf '   %-58s %8s ms\n' "confine register, no AppArmor step (generate + seccomp)" "$(gen_ms skip)"
printf '   %-58s %8s ms\n' "confine register, profiles compiled with -Q (check)" "$(gen_ms check)"

cat >"$work/vm.sh" <<EOF
set -eu
runs=3
ms() { awk -v s="\$1" -v e="\$2" 'BEGIN { printf "%.0f", (e - s) / 1e6 }'; }
cold_ours=0; warm_ours=0; cold_bare=0; warm_bare=0; one_ours=0; one_bare=0
for i in \$(seq \$runs); do
	$confine unregister bench >/dev/null 2>&1 || true
	rm -rf /var/cache/apparmor
	s=\$(date +%s%N); $confine register $snap --revision 1 >/dev/null; e=\$(date +%s%N)
	cold_ours=\$((cold_ours + \$(ms \$s \$e)))
	s=\$(date +%s%N); $confine register $snap --revision 1 >/dev/null; e=\$(date +%s%N)
	warm_ours=\$((warm_ours + \$(ms \$s \$e)))
	mkdir -p /tmp/bare && cp /var/lib/snapd/apparmor/profiles/*bench* /tmp/bare/
	rm -rf /tmp/bare-cache && mkdir -p /tmp/bare-cache
	s=\$(date +%s%N)
	apparmor_parser --replace --write-cache --cache-loc=/tmp/bare-cache --policy-features /etc/apparmor.d/abi/3.0 --quiet /tmp/bare/*
	e=\$(date +%s%N)
	cold_bare=\$((cold_bare + \$(ms \$s \$e)))
	s=\$(date +%s%N)
	apparmor_parser --replace --cache-loc=/tmp/bare-cache --policy-features /etc/apparmor.d/abi/3.0 --quiet /tmp/bare/*
	e=\$(date +%s%N)
	warm_bare=\$((warm_bare + \$(ms \$s \$e)))
	s=\$(date +%s%N); $confine connect bench:process-control; e=\$(date +%s%N)
	one_ours=\$((one_ours + \$(ms \$s \$e)))
	cp /var/lib/snapd/apparmor/profiles/snap.bench.admin /tmp/bare/
	s=\$(date +%s%N)
	apparmor_parser --replace --write-cache --cache-loc=/tmp/bare-cache --policy-features /etc/apparmor.d/abi/3.0 --quiet /tmp/bare/snap.bench.admin
	e=\$(date +%s%N)
	one_bare=\$((one_bare + \$(ms \$s \$e)))
	$confine disconnect bench:process-control
done
echo "\$((cold_ours / runs)) \$((cold_bare / runs)) \$((warm_ours / runs)) \$((warm_bare / runs)) \$((one_ours / runs)) \$((one_bare / runs))"
EOF
echo "   in the AppArmor VM (TCG, one vCPU; 3 runs, fresh cache each time):"
read -r cold_ours cold_bare warm_ours warm_bare one_ours one_bare < <(VM_RUN_TIMEOUT=900 "$repo/integration/vm-run" bash "$work/vm.sh" | tail -n1)
printf '   %-58s %8s %8s %7s\n' "" "ours ms" "bare ms" "ratio"
printf '   %-58s %8s %8s %6.2fx\n' "new profiles: register vs apparmor_parser -r --write-cache" \
	"$cold_ours" "$cold_bare" "$(awk -v a="$cold_ours" -v b="$cold_bare" 'BEGIN { print a / b }')"
printf '   %-58s %8s %8s %6.2fx\n' "unchanged profiles: register again vs -r from the cache" \
	"$warm_ours" "$warm_bare" "$(awk -v a="$warm_ours" -v b="$warm_bare" 'BEGIN { print a / b }')"
printf '   %-58s %8s %8s %6.2fx\n' "one connection: connect vs -r --write-cache of that profile" \
	"$one_ours" "$one_bare" "$(awk -v a="$one_ours" -v b="$one_bare" 'BEGIN { print a / b }')"
echo "   (ours = everything: snap.yaml, generation, seccomp compile, state, compile then load;"
echo "    bare = apparmor_parser alone on the same profile files)"

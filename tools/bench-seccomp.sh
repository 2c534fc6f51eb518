#!/bin/bash
# Times confine-seccomp against Debian's snap-seccomp on the same policy.
#
#   tools/bench-seccomp.sh [SRC] [RUNS]
#
# SRC defaults to the realistic test policy (about 450 lines), RUNS to 50.
# Both compilers write the legacy .bin format (the only one snap-seccomp
# 2.57.6 knows), each run is a whole process, as snapd runs it. Our binary is
# built in release mode first.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=${1:-$here/tests/fixtures/seccomp/realistic.src}
runs=${2:-50}
theirs=/usr/lib/snapd/snap-seccomp

if [ ! -x "$theirs" ]; then
    echo "cannot find $theirs: apt-get install snapd" >&2
    exit 1
fi

cargo build --quiet --release -p confine-tools --bin confine-seccomp --manifest-path "$here/../Cargo.toml"
target_dir=$(cargo metadata --format-version 1 --no-deps --manifest-path "$here/../Cargo.toml" |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
ours=$target_dir/release/confine-seccomp

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Prints the total wall time of RUNS compiles, in nanoseconds.
time_runs() {
    local start end
    start=$(date +%s%N)
    for _ in $(seq "$runs"); do
        "$@" >/dev/null
    done
    end=$(date +%s%N)
    echo $((end - start))
}

# One untimed run each, to warm caches and catch errors early.
"$ours" compile --format=bin "$src" "$work/ours.bin"
"$theirs" compile "$src" "$work/theirs.bin"

ours_ns=$(time_runs "$ours" compile --format=bin "$src" "$work/ours.bin")
theirs_ns=$(time_runs "$theirs" compile "$src" "$work/theirs.bin")

if cmp -s "$work/ours.bin" "$work/theirs.bin"; then same=yes; else same=no; fi

echo "policy: $src ($(wc -l <"$src") lines), $runs runs each"
printf '%-36s %10s\n' "compiler" "ms per run"
printf '%-36s %10s\n' "confine-seccomp (release)" "$(awk -v t="$ours_ns" -v n="$runs" 'BEGIN { printf "%.2f", t / n / 1e6 }')"
printf '%-36s %10s\n' "snap-seccomp ($(dpkg-query -W -f '${Version}' snapd 2>/dev/null || echo '?'))" \
    "$(awk -v t="$theirs_ns" -v n="$runs" 'BEGIN { printf "%.2f", t / n / 1e6 }')"
printf '%-36s %10s\n' "ratio ours/theirs" "$(awk -v a="$ours_ns" -v b="$theirs_ns" 'BEGIN { printf "%.2f", a / b }')"
echo "identical output: $same"

# Sourced by the benchmarks. in_private_ns SCRIPT runs `bash SCRIPT` as PID 1
# of private mount and PID namespaces, with a private /proc. The mount
# namespace is made on the CPU whose new namespaces get the smallest ids
# (bench/nsorder.py says why: the launches preserve namespaces in it, as in
# PID 1's on a real host, the oldest of all); SCRIPT then runs on every CPU
# again.
PRIVATE_NS_BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
in_private_ns() {
	local bench=$PRIVATE_NS_BENCH cpus cpu
	cpus=$(taskset -pc $$ | sed 's/.*: //')
	cpu=$(python3 "$bench/nsorder.py" oldest-cpu)
	taskset -c "$cpu" unshare --pid --fork --mount-proc --mount --propagation private -- \
		bash -c 'taskset -pc "$1" $$ >/dev/null && { python3 "$2" check || true; } && exec bash "$3"' \
		in-private-ns "$cpus" "$bench/nsorder.py" "$1"
}

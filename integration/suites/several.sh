#!/bin/bash
# Runs several VM suites one after the other in one boot of the VM:
#   integration/vm-run integration/suites/several.sh SUITE ARG [SUITE ARG]...
# SUITE <name>-v1 or <name>-v2 runs <name>.sh (which reads the layout from
# the boot). Each suite's TAP output and summary line come as they are
# printed, followed by the time it took. Each suite but the first starts
# with no snap installed: the snaps the suites before it left are removed
# first, so that it finds the same state as in a boot of its own. Exit
# status 0 only if every suite passed.
cd "$(dirname "$0")" || exit 1
rc=0 first=1
# reset: removes every snap installed (an app before its base).
reset() {
	local s left i
	for i in 1 2 3; do
		left=
		for s in /snap/*; do
			s=${s#/snap/}
			[ "$s" = bin ] || [ "$s" = '*' ] || confine remove "$s" >/dev/null 2>&1 || left+=" $s"
		done
		[ -z "$left" ] && return 0
	done
	echo "# cannot remove the snaps left before:$left"
	return 1
}
while [ $# -ge 2 ]; do
	suite=$1 arg=$2
	shift 2
	echo "== suite $suite"
	start=$SECONDS
	[ -n "$first" ] || reset || rc=1
	first=
	bash "./${suite%-v[12]}.sh" "$arg" || rc=1
	echo "# $suite took $((SECONDS - start)) s"
done
exit $rc

#!/bin/bash
# Runs several VM suites one after the other in one boot of the VM:
#   integration/vm-run integration/suites/several.sh SUITE ARG [SUITE ARG]...
# Each suite's TAP output and summary line come as they are printed,
# followed by the time it took. Exit status 0 only if every suite passed.
cd "$(dirname "$0")" || exit 1
rc=0
while [ $# -ge 2 ]; do
	suite=$1 arg=$2
	shift 2
	echo "== suite $suite"
	start=$SECONDS
	bash "./$suite.sh" "$arg" || rc=1
	echo "# $suite took $((SECONDS - start)) s"
done
exit $rc

# Running Debian's snapd offline in the systemd VM, for the snapd suite, the
# snapd demo and the snapd benchmark. Source it; the snaps come from
# integration/snapd/make-snaps.

# snapd_start: start snapd and wait until it is seeded. AppArmor's own
# service does not load profiles in the VM ("not starting AppArmor in
# container"): the launcher's profile is loaded here, whichever is installed.
snapd_start() {
	modprobe loop && modprobe squashfs &&
		apparmor_parser -r /etc/apparmor.d/usr.lib.snapd.snap-confine.real &&
		systemctl start snapd.socket snapd.service &&
		snap wait system seed.loaded
}

# snapd_install DIR SNAP...: install the snaps from DIR (--dangerous; the
# placeholder snapd snap and the base first, one by one; hello-classic with
# --classic), failing on the first that fails.
snapd_install() {
	local dir=$1 s
	shift
	for s in "$@"; do
		case $s in
		hello-classic) snap install --dangerous --classic "$dir/$s.snap" ;;
		*) snap install --dangerous "$dir/$s.snap" ;;
		esac >/dev/null || { echo "cannot install $s" >&2; return 1; }
	done
}

# start_app VAR CMD...: run CMD in the background and wait (up to 120 s)
# until the app has replaced snap run, snap-confine and snap-exec in the
# process (its comm is sleep); the pid goes in VAR.
start_app() {
	local __var=$1 __pid __i
	shift
	"$@" </dev/null >/dev/null 2>&1 &
	__pid=$!
	for __i in $(seq 1200); do
		[ "$(cat /proc/$__pid/comm 2>/dev/null)" = sleep ] && break
		kill -0 "$__pid" 2>/dev/null || break
		sleep 0.1
	done
	printf -v "$__var" %s "$__pid"
}

# stop_app PID
stop_app() {
	kill "$1" 2>/dev/null
	# Its status is the signal's (143): not a failure, even under set -e.
	wait "$1" 2>/dev/null || true
}

# describe PID: what a running app's sandbox looks like from outside, one
# fact a line, with what differs from run to run (cookies, scope ids, mount
# ids and devices) left out.
describe() {
	local p=$1
	echo "label: $(cat /proc/$p/attr/current 2>&1)"
	grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp|Seccomp_filters):' /proc/$p/status |
		tr '\t' ' ' | tr -s ' '
	echo "devices cgroup: $(sed -n 's/^[0-9]*:devices://p' /proc/$p/cgroup | sed -E 's/[0-9a-f]{8}-[0-9a-f-]{27}/UUID/')"
	echo "cwd: $(readlink /proc/$p/cwd)"
	tr '\0' '\n' </proc/$p/environ | grep -vE '^(INVOCATION_ID|JOURNAL_STREAM|SYSTEMD_EXEC_PID|MANAGERPID)=' |
		sed -E 's/^(SNAP_COOKIE|SNAP_CONTEXT)=.*/\1=COOKIE/' | sort | sed 's/^/env: /'
	awk '{ for (i = 7; $i != "-"; i++); print "mount:", $5, $(i + 1), $4 }' /proc/$p/mountinfo | sort
}

#!/bin/bash
# VM suite: the attack checklist of a setuid launcher, one TAP line per row,
# against the installed launcher as packaged, AppArmor on. The runner boots
# it with each cgroup layout (checklist-v1, checklist-v2); rows that depend
# on the fs.protected_* sysctls (symlinks, hardlinks, regular, fifos) run
# with them all off, then all on (regular and fifos at their strictest, 2).
# After each row a comment line says how long it took.
#   integration/vm-run integration/suites/checklist.sh INPUT_DIR
# INPUT_DIR (made on the host): compiled policies, evil.so (writes a marker
# when loaded), execargs (execs its first argument with the rest as argv,
# possibly none).
# A row that cannot apply, or that this suite does not exercise, says so in
# its line (`# SKIP reason`) and is counted as skipped, never as passed.
set -u
if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then T_SUITE=checklist-v2; else T_SUITE=checklist-v1; fi
. "$(dirname "$0")/lib.sh"
in=$1
here=$(cd "$(dirname "$0")/.." && pwd)
sysctl -qw kernel.printk_ratelimit=0
T_SKIP=0

# row N DESCRIPTION FUNCTION: runs FUNCTION, one TAP line numbered N. The
# function prints why it failed (or "SKIP: reason") and returns non-zero.
row() {
	local n=$1 desc=$2 out rc
	[ "$n" = $((T_N + 1)) ] || { echo "# row $n out of order (after $T_N)"; exit 1; }
	local scratch_before scratch_after start=$SECONDS
	scratch_before=$(grep -c 'snap\.rootfs_' /proc/self/mountinfo)
	out=$("$3" 2>&1)
	rc=$?
	T_TOOK="# row $n: $((SECONDS - start)) s"
	# A launch must never leave its scratch root mounted out here.
	scratch_after=$(grep -c 'snap\.rootfs_' /proc/self/mountinfo)
	if [ "$scratch_after" -gt "$scratch_before" ]; then
		out="$out"$'\n'"left a scratch root mounted in the host's namespace: $(grep 'snap\.rootfs_' /proc/self/mountinfo | cut -d' ' -f5 | tr '\n' ' ')"
		rc=1
	fi
	if [ $rc = 0 ]; then
		pass "$desc${out:+ ($(tail -n1 <<<"$out"))}"
	elif [ $rc = 77 ]; then
		T_N=$((T_N + 1)) T_SKIP=$((T_SKIP + 1))
		echo "ok $T_N - $desc # SKIP ${out#SKIP: }"
	else
		fail "$desc" "$out"
	fi
	echo "$T_TOOK"
}
skip() { echo "SKIP: $*"; return 77; }
# must CONDITION... : fail the row with the condition's text.
must() { "$@" || { echo "failed: $*"; return 1; }; }
nobody() { as_nobody "$@"; }
# NB: as_nobody as a plain command, for `"${NB[@]}" CMD &`, where $! must be
# the launcher itself (setpriv and env exec it), not a subshell.
NB=(setpriv --reuid=65534 --regid=65534 --clear-groups -- env -i PATH=/usr/bin:/bin SNAP_INSTANCE_NAME=demo SNAP_CONFINE_MAX_PROFILE_WAIT=1)
# waiting PID: PID is the launcher, waiting privileged (for a lock root holds).
waiting() {
	local i
	for i in $(seq 100); do
		[ "$(readlink /proc/$1/exe)" = "$L" ] && grep -q "^Uid:\s*0\s*0\s*0\s*0$" /proc/$1/status && return 0
		sleep 0.1
	done
	echo "process $1 is not the launcher waiting privileged: $(readlink /proc/$1/exe) $(grep ^Uid /proc/$1/status)"
	return 1
}
# in_scope TAG CMD...: CMD in a scope of TAG's (cgroup v2, where the front
# end starts every app in one and a snap with devices needs it), as is on v1.
in_scope() {
	local tag=$1
	shift
	if [ "$T_SUITE" = checklist-v2 ]; then
		local g=/sys/fs/cgroup/test.slice/$tag-$BASHPID$RANDOM.scope
		mkdir -p $g
		(echo $BASHPID >$g/cgroup.procs && "$@")
	else
		"$@"
	fi
}
# The guest's own values of the protected_* sysctls, put back after a row
# that changes them.
PROTECTED=$(sysctl -n fs.protected_symlinks fs.protected_hardlinks fs.protected_regular fs.protected_fifos | tr '\n' ' ')
# links 0|1|guest: the four protected_* sysctls all off (0); all on (1:
# symlinks and hardlinks 1, regular and fifos 2, also in a group-writable
# sticky directory); or as the guest had them.
links() {
	local v
	case $1 in
	0) v="0 0 0 0" ;;
	1) v="1 1 2 2" ;;
	guest) v=$PROTECTED ;;
	esac
	set -- $v
	sysctl -qw fs.protected_symlinks="$1" fs.protected_hardlinks="$2" fs.protected_regular="$3" fs.protected_fifos="$4"
}
# both_links FUNCTION [ARGS]: FUNCTION with the protected_* sysctls at 0, then
# at 1, then as the guest had them.
both_links() {
	local v out
	for v in 0 1; do
		links $v
		out=$("$@") || { echo "protected_* sysctls at $v: $out"; links guest; return 1; }
		echo "at $v: $(tail -n1 <<<"$out")"
	done | tr '\n' ' '
	v=${PIPESTATUS[0]}
	links guest
	return "$v"
}
# state: what a refusal must leave untouched.
state() {
	{ ls -lA /run/snapd/ns /tmp/snap-private-tmp 2>&1; grep -c . /proc/self/mountinfo; ls /sys/fs/cgroup/devices /sys/fs/cgroup/freezer 2>/dev/null | grep -c snap; } | md5sum
}
fresh() { /usr/lib/confine/snap-discard-ns demo >/dev/null 2>&1; /usr/lib/confine/snap-discard-ns other >/dev/null 2>&1; true; }
# The private tmp base gone, as after a reboot: the launcher makes it a
# private mount point of its own at the first launch, which rm cannot take.
rm_tmp_base() { while mountpoint -q /tmp/snap-private-tmp; do umount -l /tmp/snap-private-tmp; done; rm -rf /tmp/snap-private-tmp "$@"; }

# The scene: as the strict suite (a base "core" that is the guest's root
# with a marker), the policies, and the profiles.
install -d -m 0755 /var/lib/snapd/seccomp/bpf /var/lib/snapd/cgroup /var/lib/snapd/cookie
install -m 0644 "$in"/*.bin2 /var/lib/snapd/seccomp/bpf/
for i in demo other; do printf '# This file is automatically generated.\n' >/var/lib/snapd/cgroup/snap.$i.device; done
install -d -m 0700 /tmp/snap-private-tmp
mkdir -p /var/tmp/bases && mount -t tmpfs bases /var/tmp/bases
mkdir -p /var/tmp/bases/1/upper/usr/share/confine /var/tmp/bases/1/work /snap/core/1
echo core/1 >/var/tmp/bases/1/upper/usr/share/confine/base-marker
mount -t overlay -o lowerdir=/,upperdir=/var/tmp/bases/1/upper,workdir=/var/tmp/bases/1/work core-1 /snap/core/1
ln -s 1 /snap/core/current
apparmor_parser -r /etc/apparmor.d/usr.lib.confine.snap-confine
apparmor_parser -r "$here/profiles/snap.demo.app"
for p in snap.demo.tool snap.demo.hello snap.other.app snap-update-ns.demo snap-update-ns.other; do
	sed "s/PROFILE/$p/" "$here/profiles/permissive" | apparmor_parser -r
done
install -d -m 0755 -o 65534 -g 65534 /home/nobody
mkdir -p /var/tmp/attacker && chown 65534:65534 /var/tmp/attacker
rm -f /var/tmp/marker
export HOME=/root

r1() {
	local v out
	for v in 0 1; do
		links $v
		rm -rf /var/tmp/attacker/x /var/tmp/marker
		nobody sh -c "mkdir /var/tmp/attacker/x && ln $L /var/tmp/attacker/x/snap-confine 2>/dev/null" || {
			[ $v = 1 ] || { echo "protected_hardlinks=0: the hard link was refused"; return 1; }
			continue
		}
		printf '#!/bin/sh\ntouch /var/tmp/marker\n' >/var/tmp/attacker/helper && chmod 755 /var/tmp/attacker/helper
		for h in snap-update-ns snap-discard-ns snap-device-helper; do nobody cp /var/tmp/attacker/helper /var/tmp/attacker/x/$h; done
		out=$(nobody /var/tmp/attacker/x/snap-confine snap.demo.tool /bin/true 2>&1)
		must grep -q "cannot run from unexpected location" <<<"$out" || { echo "protected_hardlinks=$v: $out"; return 1; }
		must [ ! -e /var/tmp/marker ] || return 1
	done
	links guest
}
row 1 "a hard link of the launcher with fake helpers beside it is refused (protected_* 0 and 1)" r1

r2() {
	local out
	cp -p $L /var/tmp/copy && chmod 4755 /var/tmp/copy
	out=$(nobody /var/tmp/copy snap.demo.tool /bin/true 2>&1)
	rm -f /var/tmp/copy
	must grep -q "unexpected location\|is not confined but should be" <<<"$out" || { echo "$out"; return 1; }
}
row 2 "a setuid copy its profile does not attach to is refused" r2

r3() {
	local out
	out=$(nobody "$in/execargs" $L 2>&1; echo "status=$?")
	must grep -qx "status=1" <<<"$out" || { echo "argc=0: $out"; return 1; }
	out=$(nobody "$in/execargs" $L /bin/evil-name snap.demo.tool /bin/echo spoofed 2>&1)
	must [ "$out" = spoofed ] || { echo "spoofed argv[0]: $out"; return 1; }
}
row 3 "argc==0 is refused cleanly and a spoofed argv[0] changes nothing" r3

r4() {
	local before tag out bad=""
	fresh
	before=$(state)
	for tag in 'snap.a.b/../..' 'snap.DEMO.tool' "snap.demo.$(head -c 5000 /dev/zero | tr '\0' a)" $'snap.demo.tool\n' \
		'snap.demo.tооl' 'snap..x' 'snap.demo.hook.-bad' 'snap.demo_.tool' 'snap.demo_TOOLONGKEY1234.tool' ''; do
		out=$(nobody $L "$tag" /bin/true 2>&1; echo "status=$?")
		grep -qx "status=1" <<<"$out" || bad="$bad${bad:+; }${tag:0:40}: $out"
	done
	[ -z "$bad" ] || { echo "$bad"; return 1; }
	must [ "$(state)" = "$before" ]
}
row 4 "invalid security tags die in validation with nothing made" r4

r5() {
	local out bad=""
	out=$(nobody $L --base ../../tmp/evil snap.demo.tool /bin/true 2>&1; echo "status=$?")
	grep -qx "status=1" <<<"$out" || bad="$bad--base ../../tmp/evil: $out; "
	out=$(nobody $L --base $'core\n' snap.demo.tool /bin/true 2>&1; echo "status=$?")
	grep -qx "status=1" <<<"$out" || bad="$bad--base core<newline>: $out; "
	out=$(nobody $L --base core --base core snap.demo.tool /bin/true 2>&1; echo "status=$?")
	grep -qx "status=1" <<<"$out" || bad="$bad--base twice: $out; "
	out=$(SNAP_INSTANCE_NAME=other nobody $L snap.demo.tool /bin/true 2>&1; echo "status=$?")
	grep -qx "status=1" <<<"$out" || bad="${bad}instance name mismatch: $out"
	[ -z "$bad" ] || { echo "$bad"; return 1; }
}
row 5 "a mismatched instance name and bad or repeated --base are refused" r5

r6() {
	local out
	rm -f /var/tmp/marker
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups -- env -i PATH=/var/tmp/attacker:/usr/bin:/bin SNAP_INSTANCE_NAME=demo \
		LD_PRELOAD="$in/evil.so" LD_LIBRARY_PATH="$in" LD_AUDIT="$in/evil.so" GCONV_PATH="$in" LOCPATH="$in" NLSPATH="$in" \
		HOSTALIASES=/etc/shadow RESOLV_HOST_CONF=/etc/shadow MALLOC_CHECK_=3 TZDIR="$in" TMPDIR=/etc HOME=/root \
		RUST_BACKTRACE=full RUST_LOG=trace SNAP_CONFINE_MAX_PROFILE_WAIT=1 \
		$L snap.demo.tool /bin/sh -c 'echo "PATH=$PATH TMPDIR=$TMPDIR TEMPDIR=$TEMPDIR LD_PRELOAD=${LD_PRELOAD-unset}"' 2>&1)
	must [ ! -e /var/tmp/marker ] || return 1
	must grep -q "TMPDIR=/tmp TEMPDIR=/tmp LD_PRELOAD=unset" <<<"$out" || { echo "$out"; return 1; }
	must grep -qv "PATH=/var/tmp/attacker" <<<"$out" || return 1
	for wait in -1 1e99 abc; do
		out=$(SNAP_CONFINE_MAX_PROFILE_WAIT=$wait setpriv --reuid=65534 --regid=65534 --clear-groups -- env -i SNAP_INSTANCE_NAME=demo \
			SNAP_CONFINE_MAX_PROFILE_WAIT=$wait $L snap.demo.tool /bin/true 2>&1; echo "status=$?")
		grep -qx "status=[01]" <<<"$out" || { echo "wait $wait: $out"; return 1; }
	done
}
row 6 "a hostile environment loads nothing into the launcher and the app sees it reset" r6

r7() {
	local out
	out=$(nobody env $(seq -f 'V%g=x' 20000) BIG="$(head -c 120000 /dev/zero | tr '\0' x)" V1=a V1=b $L snap.demo.tool /bin/sh -c 'echo $V1' 2>&1; echo "status=$?")
	must grep -qx "status=0" <<<"$out" || { echo "$(tail -c 300 <<<"$out")"; return 1; }
	echo "20000 variables, a 120 kB value, a duplicate: $(head -n1 <<<"$out")"
}
row 7 "a huge environment with duplicates is handled" r7

r8() {
	local out
	out=$(nobody $L snap.demo.tool /bin/echo -- --classic --base=x --help -x 2>&1)
	must [ "$out" = "-- --classic --base=x --help -x" ] || { echo "$out"; return 1; }
}
row 8 "everything after the tag goes to the app verbatim" r8

r9() {
	local out
	out=$(nobody sh -c "mkdir -p /var/tmp/attacker/gone && cd /var/tmp/attacker/gone && rmdir ../gone && $L snap.demo.tool /bin/pwd" 2>&1)
	must [ "$out" = /var/lib/snapd/void ] || { echo "deleted cwd: $out"; return 1; }
	install -d -m 0700 /var/tmp/rootonly
	out=$(cd /var/tmp/rootonly && nobody $L snap.demo.tool /bin/pwd 2>&1)
	must [ "$out" = /var/lib/snapd/void ] || { echo "cwd the user cannot enter: $out"; return 1; }
	echo "(a blocking FUSE cwd is not exercised)"
}
row 9 "a deleted or unenterable cwd falls back to the void, resolved as the user" r9

# fds REPORT: the descriptor numbers of the probe's fds= line.
fds() { sed -n 's/^fds=//p' <<<"$1" | tr ' ' '\n' | cut -d: -f1 | tr '\n' ' ' | sed 's/ $//'; }
r10() {
	local out
	out=$(nobody sh -c "exec 3</ 4</etc 5</proc/self 7<>/dev/null; exec 0<&- 1>/var/tmp/attacker/out 2>&1; $L snap.demo.app $P report" ; cat /var/tmp/attacker/out)
	# 0 was closed: the launcher's own opens never land there, and the
	# app's stdin is what the launcher put there instead.
	must [ "$(fds "$out")" = "0 1 2 3 4 5 7" ] || { echo "$out" | grep -E 'fds|cannot'; return 1; }
	must grep -q "1:/var/tmp/attacker/out 2:/var/tmp/attacker/out 3:/ 4:/etc 5:/proc/[0-9]* 7:/dev/null" <<<"$out" || { echo "$out" | grep fds; return 1; }
	out=$(nobody bash -c "ulimit -n 64; exec 63</dev/null; $L snap.demo.app $P report" 2>&1)
	must [ "$(fds "$out")" = "0 1 2 63" ] || { echo "$out" | grep -E 'fds|cannot'; return 1; }
}
row 10 "the app gets the caller's descriptors only, even with 0 closed or at the limit" r10

r11() {
	local out
	fresh
	out=$(nobody prlimit --fsize=0 $L snap.demo.tool /bin/true 2>&1; echo "status=$?")
	must grep -qx "status=1" <<<"$out" || { echo "fsize: $out"; return 1; }
	must [ ! -e /run/snapd/ns/demo.mnt ] && must [ ! -e /run/snapd/ns/snap.demo.info ] || return 1
	for lim in --nofile=4 --as=20000000 --nproc=0 --stack=unlimited --core=unlimited; do
		out=$(nobody prlimit $lim $L snap.demo.tool /bin/true 2>&1; echo "status=$?")
		grep -qx "status=[01]" <<<"$out" || { echo "$lim: $out"; return 1; }
	done
	fresh
}
row 11 "limits make the launch fail closed, with no truncated record" r11

r12() {
	local i pid sig killed=0 out stops=0
	for i in $(seq 150); do
		[ $((i % 3)) = 0 ] && fresh
		"${NB[@]}" $L snap.demo.tool /bin/true >/dev/null 2>&1 &
		pid=$!
		sleep "$(printf '0.%03d' $((RANDOM % 60)))"
		sig=$(shuf -n1 -e STOP CONT TERM INT KILL ALRM PIPE)
		kill -$sig $pid 2>/dev/null && killed=$((killed + 1))
		[ $sig = STOP ] && { stops=$((stops + 1)); sleep 0.05; kill -CONT $pid 2>/dev/null; }
		wait $pid 2>/dev/null
	done
	out=$(nobody $L snap.demo.tool /bin/cat /usr/share/confine/base-marker 2>&1)
	must [ "$out" = core/1 ] || { echo "after the signals: $out"; return 1; }
	out=$(find /run/snapd /tmp/snap-private-tmp -perm -o+w ! -type l ! -path '*/tmp/*' ! -path /tmp/snap-private-tmp/snap.demo/tmp 2>/dev/null)
	must [ -z "$out" ] || { echo "world-writable leftovers: $out"; return 1; }
	# The caller cannot stop a launcher that holds a lock.
	exec 9<>/run/snapd/lock/demo.lock && flock -x 9
	"${NB[@]}" $L snap.demo.tool /bin/true >/dev/null 2>&1 &
	pid=$!
	waiting $pid || { flock -u 9; exec 9>&-; kill $pid; return 1; }
	out=$(nobody kill -STOP $pid 2>&1 && echo sent || echo refused)
	flock -u 9; exec 9>&-
	wait $pid
	must [ "$(tail -n1 <<<"$out")" = refused ] || { echo "SIGSTOP from the caller: $out"; return 1; }
	echo "$killed of 150 launches signalled (as root), $stops stopped"
}
row 12 "signals at random points leave nothing stale or writable; the caller cannot stop it" r12

r13() {
	local pid out
	exec 9<>/run/snapd/lock/demo.lock && flock -x 9
	"${NB[@]}" $L snap.demo.tool /bin/true >/dev/null 2>&1 &
	pid=$!
	waiting $pid || { flock -u 9; exec 9>&-; kill $pid; return 1; }
	out=$(nobody sh -c "cat /proc/$pid/environ >/dev/null 2>&1 && echo environ=readable; cat /proc/$pid/mem >/dev/null 2>&1 && echo mem=readable; \
		ls /proc/$pid/fd/ >/dev/null 2>&1 && echo fd=listable; readlink /proc/$pid/cwd >/dev/null 2>&1 && echo cwd=readable; $P attach $pid")
	flock -u 9; exec 9>&-
	wait $pid
	must grep -qx "attach=EPERM" <<<"$out" && must [ "$(grep -c readable <<<"$out")" = 0 ] && must [ "$(grep -c listable <<<"$out")" = 0 ] || { echo "$out"; return 1; }
}
row 13 "a launcher waiting on a lock cannot be read or traced by the caller" r13

r14() {
	local pid old out
	old=$(cat /proc/sys/kernel/core_pattern)
	echo /var/tmp/core.%p >/proc/sys/kernel/core_pattern
	rm -f /var/tmp/core.*
	exec 9<>/run/snapd/lock/demo.lock && flock -x 9
	"${NB[@]}" sh -c "ulimit -c unlimited; exec $L snap.demo.tool /bin/true" >/dev/null 2>&1 &
	pid=$!
	waiting $pid || { flock -u 9; exec 9>&-; kill $pid; echo "$old" >/proc/sys/kernel/core_pattern; return 1; }
	out=$(nobody kill -SEGV $pid 2>/dev/null && echo sent || echo refused)
	kill -SEGV $pid
	flock -u 9; exec 9>&-
	wait $pid
	echo "$old" >/proc/sys/kernel/core_pattern
	out="$out $(find /var/tmp -maxdepth 1 -name 'core.*' -user 65534 2>/dev/null; find /var/tmp -maxdepth 1 -name 'core.*' -perm -o+r 2>/dev/null)"
	rm -f /var/tmp/core.*
	must [ "$out" = "refused " ] || { echo "$out"; return 1; }
}
row 14 "a crash while privileged leaves no core the user can read" r14

r15_at() {
	local tries=0 hits=0 out path
	fresh
	for path in /tmp/snap-private-tmp /tmp/snap-private-tmp/snap.demo /tmp/snap-private-tmp/snap.demo/tmp; do
		tries=$((tries + 1))
		rm_tmp_base && install -d -m 0700 /tmp/snap-private-tmp
		mkdir -p /var/tmp/target && chown 65534 /var/tmp/target
		case $path in
		/tmp/snap-private-tmp) rm_tmp_base && nobody ln -s /var/tmp/target "$path" ;;
		*) mkdir -p "$(dirname "$path")" && ln -s /var/tmp/target "$path" ;;
		esac
		out=$(nobody $L snap.demo.tool /bin/true 2>&1; echo "status=$?")
		[ -z "$(ls -A /var/tmp/target)" ] || { echo "$path: something was made through the link"; return 1; }
		grep -qx status=1 <<<"$out" && hits=$((hits + 1))
		fresh
	done
	rm_tmp_base /var/tmp/target && install -d -m 0700 /tmp/snap-private-tmp
	must [ $hits = $tries ] || { echo "$hits of $tries planted links refused"; return 1; }
	echo "$tries links planted, $hits refused"
}
r15() { both_links r15_at; }
row 15 "a symlink at a predictable path is never followed (protected_* 0 and 1)" r15

r16() {
	local kind out tries=0 hits=0
	for kind in owned 0777 fifo file; do
		tries=$((tries + 1))
		fresh
		rm -rf /tmp/snap-private-tmp/snap.demo
		case $kind in
		owned) install -d -o 65534 -m 0700 /tmp/snap-private-tmp/snap.demo && echo planted >/tmp/snap-private-tmp/snap.demo/x ;;
		0777) install -d -m 0777 /tmp/snap-private-tmp/snap.demo && mkdir -m 1777 /tmp/snap-private-tmp/snap.demo/tmp && echo planted >/tmp/snap-private-tmp/snap.demo/tmp/x ;;
		fifo) mkfifo /tmp/snap-private-tmp/snap.demo ;;
		file) echo planted >/tmp/snap-private-tmp/snap.demo ;;
		esac
		out=$(timeout 20 setpriv --reuid=65534 --regid=65534 --clear-groups -- env -i PATH=/usr/bin:/bin SNAP_INSTANCE_NAME=demo \
			SNAP_CONFINE_MAX_PROFILE_WAIT=1 $L snap.demo.tool /bin/sh -c 'cat /tmp/x 2>/dev/null || echo clean' 2>&1; echo "status=$?")
		grep -q planted <<<"$out" && { echo "$kind: the planted content was reused: $out"; return 1; }
		grep -qx "status=124" <<<"$out" && { echo "$kind: hung"; return 1; }
		hits=$((hits + 1))
	done
	rm -rf /tmp/snap-private-tmp/snap.demo
	fresh
	echo "$tries planted, none reused"
}
row 16 "a pre-made per-app directory of the wrong kind is never reused" r16

r17_at() {
	local tries=0 hits=0 escapes=0 hung=0 out loop soft hard
	install -d -o 65534 -g 65534 -m 0755 /home/nobody/snap /home/nobody/snap/demo
	install -d -m 0700 /var/tmp/victim
	# The attacker's loop, bounded in time whatever happens here, its output
	# away from the row's (which is read to its end).
	setpriv --reuid=65534 --regid=65534 --clear-groups -- timeout $(($2 + 30)) sh -c 'cd /home/nobody/snap/demo; while :; do
		rm -rf x1; mkdir x1; rm -rf x1; ln -s /var/tmp/victim x1; done' >/dev/null 2>&1 &
	loop=$!
	# At most 150 launches, for $1 s, or on until the race is hit once (at
	# most $2 s): the loop slows an emulated machine down, more so a busy
	# one, where $1 s may hold only a few launches.
	soft=$((SECONDS + $1)) hard=$((SECONDS + $2))
	while [ $tries -lt 150 ] && [ $SECONDS -lt $hard ] && { [ $SECONDS -lt $soft ] || [ $hits = 0 ]; }; do
		tries=$((tries + 1))
		out=$(timeout 30 setpriv --reuid=65534 --regid=65534 --clear-groups -- env -i PATH=/usr/bin:/bin SNAP_INSTANCE_NAME=demo HOME=/home/nobody \
			SNAP_USER_DATA=/home/nobody/snap/demo/x1/data SNAP_CONFINE_MAX_PROFILE_WAIT=1 $L snap.demo.tool /bin/true 2>&1; echo "status=$?")
		grep -qx status=124 <<<"$out" && hung=$((hung + 1))
		grep -qiE "not a directory|too many levels|no such file|exists" <<<"$out" && hits=$((hits + 1))
		[ -z "$(ls -A /var/tmp/victim)" ] || escapes=$((escapes + 1))
	done
	kill $loop 2>/dev/null; wait $loop 2>/dev/null
	rm -rf /home/nobody/snap /var/tmp/victim
	must [ $escapes = 0 ] && must [ $hung = 0 ] || { echo "$escapes escapes, $hung launches hung in $tries"; return 1; }
	must [ $hits -gt 0 ] || { echo "the race was never hit in $tries launches"; return 1; }
	echo "$tries launches, race hit $hits times, 0 escapes"
}
r17() { both_links r17_at 60 180; }
row 17 "a dir/symlink swap loop on the user data path never escapes (protected_* 0 and 1)" r17

r18_at() {
	local kind out tries=0 hits=0
	# "Clean everything": the structure is gone and the attacker makes it,
	# as a directory with content, a fifo or a file, in the sticky /tmp.
	for kind in dir fifo file; do
		tries=$((tries + 1))
		fresh
		rm_tmp_base
		case $kind in
		dir) nobody sh -c 'mkdir -m 0700 /tmp/snap-private-tmp && mkdir -p /tmp/snap-private-tmp/snap.demo/tmp && echo planted > /tmp/snap-private-tmp/snap.demo/tmp/x' ;;
		fifo) nobody mkfifo -m 0666 /tmp/snap-private-tmp ;;
		file) nobody sh -c 'echo planted > /tmp/snap-private-tmp && chmod 0666 /tmp/snap-private-tmp' ;;
		esac
		out=$(timeout 20 "${NB[@]}" $L snap.demo.tool /bin/cat /tmp/x 2>&1; echo "status=$?")
		grep -q planted <<<"$out" && { echo "$kind: attacker-made structure used: $out"; return 1; }
		grep -qx status=124 <<<"$out" && { echo "$kind: hung"; return 1; }
		[ "$kind" != file ] || [ "$(cat /tmp/snap-private-tmp)" = planted ] || { echo "file: written to"; return 1; }
		[ "$(stat -c %U /tmp/snap-private-tmp)" = nobody ] || { echo "$kind: replaced by $(stat -c '%U %F' /tmp/snap-private-tmp)"; return 1; }
		grep -qx status=1 <<<"$out" && hits=$((hits + 1))
	done
	rm_tmp_base && install -d -m 0700 /tmp/snap-private-tmp
	must [ $hits = $tries ] || { echo "$hits of $tries attacker-made structures refused: $out"; return 1; }
	echo "$tries attacker-made structures (directory, fifo, file), $hits refused"
}
r18() {
	nobody $L snap.demo.tool /bin/sh -c 'echo left > /tmp/left' >/dev/null 2>&1
	systemd-tmpfiles --clean /usr/lib/tmpfiles.d/confine.conf >/dev/null 2>&1
	must [ -d /tmp/snap-private-tmp ] || return 1
	both_links r18_at
}
row 18 "after a tmpfiles clean, attacker-made structure is refused (protected_* 0 and 1)" r18

r19() {
	local d ok n
	fresh
	d=$(mktemp -d)
	for i in $(seq 50); do (nobody $L snap.demo.tool /bin/true >"$d/$i" 2>&1 && echo ok >>"$d/$i") & done
	wait
	ok=$(grep -lx ok "$d"/* | wc -l)
	n=$(ls /run/snapd/ns | grep -c '^demo.mnt$')
	[ "$ok" = 50 ] && [ "$n" = 1 ] || { echo "$ok of 50 succeeded, $n namespaces"; for f in "$d"/*; do grep -qx ok "$f" || sed "s|^|launch ${f##*/}: |" "$f"; done; rm -rf "$d"; return 1; }
	rm -rf "$d"
}
row 19 "fifty concurrent cold launches all succeed, one namespace" r19

r20() {
	local out
	out=$(nobody sh -c 'touch /run/snapd/ns/x 2>&1; mv /run/snapd/ns/demo.mnt /run/snapd/ns/y 2>&1' | grep -c denied)
	must [ "$out" = 2 ] || return 1
	fresh
	for kind in file symlink netns; do
		case $kind in
		file) echo fake >/run/snapd/ns/demo.mnt ;;
		symlink) ln -s /proc/1/ns/mnt /run/snapd/ns/demo.mnt ;;
		netns) touch /run/snapd/ns/demo.mnt && mount --bind /proc/self/ns/net /run/snapd/ns/demo.mnt ;;
		esac
		out=$(nobody $L snap.demo.tool /bin/cat /usr/share/confine/base-marker 2>&1; echo "status=$?")
		case "$out" in
		*status=1) ;;
		"core/1"$'\n'status=0) [ -z "$(stat -f -c %T /run/snapd/ns/demo.mnt | grep -v nsfs)" ] || { echo "$kind kept"; return 1; } ;;
		*) echo "$kind: $out"; return 1 ;;
		esac
		umount /run/snapd/ns/demo.mnt 2>/dev/null; rm -f /run/snapd/ns/demo.mnt; fresh
	done
	echo "(a mount namespace owned by another user namespace is not planted)"
}
row 20 "the namespace directory is root's; a planted file, link or other namespace is not joined" r20

r21() {
	local out
	out=$(nobody $L --join 1 snap.demo.tool /bin/true 2>&1; echo "status=$?"; nobody $L --pid 1 snap.demo.tool /bin/true 2>&1; echo "status=$?")
	must [ "$(grep -c status=1 <<<"$out")" = 2 ] || { echo "$out"; return 1; }
	echo "no join option exists; namespaces come only from /run/snapd/ns"
}
row 21 "no join by pid or by name exists" r21

r22() {
	local out
	out=$(nobody $L snap.demo.app $P report 2>&1)
	must grep -qx "label=snap.demo.app (enforce)" <<<"$out" || { echo "$out"; return 1; }
	echo "the label is verified after exec; a /proc replaced by a layout is not exercised"
}
row 22 "the app runs under its profile in enforce mode" r22

r23() {
	local out
	out=$(nobody $L snap.demo.noprofile $P report 2>&1; echo "status=$?")
	must grep -qx status=1 <<<"$out" && must grep -q "the profile is not loaded" <<<"$out" || { echo "$out"; return 1; }
	sed 's/PROFILE/snap.demo.noprofile/; s/flags=(attach_disconnected)/flags=(attach_disconnected,complain)/' "$here/profiles/permissive" | apparmor_parser -r
	out=$(nobody $L snap.demo.noprofile /bin/cat /proc/self/attr/current 2>&1; echo "status=$?")
	apparmor_parser -R /dev/stdin <<<"$(sed 's/PROFILE/snap.demo.noprofile/' "$here/profiles/permissive")" 2>/dev/null
	grep -q "(complain)" <<<"$out" && grep -qx status=0 <<<"$out" && echo "a complain-mode app profile is run in complain mode"
	true
}
row 23 "a missing app profile fails closed" r23

r24() {
	local v f=/var/lib/snapd/seccomp/bpf/snap.demo.tool.bin2 out bad=""
	cp $f /var/tmp/good.bin2
	for v in missing world-writable symlink fifo devzero truncated magic lengths; do
		rm -f $f
		case $v in
		missing) ;;
		world-writable) cp /var/tmp/good.bin2 $f && chmod 0666 $f ;;
		symlink) ln -s /var/tmp/good.bin2 $f ;;
		fifo) mkfifo $f ;;
		devzero) ln -s /dev/zero $f ;;
		truncated) head -c 100 /var/tmp/good.bin2 >$f ;;
		magic) { printf 'XX'; tail -c +3 /var/tmp/good.bin2; } >$f ;;
		lengths) { head -c 8 /var/tmp/good.bin2; printf '\377\377\377\377'; tail -c +13 /var/tmp/good.bin2; } >$f ;;
		esac
		out=$(timeout 20 setpriv --reuid=65534 --regid=65534 --clear-groups -- env -i SNAP_INSTANCE_NAME=demo SNAP_CONFINE_MAX_PROFILE_WAIT=1 \
			$L snap.demo.tool /bin/echo ran 2>&1; echo "status=$?")
		grep -qx status=1 <<<"$out" && ! grep -q ran <<<"$out" || bad="$bad$v: $out; "
	done
	rm -f $f && cp /var/tmp/good.bin2 $f && chmod 0644 $f
	must [ -z "$bad" ] || { echo "$bad"; return 1; }
}
row 24 "every bad seccomp file is refused, bounded, with no hang" r24

r25() {
	local out
	out=$(nobody $L snap.demo.app $P try tiocsti tiocsti_high 2>&1)
	# Denied by seccomp (EPERM) or by AppArmor (EACCES), never injected.
	must grep -qxE "tiocsti=(EPERM|EACCES)" <<<"$out" && must grep -qxE "tiocsti_high=(EPERM|EACCES)" <<<"$out" || { echo "$out"; return 1; }
	echo "(TIOCLINUX on a VT is not exercised)"
}
row 25 "TIOCSTI, plain and with high bits, is denied" r25

r26() {
	local out want bad=""
	out=$(nobody $L snap.demo.hello $P try clone_plain clone_newuser clone_newns clone_newnet clone3_plain clone3_newuser thread unshare0 chroot mknod_fifo 2>&1)
	for want in clone_plain=ok clone_newuser=EACCES clone_newns=EACCES clone_newnet=EACCES clone3_plain=ENOSYS clone3_newuser=ENOSYS thread=ok unshare0=EPERM chroot=EPERM; do
		grep -qx "$want" <<<"$out" || bad="$bad $want"
	done
	must [ -z "$bad" ] || { echo "expected$bad; got: $out"; return 1; }
}
row 26 "the real template denies new namespaces by clone, clone3 (ENOSYS) and unshare" r26

r27() {
	local out
	out=$(nobody $L snap.demo.tool /bin/sh -c 'grep " /dev/pts " /proc/self/mountinfo | tail -1; ls /dev/pts; readlink -f /dev/ptmx; stat -c %t:%T /dev/ptmx /dev/pts/ptmx')
	must grep -q "devpts devpts rw,gid=5,mode=620,ptmxmode=666" <<<"$out" && must [ "$(sed -n 2p <<<"$out")" = ptmx ] || { echo "$out"; return 1; }
}
row 27 "only the snap's own devpts instance is visible" r27

r28() {
	local out
	out=$(nobody $L snap.demo.app $P try mknod_fifo 2>&1)
	must grep -qx "mknod_fifo=EPERM" <<<"$out" || { echo "$out"; return 1; }
	skip "mknod is denied; the device cgroup itself is tested by the devices-v1 and devices-v2 suites (this scene's snaps need none)"
}
row 28 "blocked devices stay blocked" r28

r29() {
	local out g
	nobody $L snap.demo.tool /bin/true
	out=""
	for g in /sys/fs/cgroup/devices/snap.demo.tool /sys/fs/cgroup/freezer/snap.demo; do
		[ -d $g ] || continue
		for f in cgroup.procs devices.allow freezer.state; do
			[ -e $g/$f ] && { nobody sh -c "echo a > $g/$f" 2>/dev/null && out="$out $g/$f"; }
		done
	done
	for f in $(find /sys/fs/cgroup -path '*snap.demo*' -name cgroup.procs 2>/dev/null); do
		nobody sh -c "echo \$\$ > $f" 2>/dev/null && out="$out $f"
	done
	[ -d /sys/fs/bpf/snap ] && { nobody ls /sys/fs/bpf/snap >/dev/null 2>&1 && out="$out /sys/fs/bpf/snap listable"; }
	must [ -z "$out" ] || { echo "writable by the user:$out"; return 1; }
	echo "(systemd's user manager and daemon-reload are tested by the install suite)"
}
row 29 "the user cannot write the snap's cgroups or its pinned BPF objects" r29

r30() {
	local before after out
	before=$(sha256sum <$L)
	out=$(nobody $L snap.demo.tool /bin/sh -c 'for p in /proc/[0-9]*; do readlink $p/exe; done | grep -c snap-confine; { echo x >> /proc/self/exe; } 2>/dev/null && echo wrote' 2>&1)
	after=$(sha256sum <$L)
	must [ "$before" = "$after" ] && must [ "$out" = 0 ] || { echo "$out"; return 1; }
}
row 30 "no launcher process is visible inside and its binary is unchanged" r30

r31() {
	local out
	out=$(nobody $L snap.demo.app $P report 2>&1)
	for want in uid=65534,65534,65534 capeff=0000000000000000; do
		must grep -qx "$want" <<<"$out" || { echo "$out"; return 1; }
	done
	out=$(nobody $L snap.demo.tool /bin/grep -E '^(CapInh|CapPrm|CapEff|CapAmb|NoNewPrivs|Gid)' /proc/self/status)
	must [ "$(grep -c ':\s*0000000000000000$' <<<"$out")" = 4 ] && must grep -q "NoNewPrivs:\s*0" <<<"$out" || { echo "$out"; return 1; }
}
row 31 "the app holds no capability, the caller's ids, and NoNewPrivs 0 under AppArmor" r31

r32() {
	local m out
	for m in 000 077; do
		rm -rf /home/nobody/snap
		out=$(nobody sh -c "umask $m; SNAP_USER_DATA=/home/nobody/snap/demo/x1 $L snap.demo.tool /bin/true" 2>&1)
		out="$out$(stat -c '%a %U' /home/nobody/snap /home/nobody/snap/demo/x1 | tr '\n' ' ')"
		must [ "$out" = "700 nobody 755 nobody " ] || { echo "umask $m: $out"; return 1; }
	done
	out=$(stat -c '%a %U' /tmp/snap-private-tmp /tmp/snap-private-tmp/snap.demo /tmp/snap-private-tmp/snap.demo/tmp | tr '\n' ' ')
	must [ "$out" = "700 root 700 root 1777 root " ] || { echo "$out"; return 1; }
	rm -rf /home/nobody/snap
}
row 32 "made directories have the manifest's modes and owners whatever the umask" r32

r33_at() {
	local out
	rm -rf /home/nobody/snap
	nobody ln -s /etc /home/nobody/snap
	out=$(nobody sh -c "SNAP_USER_DATA=/home/nobody/snap/demo/x1 $L snap.demo.tool /bin/true" 2>&1; echo "status=$?")
	must [ ! -e /etc/demo ] || { rm -rf /etc/demo; echo "made /etc/demo"; return 1; }
	rm -f /home/nobody/snap
	nobody mkdir -p /home/nobody/snap/demo && nobody ln -s /root/x /home/nobody/snap/demo/x1
	out=$(nobody sh -c "SNAP_USER_DATA=/home/nobody/snap/demo/x1 $L snap.demo.tool /bin/true" 2>&1; echo "status=$?")
	must [ ! -e /root/x ] || { rm -rf /root/x; echo "made /root/x"; return 1; }
	rm -rf /home/nobody/snap
	echo "nothing made outside"
}
r33() { both_links r33_at; }
row 33 "a hostile home never makes the launcher write outside the user's rights (protected_* 0 and 1)" r33

r34() {
	local out tries=0 hits=0
	mkdir -p /var/tmp/bases/abs/upper/srv/var/snap /var/tmp/bases/abs/upper/srv/var/lib/snapd/hostfs /var/tmp/bases/abs/upper/srv/var/tmp /var/tmp/bases/abs/upper/srv/var/log /var/tmp/bases/abs/upper/srv/var/lib/extrausers /var/tmp/bases/abs/work /snap/abs/1
	ln -s /srv/var /var/tmp/bases/abs/upper/var
	mount -t overlay -o lowerdir=/,upperdir=/var/tmp/bases/abs/upper,workdir=/var/tmp/bases/abs/work abs-1 /snap/abs/1 && ln -sfn 1 /snap/abs/current
	mkdir -p /srv/var/snap && mount -t tmpfs host-srv /srv
	fresh
	local before after
	before=$(cut -d' ' -f5 /proc/self/mountinfo | sort)
	tries=1
	out=$(in_scope snap.demo.tool as_nobody $L --base abs snap.demo.tool /bin/sh -c 'readlink /var; ls /var/snap >/dev/null && echo seen' 2>&1)
	fresh
	after=$(cut -d' ' -f5 /proc/self/mountinfo | sort)
	[ "$(grep -c . /proc/self/mountinfo)" -gt 0 ] && [ -z "$(grep ' /srv/var' /proc/self/mountinfo)" ] && hits=1
	umount /srv; umount /snap/abs/1; rm -rf /snap/abs
	must [ $hits = $tries ] || { echo "a mount landed on the host's /srv/var"; return 1; }
	# A launch refused half-way unmounts nothing of the host's either (the
	# host's /dev/pts, below the /dev it had bound). Mounts may be added
	# meanwhile (/sys/fs/bpf by a device cgroup on v2): above, none at /srv/var.
	local gone
	gone=$(comm -23 <(echo "$before") <(echo "$after"))
	must [ -z "$gone" ] || { echo "the host lost mounts:" $gone; return 1; }
	# Either the mounts land inside the base (its /srv/var), or the
	# launcher's AppArmor profile, which names the targets it may mount
	# on, refuses them: both are safe.
	case "$out" in
	$'/srv/var\nseen') echo "an absolute /var symlink in the base: mounted inside it; a racing swap is not exercised" ;;
	*"cannot perform operation: mount --rbind /var/snap "*"Permission denied") echo "an absolute /var symlink in the base: refused by the launcher's profile; a racing swap is not exercised" ;;
	*) echo "$out"; return 1 ;;
	esac
}
row 34 "mount targets resolve inside the new root, never on a host path" r34

r35() {
	local out
	out=$(stat -c '%a %U' /run/snapd/lock/demo.lock; nobody sh -c 'exec 3</run/snapd/lock/demo.lock' 2>/dev/null && echo opened || echo refused)
	must [ "$out" = $'600 root\nrefused' ] || { echo "$out"; return 1; }
}
row 35 "lock files are root's 0600 and cannot be opened by the user" r35

r36() {
	local d out start
	d=$'/var/tmp/mnt with space\nnewline\\back\\134slash'
	mkdir -p "$d" && mount -t tmpfs polluted "$d"
	mkdir -p /var/tmp/many && for i in $(seq 300); do mkdir -p /var/tmp/many/$i && mount -t tmpfs m$i /var/tmp/many/$i; done
	fresh
	start=$SECONDS
	out=$(nobody $L snap.demo.tool /bin/cat /usr/share/confine/base-marker 2>&1)
	for i in $(seq 300); do umount /var/tmp/many/$i; done
	umount "$d"
	must [ "$out" = core/1 ] || { echo "$out"; return 1; }
	echo "a mount with escapes and 300 more: cold launch in $((SECONDS - start)) s"
}
row 36 "a polluted mount table is parsed and the launch works" r36

r37() {
	local out
	out=$(nobody $L snap.demo.tool /usr/bin/env SNAP_INSTANCE_NAME=other $L --classic snap.other.app /bin/echo nested-ran 2>&1; echo "status=$?")
	must grep -qx status=1 <<<"$out" && ! grep -q nested-ran <<<"$out" || { echo "$out"; return 1; }
}
row 37 "the launcher run again from inside the sandbox is refused" r37

r38_at() {
	local out
	fresh
	nobody $L snap.demo.tool /bin/sh -c 'umask 077; echo secret > /tmp/a-file; ln -s /etc/shadow /tmp/a-link' 2>&1
	out=$(setpriv --reuid=1001 --regid=1001 --clear-groups -- env -i PATH=/usr/bin:/bin SNAP_INSTANCE_NAME=demo SNAP_CONFINE_MAX_PROFILE_WAIT=1 \
		$L snap.demo.tool /bin/sh -c 'cat /tmp/a-file 2>/dev/null || echo unreadable; cat /tmp/a-link 2>/dev/null || echo link-unreadable; id -u' 2>&1)
	must [ "$out" = $'unreadable\nlink-unreadable\n1001' ] || { echo "$out"; return 1; }
	fresh
	echo "the first user's file and link unreadable to the second"
}
r38() { both_links r38_at; }
row 38 "a second user of the snap cannot read the first's files or be redirected (protected_* 0 and 1)" r38

echo "# $T_SUITE: $T_SKIP skipped"
summary

//! Strict confinement through the installed setuid launcher, started by
//! `nobody`: the snap's mount namespace built from its base, preserved and
//! shared by later commands, the per-snap /tmp, the snap's own devpts,
//! staleness, locking under load, and launches killed half-way.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;
use support::Scene;

/// A strict scene with base core revision 1 and policies for two apps of
/// `demo` and one app of `other`.
fn scene() -> Scene {
    Scene::new()
        .strict()
        .base("core", 1)
        .policy("snap.demo.app", "probe.src")
        .policy("snap.demo.tool", "unrestricted.src")
        .policy("snap.demo.sh", "unrestricted.src")
        .policy("snap.other.app", "unrestricted.src")
}

/// A shell function that waits until the command started last in the
/// background (`$!`) has printed its line and become `sleep 600`, not for
/// a fixed time: a busy machine may take longer.
const RUNNING: &str = "running() { for i in $(seq 1000); do \
     [ \"$(tr '\\0' ' ' </proc/$!/cmdline 2>/dev/null)\" = 'sleep 600 ' ] && return; sleep 0.01; done; echo 'not running' >&2; }; ";

/// Runs `$L` for another instance: `SNAP_INSTANCE_NAME` is set per call.
const OTHER: &str = "SNAP_INSTANCE_NAME=other";

#[test]
fn the_app_sees_the_base_and_runs_confined() {
    let r = scene().run(
        "$L snap.demo.app $P report; $L snap.demo.tool /bin/cat /usr/share/confine/base-marker; \
         cat /usr/share/confine/base-marker 2>&1 || echo host-has-no-marker",
    );
    r.ok();
    assert_eq!(r.get("uid"), "65534,65534,65534");
    assert_eq!(r.get("capeff"), "0000000000000000");
    assert_eq!(r.get("seccomp_filters"), "2");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines.contains(&"core/1"), "the app sees the base's /usr:\n{r:#?}");
    assert!(lines.contains(&"host-has-no-marker"), "the host's /usr has no marker:\n{r:#?}");
}

#[test]
fn devpts_is_a_new_instance_with_the_expected_options() {
    let r = scene().run(
        "$L snap.demo.tool /bin/sh -c 'grep -E \" /dev/(pts|ptmx) \" /proc/self/mountinfo; ls /dev/pts; \
         stat -c \"%t:%T\" /dev/ptmx /dev/pts/ptmx'",
    );
    r.ok();
    // The last mount on /dev/pts is the one the app sees.
    let pts = r.stdout.lines().rfind(|l| l.contains(" /dev/pts ") && l.contains("devpts")).unwrap();
    for opt in ["gid=5", "mode=620", "ptmxmode=666"] {
        assert!(pts.ends_with(opt) || pts.contains(&format!("{opt},")), "{opt} missing: {pts}");
    }
    let ptmx = r.stdout.lines().find(|l| l.contains(" /dev/ptmx ")).unwrap();
    assert!(ptmx.contains(" /ptmx /dev/ptmx "), "/dev/ptmx is the instance's ptmx: {ptmx}");
    // Only the new instance's ptmx: no host terminal is reachable by name.
    let listing: Vec<&str> = r.stdout.lines().filter(|l| !l.contains(' ') && !l.contains(':')).collect();
    assert_eq!(listing, ["ptmx"], "{r:#?}");
}

/// The devpts instance is the snap namespace's, shared by its commands; a
/// namespace that shows the host's (preserved before the launcher mounted
/// one there: made here by unmounting it) gives each command its own.
#[test]
fn commands_share_the_snaps_devpts_and_never_see_the_hosts() {
    let list = "$L snap.demo.tool /bin/sh -c 'stat -c %d /dev/pts; ls /dev/pts | tr \"\\n\" \" \"; echo'";
    let r = scene().run_by_root().run(&format!(
        "export SNAP_INSTANCE_NAME=demo; {list}; {list}; \
         nsenter --mount=/run/snapd/ns/demo.mnt umount /dev/ptmx /dev/pts && stat -c %d /dev/pts && {list}; \
         nsenter --mount=/run/snapd/ns/demo.mnt stat -c %d /dev/pts"
    ));
    r.ok();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 8, "{r:#?}");
    // Two commands: the same instance, with nothing but its ptmx.
    assert_eq!((lines[0], lines[1].trim()), (lines[2], "ptmx"), "{r:#?}");
    assert_eq!(lines[3].trim(), "ptmx", "{r:#?}");
    // Without it, the snap's namespace shows the host's; the command still
    // gets an instance of its own, not the host's, and the snap's namespace
    // is left as it was.
    let host = lines[4];
    assert_ne!(lines[0], host, "{r:#?}");
    assert_ne!(lines[5], host, "{r:#?}");
    assert_eq!(lines[6].trim(), "ptmx", "{r:#?}");
    assert_eq!(lines[7], host, "{r:#?}");
}

#[test]
fn apps_of_one_snap_share_tmp_and_the_namespace_other_snaps_do_not() {
    let r = scene().run(&format!(
        "$L snap.demo.sh /bin/sh -c 'echo shared > /tmp/note'; \
         $L snap.demo.tool /bin/cat /tmp/note; \
         {OTHER} $L snap.other.app /bin/sh -c 'cat /tmp/note 2>/dev/null || echo other-cannot-see-it'; \
         ls /tmp/snap-private-tmp/snap.demo/tmp 2>/dev/null || echo host-lists-no-private-tmp"
    ));
    r.ok();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], "shared", "{r:#?}");
    assert_eq!(lines[1], "other-cannot-see-it", "{r:#?}");
    // As nobody the host's private tmp base (root 0700) cannot even be listed.
    assert_eq!(lines[2], "host-lists-no-private-tmp", "{r:#?}");
}

#[test]
fn later_commands_join_the_preserved_namespace() {
    // A mount made in the preserved namespace is seen by every later command
    // of that snap (proof by marker, not by namespace id), not by another snap.
    let r = scene()
        .run_by_root()
        .run(&format!(
            "export SNAP_INSTANCE_NAME=demo; \
             $L snap.demo.tool /bin/true && {OTHER} $L snap.other.app /bin/true && \
             stat -f -c %T /run/snapd/ns/demo.mnt && cat /run/snapd/ns/snap.demo.info /run/snapd/ns/snap.demo.fstab && \
             nsenter --mount=/run/snapd/ns/demo.mnt mount -t tmpfs marker-of-demo /mnt && \
             $L snap.demo.app $P report >/dev/null && \
             $L snap.demo.tool /bin/grep -c marker-of-demo /proc/self/mountinfo; \
             {OTHER} $L snap.other.app /bin/grep -c marker-of-demo /proc/self/mountinfo; true"
        ));
    r.ok();
    // The current mount profile is empty: the root is the base itself.
    assert_eq!(r.stdout, "nsfs\nbase-snap-name=core\n1\n0\n", "{r:#?}");
}

#[test]
fn a_refreshed_base_is_noticed_unless_the_snap_is_running() {
    let r = scene().base("core", 2).run_by_root().run(&format!(
        "{RUNNING}export SNAP_INSTANCE_NAME=demo; ln -sfn 1 /snap/core/current; \
         $L snap.demo.tool /bin/cat /usr/share/confine/base-marker; \
         ln -sfn 2 /snap/core/current; \
         $L snap.demo.tool /bin/sh -c 'cat /usr/share/confine/base-marker; exec sleep 600' & running; \
         ln -sfn 3 /snap/core/current 2>/dev/null; ln -sfn 2 /snap/core/current; \
         $L snap.demo.tool /bin/cat /usr/share/confine/base-marker; kill $!; wait"
    ));
    r.ok();
    // 1: built from revision 1. 2: revision 2 is current and nothing of the
    // snap runs: rebuilt. 3: the namespace is fresh (revision 2): joined.
    assert_eq!(r.stdout, "core/1\ncore/2\ncore/2\n", "{r:#?}");
    let r = scene().base("core", 2).run_by_root().run(&format!(
        "{RUNNING}export SNAP_INSTANCE_NAME=demo; ln -sfn 1 /snap/core/current; \
         $L snap.demo.tool /bin/sh -c 'cat /usr/share/confine/base-marker; exec sleep 600' & running; \
         ln -sfn 2 /snap/core/current; \
         $L snap.demo.tool /bin/cat /usr/share/confine/base-marker; kill $!; wait"
    ));
    r.ok();
    // The stale namespace is still in use by the sleeping command: joined.
    assert_eq!(r.stdout, "core/1\ncore/1\n", "{r:#?}");
}

#[test]
fn a_changed_base_name_always_discards_the_namespace() {
    let r = scene().base("core18", 7).run_by_root().run(&format!(
        "{RUNNING}export SNAP_INSTANCE_NAME=demo; \
         $L snap.demo.tool /bin/sh -c 'cat /usr/share/confine/base-marker; exec sleep 600' & running; \
         $L --base core18 snap.demo.tool /bin/cat /usr/share/confine/base-marker; cat /run/snapd/ns/snap.demo.info; kill $!; wait"
    ));
    r.ok();
    assert_eq!(r.stdout, "core/1\ncore18/7\nbase-snap-name=core18\n", "{r:#?}");
}

#[test]
fn the_discard_tool_removes_the_namespace() {
    let r = scene().run_by_root().run(
        "export SNAP_INSTANCE_NAME=demo; $L snap.demo.tool /bin/true; ls /run/snapd/ns; \
         /usr/lib/confine/snap-discard-ns demo && echo discarded; ls /run/snapd/ns; \
         /usr/lib/confine/snap-discard-ns 'bad/name' 2>&1; \
         $L snap.demo.tool /bin/true && ls /run/snapd/ns",
    );
    r.ok();
    assert_eq!(
        r.stdout,
        "demo.mnt\nsnap.demo.fstab\nsnap.demo.info\ndiscarded\ncannot use snap instance name \"bad/name\": snap name must use lower case letters, digits or dashes\ndemo.mnt\nsnap.demo.fstab\nsnap.demo.info\n",
        "{r:#?}"
    );
}

#[test]
fn fifty_concurrent_cold_launches_all_succeed_and_share_one_namespace() {
    let r = scene().run(
        "for i in $(seq 50); do ($L snap.demo.tool /bin/sh -c 'echo x >> /tmp/count' && echo ok || echo FAILED) & done; wait; \
         $L snap.demo.tool /bin/wc -l /tmp/count; ls /run/snapd/ns",
    );
    r.ok();
    assert_eq!(r.stdout.lines().filter(|l| *l == "ok").count(), 50, "{r:#?}");
    assert!(r.stdout.contains("50 /tmp/count\n"), "all fifty wrote to the same /tmp:\n{r:#?}");
    assert!(r.stdout.ends_with("demo.mnt\nsnap.demo.fstab\nsnap.demo.info\n"), "exactly one preserved namespace:\n{r:#?}");
    assert!(r.stderr.is_empty(), "{r:#?}");
}

#[test]
fn launches_killed_at_random_points_leave_nothing_that_is_reused_wrongly() {
    // 200 launches killed after a random delay of 0 to 7 ms, half of them
    // cold (the namespace discarded first, so the kill often lands while it
    // is being built), each followed by a clean launch that must work and
    // see a proper sandbox: the base's /usr and the snap's private /tmp.
    let r = scene().run_by_root().run(
        "export SNAP_INSTANCE_NAME=demo; as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- \"$@\"; }; \
         want=$(printf 'core/1\\n/snap-private-tmp/snap.demo/tmp'); killed=0 completed=0 bad=0; \
         for i in $(seq 200); do \
           [ $((i % 2)) = 0 ] && /usr/lib/confine/snap-discard-ns demo; \
           as_nobody $L snap.demo.tool /bin/true & pid=$!; \
           sleep 0.00$(( RANDOM % 8 )); \
           kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null; \
           if [ $? = 137 ]; then killed=$((killed + 1)); else completed=$((completed + 1)); fi; \
           out=$(as_nobody $L snap.demo.tool /bin/sh -c \"cat /usr/share/confine/base-marker; awk '\\$5 == \\\"/tmp\\\" {r = \\$4} END {print r}' /proc/self/mountinfo\" 2>&1); \
           [ \"$out\" = \"$want\" ] || { bad=$((bad + 1)); echo \"bad: $out\"; }; \
         done; echo killed=$killed completed=$completed bad=$bad; ls /run/snapd/ns",
    );
    r.ok();
    let summary = r.stdout.lines().find(|l| l.starts_with("killed=")).unwrap();
    eprintln!("{summary}");
    assert!(summary.ends_with(" bad=0"), "{r:#?}");
    let killed: u32 = summary.split(' ').next().unwrap().trim_start_matches("killed=").parse().unwrap();
    assert!(killed >= 50, "too few launches were killed ({killed}); the test does not test much:\n{r:#?}");
    assert!(r.stdout.ends_with("demo.mnt\nsnap.demo.fstab\nsnap.demo.info\n"), "{r:#?}");
}

#[test]
fn a_launch_killed_while_it_builds_leaves_no_scratch_root_in_the_callers_namespace() {
    // The caller's mounts are shared, as under systemd. Each launch is cold
    // and killed after 0 to 3 ms, often while it builds the root file
    // system in its scratch directory: bound where it propagated to the
    // caller's namespace, one kill in ten left it mounted there for good
    // (before the private tmp base became a private mount point of its own).
    let r = scene().run_by_root().run(
        "mount --make-rshared /; export SNAP_INSTANCE_NAME=demo; killed=0; \
         for i in $(seq 200); do \
           /usr/lib/confine/snap-discard-ns demo; \
           $L snap.demo.tool /bin/true & pid=$!; \
           sleep 0.00$(( RANDOM % 4 )); \
           kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null; \
           [ $? = 137 ] && killed=$((killed + 1)); \
         done; echo killed=$killed; \
         echo \"scratch roots mounted here: $(grep -c snap.rootfs_ /proc/self/mountinfo)\"; \
         $L snap.demo.tool /bin/cat /usr/share/confine/base-marker",
    );
    r.ok();
    let killed: u32 = r.stdout.lines().find_map(|l| l.strip_prefix("killed=")).unwrap().parse().unwrap();
    assert!(killed >= 50, "too few launches were killed ({killed}); the test does not test much:\n{r:#?}");
    assert!(r.stdout.contains("\nscratch roots mounted here: 0\n"), "{r:#?}");
    assert!(r.stdout.ends_with("core/1\n"), "{r:#?}");
}

#[test]
fn the_private_tmp_base_is_never_trusted_when_wrong() {
    let cases = [
        ("chmod 0755 /tmp/snap-private-tmp", "use /tmp/snap-private-tmp: it has unexpected ownership or permissions"),
        ("chown 65534 /tmp/snap-private-tmp", "use /tmp/snap-private-tmp: it has unexpected ownership or permissions"),
        ("rmdir /tmp/snap-private-tmp && ln -s /etc /tmp/snap-private-tmp", "open /tmp/snap-private-tmp: Not a directory"),
        ("rmdir /tmp/snap-private-tmp", "open /tmp/snap-private-tmp: No such file or directory"),
        ("install -d -m 0700 -o 65534 /tmp/snap-private-tmp/snap.demo", "snap.demo: it has unexpected ownership or permissions"),
        ("install -d -m 0777 /tmp/snap-private-tmp/snap.demo", "snap.demo: it has unexpected ownership or permissions"),
        ("ln -s /root /tmp/snap-private-tmp/snap.demo", "open /tmp/snap-private-tmp/snap.demo: Not a directory"),
        ("mkfifo /tmp/snap-private-tmp/snap.demo", "open /tmp/snap-private-tmp/snap.demo: Not a directory"),
        (
            "install -d -m 0700 /tmp/snap-private-tmp/snap.demo && install -d -m 0777 /tmp/snap-private-tmp/snap.demo/tmp",
            "snap.demo/tmp: it has unexpected ownership or permissions",
        ),
    ];
    for (setup, msg) in cases {
        let r = scene().root(setup).run("$L snap.demo.tool /bin/echo ran; ls /run/snapd/ns 2>/dev/null | wc -l");
        assert!(r.stderr.contains(msg), "{setup}: expected {msg:?}:\n{r:#?}");
        assert!(!r.stdout.contains("ran"), "{setup}: the app ran:\n{r:#?}");
        assert_eq!(r.stdout.trim(), "0", "{setup}: a namespace was preserved:\n{r:#?}");
    }
}

#[test]
fn the_working_directory_is_found_again_inside_or_becomes_the_void() {
    let r = scene().run(
        "cd /usr/share && $L snap.demo.tool /bin/pwd; \
         cd /var/tmp && $L snap.demo.tool /bin/pwd; \
         d=$(mktemp -d /tmp/cwd.XXXXXX) && cd $d && $L snap.demo.tool /bin/pwd",
    );
    r.ok();
    // /usr/share is the base's; /var/tmp is the host's; a directory in the
    // host's /tmp does not exist in the snap's private /tmp.
    assert_eq!(r.stdout, "/usr/share\n/var/tmp\n/var/lib/snapd/void\n", "{r:#?}");
}

#[test]
fn the_launcher_cannot_be_used_again_from_inside() {
    let r = scene().run("$L snap.demo.tool /usr/lib/snapd/snap-confine --classic snap.demo.tool /bin/true; echo status=$?");
    assert_eq!(r.get("status"), "1", "{r:#?}");
    // Inside, the launcher is under /usr/lib/snapd, mounted nosuid: it has no
    // privilege, and it is not where the setuid launcher lives.
    assert!(r.stderr.contains("cannot run from unexpected location /usr/lib/snapd/snap-confine"), "{r:#?}");
}

#[test]
fn pid1_that_cannot_be_inspected_stops_a_strict_launch() {
    // Outside a PID namespace of its own, whether PID 1 can be inspected
    // depends on the machine: where it cannot (this sandbox), the launch
    // stops with a clear message; where it can, it works.
    let readable = std::fs::read_link("/proc/1/ns/mnt").is_ok();
    let mut s = Scene::new().policy("snap.demo.tool", "unrestricted.src");
    s = s.root("mount -t tmpfs -o mode=1777 scene-tmp /tmp && install -d -m 0700 /tmp/snap-private-tmp");
    let r = s.run("$L snap.demo.tool /bin/echo ran");
    if readable {
        assert!(r.stderr.contains("cannot locate base snap core") || r.stdout == "ran\n", "{r:#?}");
    } else {
        r.failed_with("cannot read mount namespace identifier of pid 1: ");
        assert!(r.stderr.contains("unshare -p -f -m --mount-proc"), "{r:#?}");
    }
}

//! The device cgroup of strict launches, through the installed setuid
//! launcher started by `nobody`, on this host's cgroup v1 `devices`
//! hierarchy: an assigned device opens, another does not (EPERM), the
//! default set works, a legacy base without assignment gets no device
//! cgroup, a required base always does, an assignment taken away is gone at
//! the next launch, hotplug through snap-device-helper, mknod, the app
//! cannot change its cgroup, and the host's cgroups are left as found.
//!
//! Device nodes are made by the test in its scene directory (under
//! /var/tmp, which the snap sees) with mode 0666, so that only the device
//! cgroup can refuse them: `kmsg` (c 1:11, opened for writing, which needs
//! no privilege) and `loop0` (b 7:0).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;
use std::os::unix::fs::PermissionsExt;
use support::{libexec, unassign_line, Run, Scene};

/// Opens each `r:PATH` (read) or `w:PATH` (write) argument and prints
/// `PATH=ok` or `PATH=<error>`.
const OPEN_SH: &str = r#"for a in "$@"; do
  m=${a%%:*} p=${a#*:}
  if [ "$m" = w ]; then o=$( (exec 3>"$p") 2>&1 ); else o=$( (exec 3<"$p") 2>&1 ); fi && echo "$p=ok" || echo "$p=${o##*: }"
done
"#;

/// A strict scene with bases core (legacy) and core24, policies for two
/// apps of demo, test device nodes and the open script. Returns the scene
/// directory as seen inside the snap too.
fn scene() -> (Scene, String) {
    let s = Scene::new()
        .strict()
        .base("core", 1)
        .base("core24", 1)
        .policy("snap.demo.sh", "unrestricted.src")
        .policy("snap.demo.tool", "unrestricted.src")
        .udev();
    let d = s.dir.path().to_str().unwrap().to_string();
    let script = s.dir.path().join("open.sh");
    std::fs::write(&script, OPEN_SH).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let s = s.root(&format!("mknod -m 0666 {d}/kmsg c 1 11 && mknod -m 0666 {d}/loop0 b 7 0 && install -d -m 0777 {d}/sync"));
    (s, d)
}

/// The command that opens `what` inside app `app` (`--base` options first).
fn open_in(app: &str, d: &str, what: &str) -> String {
    format!("$L {app} /bin/bash {d}/open.sh {what}")
}

fn lines(r: &Run) -> Vec<&str> {
    r.stdout.lines().collect()
}

const DEFAULTS: &str = "r:/dev/null r:/dev/zero r:/dev/full r:/dev/random r:/dev/urandom w:/dev/ptmx";
const DEFAULTS_OK: [&str; 6] =
    ["/dev/null=ok", "/dev/zero=ok", "/dev/full=ok", "/dev/random=ok", "/dev/urandom=ok", "/dev/ptmx=ok"];

#[test]
fn an_assigned_device_opens_and_another_does_not() {
    let (s, d) = scene();
    let r = s.assign("snap.demo.sh", "c1:11").run(&format!(
        "{}; {}; echo tool; {}",
        open_in("snap.demo.sh", &d, &format!("w:{d}/kmsg r:{d}/loop0 {DEFAULTS} r:/dev/tty")),
        "$L snap.demo.sh /bin/grep -o 'devices:.*' /proc/self/cgroup; $L snap.demo.sh /bin/grep -o 'freezer:.*' /proc/self/cgroup",
        open_in("snap.demo.tool", &d, &format!("w:{d}/kmsg r:{d}/loop0"))
    ));
    r.ok();
    let want: Vec<String> = [format!("{d}/kmsg=ok"), format!("{d}/loop0=Operation not permitted")]
        .into_iter()
        .chain(DEFAULTS_OK.map(String::from))
        // No controlling terminal, but not refused by the device cgroup.
        .chain(["/dev/tty=No such device or address".to_string()])
        .chain([
            "devices:/snap.demo.sh".to_string(),
            // The launcher's thread moved itself; the app is in the snap's
            // freezer cgroup too.
            "freezer:/snap.demo".to_string(),
            "tool".to_string(),
            // Nothing is assigned to tool and its base is core: no device cgroup.
            format!("{d}/kmsg=ok"),
            format!("{d}/loop0=ok"),
        ])
        .collect();
    assert_eq!(lines(&r), want, "{r:#?}");
}

#[test]
fn a_required_base_confines_without_any_assignment() {
    let (s, d) = scene();
    let r = s.run(&format!(
        "{}; cat /sys/fs/cgroup/devices/snap.demo.sh/devices.list 2>&1; true",
        open_in("--base core24 snap.demo.sh", &d, &format!("w:{d}/kmsg r:{d}/loop0 {DEFAULTS}"))
    ));
    r.ok();
    let got = lines(&r);
    assert_eq!(got[0], format!("{d}/kmsg=Operation not permitted"), "{r:#?}");
    assert_eq!(got[1], format!("{d}/loop0=Operation not permitted"), "{r:#?}");
    assert_eq!(got[2..8], DEFAULTS_OK, "{r:#?}");
    // As nobody the group cannot even be looked into (root's, 0700).
    assert!(got[8].ends_with("Permission denied"), "{r:#?}");
}

#[test]
fn the_device_list_is_the_default_set_and_the_assigned_devices() {
    let (s, d) = scene();
    let r = s.assign("snap.demo.sh", "b7:0").run_by_root().run(&format!(
        "export SNAP_INSTANCE_NAME=demo; {} >/dev/null; stat -c '%a %U:%G' /sys/fs/cgroup/devices/snap.demo.sh; \
         sort /sys/fs/cgroup/devices/snap.demo.sh/devices.list",
        open_in("snap.demo.sh", &d, "r:/dev/null")
    ));
    r.ok();
    let mut want = vec!["700 root:root".to_string()];
    let mut list: Vec<String> = ["c 1:3", "c 1:5", "c 1:7", "c 1:8", "c 1:9", "c 5:0", "c 5:1", "c 5:2"]
        .iter()
        .map(|x| format!("{x} rwm"))
        .chain((136..=143).map(|m| format!("c {m}:* rwm")))
        .chain(["b 7:0 rwm".to_string()])
        .collect();
    // Optional nodes of this host that exist (/dev/net/tun here).
    if let Ok(m) = std::fs::metadata("/dev/net/tun") {
        use std::os::unix::fs::MetadataExt;
        let rdev = m.rdev();
        list.push(format!("c {}:{} rwm", nix::sys::stat::major(rdev), nix::sys::stat::minor(rdev)));
    }
    list.sort();
    want.extend(list);
    assert_eq!(lines(&r), want, "{r:#?}");
}

#[test]
fn an_assignment_taken_away_is_gone_at_the_next_launch() {
    let (s, d) = scene();
    let nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups --";
    let r = s.assign("snap.demo.sh", "c1:11").assign("snap.demo.sh", "b7:0").run_by_root().run(&format!(
        "export SNAP_INSTANCE_NAME=demo; {nobody} {}; {}; {nobody} {}; rm /run/udev/tags/snap_demo_sh/b7:0; {nobody} {}",
        open_in("snap.demo.sh", &d, &format!("w:{d}/kmsg r:{d}/loop0")),
        unassign_line("snap.demo.sh", "c1:11"),
        open_in("snap.demo.sh", &d, &format!("w:{d}/kmsg r:{d}/loop0")),
        open_in("snap.demo.sh", &d, &format!("w:{d}/kmsg r:{d}/loop0")),
    ));
    r.ok();
    let k = format!("{d}/kmsg");
    let l = format!("{d}/loop0");
    assert_eq!(
        lines(&r),
        [
            format!("{k}=ok"),
            format!("{l}=ok"),
            // kmsg lost its current tag (the rule is gone): denied.
            format!("{k}=Operation not permitted"),
            format!("{l}=ok"),
            // loop0 is no longer tagged either: nothing assigned on a legacy
            // base, so no device cgroup for this launch; the old group is
            // not used.
            format!("{k}=ok"),
            format!("{l}=ok"),
        ],
        "{r:#?}"
    );
}

#[test]
fn hotplug_through_snap_device_helper_reaches_a_running_app() {
    let (s, d) = scene();
    let h = libexec().join("snap-device-helper");
    let h = h.to_str().unwrap();
    let nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups --";
    // The app checks kmsg, waits for the helper to run, checks again.
    let wait = "w() { for i in $(seq 400); do [ -e \"$1\" ] && return 0; sleep 0.05; done; return 1; }";
    let app = format!(
        "{wait}; bash {d}/open.sh w:{d}/kmsg; touch {d}/sync/ready; w {d}/sync/go && bash {d}/open.sh w:{d}/kmsg; \
         touch {d}/sync/ready2; w {d}/sync/go2 && bash {d}/open.sh w:{d}/kmsg"
    );
    let r = s.run_by_root().run(&format!(
        "export SNAP_INSTANCE_NAME=demo; {wait}; {nobody} $L --base core24 snap.demo.sh /bin/bash -c '{app}' & \
         w {d}/sync/ready; \
         env -i ACTION=add MAJOR=1 MINOR=11 SUBSYSTEM=mem {h} add snap_demo_sh /devices/virtual/mem/kmsg 1:11 && touch {d}/sync/go; \
         w {d}/sync/ready2; \
         env -i ACTION=remove MAJOR=1 MINOR=11 SUBSYSTEM=mem {h} snap_demo_sh && touch {d}/sync/go2; wait; \
         env -i ACTION=add MAJOR=1 MINOR=11 {h} snap_demo_other && echo no-group-is-fine; \
         env -i ACTION=add MAJOR=1 MINOR=11 {h} not_a_tag; echo status=$?"
    ));
    let k = format!("{d}/kmsg");
    assert_eq!(
        lines(&r),
        [
            format!("{k}=Operation not permitted"),
            format!("{k}=ok"),
            format!("{k}=Operation not permitted"),
            "no-group-is-fine".to_string(),
            "status=1".to_string(),
        ],
        "{r:#?}"
    );
    assert!(r.stderr.contains("cannot use udev tag \"not_a_tag\": it does not start with snap_"), "{r:#?}");
}

#[test]
fn mknod_inside_is_refused_by_the_device_cgroup() {
    let (s, _d) = scene();
    // As root inside (full capabilities after exec): the device cgroup alone
    // decides (Landlock, which would refuse any mknod, is off in devmode).
    let s = s.landlock("snap.demo.sh", Some("landlock-policy 1\nmode devmode\n"));
    let r = s.run_by_root().run(
        "export SNAP_INSTANCE_NAME=demo; $L --base core24 snap.demo.sh /bin/sh -c \
         'mknod /tmp/kmsg c 1 11 2>&1 || true; mknod /tmp/loop b 7 0 2>&1 || true; mknod /tmp/null c 1 3 && echo null-made; \
          setpriv --reuid=65534 -- mknod /tmp/n2 c 1 3 2>&1 || true'",
    );
    r.ok();
    let got = lines(&r);
    assert!(got[0].ends_with("Operation not permitted"), "{r:#?}");
    assert!(got[1].ends_with("Operation not permitted"), "{r:#?}");
    assert_eq!(got[2], "null-made", "{r:#?}");
    // And as nobody nothing can be made at all.
    assert!(got[3].ends_with("Operation not permitted"), "{r:#?}");
}

#[test]
fn the_app_cannot_change_its_device_cgroup() {
    let (s, d) = scene();
    let g = "/sys/fs/cgroup/devices/snap.demo.sh";
    let r = s.assign("snap.demo.sh", "b7:0").run(&format!(
        "$L snap.demo.sh /bin/bash -c 'for f in {g}/devices.allow {g}/devices.deny {g}/cgroup.procs \
         /sys/fs/cgroup/devices/cgroup.procs /sys/fs/cgroup/devices/devices.allow; do \
         (echo $$ > $f) 2>/dev/null && echo \"$f=written\" || echo \"$f=refused\"; done; \
         (echo \"c 1:11 rwm\" > {g}/devices.allow) 2>/dev/null || true; \
         mkdir /sys/fs/cgroup/devices/snap.demo.sh/x 2>/dev/null && echo made-a-child; \
         grep -o \"devices:.*\" /proc/self/cgroup; bash {d}/open.sh w:{d}/kmsg'"
    ));
    r.ok();
    let mut want: Vec<String> = ["devices.allow", "devices.deny", "cgroup.procs"].iter().map(|f| format!("{g}/{f}=refused")).collect();
    want.push("/sys/fs/cgroup/devices/cgroup.procs=refused".into());
    want.push("/sys/fs/cgroup/devices/devices.allow=refused".into());
    want.push("devices:/snap.demo.sh".into());
    want.push(format!("{d}/kmsg=Operation not permitted"));
    assert_eq!(lines(&r), want, "{r:#?}");
}

#[test]
fn the_checkpoint_decides_and_is_required() {
    let (s, d) = scene();
    let r = s.without_device_checkpoint("demo").run(&format!("{}; echo status=$?", open_in("--base core24 snap.demo.sh", &d, "r:/dev/null")));
    assert!(
        r.stderr.contains(
            "cannot set up the device cgroup of snap.demo.sh: open /var/lib/snapd/cgroup/snap.demo.device: it does not exist (waited 1 s)"
        ),
        "{r:#?}"
    );
    assert_eq!(lines(&r), ["status=1"], "nothing ran:\n{r:#?}");
    for flag in ["self-managed=true", "non-strict=true"] {
        let (s, d) = scene();
        let r = s.device_checkpoint("demo", &format!("# This file is automatically generated.\n{flag}\n")).run(&format!(
            "{}; $L --base core24 snap.demo.sh /bin/grep -o 'devices:.*' /proc/self/cgroup",
            open_in("--base core24 snap.demo.sh", &d, &format!("w:{d}/kmsg"))
        ));
        r.ok();
        assert_eq!(lines(&r), [format!("{d}/kmsg=ok"), "devices:/".to_string()], "{flag}: {r:#?}");
    }
}

#[test]
fn the_host_cgroups_are_left_as_found() {
    let (s, d) = scene();
    let s = s.policy("snap.demo.leftover", "unrestricted.src");
    let group = std::path::Path::new("/sys/fs/cgroup/devices/snap.demo.leftover");
    assert!(!group.exists());
    let r = s.run(&format!("{}; ls -d {}", open_in("--base core24 snap.demo.leftover", &d, "r:/dev/null"), group.display()));
    r.ok();
    assert_eq!(lines(&r), ["/dev/null=ok", "/sys/fs/cgroup/devices/snap.demo.leftover"], "{r:#?}");
    assert!(!group.exists(), "the scene's device cgroup is gone");
}

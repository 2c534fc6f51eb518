//! Launches on a host where snapd wrote the mount profiles and installed
//! snap-update-ns next to the launcher.

use super::*;

/// A strict host where snapd wrote mount profiles and snap-update-ns is
/// installed next to the launcher.
fn snapd_system() -> FakeSys {
    let sys = strict_system();
    sys.file(&format!("{}/snap-update-ns", config::LIBEXECDIR), b"\x7fELF", 0o755);
    sys.file("/var/lib/snapd/mount/snap.demo.fstab", b"/usr/share/a /usr/share/b none rbind,rw,x-snapd.origin=layout 0 0\n", 0o644);
    sys.file("/var/lib/snapd/mount/snap.demo.user-fstab", b"$XDG_RUNTIME_DIR/doc/by-app/snap.demo $XDG_RUNTIME_DIR/doc none bind,rw 0 0\n", 0o644);
    sys
}

fn snapd_env() -> Env {
    let mut e = env();
    e.push(("XDG_RUNTIME_DIR".into(), "/run/user/1000/snap.demo".into()));
    e.push(("LD_PRELOAD".into(), "/evil.so".into()));
    e
}

#[test]
fn strict_cold_launch_applies_the_mount_profiles_like_snap_confine() {
    let sys = snapd_system();
    let e = run(&sys, argv(&["snap.demo.app", "/bin/echo", "hi"]), snapd_env()).unwrap_err().to_string();
    assert_eq!(e, EXEC_RECORDED);
    let calls = sys.calls();
    let at = |want: &str| calls.iter().position(|c| c == want).unwrap_or_else(|| panic!("no {want}: {calls:#?}"));
    let tool = format!("{}/snap-update-ns", config::LIBEXECDIR);
    let system = at(&format!("run_tool({tool}, [snap-update-ns --from-snap-confine demo], [SNAPD_DEBUG=0], -)"));
    let user = at(&format!(
        "run_tool({tool}, [snap-update-ns --from-snap-confine --user-mounts demo], [SNAPD_DEBUG=0 XDG_RUNTIME_DIR=/run/user/1000/snap.demo], -, real ids 1000:1000)"
    ));
    // The snap's profile: in the built namespace, its /tmp and devpts in
    // place, before it is made shared and preserved.
    assert!(at("mount(-, /tmp, -, MS_PRIVATE, -)") < system);
    assert!(at("mount(devpts, /dev/pts, devpts, 0, newinstance,ptmxmode=0666,mode=0620,gid=5)") < system);
    let shared = calls.iter().rposition(|c| c == "mount(-, /, -, MS_REC|MS_SHARED, -)").unwrap();
    assert!(system < shared);
    assert!(system < at("mount(fd, /run/snapd/ns/demo.mnt, -, MS_BIND, -)"));
    // The caller's: in the command's own namespace, made a slave of the
    // snap's after it was preserved; it needs no devpts of its own.
    let slave = calls.iter().rposition(|c| c == "mount(-, /, -, MS_REC|MS_SLAVE, -)").unwrap();
    let preserved = at("mount(fd, /run/snapd/ns/demo.mnt, -, MS_BIND, -)");
    let unshared = calls.iter().rposition(|c| c == "unshare(CLONE_NEWNS)").unwrap();
    assert!(preserved < unshared && unshared < slave && slave < user);
    assert_eq!(calls.iter().filter(|c| c.starts_with("mount(devpts")).count(), 1, "{calls:#?}");
    // Both while the ids are still the setup's (effective root), never
    // after the filter or the label.
    assert!(user < at("setresuid(1000,1000,1000)"));
}

#[test]
fn with_our_snap_update_ns_the_callers_profile_starts_no_process() {
    let sys = snapd_system();
    sys.file(&format!("{}/snap-update-ns", config::LIBEXECDIR), &crate::tool_note::elf(&crate::tool_note::NOTE.0, 4), 0o755);
    assert_eq!(run(&sys, argv(&["snap.demo.app", "/bin/echo", "hi"]), snapd_env()).unwrap_err().to_string(), EXEC_RECORDED);
    let calls = sys.calls();
    let tools: Vec<&String> = calls.iter().filter(|c| c.starts_with("run_tool")).collect();
    assert_eq!(tools.len(), 1, "only the snap's profile starts the tool: {tools:#?}");
    assert!(!tools[0].contains("--user-mounts"));
    let at = |want: &str| calls.iter().position(|c| c == want).unwrap_or_else(|| panic!("no {want}: {calls:#?}"));
    // The caller's profile, as the caller, in the command's own namespace,
    // and the setup's privileges back before the rest.
    let slave = calls.iter().rposition(|c| c == "mount(-, /, -, MS_REC|MS_SLAVE, -)").unwrap();
    let as_caller = at("set_fs_ids(1000,1000)");
    let back = at("set_fs_ids(0,0)");
    assert!(at("mount(devpts, /dev/pts, devpts, 0, newinstance,ptmxmode=0666,mode=0620,gid=5)") < slave);
    assert!(slave < as_caller && as_caller < back);
    assert!(back < at("setresuid(1000,1000,1000)"));
}

#[test]
fn root_gets_no_per_user_mount_profile() {
    let sys = snapd_system();
    as_root(&sys);
    run(&sys, argv(&["snap.demo.app", "/bin/echo", "hi"]), snapd_env()).unwrap_err();
    let tools: Vec<String> = sys.calls().into_iter().filter(|c| c.starts_with("run_tool")).collect();
    assert_eq!(tools.len(), 1, "{tools:#?}");
    assert!(!tools[0].contains("--user-mounts"));
}

#[test]
fn a_failing_snap_update_ns_fails_the_launch_and_preserves_nothing() {
    let sys = snapd_system();
    sys.tool_exit.set(crate::sys::ToolExit::Code(1));
    let e = run(&sys, argv(&["snap.demo.app", "/bin/echo", "hi"]), snapd_env()).unwrap_err().to_string();
    assert_eq!(e, "cannot apply the mount profile of snap demo: snap-update-ns failed with code 1");
    let calls = sys.calls();
    assert!(!calls.iter().any(|c| c.contains("demo.mnt") && c.starts_with("mount(")), "nothing preserved: {calls:#?}");
    // (setresuid(0,0,0) is the launcher shutting the caller out, not a demotion.)
    assert!(!calls.iter().any(|c| c.starts_with("execve") || (c.starts_with("setresuid") && c != "setresuid(0,0,0)")), "{calls:#?}");
    assert!(!sys.path("/run/snapd/ns/snap.demo.fstab").exists(), "no current profile of a namespace that is gone");
    assert!(!sys.path("/run/snapd/ns/snap.demo.info").exists());
}

#[test]
fn the_sandbox_gets_the_directory_the_launcher_runs_from() {
    let mut sys = strict_system();
    as_root(&sys);
    sys.dir("/opt", 0o755);
    sys.dir("/opt/snapd", 0o755);
    sys.exe = "/opt/snapd/snap-confine".into();
    assert_eq!(strict(&sys).unwrap_err().to_string(), EXEC_RECORDED);
    let s = "/tmp/snap-private-tmp/snap.rootfs_XXXXXX";
    assert!(sys.calls().contains(&format!("mount(/opt/snapd, {s}/usr/lib/snapd, -, MS_BIND, -)")), "{:#?}", sys.calls());
    // A launcher whose file was replaced while it ran cannot say where it is.
    sys.exe = "/opt/snapd/snap-confine (deleted)".into();
    let e = strict(&sys).unwrap_err().to_string();
    assert_eq!(e, "cannot find the launcher's directory: it runs from /opt/snapd/snap-confine (deleted)");
}

#[test]
fn an_unknown_base_is_refused_as_snap_confine_words_it_and_nothing_is_built() {
    let sys = strict_system();
    let e = run(&sys, argv(&["--base", "nosuchbase", "snap.demo.app", "/bin/echo", "hi"]), env()).unwrap_err();
    assert_eq!(e.to_string(), "cannot locate base snap nosuchbase: No such file or directory");
    assert!(ns_calls(&sys).iter().all(|c| !c.starts_with("mount(") && !c.starts_with("unshare(")), "{:?}", ns_calls(&sys));
}

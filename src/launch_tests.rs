//! The launch as a whole, against the recording [`FakeSys`]: the order of
//! the effects, and what happens when any of them fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use super::*;
use crate::config::{APPARMOR_ENABLED, SECCOMP_DIR, VOID_DIR};
use crate::sys::fake::FakeSys;
use nix::errno::Errno;
use nix::unistd::Uid;
use policy_cache::{encode_bin2, Policy, Program, Which};

fn prog(n: usize) -> Program {
    Program::from_bytes(Which::Allow, &vec![6u8; 8 * n]).unwrap()
}

fn filtered() -> Policy {
    Policy::Filtered { allow: prog(5), deny: Some(prog(3)) }
}

/// A fake system with a policy for snap.demo.app and a cookie for demo.
fn system(policy: &Policy) -> FakeSys {
    let sys = FakeSys::new();
    sys.dir("/", 0o755);
    for d in ["/var", "/var/lib", "/var/lib/snapd", "/var/lib/snapd/seccomp", SECCOMP_DIR, "/var/lib/snapd/cookie"] {
        sys.dir(d, 0o755);
    }
    sys.dir(VOID_DIR, 0o111);
    sys.file(&format!("{SECCOMP_DIR}/snap.demo.app.bin2"), &encode_bin2(policy).unwrap(), 0o644);
    sys.file("/var/lib/snapd/cookie/snap.demo", b"c00kie", 0o600);
    sys
}

fn argv(args: &[&str]) -> Vec<OsString> {
    std::iter::once("snap-confine").chain(args.iter().copied()).map(OsString::from).collect()
}

fn env() -> Env {
    vec![
        ("SNAP_INSTANCE_NAME".into(), "demo".into()),
        ("SNAP_CONFINE_MAX_PROFILE_WAIT".into(), "2".into()),
        ("HOME".into(), "/home/u".into()),
    ]
}

fn classic(sys: &FakeSys) -> Result<Outcome> {
    run(sys, argv(&["--classic", "snap.demo.app", "/bin/echo", "hi"]), env())
}

const SETUP: &str = "chown,dac_override,dac_read_search,fowner,setgid,setuid,sys_admin,sys_chroot,sys_ptrace,sys_resource";

fn classic_trace() -> Vec<String> {
    [
        "ensure_stdio",
        "set_dumpable(false)",
        "open_proc",
        "block_signals(SIGTSTP,SIGTTIN,SIGTTOU)",
        "ignore SIGXFSZ",
        "clear_ambient_caps",
        &format!("set_caps(e={SETUP} p={SETUP} i=-)"),
        "setresgid(1000,0,0)",
        "setresuid(0,0,0)",
        "umask(000)",
        "open_cwd",
        "chdir(/)",
        "set_keep_caps(true)",
        "setresgid(1000,1000,1000)",
        "setresuid(1000,1000,1000)",
        "set_keep_caps(false)",
        "set_dumpable(false)",
        "set_caps(e=- p=sys_admin i=-)",
        "umask(022)",
        "fchdir(/)",
        "default SIGPIPE",
        "default SIGXFSZ",
        "set_signal_mask",
        "set_caps(e=sys_admin p=sys_admin i=-)",
        "load_seccomp(3 instructions)",
        "load_seccomp(5 instructions)",
        "set_caps(e=- p=- i=-)",
        "execve(/bin/echo, [/bin/echo, hi])",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

const EXEC_RECORDED: &str = "cannot execve(/bin/echo, [/bin/echo, hi]) (recorded by the test)";

#[test]
fn classic_launch_trace() {
    let sys = system(&filtered());
    assert_eq!(classic(&sys).unwrap_err().to_string(), EXEC_RECORDED);
    assert_eq!(sys.effects(), classic_trace());
}

#[test]
fn classic_launch_with_apparmor_sets_the_label_before_the_filter() {
    let mut sys = system(&filtered());
    sys.file(APPARMOR_ENABLED, b"Y\n", 0o444);
    sys.lsm_current = format!("{} (enforce)", config::LAUNCHER_PATH);
    assert_eq!(classic(&sys).unwrap_err().to_string(), EXEC_RECORDED);
    let effects = sys.effects();
    let label = effects.iter().position(|c| c == "write_lsm_attr(exec, exec snap.demo.app)").unwrap();
    let demote = effects.iter().position(|c| c.starts_with("setresuid(1000")).unwrap();
    let filter = effects.iter().position(|c| c.starts_with("load_seccomp")).unwrap();
    assert!(demote < label && label < filter, "{effects:#?}");
}

#[test]
fn unrestricted_policy_loads_no_filter() {
    let sys = system(&Policy::Unrestricted);
    assert_eq!(classic(&sys).unwrap_err().to_string(), EXEC_RECORDED);
    assert!(!sys.calls().iter().any(|c| c.starts_with("load_seccomp")));
    assert!(sys.calls().contains(&"set_caps(e=- p=- i=-)".to_string()));
}

/// The caller is root.
fn as_root(sys: &FakeSys) {
    let mut ids = sys.ids.get();
    ids.ruid = Uid::from_raw(0);
    ids.rgid = nix::unistd::Gid::from_raw(0);
    ids.egid = ids.rgid;
    ids.sgid = ids.rgid;
    sys.ids.set(ids);
}

#[test]
fn launch_by_root_keeps_root_ids() {
    let sys = system(&filtered());
    as_root(&sys);
    assert_eq!(classic(&sys).unwrap_err().to_string(), EXEC_RECORDED);
    assert!(!sys.calls().iter().any(|c| c.starts_with("setresuid")));
}

/// Each side effect that can fail stops the launch there: no later effect
/// runs, the error names what failed, and nothing is executed.
#[test]
fn every_failure_stops_the_launch() {
    let trace = classic_trace();
    for (i, call) in trace.iter().enumerate() {
        if call.starts_with("umask") {
            continue; // umask cannot fail
        }
        let sys = system(&filtered());
        // EIO: no step treats it as a condition to work around.
        sys.fail(call, Errno::EIO);
        let err = classic(&sys).unwrap_err();
        let effects = sys.effects();
        // The failing call is the last effect (the same call may appear
        // earlier in the trace, e.g. set_dumpable).
        let first = trace.iter().position(|c| c == call).unwrap();
        assert_eq!(effects, trace[..=first].to_vec(), "failure of {call} (#{i})");
        assert!(err.to_string().starts_with("cannot "), "{err}");
        if !call.starts_with("execve") {
            assert!(!effects.iter().any(|c| c.starts_with("execve")), "{call}");
        }
    }
}

#[test]
fn a_capability_drop_that_fails_under_the_filter_never_execs() {
    let sys = system(&filtered());
    sys.fail("set_caps(e=- p=- i=-)", Errno::EPERM);
    let err = classic(&sys).unwrap_err();
    assert!(err.to_string().contains("set_caps(e=- p=- i=-)"), "{err}");
    assert!(!sys.calls().iter().any(|c| c.starts_with("execve")));
}

#[test]
fn invalid_input_dies_before_any_privileged_effect() {
    let cases: Vec<(Vec<&str>, Env, &str)> = vec![
        (vec!["snap.demo.app"], env(), "cannot parse arguments: executable name was not provided"),
        (vec!["--classic", "snap.other.app", "/bin/true"], env(), "cannot launch: security tag snap.other.app not allowed"),
        (vec!["--classic", "snap.demo.app", "/bin/true"], vec![], "cannot launch: SNAP_INSTANCE_NAME is not set"),
        (
            vec!["--base", "../x", "snap.demo.app", "/bin/true"],
            env(),
            "cannot use base \"../x\": base snap name must use lower case letters, digits or dashes",
        ),
        (
            vec!["--classic", "snap.demo.app", "/bin/true"],
            vec![("SNAP_INSTANCE_NAME".into(), "demo".into()), ("SNAP_CONFINE_MAX_PROFILE_WAIT".into(), "-1".into())],
            "cannot use SNAP_CONFINE_MAX_PROFILE_WAIT=-1: expected a positive number of seconds",
        ),
    ];
    for (args, env, want) in cases {
        let sys = system(&filtered());
        let err = run(&sys, argv(&args), env).unwrap_err();
        assert_eq!(err.to_string().lines().next().unwrap(), want);
        assert_eq!(sys.effects(), vec!["ensure_stdio", "set_dumpable(false)"], "{args:?}");
    }
}

#[test]
fn version_and_help_do_nothing_else() {
    let sys = system(&filtered());
    let out = run(&sys, argv(&["--version"]), vec![]).unwrap();
    assert_eq!(out, Outcome::Print(format!("snap-confine {}\n", config::VERSION)));
    let Outcome::Print(help) = run(&sys, argv(&["--help"]), vec![]).unwrap();
    assert!(help.starts_with("Usage: snap-confine [--classic]"));
    assert_eq!(sys.effects(), vec!["ensure_stdio", "set_dumpable(false)", "ensure_stdio", "set_dumpable(false)"]);
}

#[test]
fn setuid_launch_from_another_place_is_refused() {
    let mut sys = system(&filtered());
    sys.exe = "/home/u/x/snap-confine".into();
    let err = classic(&sys).unwrap_err().to_string();
    assert!(err.starts_with("cannot run from unexpected location /home/u/x/snap-confine"), "{err}");
    assert_eq!(sys.effects(), vec!["ensure_stdio", "set_dumpable(false)", "open_proc"]);
}

#[test]
fn setuid_launch_without_secure_mode_is_refused() {
    let mut sys = system(&filtered());
    sys.at_secure = false;
    let err = classic(&sys).unwrap_err().to_string();
    assert_eq!(err, "cannot trust the environment: the kernel did not start the launcher in secure mode");
}

#[test]
fn unconfined_launcher_is_refused_when_apparmor_is_on() {
    let sys = system(&filtered());
    sys.file(APPARMOR_ENABLED, b"Y\n", 0o444);
    let err = classic(&sys).unwrap_err().to_string();
    assert!(err.starts_with("cannot continue: snap-confine has elevated permissions and is not confined"), "{err}");
    assert!(!sys.calls().iter().any(|c| c.starts_with("set_caps")));
}

#[test]
fn missing_app_profile_fails_closed() {
    let mut sys = system(&filtered());
    sys.file(APPARMOR_ENABLED, b"Y\n", 0o444);
    sys.lsm_current = format!("{} (enforce)", config::LAUNCHER_PATH);
    sys.fail("write_lsm_attr", Errno::ENOENT);
    let err = classic(&sys).unwrap_err().to_string();
    assert!(err.starts_with("cannot change the AppArmor profile for the next exec to snap.demo.app: the profile is not loaded"));
    assert!(!sys.calls().iter().any(|c| c.starts_with("load_seccomp") || c.starts_with("execve")));
}

#[test]
fn missing_policy_fails_after_waiting_and_builds_nothing() {
    let sys = system(&filtered());
    std::fs::remove_file(sys.path(&format!("{SECCOMP_DIR}/snap.demo.app.bin2"))).unwrap();
    let err = classic(&sys).unwrap_err().to_string();
    assert!(err.starts_with("cannot load the seccomp profile for snap.demo.app"), "{err}");
    let sleeps = sys.calls().iter().filter(|c| c.as_str() == "sleep(1s)").count();
    assert_eq!(sleeps, 2);
    assert!(!sys.calls().iter().any(|c| c.starts_with("setresuid(1000")));
}

/// A fake host for strict launches: a base `core` revision 1, the
/// packaging-made /tmp/snap-private-tmp, and what /proc says.
fn strict_system() -> FakeSys {
    let sys = system(&filtered());
    sys.dir("/tmp", 0o1777);
    sys.dir("/tmp/snap-private-tmp", 0o700);
    for d in ["/snap/core/1/usr", "/snap/core/1/etc", "/snap/core/1/var", "/snap/core/1/dev", "/snap/core/1/snap"] {
        sys.dir(d, 0o755);
    }
    // The launcher's directory (no snap-update-ns there unless a test puts one).
    for d in ["/usr", "/usr/lib", config::LIBEXECDIR] {
        sys.dir(d, 0o755);
    }
    // The daemon's device checkpoint: base core, nothing assigned, so no
    // device cgroup.
    sys.dir("/var/lib/snapd/cgroup", 0o755);
    sys.file("/var/lib/snapd/cgroup/snap.demo.device", b"# This file is automatically generated.\n", 0o644);
    // No AppArmor here: the Landlock policy confines the app.
    sys.dir(crate::landlock::POLICY_DIR, 0o755);
    sys.file(&format!("{}/snap.demo.app", crate::landlock::POLICY_DIR), b"landlock-policy 1\nfs read,execute /usr\n", 0o644);
    std::os::unix::fs::symlink("usr/lib64", sys.path("/snap/core/1/lib64")).unwrap();
    std::os::unix::fs::symlink("1", sys.path("/snap/core/current")).unwrap();
    let mut links = sys.proc_links.borrow_mut();
    links.insert("1/ns/mnt".into(), "mnt:[4026531841]".into());
    links.insert("4242/ns/mnt".into(), "mnt:[4026531841]".into());
    links.insert("4242/cwd".into(), "/home/u".into());
    drop(links);
    sys.proc_files.borrow_mut().insert(
        "4242/mountinfo".into(),
        "1 0 8:1 / / rw shared:1 - ext4 /dev/vda rw\n\
         50 1 7:1 / /snap/core/1 ro shared:20 - squashfs /dev/loop1 ro\n\
         60 1 7:1 /usr /usr ro master:20 - squashfs /dev/loop1 ro\n"
            .into(),
    );
    sys
}

fn strict(sys: &FakeSys) -> Result<Outcome> {
    run(sys, argv(&["snap.demo.app", "/bin/echo", "hi"]), env())
}

/// The mount and namespace calls of a launch, in order.
fn ns_calls(sys: &FakeSys) -> Vec<String> {
    let keep = ["mount(", "umount(", "pivot_root(", "unshare(", "setns(", "mkdirat(snap.rootfs", "open_ns("];
    sys.calls().into_iter().filter(|c| keep.iter().any(|k| c.starts_with(k))).collect()
}

/// The mount calls of a launch on the private tmp base itself.
fn tmp_base_calls(sys: &FakeSys) -> Vec<String> {
    ns_calls(sys).into_iter().filter(|c| c.contains(", /tmp/snap-private-tmp, ")).collect()
}

#[test]
fn the_private_tmp_base_becomes_a_private_mount_point_once() {
    // Already a private mount point: left as it is.
    let sys = strict_system();
    sys.proc_files.borrow_mut().get_mut("4242/mountinfo").unwrap().push_str("72 1 0:41 /snap-private-tmp /tmp/snap-private-tmp rw - tmpfs tmpfs rw\n");
    assert_eq!(strict(&sys).unwrap_err().to_string(), EXEC_RECORDED);
    assert_eq!(tmp_base_calls(&sys), Vec::<String>::new());
    // Bound but still shared (a launch killed between the two steps): only
    // made private.
    let sys = strict_system();
    sys.proc_files
        .borrow_mut()
        .get_mut("4242/mountinfo")
        .unwrap()
        .push_str("72 1 0:41 /snap-private-tmp /tmp/snap-private-tmp rw shared:7 - tmpfs tmpfs rw\n");
    assert_eq!(strict(&sys).unwrap_err().to_string(), EXEC_RECORDED);
    assert_eq!(tmp_base_calls(&sys), ["mount(-, /tmp/snap-private-tmp, -, MS_PRIVATE, -)"]);
    // Not trusted: the launch stops before anything is mounted.
    let sys = strict_system();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(sys.path("/tmp/snap-private-tmp"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let e = strict(&sys).unwrap_err().to_string();
    assert!(e.starts_with("cannot use /tmp/snap-private-tmp: it has unexpected ownership or permissions"), "{e}");
    assert!(!ns_calls(&sys).iter().any(|c| c.starts_with("mount(") && !c.contains("/run/snapd/ns")), "{:?}", ns_calls(&sys));
}

#[test]
fn strict_cold_launch_builds_preserves_and_joins_the_snaps_namespace() {
    let sys = strict_system();
    assert_eq!(strict(&sys).unwrap_err().to_string(), EXEC_RECORDED);
    let calls = ns_calls(&sys);
    let s = "/tmp/snap-private-tmp/snap.rootfs_XXXXXX";
    // "/" is shared already, so /snap is left alone; /run/snapd/ns and the
    // private tmp base (bound by descriptor) become private mount points
    // before anything is built.
    let want_prefix = [
        "open_ns(self, mnt)".to_string(),
        "mount(/run/snapd/ns, /run/snapd/ns, -, MS_BIND|MS_REC, -)".to_string(),
        "mount(-, /run/snapd/ns, -, MS_PRIVATE, -)".to_string(),
        "mount(fd, /tmp/snap-private-tmp, -, MS_BIND|MS_REC, -)".to_string(),
        "mount(-, /tmp/snap-private-tmp, -, MS_PRIVATE, -)".to_string(),
        "unshare(CLONE_NEWNS)".to_string(),
        "mkdirat(snap.rootfs_XXXXXX, 0700)".to_string(),
        "mount(-, /, -, MS_REC|MS_SHARED, -)".to_string(),
        format!("mount({s}, {s}, -, MS_BIND, -)"),
        format!("mount(-, {s}, -, MS_UNBINDABLE, -)"),
        // No home directory outside /home: the root is the base itself.
        format!("mount(/snap/core/1, {s}, -, MS_BIND|MS_REC, -)"),
        format!("mount(-, {s}, -, MS_REC|MS_SLAVE, -)"),
    ];
    assert_eq!(calls[..want_prefix.len()], want_prefix, "{calls:#?}");
    let want_suffix = [
        format!("pivot_root({s}, {s}/var/lib/snapd/hostfs)"),
        format!("umount(/var/lib/snapd/hostfs{s})"),
        "mount(-, /var/lib/snapd/hostfs, -, MS_REC|MS_SLAVE, -)".to_string(),
        "umount(/var/lib/snapd/hostfs/sys, lazy)".to_string(),
        "umount(/var/lib/snapd/hostfs/dev, lazy)".to_string(),
        "umount(/var/lib/snapd/hostfs/proc, lazy)".to_string(),
        "mount(fd, /tmp, -, MS_BIND, -)".to_string(),
        "mount(-, /tmp, -, MS_PRIVATE, -)".to_string(),
        // The snap's own devpts, shared by its commands (as snap-confine).
        "mount(devpts, /dev/pts, devpts, 0, newinstance,ptmxmode=0666,mode=0620,gid=5)".to_string(),
        "mount(fd, /dev/ptmx, -, MS_BIND, -)".to_string(),
        "mount(-, /, -, MS_REC|MS_SHARED, -)".to_string(),
        "open_ns(self, mnt)".to_string(),
        "setns(CLONE_NEWNS)".to_string(),
        "mount(fd, /run/snapd/ns/demo.mnt, -, MS_BIND, -)".to_string(),
        // No namespace of the command's own: no mount profile of the caller.
        "setns(CLONE_NEWNS)".to_string(),
    ];
    assert_eq!(calls[calls.len() - want_suffix.len()..], want_suffix, "{calls:#?}");
    // The host's directories are bound over the base's, the launcher's
    // directory read-only; nothing is made in the base.
    for want in [
        format!("mount(/usr/lib/confine, {s}/usr/lib/snapd, -, MS_BIND, -)"),
        format!("mount(-, {s}/usr/lib/snapd, -, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_REMOUNT|MS_BIND, -)"),
        format!("mount(/dev, {s}/dev, -, MS_BIND|MS_REC, -)"),
    ] {
        assert!(calls.contains(&want), "missing {want}:\n{calls:#?}");
    }
    assert!(!sys.calls().iter().any(|c| c.starts_with("symlinkat(") || c.starts_with("mount(/snap/core/1/")), "{:#?}", sys.calls());
    assert_eq!(std::fs::read_to_string(sys.path("/run/snapd/ns/snap.demo.info")).unwrap(), "base-snap-name=core\n");
    // The current mount profile is empty: no tmpfs root to keep.
    assert_eq!(std::fs::read_to_string(sys.path("/run/snapd/ns/snap.demo.fstab")).unwrap(), "");
    // Nothing to apply: no mount profile, and no snap-update-ns installed.
    assert!(!sys.calls().iter().any(|c| c.starts_with("run_tool")));
    // Strict launches reset PATH and friends.
    let exec_at = sys.calls().iter().position(|c| c.starts_with("execve")).unwrap();
    let filter_at = sys.calls().iter().position(|c| c.starts_with("load_seccomp")).unwrap();
    let devpts_at = sys.calls().iter().position(|c| c.starts_with("mount(devpts")).unwrap();
    let demote_at = sys.calls().iter().position(|c| c.starts_with("setresuid(1000")).unwrap();
    assert!(devpts_at < demote_at && demote_at < filter_at && filter_at < exec_at);
}

/// With NVIDIA's driver loaded (a fake one, laid out as NVIDIA's container
/// toolkit lays it out), the namespace gets the library farm before
/// `pivot_root`: a tmpfs without devices, setuid or exec, filled with links
/// into the old root, then made read-only.
#[test]
fn strict_cold_launch_with_a_gpu_driver_makes_the_library_farm() {
    let sys = strict_system();
    sys.file("/sys/module/nvidia/version", b"580.159.04\n", 0o444);
    for d in ["gl", "gl32", "vulkan", "glvnd"] {
        sys.dir(&format!("/var/lib/snapd/lib/{d}"), 0o755);
    }
    let lib64 = "/usr/local/nvidia/lib64";
    sys.file(&format!("{lib64}/libcuda.so.580.159.04"), b"", 0o755);
    sys.file(&format!("{lib64}/libnvidia-glcore.so.580.159.04"), b"", 0o755);
    std::os::unix::fs::symlink("libcuda.so.580.159.04", sys.path(&format!("{lib64}/libcuda.so.1"))).unwrap();
    assert_eq!(strict(&sys).unwrap_err().to_string(), EXEC_RECORDED);
    let calls = sys.calls();
    let s = "/tmp/snap-private-tmp/snap.rootfs_XXXXXX";
    let gl = format!("{s}/var/lib/snapd/lib/gl");
    let at = |want: &str| calls.iter().position(|c| c == want).unwrap_or_else(|| panic!("missing {want}:\n{calls:#?}"));
    let tmpfs = at(&format!("mount(tmpfs, {gl}, tmpfs, MS_NOSUID|MS_NODEV|MS_NOEXEC, mode=0755,uid=0,gid=0)"));
    let link = at("symlinkat(/var/lib/snapd/hostfs/usr/local/nvidia/lib64/libcuda.so.580.159.04, libcuda.so.580.159.04)");
    let soname = at("symlinkat(libcuda.so.580.159.04, libcuda.so.1)");
    let ro = at(&format!("mount(-, {gl}, -, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND, -)"));
    let pivot = at(&format!("pivot_root({s}, {s}/var/lib/snapd/hostfs)"));
    assert!(tmpfs < soname && soname < link && link < ro && ro < pivot, "{calls:#?}");
    // No 32-bit libraries here: nothing is mounted on gl32.
    assert!(!calls.iter().any(|c| c.contains("lib/gl32")), "{calls:#?}");
    // The host has no /usr/share/vulkan: no Vulkan farm.
    assert!(!calls.iter().any(|c| c.contains("lib/vulkan")), "{calls:#?}");
}

#[test]
fn strict_launch_with_a_bad_driver_version_builds_nothing() {
    let sys = strict_system();
    sys.file("/sys/module/nvidia/version", b"not a version\n", 0o444);
    assert_eq!(strict(&sys).unwrap_err().to_string(), "cannot parse major version from nvidia driver version string");
    assert!(!sys.path("/run/snapd/ns/demo.mnt").exists());
    assert!(!sys.calls().iter().any(|c| c.starts_with("pivot_root")), "{:#?}", sys.calls());
}

#[test]
fn strict_warm_launch_joins_the_preserved_namespace() {
    let sys = system_with_preserved_ns("core");
    assert_eq!(strict(&sys).unwrap_err().to_string(), EXEC_RECORDED);
    // Joining needs no global set-up at all.
    let calls = ns_calls(&sys);
    assert_eq!(
        calls,
        [
            "open_ns(self, mnt)",
            "open_ns(self, user)",
            "setns(CLONE_NEWNS)",
            "unshare(CLONE_NEWNS)",
            "mount(-, /, -, MS_REC|MS_SLAVE, -)",
            "mount(devpts, /dev/pts, devpts, 0, newinstance,ptmxmode=0666,mode=0620,gid=5)",
            "mount(fd, /dev/ptmx, -, MS_BIND, -)",
        ],
        "{calls:#?}"
    );
}

/// A system with a preserved namespace of demo, built from `base`.
fn system_with_preserved_ns(base: &str) -> FakeSys {
    let mut sys = strict_system();
    sys.dir("/run/snapd/ns", 0o755);
    sys.file("/run/snapd/ns/demo.mnt", b"", 0o600);
    sys.file("/run/snapd/ns/snap.demo.info", format!("base-snap-name={base}\n").as_bytes(), 0o644);
    // The owning user namespace must be ours: the fake's open_ns hands out
    // the fake root, so report its inode.
    let root_ino = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(sys.root.path()).unwrap());
    sys.ns_info = Some(crate::sys::NsInfo { nstype: libc::CLONE_NEWNS, userns_ino: root_ino });
    sys
}

#[test]
fn a_namespace_built_from_another_base_is_discarded() {
    let sys = system_with_preserved_ns("core18");
    assert_eq!(strict(&sys).unwrap_err().to_string(), EXEC_RECORDED);
    let calls = sys.calls();
    let discard = calls.iter().position(|c| c == "umount(/run/snapd/ns/demo.mnt, lazy)").expect("discarded");
    let build = calls.iter().position(|c| c.starts_with("mkdirat(snap.rootfs")).expect("rebuilt");
    assert!(discard < build);
    assert_eq!(std::fs::read_to_string(sys.path("/run/snapd/ns/snap.demo.info")).unwrap(), "base-snap-name=core\n");
}

#[test]
fn a_command_stays_in_the_snaps_namespace_with_its_devpts() {
    let sys = system_with_preserved_ns("core");
    // The snap's namespace has a devpts instance of its own.
    sys.dir("/dev/pts", 0o755);
    sys.joined_pts_dev.set(Some(0xbeef));
    assert_eq!(strict(&sys).unwrap_err().to_string(), EXEC_RECORDED);
    let calls = sys.calls();
    assert!(calls.contains(&"setns(CLONE_NEWNS)".to_string()), "{calls:#?}");
    assert!(!calls.iter().any(|c| c.starts_with("unshare") || c.starts_with("mount(")), "{calls:#?}");
}

#[test]
fn a_namespace_showing_the_hosts_devpts_gives_the_command_its_own() {
    // Preserved before the launcher mounted a devpts in the snap's
    // namespace: /dev/pts there is the host's.
    let sys = system_with_preserved_ns("core");
    sys.dir("/dev/pts", 0o755);
    assert_eq!(strict(&sys).unwrap_err().to_string(), EXEC_RECORDED);
    let calls = sys.calls();
    let at = |want: &str| calls.iter().position(|c| c == want).unwrap_or_else(|| panic!("missing {want}:\n{calls:#?}"));
    let joined = at("setns(CLONE_NEWNS)");
    let unshared = at("unshare(CLONE_NEWNS)");
    let devpts = at("mount(devpts, /dev/pts, devpts, 0, newinstance,ptmxmode=0666,mode=0620,gid=5)");
    assert!(joined < unshared && unshared < at("mount(-, /, -, MS_REC|MS_SLAVE, -)") && unshared < devpts && devpts < at("mount(fd, /dev/ptmx, -, MS_BIND, -)"));
    assert!(devpts < calls.iter().position(|c| c.starts_with("execve")).unwrap());
}

/// A system with a preserved namespace of demo and `homedirs=/srv/home`.
fn system_with_homedirs() -> FakeSys {
    let sys = system_with_preserved_ns("core");
    sys.dir("/srv/home/u", 0o755);
    sys.dir("/snap/core/1/srv", 0o755);
    sys.file("/var/lib/snapd/system-params", b"homedirs=/srv/home\n", 0o644);
    sys
}

#[test]
fn a_namespace_without_a_home_directory_is_rebuilt_with_it() {
    let sys = system_with_homedirs();
    assert_eq!(strict(&sys).unwrap_err().to_string(), EXEC_RECORDED);
    let calls = sys.calls();
    let s = "/tmp/snap-private-tmp/snap.rootfs_XXXXXX";
    let at = |want: &str| calls.iter().position(|c| c == want).unwrap_or_else(|| panic!("missing {want}:\n{calls:#?}"));
    let discard = at("umount(/run/snapd/ns/demo.mnt, lazy)");
    // The base's /srv is rebuilt in the tmpfs root, not bound whole.
    let point = at("mkdirat(home, 0755)");
    let bind = at(&format!("mount(fd, {s}/srv/home, -, MS_BIND|MS_REC, -)"));
    // Made a slave with everything else from the host, by one recursive
    // slave of the new root after the binds.
    let slave = bind + calls[bind..].iter().position(|c| *c == format!("mount(-, {s}, -, MS_REC|MS_SLAVE, -)")).expect("made a slave");
    let pivot = at(&format!("pivot_root({s}, {s}/var/lib/snapd/hostfs)"));
    assert!(discard < point && point < bind && bind < slave && slave < pivot, "{calls:#?}");
    assert!(!calls.iter().any(|c| c.starts_with(&format!("mount(/snap/core/1/srv, {s}/srv"))), "{calls:#?}");
    // A tmpfs root, recorded as such in the current mount profile.
    assert!(calls.contains(&format!("mount(tmpfs, {s}, tmpfs, 0, uid=0,gid=0)")), "{calls:#?}");
    assert_eq!(
        std::fs::read_to_string(sys.path("/run/snapd/ns/snap.demo.fstab")).unwrap(),
        "tmpfs / tmpfs x-snapd.origin=rootfs 0 0\n"
    );
}

#[test]
fn a_namespace_with_the_home_directories_is_joined() {
    let sys = system_with_homedirs();
    sys.proc_files.borrow_mut().get_mut("4242/mountinfo").unwrap().push_str("70 1 8:1 /srv/home /srv/home rw master:1 - ext4 /dev/vda rw\n");
    assert_eq!(strict(&sys).unwrap_err().to_string(), EXEC_RECORDED);
    assert!(!sys.calls().iter().any(|c| c.starts_with("umount(") || c.starts_with("pivot_root")), "{:#?}", sys.calls());
}

#[test]
fn a_bad_homedirs_setting_builds_nothing() {
    let sys = system_with_homedirs();
    sys.file("/var/lib/snapd/system-params", b"homedirs=/srv/home,/etc\n", 0o644);
    let e = strict(&sys).unwrap_err().to_string();
    assert_eq!(e, "cannot use homedirs entry \"/etc\" of /var/lib/snapd/system-params: it is /etc or within or above it");
    assert!(!sys.calls().iter().any(|c| c.starts_with("setns") || c.starts_with("umount(") || c.starts_with("execve")));
}

#[test]
fn a_foreign_namespace_file_is_refused() {
    let mut sys = strict_system();
    sys.dir("/run/snapd/ns", 0o755);
    sys.file("/run/snapd/ns/demo.mnt", b"", 0o600);
    sys.ns_info = Some(crate::sys::NsInfo { nstype: libc::CLONE_NEWNET, userns_ino: 0 });
    let e = strict(&sys).unwrap_err().to_string();
    assert_eq!(e, "cannot join /run/snapd/ns/demo.mnt: it is not a mount namespace");
    sys.ns_info = Some(crate::sys::NsInfo { nstype: libc::CLONE_NEWNS, userns_ino: 1 });
    let e = strict(&sys).unwrap_err().to_string();
    assert_eq!(e, "cannot join /run/snapd/ns/demo.mnt: it belongs to another user namespace");
    assert!(!sys.calls().iter().any(|c| c.starts_with("setns") || c.starts_with("execve")));
}

#[test]
fn strict_without_apparmor_applies_landlock_in_the_final_namespace_before_seccomp() {
    let sys = strict_system();
    assert_eq!(strict(&sys).unwrap_err().to_string(), EXEC_RECORDED);
    let calls = sys.calls();
    let at = |prefix: &str| calls.iter().rposition(|c| c.starts_with(prefix)).unwrap_or_else(|| panic!("no {prefix}: {calls:#?}"));
    let landlock = at("landlock_restrict(abi 7, fs 0xffff, 1 rules, net 0x3, 0 ports, scopes 0x0)");
    assert!(at("setns(") < landlock && at("fchdir") < landlock, "after the namespace and the working directory: {calls:#?}");
    assert_eq!(calls[landlock - 1], "set_caps(e=sys_admin p=sys_admin i=-)");
    assert!(landlock < at("load_seccomp("), "before the seccomp filter: {calls:#?}");
    // Nothing else would stop a setuid program in the snap there.
    let nnp = at("set_no_new_privs");
    assert!(landlock < nnp && nnp < at("load_seccomp("), "{calls:#?}");
}

#[test]
fn no_new_privs_only_where_landlock_confines_a_caller_other_than_root() {
    // Classic: nothing confines the app (and no Landlock policy applies).
    let sys = system(&filtered());
    assert_eq!(classic(&sys).unwrap_err().to_string(), EXEC_RECORDED);
    assert!(!sys.calls().iter().any(|c| c == "set_no_new_privs"));
    // Root: root daemons keep their capabilities.
    let sys = strict_system();
    let zero = Uid::from_raw(0);
    let gid = nix::unistd::Gid::from_raw(0);
    sys.ids.set(crate::sys::Ids { ruid: zero, euid: zero, suid: zero, rgid: gid, egid: gid, sgid: gid });
    assert_eq!(strict(&sys).unwrap_err().to_string(), EXEC_RECORDED);
    assert!(!sys.calls().iter().any(|c| c == "set_no_new_privs"), "{:#?}", sys.calls());
}

#[test]
fn a_launch_from_inside_a_sandbox_is_refused_before_anything_privileged() {
    for launch in [classic, strict] {
        let sys = strict_system();
        // PID 1's root is not ours: we run inside a snap's new root.
        sys.dir("/host", 0o755);
        sys.proc_roots.borrow_mut().insert(1, "/host".into());
        let e = launch(&sys).unwrap_err().to_string();
        assert_eq!(e, "cannot run inside a snap's sandbox: the root directory is not the host's");
        assert_eq!(sys.effects(), ["ensure_stdio", "set_dumpable(false)", "open_proc"]);
    }
    // Where PID 1 cannot be inspected (from inside a Landlock or AppArmor
    // sandbox it cannot), a root directory that is a base snap's gives it
    // away: here the base's current revision is the fake's root, so its
    // /usr is the one in use.
    for launch in [classic, strict] {
        let sys = strict_system();
        sys.fail("lstat_proc(1/root/.)", Errno::EACCES);
        std::os::unix::fs::symlink("/", sys.path("/snap/other")).unwrap();
        sys.dir("/usr", 0o755);
        std::fs::create_dir(sys.path("/snap/nested")).unwrap();
        std::os::unix::fs::symlink("/", sys.path("/snap/nested/current")).unwrap();
        let e = launch(&sys).unwrap_err().to_string();
        assert_eq!(e, "cannot run inside a snap's sandbox: the root directory is not the host's");
        assert_eq!(sys.effects(), ["ensure_stdio", "set_dumpable(false)", "open_proc"]);
    }
    // Otherwise an uninspectable PID 1 is no sign of a sandbox (some hosts
    // hide it even from root).
    let sys = system(&filtered());
    sys.fail("lstat_proc(1/root/.)", Errno::EACCES);
    assert_eq!(classic(&sys).unwrap_err().to_string(), EXEC_RECORDED);
    // Where PID 1's root directory is ours, /usr is not looked up: not even
    // a host whose /usr is a snap's (a base booted as the root file
    // system) is taken for a sandbox.
    let sys = system(&filtered());
    sys.dir("/usr", 0o755);
    std::fs::create_dir_all(sys.path("/snap/booted")).unwrap();
    std::os::unix::fs::symlink("/", sys.path("/snap/booted/current")).unwrap();
    assert_eq!(classic(&sys).unwrap_err().to_string(), EXEC_RECORDED);
}

#[test]
fn a_base_that_cannot_be_looked_up_is_not_called_missing() {
    let sys = strict_system();
    sys.fail("readlinkat(current", Errno::EMFILE);
    let e = strict(&sys).unwrap_err().to_string();
    assert!(e.starts_with("cannot locate base snap core: "), "{e}");
    assert!(e.contains("Too many open files"), "{e}");
}

#[test]
fn a_failed_write_of_the_namespace_record_leaves_no_file() {
    let sys = strict_system();
    sys.fail("write(base-snap-name=core", Errno::EFBIG);
    let e = strict(&sys).unwrap_err().to_string();
    assert!(e.starts_with("cannot write /run/snapd/ns/snap.demo.info: "), "{e}");
    let left: Vec<_> = std::fs::read_dir(sys.path("/run/snapd/ns")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(!sys.calls().iter().any(|c| c.starts_with("execve")));
    // The current mount profile, written first, likewise.
    let sys = strict_system();
    sys.fail("renameat(.snap.demo.fstab.tmp", Errno::EFBIG);
    let e = strict(&sys).unwrap_err().to_string();
    assert!(e.starts_with("cannot write /run/snapd/ns/snap.demo.fstab: "), "{e}");
    let left: Vec<_> = std::fs::read_dir(sys.path("/run/snapd/ns")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn strict_without_apparmor_or_landlock_policy_fails_before_building_anything() {
    let sys = strict_system();
    std::fs::remove_file(sys.path(&format!("{}/snap.demo.app", crate::landlock::POLICY_DIR))).unwrap();
    let e = strict(&sys).unwrap_err().to_string();
    assert!(e.starts_with("cannot confine snap.demo.app without AppArmor: its Landlock policy"), "{e}");
    assert!(!sys.calls().iter().any(|c| c.starts_with("mount(") || c.starts_with("unshare") || c.starts_with("setns")));
}

#[test]
fn strict_refuses_when_pid1_cannot_be_inspected() {
    let sys = strict_system();
    sys.proc_links.borrow_mut().remove("1/ns/mnt");
    let e = strict(&sys).unwrap_err().to_string();
    assert!(e.starts_with("cannot read mount namespace identifier of pid 1: "), "{e}");
    assert!(e.contains("unshare -p -f -m --mount-proc"), "{e}");
    assert!(!sys.calls().iter().any(|c| c.starts_with("mount(") || c.starts_with("unshare")));
}

#[test]
fn a_failed_mount_is_reported_as_the_command_and_nothing_is_preserved() {
    let sys = strict_system();
    sys.fail("mount(/dev, ", Errno::EPERM);
    let e = strict(&sys).unwrap_err().to_string();
    assert_eq!(
        e,
        "cannot perform operation: mount --rbind /dev /tmp/snap-private-tmp/snap.rootfs_XXXXXX/dev: Operation not permitted"
    );
    assert!(!sys.calls().iter().any(|c| (c.starts_with("mount(") && c.contains("demo.mnt")) || c.starts_with("execve")));
    // The scratch directory is unmounted and removed (in a real namespace
    // it is empty once unmounted).
    let calls = sys.calls();
    let umount = calls.iter().position(|c| c == "umount(/tmp/snap-private-tmp/snap.rootfs_XXXXXX, lazy)").unwrap();
    let rmdir = calls.iter().position(|c| c == "unlinkat(snap.rootfs_XXXXXX, dir)").unwrap();
    assert!(umount < rmdir);
}

/// A host directory refused half-way (as the launcher's AppArmor profile
/// refuses one under a base's symlinked /var): /dev and the others bound
/// before it are still peers of the host's, so the scratch tree is made a
/// slave before it is unmounted, or an unmount below /dev would unmount the
/// host's /dev/pts.
#[test]
fn a_failed_build_makes_its_mounts_slaves_before_unmounting_them() {
    let s = "/tmp/snap-private-tmp/snap.rootfs_XXXXXX";
    let sys = strict_system();
    sys.fail("mount(/var/snap, ", Errno::EACCES);
    assert!(strict(&sys).unwrap_err().to_string().starts_with(&format!("cannot perform operation: mount --rbind /var/snap {s}/var/snap")));
    let calls = sys.calls();
    let at = |want: &str| calls.iter().rposition(|c| c == want).unwrap_or_else(|| panic!("missing {want}:\n{calls:#?}"));
    let failed = calls.iter().position(|c| c.starts_with("mount(/var/snap, ")).unwrap();
    let slave = at(&format!("mount(-, {s}, -, MS_REC|MS_SLAVE, -)"));
    let umount = at(&format!("umount({s}, lazy)"));
    assert!(failed < slave && slave < umount && umount < at("unlinkat(snap.rootfs_XXXXXX, dir)"), "{calls:#?}");

    // When they cannot be made slaves, nothing is unmounted: the mounts
    // die with the namespace.
    let sys = strict_system();
    sys.fail(&format!("mount(-, {s}, -, MS_REC|MS_SLAVE"), Errno::EPERM);
    assert!(strict(&sys).is_err());
    assert!(!sys.calls().iter().any(|c| c.starts_with("umount(") || c.starts_with("unlinkat(snap.rootfs")), "{:#?}", sys.calls());
}

#[path = "launch_tests_cwd.rs"]
mod cwd;
#[path = "launch_tests_snapd.rs"]
mod snapd;

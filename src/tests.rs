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
        "clear_ambient_caps",
        &format!("set_caps(e={SETUP} p={SETUP} i=-)"),
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
        "fchdir",
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
    let demote = effects.iter().position(|c| c.starts_with("setresuid")).unwrap();
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

#[test]
fn launch_by_root_keeps_root_ids() {
    let sys = system(&filtered());
    let root = Uid::from_raw(0);
    let mut ids = sys.ids.get();
    ids.ruid = root;
    ids.rgid = nix::unistd::Gid::from_raw(0);
    ids.egid = ids.rgid;
    ids.sgid = ids.rgid;
    sys.ids.set(ids);
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
    assert!(!sys.calls().iter().any(|c| c.starts_with("setresuid")));
}

#[test]
fn strict_is_refused_until_the_mount_namespace_exists() {
    let sys = system(&filtered());
    let err = run(&sys, argv(&["snap.demo.app", "/bin/true"]), env()).unwrap_err().to_string();
    assert_eq!(
        err,
        "cannot launch snap.demo.app with strict confinement: the per-snap mount namespace is not implemented yet; \
         only --classic is supported"
    );
    assert!(!sys.calls().iter().any(|c| c.starts_with("execve")));
}

#[test]
fn working_directory_falls_back_to_the_void() {
    let sys = system(&filtered());
    sys.fail("fchdir", Errno::EACCES);
    // The first fchdir (the caller's directory) fails, and so does the void:
    // the launch stops.
    let err = classic(&sys).unwrap_err().to_string();
    assert!(err.contains("move to /var/lib/snapd/void"), "{err}");
    let fchdirs = sys.calls().iter().filter(|c| c.as_str() == "fchdir").count();
    assert_eq!(fchdirs, 2);
}

//! The snap's mount profile, applied by `snap-update-ns`.
//!
//! snapd writes what a snap's namespace holds beyond the base (layouts,
//! content connections, parallel-instance remaps) as mount profiles:
//! `/var/lib/snapd/mount/snap.<instance>.fstab` for the snap's namespace and
//! `snap.<instance>.user-fstab` for each user's. The launcher does not apply
//! them itself. Like snap-confine it runs the `snap-update-ns` installed next
//! to it, and this module is that call, in one place:
//!
//! - what is run is plain data, a [`ToolCall`]: argv `snap-update-ns
//!   --from-snap-confine [--user-mounts] <instance>`, a fresh environment
//!   (`SNAPD_DEBUG=0|1`; for the per-user profile also `XDG_RUNTIME_DIR` and
//!   `SNAP_REAL_HOME` as the caller has them) and the AppArmor label
//!   `snap-update-ns.<instance>`, set with change_onexec in the child;
//! - the executable is opened from the launcher's own directory before any
//!   namespace is built ([`open_tool`]: `O_PATH|O_NOFOLLOW`, a root-owned
//!   regular file that only root may change) and executed through that
//!   descriptor, so what the path means inside the sandbox does not matter;
//! - the caller holds the snap's lock (`--from-snap-confine` tells
//!   snap-update-ns so, and it checks);
//! - it runs with the launcher's identity at that point, as under
//!   snap-confine 2.57.6: the caller's real ids, effective uid and gid root
//!   (snap-update-ns itself drops to the caller for the per-user profile);
//! - a failure fails the launch with its exit status ("cannot apply the
//!   mount profile of snap hello: snap-update-ns failed with code 1"), and
//!   the namespace being built is then never preserved.
//!
//! A profile that is missing or empty has nothing to apply: the tool is not
//! started for it (snap-confine starts it anyway, which costs a Go start).
//!
//! The caller's profile, when the `snap-update-ns` next to the launcher is
//! ours (it carries [`crate::tool_note`]'s note), is applied by the launcher
//! itself ([`apply_user`]), with the code the tool would run
//! ([`crate::mount_profile::update_user`]) and with the tool's privileges:
//! file access as the caller (file system ids), only `CAP_SYS_ADMIN`
//! effective; both are given back afterwards. No process is started for it,
//! so a warm launch of a snap with a `.user-fstab` starts none at all.
//! snapd's `snap-update-ns` (the launcher standing in for snapd's
//! snap-confine) is always started, as snapd expects.

use crate::apparmor::AppArmor;
use crate::debug::Debug;
use crate::error::{Error, Result};
use crate::fs::{open_path, Trust};
use crate::settings::{lookup, Env};
use crate::sys::{CapState, Ids, Proc, Sys, ToolExit, ToolRun};
use crate::{mount_profile, tool_note};
use naming::InstanceName;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use nix::unistd::{Gid, Uid};
use std::ffi::{CString, OsStr};
use std::fmt;
use std::os::fd::{AsFd, OwnedFd};

/// The tool's file name, in the launcher's directory.
pub const TOOL: &str = "snap-update-ns";
/// Where snapd writes the desired mount profiles.
pub const MOUNT_POLICY_DIR: &str = "/var/lib/snapd/mount";
/// The capabilities the caller's profile is applied with (for mount).
const USER_MOUNT_CAPS: u64 = 1 << (caps::Capability::CAP_SYS_ADMIN as u8);

/// Which of the snap's mount profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// The snap's namespace, applied when it is built.
    System,
    /// The calling user's, applied in the command's own namespace.
    User,
}

/// One run of `snap-update-ns`, as data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    /// The profile it applies; it is not run when that file is missing or empty.
    pub profile: String,
    pub argv: Vec<String>,
    /// The whole environment it gets.
    pub envp: Vec<String>,
    /// The AppArmor profile it is executed under (none without AppArmor).
    pub label: Option<String>,
    /// The real user and group ids it starts with (the caller's, for the
    /// user's profile: the tool takes the user from them, as snapd's does);
    /// none: root's, as the launcher has them while privileged.
    pub real_ids: Option<(Uid, Gid)>,
}

impl fmt::Display for ToolCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "env -i {} {}", self.envp.join(" "), self.argv.join(" "))?;
        match &self.label {
            Some(l) => write!(f, " (AppArmor label {l})"),
            None => Ok(()),
        }
    }
}

/// The call that applies `profile` of `instance`. `env` is the launcher's
/// environment (the per-user call passes two of its variables on),
/// `debug` sets `SNAPD_DEBUG`.
pub fn call(profile: Profile, instance: &str, env: &Env, aa: &AppArmor, debug: bool) -> ToolCall {
    let mut argv = vec![TOOL.to_string(), "--from-snap-confine".to_string()];
    let mut envp = vec![format!("SNAPD_DEBUG={}", u8::from(debug))];
    let file = match profile {
        Profile::System => format!("snap.{instance}.fstab"),
        Profile::User => {
            argv.push("--user-mounts".to_string());
            for key in ["XDG_RUNTIME_DIR", "SNAP_REAL_HOME"] {
                // Values with a NUL byte cannot reach here (they come from
                // the kernel's environment block).
                if let Some(v) = lookup(env, key).and_then(OsStr::to_str) {
                    envp.push(format!("{key}={v}"));
                }
            }
            format!("snap.{instance}.user-fstab")
        }
    };
    argv.push(instance.to_string());
    let label = match aa {
        AppArmor::NotApplicable => None,
        AppArmor::Enabled { .. } => Some(format!("{TOOL}.{instance}")),
    };
    ToolCall { profile: format!("{MOUNT_POLICY_DIR}/{file}"), argv, envp, label, real_ids: None }
}

/// The calls of one launch: the snap's profile, when its namespace is
/// built; the caller's, in the command's own namespace (not for root, as
/// with snap-confine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calls {
    pub system: ToolCall,
    pub user: Option<ToolCall>,
}

impl Calls {
    pub fn new(instance: &InstanceName, env: &Env, aa: &AppArmor, ids: &Ids, debug: bool) -> Calls {
        let instance = instance.as_str();
        Calls {
            system: call(Profile::System, instance, env, aa, debug),
            user: (!ids.ruid.is_root())
                .then(|| ToolCall { real_ids: Some((ids.ruid, ids.rgid)), ..call(Profile::User, instance, env, aa, debug) }),
        }
    }
}

/// `snap-update-ns`, opened from the launcher's directory.
#[derive(Debug)]
pub struct Tool {
    fd: OwnedFd,
    path: String,
    /// Whether it is ours (it carries our note): then the caller's profile
    /// is applied in the launcher instead.
    pub native: bool,
}

/// Opens `snap-update-ns` in `launcher_dir` (`None` when it is not
/// installed there). It must be a regular file owned by root that nobody
/// else may change, in a directory of the same kind.
pub fn open_tool<S: Sys>(sys: &S, launcher_dir: &str) -> Result<Option<Tool>> {
    let path = format!("{launcher_dir}/{TOOL}");
    let dir = open_path(sys, launcher_dir, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::RootOwned)?;
    // Readable (not O_PATH), so that its first bytes tell whether it is ours.
    let fd = match sys.openat(dir.fd.as_fd(), OsStr::new(TOOL), OFlag::O_RDONLY, Mode::empty()) {
        Ok(fd) => fd,
        Err(e) if e.errno_value() == Some(Errno::ENOENT) => return Ok(None),
        Err(e) => return Err(e.within(format!("open {path}"))),
    };
    let st = sys.fstat(fd.as_fd())?;
    if !st.is_file() || (st.uid, st.gid) != sys.trusted_owner() || st.mode & 0o022 != 0 {
        return Err(Error::because(format!("use {path}"), "it is not a root-owned file that only root may change"));
    }
    let head = sys.read_head(fd.as_fd(), tool_note::HEAD_LEN).map_err(|e| e.within(format!("read {path}")))?;
    Ok(Some(Tool { fd, path, native: tool_note::is_marked(&head) }))
}

/// Whether `path` holds anything (a missing file holds nothing).
fn has_entries<S: Sys>(sys: &S, path: &str) -> Result<bool> {
    match open_path(sys, path, OFlag::O_PATH, Trust::Any) {
        Ok(o) => Ok(o.stat.size > 0),
        Err(e) if matches!(e.errno_value(), Some(Errno::ENOENT | Errno::ENOTDIR)) => Ok(false),
        Err(e) => Err(e),
    }
}

fn c_strings(v: &[String]) -> Result<Vec<CString>> {
    v.iter()
        .map(|s| CString::new(s.as_bytes()).map_err(|_| Error::because(format!("use {s:?}"), "it contains a NUL byte")))
        .collect()
}

/// Runs `call` with `tool` when its profile has entries. Called with the
/// snap's lock held, inside the namespace the profile is for.
pub fn apply<S: Sys>(sys: &S, proc: &Proc, tool: Option<&Tool>, call: &ToolCall, instance: &str, debug: &Debug) -> Result<()> {
    if !has_entries(sys, &call.profile)? {
        debug.say(format_args!("{} is missing or empty: {TOOL} not needed", call.profile));
        return Ok(());
    }
    let what = format!("apply the mount profile of snap {instance}");
    let Some(tool) = tool else {
        return Err(Error::because(what, format!("{TOOL} is not installed next to the launcher")));
    };
    debug.say(format_args!("running {call} from {}", tool.path));
    let argv = c_strings(&call.argv)?;
    let envp = c_strings(&call.envp)?;
    let exit = sys
        .run_tool(
            proc,
            &ToolRun { exe: tool.fd.as_fd(), name: TOOL, argv: &argv, envp: &envp, label: call.label.as_deref(), real_ids: call.real_ids },
        )
        .map_err(|e| e.within(&what))?;
    match exit {
        ToolExit::Code(0) => Ok(()),
        ToolExit::Code(code) => Err(Error::because(what, format!("{TOOL} failed with code {code}"))),
        ToolExit::Signal(sig) => Err(Error::because(what, format!("{TOOL} was killed by signal {sig}"))),
    }
}

/// The caller's profile, when there is one with entries: only then does a
/// command need a namespace of its own for it.
pub fn user_call<'a, S: Sys>(sys: &S, calls: &'a Calls, debug: &Debug) -> Result<Option<&'a ToolCall>> {
    let Some(call) = &calls.user else { return Ok(None) };
    if has_entries(sys, &call.profile)? {
        return Ok(Some(call));
    }
    debug.say(format_args!("{} is missing or empty: nothing to apply", call.profile));
    Ok(None)
}

/// Applies the caller's profile `call` in the command's namespace (we are
/// in it, with the snap's lock held): in this process when `tool` is ours,
/// else by running it as [`apply`] does.
pub fn apply_user<S: Sys>(sys: &S, proc: &Proc, tool: Option<&Tool>, call: &ToolCall, instance: &InstanceName, debug: &Debug) -> Result<()> {
    if !tool.is_some_and(|t| t.native) {
        return apply(sys, proc, tool, call, instance.as_str(), debug);
    }
    if !has_entries(sys, &call.profile)? {
        debug.say(format_args!("{} is missing or empty: nothing to apply", call.profile));
        return Ok(());
    }
    let what = || format!("apply the mount profile of snap {instance}");
    let Some((uid, gid)) = call.real_ids else {
        return Err(Error::because(what(), "it is a user's profile but names no user"));
    };
    debug.say(format_args!("applying {} in the launcher, as user {uid} (our {TOOL} is next to it)", call.profile));
    let home = call.envp.iter().find_map(|v| v.strip_prefix("SNAP_REAL_HOME="));
    let ids = sys.ids()?;
    let caps = sys.get_caps()?;
    // File access as the caller (what is made is theirs, what they may not
    // reach stays out of reach), and nothing but CAP_SYS_ADMIN, for the
    // mounts: the tool's privileges under --user-mounts. The ids first,
    // while CAP_SETUID and CAP_SETGID are effective.
    let applied = sys
        .set_fs_ids(uid, gid)
        .and_then(|()| sys.set_caps(CapState { effective: caps.permitted & USER_MOUNT_CAPS, ..caps }))
        .and_then(|()| {
            let home = mount_profile::plausible_home(sys, home.map(OsStr::new), uid.as_raw());
            mount_profile::update_user(sys, proc, instance, uid.as_raw(), home, debug)
        });
    // Back to the set-up's privileges, whatever happened: the capabilities
    // first (CAP_SETUID and CAP_SETGID with them), then root's file ids.
    sys.set_caps(caps)?;
    sys.set_fs_ids(ids.euid, ids.egid)?;
    let outcome = applied.map_err(|e| e.within(what()))?;
    debug.say(format_args!("applied {} user mount changes", outcome.made.len()));
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::sys::fake::{cap_names, FakeSys};
    use std::ffi::OsString;

    fn env(pairs: &[(&str, &str)]) -> Env {
        pairs.iter().map(|(k, v)| (OsString::from(k), OsString::from(v))).collect()
    }

    fn enforcing() -> AppArmor {
        AppArmor::Enabled { label: "/usr/lib/snapd/snap-confine".into(), mode: Some("enforce".into()) }
    }

    #[test]
    fn the_system_call_is_what_snap_confine_runs() {
        let e = env(&[("XDG_RUNTIME_DIR", "/run/user/1000"), ("LD_PRELOAD", "/x.so"), ("HOME", "/home/u")]);
        let c = call(Profile::System, "hello_x1", &e, &enforcing(), false);
        assert_eq!(c.argv, ["snap-update-ns", "--from-snap-confine", "hello_x1"]);
        // Nothing of the caller's environment reaches the privileged tool.
        assert_eq!(c.envp, ["SNAPD_DEBUG=0"]);
        assert_eq!(c.label.as_deref(), Some("snap-update-ns.hello_x1"));
        assert_eq!(c.profile, "/var/lib/snapd/mount/snap.hello_x1.fstab");
        assert_eq!(
            c.to_string(),
            "env -i SNAPD_DEBUG=0 snap-update-ns --from-snap-confine hello_x1 (AppArmor label snap-update-ns.hello_x1)"
        );
    }

    #[test]
    fn the_user_call_passes_the_runtime_dir_and_home() {
        let e = env(&[("XDG_RUNTIME_DIR", "/run/user/1000"), ("SNAP_REAL_HOME", "/home/u"), ("PATH", "/bin")]);
        let c = call(Profile::User, "hello", &e, &AppArmor::NotApplicable, true);
        assert_eq!(c.argv, ["snap-update-ns", "--from-snap-confine", "--user-mounts", "hello"]);
        assert_eq!(c.envp, ["SNAPD_DEBUG=1", "XDG_RUNTIME_DIR=/run/user/1000", "SNAP_REAL_HOME=/home/u"]);
        assert_eq!(c.label, None);
        assert_eq!(c.profile, "/var/lib/snapd/mount/snap.hello.user-fstab");
        let bare = call(Profile::User, "hello", &env(&[]), &enforcing(), false);
        assert_eq!(bare.envp, ["SNAPD_DEBUG=0"]);
    }

    fn scene() -> FakeSys {
        let sys = FakeSys::new();
        sys.set_root_mode(0o755);
        sys.dir("/usr", 0o755);
        sys.dir("/usr/lib", 0o755);
        sys.dir("/usr/lib/snapd", 0o755);
        sys.file("/usr/lib/snapd/snap-update-ns", b"\x7fELF", 0o755);
        sys.file("/var/lib/snapd/mount/snap.hello.fstab", b"/snap/a /snap/hello/x1/a none bind,ro 0 0\n", 0o644);
        sys
    }

    #[test]
    fn the_tool_is_run_by_descriptor_with_its_label() {
        let sys = scene();
        let proc = sys.open_proc().unwrap();
        let tool = open_tool(&sys, "/usr/lib/snapd").unwrap().unwrap();
        let c = call(Profile::System, "hello", &env(&[]), &enforcing(), false);
        apply(&sys, &proc, Some(&tool), &c, "hello", &Debug::new(false)).unwrap();
        assert_eq!(
            sys.calls().last().unwrap(),
            "run_tool(/usr/lib/snapd/snap-update-ns, [snap-update-ns --from-snap-confine hello], [SNAPD_DEBUG=0], snap-update-ns.hello)"
        );
    }

    #[test]
    fn failures_carry_the_exit_status() {
        let sys = scene();
        let proc = sys.open_proc().unwrap();
        let tool = open_tool(&sys, "/usr/lib/snapd").unwrap().unwrap();
        let c = call(Profile::System, "hello", &env(&[]), &enforcing(), false);
        sys.tool_exit.set(ToolExit::Code(1));
        let e = apply(&sys, &proc, Some(&tool), &c, "hello", &Debug::new(false)).unwrap_err();
        assert_eq!(e.to_string(), "cannot apply the mount profile of snap hello: snap-update-ns failed with code 1");
        sys.tool_exit.set(ToolExit::Signal(9));
        let e = apply(&sys, &proc, Some(&tool), &c, "hello", &Debug::new(false)).unwrap_err();
        assert_eq!(e.to_string(), "cannot apply the mount profile of snap hello: snap-update-ns was killed by signal 9");
        sys.fail("run_tool", Errno::ENOENT);
        let e = apply(&sys, &proc, Some(&tool), &c, "hello", &Debug::new(false)).unwrap_err();
        assert!(e.to_string().starts_with("cannot apply the mount profile of snap hello: "), "{e}");
    }

    #[test]
    fn nothing_to_apply_starts_nothing() {
        let sys = scene();
        let proc = sys.open_proc().unwrap();
        let tool = open_tool(&sys, "/usr/lib/snapd").unwrap();
        let dbg = Debug::capturing();
        let user = call(Profile::User, "hello", &env(&[]), &enforcing(), false);
        apply(&sys, &proc, tool.as_ref(), &user, "hello", &dbg).unwrap();
        sys.file("/var/lib/snapd/mount/snap.hello.fstab", b"", 0o644);
        let system = call(Profile::System, "hello", &env(&[]), &enforcing(), false);
        apply(&sys, &proc, tool.as_ref(), &system, "hello", &dbg).unwrap();
        assert!(!sys.calls().iter().any(|c| c.starts_with("run_tool")), "{:?}", sys.calls());
        assert_eq!(
            dbg.lines(),
            [
                "DEBUG: /var/lib/snapd/mount/snap.hello.user-fstab is missing or empty: snap-update-ns not needed",
                "DEBUG: /var/lib/snapd/mount/snap.hello.fstab is missing or empty: snap-update-ns not needed"
            ]
        );
    }

    #[test]
    fn a_profile_without_the_tool_fails_closed() {
        let sys = scene();
        std::fs::remove_file(sys.path("/usr/lib/snapd/snap-update-ns")).unwrap();
        let proc = sys.open_proc().unwrap();
        let tool = open_tool(&sys, "/usr/lib/snapd").unwrap();
        assert!(tool.is_none());
        let c = call(Profile::System, "hello", &env(&[]), &enforcing(), false);
        let e = apply(&sys, &proc, tool.as_ref(), &c, "hello", &Debug::new(false)).unwrap_err();
        assert_eq!(e.to_string(), "cannot apply the mount profile of snap hello: snap-update-ns is not installed next to the launcher");
    }

    /// A user's namespace with their profile (an overname home entry), and
    /// `tool` (file content) next to the launcher.
    fn user_scene(tool: &[u8]) -> (FakeSys, ToolCall, InstanceName) {
        let sys = crate::mount_profile::perform::tests::namespace();
        sys.set_root_mode(0o755);
        for d in ["/usr/lib/snapd", "/var/lib/snapd/mount", "/home/u/snap/app_foo", "/home/u/snap/app", "/run/user/1000"] {
            sys.dir(d, 0o755);
        }
        sys.set_fs_type("/home", 0xef53);
        sys.file("/usr/lib/snapd/snap-update-ns", tool, 0o755);
        sys.file(
            "/var/lib/snapd/mount/snap.app_foo.user-fstab",
            b"$XDG_RUNTIME_DIR/doc/by-app/snap.app_foo $XDG_RUNTIME_DIR/doc none bind,rw,x-snapd.ignore-missing 0 0\n\
              $HOME/snap/app_foo $HOME/snap/app none rbind,x-snapd.origin=overname 0 0\n",
            0o644,
        );
        // The home must be the caller's.
        let me = caller();
        std::os::unix::fs::chown(sys.path("/home/u"), Some(me.0.as_raw()), Some(me.1.as_raw())).unwrap();
        let ids = Ids { ruid: me.0, rgid: me.1, ..crate::sys::fake::setuid_ids() };
        let e = env(&[("SNAP_REAL_HOME", "/home/u"), ("XDG_RUNTIME_DIR", "/run/user/1000")]);
        let instance = InstanceName::parse("app_foo").unwrap();
        let user = Calls::new(&instance, &e, &AppArmor::NotApplicable, &ids, false).user.unwrap();
        (sys, user, instance)
    }

    /// The caller of the launches: the test's user, or 1000 for root (root
    /// has no profile of its own applied).
    fn caller() -> (Uid, Gid) {
        match nix::unistd::getuid() {
            u if u.is_root() => (Uid::from_raw(1000), Gid::from_raw(1000)),
            u => (u, nix::unistd::getgid()),
        }
    }

    fn ours() -> Vec<u8> {
        crate::tool_note::elf(&crate::tool_note::NOTE.0, 4)
    }

    /// The calls that change privileges, mount or start a process.
    fn privileged(sys: &FakeSys) -> Vec<String> {
        let keep = ["set_fs_ids", "set_caps", "mount(", "run_tool"];
        sys.calls().into_iter().filter(|c| keep.iter().any(|k| c.starts_with(k))).collect()
    }

    #[test]
    fn our_tool_is_recognised_by_its_note() {
        let sys = scene();
        assert!(!open_tool(&sys, "/usr/lib/snapd").unwrap().unwrap().native, "a file without the note");
        sys.file("/usr/lib/snapd/snap-update-ns", &ours(), 0o755);
        assert!(open_tool(&sys, "/usr/lib/snapd").unwrap().unwrap().native);
    }

    #[test]
    fn with_our_tool_the_callers_profile_is_applied_in_the_launcher_as_the_caller() {
        let (sys, user, instance) = user_scene(&ours());
        let proc = sys.open_proc().unwrap();
        let tool = open_tool(&sys, "/usr/lib/snapd").unwrap();
        let dbg = Debug::capturing();
        apply_user(&sys, &proc, tool.as_ref(), &user, &instance, &dbg).unwrap();
        let (uid, gid) = caller();
        let all = cap_names(sys.initial_caps.permitted);
        assert_eq!(
            privileged(&sys),
            [
                format!("set_fs_ids({uid},{gid})"),
                format!("set_caps(e=sys_admin p={all} i=-)"),
                "mount(fd, /home/u/snap/app, -, MS_BIND|MS_REC, -)".to_string(),
                format!("set_caps(e={all} p={all} i=-)"),
                "set_fs_ids(0,1000)".to_string(),
            ]
        );
        assert!(dbg.lines().iter().any(|l| l.contains("applied 1 user mount changes")), "{:?}", dbg.lines());
    }

    #[test]
    fn snapds_tool_is_started_for_the_callers_profile() {
        let (sys, user, instance) = user_scene(b"\x7fELF\x02\x01 a Go program");
        let proc = sys.open_proc().unwrap();
        let tool = open_tool(&sys, "/usr/lib/snapd").unwrap();
        apply_user(&sys, &proc, tool.as_ref(), &user, &instance, &Debug::new(false)).unwrap();
        let (uid, gid) = caller();
        assert_eq!(
            privileged(&sys),
            [format!(
                "run_tool(/usr/lib/snapd/snap-update-ns, [snap-update-ns --from-snap-confine --user-mounts app_foo], \
                 [SNAPD_DEBUG=0 XDG_RUNTIME_DIR=/run/user/1000 SNAP_REAL_HOME=/home/u], -, real ids {uid}:{gid})"
            )]
        );
    }

    #[test]
    fn a_failure_in_the_launcher_fails_the_launch_and_gives_the_privileges_back() {
        let (sys, user, instance) = user_scene(&ours());
        let proc = sys.open_proc().unwrap();
        let tool = open_tool(&sys, "/usr/lib/snapd").unwrap();
        sys.fail("mount(", Errno::EPERM);
        let e = apply_user(&sys, &proc, tool.as_ref(), &user, &instance, &Debug::new(false)).unwrap_err().to_string();
        assert!(e.starts_with("cannot apply the mount profile of snap app_foo: "), "{e}");
        let calls = privileged(&sys);
        let all = cap_names(sys.initial_caps.permitted);
        assert_eq!(calls[calls.len() - 2..], [format!("set_caps(e={all} p={all} i=-)"), "set_fs_ids(0,1000)".to_string()]);
        // Nothing is tried when the ids cannot be changed.
        let (sys, user, instance) = user_scene(&ours());
        let tool = open_tool(&sys, "/usr/lib/snapd").unwrap();
        sys.fail(&format!("set_fs_ids({},", caller().0), Errno::EPERM);
        assert!(apply_user(&sys, &proc, tool.as_ref(), &user, &instance, &Debug::new(false)).is_err());
        let calls = privileged(&sys);
        assert!(!calls.iter().any(|c| c.starts_with("mount(")), "{calls:?}");
        assert_eq!(calls[calls.len() - 2..], [format!("set_caps(e={all} p={all} i=-)"), "set_fs_ids(0,1000)".to_string()]);
    }

    #[test]
    fn an_empty_profile_needs_nothing_in_the_launcher_either() {
        let (sys, user, instance) = user_scene(&ours());
        sys.file("/var/lib/snapd/mount/snap.app_foo.user-fstab", b"", 0o644);
        let proc = sys.open_proc().unwrap();
        let tool = open_tool(&sys, "/usr/lib/snapd").unwrap();
        apply_user(&sys, &proc, tool.as_ref(), &user, &instance, &Debug::new(false)).unwrap();
        assert_eq!(privileged(&sys), Vec::<String>::new());
    }

    #[test]
    fn an_untrusted_tool_is_refused() {
        let sys = scene();
        sys.file("/usr/lib/snapd/snap-update-ns", b"\x7fELF", 0o775);
        let e = open_tool(&sys, "/usr/lib/snapd").unwrap_err();
        assert_eq!(e.to_string(), "cannot use /usr/lib/snapd/snap-update-ns: it is not a root-owned file that only root may change");
        sys.file("/usr/lib/snapd/snap-update-ns", b"\x7fELF", 0o755);
        sys.dir("/usr/lib/snapd", 0o777);
        assert!(open_tool(&sys, "/usr/lib/snapd").unwrap_err().to_string().starts_with("cannot trust /usr/lib/snapd"));
        sys.dir("/usr/lib/snapd", 0o755);
        std::fs::remove_file(sys.path("/usr/lib/snapd/snap-update-ns")).unwrap();
        std::os::unix::fs::symlink("/bin/true", sys.path("/usr/lib/snapd/snap-update-ns")).unwrap();
        assert!(open_tool(&sys, "/usr/lib/snapd").is_err());
    }
}

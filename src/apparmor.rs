//! AppArmor: the launcher checks its own confinement, and arranges for the
//! app to be executed under the profile named by its security tag.
//!
//! On a kernel without AppArmor (or with AppArmor disabled at boot) both
//! steps do nothing, as in snap-confine; debug output says so.

use crate::config::{APPARMOR_ENABLED, LAUNCHER_PATH};
use crate::debug::Debug;
use crate::error::{Error, Result};
use crate::fs::read_small_file;
use crate::sys::{Ids, Proc, Sys};
use nix::errno::Errno;

/// What the kernel says about AppArmor and about us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppArmor {
    /// No AppArmor in this kernel, or disabled at boot.
    NotApplicable,
    /// AppArmor is on; our own label and its mode.
    Enabled { label: String, mode: Option<String> },
}

impl AppArmor {
    /// Confined means: our own profile, in enforce (or kill) mode.
    pub fn launcher_is_confined(&self) -> bool {
        match self {
            AppArmor::NotApplicable => false,
            AppArmor::Enabled { label, mode } => {
                label == LAUNCHER_PATH && matches!(mode.as_deref(), Some("enforce" | "kill"))
            }
        }
    }
}

/// Splits `label (mode)` as found in `attr/current`.
fn parse_label(current: &str) -> (String, Option<String>) {
    match current.strip_suffix(')').and_then(|s| s.rsplit_once(" (")) {
        Some((label, mode)) => (label.to_string(), Some(mode.to_string())),
        None => (current.to_string(), None),
    }
}

/// Finds out whether AppArmor is on and how the launcher is confined.
pub fn probe<S: Sys>(sys: &S, proc: &Proc, debug: &Debug) -> Result<AppArmor> {
    let enabled = match read_small_file(sys, APPARMOR_ENABLED, 16) {
        Ok(v) => v.first() == Some(&b'Y'),
        Err(e) if e.errno_value() == Some(Errno::ENOENT) => false,
        Err(e) => return Err(e.within("find out whether AppArmor is enabled")),
    };
    if !enabled {
        debug.say("AppArmor is not available in this kernel: apps run without an AppArmor label");
        return Ok(AppArmor::NotApplicable);
    }
    let current = sys.read_lsm_attr(proc, "current").map_err(|e| e.within("query the current AppArmor profile"))?;
    let (label, mode) = parse_label(&current);
    debug.say(format_args!("AppArmor is enabled; the launcher runs as {current:?}"));
    Ok(AppArmor::Enabled { label, mode })
}

/// Refuses to go on when AppArmor is enabled, the launcher is not confined by
/// its own profile in enforce mode, and the caller is not root: an
/// unconfined setuid launcher is exactly what an attacker would want (for
/// example a hard-linked or copied binary that the profile does not attach to).
pub fn check_launcher_confinement(aa: &AppArmor, ids: &Ids) -> Result<()> {
    if matches!(aa, AppArmor::Enabled { .. }) && !aa.launcher_is_confined() && !ids.ruid.is_root() {
        return Err(Error::because(
            "continue",
            format!(
                "snap-confine has elevated permissions and is not confined but should be. \
                 Refusing to continue to avoid permission escalation attacks\n\
                 Please make sure that the launcher's AppArmor profile ({LAUNCHER_PATH}) is loaded in enforce mode."
            ),
        ));
    }
    Ok(())
}

/// Proof that the exec label was set (or that there is no AppArmor).
#[derive(Debug)]
pub struct Labelled(());

/// Asks the kernel to switch to profile `label` at the next exec
/// (`change_onexec`), through the procfs handle checked at start.
pub fn change_onexec<S: Sys>(sys: &S, proc: &Proc, aa: &AppArmor, label: &str, debug: &Debug) -> Result<Labelled> {
    if *aa == AppArmor::NotApplicable {
        debug.say(format_args!("not changing the AppArmor profile to {label}: AppArmor is not available"));
        return Ok(Labelled(()));
    }
    match sys.write_lsm_attr(proc, "exec", &format!("exec {label}")) {
        Ok(()) => {
            debug.say(format_args!("the app will run under the AppArmor profile {label}"));
            Ok(Labelled(()))
        }
        Err(e) if e.errno_value() == Some(Errno::ENOENT) => Err(Error::because(
            format!("change the AppArmor profile for the next exec to {label}"),
            "the profile is not loaded\nPlease make sure that the snap's AppArmor profiles are generated and loaded.",
        )),
        Err(e) => Err(e.within(format!("change the AppArmor profile for the next exec to {label}"))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::sys::fake::{setuid_ids, FakeSys};

    #[test]
    fn labels() {
        assert_eq!(parse_label("unconfined"), ("unconfined".into(), None));
        assert_eq!(parse_label("snap.a.b (enforce)"), ("snap.a.b".into(), Some("enforce".into())));
        assert_eq!(parse_label("/a (b) (complain)"), ("/a (b)".into(), Some("complain".into())));
    }

    fn probe_with(enabled: Option<&[u8]>, current: &str) -> AppArmor {
        let mut sys = FakeSys::new();
        if let Some(v) = enabled {
            sys.file(APPARMOR_ENABLED, v, 0o444);
        }
        sys.lsm_current = current.into();
        let proc = sys.open_proc().unwrap();
        probe(&sys, &proc, &Debug::new(false)).unwrap()
    }

    #[test]
    fn probing() {
        assert_eq!(probe_with(None, "x"), AppArmor::NotApplicable);
        assert_eq!(probe_with(Some(b"N\n"), "x"), AppArmor::NotApplicable);
        let aa = probe_with(Some(b"Y\n"), &format!("{LAUNCHER_PATH} (enforce)"));
        assert!(aa.launcher_is_confined());
        assert!(!probe_with(Some(b"Y\n"), &format!("{LAUNCHER_PATH} (complain)")).launcher_is_confined());
        assert!(!probe_with(Some(b"Y\n"), "unconfined").launcher_is_confined());
        assert!(!probe_with(Some(b"Y\n"), "/tmp/copy/snap-confine (enforce)").launcher_is_confined());
    }

    #[test]
    fn refusal_when_unconfined_and_setuid() {
        let user = setuid_ids();
        let mut root = user;
        root.ruid = nix::unistd::Uid::from_raw(0);
        let unconfined = AppArmor::Enabled { label: "unconfined".into(), mode: None };
        let e = check_launcher_confinement(&unconfined, &user).unwrap_err().to_string();
        assert!(e.starts_with("cannot continue: snap-confine has elevated permissions and is not confined"), "{e}");
        assert!(check_launcher_confinement(&unconfined, &root).is_ok());
        assert!(check_launcher_confinement(&AppArmor::NotApplicable, &user).is_ok());
        let confined = AppArmor::Enabled { label: LAUNCHER_PATH.into(), mode: Some("enforce".into()) };
        assert!(check_launcher_confinement(&confined, &user).is_ok());
    }

    #[test]
    fn change_onexec_writes_the_label_or_fails_closed() {
        let sys = FakeSys::new();
        let proc = sys.open_proc().unwrap();
        let aa = AppArmor::Enabled { label: LAUNCHER_PATH.into(), mode: Some("enforce".into()) };
        change_onexec(&sys, &proc, &aa, "snap.a.b", &Debug::new(false)).unwrap();
        assert_eq!(sys.calls().last().unwrap(), "write_lsm_attr(exec, exec snap.a.b)");
        sys.fail("write_lsm_attr", Errno::ENOENT);
        let e = change_onexec(&sys, &proc, &aa, "snap.a.b", &Debug::new(false)).unwrap_err().to_string();
        assert!(e.starts_with("cannot change the AppArmor profile for the next exec to snap.a.b: the profile is not loaded"), "{e}");
        let dbg = Debug::capturing();
        change_onexec(&sys, &proc, &AppArmor::NotApplicable, "snap.a.b", &dbg).unwrap();
        assert_eq!(dbg.lines(), vec!["DEBUG: not changing the AppArmor profile to snap.a.b: AppArmor is not available"]);
    }
}

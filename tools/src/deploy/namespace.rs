//! A changed mount profile (a content plug connected or disconnected, a
//! new revision) reaching the snap's preserved mount namespace.
//!
//! * No preserved namespace: nothing to do; the next launch builds one
//!   from the new profile.
//! * A preserved namespace that no process of the snap uses (as the
//!   cgroups tell; without them it counts as used): it is
//!   discarded (`snap-discard-ns`), under the snap's lock so that no launch
//!   joins it meanwhile. The next launch builds a fresh one, exactly as a
//!   first launch would, instead of carrying what earlier updates left
//!   behind (the mimics a disconnected entry needed, say), and nothing is
//!   changed under an app's feet because there is none.
//! * A namespace in use: `snap-update-ns <instance>` updates it live (it
//!   takes the lock and freezes the snap's processes while it works): the
//!   only way the running apps see the change. What changed is unmounted,
//!   last first; what did not is kept.
//!
//! Only on the real system (root `/`); a failure is a warning: the policy
//! is in force, and the next launch after the apps stop gets it anyway.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::process::Command;

use nix::fcntl::{Flock, FlockArg};

use crate::paths::{Paths, LIBEXECDIR};

/// What was done to the namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refreshed {
    /// There was none.
    NoNamespace,
    /// It was not in use: discarded.
    Discarded,
    /// It was in use: updated live.
    Updated,
}

fn run(tool: &str, args: &[&str]) -> Result<(), String> {
    let path = format!("{LIBEXECDIR}/{tool}");
    let out = Command::new(&path).args(args).env_clear().output().map_err(|e| format!("cannot run {path}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    Err(format!("{tool} {} failed ({}): {text}", args.join(" "), out.status))
}

/// Brings the namespace of `instance` up to its mount profile.
pub fn refresh(paths: &Paths, instance: &str) -> Result<Refreshed, String> {
    if !paths.is_system() || !paths.ns_dir().join(format!("{instance}.mnt")).exists() {
        return Ok(Refreshed::NoNamespace);
    }
    let lock_path = format!("/run/snapd/lock/{instance}.lock");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&lock_path)
        .map_err(|e| format!("cannot open {lock_path}: {e}"))?;
    let lock = Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, e)| format!("cannot lock {lock_path}: {e}"))?;
    let sys = confine::sys::linux::LinuxSys::new();
    let proc = confine::sys::Sys::open_proc(&sys).map_err(|e| e.to_string())?;
    // Without process tracking there is no knowing: update it live.
    let tracked = confine::cgroup::layout(&sys) != confine::cgroup::Layout::None;
    // A failure to tell counts as in use: the namespace is then updated live.
    if tracked && !confine::cgroup::snap_in_use_from_host(&sys, &proc, instance).unwrap_or(true) {
        // With the lock held: no launch can join it meanwhile.
        run("snap-discard-ns", &["--from-snap-confine", instance])?;
        drop(lock);
        return Ok(Refreshed::Discarded);
    }
    drop(lock);
    run("snap-update-ns", &[instance])?;
    Ok(Refreshed::Updated)
}

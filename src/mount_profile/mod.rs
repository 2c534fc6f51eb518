//! The snap's mount profile, applied: what `snap-update-ns` does. The
//! binary (`src/bin/snap-update-ns.rs`, command line in [`tool`]) is a
//! second privileged program over the launcher's `sys`, `fs` and
//! `mountinfo` modules; the launcher runs it as snap-confine does
//! ([`crate::update_ns`]), and so does snapd's own `snap-update-ns`, which
//! may stand in for it: the files are the same.
//!
//! An update reads the desired profile (`/var/lib/snapd/mount/snap.<instance>.fstab`,
//! or `.user-fstab`) and the current one (`/run/snapd/ns/snap.<instance>.fstab`,
//! none for a user's), computes the changes as data ([`change`]), and
//! carries them out one by one ([`perform`]): each mount point made safely
//! ([`create`]) where the trespassing rules allow ([`assume`]), with a
//! writable mimic elsewhere ([`mimic`]). What is mounted afterwards is saved
//! as the new current profile, so that the next update (on `confine
//! connect`, say) only changes what changed. A layout or overname entry that
//! cannot be applied fails the update; other entries (content, fonts) are
//! reported and skipped, as snapd does.

pub mod assume;
pub mod change;
pub mod create;
pub mod dirs;
pub mod freeze;
pub mod mimic;
pub mod perform;
pub mod tool;

use crate::debug::Debug;
use crate::error::{Error, Result};
use crate::fs::{open_path, read_trusted_file, Trust};
use crate::ns::preserve::NS_DIR;
use crate::sys::{Proc, Sys};
use assume::Assumptions;
use change::{needed_changes, Action, Change, FsView};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use perform::{Failure, Performer};
use policy_cache::fstab::{MountEntry, MountProfile, Origin};
use std::ffi::OsStr;
use std::io::Write;
use std::os::fd::AsFd;

pub use crate::update_ns::MOUNT_POLICY_DIR;
/// Where each user's `$XDG_RUNTIME_DIR` is (`/run/user/<uid>`).
pub const XDG_RUNTIME_DIR_BASE: &str = "/run/user";

/// `/var/lib/snapd/mount/snap.<instance>.fstab`.
pub fn desired_system_profile(instance: &str) -> String {
    format!("{MOUNT_POLICY_DIR}/snap.{instance}.fstab")
}

/// `/var/lib/snapd/mount/snap.<instance>.user-fstab`.
pub fn desired_user_profile(instance: &str) -> String {
    format!("{MOUNT_POLICY_DIR}/snap.{instance}.user-fstab")
}

/// `snap.<instance>.fstab`, in [`NS_DIR`].
pub fn current_profile_name(instance: &str) -> String {
    format!("snap.{instance}.fstab")
}

/// Which profile an update applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The snap's namespace; the current profile is saved.
    System,
    /// A user's per-command namespace, as that user (nothing saved).
    User {
        uid: u32,
        /// Their home, when it was given and checked: `$HOME` in the
        /// profile stands for it, and they may make mount points in it.
        home: Option<String>,
    },
}

/// Reads a profile written by root; a missing one is empty.
pub fn load<S: Sys>(sys: &S, path: &str) -> Result<MountProfile> {
    let bytes = match read_trusted_file(sys, path, policy_cache::fstab::MAX_LEN) {
        Ok(b) => b,
        Err(e) if e.errno_value() == Some(Errno::ENOENT) => return Ok(MountProfile::default()),
        Err(e) => return Err(e.within("load a mount profile")),
    };
    let text = String::from_utf8(bytes).map_err(|_| Error::because(format!("use {path}"), "it is not UTF-8"))?;
    MountProfile::parse(&text).map_err(|e| Error::because(format!("use {path}"), e.to_string()))
}

/// `path` with a leading `$VAR` (the whole path, or its first component)
/// replaced by `value`.
fn expand_prefix(path: &str, var: &str, value: &str) -> Option<String> {
    let rest = path.strip_prefix(var)?;
    (rest.is_empty() || rest.starts_with('/')).then(|| format!("{value}{rest}"))
}

/// A user's profile with `$XDG_RUNTIME_DIR` (always `/run/user/<uid>`, as
/// snapd has it) and `$HOME` filled in. An entry needing `$HOME` when the
/// home is not known is an error.
pub fn expand_user(profile: &mut MountProfile, uid: u32, home: Option<&str>) -> Result<()> {
    let runtime = format!("{XDG_RUNTIME_DIR_BASE}/{uid}");
    for e in &mut profile.entries {
        for field in [&mut e.name, &mut e.dir] {
            if let Some(x) = expand_prefix(field, "$XDG_RUNTIME_DIR", &runtime) {
                *field = x;
            }
            if field.starts_with("$HOME") {
                let Some(h) = home else {
                    return Err(Error::because(format!("expand mount entry {e_line}", e_line = field), "the user's home directory is not known"));
                };
                if let Some(x) = expand_prefix(field, "$HOME", h) {
                    *field = x;
                }
            }
        }
    }
    Ok(())
}

/// The namespace as the change computation sees it: through `Sys`,
/// nothing followed.
struct SysView<'a, S: Sys>(&'a S);

impl<S: Sys> SysView<'_, S> {
    fn kind(&self, path: &str) -> Option<u32> {
        if path == "/" {
            return Some(libc::S_IFDIR);
        }
        let dir = open_path(self.0, &change::parent(path), OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::Any).ok()?;
        let name = path.rsplit('/').next()?;
        self.0.lstatat(dir.fd.as_fd(), OsStr::new(name)).ok().map(|st| st.mode & libc::S_IFMT)
    }
}

impl<S: Sys> FsView for SysView<'_, S> {
    fn is_dir(&self, path: &str) -> bool {
        self.kind(path) == Some(libc::S_IFDIR)
    }
    fn is_file(&self, path: &str) -> bool {
        self.kind(path) == Some(libc::S_IFREG)
    }
    fn is_symlink(&self, path: &str) -> bool {
        self.kind(path) == Some(libc::S_IFLNK)
    }
}

/// What an update did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// What is mounted now (the new current profile).
    pub current: MountProfile,
    /// The changes made, synthetic ones included.
    pub made: Vec<Change>,
    /// The changes that failed and were skipped, with why.
    pub skipped: Vec<(Change, String)>,
}

/// Says that a change was skipped, as snapd's `snap-update-ns` does.
fn notice(change: &Change, why: &Error) {
    let _ = writeln!(std::io::stderr(), "snap-update-ns: cannot change mount namespace according to change {change}: {why}");
}

/// One update: of which snap, which profile, from what to what.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub instance: &'a str,
    /// The snap's name (differs from the instance for a parallel instance).
    pub snap_name: &'a str,
    pub target: &'a Target,
    pub current: &'a MountProfile,
    pub desired: &'a MountProfile,
}

/// Applies `req.desired` over `req.current` in the namespace we are in. A
/// layout or overname entry that fails stops the update; anything else is
/// reported and skipped. The outcome says what is mounted either way.
pub fn update<S: Sys>(sys: &S, proc: &Proc, req: &Request<'_>, debug: &Debug) -> (Outcome, Result<()>) {
    let (current, desired) = (req.current, req.desired);
    let (mut assumptions, as_user) = match req.target {
        Target::System => (Assumptions::system(req.instance, req.snap_name), false),
        Target::User { home, .. } => (Assumptions::user(home.as_deref()), true),
    };
    for e in &current.entries {
        assumptions.add_change(&Change::new(Action::Mount, e.clone()));
    }
    let changes = needed_changes(&current.entries, &desired.entries, &SysView(sys));
    debug.say(format_args!("{} changes needed", changes.len()));
    let mut performer = Performer { sys, proc, assumptions, as_user, debug, dirs: Default::default() };
    let mut outcome = Outcome::default();
    let mut result = Ok(());
    for change in &changes {
        let (synthetic, done) = performer.perform(change);
        outcome.made.extend(synthetic);
        match done {
            Ok(()) => outcome.made.push(change.clone()),
            Err(Failure::IgnoredMissing) => debug.say(format_args!("skipped (missing, ignored): {change}")),
            Err(Failure::Fatal(e)) => {
                result = Err(e);
                break;
            }
            Err(Failure::Failed(e)) => {
                if matches!(change.entry.origin(), Origin::Layout | Origin::Overname) {
                    result = Err(e.within(format!("apply {change}")));
                    break;
                }
                notice(change, &e);
                outcome.skipped.push((change.clone(), e.to_string()));
            }
        }
    }
    let entries: Vec<MountEntry> =
        outcome.made.iter().filter(|c| matches!(c.action, Action::Mount | Action::Keep)).map(|c| c.entry.clone()).collect();
    outcome.current = MountProfile { entries };
    (outcome, result)
}

/// Saves the current profile of the snap's namespace, atomically (a new
/// file renamed over the old one), root-owned, 0644.
pub fn save_current<S: Sys>(sys: &S, instance: &str, profile: &MountProfile) -> Result<()> {
    let dir = open_path(sys, NS_DIR, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::RootOwned)?;
    let name = current_profile_name(instance);
    let temp = format!("{name}.{}", sys.random_suffix()?);
    let what = || format!("save the current mount profile {NS_DIR}/{name}");
    let fd = sys
        .openat(dir.fd.as_fd(), OsStr::new(&temp), OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY, Mode::from_bits_truncate(0o644))
        .map_err(|e| e.within(what()))?;
    let written = sys.write_all(fd.as_fd(), profile.to_string().as_bytes()).and_then(|()| {
        let (uid, gid) = sys.trusted_owner();
        sys.fchown(fd.as_fd(), uid, gid)
    });
    drop(fd);
    let renamed = written.and_then(|()| sys.renameat(dir.fd.as_fd(), OsStr::new(&temp), OsStr::new(&name)).map_err(|e| Error::errno("rename", e)));
    if let Err(e) = renamed {
        let _ = sys.unlinkat(dir.fd.as_fd(), OsStr::new(&temp), false);
        return Err(e.within(what()));
    }
    Ok(())
}

/// The whole update of the snap's namespace (we are in it, with its lock
/// held): load, apply, save.
pub fn update_system<S: Sys>(sys: &S, proc: &Proc, instance: &naming::InstanceName, debug: &Debug) -> Result<Outcome> {
    let name = instance.as_str();
    let desired = load(sys, &desired_system_profile(name))?;
    let current = load(sys, &format!("{NS_DIR}/{}", current_profile_name(name)))?;
    debug.say(format_args!("{} desired entries, {} current", desired.entries.len(), current.entries.len()));
    let req = Request { instance: name, snap_name: instance.snap_name(), target: &Target::System, current: &current, desired: &desired };
    let (outcome, result) = update(sys, proc, &req, debug);
    save_current(sys, name, &outcome.current)?;
    result.map(|()| outcome)
}

/// The whole update of a user's namespace (we are in it, as the user):
/// load, expand, apply.
pub fn update_user<S: Sys>(
    sys: &S,
    proc: &Proc,
    instance: &naming::InstanceName,
    uid: u32,
    home: Option<String>,
    debug: &Debug,
) -> Result<Outcome> {
    let name = instance.as_str();
    let mut desired = load(sys, &desired_user_profile(name))?;
    if desired.entries.is_empty() {
        return Ok(Outcome::default());
    }
    expand_user(&mut desired, uid, home.as_deref())?;
    let target = Target::User { uid, home };
    let none = MountProfile::default();
    let req = Request { instance: name, snap_name: instance.snap_name(), target: &target, current: &none, desired: &desired };
    let (outcome, result) = update(sys, proc, &req, debug);
    result.map(|()| outcome)
}

/// The caller's home, if `candidate` is one: absolute, clean, a directory
/// reached without any symlink, owned by `uid`. Checked as the caller.
pub fn plausible_home<S: Sys>(sys: &S, candidate: Option<&OsStr>, uid: u32) -> Option<String> {
    let text = candidate?.to_str()?;
    if text.is_empty() || change::clean(text) != text || !text.starts_with('/') || text == "/" {
        return None;
    }
    let opened = open_path(sys, text, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::Any).ok()?;
    (opened.stat.is_dir_type() && opened.stat.uid == uid).then(|| text.to_owned())
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;

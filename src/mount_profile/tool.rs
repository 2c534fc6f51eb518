//! `snap-update-ns`: the command line snapd and the launcher use.
//!
//! ```text
//! snap-update-ns [--from-snap-confine] INSTANCE           the snap's namespace
//! snap-update-ns --from-snap-confine --user-mounts INSTANCE  the caller's
//! snap-update-ns -u UID INSTANCE                           (per-user namespaces are never kept: nothing to do)
//! ```
//!
//! * From the launcher (`--from-snap-confine`), it runs in the namespace
//!   being built, with the snap's lock held by the launcher (checked).
//! * From snapd or our tools (no option), it joins the preserved namespace
//!   `/run/snapd/ns/<instance>.mnt` (none: nothing to update), takes the
//!   snap's lock and freezes the snap's processes while it works.
//! * `--user-mounts`: the caller's profile, as the caller (real ids), with
//!   only `CAP_SYS_ADMIN` kept.
//!
//! It needs root's privileges for the snap's namespace (the launcher runs
//! it with effective uid 0, snapd as root): then every id becomes root, so
//! the user who started the launch cannot signal it, and only the
//! capabilities it uses stay. Its environment is ignored but for
//! `SNAPD_DEBUG` (and `SNAP_REAL_HOME`, checked as the caller, for user
//! mounts). Errors: one `cannot update snap namespace: ...` line, exit 1.

use super::{freeze, plausible_home, update_system, update_user};
use crate::debug::Debug;
use crate::error::{Error, Result};
use crate::fs::{open_path, Trust};
use crate::lock::{self, LOCK_DIR};
use crate::ns::preserve;
use crate::settings::{lookup, Env};
use crate::sys::{CapState, Sys};
use caps::Capability;
use naming::InstanceName;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use nix::unistd::{Gid, Uid};
use std::ffi::{OsStr, OsString};
use std::os::fd::AsFd;

pub const USAGE: &str = "Usage: snap-update-ns [--from-snap-confine] [--user-mounts] [-u UID] SNAP_INSTANCE_NAME";

const fn bit(c: Capability) -> u64 {
    1u64 << (c as u8)
}

/// What updating the snap's namespace needs (setns needs `CAP_SYS_CHROOT`).
const SYSTEM_CAPS: u64 =
    bit(Capability::CAP_SYS_ADMIN) | bit(Capability::CAP_SYS_CHROOT) | bit(Capability::CAP_CHOWN) | bit(Capability::CAP_DAC_OVERRIDE);
/// What snapd's snap-update-ns checks it was given.
const REQUIRED_CAPS: &[(Capability, &str)] =
    &[(Capability::CAP_SYS_ADMIN, "cap_sys_admin"), (Capability::CAP_CHOWN, "cap_chown"), (Capability::CAP_DAC_OVERRIDE, "cap_dac_override")];
const USER_CAPS: u64 = bit(Capability::CAP_SYS_ADMIN);

/// The parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    pub from_snap_confine: bool,
    pub user_mounts: bool,
    /// `-u UID`: a per-user namespace kept for UID.
    pub uid: Option<u32>,
    pub instance: InstanceName,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Update(Args),
}

pub fn parse(argv: &[OsString]) -> Result<Command> {
    let mut from_snap_confine = false;
    let mut user_mounts = false;
    let mut uid = None;
    let mut name: Option<String> = None;
    let mut it = argv.iter().skip(1);
    while let Some(arg) = it.next() {
        let arg = arg.to_str().ok_or_else(|| Error::because("parse arguments", "an argument is not UTF-8"))?;
        match arg {
            "--help" | "-h" => return Ok(Command::Help),
            "--from-snap-confine" => from_snap_confine = true,
            "--user-mounts" => user_mounts = true,
            "-u" => {
                let v = it.next().and_then(|v| v.to_str()).ok_or_else(|| Error::because("parse arguments", "-u requires an argument"))?;
                if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(Error::because("parse arguments", "cannot parse user id"));
                }
                uid = Some(v.parse::<u32>().map_err(|_| Error::because("parse arguments", "cannot parse user id"))?);
                user_mounts = true;
            }
            a if a.starts_with('-') => return Err(Error::because("parse arguments", format!("unsupported option {a}\n{USAGE}"))),
            a if name.is_some() => return Err(Error::because("parse arguments", format!("too many positional arguments ({a})\n{USAGE}"))),
            a => name = Some(a.to_owned()),
        }
    }
    let name = name.ok_or_else(|| Error::because("parse arguments", format!("snap name not provided\n{USAGE}")))?;
    let instance = InstanceName::parse(&name).map_err(|e| Error::because(format!("use snap instance name {name:?}"), e.to_string()))?;
    Ok(Command::Update(Args { from_snap_confine, user_mounts, uid, instance }))
}

/// Keeps exactly `keep` (which must be at hand) and nothing inheritable
/// or ambient.
fn narrow<S: Sys>(sys: &S, keep: u64) -> Result<()> {
    sys.clear_ambient_caps()?;
    sys.set_caps(CapState { effective: keep, permitted: keep, inheritable: 0 })
}

/// Root for the snap's namespace: every id 0, the capabilities it uses.
fn become_root<S: Sys>(sys: &S) -> Result<()> {
    let ids = sys.ids()?;
    let caps = sys.get_caps()?;
    if !ids.euid.is_root() {
        return Err(Error::because("update the snap's namespace", "snap-update-ns must run as root (snap-confine runs it so)"));
    }
    for (cap, name) in REQUIRED_CAPS {
        if caps.effective & bit(*cap) == 0 {
            return Err(Error::because("update the snap's namespace", format!("missing capability {name}")));
        }
    }
    let root_g = Gid::from_raw(0);
    let root_u = Uid::from_raw(0);
    sys.setresgid(root_g, root_g, root_g)?;
    sys.setresuid(root_u, root_u, root_u)?;
    narrow(sys, SYSTEM_CAPS & caps.permitted)?;
    sys.set_dumpable(false)
}

/// The caller for a user's profile: real ids everywhere, `CAP_SYS_ADMIN` only.
fn become_caller<S: Sys>(sys: &S) -> Result<()> {
    let ids = sys.ids()?;
    let caps = sys.get_caps()?;
    if caps.permitted & USER_CAPS == 0 {
        return Err(Error::because("apply the user's mount profile", "missing capability cap_sys_admin"));
    }
    if ids.ruid != ids.euid || ids.rgid != ids.egid || ids.suid != ids.ruid || ids.sgid != ids.rgid {
        sys.set_keep_caps(true)?;
        sys.setresgid(ids.rgid, ids.rgid, ids.rgid)?;
        sys.setresuid(ids.ruid, ids.ruid, ids.ruid)?;
        sys.set_keep_caps(false)?;
    }
    narrow(sys, USER_CAPS)?;
    sys.set_dumpable(false)
}

/// Checks that whoever runs us holds the snap's lock (the launcher does).
fn check_locked<S: Sys>(sys: &S, instance: &str) -> Result<()> {
    let dir = open_path(sys, LOCK_DIR, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::RootOwned)?;
    let fd = sys.openat(dir.fd.as_fd(), OsStr::new(&format!("{instance}.lock")), OFlag::O_RDWR, Mode::empty())?;
    if sys.try_lock(fd.as_fd())? {
        return Err(Error::because(
            format!("update the namespace of snap {instance}"),
            "it is not locked but --from-snap-confine was used",
        ));
    }
    Ok(())
}

/// The whole command. `Ok(Some(text))` is printed (`--help`).
pub fn run<S: Sys>(sys: &S, argv: Vec<OsString>, env: Env) -> Result<Option<String>> {
    let args = match parse(&argv)? {
        Command::Help => return Ok(Some(format!("{USAGE}\n"))),
        Command::Update(a) => a,
    };
    let debug = Debug::new(lookup(&env, "SNAPD_DEBUG").and_then(OsStr::to_str).is_some_and(|v| matches!(v, "1" | "true" | "yes")));
    sys.umask(Mode::empty());
    let proc = sys.open_proc()?;
    let instance = &args.instance;
    if args.user_mounts {
        if args.uid.is_some() {
            // Per-user namespaces are never preserved: there is none to update.
            debug.say("no preserved per-user mount namespace, nothing to update");
            return Ok(None);
        }
        let ids = sys.ids()?;
        become_caller(sys)?;
        let uid = ids.ruid.as_raw();
        let home = plausible_home(sys, lookup(&env, "SNAP_REAL_HOME"), uid);
        let outcome = update_user(sys, &proc, instance, uid, home, &debug)?;
        debug.say(format_args!("applied {} user mount changes", outcome.made.len()));
        return Ok(None);
    }
    become_root(sys)?;
    if args.from_snap_confine {
        check_locked(sys, instance.as_str())?;
        update_system(sys, &proc, instance, &debug)?;
        return Ok(None);
    }
    // Called to update a live namespace: join it, if it exists.
    let ns_dir = match open_path(sys, preserve::NS_DIR, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::RootOwned) {
        Ok(d) => d.fd,
        Err(e) if e.errno_value() == Some(Errno::ENOENT) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(preserved) = preserve::open(sys, &proc, ns_dir.as_fd(), instance.as_str())? else {
        debug.say("no preserved mount namespace, nothing to update");
        return Ok(None);
    };
    let _lock = lock::acquire(sys, &proc, instance.as_str(), &debug)?;
    sys.setns_mount(preserved.fd.as_fd())?;
    let frozen = freeze::freeze(sys, &proc, instance.as_str())?;
    let result = update_system(sys, &proc, instance, &debug);
    freeze::thaw(sys, frozen);
    let outcome = result?;
    debug.say(format_args!("made {} changes", outcome.made.len()));
    Ok(None)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn args(a: &[&str]) -> Result<Command> {
        let mut v = vec![OsString::from("snap-update-ns")];
        v.extend(a.iter().map(OsString::from));
        parse(&v)
    }

    #[test]
    fn command_lines() {
        let Command::Update(a) = args(&["--from-snap-confine", "foo_bar"]).unwrap() else { panic!() };
        assert!(a.from_snap_confine && !a.user_mounts && a.uid.is_none());
        assert_eq!(a.instance.as_str(), "foo_bar");
        let Command::Update(a) = args(&["--from-snap-confine", "--user-mounts", "foo"]).unwrap() else { panic!() };
        assert!(a.user_mounts);
        let Command::Update(a) = args(&["-u", "1000", "foo"]).unwrap() else { panic!() };
        assert_eq!((a.uid, a.user_mounts), (Some(1000), true));
        assert_eq!(args(&["--help"]).unwrap(), Command::Help);
        for (bad, msg) in [
            (&["--frobnicate", "foo"][..], "unsupported option --frobnicate"),
            (&["foo", "bar"][..], "too many positional arguments"),
            (&[][..], "snap name not provided"),
            (&["-u"][..], "-u requires an argument"),
            (&["-u", " 1", "foo"][..], "cannot parse user id"),
            (&["-u", "-1", "foo"][..], "cannot parse user id"),
            (&["Foo"][..], "cannot use snap instance name \"Foo\""),
            (&["foo_bar_baz"][..], "cannot use snap instance name"),
        ] {
            let e = args(bad).unwrap_err().to_string();
            assert!(e.contains(msg), "{bad:?}: {e}");
        }
    }
}

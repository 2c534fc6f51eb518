//! Process hygiene: the working directory and umask are set aside while the
//! launcher works (so relative paths and the caller's umask cannot steer it)
//! and given back to the app at the end.

use crate::config::VOID_DIR;
use crate::debug::Debug;
use crate::error::{Context, Error, Result};
use crate::fs::{open_path, Trust};
use crate::sys::{Proc, Sys};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use std::os::fd::{AsFd, OwnedFd};

/// What the caller had, to give back before exec.
#[derive(Debug)]
pub struct Saved {
    umask: Mode,
    cwd: OwnedFd,
    /// The path of the working directory, for finding it again inside a
    /// new root (the descriptor would lead back out of it).
    cwd_path: Option<String>,
}

/// Sets umask 0 and moves to `/`, keeping the old values.
pub fn save_and_sanitize<S: Sys>(sys: &S, proc: &Proc) -> Result<Saved> {
    let umask = sys.umask(Mode::empty());
    let cwd = sys.open_cwd()?;
    let cwd_path = sys.readlink_proc(proc, &format!("{}/cwd", sys.pid())).ok().and_then(|p| p.into_string().ok());
    sys.chdir_root()?;
    Ok(Saved { umask, cwd, cwd_path })
}

/// Changes to the saved directory by its path, looked up again from the
/// current root as the caller (as snap-confine does, so a directory the
/// caller cannot reach is not entered, and inside a new root the path finds
/// the directory there). Only where the path is unknown does the descriptor
/// serve, and only when the root did not change (it would lead back out).
fn enter_saved<S: Sys>(sys: &S, saved: &Saved, new_root: bool) -> Result<()> {
    let Some(path) = saved.cwd_path.as_deref().filter(|p| p.starts_with('/')) else {
        if new_root {
            return Err(Error::errno("find the working directory", Errno::ENOENT));
        }
        return sys.fchdir(saved.cwd.as_fd());
    };
    let root = sys.root()?;
    let dir = sys
        .open_in_root(root.as_fd(), path.trim_start_matches('/'), OFlag::O_PATH | OFlag::O_DIRECTORY)
        .map_err(|e| e.within(format!("find the working directory {path}")))?;
    sys.fchdir(dir.as_fd())
}

/// Restores the umask and the working directory. It runs with the caller's
/// identity, so a directory the caller may not enter is not entered: the app
/// starts in the void directory instead, as with snap-confine.
pub fn restore<S: Sys>(sys: &S, saved: Saved, new_root: bool, debug: &Debug) -> Result<()> {
    sys.umask(saved.umask);
    match enter_saved(sys, &saved, new_root) {
        Ok(()) => Ok(()),
        Err(e) if matches!(e.errno_value(), Some(Errno::EACCES | Errno::EPERM | Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP)) => {
            debug.say(format_args!("{e}; moving to {VOID_DIR}"));
            let void = open_path(sys, VOID_DIR, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::RootOwned)
                .context(|| "keep the working directory")?;
            sys.fchdir(void.fd.as_fd()).context(|| format!("move to {VOID_DIR}"))
        }
        Err(e) => Err(e),
    }
}

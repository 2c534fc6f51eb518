//! Process hygiene: the working directory and umask are set aside while the
//! launcher works (so relative paths and the caller's umask cannot steer it)
//! and given back to the app at the end.

use crate::config::VOID_DIR;
use crate::debug::Debug;
use crate::error::{Context, Result};
use crate::fs::{open_path, Trust};
use crate::sys::Sys;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use std::os::fd::{AsFd, OwnedFd};

/// What the caller had, to give back before exec.
#[derive(Debug)]
pub struct Saved {
    umask: Mode,
    cwd: OwnedFd,
}

/// Sets umask 0 and moves to `/`, keeping the old values.
pub fn save_and_sanitize<S: Sys>(sys: &S) -> Result<Saved> {
    let umask = sys.umask(Mode::empty());
    let cwd = sys.open_cwd()?;
    sys.chdir_root()?;
    Ok(Saved { umask, cwd })
}

/// Restores the umask and the working directory. It runs with the caller's
/// identity, so a directory the caller may not enter is not entered: the app
/// starts in the void directory instead, as with snap-confine.
pub fn restore<S: Sys>(sys: &S, saved: Saved, debug: &Debug) -> Result<()> {
    sys.umask(saved.umask);
    match sys.fchdir(saved.cwd.as_fd()) {
        Ok(()) => Ok(()),
        Err(e) if matches!(e.errno_value(), Some(Errno::EACCES | Errno::EPERM | Errno::ENOENT)) => {
            debug.say(format_args!("{e}; moving to {VOID_DIR}"));
            let void = open_path(sys, VOID_DIR, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::RootOwned)
                .context(|| "keep the working directory")?;
            sys.fchdir(void.fd.as_fd()).context(|| format!("move to {VOID_DIR}"))
        }
        Err(e) => Err(e),
    }
}

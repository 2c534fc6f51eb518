//! Locks under `/run/snapd/lock`: `.lock` for the global mount namespace
//! set-up, `<instance>.lock` per snap. Files are 0600 root-owned in a
//! root-owned directory, so no user can hold them; a lock that cannot be
//! taken within the timeout stops the launch (it never proceeds unlocked).

use crate::debug::Debug;
use crate::error::{Error, Result};
use crate::fs::{open_path, Trust};
use crate::sys::Sys;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

pub const LOCK_DIR: &str = "/run/snapd/lock";
/// How long to wait for a lock before giving up.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(5);

/// A held lock; dropping it closes the file, which releases the lock.
#[derive(Debug)]
pub struct Lock {
    _fd: OwnedFd,
    pub name: String,
}

/// Creates the root-owned directories of `path` as needed (0755).
pub fn mkpath_root<S: Sys>(sys: &S, path: &str) -> Result<OwnedFd> {
    let mut dir = sys.root()?;
    for part in crate::fs::components(path)? {
        match sys.mkdirat(dir.as_fd(), OsStr::new(part), Mode::from_bits_truncate(0o755)) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => return Err(Error::errno(format!("create {path}"), e)),
        }
        dir = sys.openat(dir.as_fd(), OsStr::new(part), OFlag::O_PATH | OFlag::O_DIRECTORY, Mode::empty())?;
    }
    Ok(dir)
}

/// Takes `/run/snapd/lock/<name>.lock` (`name` empty for the global lock).
pub fn acquire<S: Sys>(sys: &S, name: &str, debug: &Debug) -> Result<Lock> {
    mkpath_root(sys, LOCK_DIR)?;
    // The directory must be ours before a file in it is trusted.
    open_path(sys, LOCK_DIR, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::RootOwned)?;
    let file = format!("{name}.lock");
    let path = format!("{LOCK_DIR}/{file}");
    let dir = open_path(sys, LOCK_DIR, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::RootOwned)?;
    let fd = sys
        .openat(dir.fd.as_fd(), OsStr::new(&file), OFlag::O_CREAT | OFlag::O_RDWR, Mode::from_bits_truncate(0o600))
        .map_err(|e| e.within(format!("open {path}")))?;
    let st = sys.fstat(fd.as_fd())?;
    if !st.is_file() || (st.uid, st.gid) != sys.trusted_owner() || st.perms() & 0o077 != 0 {
        return Err(Error::because(format!("use {path}"), "it is not a root-owned 0600 file"));
    }
    let mut waited = Duration::ZERO;
    while !sys.try_lock(fd.as_fd())? {
        if waited >= LOCK_TIMEOUT {
            return Err(Error::because(format!("lock {path}"), format!("timed out after {} s", LOCK_TIMEOUT.as_secs())));
        }
        if waited.is_zero() {
            debug.say(format_args!("waiting for {path}"));
        }
        sys.sleep(POLL);
        waited += POLL;
    }
    Ok(Lock { _fd: fd, name: path })
}

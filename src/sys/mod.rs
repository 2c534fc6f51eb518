//! Every side effect of the launcher goes through the [`Sys`] trait.
//!
//! [`linux::LinuxSys`] is the real implementation and the only place with
//! `unsafe` code. The test implementation (`fake::FakeSys`) records the calls
//! in order, can fail any of them, and resolves paths under a temporary root,
//! so the launcher's logic and its order of operations are testable without
//! root.

pub mod linux;

#[cfg(test)]
pub mod fake;

use crate::error::{Error, Result};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use nix::unistd::{Gid, Uid};
use policy_cache::Program;
use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::fd::{BorrowedFd, OwnedFd};
use std::time::Duration;

/// Real, effective and saved user and group ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ids {
    pub ruid: Uid,
    pub euid: Uid,
    pub suid: Uid,
    pub rgid: Gid,
    pub egid: Gid,
    pub sgid: Gid,
}

impl Ids {
    /// The caller's own identity on all three ids.
    pub fn caller(&self) -> Ids {
        Ids { ruid: self.ruid, euid: self.ruid, suid: self.ruid, rgid: self.rgid, egid: self.rgid, sgid: self.rgid }
    }
}

/// The parts of `struct stat` the launcher looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStat {
    pub uid: u32,
    pub gid: u32,
    /// File type and permission bits (`st_mode`).
    pub mode: u32,
    pub size: u64,
    pub dev: u64,
    pub ino: u64,
}

impl FileStat {
    pub fn is_file(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFREG
    }
    /// Permission bits only.
    pub fn perms(&self) -> u32 {
        self.mode & 0o7777
    }
}

/// The three capability sets, as bit masks (bit n = capability n).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CapState {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
}

/// A directory handle on a procfs root that was checked to be procfs.
#[derive(Debug)]
pub struct Proc(pub OwnedFd);

/// Side effects of the launcher. Methods map one to one onto system calls or
/// small fixed sequences of them.
pub trait Sys {
    // Process state.
    /// `getauxval(AT_SECURE)`: whether the kernel started us in secure mode.
    fn at_secure(&self) -> bool;
    /// Makes sure descriptors 0, 1 and 2 are open, on `/dev/null` if not.
    fn ensure_stdio(&self) -> Result<()>;
    fn set_dumpable(&self, dumpable: bool) -> Result<()>;
    fn ids(&self) -> Result<Ids>;
    fn pid(&self) -> i32;
    fn umask(&self, mask: Mode) -> Mode;
    /// Opens the current working directory (`O_PATH`).
    fn open_cwd(&self) -> Result<OwnedFd>;
    fn chdir_root(&self) -> Result<()>;
    fn fchdir(&self, dir: BorrowedFd<'_>) -> Result<()>;
    fn sleep(&self, d: Duration);

    // Files, always relative to a directory handle.
    /// The directory all absolute paths are resolved from (`/`).
    fn root(&self) -> Result<OwnedFd>;
    /// The owner files must have to be trusted (root:root).
    fn trusted_owner(&self) -> (u32, u32);
    /// `openat(dir, name, flags | O_NOFOLLOW | O_CLOEXEC, mode)`; `name` is
    /// a single component.
    fn openat(&self, dir: BorrowedFd<'_>, name: &OsStr, flags: OFlag, mode: Mode) -> Result<OwnedFd>;
    fn mkdirat(&self, dir: BorrowedFd<'_>, name: &OsStr, mode: Mode) -> std::result::Result<(), Errno>;
    fn fstat(&self, fd: BorrowedFd<'_>) -> Result<FileStat>;
    /// Reads the whole file, failing when it holds more than `max` bytes.
    fn read_bounded(&self, fd: BorrowedFd<'_>, max: usize) -> Result<Vec<u8>>;

    // procfs.
    /// Opens `/proc`, checking that it is the root of a procfs.
    fn open_proc(&self) -> Result<Proc>;
    /// `readlink /proc/<pid>/exe`.
    fn own_exe(&self, proc: &Proc) -> Result<OsString>;
    /// Reads `/proc/<pid>/attr/apparmor/<name>` (or `attr/<name>`).
    fn read_lsm_attr(&self, proc: &Proc, name: &str) -> Result<String>;
    /// Writes `/proc/<pid>/attr/apparmor/<name>` (or `attr/<name>`) in one write.
    fn write_lsm_attr(&self, proc: &Proc, name: &str, value: &str) -> Result<()>;

    // Privileges.
    fn get_caps(&self) -> Result<CapState>;
    fn set_caps(&self, caps: CapState) -> Result<()>;
    fn clear_ambient_caps(&self) -> Result<()>;
    fn set_keep_caps(&self, keep: bool) -> Result<()>;
    fn setresgid(&self, r: Gid, e: Gid, s: Gid) -> Result<()>;
    fn setresuid(&self, r: Uid, e: Uid, s: Uid) -> Result<()>;

    // The end.
    /// Loads one seccomp program (no `PR_SET_NO_NEW_PRIVS`: the caller holds
    /// `CAP_SYS_ADMIN`).
    fn load_seccomp(&self, program: &Program) -> Result<()>;
    /// `execve`; returns only on failure.
    fn execve(&self, path: &CStr, argv: &[CString], envp: &[CString]) -> Error;
}

//! `/proc`: the handle checked to be procfs's root, files under it opened
//! without following symlinks or crossing mounts, the AppArmor attributes.

use crate::error::{Context, Error, Result};
use crate::sys::{FileStat, Proc};
use nix::errno::Errno;
use nix::fcntl::{openat, openat2, readlinkat, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fstat, Mode};
use nix::sys::statfs::{fstatfs, PROC_SUPER_MAGIC};
use nix::unistd;
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, OwnedFd};
use super::{files, process};

/// The inode number of a procfs root directory.
const PROC_ROOT_INO: u64 = 1;

/// Opens `rel` under a procfs handle without following any symlink or
/// crossing into another mount, then checks the result is on procfs.
fn open_in_proc(proc: &Proc, rel: &str, flags: OFlag) -> Result<OwnedFd> {
    let flags = flags | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW;
    let how = OpenHow::new().flags(flags).resolve(
        ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_SYMLINKS | ResolveFlag::RESOLVE_NO_XDEV,
    );
    let fd = match openat2(proc.0.as_fd(), rel, how) {
        // Kernels before 5.6 have no openat2: fall back to openat and rely on
        // the filesystem check below.
        Err(Errno::ENOSYS) => openat(proc.0.as_fd(), rel, flags, Mode::empty()),
        other => other,
    }
    .context(|| format!("open /proc/{rel}"))?;
    let fs = fstatfs(&fd).context(|| format!("inspect /proc/{rel}"))?;
    if fs.filesystem_type() != PROC_SUPER_MAGIC {
        return Err(Error::because(format!("use /proc/{rel}"), "it is not on procfs"));
    }
    Ok(fd)
}

/// Picks `attr/apparmor/<name>` when the kernel has it (5.8+), else `attr/<name>`.
fn lsm_attr_path(proc: &Proc, pid: i32, name: &str) -> String {
    let modern = format!("{pid}/attr/apparmor/{name}");
    match open_in_proc(proc, &format!("{pid}/attr/apparmor"), OFlag::O_PATH | OFlag::O_DIRECTORY) {
        Ok(_) => modern,
        Err(_) => format!("{pid}/attr/{name}"),
    }
}

pub(super) fn open_proc() -> Result<Proc> {
    let fd = nix::fcntl::openat(
        nix::fcntl::AT_FDCWD,
        "/proc",
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .context(|| "open /proc")?;
    let fs = fstatfs(&fd).context(|| "inspect /proc")?;
    let st = fstat(&fd).context(|| "inspect /proc")?;
    if fs.filesystem_type() != PROC_SUPER_MAGIC || st.st_ino != PROC_ROOT_INO {
        return Err(Error::because("use /proc", "it is not the root of a procfs mount"));
    }
    Ok(Proc(fd))
}

pub(super) fn lstat_proc(proc: &Proc, rel: &str) -> Result<FileStat> {
    files::lstatat(proc.0.as_fd(), OsStr::new(rel))
}

pub(super) fn readlink_proc(proc: &Proc, rel: &str) -> Result<OsString> {
    readlinkat(proc.0.as_fd(), rel).context(|| format!("read the link /proc/{rel}"))
}

pub(super) fn read_proc(proc: &Proc, rel: &str, max: usize) -> Result<Vec<u8>> {
    let fd = open_in_proc(proc, rel, OFlag::O_RDONLY)?;
    files::read_bounded(fd.as_fd(), max).context(|| format!("read /proc/{rel}"))
}

pub(super) fn read_lsm_attr(proc: &Proc, name: &str) -> Result<String> {
    let rel = lsm_attr_path(proc, process::pid(), name);
    let fd = open_in_proc(proc, &rel, OFlag::O_RDONLY)?;
    let bytes = files::read_bounded(fd.as_fd(), 4096).context(|| format!("read /proc/{rel}"))?;
    Ok(String::from_utf8_lossy(&bytes).trim_end_matches(['\n', '\0']).to_string())
}

pub(super) fn write_lsm_attr(proc: &Proc, name: &str, value: &str) -> Result<()> {
    let rel = lsm_attr_path(proc, process::pid(), name);
    let fd = open_in_proc(proc, &rel, OFlag::O_WRONLY)?;
    let n = unistd::write(&fd, value.as_bytes()).context(|| format!("write /proc/{rel}"))?;
    if n != value.len() {
        return Err(Error::because(format!("write /proc/{rel}"), "short write"));
    }
    Ok(())
}

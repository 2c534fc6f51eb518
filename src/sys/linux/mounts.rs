//! Mounts and namespaces: mounting through descriptors, unmounting,
//! pivot_root, unsharing and joining a mount namespace, inspecting one.

use crate::error::{Context, Error, Result};
use crate::sys::{NsInfo, Proc, Source};
use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::{fstat, Mode};
use nix::mount::{MntFlags, MsFlags};
use nix::sched::CloneFlags;
use nix::sys::statfs::{fstatfs, NSFS_MAGIC};
use nix::unistd;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use super::process;

pub(super) fn open_ns(proc: &Proc, pid: Option<i32>, kind: &str) -> Result<OwnedFd> {
    let pid = pid.unwrap_or_else(process::pid);
    let rel = format!("{pid}/ns/{kind}");
    // The namespace files are magic links: open what they point at, then
    // check that it is a namespace.
    let fd = openat(proc.0.as_fd(), rel.as_str(), OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
        .context(|| format!("open /proc/{rel}"))?;
    let fs = fstatfs(&fd).context(|| format!("inspect /proc/{rel}"))?;
    if fs.filesystem_type() != NSFS_MAGIC {
        return Err(Error::because(format!("use /proc/{rel}"), "it is not a namespace"));
    }
    Ok(fd)
}

pub(super) fn mount(
    source: Source<'_>,
    target: BorrowedFd<'_>,
    fstype: Option<&str>,
    flags: MsFlags,
    data: Option<&str>,
) -> std::result::Result<(), Errno> {
    // Mount through the descriptors: what was checked is what is used.
    let fd_path = |fd: BorrowedFd<'_>| format!("/proc/self/fd/{}", fd.as_raw_fd());
    let source = match source {
        Source::None => None,
        Source::Path(p) => Some(p.to_string()),
        Source::Fd(fd) => Some(fd_path(fd)),
    };
    nix::mount::mount(source.as_deref(), fd_path(target).as_str(), fstype, flags, data)
}

pub(super) fn umount(target: &str, lazy: bool) -> std::result::Result<(), Errno> {
    let mut flags = MntFlags::UMOUNT_NOFOLLOW;
    if lazy {
        flags |= MntFlags::MNT_DETACH;
    }
    nix::mount::umount2(target, flags)
}

pub(super) fn umount_fd(target: BorrowedFd<'_>, lazy: bool) -> std::result::Result<(), Errno> {
    // The magic link resolves to what the descriptor refers to: it is
    // followed on purpose (no UMOUNT_NOFOLLOW), and nothing else is.
    let flags = if lazy { MntFlags::MNT_DETACH } else { MntFlags::empty() };
    nix::mount::umount2(format!("/proc/self/fd/{}", target.as_raw_fd()).as_str(), flags)
}

pub(super) fn pivot_root(new_root: BorrowedFd<'_>, put_old: BorrowedFd<'_>) -> std::result::Result<(), Errno> {
    // Through the descriptors, like mount: the directories that were
    // opened (inside the new root) are the ones used.
    let fd_path = |fd: BorrowedFd<'_>| format!("/proc/self/fd/{}", fd.as_raw_fd());
    unistd::pivot_root(fd_path(new_root).as_str(), fd_path(put_old).as_str())
}

pub(super) fn unshare_mount_ns() -> Result<()> {
    nix::sched::unshare(CloneFlags::CLONE_NEWNS).context(|| "unshare the mount namespace")
}

pub(super) fn setns_mount(ns: BorrowedFd<'_>) -> Result<()> {
    nix::sched::setns(ns, CloneFlags::CLONE_NEWNS).context(|| "join a mount namespace")
}

pub(super) fn ns_info(fd: BorrowedFd<'_>) -> Result<NsInfo> {
    let fs = fstatfs(fd).context(|| "inspect a namespace file")?;
    if fs.filesystem_type() != NSFS_MAGIC {
        return Err(Error::because("use a namespace file", "it is not on nsfs"));
    }
    // SAFETY: NS_GET_NSTYPE takes no argument and returns the type.
    let nstype = unsafe { libc::ioctl(fd.as_raw_fd(), libc::NS_GET_NSTYPE) };
    let nstype = Errno::result(nstype).context(|| "get the type of a namespace")?;
    // SAFETY: NS_GET_USERNS takes no argument and returns a new descriptor.
    let userns = unsafe { libc::ioctl(fd.as_raw_fd(), libc::NS_GET_USERNS) };
    let userns = Errno::result(userns).context(|| "get the owner of a namespace")?;
    // SAFETY: the kernel just created this descriptor for us; we own it.
    let userns = unsafe { OwnedFd::from_raw_fd(userns) };
    let st = fstat(&userns).context(|| "inspect a user namespace")?;
    Ok(NsInfo { nstype, userns_ino: st.st_ino })
}

pub(super) fn mount_ns_id(fd: BorrowedFd<'_>) -> Result<Option<u64>> {
    let mut id: u64 = 0;
    // SAFETY: NS_GET_MNTNS_ID writes one u64 into `id`, which outlives the call.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::NS_GET_MNTNS_ID, &mut id as *mut u64) };
    match Errno::result(r) {
        Ok(_) => Ok(Some(id)),
        Err(Errno::ENOTTY | Errno::EINVAL | Errno::ENOSYS) => Ok(None),
        Err(e) => Err(Error::errno("get the id of a mount namespace", e)),
    }
}

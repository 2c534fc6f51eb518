//! Preserved mount namespaces under `/run/snapd/ns`: `<instance>.mnt` (a
//! bind mount of the namespace) and `snap.<instance>.info` (the base it was
//! built from).
//!
//! Only a file on nsfs that is a mount namespace owned by our own user
//! namespace is ever joined; the directory is root-owned, so only root (in
//! practice: the launcher) can have put it there.

use crate::error::{Context, Error, Result};
use crate::rootfs::Base;
use crate::sys::{Proc, Source, Sys};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::MsFlags;
use nix::sys::stat::Mode;
use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

pub const NS_DIR: &str = "/run/snapd/ns";
const NSFS_MAGIC: i64 = 0x6e73_6673;

pub fn mnt_file(instance: &str) -> String {
    format!("{instance}.mnt")
}

pub fn info_file(instance: &str) -> String {
    format!("snap.{instance}.info")
}

/// A preserved namespace that passed the checks, not yet entered.
pub struct Preserved {
    pub fd: OwnedFd,
}

/// Opens `<instance>.mnt` if it holds a namespace. A plain file (left by an
/// interrupted capture) counts as no namespace. Anything else that is not
/// one of our mount namespaces is refused.
pub fn open<S: Sys>(sys: &S, proc: &Proc, ns_dir: BorrowedFd<'_>, instance: &str) -> Result<Option<Preserved>> {
    let name = mnt_file(instance);
    let path = format!("{NS_DIR}/{name}");
    let fd = match sys.openat(ns_dir, OsStr::new(&name), OFlag::O_RDONLY, Mode::empty()) {
        Ok(fd) => fd,
        Err(e) if e.errno_value() == Some(Errno::ENOENT) => return Ok(None),
        Err(e) => return Err(e.within(format!("open {path}"))),
    };
    if sys.fs_type(fd.as_fd())? != NSFS_MAGIC {
        return Ok(None);
    }
    let info = sys.ns_info(fd.as_fd()).context(|| format!("inspect {path}"))?;
    if info.nstype != libc::CLONE_NEWNS {
        return Err(Error::because(format!("join {path}"), "it is not a mount namespace"));
    }
    let own_userns = sys.open_ns(proc, None, "user")?;
    if info.userns_ino != sys.fstat(own_userns.as_fd())?.ino {
        return Err(Error::because(format!("join {path}"), "it belongs to another user namespace"));
    }
    Ok(Some(Preserved { fd }))
}

/// The base named in `snap.<instance>.info`, if the file exists.
pub fn recorded_base<S: Sys>(sys: &S, ns_dir: BorrowedFd<'_>, instance: &str) -> Result<Option<String>> {
    let fd = match sys.openat(ns_dir, OsStr::new(&info_file(instance)), OFlag::O_RDONLY, Mode::empty()) {
        Ok(fd) => fd,
        Err(e) if e.errno_value() == Some(Errno::ENOENT) => return Ok(None),
        Err(e) => return Err(e),
    };
    let text = sys.read_bounded(fd.as_fd(), 4096)?;
    Ok(String::from_utf8_lossy(&text).lines().find_map(|l| l.strip_prefix("base-snap-name=").map(str::to_string)))
}

/// The device of `path` as seen from the current root (`stat`'s `st_dev`).
fn device_of<S: Sys>(sys: &S, path: &str) -> Result<u64> {
    let root = sys.root()?;
    let fd = sys.open_in_root(root.as_fd(), path.trim_start_matches('/'), OFlag::O_PATH | OFlag::O_DIRECTORY)?;
    Ok(sys.fstat(fd.as_fd())?.dev)
}

/// The device of the base revision as mounted on the host.
pub fn base_device<S: Sys>(sys: &S, base: &Base) -> Result<u64> {
    device_of(sys, &base.dir()).map_err(|e| e.within(format!("find the device of snap {} revision {}", base.name, base.revision)))
}

/// Inside a preserved namespace: whether `/usr` still comes from the base
/// device. `/usr` is always a bind of the base's own `/usr` in the
/// namespaces the launcher builds, so a refreshed base shows up as another
/// device there.
pub fn uses_base_device<S: Sys>(sys: &S, dev: u64) -> Result<bool> {
    Ok(device_of(sys, "/usr")? == dev)
}

/// Binds the current mount namespace (`new_ns`) to `<instance>.mnt` from
/// the original namespace, and records the base. Leaves us in `new_ns`.
pub fn capture<S: Sys>(
    sys: &S,
    original: BorrowedFd<'_>,
    new_ns: BorrowedFd<'_>,
    ns_dir: BorrowedFd<'_>,
    instance: &str,
    base: &Base,
) -> Result<()> {
    sys.setns_mount(original)?;
    let info = info_file(instance);
    let fd = sys
        .openat(ns_dir, OsStr::new(&info), OFlag::O_CREAT | OFlag::O_TRUNC | OFlag::O_WRONLY, Mode::from_bits_truncate(0o644))
        .map_err(|e| e.within(format!("write {NS_DIR}/{info}")))?;
    sys.write_all(fd.as_fd(), format!("base-snap-name={}\n", base.requested).as_bytes())?;
    let name = mnt_file(instance);
    let path = format!("{NS_DIR}/{name}");
    let target = sys
        .openat(ns_dir, OsStr::new(&name), OFlag::O_CREAT | OFlag::O_RDONLY, Mode::from_bits_truncate(0o600))
        .map_err(|e| e.within(format!("create {path}")))?;
    sys.mount(Source::Fd(new_ns), target.as_fd(), &path, None, MsFlags::MS_BIND, None)
        .map_err(|e| Error::errno(format!("preserve the mount namespace at {path}"), e))?;
    sys.setns_mount(new_ns)
}

/// Removes the preserved namespace of `instance` and its companion files.
/// Runs in the original mount namespace.
pub fn discard<S: Sys>(sys: &S, ns_dir: BorrowedFd<'_>, instance: &str) -> Result<()> {
    let mnt = mnt_file(instance);
    let per_user = format!("{instance}.");
    for (name, _) in sys.read_dir(ns_dir)? {
        let Some(name) = name.to_str() else { continue };
        let ours = name == mnt
            || (name.starts_with(&per_user) && name.ends_with(".mnt"))
            || name == info_file(instance)
            || name == format!("snap.{instance}.fstab")
            || (name.starts_with(&format!("snap.{instance}.")) && name.ends_with(".user-fstab"));
        if !ours {
            continue;
        }
        if name.ends_with(".mnt") {
            match sys.umount(&format!("{NS_DIR}/{name}"), true) {
                Ok(()) | Err(Errno::EINVAL) | Err(Errno::ENOENT) => {}
                Err(e) => return Err(Error::errno(format!("unmount {NS_DIR}/{name}"), e)),
            }
        }
        match sys.unlinkat(ns_dir, OsStr::new(name), false) {
            Ok(()) | Err(Errno::ENOENT) => {}
            Err(e) => return Err(Error::errno(format!("remove {NS_DIR}/{name}"), e)),
        }
    }
    Ok(())
}

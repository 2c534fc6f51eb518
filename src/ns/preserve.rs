//! Preserved mount namespaces under `/run/snapd/ns`: `<instance>.mnt` (a
//! bind mount of the namespace) and `snap.<instance>.info` (the base it was
//! built from).
//!
//! Only a file on nsfs that is a mount namespace owned by our own user
//! namespace is ever joined; the directory is root-owned, so only root (in
//! practice: the launcher) can have put it there.

use crate::error::{Context, Error, Result};
use crate::rootfs::plan::Root;
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

/// The current mount profile of the snap's namespace (snap-update-ns keeps
/// it up to date).
pub fn fstab_file(instance: &str) -> String {
    format!("snap.{instance}.fstab")
}

/// The first entry of the current profile of a namespace whose root is the
/// launcher's tmpfs (snap-confine 2.59 and later write the same line, and
/// snap-update-ns since 2.57.6 keeps such an entry and may create mount
/// points in that tmpfs).
pub const ROOTFS_ENTRY: &str = "tmpfs / tmpfs x-snapd.origin=rootfs 0 0\n";

/// Starts the current profile of a namespace being built (root-owned 0644,
/// replacing any stale one): [`ROOTFS_ENTRY`] for a tmpfs root, empty
/// when the root is the base itself (snap-update-ns then treats `/` as the
/// read-only base it is, as under snap-confine 2.57.6).
pub fn write_rootfs_profile<S: Sys>(sys: &S, ns_dir: BorrowedFd<'_>, instance: &str, root: Root) -> Result<()> {
    let content = match root {
        Root::Tmpfs => ROOTFS_ENTRY,
        Root::Base => "",
    };
    write_whole(sys, ns_dir, &fstab_file(instance), content)
}

/// Removes the current profile of a namespace that was not preserved
/// (best effort: the next build rewrites it anyway).
pub fn forget_profile<S: Sys>(sys: &S, ns_dir: BorrowedFd<'_>, instance: &str) {
    let _ = sys.unlinkat(ns_dir, OsStr::new(&fstab_file(instance)), false);
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

/// Inside a preserved namespace: whether it still uses the base's device.
/// `/usr` is a bind of the base's own `/usr` in the namespaces the
/// launcher builds, and part of the base at `/` in those snap-confine 2.57.6
/// builds, so a refreshed base shows up as another device there. When
/// `/usr` is on another device (a layout directly under `/usr` puts a
/// writable mimic, a tmpfs, over it), the mount table decides, as in
/// snap-confine: some mount other than a tmpfs at `/`, `/usr` or under
/// `/usr/` must be the base's device.
pub fn uses_base_device<S: Sys>(sys: &S, proc: &Proc, dev: u64) -> Result<bool> {
    if device_of(sys, "/usr")? == dev {
        return Ok(true);
    }
    let text = sys.read_proc(proc, &format!("{}/mountinfo", sys.pid()), 8 << 20)?;
    let entries = crate::mountinfo::parse(&String::from_utf8_lossy(&text))?;
    let (major, minor) = (nix::sys::stat::major(dev), nix::sys::stat::minor(dev));
    Ok(entries.iter().any(|e| {
        e.fs_type != "tmpfs"
            && (u64::from(e.major), u64::from(e.minor)) == (major, minor)
            && (e.mount_point == "/" || e.mount_point == "/usr" || e.mount_point.starts_with("/usr/"))
    }))
}

/// The temporary name a record `name` is written under first.
fn temp_file(name: &str) -> String {
    format!(".{name}.tmp")
}

/// Writes the record `name` in the namespace directory whole or not at
/// all: into a temporary file first, renamed over the old one once
/// complete. A write that fails (a file-size limit, a full disk) leaves no
/// truncated root-owned file behind.
fn write_whole<S: Sys>(sys: &S, ns_dir: BorrowedFd<'_>, name: &str, content: &str) -> Result<()> {
    let temp = temp_file(name);
    let write = || -> Result<()> {
        let flags = OFlag::O_CREAT | OFlag::O_TRUNC | OFlag::O_WRONLY;
        let fd = sys.openat(ns_dir, OsStr::new(&temp), flags, Mode::from_bits_truncate(0o644))?;
        sys.write_all(fd.as_fd(), content.as_bytes())?;
        sys.renameat(ns_dir, OsStr::new(&temp), OsStr::new(name)).context(|| "rename it into place")
    };
    write().map_err(|e| {
        let _ = sys.unlinkat(ns_dir, OsStr::new(&temp), false);
        e.within(format!("write {NS_DIR}/{name}"))
    })
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
    write_whole(sys, ns_dir, &info_file(instance), &format!("base-snap-name={}\n", base.requested))?;
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
            || name == fstab_file(instance)
            || name == temp_file(&info_file(instance))
            || name == temp_file(&fstab_file(instance))
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::sys::fake::FakeSys;

    #[test]
    fn a_mimic_over_usr_does_not_make_a_namespace_stale() {
        let sys = FakeSys::new();
        sys.dir("/usr", 0o755);
        let proc = sys.open_proc().unwrap();
        let usr = sys.fstat(sys.open_in_root(sys.root().unwrap().as_fd(), "usr", OFlag::O_PATH).unwrap().as_fd()).unwrap().dev;
        assert!(uses_base_device(&sys, &proc, usr).unwrap(), "the fast path: /usr is the base's");
        let base = nix::sys::stat::makedev(7, 3);
        let table = |lines: &str| sys.proc_files.borrow_mut().insert("4242/mountinfo".into(), lines.into());
        // A layout right under /usr: /usr is a tmpfs, the base's entries bound back into it.
        table(
            "1 0 0:40 / / rw - tmpfs tmpfs rw\n\
             2 1 0:41 / /usr rw - tmpfs tmpfs rw\n\
             3 2 7:3 /usr/lib /usr/lib ro - squashfs /dev/loop3 ro\n",
        );
        assert!(uses_base_device(&sys, &proc, base).unwrap());
        // The base was refreshed: only the old device, or tmpfs, is left.
        table(
            "1 0 0:40 / / rw - tmpfs tmpfs rw\n\
             2 1 7:2 /usr /usr ro - squashfs /dev/loop2 ro\n\
             4 1 7:3 / /snap/core/2 ro - squashfs /dev/loop3 ro\n",
        );
        assert!(!uses_base_device(&sys, &proc, base).unwrap());
        // snap-confine 2.57.6's namespaces have the base at /.
        table("1 0 7:3 / / ro - squashfs /dev/loop3 ro\n");
        assert!(uses_base_device(&sys, &proc, base).unwrap());
    }
}

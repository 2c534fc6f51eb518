//! The per-snap `/tmp`: `/tmp/snap-private-tmp/snap.<instance>/tmp`
//! (01777), shared by the apps of the snap, bound over the snap's `/tmp`.
//!
//! The base `/tmp/snap-private-tmp` is created by packaging (tmpfiles.d),
//! never by the launcher, and must be a root-owned 0700 directory. Every
//! level is opened with `O_NOFOLLOW` and checked with `fstat` on the opened
//! descriptor for exact owner and mode, and the bind takes its source from
//! that descriptor, so nothing can be swapped in between.

use crate::error::{Context, Error, Result};
use crate::sys::{FileStat, Source, Sys};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::MsFlags;
use nix::sys::stat::Mode;
use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// Created by packaging, root-owned, exactly 0700.
pub const PRIVATE_TMP_BASE: &str = "/tmp/snap-private-tmp";

fn check(path: &str, st: &FileStat, owner: (u32, u32), mode: u32) -> Result<()> {
    if !st.is_dir_type() || (st.uid, st.gid) != owner || st.perms() != mode {
        return Err(Error::because(
            format!("use {path}"),
            format!(
                "it has unexpected ownership or permissions ({}:{} {:o}, expected a directory {}:{} {mode:o})",
                st.uid,
                st.gid,
                st.mode,
                owner.0,
                owner.1
            ),
        ));
    }
    Ok(())
}

fn open_dir<S: Sys>(sys: &S, dir: BorrowedFd<'_>, name: &str, path: &str) -> Result<OwnedFd> {
    sys.openat(dir, OsStr::new(name), OFlag::O_RDONLY | OFlag::O_DIRECTORY, Mode::empty()).map_err(|e| match e
        .errno_value()
    {
        Some(errno) => Error::errno(format!("open {path}"), errno),
        None => e,
    })
}

/// Opens and checks `/tmp/snap-private-tmp`.
pub fn open_private_tmp_base<S: Sys>(sys: &S) -> Result<OwnedFd> {
    let root = sys.root()?;
    let tmp = open_dir(sys, root.as_fd(), "tmp", "/tmp")?;
    let base = open_dir(sys, tmp.as_fd(), "snap-private-tmp", PRIVATE_TMP_BASE)?;
    check(PRIVATE_TMP_BASE, &sys.fstat(base.as_fd())?, sys.trusted_owner(), 0o700)?;
    Ok(base)
}

/// Creates (or checks) `name` under `dir` with exactly `mode`, root-owned.
/// A directory that already exists is only checked, never fixed.
fn ensure_dir<S: Sys>(sys: &S, dir: BorrowedFd<'_>, name: &str, mode: u32, path: &str) -> Result<OwnedFd> {
    let created = match sys.mkdirat(dir, OsStr::new(name), Mode::empty()) {
        Ok(()) => true,
        Err(Errno::EEXIST) => false,
        Err(e) => return Err(Error::errno(format!("create {path}"), e)),
    };
    let fd = open_dir(sys, dir, name, path)?;
    if created {
        // Created with no permissions at all, then given exactly `mode`
        // (whatever the umask) on the descriptor we just opened.
        sys.fchmod(fd.as_fd(), mode)?;
    }
    check(path, &sys.fstat(fd.as_fd())?, sys.trusted_owner(), mode)?;
    Ok(fd)
}

/// Binds the snap's private tmp over `/tmp` (after `pivot_root`, where
/// `/tmp` is still the host's).
pub fn setup<S: Sys>(sys: &S, instance: &str) -> Result<()> {
    let base = open_private_tmp_base(sys)?;
    let snap_path = format!("{PRIVATE_TMP_BASE}/snap.{instance}");
    let snap = ensure_dir(sys, base.as_fd(), &format!("snap.{instance}"), 0o700, &snap_path)?;
    let tmp_path = format!("{snap_path}/tmp");
    let tmp = ensure_dir(sys, snap.as_fd(), "tmp", 0o1777, &tmp_path)?;
    let root = sys.root()?;
    let target = sys.open_in_root(root.as_fd(), "tmp", OFlag::O_PATH | OFlag::O_DIRECTORY)?;
    sys.mount(Source::Fd(tmp.as_fd()), target.as_fd(), "/tmp", None, MsFlags::MS_BIND, None)
        .map_err(|e| Error::errno(format!("perform operation: mount --bind {tmp_path} /tmp"), e))?;
    let target = sys.open_in_root(root.as_fd(), "tmp", OFlag::O_PATH | OFlag::O_DIRECTORY)?;
    sys.mount(Source::None, target.as_fd(), "/tmp", None, MsFlags::MS_PRIVATE, None)
        .map_err(|e| Error::errno("perform operation: mount --make-private /tmp", e))
        .context(|| "make /tmp private")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::sys::fake::FakeSys;

    fn sys_with_base(mode: u32) -> FakeSys {
        let sys = FakeSys::new();
        sys.dir("/tmp", 0o1777);
        sys.dir(PRIVATE_TMP_BASE, mode);
        sys
    }

    #[test]
    fn creates_the_levels_with_exact_modes_and_binds_by_descriptor() {
        let sys = sys_with_base(0o700);
        setup(&sys, "demo").unwrap();
        let md = |p: &str| std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(sys.path(p)).unwrap().permissions());
        assert_eq!(md("/tmp/snap-private-tmp/snap.demo") & 0o7777, 0o700);
        assert_eq!(md("/tmp/snap-private-tmp/snap.demo/tmp") & 0o7777, 0o1777);
        let mounts: Vec<String> = sys.calls().into_iter().filter(|c| c.starts_with("mount(")).collect();
        assert_eq!(
            mounts,
            ["mount(fd, /tmp, -, MS_BIND, -)", "mount(-, /tmp, -, MS_PRIVATE, -)"],
            "the source is the checked descriptor"
        );
        // A second run reuses what is there.
        setup(&sys, "demo").unwrap();
    }

    #[test]
    fn refuses_a_base_with_the_wrong_mode() {
        let sys = sys_with_base(0o755);
        let e = setup(&sys, "demo").unwrap_err().to_string();
        assert!(e.starts_with("cannot use /tmp/snap-private-tmp: it has unexpected ownership or permissions"), "{e}");
    }

    #[test]
    fn refuses_a_missing_base() {
        let sys = FakeSys::new();
        sys.dir("/tmp", 0o1777);
        let e = setup(&sys, "demo").unwrap_err().to_string();
        assert_eq!(e, "cannot open /tmp/snap-private-tmp: No such file or directory");
    }

    #[test]
    fn refuses_planted_symlinks_files_and_wrong_modes() {
        let sys = sys_with_base(0o700);
        std::os::unix::fs::symlink("/etc", sys.path("/tmp/snap-private-tmp/snap.demo")).unwrap();
        let e = setup(&sys, "demo").unwrap_err().to_string();
        assert_eq!(e, "cannot open /tmp/snap-private-tmp/snap.demo: Not a directory");
        std::fs::remove_file(sys.path("/tmp/snap-private-tmp/snap.demo")).unwrap();
        sys.file("/tmp/snap-private-tmp/snap.demo", b"", 0o700);
        let e = setup(&sys, "demo").unwrap_err().to_string();
        assert_eq!(e, "cannot open /tmp/snap-private-tmp/snap.demo: Not a directory");
        std::fs::remove_file(sys.path("/tmp/snap-private-tmp/snap.demo")).unwrap();
        sys.dir("/tmp/snap-private-tmp/snap.demo", 0o777);
        let e = setup(&sys, "demo").unwrap_err().to_string();
        assert!(e.contains("snap.demo: it has unexpected ownership or permissions"), "{e}");
        sys.dir("/tmp/snap-private-tmp/snap.demo", 0o700);
        sys.dir("/tmp/snap-private-tmp/snap.demo/tmp", 0o1755);
        let e = setup(&sys, "demo").unwrap_err().to_string();
        assert!(e.contains("snap.demo/tmp: it has unexpected ownership or permissions"), "{e}");
        assert!(!sys.calls().iter().any(|c| c.starts_with("mount(")));
    }
}

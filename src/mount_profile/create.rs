//! Making mount points: a missing directory, file or symlink is made by
//! walking from the root one name at a time with `openat(O_NOFOLLOW)`,
//! `mkdirat` and friends on the descriptor of the directory above it, so
//! no symlink is ever followed and each directory is checked (the
//! trespassing rules of [`super::assume`]) on the descriptor that the next
//! name is made in. A directory swapped for a symlink half-way makes the
//! walk fail; it never leads it elsewhere. Directories already opened in
//! this change ([`Dirs`]) are not opened again.

use super::assume::{Assumptions, CheckError, DirFacts, Restrictions, Trespassing};
use super::change::clean;
use super::dirs::Dirs;
use crate::error::Error;
use crate::fs::components;
use crate::sys::Sys;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::rc::Rc;

/// Why a mount point could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateError {
    /// The directory (path) is on a read-only file system.
    ReadOnly(String),
    /// Writing in the directory would change the host's files.
    Trespassing(Trespassing),
    Failed(Error),
}

impl From<Error> for CreateError {
    fn from(e: Error) -> Self {
        CreateError::Failed(e)
    }
}

impl From<CheckError> for CreateError {
    fn from(e: CheckError) -> Self {
        match e {
            CheckError::Trespassing(t) => CreateError::Trespassing(t),
            CheckError::Failed(e) => CreateError::Failed(e),
        }
    }
}

impl CreateError {
    /// Where a writable mimic would let the write happen, if anywhere.
    pub fn mimic_at(&self) -> Option<&str> {
        match self {
            CreateError::ReadOnly(dir) => Some(dir),
            CreateError::Trespassing(t) => Some(&t.violated),
            CreateError::Failed(_) => None,
        }
    }

    pub fn into_error(self) -> Error {
        match self {
            CreateError::ReadOnly(dir) => Error::because(format!("operate on {dir}"), "it is on a read-only file system"),
            CreateError::Trespassing(t) => Error::because(format!("write to {:?}", t.desired), format!("it would affect the host in {:?}", t.violated)),
            CreateError::Failed(e) => e,
        }
    }
}

type Result<T> = std::result::Result<T, CreateError>;

/// Mode and owner of what is made. `owner` is `None` when what is made
/// keeps the identity of its maker (user mounts, made as the user).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attrs {
    /// Of the directories made on the way.
    pub mode: u32,
    /// Of the last one (the mount point itself).
    pub leaf_mode: u32,
    pub owner: Option<(u32, u32)>,
}

/// One walk towards a path, with its restrictions.
pub struct Walk<'a, S: Sys> {
    sys: &'a S,
    assumptions: &'a mut Assumptions,
    dirs: &'a mut Dirs,
    rs: Restrictions,
    attrs: Attrs,
}

fn facts<S: Sys>(sys: &S, dir: BorrowedFd<'_>) -> crate::error::Result<DirFacts> {
    Ok(DirFacts { fs: sys.statfs(dir)?, dev: sys.fstat(dir)?.dev })
}

fn join(dir: &str, name: &str) -> String {
    clean(&format!("{dir}/{name}"))
}

impl<'a, S: Sys> Walk<'a, S> {
    pub fn new(sys: &'a S, assumptions: &'a mut Assumptions, dirs: &'a mut Dirs, desired: &str, attrs: Attrs) -> Self {
        let rs = Restrictions::for_path(assumptions, desired);
        Walk { sys, assumptions, dirs, rs, attrs }
    }

    fn check(&mut self, dir_fd: BorrowedFd<'_>, dir: &str) -> Result<()> {
        let sys = self.sys;
        let dirs = &mut *self.dirs;
        // The facts of a directory in the cache are asked once per change;
        // of one made on the way (not cached yet), on its descriptor.
        let get = || if dirs.cached(dir).is_some() { dirs.facts(sys, dir) } else { facts(sys, dir_fd) };
        self.rs.check(self.assumptions, dir, get).map_err(CreateError::from)
    }

    /// Makes (or opens) directory `name` in `dir_fd` (at path `dir`).
    fn mkdir(&mut self, dir_fd: BorrowedFd<'_>, dir: &str, name: &str, mode: u32) -> Result<Rc<OwnedFd>> {
        self.check(dir_fd, dir)?;
        let path = join(dir, name);
        let made = match self.sys.mkdirat(dir_fd, OsStr::new(name), Mode::from_bits_truncate(mode)) {
            Ok(()) => true,
            Err(Errno::EEXIST) => false,
            Err(Errno::EROFS) => return Err(CreateError::ReadOnly(dir.to_owned())),
            Err(e) => return Err(Error::errno(format!("create directory {path}"), e).into()),
        };
        let flags = if made { OFlag::O_RDONLY | OFlag::O_DIRECTORY } else { OFlag::O_PATH | OFlag::O_DIRECTORY };
        let fd = self.sys.openat(dir_fd, OsStr::new(name), flags, Mode::empty()).map_err(|e| e.within(format!("open directory {path}")))?;
        if made {
            self.own(fd.as_fd(), &path, mode)?;
            self.rs.lift();
        }
        Ok(self.dirs.insert(&path, fd))
    }

    /// Gives what was just made its owner and exact mode (the umask and a
    /// setgid parent do not decide them).
    fn own(&self, fd: BorrowedFd<'_>, path: &str, mode: u32) -> Result<()> {
        if let Some((uid, gid)) = self.attrs.owner {
            self.sys.fchown(fd, uid, gid).map_err(|e| e.within(format!("chown {path} to {uid}.{gid}")))?;
        }
        self.sys.fchmod(fd, mode).map_err(|e| e.within(format!("chmod {path}")))?;
        Ok(())
    }

    /// Makes every missing directory of `dir`, returning it open. A
    /// directory already open in this change is checked the same way
    /// (writing below it is writing in its parent first) but not made or
    /// opened again.
    fn prefix(&mut self, dir: &str) -> Result<Rc<OwnedFd>> {
        let mut fd = self.dirs.open(self.sys, "/")?;
        let mut at = "/".to_owned();
        for part in components(dir)? {
            let path = join(&at, part);
            let next = match self.dirs.cached(&path) {
                Some(next) => {
                    self.check(fd.as_fd(), &at)?;
                    next
                }
                None => self.mkdir(fd.as_fd(), &at, part, self.attrs.mode)?,
            };
            at = path;
            fd = next;
        }
        Ok(fd)
    }

    /// `path` split into its directory and last name.
    fn split(path: &str) -> Result<(String, String)> {
        if clean(path) != path || !path.starts_with('/') {
            return Err(Error::because(format!("create {path:?}"), "the path is not absolute and clean").into());
        }
        match path.rsplit_once('/') {
            Some((_, "")) | None => Err(Error::because(format!("create {path:?}"), "it is the root").into()),
            Some((dir, name)) => Ok((if dir.is_empty() { "/".to_owned() } else { dir.to_owned() }, name.to_owned())),
        }
    }

    /// Makes directory `path` and what is missing above it.
    pub fn mkdir_all(mut self, path: &str) -> Result<()> {
        if path == "/" {
            return Ok(());
        }
        let (dir, name) = Self::split(path)?;
        let fd = self.prefix(&dir)?;
        let leaf_mode = self.attrs.leaf_mode;
        self.mkdir(fd.as_fd(), &dir, &name, leaf_mode).map(drop)
    }

    /// Makes an empty regular file at `path` (a mount point for a file).
    pub fn mkfile_all(mut self, path: &str) -> Result<()> {
        let (dir, name) = Self::split(path)?;
        let fd = self.prefix(&dir)?;
        self.check(fd.as_fd(), &dir)?;
        let mode = Mode::from_bits_truncate(self.attrs.leaf_mode);
        match self.sys.openat(fd.as_fd(), OsStr::new(&name), OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDONLY, mode) {
            Ok(file) => self.own(file.as_fd(), path, self.attrs.leaf_mode),
            Err(e) if e.errno_value() == Some(Errno::EEXIST) => {
                self.sys.openat(fd.as_fd(), OsStr::new(&name), OFlag::O_PATH, Mode::empty()).map_err(|e| e.within(format!("open file {path}")))?;
                Ok(())
            }
            Err(e) if e.errno_value() == Some(Errno::EROFS) => Err(CreateError::ReadOnly(dir)),
            Err(e) => Err(e.within(format!("open file {path}")).into()),
        }
    }

    /// Makes a symlink at `path` pointing at `target`; one already there
    /// with the same target is fine, anything else in the way is not.
    pub fn mksymlink_all(mut self, path: &str, target: &str) -> Result<()> {
        if target.is_empty() {
            return Err(Error::because(format!("create symlink {path}"), "its target is empty").into());
        }
        let (dir, name) = Self::split(path)?;
        let fd = self.prefix(&dir)?;
        self.check(fd.as_fd(), &dir)?;
        match self.sys.symlinkat(target, fd.as_fd(), OsStr::new(&name)) {
            Ok(()) => Ok(()),
            Err(Errno::EEXIST) => {
                let st = self.sys.lstatat(fd.as_fd(), OsStr::new(&name)).map_err(|e| e.within(format!("inspect existing file {path}")))?;
                if st.mode & libc::S_IFMT != libc::S_IFLNK {
                    return Err(Error::because(format!("create symbolic link {path}"), "an existing file is in the way").into());
                }
                let existing = self.sys.readlinkat(fd.as_fd(), OsStr::new(&name))?;
                if existing != target {
                    return Err(Error::because(format!("create symbolic link {path}"), "an existing symbolic link is in the way").into());
                }
                Ok(())
            }
            Err(Errno::EROFS) => Err(CreateError::ReadOnly(dir)),
            Err(e) => Err(Error::errno(format!("create symlink {path}"), e).into()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::mount_profile::assume::{SQUASHFS_MAGIC, TMPFS_MAGIC};
    use crate::mount_profile::change::{Action, Change};
    use crate::sys::fake::FakeSys;
    use policy_cache::fstab::MountEntry;

    const ATTRS: Attrs = Attrs { mode: 0o755, leaf_mode: 0o700, owner: Some((0, 0)) };

    /// The snap's namespace as the launcher builds it: a tmpfs root (in
    /// the current profile), the host's /etc bound in, /usr read-only.
    fn rootfs() -> Change {
        let e = MountEntry { name: "tmpfs".into(), dir: "/".into(), fstype: "tmpfs".into(), options: vec!["x-snapd.origin=rootfs".into()], ..MountEntry::default() };
        Change::new(Action::Mount, e)
    }

    fn scene() -> (FakeSys, Assumptions) {
        let sys = FakeSys::new();
        sys.dir("/etc", 0o755);
        sys.dir("/usr/lib", 0o755);
        sys.dir("/var/snap/foo", 0o755);
        sys.dir("/home", 0o755);
        sys.set_fs_type("/", TMPFS_MAGIC);
        sys.set_fs_type("/etc", 0xef53);
        sys.set_fs_type("/home", 0xef53);
        sys.read_only.borrow_mut().push("/usr".into());
        let mut a = Assumptions::system("foo", "foo");
        a.add_change(&rootfs());
        (sys, a)
    }

    #[test]
    fn directories_are_made_with_mode_and_owner_in_allowed_places() {
        let (sys, mut a) = scene();
        Walk::new(&sys, &mut a, &mut Dirs::default(), "/var/snap/foo/a/b", ATTRS).mkdir_all("/var/snap/foo/a/b").unwrap();
        assert!(sys.path("/var/snap/foo/a/b").is_dir());
        let calls: Vec<String> = sys.calls().into_iter().filter(|c| c.starts_with("mkdirat") || c.starts_with("fch")).collect();
        assert_eq!(
            calls,
            [
                "mkdirat(var, 0755)",
                "mkdirat(snap, 0755)",
                "mkdirat(foo, 0755)",
                "mkdirat(a, 0755)",
                "fchown(0,0)",
                "fchmod(0755)",
                "mkdirat(b, 0700)",
                "fchown(0,0)",
                "fchmod(0700)",
            ]
        );
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(sys.path("/var/snap/foo/a/b")).unwrap().permissions().mode() & 0o7777, 0o700);
    }

    #[test]
    fn host_directories_are_trespassing_and_read_only_ones_need_a_mimic() {
        let (sys, mut a) = scene();
        let err = Walk::new(&sys, &mut a, &mut Dirs::default(), "/etc/foo", ATTRS).mkdir_all("/etc/foo").unwrap_err();
        assert_eq!(err.mimic_at(), Some("/etc"));
        assert!(!sys.path("/etc/foo").exists(), "nothing written on the host");
        // Read-only: the write is tried and fails with EROFS (the fake
        // cannot make a real read-only file system: injected).
        sys.fail("mkdirat(webkit", Errno::EROFS);
        let err = Walk::new(&sys, &mut a, &mut Dirs::default(), "/usr/lib/webkit", ATTRS).mkdir_all("/usr/lib/webkit").unwrap_err();
        assert_eq!(err, CreateError::ReadOnly("/usr/lib".into()));
        // Our own tmpfs is fine.
        sys.set_fs_type("/etc", TMPFS_MAGIC);
        a.add_change(&Change::new(Action::Mount, MountEntry { name: "tmpfs".into(), dir: "/etc".into(), fstype: "tmpfs".into(), ..MountEntry::default() }));
        Walk::new(&sys, &mut a, &mut Dirs::default(), "/etc/foo", ATTRS).mkdir_all("/etc/foo").unwrap();
        // A tmpfs root nobody recorded is the host's as far as we know.
        let mut bare = Assumptions::system("foo", "foo");
        let err = Walk::new(&sys, &mut bare, &mut Dirs::default(), "/opt/x", ATTRS).mkdir_all("/opt/x").unwrap_err();
        assert_eq!(err.mimic_at(), Some("/"));
        sys.set_fs_type("/", SQUASHFS_MAGIC);
        Walk::new(&sys, &mut bare, &mut Dirs::default(), "/opt/x", ATTRS).mkdir_all("/opt/x").unwrap();
    }

    #[test]
    fn symlinks_on_the_way_are_never_followed() {
        let (sys, mut a) = scene();
        std::fs::create_dir_all(sys.path("/outside")).unwrap();
        std::os::unix::fs::symlink(sys.path("/outside"), sys.path("/var/snap/foo/evil")).unwrap();
        let err = Walk::new(&sys, &mut a, &mut Dirs::default(), "/var/snap/foo/evil/x", ATTRS).mkdir_all("/var/snap/foo/evil/x").unwrap_err();
        assert!(matches!(&err, CreateError::Failed(e) if e.to_string().contains("open directory /var/snap/foo/evil")), "{err:?}");
        assert!(!sys.path("/outside/x").exists());
        // A symlink at the last name is not a directory either.
        let err = Walk::new(&sys, &mut a, &mut Dirs::default(), "/var/snap/foo/evil", ATTRS).mkdir_all("/var/snap/foo/evil").unwrap_err();
        assert!(matches!(err, CreateError::Failed(_)), "{err:?}");
        let err = Walk::new(&sys, &mut a, &mut Dirs::default(), "/var/snap/foo/evil", ATTRS).mkfile_all("/var/snap/foo/evil/f").unwrap_err();
        assert!(matches!(err, CreateError::Failed(_)), "{err:?}");
        assert!(!sys.path("/outside/f").exists());
    }

    #[test]
    fn files_and_symlinks() {
        let (sys, mut a) = scene();
        Walk::new(&sys, &mut a, &mut Dirs::default(), "/var/snap/foo/d/f", ATTRS).mkfile_all("/var/snap/foo/d/f").unwrap();
        assert!(sys.path("/var/snap/foo/d/f").is_file());
        // Again: it is there.
        Walk::new(&sys, &mut a, &mut Dirs::default(), "/var/snap/foo/d/f", ATTRS).mkfile_all("/var/snap/foo/d/f").unwrap();
        Walk::new(&sys, &mut a, &mut Dirs::default(), "/var/snap/foo/l", ATTRS).mksymlink_all("/var/snap/foo/l", "/snap/foo/1/x").unwrap();
        assert_eq!(std::fs::read_link(sys.path("/var/snap/foo/l")).unwrap().to_str(), Some("/snap/foo/1/x"));
        Walk::new(&sys, &mut a, &mut Dirs::default(), "/var/snap/foo/l", ATTRS).mksymlink_all("/var/snap/foo/l", "/snap/foo/1/x").unwrap();
        let err = Walk::new(&sys, &mut a, &mut Dirs::default(), "/var/snap/foo/l", ATTRS).mksymlink_all("/var/snap/foo/l", "/other").unwrap_err();
        assert!(err.into_error().to_string().contains("an existing symbolic link is in the way"));
        let err = Walk::new(&sys, &mut a, &mut Dirs::default(), "/var/snap/foo/d/f", ATTRS).mksymlink_all("/var/snap/foo/d/f", "/x").unwrap_err();
        assert!(err.into_error().to_string().contains("an existing file is in the way"));
        for bad in ["relative", "/a/../b", "/a/"] {
            assert!(Walk::new(&sys, &mut a, &mut Dirs::default(), bad, ATTRS).mkfile_all(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn user_mode_keeps_the_makers_identity() {
        let (sys, _) = scene();
        let mut a = Assumptions::user(Some("/home/u"));
        a.add_change(&rootfs());
        sys.dir("/home/u", 0o755);
        let attrs = Attrs { mode: 0o755, leaf_mode: 0o755, owner: None };
        Walk::new(&sys, &mut a, &mut Dirs::default(), "/home/u/snap/x", attrs).mkdir_all("/home/u/snap/x").unwrap();
        assert!(!sys.calls().iter().any(|c| c.starts_with("fchown")), "{:?}", sys.calls());
        // Outside the home: the host's.
        let err = Walk::new(&sys, &mut a, &mut Dirs::default(), "/etc/x", attrs).mkdir_all("/etc/x").unwrap_err();
        assert_eq!(err.mimic_at(), Some("/etc"));
    }
}

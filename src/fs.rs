//! Opening paths component by component from the root, never following a
//! symlink, with ownership and mode checks on each opened descriptor.

use crate::error::{Context, Error, Result};
use crate::sys::{FileStat, Sys};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use std::cell::RefCell;
use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};
use std::rc::Rc;

/// Whether every component of a path must be owned by root and not writable
/// by others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    Any,
    RootOwned,
}

/// An open file and what `fstat` said about it.
#[derive(Debug)]
pub struct Opened {
    pub fd: OwnedFd,
    pub stat: FileStat,
}

/// The normal components of an absolute path; `.`, `..` and relative paths
/// are refused because none of our paths has them.
pub fn components(path: &str) -> Result<Vec<&str>> {
    if !path.starts_with('/') {
        return Err(Error::because(format!("use path {path}"), "it is not absolute"));
    }
    let parts: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    if parts.iter().any(|c| *c == "." || *c == "..") {
        return Err(Error::because(format!("use path {path}"), "it is not canonical"));
    }
    Ok(parts)
}

fn check_trusted<S: Sys>(sys: &S, path: &str, st: &FileStat) -> Result<()> {
    let (uid, gid) = sys.trusted_owner();
    if st.uid != uid || st.gid != gid {
        return Err(Error::because(
            format!("trust {path}"),
            format!("it is owned by {}:{}, not root", st.uid, st.gid),
        ));
    }
    if st.mode & 0o002 != 0 {
        return Err(Error::because(format!("trust {path}"), format!("it is writable by others ({:o})", st.perms())));
    }
    Ok(())
}

/// How many walked directories are kept.
const WALKED_MAX: usize = 32;

/// The directories walks reached, by path: the next walk below one of them
/// starts there instead of at the root (a launch reads a dozen files under
/// `/var/lib/snapd` and `/run/snapd`, and each level costs an `openat`, an
/// `fstat` and a `close`). Those a walk with [`Trust::RootOwned`] checked
/// are marked trusted, and only those serve such walks; a walk without
/// checks may start from either kind. What a path names stays the same
/// only within one view of the file system and for one identity, so the
/// [`Sys`] implementations call [`Walked::forget`] whenever the mount
/// namespace, a mount, the root, a name or an owner the launcher changes,
/// its ids or capabilities change, and before a helper runs. A directory
/// found trusted is owned by root and not writable by others, so no one
/// else can make its path name another.
#[derive(Debug, Default)]
pub struct Walked(RefCell<Vec<WalkedDir>>);

#[derive(Debug)]
struct WalkedDir {
    path: String,
    fd: Rc<OwnedFd>,
    trusted: bool,
}

impl Walked {
    /// Nothing is known any more.
    pub fn forget(&self) {
        self.0.borrow_mut().clear();
    }

    /// How many directories are known.
    pub fn len(&self) -> usize {
        self.0.borrow().len()
    }

    /// How many directories are known to be trusted.
    pub fn trusted(&self) -> usize {
        self.0.borrow().iter().filter(|d| d.trusted).count()
    }

    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self.0.borrow().is_empty()
    }

    fn find(&self, path: &str, trusted: bool) -> Option<Rc<OwnedFd>> {
        self.0.borrow().iter().find(|d| d.path == path && (d.trusted || !trusted)).map(|d| Rc::clone(&d.fd))
    }

    fn keep(&self, path: &str, fd: &Rc<OwnedFd>, trusted: bool) {
        let mut known = self.0.borrow_mut();
        let entry = WalkedDir { path: path.to_string(), fd: Rc::clone(fd), trusted };
        match known.iter().position(|d| d.path == path) {
            Some(i) => {
                if let Some(d) = known.get_mut(i).filter(|d| trusted && !d.trusted) {
                    *d = entry;
                }
            }
            None if known.len() < WALKED_MAX => known.push(entry),
            None => {}
        }
    }
}

/// The deepest directory above the last of `parts` that a walk already
/// reached: how many components it covers, its path and its descriptor.
fn deepest_walked<S: Sys>(sys: &S, parts: &[&str], trusted: bool) -> Option<(usize, String, Rc<OwnedFd>)> {
    let walked = sys.walked();
    // `/` itself is opened afresh: the caller wants its own descriptor.
    if walked.is_empty() || parts.is_empty() {
        return None;
    }
    // "/", "/a", "/a/b", ... for every directory above the last component.
    let mut prefixes = vec![String::from("/")];
    let mut sofar = String::new();
    for part in parts.iter().take(parts.len().saturating_sub(1)) {
        sofar.push('/');
        sofar.push_str(part);
        prefixes.push(sofar.clone());
    }
    prefixes.into_iter().enumerate().rev().find_map(|(k, path)| {
        walked.find(&path, trusted).map(|fd| (k, if k == 0 { String::new() } else { path }, fd))
    })
}

/// Opens `path` walking from the root: each directory with
/// `O_PATH|O_DIRECTORY|O_NOFOLLOW`, the last component with `last_flags`
/// (plus `O_NOFOLLOW|O_CLOEXEC`). With [`Trust::RootOwned`] the root, every
/// directory and the file itself must be owned by root and not writable by
/// others. A walk starts at the deepest directory above the last component
/// that an earlier one reached (and found trusted, for a trusted walk: see
/// [`Walked`]).
pub fn open_path<S: Sys>(sys: &S, path: &str, last_flags: OFlag, trust: Trust) -> Result<Opened> {
    let parts = components(path)?;
    let checked = trust == Trust::RootOwned;
    let (skip, mut sofar, mut fd) = match deepest_walked(sys, &parts, checked) {
        Some(found) => found,
        None => {
            let root = sys.root()?;
            if checked || parts.is_empty() {
                let stat = sys.fstat(root.as_fd())?;
                if checked {
                    check_trusted(sys, "/", &stat)?;
                }
                if parts.is_empty() {
                    return Ok(Opened { fd: root, stat });
                }
            }
            let root = Rc::new(root);
            sys.walked().keep("/", &root, checked);
            (0, String::new(), root)
        }
    };
    let n = parts.len();
    for (i, part) in parts.into_iter().enumerate().skip(skip) {
        sofar.push('/');
        sofar.push_str(part);
        let last = i + 1 == n;
        let flags = if last { last_flags } else { OFlag::O_PATH | OFlag::O_DIRECTORY };
        let next = sys.openat(fd.as_fd(), OsStr::new(part), flags, Mode::empty()).map_err(|e| match e.errno_value() {
            Some(errno) => Error::errno(format!("open {sofar}"), errno),
            None => e,
        })?;
        // Without a trust check only the file itself is inspected: the
        // directories on the way were opened without following anything.
        if checked || last {
            let stat = sys.fstat(next.as_fd()).context(|| format!("inspect {sofar}"))?;
            if checked {
                check_trusted(sys, &sofar, &stat)?;
            }
            if last {
                return Ok(Opened { fd: next, stat });
            }
        }
        fd = Rc::new(next);
        sys.walked().keep(&sofar, &fd, checked);
    }
    Err(Error::because(format!("open {path}"), "it has no components"))
}

/// Reads a regular file of at most `max` bytes through a root-owned path.
/// The file is opened non-blocking so a FIFO planted there cannot hang us,
/// and its type is checked on the descriptor before reading.
pub fn read_trusted_file<S: Sys>(sys: &S, path: &str, max: usize) -> Result<Vec<u8>> {
    let opened = open_path(sys, path, OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY, Trust::RootOwned)?;
    if !opened.stat.is_file() {
        return Err(Error::because(format!("read {path}"), "it is not a regular file"));
    }
    if opened.stat.size > max as u64 {
        return Err(Error::because(format!("read {path}"), format!("it is larger than {max} bytes")));
    }
    sys.read_bounded(opened.fd.as_fd(), max).context(|| format!("read {path}"))
}

/// Reads a small file through any path without following symlinks.
pub fn read_small_file<S: Sys>(sys: &S, path: &str, max: usize) -> Result<Vec<u8>> {
    let opened = open_path(sys, path, OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY, Trust::Any)?;
    sys.read_bounded(opened.fd.as_fd(), max).context(|| format!("read {path}"))
}

/// Creates every missing directory of `path` with `mode`, walking with
/// `mkdirat`/`openat` so that no symlink is followed. It runs with the
/// caller's identity, so it can only create what the caller could.
pub fn mkpath<S: Sys>(sys: &S, path: &str, mode: Mode) -> Result<()> {
    let mut fd = sys.root()?;
    let mut sofar = String::new();
    for part in components(path)? {
        sofar.push('/');
        sofar.push_str(part);
        match sys.mkdirat(fd.as_fd(), OsStr::new(part), mode) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => return Err(Error::errno(format!("create directory {sofar}"), e)),
        }
        fd = sys.openat(fd.as_fd(), OsStr::new(part), OFlag::O_PATH | OFlag::O_DIRECTORY, Mode::empty()).map_err(
            |e| match e.errno_value() {
                Some(errno) => Error::errno(format!("open {sofar}"), errno),
                None => e,
            },
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::sys::fake::FakeSys;

    #[test]
    fn components_refuse_odd_paths() {
        assert_eq!(components("/a//b/").unwrap(), vec!["a", "b"]);
        assert!(components("a/b").is_err());
        assert!(components("/a/../b").is_err());
        assert!(components("/a/./b").is_err());
    }

    #[test]
    fn trusted_read_checks_every_level() {
        let sys = FakeSys::new();
        sys.set_root_mode(0o755);
        sys.file("/a/b/f", b"hello", 0o644);
        sys.dir("/a", 0o755);
        sys.dir("/a/b", 0o755);
        assert_eq!(read_trusted_file(&sys, "/a/b/f", 100).unwrap(), b"hello");
        assert_eq!(
            read_trusted_file(&sys, "/a/b/f", 3).unwrap_err().to_string(),
            "cannot read /a/b/f: it is larger than 3 bytes"
        );
        sys.dir("/a/b", 0o777);
        assert_eq!(
            read_trusted_file(&sys, "/a/b/f", 100).unwrap_err().to_string(),
            "cannot trust /a/b: it is writable by others (777)"
        );
        sys.dir("/a/b", 0o755);
        sys.file("/a/b/f", b"hello", 0o646);
        assert_eq!(
            read_trusted_file(&sys, "/a/b/f", 100).unwrap_err().to_string(),
            "cannot trust /a/b/f: it is writable by others (646)"
        );
        sys.file("/a/b/f", b"hello", 0o644);
        std::os::unix::fs::symlink("f", sys.path("/a/b/link")).unwrap();
        assert_eq!(
            read_trusted_file(&sys, "/a/b/link", 100).unwrap_err().to_string(),
            "cannot open /a/b/link: Too many symbolic links encountered"
        );
        std::os::unix::fs::symlink("b", sys.path("/a/c")).unwrap();
        assert_eq!(
            read_trusted_file(&sys, "/a/c/f", 100).unwrap_err().to_string(),
            "cannot open /a/c: Not a directory"
        );
        nix::unistd::mkfifo(&sys.path("/a/b/fifo"), Mode::from_bits_truncate(0o644)).unwrap();
        assert_eq!(
            read_trusted_file(&sys, "/a/b/fifo", 100).unwrap_err().to_string(),
            "cannot read /a/b/fifo: it is not a regular file"
        );
        assert_eq!(
            read_trusted_file(&sys, "/a/b/missing", 100).unwrap_err().errno_value(),
            Some(Errno::ENOENT)
        );
    }

    #[test]
    fn ownership_is_checked() {
        let mut sys = FakeSys::new();
        sys.file("/f", b"x", 0o644);
        // Nothing the test creates is owned by this uid plus one.
        sys.trusted = Some((nix::unistd::getuid().as_raw() + 1, 0));
        let err = open_path(&sys, "/f", OFlag::O_RDONLY, Trust::RootOwned).unwrap_err();
        assert!(err.to_string().starts_with("cannot trust /: it is owned by "), "{err}");
        assert!(open_path(&sys, "/f", OFlag::O_RDONLY, Trust::Any).is_ok());
    }

    #[test]
    fn mkpath_creates_missing_levels_without_following_symlinks() {
        let sys = FakeSys::new();
        mkpath(&sys, "/home/u/snap/x/1", Mode::from_bits_truncate(0o755)).unwrap();
        assert!(sys.path("/home/u/snap/x/1").is_dir());
        std::os::unix::fs::symlink("/etc", sys.path("/home/u/evil")).unwrap();
        let err = mkpath(&sys, "/home/u/evil/x", Mode::from_bits_truncate(0o755)).unwrap_err();
        assert_eq!(err.to_string(), "cannot open /home/u/evil: Not a directory");
    }

    /// The components a walk opened, as the fake recorded them.
    fn opens_of(sys: &FakeSys, f: impl FnOnce()) -> Vec<String> {
        let before = sys.calls().len();
        f();
        sys.calls()[before..].iter().filter(|c| c.starts_with("openat(")).cloned().collect()
    }

    fn trusted_tree() -> FakeSys {
        let sys = FakeSys::new();
        sys.set_root_mode(0o755);
        sys.dir("/var", 0o755);
        sys.dir("/var/lib", 0o755);
        sys.dir("/var/lib/snapd", 0o755);
        sys.file("/var/lib/snapd/a", b"a", 0o644);
        sys.file("/var/lib/snapd/b", b"b", 0o644);
        sys.dir("/var/lib/snapd/open", 0o777);
        sys.file("/var/lib/snapd/open/c", b"c", 0o644);
        sys
    }

    #[test]
    fn a_walk_starts_at_the_deepest_directory_an_earlier_one_found_trusted() {
        let sys = trusted_tree();
        let read = |p: &str| read_trusted_file(&sys, p, 10).unwrap();
        assert_eq!(opens_of(&sys, || assert_eq!(read("/var/lib/snapd/a"), b"a")), ["openat(var)", "openat(lib)", "openat(snapd)", "openat(a)"]);
        assert_eq!(opens_of(&sys, || assert_eq!(read("/var/lib/snapd/b"), b"b")), ["openat(b)"]);
        assert_eq!(sys.walked.trusted(), 4, "/, /var, /var/lib and /var/lib/snapd");
        // A walk without trust checks starts there too, and keeps what it
        // reached, unchecked.
        let any = || read_small_file(&sys, "/var/lib/snapd/open/c", 10).unwrap();
        assert_eq!(opens_of(&sys, || assert_eq!(any(), b"c")), ["openat(open)", "openat(c)"]);
        assert_eq!(opens_of(&sys, || assert_eq!(any(), b"c")), ["openat(c)"]);
        assert_eq!((sys.walked.len(), sys.walked.trusted()), (5, 4));
        // An unchecked directory never serves a trusted walk: one others
        // may write to is refused every time, and never marked trusted.
        for _ in 0..2 {
            let opens = opens_of(&sys, || {
                let err = read_trusted_file(&sys, "/var/lib/snapd/open/c", 10).unwrap_err();
                assert_eq!(err.to_string(), "cannot trust /var/lib/snapd/open: it is writable by others (777)");
            });
            assert_eq!(opens, ["openat(open)"]);
        }
        assert_eq!((sys.walked.len(), sys.walked.trusted()), (5, 4));
        // A directory first reached unchecked is marked trusted by a
        // trusted walk that checks it.
        sys.dir("/etc", 0o755);
        sys.file("/etc/f", b"f", 0o644);
        assert_eq!(opens_of(&sys, || drop(read_small_file(&sys, "/etc/f", 10).unwrap())), ["openat(etc)", "openat(f)"]);
        assert_eq!(opens_of(&sys, || drop(read_trusted_file(&sys, "/etc/f", 10).unwrap())), ["openat(etc)", "openat(f)"]);
        assert_eq!(opens_of(&sys, || drop(read_trusted_file(&sys, "/etc/f", 10).unwrap())), ["openat(f)"]);
        assert_eq!((sys.walked.len(), sys.walked.trusted()), (2, 2), "the helpers forgot what was known before /etc was made");
        // `/` itself, asked for once it is known, is opened again.
        for trust in [Trust::Any, Trust::RootOwned] {
            let root = open_path(&sys, "/", OFlag::O_PATH | OFlag::O_DIRECTORY, trust).unwrap();
            assert!(root.stat.is_dir_type());
        }
    }

    #[test]
    fn what_may_change_a_path_makes_walks_start_at_the_root_again() {
        let sys = trusted_tree();
        let uid = nix::unistd::getuid();
        let gid = nix::unistd::getgid();
        type Change = Box<dyn Fn(&FakeSys)>;
        let changes: Vec<(&str, Change)> = vec![
            ("unshare", Box::new(|s: &FakeSys| s.unshare_mount_ns().unwrap())),
            ("setns", Box::new(|s: &FakeSys| s.setns_mount(s.root().unwrap().as_fd()).unwrap())),
            ("mount", Box::new(|s: &FakeSys| {
                let root = s.root().unwrap();
                s.mount(crate::sys::Source::Path("none"), root.as_fd(), "/", Some("tmpfs"), nix::mount::MsFlags::empty(), None).unwrap()
            })),
            ("umount", Box::new(|s: &FakeSys| s.umount("/x", true).unwrap())),
            ("setresuid", Box::new(move |s: &FakeSys| s.setresuid(uid, uid, uid).unwrap())),
            ("setresgid", Box::new(move |s: &FakeSys| s.setresgid(gid, gid, gid).unwrap())),
            ("set_fs_ids", Box::new(move |s: &FakeSys| s.set_fs_ids(uid, gid).unwrap())),
            ("set_caps", Box::new(|s: &FakeSys| s.set_caps(s.get_caps().unwrap()).unwrap())),
            ("renameat", Box::new(|s: &FakeSys| {
                let root = s.root().unwrap();
                let _ = s.renameat(root.as_fd(), OsStr::new("nothing"), OsStr::new("nothing-else"));
            })),
        ];
        for (what, change) in changes {
            read_trusted_file(&sys, "/var/lib/snapd/a", 10).unwrap();
            assert!(!sys.walked.is_empty(), "{what}");
            change(&sys);
            assert!(sys.walked.is_empty(), "{what} keeps the walked directories");
            let opens = opens_of(&sys, || drop(read_trusted_file(&sys, "/var/lib/snapd/b", 10).unwrap()));
            assert_eq!(opens, ["openat(var)", "openat(lib)", "openat(snapd)", "openat(b)"], "{what}");
        }
    }

    #[test]
    fn at_most_a_few_dozen_directories_are_kept() {
        let sys = FakeSys::new();
        sys.set_root_mode(0o755);
        for i in 0..(WALKED_MAX + 8) {
            sys.file(&format!("/d{i}/f"), b"x", 0o644);
            sys.dir(&format!("/d{i}"), 0o755);
        }
        for i in 0..(WALKED_MAX + 8) {
            read_trusted_file(&sys, &format!("/d{i}/f"), 10).unwrap();
        }
        assert_eq!(sys.walked.len(), WALKED_MAX);
    }
}

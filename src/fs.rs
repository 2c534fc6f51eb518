//! Opening paths component by component from the root, never following a
//! symlink, with ownership and mode checks on each opened descriptor.

use crate::error::{Context, Error, Result};
use crate::sys::{FileStat, Sys};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};

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

/// Opens `path` walking from the root: each directory with
/// `O_PATH|O_DIRECTORY|O_NOFOLLOW`, the last component with `last_flags`
/// (plus `O_NOFOLLOW|O_CLOEXEC`). With [`Trust::RootOwned`] the root, every
/// directory and the file itself must be owned by root and not writable by
/// others.
pub fn open_path<S: Sys>(sys: &S, path: &str, last_flags: OFlag, trust: Trust) -> Result<Opened> {
    let parts = components(path)?;
    let mut fd = sys.root()?;
    let checked = trust == Trust::RootOwned;
    if checked || parts.is_empty() {
        let stat = sys.fstat(fd.as_fd())?;
        if checked {
            check_trusted(sys, "/", &stat)?;
        }
        if parts.is_empty() {
            return Ok(Opened { fd, stat });
        }
    }
    let mut sofar = String::new();
    let n = parts.len();
    for (i, part) in parts.into_iter().enumerate() {
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
        fd = next;
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
        std::fs::set_permissions(sys.root.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
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
}

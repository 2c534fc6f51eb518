//! Directories opened while one change is carried out, by path.
//!
//! A change with a writable mimic makes and mounts on dozens of paths
//! under one directory; walking each from the root, one name at a time,
//! made thousands of `openat` calls for one profile. Here each directory
//! on the way is opened once per change, by `openat(O_NOFOLLOW)` on the
//! descriptor of the one above it (itself opened so), and what
//! `fstatfs`/`fstat` said of it is kept with it. Nothing is followed:
//! a symlink where a directory is expected fails the open, exactly as the
//! walk from the root did.
//!
//! A mount or unmount at a path makes the descriptors opened at and below
//! it name what is now hidden (or detached), and a removal names what is
//! gone: [`Dirs::forget`] drops them, so the next use opens again through
//! what is there now. The directories above stay right: a lookup through
//! them crosses the new mount. The whole cache is dropped between changes.

use super::assume::DirFacts;
use crate::error::{Error, Result};
use crate::fs::components;
use crate::sys::Sys;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};
use std::rc::Rc;

/// One opened directory.
struct Dir {
    fd: Rc<OwnedFd>,
    facts: Option<DirFacts>,
}

/// The directories opened so far in this change, by clean absolute path.
#[derive(Default)]
pub struct Dirs {
    open: HashMap<String, Dir>,
}

/// `path` (absolute and clean, not the root) as its parent and last name.
pub fn split(path: &str) -> Option<(&str, &str)> {
    match path.rsplit_once('/')? {
        (_, "") => None,
        ("", name) => Some(("/", name)),
        (dir, name) => Some((dir, name)),
    }
}

impl Dirs {
    /// The directory at `path`, opened (`O_PATH|O_DIRECTORY|O_NOFOLLOW`)
    /// through its parent's descriptor unless it is already open.
    pub fn open<S: Sys>(&mut self, sys: &S, path: &str) -> Result<Rc<OwnedFd>> {
        if let Some(d) = self.open.get(path) {
            return Ok(d.fd.clone());
        }
        let fd = self.open_entry(sys, path, OFlag::O_PATH | OFlag::O_DIRECTORY)?;
        Ok(self.insert(path, fd))
    }

    /// `path` itself opened with `flags` (and `O_NOFOLLOW`) through its
    /// parent's descriptor; not kept.
    pub fn open_entry<S: Sys>(&mut self, sys: &S, path: &str, flags: OFlag) -> Result<OwnedFd> {
        if path == "/" {
            return sys.root();
        }
        components(path)?;
        // One spelling per path, so that forgetting a path forgets it.
        let (dir, name) = split(path)
            .filter(|_| !path.contains("//"))
            .ok_or_else(|| Error::because(format!("use path {path}"), "it is not canonical"))?;
        let parent = self.open(sys, dir)?;
        sys.openat(parent.as_fd(), OsStr::new(name), flags, Mode::empty()).map_err(|e| match e.errno_value() {
            Some(errno) => Error::errno(format!("open {path}"), errno),
            None => e,
        })
    }

    /// Remembers `fd`, just opened as the directory at `path`.
    pub fn insert(&mut self, path: &str, fd: OwnedFd) -> Rc<OwnedFd> {
        let fd = Rc::new(fd);
        self.open.insert(path.to_owned(), Dir { fd: fd.clone(), facts: None });
        fd
    }

    /// The directory at `path` if it is already open.
    pub fn cached(&self, path: &str) -> Option<Rc<OwnedFd>> {
        self.open.get(path).map(|d| d.fd.clone())
    }

    /// What `fstatfs` and `fstat` say of the open directory at `path`,
    /// asked once.
    pub fn facts<S: Sys>(&mut self, sys: &S, path: &str) -> Result<DirFacts> {
        let fd = self.open(sys, path)?;
        if let Some(facts) = self.open.get(path).and_then(|d| d.facts) {
            return Ok(facts);
        }
        let facts = DirFacts { fs: sys.statfs(fd.as_fd())?, dev: sys.fstat(fd.as_fd())?.dev };
        if let Some(d) = self.open.get_mut(path) {
            d.facts = Some(facts);
        }
        Ok(facts)
    }

    /// Forgets `path` and everything below it (something was mounted,
    /// unmounted or removed there).
    pub fn forget(&mut self, path: &str) {
        let below = if path == "/" { "/".to_owned() } else { format!("{path}/") };
        self.open.retain(|p, _| p != path && !p.starts_with(&below));
    }

    /// Forgets everything (a change is done).
    pub fn clear(&mut self) {
        self.open.clear();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::sys::fake::FakeSys;

    #[test]
    fn each_directory_is_opened_once_and_symlinks_are_refused() {
        let sys = FakeSys::new();
        sys.dir("/a/b/c", 0o755);
        sys.dir("/a/b/d", 0o755);
        let mut dirs = Dirs::default();
        dirs.open(&sys, "/a/b/c").unwrap();
        dirs.open(&sys, "/a/b/d").unwrap();
        dirs.open(&sys, "/a/b").unwrap();
        let opens: Vec<String> = sys.calls().into_iter().filter(|c| c.starts_with("openat")).collect();
        assert_eq!(opens, ["openat(a)", "openat(b)", "openat(c)", "openat(d)"]);
        std::fs::create_dir_all(sys.path("/outside")).unwrap();
        std::os::unix::fs::symlink(sys.path("/outside"), sys.path("/a/e")).unwrap();
        assert_eq!(dirs.open(&sys, "/a/e/x").unwrap_err().to_string(), "cannot open /a/e: Not a directory");
        for bad in ["a", "/a/../b", "/a/", "/a//b", "//a"] {
            assert!(dirs.open(&sys, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn forgetting_a_path_forgets_what_is_below_it_only() {
        let sys = FakeSys::new();
        sys.dir("/a/b/c", 0o755);
        sys.dir("/a/bc", 0o755);
        let mut dirs = Dirs::default();
        for p in ["/a/b/c", "/a/bc"] {
            dirs.open(&sys, p).unwrap();
        }
        dirs.facts(&sys, "/a/b").unwrap();
        dirs.forget("/a/b");
        assert!(dirs.cached("/a/b").is_none() && dirs.cached("/a/b/c").is_none());
        assert!(dirs.cached("/a").is_some() && dirs.cached("/a/bc").is_some());
        // Opened again through what is there now.
        let before = sys.calls().len();
        dirs.open(&sys, "/a/b/c").unwrap();
        assert_eq!(sys.calls()[before..], ["openat(b)".to_string(), "openat(c)".into()]);
        dirs.clear();
        assert!(dirs.cached("/a").is_none());
    }
}

//! How the GPU survey sees the host: a read-only view of its files in which
//! nothing is followed blindly. Paths are resolved here, component by
//! component; a symlink on the way is expanded only if root owns it, a
//! directory on the way must be root's and not writable by others (unless it
//! is sticky), and what is finally used must be root's and writable by no
//! group or other user.
//!
//! [`SysView`] is the view through the launcher's [`Sys`]; tests describe
//! hosts as data with [`TreeView`].

use crate::sys::{EntryKind, Sys};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};

/// What a directory entry is, without following it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    File,
    Dir,
    Symlink(String),
    Other,
}

/// One directory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub kind: NodeKind,
    /// Owned by root (the user the launcher trusts).
    pub root_owned: bool,
    /// Permission bits and file type (`st_mode`).
    pub mode: u32,
}

impl Node {
    /// Root's and writable by nobody else: fit to be used.
    pub fn trusted(&self) -> bool {
        self.root_owned && (matches!(self.kind, NodeKind::Symlink(_)) || self.mode & 0o022 == 0)
    }
    /// Fit to be walked through: root's, and not writable by others unless
    /// sticky (a sticky directory's root-owned entries cannot be replaced).
    fn passable(&self) -> bool {
        self.root_owned && (self.mode & 0o002 == 0 || self.mode & 0o1000 != 0)
    }
}

/// A read-only view of the host's files.
pub trait HostView {
    /// `name` in the directory `dir` (an already resolved path), not followed.
    fn entry(&self, dir: &str, name: &str) -> Option<Node>;
    /// The entries of the resolved directory `dir`, sorted by name.
    fn list(&self, dir: &str) -> Option<Vec<(String, EntryKind)>>;
}

/// Why a path was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Missing,
    NotADirectory,
    NotAFile,
    /// A symlink on the way is not root's.
    UntrustedLink(String),
    /// A directory on the way, or the last component, is not root's or is
    /// writable by others.
    Untrusted(String),
    TooManyLinks,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Missing => write!(f, "it does not exist"),
            Refusal::NotADirectory => write!(f, "it is not a directory"),
            Refusal::NotAFile => write!(f, "it is not a regular file"),
            Refusal::UntrustedLink(p) => write!(f, "the symlink {p} is not owned by root"),
            Refusal::Untrusted(p) => write!(f, "{p} is not owned by root or can be written by other users"),
            Refusal::TooManyLinks => write!(f, "too many symbolic links"),
        }
    }
}

/// What a path must lead to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Dir,
    File,
}

fn join(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

fn parent(path: &str) -> &str {
    match path.rsplit_once('/') {
        Some(("", _)) | None => "/",
        Some((p, _)) => p,
    }
}

/// Resolves `path` (absolute) to the path of what it finally names, through
/// root-owned symlinks and passable directories only; the result must be
/// trusted and of the wanted kind.
pub fn resolve(view: &dyn HostView, path: &str, want: Want) -> Result<String, Refusal> {
    let mut todo: Vec<String> = path.split('/').filter(|c| !c.is_empty()).rev().map(str::to_string).collect();
    let mut at = "/".to_string();
    let mut links = 0;
    while let Some(part) = todo.pop() {
        match part.as_str() {
            "." => continue,
            ".." => {
                at = parent(&at).to_string();
                continue;
            }
            _ => {}
        }
        let node = view.entry(&at, &part).ok_or(Refusal::Missing)?;
        let here = join(&at, &part);
        let last = todo.is_empty();
        match &node.kind {
            NodeKind::Symlink(target) => {
                if !node.root_owned {
                    return Err(Refusal::UntrustedLink(here));
                }
                links += 1;
                if links > 16 {
                    return Err(Refusal::TooManyLinks);
                }
                if target.starts_with('/') {
                    at = "/".to_string();
                }
                todo.extend(target.split('/').filter(|c| !c.is_empty()).rev().map(str::to_string));
            }
            NodeKind::Dir if !last => {
                if !node.passable() {
                    return Err(Refusal::Untrusted(here));
                }
                at = here;
            }
            kind => {
                if !last {
                    return Err(Refusal::NotADirectory);
                }
                match (want, kind) {
                    (Want::Dir, NodeKind::Dir) | (Want::File, NodeKind::File) => {}
                    (Want::Dir, _) => return Err(Refusal::NotADirectory),
                    (Want::File, _) => return Err(Refusal::NotAFile),
                }
                if !node.trusted() {
                    return Err(Refusal::Untrusted(here));
                }
                return Ok(here);
            }
        }
    }
    // The path was "/" or ended in ".." or "." or a symlink to "/".
    let (dir, name) = (parent(&at).to_string(), at.rsplit('/').next().unwrap_or("").to_string());
    if name.is_empty() {
        return Err(Refusal::Untrusted("/".into()));
    }
    resolve(view, &join(&dir, &name), want)
}

/// The host through the launcher's system calls. Directories are opened
/// once (`O_PATH|O_NOFOLLOW`, walked from the root) and kept for the survey.
pub struct SysView<'s, S: Sys> {
    sys: &'s S,
    dirs: RefCell<HashMap<String, Option<std::rc::Rc<OwnedFd>>>>,
    /// Every entry looked at, by path: the survey asks about many twice.
    nodes: RefCell<HashMap<String, Option<Node>>>,
}

impl<'s, S: Sys> SysView<'s, S> {
    pub fn new(sys: &'s S) -> Self {
        SysView { sys, dirs: RefCell::new(HashMap::new()), nodes: RefCell::new(HashMap::new()) }
    }

    /// The directory `path` (resolved: no symlink in it) opened `O_PATH`.
    fn dir(&self, path: &str) -> Option<std::rc::Rc<OwnedFd>> {
        if let Some(fd) = self.dirs.borrow().get(path) {
            return fd.clone();
        }
        let fd = if path == "/" {
            self.sys.root().ok()
        } else {
            let (up, name) = path.rsplit_once('/')?;
            let up = self.dir(if up.is_empty() { "/" } else { up })?;
            let flags = nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_DIRECTORY;
            self.sys.openat(up.as_fd(), OsStr::new(name), flags, nix::sys::stat::Mode::empty()).ok()
        }
        .map(std::rc::Rc::new);
        self.dirs.borrow_mut().insert(path.to_string(), fd.clone());
        fd
    }
}

impl<S: Sys> HostView for SysView<'_, S> {
    fn entry(&self, dir: &str, name: &str) -> Option<Node> {
        let path = join(dir, name);
        if let Some(node) = self.nodes.borrow().get(&path) {
            return node.clone();
        }
        let node = self.lookup(dir, name);
        self.nodes.borrow_mut().insert(path, node.clone());
        node
    }

    fn list(&self, dir: &str) -> Option<Vec<(String, EntryKind)>> {
        let fd = self.dir(dir)?;
        let entries = self.sys.read_dir(fd.as_fd()).ok()?;
        Some(entries.into_iter().filter_map(|(name, kind)| Some((name.into_string().ok()?, kind))).collect())
    }
}

impl<S: Sys> SysView<'_, S> {
    fn lookup(&self, dir: &str, name: &str) -> Option<Node> {
        let fd = self.dir(dir)?;
        let st = self.sys.lstatat(fd.as_fd(), OsStr::new(name)).ok()?;
        let kind = match st.mode & libc::S_IFMT {
            libc::S_IFREG => NodeKind::File,
            libc::S_IFDIR => NodeKind::Dir,
            libc::S_IFLNK => {
                let target = self.sys.readlinkat(fd.as_fd(), OsStr::new(name)).ok()?;
                NodeKind::Symlink(target.into_string().ok()?)
            }
            _ => NodeKind::Other,
        };
        Some(Node { kind, root_owned: st.uid == self.sys.trusted_owner().0, mode: st.mode })
    }
}

/// A host described as data, for tests: absolute paths to nodes; every
/// parent directory is implied, root-owned 0755.
#[cfg(test)]
#[derive(Debug, Default, Clone)]
pub struct TreeView {
    pub nodes: std::collections::BTreeMap<String, Node>,
}

#[cfg(test)]
impl TreeView {
    fn implied_dirs(&mut self, path: &str) {
        let mut p = parent(path).to_string();
        while p != "/" {
            self.nodes.entry(p.clone()).or_insert(Node { kind: NodeKind::Dir, root_owned: true, mode: 0o40755 });
            p = parent(&p).to_string();
        }
    }
    pub fn file(mut self, path: &str) -> Self {
        self.implied_dirs(path);
        self.nodes.insert(path.into(), Node { kind: NodeKind::File, root_owned: true, mode: 0o100755 });
        self
    }
    pub fn link(mut self, path: &str, target: &str) -> Self {
        self.implied_dirs(path);
        self.nodes.insert(path.into(), Node { kind: NodeKind::Symlink(target.into()), root_owned: true, mode: 0o120777 });
        self
    }
    pub fn dir(mut self, path: &str) -> Self {
        self.implied_dirs(path);
        self.nodes.insert(path.into(), Node { kind: NodeKind::Dir, root_owned: true, mode: 0o40755 });
        self
    }
    /// Changes an existing node's owner and mode.
    pub fn owned(mut self, path: &str, root_owned: bool, perms: u32) -> Self {
        if let Some(n) = self.nodes.get_mut(path) {
            n.root_owned = root_owned;
            n.mode = (n.mode & libc::S_IFMT) | perms;
        }
        self
    }
}

#[cfg(test)]
impl HostView for TreeView {
    fn entry(&self, dir: &str, name: &str) -> Option<Node> {
        self.nodes.get(&join(dir, name)).cloned()
    }
    fn list(&self, dir: &str) -> Option<Vec<(String, EntryKind)>> {
        if !matches!(self.nodes.get(dir)?.kind, NodeKind::Dir) && dir != "/" {
            return None;
        }
        let mut out: Vec<(String, EntryKind)> = self
            .nodes
            .iter()
            .filter(|(p, _)| parent(p) == dir && p.as_str() != "/")
            .map(|(p, n)| {
                let kind = match n.kind {
                    NodeKind::File => EntryKind::File,
                    NodeKind::Dir => EntryKind::Dir,
                    NodeKind::Symlink(_) => EntryKind::Symlink,
                    NodeKind::Other => EntryKind::Other,
                };
                (p.rsplit('/').next().unwrap_or("").to_string(), kind)
            })
            .collect();
        out.sort();
        Some(out)
    }
}

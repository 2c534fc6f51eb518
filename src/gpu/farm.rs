//! A library farm: the symlinks that stand, in a tmpfs at
//! `/var/lib/snapd/lib/gl` (or `gl32`, `vulkan`, `glvnd`), for the host's
//! driver files, which the app reaches through `/var/lib/snapd/hostfs`.
//!
//! What goes in, from each source directory (later sources win a name):
//! - every entry matching one of snap-confine's globs (relative to the
//!   source, so `vdpau/libvdpau_nvidia.so*` looks one directory down);
//! - with a driver version, every entry named `*.so.<version>`, and every
//!   symlink named after one of those libraries (`libcuda.so.1` for
//!   `libcuda.so.580.159.04`) that resolves to one of them; in a driver's
//!   own directory also one directory down (`vdpau/`, `gbm/`). A library a
//!   new driver adds arrives with no change here.
//!
//! How each is linked, as snap-confine links it: a regular file to
//! `/var/lib/snapd/hostfs<path>`; a relative symlink as it is (it points
//! at another entry of the farm); an absolute symlink to what it finally
//! resolves to on the host, under `/var/lib/snapd/hostfs` (snap-confine
//! prefixes only the first hop, which breaks on chains of absolute links).
//! Nothing that is not root's, or that others can write, is linked.

use super::view::{resolve, HostView, NodeKind, Want};
use crate::sys::EntryKind;
use std::collections::BTreeMap;

/// Where the old root is seen from inside the sandbox.
pub const HOSTFS: &str = "/var/lib/snapd/hostfs";

/// One symlink of a farm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FarmLink {
    /// Its name inside the farm, e.g. `libcuda.so.1` or `vdpau/libvdpau_nvidia.so.1`.
    pub name: String,
    /// What it points at.
    pub target: String,
    /// The host file it ends at, when the survey resolved it (regular files
    /// and absolute links); relative links end at another link of the farm.
    pub host_file: Option<String>,
    /// Why it is there.
    pub reason: Reason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// It matches this glob of snap-confine's list.
    Glob(String),
    /// It carries the driver's version in its name.
    Versioned,
    /// It is a link resolving to a library carrying the driver's version.
    LinkToVersioned,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Glob(g) => write!(f, "glob {g}"),
            Reason::Versioned => write!(f, "driver version in its name"),
            Reason::LinkToVersioned => write!(f, "link to a versioned library"),
        }
    }
}

/// A farm: where it goes and what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Farm {
    /// The tmpfs mount point, e.g. `/var/lib/snapd/lib/gl`.
    pub dir: String,
    /// The host directories it was made from.
    pub sources: Vec<String>,
    /// Subdirectories created in the farm, e.g. `vdpau`.
    pub subdirs: Vec<String>,
    /// The links, sorted by name.
    pub links: Vec<FarmLink>,
    /// What was seen and left out, and why (for debug output and `confine gpu`).
    pub notes: Vec<String>,
}

/// What to gather into a farm.
#[derive(Debug, Clone, Copy)]
pub struct Gather<'a> {
    pub globs: &'a [&'a str],
    /// The driver's version, when it can be put in a file name.
    pub version: Option<&'a str>,
    /// Whether every subdirectory is looked into (a driver's own directory),
    /// or only those the globs name (a shared library directory).
    pub all_subdirs: bool,
}

/// Globs by the first bytes of their literal prefix, so that a name is
/// matched only against the few globs that can match it (a library
/// directory holds a thousand names; snap-confine's list has 75 globs).
struct GlobIndex<'g> {
    by_key: std::collections::HashMap<&'g [u8], Vec<&'g str>>,
    /// Globs whose literal prefix is shorter than the key.
    short: Vec<&'g str>,
}

const KEY: usize = 6;

impl<'g> GlobIndex<'g> {
    fn new(globs: &[&'g str]) -> Self {
        let mut by_key: std::collections::HashMap<&'g [u8], Vec<&'g str>> = std::collections::HashMap::new();
        let mut short = Vec::new();
        for g in globs {
            let literal = g.find(['*', '?']).unwrap_or(g.len());
            match g.as_bytes().get(..KEY).filter(|_| literal >= KEY) {
                Some(key) => by_key.entry(key).or_default().push(g),
                None => short.push(*g),
            }
        }
        GlobIndex { by_key, short }
    }

    fn find(&self, name: &str) -> Option<&'g str> {
        let keyed = name.as_bytes().get(..KEY).and_then(|k| self.by_key.get(k)).map(Vec::as_slice).unwrap_or(&[]);
        keyed.iter().chain(self.short.iter()).find(|g| glob_match(g, name)).copied()
    }
}

/// `fnmatch` without brackets: `*` and `?` never match `/`.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if (c == b'?' && n.get(ni) != Some(&b'/')) || Some(&c) == n.get(ni) => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) if n.get(sn) != Some(&b'/') => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                _ => return false,
            },
        }
    }
    p.get(pi..).is_some_and(|rest| rest.iter().all(|c| *c == b'*'))
}

fn join(dir: &str, name: &str) -> String {
    if name.is_empty() {
        dir.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// `a/b` + `../c` → `a/c`; `None` when it climbs out of the source.
fn lexical(base_dir: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> = base_dir.split('/').filter(|c| !c.is_empty()).collect();
    for c in target.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

struct Source<'v> {
    view: &'v dyn HostView,
    root: String,
}

impl Source<'_> {
    fn node(&self, rel: &str) -> Option<super::view::Node> {
        let (dir, name) = match rel.rsplit_once('/') {
            Some((d, n)) => (join(&self.root, d), n),
            None => (self.root.clone(), rel),
        };
        self.view.entry(&dir, name)
    }

    /// Follows relative links inside the source; the final name, or the
    /// host path an absolute link resolves to.
    fn follow(&self, rel: &str) -> Option<Ending> {
        let mut rel = rel.to_string();
        for _ in 0..8 {
            match self.node(&rel)?.kind {
                NodeKind::Symlink(t) if t.starts_with('/') => return resolve(self.view, &t, Want::File).ok().map(Ending::Host),
                NodeKind::Symlink(t) => {
                    let dir = rel.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
                    rel = lexical(dir, &t)?;
                }
                NodeKind::File => return Some(Ending::Inside(rel)),
                _ => return None,
            }
        }
        None
    }
}

enum Ending {
    /// A regular file of the source, by relative name.
    Inside(String),
    /// A trusted host file elsewhere.
    Host(String),
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Adds the entries of one source directory (already resolved and trusted)
/// to `links`.
fn gather_source(view: &dyn HostView, root: &str, gather: &Gather<'_>, farm: &mut Farm, links: &mut BTreeMap<String, FarmLink>) {
    let mut glob_dirs: Vec<&str> = gather.globs.iter().filter_map(|g| g.rsplit_once('/').map(|(d, _)| d)).collect();
    glob_dirs.sort_unstable();
    glob_dirs.dedup();
    // Only the subdirectories the globs name are looked into when no glob
    // and no version looks at the source's own names (the Vulkan and EGL
    // farms): each is then looked up by name, not found by listing.
    let own_names = gather.all_subdirs || gather.version.is_some() || gather.globs.iter().any(|g| !g.contains('/'));
    let top = if own_names {
        view.list(root)
    } else {
        Some(glob_dirs.iter().filter(|d| view.entry(root, d).is_some_and(|n| n.kind == NodeKind::Dir)).map(|d| (d.to_string(), EntryKind::Dir)).collect())
    };
    let Some(top) = top else {
        farm.notes.push(format!("{root}: cannot be listed"));
        return;
    };
    // The names looked at: the source's own, and those of the
    // subdirectories looked into, relative to the source.
    let mut names: Vec<(String, EntryKind)> = Vec::with_capacity(top.len());
    for (name, kind) in top {
        if kind == EntryKind::Dir && (gather.all_subdirs || glob_dirs.contains(&name.as_str())) {
            match view.entry(root, &name) {
                Some(n) if n.trusted() => {
                    for (inner, k) in view.list(&join(root, &name)).unwrap_or_default() {
                        names.push((format!("{name}/{inner}"), k));
                    }
                }
                _ => farm.notes.push(format!("{}: not owned by root or writable by others: left out", join(root, &name))),
            }
        }
        names.push((name, kind));
    }
    let src = Source { view, root: root.to_string() };
    let index = GlobIndex::new(gather.globs);
    let suffix = gather.version.map(|v| format!(".so.{v}"));
    let is_versioned = |path: &str| suffix.as_deref().is_some_and(|s| file_name(path).ends_with(s));
    // The library names the versioned files carry, e.g. "libcuda.so": a
    // link named after one may lead to one.
    let stems: Vec<String> = match &suffix {
        Some(s) => names.iter().filter_map(|(n, _)| n.strip_suffix(s.as_str())).map(|stem| format!("{stem}.so")).collect(),
        None => Vec::new(),
    };
    for (rel, kind) in &names {
        if !matches!(kind, EntryKind::File | EntryKind::Symlink) {
            continue;
        }
        let reason = if let Some(g) = index.find(rel) {
            Reason::Glob(g.to_string())
        } else if is_versioned(rel) {
            Reason::Versioned
        } else if *kind == EntryKind::Symlink && stems.iter().any(|s| rel.starts_with(s.as_str())) {
            match src.follow(rel) {
                Some(Ending::Inside(r)) if is_versioned(&r) => Reason::LinkToVersioned,
                Some(Ending::Host(h)) if is_versioned(&h) => Reason::LinkToVersioned,
                _ => continue,
            }
        } else {
            continue;
        };
        let path = join(root, rel);
        let Some(node) = src.node(rel) else { continue };
        if !node.trusted() {
            farm.notes.push(format!("{path}: not owned by root or writable by others: left out"));
            continue;
        }
        let (target, host_file) = match node.kind {
            NodeKind::File => (format!("{HOSTFS}{path}"), Some(path.clone())),
            NodeKind::Symlink(t) if t.starts_with('/') => match resolve(view, &t, Want::File) {
                Ok(host) => (format!("{HOSTFS}{host}"), Some(host)),
                Err(why) => {
                    farm.notes.push(format!("{path} -> {t}: {why}: left out"));
                    continue;
                }
            },
            NodeKind::Symlink(t) => (t, None),
            _ => continue,
        };
        if let Some((dir, _)) = rel.rsplit_once('/') {
            if !farm.subdirs.iter().any(|d| d == dir) {
                farm.subdirs.push(dir.to_string());
            }
        }
        links.insert(rel.clone(), FarmLink { name: rel.clone(), target, host_file, reason });
    }
}

/// Plans a farm at `dir` from the source directories (in order; a later
/// one replaces an earlier one's entry of the same name, as snap-confine
/// does). A source that does not resolve to a trusted directory is skipped
/// with a note.
pub fn plan(view: &dyn HostView, dir: &str, sources: &[String], gather: &Gather<'_>) -> Farm {
    let mut farm = Farm { dir: dir.to_string(), ..Farm::default() };
    let mut links = BTreeMap::new();
    for source in sources {
        match resolve(view, source, Want::Dir) {
            Ok(root) => {
                gather_source(view, &root, gather, &mut farm, &mut links);
                farm.sources.push(root);
            }
            Err(why) => farm.notes.push(format!("{source}: {why}: not used")),
        }
    }
    farm.subdirs.sort();
    farm.links = links.into_values().collect();
    farm
}

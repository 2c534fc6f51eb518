//! What an update does, as data: from the current profile (what is mounted)
//! and the desired one, the ordered list of changes. Pure: the only thing
//! it asks of the system is which mount points exist already
//! ([`FsView`]), so it is tested on plain data.
//!
//! The order is snapd's (`snap-update-ns` 2.57.6):
//!
//! 1. the current entries, last first, are kept or unmounted: an entry is
//!    kept when the desired profile has the same entry at the same place,
//!    when it is the launcher's tmpfs root, or when it is a synthetic entry
//!    (part of a writable mimic) needed by a desired entry; once one entry is
//!    unmounted, everything mounted below it goes too;
//! 2. the desired entries not kept are mounted: `overname` entries first,
//!    then those whose mount point exists, then the others grouped by the
//!    directory a writable mimic will have to be made in (sorted); within
//!    each group, overname before content before layouts, then by place.

use policy_cache::fstab::{Kind, MountEntry, Origin};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

/// What happens to an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// It stays mounted.
    Keep,
    Mount,
    Unmount,
}

/// One change of the namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub action: Action,
    pub entry: MountEntry,
}

impl Change {
    pub fn new(action: Action, entry: MountEntry) -> Change {
        Change { action, entry }
    }
}

impl fmt::Display for Change {
    /// As the mount(8), umount(8) or ln(1) command it stands for.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.entry;
        match (self.action, e.kind()) {
            (Action::Keep, _) => write!(f, "# keep {e}"),
            (Action::Mount, Kind::Symlink) => write!(f, "ln -s {} {}", e.symlink_target().unwrap_or(""), e.dir),
            (Action::Mount, _) => {
                let t = if e.fstype.is_empty() || e.fstype == "none" { String::new() } else { format!("-t {} ", e.fstype) };
                write!(f, "mount {t}-o {} {} {}", e.options.join(","), if e.name.is_empty() { "none" } else { &e.name }, e.dir)
            }
            (Action::Unmount, Kind::Symlink) => write!(f, "rm {}", e.dir),
            (Action::Unmount, _) => write!(f, "umount {}{}", if e.detach() { "--lazy " } else { "" }, e.dir),
        }
    }
}

/// `path` cleaned lexically, as Go's `filepath.Clean` does: one slash
/// between names, no `.`, `..` resolved against what precedes it (at the
/// root it stays the root), no trailing slash; empty becomes `.`.
pub fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// The directory holding `path` (`filepath.Dir`).
pub fn parent(path: &str) -> String {
    match path.rfind('/') {
        Some(0) => "/".into(),
        Some(i) => clean(path.get(..i).unwrap_or("")),
        None => ".".into(),
    }
}

/// What the change computation needs to know of the namespace: whether a
/// mount point is already there, as what. Nothing is followed.
pub trait FsView {
    fn is_dir(&self, path: &str) -> bool;
    fn is_file(&self, path: &str) -> bool;
    fn is_symlink(&self, path: &str) -> bool;
}

/// `dir` with one trailing slash, so that `/a/` sorts before `/a-b/` and a
/// directory right before what is inside it.
fn with_slash(dir: &str) -> String {
    if dir.ends_with('/') {
        dir.to_owned()
    } else {
        format!("{dir}/")
    }
}

/// Mount order: overname entries, then content and other entries, then
/// layouts; then by mount point.
fn mount_order(e: &MountEntry) -> (u8, String) {
    let class = match e.origin() {
        Origin::Overname => 0,
        Origin::Layout => 2,
        _ => 1,
    };
    (class, with_slash(&e.dir))
}

/// The order the current entries are examined in: overname entries first,
/// then by mount point (so each directory comes right before its content).
fn examine_order(e: &MountEntry) -> (u8, String) {
    (u8::from(e.origin() != Origin::Overname), with_slash(&e.dir))
}

/// The entry with `x-snapd.detach` added where it unmounts better lazily
/// (tmpfs and binds, which may have mounts below them).
fn detached(entry: &MountEntry) -> MountEntry {
    let mut e = entry.clone();
    if (e.fstype == "tmpfs" || e.is_bind()) && !e.detach() {
        e.options.push("x-snapd.detach".into());
    }
    e
}

/// Whether `entry`'s mount point is already there, as its kind needs.
fn target_exists(fs: &dyn FsView, entry: &MountEntry) -> bool {
    match entry.kind() {
        Kind::Directory => fs.is_dir(&entry.dir),
        Kind::File => fs.is_file(&entry.dir),
        Kind::Symlink => fs.is_symlink(&entry.dir),
        Kind::Unknown => true,
    }
}

/// The nearest directory at or above `dir` that exists.
fn first_existing_dir(fs: &dyn FsView, dir: &str) -> String {
    let mut d = dir.to_owned();
    while d != "/" && d != "." && !fs.is_dir(&d) {
        d = parent(&d);
    }
    d
}

/// The changes that turn the namespace described by `current` into the one
/// `desired` describes.
pub fn needed_changes(current: &[MountEntry], desired: &[MountEntry], fs: &dyn FsView) -> Vec<Change> {
    let cleaned = |entries: &[MountEntry]| -> Vec<MountEntry> {
        entries.iter().map(|e| MountEntry { dir: clean(&e.dir), ..e.clone() }).collect()
    };
    let current = cleaned(current);
    let mut desired = cleaned(desired);
    desired.sort_by_cached_key(mount_order);
    let by_dir: HashMap<&str, &MountEntry> = desired.iter().map(|e| (e.dir.as_str(), e)).collect();
    let desired_ids: BTreeSet<&str> = desired.iter().map(MountEntry::id).collect();

    // Which mounted entries stay: examined from the top of the tree down,
    // skipping everything below an entry that goes.
    let mut examined = current.clone();
    examined.sort_by_cached_key(examine_order);
    let mut reuse: BTreeSet<String> = BTreeSet::new();
    let mut skip: Option<String> = None;
    for e in &examined {
        if let Some(prefix) = &skip {
            if e.dir.starts_with(prefix.as_str()) {
                continue;
            }
        }
        skip = None;
        let keep = e.origin() == Origin::Rootfs
            || (e.is_synthetic() && e.needed_by().is_some_and(|n| desired_ids.contains(n)))
            || by_dir.get(e.dir.as_str()).is_some_and(|d| *d == e);
        if keep {
            reuse.insert(e.dir.clone());
        } else {
            skip = Some(with_slash(e.dir.trim_end_matches('/')));
        }
    }

    // Unmount in the reverse order of mounting (the order of the profile).
    let mut changes: Vec<Change> = current
        .iter()
        .rev()
        .map(|e| if reuse.contains(&e.dir) { Change::new(Action::Keep, e.clone()) } else { Change::new(Action::Unmount, detached(e)) })
        .collect();

    // Then mount what is missing: first what needs no new directory made
    // in a read-only or foreign place, then grouped by where a writable
    // mimic would be made.
    let mut independent: Vec<MountEntry> = Vec::new();
    let mut grouped: Vec<MountEntry> = Vec::new();
    let mut added: BTreeSet<String> = BTreeSet::new();
    let mut add = |list: &mut Vec<MountEntry>, e: &MountEntry| {
        if added.insert(e.dir.clone()) {
            list.push(e.clone());
        }
    };
    let wanted: Vec<&MountEntry> = desired.iter().filter(|e| !reuse.contains(&e.dir)).collect();
    let mut by_parent: BTreeMap<String, Vec<&MountEntry>> = BTreeMap::new();
    for e in &wanted {
        if e.origin() == Origin::Overname {
            add(&mut independent, e);
        }
        by_parent.entry(parent(&e.dir)).or_default().push(e);
    }
    let mut by_mimic: BTreeMap<String, Vec<&MountEntry>> = BTreeMap::new();
    for (dir, entries) in &by_parent {
        for e in entries {
            if target_exists(fs, e) {
                add(&mut independent, e);
            } else {
                by_mimic.entry(first_existing_dir(fs, dir)).or_default().push(e);
            }
        }
    }
    for entries in by_mimic.values_mut() {
        entries.sort_by_cached_key(|e| mount_order(e));
        for e in entries.iter() {
            add(&mut grouped, e);
        }
    }
    independent.sort_by_cached_key(mount_order);
    changes.extend(independent.into_iter().chain(grouped).map(|e| Change::new(Action::Mount, e)));
    changes
}

#[cfg(test)]
#[path = "change_tests.rs"]
mod tests;

//! The cgroup an app runs in. On a systemd host, `snap run` has systemd make
//! a transient scope `snap.<tag>-<uuid>.scope` for each app it starts, so
//! the processes of a snap can be found by their cgroup (the launcher uses
//! that to decide whether a snap still runs before it discards a stale
//! namespace). Where systemd is not running, snap-run makes that leaf itself
//! in the cgroup v2 hierarchy, next to nothing else: as a child of the
//! cgroup it was started in, when it may (root, or a delegated subtree).

use std::path::{Path, PathBuf};

/// What became of the launch's cgroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leaf {
    /// Already in a cgroup of the snap (a daemon's service, or a nested run).
    InSnapGroup(String),
    /// systemd runs here: its units and scopes are left to it.
    Systemd,
    /// A new leaf, with this process in it.
    Made(PathBuf),
    /// No leaf: why.
    NotMade(String),
}

/// The v2 cgroup path of a process, from its `/proc/<pid>/cgroup`.
pub fn v2_path(proc_cgroup: &str) -> Option<&str> {
    proc_cgroup.lines().find_map(|l| l.strip_prefix("0::"))
}

/// Where the cgroup v2 hierarchy is mounted, from `/proc/self/mountinfo`.
pub fn v2_mount(mountinfo: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        let fstype = right.split(' ').next()?;
        let mut fields = left.split(' ').skip(3);
        let (root, point) = (fields.next()?, fields.next()?);
        (fstype == "cgroup2" && root == "/").then(|| PathBuf::from(point))
    })
}

/// Whether a cgroup path belongs to the snap `instance`.
pub fn is_snap_group(path: &str, instance: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or(path);
    last.starts_with(&format!("snap.{instance}."))
}

/// Removes the empty leaves earlier runs of `tag` left in `dir` (no systemd
/// cleans them up here).
fn remove_empty_leaves(dir: &Path, tag: &str) {
    let prefix = format!("{tag}-");
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) && name.ends_with(".scope") {
            let events = std::fs::read_to_string(e.path().join("cgroup.events")).unwrap_or_default();
            if events.lines().any(|l| l == "populated 0") {
                let _ = std::fs::remove_dir(e.path());
            }
        }
    }
}

/// Puts this process in a leaf `<tag>-<uuid>.scope` under the cgroup it
/// runs in, unless systemd runs here or it is in a group of the snap already.
pub fn enter_leaf(tag: &str, instance: &str) -> Leaf {
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let Some(path) = v2_path(&own) else { return Leaf::NotMade("no cgroup v2 hierarchy".into()) };
    if is_snap_group(path, instance) {
        return Leaf::InSnapGroup(path.to_string());
    }
    if Path::new("/run/systemd/system").is_dir() {
        return Leaf::Systemd;
    }
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let Some(mount) = v2_mount(&mountinfo) else { return Leaf::NotMade("the cgroup v2 hierarchy is not mounted".into()) };
    let dir = mount.join(path.trim_start_matches('/'));
    remove_empty_leaves(&dir, tag);
    let uuid = std::fs::read_to_string("/proc/sys/kernel/random/uuid").unwrap_or_default();
    let leaf = dir.join(format!("{tag}-{}.scope", uuid.trim()));
    if let Err(e) = std::fs::create_dir(&leaf) {
        return Leaf::NotMade(format!("cannot create {}: {e}", leaf.display()));
    }
    match std::fs::write(leaf.join("cgroup.procs"), std::process::id().to_string()) {
        Ok(()) => Leaf::Made(leaf),
        Err(e) => {
            let _ = std::fs::remove_dir(&leaf);
            Leaf::NotMade(format!("cannot move into {}: {e}", leaf.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_v2_path_and_mount() {
        let cg = "9:name=systemd:/\n5:devices:/\n0::/user.slice/session-1.scope\n";
        assert_eq!(v2_path(cg), Some("/user.slice/session-1.scope"));
        assert_eq!(v2_path("5:devices:/\n"), None);
        let mi = "30 1 0:26 / /sys/fs/cgroup ro - tmpfs tmpfs ro\n\
                  41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
        assert_eq!(v2_mount(mi), Some(PathBuf::from("/sys/fs/cgroup/unified")));
        assert_eq!(v2_mount("41 31 0:38 /sub /mnt rw - cgroup2 cgroup2 rw\n"), None, "only a mount of the whole hierarchy");
    }

    #[test]
    fn snap_groups() {
        assert!(is_snap_group("/system.slice/snap.hello.daemon.service", "hello"));
        assert!(is_snap_group("/snap.hello.hello-1234.scope", "hello"));
        assert!(!is_snap_group("/snap.hello-classic.x.service", "hello"));
        assert!(!is_snap_group("/user.slice/snap.hello", "hello"));
        assert!(!is_snap_group("/snap.hello_foo.app-1.scope", "hello"), "another instance");
        assert!(is_snap_group("/snap.hello_foo.app-1.scope", "hello_foo"));
    }
}

//! Where `snap-update-ns` may write, as snapd decides it ("trespassing"):
//! making a missing mount point writes a directory, a file or a symlink
//! somewhere, and that must never change the host's files.
//!
//! A directory may be written in when:
//!
//! * its path is one of the unrestricted ones (for the snap's namespace:
//!   `/tmp`, `/var/snap`, `/snap/<instance>`, `/dev/shm`, `/run/systemd`,
//!   `/var/lib/snapd/hostfs/tmp`; for a user's: their home), or below it;
//! * its file system is read-only (the write fails with `EROFS`, and a
//!   writable mimic is made instead: nothing is written there);
//! * it is on a tmpfs that this namespace's own profile mounted (a mimic,
//!   a layout's tmpfs, the launcher's root), checked by the tmpfs's path in
//!   the changes made so far and then remembered by device;
//! * or it was just made by us (everything below a new directory is ours).
//!
//! Anything else (a host directory bound into the namespace, say `/etc`)
//! is refused as trespassing, and a writable mimic goes over it instead.
//! Decisions here are pure: the caller gives what `fstat` and `fstatfs`
//! said about the open directory.

use super::change::{clean, Action, Change};
use crate::sys::FsInfo;
use std::collections::BTreeSet;

pub const TMPFS_MAGIC: i64 = 0x0102_1994;
pub const SQUASHFS_MAGIC: i64 = 0x7371_7368;

/// A mode for directories made at paths matching a glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeHint {
    pub glob: String,
    pub mode: u32,
}

/// What a directory that is about to be written in is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirFacts {
    pub fs: FsInfo,
    /// `st_dev` of the directory.
    pub dev: u64,
}

/// What `snap-update-ns` assumes about the namespace it changes.
#[derive(Debug, Clone, Default)]
pub struct Assumptions {
    unrestricted: Vec<String>,
    mode_hints: Vec<ModeHint>,
    /// The tmpfs mounts this profile made or keeps: (path, still there).
    tmpfs: Vec<(String, bool)>,
    verified_devices: BTreeSet<u64>,
}

impl Assumptions {
    /// For the snap's namespace. `snap_name` differs from `instance` for a
    /// parallel instance, whose `/snap/<snap>` is written too.
    pub fn system(instance: &str, snap_name: &str) -> Assumptions {
        let mut paths = vec!["/tmp".to_owned(), "/var/snap".into(), format!("/snap/{instance}"), "/dev/shm".into(), "/run/systemd".into()];
        if snap_name != instance {
            paths.push(format!("/snap/{snap_name}"));
        }
        paths.push("/var/lib/snapd/hostfs/tmp".into());
        let hints = [
            ("/var/lib/snapd/hostfs/tmp/snap-private-tmp/snap.*", 0o700),
            ("/var/lib/snapd/hostfs/tmp/snap-private-tmp/snap.*/tmp", 0o1777),
            ("/var/lib/snapd/hostfs/tmp/snap-private-tmp/snap.*/tmp/.X11-unix", 0o1777),
            ("/dev/shm/snap.*", 0o1777),
        ];
        Assumptions {
            unrestricted: paths,
            mode_hints: hints.iter().map(|(g, m)| ModeHint { glob: (*g).into(), mode: *m }).collect(),
            ..Assumptions::default()
        }
    }

    /// For a user's namespace: only their own home (when it is known) is
    /// theirs to write in (as themselves).
    pub fn user(home: Option<&str>) -> Assumptions {
        Assumptions { unrestricted: home.map(|h| vec![h.to_owned()]).unwrap_or_default(), ..Assumptions::default() }
    }

    /// Remembers a change that was made (or an entry that stays): the tmpfs
    /// mounts among them decide where writing is allowed.
    pub fn add_change(&mut self, change: &Change) {
        if change.entry.fstype == "tmpfs" {
            let mounted = matches!(change.action, Action::Mount | Action::Keep);
            self.tmpfs.push((clean(&change.entry.dir), mounted));
        }
    }

    /// The mode of a directory made at `path`: the hint it matches, else 0755.
    pub fn mode_for(&self, path: &str) -> u32 {
        self.mode_hints.iter().find(|h| glob_match(&h.glob, path)).map_or(0o755, |h| h.mode)
    }

    /// Whether writing on the way to `path` has to be checked.
    pub fn is_restricted(&self, path: &str) -> bool {
        !self.unrestricted.iter().any(|p| {
            let p = clean(p);
            p == "/" || p == path || path.starts_with(&format!("{p}/"))
        })
    }

    /// Whether the directory `dir` (open, with `facts`) may be written in.
    pub fn can_write(&mut self, dir: &str, facts: DirFacts) -> bool {
        if !self.is_restricted(dir) {
            return true;
        }
        if facts.fs.read_only || facts.fs.magic == SQUASHFS_MAGIC {
            return true;
        }
        if self.verified_devices.contains(&facts.dev) {
            return true;
        }
        let ours = facts.fs.magic == TMPFS_MAGIC
            && self.tmpfs.iter().rev().find(|(p, _)| p == dir).is_some_and(|(_, mounted)| *mounted);
        if ours && facts.dev != 0 {
            self.verified_devices.insert(facts.dev);
        }
        ours
    }
}

/// `filepath.Match` for the globs used here: `*` is any run of characters
/// but `/`, `?` one such character; everything else is literal.
pub fn glob_match(glob: &str, path: &str) -> bool {
    let (g, p) = (glob.as_bytes(), path.as_bytes());
    // Classic backtracking over the last star.
    let (mut gi, mut pi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while pi < p.len() {
        match g.get(gi) {
            Some(b'*') => {
                star = Some((gi, pi));
                gi += 1;
            }
            Some(c) if (*c == b'?' && p.get(pi) != Some(&b'/')) || Some(c) == p.get(pi) => {
                gi += 1;
                pi += 1;
            }
            _ => match star {
                Some((sg, sp)) if p.get(sp) != Some(&b'/') => {
                    gi = sg + 1;
                    pi = sp + 1;
                    star = Some((sg, sp + 1));
                }
                _ => return false,
            },
        }
    }
    g.get(gi..).is_some_and(|rest| rest.iter().all(|c| *c == b'*'))
}

/// A check to make before each write on the way to one path.
#[derive(Debug, Clone)]
pub struct Restrictions {
    pub desired: String,
    restricted: bool,
}

/// Why a directory may not be written in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trespassing {
    /// The directory that would have been written in.
    pub violated: String,
    /// What was being made.
    pub desired: String,
}

impl std::fmt::Display for Trespassing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write to {:?} because it would affect the host in {:?}", self.desired, self.violated)
    }
}

impl Restrictions {
    pub fn for_path(assumptions: &Assumptions, desired: &str) -> Restrictions {
        Restrictions { desired: desired.to_owned(), restricted: assumptions.is_restricted(desired) }
    }

    /// Checks writing in `dir`; `facts` is only asked for when it matters.
    pub fn check(
        &self,
        assumptions: &mut Assumptions,
        dir: &str,
        facts: impl FnOnce() -> crate::error::Result<DirFacts>,
    ) -> Result<(), CheckError> {
        if !self.restricted {
            return Ok(());
        }
        let facts = facts().map_err(CheckError::Failed)?;
        if assumptions.can_write(dir, facts) {
            return Ok(());
        }
        Err(CheckError::Trespassing(Trespassing { violated: clean(dir), desired: self.desired.clone() }))
    }

    /// Everything below a directory we made is ours.
    pub fn lift(&mut self) {
        self.restricted = false;
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckError {
    Trespassing(Trespassing),
    Failed(crate::error::Error),
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use policy_cache::fstab::MountEntry;

    const EXT4: i64 = 0xef53;

    fn facts(magic: i64, read_only: bool, dev: u64) -> DirFacts {
        DirFacts { fs: FsInfo { magic, read_only, nosuid: false, nodev: false, noexec: false }, dev }
    }

    #[test]
    fn globs() {
        assert!(glob_match("/dev/shm/snap.*", "/dev/shm/snap.foo"));
        assert!(!glob_match("/dev/shm/snap.*", "/dev/shm/snap.foo/bar"));
        assert!(glob_match("/a/snap.*/tmp", "/a/snap.x/tmp"));
        assert!(!glob_match("/a/snap.*/tmp", "/a/snap.x/y/tmp"));
        assert!(glob_match("/a/?", "/a/b") && !glob_match("/a/?", "/a/"));
        assert!(glob_match("*", "") && !glob_match("a", "") && glob_match("a*b*c", "axxbyyc") && !glob_match("a*b", "axxbyy"));
    }

    #[test]
    fn unrestricted_paths_and_modes() {
        let a = Assumptions::system("foo_bar", "foo");
        for p in ["/tmp", "/tmp/.snap/usr", "/var/snap/foo/1", "/snap/foo_bar/x1/lib", "/snap/foo/x1", "/dev/shm/x", "/run/systemd/journal"] {
            assert!(!a.is_restricted(p), "{p}");
        }
        for p in ["/", "/etc", "/usr/lib", "/snap/other/1", "/snap/foo_barx", "/var/snapx", "/tmpx", "/run", "/var/lib/snapd/hostfs"] {
            assert!(a.is_restricted(p), "{p}");
        }
        assert_eq!(a.mode_for("/dev/shm/snap.foo"), 0o1777);
        assert_eq!(a.mode_for("/var/lib/snapd/hostfs/tmp/snap-private-tmp/snap.foo"), 0o700);
        assert_eq!(a.mode_for("/opt/x"), 0o755);
        let plain = Assumptions::system("foo", "foo");
        assert!(plain.is_restricted("/snap/bar/1"));
        let user = Assumptions::user(Some("/home/u/"));
        assert!(!user.is_restricted("/home/u/snap/x") && user.is_restricted("/home/v") && user.is_restricted("/run/user/1000"));
        assert!(Assumptions::user(None).is_restricted("/home/u"));
    }

    #[test]
    fn host_directories_are_refused_ours_and_read_only_ones_allowed() {
        let mut a = Assumptions::system("foo", "foo");
        // A host directory bound in: never.
        assert!(!a.can_write("/etc", facts(EXT4, false, 5)));
        // Read-only (the write will fail and a mimic be made): fine.
        assert!(a.can_write("/usr/lib", facts(EXT4, true, 6)));
        assert!(a.can_write("/usr/lib", facts(SQUASHFS_MAGIC, false, 6)));
        // A tmpfs nobody told us about (the host's /run, say): no.
        assert!(!a.can_write("/opt", facts(TMPFS_MAGIC, false, 7)));
        // Our own tmpfs: yes, and then its device is trusted below it.
        let tmpfs = MountEntry { name: "tmpfs".into(), dir: "/opt".into(), fstype: "tmpfs".into(), ..MountEntry::default() };
        a.add_change(&Change::new(Action::Mount, tmpfs.clone()));
        assert!(a.can_write("/opt", facts(TMPFS_MAGIC, false, 7)));
        assert!(a.can_write("/opt/deep/er", facts(TMPFS_MAGIC, false, 7)));
        // A tmpfs that was unmounted since is not ours any more.
        let mut b = Assumptions::system("foo", "foo");
        b.add_change(&Change::new(Action::Mount, tmpfs.clone()));
        b.add_change(&Change::new(Action::Unmount, tmpfs));
        assert!(!b.can_write("/opt", facts(TMPFS_MAGIC, false, 7)));
    }

    #[test]
    fn restrictions_are_lifted_below_what_we_made() {
        let mut a = Assumptions::system("foo", "foo");
        let mut rs = Restrictions::for_path(&a, "/etc/foo/bar");
        let err = rs.check(&mut a, "/etc", || Ok(facts(EXT4, false, 5))).unwrap_err();
        assert_eq!(
            err,
            CheckError::Trespassing(Trespassing { violated: "/etc".into(), desired: "/etc/foo/bar".into() })
        );
        rs.lift();
        assert!(rs.check(&mut a, "/etc/foo", || panic!("not asked")).is_ok());
        let unrestricted = Restrictions::for_path(&a, "/var/snap/foo/x");
        assert!(unrestricted.check(&mut a, "/var/snap", || panic!("not asked")).is_ok());
    }
}

//! Writable mimics: how a mount point is made inside a directory that
//! cannot be written (read-only, or the host's): the directory is set
//! aside with a recursive bind under `/tmp/.snap`, a tmpfs with the same
//! mode and owner goes over it, every entry it had is put back (bound back
//! from the aside copy, or the same symlink made again), and the aside
//! copy is detached. The tmpfs and the entries put back are recorded in the
//! current profile as synthetic entries needed by the entry that asked for
//! the mimic, so that a later update keeps them while that entry stays, and
//! removes them with it.
//!
//! The plan is data, made from the directory's listing ([`plan`]); it is
//! carried out by [`super::perform`].

use super::change::{clean, Action, Change};
use crate::sys::EntryKind;
use policy_cache::fstab::{Kind, MountEntry};

/// Where directories are set aside while a mimic is made.
pub const ASIDE: &str = "/tmp/.snap";

/// One entry of the directory a mimic goes over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    pub kind: EntryKind,
    /// The target, for symlinks.
    pub target: Option<String>,
}

/// The directory a mimic goes over: its mode, owner and entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Original {
    pub path: String,
    /// Permission bits (`st_mode & 07777`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub entries: Vec<Listed>,
}

/// The path `dir` is set aside at.
pub fn aside(dir: &str) -> String {
    clean(&format!("{ASIDE}/{dir}"))
}

fn join(dir: &str, name: &str) -> String {
    clean(&format!("{dir}/{name}"))
}

/// Go's `%#o`: octal with a leading zero (`0` stays `0`).
fn octal(mode: u32) -> String {
    if mode == 0 {
        "0".into()
    } else {
        format!("0{mode:o}")
    }
}

/// The mimic over `original` for the entry `needed_by`: set aside, tmpfs,
/// each entry put back (directories rbound, files bound, symlinks made
/// again; anything else skipped), aside copy detached.
pub fn plan(original: &Original, needed_by: &str) -> Vec<Change> {
    let dir = clean(&original.path);
    let safe = aside(&dir);
    let synthetic = |mut options: Vec<String>| {
        options.push("x-snapd.synthetic".into());
        options.push(format!("x-snapd.needed-by={needed_by}"));
        options
    };
    // The aside copy is made private at once: in a namespace whose mounts
    // are shared (a live update), it would otherwise be a peer of the
    // mount holding `dir`, receive the tmpfs mounted there, and take it
    // away again when it is detached.
    let mut changes = vec![Change::new(
        Action::Mount,
        MountEntry { name: dir.clone(), dir: safe.clone(), options: vec!["rbind".into(), "rprivate".into()], ..MountEntry::default() },
    )];
    changes.push(Change::new(
        Action::Mount,
        MountEntry {
            name: "tmpfs".into(),
            dir: dir.clone(),
            fstype: "tmpfs".into(),
            options: synthetic(vec![])
                .into_iter()
                .chain([format!("mode={}", octal(original.mode)), format!("uid={}", original.uid), format!("gid={}", original.gid)])
                .collect(),
            ..MountEntry::default()
        },
    ));
    for e in &original.entries {
        let options = match (e.kind, &e.target) {
            (EntryKind::Dir, _) => vec!["rbind".to_owned()],
            (EntryKind::File, _) => vec!["bind".to_owned(), "x-snapd.kind=file".into()],
            (EntryKind::Symlink, Some(target)) => vec!["x-snapd.kind=symlink".to_owned(), format!("x-snapd.symlink={target}")],
            _ => continue,
        };
        changes.push(Change::new(
            Action::Mount,
            MountEntry { name: join(&safe, &e.name), dir: join(&dir, &e.name), options: synthetic(options), ..MountEntry::default() },
        ));
    }
    changes.push(Change::new(
        Action::Unmount,
        MountEntry { name: "none".into(), dir: safe, options: vec!["x-snapd.detach".into()], ..MountEntry::default() },
    ));
    changes
}

/// What a carried-out mimic leaves in the current profile: the tmpfs and
/// every entry bound back, as they stand now (a bound-back entry is its
/// own source: the aside copy is gone). Symlinks need no unmounting and
/// are not recorded.
pub fn recorded(plan: &[Change]) -> Vec<Change> {
    let last = plan.len().saturating_sub(1);
    plan.iter()
        .enumerate()
        .filter(|(i, c)| *i != 0 && *i != last && c.entry.kind() != Kind::Symlink)
        .map(|(_, c)| {
            let mut e = c.entry.clone();
            if e.opt_bool("rbind") {
                e.options.push("x-snapd.detach".into());
            }
            if e.is_bind() {
                e.name = e.dir.clone();
            }
            Change::new(Action::Mount, e)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn original() -> Original {
        let l = |name: &str, kind, target: Option<&str>| Listed { name: name.into(), kind, target: target.map(str::to_owned) };
        Original {
            path: "/usr/share/secureboot".into(),
            mode: 0o755,
            uid: 0,
            gid: 0,
            entries: vec![
                l("updates", EntryKind::Dir, None),
                l("db.auth", EntryKind::File, None),
                l("current", EntryKind::Symlink, Some("updates/x")),
                l("fifo", EntryKind::Other, None),
            ],
        }
    }

    #[test]
    fn the_plan() {
        let got: Vec<String> = plan(&original(), "/usr/share/secureboot/potato").iter().map(|c| c.to_string()).collect();
        let n = "x-snapd.synthetic,x-snapd.needed-by=/usr/share/secureboot/potato";
        assert_eq!(
            got,
            [
                "mount -o rbind,rprivate /usr/share/secureboot /tmp/.snap/usr/share/secureboot".to_string(),
                format!("mount -t tmpfs -o {n},mode=0755,uid=0,gid=0 tmpfs /usr/share/secureboot"),
                format!("mount -o rbind,{n} /tmp/.snap/usr/share/secureboot/updates /usr/share/secureboot/updates"),
                format!("mount -o bind,x-snapd.kind=file,{n} /tmp/.snap/usr/share/secureboot/db.auth /usr/share/secureboot/db.auth"),
                "ln -s updates/x /usr/share/secureboot/current".to_string(),
                "umount --lazy /tmp/.snap/usr/share/secureboot".to_string(),
            ]
        );
    }

    #[test]
    fn what_is_recorded_matches_what_snapd_records() {
        let rec: Vec<String> = recorded(&plan(&original(), "/usr/share/secureboot/potato")).iter().map(|c| c.entry.to_string()).collect();
        // As in snapd's own current profile of this scenario.
        assert_eq!(
            rec,
            [
                "tmpfs /usr/share/secureboot tmpfs x-snapd.synthetic,x-snapd.needed-by=/usr/share/secureboot/potato,mode=0755,uid=0,gid=0 0 0",
                "/usr/share/secureboot/updates /usr/share/secureboot/updates none rbind,x-snapd.synthetic,x-snapd.needed-by=/usr/share/secureboot/potato,x-snapd.detach 0 0",
                "/usr/share/secureboot/db.auth /usr/share/secureboot/db.auth none bind,x-snapd.kind=file,x-snapd.synthetic,x-snapd.needed-by=/usr/share/secureboot/potato 0 0",
            ]
        );
        let snapd = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("policy-cache/tests/data/snapd-fstab/usr-share-secureboot-potato--1-initially-connected.current.fstab"),
        )
        .unwrap();
        assert!(snapd.lines().any(|l| l == rec[0]) && snapd.lines().any(|l| l == rec[1]), "{snapd}");
    }

    #[test]
    fn modes_and_owners_are_kept() {
        let o = Original { path: "/opt/".into(), mode: 0o1777, uid: 12, gid: 34, entries: vec![] };
        let p = plan(&o, "/opt/x");
        assert_eq!(p.len(), 3);
        assert_eq!(p[1].entry.options[2..], ["mode=01777".to_string(), "uid=12".into(), "gid=34".into()]);
        assert_eq!(aside("/"), "/tmp/.snap");
        assert_eq!(octal(0), "0");
    }
}

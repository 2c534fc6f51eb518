//! The snap's mount profiles, `/var/lib/snapd/mount/snap.<instance>.fstab`
//! and `.user-fstab`, in snapd's format ([`policy_cache::fstab`]), and what
//! the other backends need for them (the layouts' AppArmor and Landlock
//! rules).
//!
//! The system profile lists, in snapd's order: the parallel instance's
//! `overname` entries (`/snap/<name>_<key>` over `/snap/<name>`,
//! `/var/snap/<name>_<key>` over `/var/snap/<name>`), the layouts (by
//! path), then what connected interfaces mount (content, fonts). The user
//! profile: the instance's home directory (`$HOME/snap/<name>_<key>` over
//! `$HOME/snap/<name>`), then the interfaces' user mounts (the document
//! portal). Entries at the same place are merged when they bind the same
//! thing, and renamed `<dir>-2`, `-3`, ... otherwise, as snapd does.

use policy_cache::fstab::{MountEntry, MountProfile};

use super::update_ns::layout_rules;
use super::{Part, Snap};
use crate::snapyaml::{Layout, LayoutKind, SnapDirs};

/// Both profiles, as file contents (`None`: no entries, no file).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profiles {
    pub system: Option<String>,
    pub user: Option<String>,
}

fn dirs<'a>(snap: &'a Snap<'_>) -> SnapDirs<'a> {
    SnapDirs { name: snap.instance.snap_name(), revision: snap.revision }
}

/// The entry of one layout (snapd's `mountEntryFromLayout`).
pub fn layout_entry(l: &Layout, d: &SnapDirs<'_>) -> MountEntry {
    let mut e = MountEntry { dir: d.expand(&l.path), ..MountEntry::default() };
    match &l.kind {
        LayoutKind::Bind(src) => {
            e.name = d.expand(src);
            e.options = vec!["rbind".into(), "rw".into()];
        }
        LayoutKind::BindFile(src) => {
            e.name = d.expand(src);
            e.options = vec!["bind".into(), "rw".into(), "x-snapd.kind=file".into()];
        }
        LayoutKind::Tmpfs => {
            e.name = "tmpfs".into();
            e.fstype = "tmpfs".into();
        }
        LayoutKind::Symlink(target) => {
            e.options = vec!["x-snapd.kind=symlink".into(), format!("x-snapd.symlink={}", d.expand(target))];
        }
    }
    // Only root may own layouts (validation makes sure), so no user or
    // group option is ever written.
    if l.mode != 0o755 {
        e.options.push(if l.mode == 0 { "x-snapd.mode=0".into() } else { format!("x-snapd.mode=0{:o}", l.mode) });
    }
    e.options.push("x-snapd.origin=layout".into());
    e
}

/// A parallel instance's directories over the snap's.
fn overname(snap: &Snap<'_>) -> Vec<MountEntry> {
    if snap.instance.instance_key().is_none() {
        return Vec::new();
    }
    let (inst, name) = (snap.instance.as_str(), snap.instance.snap_name());
    ["/snap", "/var/snap"]
        .iter()
        .map(|d| MountEntry {
            name: format!("{d}/{inst}"),
            dir: format!("{d}/{name}"),
            options: vec!["rbind".into(), "x-snapd.origin=overname".into()],
            ..MountEntry::default()
        })
        .collect()
}

/// The options of entries mounted at the same place, merged: read-only
/// only if all are, `rbind` if any is (snapd's `mergeOptions`).
fn merge_options(lists: &[&[String]]) -> Vec<String> {
    let mut merged: Vec<String> = Vec::new();
    let (mut writable, mut rbind, mut first_bind) = (false, false, false);
    for (i, opts) in lists.iter().enumerate() {
        let mut ro = false;
        for o in opts.iter() {
            match o.as_str() {
                "ro" => ro = true,
                "rbind" | "bind" => {
                    rbind |= o == "rbind";
                    first_bind |= i == 0;
                }
                "rw" | "async" => {}
                other => {
                    if !merged.iter().any(|m| m == other) {
                        merged.push(other.to_owned());
                    }
                }
            }
        }
        writable |= !ro;
    }
    if !writable {
        merged.push("ro".into());
    }
    if first_bind {
        merged.push(if rbind { "rbind".into() } else { "bind".into() });
    }
    merged
}

/// Entries at the same place: the same bind merged, anything else renamed
/// `<dir>-N` (snapd's `unclashMountEntries`).
fn unclash(entries: Vec<MountEntry>) -> Vec<MountEntry> {
    let mut out: Vec<MountEntry> = Vec::with_capacity(entries.len());
    /// A place entries were seen at.
    struct Place {
        dir: String,
        /// The index in `out` of the first entry there.
        first: usize,
        /// How many entries were seen there.
        count: usize,
    }
    let mut seen: Vec<Place> = Vec::new();
    for mut e in entries {
        let Some(slot) = seen.iter_mut().find(|p| p.dir == e.dir) else {
            seen.push(Place { dir: e.dir.clone(), first: out.len(), count: 1 });
            out.push(e);
            continue;
        };
        let first = out.get_mut(slot.first);
        match first {
            Some(f) if f.name == e.name && f.fstype == e.fstype && f.opt_str("x-snapd.origin").is_none() && e.opt_str("x-snapd.origin").is_none() => {
                f.options = merge_options(&[&f.options, &e.options]);
            }
            _ => {
                slot.count += 1;
                e.dir = format!("{}-{}", e.dir, slot.count);
                out.push(e);
            }
        }
    }
    out
}

fn text(entries: Vec<MountEntry>) -> Option<String> {
    (!entries.is_empty()).then(|| MountProfile { entries }.to_string())
}

/// The snap's mount profiles.
pub fn profiles(snap: &Snap<'_>, parts: &[Part<'_>]) -> Profiles {
    let d = dirs(snap);
    let mut system = overname(snap);
    system.extend(snap.yaml.layout.values().map(|l| layout_entry(l, &d)));
    system.extend(parts.iter().flat_map(|p| p.rendered.mounts.iter().cloned()));
    let mut user = Vec::new();
    if snap.instance.instance_key().is_some() {
        user.push(MountEntry {
            name: format!("$HOME/snap/{}", snap.instance),
            dir: format!("$HOME/snap/{}", snap.instance.snap_name()),
            options: vec!["rbind".into(), "x-snapd.origin=overname".into()],
            ..MountEntry::default()
        });
    }
    user.extend(parts.iter().flat_map(|p| p.rendered.user_mounts.iter().cloned()));
    Profiles { system: text(unclash(system)), user: text(unclash(user)) }
}

/// The rules every app and hook gets for the layouts (snapd's
/// `snippetFromLayout`).
pub fn layout_apparmor(snap: &Snap<'_>) -> String {
    let d = dirs(snap);
    let mut out = String::new();
    for l in snap.yaml.layout.values() {
        let path = d.expand(&l.path);
        out.push_str(&match l.kind {
            LayoutKind::Bind(_) | LayoutKind::Tmpfs => format!("# Layout path: {path}\n\"{path}{{,/**}}\" mrwklix,\n"),
            LayoutKind::BindFile(_) => format!("# Layout path: {path}\n\"{path}\" mrwklix,\n"),
            LayoutKind::Symlink(_) => format!("# Layout path: {path}\n# (no extra permissions required for symlink)\n"),
        });
    }
    out
}

/// The Landlock lines for the layouts: what a layout puts in place is the
/// snap's own, so it gets what the app's own data gets. A symlink needs
/// nothing (its target decides).
pub fn layout_landlock(snap: &Snap<'_>) -> String {
    let d = dirs(snap);
    snap.yaml
        .layout
        .values()
        .filter(|l| !matches!(l.kind, LayoutKind::Symlink(_)))
        .map(|l| format!("fs read,write,execute {}\n", d.expand(&l.path)))
        .collect()
}

/// The `snap-update-ns` rules for the overname entries and the layouts.
pub fn update_ns_apparmor(snap: &Snap<'_>) -> String {
    let mut out = String::new();
    if snap.instance.instance_key().is_some() {
        let (inst, name) = (snap.instance.as_str(), snap.instance.snap_name());
        out.push_str("  # Allow parallel instance snap mount namespace adjustments\n");
        out.push_str(&format!("  mount options=(rw rbind) /snap/{inst}/ -> /snap/{name}/,\n"));
        out.push_str(&format!("  mount options=(rw rbind) /var/snap/{inst}/ -> /var/snap/{name}/,\n"));
        // The user profile's entry: the instance's home directory over the
        // snap's, in each command's namespace.
        out.push_str(&format!("  mount options=(rw rbind) @{{HOME}}/snap/{inst}/ -> @{{HOME}}/snap/{name}/,\n"));
        out.push_str(&format!("  umount @{{HOME}}/snap/{name}/,\n"));
    }
    let d = dirs(snap);
    for l in snap.yaml.layout.values() {
        layout_rules(&mut out, l, &d);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn e(line: &str) -> MountEntry {
        MountEntry::parse(line).unwrap()
    }

    #[test]
    fn same_binds_merge_and_others_are_renamed() {
        let out = unclash(vec![
            e("/a /x none bind,ro 0 0"),
            e("/a /x none bind 0 0"),
            e("/b /x none bind,ro 0 0"),
            e("/c /x none rbind,x-snapd.origin=layout 0 0"),
            e("/d /y none bind,ro 0 0"),
        ]);
        let lines: Vec<String> = out.iter().map(|e| e.to_string()).collect();
        assert_eq!(lines, ["/a /x none bind 0 0", "/b /x-2 none bind,ro 0 0", "/c /x-3 none rbind,x-snapd.origin=layout 0 0", "/d /y none bind,ro 0 0"]);
        assert_eq!(merge_options(&[&["bind".into(), "ro".into()], &["rbind".into(), "ro".into(), "nosuid".into()]]), ["nosuid", "ro", "rbind"]);
    }
}

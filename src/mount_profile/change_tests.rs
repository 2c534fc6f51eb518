#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
use super::*;
use policy_cache::fstab::MountProfile;

/// A namespace as a list of what exists.
#[derive(Default)]
pub struct View {
    pub dirs: Vec<&'static str>,
    pub files: Vec<&'static str>,
    pub symlinks: Vec<&'static str>,
}

impl FsView for View {
    fn is_dir(&self, path: &str) -> bool {
        path == "/" || self.dirs.contains(&path)
    }
    fn is_file(&self, path: &str) -> bool {
        self.files.contains(&path)
    }
    fn is_symlink(&self, path: &str) -> bool {
        self.symlinks.contains(&path)
    }
}

fn entries(text: &str) -> Vec<MountEntry> {
    MountProfile::parse(text).unwrap().entries
}

fn plan(current: &str, desired: &str, view: &View) -> Vec<String> {
    needed_changes(&entries(current), &entries(desired), view).iter().map(|c| c.to_string()).collect()
}

fn snapd_file(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policy-cache/tests/data/snapd-fstab").join(name);
    std::fs::read_to_string(path).unwrap()
}

const ROOTFS: &str = "tmpfs / tmpfs x-snapd.origin=rootfs 0 0\n";

#[test]
fn paths_are_cleaned_as_go_does() {
    for (raw, clean_) in [("/a//b/", "/a/b"), ("/a/./b/../c", "/a/c"), ("/..", "/"), ("", "."), ("a/../..", ".."), ("//", "/"), ("$HOME/x/", "$HOME/x")] {
        assert_eq!(clean(raw), clean_, "{raw}");
    }
    for (p, d) in [("/a/b", "/a"), ("/a", "/"), ("/", "/"), ("a", "."), ("/a//b", "/a")] {
        assert_eq!(parent(p), d, "{p}");
    }
}

#[test]
fn a_first_construction_mounts_content_before_layouts_and_groups_by_mimic() {
    // snapd's "opt-foo" scenario: a layout at /opt/foo (a read-only /opt
    // needs a mimic) and content at $SNAP/opt, which exists.
    let desired = snapd_file("opt-foo--1-initially-connected.desired.fstab");
    let view = View { dirs: vec!["/opt", "/snap/test-snapd-layout/x1/opt"], ..View::default() };
    assert_eq!(
        plan(ROOTFS, &desired, &view),
        [
            "# keep tmpfs / tmpfs x-snapd.origin=rootfs 0 0",
            "mount -o bind,ro /snap/test-snapd-content/x1/opt /snap/test-snapd-layout/x1/opt",
            "mount -o rbind,rw,x-snapd.origin=layout /snap/test-snapd-layout/x1/opt/foo /opt/foo",
        ]
    );
}

#[test]
fn a_disconnect_unmounts_only_the_content_and_keeps_the_mimic() {
    let current = format!(
        "{ROOTFS}/snap/test-snapd-content/x1/opt /snap/test-snapd-layout/x1/opt none bind,ro 0 0\n\
         tmpfs /opt tmpfs x-snapd.synthetic,x-snapd.needed-by=/opt/foo,mode=0755,uid=0,gid=0 0 0\n\
         /snap/test-snapd-layout/x1/opt/foo /opt/foo none rbind,rw,x-snapd.origin=layout 0 0\n"
    );
    let desired = snapd_file("opt-foo--2-after-disconnect.desired.fstab");
    let view = View { dirs: vec!["/opt", "/opt/foo", "/snap/test-snapd-layout/x1/opt"], ..View::default() };
    assert_eq!(
        plan(&current, &desired, &view),
        [
            "# keep /snap/test-snapd-layout/x1/opt/foo /opt/foo none rbind,rw,x-snapd.origin=layout 0 0",
            "# keep tmpfs /opt tmpfs x-snapd.synthetic,x-snapd.needed-by=/opt/foo,mode=0755,uid=0,gid=0 0 0",
            "umount --lazy /snap/test-snapd-layout/x1/opt",
            "# keep tmpfs / tmpfs x-snapd.origin=rootfs 0 0",
        ]
    );
    // Reconnecting mounts the content again, and nothing else.
    let after: Vec<String> = plan(&current, &snapd_file("opt-foo--3-after-reconnect.desired.fstab"), &view);
    assert!(after.iter().all(|c| c.starts_with("# keep")), "{after:?}");
}

#[test]
fn everything_below_a_changed_entry_goes_too() {
    // The layout at /opt/foo changed revision: it goes, and so does
    // /opt/foo/bar below it even though that one did not change.
    let current = format!(
        "{ROOTFS}tmpfs /opt tmpfs x-snapd.synthetic,x-snapd.needed-by=/opt/foo,mode=0755,uid=0,gid=0 0 0\n\
         /snap/l/x1/opt/foo /opt/foo none rbind,rw,x-snapd.origin=layout 0 0\n\
         /snap/l/x1/bar /opt/foo/bar none rbind,rw,x-snapd.origin=layout 0 0\n"
    );
    let desired = "/snap/l/x2/opt/foo /opt/foo none rbind,rw,x-snapd.origin=layout 0 0\n\
                   /snap/l/x1/bar /opt/foo/bar none rbind,rw,x-snapd.origin=layout 0 0\n";
    let view = View { dirs: vec!["/opt", "/opt/foo", "/opt/foo/bar"], ..View::default() };
    assert_eq!(
        plan(&current, desired, &view),
        [
            "umount --lazy /opt/foo/bar",
            "umount --lazy /opt/foo",
            "# keep tmpfs /opt tmpfs x-snapd.synthetic,x-snapd.needed-by=/opt/foo,mode=0755,uid=0,gid=0 0 0",
            "# keep tmpfs / tmpfs x-snapd.origin=rootfs 0 0",
            "mount -o rbind,rw,x-snapd.origin=layout /snap/l/x2/opt/foo /opt/foo",
            "mount -o rbind,rw,x-snapd.origin=layout /snap/l/x1/bar /opt/foo/bar",
        ]
    );
}

#[test]
fn a_mimic_nobody_needs_goes_with_what_is_below_it() {
    let current = format!(
        "{ROOTFS}tmpfs /opt tmpfs x-snapd.synthetic,x-snapd.needed-by=/opt/foo,mode=0755,uid=0,gid=0 0 0\n\
         /opt/bin /opt/bin none rbind,x-snapd.synthetic,x-snapd.needed-by=/opt/foo,x-snapd.detach 0 0\n\
         /snap/l/x1/opt/foo /opt/foo none rbind,rw,x-snapd.origin=layout 0 0\n"
    );
    let view = View { dirs: vec!["/opt", "/opt/foo", "/opt/bin"], ..View::default() };
    assert_eq!(
        plan(&current, "", &view),
        [
            "umount --lazy /opt/foo",
            "umount --lazy /opt/bin",
            "umount --lazy /opt",
            "# keep tmpfs / tmpfs x-snapd.origin=rootfs 0 0",
        ]
    );
}

#[test]
fn overname_entries_come_first_and_layouts_last() {
    let desired = "/snap/app/1/lib /usr/lib/foo none rbind,rw,x-snapd.origin=layout 0 0\n\
                   /snap/app_x/1 /snap/app/1 none rbind,x-snapd.origin=overname 0 0\n\
                   none /etc/foo none x-snapd.kind=symlink,x-snapd.symlink=/snap/app/1/etc/foo,x-snapd.origin=layout 0 0\n\
                   /snap/platform/2/lib /snap/app/1/platform none bind,ro 0 0\n\
                   /var/snap/app_x /var/snap/app none rbind,x-snapd.origin=overname 0 0\n\
                   /var/lib/snapd/hostfs/usr/share/fonts /usr/share/fonts none bind,ro 0 0\n";
    let view = View { dirs: vec!["/usr/lib", "/snap/app/1", "/var/snap/app", "/snap/app/1/platform", "/etc", "/usr/share/fonts"], ..View::default() };
    assert_eq!(
        plan("", desired, &view),
        [
            "mount -o rbind,x-snapd.origin=overname /snap/app_x/1 /snap/app/1",
            "mount -o rbind,x-snapd.origin=overname /var/snap/app_x /var/snap/app",
            "mount -o bind,ro /snap/platform/2/lib /snap/app/1/platform",
            "mount -o bind,ro /var/lib/snapd/hostfs/usr/share/fonts /usr/share/fonts",
            // Both need a new entry made: grouped by where (/etc, /usr/lib).
            "ln -s /snap/app/1/etc/foo /etc/foo",
            "mount -o rbind,rw,x-snapd.origin=layout /snap/app/1/lib /usr/lib/foo",
        ]
    );
}

#[test]
fn a_missing_parent_groups_by_the_nearest_existing_directory() {
    let desired = "tmpfs /opt/a/b/c tmpfs x-snapd.origin=layout 0 0\n\
                   none /opt/a/link none x-snapd.kind=symlink,x-snapd.symlink=/x,x-snapd.origin=layout 0 0\n\
                   /snap/s/1/f /usr/share/f none bind,rw,x-snapd.kind=file,x-snapd.origin=layout 0 0\n";
    let view = View { dirs: vec!["/opt", "/usr", "/usr/share"], files: vec![], symlinks: vec![] };
    assert_eq!(
        plan("", desired, &view),
        [
            "mount -t tmpfs -o x-snapd.origin=layout tmpfs /opt/a/b/c",
            "ln -s /x /opt/a/link",
            "mount -o bind,rw,x-snapd.kind=file,x-snapd.origin=layout /snap/s/1/f /usr/share/f",
        ]
    );
    // With the file already there it needs no group.
    let view = View { dirs: vec!["/opt", "/usr", "/usr/share"], files: vec!["/usr/share/f"], symlinks: vec![] };
    assert_eq!(plan("", desired, &view)[0], "mount -o bind,rw,x-snapd.kind=file,x-snapd.origin=layout /snap/s/1/f /usr/share/f");
}

#[test]
fn unchanged_profiles_change_nothing_on_every_snapd_scenario() {
    // Each current profile snapd wrote, against itself as desired (minus
    // its synthetic entries, which only snap-update-ns writes): every entry
    // is kept.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policy-cache/tests/data/snapd-fstab");
    let mut n = 0;
    for f in std::fs::read_dir(dir).unwrap().flatten() {
        let name = f.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".current.fstab") {
            continue;
        }
        let current = entries(&std::fs::read_to_string(f.path()).unwrap());
        let desired: Vec<MountEntry> = current.iter().filter(|e| !e.is_synthetic() && e.origin() != Origin::Rootfs).cloned().collect();
        let changes = needed_changes(&current, &desired, &View::default());
        assert!(changes.iter().all(|c| c.action == Action::Keep), "{name}: {changes:?}");
        assert_eq!(changes.len(), current.len(), "{name}");
        n += 1;
    }
    assert!(n >= 25, "{n}");
}

#[test]
fn a_scenario_against_its_successor_unmounts_only_what_went() {
    // For every step of snapd's scenarios, what leaves the profile is
    // unmounted and what stays is kept or mounted again, never lost.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policy-cache/tests/data/snapd-fstab");
    for f in std::fs::read_dir(dir).unwrap().flatten() {
        let name = f.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".desired.fstab") else { continue };
        let Ok(current) = std::fs::read_to_string(f.path().with_file_name(format!("{stem}.current.fstab"))) else { continue };
        let desired = entries(&std::fs::read_to_string(f.path()).unwrap());
        let changes = needed_changes(&entries(&current), &desired, &View { dirs: vec!["/opt", "/usr/share"], ..View::default() });
        for d in &desired {
            let placed = changes.iter().any(|c| c.entry.dir == d.dir && c.action != Action::Unmount);
            assert!(placed, "{name}: {d} is neither kept nor mounted: {changes:#?}");
        }
        let first_mount = changes.iter().position(|c| c.action == Action::Mount).unwrap_or(changes.len());
        assert!(changes[first_mount..].iter().all(|c| c.action == Action::Mount), "{name}: unmounts come first");
    }
}

//! AppArmor rules of the snap's `snap-update-ns` profile for what its mount
//! profile asks: each layout's mount, and the writable mimics that making a
//! mount point may need (the same rules snapd writes, so that ours and
//! snapd's `snap-update-ns` both work under them).

use crate::snapyaml::{Layout, LayoutKind, SnapDirs};

/// A path that is probably writable as it is (no mimic needed there).
fn probably_writable(path: &str) -> bool {
    path.starts_with("/var/snap/") || path.starts_with("/home/") || path.starts_with("/root/")
}

/// A path that is probably there already.
fn probably_present(path: &str) -> bool {
    matches!(path, "/" | "/snap" | "/var" | "/var/snap" | "/tmp" | "/usr" | "/etc")
}

fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => path.get(..i).unwrap_or("/"),
    }
}

/// The prefixes of `path`: `/`, `/a/`, `/a/b/`, ... with their depth (1 for `/`).
fn prefixes(path: &str) -> Vec<(usize, String)> {
    let mut out = vec![(1, "/".to_owned())];
    let mut at = String::from("/");
    for (i, part) in path.split('/').filter(|p| !p.is_empty()).enumerate() {
        at.push_str(part);
        out.push((i + 2, format!("{at}/")));
        at.push('/');
    }
    out
}

/// Rules for making a writable mimic over `path` or any directory above
/// it, below the first `assumed_depth` levels (assumed to exist).
pub fn writable_mimic(out: &mut String, path: &str, assumed_depth: usize) {
    out.push_str(&format!("  # Writable mimic {path}\n"));
    let all = prefixes(path);
    for (depth, p) in &all {
        if *depth < assumed_depth {
            out.push_str(&format!("  \"{p}\" r,\n"));
        }
    }
    for (depth, p) in &all {
        if *depth < assumed_depth {
            continue;
        }
        let aux = if p == "/" { "/tmp/.snap/".to_owned() } else { format!("/tmp/.snap{p}") };
        out.push_str(&format!("  # .. variant with mimic at {p}\n"));
        out.push_str(&format!("  \"{p}\" r,\n"));
        out.push_str(&format!("  \"{aux}\" rw,\n"));
        out.push_str(&format!("  mount options=(rbind, rw) \"{p}\" -> \"{aux}\",\n"));
        out.push_str(&format!("  mount fstype=tmpfs options=(rw) tmpfs -> \"{p}\",\n"));
        out.push_str(&format!("  mount fstype=tmpfs options=(rw, nosuid, nodev) tmpfs -> \"{p}\",\n"));
        out.push_str(&format!("  \"{aux}*/\" rw,\n  \"{p}*/\" rw,\n"));
        out.push_str(&format!("  mount options=(rbind, rw) \"{aux}*/\" -> \"{p}*/\",\n"));
        out.push_str(&format!("  \"{aux}*\" rw,\n  \"{p}*\" rw,\n"));
        out.push_str(&format!("  mount options=(bind, rw) \"{aux}*\" -> \"{p}*\",\n"));
        out.push_str(&format!("  mount options=(rprivate) -> \"{aux}\",\n  umount \"{aux}\",\n"));
        for suffix in ["", "*", "*/"] {
            out.push_str(&format!("  mount options=(rprivate) -> \"{p}{suffix}\",\n"));
        }
        for suffix in ["", "*", "*/"] {
            out.push_str(&format!("  umount \"{p}{suffix}\",\n"));
        }
    }
}

/// Rules for making directory `path` writable (directly, or by a mimic
/// over its parent).
pub fn writable_dir(out: &mut String, path: &str, assumed_depth: usize) {
    if path == "/" {
        return;
    }
    if probably_writable(path) {
        out.push_str(&format!("  # Writable directory {path}\n"));
        let mut p = path;
        while !probably_present(p) {
            out.push_str(&format!("  \"{p}/\" rw,\n"));
            p = parent(p);
        }
    } else {
        writable_mimic(out, parent(path), assumed_depth);
    }
}

/// Rules for making file `path` writable.
pub fn writable_file(out: &mut String, path: &str, assumed_depth: usize) {
    if path == "/" {
        return;
    }
    if probably_writable(path) {
        out.push_str(&format!("  # Writable file {path}\n  \"{path}\" rw,\n"));
        let mut p = parent(path);
        while !probably_present(p) {
            out.push_str(&format!("  \"{p}/\" rw,\n"));
            p = parent(p);
        }
    } else {
        writable_mimic(out, parent(path), assumed_depth);
    }
}

/// The rules one layout needs (snapd's `emitLayout`).
pub fn layout_rules(out: &mut String, l: &Layout, dirs: &SnapDirs<'_>) {
    let path = dirs.expand(&l.path);
    let described = match &l.kind {
        LayoutKind::Bind(s) => format!("bind {s}"),
        LayoutKind::BindFile(s) => format!("bind-file {s}"),
        LayoutKind::Symlink(s) => format!("symlink {s}"),
        LayoutKind::Tmpfs => "type tmpfs".into(),
    };
    out.push_str(&format!("  # Layout {}: {described}\n", l.path));
    match &l.kind {
        LayoutKind::Bind(src) => {
            let src = dirs.expand(src);
            out.push_str(&format!("  mount options=(rbind, rw) \"{src}/\" -> \"{path}/\",\n"));
            out.push_str(&format!("  mount options=(rprivate) -> \"{path}/\",\n  umount \"{path}/\",\n"));
            writable_dir(out, &path, 2);
            writable_dir(out, &src, 4);
        }
        LayoutKind::BindFile(src) => {
            let src = dirs.expand(src);
            out.push_str(&format!("  mount options=(bind, rw) \"{src}\" -> \"{path}\",\n"));
            out.push_str(&format!("  mount options=(rprivate) -> \"{path}\",\n  umount \"{path}\",\n"));
            writable_file(out, &path, 2);
            writable_file(out, &src, 4);
        }
        LayoutKind::Tmpfs => {
            out.push_str(&format!("  mount fstype=tmpfs tmpfs -> \"{path}/\",\n"));
            out.push_str(&format!("  mount fstype=tmpfs options=(rw, nosuid, nodev) tmpfs -> \"{path}/\",\n"));
            out.push_str(&format!("  mount options=(rprivate) -> \"{path}/\",\n  umount \"{path}/\",\n"));
            writable_dir(out, &path, 2);
        }
        LayoutKind::Symlink(_) => {
            out.push_str(&format!("  \"{path}\" rw,\n"));
            writable_dir(out, &path, 2);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn mimic_rules_cover_every_level_below_the_assumed_prefix() {
        let mut out = String::new();
        writable_mimic(&mut out, "/usr/lib/x", 2);
        assert!(out.contains("  \"/\" r,\n  # .. variant with mimic at /usr/\n"), "{out}");
        assert!(out.contains("variant with mimic at /usr/lib/\n") && out.contains("variant with mimic at /usr/lib/x/\n"));
        assert!(out.contains("mount options=(rbind, rw) \"/usr/lib/\" -> \"/tmp/.snap/usr/lib/\","));
        assert!(out.contains("mount options=(bind, rw) \"/tmp/.snap/usr/lib/*\" -> \"/usr/lib/*\","));
    }

    #[test]
    fn writable_places_need_no_mimic() {
        let mut out = String::new();
        writable_dir(&mut out, "/var/snap/app/common/a/b", 4);
        assert_eq!(
            out,
            "  # Writable directory /var/snap/app/common/a/b\n  \"/var/snap/app/common/a/b/\" rw,\n  \"/var/snap/app/common/a/\" rw,\n  \"/var/snap/app/common/\" rw,\n  \"/var/snap/app/\" rw,\n"
        );
        let mut out = String::new();
        writable_file(&mut out, "/etc/app.conf", 2);
        assert!(out.starts_with("  # Writable mimic /etc\n  \"/\" r,\n  # .. variant with mimic at /etc/\n  \"/etc/\" r,\n"), "{out}");
    }
}

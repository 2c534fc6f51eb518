//! `layout:`: what the snap puts at fixed places of its namespace (a
//! directory or file of its own bound there, a symlink, an empty tmpfs),
//! parsed and validated as snapd validates it (`snap/validate.go`).
//!
//! ```yaml
//! layout:
//!   /usr/lib/$SNAPCRAFT_ARCH_TRIPLET/webkit2gtk-4.1:   # written expanded by snapcraft
//!     bind: $SNAP/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1
//!   /etc/app.conf:
//!     bind-file: $SNAP_DATA/app.conf
//!   /usr/share/app:
//!     symlink: $SNAP/usr/share/app
//!   /var/cache/app:
//!     type: tmpfs
//!     mode: 0700
//! ```
//!
//! Paths may use `$SNAP`, `$SNAP_DATA` and `$SNAP_COMMON`. The rules:
//! exactly one of `bind`, `bind-file`, `symlink` and `type: tmpfs`; the
//! place absolute and clean, under a top-level directory the base has
//! (`/bin`, `/etc`, `/lib`, `/lib64`, `/meta`, `/mnt`, `/opt`, `/root`,
//! `/sbin`, `/snap`, `/srv`, `/usr`, `/var`, `/writable`), not in another
//! snap's `/snap` space, and not in or under `/dev`, `/proc`, `/sys`,
//! `/media`, `/run`, `/tmp`, `/var/lib/snapd`, `/lib/firmware`,
//! `/lib/modules`, `/var/snap`, `/home`, `/boot` or `/lost+found`; nor under
//! another layout; a bind source or symlink target inside `$SNAP`,
//! `$SNAP_DATA` or `$SNAP_COMMON`; no AppArmor pattern characters; user and
//! group `root`; a mode within 01777.

use std::collections::BTreeMap;

use yaml_rust2::Yaml;

use super::node::{child, Node};
use super::Error;

/// What a layout puts at its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayoutKind {
    /// A directory of the snap's, bound (recursively, read-write).
    Bind(String),
    /// A file of the snap's, bound.
    BindFile(String),
    /// A symlink pointing at the snap's.
    Symlink(String),
    /// An empty tmpfs.
    Tmpfs,
}

/// One layout, as written (variables not expanded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub path: String,
    pub kind: LayoutKind,
    pub user: String,
    pub group: String,
    /// The mode of a mount point that has to be made.
    pub mode: u32,
}

/// The snap's own directories, for expanding and checking layout paths.
#[derive(Debug, Clone, Copy)]
pub struct SnapDirs<'a> {
    pub name: &'a str,
    pub revision: &'a str,
}

impl SnapDirs<'_> {
    /// `path` with `$SNAP`, `$SNAP_DATA` and `$SNAP_COMMON` (and the
    /// `${...}` forms) replaced; any other variable becomes empty, as Go's
    /// `os.Expand` does.
    pub fn expand(&self, path: &str) -> String {
        let mut out = String::new();
        let mut rest = path;
        while let Some(i) = rest.find('$') {
            out.push_str(rest.get(..i).unwrap_or(""));
            let after = rest.get(i + 1..).unwrap_or("");
            let (var, tail) = if let Some(braced) = after.strip_prefix('{') {
                match braced.find('}') {
                    Some(end) => (braced.get(..end).unwrap_or(""), braced.get(end + 1..).unwrap_or("")),
                    None => ("", ""),
                }
            } else {
                let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
                (after.get(..end).unwrap_or(""), after.get(end..).unwrap_or(""))
            };
            out.push_str(&match var {
                "SNAP" => format!("/snap/{}/{}", self.name, self.revision),
                "SNAP_DATA" => format!("/var/snap/{}/{}", self.name, self.revision),
                "SNAP_COMMON" => format!("/var/snap/{}/common", self.name),
                _ => String::new(),
            });
            rest = tail;
        }
        out.push_str(rest);
        out
    }
}

/// The `layout:` map.
pub(super) fn layouts(value: &Yaml) -> Result<BTreeMap<String, Layout>, Error> {
    let mut out = BTreeMap::new();
    for (path, v) in (Node { path: "layout", value }).entries()? {
        let field = child("layout", &path);
        let node = Node { path: &field, value: v };
        let mut kinds = Vec::new();
        let mut l = Layout { path: path.clone(), kind: LayoutKind::Tmpfs, user: "root".into(), group: "root".into(), mode: 0o755 };
        for (key, v) in node.entries()? {
            let f = child(&field, &key);
            let text = Node { path: &f, value: v }.text()?;
            match key.as_str() {
                "bind" => kinds.push(LayoutKind::Bind(text)),
                "bind-file" => kinds.push(LayoutKind::BindFile(text)),
                "symlink" => kinds.push(LayoutKind::Symlink(text)),
                "type" if text == "tmpfs" => kinds.push(LayoutKind::Tmpfs),
                "type" => return Err(Error::field(&f, format!("{text:?} is not a file system layouts can use (only tmpfs)"))),
                "user" => l.user = text,
                "group" => l.group = text,
                "mode" => {
                    l.mode = u32::from_str_radix(&text, 8)
                        .map_err(|_| Error::field(&f, format!("{text:?} is not an octal mode")))?;
                }
                other => return Err(Error::field(&f, format!("unknown layout field {other:?} (expected bind, bind-file, symlink, type, user, group or mode)"))),
            }
        }
        l.kind = match <[LayoutKind; 1]>::try_from(kinds) {
            Ok([k]) => k,
            Err(_) => return Err(Error::field(&field, "must define a bind mount, a filesystem mount or a symlink (exactly one of bind, bind-file, type, symlink)")),
        };
        out.insert(path, l);
    }
    Ok(out)
}

/// Top-level directories of a base a layout may go under: a layout
/// cannot make a new one (that would need a mimic over `/`).
const TOP_LEVEL: &[&str] = &["bin", "etc", "lib", "lib64", "meta", "mnt", "opt", "root", "sbin", "snap", "srv", "usr", "var", "writable"];

/// Where no layout may go: they keep their meaning, or could be used to
/// attack the host.
pub const OFF_LIMITS: &[&str] = &[
    "/dev", "/proc", "/sys", "/media", "/run", "/tmp", "/var/lib/snapd", "/lib/firmware", "/lib/modules", "/var/snap", "/home", "/boot",
    "/lost+found",
];

const AARE: &[char] = &['?', '*', '[', ']', '{', '}', '^', '"', '\0'];

fn under(path: &str, tree: &str) -> bool {
    path == tree || path.starts_with(&format!("{tree}/"))
}

/// Go's `filepath.Clean` for the absolute and `$`-led paths used here.
fn is_clean(path: &str) -> bool {
    if path == "/" {
        return true;
    }
    !path.is_empty() && !path.ends_with('/') && path.split('/').skip(1).all(|c| !c.is_empty() && c != "." && c != "..")
}

fn is_abs_and_clean(path: &str) -> bool {
    (path.starts_with('/') || path.starts_with('$')) && is_clean(path)
}

/// Only `$SNAP`, `$SNAP_DATA` and `$SNAP_COMMON` may be used.
fn check_variables(path: &str) -> Result<(), String> {
    let mut rest = path;
    while let Some(i) = rest.find('$') {
        rest = rest.get(i + 1..).unwrap_or("");
        let end = rest.find(|c: char| !(c.is_ascii_alphabetic() || c == '_')).unwrap_or(rest.len());
        let var = rest.get(..end).unwrap_or("");
        if !matches!(var, "SNAP" | "SNAP_DATA" | "SNAP_COMMON") {
            return Err(format!("reference to unknown variable \"${var}\""));
        }
        rest = rest.get(end..).unwrap_or("");
    }
    Ok(())
}

/// A source or symlink target: clean, inside the snap's own directories.
fn check_inside(field: &str, what: &str, raw: &str, dirs: &SnapDirs<'_>) -> Result<String, Error> {
    let bad = |m: String| Err(Error::field(field, format!("invalid {what} {raw:?}: {m}")));
    if let Err(m) = check_variables(raw) {
        return bad(m);
    }
    let expanded = dirs.expand(raw);
    if !is_abs_and_clean(&expanded) {
        return bad("must be absolute and clean".into());
    }
    let own = [dirs.expand("$SNAP"), dirs.expand("$SNAP_DATA"), dirs.expand("$SNAP_COMMON")];
    if !own.iter().any(|p| expanded.starts_with(p.as_str())) {
        return bad("must start with $SNAP, $SNAP_DATA or $SNAP_COMMON".into());
    }
    if expanded.contains(AARE) {
        return bad("it contains a reserved AppArmor character".into());
    }
    Ok(expanded)
}

/// Checks every layout of snap `name` as snapd does; layouts are taken in
/// the order of their paths, each checked against those before it.
pub fn validate(layouts: &BTreeMap<String, Layout>, name: &str) -> Result<(), Error> {
    let dirs = SnapDirs { name, revision: "1" };
    // Sources used as both a directory and a file.
    let mut source_kinds: BTreeMap<String, &str> = BTreeMap::new();
    let mut placed: Vec<(String, bool)> = Vec::new();
    for (path, l) in layouts {
        let field = child("layout", path);
        let err = |m: String| Err(Error::field(&field, m));
        if path.is_empty() {
            return err("a layout cannot use an empty path".into());
        }
        if path.contains(AARE) {
            return err("the path contains a reserved AppArmor character".into());
        }
        if let Err(m) = check_variables(path) {
            return err(format!("invalid mount point: {m}"));
        }
        let target = dirs.expand(path);
        if !is_abs_and_clean(&target) || !target.starts_with('/') {
            return err("invalid mount point: must be absolute and clean".into());
        }
        if let Some(top) = target.split('/').nth(1).filter(|t| !t.is_empty()) {
            if !TOP_LEVEL.contains(&top) {
                return err(format!("the layout would make a new top-level directory /{top}"));
            }
        }
        if path.starts_with("/snap/") && !path.starts_with(&format!("/snap/{name}")) {
            return err("the layout is in space belonging to another snap".into());
        }
        if let Some(tree) = OFF_LIMITS.iter().find(|t| under(&target, t)) {
            return err(format!("the layout is in an off-limits area ({tree})"));
        }
        if let Some((prior, _)) = placed.iter().find(|(p, _)| under(&target, p)) {
            return err(format!("the layout is underneath prior layout item {prior}"));
        }
        match &l.kind {
            LayoutKind::Bind(src) | LayoutKind::BindFile(src) => {
                let expanded = check_inside(&field, "bind mount source", src, &dirs)?;
                let kind = if matches!(l.kind, LayoutKind::Bind(_)) { "dir" } else { "file" };
                if let Some(other) = source_kinds.insert(expanded, kind) {
                    if other != kind {
                        return err(format!("{src} is used as a directory by one layout and as a file by another"));
                    }
                }
            }
            LayoutKind::Symlink(target_) => {
                check_inside(&field, "symlink target", target_, &dirs)?;
            }
            LayoutKind::Tmpfs => {}
        }
        if l.user != "root" {
            return err(format!("invalid user {:?} (only root)", l.user));
        }
        if l.group != "root" {
            return err(format!("invalid group {:?} (only root)", l.group));
        }
        if l.mode & 0o1777 != l.mode {
            return err(format!("invalid mode {:#o}", l.mode));
        }
        placed.push((target, matches!(l.kind, LayoutKind::Symlink(_))));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn parse(yaml: &str) -> Result<BTreeMap<String, Layout>, Error> {
        let docs = yaml_rust2::YamlLoader::load_from_str(yaml).unwrap();
        let l = layouts(&docs[0])?;
        validate(&l, "app")?;
        Ok(l)
    }

    #[test]
    fn every_kind() {
        let l = parse(
            "/usr/lib/webkit: {bind: $SNAP/usr/lib/webkit}\n/etc/app.conf: {bind-file: $SNAP_DATA/app.conf}\n\
             /usr/share/app: {symlink: $SNAP/usr/share/app}\n/var/cache/app: {type: tmpfs, mode: 0700}\n\
             /opt/app: {bind: $SNAP_COMMON/opt, user: root, group: root, mode: '1777'}\n",
        )
        .unwrap();
        assert_eq!(l["/usr/lib/webkit"].kind, LayoutKind::Bind("$SNAP/usr/lib/webkit".into()));
        assert_eq!(l["/etc/app.conf"].kind, LayoutKind::BindFile("$SNAP_DATA/app.conf".into()));
        assert_eq!(l["/usr/share/app"].kind, LayoutKind::Symlink("$SNAP/usr/share/app".into()));
        assert_eq!((l["/var/cache/app"].kind.clone(), l["/var/cache/app"].mode), (LayoutKind::Tmpfs, 0o700));
        assert_eq!(l["/opt/app"].mode, 0o1777);
        assert_eq!(l["/etc/app.conf"].mode, 0o755);
        let d = SnapDirs { name: "app", revision: "x2" };
        assert_eq!(d.expand("${SNAP_COMMON}/opt"), "/var/snap/app/common/opt");
        assert_eq!(d.expand("$SNAP/a$SNAP_DATA"), "/snap/app/x2/a/var/snap/app/x2");
        assert_eq!(d.expand("$OTHER/x"), "/x");
    }

    #[test]
    fn forbidden_targets_and_sources() {
        for (yaml, msg) in [
            ("/proc/x: {type: tmpfs}", "new top-level directory /proc"),
            ("/sys/x: {type: tmpfs}", "new top-level directory /sys"),
            ("/dev/x: {type: tmpfs}", "new top-level directory /dev"),
            ("/run/x: {type: tmpfs}", "new top-level directory /run"),
            ("/boot/x: {type: tmpfs}", "new top-level directory /boot"),
            ("/var/lib/snapd/x: {type: tmpfs}", "off-limits area (/var/lib/snapd)"),
            ("/var/snap/x: {type: tmpfs}", "off-limits area (/var/snap)"),
            ("$SNAP_DATA/x: {type: tmpfs}", "off-limits area (/var/snap)"),
            ("/lib/modules/x: {type: tmpfs}", "off-limits area (/lib/modules)"),
            ("/lib/firmware: {type: tmpfs}", "off-limits area (/lib/firmware)"),
            ("/home/x: {type: tmpfs}", "new top-level directory /home"),
            ("/tmp/x: {type: tmpfs}", "new top-level directory /tmp"),
            ("/newtop/x: {type: tmpfs}", "new top-level directory /newtop"),
            ("/snap/other/x: {type: tmpfs}", "space belonging to another snap"),
            ("usr/x: {type: tmpfs}", "must be absolute and clean"),
            ("/usr/x/../y: {type: tmpfs}", "must be absolute and clean"),
            ("/usr/x/: {type: tmpfs}", "must be absolute and clean"),
            ("/usr/x*: {type: tmpfs}", "reserved AppArmor character"),
            ("$HOME/x: {type: tmpfs}", "unknown variable \"$HOME\""),
            ("/usr/x: {bind: /etc}", "must start with $SNAP, $SNAP_DATA or $SNAP_COMMON"),
            ("/usr/x: {bind: $SNAP/../../etc}", "must be absolute and clean"),
            ("/usr/x: {symlink: /etc/shadow}", "must start with $SNAP"),
            ("/usr/x: {symlink: '$SNAP/a{b}'}", "reserved AppArmor character"),
            ("/usr/x: {type: tmpfs, bind: $SNAP/x}", "exactly one of"),
            ("/usr/x: {}", "exactly one of"),
            ("/usr/x: {type: ext4}", "only tmpfs"),
            ("/usr/x: {type: tmpfs, user: daemon}", "invalid user \"daemon\""),
            ("/usr/x: {type: tmpfs, group: adm}", "invalid group \"adm\""),
            ("/usr/x: {type: tmpfs, mode: '4755'}", "invalid mode 0o4755"),
            ("/usr/x: {type: tmpfs, mode: 'rwx'}", "not an octal mode"),
            ("/usr/x: {type: tmpfs, bindfile: $SNAP/x}", "unknown layout field \"bindfile\""),
            ("/usr/a: {type: tmpfs}\n/usr/a/b: {type: tmpfs}", "underneath prior layout item /usr/a"),
            ("/usr/a: {bind: $SNAP/s}\n/usr/b: {bind-file: $SNAP/s}", "used as a directory by one layout and as a file"),
        ] {
            let e = parse(yaml).unwrap_err().to_string();
            assert!(e.contains(msg), "{yaml}: {e}");
        }
        // Allowed: /usr, /var, /etc, /opt and the snap's own space.
        parse("/usr/a: {type: tmpfs}\n/var/b: {type: tmpfs}\n/etc/c: {type: tmpfs}\n/opt/d: {type: tmpfs}\n$SNAP/e: {type: tmpfs}\n/snap/app/f: {type: tmpfs}").unwrap();
    }
}

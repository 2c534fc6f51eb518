//! Interfaces whose policy depends on the plug's own attributes, on the
//! snap at the other end, or on the host, so it is computed rather than
//! written in a data file: `content` (one snap's files in another's
//! namespace), `desktop` (the host's fonts), `personal-files` and
//! `system-files` (paths the plug names). Each gives AppArmor rules for the
//! apps and for `snap-update-ns`, Landlock lines, and mount entries for the
//! snap's mount profile (and the user's), as snapd's interfaces do.

use policy_cache::fstab::MountEntry;
use serde_json::Value;

use super::Error;
use crate::snapyaml::{Attrs, SnapDirs};

/// Which computed interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Computed {
    Content,
    Desktop,
    PersonalFiles,
    SystemFiles,
}

/// One end of a connection: the snap, and the attributes of its plug or slot.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    pub dirs: SnapDirs<'a>,
    pub instance: &'a str,
    /// The plug's or slot's name.
    pub name: &'a str,
    pub attrs: &'a Attrs,
}

impl Side<'_> {
    fn reference(&self) -> String {
        format!("{}:{}", self.instance, self.name)
    }
}

/// What the host has that `desktop` binds in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Host {
    /// The font directories and font caches that exist, in snapd's order.
    pub font_dirs: Vec<String>,
}

/// The font directories and caches snapd considers, in order (the caches
/// last; `mount-host-font-cache: false` leaves them out).
pub const FONT_DIRS: &[&str] = &["/usr/share/fonts", "/usr/local/share/fonts"];
pub const FONT_CACHE_DIRS: &[&str] = &["/var/cache/fontconfig"];

/// The computed part of a connection's policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extra {
    pub apparmor: String,
    pub apparmor_update_ns: String,
    pub landlock: String,
    pub mounts: Vec<MountEntry>,
    pub user_mounts: Vec<MountEntry>,
}

const AARE: &[char] = &['?', '*', '[', ']', '{', '}', '^', '"', '\0'];

fn strings(attrs: &Attrs, key: &str, what: &str) -> Result<Vec<String>, Error> {
    match attrs.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| Error(format!("cannot use {what}: {key:?} must be a list of strings"))))
            .collect(),
        Some(_) => Err(Error(format!("cannot use {what}: {key:?} must be a list of strings"))),
    }
}

/// Go's `filepath.Clean` of a relative or `$`-led path, lexically.
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            ".." if rooted => {}
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// A content path: no AppArmor pattern characters, clean, not leaving
/// the snap (`..`).
fn check_content_path(path: &str) -> Result<(), Error> {
    if path.contains(AARE) {
        return Err(Error(format!("content interface path {path:?} contains a reserved AppArmor character")));
    }
    if clean(path) != path || path == ".." || path.starts_with("../") {
        return Err(Error(format!("content interface path is not clean: {path:?}")));
    }
    Ok(())
}

/// A content path made absolute: `$SNAP`, `$SNAP_DATA` or `$SNAP_COMMON`
/// at its start expanded for `side`'s snap; anything else is under `$SNAP`.
fn resolve(path: &str, side: &Side<'_>) -> String {
    let known = ["$SNAP_DATA", "$SNAP_COMMON", "$SNAP"];
    let variable_led = known.iter().any(|v| path.strip_prefix(v).is_some_and(|r| r.is_empty() || r.starts_with('/')));
    if variable_led {
        side.dirs.expand(path)
    } else {
        side.dirs.expand(&clean(&format!("$SNAP/{path}")))
    }
}

/// The content tag: the `content` attribute, or the plug's or slot's name.
pub fn content_tag(name: &str, attrs: &Attrs) -> String {
    match attrs.get("content").and_then(Value::as_str) {
        Some(t) if !t.is_empty() => t.to_owned(),
        _ => name.to_owned(),
    }
}

/// The slot's `read` or `write` paths (top-level, or in `source`).
fn slot_paths(attrs: &Attrs, key: &str) -> Result<Vec<String>, Error> {
    match attrs.get("source") {
        Some(Value::Object(source)) => {
            let inner: Attrs = source.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            strings(&inner, key, "a content slot")
        }
        Some(_) => Err(Error("cannot use a content slot: \"source\" must be a map".into())),
        None => strings(attrs, key, "a content slot"),
    }
}

/// Rules that let `snap-update-ns` remount `target` read-only with the
/// source's own nosuid, nodev and noexec kept.
fn remount_ro(out: &mut String, target: &str) {
    for extra in ["", ", nodev", ", nosuid", ", nosuid, nodev", ", noexec", ", nodev, noexec", ", nosuid, noexec", ", nosuid, nodev, noexec"] {
        out.push_str(&format!("  remount options=(bind, ro{extra}) \"{target}\",\n"));
    }
}

fn files_path(raw: &str, personal: bool) -> Result<(String, String), Error> {
    let iface = if personal { "personal-files" } else { "system-files" };
    let bad = |m: String| Err(Error(format!("cannot use a {iface} plug: {m}")));
    if raw.ends_with('/') {
        return bad(format!("{raw:?} cannot end with \"/\""));
    }
    if clean(raw) != raw {
        return bad(format!("cannot use {raw:?}: try {:?}", clean(raw)));
    }
    if raw.contains('~') {
        return bad(format!("{raw:?} cannot contain \"~\""));
    }
    if raw.contains(AARE) {
        return bad(format!("{raw:?} contains a reserved AppArmor character"));
    }
    if personal {
        if !raw.starts_with("$HOME/") {
            return bad(format!("{raw:?} must start with \"$HOME/\""));
        }
        if raw.matches("$HOME").count() > 1 {
            return bad(format!("$HOME must only be used at the start of the path of {raw:?}"));
        }
        let rest = raw.trim_start_matches("$HOME");
        Ok((format!("owner \"@{{HOME}}{rest}{{,/,/**}}\""), format!("@{{HOME}}{rest}")))
    } else {
        if !raw.starts_with('/') {
            return bad(format!("{raw:?} must start with \"/\""));
        }
        if raw.contains("$HOME") {
            return bad(format!("$HOME cannot be used in {raw:?}"));
        }
        Ok((format!("\"{raw}{{,/,/**}}\""), raw.to_owned()))
    }
}

impl Computed {
    pub fn from_name(name: &str) -> Option<Computed> {
        Some(match name {
            "content" => Computed::Content,
            "desktop" => Computed::Desktop,
            "personal-files" => Computed::PersonalFiles,
            "system-files" => Computed::SystemFiles,
            _ => return None,
        })
    }

    /// Whether its slot is another snap's (content) rather than the system's.
    pub fn slot_on_snap(self) -> bool {
        self == Computed::Content
    }

    /// Checks a plug's attributes when the snap is registered.
    pub fn validate_plug(self, name: &str, attrs: &Attrs) -> Result<(), Error> {
        match self {
            Computed::Content => {
                let target = attrs.get("target").and_then(Value::as_str).filter(|t| !t.is_empty());
                let Some(target) = target else {
                    return Err(Error(format!("cannot use content plug {name}: it must contain a target path")));
                };
                check_content_path(target).map_err(|e| Error(format!("cannot use content plug {name}: {}", e.0)))?;
                match attrs.get("default-provider") {
                    None | Some(Value::String(_)) => Ok(()),
                    Some(_) => Err(Error(format!("cannot use content plug {name}: default-provider must be a snap name"))),
                }
            }
            Computed::Desktop => match attrs.get("mount-host-font-cache") {
                None | Some(Value::Bool(_)) => Ok(()),
                Some(_) => Err(Error("cannot use a desktop plug: mount-host-font-cache must be true or false".into())),
            },
            Computed::PersonalFiles | Computed::SystemFiles => {
                let personal = self == Computed::PersonalFiles;
                let mut any = false;
                for key in ["read", "write"] {
                    if attrs.contains_key(key) {
                        any = true;
                        for p in strings(attrs, key, &format!("plug {name}"))? {
                            files_path(&p, personal)?;
                        }
                    }
                }
                if !any {
                    let iface = if personal { "personal-files" } else { "system-files" };
                    return Err(Error(format!("cannot use {iface} plug {name}: it needs a \"read\" or \"write\" attribute")));
                }
                Ok(())
            }
        }
    }

    /// Checks a slot's attributes (content slots of snaps).
    pub fn validate_slot(self, name: &str, attrs: &Attrs) -> Result<(), Error> {
        if self != Computed::Content {
            return Err(Error(format!("cannot use slot {name}: only the system has {} slots", self.name())));
        }
        if attrs.contains_key("source") && (attrs.contains_key("read") || attrs.contains_key("write")) {
            return Err(Error(format!("cannot use content slot {name}: move the \"read\" and \"write\" attributes into the \"source\" section")));
        }
        let (read, write) = (slot_paths(attrs, "read")?, slot_paths(attrs, "write")?);
        if read.is_empty() && write.is_empty() {
            return Err(Error(format!("cannot use content slot {name}: read or write path must be set")));
        }
        for p in read.iter().chain(&write) {
            check_content_path(p).map_err(|e| Error(format!("cannot use content slot {name}: {}", e.0)))?;
        }
        Ok(())
    }

    fn name(self) -> &'static str {
        match self {
            Computed::Content => "content",
            Computed::Desktop => "desktop",
            Computed::PersonalFiles => "personal-files",
            Computed::SystemFiles => "system-files",
        }
    }

    /// The plug side of a connection (`slot`: the other snap's, for content).
    pub fn plug(self, plug: &Side<'_>, slot: Option<&Side<'_>>, host: &Host) -> Result<Extra, Error> {
        self.validate_plug(plug.name, plug.attrs)?;
        let mut x = Extra::default();
        match self {
            Computed::Content => {
                let slot = slot.ok_or_else(|| Error(format!("cannot connect content plug {}: it needs a snap's slot", plug.reference())))?;
                content_plug(&mut x, plug, slot)?;
            }
            Computed::Desktop => desktop_plug(&mut x, plug, host),
            Computed::PersonalFiles | Computed::SystemFiles => {
                let personal = self == Computed::PersonalFiles;
                x.apparmor.push_str(if personal {
                    "# Specific personal files or directories in the user's home directory.\n"
                } else {
                    "# Specific system files or directories.\n"
                });
                for (key, perms, rights) in [("read", "rk", "read"), ("write", "rwkl", "read,write")] {
                    for p in strings(plug.attrs, key, "a files plug")? {
                        let (rule, landlock) = files_path(&p, personal)?;
                        x.apparmor.push_str(&format!("{rule} {perms},\n"));
                        x.landlock.push_str(&format!("fs {rights} {landlock}\n"));
                    }
                }
            }
        }
        Ok(x)
    }

    /// The slot side of a content connection: a writable share lets the
    /// slot's apps reach the files at the plugging snap's mount point.
    pub fn slot(self, plug: &Side<'_>, slot: &Side<'_>) -> Result<Extra, Error> {
        let mut x = Extra::default();
        if self != Computed::Content {
            return Ok(x);
        }
        let write = slot_paths(slot.attrs, "write")?;
        if !write.is_empty() {
            x.apparmor.push_str("# The plugging snap's view of what this slot shares writably.\n");
            for w in &write {
                let (_, target) = source_target(plug, slot, w);
                x.apparmor.push_str(&format!("\"{target}/**\" mrwklix,\n"));
            }
        }
        Ok(x)
    }
}

/// Where a shared path comes from and goes to.
fn source_target(plug: &Side<'_>, slot: &Side<'_>, rel: &str) -> (String, String) {
    let source = resolve(rel, slot);
    let target_attr = plug.attrs.get("target").and_then(Value::as_str).unwrap_or("");
    let mut target = resolve(target_attr, plug);
    if slot.attrs.contains_key("source") {
        let base = source.rsplit('/').next().unwrap_or("");
        target = clean(&format!("{target}/{base}"));
    }
    (source, target)
}

fn content_plug(x: &mut Extra, plug: &Side<'_>, slot: &Side<'_>) -> Result<(), Error> {
    Computed::Content.validate_slot(slot.name, slot.attrs)?;
    let (ptag, stag) = (content_tag(plug.name, plug.attrs), content_tag(slot.name, slot.attrs));
    if ptag != stag {
        return Err(Error(format!("cannot connect {} to {}: their content tags differ ({ptag} and {stag})", plug.reference(), slot.reference())));
    }
    let (read, write) = (slot_paths(slot.attrs, "read")?, slot_paths(slot.attrs, "write")?);
    let writable = |x: &mut Extra, source: &str, target: &str| {
        for p in [source.to_owned(), target.to_owned(), format!("{target}-[0-9]*")] {
            crate::policy::update_ns::writable_dir(&mut x.apparmor_update_ns, &p, 1);
        }
    };
    // Read shares come first in the profile, as snapd writes them.
    let mut write_mounts = Vec::new();
    if !write.is_empty() {
        x.apparmor.push_str("# Files the slot shares, read-write.\n");
    }
    for (i, w) in write.iter().enumerate() {
        let (source, target) = source_target(plug, slot, w);
        x.apparmor.push_str(&format!("\"{source}/**\" mrwklix,\n"));
        let u = &mut x.apparmor_update_ns;
        u.push_str(&format!("  # Read-write content sharing {} -> {} (w#{i})\n", plug.reference(), slot.reference()));
        u.push_str(&format!("  mount options=(bind, rw) \"{source}/\" -> \"{target}{{,-[0-9]*}}/\",\n"));
        u.push_str(&format!("  mount options=(rprivate) -> \"{target}{{,-[0-9]*}}/\",\n  umount \"{target}{{,-[0-9]*}}/\",\n"));
        writable(x, &source, &target);
        x.landlock.push_str(&format!("fs read,write,execute {target}\n"));
        write_mounts.push(MountEntry { name: source, dir: target, options: vec!["bind".into()], ..MountEntry::default() });
    }
    if !read.is_empty() {
        x.apparmor.push_str("# Files the slot shares, read-only.\n");
    }
    for (i, r) in read.iter().enumerate() {
        let (source, target) = source_target(plug, slot, r);
        x.apparmor.push_str(&format!("\"{source}/**\" mrkix,\n"));
        let u = &mut x.apparmor_update_ns;
        u.push_str(&format!("  # Read-only content sharing {} -> {} (r#{i})\n", plug.reference(), slot.reference()));
        u.push_str(&format!("  mount options=(bind) \"{source}/\" -> \"{target}{{,-[0-9]*}}/\",\n"));
        remount_ro(u, &format!("{target}{{,-[0-9]*}}/"));
        u.push_str(&format!("  mount options=(rprivate) -> \"{target}{{,-[0-9]*}}/\",\n  umount \"{target}{{,-[0-9]*}}/\",\n"));
        writable(x, &source, &target);
        x.landlock.push_str(&format!("fs read,execute {target}\n"));
        x.mounts.push(MountEntry { name: source, dir: target, options: vec!["bind".into(), "ro".into()], ..MountEntry::default() });
    }
    x.mounts.extend(write_mounts);
    Ok(())
}

fn desktop_plug(x: &mut Extra, plug: &Side<'_>, host: &Host) {
    let app_id = format!("snap.{}", plug.instance);
    x.user_mounts.push(MountEntry {
        name: format!("$XDG_RUNTIME_DIR/doc/by-app/{app_id}"),
        dir: "$XDG_RUNTIME_DIR/doc".into(),
        options: vec!["bind".into(), "rw".into(), "x-snapd.ignore-missing".into()],
        ..MountEntry::default()
    });
    let u = &mut x.apparmor_update_ns;
    u.push_str("  # Mount the document portal\n");
    u.push_str(&format!("  mount options=(bind) /run/user/[0-9]*/doc/by-app/{app_id}/ -> /run/user/[0-9]*/doc/,\n"));
    u.push_str("  umount /run/user/[0-9]*/doc/,\n");
    let with_cache = plug.attrs.get("mount-host-font-cache").and_then(Value::as_bool).unwrap_or(true);
    for dir in &host.font_dirs {
        if !with_cache && FONT_CACHE_DIRS.contains(&dir.as_str()) {
            continue;
        }
        let source = format!("/var/lib/snapd/hostfs{dir}");
        u.push_str(&format!("  # Read-only access to {dir}\n"));
        u.push_str(&format!("  mount options=(bind) {source}/ -> {dir}/,\n"));
        remount_ro(u, &format!("{dir}/"));
        u.push_str(&format!("  umount {dir}/,\n"));
        // A base without the directory gets it by a writable mimic.
        crate::policy::update_ns::writable_dir(u, dir, 1);
        x.landlock.push_str(&format!("fs read {dir}\n"));
        x.mounts.push(MountEntry { name: source, dir: dir.clone(), options: vec!["bind".into(), "ro".into()], ..MountEntry::default() });
    }
}

#[cfg(test)]
#[path = "computed_tests.rs"]
mod tests;

//! Mount profiles: snapd's fstab-like files that say what a snap's mount
//! namespace holds beyond its base (layouts, content connections, parallel
//! instances' remaps, host fonts).
//!
//! * `/var/lib/snapd/mount/snap.<instance>.fstab`: the desired profile of
//!   the snap's namespace, written by the policy tools (or snapd);
//! * `/var/lib/snapd/mount/snap.<instance>.user-fstab`: the desired profile
//!   of each user's per-command namespace (`$XDG_RUNTIME_DIR` and `$HOME`
//!   stand for the user's own);
//! * `/run/snapd/ns/snap.<instance>.fstab`: what is mounted now, written by
//!   `snap-update-ns` after each change.
//!
//! One entry a line, six fields separated by blanks, as fstab(5):
//!
//! ```text
//! NAME DIR TYPE OPTIONS DUMP PASS
//! /snap/platform/1/lib /snap/app/2/platform none bind,ro 0 0
//! tmpfs /opt tmpfs x-snapd.synthetic,x-snapd.needed-by=/opt/foo,mode=0755,uid=0,gid=0 0 0
//! ```
//!
//! Space, tab, newline and backslash in a field are written `\040`, `\011`,
//! `\012` and `\134`; an empty field is written `none` (options:
//! `defaults`). Lines starting with `#` and blank lines are skipped; a field
//! starting with `#` ends the line. Between three and six fields: the last
//! ones default to nothing and zero. The options are the mount(8) words and
//! snapd's own `x-snapd.*` ones, which the kernel never sees:
//!
//! | option | meaning |
//! | --- | --- |
//! | `x-snapd.kind=file\|symlink` | the mount point is a file, or the entry is a symlink to make |
//! | `x-snapd.symlink=TARGET` | what the symlink points at |
//! | `x-snapd.origin=layout\|overname\|rootfs` | where the entry comes from (layouts and overname entries must work; `rootfs` is the tmpfs root the launcher made) |
//! | `x-snapd.mode=0NNN`, `x-snapd.user=UID`, `x-snapd.group=GID` | mode and owner of a mount point that has to be made |
//! | `x-snapd.synthetic`, `x-snapd.needed-by=DIR` | made by `snap-update-ns` itself (a writable mimic) for the entry at DIR |
//! | `x-snapd.detach` | unmount lazily (`MNT_DETACH`) |
//! | `x-snapd.ignore-missing` | skip the entry when its source or mount point is missing |
//! | `x-snapd.id=ID` | the entry's identity for `needed-by` (default: its DIR) |
//!
//! The format, the escapes and the defaults are those of snapd's
//! `osutil.MountEntry`, so that profiles round-trip byte for byte between
//! snapd's tools and ours.

use std::fmt;

/// The longest profile accepted (a snap with every interface connected
/// writes a few kilobytes).
pub const MAX_LEN: usize = 1 << 20;

/// One entry of a mount profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountEntry {
    /// What is mounted: a path, or a name such as `tmpfs` (`fs_spec`).
    pub name: String,
    /// Where it is mounted (`fs_file`).
    pub dir: String,
    /// The file system type (`fs_vfstype`); empty for binds and symlinks.
    pub fstype: String,
    /// The mount options, in order.
    pub options: Vec<String>,
    pub dump_frequency: i32,
    pub check_pass: i32,
}

/// Where an entry comes from (`x-snapd.origin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// From the snap's own `layout:`; failing to apply it fails the update.
    Layout,
    /// A parallel instance's directory over the snap's; must work too.
    Overname,
    /// The tmpfs root the launcher built the namespace on.
    Rootfs,
    /// Interfaces (content, fonts) and anything else.
    Other,
}

/// What a mount point is (`x-snapd.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Directory,
    File,
    Symlink,
    /// A kind this code does not know: never applied.
    Unknown,
}

/// A line that is not a mount entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based, 0 for a single entry.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "cannot parse mount entry: {}", self.message)
        } else {
            write!(f, "cannot parse mount entry on line {}: {}", self.line, self.message)
        }
    }
}

impl std::error::Error for ParseError {}

/// The four escapes of the format, in the order they are tried.
const ESCAPES: [(&str, char); 4] = [("\\040", ' '), ("\\011", '\t'), ("\\012", '\n'), ("\\134", '\\')];

/// Writes `text` with the format's escapes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match ESCAPES.iter().find(|(_, plain)| *plain == c) {
            Some((code, _)) => out.push_str(code),
            None => out.push(c),
        }
    }
    out
}

/// Reads the format's escapes, left to right; any other backslash stays.
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some((code, plain)) = ESCAPES.iter().find(|(code, _)| rest.starts_with(code)) {
            out.push(*plain);
            rest = rest.get(code.len()..).unwrap_or("");
            continue;
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

/// An integer field as Go's `strconv.Atoi` reads it (an optional sign and
/// decimal digits).
fn parse_int(field: &str, what: &str, line: usize) -> Result<i32, ParseError> {
    let digits = field.strip_prefix(['+', '-']).unwrap_or(field);
    let bad = || ParseError { line, message: format!("cannot parse {what}: {field:?}") };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    field.parse::<i32>().map_err(|_| bad())
}

impl MountEntry {
    /// Parses one line (no comment-only or blank lines).
    pub fn parse(line: &str) -> Result<MountEntry, ParseError> {
        Self::parse_at(line, 0)
    }

    fn parse_at(line: &str, number: usize) -> Result<MountEntry, ParseError> {
        let mut fields: Vec<&str> = line.split([' ', '\t']).filter(|f| !f.is_empty()).collect();
        if let Some(comment) = fields.iter().position(|f| f.starts_with('#')) {
            fields.truncate(comment);
        }
        if !(3..=6).contains(&fields.len()) {
            return Err(ParseError { line: number, message: format!("expected between 3 and 6 fields, found {}", fields.len()) });
        }
        let field = |i: usize| fields.get(i).copied();
        let mut e = MountEntry {
            name: unescape(field(0).unwrap_or_default()),
            dir: unescape(field(1).unwrap_or_default()),
            fstype: unescape(field(2).unwrap_or_default()),
            ..MountEntry::default()
        };
        if let Some(options) = field(3) {
            e.options = unescape(options).split(',').map(str::to_owned).collect();
        }
        if let Some(df) = field(4) {
            e.dump_frequency = parse_int(df, "dump frequency", number)?;
        }
        if let Some(cpn) = field(5) {
            e.check_pass = parse_int(cpn, "check pass number", number)?;
        }
        Ok(e)
    }

    /// The value of option `name=VALUE` (the first one).
    pub fn opt_str(&self, name: &str) -> Option<&str> {
        self.options.iter().find_map(|o| o.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
    }

    /// Whether option `name` (without a value) is present.
    pub fn opt_bool(&self, name: &str) -> bool {
        self.options.iter().any(|o| o == name)
    }

    pub fn origin(&self) -> Origin {
        match self.opt_str("x-snapd.origin") {
            Some("layout") => Origin::Layout,
            Some("overname") => Origin::Overname,
            Some("rootfs") => Origin::Rootfs,
            _ => Origin::Other,
        }
    }

    pub fn kind(&self) -> Kind {
        match self.opt_str("x-snapd.kind") {
            None | Some("") => Kind::Directory,
            Some("file") => Kind::File,
            Some("symlink") => Kind::Symlink,
            Some(_) => Kind::Unknown,
        }
    }

    /// The target of a symlink entry (`x-snapd.symlink`).
    pub fn symlink_target(&self) -> Option<&str> {
        self.opt_str("x-snapd.symlink")
    }

    /// The identity other entries name in `x-snapd.needed-by`.
    pub fn id(&self) -> &str {
        self.opt_str("x-snapd.id").unwrap_or(&self.dir)
    }

    pub fn needed_by(&self) -> Option<&str> {
        self.opt_str("x-snapd.needed-by")
    }

    pub fn is_synthetic(&self) -> bool {
        self.opt_bool("x-snapd.synthetic")
    }

    pub fn detach(&self) -> bool {
        self.opt_bool("x-snapd.detach")
    }

    pub fn ignore_missing(&self) -> bool {
        self.opt_bool("x-snapd.ignore-missing")
    }

    /// Whether this is a bind mount (`bind` or `rbind`).
    pub fn is_bind(&self) -> bool {
        self.opt_bool("bind") || self.opt_bool("rbind")
    }

    /// The mode a missing mount point is made with (`x-snapd.mode`, an
    /// octal number with a leading zero: `0755`, `01777`), if given.
    pub fn mode(&self) -> Result<Option<u32>, String> {
        let Some(text) = self.opt_str("x-snapd.mode") else { return Ok(None) };
        let digits = text.strip_prefix('0').filter(|d| !d.is_empty() && d.len() <= 4);
        match digits.and_then(|d| u32::from_str_radix(d, 8).ok()) {
            Some(m) if m & !0o7777 == 0 => Ok(Some(m)),
            _ => Err(format!("cannot parse octal file mode from {text:?}")),
        }
    }

    /// The owner a missing mount point is made with (`x-snapd.user`, or
    /// snapd's reader's spelling `x-snapd.uid`), if given.
    pub fn user(&self) -> Result<Option<u32>, String> {
        numeric_id(self.opt_str("x-snapd.user").or_else(|| self.opt_str("x-snapd.uid")), "user")
    }

    /// The group of a missing mount point (`x-snapd.group` or `x-snapd.gid`).
    pub fn group(&self) -> Result<Option<u32>, String> {
        numeric_id(self.opt_str("x-snapd.group").or_else(|| self.opt_str("x-snapd.gid")), "group")
    }
}

fn numeric_id(text: Option<&str>, what: &str) -> Result<Option<u32>, String> {
    match text {
        None => Ok(None),
        Some(t) if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => {
            t.parse().map(Some).map_err(|_| format!("cannot parse {what} name {t:?}"))
        }
        Some(t) => Err(format!("cannot parse {what} name {t:?}")),
    }
}

impl fmt::Display for MountEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let or_none = |s: &str| if s.is_empty() { "none".to_owned() } else { escape(s) };
        let options = if self.options.is_empty() { "defaults".to_owned() } else { escape(&self.options.join(",")) };
        write!(
            f,
            "{} {} {} {} {} {}",
            or_none(&self.name),
            or_none(&self.dir),
            or_none(&self.fstype),
            options,
            self.dump_frequency,
            self.check_pass
        )
    }
}

/// A whole profile: its entries in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountProfile {
    pub entries: Vec<MountEntry>,
}

impl MountProfile {
    /// Parses a profile; the first bad line is the error.
    pub fn parse(text: &str) -> Result<MountProfile, ParseError> {
        let mut entries = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            entries.push(MountEntry::parse_at(line, i + 1)?);
        }
        Ok(MountProfile { entries })
    }
}

impl fmt::Display for MountProfile {
    /// One entry a line, each ending with a newline (nothing for no entries).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.entries {
            writeln!(f, "{e}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "fstab_tests.rs"]
mod tests;

//! `/proc/self/mountinfo`, parsed with its octal escapes (`\040` for a
//! space and so on) decoded. Malformed lines are errors, never panics.

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    pub mount_id: u32,
    pub parent_id: u32,
    pub major: u32,
    pub minor: u32,
    pub root: String,
    pub mount_point: String,
    pub options: String,
    /// Optional fields such as `shared:1` or `master:2`.
    pub optional: Vec<String>,
    pub fs_type: String,
    pub source: String,
    pub super_options: String,
}

impl MountEntry {
    pub fn is_shared(&self) -> bool {
        self.optional.iter().any(|o| o.starts_with("shared:"))
    }
}

/// Decodes `\NNN` octal escapes; a backslash not followed by three octal
/// digits is kept as it is.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'\\' {
            if let Some(d) = b.get(i + 1..i + 4) {
                if d.iter().all(|x| (b'0'..=b'7').contains(x)) {
                    let v = d.iter().fold(0u32, |acc, x| acc * 8 + u32::from(x - b'0'));
                    if let Ok(byte) = u8::try_from(v) {
                        out.push(byte);
                        i += 4;
                        continue;
                    }
                }
            }
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_line(line: &str) -> Option<MountEntry> {
    let (head, tail) = line.split_once(" - ")?;
    let mut f = head.split(' ');
    let mount_id = f.next()?.parse().ok()?;
    let parent_id = f.next()?.parse().ok()?;
    let (major, minor) = f.next()?.split_once(':')?;
    let root = unescape(f.next()?);
    let mount_point = unescape(f.next()?);
    let options = f.next()?.to_string();
    let optional = f.filter(|s| !s.is_empty()).map(str::to_string).collect();
    let mut t = tail.splitn(3, ' ');
    let fs_type = unescape(t.next()?);
    let source = unescape(t.next()?);
    let super_options = t.next().unwrap_or("").to_string();
    Some(MountEntry {
        mount_id,
        parent_id,
        major: major.parse().ok()?,
        minor: minor.parse().ok()?,
        root,
        mount_point,
        options,
        optional,
        fs_type,
        source,
        super_options,
    })
}

pub fn parse(text: &str) -> Result<Vec<MountEntry>> {
    text.lines()
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(n, l)| {
            parse_line(l).ok_or_else(|| Error::because("parse mountinfo", format!("line {} is malformed: {l:?}", n + 1)))
        })
        .collect()
}

/// The last (topmost) entry mounted at `path`.
pub fn last_at<'a>(entries: &'a [MountEntry], path: &str) -> Option<&'a MountEntry> {
    entries.iter().rev().find(|e| e.mount_point == path)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn typical_lines() {
        let t = "22 27 0:21 / /proc rw,relatime shared:5 - proc proc rw\n\
                 36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n\
                 90 27 0:4 mnt:[4026532177] /run/snapd/ns/demo.mnt rw - nsfs nsfs rw\n";
        let e = parse(t).unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!((e[0].mount_id, e[0].parent_id, e[0].major, e[0].minor), (22, 27, 0, 21));
        assert!(e[0].is_shared());
        assert!(!e[1].is_shared());
        assert_eq!(e[2].root, "mnt:[4026532177]");
        assert_eq!(e[2].fs_type, "nsfs");
        assert_eq!(last_at(&e, "/proc").unwrap().mount_id, 22);
    }

    #[test]
    fn escapes_and_odd_input() {
        let e = parse("1 2 3:4 /a\\040b /m\\011x\\134 rw master:1 shared:2 - ext4 /dev/x\\040y rw,a b\n").unwrap();
        assert_eq!(e[0].root, "/a b");
        assert_eq!(e[0].mount_point, "/m\tx\\");
        assert_eq!(e[0].source, "/dev/x y");
        assert_eq!(e[0].optional, vec!["master:1", "shared:2"]);
        assert_eq!(e[0].super_options, "rw,a b");
        // Broken escapes stay as they are and never read past the end.
        let e = parse("1 2 3:4 / /m\\04 rw - t s o\n1 2 3:4 / /n\\ rw - t s o\n1 2 3:4 / /o\\999 rw - t s o").unwrap();
        assert_eq!(e[0].mount_point, "/m\\04");
        assert_eq!(e[1].mount_point, "/n\\");
        assert_eq!(e[2].mount_point, "/o\\999");
        for bad in ["", "garbage", "1 2 3:4 / /m rw", "x 2 3:4 / /m rw - t s o", "1 2 34 / /m rw - t s o"] {
            if !bad.is_empty() {
                assert!(parse(bad).is_err(), "{bad:?}");
            }
        }
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn garbage_never_panics() {
        let pieces = ["1", " ", "2", ":", "\\", "0", "7", " - ", "/", "x", "\n", "shared:"];
        let mut x: u64 = 99;
        for _ in 0..20_000 {
            let mut s = String::new();
            for _ in 0..(x % 30) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                s.push_str(pieces[(x % pieces.len() as u64) as usize]);
            }
            let _ = parse(&s);
        }
    }
}

//! Which devices are assigned to an app: the ones udev tagged with the
//! app's udev tag, read from the files of udev's database as `udevd` writes
//! them (and, where no `udevd` runs, as the admin tool writes them):
//!
//! - `/run/udev/tags/<tag>/<id>`: an empty file per device carrying `<tag>`;
//! - `/run/udev/data/<id>`: the device's record, with a `G:<tag>` line per
//!   tag it ever got and a `Q:<tag>` line per tag the current rules give it.
//!
//! `<id>` is `c<major>:<minor>` or `b<major>:<minor>` for device nodes
//! (other ids, such as `n3` for network interfaces or `+usb:1-1`, have no
//! node). Like snap-confine with a libudev that knows current tags, a device
//! counts only while it carries the tag as a current tag: tags stay on a
//! device after the rule that set them is gone, current tags do not. A
//! device must also still exist (`/sys/dev/{char,block}/<major>:<minor>`).
//!
//! The database must be root-owned and not writable by others, every
//! directory from `/` down: an entry there grants a device.

use super::bpf::DevKind;
use crate::debug::Debug;
use crate::error::{Error, Result};
use crate::fs::{open_path, read_trusted_file, Trust};
use crate::sys::{EntryKind, Sys};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use std::os::fd::AsFd;

pub const TAGS_DIR: &str = "/run/udev/tags";
pub const DATA_DIR: &str = "/run/udev/data";
pub const SYS_DEV_DIR: &str = "/sys/dev";
/// The most a database record may hold.
const MAX_RECORD: usize = 64 * 1024;
/// Device numbers as the kernel has them: 12-bit majors, 20-bit minors.
const MAX_MAJOR: u32 = (1 << 12) - 1;
const MAX_MINOR: u32 = (1 << 20) - 1;

/// A device node udev knows about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Device {
    pub kind: DevKind,
    pub major: u32,
    pub minor: u32,
}

fn number(text: &str, max: u32) -> Option<u32> {
    if text.is_empty() || text.len() > 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u32>().ok().filter(|n| *n <= max)
}

impl Device {
    /// The device behind a udev id (`c4:64`, `b8:0`); `None` for ids that
    /// are not device nodes, for malformed ones and for 0:0.
    pub fn from_id(id: &str) -> Option<Device> {
        let kind = match id.as_bytes().first() {
            Some(b'c') => DevKind::Char,
            Some(b'b') => DevKind::Block,
            _ => return None,
        };
        let (major, minor) = id.get(1..)?.split_once(':')?;
        let dev = Device { kind, major: number(major, MAX_MAJOR)?, minor: number(minor, MAX_MINOR)? };
        (dev.major != 0 || dev.minor != 0).then_some(dev)
    }

    /// The udev id: `c4:64`.
    pub fn id(&self) -> String {
        format!("{}{}:{}", self.kind.letter(), self.major, self.minor)
    }

    /// `/sys/dev/char/4:64` or `/sys/dev/block/8:0`.
    pub fn sysfs_path(&self) -> String {
        let dir = match self.kind {
            DevKind::Char => "char",
            DevKind::Block => "block",
        };
        format!("{SYS_DEV_DIR}/{dir}/{}:{}", self.major, self.minor)
    }
}

/// The tags of one database record.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Record {
    /// `G:` lines: every tag the device was given.
    pub tags: Vec<String>,
    /// `Q:` lines: the tags the current rules give it.
    pub current_tags: Vec<String>,
}

/// Parses a database record; lines other than `G:` and `Q:` are udev's
/// business (`S:` links, `E:` properties, `I:`, `V:`, ...).
pub fn parse_record(text: &str) -> Record {
    let mut r = Record::default();
    for line in text.lines() {
        if let Some(tag) = line.strip_prefix("G:") {
            r.tags.push(tag.to_string());
        } else if let Some(tag) = line.strip_prefix("Q:") {
            r.current_tags.push(tag.to_string());
        }
    }
    r
}

impl Record {
    pub fn has_current_tag(&self, tag: &str) -> bool {
        self.current_tags.iter().any(|t| t == tag)
    }
}

/// Whether a directory or file on the way is missing (nothing tagged).
fn missing(e: &Error) -> bool {
    matches!(e.errno_value(), Some(Errno::ENOENT | Errno::ENOTDIR))
}

/// The devices that currently carry `udev_tag`, sorted.
pub fn tagged_devices<S: Sys>(sys: &S, udev_tag: &str, debug: &Debug) -> Result<Vec<Device>> {
    if udev_tag.is_empty() || udev_tag.contains('/') || udev_tag.starts_with('.') {
        return Err(Error::because(format!("use udev tag {udev_tag:?}"), "it is not a file name"));
    }
    let dir_path = format!("{TAGS_DIR}/{udev_tag}");
    let dir = match open_path(sys, &dir_path, OFlag::O_RDONLY | OFlag::O_DIRECTORY, Trust::RootOwned) {
        Ok(d) => d,
        Err(e) if missing(&e) => {
            debug.say(format_args!("no devices tagged {udev_tag} ({dir_path} does not exist)"));
            return Ok(Vec::new());
        }
        Err(e) => return Err(e.within("enumerate tagged devices")),
    };
    let mut found = Vec::new();
    for (name, kind) in sys.read_dir(dir.fd.as_fd())? {
        let id = name.to_string_lossy();
        let Some(dev) = Device::from_id(&id).filter(|_| kind == EntryKind::File) else {
            debug.say(format_args!("{dir_path}/{id} is not a device node entry"));
            continue;
        };
        let record_path = format!("{DATA_DIR}/{id}");
        let record = match read_trusted_file(sys, &record_path, MAX_RECORD) {
            Ok(bytes) => parse_record(&String::from_utf8_lossy(&bytes)),
            Err(e) if missing(&e) => {
                debug.say(format_args!("device {id} has no record in {DATA_DIR}"));
                continue;
            }
            Err(e) => return Err(e.within("enumerate tagged devices")),
        };
        if !record.has_current_tag(udev_tag) {
            debug.say(format_args!("device {id} has no current tag {udev_tag}"));
            continue;
        }
        match open_path(sys, &dev.sysfs_path(), OFlag::O_PATH, Trust::Any) {
            Ok(_) => found.push(dev),
            Err(e) if missing(&e) => debug.say(format_args!("device {id} is gone ({} does not exist)", dev.sysfs_path())),
            Err(e) => return Err(e.within("enumerate tagged devices")),
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::sys::fake::FakeSys;

    #[test]
    fn device_ids() {
        let c = |major, minor| Some(Device { kind: DevKind::Char, major, minor });
        let b = |major, minor| Some(Device { kind: DevKind::Block, major, minor });
        assert_eq!(Device::from_id("c4:64"), c(4, 64));
        assert_eq!(Device::from_id("b8:0"), b(8, 0));
        assert_eq!(Device::from_id("c0:1"), c(0, 1));
        assert_eq!(Device::from_id("c4095:1048575"), c(4095, 1_048_575));
        for bad in [
            "", "c", "c4", "c4:", "c:4", "c0:0", "n3", "+usb:1-1", "+sound:card0", "C4:64", "x4:64", "c4:64:1", "c-1:3",
            "c+1:3", "c 1:3", "c1:3 ", "c4096:0", "c1:1048576", "c1:4294967295", "c99999999999:1", "c１:3",
        ] {
            assert_eq!(Device::from_id(bad), None, "{bad:?}");
        }
        assert_eq!(Device::from_id("c4:64").unwrap().id(), "c4:64");
        assert_eq!(Device::from_id("b7:3").unwrap().sysfs_path(), "/sys/dev/block/7:3");
        assert_eq!(Device::from_id("c1:11").unwrap().sysfs_path(), "/sys/dev/char/1:11");
    }

    #[test]
    fn records() {
        let r = parse_record("S:serial/by-id/x\nI:123\nG:snap_a_b\nG:seat\nQ:seat\nE:ID_X=1\nQ:snap_a_b\nV:1\n");
        assert_eq!(r.tags, ["snap_a_b", "seat"]);
        assert_eq!(r.current_tags, ["seat", "snap_a_b"]);
        assert!(r.has_current_tag("snap_a_b"));
        assert!(!r.has_current_tag("snap_a"));
        // A tag the device once had but the rules no longer give.
        let r = parse_record("G:snap_a_b\nQ:seat\n");
        assert!(!r.has_current_tag("snap_a_b"));
        assert_eq!(parse_record(""), Record::default());
        // No trailing newline, CRLF, odd lines: only exact G:/Q: lines count.
        let r = parse_record("Q:snap_a_b");
        assert!(r.has_current_tag("snap_a_b"));
        assert!(!parse_record(" Q:snap_a_b\nq:snap_a_b\nQ: snap_a_b\n").has_current_tag("snap_a_b"));
    }

    /// A fake udev database with the given (id, record) entries under the tag.
    fn db(sys: &FakeSys, tag: &str, entries: &[(&str, &str)]) {
        sys.dir("/", 0o755);
        for d in ["/run", "/run/udev", "/run/udev/tags", "/run/udev/data"] {
            sys.dir(d, 0o755);
        }
        sys.dir(&format!("/run/udev/tags/{tag}"), 0o755);
        for (id, record) in entries {
            sys.file(&format!("/run/udev/tags/{tag}/{id}"), b"", 0o644);
            if !record.is_empty() {
                sys.file(&format!("/run/udev/data/{id}"), record.as_bytes(), 0o644);
            }
            if let Some(dev) = Device::from_id(id) {
                sys.dir(&dev.sysfs_path(), 0o755);
            }
        }
    }

    #[test]
    fn enumeration_needs_the_current_tag_and_the_device() {
        let sys = FakeSys::new();
        let debug = Debug::capturing();
        let tag = "snap_demo_app";
        db(
            &sys,
            tag,
            &[
                ("c4:64", "G:snap_demo_app\nQ:snap_demo_app\n"),
                ("b8:0", "I:1\nG:snap_demo_app\nQ:snap_demo_app\nQ:seat\n"),
                ("c1:11", "G:snap_demo_app\n"),
                ("c10:200", ""),
                ("n3", "G:snap_demo_app\nQ:snap_demo_app\n"),
                ("c5:9", "G:snap_demo_app\nQ:snap_demo_app\n"),
            ],
        );
        // c5:9 is in the database but no longer in sysfs.
        std::fs::remove_dir(sys.path("/sys/dev/char/5:9")).unwrap();
        let got = tagged_devices(&sys, tag, &debug).unwrap();
        let ids: Vec<String> = got.iter().map(Device::id).collect();
        assert_eq!(ids, ["c4:64", "b8:0"]);
        let lines = debug.lines().join("\n");
        assert!(lines.contains("device c1:11 has no current tag snap_demo_app"), "{lines}");
        assert!(lines.contains("device c10:200 has no record"), "{lines}");
        assert!(lines.contains("n3 is not a device node entry"), "{lines}");
        assert!(lines.contains("device c5:9 is gone"), "{lines}");
        // Another tag sees nothing; no database at all is no device.
        assert!(tagged_devices(&sys, "snap_demo_other", &debug).unwrap().is_empty());
        let empty = FakeSys::new();
        assert!(tagged_devices(&empty, tag, &debug).unwrap().is_empty());
    }

    #[test]
    fn a_database_others_can_write_is_refused() {
        let sys = FakeSys::new();
        db(&sys, "snap_demo_app", &[("c4:64", "Q:snap_demo_app\n")]);
        sys.dir("/run/udev/tags/snap_demo_app", 0o777);
        let e = tagged_devices(&sys, "snap_demo_app", &Debug::new(false)).unwrap_err().to_string();
        assert_eq!(e, "cannot enumerate tagged devices: trust /run/udev/tags/snap_demo_app: it is writable by others (777)");
        sys.dir("/run/udev/tags/snap_demo_app", 0o755);
        sys.file("/run/udev/data/c4:64", b"Q:snap_demo_app\n", 0o666);
        let e = tagged_devices(&sys, "snap_demo_app", &Debug::new(false)).unwrap_err().to_string();
        assert!(e.contains("trust /run/udev/data/c4:64: it is writable by others"), "{e}");
        assert!(tagged_devices(&sys, "../x", &Debug::new(false)).is_err());
    }
}

//! The device cgroup on cgroup v2: the map of allowed devices pinned at
//! `/sys/fs/bpf/snap/<udev tag>` (bpffs mounted at `/sys/fs/bpf` if it is
//! not, `snap` a root-owned 0700 directory), emptied on every launch, and
//! the filter of [`super::bpf`] attached to the launcher's own cgroup, which
//! must be the app's own scope or service.

use super::bpf::{self, device_key, KEY_SIZE, MAX_ENTRIES};
use super::devices::Rule;
use super::CGROUP_ROOT;
use crate::debug::Debug;
use crate::error::{Context, Error, Result};
use crate::fs::{open_path, Trust};
use crate::sys::{BpfMapSpec, BpfProgSpec, Proc, Source, Sys};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::MsFlags;
use nix::sys::stat::Mode;
use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};

pub const BPF_FS: &str = "/sys/fs/bpf";
pub const PIN_DIR: &str = "/sys/fs/bpf/snap";
/// `BPF_FS_MAGIC`.
pub const BPF_FS_MAGIC: i64 = 0xcafe_4a11;
/// RLIMIT_MEMLOCK wanted while maps and programs are made: kernels before
/// 5.11 charge them to it.
pub const MEMLOCK_WANTED: u64 = 512 * 1024;

/// An open v2 device cgroup: the map, and the program once loaded.
#[derive(Debug)]
pub struct V2 {
    map_path: String,
    map: OwnedFd,
    prog: Option<OwnedFd>,
    /// The limit to put back when done.
    old_memlock: Option<(u64, u64)>,
}

/// Whether `group` (a cgroup v2 path) is a snap's own cgroup for the unit
/// name `unit` (the security tag, `+` written `\x2b`): its last component is
/// `<unit>-<anything>.scope`, `<unit>.<anything>.scope` or the same with
/// `.service`, which covers `snap.foo.app-<uuid>.scope` made by `snap run`
/// and `snap.foo.app.service`. A shared cgroup (a session, a desktop
/// scope) must never get the filter.
pub fn is_snap_cgroup(group: &str, unit: &str) -> bool {
    let leaf = group.rsplit('/').next().unwrap_or(group);
    let Some(rest) = leaf.strip_prefix(unit) else { return false };
    (rest.ends_with(".scope") || rest.ends_with(".service")) && (rest.starts_with('-') || rest.starts_with('.'))
}

/// Our own cgroup v2 path (`/user.slice/.../x.scope`), from the `0::` line
/// of `/proc/<pid>/cgroup`.
pub fn own_group<S: Sys>(sys: &S, proc: &Proc) -> Result<String> {
    let text = sys.read_proc(proc, &format!("{}/cgroup", sys.pid()), 64 * 1024)?;
    let text = String::from_utf8_lossy(&text);
    text.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .filter(|p| p.starts_with('/'))
        .map(str::to_string)
        .ok_or_else(|| Error::because("find our own cgroup", "/proc/self/cgroup has no cgroup v2 entry"))
}

/// Makes sure `/sys/fs/bpf` is a bpffs and `/sys/fs/bpf/snap` a root-owned
/// directory only root can enter; returns a handle on the latter. With
/// `existing` nothing is mounted or created: `None` when it is not there.
fn pin_dir<S: Sys>(sys: &S, existing: bool, debug: &Debug) -> Result<Option<OwnedFd>> {
    let bpffs = open_path(sys, BPF_FS, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::Any)?;
    let bpffs = if sys.fs_type(bpffs.fd.as_fd())? == BPF_FS_MAGIC {
        bpffs.fd
    } else if existing {
        debug.say(format_args!("{BPF_FS} is not a bpffs"));
        return Ok(None);
    } else {
        debug.say(format_args!("{BPF_FS} is not a bpffs: mounting one"));
        let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
        sys.mount(Source::Path("bpf"), bpffs.fd.as_fd(), BPF_FS, Some("bpf"), flags, Some("mode=0700")).map_err(|e| {
            Error::errno(format!("perform operation: mount -t bpf -o nosuid,nodev,noexec,mode=0700 bpf {BPF_FS}"), e)
        })?;
        open_path(sys, BPF_FS, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::Any)?.fd
    };
    if !existing {
        match sys.mkdirat(bpffs.as_fd(), OsStr::new("snap"), Mode::from_bits_truncate(0o700)) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => return Err(Error::errno(format!("create {PIN_DIR}"), e)),
        }
    }
    let dir = match sys.openat(bpffs.as_fd(), OsStr::new("snap"), OFlag::O_PATH | OFlag::O_DIRECTORY, Mode::empty()) {
        Ok(d) => d,
        Err(e) if existing && e.errno_value() == Some(Errno::ENOENT) => return Ok(None),
        Err(e) => return Err(e.within(format!("open {PIN_DIR}"))),
    };
    let st = sys.fstat(dir.as_fd())?;
    let (uid, gid) = sys.trusted_owner();
    if st.uid != uid || st.gid != gid || st.perms() & 0o077 != 0 {
        return Err(Error::because(
            format!("use {PIN_DIR}"),
            format!("it has unexpected ownership or permissions ({}:{} {:o})", st.uid, st.gid, st.perms()),
        ));
    }
    Ok(Some(dir))
}

impl V2 {
    /// Opens the map of `udev_tag`. A new set-up creates and pins it when
    /// missing, empties it otherwise, and loads the filter; with `existing`
    /// (the hotplug helper) the map must be there already (`None`
    /// otherwise) and is neither emptied nor given a new program.
    pub fn open<S: Sys>(sys: &S, udev_tag: &str, existing: bool, debug: &Debug) -> Result<Option<V2>> {
        let name = bpf::object_name(udev_tag);
        let map_path = format!("{PIN_DIR}/{udev_tag}");
        let old_memlock = if existing { None } else { raise_memlock(sys, debug)? };
        let mut v2 = match Self::open_map(sys, udev_tag, &name, &map_path, existing, debug) {
            Ok(Some(map)) => V2 { map_path, map, prog: None, old_memlock },
            other => {
                restore_memlock(sys, old_memlock)?;
                return other.map(|_| None);
            }
        };
        if !existing {
            let spec = BpfProgSpec {
                prog_type: bpf::PROG_TYPE_CGROUP_DEVICE,
                insns: bpf::device_program(std::os::fd::AsRawFd::as_raw_fd(&v2.map)),
                license: bpf::LICENSE.to_string(),
                name,
            };
            match sys.bpf_prog_load(&spec) {
                Ok(fd) => v2.prog = Some(fd),
                Err(e) => {
                    v2.close(sys)?;
                    return Err(e);
                }
            }
        }
        Ok(Some(v2))
    }

    fn open_map<S: Sys>(
        sys: &S,
        udev_tag: &str,
        name: &str,
        map_path: &str,
        existing: bool,
        debug: &Debug,
    ) -> Result<Option<OwnedFd>> {
        let Some(dir) = pin_dir(sys, existing, debug)? else { return Ok(None) };
        match sys.bpf_obj_get(dir.as_fd(), udev_tag) {
            Ok(map) => {
                if !existing {
                    empty_map(sys, map.as_fd(), map_path, debug)?;
                }
                Ok(Some(map))
            }
            Err(Errno::ENOENT) if existing => {
                debug.say(format_args!("{map_path} does not exist"));
                Ok(None)
            }
            Err(Errno::ENOENT) => {
                let spec = BpfMapSpec {
                    map_type: bpf::MAP_TYPE_HASH,
                    key_size: KEY_SIZE as u32,
                    value_size: bpf::VALUE_SIZE as u32,
                    max_entries: MAX_ENTRIES,
                    name: name.to_string(),
                };
                let map = sys.bpf_map_create(&spec)?;
                // EEXIST too is fatal: the map was not there a moment ago.
                sys.bpf_obj_pin(map.as_fd(), dir.as_fd(), udev_tag).context(|| format!("pin the device map at {map_path}"))?;
                // Made by root (euid and egid 0) in a directory only root
                // can enter; checked all the same.
                let pinned = sys.openat(dir.as_fd(), OsStr::new(udev_tag), OFlag::O_PATH, Mode::empty())?;
                let st = sys.fstat(pinned.as_fd())?;
                if (st.uid, st.gid) != sys.trusted_owner() {
                    return Err(Error::because(format!("use {map_path}"), format!("it is owned by {}:{}", st.uid, st.gid)));
                }
                debug.say(format_args!("created the device map {map_path}"));
                Ok(Some(map))
            }
            Err(e) => Err(Error::errno(format!("open the device map {map_path}"), e)),
        }
    }

    pub fn allow<S: Sys>(&self, sys: &S, rule: &Rule) -> Result<()> {
        sys.bpf_map_update(self.map.as_fd(), &device_key(rule.kind, rule.major, rule.minor), &bpf::ALLOWED)
            .context(|| format!("allow {rule} in {}", self.map_path))
    }

    pub fn deny<S: Sys>(&self, sys: &S, rule: &Rule) -> Result<()> {
        match sys.bpf_map_delete(self.map.as_fd(), &device_key(rule.kind, rule.major, rule.minor)) {
            Ok(()) | Err(Errno::ENOENT) => Ok(()),
            Err(e) => Err(Error::errno(format!("deny {rule} in {}", self.map_path), e)),
        }
    }

    /// Attaches the filter to our own cgroup, which must be the snap's
    /// own cgroup for `tag`.
    pub fn attach<S: Sys>(&self, sys: &S, proc: &Proc, tag: &naming::SecurityTag, debug: &Debug) -> Result<()> {
        let prog = self.prog.as_ref().ok_or_else(|| Error::because("attach the device filter", "it was not loaded"))?;
        let group = own_group(sys, proc)?;
        if !is_snap_cgroup(&group, &tag.unit_name()) {
            return Err(Error::because(
                format!("set up the device cgroup for {tag}"),
                format!("{group} is not a snap cgroup for tag {tag}"),
            ));
        }
        let path = format!("{CGROUP_ROOT}{group}");
        let dir = open_path(sys, &path, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::Any)?;
        sys.bpf_prog_attach_device(prog.as_fd(), dir.fd.as_fd()).context(|| format!("attach to {path}"))?;
        debug.say(format_args!("device filter attached to {path}"));
        Ok(())
    }

    /// Puts the memlock limit back; the map stays pinned and the program
    /// stays attached.
    pub fn close<S: Sys>(self, sys: &S) -> Result<()> {
        restore_memlock(sys, self.old_memlock)
    }
}

/// Deletes every key of the map.
fn empty_map<S: Sys>(sys: &S, map: std::os::fd::BorrowedFd<'_>, path: &str, debug: &Debug) -> Result<()> {
    let mut keys: Vec<Vec<u8>> = Vec::new();
    loop {
        let next = sys.bpf_map_next_key(map, keys.last().map(Vec::as_slice), KEY_SIZE)?;
        let Some(next) = next else { break };
        if keys.len() >= MAX_ENTRIES as usize {
            return Err(Error::because(format!("empty {path}"), "it holds more keys than it can"));
        }
        keys.push(next);
    }
    for key in &keys {
        match sys.bpf_map_delete(map, key) {
            Ok(()) | Err(Errno::ENOENT) => {}
            Err(e) => return Err(Error::errno(format!("empty {path}"), e)),
        }
    }
    debug.say(format_args!("emptied {path} ({} entries)", keys.len()));
    Ok(())
}

/// Raises RLIMIT_MEMLOCK to [`MEMLOCK_WANTED`] when its hard limit is lower;
/// returns the limit to restore. Without `CAP_SYS_RESOURCE` it stays as it
/// is (kernels since 5.11 do not use it for BPF objects).
fn raise_memlock<S: Sys>(sys: &S, debug: &Debug) -> Result<Option<(u64, u64)>> {
    let old = sys.memlock_limit()?;
    if old.1 >= MEMLOCK_WANTED {
        return Ok(None);
    }
    match sys.set_memlock_limit(MEMLOCK_WANTED, MEMLOCK_WANTED) {
        Ok(()) => {
            debug.say(format_args!("memlock limit raised to {MEMLOCK_WANTED} bytes"));
            Ok(Some(old))
        }
        Err(Errno::EPERM) => {
            debug.say("cannot raise the memlock limit (no CAP_SYS_RESOURCE); keeping it");
            Ok(None)
        }
        Err(e) => Err(Error::errno("raise the memlock limit", e)),
    }
}

fn restore_memlock<S: Sys>(sys: &S, old: Option<(u64, u64)>) -> Result<()> {
    match old {
        Some((soft, hard)) => {
            sys.set_memlock_limit(soft, hard).map_err(|e| Error::errno("restore the memlock limit", e))
        }
        None => Ok(()),
    }
}

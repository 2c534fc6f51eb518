//! cgroups: process tracking, as far as the mount namespace needs it (on
//! cgroup v1 every process of a snap joins the freezer cgroup
//! `snap.<instance>`, and a preserved namespace counts as in use while a
//! process of the snap is alive: v1, in that freezer cgroup; v2, in a
//! `snap.<instance>.*` scope or service), and the device cgroup that limits
//! which devices an app may open ([`devices`], on v1 [`v1`], on v2 [`v2`]
//! with the filter of [`bpf`]; assigned devices come from [`udev`], hotplug
//! goes through [`helper`]).

pub mod bpf;
pub mod devices;
pub mod helper;
pub mod udev;
pub mod v1;
pub mod v2;

use crate::debug::Debug;
use crate::error::{Error, Result};
use crate::fs::{open_path, Trust};
use crate::sys::{EntryKind, Proc, Sys};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd};

pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";
pub const FREEZER: &str = "/sys/fs/cgroup/freezer";
pub const CGROUP_SUPER_MAGIC: i64 = 0x0027_e0eb;
pub const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

/// Which cgroup layout the host has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `/sys/fs/cgroup` is cgroup2 (unified).
    V2,
    /// v1 hierarchies, with a freezer.
    V1,
    /// Neither (no freezer, not unified): nothing to join.
    None,
}

/// Whether `/sys/fs/cgroup` is cgroup v2 (the unified layout). On the
/// hybrid layout (v1 controllers, cgroup2 at `/sys/fs/cgroup/unified`) the
/// device cgroup is v1.
pub fn is_unified<S: Sys>(sys: &S) -> bool {
    open_path(sys, CGROUP_ROOT, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::Any)
        .ok()
        .and_then(|o| sys.fs_type(o.fd.as_fd()).ok())
        == Some(CGROUP2_SUPER_MAGIC)
}

pub fn layout<S: Sys>(sys: &S) -> Layout {
    let fs_of = |p: &str| open_path(sys, p, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::Any).ok().and_then(|o| sys.fs_type(o.fd.as_fd()).ok());
    if fs_of(CGROUP_ROOT) == Some(CGROUP2_SUPER_MAGIC) {
        Layout::V2
    } else if fs_of(FREEZER) == Some(CGROUP_SUPER_MAGIC) {
        Layout::V1
    } else {
        Layout::None
    }
}

/// cgroup v1: moves the launcher (and so the app) into the snap's freezer cgroup.
pub fn join_freezer<S: Sys>(sys: &S, instance: &str, pid: i32, debug: &Debug) -> Result<()> {
    if layout(sys) != Layout::V1 {
        return Ok(());
    }
    let freezer = open_path(sys, FREEZER, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::Any)?;
    let name = format!("snap.{instance}");
    match sys.mkdirat(freezer.fd.as_fd(), OsStr::new(&name), Mode::from_bits_truncate(0o755)) {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(e) => return Err(Error::errno(format!("create {FREEZER}/{name}"), e)),
    }
    let dir = sys.openat(freezer.fd.as_fd(), OsStr::new(&name), OFlag::O_PATH | OFlag::O_DIRECTORY, Mode::empty())?;
    let procs = sys.openat(dir.as_fd(), OsStr::new("cgroup.procs"), OFlag::O_WRONLY, Mode::empty())?;
    sys.write_all(procs.as_fd(), format!("{pid}\n").as_bytes())
        .map_err(|e| e.within(format!("join {FREEZER}/{name}")))?;
    debug.say(format_args!("joined the freezer cgroup {FREEZER}/{name}"));
    Ok(())
}

/// Whether a process of the snap other than us is alive.
pub fn snap_in_use<S: Sys>(sys: &S, proc: &Proc, instance: &str) -> bool {
    match layout(sys) {
        Layout::V1 => {
            let path = format!("{FREEZER}/snap.{instance}/cgroup.procs");
            let Ok(text) = crate::fs::read_small_file(sys, &path, 1 << 20) else { return false };
            let me = sys.pid();
            String::from_utf8_lossy(&text)
                .lines()
                .filter_map(|l| l.trim().parse::<i32>().ok())
                .filter(|p| *p != me)
                .any(|p| sys.read_proc(proc, &format!("{p}/stat"), 4096).is_ok())
        }
        Layout::V2 => {
            let Ok(root) = open_path(sys, CGROUP_ROOT, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::Any) else { return false };
            let own = own_v2_group(sys, proc);
            scan_v2(sys, root.fd.as_fd(), &format!("snap.{instance}."), CGROUP_ROOT, own.as_deref(), 0)
        }
        Layout::None => false,
    }
}

/// Our own cgroup v2 path, from the `0::` line of `/proc/self/cgroup`.
fn own_v2_group<S: Sys>(sys: &S, proc: &Proc) -> Option<String> {
    let text = sys.read_proc(proc, &format!("{}/cgroup", sys.pid()), 64 * 1024).ok()?;
    String::from_utf8_lossy(&text).lines().find_map(|l| l.strip_prefix("0::").map(|p| format!("{CGROUP_ROOT}{p}")))
}

fn scan_v2<S: Sys>(sys: &S, dir: BorrowedFd<'_>, prefix: &str, path: &str, own: Option<&str>, depth: u32) -> bool {
    if depth > 32 {
        return false;
    }
    let Ok(entries) = sys.read_dir(dir) else { return false };
    entries.into_iter().filter(|(_, k)| *k == EntryKind::Dir).any(|(name, _)| {
        let name = name.to_string_lossy().into_owned();
        let child = format!("{path}/{name}");
        if name.starts_with(prefix) && Some(child.as_str()) != own {
            return true;
        }
        match sys.openat(dir, OsStr::new(&name), OFlag::O_PATH | OFlag::O_DIRECTORY, Mode::empty()) {
            Ok(fd) => scan_v2(sys, fd.as_fd(), prefix, &child, own, depth + 1),
            Err(_) => false,
        }
    })
}

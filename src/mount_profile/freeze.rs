//! Freezing a snap's processes while its namespace changes under them
//! (snapd runs `snap-update-ns` on `snap connect` of a running snap, and so
//! do our tools): cgroup v1, the freezer group `snap.<instance>`; cgroup
//! v2, `cgroup.freeze` of each `snap.<instance>.*.scope` or `.service`
//! group but our own. A namespace being built needs none of this: no
//! process of the snap is in it yet.

use crate::cgroup::{self, Layout, CGROUP_ROOT, FREEZER};
use crate::error::{Error, Result};
use crate::fs::{open_path, Trust};
use crate::sys::{EntryKind, Proc, Sys};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

/// How often, and how many times, the state is read back.
const POLL: Duration = Duration::from_millis(100);
const TRIES: u32 = 30;

/// The groups of a snap that a freeze wrote to, to thaw them again.
#[derive(Debug, Default)]
pub struct Frozen {
    files: Vec<(OwnedFd, &'static str)>,
}

fn write_state<S: Sys>(sys: &S, file: BorrowedFd<'_>, value: &str) -> Result<()> {
    sys.write_all(file, value.as_bytes())
}

fn read_state<S: Sys>(sys: &S, dir: BorrowedFd<'_>, name: &str) -> Result<String> {
    let fd = sys.openat(dir, OsStr::new(name), OFlag::O_RDONLY, Mode::empty())?;
    Ok(String::from_utf8_lossy(&sys.read_bounded(fd.as_fd(), 4096)?).trim().to_owned())
}

/// cgroup v2: the snap's scope and service groups anywhere below the root.
fn v2_groups<S: Sys>(sys: &S, dir: BorrowedFd<'_>, prefix: &str, own: Option<&str>, path: &str, depth: u32, out: &mut Vec<OwnedFd>) {
    if depth > 32 {
        return;
    }
    let Ok(entries) = sys.read_dir(dir) else { return };
    for (name, kind) in entries {
        let Some(name) = name.to_str().map(str::to_owned) else { continue };
        if kind != EntryKind::Dir {
            continue;
        }
        let Ok(fd) = sys.openat(dir, OsStr::new(&name), OFlag::O_PATH | OFlag::O_DIRECTORY, Mode::empty()) else { continue };
        let child = format!("{path}/{name}");
        if name.starts_with(prefix) && (name.ends_with(".scope") || name.ends_with(".service")) {
            if Some(child.as_str()) != own {
                out.push(fd);
            }
            continue;
        }
        v2_groups(sys, fd.as_fd(), prefix, own, &child, depth + 1, out);
    }
}

/// Freezes the processes of `instance` and waits until they are.
pub fn freeze<S: Sys>(sys: &S, proc: &Proc, instance: &str) -> Result<Frozen> {
    let mut frozen = Frozen::default();
    let what = || format!("freeze processes of snap {instance}");
    match cgroup::layout(sys) {
        Layout::None => {}
        Layout::V1 => {
            let path = format!("{FREEZER}/snap.{instance}");
            let dir = match open_path(sys, &path, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::Any) {
                Ok(d) => d.fd,
                Err(e) if e.errno_value() == Some(Errno::ENOENT) => return Ok(frozen),
                Err(e) => return Err(e.within(what())),
            };
            let file = sys.openat(dir.as_fd(), OsStr::new("freezer.state"), OFlag::O_WRONLY, Mode::empty())?;
            write_state(sys, file.as_fd(), "FROZEN").map_err(|e| e.within(what()))?;
            frozen.files.push((file, "THAWED"));
            for _ in 0..TRIES {
                if read_state(sys, dir.as_fd(), "freezer.state")? != "FREEZING" {
                    return Ok(frozen);
                }
                sys.sleep(POLL);
            }
            thaw(sys, frozen);
            return Err(Error::because(what(), "they did not finish freezing"));
        }
        Layout::V2 => {
            let root = open_path(sys, CGROUP_ROOT, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::Any)?;
            let own = sys
                .read_proc(proc, "self/cgroup", 64 * 1024)
                .ok()
                .and_then(|t| String::from_utf8_lossy(&t).lines().find_map(|l| l.strip_prefix("0::").map(|p| format!("{CGROUP_ROOT}{p}"))));
            let mut groups = Vec::new();
            v2_groups(sys, root.fd.as_fd(), &format!("snap.{instance}."), own.as_deref(), CGROUP_ROOT, 0, &mut groups);
            for group in groups {
                let file = match sys.openat(group.as_fd(), OsStr::new("cgroup.freeze"), OFlag::O_WRONLY, Mode::empty()) {
                    Ok(f) => f,
                    Err(e) if e.errno_value() == Some(Errno::ENOENT) => continue,
                    Err(e) => {
                        thaw(sys, frozen);
                        return Err(e.within(what()));
                    }
                };
                if let Err(e) = write_state(sys, file.as_fd(), "1") {
                    thaw(sys, frozen);
                    return Err(e.within(what()));
                }
                frozen.files.push((file, "0"));
                // cgroup.events says "frozen 1" once every process stopped.
                let mut done = false;
                for _ in 0..TRIES {
                    let events = read_state(sys, group.as_fd(), "cgroup.events").unwrap_or_default();
                    if events.lines().any(|l| l.trim() == "frozen 1") || events.is_empty() {
                        done = true;
                        break;
                    }
                    sys.sleep(POLL);
                }
                if !done {
                    thaw(sys, frozen);
                    return Err(Error::because(what(), "they did not finish freezing"));
                }
            }
        }
    }
    Ok(frozen)
}

/// Lets the frozen processes run again (best effort).
pub fn thaw<S: Sys>(sys: &S, frozen: Frozen) {
    for (file, value) in frozen.files {
        let _ = write_state(sys, file.as_fd(), value);
    }
}

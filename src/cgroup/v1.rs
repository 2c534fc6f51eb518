//! The device cgroup on cgroup v1: `/sys/fs/cgroup/devices/<security tag>`
//! (root-owned, 0700), emptied with `a` written to `devices.deny`, then one
//! `devices.allow` line per allowed device (`c 1:3 rwm`, `c 136:* rwm`).

use super::bpf::MINOR_ANY;
use super::devices::Rule;
use crate::error::{Context, Error, Result};
use crate::sys::Sys;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};

pub const DEVICES_DIR: &str = "/sys/fs/cgroup/devices";

/// An open v1 device cgroup.
#[derive(Debug)]
pub struct V1 {
    path: String,
    allow: OwnedFd,
    deny: OwnedFd,
    tasks: OwnedFd,
}

/// The line that allows or denies `rule` in `devices.allow`/`devices.deny`.
pub fn rule_line(rule: &Rule) -> String {
    let minor = if rule.minor == MINOR_ANY { "*".to_string() } else { rule.minor.to_string() };
    format!("{} {}:{minor} rwm\n", rule.kind.letter(), rule.major)
}

impl V1 {
    /// Opens the device cgroup of `tag`. A new set-up creates it when
    /// missing and denies everything in it; with `existing` (the hotplug
    /// helper) it must be there already (`None` otherwise) and is not reset.
    pub fn open<S: Sys>(sys: &S, tag: &str, existing: bool) -> Result<Option<V1>> {
        let path = format!("{DEVICES_DIR}/{tag}");
        let root = sys.root()?;
        let mut dir = root;
        for part in ["sys", "fs", "cgroup", "devices"] {
            dir = sys
                .openat(dir.as_fd(), OsStr::new(part), OFlag::O_PATH | OFlag::O_DIRECTORY, Mode::empty())
                .context(|| format!("open {DEVICES_DIR}"))?;
        }
        if !existing {
            match sys.mkdirat(dir.as_fd(), OsStr::new(tag), Mode::from_bits_truncate(0o700)) {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(e) => return Err(Error::errno(format!("create {path}"), e)),
            }
        }
        let group = match sys.openat(dir.as_fd(), OsStr::new(tag), OFlag::O_PATH | OFlag::O_DIRECTORY, Mode::empty()) {
            Ok(fd) => fd,
            Err(e) if existing && e.errno_value() == Some(Errno::ENOENT) => return Ok(None),
            Err(e) => return Err(e.within(format!("open {path}"))),
        };
        let (uid, gid) = sys.trusted_owner();
        let st = sys.fstat(group.as_fd())?;
        if st.uid != uid || st.gid != gid {
            return Err(Error::because(format!("use {path}"), format!("it is owned by {}:{}, not root", st.uid, st.gid)));
        }
        let file = |name: &str| {
            sys.openat(group.as_fd(), OsStr::new(name), OFlag::O_WRONLY, Mode::empty())
                .context(|| format!("open {path}/{name}"))
        };
        let v1 = V1 { allow: file("devices.allow")?, deny: file("devices.deny")?, tasks: file("tasks")?, path };
        if !existing {
            // Whatever an earlier launch allowed goes: only what is assigned
            // now is allowed below.
            sys.write_all(v1.deny.as_fd(), b"a").context(|| format!("write a to {}/devices.deny", v1.path))?;
        }
        Ok(Some(v1))
    }

    pub fn allow<S: Sys>(&self, sys: &S, rule: &Rule) -> Result<()> {
        let line = rule_line(rule);
        sys.write_all(self.allow.as_fd(), line.as_bytes())
            .context(|| format!("write {} to {}/devices.allow", line.trim_end(), self.path))
    }

    pub fn deny<S: Sys>(&self, sys: &S, rule: &Rule) -> Result<()> {
        let line = rule_line(rule);
        sys.write_all(self.deny.as_fd(), line.as_bytes())
            .context(|| format!("write {} to {}/devices.deny", line.trim_end(), self.path))
    }

    /// The group's `tasks` file, to join it ([`super::Joining`]).
    pub fn into_tasks(self) -> super::Tasks {
        super::Tasks { file: self.tasks, path: self.path }
    }

    pub fn path(&self) -> &str {
        &self.path
    }
}

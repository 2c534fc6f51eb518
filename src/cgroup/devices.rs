//! The device cgroup of a strict launch: which devices the app may open.
//!
//! The decision, as snap-confine makes it:
//!
//! 1. inside a container (`/run/systemd/container` names one) there is
//!    none: the container's manager mediates devices;
//! 2. the daemon's checkpoint `/var/lib/snapd/cgroup/snap.<instance>.device`
//!    is waited for (it says the device rules are in place); with
//!    `self-managed=true` (the snap runs containers and manages devices
//!    itself) or `non-strict=true` (devmode, classic) there is none;
//! 3. snaps on the bases `core`, `core16`, `core18`, `core20` and `core22`
//!    get one only when devices are assigned to the app (udev tag
//!    `snap_<snap>_<app>`, see [`super::udev`]); every other base (`core24`
//!    and later, `bare`) always gets one.
//!
//! Where the daemon writes no checkpoints at all (snapd before 2.62, such
//! as Debian 12's 2.57.6), the decision is that daemon's snap-confine's:
//! nothing is waited for, and whatever the base, a device cgroup is made
//! only when devices are assigned to the app. Which daemon it is comes from
//! snapd's `info` file beside the launcher (`VERSION=2.57.6...`) when the
//! launcher stands in for snapd's; without one (confine's own tools), from
//! the checkpoint directory existing.
//!
//! A device cgroup allows the [default set](default_rules) and the assigned
//! devices, nothing else, and the launcher joins it (v1) or attaches the
//! filter to its own cgroup (v2), so the app and everything it starts are
//! in it. It is rebuilt from scratch at every launch: a device no longer
//! assigned is denied from the next launch on.

use super::bpf::{DevKind, MINOR_ANY};
use super::udev::{self, Device};
use super::v1::V1;
use super::v2::V2;
use super::{is_unified, Layout};
use crate::debug::Debug;
use crate::error::{Error, Result};
use crate::fs::{open_path, read_trusted_file, Trust};
use crate::invocation::Invocation;
use crate::rootfs::Base;
use crate::sys::{Proc, Sys};
use naming::SecurityTag;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use std::fmt;
use std::time::Duration;

/// Where the daemon writes the checkpoint of each snap.
pub const CHECKPOINT_DIR: &str = "/var/lib/snapd/cgroup";
/// snapd's build information beside the launcher, when it is snapd's.
pub const SNAPD_INFO: &str = concat!(env!("CONFINE_LIBEXECDIR"), "/info");
/// The first snapd release that writes device checkpoints.
pub const FIRST_CHECKPOINTING_SNAPD: (u32, u32) = (2, 62);
const MAX_INFO: usize = 64 * 1024;
/// Names the container manager when we run inside a container.
pub const CONTAINER_FILE: &str = "/run/systemd/container";
/// Bases whose snaps get a device cgroup only when devices are assigned.
pub const LEGACY_BASES: [&str; 5] = ["core", "core16", "core18", "core20", "core22"];
const MAX_CHECKPOINT: usize = 64 * 1024;

/// One allowed device, or every minor of a major.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rule {
    pub kind: DevKind,
    pub major: u32,
    /// [`MINOR_ANY`] for every minor.
    pub minor: u32,
}

impl Rule {
    pub const fn char(major: u32, minor: u32) -> Rule {
        Rule { kind: DevKind::Char, major, minor }
    }
}

impl From<Device> for Rule {
    fn from(d: Device) -> Rule {
        Rule { kind: d.kind, major: d.major, minor: d.minor }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.minor == MINOR_ANY {
            write!(f, "{} {}:*", self.kind.letter(), self.major)
        } else {
            write!(f, "{} {}:{}", self.kind.letter(), self.major, self.minor)
        }
    }
}

/// Devices every app may use, by their fixed numbers: null, zero, full,
/// random, urandom, tty, console, ptmx, and the Unix98 pty slaves (majors
/// 136 to 143, each app has its own devpts instance).
pub const COMMON: [Rule; 16] = [
    Rule::char(1, 3),
    Rule::char(1, 5),
    Rule::char(1, 7),
    Rule::char(1, 8),
    Rule::char(1, 9),
    Rule::char(5, 0),
    Rule::char(5, 1),
    Rule::char(5, 2),
    Rule::char(136, MINOR_ANY),
    Rule::char(137, MINOR_ANY),
    Rule::char(138, MINOR_ANY),
    Rule::char(139, MINOR_ANY),
    Rule::char(140, MINOR_ANY),
    Rule::char(141, MINOR_ANY),
    Rule::char(142, MINOR_ANY),
    Rule::char(143, MINOR_ANY),
];

/// Nodes allowed when present, by what they are: NVIDIA's (the driver is
/// not in sysfs, so udev cannot tag them), `/dev/uhid` and `/dev/net/tun`
/// (not tagged until their module is loaded). AppArmor (or Landlock) still
/// decides whether the app may open them: the `opengl` interface grants
/// NVIDIA's. snap-confine leaves out `/dev/nvidia-uvm-tools` and the MIG
/// capability nodes, which its own `opengl` rules (`/dev/nvidia*`) grant or
/// CUDA on a MIG partition needs.
pub const OPTIONAL_NODES: [&str; 6] =
    ["/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset", "/dev/uhid", "/dev/net/tun"];
/// NVIDIA's capability nodes (`nvidia-cap<N>`), for MIG.
pub const NVIDIA_CAPS_DIR: &str = "/dev/nvidia-caps";
/// `/dev/nvidia0` and up: the first missing one ends the list.
pub const NVIDIA_CARDS: u32 = 255;

/// The character device at `path`, if there is one (no symlink followed).
fn char_device_at<S: Sys>(sys: &S, path: &str) -> Option<Rule> {
    let opened = open_path(sys, path, OFlag::O_PATH, Trust::Any).ok()?;
    let st = opened.stat;
    let major = u32::try_from(nix::sys::stat::major(st.rdev)).ok()?;
    let minor = u32::try_from(nix::sys::stat::minor(st.rdev)).ok()?;
    st.is_char_device().then_some(Rule::char(major, minor))
}

/// The default set: [`COMMON`], then the optional nodes that exist.
pub fn default_rules<S: Sys>(sys: &S) -> Vec<Rule> {
    let mut rules = COMMON.to_vec();
    rules.extend(optional_nodes(sys).into_iter().map(|(_, r)| r));
    rules
}

/// The optional nodes that exist, with their paths: NVIDIA's cards (up to
/// the first missing one), then [`OPTIONAL_NODES`], then the MIG
/// capability nodes.
pub fn optional_nodes<S: Sys>(sys: &S) -> Vec<(String, Rule)> {
    let mut out = Vec::new();
    for n in 0..NVIDIA_CARDS {
        let path = format!("/dev/nvidia{n}");
        match char_device_at(sys, &path) {
            Some(r) => out.push((path, r)),
            None => break,
        }
    }
    let rest = OPTIONAL_NODES.iter().map(|p| p.to_string()).chain(nvidia_caps(sys));
    out.extend(rest.filter_map(|p| char_device_at(sys, &p).map(|r| (p, r))));
    out
}

/// The `nvidia-cap<N>` nodes of [`NVIDIA_CAPS_DIR`], in order.
pub fn nvidia_caps<S: Sys>(sys: &S) -> Vec<String> {
    let Ok(dir) = open_path(sys, NVIDIA_CAPS_DIR, OFlag::O_RDONLY | OFlag::O_DIRECTORY, Trust::Any) else {
        return Vec::new();
    };
    let mut caps: Vec<(u32, String)> = sys
        .read_dir(std::os::fd::AsFd::as_fd(&dir.fd))
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(name, _)| {
            let name = name.into_string().ok()?;
            let n = name.strip_prefix("nvidia-cap")?.parse::<u32>().ok()?;
            Some((n, format!("{NVIDIA_CAPS_DIR}/{name}")))
        })
        .collect();
    caps.sort();
    caps.into_iter().map(|(_, p)| p).collect()
}

/// Whether a device cgroup is made even when no device is assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Required,
    Optional,
}

/// The mode for the snap's base (its name after the fallbacks).
pub fn mode_for_base(base: &str) -> Mode {
    if LEGACY_BASES.contains(&base) {
        Mode::Optional
    } else {
        Mode::Required
    }
}

/// What the checkpoint file says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checkpoint {
    pub self_managed: bool,
    pub non_strict: bool,
}

/// The value of `key` in an info file, read as snap-confine reads one:
/// every line ends with a newline, `#` starts a comment line, other lines
/// are `key=value` with a non-empty key, the first `key` wins and lines
/// after it are not looked at.
pub fn info_value<'a>(text: &'a str, key: &str) -> std::result::Result<Option<&'a str>, String> {
    let mut rest = text;
    let mut lineno = 0;
    while !rest.is_empty() {
        lineno += 1;
        let Some((line, after)) = rest.split_once('\n') else {
            return Err(format!("line {lineno} does not end with a newline"));
        };
        rest = after;
        if line.contains('\0') {
            return Err(format!("line {lineno} contains NUL byte"));
        }
        if line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            return Err(format!("line {lineno} contains unexpected section"));
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(format!("line {lineno} is not a key=value assignment"));
        };
        if k.is_empty() {
            return Err(format!("line {lineno} contains empty key"));
        }
        if k == key {
            return Ok(Some(v));
        }
    }
    Ok(None)
}

/// Parses the checkpoint: `self-managed` and `non-strict` are set only by
/// the exact value `true`.
pub fn parse_checkpoint(text: &str) -> std::result::Result<Checkpoint, String> {
    Ok(Checkpoint {
        self_managed: info_value(text, "self-managed")? == Some("true"),
        non_strict: info_value(text, "non-strict")? == Some("true"),
    })
}

pub fn checkpoint_path(instance: &str) -> String {
    format!("{CHECKPOINT_DIR}/snap.{instance}.device")
}

/// Major and minor of the `VERSION=` line of snapd's info file
/// (`VERSION=2.57.6-1+deb12u1`, `VERSION=2.62+git...`); `None` when there
/// is no such line or it does not start with two numbers.
pub fn snapd_info_version(text: &str) -> Option<(u32, u32)> {
    let value = text.lines().find_map(|l| l.strip_prefix("VERSION="))?;
    let value = value.trim_matches(|c| c == '"' || c == '\'');
    let mut numbers = value.split(|c: char| !c.is_ascii_digit());
    let major = numbers.next()?.parse().ok()?;
    let minor = numbers.next()?.parse().ok()?;
    Some((major, minor))
}

/// Whether the daemon writes checkpoints. When the launcher is snapd's
/// (its directory holds snapd's `info` file), snapd's version says: 2.62
/// and later do. Otherwise (confine's own tools, or an info file without a
/// version) the checkpoint directory existing says. Both must be root's:
/// the answer can lift the device cgroup.
pub fn daemon_writes_checkpoints<S: Sys>(sys: &S, debug: &Debug) -> Result<bool> {
    match read_trusted_file(sys, SNAPD_INFO, MAX_INFO) {
        Ok(bytes) => match snapd_info_version(&String::from_utf8_lossy(&bytes)) {
            Some(version) => {
                let writes = version >= FIRST_CHECKPOINTING_SNAPD;
                debug.say(format_args!(
                    "snapd {}.{} ({SNAPD_INFO}) {} device checkpoints",
                    version.0,
                    version.1,
                    if writes { "writes" } else { "predates" }
                ));
                return Ok(writes);
            }
            None => debug.say(format_args!("no version in {SNAPD_INFO}: looking for {CHECKPOINT_DIR}")),
        },
        Err(e) if e.errno_value() == Some(Errno::ENOENT) => {}
        Err(e) => return Err(e),
    }
    match open_path(sys, CHECKPOINT_DIR, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::RootOwned) {
        Ok(_) => Ok(true),
        Err(e) if e.errno_value() == Some(Errno::ENOENT) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Reads the checkpoint of `instance`, waiting for it up to `wait` (one
/// look a second, like the wait for the seccomp profile). It must be a
/// regular file on a root-owned path: what it says can lift the device
/// cgroup.
pub fn read_checkpoint<S: Sys>(sys: &S, instance: &str, wait: Duration, debug: &Debug) -> Result<Checkpoint> {
    let path = checkpoint_path(instance);
    let secs = wait.as_secs();
    for waited in 0..=secs {
        match read_trusted_file(sys, &path, MAX_CHECKPOINT) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                return parse_checkpoint(&text).map_err(|why| Error::because(format!("read {path}"), why));
            }
            Err(e) if e.errno_value() == Some(Errno::ENOENT) => {}
            Err(e) => return Err(e),
        }
        if waited == secs {
            break;
        }
        if waited == 0 {
            debug.say(format_args!("waiting up to {secs} s for {path}"));
        }
        sys.sleep(Duration::from_secs(1));
    }
    Err(Error::because(
        format!("open {path}"),
        format!("it does not exist (waited {secs} s); the snap's device policy has not been generated"),
    ))
}

/// Whether we run inside a container: `/run/systemd/container` has a
/// non-empty first line. The file must be root's: it lifts the device
/// cgroup.
pub fn in_container<S: Sys>(sys: &S) -> Result<bool> {
    match read_trusted_file(sys, CONTAINER_FILE, 4096) {
        Ok(bytes) => Ok(bytes.split(|b| *b == b'\n').next().is_some_and(|l| !l.is_empty())),
        Err(e) if matches!(e.errno_value(), Some(Errno::ENOENT | Errno::ENOTDIR)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// An open device cgroup, v1 or v2.
#[derive(Debug)]
pub enum DeviceCgroup {
    V1(V1),
    V2(V2),
}

impl DeviceCgroup {
    /// Opens the device cgroup of `tag` for a launch (created, emptied) or,
    /// with `existing`, for the hotplug helper (`None` when there is none).
    pub fn open<S: Sys>(sys: &S, tag: &SecurityTag, existing: bool, debug: &Debug) -> Result<Option<DeviceCgroup>> {
        if is_unified(sys) {
            Ok(V2::open(sys, &tag.udev_tag(), existing, debug)?.map(DeviceCgroup::V2))
        } else {
            Ok(V1::open(sys, &tag.tag, existing)?.map(DeviceCgroup::V1))
        }
    }

    pub fn layout(&self) -> Layout {
        match self {
            DeviceCgroup::V1(_) => Layout::V1,
            DeviceCgroup::V2(_) => Layout::V2,
        }
    }

    pub fn allow<S: Sys>(&self, sys: &S, rule: &Rule) -> Result<()> {
        match self {
            DeviceCgroup::V1(g) => g.allow(sys, rule),
            DeviceCgroup::V2(g) => g.allow(sys, rule),
        }
    }

    pub fn deny<S: Sys>(&self, sys: &S, rule: &Rule) -> Result<()> {
        match self {
            DeviceCgroup::V1(g) => g.deny(sys, rule),
            DeviceCgroup::V2(g) => g.deny(sys, rule),
        }
    }

    pub fn close<S: Sys>(self, sys: &S) -> Result<()> {
        match self {
            DeviceCgroup::V1(_) => Ok(()),
            DeviceCgroup::V2(g) => g.close(sys),
        }
    }

    /// v2: attaches the filter to our own cgroup now. v1: keeps the group
    /// open, for this process (and so the app) to join later.
    fn attach_or_keep<S: Sys>(self, sys: &S, proc: &Proc, tag: &SecurityTag, debug: &Debug) -> Result<Option<V1>> {
        match self {
            DeviceCgroup::V1(g) => Ok(Some(g)),
            DeviceCgroup::V2(g) => {
                let attached = g.attach(sys, proc, tag, debug);
                // The memlock limit goes back whatever happened.
                let closed = g.close(sys);
                attached.and(closed).map(|()| None)
            }
        }
    }
}

/// What [`setup`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Inside a container: no device cgroup.
    Container,
    /// The snap manages its device cgroup itself.
    SelfManaged,
    /// Devmode or classic: no device cgroup.
    NonStrict,
    /// A legacy base and no device assigned: no device cgroup.
    NotNeeded,
    /// The app is confined to the default set and these assigned devices.
    Confined { layout: Layout, assigned: Vec<Rule> },
}

/// A device cgroup set up by [`setup`]; on cgroup v1 the launcher joins
/// it later, next to the freezer cgroup ([`super::Joining`] says why).
#[derive(Debug)]
pub struct Prepared {
    pub outcome: Outcome,
    v1: Option<V1>,
}

impl Prepared {
    fn done(outcome: Outcome) -> Prepared {
        Prepared { outcome, v1: None }
    }

    /// cgroup v1: the group to join, if there is one.
    pub fn into_tasks(self) -> Option<super::Tasks> {
        self.v1.map(V1::into_tasks)
    }
}

/// Sets up the device cgroup of a strict launch: on cgroup v2 the filter is
/// attached to the launcher's cgroup, on v1 the launcher joins the group
/// later ([`Prepared::into_tasks`]). Runs under the snap's lock, in the host's
/// mount namespace, before the snap's namespace is joined or built.
pub fn setup<S: Sys>(
    sys: &S,
    proc: &Proc,
    inv: &Invocation,
    base: &Base,
    wait: Duration,
    debug: &Debug,
) -> Result<Prepared> {
    let tag = &inv.tag;
    let within = |e: Error| e.within(format!("set up the device cgroup of {tag}"));
    if in_container(sys).map_err(within)? {
        debug.say("device cgroup skipped: inside a container");
        return Ok(Prepared::done(Outcome::Container));
    }
    let mode = if daemon_writes_checkpoints(sys, debug).map_err(within)? {
        let checkpoint = read_checkpoint(sys, inv.instance.as_str(), wait, debug).map_err(within)?;
        if checkpoint.self_managed {
            debug.say("device cgroup skipped: the snap manages it");
            return Ok(Prepared::done(Outcome::SelfManaged));
        }
        if checkpoint.non_strict {
            debug.say("device cgroup skipped: the snap is not strictly confined");
            return Ok(Prepared::done(Outcome::NonStrict));
        }
        mode_for_base(&base.name)
    } else {
        debug.say("the daemon predates device checkpoints, so only assigned devices make a device cgroup");
        Mode::Optional
    };
    let udev_tag = tag.udev_tag();
    let assigned: Vec<Rule> = udev::tagged_devices(sys, &udev_tag, debug).map_err(within)?.into_iter().map(Rule::from).collect();
    debug.say(format_args!("device cgroup {mode:?} (base {}), {} device(s) tagged {udev_tag}", base.name, assigned.len()));
    if assigned.is_empty() && mode == Mode::Optional {
        return Ok(Prepared::done(Outcome::NotNeeded));
    }
    let group = DeviceCgroup::open(sys, tag, false, debug)
        .map_err(within)?
        .ok_or_else(|| within(Error::new("open it")))?;
    let layout = group.layout();
    let filled = default_rules(sys).iter().chain(assigned.iter()).try_for_each(|r| group.allow(sys, r));
    let v1 = match filled {
        Ok(()) => group.attach_or_keep(sys, proc, tag, debug),
        Err(e) => {
            // The memlock limit goes back whatever happened.
            let _ = group.close(sys);
            Err(e)
        }
    }
    .map_err(within)?;
    for r in &assigned {
        debug.say(format_args!("assigned device {r} allowed"));
    }
    Ok(Prepared { outcome: Outcome::Confined { layout, assigned }, v1 })
}

#[cfg(test)]
#[path = "devices_tests.rs"]
mod tests;

//! Landlock: on a kernel without AppArmor, the launcher confines a strict
//! app's file system (and, where the kernel can, TCP and signal) access
//! with a Landlock ruleset derived from the same policy as its AppArmor
//! profile. The policy is written by the policy tools next to the profiles
//! (`/var/lib/snapd/landlock/<tag>`, format in `policy_cache::landlock`) and
//! read with the same trust checks as the seccomp cache.
//!
//! The ruleset is applied last, right before the seccomp filter, as the
//! caller and in the final mount namespace, while `CAP_SYS_ADMIN` is still
//! held (so, as for seccomp, `no_new_privs` is not needed). What the kernel's
//! Landlock ABI cannot express is dropped with a debug note, never silently.

use crate::apparmor::AppArmor;
use crate::debug::Debug;
use crate::error::{Error, Result};
use crate::fs::read_trusted_file;
use crate::invocation::Invocation;
use crate::privs::{self, Demoted};
use crate::settings::{lookup, Env};
use crate::sys::{EntryKind, LandlockRuleset, Sys};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use policy_cache::landlock::{parse, Apply, FsRights, LandlockPolicy, Mode, Port, Rule, Scope};
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, OwnedFd};

pub const POLICY_DIR: &str = "/var/lib/snapd/landlock";

// Landlock's access rights (uapi bits) and the ABI that introduced them.
pub const EXECUTE: u64 = 1 << 0;
pub const WRITE_FILE: u64 = 1 << 1;
pub const READ_FILE: u64 = 1 << 2;
pub const READ_DIR: u64 = 1 << 3;
pub const REMOVE_DIR: u64 = 1 << 4;
pub const REMOVE_FILE: u64 = 1 << 5;
pub const MAKE_CHAR: u64 = 1 << 6;
pub const MAKE_DIR: u64 = 1 << 7;
pub const MAKE_REG: u64 = 1 << 8;
pub const MAKE_SOCK: u64 = 1 << 9;
pub const MAKE_FIFO: u64 = 1 << 10;
pub const MAKE_BLOCK: u64 = 1 << 11;
pub const MAKE_SYM: u64 = 1 << 12;
pub const REFER: u64 = 1 << 13; // ABI 2
pub const TRUNCATE: u64 = 1 << 14; // ABI 3
pub const IOCTL_DEV: u64 = 1 << 15; // ABI 5
pub const BIND_TCP: u64 = 1 << 0; // ABI 4
pub const CONNECT_TCP: u64 = 1 << 1; // ABI 4
pub const SCOPE_ABSTRACT_UNIX_SOCKET: u64 = 1 << 0; // ABI 6
pub const SCOPE_SIGNAL: u64 = 1 << 1; // ABI 6

/// The rights that apply to a file (not a directory) in a rule.
const FILE_RIGHTS: u64 = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV;

/// Every file-system right the kernel's ABI handles.
pub fn fs_rights_of_abi(abi: u32) -> u64 {
    let mut r = (1 << 13) - 1; // ABI 1: execute .. make_sym
    if abi >= 2 {
        r |= REFER;
    }
    if abi >= 3 {
        r |= TRUNCATE;
    }
    if abi >= 5 {
        r |= IOCTL_DEV;
    }
    r
}

/// Landlock rights for the policy's coarse rights.
pub fn access_of(r: FsRights) -> u64 {
    let mut a = 0;
    if r.read {
        a |= READ_FILE | READ_DIR;
    }
    if r.write {
        a |= WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_DIR | MAKE_REG | MAKE_SOCK | MAKE_FIFO | MAKE_SYM | REFER | TRUNCATE;
    }
    if r.execute {
        a |= EXECUTE;
    }
    if r.device {
        a |= IOCTL_DEV;
    }
    a
}

/// Where the policy's variables point for this launch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vars {
    pub home: Option<String>,
    pub user_data: Option<String>,
    pub user_common: Option<String>,
    pub runtime_dir: Option<String>,
    /// `/proc/<pid>` of the app (the launcher's own pid: it becomes the app).
    pub proc_self: Option<String>,
}

fn canonical(v: Option<&OsStr>) -> Option<String> {
    v.and_then(|v| v.to_str()).filter(|p| crate::user_data::is_canonical(p)).map(str::to_string)
}

impl Vars {
    /// From the environment `snap-run` prepared. These only widen the
    /// caller's own app's sandbox to the caller's own files (the kernel's
    /// permission checks still apply), so taking them from the caller is safe.
    pub fn from_env(env: &Env) -> Vars {
        Vars {
            home: canonical(lookup(env, "SNAP_REAL_HOME")),
            user_data: canonical(lookup(env, "SNAP_USER_DATA")),
            user_common: canonical(lookup(env, "SNAP_USER_COMMON")),
            runtime_dir: canonical(lookup(env, "XDG_RUNTIME_DIR")),
            proc_self: None,
        }
    }

    /// With `@{PROC_SELF}` set to this process's own `/proc` directory, as
    /// the `/proc` mounted in its namespace names it (the launcher's pid is
    /// the app's: it executes it). Anything but a number leaves it unset.
    pub fn with_proc_self(self, pid: Option<OsString>) -> Vars {
        let pid = pid.and_then(|p| p.into_string().ok()).filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        Vars { proc_self: pid.map(|p| format!("/proc/{p}")), ..self }
    }

    /// Expands a leading variable; `None` when it has no value here.
    pub fn expand(&self, path: &str) -> Option<String> {
        for (name, value) in [
            ("@{HOME}", &self.home),
            ("@{SNAP_USER_DATA}", &self.user_data),
            ("@{SNAP_USER_COMMON}", &self.user_common),
            ("@{XDG_RUNTIME_DIR}", &self.runtime_dir),
            ("@{PROC_SELF}", &self.proc_self),
        ] {
            if let Some(rest) = path.strip_prefix(name) {
                return value.as_ref().map(|v| format!("{v}{rest}"));
            }
        }
        Some(path.to_string())
    }
}

/// The ruleset to build, independent of the kernel: paths with rights,
/// TCP ports, scopes, and what was left out and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub paths: Vec<(String, u64)>,
    /// `None`: binding is not restricted.
    pub bind_ports: Option<Vec<u16>>,
    pub connect_ports: Option<Vec<u16>>,
    pub scopes: u64,
    pub notes: Vec<String>,
}

impl Plan {
    /// Adds `access` on `path`, to the rights it has already if it is there.
    fn grant(&mut self, path: String, access: u64) {
        match self.paths.iter_mut().find(|(p, _)| *p == path) {
            Some((_, a)) => *a |= access,
            None => self.paths.push((path, access)),
        }
    }
}

/// Turns a policy into a plan for this launch (variables expanded; the
/// entries of `fs-each` directories listed through `list`; what
/// `gpu-driver` grants found by `driver`).
pub fn plan(
    policy: &LandlockPolicy,
    vars: &Vars,
    list: &dyn Fn(&str) -> Vec<String>,
    driver: &dyn Fn() -> Vec<(String, u64)>,
) -> Plan {
    let mut p = Plan { bind_ports: Some(Vec::new()), connect_ports: Some(Vec::new()), ..Plan::default() };
    for rule in &policy.rules {
        match rule {
            Rule::Fs { rights, path } => match vars.expand(path) {
                Some(path) => p.grant(path, access_of(*rights)),
                None => p.notes.push(format!("{path} has no value here: not granted")),
            },
            Rule::FsEach { rights, path, except } => match vars.expand(path) {
                Some(dir) => {
                    // Listing only: a rule on a directory covers everything
                    // beneath it, hidden entries and `snap` included.
                    p.grant(dir.clone(), READ_DIR);
                    for name in list(&dir) {
                        if !name.starts_with('.') && name != "snap" && !except.contains(&name) {
                            p.grant(format!("{dir}/{name}"), access_of(*rights));
                        }
                    }
                    p.notes.push(format!(
                        "new entries directly in {dir} cannot be created, and the names (not the contents) in its hidden directories can be listed"
                    ));
                }
                None => p.notes.push(format!("{path} has no value here: not granted")),
            },
            Rule::GpuDriver => {
                let grants = driver();
                if grants.is_empty() {
                    p.notes.push("gpu-driver: no GPU driver in this sandbox".into());
                }
                for (path, access) in grants {
                    p.grant(path, access);
                }
            }
            Rule::NetBind(Port::Any) => p.bind_ports = None,
            Rule::NetConnect(Port::Any) => p.connect_ports = None,
            Rule::NetBind(Port::Number(n)) => {
                if let Some(v) = p.bind_ports.as_mut() {
                    v.push(*n);
                }
            }
            Rule::NetConnect(Port::Number(n)) => {
                if let Some(v) = p.connect_ports.as_mut() {
                    v.push(*n);
                }
            }
            Rule::Scope(Scope::Signal) => p.scopes |= SCOPE_SIGNAL,
            Rule::Scope(Scope::AbstractUnixSocket) => p.scopes |= SCOPE_ABSTRACT_UNIX_SOCKET,
            Rule::Unexpressible(t) => p.notes.push(format!("not expressible: {t}")),
        }
    }
    p
}

/// What a plan becomes on a kernel with Landlock ABI `abi`: handled rights,
/// rules masked to them, and notes about what the ABI cannot do. Rules on
/// files (`is_dir` false) keep only the rights that apply to files.
pub fn for_abi(plan: &Plan, abi: u32, is_dir: &dyn Fn(&str) -> Option<bool>) -> (LandlockRuleset<String>, Vec<String>) {
    let mut notes = Vec::new();
    let handled_fs = fs_rights_of_abi(abi);
    let mut rules = Vec::new();
    for (path, access) in &plan.paths {
        match is_dir(path) {
            None => notes.push(format!("{path} does not exist here: not granted")),
            Some(dir) => {
                let a = access & handled_fs & if dir { u64::MAX } else { FILE_RIGHTS };
                if a != 0 {
                    rules.push((path.clone(), a));
                }
            }
        }
    }
    let mut handled_net = 0;
    let mut net_rules = Vec::new();
    let restricted = plan.bind_ports.is_some() || plan.connect_ports.is_some();
    if abi >= 4 {
        for (ports, bit) in [(&plan.bind_ports, BIND_TCP), (&plan.connect_ports, CONNECT_TCP)] {
            if let Some(ports) = ports {
                handled_net |= bit;
                net_rules.extend(ports.iter().map(|p| (*p, bit)));
            }
        }
    } else if restricted {
        notes.push(format!("TCP bind and connect cannot be restricted with Landlock ABI {abi} (4 is needed)"));
    }
    let scopes = if abi >= 6 {
        plan.scopes
    } else {
        if plan.scopes != 0 {
            notes.push(format!("signals and abstract sockets cannot be scoped with Landlock ABI {abi} (6 is needed)"));
        }
        0
    };
    (LandlockRuleset { abi, handled_fs, rules, handled_net, net_rules, scopes }, notes)
}

/// What `gpu-driver` grants in this sandbox: reading the host directories
/// the GPU library farms lead to (each farm names them in its manifest,
/// written by the launcher when it built the namespace, on the farm's
/// read-only tmpfs), and read, write and device use of each `/dev/nvidia*`
/// node, reading the MIG capability nodes. Libraries need no execute
/// right: Landlock's governs `execve`, not mapping a library.
pub fn driver_grants<S: Sys>(sys: &S, list: &dyn Fn(&str) -> Vec<String>) -> Vec<(String, u64)> {
    let read = access_of(FsRights { read: true, ..FsRights::default() });
    let devices = access_of(FsRights { read: true, write: true, device: true, ..FsRights::default() });
    let mut out = Vec::new();
    let hostfs = format!("{}/", crate::gpu::HOSTFS);
    let Ok(root) = sys.root() else { return out };
    for farm in ["gl", "gl32", "vulkan", "glvnd"] {
        let path = format!("{}/{farm}/{}", crate::gpu::layout::LIB_DIR, crate::gpu::MANIFEST);
        let flags = OFlag::O_RDONLY | OFlag::O_NONBLOCK;
        let Ok(file) = sys.open_in_root(root.as_fd(), path.trim_start_matches('/'), flags) else { continue };
        let Ok(text) = sys.read_bounded(file.as_fd(), 64 * 1024) else { continue };
        for dir in String::from_utf8_lossy(&text).lines() {
            if dir.starts_with(&hostfs) && !dir.split('/').any(|c| c == ".." || c == ".") {
                out.push((dir.to_string(), read));
            }
        }
    }
    for name in list("/dev") {
        if name.starts_with("nvidia") && name != "nvidia-caps" {
            out.push((format!("/dev/{name}"), devices));
        }
    }
    for name in list(crate::cgroup::devices::NVIDIA_CAPS_DIR) {
        out.push((format!("{}/{name}", crate::cgroup::devices::NVIDIA_CAPS_DIR), read));
    }
    out
}

/// A policy read for a launch, and whether to apply it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub path: String,
    pub policy: LandlockPolicy,
}

/// Reads the tag's Landlock policy, when the launch needs one: strict
/// launches where AppArmor is not available, or where the policy asks to
/// stack. A missing policy on a host without AppArmor stops the launch.
pub fn read_for_launch<S: Sys>(sys: &S, inv: &Invocation, aa: &AppArmor, debug: &Debug) -> Result<Option<Loaded>> {
    if inv.classic {
        return Ok(None);
    }
    let path = format!("{POLICY_DIR}/{}", inv.tag);
    let bytes = match read_trusted_file(sys, &path, policy_cache::landlock::MAX_LEN) {
        Ok(b) => b,
        Err(e) if e.errno_value() == Some(Errno::ENOENT) => {
            if *aa == AppArmor::NotApplicable {
                return Err(Error::because(
                    format!("confine {} without AppArmor", inv.tag),
                    format!("its Landlock policy {path} does not exist; the snap's policy must be generated again"),
                ));
            }
            return Ok(None);
        }
        Err(e) => return Err(e.within(format!("load the Landlock policy of {}", inv.tag))),
    };
    let text = String::from_utf8(bytes).map_err(|_| Error::because(format!("use {path}"), "it is not UTF-8"))?;
    let policy = parse(&text).map_err(|e| Error::because(format!("use {path}"), e.to_string()))?;
    let wanted = match (policy.mode, aa, policy.apply) {
        (Mode::Devmode, _, _) => false,
        (_, AppArmor::NotApplicable, _) => true,
        (_, _, Apply::Always) => true,
        (_, _, Apply::WithoutAppArmor) => false,
    };
    debug.say(format_args!("Landlock policy {path} read; {}", if wanted { "it will be applied" } else { "not applied here" }));
    Ok(wanted.then_some(Loaded { path, policy }))
}

/// Applies the policy: as the caller, in the final namespace, with
/// `CAP_SYS_ADMIN` effective so that `no_new_privs` is not needed.
pub fn apply<S: Sys>(sys: &S, loaded: &Loaded, env: &Env, demoted: &Demoted, debug: &Debug) -> Result<()> {
    let abi = sys.landlock_abi();
    if abi == 0 {
        debug.say("this kernel has no Landlock: the snap runs without file-system confinement");
        return Ok(());
    }
    let root = sys.root()?;
    let open = |path: &str| sys.open_in_root(root.as_fd(), path.trim_start_matches('/'), OFlag::O_PATH).ok();
    let entries = |dir: &str, devices: bool| -> Vec<String> {
        let Some(fd) = open(dir) else { return Vec::new() };
        sys.read_dir(fd.as_fd())
            .map(|v| {
                v.into_iter().filter(|(_, k)| devices || *k != EntryKind::Other).filter_map(|(n, _)| n.into_string().ok()).collect()
            })
            .unwrap_or_default()
    };
    let list = |dir: &str| entries(dir, false);
    // The NVIDIA nodes are character devices: listed with them.
    let driver = || driver_grants(sys, &|dir: &str| entries(dir, true));
    // The pid as this namespace's /proc knows it, not as the launcher's pid
    // namespace does: the two differ where /proc belongs to another one.
    let proc_self = sys.readlinkat(root.as_fd(), OsStr::new("proc/self")).ok();
    let plan = plan(&loaded.policy, &Vars::from_env(env).with_proc_self(proc_self), &list, &driver);
    // Each path is opened once: its descriptor tells whether it is a
    // directory and becomes the rule.
    let mut opened: std::collections::HashMap<&str, (OwnedFd, bool)> = std::collections::HashMap::new();
    for (path, _) in &plan.paths {
        if let Some(fd) = open(path) {
            if let Ok(st) = sys.fstat(fd.as_fd()) {
                opened.insert(path.as_str(), (fd, st.is_dir_type()));
            }
        }
    }
    let (ruleset, notes) = for_abi(&plan, abi, &|path: &str| opened.get(path).map(|(_, dir)| *dir));
    let rules = ruleset.rules.iter().filter_map(|(path, access)| Some((opened.remove(path.as_str())?.0, *access))).collect();
    let with_fds = ruleset.with_rules(rules);
    privs::raise_sys_admin(sys, demoted)?;
    sys.landlock_restrict(&with_fds).map_err(|e| e.within(format!("apply the Landlock policy {}", loaded.path)))?;
    debug.say(format_args!(
        "Landlock ABI {abi} enforced: file-system rights {:#x} on {} paths, TCP {:#x} ({} port rules), scopes {:#x}",
        with_fds.handled_fs,
        with_fds.rules.len(),
        with_fds.handled_net,
        with_fds.net_rules.len(),
        with_fds.scopes
    ));
    for note in plan.notes.iter().chain(notes.iter()) {
        debug.say(format_args!("Landlock: {note}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests;

//! What the admin command does, as a library: registering snaps,
//! connecting and disconnecting their plugs, assigning devices. Each change
//! runs under the state lock, regenerates the affected snap's policy and
//! puts it in force ([`crate::deploy`]) before the state is written, so a
//! failure leaves both the old state and the old policy.
//!
//! Only root may change anything on the real system.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use naming::InstanceName;

use crate::deploy::{self, Parser, Report};
use crate::interfaces::{self, catalog, Catalog, Interface, SlotAttrs};
use crate::paths::Paths;
use crate::policy::{self, Connected, ConnectedSlot, PolicyFiles, Snap};
use crate::snapyaml::{self, SnapYaml};
use crate::state::{self, State};

mod connect;
mod content;
mod listing;
mod register;
mod slots;

pub use connect::{parse_plug_ref, PlugRef};
pub use listing::{ConnectionRow, InterfaceRow};
pub use register::{validate_revision, Registered};
pub use slots::parse_attrs as parse_slot_attrs;

/// Why an admin command failed; the text starts with "cannot".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

macro_rules! from_error {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error(e.to_string())
            }
        }
    )*};
}

from_error!(
    state::Error,
    deploy::Error,
    policy::Error,
    interfaces::Error,
    snapyaml::Error
);

/// The slot every interface without attributes has on the system.
pub const SYSTEM: &str = "system";

/// The variable that makes the launcher apply the Landlock policies on top
/// of AppArmor too: `always`. Unset, empty or `without-apparmor`: only
/// where the kernel has no AppArmor.
pub const LANDLOCK_VAR: &str = "CONFINE_LANDLOCK";

/// Whether `CONFINE_LANDLOCK` asks for `apply always`.
fn landlock_always_from_env() -> Result<bool, Error> {
    landlock_always_from(std::env::var_os(LANDLOCK_VAR).as_deref())
}

/// Whether a value of `CONFINE_LANDLOCK` asks for `apply always`.
fn landlock_always_from(value: Option<&std::ffi::OsStr>) -> Result<bool, Error> {
    match value {
        None => Ok(false),
        Some(v) => match v.to_str() {
            Some("always") => Ok(true),
            Some("" | "without-apparmor") => Ok(false),
            _ => Err(Error(format!(
                "cannot use {LANDLOCK_VAR}={}: it must be always or without-apparmor",
                v.to_string_lossy()
            ))),
        },
    }
}

/// The admin's view of the system.
pub struct Admin {
    pub paths: Paths,
    pub parser: Parser,
    /// Landlock policies are applied on top of AppArmor too (from
    /// `CONFINE_LANDLOCK`).
    pub landlock_always: bool,
    version_info: std::sync::OnceLock<String>,
    fixed_version_info: Option<String>,
}

impl Admin {
    /// The admin for `paths`, loading profiles as [`Parser::from_env`]
    /// decides, and writing Landlock policies as `CONFINE_LANDLOCK` says.
    pub fn new(paths: Paths) -> Result<Self, Error> {
        let parser = Parser::from_env(&paths)?;
        Ok(Admin {
            paths,
            parser,
            landlock_always: landlock_always_from_env()?,
            version_info: std::sync::OnceLock::new(),
            fixed_version_info: None,
        })
    }

    /// Uses a fixed compiler version line in `.src` files (for tests).
    pub fn with_version_info(mut self, info: &str) -> Self {
        self.fixed_version_info = Some(info.to_owned());
        self
    }

    fn version_info(&self) -> Result<String, Error> {
        if let Some(v) = &self.fixed_version_info {
            return Ok(v.clone());
        }
        if let Some(v) = self.version_info.get() {
            return Ok(v.clone());
        }
        let v = match cached_version_info(&self.paths) {
            Some(v) => v,
            None => {
                let v = crate::seccomp::version::version_info().map_err(|e| Error(e.to_string()))?;
                remember_version_info(&self.paths, &v);
                v
            }
        };
        Ok(self.version_info.get_or_init(|| v).clone())
    }

    /// Refuses changes by anyone but root on the real system.
    pub fn check_can_change(&self, what: &str) -> Result<(), Error> {
        if self.paths.is_system() && !nix::unistd::geteuid().is_root() {
            return Err(Error(format!(
                "cannot {what}: only root may change the policy (permission denied)"
            )));
        }
        Ok(())
    }

    /// Whether this is a classic distribution (not Ubuntu Core), which
    /// decides whether `home` connects automatically.
    pub fn is_classic_system(&self) -> bool {
        let text = std::fs::read_to_string(self.paths.os_release()).unwrap_or_default();
        !text
            .lines()
            .any(|l| l.trim() == "ID=ubuntu-core" || l.trim() == "ID=\"ubuntu-core\"")
    }

    /// Runs a change under the state lock.
    fn change<T>(&self, what: &str, f: impl FnOnce(&mut State, &Catalog) -> Result<T, Error>) -> Result<T, Error> {
        self.check_can_change(what)?;
        let cat = catalog()?;
        state::update(&self.paths, |s| f(s, cat))
    }

    /// The generated policy of a registered snap, from the state.
    pub fn policy_of(&self, state: &State, instance: &str) -> Result<PolicyFiles, Error> {
        let cat = catalog()?;
        let me = Loaded::load(state, instance)?;
        // Every snap at the other end of one of its connections, either way.
        let mut peers: BTreeMap<String, Loaded> = BTreeMap::new();
        // One of its plugs, connected: to a snap's slot (`peer`, the snap
        // and its slot) or the system's.
        struct PlugRow<'a> {
            plug: String,
            iface: &'a Interface,
            attrs: SlotAttrs,
            peer: Option<(String, String)>,
        }
        let mut plug_rows: Vec<PlugRow<'_>> = Vec::new();
        for (plug, conn) in state.connections_of(instance) {
            let iface = cat
                .get(&conn.interface)
                .ok_or_else(|| Error(format!("cannot find interface {}", conn.interface)))?;
            let peer = slots::snap_slot(&conn.slot);
            if let Some((snap, _)) = &peer {
                if !peers.contains_key(snap) {
                    peers.insert(snap.clone(), Loaded::load(state, snap)?);
                }
            }
            plug_rows.push(PlugRow { plug, iface, attrs: slots::slot_attrs(state, &conn.slot)?, peer });
        }
        // One of this snap's slots and the plug of another snap connected to it.
        struct SlotRow<'a> {
            slot: String,
            iface: &'a Interface,
            plug_snap: String,
            plug: String,
        }
        let mut slot_rows: Vec<SlotRow<'_>> = Vec::new();
        for (key, conn) in &state.connections {
            let Some((snap, slot)) = slots::snap_slot(&conn.slot) else { continue };
            let Some((plug_snap, plug)) = key.split_once(':') else { continue };
            if snap != instance {
                continue;
            }
            let iface = cat.get(&conn.interface).ok_or_else(|| Error(format!("cannot find interface {}", conn.interface)))?;
            if !peers.contains_key(plug_snap) {
                peers.insert(plug_snap.to_owned(), Loaded::load(state, plug_snap)?);
            }
            slot_rows.push(SlotRow { slot, iface, plug_snap: plug_snap.to_owned(), plug: plug.to_owned() });
        }
        let connected: Vec<Connected<'_>> = plug_rows
            .iter()
            .map(|row| Connected {
                plug: &row.plug,
                interface: row.iface,
                slot_attrs: &row.attrs,
                slot_snap: row.peer.as_ref().and_then(|(snap, port)| peers.get(snap).map(|p| p.peer(port))),
            })
            .collect();
        let connected_slots: Vec<ConnectedSlot<'_>> = slot_rows
            .iter()
            .filter_map(|row| {
                Some(ConnectedSlot { slot: &row.slot, interface: row.iface, plug_snap: peers.get(&row.plug_snap)?.peer(&row.plug) })
            })
            .collect();
        let snap = Snap {
            yaml: &me.yaml,
            instance: &me.instance,
            revision: &me.revision,
        };
        let options = policy::Options {
            version_info: self.version_info()?,
            landlock_always: self.landlock_always,
            host: self.host(),
        };
        Ok(policy::generate(&snap, &connected, &connected_slots, &options)?)
    }

    /// What the host has that interfaces bind into snaps (under the root:
    /// a scratch root has none of it).
    pub fn host(&self) -> interfaces::Host {
        let font_dirs = interfaces::computed::FONT_DIRS
            .iter()
            .chain(interfaces::computed::FONT_CACHE_DIRS)
            .filter(|d| self.paths.under(d).is_dir())
            .map(|d| (*d).to_owned())
            .collect();
        interfaces::Host { font_dirs }
    }

    /// Regenerates and puts in force the policy of a registered snap.
    fn deploy(&self, state: &State, instance: &str, reload_all: bool) -> Result<Report, Error> {
        let files = self.policy_of(state, instance)?;
        let mut report = deploy::apply(&self.paths, &self.parser, instance, Some(&files), reload_all)?;
        if report.mount_profile_changed {
            match deploy::namespace::refresh(&self.paths, instance) {
                Ok(done) => report.namespace = Some(done),
                Err(e) => report.warnings.push(format!("the mount namespace of {instance} was not updated: {e}")),
            }
        }
        Ok(report)
    }
}

/// What identifies the running executable without reading it: device,
/// inode, size and modification time. (Installing a new build changes
/// them; the compiler line is computed again then.)
fn executable_key() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let exe = std::env::current_exe().ok()?;
    let m = std::fs::metadata(exe).ok()?;
    Some(format!("{} {} {} {}.{}", m.dev(), m.ino(), m.size(), m.mtime(), m.mtime_nsec()))
}

/// The cache of the compiler's version line (hashing the executable and
/// libseccomp's tables takes a while on slow machines).
fn version_cache(paths: &Paths) -> std::path::PathBuf {
    paths.state_dir().join("seccomp-version-info")
}

fn cached_version_info(paths: &Paths) -> Option<String> {
    let text = std::fs::read_to_string(version_cache(paths)).ok()?;
    let (key, line) = text.trim_end().split_once('\n')?;
    (Some(key) == executable_key().as_deref() && !line.is_empty()).then(|| line.to_owned())
}

/// Remembers the version line; failing to is harmless.
fn remember_version_info(paths: &Paths, line: &str) {
    if let (Some(key), true) = (executable_key(), paths.state_dir().is_dir()) {
        let _ = crate::seccomp::output::write_atomically(&version_cache(paths), format!("{key}\n{line}\n").as_bytes());
    }
}

/// A registered snap, parsed.
struct Loaded {
    yaml: SnapYaml,
    instance: InstanceName,
    revision: String,
}

impl Loaded {
    fn load(state: &State, instance: &str) -> Result<Loaded, Error> {
        let snap = state
            .snaps
            .get(instance)
            .ok_or_else(|| Error(format!("cannot find snap {instance:?}: it is not registered")))?;
        Ok(Loaded {
            yaml: parse_registered(snap)?,
            instance: InstanceName::parse(instance).map_err(|e| Error(format!("cannot use instance name {instance:?}: {e}")))?,
            revision: snap.revision.clone(),
        })
    }

    fn peer<'a>(&'a self, port: &'a str) -> policy::Peer<'a> {
        policy::Peer { yaml: &self.yaml, instance: &self.instance, revision: &self.revision, port }
    }
}

/// The snap.yaml of a registered snap.
fn parse_registered(snap: &state::SnapState) -> Result<SnapYaml, Error> {
    Ok(snapyaml::parse_with_hooks(&snap.snap_yaml, &snap.implicit_hooks)?)
}

/// Reads a snap directory's snap.yaml text, parsed, and the names of its
/// implicit hooks.
/// Reads and validates the snap.yaml of the snap whose files are in `dir`.
pub fn read_snap_dir_pub(dir: &Path) -> Result<(String, SnapYaml), Error> {
    read_snap_dir(dir).map(|(text, yaml, _)| (text, yaml))
}

fn read_snap_dir(dir: &Path) -> Result<(String, SnapYaml, Vec<String>), Error> {
    let path = dir.join("meta/snap.yaml");
    let text = std::fs::read_to_string(&path).map_err(|e| Error(format!("cannot read {}: {e}", path.display())))?;
    let implicit = snapyaml::hook_files(dir);
    let yaml = snapyaml::parse_with_hooks(&text, &implicit)?;
    Ok((text, yaml, implicit))
}

#[cfg(test)]
mod tests;

//! The one state file, `/var/lib/confine/state.json`: registered snaps,
//! connections and the slots the admin created.
//!
//! Every change happens under an exclusive lock (`flock` on
//! `state.lock` next to it), reads the file, changes it and replaces it
//! atomically (a new file, flushed, renamed over the old one). Two admin
//! commands running at once are serialised, so neither loses the other's
//! change. The directory is root's alone (0700), the file 0600.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use crate::interfaces::SlotAttrs;
use crate::paths::Paths;
use crate::seccomp::output;

/// The format version written in the file.
pub const VERSION: u32 = 1;

/// Everything the tools remember.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub version: u32,
    /// Registered snaps by instance name.
    #[serde(default)]
    pub snaps: BTreeMap<String, SnapState>,
    /// Connections by plug (`snap:plug`).
    #[serde(default)]
    pub connections: BTreeMap<String, Connection>,
    /// Plugs the admin disconnected after they were connected
    /// automatically: they stay disconnected when the snap is registered
    /// again.
    #[serde(default)]
    pub undesired: BTreeSet<String>,
    /// Slots the admin created on the system (device assignments), by name.
    #[serde(default)]
    pub slots: BTreeMap<String, SlotState>,
}

/// A registered snap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapState {
    pub revision: String,
    /// Where its files are (`$SNAP`).
    pub snap_dir: String,
    /// Its snap.yaml as registered, so its policy can be generated again
    /// without the files.
    pub snap_yaml: String,
    /// Hooks found in `meta/hooks` without a declaration.
    #[serde(default)]
    pub implicit_hooks: Vec<String>,
}

/// A connection of a plug to a slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    pub interface: String,
    /// `system:<slot>`.
    pub slot: String,
    /// Made automatically at registration.
    pub auto: bool,
}

/// A slot the admin created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotState {
    pub interface: String,
    #[serde(default)]
    pub attrs: SlotAttrs,
}

/// Why the state could not be used; the text starts with "cannot".
#[derive(Debug)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

fn io_err(what: &str, path: &Path, e: io::Error) -> Error {
    Error(format!("cannot {what} {}: {e}", path.display()))
}

/// Reads the state (an absent file is an empty state).
pub fn read(paths: &Paths) -> Result<State, Error> {
    let file = paths.state_file();
    let text = match fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(State {
                version: VERSION,
                ..State::default()
            })
        }
        Err(e) => return Err(io_err("read", &file, e)),
    };
    let state: State =
        serde_json::from_str(&text).map_err(|e| Error(format!("cannot parse {}: {e}", file.display())))?;
    if state.version != VERSION {
        return Err(Error(format!(
            "cannot use {}: format version {} is not {VERSION}",
            file.display(),
            state.version
        )));
    }
    Ok(state)
}

/// Replaces the state file atomically.
fn write(paths: &Paths, state: &State) -> Result<(), Error> {
    let file = paths.state_file();
    let mut text = serde_json::to_string_pretty(state).map_err(|e| Error(format!("cannot encode the state: {e}")))?;
    text.push('\n');
    output::write_atomically(&file, text.as_bytes()).map_err(|e| io_err("write", &file, e))?;
    fs::set_permissions(&file, Permissions::from_mode(0o600)).map_err(|e| io_err("protect", &file, e))
}

/// Creates the state directory (0700) if needed.
fn ensure_dir(paths: &Paths) -> Result<(), Error> {
    let dir = paths.state_dir();
    fs::create_dir_all(&dir).map_err(|e| io_err("create", &dir, e))?;
    fs::set_permissions(&dir, Permissions::from_mode(0o700)).map_err(|e| io_err("protect", &dir, e))
}

/// Runs `change` on the state under the lock; the state is written back
/// (atomically) only if `change` succeeds and changed it.
pub fn update<T, E: From<Error>>(paths: &Paths, change: impl FnOnce(&mut State) -> Result<T, E>) -> Result<T, E> {
    ensure_dir(paths)?;
    let lock_path = paths.state_lock();
    let lock_file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC)
        .open(&lock_path)
        .map_err(|e| io_err("open", &lock_path, e))?;
    let _lock = Flock::lock(lock_file, FlockArg::LockExclusive)
        .map_err(|(_, e)| Error(format!("cannot lock {}: {e}", lock_path.display())))?;
    let before = read(paths)?;
    let mut state = before.clone();
    let out = change(&mut state)?;
    if state != before {
        write(paths, &state)?;
    }
    Ok(out)
}

/// `snap:plug`.
pub fn plug_ref(snap: &str, plug: &str) -> String {
    format!("{snap}:{plug}")
}

impl State {
    /// The connections of one snap's plugs: `(plug, connection)`.
    pub fn connections_of(&self, snap: &str) -> Vec<(String, &Connection)> {
        let prefix = format!("{snap}:");
        self.connections
            .iter()
            .filter_map(|(k, c)| k.strip_prefix(&prefix).map(|p| (p.to_owned(), c)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn round_trip_and_modes() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path());
        assert_eq!(read(&paths).unwrap().version, VERSION);
        update(&paths, |s: &mut State| -> Result<(), Error> {
            s.connections.insert(
                plug_ref("a", "p"),
                Connection {
                    interface: "home".into(),
                    slot: "system:home".into(),
                    auto: true,
                },
            );
            Ok(())
        })
        .unwrap();
        let s = read(&paths).unwrap();
        assert_eq!(s.connections_of("a").len(), 1);
        assert!(s.connections_of("ab").is_empty());
        assert_eq!(fs::metadata(paths.state_file()).unwrap().mode() & 0o7777, 0o600);
        assert_eq!(fs::metadata(paths.state_dir()).unwrap().mode() & 0o7777, 0o700);
    }

    #[test]
    fn failed_changes_are_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path());
        let r = update(&paths, |s: &mut State| -> Result<(), Error> {
            s.undesired.insert("a:b".into());
            Err(Error("cannot do it".into()))
        });
        assert!(r.is_err());
        assert!(!paths.state_file().exists());
    }

    #[test]
    fn bad_files_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path());
        fs::create_dir_all(paths.state_dir()).unwrap();
        fs::write(paths.state_file(), "{").unwrap();
        assert!(read(&paths).unwrap_err().0.starts_with("cannot parse "));
        fs::write(paths.state_file(), r#"{"version": 9}"#).unwrap();
        assert!(read(&paths).unwrap_err().0.contains("format version 9 is not 1"));
        fs::write(paths.state_file(), r#"{"version": 1, "extra": 1}"#).unwrap();
        assert!(read(&paths).is_err());
    }
}

//! What the explanations look up on the system: the interfaces, the
//! registered snaps and their connections (when the state is readable),
//! and the AppArmor profile files of programs that are not snaps.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::interfaces::{catalog, Catalog};
use crate::paths::Paths;
use crate::snapyaml;
use crate::state::{self, State};

use super::subject::Subject;

/// Where an interface stands for one snap's app or hook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PlugStatus {
    Connected {
        plug: String,
    },
    NotConnected {
        plug: String,
    },
    /// The admin disconnected it after it was connected automatically.
    DisconnectedByAdmin {
        plug: String,
    },
    /// The snap has a plug of the interface, but not for this app or hook.
    NotBound {
        plug: String,
    },
    /// The snap has no plug of the interface.
    NotDeclared,
    /// The snap is not registered here.
    NotRegistered,
    /// The state could not be read; why.
    Unknown {
        reason: String,
    },
}

/// Everything the explanations consult.
pub struct Context {
    pub catalog: &'static Catalog,
    state: Result<State, String>,
    apparmor_dir: PathBuf,
}

impl Context {
    /// The system's view, under `paths` (CONFINE_ROOT moves it). A state
    /// that cannot be read is not an error: connections are then unknown.
    pub fn new(paths: &Paths) -> Result<Context, String> {
        let catalog = catalog().map_err(|e| e.0)?;
        let state = match state::read(paths) {
            Ok(s) => Ok(s),
            Err(e) => Err(match fs::metadata(paths.state_file()) {
                Err(m) if m.kind() == io::ErrorKind::PermissionDenied => {
                    "the list of connections is readable by root only: run with sudo to see it".to_owned()
                }
                _ => e.0,
            }),
        };
        Ok(Context {
            catalog,
            state,
            apparmor_dir: paths.under("/etc/apparmor.d"),
        })
    }

    /// A context with a given state (for tests).
    pub fn with_state(state: Result<State, String>, apparmor_dir: &Path) -> Result<Context, String> {
        Ok(Context {
            catalog: catalog().map_err(|e| e.0)?,
            state,
            apparmor_dir: apparmor_dir.to_owned(),
        })
    }

    /// Whether the plug of `interface` of a snap's app or hook is connected.
    pub fn plug_status(&self, who: &Subject, interface: &str) -> PlugStatus {
        let state = match &self.state {
            Ok(s) => s,
            Err(reason) => return PlugStatus::Unknown { reason: reason.clone() },
        };
        let Some(instance) = who.snap() else {
            return PlugStatus::NotRegistered;
        };
        let Some(info) = state.snaps.get(instance) else {
            return PlugStatus::NotRegistered;
        };
        let yaml = match snapyaml::parse_with_hooks(&info.snap_yaml, &info.implicit_hooks) {
            Ok(y) => y,
            Err(e) => {
                return PlugStatus::Unknown {
                    reason: format!("cannot read the registered snap.yaml of {instance}: {e}"),
                }
            }
        };
        let bound = match who {
            Subject::App { app, .. } => yaml.plugs_of(app, false),
            Subject::Hook { hook, .. } => yaml.plugs_of(hook, true),
            _ => Vec::new(),
        };
        let key = |plug: &str| state::plug_ref(instance, plug);
        if let Some(p) = bound.iter().find(|p| p.interface == interface) {
            let plug = key(&p.name);
            return if state.connections.contains_key(&plug) {
                PlugStatus::Connected { plug }
            } else if state.undesired.contains(&plug) {
                PlugStatus::DisconnectedByAdmin { plug }
            } else {
                PlugStatus::NotConnected { plug }
            };
        }
        match yaml.plugs.values().find(|p| p.interface == interface) {
            Some(p) => PlugStatus::NotBound { plug: key(&p.name) },
            None => PlugStatus::NotDeclared,
        }
    }

    /// The file in /etc/apparmor.d that defines `profile`, and the local
    /// include it names, when one is found.
    pub fn profile_file(&self, profile: &str) -> Option<ProfileFile> {
        let mut entries: Vec<PathBuf> = fs::read_dir(&self.apparmor_dir)
            .ok()?
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| !n.starts_with('.') && !n.ends_with('~') && !n.ends_with(".dpkg-old"))
            })
            .collect();
        entries.sort();
        for path in entries {
            let Some(text) = read_small(&path) else { continue };
            if defines(&text, profile) {
                let local = local_include(&text).map(|l| self.apparmor_dir.join(l));
                return Some(ProfileFile { path, local });
            }
        }
        None
    }

    /// `/etc/apparmor.d` (under the root).
    pub fn apparmor_dir(&self) -> &Path {
        &self.apparmor_dir
    }
}

/// A profile's source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileFile {
    pub path: PathBuf,
    /// The local include it names (`include if exists <local/...>`).
    pub local: Option<PathBuf>,
}

fn read_small(path: &Path) -> Option<String> {
    let mut text = String::new();
    fs::File::open(path)
        .ok()?
        .take(1 << 20)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

/// Whether a profile file defines a profile named `profile` (`profile NAME
/// ... {`, or a profile named by its attachment path, `/usr/bin/x ... {`).
fn defines(text: &str, profile: &str) -> bool {
    let quoted = format!("\"{profile}\"");
    text.lines().any(|line| {
        let line = line.trim();
        if line.starts_with('#') {
            return false;
        }
        let line = line.strip_prefix("profile ").map(str::trim_start).unwrap_or(line);
        let (name, rest) = if line.starts_with('"') {
            match line.get(1..).and_then(|l| l.find('"')) {
                Some(end) => line.split_at(end + 2),
                None => return false,
            }
        } else {
            let end = line.find(char::is_whitespace).unwrap_or(line.len());
            line.split_at(end)
        };
        (name == profile || name == quoted)
            && (rest.contains('{') || rest.trim().is_empty() || rest.trim_start().starts_with("flags="))
    })
}

/// The `local/...` file a profile file includes.
fn local_include(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let l = line.trim();
        let l = l
            .strip_prefix("#include")
            .or_else(|| l.strip_prefix("include if exists"))
            .or_else(|| l.strip_prefix("include"))?
            .trim();
        let inner = l.strip_prefix('<')?.strip_suffix('>')?;
        inner.starts_with("local/").then(|| inner.to_owned())
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn profile_files() {
        let text = "abi <abi/3.0>,\ninclude <tunables/global>\n\
                    profile \"/usr/lib/firefox/firefox{,*[^s][^h]}\" flags=(complain) {\n  \
                    include if exists <local/usr.bin.firefox>\n}\n";
        assert!(defines(text, "/usr/lib/firefox/firefox{,*[^s][^h]}"));
        assert!(!defines(text, "/usr/lib/firefox/firefox"));
        assert_eq!(local_include(text).unwrap(), "local/usr.bin.firefox");
        assert!(defines("/usr/bin/man {\n", "/usr/bin/man"));
        assert!(defines("profile foo /usr/bin/foo {\n", "foo"));
        assert!(!defines("# profile foo {\n", "foo"));
        assert_eq!(
            local_include("  #include <local/usr.bin.man>\n").unwrap(),
            "local/usr.bin.man"
        );
    }
}

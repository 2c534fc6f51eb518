//! Registering a snap that is already on disk, and forgetting it.

use std::path::Path;

use naming::InstanceName;

use super::{read_snap_dir, Admin, Error, SYSTEM};
use crate::deploy::{self, Report};
use crate::interfaces::{AutoConnect, Catalog};
use crate::snapyaml::SnapYaml;
use crate::state::{plug_ref, Connection, SnapState, State};

/// What registering did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub instance: String,
    pub revision: String,
    /// Plugs connected automatically now.
    pub auto_connected: Vec<String>,
    /// Plugs whose interface this tool does not know.
    pub unknown_interfaces: Vec<String>,
    /// Connections dropped because the plug is gone or changed interface.
    pub dropped: Vec<String>,
    /// What was ignored in its snap.yaml (unknown keys).
    pub warnings: Vec<String>,
    pub report: Report,
}

/// Checks a revision: `N` (store) or `xN` (local), N a positive number.
pub fn validate_revision(rev: &str) -> Result<(), Error> {
    let digits = rev.strip_prefix('x').unwrap_or(rev);
    let ok = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
        && digits.len() <= 9;
    if ok {
        Ok(())
    } else {
        Err(Error(format!(
            "cannot use revision {rev:?}: it must be a positive number, or x and a positive number for local snaps"
        )))
    }
}

/// The plugs that connect automatically, as `(plug, interface)`.
fn auto_connections(yaml: &SnapYaml, cat: &Catalog, classic_system: bool) -> Vec<(String, String)> {
    yaml.plugs
        .values()
        .filter_map(|p| {
            let iface = cat.get(&p.interface)?;
            let auto = match iface.auto_connect {
                AutoConnect::Always => true,
                AutoConnect::OnClassic => classic_system,
                AutoConnect::Never => false,
            };
            // A plug asking for more than the default (home with read: all)
            // needs the admin.
            let plain = p.attrs.is_empty();
            (auto && plain && !iface.needs_slot_attributes()).then(|| (p.name.clone(), p.interface.clone()))
        })
        .collect()
}

impl Admin {
    /// Records the snap in `dir` (its `meta/snap.yaml`) as revision
    /// `revision` of instance `name` (default: the snap's name), connects
    /// what connects automatically, and generates and loads its policy.
    /// Registering again (a new revision, say) keeps the connections whose
    /// plugs still exist.
    pub fn register(&self, dir: &Path, revision: &str, name: Option<&str>) -> Result<Registered, Error> {
        validate_revision(revision)?;
        let (text, yaml, implicit_hooks) = read_snap_dir(dir)?;
        super::content::validate_ports(&yaml, crate::interfaces::catalog()?)?;
        let instance_text = name.unwrap_or(&yaml.name);
        let instance = InstanceName::parse(instance_text)
            .map_err(|e| Error(format!("cannot use instance name {instance_text:?}: {e}")))?;
        if instance.snap_name() != yaml.name {
            return Err(Error(format!(
                "cannot register {} as {instance}: the instance name must be the snap's name ({}) with an optional _key",
                dir.display(),
                yaml.name
            )));
        }
        let dir_text = dir
            .canonicalize()
            .map_err(|e| Error(format!("cannot find {}: {e}", dir.display())))?
            .to_string_lossy()
            .into_owned();
        let classic = self.is_classic_system();
        let inst = instance.as_str().to_owned();
        self.change(&format!("register {inst}"), |state, cat| {
            state.snaps.insert(
                inst.clone(),
                SnapState {
                    revision: revision.to_owned(),
                    snap_dir: dir_text.clone(),
                    snap_yaml: text.clone(),
                    implicit_hooks: implicit_hooks.clone(),
                },
            );
            let dropped = drop_stale_connections(state, &inst, &yaml);
            let mut auto_connected = Vec::new();
            for (plug, interface) in auto_connections(&yaml, cat, classic) {
                let key = plug_ref(&inst, &plug);
                if state.connections.contains_key(&key) || state.undesired.contains(&key) {
                    continue;
                }
                state.connections.insert(
                    key,
                    Connection {
                        slot: format!("{SYSTEM}:{interface}"),
                        interface,
                        auto: true,
                    },
                );
                auto_connected.push(plug);
            }
            // Content plugs whose default provider is here now, either way.
            let mut others = std::collections::BTreeSet::new();
            for (key, slot) in super::content::auto_connections(state, &inst) {
                let (snap, plug) = key.split_once(':').map(|(a, b)| (a.to_owned(), b.to_owned())).unwrap_or_default();
                state.connections.insert(key, Connection { interface: "content".into(), slot: slot.clone(), auto: true });
                if snap == inst {
                    auto_connected.push(plug);
                    if let Some((provider, _)) = super::slots::snap_slot(&slot) {
                        others.insert(provider);
                    }
                } else {
                    others.insert(snap);
                }
            }
            // Snaps connected to its slots see its new revision's files.
            for (key, conn) in &state.connections {
                if super::slots::snap_slot(&conn.slot).is_some_and(|(s, _)| s == inst) {
                    if let Some((snap, _)) = key.split_once(':') {
                        others.insert(snap.to_owned());
                    }
                }
            }
            others.remove(&inst);
            let unknown_interfaces = yaml
                .plugs
                .values()
                .filter(|p| cat.get(&p.interface).is_none())
                .map(|p| format!("{} ({})", p.name, p.interface))
                .collect();
            let mut report = self.deploy(state, &inst, true)?;
            for other in &others {
                let r = self.deploy(state, other, false)?;
                report.warnings.extend(r.warnings);
            }
            Ok(Registered {
                instance: inst.clone(),
                revision: revision.to_owned(),
                auto_connected,
                unknown_interfaces,
                dropped,
                warnings: yaml.warnings.clone(),
                report,
            })
        })
    }

    /// Forgets a snap: its connections, and every policy file written for
    /// it (its profiles are unloaded).
    pub fn unregister(&self, instance: &str) -> Result<Report, Error> {
        self.change(&format!("unregister {instance}"), |state, _| {
            if state.snaps.remove(instance).is_none() {
                return Err(Error(format!("cannot unregister {instance}: it is not registered")));
            }
            let prefix = format!("{instance}:");
            // Snaps plugged into its slots lose those connections.
            let consumers: std::collections::BTreeSet<String> = state
                .connections
                .iter()
                .filter(|(k, c)| !k.starts_with(&prefix) && super::slots::snap_slot(&c.slot).is_some_and(|(s, _)| s == instance))
                .filter_map(|(k, _)| k.split_once(':').map(|(s, _)| s.to_owned()))
                .collect();
            state.connections.retain(|k, c| !k.starts_with(&prefix) && super::slots::snap_slot(&c.slot).is_none_or(|(s, _)| s != instance));
            state.undesired.retain(|k| !k.starts_with(&prefix));
            let mut report = deploy::apply(&self.paths, &self.parser, instance, None, false)?;
            for c in &consumers {
                report.warnings.extend(self.deploy(state, c, false)?.warnings);
            }
            Ok(report)
        })
    }
}

impl Admin {
    /// Takes away every policy of `instance`, which must not be registered
    /// (see [`deploy::remove_everything_of`]).
    pub fn remove_everything_of(&self, instance: &str) -> Result<Report, Error> {
        if crate::state::read(&self.paths)?.snaps.contains_key(instance) {
            return Err(Error(format!("cannot remove the policy of {instance}: it is registered")));
        }
        Ok(deploy::remove_everything_of(&self.paths, &self.parser, instance)?)
    }
}

/// Drops the connections of plugs that are gone or have another interface
/// now; returns them.
fn drop_stale_connections(state: &mut State, instance: &str, yaml: &SnapYaml) -> Vec<String> {
    let prefix = format!("{instance}:");
    let stale: Vec<String> = state
        .connections
        .iter()
        .filter_map(|(key, conn)| {
            let plug = key.strip_prefix(&prefix)?;
            let still = yaml.plugs.get(plug).is_some_and(|p| p.interface == conn.interface);
            (!still).then(|| key.clone())
        })
        .collect();
    for key in &stale {
        state.connections.remove(key);
    }
    stale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions() {
        for good in ["1", "42", "x1", "x12"] {
            assert!(validate_revision(good).is_ok(), "{good}");
        }
        for bad in ["", "0", "x", "x0", "01", "-1", "1.5", "y1", "1234567890"] {
            assert!(validate_revision(bad).is_err(), "{bad}");
        }
    }
}

//! What `connections` and `interfaces` show.

use super::{parse_registered, Admin, Error};
use crate::interfaces::catalog;
use crate::state;

/// One plug and what it is connected to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRow {
    pub interface: String,
    /// `snap:plug`.
    pub plug: String,
    /// `system:slot`, or `-` when not connected.
    pub slot: String,
    /// `auto`, `manual`, `disconnected by the admin`, `unsupported
    /// interface`, or empty.
    pub notes: String,
}

/// One interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceRow {
    pub name: String,
    pub auto_connect: String,
    pub summary: String,
    /// The slots the admin created for it.
    pub slots: Vec<String>,
}

impl Admin {
    /// Every plug of the registered snaps (or of one), connected or not.
    pub fn connections(&self, snap: Option<&str>) -> Result<Vec<ConnectionRow>, Error> {
        let state = state::read(&self.paths)?;
        let cat = catalog()?;
        if let Some(s) = snap {
            if !state.snaps.contains_key(s) {
                return Err(Error(format!("cannot find snap {s:?}: it is not registered")));
            }
        }
        let mut rows = Vec::new();
        for (instance, info) in &state.snaps {
            if snap.is_some_and(|s| s != instance) {
                continue;
            }
            let yaml = parse_registered(info)?;
            for plug in yaml.plugs.values() {
                let key = state::plug_ref(instance, &plug.name);
                let row = match state.connections.get(&key) {
                    Some(c) => ConnectionRow {
                        interface: c.interface.clone(),
                        plug: key,
                        slot: c.slot.clone(),
                        notes: if c.auto { "auto" } else { "manual" }.to_owned(),
                    },
                    None => ConnectionRow {
                        interface: plug.interface.clone(),
                        slot: "-".to_owned(),
                        notes: if cat.get(&plug.interface).is_none() {
                            "unsupported interface".to_owned()
                        } else if state.undesired.contains(&key) {
                            "disconnected by the admin".to_owned()
                        } else {
                            String::new()
                        },
                        plug: key,
                    },
                };
                rows.push(row);
            }
        }
        rows.sort_by(|a, b| (&a.interface, &a.plug).cmp(&(&b.interface, &b.plug)));
        Ok(rows)
    }

    /// Every interface, with the slots the admin created.
    pub fn interfaces(&self) -> Result<Vec<InterfaceRow>, Error> {
        let state = state::read(&self.paths).unwrap_or_default();
        Ok(catalog()?
            .all()
            .iter()
            .map(|i| InterfaceRow {
                name: i.name.clone(),
                auto_connect: i.auto_connect.as_str().to_owned(),
                summary: i.summary.clone(),
                slots: state
                    .slots
                    .iter()
                    .filter(|(_, s)| s.interface == i.name)
                    .map(|(n, s)| {
                        let attrs: Vec<String> = s.attrs.iter().map(|(k, v)| format!("{k}={}", attr_text(v))).collect();
                        format!(":{n} ({})", attrs.join(" "))
                    })
                    .collect(),
            })
            .collect())
    }
}

fn attr_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items.iter().map(attr_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

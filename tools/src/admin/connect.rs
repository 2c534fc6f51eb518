//! Connecting and disconnecting plugs.

use super::{slots, Admin, Error, SYSTEM};
use crate::deploy::Report;
use crate::interfaces::Catalog;
use crate::state::{plug_ref, Connection, State};

/// `snap:plug`, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlugRef {
    pub snap: String,
    pub plug: String,
}

/// Parses `SNAP:PLUG`.
pub fn parse_plug_ref(text: &str) -> Result<PlugRef, Error> {
    match text.split_once(':') {
        Some((snap, plug)) if !snap.is_empty() && !plug.is_empty() && !plug.contains(':') => Ok(PlugRef {
            snap: snap.to_owned(),
            plug: plug.to_owned(),
        }),
        _ => Err(Error(format!("cannot use {text:?}: expected SNAP:PLUG"))),
    }
}

/// The slot name of a slot argument: `system:NAME`, `:NAME` or `NAME`.
fn parse_slot(text: &str) -> Result<String, Error> {
    let name = match text.split_once(':') {
        Some(("" | SYSTEM, name)) => name,
        Some((snap, _)) => {
            return Err(Error(format!(
                "cannot use slot {text:?}: only system slots can be connected to, not slots of snap {snap:?}"
            )))
        }
        None => text,
    };
    if name.is_empty() {
        return Err(Error(format!("cannot use slot {text:?}: no slot name")));
    }
    Ok(name.to_owned())
}

/// The interface of a plug of a registered snap.
fn plug_interface(state: &State, cat: &Catalog, p: &PlugRef) -> Result<String, Error> {
    let snap = state
        .snaps
        .get(&p.snap)
        .ok_or_else(|| Error(format!("cannot find snap {:?}: it is not registered", p.snap)))?;
    let yaml = super::parse_registered(snap)?;
    let plug = yaml
        .plugs
        .get(&p.plug)
        .ok_or_else(|| Error(format!("cannot find plug {:?} of snap {}", p.plug, p.snap)))?;
    if cat.get(&plug.interface).is_none() {
        return Err(Error(format!(
            "cannot connect {}:{}: interface {} is not supported",
            p.snap, p.plug, plug.interface
        )));
    }
    Ok(plug.interface.clone())
}

impl Admin {
    /// Connects a plug to a system slot (by default the one its interface
    /// has, or the only slot the admin created for it), and puts the snap's
    /// new policy in force. Returns `None` when it was already connected.
    pub fn connect(&self, p: &PlugRef, slot: Option<&str>) -> Result<Option<Report>, Error> {
        let what = format!("connect {}:{}", p.snap, p.plug);
        let slot_name = slot.map(parse_slot).transpose()?;
        self.change(&what, |state, cat| {
            let interface = plug_interface(state, cat, p)?;
            let name = match slot_name {
                Some(n) => n,
                None => {
                    slots::default_slot(state, cat, &interface).map_err(|e| Error(format!("cannot {what}: {e}")))?
                }
            };
            slots::check_slot(state, cat, &name, &interface).map_err(|e| Error(format!("cannot {what}: {e}")))?;
            let key = plug_ref(&p.snap, &p.plug);
            let slot_ref = format!("{SYSTEM}:{name}");
            if let Some(existing) = state.connections.get(&key) {
                if existing.slot == slot_ref {
                    return Ok(None);
                }
                return Err(Error(format!(
                    "cannot {what}: it is connected to {}; disconnect it first",
                    existing.slot
                )));
            }
            state.connections.insert(
                key.clone(),
                Connection {
                    interface,
                    slot: slot_ref,
                    auto: false,
                },
            );
            state.undesired.remove(&key);
            self.deploy(state, &p.snap, false).map(Some)
        })
    }

    /// Disconnects a plug and puts the snap's new policy in force. A plug
    /// that was connected automatically stays disconnected when the snap is
    /// registered again.
    pub fn disconnect(&self, p: &PlugRef) -> Result<Report, Error> {
        let what = format!("disconnect {}:{}", p.snap, p.plug);
        self.change(&what, |state, _| {
            if !state.snaps.contains_key(&p.snap) {
                return Err(Error(format!("cannot find snap {:?}: it is not registered", p.snap)));
            }
            let key = plug_ref(&p.snap, &p.plug);
            let Some(conn) = state.connections.remove(&key) else {
                return Err(Error(format!("cannot {what}: it is not connected")));
            };
            if conn.auto {
                state.undesired.insert(key);
            }
            self.deploy(state, &p.snap, false)
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn references() {
        assert_eq!(
            parse_plug_ref("a:b"),
            Ok(PlugRef {
                snap: "a".into(),
                plug: "b".into()
            })
        );
        for bad in ["a", ":b", "a:", "a:b:c"] {
            assert!(parse_plug_ref(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_slot("system:tty").unwrap(), "tty");
        assert_eq!(parse_slot(":tty").unwrap(), "tty");
        assert_eq!(parse_slot("tty").unwrap(), "tty");
        assert!(parse_slot("other:tty").unwrap_err().0.contains("only system slots"));
        assert!(parse_slot(":").is_err());
    }
}

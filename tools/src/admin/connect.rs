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

/// A slot argument: a system slot (`system:NAME`, `:NAME` or `NAME`), or
/// a snap's (`SNAP:SLOT`, or `SNAP:` for its only slot that fits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotArg {
    System(String),
    Snap { snap: String, slot: Option<String> },
}

fn parse_slot(text: &str) -> Result<SlotArg, Error> {
    let arg = match text.split_once(':') {
        Some(("" | SYSTEM, name)) => SlotArg::System(name.to_owned()),
        Some((snap, slot)) => SlotArg::Snap { snap: snap.to_owned(), slot: (!slot.is_empty()).then(|| slot.to_owned()) },
        None => SlotArg::System(text.to_owned()),
    };
    if arg == SlotArg::System(String::new()) {
        return Err(Error(format!("cannot use slot {text:?}: no slot name")));
    }
    Ok(arg)
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
    /// Connects a plug to a slot: a system slot (by default the one its
    /// interface has, or the only slot the admin created for it), or for
    /// content another snap's slot (by default the plug's default provider's
    /// or the only one with its content tag); then puts the new policy of
    /// both snaps in force. Returns `None` when it was already connected.
    pub fn connect(&self, p: &PlugRef, slot: Option<&str>) -> Result<Option<Report>, Error> {
        let what = format!("connect {}:{}", p.snap, p.plug);
        let slot_arg = slot.map(parse_slot).transpose()?;
        self.change(&what, |state, cat| {
            let interface = plug_interface(state, cat, p)?;
            let on_snap = cat.get(&interface).and_then(|i| i.computed).is_some_and(|c| c.slot_on_snap());
            let slot_ref = match (slot_arg, on_snap) {
                (Some(SlotArg::System(_)), true) => {
                    return Err(Error(format!("cannot {what}: interface {interface} connects to a snap's slot (SNAP:SLOT)")))
                }
                (Some(SlotArg::Snap { snap, .. }), false) => {
                    return Err(Error(format!("cannot {what}: interface {interface} connects to system slots, not slots of snap {snap:?}")))
                }
                (Some(SlotArg::Snap { snap, slot }), true) => {
                    super::content::pick_slot(state, p, Some(&snap), slot.as_deref()).map_err(|e| Error(format!("cannot {what}: {e}")))?
                }
                (None, true) => super::content::pick_slot(state, p, None, None).map_err(|e| Error(format!("cannot {what}: {e}")))?,
                (slot, false) => {
                    let name = match slot {
                        Some(SlotArg::System(n)) => n,
                        _ => slots::default_slot(state, cat, &interface).map_err(|e| Error(format!("cannot {what}: {e}")))?,
                    };
                    slots::check_slot(state, cat, &name, &interface).map_err(|e| Error(format!("cannot {what}: {e}")))?;
                    format!("{SYSTEM}:{name}")
                }
            };
            let key = plug_ref(&p.snap, &p.plug);
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
                    slot: slot_ref.clone(),
                    auto: false,
                },
            );
            state.undesired.remove(&key);
            let report = self.deploy(state, &p.snap, false)?;
            self.deploy_slot_snap(state, &slot_ref)?;
            Ok(Some(report))
        })
    }

    /// Regenerates the policy of the snap whose slot `slot_ref` is, if it
    /// is a snap's (its apps may get rules for what it shares).
    pub(super) fn deploy_slot_snap(&self, state: &State, slot_ref: &str) -> Result<(), Error> {
        if let Some((snap, _)) = slots::snap_slot(slot_ref) {
            if state.snaps.contains_key(&snap) {
                self.deploy(state, &snap, false)?;
            }
        }
        Ok(())
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
            let report = self.deploy(state, &p.snap, false)?;
            self.deploy_slot_snap(state, &conn.slot)?;
            Ok(report)
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
        assert_eq!(parse_slot("system:tty").unwrap(), SlotArg::System("tty".into()));
        assert_eq!(parse_slot(":tty").unwrap(), SlotArg::System("tty".into()));
        assert_eq!(parse_slot("tty").unwrap(), SlotArg::System("tty".into()));
        assert_eq!(parse_slot("other:tty").unwrap(), SlotArg::Snap { snap: "other".into(), slot: Some("tty".into()) });
        assert_eq!(parse_slot("other:").unwrap(), SlotArg::Snap { snap: "other".into(), slot: None });
        assert!(parse_slot(":").is_err());
    }
}

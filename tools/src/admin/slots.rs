//! System slots: the implicit one of each interface without attributes
//! (named after the interface), and those the admin creates to assign
//! devices (`add-slot NAME serial-port path=/dev/ttyUSB0`).

use serde_json::Value;

use super::{Admin, Error, SYSTEM};
use crate::deploy::Report;
use crate::interfaces::{Catalog, SlotAttrs};
use crate::snapyaml::names;
use crate::state::{SlotState, State};

/// The snap and slot of a connection's slot when it is a snap's
/// (`SNAP:SLOT`), not the system's.
pub fn snap_slot(slot_ref: &str) -> Option<(String, String)> {
    match slot_ref.split_once(':') {
        Some((snap, slot)) if snap != SYSTEM && !snap.is_empty() => Some((snap.to_owned(), slot.to_owned())),
        _ => None,
    }
}

/// The attributes of a connection's slot (`system:NAME`; none for a snap's).
pub fn slot_attrs(state: &State, slot_ref: &str) -> Result<SlotAttrs, Error> {
    let name = slot_ref.strip_prefix(&format!("{SYSTEM}:")).unwrap_or(slot_ref);
    Ok(state.slots.get(name).map(|s| s.attrs.clone()).unwrap_or_default())
}

/// The slot a plug of `interface` connects to when none is named.
pub fn default_slot(state: &State, cat: &Catalog, interface: &str) -> Result<String, String> {
    let iface = cat
        .get(interface)
        .ok_or_else(|| format!("interface {interface} is not supported"))?;
    if !iface.needs_slot_attributes() {
        return Ok(interface.to_owned());
    }
    let candidates: Vec<&String> = state
        .slots
        .iter()
        .filter(|(_, s)| s.interface == interface)
        .map(|(n, _)| n)
        .collect();
    match candidates.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(format!(
            "no {interface} slot exists: create one with \"confine add-slot NAME {interface} ATTR=VALUE\""
        )),
        many => Err(format!(
            "several {interface} slots exist, name one of: {}",
            many.iter().map(|n| format!(":{n}")).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// Checks that slot `name` exists and is of `interface`.
pub fn check_slot(state: &State, cat: &Catalog, name: &str, interface: &str) -> Result<(), String> {
    if let Some(s) = state.slots.get(name) {
        if s.interface != interface {
            return Err(format!("slot :{name} is of interface {}, not {interface}", s.interface));
        }
        return Ok(());
    }
    match cat.get(name) {
        Some(i) if i.name == interface && !i.needs_slot_attributes() => Ok(()),
        Some(i) if i.name == interface => Err(format!(
            "interface {interface} has no implicit slot: name a slot the admin created"
        )),
        Some(_) => Err(format!("slot :{name} is of interface {name}, not {interface}")),
        None => Err(format!("there is no slot :{name}")),
    }
}

/// Parses `KEY=VALUE` attributes; attributes the interface takes as lists
/// are comma-separated.
pub fn parse_attrs(cat: &Catalog, interface: &str, args: &[String]) -> Result<SlotAttrs, Error> {
    let iface = cat
        .get(interface)
        .ok_or_else(|| Error(format!("cannot find interface {interface:?}")))?;
    let mut attrs = SlotAttrs::new();
    for arg in args {
        let Some((key, value)) = arg.split_once('=') else {
            return Err(Error(format!("cannot use {arg:?}: expected ATTR=VALUE")));
        };
        let list = iface.slot_attributes.iter().any(|a| a.name == key && a.list);
        let v = if list {
            Value::Array(value.split(',').map(|s| Value::String(s.to_owned())).collect())
        } else {
            Value::String(value.to_owned())
        };
        if attrs.insert(key.to_owned(), v).is_some() {
            return Err(Error(format!("cannot use attribute {key:?} twice")));
        }
    }
    Ok(attrs)
}

impl Admin {
    /// Creates a system slot of a device interface with its attributes.
    pub fn add_slot(&self, name: &str, interface: &str, attrs: SlotAttrs) -> Result<(), Error> {
        let what = format!("add slot {name}");
        self.change(&what, |state, cat| {
            if !names::valid_plug_name(name) {
                return Err(Error(format!("cannot {what}: {name:?} is not a valid slot name")));
            }
            if cat.get(name).is_some() {
                return Err(Error(format!(
                    "cannot {what}: the name belongs to the implicit slot of interface {name}"
                )));
            }
            let iface = cat
                .get(interface)
                .ok_or_else(|| Error(format!("cannot {what}: interface {interface:?} is not supported")))?;
            if !iface.needs_slot_attributes() {
                return Err(Error(format!(
                    "cannot {what}: interface {interface} takes no slot attributes; its slot :{interface} always exists"
                )));
            }
            iface
                .validate_slot_attrs(&attrs)
                .map_err(|e| Error(format!("cannot {what}: {e}")))?;
            if state.slots.contains_key(name) {
                return Err(Error(format!("cannot {what}: slot :{name} exists")));
            }
            state.slots.insert(
                name.to_owned(),
                SlotState {
                    interface: interface.to_owned(),
                    attrs,
                },
            );
            Ok(())
        })
    }

    /// Removes a slot the admin created; it must not be connected.
    pub fn remove_slot(&self, name: &str) -> Result<Vec<Report>, Error> {
        let what = format!("remove slot {name}");
        self.change(&what, |state, _| {
            if state.slots.remove(name).is_none() {
                return Err(Error(format!("cannot {what}: there is no such slot")));
            }
            let slot_ref = format!("{SYSTEM}:{name}");
            let users: Vec<&String> = state
                .connections
                .iter()
                .filter(|(_, c)| c.slot == slot_ref)
                .map(|(k, _)| k)
                .collect();
            if !users.is_empty() {
                let list: Vec<&str> = users.iter().map(|s| s.as_str()).collect();
                return Err(Error(format!("cannot {what}: {} connected to it", list.join(", "))));
            }
            Ok(Vec::new())
        })
    }
}

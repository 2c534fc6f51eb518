//! Content connections between snaps: which snap's slot a content plug goes
//! to, and the plugs that connect by themselves because they name an
//! installed default provider (`default-provider: platform`) whose slot has
//! the same content tag.

use serde_json::Value;

use super::connect::PlugRef;
use super::{parse_registered, Error};
use crate::interfaces::computed::{content_tag, Computed};
use crate::interfaces::Catalog;
use crate::snapyaml::SnapYaml;
use crate::state::{plug_ref, State};

/// The snap a plug names as its default provider (`snap` or `snap:slot`).
fn default_provider(attrs: &crate::snapyaml::Attrs) -> Option<&str> {
    let v = attrs.get("default-provider").and_then(Value::as_str)?;
    Some(v.split(':').next().unwrap_or(v)).filter(|s| !s.is_empty())
}

fn yaml_of(state: &State, snap: &str) -> Result<SnapYaml, String> {
    let s = state.snaps.get(snap).ok_or_else(|| format!("snap {snap:?} is not registered"))?;
    parse_registered(s).map_err(|e| e.0)
}

/// The content slots of `provider` that fit the plug's tag (and `name`).
fn fitting(yaml: &SnapYaml, tag: &str, name: Option<&str>) -> Vec<String> {
    yaml.slots
        .values()
        .filter(|s| s.interface == "content" && content_tag(&s.name, &s.attrs) == tag && name.is_none_or(|n| n == s.name))
        .map(|s| s.name.clone())
        .collect()
}

/// The slot (`snap:slot`) a content plug connects to: in `snap` when
/// given, else in its default provider when that is registered, else in
/// any registered snap; the only one with the plug's content tag.
pub fn pick_slot(state: &State, p: &PlugRef, snap: Option<&str>, slot: Option<&str>) -> Result<String, String> {
    let yaml = yaml_of(state, &p.snap)?;
    let plug = yaml.plugs.get(&p.plug).ok_or_else(|| format!("snap {} has no plug {:?}", p.snap, p.plug))?;
    let tag = content_tag(&plug.name, &plug.attrs);
    let candidates: Vec<String> = match (snap, default_provider(&plug.attrs)) {
        (Some(s), _) => vec![s.to_owned()],
        (None, Some(d)) if state.snaps.contains_key(d) => vec![d.to_owned()],
        _ => state.snaps.keys().filter(|s| **s != p.snap).cloned().collect(),
    };
    let mut found = Vec::new();
    for c in &candidates {
        let y = yaml_of(state, c)?;
        if let (Some(name), Some(_)) = (slot, snap) {
            match y.slots.get(name) {
                None => return Err(format!("snap {c} has no slot {name:?}")),
                Some(s) if s.interface != "content" => return Err(format!("slot {c}:{name} is of interface {}, not content", s.interface)),
                Some(s) if content_tag(&s.name, &s.attrs) != tag => {
                    return Err(format!("slot {c}:{name} shares content {:?}, the plug wants {tag:?}", content_tag(&s.name, &s.attrs)))
                }
                Some(_) => {}
            }
        }
        found.extend(fitting(&y, &tag, slot).into_iter().map(|s| format!("{c}:{s}")));
    }
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(format!("no registered snap has a content slot with content {tag:?}")),
        many => Err(format!("several content slots fit, name one of: {}", many.join(", "))),
    }
}

/// Checks the attributes of the snap's plugs and slots of computed
/// interfaces (a content plug without a target, say).
pub fn validate_ports(yaml: &SnapYaml, cat: &Catalog) -> Result<(), Error> {
    for p in yaml.plugs.values() {
        if let Some(c) = cat.get(&p.interface).and_then(|i| i.computed) {
            c.validate_plug(&p.name, &p.attrs).map_err(|e| Error(format!("cannot use snap {}: {}", yaml.name, e.0)))?;
        }
    }
    for s in yaml.slots.values() {
        if Computed::from_name(&s.interface) == Some(Computed::Content) {
            Computed::Content.validate_slot(&s.name, &s.attrs).map_err(|e| Error(format!("cannot use snap {}: {}", yaml.name, e.0)))?;
        }
    }
    Ok(())
}

/// Content plugs that connect now that `instance` is registered: its own
/// plugs whose default provider is registered, and other snaps' plugs that
/// name it; each as (plug key, slot reference). Plugs the admin
/// disconnected stay so.
pub fn auto_connections(state: &State, instance: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (snap, info) in &state.snaps {
        let Ok(yaml) = parse_registered(info) else { continue };
        for plug in yaml.plugs.values().filter(|p| p.interface == "content") {
            let key = plug_ref(snap, &plug.name);
            let Some(provider) = default_provider(&plug.attrs) else { continue };
            if (snap != instance && provider != instance) || state.connections.contains_key(&key) || state.undesired.contains(&key) {
                continue;
            }
            let Ok(p) = yaml_of(state, provider) else { continue };
            if let [slot] = fitting(&p, &content_tag(&plug.name, &plug.attrs), None).as_slice() {
                out.push((key, format!("{provider}:{slot}")));
            }
        }
    }
    out
}

//! Which apps and hooks each plug and slot belongs to.

use std::collections::BTreeMap;

use super::{App, Attrs, Hook, Port};

/// Binds plugs (or slots) to apps and hooks, as snapd does: a name used by
/// an app or hook but not declared at the top is declared with the
/// interface of the same name; a top-level one used by no app and no hook
/// is bound to all of them.
pub(super) fn bind(
    ports: &mut BTreeMap<String, Port>,
    apps: &BTreeMap<String, App>,
    hooks: &BTreeMap<String, Hook>,
    app_ports: impl Fn(&App) -> &Vec<String>,
    hook_ports: impl Fn(&Hook) -> &Vec<String>,
) {
    let mut referenced = std::collections::BTreeSet::new();
    for app in apps.values() {
        for name in app_ports(app) {
            referenced.insert(name.clone());
            let p = ports.entry(name.clone()).or_insert_with(|| implicit_port(name));
            if !p.apps.contains(&app.name) {
                p.apps.push(app.name.clone());
            }
        }
    }
    for hook in hooks.values() {
        for name in hook_ports(hook) {
            referenced.insert(name.clone());
            let p = ports.entry(name.clone()).or_insert_with(|| implicit_port(name));
            if !p.hooks.contains(&hook.name) {
                p.hooks.push(hook.name.clone());
            }
        }
    }
    for (name, p) in ports.iter_mut() {
        if !referenced.contains(name) {
            p.apps = apps.keys().cloned().collect();
            p.hooks = hooks.keys().cloned().collect();
        }
    }
}

fn implicit_port(name: &str) -> Port {
    Port {
        name: name.to_owned(),
        interface: name.to_owned(),
        label: None,
        attrs: Attrs::new(),
        apps: Vec::new(),
        hooks: Vec::new(),
    }
}


//! The pieces of snap.yaml: apps, hooks, plugs and slots, environments.

use yaml_rust2::Yaml;

use super::node::{child, get, Node};
use super::{Service, names, App, Attrs, Daemon, Error, Hook, Port};
use std::collections::BTreeMap;

/// The `environment:` map among `fields`; `field` is its dotted path.
pub(super) fn environment(fields: &[(String, &Yaml)], field: &str) -> Result<Vec<(String, String)>, Error> {
    let Some(v) = get(fields, "environment") else {
        return Ok(Vec::new());
    };
    let env = Node { path: field, value: v }.string_map()?;
    for (k, _) in &env {
        if !names::valid_env_name(k) {
            return Err(Error::field(
                &child(field, k),
                "is not a valid environment variable name",
            ));
        }
    }
    Ok(env)
}

/// The top-level `plugs:` or `slots:`.
pub(super) fn ports(fields: &[(String, &Yaml)], key: &str) -> Result<BTreeMap<String, Port>, Error> {
    let mut out = BTreeMap::new();
    let Some(v) = get(fields, key) else {
        return Ok(out);
    };
    for (name, value) in (Node { path: key, value: v }).entries()? {
        let path = child(key, &name);
        if !names::valid_plug_name(&name) {
            let what = if key == "plugs" { "plug" } else { "slot" };
            return Err(Error::field(&path, format!("{name:?} is not a valid {what} name")));
        }
        let port = port(&path, &name, value)?;
        out.insert(name, port);
    }
    Ok(out)
}

/// One plug or slot: null (interface = name), a string (the interface) or
/// a map of `interface`, `label` and attributes.
fn port(path: &str, name: &str, value: &Yaml) -> Result<Port, Error> {
    let node = Node { path, value };
    let mut p = Port {
        name: name.to_owned(),
        interface: name.to_owned(),
        label: None,
        attrs: Attrs::new(),
        apps: Vec::new(),
        hooks: Vec::new(),
    };
    match value {
        Yaml::Null => {}
        Yaml::String(s) => p.interface = s.clone(),
        Yaml::Hash(_) => {
            for (key, v) in node.entries()? {
                let field = child(path, &key);
                let n = Node { path: &field, value: v };
                match key.as_str() {
                    "interface" => p.interface = n.text()?,
                    "label" => p.label = Some(n.text()?),
                    k if k.starts_with('$') => return n.err("attribute names starting with \"$\" are reserved"),
                    _ => {
                        p.attrs.insert(key.clone(), n.json()?);
                    }
                }
            }
        }
        _ => return node.err("must be empty, an interface name or a map"),
    }
    if !names::valid_plug_name(&p.interface) {
        return Err(Error::field(
            &child(path, "interface"),
            format!("{:?} is not a valid interface name", p.interface),
        ));
    }
    Ok(p)
}

pub(super) fn app(path: &str, name: &str, value: &Yaml) -> Result<App, Error> {
    if !names::valid_app_name(name) {
        return Err(Error::field(path, format!("{name:?} is not a valid app name")));
    }
    let fields = Node { path, value }.entries()?;
    let text = |key: &str| -> Result<Option<String>, Error> {
        match get(&fields, key) {
            None | Some(Yaml::Null) => Ok(None),
            Some(v) => Node {
                path: &child(path, key),
                value: v,
            }
            .text()
            .map(Some),
        }
    };
    let command = text("command")?.ok_or_else(|| Error::field(&child(path, "command"), "missing"))?;
    for key in ["command", "stop-command", "reload-command", "post-stop-command"] {
        if let Some(c) = text(key)? {
            if c.trim().is_empty() || !names::valid_command(&c) {
                return Err(Error::field(
                    &child(path, key),
                    format!("{c:?} is not a valid command (letters, digits, spaces and \"/._#:$-\")"),
                ));
            }
        }
    }
    let daemon = match text("daemon")?.as_deref() {
        None => None,
        Some("simple") => Some(Daemon::Simple),
        Some("forking") => Some(Daemon::Forking),
        Some("oneshot") => Some(Daemon::Oneshot),
        Some("dbus") => Some(Daemon::Dbus),
        Some("notify") => Some(Daemon::Notify),
        Some(other) => {
            return Err(Error::field(
                &child(path, "daemon"),
                format!("unknown daemon type {other:?} (expected simple, forking, oneshot, dbus or notify)"),
            ))
        }
    };
    match text("daemon-scope")?.as_deref() {
        None => {}
        Some(_) if daemon.is_none() => {
            return Err(Error::field(&child(path, "daemon-scope"), "is only for daemons"));
        }
        Some("system" | "user") => {}
        Some(other) => {
            return Err(Error::field(
                &child(path, "daemon-scope"),
                format!("unknown daemon scope {other:?} (expected system or user)"),
            ))
        }
    }
    if daemon.is_none() {
        for key in [
            "stop-command",
            "reload-command",
            "post-stop-command",
            "restart-condition",
            "restart-delay",
            "stop-timeout",
            "start-timeout",
            "timer",
        ] {
            if get(&fields, key).is_some() {
                return Err(Error::field(&child(path, key), "is only for daemons"));
            }
        }
    }
    if let Some(rc) = text("restart-condition")? {
        const CONDITIONS: &[&str] = &[
            "no",
            "never",
            "on-success",
            "on-failure",
            "on-abnormal",
            "on-abort",
            "on-watchdog",
            "always",
        ];
        if !CONDITIONS.contains(&rc.as_str()) {
            return Err(Error::field(
                &child(path, "restart-condition"),
                format!("unknown restart condition {rc:?}"),
            ));
        }
    }
    let duration = |key: &str| -> Result<Option<std::time::Duration>, Error> {
        match text(key)? {
            None => Ok(None),
            Some(t) => parse_duration(&t).map(Some).ok_or_else(|| {
                Error::field(&child(path, key), format!("{t:?} is not a duration (such as 30s, 2m or 1m30s)"))
            }),
        }
    };
    let service = Service {
        stop_command: text("stop-command")?,
        reload_command: text("reload-command")?,
        post_stop_command: text("post-stop-command")?,
        restart_condition: text("restart-condition")?.map(|rc| if rc == "never" { "no".to_owned() } else { rc }),
        restart_delay: duration("restart-delay")?,
        stop_timeout: duration("stop-timeout")?,
        start_timeout: duration("start-timeout")?,
    };
    let completer = text("completer")?;
    if let Some(c) = &completer {
        if !names::valid_chain_entry(c) || c.starts_with('/') || c.split('/').any(|p| p == "..") {
            return Err(Error::field(&child(path, "completer"), format!("{c:?} is not a valid path in the snap (no spaces)")));
        }
    }
    Ok(App {
        name: name.to_owned(),
        command,
        command_chain: command_chain(path, &fields)?,
        completer,
        daemon,
        service,
        environment: environment(&fields, &child(path, "environment"))?,
        plugs: port_names(path, &fields, "plugs")?,
        slots: port_names(path, &fields, "slots")?,
    })
}

/// A duration such as `30s`, `2m`, `1m30s`, `500ms` or `1h` (as Go's
/// time.ParseDuration accepts for the units snaps use).
pub(super) fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let mut total = std::time::Duration::ZERO;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let (number, tail) = rest.split_at(digits);
        let n: u64 = number.parse().ok()?;
        let unit_len = tail.find(|c: char| c.is_ascii_digit()).unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let part = match unit {
            "ms" => std::time::Duration::from_millis(n),
            "s" => std::time::Duration::from_secs(n),
            "m" => std::time::Duration::from_secs(n.checked_mul(60)?),
            "h" => std::time::Duration::from_secs(n.checked_mul(3600)?),
            _ => return None,
        };
        total = total.checked_add(part)?;
        rest = tail;
    }
    Some(total)
}

pub(super) fn hook(path: &str, name: &str, value: &Yaml) -> Result<Hook, Error> {
    let fields = Node { path, value }.entries()?;
    Ok(Hook {
        name: name.to_owned(),
        command_chain: command_chain(path, &fields)?,
        environment: environment(&fields, &child(path, "environment"))?,
        plugs: port_names(path, &fields, "plugs")?,
        slots: port_names(path, &fields, "slots")?,
    })
}

fn command_chain(path: &str, fields: &[(String, &Yaml)]) -> Result<Vec<String>, Error> {
    let Some(v) = get(fields, "command-chain") else {
        return Ok(Vec::new());
    };
    let field = child(path, "command-chain");
    let chain = Node { path: &field, value: v }.strings()?;
    for (i, entry) in chain.iter().enumerate() {
        if !names::valid_chain_entry(entry) {
            return Err(Error::field(
                &format!("{field}[{i}]"),
                format!("{entry:?} is not a valid command chain entry (no spaces)"),
            ));
        }
    }
    Ok(chain)
}

fn port_names(path: &str, fields: &[(String, &Yaml)], key: &str) -> Result<Vec<String>, Error> {
    let Some(v) = get(fields, key) else {
        return Ok(Vec::new());
    };
    let field = child(path, key);
    let list = Node { path: &field, value: v }.strings()?;
    for (i, name) in list.iter().enumerate() {
        if !names::valid_plug_name(name) {
            return Err(Error::field(
                &format!("{field}[{i}]"),
                format!("{name:?} is not a valid name"),
            ));
        }
    }
    Ok(list)
}


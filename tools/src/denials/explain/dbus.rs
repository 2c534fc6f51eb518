//! D-Bus records: the bus, the peer and the member.

use crate::interfaces::apparmor_rules::{Kind as RuleKind, self};

use crate::denials::context::Context;
use crate::denials::record::AppArmorEvent;
use crate::denials::subject::Subject;

use super::common::{
    actor, interface_hints, local_include_advice, new, nothing_grants, refuser, snap_variables,
    stopped,
};
use super::literal;
use super::types::{Covering, Explanation};

/// The value of `key=` in a D-Bus rule's text (quotes removed).
fn dbus_attr(text: &str, key: &str) -> Option<String> {
    let at = text.find(&format!("{key}="))?;
    let before = text.get(..at)?.chars().last();
    if before.is_some_and(|c| !(c.is_whitespace() || c == '(' || c == ',')) {
        return None;
    }
    let rest = text.get(at + key.len() + 1..)?;
    if let Some(q) = rest.strip_prefix('"') {
        return Some(q.split('"').next()?.to_owned());
    }
    // Unquoted: up to a space, or a comma or parenthesis outside braces.
    let mut depth = 0usize;
    let mut value = String::new();
    for c in rest.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            c if c.is_whitespace() => break,
            ',' | ')' if depth == 0 => break,
            _ => {}
        }
        value.push(c);
    }
    Some(value)
}

/// The interfaces whose D-Bus rules cover a D-Bus record.
fn dbus_grants(ctx: &Context, e: &AppArmorEvent, who: &Subject) -> Vec<Covering> {
    let mut vars = apparmor_rules::default_variables();
    vars.extend(snap_variables(who));
    let mask = e.denied();
    let mut out = Vec::new();
    for iface in ctx.catalog.all() {
        for st in iface.apparmor_rules() {
            if st.kind != RuleKind::Dbus {
                continue;
            }
            let text = &st.text;
            let perms_ok = match (text.find('('), text.find(')')) {
                (Some(o), Some(c)) if o < c && text.get(..o).is_some_and(|h| h.trim() == "dbus") => text
                    .get(o + 1..c)
                    .is_some_and(|p| p.split([',', ' ']).any(|p| !p.is_empty() && mask.contains(p))),
                _ => true,
            };
            let matches = |key: &str, value: Option<&str>| match dbus_attr(text, key) {
                None => true,
                Some(glob) => {
                    value.is_some_and(|v| apparmor_rules::glob_regex(&glob, &vars).is_some_and(|re| re.is_match(v)))
                }
            };
            let hit = perms_ok
                && matches("bus", e.field("bus"))
                && matches("path", e.field("path"))
                && matches("interface", e.field("interface"))
                && matches("member", e.field("member"))
                && matches("label", e.peer());
            if hit {
                out.push(Covering { interface: iface.name.clone(), rule: text.clone(), deny: st.deny, owner_only: false });
            }
        }
    }
    out
}

pub(super) fn dbus(e: &AppArmorEvent, ctx: &Context, who: &Subject) -> Explanation {
    let mask = e.denied().to_owned();
    let bus = e.field("bus").unwrap_or("");
    let path = e.field("path");
    let interface = e.field("interface");
    let member = e.field("member");
    let name = e.field("name");
    let peer = e.peer().map(Subject::of);
    let what = if mask.contains("bind") {
        format!("owning the name {} on the {bus} bus", name.unwrap_or("?"))
    } else if mask.contains("eavesdrop") {
        format!("eavesdropping on the {bus} bus")
    } else {
        let call = match (interface, member) {
            (Some(i), Some(m)) => format!("{i}.{m}"),
            (None, Some(m)) => m.to_owned(),
            _ => "a method".to_owned(),
        };
        let dir = if mask.contains("receive") {
            "receiving"
        } else {
            "calling"
        };
        let mut w = format!("{dir} {call}");
        if let Some(p) = path {
            w.push_str(&format!(" on {p}"));
        }
        if let Some(n) = name {
            w.push_str(&format!(" of {n}"));
        }
        w.push_str(&format!(" (D-Bus, {bus} bus)"));
        w
    };
    let mut x = new(stopped(e, &actor(who), &what), "apparmor", who);
    x.other = peer.clone();
    let mut rule = format!("dbus ({mask})");
    if !bus.is_empty() {
        rule.push_str(&format!(" bus={bus}"));
    }
    if mask.contains("bind") {
        if let Some(n) = name {
            rule.push_str(&format!(" name={n}"));
        }
    } else if !mask.contains("eavesdrop") {
        for (k, v) in [("path", path), ("interface", interface), ("member", member)] {
            if let Some(v) = v {
                rule.push_str(&format!(" {k}={}", literal(v)));
            }
        }
        let mut p = Vec::new();
        if let Some(n) = name {
            p.push(format!("name={n}"));
        }
        if let Some(l) = e.peer() {
            p.push(format!("label={}", literal(l)));
        }
        if !p.is_empty() {
            rule.push_str(&format!(" peer=({})", p.join(", ")));
        }
    }
    rule.push(',');
    x.lacks(&refuser(who), &rule);
    match who {
        Subject::App { .. } | Subject::Hook { .. } => {
            let grants = dbus_grants(ctx, e, who);
            if grants.is_empty() {
                nothing_grants(&mut x, who, "this D-Bus access");
            } else {
                interface_hints(&mut x, ctx, who, grants, None);
            }
        }
        Subject::UpdateNs { .. } => nothing_grants(&mut x, who, "D-Bus"),
        Subject::Profile { label } => local_include_advice(&mut x, ctx, label, &[rule]),
        Subject::Unconfined => {}
    }
    x
}

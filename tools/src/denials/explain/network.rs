//! Network and Unix socket records.

use crate::interfaces::AppArmorAccess;

use crate::denials::context::Context;
use crate::denials::record::AppArmorEvent;
use crate::denials::subject::Subject;

use super::common::{
    actor, from_grants, interface_hints, local_include_advice, new, nothing_grants, process,
    refuser, snap_variables, stopped,
};
use super::literal;
use super::types::Explanation;

/// The permissions of a Unix socket record, as a rule's `( ... )`.
fn unix_rule(e: &AppArmorEvent) -> String {
    let perms: Vec<&str> = e.denied().split_whitespace().collect();
    let mut rule = String::from("unix");
    if !perms.is_empty() {
        rule.push_str(&format!(" ({})", perms.join(", ")));
    }
    if let Some(t) = e.field("sock_type").filter(|t| !t.is_empty()) {
        rule.push_str(&format!(" type={t}"));
    }
    if let Some(a) = e.field("addr").filter(|a| *a != "none" && !a.is_empty()) {
        rule.push_str(&format!(" addr={}", quoted_value(a)));
    }
    let mut peer = Vec::new();
    if let Some(l) = e.peer().filter(|l| !l.is_empty()) {
        peer.push(format!("label={}", literal(l)));
    }
    if let Some(a) = e.field("peer_addr").filter(|a| *a != "none" && !a.is_empty()) {
        peer.push(format!("addr={}", quoted_value(a)));
    }
    if !peer.is_empty() {
        rule.push_str(&format!(" peer=({})", peer.join(", ")));
    }
    rule.push(',');
    rule
}

/// A value in a rule, always quoted.
fn quoted_value(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

pub(super) fn network(e: &AppArmorEvent, ctx: &Context, who: &Subject) -> Explanation {
    let family = e.field("family").unwrap_or("").to_owned();
    let sock_type = e.field("sock_type").unwrap_or("").to_owned();
    let op = e.operation.as_str();
    let verb = match op {
        "create" | "post_create" => "creating",
        "connect" => "connecting",
        "bind" => "binding",
        "listen" => "listening on",
        "accept" => "accepting on",
        "sendmsg" => "sending on",
        "recvmsg" => "receiving on",
        "getsockopt" => "reading options of",
        "setsockopt" => "setting options of",
        "getsockname" | "getpeername" => "reading the address of",
        "shutdown" | "socket_shutdown" => "shutting down",
        _ => "using",
    };
    let unix = family == "unix";
    let object = if unix {
        let mut o = format!("a Unix {sock_type} socket");
        if let Some(a) = e
            .field("peer_addr")
            .or_else(|| e.field("addr"))
            .filter(|a| *a != "none")
        {
            o.push_str(&format!(" ({a})"));
        }
        o
    } else {
        let article = if family.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        format!("{article} {family} {sock_type} socket")
    };
    let object = object.replace("  ", " ");
    let verb = if op == "connect" && !unix {
        "connecting with"
    } else {
        verb
    };
    let mut x = new(stopped(e, &actor(who), &format!("{verb} {object}")), "apparmor", who);
    if let Some(p) = e.peer() {
        x.other = Some(Subject::of(p));
    }
    if let Some(p) = process(e, None) {
        x.say(p);
    }
    let rule = if unix {
        unix_rule(e)
    } else {
        let mut r = String::from("network");
        for part in [&family, &sock_type] {
            if !part.is_empty() {
                r.push(' ');
                r.push_str(part);
            }
        }
        r.push(',');
        r
    };
    x.lacks(&refuser(who), &rule);
    match who {
        Subject::App { .. } | Subject::Hook { .. } => {
            let grants = if unix {
                Vec::new()
            } else {
                from_grants(ctx.catalog.apparmor_grants(
                    &AppArmorAccess::Network {
                        family: family.clone(),
                        sock_type: sock_type.clone(),
                    },
                    &snap_variables(who),
                ))
            };
            if grants.is_empty() {
                if unix {
                    x.say(
                        "Snaps may use Unix sockets among their own processes, and inherited ones; no \
                         interface here grants this one.",
                    );
                } else {
                    nothing_grants(&mut x, who, &format!("{family} {sock_type} sockets"));
                }
            } else {
                interface_hints(&mut x, ctx, who, grants, None);
            }
        }
        Subject::UpdateNs { .. } => nothing_grants(&mut x, who, "sockets"),
        Subject::Profile { label } => local_include_advice(&mut x, ctx, label, &[rule]),
        Subject::Unconfined => {}
    }
    x
}

//! Ptrace records: which end refused, the tracer or the traced.

use crate::interfaces::AppArmorAccess;

use crate::denials::context::Context;
use crate::denials::record::AppArmorEvent;
use crate::denials::subject::Subject;

use super::common::{
    actor, from_grants, interface_hints, local_include_advice, new, nothing_grants, process,
    side_refuser, snap_variables, stopped,
};
use super::literal;
use super::types::{Explanation, Side};

pub(super) fn ptrace(e: &AppArmorEvent, ctx: &Context, who: &Subject) -> Explanation {
    let peer = Subject::of(e.peer().unwrap_or(""));
    let mask = e.denied();
    let perm = ["tracedby", "readby", "trace", "read"]
        .into_iter()
        .find(|p| mask.split_whitespace().any(|m| m == *p))
        .unwrap_or("read");
    let side = if perm.ends_with("by") {
        Side::Traced
    } else {
        Side::Tracer
    };
    let (tracer, traced) = match side {
        Side::Tracer => (who, &peer),
        _ => (&peer, who),
    };
    let doing = if perm.starts_with("trace") {
        "tracing"
    } else {
        "reading the state of"
    };
    let mut x = new(
        stopped(
            e,
            &actor(tracer),
            &format!(
                "{doing} {} (ptrace {})",
                traced.describe_process(),
                if perm.starts_with("trace") { "trace" } else { "read" }
            ),
        ),
        "apparmor",
        who,
    );
    x.side = Some(side);
    x.other = Some(peer.clone());
    if let Some(p) = process(e, Some("the tracing process")) {
        x.say(p);
    }
    let rule = format!("ptrace ({perm}) peer={},", literal(peer.label()));
    x.lacks(&side_refuser(side, who), &rule);
    if perm == "read" {
        x.say(
            "Reading another process's entries in /proc (as ps, top or lsof do) needs this ptrace read \
             permission.",
        );
    }
    match (side, who) {
        (Side::Tracer, Subject::App { .. } | Subject::Hook { .. }) => {
            let access = AppArmorAccess::Ptrace {
                perm: perm.to_owned(),
                peer: peer.label().to_owned(),
            };
            let grants = from_grants(ctx.catalog.apparmor_grants(&access, &snap_variables(who)));
            if grants.is_empty() {
                nothing_grants(&mut x, who, &format!("ptrace {perm} of {}", peer.describe_process()));
            } else {
                interface_hints(&mut x, ctx, who, grants, None);
            }
        }
        (Side::Traced, Subject::App { .. } | Subject::Hook { .. }) => x.say(
            "Snap profiles include the base abstraction, which lets any process read and trace them as far \
             as its own profile allows: no interface changes this side.",
        ),
        (_, Subject::UpdateNs { .. }) => nothing_grants(&mut x, who, "this"),
        (_, Subject::Profile { label }) => local_include_advice(&mut x, ctx, label, &[rule]),
        _ => {}
    }
    if let (Side::Tracer, Subject::Profile { label }) = (side, &peer) {
        x.say(format!(
            "The traced side: profile {label} must allow it as well, with this rule or with \
             #include <abstractions/base>, which has it:"
        ));
        let by = if perm == "trace" { "tracedby" } else { "readby" };
        x.rule_line(format!("ptrace ({by}) peer={},", literal(who.label())));
    }
    x
}

//! Signal records: which end refused, and the rule on each side.

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

/// `SIGTERM`, `signal rtmin+2`...
fn signal_name(sig: &str) -> String {
    if sig == "exists" {
        "a signal 0 (existence check)".into()
    } else if !sig.is_empty()
        && sig.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && !sig.bytes().all(|c| c.is_ascii_digit())
    {
        format!("SIG{}", sig.to_ascii_uppercase())
    } else {
        format!("signal {sig}")
    }
}

pub(super) fn signal(e: &AppArmorEvent, ctx: &Context, who: &Subject) -> Explanation {
    let sig = e.field("signal").unwrap_or("");
    let peer = Subject::of(e.peer().unwrap_or(""));
    let mask = e.denied();
    let side = if mask.contains("send") {
        Side::Sender
    } else {
        Side::Receiver
    };
    let (sender, receiver) = match side {
        Side::Sender => (who, &peer),
        _ => (&peer, who),
    };
    let name = signal_name(sig);
    let mut x = new(
        stopped(
            e,
            &actor(sender),
            &format!("sending {name} to {}", receiver.describe_process()),
        ),
        "apparmor",
        who,
    );
    x.side = Some(side);
    x.other = Some(peer.clone());
    if let Some(p) = process(e, Some("the sender")) {
        x.say(p);
    }
    let perm = match side {
        Side::Sender => "send",
        _ => "receive",
    };
    let set = if sig.is_empty() {
        String::new()
    } else {
        format!(" set=({sig})")
    };
    let rule = format!("signal ({perm}){set} peer={},", literal(peer.label()));
    x.lacks(&side_refuser(side, who), &rule);
    match (side, who) {
        (Side::Sender, Subject::App { .. } | Subject::Hook { .. }) => {
            let access = AppArmorAccess::Signal {
                peer: peer.label().to_owned(),
            };
            let grants = from_grants(ctx.catalog.apparmor_grants(&access, &snap_variables(who)));
            if grants.is_empty() {
                nothing_grants(&mut x, who, &format!("sending signals to {}", peer.describe_process()));
            } else {
                interface_hints(&mut x, ctx, who, grants, None);
            }
        }
        (Side::Receiver, Subject::App { .. } | Subject::Hook { .. }) => {
            x.say(format!(
                "A snap accepts signals from its own processes, from other snaps and from unconfined \
                 processes only. No interface lets it accept them from {}.",
                peer.describe_process()
            ));
        }
        (_, Subject::UpdateNs { .. }) => nothing_grants(&mut x, who, "this signal"),
        (_, Subject::Profile { label }) => {
            let mut rules = vec![rule.clone()];
            if !sig.is_empty() {
                rules.push(format!("signal ({perm}) peer={},", literal(peer.label())));
            }
            local_include_advice(&mut x, ctx, label, &rules);
        }
        _ => {}
    }
    // The other end must agree too.
    match (side, &peer) {
        (Side::Receiver, Subject::App { .. } | Subject::Hook { .. }) => {
            let access = AppArmorAccess::Signal {
                peer: who.label().to_owned(),
            };
            let grants = ctx.catalog.apparmor_grants(&access, &snap_variables(&peer));
            if grants.is_empty() {
                x.say(format!(
                    "The sender's side: AppArmor checks the sender's profile too, and no interface lets {} \
                     send signals to {}; unless its profile allowed it, a denial of the send was logged as \
                     well.",
                    peer.describe(),
                    who.describe_process()
                ));
            } else {
                let names: Vec<String> = grants.iter().map(|g| g.interface.name.clone()).collect();
                x.say(format!(
                    "The sender's side: {} may send it when interface {} is connected.",
                    peer.describe(),
                    names.join(" or ")
                ));
            }
        }
        (Side::Sender, Subject::Profile { label }) => {
            x.say(format!(
                "The receiver's side: profile {label} must accept it too, with this rule in its own policy:"
            ));
            x.rule_line(format!("signal (receive){set} peer={},", literal(who.label())));
        }
        (Side::Sender, Subject::App { .. } | Subject::Hook { .. }) if who.snap().is_some() => {
            x.say("The receiver's side: snaps accept signals from other snaps, so only the sender's profile refuses.")
        }
        _ => {}
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals() {
        assert_eq!(signal_name("term"), "SIGTERM");
        assert_eq!(signal_name("rtmin+2"), "signal rtmin+2");
        assert_eq!(signal_name("34"), "signal 34");
    }
}

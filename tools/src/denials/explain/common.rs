//! What every mediation class's explanation says alike: who acted and who
//! refused, the interfaces that grant an access and how to connect them,
//! the advice for a profile that is not a snap's.

use std::collections::BTreeMap;
use std::path::Path;

use crate::interfaces::Grant;

use crate::denials::context::{Context, PlugStatus};
use crate::denials::record::AppArmorEvent;
use crate::denials::subject::Subject;

use super::types::{Covering, Explanation, InterfaceHint, Side};

/// The actor of a sentence: `snap a (app b)`, `an unconfined process`,
/// `a process under profile foo`.
pub(super) fn actor(s: &Subject) -> String {
    match s {
        Subject::App { .. } | Subject::Hook { .. } | Subject::UpdateNs { .. } => s.describe(),
        _ => s.describe_process(),
    }
}

/// The refusing side, with its profile's name for a snap.
/// "the sender: profile foo, which is not a snap's" and the like.
pub(super) fn side_refuser(side: Side, who: &Subject) -> String {
    let not_snap = if who.snap().is_none() { ", which is not a snap's" } else { "" };
    format!("{}: {}{not_snap}", side.as_str(), refuser(who))
}

pub(super) fn refuser(s: &Subject) -> String {
    match s {
        Subject::App { label, snap, app } => format!("profile {label} (snap {snap}, app {app})"),
        Subject::Hook { label, snap, hook, .. } => format!("profile {label} (snap {snap}, hook {hook})"),
        _ => s.describe(),
    }
}

/// "AppArmor stopped ACTOR from DOING" (or, in complain mode, would have).
pub(super) fn stopped(e: &AppArmorEvent, actor: &str, doing: &str) -> String {
    if e.allowed() {
        format!("AppArmor would have stopped {actor} from {doing} (complain mode: it was let through)")
    } else {
        format!("AppArmor stopped {actor} from {doing}")
    }
}

/// The variables a snap's profile defines, for matching interface rules.
pub(super) fn snap_variables(who: &Subject) -> BTreeMap<String, Vec<String>> {
    let mut vars = BTreeMap::new();
    if let Some(instance) = who.snap() {
        let name = instance.split('_').next().unwrap_or(instance);
        vars.insert("SNAP_NAME".to_owned(), vec![name.to_owned()]);
        vars.insert("SNAP_INSTANCE_NAME".to_owned(), vec![instance.to_owned()]);
    }
    vars
}

/// Adds what the interfaces say about an access of snap `who`: each
/// interface that grants (or denies) it, whether the snap's plug is
/// connected, and the command that connects it. `owner` is the file's and
/// the process's uid, for file accesses.
pub(super) fn interface_hints(
    x: &mut Explanation,
    ctx: &Context,
    who: &Subject,
    grants: Vec<Covering>,
    owner: Option<(u64, u64)>,
) {
    // One entry per interface, in the catalog's order; its deny rule, when
    // it has one, wins over its allow rules (as in AppArmor).
    let mut merged: Vec<Covering> = Vec::new();
    for g in grants {
        let g = Covering { rule: g.rule.split_whitespace().collect::<Vec<_>>().join(" "), ..g };
        match merged.iter_mut().find(|m| m.interface == g.interface) {
            Some(m) if g.deny && !m.deny => *m = g,
            Some(_) => {}
            None => merged.push(g),
        }
    }
    if merged.iter().all(|g| g.deny) {
        x.say("No interface grants it.");
    }
    for Covering { interface, rule, deny, owner_only } in merged {
        let snap = who.snap().unwrap_or("SNAP");
        let plug = if who.is_snap_runnable() {
            ctx.plug_status(who, &interface)
        } else {
            PlugStatus::NotRegistered
        };
        if deny {
            x.say(format!(
                "Interface {interface} denies this explicitly when it is connected:"
            ));
            x.rule_line(format!("{rule},"));
            x.interfaces.push(InterfaceHint { interface, rule, deny, owner_only, plug, command: None });
            continue;
        }
        x.say(format!("Interface {interface} grants it, with the rule:"));
        x.rule_line(format!("{rule},"));
        if owner_only {
            match owner {
                Some((fsuid, ouid)) if fsuid != ouid => {
                    x.say(format!(
                        "But that rule covers only files the process owns, and this one belongs to uid {ouid} \
                         while the process ran as uid {fsuid}: connecting it would not allow this access."
                    ));
                    x.interfaces.push(InterfaceHint { interface, rule, deny, owner_only, plug, command: None });
                    continue;
                }
                _ => x.say("The rule covers only files the process owns."),
            }
        }
        let command = match &plug {
            PlugStatus::Connected { plug } => {
                x.say(format!(
                    "{plug} is connected now, so the snap's current profile allows this: the denial is \
                     probably older than the connection."
                ));
                None
            }
            PlugStatus::NotConnected { plug } => {
                x.say(format!("{plug} is not connected. To connect it:"));
                Some(format!("sudo confine connect {plug}"))
            }
            PlugStatus::DisconnectedByAdmin { plug } => {
                x.say(format!(
                    "{plug} was disconnected by the administrator. To connect it again:"
                ));
                Some(format!("sudo confine connect {plug}"))
            }
            PlugStatus::NotBound { plug } => {
                let target = match who {
                    Subject::Hook { hook, .. } => format!("hook {hook}"),
                    Subject::App { app, .. } => format!("app {app}"),
                    _ => "this program".to_owned(),
                };
                x.say(format!(
                    "Snap {snap} has the plug {plug} of this interface, but not for {target}: the \
                     {target} must list it in snap.yaml, and the snap be registered again. Then:"
                ));
                Some(format!("sudo confine connect {plug}"))
            }
            PlugStatus::NotDeclared => {
                x.say(format!(
                    "Snap {snap} does not declare a plug of interface {interface}: its snap.yaml needs \
                     one (plugs: [{interface}]) and the snap must be registered again. Then:"
                ));
                Some(format!("sudo confine connect {snap}:{interface}"))
            }
            PlugStatus::NotRegistered => {
                if who.is_snap_runnable() {
                    x.say(format!(
                        "Snap {snap} is not registered with confine here. Once it is, with a plug of \
                         interface {interface}:"
                    ));
                    Some(format!("sudo confine connect {snap}:{interface}"))
                } else {
                    None
                }
            }
            PlugStatus::Unknown { reason } => {
                x.say(format!(
                    "Whether snap {snap} has it connected is unknown ({reason}). To connect it (a plug \
                     named after the interface, as is usual):"
                ));
                Some(format!("sudo confine connect {snap}:{interface}"))
            }
        };
        if let Some(c) = &command {
            x.command(c.clone());
        }
        x.interfaces.push(InterfaceHint {
            interface,
            rule,
            deny,
            owner_only,
            plug,
            command,
        });
    }
}

pub(super) fn from_grants(grants: Vec<Grant<'_>>) -> Vec<Covering> {
    grants
        .into_iter()
        .map(|g| Covering { interface: g.interface.name.clone(), rule: g.rule, deny: g.deny, owner_only: g.owner_only })
        .collect()
}

/// What to say when the refusing profile is a snap's and nothing grants
/// the access.
pub(super) fn nothing_grants(x: &mut Explanation, who: &Subject, what: &str) {
    match who {
        Subject::UpdateNs { snap, .. } => x.say(format!(
            "No interface grants {what} to the mount helper of snap {snap}: its profile allows only the \
             mounts of the snap's own connections."
        )),
        _ => x.say(format!(
            "No interface grants {what}. A snap's profile is generated from its interfaces and cannot be \
             extended by hand: under strict confinement the snap cannot do this."
        )),
    }
}

/// Shows a path as it is on the system (without a test root).
pub(super) fn shown(ctx: &Context, path: &Path) -> String {
    let dir = ctx.apparmor_dir();
    match path.strip_prefix(dir) {
        Ok(rel) => format!("/etc/apparmor.d/{}", rel.display()),
        Err(_) => path.display().to_string(),
    }
}

/// Advice for a profile that is not a snap's: the rule goes into its
/// local include, then the profile is reloaded.
pub(super) fn local_include_advice(x: &mut Explanation, ctx: &Context, profile: &str, rules: &[String]) {
    x.say(format!(
        "Profile {profile} is not a snap's, so no interface changes it. An administrator can add the rule \
         to the profile's local include and reload the profile."
    ));
    let glob = profile.contains(['*', '?', '[', '{']);
    let reload = match ctx.profile_file(profile) {
        Some(found) => {
            let file = shown(ctx, &found.path);
            match &found.local {
                Some(local) => x.say(format!(
                    "The profile is defined in {file}, whose local include is {}. Add there:",
                    shown(ctx, local)
                )),
                None => x.say(format!(
                    "The profile is defined in {file}, which has no local include: add inside the \
                     profile's block there:"
                )),
            }
            file
        }
        None if profile.starts_with('/') && !glob => {
            let name = profile.trim_start_matches('/').replace('/', ".");
            x.say(format!(
                "By the usual naming its local include is /etc/apparmor.d/local/{name} (for a profile \
                 defined in /etc/apparmor.d/{name}; that file was not found here). Add there:"
            ));
            format!("/etc/apparmor.d/{name}")
        }
        None if profile.starts_with('/') => {
            x.say(format!(
                "The profile is named by its attachment path, a glob, which does not give the name of \
                 its file: the local include is /etc/apparmor.d/local/FILE, where FILE is the name of \
                 the file in /etc/apparmor.d that defines {profile} (not found here). Add there:"
            ));
            "/etc/apparmor.d/FILE".to_owned()
        }
        None => {
            x.say(format!(
                "Its local include is /etc/apparmor.d/local/FILE, where FILE is the name of the file in \
                 /etc/apparmor.d that defines profile {profile} (often the profile's name; not found \
                 here). Add there:"
            ));
            "/etc/apparmor.d/FILE".to_owned()
        }
    };
    for r in rules {
        x.rule_line(r.clone());
    }
    if rules.len() > 1 {
        x.say("(The first rule allows exactly this; the second one more broadly.)");
    }
    x.say("Then reload the profile:");
    x.command(format!("sudo apparmor_parser -r {reload}"));
}

/// The process that triggered the record.
pub(super) fn process(e: &AppArmorEvent, role: Option<&str>) -> Option<String> {
    let comm = e.field("comm");
    let pid = e.field("pid");
    let role = role.map(|r| format!(", {r}")).unwrap_or_default();
    match (comm, pid) {
        (Some(c), Some(p)) => Some(format!("The process: {c} (pid {p}{role}).")),
        (Some(c), None) => Some(format!("The process: {c}{role}.")),
        (None, Some(p)) => Some(format!("The process: pid {p}{role}.")),
        (None, None) => None,
    }
}

/// What the kernel's `info=` note means, when it is a known one.
pub(super) fn info_note(e: &AppArmorEvent) -> Option<String> {
    let info = e.field("info")?;
    let meaning = match info {
        i if i.contains("disconnected path") => {
            " (the path lies outside what the process's mount namespace shows it; a rule does not help, \
             the profile's attach_disconnected flag does)"
        }
        "no new privs" => " (the process runs with no_new_privs, which forbids changing profile on exec)",
        i if i.contains("profile not found") || i.contains("label not found") => " (the target profile is not loaded)",
        _ => "",
    };
    Some(format!("The kernel's note: {info}{meaning}."))
}

pub(super) fn new(summary: String, mechanism: &'static str, who: &Subject) -> Explanation {
    Explanation {
        summary,
        mechanism,
        refused_by: Some(who.clone()),
        side: None,
        other: None,
        rule: None,
        interfaces: Vec::new(),
        text: Vec::new(),
    }
}

//! A record, explained: what was denied, to which snap and app, which side
//! refused, the rule that was missing, and what would allow it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::interfaces::apparmor_rules::{self, Kind as RuleKind};
use crate::interfaces::{AppArmorAccess, Grant};
use crate::policy::templates::SECCOMP_DEFAULT;
use crate::seccomp::parse::{self as seccomp_parse, Kind as SeccompKind};

use super::context::{Context, PlugStatus};
use super::parse::{FILE_OPERATIONS, NETWORK_OPERATIONS};
use super::record::{AppArmorEvent, Event, Record, SeccompEvent};
use super::subject::Subject;

/// Which end of a signal or ptrace refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Sender,
    Receiver,
    Tracer,
    Traced,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Sender => "the sender",
            Side::Receiver => "the receiver",
            Side::Tracer => "the tracing process",
            Side::Traced => "the traced process",
        }
    }
}

/// One piece of an explanation's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "text", rename_all = "snake_case")]
pub enum Para {
    /// A sentence or a few.
    Text(String),
    /// A policy rule, shown on a line of its own.
    Rule(String),
    /// A command to run.
    Command(String),
}

/// An interface that would allow the access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterfaceHint {
    pub interface: String,
    /// Its rule that covers the access, as written in its data.
    pub rule: String,
    /// The rule denies rather than allows.
    pub deny: bool,
    /// The rule covers only files the process owns.
    pub owner_only: bool,
    /// Where the snap's plug stands.
    pub plug: PlugStatus,
    /// The command that connects it.
    pub command: Option<String>,
}

/// The explanation of one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// What was denied, to whom, in one sentence.
    pub summary: String,
    /// `apparmor` or `seccomp`.
    pub mechanism: &'static str,
    /// The label whose policy refused (for seccomp: the process's label).
    pub refused_by: Option<Subject>,
    /// For signals and ptrace: which end refused.
    pub side: Option<Side>,
    /// The other end of a signal, ptrace, socket or D-Bus exchange.
    pub other: Option<Subject>,
    /// The rule the refusing profile lacked (AppArmor syntax), or the
    /// system call's name (seccomp).
    pub rule: Option<String>,
    pub interfaces: Vec<InterfaceHint>,
    pub text: Vec<Para>,
}

impl Explanation {
    /// The snap the record is about: the refusing side's, else the other
    /// side's.
    pub fn snap(&self) -> Option<&str> {
        self.refused_by
            .as_ref()
            .and_then(Subject::snap)
            .or_else(|| self.other.as_ref().and_then(Subject::snap))
    }

    /// Whether the record concerns snap `name` (on either side).
    pub fn concerns_snap(&self, name: &str) -> bool {
        self.refused_by.as_ref().is_some_and(|s| s.concerns_snap(name))
            || self.other.as_ref().is_some_and(|s| s.concerns_snap(name))
    }

    fn say(&mut self, text: impl Into<String>) {
        self.text.push(Para::Text(text.into()));
    }

    fn rule_line(&mut self, rule: impl Into<String>) {
        self.text.push(Para::Rule(rule.into()));
    }

    /// Says who refused (`refused`, as "Refused by ..." goes on) and the
    /// rule its profile lacks, and records the rule.
    fn lacks(&mut self, refused: &str, rule: &str) {
        self.say(format!("Refused by {refused}. The rule its profile lacks:"));
        self.rule_line(rule);
        self.rule = Some(rule.to_owned());
    }

    fn command(&mut self, cmd: impl Into<String>) {
        self.text.push(Para::Command(cmd.into()));
    }
}

/// Explains one record.
pub fn explain(record: &Record, ctx: &Context) -> Explanation {
    match &record.event {
        Event::AppArmor(e) => apparmor(e, ctx),
        Event::Seccomp(e) => seccomp(e, ctx),
    }
}

/// A path or label written as a literal in a rule: glob characters
/// escaped, quoted when it holds spaces or commas.
pub fn literal(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '^' | '\\' | '"') {
            out.push('\\');
        }
        out.push(c);
    }
    if text
        .chars()
        .any(|c| c.is_whitespace() || c == ',' || c == '#' || c == '=' || c.is_control())
    {
        format!("\"{out}\"")
    } else {
        out
    }
}

/// The actor of a sentence: `snap a (app b)`, `an unconfined process`,
/// `a process under profile foo`.
fn actor(s: &Subject) -> String {
    match s {
        Subject::App { .. } | Subject::Hook { .. } | Subject::UpdateNs { .. } => s.describe(),
        _ => s.describe_process(),
    }
}

/// The refusing side, with its profile's name for a snap.
/// "the sender: profile foo, which is not a snap's" and the like.
fn side_refuser(side: Side, who: &Subject) -> String {
    let not_snap = if who.snap().is_none() { ", which is not a snap's" } else { "" };
    format!("{}: {}{not_snap}", side.as_str(), refuser(who))
}

fn refuser(s: &Subject) -> String {
    match s {
        Subject::App { label, snap, app } => format!("profile {label} (snap {snap}, app {app})"),
        Subject::Hook { label, snap, hook, .. } => format!("profile {label} (snap {snap}, hook {hook})"),
        _ => s.describe(),
    }
}

/// "AppArmor stopped ACTOR from DOING" (or, in complain mode, would have).
fn stopped(e: &AppArmorEvent, actor: &str, doing: &str) -> String {
    if e.allowed() {
        format!("AppArmor would have stopped {actor} from {doing} (complain mode: it was let through)")
    } else {
        format!("AppArmor stopped {actor} from {doing}")
    }
}

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

/// The capabilities by number (`capability=21`).
const CAPABILITIES: &[&str] = &[
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
];

/// What a capability is for, for the common ones.
fn capability_purpose(cap: &str) -> Option<&'static str> {
    Some(match cap {
        "chown" => "changing the owner of files",
        "dac_override" => "reading and writing files regardless of their permissions",
        "dac_read_search" => "reading files and searching directories regardless of their permissions",
        "fowner" => "acting on files owned by other users",
        "kill" => "signalling processes of other users",
        "setuid" | "setgid" => "changing user or group identity",
        "net_admin" => "configuring the network",
        "net_raw" => "raw and packet sockets",
        "net_bind_service" => "listening on ports below 1024",
        "sys_admin" => "system administration: mounts, namespaces and much more",
        "sys_ptrace" => "tracing processes of other users",
        "sys_module" => "loading kernel modules",
        "sys_nice" => "raising priorities",
        "sys_resource" => "going over resource limits",
        "sys_rawio" => "raw I/O ports and devices",
        "mknod" => "creating device nodes",
        "syslog" => "reading and controlling the kernel log",
        _ => return None,
    })
}

/// The variables a snap's profile defines, for matching interface rules.
fn snap_variables(who: &Subject) -> BTreeMap<String, Vec<String>> {
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
fn interface_hints(
    x: &mut Explanation,
    ctx: &Context,
    who: &Subject,
    grants: Vec<(String, String, bool, bool)>,
    owner: Option<(u64, u64)>,
) {
    // One entry per interface, in the catalog's order; its deny rule, when
    // it has one, wins over its allow rules (as in AppArmor).
    let mut merged: Vec<(String, String, bool, bool)> = Vec::new();
    for (interface, rule, deny, owner_only) in grants {
        let rule = rule.split_whitespace().collect::<Vec<_>>().join(" ");
        match merged.iter_mut().find(|g| g.0 == interface) {
            Some(g) if deny && !g.2 => *g = (interface, rule, deny, owner_only),
            Some(_) => {}
            None => merged.push((interface, rule, deny, owner_only)),
        }
    }
    if merged.iter().all(|g| g.2) {
        x.say("No interface grants it.");
    }
    for (interface, rule, deny, owner_only) in merged {
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
            x.interfaces.push(InterfaceHint {
                interface,
                rule,
                deny,
                owner_only,
                plug,
                command: None,
            });
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
                    x.interfaces.push(InterfaceHint {
                        interface,
                        rule,
                        deny,
                        owner_only,
                        plug,
                        command: None,
                    });
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

fn from_grants(grants: Vec<Grant<'_>>) -> Vec<(String, String, bool, bool)> {
    grants
        .into_iter()
        .map(|g| (g.interface.name.clone(), g.rule, g.deny, g.owner_only))
        .collect()
}

/// What to say when the refusing profile is a snap's and nothing grants
/// the access.
fn nothing_grants(x: &mut Explanation, who: &Subject, what: &str) {
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
fn shown(ctx: &Context, path: &Path) -> String {
    let dir = ctx.apparmor_dir();
    match path.strip_prefix(dir) {
        Ok(rel) => format!("/etc/apparmor.d/{}", rel.display()),
        Err(_) => path.display().to_string(),
    }
}

/// Advice for a profile that is not a snap's: the rule goes into its
/// local include, then the profile is reloaded.
fn local_include_advice(x: &mut Explanation, ctx: &Context, profile: &str, rules: &[String]) {
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
fn process(e: &AppArmorEvent, role: Option<&str>) -> Option<String> {
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
fn info_note(e: &AppArmorEvent) -> Option<String> {
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

fn new(summary: String, mechanism: &'static str, who: &Subject) -> Explanation {
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

fn apparmor(e: &AppArmorEvent, ctx: &Context) -> Explanation {
    let who = Subject::of(&e.profile);
    let op = e.operation.as_str();
    let mut x = if op == "signal" {
        signal(e, ctx, &who)
    } else if op == "ptrace" {
        ptrace(e, ctx, &who)
    } else if op == "capable" {
        capability(e, ctx, &who)
    } else if op.starts_with("dbus") {
        dbus(e, ctx, &who)
    } else if matches!(op, "mount" | "remount" | "umount" | "pivotroot" | "pivot_root") {
        mount(e, ctx, &who)
    } else if op.starts_with("change_") {
        change_profile(e, ctx, &who)
    } else if e.field("family").is_some() || (NETWORK_OPERATIONS.contains(&op) && e.field("name").is_none()) {
        network(e, ctx, &who)
    } else if e.field("name").is_some() && (FILE_OPERATIONS.contains(&op) || !e.denied().is_empty()) {
        file(e, ctx, &who)
    } else {
        let mut x = new(stopped(e, &actor(&who), &format!("doing {op}")), "apparmor", &who);
        x.say("This kind of record is not one this tool can write a rule for. Its fields:");
        let fields: Vec<String> = e.fields.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        x.rule_line(fields.join(" "));
        x
    };
    if let Some(note) = info_note(e) {
        x.say(note);
    }
    if e.allowed() {
        for p in &mut x.text {
            if let Para::Text(t) = p {
                if let Some(rest) = t.strip_prefix("Refused by") {
                    *t = format!("Would be refused by{rest}");
                }
            }
        }
        x.say(
            "The profile is in complain mode: the access went through, and would be refused in enforce \
             mode.",
        );
    }
    x
}

/// Permission letters of a file rule, and the verbs for a sentence.
fn file_perms(mask: &str) -> (String, Vec<&'static str>) {
    let has = |c: char| mask.contains(c);
    let mut perms = String::new();
    let mut verbs = Vec::new();
    if has('r') {
        perms.push('r');
        verbs.push("reading");
    }
    if has('w') || has('c') || has('d') {
        perms.push('w');
        if has('w') {
            verbs.push("writing");
        }
        if has('c') {
            verbs.push("creating");
        }
        if has('d') {
            verbs.push("deleting");
        }
    } else if has('a') {
        perms.push('a');
        verbs.push("appending to");
    }
    if has('m') {
        perms.push('m');
        verbs.push("mapping as executable code");
    }
    if has('l') {
        perms.push('l');
        verbs.push("linking");
    }
    if has('k') {
        perms.push('k');
        verbs.push("locking");
    }
    if has('x') {
        perms.push_str("ix");
        verbs.push("executing");
    }
    (perms, verbs)
}

fn file(e: &AppArmorEvent, ctx: &Context, who: &Subject) -> Explanation {
    let path = e.field("name").unwrap_or("");
    let mask: String = e.denied().chars().filter(|c| c.is_ascii_alphabetic()).collect();
    let (perms, verbs) = file_perms(&mask);
    let op = e.operation.as_str();
    let verb = match op {
        "mkdir" => "creating the directory".to_owned(),
        "rmdir" => "removing the directory".to_owned(),
        "unlink" => "deleting".to_owned(),
        "rename_src" => "renaming".to_owned(),
        "rename_dest" => "renaming a file to".to_owned(),
        "link" => "making a hard link at".to_owned(),
        "symlink" => "making a symbolic link at".to_owned(),
        "chmod" => "changing the mode of".to_owned(),
        "chown" => "changing the owner of".to_owned(),
        "truncate" => "truncating".to_owned(),
        "mknod" => "creating".to_owned(),
        "file_lock" => "locking".to_owned(),
        "exec" => "executing".to_owned(),
        "setattr" => "changing the attributes of".to_owned(),
        "getattr" => "reading the attributes of".to_owned(),
        _ if verbs.is_empty() => format!("accessing ({op})"),
        _ => verbs.join(" and "),
    };
    let object = match verb.strip_suffix(" as executable code") {
        Some(v) => format!("{v} {path} as executable code"),
        None => format!("{verb} {path}"),
    };
    let mut x = new(stopped(e, &actor(who), &object), "apparmor", who);
    let fsuid = e.number("fsuid");
    let ouid = e.number("ouid");
    let mut proc_line = process(e, None).unwrap_or_default();
    if let (Some(f), Some(o)) = (fsuid, ouid) {
        proc_line.push_str(&format!(" It ran as uid {f}; the file belongs to uid {o}."));
    }
    if !proc_line.is_empty() {
        x.say(proc_line.trim().to_owned());
    }
    if perms.is_empty() {
        x.say(format!(
            "The record's mask {:?} names no file permission this tool knows.",
            e.denied()
        ));
        return x;
    }
    let rule = format!("{} {perms},", literal(path));
    x.lacks(&refuser(who), &rule);
    if perms.contains('x') {
        x.say("(ix runs the program under the same profile; Px or Ux would switch profile or leave confinement.)");
    }
    if perms.contains('m') && path.contains(".so") {
        x.say("Shared libraries are usually allowed by #include <abstractions/base>: a profile that refuses one often lacks it.");
    }
    let wanted: String = perms.replace('i', "");
    let owner = fsuid.zip(ouid);
    match who {
        Subject::App { .. } | Subject::Hook { .. } => {
            let access = AppArmorAccess::File {
                path: path.to_owned(),
                perms: wanted,
            };
            let grants = from_grants(ctx.catalog.apparmor_grants(&access, &snap_variables(who)));
            if grants.is_empty() {
                nothing_grants(&mut x, who, "this access");
            } else {
                interface_hints(&mut x, ctx, who, grants, owner);
            }
        }
        Subject::UpdateNs { .. } => {
            let grants = update_ns_grants(ctx, who, path, &wanted);
            if grants.is_empty() {
                nothing_grants(&mut x, who, "this access");
            } else {
                interface_hints(&mut x, ctx, who, grants, owner);
            }
        }
        Subject::Profile { label } => local_include_advice(&mut x, ctx, label, &[rule]),
        Subject::Unconfined => {}
    }
    x
}

/// The interface rules of snap-update-ns profiles that cover a file access.
fn update_ns_grants(ctx: &Context, who: &Subject, path: &str, wanted: &str) -> Vec<(String, String, bool, bool)> {
    let mut vars = apparmor_rules::default_variables();
    vars.extend(snap_variables(who));
    let mut out = Vec::new();
    for iface in ctx.catalog.all() {
        for st in apparmor_rules::statements(&iface.apparmor_update_ns) {
            if let RuleKind::File { glob, perms, owner } = &st.kind {
                let hit = apparmor_rules::glob_regex(glob, &vars).is_some_and(|re| re.is_match(path))
                    && apparmor_rules::perms_cover(perms, wanted);
                if hit {
                    out.push((iface.name.clone(), st.text.clone(), st.deny, *owner));
                }
            }
        }
    }
    out
}

fn capability(e: &AppArmorEvent, ctx: &Context, who: &Subject) -> Explanation {
    let cap = e
        .field("capname")
        .map(str::to_owned)
        .or_else(|| {
            e.number("capability")
                .and_then(|n| usize::try_from(n).ok())
                .and_then(|n| CAPABILITIES.get(n))
                .map(|c| (*c).to_owned())
        })
        .unwrap_or_else(|| "?".to_owned());
    let purpose = capability_purpose(&cap).map(|p| format!(" ({p})")).unwrap_or_default();
    let mut x = new(
        stopped(e, &actor(who), &format!("using the capability {cap}{purpose}")),
        "apparmor",
        who,
    );
    if let Some(p) = process(e, None) {
        x.say(p);
    }
    let rule = format!("capability {cap},");
    x.lacks(&refuser(who), &rule);
    match who {
        Subject::App { .. } | Subject::Hook { .. } => {
            let grants = from_grants(
                ctx.catalog
                    .apparmor_grants(&AppArmorAccess::Capability(cap.clone()), &snap_variables(who)),
            );
            if grants.is_empty() {
                nothing_grants(&mut x, who, &format!("capability {cap}"));
            } else {
                interface_hints(&mut x, ctx, who, grants, None);
            }
        }
        Subject::UpdateNs { .. } => nothing_grants(&mut x, who, &format!("capability {cap}")),
        Subject::Profile { label } => local_include_advice(&mut x, ctx, label, &[rule]),
        Subject::Unconfined => {}
    }
    x
}

fn signal(e: &AppArmorEvent, ctx: &Context, who: &Subject) -> Explanation {
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

fn ptrace(e: &AppArmorEvent, ctx: &Context, who: &Subject) -> Explanation {
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

fn network(e: &AppArmorEvent, ctx: &Context, who: &Subject) -> Explanation {
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

fn mount(e: &AppArmorEvent, ctx: &Context, who: &Subject) -> Explanation {
    let name = e.field("name").unwrap_or("");
    let op = e.operation.as_str();
    let (summary, rule) = match op {
        "umount" => (format!("unmounting {name}"), format!("umount {},", literal(name))),
        "pivotroot" | "pivot_root" => {
            let old = e.field("srcname").unwrap_or("");
            let rule = if old.is_empty() {
                format!("pivot_root {},", literal(name))
            } else {
                format!("pivot_root oldroot={} {},", literal(old), literal(name))
            };
            (format!("making {name} the root directory (pivot_root)"), rule)
        }
        _ => {
            let fstype = e.field("fstype").filter(|f| !f.is_empty());
            let src = e.field("srcname").filter(|s| !s.is_empty());
            let flags: Vec<&str> = e
                .field("flags")
                .unwrap_or("")
                .split([',', ' '])
                .filter(|f| !f.is_empty())
                .collect();
            let mut rule = String::from(if op == "remount" { "remount" } else { "mount" });
            if let Some(f) = fstype {
                rule.push_str(&format!(" fstype={f}"));
            }
            if !flags.is_empty() {
                rule.push_str(&format!(" options=({})", flags.join(",")));
            }
            if let Some(s) = src {
                rule.push_str(&format!(" {}", literal(s)));
            }
            if op == "remount" {
                rule.push_str(&format!(" {},", literal(name)));
            } else {
                rule.push_str(&format!(" -> {},", literal(name)));
            }
            let what = match (src, fstype) {
                (Some(s), Some(f)) => format!("mounting {s} ({f}) on {name}"),
                (Some(s), None) => format!("mounting {s} on {name}"),
                (None, Some(f)) => format!("mounting a {f} file system on {name}"),
                (None, None) => format!("mounting on {name}"),
            };
            (
                if op == "remount" {
                    format!("remounting {name}")
                } else {
                    what
                },
                rule,
            )
        }
    };
    let mut x = new(stopped(e, &actor(who), &summary), "apparmor", who);
    if let Some(p) = process(e, None) {
        x.say(p);
    }
    x.lacks(&refuser(who), &rule);
    match who {
        Subject::App { .. } | Subject::Hook { .. } => x.say(
            "No interface grants mounts to a snap's apps: the mounts a snap needs are made for it before \
             it starts (its base, layouts, content connections).",
        ),
        Subject::UpdateNs { .. } => nothing_grants(&mut x, who, "this mount"),
        Subject::Profile { label } => local_include_advice(&mut x, ctx, label, &[rule]),
        Subject::Unconfined => {}
    }
    x
}

fn change_profile(e: &AppArmorEvent, ctx: &Context, who: &Subject) -> Explanation {
    let target = e.field("target").or_else(|| e.field("name")).unwrap_or("");
    let mut x = new(
        stopped(e, &actor(who), &format!("changing to profile {target}")),
        "apparmor",
        who,
    );
    if let Some(p) = process(e, None) {
        x.say(p);
    }
    let rule = format!("change_profile -> {},", literal(target));
    x.lacks(&refuser(who), &rule);
    match who {
        Subject::App { .. } | Subject::Hook { .. } | Subject::UpdateNs { .. } => {
            nothing_grants(&mut x, who, "changing profile")
        }
        Subject::Profile { label } => local_include_advice(&mut x, ctx, label, &[rule]),
        Subject::Unconfined => {}
    }
    x
}

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
fn dbus_grants(ctx: &Context, e: &AppArmorEvent, who: &Subject) -> Vec<(String, String, bool, bool)> {
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
                out.push((iface.name.clone(), text.clone(), st.deny, false));
            }
        }
    }
    out
}

fn dbus(e: &AppArmorEvent, ctx: &Context, who: &Subject) -> Explanation {
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

/// The lines of a seccomp policy text that name `syscall`, with their
/// kind, as written.
fn seccomp_lines(text: &str, syscall: &str) -> Vec<(SeccompKind, bool, String, Option<i32>)> {
    let Ok(source) = seccomp_parse::parse(text) else {
        return Vec::new();
    };
    source
        .rules
        .iter()
        .filter(|r| r.syscall == syscall)
        .map(|r| {
            let line = text
                .lines()
                .nth(r.line.saturating_sub(1))
                .unwrap_or("")
                .trim()
                .to_owned();
            (r.kind, !r.args.is_empty(), line, r.errno)
        })
        .collect()
}

fn seccomp(e: &SeccompEvent, ctx: &Context) -> Explanation {
    let who = e.label.as_deref().map(Subject::of);
    // Without a label, a program under /snap/<snap>/ still says which snap.
    let exe_snap = e
        .field("exe")
        .and_then(|exe| exe.strip_prefix("/snap/"))
        .and_then(|rest| rest.split('/').next())
        .filter(|snap| naming::InstanceName::parse(snap).is_ok())
        .map(str::to_owned);
    let arch = e.arch_name.clone().unwrap_or_else(|| format!("{:#x}", e.arch));
    let call = e
        .syscall_name
        .clone()
        .unwrap_or_else(|| format!("number {} (unknown on {arch})", e.syscall));
    let action = e.action();
    let actor_text = match &who {
        Some(w @ (Subject::App { .. } | Subject::Hook { .. } | Subject::UpdateNs { .. })) => w.describe(),
        Some(Subject::Unconfined) => "an unconfined process".to_owned(),
        Some(Subject::Profile { label }) => format!("a process under profile {label}"),
        None => match &exe_snap {
            Some(snap) => format!("a program of snap {snap}"),
            None => "a process".to_owned(),
        },
    };
    let comm = e.field("comm").unwrap_or("?");
    let summary = if action.refused() {
        format!(
            "seccomp stopped {actor_text} from calling {call}: the filter {}",
            action.describe()
        )
    } else {
        format!("seccomp (complain mode) logged {actor_text} calling {call}")
    };
    let mut x = Explanation {
        summary,
        mechanism: "seccomp",
        refused_by: who.clone(),
        side: None,
        other: None,
        rule: e.syscall_name.clone(),
        interfaces: Vec::new(),
        text: Vec::new(),
    };
    let mut p = format!("The process: {comm}");
    if let Some(pid) = e.field("pid") {
        p.push_str(&format!(" (pid {pid})"));
    }
    if let Some(exe) = e.field("exe") {
        p.push_str(&format!(", running {exe}"));
    }
    p.push_str(&format!("; system call {} on {arch}.", e.syscall));
    x.say(p);
    if e.label.is_none() {
        x.say(
            "The record names no AppArmor label (subj=), so it does not say which snap's filter refused; \
             the process and program above are the clues.",
        );
    }
    let Some(name) = e.syscall_name.clone() else {
        x.say(format!(
            "libseccomp does not know system call {} on {arch}, so the policy cannot name it.",
            e.syscall
        ));
        return x;
    };
    let template = seccomp_lines(SECCOMP_DEFAULT, &name);
    let lines = |kind: SeccompKind| -> Vec<String> {
        template
            .iter()
            .filter(|(k, _, _, _)| *k == kind)
            .map(|(_, _, l, _)| l.clone())
            .collect()
    };
    let denials = lines(SeccompKind::Deny);
    let allows = lines(SeccompKind::Allow);
    let unconditional = template.iter().any(|(k, args, _, _)| *k == SeccompKind::Allow && !args);
    if !denials.is_empty() {
        // The explicit denials of one call share their errno.
        let errno = template
            .iter()
            .find_map(|(k, _, _, e)| (*k == SeccompKind::Deny).then_some(e.unwrap_or(libc::EACCES)))
            .unwrap_or(libc::EACCES);
        let errno_text = crate::denials::record::errno_name(errno.unsigned_abs().try_into().unwrap_or(0));
        let fallback = if errno == libc::ENOSYS {
            " (as if the kernel did not have it: libc then uses an older call that the policy can filter)"
        } else {
            ""
        };
        x.say(format!(
            "Every snap's base seccomp policy denies {name} explicitly in some cases; such calls fail \
             with {errno_text}{fallback}, and no interface lifts these denials:"
        ));
        for d in &denials {
            x.rule_line(d.clone());
        }
    }
    if unconditional {
        if denials.is_empty() {
            x.say(format!(
                "The base policy allows {name}: the filter in force was not made from the snap's current \
                 policy (an older one, or another program's)."
            ));
        } else {
            x.say(format!(
                "The base policy allows {name} otherwise, so this call matched one of those denials."
            ));
        }
    } else if !allows.is_empty() {
        x.say(format!(
            "The base policy allows {name} only with certain arguments; this call's arguments did not \
             match (the record does not show them), so it failed with EPERM:"
        ));
        for a in &allows {
            x.rule_line(a.clone());
        }
    } else if denials.is_empty() {
        x.say(format!(
            "The snap's seccomp policy has no line for {name}, so the call failed with EPERM. The line \
             it lacks:"
        ));
        x.rule_line(name.clone());
    }
    let grants: Vec<(String, String, bool, bool)> = ctx
        .catalog
        .syscall_grants(&name)
        .into_iter()
        .map(|(iface, rule)| {
            let line = iface
                .seccomp
                .lines()
                .nth(rule.line.saturating_sub(1))
                .unwrap_or(&name)
                .trim()
                .to_owned();
            (iface.name.clone(), line, false, false)
        })
        .collect();
    let is_snap = who.as_ref().is_some_and(Subject::is_snap_runnable);
    if grants.is_empty() {
        x.say(format!("No interface's seccomp rules allow {name}."));
    } else if let Some(w) = who.as_ref().filter(|_| is_snap) {
        interface_hints(&mut x, ctx, w, grants, None);
    } else {
        let names: Vec<String> = grants.iter().map(|g| g.0.clone()).collect();
        x.say(format!(
            "Interface {} allows {name} in its seccomp rules.",
            names.join(" or ")
        ));
    }
    x.say(
        "Seccomp denials appear in the log only when logging is on: filters loaded with \
         SECCOMP_FILTER_FLAG_LOG (the launcher's are) and errno listed in \
         /proc/sys/kernel/seccomp/actions_logged.",
    );
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        assert_eq!(literal("/proc/locks"), "/proc/locks");
        assert_eq!(literal("/tmp/a b"), "\"/tmp/a b\"");
        assert_eq!(
            literal("/usr/lib/firefox/firefox{,*[^s][^h]}"),
            "\"/usr/lib/firefox/firefox\\{,\\*\\[\\^s\\]\\[\\^h\\]\\}\""
        );
    }

    #[test]
    fn perms() {
        assert_eq!(file_perms("r").0, "r");
        assert_eq!(file_perms("wc").0, "w");
        assert_eq!(file_perms("d").0, "w");
        assert_eq!(file_perms("a").0, "a");
        assert_eq!(file_perms("x").0, "ix");
        assert_eq!(file_perms("m").0, "m");
        assert_eq!(file_perms("rwk").0, "rwk");
        assert_eq!(file_perms("::r").0, "r");
    }

    #[test]
    fn signals() {
        assert_eq!(signal_name("term"), "SIGTERM");
        assert_eq!(signal_name("rtmin+2"), "signal rtmin+2");
        assert_eq!(signal_name("34"), "signal 34");
    }
}

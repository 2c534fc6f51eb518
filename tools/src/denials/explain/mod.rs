//! A record, explained: what was denied, to which snap and app, which side
//! refused, the rule that was missing, and what would allow it.
//!
//! One file per mediation class (`file`, `capability`, `signal`, `ptrace`,
//! `network`, `mount`, `change_profile`, `dbus`, `seccomp`); the
//! explanation's types are in `types`, what the classes share in `common`.

mod capability;
mod change_profile;
mod common;
mod dbus;
mod file;
mod mount;
mod network;
mod ptrace;
mod seccomp;
mod signal;
mod types;

use crate::denials::context::Context;
use crate::denials::parse::{FILE_OPERATIONS, NETWORK_OPERATIONS};
use crate::denials::record::{AppArmorEvent, Event, Record};
use crate::denials::subject::Subject;

use capability::capability;
use change_profile::change_profile;
use common::{actor, info_note, new, stopped};
use dbus::dbus;
use file::file;
use mount::mount;
use network::network;
use ptrace::ptrace;
use seccomp::seccomp;
use signal::signal;
pub use types::{Explanation, InterfaceHint, Para, Side};

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
}

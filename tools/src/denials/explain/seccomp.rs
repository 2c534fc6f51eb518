//! Seccomp records: the system call, and what the snap's policy says of it.

use crate::policy::templates::SECCOMP_DEFAULT;
use crate::seccomp::parse::{Kind as SeccompKind, self as seccomp_parse};

use crate::denials::context::Context;
use crate::denials::record::SeccompEvent;
use crate::denials::subject::Subject;

use super::common::interface_hints;
use super::types::{Covering, Explanation};

/// One line of a seccomp policy text that names a system call.
struct PolicyLine {
    kind: SeccompKind,
    /// Whether the line limits the call's arguments.
    has_args: bool,
    /// The line as written.
    text: String,
    /// The errno a denial returns, where the line names one.
    errno: Option<i32>,
}

/// The lines of a seccomp policy text that name `syscall`.
fn seccomp_lines(text: &str, syscall: &str) -> Vec<PolicyLine> {
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
            PolicyLine { kind: r.kind, has_args: !r.args.is_empty(), text: line, errno: r.errno }
        })
        .collect()
}

pub(super) fn seccomp(e: &SeccompEvent, ctx: &Context) -> Explanation {
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
            .filter(|l| l.kind == kind)
            .map(|l| l.text.clone())
            .collect()
    };
    let denials = lines(SeccompKind::Deny);
    let allows = lines(SeccompKind::Allow);
    let unconditional = template.iter().any(|l| l.kind == SeccompKind::Allow && !l.has_args);
    if !denials.is_empty() {
        // The explicit denials of one call share their errno.
        let errno = template
            .iter()
            .find_map(|l| (l.kind == SeccompKind::Deny).then_some(l.errno.unwrap_or(libc::EACCES)))
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
    let grants: Vec<Covering> = ctx
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
            Covering { interface: iface.name.clone(), rule: line, deny: false, owner_only: false }
        })
        .collect();
    let is_snap = who.as_ref().is_some_and(Subject::is_snap_runnable);
    if grants.is_empty() {
        x.say(format!("No interface's seccomp rules allow {name}."));
    } else if let Some(w) = who.as_ref().filter(|_| is_snap) {
        interface_hints(&mut x, ctx, w, grants, None);
    } else {
        let names: Vec<String> = grants.iter().map(|g| g.interface.clone()).collect();
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

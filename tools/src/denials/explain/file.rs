//! File records: the permission letters of the missing rule.

use crate::interfaces::apparmor_rules::{Kind as RuleKind, self};
use crate::interfaces::AppArmorAccess;

use crate::denials::context::Context;
use crate::denials::record::AppArmorEvent;
use crate::denials::subject::Subject;

use super::common::{
    actor, from_grants, interface_hints, local_include_advice, new, nothing_grants, process,
    refuser, snap_variables, stopped,
};
use super::literal;
use super::types::{Covering, Explanation};

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
    for (letter, perm, verb) in [('m', "m", "mapping as executable code"), ('l', "l", "linking"), ('k', "k", "locking"), ('x', "ix", "executing")] {
        if has(letter) {
            perms.push_str(perm);
            verbs.push(verb);
        }
    }
    (perms, verbs)
}

pub(super) fn file(e: &AppArmorEvent, ctx: &Context, who: &Subject) -> Explanation {
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
fn update_ns_grants(ctx: &Context, who: &Subject, path: &str, wanted: &str) -> Vec<Covering> {
    let mut vars = apparmor_rules::default_variables();
    vars.extend(snap_variables(who));
    let mut out = Vec::new();
    for iface in ctx.catalog.all() {
        for st in apparmor_rules::statements(&iface.apparmor_update_ns) {
            if let RuleKind::File { glob, perms, owner } = &st.kind {
                let hit = apparmor_rules::glob_regex(glob, &vars).is_some_and(|re| re.is_match(path))
                    && apparmor_rules::perms_cover(perms, wanted);
                if hit {
                    out.push(Covering { interface: iface.name.clone(), rule: st.text.clone(), deny: st.deny, owner_only: *owner });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
}

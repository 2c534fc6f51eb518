//! Mount, remount, umount and pivot_root records.

use crate::denials::context::Context;
use crate::denials::record::AppArmorEvent;
use crate::denials::subject::Subject;

use super::common::{actor, local_include_advice, new, nothing_grants, process, refuser, stopped};
use super::literal;
use super::types::Explanation;

pub(super) fn mount(e: &AppArmorEvent, ctx: &Context, who: &Subject) -> Explanation {
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

//! change_profile and change_hat records.

use crate::denials::context::Context;
use crate::denials::record::AppArmorEvent;
use crate::denials::subject::Subject;

use super::common::{actor, local_include_advice, new, nothing_grants, process, refuser, stopped};
use super::literal;
use super::types::Explanation;

pub(super) fn change_profile(e: &AppArmorEvent, ctx: &Context, who: &Subject) -> Explanation {
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

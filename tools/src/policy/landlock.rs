//! Landlock policies from the template: one per app and hook of strict and
//! devmode snaps (classic snaps have none), in the format of
//! [`policy_cache::landlock`]. The launcher applies them where the kernel
//! has no AppArmor, or on top of it with `apply always`.
//!
//! The file is the template with its placeholders filled in and the lines
//! of the runnable's connected plugs in place of `{{RULES}}`, each plug's
//! under a comment naming it. Every rule is written as the format prints it
//! and only once (the first time it comes, template first, then the plugs
//! by name). A template scope a connected interface lifts is left out.

use std::collections::BTreeSet;

use policy_cache::landlock::{self, Apply, LandlockPolicy, Mode, Rule, Scope};

use super::templates::{self, fill};
use super::{Error, Part, Runnable, Snap};
use crate::interfaces::landlock_rule;
use crate::snapyaml::Confinement;

/// A rule as the format prints it, so that equal rules are equal lines.
fn canonical(rule: Rule) -> String {
    let one = LandlockPolicy {
        mode: Mode::Enforce,
        apply: Apply::WithoutAppArmor,
        rules: vec![rule],
    };
    one.to_string()
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned()
}

fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::Signal => "signal",
        Scope::AbstractUnixSocket => "abstract-unix-socket",
    }
}

/// The lines of the layouts and of the connected plugs, each plug's under
/// a comment naming it, without the rules already in `seen`.
fn plug_rules(parts: &[Part<'_>], layouts: &str, seen: &mut BTreeSet<String>) -> Result<String, Error> {
    let mut out = String::new();
    let blocks = std::iter::once(("layouts".to_owned(), layouts)).chain(parts.iter().map(|p| (format!("{} (interface {})", p.label(), p.interface.name), p.rendered.landlock.as_str())));
    for (label, text) in blocks {
        let mut lines = Vec::new();
        for line in text.lines() {
            let rule = landlock_rule(line).map_err(|e| {
                Error(format!(
                    "cannot generate the Landlock policy of {label}: {e}"
                ))
            })?;
            if let Some(rule) = rule {
                let line = canonical(rule);
                if seen.insert(line.clone()) {
                    lines.push(line);
                }
            }
        }
        if !lines.is_empty() {
            out.push_str(&format!("# {label}\n"));
            for l in lines {
                out.push_str(&l);
                out.push('\n');
            }
        }
    }
    if out.is_empty() {
        out.push_str("# (none)\n");
    }
    Ok(out)
}

/// The Landlock policy of an app or hook, or `None` for classic snaps.
/// With `apply_always`, the launcher applies it on top of AppArmor too.
pub fn policy(
    snap: &Snap<'_>,
    r: &Runnable,
    parts: &[Part<'_>],
    layouts: &str,
    apply_always: bool,
) -> Result<Option<String>, Error> {
    let mode = match snap.yaml.confinement {
        Confinement::Classic => return Ok(None),
        Confinement::Devmode => "devmode",
        Confinement::Strict => "enforce",
    };
    let apply = if apply_always {
        "always"
    } else {
        "without-apparmor"
    };
    let text = fill(
        templates::LANDLOCK_STRICT,
        &[
            ("TAG", &r.tag),
            ("NAME", snap.instance.snap_name()),
            ("INSTANCE", snap.instance.as_str()),
            ("REVISION", snap.revision),
            ("MODE", mode),
            ("APPLY", apply),
        ],
    );
    let broken = |e: String| {
        Error(format!(
            "cannot generate the Landlock policy of {}: {e}",
            r.tag
        ))
    };
    let mut seen = BTreeSet::new();
    let mut out = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed == "{{RULES}}" {
            out.push_str(&plug_rules(parts, layouts, &mut seen)?);
            continue;
        }
        let header = ["landlock-policy ", "mode ", "apply "]
            .iter()
            .any(|w| trimmed.starts_with(w));
        let rule = if header {
            None
        } else {
            landlock_rule(line).map_err(|e| broken(e.0))?
        };
        let Some(rule) = rule else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        if let Rule::Scope(scope) = rule {
            if let Some(p) = parts
                .iter()
                .find(|p| p.interface.landlock_unscope.contains(&scope))
            {
                out.push_str(&format!(
                    "# scope {}: lifted by {} (interface {})\n",
                    scope_name(scope),
                    p.label(),
                    p.interface.name
                ));
                continue;
            }
        }
        let line = canonical(rule);
        if seen.insert(line.clone()) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    // The launcher refuses a policy it does not fully understand: so do we.
    landlock::parse(&out).map_err(|e| broken(e.to_string()))?;
    Ok(Some(out))
}

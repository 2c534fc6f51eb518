//! AppArmor profiles from the templates.

use super::templates::{self, fill};
use super::{Part, Runnable, Snap};
use crate::snapyaml::Confinement;

/// Flags of profiles that are enforced.
const FLAGS_ENFORCE: &str = "attach_disconnected,mediate_deleted";
/// Flags of profiles that only log (devmode, classic).
const FLAGS_COMPLAIN: &str = "attach_disconnected,mediate_deleted,complain";

/// `@{PROFILE_DBUS}`: the tag with every byte but letters and digits
/// written as `_xx` (hex), as D-Bus object paths need.
pub fn dbus_path_part(tag: &str) -> String {
    tag.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("_{b:02x}")
            }
        })
        .collect()
}

/// The variable block of a profile.
fn variables(snap: &Snap<'_>, command_name: &str, tag: &str) -> String {
    let desktop = match snap.instance.instance_key() {
        Some(key) => format!("{}+{key}", snap.instance.snap_name()),
        None => snap.instance.snap_name().to_owned(),
    };
    let vars = [
        ("SNAP_NAME", snap.instance.snap_name().to_owned()),
        ("SNAP_INSTANCE_NAME", snap.instance.as_str().to_owned()),
        ("SNAP_INSTANCE_DESKTOP", desktop),
        ("SNAP_COMMAND_NAME", command_name.to_owned()),
        ("SNAP_REVISION", snap.revision.to_owned()),
        ("PROFILE_DBUS", dbus_path_part(tag)),
        ("INSTALL_DIR", "/{,var/lib/snapd/}snap".to_owned()),
    ];
    vars.iter()
        .map(|(k, v)| format!("@{{{k}}}=\"{v}\""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Indents a snippet to sit inside the profile block.
fn indent(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.trim().is_empty() {
                String::new()
            } else {
                format!("  {}", l.trim_end())
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One-level rules (`snap-update-ns`'s), indented once whatever they had.
fn reindent(text: &str) -> String {
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| format!("  {}", l.trim())).collect::<Vec<_>>().join("\n")
}

/// The snippets of the connected plugs (and slots), each under a comment
/// naming it, plus the rules the interfaces' flags call for; `first` (the
/// layouts' rules) goes before them.
fn snippets(parts: &[Part<'_>], update_ns: bool, first: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    if !first.trim().is_empty() {
        out.push(if update_ns { reindent(first) } else { format!("  # ---- Layouts.\n{}", indent(first)) });
    }
    let mut seen: Vec<&str> = Vec::new();
    for p in parts {
        let text = if update_ns {
            &p.rendered.apparmor_update_ns
        } else {
            &p.rendered.apparmor
        };
        if text.trim().is_empty() || seen.contains(&text.as_str()) {
            continue;
        }
        seen.push(text);
        let body = if update_ns { reindent(text) } else { indent(text) };
        out.push(format!("  # {} (interface {})\n{}", p.label(), p.interface.name, body));
    }
    if !update_ns {
        let suppress = parts.iter().any(|p| p.interface.suppress_ptrace_trace);
        let uses = parts.iter().any(|p| p.interface.uses_ptrace_trace);
        if suppress && !uses {
            out.push(
                "  # Reading other processes does not extend to tracing them.\n  deny ptrace (trace),\n  deny capability sys_ptrace,"
                    .to_owned(),
            );
        }
    }
    if out.is_empty() {
        "  # (none)".to_owned()
    } else {
        out.join("\n")
    }
}

/// The profile of an app or hook; `layouts` are the rules of the snap's
/// layouts.
pub fn profile(snap: &Snap<'_>, r: &Runnable, parts: &[Part<'_>], layouts: &str) -> String {
    let vars = variables(snap, &r.command_name, &r.tag);
    let (template, flags, snips) = match snap.yaml.confinement {
        // Classic snaps get the unconfined template; interface snippets
        // would only narrow nothing.
        Confinement::Classic => (templates::APPARMOR_CLASSIC, FLAGS_COMPLAIN, String::new()),
        Confinement::Devmode => (templates::APPARMOR_STRICT, FLAGS_COMPLAIN, snippets(parts, false, layouts)),
        Confinement::Strict => (templates::APPARMOR_STRICT, FLAGS_ENFORCE, snippets(parts, false, layouts)),
    };
    fill(
        template,
        &[
            ("PROFILE", &r.tag),
            ("VARIABLES", &vars),
            ("FLAGS", flags),
            ("SNIPPETS", &snips),
        ],
    )
}

/// The snap's `snap-update-ns` profile; `mounts` are the rules of its
/// layouts and parallel-instance mounts.
pub fn update_ns_profile(snap: &Snap<'_>, parts: &[Part<'_>], mounts: &str) -> String {
    let name = format!("snap-update-ns.{}", snap.instance);
    let vars = variables(snap, "snap-update-ns", &name);
    fill(
        templates::APPARMOR_UPDATE_NS,
        &[
            ("PROFILE", &name),
            ("INSTANCE", snap.instance.as_str()),
            ("VARIABLES", &vars),
            ("SNIPPETS", &snippets(parts, true, mounts)),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dbus_names() {
        assert_eq!(dbus_path_part("snap.hello.hello"), "snap_2ehello_2ehello");
        assert_eq!(dbus_path_part("snap.a_b.x-y"), "snap_2ea_5fb_2ex_2dy");
    }
}

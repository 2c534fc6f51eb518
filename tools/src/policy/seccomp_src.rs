//! seccomp `.src` files, in snapd's order: the compiler's version line, the
//! mode (`@unrestricted` for classic snaps, `@complain` for devmode), the
//! default template, the lines of the connected interfaces, the set*id
//! calls.

use super::templates;
use super::{Part, Snap};
use crate::snapyaml::Confinement;

/// The `.src` text of one app or hook.
pub fn source(snap: &Snap<'_>, parts: &[Part<'_>], version_info: &str) -> String {
    let mut out = String::new();
    out.push_str("# snap-seccomp version information:\n");
    out.push_str(&format!("# {version_info}\n"));
    match snap.yaml.confinement {
        Confinement::Classic => out.push_str("@unrestricted\n"),
        Confinement::Devmode => out.push_str("@complain\n"),
        Confinement::Strict => {}
    }
    out.push_str(templates::SECCOMP_DEFAULT);
    let mut seen: Vec<&str> = Vec::new();
    for p in parts {
        let text = p.rendered.seccomp.as_str();
        if text.trim().is_empty() || seen.contains(&text) {
            continue;
        }
        seen.push(text);
        out.push_str(&format!("\n# {} (interface {})\n", p.label(), p.interface.name));
        out.push_str(text);
        if !text.ends_with('\n') {
            out.push('\n');
        }
    }
    out.push('\n');
    out.push_str(templates::SECCOMP_PRIV_DROP);
    out
}

//! The policy templates, built into the tools from `tools/data/`.

/// The AppArmor template of strict (and devmode) snaps.
pub const APPARMOR_STRICT: &str = include_str!("../../data/apparmor/strict.profile");
/// The AppArmor template of classic snaps.
pub const APPARMOR_CLASSIC: &str = include_str!("../../data/apparmor/classic.profile");
/// The AppArmor template of a snap's `snap-update-ns` profile.
pub const APPARMOR_UPDATE_NS: &str = include_str!("../../data/apparmor/update-ns.profile");
/// The Landlock template of strict (and devmode) snaps.
pub const LANDLOCK_STRICT: &str = include_str!("../../data/landlock/strict.policy");
/// The default seccomp policy.
pub const SECCOMP_DEFAULT: &str = include_str!("../../data/seccomp/default.src");
/// The set*id calls appended to every seccomp policy.
pub const SECCOMP_PRIV_DROP: &str = include_str!("../../data/seccomp/priv-drop.src");

/// Replaces every `{{NAME}}` of `template` with its value.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in values {
        out = out.replace(&format!("{{{{{name}}}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_have_their_placeholders() {
        for t in [APPARMOR_STRICT, APPARMOR_CLASSIC, APPARMOR_UPDATE_NS] {
            for p in ["{{PROFILE}}", "{{VARIABLES}}"] {
                assert!(t.contains(p), "{p}");
            }
        }
        assert!(APPARMOR_STRICT.contains("{{SNIPPETS}}") && APPARMOR_STRICT.contains("{{FLAGS}}"));
        assert!(APPARMOR_UPDATE_NS.contains("{{SNIPPETS}}") && APPARMOR_UPDATE_NS.contains("{{INSTANCE}}"));
        for p in ["{{TAG}}", "{{NAME}}", "{{INSTANCE}}", "{{REVISION}}", "{{MODE}}", "{{APPLY}}", "\n{{RULES}}\n"] {
            assert!(LANDLOCK_STRICT.contains(p), "{p}");
        }
        assert_eq!(fill("a {{X}} b {{X}} {{Y}}", &[("X", "1"), ("Y", "2")]), "a 1 b 1 2");
    }
}

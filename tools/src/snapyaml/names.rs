//! The shapes of names and values in snap.yaml.
//!
//! Snap names and security tags come from the `naming` crate, which the
//! launcher uses too; app and hook names are checked by building the
//! security tag they become, so the two can never disagree. Plug, slot and
//! interface names follow the hook name rule.

/// A stand-in snap name used to check the other names through security
/// tags.
const PROBE_SNAP: &str = "probe";

/// App names: letters (either case), digits and single inner dashes.
pub fn valid_app_name(name: &str) -> bool {
    naming::parse_security_tag(&format!("snap.{PROBE_SNAP}.{name}")).is_ok() && name != "hook"
}

/// Hook names: lower case letters, digits and single inner dashes,
/// starting with a letter.
pub fn valid_hook_name(name: &str) -> bool {
    naming::parse_security_tag(&format!("snap.{PROBE_SNAP}.hook.{name}")).is_ok()
}

/// Plug, slot and interface names: as hook names.
pub fn valid_plug_name(name: &str) -> bool {
    valid_hook_name(name)
}

/// `^[a-zA-Z0-9](?:[a-zA-Z0-9:.+~-]{0,30}[a-zA-Z0-9+~])?$`
pub fn valid_version(v: &str) -> bool {
    let b = v.as_bytes();
    let inner = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b':' | b'.' | b'+' | b'~' | b'-');
    match b {
        [] => false,
        [only] => only.is_ascii_alphanumeric(),
        [first, middle @ .., last] => {
            first.is_ascii_alphanumeric()
                && middle.len() <= 30
                && middle.iter().all(inner)
                && (last.is_ascii_alphanumeric() || matches!(last, b'+' | b'~'))
        }
    }
}

/// Commands: `^[A-Za-z0-9/. _#:$-]*$`.
pub fn valid_command(c: &str) -> bool {
    c.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b' ' | b'_' | b'#' | b':' | b'$' | b'-'))
}

/// Command chain entries: as commands, without spaces.
pub fn valid_chain_entry(c: &str) -> bool {
    !c.is_empty() && !c.contains(' ') && valid_command(c)
}

/// Environment variable names: `^[A-Za-z_][A-Za-z0-9_]*$`.
pub fn valid_env_name(n: &str) -> bool {
    let mut b = n.bytes();
    b.next().is_some_and(|c| c.is_ascii_alphabetic() || c == b'_') && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// The hooks snapd runs (other names in snap.yaml are ignored, as snapd
/// does).
pub fn supported_hook(name: &str) -> bool {
    const FIXED: &[&str] = &[
        "prepare-device",
        "install-device",
        "prepare-serial-request",
        "default-configure",
        "configure",
        "install",
        "pre-refresh",
        "post-refresh",
        "remove",
        "check-health",
        "fde-setup",
        "gate-auto-refresh",
    ];
    if FIXED.contains(&name) {
        return true;
    }
    for prefix in ["prepare-", "unprepare-", "connect-", "disconnect-"] {
        if let Some(rest) = name.strip_prefix(prefix) {
            for side in ["plug-", "slot-"] {
                if rest.strip_prefix(side).is_some_and(valid_plug_name) {
                    return true;
                }
            }
        }
    }
    for prefix in [
        "change-view-",
        "save-view-",
        "query-view-",
        "load-view-",
        "observe-view-",
    ] {
        if name.strip_prefix(prefix).is_some_and(valid_plug_name) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apps_and_hooks() {
        for good in ["app", "App2", "a-b", "x", "9"] {
            assert!(valid_app_name(good), "{good}");
        }
        for bad in ["", "-a", "a-", "a--b", "a_b", "a.b", "é"] {
            assert!(!valid_app_name(bad), "{bad}");
        }
        assert!(valid_hook_name("configure"));
        assert!(!valid_hook_name("Configure"));
        assert!(!valid_hook_name("1st"));
        assert!(valid_plug_name("serial-port"));
        assert!(!valid_plug_name("serial_port"));
    }

    #[test]
    fn versions() {
        for good in [
            "1",
            "1.0",
            "v2.3-beta+1~x",
            "a",
            "1+",
            "0123456789012345678901234567890a",
        ] {
            assert!(valid_version(good), "{good}");
        }
        for bad in ["", "-1", "1-", "1.", "a b", "01234567890123456789012345678901a"] {
            assert!(!valid_version(bad), "{bad}");
        }
    }

    #[test]
    fn commands_env_and_hooks() {
        assert!(valid_command("bin/app --flag $SNAP_DATA"));
        assert!(!valid_command("bin/app; rm"));
        assert!(valid_chain_entry("bin/wrapper"));
        assert!(!valid_chain_entry("bin/wrapper x"));
        assert!(valid_env_name("_A1"));
        assert!(!valid_env_name("1A"));
        assert!(!valid_env_name("A-B"));
        assert!(supported_hook("configure"));
        assert!(supported_hook("connect-plug-serial"));
        assert!(!supported_hook("connect-plug-"));
        assert!(!supported_hook("whatever"));
    }
}

//! Names as snapd and snap-confine accept them.
//!
//! Every rule here is hand-written (no regular expression engine runs over
//! untrusted input in the privileged launcher). The tests cross-check the
//! hand-written matchers against the equivalent regular expressions.
#![forbid(unsafe_code)]

use std::fmt;

/// Longest snap, base or component name.
pub const MAX_SNAP_NAME_LEN: usize = 40;
/// Longest instance key (the part after `_`).
pub const MAX_INSTANCE_KEY_LEN: usize = 10;
/// Longest instance name: name, `_`, key.
pub const MAX_INSTANCE_NAME_LEN: usize = MAX_SNAP_NAME_LEN + 1 + MAX_INSTANCE_KEY_LEN;
/// Longest security tag.
pub const MAX_SECURITY_TAG_LEN: usize = 256;

/// Why a name was refused. The text is the message users see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameError(pub String);

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NameError {}

fn err<T>(msg: impl Into<String>) -> Result<T, NameError> {
    Err(NameError(msg.into()))
}

/// Checks a snap name (also used for bases and components): lower case
/// letters, digits and single inner dashes, at least one letter, 2 to 40
/// characters. `what` names the thing in messages ("snap name", "base name").
pub fn validate_snap_name_as(name: &str, what: &str) -> Result<(), NameError> {
    let b = name.as_bytes();
    if b.first() == Some(&b'-') {
        return err(format!("{what} cannot start with a dash"));
    }
    let mut letters = 0usize;
    let mut prev_dash = false;
    for &c in b {
        match c {
            b'a'..=b'z' => letters += 1,
            b'0'..=b'9' => {}
            b'-' if prev_dash => return err(format!("{what} cannot contain two consecutive dashes")),
            b'-' => {}
            _ => return err(format!("{what} must use lower case letters, digits or dashes")),
        }
        prev_dash = c == b'-';
    }
    if prev_dash {
        return err(format!("{what} cannot end with a dash"));
    }
    if letters == 0 {
        return err(format!("{what} must contain at least one letter"));
    }
    if b.len() > MAX_SNAP_NAME_LEN {
        return err(format!("{what} must be shorter than {MAX_SNAP_NAME_LEN} characters"));
    }
    if b.len() < 2 {
        return err(format!("{what} must be longer than 1 character"));
    }
    Ok(())
}

/// Checks a snap name.
pub fn validate_snap_name(name: &str) -> Result<(), NameError> {
    validate_snap_name_as(name, "snap name")
}

/// Checks an instance key: 1 to 10 lower case letters or digits.
pub fn validate_instance_key(key: &str) -> Result<(), NameError> {
    if key.is_empty() {
        return err("instance key must contain at least one letter or digit");
    }
    if !key.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) {
        return err("instance key must use lower case letters or digits");
    }
    if key.len() > MAX_INSTANCE_KEY_LEN {
        return err(format!("instance key must be shorter than {MAX_INSTANCE_KEY_LEN} characters"));
    }
    Ok(())
}

/// A validated instance name, `<snap>` or `<snap>_<key>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceName {
    full: String,
    split: usize,
}

impl InstanceName {
    /// Validates `name` as an instance name.
    pub fn parse(name: &str) -> Result<Self, NameError> {
        if name.len() > MAX_INSTANCE_NAME_LEN {
            return err(format!("snap instance name can be at most {MAX_INSTANCE_NAME_LEN} characters long"));
        }
        let mut parts = name.splitn(2, '_');
        let snap = parts.next().unwrap_or("");
        let key = parts.next();
        validate_snap_name(snap)?;
        if let Some(key) = key {
            if key.contains('_') {
                return err("snap instance name can contain only one underscore");
            }
            validate_instance_key(key)?;
        }
        Ok(InstanceName { full: name.to_string(), split: snap.len() })
    }

    /// The whole instance name.
    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// The snap name, without the instance key.
    pub fn snap_name(&self) -> &str {
        self.full.get(..self.split).unwrap_or("")
    }

    /// The instance key, if any.
    pub fn instance_key(&self) -> Option<&str> {
        self.full.get(self.split + 1..).filter(|k| !k.is_empty())
    }
}

impl fmt::Display for InstanceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

/// A validated component reference `<snap>+<component>` as found in
/// `SNAP_COMPONENT_NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentRef {
    pub snap: String,
    pub component: String,
}

impl ComponentRef {
    /// Validates `value` and checks that its snap matches `instance`.
    pub fn parse(value: &str, instance: &InstanceName) -> Result<Self, NameError> {
        let Some((snap, component)) = value.split_once('+') else {
            return err("snap component name must contain a +");
        };
        validate_snap_name(snap)?;
        validate_snap_name_as(component, "component name")?;
        if snap != instance.snap_name() {
            return err("snap name in component must match snap name in instance");
        }
        Ok(ComponentRef { snap: snap.to_string(), component: component.to_string() })
    }
}

/// What a security tag names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagTarget {
    App(String),
    Hook { component: Option<String>, hook: String },
}

/// A security tag split into its parts: `snap.<instance>.<app>`,
/// `snap.<instance>.hook.<hook>` or `snap.<instance>+<component>.hook.<hook>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityTag {
    pub tag: String,
    pub instance: String,
    pub target: TagTarget,
}

impl fmt::Display for SecurityTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.tag)
    }
}

/// Bytes matching `[a-z0-9](-?[a-z0-9])*`, or `[a-zA-Z0-9](-?[a-zA-Z0-9])*`
/// when `upper`, or `[a-z](-?[a-z0-9])*` when `letter_first`.
fn is_dashed_word(s: &str, upper: bool, letter_first: bool) -> bool {
    let ok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || (upper && c.is_ascii_uppercase());
    let b = s.as_bytes();
    let Some(&first) = b.first() else { return false };
    if !ok(first) || (letter_first && !first.is_ascii_lowercase()) {
        return false;
    }
    let mut prev_dash = false;
    for &c in b {
        if c == b'-' {
            if prev_dash {
                return false;
            }
            prev_dash = true;
        } else if ok(c) {
            prev_dash = false;
        } else {
            return false;
        }
    }
    !prev_dash
}

/// Parses a security tag. Accepts exactly what snap-confine's tag expression
/// accepts:
/// `^snap\.([a-z0-9](-?[a-z0-9])*(_[a-z0-9]{1,10})?)(\.[a-zA-Z0-9](-?[a-zA-Z0-9])*|(\+([a-z0-9](-?[a-z0-9])*))?\.hook\.[a-z](-?[a-z0-9])*)$`
pub fn parse_security_tag(tag: &str) -> Result<SecurityTag, NameError> {
    let invalid = || err(format!("security tag {} not allowed", tag.escape_debug()));
    if tag.len() > MAX_SECURITY_TAG_LEN {
        return invalid();
    }
    let Some(rest) = tag.strip_prefix("snap.") else { return invalid() };
    // The instance name runs up to the first '.' or '+'; neither can occur in it.
    let end = rest.find(['.', '+']).unwrap_or(rest.len());
    let (instance, rest) = rest.split_at(end);
    let (name, key) = match instance.split_once('_') {
        Some((n, k)) => (n, Some(k)),
        None => (instance, None),
    };
    if !is_dashed_word(name, false, false) {
        return invalid();
    }
    if let Some(k) = key {
        let key_ok = !k.is_empty()
            && k.len() <= MAX_INSTANCE_KEY_LEN
            && k.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if !key_ok {
            return invalid();
        }
    }
    let (component, rest) = match rest.strip_prefix('+') {
        Some(r) => {
            let end = r.find('.').unwrap_or(r.len());
            let (c, r) = r.split_at(end);
            if !is_dashed_word(c, false, false) {
                return invalid();
            }
            (Some(c.to_string()), r)
        }
        None => (None, rest),
    };
    let Some(rest) = rest.strip_prefix('.') else { return invalid() };
    let target = if let Some(hook) = rest.strip_prefix("hook.") {
        if !is_dashed_word(hook, false, true) {
            return invalid();
        }
        TagTarget::Hook { component, hook: hook.to_string() }
    } else {
        if component.is_some() || !is_dashed_word(rest, true, false) {
            return invalid();
        }
        TagTarget::App(rest.to_string())
    };
    Ok(SecurityTag { tag: tag.to_string(), instance: instance.to_string(), target })
}

impl SecurityTag {
    /// True for hook tags that snap-confine treats as hooks when deciding
    /// whether to export the snap cookie: snap hooks whose snap name starts
    /// with a letter (component hooks are not included, as in snap-confine).
    pub fn is_cookie_exempt_hook(&self) -> bool {
        matches!(self.target, TagTarget::Hook { component: None, .. })
            && self.instance.as_bytes().first().is_some_and(|c| c.is_ascii_lowercase())
    }

    /// The name of the systemd unit prefix for this tag (`+` escaped as `\x2b`).
    pub fn unit_name(&self) -> String {
        self.tag.replace('+', "\\x2b")
    }

    /// The udev tag of this security tag as snap-confine computes it.
    pub fn udev_tag(&self) -> String {
        self.tag.replace('.', "_")
    }
}

#[cfg(test)]
mod tests;

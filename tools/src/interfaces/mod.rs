//! The interfaces: what connecting a plug grants, as data.
//!
//! Each interface is one file in `tools/data/interfaces/<name>.yaml`
//! (built into the tools): its AppArmor snippet, its seccomp lines, its
//! Landlock lines (and the Landlock scopes it lifts), its udev matches for
//! device interfaces, whether it connects automatically, and the slot
//! attributes the admin gives when assigning a device. [`catalog`]
//! returns all of them; [`Catalog::syscall_grants`] and
//! [`Catalog::apparmor_grants`] answer "which interface grants this", for a
//! denial explainer.
//!
//! Snippets may name slot attributes: `${path}` is replaced by the value of
//! attribute `path`, `${path.kernel}` by that value without its leading
//! `/dev/` (the name udev matches as `KERNEL`). A line naming a list
//! attribute is repeated for each item. The same goes for the Landlock
//! lines, which are rules of the format in [`policy_cache::landlock`].

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use policy_cache::landlock::{self, Rule, Scope};
use regex::Regex;
use serde_json::Value;
use yaml_rust2::{Yaml, YamlLoader};

use crate::seccomp::parse as seccomp_parse;

pub mod apparmor_rules;
pub mod computed;
mod data;
pub mod query;

pub use computed::{Computed, Host, Side};
pub use query::{AppArmorAccess, Grant};

/// When a plug of an interface is connected without the admin asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoConnect {
    Always,
    Never,
    /// On classic distributions, not on Ubuntu Core.
    OnClassic,
}

impl AutoConnect {
    pub fn as_str(self) -> &'static str {
        match self {
            AutoConnect::Always => "yes",
            AutoConnect::Never => "no",
            AutoConnect::OnClassic => "on classic systems",
        }
    }
}

/// An attribute the admin gives a slot of a device interface.
#[derive(Debug, Clone)]
pub struct SlotAttribute {
    pub name: String,
    pub what: String,
    /// A list of values rather than one.
    pub list: bool,
    pub pattern: Regex,
}

/// One interface.
#[derive(Debug, Clone)]
pub struct Interface {
    pub name: String,
    pub summary: String,
    pub auto_connect: AutoConnect,
    /// AppArmor rules for the apps and hooks of a connected plug.
    pub apparmor: String,
    /// Rules for the snap's `snap-update-ns` profile.
    pub apparmor_update_ns: String,
    /// seccomp lines for the apps and hooks of a connected plug.
    pub seccomp: String,
    /// Landlock rules for the apps and hooks of a connected plug, one a
    /// line (the rule lines of [`policy_cache::landlock`]).
    pub landlock: String,
    /// The scopes of the Landlock template that connecting lifts (signals
    /// to processes outside the sandbox, say).
    pub landlock_unscope: Vec<Scope>,
    /// udev matches of the devices the plug's apps get (device interfaces).
    pub udev: Vec<String>,
    pub slot_attributes: Vec<SlotAttribute>,
    /// Connecting it adds `deny ptrace (trace)` unless another connected
    /// interface needs tracing.
    pub suppress_ptrace_trace: bool,
    /// It needs ptrace tracing (which cancels the suppression).
    pub uses_ptrace_trace: bool,
    /// Its policy is also computed from both ends of the connection
    /// (content, desktop, personal-files, system-files).
    pub computed: Option<Computed>,
}

/// The policy of a connected plug, with slot attributes filled in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    pub apparmor: String,
    pub apparmor_update_ns: String,
    pub seccomp: String,
    pub landlock: String,
    pub udev: Vec<String>,
    /// Entries of the snap's mount profile.
    pub mounts: Vec<policy_cache::fstab::MountEntry>,
    /// Entries of the users' mount profile.
    pub user_mounts: Vec<policy_cache::fstab::MountEntry>,
}

/// Errors about interfaces and their attributes; the text is for users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// All interfaces, sorted by name.
#[derive(Debug)]
pub struct Catalog {
    interfaces: Vec<Interface>,
}

/// The built-in catalog. It is parsed once; an error here means a broken
/// data file (the unit tests load it, so a release cannot have one).
pub fn catalog() -> Result<&'static Catalog, Error> {
    static CATALOG: OnceLock<Result<Catalog, Error>> = OnceLock::new();
    CATALOG
        .get_or_init(|| Catalog::from_files(data::FILES))
        .as_ref()
        .map_err(Clone::clone)
}

impl Catalog {
    /// Builds a catalog from `(name, yaml)` pairs.
    pub fn from_files(files: &[(&str, &str)]) -> Result<Self, Error> {
        let mut interfaces = files
            .iter()
            .map(|(name, text)| parse_interface(name, text))
            .collect::<Result<Vec<_>, _>>()?;
        interfaces.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Catalog { interfaces })
    }

    /// Every interface.
    pub fn all(&self) -> &[Interface] {
        &self.interfaces
    }

    /// One interface by name.
    pub fn get(&self, name: &str) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.name == name)
    }
}

fn parse_interface(name: &str, text: &str) -> Result<Interface, Error> {
    let err = |m: String| Error(format!("cannot load interface {name}: {m}"));
    let docs = YamlLoader::load_from_str(text).map_err(|e| err(e.to_string()))?;
    let Some(Yaml::Hash(h)) = docs.first() else {
        return Err(err("not a map".into()));
    };
    let field = |key: &str| h.get(&Yaml::String(key.to_owned()));
    let text_of = |key: &str| -> Result<String, Error> {
        match field(key) {
            None => Ok(String::new()),
            Some(Yaml::String(s)) => Ok(s.clone()),
            Some(_) => Err(err(format!("{key} must be text"))),
        }
    };
    let flag = |key: &str| -> Result<bool, Error> {
        match field(key) {
            None => Ok(false),
            Some(Yaml::Boolean(b)) => Ok(*b),
            Some(_) => Err(err(format!("{key} must be true or false"))),
        }
    };
    for key in h.keys() {
        const KNOWN: &[&str] = &[
            "summary",
            "auto-connect",
            "apparmor",
            "apparmor-update-ns",
            "seccomp",
            "landlock",
            "landlock-unscope",
            "udev",
            "slot-attributes",
            "suppress-ptrace-trace",
            "uses-ptrace-trace",
        ];
        if !key.as_str().is_some_and(|k| KNOWN.contains(&k)) {
            return Err(err(format!("unknown field {key:?}")));
        }
    }
    let auto_connect = match field("auto-connect") {
        Some(Yaml::Boolean(true)) => AutoConnect::Always,
        Some(Yaml::Boolean(false)) | None => AutoConnect::Never,
        Some(Yaml::String(s)) if s == "classic-only" => AutoConnect::OnClassic,
        Some(_) => return Err(err("auto-connect must be true, false or classic-only".into())),
    };
    let udev = match field("udev") {
        None => Vec::new(),
        Some(Yaml::Array(items)) => items
            .iter()
            .map(|i| match i {
                Yaml::String(s) => Ok(s.clone()),
                _ => Err(err("udev must be a list of strings".into())),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(err("udev must be a list of strings".into())),
    };
    let landlock_unscope = match field("landlock-unscope") {
        None => Vec::new(),
        Some(Yaml::Array(items)) => items
            .iter()
            .map(|i| match i.as_str() {
                Some("signal") => Ok(Scope::Signal),
                Some("abstract-unix-socket") => Ok(Scope::AbstractUnixSocket),
                _ => Err(err("landlock-unscope must list signal or abstract-unix-socket".into())),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(err("landlock-unscope must be a list".into())),
    };
    let mut slot_attributes = Vec::new();
    if let Some(attrs) = field("slot-attributes") {
        let Yaml::Hash(attrs) = attrs else {
            return Err(err("slot-attributes must be a map".into()));
        };
        for (k, v) in attrs {
            let (Yaml::String(attr), Yaml::Hash(spec)) = (k, v) else {
                return Err(err("slot-attributes must map names to maps".into()));
            };
            let get = |key: &str| spec.get(&Yaml::String(key.to_owned()));
            let pattern = match get("pattern") {
                Some(Yaml::String(p)) => Regex::new(p).map_err(|e| err(format!("pattern of {attr}: {e}")))?,
                _ => return Err(err(format!("slot attribute {attr} needs a pattern"))),
            };
            slot_attributes.push(SlotAttribute {
                name: attr.clone(),
                what: match get("what") {
                    Some(Yaml::String(w)) => w.clone(),
                    _ => attr.clone(),
                },
                list: matches!(get("list"), Some(Yaml::Boolean(true))),
                pattern,
            });
        }
    }
    let iface = Interface {
        name: name.to_owned(),
        summary: text_of("summary")?,
        auto_connect,
        apparmor: text_of("apparmor")?,
        apparmor_update_ns: text_of("apparmor-update-ns")?,
        seccomp: text_of("seccomp")?,
        landlock: text_of("landlock")?,
        landlock_unscope,
        udev,
        slot_attributes,
        suppress_ptrace_trace: flag("suppress-ptrace-trace")?,
        uses_ptrace_trace: flag("uses-ptrace-trace")?,
        computed: Computed::from_name(name),
    };
    // The seccomp lines must parse (placeholders are not allowed there).
    seccomp_parse::parse(&iface.seccomp).map_err(|e| err(format!("seccomp: {e}")))?;
    // So must the Landlock lines, but for those naming slot attributes
    // (checked when rendered).
    for line in iface.landlock.lines().filter(|l| !l.contains("${")) {
        landlock_rule(line).map_err(|e| err(format!("landlock: {e}")))?;
    }
    Ok(iface)
}

/// One line of an interface's Landlock block: `None` for blank lines and
/// comments, else the rule. Only rules are allowed (no `mode`, `apply` or
/// header line: those belong to the generated file).
pub fn landlock_rule(line: &str) -> Result<Option<Rule>, Error> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let bad = |m: String| Error(format!("cannot use Landlock line {line:?}: {m}"));
    let policy = landlock::parse(&format!("landlock-policy {}\n{line}\n", landlock::VERSION))
        .map_err(|e| bad(e.message))?;
    match <[Rule; 1]>::try_from(policy.rules) {
        Ok([rule]) => Ok(Some(rule)),
        Err(_) => Err(bad("only rules may be given here".into())),
    }
}

/// The values of slot attributes, validated.
pub type SlotAttrs = BTreeMap<String, Value>;

impl Interface {
    /// Whether connecting needs a slot with attributes (a device the admin
    /// assigns) rather than the system's implicit slot.
    pub fn needs_slot_attributes(&self) -> bool {
        !self.slot_attributes.is_empty()
    }

    /// Whether connecting assigns devices to the snap's device cgroup.
    pub fn is_device_interface(&self) -> bool {
        !self.udev.is_empty()
    }

    /// The seccomp rules, parsed.
    pub fn seccomp_rules(&self) -> Vec<seccomp_parse::Rule> {
        seccomp_parse::parse(&self.seccomp).map(|s| s.rules).unwrap_or_default()
    }

    /// The AppArmor statements of the plug snippet.
    pub fn apparmor_rules(&self) -> Vec<apparmor_rules::Statement> {
        apparmor_rules::statements(&self.apparmor)
    }

    /// Checks the attributes of a slot: every declared one present and
    /// matching its pattern, no others.
    pub fn validate_slot_attrs(&self, attrs: &SlotAttrs) -> Result<(), Error> {
        for key in attrs.keys() {
            if !self.slot_attributes.iter().any(|a| &a.name == key) {
                return Err(Error(format!(
                    "cannot use attribute {key:?}: interface {} has no such slot attribute",
                    self.name
                )));
            }
        }
        for spec in &self.slot_attributes {
            let values = attr_values(attrs, spec).map_err(Error)?;
            if values.is_empty() {
                return Err(Error(format!(
                    "cannot use a {} slot without attribute {:?} ({})",
                    self.name, spec.name, spec.what
                )));
            }
            for v in values {
                if !spec.pattern.is_match(v) {
                    return Err(Error(format!(
                        "cannot use {v:?} as attribute {:?} of interface {}: it must match {}",
                        spec.name,
                        self.name,
                        spec.pattern.as_str()
                    )));
                }
            }
        }
        Ok(())
    }

    /// The policy of a plug connected to a slot with `attrs`.
    pub fn render(&self, attrs: &SlotAttrs) -> Result<Rendered, Error> {
        self.validate_slot_attrs(attrs)?;
        let values: Vec<(&SlotAttribute, Vec<&str>)> = self
            .slot_attributes
            .iter()
            .map(|s| attr_values(attrs, s).map(|v| (s, v)).map_err(Error))
            .collect::<Result<_, _>>()?;
        let fill = |text: &str| -> String {
            let mut out = String::new();
            for line in text.lines() {
                for expanded in expand_line(line, &values) {
                    out.push_str(&expanded);
                    out.push('\n');
                }
            }
            out
        };
        Ok(Rendered {
            apparmor: fill(&self.apparmor),
            apparmor_update_ns: fill(&self.apparmor_update_ns),
            seccomp: self.seccomp.clone(),
            landlock: fill(&self.landlock),
            udev: self.udev.iter().flat_map(|u| expand_line(u, &values)).collect(),
            mounts: Vec::new(),
            user_mounts: Vec::new(),
        })
    }

    /// The policy of a connected plug: what [`Interface::render`] gives,
    /// and for computed interfaces what the plug (`plug`), the snap whose
    /// slot it is (`slot`, for content) and the `host` add.
    pub fn render_plug(&self, attrs: &SlotAttrs, plug: &Side<'_>, slot: Option<&Side<'_>>, host: &Host) -> Result<Rendered, Error> {
        let mut r = self.render(attrs)?;
        if let Some(c) = self.computed {
            let x = c.plug(plug, slot, host)?;
            r.apparmor.push_str(&x.apparmor);
            r.apparmor_update_ns.push_str(&x.apparmor_update_ns);
            r.landlock.push_str(&x.landlock);
            r.mounts = x.mounts;
            r.user_mounts = x.user_mounts;
        }
        Ok(r)
    }

    /// The policy a connected slot of a snap gets (content shared writably).
    pub fn render_slot(&self, plug: &Side<'_>, slot: &Side<'_>) -> Result<Rendered, Error> {
        let Some(c) = self.computed else { return Ok(Rendered::default()) };
        let x = c.slot(plug, slot)?;
        Ok(Rendered { apparmor: x.apparmor, landlock: x.landlock, ..Rendered::default() })
    }
}

/// The string values of an attribute (one, or the items of a list).
fn attr_values<'a>(attrs: &'a SlotAttrs, spec: &SlotAttribute) -> Result<Vec<&'a str>, String> {
    match (attrs.get(&spec.name), spec.list) {
        (None, _) => Ok(Vec::new()),
        (Some(Value::String(s)), false) => Ok(vec![s.as_str()]),
        (Some(Value::Array(items)), true) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .ok_or_else(|| format!("cannot use attribute {:?}: items must be strings", spec.name))
            })
            .collect(),
        (Some(Value::String(s)), true) => Ok(vec![s.as_str()]),
        (Some(_), _) => Err(format!("cannot use attribute {:?}: it must be a string", spec.name)),
    }
}

/// Replaces the placeholders of one line; a line naming an attribute with
/// several values becomes one line per value.
fn expand_line(line: &str, values: &[(&SlotAttribute, Vec<&str>)]) -> Vec<String> {
    let mut lines = vec![line.to_owned()];
    for (spec, vals) in values {
        let plain = format!("${{{}}}", spec.name);
        let kernel = format!("${{{}.kernel}}", spec.name);
        if !line.contains(&plain) && !line.contains(&kernel) {
            continue;
        }
        let mut next = Vec::with_capacity(lines.len() * vals.len());
        for l in &lines {
            for v in vals {
                let k = v.strip_prefix("/dev/").unwrap_or(v);
                next.push(l.replace(&kernel, k).replace(&plain, v));
            }
        }
        lines = next;
    }
    lines
}

#[cfg(test)]
pub(crate) mod tests;

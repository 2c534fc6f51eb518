//! `meta/snap.yaml`: parsed, validated and with plugs and slots bound to
//! the apps and hooks that use them.
//!
//! Every error names the field it is about and starts with "cannot".
//! Unknown fields inside apps, hooks, plugs and slots are ignored, as snapd
//! ignores them (snap.yaml grows new fields over time); an unknown
//! top-level key is kept as a warning ([`SnapYaml::warnings`]) that the
//! commands print, and `layouts` (for `layout`) is an error, as in snapd.
//! Unsupported hook names are dropped, as snapd does.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use yaml_rust2::{Yaml, YamlLoader};

mod bind;
pub mod layout;
pub mod names;
mod node;
mod parts;

use bind::bind;
pub use layout::{Layout, LayoutKind, SnapDirs};
pub use node::Attrs;
use node::{child, get, Node};
use parts::{app, environment, hook, ports};

/// What went wrong, and in which field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The field, dotted (`apps.web.daemon`); empty for the whole file.
    pub field: String,
    pub message: String,
}

impl Error {
    fn field(field: &str, message: impl Into<String>) -> Self {
        Error {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "cannot use snap.yaml: {}", self.message)
        } else {
            write!(f, "cannot use snap.yaml: {}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for Error {}

/// `confinement:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confinement {
    Strict,
    Classic,
    Devmode,
}

impl Confinement {
    pub fn as_str(self) -> &'static str {
        match self {
            Confinement::Strict => "strict",
            Confinement::Classic => "classic",
            Confinement::Devmode => "devmode",
        }
    }
}

/// `grade:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grade {
    Stable,
    Devel,
}

/// `type:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapType {
    App,
    Base,
    Core,
    Gadget,
    Kernel,
    Snapd,
}

/// `apps.<name>.daemon:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Daemon {
    Simple,
    Forking,
    Oneshot,
    Dbus,
    Notify,
}

/// A plug or a slot.
#[derive(Debug, Clone, PartialEq)]
pub struct Port {
    pub name: String,
    pub interface: String,
    pub label: Option<String>,
    pub attrs: Attrs,
    /// The apps it is bound to.
    pub apps: Vec<String>,
    /// The hooks it is bound to.
    pub hooks: Vec<String>,
}

/// What systemd needs to run a daemon app, as written in snap.yaml.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Service {
    pub stop_command: Option<String>,
    pub reload_command: Option<String>,
    pub post_stop_command: Option<String>,
    /// `restart-condition` (`never` already mapped to `no`).
    pub restart_condition: Option<String>,
    pub restart_delay: Option<std::time::Duration>,
    pub stop_timeout: Option<std::time::Duration>,
    pub start_timeout: Option<std::time::Duration>,
}

/// An app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub name: String,
    pub command: String,
    pub command_chain: Vec<String>,
    /// A bash completion script in the snap (`completer:`).
    pub completer: Option<String>,
    pub daemon: Option<Daemon>,
    /// The daemon's options (empty for other apps).
    pub service: Service,
    pub environment: Vec<(String, String)>,
    pub plugs: Vec<String>,
    pub slots: Vec<String>,
}

/// A hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    pub name: String,
    pub command_chain: Vec<String>,
    pub environment: Vec<(String, String)>,
    pub plugs: Vec<String>,
    pub slots: Vec<String>,
}

/// A whole snap.yaml.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapYaml {
    pub name: String,
    pub version: String,
    pub snap_type: SnapType,
    pub base: Option<String>,
    pub confinement: Confinement,
    pub grade: Grade,
    pub summary: Option<String>,
    pub environment: Vec<(String, String)>,
    pub system_usernames: Vec<String>,
    pub apps: BTreeMap<String, App>,
    pub hooks: BTreeMap<String, Hook>,
    pub plugs: BTreeMap<String, Port>,
    pub slots: BTreeMap<String, Port>,
    /// `layout:`, by path.
    pub layout: BTreeMap<String, Layout>,
    /// What was ignored (unknown top-level keys), for the user to see.
    pub warnings: Vec<String>,
}

/// The top-level keys snapd knows.
const TOP_LEVEL_KEYS: &[&str] = &[
    "name", "version", "type", "architectures", "assumes", "title", "summary", "description", "license", "provenance", "epoch",
    "base", "confinement", "grade", "environment", "plugs", "slots", "apps", "hooks", "layout", "system-usernames", "links",
    "components",
];

impl SnapYaml {
    /// Reads `<dir>/meta/snap.yaml`, adding the hooks that exist as files in
    /// `<dir>/meta/hooks/` without being declared.
    pub fn read_dir(dir: &Path) -> Result<Self, Error> {
        let path = dir.join("meta/snap.yaml");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::field("", format!("cannot read {}: {e}", path.display())))?;
        parse_with_hooks(&text, &hook_files(dir))
    }

    /// The plugs bound to an app or hook (`hook` selects hooks).
    pub fn plugs_of(&self, name: &str, hook: bool) -> Vec<&Port> {
        self.plugs
            .values()
            .filter(|p| {
                if hook {
                    p.hooks.iter().any(|h| h == name)
                } else {
                    p.apps.iter().any(|a| a == name)
                }
            })
            .collect()
    }
}

/// Parses and validates snap.yaml text.
pub fn parse(text: &str) -> Result<SnapYaml, Error> {
    parse_with_hooks(text, &[])
}

/// The supported hook names among the files in `<dir>/meta/hooks`, sorted.
pub fn hook_files(dir: &Path) -> Vec<String> {
    let mut hooks = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir.join("meta/hooks")) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if names::supported_hook(&name) {
                hooks.push(name);
            }
        }
    }
    hooks.sort();
    hooks
}

/// Parses snap.yaml text, adding hooks that exist as files without being
/// declared (`implicit_hooks`, as [`hook_files`] finds them).
pub fn parse_with_hooks(text: &str, implicit_hooks: &[String]) -> Result<SnapYaml, Error> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| Error::field("", format!("invalid YAML: {e}")))?;
    let root = match docs.as_slice() {
        [one] => one,
        [] => return Err(Error::field("", "the file is empty")),
        _ => return Err(Error::field("", "the file holds more than one YAML document")),
    };
    let top = Node { path: "", value: root };
    if !matches!(root, Yaml::Hash(_)) {
        return top.err("the top level must be a map");
    }
    let fields = top.entries()?;
    let mut warnings = Vec::new();
    for (key, _) in &fields {
        if key == "layouts" {
            return Err(Error::field("layouts", "unknown key: use singular \"layout\" instead of plural \"layouts\""));
        }
        if !TOP_LEVEL_KEYS.contains(&key.as_str()) {
            warnings.push(format!("snap.yaml: unknown top-level key {key:?} ignored"));
        }
    }
    let text_of = |key: &str| -> Result<Option<String>, Error> {
        match get(&fields, key) {
            None | Some(Yaml::Null) => Ok(None),
            Some(v) => Node { path: key, value: v }.text().map(Some),
        }
    };

    let name = text_of("name")?.ok_or_else(|| Error::field("name", "missing"))?;
    naming::validate_snap_name(&name).map_err(|e| Error::field("name", e.0))?;
    let version = text_of("version")?.ok_or_else(|| Error::field("version", "missing"))?;
    if !names::valid_version(&version) {
        return Err(Error::field(
            "version",
            format!("{version:?} is not a valid version (1 to 32 letters, digits or \":.+~-\", starting with a letter or digit)"),
        ));
    }
    let snap_type = match text_of("type")?.as_deref() {
        None | Some("app") => SnapType::App,
        Some("base") => SnapType::Base,
        Some("core") | Some("os") => SnapType::Core,
        Some("gadget") => SnapType::Gadget,
        Some("kernel") => SnapType::Kernel,
        Some("snapd") => SnapType::Snapd,
        Some(other) => return Err(Error::field("type", format!("unknown snap type {other:?}"))),
    };
    let base = text_of("base")?;
    if let Some(b) = &base {
        if b != "none" && b != "bare" {
            naming::validate_snap_name_as(b, "base name").map_err(|e| Error::field("base", e.0))?;
        }
    }
    let confinement = match text_of("confinement")?.as_deref() {
        None | Some("strict") => Confinement::Strict,
        Some("classic") => Confinement::Classic,
        Some("devmode") => Confinement::Devmode,
        Some(other) => {
            return Err(Error::field(
                "confinement",
                format!("unknown confinement {other:?} (expected strict, classic or devmode)"),
            ))
        }
    };
    let grade = match text_of("grade")?.as_deref() {
        None | Some("stable") | Some("") => Grade::Stable,
        Some("devel") => Grade::Devel,
        Some(other) => {
            return Err(Error::field(
                "grade",
                format!("unknown grade {other:?} (expected stable or devel)"),
            ))
        }
    };
    let summary = text_of("summary")?;
    let environment = environment(&fields, "environment")?;
    let system_usernames = match get(&fields, "system-usernames") {
        None => Vec::new(),
        Some(v) => Node {
            path: "system-usernames",
            value: v,
        }
        .entries()?
        .into_iter()
        .map(|(k, _)| k)
        .collect(),
    };

    let mut plugs = ports(&fields, "plugs")?;
    let mut slots = ports(&fields, "slots")?;

    let mut apps = BTreeMap::new();
    if let Some(v) = get(&fields, "apps") {
        for (app_name, value) in (Node { path: "apps", value: v }).entries()? {
            let path = child("apps", &app_name);
            let app = app(&path, &app_name, value)?;
            apps.insert(app_name, app);
        }
    }
    let mut hooks = BTreeMap::new();
    if let Some(v) = get(&fields, "hooks") {
        for (hook_name, value) in (Node {
            path: "hooks",
            value: v,
        })
        .entries()?
        {
            let path = child("hooks", &hook_name);
            if !names::valid_hook_name(&hook_name) {
                return Err(Error::field(&path, format!("{hook_name:?} is not a valid hook name")));
            }
            if !names::supported_hook(&hook_name) {
                continue;
            }
            let h = hook(&path, &hook_name, value)?;
            hooks.insert(hook_name, h);
        }
    }
    for name in implicit_hooks {
        hooks.entry(name.clone()).or_insert_with(|| Hook {
            name: name.clone(),
            command_chain: Vec::new(),
            environment: Vec::new(),
            plugs: Vec::new(),
            slots: Vec::new(),
        });
    }
    let layout = match get(&fields, "layout") {
        None | Some(Yaml::Null) => BTreeMap::new(),
        Some(v) => layout::layouts(v)?,
    };
    layout::validate(&layout, &name)?;
    bind(&mut plugs, &apps, &hooks, |a| &a.plugs, |h| &h.plugs);
    bind(&mut slots, &apps, &hooks, |a| &a.slots, |h| &h.slots);
    if let Some(name) = plugs.keys().find(|n| slots.contains_key(*n)) {
        return Err(Error::field(
            &child("plugs", name),
            format!("{name:?} is both a plug and a slot"),
        ));
    }
    Ok(SnapYaml {
        name,
        version,
        snap_type,
        base,
        confinement,
        grade,
        summary,
        environment,
        system_usernames,
        apps,
        hooks,
        plugs,
        slots,
        layout,
        warnings,
    })
}

#[cfg(test)]
mod tests;

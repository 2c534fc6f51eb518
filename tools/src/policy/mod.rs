//! The policy of one snap, generated as text: an AppArmor profile, a
//! seccomp `.src` and (but for classic snaps) a Landlock policy per app and
//! hook, the snap's `snap-update-ns` profile, its udev rules and its device
//! cgroup file.
//!
//! Nothing here touches the system; [`crate::deploy`] writes and loads the
//! result.

use std::collections::BTreeMap;
use std::fmt;

use naming::InstanceName;

use crate::interfaces::{Interface, Rendered, SlotAttrs};
use crate::snapyaml::{Confinement, SnapYaml};

pub mod apparmor;
pub mod landlock;
pub mod seccomp_src;
pub mod templates;
pub mod udev;

/// A snap as the policy sees it.
#[derive(Debug, Clone, Copy)]
pub struct Snap<'a> {
    pub yaml: &'a SnapYaml,
    pub instance: &'a InstanceName,
    /// `N`, or `xN` for a snap not from the store.
    pub revision: &'a str,
}

/// A connected plug of the snap.
#[derive(Debug, Clone, Copy)]
pub struct Connected<'a> {
    pub plug: &'a str,
    pub interface: &'a Interface,
    /// The attributes of the slot it is connected to.
    pub slot_attrs: &'a SlotAttrs,
}

/// Choices the caller makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The compiler's `version-info` line, copied into every `.src`.
    pub version_info: String,
    /// Whether the launcher applies the Landlock policies on top of
    /// AppArmor too (`apply always`), not only where AppArmor is missing.
    pub landlock_always: bool,
}

/// The generated files, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyFiles {
    /// Profile name (also the file name) to profile text.
    pub apparmor: BTreeMap<String, String>,
    /// Security tag to `.src` text.
    pub seccomp: BTreeMap<String, String>,
    /// Security tag to Landlock policy text (none for classic snaps).
    pub landlock: BTreeMap<String, String>,
    /// The udev rules file, if any device is assigned.
    pub udev_rules: Option<String>,
    /// The device cgroup file (always written: the launcher waits for it).
    pub device: String,
}

/// Why a policy could not be generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// An app or a hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runnable {
    /// `snap.<instance>.<app>` or `snap.<instance>.hook.<hook>`.
    pub tag: String,
    /// The app name, or `hook.<hook>`.
    pub command_name: String,
    /// The app or hook name.
    pub name: String,
    pub is_hook: bool,
}

/// The apps and hooks of a snap, apps first, each sorted by name.
pub fn runnables(yaml: &SnapYaml, instance: &InstanceName) -> Vec<Runnable> {
    let inst = instance.as_str();
    let apps = yaml.apps.keys().map(|a| Runnable {
        tag: format!("snap.{inst}.{a}"),
        command_name: a.clone(),
        name: a.clone(),
        is_hook: false,
    });
    let hooks = yaml.hooks.keys().map(|h| Runnable {
        tag: format!("snap.{inst}.hook.{h}"),
        command_name: format!("hook.{h}"),
        name: h.clone(),
        is_hook: true,
    });
    apps.chain(hooks).collect()
}

/// A connected plug's rendered policy, with the interface it came from.
struct Snippet<'a> {
    plug: &'a str,
    interface: &'a Interface,
    rendered: Rendered,
}

/// Generates every file of the snap's policy.
pub fn generate(snap: &Snap<'_>, connected: &[Connected<'_>], options: &Options) -> Result<PolicyFiles, Error> {
    let mut rendered = Vec::new();
    for c in connected {
        let plug = snap.yaml.plugs.get(c.plug).ok_or_else(|| {
            Error(format!(
                "cannot generate the policy of {}: it has no plug {:?}",
                snap.instance, c.plug
            ))
        })?;
        if plug.interface != c.interface.name {
            return Err(Error(format!(
                "cannot generate the policy of {}: plug {:?} has interface {}, not {}",
                snap.instance, c.plug, plug.interface, c.interface.name
            )));
        }
        let r = c.interface.render(c.slot_attrs).map_err(|e| Error(e.0))?;
        rendered.push(Snippet {
            plug: c.plug,
            interface: c.interface,
            rendered: r,
        });
    }
    rendered.sort_by(|a, b| a.plug.cmp(b.plug));

    let mut files = PolicyFiles::default();
    let runnables = runnables(snap.yaml, snap.instance);
    let mut udev_entries = Vec::new();
    for r in &runnables {
        let mine: Vec<&Snippet<'_>> = rendered
            .iter()
            .filter(|s| {
                snap.yaml.plugs.get(s.plug).is_some_and(|p| {
                    if r.is_hook {
                        p.hooks.contains(&r.name)
                    } else {
                        p.apps.contains(&r.name)
                    }
                })
            })
            .collect();
        files
            .apparmor
            .insert(r.tag.clone(), apparmor::profile(snap, r, &mine_parts(&mine)));
        files.seccomp.insert(
            r.tag.clone(),
            seccomp_src::source(snap, &mine_parts(&mine), &options.version_info),
        );
        if let Some(text) = landlock::policy(snap, r, &mine_parts(&mine), options.landlock_always)? {
            files.landlock.insert(r.tag.clone(), text);
        }
        for s in &mine {
            for m in &s.rendered.udev {
                udev_entries.push(udev::Entry {
                    tag: r.tag.clone(),
                    interface: s.interface.name.clone(),
                    matcher: m.clone(),
                });
            }
        }
    }
    if !runnables.is_empty() {
        let all: Vec<&Snippet<'_>> = rendered.iter().collect();
        let name = format!("snap-update-ns.{}", snap.instance);
        files
            .apparmor
            .insert(name, apparmor::update_ns_profile(snap, &mine_parts(&all)));
    }
    let non_strict = snap.yaml.confinement != Confinement::Strict;
    files.udev_rules = udev::rules(&udev_entries, non_strict);
    files.device = udev::device_file(non_strict);
    Ok(files)
}

/// The part of a snippet the renderers need.
pub struct Part<'a> {
    pub plug: &'a str,
    pub interface: &'a Interface,
    pub rendered: &'a Rendered,
}

fn mine_parts<'a>(snippets: &[&'a Snippet<'a>]) -> Vec<Part<'a>> {
    snippets
        .iter()
        .map(|s| Part {
            plug: s.plug,
            interface: s.interface,
            rendered: &s.rendered,
        })
        .collect()
}

#[cfg(test)]
mod tests;

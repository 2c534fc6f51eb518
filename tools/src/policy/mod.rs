//! The policy of one snap, generated as text: an AppArmor profile, a
//! seccomp `.src` and (but for classic snaps) a Landlock policy per app and
//! hook, the snap's `snap-update-ns` profile, its mount profiles, its udev
//! rules and its device cgroup file.
//!
//! Nothing here touches the system; [`crate::deploy`] writes and loads the
//! result.

use std::collections::BTreeMap;
use std::fmt;

use naming::InstanceName;

use crate::interfaces::{Host, Interface, Rendered, Side, SlotAttrs};
use crate::snapyaml::{Confinement, SnapDirs, SnapYaml};

pub mod apparmor;
pub mod landlock;
pub mod mount;
pub mod seccomp_src;
pub mod templates;
pub mod udev;
pub mod update_ns;

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
    /// The attributes of the slot it is connected to (a system slot's).
    pub slot_attrs: &'a SlotAttrs,
    /// The snap whose slot it is, when it is a snap's slot (content).
    pub slot_snap: Option<Peer<'a>>,
}

/// The snap at the other end of a connection, and its plug or slot.
#[derive(Debug, Clone, Copy)]
pub struct Peer<'a> {
    pub yaml: &'a SnapYaml,
    pub instance: &'a InstanceName,
    pub revision: &'a str,
    /// The name of its plug or slot.
    pub port: &'a str,
}

/// A slot of the snap connected to another snap's plug.
#[derive(Debug, Clone, Copy)]
pub struct ConnectedSlot<'a> {
    pub slot: &'a str,
    pub interface: &'a Interface,
    pub plug_snap: Peer<'a>,
}

impl<'a> Peer<'a> {
    /// This end as the interfaces see it (`slot`: the port is a slot).
    fn side(&self, slot: bool) -> Result<Side<'a>, Error> {
        let ports = if slot { &self.yaml.slots } else { &self.yaml.plugs };
        let port = ports.get(self.port).ok_or_else(|| {
            Error(format!("cannot generate the policy of {}: snap {} has no {} {:?}", self.instance, self.instance, if slot { "slot" } else { "plug" }, self.port))
        })?;
        Ok(Side {
            dirs: SnapDirs { name: self.instance.snap_name(), revision: self.revision },
            instance: self.instance.as_str(),
            name: self.port,
            attrs: &port.attrs,
        })
    }
}

/// Choices the caller makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The compiler's `version-info` line, copied into every `.src`.
    pub version_info: String,
    /// Whether the launcher applies the Landlock policies on top of
    /// AppArmor too (`apply always`), not only where AppArmor is missing.
    pub landlock_always: bool,
    /// What the host has that interfaces bind in (fonts).
    pub host: Host,
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
    /// The mount profiles (`snap.<instance>.fstab`, `.user-fstab`).
    pub mounts: mount::Profiles,
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

/// A connected plug's or slot's rendered policy, with the interface it
/// came from.
struct Snippet<'a> {
    /// The plug's or slot's name.
    port: &'a str,
    slot: bool,
    interface: &'a Interface,
    rendered: Rendered,
}

impl Snippet<'_> {
    /// Whether an app (or a hook, `hook`) named `name` uses it.
    fn used_by(&self, yaml: &SnapYaml, name: &str, hook: bool) -> bool {
        let ports = if self.slot { &yaml.slots } else { &yaml.plugs };
        ports.get(self.port).is_some_and(|p| if hook { p.hooks.iter().any(|h| h == name) } else { p.apps.iter().any(|a| a == name) })
    }
}

/// Renders the snap's connected plugs and slots, sorted by name (plugs first).
fn render_all<'a>(snap: &Snap<'a>, connected: &[Connected<'a>], slots: &[ConnectedSlot<'a>], options: &Options) -> Result<Vec<Snippet<'a>>, Error> {
    let me = |port: &'a str, slot: bool| Peer { yaml: snap.yaml, instance: snap.instance, revision: snap.revision, port }.side(slot);
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
        let peer = c.slot_snap.map(|p| p.side(true)).transpose()?;
        let r = c.interface.render_plug(c.slot_attrs, &me(c.plug, false)?, peer.as_ref(), &options.host).map_err(|e| Error(e.0))?;
        rendered.push(Snippet { port: c.plug, slot: false, interface: c.interface, rendered: r });
    }
    rendered.sort_by(|a, b| a.port.cmp(b.port));
    let mut slot_parts = Vec::new();
    for s in slots {
        let r = s.interface.render_slot(&s.plug_snap.side(false)?, &me(s.slot, true)?).map_err(|e| Error(e.0))?;
        slot_parts.push(Snippet { port: s.slot, slot: true, interface: s.interface, rendered: r });
    }
    slot_parts.sort_by(|a, b| a.port.cmp(b.port));
    rendered.extend(slot_parts);
    Ok(rendered)
}

/// Generates every file of the snap's policy: `connected` are its
/// connected plugs, `slots` its slots connected to other snaps' plugs.
pub fn generate(snap: &Snap<'_>, connected: &[Connected<'_>], slots: &[ConnectedSlot<'_>], options: &Options) -> Result<PolicyFiles, Error> {
    let rendered = render_all(snap, connected, slots, options)?;
    let mut files = PolicyFiles::default();
    let runnables = runnables(snap.yaml, snap.instance);
    let layouts = Layouts { apparmor: mount::layout_apparmor(snap), landlock: mount::layout_landlock(snap) };
    let mut udev_entries = Vec::new();
    for r in &runnables {
        let mine: Vec<&Snippet<'_>> = rendered.iter().filter(|s| s.used_by(snap.yaml, &r.name, r.is_hook)).collect();
        files
            .apparmor
            .insert(r.tag.clone(), apparmor::profile(snap, r, &mine_parts(&mine), &layouts.apparmor));
        files.seccomp.insert(
            r.tag.clone(),
            seccomp_src::source(snap, &mine_parts(&mine), &options.version_info),
        );
        if let Some(text) = landlock::policy(snap, r, &mine_parts(&mine), &layouts.landlock, options.landlock_always)? {
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
    let plugs: Vec<&Snippet<'_>> = rendered.iter().filter(|s| !s.slot).collect();
    if !runnables.is_empty() {
        let name = format!("snap-update-ns.{}", snap.instance);
        files
            .apparmor
            .insert(name, apparmor::update_ns_profile(snap, &mine_parts(&plugs), &mount::update_ns_apparmor(snap)));
    }
    if snap.yaml.confinement != Confinement::Classic {
        files.mounts = mount::profiles(snap, &mine_parts(&plugs));
    }
    let non_strict = snap.yaml.confinement != Confinement::Strict;
    files.udev_rules = udev::rules(&udev_entries, non_strict);
    files.device = udev::device_file(non_strict);
    Ok(files)
}

/// What the snap's layouts add to each app's and hook's policy.
struct Layouts {
    apparmor: String,
    landlock: String,
}

/// The part of a snippet the renderers need.
pub struct Part<'a> {
    /// The plug's (or slot's) name.
    pub plug: &'a str,
    /// It is a slot of the snap.
    pub slot: bool,
    pub interface: &'a Interface,
    pub rendered: &'a Rendered,
}

impl Part<'_> {
    /// `plug NAME` or `slot NAME`, for comments.
    pub fn label(&self) -> String {
        format!("{} {}", if self.slot { "slot" } else { "plug" }, self.plug)
    }
}

fn mine_parts<'a>(snippets: &[&'a Snippet<'a>]) -> Vec<Part<'a>> {
    snippets
        .iter()
        .map(|s| Part {
            plug: s.port,
            slot: s.slot,
            interface: s.interface,
            rendered: &s.rendered,
        })
        .collect()
}

#[cfg(test)]
mod tests;

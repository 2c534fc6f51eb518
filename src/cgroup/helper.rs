//! `snap-device-helper`: what udev runs when a device tagged for a snap app
//! comes, changes or goes, so that a running app sees hotplugged devices.
//!
//! Same contract as snap-confine's helper. The daemon's udev rules run
//!
//! ```text
//! snap-device-helper $env{ACTION} <udev tag> $devpath $major:$minor
//! ```
//!
//! (the old form, four arguments) or `snap-device-helper <udev tag>`; the
//! udev tag is the second argument of the first form, the only one of the
//! second, and everything else comes from udev's environment: `ACTION`,
//! `MAJOR`, `MINOR`, `SUBSYSTEM`. `add`, `bind` and `change` allow the
//! device (a block device when `SUBSYSTEM` is `block`, else a character
//! device) in the app's device cgroup, `remove` denies it, `unbind` is
//! ignored. Only an existing device cgroup is changed: when the app never
//! ran there is nothing to do, and its next launch reads the udev database.

use super::bpf::DevKind;
use super::devices::{DeviceCgroup, Rule};
use crate::debug::Debug;
use crate::error::{Error, Result};
use crate::settings::{lookup, Env, Settings};
use crate::sys::Sys;
use naming::SecurityTag;
use std::ffi::{OsStr, OsString};

/// What to do about one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing (the reason, for debug output).
    Ignore(&'static str),
    Allow(SecurityTag, Rule),
    Deny(SecurityTag, Rule),
}

/// The event as udev describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    pub udev_tag: String,
    pub action: Option<String>,
    pub major: Option<String>,
    pub minor: Option<String>,
    pub subsystem: Option<String>,
}

fn text(v: &OsStr, what: &str) -> Result<String> {
    v.to_str().map(str::to_string).ok_or_else(|| Error::because(format!("use {what}"), "it is not UTF-8"))
}

impl Event {
    /// Reads the event from the command line and udev's environment.
    pub fn from_invocation(argv: &[OsString], env: &Env) -> Result<Event> {
        // argv[0], then either the tag alone or ACTION, tag, devpath, maj:min.
        let tag = match argv.len() {
            2 => argv.get(1),
            n if n >= 5 => argv.get(2),
            _ => None,
        }
        .ok_or_else(|| Error::because("run snap-device-helper", "incorrect number of arguments"))?;
        let var = |k: &str| lookup(env, k).map(|v| text(v, k)).transpose();
        Ok(Event {
            udev_tag: text(tag, "the udev tag")?,
            action: var("ACTION")?,
            major: var("MAJOR")?,
            minor: var("MINOR")?,
            subsystem: var("SUBSYSTEM")?,
        })
    }
}

/// Major and minor numbers as udev gives them: decimal.
fn device_number(text: &str) -> Result<u32> {
    if text.is_empty() || text.len() > 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::because(format!("use device number {text:?}"), "it is not a decimal number"));
    }
    text.parse::<u32>().map_err(|_| Error::because(format!("use device number {text:?}"), "it is too large"))
}

/// The security tag a udev tag stands for. The daemon makes udev tags from
/// security tags with `.` → `_` and `+` → `__`: `snap_foo_app`,
/// `snap_foo_key_app`, `snap_foo_hook_install`, `snap_foo_key_hook_install`,
/// `snap_foo__comp_hook_install`. Names never hold `_`, so the parts are
/// found by counting; `snap_foo_hook_x` is read as a hook of `foo` rather
/// than an app of instance `foo_hook` (as snap-confine reads it).
pub fn security_tag_of(udev_tag: &str) -> Result<SecurityTag> {
    let malformed = |why: &str| Error::because(format!("use udev tag {udev_tag:?}"), why.to_string());
    let rest = udev_tag.strip_prefix("snap_").ok_or_else(|| malformed("it does not start with snap_"))?;
    if udev_tag.len() < "snap_a_b".len() || udev_tag.len() > naming::MAX_SECURITY_TAG_LEN {
        return Err(malformed("its length is wrong"));
    }
    let tag = match rest.split_once("__") {
        Some((instance, target)) => {
            if target.contains("__") {
                return Err(malformed("it has more than one component separator"));
            }
            let (component, hook) = target
                .split_once('_')
                .and_then(|(c, h)| h.strip_prefix("hook_").map(|h| (c, h)))
                .ok_or_else(|| malformed("a component is named but no hook"))?;
            format!("snap.{instance}+{component}.hook.{hook}")
        }
        None => match rest.split('_').collect::<Vec<_>>().as_slice() {
            [snap, app] => format!("snap.{snap}.{app}"),
            [snap, "hook", hook] => format!("snap.{snap}.hook.{hook}"),
            [snap, key, app] => format!("snap.{snap}_{key}.{app}"),
            [snap, key, "hook", hook] => format!("snap.{snap}_{key}.hook.{hook}"),
            _ => return Err(malformed("it does not name a snap app or hook")),
        },
    };
    naming::parse_security_tag(&tag).map_err(|_| malformed(&format!("security tag {tag:?} is not valid")))
}

/// What to do about `event`, before anything is touched.
pub fn decide(event: &Event) -> Result<Verdict> {
    let what = "handle a device event";
    let (major, minor) = match (&event.major, &event.minor) {
        (None, None) => return Ok(Verdict::Ignore("no device node")),
        (Some(major), Some(minor)) => (major, minor),
        _ => return Err(Error::because(what, "incomplete major/minor")),
    };
    if matches!(event.subsystem.as_deref(), Some("subsystem" | "module" | "drivers")) {
        return Ok(Verdict::Ignore("not a device"));
    }
    let allow = match event.action.as_deref() {
        None => return Err(Error::because(what, "no action given")),
        Some("add" | "bind" | "change") => true,
        Some("remove") => false,
        Some("unbind") => return Ok(Verdict::Ignore("unbind leaves the device node")),
        Some(other) => return Err(Error::because(what, format!("unknown action {other:?}"))),
    };
    let tag = security_tag_of(&event.udev_tag)?;
    let kind = if event.subsystem.as_deref() == Some("block") { DevKind::Block } else { DevKind::Char };
    let rule = Rule { kind, major: device_number(major)?, minor: device_number(minor)? };
    if rule.minor == super::bpf::MINOR_ANY {
        return Err(Error::because(format!("use device number {minor:?}"), "it is too large"));
    }
    Ok(if allow { Verdict::Allow(tag, rule) } else { Verdict::Deny(tag, rule) })
}

/// The helper: decides, then changes the app's existing device cgroup.
pub fn run<S: Sys>(sys: &S, argv: &[OsString], env: &Env) -> Result<Verdict> {
    let debug = Debug::new(Settings::from_env(env)?.debug);
    let event = Event::from_invocation(argv, env)?;
    let verdict = decide(&event)?;
    let (tag, rule, allow) = match &verdict {
        Verdict::Ignore(why) => {
            debug.say(format_args!("nothing to do: {why}"));
            return Ok(verdict);
        }
        Verdict::Allow(tag, rule) => (tag, rule, true),
        Verdict::Deny(tag, rule) => (tag, rule, false),
    };
    let Some(group) = DeviceCgroup::open(sys, tag, true, &debug)? else {
        debug.say(format_args!("{tag} has no device cgroup: nothing to do"));
        return Ok(verdict);
    };
    let changed = if allow { group.allow(sys, rule) } else { group.deny(sys, rule) };
    let closed = group.close(sys);
    changed.and(closed)?;
    debug.say(format_args!("{} {rule} for {tag}", if allow { "allowed" } else { "denied" }));
    Ok(verdict)
}

#[cfg(test)]
#[path = "helper_tests.rs"]
mod tests;

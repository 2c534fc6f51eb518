//! `snap-run`, step by step, as `snap run` goes: the command line; a wait
//! while the snap is being refreshed (a snap being removed is not run); the
//! launch worked out for the caller (directories, environment, X11 cookie);
//! the app's own cgroup (a systemd scope); then the launcher, directly, or
//! under strace.

use super::dbus::{self, Bus};
use super::track::{self, Tracking};
use super::{Error, Request, Resolved};
use crate::inhibit::{self, Hint};
use nix::fcntl::Flock;
use std::fs::File;
use std::path::Path;
use std::time::Duration;

/// Whether a debug variable is on (`1`, `yes`, `true`, as the launcher reads it).
fn is_on(env: &[(String, String)], key: &str) -> bool {
    env.iter().any(|(k, v)| k == key && matches!(v.as_str(), "1" | "yes" | "true"))
}

/// Debug output of snap-run (`SNAP_CONFINE_DEBUG`, `SNAPD_DEBUG`, `--debug-log`).
struct Debug(bool);

impl Debug {
    fn say(&self, msg: &str) {
        if self.0 {
            eprintln!("DEBUG: snap-run: {msg}");
        }
    }

    fn stage(&self, name: &str) {
        if self.0 {
            eprintln!("DEBUG: {}", confine::debug::startup_line(name, std::time::SystemTime::now()));
        }
    }
}

/// How often the inhibition lock is read again while waiting.
const POLL: Duration = Duration::from_millis(500);

/// The notice a refresh gives the user: text on stderr, and a desktop notice
/// where the session has a display and a bus.
struct Notice {
    bus: Option<(zbus::blocking::Connection, u32)>,
}

impl Notice {
    fn show(instance: &str, env: &[(String, String)], uid: u32, debug: &Debug) -> Notice {
        let text = format!("snap package {instance:?} is being refreshed, please wait");
        eprintln!("{text}");
        let graphical = env.iter().any(|(k, v)| (k == "DISPLAY" || k == "WAYLAND_DISPLAY") && !v.is_empty());
        if !graphical {
            return Notice { bus: None };
        }
        let shown = dbus::connect(Bus::Session, uid, env).and_then(|c| {
            let body = format!("{instance} will start when the refresh is done.");
            dbus::notify(&c, &format!("Snap \"{instance}\" is being refreshed"), &body).map(|id| (c, id))
        });
        match shown {
            Ok(b) => Notice { bus: Some(b) },
            Err(e) => {
                debug.say(&e);
                Notice { bus: None }
            }
        }
    }

    fn close(self) {
        if let Some((c, id)) = self.bus {
            dbus::close_notice(&c, id);
        }
    }
}

/// What the wait ends with: the inhibition lock held (shared) until the app
/// is tracked, and the snap as it is now.
struct Cleared {
    lock: Option<Flock<File>>,
    resolved: Resolved,
}

/// Waits while the snap is being refreshed, then reads it again (the new
/// revision); a snap being removed, or disabled, is not run. Daemons are
/// not held back: they run the revision that was current before.
fn wait_while_inhibited(req: &Request, root: &Path, env: &[(String, String)], uid: u32, debug: &Debug) -> Result<Cleared, Error> {
    let cannot = |why: &str| Error(format!("cannot run {:?}: {why}", req.target));
    let mut notice: Option<Notice> = None;
    loop {
        let instance = super::instance_of(req);
        // The lock first: what is read under it stays true until it goes.
        let lock = inhibit::read(root, instance).map_err(|e| cannot(&e))?;
        let (lock, state) = match lock {
            None => (None, None),
            Some((l, s)) => (Some(l), Some(s)),
        };
        let hint = state.as_ref().map(|s| s.hint.clone()).unwrap_or(Hint::Free);
        match hint {
            Hint::Free => {
                if let Some(n) = notice.take() {
                    n.close();
                }
                return Ok(Cleared { lock, resolved: super::resolve(req, root, None)? });
            }
            Hint::Remove => return Err(cannot("snap is being removed")),
            Hint::Disable => return Err(cannot("snap is disabled")),
            Hint::Refresh | Hint::Other(_) => {
                // A daemon keeps running the previous revision's code.
                let previous = state.and_then(|s| s.previous);
                if let Some(prev) = previous.as_deref() {
                    let old = super::resolve(req, root, Some(prev))?;
                    if old.is_service() {
                        debug.say(&format!("{instance} is inhibited ({}): the service runs revision {prev}", hint.as_str()));
                        return Ok(Cleared { lock, resolved: old });
                    }
                }
                if hint == Hint::Refresh && notice.is_none() {
                    notice = Some(Notice::show(instance, env, uid, debug));
                }
                debug.say(&format!("{instance} is inhibited ({}): waiting", hint.as_str()));
            }
        }
        drop(lock);
        std::thread::sleep(POLL);
    }
}

/// snap-run: returns the exit code when it does not become the app.
pub fn main(argv: Vec<std::ffi::OsString>, mut env: Vec<(String, String)>) -> u8 {
    let req = match super::parse_args(argv) {
        Ok(r) => r,
        Err(e) if e.0.starts_with("Usage:") => {
            print!("{e}");
            return 0;
        }
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    if req.debug_log {
        env.retain(|(k, _)| k != "SNAPD_DEBUG");
        env.push(("SNAPD_DEBUG".into(), "1".into()));
    }
    let debug = Debug(is_on(&env, "SNAP_CONFINE_DEBUG") || is_on(&env, "SNAPD_DEBUG"));
    match run(&req, &env, &debug) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}

fn run(req: &Request, env: &[(String, String)], debug: &Debug) -> Result<u8, Error> {
    debug.stage("start");
    let root = Path::new("/");
    let uid = nix::unistd::getuid().as_raw();
    let euid = nix::unistd::geteuid().as_raw();
    let mut attempt = 0;
    let launch = loop {
        // Hooks are run by snapd itself during changes: never held back.
        let cleared = if req.hook.is_some() {
            Cleared { lock: None, resolved: super::resolve(req, root, None)? }
        } else {
            wait_while_inhibited(req, root, env, uid, debug)?
        };
        let launch = super::prepare(req, &cleared.resolved, root, env)?;
        let target = track::Target { tag: &launch.tag, hook: req.hook.is_some(), service: cleared.resolved.is_service() };
        let say = |m: &str| debug.say(m);
        match track::track(&target, uid, env, &say).map_err(Error)? {
            Tracking::Already(path) => debug.say(&format!("tracked already, in {path}")),
            Tracking::Scope { unit, bus, took } => {
                debug.say(&format!("in scope {unit}, made by systemd on the {} in {:.1} ms", bus.name(), took.as_secs_f64() * 1e3))
            }
            Tracking::Leaf(path) => debug.say(&format!("no systemd here: in the cgroup {} made for the app", path.display())),
            Tracking::Untracked(why) => debug.say(&format!("not tracked: {why}")),
        }
        // A snap that had no lock file was not protected by one: if a
        // change began meanwhile, go through the wait again (once: the app
        // is tracked now, and later changes see it).
        let raced = cleared.lock.is_none() && req.hook.is_none() && inhibit::lock_file(root, &launch.instance).exists();
        // Tracked: a refresh that starts now sees the app running.
        drop(cleared);
        if raced && attempt == 0 {
            attempt += 1;
            debug.say("a change of the snap began meanwhile: checking again");
            continue;
        }
        break launch;
    };
    debug.stage("snap to snap-confine");
    if req.command.as_deref() == Some("complete") {
        return super::complete::run(&launch, &req.target, super::complete::TIMEOUT);
    }
    if let Some(options) = &req.strace {
        return super::trace::strace(&launch, options, euid);
    }
    if req.trace_exec {
        return super::trace::trace_exec(&launch, euid);
    }
    Err(super::exec(launch))
}

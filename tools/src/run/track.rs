//! The cgroup an app runs in. Like `snap run`, snap-run has systemd put each
//! app and hook it starts in a transient scope `snap.<tag>-<uuid>.scope`
//! (asked over D-Bus: the session's systemd for a user's app, the system's
//! for root and for hooks), so the processes of a snap can be found by their
//! cgroup: refreshes see the snap running, and on cgroup v2 the launcher
//! attaches the app's device filter to that scope (and refuses any cgroup
//! that is not the app's own). Daemons are in their service's cgroup
//! already. Where systemd does not run, snap-run makes that leaf itself in
//! the cgroup v2 hierarchy, as a child of the cgroup it was started in, when
//! it may (root, or a delegated subtree).

use super::dbus::{self, Bus, ScopeError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What is being tracked.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The security tag, `snap.<instance>.<app>` or `snap.<instance>.hook.<hook>`.
    pub tag: &'a str,
    pub hook: bool,
    /// A daemon app (systemd runs it in its service's cgroup).
    pub service: bool,
}

/// Where the app runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tracking {
    /// In a cgroup of its own already: its service's, or a scope made by an
    /// earlier try.
    Already(String),
    /// In a new systemd scope, made through this bus.
    Scope { unit: String, bus: Bus, took: Duration },
    /// No systemd here: in a leaf of our own.
    Leaf(PathBuf),
    /// Not tracked, and why (systemd's cgroup of the caller is kept).
    Untracked(String),
}

/// systemd's name for a security tag: `+` (components) becomes `\x2b`.
pub fn unit_name(tag: &str) -> String {
    tag.replace('+', "\\x2b")
}

/// The cgroup v2 path of a process, from its `/proc/<pid>/cgroup`.
pub fn v2_path(proc_cgroup: &str) -> Option<&str> {
    proc_cgroup.lines().find_map(|l| l.strip_prefix("0::"))
}

/// The path in systemd's own tracking hierarchy: the v2 one on a unified
/// host, else the `name=systemd` v1 hierarchy (the hybrid layout).
pub fn tracking_path(proc_cgroup: &str, unified: bool) -> Option<&str> {
    if unified {
        return v2_path(proc_cgroup);
    }
    proc_cgroup.lines().find_map(|l| {
        let mut f = l.splitn(3, ':');
        let (_id, controllers, path) = (f.next()?, f.next()?, f.next()?);
        (controllers == "name=systemd").then_some(path)
    })
}

/// Whether `/sys/fs/cgroup` is the cgroup v2 hierarchy itself.
pub fn is_unified() -> bool {
    nix::sys::statfs::statfs("/sys/fs/cgroup").is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
}

/// Where the cgroup v2 hierarchy is mounted, from `/proc/self/mountinfo`.
pub fn v2_mount(mountinfo: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        let fstype = right.split(' ').next()?;
        let mut fields = left.split(' ').skip(3);
        let (root, point) = (fields.next()?, fields.next()?);
        (fstype == "cgroup2" && root == "/").then(|| PathBuf::from(point))
    })
}

/// Whether a cgroup path is already the app's own: its service (daemons),
/// or a scope of its tag.
pub fn is_own_group(path: &str, t: &Target<'_>) -> bool {
    let unit = unit_name(t.tag);
    let last = path.rsplit('/').next().unwrap_or(path);
    (t.service && last == format!("{unit}.service"))
        || (last.strip_prefix(&format!("{unit}-")).is_some_and(|rest| rest.len() > ".scope".len() && rest.ends_with(".scope")))
}

/// Whether systemd is the service manager here (`sd_booted`).
pub fn systemd_runs() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

/// The buses to ask, in order: a user's app asks the session's systemd
/// (root falls back on the system's, as `snap run` does); hooks, which
/// snapd runs outside any session, ask the system's.
pub fn buses(t: &Target<'_>, uid: u32, has_session: bool) -> Vec<Bus> {
    match (t.hook, has_session, uid == 0) {
        (true, _, _) => vec![Bus::System],
        (false, true, true) => vec![Bus::Session, Bus::System],
        (false, true, false) => vec![Bus::Session],
        (false, false, true) => vec![Bus::System],
        (false, false, false) => vec![],
    }
}

fn own_cgroup() -> String {
    std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default()
}

/// Puts this process in the app's own cgroup (see the module's doc).
/// Errors are systemd's refusals; a host where tracking is not possible is
/// `Untracked`, and the launcher decides whether the app may run without.
pub fn track(t: &Target<'_>, uid: u32, env: &[(String, String)], debug: &dyn Fn(&str)) -> Result<Tracking, String> {
    let unified = is_unified();
    let own = own_cgroup();
    // systemd's hierarchy, or (no systemd) the v2 one of our own leaves.
    for path in [tracking_path(&own, unified), v2_path(&own)].into_iter().flatten() {
        if is_own_group(path, t) {
            return Ok(Tracking::Already(path.to_string()));
        }
    }
    if !systemd_runs() {
        return Ok(enter_leaf(t.tag, &own));
    }
    let uuid = std::fs::read_to_string("/proc/sys/kernel/random/uuid").map_err(|e| format!("cannot make a scope name: {e}"))?;
    let unit = format!("{}-{}.scope", unit_name(t.tag), uuid.trim());
    let pid = std::process::id();
    let has_session = dbus::session_address(uid, env).is_some();
    let mut why = vec![];
    let start = Instant::now();
    let buses = buses(t, uid, has_session);
    if buses.is_empty() {
        why.push("no session bus runs for this user, and only root may ask the system's systemd".to_string());
    }
    for bus in buses {
        let conn = match dbus::connect(bus, uid, env) {
            Ok(c) => c,
            Err(e) => {
                debug(&e);
                why.push(e);
                continue;
            }
        };
        // On cgroup v2 the device filter goes on the scope: be sure it is
        // there (and we in it) before going on, as snap run is.
        let wait = unified.then_some(Duration::from_secs(10));
        match dbus::start_scope(&conn, &unit, pid, wait) {
            Ok(()) => {
                if wait_until_in(&unit, unified) {
                    return Ok(Tracking::Scope { unit, bus, took: start.elapsed() });
                }
                return Ok(Tracking::Untracked(format!("systemd made {unit} on the {} but did not move us into it", bus.name())));
            }
            Err(ScopeError::Unavailable(e)) => {
                debug(&format!("{}: {e}", bus.name()));
                why.push(format!("{}: {e}", bus.name()));
            }
            Err(ScopeError::Failed(e)) => return Err(e),
        }
    }
    Ok(Tracking::Untracked(why.join("; ")))
}

/// Waits (100 ms at most) until our tracking cgroup is `unit`: systemd may
/// move the process after its reply.
fn wait_until_in(unit: &str, unified: bool) -> bool {
    for _ in 0..100 {
        if tracking_path(&own_cgroup(), unified).is_some_and(|p| p.ends_with(&format!("/{unit}"))) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

/// Removes the empty leaves earlier runs of `tag` left in `dir` (no systemd
/// cleans them up here).
fn remove_empty_leaves(dir: &Path, tag: &str) {
    let prefix = format!("{tag}-");
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) && name.ends_with(".scope") {
            let events = std::fs::read_to_string(e.path().join("cgroup.events")).unwrap_or_default();
            if events.lines().any(|l| l == "populated 0") {
                let _ = std::fs::remove_dir(e.path());
            }
        }
    }
}

/// Where no systemd runs: puts this process in a leaf `<tag>-<uuid>.scope`
/// under the cgroup v2 group it runs in.
fn enter_leaf(tag: &str, own: &str) -> Tracking {
    let Some(path) = v2_path(own) else { return Tracking::Untracked("no cgroup v2 hierarchy".into()) };
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let Some(mount) = v2_mount(&mountinfo) else { return Tracking::Untracked("the cgroup v2 hierarchy is not mounted".into()) };
    let dir = mount.join(path.trim_start_matches('/'));
    remove_empty_leaves(&dir, tag);
    let uuid = std::fs::read_to_string("/proc/sys/kernel/random/uuid").unwrap_or_default();
    let leaf = dir.join(format!("{}-{}.scope", unit_name(tag), uuid.trim()));
    if let Err(e) = std::fs::create_dir(&leaf) {
        return Tracking::Untracked(format!("cannot create {}: {e}", leaf.display()));
    }
    match std::fs::write(leaf.join("cgroup.procs"), std::process::id().to_string()) {
        Ok(()) => Tracking::Leaf(leaf),
        Err(e) => {
            let _ = std::fs::remove_dir(&leaf);
            Tracking::Untracked(format!("cannot move into {}: {e}", leaf.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn finds_the_tracking_path_and_mount() {
        let cg = "9:name=systemd:/user.slice/session-1.scope\n5:devices:/\n0::/user.slice/session-1.scope/x\n";
        assert_eq!(v2_path(cg), Some("/user.slice/session-1.scope/x"));
        assert_eq!(tracking_path(cg, true), Some("/user.slice/session-1.scope/x"));
        assert_eq!(tracking_path(cg, false), Some("/user.slice/session-1.scope"));
        assert_eq!(v2_path("5:devices:/\n"), None);
        assert_eq!(tracking_path("5:devices:/\n0::/\n", false), None);
        let mi = "30 1 0:26 / /sys/fs/cgroup ro - tmpfs tmpfs ro\n\
                  41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
        assert_eq!(v2_mount(mi), Some(PathBuf::from("/sys/fs/cgroup/unified")));
        assert_eq!(v2_mount("41 31 0:38 /sub /mnt rw - cgroup2 cgroup2 rw\n"), None, "only a mount of the whole hierarchy");
    }

    #[test]
    fn own_groups() {
        let app = Target { tag: "snap.hello.hello", hook: false, service: false };
        let daemon = Target { tag: "snap.hello.daemon", hook: false, service: true };
        assert!(is_own_group("/user.slice/user-1000.slice/user@1000.service/app.slice/snap.hello.hello-1f3a.scope", &app));
        assert!(!is_own_group("/snap.hello.hello-.scope", &app));
        assert!(!is_own_group("/snap.hello.hello.service", &app), "an app is not tracked by a service of its name");
        assert!(!is_own_group("/snap.hello.hello-1.scope/sub", &app));
        assert!(!is_own_group("/snap.hello.hellox-1.scope", &app));
        assert!(!is_own_group("/user.slice/session-2.scope", &app));
        assert!(is_own_group("/system.slice/snap.hello.daemon.service", &daemon));
        assert!(!is_own_group("/system.slice/snap.hello.other.service", &daemon));
        let comp = Target { tag: "snap.a+c.hook.install", hook: true, service: false };
        assert!(is_own_group("/system.slice/snap.a\\x2bc.hook.install-9.scope", &comp));
        assert_eq!(unit_name("snap.a+c.hook.install"), "snap.a\\x2bc.hook.install");
    }

    #[test]
    fn which_bus() {
        let app = Target { tag: "snap.a.a", hook: false, service: false };
        let hook = Target { tag: "snap.a.hook.configure", hook: true, service: false };
        assert_eq!(buses(&app, 1000, true), [Bus::Session]);
        assert_eq!(buses(&app, 1000, false), []);
        assert_eq!(buses(&app, 0, true), [Bus::Session, Bus::System]);
        assert_eq!(buses(&app, 0, false), [Bus::System]);
        assert_eq!(buses(&hook, 0, true), [Bus::System]);
        assert_eq!(buses(&hook, 1000, true), [Bus::System]);
    }
}

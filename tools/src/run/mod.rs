//! Running snap apps: `snap-run` (the front end a user or systemd starts,
//! also reached through the `/snap/bin` wrappers; [`front`] is its list of
//! steps) and `snap-exec` (the last step inside the sandbox, which applies
//! snap.yaml's `environment` and `command-chain` and executes the app).

pub mod args;
pub mod complete;
pub mod dbus;
pub mod env;
pub mod exec;
pub mod expand;
pub mod front;
pub mod homes;
pub mod track;
pub mod trace;
pub mod xauth;

pub use args::{parse_args, Request, USAGE};

use crate::snapyaml::{self, Confinement, SnapYaml};
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The launcher.
pub const LAUNCHER: &str = "/usr/lib/confine/snap-confine";
/// snap-exec on the host (classic snaps) and inside a strict sandbox, where
/// the launcher's directory is bound at /usr/lib/snapd.
pub const EXEC_HOST: &str = "/usr/lib/confine/snap-exec";
pub const EXEC_SANDBOX: &str = "/usr/lib/snapd/snap-exec";

/// Why a run failed; the text starts with "cannot".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

fn err(msg: impl Into<String>) -> Error {
    Error(msg.into())
}

/// What a request names, read from the installed snap: no side effects.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub instance: String,
    pub revision: String,
    pub yaml: SnapYaml,
    /// The app (`None` for a hook).
    pub app: Option<String>,
    /// The security tag, `snap.<instance>.<app>` or `snap.<instance>.hook.<hook>`.
    pub tag: String,
}

impl Resolved {
    /// A daemon app: systemd runs it in its service's cgroup.
    pub fn is_service(&self) -> bool {
        self.app.as_ref().and_then(|a| self.yaml.apps.get(a)).is_some_and(|a| a.daemon.is_some())
    }

    pub fn is_classic(&self) -> bool {
        self.yaml.confinement == Confinement::Classic
    }
}

/// What to execute: the launcher, its arguments and environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    pub argv: Vec<OsString>,
    pub env: Vec<(String, String)>,
    /// The security tag and instance (for tracking).
    pub tag: String,
    pub instance: String,
}

/// The instance a request names (`<instance>.<app>`, `<instance>`).
pub fn instance_of(req: &Request) -> &str {
    match (&req.hook, req.target.split_once('.')) {
        (None, Some((i, _))) => i,
        _ => &req.target,
    }
}

/// The installed revision of `instance` (`current`, or `revision`) and its
/// snap.yaml.
pub fn installed(root: &Path, instance: &str, revision: Option<&str>) -> Result<(String, SnapYaml), Error> {
    let snap = root.join("snap").join(instance);
    let rev = match revision {
        Some(r) => r.to_string(),
        None => std::fs::read_link(snap.join("current"))
            .map_err(|_| err(format!("cannot find snap {instance:?}: it is not installed")))?
            .to_string_lossy()
            .into_owned(),
    };
    let yaml = snapyaml::SnapYaml::read_dir(&snap.join(&rev)).map_err(|e| err(e.to_string()))?;
    Ok((rev, yaml))
}

/// Reads what `req` names from the snap installed under `root`: its
/// current revision, or `revision`.
pub fn resolve(req: &Request, root: &Path, revision: Option<&str>) -> Result<Resolved, Error> {
    let instance = instance_of(req).to_string();
    naming::InstanceName::parse(&instance).map_err(|e| err(format!("cannot run {:?}: {e}", req.target)))?;
    let (rev, yaml) = installed(root, &instance, revision)?;
    let app = match (&req.hook, req.target.split_once('.')) {
        (Some(_), _) => None,
        (None, Some((_, a))) => Some(a.to_string()),
        (None, None) => Some(yaml.name.clone()),
    };
    if let Some(a) = &app {
        if !yaml.apps.contains_key(a) {
            return Err(err(format!("cannot run {}: snap {instance} has no app {a:?}", req.target)));
        }
    }
    let tag = match (&req.hook, &app) {
        (Some(h), _) => {
            if !yaml.hooks.contains_key(h) {
                return Err(err(format!("cannot run hook {h:?} of {instance}: the snap has no such hook")));
            }
            format!("snap.{instance}.hook.{h}")
        }
        (None, Some(a)) => format!("snap.{instance}.{a}"),
        (None, None) => return Err(err(format!("cannot run {:?}: no app or hook", req.target))),
    };
    Ok(Resolved { instance, revision: rev, yaml, app, tag })
}

/// Creates `~/snap/<instance>/<rev>`, `.../common` and `current` as the
/// user (this process runs as the user).
fn make_user_dirs(home: &str, instance: &str, rev: &str) -> Result<(), Error> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let top = Path::new(home).join("snap");
    let mkdir = |p: &Path, mode: u32| -> Result<(), Error> {
        match std::fs::DirBuilder::new().mode(mode).create(p) {
            Ok(()) => std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
                .map_err(|e| err(format!("cannot create {}: {e}", p.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(err(format!("cannot create {}: {e}", p.display()))),
        }
    };
    mkdir(&top, 0o700)?;
    // A parallel instance's user data is shown as the snap's in its
    // sandbox: ~/snap/<snap> is the mount point, as `snap run` makes it.
    if let Some((name, _key)) = instance.split_once('_') {
        mkdir(&top.join(name), 0o755)?;
    }
    mkdir(&top.join(instance), 0o755)?;
    mkdir(&top.join(instance).join(rev), 0o755)?;
    mkdir(&top.join(instance).join("common"), 0o755)?;
    let current = top.join(instance).join("current");
    if std::fs::read_link(&current).map(|r| r != Path::new(rev)).unwrap_or(true) {
        // A new link renamed over the old, under a name of this call's own:
        // two commands of the snap started at once after a refresh both
        // update the link, and a shared name would let one take the
        // other's away before its rename.
        static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = top.join(instance).join(format!(".current.{}.{n}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(rev, &tmp).map_err(|e| err(format!("cannot create {}: {e}", tmp.display())))?;
        if let Err(e) = std::fs::rename(&tmp, &current) {
            let _ = std::fs::remove_file(&tmp);
            return Err(err(format!("cannot update {}: {e}", current.display())));
        }
    }
    Ok(())
}

/// The user's home: `HOME` when it is a directory of theirs, else the
/// password database's.
fn home_of(uid: u32, caller: &[(String, String)]) -> Result<String, Error> {
    use std::os::unix::fs::MetadataExt;
    if let Some((_, h)) = caller.iter().find(|(k, _)| k == "HOME") {
        if h.starts_with('/') && std::fs::metadata(h).is_ok_and(|m| m.is_dir() && m.uid() == uid) {
            return Ok(h.clone());
        }
    }
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.dir.to_string_lossy().into_owned())
        .ok_or_else(|| err(format!("cannot find the home directory of user {uid}")))
}

/// Works out the launch of `req` for the calling user, and makes what the
/// user needs for it (`~/snap/...`, the snap's runtime directory, the
/// X11 cookie file).
pub fn prepare(req: &Request, r: &Resolved, root: &Path, caller: &[(String, String)]) -> Result<Launch, Error> {
    let uid = nix::unistd::getuid().as_raw();
    let euid = nix::unistd::geteuid().as_raw();
    let home = home_of(uid, caller)?;
    let classic = r.is_classic();
    let instance = r.instance.as_str();
    if !classic {
        let homedirs = homes::read(root).map_err(|e| err(format!("cannot run {}: {e}", req.target)))?;
        homes::check(&home, &homedirs).map_err(|e| err(format!("cannot run {}: {e}", req.target)))?;
    }
    make_user_dirs(&home, instance, &r.revision)?;
    let xdg = format!("/run/user/{euid}");
    if !classic && Path::new(&xdg).is_dir() {
        let _ = std::fs::create_dir(format!("{xdg}/snap.{instance}"));
    }
    let user = env::User { uid, euid, home };
    let target = env::Target { yaml: &r.yaml, instance, revision: &r.revision, app: r.app.as_deref() };
    let mut env = env::snap_env(caller, &target, &user);
    let xauthority = caller.iter().find(|(k, _)| k == "XAUTHORITY").map(|(_, v)| v.as_str());
    match xauth::migrate(xauthority, uid, Path::new(&format!("/run/user/{uid}"))) {
        Ok(Some(path)) => {
            env.retain(|(k, _)| k != "XAUTHORITY");
            env.push(("XAUTHORITY".into(), path.to_string_lossy().into_owned()));
        }
        Ok(None) => {}
        // As snap run: the app still runs, without the copy.
        Err(e) => eprintln!("WARNING: cannot copy the X11 cookie file: {e}"),
    }
    let mut argv: Vec<OsString> = vec![LAUNCHER.into()];
    if classic {
        argv.push("--classic".into());
    } else if let Some(base) = &r.yaml.base {
        argv.push("--base".into());
        argv.push(base.into());
    }
    argv.push(r.tag.clone().into());
    argv.push(if classic { EXEC_HOST } else { EXEC_SANDBOX }.into());
    if let Some(c) = &req.command {
        argv.push(format!("--command={c}").into());
    }
    if let Some(h) = &req.hook {
        argv.push(format!("--hook={h}").into());
    }
    argv.push(match &r.app {
        Some(a) => format!("{instance}.{a}").into(),
        None => instance.into(),
    });
    argv.extend(req.args.iter().cloned());
    Ok(Launch { argv, env, tag: r.tag.clone(), instance: instance.to_string() })
}

/// Executes the launch; returns only on failure.
pub fn exec(launch: Launch) -> Error {
    use std::os::unix::process::CommandExt;
    let Some((program, args)) = launch.argv.split_first() else { return err("cannot run: nothing to execute") };
    let e = std::process::Command::new(program).args(args).env_clear().envs(launch.env).exec();
    err(format!("cannot run {}: {e}", String::from_utf8_lossy(program.as_bytes())))
}

#[cfg(test)]
mod tests;

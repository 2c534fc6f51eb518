//! Running snap apps: `snap-run` (the front end a user or systemd starts,
//! also reached through the `/snap/bin` wrappers) and `snap-exec` (the last
//! step inside the sandbox, which applies snap.yaml's `environment` and
//! `command-chain` and executes the app).

pub mod cgroup;
pub mod env;
pub mod exec;
pub mod expand;

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

/// A parsed `snap-run` command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `shell`, `stop`, `reload`, `post-stop`.
    pub command: Option<String>,
    pub hook: Option<String>,
    /// `<instance>.<app>`, `<instance>` (the app named like the snap, or
    /// the snap of a hook).
    pub target: String,
    pub args: Vec<OsString>,
}

pub const USAGE: &str = "Usage: snap-run [--shell] [--command=stop|reload|post-stop] [--hook=HOOK] SNAP[.APP] [ARG...]";

/// Parses the command line. Started through a `/snap/bin` wrapper (a link
/// named after the app), the name is the target.
pub fn parse_args(argv: Vec<OsString>) -> Result<Request, Error> {
    let mut it = argv.into_iter();
    let argv0 = it.next().unwrap_or_default();
    let base = Path::new(&argv0).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if !base.is_empty() && base != "snap-run" {
        return Ok(Request { command: None, hook: None, target: base, args: it.collect() });
    }
    let mut command = None;
    let mut hook = None;
    let mut rest: Vec<OsString> = it.collect();
    while let Some(first) = rest.first().and_then(|a| a.to_str()).filter(|a| a.starts_with("--")).map(str::to_owned) {
        rest.remove(0);
        match first.as_str() {
            "--shell" => command = Some("shell".to_string()),
            "--help" => return Err(err(format!("{USAGE}\n"))),
            f => {
                if let Some(c) = f.strip_prefix("--command=") {
                    command = Some(c.to_string());
                } else if let Some(h) = f.strip_prefix("--hook=") {
                    hook = Some(h.to_string());
                } else {
                    return Err(err(format!("cannot parse arguments: unknown option {f}\n{USAGE}")));
                }
            }
        }
    }
    if rest.is_empty() {
        return Err(err(format!("cannot parse arguments: no snap given\n{USAGE}")));
    }
    let target = rest.remove(0).to_string_lossy().into_owned();
    Ok(Request { command, hook, target, args: rest })
}

/// What to execute: the launcher, its arguments and environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    pub argv: Vec<OsString>,
    pub env: Vec<(String, String)>,
    /// The security tag and instance (for the cgroup leaf).
    pub tag: String,
    pub instance: String,
}

/// The installed revision of `instance` and its snap.yaml.
pub fn installed(root: &Path, instance: &str) -> Result<(String, SnapYaml), Error> {
    let snap = root.join("snap").join(instance);
    let rev = std::fs::read_link(snap.join("current"))
        .map_err(|_| err(format!("cannot find snap {instance:?}: it is not installed")))?
        .to_string_lossy()
        .into_owned();
    let yaml = snapyaml::SnapYaml::read_dir(&snap.join(&rev)).map_err(|e| err(e.to_string()))?;
    Ok((rev, yaml))
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
        let tmp = top.join(instance).join(".current.new");
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(rev, &tmp).map_err(|e| err(format!("cannot create {}: {e}", tmp.display())))?;
        std::fs::rename(&tmp, &current).map_err(|e| err(format!("cannot update {}: {e}", current.display())))?;
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

/// Works out the launch of `req` for the calling user.
pub fn prepare(req: &Request, root: &Path, caller: &[(String, String)]) -> Result<Launch, Error> {
    let (instance, app) = match (&req.hook, req.target.split_once('.')) {
        (Some(_), _) => (req.target.clone(), None),
        (None, Some((i, a))) => (i.to_string(), Some(a.to_string())),
        (None, None) => (req.target.clone(), None),
    };
    naming::InstanceName::parse(&instance).map_err(|e| err(format!("cannot run {:?}: {e}", req.target)))?;
    let (rev, yaml) = installed(root, &instance)?;
    let app = match (&req.hook, app) {
        (Some(_), _) => None,
        (None, Some(a)) => Some(a),
        (None, None) => Some(yaml.name.clone()),
    };
    if let Some(a) = &app {
        if !yaml.apps.contains_key(a) {
            return Err(err(format!("cannot run {}: snap {instance} has no app {a:?}", req.target)));
        }
    }
    if let Some(h) = &req.hook {
        if !yaml.hooks.contains_key(h) {
            return Err(err(format!("cannot run hook {h:?} of {instance}: the snap has no such hook")));
        }
    }
    let uid = nix::unistd::getuid().as_raw();
    let euid = nix::unistd::geteuid().as_raw();
    let home = home_of(uid, caller)?;
    make_user_dirs(&home, &instance, &rev)?;
    let xdg = format!("/run/user/{euid}");
    if yaml.confinement != Confinement::Classic && Path::new(&xdg).is_dir() {
        let _ = std::fs::create_dir(format!("{xdg}/snap.{instance}"));
    }
    let user = env::User { uid, euid, home };
    let target = env::Target { yaml: &yaml, instance: &instance, revision: &rev, app: app.as_deref() };
    let env = env::snap_env(caller, &target, &user);
    let tag = match (&req.hook, &app) {
        (Some(h), _) => format!("snap.{instance}.hook.{h}"),
        (None, Some(a)) => format!("snap.{instance}.{a}"),
        (None, None) => unreachable_target(&req.target)?,
    };
    let mut argv: Vec<OsString> = vec![LAUNCHER.into()];
    let classic = yaml.confinement == Confinement::Classic;
    if classic {
        argv.push("--classic".into());
    } else if let Some(base) = &yaml.base {
        argv.push("--base".into());
        argv.push(base.into());
    }
    argv.push(tag.clone().into());
    argv.push(if classic { EXEC_HOST } else { EXEC_SANDBOX }.into());
    if let Some(c) = &req.command {
        argv.push(format!("--command={c}").into());
    }
    if let Some(h) = &req.hook {
        argv.push(format!("--hook={h}").into());
    }
    argv.push(match &app {
        Some(a) => format!("{instance}.{a}").into(),
        None => instance.clone().into(),
    });
    argv.extend(req.args.iter().cloned());
    Ok(Launch { argv, env, tag, instance })
}

fn unreachable_target(target: &str) -> Result<String, Error> {
    Err(err(format!("cannot run {target:?}: no app or hook")))
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

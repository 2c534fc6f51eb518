//! Putting a snap's policy in force, all or nothing.
//!
//! [`apply`] compares the generated files with those on disk and:
//!
//! 1. compiles every changed seccomp source in memory and checks every
//!    Landlock policy;
//! 2. writes every changed AppArmor profile to a staging directory and
//!    compiles them (filling apparmor_parser's cache);
//! 3. only when all of that worked: loads the changed profiles into the
//!    kernel from the cache, renames them into place, writes the seccomp
//!    programs and sources, the Landlock policies, the mount profiles, the
//!    udev rules and the device cgroup file (each file replaced
//!    atomically), removes the files the snap no longer has and unloads
//!    their profiles;
//! 4. tells udev when the rules changed.
//!
//! A changed mount profile reaches a snap's preserved namespace through
//! [`namespace::refresh`], which the caller runs after this.
//!
//! A failure in steps 1 and 2 leaves every file and every loaded profile as
//! it was.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::paths::Paths;
use crate::policy::PolicyFiles;
use crate::seccomp::{self, output, Format, IdResolver, Options};

pub mod apparmor;
pub mod namespace;
pub mod udev;

pub use apparmor::{Mode, Parser};

/// Why a policy could not be put in force; the text starts with "cannot".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// What [`apply`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Files written (new or changed).
    pub written: Vec<PathBuf>,
    /// Files removed.
    pub removed: Vec<PathBuf>,
    /// Profiles compiled (and loaded, in load mode).
    pub profiles_loaded: Vec<String>,
    /// Profiles unloaded.
    pub profiles_unloaded: Vec<String>,
    /// Problems that did not stop the change (udev not answering, say).
    pub warnings: Vec<String>,
    /// The snap's mount profile changed (its namespace needs updating).
    pub mount_profile_changed: bool,
    /// What was done to its preserved namespace then.
    pub namespace: Option<namespace::Refreshed>,
}

/// The policy files of one snap now on disk.
#[derive(Debug, Default)]
struct Existing {
    profiles: BTreeMap<String, PathBuf>,
    seccomp: BTreeMap<String, PathBuf>,
    landlock: BTreeMap<String, PathBuf>,
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error(format!("cannot {what} {}: {e}", path.display()))
}

/// Whether `name` is a profile of `instance`.
fn is_profile_of(name: &str, instance: &str) -> bool {
    name == format!("snap-update-ns.{instance}")
        || name.starts_with(&format!("snap.{instance}."))
        || name.starts_with(&format!("snap.{instance}+"))
}

fn list_dir(dir: &Path) -> Result<Vec<(String, PathBuf)>, Error> {
    match fs::read_dir(dir) {
        Ok(entries) => Ok(entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(io_err("read", dir, e)),
    }
}

fn existing(paths: &Paths, instance: &str) -> Result<Existing, Error> {
    let mut ex = Existing::default();
    for (name, path) in list_dir(&paths.apparmor_profiles())? {
        if is_profile_of(&name, instance) && !name.ends_with('~') {
            ex.profiles.insert(name, path);
        }
    }
    for (name, path) in list_dir(&paths.seccomp_dir())? {
        if is_profile_of(&name, instance) && (name.ends_with(".src") || name.ends_with(".bin2")) {
            ex.seccomp.insert(name, path);
        }
    }
    for (name, path) in list_dir(&paths.landlock_dir())? {
        if name.starts_with(&format!("snap.{instance}.")) && !name.ends_with('~') {
            ex.landlock.insert(name, path);
        }
    }
    Ok(ex)
}

/// Whether `path` holds exactly `bytes`.
fn same_content(path: &Path, bytes: &[u8]) -> bool {
    fs::read(path).is_ok_and(|b| b == bytes)
}

fn mkdirs(dir: &Path) -> Result<(), Error> {
    fs::create_dir_all(dir).map_err(|e| io_err("create", dir, e))
}

/// A directory others read (the launcher, as the caller): created if
/// needed, mode 0755 whatever the umask.
fn public_dir(dir: &Path) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    mkdirs(dir)?;
    let mode = fs::metadata(dir).map_err(|e| io_err("read", dir, e))?.permissions().mode();
    if mode & 0o7777 != 0o755 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).map_err(|e| io_err("protect", dir, e))?;
    }
    Ok(())
}

/// A directory removed when dropped.
struct Staging(PathBuf);

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Removes what processes that are gone (killed half-way through a
/// change) left behind: their staging directories, and their temporary
/// files in every directory a policy file is written to atomically and in
/// the state's.
pub fn remove_leftovers_of_dead_writers(paths: &Paths) {
    remove_stale_staging(&paths.apparmor_staging());
    for dir in [
        paths.apparmor_profiles(),
        paths.seccomp_dir(),
        paths.landlock_dir(),
        paths.mount_policy_dir(),
        paths.udev_rules_dir(),
        paths.cgroup_dir(),
        paths.state_dir(),
    ] {
        output::remove_stale_temporaries(&dir);
    }
}

fn remove_stale_staging(base: &Path) {
    let Ok(dir) = fs::read_dir(base) else { return };
    for e in dir.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(".staging.").and_then(|r| r.split('.').next()) else { continue };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

fn staging_dir(paths: &Paths) -> Result<Staging, Error> {
    static N: AtomicU32 = AtomicU32::new(0);
    let base = paths.apparmor_staging();
    mkdirs(&base)?;
    remove_stale_staging(&base);
    let dir = base.join(format!(
        ".staging.{}.{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    fs::create_dir(&dir).map_err(|e| io_err("create", &dir, e))?;
    Ok(Staging(dir))
}

fn write(path: &Path, bytes: &[u8], report: &mut Report) -> Result<(), Error> {
    if let Some(dir) = path.parent() {
        mkdirs(dir)?;
    }
    output::write_atomically(path, bytes).map_err(|e| io_err("write", path, e))?;
    report.written.push(path.to_path_buf());
    Ok(())
}

fn remove(path: &Path, report: &mut Report) -> Result<(), Error> {
    match fs::remove_file(path) {
        Ok(()) => {
            report.removed.push(path.to_path_buf());
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err("remove", path, e)),
    }
}

/// Puts `files` in force as the whole policy of `instance`; `None` removes
/// it. With `reload_all`, unchanged profiles are loaded again too (after
/// registering a snap, so the kernel surely has them).
pub fn apply(
    paths: &Paths,
    parser: &Parser,
    instance: &str,
    files: Option<&PolicyFiles>,
    reload_all: bool,
) -> Result<Report, Error> {
    let empty = PolicyFiles::default();
    let wanted = files.unwrap_or(&empty);
    let ex = existing(paths, instance)?;
    let mut report = Report::default();
    let profiles_dir = paths.apparmor_profiles();
    let seccomp_dir = paths.seccomp_dir();

    // 1. seccomp programs of changed sources (or missing programs).
    let mut programs: Vec<(String, Vec<u8>)> = Vec::new();
    let mut ids = IdResolver::system();
    let options = Options::for_host(Format::Bin2);
    for (tag, src) in &wanted.seccomp {
        let src_path = seccomp_dir.join(format!("{tag}.src"));
        let bin_path = seccomp_dir.join(format!("{tag}.bin2"));
        if same_content(&src_path, src.as_bytes()) && bin_path.exists() {
            continue;
        }
        let compiled = seccomp::compile_text(src, &options, &mut ids)
            .map_err(|e| Error(format!("cannot compile the seccomp policy of {tag}: {e}")))?;
        programs.push((tag.clone(), compiled.bytes));
    }
    // The launcher refuses a Landlock policy it cannot read: so do we,
    // before anything changes.
    for (tag, text) in &wanted.landlock {
        policy_cache::landlock::parse(text)
            .map_err(|e| Error(format!("cannot use the Landlock policy of {tag}: {e}")))?;
    }

    // 2. changed profiles, staged and compiled.
    let staging = staging_dir(paths)?;
    let mut staged = Vec::new();
    let mut to_load = Vec::new();
    for (name, text) in &wanted.apparmor {
        let target = profiles_dir.join(name);
        let changed = !same_content(&target, text.as_bytes());
        if changed {
            let path = staging.0.join(name);
            fs::write(&path, text).map_err(|e| io_err("write", &path, e))?;
            staged.push((name.clone(), path.clone()));
            to_load.push(path);
        } else if reload_all {
            to_load.push(target);
        }
    }
    let shown = (staging.0.clone(), profiles_dir.clone());
    let staged_paths: Vec<PathBuf> = staged.iter().map(|(_, p)| p.clone()).collect();
    // A single profile is compiled and loaded in one go: if it does not
    // compile, nothing is loaded. Several are all compiled first, so one
    // broken profile cannot leave the others half loaded.
    let single = staged_paths.len() == 1 && to_load == staged_paths;
    if !single {
        parser.prepare(&staged_paths, &shown)?;
    }

    // 3. in force.
    if single && parser.mode != Mode::Load {
        parser.prepare(&staged_paths, &shown)?;
    } else {
        parser.load(&to_load, &shown)?;
    }
    report.profiles_loaded = wanted
        .apparmor
        .keys()
        .filter(|n| reload_all || staged.iter().any(|(s, _)| s == *n))
        .cloned()
        .collect();
    mkdirs(&profiles_dir)?;
    for (name, path) in &staged {
        let target = profiles_dir.join(name);
        fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .map_err(|e| io_err("protect", path, e))?;
        fs::rename(path, &target).map_err(|e| io_err("install", &target, e))?;
        report.written.push(target);
    }
    if !staged.is_empty() {
        if let Ok(d) = fs::File::open(&profiles_dir) {
            let _ = d.sync_all();
        }
    }
    for (tag, bytes) in &programs {
        write(&seccomp_dir.join(format!("{tag}.bin2")), bytes, &mut report)?;
    }
    for (tag, src) in &wanted.seccomp {
        let path = seccomp_dir.join(format!("{tag}.src"));
        if !same_content(&path, src.as_bytes()) {
            write(&path, src.as_bytes(), &mut report)?;
        }
    }
    let landlock_dir = paths.landlock_dir();
    if !wanted.landlock.is_empty() {
        public_dir(&landlock_dir)?;
    }
    for (tag, text) in &wanted.landlock {
        let path = landlock_dir.join(tag);
        if !same_content(&path, text.as_bytes()) {
            write(&path, text.as_bytes(), &mut report)?;
        }
    }
    let mount_dir = paths.mount_policy_dir();
    for (path, wanted_text) in [
        (paths.mount_profile(instance), &wanted.mounts.system),
        (paths.user_mount_profile(instance), &wanted.mounts.user),
    ] {
        let before = fs::read(&path).ok();
        match wanted_text {
            Some(text) if files.is_some() => {
                if before.as_deref() != Some(text.as_bytes()) {
                    public_dir(&mount_dir)?;
                    write(&path, text.as_bytes(), &mut report)?;
                }
            }
            _ => remove(&path, &mut report)?,
        }
        let changed = fs::read(&path).ok() != before;
        if changed && path == paths.mount_profile(instance) {
            report.mount_profile_changed = true;
        }
    }
    let rules_path = paths.udev_rules(instance);
    let rules_before = fs::read(&rules_path).ok();
    match &wanted.udev_rules {
        Some(rules) if files.is_some() => {
            if !same_content(&rules_path, rules.as_bytes()) {
                write(&rules_path, rules.as_bytes(), &mut report)?;
            }
        }
        _ => remove(&rules_path, &mut report)?,
    }
    let device_path = paths.device_file(instance);
    if files.is_some() {
        if !same_content(&device_path, wanted.device.as_bytes()) {
            write(&device_path, wanted.device.as_bytes(), &mut report)?;
        }
    } else {
        remove(&device_path, &mut report)?;
    }

    // Files of apps and hooks the snap no longer has.
    let mut gone = Vec::new();
    for (name, path) in &ex.profiles {
        if !wanted.apparmor.contains_key(name) {
            remove(path, &mut report)?;
            gone.push(name.clone());
        }
    }
    for (name, path) in &ex.seccomp {
        let tag = name.trim_end_matches(".src").trim_end_matches(".bin2");
        if !wanted.seccomp.contains_key(tag) {
            remove(path, &mut report)?;
        }
    }
    for (tag, path) in &ex.landlock {
        if !wanted.landlock.contains_key(tag) {
            remove(path, &mut report)?;
        }
    }
    // The directory goes with the last policy (only strict snaps have one),
    // so that removing the last strict snap leaves the system as it was;
    // an empty one (made by a change killed before it wrote the policy)
    // goes too. It stays while it holds another snap's policy.
    if wanted.landlock.is_empty() {
        let _ = fs::remove_dir(&landlock_dir);
    }
    parser.unload(&gone)?;
    parser.forget(&gone);
    report.profiles_unloaded = gone;

    // 4. udev.
    if fs::read(&rules_path).ok() != rules_before {
        if let Some(w) = udev::reload(paths) {
            report.warnings.push(w);
        }
    }
    drop(staging);
    Ok(report)
}

/// Takes away every policy of a snap that is not registered: what a
/// change killed before it recorded the snap left (files, profiles loaded
/// into the kernel, cached compilations).
pub fn remove_everything_of(paths: &Paths, parser: &Parser, instance: &str) -> Result<Report, Error> {
    let mut report = apply(paths, parser, instance, None, false)?;
    let cached: Vec<String> = parser.cached().into_iter().filter(|n| is_profile_of(n, instance)).collect();
    parser.unload(&cached)?;
    parser.forget(&cached);
    for name in cached {
        if !report.profiles_unloaded.contains(&name) {
            report.profiles_unloaded.push(name);
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests;

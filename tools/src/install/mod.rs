//! Installing and removing snaps: the squashfs file mounted read-only at
//! `/snap/<name>/<rev>`, `current` pointed at it, the data directories, the
//! policy (through [`crate::admin`]), the `/snap/bin` wrappers and the
//! systemd units of daemons. Every step that changes the system records how
//! to undo it before it starts (undoing a step that did not happen is
//! harmless); a failure undoes them all, newest first, so a failed install
//! leaves the system as it was.

pub mod desktop;
pub mod systemd;
mod undo;

use crate::admin::{Admin, Error};
use crate::paths::Paths;
use crate::snapyaml::{self, SnapType, SnapYaml};
use crate::inhibit;
use crate::state;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use undo::{Undo, UndoLog};

/// Where the front end is installed; wrappers and units point at it.
pub const SNAP_RUN: &str = "/usr/bin/snap-run";
/// The tool that discards a preserved mount namespace.
pub const DISCARD_NS: &str = "/usr/lib/confine/snap-discard-ns";

/// What an install did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    pub instance: String,
    pub revision: String,
    pub previous: Option<String>,
    pub wrappers: Vec<PathBuf>,
    pub services: Vec<String>,
    pub started: bool,
    pub auto_connected: Vec<String>,
    /// What its snap.yaml had that was ignored, and other warnings.
    pub warnings: Vec<String>,
}

fn err(msg: impl Into<String>) -> Error {
    Error(msg.into())
}

/// Runs a command; its stderr ends up in the error.
fn run(cmd: &mut Command, what: &str) -> Result<(), Error> {
    let out = cmd.output().map_err(|e| err(format!("cannot {what}: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(err(format!("cannot {what}: {}", String::from_utf8_lossy(&out.stderr).trim())))
    }
}

/// Reads `meta/snap.yaml` out of a squashfs file without mounting it.
pub fn read_yaml_from_file(file: &Path) -> Result<(String, SnapYaml), Error> {
    let out = Command::new("unsquashfs")
        .arg("-cat")
        .arg(file)
        .arg("meta/snap.yaml")
        .output()
        .map_err(|e| err(format!("cannot read {}: unsquashfs: {e}", file.display())))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        let why = why.lines().last().unwrap_or("not a squashfs file");
        return Err(err(format!("cannot read {}: it is not a valid snap ({})", file.display(), why.trim())));
    }
    let text = String::from_utf8(out.stdout).map_err(|_| err(format!("cannot read {}: snap.yaml is not UTF-8", file.display())))?;
    let yaml = snapyaml::parse(&text)?;
    Ok((text, yaml))
}

/// The revisions of `instance` mounted under `/snap/<instance>`.
fn mounted_revisions(paths: &Paths, instance: &str) -> Vec<String> {
    let Ok(dir) = fs::read_dir(paths.snap_mount_dir().join(instance)) else { return Vec::new() };
    let mut revs: Vec<String> = dir
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|r| crate::admin::validate_revision(r).is_ok())
        .collect();
    revs.sort_by_key(|r| r.trim_start_matches('x').parse::<u64>().unwrap_or(0));
    revs
}

/// The next local revision: `x1`, `x2`, ... after every revision seen.
fn next_revision(paths: &Paths, instance: &str) -> String {
    let highest = mounted_revisions(paths, instance)
        .iter()
        .filter_map(|r| r.strip_prefix('x').and_then(|n| n.parse::<u64>().ok()))
        .max()
        .unwrap_or(0);
    format!("x{}", highest + 1)
}

fn current_revision(paths: &Paths, instance: &str) -> Option<String> {
    fs::read_link(paths.snap_mount_dir().join(instance).join("current"))
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

/// Points `current` at `rev`, atomically (a new link renamed over the old).
fn set_current(paths: &Paths, instance: &str, rev: &str) -> Result<(), Error> {
    let dir = paths.snap_mount_dir().join(instance);
    let tmp = dir.join(".current.new");
    let _ = fs::remove_file(&tmp);
    std::os::unix::fs::symlink(rev, &tmp).map_err(|e| err(format!("cannot link {}: {e}", tmp.display())))?;
    fs::rename(&tmp, dir.join("current")).map_err(|e| err(format!("cannot update {}/current: {e}", dir.display())))
}

fn mkdir(path: &Path, mode: u32, log: &mut UndoLog) -> Result<(), Error> {
    if path.exists() {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        if !parent.exists() {
            mkdir(parent, 0o755, log)?;
        }
    }
    log.push(Undo::RemoveDir(path.to_path_buf()));
    fs::create_dir(path).map_err(|e| err(format!("cannot create {}: {e}", path.display())))?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(|e| err(format!("cannot set the mode of {}: {e}", path.display())))?;
    Ok(())
}

/// Mounts the snap file at its revision directory: with a systemd mount
/// unit where systemd runs, a loop mount otherwise.
fn mount(paths: &Paths, instance: &str, rev: &str, blob: &Path, log: &mut UndoLog) -> Result<Option<String>, Error> {
    let where_ = paths.snap_revision_dir(instance, rev);
    mkdir(&where_, 0o755, log)?;
    let where_text = where_.to_string_lossy().into_owned();
    if systemd::is_running(paths.root()) {
        let unit = systemd::mount_unit_name(&where_text);
        let file = paths.systemd_units_dir().join(&unit);
        write_file(&file, systemd::mount_unit(instance, rev, &blob.to_string_lossy(), &where_text), 0o644, log)?;
        systemd::systemctl(&["daemon-reload"]).map_err(err)?;
        // Undone newest first: stopped, then disabled (its link in
        // multi-user.target.wants goes), then its file removed.
        log.push(Undo::DisableUnit(unit.clone()));
        log.push(Undo::StopUnit(unit.clone()));
        systemd::systemctl(&["enable", "--now", &unit]).map_err(err)?;
        Ok(Some(unit))
    } else {
        log.push(Undo::Unmount(where_.clone()));
        run(
            Command::new("mount").args(["-t", "squashfs", "-o", "ro,nodev,loop"]).arg(blob).arg(&where_),
            &format!("mount {} at {}", blob.display(), where_.display()),
        )?;
        Ok(None)
    }
}

/// Writes a file through a temporary file renamed into place.
fn write_file(path: &Path, content: impl AsRef<[u8]>, mode: u32, log: &mut UndoLog) -> Result<(), Error> {
    if let Some(parent) = path.parent() {
        mkdir(parent, 0o755, log)?;
    }
    let tmp = path.with_extension("confine-new");
    log.push(Undo::RemoveFile(tmp.clone()));
    fs::write(&tmp, content).map_err(|e| err(format!("cannot write {}: {e}", tmp.display())))?;
    fs::set_permissions(&tmp, fs::Permissions::from_mode(mode)).map_err(|e| err(format!("cannot write {}: {e}", tmp.display())))?;
    log.push(match fs::read(path).ok() {
        Some(bytes) => Undo::RestoreFile(path.to_path_buf(), bytes),
        None => Undo::RemoveFile(path.to_path_buf()),
    });
    fs::rename(&tmp, path).map_err(|e| err(format!("cannot write {}: {e}", path.display())))?;
    Ok(())
}

/// The name of an app's wrapper: `<instance>` when the app is named like
/// the snap, else `<instance>.<app>`.
pub fn wrapper_name(instance: &str, snap_name: &str, app: &str) -> String {
    if app == snap_name {
        instance.to_string()
    } else {
        format!("{instance}.{app}")
    }
}

fn check_root(admin: &Admin, what: &str) -> Result<(), Error> {
    admin.check_can_change(what)
}

/// Installs and removals run one at a time (they share the journal).
fn lock_installs(paths: &Paths) -> Result<nix::fcntl::Flock<fs::File>, Error> {
    let dir = paths.state_dir();
    fs::create_dir_all(&dir).map_err(|e| err(format!("cannot create {}: {e}", dir.display())))?;
    let _ = fs::set_permissions(&dir, fs::Permissions::from_mode(0o700));
    let path = dir.join("install.lock");
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| err(format!("cannot open {}: {e}", path.display())))?;
    nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| err(format!("cannot lock {}: {e}", path.display())))
}

impl Admin {
    /// Rolls back a change that was interrupted (its journal exists).
    /// Returns whether there was one.
    pub fn recover(&self) -> Result<bool, Error> {
        check_root(self, "roll back an interrupted install")?;
        let _lock = lock_installs(&self.paths)?;
        self.recover_locked()
    }

    fn recover_locked(&self) -> Result<bool, Error> {
        let Some(mut log) = UndoLog::recover(&self.paths) else { return Ok(false) };
        let instances: Vec<String> = state::read(&self.paths).map(|s| s.snaps.keys().cloned().collect()).unwrap_or_default();
        for instance in instances {
            let _ = inhibit::clear(self.paths.root(), &instance);
        }
        crate::deploy::remove_leftovers_of_dead_writers(&self.paths);
        let problems = log.undo(self);
        if problems.is_empty() {
            Ok(true)
        } else {
            Err(err(format!("cannot roll back an interrupted install: {}", problems.join("; "))))
        }
    }

    /// Installs the snap in `file` (a squashfs file) as a new local revision,
    /// under the instance name `name` (`<snap>_<key>`, a parallel
    /// instance) or the snap's own.
    pub fn install(&self, file: &Path, name: Option<&str>) -> Result<Installed, Error> {
        let (_, yaml) = read_yaml_from_file(file)?;
        let instance = instance_name(&yaml, name, file)?;
        check_root(self, &format!("install {instance}"))?;
        if instance != yaml.name && !self.paths.under(PARALLEL_INSTANCES_FEATURE).is_file() {
            return Err(err(format!(
                "cannot install {} as {instance}: parallel instances are not enabled ({PARALLEL_INSTANCES_FEATURE} \
                 does not exist; snapd makes it with `snap set system experimental.parallel-instances=true`)",
                file.display()
            )));
        }
        let _lock = lock_installs(&self.paths)?;
        self.recover_locked()?;
        let mut log = UndoLog::new(&self.paths);
        let done = self.install_steps(file, &yaml, &instance, &mut log);
        // Its apps may start again (the new revision, or the old one).
        let cleared = inhibit::clear(self.paths.root(), &instance).map_err(err);
        match done {
            Ok(done) => cleared.map(|()| done),
            Err(e) => {
                let problems = log.undo(self);
                if problems.is_empty() {
                    Err(e)
                } else {
                    Err(err(format!("{e}\n(undoing the install also failed: {})", problems.join("; "))))
                }
            }
        }
    }

    fn install_steps(&self, file: &Path, yaml: &SnapYaml, instance: &str, log: &mut UndoLog) -> Result<Installed, Error> {
        let paths = &self.paths;
        let instance = instance.to_string();
        if instance == "bin" {
            return Err(err("cannot install a snap named \"bin\": /snap/bin holds the command wrappers"));
        }
        let state = state::read(paths)?;
        if let Some(existing) = state.snaps.get(&instance) {
            let old = snapyaml::parse(&existing.snap_yaml)?;
            if old.snap_type != yaml.snap_type {
                return Err(err(format!(
                    "cannot install {}: a snap named {instance} of another type is installed",
                    file.display()
                )));
            }
        }
        let rev = next_revision(paths, &instance);
        let previous = current_revision(paths, &instance);
        if let Some(prev) = &previous {
            // A refresh: `snap-run` waits until it is done, then starts the
            // new revision (daemons keep the old one meanwhile).
            inhibit::set(paths.root(), &instance, &inhibit::Hint::Refresh, prev).map_err(err)?;
        }
        // The snap file itself, kept for as long as the revision is mounted.
        let blob = paths.snap_blobs_dir().join(format!("{instance}_{rev}.snap"));
        mkdir(&paths.snap_blobs_dir(), 0o700, log)?;
        let tmp = blob.with_extension("partial");
        log.push(Undo::RemoveFile(tmp.clone()));
        log.push(Undo::RemoveFile(blob.clone()));
        fs::copy(file, &tmp).map_err(|e| err(format!("cannot copy {}: {e}", file.display())))?;
        fs::rename(&tmp, &blob).map_err(|e| err(format!("cannot store {}: {e}", blob.display())))?;
        let mount_unit = mount(paths, &instance, &rev, &blob, log)?;
        let rev_dir = paths.snap_revision_dir(&instance, &rev);
        // What is mounted must be what was checked.
        let (_, mounted) = crate::admin::read_snap_dir_pub(&rev_dir)?;
        if mounted.name != yaml.name {
            return Err(err(format!("cannot install {}: the mounted snap is not the one read", file.display())));
        }
        // Its desktop files, icons and completion links, checked before
        // anything else changes.
        let desktop_items = desktop::plan(paths, &rev_dir, &instance, yaml)
            .map_err(|e| err(format!("cannot install {}: {e}", file.display())))?;
        if instance != yaml.name {
            // An instance's sandbox shows its files under the snap's name:
            // the plain snap's directories are the mount points.
            mkdir(&paths.snap_mount_dir().join(&yaml.name), 0o755, log)?;
            mkdir(&paths.snap_data_dir().join(&yaml.name), 0o755, log)?;
        }
        if yaml.snap_type == SnapType::App {
            let data = paths.snap_data_dir().join(&instance);
            mkdir(&data.join("common"), 0o755, log)?;
            let new_data = data.join(&rev);
            mkdir(&new_data, 0o755, log)?;
            if let Some(prev) = &previous {
                let old_data = data.join(prev);
                if old_data.is_dir() {
                    run(
                        Command::new("cp").arg("-a").arg("--").arg(old_data.join(".")).arg(&new_data),
                        &format!("copy the data of revision {prev}"),
                    )?;
                }
            }
        }
        if yaml.snap_type == SnapType::App {
            // The snap's cookie: its apps find it in SNAP_COOKIE (kept across
            // refreshes, as snapd keeps it).
            let cookie = paths.under(COOKIE_DIR).join(format!("snap.{instance}"));
            if !cookie.exists() {
                mkdir(&paths.under(COOKIE_DIR), 0o755, log)?;
                write_file(&cookie, new_cookie()?, 0o600, log)?;
            }
        }
        // The policy, for the new revision (the old stays in force until
        // the new one is loaded).
        log.push(Undo::Reregister(instance.clone(), previous.clone().map(|p| (paths.snap_revision_dir(&instance, &p), p))));
        let registered = self.register(&rev_dir, &rev, Some(&instance))?;
        let services: Vec<&snapyaml::App> = yaml.apps.values().filter(|a| a.daemon.is_some()).collect();
        let systemd = systemd::is_running(paths.root());
        if systemd && previous.is_some() {
            for app in &services {
                let _ = systemd::systemctl(&["stop", &systemd::service_name(&instance, &app.name)]);
            }
        }
        log.push(Undo::SetCurrent(instance.clone(), previous.clone()));
        set_current(paths, &instance, &rev)?;
        let mut wrappers = Vec::new();
        for app in yaml.apps.values().filter(|a| a.daemon.is_none()) {
            let link = paths.snap_bin_dir().join(wrapper_name(&instance, &yaml.name, &app.name));
            mkdir(&paths.snap_bin_dir(), 0o755, log)?;
            if fs::symlink_metadata(&link).is_err() {
                log.push(Undo::RemoveFile(link.clone()));
                std::os::unix::fs::symlink(SNAP_RUN, &link).map_err(|e| err(format!("cannot create {}: {e}", link.display())))?;
            }
            wrappers.push(link);
        }
        let old_yaml = state.snaps.get(&instance).and_then(|s| snapyaml::parse(&s.snap_yaml).ok());
        if self.put_desktop_items(&instance, old_yaml.as_ref(), &desktop_items, log)? {
            desktop::update_database(paths).map_err(|e| err(format!("cannot install {}: {e}", file.display())))?;
        }
        let mut names = Vec::new();
        for app in &services {
            let name = systemd::service_name(&instance, &app.name);
            let unit = systemd::service_unit(&instance, &rev, app, SNAP_RUN, mount_unit.as_deref());
            write_file(&paths.systemd_units_dir().join(&name), &unit, 0o644, log)?;
            names.push(name);
        }
        // The new revision is linked: apps may run again, and see it. Its
        // daemons start only now (as snapd starts them after link-snap), or
        // `snap-run` would see the refresh under way and run the previous
        // revision for good.
        if previous.is_some() {
            inhibit::clear(paths.root(), &instance).map_err(err)?;
        }
        let started = systemd && !names.is_empty();
        if started {
            systemd::systemctl(&["daemon-reload"]).map_err(err)?;
            for name in &names {
                log.push(Undo::DisableUnit(name.clone()));
                systemd::systemctl(&["enable", name]).map_err(err)?;
                log.push(Undo::StopUnit(name.clone()));
                systemd::systemctl(&["restart", name]).map_err(err)?;
            }
        }
        // Done: nothing to undo any more. Revisions older than the previous
        // one go (snapd keeps a couple; so do we).
        log.commit();
        self.prune_old_revisions(&instance, &rev, previous.as_deref());
        Ok(Installed {
            instance,
            revision: rev,
            previous,
            wrappers,
            services: names,
            started,
            auto_connected: registered.auto_connected,
            warnings: registered.warnings.into_iter().chain(registered.report.warnings).collect(),
        })
    }

    /// Puts the new revision's desktop files, icons and completion links in
    /// place, and removes what the previous revision had that it has not.
    /// Returns whether a desktop file was written, changed or removed.
    fn put_desktop_items(&self, instance: &str, old: Option<&SnapYaml>, items: &[desktop::Item], log: &mut UndoLog) -> Result<bool, Error> {
        let paths = &self.paths;
        let mut changed = false;
        if let Some(old) = old {
            for stale in desktop::installed(paths, instance, old) {
                if items.iter().any(|i| i.path() == stale) {
                    continue;
                }
                log.push(match fs::read_link(&stale) {
                    Ok(target) => Undo::RestoreLink(stale.clone(), target),
                    Err(_) => Undo::RestoreFile(stale.clone(), fs::read(&stale).unwrap_or_default()),
                });
                remove_if_present(&stale)?;
                changed |= desktop::is_desktop_file(paths, &stale);
            }
        }
        for item in items {
            match item {
                desktop::Item::File { path, content } => {
                    changed |= desktop::is_desktop_file(paths, path) && fs::read(path).ok().as_ref() != Some(content);
                    write_file(path, content, 0o644, log)?;
                }
                desktop::Item::Link { path, target } => {
                    if fs::read_link(path).is_ok_and(|t| t == *target) {
                        continue;
                    }
                    if let Some(parent) = path.parent() {
                        mkdir(parent, 0o755, log)?;
                    }
                    log.push(match (fs::read_link(path), fs::read(path)) {
                        (Ok(t), _) => Undo::RestoreLink(path.clone(), t),
                        (_, Ok(bytes)) => Undo::RestoreFile(path.clone(), bytes),
                        _ => Undo::RemoveFile(path.clone()),
                    });
                    let _ = fs::remove_file(path);
                    std::os::unix::fs::symlink(target, path).map_err(|e| err(format!("cannot create {}: {e}", path.display())))?;
                }
            }
        }
        Ok(changed)
    }

    fn prune_old_revisions(&self, instance: &str, current: &str, previous: Option<&str>) {
        for rev in mounted_revisions(&self.paths, instance) {
            if rev != current && Some(rev.as_str()) != previous {
                let _ = self.unmount_revision(instance, &rev);
            }
        }
    }

    /// Unmounts one revision and removes its directory, data and file.
    fn unmount_revision(&self, instance: &str, rev: &str) -> Result<(), Error> {
        let paths = &self.paths;
        let where_ = paths.snap_revision_dir(instance, rev);
        let where_text = where_.to_string_lossy().into_owned();
        let unit = systemd::mount_unit_name(&where_text);
        let unit_file = paths.systemd_units_dir().join(&unit);
        if unit_file.exists() {
            let _ = systemd::systemctl(&["disable", "--now", &unit]);
            fs::remove_file(&unit_file).map_err(|e| err(format!("cannot remove {}: {e}", unit_file.display())))?;
        } else if is_mount_point(&where_) {
            run(Command::new("umount").arg("-l").arg(&where_), &format!("unmount {}", where_.display()))?;
        }
        let _ = fs::remove_dir(&where_);
        let _ = fs::remove_dir_all(paths.snap_data_dir().join(instance).join(rev));
        let _ = fs::remove_file(paths.snap_blobs_dir().join(format!("{instance}_{rev}.snap")));
        Ok(())
    }

    /// Removes an installed snap: its daemons are stopped, its preserved
    /// namespace discarded, its policy removed and its profiles unloaded,
    /// every revision unmounted, and every file made for it removed.
    pub fn remove(&self, instance: &str) -> Result<(), Error> {
        check_root(self, &format!("remove {instance}"))?;
        let _lock = lock_installs(&self.paths)?;
        self.recover_locked()?;
        let paths = &self.paths;
        let state = state::read(paths)?;
        let mounted = mounted_revisions(paths, instance);
        let Some(snap) = state.snaps.get(instance) else {
            return Err(err(format!("cannot remove {instance}: it is not installed")));
        };
        let yaml = snapyaml::parse(&snap.snap_yaml)?;
        // `snap-run` refuses the snap from now on.
        let current = current_revision(paths, instance).unwrap_or_default();
        inhibit::set(paths.root(), instance, &inhibit::Hint::Remove, &current).map_err(err)?;
        let removed = self.remove_steps(instance, &state, &yaml, &mounted);
        let unlocked = match &removed {
            Ok(()) => inhibit::remove(paths.root(), instance),
            Err(_) => inhibit::clear(paths.root(), instance),
        };
        removed.and(unlocked.map_err(err))
    }

    fn remove_steps(&self, instance: &str, state: &state::State, yaml: &SnapYaml, mounted: &[String]) -> Result<(), Error> {
        let paths = &self.paths;
        let systemd = systemd::is_running(paths.root());
        for app in yaml.apps.values() {
            if app.daemon.is_some() {
                let name = systemd::service_name(instance, &app.name);
                if systemd {
                    let _ = systemd::systemctl(&["disable", "--now", &name]);
                }
                remove_if_present(&paths.systemd_units_dir().join(&name))?;
            } else {
                remove_if_present(&paths.snap_bin_dir().join(wrapper_name(instance, &yaml.name, &app.name)))?;
            }
        }
        if systemd {
            let _ = systemd::systemctl(&["daemon-reload"]);
        }
        if desktop::remove(paths, instance, yaml)? {
            // The snap is going whatever the cache says: a failure is told.
            if let Err(e) = desktop::update_database(paths) {
                eprintln!("warning: {e}");
            }
        }
        if paths.is_system() && Path::new(DISCARD_NS).exists() {
            run(Command::new(DISCARD_NS).arg(instance), &format!("discard the mount namespace of {instance}"))?;
        }
        self.unregister(instance)?;
        for rev in mounted {
            self.unmount_revision(instance, rev)?;
        }
        let dir = paths.snap_mount_dir().join(instance);
        remove_if_present(&dir.join("current"))?;
        let _ = fs::remove_dir(&dir);
        // The wrappers' directory goes with the last wrapper.
        let _ = fs::remove_dir(paths.snap_bin_dir());
        let _ = fs::remove_dir_all(paths.snap_data_dir().join(instance));
        // The snap's own directories are the mount points of its parallel
        // instances: they stay, empty, while one is installed, and go with
        // the last one.
        let others = state.snaps.keys().filter(|k| *k != instance && naming::InstanceName::parse(k).is_ok_and(|i| i.snap_name() == yaml.name));
        let plain = [paths.snap_mount_dir().join(&yaml.name), paths.snap_data_dir().join(&yaml.name)];
        if others.count() > 0 {
            for d in &plain {
                let _ = fs::create_dir_all(d);
            }
        } else if instance != yaml.name {
            for d in &plain {
                let _ = fs::remove_dir(d);
            }
        }
        remove_if_present(&paths.under(COOKIE_DIR).join(format!("snap.{instance}")))?;
        // Users' data, and what the launcher made for the snap at run time.
        let mut homes = vec![paths.under("/root")];
        if let Ok(dir) = fs::read_dir(paths.home_dir()) {
            homes.extend(dir.flatten().map(|e| e.path()));
        }
        for home in homes {
            let _ = fs::remove_dir_all(home.join("snap").join(instance));
        }
        let _ = fs::remove_dir_all(paths.under("/tmp/snap-private-tmp").join(format!("snap.{instance}")));
        for group in ["/sys/fs/cgroup/freezer", "/sys/fs/cgroup/devices"] {
            if let Ok(dir) = fs::read_dir(paths.under(group)) {
                for e in dir.flatten() {
                    let n = e.file_name().to_string_lossy().into_owned();
                    if n == format!("snap.{instance}") || n.starts_with(&format!("snap.{instance}.")) {
                        let _ = fs::remove_dir(e.path());
                    }
                }
            }
        }
        Ok(())
    }
}

/// The instance a snap is installed as: `name` when given, which must be
/// the snap's name or `<snap>_<key>` (a parallel instance of an app snap).
fn instance_name(yaml: &SnapYaml, name: Option<&str>, file: &Path) -> Result<String, Error> {
    let Some(name) = name else { return Ok(yaml.name.clone()) };
    let parsed = naming::InstanceName::parse(name).map_err(|e| err(format!("cannot install {} as {name:?}: {e}", file.display())))?;
    if parsed.snap_name() != yaml.name {
        return Err(err(format!(
            "cannot install {} as {name}: the snap is named {}, an instance of it is {}_<key>",
            file.display(),
            yaml.name,
            yaml.name
        )));
    }
    if parsed.instance_key().is_some() && yaml.snap_type != SnapType::App {
        return Err(err(format!("cannot install {} as {name}: only app snaps can have parallel instances", file.display())));
    }
    Ok(name.to_string())
}

/// snapd's feature file: parallel instances are on.
pub const PARALLEL_INSTANCES_FEATURE: &str = "/var/lib/snapd/features/parallel-instances";

/// Where snap cookies are kept (read by the launcher).
const COOKIE_DIR: &str = "/var/lib/snapd/cookie";

/// A new random cookie: 32 bytes from the kernel, in hex.
fn new_cookie() -> Result<String, Error> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| err(format!("cannot make a snap cookie: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn remove_if_present(path: &Path) -> Result<(), Error> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(err(format!("cannot remove {}: {e}", path.display()))),
    }
}

/// Whether `path` is a mount point (its device differs from its parent's).
fn is_mount_point(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let (Ok(m), Some(parent)) = (fs::metadata(path), path.parent()) else { return false };
    fs::metadata(parent).map(|p| p.dev() != m.dev() || p.ino() == m.ino()).unwrap_or(false)
}

#[cfg(test)]
mod tests;

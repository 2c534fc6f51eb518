//! Carrying out one change through [`Sys`]: making what a mount needs
//! (its mount point, and for a layout its bind source), with a writable
//! mimic where that cannot be written; then the mount or unmount itself,
//! by descriptor.
//!
//! Every path is opened by walking from the root with `O_NOFOLLOW`: a
//! symlink anywhere in a source or a mount point (one the snap planted in
//! its writable data, or shipped in its squashfs) is refused, never
//! followed, and what is mounted on is what was opened. The directories
//! on the way are opened once per change ([`Dirs`]), and forgotten where a
//! mount, an unmount or a removal changes what their paths name.

use super::assume::{Assumptions, SQUASHFS_MAGIC};
use super::change::{Action, Change};
use super::create::{Attrs, Walk};
use super::dirs::{split, Dirs};
use super::mimic::{self, Listed, Original};
use crate::debug::Debug;
use crate::error::{Context, Error, Result};
use crate::fs::Opened;
use crate::mountinfo;
use crate::sys::{EntryKind, Proc, Source, Sys};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::MsFlags;
use policy_cache::fstab::{Kind, MountEntry, Origin};
use std::ffi::OsStr;
use std::os::fd::AsFd;

/// Why a change was not made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Its source or mount point is missing and the entry says to skip it.
    IgnoredMissing,
    Failed(Error),
    /// A failed mimic could not be undone: the namespace is in an unknown state.
    Fatal(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Failed(e)
    }
}

impl Failure {
    pub fn into_error(self) -> Error {
        match self {
            Failure::IgnoredMissing => Error::new("use a mount entry whose source or mount point is missing"),
            Failure::Failed(e) | Failure::Fatal(e) => e,
        }
    }
}

/// The mount(8) options that are flags; the rest goes to the file system.
pub fn split_options(options: &[String]) -> (MsFlags, Vec<String>) {
    let mut flags = MsFlags::empty();
    let mut data = Vec::new();
    for o in options {
        flags |= match o.as_str() {
            "rw" | "defaults" => MsFlags::empty(),
            "ro" => MsFlags::MS_RDONLY,
            "nosuid" => MsFlags::MS_NOSUID,
            "nodev" => MsFlags::MS_NODEV,
            "noexec" => MsFlags::MS_NOEXEC,
            "sync" => MsFlags::MS_SYNCHRONOUS,
            "remount" => MsFlags::MS_REMOUNT,
            "mand" => MsFlags::MS_MANDLOCK,
            "dirsync" => MsFlags::MS_DIRSYNC,
            "noatime" => MsFlags::MS_NOATIME,
            "nodiratime" => MsFlags::MS_NODIRATIME,
            "bind" => MsFlags::MS_BIND,
            "rbind" => MsFlags::MS_BIND | MsFlags::MS_REC,
            "move" => MsFlags::MS_MOVE,
            "silent" => MsFlags::MS_SILENT,
            "acl" => MsFlags::MS_POSIXACL,
            "private" => MsFlags::MS_PRIVATE,
            "rprivate" => MsFlags::MS_PRIVATE | MsFlags::MS_REC,
            "slave" => MsFlags::MS_SLAVE,
            "rslave" => MsFlags::MS_SLAVE | MsFlags::MS_REC,
            "shared" => MsFlags::MS_SHARED,
            "rshared" => MsFlags::MS_SHARED | MsFlags::MS_REC,
            "relatime" => MsFlags::MS_RELATIME,
            "strictatime" => MsFlags::MS_STRICTATIME,
            other => {
                if !other.starts_with("x-snapd.") {
                    data.push(other.to_owned());
                }
                MsFlags::empty()
            }
        };
    }
    (flags, data)
}

const PROPAGATION: MsFlags = MsFlags::MS_SHARED.union(MsFlags::MS_SLAVE).union(MsFlags::MS_PRIVATE).union(MsFlags::MS_UNBINDABLE);

/// Places no mount may land on: they propagate to the host.
const SHARED_WITH_HOST: &[&str] = &["/media", "/run/media", "/run/netns"];

fn under(path: &str, dir: &str) -> bool {
    path == dir || path.starts_with(&format!("{dir}/"))
}

/// What the mount point of a change must be made with.
fn attrs_for(entry: &MountEntry, assumptions: &Assumptions, path: &str, as_user: bool) -> Result<Attrs> {
    let hint = assumptions.mode_for(path);
    let bad = |m: String| Error::because(format!("use mount entry {entry}"), m);
    // The entry's own mode and owner are for its mount point only.
    let own = path == entry.dir;
    let leaf_mode = if own { entry.mode().map_err(bad)?.unwrap_or(hint) } else { hint };
    let owner = if as_user {
        None
    } else if own {
        Some((entry.user().map_err(bad)?.unwrap_or(0), entry.group().map_err(bad)?.unwrap_or(0)))
    } else {
        Some((0, 0))
    };
    Ok(Attrs { mode: hint, leaf_mode, owner })
}

/// Carries out changes, remembering what it did in its [`Assumptions`].
pub struct Performer<'a, S: Sys> {
    pub sys: &'a S,
    pub proc: &'a Proc,
    pub assumptions: Assumptions,
    /// User mounts: made as the user, owned by them.
    pub as_user: bool,
    pub debug: &'a Debug,
    /// The directories opened in the change being made.
    pub dirs: Dirs,
}

impl<S: Sys> Performer<'_, S> {
    /// Carries out `change`. Returns the changes a writable mimic made on
    /// the way (to be recorded even when the change itself then failed).
    /// Nothing opened for one change is used for the next.
    pub fn perform(&mut self, change: &Change) -> (Vec<Change>, std::result::Result<(), Failure>) {
        self.dirs.clear();
        let done = self.step(change);
        self.dirs.clear();
        done
    }

    /// One change, or one step of a mimic.
    fn step(&mut self, change: &Change) -> (Vec<Change>, std::result::Result<(), Failure>) {
        self.debug.say(format_args!("{change}"));
        let mut made = Vec::new();
        let result = self.perform_into(change, &mut made);
        (made, result)
    }

    /// The directory above `path`, open; `None` for the root.
    fn parent_dir(&mut self, path: &str) -> Result<Option<(std::rc::Rc<std::os::fd::OwnedFd>, String)>> {
        if path == "/" {
            return Ok(None);
        }
        let (dir, name) = split(path).ok_or_else(|| Error::because(format!("use path {path}"), "it is not canonical"))?;
        Ok(Some((self.dirs.open(self.sys, dir)?, name.to_owned())))
    }

    /// `path` opened without following anything; a symlink at the end is
    /// refused too.
    fn open_nofollow(&mut self, path: &str) -> Result<Opened> {
        let fd = self.dirs.open_entry(self.sys, path, OFlag::O_PATH)?;
        let stat = self.sys.fstat(fd.as_fd()).context(|| format!("inspect {path}"))?;
        if stat.mode & libc::S_IFMT == libc::S_IFLNK {
            return Err(Error::because(format!("use {path}"), "it is a symbolic link"));
        }
        Ok(Opened { fd, stat })
    }

    /// What is at `path`, not following anything; `None` if nothing is.
    fn lstat(&mut self, path: &str) -> Result<Option<u32>> {
        let (dir, name) = match self.parent_dir(path) {
            Ok(None) => return Ok(Some(libc::S_IFDIR)),
            Ok(Some(d)) => d,
            Err(e) if e.errno_value() == Some(Errno::ENOENT) => return Ok(None),
            Err(e) => return Err(e.within(format!("inspect {path}"))),
        };
        match self.sys.lstatat(dir.as_fd(), OsStr::new(&name)) {
            Ok(st) => Ok(Some(st.mode & libc::S_IFMT)),
            Err(e) if e.errno_value() == Some(Errno::ENOENT) => Ok(None),
            Err(e) => Err(e.within(format!("inspect {path}"))),
        }
    }

    fn perform_into(&mut self, change: &Change, made: &mut Vec<Change>) -> std::result::Result<(), Failure> {
        let e = &change.entry;
        if SHARED_WITH_HOST.iter().any(|d| under(&e.dir, d)) {
            return Err(Failure::Failed(Error::because(format!("mount on {}", e.dir), "mounts there reach the host")));
        }
        if e.kind() == Kind::Unknown {
            return Err(Failure::Failed(Error::because(format!("use mount entry {e}"), "its x-snapd.kind is unknown")));
        }
        if change.action == Action::Mount {
            self.ensure_target(e, made)?;
            self.ensure_source(e, made)?;
        }
        self.low_level(change)
    }

    /// Makes the mount point when it is missing; checks its type otherwise.
    fn ensure_target(&mut self, e: &MountEntry, made: &mut Vec<Change>) -> std::result::Result<(), Failure> {
        let path = &e.dir;
        let found = self.lstat(path)?;
        let Some(ty) = found else { return self.create_path(e, path, true, made) };
        let problem = match e.kind() {
            Kind::Directory if ty != libc::S_IFDIR => Some("not a directory"),
            Kind::File if ty != libc::S_IFREG => Some("not a regular file"),
            Kind::Symlink if ty != libc::S_IFLNK => Some("an existing file is in the way"),
            Kind::Symlink => return self.create_path(e, path, false, made),
            _ => None,
        };
        match problem {
            Some(p) => Err(Failure::Failed(Error::because(format!("use {path} as mount point"), p))),
            None => Ok(()),
        }
    }

    /// Makes a bind mount's missing source (with holes poked for layouts,
    /// as snapd does: a layout's source in `$SNAP` may need a mimic).
    fn ensure_source(&mut self, e: &MountEntry, made: &mut Vec<Change>) -> std::result::Result<(), Failure> {
        let (flags, _) = split_options(&e.options);
        if !flags.contains(MsFlags::MS_BIND) {
            return Ok(());
        }
        let path = &e.name;
        match (self.lstat(path)?, e.kind()) {
            (None, _) => self.create_path(e, path, e.origin() == Origin::Layout, made),
            (Some(libc::S_IFDIR), Kind::Directory) | (Some(libc::S_IFREG), Kind::File) => Ok(()),
            (Some(_), Kind::File) => Err(Failure::Failed(Error::because(format!("use {path} as bind-mount source"), "not a regular file"))),
            (Some(_), _) => Err(Failure::Failed(Error::because(format!("use {path} as bind-mount source"), "not a directory"))),
        }
    }

    fn create_path(&mut self, e: &MountEntry, path: &str, poke_holes: bool, made: &mut Vec<Change>) -> std::result::Result<(), Failure> {
        if e.ignore_missing() {
            return Err(Failure::IgnoredMissing);
        }
        let attrs = attrs_for(e, &self.assumptions, path, self.as_user)?;
        let walk = Walk::new(self.sys, &mut self.assumptions, &mut self.dirs, path, attrs);
        let result = match e.kind() {
            Kind::Directory | Kind::Unknown => walk.mkdir_all(path),
            Kind::File => walk.mkfile_all(path),
            Kind::Symlink => walk.mksymlink_all(path, e.symlink_target().unwrap_or("")),
        };
        let err = match result {
            Ok(()) => return Ok(()),
            Err(err) => err,
        };
        match (err.mimic_at().map(str::to_owned), poke_holes) {
            (Some(at), true) => {
                self.debug.say(format_args!("a writable mimic over {at} is needed to create {path} ({})", err.clone().into_error()));
                self.writable_mimic(&at, path, made).map_err(|f| match f {
                    Failure::Failed(e) => Failure::Failed(e.within(format!("create writable mimic over {at:?}"))),
                    other => other,
                })?;
                self.create_path(e, path, false, made)
            }
            _ => Err(Failure::Failed(err.into_error())),
        }
    }

    /// The directory a mimic goes over, as it is now.
    fn original(&mut self, dir: &str) -> Result<Original> {
        let fd = self.dirs.open(self.sys, dir).context(|| format!("inspect {dir}"))?;
        let st = self.sys.fstat(fd.as_fd()).context(|| format!("inspect {dir}"))?;
        let mut entries = Vec::new();
        for (name, kind) in self.sys.read_dir(fd.as_fd()).context(|| format!("read {dir}"))? {
            let Some(text) = name.to_str() else {
                self.debug.say(format_args!("skipping {dir}/{}: its name is not UTF-8", name.to_string_lossy()));
                continue;
            };
            let target = match kind {
                EntryKind::Symlink => match self.sys.readlinkat(fd.as_fd(), &name) {
                    Ok(t) => Some(t.to_string_lossy().into_owned()),
                    Err(_) => continue,
                },
                _ => None,
            };
            entries.push(Listed { name: text.to_owned(), kind, target });
        }
        Ok(Original { path: dir.to_owned(), mode: st.perms(), uid: st.uid, gid: st.gid, entries })
    }

    /// Makes a writable mimic over `dir` for `needed_by`; on failure,
    /// what it did is undone.
    fn writable_mimic(&mut self, dir: &str, needed_by: &str, made: &mut Vec<Change>) -> std::result::Result<(), Failure> {
        if dir == "/" {
            return Err(Failure::Failed(Error::because("create a writable mimic over /", "it is not supported")));
        }
        let original = self.original(dir)?;
        let plan = mimic::plan(&original, needed_by);
        for (i, change) in plan.iter().enumerate() {
            let (inner, result) = self.step(change);
            made.extend(inner);
            if let Err(failure) = result {
                self.undo(&plan, i, &failure)?;
                return Err(failure);
            }
        }
        made.extend(mimic::recorded(&plan));
        Ok(())
    }

    /// Unmounts, last first, what the first `done` steps of a mimic mounted.
    fn undo(&mut self, plan: &[Change], done: usize, cause: &Failure) -> std::result::Result<(), Failure> {
        let mut steps: Vec<&Change> = plan.get(..done).unwrap_or(&[]).iter().filter(|c| c.entry.kind() != Kind::Symlink).collect();
        steps.reverse();
        for c in steps {
            let mut e = c.entry.clone();
            if e.opt_bool("rbind") && !e.detach() {
                e.options.push("x-snapd.detach".into());
            }
            if let Err(f) = self.low_level(&Change::new(Action::Unmount, e)) {
                return Err(Failure::Fatal(Error::because(
                    format!("undo change {c} while recovering from {}", cause.clone().into_error()),
                    f.into_error().to_string(),
                )));
            }
        }
        Ok(())
    }

    /// The mount or unmount itself.
    fn low_level(&mut self, change: &Change) -> std::result::Result<(), Failure> {
        let e = &change.entry;
        // Whatever happens, what was opened at and below the path may no
        // longer be what the path names.
        if change.action != Action::Keep {
            self.dirs.forget(&e.dir);
        }
        let done = self.low_level_at(change);
        if change.action != Action::Keep {
            self.dirs.forget(&e.dir);
        }
        done
    }

    fn low_level_at(&mut self, change: &Change) -> std::result::Result<(), Failure> {
        let e = &change.entry;
        match change.action {
            Action::Keep => {}
            Action::Mount if e.kind() == Kind::Symlink => {}
            Action::Mount => self.mount(e)?,
            Action::Unmount if e.kind() == Kind::Symlink => self.remove_symlink(&e.dir)?,
            Action::Unmount => self.unmount(e)?,
        }
        self.assumptions.add_change(change);
        Ok(())
    }

    fn mount(&mut self, e: &MountEntry) -> Result<()> {
        let (flags, mut data) = split_options(&e.options);
        // A tmpfs layout's mode is the mode of its root, as the snap asked
        // (snapd's snap-update-ns gives it only to the mount point under
        // it, which leaves the tmpfs at 1777).
        if e.fstype == "tmpfs" && !data.iter().any(|d| d.starts_with("mode=")) {
            if let Ok(Some(mode)) = e.mode() {
                data.push(format!("mode={mode:04o}"));
            }
        }
        let what = || format!("mount {} on {}", if e.name.is_empty() { "none" } else { &e.name }, e.dir);
        let plain = flags & !(PROPAGATION | MsFlags::MS_REC);
        if flags.contains(MsFlags::MS_BIND) {
            self.bind_mount(&e.name, &e.dir, plain | (flags & MsFlags::MS_REC))?;
        } else {
            let target = self.open_nofollow(&e.dir)?;
            // Our tmpfs mounts (mimics, layouts) never hold devices or
            // setuid programs of their own.
            let extra = if e.fstype == "tmpfs" { MsFlags::MS_NOSUID | MsFlags::MS_NODEV } else { MsFlags::empty() };
            let fstype = (!e.fstype.is_empty()).then_some(e.fstype.as_str());
            self.sys
                .mount(Source::Path(&e.name), target.fd.as_fd(), &e.dir, fstype, plain | extra, Some(&data.join(",")))
                .map_err(|errno| Error::errno(what(), errno))?;
        }
        let propagation = flags & PROPAGATION;
        if !propagation.is_empty() {
            let target = self.open_nofollow(&e.dir)?;
            self.sys
                .mount(Source::None, target.fd.as_fd(), &e.dir, None, propagation | (flags & MsFlags::MS_REC), None)
                .map_err(|errno| Error::errno(format!("change the propagation of {}", e.dir), errno))?;
        }
        Ok(())
    }

    /// A bind mount by descriptors; read-only binds are remounted read-only
    /// keeping the source's nosuid, nodev and noexec.
    fn bind_mount(&mut self, source: &str, target: &str, flags: MsFlags) -> Result<()> {
        let what = || format!("bind {source} on {target}");
        if flags.contains(MsFlags::MS_RDONLY | MsFlags::MS_REC) {
            return Err(Error::because(what(), "MS_RDONLY and MS_REC cannot be used together"));
        }
        let src = self.open_nofollow(source).map_err(|e| e.within(what()))?;
        let dst = self.open_nofollow(target).map_err(|e| e.within(what()))?;
        let bind = MsFlags::MS_BIND | (flags & MsFlags::MS_REC);
        self.sys.mount(Source::Fd(src.fd.as_fd()), dst.fd.as_fd(), target, None, bind, None).map_err(|errno| Error::errno(what(), errno))?;
        if flags.contains(MsFlags::MS_RDONLY) {
            self.dirs.forget(target);
            let mounted = self.open_nofollow(target)?;
            let fs = self.sys.statfs(mounted.fd.as_fd())?;
            let mut ro = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY;
            for (on, f) in [(fs.nosuid, MsFlags::MS_NOSUID), (fs.nodev, MsFlags::MS_NODEV), (fs.noexec, MsFlags::MS_NOEXEC)] {
                if on {
                    ro |= f;
                }
            }
            if let Err(errno) = self.sys.mount(Source::None, mounted.fd.as_fd(), target, None, ro, None) {
                let _ = self.sys.umount_fd(mounted.fd.as_fd(), target, true);
                return Err(Error::errno(format!("remount {target} read-only"), errno));
            }
        }
        Ok(())
    }

    /// Whether something is mounted at `dir` in this namespace.
    fn is_mount_point(&self, dir: &str) -> bool {
        let Ok(text) = self.sys.read_proc(self.proc, "self/mountinfo", 8 << 20) else { return true };
        mountinfo::parse(&String::from_utf8_lossy(&text)).map_or(true, |entries| entries.iter().any(|m| m.mount_point == dir))
    }

    fn unmount(&mut self, e: &MountEntry) -> Result<()> {
        let dir = &e.dir;
        let target = match self.open_nofollow(dir) {
            Ok(t) => t,
            Err(err) if err.errno_value() == Some(Errno::ENOENT) => return Ok(()),
            Err(err) => return Err(err.within(format!("unmount {dir}"))),
        };
        // EINVAL: not a mount point. Fine when it really is not.
        let not_mounted = |errno: Errno| errno == Errno::EINVAL && !self.is_mount_point(dir);
        if e.detach() {
            let flags = MsFlags::MS_REC | MsFlags::MS_PRIVATE;
            match self.sys.mount(Source::None, target.fd.as_fd(), dir, None, flags, None) {
                Err(errno) if !not_mounted(errno) => return Err(Error::errno(format!("make {dir} private"), errno)),
                _ => {}
            }
        }
        match self.sys.umount_fd(target.fd.as_fd(), dir, e.detach()) {
            Err(errno) if !not_mounted(errno) => return Err(Error::errno(format!("unmount {dir}"), errno)),
            _ => {}
        }
        drop(target);
        self.dirs.forget(dir);
        self.remove_mount_point(e)
    }

    /// Removes an emptied mount point we may have made: never on squashfs,
    /// never a file with content, never a directory with entries.
    fn remove_mount_point(&mut self, e: &MountEntry) -> Result<()> {
        let Ok(target) = self.open_nofollow(&e.dir) else { return Ok(()) };
        if self.sys.statfs(target.fd.as_fd())?.magic == SQUASHFS_MAGIC {
            return Ok(());
        }
        let is_dir = target.stat.is_dir_type();
        if e.kind() == Kind::File && (is_dir || target.stat.size != 0) {
            return Ok(());
        }
        drop(target);
        let Ok(Some((dir, name))) = self.parent_dir(&e.dir) else { return Ok(()) };
        self.dirs.forget(&e.dir);
        match self.sys.unlinkat(dir.as_fd(), OsStr::new(&name), is_dir) {
            Ok(()) | Err(Errno::EROFS | Errno::EBUSY | Errno::ENOTEMPTY | Errno::EEXIST | Errno::ENOENT) => Ok(()),
            Err(errno) => Err(Error::errno(format!("remove {}", e.dir), errno)),
        }
    }

    fn remove_symlink(&mut self, path: &str) -> Result<()> {
        let Ok(Some((dir, name))) = self.parent_dir(path) else { return Ok(()) };
        match self.sys.lstatat(dir.as_fd(), OsStr::new(&name)) {
            Ok(st) if st.mode & libc::S_IFMT == libc::S_IFLNK => {}
            Ok(_) => return Err(Error::because(format!("remove symlink {path}"), "it is not a symbolic link")),
            Err(_) => return Ok(()),
        }
        match self.sys.unlinkat(dir.as_fd(), OsStr::new(&name), false) {
            Ok(()) | Err(Errno::ENOENT) => Ok(()),
            Err(errno) => Err(Error::errno(format!("remove {path}"), errno)),
        }
    }
}

#[cfg(test)]
#[path = "perform_tests.rs"]
pub(crate) mod tests;

//! Carries out a mount plan. Paths are opened with
//! `openat2(RESOLVE_IN_ROOT)` and mounted through their descriptors. A path
//! inside the new root being built (the scratch directory) is resolved with
//! that directory as its root: a symlink in the base, absolute or with
//! `..`, means what it will mean once the scratch directory is `/`, never a
//! host path (the namespace is shared with the host's until it is made a
//! slave, so a mount on a host path could reach the host). After
//! `pivot_root` the new root is `/` anyway. A failed mount is reported as
//! the mount(8) command it would have been.

use super::plan::{FarmStep, Propagation, Step};
use crate::error::{Context, Error, Result};
use crate::fs::components;
use crate::sys::{Source, Sys};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::MsFlags;
use nix::sys::stat::Mode;
use std::cell::RefCell;
use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};
use std::rc::Rc;

fn failed(step: &Step, e: Errno) -> Error {
    Error::errno(format!("perform operation: {step}"), e)
}

/// The directories steps start from, kept from one step to the next: `/`
/// and the top mount on the new root. A path below either is looked up
/// from them afresh each time (a lookup goes through the mounts on the
/// way), so only a step that mounts on one of them, on a directory above
/// the new root, or that moves the root makes them stale ([`Anchors::stale_after`]).
#[derive(Debug, Default)]
pub struct Anchors {
    root: RefCell<Option<Rc<OwnedFd>>>,
    new_root: RefCell<Option<Rc<OwnedFd>>>,
}

impl Anchors {
    fn forget(&self) {
        self.root.borrow_mut().take();
        self.new_root.borrow_mut().take();
    }

    /// Whether `step` may change what `/` or `new_root` names: a mount or an
    /// unmount on either or on a directory above the new root, `pivot_root`,
    /// or the removal of such a directory.
    fn stale_after(step: &Step, new_root: Option<&str>) -> bool {
        let covers = |path: &str| {
            path == "/"
                || new_root.is_some_and(|r| r == path || r.strip_prefix(path).is_some_and(|rest| rest.starts_with('/')))
        };
        match step {
            Step::PivotRoot { .. } | Step::Umount { .. } => true,
            Step::Bind { target, .. }
            | Step::BindFd { target, .. }
            | Step::Tmpfs { target, .. }
            | Step::Propagate { target, .. }
            | Step::RemountReadOnly { target, .. } => covers(target),
            Step::Farm(farm) => covers(&farm.target),
            Step::Rmdir { path } => covers(path),
            Step::Mkdir { .. }
            | Step::Symlink { .. }
            | Step::File { .. }
            | Step::Chmod { .. }
            | Step::EnsureHostDir { .. }
            | Step::EnsureHostfs { .. } => false,
        }
    }
}

/// Resolves the plan's absolute paths: under `new_root` (while there is
/// one, before `pivot_root`) with it as the root, elsewhere from `/`.
#[derive(Debug, Clone, Copy)]
pub struct Resolver<'a> {
    new_root: Option<&'a str>,
    anchors: &'a Anchors,
}

impl<'a> Resolver<'a> {
    /// Paths under `new_root` are resolved inside it.
    pub fn inside(new_root: &'a str, anchors: &'a Anchors) -> Self {
        Resolver { new_root: Some(new_root), anchors }
    }

    /// Every path is resolved from `/`.
    pub fn host(anchors: &'a Anchors) -> Self {
        Resolver { new_root: None, anchors }
    }

    fn root<S: Sys>(&self, sys: &S) -> Result<Rc<OwnedFd>> {
        if let Some(root) = self.anchors.root.borrow().as_ref() {
            return Ok(Rc::clone(root));
        }
        let root = Rc::new(sys.root()?);
        *self.anchors.root.borrow_mut() = Some(Rc::clone(&root));
        Ok(root)
    }

    /// The top mount on the new root.
    fn new_root<S: Sys>(&self, sys: &S, new_root: &str) -> Result<Rc<OwnedFd>> {
        if let Some(dir) = self.anchors.new_root.borrow().as_ref() {
            return Ok(Rc::clone(dir));
        }
        let root = self.root(sys)?;
        let dir = Rc::new(sys.open_in_root(root.as_fd(), new_root.trim_start_matches('/'), OFlag::O_PATH | OFlag::O_DIRECTORY)?);
        *self.anchors.new_root.borrow_mut() = Some(Rc::clone(&dir));
        Ok(dir)
    }

    /// Opens `path` (absolute) with `flags`. The new root itself, wanted
    /// as a directory handle, is the one kept.
    fn open<S: Sys>(&self, sys: &S, path: &str, flags: OFlag) -> Result<Rc<OwnedFd>> {
        let inside = self.new_root.and_then(|r| path.strip_prefix(r).filter(|rest| rest.is_empty() || rest.starts_with('/')).map(|rest| (r, rest)));
        match inside {
            Some((new_root, rest)) => {
                let dir = self.new_root(sys, new_root)?;
                match rest.trim_start_matches('/') {
                    "" if flags == OFlag::O_PATH | OFlag::O_DIRECTORY => Ok(dir),
                    "" => Ok(Rc::new(sys.open_in_root(dir.as_fd(), ".", flags)?)),
                    rest => Ok(Rc::new(sys.open_in_root(dir.as_fd(), rest, flags)?)),
                }
            }
            None => Ok(Rc::new(sys.open_in_root(self.root(sys)?.as_fd(), path.trim_start_matches('/'), flags)?)),
        }
    }

    /// Opens `path` for use as a mount target.
    fn target<S: Sys>(&self, sys: &S, path: &str) -> Result<Rc<OwnedFd>> {
        self.open(sys, path, OFlag::O_PATH)
    }

    /// Opens the parent directory of `path` and returns it with the last name.
    fn parent<'p, S: Sys>(&self, sys: &S, path: &'p str) -> Result<(Rc<OwnedFd>, &'p str)> {
        let (parent, name) = path.rsplit_once('/').ok_or_else(|| Error::because(format!("use {path}"), "no parent"))?;
        let parent = if parent.is_empty() { "/" } else { parent };
        Ok((self.open(sys, parent, OFlag::O_PATH | OFlag::O_DIRECTORY)?, name))
    }
}

fn propagation_flags(kind: Propagation, recursive: bool) -> MsFlags {
    let f = match kind {
        Propagation::Shared => MsFlags::MS_SHARED,
        Propagation::Slave => MsFlags::MS_SLAVE,
        Propagation::Private => MsFlags::MS_PRIVATE,
        Propagation::Unbindable => MsFlags::MS_UNBINDABLE,
    };
    if recursive {
        f | MsFlags::MS_REC
    } else {
        f
    }
}

/// Creates the host directory `path` and its missing parents, 0755 and
/// root-owned (the launcher is root here and the umask is 0).
fn ensure_host_dir<S: Sys>(sys: &S, path: &str) -> Result<()> {
    let mut dir = sys.root()?;
    for part in components(path)? {
        match sys.mkdirat(dir.as_fd(), OsStr::new(part), Mode::from_bits_truncate(0o755)) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => return Err(Error::errno(format!("create {path}"), e)),
        }
        dir = sys.openat(dir.as_fd(), OsStr::new(part), OFlag::O_PATH | OFlag::O_DIRECTORY, Mode::empty())?;
    }
    Ok(())
}

/// Splits mount(8)-style options into the mount flags among them and the
/// rest, which goes to the filesystem as data.
fn split_options(options: &str) -> (MsFlags, String) {
    let mut flags = MsFlags::empty();
    let mut data = Vec::new();
    for word in options.split(',').filter(|w| !w.is_empty()) {
        match word {
            "nosuid" => flags |= MsFlags::MS_NOSUID,
            "nodev" => flags |= MsFlags::MS_NODEV,
            "noexec" => flags |= MsFlags::MS_NOEXEC,
            "ro" => flags |= MsFlags::MS_RDONLY,
            other => data.push(other),
        }
    }
    (flags, data.join(","))
}

/// [`Step::Farm`]: the tmpfs mounted on the mount point, then everything
/// made relative to the tmpfs root (the mount point opened again after the
/// mount), and that root remounted read-only.
fn make_farm<S: Sys>(sys: &S, at: Resolver<'_>, step: &Step, farm: &FarmStep) -> Result<()> {
    let dir_flags = OFlag::O_PATH | OFlag::O_DIRECTORY;
    let under = at.open(sys, &farm.target, dir_flags).context(|| step)?;
    let (flags, data) = split_options(&farm.data);
    sys.mount(Source::Path("tmpfs"), under.as_fd(), &farm.target, Some("tmpfs"), flags, Some(&data))
        .map_err(|e| failed(step, e))?;
    drop(under);
    let top = at.open(sys, &farm.target, dir_flags).context(|| step)?;
    let mut subdirs: Vec<(&str, OwnedFd)> = Vec::with_capacity(farm.subdirs.len());
    for sub in &farm.subdirs {
        let what = || format!("perform operation: mkdir -m 0755 {}/{sub}", farm.target);
        sys.mkdirat(top.as_fd(), OsStr::new(sub), Mode::from_bits_truncate(0o755)).map_err(|e| Error::errno(what(), e))?;
        subdirs.push((sub, sys.openat(top.as_fd(), OsStr::new(sub), dir_flags, Mode::empty()).context(what)?));
    }
    for link in &farm.links {
        let what = || format!("perform operation: ln -s {} {}/{}", link.target, farm.target, link.name);
        let (dir, name) = match link.name.split_once('/') {
            Some((sub, name)) => (subdirs.iter().find(|(s, _)| *s == sub).map(|(_, fd)| fd.as_fd()), name),
            None => (Some(top.as_fd()), link.name.as_str()),
        };
        let dir = dir.ok_or_else(|| Error::because(what(), "its directory is not one of the farm's"))?;
        sys.symlinkat(&link.target, dir, OsStr::new(name)).map_err(|e| Error::errno(what(), e))?;
    }
    for file in &farm.files {
        let what = || format!("perform operation: write {}/{}", farm.target, file.name);
        let flags = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY;
        let fd = sys.openat(top.as_fd(), OsStr::new(&file.name), flags, Mode::from_bits_truncate(0o644)).context(what)?;
        sys.write_all(fd.as_fd(), file.content.as_bytes()).context(what)?;
    }
    let flags =
        MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    sys.mount(Source::None, top.as_fd(), &farm.target, None, flags, None).map_err(|e| failed(step, e))
}

/// Runs one step. Returns false when an optional bind was skipped.
pub fn apply_step<S: Sys>(sys: &S, at: Resolver<'_>, step: &Step) -> Result<bool> {
    if let Step::Bind { source, target, recursive, optional } = step {
        let fd = match at.target(sys, target) {
            Err(e) if *optional && e.errno_value() == Some(Errno::ENOENT) => return Ok(false),
            other => other.context(|| step)?,
        };
        let mut flags = MsFlags::MS_BIND;
        if *recursive {
            flags |= MsFlags::MS_REC;
        }
        return match sys.mount(Source::Path(source), fd.as_fd(), target, None, flags, None) {
            Err(Errno::ENOENT) if *optional => Ok(false),
            other => other.map(|()| true).map_err(|e| failed(step, e)),
        };
    }
    other_step(sys, at, step).map(|()| true)
}

fn other_step<S: Sys>(sys: &S, at: Resolver<'_>, step: &Step) -> Result<()> {
    match step {
        Step::Propagate { target, kind, recursive } => {
            let fd = at.target(sys, target).context(|| step)?;
            sys.mount(Source::None, fd.as_fd(), target, None, propagation_flags(*kind, *recursive), None)
                .map_err(|e| failed(step, e))
        }
        Step::Bind { .. } => Ok(()),
        Step::Tmpfs { target, data } => {
            let fd = at.target(sys, target).context(|| step)?;
            let (flags, data) = split_options(data);
            sys.mount(Source::Path("tmpfs"), fd.as_fd(), target, Some("tmpfs"), flags, Some(&data))
                .map_err(|e| failed(step, e))
        }
        Step::RemountReadOnly { target, noexec } => {
            let fd = at.target(sys, target).context(|| step)?;
            let mut flags = MsFlags::MS_BIND
                | MsFlags::MS_REMOUNT
                | MsFlags::MS_RDONLY
                | MsFlags::MS_NOSUID
                | MsFlags::MS_NODEV;
            if *noexec {
                flags |= MsFlags::MS_NOEXEC;
            }
            sys.mount(Source::None, fd.as_fd(), target, None, flags, None).map_err(|e| failed(step, e))
        }
        Step::BindFd { source, target, recursive } => {
            let src = crate::fs::open_path(sys, source, OFlag::O_PATH | OFlag::O_DIRECTORY, crate::fs::Trust::Any)
                .context(|| step)?;
            let fd = at.target(sys, target).context(|| step)?;
            let flags = if *recursive { MsFlags::MS_BIND | MsFlags::MS_REC } else { MsFlags::MS_BIND };
            sys.mount(Source::Fd(src.fd.as_fd()), fd.as_fd(), target, None, flags, None).map_err(|e| failed(step, e))
        }
        Step::Mkdir { path, mode } => {
            let (dir, name) = at.parent(sys, path).context(|| step)?;
            sys.mkdirat(dir.as_fd(), OsStr::new(name), Mode::from_bits_truncate(*mode)).map_err(|e| failed(step, e))
        }
        Step::Symlink { path, target } => {
            let (dir, name) = at.parent(sys, path).context(|| step)?;
            sys.symlinkat(target, dir.as_fd(), OsStr::new(name)).map_err(|e| failed(step, e))
        }
        Step::Farm(farm) => make_farm(sys, at, step, farm),
        Step::File { path } => {
            let (dir, name) = at.parent(sys, path).context(|| step)?;
            let flags = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY;
            sys.openat(dir.as_fd(), OsStr::new(name), flags, Mode::from_bits_truncate(0o644)).context(|| step)?;
            Ok(())
        }
        Step::Chmod { path, mode } => {
            let fd = at.open(sys, path, OFlag::O_RDONLY | OFlag::O_DIRECTORY).context(|| step)?;
            sys.fchmod(fd.as_fd(), *mode).context(|| step)
        }
        Step::EnsureHostDir { path } => ensure_host_dir(sys, path).context(|| step),
        Step::EnsureHostfs { path } => {
            ensure_host_dir(sys, path).context(|| step)?;
            let root = sys.root()?;
            let fd = sys.open_in_root(root.as_fd(), path.trim_start_matches('/'), OFlag::O_PATH | OFlag::O_DIRECTORY)?;
            let st = sys.fstat(fd.as_fd())?;
            if (st.uid, st.gid) != sys.trusted_owner() {
                return Err(Error::because(format!("use {path}"), format!("it is owned by {}:{}, not root", st.uid, st.gid)));
            }
            Ok(())
        }
        Step::PivotRoot { new_root, put_old } => {
            let new = at.open(sys, new_root, OFlag::O_PATH | OFlag::O_DIRECTORY).context(|| step)?;
            let old = at.open(sys, put_old, OFlag::O_PATH | OFlag::O_DIRECTORY).context(|| step)?;
            sys.pivot_root(new.as_fd(), old.as_fd(), (new_root, put_old)).map_err(|e| failed(step, e))
        }
        Step::Umount { target, lazy } => sys.umount(target, *lazy).map_err(|e| failed(step, e)),
        Step::Rmdir { path } => {
            let (dir, name) = at.parent(sys, path).context(|| step)?;
            sys.unlinkat(dir.as_fd(), OsStr::new(name), true).map_err(|e| failed(step, e))
        }
    }
}

/// Runs the steps in order, stopping at the first failure, with paths
/// under `new_root` resolved inside it until `pivot_root` (see the module's
/// text). A propagation change on the target of a skipped optional bind is
/// skipped too.
pub fn apply<S: Sys>(sys: &S, steps: &[Step], new_root: Option<&str>) -> Result<()> {
    let mut skipped: Vec<&str> = Vec::new();
    let anchors = Anchors::default();
    let mut at = new_root.map_or(Resolver::host(&anchors), |r| Resolver::inside(r, &anchors));
    for step in steps {
        if let Step::Propagate { target, .. } = step {
            if skipped.contains(&target.as_str()) {
                continue;
            }
        }
        let pivot = matches!(step, Step::PivotRoot { .. });
        let applied = apply_step(sys, at, step);
        // Forgotten even when the step failed half-way.
        if Anchors::stale_after(step, new_root) {
            anchors.forget();
        }
        if !applied? {
            if let Step::Bind { target, .. } = step {
                skipped.push(target);
            }
        }
        if pivot {
            at = Resolver::host(&anchors);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::sys::fake::FakeSys;

    const S: &str = "/tmp/snap-private-tmp/snap.rootfs_X";

    fn bind(target: &str) -> Step {
        Step::Bind { source: "/var/snap".into(), target: target.into(), recursive: true, optional: false }
    }

    /// A new root whose `var` is an absolute symlink, and a host that has
    /// what it points at too.
    fn system() -> FakeSys {
        let sys = FakeSys::new();
        for d in ["/srv/var/snap", "/srv/var/lib/snapd/hostfs"] {
            sys.dir(d, 0o755);
            sys.dir(&format!("{S}{d}"), 0o755);
        }
        std::os::unix::fs::symlink("/srv/var", sys.path(&format!("{S}/var"))).unwrap();
        std::os::unix::fs::symlink("../../../../srv", sys.path(&format!("{S}/up"))).unwrap();
        sys
    }

    #[test]
    fn paths_in_the_new_root_never_resolve_to_host_paths() {
        let sys = system();
        let steps = [
            bind(&format!("{S}/var/snap")),
            bind(&format!("{S}/up/var/snap")),
            Step::Mkdir { path: format!("{S}/var/snap/made"), mode: 0o755 },
            Step::PivotRoot { new_root: S.into(), put_old: format!("{S}/var/lib/snapd/hostfs") },
        ];
        apply(&sys, &steps, Some(S)).unwrap();
        // Absolute and `..` symlinks alike end inside the new root.
        assert_eq!(
            *sys.mounted_at.borrow(),
            [
                format!("{S}/srv/var/snap"),
                format!("{S}/srv/var/snap"),
                S.to_string(),
                format!("{S}/srv/var/lib/snapd/hostfs")
            ]
        );
        assert!(sys.path(&format!("{S}/srv/var/snap/made")).is_dir());
        assert!(!sys.path("/srv/var/snap/made").exists());
    }

    #[test]
    fn paths_outside_the_new_root_and_after_pivot_root_resolve_from_slash() {
        let sys = system();
        std::os::unix::fs::symlink("/srv/var", sys.path("/var")).unwrap();
        let steps = [
            bind("/var/snap"),
            Step::PivotRoot { new_root: S.into(), put_old: format!("{S}/srv/var/lib/snapd/hostfs") },
            bind(&format!("{S}/var/snap")),
        ];
        apply(&sys, &steps, Some(S)).unwrap();
        assert_eq!(
            *sys.mounted_at.borrow(),
            ["/srv/var/snap".to_string(), S.to_string(), format!("{S}/srv/var/lib/snapd/hostfs"), "/srv/var/snap".to_string()]
        );
    }

    #[test]
    fn a_farm_is_mounted_filled_and_made_read_only_from_one_step() {
        use crate::rootfs::plan::{FarmFile, FarmStep, Link};
        let sys = FakeSys::new();
        let gl = format!("{S}/var/lib/snapd/lib/gl");
        sys.dir(&gl, 0o755);
        let link = |name: &str, target: &str| Link { name: name.into(), target: target.into() };
        let mut farm = FarmStep {
            target: gl.clone(),
            data: "nosuid,nodev,noexec,mode=0755".into(),
            subdirs: vec!["vdpau".into()],
            links: vec![link("libcuda.so.1", "libcuda.so.9"), link("vdpau/libvdpau_nvidia.so.1", "/h/libvdpau_nvidia.so.9")],
            files: vec![FarmFile { name: ".manifest".into(), content: "/h\n".into() }],
        };
        apply(&sys, &[Step::Farm(farm.clone())], Some(S)).unwrap();
        assert_eq!(std::fs::read_link(sys.path(&format!("{gl}/libcuda.so.1"))).unwrap().to_str(), Some("libcuda.so.9"));
        assert_eq!(
            std::fs::read_link(sys.path(&format!("{gl}/vdpau/libvdpau_nvidia.so.1"))).unwrap().to_str(),
            Some("/h/libvdpau_nvidia.so.9")
        );
        assert_eq!(std::fs::read_to_string(sys.path(&format!("{gl}/.manifest"))).unwrap(), "/h\n");
        let calls = sys.calls();
        let at = |want: &str| calls.iter().position(|c| c.starts_with(want)).unwrap_or_else(|| panic!("missing {want}: {calls:#?}"));
        assert!(at("mount(tmpfs") < at("mkdirat(vdpau") && at("mkdirat(vdpau") < at("symlinkat(libcuda.so.9"));
        assert!(at("openat(.manifest)") < at("mount(-"), "{calls:#?}");
        // A link in a directory the farm does not make is refused.
        let sys = FakeSys::new();
        sys.dir(&gl, 0o755);
        farm.links.push(link("gbm/nvidia-drm_gbm.so", "../libnvidia-allocator.so.1"));
        let e = apply(&sys, &[Step::Farm(farm)], Some(S)).unwrap_err().to_string();
        assert!(e.contains("its directory is not one of the farm's"), "{e}");
    }

    #[test]
    fn the_new_root_is_looked_up_again_only_after_a_step_that_may_change_it() {
        let sys = system();
        let new_root = S.trim_start_matches('/').to_string();
        let mkdir = |name: &str| Step::Mkdir { path: format!("{S}/{name}"), mode: 0o755 };
        let tmpfs = |target: &str| Step::Tmpfs { target: target.into(), data: "mode=0755".into() };
        let steps = [
            mkdir("a"),
            mkdir("b"),
            // On a directory inside the new root: the new root is the same.
            tmpfs(&format!("{S}/a")),
            mkdir("c"),
            // On the new root itself, then on a directory above it.
            tmpfs(S),
            mkdir("d"),
            tmpfs("/tmp"),
            mkdir("e"),
            mkdir("f"),
        ];
        apply(&sys, &steps, Some(S)).unwrap();
        let lookups = sys.lookups.borrow();
        assert_eq!(lookups.iter().filter(|l| **l == new_root).count(), 3, "{lookups:#?}");
        for name in ["a", "b", "c", "d", "e", "f"] {
            assert!(sys.path(&format!("{S}/{name}")).is_dir(), "{name}");
        }
        for (step, stale) in [
            (tmpfs(S), true),
            (tmpfs("/tmp/snap-private-tmp"), true),
            (tmpfs("/"), true),
            (tmpfs("/tmp/snap-private-tmp/snap.rootfs_XY"), false),
            (tmpfs(&format!("{S}/usr")), false),
            (bind(S), true),
            (Step::Umount { target: format!("{S}/x"), lazy: true }, true),
            (Step::PivotRoot { new_root: S.into(), put_old: format!("{S}/x") }, true),
            (mkdir("g"), false),
        ] {
            assert_eq!(Anchors::stale_after(&step, Some(S)), stale, "{step}");
        }
    }
}

//! Carries out a mount plan. Mount targets are opened relative to the
//! current root with `openat2(RESOLVE_IN_ROOT)` (symlinks in the base cannot
//! point outside it) and mounted through their descriptors. A failed mount
//! is reported as the mount(8) command it would have been.

use super::plan::{Propagation, Step};
use crate::error::{Context, Error, Result};
use crate::fs::components;
use crate::sys::{Source, Sys};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::MsFlags;
use nix::sys::stat::Mode;
use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};

fn failed(step: &Step, e: Errno) -> Error {
    Error::errno(format!("perform operation: {step}"), e)
}

/// Opens `path` (absolute) for use as a mount target.
fn open_target<S: Sys>(sys: &S, path: &str) -> Result<OwnedFd> {
    let root = sys.root()?;
    sys.open_in_root(root.as_fd(), path.trim_start_matches('/'), OFlag::O_PATH)
}

/// Opens the parent directory of `path` and returns it with the last name.
fn open_parent<'p, S: Sys>(sys: &S, path: &'p str) -> Result<(OwnedFd, &'p str)> {
    let (parent, name) = path.rsplit_once('/').ok_or_else(|| Error::because(format!("use {path}"), "no parent"))?;
    let root = sys.root()?;
    let dir = sys.open_in_root(root.as_fd(), parent.trim_start_matches('/'), OFlag::O_PATH | OFlag::O_DIRECTORY)?;
    Ok((dir, name))
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

/// Runs one step. Returns false when an optional bind was skipped.
pub fn apply_step<S: Sys>(sys: &S, step: &Step) -> Result<bool> {
    if let Step::Bind { source, target, recursive, optional } = step {
        let fd = match open_target(sys, target) {
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
    other_step(sys, step).map(|()| true)
}

fn other_step<S: Sys>(sys: &S, step: &Step) -> Result<()> {
    match step {
        Step::Propagate { target, kind, recursive } => {
            let fd = open_target(sys, target).context(|| step)?;
            sys.mount(Source::None, fd.as_fd(), target, None, propagation_flags(*kind, *recursive), None)
                .map_err(|e| failed(step, e))
        }
        Step::Bind { .. } => Ok(()),
        Step::Tmpfs { target, data } => {
            let fd = open_target(sys, target).context(|| step)?;
            let (flags, data) = split_options(data);
            sys.mount(Source::Path("tmpfs"), fd.as_fd(), target, Some("tmpfs"), flags, Some(&data))
                .map_err(|e| failed(step, e))
        }
        Step::RemountReadOnly { target, noexec } => {
            let fd = open_target(sys, target).context(|| step)?;
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
            let fd = open_target(sys, target).context(|| step)?;
            let flags = if *recursive { MsFlags::MS_BIND | MsFlags::MS_REC } else { MsFlags::MS_BIND };
            sys.mount(Source::Fd(src.fd.as_fd()), fd.as_fd(), target, None, flags, None).map_err(|e| failed(step, e))
        }
        Step::Mkdir { path, mode } => {
            let (dir, name) = open_parent(sys, path).context(|| step)?;
            sys.mkdirat(dir.as_fd(), OsStr::new(name), Mode::from_bits_truncate(*mode)).map_err(|e| failed(step, e))
        }
        Step::Symlink { path, target } => {
            let (dir, name) = open_parent(sys, path).context(|| step)?;
            sys.symlinkat(target, dir.as_fd(), OsStr::new(name)).map_err(|e| failed(step, e))
        }
        Step::Links { dir, links } => {
            let root = sys.root()?;
            let fd = sys.open_in_root(root.as_fd(), dir.trim_start_matches('/'), OFlag::O_PATH | OFlag::O_DIRECTORY).context(|| step)?;
            for link in links {
                sys.symlinkat(&link.target, fd.as_fd(), OsStr::new(&link.name))
                    .map_err(|e| Error::errno(format!("perform operation: ln -s {} {dir}/{}", link.target, link.name), e))?;
            }
            Ok(())
        }
        Step::WriteFile { path, content } => {
            let (dir, name) = open_parent(sys, path).context(|| step)?;
            let flags = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY;
            let fd = sys.openat(dir.as_fd(), OsStr::new(name), flags, Mode::from_bits_truncate(0o644)).context(|| step)?;
            sys.write_all(fd.as_fd(), content.as_bytes()).context(|| step)
        }
        Step::File { path } => {
            let (dir, name) = open_parent(sys, path).context(|| step)?;
            let flags = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY;
            sys.openat(dir.as_fd(), OsStr::new(name), flags, Mode::from_bits_truncate(0o644)).context(|| step)?;
            Ok(())
        }
        Step::Chmod { path, mode } => {
            let root = sys.root()?;
            let fd = sys
                .open_in_root(root.as_fd(), path.trim_start_matches('/'), OFlag::O_RDONLY | OFlag::O_DIRECTORY)
                .context(|| step)?;
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
        Step::PivotRoot { new_root, put_old } => sys.pivot_root(new_root, put_old).map_err(|e| failed(step, e)),
        Step::Umount { target, lazy } => sys.umount(target, *lazy).map_err(|e| failed(step, e)),
        Step::Rmdir { path } => {
            let (dir, name) = open_parent(sys, path).context(|| step)?;
            sys.unlinkat(dir.as_fd(), OsStr::new(name), true).map_err(|e| failed(step, e))
        }
    }
}

/// Runs the steps in order, stopping at the first failure. A propagation
/// change on the target of a skipped optional bind is skipped too.
pub fn apply<S: Sys>(sys: &S, steps: &[Step]) -> Result<()> {
    let mut skipped: Vec<&str> = Vec::new();
    for step in steps {
        if let Step::Propagate { target, .. } = step {
            if skipped.contains(&target.as_str()) {
                continue;
            }
        }
        if !apply_step(sys, step)? {
            if let Step::Bind { target, .. } = step {
                skipped.push(target);
            }
        }
    }
    Ok(())
}

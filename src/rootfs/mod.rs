//! The snap's root filesystem: planned in [`plan`], carried out in
//! [`apply`], with the per-snap `/tmp` ([`tmp`]), the snap's own devpts
//! ([`devpts`]) and the home directories outside `/home` ([`homedirs`]).

pub mod apply;
pub mod devpts;
pub mod homedirs;
pub mod plan;
pub mod tmp;

use crate::debug::Debug;
use crate::error::{Context, Error, Result};
use crate::sys::{EntryKind, Source, Sys};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::MsFlags;
use nix::sys::stat::Mode;
use plan::{BaseDir, BaseEntry, PlanInput, Root, ETC_FROM_BASE};
use std::ffi::OsStr;
use std::os::fd::AsFd;

/// Where snaps are mounted.
pub const SNAP_MOUNT_DIR: &str = "/snap";

/// The base snap that provides the root filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    /// The name asked for (`--base`, default `core`).
    pub requested: String,
    /// The name used after snap-confine's fallbacks.
    pub name: String,
    /// The revision `current` points at.
    pub revision: String,
}

impl Base {
    /// `/snap/<name>/<revision>`.
    pub fn dir(&self) -> String {
        format!("{SNAP_MOUNT_DIR}/{}/{}", self.name, self.revision)
    }
}

/// Reads `/snap/<name>/current`; the target must be a plain revision name.
fn current_revision<S: Sys>(sys: &S, name: &str) -> Result<String> {
    let root = sys.root()?;
    let dir = sys.open_in_root(root.as_fd(), &format!("snap/{name}"), OFlag::O_PATH | OFlag::O_DIRECTORY)?;
    let rev = sys.readlinkat(dir.as_fd(), OsStr::new("current"))?;
    let rev = rev.into_string().map_err(|_| Error::because(format!("use base {name}"), "odd revision"))?;
    if rev.is_empty() || rev.contains('/') || rev == "." || rev == ".." {
        return Err(Error::because(format!("use base {name}"), format!("current points at {rev:?}")));
    }
    sys.open_in_root(root.as_fd(), &format!("snap/{name}/{rev}"), OFlag::O_PATH | OFlag::O_DIRECTORY)?;
    Ok(rev)
}

/// Finds the base, with snap-confine's fallbacks (`core` to `ubuntu-core`,
/// `core16` to `core`).
pub fn locate_base<S: Sys>(sys: &S, requested: &str) -> Result<Base> {
    let mut names = vec![requested];
    match requested {
        "core" => names.push("ubuntu-core"),
        "core16" => names.push("core"),
        _ => {}
    }
    let mut errno = None;
    for name in names {
        match current_revision(sys, name) {
            Ok(revision) => return Ok(Base { requested: requested.to_string(), name: name.to_string(), revision }),
            // Not installed (or not a proper snap): try the next name.
            Err(e) if e.errno_value().is_none() || matches!(e.errno_value(), Some(Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP | Errno::EINVAL)) => {
                errno = e.errno_value();
            }
            // Anything else (no descriptor left, no memory) is not an answer.
            Err(e) => return Err(e.within(format!("locate base snap {requested}"))),
        }
    }
    // As snap-confine words it: "cannot locate base snap core18: No such file or directory".
    let what = format!("locate base snap {requested}");
    Err(match errno {
        Some(errno) => Error::because(what, errno.desc()),
        None => Error::new(what),
    })
}

/// The entries of the base's directory `path` (`""` for its root).
fn list_base<S: Sys>(sys: &S, base: &Base, path: &str) -> Result<Vec<BaseEntry>> {
    let root = sys.root()?;
    let at = format!("{}{path}", base.dir());
    let dir = sys.open_in_root(root.as_fd(), at.trim_start_matches('/'), OFlag::O_RDONLY | OFlag::O_DIRECTORY)?;
    let mut out = Vec::new();
    for (name, kind) in sys.read_dir(dir.as_fd())? {
        let text = name.to_str().ok_or_else(|| Error::because(format!("use {}", base.dir()), "a name is not UTF-8"))?;
        out.push(match kind {
            EntryKind::Dir => BaseEntry::Dir(text.to_string()),
            EntryKind::File => BaseEntry::File(text.to_string()),
            EntryKind::Symlink => {
                let target = sys.readlinkat(dir.as_fd(), &name)?;
                BaseEntry::Symlink(text.to_string(), target.to_string_lossy().into_owned())
            }
            EntryKind::Other => {
                return Err(Error::because(format!("use {}", base.dir()), format!("unexpected directory entry {text}")))
            }
        });
    }
    Ok(out)
}

/// The base's directories on the way to each home directory, listed (those
/// the base has). A symlink or a file of the base on the way is refused: the
/// mount point cannot be made there.
fn base_dirs_for<S: Sys>(sys: &S, base: &Base, top: &[BaseEntry], homedirs: &[String]) -> Result<Vec<BaseDir>> {
    let mut out: Vec<BaseDir> = Vec::new();
    for home in homedirs {
        let parts: Vec<&str> = home.split('/').filter(|p| !p.is_empty()).collect();
        let mut entries = top.to_vec();
        let mut path = String::new();
        for part in parts.iter().take(parts.len().saturating_sub(1)) {
            path.push('/');
            path.push_str(part);
            let found = entries.iter().find(|e| match e {
                BaseEntry::Dir(n) | BaseEntry::File(n) | BaseEntry::Symlink(n, _) => n == part,
            });
            match found {
                None => break,
                Some(BaseEntry::Dir(_)) => {}
                Some(_) => {
                    return Err(Error::because(
                        format!("mount home directory {home}"),
                        format!("{path} is not a directory in {}", base.dir()),
                    ))
                }
            }
            entries = match out.iter().find(|d| d.path == path) {
                Some(known) => known.entries.clone(),
                None => {
                    let listed = list_base(sys, base, &path)?;
                    out.push(BaseDir { path: path.clone(), entries: listed.clone() });
                    listed
                }
            };
        }
    }
    Ok(out)
}

/// Whether the host says it is Debian or derived from it.
fn host_is_debian_like<S: Sys>(sys: &S) -> bool {
    // /etc/os-release is usually a symlink to /usr/lib/os-release.
    let read = |p| crate::fs::read_small_file(sys, p, 64 * 1024);
    let Ok(text) = read("/etc/os-release").or_else(|_| read("/usr/lib/os-release")) else { return false };
    String::from_utf8_lossy(&text).lines().any(|l| {
        let (k, v) = l.split_once('=').unwrap_or(("", ""));
        (k == "ID" || k == "ID_LIKE") && v.trim_matches('"').split(' ').any(|w| w == "debian")
    })
}

/// The kind of `path` without following a final symlink, if it exists.
fn kind_of<S: Sys>(sys: &S, path: &str) -> Option<u32> {
    let opened = crate::fs::open_path(sys, path, OFlag::O_PATH, crate::fs::Trust::Any).ok()?;
    Some(opened.stat.mode & libc::S_IFMT)
}

/// The entries of [`ETC_FROM_BASE`] to take from the base: both sides exist
/// with the same type (file or directory, never a symlink). `/etc/ssl`
/// stays the host's on Debian-like hosts with a `core*` base.
fn etc_from_base<S: Sys>(sys: &S, base: &Base) -> Vec<String> {
    let keep_host_ssl = base.requested.starts_with("core") && host_is_debian_like(sys);
    ETC_FROM_BASE
        .iter()
        .filter(|p| !(keep_host_ssl && **p == "/etc/ssl"))
        .filter(|p| {
            let host = kind_of(sys, p);
            let inside = kind_of(sys, &format!("{}{p}", base.dir()));
            host.is_some() && host == inside && matches!(host, Some(libc::S_IFREG | libc::S_IFDIR))
        })
        .map(|p| p.to_string())
        .collect()
}

/// Creates the scratch directory under the root-owned per-snap tmp base.
fn make_scratch<S: Sys>(sys: &S) -> Result<String> {
    let base = tmp::open_private_tmp_base(sys)?;
    for _ in 0..10 {
        let name = format!("snap.rootfs_{}", sys.random_suffix()?);
        match sys.mkdirat(base.as_fd(), OsStr::new(&name), Mode::from_bits_truncate(0o700)) {
            Ok(()) => return Ok(format!("{}/{name}", tmp::PRIVATE_TMP_BASE)),
            Err(Errno::EEXIST) => continue,
            Err(e) => return Err(Error::errno("create temporary directory for the root file system", e)),
        }
    }
    Err(Error::because("create temporary directory for the root file system", "too many name clashes"))
}

/// `mount --make-rslave` of the scratch directory: what is mounted there
/// then takes mount and unmount events from the host and sends none back.
fn make_slaves<S: Sys>(sys: &S, scratch: &str) -> Result<()> {
    let root = sys.root()?;
    let fd = sys.open_in_root(root.as_fd(), scratch.trim_start_matches('/'), OFlag::O_PATH | OFlag::O_DIRECTORY)?;
    sys.mount(Source::None, fd.as_fd(), scratch, None, MsFlags::MS_SLAVE | MsFlags::MS_REC, None)
        .map_err(|e| Error::errno(format!("perform operation: mount --make-rslave {scratch}"), e))
}

fn describe(libraries: &crate::gpu::Libraries) -> String {
    match libraries {
        crate::gpu::Libraries::Farms { rule, gl, gl32 } => format!(
            "{} links in gl, {} in gl32 ({rule})",
            gl.links.len(),
            gl32.as_ref().map_or(0, |f| f.links.len())
        ),
        crate::gpu::Libraries::Bind { gl, gl32 } => {
            let shown: Vec<String> = [gl, gl32].into_iter().flatten().map(|b| format!("{} on {}", b.source, b.target)).collect();
            format!("bound: {}", shown.join(", "))
        }
        crate::gpu::Libraries::Nothing => "none found".into(),
    }
}

/// Builds the snap's root filesystem and moves into it. Runs in a fresh
/// mount namespace; on failure the namespace is simply dropped.
/// `homedirs` are the home directories to bind from the host
/// ([`homedirs::read`]).
pub fn build<S: Sys>(sys: &S, instance: &str, base: &Base, launcher_dir: &str, homedirs: &[String], debug: &Debug) -> Result<()> {
    let scratch = make_scratch(sys)?;
    let gpu = crate::gpu::survey(sys, &base.name, &mut |note| debug.say(format_args!("GPU: {note}")))?;
    let driver = match &gpu {
        Some(plan) => {
            debug.say(format_args!("GPU: NVIDIA driver {}, libraries: {}", plan.version.raw, describe(&plan.libraries)));
            debug.step("survey the GPU driver");
            crate::gpu::steps(plan, &scratch)
        }
        None => Vec::new(),
    };
    let root = Root::for_homedirs(homedirs);
    // Only a tmpfs root is made from the base's listing.
    let base_entries = if root == Root::Tmpfs { list_base(sys, base, "")? } else { Vec::new() };
    let base_dirs = base_dirs_for(sys, base, &base_entries, homedirs)?;
    let input = PlanInput {
        base_dir: base.dir(),
        root,
        base_entries,
        scratch: scratch.clone(),
        launcher_dir: launcher_dir.to_string(),
        etc_from_base: etc_from_base(sys, base),
        snap_mount_dir: SNAP_MOUNT_DIR.to_string(),
        driver,
        homedirs: homedirs.to_vec(),
        base_dirs,
    };
    let steps = plan::plan(&input);
    let kind = match root {
        Root::Base => "the base bound whole",
        Root::Tmpfs => "a tmpfs holding the base's entries",
    };
    debug.say(format_args!("building the root filesystem from {} in {scratch}: {kind} ({} steps)", base.dir(), steps.len()));
    if let Err(e) = apply::apply(sys, &steps, Some(&scratch)) {
        // Best effort: the mounts die with the namespace. The bind of the
        // scratch directory onto itself was made while `/` was shared; it
        // stays out of the host's namespace only because the private tmp
        // base is a private mount point (`ns::init_global`). Every mount on
        // the scratch directory goes all the same (as after the pivot on
        // success), then the empty directory. But until the plan makes
        // them slaves, the mounts bound from the host and the base are
        // peers of the host's, and an unmount below a peer unmounts the
        // same on the host (`/dev/pts` below `/dev`): everything there is
        // made a slave first, and nothing is unmounted if it cannot be.
        if make_slaves(sys, &scratch).is_ok() {
            for _ in 0..8 {
                if sys.umount(&scratch, true).is_err() {
                    break;
                }
            }
            if let Ok(dir) = tmp::open_private_tmp_base(sys) {
                let name = scratch.rsplit('/').next().unwrap_or("");
                let _ = sys.unlinkat(dir.as_fd(), OsStr::new(name), true);
            }
        }
        return Err(e);
    }
    tmp::setup(sys, instance).context(|| "set up the private /tmp")?;
    devpts::setup(sys)
}

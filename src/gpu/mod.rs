//! The host's NVIDIA driver userspace inside strict snaps.
//!
//! When the kernel has NVIDIA's module loaded, the snap's namespace gets
//! read-only farms of symlinks at `/var/lib/snapd/lib/gl` (and `gl32`,
//! `vulkan`, `glvnd`) pointing at the driver's files through
//! `/var/lib/snapd/hostfs`, or the driver's directory bound there, built
//! before `pivot_root` (`mount-support-nvidia.c` of snapd is the model).
//! [`survey`] decides everything from the host as data ([`GpuPlan`]); the
//! mount plan gets its [`steps`]. `confine gpu` prints the same plan.

pub mod farm;
pub mod layout;
pub mod ldcache;
pub mod version;
pub mod view;

#[cfg(test)]
mod tests;

use crate::error::Result;
use crate::fs::{open_path, read_trusted_file, Trust};
use crate::rootfs::plan::{FarmFile, FarmStep, Link, Step};
use crate::sys::Sys;
pub use farm::{Farm, FarmLink, HOSTFS};
pub use layout::{BindDir, Libraries, Rule};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use std::os::fd::AsFd;
pub use version::DriverVersion;
use view::{resolve, HostView, SysView, Want};

/// What a strict snap gets of the GPU driver on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuPlan {
    pub version: DriverVersion,
    /// Where the version was read.
    pub version_file: String,
    pub libraries: Libraries,
    pub vulkan: Option<Farm>,
    pub egl: Option<Farm>,
    /// What was passed over and why, one line each.
    pub notes: Vec<String>,
}

impl GpuPlan {
    /// Every farm, in mount order.
    pub fn farms(&self) -> Vec<&Farm> {
        let mut out = Vec::new();
        if let Libraries::Farms { gl, gl32, .. } = &self.libraries {
            out.push(gl);
            out.extend(gl32.iter());
        }
        out.extend(self.vulkan.iter());
        out.extend(self.egl.iter());
        out.into_iter().filter(|f| !f.sources.is_empty()).collect()
    }

    /// The host files the farms' links end at (what the app will read).
    pub fn host_files(&self) -> Vec<String> {
        let mut files: Vec<String> = self.farms().iter().flat_map(|f| f.links.iter().filter_map(|l| l.host_file.clone())).collect();
        files.sort();
        files.dedup();
        files
    }
}

/// Reads the driver's version: `None` when no NVIDIA module is loaded.
/// Content snap-confine would refuse is refused with its words.
pub fn read_version<S: Sys>(sys: &S) -> Result<Option<DriverVersion>> {
    let opened = match open_path(sys, version::VERSION_FILE, OFlag::O_RDONLY | OFlag::O_NONBLOCK, Trust::Any) {
        Ok(o) => o,
        Err(e) if matches!(e.errno_value(), Some(Errno::ENOENT | Errno::ENOTDIR)) => return Ok(None),
        Err(e) => return Err(e.within("open file describing nvidia driver version")),
    };
    let (content, complete) = match sys.read_bounded(opened.fd.as_fd(), version::MAX_LEN) {
        Ok(c) => (c, true),
        Err(e) if e.errno_value().is_none() => (Vec::new(), false),
        Err(e) => return Err(e.within("read nvidia driver version string")),
    };
    version::parse(&content, complete).map(Some)
}

fn read_cache<S: Sys>(sys: &S) -> std::result::Result<Vec<ldcache::CacheEntry>, String> {
    let data = read_trusted_file(sys, ldcache::CACHE_FILE, ldcache::MAX_LEN).map_err(|e| e.to_string())?;
    // Only the canaries' entries are kept: the rest is checked, not copied.
    let canary = |name: &str| layout::CANARIES.iter().any(|c| name.starts_with(c));
    ldcache::parse_names(&data, &canary).map_err(|e| format!("{}: {e}", ldcache::CACHE_FILE))
}

/// Whether the farm's mount point is there, root's, a directory: the
/// launcher never creates it on the host (the package does).
fn mount_point_ok(view: &dyn HostView, dir: &str, notes: &mut Vec<String>) -> bool {
    match resolve(view, dir, Want::Dir) {
        Ok(p) if p == dir => true,
        Ok(p) => {
            notes.push(format!("{dir} resolves to {p}: not used as a mount point"));
            false
        }
        Err(why) => {
            notes.push(format!("{dir}: {why}: nothing is mounted there"));
            false
        }
    }
}

/// Plans the driver's userspace for a snap on `base`, from the host as
/// `view` shows it. `cache` gives the ld.so cache when it is needed.
pub fn plan_for(
    view: &dyn HostView,
    version: DriverVersion,
    version_file: &str,
    base: &str,
    cache: &mut dyn FnMut() -> std::result::Result<Vec<ldcache::CacheEntry>, String>,
) -> GpuPlan {
    let mut notes = Vec::new();
    let mut libraries = layout::choose(view, &version, base, cache, &mut notes);
    match &mut libraries {
        Libraries::Farms { gl, gl32, .. } => {
            for farm in std::iter::once(gl).chain(gl32.iter_mut()) {
                if !farm.sources.is_empty() && !mount_point_ok(view, &farm.dir, &mut notes) {
                    farm.sources.clear();
                    farm.links.clear();
                }
            }
        }
        Libraries::Bind { gl, gl32 } => {
            for bind in [gl, gl32] {
                if bind.as_ref().is_some_and(|b| !mount_point_ok(view, &b.target, &mut notes)) {
                    *bind = None;
                }
            }
        }
        Libraries::Nothing => notes.push(format!("no library of driver {} found on this host", version.raw)),
    }
    let share_farm = |what: &str, dir: &str, globs: &[&str], notes: &mut Vec<String>| {
        let sources = layout::share_dirs(&libraries, what);
        let gather = farm::Gather { globs, version: None, all_subdirs: false };
        mount_point_ok(view, dir, notes).then(|| farm::plan(view, dir, &sources, &gather))
    };
    let vulkan = share_farm("vulkan", layout::VULKAN_DIR, layout::VULKAN_GLOBS, &mut notes);
    let egl = share_farm("glvnd", layout::GLVND_DIR, layout::EGL_VENDOR_GLOBS, &mut notes);
    let mut plan = GpuPlan { version, version_file: version_file.to_string(), libraries, vulkan, egl, notes };
    let farm_notes: Vec<String> = plan.farms().iter().flat_map(|f| f.notes.iter().map(|n| format!("{}: {n}", f.dir))).collect();
    plan.notes.extend(farm_notes);
    plan
}

/// Surveys this host for a strict launch on `base`: `None` when no NVIDIA
/// driver is loaded, or when its version cannot name files (then `note`
/// says why and the launch goes on as with no driver).
pub fn survey<S: Sys>(sys: &S, base: &str, note: &mut dyn FnMut(String)) -> Result<Option<GpuPlan>> {
    let Some(version) = read_version(sys)? else { return Ok(None) };
    if version.major == 0 {
        note(format!("nvidia driver version {:?} has major 0: treated as no driver", version.raw));
        return Ok(None);
    }
    if !version.is_plain() {
        note(format!("nvidia driver version {:?} has odd characters: no library farm", version.raw));
        return Ok(None);
    }
    let view = SysView::new(sys);
    let mut cache = || read_cache(sys);
    let plan = plan_for(&view, version, version::VERSION_FILE, base, &mut cache);
    for n in &plan.notes {
        note(n.clone());
    }
    Ok(Some(plan))
}

/// The file in each farm that names the host directories its links lead to
/// (as seen in the sandbox, under `/var/lib/snapd/hostfs`), one a line: the
/// Landlock rule `gpu-driver` grants reading them.
pub const MANIFEST: &str = ".confine-driver";

impl Farm {
    /// The host directories (under [`HOSTFS`]) the links lead to.
    pub fn host_dirs(&self) -> Vec<String> {
        let mut dirs: Vec<String> = self
            .links
            .iter()
            .filter_map(|l| l.host_file.as_deref())
            .filter_map(|f| f.rsplit_once('/').map(|(d, _)| format!("{HOSTFS}{d}")))
            .collect();
        dirs.sort();
        dirs.dedup();
        dirs
    }
}

/// Options of the farms' tmpfs, and of its read-only remount.
pub const FARM_TMPFS_OPTIONS: &str = "nosuid,nodev,noexec,mode=0755,uid=0,gid=0";

/// The mount plan's steps for `plan`, with paths inside `scratch` (the new
/// root before `pivot_root`). Each farm is a tmpfs filled with its links
/// and made read-only; a bound directory is bound read-only.
pub fn steps(plan: &GpuPlan, scratch: &str) -> Vec<Step> {
    let inside = |p: &str| format!("{scratch}{p}");
    let mut out = Vec::new();
    if let Libraries::Bind { gl, gl32 } = &plan.libraries {
        for bind in [gl, gl32].into_iter().flatten() {
            out.push(Step::BindFd { source: bind.source.clone(), target: inside(&bind.target), recursive: false });
            out.push(Step::RemountReadOnly { target: inside(&bind.target), noexec: false });
        }
    }
    for farm in plan.farms() {
        // The links of the farm's top first, then those of each
        // subdirectory: each directory is opened once for all its links.
        let mut links: Vec<(Option<&str>, Link)> = farm
            .links
            .iter()
            .map(|l| (l.name.rsplit_once('/').map(|(sub, _)| sub), Link { name: l.name.clone(), target: l.target.clone() }))
            .collect();
        links.sort_by(|a, b| a.0.cmp(&b.0));
        let manifest: String = farm.host_dirs().iter().map(|d| format!("{d}\n")).collect();
        out.push(Step::Farm(FarmStep {
            target: inside(&farm.dir),
            data: FARM_TMPFS_OPTIONS.into(),
            subdirs: farm.subdirs.clone(),
            links: links.into_iter().map(|(_, l)| l).collect(),
            files: vec![FarmFile { name: MANIFEST.into(), content: manifest }],
        }));
    }
    out
}

//! Where the driver's libraries are: the layouts snap-confine knows, then
//! the dynamic linker's cache, then layouts known by path. Pure: decided
//! from a [`HostView`] and the cache's entries.
//!
//! In order, the first that finds the driver wins:
//! 1. multiarch (Debian, Ubuntu): `libnvidia-glcore.so.<version>` in
//!    `/usr/lib/<triplet>` makes a farm of it (and of the 32-bit triplet
//!    where its own canary is);
//! 2. biarch (Arch, Fedora; hosts without the multiarch directory): the
//!    canary in `/usr/lib` or `/usr/lib/nvidia*`
//!    makes a farm of those and of `/usr/lib32`, `/usr/lib32/nvidia*`
//!    (Fedora: `/usr/lib64` and `/usr/lib`);
//! 3. `/usr/lib/nvidia-<major>` bound onto `gl` (and `/usr/lib32/...` onto
//!    `gl32`), as snap-confine does without a canary;
//! 4. the ld.so cache: the directory of the cache entry for
//!    `libnvidia-glcore`, else `libcuda`, else `libGLX_nvidia`, that holds
//!    that library named with the running driver's full version (so a stale
//!    entry of an older driver is passed over); the 32-bit entries likewise;
//! 5. known places: NVIDIA's container toolkit (`/usr/local/nvidia/lib64`,
//!    `/usr/local/nvidia/lib`) and NixOS (`/run/opengl-driver/lib`,
//!    `/run/opengl-driver-32/lib`).
//!
//! 4 and 5 are driver directories: every subdirectory is looked into.

use super::farm::{self, Farm, Gather};
use super::ldcache::{word_of, CacheEntry, Word};
use super::view::{resolve, HostView, Want};
use super::DriverVersion;

pub const LIB_DIR: &str = "/var/lib/snapd/lib";
pub const GL_DIR: &str = "/var/lib/snapd/lib/gl";
pub const GL32_DIR: &str = "/var/lib/snapd/lib/gl32";
pub const VULKAN_DIR: &str = "/var/lib/snapd/lib/vulkan";
pub const GLVND_DIR: &str = "/var/lib/snapd/lib/glvnd";

/// snap-confine's list of NVIDIA library globs (`mount-support-nvidia.c`).
pub const NVIDIA_GLOBS: &[&str] = &[
    "gbm/nvidia-drm_gbm.so*",
    "libnvidia-allocator.so*",
    "libnvidia-api.so*",
    "libnvidia-cbl.so*",
    "libnvidia-cfg.so*",
    "libnvidia-compiler-next.so*",
    "libnvidia-egl-gbm.so*",
    "libnvidia-ngx.so*",
    "libnvidia-nscq.so*",
    "libnvidia-nvvm.so*",
    "libnvidia-pkcs11-openssl3.so*",
    "libnvidia-pkcs11.so*",
    "libnvidia-vulkan-producer.so*",
    "libnvidia-vksc-core.so.*",
    "libEGL_nvidia.so*",
    "libGLESv1_CM_nvidia.so*",
    "libGLESv2_nvidia.so*",
    "libGLX_nvidia.so*",
    "libXvMCNVIDIA.so*",
    "libXvMCNVIDIA_dynamic.so*",
    "libnvidia-compiler.so*",
    "libnvidia-eglcore.so*",
    "libnvidia-egl-wayland*",
    "libnvidia-encode.so*",
    "libnvidia-fatbinaryloader.so*",
    "libnvidia-fbc.so*",
    "libnvidia-glcore.so*",
    "libnvidia-glsi.so*",
    "libnvidia-glvkspirv.so*",
    "libnvidia-gpucomp.so*",
    "libnvidia-ifr.so*",
    "libnvidia-ml.so*",
    "libnvidia-opencl.so*",
    "libnvidia-opticalflow.so*",
    "libnvidia-ptxjitcompiler.so*",
    "libnvidia-rtcore.so*",
    "libnvidia-tls.so*",
    "libnvoptix.so*",
    "tls/libnvidia-tls.so*",
    "vdpau/libvdpau_nvidia.so*",
    "libnvdc.so*",
    "libnvos.so*",
    "libnvrm_gpu.so*",
    "libnvimp.so*",
    "libnvrm.so*",
    "libnvrm_graphics.so*",
    "libcuda.so*",
    "libcudart.so*",
    "libnvcuvid.so*",
    "libcufft.so*",
    "libcublas.so*",
    "libcublasLt.so*",
    "libcusolver.so*",
    "libcuparse.so*",
    "libcurand.so*",
    "libnppc.so*",
    "libnppig.so*",
    "libnppial.so*",
    "libnppicc.so*",
    "libnppidei.so*",
    "libnppist.so*",
    "libnppcif.so*",
    "libnppim.so*",
    "libnppitc.so*",
    "libnvrtc*",
    "libnvrtc-builtins*",
    "libnvToolsExt.so*",
    "libcudnn.so*",
    "libcudnn_adv_infer*",
    "libcudnn_adv_train*",
    "libcudnn_cnn_infer*",
    "libcudnn_cnn_train*",
    "libcudnn_ops_infer*",
    "libcudnn_ops_train*",
];

/// The glvnd libraries, added for base `core` (Ubuntu 16.04 had no glvnd).
pub const GLVND_GLOBS: &[&str] = &[
    "libEGL.so*",
    "libGL.so*",
    "libOpenGL.so*",
    "libGLESv1_CM.so*",
    "libGLESv2.so*",
    "libGLX_indirect.so*",
    "libGLX.so*",
    "libGLdispatch.so*",
    "libGLU.so*",
];

pub const VULKAN_GLOBS: &[&str] = &["icd.d/*nvidia*.json"];
pub const EGL_VENDOR_GLOBS: &[&str] = &["egl_vendor.d/*nvidia*.json"];

/// The libraries whose versioned file marks the driver's directory, in the
/// order they are looked for in the ld.so cache.
pub const CANARIES: &[&str] = &["libnvidia-glcore", "libcuda", "libGLX_nvidia"];

/// The fixed layouts looked at last: native, then 32-bit.
pub const FIXED_NATIVE: &[&str] = &["/usr/local/nvidia/lib64", "/usr/local/nvidia/lib", "/run/opengl-driver/lib"];
pub const FIXED_32: &[&str] = &["/run/opengl-driver-32/lib"];

/// The multiarch triplets of this build: native and 32-bit.
pub fn triplets() -> (&'static str, Option<&'static str>) {
    if cfg!(target_arch = "x86_64") {
        ("x86_64-linux-gnu", Some("i386-linux-gnu"))
    } else if cfg!(target_arch = "aarch64") {
        ("aarch64-linux-gnu", Some("arm-linux-gnueabihf"))
    } else {
        ("", None)
    }
}

/// Which rule chose the library directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    Multiarch,
    Biarch,
    FallbackBind,
    /// The ld.so cache entry `name => path` led to the directory.
    LdCache { name: String, path: String },
    Fixed,
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rule::Multiarch => write!(f, "multiarch: libnvidia-glcore.so.<version> in /usr/lib/<triplet>"),
            Rule::Biarch => write!(f, "biarch: libnvidia-glcore.so.<version> in /usr/lib or /usr/lib/nvidia*"),
            Rule::FallbackBind => write!(f, "no canary: /usr/lib/nvidia-<major> bound as it is"),
            Rule::LdCache { name, path } => write!(f, "ld.so cache: {name} => {path}"),
            Rule::Fixed => write!(f, "known layout (NVIDIA container toolkit, NixOS)"),
        }
    }
}

/// A host directory bound as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindDir {
    pub source: String,
    pub target: String,
}

/// How the libraries reach the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Libraries {
    /// Farms at `gl` (and `gl32`).
    Farms { rule: Rule, gl: Farm, gl32: Option<Farm> },
    /// Directories bound at `gl` and `gl32`.
    Bind { gl: Option<BindDir>, gl32: Option<BindDir> },
    /// Nothing found.
    Nothing,
}

/// Whether `dir` holds the versioned file of `library`.
fn holds(view: &dyn HostView, dir: &str, library: &str, version: &DriverVersion) -> bool {
    resolve(view, &format!("{dir}/{library}.so.{}", version.raw), Want::File).is_ok()
}

fn globs_for(base: &str) -> Vec<&'static str> {
    let mut g = NVIDIA_GLOBS.to_vec();
    if base == "core" {
        g.extend_from_slice(GLVND_GLOBS);
    }
    g
}

/// The directories `dir/nvidia*` (resolved names, sorted).
fn nvidia_subdirs(view: &dyn HostView, dir: &str) -> Vec<String> {
    view.list(dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|(n, _)| n.starts_with("nvidia"))
        .map(|(n, _)| format!("{dir}/{n}"))
        .collect()
}

/// The directory of the first cache entry (of `word`) for a canary library
/// that holds its versioned file.
fn from_cache(view: &dyn HostView, cache: &[CacheEntry], word: Word, version: &DriverVersion) -> Option<(String, Rule)> {
    for library in CANARIES {
        let prefix = format!("{library}.so");
        for entry in cache.iter().filter(|e| word_of(e.flags) == word && e.name.starts_with(&prefix)) {
            let Ok(dir) = resolve(view, entry.dir(), Want::Dir) else { continue };
            if holds(view, &dir, library, version) {
                return Some((dir, Rule::LdCache { name: entry.name.clone(), path: entry.path.clone() }));
            }
        }
    }
    None
}

fn fixed(view: &dyn HostView, dirs: &[&str], version: &DriverVersion) -> Option<String> {
    dirs.iter()
        .filter_map(|d| resolve(view, d, Want::Dir).ok())
        .find(|d| CANARIES.iter().any(|lib| holds(view, d, lib, version)))
}

/// Decides where the libraries come from. `cache` is read only when the
/// layouts of snap-confine find nothing; it returns the cache's entries or
/// why there are none.
pub fn choose(
    view: &dyn HostView,
    version: &DriverVersion,
    base: &str,
    cache: &mut dyn FnMut() -> Result<Vec<CacheEntry>, String>,
    notes: &mut Vec<String>,
) -> Libraries {
    let globs = globs_for(base);
    let shared = Gather { globs: &globs, version: Some(&version.raw), all_subdirs: false };
    let own = Gather { globs: &globs, version: Some(&version.raw), all_subdirs: true };
    let (native, compat) = triplets();

    let multiarch = format!("/usr/lib/{native}");
    if !native.is_empty() && holds(view, &multiarch, "libnvidia-glcore", version) {
        let gl = farm::plan(view, GL_DIR, &[multiarch], &shared);
        let gl32 = compat
            .map(|t| format!("/usr/lib/{t}"))
            .filter(|d| holds(view, d, "libnvidia-glcore", version))
            .map(|d| farm::plan(view, GL32_DIR, &[d], &shared));
        return Libraries::Farms { rule: Rule::Multiarch, gl, gl32 };
    }

    // Fedora keeps 64-bit libraries in /usr/lib64 and 32-bit ones in
    // /usr/lib; Arch in /usr/lib and /usr/lib32 (its /usr/lib64 is a link).
    // A multiarch host keeps them in its triplet's directory: not these.
    let biarch_host = native.is_empty() || resolve(view, &multiarch, Want::Dir).is_err();
    for (native_dir, lib32_dir) in [("/usr/lib64", "/usr/lib"), ("/usr/lib", "/usr/lib32")].into_iter().filter(|_| biarch_host) {
        if resolve(view, native_dir, Want::Dir).ok().as_deref() != Some(native_dir) {
            continue;
        }
        let mut sources = vec![native_dir.to_string()];
        sources.extend(nvidia_subdirs(view, native_dir));
        if !sources.iter().any(|d| holds(view, d, "libnvidia-glcore", version)) {
            continue;
        }
        let gl = farm::plan(view, GL_DIR, &sources, &shared);
        let mut lib32 = vec![lib32_dir.to_string()];
        lib32.extend(nvidia_subdirs(view, lib32_dir));
        let gl32 = (cfg!(target_pointer_width = "64") && resolve(view, lib32_dir, Want::Dir).is_ok())
            .then(|| farm::plan(view, GL32_DIR, &lib32, &shared))
            .filter(|f| !f.links.is_empty());
        return Libraries::Farms { rule: Rule::Biarch, gl, gl32 };
    }

    let bind = |src: String, target: &str| {
        resolve(view, &src, Want::Dir).ok().map(|source| BindDir { source, target: target.to_string() })
    };
    let gl = bind(format!("/usr/lib/nvidia-{}", version.major), GL_DIR);
    let gl32 = bind(format!("/usr/lib32/nvidia-{}", version.major), GL32_DIR);
    if gl.is_some() || gl32.is_some() {
        return Libraries::Bind { gl, gl32 };
    }

    let entries = match cache() {
        Ok(e) => e,
        Err(why) => {
            notes.push(format!("the ld.so cache is not used: {why}"));
            Vec::new()
        }
    };
    let found = from_cache(view, &entries, Word::Native, version)
        .or_else(|| fixed(view, FIXED_NATIVE, version).map(|d| (d, Rule::Fixed)));
    let found32 =
        from_cache(view, &entries, Word::Compat32, version).or_else(|| fixed(view, FIXED_32, version).map(|d| (d, Rule::Fixed)));
    match (found, found32) {
        (Some((dir, rule)), found32) => {
            let gl = farm::plan(view, GL_DIR, &[dir], &own);
            let gl32 = found32.map(|(d, _)| farm::plan(view, GL32_DIR, &[d], &own));
            Libraries::Farms { rule, gl, gl32 }
        }
        (None, Some((dir, rule))) => {
            let gl32 = farm::plan(view, GL32_DIR, &[dir], &own);
            Libraries::Farms { rule, gl: Farm { dir: GL_DIR.into(), ..Farm::default() }, gl32: Some(gl32) }
        }
        (None, None) => Libraries::Nothing,
    }
}

/// Where the driver's Vulkan and EGL files are looked for: the host's
/// `/usr/share`, then the `share` directory beside a driver directory found
/// by rules 4 and 5 (the toolkit's `/usr/local/nvidia/share`).
pub fn share_dirs(libraries: &Libraries, what: &str) -> Vec<String> {
    let mut dirs = vec![format!("/usr/share/{what}")];
    if let Libraries::Farms { rule: Rule::LdCache { .. } | Rule::Fixed, gl, .. } = libraries {
        if let Some(src) = gl.sources.first() {
            if let Some((up, _)) = src.rsplit_once('/') {
                let share = format!("{}/share/{what}", if up.is_empty() { "" } else { up });
                if dirs.first() != Some(&share) {
                    dirs.push(share);
                }
            }
        }
    }
    dirs
}

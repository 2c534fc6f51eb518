//! Running `apparmor_parser`, as snapd does: `--replace --write-cache
//! --cache-loc=...`, pinned to AppArmor's 3.0 feature ABI when the system
//! has it, quiet unless `SNAPD_DEBUG` is set.
//!
//! Loading is done in two steps so that a broken profile changes nothing:
//! every new profile is first compiled without touching the kernel (which
//! fills the cache), and only when all of them compiled are they loaded,
//! from the cache. On a kernel without AppArmor (or under a test root) the
//! profiles are only compiled, to check them.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::Error;
use crate::paths::Paths;

/// Selects the mode (`load`, `check` or `skip`).
pub const MODE_VAR: &str = "CONFINE_APPARMOR";
/// Names the parser program.
pub const PARSER_VAR: &str = "CONFINE_APPARMOR_PARSER";
/// The feature ABI profiles are compiled for.
pub const FEATURES_ABI: &str = "/etc/apparmor.d/abi/3.0";
/// The kernel's switch.
const ENABLED: &str = "/sys/module/apparmor/parameters/enabled";
/// The kernel's interface for removing a profile by name.
const REMOVE: &str = "/sys/kernel/security/apparmor/.remove";

/// What is done with profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Compile, then load into the kernel.
    Load,
    /// Compile only (no AppArmor in the kernel, or a test root).
    Check,
    /// Do not run the parser at all.
    Skip,
}

/// How profiles are compiled and loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parser {
    pub mode: Mode,
    pub program: PathBuf,
    pub cache: PathBuf,
    pub features: Option<PathBuf>,
    pub quiet: bool,
    /// The kernel file that unloads a profile by name (only on the real
    /// system).
    pub remove_interface: Option<PathBuf>,
}

/// Whether the running kernel enforces AppArmor.
pub fn kernel_has_apparmor() -> bool {
    std::fs::read_to_string(ENABLED).is_ok_and(|s| s.trim() == "Y")
}

fn find_program() -> PathBuf {
    if let Some(p) = std::env::var_os(PARSER_VAR).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    ["/sbin/apparmor_parser", "/usr/sbin/apparmor_parser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("apparmor_parser"))
}

/// What is done with profiles unless `CONFINE_APPARMOR` says: loaded on
/// the real system with AppArmor enabled; checked elsewhere, where the
/// parser is installed; only written on a machine with neither AppArmor nor
/// its parser (a container without AppArmor's tools, say: the Landlock
/// policies confine the snaps there).
pub fn default_mode(system: bool, kernel_has_apparmor: bool, parser_installed: bool) -> Mode {
    match (system && kernel_has_apparmor, parser_installed) {
        (true, _) => Mode::Load,
        (false, true) => Mode::Check,
        (false, false) => Mode::Skip,
    }
}

impl Parser {
    /// The parser for `paths`: see [`default_mode`]; `CONFINE_APPARMOR`
    /// overrides.
    pub fn from_env(paths: &Paths) -> Result<Self, Error> {
        let program = find_program();
        let mode = match std::env::var(MODE_VAR).as_deref() {
            Ok("load") => Mode::Load,
            Ok("check") => Mode::Check,
            Ok("skip") => Mode::Skip,
            Ok("") | Err(_) => default_mode(paths.is_system(), kernel_has_apparmor(), program.exists()),
            Ok(other) => {
                return Err(Error(format!(
                    "cannot use {MODE_VAR}={other:?}: expected load, check or skip"
                )))
            }
        };
        let debug = matches!(std::env::var("SNAPD_DEBUG").as_deref(), Ok("1" | "true" | "yes"));
        Ok(Parser {
            mode,
            program,
            cache: paths.apparmor_cache(),
            features: Some(PathBuf::from(FEATURES_ABI)).filter(|p| p.exists()),
            quiet: !debug,
            remove_interface: paths.is_system().then(|| PathBuf::from(REMOVE)),
        })
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.program);
        if let Some(f) = &self.features {
            c.arg("--policy-features").arg(f);
        }
        if self.quiet {
            c.arg("--quiet");
        }
        c
    }

    fn run(&self, mut c: Command, files: &[PathBuf], what: &str, shown: &(PathBuf, PathBuf)) -> Result<(), Error> {
        c.args(files);
        let out = c
            .output()
            .map_err(|e| Error(format!("cannot {what}: cannot run {}: {e}", self.program.display())))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        // apparmor_parser may print a parser error and still exit 0.
        if !out.status.success() || stderr.contains("parser error") {
            // Messages name the staged files: name the real ones instead.
            let from = shown.0.to_string_lossy();
            let to = shown.1.to_string_lossy();
            let text: Vec<String> = stderr
                .lines()
                .filter(|l| !l.starts_with("Cache read/write disabled"))
                .map(|l| l.replace(from.as_ref(), to.as_ref()))
                .collect();
            return Err(Error(format!("cannot {what}: {}", text.join("\n").trim())));
        }
        Ok(())
    }

    /// Compiles `files` (checking them) without touching the kernel; in
    /// load mode the cache is filled too. `shown` maps the staging
    /// directory to the directory named in messages.
    pub fn prepare(&self, files: &[PathBuf], shown: &(PathBuf, PathBuf)) -> Result<(), Error> {
        if files.is_empty() {
            return Ok(());
        }
        let mut c = self.command();
        match self.mode {
            Mode::Skip => return Ok(()),
            Mode::Check => {
                c.args(["--skip-kernel-load", "--skip-cache"]);
            }
            Mode::Load => {
                std::fs::create_dir_all(&self.cache)
                    .map_err(|e| Error(format!("cannot create {}: {e}", self.cache.display())))?;
                c.args(["--skip-kernel-load", "--write-cache"])
                    .arg(cache_arg(&self.cache));
            }
        }
        self.run(c, files, "compile the AppArmor profiles", shown)
    }

    /// Loads `files` into the kernel (load mode only), from the cache
    /// [`prepare`](Self::prepare) filled.
    pub fn load(&self, files: &[PathBuf], shown: &(PathBuf, PathBuf)) -> Result<(), Error> {
        if self.mode != Mode::Load || files.is_empty() {
            return Ok(());
        }
        let mut c = self.command();
        c.args(["--replace", "--write-cache"]).arg(cache_arg(&self.cache));
        self.run(c, files, "load the AppArmor profiles", shown)
    }

    /// Removes profiles from the kernel (load mode only); profiles that are
    /// not loaded are skipped.
    pub fn unload(&self, names: &[String]) -> Result<(), Error> {
        let Some(remove) = self.remove_interface.as_ref().filter(|_| self.mode == Mode::Load) else {
            return Ok(());
        };
        for name in names {
            match std::fs::write(remove, name) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
                Err(e) => return Err(Error(format!("cannot unload AppArmor profile {name}: {e}"))),
            }
        }
        Ok(())
    }

    /// The names of the profiles that have a cached compilation (in the
    /// cache directory and in its per-feature subdirectories).
    pub fn cached(&self) -> Vec<String> {
        let mut dirs = vec![self.cache.clone()];
        if let Ok(entries) = std::fs::read_dir(&self.cache) {
            dirs.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
        }
        let mut names: Vec<String> = dirs
            .iter()
            .filter_map(|d| std::fs::read_dir(d).ok())
            .flat_map(|entries| entries.flatten())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Removes the cached compilations of profiles (in the cache directory
    /// and in its per-feature subdirectories).
    pub fn forget(&self, names: &[String]) {
        let mut dirs = vec![self.cache.clone()];
        if let Ok(entries) = std::fs::read_dir(&self.cache) {
            dirs.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
        }
        for dir in dirs {
            for name in names {
                let _ = std::fs::remove_file(dir.join(name));
            }
        }
    }
}

fn cache_arg(cache: &Path) -> String {
    format!("--cache-loc={}", cache.display())
}

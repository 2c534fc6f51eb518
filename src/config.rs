//! Fixed paths. None of them comes from the environment or the command line.

/// Where the launcher and its helpers are installed (set at build time).
pub const LIBEXECDIR: &str = env!("CONFINE_LIBEXECDIR");
/// The launcher's own installed path; a setuid launch from anywhere else is refused.
pub const LAUNCHER_PATH: &str = concat!(env!("CONFINE_LIBEXECDIR"), "/snap-confine");
/// Version text printed by `--version`.
pub const VERSION: &str = env!("CONFINE_VERSION");

/// Compiled seccomp policies, one per security tag.
pub const SECCOMP_DIR: &str = "/var/lib/snapd/seccomp/bpf";
/// Per-snap cookies written by the daemon.
pub const COOKIE_DIR: &str = "/var/lib/snapd/cookie";
/// Where the app is sent when its working directory cannot be kept.
pub const VOID_DIR: &str = "/var/lib/snapd/void";
/// The AppArmor module's switch.
pub const APPARMOR_ENABLED: &str = "/sys/module/apparmor/parameters/enabled";

/// How long to wait for a missing seccomp profile unless told otherwise.
pub const DEFAULT_PROFILE_WAIT_SECS: u64 = 120;
/// The longest wait anyone may ask for.
pub const MAX_PROFILE_WAIT_SECS: u64 = 3600;

//! Every path the policy tools read or write, under one root.
//!
//! The root is `/` on a real system. Tests point `CONFINE_ROOT` at a
//! scratch directory and everything (state, profiles, seccomp files,
//! Landlock policies, udev rules, the device cgroup files) lands under it;
//! nothing is then loaded into the kernel and udev is left alone.

use std::path::{Path, PathBuf};

/// The variable that moves the root.
pub const ROOT_VAR: &str = "CONFINE_ROOT";

/// Where the launcher and its helpers are installed (for the udev rules).
pub const LIBEXECDIR: &str = "/usr/lib/confine";

/// The locations of the policy tools' files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    root: PathBuf,
    system: bool,
}

impl Paths {
    /// Paths under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        // A root that resolves to `/` (through `..`, say, or a symbolic
        // link) is the real system.
        let system = root.canonicalize().unwrap_or_else(|_| root.clone()) == Path::new("/");
        Paths { root, system }
    }

    /// Paths under `CONFINE_ROOT`, or `/`.
    pub fn from_env() -> Self {
        match std::env::var_os(ROOT_VAR) {
            Some(root) if !root.is_empty() => Paths::new(root),
            _ => Paths::new("/"),
        }
    }

    /// The root everything is under.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether this is the real system (root `/`): only then are profiles
    /// loaded into the kernel and udev told about new rules.
    pub fn is_system(&self) -> bool {
        self.system
    }

    /// A path under the root, given as an absolute path.
    pub fn under(&self, absolute: &str) -> PathBuf {
        self.root.join(absolute.trim_start_matches('/'))
    }

    /// The state directory, `/var/lib/confine` (root only, 0700).
    pub fn state_dir(&self) -> PathBuf {
        self.under("/var/lib/confine")
    }

    /// The state file.
    pub fn state_file(&self) -> PathBuf {
        self.state_dir().join("state.json")
    }

    /// The lock taken around every change of the state.
    pub fn state_lock(&self) -> PathBuf {
        self.state_dir().join("state.lock")
    }

    /// The AppArmor profiles of snaps.
    pub fn apparmor_profiles(&self) -> PathBuf {
        self.under("/var/lib/snapd/apparmor/profiles")
    }

    /// Where new profiles wait while they are checked (same file system as
    /// the profiles, so they can be renamed into place).
    pub fn apparmor_staging(&self) -> PathBuf {
        self.under("/var/lib/snapd/apparmor")
    }

    /// apparmor_parser's cache of compiled snap profiles.
    pub fn apparmor_cache(&self) -> PathBuf {
        self.under("/var/cache/apparmor")
    }

    /// The seccomp sources and compiled programs.
    pub fn seccomp_dir(&self) -> PathBuf {
        self.under("/var/lib/snapd/seccomp/bpf")
    }

    /// The Landlock policies, `/var/lib/snapd/landlock/<tag>`, which the
    /// launcher reads where the kernel has no AppArmor.
    pub fn landlock_dir(&self) -> PathBuf {
        self.under("/var/lib/snapd/landlock")
    }

    /// The snaps' desired mount profiles, which `snap-update-ns` applies.
    pub fn mount_policy_dir(&self) -> PathBuf {
        self.under("/var/lib/snapd/mount")
    }

    /// A snap's mount profile, `snap.<instance>.fstab`.
    pub fn mount_profile(&self, instance: &str) -> PathBuf {
        self.mount_policy_dir().join(format!("snap.{instance}.fstab"))
    }

    /// A snap's per-user mount profile, `snap.<instance>.user-fstab`.
    pub fn user_mount_profile(&self, instance: &str) -> PathBuf {
        self.mount_policy_dir().join(format!("snap.{instance}.user-fstab"))
    }

    /// Where preserved namespaces are (`/run/snapd/ns`).
    pub fn ns_dir(&self) -> PathBuf {
        self.under("/run/snapd/ns")
    }

    /// The udev rules directory.
    pub fn udev_rules_dir(&self) -> PathBuf {
        self.under("/etc/udev/rules.d")
    }

    /// The udev rules file of a snap.
    pub fn udev_rules(&self, instance: &str) -> PathBuf {
        self.udev_rules_dir().join(format!("70-snap.{instance}.rules"))
    }

    /// The device cgroup files.
    pub fn cgroup_dir(&self) -> PathBuf {
        self.under("/var/lib/snapd/cgroup")
    }

    /// The device cgroup file of a snap, which the launcher waits for.
    pub fn device_file(&self, instance: &str) -> PathBuf {
        self.cgroup_dir().join(format!("snap.{instance}.device"))
    }

    /// Where snaps are mounted, `/snap`.
    pub fn snap_mount_dir(&self) -> PathBuf {
        self.under("/snap")
    }

    /// A snap's mounted revision, `/snap/<instance>/<rev>`.
    pub fn snap_revision_dir(&self, instance: &str, rev: &str) -> PathBuf {
        self.snap_mount_dir().join(instance).join(rev)
    }

    /// The command wrappers, `/snap/bin`.
    pub fn snap_bin_dir(&self) -> PathBuf {
        self.snap_mount_dir().join("bin")
    }

    /// The snaps' writable data, `/var/snap`.
    pub fn snap_data_dir(&self) -> PathBuf {
        self.under("/var/snap")
    }

    /// The installed snap files, one per revision.
    pub fn snap_blobs_dir(&self) -> PathBuf {
        self.state_dir().join("snaps")
    }

    /// systemd's directory for the units of daemons and mounts.
    pub fn systemd_units_dir(&self) -> PathBuf {
        self.under("/etc/systemd/system")
    }

    /// The home directories' parent (users' data of removed snaps is
    /// removed under it).
    pub fn home_dir(&self) -> PathBuf {
        self.under("/home")
    }

    /// The distribution's release file (to tell classic systems from
    /// Ubuntu Core).
    pub fn os_release(&self) -> PathBuf {
        self.under("/etc/os-release")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn everything_moves_with_the_root() {
        let p = Paths::new("/tmp/r");
        assert!(!p.is_system());
        assert_eq!(p.state_file(), Path::new("/tmp/r/var/lib/confine/state.json"));
        assert_eq!(
            p.apparmor_profiles(),
            Path::new("/tmp/r/var/lib/snapd/apparmor/profiles")
        );
        assert_eq!(
            p.udev_rules("a_x"),
            Path::new("/tmp/r/etc/udev/rules.d/70-snap.a_x.rules")
        );
        assert_eq!(
            p.device_file("a"),
            Path::new("/tmp/r/var/lib/snapd/cgroup/snap.a.device")
        );
        assert_eq!(p.seccomp_dir(), Path::new("/tmp/r/var/lib/snapd/seccomp/bpf"));
        assert_eq!(p.landlock_dir(), Path::new("/tmp/r/var/lib/snapd/landlock"));
        let sys = Paths::new("/");
        assert!(sys.is_system());
        assert!(Paths::new("//").is_system());
        assert!(Paths::new("/tmp/..").is_system());
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink("/", &link).unwrap();
        assert!(Paths::new(&link).is_system());
        assert_eq!(sys.apparmor_cache(), Path::new("/var/cache/apparmor"));
    }
}

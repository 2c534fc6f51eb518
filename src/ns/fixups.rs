//! Two repairs snap-confine makes in the snap's namespace at every launch,
//! for systems that older releases left damaged:
//! - `/var/lib` at mode 0777 (created so before snapd 2.32) goes back to
//!   0755 root:root;
//! - udev tags `/run/udev/tags/snap_*/*nvidia*` (written by snapd 2.27 for
//!   NVIDIA devices, which confuse libudev) are removed.

use crate::debug::Debug;
use crate::error::{Context, Result};
use crate::fs::{open_path, Trust};
use crate::sys::{EntryKind, Sys};
use nix::fcntl::OFlag;
use std::ffi::OsStr;
use std::os::fd::AsFd;

pub const UDEV_TAGS: &str = "/run/udev/tags";

/// Makes both repairs; only a failure to repair `/var/lib` fails the launch.
pub fn apply<S: Sys>(sys: &S, debug: &Debug) -> Result<()> {
    // Resolved inside the snap's root, as snap-confine's stat does: a base
    // whose /var is a symlink (to a place in the base) is fine.
    let root = sys.root()?;
    let var_lib = sys.open_in_root(root.as_fd(), "var/lib", OFlag::O_RDONLY | OFlag::O_DIRECTORY).context(|| "open /var/lib")?;
    if sys.fstat(var_lib.as_fd())?.perms() & 0o777 == 0o777 {
        debug.say("resetting /var/lib from mode 0777 to 0755 root:root");
        sys.fchmod(var_lib.as_fd(), 0o755).context(|| "chmod /var/lib")?;
        let (uid, gid) = sys.trusted_owner();
        sys.fchown(var_lib.as_fd(), uid, gid).context(|| "chown /var/lib")?;
    }
    let Ok(tags) = open_path(sys, UDEV_TAGS, OFlag::O_RDONLY | OFlag::O_DIRECTORY, Trust::Any) else { return Ok(()) };
    for (name, kind) in sys.read_dir(tags.fd.as_fd()).unwrap_or_default() {
        if kind != EntryKind::Dir || !name.to_string_lossy().starts_with("snap_") {
            continue;
        }
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY;
        let Ok(tag) = sys.openat(tags.fd.as_fd(), &name, flags, nix::sys::stat::Mode::empty()) else { continue };
        for (entry, _) in sys.read_dir(tag.as_fd()).unwrap_or_default() {
            if entry.to_string_lossy().contains("nvidia") {
                debug.say(format_args!("removing the stale udev tag {UDEV_TAGS}/{}/{}", name.to_string_lossy(), entry.to_string_lossy()));
                let _ = sys.unlinkat(tag.as_fd(), OsStr::new(&entry), false);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::sys::fake::FakeSys;

    #[test]
    fn both_repairs() {
        let sys = FakeSys::new();
        sys.dir("/var/lib", 0o777);
        sys.file("/run/udev/tags/snap_hello_hello/c195:0-nvidia0", b"", 0o644);
        sys.file("/run/udev/tags/snap_hello_hello/c10:200", b"", 0o644);
        sys.file("/run/udev/tags/other/c195:1-nvidia1", b"", 0o644);
        apply(&sys, &Debug::new(false)).unwrap();
        assert!(sys.effects().contains(&"fchmod(0755)".to_string()), "{:?}", sys.effects());
        assert!(sys.effects().iter().any(|e| e.starts_with("fchown(")), "{:?}", sys.effects());
        assert!(!sys.path("/run/udev/tags/snap_hello_hello/c195:0-nvidia0").exists());
        assert!(sys.path("/run/udev/tags/snap_hello_hello/c10:200").exists());
        assert!(sys.path("/run/udev/tags/other/c195:1-nvidia1").exists());
    }

    #[test]
    fn nothing_to_repair_changes_nothing() {
        let sys = FakeSys::new();
        sys.dir("/var/lib", 0o755);
        apply(&sys, &Debug::new(false)).unwrap();
        assert!(sys.effects().iter().all(|e| !e.starts_with("fchmod") && !e.starts_with("unlinkat")), "{:?}", sys.effects());
    }

    #[test]
    fn var_lib_is_found_through_a_symlink_inside_the_root() {
        // A base whose /var is an absolute symlink: it resolves inside the
        // snap's root, never on the host (before, the launch failed with
        // "cannot open /var: Not a directory").
        let sys = FakeSys::new();
        sys.dir("/srv/var/lib", 0o777);
        std::os::unix::fs::symlink("/srv/var", sys.path("/var")).unwrap();
        apply(&sys, &Debug::new(false)).unwrap();
        assert!(sys.effects().contains(&"fchmod(0755)".to_string()), "{:?}", sys.effects());
    }
}

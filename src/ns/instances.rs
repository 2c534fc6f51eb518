//! Parallel instances (`snap install --name hello_foo`), behind snapd's
//! feature file. An instance's files live in `/snap/hello_foo` and
//! `/var/snap/hello_foo`, and its sandbox must show them at `/snap/hello`
//! and `/var/snap/hello`, because `$SNAP` and `$SNAP_DATA` use the snap
//! name. Strict instances get that from their mount profile (the
//! `overname` entries snap-update-ns applies); classic ones from here: a
//! mount namespace of their own in which the two directories are bound
//! over the plain snap's.

use crate::debug::Debug;
use crate::error::Result;
use crate::fs::{open_path, Trust};
use crate::invocation::Invocation;
use crate::rootfs::apply::apply;
use crate::rootfs::plan::{Propagation, Step};
use crate::rootfs::SNAP_MOUNT_DIR;
use crate::sys::{Proc, Sys};
use nix::fcntl::OFlag;

/// snapd writes this file when `experimental.parallel-instances` is on.
pub const FEATURE_FILE: &str = "/var/lib/snapd/features/parallel-instances";
/// Where snaps keep their data.
pub const SNAP_DATA_DIR: &str = "/var/snap";

/// Whether the feature is on: its file is a regular file.
pub fn enabled<S: Sys>(sys: &S) -> bool {
    open_path(sys, FEATURE_FILE, OFlag::O_PATH, Trust::Any).is_ok_and(|o| o.stat.is_file())
}

/// The mounts that show the files of instance `name_key` as `name`'s:
/// the two directories made slaves (nothing mounted here reaches the host),
/// then each instance directory bound over the plain one.
pub fn classic_steps(name: &str, instance: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    for dir in [SNAP_MOUNT_DIR, SNAP_DATA_DIR] {
        steps.push(Step::Propagate { target: dir.into(), kind: Propagation::Slave, recursive: true });
    }
    for dir in [SNAP_MOUNT_DIR, SNAP_DATA_DIR] {
        steps.push(Step::BindFd { source: format!("{dir}/{instance}"), target: format!("{dir}/{name}"), recursive: true });
    }
    steps
}

/// The classic launch with the feature on: the global set-up, a mount
/// namespace of the command's own and, for an instance with a key, its
/// directories over the plain snap's. Without the feature nothing happens.
pub fn enter_classic<S: Sys>(sys: &S, proc: &Proc, inv: &Invocation, debug: &Debug) -> Result<()> {
    if !enabled(sys) {
        return Ok(());
    }
    super::join_init_mount_ns(sys, proc, debug)?;
    super::init_global(sys, proc, false, true, debug)?;
    sys.unshare_mount_ns()?;
    if inv.instance.instance_key().is_some() {
        debug.say(format_args!("showing instance {} as {}", inv.instance, inv.instance.snap_name()));
        apply(sys, &classic_steps(inv.instance.snap_name(), inv.instance.as_str()), None)?;
    }
    debug.step("set up the classic instance's namespace");
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn an_instance_over_its_snap() {
        let got: Vec<String> = classic_steps("hello", "hello_foo").iter().map(|s| s.to_string()).collect();
        assert_eq!(
            got,
            [
                "mount --make-rslave /snap",
                "mount --make-rslave /var/snap",
                "mount --rbind /snap/hello_foo /snap/hello",
                "mount --rbind /var/snap/hello_foo /var/snap/hello",
            ]
        );
    }
}

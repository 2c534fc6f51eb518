//! Local group policy (as snapd 2.70 has it): a distribution may let only
//! one group run snaps by giving the launcher binary to that group (mode
//! 4750, say). The host's binary decides, seen through `/proc/1/root`, so a
//! launch from inside a sandbox is judged by the host's policy too.

use crate::config;
use crate::debug::Debug;
use crate::error::{Error, Result};
use crate::fs::{open_path, Trust};
use crate::sys::{Ids, Proc, Sys};
use nix::errno::Errno;
use nix::fcntl::OFlag;

/// The group owning the host's launcher binary.
fn host_launcher_group<S: Sys>(sys: &S, proc: &Proc, debug: &Debug) -> Result<u32> {
    match sys.lstat_proc(proc, &format!("1/root{}", config::LAUNCHER_PATH)) {
        Ok(st) => Ok(st.gid),
        Err(e) if e.errno_value() == Some(Errno::ENOENT) => {
            Err(Error::because("locate snap-confine in host root filesystem", format!("{} does not exist there", config::LAUNCHER_PATH)))
        }
        Err(e) => {
            // PID 1 cannot be inspected here: our own root is the host's.
            debug.say(format_args!("cannot inspect /proc/1/root ({e}): judging the launcher in our own root"));
            Ok(open_path(sys, config::LAUNCHER_PATH, OFlag::O_PATH, Trust::Any)?.stat.gid)
        }
    }
}

/// Refuses a caller outside the group owning the host's launcher, unless
/// that group is root's or the caller's real group is root.
pub fn check<S: Sys>(sys: &S, proc: &Proc, ids: &Ids, debug: &Debug) -> Result<()> {
    if ids.rgid.as_raw() == 0 {
        return Ok(());
    }
    let gid = host_launcher_group(sys, proc, debug)?;
    if gid == sys.trusted_owner().1 || ids.rgid.as_raw() == gid || sys.groups()?.iter().any(|g| g.as_raw() == gid) {
        return Ok(());
    }
    Err(Error::because(
        "run snap-confine",
        "user is not a member of group owning snap-confine; check your distribution's policy for running snaps",
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::sys::fake::FakeSys;
    use nix::unistd::{Gid, Uid};

    fn proc_of(sys: &FakeSys) -> Proc {
        Proc(sys.root().unwrap())
    }

    /// The host's launcher as the fake sees it through `/proc/1/root`
    /// (the fake's proc handle is its root).
    fn launcher(sys: &FakeSys, group: u32) {
        let p = config::LAUNCHER_PATH;
        sys.file(p, b"", 0o4750);
        let me = nix::unistd::getuid();
        nix::unistd::chown(&sys.path(p), Some(me), Some(Gid::from_raw(group))).unwrap();
    }

    fn caller(rgid: u32) -> Ids {
        let mut ids = crate::sys::fake::setuid_ids();
        ids.ruid = Uid::from_raw(1000);
        ids.rgid = Gid::from_raw(rgid);
        ids
    }

    #[test]
    fn members_of_the_owning_group_only() {
        let sys = FakeSys::new();
        let d = Debug::new(false);
        // Owned by the trusted group: anyone may run it.
        launcher(&sys, sys.trusted_owner().1);
        assert!(check(&sys, &proc_of(&sys), &caller(1000), &d).is_ok());
        // Giving a file to another group needs root: only then is the
        // refusal checked.
        if nix::unistd::geteuid().is_root() {
            launcher(&sys, 4242);
            let err = check(&sys, &proc_of(&sys), &caller(1000), &d).unwrap_err();
            assert_eq!(
                err.to_string(),
                "cannot run snap-confine: user is not a member of group owning snap-confine; \
                 check your distribution's policy for running snaps"
            );
            assert!(check(&sys, &proc_of(&sys), &caller(4242), &d).is_ok(), "real group");
            sys.supplementary.borrow_mut().push(Gid::from_raw(4242));
            assert!(check(&sys, &proc_of(&sys), &caller(1000), &d).is_ok(), "supplementary group");
        }
        // A caller whose real group is root is never refused.
        assert!(check(&sys, &proc_of(&sys), &caller(0), &d).is_ok());
    }

    #[test]
    fn a_missing_host_launcher_is_refused() {
        let sys = FakeSys::new();
        std::fs::remove_file(sys.path(config::LAUNCHER_PATH)).unwrap();
        let err = check(&sys, &proc_of(&sys), &caller(1000), &Debug::new(false)).unwrap_err();
        assert!(err.to_string().starts_with("cannot locate snap-confine in host root filesystem"), "{err}");
    }
}

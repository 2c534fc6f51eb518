//! Privileges, in three stages that can only happen in order:
//!
//! 1. [`acquire`]: the launcher is setuid root; it keeps only the
//!    capabilities the setup needs ([`REQUIRED_CAPS`]), none inheritable, none
//!    ambient, and its real uid becomes root too, so that the caller cannot
//!    signal it (stop it while it holds a lock) until [`demote`].
//! 2. [`demote`]: after the setup, real, effective and saved ids all become
//!    the caller's; only `CAP_SYS_ADMIN` stays permitted, for loading the
//!    Landlock ruleset and the seccomp filter without `no_new_privs` (which
//!    would break AppArmor's exec transition).
//! 3. [`drop_all`]: once the filter is in place, every capability goes.

use crate::error::{Error, Result};
use crate::seccomp::Filtered;
use crate::sys::{CapState, Ids, Sys};
use crate::apparmor::AppArmor;
use caps::Capability;
use nix::unistd::{Gid, Uid};

const fn bit(c: Capability) -> u64 {
    1u64 << (c as u8)
}

/// What building the sandbox needs; the launch fails without any of these.
pub const REQUIRED_CAPS: u64 = bit(Capability::CAP_SYS_ADMIN) // mount, unshare, setns, seccomp
    | bit(Capability::CAP_DAC_OVERRIDE) // root-owned state under /run and /var/lib
    | bit(Capability::CAP_DAC_READ_SEARCH) // /proc/1/ns, the caller's cwd
    | bit(Capability::CAP_CHOWN) // root-owned files we create
    | bit(Capability::CAP_FOWNER) // modes of directories we create
    | bit(Capability::CAP_SYS_CHROOT) // pivot_root
    | bit(Capability::CAP_SYS_PTRACE) // inspecting /proc/1
    | bit(Capability::CAP_SETUID) // giving up root
    | bit(Capability::CAP_SETGID);

/// Used when available: raising RLIMIT_MEMLOCK for BPF maps on kernels
/// before 5.11. Some containers withhold it from the bounding set.
pub const OPTIONAL_CAPS: u64 = bit(Capability::CAP_SYS_RESOURCE);

/// Kept after demotion, only to load the seccomp filter.
pub const SECCOMP_CAPS: u64 = bit(Capability::CAP_SYS_ADMIN);

/// Proof that [`acquire`] ran.
#[derive(Debug)]
pub struct Privileged {
    ids: Ids,
}

/// Proof that [`demote`] ran: the ids are the caller's.
#[derive(Debug)]
pub struct Demoted(());

#[cfg(test)]
impl Demoted {
    /// For tests of the steps that run after [`demote`].
    pub fn for_tests() -> Demoted {
        Demoted(())
    }
}

/// Proof that every capability is gone.
#[derive(Debug)]
pub struct Dropped(());

/// Narrows the capability sets to [`REQUIRED_CAPS`] (and what is available
/// of [`OPTIONAL_CAPS`]).
pub fn acquire<S: Sys>(sys: &S, ids: Ids) -> Result<Privileged> {
    if !ids.euid.is_root() {
        return Err(Error::because("run", "snap-confine must be setuid root or run by root"));
    }
    let have = sys.get_caps()?.permitted;
    let missing = REQUIRED_CAPS & !have;
    if missing != 0 {
        let names: Vec<String> = caps::all()
            .into_iter()
            .filter(|c| missing & c.bitmask() != 0)
            .map(|c| c.to_string().to_lowercase())
            .collect();
        return Err(Error::because("run", format!("the launcher lacks the capabilities {}", names.join(", "))));
    }
    let keep = REQUIRED_CAPS | (OPTIONAL_CAPS & have);
    sys.clear_ambient_caps()?;
    sys.set_caps(CapState { effective: keep, permitted: keep, inheritable: 0 })?;
    // A setuid (not setgid) binary keeps the caller's group: files and
    // directories the setup creates must belong to root:root from birth.
    let root_gid = Gid::from_raw(0);
    if ids.egid != root_gid || ids.sgid != root_gid {
        sys.setresgid(ids.rgid, root_gid, root_gid)?;
    }
    // The kernel lets a user signal any process whose real or saved uid is
    // theirs: with all three uids root, the caller can no longer stop us
    // while we hold the snap's lock (every launch of the snap, by anyone,
    // would then wait on us). `demote` gives the real uid back.
    if !ids.ruid.is_root() {
        let root = Uid::from_raw(0);
        sys.setresuid(root, root, root)?;
    }
    Ok(Privileged { ids })
}

/// Becomes the caller for good, keeping only `CAP_SYS_ADMIN` permitted (not
/// effective). Checks that no id is left as root.
///
/// Where nothing but Landlock and seccomp confines the app (no AppArmor),
/// [`forbid_new_privs`] follows for a caller other than root.
pub fn demote<S: Sys>(sys: &S, p: Privileged) -> Result<Demoted> {
    let want = p.ids.caller();
    if p.ids != want {
        // Keep the permitted set across the uid change; groups go first,
        // while we may still change them.
        sys.set_keep_caps(true)?;
        sys.setresgid(want.rgid, want.egid, want.sgid)?;
        sys.setresuid(want.ruid, want.euid, want.suid)?;
        sys.set_keep_caps(false)?;
        // The kernel already made us non-dumpable on the uid change; say it
        // explicitly since CAP_SYS_ADMIN is still held.
        sys.set_dumpable(false)?;
    }
    sys.set_caps(CapState { effective: 0, permitted: SECCOMP_CAPS, inheritable: 0 })?;
    let now = sys.ids()?;
    if now != want {
        return Err(Error::because("drop privileges", format!("ids are {now:?}, expected {want:?}")));
    }
    Ok(Demoted(()))
}

/// Makes `CAP_SYS_ADMIN` effective for loading the Landlock ruleset and
/// the seccomp filter.
pub fn raise_sys_admin<S: Sys>(sys: &S, _d: &Demoted) -> Result<()> {
    sys.set_caps(CapState { effective: SECCOMP_CAPS, permitted: SECCOMP_CAPS, inheritable: 0 })
}

/// Sets `no_new_privs` for a caller other than root: a setuid or
/// file-capability program in the base or the snap then runs with the
/// caller's ids and no capability. Used where the kernel has no AppArmor:
/// Landlock limits files and the network, and the seccomp filter system
/// calls, but root with every capability inside them could still reach
/// what they do not mediate (other processes, network and device
/// configuration). Under AppArmor, as with snap-confine, the snap's profile
/// grants no capability its interfaces do not, and `no_new_privs` would
/// stop the exec transition to that profile (so where Landlock is stacked
/// on AppArmor, nothing is set). Root keeps its capabilities (root daemons
/// need them), and classic or devmode snaps are not confined.
pub fn forbid_new_privs<S: Sys>(sys: &S, ids: &Ids, aa: &AppArmor, _d: &Demoted) -> Result<()> {
    if ids.ruid.is_root() || *aa != AppArmor::NotApplicable {
        return Ok(());
    }
    sys.set_no_new_privs()
}

/// Gives up every capability. The seccomp filter must already be in place:
/// without `CAP_SYS_ADMIN` it could not be loaded any more.
pub fn drop_all<S: Sys>(sys: &S, _d: Demoted, _f: Filtered) -> Result<Dropped> {
    // Only capget/capset run under the filter here; the ambient set was
    // cleared in `acquire` and nothing raised it since.
    sys.set_caps(CapState::default())?;
    Ok(Dropped(()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::sys::fake::{setuid_ids, FakeSys};

    #[test]
    fn no_new_privs_only_for_a_caller_other_than_root_and_never_under_apparmor() {
        let user = setuid_ids();
        let enabled = AppArmor::Enabled { label: "snap-confine".into(), mode: Some("enforce".into()) };
        for (ids, aa, set) in [
            (&user, &AppArmor::NotApplicable, true),
            // Landlock stacked on AppArmor: the exec transition to the
            // snap's profile must still happen.
            (&user, &enabled, false),
        ] {
            let sys = FakeSys::new();
            forbid_new_privs(&sys, ids, aa, &Demoted::for_tests()).unwrap();
            assert_eq!(sys.calls().iter().any(|c| c == "set_no_new_privs"), set, "{aa:?}");
        }
        let sys = FakeSys::new();
        let root = Ids { ruid: Uid::from_raw(0), ..user };
        forbid_new_privs(&sys, &root, &AppArmor::NotApplicable, &Demoted::for_tests()).unwrap();
        assert!(!sys.calls().iter().any(|c| c == "set_no_new_privs"));
    }
}

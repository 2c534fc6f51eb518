//! Privileges, in three stages that can only happen in order:
//!
//! 1. [`acquire`]: the launcher is setuid root; it keeps only the
//!    capabilities the setup needs ([`SETUP_CAPS`]), none inheritable, none
//!    ambient.
//! 2. [`demote`]: after the setup, real, effective and saved ids all become
//!    the caller's; only `CAP_SYS_ADMIN` stays permitted, for loading the
//!    seccomp filter without `no_new_privs` (which would break AppArmor's
//!    exec transition).
//! 3. [`drop_all`]: once the filter is in place, every capability goes.

use crate::error::{Error, Result};
use crate::seccomp::Filtered;
use crate::sys::{CapState, Ids, Sys};
use caps::Capability;

const fn bit(c: Capability) -> u64 {
    1u64 << (c as u8)
}

/// What building the sandbox needs, and nothing else.
pub const SETUP_CAPS: u64 = bit(Capability::CAP_SYS_ADMIN) // mount, unshare, setns, seccomp
    | bit(Capability::CAP_DAC_OVERRIDE) // root-owned state under /run and /var/lib
    | bit(Capability::CAP_DAC_READ_SEARCH) // /proc/1/ns, the caller's cwd
    | bit(Capability::CAP_CHOWN) // root-owned files we create
    | bit(Capability::CAP_FOWNER) // modes of directories we create
    | bit(Capability::CAP_SYS_CHROOT) // pivot_root
    | bit(Capability::CAP_SYS_PTRACE) // inspecting /proc/1
    | bit(Capability::CAP_SYS_RESOURCE) // RLIMIT_MEMLOCK for BPF maps
    | bit(Capability::CAP_SETUID) // giving up root
    | bit(Capability::CAP_SETGID);

/// Kept after demotion, only to load the seccomp filter.
pub const SECCOMP_CAPS: u64 = bit(Capability::CAP_SYS_ADMIN);

/// Proof that [`acquire`] ran.
#[derive(Debug)]
pub struct Privileged {
    ids: Ids,
}

/// Proof that [`demote`] ran: the ids are the caller's.
#[derive(Debug)]
pub struct Demoted {
    pub ids: Ids,
}

/// Proof that every capability is gone.
#[derive(Debug)]
pub struct Dropped(());

/// Narrows the capability sets to [`SETUP_CAPS`].
pub fn acquire<S: Sys>(sys: &S, ids: Ids) -> Result<Privileged> {
    if !ids.euid.is_root() {
        return Err(Error::because("run", "snap-confine must be setuid root or run by root"));
    }
    sys.clear_ambient_caps()?;
    sys.set_caps(CapState { effective: SETUP_CAPS, permitted: SETUP_CAPS, inheritable: 0 })?;
    Ok(Privileged { ids })
}

/// Becomes the caller for good, keeping only `CAP_SYS_ADMIN` permitted (not
/// effective). Checks that no id is left as root.
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
    Ok(Demoted { ids: want })
}

/// Makes `CAP_SYS_ADMIN` effective for the seccomp load.
pub fn raise_for_seccomp<S: Sys>(sys: &S, _d: &Demoted) -> Result<()> {
    sys.set_caps(CapState { effective: SECCOMP_CAPS, permitted: SECCOMP_CAPS, inheritable: 0 })
}

/// Gives up every capability. The seccomp filter must already be in place:
/// without `CAP_SYS_ADMIN` it could not be loaded any more.
pub fn drop_all<S: Sys>(sys: &S, _d: Demoted, _f: Filtered) -> Result<Dropped> {
    // Only capget/capset run under the filter here; the ambient set was
    // cleared in `acquire` and nothing raised it since.
    sys.set_caps(CapState::default())?;
    Ok(Dropped(()))
}

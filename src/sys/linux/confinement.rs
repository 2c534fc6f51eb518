//! The app's confinement by the kernel: Landlock and seccomp.

use crate::error::{Context, Error, Result};
use crate::sys::LandlockRuleset;
use nix::errno::Errno;
use policy_cache::Program;
use std::os::fd::AsFd;

pub(super) fn landlock_abi() -> u32 {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: with a null attribute pointer, size 0 and the VERSION flag
    // the kernel only returns the ABI version (or an error).
    let v = unsafe {
        libc::syscall(libc::SYS_landlock_create_ruleset, std::ptr::null::<u8>(), 0usize, LANDLOCK_CREATE_RULESET_VERSION)
    };
    u32::try_from(v).unwrap_or(0)
}

pub(super) fn landlock_restrict(r: &LandlockRuleset) -> Result<()> {
    use landlock::{
        AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, NetPort, PathBeneath, Ruleset, RulesetAttr,
        RulesetCreatedAttr, RulesetStatus, Scope,
    };
    let failed = |e: &dyn std::fmt::Display| Error::because("restrict with Landlock", e.to_string());
    // The rights were limited to the kernel's ABI already: anything the
    // kernel refuses now is an error, not something to skip.
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(BitFlags::<AccessFs>::from_bits_truncate(r.handled_fs))
        .map_err(|e| failed(&e))?;
    if r.handled_net != 0 {
        ruleset = ruleset.handle_access(BitFlags::<AccessNet>::from_bits_truncate(r.handled_net)).map_err(|e| failed(&e))?;
    }
    if r.scopes != 0 {
        ruleset = ruleset.scope(BitFlags::<Scope>::from_bits_truncate(r.scopes)).map_err(|e| failed(&e))?;
    }
    let mut created = ruleset.create().map_err(|e| failed(&e))?;
    for (fd, access) in &r.rules {
        let rule = PathBeneath::new(fd.as_fd(), BitFlags::<AccessFs>::from_bits_truncate(*access));
        created = created.add_rule(rule).map_err(|e| failed(&e))?;
    }
    for (port, access) in &r.net_rules {
        let rule = NetPort::new(*port, BitFlags::<AccessNet>::from_bits_truncate(*access));
        created = created.add_rule(rule).map_err(|e| failed(&e))?;
    }
    let status = created.no_new_privs(false).restrict_self().map_err(|e| failed(&e))?;
    if status.ruleset != RulesetStatus::FullyEnforced {
        return Err(Error::because("restrict with Landlock", format!("the ruleset is {:?}", status.ruleset)));
    }
    Ok(())
}

pub(super) fn load_seccomp(program: &Program) -> Result<()> {
    let mut filter: Vec<libc::sock_filter> = program
        .instructions()
        .iter()
        .map(|i| libc::sock_filter { code: i.code, jt: i.jt, jf: i.jf, k: i.k })
        .collect();
    let len = u16::try_from(filter.len()).map_err(|_| Error::because("load a seccomp filter", "it is too long"))?;
    let prog = libc::sock_fprog { len, filter: filter.as_mut_ptr() };
    let prog_ptr: *const libc::sock_fprog = &prog;
    // SAFETY: `prog` points at `filter`, which outlives the call; the
    // kernel copies the program before returning and keeps no pointer.
    let r = unsafe {
        libc::syscall(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_FILTER, libc::SECCOMP_FILTER_FLAG_LOG, prog_ptr)
    };
    if r == 0 {
        return Ok(());
    }
    // Kernels without seccomp(2) or without the log flag: the older prctl.
    // SAFETY: as above, the program is copied by the kernel during the call.
    let r = unsafe {
        libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, prog_ptr as libc::c_ulong, 0, 0)
    };
    Errno::result(r).map(drop).context(|| "apply seccomp profile")
}

//! The process itself: ids, capabilities, signals, the working directory,
//! CPU affinity, resource limits, and the final exec.

use crate::error::{Context, Error, Result};
use crate::sys::{CapState, Ids};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal};
use nix::sys::stat::Mode;
use nix::unistd::{self, Gid, Uid};
use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::time::Duration;

/// The header and one half (32 capabilities) of the data of capget and
/// capset, version 3 (`<linux/capability.h>`).
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const CAP_VERSION_3: u32 = 0x2008_0522;

fn caps_err(what: &str, e: caps::errors::CapsError) -> Error {
    Error::because(what.to_string(), e.to_string())
}

pub(super) fn at_secure() -> bool {
    // SAFETY: getauxval only reads the auxiliary vector the kernel gave us.
    let v = unsafe { libc::getauxval(libc::AT_SECURE) };
    v != 0
}

pub(super) fn ensure_stdio() -> Result<()> {
    for fd in 0..3 {
        // SAFETY: F_GETFD only queries the descriptor table.
        let r = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        if r != -1 || Errno::last() != Errno::EBADF {
            continue;
        }
        // The lowest free descriptor is `fd`, so open lands there; it is
        // kept open (no O_CLOEXEC) for the app, like a shell would.
        let null = nix::fcntl::open("/dev/null", OFlag::O_RDWR | OFlag::O_NOCTTY, Mode::empty())
            .context(|| "open /dev/null")?;
        if null.as_raw_fd() != fd {
            return Err(Error::because("reopen standard descriptors", "/dev/null landed on the wrong descriptor"));
        }
        // Release ownership: the descriptor stays open for the app.
        let _ = std::os::fd::IntoRawFd::into_raw_fd(null);
    }
    Ok(())
}

pub(super) fn set_dumpable(dumpable: bool) -> Result<()> {
    nix::sys::prctl::set_dumpable(dumpable).context(|| "change the dumpable flag")
}

pub(super) fn ids() -> Result<Ids> {
    let u = unistd::getresuid().context(|| "get user ids")?;
    let g = unistd::getresgid().context(|| "get group ids")?;
    Ok(Ids { ruid: u.real, euid: u.effective, suid: u.saved, rgid: g.real, egid: g.effective, sgid: g.saved })
}

pub(super) fn pid() -> i32 {
    unistd::getpid().as_raw()
}

pub(super) fn umask(mask: Mode) -> Mode {
    nix::sys::stat::umask(mask)
}

pub(super) fn open_cwd() -> Result<OwnedFd> {
    nix::fcntl::openat(nix::fcntl::AT_FDCWD, ".", OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
        .context(|| "open the current working directory")
}

pub(super) fn chdir_root() -> Result<()> {
    unistd::chdir("/").context(|| "move to /")
}

pub(super) fn fchdir(dir: BorrowedFd<'_>) -> Result<()> {
    unistd::fchdir(dir).context(|| "change the working directory")
}

pub(super) fn sleep(d: Duration) {
    std::thread::sleep(d);
}

pub(super) fn block_signals(signals: &[Signal]) -> Result<SigSet> {
    let mut set = SigSet::empty();
    for s in signals {
        set.add(*s);
    }
    let mut old = SigSet::empty();
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), Some(&mut old)).context(|| "block signals")?;
    Ok(old)
}

pub(super) fn set_signal_mask(mask: &SigSet) -> Result<()> {
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(mask), None).context(|| "restore the signal mask")
}

pub(super) fn set_signal_ignored(signal: Signal, ignored: bool) -> Result<bool> {
    let handler = if ignored { SigHandler::SigIgn } else { SigHandler::SigDfl };
    let action = nix::sys::signal::SigAction::new(handler, nix::sys::signal::SaFlags::empty(), SigSet::empty());
    // SAFETY: the handlers are SIG_IGN and SIG_DFL, no function of ours
    // runs in signal context.
    let old = unsafe { nix::sys::signal::sigaction(signal, &action) }.context(|| format!("change how {signal} is handled"))?;
    Ok(matches!(old.handler(), SigHandler::SigIgn))
}

pub(super) fn groups() -> Result<Vec<Gid>> {
    unistd::getgroups().context(|| "list supplementary groups")
}

// capget and capset themselves: the caps crate reads and writes one set
// per call, with a capget before each capset, 12 calls where these take 2.

pub(super) fn get_caps() -> Result<CapState> {
    let mut header = CapHeader { version: CAP_VERSION_3, pid: 0 };
    let mut data = [CapData::default(); 2];
    // SAFETY: with version 3, capget writes two CapData into `data` (and
    // at most the header's version); both outlive the call.
    let r = unsafe { libc::syscall(libc::SYS_capget, &mut header as *mut CapHeader, data.as_mut_ptr()) };
    if r != 0 {
        return Err(Error::errno("read capabilities", Errno::last()));
    }
    let [low, high] = data;
    let join = |l: u32, h: u32| u64::from(l) | (u64::from(h) << 32);
    Ok(CapState {
        effective: join(low.effective, high.effective),
        permitted: join(low.permitted, high.permitted),
        inheritable: join(low.inheritable, high.inheritable),
    })
}

pub(super) fn cpu_affinity() -> Result<Vec<usize>> {
    let set = nix::sched::sched_getaffinity(unistd::Pid::from_raw(0)).context(|| "get the CPU affinity")?;
    Ok((0..nix::sched::CpuSet::count()).filter(|c| set.is_set(*c).unwrap_or(false)).collect())
}

pub(super) fn set_cpu_affinity(cpus: &[usize]) -> Result<()> {
    let mut set = nix::sched::CpuSet::new();
    for c in cpus {
        set.set(*c).context(|| "build a CPU set")?;
    }
    nix::sched::sched_setaffinity(unistd::Pid::from_raw(0), &set).context(|| "set the CPU affinity")
}

/// The three sets at once: the kernel checks the new ones together
/// (effective within the new permitted, permitted within the old).
pub(super) fn set_caps(c: CapState) -> Result<()> {
    let mut header = CapHeader { version: CAP_VERSION_3, pid: 0 };
    // The truncations are the split of each 64-bit set into two halves.
    #[allow(clippy::cast_possible_truncation)]
    let half = |shift: u32| CapData {
        effective: (c.effective >> shift) as u32,
        permitted: (c.permitted >> shift) as u32,
        inheritable: (c.inheritable >> shift) as u32,
    };
    let data = [half(0), half(32)];
    // SAFETY: with version 3, capset reads the header and two CapData from
    // `data`; both outlive the call.
    let r = unsafe { libc::syscall(libc::SYS_capset, &mut header as *mut CapHeader, data.as_ptr()) };
    if r != 0 {
        return Err(Error::errno("set capabilities", Errno::last()));
    }
    Ok(())
}

pub(super) fn clear_ambient_caps() -> Result<()> {
    caps::clear(None, caps::CapSet::Ambient).map_err(|e| caps_err("clear ambient capabilities", e))
}

pub(super) fn set_keep_caps(keep: bool) -> Result<()> {
    nix::sys::prctl::set_keepcaps(keep).context(|| "change the keep-capabilities flag")
}

pub(super) fn setresgid(r: Gid, e: Gid, s: Gid) -> Result<()> {
    unistd::setresgid(r, e, s).context(|| format!("set group ids to {r}"))
}

pub(super) fn setresuid(r: Uid, e: Uid, s: Uid) -> Result<()> {
    unistd::setresuid(r, e, s).context(|| format!("set user ids to {r}"))
}

/// `setfsuid` and `setfsgid` report no error, only the previous id: each
/// is called a second time to read back the one now in force.
pub(super) fn set_fs_ids(uid: Uid, gid: Gid) -> Result<()> {
    unistd::setfsgid(gid);
    if unistd::setfsgid(gid) != gid {
        return Err(Error::because(format!("set the file system group id to {gid}"), "the kernel refused it"));
    }
    unistd::setfsuid(uid);
    if unistd::setfsuid(uid) != uid {
        return Err(Error::because(format!("set the file system user id to {uid}"), "the kernel refused it"));
    }
    Ok(())
}

pub(super) fn set_no_new_privs() -> Result<()> {
    nix::sys::prctl::set_no_new_privs().context(|| "set no_new_privs")
}

pub(super) fn memlock_limit() -> Result<(u64, u64)> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one struct rlimit into `lim`, which outlives the call.
    let r = unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut lim) };
    Errno::result(r).context(|| "get the memlock limit")?;
    Ok((lim.rlim_cur, lim.rlim_max))
}

pub(super) fn set_memlock_limit(soft: u64, hard: u64) -> std::result::Result<(), Errno> {
    let lim = libc::rlimit { rlim_cur: soft, rlim_max: hard };
    // SAFETY: setrlimit only reads the struct rlimit, which outlives the call.
    let r = unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &lim) };
    Errno::result(r).map(drop)
}

pub(super) fn execve(path: &CStr, argv: &[CString], envp: &[CString]) -> Error {
    match unistd::execve(path, argv, envp) {
        Err(e) => Error::errno(format!("execute {}", String::from_utf8_lossy(path.to_bytes())), e),
        Ok(never) => match never {},
    }
}

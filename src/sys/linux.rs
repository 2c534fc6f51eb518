//! The real system calls. This is the only module of the launcher with
//! `unsafe` code; each block says why it is sound.
#![allow(unsafe_code)]

use super::{CapState, FileStat, Ids, Proc, Sys};
use crate::error::{Context, Error, Result};
use nix::errno::Errno;
use nix::fcntl::{openat, openat2, readlinkat, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fstat, mkdirat, umask, Mode};
use nix::sys::statfs::{fstatfs, PROC_SUPER_MAGIC};
use nix::unistd::{self, Gid, Uid};
use policy_cache::Program;
use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::time::Duration;

/// The inode number of a procfs root directory.
const PROC_ROOT_INO: u64 = 1;

/// The running kernel.
pub struct LinuxSys;

fn caps_of(mask: u64) -> caps::CapsHashSet {
    caps::all().into_iter().filter(|c| mask & c.bitmask() != 0).collect()
}

fn caps_err(what: &str, e: caps::errors::CapsError) -> Error {
    Error::because(what.to_string(), e.to_string())
}

/// Opens `rel` under a procfs handle without following any symlink or
/// crossing into another mount, then checks the result is on procfs.
fn open_in_proc(proc: &Proc, rel: &str, flags: OFlag) -> Result<OwnedFd> {
    let flags = flags | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW;
    let how = OpenHow::new().flags(flags).resolve(
        ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_SYMLINKS | ResolveFlag::RESOLVE_NO_XDEV,
    );
    let fd = match openat2(proc.0.as_fd(), rel, how) {
        // Kernels before 5.6 have no openat2: fall back to openat and rely on
        // the filesystem check below.
        Err(Errno::ENOSYS) => openat(proc.0.as_fd(), rel, flags, Mode::empty()),
        other => other,
    }
    .context(|| format!("open /proc/{rel}"))?;
    let fs = fstatfs(&fd).context(|| format!("inspect /proc/{rel}"))?;
    if fs.filesystem_type() != PROC_SUPER_MAGIC {
        return Err(Error::because(format!("use /proc/{rel}"), "it is not on procfs"));
    }
    Ok(fd)
}

/// Picks `attr/apparmor/<name>` when the kernel has it (5.8+), else `attr/<name>`.
fn lsm_attr_path(proc: &Proc, pid: i32, name: &str) -> String {
    let modern = format!("{pid}/attr/apparmor/{name}");
    match open_in_proc(proc, &format!("{pid}/attr/apparmor"), OFlag::O_PATH | OFlag::O_DIRECTORY) {
        Ok(_) => modern,
        Err(_) => format!("{pid}/attr/{name}"),
    }
}

impl Sys for LinuxSys {
    fn at_secure(&self) -> bool {
        // SAFETY: getauxval only reads the auxiliary vector the kernel gave us.
        let v = unsafe { libc::getauxval(libc::AT_SECURE) };
        v != 0
    }

    fn ensure_stdio(&self) -> Result<()> {
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

    fn set_dumpable(&self, dumpable: bool) -> Result<()> {
        nix::sys::prctl::set_dumpable(dumpable).context(|| "change the dumpable flag")
    }

    fn ids(&self) -> Result<Ids> {
        let u = unistd::getresuid().context(|| "get user ids")?;
        let g = unistd::getresgid().context(|| "get group ids")?;
        Ok(Ids { ruid: u.real, euid: u.effective, suid: u.saved, rgid: g.real, egid: g.effective, sgid: g.saved })
    }

    fn pid(&self) -> i32 {
        unistd::getpid().as_raw()
    }

    fn umask(&self, mask: Mode) -> Mode {
        umask(mask)
    }

    fn open_cwd(&self) -> Result<OwnedFd> {
        nix::fcntl::open(".", OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
            .context(|| "open the current working directory")
    }

    fn chdir_root(&self) -> Result<()> {
        unistd::chdir("/").context(|| "move to /")
    }

    fn fchdir(&self, dir: BorrowedFd<'_>) -> Result<()> {
        unistd::fchdir(dir).context(|| "change the working directory")
    }

    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }

    fn root(&self) -> Result<OwnedFd> {
        nix::fcntl::open("/", OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
            .context(|| "open /")
    }

    fn trusted_owner(&self) -> (u32, u32) {
        (0, 0)
    }

    fn openat(&self, dir: BorrowedFd<'_>, name: &OsStr, flags: OFlag, mode: Mode) -> Result<OwnedFd> {
        openat(dir, name, flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC, mode)
            .context(|| format!("open {}", name.to_string_lossy()))
    }

    fn mkdirat(&self, dir: BorrowedFd<'_>, name: &OsStr, mode: Mode) -> std::result::Result<(), Errno> {
        mkdirat(dir, name, mode)
    }

    fn fstat(&self, fd: BorrowedFd<'_>) -> Result<FileStat> {
        let st = fstat(fd).context(|| "inspect an open file")?;
        Ok(FileStat {
            uid: st.st_uid,
            gid: st.st_gid,
            mode: st.st_mode,
            size: u64::try_from(st.st_size).unwrap_or(0),
            dev: st.st_dev,
            ino: st.st_ino,
        })
    }

    fn read_bounded(&self, fd: BorrowedFd<'_>, max: usize) -> Result<Vec<u8>> {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            let n = match unistd::read(fd, &mut chunk) {
                Err(Errno::EINTR) => continue,
                other => other.context(|| "read a file")?,
            };
            if n == 0 {
                return Ok(buf);
            }
            buf.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
            if buf.len() > max {
                return Err(Error::because("read a file", format!("it is larger than {max} bytes")));
            }
        }
    }

    fn open_proc(&self) -> Result<Proc> {
        let fd = nix::fcntl::open(
            "/proc",
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .context(|| "open /proc")?;
        let fs = fstatfs(&fd).context(|| "inspect /proc")?;
        let st = fstat(&fd).context(|| "inspect /proc")?;
        if fs.filesystem_type() != PROC_SUPER_MAGIC || st.st_ino != PROC_ROOT_INO {
            return Err(Error::because("use /proc", "it is not the root of a procfs mount"));
        }
        Ok(Proc(fd))
    }

    fn own_exe(&self, proc: &Proc) -> Result<OsString> {
        let pid = self.pid();
        readlinkat(proc.0.as_fd(), format!("{pid}/exe").as_str()).context(|| "read /proc/self/exe")
    }

    fn read_lsm_attr(&self, proc: &Proc, name: &str) -> Result<String> {
        let rel = lsm_attr_path(proc, self.pid(), name);
        let fd = open_in_proc(proc, &rel, OFlag::O_RDONLY)?;
        let bytes = self.read_bounded(fd.as_fd(), 4096).context(|| format!("read /proc/{rel}"))?;
        Ok(String::from_utf8_lossy(&bytes).trim_end_matches(['\n', '\0']).to_string())
    }

    fn write_lsm_attr(&self, proc: &Proc, name: &str, value: &str) -> Result<()> {
        let rel = lsm_attr_path(proc, self.pid(), name);
        let fd = open_in_proc(proc, &rel, OFlag::O_WRONLY)?;
        let n = unistd::write(&fd, value.as_bytes()).context(|| format!("write /proc/{rel}"))?;
        if n != value.len() {
            return Err(Error::because(format!("write /proc/{rel}"), "short write"));
        }
        Ok(())
    }

    fn get_caps(&self) -> Result<CapState> {
        let mask = |set| -> Result<u64> {
            Ok(caps::read(None, set).map_err(|e| caps_err("read capabilities", e))?.iter().map(|c| c.bitmask()).sum())
        };
        Ok(CapState {
            effective: mask(caps::CapSet::Effective)?,
            permitted: mask(caps::CapSet::Permitted)?,
            inheritable: mask(caps::CapSet::Inheritable)?,
        })
    }

    fn set_caps(&self, c: CapState) -> Result<()> {
        // Effective first (it must stay within the permitted set), then
        // permitted, then inheritable.
        caps::set(None, caps::CapSet::Effective, &caps_of(c.effective))
            .map_err(|e| caps_err("set effective capabilities", e))?;
        caps::set(None, caps::CapSet::Permitted, &caps_of(c.permitted))
            .map_err(|e| caps_err("set permitted capabilities", e))?;
        caps::set(None, caps::CapSet::Inheritable, &caps_of(c.inheritable))
            .map_err(|e| caps_err("set inheritable capabilities", e))
    }

    fn clear_ambient_caps(&self) -> Result<()> {
        caps::clear(None, caps::CapSet::Ambient).map_err(|e| caps_err("clear ambient capabilities", e))
    }

    fn set_keep_caps(&self, keep: bool) -> Result<()> {
        nix::sys::prctl::set_keepcaps(keep).context(|| "change the keep-capabilities flag")
    }

    fn setresgid(&self, r: Gid, e: Gid, s: Gid) -> Result<()> {
        unistd::setresgid(r, e, s).context(|| format!("set group ids to {r}"))
    }

    fn setresuid(&self, r: Uid, e: Uid, s: Uid) -> Result<()> {
        unistd::setresuid(r, e, s).context(|| format!("set user ids to {r}"))
    }

    fn load_seccomp(&self, program: &Program) -> Result<()> {
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

    fn execve(&self, path: &CStr, argv: &[CString], envp: &[CString]) -> Error {
        match unistd::execve(path, argv, envp) {
            Err(e) => Error::errno(format!("execute {}", String::from_utf8_lossy(path.to_bytes())), e),
            Ok(never) => match never {},
        }
    }
}

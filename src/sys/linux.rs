//! The real system calls. This is the only module of the launcher with
//! `unsafe` code; each block says why it is sound.
#![allow(unsafe_code)]

use super::{
    BpfInsn, BpfMapSpec, BpfProgSpec, CapState, EntryKind, FileStat, FsInfo, Ids, LandlockRuleset, NsInfo, Proc, Source, Sys, ToolExit,
};
use crate::error::{Context, Error, Result};
use nix::errno::Errno;
use nix::fcntl::{openat, openat2, readlinkat, OFlag, OpenHow, ResolveFlag};
use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal};
use nix::sys::stat::{fstat, mkdirat, umask, Mode};
use nix::mount::{MntFlags, MsFlags};
use nix::sched::CloneFlags;
use nix::sys::statfs::{fstatfs, NSFS_MAGIC, PROC_SUPER_MAGIC};
use nix::unistd::{self, Gid, Uid};
use policy_cache::Program;
use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
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

// bpf(2): commands, and the parts of `union bpf_attr` each command reads.
// The kernel copies `size_of` bytes and treats the rest of its union as
// zero, so each struct holds only the fields its command uses.
const BPF_MAP_CREATE: libc::c_long = 0;
const BPF_MAP_UPDATE_ELEM: libc::c_long = 2;
const BPF_MAP_DELETE_ELEM: libc::c_long = 3;
const BPF_MAP_GET_NEXT_KEY: libc::c_long = 4;
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_OBJ_PIN: libc::c_long = 6;
const BPF_OBJ_GET: libc::c_long = 7;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_ANY: u64 = 0;
const BPF_OBJ_NAME_LEN: usize = 16;
/// The size of the verifier log asked for when a load fails.
const VERIFIER_LOG_SIZE: usize = 32 * 1024;

#[repr(C)]
#[derive(Default)]
struct MapCreateAttr {
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    inner_map_fd: u32,
    numa_node: u32,
    map_name: [u8; BPF_OBJ_NAME_LEN],
    map_ifindex: u32,
}

#[repr(C)]
#[derive(Default)]
struct MapElemAttr {
    map_fd: u32,
    _pad: u32,
    key: u64,
    /// The value (update) or the next key (get next key).
    value: u64,
    flags: u64,
}

#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; BPF_OBJ_NAME_LEN],
}

#[repr(C)]
#[derive(Default)]
struct ObjAttr {
    pathname: u64,
    bpf_fd: u32,
    file_flags: u32,
}

#[repr(C)]
#[derive(Default)]
struct ProgAttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
}

/// `struct bpf_insn`: the two register numbers share one byte, destination
/// in the low nibble (x86_64 and every little-endian target).
#[repr(C)]
struct RawInsn {
    code: u8,
    regs: u8,
    off: i16,
    imm: i32,
}

/// Calls bpf(2) with `attr`, returning what the kernel returned (a new
/// descriptor or 0).
fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> std::result::Result<libc::c_long, Errno> {
    let size = std::mem::size_of::<T>();
    let ptr: *mut T = attr;
    // SAFETY: `attr` is a live, exclusively borrowed #[repr(C)] value of
    // `size` bytes laid out as the command's part of `union bpf_attr`; every
    // address inside it points at memory that outlives the call, and the
    // kernel writes back at most `size` bytes.
    let r = unsafe { libc::syscall(libc::SYS_bpf, cmd, ptr, size) };
    Errno::result(r)
}

/// Takes ownership of a descriptor bpf(2) just returned.
fn bpf_fd(r: libc::c_long) -> std::result::Result<OwnedFd, Errno> {
    let raw = i32::try_from(r).map_err(|_| Errno::EBADF)?;
    if raw < 0 {
        return Err(Errno::EBADF);
    }
    // SAFETY: the kernel just created descriptor `raw` for this call and
    // nothing else refers to it: ownership passes to the OwnedFd.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

fn object_name(name: &str) -> [u8; BPF_OBJ_NAME_LEN] {
    let mut out = [0u8; BPF_OBJ_NAME_LEN];
    for (o, b) in out.iter_mut().zip(name.bytes().take(BPF_OBJ_NAME_LEN - 1)) {
        *o = b;
    }
    out
}

fn fd_u32(fd: BorrowedFd<'_>) -> u32 {
    u32::try_from(fd.as_raw_fd()).unwrap_or(u32::MAX)
}

/// `/proc/self/fd/<dir>/<name>`: a path the kernel resolves through the
/// open directory, so what was checked is what is used.
fn path_under(dir: BorrowedFd<'_>, name: &str) -> std::result::Result<CString, Errno> {
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err(Errno::EINVAL);
    }
    CString::new(format!("/proc/self/fd/{}/{name}", dir.as_raw_fd())).map_err(|_| Errno::EINVAL)
}

fn map_elem_attr(map: BorrowedFd<'_>, key: Option<&[u8]>, value: u64) -> MapElemAttr {
    MapElemAttr { map_fd: fd_u32(map), key: key.map_or(0, |k| k.as_ptr() as u64), value, ..MapElemAttr::default() }
}

/// Picks `attr/apparmor/<name>` when the kernel has it (5.8+), else `attr/<name>`.
fn lsm_attr_path(proc: &Proc, pid: i32, name: &str) -> String {
    let modern = format!("{pid}/attr/apparmor/{name}");
    match open_in_proc(proc, &format!("{pid}/attr/apparmor"), OFlag::O_PATH | OFlag::O_DIRECTORY) {
        Ok(_) => modern,
        Err(_) => format!("{pid}/attr/{name}"),
    }
}

fn file_stat(st: &libc::stat) -> FileStat {
    FileStat {
        uid: st.st_uid,
        gid: st.st_gid,
        mode: st.st_mode,
        size: u64::try_from(st.st_size).unwrap_or(0),
        dev: st.st_dev,
        ino: st.st_ino,
        rdev: st.st_rdev,
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

    fn block_signals(&self, signals: &[Signal]) -> Result<SigSet> {
        let mut set = SigSet::empty();
        for s in signals {
            set.add(*s);
        }
        let mut old = SigSet::empty();
        nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), Some(&mut old)).context(|| "block signals")?;
        Ok(old)
    }

    fn set_signal_mask(&self, mask: &SigSet) -> Result<()> {
        nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(mask), None).context(|| "restore the signal mask")
    }

    fn set_signal_ignored(&self, signal: Signal, ignored: bool) -> Result<bool> {
        let handler = if ignored { SigHandler::SigIgn } else { SigHandler::SigDfl };
        let action = nix::sys::signal::SigAction::new(handler, nix::sys::signal::SaFlags::empty(), SigSet::empty());
        // SAFETY: the handlers are SIG_IGN and SIG_DFL, no function of ours
        // runs in signal context.
        let old = unsafe { nix::sys::signal::sigaction(signal, &action) }.context(|| format!("change how {signal} is handled"))?;
        Ok(matches!(old.handler(), SigHandler::SigIgn))
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
        Ok(file_stat(&st))
    }

    fn lstatat(&self, dir: BorrowedFd<'_>, name: &OsStr) -> Result<FileStat> {
        let st = nix::sys::stat::fstatat(dir, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)
            .context(|| format!("inspect {}", name.to_string_lossy()))?;
        Ok(file_stat(&st))
    }

    fn groups(&self) -> Result<Vec<Gid>> {
        unistd::getgroups().context(|| "list supplementary groups")
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

    fn lstat_proc(&self, proc: &Proc, rel: &str) -> Result<FileStat> {
        self.lstatat(proc.0.as_fd(), OsStr::new(rel))
    }

    fn readlink_proc(&self, proc: &Proc, rel: &str) -> Result<OsString> {
        readlinkat(proc.0.as_fd(), rel).context(|| format!("read the link /proc/{rel}"))
    }

    fn read_proc(&self, proc: &Proc, rel: &str, max: usize) -> Result<Vec<u8>> {
        let fd = open_in_proc(proc, rel, OFlag::O_RDONLY)?;
        self.read_bounded(fd.as_fd(), max).context(|| format!("read /proc/{rel}"))
    }

    fn open_ns(&self, proc: &Proc, pid: Option<i32>, kind: &str) -> Result<OwnedFd> {
        let pid = pid.unwrap_or_else(|| self.pid());
        let rel = format!("{pid}/ns/{kind}");
        // The namespace files are magic links: open what they point at, then
        // check that it is a namespace.
        let fd = openat(proc.0.as_fd(), rel.as_str(), OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
            .context(|| format!("open /proc/{rel}"))?;
        let fs = fstatfs(&fd).context(|| format!("inspect /proc/{rel}"))?;
        if fs.filesystem_type() != NSFS_MAGIC {
            return Err(Error::because(format!("use /proc/{rel}"), "it is not a namespace"));
        }
        Ok(fd)
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

    fn open_in_root(&self, dir: BorrowedFd<'_>, rel: &str, flags: OFlag) -> Result<OwnedFd> {
        let rel = if rel.is_empty() { "." } else { rel };
        let how = OpenHow::new()
            .flags(flags | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW)
            .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
        openat2(dir, rel, how).context(|| format!("open {rel}"))
    }

    fn fchown(&self, fd: BorrowedFd<'_>, uid: u32, gid: u32) -> Result<()> {
        unistd::fchown(fd, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid))).context(|| "change an owner")
    }

    fn fchmod(&self, fd: BorrowedFd<'_>, mode: u32) -> Result<()> {
        nix::sys::stat::fchmod(fd, Mode::from_bits_truncate(mode)).context(|| "change a mode")
    }

    fn symlinkat(&self, target: &str, dir: BorrowedFd<'_>, name: &OsStr) -> std::result::Result<(), Errno> {
        unistd::symlinkat(target, dir, name)
    }

    fn unlinkat(&self, dir: BorrowedFd<'_>, name: &OsStr, dir_entry: bool) -> std::result::Result<(), Errno> {
        let flag = if dir_entry { unistd::UnlinkatFlags::RemoveDir } else { unistd::UnlinkatFlags::NoRemoveDir };
        unistd::unlinkat(dir, name, flag)
    }

    fn readlinkat(&self, dir: BorrowedFd<'_>, name: &OsStr) -> Result<OsString> {
        readlinkat(dir, name).context(|| format!("read the link {}", name.to_string_lossy()))
    }

    fn read_dir(&self, dir: BorrowedFd<'_>) -> Result<Vec<(OsString, EntryKind)>> {
        let fd = openat(dir, ".", OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
            .context(|| "open a directory")?;
        let mut d = nix::dir::Dir::from_fd(fd).context(|| "read a directory")?;
        let mut out = Vec::new();
        for entry in d.iter() {
            let entry = entry.context(|| "read a directory")?;
            let name = OsStr::from_bytes(entry.file_name().to_bytes()).to_os_string();
            if name == "." || name == ".." {
                continue;
            }
            let kind = match entry.file_type() {
                Some(nix::dir::Type::Directory) => EntryKind::Dir,
                Some(nix::dir::Type::Symlink) => EntryKind::Symlink,
                Some(nix::dir::Type::File) => EntryKind::File,
                _ => EntryKind::Other,
            };
            out.push((name, kind));
        }
        out.sort();
        Ok(out)
    }

    fn write_all(&self, fd: BorrowedFd<'_>, data: &[u8]) -> Result<()> {
        let mut rest = data;
        while !rest.is_empty() {
            let n = match unistd::write(fd, rest) {
                Err(Errno::EINTR) => continue,
                other => other.context(|| "write a file")?,
            };
            rest = rest.get(n..).unwrap_or(&[]);
        }
        Ok(())
    }

    fn renameat(&self, dir: BorrowedFd<'_>, from: &OsStr, to: &OsStr) -> std::result::Result<(), Errno> {
        nix::fcntl::renameat(dir, from, dir, to)
    }

    fn try_lock(&self, fd: BorrowedFd<'_>) -> Result<bool> {
        // SAFETY: flock only operates on the descriptor.
        let r = unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        match Errno::result(r) {
            Ok(_) => Ok(true),
            Err(Errno::EWOULDBLOCK) => Ok(false),
            Err(e) => Err(Error::errno("lock a file", e)),
        }
    }

    fn random_suffix(&self) -> Result<String> {
        let mut b = [0u8; 6];
        let mut got = 0;
        while got < b.len() {
            let rest = b.get_mut(got..).unwrap_or(&mut []);
            // SAFETY: getrandom writes at most `rest.len()` bytes into `rest`.
            let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
            got += usize::try_from(Errno::result(n).context(|| "get random bytes")?).unwrap_or(0);
        }
        const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        Ok(b.iter().map(|x| char::from(CHARS.get(usize::from(*x) % CHARS.len()).copied().unwrap_or(b'x'))).collect())
    }

    fn fs_type(&self, fd: BorrowedFd<'_>) -> Result<i64> {
        let fs = fstatfs(fd).context(|| "inspect a filesystem")?;
        Ok(fs.filesystem_type().0 as i64)
    }

    fn statfs(&self, fd: BorrowedFd<'_>) -> Result<FsInfo> {
        let fs = fstatfs(fd).context(|| "inspect a filesystem")?;
        use nix::sys::statvfs::FsFlags;
        let flags = fs.flags();
        Ok(FsInfo {
            magic: fs.filesystem_type().0 as i64,
            read_only: flags.contains(FsFlags::ST_RDONLY),
            nosuid: flags.contains(FsFlags::ST_NOSUID),
            nodev: flags.contains(FsFlags::ST_NODEV),
            noexec: flags.contains(FsFlags::ST_NOEXEC),
        })
    }

    fn mount(
        &self,
        source: Source<'_>,
        target: BorrowedFd<'_>,
        _target_path: &str,
        fstype: Option<&str>,
        flags: MsFlags,
        data: Option<&str>,
    ) -> std::result::Result<(), Errno> {
        // Mount through the descriptors: what was checked is what is used.
        let fd_path = |fd: BorrowedFd<'_>| format!("/proc/self/fd/{}", fd.as_raw_fd());
        let source = match source {
            Source::None => None,
            Source::Path(p) => Some(p.to_string()),
            Source::Fd(fd) => Some(fd_path(fd)),
        };
        nix::mount::mount(source.as_deref(), fd_path(target).as_str(), fstype, flags, data)
    }

    fn umount(&self, target: &str, lazy: bool) -> std::result::Result<(), Errno> {
        let mut flags = MntFlags::UMOUNT_NOFOLLOW;
        if lazy {
            flags |= MntFlags::MNT_DETACH;
        }
        nix::mount::umount2(target, flags)
    }

    fn umount_fd(&self, target: BorrowedFd<'_>, _target_path: &str, lazy: bool) -> std::result::Result<(), Errno> {
        // The magic link resolves to what the descriptor refers to: it is
        // followed on purpose (no UMOUNT_NOFOLLOW), and nothing else is.
        let flags = if lazy { MntFlags::MNT_DETACH } else { MntFlags::empty() };
        nix::mount::umount2(format!("/proc/self/fd/{}", target.as_raw_fd()).as_str(), flags)
    }

    fn pivot_root(&self, new_root: BorrowedFd<'_>, put_old: BorrowedFd<'_>, _paths: (&str, &str)) -> std::result::Result<(), Errno> {
        // Through the descriptors, like mount: the directories that were
        // opened (inside the new root) are the ones used.
        let fd_path = |fd: BorrowedFd<'_>| format!("/proc/self/fd/{}", fd.as_raw_fd());
        unistd::pivot_root(fd_path(new_root).as_str(), fd_path(put_old).as_str())
    }

    fn unshare_mount_ns(&self) -> Result<()> {
        nix::sched::unshare(CloneFlags::CLONE_NEWNS).context(|| "unshare the mount namespace")
    }

    fn setns_mount(&self, ns: BorrowedFd<'_>) -> Result<()> {
        nix::sched::setns(ns, CloneFlags::CLONE_NEWNS).context(|| "join a mount namespace")
    }

    fn ns_info(&self, fd: BorrowedFd<'_>) -> Result<NsInfo> {
        let fs = fstatfs(fd).context(|| "inspect a namespace file")?;
        if fs.filesystem_type() != NSFS_MAGIC {
            return Err(Error::because("use a namespace file", "it is not on nsfs"));
        }
        // SAFETY: NS_GET_NSTYPE takes no argument and returns the type.
        let nstype = unsafe { libc::ioctl(fd.as_raw_fd(), libc::NS_GET_NSTYPE) };
        let nstype = Errno::result(nstype).context(|| "get the type of a namespace")?;
        // SAFETY: NS_GET_USERNS takes no argument and returns a new descriptor.
        let userns = unsafe { libc::ioctl(fd.as_raw_fd(), libc::NS_GET_USERNS) };
        let userns = Errno::result(userns).context(|| "get the owner of a namespace")?;
        // SAFETY: the kernel just created this descriptor for us; we own it.
        let userns = unsafe { OwnedFd::from_raw_fd(userns) };
        let st = fstat(&userns).context(|| "inspect a user namespace")?;
        Ok(NsInfo { nstype, userns_ino: st.st_ino })
    }

    fn mount_ns_id(&self, fd: BorrowedFd<'_>) -> Result<Option<u64>> {
        let mut id: u64 = 0;
        // SAFETY: NS_GET_MNTNS_ID writes one u64 into `id`, which outlives the call.
        let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::NS_GET_MNTNS_ID, &mut id as *mut u64) };
        match Errno::result(r) {
            Ok(_) => Ok(Some(id)),
            Err(Errno::ENOTTY | Errno::EINVAL | Errno::ENOSYS) => Ok(None),
            Err(e) => Err(Error::errno("get the id of a mount namespace", e)),
        }
    }

    fn cpu_affinity(&self) -> Result<Vec<usize>> {
        let set = nix::sched::sched_getaffinity(unistd::Pid::from_raw(0)).context(|| "get the CPU affinity")?;
        Ok((0..nix::sched::CpuSet::count()).filter(|c| set.is_set(*c).unwrap_or(false)).collect())
    }

    fn set_cpu_affinity(&self, cpus: &[usize]) -> Result<()> {
        let mut set = nix::sched::CpuSet::new();
        for c in cpus {
            set.set(*c).context(|| "build a CPU set")?;
        }
        nix::sched::sched_setaffinity(unistd::Pid::from_raw(0), &set).context(|| "set the CPU affinity")
    }

    fn landlock_abi(&self) -> u32 {
        const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
        // SAFETY: with a null attribute pointer, size 0 and the VERSION flag
        // the kernel only returns the ABI version (or an error).
        let v = unsafe {
            libc::syscall(libc::SYS_landlock_create_ruleset, std::ptr::null::<u8>(), 0usize, LANDLOCK_CREATE_RULESET_VERSION)
        };
        u32::try_from(v).unwrap_or(0)
    }

    fn landlock_restrict(&self, r: &LandlockRuleset) -> Result<()> {
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

    fn set_no_new_privs(&self) -> Result<()> {
        nix::sys::prctl::set_no_new_privs().context(|| "set no_new_privs")
    }

    fn bpf_map_create(&self, spec: &BpfMapSpec) -> Result<OwnedFd> {
        let mut attr = MapCreateAttr {
            map_type: spec.map_type,
            key_size: spec.key_size,
            value_size: spec.value_size,
            max_entries: spec.max_entries,
            map_name: object_name(&spec.name),
            ..MapCreateAttr::default()
        };
        bpf(BPF_MAP_CREATE, &mut attr).and_then(bpf_fd).context(|| format!("create the BPF map {}", spec.name))
    }

    fn bpf_obj_pin(&self, obj: BorrowedFd<'_>, dir: BorrowedFd<'_>, name: &str) -> std::result::Result<(), Errno> {
        let path = path_under(dir, name)?;
        let mut attr = ObjAttr { pathname: path.as_ptr() as u64, bpf_fd: fd_u32(obj), file_flags: 0 };
        bpf(BPF_OBJ_PIN, &mut attr).map(drop)
    }

    fn bpf_obj_get(&self, dir: BorrowedFd<'_>, name: &str) -> std::result::Result<OwnedFd, Errno> {
        let path = path_under(dir, name)?;
        let mut attr = ObjAttr { pathname: path.as_ptr() as u64, ..ObjAttr::default() };
        bpf(BPF_OBJ_GET, &mut attr).and_then(bpf_fd)
    }

    fn bpf_map_update(&self, map: BorrowedFd<'_>, key: &[u8], value: &[u8]) -> Result<()> {
        let mut attr = map_elem_attr(map, Some(key), value.as_ptr() as u64);
        attr.flags = BPF_ANY;
        bpf(BPF_MAP_UPDATE_ELEM, &mut attr).map(drop).context(|| "update a BPF map")
    }

    fn bpf_map_delete(&self, map: BorrowedFd<'_>, key: &[u8]) -> std::result::Result<(), Errno> {
        let mut attr = map_elem_attr(map, Some(key), 0);
        bpf(BPF_MAP_DELETE_ELEM, &mut attr).map(drop)
    }

    fn bpf_map_next_key(&self, map: BorrowedFd<'_>, key: Option<&[u8]>, key_size: usize) -> Result<Option<Vec<u8>>> {
        if key.is_some_and(|k| k.len() != key_size) {
            return Err(Error::because("list a BPF map", "a key has the wrong size"));
        }
        let mut next = vec![0u8; key_size];
        let mut attr = map_elem_attr(map, key, next.as_mut_ptr() as u64);
        match bpf(BPF_MAP_GET_NEXT_KEY, &mut attr) {
            Ok(_) => Ok(Some(next)),
            Err(Errno::ENOENT) => Ok(None),
            Err(e) => Err(Error::errno("list a BPF map", e)),
        }
    }

    fn bpf_prog_load(&self, spec: &BpfProgSpec) -> Result<OwnedFd> {
        let insns: Vec<RawInsn> = spec
            .insns
            .iter()
            .map(|i: &BpfInsn| RawInsn { code: i.code, regs: (i.dst & 0x0f) | (i.src << 4), off: i.off, imm: i.imm })
            .collect();
        let what = || format!("load the BPF program {}", spec.name);
        let count = u32::try_from(insns.len()).map_err(|_| Error::because(what(), "it is too long"))?;
        let license = CString::new(spec.license.as_str()).map_err(|_| Error::because(what(), "odd license"))?;
        let attr = |log: &mut Vec<u8>| ProgLoadAttr {
            prog_type: spec.prog_type,
            insn_cnt: count,
            insns: insns.as_ptr() as u64,
            license: license.as_ptr() as u64,
            log_level: u32::from(!log.is_empty()),
            log_size: u32::try_from(log.len()).unwrap_or(0),
            log_buf: if log.is_empty() { 0 } else { log.as_mut_ptr() as u64 },
            prog_name: object_name(&spec.name),
            ..ProgLoadAttr::default()
        };
        let mut no_log = Vec::new();
        let first = bpf(BPF_PROG_LOAD, &mut attr(&mut no_log)).and_then(bpf_fd);
        let Err(errno) = first else { return first.context(what) };
        // Again with a verifier log, to say why.
        let mut log = vec![0u8; VERIFIER_LOG_SIZE];
        match bpf(BPF_PROG_LOAD, &mut attr(&mut log)).and_then(bpf_fd) {
            Ok(fd) => Ok(fd),
            Err(_) => {
                let end = log.iter().position(|b| *b == 0).unwrap_or(log.len());
                let text = String::from_utf8_lossy(log.get(..end).unwrap_or(&[])).trim_end().to_string();
                if text.is_empty() {
                    Err(Error::errno(what(), errno))
                } else {
                    Err(Error::because(what(), format!("{}; verifier output:\n{text}", errno.desc())))
                }
            }
        }
    }

    fn bpf_prog_attach_device(&self, prog: BorrowedFd<'_>, cgroup: BorrowedFd<'_>) -> Result<()> {
        let mut attr = ProgAttachAttr {
            target_fd: fd_u32(cgroup),
            attach_bpf_fd: fd_u32(prog),
            attach_type: BPF_CGROUP_DEVICE,
            attach_flags: 0,
        };
        bpf(BPF_PROG_ATTACH, &mut attr).map(drop).context(|| "attach the device cgroup program")
    }

    fn memlock_limit(&self) -> Result<(u64, u64)> {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit writes one struct rlimit into `lim`, which outlives the call.
        let r = unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut lim) };
        Errno::result(r).context(|| "get the memlock limit")?;
        Ok((lim.rlim_cur, lim.rlim_max))
    }

    fn set_memlock_limit(&self, soft: u64, hard: u64) -> std::result::Result<(), Errno> {
        let lim = libc::rlimit { rlim_cur: soft, rlim_max: hard };
        // SAFETY: setrlimit only reads the struct rlimit, which outlives the call.
        let r = unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &lim) };
        Errno::result(r).map(drop)
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

    fn run_tool(
        &self,
        proc: &Proc,
        exe: BorrowedFd<'_>,
        name: &str,
        argv: &[CString],
        envp: &[CString],
        label: Option<&str>,
        real_ids: Option<(Uid, Gid)>,
    ) -> Result<ToolExit> {
        // The child reports a failure before its exec on this pipe, which
        // the exec closes: end of file means the tool is running.
        let (report_rd, report_wr) = unistd::pipe2(OFlag::O_CLOEXEC).context(|| "create a pipe")?;
        // SAFETY: the launcher is single-threaded, so the child is a full
        // copy of a consistent process; it only sets its exec label,
        // executes the tool, or writes one report and leaves with _exit.
        match unsafe { unistd::fork() }.context(|| format!("fork to run {name}"))? {
            unistd::ForkResult::Child => {
                drop(report_rd);
                // The real ids first (the effective ones stay root's).
                let real = real_ids.map_or(Ok(()), |(u, g)| {
                    let ids = self.ids()?;
                    self.setresgid(g, ids.egid, ids.sgid)?;
                    self.setresuid(u, ids.euid, ids.suid)
                });
                let (stage, errno) = match real.err().map(|e| e.errno_value().unwrap_or(Errno::EPERM)) {
                    Some(errno) => (2u8, errno),
                    None => match label.map(|l| self.write_lsm_attr(proc, "exec", &format!("exec {l}"))) {
                        Some(Err(e)) => (0u8, e.errno_value().unwrap_or(Errno::EINVAL)),
                        _ => match unistd::fexecve(exe, argv, envp) {
                            Err(e) => (1u8, e),
                            Ok(never) => match never {},
                        },
                    },
                };
                let mut report = [0u8; 5];
                report[0] = stage;
                report[1..].copy_from_slice(&(errno as i32).to_ne_bytes());
                let _ = unistd::write(&report_wr, &report);
                // SAFETY: _exit ends the child at once, running no handler
                // or destructor of the parent's state.
                unsafe { libc::_exit(127) }
            }
            unistd::ForkResult::Parent { child } => {
                drop(report_wr);
                let report = self.read_bounded(report_rd.as_fd(), 64).unwrap_or_default();
                let status = loop {
                    match nix::sys::wait::waitpid(child, None) {
                        Err(Errno::EINTR) => continue,
                        other => break other.context(|| format!("wait for {name}"))?,
                    }
                };
                if let Ok([stage, e @ ..]) = <[u8; 5]>::try_from(report.as_slice()) {
                    let errno = Errno::from_raw(i32::from_ne_bytes(e));
                    return Err(match (stage, label) {
                        (0, Some(l)) if errno == Errno::ENOENT => {
                            Error::because(format!("change the AppArmor profile of {name} to {l}"), "the profile is not loaded")
                        }
                        (0, Some(l)) => Error::errno(format!("change the AppArmor profile of {name} to {l}"), errno),
                        (2, _) => Error::errno(format!("give {name} the caller's real ids"), errno),
                        _ => Error::errno(format!("execute {name}"), errno),
                    });
                }
                match status {
                    nix::sys::wait::WaitStatus::Exited(_, code) => Ok(ToolExit::Code(code)),
                    nix::sys::wait::WaitStatus::Signaled(_, sig, _) => Ok(ToolExit::Signal(sig as i32)),
                    other => Err(Error::because(format!("wait for {name}"), format!("unexpected status {other:?}"))),
                }
            }
        }
    }

    fn execve(&self, path: &CStr, argv: &[CString], envp: &[CString]) -> Error {
        match unistd::execve(path, argv, envp) {
            Err(e) => Error::errno(format!("execute {}", String::from_utf8_lossy(path.to_bytes())), e),
            Ok(never) => match never {},
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn run(script: &str, envp: &[&str]) -> Result<ToolExit> {
        let sys = LinuxSys;
        let proc = sys.open_proc().unwrap();
        let exe = nix::fcntl::open("/bin/sh", OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty()).unwrap();
        let argv = ["sh", "-c", script].map(|a| CString::new(a).unwrap());
        let envp: Vec<CString> = envp.iter().map(|e| CString::new(*e).unwrap()).collect();
        sys.run_tool(&proc, exe.as_fd(), "sh", &argv, &envp, None, None)
    }

    #[test]
    fn tools_run_by_descriptor_with_exactly_their_environment() {
        assert_eq!(run("exit 3", &[]).unwrap(), ToolExit::Code(3));
        assert_eq!(run(r#"test "$A" = b && test -z "$HOME" && test "$(env | wc -l)" -le 3"#, &["A=b"]).unwrap(), ToolExit::Code(0));
        assert_eq!(run("kill -9 $$", &[]).unwrap(), ToolExit::Signal(9));
    }

    #[test]
    fn a_failed_exec_is_an_error() {
        let sys = LinuxSys;
        let proc = sys.open_proc().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-executable");
        std::fs::write(&file, b"#!/bin/sh\n").unwrap();
        let exe = nix::fcntl::open(&file, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty()).unwrap();
        let argv = [CString::new("x").unwrap()];
        let e = sys.run_tool(&proc, exe.as_fd(), "x", &argv, &[], None, None).unwrap_err();
        assert_eq!(e.to_string(), "cannot execute x: Permission denied");
    }
}

//! Files and directories: opened by descriptor, never following a symlink
//! the caller did not ask for; reading, writing, renaming, locking.

use crate::error::{Context, Error, Result};
use crate::sys::{EntryKind, FileStat, FsInfo};
use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;
use nix::sys::statfs::fstatfs;
use nix::unistd::{self, Gid, Uid};
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

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

pub(super) fn root() -> Result<OwnedFd> {
    nix::fcntl::open("/", OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
        .context(|| "open /")
}

pub(super) fn openat(dir: BorrowedFd<'_>, name: &OsStr, flags: OFlag, mode: Mode) -> Result<OwnedFd> {
    nix::fcntl::openat(dir, name, flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC, mode)
        .context(|| format!("open {}", name.to_string_lossy()))
}

pub(super) fn mkdirat(dir: BorrowedFd<'_>, name: &OsStr, mode: Mode) -> std::result::Result<(), Errno> {
    nix::sys::stat::mkdirat(dir, name, mode)
}

pub(super) fn fstat(fd: BorrowedFd<'_>) -> Result<FileStat> {
    let st = nix::sys::stat::fstat(fd).context(|| "inspect an open file")?;
    Ok(file_stat(&st))
}

pub(super) fn lstatat(dir: BorrowedFd<'_>, name: &OsStr) -> Result<FileStat> {
    let st = nix::sys::stat::fstatat(dir, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)
        .context(|| format!("inspect {}", name.to_string_lossy()))?;
    Ok(file_stat(&st))
}

pub(super) fn read_bounded(fd: BorrowedFd<'_>, max: usize) -> Result<Vec<u8>> {
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

pub(super) fn open_in_root(dir: BorrowedFd<'_>, rel: &str, flags: OFlag) -> Result<OwnedFd> {
    let rel = if rel.is_empty() { "." } else { rel };
    let how = OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    nix::fcntl::openat2(dir, rel, how).context(|| format!("open {rel}"))
}

pub(super) fn fchown(fd: BorrowedFd<'_>, uid: u32, gid: u32) -> Result<()> {
    unistd::fchown(fd, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid))).context(|| "change an owner")
}

pub(super) fn fchmod(fd: BorrowedFd<'_>, mode: u32) -> Result<()> {
    nix::sys::stat::fchmod(fd, Mode::from_bits_truncate(mode)).context(|| "change a mode")
}

pub(super) fn symlinkat(target: &str, dir: BorrowedFd<'_>, name: &OsStr) -> std::result::Result<(), Errno> {
    unistd::symlinkat(target, dir, name)
}

pub(super) fn unlinkat(dir: BorrowedFd<'_>, name: &OsStr, dir_entry: bool) -> std::result::Result<(), Errno> {
    let flag = if dir_entry { unistd::UnlinkatFlags::RemoveDir } else { unistd::UnlinkatFlags::NoRemoveDir };
    unistd::unlinkat(dir, name, flag)
}

pub(super) fn readlinkat(dir: BorrowedFd<'_>, name: &OsStr) -> Result<OsString> {
    nix::fcntl::readlinkat(dir, name).context(|| format!("read the link {}", name.to_string_lossy()))
}

pub(super) fn read_dir(dir: BorrowedFd<'_>) -> Result<Vec<(OsString, EntryKind)>> {
    let fd = nix::fcntl::openat(dir, ".", OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
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

pub(super) fn write_all(fd: BorrowedFd<'_>, data: &[u8]) -> Result<()> {
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

pub(super) fn renameat(dir: BorrowedFd<'_>, from: &OsStr, to: &OsStr) -> std::result::Result<(), Errno> {
    nix::fcntl::renameat(dir, from, dir, to)
}

pub(super) fn try_lock(fd: BorrowedFd<'_>) -> Result<bool> {
    // SAFETY: flock only operates on the descriptor.
    let r = unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    match Errno::result(r) {
        Ok(_) => Ok(true),
        Err(Errno::EWOULDBLOCK) => Ok(false),
        Err(e) => Err(Error::errno("lock a file", e)),
    }
}

pub(super) fn random_suffix() -> Result<String> {
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

pub(super) fn fs_type(fd: BorrowedFd<'_>) -> Result<i64> {
    let fs = fstatfs(fd).context(|| "inspect a filesystem")?;
    Ok(fs.filesystem_type().0 as i64)
}

pub(super) fn statfs(fd: BorrowedFd<'_>) -> Result<FsInfo> {
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

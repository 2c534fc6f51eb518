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

// openat rather than open here and below: musl's open follows an
// O_CLOEXEC open with an fcntl, for kernels that ignored the flag.
pub(super) fn root() -> Result<OwnedFd> {
    nix::fcntl::openat(nix::fcntl::AT_FDCWD, "/", OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
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
    // The chunk doubles while the reads fill it, up to 64 KiB: a small
    // file takes one read, the ld.so cache a few.
    let mut chunk = vec![0u8; 8192];
    loop {
        let n = match unistd::read(fd, &mut chunk) {
            Err(Errno::EINTR) => continue,
            other => other.context(|| "read a file")?,
        };
        if n == 0 {
            return Ok(buf);
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
        if n == chunk.len() && chunk.len() < 64 * 1024 && buf.len() <= max {
            chunk.resize(chunk.len() * 2, 0);
        }
        if buf.len() > max {
            return Err(Error::because("read a file", format!("it is larger than {max} bytes")));
        }
    }
}

pub(super) fn read_head(fd: BorrowedFd<'_>, max: usize) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; max];
    let mut len = 0;
    while let Some(rest) = buf.get_mut(len..).filter(|r| !r.is_empty()) {
        let offset = libc::off_t::try_from(len).unwrap_or(libc::off_t::MAX);
        let n = match nix::sys::uio::pread(fd, rest, offset) {
            Err(Errno::EINTR) => continue,
            other => other.context(|| "read a file")?,
        };
        if n == 0 {
            break;
        }
        len += n;
    }
    buf.truncate(len);
    Ok(buf)
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

/// Reads a directory with `getdents64` straight into one buffer: one
/// `openat` of `.`, the reads until the end, one `close` (libc's
/// `fdopendir` adds an `fstat`, two `fcntl`s and an `lseek`). The kind of
/// each entry comes from `d_type`; nothing is followed or stat'ed.
pub(super) fn read_dir(dir: BorrowedFd<'_>) -> Result<Vec<(OsString, EntryKind)>> {
    let fd = nix::fcntl::openat(dir, ".", OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
        .context(|| "open a directory")?;
    let mut buf = vec![0u8; 32 * 1024];
    let mut out = Vec::new();
    loop {
        // SAFETY: getdents64 writes at most `buf.len()` bytes into `buf`,
        // which outlives the call; `fd` is an open directory.
        let n = unsafe { libc::syscall(libc::SYS_getdents64, fd.as_raw_fd(), buf.as_mut_ptr(), buf.len()) };
        let n = match Errno::result(n) {
            Err(Errno::EINTR) => continue,
            other => other.context(|| "read a directory")?,
        };
        if n == 0 {
            break;
        }
        parse_dirents(buf.get(..usize::try_from(n).unwrap_or(0)).unwrap_or(&[]), &mut out);
    }
    out.sort();
    Ok(out)
}

/// The entries of a `getdents64` buffer (`struct linux_dirent64`: inode
/// (8 bytes), offset (8), record length (2), type (1), name (NUL ended)),
/// without `.` and `..`. A malformed record ends the buffer.
fn parse_dirents(mut buf: &[u8], out: &mut Vec<(OsString, EntryKind)>) {
    const NAME_AT: usize = 19;
    while let Some(&[lo, hi]) = buf.get(16..18) {
        let reclen = usize::from(u16::from_ne_bytes([lo, hi]));
        let Some(record) = buf.get(..reclen).filter(|_| reclen > NAME_AT) else { return };
        let name = record.get(NAME_AT..).unwrap_or(&[]);
        let name = name.split(|c| *c == 0).next().unwrap_or(&[]);
        if name != b"." && name != b".." && !name.is_empty() {
            let kind = match record.get(18).copied() {
                Some(libc::DT_DIR) => EntryKind::Dir,
                Some(libc::DT_LNK) => EntryKind::Symlink,
                Some(libc::DT_REG) => EntryKind::File,
                _ => EntryKind::Other,
            };
            out.push((OsStr::from_bytes(name).to_os_string(), kind));
        }
        buf = buf.get(reclen..).unwrap_or(&[]);
    }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use std::os::fd::AsFd;

    fn record(name: &[u8], kind: u8) -> Vec<u8> {
        let len = (19 + name.len() + 1).div_ceil(8) * 8;
        let mut r = vec![0u8; len];
        r[16..18].copy_from_slice(&u16::try_from(len).unwrap().to_ne_bytes());
        r[18] = kind;
        r[19..19 + name.len()].copy_from_slice(name);
        r
    }

    #[test]
    fn dirents_are_parsed_without_dot_entries_and_a_bad_record_ends_the_buffer() {
        let mut buf = [record(b".", libc::DT_DIR), record(b"..", libc::DT_DIR), record(b"lib", libc::DT_LNK)].concat();
        buf.extend(record(b"libcuda.so.580.159.04", libc::DT_REG));
        buf.extend(record(b"vdpau", libc::DT_DIR));
        buf.extend(record(b"fifo", libc::DT_FIFO));
        let mut out = Vec::new();
        parse_dirents(&buf, &mut out);
        let kinds: Vec<(&str, EntryKind)> = out.iter().map(|(n, k)| (n.to_str().unwrap(), *k)).collect();
        assert_eq!(
            kinds,
            [("lib", EntryKind::Symlink), ("libcuda.so.580.159.04", EntryKind::File), ("vdpau", EntryKind::Dir), ("fifo", EntryKind::Other)]
        );
        // A record length of zero, or past the end, stops the parse.
        let mut bad = record(b"a", libc::DT_REG);
        bad[16..18].copy_from_slice(&0u16.to_ne_bytes());
        out.clear();
        parse_dirents(&[bad, record(b"b", libc::DT_REG)].concat(), &mut out);
        assert!(out.is_empty());
        let mut long = record(b"c", libc::DT_REG);
        long[16..18].copy_from_slice(&4096u16.to_ne_bytes());
        parse_dirents(&long, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn a_large_directory_reads_as_std_reads_it() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_string_lossy().into_owned();
        for i in 0..1500 {
            std::fs::write(format!("{dir}/file-with-a-long-name-{i:05}"), b"").unwrap();
        }
        std::fs::create_dir(format!("{dir}/sub")).unwrap();
        std::os::unix::fs::symlink("sub", format!("{dir}/link")).unwrap();
        let fd = nix::fcntl::open(dir.as_str(), OFlag::O_PATH | OFlag::O_DIRECTORY, Mode::empty()).unwrap();
        let got = read_dir(fd.as_fd()).unwrap();
        let mut want: Vec<(OsString, EntryKind)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let t = e.file_type().unwrap();
                let kind = if t.is_symlink() { EntryKind::Symlink } else if t.is_dir() { EntryKind::Dir } else { EntryKind::File };
                (e.file_name(), kind)
            })
            .collect();
        want.sort();
        assert_eq!(got.len(), 1502);
        assert_eq!(got, want);
    }
}

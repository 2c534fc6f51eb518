//! A recording [`Sys`] for tests: paths resolve under a temporary root, the
//! process-wide effects (ids, capabilities, seccomp, exec, cwd) are recorded
//! instead of performed, and any call can be made to fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use super::{BpfMapSpec, BpfProgSpec, CapState, EntryKind, FileStat, FsInfo, Ids, LandlockRuleset, NsInfo, Proc, Source, Sys, ToolExit, ToolRun};
use crate::error::{Error, Result};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::signal::{SigSet, Signal};
use nix::sys::stat::Mode;
use nix::unistd::{Gid, Uid};
use policy_cache::Program;
use std::cell::{Cell, RefCell};
use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::Path;
use std::time::Duration;

mod scene;

pub struct FakeSys {
    pub root: tempfile::TempDir,
    calls: RefCell<Vec<String>>,
    failures: RefCell<Vec<(String, Errno)>>,
    /// The ids `ids()` reports; `setresuid`/`setresgid` change them.
    pub ids: Cell<Ids>,
    pub at_secure: bool,
    pub exe: String,
    /// What `attr/current` reads.
    pub lsm_current: String,
    /// What `get_caps` reports at start.
    pub initial_caps: CapState,
    /// `/proc/<rel>` contents and links the fake reports.
    pub proc_files: RefCell<std::collections::HashMap<String, String>>,
    pub proc_links: RefCell<std::collections::HashMap<String, String>>,
    /// What successive reads of `/proc/locks` return, before `proc_files`.
    pub proc_file_reads: RefCell<Vec<String>>,
    /// The root directory (under the fake root) of processes other than
    /// PID 1, for `/proc/<pid>/root`.
    pub proc_roots: RefCell<std::collections::HashMap<i32, String>>,
    /// The ids `mount_ns_id` reports, one per call, in order (none: unsupported).
    pub ns_ids: RefCell<Vec<u64>>,
    /// What `ns_info` reports for any namespace file.
    pub ns_info: Option<NsInfo>,
    /// What `landlock_abi` reports.
    pub landlock_abi: u32,
    /// Owner to trust instead of the test's own uid and gid.
    pub trusted: Option<(u32, u32)>,
    /// Filesystem types to report for paths under the fake root (for
    /// cgroupfs, cgroup2 and bpffs mounts that are not really there).
    pub fs_types: RefCell<std::collections::HashMap<String, i64>>,
    /// Paths under the fake root whose file system `statfs` reports as
    /// mounted read-only (and everything below them): nothing can be made
    /// there (`EROFS`) until a tmpfs is mounted over it.
    pub read_only: RefCell<Vec<String>>,
    /// Where tmpfs mounts were made through the fake (they make what is
    /// below them writable again).
    pub tmpfs_mounts: RefCell<Vec<String>>,
    /// Files under the fake root that `fstat` reports as device nodes:
    /// path to (file type bits, `st_rdev`).
    pub device_nodes: RefCell<std::collections::HashMap<String, (u32, u64)>>,
    /// The eBPF objects made through the fake.
    pub bpf: RefCell<FakeBpf>,
    /// What `memlock_limit` reports; `set_memlock_limit` changes it.
    pub memlock: Cell<(u64, u64)>,
    /// What `groups` reports.
    pub supplementary: RefCell<Vec<Gid>>,
    /// How `run_tool` says the tool ended.
    pub tool_exit: Cell<ToolExit>,
    /// Where each mount (and `pivot_root`) really was, by its descriptor:
    /// the path under the fake root (`/...`), or the outside path.
    pub mounted_at: RefCell<Vec<String>>,
    /// The directories walks found trusted, forgotten as the real
    /// system's are, and whenever a test changes the tree through the
    /// fake's helpers.
    pub walked: crate::fs::Walked,
    /// Every `open_in_root` lookup (kept apart from the calls: a lookup is
    /// not an effect).
    pub lookups: RefCell<Vec<String>>,
    /// The `st_dev` of `/dev/pts` once a mount namespace was joined
    /// (`setns`): a namespace with a devpts instance of its own. `None`:
    /// the same as before, the host's instance.
    pub joined_pts_dev: Cell<Option<u64>>,
    joined: Cell<bool>,
    linux: super::linux::LinuxSys,
}

/// The path a descriptor stands for (`/proc/self/fd/N`).
fn real_path(fd: BorrowedFd<'_>) -> String {
    use std::os::fd::AsRawFd;
    std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default()
}

/// eBPF maps and programs, as far as the fake keeps them.
#[derive(Debug, Default)]
pub struct FakeBpf {
    /// Each map's keys (values are not kept).
    pub maps: Vec<std::collections::BTreeSet<Vec<u8>>>,
    /// Pinned maps: path under the fake root to map index.
    pub pinned: std::collections::HashMap<String, usize>,
    /// Loaded programs, in order.
    pub programs: Vec<BpfProgSpec>,
    /// Attachments: program index and cgroup path under the fake root.
    pub attached: Vec<(usize, String)>,
    /// Open descriptors standing for maps or programs.
    fds: std::collections::HashMap<i32, FakeBpfObject>,
}

#[derive(Debug, Clone, Copy)]
enum FakeBpfObject {
    Map(usize),
    Prog(usize),
}

/// A device map key as text: `c 1:3`, `b 7:*`.
pub fn device_key_text(key: &[u8]) -> String {
    if key.len() != 9 {
        return format!("{key:02x?}");
    }
    let major = u32::from_ne_bytes(key[1..5].try_into().unwrap());
    let minor = u32::from_ne_bytes(key[5..9].try_into().unwrap());
    let minor = if minor == u32::MAX { "*".to_string() } else { minor.to_string() };
    format!("{} {major}:{minor}", char::from(key[0]))
}

/// The uid and gid the fake process runs as: a setuid launch by user 1000.
pub fn setuid_ids() -> Ids {
    Ids {
        ruid: Uid::from_raw(1000),
        euid: Uid::from_raw(0),
        suid: Uid::from_raw(0),
        rgid: Gid::from_raw(1000),
        egid: Gid::from_raw(1000),
        sgid: Gid::from_raw(1000),
    }
}

pub fn cap_names(mask: u64) -> String {
    let mut names: Vec<String> = caps::all()
        .into_iter()
        .filter(|c| mask & c.bitmask() != 0)
        .map(|c| c.to_string().trim_start_matches("CAP_").to_lowercase())
        .collect();
    names.sort();
    if names.is_empty() {
        "-".into()
    } else {
        names.join(",")
    }
}

impl Sys for FakeSys {
    fn at_secure(&self) -> bool {
        self.at_secure
    }
    fn ensure_stdio(&self) -> Result<()> {
        self.rec("ensure_stdio".into())
    }
    fn set_dumpable(&self, dumpable: bool) -> Result<()> {
        self.rec(format!("set_dumpable({dumpable})"))
    }
    fn ids(&self) -> Result<Ids> {
        Ok(self.ids.get())
    }
    fn groups(&self) -> Result<Vec<Gid>> {
        Ok(self.supplementary.borrow().clone())
    }
    fn pid(&self) -> i32 {
        4242
    }
    fn umask(&self, mask: Mode) -> Mode {
        let _ = self.record(format!("umask({:03o})", mask.bits()));
        Mode::from_bits_truncate(0o022)
    }
    fn open_cwd(&self) -> Result<OwnedFd> {
        self.rec("open_cwd".into())?;
        self.root()
    }
    fn chdir_root(&self) -> Result<()> {
        self.rec("chdir(/)".into())
    }
    fn fchdir(&self, dir: BorrowedFd<'_>) -> Result<()> {
        self.rec(format!("fchdir({})", self.fd_path(dir)))
    }
    fn sleep(&self, d: Duration) {
        let _ = self.record(format!("sleep({}s)", d.as_secs()));
    }
    fn block_signals(&self, signals: &[Signal]) -> Result<SigSet> {
        let names: Vec<&str> = signals.iter().map(|s| s.as_str()).collect();
        self.rec(format!("block_signals({})", names.join(",")))?;
        Ok(SigSet::empty())
    }
    fn set_signal_mask(&self, _mask: &SigSet) -> Result<()> {
        self.rec("set_signal_mask".into())
    }
    fn set_signal_ignored(&self, signal: Signal, ignored: bool) -> Result<bool> {
        self.rec(format!("{} {signal}", if ignored { "ignore" } else { "default" }))?;
        Ok(false)
    }
    fn root(&self) -> Result<OwnedFd> {
        nix::fcntl::open(self.root.path(), OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(|e| Error::errno("open the fake root", e))
    }
    fn trusted_owner(&self) -> (u32, u32) {
        self.trusted.unwrap_or((nix::unistd::getuid().as_raw(), nix::unistd::getgid().as_raw()))
    }
    fn walked(&self) -> &crate::fs::Walked {
        &self.walked
    }
    fn openat(&self, dir: BorrowedFd<'_>, name: &OsStr, flags: OFlag, mode: Mode) -> Result<OwnedFd> {
        self.rec(format!("openat({})", name.to_string_lossy()))?;
        if flags.contains(OFlag::O_CREAT) && self.is_read_only(&self.child_path(dir, name)) {
            return Err(Error::errno(format!("open {}", name.to_string_lossy()), Errno::EROFS));
        }
        self.linux.openat(dir, name, flags, mode)
    }
    fn mkdirat(&self, dir: BorrowedFd<'_>, name: &OsStr, mode: Mode) -> std::result::Result<(), Errno> {
        self.record(format!("mkdirat({}, {:04o})", name.to_string_lossy(), mode.bits()))?;
        if self.is_read_only(&self.child_path(dir, name)) {
            // As the kernel: an existing entry says so first.
            return match self.linux.lstatat(dir, name) {
                Ok(_) => Err(Errno::EEXIST),
                Err(_) => Err(Errno::EROFS),
            };
        }
        self.linux.mkdirat(dir, name, mode)
    }
    fn fstat(&self, fd: BorrowedFd<'_>) -> Result<FileStat> {
        let mut st = self.linux.fstat(fd)?;
        // A subtree given a file system type of its own is a device of its own.
        if !self.fs_types.borrow().is_empty() {
            let path = self.fd_path(fd);
            let under = |p: &str| p == "/" || path == p || path.starts_with(&format!("{p}/"));
            if let Some(p) = self.fs_types.borrow().keys().filter(|p| under(p)).max_by_key(|p| p.len()) {
                st.dev = 0x1000 + p.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)) & 0xffff);
            }
        }
        if self.joined.get() && self.fd_path(fd) == "/dev/pts" {
            if let Some(dev) = self.joined_pts_dev.get() {
                st.dev = dev;
            }
        }
        // Only the stand-in regular file itself (a symlink put there later is not a device).
        if let Some((kind, rdev)) = self.device_nodes.borrow().get(&self.fd_path(fd)).filter(|_| st.is_file()) {
            st.mode = (st.mode & 0o7777) | kind;
            st.rdev = *rdev;
        }
        Ok(st)
    }
    fn read_bounded(&self, fd: BorrowedFd<'_>, max: usize) -> Result<Vec<u8>> {
        self.linux.read_bounded(fd, max)
    }
    fn read_head(&self, fd: BorrowedFd<'_>, max: usize) -> Result<Vec<u8>> {
        self.linux.read_head(fd, max)
    }
    fn open_proc(&self) -> Result<Proc> {
        self.rec("open_proc".into())?;
        self.linux.open_proc()
    }
    fn lstat_proc(&self, _proc: &Proc, rel: &str) -> Result<FileStat> {
        // `<pid>/root/...`: PID 1's root is the fake root, other processes'
        // roots are where `proc_roots` says (under the fake root).
        self.rec(format!("lstat_proc({rel})"))?;
        let gone = || Error::errno(format!("inspect /proc/{rel}"), Errno::ENOENT);
        let (pid, path) = rel.split_once("/root/").ok_or_else(gone)?;
        let pid: i32 = pid.parse().map_err(|_| gone())?;
        let dir = match self.proc_roots.borrow().get(&pid) {
            Some(d) => self.root.path().join(d.trim_start_matches('/')),
            None if pid == 1 => self.root.path().to_path_buf(),
            None => return Err(gone()),
        };
        let fd = nix::fcntl::open(&dir, OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(|e| Error::errno(format!("inspect /proc/{rel}"), e))?;
        self.linux.lstatat(std::os::fd::AsFd::as_fd(&fd), OsStr::new(path))
    }
    fn readlink_proc(&self, _proc: &Proc, rel: &str) -> Result<OsString> {
        if rel == format!("{}/exe", self.pid()) {
            return Ok(OsString::from(&self.exe));
        }
        self.rec(format!("readlink_proc({rel})"))?;
        match self.proc_links.borrow().get(rel) {
            Some(v) => Ok(OsString::from(v)),
            None => Err(Error::errno(format!("read the link /proc/{rel}"), Errno::ENOENT)),
        }
    }
    fn read_proc(&self, _proc: &Proc, rel: &str, _max: usize) -> Result<Vec<u8>> {
        if rel == "locks" {
            let mut reads = self.proc_file_reads.borrow_mut();
            if !reads.is_empty() {
                return Ok(reads.remove(0).into_bytes());
            }
        }
        match self.proc_files.borrow().get(rel) {
            Some(v) => Ok(v.clone().into_bytes()),
            None => Err(Error::errno(format!("read /proc/{rel}"), Errno::ENOENT)),
        }
    }
    fn open_ns(&self, _proc: &Proc, pid: Option<i32>, kind: &str) -> Result<OwnedFd> {
        let who = pid.map(|p| p.to_string()).unwrap_or_else(|| "self".into());
        self.rec(format!("open_ns({who}, {kind})"))?;
        self.root()
    }
    fn open_in_root(&self, dir: BorrowedFd<'_>, rel: &str, flags: OFlag) -> Result<OwnedFd> {
        // Not recorded (a lookup), but it can be made to fail, as a lookup
        // by a caller without search permission on the way would.
        self.lookups.borrow_mut().push(rel.to_string());
        if let Some(e) = self.injected(&format!("open_in_root({rel})")) {
            return Err(Error::errno(format!("open {rel} (injected)"), e));
        }
        match self.linux.open_in_root(dir, rel, flags) {
            // Mounts are not performed, so a mount target inside something
            // that would have been mounted does not exist under the fake
            // root: stand in an empty directory for it.
            Err(e) if e.errno_value() == Some(Errno::ENOENT) && flags.contains(OFlag::O_PATH) => {
                let phantom = self.root.path().join(".phantom");
                let _ = std::fs::create_dir_all(&phantom);
                nix::fcntl::open(&phantom, OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
                    .map_err(|e| Error::errno("open the phantom directory", e))
            }
            other => other,
        }
    }
    fn fchown(&self, _fd: BorrowedFd<'_>, uid: u32, gid: u32) -> Result<()> {
        self.walked.forget();
        self.rec(format!("fchown({uid},{gid})"))
    }
    fn fchmod(&self, fd: BorrowedFd<'_>, mode: u32) -> Result<()> {
        self.walked.forget();
        self.rec(format!("fchmod({mode:04o})"))?;
        self.linux.fchmod(fd, mode)
    }
    fn symlinkat(&self, target: &str, dir: BorrowedFd<'_>, name: &OsStr) -> std::result::Result<(), Errno> {
        self.record(format!("symlinkat({target}, {})", name.to_string_lossy()))?;
        if self.is_read_only(&self.child_path(dir, name)) {
            return Err(Errno::EROFS);
        }
        self.linux.symlinkat(target, dir, name)
    }
    fn unlinkat(&self, dir: BorrowedFd<'_>, name: &OsStr, dir_entry: bool) -> std::result::Result<(), Errno> {
        self.walked.forget();
        self.record(format!("unlinkat({}{})", name.to_string_lossy(), if dir_entry { ", dir" } else { "" }))?;
        // What a real mount would have put there may be missing here.
        match self.linux.unlinkat(dir, name, dir_entry) {
            Err(Errno::ENOENT) => Ok(()),
            other => other,
        }
    }
    fn readlinkat(&self, dir: BorrowedFd<'_>, name: &OsStr) -> Result<OsString> {
        self.rec(format!("readlinkat({})", name.to_string_lossy()))?;
        self.linux.readlinkat(dir, name)
    }
    fn lstatat(&self, dir: BorrowedFd<'_>, name: &OsStr) -> Result<FileStat> {
        self.linux.lstatat(dir, name)
    }
    fn read_dir(&self, dir: BorrowedFd<'_>) -> Result<Vec<(OsString, EntryKind)>> {
        self.linux.read_dir(dir)
    }
    fn write_all(&self, fd: BorrowedFd<'_>, data: &[u8]) -> Result<()> {
        self.rec(format!("write({})", String::from_utf8_lossy(data).trim_end()))?;
        self.linux.write_all(fd, data)
    }
    fn renameat(&self, dir: BorrowedFd<'_>, from: &OsStr, to: &OsStr) -> std::result::Result<(), Errno> {
        self.walked.forget();
        self.record(format!("renameat({}, {})", from.to_string_lossy(), to.to_string_lossy()))?;
        self.linux.renameat(dir, from, to)
    }
    fn try_lock(&self, fd: BorrowedFd<'_>) -> Result<bool> {
        self.rec("try_lock".into())?;
        self.linux.try_lock(fd)
    }
    fn random_suffix(&self) -> Result<String> {
        Ok("XXXXXX".into())
    }
    fn fs_type(&self, fd: BorrowedFd<'_>) -> Result<i64> {
        if let Some(magic) = self.fs_types.borrow().get(&self.fd_path(fd)) {
            return Ok(*magic);
        }
        // With `ns_info` set, files named *.mnt pass for preserved namespaces.
        let path = std::fs::read_link(format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd)));
        if self.ns_info.is_some() && path.is_ok_and(|p| p.to_string_lossy().ends_with(".mnt")) {
            return Ok(0x6e73_6673);
        }
        self.linux.fs_type(fd)
    }
    fn statfs(&self, fd: BorrowedFd<'_>) -> Result<FsInfo> {
        let path = self.fd_path(fd);
        let under = |p: &str| p == "/" || path == p || path.starts_with(&format!("{p}/"));
        let magic = self.fs_types.borrow().iter().filter(|(p, _)| under(p)).max_by_key(|(p, _)| p.len()).map(|(_, m)| *m);
        let magic = match magic {
            Some(m) => m,
            None => self.linux.fs_type(fd)?,
        };
        let read_only = self.is_read_only(&path);
        Ok(FsInfo { magic, read_only, nosuid: false, nodev: false, noexec: false })
    }
    fn mount(
        &self,
        source: Source<'_>,
        target_fd: BorrowedFd<'_>,
        target: &str,
        fstype: Option<&str>,
        flags: nix::mount::MsFlags,
        data: Option<&str>,
    ) -> std::result::Result<(), Errno> {
        self.walked.forget();
        let source = match source {
            Source::None => "-".to_string(),
            Source::Path(p) => p.to_string(),
            Source::Fd(_) => "fd".to_string(),
        };
        let tmpfs = fstype == Some("tmpfs") && !flags.contains(nix::mount::MsFlags::MS_REMOUNT);
        let at = real_path(target_fd);
        let root = self.root.path().to_string_lossy().into_owned();
        self.mounted_at.borrow_mut().push(at.strip_prefix(&root).map(str::to_string).unwrap_or(at));
        let names: Vec<&str> = flags.iter_names().map(|(n, _)| n).collect();
        let flags = if names.is_empty() { "0".to_string() } else { names.join("|") };
        self.record(format!("mount({source}, {target}, {}, {flags}, {})", fstype.unwrap_or("-"), data.unwrap_or("-")))?;
        // A tmpfs makes what is below it writable (and a file system of its own).
        let at = self.fd_path(target_fd);
        if tmpfs && at != "/.phantom" {
            self.tmpfs_mounts.borrow_mut().push(at.clone());
            self.fs_types.borrow_mut().insert(at, 0x0102_1994);
        }
        Ok(())
    }
    fn umount(&self, target: &str, lazy: bool) -> std::result::Result<(), Errno> {
        self.walked.forget();
        self.record(format!("umount({target}{})", if lazy { ", lazy" } else { "" }))
    }
    fn umount_fd(&self, target: BorrowedFd<'_>, target_path: &str, lazy: bool) -> std::result::Result<(), Errno> {
        self.walked.forget();
        self.record(format!("umount({target_path}{})", if lazy { ", lazy" } else { "" }))?;
        // A tmpfs mounted through the fake goes away.
        let at = self.fd_path(target);
        let mut mounts = self.tmpfs_mounts.borrow_mut();
        if let Some(i) = mounts.iter().rposition(|m| *m == at) {
            mounts.remove(i);
            if !mounts.contains(&at) {
                self.fs_types.borrow_mut().remove(&at);
            }
        }
        Ok(())
    }
    fn pivot_root(&self, new_root: BorrowedFd<'_>, put_old: BorrowedFd<'_>, paths: (&str, &str)) -> std::result::Result<(), Errno> {
        self.walked.forget();
        self.record(format!("pivot_root({}, {})", paths.0, paths.1))?;
        let root = self.root.path().to_string_lossy().into_owned();
        for fd in [new_root, put_old] {
            let at = real_path(fd);
            self.mounted_at.borrow_mut().push(at.strip_prefix(&root).map(str::to_string).unwrap_or(at));
        }
        Ok(())
    }
    fn unshare_mount_ns(&self) -> Result<()> {
        self.walked.forget();
        self.rec("unshare(CLONE_NEWNS)".into())
    }
    fn setns_mount(&self, _ns: BorrowedFd<'_>) -> Result<()> {
        self.walked.forget();
        self.joined.set(true);
        self.rec("setns(CLONE_NEWNS)".into())
    }
    fn mount_ns_id(&self, _fd: BorrowedFd<'_>) -> Result<Option<u64>> {
        let mut ids = self.ns_ids.borrow_mut();
        Ok(if ids.is_empty() { None } else { Some(ids.remove(0)) })
    }
    fn cpu_affinity(&self) -> Result<Vec<usize>> {
        Ok(vec![0, 1])
    }
    fn set_cpu_affinity(&self, cpus: &[usize]) -> Result<()> {
        self.rec(format!("set_cpu_affinity({cpus:?})"))
    }
    fn ns_info(&self, _fd: BorrowedFd<'_>) -> Result<NsInfo> {
        self.ns_info.ok_or_else(|| Error::because("use a namespace file", "it is not on nsfs"))
    }
    fn read_lsm_attr(&self, _proc: &Proc, name: &str) -> Result<String> {
        self.rec(format!("read_lsm_attr({name})"))?;
        Ok(self.lsm_current.clone())
    }
    fn write_lsm_attr(&self, _proc: &Proc, name: &str, value: &str) -> Result<()> {
        self.rec(format!("write_lsm_attr({name}, {value})"))
    }
    fn get_caps(&self) -> Result<CapState> {
        Ok(self.initial_caps)
    }
    fn landlock_abi(&self) -> u32 {
        self.landlock_abi
    }
    fn landlock_restrict(&self, r: &LandlockRuleset) -> Result<()> {
        self.walked.forget();
        self.rec(format!(
            "landlock_restrict(abi {}, fs {:#x}, {} rules, net {:#x}, {} ports, scopes {:#x})",
            r.abi,
            r.handled_fs,
            r.rules.len(),
            r.handled_net,
            r.net_rules.len(),
            r.scopes
        ))
    }
    fn set_caps(&self, c: CapState) -> Result<()> {
        self.walked.forget();
        self.rec(format!(
            "set_caps(e={} p={} i={})",
            cap_names(c.effective),
            cap_names(c.permitted),
            cap_names(c.inheritable)
        ))
    }
    fn clear_ambient_caps(&self) -> Result<()> {
        self.walked.forget();
        self.rec("clear_ambient_caps".into())
    }
    fn set_keep_caps(&self, keep: bool) -> Result<()> {
        self.rec(format!("set_keep_caps({keep})"))
    }
    fn setresgid(&self, r: Gid, e: Gid, s: Gid) -> Result<()> {
        self.walked.forget();
        self.rec(format!("setresgid({r},{e},{s})"))?;
        self.ids.set(Ids { rgid: r, egid: e, sgid: s, ..self.ids.get() });
        Ok(())
    }
    fn setresuid(&self, r: Uid, e: Uid, s: Uid) -> Result<()> {
        self.walked.forget();
        self.rec(format!("setresuid({r},{e},{s})"))?;
        self.ids.set(Ids { ruid: r, euid: e, suid: s, ..self.ids.get() });
        Ok(())
    }
    fn set_fs_ids(&self, uid: Uid, gid: Gid) -> Result<()> {
        self.walked.forget();
        self.rec(format!("set_fs_ids({uid},{gid})"))
    }
    fn set_no_new_privs(&self) -> Result<()> {
        self.rec("set_no_new_privs".into())
    }
    fn bpf_map_create(&self, spec: &BpfMapSpec) -> Result<OwnedFd> {
        self.rec(format!(
            "bpf_map_create(type {}, key {}, value {}, max {}, {})",
            spec.map_type, spec.key_size, spec.value_size, spec.max_entries, spec.name
        ))?;
        let index = {
            let mut bpf = self.bpf.borrow_mut();
            bpf.maps.push(Default::default());
            bpf.maps.len() - 1
        };
        self.bpf_handle(FakeBpfObject::Map(index))
    }
    fn bpf_obj_pin(&self, obj: BorrowedFd<'_>, dir: BorrowedFd<'_>, name: &str) -> std::result::Result<(), Errno> {
        let path = format!("{}/{name}", self.fd_path(dir));
        self.record(format!("bpf_obj_pin({path})"))?;
        let index = self.bpf_map_of(obj);
        let mut bpf = self.bpf.borrow_mut();
        if bpf.pinned.contains_key(&path) {
            return Err(Errno::EEXIST);
        }
        bpf.pinned.insert(path.clone(), index);
        drop(bpf);
        // The pinned file, so that it can be inspected like the real one.
        std::fs::write(self.path(&path), b"").unwrap();
        Ok(())
    }
    fn bpf_obj_get(&self, dir: BorrowedFd<'_>, name: &str) -> std::result::Result<OwnedFd, Errno> {
        let path = format!("{}/{name}", self.fd_path(dir));
        self.record(format!("bpf_obj_get({path})"))?;
        let index = self.bpf.borrow().pinned.get(&path).copied().ok_or(Errno::ENOENT)?;
        self.bpf_handle(FakeBpfObject::Map(index)).map_err(|_| Errno::EBADF)
    }
    fn bpf_map_update(&self, map: BorrowedFd<'_>, key: &[u8], value: &[u8]) -> Result<()> {
        self.rec(format!("bpf_map_update({}, {value:?})", device_key_text(key)))?;
        let index = self.bpf_map_of(map);
        self.bpf.borrow_mut().maps[index].insert(key.to_vec());
        Ok(())
    }
    fn bpf_map_delete(&self, map: BorrowedFd<'_>, key: &[u8]) -> std::result::Result<(), Errno> {
        self.record(format!("bpf_map_delete({})", device_key_text(key)))?;
        let index = self.bpf_map_of(map);
        if self.bpf.borrow_mut().maps[index].remove(key) {
            Ok(())
        } else {
            Err(Errno::ENOENT)
        }
    }
    fn bpf_map_next_key(&self, map: BorrowedFd<'_>, key: Option<&[u8]>, _key_size: usize) -> Result<Option<Vec<u8>>> {
        self.rec(format!("bpf_map_next_key({})", key.map(device_key_text).unwrap_or_else(|| "-".into())))?;
        let index = self.bpf_map_of(map);
        let bpf = self.bpf.borrow();
        let keys = &bpf.maps[index];
        Ok(match key {
            None => keys.iter().next().cloned(),
            Some(k) => keys.range::<[u8], _>((std::ops::Bound::Excluded(k), std::ops::Bound::Unbounded)).next().cloned(),
        })
    }
    fn bpf_prog_load(&self, spec: &BpfProgSpec) -> Result<OwnedFd> {
        self.rec(format!(
            "bpf_prog_load(type {}, {} instructions, {}, {})",
            spec.prog_type,
            spec.insns.len(),
            spec.license,
            spec.name
        ))?;
        let index = {
            let mut bpf = self.bpf.borrow_mut();
            bpf.programs.push(spec.clone());
            bpf.programs.len() - 1
        };
        self.bpf_handle(FakeBpfObject::Prog(index))
    }
    fn bpf_prog_attach_device(&self, prog: BorrowedFd<'_>, cgroup: BorrowedFd<'_>) -> Result<()> {
        let path = self.fd_path(cgroup);
        self.rec(format!("bpf_prog_attach_device({path})"))?;
        let index = match self.bpf.borrow().fds.get(&std::os::fd::AsRawFd::as_raw_fd(&prog)) {
            Some(FakeBpfObject::Prog(i)) => *i,
            other => panic!("not a program descriptor: {other:?}"),
        };
        self.bpf.borrow_mut().attached.push((index, path));
        Ok(())
    }
    fn memlock_limit(&self) -> Result<(u64, u64)> {
        Ok(self.memlock.get())
    }
    fn set_memlock_limit(&self, soft: u64, hard: u64) -> std::result::Result<(), Errno> {
        self.record(format!("set_memlock_limit({soft}, {hard})"))?;
        self.memlock.set((soft, hard));
        Ok(())
    }
    fn load_seccomp(&self, program: &Program) -> Result<()> {
        self.walked.forget();
        self.rec(format!("load_seccomp({} instructions)", program.instructions().len()))
    }
    fn run_tool(&self, _proc: &Proc, run: &ToolRun<'_>) -> Result<ToolExit> {
        self.walked.forget();
        let words = |v: &[CString]| v.iter().map(|a| a.to_string_lossy().into_owned()).collect::<Vec<_>>().join(" ");
        let real = run.real_ids.map(|(u, g)| format!(", real ids {u}:{g}")).unwrap_or_default();
        let (exe, argv, envp) = (self.fd_path(run.exe), words(run.argv), words(run.envp));
        self.rec(format!("run_tool({exe}, [{argv}], [{envp}], {}{real})", run.label.unwrap_or("-")))?;
        Ok(self.tool_exit.get())
    }
    fn execve(&self, path: &CStr, argv: &[CString], _envp: &[CString]) -> Error {
        let args: Vec<String> = argv.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        let call = format!("execve({}, [{}])", path.to_string_lossy(), args.join(", "));
        match self.record(call.clone()) {
            Err(e) => Error::errno(format!("execute {}", path.to_string_lossy()), e),
            Ok(()) => Error::new(format!("{call} (recorded by the test)")),
        }
    }
}

//! Every side effect of the launcher goes through the [`Sys`] trait.
//!
//! [`linux::LinuxSys`] is the real implementation and the only place with
//! `unsafe` code. The test implementation (`fake::FakeSys`) records the calls
//! in order, can fail any of them, and resolves paths under a temporary root,
//! so the launcher's logic and its order of operations are testable without
//! root.

pub mod linux;

#[cfg(test)]
pub mod fake;

use crate::error::{Error, Result};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::signal::{SigSet, Signal};
use nix::sys::stat::Mode;
use nix::unistd::{Gid, Uid};
use policy_cache::Program;
use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::fd::{BorrowedFd, OwnedFd};
use std::time::Duration;

/// Real, effective and saved user and group ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ids {
    pub ruid: Uid,
    pub euid: Uid,
    pub suid: Uid,
    pub rgid: Gid,
    pub egid: Gid,
    pub sgid: Gid,
}

impl Ids {
    /// The caller's own identity on all three ids.
    pub fn caller(&self) -> Ids {
        Ids { ruid: self.ruid, euid: self.ruid, suid: self.ruid, rgid: self.rgid, egid: self.rgid, sgid: self.rgid }
    }
}

/// The parts of `struct stat` the launcher looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStat {
    pub uid: u32,
    pub gid: u32,
    /// File type and permission bits (`st_mode`).
    pub mode: u32,
    pub size: u64,
    pub dev: u64,
    pub ino: u64,
    /// The device a character or block special file stands for (`st_rdev`).
    pub rdev: u64,
}

impl FileStat {
    pub fn is_dir_type(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFDIR
    }
    pub fn is_file(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFREG
    }
    /// Permission bits only.
    pub fn perms(&self) -> u32 {
        self.mode & 0o7777
    }
    pub fn is_char_device(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFCHR
    }
}

/// One eBPF instruction, as the kernel reads it (`struct bpf_insn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BpfInsn {
    pub code: u8,
    /// Destination register (0 to 10).
    pub dst: u8,
    /// Source register (0 to 10), or a pseudo source such as a map descriptor.
    pub src: u8,
    pub off: i16,
    pub imm: i32,
}

/// What `BPF_MAP_CREATE` is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BpfMapSpec {
    /// `BPF_MAP_TYPE_*`.
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    /// The object name shown by tools (at most 15 bytes).
    pub name: String,
}

/// What `BPF_PROG_LOAD` is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BpfProgSpec {
    /// `BPF_PROG_TYPE_*`.
    pub prog_type: u32,
    pub insns: Vec<BpfInsn>,
    pub license: String,
    /// The object name shown by tools (at most 15 bytes).
    pub name: String,
}

/// The three capability sets, as bit masks (bit n = capability n).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CapState {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
}

/// A directory handle on a procfs root that was checked to be procfs.
#[derive(Debug)]
pub struct Proc(pub OwnedFd);

/// What the kernel says about a namespace file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NsInfo {
    /// `CLONE_NEW*` type of the namespace.
    pub nstype: i32,
    /// Inode of the user namespace that owns it.
    pub userns_ino: u64,
}

/// A Landlock ruleset ready for the kernel: the handled rights (already
/// limited to the kernel's ABI), path rules (`F`: an `O_PATH` descriptor,
/// or a path in tests), TCP port rules and scopes (uapi bit values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LandlockRuleset<F = OwnedFd> {
    pub abi: u32,
    pub handled_fs: u64,
    pub rules: Vec<(F, u64)>,
    pub handled_net: u64,
    pub net_rules: Vec<(u16, u64)>,
    pub scopes: u64,
}

impl<F> LandlockRuleset<F> {
    /// The same ruleset with other handles for its path rules.
    pub fn with_rules<G>(&self, rules: Vec<(G, u64)>) -> LandlockRuleset<G> {
        LandlockRuleset {
            abi: self.abi,
            handled_fs: self.handled_fs,
            rules,
            handled_net: self.handled_net,
            net_rules: self.net_rules.clone(),
            scopes: self.scopes,
        }
    }
}

/// What `fstatfs` says about the file system holding a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FsInfo {
    /// `f_type`.
    pub magic: i64,
    /// Mounted read-only (`ST_RDONLY` in `f_flags`).
    pub read_only: bool,
    /// The mount's `nosuid`, `nodev` and `noexec` flags.
    pub nosuid: bool,
    pub nodev: bool,
    pub noexec: bool,
}

/// The kind of a directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntryKind {
    Dir,
    Symlink,
    File,
    Other,
}

/// How a helper tool ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolExit {
    /// It exited with this status.
    Code(i32),
    /// A signal killed it.
    Signal(i32),
}

/// A helper tool to run (see [`Sys::run_tool`]).
#[derive(Debug, Clone, Copy)]
pub struct ToolRun<'a> {
    /// The executable, an `O_PATH` descriptor.
    pub exe: BorrowedFd<'a>,
    /// Its name, for messages.
    pub name: &'a str,
    pub argv: &'a [CString],
    /// Exactly its environment.
    pub envp: &'a [CString],
    /// The AppArmor profile it is executed under, if any.
    pub label: Option<&'a str>,
    /// Its real user and group ids (the effective and saved ones stay).
    pub real_ids: Option<(Uid, Gid)>,
}

/// Where a mount comes from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// No source (propagation changes, remounts).
    None,
    /// A path, or a name such as `tmpfs` or `devpts`.
    Path(&'a str),
    /// An open file (a bind of exactly what the descriptor refers to).
    Fd(BorrowedFd<'a>),
}

/// Side effects of the launcher. Methods map one to one onto system calls or
/// small fixed sequences of them.
pub trait Sys {
    // Process state.
    /// `getauxval(AT_SECURE)`: whether the kernel started us in secure mode.
    fn at_secure(&self) -> bool;
    /// Makes sure descriptors 0, 1 and 2 are open, on `/dev/null` if not.
    fn ensure_stdio(&self) -> Result<()>;
    fn set_dumpable(&self, dumpable: bool) -> Result<()>;
    fn ids(&self) -> Result<Ids>;
    /// The supplementary groups (`getgroups`).
    fn groups(&self) -> Result<Vec<Gid>>;
    fn pid(&self) -> i32;
    fn umask(&self, mask: Mode) -> Mode;
    /// Opens the current working directory (`O_PATH`).
    fn open_cwd(&self) -> Result<OwnedFd>;
    fn chdir_root(&self) -> Result<()>;
    fn fchdir(&self, dir: BorrowedFd<'_>) -> Result<()>;
    fn sleep(&self, d: Duration);
    /// `sigprocmask(SIG_BLOCK, signals)`: returns the mask as it was.
    fn block_signals(&self, signals: &[Signal]) -> Result<SigSet>;
    /// `sigprocmask(SIG_SETMASK, mask)`.
    fn set_signal_mask(&self, mask: &SigSet) -> Result<()>;
    /// `sigaction(signal, SIG_IGN or SIG_DFL)`: returns whether it was ignored.
    fn set_signal_ignored(&self, signal: Signal, ignored: bool) -> Result<bool>;

    // Files, always relative to a directory handle.
    /// The directory all absolute paths are resolved from (`/`).
    fn root(&self) -> Result<OwnedFd>;
    /// The owner files must have to be trusted (root:root).
    fn trusted_owner(&self) -> (u32, u32);
    /// The directories walks found trusted ([`crate::fs::Walked`]); the
    /// implementation forgets them whenever what a path names may change.
    fn walked(&self) -> &crate::fs::Walked;
    /// `openat(dir, name, flags | O_NOFOLLOW | O_CLOEXEC, mode)`; `name` is
    /// a single component.
    fn openat(&self, dir: BorrowedFd<'_>, name: &OsStr, flags: OFlag, mode: Mode) -> Result<OwnedFd>;
    fn mkdirat(&self, dir: BorrowedFd<'_>, name: &OsStr, mode: Mode) -> std::result::Result<(), Errno>;
    fn fstat(&self, fd: BorrowedFd<'_>) -> Result<FileStat>;
    /// Reads the whole file, failing when it holds more than `max` bytes.
    fn read_bounded(&self, fd: BorrowedFd<'_>, max: usize) -> Result<Vec<u8>>;
    /// Reads the first `max` bytes of the file (fewer if it is shorter),
    /// from its start whatever the descriptor's offset (`pread`).
    fn read_head(&self, fd: BorrowedFd<'_>, max: usize) -> Result<Vec<u8>>;

    // procfs.
    /// Opens `/proc`, checking that it is the root of a procfs.
    fn open_proc(&self) -> Result<Proc>;
    /// Reads `/proc/<pid>/attr/apparmor/<name>` (or `attr/<name>`).
    fn read_lsm_attr(&self, proc: &Proc, name: &str) -> Result<String>;
    /// Writes `/proc/<pid>/attr/apparmor/<name>` (or `attr/<name>`) in one write.
    fn write_lsm_attr(&self, proc: &Proc, name: &str, value: &str) -> Result<()>;

    /// Opens `rel` with `dir` as the root of the resolution: symlinks are
    /// followed but cannot leave `dir`, magic links are refused, and the
    /// last component is not followed. Used for mount targets.
    fn open_in_root(&self, dir: BorrowedFd<'_>, rel: &str, flags: OFlag) -> Result<OwnedFd>;
    fn fchown(&self, fd: BorrowedFd<'_>, uid: u32, gid: u32) -> Result<()>;
    fn fchmod(&self, fd: BorrowedFd<'_>, mode: u32) -> Result<()>;
    fn symlinkat(&self, target: &str, dir: BorrowedFd<'_>, name: &OsStr) -> std::result::Result<(), Errno>;
    /// `unlinkat`, with `AT_REMOVEDIR` when `dir_entry`.
    fn unlinkat(&self, dir: BorrowedFd<'_>, name: &OsStr, dir_entry: bool) -> std::result::Result<(), Errno>;
    fn readlinkat(&self, dir: BorrowedFd<'_>, name: &OsStr) -> Result<OsString>;
    /// `fstatat(dir, name, AT_SYMLINK_NOFOLLOW)`: what `name` is, not followed.
    fn lstatat(&self, dir: BorrowedFd<'_>, name: &OsStr) -> Result<FileStat>;
    /// The entries of a directory, without `.` and `..`.
    fn read_dir(&self, dir: BorrowedFd<'_>) -> Result<Vec<(OsString, EntryKind)>>;
    fn write_all(&self, fd: BorrowedFd<'_>, data: &[u8]) -> Result<()>;
    /// `renameat(dir, from, dir, to)`: replaces `to` atomically.
    fn renameat(&self, dir: BorrowedFd<'_>, from: &OsStr, to: &OsStr) -> std::result::Result<(), Errno>;
    /// `flock(LOCK_EX | LOCK_NB)`: true when the lock was taken.
    fn try_lock(&self, fd: BorrowedFd<'_>) -> Result<bool>;
    /// A random name suffix (for temporary directories).
    fn random_suffix(&self) -> Result<String>;
    /// The `f_type` of the filesystem holding `fd`.
    fn fs_type(&self, fd: BorrowedFd<'_>) -> Result<i64>;
    /// The type and read-only flag of the filesystem holding `fd`.
    fn statfs(&self, fd: BorrowedFd<'_>) -> Result<FsInfo>;

    // Mounts and namespaces.
    /// Mounts onto the open `target`; `target_path` is the path it was
    /// opened at, for messages.
    fn mount(
        &self,
        source: Source<'_>,
        target: BorrowedFd<'_>,
        target_path: &str,
        fstype: Option<&str>,
        flags: nix::mount::MsFlags,
        data: Option<&str>,
    ) -> std::result::Result<(), Errno>;
    /// `umount2(target, UMOUNT_NOFOLLOW [| MNT_DETACH])` by path.
    fn umount(&self, target: &str, lazy: bool) -> std::result::Result<(), Errno>;
    /// Unmounts the mount whose root the open `target` is (through its
    /// descriptor, so no path is resolved again); `target_path` is the
    /// path it was opened at, for messages. `[MNT_DETACH]`.
    fn umount_fd(&self, target: BorrowedFd<'_>, target_path: &str, lazy: bool) -> std::result::Result<(), Errno>;
    /// `pivot_root` to the open directories `new_root` and `put_old`
    /// (found by descriptor, so no path is resolved again); the paths are
    /// for messages.
    fn pivot_root(&self, new_root: BorrowedFd<'_>, put_old: BorrowedFd<'_>, paths: (&str, &str)) -> std::result::Result<(), Errno>;
    fn unshare_mount_ns(&self) -> Result<()>;
    fn setns_mount(&self, ns: BorrowedFd<'_>) -> Result<()>;
    fn ns_info(&self, fd: BorrowedFd<'_>) -> Result<NsInfo>;
    /// The 64-bit id of a mount namespace (`NS_GET_MNTNS_ID`), or `None`
    /// where the kernel does not have it.
    fn mount_ns_id(&self, fd: BorrowedFd<'_>) -> Result<Option<u64>>;
    /// The CPUs this process may run on.
    fn cpu_affinity(&self) -> Result<Vec<usize>>;
    fn set_cpu_affinity(&self, cpus: &[usize]) -> Result<()>;
    /// Opens `/proc/<pid or self>/ns/<kind>` (the namespace itself).
    fn open_ns(&self, proc: &Proc, pid: Option<i32>, kind: &str) -> Result<OwnedFd>;
    /// `readlink /proc/<rel>`.
    fn readlink_proc(&self, proc: &Proc, rel: &str) -> Result<OsString>;
    /// `fstatat(/proc, rel, AT_SYMLINK_NOFOLLOW)`, e.g. a host file through
    /// `1/root/...`.
    fn lstat_proc(&self, proc: &Proc, rel: &str) -> Result<FileStat>;
    /// Reads `/proc/<rel>` (at most `max` bytes).
    fn read_proc(&self, proc: &Proc, rel: &str, max: usize) -> Result<Vec<u8>>;

    // Landlock.
    /// The kernel's Landlock ABI version, 0 without Landlock.
    fn landlock_abi(&self) -> u32;
    /// Restricts this process (and what it executes) with `ruleset`,
    /// without setting `no_new_privs` (`CAP_SYS_ADMIN` must be effective).
    fn landlock_restrict(&self, ruleset: &LandlockRuleset) -> Result<()>;

    // Privileges.
    fn get_caps(&self) -> Result<CapState>;
    fn set_caps(&self, caps: CapState) -> Result<()>;
    fn clear_ambient_caps(&self) -> Result<()>;
    fn set_keep_caps(&self, keep: bool) -> Result<()>;
    fn setresgid(&self, r: Gid, e: Gid, s: Gid) -> Result<()>;
    fn setresuid(&self, r: Uid, e: Uid, s: Uid) -> Result<()>;
    /// `setfsgid(gid)` then `setfsuid(uid)`, each checked: the ids the
    /// kernel checks file access with, and gives to what is created.
    fn set_fs_ids(&self, uid: Uid, gid: Gid) -> Result<()>;
    /// `prctl(PR_SET_NO_NEW_PRIVS, 1)`.
    fn set_no_new_privs(&self) -> Result<()>;

    // Device cgroup (cgroup v2: eBPF). Pinned objects are named by a
    // directory handle and a single component.
    /// `BPF_MAP_CREATE`.
    fn bpf_map_create(&self, spec: &BpfMapSpec) -> Result<OwnedFd>;
    /// `BPF_OBJ_PIN`: pins `obj` as `name` in the bpffs directory `dir`.
    fn bpf_obj_pin(&self, obj: BorrowedFd<'_>, dir: BorrowedFd<'_>, name: &str) -> std::result::Result<(), Errno>;
    /// `BPF_OBJ_GET`: opens the object pinned as `name` in `dir`.
    fn bpf_obj_get(&self, dir: BorrowedFd<'_>, name: &str) -> std::result::Result<OwnedFd, Errno>;
    /// `BPF_MAP_UPDATE_ELEM` with `BPF_ANY`.
    fn bpf_map_update(&self, map: BorrowedFd<'_>, key: &[u8], value: &[u8]) -> Result<()>;
    /// `BPF_MAP_DELETE_ELEM`.
    fn bpf_map_delete(&self, map: BorrowedFd<'_>, key: &[u8]) -> std::result::Result<(), Errno>;
    /// `BPF_MAP_GET_NEXT_KEY`: the key after `key` (the first one for
    /// `None`), or `None` after the last; keys are `key_size` bytes.
    fn bpf_map_next_key(&self, map: BorrowedFd<'_>, key: Option<&[u8]>, key_size: usize) -> Result<Option<Vec<u8>>>;
    /// `BPF_PROG_LOAD`; on failure the load is retried with a verifier log,
    /// which the error carries.
    fn bpf_prog_load(&self, spec: &BpfProgSpec) -> Result<OwnedFd>;
    /// `BPF_PROG_ATTACH` of a device program to the cgroup v2 directory
    /// `cgroup` (`BPF_CGROUP_DEVICE`, no flags: not overridable below).
    fn bpf_prog_attach_device(&self, prog: BorrowedFd<'_>, cgroup: BorrowedFd<'_>) -> Result<()>;
    /// `getrlimit(RLIMIT_MEMLOCK)`: soft and hard limits.
    fn memlock_limit(&self) -> Result<(u64, u64)>;
    /// `setrlimit(RLIMIT_MEMLOCK)`.
    fn set_memlock_limit(&self, soft: u64, hard: u64) -> std::result::Result<(), Errno>;

    // Helper tools.
    /// Runs `run.exe` in a child process with exactly `run.argv` and
    /// `run.envp`, after the child asked for the AppArmor profile
    /// `run.label` at its exec, and waits for it. A failure in the child
    /// before the exec is reported as an error; everything after, by the
    /// exit status. With `run.real_ids` the child's real user and group
    /// ids become those before the exec.
    fn run_tool(&self, proc: &Proc, run: &ToolRun<'_>) -> Result<ToolExit>;

    // The end.
    /// Loads one seccomp program (no `PR_SET_NO_NEW_PRIVS`: the caller holds
    /// `CAP_SYS_ADMIN`).
    fn load_seccomp(&self, program: &Program) -> Result<()>;
    /// `execve`; returns only on failure.
    fn execve(&self, path: &CStr, argv: &[CString], envp: &[CString]) -> Error;
}

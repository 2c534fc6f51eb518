//! The real system calls. This is the only module of the launcher with
//! `unsafe` code; each block says why it is sound.
//!
//! [`LinuxSys`] implements [`Sys`] by calling the functions of one
//! submodule per concern: `files`, `procfs`, `mounts` (and namespaces),
//! `process` (ids, capabilities, signals, limits, exec), `confinement`
//! (Landlock, seccomp), `bpf` (cgroup v2 device programs) and `tool`
//! (helper tools run as a child).
#![allow(unsafe_code)]

mod bpf;
mod confinement;
mod files;
mod mounts;
mod process;
mod procfs;
mod tool;

use crate::error::{Error, Result};
use super::{
    BpfMapSpec, BpfProgSpec, CapState, EntryKind, FileStat, FsInfo, Ids, LandlockRuleset, NsInfo, Proc, Source, Sys, ToolExit, ToolRun,
};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::signal::{SigSet, Signal};
use nix::sys::stat::Mode;
use nix::mount::MsFlags;
use nix::unistd::{Gid, Uid};
use policy_cache::Program;
use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::fd::{BorrowedFd, OwnedFd};
use std::time::Duration;

/// The running kernel.
#[derive(Debug, Default)]
pub struct LinuxSys {
    walked: crate::fs::Walked,
}

impl LinuxSys {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Sys for LinuxSys {
    fn at_secure(&self) -> bool {
        process::at_secure()
    }

    fn ensure_stdio(&self) -> Result<()> {
        process::ensure_stdio()
    }

    fn set_dumpable(&self, dumpable: bool) -> Result<()> {
        process::set_dumpable(dumpable)
    }

    fn ids(&self) -> Result<Ids> {
        process::ids()
    }

    fn pid(&self) -> i32 {
        process::pid()
    }

    fn umask(&self, mask: Mode) -> Mode {
        process::umask(mask)
    }

    fn open_cwd(&self) -> Result<OwnedFd> {
        process::open_cwd()
    }

    fn chdir_root(&self) -> Result<()> {
        process::chdir_root()
    }

    fn fchdir(&self, dir: BorrowedFd<'_>) -> Result<()> {
        process::fchdir(dir)
    }

    fn sleep(&self, d: Duration) {
        process::sleep(d)
    }

    fn block_signals(&self, signals: &[Signal]) -> Result<SigSet> {
        process::block_signals(signals)
    }

    fn set_signal_mask(&self, mask: &SigSet) -> Result<()> {
        process::set_signal_mask(mask)
    }

    fn set_signal_ignored(&self, signal: Signal, ignored: bool) -> Result<bool> {
        process::set_signal_ignored(signal, ignored)
    }

    fn root(&self) -> Result<OwnedFd> {
        files::root()
    }

    fn trusted_owner(&self) -> (u32, u32) {
        (0, 0)
    }

    fn walked(&self) -> &crate::fs::Walked {
        &self.walked
    }

    fn openat(&self, dir: BorrowedFd<'_>, name: &OsStr, flags: OFlag, mode: Mode) -> Result<OwnedFd> {
        files::openat(dir, name, flags, mode)
    }

    fn mkdirat(&self, dir: BorrowedFd<'_>, name: &OsStr, mode: Mode) -> std::result::Result<(), Errno> {
        files::mkdirat(dir, name, mode)
    }

    fn fstat(&self, fd: BorrowedFd<'_>) -> Result<FileStat> {
        files::fstat(fd)
    }

    fn lstatat(&self, dir: BorrowedFd<'_>, name: &OsStr) -> Result<FileStat> {
        files::lstatat(dir, name)
    }

    fn groups(&self) -> Result<Vec<Gid>> {
        process::groups()
    }

    fn read_bounded(&self, fd: BorrowedFd<'_>, max: usize) -> Result<Vec<u8>> {
        files::read_bounded(fd, max)
    }

    fn read_head(&self, fd: BorrowedFd<'_>, max: usize) -> Result<Vec<u8>> {
        files::read_head(fd, max)
    }

    fn open_proc(&self) -> Result<Proc> {
        procfs::open_proc()
    }

    fn lstat_proc(&self, proc: &Proc, rel: &str) -> Result<FileStat> {
        procfs::lstat_proc(proc, rel)
    }

    fn readlink_proc(&self, proc: &Proc, rel: &str) -> Result<OsString> {
        procfs::readlink_proc(proc, rel)
    }

    fn read_proc(&self, proc: &Proc, rel: &str, max: usize) -> Result<Vec<u8>> {
        procfs::read_proc(proc, rel, max)
    }

    fn open_ns(&self, proc: &Proc, pid: Option<i32>, kind: &str) -> Result<OwnedFd> {
        mounts::open_ns(proc, pid, kind)
    }

    fn read_lsm_attr(&self, proc: &Proc, name: &str) -> Result<String> {
        procfs::read_lsm_attr(proc, name)
    }

    fn write_lsm_attr(&self, proc: &Proc, name: &str, value: &str) -> Result<()> {
        procfs::write_lsm_attr(proc, name, value)
    }

    fn get_caps(&self) -> Result<CapState> {
        process::get_caps()
    }

    fn open_in_root(&self, dir: BorrowedFd<'_>, rel: &str, flags: OFlag) -> Result<OwnedFd> {
        files::open_in_root(dir, rel, flags)
    }

    fn fchown(&self, fd: BorrowedFd<'_>, uid: u32, gid: u32) -> Result<()> {
        self.walked.forget();
        files::fchown(fd, uid, gid)
    }

    fn fchmod(&self, fd: BorrowedFd<'_>, mode: u32) -> Result<()> {
        self.walked.forget();
        files::fchmod(fd, mode)
    }

    fn symlinkat(&self, target: &str, dir: BorrowedFd<'_>, name: &OsStr) -> std::result::Result<(), Errno> {
        files::symlinkat(target, dir, name)
    }

    fn unlinkat(&self, dir: BorrowedFd<'_>, name: &OsStr, dir_entry: bool) -> std::result::Result<(), Errno> {
        self.walked.forget();
        files::unlinkat(dir, name, dir_entry)
    }

    fn readlinkat(&self, dir: BorrowedFd<'_>, name: &OsStr) -> Result<OsString> {
        files::readlinkat(dir, name)
    }

    fn read_dir(&self, dir: BorrowedFd<'_>) -> Result<Vec<(OsString, EntryKind)>> {
        files::read_dir(dir)
    }

    fn write_all(&self, fd: BorrowedFd<'_>, data: &[u8]) -> Result<()> {
        files::write_all(fd, data)
    }

    fn renameat(&self, dir: BorrowedFd<'_>, from: &OsStr, to: &OsStr) -> std::result::Result<(), Errno> {
        self.walked.forget();
        files::renameat(dir, from, to)
    }

    fn try_lock(&self, fd: BorrowedFd<'_>) -> Result<bool> {
        files::try_lock(fd)
    }

    fn random_suffix(&self) -> Result<String> {
        files::random_suffix()
    }

    fn fs_type(&self, fd: BorrowedFd<'_>) -> Result<i64> {
        files::fs_type(fd)
    }

    fn statfs(&self, fd: BorrowedFd<'_>) -> Result<FsInfo> {
        files::statfs(fd)
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
        self.walked.forget();
        mounts::mount(source, target, fstype, flags, data)
    }

    fn umount(&self, target: &str, lazy: bool) -> std::result::Result<(), Errno> {
        self.walked.forget();
        mounts::umount(target, lazy)
    }

    fn umount_fd(&self, target: BorrowedFd<'_>, _target_path: &str, lazy: bool) -> std::result::Result<(), Errno> {
        self.walked.forget();
        mounts::umount_fd(target, lazy)
    }

    fn pivot_root(&self, new_root: BorrowedFd<'_>, put_old: BorrowedFd<'_>, _paths: (&str, &str)) -> std::result::Result<(), Errno> {
        self.walked.forget();
        mounts::pivot_root(new_root, put_old)
    }

    fn unshare_mount_ns(&self) -> Result<()> {
        self.walked.forget();
        mounts::unshare_mount_ns()
    }

    fn setns_mount(&self, ns: BorrowedFd<'_>) -> Result<()> {
        self.walked.forget();
        mounts::setns_mount(ns)
    }

    fn ns_info(&self, fd: BorrowedFd<'_>) -> Result<NsInfo> {
        mounts::ns_info(fd)
    }

    fn mount_ns_id(&self, fd: BorrowedFd<'_>) -> Result<Option<u64>> {
        mounts::mount_ns_id(fd)
    }

    fn cpu_affinity(&self) -> Result<Vec<usize>> {
        process::cpu_affinity()
    }

    fn set_cpu_affinity(&self, cpus: &[usize]) -> Result<()> {
        process::set_cpu_affinity(cpus)
    }

    fn landlock_abi(&self) -> u32 {
        confinement::landlock_abi()
    }

    fn landlock_restrict(&self, r: &LandlockRuleset) -> Result<()> {
        self.walked.forget();
        confinement::landlock_restrict(r)
    }

    fn set_caps(&self, c: CapState) -> Result<()> {
        self.walked.forget();
        process::set_caps(c)
    }

    fn clear_ambient_caps(&self) -> Result<()> {
        self.walked.forget();
        process::clear_ambient_caps()
    }

    fn set_keep_caps(&self, keep: bool) -> Result<()> {
        process::set_keep_caps(keep)
    }

    fn setresgid(&self, r: Gid, e: Gid, s: Gid) -> Result<()> {
        self.walked.forget();
        process::setresgid(r, e, s)
    }

    fn setresuid(&self, r: Uid, e: Uid, s: Uid) -> Result<()> {
        self.walked.forget();
        process::setresuid(r, e, s)
    }

    fn set_fs_ids(&self, uid: Uid, gid: Gid) -> Result<()> {
        self.walked.forget();
        process::set_fs_ids(uid, gid)
    }

    fn set_no_new_privs(&self) -> Result<()> {
        process::set_no_new_privs()
    }

    fn bpf_map_create(&self, spec: &BpfMapSpec) -> Result<OwnedFd> {
        bpf::bpf_map_create(spec)
    }

    fn bpf_obj_pin(&self, obj: BorrowedFd<'_>, dir: BorrowedFd<'_>, name: &str) -> std::result::Result<(), Errno> {
        bpf::bpf_obj_pin(obj, dir, name)
    }

    fn bpf_obj_get(&self, dir: BorrowedFd<'_>, name: &str) -> std::result::Result<OwnedFd, Errno> {
        bpf::bpf_obj_get(dir, name)
    }

    fn bpf_map_update(&self, map: BorrowedFd<'_>, key: &[u8], value: &[u8]) -> Result<()> {
        bpf::bpf_map_update(map, key, value)
    }

    fn bpf_map_delete(&self, map: BorrowedFd<'_>, key: &[u8]) -> std::result::Result<(), Errno> {
        bpf::bpf_map_delete(map, key)
    }

    fn bpf_map_next_key(&self, map: BorrowedFd<'_>, key: Option<&[u8]>, key_size: usize) -> Result<Option<Vec<u8>>> {
        bpf::bpf_map_next_key(map, key, key_size)
    }

    fn bpf_prog_load(&self, spec: &BpfProgSpec) -> Result<OwnedFd> {
        bpf::bpf_prog_load(spec)
    }

    fn bpf_prog_attach_device(&self, prog: BorrowedFd<'_>, cgroup: BorrowedFd<'_>) -> Result<()> {
        bpf::bpf_prog_attach_device(prog, cgroup)
    }

    fn memlock_limit(&self) -> Result<(u64, u64)> {
        process::memlock_limit()
    }

    fn set_memlock_limit(&self, soft: u64, hard: u64) -> std::result::Result<(), Errno> {
        process::set_memlock_limit(soft, hard)
    }

    fn load_seccomp(&self, program: &Program) -> Result<()> {
        self.walked.forget();
        confinement::load_seccomp(program)
    }

    fn run_tool(&self, proc: &Proc, run: &ToolRun<'_>) -> Result<ToolExit> {
        self.walked.forget();
        tool::run_tool(proc, run)
    }

    fn execve(&self, path: &CStr, argv: &[CString], envp: &[CString]) -> Error {
        process::execve(path, argv, envp)
    }
}

//! A recording [`Sys`] for tests: paths resolve under a temporary root, the
//! process-wide effects (ids, capabilities, seccomp, exec, cwd) are recorded
//! instead of performed, and any call can be made to fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use super::{CapState, FileStat, Ids, Proc, Sys};
use crate::error::{Error, Result};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use nix::unistd::{Gid, Uid};
use policy_cache::Program;
use std::cell::{Cell, RefCell};
use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::Path;
use std::time::Duration;

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
    /// Owner to trust instead of the test's own uid and gid.
    pub trusted: Option<(u32, u32)>,
    linux: super::linux::LinuxSys,
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

impl FakeSys {
    pub fn new() -> Self {
        FakeSys {
            root: tempfile::tempdir().unwrap(),
            calls: RefCell::new(Vec::new()),
            failures: RefCell::new(Vec::new()),
            ids: Cell::new(setuid_ids()),
            at_secure: true,
            exe: crate::config::LAUNCHER_PATH.to_string(),
            lsm_current: "unconfined".into(),
            trusted: None,
            initial_caps: CapState { effective: !0 >> 23, permitted: !0 >> 23, inheritable: 0 },
            linux: super::linux::LinuxSys,
        }
    }

    /// Makes every later call whose trace starts with `prefix` fail with `errno`.
    pub fn fail(&self, prefix: &str, errno: Errno) {
        self.failures.borrow_mut().push((prefix.to_string(), errno));
    }

    /// The calls made so far.
    pub fn calls(&self) -> Vec<String> {
        self.calls.borrow().clone()
    }

    /// The calls that do more than read: what a reviewer of the order cares about.
    pub fn effects(&self) -> Vec<String> {
        self.calls().into_iter().filter(|c| !c.starts_with("openat(") && !c.starts_with("read_lsm_attr")).collect()
    }

    fn record(&self, call: String) -> std::result::Result<(), Errno> {
        let failure = self.failures.borrow().iter().find(|(p, _)| call.starts_with(p.as_str())).map(|(_, e)| *e);
        self.calls.borrow_mut().push(call);
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn rec(&self, call: String) -> Result<()> {
        self.record(call.clone()).map_err(|e| Error::errno(format!("{call} (injected)"), e))
    }

    /// Creates a file under the fake root (parents included).
    pub fn file(&self, path: &str, content: &[u8], mode: u32) {
        let p = self.root.path().join(path.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        set_mode(&p, mode);
    }

    /// Creates a directory under the fake root (parents included).
    pub fn dir(&self, path: &str, mode: u32) {
        let p = self.root.path().join(path.trim_start_matches('/'));
        std::fs::create_dir_all(&p).unwrap();
        set_mode(&p, mode);
    }

    /// The real path of `path` under the fake root.
    pub fn path(&self, path: &str) -> std::path::PathBuf {
        self.root.path().join(path.trim_start_matches('/'))
    }
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
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
    fn fchdir(&self, _dir: BorrowedFd<'_>) -> Result<()> {
        self.rec("fchdir".into())
    }
    fn sleep(&self, d: Duration) {
        let _ = self.record(format!("sleep({}s)", d.as_secs()));
    }
    fn root(&self) -> Result<OwnedFd> {
        nix::fcntl::open(self.root.path(), OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(|e| Error::errno("open the fake root", e))
    }
    fn trusted_owner(&self) -> (u32, u32) {
        self.trusted.unwrap_or((nix::unistd::getuid().as_raw(), nix::unistd::getgid().as_raw()))
    }
    fn openat(&self, dir: BorrowedFd<'_>, name: &OsStr, flags: OFlag, mode: Mode) -> Result<OwnedFd> {
        self.rec(format!("openat({})", name.to_string_lossy()))?;
        self.linux.openat(dir, name, flags, mode)
    }
    fn mkdirat(&self, dir: BorrowedFd<'_>, name: &OsStr, mode: Mode) -> std::result::Result<(), Errno> {
        self.record(format!("mkdirat({}, {:04o})", name.to_string_lossy(), mode.bits()))?;
        self.linux.mkdirat(dir, name, mode)
    }
    fn fstat(&self, fd: BorrowedFd<'_>) -> Result<FileStat> {
        self.linux.fstat(fd)
    }
    fn read_bounded(&self, fd: BorrowedFd<'_>, max: usize) -> Result<Vec<u8>> {
        self.linux.read_bounded(fd, max)
    }
    fn open_proc(&self) -> Result<Proc> {
        self.rec("open_proc".into())?;
        self.linux.open_proc()
    }
    fn own_exe(&self, _proc: &Proc) -> Result<OsString> {
        Ok(OsString::from(&self.exe))
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
    fn set_caps(&self, c: CapState) -> Result<()> {
        self.rec(format!(
            "set_caps(e={} p={} i={})",
            cap_names(c.effective),
            cap_names(c.permitted),
            cap_names(c.inheritable)
        ))
    }
    fn clear_ambient_caps(&self) -> Result<()> {
        self.rec("clear_ambient_caps".into())
    }
    fn set_keep_caps(&self, keep: bool) -> Result<()> {
        self.rec(format!("set_keep_caps({keep})"))
    }
    fn setresgid(&self, r: Gid, e: Gid, s: Gid) -> Result<()> {
        self.rec(format!("setresgid({r},{e},{s})"))?;
        self.ids.set(Ids { rgid: r, egid: e, sgid: s, ..self.ids.get() });
        Ok(())
    }
    fn setresuid(&self, r: Uid, e: Uid, s: Uid) -> Result<()> {
        self.rec(format!("setresuid({r},{e},{s})"))?;
        self.ids.set(Ids { ruid: r, euid: e, suid: s, ..self.ids.get() });
        Ok(())
    }
    fn load_seccomp(&self, program: &Program) -> Result<()> {
        self.rec(format!("load_seccomp({} instructions)", program.instructions().len()))
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

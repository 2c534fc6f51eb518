//! cgroups: process tracking, as far as the mount namespace needs it (on
//! cgroup v1 every process of a snap joins the freezer cgroup
//! `snap.<instance>`, and a preserved namespace counts as in use while a
//! process of the snap is alive: v1, in that freezer cgroup; v2, in a
//! `snap.<instance>.*` scope or service), and the device cgroup that limits
//! which devices an app may open ([`devices`], on v1 [`v1`], on v2 [`v2`]
//! with the filter of [`bpf`]; assigned devices come from [`udev`], hotplug
//! goes through [`helper`]).

pub mod bpf;
pub mod devices;
pub mod helper;
pub mod udev;
pub mod v1;
pub mod v2;

use crate::debug::Debug;
use crate::error::{Error, Result};
use crate::fs::{open_path, Trust};
use crate::sys::{EntryKind, Proc, Sys};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";
pub const FREEZER: &str = "/sys/fs/cgroup/freezer";
pub const CGROUP_SUPER_MAGIC: i64 = 0x0027_e0eb;
pub const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

/// Which cgroup layout the host has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `/sys/fs/cgroup` is cgroup2 (unified).
    V2,
    /// v1 hierarchies, with a freezer.
    V1,
    /// Neither (no freezer, not unified): nothing to join.
    None,
}

/// Whether `/sys/fs/cgroup` is cgroup v2 (the unified layout). On the
/// hybrid layout (v1 controllers, cgroup2 at `/sys/fs/cgroup/unified`) the
/// device cgroup is v1.
pub fn is_unified<S: Sys>(sys: &S) -> bool {
    open_path(sys, CGROUP_ROOT, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::Any)
        .ok()
        .and_then(|o| sys.fs_type(o.fd.as_fd()).ok())
        == Some(CGROUP2_SUPER_MAGIC)
}

pub fn layout<S: Sys>(sys: &S) -> Layout {
    let fs_of = |p: &str| open_path(sys, p, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::Any).ok().and_then(|o| sys.fs_type(o.fd.as_fd()).ok());
    if fs_of(CGROUP_ROOT) == Some(CGROUP2_SUPER_MAGIC) {
        Layout::V2
    } else if fs_of(FREEZER) == Some(CGROUP_SUPER_MAGIC) {
        Layout::V1
    } else {
        Layout::None
    }
}

/// A v1 cgroup's `tasks` file, open for writing, and the group's path.
#[derive(Debug)]
pub struct Tasks {
    pub file: OwnedFd,
    pub path: String,
}

/// cgroup v1: the snap's freezer cgroup, created if needed, for the
/// launcher (and so the app) to join; `None` elsewhere.
pub fn open_freezer<S: Sys>(sys: &S, instance: &str) -> Result<Option<Tasks>> {
    if layout(sys) != Layout::V1 {
        return Ok(None);
    }
    let freezer = open_path(sys, FREEZER, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::Any)?;
    let name = format!("snap.{instance}");
    match sys.mkdirat(freezer.fd.as_fd(), OsStr::new(&name), Mode::from_bits_truncate(0o755)) {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(e) => return Err(Error::errno(format!("create {FREEZER}/{name}"), e)),
    }
    let dir = sys.openat(freezer.fd.as_fd(), OsStr::new(&name), OFlag::O_PATH | OFlag::O_DIRECTORY, Mode::empty())?;
    let file = sys.openat(dir.as_fd(), OsStr::new("tasks"), OFlag::O_WRONLY, Mode::empty())?;
    Ok(Some(Tasks { file, path: format!("{FREEZER}/{name}") }))
}

/// The launcher's moves into the snap's v1 cgroups: its device cgroup,
/// then its freezer cgroup, one right after the other, at the end of the
/// set-up.
///
/// Each move is a write of `0` to the group's `tasks` file: it moves the
/// thread that writes, which is the launcher's only thread and the one that
/// execs the app (an exec leaves no other thread), so the app starts in
/// every group. A move of the whole process (a pid written to
/// `cgroup.procs`, as Debian's snap-confine does) takes the write lock of
/// the kernel's `cgroup_threadgroup_rwsem`, which waits for an RCU grace
/// period when no such move was made in the last few tens of milliseconds:
/// 7.7 ms measured here, far more than the whole launch, paid by every
/// launch that is not right after another. A thread moving itself does not
/// take that lock (seen on Debian 12's Linux 6.1 and on 6.18: 0.04 ms; a
/// kernel without that shortcut takes it for both files, so nothing is
/// lost there). A second move right after the first would not wait again
/// either, so the two are made together. They are not
/// made while the namespace is built: Debian's `snap-update-ns` freezes
/// the snap's freezer cgroup while it works, even when the launcher runs
/// it, so neither the launcher nor the tool may be in that group by then
/// (the tool would freeze itself). Nothing depends on the launcher being
/// in the device cgroup earlier: its rules are written before the
/// namespace, and it confines the app, which starts at the exec.
#[derive(Debug)]
pub struct Joining {
    groups: Vec<Tasks>,
}

impl Joining {
    /// The moves into `groups`, in order; nothing is done yet.
    pub fn new(groups: Vec<Tasks>) -> Joining {
        Joining { groups }
    }

    /// Makes the moves: this thread, and so the app it execs, is then in
    /// every group.
    pub fn finish<S: Sys>(self, sys: &S, debug: &Debug) -> Result<()> {
        for g in &self.groups {
            sys.write_all(g.file.as_fd(), b"0\n").map_err(|e| e.within(format!("join {}", g.path)))?;
            debug.say(format_args!("joined the cgroup {}", g.path));
        }
        Ok(())
    }
}

/// Whether a process of the snap other than us is alive. Called from
/// inside the snap's preserved namespace: a process counts only if it is
/// in one of the snap's cgroups (v1: the freezer cgroup `snap.<instance>`;
/// v2: a `snap.<instance>.*` scope or service anywhere in the tree) *and*
/// runs in that namespace's root filesystem. A cgroup name proves nothing
/// on v2, where a user can make `snap.<instance>.x` in a subtree delegated
/// to them and keep a stale namespace alive for everyone; the root
/// filesystem of the process can only be the snap's if the launcher put it
/// there. A cgroup or process that goes away while we look is skipped; any
/// other failure is an error, not an answer.
pub fn snap_in_use<S: Sys>(sys: &S, proc: &Proc, instance: &str) -> Result<bool> {
    in_use(sys, proc, instance, true)
}

/// The same question asked from the host's namespace (the policy tools
/// deciding whether to discard a namespace): a process counts if it is in
/// one of the snap's cgroups and runs in a root directory other than the
/// host's, which only the launcher gives it.
pub fn snap_in_use_from_host<S: Sys>(sys: &S, proc: &Proc, instance: &str) -> Result<bool> {
    in_use(sys, proc, instance, false)
}

fn in_use<S: Sys>(sys: &S, proc: &Proc, instance: &str, same_root: bool) -> Result<bool> {
    let ours = sys.fstat(sys.root()?.as_fd())?;
    let me = sys.pid();
    let is_snap_process = |pid: i32| -> Result<bool> {
        if pid == me {
            return Ok(false);
        }
        match sys.lstat_proc(proc, &format!("{pid}/root/.")) {
            Ok(st) => Ok(((st.dev, st.ino) == (ours.dev, ours.ino)) == same_root),
            Err(e) if matches!(e.errno_value(), Some(Errno::ENOENT | Errno::ESRCH)) => Ok(false),
            Err(e) => Err(e.within(format!("find the root directory of process {pid}"))),
        }
    };
    let any_in = |group: BorrowedFd<'_>, path: &str| -> Result<bool> {
        for pid in group_pids(sys, group, path)? {
            if is_snap_process(pid)? {
                return Ok(true);
            }
        }
        Ok(false)
    };
    match layout(sys) {
        Layout::V1 => {
            let freezer = open_path(sys, FREEZER, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::Any)?;
            let name = format!("snap.{instance}");
            match sys.openat(freezer.fd.as_fd(), OsStr::new(&name), OFlag::O_PATH | OFlag::O_DIRECTORY, Mode::empty()) {
                Ok(dir) => any_in(dir.as_fd(), &format!("{FREEZER}/{name}")),
                Err(e) if e.errno_value() == Some(Errno::ENOENT) => Ok(false),
                Err(e) => Err(e.within(format!("open {FREEZER}/{name}"))),
            }
        }
        Layout::V2 => {
            let root = open_path(sys, CGROUP_ROOT, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::Any)?;
            scan_v2(sys, root.fd.as_fd(), &format!("snap.{instance}."), CGROUP_ROOT, 0, &any_in)
        }
        Layout::None => Ok(false),
    }
}

/// The processes listed in `cgroup.procs` of the open cgroup directory.
fn group_pids<S: Sys>(sys: &S, group: BorrowedFd<'_>, path: &str) -> Result<Vec<i32>> {
    let fd = match sys.openat(group, OsStr::new("cgroup.procs"), OFlag::O_RDONLY, Mode::empty()) {
        Ok(fd) => fd,
        Err(e) if e.errno_value() == Some(Errno::ENOENT) => return Ok(Vec::new()),
        Err(e) => return Err(e.within(format!("open {path}/cgroup.procs"))),
    };
    let text = match sys.read_bounded(fd.as_fd(), 4 << 20) {
        Ok(t) => t,
        // A cgroup removed after it was opened.
        Err(e) if e.errno_value() == Some(Errno::ENODEV) => return Ok(Vec::new()),
        Err(e) => return Err(e.within(format!("read {path}/cgroup.procs"))),
    };
    Ok(String::from_utf8_lossy(&text).lines().filter_map(|l| l.trim().parse::<i32>().ok()).collect())
}

/// Walks the cgroup v2 tree for groups named `prefix*` holding a process
/// that `found` accepts. Subtrees deeper than 32 levels are not searched
/// (no snap's scope or service is that deep).
fn scan_v2<S: Sys>(
    sys: &S,
    dir: BorrowedFd<'_>,
    prefix: &str,
    path: &str,
    depth: u32,
    found: &dyn Fn(BorrowedFd<'_>, &str) -> Result<bool>,
) -> Result<bool> {
    if depth > 32 {
        return Ok(false);
    }
    let entries = match sys.read_dir(dir) {
        Ok(e) => e,
        Err(e) if matches!(e.errno_value(), Some(Errno::ENOENT | Errno::ENODEV)) => return Ok(false),
        Err(e) => return Err(e.within(format!("list {path}"))),
    };
    for (name, _) in entries.into_iter().filter(|(_, k)| *k == EntryKind::Dir) {
        let name = name.to_string_lossy().into_owned();
        let child = format!("{path}/{name}");
        let fd = match sys.openat(dir, OsStr::new(&name), OFlag::O_PATH | OFlag::O_DIRECTORY, Mode::empty()) {
            Ok(fd) => fd,
            Err(e) if e.errno_value() == Some(Errno::ENOENT) => continue,
            Err(e) => return Err(e.within(format!("open {child}"))),
        };
        if name.starts_with(prefix) && found(fd.as_fd(), &child)? {
            return Ok(true);
        }
        if scan_v2(sys, fd.as_fd(), prefix, &child, depth + 1, found)? {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::sys::fake::FakeSys;

    fn tasks(sys: &FakeSys, path: &str) -> Tasks {
        sys.file(&format!("{path}/tasks"), b"", 0o644);
        let file = std::fs::OpenOptions::new().write(true).open(sys.path(&format!("{path}/tasks"))).unwrap();
        Tasks { file: OwnedFd::from(file), path: path.into() }
    }

    const DEVICES: &str = "/sys/fs/cgroup/devices/snap.demo.app";
    const FREEZER_DEMO: &str = "/sys/fs/cgroup/freezer/snap.demo";

    #[test]
    fn the_moves_into_the_cgroups_are_made_in_order_when_finished() {
        let sys = FakeSys::new();
        let joining = Joining::new(vec![tasks(&sys, DEVICES), tasks(&sys, FREEZER_DEMO)]);
        assert_eq!(sys.effects(), Vec::<String>::new());
        joining.finish(&sys, &Debug::new(false)).unwrap();
        // The thread moves itself (0), not the process by its pid.
        assert_eq!(sys.effects(), ["write(0)", "write(0)"]);
        for g in [DEVICES, FREEZER_DEMO] {
            assert_eq!(std::fs::read(sys.path(&format!("{g}/tasks"))).unwrap(), b"0\n");
        }
        // Nothing to join (cgroup v2): nothing done.
        let sys = FakeSys::new();
        Joining::new(Vec::new()).finish(&sys, &Debug::new(false)).unwrap();
        assert_eq!(sys.effects(), Vec::<String>::new());
    }

    #[test]
    fn a_failed_move_names_its_cgroup() {
        let sys = FakeSys::new();
        let joining = Joining::new(vec![tasks(&sys, DEVICES), tasks(&sys, FREEZER_DEMO)]);
        sys.fail("write(0", Errno::EACCES);
        let e = joining.finish(&sys, &Debug::new(false)).unwrap_err().to_string();
        assert_eq!(e, format!("cannot join {DEVICES}: write(0) (injected): Permission denied"));
    }

    /// A v2 host where user 1000's delegated subtree is under `user@1000`.
    const USER: &str = "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice";

    fn v2() -> FakeSys {
        let sys = FakeSys::new();
        sys.dir(USER, 0o755);
        sys.fs_types.borrow_mut().insert(CGROUP_ROOT.into(), CGROUP2_SUPER_MAGIC);
        // Processes 100 and 101 run in the snap's namespace (the fake root
        // stands for it), 200 in the host's root.
        sys.dir("/host-root", 0o755);
        sys.proc_roots.borrow_mut().extend([(100, "/".to_string()), (101, "/".to_string()), (200, "/host-root".to_string())]);
        sys
    }

    fn group(sys: &FakeSys, path: &str, pids: &str) {
        sys.file(&format!("{path}/cgroup.procs"), pids.as_bytes(), 0o644);
    }

    fn in_use(sys: &FakeSys) -> Result<bool> {
        let proc = crate::sys::Proc(sys.root().unwrap());
        snap_in_use(sys, &proc, "demo")
    }

    #[test]
    fn a_cgroup_named_like_the_snap_is_not_enough() {
        let sys = v2();
        // A user makes snap.demo.fake in their own subtree and puts a
        // process of theirs in it.
        group(&sys, &format!("{USER}/snap.demo.fake"), "200\n");
        assert!(!in_use(&sys).unwrap());
        // Nor are processes that are gone, or the launcher itself.
        group(&sys, &format!("{USER}/snap.demo.gone"), "300\n4242\n");
        assert!(!in_use(&sys).unwrap());
        // Another snap's process in the namespace's root does not count
        // for this one either.
        group(&sys, &format!("{USER}/snap.other.app-1.scope"), "100\n");
        assert!(!in_use(&sys).unwrap());
        // An app of the snap does, however deep its scope.
        group(&sys, &format!("{USER}/snap.demo.app-1234.scope"), "101\n");
        assert!(in_use(&sys).unwrap());
    }

    #[test]
    fn a_failure_to_look_is_an_error_not_an_answer() {
        let sys = v2();
        group(&sys, &format!("{USER}/snap.demo.app-1.scope"), "101\n");
        sys.fail("openat(cgroup.procs", Errno::EIO);
        let e = in_use(&sys).unwrap_err().to_string();
        assert!(e.contains("snap.demo.app-1.scope/cgroup.procs"), "{e}");
        let sys = v2();
        group(&sys, &format!("{USER}/snap.demo.app-1.scope"), "101\n");
        sys.fail("lstat_proc(101", Errno::EIO);
        assert_eq!(
            in_use(&sys).unwrap_err().to_string(),
            "cannot find the root directory of process 101: lstat_proc(101/root/.) (injected): I/O error"
        );
    }

    #[test]
    fn v1_counts_processes_of_the_freezer_group_in_the_namespace() {
        let sys = v2();
        sys.fs_types.borrow_mut().clear();
        sys.dir(FREEZER, 0o755);
        sys.fs_types.borrow_mut().insert(FREEZER.into(), CGROUP_SUPER_MAGIC);
        assert!(!in_use(&sys).unwrap(), "no freezer group: not in use");
        group(&sys, &format!("{FREEZER}/snap.demo"), "200\n4242\n");
        assert!(!in_use(&sys).unwrap());
        group(&sys, &format!("{FREEZER}/snap.demo"), "200\n100\n");
        assert!(in_use(&sys).unwrap());
    }
}

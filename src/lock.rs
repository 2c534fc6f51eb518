//! Locks under `/run/snapd/lock`: `.lock` for the global mount namespace
//! set-up, `<instance>.lock` per snap. Files are 0600 root-owned in a
//! root-owned directory, so no user can hold them, and the caller cannot
//! stop the launcher holding one (see `privs::acquire` and `signals`).
//!
//! A launch waits for a lock as long as it keeps changing hands: fifty
//! launches started together each hold it for their short part in turn,
//! and on a slow machine the last of them may wait much longer than any one
//! holder takes. Only a holder that keeps the lock for [`LOCK_TIMEOUT`]
//! stops the launch (it never proceeds unlocked). The holder is found in
//! `/proc/locks`.

use crate::debug::Debug;
use crate::error::{Error, Result};
use crate::fs::{open_path, Trust};
use crate::sys::{FileStat, Proc, Sys};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

pub const LOCK_DIR: &str = "/run/snapd/lock";
/// How long one holder may keep a lock before a waiter gives up.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(5);
/// The holder is looked up every this many polls (100 ms).
const HOLDER_POLLS: u32 = 20;

/// A held lock; dropping it closes the file, which releases the lock.
#[derive(Debug)]
pub struct Lock {
    _fd: OwnedFd,
    pub name: String,
}

/// Creates the root-owned directories of `path` as needed (0755).
pub fn mkpath_root<S: Sys>(sys: &S, path: &str) -> Result<OwnedFd> {
    let mut dir = sys.root()?;
    for part in crate::fs::components(path)? {
        match sys.mkdirat(dir.as_fd(), OsStr::new(part), Mode::from_bits_truncate(0o755)) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => return Err(Error::errno(format!("create {path}"), e)),
        }
        dir = sys.openat(dir.as_fd(), OsStr::new(part), OFlag::O_PATH | OFlag::O_DIRECTORY, Mode::empty())?;
    }
    Ok(dir)
}

/// Takes `/run/snapd/lock/<name>.lock` (`name` empty for the global lock).
pub fn acquire<S: Sys>(sys: &S, proc: &Proc, name: &str, debug: &Debug) -> Result<Lock> {
    // The directory must be ours before a file in it is trusted; it is
    // made when missing (the first launch since boot).
    let open_dir = || open_path(sys, LOCK_DIR, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::RootOwned);
    let dir = match open_dir() {
        Err(e) if e.errno_value() == Some(Errno::ENOENT) => {
            mkpath_root(sys, LOCK_DIR)?;
            open_dir()?
        }
        other => other?,
    };
    let file = format!("{name}.lock");
    let path = format!("{LOCK_DIR}/{file}");
    let fd = sys
        .openat(dir.fd.as_fd(), OsStr::new(&file), OFlag::O_CREAT | OFlag::O_RDWR, Mode::from_bits_truncate(0o600))
        .map_err(|e| e.within(format!("open {path}")))?;
    let st = sys.fstat(fd.as_fd())?;
    if !st.is_file() || (st.uid, st.gid) != sys.trusted_owner() || st.perms() & 0o077 != 0 {
        return Err(Error::because(format!("use {path}"), "it is not a root-owned 0600 file"));
    }
    let mut holder = None;
    let mut held = Duration::ZERO;
    let mut polls = 0u32;
    while !sys.try_lock(fd.as_fd())? {
        if polls % HOLDER_POLLS == 0 {
            let now = holder_of(sys, proc, &st);
            if now.is_some() && now != holder {
                if polls > 0 {
                    debug.say(format_args!("{path} changed hands: now held by {}", now.unwrap_or_default()));
                }
                holder = now;
                held = Duration::ZERO;
            }
        }
        if held >= LOCK_TIMEOUT {
            let by = holder.map(|p| format!(" by process {p}")).unwrap_or_default();
            return Err(Error::because(format!("lock {path}"), format!("it was held{by} for {} s", LOCK_TIMEOUT.as_secs())));
        }
        if polls == 0 {
            debug.say(format_args!("waiting for {path}"));
        }
        sys.sleep(POLL);
        held += POLL;
        polls = polls.saturating_add(1);
    }
    Ok(Lock { _fd: fd, name: path })
}

/// The process holding the `flock` on the file `st` describes, from
/// `/proc/locks` (lines like `1: FLOCK ADVISORY WRITE 123 fd:01:4567 0
/// EOF`, device numbers in hex); `None` when it cannot be told.
fn holder_of<S: Sys>(sys: &S, proc: &Proc, st: &FileStat) -> Option<i32> {
    let text = sys.read_proc(proc, "locks", 4 << 20).ok()?;
    let want = (nix::sys::stat::major(st.dev), nix::sys::stat::minor(st.dev), st.ino);
    String::from_utf8_lossy(&text).lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // Blocked requests are listed with "->"; only the holder counts.
        let [_, "FLOCK", _, _, pid, id, ..] = fields.as_slice() else { return None };
        let mut parts = id.split(':');
        let major = u64::from_str_radix(parts.next()?, 16).ok()?;
        let minor = u64::from_str_radix(parts.next()?, 16).ok()?;
        let ino = parts.next()?.parse::<u64>().ok()?;
        ((major, minor, ino) == want).then(|| pid.parse().ok()).flatten()
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::sys::fake::FakeSys;

    /// A fake host whose lock `demo` is held by another open file, and the
    /// `/proc/locks` line for it with `pid`.
    fn held(sys: &FakeSys) -> (nix::fcntl::Flock<std::fs::File>, String) {
        sys.dir("/", 0o755);
        for d in ["/run", "/run/snapd", LOCK_DIR] {
            sys.dir(d, 0o755);
        }
        sys.file(&format!("{LOCK_DIR}/demo.lock"), b"", 0o600);
        let file = std::fs::File::open(sys.path(&format!("{LOCK_DIR}/demo.lock"))).unwrap();
        let st = nix::sys::stat::fstat(&file).unwrap();
        let file = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock).unwrap();
        let id = format!("{:02x}:{:02x}:{}", nix::sys::stat::major(st.st_dev), nix::sys::stat::minor(st.st_dev), st.st_ino);
        (file, id)
    }

    fn locks(lines: &[(i32, &str)]) -> String {
        lines.iter().enumerate().map(|(i, (pid, id))| format!("{}: FLOCK  ADVISORY  WRITE {pid} {id} 0 EOF\n", i + 1)).collect()
    }

    fn sleeps(sys: &FakeSys) -> usize {
        sys.calls().iter().filter(|c| c.starts_with("sleep")).count()
    }

    #[test]
    fn the_lock_directory_is_made_only_when_missing() {
        let sys = FakeSys::new();
        sys.dir("/", 0o755);
        let proc = sys.open_proc().unwrap();
        let first = acquire(&sys, &proc, "demo", &Debug::new(false)).unwrap();
        let made: Vec<String> = sys.calls().into_iter().filter(|c| c.starts_with("mkdirat")).collect();
        assert_eq!(made, ["mkdirat(run, 0755)", "mkdirat(snapd, 0755)", "mkdirat(lock, 0755)"]);
        drop(first);
        let before = sys.calls().len();
        acquire(&sys, &proc, "demo", &Debug::new(false)).unwrap();
        assert!(!sys.calls()[before..].iter().any(|c| c.starts_with("mkdirat")), "{:?}", &sys.calls()[before..]);
        assert!(sys.path(&format!("{LOCK_DIR}/demo.lock")).is_file());
    }

    #[test]
    fn one_holder_keeping_the_lock_stops_the_wait() {
        let sys = FakeSys::new();
        let (_file, id) = held(&sys);
        sys.proc_files.borrow_mut().insert("locks".into(), locks(&[(9, "00:01:1"), (77, &id)]));
        let proc = crate::sys::Proc(sys.root().unwrap());
        let e = acquire(&sys, &proc, "demo", &Debug::new(false)).unwrap_err().to_string();
        assert_eq!(e, "cannot lock /run/snapd/lock/demo.lock: it was held by process 77 for 30 s");
        assert_eq!(sleeps(&sys) as u128, LOCK_TIMEOUT.as_millis() / POLL.as_millis());
    }

    #[test]
    fn a_lock_that_changes_hands_is_waited_for_past_the_timeout() {
        let sys = FakeSys::new();
        let (_file, id) = held(&sys);
        // Ten launches queued before us, each holding the lock for 25 s.
        let holders: Vec<String> = (100..110).map(|p| locks(&[(p, &id)])).collect();
        let per_holder = (25_000 / POLL.as_millis()) as usize / HOLDER_POLLS as usize;
        let mut reads = Vec::new();
        for h in holders {
            reads.extend(std::iter::repeat_n(h, per_holder));
        }
        *sys.proc_file_reads.borrow_mut() = reads;
        let proc = crate::sys::Proc(sys.root().unwrap());
        let e = acquire(&sys, &proc, "demo", &Debug::new(false)).unwrap_err().to_string();
        // The last one kept it: only then did the wait stop.
        assert_eq!(e, "cannot lock /run/snapd/lock/demo.lock: it was held by process 109 for 30 s");
        assert!(sleeps(&sys) as u128 > 9 * 25_000 / POLL.as_millis(), "{}", sleeps(&sys));
    }

    #[test]
    fn an_unknown_holder_does_not_extend_the_wait() {
        let sys = FakeSys::new();
        let (_file, _) = held(&sys);
        let proc = crate::sys::Proc(sys.root().unwrap());
        let e = acquire(&sys, &proc, "demo", &Debug::new(false)).unwrap_err().to_string();
        assert_eq!(e, "cannot lock /run/snapd/lock/demo.lock: it was held for 30 s");
    }
}

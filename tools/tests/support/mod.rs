//! Code shared by the seccomp integration tests: fixture paths and a
//! probe runner that loads compiled programs into a forked child and reports
//! what each system call returned. Included by the other `seccomp_*` test
//! files with `#[path]`; on its own it holds no tests.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs::File;
use std::io::Read;
use std::os::fd::FromRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fixture under `tests/fixtures/seccomp/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/seccomp")
        .join(name)
}

/// Our compiler.
pub fn confine_seccomp() -> Command {
    Command::new(env!("CARGO_BIN_EXE_confine-seccomp"))
}

/// Runs our compiler and insists that it succeeds.
pub fn ours(args: &[&Path]) -> Output {
    let out = confine_seccomp().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "confine-seccomp {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Argument placeholder: the address of a 4 KiB scratch buffer.
pub const SCRATCH: u64 = 0x5c5c_0000_0000_0001;
/// Argument placeholder: the read end of a pipe (not a terminal).
pub const PIPE_FD: u64 = 0x5c5c_0000_0000_0002;

/// One system call to make under the filters.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    pub label: &'static str,
    pub nr: libc::c_long,
    pub args: [u64; 6],
}

/// A probe with up to six arguments (missing ones are zero).
pub fn probe(label: &'static str, nr: libc::c_long, args: &[u64]) -> Probe {
    let mut all = [0u64; 6];
    for (slot, value) in all.iter_mut().zip(args) {
        *slot = *value;
    }
    Probe { label, nr, args: all }
}

/// What a probe returned: `Ok` or the errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Errno(i32),
}

impl Outcome {
    pub const EPERM: Outcome = Outcome::Errno(libc::EPERM);
    pub const EACCES: Outcome = Outcome::Errno(libc::EACCES);
    pub const ENOTTY: Outcome = Outcome::Errno(libc::ENOTTY);
}

/// Decodes raw BPF bytes into the kernel's structure.
fn sock_filters(bytes: &[u8]) -> Vec<libc::sock_filter> {
    assert_eq!(bytes.len() % 8, 0, "program length {}", bytes.len());
    bytes
        .chunks_exact(8)
        .map(|c| libc::sock_filter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect()
}

fn pipe() -> (libc::c_int, libc::c_int) {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: fds has room for the two descriptors pipe2 writes.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2: {}", std::io::Error::last_os_error());
    (fds[0], fds[1])
}

fn close(fd: libc::c_int) {
    // SAFETY: fd is a descriptor this test opened and no longer uses.
    unsafe { libc::close(fd) };
}

const SECCOMP_SET_MODE_FILTER: libc::c_long = 1;
const SECCOMP_MODE_FILTER: libc::c_ulong = 2;

/// Exit codes of the child when setting up fails.
const CHILD_NNP_FAILED: i32 = 90;
const CHILD_LOAD_FAILED: i32 = 91;
const CHILD_WRITE_FAILED: i32 = 92;

/// Forks a child that sets no-new-privs, loads `programs` (raw BPF, in load
/// order: for a `.bin2` the deny program first, then the allow program),
/// makes every probe and reports the outcomes through a pipe.
///
/// The child runs only raw system calls on memory prepared before the fork:
/// no allocation, no locks, so forking from the multi-threaded test harness
/// is safe.
pub fn run_probes(programs: &[&[u8]], probes: &[Probe]) -> Vec<Outcome> {
    let mut filters: Vec<Vec<libc::sock_filter>> = programs.iter().map(|p| sock_filters(p)).collect();
    let fprogs: Vec<libc::sock_fprog> = filters
        .iter_mut()
        .map(|f| libc::sock_fprog {
            len: u16::try_from(f.len()).unwrap(),
            filter: f.as_mut_ptr(),
        })
        .collect();
    let mut scratch = vec![0u8; 4096];
    let (probe_read, probe_write) = pipe();
    let calls: Vec<(libc::c_long, [libc::c_long; 6])> = probes
        .iter()
        .map(|p| {
            let mut args = [0 as libc::c_long; 6];
            for (slot, value) in args.iter_mut().zip(p.args) {
                *slot = match value {
                    SCRATCH => scratch.as_mut_ptr() as libc::c_long,
                    PIPE_FD => libc::c_long::from(probe_read),
                    v => v as libc::c_long,
                };
            }
            (p.nr, args)
        })
        .collect();
    let mut results = vec![0i32; calls.len()];
    let (report_read, report_write) = pipe();

    // SAFETY: the child only makes raw system calls on memory allocated
    // above and then exits with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        child(&fprogs, &calls, &mut results, report_write);
    }
    close(report_write);
    // SAFETY: report_read is an open pipe end owned by nothing else; the File
    // takes it over and closes it.
    let mut reader = unsafe { File::from_raw_fd(report_read) };
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).unwrap();
    let mut status = 0;
    // SAFETY: pid is our child and status is a valid out pointer.
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(waited, pid, "waitpid: {}", std::io::Error::last_os_error());
    close(probe_read);
    close(probe_write);
    if libc::WIFSIGNALED(status) {
        panic!(
            "the probe child was killed by signal {} (a filter killed it?)",
            libc::WTERMSIG(status)
        );
    }
    match libc::WEXITSTATUS(status) {
        0 => {}
        CHILD_NNP_FAILED => panic!("the probe child could not set no-new-privs"),
        CHILD_LOAD_FAILED => panic!("the probe child could not load a seccomp program"),
        CHILD_WRITE_FAILED => panic!("the probe child could not report"),
        other => panic!("the probe child exited with {other}"),
    }
    assert_eq!(bytes.len(), probes.len() * 4, "short report from the probe child");
    bytes
        .chunks_exact(4)
        .map(|c| match i32::from_ne_bytes([c[0], c[1], c[2], c[3]]) {
            0 => Outcome::Ok,
            e => Outcome::Errno(e),
        })
        .collect()
}

/// The forked child: never returns.
fn child(
    fprogs: &[libc::sock_fprog],
    calls: &[(libc::c_long, [libc::c_long; 6])],
    results: &mut [i32],
    report: libc::c_int,
) -> ! {
    // SAFETY: PR_SET_NO_NEW_PRIVS takes plain integers.
    if unsafe {
        libc::prctl(
            libc::PR_SET_NO_NEW_PRIVS,
            1 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    } != 0
    {
        exit_child(CHILD_NNP_FAILED);
    }
    for fprog in fprogs {
        let fprog: *const libc::sock_fprog = fprog;
        // SAFETY: fprog points to a sock_fprog whose filter array lives in
        // memory copied from the parent.
        let rc = unsafe { libc::syscall(libc::SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0 as libc::c_long, fprog) };
        if rc != 0 {
            // SAFETY: as above, through the older prctl interface.
            let rc = unsafe { libc::prctl(libc::PR_SET_SECCOMP, SECCOMP_MODE_FILTER, fprog) };
            if rc != 0 {
                exit_child(CHILD_LOAD_FAILED);
            }
        }
    }
    for ((nr, a), slot) in calls.iter().zip(results.iter_mut()) {
        // SAFETY: the probes are harmless calls chosen by the tests; pointer
        // arguments point into the scratch buffer.
        let rc = unsafe { libc::syscall(*nr, a[0], a[1], a[2], a[3], a[4], a[5]) };
        *slot = if rc == -1 {
            std::io::Error::last_os_error().raw_os_error().unwrap_or(-1)
        } else {
            0
        };
    }
    let len = std::mem::size_of_val(results);
    // SAFETY: results is an initialised buffer of len bytes.
    let written = unsafe { libc::write(report, results.as_ptr().cast(), len) };
    exit_child(if usize::try_from(written).ok() == Some(len) {
        0
    } else {
        CHILD_WRITE_FAILED
    })
}

fn exit_child(code: i32) -> ! {
    // SAFETY: _exit ends the child without running the parent's atexit
    // handlers or touching shared state.
    unsafe { libc::_exit(code) }
}

/// Pairs labels with outcomes for readable assertion messages.
pub fn labelled(probes: &[Probe], outcomes: &[Outcome]) -> Vec<(&'static str, Outcome)> {
    probes.iter().map(|p| p.label).zip(outcomes.iter().copied()).collect()
}

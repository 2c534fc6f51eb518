//! Running a helper tool (snap-update-ns, snap-discard-ns) as a child: by
//! descriptor, with exactly its environment, under its AppArmor label.

use crate::error::{Context, Error, Result};
use crate::sys::{Proc, ToolExit, ToolRun};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::unistd;
use std::os::fd::AsFd;
use super::{files, process, procfs};

pub(super) fn run_tool(proc: &Proc, run: &ToolRun<'_>) -> Result<ToolExit> {
    let ToolRun { exe, name, argv, envp, label, real_ids } = *run;
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
                let ids = process::ids()?;
                process::setresgid(g, ids.egid, ids.sgid)?;
                process::setresuid(u, ids.euid, ids.suid)
            });
            let (stage, errno) = match real.err().map(|e| e.errno_value().unwrap_or(Errno::EPERM)) {
                Some(errno) => (2u8, errno),
                None => match label.map(|l| procfs::write_lsm_attr(proc, "exec", &format!("exec {l}"))) {
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
            let report = files::read_bounded(report_rd.as_fd(), 64).unwrap_or_default();
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::sys::Sys;
    use std::ffi::CString;
    use nix::sys::stat::Mode;
    use crate::sys::linux::LinuxSys;

    fn run(script: &str, envp: &[&str]) -> Result<ToolExit> {
        let sys = LinuxSys::new();
        let proc = sys.open_proc().unwrap();
        let exe = nix::fcntl::open("/bin/sh", OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty()).unwrap();
        let argv = ["sh", "-c", script].map(|a| CString::new(a).unwrap());
        let envp: Vec<CString> = envp.iter().map(|e| CString::new(*e).unwrap()).collect();
        sys.run_tool(&proc, &ToolRun { exe: exe.as_fd(), name: "sh", argv: &argv, envp: &envp, label: None, real_ids: None })
    }

    #[test]
    fn tools_run_by_descriptor_with_exactly_their_environment() {
        assert_eq!(run("exit 3", &[]).unwrap(), ToolExit::Code(3));
        assert_eq!(run(r#"test "$A" = b && test -z "$HOME" && test "$(env | wc -l)" -le 3"#, &["A=b"]).unwrap(), ToolExit::Code(0));
        assert_eq!(run("kill -9 $$", &[]).unwrap(), ToolExit::Signal(9));
    }

    #[test]
    fn a_failed_exec_is_an_error() {
        let sys = LinuxSys::new();
        let proc = sys.open_proc().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-executable");
        std::fs::write(&file, b"#!/bin/sh\n").unwrap();
        let exe = nix::fcntl::open(&file, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty()).unwrap();
        let argv = [CString::new("x").unwrap()];
        let run = ToolRun { exe: exe.as_fd(), name: "x", argv: &argv, envp: &[], label: None, real_ids: None };
        let e = sys.run_tool(&proc, &run).unwrap_err();
        assert_eq!(e.to_string(), "cannot execute x: Permission denied");
    }
}
